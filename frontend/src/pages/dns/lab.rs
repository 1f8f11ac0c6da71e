//! The DNS workbench's state: every query sent (to which server, over which
//! transport), what came back, the iterative resolution the student builds
//! by hand from those queries (a shared [`Walk`]), and the resolver's trace
//! of the last recursive query.
//!
//! A plain-Rust reducer (`yew::Reducible`) that holds all the page's
//! state: the page dispatches [`LabAction`]s from its buttons, its links to
//! the servers and its fetches; the rules are unit-tested natively. Each
//! query is one [`Exchange`] with its own link, as dig opens one socket
//! per query. The query builder's state and actions are in
//! [`form`](super::form).

use super::builder::Draft;
use super::form::{CacheState, FormAction, Mode, RESOLVER, Selected, first_spec};
use crate::follow::Item;
use crate::session::{Direction, Entry, EventKind};
use std::rc::Rc;
use wirelab_shared::conversation::{Conversation, Message};
use wirelab_shared::dns::conversation::DnsConversation;
use wirelab_shared::dns::frame::{TcpFrame, next_tcp_message};
use wirelab_shared::dns::header::{FLAG_BITS, Header};
use wirelab_shared::dns::message::Message as DnsMessage;
use wirelab_shared::dns::name::Name;
use wirelab_shared::dns::query::QueryTransport;
use wirelab_shared::dns::resolver::Trace;
use wirelab_shared::dns::walk::{NextHop, Walk};
use wirelab_shared::relay_protocol::{ClosedBy, RelayMessage, Transport};
use yew::Reducible;

/// Where a query stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    /// The link to the server is being set up.
    Connecting,
    /// Sent; no reply yet.
    Waiting,
    Answered,
    Failed(String),
}

/// Why a query was sent, which decides where its reply is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A step of the iterative resolution by hand.
    Step,
    /// A recursive query to the local resolver: its trace is fetched.
    Recursive,
    /// Anything else (a query to the resolver without RD).
    Plain,
}

/// One query and its reply.
#[derive(Debug, Clone, PartialEq)]
pub struct Exchange {
    pub id: usize,
    /// The catalog target (`dns-root`, `dns-root-tcp`).
    pub target: String,
    pub transport: Transport,
    pub purpose: Purpose,
    /// The DNS message sent (without the TCP prefix).
    pub query: Vec<u8>,
    /// Page clock when Send was pressed.
    pub sent_ms: f64,
    /// From the relay's `connected`.
    pub peer: Option<String>,
    pub local: Option<String>,
    /// Everything received: one datagram, or the TCP stream.
    pub received: Vec<u8>,
    /// The reply (the DNS message without the TCP prefix).
    pub reply: Option<Vec<u8>>,
    pub replied_ms: Option<f64>,
    /// The relay's stamps (microseconds on its one clock): when the query
    /// met the server's socket, and when the first byte of the reply came
    /// off it. With both, the round trip is the network's alone, without
    /// the page's WebSocket to the relay.
    pub wire_sent_us: Option<u64>,
    pub wire_reply_us: Option<u64>,
    pub status: Status,
    /// The index of its step in the walk, for steps.
    pub step: Option<usize>,
}

impl Exchange {
    pub fn query_transport(&self) -> QueryTransport {
        match self.transport {
            Transport::Udp => QueryTransport::Udp,
            Transport::Tcp => QueryTransport::Tcp,
        }
    }

    pub fn is_active(&self) -> bool {
        matches!(self.status, Status::Connecting | Status::Waiting)
    }

    /// The query's ID, as the resolver's trace knows it.
    pub fn query_id(&self) -> Option<u16> {
        Header::id_of(&self.query)
    }

    /// The port the relay sent from (the resolver sees the query come
    /// from there).
    pub fn local_port(&self) -> Option<u16> {
        self.local.as_deref()?.rsplit(':').next()?.parse().ok()
    }

    /// Round trip of the query: between the relay's stamps where it has
    /// them (what the wire saw), otherwise from the query's leaving to the
    /// reply on the page's clock (the in-browser servers).
    pub fn rtt_ms(&self) -> Option<f64> {
        self.replied_ms?;
        match (self.wire_sent_us, self.wire_reply_us) {
            (Some(sent), Some(reply)) => Some(reply.saturating_sub(sent) as f64 / 1000.0),
            _ => Some(self.replied_ms? - self.sent_ms),
        }
    }
}

