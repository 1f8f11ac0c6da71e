//! Which connection a `/ws` request may open. Deny by default: a request
//! names a catalog target, or a custom `host:port` that one of the
//! operator's rules allows, and everything else is refused with a sentence
//! a student understands.
//!
//! [`decide`] is the one entry point. Built-in catalog targets (the
//! reference servers, on loopback by design) are allowed as they are.
//! Targets the operator named in the config and custom targets are resolved
//! here, once, with the relay's [`Resolver`]; every address is checked
//! ([`address::classify`], [`rules::Rule`]) and the caller must connect to
//! the addresses in [`Allowed`] and nothing else, never to the name.

pub mod address;
pub mod resolver;
pub mod rules;

use crate::catalog::{Catalog, target_addr};
use address::{Host, canonical, classify, is_localhost_name, parse_host};
use resolver::Resolver;
use rules::Rule;
use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use wirelab_shared::relay_protocol::{ConnectQuery, ErrorCode, TargetInfo, Transport};

/// Where an allowed connection goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    /// A reference server of this relay.
    BuiltIn,
    /// A `[[policy.targets]]` entry of the config.
    Named,
    /// A `host`/`port` the student typed, allowed by a rule.
    Custom,
    /// A connection a server made to a listener of the page's (FTP active
    /// mode): it has no catalog name.
    Accepted,
}

/// A connection the policy allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowed {
    /// The catalog name, or `host:port` for a custom target.
    pub target: String,
    pub transport: Transport,
    /// The first checked address: where a UDP flow goes, and the first
    /// one a TCP connection tries.
    pub addr: SocketAddr,
    /// The other checked addresses, tried in order if `addr` fails (TCP).
    pub fallbacks: Vec<SocketAddr>,
    pub kind: TargetKind,
}

impl Allowed {
    /// The name to report in `connected` (custom targets have none).
    pub fn catalog_name(&self) -> Option<&str> {
        matches!(self.kind, TargetKind::BuiltIn | TargetKind::Named).then_some(self.target.as_str())
    }

    /// Every checked address, in the order to try them.
    pub fn addrs(&self) -> impl Iterator<Item = SocketAddr> + '_ {
        std::iter::once(self.addr).chain(self.fallbacks.iter().copied())
    }

    /// The label metrics use: the catalog name, or `custom`.
    pub fn metrics_label(&self) -> &str {
        match self.kind {
            TargetKind::Custom => "custom",
            _ => &self.target,
        }
    }
}

/// A refusal: the error code, the message for the student, and a short
/// reason for metrics and logs (`loopback`, `not_allowed`, `port_25`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: ErrorCode,
    pub message: String,
    pub reason: &'static str,
}

impl Refusal {
    pub fn new(code: ErrorCode, reason: &'static str, message: impl Into<String>) -> Self {
        Refusal {
            code,
            message: message.into(),
            reason,
        }
    }

    pub fn forbidden(reason: &'static str, message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, reason, message)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadRequest, "bad_request", message)
    }

    pub fn limit(which: &'static str, message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Limit, which, message)
    }

    pub fn auth(reason: &'static str, message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Auth, reason, message)
    }
}

/// The operator's rules and the resolver that custom and named targets go
/// through.
#[derive(Clone)]
pub struct Policy {
    rules: Vec<Rule>,
    resolver: Arc<dyn Resolver>,
    lookup_timeout: Duration,
    /// `local_programs`: the relay's own ports, which stay closed to it.
    local_programs: Option<Arc<BTreeSet<u16>>>,
}

impl Policy {
    pub fn new(rules: Vec<Rule>, resolver: Arc<dyn Resolver>, lookup_timeout: Duration) -> Self {
        Policy {
            rules,
            resolver,
            lookup_timeout,
            local_programs: None,
        }
    }

    /// Opens this machine's loopback ports to custom targets (the
    /// `local_programs` option), all but `own_ports`, the relay's.
    pub fn with_local_programs(mut self, own_ports: BTreeSet<u16>) -> Self {
        self.local_programs = Some(Arc::new(own_ports));
        self
    }

