//! Fuzz bodies for DNS: messages (dissected, parsed, re-encoded, framed
//! over TCP, followed as a conversation), zone files, the authoritative
//! servers of the lab's hierarchy and the recursive resolver.

use super::{check, follow};
use crate::dns::resolver::{ClientId, Resolver, ResolverConfig, ResolverOutput};
use crate::dns::server::{
    AuthoritativeTcp, AuthoritativeUdp, Authority, MAX_UDP_REPLY, TcpLimits, Via,
};
use crate::dns::{Message, dissect, hierarchy, zone};
use crate::engine::{Engine, Millis, drain};
use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};

/// Messages: the dissectors, the strict parser and its round trip, the
/// TCP framer and the page's view of a query and its reply.
pub fn dns(data: &[u8]) {
    check(&dissect::dissect(data), data);
    check(&dissect::dissect_tcp(data), data);
    // Whatever parses strictly encodes to something that parses to the same,
    // and can be read as a reply to its own question.
    if let Ok(message) = Message::parse(data) {
        if let Some(question) = message.questions.first() {
            let _ = crate::dns::reply::classify(question, &message);
        }
        let again = Message::parse(&message.to_bytes()).expect("re-encoded message parses");
        assert_eq!(again.header.id, message.header.id);
        assert_eq!(again.questions, message.questions);
        assert_eq!(again.answers, message.answers);
        assert_eq!(again.authority, message.authority);
        assert_eq!(again.additional, message.additional);
    }
    let mut framer = crate::dns::frame::TcpFramer::new();
    framer.push(data);
    let mut framed = 0;
    while let Some(message) = framer.next_message() {
        framed += message.len() + 2;
    }
    assert_eq!(framed + framer.pending(), data.len());
    for transport in [
        crate::dns::query::QueryTransport::Udp,
        crate::dns::query::QueryTransport::Tcp,
    ] {
        follow(
            &mut crate::dns::conversation::DnsConversation::new(transport),
            data,
        );
    }
}

/// Zone files: the dissection, and the records read written back one per
/// line and read again to the same records.
pub fn dns_zone(data: &[u8]) {
    check(&zone::dissect_zone(data), data);
    let text = String::from_utf8_lossy(data);
    let origin = crate::dns::Name::parse("fuzz.example.").expect("a valid name");
    let parsed = zone::parse_zone(&text, Some(&origin));
    assert_eq!(parsed.record_spans.len(), parsed.zone.records().len());
    for span in &parsed.record_spans {
        assert!(span.start <= span.end && span.end <= text.len());
    }
    let written: String = parsed
        .zone
        .records()
        .iter()
        .map(|r| r.to_text() + "\n")
        .collect();
    let again = zone::parse_zone(&written, Some(&origin));
    assert_eq!(again.zone.records(), parsed.zone.records(), "{written}");
}

/// Every authoritative server of the lab, by address, as it ships.
fn lab_authorities() -> &'static HashMap<IpAddr, Arc<Authority>> {
    static AUTHORITIES: OnceLock<HashMap<IpAddr, Arc<Authority>>> = OnceLock::new();
    AUTHORITIES.get_or_init(|| {
        hierarchy::SERVERS
            .iter()
            .map(|s| (s.ip(), Arc::new(s.default_authority())))
            .collect()
    })
}

/// One authority holding every zone of the lab, so any name of the
/// course has an answer.
pub(super) fn all_zones() -> &'static Arc<Authority> {
    static ALL: OnceLock<Arc<Authority>> = OnceLock::new();
    ALL.get_or_init(|| {
        let zones = hierarchy::ZONE_FILES
            .iter()
            .map(|(file, text)| zone::parse_zone(text, Some(&hierarchy::origin_of_file(file))).zone)
            .collect();
        Arc::new(Authority::new("fuzz.", zones))
    })
}

/// The authoritative servers: the input as one datagram, and as a TCP
/// stream. A reply echoes the query's ID, fits its transport and parses.
pub fn dns_server(data: &[u8]) {
    let authority = all_zones().clone();
    if let Some(reply) = authority.answer(data, Via::Udp) {
        assert!(reply.len() <= MAX_UDP_REPLY);
        assert_eq!(
            reply.get(..2),
            data.get(..2),
            "the reply has the query's ID"
        );
        Message::parse(&reply).expect("the server's replies parse");
    }
    let mut udp = AuthoritativeUdp::new(authority.clone(), 0);
    udp.handle_input(data, Millis(0));
    assert!(
        drain(&mut udp).transmitted.len() <= 1,
        "one datagram, one reply"
    );
    let mut tcp = AuthoritativeTcp::new(authority.clone(), 0);
    let out = super::drive(&mut tcp, data);
    let queries = data.len() / 2;
    assert!(
        out.transmitted.len() <= queries,
        "more replies than queries"
    );
    for reply in &out.transmitted {
        let length = u16::from_be_bytes([reply[0], reply[1]]) as usize;
        assert_eq!(length + 2, reply.len(), "the length prefix is the reply's");
        Message::parse(&reply[2..]).expect("the server's replies parse");
    }
    // Under tight limits: a bounded number of replies, and an oversized
    // prefix or too much pipelining ends in a close.
    let limits = TcpLimits {
        max_message: 64,
        max_in_flight: 2,
    };
    let mut tight = AuthoritativeTcp::with_limits(authority, 0, limits);
    let out = super::drive(&mut tight, data);
    assert!(out.transmitted.len() <= data.len() / 14 + 1);
}

