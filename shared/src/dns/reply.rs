//! What a reply means for the one who asked (RFC 1034 §5.3.3, RFC 2308):
//! an answer, an alias to follow, a referral to closer servers, a name that
//! does not exist (NXDOMAIN), a name without data of that type (NODATA),
//! or an error.
//!
//! The resolver engine and the page's "follow the referral" button both
//! read replies through [`classify`], so they agree on what the next step is.

use super::message::{Message, Question, Record};
use super::name::Name;
use super::rdata::RData;
use super::types::{Rcode, RecordType};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// A server named by a referral, with the addresses the reply gave for it
/// (glue), if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextServer {
    /// The name server's name, absolute text form.
    pub name: String,
    pub addresses: Vec<IpAddr>,
}

/// The meaning of a reply to a question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyKind {
    /// The data asked for, after any CNAMEs in `chain`.
    Answer {
        chain: Vec<Record>,
        records: Vec<Record>,
    },
    /// The name is an alias: the reply gives CNAMEs but not the data of the
    /// final name, which must be asked for separately.
    Alias { chain: Vec<Record>, target: Name },
    /// "I don't know this name, but ask these servers": the zone cut and
    /// its name servers from the authority section, glue from additional.
    Referral {
        zone: Name,
        servers: Vec<NextServer>,
    },
    /// The name does not exist; the SOA (if given) says for how long to
    /// remember that.
    NxDomain {
        chain: Vec<Record>,
        soa: Option<Record>,
    },
    /// The name exists but has no data of this type.
    NoData {
        chain: Vec<Record>,
        soa: Option<Record>,
    },
    /// Truncated: ask again over TCP.
    Truncated,
    /// Any other RCODE (SERVFAIL, REFUSED, FORMERR, ...), or a reply that
    /// is none of the above (no answer, no referral, no SOA).
    Error { rcode: Rcode, why: String },
}

impl ReplyKind {
    /// One line for the student.
    pub fn describe(&self) -> String {
        match self {
            ReplyKind::Answer { records, chain } => {
                let mut parts: Vec<String> = chain
                    .iter()
                    .map(|r| format!("{} CNAME {}", r.name, r.data.to_text()))
                    .collect();
                parts.extend(
                    records
                        .iter()
                        .map(|r| format!("{} {} {}", r.name, r.rtype, r.data.to_text())),
                );
                format!("answer: {}", parts.join(", "))
            }
            ReplyKind::Alias { target, .. } => format!("alias: ask again for {target}"),
            ReplyKind::Referral { zone, servers } => {
                let names: Vec<String> = servers
                    .iter()
                    .map(|s| {
                        if s.addresses.is_empty() {
                            format!("{} (no glue)", s.name)
                        } else {
                            let a: Vec<String> =
                                s.addresses.iter().map(|a| a.to_string()).collect();
                            format!("{} ({})", s.name, a.join(", "))
                        }
                    })
                    .collect();
                format!("referral to {zone}: ask {}", names.join(", "))
            }
            ReplyKind::NxDomain { .. } => "NXDOMAIN: no such name".into(),
            ReplyKind::NoData { .. } => "NODATA: the name exists but has no such record".into(),
            ReplyKind::Truncated => "truncated (TC): ask again over TCP".into(),
            ReplyKind::Error { rcode, why } => format!("{rcode}: {why}"),
        }
    }
}

/// Follows the CNAME chain for `question` through the answer section.
fn chase(question: &Question, reply: &Message) -> (Vec<Record>, Name) {
    let mut chain = Vec::new();
    let mut name = question.name.clone();
    if question.qtype == RecordType::CNAME {
        return (chain, name);
    }
    // At most as many steps as records: a CNAME loop cannot spin.
    for _ in 0..reply.answers.len() {
        let next = reply
            .answers
            .iter()
            .find(|r| r.rtype == RecordType::CNAME && r.name == name);
        match next {
            Some(r) => {
                chain.push(r.clone());
                if let RData::Cname(target) = &r.data {
                    name = target.clone();
                }
            }
            None => break,
        }
    }
    (chain, name)
}

