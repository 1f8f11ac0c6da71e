//! The authoritative name server: answers queries from its zones, refers
//! below its zone cuts, answers NXDOMAIN and NODATA with the SOA, rotates
//! multi-address answers per reply (load distribution), and truncates UDP
//! replies to the requester's size with TC set. A CDN's server
//! ([`Authority::steering_to_nearest`]) answers a name with several
//! addresses by the one nearest to the client instead ([`super::nearest`]);
//! its engines are told who the client is ([`AuthoritativeUdp::for_client`]).
//!
//! [`Authority::answer`] is the whole logic, one query in, one reply out.
//! [`AuthoritativeUdp`] and [`AuthoritativeTcp`] wrap it in the
//! [`Engine`] contract: one datagram per engine over UDP, a stream of
//! length-prefixed messages over TCP. Both may hold a reply back for a
//! configured delay (the lab's simulated distance to the server), asking
//! the driver to wake them with `Wait(deadline)`.
//!
//! This is a serving path: replies come from the strict parser
//! ([`Message::parse`]) and no dissection is built (the page dissects its
//! own copy of the bytes). Over TCP the engine bounds a connection by
//! [`TcpLimits`]: a length prefix out of bounds, or a peer that keeps
//! sending while its replies wait, closes it; a driver that reads only
//! while [`AuthoritativeTcp::wants_input`] never meets the second.

use super::frame::{BadLength, TcpFramer, tcp_wrap};
use super::header::Header;
use super::message::{Edns, Message, Record};
use super::rdata::RData;
use super::types::{Class, Rcode, RecordType};
use super::zone::{Lookup, Zone};
use crate::engine::{Engine, Millis, Output};
use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The largest UDP reply this lab's servers send, whatever the client
/// announces (RFC 6891 §6.2.5 leaves the choice to the server).
pub const MAX_UDP_REPLY: usize = 4096;
/// The payload size the servers announce in their own OPT record.
pub const SERVER_UDP_SIZE: u16 = 1232;

/// What an authoritative server knows: its zones and who it is.
#[derive(Debug)]
pub struct Authority {
    /// The server's host name, as in its NS records (`dns.cs.umass.edu.`).
    pub identity: String,
    pub zones: Vec<Zone>,
    /// How many replies this server has sent: the rotation step.
    rotation: AtomicU64,
    /// A CDN's server: an address set is answered by its member nearest
    /// to the client, when the client is known, instead of rotated.
    nearest_replica: bool,
}

/// How a query arrived, which decides the size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Via {
    Udp,
    Tcp,
}

impl Authority {
    pub fn new(identity: impl Into<String>, zones: Vec<Zone>) -> Authority {
        Authority {
            identity: identity.into(),
            zones,
            rotation: AtomicU64::new(0),
            nearest_replica: false,
        }
    }

    /// The same server answering as a CDN's does: each client gets the one
    /// address of a set nearest to it ([`super::nearest::nearest_to`]).
    pub fn steering_to_nearest(mut self) -> Authority {
        self.nearest_replica = true;
        self
    }

    /// Whether this server picks the nearest address per client.
    pub fn steers_to_nearest(&self) -> bool {
        self.nearest_replica
    }

    /// The zone with the longest origin that encloses `name`.
    pub fn zone_for(&self, name: &super::Name) -> Option<&Zone> {
        self.zones
            .iter()
            .filter(|z| name.is_subdomain_of(&z.origin))
            .max_by_key(|z| z.origin.label_count())
    }

    /// Whether this server holds a zone for `name` (the resolver answers
    /// those itself).
    pub fn is_authoritative_for(&self, name: &super::Name) -> bool {
        self.zone_for(name).is_some()
    }

    /// The reply to one query, or `None` when no reply must be sent (an
    /// unreadable header, or a message that is itself a response).
    pub fn answer(&self, query: &[u8], via: Via) -> Option<Vec<u8>> {
        self.answer_to(query, via, None)
    }

