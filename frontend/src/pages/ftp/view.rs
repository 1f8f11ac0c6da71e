//! From the FTP page's state ([`FtpLab`]) to what it shows, as pure
//! functions rebuilt on each render and unit-tested here:
//!
//! - the control connection replayed through the shared
//!   [`FtpConversation`] (commands and replies dissected in the session's
//!   context, and the session state the replies set up);
//! - each data connection's bytes as one message per direction, dissected
//!   by what the transfer command said it carries (`dissect_data`);
//! - one transcript in time order where every row says its lane (the
//!   control connection, or data connection n);
//! - the timeline: the client, the control connection and one lane per
//!   data connection, all on one axis: where each event happened (the
//!   relay's stamps), from the earliest event of any of them, so a `226`
//!   read after the listing's last byte is drawn after it whichever
//!   WebSocket delivered first.

use super::lab::{DataChannel, DataOrigin, FtpLab};
use crate::components::timeline::{Arrow, ArrowKind, Lane};
use crate::follow::{self, Item};
use crate::session::{Direction, EventKind};
use std::collections::HashMap;
use std::rc::Rc;
use wirelab_shared::conversation::{Message, Sender};
use wirelab_shared::ftp::conversation::FtpConversation;
use wirelab_shared::ftp::data::dissect_data;
use wirelab_shared::ftp::session::DataKind;
use wirelab_shared::relay_protocol::{ClosedBy, Transport};

/// Which message is selected, stable while new ones arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pick {
    /// The n-th message of the control connection.
    Control(usize),
    /// What the server sent on data connection n.
    DataIn(usize),
    /// What the page sent on data connection n (an upload).
    DataOut(usize),
}

impl Pick {
    /// The number the timeline and the transcript use for it.
    pub fn id(self) -> usize {
        match self {
            Pick::Control(i) => 3 * i,
            Pick::DataIn(n) => 3 * n + 1,
            Pick::DataOut(n) => 3 * n + 2,
        }
    }

    pub fn from_id(id: usize) -> Pick {
        match id % 3 {
            0 => Pick::Control(id / 3),
            1 => Pick::DataIn(id / 3),
            _ => Pick::DataOut(id / 3),
        }
    }
}

/// The lane a row belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowLane {
    Control,
    /// Data connection n.
    Data(usize),
}

impl RowLane {
    /// The value of `data-lane` in the page.
    pub fn key(&self) -> &'static str {
        match self {
            RowLane::Control => "control",
            RowLane::Data(_) => "data",
        }
    }
}

/// What a row shows.
#[derive(Debug, Clone, PartialEq)]
pub enum RowKind {
    /// `partial`: bytes that do not complete a message yet.
    Message {
        pick: Pick,
        message: Rc<Message>,
        partial: bool,
    },
    Event {
        id: usize,
        text: String,
    },
}

/// One row of the transcript.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Milliseconds since the control connection's Connect.
    pub t_ms: f64,
    pub lane: RowLane,
    pub kind: RowKind,
}

impl Row {
    pub fn direction(&self) -> Direction {
        match &self.kind {
            RowKind::Message { message, .. } => Direction::of(message.sender),
            RowKind::Event { .. } => Direction::Event,
        }
    }

    /// A key unique among the rows, for Yew's list diffing.
    pub fn key(&self) -> String {
        match (&self.kind, self.lane) {
            (RowKind::Message { pick, .. }, _) => format!("m{}", pick.id()),
            (RowKind::Event { id, .. }, RowLane::Control) => format!("c{id}"),
            (RowKind::Event { id, .. }, RowLane::Data(n)) => format!("d{n}-{id}"),
        }
    }
}

/// Everything the page renders, built from the state.
pub struct FtpView {
    pub rows: Vec<Row>,
    pub messages: Vec<(Pick, Rc<Message>)>,
    /// The control connection replayed: its client holds the session state.
    pub conversation: FtpConversation,
    pub lanes: Rc<Vec<Lane>>,
    pub arrows: Rc<Vec<Arrow>>,
}

impl FtpView {
    pub fn message(&self, pick: Pick) -> Option<&Rc<Message>> {
        self.messages
            .iter()
            .find(|(p, _)| *p == pick)
            .map(|(_, m)| m)
    }

