//! The operator's policy as written in the config file: named targets
//! (added to the catalog) and rules that allow custom targets by host
//! pattern, CIDR, port range and transport. Every value is parsed when the
//! config is read, so a typo stops the relay with a message instead of
//! silently allowing or refusing something.
//!
//! A rule allows a custom target when every criterion it gives matches:
//! its transports, its ports, one of its host patterns (for what the
//! student typed) and one of its CIDRs (for every address that resolves).
//! A special address (loopback, private, ... see [`super::address`]) needs
//! more: a CIDR of the rule that contains it and lies inside its special
//! block, so `0.0.0.0/0` never opens `10.0.0.0/8` by accident but
//! `10.1.0.0/16` does. Port 25 needs a rule that lists 25 by itself.

use ipnet::IpNet;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use wirelab_shared::relay_protocol::Transport;

/// An IPv4 or IPv6 network as the config writes it, `10.0.0.0/8` or
/// `2001:db8::/32`; a bare address is a /32 or /128. `ipnet` does the
/// parsing and the arithmetic; this type adds the bare address and the
/// config's error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cidr(IpNet);

impl Cidr {
    /// Whether `ip` lies in this network (same family only).
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.contains(&ip)
    }

    /// Whether all of this network lies inside `outer`.
    pub fn within(&self, outer: &Cidr) -> bool {
        outer.0.contains(&self.0)
    }
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        if let Ok(net) = text.parse::<IpNet>() {
            return Ok(Cidr(net));
        }
        if let Ok(addr) = text.parse::<IpAddr>() {
            return Ok(Cidr(IpNet::from(addr)));
        }
        // ipnet does not say which half is wrong; the operator should know.
        match text.split_once('/').map(|(addr, _)| addr.parse::<IpAddr>()) {
            Some(Ok(addr)) => {
                let max = IpNet::from(addr).max_prefix_len();
                Err(format!("{s:?}: the prefix length must be 0 to {max}"))
            }
            _ => Err(format!(
                "{s:?} is not a CIDR such as 10.0.0.0/8 or 2001:db8::/32"
            )),
        }
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Ports as written in a rule: `80` or `"8000-8100"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PortSpec {
    pub first: u16,
    pub last: u16,
}

impl PortSpec {
    pub fn contains(&self, port: u16) -> bool {
        self.first <= port && port <= self.last
    }

    /// Whether this spec is exactly the one port `port`.
    pub fn is_exactly(&self, port: u16) -> bool {
        self.first == port && self.last == port
    }
}

impl FromStr for PortSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("{s:?} is not a port or a port range such as \"8000-8100\"");
        let (first, last) = match s.split_once('-') {
            Some((a, b)) => (a.trim(), b.trim()),
            None => (s.trim(), s.trim()),
        };
        let first: u16 = first.parse().map_err(|_| bad())?;
        let last: u16 = last.parse().map_err(|_| bad())?;
        if first == 0 || first > last {
            return Err(bad());
        }
        Ok(PortSpec { first, last })
    }
}

impl fmt::Display for PortSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.last {
            write!(f, "{}", self.first)
        } else {
            write!(f, "{}-{}", self.first, self.last)
        }
    }
}

impl Serialize for PortSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.first == self.last {
            s.serialize_u16(self.first)
        } else {
            s.collect_str(self)
        }
    }
}

impl<'de> Deserialize<'de> for PortSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(i64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Number(n) => u16::try_from(n)
                .ok()
                .filter(|n| *n != 0)
                .map(|p| PortSpec { first: p, last: p })
                .ok_or_else(|| serde::de::Error::custom(format!("{n} is not a port (1-65535)"))),
            Raw::Text(t) => t.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// A host pattern: `example.com` (that name), `*.example.com` (any name
/// under it, not the name itself) or `*` (any host, addresses included).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostPattern(String);

impl HostPattern {
    /// Whether the pattern matches a host name (lower case, no final dot).
    pub fn matches_name(&self, name: &str) -> bool {
        let p = self.0.as_str();
        if p == "*" {
            return true;
        }
        match p.strip_prefix("*.") {
            Some(suffix) => name.len() > suffix.len() + 1 && name.ends_with(&format!(".{suffix}")),
            None => name == p,
        }
    }

    /// Whether the pattern matches an address typed as a literal: only `*`.
    pub fn matches_literal(&self) -> bool {
        self.0 == "*"
    }
}

impl FromStr for HostPattern {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let p = s.trim().trim_end_matches('.').to_ascii_lowercase();
        let rest = p.strip_prefix("*.").unwrap_or(&p);
        let ok = p == "*"
            || (!rest.is_empty()
                && rest.split('.').all(|l| {
                    !l.is_empty()
                        && l.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                }));
        if !ok {
            return Err(format!(
                "{s:?} is not a host pattern (example.com, *.example.com or *)"
            ));
        }
        Ok(HostPattern(p))
    }
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! serde_via_str {
    ($t:ty) => {
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                String::deserialize(d)?
                    .parse()
                    .map_err(serde::de::Error::custom)
            }
        }
    };
}
serde_via_str!(Cidr);
serde_via_str!(HostPattern);

/// One `[[policy.rules]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Why the rule exists; shown in logs.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Host patterns the typed host must match (any, if empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<HostPattern>,
    /// Networks every resolved address must lie in (any, if empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cidrs: Vec<Cidr>,
    /// Ports; a rule must list at least one.
    pub ports: Vec<PortSpec>,
    /// `tcp`, `udp` or both (both, if empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transports: Vec<Transport>,
}

impl Rule {
    /// Checks what serde cannot: a rule must say which ports and which
    /// hosts or networks it opens.
    pub fn validate(&self, index: usize) -> Result<(), String> {
        if self.ports.is_empty() {
            return Err(format!("policy.rules[{index}] lists no ports"));
        }
        if self.hosts.is_empty() && self.cidrs.is_empty() {
            return Err(format!(
                "policy.rules[{index}] names neither hosts nor cidrs (use hosts = [\"*\"] to allow any host)"
            ));
        }
        Ok(())
    }

    /// Whether the transport and port match.
    pub fn matches_service(&self, transport: Transport, port: u16) -> bool {
        (self.transports.is_empty() || self.transports.contains(&transport))
            && self.ports.iter().any(|p| p.contains(port))
    }

    /// Whether the host criterion matches what the student typed.
    pub fn matches_host(&self, host: &super::address::Host) -> bool {
        use super::address::Host;
        self.hosts.is_empty()
            || self.hosts.iter().any(|p| match host {
                Host::Name(name) => p.matches_name(name),
                Host::Ip { .. } => p.matches_literal(),
            })
    }

    /// Whether the address criterion matches one resolved address.
    pub fn matches_addr(&self, ip: IpAddr) -> bool {
        self.cidrs.is_empty() || self.cidrs.iter().any(|c| c.contains(ip))
    }

    /// Whether one of this rule's CIDRs contains `ip` and lies inside
    /// `block`: the rule names that part of a special block on purpose.
    pub fn names_special(&self, ip: IpAddr, block: &super::rules::Cidr) -> bool {
        self.cidrs.iter().any(|c| c.contains(ip) && c.within(block))
    }

    /// Whether the rule lists `port` by itself (how port 25 is opened).
    pub fn names_port(&self, port: u16) -> bool {
        self.ports.iter().any(|p| p.is_exactly(port))
    }
}

/// One `[[policy.targets]]` entry: a target the operator names, listed in
/// the catalog next to the built-in servers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedTarget {
    pub name: String,
    #[serde(default = "default_transport")]
    pub transport: Transport,
    /// A host name (resolved at each connection) or an address.
    pub host: String,
    pub port: u16,
    /// Which workbench speaks to it: "http", "smtp", "dns", "line", ...
    #[serde(default = "default_protocol")]
    pub protocol: String,
    #[serde(default)]
    pub description: String,
}

