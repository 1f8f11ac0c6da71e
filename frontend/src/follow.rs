//! From a session's transcript to what a protocol workbench shows: the
//! whole messages (cut and dissected by the protocol's
//! [`Conversation`]), the events between them, and the timeline arrows.
//! Pure functions of the session, rebuilt on each render, unit-tested here.
//!
//! Entries are replayed in the order they happened on the page's one time
//! axis ([`Session::axis_ms`]), not the order they arrived in, and every
//! time handed out counts from an origin: the session's earliest event, or
//! one the page shares among several sessions ([`follow_from`]).

use crate::components::timeline::{Arrow, ArrowKind, Lane};
use crate::session::{ConnState, Direction, Entry, EventKind, Session};
use std::rc::Rc;
use wirelab_shared::conversation::{Conversation, Message, Sender};
use wirelab_shared::dissect::Severity;
use wirelab_shared::relay_protocol::{ClosedBy, Transport};

/// One line of a protocol workbench's transcript.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// A whole message (or what was left of one when the connection
    /// ended); `id` is its index among the messages.
    Message { id: usize, message: Rc<Message> },
    /// Bytes sent or received that do not complete a message yet, shown
    /// as they stand the moment they cross; when the rest arrives the
    /// whole message takes its place, with the same id.
    Partial { id: usize, message: Rc<Message> },
    /// Something that happened to the connection.
    Event(Entry),
}

impl Item {
    /// When it happened: for a message, when its first byte was sent or
    /// received (its last byte's time is `message.last_ms`).
    pub fn time(&self) -> f64 {
        match self {
            Item::Message { message, .. } | Item::Partial { message, .. } => message.first_ms,
            Item::Event(e) => e.t_ms,
        }
    }

    /// The message it shows, whole or partial.
    pub fn message(&self) -> Option<(usize, &Rc<Message>)> {
        match self {
            Item::Message { id, message } | Item::Partial { id, message } => Some((*id, message)),
            Item::Event(_) => None,
        }
    }
}

/// Replays the session's transcript through `conversation`, with times
/// since its earliest event.
pub fn follow(session: &Session, conversation: &mut dyn Conversation) -> Vec<Item> {
    follow_from(session, conversation, session.origin_ms().unwrap_or(0.0))
}

/// The earliest event of any of `sessions`: the origin of a page that shows
/// several connections on one axis.
pub fn origin<'a>(sessions: impl IntoIterator<Item = &'a Session>) -> f64 {
    sessions
        .into_iter()
        .filter_map(Session::origin_ms)
        .min_by(f64::total_cmp)
        .unwrap_or(0.0)
}

/// The session's entries in the order they happened, each with its time
/// since `origin` (event entries carry it as their `t_ms`).
pub fn in_time_order(session: &Session, origin: f64) -> Vec<(f64, &Entry)> {
    let mut timed: Vec<(f64, &Entry)> = session
        .entries
        .iter()
        .map(|e| (session.axis_ms(e) - origin, e))
        .collect();
    // Stable: entries stamped alike keep the order they arrived in.
    timed.sort_by(|a, b| a.0.total_cmp(&b.0));
    timed
}

/// [`follow`] with times since `origin` (see [`origin`]).
pub fn follow_from(
    session: &Session,
    conversation: &mut dyn Conversation,
    origin: f64,
) -> Vec<Item> {
    let mut items = Vec::new();
    let mut count = 0;
    let mut push_as = |items: &mut Vec<Item>, messages: Vec<Message>, partial: bool| {
        for message in messages {
            let (id, message) = (count, Rc::new(message));
            items.push(if partial {
                Item::Partial { id, message }
            } else {
                Item::Message { id, message }
            });
            count += 1;
        }
    };
    let mut push = |items: &mut Vec<Item>, messages: Vec<Message>| push_as(items, messages, false);
    let mut last_t = 0.0;
    for (t, entry) in in_time_order(session, origin) {
        last_t = t;
        match entry.direction {
            Direction::Sent => push(&mut items, conversation.client_bytes(&entry.bytes, t)),
            Direction::Received => push(&mut items, conversation.server_bytes(&entry.bytes, t)),
            Direction::Event => {
                if matches!(entry.kind, EventKind::Closed { .. } | EventKind::Failed) {
                    push(&mut items, conversation.closed(t));
                }
                items.push(Item::Event(Entry {
                    t_ms: t,
                    ..entry.clone()
                }));
            }
        }
    }
    if matches!(
        session.state,
        ConnState::Closed { .. } | ConnState::Failed { .. }
    ) {
        push(&mut items, conversation.closed(last_t));
    }
    // Messages still growing (an HTTP head without its blank line, a line
    // without its CR LF, SMTP message text before its final dot, a long
    // reply arriving); they keep their id when they complete.
    push_as(&mut items, conversation.in_progress(), true);
    items
}

