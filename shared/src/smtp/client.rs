//! The SMTP client engine (sans-IO): a mail user agent or relay that sends
//! one or more messages over one connection, as the course says SMTP
//! does (persistent connections, a new MAIL FROM per message).
//!
//! It greets with EHLO (falling back to HELO if refused), then for each
//! message sends MAIL FROM, one RCPT TO per recipient (going on with those
//! accepted), DATA and the dot-stuffed message, and QUIT at the end. It
//! waits for each reply before the next command, so the dialogue reads like
//! the course's transcript. Its events say what happened to each message.

use super::command::{Command, Param};
use super::frame::next_reply;
use super::reply::Reply;
use super::session::{SmtpState, after_greeting, after_reply};
use crate::engine::{Engine, Millis, Output};
use crate::framing::LineTooLong;
use crate::line_protocol::{LineClient, Outbox, ReplyInput, feed_replies};
use crate::stuffing::stuff;
use std::collections::VecDeque;

/// One message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The message (header, empty line, body); bare LFs are sent as CR LF.
    pub message: Vec<u8>,
}

/// What the client reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmtpClientEvent {
    /// A command went out.
    Sent(String),
    /// A reply came in.
    Reply(Reply),
    /// Message `index` was accepted for these recipients.
    Delivered {
        index: usize,
        recipients: Vec<String>,
    },
    /// Message `index` was not delivered.
    Failed {
        index: usize,
        reply: Reply,
    },
    State(SmtpState),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Awaiting {
    Greeting,
    Ehlo,
    Helo,
    Mail,
    Rcpt,
    Data,
    EndOfData,
    Rset,
    Quit,
    Nothing,
}

/// The message being sent.
struct Transaction {
    index: usize,
    mail: OutgoingMail,
    accepted: Vec<String>,
    pending: VecDeque<String>,
    /// The last refusal of a RCPT, reported if no recipient is left.
    refusal: Option<Reply>,
}

/// One SMTP client connection.
pub struct SmtpClient {
    helo_domain: String,
    queue: VecDeque<OutgoingMail>,
    sent: usize,
    current: Option<Transaction>,
    awaiting: Awaiting,
    last_command: Option<Command>,
    eight_bit_ok: bool,
    state: SmtpState,
    input: ReplyInput,
    outbox: Outbox<SmtpClientEvent>,
}