/// The resolver's trace of a recursive query.
#[derive(Debug, Clone, PartialEq)]
pub enum TraceState {
    Loading,
    Loaded(Rc<Trace>),
    Missing(String),
}

/// What the student sees of the recursive mode: which query, and its trace.
#[derive(Debug, Clone, PartialEq)]
pub struct Recursive {
    pub exchange: usize,
    pub trace: TraceState,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DnsLab {
    pub exchanges: Vec<Exchange>,
    pub walk: Option<Walk>,
    pub recursive: Option<Recursive>,
    /// Page clock of the first query: transcript times count from it.
    epoch: Option<f64>,
    /// The query being built.
    pub draft: Draft,
    /// The catalog name of the server chosen (without `-tcp`).
    pub server: String,
    pub transport: Transport,
    pub mode: Mode,
    /// What the inspector shows instead of the draft.
    pub selected: Option<Selected>,
    /// The referral being followed: the zone the next query's server
    /// serves, for the walk.
    pub prepared: Option<NextHop>,
    /// The one-liner's `@server` names no server of the catalog.
    pub server_note: Option<String>,
    pub cache: CacheState,
    /// Whether what the last reply means is on screen (a mode change
    /// takes it away).
    pub(super) outcome_shown: bool,
}

impl Default for DnsLab {
    fn default() -> Self {
        DnsLab::new(0)
    }
}

/// What can happen.
#[derive(Debug, Clone, PartialEq)]
pub enum LabAction {
    /// The student sent `query` to `target`; `zone` is what a referral
    /// said the server serves, when the query follows one.
    Send {
        target: String,
        transport: Transport,
        purpose: Purpose,
        query: Vec<u8>,
        zone: Option<Name>,
        at: f64,
    },
    Relay {
        exchange: usize,
        message: RelayMessage,
        at: f64,
    },
    Data {
        exchange: usize,
        bytes: Vec<u8>,
        at: f64,
    },
    SocketClosed {
        exchange: usize,
        code: u16,
        reason: String,
    },
    /// No reply in time.
    TimedOut { exchange: usize, seconds: u32 },
    Trace {
        exchange: usize,
        trace: Result<Trace, String>,
    },
    /// Send the draft to `target` (the chosen server's catalog entry):
    /// why it is sent and which zone it asks follow from the form.
    SendDraft { target: String, at: f64 },
    /// Forget the walk (the next query starts a new one), by hand again.
    NewWalk,
    /// Forget every query, the walk and the trace; the form stays.
    Clear,
    /// The query builder and the panes around it.
    Form(FormAction),
}

/// Which exchange, and which of its two messages, a transcript message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageRef {
    pub exchange: usize,
    pub reply: bool,
}

impl DnsLab {
    /// The page at its start: the course's example with ID `id`, to the
    /// root, by hand.
    pub fn new(id: u16) -> DnsLab {
        DnsLab {
            exchanges: Vec::new(),
            walk: None,
            recursive: None,
            epoch: None,
            draft: Draft::new(first_spec(id)),
            server: super::form::ROOT.into(),
            transport: Transport::Udp,
            mode: Mode::Iterative,
            selected: None,
            prepared: None,
            server_note: None,
            cache: CacheState::default(),
            outcome_shown: false,
        }
    }

    /// The last query, when what its reply means is to be shown.
    pub fn outcome(&self) -> Option<&Exchange> {
        self.last().filter(|_| self.outcome_shown)
    }

    /// Why the draft would be sent to the chosen server: a step by hand,
    /// or a query to the resolver with RD on or off.
    pub fn purpose(&self) -> Purpose {
        let rd = self.draft.flags().is_some_and(|f| FLAG_BITS[4].get(f) == 1);
        match (self.server == RESOLVER, rd) {
            (true, true) => Purpose::Recursive,
            (true, false) => Purpose::Plain,
            (false, _) => Purpose::Step,
        }
    }

    pub fn exchange(&self, id: usize) -> Option<&Exchange> {
        self.exchanges.iter().find(|e| e.id == id)
    }

    fn exchange_mut(&mut self, id: usize) -> Option<&mut Exchange> {
        self.exchanges.iter_mut().find(|e| e.id == id)
    }

    /// The query still waiting for its reply, if any.
    pub fn active(&self) -> Option<&Exchange> {
        self.exchanges.iter().rev().find(|e| e.is_active())
    }

