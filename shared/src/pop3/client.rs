//! The POP3 client engine (sans-IO): logs in, lists the maildrop,
//! retrieves every message and, in "download and delete" mode, marks each
//! for deletion, then quits, which is when the server deletes them (the
//! course's session). In "download and keep" mode nothing is deleted.

use super::command::Command;
use super::frame::next_reply_resuming;
use super::reply::Reply;
use super::session::{Pop3State, after_greeting, after_reply};
use crate::engine::{Engine, Millis, Output};
use crate::framing::LineTooLong;
use crate::line_protocol::{LineClient, Outbox, ReplyInput, feed_replies};
use std::collections::VecDeque;

/// What the client reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pop3ClientEvent {
    Sent(String),
    Reply {
        ok: bool,
        text: String,
    },
    /// A retrieved message.
    Message {
        number: u32,
        bytes: Vec<u8>,
    },
    LoginFailed(String),
    State(Pop3State),
}

/// One POP3 client connection.
pub struct Pop3Client {
    user: String,
    password: String,
    delete: bool,
    state: Pop3State,
    greeted: bool,
    awaiting: Option<Command>,
    queue: VecDeque<Command>,
    input: ReplyInput,
    outbox: Outbox<Pop3ClientEvent>,
}

impl Pop3Client {
    /// A client for `user`; `delete` chooses download-and-delete.
    pub fn new(user: &str, password: &str, delete: bool) -> Pop3Client {
        Pop3Client {
            user: user.into(),
            password: password.into(),
            delete,
            state: Pop3State::AwaitingGreeting,
            greeted: false,
            awaiting: None,
            queue: VecDeque::new(),
            input: ReplyInput::default(),
            outbox: Outbox::default(),
        }
    }

    pub fn state(&self) -> Pop3State {
        self.state
    }

    fn set_state(&mut self, s: Pop3State) {
        self.outbox
            .set_state(&mut self.state, s, Pop3ClientEvent::State);
    }

    fn send(&mut self, command: Command) {
        let bytes = command.to_bytes();
        let shown = match &command {
            Command::Pass(_) => "PASS ••••••".to_string(),
            _ => String::from_utf8_lossy(&bytes[..bytes.len() - 2]).into_owned(),
        };
        self.outbox.transmit(bytes);
        self.outbox.event(Pop3ClientEvent::Sent(shown));
        self.awaiting = Some(command);
    }

    fn send_next(&mut self) {
        let next = self.queue.pop_front().unwrap_or(Command::Quit);
        self.send(next);
    }

    fn on_reply(&mut self, reply: Reply) {
        self.outbox.event(Pop3ClientEvent::Reply {
            ok: reply.ok,
            text: reply.text.clone(),
        });
        if !self.greeted {
            self.greeted = true;
            self.set_state(after_greeting(reply.ok));
            if !reply.ok {
                return self.close();
            }
            return self.send(Command::User(self.user.clone()));
        }
        let Some(command) = self.awaiting.take() else {
            return;
        };
        let next = after_reply(self.state, &command, reply.ok);
        self.set_state(next);
        match (&command, reply.ok) {
            (Command::User(_), true) => self.send(Command::Pass(self.password.clone())),
            (Command::User(_) | Command::Pass(_), false) => {
                self.outbox.event(Pop3ClientEvent::LoginFailed(reply.text));
                self.send(Command::Quit);
            }
            (Command::Pass(_), true) => self.send(Command::List(None)),
            (Command::List(None), true) => {
                let listing = reply.body.unwrap_or_default();
                for line in String::from_utf8_lossy(&listing).lines() {
                    if let Some(n) = line.split(' ').next().and_then(|n| n.parse::<u32>().ok()) {
                        self.queue.push_back(Command::Retr(n));
                        if self.delete {
                            self.queue.push_back(Command::Dele(n));
                        }
                    }
                }
                self.send_next();
            }
            (Command::Retr(n), true) => {
                self.outbox.event(Pop3ClientEvent::Message {
                    number: *n,
                    bytes: reply.body.unwrap_or_default(),
                });
                self.send_next();
            }
            (Command::Quit, _) => self.close(),
            _ => self.send_next(),
        }
    }
}

