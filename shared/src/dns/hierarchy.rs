//! The lab's name hierarchy: which server runs where and serves which
//! zones, and the default zone files (root, the edu, com, org and fr TLDs,
//! and the course's domains), embedded so the relay can write them to its
//! data directory on first start and the page can run them offline
//! ([`LabServer::default_authority`]).
//!
//! Every server has its own loopback address and all share one port, so the
//! NS and glue records in the zones are the real addresses: dig, the
//! resolver and the page follow referrals without any translation. The one
//! address the course gives (dns1.networkutopia.com, 212.212.212.1) cannot
//! be on this machine; the lab uses 127.212.212.1 and says so in a TXT
//! record and in the com zone's comments.

use super::server::Authority;
use super::zone::parse_zone;
use std::net::{IpAddr, Ipv4Addr};

/// What a server does in the hierarchy (the labels of the course's figure).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The local DNS server: recursive for its clients, authoritative for
    /// its own zone.
    Resolver,
    Root,
    Tld,
    Authoritative,
}

/// One server of the hierarchy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LabServer {
    /// The catalog name (`dns-root`); the resolver is `dns`.
    pub catalog: &'static str,
    /// The server's host name, as in the NS records.
    pub host: &'static str,
    pub address: Ipv4Addr,
    pub role: Role,
    /// The zone files it serves (names in [`ZONE_FILES`]).
    pub zones: &'static [&'static str],
    /// The simulated one-way distance: replies wait this long, so the
    /// resolver's trace shows the root far away and the cache's gain.
    pub delay_ms: u64,
    /// A CDN's server: it answers a name with several addresses by the one
    /// nearest to the client ([`Authority::steering_to_nearest`]).
    pub nearest_replica: bool,
    pub description: &'static str,
}

impl LabServer {
    pub fn ip(&self) -> IpAddr {
        IpAddr::V4(self.address)
    }

    /// The server as the lab ships it: its zones parsed from the embedded
    /// defaults. The page's in-browser servers and the tests run it so; the
    /// relay reads the zone files of its data directory instead.
    pub fn default_authority(&self) -> Authority {
        let zones = self
            .zones
            .iter()
            .filter_map(|file| {
                let text = default_zone(file)?;
                Some(parse_zone(text, Some(&origin_of_file(file))).zone)
            })
            .collect();
        self.authority_of(zones)
    }

    /// The server's authority over `zones`, steering to the nearest
    /// replica if it is a CDN's.
    pub fn authority_of(&self, zones: Vec<super::zone::Zone>) -> Authority {
        let authority = Authority::new(self.host, zones);
        if self.nearest_replica {
            authority.steering_to_nearest()
        } else {
            authority
        }
    }
}

const fn ip(a: u8, b: u8, c: u8, d: u8) -> Ipv4Addr {
    Ipv4Addr::new(a, b, c, d)
}

