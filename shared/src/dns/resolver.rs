//! The recursive resolver (the course's "local DNS server"), sans-IO: it
//! starts from the root hints, follows referrals down the hierarchy, chases
//! CNAMEs, caches with TTLs (negative answers too), answers its own zones
//! authoritatively, and records a [`Trace`] of every message it sent and
//! received, numbered as in the course's figure, with timings.
//!
//! It talks to many peers, so its contract is wider than [`crate::Engine`]:
//!
//! - inputs: [`Resolver::handle_client`] (a query from a client, with an
//!   opaque [`ClientId`] to reply to), [`Resolver::handle_upstream`] (a
//!   datagram or TCP message that arrived from a server's address), and
//!   [`Resolver::handle_timeout`];
//! - outputs, drained with [`Resolver::poll_output`] after every input until
//!   `Wait`: [`ResolverOutput::Reply`] (send to that client),
//!   [`ResolverOutput::Query`] (send this message to that server address,
//!   over UDP, or over TCP after a truncated reply: the driver opens the
//!   connection, sends the length-prefixed query and feeds the reply back
//!   through `handle_upstream` with [`Via::Tcp`]), events, and
//!   `Wait(deadline)` for the next retransmission timeout.
//!
//! Answering is a serving path: the trace keeps each message as bytes
//! ([`KeptTrace`]) and dissects them (summary, hex) only when
//! [`Resolver::traces`] or [`Resolver::trace_for`] is asked, or when a
//! driver renders what [`Resolver::kept_traces`] handed it.
//!
//! Replies are accepted only from the address asked, with the query's ID
//! and question, and records outside the asked server's zone are ignored
//! (bailiwick), which is what stops the course's cache poisoning attack.

use super::cache::{Cache, CacheView, Cached, NXDOMAIN_KEY, Rank};
use super::message::{Edns, Message, Question, Record};
use super::name::Name;
use super::rdata::RData;
use super::reply::{ReplyKind, classify};
use super::server::{Authority, Via, udp_limit};
use super::types::{Rcode, RecordType};
use crate::engine::Millis;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};

mod kept;
pub use kept::KeptTrace;
use kept::{CacheHit, Found};
use std::sync::Arc;

/// A range of addresses, `127.0.0.0/8`, for the clients allowed to recurse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressPrefix {
    pub address: IpAddr,
    pub length: u8,
}

impl AddressPrefix {
    pub fn parse(text: &str) -> Option<AddressPrefix> {
        let (a, l) = match text.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (text, None),
        };
        let address: IpAddr = a.trim().parse().ok()?;
        let max = if address.is_ipv4() { 32 } else { 128 };
        let length = match l {
            Some(l) => l.trim().parse().ok().filter(|&n: &u8| n <= max)?,
            None => max,
        };
        Some(AddressPrefix { address, length })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.address, ip) {
            (IpAddr::V4(p), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - self.length as u32).unwrap_or(0);
                u32::from(p) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(p), IpAddr::V6(a)) => {
                let mask = u128::MAX.checked_shl(128 - self.length as u32).unwrap_or(0);
                u128::from(p) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for AddressPrefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.address, self.length)
    }
}

/// Who sent a client query, as the driver knows it; handed back unchanged
/// in the reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientId {
    pub addr: SocketAddr,
    pub via: Via,
    /// The driver's connection number (TCP), 0 for UDP.
    pub conn: u64,
}

/// The resolver's settings.
#[derive(Debug, Clone)]
pub struct ResolverConfig {
    /// The root servers' names and addresses (RFC 1034 §5.3.2 "SBELT").
    pub root_hints: Vec<(Name, IpAddr)>,
    /// The port every upstream server listens on.
    pub upstream_port: u16,
    /// Clients that may ask for recursion.
    pub allowed: Vec<AddressPrefix>,
    /// How long to wait for a server before trying the next one.
    pub timeout_ms: u64,
    /// Queries one resolution may send before giving up (SERVFAIL).
    pub max_queries: usize,
    pub cache_capacity: usize,
    /// How many finished traces to keep.
    pub max_traces: usize,
    /// Resolutions in progress at once; more are refused (SERVFAIL).
    pub max_tasks: usize,
    /// Seed of the query-ID generator (the driver passes entropy).
    pub seed: u64,
}

impl Default for ResolverConfig {
    fn default() -> Self {
        ResolverConfig {
            root_hints: Vec::new(),
            upstream_port: 53,
            allowed: vec![
                AddressPrefix::parse("127.0.0.0/8").unwrap_or(AddressPrefix {
                    address: IpAddr::from([127, 0, 0, 0]),
                    length: 8,
                }),
                AddressPrefix {
                    address: IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1]),
                    length: 128,
                },
            ],
            timeout_ms: 1500,
            max_queries: 40,
            cache_capacity: 10_000,
            max_traces: 64,
            max_tasks: 256,
            seed: 0x5eed,
        }
    }
}

/// What the resolver wants its driver to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolverOutput {
    /// Send this message to the client (over TCP, with the length prefix).
    Reply { to: ClientId, message: Vec<u8> },
    /// Send this query to a server.
    Query {
        to: SocketAddr,
        via: Via,
        message: Vec<u8>,
    },
    /// A resolution finished; its trace is in [`Resolver::traces`].
    Finished { trace_id: u64, summary: String },
    /// Nothing to do until input or this deadline.
    Wait(Option<Millis>),
}