/// The message with every line ending CR LF.
pub fn canonical_line_endings(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 16);
    for (i, &b) in message.iter().enumerate() {
        if b == b'\n' && (i == 0 || message[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

impl SmtpClient {
    /// A client that introduces itself as `helo_domain` and sends `mails`.
    pub fn new(helo_domain: &str, mails: Vec<OutgoingMail>) -> SmtpClient {
        SmtpClient {
            helo_domain: helo_domain.to_string(),
            queue: mails.into(),
            sent: 0,
            current: None,
            awaiting: Awaiting::Greeting,
            last_command: None,
            eight_bit_ok: false,
            state: SmtpState::AwaitingGreeting,
            input: ReplyInput::default(),
            outbox: Outbox::default(),
        }
    }

    pub fn state(&self) -> SmtpState {
        self.state
    }

    fn set_state(&mut self, state: SmtpState) {
        self.outbox
            .set_state(&mut self.state, state, SmtpClientEvent::State);
    }

    fn send(&mut self, command: Command, awaiting: Awaiting) {
        let bytes = command.to_bytes();
        let text = String::from_utf8_lossy(&bytes[..bytes.len() - 2]).into_owned();
        self.outbox.transmit(bytes);
        self.outbox.event(SmtpClientEvent::Sent(text));
        self.last_command = Some(command);
        self.awaiting = awaiting;
    }

    fn next_mail(&mut self) {
        match self.queue.pop_front() {
            None => self.send(Command::Quit, Awaiting::Quit),
            Some(mail) => {
                let index = self.sent;
                self.sent += 1;
                let mut params = Vec::new();
                if self.eight_bit_ok && mail.message.iter().any(|&b| b >= 0x80) {
                    params.push(Param {
                        keyword: "BODY".into(),
                        value: Some("8BITMIME".into()),
                    });
                }
                let command = Command::Mail {
                    reverse_path: mail.mail_from.clone(),
                    params,
                };
                let pending: VecDeque<String> = mail.rcpt_to.clone().into();
                self.current = Some(Transaction {
                    index,
                    mail,
                    accepted: Vec::new(),
                    pending,
                    refusal: None,
                });
                self.send(command, Awaiting::Mail);
            }
        }
    }

    fn fail_current(&mut self, reply: &Reply) {
        if let Some(t) = self.current.take() {
            self.outbox.event(SmtpClientEvent::Failed {
                index: t.index,
                reply: t.refusal.unwrap_or_else(|| reply.clone()),
            });
        }
    }

    fn next_rcpt_or_data(&mut self) {
        let Some(t) = self.current.as_mut() else {
            return self.next_mail();
        };
        if let Some(to) = t.pending.pop_front() {
            let command = Command::Rcpt {
                forward_path: to,
                params: vec![],
            };
            return self.send(command, Awaiting::Rcpt);
        }
        if t.accepted.is_empty() {
            // No recipient accepted: report the refusal, abort the transaction.
            let refusal = t
                .refusal
                .clone()
                .unwrap_or_else(|| Reply::new(554, "no recipients"));
            self.fail_current(&refusal);
            self.send(Command::Rset, Awaiting::Rset);
        } else {
            self.send(Command::Data, Awaiting::Data);
        }
    }

    fn on_reply(&mut self, reply: Reply) {
        self.outbox.event(SmtpClientEvent::Reply(reply.clone()));
        let code = reply.code;
        let ok = reply.is_positive();
        let state = match (&self.last_command, self.awaiting) {
            (_, Awaiting::Greeting) => after_greeting(code),
            (Some(c), _) => after_reply(self.state, c, code),
            (None, _) => self.state,
        };
        self.set_state(state);
        if code == 421 {
            return self.close();
        }
        match self.awaiting {
            Awaiting::Greeting if code == 220 => {
                self.send(Command::Ehlo(self.helo_domain.clone()), Awaiting::Ehlo)
            }
            Awaiting::Greeting => self.close(),
            Awaiting::Ehlo if ok => {
                self.eight_bit_ok = reply
                    .lines
                    .iter()
                    .any(|l| l.eq_ignore_ascii_case("8BITMIME"));
                self.next_mail();
            }
            Awaiting::Ehlo => self.send(Command::Helo(self.helo_domain.clone()), Awaiting::Helo),
            Awaiting::Helo if ok => self.next_mail(),
            Awaiting::Helo => self.send(Command::Quit, Awaiting::Quit),
            Awaiting::Mail if ok => self.next_rcpt_or_data(),
            Awaiting::Mail => {
                self.fail_current(&reply);
                self.next_mail();
            }
            Awaiting::Rcpt => {
                if let (Some(t), Some(Command::Rcpt { forward_path, .. })) =
                    (self.current.as_mut(), &self.last_command)
                {
                    if ok {
                        t.accepted.push(forward_path.clone());
                    } else {
                        t.refusal = Some(reply.clone());
                    }
                }
                self.next_rcpt_or_data();
            }
            Awaiting::Data if code == 354 => {
                let body = match &self.current {
                    Some(t) => stuff(&canonical_line_endings(&t.mail.message)),
                    None => b".\r\n".to_vec(),
                };
                self.outbox.transmit(body);
                self.awaiting = Awaiting::EndOfData;
            }
            Awaiting::Data => {
                self.fail_current(&reply);
                self.send(Command::Rset, Awaiting::Rset);
            }
            Awaiting::EndOfData => {
                if let Some(t) = self.current.take() {
                    self.outbox.event(if ok {
                        SmtpClientEvent::Delivered {
                            index: t.index,
                            recipients: t.accepted,
                        }
                    } else {
                        SmtpClientEvent::Failed {
                            index: t.index,
                            reply: reply.clone(),
                        }
                    });
                }
                self.next_mail();
            }
            Awaiting::Rset => {
                self.fail_current(&reply);
                self.next_mail();
            }
            Awaiting::Quit => self.close(),
            Awaiting::Nothing => {}
        }
    }
}

impl LineClient for SmtpClient {
    type Event = SmtpClientEvent;
    type Reply = Reply;
    /// Every SMTP reply is framed the same way.
    type Framing = ();

    fn outbox(&mut self) -> &mut Outbox<SmtpClientEvent> {
        &mut self.outbox
    }

    fn input(&mut self) -> &mut ReplyInput {
        &mut self.input
    }

    fn framing(&self) {}

    fn frame(buf: &[u8], _scanned: &mut usize, _: ()) -> Result<Option<usize>, LineTooLong> {
        next_reply(buf)
    }

    fn parse(raw: &[u8], _: ()) -> Option<Reply> {
        Reply::parse(raw).ok()
    }

    fn on_reply(&mut self, reply: Reply) {
        SmtpClient::on_reply(self, reply)
    }

    fn close(&mut self) {
        let (awaiting, state) = (&mut self.awaiting, &mut self.state);
        self.outbox.close(|out| {
            *awaiting = Awaiting::Nothing;
            out.set_state(state, SmtpState::Closed, SmtpClientEvent::State);
        });
    }
}

impl Engine for SmtpClient {
    type Event = SmtpClientEvent;

    fn handle_input(&mut self, bytes: &[u8], _now: Millis) {
        feed_replies(self, bytes);
    }

    fn handle_eof(&mut self, _now: Millis) {
        self.close();
    }

    fn poll_output(&mut self) -> Output<SmtpClientEvent> {
        self.outbox.poll(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::drain;
    use crate::mail::store::MemoryStore;
    use crate::smtp::server::{SmtpServer, SmtpServerConfig};
    use std::sync::Arc;

    /// Runs a client against a server until both are done.
    fn converse(client: &mut SmtpClient, server: &mut impl Engine) -> Vec<SmtpClientEvent> {
        let mut events = Vec::new();
        for _ in 0..100 {
            let from_server = drain(server);
            client.handle_input(&from_server.bytes(), Millis(0));
            let from_client = drain(client);
            let bytes = from_client.bytes();
            events.extend(from_client.events);
            if from_client.close {
                break;
            }
            server.handle_input(&bytes, Millis(0));
        }
        events
    }

    #[test]
    fn sends_two_messages_on_one_connection() {
        let store = Arc::new(MemoryStore::course());
        let mut server = SmtpServer::new(SmtpServerConfig::default(), store.clone());
        let mails = vec![
            OutgoingMail {
                mail_from: "alice@crepes.fr".into(),
                rcpt_to: vec!["bob@hamburger.edu".into(), "john@hamburger.edu".into()],
                message: b"Subject: one\n\n.leading dot\nDo you like ketchup?\n".to_vec(),
            },
            OutgoingMail {
                mail_from: "alice@crepes.fr".into(),
                rcpt_to: vec!["nobody@hamburger.edu".into()],
                message: b"Subject: two\r\n\r\nlost\r\n".to_vec(),
            },
            OutgoingMail {
                mail_from: "bob@hamburger.edu".into(),
                rcpt_to: vec!["alice@crepes.fr".into()],
                message: "Subject: tr\u{e8}s bien\r\n\r\ncaf\u{e9}\r\n"
                    .as_bytes()
                    .to_vec(),
            },
        ];
        let mut client = SmtpClient::new("crepes.fr", mails);
        let events = converse(&mut client, &mut server);
        let outcomes: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                SmtpClientEvent::Delivered { index, recipients } => {
                    Some(format!("{index} ok {recipients:?}"))
                }
                SmtpClientEvent::Failed { index, reply } => {
                    Some(format!("{index} failed {}", reply.code))
                }
                _ => None,
            })
            .collect();
        assert_eq!(
            outcomes,
            [
                "0 ok [\"bob@hamburger.edu\"]",
                "1 failed 550",
                "2 ok [\"alice@crepes.fr\"]"
            ]
        );
        assert!(events.contains(&SmtpClientEvent::Sent(
            "MAIL FROM:<bob@hamburger.edu> BODY=8BITMIME".into()
        )));
        assert_eq!(client.state(), SmtpState::Closed);
        let bob = store.messages("bob@hamburger.edu");
        assert!(
            bob[2]
                .1
                .ends_with(b"Subject: one\r\n\r\n.leading dot\r\nDo you like ketchup?\r\n")
        );
        assert_eq!(store.messages("alice@crepes.fr").len(), 1);
    }

    #[test]
    fn falls_back_to_helo_and_gives_up_on_a_bad_greeting() {
        let mut client = SmtpClient::new("crepes.fr", vec![]);
        client.handle_input(b"220 old.server\r\n500 what?\r\n", Millis(0));
        let out = drain(&mut client);
        assert_eq!(out.bytes(), b"EHLO crepes.fr\r\nHELO crepes.fr\r\n");
        client.handle_input(b"250 ok\r\n", Millis(0));
        assert_eq!(drain(&mut client).bytes(), b"QUIT\r\n");
        let mut client = SmtpClient::new("crepes.fr", vec![]);
        client.handle_input(b"554 go away\r\n", Millis(0));
        assert!(drain(&mut client).close);
    }

    #[test]
    fn line_endings_are_made_canonical() {
        assert_eq!(canonical_line_endings(b"a\nb\r\nc\n"), b"a\r\nb\r\nc\r\n");
        assert_eq!(canonical_line_endings(b"\n"), b"\r\n");
    }
}