    /// [`Authority::answer`] for a client whose address is known, which a
    /// CDN's server answers by.
    pub fn answer_to(&self, query: &[u8], via: Via, client: Option<IpAddr>) -> Option<Vec<u8>> {
        let header = Header::parse(query)?;
        if header.qr {
            // Answering responses would let two servers bounce forever.
            return None;
        }
        let (reply, edns) = match Message::parse(query) {
            Ok(parsed) => (self.answer_message_to(&parsed, client), parsed.edns()),
            // The OPT record of a message that does not parse is not
            // believed either: the classic 512 bytes.
            Err(_) => (error_reply(&header, Rcode::FORMERR), None),
        };
        Some(match via {
            Via::Tcp => reply.to_bytes(),
            Via::Udp => reply.to_bytes_within(udp_limit(edns.as_ref())),
        })
    }

    /// The reply to a parsed query, before any size limit.
    pub fn answer_message(&self, query: &Message) -> Message {
        self.answer_message_to(query, None)
    }

    /// [`Authority::answer_message`] for a client whose address is known.
    pub fn answer_message_to(&self, query: &Message, client: Option<IpAddr>) -> Message {
        let mut reply = Message::response_to(query);
        let edns = query.edns();
        if edns.is_some() {
            reply.set_edns(Some(Edns::with_size(SERVER_UDP_SIZE)));
        }
        if let Some(e) = &edns
            && e.version > 0
        {
            reply.set_rcode(Rcode::BADVERS);
            return reply;
        }
        if query.header.opcode != 0 {
            reply.set_rcode(Rcode::NOTIMP);
            return reply;
        }
        let [question] = query.questions.as_slice() else {
            reply.questions.clear();
            reply.set_rcode(Rcode::FORMERR);
            return reply;
        };
        if question.qclass == Class::CH && question.qtype == RecordType::TXT {
            return self.chaos(question, reply);
        }
        if question.qclass != Class::IN && question.qclass != Class::ANY {
            reply.set_rcode(Rcode::REFUSED);
            return reply;
        }
        if matches!(question.qtype, RecordType::AXFR | RecordType::IXFR) {
            // Zone transfers are for secondaries, which this lab has none of.
            reply.set_rcode(Rcode::REFUSED);
            return reply;
        }
        let Some(zone) = self.zone_for(&question.name) else {
            // Not our zone: RFC 8906 §3.1.1 says REFUSED, never a guess.
            reply.set_rcode(Rcode::REFUSED);
            return reply;
        };
        let choice = match client {
            Some(client) if self.nearest_replica => Choice::NearestTo(client),
            _ => Choice::Rotate(self.rotation.fetch_add(1, Ordering::Relaxed)),
        };
        self.fill(
            zone,
            question.name.clone(),
            question.qtype,
            &mut reply,
            choice,
        );
        reply
    }

    /// `id.server`, `hostname.bind` and `version.bind` in class CH: which
    /// server answered (RFC 4892).
    fn chaos(&self, question: &super::Question, mut reply: Message) -> Message {
        let name = question.name.to_string().to_ascii_lowercase();
        let text = match name.as_str() {
            "id.server." | "hostname.bind." => self.identity.clone(),
            "version.server." | "version.bind." => {
                format!("wirelab {}", env!("CARGO_PKG_VERSION"))
            }
            _ => {
                reply.set_rcode(Rcode::REFUSED);
                return reply;
            }
        };
        reply.header.aa = true;
        reply.answers.push(Record {
            name: question.name.clone(),
            rtype: RecordType::TXT,
            class: Class::CH,
            ttl: 0,
            data: RData::Txt(vec![text.into_bytes()]),
        });
        reply
    }