/// What one entry of a trace is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TraceKind {
    /// The client's query to the resolver (message 1 of the figure).
    ClientQuery,
    /// The resolver asks a server.
    Query,
    /// A server answers the resolver.
    Reply,
    /// A server did not answer in time.
    Timeout,
    /// The resolver used its cache instead of asking.
    Cache,
    /// The resolver's answer to the client (the last message).
    ClientReply,
    /// Something the resolver decided (ignored records, a retry over TCP).
    Note,
}

/// One step of a resolution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceEvent {
    /// The message's number as in the course's figure (1 = the client's
    /// query); notes and cache hits have none.
    pub n: Option<usize>,
    pub kind: TraceKind,
    /// Milliseconds since the client's query arrived.
    pub at_ms: u64,
    /// Who sent it and who got it: "127.0.0.1:40112 (client)",
    /// "a.root-servers.net. 127.0.0.10:1053".
    pub from: String,
    pub to: String,
    /// The server's role for this question: "root", "TLD",
    /// "authoritative" (from the zone it was asked as), or "local".
    pub role: String,
    /// The zone the server was asked as: ".", "edu.", "cs.umass.edu.".
    pub zone: Option<String>,
    pub transport: String,
    /// The dissector's one-line summary, or the note's text.
    pub summary: String,
    /// The message itself, hex, for the page to dissect.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub hex: String,
    /// For replies and timeouts: milliseconds since the query went out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rtt_ms: Option<u64>,
}

/// Everything the resolver did for one client query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trace {
    pub id: u64,
    pub client: String,
    pub transport: String,
    /// The ID of the client's query, to match it with what the page sent.
    pub query_id: u16,
    pub question: String,
    /// Engine time when the query arrived.
    pub started_ms: u64,
    pub finished: bool,
    pub elapsed_ms: u64,
    pub rcode: String,
    pub answer: Vec<String>,
    /// How many queries went out to other servers (0: all from the cache).
    pub upstream_queries: usize,
    pub events: Vec<TraceEvent>,
}

/// A server to ask, and what we know of it.
#[derive(Debug, Clone)]
struct Candidate {
    name: Name,
    addr: IpAddr,
}

#[derive(Debug, Clone)]
struct Outstanding {
    query_id: u16,
    to: SocketAddr,
    via: Via,
    sent: Millis,
    deadline: Millis,
    server: Name,
    message: Vec<u8>,
}

#[derive(Debug, Clone)]
struct Task {
    trace_id: u64,
    /// The client to answer, or none for an internal lookup (the address
    /// of a name server that came without glue).
    client: Option<ClientId>,
    client_query: Option<Message>,
    question: Question,
    /// The name being resolved now (after CNAMEs).
    sname: Name,
    chain: Vec<Record>,
    /// The zone the current candidates serve.
    zone: Name,
    candidates: Vec<Candidate>,
    outstanding: Option<Outstanding>,
    queries: usize,
    started: Millis,
    /// For internal lookups: the task waiting for the answer.
    parent: Option<u64>,
    depth: usize,
    waiting_for_child: bool,
}

/// The resolver.
pub struct Resolver {
    config: ResolverConfig,
    local: Option<Arc<Authority>>,
    cache: Cache,
    tasks: HashMap<u64, Task>,
    next_task: u64,
    rng: u64,
    traces: VecDeque<KeptTrace>,
    outputs: VecDeque<ResolverOutput>,
    /// Tests compare the cache's serving path with the full resolution.
    #[cfg(test)]
    full_resolution_only: bool,
}

/// How many levels of "look up the name server's address first" may nest.
const MAX_DEPTH: usize = 3;
/// The UDP size the resolver announces upstream.
const UPSTREAM_UDP_SIZE: u16 = 1232;