    /// The newest message, by time.
    pub fn latest(&self) -> Option<(Pick, &Rc<Message>)> {
        self.rows.iter().rev().find_map(|r| match &r.kind {
            RowKind::Message { pick, message, .. } => Some((*pick, message)),
            RowKind::Event { .. } => None,
        })
    }
}

/// A data connection's bytes in one direction, as one message.
fn data_message(channel: &DataChannel, direction: Direction, origin: f64) -> Option<Rc<Message>> {
    let mut bytes = Vec::new();
    let mut times = None::<(f64, f64)>;
    for (t, e) in follow::in_time_order(&channel.session, origin)
        .into_iter()
        .filter(|(_, e)| e.direction == direction)
    {
        bytes.extend_from_slice(&e.bytes);
        times = Some(times.map_or((t, t), |(first, _)| (first, t)));
    }
    let (first_ms, last_ms) = times?;
    let complete = !channel.session.state.is_active();
    Some(Rc::new(Message {
        sender: match direction {
            Direction::Sent => Sender::Client,
            _ => Sender::Server,
        },
        dissection: dissect_data(&bytes, channel.kind.as_ref(), channel.transfer_type),
        bytes,
        first_ms,
        last_ms,
        complete,
    }))
}

/// The timeline label of a data connection's lane.
fn lane_label(channel: &DataChannel) -> String {
    let how = match &channel.origin {
        DataOrigin::Passive { port, .. } => format!(":{port}"),
        DataOrigin::Active { .. } => "(active)".into(),
    };
    let what = match &channel.kind {
        Some(kind) => match kind.path() {
            Some(path) => format!(
                " {} {}",
                kind.verb(),
                path.rsplit('/').next().unwrap_or_default()
            ),
            None => format!(" {}", kind.verb()),
        },
        None => String::new(),
    };
    format!("data #{} {how}{what}", channel.number)
}

/// What a data arrow says: what crossed, and how many bytes.
fn data_arrow_label(channel: &DataChannel, bytes: usize) -> String {
    let base = |path: &str| path.rsplit('/').next().unwrap_or_default().to_string();
    match &channel.kind {
        Some(DataKind::Listing) => format!("LIST output ({bytes} B)"),
        Some(DataKind::NameList) => format!("NLST output ({bytes} B)"),
        Some(DataKind::Download { path }) => format!("{} ({bytes} B)", base(path)),
        Some(DataKind::Upload { path, .. }) => format!("{} ({bytes} B)", base(path)),
        None => format!("{bytes} B"),
    }
}

/// When each transfer's preliminary reply (`125`, `150`) happened at the
/// latest, by control message id, where its stamp says later.
///
/// The server sends it before the transfer's data (and, in active mode,
/// before it connects), but when the relay reads it together with the
/// `226` that follows the data, the kernel has merged both into one chunk
/// stamped when the `226` came. The reply is then drawn at the transfer's
/// first event instead, before it. A preliminary reply goes with the
/// newest data connection, as the driver claims it: the n-th such reply
/// with the n-th claimed connection.
fn announcement_times(lab: &FtpLab, items: &[Item], origin: f64) -> HashMap<usize, f64> {
    let mut claimed = lab.channels.iter().filter(|c| c.kind.is_some());
    let mut times = HashMap::new();
    for item in items {
        let Item::Message { id, message } = item else {
            continue;
        };
        let preliminary = message.sender == Sender::Server
            && (message.bytes.starts_with(b"125") || message.bytes.starts_with(b"150"));
        if !preliminary {
            continue;
        }
        let Some(channel) = claimed.next() else { break };
        if let Some(first) = transfer_start(channel, origin)
            && first < item.time()
        {
            times.insert(*id, first);
        }
    }
    times
}

/// When a data connection's transfer began: its first bytes, or in active
/// mode the server's connect if that came first.
fn transfer_start(channel: &DataChannel, origin: f64) -> Option<f64> {
    let active = matches!(channel.origin, DataOrigin::Active { .. });
    follow::in_time_order(&channel.session, origin)
        .into_iter()
        .find(|(_, e)| {
            e.direction != Direction::Event
                || (active && matches!(e.kind, EventKind::Connected { .. }))
        })
        .map(|(t, _)| t)
}