    fn fill(
        &self,
        zone: &Zone,
        qname: super::Name,
        qtype: RecordType,
        reply: &mut Message,
        choice: Choice,
    ) {
        match zone.lookup(&qname, qtype) {
            Lookup::Answer { chain, records } => {
                reply.header.aa = true;
                reply.answers.extend(chain.iter().cloned());
                // The alias may lead into another zone of this server.
                if records.is_empty()
                    && let Some(last) = chain.last().and_then(|c| c.data.target_name())
                    && let Some(other) = self.zone_for(last)
                    && other.origin != zone.origin
                {
                    let mut more = Message::default();
                    self.fill(other, last.clone(), qtype, &mut more, choice);
                    reply.answers.extend(more.answers);
                    reply.authority = more.authority;
                    reply.additional.extend(more.additional);
                    reply.header.rcode = more.header.rcode;
                    return;
                }
                let answers_apex_ns = qtype == RecordType::NS && qname == zone.origin;
                reply.answers.extend(match choice {
                    Choice::Rotate(step) => rotate(records, step),
                    Choice::NearestTo(client) => super::nearest::nearest_to(client, records),
                });
                // The zone's servers in authority, as classic servers do
                // (unless they are the answer), and the addresses of every
                // name mentioned, in additional.
                if !answers_apex_ns {
                    reply.authority = zone.rrset(&zone.origin, RecordType::NS);
                }
                let mut targets: Vec<super::Name> = reply
                    .answers
                    .iter()
                    .filter(|r| {
                        matches!(r.rtype, RecordType::MX | RecordType::NS | RecordType::SRV)
                    })
                    .chain(&reply.authority)
                    .filter_map(|r| r.data.target_name().cloned())
                    .collect();
                targets.dedup();
                add_addresses(self, &targets, reply);
            }
            Lookup::Referral { chain, ns, glue } => {
                // Not authoritative for what lies below the cut: AA stays
                // clear unless an alias was answered from our data first.
                reply.header.aa = !chain.is_empty();
                reply.answers.extend(chain);
                reply.authority = ns;
                reply.additional.extend(glue);
            }
            Lookup::NxDomain { chain, soa } => {
                reply.header.aa = true;
                reply.set_rcode(Rcode::NXDOMAIN);
                reply.answers.extend(chain);
                reply.authority.extend(soa);
            }
            Lookup::NoData { chain, soa } => {
                reply.header.aa = true;
                reply.answers.extend(chain);
                reply.authority.extend(soa);
            }
        }
    }
}

/// Which of an address set a reply gives.
#[derive(Debug, Clone, Copy)]
enum Choice {
    /// All of it, rotated by this step (round-robin).
    Rotate(u64),
    /// The one address nearest to this client (a CDN's answer).
    NearestTo(IpAddr),
}

/// The A and AAAA records this server holds for `names`, appended to the
/// additional section before the OPT record.
fn add_addresses(authority: &Authority, names: &[super::Name], reply: &mut Message) {
    let opt: Vec<Record> = reply
        .additional
        .iter()
        .filter(|r| r.rtype == RecordType::OPT)
        .cloned()
        .collect();
    reply.additional.retain(|r| r.rtype != RecordType::OPT);
    for name in names {
        if let Some(zone) = authority.zone_for(name) {
            for r in zone.addresses(name) {
                if !reply.additional.contains(&r) && !reply.answers.contains(&r) {
                    reply.additional.push(r);
                }
            }
        }
    }
    reply.additional.extend(opt);
}

/// Rotates address RRsets by `step` (round-robin load distribution, as
/// the course describes); other types keep the zone's order.
fn rotate(mut records: Vec<Record>, step: u64) -> Vec<Record> {
    let rotating = records.len() > 1
        && records
            .iter()
            .all(|r| matches!(r.rtype, RecordType::A | RecordType::AAAA));
    if rotating {
        let by = (step % records.len() as u64) as usize;
        records.rotate_left(by);
    }
    records
}

/// The UDP size a reply may use: 512 without EDNS, else the requester's
/// size within 512..=[`MAX_UDP_REPLY`].
pub fn udp_limit(query_edns: Option<&Edns>) -> usize {
    match query_edns {
        Some(e) => (e.udp_size as usize).clamp(512, MAX_UDP_REPLY),
        None => 512,
    }
}

/// A reply carrying only an error code, for a query that could not be read.
fn error_reply(header: &Header, rcode: Rcode) -> Message {
    let mut m = Message {
        header: Header {
            id: header.id,
            qr: true,
            opcode: header.opcode,
            rd: header.rd,
            ..Header::default()
        },
        ..Message::default()
    };
    m.set_rcode(rcode);
    m
}

