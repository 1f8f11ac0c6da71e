//! What a host typed by a student really is, and which addresses are
//! special: the ranges a relay must not reach on a student's behalf unless
//! its operator names them (loopback, private networks, link-local and
//! cloud metadata, multicast, reserved, ...).
//!
//! [`parse_host`] turns the `host=` of a custom target into either an IP
//! address or a normalised host name. It reads every literal form a C
//! resolver would accept (`2130706433`, `0x7f000001`, `0177.0.0.1`, `127.1`,
//! `[::1]`), so none of them can pass for a name and slip past the checks.
//! [`classify`] says whether an address is special, and in which block; the
//! IPv6 forms that embed an IPv4 address (IPv4-mapped, 6to4, NAT64) are
//! judged by the address they carry. The caller checks every address a name
//! resolves to, and connects to exactly the address it checked.

use super::rules::Cidr;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A custom target's host, as the relay understands it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// An address literal. `spelled` keeps what the student typed when it
    /// was an unusual form (`2130706433`), so refusals can explain it.
    Ip { ip: IpAddr, spelled: Option<String> },
    /// A host name in lower case, without a trailing dot.
    Name(String),
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Ip {
                spelled: Some(s), ..
            } => f.write_str(s),
            Host::Ip { ip, .. } => write!(f, "{ip}"),
            Host::Name(name) => f.write_str(name),
        }
    }
}

/// Why a host string is not usable at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadHost(pub String);

/// Reads a host as typed in `?host=`.
pub fn parse_host(text: &str) -> Result<Host, BadHost> {
    let text = text.trim();
    if text.is_empty() {
        return Err(BadHost("the host is empty".into()));
    }
    if let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        return parse_ipv6(inner, text);
    }
    if text.contains(':') {
        return parse_ipv6(text, text);
    }
    let name = text.strip_suffix('.').unwrap_or(text).to_ascii_lowercase();
    if name.is_empty() {
        return Err(BadHost("the host is empty".into()));
    }
    if let Some(ip) = parse_ipv4_loose(&name)? {
        let canonical = ip.to_string() == name;
        return Ok(Host::Ip {
            ip: IpAddr::V4(ip),
            spelled: (!canonical).then(|| text.to_string()),
        });
    }
    check_name(&name)?;
    Ok(Host::Name(name))
}

fn parse_ipv6(inner: &str, typed: &str) -> Result<Host, BadHost> {
    // A zone (`fe80::1%eth0`) names an interface of the relay's machine:
    // the address is judged without it, and never used with it.
    let (addr, zone) = match inner.split_once('%') {
        Some((addr, zone)) => (addr, Some(zone)),
        None => (inner, None),
    };
    let ip: Ipv6Addr = addr
        .parse()
        .map_err(|_| BadHost(format!("{typed:?} is not a valid IPv6 address")))?;
    let canonical = zone.is_none() && ip.to_string() == addr.to_ascii_lowercase();
    Ok(Host::Ip {
        ip: IpAddr::V6(ip),
        spelled: (!canonical).then(|| typed.to_string()),
    })
}

/// The IPv4 forms of `inet_aton`: one to four parts separated by dots, each
/// decimal, octal (leading `0`) or hexadecimal (`0x`), the last part filling
/// the remaining bytes. `None` when the text is not numeric at all (a name);
/// an error when it is numeric but not a valid address (`1.2.3.4.5`, `09`).
fn parse_ipv4_loose(text: &str) -> Result<Option<Ipv4Addr>, BadHost> {
    let parts: Vec<&str> = text.split('.').collect();
    let numeric = |p: &str| {
        !p.is_empty()
            && (p.bytes().all(|b| b.is_ascii_digit())
                || ((p.starts_with("0x") || p.starts_with("0X"))
                    && p[2..].bytes().all(|b| b.is_ascii_hexdigit())))
    };
    // A name may have numeric labels (`3com.com`, `1.example`), but a name
    // whose last label is numeric is read as an address by resolvers.
    let last = parts.last().copied().unwrap_or_default();
    if !numeric(last) {
        return Ok(None);
    }
    let bad = || {
        BadHost(format!(
            "{text:?} is neither a valid IPv4 address nor a host name"
        ))
    };
    if parts.len() > 4 || !parts.iter().all(|p| numeric(p)) {
        return Err(bad());
    }
    let mut values = Vec::with_capacity(parts.len());
    for part in &parts {
        let value = if let Some(hex) = part.strip_prefix("0x").or(part.strip_prefix("0X")) {
            if hex.is_empty() {
                0
            } else {
                u64::from_str_radix(hex, 16).map_err(|_| bad())?
            }
        } else if part.len() > 1 && part.starts_with('0') {
            u64::from_str_radix(&part[1..], 8).map_err(|_| bad())?
        } else {
            part.parse::<u64>().map_err(|_| bad())?
        };
        values.push(value);
    }
    let (head, tail) = values.split_at(values.len() - 1);
    if head.iter().any(|&v| v > 255) {
        return Err(bad());
    }
    let tail_bits = 8 * (4 - head.len() as u32);
    if tail[0] >= 1u64 << tail_bits {
        return Err(bad());
    }
    let mut value: u32 = 0;
    for (i, &v) in head.iter().enumerate() {
        value |= (v as u32) << (24 - 8 * i as u32);
    }
    value |= tail[0] as u32;
    Ok(Some(Ipv4Addr::from(value)))
}

