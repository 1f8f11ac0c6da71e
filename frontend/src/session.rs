//! The state of one connection as the student sees it: where it stands
//! (connecting, open, closed) and the transcript of everything sent,
//! received and reported, with times since the connection started.
//!
//! Every entry keeps the page-clock time it was recorded at and, when the
//! link sent one, the stamp of where it happened: the relay's clock as it
//! read from or wrote to the server's socket, or the page clock where an
//! in-browser server read or wrote. [`Session::axis_ms`] places an entry on
//! that one axis, so entries of several connections (this session's
//! successive ones, or other sessions of the page) are ordered as they
//! happened, not as their WebSockets delivered them.
//!
//! It is a plain-Rust reducer (`yew::Reducible`) so its rules are unit-tested
//! natively; components dispatch [`SessionAction`]s and render [`Session`].

use std::rc::Rc;
use wirelab_shared::conversation::Sender;
use wirelab_shared::relay_protocol::{ClosedBy, ErrorCode, RelayMessage, Transport};
use yew::Reducible;

/// Most entries a transcript keeps; older ones are dropped first.
pub const MAX_ENTRIES: usize = 5_000;

/// Which way an entry went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From the page to the server.
    Sent,
    /// From the server to the page.
    Received,
    /// Something the relay or the page reported: connected, closed, error.
    Event,
}

impl Direction {
    /// The way a message of `sender` went, seen from the page.
    pub fn of(sender: Sender) -> Direction {
        match sender {
            Sender::Client => Direction::Sent,
            Sender::Server => Direction::Received,
        }
    }

    /// The value of `data-direction` in the page.
    pub fn as_str(&self) -> &'static str {
        match self {
            Direction::Sent => "sent",
            Direction::Received => "received",
            Direction::Event => "event",
        }
    }

    pub fn arrow(&self) -> &'static str {
        match self {
            Direction::Sent => "→",
            Direction::Received => "←",
            Direction::Event => "•",
        }
    }
}

/// What an event entry reports, for the timeline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum EventKind {
    /// Not an event: data.
    None,
    Connecting,
    /// The connection is up; the TCP handshake took this long at the relay.
    Connected {
        connect_ms: f64,
        transport: Transport,
    },
    /// The connection ended (FIN from the peer, or the relay's decision).
    Closed {
        by: ClosedBy,
    },
    /// The page half-closed.
    Shutdown,
    /// A refusal or failure.
    Failed,
    Other,
}

/// One line of the transcript.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Stable across drops of old entries, so a selection survives.
    pub id: usize,
    pub direction: Direction,
    /// Milliseconds since the student pressed Connect (page clock); in what
    /// [`crate::follow`] hands out, since the origin of the page's axis.
    pub t_ms: f64,
    /// Which of the session's connections (0, 1, ...) it belongs to.
    pub connection: usize,
    /// The page clock (`now_ms()`) when the page recorded it.
    pub page_ms: f64,
    /// Where it happened, in milliseconds on the link's clock (the relay's,
    /// or the page's for in-browser servers), once the link said.
    pub at_ms: Option<f64>,
    /// The relay's own `t_ms` for reported events, if it sent one.
    pub relay_t_ms: Option<f64>,
    /// The bytes for sent and received entries; empty for events.
    pub bytes: Vec<u8>,
    /// What happened, for events; empty for data.
    pub text: String,
    pub kind: EventKind,
}

/// Where the connection stands.
#[derive(Debug, Clone, PartialEq)]
pub enum ConnState {
    Idle,
    Connecting {
        target: String,
    },
    Open {
        target: String,
        transport: Transport,
        peer: String,
        local: String,
        connect_ms: f64,
        /// The page sent `shutdown`: no more data may be sent.
        write_closed: bool,
        /// The relay's recording of this connection, if one was asked for.
        recording: Option<String>,
    },
    Closed {
        by: ClosedBy,
        reason: String,
    },
    Failed {
        code: Option<ErrorCode>,
        message: String,
    },
}

impl ConnState {
    pub fn is_open(&self) -> bool {
        matches!(self, ConnState::Open { .. })
    }

    pub fn can_send(&self) -> bool {
        matches!(
            self,
            ConnState::Open {
                write_closed: false,
                ..
            }
        )
    }

    pub fn is_active(&self) -> bool {
        matches!(self, ConnState::Connecting { .. } | ConnState::Open { .. })
    }