/// The client every query of the resolver body comes from.
const CLIENT: ClientId = ClientId {
    addr: SocketAddr::new(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 5353),
    via: Via::Udp,
    conn: 0,
};

/// The recursive resolver among the lab's servers, with the input as a
/// script: its first byte the length of the client's query that follows,
/// then one step per byte: answer the oldest query sent upstream as the
/// lab's server would, answer it with the next bytes (its ID patched in,
/// so forged replies get past the ID check), let its timer expire, or
/// take another client query. Upstream queries stay within the
/// configured budget, and each client query gets at most one reply,
/// which parses.
pub fn dns_resolver(data: &[u8]) {
    let config = ResolverConfig {
        root_hints: hierarchy::root_hints(),
        ..ResolverConfig::default()
    };
    let budget = config.max_queries;
    let mut resolver = Resolver::new(config, None);
    let mut script = Script { data, at: 0 };
    let mut run = ResolverRun::default();
    let first = script.take_prefixed();
    resolver.handle_client(CLIENT, first, run.now);
    run.clients += 1;
    run.collect(&mut resolver);
    while let Some(op) = script.take_byte() {
        match op % 4 {
            0 => run.answer_from_lab(&mut resolver),
            1 => run.answer_with(&mut resolver, script.take_prefixed()),
            2 => run.expire(&mut resolver),
            _ => {
                resolver.handle_client(CLIENT, script.take_prefixed(), run.now);
                run.clients += 1;
            }
        }
        run.collect(&mut resolver);
    }
    // Let every resolution finish, as the lab would answer it.
    for _ in 0..budget * run.clients + 1 {
        if run.upstream.is_empty() {
            break;
        }
        run.answer_from_lab(&mut resolver);
        run.collect(&mut resolver);
    }
    assert!(
        run.sent <= budget * run.clients,
        "{} queries sent",
        run.sent
    );
    assert!(run.replies <= run.clients, "more replies than queries");
}

/// A cursor over the resolver body's input.
struct Script<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Script<'a> {
    fn take_byte(&mut self) -> Option<u8> {
        let b = *self.data.get(self.at)?;
        self.at += 1;
        Some(b)
    }

    /// A length byte, then up to that many bytes.
    fn take_prefixed(&mut self) -> &'a [u8] {
        let n = usize::from(self.take_byte().unwrap_or(0));
        let end = (self.at + n).min(self.data.len());
        let bytes = &self.data[self.at..end];
        self.at = end;
        bytes
    }
}

/// What the resolver body has seen of the resolver so far.
#[derive(Default)]
struct ResolverRun {
    now: Millis,
    /// Queries sent upstream and not answered yet, oldest first.
    upstream: VecDeque<(SocketAddr, Via, Vec<u8>)>,
    deadline: Option<Millis>,
    clients: usize,
    sent: usize,
    replies: usize,
}

impl ResolverRun {
    /// Drains the resolver, checking its replies to the client.
    fn collect(&mut self, resolver: &mut Resolver) {
        for _ in 0..100_000 {
            match resolver.poll_output() {
                ResolverOutput::Reply { message, .. } => {
                    self.replies += 1;
                    Message::parse(&message).expect("the resolver's replies parse");
                }
                ResolverOutput::Query { to, via, message } => {
                    self.sent += 1;
                    self.upstream.push_back((to, via, message));
                }
                ResolverOutput::Finished { .. } => {}
                ResolverOutput::Wait(deadline) => {
                    self.deadline = deadline;
                    return;
                }
            }
        }
        panic!("the resolver never waits");
    }

    fn answer_from_lab(&mut self, resolver: &mut Resolver) {
        let Some((to, via, query)) = self.upstream.pop_front() else {
            return;
        };
        self.tick();
        match lab_authorities().get(&to.ip()) {
            Some(authority) => match authority.answer(&query, via) {
                Some(reply) => resolver.handle_upstream(to, via, &reply, self.now),
                None => resolver.handle_upstream_failure(to, via, "no answer", self.now),
            },
            None => resolver.handle_upstream_failure(to, via, "no such server", self.now),
        }
    }

    fn answer_with(&mut self, resolver: &mut Resolver, bytes: &[u8]) {
        let Some((to, via, query)) = self.upstream.pop_front() else {
            return;
        };
        self.tick();
        let mut reply = bytes.to_vec();
        for (i, b) in query.iter().take(2).enumerate() {
            if let Some(r) = reply.get_mut(i) {
                *r = *b;
            }
        }
        resolver.handle_upstream(to, via, &reply, self.now);
    }

    fn expire(&mut self, resolver: &mut Resolver) {
        if let Some(deadline) = self.deadline {
            self.now = self.now.max(deadline);
            resolver.handle_timeout(self.now);
            self.upstream.clear();
        }
    }

    fn tick(&mut self) {
        self.now = self.now.saturating_add(1);
    }
}