/// What `reply` says about `question`.
pub fn classify(question: &Question, reply: &Message) -> ReplyKind {
    if reply.header.tc {
        return ReplyKind::Truncated;
    }
    let rcode = reply.rcode();
    let soa = reply
        .authority
        .iter()
        .find(|r| r.rtype == RecordType::SOA)
        .cloned();
    let (chain, final_name) = chase(question, reply);
    if rcode == Rcode::NXDOMAIN {
        return ReplyKind::NxDomain { chain, soa };
    }
    if rcode != Rcode::NOERROR {
        return ReplyKind::Error {
            rcode,
            why: rcode.meaning().into(),
        };
    }
    let records: Vec<Record> = reply
        .answers
        .iter()
        .filter(|r| {
            r.name == final_name
                && (r.rtype == question.qtype || question.qtype == RecordType::ANY)
                && r.rtype != RecordType::OPT
        })
        .cloned()
        .collect();
    if !records.is_empty() {
        return ReplyKind::Answer { chain, records };
    }
    // A referral: NS records in authority for a zone that encloses the
    // name, and no SOA (RFC 2308 §2.1 type 4 vs a NODATA with NS).
    let ns: Vec<&Record> = reply
        .authority
        .iter()
        .filter(|r| r.rtype == RecordType::NS && final_name.is_subdomain_of(&r.name))
        .collect();
    if soa.is_none()
        && !reply.header.aa
        && let Some(first) = ns.first()
    {
        let zone = first.name.clone();
        let servers = ns
            .iter()
            .filter(|r| r.name == zone)
            .filter_map(|r| match &r.data {
                RData::Ns(target) => Some(target),
                _ => None,
            })
            .map(|target| NextServer {
                name: target.to_string(),
                addresses: glue_for(target, reply),
            })
            .collect();
        return ReplyKind::Referral { zone, servers };
    }
    if !chain.is_empty() {
        if soa.is_some() && reply.header.aa {
            return ReplyKind::NoData { chain, soa };
        }
        return ReplyKind::Alias {
            chain,
            target: final_name,
        };
    }
    if soa.is_some() || reply.header.aa {
        return ReplyKind::NoData { chain, soa };
    }
    ReplyKind::Error {
        rcode,
        why: "the reply has no answer, no referral and no SOA (a lame server?)".into(),
    }
}

/// The A and AAAA records for `name` in the additional section.
pub fn glue_for(name: &Name, reply: &Message) -> Vec<IpAddr> {
    reply
        .additional
        .iter()
        .filter(|r| &r.name == name)
        .filter_map(|r| match r.data {
            RData::A(a) => Some(IpAddr::V4(a)),
            RData::Aaaa(a) => Some(IpAddr::V6(a)),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::message::Record;
    use std::net::Ipv4Addr;

    fn n(s: &str) -> Name {
        Name::parse(s).unwrap()
    }

    fn question() -> Question {
        Question::new(n("gaia.cs.umass.edu"), RecordType::A)
    }

    #[test]
    fn referral_with_glue() {
        let q = Message::query(1, question(), false);
        let mut r = Message::response_to(&q);
        r.authority
            .push(Record::new(n("edu"), 172800, RData::Ns(n("dns.edu"))));
        r.additional.push(Record::new(
            n("dns.edu"),
            172800,
            RData::A(Ipv4Addr::new(127, 0, 0, 11)),
        ));
        match classify(&question(), &r) {
            ReplyKind::Referral { zone, servers } => {
                assert_eq!(zone, n("edu"));
                assert_eq!(servers.len(), 1);
                assert_eq!(servers[0].name, "dns.edu.");
                assert_eq!(servers[0].addresses, vec![IpAddr::from([127, 0, 0, 11])]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn cname_answers_and_aliases() {
        let q = Question::new(n("www.ibm.com"), RecordType::A);
        let mut r = Message::response_to(&Message::query(1, q.clone(), true));
        r.answers.push(Record::new(
            n("www.ibm.com"),
            300,
            RData::Cname(n("servereast.backup2.ibm.com")),
        ));
        assert_eq!(
            classify(&q, &r),
            ReplyKind::Alias {
                chain: r.answers.clone(),
                target: n("servereast.backup2.ibm.com")
            }
        );
        r.answers.push(Record::new(
            n("servereast.backup2.ibm.com"),
            300,
            RData::A(Ipv4Addr::new(129, 42, 38, 10)),
        ));
        match classify(&q, &r) {
            ReplyKind::Answer { chain, records } => {
                assert_eq!(chain.len(), 1);
                assert_eq!(records.len(), 1);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn negative_answers() {
        let mut r = Message::response_to(&Message::query(1, question(), false));
        r.header.aa = true;
        r.authority.push(Record::new(
            n("cs.umass.edu"),
            300,
            RData::Soa {
                mname: n("dns.cs.umass.edu"),
                rname: n("hostmaster.cs.umass.edu"),
                serial: 1,
                refresh: 2,
                retry: 3,
                expire: 4,
                minimum: 300,
            },
        ));
        assert!(matches!(
            classify(&question(), &r),
            ReplyKind::NoData { soa: Some(_), .. }
        ));
        r.header.rcode = 3;
        assert!(matches!(
            classify(&question(), &r),
            ReplyKind::NxDomain { soa: Some(_), .. }
        ));
        r.header.rcode = 5;
        assert!(matches!(
            classify(&question(), &r),
            ReplyKind::Error {
                rcode: Rcode::REFUSED,
                ..
            }
        ));
        r.header.tc = true;
        assert_eq!(classify(&question(), &r), ReplyKind::Truncated);
    }
}