    /// The id the next exchange gets.
    pub fn next_id(&self) -> usize {
        self.exchanges.last().map_or(0, |e| e.id + 1)
    }

    pub fn last(&self) -> Option<&Exchange> {
        self.exchanges.last()
    }

    pub fn apply(&mut self, action: LabAction) {
        match action {
            LabAction::Send {
                target,
                transport,
                purpose,
                query,
                zone,
                at,
            } => {
                self.epoch.get_or_insert(at);
                let id = self.next_id();
                let mut step = None;
                if purpose == Purpose::Step {
                    if let Ok(m) = DnsMessage::parse(&query)
                        && let Some(q) = m.questions.first()
                    {
                        let continues = self.walk.as_ref().is_some_and(|w| w.continues_with(q));
                        if !continues {
                            // The host's query (message 1) has the host's
                            // own ID, not the one of your first query.
                            self.walk = Some(Walk::new(q.clone(), m.header.id.rotate_left(8)));
                        }
                    }
                    if let Some(walk) = self.walk.as_mut() {
                        walk.asked(&target, zone, query.clone(), at);
                        step = Some(walk.steps.len() - 1);
                    }
                }
                match purpose {
                    Purpose::Recursive => {
                        self.recursive = Some(Recursive {
                            exchange: id,
                            trace: TraceState::Loading,
                        })
                    }
                    Purpose::Plain => {
                        self.recursive = Some(Recursive {
                            exchange: id,
                            trace: TraceState::Missing(
                                "RD was off, so the local server did not resolve anything: it \
                                 answered from its cache alone, or referred you to the closest \
                                 servers it knows"
                                    .into(),
                            ),
                        })
                    }
                    Purpose::Step => {}
                }
                self.exchanges.push(Exchange {
                    id,
                    target,
                    transport,
                    purpose,
                    query,
                    sent_ms: at,
                    peer: None,
                    local: None,
                    received: Vec::new(),
                    reply: None,
                    replied_ms: None,
                    wire_sent_us: None,
                    wire_reply_us: None,
                    status: Status::Connecting,
                    step,
                });
            }
            LabAction::Relay {
                exchange,
                message,
                at,
            } => match message {
                RelayMessage::Connected { peer, local, .. } => {
                    let Some(e) = self.exchange_mut(exchange) else {
                        return;
                    };
                    if e.status != Status::Connecting {
                        return;
                    }
                    // The query leaves now: the round trip counts from here,
                    // not from the set-up of the flow through the relay.
                    e.peer = Some(peer);
                    e.local = Some(local);
                    e.status = Status::Waiting;
                    e.sent_ms = at;
                    if let Some(step) = e.step
                        && let Some(walk) = self.walk.as_mut()
                        && let Some(s) = walk.steps.get_mut(step)
                    {
                        s.sent_ms = at;
                    }
                }
                RelayMessage::Error { message, .. } => self.fail(exchange, message),
                RelayMessage::Closed { by, reason, .. } => {
                    let who = match by {
                        ClosedBy::Peer => "the server closed the connection",
                        ClosedBy::Relay => "the relay closed the connection",
                    };
                    self.fail(exchange, format!("{who} before replying: {reason}"));
                }
                RelayMessage::Sent { at_us, .. } => {
                    if let Some(e) = self.exchange_mut(exchange)
                        && e.wire_sent_us.is_none()
                    {
                        e.wire_sent_us = Some(at_us);
                    }
                }
                RelayMessage::Data { at_us, .. } => {
                    if let Some(e) = self.exchange_mut(exchange)
                        && e.wire_sent_us.is_some()
                        && e.wire_reply_us.is_none()
                    {
                        e.wire_reply_us = Some(at_us);
                    }
                }
                RelayMessage::Listening { .. } => {}
            },
            LabAction::Data {
                exchange,
                bytes,
                at,
            } => self.received(exchange, &bytes, at),
            LabAction::SocketClosed {
                exchange,
                code,
                reason,
            } => {
                let why = if reason.is_empty() {
                    format!("the connection to the relay ended (WebSocket close code {code})")
                } else {
                    format!("the connection to the relay ended: {reason}")
                };
                self.fail(exchange, why);
            }
            LabAction::TimedOut { exchange, seconds } => {
                let udp = self
                    .exchange(exchange)
                    .is_some_and(|e| e.transport == Transport::Udp);
                let why = if udp {
                    format!(
                        "no reply in {seconds} s: over UDP a lost query or reply is not \
                         resent by anyone but the client (send again)"
                    )
                } else {
                    format!("no reply in {seconds} s")
                };
                self.fail(exchange, why);
            }
            LabAction::Trace { exchange, trace } => {
                if let Some(r) = self.recursive.as_mut()
                    && r.exchange == exchange
                {
                    r.trace = match trace {
                        Ok(t) => TraceState::Loaded(Rc::new(t)),
                        Err(why) => TraceState::Missing(why),
                    };
                }
            }
            LabAction::SendDraft { target, at } => self.send_draft(target, at),
            LabAction::NewWalk => {
                self.walk = None;
                self.set_mode(Mode::Iterative, false);
            }
            LabAction::Clear => {
                self.exchanges.clear();
                self.walk = None;
                self.recursive = None;
                self.epoch = None;
                self.selected = None;
                self.prepared = None;
                self.outcome_shown = false;
            }
            LabAction::Form(action) => self.apply_form(action),
        }
    }