/// What the authoritative engines report to their driver (for its logs:
/// cheap to build, as every query makes one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerEvent {
    /// A query answered: its ID, the reply's RCODE and size.
    Answered { id: u16, rcode: Rcode, bytes: usize },
    /// A message that got no reply (a response, or unreadable).
    Dropped { bytes: usize },
    /// TCP: a length prefix over [`TcpLimits::max_message`], or too short
    /// for a header; the connection closes.
    BadLength(BadLength),
    /// TCP: the peer kept sending while [`TcpLimits::max_in_flight`]
    /// replies waited; the connection closes.
    TooManyQueries { buffered: usize },
}

fn answered(reply: &[u8]) -> ServerEvent {
    let header = Header::parse(reply).unwrap_or_default();
    ServerEvent::Answered {
        id: header.id,
        rcode: header.rcode(),
        bytes: reply.len(),
    }
}

/// A reply waiting for its simulated delay.
#[derive(Debug)]
struct Pending {
    at: Millis,
    bytes: Vec<u8>,
}

/// The UDP engine: one per datagram (the relay's UDP driver makes a new
/// one for each), replying once, after `delay_ms` if set.
#[derive(Debug)]
pub struct AuthoritativeUdp {
    authority: Arc<Authority>,
    delay_ms: u64,
    /// Who sent the queries, when the driver says (a CDN answers by it).
    client: Option<IpAddr>,
    pending: VecDeque<Pending>,
    outputs: VecDeque<Output<ServerEvent>>,
}

impl AuthoritativeUdp {
    pub fn new(authority: Arc<Authority>, delay_ms: u64) -> Self {
        AuthoritativeUdp {
            authority,
            delay_ms,
            client: None,
            pending: VecDeque::new(),
            outputs: VecDeque::new(),
        }
    }

    /// The engine for queries from `client`; a CDN's server answers by it.
    pub fn for_client(mut self, client: IpAddr) -> Self {
        self.client = Some(client);
        self
    }

    fn release(&mut self, now: Millis) {
        while self.pending.front().is_some_and(|p| p.at <= now) {
            if let Some(p) = self.pending.pop_front() {
                self.outputs.push_back(Output::Transmit(p.bytes));
            }
        }
    }
}

impl Engine for AuthoritativeUdp {
    type Event = ServerEvent;

    fn handle_input(&mut self, datagram: &[u8], now: Millis) {
        match self.authority.answer_to(datagram, Via::Udp, self.client) {
            Some(reply) => {
                self.outputs.push_back(Output::Event(answered(&reply)));
                self.pending.push_back(Pending {
                    at: now.saturating_add(self.delay_ms),
                    bytes: reply,
                });
                self.release(now);
            }
            None => self.outputs.push_back(Output::Event(ServerEvent::Dropped {
                bytes: datagram.len(),
            })),
        }
    }

    fn handle_eof(&mut self, _now: Millis) {}

    fn handle_timeout(&mut self, now: Millis) {
        self.release(now);
    }

    fn poll_output(&mut self) -> Output<ServerEvent> {
        self.outputs
            .pop_front()
            .unwrap_or(Output::Wait(self.pending.front().map(|p| p.at)))
    }
}

/// How much one TCP connection may ask of an [`AuthoritativeTcp`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpLimits {
    /// The longest query accepted, checked on its length prefix.
    pub max_message: usize,
    /// Replies waiting (held back, or not yet taken by the driver) before
    /// the engine stops taking queries from its buffer.
    pub max_in_flight: usize,
}

impl Default for TcpLimits {
    fn default() -> Self {
        TcpLimits {
            max_message: u16::MAX as usize,
            max_in_flight: 64,
        }
    }
}

/// Bytes a driver may push past a whole query while the engine is at its
/// cap (one read's worth); more and the peer is closed, not buffered.
const BUFFER_SLACK: usize = 64 * 1024;

/// Where a TCP connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TcpState {
    Open,
    /// The peer is done sending: answer what is buffered, then close.
    Draining,
    /// A limit was broken: the queued event, then close.
    Failing,
    Closed,
}

/// The TCP engine for one connection: length-prefixed queries in, replies
/// out in the same order, the connection kept open for more (RFC 7766 §6.2).
/// Queries are taken from the buffer while fewer than
/// [`TcpLimits::max_in_flight`] replies wait; the rest wait in the buffer,
/// and [`AuthoritativeTcp::wants_input`] tells the driver to stop reading.
#[derive(Debug)]
pub struct AuthoritativeTcp {
    inner: AuthoritativeUdp,
    framer: TcpFramer,
    limits: TcpLimits,
    /// Replies made and not yet handed to the driver.
    in_flight: usize,
    /// The time of the latest input: queries taken from the buffer later
    /// (as replies leave) arrived then.
    last_input: Millis,
    state: TcpState,
}

