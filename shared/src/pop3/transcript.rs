//! Following a POP3 session from its bytes, for the page: feed what the
//! client and the server sent, in order, and get back each complete command
//! and reply, dissected in context, with the state (AUTHORIZATION,
//! TRANSACTION, UPDATE) after it.
//!
//! Replies are matched to commands in order; whether a reply is multi-line
//! is decided by the command it answers, as a real client must. A command
//! sent in the wrong state is flagged in its dissection (the server will
//! answer -ERR).

use super::command::{Command, parse_line};
use super::dissect::{dissect_command, dissect_reply, dissect_reply_to};
use super::frame::{next_command, next_reply_resuming};
use super::placeholder::placeholder_number;
use super::reply::Reply;
use super::session::{Pop3State, after_greeting, after_reply, check_state};
use crate::dissect::{Diagnostic, Dissection, Span};
use crate::framing::{strip_line_end, text_end};
use crate::line_protocol::{Seen, SessionRules, Transcript, command_line_len, reply_len};
use crate::transcript::{Observed, Side};
use std::collections::VecDeque;

/// The follower of one POP3 connection.
pub type Pop3Transcript = Transcript<Pop3Rules>;

/// What the POP3 follower knows of its session.
#[derive(Debug, Clone)]
pub struct Pop3Rules {
    state: Pop3State,
    awaiting: VecDeque<(usize, Option<Command>)>,
    greeted: bool,
    /// The last answered command was an accepted USER.
    user_given: bool,
    /// How far the server's buffer was searched for the end of a reply.
    scanned: usize,
    /// The message number of the last RETR or TOP the client sent.
    last_retrieval: Option<u32>,
}

impl Default for Pop3Rules {
    fn default() -> Self {
        Pop3Rules {
            state: Pop3State::AwaitingGreeting,
            awaiting: VecDeque::new(),
            greeted: false,
            user_given: false,
            scanned: 0,
            last_retrieval: None,
        }
    }
}

impl Pop3Rules {
    /// The state and "USER accepted" flag if every pending command succeeds.
    fn projected(&self) -> (Pop3State, bool) {
        let mut s = self.state;
        let mut user = self.user_given;
        for (_, c) in &self.awaiting {
            if let Some(c) = c {
                s = after_reply(s, c, true);
                user = matches!(c, Command::User(_));
            }
        }
        (s, user)
    }

    fn check(&self, bytes: &[u8], command: &Command, d: &mut Dissection) {
        let (state, user) = self.projected();
        if let Err(e) = check_state(state, command, user) {
            let end = bytes
                .iter()
                .position(|&b| b == b' ' || b == b'\r' || b == b'\n')
                .unwrap_or(bytes.len());
            d.diagnostics.push(
                Diagnostic::error(
                    Span::new(0, end),
                    format!("{e} (the session is in {state}): the server answers -ERR"),
                )
                .reference("RFC 1939 §3"),
            );
        }
    }

    /// Whether the reply now arriving is multi-line: the command it
    /// answers decides.
    fn multiline(&self) -> bool {
        self.greeted
            && self
                .awaiting
                .front()
                .and_then(|(_, c)| c.as_ref())
                .is_some_and(Command::expects_multiline)
    }

    fn command(&mut self, bytes: &[u8], index: usize) -> Seen<Pop3State> {
        let mut dissection = dissect_command(bytes);
        let command = parse_line(strip_line_end(bytes)).command.ok();
        if let Some(c) = &command {
            self.check(bytes, c, &mut dissection);
            if let Command::Retr(n) | Command::Top(n, _) = c {
                self.last_retrieval = Some(*n);
            }
        }
        self.awaiting.push_back((index, command));
        Seen {
            kind: "command",
            dissection,
            state: self.state,
            answers: None,
        }
    }