    /// The value of `data-state` in the page.
    pub fn key(&self) -> &'static str {
        match self {
            ConnState::Idle => "idle",
            ConnState::Connecting { .. } => "connecting",
            ConnState::Open { .. } => "open",
            ConnState::Closed { .. } => "closed",
            ConnState::Failed { .. } => "failed",
        }
    }

    /// One sentence for the status line.
    pub fn describe(&self) -> String {
        match self {
            ConnState::Idle => "not connected".into(),
            ConnState::Connecting { target } => format!("connecting to {target}…"),
            ConnState::Open {
                target,
                transport,
                peer,
                local,
                connect_ms,
                write_closed,
                ..
            } => {
                let how = match transport {
                    Transport::Tcp => format!("TCP connection set up in {connect_ms:.2} ms"),
                    Transport::Udp => "UDP: no connection, each send is one datagram".into(),
                };
                let half = if *write_closed {
                    " — you sent FIN, still reading"
                } else {
                    ""
                };
                format!("connected to {target} ({peer}) from {local}; {how}{half}")
            }
            ConnState::Closed { by, reason } => match by {
                ClosedBy::Peer => format!("closed by the server: {reason}"),
                ClosedBy::Relay => format!("closed by the relay: {reason}"),
            },
            ConnState::Failed { code, message } => match code {
                Some(code) => format!("refused ({}): {message}", code.as_str()),
                None => format!("failed: {message}"),
            },
        }
    }
}

/// A connection's state and transcript.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub state: ConnState,
    pub entries: Vec<Entry>,
    /// Page-clock time of Connect; entry times are relative to it.
    epoch: f64,
    next_id: usize,
    /// The recording of the last connection, kept after it closes so the
    /// student can still download it.
    last_recording: Option<String>,
    /// How many connections the session has had.
    connections: usize,
    /// Who each connection still in the transcript went to, for its lane:
    /// the catalog name, then with the peer address once connected.
    servers: Vec<(usize, String)>,
    /// The link's clock minus the page's, from the latest stamp: it places
    /// entries that carry no stamp (what the page did itself).
    offset_ms: Option<f64>,
    /// The stamp of the next chunk from the server (`data` comes first).
    pending_data: Option<f64>,
    /// The current connection has had no stamped bytes from the server yet.
    awaiting_first_data: bool,
}

impl Default for Session {
    fn default() -> Self {
        Session {
            state: ConnState::Idle,
            entries: Vec::new(),
            epoch: 0.0,
            next_id: 0,
            last_recording: None,
            connections: 0,
            servers: Vec::new(),
            offset_ms: None,
            pending_data: None,
            awaiting_first_data: false,
        }
    }
}

/// What can happen to a session. `at` is the page clock (`now_ms()`).
#[derive(Debug, Clone, PartialEq)]
pub enum SessionAction {
    /// The student pressed Connect.
    Connecting { target: String, at: f64 },
    /// A text frame from the relay (or the in-browser server).
    Relay { message: RelayMessage, at: f64 },
    /// Bytes (one frame or datagram) from the server.
    Received { bytes: Vec<u8>, at: f64 },
    /// Bytes the student sent.
    Sent { bytes: Vec<u8>, at: f64 },
    /// The student half-closed the connection.
    ShutdownSent { at: f64 },
    /// The WebSocket itself closed (after `closed`/`error`, or abruptly).
    SocketClosed { code: u16, reason: String, at: f64 },
    /// The student pressed Disconnect.
    Disconnected { at: f64 },
    /// Forget the transcript.
    Clear,
}

impl Session {
    /// Records bytes sent or received.
    fn push(&mut self, direction: Direction, at: f64, bytes: Vec<u8>) {
        self.push_entry(direction, at, bytes, String::new(), None, EventKind::None);
        if direction == Direction::Received
            && let Some(stamp) = self.pending_data.take()
            && let Some(entry) = self.entries.last_mut()
        {
            entry.at_ms = Some(stamp);
            if std::mem::take(&mut self.awaiting_first_data) {
                self.set_up_before(stamp);
            }
        }
    }

    /// A connection was set up before its first bytes arrived, whatever
    /// its stamp says: a connection the server opened (FTP active mode) is
    /// stamped when the relay's listener took it, which a busy relay may do
    /// after the server's data came.
    fn set_up_before(&mut self, first_data: f64) {
        let connection = self.connection();
        for entry in self
            .entries
            .iter_mut()
            .rev()
            .take_while(|e| e.connection == connection)
            .filter(|e| matches!(e.kind, EventKind::Connecting | EventKind::Connected { .. }))
        {
            if entry.at_ms.is_some_and(|at| at > first_data) {
                entry.at_ms = Some(first_data);
            }
        }
    }