fn check_name(name: &str) -> Result<(), BadHost> {
    if name.len() > 253 {
        return Err(BadHost("a host name has at most 253 characters".into()));
    }
    for label in name.split('.') {
        let ok = !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return Err(BadHost(format!(
                "{name:?} is not a valid host name (letters, digits and hyphens between dots)"
            )));
        }
    }
    Ok(())
}

/// Names that always mean this machine (RFC 6761), answered without DNS.
pub fn is_localhost_name(name: &str) -> bool {
    name == "localhost" || name.ends_with(".localhost")
}

/// What kind of special address something is, in words a student follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpecialKind {
    Unspecified,
    Loopback,
    Private,
    SharedCgnat,
    LinkLocal,
    Multicast,
    Broadcast,
    Documentation,
    Benchmarking,
    Reserved,
    UniqueLocal,
}

impl SpecialKind {
    /// The metrics label.
    pub fn label(&self) -> &'static str {
        match self {
            SpecialKind::Unspecified => "unspecified",
            SpecialKind::Loopback => "loopback",
            SpecialKind::Private => "private",
            SpecialKind::SharedCgnat => "cgnat",
            SpecialKind::LinkLocal => "link_local",
            SpecialKind::Multicast => "multicast",
            SpecialKind::Broadcast => "broadcast",
            SpecialKind::Documentation => "documentation",
            SpecialKind::Benchmarking => "benchmarking",
            SpecialKind::Reserved => "reserved",
            SpecialKind::UniqueLocal => "unique_local",
        }
    }

    /// A phrase that completes "10.0.0.1 is ...".
    pub fn describe(&self) -> &'static str {
        match self {
            SpecialKind::Unspecified => "the unspecified address (\"any address\"), not a host",
            SpecialKind::Loopback => "a loopback address: the relay's own machine",
            SpecialKind::Private => {
                "a private network address (RFC 1918): a machine on the relay's local network"
            }
            SpecialKind::SharedCgnat => {
                "a carrier-grade NAT address (RFC 6598): inside an internet provider's network"
            }
            SpecialKind::LinkLocal => {
                "a link-local address: only meaningful on the relay's own network segment \
                 (169.254.169.254 is where cloud servers keep their secrets)"
            }
            SpecialKind::Multicast => "a multicast group address, not a single host",
            SpecialKind::Broadcast => "the broadcast address, not a single host",
            SpecialKind::Documentation => "reserved for documentation examples, not a real host",
            SpecialKind::Benchmarking => "reserved for network benchmarks (RFC 2544)",
            SpecialKind::Reserved => "a reserved address that is not routed on the Internet",
            SpecialKind::UniqueLocal => {
                "a unique local IPv6 address (fc00::/7): a private network, like 10.0.0.0/8"
            }
        }
    }
}

/// A special address: the block it is in (what a rule's CIDR must lie
/// within to name it), its kind, and the IPv4 address it carries if it is
/// an IPv6 form of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Special {
    pub block: Cidr,
    pub kind: SpecialKind,
    pub embedded: Option<Ipv4Addr>,
}

impl Special {
    /// "127.0.0.1 is a loopback address: ...", with the embedded address
    /// explained for the IPv6 forms.
    pub fn explain(&self, ip: IpAddr) -> String {
        match self.embedded {
            Some(v4) => format!(
                "{ip} is an IPv6 way of writing {v4}, which is {}",
                self.kind.describe()
            ),
            None => format!("{ip} is {}", self.kind.describe()),
        }
    }
}