    /// Sends the draft: nothing while a query is out or the draft is empty.
    fn send_draft(&mut self, target: String, at: f64) {
        if self.active().is_some() || self.draft.bytes.is_empty() {
            return;
        }
        let purpose = self.purpose();
        let zone = self
            .prepared
            .as_ref()
            .filter(|hop| hop.server.as_deref() == Some(self.server.as_str()))
            .map(|hop| hop.zone.clone());
        self.selected = None;
        self.outcome_shown = true;
        self.mode = match purpose {
            Purpose::Step => Mode::Iterative,
            Purpose::Recursive | Purpose::Plain => Mode::Recursive,
        };
        self.apply(LabAction::Send {
            target,
            transport: self.transport,
            purpose,
            query: self.draft.bytes.clone(),
            zone,
            at,
        });
    }

    fn fail(&mut self, exchange: usize, why: String) {
        let Some(e) = self.exchange_mut(exchange) else {
            return;
        };
        if !e.is_active() {
            return;
        }
        e.status = Status::Failed(why.clone());
        if let Some(step) = e.step
            && let Some(walk) = self.walk.as_mut()
            && walk.steps.len() == step + 1
        {
            walk.failed(why.clone());
        }
        if let Some(r) = self.recursive.as_mut()
            && r.exchange == exchange
        {
            r.trace = TraceState::Missing(format!("no reply from the resolver: {why}"));
        }
    }

    fn received(&mut self, exchange: usize, bytes: &[u8], at: f64) {
        let Some(e) = self.exchange_mut(exchange) else {
            return;
        };
        if e.reply.is_some() {
            // One reply per query: anything after it is not ours to show.
            return;
        }
        e.received.extend_from_slice(bytes);
        let reply = match e.transport {
            Transport::Udp => Some(bytes.to_vec()),
            Transport::Tcp => match next_tcp_message(&e.received) {
                TcpFrame::Complete { message, .. } => Some(message.slice(&e.received).to_vec()),
                TcpFrame::Partial { .. } => None,
            },
        };
        let Some(reply) = reply else {
            return;
        };
        e.reply = Some(reply.clone());
        e.replied_ms = Some(at);
        e.status = Status::Answered;
        if let Some(step) = e.step
            && let Some(walk) = self.walk.as_mut()
            && walk.steps.len() == step + 1
        {
            walk.answered(reply, at);
        }
        // A reply that arrives is shown in the inspector at once.
        let (_, refs) = self.transcript();
        if let Some(i) = refs.iter().position(|r| r.exchange == exchange && r.reply) {
            self.selected = Some(Selected::Message(i));
        }
    }