    /// Records an event.
    fn event(&mut self, at: f64, text: String, relay_t_ms: Option<f64>, kind: EventKind) {
        self.push_entry(Direction::Event, at, Vec::new(), text, relay_t_ms, kind);
    }

    fn push_entry(
        &mut self,
        direction: Direction,
        at: f64,
        bytes: Vec<u8>,
        text: String,
        relay_t_ms: Option<f64>,
        kind: EventKind,
    ) {
        let entry = Entry {
            id: self.next_id,
            direction,
            t_ms: (at - self.epoch).max(0.0),
            connection: self.connection(),
            page_ms: at,
            at_ms: None,
            relay_t_ms,
            bytes,
            text,
            kind,
        };
        self.next_id += 1;
        self.entries.push(entry);
        if self.entries.len() > MAX_ENTRIES {
            let excess = self.entries.len() - MAX_ENTRIES;
            self.entries.drain(..excess);
            // Connections no longer in the transcript need no lane.
            let oldest = self.entries[0].connection;
            self.servers.retain(|(c, _)| *c >= oldest);
        }
    }

    /// Applies one action (the reducer, without the `Rc`).
    pub fn apply(&mut self, action: SessionAction) {
        match action {
            SessionAction::Connecting { target, at } => {
                self.epoch = at;
                self.last_recording = None;
                self.pending_data = None;
                self.awaiting_first_data = true;
                self.connections += 1;
                self.servers.push((self.connection(), target.clone()));
                self.state = ConnState::Connecting {
                    target: target.clone(),
                };
                self.event(
                    at,
                    format!("connecting to {target}"),
                    None,
                    EventKind::Connecting,
                );
            }
            SessionAction::Relay { message, at } => self.apply_relay(message, at),
            SessionAction::Received { bytes, at } => {
                self.push(Direction::Received, at, bytes);
            }
            SessionAction::Sent { bytes, at } => {
                self.push(Direction::Sent, at, bytes);
            }
            SessionAction::ShutdownSent { at } => {
                if let ConnState::Open { write_closed, .. } = &mut self.state {
                    *write_closed = true;
                }
                self.event(
                    at,
                    "you closed your side (TCP FIN); the server may still answer".into(),
                    None,
                    EventKind::Shutdown,
                );
            }
            SessionAction::SocketClosed { code, reason, at } => {
                // `closed` or `error` came first and said why; otherwise the
                // WebSocket broke without a word from the relay.
                if self.state.is_active() {
                    let message = if reason.is_empty() {
                        format!("the connection to the relay ended (WebSocket close code {code})")
                    } else {
                        format!("the connection to the relay ended: {reason} (code {code})")
                    };
                    self.event(at, message.clone(), None, EventKind::Failed);
                    self.state = ConnState::Failed {
                        code: None,
                        message,
                    };
                }
            }
            SessionAction::Disconnected { at } => {
                if self.state.is_active() {
                    self.event(
                        at,
                        "you disconnected".into(),
                        None,
                        EventKind::Closed {
                            by: ClosedBy::Relay,
                        },
                    );
                    self.state = ConnState::Closed {
                        by: ClosedBy::Relay,
                        reason: "you disconnected".into(),
                    };
                }
            }
            SessionAction::Clear => {
                self.entries.clear();
            }
        }
    }

    fn apply_relay(&mut self, message: RelayMessage, at: f64) {
        let relay_t = message.t_ms();
        let stamp = message.at_us().map(us_to_ms);
        if let Some(stamp) = stamp {
            self.offset_ms = Some(stamp - at);
        }
        match message {
            RelayMessage::Data { .. } => self.pending_data = stamp,
            RelayMessage::Sent { fin, .. } => self.stamp_sent(fin, stamp),
            RelayMessage::Connected {
                transport,
                target,
                peer,
                local,
                connect_ms,
                recording,
                started_us,
                ..
            } => {
                let target = target.unwrap_or_else(|| peer.clone());
                self.stamp_connecting(started_us.map(us_to_ms));
                if let Some((_, server)) = self.servers.last_mut() {
                    *server = format!("{target} ({peer})");
                }
                self.event(
                    at,
                    format!("connected to {target} ({peer}) from {local} [{transport}]"),
                    relay_t,
                    EventKind::Connected {
                        connect_ms,
                        transport,
                    },
                );
                self.stamp_last(stamp);
                self.last_recording = recording.clone();
                self.state = ConnState::Open {
                    target,
                    transport,
                    peer,
                    local,
                    connect_ms,
                    write_closed: false,
                    recording,
                };
            }
            RelayMessage::Error { code, message, .. } => {
                self.event(
                    at,
                    format!("error ({}): {message}", code.as_str()),
                    relay_t,
                    EventKind::Failed,
                );
                self.state = ConnState::Failed {
                    code: Some(code),
                    message,
                };
            }
            RelayMessage::Closed { by, reason, .. } => {
                let who = match by {
                    ClosedBy::Peer => "the server",
                    ClosedBy::Relay => "the relay",
                };
                self.event(
                    at,
                    format!("closed by {who}: {reason}"),
                    relay_t,
                    EventKind::Closed { by },
                );
                self.stamp_last(stamp);
                self.state = ConnState::Closed { by, reason };
            }
            RelayMessage::Listening { addr, .. } => {
                self.event(
                    at,
                    format!("the relay listens on {addr}"),
                    relay_t,
                    EventKind::Other,
                );
            }
        }
    }