impl LineClient for Pop3Client {
    type Event = Pop3ClientEvent;
    type Reply = Reply;
    /// Whether the reply awaited is multi-line.
    type Framing = bool;

    fn outbox(&mut self) -> &mut Outbox<Pop3ClientEvent> {
        &mut self.outbox
    }

    fn input(&mut self) -> &mut ReplyInput {
        &mut self.input
    }

    fn framing(&self) -> bool {
        self.greeted
            && self
                .awaiting
                .as_ref()
                .is_some_and(Command::expects_multiline)
    }

    fn frame(
        buf: &[u8],
        scanned: &mut usize,
        multiline: bool,
    ) -> Result<Option<usize>, LineTooLong> {
        next_reply_resuming(buf, multiline, scanned)
    }

    fn parse(raw: &[u8], multiline: bool) -> Option<Reply> {
        Reply::parse(raw, multiline).ok()
    }

    fn on_reply(&mut self, reply: Reply) {
        Pop3Client::on_reply(self, reply)
    }

    fn close(&mut self) {
        let state = &mut self.state;
        self.outbox.close(|out| {
            if *state != Pop3State::Update {
                out.set_state(state, Pop3State::Closed, Pop3ClientEvent::State);
            }
        });
    }
}

impl Engine for Pop3Client {
    type Event = Pop3ClientEvent;

    fn handle_input(&mut self, bytes: &[u8], _now: Millis) {
        feed_replies(self, bytes);
    }

    fn handle_eof(&mut self, _now: Millis) {
        self.close();
    }

    fn poll_output(&mut self) -> Output<Pop3ClientEvent> {
        self.outbox.poll(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::drain;
    use crate::mail::store::{MemoryStore, course_messages};
    use crate::pop3::server::{Pop3Server, Pop3ServerConfig};
    use std::sync::Arc;

    fn run(client: &mut Pop3Client, store: &Arc<MemoryStore>) -> Vec<Pop3ClientEvent> {
        let mut server = Pop3Server::new(Pop3ServerConfig::default(), store.clone());
        let mut events = Vec::new();
        for _ in 0..50 {
            let s = drain(&mut server);
            client.handle_input(&s.bytes(), Millis(0));
            let c = drain(client);
            let bytes = c.bytes();
            events.extend(c.events);
            if c.close {
                break;
            }
            server.handle_input(&bytes, Millis(0));
        }
        drain(&mut server);
        events
    }

    fn messages(events: &[Pop3ClientEvent]) -> Vec<Vec<u8>> {
        events
            .iter()
            .filter_map(|e| match e {
                Pop3ClientEvent::Message { bytes, .. } => Some(bytes.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn download_and_keep_then_download_and_delete() {
        let store = Arc::new(MemoryStore::course());
        let mut keep = Pop3Client::new("bob", "hungry", false);
        let got = messages(&run(&mut keep, &store));
        assert_eq!(got, course_messages().map(|m| m.to_vec()));
        assert_eq!(store.messages("bob@hamburger.edu").len(), 2);
        let mut delete = Pop3Client::new("bob", "hungry", true);
        let events = run(&mut delete, &store);
        assert_eq!(messages(&events).len(), 2);
        assert!(events.contains(&Pop3ClientEvent::Sent("DELE 2".into())));
        assert!(events.contains(&Pop3ClientEvent::Sent("PASS ••••••".into())));
        assert_eq!(delete.state(), Pop3State::Update);
        assert!(store.messages("bob@hamburger.edu").is_empty());
    }

    #[test]
    fn a_wrong_password_is_reported() {
        let store = Arc::new(MemoryStore::course());
        let mut client = Pop3Client::new("bob", "full", true);
        let events = run(&mut client, &store);
        assert!(
            events
                .iter()
                .any(|e| matches!(e, Pop3ClientEvent::LoginFailed(t) if t.contains("[AUTH]")))
        );
        assert_eq!(client.state(), Pop3State::Closed);
    }
}