    /// Whether the page may reach programs on this machine's loopback.
    pub fn allows_local_programs(&self) -> bool {
        self.local_programs.is_some()
    }

    /// A loopback `host` under `local_programs`: allowed on any port but
    /// the relay's own. `None` when the option is off or `host` is not this
    /// machine, for the rules to decide.
    fn local_program(
        &self,
        host: &Host,
        port: u16,
        transport: Transport,
    ) -> Option<Result<Allowed, Refusal>> {
        let own_ports = self.local_programs.as_ref()?;
        if port == 25 {
            // A local mail server would relay: port 25 stays with the rules.
            return None;
        }
        let addrs: Vec<SocketAddr> = match host {
            Host::Ip { ip, .. } if canonical(*ip).is_loopback() => {
                vec![SocketAddr::new(canonical(*ip), port)]
            }
            Host::Name(name) if is_localhost_name(name) => vec![
                SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
                SocketAddr::from((Ipv6Addr::LOCALHOST, port)),
            ],
            _ => return None,
        };
        if own_ports.contains(&port) {
            return Some(Err(Refusal::forbidden(
                "relay_port",
                format!(
                    "target {host}:{port} is not allowed: port {port} is one of the relay's own \
                     (its page or a reference server, listed in /api/targets); local_programs \
                     reaches your own programs only. Start yours on another port."
                ),
            )));
        }
        let (addr, fallbacks) = (addrs[0], addrs[1..].to_vec());
        Some(Ok(Allowed {
            target: format!("{host}:{port}"),
            transport,
            addr,
            fallbacks,
            kind: TargetKind::Custom,
        }))
    }

    /// Whether any rule allows custom targets at all.
    pub fn allows_custom(&self) -> bool {
        !self.rules.is_empty()
    }

    /// Resolves `host` once: an address literal is itself, `localhost`
    /// is this machine, anything else asks the resolver.
    async fn addresses(&self, host: &Host, port: u16) -> Result<Vec<IpAddr>, Refusal> {
        let name = match host {
            Host::Ip { ip, .. } => return Ok(vec![*ip]),
            Host::Name(name) if is_localhost_name(name) => {
                return Ok(vec![
                    IpAddr::V4(Ipv4Addr::LOCALHOST),
                    IpAddr::V6(Ipv6Addr::LOCALHOST),
                ]);
            }
            Host::Name(name) => name,
        };
        let looked_up = tokio::time::timeout(self.lookup_timeout, self.resolver.lookup(name)).await;
        match looked_up {
            Err(_) => Err(Refusal::new(
                ErrorCode::Timeout,
                "lookup_timeout",
                format!(
                    "looking up the address of {name} took longer than {:?}",
                    self.lookup_timeout
                ),
            )),
            Ok(Err(e)) => Err(Refusal::new(
                ErrorCode::ConnectFailed,
                "lookup_failed",
                format!("could not find the address of {name} (port {port}): {e}"),
            )),
            Ok(Ok(ips)) if ips.is_empty() => Err(Refusal::new(
                ErrorCode::ConnectFailed,
                "lookup_failed",
                format!("{name} has no address"),
            )),
            Ok(Ok(ips)) => Ok(ips),
        }
    }

    /// Checks one address against the rules that matched the request.
    /// `typed` is how the student wrote the host, for the message.
    fn check_addr(
        &self,
        candidates: &[&Rule],
        ip: IpAddr,
        typed: &Host,
        port: u16,
        need_rule: bool,
    ) -> Result<IpAddr, Refusal> {
        let ip = canonical(ip);
        let special = classify(ip);
        let ok = match &special {
            Some(s) => candidates.iter().any(|r| r.names_special(ip, &s.block)),
            None => !need_rule || candidates.iter().any(|r| r.matches_addr(ip)),
        };
        if ok {
            return Ok(ip);
        }
        let how = match typed {
            Host::Ip {
                spelled: Some(s), ..
            } => format!("{s} is another way of writing {ip}, and "),
            Host::Ip { .. } => String::new(),
            Host::Name(name) => format!("{name} resolves to {ip}, and "),
        };
        Err(match special {
            Some(s) => Refusal::forbidden(
                s.kind.label(),
                format!(
                    "target {typed}:{port} is not allowed: {how}{}. This relay does not connect \
                     there unless its operator's policy names that network.",
                    s.explain(ip)
                ),
            ),
            None => Refusal::forbidden(
                "not_allowed",
                format!(
                    "target {typed}:{port} is not allowed: {how}{ip} is outside the networks \
                     this relay's policy allows."
                ),
            ),
        })
    }

