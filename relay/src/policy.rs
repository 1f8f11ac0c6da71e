//! Which connection a `/ws` request may open. Deny by default: a request
//! names a catalog target, and everything else is refused with a sentence a
//! student understands.

use crate::catalog::{Catalog, target_addr};
use std::net::SocketAddr;
use wirelab_shared::relay_protocol::{ConnectQuery, ErrorCode, Transport};

/// A connection the policy allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowed {
    pub target: String,
    pub transport: Transport,
    pub addr: SocketAddr,
}

/// A refusal: the error code and the message for the student.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: ErrorCode,
    pub message: String,
}

impl Refusal {
    fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Refusal {
            code,
            message: message.into(),
        }
    }
}

/// Decides what `query` may connect to.
pub fn decide(catalog: &Catalog, query: &ConnectQuery) -> Result<Allowed, Refusal> {
    if query.accept.is_some() {
        return Err(Refusal::new(
            ErrorCode::Forbidden,
            "this relay does not accept incoming connections (active-mode listening is not enabled)",
        ));
    }
    let Some(name) = &query.target else {
        if query.host.is_some() || query.port.is_some() || query.transport.is_some() {
            let host = query.host.as_deref().unwrap_or("?");
            let port = query.port.map_or("?".to_string(), |p| p.to_string());
            return Err(Refusal::new(
                ErrorCode::Forbidden,
                format!(
                    "target {host}:{port} is not allowed by this relay's policy: \
                     only the targets of its catalog can be reached"
                ),
            ));
        }
        return Err(Refusal::new(
            ErrorCode::BadRequest,
            "say which server to connect to with ?target=<name> (GET /api/targets lists them)",
        ));
    };
    let Some(target) = catalog.get(name) else {
        return Err(Refusal::new(
            ErrorCode::UnknownTarget,
            format!("there is no target named {name:?} in this relay's catalog"),
        ));
    };
    if query.host.is_some() || query.port.is_some() {
        return Err(Refusal::new(
            ErrorCode::BadRequest,
            "give either a catalog target or host and port, not both",
        ));
    }
    if let Some(port) = query.data_port {
        // Data connections (FTP passive mode) have their own rules.
        return crate::data_channels::data_port_target(target, port);
    }
    if let Some(transport) = query.transport
        && transport != target.transport
    {
        return Err(Refusal::new(
            ErrorCode::BadRequest,
            format!("{name} is a {} target, not {transport}", target.transport),
        ));
    }
    let addr = target_addr(target).ok_or_else(|| {
        Refusal::new(
            ErrorCode::ConnectFailed,
            format!(
                "the catalog entry {name} has no usable address ({})",
                target.host
            ),
        )
    })?;
    Ok(Allowed {
        target: target.name.clone(),
        transport: target.transport,
        addr,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use wirelab_shared::relay_protocol::TargetInfo;

    fn catalog() -> Catalog {
        Catalog::new(vec![TargetInfo {
            name: "upper-tcp".into(),
            transport: Transport::Tcp,
            host: "127.0.0.1".into(),
            port: 12000,
            protocol: "line".into(),
            description: String::new(),
            data_ports: None,
        }])
    }

    #[test]
    fn catalog_target_is_allowed() {
        let allowed = decide(&catalog(), &ConnectQuery::target("upper-tcp")).unwrap();
        assert_eq!(allowed.addr.to_string(), "127.0.0.1:12000");
        assert_eq!(allowed.transport, Transport::Tcp);
    }

    #[test]
    fn everything_else_is_refused_with_the_right_code() {
        let cases = [
            (ConnectQuery::default(), ErrorCode::BadRequest),
            (ConnectQuery::target("nope"), ErrorCode::UnknownTarget),
            (
                ConnectQuery {
                    transport: Some(Transport::Tcp),
                    host: Some("10.0.0.1".into()),
                    port: Some(22),
                    ..Default::default()
                },
                ErrorCode::Forbidden,
            ),
            (
                ConnectQuery {
                    data_port: Some(30000),
                    ..ConnectQuery::target("upper-tcp")
                },
                ErrorCode::Forbidden,
            ),
            (
                ConnectQuery {
                    transport: Some(Transport::Udp),
                    ..ConnectQuery::target("upper-tcp")
                },
                ErrorCode::BadRequest,
            ),
            (
                ConnectQuery {
                    accept: Some("1".into()),
                    ..Default::default()
                },
                ErrorCode::Forbidden,
            ),
        ];
        for (query, code) in cases {
            let refusal = decide(&catalog(), &query).unwrap_err();
            assert_eq!(refusal.code, code, "{query:?}: {}", refusal.message);
        }
    }

    #[test]
    fn custom_target_message_names_it() {
        let refusal = decide(
            &catalog(),
            &ConnectQuery {
                host: Some("10.0.0.1".into()),
                port: Some(22),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(
            refusal
                .message
                .starts_with("target 10.0.0.1:22 is not allowed")
        );
    }
}
