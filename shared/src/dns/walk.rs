//! An iterative resolution done by hand, as the course's figure draws it,
//! with the student in the local DNS server's place: the requesting host
//! asks you (message 1), you ask the root (2), which refers you to the TLD
//! server (3); you ask it (4), it refers you to the authoritative server
//! (5); you ask that one (6), it answers (7), and you hand the answer back
//! to the host (8).
//!
//! The caller (the page) records each query it sent and each reply it got;
//! the walk says what every reply means ([`classify`]), which servers to
//! ask next ([`Walk::next_hops`]: the referral's servers with their glue
//! mapped to the lab's catalog, the root again after an alias, the same
//! server over TCP after TC), builds messages 1 and 8, which the host and
//! its local server would exchange, and numbers the messages as the figure
//! does. It never sends anything and reads no clock: times come in.

use super::hierarchy::{self, Role};
use super::message::{Message, Question, Record};
use super::name::Name;
use super::reply::{ReplyKind, classify};
use super::types::Rcode;
use std::net::IpAddr;

/// The five parties of the course's figure, left to right.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Party {
    /// The requesting host (cis.poly.edu in the figure).
    Host,
    /// The local DNS server (dns.poly.edu): the resolver, or the student
    /// resolving by hand.
    Local,
    Root,
    Tld,
    Authoritative,
}

impl Party {
    pub const ALL: [Party; 5] = [
        Party::Host,
        Party::Local,
        Party::Root,
        Party::Tld,
        Party::Authoritative,
    ];

    /// Position in [`Party::ALL`] (the lane of a diagram).
    pub fn index(self) -> usize {
        match self {
            Party::Host => 0,
            Party::Local => 1,
            Party::Root => 2,
            Party::Tld => 3,
            Party::Authoritative => 4,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Party::Host => "requesting host",
            Party::Local => "local DNS server",
            Party::Root => "root DNS server",
            Party::Tld => "TLD DNS server",
            Party::Authoritative => "authoritative DNS server",
        }
    }

    /// What a server asked as `zone` is: the root, a TLD, or an
    /// authoritative server of a zone further down.
    pub fn of_zone(zone: &Name) -> Party {
        match zone.label_count() {
            0 => Party::Root,
            1 => Party::Tld,
            _ => Party::Authoritative,
        }
    }

    pub fn of_role(role: Role) -> Party {
        match role {
            Role::Resolver => Party::Local,
            Role::Root => Party::Root,
            Role::Tld => Party::Tld,
            Role::Authoritative => Party::Authoritative,
        }
    }

    /// The `role` of a resolver trace event ("root", "TLD",
    /// "authoritative", "local").
    pub fn of_trace_role(role: &str) -> Party {
        match role {
            "root" => Party::Root,
            "TLD" | "tld" => Party::Tld,
            "authoritative" => Party::Authoritative,
            "host" | "client" => Party::Host,
            _ => Party::Local,
        }
    }
}

/// One query of the walk and what came back.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// The catalog name of the server asked (`dns-root`; without `-tcp`).
    pub server: String,
    /// Its host name (`a.root-servers.net.`), or the catalog name.
    pub host: String,
    pub party: Party,
    /// The zone it was asked as, when a referral said so.
    pub zone: Option<Name>,
    /// The query as sent (the DNS message, without a TCP prefix).
    pub query: Vec<u8>,
    pub sent_ms: f64,
    pub reply: Option<Vec<u8>>,
    pub replied_ms: Option<f64>,
    /// What the reply means for the query's question.
    pub outcome: Option<ReplyKind>,
    /// No reply: why (a timeout, a refused connection).
    pub failed: Option<String>,
}

impl Step {
    pub fn question(&self) -> Option<Question> {
        Message::parse(&self.query)
            .ok()?
            .questions
            .into_iter()
            .next()
    }
}

/// A server to ask next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextHop {
    /// The lab's catalog name for it (without `-tcp`), if the lab has it.
    pub server: Option<String>,
    /// The name server's name, as the referral gave it.
    pub name: String,
    pub address: Option<IpAddr>,
    /// The zone it is to be asked as.
    pub zone: Name,
    pub party: Party,
    /// What to ask it (the alias's target after a CNAME).
    pub question: Question,
    /// Ask over TCP (the reply was truncated).
    pub tcp: bool,
    /// One sentence: why this server.
    pub why: String,
}