impl AuthoritativeTcp {
    pub fn new(authority: Arc<Authority>, delay_ms: u64) -> Self {
        Self::with_limits(authority, delay_ms, TcpLimits::default())
    }

    pub fn with_limits(authority: Arc<Authority>, delay_ms: u64, limits: TcpLimits) -> Self {
        AuthoritativeTcp {
            inner: AuthoritativeUdp::new(authority, delay_ms),
            framer: TcpFramer::with_max_message(limits.max_message),
            limits,
            in_flight: 0,
            last_input: Millis(0),
            state: TcpState::Open,
        }
    }

    /// The engine for a connection from `client`; a CDN's server answers
    /// by it.
    pub fn for_client(mut self, client: IpAddr) -> Self {
        self.inner.client = Some(client);
        self
    }

    /// Whether the driver should read more: the connection is open, the
    /// buffer holds no whole query, and replies are below the cap.
    pub fn wants_input(&self) -> bool {
        self.state == TcpState::Open
            && self.in_flight < self.limits.max_in_flight
            && !self.framer.has_message()
    }

    /// Replies made and not yet taken by the driver.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// Answers buffered queries while replies are below the cap.
    fn take_queries(&mut self, now: Millis) {
        if !matches!(self.state, TcpState::Open | TcpState::Draining) {
            return;
        }
        while self.in_flight < self.limits.max_in_flight {
            let message = match self.framer.try_next_message() {
                Ok(Some(message)) => message,
                Ok(None) => break,
                Err(bad) => return self.fail(ServerEvent::BadLength(bad)),
            };
            match self
                .inner
                .authority
                .answer_to(&message, Via::Tcp, self.inner.client)
            {
                Some(reply) => {
                    self.inner
                        .outputs
                        .push_back(Output::Event(answered(&reply)));
                    self.inner.pending.push_back(Pending {
                        at: now.saturating_add(self.inner.delay_ms),
                        bytes: tcp_wrap(&reply),
                    });
                    self.in_flight += 1;
                }
                None => self
                    .inner
                    .outputs
                    .push_back(Output::Event(ServerEvent::Dropped {
                        bytes: message.len(),
                    })),
            }
        }
        self.inner.release(now);
    }

    /// Ends the connection for a broken limit: nothing more is sent but the
    /// event, then `Close`.
    fn fail(&mut self, event: ServerEvent) {
        self.inner.pending.clear();
        self.inner.outputs.clear();
        self.inner.outputs.push_back(Output::Event(event));
        self.in_flight = 0;
        self.state = TcpState::Failing;
    }
}

impl Engine for AuthoritativeTcp {
    type Event = ServerEvent;

    fn handle_input(&mut self, bytes: &[u8], now: Millis) {
        if !matches!(self.state, TcpState::Open) {
            return;
        }
        self.last_input = now;
        self.framer.push(bytes);
        self.take_queries(now);
        let bound = self.limits.max_message + 2 + BUFFER_SLACK;
        if self.state == TcpState::Open && self.framer.pending() > bound {
            // The driver does not hold back, and the peer does not read.
            self.fail(ServerEvent::TooManyQueries {
                buffered: self.framer.pending(),
            });
        }
    }

    fn handle_eof(&mut self, _now: Millis) {
        // Replies still waiting go out first; then the server closes too.
        if self.state == TcpState::Open {
            self.state = TcpState::Draining;
        }
    }

    fn handle_timeout(&mut self, now: Millis) {
        self.inner.release(now);
    }

