//! The DNS workbench's state: every query sent (to which server, over which
//! transport), what came back, the iterative resolution the student builds
//! by hand from those queries (a shared [`Walk`]), and the resolver's trace
//! of the last recursive query.
//!
//! A plain-Rust reducer (`yew::Reducible`): the page dispatches
//! [`LabAction`]s from its buttons, its links to the servers and its
//! fetches; the rules are unit-tested natively. Each query is one
//! [`Exchange`] with its own link, as dig opens one socket per query.

use crate::follow::Item;
use crate::session::{Direction, Entry, EventKind};
use std::rc::Rc;
use wirelab_shared::conversation::{Conversation, Message};
use wirelab_shared::dns::conversation::DnsConversation;
use wirelab_shared::dns::frame::{TcpFrame, next_tcp_message};
use wirelab_shared::dns::message::Message as DnsMessage;
use wirelab_shared::dns::name::Name;
use wirelab_shared::dns::query::QueryTransport;
use wirelab_shared::dns::resolver::Trace;
use wirelab_shared::dns::walk::Walk;
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
        (self.query.len() >= 2).then(|| u16::from_be_bytes([self.query[0], self.query[1]]))
    }

    /// The port the relay sent from (the resolver sees the query come
    /// from there).
    pub fn local_port(&self) -> Option<u16> {
        self.local.as_deref()?.rsplit(':').next()?.parse().ok()
    }

    /// Round trip from Send to the reply, on the page's clock.
    pub fn rtt_ms(&self) -> Option<f64> {
        Some(self.replied_ms? - self.sent_ms)
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

#[derive(Debug, Clone, PartialEq, Default)]
pub struct DnsLab {
    pub exchanges: Vec<Exchange>,
    pub walk: Option<Walk>,
    pub recursive: Option<Recursive>,
    /// Page clock of the first query: transcript times count from it.
    epoch: Option<f64>,
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
    /// Forget the walk (the next query starts a new one).
    NewWalk,
    /// Forget everything.
    Clear,
}

/// Which exchange, and which of its two messages, a transcript message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageRef {
    pub exchange: usize,
    pub reply: bool,
}

impl DnsLab {
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
                RelayMessage::Listening { .. }
                | RelayMessage::Data { .. }
                | RelayMessage::Sent { .. } => {}
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
            LabAction::NewWalk => self.walk = None,
            LabAction::Clear => *self = DnsLab::default(),
        }
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
        let target = match transport {
            Transport::Udp => server.to_string(),
            Transport::Tcp => format!("{server}-tcp"),
        };
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
}