/// The servers, in the order the catalog lists them.
pub const SERVERS: &[LabServer] = &[
    LabServer {
        catalog: "dns",
        host: "dns.poly.edu.",
        address: ip(127, 0, 0, 1),
        role: Role::Resolver,
        zones: &["poly.edu.zone"],
        delay_ms: 0,
        nearest_replica: false,
        description: "Local DNS server dns.poly.edu: recursive resolver (with cache and trace), authoritative for poly.edu",
    },
    LabServer {
        catalog: "dns-root",
        host: "a.root-servers.net.",
        address: ip(127, 0, 0, 10),
        role: Role::Root,
        zones: &["root.zone"],
        delay_ms: 40,
        nearest_replica: false,
        description: "Root DNS server a.root-servers.net: refers to the TLD servers",
    },
    LabServer {
        catalog: "dns-edu",
        host: "a.edu-servers.net.",
        address: ip(127, 0, 0, 11),
        role: Role::Tld,
        zones: &["edu.zone"],
        delay_ms: 25,
        nearest_replica: false,
        description: "TLD server for edu",
    },
    LabServer {
        catalog: "dns-com",
        host: "a.gtld-servers.net.",
        address: ip(127, 0, 0, 12),
        role: Role::Tld,
        zones: &["com.zone"],
        delay_ms: 25,
        nearest_replica: false,
        description: "TLD server for com (holds networkutopia.com's NS and glue)",
    },
    LabServer {
        catalog: "dns-org",
        host: "a0.org.afilias-nst.org.",
        address: ip(127, 0, 0, 13),
        role: Role::Tld,
        zones: &["org.zone"],
        delay_ms: 25,
        nearest_replica: false,
        description: "TLD server for org",
    },
    LabServer {
        catalog: "dns-fr",
        host: "d.nic.fr.",
        address: ip(127, 0, 0, 14),
        role: Role::Tld,
        zones: &["fr.zone"],
        delay_ms: 25,
        nearest_replica: false,
        description: "TLD server for fr",
    },
    LabServer {
        catalog: "dns-umass",
        host: "dns.umass.edu.",
        address: ip(127, 0, 0, 20),
        role: Role::Authoritative,
        zones: &["umass.edu.zone"],
        delay_ms: 10,
        nearest_replica: false,
        description: "Authoritative server dns.umass.edu (umass.edu; refers cs.umass.edu)",
    },
    LabServer {
        catalog: "dns-cs-umass",
        host: "dns.cs.umass.edu.",
        address: ip(127, 0, 0, 21),
        role: Role::Authoritative,
        zones: &["cs.umass.edu.zone", "umass.edu.zone"],
        delay_ms: 10,
        nearest_replica: false,
        description: "Authoritative server dns.cs.umass.edu (cs.umass.edu: gaia.cs.umass.edu)",
    },
    LabServer {
        catalog: "dns-someschool",
        host: "dns.someschool.edu.",
        address: ip(127, 0, 0, 22),
        role: Role::Authoritative,
        zones: &["someschool.edu.zone"],
        delay_ms: 10,
        nearest_replica: false,
        description: "Authoritative server for someschool.edu",
    },
    LabServer {
        catalog: "dns-hamburger",
        host: "dns.hamburger.edu.",
        address: ip(127, 0, 0, 23),
        role: Role::Authoritative,
        zones: &["hamburger.edu.zone"],
        delay_ms: 10,
        nearest_replica: false,
        description: "Authoritative server for hamburger.edu (MX records)",
    },
    LabServer {
        catalog: "dns-crepes",
        host: "dns.crepes.fr.",
        address: ip(127, 0, 0, 30),
        role: Role::Authoritative,
        zones: &["crepes.fr.zone"],
        delay_ms: 10,
        nearest_replica: false,
        description: "Authoritative server for crepes.fr",
    },
    LabServer {
        catalog: "dns-networkutopia",
        host: "dns1.networkutopia.com.",
        address: ip(127, 212, 212, 1),
        role: Role::Authoritative,
        zones: &["networkutopia.com.zone"],
        delay_ms: 10,
        nearest_replica: false,
        description: "Authoritative server dns1.networkutopia.com (the course's 212.212.212.1)",
    },
    LabServer {
        catalog: "dns-ibm",
        host: "dns.ibm.com.",
        address: ip(127, 0, 0, 41),
        role: Role::Authoritative,
        zones: &["ibm.com.zone"],
        delay_ms: 10,
        nearest_replica: false,
        description: "Authoritative server for ibm.com (CNAME, rotating A records)",
    },
    LabServer {
        catalog: "dns-sina",
        host: "dns.sina.com.",
        address: ip(127, 0, 0, 42),
        role: Role::Authoritative,
        zones: &["sina.com.zone"],
        delay_ms: 10,
        nearest_replica: false,
        description: "Authoritative server for sina.com, a CDN's customer (video.sina.com is a CNAME into cdn.com)",
    },
    LabServer {
        catalog: "dns-cdn",
        host: "dns.cdn.com.",
        address: ip(127, 0, 0, 50),
        role: Role::Authoritative,
        zones: &["cdn.com.zone"],
        delay_ms: 10,
        nearest_replica: true,
        description: "The CDN's authoritative server dns.cdn.com: www.cdn.com answered with the replica nearest to the asker",
    },
];

/// The default zone files: file name and text.
pub const ZONE_FILES: &[(&str, &str)] = &[
    ("root.zone", include_str!("zones/root.zone")),
    ("edu.zone", include_str!("zones/edu.zone")),
    ("com.zone", include_str!("zones/com.zone")),
    ("org.zone", include_str!("zones/org.zone")),
    ("fr.zone", include_str!("zones/fr.zone")),
    ("umass.edu.zone", include_str!("zones/umass.edu.zone")),
    ("cs.umass.edu.zone", include_str!("zones/cs.umass.edu.zone")),
    ("poly.edu.zone", include_str!("zones/poly.edu.zone")),
    (
        "someschool.edu.zone",
        include_str!("zones/someschool.edu.zone"),
    ),
    (
        "hamburger.edu.zone",
        include_str!("zones/hamburger.edu.zone"),
    ),
    ("crepes.fr.zone", include_str!("zones/crepes.fr.zone")),
    (
        "networkutopia.com.zone",
        include_str!("zones/networkutopia.com.zone"),
    ),
    ("ibm.com.zone", include_str!("zones/ibm.com.zone")),
    ("sina.com.zone", include_str!("zones/sina.com.zone")),
    ("cdn.com.zone", include_str!("zones/cdn.com.zone")),
];

/// The embedded text of a default zone file.
pub fn default_zone(file: &str) -> Option<&'static str> {
    ZONE_FILES.iter().find(|(f, _)| *f == file).map(|(_, t)| *t)
}

