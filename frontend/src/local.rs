//! The in-browser reference servers: the same shared engines the relay
//! runs, driven by the page itself when no relay answers (a static copy of
//! the page, a laptop with the relay stopped). Their catalog entries say
//! "in-browser" where the relay's say an address.

use wirelab_shared::engine::ErasedEngine;
use wirelab_shared::relay_protocol::{TargetInfo, Transport};
use wirelab_shared::upper::{UpperTcpServer, UpperUdpServer};

/// The host shown for in-browser servers.
pub const LOCAL_HOST: &str = "in-browser";

/// The targets the page can serve itself.
pub fn targets() -> Vec<TargetInfo> {
    vec![
        TargetInfo {
            name: "upper-tcp".into(),
            transport: Transport::Tcp,
            host: LOCAL_HOST.into(),
            port: 12000,
            protocol: "line".into(),
            description: "Uppercase server (TCP), running in this page".into(),
            data_ports: None,
        },
        TargetInfo {
            name: "upper-udp".into(),
            transport: Transport::Udp,
            host: LOCAL_HOST.into(),
            port: 12000,
            protocol: "line".into(),
            description: "Uppercase server (UDP), running in this page".into(),
            data_ports: None,
        },
    ]
}

/// A fresh engine for the in-browser target `name`: one per connection for
/// TCP, one per datagram for UDP (as the relay's drivers do).
pub fn engine(name: &str) -> Option<Box<dyn ErasedEngine>> {
    match name {
        "upper-tcp" => Some(Box::new(UpperTcpServer::new())),
        "upper-udp" => Some(Box::new(UpperUdpServer::new())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_local_target_has_an_engine() {
        for t in targets() {
            assert!(engine(&t.name).is_some(), "{}", t.name);
        }
        assert!(engine("smtp-on-mars").is_none());
    }
}