    fn poll_output(&mut self) -> Output<ServerEvent> {
        if self.inner.outputs.is_empty() {
            self.take_queries(self.last_input);
        }
        if let Some(output) = self.inner.outputs.pop_front() {
            if matches!(output, Output::Transmit(_)) {
                self.in_flight = self.in_flight.saturating_sub(1);
            }
            return output;
        }
        let waiting = self.inner.pending.front().map(|p| p.at);
        match self.state {
            TcpState::Failing => {
                self.state = TcpState::Closed;
                Output::Close
            }
            TcpState::Draining if waiting.is_none() && !self.framer.has_message() => {
                self.state = TcpState::Closed;
                Output::Close
            }
            _ => Output::Wait(waiting),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::message::Question;
    use crate::dns::name::Name;
    use crate::dns::zone::parse_zone;
    use crate::engine::drain;

    const ZONE: &str = "$ORIGIN ibm.com.\n$TTL 300\n@ SOA dns.ibm.com. hostmaster.ibm.com. 1 3600 600 86400 60\n@ NS dns\ndns A 127.0.0.41\nwww CNAME servereast.backup2\nservereast.backup2 A 129.42.38.10\nservereast.backup2 A 129.42.38.11\nservereast.backup2 A 129.42.38.12\nlab NS ns.lab\nns.lab A 127.0.0.99\n";

    fn authority() -> Arc<Authority> {
        let parsed = parse_zone(ZONE, None);
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        Arc::new(Authority::new("dns.ibm.com.", vec![parsed.zone]))
    }

    fn ask(a: &Authority, name: &str, qtype: RecordType) -> Message {
        let q = Message::query(7, Question::new(Name::parse(name).unwrap(), qtype), false);
        Message::parse(&a.answer(&q.to_bytes(), Via::Udp).unwrap()).unwrap()
    }

    #[test]
    fn cname_chased_and_addresses_rotate() {
        let a = authority();
        let first = ask(&a, "www.ibm.com", RecordType::A);
        assert!(first.header.aa);
        assert_eq!(first.answers.len(), 4);
        assert_eq!(first.answers[0].rtype, RecordType::CNAME);
        let second = ask(&a, "www.ibm.com", RecordType::A);
        assert_ne!(first.answers[1], second.answers[1]);
        assert_eq!(first.answers[2], second.answers[1]);
        // The zone's NS in authority, its address in additional.
        assert_eq!(first.authority[0].data.to_text(), "dns.ibm.com.");
        assert_eq!(first.additional[0].data.to_text(), "127.0.0.41");
    }

    #[test]
    fn referral_negative_and_refused() {
        let a = authority();
        let r = ask(&a, "host.lab.ibm.com", RecordType::A);
        assert!(!r.header.aa);
        assert!(r.answers.is_empty());
        assert_eq!(r.authority[0].rtype, RecordType::NS);
        assert_eq!(r.additional[0].data.to_text(), "127.0.0.99");
        let r = ask(&a, "nobody.ibm.com", RecordType::A);
        assert_eq!(r.rcode(), Rcode::NXDOMAIN);
        assert_eq!(r.authority[0].rtype, RecordType::SOA);
        assert_eq!(r.authority[0].ttl, 60);
        let r = ask(&a, "dns.ibm.com", RecordType::MX);
        assert_eq!(r.rcode(), Rcode::NOERROR);
        assert!(r.answers.is_empty() && r.authority[0].rtype == RecordType::SOA);
        let r = ask(&a, "gaia.cs.umass.edu", RecordType::A);
        assert_eq!(r.rcode(), Rcode::REFUSED);
        let r = ask(&a, "id.server", RecordType::TXT);
        // Class IN id.server is not ours.
        assert_eq!(r.rcode(), Rcode::REFUSED);
    }

    #[test]
    fn malformed_and_responses() {
        let a = authority();
        let r = a
            .answer(&[0xAB, 0xCD, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5], Via::Udp)
            .unwrap();
        let r = Message::parse(&r).unwrap();
        assert_eq!(r.header.id, 0xABCD);
        assert_eq!(r.rcode(), Rcode::FORMERR);
        assert!(a.answer(&[0; 5], Via::Udp).is_none());
        let mut resp = Message::query(1, Question::new(Name::root(), RecordType::NS), false);
        resp.header.qr = true;
        assert!(a.answer(&resp.to_bytes(), Via::Udp).is_none());
    }

    #[test]
    fn engines_delay_and_frame() {
        let a = authority();
        let q = Message::query(
            9,
            Question::new(Name::parse("dns.ibm.com").unwrap(), RecordType::A),
            false,
        );
        let mut udp = AuthoritativeUdp::new(a.clone(), 30);
        udp.handle_input(&q.to_bytes(), Millis(100));
        let out = drain(&mut udp);
        assert!(out.transmitted.is_empty());
        assert_eq!(out.deadline, Some(Millis(130)));
        udp.handle_timeout(Millis(130));
        let out = drain(&mut udp);
        assert_eq!(out.transmitted.len(), 1);
        assert_eq!(out.deadline, None);

        let mut tcp = AuthoritativeTcp::new(a, 0);
        let framed = tcp_wrap(&q.to_bytes());
        tcp.handle_input(&framed[..3], Millis(0));
        assert!(drain(&mut tcp).transmitted.is_empty());
        tcp.handle_input(&framed[3..], Millis(0));
        let out = drain(&mut tcp);
        let reply = &out.transmitted[0];
        assert_eq!(
            u16::from_be_bytes([reply[0], reply[1]]) as usize,
            reply.len() - 2
        );
        tcp.handle_eof(Millis(1));
        assert!(drain(&mut tcp).close);
    }

    fn gaia_query(id: u16) -> Vec<u8> {
        let q = Message::query(
            id,
            Question::new(Name::parse("dns.ibm.com").unwrap(), RecordType::A),
            false,
        );
        tcp_wrap(&q.to_bytes())
    }

    #[test]
    fn pipelined_queries_wait_in_the_buffer_at_the_cap() {
        let limits = TcpLimits {
            max_message: 512,
            max_in_flight: 4,
        };
        let mut tcp = AuthoritativeTcp::with_limits(authority(), 10, limits);
        let burst: Vec<u8> = (0..100).flat_map(gaia_query).collect();
        tcp.handle_input(&burst, Millis(0));
        assert!(!tcp.wants_input(), "four replies wait: read no more");
        let mut ids = Vec::new();
        let mut out = drain(&mut tcp);
        while let Some(at) = out.deadline {
            assert!(tcp.in_flight() <= 4);
            assert!(out.transmitted.len() <= 4);
            tcp.handle_timeout(at);
            out = drain(&mut tcp);
            for reply in &out.transmitted {
                ids.push(Message::parse(&reply[2..]).unwrap().header.id);
            }
        }
        assert_eq!(
            ids,
            (0..100).collect::<Vec<u16>>(),
            "all answered, in order"
        );
        assert!(tcp.wants_input());
        tcp.handle_eof(Millis(50));
        assert!(drain(&mut tcp).close);
    }

    #[test]
    fn an_oversized_prefix_closes_at_once() {
        let limits = TcpLimits {
            max_message: 512,
            max_in_flight: 4,
        };
        let mut tcp = AuthoritativeTcp::with_limits(authority(), 0, limits);
        let mut input = gaia_query(1);
        input.extend_from_slice(&[0xFF, 0xFF, 0]);
        tcp.handle_input(&input, Millis(0));
        let out = drain(&mut tcp);
        assert!(out.close);
        assert!(out.transmitted.is_empty(), "nothing more is sent");
        assert_eq!(
            out.events.last(),
            Some(&ServerEvent::BadLength(BadLength {
                announced: 0xFFFF,
                min: 12,
                max: 512
            }))
        );
        tcp.handle_input(&gaia_query(2), Millis(1));
        assert!(drain(&mut tcp).transmitted.is_empty());
    }

    #[test]
    fn a_driver_that_keeps_pushing_at_the_cap_gets_a_close() {
        let limits = TcpLimits {
            max_message: 512,
            max_in_flight: 2,
        };
        let mut tcp = AuthoritativeTcp::with_limits(authority(), 1_000, limits);
        let burst: Vec<u8> = (0..200).flat_map(gaia_query).collect();
        let mut closed = false;
        for _ in 0..100 {
            tcp.handle_input(&burst, Millis(0));
            let out = drain(&mut tcp);
            if out.close {
                assert!(matches!(
                    out.events.last(),
                    Some(ServerEvent::TooManyQueries { .. })
                ));
                closed = true;
                break;
            }
        }
        assert!(closed, "the buffer is bounded");
    }
}