/// The messages among the items, by id.
pub fn messages(items: &[Item]) -> Vec<Rc<Message>> {
    items
        .iter()
        .filter_map(|i| i.message().map(|(_, m)| m.clone()))
        .collect()
}

/// The worst diagnostic of a message, for its badge.
pub fn worst(message: &Message) -> Option<Severity> {
    message.dissection.worst()
}

/// The lane of each of a session's connections in a timeline: the client
/// is lane 0, each connection that shows gets the next, labelled with the
/// server it went to.
struct ConnectionLanes<'a> {
    session: &'a Session,
    fallback: &'a str,
    lanes: Vec<Lane>,
    /// (connection, lane) in the order they showed.
    seen: Vec<(usize, usize)>,
}

impl ConnectionLanes<'_> {
    fn lane(&mut self, connection: usize) -> usize {
        if let Some((_, lane)) = self.seen.iter().find(|(c, _)| *c == connection) {
            return *lane;
        }
        let lane = self.lanes.len();
        let label = self.session.server(connection).unwrap_or(self.fallback);
        self.lanes.push(Lane {
            label: label.to_string(),
        });
        self.seen.push((connection, lane));
        lane
    }
}

/// The lanes and arrows of a session's timeline: the client, and one lane
/// per connection (an HTTP/1.0 exchange and the next are two), every arrow
/// placed by when it happened. `server_label` names the server before any
/// connection shows.
pub fn timeline(
    session: &Session,
    items: &[Item],
    server_label: &str,
) -> (Rc<Vec<Lane>>, Rc<Vec<Arrow>>) {
    let mut lanes = ConnectionLanes {
        session,
        fallback: server_label,
        lanes: vec![Lane {
            label: "client (this page)".into(),
        }],
        seen: Vec::new(),
    };
    // Items come in time order and each connection opens with an event,
    // so a message belongs to the connection of the event before it.
    let mut server = None::<usize>;
    let mut arrows = Vec::new();
    for item in items {
        match item {
            Item::Message { id, message } | Item::Partial { id, message } => {
                let lane = match server {
                    Some(lane) => lane,
                    None => lanes.lane(0),
                };
                // At its first byte, as in the transcript.
                let (from, to, kind) = match message.sender {
                    Sender::Client => (0, lane, ArrowKind::Request),
                    Sender::Server => (lane, 0, ArrowKind::Response),
                };
                let t = message.first_ms;
                arrows.push(Arrow {
                    from,
                    to,
                    t_ms: t,
                    label: message.dissection.summary.clone(),
                    kind,
                    message: Some(*id),
                });
            }
            Item::Event(entry) => {
                let lane = lanes.lane(entry.connection);
                server = Some(lane);
                event_arrow(entry, lane, &mut arrows);
            }
        }
    }
    if lanes.lanes.len() == 1 {
        lanes.lane(0);
    }
    arrows.sort_by(|a, b| a.t_ms.total_cmp(&b.t_ms));
    (Rc::new(lanes.lanes), Rc::new(arrows))
}