    /// A custom `host`/`port` target.
    async fn custom(&self, query: &ConnectQuery) -> Result<Allowed, Refusal> {
        let transport = query.transport.unwrap_or(Transport::Tcp);
        let (Some(host_text), Some(port)) = (&query.host, query.port) else {
            return Err(Refusal::bad_request(
                "a custom target needs both host=<name or address> and port=<number>",
            ));
        };
        if port == 0 {
            return Err(Refusal::bad_request(
                "port 0 is not a port one can connect to",
            ));
        }
        let host = parse_host(host_text).map_err(|e| Refusal::bad_request(e.0))?;
        if let Some(decided) = self.local_program(&host, port, transport) {
            return decided;
        }
        if self.rules.is_empty() {
            return Err(Refusal::forbidden(
                "no_custom_targets",
                format!(
                    "target {host}:{port} is not allowed by this relay's policy: \
                     only the targets of its catalog can be reached"
                ),
            ));
        }
        // Port 25 counts only in rules that list it by itself, so a broad
        // port range never opens mail relaying by accident.
        let candidates: Vec<&Rule> = self
            .rules
            .iter()
            .filter(|r| r.matches_service(transport, port) && r.matches_host(&host))
            .filter(|r| port != 25 || r.names_port(25))
            .collect();
        if port == 25 && candidates.is_empty() {
            return Err(Refusal::forbidden(
                "port_25",
                format!(
                    "target {host}:25 is not allowed: this relay does not connect to port 25 \
                     (mail relaying) of other servers, so it cannot be used to send spam. \
                     Use the built-in SMTP server of the catalog instead."
                ),
            ));
        }
        if candidates.is_empty() {
            return Err(Refusal::forbidden(
                "not_allowed",
                format!(
                    "target {host}:{port} ({transport}) is not allowed by this relay's policy: \
                     no rule opens that host and port (GET /api/targets lists what you can reach)."
                ),
            ));
        }
        let mut addrs = Vec::new();
        for ip in self.addresses(&host, port).await? {
            let ip = self.check_addr(&candidates, ip, &host, port, true)?;
            let addr = SocketAddr::new(ip, port);
            if !addrs.contains(&addr) {
                addrs.push(addr);
            }
        }
        let addr = addrs.remove(0);
        Ok(Allowed {
            target: format!("{host}:{port}"),
            transport,
            addr,
            fallbacks: addrs,
            kind: TargetKind::Custom,
        })
    }

    /// A target the operator named in the config. An address literal is
    /// taken as written; a name is resolved now, and a special address it
    /// resolves to needs a rule naming that network, as for custom targets.
    async fn named(&self, target: &TargetInfo) -> Result<Allowed, Refusal> {
        let host = parse_host(&target.host).map_err(|e| {
            Refusal::new(
                ErrorCode::ConnectFailed,
                "bad_catalog_entry",
                format!("the catalog entry {} has a bad host: {}", target.name, e.0),
            )
        })?;
        let candidates: Vec<&Rule> = self
            .rules
            .iter()
            .filter(|r| r.matches_service(target.transport, target.port))
            .collect();
        let mut addrs = Vec::new();
        match &host {
            Host::Ip { ip, .. } => addrs.push(SocketAddr::new(canonical(*ip), target.port)),
            Host::Name(_) => {
                for ip in self.addresses(&host, target.port).await? {
                    let ip = self
                        .check_addr(&candidates, ip, &host, target.port, false)
                        .map_err(|mut r| {
                            r.message = format!("{} ({})", r.message, target.name);
                            r
                        })?;
                    let addr = SocketAddr::new(ip, target.port);
                    if !addrs.contains(&addr) {
                        addrs.push(addr);
                    }
                }
            }
        }
        let addr = addrs.remove(0);
        Ok(Allowed {
            target: target.name.clone(),
            transport: target.transport,
            addr,
            fallbacks: addrs,
            kind: TargetKind::Named,
        })
    }
}