    /// The transcript: for each query, where it went, then the query and
    /// its reply as whole messages (dissected as they crossed the wire,
    /// the reply against its query), or why no reply came.
    pub fn transcript(&self) -> (Vec<Item>, Vec<MessageRef>) {
        let epoch = self.epoch.unwrap_or(0.0);
        let mut items = Vec::new();
        let mut refs = Vec::new();
        let mut event_id = 0;
        let mut event = |items: &mut Vec<Item>, t_ms: f64, text: String, kind: EventKind| {
            items.push(Item::Event(Entry {
                id: event_id,
                direction: Direction::Event,
                t_ms,
                connection: 0,
                page_ms: epoch + t_ms,
                at_ms: None,
                relay_t_ms: None,
                bytes: Vec::new(),
                text,
                kind,
            }));
            event_id += 1;
        };
        for e in &self.exchanges {
            let t = e.sent_ms - epoch;
            let route = match (&e.peer, &e.local) {
                (Some(peer), Some(local)) => format!(" ({peer}, from {local})"),
                _ => String::new(),
            };
            event(
                &mut items,
                t,
                format!("query to {} over {}{route}", e.target, e.transport),
                EventKind::Other,
            );
            let mut conversation = DnsConversation::new(e.query_transport());
            let wire = match e.transport {
                Transport::Udp => e.query.clone(),
                Transport::Tcp => wirelab_shared::dns::frame::tcp_wrap(&e.query),
            };
            let mut push = |items: &mut Vec<Item>, messages: Vec<Message>, reply: bool| {
                for m in messages {
                    items.push(Item::Message {
                        id: refs.len(),
                        message: Rc::new(m),
                    });
                    refs.push(MessageRef {
                        exchange: e.id,
                        reply,
                    });
                }
            };
            push(&mut items, conversation.client_bytes(&wire, t), false);
            if let (Some(reply), Some(at)) = (&e.reply, e.replied_ms) {
                let wire = match e.transport {
                    Transport::Udp => reply.clone(),
                    Transport::Tcp => wirelab_shared::dns::frame::tcp_wrap(reply),
                };
                push(
                    &mut items,
                    conversation.server_bytes(&wire, at - epoch),
                    true,
                );
            }
            if let Status::Failed(why) = &e.status {
                event(&mut items, t, why.clone(), EventKind::Failed);
            }
        }
        (items, refs)
    }
}

impl Reducible for DnsLab {
    type Action = LabAction;