    /// The current (or last) connection's number.
    fn connection(&self) -> usize {
        self.connections.saturating_sub(1)
    }

    /// Gives the entry just recorded the stamp of where it happened.
    fn stamp_last(&mut self, stamp: Option<f64>) {
        if let Some(entry) = self.entries.last_mut() {
            entry.at_ms = stamp.or(entry.at_ms);
        }
    }

    /// The current connection's `connecting` entry happened when the relay
    /// began to connect.
    fn stamp_connecting(&mut self, started: Option<f64>) {
        let Some(started) = started else { return };
        let connection = self.connection();
        if let Some(entry) = self.entries.iter_mut().rev().find(|e| {
            e.connection == connection && e.kind == EventKind::Connecting && e.at_ms.is_none()
        }) {
            entry.at_ms = Some(started);
        }
    }

    /// A `sent` stamp belongs to the oldest write of the current connection
    /// still without one (the relay stamps writes in order), or to the
    /// half-close if it says `fin`.
    fn stamp_sent(&mut self, fin: bool, stamp: Option<f64>) {
        let connection = self.connection();
        let wanted = |e: &Entry| {
            if fin {
                e.kind == EventKind::Shutdown
            } else {
                e.direction == Direction::Sent
            }
        };
        let oldest = self
            .entries
            .iter_mut()
            .rev()
            .take_while(|e| e.connection == connection)
            .filter(|e| wanted(e) && e.at_ms.is_none())
            .last();
        if let Some(entry) = oldest {
            entry.at_ms = stamp;
        }
    }

    /// Where `entry` happened on the page's one time axis, in milliseconds:
    /// its stamp, or for what the page did itself (connect, send before the
    /// relay confirmed it, disconnect) its page time moved onto the link's
    /// clock by the latest offset between the two.
    pub fn axis_ms(&self, entry: &Entry) -> f64 {
        entry
            .at_ms
            .unwrap_or_else(|| entry.page_ms + self.offset_ms.unwrap_or(0.0))
    }

    /// The earliest time on the axis of any entry, if there is one: the
    /// origin a page takes from all its sessions.
    pub fn origin_ms(&self) -> Option<f64> {
        self.entries
            .iter()
            .map(|e| self.axis_ms(e))
            .min_by(f64::total_cmp)
    }

    /// Who connection `n` went to: "http (127.0.0.1:8081)".
    pub fn server(&self, n: usize) -> Option<&str> {
        self.servers
            .iter()
            .find(|(c, _)| *c == n)
            .map(|(_, server)| server.as_str())
    }

    /// The entry with `id`, if it is still kept.
    pub fn entry(&self, id: usize) -> Option<&Entry> {
        self.entries.iter().find(|e| e.id == id)
    }

    /// Page-clock time of Connect: entry times are relative to it.
    pub fn epoch(&self) -> f64 {
        self.epoch
    }

    /// The target and transport of the current (or last) connection.
    pub fn connected_info(&self) -> Option<(f64, Transport)> {
        self.entries.iter().rev().find_map(|e| match e.kind {
            EventKind::Connected {
                connect_ms,
                transport,
            } => Some((connect_ms, transport)),
            _ => None,
        })
    }

    /// The recording id of the current or last connection, if any.
    pub fn recording(&self) -> Option<&str> {
        match &self.state {
            ConnState::Open { recording, .. } => recording.as_deref(),
            _ => self.last_recording.as_deref(),
        }
    }