    fn reply(&mut self, bytes: &[u8], history: &[Observed<Pop3State>]) -> Seen<Pop3State> {
        let multiline = self.multiline();
        let ok = Reply::parse(bytes, multiline)
            .map(|r| r.ok)
            .unwrap_or(false);
        let (kind, mut dissection, answers) = if !self.greeted {
            self.greeted = true;
            self.state = after_greeting(ok);
            let mut d = dissect_reply(bytes);
            d.diagnostics.push(Diagnostic::note(
                Span::new(0, bytes.len().min(3)),
                "the greeting: the server speaks first; the session is in the AUTHORIZATION state (RFC 1939 §4)",
            ));
            ("greeting", d, None)
        } else if let Some((index, command)) = self.awaiting.pop_front() {
            let d = match &command {
                Some(c) => {
                    self.state = after_reply(self.state, c, ok);
                    self.user_given = ok && matches!(c, Command::User(_));
                    dissect_reply_to(bytes, c)
                }
                None => {
                    self.user_given = false;
                    dissect_reply(bytes)
                }
            };
            ("reply", d, Some(index))
        } else {
            let mut d = dissect_reply(bytes);
            d.diagnostics.push(Diagnostic::note(
                Span::new(0, bytes.len().min(4)),
                "a reply no command asked for",
            ));
            ("reply", d, None)
        };
        self.explain_a_wrong_placeholder(bytes, answers, history, &mut dissection);
        Seen {
            kind,
            dissection,
            state: self.state,
            answers,
        }
    }

    /// The course's erratum: a reply whose placeholder names another
    /// message than the RETR (or TOP) it answers, or, in a printed session
    /// that lost its `+OK` lines and so its pairing, the last one sent.
    fn explain_a_wrong_placeholder(
        &self,
        bytes: &[u8],
        answers: Option<usize>,
        history: &[Observed<Pop3State>],
        d: &mut Dissection,
    ) {
        let Some((span, named)) = placeholder_number(bytes) else {
            return;
        };
        let answered = answers
            .and_then(|index| history.get(index))
            .and_then(|m| parse_line(strip_line_end(&m.bytes)).command.ok());
        let asked = match answered {
            Some(Command::Retr(n) | Command::Top(n, _)) => n,
            _ => match self.last_retrieval {
                Some(n) => n,
                None => return,
            },
        };
        if asked != named {
            d.diagnostics.push(
                Diagnostic::warning(
                    span,
                    format!(
                        "an erratum of the course's slide: the client asked for message {asked} \
                         (retr {asked}) and the reply stands for message {named}. A server \
                         answers RETR {asked} with message {asked}'s text, after +OK and its \
                         size; the slide's `<message 1 contents>` after `retr 2` was copied from \
                         the `retr 1` above it."
                    ),
                )
                .reference("RFC 1939 §5 (RETR)"),
            );
        }
    }
}

impl SessionRules for Pop3Rules {
    type State = Pop3State;

    fn next_message(&mut self, side: Side, pending: &[u8]) -> Option<usize> {
        match side {
            Side::Client => command_line_len(pending, next_command),
            Side::Server => {
                let multiline = self.multiline();
                let len = reply_len(
                    pending,
                    next_reply_resuming(pending, multiline, &mut self.scanned),
                );
                if len.is_some() {
                    self.scanned = 0;
                }
                len
            }
        }
    }

    fn observe(
        &mut self,
        side: Side,
        bytes: &[u8],
        history: &[Observed<Pop3State>],
    ) -> Seen<Pop3State> {
        match side {
            Side::Client => self.command(bytes, history.len()),
            Side::Server => self.reply(bytes, history),
        }
    }

    fn state(&self) -> Pop3State {
        self.state
    }

    fn state_label(&self) -> String {
        self.state.label().to_string()
    }

    fn state_hint(&self) -> String {
        self.state.explain().to_string()
    }

    /// What the student is typing, checked against the state.
    fn dissect_draft(&self, bytes: &[u8]) -> Dissection {
        let mut d = dissect_command(bytes);
        if let Ok(c) = parse_line(&bytes[..text_end(bytes)]).command {
            self.check(bytes, &c, &mut d);
        }
        d
    }