    fn reduce(self: Rc<Self>, action: LabAction) -> Rc<Self> {
        let mut next = (*self).clone();
        next.apply(action);
        Rc::new(next)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use wirelab_shared::dns::RecordType;
    use wirelab_shared::dns::frame::tcp_wrap;
    use wirelab_shared::dns::hierarchy;
    use wirelab_shared::dns::query::QuerySpec;
    use wirelab_shared::dns::server::{Authority, Via};

    pub fn authority(catalog: &str) -> Authority {
        hierarchy::server(catalog).unwrap().default_authority()
    }

    fn connected(exchange: usize, at: f64) -> LabAction {
        LabAction::Relay {
            exchange,
            message: RelayMessage::Connected {
                transport: Transport::Udp,
                target: None,
                peer: "127.0.0.10:1053".into(),
                local: "127.0.0.1:40000".into(),
                connect_ms: 0.0,
                t_ms: None,
                recording: None,
                started_us: None,
                at_us: None,
            },
            at,
        }
    }

    /// Sends a step to `server` over `transport` and feeds back the
    /// lab server's reply, as the page does with a link.
    pub fn step(lab: &mut DnsLab, server: &str, transport: Transport, zone: Option<Name>, at: f64) {
        let q = lab
            .walk
            .as_ref()
            .map(|w| w.current_question())
            .unwrap_or_else(|| {
                wirelab_shared::dns::message::Question::new(
                    Name::parse("gaia.cs.umass.edu").unwrap(),
                    RecordType::A,
                )
            });
        let query = QuerySpec::new(q.name, q.qtype, 100 + lab.next_id() as u16)
            .next_hop(100 + lab.next_id() as u16)
            .to_bytes();
        let id = lab.next_id();
        let target = wirelab_shared::catalog::paired_name(server, transport);
        lab.apply(LabAction::Send {
            target,
            transport,
            purpose: Purpose::Step,
            query: query.clone(),
            zone,
            at,
        });
        lab.apply(connected(id, at));
        let via = match transport {
            Transport::Udp => Via::Udp,
            Transport::Tcp => Via::Tcp,
        };
        let reply = authority(server).answer(&query, via).unwrap();
        match transport {
            Transport::Udp => lab.apply(LabAction::Data {
                exchange: id,
                bytes: reply,
                at: at + 1.0,
            }),
            Transport::Tcp => {
                // In two chunks: the framing must wait for the whole message.
                let wire = tcp_wrap(&reply);
                lab.apply(LabAction::Data {
                    exchange: id,
                    bytes: wire[..5].to_vec(),
                    at: at + 0.5,
                });
                assert!(lab.exchange(id).unwrap().is_active());
                lab.apply(LabAction::Data {
                    exchange: id,
                    bytes: wire[5..].to_vec(),
                    at: at + 1.0,
                });
            }
        }
    }

    #[test]
    fn three_steps_by_hand_make_the_eight_messages() {
        let mut lab = DnsLab::default();
        step(&mut lab, "dns-root", Transport::Udp, None, 10.0);
        let hop = lab.walk.as_ref().unwrap().next_hops()[0].clone();
        assert_eq!(hop.server.as_deref(), Some("dns-edu"));
        step(&mut lab, "dns-edu", Transport::Tcp, Some(hop.zone), 20.0);
        let hop = lab.walk.as_ref().unwrap().next_hops()[0].clone();
        assert_eq!(hop.server.as_deref(), Some("dns-cs-umass"));
        step(
            &mut lab,
            "dns-cs-umass",
            Transport::Udp,
            Some(hop.zone),
            30.0,
        );
        let walk = lab.walk.as_ref().unwrap();
        assert!(walk.is_finished());
        assert_eq!(walk.message_count(), 8);
        assert!(lab.active().is_none());
        let (items, refs) = lab.transcript();
        assert_eq!(refs.len(), 6);
        assert!(refs[1].reply && !refs[2].reply);
        // Times count from the first query; the TCP reply keeps its prefix.
        let messages = crate::follow::messages(&items);
        assert_eq!(messages[0].first_ms, 0.0);
        assert_eq!(messages[3].first_ms, 11.0);
        assert_eq!(
            messages[3].bytes.len(),
            lab.exchanges[1].reply.as_ref().unwrap().len() + 2
        );
        assert!(messages.iter().all(|m| {
            m.dissection
                .diagnostics
                .iter()
                .all(|d| d.severity != wirelab_shared::Severity::Error)
        }));
        assert_eq!(lab.exchanges[0].local_port(), Some(40000));
        assert_eq!(lab.exchanges[0].rtt_ms(), Some(1.0));
        // A new question starts a new walk.
        lab.apply(LabAction::NewWalk);
        step(&mut lab, "dns-root", Transport::Udp, None, 40.0);
        assert_eq!(lab.walk.as_ref().unwrap().steps.len(), 1);
    }

    #[test]
    fn the_round_trip_is_the_wires_where_the_relay_stamped_it() {
        // Unstamped (an in-browser server): the page's clock, 1 ms.
        let mut lab = DnsLab::default();
        step(&mut lab, "dns-root", Transport::Udp, None, 10.0);
        assert_eq!(lab.exchanges[0].rtt_ms(), Some(1.0));

        let mut lab = DnsLab::default();
        let query =
            QuerySpec::new(Name::parse("gaia.cs.umass.edu").unwrap(), RecordType::A, 7).to_bytes();
        lab.apply(LabAction::Send {
            target: "dns-root".into(),
            transport: Transport::Udp,
            purpose: Purpose::Step,
            query: query.clone(),
            zone: None,
            at: 0.0,
        });
        lab.apply(connected(0, 5.0));
        let mut stamp = |message: RelayMessage, at: f64| {
            lab.apply(LabAction::Relay {
                exchange: 0,
                message,
                at,
            })
        };
        // A reply stamp before the query's own counts for nothing.
        stamp(
            RelayMessage::Data {
                at_us: 1_000,
                len: 1,
            },
            5.5,
        );
        stamp(
            RelayMessage::Sent {
                at_us: 2_000_000,
                len: query.len(),
                fin: false,
            },
            6.0,
        );
        stamp(
            RelayMessage::Data {
                at_us: 2_040_250,
                len: 90,
            },
            52.0,
        );
        let reply = authority("dns-root").answer(&query, Via::Udp).unwrap();
        lab.apply(LabAction::Data {
            exchange: 0,
            bytes: reply,
            at: 52.0,
        });
        // 40.25 ms between the stamps, though the page saw 47 ms.
        assert_eq!(lab.exchanges[0].rtt_ms(), Some(40.25));
    }

    #[test]
    fn failures_end_the_exchange_once() {
        let mut lab = DnsLab::default();
        lab.apply(LabAction::Send {
            target: "dns".into(),
            transport: Transport::Udp,
            purpose: Purpose::Recursive,
            query: vec![0x12, 0x34, 1, 0],
            zone: None,
            at: 0.0,
        });
        assert_eq!(lab.recursive.as_ref().unwrap().trace, TraceState::Loading);
        lab.apply(LabAction::TimedOut {
            exchange: 0,
            seconds: 3,
        });
        let Status::Failed(why) = &lab.exchanges[0].status else {
            panic!()
        };
        assert!(why.contains("over UDP"));
        // A late close changes nothing.
        lab.apply(LabAction::SocketClosed {
            exchange: 0,
            code: 1006,
            reason: String::new(),
        });
        assert!(matches!(&lab.exchanges[0].status, Status::Failed(w) if w.contains("UDP")));
        assert!(matches!(
            lab.recursive.as_ref().unwrap().trace,
            TraceState::Missing(_)
        ));
        assert_eq!(lab.exchanges[0].query_id(), Some(0x1234));
        let (items, _) = lab.transcript();
        assert!(matches!(items.last(), Some(Item::Event(e)) if e.kind == EventKind::Failed));
        lab.apply(LabAction::Clear);
        assert!(lab.exchanges.is_empty() && lab.recursive.is_none());
    }

    #[test]
    fn the_draft_is_sent_where_the_form_says_and_its_reply_shown() {
        let mut lab = DnsLab::new(0x0102);
        lab.selected = Some(Selected::Walk(0));
        lab.apply(LabAction::SendDraft {
            target: "dns-root".into(),
            at: 1.0,
        });
        let e = lab.last().unwrap();
        assert_eq!(e.purpose, Purpose::Step);
        assert_eq!(e.query, lab.draft.bytes);
        assert_eq!(lab.walk.as_ref().unwrap().steps.len(), 1);
        assert!(lab.selected.is_none());
        assert!(lab.outcome().is_some());
        // One query at a time.
        lab.apply(LabAction::SendDraft {
            target: "dns-root".into(),
            at: 2.0,
        });
        assert_eq!(lab.exchanges.len(), 1);
        lab.apply(connected(0, 2.0));
        let reply = authority("dns-root")
            .answer(&lab.draft.bytes, Via::Udp)
            .unwrap();
        lab.apply(LabAction::Data {
            exchange: 0,
            bytes: reply,
            at: 3.0,
        });
        // The reply is message 1 of the transcript, and is shown.
        assert_eq!(lab.selected, Some(Selected::Message(1)));
        // RD on to the resolver is the recursive mode.
        lab.apply(LabAction::Form(FormAction::Mode {
            mode: Mode::Recursive,
            has_resolver: true,
        }));
        assert_eq!(lab.purpose(), Purpose::Recursive);
        lab.apply(LabAction::Form(FormAction::FlagBit(7)));
        assert_eq!(lab.purpose(), Purpose::Plain);
        lab.apply(LabAction::SendDraft {
            target: "dns".into(),
            at: 4.0,
        });
        assert_eq!(lab.mode, Mode::Recursive);
        assert!(matches!(
            lab.recursive.as_ref().unwrap().trace,
            TraceState::Missing(_)
        ));
    }

    #[test]
    fn following_a_referral_tells_the_walk_its_zone() {
        let mut lab = DnsLab::new(1);
        step(&mut lab, "dns-root", Transport::Udp, None, 0.0);
        let hop = lab.walk.as_ref().unwrap().next_hops().remove(0);
        lab.apply(LabAction::Form(FormAction::Follow {
            hop: hop.clone(),
            id: 77,
        }));
        lab.apply(LabAction::SendDraft {
            target: "dns-edu".into(),
            at: 5.0,
        });
        let walk = lab.walk.as_ref().unwrap();
        assert_eq!(walk.steps.len(), 2);
        assert_eq!(walk.steps[1].zone, Some(hop.zone));
    }

    #[test]
    fn a_new_walk_and_clear_keep_the_form() {
        let mut lab = DnsLab::new(1);
        step(&mut lab, "dns-root", Transport::Udp, None, 0.0);
        lab.apply(LabAction::Form(FormAction::Name("www.ibm.com".into())));
        lab.apply(LabAction::NewWalk);
        assert!(lab.walk.is_none());
        assert_eq!(lab.exchanges.len(), 1, "the transcript stays");
        assert_eq!(lab.mode, Mode::Iterative);
        assert_eq!(lab.draft.spec.name.to_string(), "www.ibm.com.");
        lab.selected = Some(Selected::Message(0));
        lab.apply(LabAction::Clear);
        assert!(lab.exchanges.is_empty() && lab.selected.is_none());
        assert!(lab.outcome().is_none());
        assert_eq!(lab.draft.spec.name.to_string(), "www.ibm.com.");
        assert_eq!(lab.next_id(), 0);
    }
}