/// Builds the view of `lab`; `server_label` names the control connection's
/// server in the timeline.
pub fn build(lab: &FtpLab, server_label: &str) -> FtpView {
    let (server, local) = lab.addresses.unzip();
    let mut conversation = FtpConversation::with_addresses(server, local);
    let origin = follow::origin(
        std::iter::once(&lab.control).chain(lab.channels.iter().map(|c| &c.session)),
    );
    let items = follow::follow_from(&lab.control, &mut conversation, origin);
    let (control_lanes, control_arrows) = follow::timeline(&lab.control, &items, server_label);
    let announced = announcement_times(lab, &items, origin);
    let mut arrows: Vec<Arrow> = (*control_arrows).clone();
    for arrow in &mut arrows {
        if let Some(id) = arrow.message {
            if let Some(t) = announced.get(&id) {
                arrow.t_ms = *t;
            }
            arrow.message = Some(Pick::Control(id).id());
        }
    }
    let mut lanes: Vec<Lane> = (*control_lanes).clone();
    for l in lanes.iter_mut().skip(1) {
        l.label = format!("control: {}", l.label);
    }
    let mut rows = Vec::new();
    let mut messages = Vec::new();
    for item in &items {
        match item {
            Item::Message { id, message } | Item::Partial { id, message } => {
                let pick = Pick::Control(*id);
                messages.push((pick, message.clone()));
                rows.push(Row {
                    t_ms: announced.get(id).copied().unwrap_or_else(|| item.time()),
                    lane: RowLane::Control,
                    kind: RowKind::Message {
                        pick,
                        message: message.clone(),
                        partial: matches!(item, Item::Partial { .. }),
                    },
                });
            }
            Item::Event(entry) => rows.push(Row {
                t_ms: entry.t_ms,
                lane: RowLane::Control,
                kind: RowKind::Event {
                    id: entry.id,
                    text: entry.text.clone(),
                },
            }),
        }
    }
    for channel in &lab.channels {
        let lane = lanes.len();
        lanes.push(Lane {
            label: lane_label(channel),
        });
        let n = channel.number;
        for (t, entry) in follow::in_time_order(&channel.session, origin)
            .into_iter()
            .filter(|(_, e)| e.direction == Direction::Event)
        {
            rows.push(Row {
                t_ms: t,
                lane: RowLane::Data(n),
                kind: RowKind::Event {
                    id: entry.id,
                    text: entry.text.clone(),
                },
            });
            let active = matches!(channel.origin, DataOrigin::Active { .. });
            let arrow = |from, to, label: String, kind| Arrow {
                from,
                to,
                t_ms: t,
                label,
                kind,
                message: None,
            };
            match entry.kind {
                EventKind::Connected {
                    connect_ms,
                    transport: Transport::Tcp,
                } => arrows.push(if active {
                    arrow(
                        lane,
                        0,
                        "the server connects (active mode)".into(),
                        ArrowKind::Connect,
                    )
                } else {
                    arrow(
                        0,
                        lane,
                        format!("TCP set-up to the data port ({connect_ms:.2} ms)"),
                        ArrowKind::Connect,
                    )
                }),
                EventKind::Closed { by: ClosedBy::Peer } => arrows.push(arrow(
                    lane,
                    0,
                    "FIN: the server closed the data connection".into(),
                    ArrowKind::Close,
                )),
                EventKind::Closed {
                    by: ClosedBy::Relay,
                } => arrows.push(arrow(
                    0,
                    lane,
                    "the data connection is closed".into(),
                    ArrowKind::Close,
                )),
                EventKind::Shutdown => arrows.push(arrow(
                    0,
                    lane,
                    "FIN: end of the upload".into(),
                    ArrowKind::Close,
                )),
                _ => {}
            }
        }
        for (direction, pick) in [
            (Direction::Received, Pick::DataIn(n)),
            (Direction::Sent, Pick::DataOut(n)),
        ] {
            let Some(message) = data_message(channel, direction, origin) else {
                continue;
            };
            let (from, to, t) = match message.sender {
                Sender::Server => (lane, 0, message.last_ms),
                Sender::Client => (0, lane, message.first_ms),
            };
            arrows.push(Arrow {
                from,
                to,
                t_ms: t,
                label: data_arrow_label(channel, message.bytes.len()),
                kind: ArrowKind::Data,
                message: Some(pick.id()),
            });
            messages.push((pick, message.clone()));
            rows.push(Row {
                t_ms: t,
                lane: RowLane::Data(n),
                kind: RowKind::Message {
                    pick,
                    message,
                    partial: false,
                },
            });
        }
    }
    rows.sort_by(|a, b| a.t_ms.total_cmp(&b.t_ms));
    arrows.sort_by(|a, b| a.t_ms.total_cmp(&b.t_ms));
    FtpView {
        rows,
        messages,
        conversation,
        lanes: Rc::new(lanes),
        arrows: Rc::new(arrows),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pages::ftp::lab::FtpAction;
    use crate::session::SessionAction;
    use wirelab_shared::ftp::session::TransferType;
    use wirelab_shared::relay_protocol::RelayMessage;

    fn connected(peer: &str) -> RelayMessage {
        RelayMessage::Connected {
            transport: Transport::Tcp,
            target: Some("ftp".into()),
            peer: peer.into(),
            local: "127.0.0.1:50000".into(),
            connect_ms: 0.1,
            t_ms: None,
            recording: None,
            started_us: None,
            at_us: None,
        }
    }

    fn control(lab: &mut FtpLab, action: SessionAction) {
        lab.apply(FtpAction::Control(action));
    }

    fn closed(at: f64) -> SessionAction {
        SessionAction::Relay {
            message: RelayMessage::Closed {
                by: ClosedBy::Peer,
                reason: "FIN".into(),
                t_ms: None,
                at_us: None,
            },
            at,
        }
    }

    /// A LIST over a passive data connection, as the driver records it.
    fn listing_session() -> FtpLab {
        let mut lab = FtpLab::default();
        control(
            &mut lab,
            SessionAction::Connecting {
                target: "ftp".into(),
                at: 1000.0,
            },
        );
        control(
            &mut lab,
            SessionAction::Relay {
                message: connected("127.0.0.1:2121"),
                at: 1001.0,
            },
        );
        let exchange: &[(&[u8], &[u8])] = &[
            (b"", b"220 ready\r\n"),
            (
                b"USER anonymous\r\n",
                b"331 Username OK, password required\r\n",
            ),
            (b"PASS x\r\n", b"230 Anonymous user logged in\r\n"),
            (
                b"PASV\r\n",
                b"227 Entering Passive Mode (127,0,0,1,82,9)\r\n",
            ),
        ];
        let mut at = 1002.0;
        for (sent, received) in exchange {
            if !sent.is_empty() {
                control(
                    &mut lab,
                    SessionAction::Sent {
                        bytes: sent.to_vec(),
                        at,
                    },
                );
            }
            control(
                &mut lab,
                SessionAction::Received {
                    bytes: received.to_vec(),
                    at: at + 1.0,
                },
            );
            at += 2.0;
        }
        lab.apply(FtpAction::OpenData {
            number: 1,
            origin: DataOrigin::Passive {
                port: 21001,
                arithmetic: Some("82*256+9 = 21001".into()),
            },
            at: 1010.0,
        });
        lab.apply(FtpAction::Data {
            number: 1,
            action: SessionAction::Relay {
                message: connected("127.0.0.1:21001"),
                at: 1011.0,
            },
        });
        control(
            &mut lab,
            SessionAction::Sent {
                bytes: b"LIST\r\n".to_vec(),
                at: 1012.0,
            },
        );
        control(
            &mut lab,
            SessionAction::Received {
                bytes: b"125 Data connection already open; transfer starting\r\n".to_vec(),
                at: 1013.0,
            },
        );
        lab.apply(FtpAction::Claim {
            number: 1,
            kind: DataKind::Listing,
            transfer_type: TransferType::Ascii,
            upload_name: None,
        });
        lab.apply(FtpAction::Data {
            number: 1,
            action: SessionAction::Received {
                bytes: b"drwxr-xr-x 1 ftp ftp 0 Jan 01 00:00 pub\r\n".to_vec(),
                at: 1014.0,
            },
        });
        lab.apply(FtpAction::Data {
            number: 1,
            action: closed(1015.0),
        });
        control(
            &mut lab,
            SessionAction::Received {
                bytes: b"226 Transfer complete\r\n".to_vec(),
                at: 1016.0,
            },
        );
        lab
    }

    #[test]
    fn a_listing_has_its_own_lane_and_the_control_lane_stays_open() {
        let lab = listing_session();
        let view = build(&lab, "ftp (127.0.0.1:2121)");
        assert_eq!(view.lanes.len(), 3);
        assert_eq!(view.lanes[2].label, "data #1 :21001 LIST");
        // The listing is one message of the data lane, dissected as a listing.
        let listing = view.message(Pick::DataIn(1)).unwrap();
        assert!(
            listing.dissection.summary.contains("1"),
            "{}",
            listing.dissection.summary
        );
        assert!(listing.complete);
        assert_eq!((listing.first_ms, listing.last_ms), (14.0, 14.0));
        let data_rows: Vec<_> = view
            .rows
            .iter()
            .filter(|r| r.lane == RowLane::Data(1))
            .collect();
        assert_eq!(data_rows.len(), 4, "connecting, connected, listing, closed");
        // Rows are in time order across lanes: the 226 comes last.
        let last = view.rows.last().unwrap();
        assert!(
            matches!(&last.kind, RowKind::Message { message, .. } if message.bytes.starts_with(b"226"))
        );
        // The session state came from the replies.
        assert!(view.conversation.client().state().login.is_logged_in());
        // Timeline: two TCP set-ups (control, data), the data arrow and the FIN.
        let connects: Vec<_> = view
            .arrows
            .iter()
            .filter(|a| a.kind == ArrowKind::Connect)
            .map(|a| a.to)
            .collect();
        assert_eq!(connects, vec![1, 2]);
        let data = view
            .arrows
            .iter()
            .find(|a| a.kind == ArrowKind::Data)
            .unwrap();
        assert_eq!((data.from, data.to), (2, 0));
        assert_eq!(data.label, "LIST output (41 B)");
        assert_eq!(data.message, Some(Pick::DataIn(1).id()));
        assert!(
            view.arrows
                .iter()
                .any(|a| a.kind == ArrowKind::Close && a.from == 2)
        );
        // The latest message is the 226 on the control connection.
        assert!(matches!(view.latest(), Some((Pick::Control(_), _))));
    }

    #[test]
    fn uploads_go_the_other_way_and_active_connections_come_from_the_server() {
        let mut lab = listing_session();
        lab.apply(FtpAction::OpenData {
            number: 2,
            origin: DataOrigin::Active {
                addr: "127.0.0.1:40555".into(),
            },
            at: 1020.0,
        });
        lab.apply(FtpAction::Claim {
            number: 2,
            kind: DataKind::Upload {
                path: "/upload/a.txt".into(),
                append: false,
            },
            transfer_type: TransferType::Image,
            upload_name: Some("a.txt".into()),
        });
        lab.apply(FtpAction::Data {
            number: 2,
            action: SessionAction::Relay {
                message: connected("127.0.0.1:20"),
                at: 1021.0,
            },
        });
        lab.apply(FtpAction::Data {
            number: 2,
            action: SessionAction::Sent {
                bytes: b"hello".to_vec(),
                at: 1022.0,
            },
        });
        lab.apply(FtpAction::Data {
            number: 2,
            action: SessionAction::ShutdownSent { at: 1023.0 },
        });
        let view = build(&lab, "ftp");
        assert_eq!(view.lanes.len(), 4);
        let up = view.message(Pick::DataOut(2)).unwrap();
        assert_eq!(up.sender, Sender::Client);
        assert!(up.dissection.summary.starts_with("STOR /upload/a.txt"));
        assert!(!up.complete, "still open: the server has not closed yet");
        let from_server = view
            .arrows
            .iter()
            .find(|a| a.kind == ArrowKind::Connect && a.from == 3)
            .unwrap();
        assert_eq!(from_server.to, 0);
        assert!(
            view.arrows
                .iter()
                .any(|a| a.kind == ArrowKind::Data && (a.from, a.to) == (0, 3))
        );
        assert!(view.message(Pick::DataIn(2)).is_none());
    }

    /// Where data connection `number` (or the control connection, for
    /// `None`) gets an action.
    fn on(lab: &mut FtpLab, number: Option<usize>, action: SessionAction) {
        lab.apply(match number {
            None => FtpAction::Control(action),
            Some(number) => FtpAction::Data { number, action },
        });
    }

    /// Bytes from the server read at `at_us` by the relay, reaching the
    /// page at `at`, as the relay link delivers them: the stamp, then them.
    fn read(lab: &mut FtpLab, number: Option<usize>, bytes: &[u8], at_us: u64, at: f64) {
        let stamp = RelayMessage::Data {
            at_us,
            len: bytes.len(),
        };
        on(lab, number, SessionAction::Relay { message: stamp, at });
        let bytes = bytes.to_vec();
        on(lab, number, SessionAction::Received { bytes, at });
    }

    fn stamped_connected(peer: &str, started_us: u64, at: f64) -> SessionAction {
        SessionAction::Relay {
            message: RelayMessage::Connected {
                transport: Transport::Tcp,
                target: Some("ftp".into()),
                peer: peer.into(),
                local: "127.0.0.1:50000".into(),
                connect_ms: 0.05,
                t_ms: None,
                recording: None,
                started_us: Some(started_us),
                at_us: Some(started_us + 50),
            },
            at,
        }
    }

    fn stamped_closed(at_us: u64, at: f64) -> SessionAction {
        SessionAction::Relay {
            message: RelayMessage::Closed {
                by: ClosedBy::Peer,
                reason: "FIN".into(),
                t_ms: None,
                at_us: Some(at_us),
            },
            at,
        }
    }

    /// A control connection, logged in, its data connection 1 opened from
    /// `origin` and LIST sent, every event stamped by the relay (µs).
    fn stamped_listing(origin: DataOrigin) -> FtpLab {
        let mut lab = FtpLab::default();
        let ftp = "ftp".to_string();
        on(
            &mut lab,
            None,
            SessionAction::Connecting {
                target: ftp,
                at: 1000.0,
            },
        );
        on(
            &mut lab,
            None,
            stamped_connected("127.0.0.1:2121", 50_000, 1001.0),
        );
        read(&mut lab, None, b"230 logged in\r\n", 50_200, 1002.0);
        lab.apply(FtpAction::OpenData {
            number: 1,
            origin,
            at: 1003.0,
        });
        let list = b"LIST\r\n".to_vec();
        on(
            &mut lab,
            None,
            SessionAction::Sent {
                bytes: list,
                at: 1004.0,
            },
        );
        let sent = RelayMessage::Sent {
            at_us: 50_900,
            len: 6,
            fin: false,
        };
        on(
            &mut lab,
            None,
            SessionAction::Relay {
                message: sent,
                at: 1005.0,
            },
        );
        lab.apply(FtpAction::Claim {
            number: 1,
            kind: DataKind::Listing,
            transfer_type: TransferType::Ascii,
            upload_name: None,
        });
        lab
    }

    /// The position among the rows, and among the arrows, of the control
    /// reply that starts with `code`, or of the listing for `None`.
    fn place(view: &FtpView, code: Option<&[u8]>) -> (usize, usize) {
        let pick = match code {
            None => Pick::DataIn(1),
            Some(code) => {
                let found = view
                    .messages
                    .iter()
                    .find(|(_, m)| m.bytes.starts_with(code));
                found.expect("the reply is shown").0
            }
        };
        let row = view
            .rows
            .iter()
            .position(|r| matches!(&r.kind, RowKind::Message { pick: p, .. } if *p == pick));
        let arrow = view
            .arrows
            .iter()
            .position(|a| a.message == Some(pick.id()));
        (row.expect("a row"), arrow.expect("an arrow"))
    }

    #[test]
    fn passive_226_is_drawn_after_the_listing_it_closes_though_it_reached_the_page_first() {
        let mut lab = stamped_listing(DataOrigin::Passive {
            port: 21001,
            arithmetic: None,
        });
        on(
            &mut lab,
            Some(1),
            stamped_connected("127.0.0.1:21001", 50_700, 1006.0),
        );
        read(
            &mut lab,
            None,
            b"150 Here comes the listing\r\n",
            51_000,
            1007.0,
        );
        // The control WebSocket delivers the 226 ten milliseconds before the
        // data WebSocket delivers the listing the server sent before it.
        read(&mut lab, None, b"226 Transfer complete\r\n", 51_300, 1011.0);
        read(
            &mut lab,
            Some(1),
            b"-rw-r--r-- 1 ftp ftp 5 a\r\n",
            51_100,
            1021.0,
        );
        on(&mut lab, Some(1), stamped_closed(51_200, 1022.0));
        let view = build(&lab, "ftp (127.0.0.1:2121)");
        let (listing, transfer_complete) = (place(&view, None), place(&view, Some(b"226")));
        assert!(listing.0 < transfer_complete.0, "rows: listing, then 226");
        assert!(listing.1 < transfer_complete.1, "arrows: listing, then 226");
        // Times count from the earliest event (the control connection's
        // connect, at 50 000 µs on the relay's clock).
        let data = view.message(Pick::DataIn(1)).unwrap();
        assert!((data.last_ms - 1.1).abs() < 1e-9, "{}", data.last_ms);
    }

    #[test]
    fn a_125_read_with_the_226_in_one_chunk_is_still_drawn_before_the_data() {
        let mut lab = stamped_listing(DataOrigin::Passive {
            port: 21001,
            arithmetic: None,
        });
        on(
            &mut lab,
            Some(1),
            stamped_connected("127.0.0.1:21001", 50_700, 1006.0),
        );
        read(
            &mut lab,
            Some(1),
            b"-rw-r--r-- 1 ftp ftp 5 a\r\n",
            51_100,
            1007.0,
        );
        on(&mut lab, Some(1), stamped_closed(51_200, 1008.0));
        // Both replies in one read, stamped when the 226 came.
        let replies = b"125 Transfer starting\r\n226 Transfer complete\r\n";
        read(&mut lab, None, replies, 51_300, 1009.0);
        let view = build(&lab, "ftp (127.0.0.1:2121)");
        let starting = place(&view, Some(b"125"));
        let listing = place(&view, None);
        let transfer_complete = place(&view, Some(b"226"));
        assert!(starting.0 < listing.0 && listing.0 < transfer_complete.0);
        assert!(starting.1 < listing.1 && listing.1 < transfer_complete.1);
    }

    #[test]
    fn active_150_is_drawn_before_the_data_though_it_reached_the_page_after() {
        let mut lab = stamped_listing(DataOrigin::Active {
            addr: "127.0.0.1:40555".into(),
        });
        // The server says 150, then connects and sends; the page hears the
        // data connection first. The relay's listener took the connection
        // after its data came in (a busy relay): the set-up is still drawn
        // before the data.
        on(
            &mut lab,
            Some(1),
            stamped_connected("127.0.0.1:20", 51_200, 1010.0),
        );
        read(
            &mut lab,
            Some(1),
            b"-rw-r--r-- 1 ftp ftp 5 a\r\n",
            51_150,
            1011.0,
        );
        on(&mut lab, Some(1), stamped_closed(51_260, 1012.0));
        read(
            &mut lab,
            None,
            b"150 Opening data connection\r\n",
            51_000,
            1020.0,
        );
        read(&mut lab, None, b"226 Transfer complete\r\n", 51_300, 1021.0);
        let view = build(&lab, "ftp (127.0.0.1:2121)");
        let opening = place(&view, Some(b"150"));
        let listing = place(&view, None);
        let transfer_complete = place(&view, Some(b"226"));
        assert!(opening.0 < listing.0 && listing.0 < transfer_complete.0);
        assert!(opening.1 < listing.1 && listing.1 < transfer_complete.1);
        // The server's connect to the page is drawn after the 150 too.
        let connect = view
            .arrows
            .iter()
            .position(|a| a.kind == ArrowKind::Connect && a.from == 2)
            .unwrap();
        assert!(opening.1 < connect && connect < listing.1);
    }

    #[test]
    fn picks_survive_the_round_trip_through_ids() {
        for pick in [
            Pick::Control(0),
            Pick::Control(7),
            Pick::DataIn(3),
            Pick::DataOut(12),
        ] {
            assert_eq!(Pick::from_id(pick.id()), pick);
        }
    }
}