/// The arrow an event draws between the client and the connection's lane.
fn event_arrow(entry: &Entry, lane: usize, arrows: &mut Vec<Arrow>) {
    match entry.kind {
        EventKind::Connected {
            connect_ms,
            transport: Transport::Tcp,
        } => arrows.push(Arrow {
            from: 0,
            to: lane,
            t_ms: entry.t_ms,
            label: format!("TCP set-up: SYN, SYN-ACK, ACK ({connect_ms:.2} ms)"),
            kind: ArrowKind::Connect,
            message: None,
        }),
        EventKind::Closed { by } => {
            let (from, to, label) = match by {
                ClosedBy::Peer => (lane, 0, "FIN: the server closed"),
                ClosedBy::Relay => (0, lane, "FIN: the connection is closed"),
            };
            arrows.push(Arrow {
                from,
                to,
                t_ms: entry.t_ms,
                label: label.into(),
                kind: ArrowKind::Close,
                message: None,
            });
        }
        EventKind::Shutdown => arrows.push(Arrow {
            from: 0,
            to: lane,
            t_ms: entry.t_ms,
            label: "FIN: the client is done sending".into(),
            kind: ArrowKind::Close,
            message: None,
        }),
        _ => {}
    }
}

/// Cuts text to `max` characters with an ellipsis.
pub fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut cut: String = text.chars().take(max).collect();
        cut.push('…');
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::SessionAction;
    use wirelab_shared::http::conversation::HttpConversation;
    use wirelab_shared::relay_protocol::RelayMessage;

    #[test]
    fn an_http_exchange_becomes_two_messages_and_four_arrows() {
        let mut s = Session::default();
        s.apply(SessionAction::Connecting {
            target: "http".into(),
            at: 0.0,
        });
        s.apply(SessionAction::Relay {
            message: RelayMessage::Connected {
                transport: Transport::Tcp,
                target: Some("http".into()),
                peer: "127.0.0.1:8081".into(),
                local: "127.0.0.1:5000".into(),
                connect_ms: 0.3,
                t_ms: None,
                recording: None,
                started_us: None,
                at_us: None,
            },
            at: 1.0,
        });
        s.apply(SessionAction::Sent {
            bytes: b"GET / HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(),
            at: 2.0,
        });
        s.apply(SessionAction::Received {
            bytes: b"HTTP/1.1 200 OK\r\nContent-Len".to_vec(),
            at: 3.0,
        });
        s.apply(SessionAction::Received {
            bytes: b"gth: 2\r\n\r\nhi".to_vec(),
            at: 4.0,
        });
        s.apply(SessionAction::Relay {
            message: RelayMessage::Closed {
                by: ClosedBy::Peer,
                reason: "FIN".into(),
                t_ms: None,
                at_us: None,
            },
            at: 5.0,
        });
        let items = follow(&s, &mut HttpConversation::new());
        let msgs = messages(&items);
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[1].dissection.summary, "HTTP/1.1 200 OK");
        assert_eq!((msgs[1].first_ms, msgs[1].last_ms), (3.0, 4.0));
        let (lanes, arrows) = timeline(&s, &items, "http 127.0.0.1:8081");
        assert_eq!(lanes.len(), 2);
        let kinds: Vec<_> = arrows.iter().map(|a| a.kind).collect();
        assert_eq!(
            kinds,
            [
                ArrowKind::Connect,
                ArrowKind::Request,
                ArrowKind::Response,
                ArrowKind::Close
            ]
        );
        assert_eq!(arrows[2].message, Some(1));
        assert_eq!(
            arrows[2].t_ms, 3.0,
            "the response is drawn at its first byte"
        );
        assert_eq!((arrows[3].from, arrows[3].to), (1, 0));
    }

    /// One HTTP/1.0 connection of the session: connect at `base` µs on the
    /// relay's clock, send `request`, read `reply`, the server closes. `at`
    /// is when the page starts it.
    fn http_exchange(s: &mut Session, base: u64, at: f64, request: &[u8], reply: &[u8]) {
        s.apply(SessionAction::Connecting {
            target: "http".into(),
            at,
        });
        let relay = |message, at| SessionAction::Relay { message, at };
        s.apply(relay(
            RelayMessage::Connected {
                transport: Transport::Tcp,
                target: Some("http".into()),
                peer: "127.0.0.1:8081".into(),
                local: "127.0.0.1:5000".into(),
                connect_ms: 0.1,
                t_ms: Some(0.2),
                recording: None,
                started_us: Some(base),
                at_us: Some(base + 100),
            },
            at + 1.0,
        ));
        s.apply(SessionAction::Sent {
            bytes: request.to_vec(),
            at: at + 2.0,
        });
        let sent = RelayMessage::Sent {
            at_us: base + 300,
            len: request.len(),
            fin: false,
        };
        s.apply(relay(sent, at + 3.0));
        let data = RelayMessage::Data {
            at_us: base + 600,
            len: reply.len(),
        };
        s.apply(relay(data, at + 4.0));
        s.apply(SessionAction::Received {
            bytes: reply.to_vec(),
            at: at + 4.0,
        });
        let closed = RelayMessage::Closed {
            by: ClosedBy::Peer,
            reason: "FIN".into(),
            t_ms: Some(1.0),
            at_us: Some(base + 700),
        };
        s.apply(relay(closed, at + 5.0));
    }

    #[test]
    fn two_connections_get_two_lanes_on_one_axis() {
        let mut s = Session::default();
        http_exchange(
            &mut s,
            10_000,
            0.0,
            b"GET /kiwi.html HTTP/1.0\r\n\r\n",
            b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi",
        );
        // The second connection starts later, though its page-side times
        // (connecting two milliseconds after Connect) are no longer than
        // the first's: its events must not fall between the first's.
        http_exchange(
            &mut s,
            14_000,
            0.5,
            b"GET /kiwi.html HTTP/1.0\r\nIf-Modified-Since: x\r\n\r\n",
            b"HTTP/1.0 304 Not Modified\r\n\r\n",
        );
        let items = follow(&s, &mut HttpConversation::new());
        let (lanes, arrows) = timeline(&s, &items, "http");
        let labels: Vec<_> = lanes.iter().map(|l| l.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "client (this page)",
                "http (127.0.0.1:8081)",
                "http (127.0.0.1:8081)"
            ]
        );
        // (kind, the connection's lane, µs since the first connect)
        let drawn: Vec<_> = arrows
            .iter()
            .map(|a| (a.kind, a.from.max(a.to), (a.t_ms * 1000.0).round() as i64))
            .collect();
        use ArrowKind::*;
        assert_eq!(
            drawn,
            [
                (Connect, 1, 100),
                (Request, 1, 300),
                (Response, 1, 600),
                (Close, 1, 700),
                (Connect, 2, 4100),
                (Request, 2, 4300),
                (Response, 2, 4600),
                (Close, 2, 4700),
            ]
        );
        let responses: Vec<_> = arrows.iter().filter(|a| a.kind == Response).collect();
        assert!(responses[0].label.contains("200 OK"));
        assert!(responses[1].label.contains("304 Not Modified"));
    }

    #[test]
    fn message_text_being_typed_shows_until_it_completes_and_flushes_once_at_close() {
        use wirelab_shared::smtp::SmtpTranscript;
        use wirelab_shared::transcript::FollowedConversation;
        let mut s = Session::default();
        s.apply(SessionAction::Connecting {
            target: "smtp".into(),
            at: 0.0,
        });
        s.apply(SessionAction::Relay {
            message: RelayMessage::Connected {
                transport: Transport::Tcp,
                target: Some("smtp".into()),
                peer: "127.0.0.1:2525".into(),
                local: "127.0.0.1:5000".into(),
                connect_ms: 0.3,
                t_ms: None,
                recording: None,
                started_us: None,
                at_us: None,
            },
            at: 1.0,
        });
        let talk: [(bool, &[u8]); 8] = [
            (false, b"220 hamburger.edu\r\n"),
            (true, b"HELO crepes.fr\r\n"),
            (false, b"250 Hello\r\n"),
            (true, b"MAIL FROM:<alice@crepes.fr>\r\n"),
            (false, b"250 ok\r\n"),
            (true, b"RCPT TO:<bob@hamburger.edu>\r\nDATA\r\n"),
            (false, b"250 ok\r\n354 go ahead\r\n"),
            (true, b"Do you like ketchup?\r\n"),
        ];
        for (i, (sent, bytes)) in talk.into_iter().enumerate() {
            let at = 2.0 + i as f64;
            let bytes = bytes.to_vec();
            s.apply(if sent {
                SessionAction::Sent { bytes, at }
            } else {
                SessionAction::Received { bytes, at }
            });
        }
        let follow_smtp =
            |s: &Session| follow(s, &mut FollowedConversation::new(SmtpTranscript::new()));
        let msgs = messages(&follow_smtp(&s));
        let last = msgs.last().unwrap();
        assert!(!last.complete, "the text has no final dot yet");
        assert_eq!(last.bytes, b"Do you like ketchup?\r\n");
        let growing_id = msgs.len() - 1;
        s.apply(SessionAction::Sent {
            bytes: b".\r\n".to_vec(),
            at: 20.0,
        });
        let msgs = messages(&follow_smtp(&s));
        assert_eq!(msgs.len() - 1, growing_id, "it keeps its id when complete");
        assert!(msgs[growing_id].complete);
        // Cut off mid-text: the text is flushed once, not twice.
        s.apply(SessionAction::Sent {
            bytes: b"Subject: again\r\n".to_vec(),
            at: 21.0,
        });
        s.apply(SessionAction::Relay {
            message: RelayMessage::Closed {
                by: ClosedBy::Peer,
                reason: "FIN".into(),
                t_ms: None,
                at_us: None,
            },
            at: 22.0,
        });
        let msgs = messages(&follow_smtp(&s));
        let flushed = msgs
            .iter()
            .filter(|m| m.bytes == b"Subject: again\r\n")
            .count();
        assert_eq!(flushed, 1);
    }

    #[test]
    fn a_head_without_its_blank_line_shows_at_once_then_completes_in_place() {
        let mut s = Session::default();
        s.apply(SessionAction::Connecting {
            target: "http".into(),
            at: 100.0,
        });
        s.apply(SessionAction::Sent {
            bytes: b"GET / HTTP/1.1\r\nHost: a\r\n".to_vec(),
            at: 102.0,
        });
        let items = follow(&s, &mut HttpConversation::new());
        let partial: Vec<_> = items
            .iter()
            .filter_map(|i| match i {
                Item::Partial { id, message } => Some((*id, message.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(partial.len(), 1, "{items:?}");
        let (id, head) = &partial[0];
        assert_eq!(head.bytes, b"GET / HTTP/1.1\r\nHost: a\r\n");
        assert_eq!(head.sender, Sender::Client);
        assert_eq!(head.first_ms, 2.0);
        s.apply(SessionAction::Sent {
            bytes: b"\r\n".to_vec(),
            at: 107.0,
        });
        let items = follow(&s, &mut HttpConversation::new());
        assert!(!items.iter().any(|i| matches!(i, Item::Partial { .. })));
        let whole: Vec<_> = items.iter().filter_map(Item::message).collect();
        assert_eq!(whole.len(), 1);
        let (whole_id, request) = whole[0];
        assert_eq!(whole_id, *id, "the whole message takes the partial's place");
        assert!(request.complete);
        assert_eq!(request.bytes, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        // Its time is its first byte's; its last byte's is kept too.
        let item = items.iter().find(|i| i.message().is_some()).unwrap();
        assert_eq!(item.time(), 2.0);
        assert_eq!(request.last_ms, 7.0);
    }

    #[test]
    fn a_reply_is_placed_at_its_first_byte() {
        let mut s = Session::default();
        s.apply(SessionAction::Sent {
            bytes: b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(),
            at: 1.0,
        });
        s.apply(SessionAction::Received {
            bytes: b"HTTP/1.1 200 OK\r\n".to_vec(),
            at: 3.0,
        });
        let items = follow(&s, &mut HttpConversation::new());
        assert!(
            matches!(items.last(), Some(Item::Partial { message, .. }) if message.sender == Sender::Server)
        );
        s.apply(SessionAction::Received {
            bytes: b"\r\n".to_vec(),
            at: 9.0,
        });
        let items = follow(&s, &mut HttpConversation::new());
        let reply = items.last().unwrap();
        assert!(matches!(reply, Item::Message { .. }));
        // Its first byte came at 3 ms, 2 ms after the session's first entry.
        assert_eq!(reply.time(), 2.0);
    }

    #[test]
    fn short_cuts_long_text() {
        assert_eq!(short("abcdef", 3), "abc…");
        assert_eq!(short("ab", 3), "ab");
    }
}