/// One numbered message of the figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Numbered {
    pub n: usize,
    pub from: Party,
    pub to: Party,
    pub what: WalkMessage,
}

/// Which message a number stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WalkMessage {
    /// Message 1: the host's query ([`Walk::host_query`]).
    HostQuery,
    /// The query of step `i`.
    Query(usize),
    /// The reply of step `i`.
    Reply(usize),
    /// The last message: the answer to the host ([`Walk::host_reply`]).
    HostReply,
}

/// An iterative resolution in progress.
#[derive(Debug, Clone, PartialEq)]
pub struct Walk {
    /// The host's question.
    pub question: Question,
    /// The ID of the host's query (message 1).
    pub host_id: u16,
    pub steps: Vec<Step>,
}

impl Walk {
    pub fn new(question: Question, host_id: u16) -> Walk {
        Walk {
            question,
            host_id,
            steps: Vec::new(),
        }
    }

    /// The CNAMEs met so far, in order.
    pub fn chain(&self) -> Vec<Record> {
        let mut chain: Vec<Record> = Vec::new();
        for step in &self.steps {
            let links = match &step.outcome {
                Some(ReplyKind::Alias { chain, .. })
                | Some(ReplyKind::Answer { chain, .. })
                | Some(ReplyKind::NxDomain { chain, .. })
                | Some(ReplyKind::NoData { chain, .. }) => chain.as_slice(),
                _ => &[],
            };
            for r in links {
                if !chain.contains(r) {
                    chain.push(r.clone());
                }
            }
        }
        chain
    }

    /// The question being resolved now: the host's, or the name its
    /// aliases lead to.
    pub fn current_question(&self) -> Question {
        let mut q = self.question.clone();
        for step in &self.steps {
            if let Some(ReplyKind::Alias { target, .. }) = &step.outcome {
                q.name = target.clone();
            }
        }
        q
    }

    /// Whether a query for `q` is the next step of this walk.
    pub fn continues_with(&self, q: &Question) -> bool {
        !self.is_finished() && (*q == self.current_question() || *q == self.question)
    }

    /// The reply that ends the walk: an answer, NXDOMAIN or NODATA.
    pub fn outcome(&self) -> Option<&ReplyKind> {
        self.steps.iter().rev().find_map(|s| match &s.outcome {
            Some(
                k @ (ReplyKind::Answer { .. }
                | ReplyKind::NxDomain { .. }
                | ReplyKind::NoData { .. }),
            ) => Some(k),
            _ => None,
        })
    }

    pub fn is_finished(&self) -> bool {
        self.outcome().is_some()
    }

    /// Records a query sent to the catalog server `server` (a `-tcp`
    /// suffix is dropped), asked as `zone` when a referral said so.
    pub fn asked(&mut self, server: &str, zone: Option<Name>, query: Vec<u8>, at_ms: f64) {
        let base = server.strip_suffix("-tcp").unwrap_or(server);
        let lab = hierarchy::server(base);
        let party = match (&zone, lab) {
            (Some(z), _) => Party::of_zone(z),
            (None, Some(s)) => Party::of_role(s.role),
            (None, None) => Party::Authoritative,
        };
        self.steps.push(Step {
            server: base.to_string(),
            host: lab.map_or(base.to_string(), |s| s.host.to_string()),
            party,
            zone,
            query,
            sent_ms: at_ms,
            reply: None,
            replied_ms: None,
            outcome: None,
            failed: None,
        });
    }

    /// Records the reply to the last query.
    pub fn answered(&mut self, reply: Vec<u8>, at_ms: f64) {
        let Some(step) = self.steps.last_mut() else {
            return;
        };
        step.outcome = match (step.question(), Message::parse(&reply)) {
            (Some(q), Ok(m)) => Some(classify(&q, &m)),
            (_, Err(e)) => Some(ReplyKind::Error {
                rcode: Rcode::FORMERR,
                why: format!("the reply cannot be read: {e}"),
            }),
            (None, Ok(m)) => Some(ReplyKind::Error {
                rcode: m.rcode(),
                why: "the query had no question to check the reply against".into(),
            }),
        };
        step.reply = Some(reply);
        step.replied_ms = Some(at_ms);
    }