/// The origin a zone file's name implies: `cs.umass.edu.zone` →
/// `cs.umass.edu.`, `root.zone` → `.`.
pub fn origin_of_file(file: &str) -> super::Name {
    let stem = file.strip_suffix(".zone").unwrap_or(file);
    if stem == "root" {
        super::Name::root()
    } else {
        super::Name::parse(stem).unwrap_or_default()
    }
}

/// The server with this catalog name.
pub fn server(catalog: &str) -> Option<&'static LabServer> {
    SERVERS.iter().find(|s| s.catalog == catalog)
}

/// The server at this address (the page maps a referral's glue to a
/// catalog target with it).
pub fn server_at(address: IpAddr) -> Option<&'static LabServer> {
    SERVERS.iter().find(|s| s.ip() == address)
}

/// The root hints of the resolver: the root servers' names and addresses.
pub fn root_hints() -> Vec<(super::Name, IpAddr)> {
    SERVERS
        .iter()
        .filter(|s| s.role == Role::Root)
        .filter_map(|s| Some((super::Name::parse(s.host).ok()?, s.ip())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::RecordType;
    use crate::dns::rdata::RData;
    use crate::dns::zone::parse_zone;

    #[test]
    fn every_default_zone_is_clean_and_every_server_has_its_files() {
        for (file, text) in ZONE_FILES {
            let parsed = parse_zone(text, Some(&origin_of_file(file)));
            assert!(
                parsed.diagnostics.is_empty(),
                "{file}: {:?}",
                parsed.diagnostics
            );
            assert_eq!(parsed.zone.origin, origin_of_file(file), "{file}");
        }
        for s in SERVERS {
            for z in s.zones {
                assert!(default_zone(z).is_some(), "{}: {z}", s.catalog);
            }
        }
        let names: Vec<_> = SERVERS.iter().map(|s| s.catalog).collect();
        let addresses: Vec<_> = SERVERS.iter().map(|s| s.address).collect();
        for (i, s) in SERVERS.iter().enumerate() {
            assert!(!names[..i].contains(&s.catalog));
            assert!(!addresses[..i].contains(&s.address));
            assert!(s.address.is_loopback());
        }
    }

    /// The CDN's server answers www.cdn.com with the replica nearest to
    /// each asker; without an asker's address, and on any other server,
    /// the whole set.
    #[test]
    fn the_cdn_answers_each_region_with_its_replica() {
        use crate::dns::{Message, Name, Question};
        let ask = |name: &str| {
            let question = Question::new(Name::parse(name).unwrap(), RecordType::A);
            Message::query(7, question, false)
        };
        let addresses = |reply: Message| -> Vec<String> {
            reply
                .answers
                .iter()
                .filter(|r| r.rtype == RecordType::A)
                .map(|r| r.data.to_text())
                .collect()
        };
        let cdn = server("dns-cdn").unwrap().default_authority();
        assert!(cdn.steers_to_nearest());
        for (client, replica) in [
            ("127.0.0.1", "127.0.0.80"),
            ("127.0.9.9", "127.0.0.80"),
            ("127.1.0.7", "127.1.0.80"),
            ("127.9.0.1", "127.0.0.80"),
        ] {
            let reply = cdn.answer_message_to(&ask("www.cdn.com"), Some(client.parse().unwrap()));
            assert!(reply.header.aa, "{client}");
            assert_eq!(addresses(reply), vec![replica], "{client}");
        }
        assert_eq!(addresses(cdn.answer_message(&ask("www.cdn.com"))).len(), 2);
        let ibm = server("dns-ibm").unwrap().default_authority();
        assert!(!ibm.steers_to_nearest());
        let reply = ibm.answer_message_to(&ask("www.ibm.com"), Some("127.1.0.7".parse().unwrap()));
        assert_eq!(addresses(reply).len(), 3);
    }

    /// Every NS record of every zone names a lab server, and every address
    /// given for a server (glue or not) is the one it listens on.
    #[test]
    fn glue_and_plan_agree() {
        for (file, text) in ZONE_FILES {
            let zone = parse_zone(text, Some(&origin_of_file(file))).zone;
            for r in zone.records() {
                if let RData::Ns(target) = &r.data {
                    let host = target.to_string();
                    let s = SERVERS
                        .iter()
                        .find(|s| s.host == host)
                        .unwrap_or_else(|| panic!("{file}: NS {host} is no lab server"));
                    let served = s.zones.iter().any(|z| origin_of_file(z) == r.name);
                    assert!(served, "{file}: {host} does not serve {}", r.name);
                }
                if r.rtype == RecordType::A
                    && let Some(s) = SERVERS.iter().find(|s| s.host == r.name.to_string())
                {
                    assert_eq!(r.data, RData::A(s.address), "{file}: {}", r.name);
                }
            }
        }
        assert_eq!(root_hints()[0].1, IpAddr::from([127, 0, 0, 10]));
        assert_eq!(
            server_at(IpAddr::from([127, 0, 0, 21])).unwrap().catalog,
            "dns-cs-umass"
        );
    }
}