const V4_BLOCKS: &[(&str, SpecialKind)] = &[
    ("0.0.0.0/8", SpecialKind::Unspecified),
    ("10.0.0.0/8", SpecialKind::Private),
    ("100.64.0.0/10", SpecialKind::SharedCgnat),
    ("127.0.0.0/8", SpecialKind::Loopback),
    ("169.254.0.0/16", SpecialKind::LinkLocal),
    ("172.16.0.0/12", SpecialKind::Private),
    ("192.0.0.0/24", SpecialKind::Reserved),
    ("192.0.2.0/24", SpecialKind::Documentation),
    ("192.88.99.0/24", SpecialKind::Reserved),
    ("192.168.0.0/16", SpecialKind::Private),
    ("198.18.0.0/15", SpecialKind::Benchmarking),
    ("198.51.100.0/24", SpecialKind::Documentation),
    ("203.0.113.0/24", SpecialKind::Documentation),
    ("224.0.0.0/4", SpecialKind::Multicast),
    ("255.255.255.255/32", SpecialKind::Broadcast),
    ("240.0.0.0/4", SpecialKind::Reserved),
];

const V6_BLOCKS: &[(&str, SpecialKind)] = &[
    ("::/128", SpecialKind::Unspecified),
    ("::1/128", SpecialKind::Loopback),
    // IPv4-compatible addresses (deprecated by RFC 4291).
    ("::/96", SpecialKind::Reserved),
    // NAT64 for local use (RFC 8215): translations into a private network.
    ("64:ff9b:1::/48", SpecialKind::Reserved),
    ("100::/64", SpecialKind::Reserved),
    ("2001:db8::/32", SpecialKind::Documentation),
    // IETF protocol assignments, Teredo (2001::/32) among them.
    ("2001::/23", SpecialKind::Reserved),
    ("3fff::/20", SpecialKind::Documentation),
    ("5f00::/16", SpecialKind::Reserved),
    ("fc00::/7", SpecialKind::UniqueLocal),
    ("fe80::/10", SpecialKind::LinkLocal),
    ("fec0::/10", SpecialKind::LinkLocal),
    ("ff00::/8", SpecialKind::Multicast),
];

fn block(text: &str) -> Cidr {
    text.parse().expect("the special blocks are valid CIDRs")
}

/// The IPv4 address inside an IPv6 form of one: IPv4-mapped
/// (`::ffff:a.b.c.d`), NAT64 well-known prefix (`64:ff9b::a.b.c.d`) or 6to4
/// (`2002:AABB:CCDD::`), with the block of that form.
pub fn embedded_ipv4(ip: Ipv6Addr) -> Option<(Ipv4Addr, Cidr)> {
    let s = ip.segments();
    let v4 = |hi: u16, lo: u16| Ipv4Addr::from(((hi as u32) << 16) | lo as u32);
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some((v4, block("::ffff:0:0/96")));
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some((v4(s[6], s[7]), block("64:ff9b::/96")));
    }
    if s[0] == 0x2002 {
        return Some((v4(s[1], s[2]), block("2002::/16")));
    }
    None
}