    /// Records that the last query got no reply.
    pub fn failed(&mut self, why: impl Into<String>) {
        if let Some(step) = self.steps.last_mut()
            && step.reply.is_none()
        {
            step.failed = Some(why.into());
        }
    }

    /// The root, as the first server to ask (or the one to start again
    /// from).
    pub fn root_hop(&self, why: impl Into<String>) -> NextHop {
        let root = hierarchy::SERVERS.iter().find(|s| s.role == Role::Root);
        NextHop {
            server: root.map(|s| s.catalog.to_string()),
            name: root.map_or(".".into(), |s| s.host.to_string()),
            address: root.map(|s| s.ip()),
            zone: Name::root(),
            party: Party::Root,
            question: self.current_question(),
            tcp: false,
            why: why.into(),
        }
    }

    /// Where to go from here: empty once finished (or before any reply).
    pub fn next_hops(&self) -> Vec<NextHop> {
        let Some(last) = self.steps.last() else {
            return vec![self.root_hop("every resolution starts at the root")];
        };
        let question = self.current_question();
        if let Some(why) = &last.failed {
            let mut again = self.hop_to_step(last, question.clone(), false);
            again.why = format!("{why}: ask {} again", last.host);
            return vec![again, self.root_hop("or start again from the root")];
        }
        match &last.outcome {
            None => Vec::new(),
            Some(
                ReplyKind::Answer { .. } | ReplyKind::NxDomain { .. } | ReplyKind::NoData { .. },
            ) => Vec::new(),
            Some(ReplyKind::Referral { zone, servers }) => servers
                .iter()
                .map(|s| {
                    let lab = s
                        .addresses
                        .iter()
                        .find_map(|a| hierarchy::server_at(*a))
                        .or_else(|| hierarchy::SERVERS.iter().find(|l| l.host == s.name));
                    let glue = match s.addresses.as_slice() {
                        [] => "no glue: its address must be looked up first".to_string(),
                        list => format!(
                            "glue {}",
                            list.iter()
                                .map(|a| a.to_string())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    };
                    NextHop {
                        server: lab.map(|l| l.catalog.to_string()),
                        name: s.name.clone(),
                        address: s.addresses.first().copied().or_else(|| lab.map(|l| l.ip())),
                        zone: zone.clone(),
                        party: Party::of_zone(zone),
                        question: question.clone(),
                        tcp: false,
                        why: format!("{} serves {zone} ({glue})", s.name),
                    }
                })
                .collect(),
            Some(ReplyKind::Alias { target, .. }) => {
                // Servers already met that serve the target's zone, closest
                // first, then the root.
                let mut hops: Vec<NextHop> = Vec::new();
                let mut met: Vec<&Step> = self
                    .steps
                    .iter()
                    .filter(|s| s.zone.as_ref().is_some_and(|z| target.is_subdomain_of(z)))
                    .collect();
                met.sort_by_key(|s| {
                    std::cmp::Reverse(s.zone.as_ref().map_or(0, Name::label_count))
                });
                for s in met {
                    if hops.iter().any(|h| h.server.as_deref() == Some(&s.server)) {
                        continue;
                    }
                    let mut hop = self.hop_to_step(s, question.clone(), false);
                    hop.why = format!(
                        "{target} is in {}, which {} serves",
                        s.zone.clone().unwrap_or_default(),
                        s.host
                    );
                    hops.push(hop);
                }
                hops.push(self.root_hop(format!("{target} is an alias: resolve it from the root")));
                hops
            }
            Some(ReplyKind::Truncated) => {
                let mut hop = self.hop_to_step(last, question, true);
                hop.why = "the reply was truncated (TC): ask again over TCP".into();
                vec![hop]
            }
            Some(ReplyKind::Error { rcode, .. }) => {
                vec![self.root_hop(format!(
                    "{rcode} from {}: start again from the root",
                    last.host
                ))]
            }
        }
    }

    fn hop_to_step(&self, step: &Step, question: Question, tcp: bool) -> NextHop {
        NextHop {
            server: Some(step.server.clone()),
            name: step.host.clone(),
            address: hierarchy::server(&step.server).map(|s| s.ip()),
            zone: step.zone.clone().unwrap_or_else(|| match step.party {
                Party::Root => Name::root(),
                _ => question.name.clone(),
            }),
            party: step.party,
            question,
            tcp,
            why: String::new(),
        }
    }

    /// Message 1: the query the host's stub resolver sends its local
    /// server, recursion desired.
    pub fn host_query(&self) -> Vec<u8> {
        Message::query(self.host_id, self.question.clone(), true).to_bytes()
    }

    /// The last message: the local server's answer to the host, once the
    /// walk is finished. Not authoritative (AA clear: it comes from other
    /// servers), recursion available, the CNAMEs met on the way first.
    pub fn host_reply(&self) -> Option<Vec<u8>> {
        let outcome = self.outcome()?;
        let query = Message::query(self.host_id, self.question.clone(), true);
        let mut reply = Message::response_to(&query);
        reply.header.ra = true;
        reply.answers = self.chain();
        match outcome {
            ReplyKind::Answer { records, .. } => reply.answers.extend(records.iter().cloned()),
            ReplyKind::NxDomain { soa, .. } => {
                reply.set_rcode(Rcode::NXDOMAIN);
                reply.authority.extend(soa.iter().cloned());
            }
            ReplyKind::NoData { soa, .. } => reply.authority.extend(soa.iter().cloned()),
            _ => return None,
        }
        Some(reply.to_bytes())
    }

    /// Every message so far, numbered as in the figure: 1 the host's
    /// query, then each query and its reply, and the answer to the host
    /// last once there is one.
    pub fn numbered(&self) -> Vec<Numbered> {
        let mut out = vec![Numbered {
            n: 1,
            from: Party::Host,
            to: Party::Local,
            what: WalkMessage::HostQuery,
        }];
        for (i, step) in self.steps.iter().enumerate() {
            out.push(Numbered {
                n: out.len() + 1,
                from: Party::Local,
                to: step.party,
                what: WalkMessage::Query(i),
            });
            if step.reply.is_some() {
                out.push(Numbered {
                    n: out.len() + 1,
                    from: step.party,
                    to: Party::Local,
                    what: WalkMessage::Reply(i),
                });
            }
        }
        if self.is_finished() {
            out.push(Numbered {
                n: out.len() + 1,
                from: Party::Local,
                to: Party::Host,
                what: WalkMessage::HostReply,
            });
        }
        out
    }

    /// How many messages the resolution took, the host's two included.
    pub fn message_count(&self) -> usize {
        self.numbered().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::RecordType;
    use crate::dns::query::QuerySpec;
    use crate::dns::rdata::RData;
    use crate::dns::server::{Authority, Via};
    use std::net::Ipv4Addr;

    /// The lab's servers, answering in-process.
    fn authority(catalog: &str) -> Authority {
        hierarchy::server(catalog).unwrap().default_authority()
    }

    /// Follows the first hop each time, as the page's first button does.
    fn walk(name: &str, qtype: RecordType) -> Walk {
        let q = Question::new(Name::parse(name).unwrap(), qtype);
        let mut walk = Walk::new(q, 0x1000);
        let mut id = 0x2000;
        for _ in 0..10 {
            let Some(hop) = walk.next_hops().into_iter().next() else {
                break;
            };
            let server = hop.server.clone().expect("a lab server");
            let spec =
                QuerySpec::new(hop.question.name.clone(), hop.question.qtype, id).next_hop(id);
            id += 1;
            let query = spec.to_bytes();
            assert!(walk.continues_with(&hop.question));
            walk.asked(
                &server,
                (!walk.steps.is_empty()).then_some(hop.zone),
                query.clone(),
                id as f64,
            );
            let reply = authority(&server).answer(&query, Via::Udp).unwrap();
            walk.answered(reply, id as f64 + 0.5);
        }
        walk
    }

    #[test]
    fn gaia_takes_the_eight_messages_of_the_figure() {
        let w = walk("gaia.cs.umass.edu", RecordType::A);
        let servers: Vec<_> = w.steps.iter().map(|s| s.server.as_str()).collect();
        assert_eq!(servers, ["dns-root", "dns-edu", "dns-cs-umass"]);
        let parties: Vec<_> = w.steps.iter().map(|s| s.party).collect();
        assert_eq!(parties, [Party::Root, Party::Tld, Party::Authoritative]);
        assert!(w.is_finished());
        assert!(w.next_hops().is_empty());
        assert_eq!(w.message_count(), 8);
        let numbered = w.numbered();
        assert_eq!(numbered[0].what, WalkMessage::HostQuery);
        assert_eq!(
            (numbered[2].from, numbered[2].to),
            (Party::Root, Party::Local)
        );
        assert_eq!(numbered[7].what, WalkMessage::HostReply);
        assert_eq!(numbered[7].n, 8);
        let reply = Message::parse(&w.host_reply().unwrap()).unwrap();
        assert_eq!(reply.header.id, 0x1000);
        assert!(reply.header.qr && reply.header.ra && reply.header.rd && !reply.header.aa);
        assert_eq!(
            reply.answers[0].data,
            RData::A(Ipv4Addr::new(128, 119, 245, 12))
        );
        let host = Message::parse(&w.host_query()).unwrap();
        assert!(host.header.rd && !host.header.qr);
        // The referral from edu named both umass servers, with their glue.
        let from_root = match &w.steps[0].outcome {
            Some(ReplyKind::Referral { zone, .. }) => zone.to_string(),
            other => panic!("{other:?}"),
        };
        assert_eq!(from_root, "edu.");
        // Asked again, it does not continue a finished walk.
        assert!(!w.continues_with(&w.question));
    }

    #[test]
    fn a_missing_name_ends_in_nxdomain_with_the_soa() {
        let w = walk("nosuchhost.cs.umass.edu", RecordType::A);
        match w.outcome() {
            Some(ReplyKind::NxDomain { soa: Some(soa), .. }) => {
                assert_eq!(soa.name.to_string(), "cs.umass.edu.")
            }
            other => panic!("{other:?}"),
        }
        let reply = Message::parse(&w.host_reply().unwrap()).unwrap();
        assert_eq!(reply.rcode(), Rcode::NXDOMAIN);
        assert_eq!(reply.authority[0].rtype, RecordType::SOA);
        assert_eq!(w.message_count(), 8);
    }

    #[test]
    fn a_cname_is_followed_and_kept_in_the_answer() {
        let w = walk("www.ibm.com", RecordType::A);
        let answer = Message::parse(&w.host_reply().unwrap()).unwrap();
        assert_eq!(answer.answers[0].rtype, RecordType::CNAME);
        assert!(answer.answers.iter().any(|r| r.rtype == RecordType::A));
    }

    #[test]
    fn referrals_without_a_reply_or_after_an_error() {
        let q = Question::new(Name::parse("gaia.cs.umass.edu").unwrap(), RecordType::A);
        let mut w = Walk::new(q.clone(), 1);
        assert_eq!(w.next_hops()[0].server.as_deref(), Some("dns-root"));
        let query = QuerySpec::new(q.name.clone(), q.qtype, 2)
            .next_hop(2)
            .to_bytes();
        w.asked("dns-edu-tcp", None, query.clone(), 0.0);
        assert_eq!(
            (w.steps[0].server.as_str(), w.steps[0].party),
            ("dns-edu", Party::Tld)
        );
        assert!(w.next_hops().is_empty(), "waiting for the reply");
        w.failed("no reply in 3 s");
        let hops = w.next_hops();
        assert_eq!(hops[0].server.as_deref(), Some("dns-edu"));
        assert!(hops[0].why.contains("no reply"));
        // REFUSED: back to the root.
        w.asked("dns-crepes", None, query.clone(), 1.0);
        let refused = authority("dns-crepes").answer(&query, Via::Udp).unwrap();
        w.answered(refused, 2.0);
        assert!(matches!(w.steps[1].outcome, Some(ReplyKind::Error { .. })));
        assert_eq!(w.next_hops()[0].party, Party::Root);
        // A truncated reply: the same server over TCP.
        let mut tc = Message::response_to(&Message::parse(&query).unwrap());
        tc.header.tc = true;
        w.asked("dns-root", None, query, 3.0);
        w.answered(tc.to_bytes(), 4.0);
        let hop = &w.next_hops()[0];
        assert!(hop.tcp && hop.server.as_deref() == Some("dns-root"));
        assert_eq!(w.message_count(), 1 + 3 + 2);
        assert_eq!(Party::of_trace_role("TLD"), Party::Tld);
        assert_eq!(
            Party::ALL[Party::Authoritative.index()],
            Party::Authoritative
        );
    }
}