/// Decides what `query` may connect to, resolving names where it must.
pub async fn decide(
    policy: &Policy,
    catalog: &Catalog,
    query: &ConnectQuery,
) -> Result<Allowed, Refusal> {
    if query.accept.is_some() {
        return Err(Refusal::forbidden(
            "accept",
            "this relay does not accept incoming connections (active-mode listening is not enabled)",
        ));
    }
    let Some(name) = &query.target else {
        if query.host.is_some() || query.port.is_some() || query.transport.is_some() {
            return policy.custom(query).await;
        }
        return Err(Refusal::bad_request(
            "say which server to connect to with ?target=<name> (GET /api/targets lists them)",
        ));
    };
    let Some(target) = catalog.get(name) else {
        return Err(Refusal::new(
            ErrorCode::UnknownTarget,
            "unknown_target",
            format!("there is no target named {name:?} in this relay's catalog"),
        ));
    };
    if query.host.is_some() || query.port.is_some() {
        return Err(Refusal::bad_request(
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
        return Err(Refusal::bad_request(format!(
            "{name} is a {} target, not {transport}",
            target.transport
        )));
    }
    if catalog.is_named(name) {
        return policy.named(target).await;
    }
    let addr = target_addr(target).ok_or_else(|| {
        Refusal::new(
            ErrorCode::ConnectFailed,
            "bad_catalog_entry",
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
        fallbacks: Vec::new(),
        kind: TargetKind::BuiltIn,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use resolver::StaticResolver;
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

    fn deny_all() -> Policy {
        Policy::new(
            Vec::new(),
            StaticResolver::new().into_arc(),
            Duration::from_secs(1),
        )
    }

    fn custom(host: &str, port: u16) -> ConnectQuery {
        ConnectQuery {
            transport: Some(Transport::Tcp),
            host: Some(host.into()),
            port: Some(port),
            ..Default::default()
        }
    }

    fn rule(toml_text: &str) -> Rule {
        toml::from_str(toml_text).unwrap()
    }

    #[tokio::test]
    async fn catalog_target_is_allowed() {
        let allowed = decide(&deny_all(), &catalog(), &ConnectQuery::target("upper-tcp"))
            .await
            .unwrap();
        assert_eq!(allowed.addr.to_string(), "127.0.0.1:12000");
        assert_eq!(allowed.transport, Transport::Tcp);
        assert_eq!(allowed.kind, TargetKind::BuiltIn);
    }

    #[tokio::test]
    async fn everything_else_is_refused_with_the_right_code() {
        let cases = [
            (ConnectQuery::default(), ErrorCode::BadRequest),
            (ConnectQuery::target("nope"), ErrorCode::UnknownTarget),
            (custom("10.0.0.1", 22), ErrorCode::Forbidden),
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
            let refusal = decide(&deny_all(), &catalog(), &query).await.unwrap_err();
            assert_eq!(refusal.code, code, "{query:?}: {}", refusal.message);
        }
    }

    #[tokio::test]
    async fn custom_target_message_names_it() {
        let refusal = decide(&deny_all(), &catalog(), &custom("10.0.0.1", 22))
            .await
            .unwrap_err();
        assert!(
            refusal
                .message
                .starts_with("target 10.0.0.1:22 is not allowed"),
            "{}",
            refusal.message
        );
    }

    #[tokio::test]
    async fn rules_open_public_hosts_but_not_special_ones() {
        let resolver = StaticResolver::new()
            .with("www.example.edu", &["128.119.245.12"])
            .with("sneaky.example.edu", &["128.119.245.12", "10.0.0.5"])
            .with("other.org", &["93.184.216.34"]);
        let policy = Policy::new(
            vec![rule(
                "hosts = [\"*.example.edu\"]\nports = [80, \"8000-8100\"]\ntransports = [\"tcp\"]",
            )],
            resolver.into_arc(),
            Duration::from_secs(1),
        );
        let ok = decide(&policy, &catalog(), &custom("www.example.edu", 8080))
            .await
            .unwrap();
        assert_eq!(ok.addr.to_string(), "128.119.245.12:8080");
        assert_eq!(ok.kind, TargetKind::Custom);
        assert_eq!(ok.catalog_name(), None);
        for (host, port, reason) in [
            ("sneaky.example.edu", 80, "private"),
            ("other.org", 80, "not_allowed"),
            ("www.example.edu", 22, "not_allowed"),
            ("www.example.edu", 25, "port_25"),
            ("127.0.0.1", 80, "not_allowed"),
        ] {
            let r = decide(&policy, &catalog(), &custom(host, port))
                .await
                .unwrap_err();
            assert_eq!(
                (r.code, r.reason),
                (ErrorCode::Forbidden, reason),
                "{host}:{port}: {}",
                r.message
            );
        }
        let udp = ConnectQuery {
            transport: Some(Transport::Udp),
            ..custom("www.example.edu", 80)
        };
        assert_eq!(
            decide(&policy, &catalog(), &udp).await.unwrap_err().reason,
            "not_allowed"
        );
    }

    #[tokio::test]
    async fn a_cidr_inside_a_special_block_names_it() {
        let policy = Policy::new(
            vec![
                rule("cidrs = [\"127.0.0.1/32\"]\nports = [\"1-65535\"]"),
                rule("hosts = [\"*\"]\ncidrs = [\"0.0.0.0/0\"]\nports = [25, 80]"),
            ],
            StaticResolver::new().into_arc(),
            Duration::from_secs(1),
        );
        let ok = decide(&policy, &catalog(), &custom("127.0.0.1", 4000))
            .await
            .unwrap();
        assert_eq!(ok.addr.to_string(), "127.0.0.1:4000");
        // 0.0.0.0/0 does not open the private ranges.
        let r = decide(&policy, &catalog(), &custom("10.0.0.1", 80))
            .await
            .unwrap_err();
        assert_eq!(r.reason, "private");
        assert!(r.message.contains("private network"), "{}", r.message);
        // The odd spellings are the address they spell.
        let r = decide(&policy, &catalog(), &custom("0x0a000001", 80))
            .await
            .unwrap_err();
        assert!(
            r.message
                .contains("0x0a000001 is another way of writing 10.0.0.1"),
            "{}",
            r.message
        );
        // Port 25 is named by the second rule.
        assert!(
            decide(&policy, &catalog(), &custom("8.8.8.8", 25))
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn lookups_that_fail_or_hang_are_reported() {
        let policy = Policy::new(
            vec![rule("hosts = [\"*\"]\nports = [80]")],
            StaticResolver::new()
                .with("slow.test", &["8.8.8.8"])
                .slow(Duration::from_millis(300))
                .into_arc(),
            Duration::from_millis(50),
        );
        let r = decide(&policy, &catalog(), &custom("slow.test", 80))
            .await
            .unwrap_err();
        assert_eq!(r.code, ErrorCode::Timeout);
        let policy = Policy::new(
            vec![rule("hosts = [\"*\"]\nports = [80]")],
            StaticResolver::new().into_arc(),
            Duration::from_secs(1),
        );
        let r = decide(&policy, &catalog(), &custom("missing.test", 80))
            .await
            .unwrap_err();
        assert_eq!(r.code, ErrorCode::ConnectFailed);
        let r = decide(&policy, &catalog(), &custom("bad host", 80))
            .await
            .unwrap_err();
        assert_eq!(r.code, ErrorCode::BadRequest);
    }
}