/// The address a connection should really use: an IPv4-mapped IPv6
/// address is the IPv4 address (the kernel would connect there anyway).
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Whether `ip` is special, and how. Call it on [`canonical`] addresses;
/// 6to4 and NAT64 forms are special when the address they carry is, with
/// their own block (so only a rule naming that IPv6 range allows them).
pub fn classify(ip: IpAddr) -> Option<Special> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => {
            if let Some((inner, form)) = embedded_ipv4(v6)
                && let Some(special) = classify_v4(inner)
            {
                // A mapped address reaches the IPv4 host itself, so it is
                // named by the IPv4 block; the translated forms by their own.
                let block = if v6.to_ipv4_mapped().is_some() {
                    special.block
                } else {
                    form
                };
                return Some(Special {
                    block,
                    kind: special.kind,
                    embedded: Some(inner),
                });
            }
            for (text, kind) in V6_BLOCKS {
                let b = block(text);
                if b.contains(ip) {
                    return Some(Special {
                        block: b,
                        kind: *kind,
                        embedded: None,
                    });
                }
            }
            // Only 2000::/3 is allocated for global unicast; NAT64's
            // well-known prefix carries public IPv4 addresses too.
            let global = block("2000::/3");
            let nat64 = embedded_ipv4(v6).is_some_and(|(_, form)| form == block("64:ff9b::/96"));
            if !global.contains(ip) && !nat64 {
                return Some(Special {
                    block: block("::/0"),
                    kind: SpecialKind::Reserved,
                    embedded: None,
                });
            }
            None
        }
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<Special> {
    V4_BLOCKS.iter().find_map(|(text, kind)| {
        let b = block(text);
        b.contains(IpAddr::V4(ip)).then_some(Special {
            block: b,
            kind: *kind,
            embedded: None,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        match parse_host(text).unwrap() {
            Host::Ip { ip, .. } => ip,
            Host::Name(n) => panic!("{text} parsed as the name {n}"),
        }
    }

    #[test]
    fn odd_ipv4_literals_are_addresses() {
        for (typed, expected) in [
            ("2130706433", "127.0.0.1"),
            ("0x7f000001", "127.0.0.1"),
            ("0X7F000001", "127.0.0.1"),
            ("0177.0.0.1", "127.0.0.1"),
            ("127.1", "127.0.0.1"),
            ("127.0.1", "127.0.0.1"),
            ("0x7f.1", "127.0.0.1"),
            ("0", "0.0.0.0"),
            ("10.0.0.1.", "10.0.0.1"),
            ("017700000001", "127.0.0.1"),
            ("169.254.43518", "169.254.169.254"),
            ("0xa9.0xfe.0xa9.0xfe", "169.254.169.254"),
        ] {
            assert_eq!(ip(typed).to_string(), expected, "{typed}");
        }
        assert!(matches!(
            parse_host("2130706433"),
            Ok(Host::Ip {
                spelled: Some(_),
                ..
            })
        ));
        assert!(matches!(
            parse_host("8.8.8.8"),
            Ok(Host::Ip { spelled: None, .. })
        ));
    }

    #[test]
    fn ipv6_literals_with_and_without_brackets() {
        assert_eq!(ip("[::1]"), "::1".parse::<IpAddr>().unwrap());
        assert_eq!(ip("::ffff:127.0.0.1").to_string(), "::ffff:127.0.0.1");
        assert_eq!(ip("fe80::1%eth0").to_string(), "fe80::1");
        assert!(parse_host("[::g]").is_err());
    }

    #[test]
    fn names_are_normalised_and_checked() {
        assert_eq!(
            parse_host("Gaia.CS.UMass.edu.").unwrap(),
            Host::Name("gaia.cs.umass.edu".into())
        );
        assert_eq!(
            parse_host("3com.com").unwrap(),
            Host::Name("3com.com".into())
        );
        for bad in [
            "1.2.3.4.5",
            "256.1.1.1",
            "09",
            "a b",
            "evil.com/x",
            "-x.com",
            "x..com",
            "",
            "user@host",
        ] {
            assert!(parse_host(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn special_ranges_and_their_ipv6_forms() {
        for (text, kind) in [
            ("127.0.0.1", SpecialKind::Loopback),
            ("10.1.2.3", SpecialKind::Private),
            ("172.31.255.255", SpecialKind::Private),
            ("192.168.1.1", SpecialKind::Private),
            ("100.64.0.1", SpecialKind::SharedCgnat),
            ("169.254.169.254", SpecialKind::LinkLocal),
            ("224.0.0.1", SpecialKind::Multicast),
            ("255.255.255.255", SpecialKind::Broadcast),
            ("240.0.0.1", SpecialKind::Reserved),
            ("0.0.0.0", SpecialKind::Unspecified),
            ("::", SpecialKind::Unspecified),
            ("::1", SpecialKind::Loopback),
            ("fd00::1", SpecialKind::UniqueLocal),
            ("fe80::1", SpecialKind::LinkLocal),
            ("ff02::1", SpecialKind::Multicast),
            ("::ffff:10.0.0.1", SpecialKind::Private),
            ("64:ff9b::7f00:1", SpecialKind::Loopback),
            ("2002:a9fe:a9fe::", SpecialKind::LinkLocal),
            ("2001:db8::1", SpecialKind::Documentation),
            ("::127.0.0.1", SpecialKind::Reserved),
        ] {
            let special = classify(canonical(text.parse().unwrap()))
                .unwrap_or_else(|| panic!("{text} is special"));
            assert_eq!(special.kind, kind, "{text}");
        }
        for public in [
            "8.8.8.8",
            "128.119.245.12",
            "2606:4700::1111",
            "64:ff9b::808:808",
        ] {
            assert_eq!(classify(public.parse().unwrap()), None, "{public}");
        }
        // A mapped address is the IPv4 host and is named by its IPv4 block.
        let mapped = classify("::ffff:10.0.0.1".parse().unwrap()).unwrap();
        assert_eq!(mapped.block.to_string(), "10.0.0.0/8");
        assert_eq!(
            canonical("::ffff:10.0.0.1".parse().unwrap()).to_string(),
            "10.0.0.1"
        );
        let sixtofour = classify("2002:7f00:1::".parse().unwrap()).unwrap();
        assert_eq!(sixtofour.block.to_string(), "2002::/16");
        assert!(
            sixtofour
                .explain("2002:7f00:1::".parse().unwrap())
                .contains("IPv6 way of writing 127.0.0.1")
        );
    }

    #[test]
    fn localhost_names() {
        assert!(is_localhost_name("localhost"));
        assert!(is_localhost_name("app.localhost"));
        assert!(!is_localhost_name("localhost.example.com"));
    }
}
