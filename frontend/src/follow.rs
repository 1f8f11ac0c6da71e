//! From a session's transcript to what a protocol workbench shows: the
//! whole messages (cut and dissected by the protocol's
//! [`Conversation`]), the events between them, and the timeline arrows.
//! Pure functions of the session, rebuilt on each render, unit-tested here.

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

/// Replays the session's transcript through `conversation`.
pub fn follow(session: &Session, conversation: &mut dyn Conversation) -> Vec<Item> {
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
    for entry in &session.entries {
        last_t = entry.t_ms;
        match entry.direction {
            Direction::Sent => push(
                &mut items,
                conversation.client_bytes(&entry.bytes, entry.t_ms),
            ),
            Direction::Received => push(
                &mut items,
                conversation.server_bytes(&entry.bytes, entry.t_ms),
            ),
            Direction::Event => {
                if matches!(entry.kind, EventKind::Closed { .. } | EventKind::Failed) {
                    push(&mut items, conversation.closed(entry.t_ms));
                }
                items.push(Item::Event(entry.clone()));
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

/// The lanes and arrows of a one-connection timeline.
pub fn timeline(items: &[Item], server_label: &str) -> (Rc<Vec<Lane>>, Rc<Vec<Arrow>>) {
    let lanes = vec![
        Lane {
            label: "client (this page)".into(),
        },
        Lane {
            label: server_label.to_string(),
        },
    ];
    let mut arrows = Vec::new();
    for item in items {
        match item {
            Item::Message { id, message } | Item::Partial { id, message } => {
                // At its first byte, as in the transcript.
                let (from, to, kind) = match message.sender {
                    Sender::Client => (0, 1, ArrowKind::Request),
                    Sender::Server => (1, 0, ArrowKind::Response),
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
            Item::Event(entry) => match entry.kind {
                EventKind::Connected {
                    connect_ms,
                    transport: Transport::Tcp,
                } => arrows.push(Arrow {
                    from: 0,
                    to: 1,
                    t_ms: entry.t_ms,
                    label: format!("TCP set-up: SYN, SYN-ACK, ACK ({connect_ms:.2} ms)"),
                    kind: ArrowKind::Connect,
                    message: None,
                }),
                EventKind::Closed { by } => {
                    let (from, to, label) = match by {
                        ClosedBy::Peer => (1, 0, "FIN: the server closed"),
                        ClosedBy::Relay => (0, 1, "FIN: the connection is closed"),
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
                    to: 1,
                    t_ms: entry.t_ms,
                    label: "FIN: the client is done sending".into(),
                    kind: ArrowKind::Close,
                    message: None,
                }),
                _ => {}
            },
        }
    }
    arrows.sort_by(|a, b| a.t_ms.total_cmp(&b.t_ms));
    (Rc::new(lanes), Rc::new(arrows))
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
            },
            at: 5.0,
        });
        let items = follow(&s, &mut HttpConversation::new());
        let msgs = messages(&items);
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[1].dissection.summary, "HTTP/1.1 200 OK");
        assert_eq!((msgs[1].first_ms, msgs[1].last_ms), (3.0, 4.0));
        let (lanes, arrows) = timeline(&items, "http 127.0.0.1:8081");
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
        assert_eq!(reply.time(), 3.0);
    }

    #[test]
    fn short_cuts_long_text() {
        assert_eq!(short("abcdef", 3), "abc…");
        assert_eq!(short("ab", 3), "ab");
    }
}