fn role_of(zone: &Name) -> &'static str {
    match zone.label_count() {
        0 => "root",
        1 => "TLD",
        _ => "authoritative",
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn summary(bytes: &[u8]) -> String {
    super::dissect::dissect(bytes).summary
}

impl Resolver {
    pub fn new(config: ResolverConfig, local: Option<Arc<Authority>>) -> Resolver {
        let cache = Cache::new(config.cache_capacity);
        let rng = config.seed | 1;
        Resolver {
            config,
            local,
            cache,
            tasks: HashMap::new(),
            next_task: 1,
            rng,
            traces: VecDeque::new(),
            outputs: VecDeque::new(),
            #[cfg(test)]
            full_resolution_only: false,
        }
    }

    /// xorshift64*: unpredictable enough for query IDs in a lab, and no
    /// dependency; the driver seeds it with real entropy.
    fn random_id(&mut self) -> u16 {
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 48) as u16
    }

    pub fn config(&self) -> &ResolverConfig {
        &self.config
    }

    /// Finished traces (and unfinished ones are in progress), oldest
    /// first, their messages dissected now.
    pub fn traces(&self) -> impl Iterator<Item = Trace> + '_ {
        self.kept_traces().map(KeptTrace::render)
    }

    /// The trace of the query `query_id` from `client` (the most recent).
    pub fn trace_for(&self, client: SocketAddr, query_id: u16) -> Option<Trace> {
        self.kept_trace_for(client, query_id).map(KeptTrace::render)
    }

    /// [`Resolver::traces`] as kept, not yet dissected.
    pub fn kept_traces(&self) -> impl Iterator<Item = &KeptTrace> {
        self.traces.iter()
    }

    /// [`Resolver::trace_for`] as kept, not yet dissected.
    pub fn kept_trace_for(&self, client: SocketAddr, query_id: u16) -> Option<&KeptTrace> {
        self.traces
            .iter()
            .rev()
            .find(|k| k.is_query(client, query_id))
    }

    pub fn cache_snapshot(&self, now: Millis) -> Vec<CacheView> {
        self.cache.snapshot(now)
    }

    pub fn clear_cache(&mut self) {
        self.cache.clear();
    }

    fn allowed(&self, ip: IpAddr) -> bool {
        self.config.allowed.iter().any(|p| p.contains(ip))
    }

    /// The trace of resolution `id` and its messages.
    fn resolution_mut(&mut self, id: u64) -> Option<(&mut Trace, &mut kept::Messages)> {
        self.traces
            .iter_mut()
            .rev()
            .find(|k| k.id() == id)
            .and_then(KeptTrace::resolution_mut)
    }

    fn trace_mut(&mut self, id: u64) -> Option<&mut Trace> {
        self.resolution_mut(id).map(|(trace, _)| trace)
    }

    /// Adds `event` to trace `id`, with the message it shows, if any (kept
    /// as bytes; see [`KeptTrace`]).
    fn push_event(&mut self, id: u64, now: Millis, mut event: TraceEvent, message: Option<&[u8]>) {
        if let Some((t, messages)) = self.resolution_mut(id) {
            event.at_ms = now.0.saturating_sub(t.started_ms);
            if event.n.is_some() {
                let last = t.events.iter().filter_map(|e| e.n).max().unwrap_or(0);
                event.n = Some(last + 1);
            }
            if let Some(bytes) = message {
                messages.push((t.events.len(), bytes.to_vec()));
            }
            t.events.push(event);
        }
    }

    /// A query from a client. Returns whether a reply to `from` follows
    /// (at once or when the resolution ends): not for a message that is no
    /// query (no header, or QR set), which is dropped, so a driver can count
    /// the queries it waits for.
    pub fn handle_client(&mut self, from: ClientId, message: &[u8], now: Millis) -> bool {
        match super::Header::parse(message) {
            Some(header) if !header.qr => {
                self.take_query(from, message, now);
                true
            }
            _ => false,
        }
    }

    fn take_query(&mut self, from: ClientId, message: &[u8], now: Millis) {
        let Some(header) = super::Header::parse(message) else {
            return;
        };
        if header.qr {
            return;
        }
        let query = match Message::parse(message) {
            Ok(q) => q,
            Err(_) => {
                let mut reply = Message::default();
                reply.header.id = header.id;
                reply.header.qr = true;
                reply.header.rd = header.rd;
                reply.set_rcode(Rcode::FORMERR);
                self.reply(from, &reply, None);
                return;
            }
        };
        // Our own zones first: a local server answers them with authority.
        if let Some(local) = &self.local
            && let Some(q) = query.question()
            && local.is_authoritative_for(&q.name)
        {
            let mut reply = local.answer_message(&query);
            reply.header.ra = self.allowed(from.addr.ip());
            self.reply(from, &reply, query.edns());
            return;
        }
        let allowed = self.allowed(from.addr.ip());
        // Built only for the answers that need it, not for every query.
        let simple = || {
            let mut simple = Message::response_to(&query);
            if query.edns().is_some() {
                simple.set_edns(Some(Edns::with_size(UPSTREAM_UDP_SIZE)));
            }
            simple.header.ra = allowed;
            simple
        };
        let question = match query.questions.as_slice() {
            [q] if query.header.opcode == 0 => q.clone(),
            [_] => {
                let mut simple = simple();
                simple.set_rcode(Rcode::NOTIMP);
                self.reply(from, &simple, query.edns());
                return;
            }
            _ => {
                let mut simple = simple();
                simple.questions.clear();
                simple.set_rcode(Rcode::FORMERR);
                self.reply(from, &simple, query.edns());
                return;
            }
        };
        if !allowed {
            // An open resolver is a tool for amplification attacks: only
            // the configured clients get recursion.
            let mut simple = simple();
            simple.set_rcode(Rcode::REFUSED);
            self.reply(from, &simple, query.edns());
            return;
        }
        if !query.header.rd {
            self.answer_from_cache(from, &query, &question, simple(), now);
            return;
        }
        if self.tasks.len() >= self.config.max_tasks {
            let mut simple = simple();
            simple.set_rcode(Rcode::SERVFAIL);
            self.reply(from, &simple, query.edns());
            return;
        }
        let Some(question) = self.answer_cached_at_once(from, message, &query, question, now)
        else {
            return;
        };
        let id = self.new_trace(Some(from), &query, &question, now);
        self.push_event(
            id,
            now,
            TraceEvent {
                n: Some(1),
                kind: TraceKind::ClientQuery,
                at_ms: 0,
                from: format!("{} (client)", from.addr),
                to: "local DNS server".into(),
                role: "local".into(),
                zone: None,
                transport: via_text(from.via).into(),
                summary: String::new(),
                hex: String::new(),
                rtt_ms: None,
            },
            Some(message),
        );
        let task = Task {
            trace_id: id,
            client: Some(from),
            client_query: Some(query),
            question: question.clone(),
            sname: question.name.clone(),
            chain: Vec::new(),
            zone: Name::root(),
            candidates: Vec::new(),
            outstanding: None,
            queries: 0,
            started: now,
            parent: None,
            depth: 0,
            waiting_for_child: false,
        };
        self.tasks.insert(id, task);
        self.advance(id, now);
    }

    /// The serving path of a query the cache answers as it stands (the
    /// name is cached as nonexistent, or its records or their absence
    /// are): the reply, the `Finished` output and the trace exactly as the
    /// full resolution's first step would write them ([`Self::advance`]
    /// and [`Self::finish`]), the trace kept as bytes and plain values.
    /// Anything else (a CNAME to follow, servers to ask) gives the
    /// question back for the full resolution.
    fn answer_cached_at_once(
        &mut self,
        from: ClientId,
        message: &[u8],
        query: &Message,
        question: Question,
        now: Millis,
    ) -> Option<Question> {
        #[cfg(test)]
        if self.full_resolution_only {
            return Some(question);
        }
        let name = &question.name;
        if !self.cache.answers_at_once(name, question.qtype, now) {
            return Some(question);
        }
        // The same lookups, in the same order, as `advance`'s.
        let (rcode, found, answers, authority) = match self.cache.get(name, NXDOMAIN_KEY, now) {
            Some(Cached::NxDomain { soa }) => (Rcode::NXDOMAIN, Found::NxDomain, Vec::new(), soa),
            _ => match self.cache.get(name, question.qtype, now) {
                Some(Cached::Records(rs)) if !rs.is_empty() => {
                    let found = Found::Records {
                        count: rs.len(),
                        ttl_left: rs[0].ttl,
                    };
                    (Rcode::NOERROR, found, rs, None)
                }
                Some(Cached::NoData { soa }) => (Rcode::NOERROR, Found::NoData, Vec::new(), soa),
                _ => return Some(question),
            },
        };
        let id = self.next_task;
        self.next_task += 1;
        let answers = without_repeats(Vec::new(), answers);
        let (reply, answers) = client_reply(
            query,
            from.via,
            rcode,
            answers,
            authority.into_iter().collect(),
        );
        self.outputs.push_back(ResolverOutput::Reply {
            to: from,
            message: reply.clone(),
        });
        self.outputs.push_back(ResolverOutput::Finished {
            trace_id: id,
            summary: format!(
                "{} {} → {rcode} in 0 ms, 0 upstream queries",
                question.name, question.qtype
            ),
        });
        self.keep_trace(KeptTrace::from_cache(CacheHit {
            id,
            client: from,
            query_id: query.header.id,
            question,
            at: now,
            rcode,
            found,
            answers,
            query: message.to_vec(),
            reply,
        }));
        None
    }

    fn new_trace(
        &mut self,
        client: Option<ClientId>,
        query: &Message,
        q: &Question,
        now: Millis,
    ) -> u64 {
        let id = self.next_task;
        self.next_task += 1;
        let trace = Trace {
            id,
            client: client.map_or("(resolver)".into(), |c| c.addr.to_string()),
            transport: client.map_or("-", |c| via_text(c.via)).into(),
            query_id: query.header.id,
            question: format!("{} {}", q.name, q.qtype),
            started_ms: now.0,
            finished: false,
            elapsed_ms: 0,
            rcode: String::new(),
            answer: Vec::new(),
            upstream_queries: 0,
            events: Vec::new(),
        };
        self.keep_trace(KeptTrace::resolution(trace));
        id
    }

    /// Keeps a new trace, dropping the oldest finished ones over
    /// `max_traces` (unfinished ones stay, and so does the new one).
    fn keep_trace(&mut self, kept: KeptTrace) {
        while self.traces.len() >= self.config.max_traces {
            match self.traces.iter().position(KeptTrace::finished) {
                Some(i) => {
                    self.traces.remove(i);
                }
                None => break,
            }
        }
        self.traces.push_back(kept);
    }

    /// RD clear: answer only from what is cached (a student can see
    /// whether a name is in the cache), or refer to the closest known
    /// servers.
    fn answer_from_cache(
        &mut self,
        from: ClientId,
        query: &Message,
        q: &Question,
        mut reply: Message,
        now: Millis,
    ) {
        match self.cache.get(&q.name, q.qtype, now) {
            Some(Cached::Records(rs)) => reply.answers = rs,
            Some(Cached::NoData { soa }) => reply.authority.extend(soa),
            _ => {
                if let Some(Cached::NxDomain { soa }) = self.cache.get(&q.name, NXDOMAIN_KEY, now) {
                    reply.set_rcode(Rcode::NXDOMAIN);
                    reply.authority.extend(soa);
                } else {
                    let (zone, servers) = self.closest_servers(&q.name, now);
                    let mut ns = Vec::new();
                    for c in &servers {
                        ns.push(Record::new(zone.clone(), 0, RData::Ns(c.name.clone())));
                        reply.additional.push(Record::new(
                            c.name.clone(),
                            0,
                            match c.addr {
                                IpAddr::V4(a) => RData::A(a),
                                IpAddr::V6(a) => RData::Aaaa(a),
                            },
                        ));
                    }
                    ns.dedup();
                    reply.authority = ns;
                }
            }
        }
        self.reply(from, &reply, query.edns());
    }

    fn reply(&mut self, to: ClientId, reply: &Message, client_edns: Option<Edns>) {
        let mut reply = reply.clone();
        if client_edns.is_some() && reply.edns().is_none() {
            reply.set_edns(Some(Edns::with_size(UPSTREAM_UDP_SIZE)));
        }
        let message = match to.via {
            Via::Udp => reply.to_bytes_within(udp_limit(client_edns.as_ref())),
            Via::Tcp => reply.to_bytes(),
        };
        self.outputs
            .push_back(ResolverOutput::Reply { to, message });
    }

    /// The deepest zone with cached servers whose addresses we know, or
    /// the root hints.
    fn closest_servers(&mut self, name: &Name, now: Millis) -> (Name, Vec<Candidate>) {
        for count in (1..=name.label_count()).rev() {
            let zone = name.suffix(count);
            if let Some(Cached::Records(ns)) = self.cache.get(&zone, RecordType::NS, now) {
                let mut candidates = Vec::new();
                for r in &ns {
                    if let RData::Ns(host) = &r.data {
                        for addr in self.cache.addresses(host, now) {
                            candidates.push(Candidate {
                                name: host.clone(),
                                addr,
                            });
                        }
                    }
                }
                if !candidates.is_empty() {
                    return (zone, candidates);
                }
            }
        }
        let hints = self
            .config
            .root_hints
            .iter()
            .map(|(name, addr)| Candidate {
                name: name.clone(),
                addr: *addr,
            })
            .collect();
        (Name::root(), hints)
    }

    /// Name servers of the deepest cached zone cut that have no address
    /// cached (a glueless delegation): the first one to look up.
    fn glueless(&mut self, name: &Name, found_zone: &Name, now: Millis) -> Option<(Name, Name)> {
        for count in (found_zone.label_count() + 1..=name.label_count()).rev() {
            let zone = name.suffix(count);
            if let Some(Cached::Records(ns)) = self.cache.get(&zone, RecordType::NS, now) {
                let host = ns.iter().find_map(|r| match &r.data {
                    RData::Ns(h) if !h.is_subdomain_of(&zone) => Some(h.clone()),
                    _ => None,
                });
                if let Some(h) = host {
                    return Some((zone, h));
                }
            }
        }
        None
    }

    /// Moves a task on: from the cache if it can, else by asking the next
    /// server.
    fn advance(&mut self, id: u64, now: Millis) {
        for _ in 0..32 {
            let Some(task) = self.tasks.get(&id).cloned() else {
                return;
            };
            if task.waiting_for_child || task.outstanding.is_some() {
                return;
            }
            // 1. The cache.
            let sname = task.sname.clone();
            let qtype = task.question.qtype;
            if let Some(Cached::NxDomain { soa }) = self.cache.get(&sname, NXDOMAIN_KEY, now) {
                self.cache_note(id, now, format!("cache: {sname} does not exist (NXDOMAIN)"));
                self.finish(
                    id,
                    Rcode::NXDOMAIN,
                    Vec::new(),
                    soa.into_iter().collect(),
                    now,
                );
                return;
            }
            match self.cache.get(&sname, qtype, now) {
                Some(Cached::Records(rs)) => {
                    self.cache_note(
                        id,
                        now,
                        format!(
                            "cache: {sname} {qtype} ({} record(s), {} s left)",
                            rs.len(),
                            rs[0].ttl
                        ),
                    );
                    self.finish(id, Rcode::NOERROR, rs, Vec::new(), now);
                    return;
                }
                Some(Cached::NoData { soa }) => {
                    self.cache_note(id, now, format!("cache: {sname} has no {qtype} (NODATA)"));
                    self.finish(
                        id,
                        Rcode::NOERROR,
                        Vec::new(),
                        soa.into_iter().collect(),
                        now,
                    );
                    return;
                }
                _ => {}
            }
            if qtype != RecordType::CNAME
                && let Some(Cached::Records(rs)) = self.cache.get(&sname, RecordType::CNAME, now)
                && let Some(RData::Cname(target)) = rs.first().map(|r| r.data.clone())
            {
                if task.chain.len() >= 8 {
                    self.fail(id, "too many CNAMEs in a row", now);
                    return;
                }
                self.cache_note(id, now, format!("cache: {sname} is an alias of {target}"));
                if let Some(t) = self.tasks.get_mut(&id) {
                    t.chain.push(rs[0].clone());
                    t.sname = target;
                    t.candidates.clear();
                }
                continue;
            }
            // 2. Which servers to ask.
            if task.candidates.is_empty() {
                let (zone, candidates) = self.closest_servers(&sname, now);
                if let Some((cut, host)) = self.glueless(&sname, &zone, now)
                    && task.depth < MAX_DEPTH
                {
                    self.start_child(id, &cut, host, now);
                    return;
                }
                let note = if zone.is_root() {
                    format!(
                        "start at the root: {} server(s) from the root hints",
                        candidates.len()
                    )
                } else {
                    let names: Vec<String> =
                        candidates.iter().map(|c| c.name.to_string()).collect();
                    format!(
                        "cache: the servers of {zone} are known ({}), no need to ask above",
                        names.join(", ")
                    )
                };
                if candidates.is_empty() {
                    self.fail(id, "no server to ask (no root hints?)", now);
                    return;
                }
                if !zone.is_root() {
                    self.cache_note(id, now, note);
                } else {
                    self.note(id, now, note);
                }
                if let Some(t) = self.tasks.get_mut(&id) {
                    t.zone = zone;
                    t.candidates = candidates;
                }
            }
            self.send_next(id, Via::Udp, now);
            return;
        }
        self.fail(id, "the resolution goes in circles", now);
    }

    fn start_child(&mut self, parent: u64, zone: &Name, host: Name, now: Millis) {
        let depth = self.tasks.get(&parent).map_or(0, |t| t.depth) + 1;
        self.note(
            parent,
            now,
            format!("the servers of {zone} came without glue: first look up {host} A"),
        );
        let question = Question::new(host.clone(), RecordType::A);
        let fake = Message::query(0, question.clone(), true);
        let id = self.new_trace(None, &fake, &question, now);
        if let Some(p) = self.tasks.get_mut(&parent) {
            p.waiting_for_child = true;
        }
        self.tasks.insert(
            id,
            Task {
                trace_id: id,
                client: None,
                client_query: None,
                question,
                sname: host,
                chain: Vec::new(),
                zone: Name::root(),
                candidates: Vec::new(),
                outstanding: None,
                queries: 0,
                started: now,
                parent: Some(parent),
                depth,
                waiting_for_child: false,
            },
        );
        self.advance(id, now);
    }

    fn note(&mut self, id: u64, now: Millis, text: String) {
        self.event_kind(id, now, TraceKind::Note, text);
    }

    fn cache_note(&mut self, id: u64, now: Millis, text: String) {
        self.event_kind(id, now, TraceKind::Cache, text);
    }

    fn event_kind(&mut self, id: u64, now: Millis, kind: TraceKind, text: String) {
        let trace = self.tasks.get(&id).map_or(id, |t| t.trace_id);
        self.push_event(
            trace,
            now,
            TraceEvent {
                n: None,
                kind,
                at_ms: 0,
                from: "local DNS server".into(),
                to: String::new(),
                role: "local".into(),
                zone: None,
                transport: String::new(),
                summary: text,
                hex: String::new(),
                rtt_ms: None,
            },
            None,
        );
    }

    /// Sends the task's query to its first untried candidate.
    fn send_next(&mut self, id: u64, via: Via, now: Millis) {
        let Some(task) = self.tasks.get(&id).cloned() else {
            return;
        };
        if task.queries >= self.config.max_queries {
            self.fail(id, "too many queries for one name", now);
            return;
        }
        let Some(candidate) = task.candidates.first().cloned() else {
            self.fail(
                id,
                &format!("no server of {} answered usefully", task.zone),
                now,
            );
            return;
        };
        let query_id = self.random_id();
        let mut query = Message::query(
            query_id,
            Question {
                name: task.sname.clone(),
                qtype: task.question.qtype,
                qclass: task.question.qclass,
            },
            false,
        );
        query.set_edns(Some(Edns::with_size(UPSTREAM_UDP_SIZE)));
        let message = query.to_bytes();
        let to = SocketAddr::new(candidate.addr, self.config.upstream_port);
        self.push_event(
            task.trace_id,
            now,
            TraceEvent {
                n: Some(0),
                kind: TraceKind::Query,
                at_ms: 0,
                from: "local DNS server".into(),
                to: format!("{} {}", candidate.name, to),
                role: role_of(&task.zone).into(),
                zone: Some(task.zone.to_string()),
                transport: via_text(via).into(),
                summary: String::new(),
                hex: String::new(),
                rtt_ms: None,
            },
            Some(&message),
        );
        if let Some(t) = self.trace_mut(task.trace_id) {
            t.upstream_queries += 1;
        }
        if let Some(t) = self.tasks.get_mut(&id) {
            t.queries += 1;
            t.outstanding = Some(Outstanding {
                query_id,
                to,
                via,
                sent: now,
                deadline: now.saturating_add(self.config.timeout_ms),
                server: candidate.name.clone(),
                message: message.clone(),
            });
        }
        self.outputs
            .push_back(ResolverOutput::Query { to, via, message });
    }

    /// A message from a server.
    pub fn handle_upstream(&mut self, from: SocketAddr, via: Via, message: &[u8], now: Millis) {
        let Ok(reply) = Message::parse(message) else {
            return;
        };
        let found = self.tasks.iter().find_map(|(id, t)| {
            let o = t.outstanding.as_ref()?;
            (o.to == from && o.query_id == reply.header.id && o.via == via && reply.header.qr)
                .then_some(*id)
        });
        // Anything else is a late, duplicate or forged reply: dropped.
        let Some(id) = found else {
            return;
        };
        let Some(task) = self.tasks.get(&id).cloned() else {
            return;
        };
        let Some(out) = task.outstanding.clone() else {
            return;
        };
        let asked = Question {
            name: task.sname.clone(),
            qtype: task.question.qtype,
            qclass: task.question.qclass,
        };
        if reply.questions.first() != Some(&asked) {
            return;
        }
        if let Some(t) = self.tasks.get_mut(&id) {
            t.outstanding = None;
        }
        let kind = classify(&asked, &reply);
        self.push_event(
            task.trace_id,
            now,
            TraceEvent {
                n: Some(0),
                kind: TraceKind::Reply,
                at_ms: 0,
                from: format!("{} {}", out.server, from),
                to: "local DNS server".into(),
                role: role_of(&task.zone).into(),
                zone: Some(task.zone.to_string()),
                transport: via_text(via).into(),
                summary: String::new(),
                hex: String::new(),
                rtt_ms: Some(now.0.saturating_sub(out.sent.0)),
            },
            Some(message),
        );
        let source = format!("{} ({})", out.server, from.ip());
        let zone = task.zone.clone();
        // Only data inside the zone we asked the server about is believed.
        let in_bailiwick = |r: &Record| r.name.is_subdomain_of(&zone);
        let rank = if reply.header.aa {
            Rank::Authoritative
        } else {
            Rank::Answer
        };
        match kind {
            ReplyKind::Truncated => {
                self.note(
                    id,
                    now,
                    format!(
                        "{} truncated its reply (TC): ask again over TCP",
                        out.server
                    ),
                );
                self.send_next(id, Via::Tcp, now);
            }
            ReplyKind::Answer { chain, records } => {
                let all: Vec<Record> = chain.iter().chain(&records).cloned().collect();
                let believed: Vec<Record> =
                    all.iter().filter(|r| in_bailiwick(r)).cloned().collect();
                if believed.len() < all.len() {
                    self.note(
                        id,
                        now,
                        "ignored records outside the server's zone (bailiwick rule)".into(),
                    );
                }
                self.cache.store_records(&believed, rank, &source, now);
                let mut answers = chain;
                answers.extend(records);
                self.finish(id, Rcode::NOERROR, answers, Vec::new(), now);
            }
            ReplyKind::Alias { chain, target } => {
                let believed: Vec<Record> =
                    chain.iter().filter(|r| in_bailiwick(r)).cloned().collect();
                self.cache.store_records(&believed, rank, &source, now);
                if let Some(t) = self.tasks.get_mut(&id) {
                    t.chain.extend(chain);
                    t.sname = target;
                    t.candidates.clear();
                }
                self.advance(id, now);
            }
            ReplyKind::Referral { zone: cut, servers } => {
                let deeper = cut.is_subdomain_of(&zone) && cut.label_count() > zone.label_count();
                if !deeper || !task.sname.is_subdomain_of(&cut) {
                    self.note(
                        id,
                        now,
                        format!("{} referred to {cut}, which is not below {zone}: a lame referral, try another server", out.server),
                    );
                    self.drop_candidate(id, now);
                    return;
                }
                let ns: Vec<Record> = reply
                    .authority
                    .iter()
                    .filter(|r| r.rtype == RecordType::NS && r.name == cut)
                    .cloned()
                    .collect();
                self.cache.store_records(&ns, Rank::Referral, &source, now);
                let glue: Vec<Record> = reply
                    .additional
                    .iter()
                    .filter(|r| matches!(r.rtype, RecordType::A | RecordType::AAAA))
                    .filter(|r| in_bailiwick(r))
                    .cloned()
                    .collect();
                self.cache.store_records(&glue, Rank::Glue, &source, now);
                let mut candidates = Vec::new();
                for s in &servers {
                    let Ok(name) = Name::parse(&s.name) else {
                        continue;
                    };
                    for addr in self.cache.addresses(&name, now) {
                        candidates.push(Candidate {
                            name: name.clone(),
                            addr,
                        });
                    }
                }
                if let Some(t) = self.tasks.get_mut(&id) {
                    t.zone = cut.clone();
                    t.candidates = candidates;
                }
                if self.tasks.get(&id).is_some_and(|t| t.candidates.is_empty()) {
                    // Glueless: look the first server's address up first.
                    let host = servers.first().and_then(|s| Name::parse(&s.name).ok());
                    match host {
                        Some(h) if task.depth < MAX_DEPTH => self.start_child(id, &cut, h, now),
                        _ => self.fail(id, "a referral without any usable server", now),
                    }
                    return;
                }
                self.send_next(id, Via::Udp, now);
            }
            ReplyKind::NxDomain { chain, soa } => {
                let believed: Vec<Record> =
                    chain.iter().filter(|r| in_bailiwick(r)).cloned().collect();
                self.cache.store_records(&believed, rank, &source, now);
                let soa = soa.filter(in_bailiwick);
                let last = chain
                    .last()
                    .and_then(|r| r.data.target_name().cloned())
                    .unwrap_or_else(|| task.sname.clone());
                self.cache
                    .store_negative(&last, None, soa.clone(), &source, now);
                let mut answers = task.chain.clone();
                answers.extend(chain);
                if let Some(t) = self.tasks.get_mut(&id) {
                    t.chain.clear();
                }
                self.finish(id, Rcode::NXDOMAIN, answers, soa.into_iter().collect(), now);
            }
            ReplyKind::NoData { chain, soa } => {
                let believed: Vec<Record> =
                    chain.iter().filter(|r| in_bailiwick(r)).cloned().collect();
                self.cache.store_records(&believed, rank, &source, now);
                let soa = soa.filter(in_bailiwick);
                let last = chain
                    .last()
                    .and_then(|r| r.data.target_name().cloned())
                    .unwrap_or_else(|| task.sname.clone());
                self.cache.store_negative(
                    &last,
                    Some(task.question.qtype),
                    soa.clone(),
                    &source,
                    now,
                );
                let mut answers = task.chain.clone();
                answers.extend(chain);
                if let Some(t) = self.tasks.get_mut(&id) {
                    t.chain.clear();
                }
                self.finish(id, Rcode::NOERROR, answers, soa.into_iter().collect(), now);
            }
            ReplyKind::Error { rcode, why } => {
                self.note(
                    id,
                    now,
                    format!(
                        "{} answered {rcode} ({why}): try another server",
                        out.server
                    ),
                );
                self.drop_candidate(id, now);
            }
        }
    }

    /// The current server failed: ask the next one.
    fn drop_candidate(&mut self, id: u64, now: Millis) {
        if let Some(t) = self.tasks.get_mut(&id) {
            t.outstanding = None;
            if !t.candidates.is_empty() {
                t.candidates.remove(0);
            }
        }
        if self.tasks.get(&id).is_some_and(|t| t.candidates.is_empty()) {
            let zone = self
                .tasks
                .get(&id)
                .map(|t| t.zone.to_string())
                .unwrap_or_default();
            self.fail(id, &format!("no server of {zone} answered usefully"), now);
            return;
        }
        self.send_next(id, Via::Udp, now);
    }

    /// Deadlines passed: servers that did not answer are skipped.
    pub fn handle_timeout(&mut self, now: Millis) {
        let expired: Vec<u64> = self
            .tasks
            .iter()
            .filter(|(_, t)| t.outstanding.as_ref().is_some_and(|o| o.deadline <= now))
            .map(|(id, _)| *id)
            .collect();
        for id in expired {
            let Some(task) = self.tasks.get(&id).cloned() else {
                continue;
            };
            let Some(o) = task.outstanding else {
                continue;
            };
            self.push_event(
                task.trace_id,
                now,
                TraceEvent {
                    n: None,
                    kind: TraceKind::Timeout,
                    at_ms: 0,
                    from: format!("{} {}", o.server, o.to),
                    to: "local DNS server".into(),
                    role: role_of(&task.zone).into(),
                    zone: Some(task.zone.to_string()),
                    transport: via_text(o.via).into(),
                    summary: format!(
                        "no reply from {} within {} ms",
                        o.server, self.config.timeout_ms
                    ),
                    hex: String::new(),
                    rtt_ms: Some(now.0.saturating_sub(o.sent.0)),
                },
                None,
            );
            let _ = &o.message;
            self.drop_candidate(id, now);
        }
    }

    /// A TCP connection to a server could not be made or broke.
    pub fn handle_upstream_failure(&mut self, to: SocketAddr, via: Via, why: &str, now: Millis) {
        let found: Vec<u64> = self
            .tasks
            .iter()
            .filter(|(_, t)| {
                t.outstanding
                    .as_ref()
                    .is_some_and(|o| o.to == to && o.via == via)
            })
            .map(|(id, _)| *id)
            .collect();
        for id in found {
            self.note(id, now, format!("{to} over {}: {why}", via_text(via)));
            self.drop_candidate(id, now);
        }
    }

    fn fail(&mut self, id: u64, why: &str, now: Millis) {
        self.note(id, now, format!("giving up: {why}"));
        self.finish(id, Rcode::SERVFAIL, Vec::new(), Vec::new(), now);
    }

    /// Ends a task: answers the client (or wakes the parent) and closes
    /// the trace.
    fn finish(
        &mut self,
        id: u64,
        rcode: Rcode,
        answers: Vec<Record>,
        authority: Vec<Record>,
        now: Millis,
    ) {
        let Some(task) = self.tasks.remove(&id) else {
            return;
        };
        let all_answers = without_repeats(task.chain.clone(), answers);
        let answer_text: Vec<String> = all_answers.iter().map(|r| r.to_text()).collect();
        if let (Some(client), Some(query)) = (task.client, &task.client_query) {
            let (message, _) = client_reply(query, client.via, rcode, all_answers, authority);
            self.push_event(
                task.trace_id,
                now,
                TraceEvent {
                    n: Some(0),
                    kind: TraceKind::ClientReply,
                    at_ms: 0,
                    from: "local DNS server".into(),
                    to: format!("{} (client)", client.addr),
                    role: "local".into(),
                    zone: None,
                    transport: via_text(client.via).into(),
                    summary: String::new(),
                    hex: String::new(),
                    rtt_ms: None,
                },
                Some(&message),
            );
            self.outputs.push_back(ResolverOutput::Reply {
                to: client,
                message,
            });
        }
        let elapsed = now.0.saturating_sub(task.started.0);
        let summary_line;
        if let Some(t) = self.trace_mut(task.trace_id) {
            t.finished = true;
            t.elapsed_ms = elapsed;
            t.rcode = rcode.to_string();
            t.answer = answer_text;
            summary_line = format!(
                "{} → {} in {} ms, {} upstream queries",
                t.question, t.rcode, elapsed, t.upstream_queries
            );
        } else {
            summary_line = String::new();
        }
        self.outputs.push_back(ResolverOutput::Finished {
            trace_id: task.trace_id,
            summary: summary_line,
        });
        if let Some(parent) = task.parent {
            // The child's answer (if any) is in the cache now; a parent whose
            // name server has no address after all asks the next level up.
            if let Some(p) = self.tasks.get_mut(&parent) {
                p.waiting_for_child = false;
                p.candidates.clear();
            }
            if rcode != Rcode::NOERROR || self.cache.addresses(&task.question.name, now).is_empty()
            {
                self.fail(
                    parent,
                    &format!("could not find the address of {}", task.question.name),
                    now,
                );
            } else {
                // Append the child's trace to the parent's as notes.
                self.note(
                    parent,
                    now,
                    format!("found the address of {}", task.question.name),
                );
                self.advance(parent, now);
            }
        }
    }

    /// The earliest retransmission deadline.
    fn next_deadline(&self) -> Option<Millis> {
        self.tasks
            .values()
            .filter_map(|t| t.outstanding.as_ref().map(|o| o.deadline))
            .min()
    }

    /// Drain after every `handle_*` until it returns `Wait`.
    pub fn poll_output(&mut self) -> ResolverOutput {
        self.outputs
            .pop_front()
            .unwrap_or_else(|| ResolverOutput::Wait(self.next_deadline()))
    }
}