    /// The most recent entry that carries bytes.
    pub fn last_data(&self) -> Option<&Entry> {
        self.entries
            .iter()
            .rev()
            .find(|e| e.direction != Direction::Event)
    }
}

fn us_to_ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

impl Reducible for Session {
    type Action = SessionAction;

    fn reduce(self: Rc<Self>, action: SessionAction) -> Rc<Self> {
        let mut next = (*self).clone();
        next.apply(action);
        Rc::new(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connected(at: f64) -> SessionAction {
        SessionAction::Relay {
            message: RelayMessage::Connected {
                transport: Transport::Tcp,
                target: Some("upper-tcp".into()),
                peer: "127.0.0.1:12000".into(),
                local: "127.0.0.1:5555".into(),
                connect_ms: 0.2,
                t_ms: Some(0.5),
                recording: None,
                started_us: None,
                at_us: None,
            },
            at,
        }
    }

    #[test]
    fn a_round_trip_is_recorded_with_times_since_connect() {
        let mut s = Session::default();
        s.apply(SessionAction::Connecting {
            target: "upper-tcp".into(),
            at: 1000.0,
        });
        assert_eq!(s.state.key(), "connecting");
        s.apply(connected(1001.0));
        assert!(s.state.can_send());
        s.apply(SessionAction::Sent {
            bytes: b"hello\r\n".to_vec(),
            at: 1010.0,
        });
        s.apply(SessionAction::Received {
            bytes: b"HELLO\r\n".to_vec(),
            at: 1012.5,
        });
        let data: Vec<_> = s
            .entries
            .iter()
            .filter(|e| e.direction != Direction::Event)
            .map(|e| (e.direction, e.t_ms))
            .collect();
        assert_eq!(
            data,
            vec![(Direction::Sent, 10.0), (Direction::Received, 12.5)]
        );
        assert_eq!(s.entries[1].relay_t_ms, Some(0.5));
        assert_eq!(s.last_data().unwrap().bytes, b"HELLO\r\n");
        assert!(s.state.describe().contains("127.0.0.1:12000"));
    }

    #[test]
    fn closed_then_socket_close_keeps_the_relays_reason() {
        let mut s = Session::default();
        s.apply(SessionAction::Connecting {
            target: "upper-tcp".into(),
            at: 0.0,
        });
        s.apply(connected(1.0));
        s.apply(SessionAction::Relay {
            message: RelayMessage::Closed {
                by: ClosedBy::Relay,
                reason: "idle".into(),
                t_ms: Some(300.0),
                at_us: None,
            },
            at: 301.0,
        });
        s.apply(SessionAction::SocketClosed {
            code: 1000,
            reason: "idle".into(),
            at: 302.0,
        });
        assert_eq!(
            s.state,
            ConnState::Closed {
                by: ClosedBy::Relay,
                reason: "idle".into()
            }
        );
        assert_eq!(s.state.describe(), "closed by the relay: idle");
        assert_eq!(s.entries.last().unwrap().text, "closed by the relay: idle");
    }

    #[test]
    fn an_abrupt_socket_close_is_a_failure() {
        let mut s = Session::default();
        s.apply(SessionAction::Connecting {
            target: "x".into(),
            at: 0.0,
        });
        s.apply(SessionAction::SocketClosed {
            code: 1006,
            reason: String::new(),
            at: 5.0,
        });
        assert_eq!(s.state.key(), "failed");
        assert!(s.state.describe().contains("1006"));
    }

    #[test]
    fn errors_shutdown_and_disconnect() {
        let mut s = Session::default();
        s.apply(SessionAction::Connecting {
            target: "nope".into(),
            at: 0.0,
        });
        s.apply(SessionAction::Relay {
            message: RelayMessage::Error {
                code: ErrorCode::UnknownTarget,
                message: "no such target".into(),
                t_ms: None,
            },
            at: 1.0,
        });
        assert!(s.state.describe().starts_with("refused (unknown_target)"));

        let mut s = Session::default();
        s.apply(SessionAction::Connecting {
            target: "upper-tcp".into(),
            at: 0.0,
        });
        s.apply(connected(1.0));
        s.apply(SessionAction::ShutdownSent { at: 2.0 });
        assert!(s.state.is_open() && !s.state.can_send());
        s.apply(SessionAction::Disconnected { at: 3.0 });
        assert_eq!(s.state.key(), "closed");
        // A second disconnect adds nothing.
        let n = s.entries.len();
        s.apply(SessionAction::Disconnected { at: 4.0 });
        assert_eq!(s.entries.len(), n);
    }

    fn stamp(message: RelayMessage, at: f64) -> SessionAction {
        SessionAction::Relay { message, at }
    }

    #[test]
    fn stamps_place_entries_where_they_happened_not_where_they_arrived() {
        let mut s = Session::default();
        s.apply(SessionAction::Connecting {
            target: "upper-tcp".into(),
            at: 1000.0,
        });
        s.apply(stamp(
            RelayMessage::Connected {
                transport: Transport::Tcp,
                target: Some("upper-tcp".into()),
                peer: "127.0.0.1:12000".into(),
                local: "127.0.0.1:5555".into(),
                connect_ms: 0.1,
                t_ms: None,
                recording: None,
                started_us: Some(7_000),
                at_us: Some(7_100),
            },
            1002.0,
        ));
        // Two writes before the relay confirms either: the stamps go to
        // them in order.
        for (bytes, at) in [(b"one\r\n", 1003.0), (b"two\r\n", 1004.0)] {
            let bytes = bytes.to_vec();
            s.apply(SessionAction::Sent { bytes, at });
        }
        for at_us in [7_300, 7_500] {
            let sent = RelayMessage::Sent {
                at_us,
                len: 5,
                fin: false,
            };
            s.apply(stamp(sent, 1005.0));
        }
        s.apply(stamp(
            RelayMessage::Data {
                at_us: 7_600,
                len: 5,
            },
            1006.0,
        ));
        s.apply(SessionAction::Received {
            bytes: b"ONE\r\n".to_vec(),
            at: 1006.0,
        });
        // A chunk without a stamp (an old relay) is placed by the page clock
        // moved onto the relay's by the latest offset.
        s.apply(SessionAction::Received {
            bytes: b"TWO\r\n".to_vec(),
            at: 1007.0,
        });
        let times: Vec<f64> = s.entries.iter().map(|e| s.axis_ms(e)).collect();
        assert_eq!(times, vec![7.0, 7.1, 7.3, 7.5, 7.6, 7.6 - 1006.0 + 1007.0]);
        assert_eq!(s.origin_ms(), Some(7.0));
        assert_eq!(s.server(0), Some("upper-tcp (127.0.0.1:12000)"));
        assert!(s.entries.iter().all(|e| e.connection == 0));
        // The next connection is the session's second, and its entries say so.
        s.apply(SessionAction::Connecting {
            target: "upper-tcp".into(),
            at: 1010.0,
        });
        assert_eq!(s.entries.last().unwrap().connection, 1);
        assert_eq!(s.server(1), Some("upper-tcp"));
    }

    #[test]
    fn the_half_close_takes_the_fin_stamp() {
        let mut s = Session::default();
        s.apply(SessionAction::Connecting {
            target: "upper-tcp".into(),
            at: 0.0,
        });
        s.apply(connected(1.0));
        s.apply(SessionAction::Sent {
            bytes: b"x".to_vec(),
            at: 2.0,
        });
        s.apply(SessionAction::ShutdownSent { at: 3.0 });
        let fin = RelayMessage::Sent {
            at_us: 9_000,
            len: 0,
            fin: true,
        };
        s.apply(stamp(fin, 4.0));
        let shutdown = s.entries.last().unwrap();
        assert_eq!(shutdown.kind, EventKind::Shutdown);
        assert_eq!(shutdown.at_ms, Some(9.0));
        assert_eq!(
            s.entries[2].at_ms, None,
            "the write keeps waiting for its own"
        );
    }

    #[test]
    fn the_transcript_is_bounded_and_ids_stay_stable() {
        let mut s = Session::default();
        for i in 0..MAX_ENTRIES + 10 {
            s.apply(SessionAction::Received {
                bytes: vec![i as u8],
                at: i as f64,
            });
        }
        assert_eq!(s.entries.len(), MAX_ENTRIES);
        assert_eq!(s.entries[0].id, 10);
        assert!(s.entry(5).is_none());
        assert!(s.entry(10).is_some());
        // The lanes' labels are bounded with the transcript.
        for i in 0..MAX_ENTRIES + 10 {
            s.apply(SessionAction::Connecting {
                target: format!("server {i}"),
                at: i as f64,
            });
        }
        assert_eq!(s.servers.len(), MAX_ENTRIES);
        assert_eq!(s.server(9), None);
        let latest = format!("server {}", MAX_ENTRIES + 9);
        assert_eq!(s.server(MAX_ENTRIES + 9), Some(latest.as_str()));
    }
}