fn default_transport() -> Transport {
    Transport::Tcp
}

fn default_protocol() -> String {
    "line".into()
}

impl NamedTarget {
    pub fn validate(&self, index: usize) -> Result<(), String> {
        let where_ = format!("policy.targets[{index}] ({:?})", self.name);
        if self.name.is_empty()
            || !self
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        {
            return Err(format!(
                "{where_}: a target name uses letters, digits, '-', '_' and '.'"
            ));
        }
        if self.port == 0 {
            return Err(format!("{where_}: port 0 is not a port"));
        }
        super::address::parse_host(&self.host).map_err(|e| format!("{where_}: {}", e.0))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs_contain_and_nest() {
        let ten: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(ten.contains("10.255.0.1".parse().unwrap()));
        assert!(!ten.contains("11.0.0.1".parse().unwrap()));
        assert!(!ten.contains("::ffff:10.0.0.1".parse().unwrap()));
        let sub: Cidr = "10.1.0.0/16".parse().unwrap();
        assert!(sub.within(&ten));
        assert!(!ten.within(&sub));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("1.2.3.4".parse().unwrap()));
        assert!(!all.within(&ten));
        let host: Cidr = "127.0.0.1".parse().unwrap();
        assert_eq!(host.to_string(), "127.0.0.1/32");
        let v6: Cidr = "fc00::/7".parse().unwrap();
        assert!(v6.contains("fd12::1".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("ten/8".parse::<Cidr>().is_err());
    }

    #[test]
    fn cidrs_keep_the_configs_syntax_and_messages() {
        let bare: Cidr = " 2001:db8::1 ".parse().unwrap();
        assert_eq!(bare.to_string(), "2001:db8::1/128");
        assert!(bare.contains("2001:db8::1".parse().unwrap()));
        assert!(!bare.contains("2001:db8::2".parse().unwrap()));
        // Host bits are kept as written and ignored for matching.
        let loose: Cidr = "10.1.2.3/8".parse().unwrap();
        assert_eq!(loose.to_string(), "10.1.2.3/8");
        assert!(loose.contains("10.200.0.1".parse().unwrap()));
        let ten: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(loose.within(&ten) && ten.within(&loose));
        // Families never nest.
        let all_v6: Cidr = "::/0".parse().unwrap();
        assert!(!ten.within(&all_v6));
        assert!(!all_v6.contains("10.0.0.1".parse().unwrap()));
        for (text, why) in [
            (
                "10.0.0.0/33",
                "\"10.0.0.0/33\": the prefix length must be 0 to 32",
            ),
            ("::/129", "\"::/129\": the prefix length must be 0 to 128"),
            ("10.0.0.0/x", "the prefix length must be 0 to 32"),
            ("ten/8", "\"ten/8\" is not a CIDR such as 10.0.0.0/8"),
            ("10.0.0/8", "is not a CIDR"),
            ("", "is not a CIDR"),
        ] {
            let err = text.parse::<Cidr>().unwrap_err();
            assert!(err.contains(why), "{text}: {err}");
        }
    }

    #[test]
    fn ports_and_patterns() {
        let range: PortSpec = "8000-8100".parse().unwrap();
        assert!(range.contains(8050) && !range.contains(80));
        assert!("0".parse::<PortSpec>().is_err());
        assert!("90-80".parse::<PortSpec>().is_err());
        let star: HostPattern = "*.Example.com".parse().unwrap();
        assert!(star.matches_name("www.example.com"));
        assert!(star.matches_name("a.b.example.com"));
        assert!(!star.matches_name("example.com"));
        assert!(!star.matches_name("badexample.com"));
        assert!(!star.matches_literal());
        assert!("*".parse::<HostPattern>().unwrap().matches_literal());
        assert!("exa mple.com".parse::<HostPattern>().is_err());
    }

    #[test]
    fn rules_read_from_toml() {
        #[derive(Deserialize)]
        struct Doc {
            rules: Vec<Rule>,
        }
        let doc: Doc = toml::from_str(
            r#"
            [[rules]]
            hosts = ["*.umass.edu"]
            ports = [80, "8000-8100"]
            transports = ["tcp"]
            "#,
        )
        .unwrap();
        let rule = &doc.rules[0];
        assert!(rule.matches_service(Transport::Tcp, 8080));
        assert!(!rule.matches_service(Transport::Udp, 80));
        assert!(rule.validate(0).is_ok());
        let err = toml::from_str::<Doc>("[[rules]]\nports = [70000]\n")
            .err()
            .unwrap();
        assert!(err.to_string().contains("not a port"), "{err}");
        let err = toml::from_str::<Doc>("[[rules]]\nports = [80]\ncidrs = [\"x\"]\n")
            .err()
            .unwrap();
        assert!(err.to_string().contains("not a CIDR"), "{err}");
    }
}