    fn dissect_pending(&self, side: Side, pending: &[u8]) -> Dissection {
        match side {
            Side::Client => dissect_command(pending),
            // A reply still arriving is read as the answer to its command
            // (a message being retrieved shows its header already).
            Side::Server => match self.awaiting.front() {
                Some((_, Some(command))) if self.greeted => dissect_reply_to(pending, command),
                _ => dissect_reply(pending),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Engine, Millis, drain};
    use crate::mail::store::MemoryStore;
    use crate::pop3::server::{Pop3Server, Pop3ServerConfig};
    use std::sync::Arc;

    /// The course's session, typed one line at a time against the real server.
    #[test]
    fn the_course_session_against_the_server() {
        let store = Arc::new(MemoryStore::course());
        let mut server = Pop3Server::new(Pop3ServerConfig::default(), store);
        let mut t = Pop3Transcript::new();
        t.push_server(&drain(&mut server).bytes());
        for line in [
            "user bob",
            "pass hungry",
            "list",
            "retr 1",
            "dele 1",
            "retr 2",
            "dele 2",
            "quit",
        ] {
            let bytes = format!("{line}\r\n");
            t.push_client(bytes.as_bytes());
            server.handle_input(bytes.as_bytes(), Millis(0));
            t.push_server(&drain(&mut server).bytes());
        }
        let shown: Vec<_> = t
            .messages()
            .iter()
            .map(|m| format!("{} {}", m.kind, m.state.label()))
            .collect();
        assert_eq!(shown[0], "greeting AUTHORIZATION");
        assert_eq!(shown[4], "reply TRANSACTION");
        assert_eq!(shown.last().unwrap(), "reply UPDATE");
        assert_eq!(t.messages().len(), 17);
        let list = &t.messages()[6];
        assert_eq!(list.answers, Some(5));
        assert_eq!(
            list.dissection.find("Message 1").unwrap().value,
            "498 octets"
        );
        let retr = &t.messages()[8];
        assert!(retr.dissection.find("Header: Subject").is_some());
        assert!(retr.dissection.find("Envelope vs header").is_some());
        for m in t.messages() {
            assert!(
                m.dissection.check_invariants(true).is_empty(),
                "{} {:?}",
                m.kind,
                m.dissection.check_invariants(true)
            );
            assert!(
                !m.dissection
                    .diagnostics
                    .iter()
                    .any(|d| d.severity == crate::dissect::Severity::Error),
                "{:?}",
                m.dissection.diagnostics
            );
        }
    }

    #[test]
    fn a_long_message_arriving_in_pieces_completes_exactly_once() {
        let mut t = Pop3Transcript::new();
        t.push_server(b"+OK ready\r\n");
        t.push_client(b"USER bob\r\nPASS hungry\r\nRETR 1\r\n");
        t.push_server(b"+OK\r\n+OK\r\n");
        let mut body = b"Subject: long\r\n\r\n".to_vec();
        for i in 0..4000 {
            body.extend(format!("line {i} of a long message, with a dot at the end.\r\n").bytes());
        }
        let wire = crate::pop3::Reply::ok("long")
            .with_body(body.clone())
            .to_bytes();
        let mut done = Vec::new();
        for chunk in wire.chunks(500) {
            done.extend(t.push_server(chunk));
        }
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].bytes, wire);
        assert!(done[0].dissection.find("Header: Subject").is_some());
    }

    #[test]
    fn commands_in_the_wrong_state_are_flagged() {
        let mut t = Pop3Transcript::new();
        t.push_server(b"+OK POP3 server ready\r\n");
        let out = t.push_client(b"list\r\n");
        assert!(
            out[0]
                .dissection
                .diagnostics
                .iter()
                .any(|d| d.message.contains("TRANSACTION") && d.message.contains("-ERR"))
        );
        t.push_server(b"-ERR not logged in\r\n");
        assert!(
            t.dissect_draft(b"pass hungry\r\n")
                .diagnostics
                .iter()
                .any(|d| d.message.contains("right after a USER"))
        );
        // Pipelined USER and PASS: PASS is checked against the projected state.
        let out = t.push_client(b"user bob\r\npass hungry\r\n");
        assert!(
            out[1]
                .dissection
                .diagnostics
                .iter()
                .all(|d| d.severity != crate::dissect::Severity::Error)
        );
        t.push_server(b"+OK\r\n+OK logged in\r\n");
        assert_eq!(t.state(), Pop3State::Transaction);
        assert!(
            t.dissect_draft(b"user bob\r\n")
                .diagnostics
                .iter()
                .any(|d| d.message.contains("already logged in"))
        );
        // A multi-line reply is held until its final dot.
        t.push_client(b"list\r\n");
        assert!(t.push_server(b"+OK\r\n1 498\r\n").is_empty());
        assert_eq!(t.push_server(b".\r\n").len(), 1);
        t.push_client(b"quit\r\n");
        t.push_server(b"+OK bye\r\n");
        assert_eq!(t.state(), Pop3State::Update);
    }
}