/// `answers` after `chain`, leaving out any record already there.
fn without_repeats(mut chain: Vec<Record>, answers: Vec<Record>) -> Vec<Record> {
    for r in answers {
        if !chain.contains(&r) {
            chain.push(r);
        }
    }
    chain
}

/// The resolver's reply to a client's `query` at the end of a resolution,
/// in wire form (cut to the client's UDP size), and its answer section.
fn client_reply(
    query: &Message,
    via: Via,
    rcode: Rcode,
    answers: Vec<Record>,
    authority: Vec<Record>,
) -> (Vec<u8>, Vec<Record>) {
    let mut reply = Message::response_to(query);
    reply.header.ra = true;
    reply.set_rcode(rcode);
    reply.answers = answers;
    reply.authority = authority;
    if query.edns().is_some() {
        reply.set_edns(Some(Edns::with_size(UPSTREAM_UDP_SIZE)));
        reply.set_rcode(rcode);
    }
    let message = match via {
        Via::Udp => reply.to_bytes_within(udp_limit(query.edns().as_ref())),
        Via::Tcp => reply.to_bytes(),
    };
    (message, reply.answers)
}

fn via_text(via: Via) -> &'static str {
    match via {
        Via::Udp => "udp",
        Via::Tcp => "tcp",
    }
}

#[cfg(test)]
mod tests;
