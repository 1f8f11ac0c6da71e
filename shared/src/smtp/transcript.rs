//! Following an SMTP session from its bytes, as a page does: feed what the
//! client sent and what the server sent, in the order they happened, and
//! get back every complete command, reply and message text, each dissected
//! in the context of the session, with the session state after it.
//!
//! The follower keeps the rules of [`super::session`]: the state moves only
//! when the server's reply confirms a command; replies are matched to
//! commands in order (pipelining included); after DATA, the client's bytes
//! are held until the reply says whether they are message text (354) or
//! more commands. A command out of sequence is flagged in its dissection
//! (the server will answer 503), the message text gets the envelope next to
//! its header, and 8-bit text without BODY=8BITMIME is noted.

use super::command::{Command, parse_line};
use super::dissect::{dissect_command, dissect_data, dissect_reply_to};
use super::frame::{next_command, next_reply};
use super::reply::Reply;
use super::session::{SmtpState, after_greeting, after_reply, check_sequence};
use crate::dissect::{Diagnostic, Dissection, Field, Protocol, Span};
use crate::framing::{strip_line_end, text_end};
use crate::line_protocol::{Seen, SessionRules, Transcript, command_line_len, reply_len};
use crate::mail::Envelope;
use crate::stuffing::find_end_from;
use crate::text::visible;
use crate::transcript::{Observed, Side};
use std::collections::VecDeque;

#[derive(Debug, Clone)]
enum Awaited {
    /// A command line (None if it did not parse).
    Command(Option<Command>),
    /// The end of the message text.
    EndOfData,
}

/// The follower of one SMTP connection.
pub type SmtpTranscript = Transcript<SmtpRules>;

/// What the SMTP follower knows of its session.
#[derive(Debug, Clone)]
pub struct SmtpRules {
    state: SmtpState,
    awaiting: VecDeque<(usize, Awaited)>,
    greeted: bool,
    /// DATA was sent and not answered: hold the client's bytes.
    data_wait: bool,
    /// 354 came: the client's bytes are message text.
    in_data: bool,
    envelope: Envelope,
    eight_bit: bool,
    /// How far the client's message text was searched for its end.
    scanned: usize,
}

impl Default for SmtpRules {
    fn default() -> Self {
        SmtpRules {
            state: SmtpState::AwaitingGreeting,
            awaiting: VecDeque::new(),
            greeted: false,
            data_wait: false,
            in_data: false,
            envelope: Envelope::default(),
            eight_bit: false,
            scanned: 0,
        }
    }
}

fn assumed_code(command: &Command) -> u16 {
    match command {
        Command::Data => 354,
        Command::Quit => 221,
        Command::Help(_) => 214,
        _ => 250,
    }
}

impl Transcript<SmtpRules> {
    /// The envelope of the transaction in progress (accepted MAIL and RCPT).
    pub fn envelope(&self) -> &Envelope {
        &self.rules().envelope
    }

    /// Whether the client's next bytes are message text.
    pub fn expecting_data(&self) -> bool {
        self.rules().in_data
    }
}

impl SmtpRules {
    /// The state if every command sent so far succeeds: what the next
    /// command is checked against.
    fn projected(&self) -> SmtpState {
        let mut s = self.state;
        for (_, a) in &self.awaiting {
            match a {
                Awaited::Command(Some(c)) => s = after_reply(s, c, assumed_code(c)),
                Awaited::EndOfData => s = SmtpState::Greeted,
                Awaited::Command(None) => {}
            }
        }
        s
    }

    /// The length of the client's next message: message text up to its
    /// final dot after a 354, else a command line; nothing while DATA
    /// awaits its reply or after the session closed.
    fn next_client_message(&mut self, pending: &[u8]) -> Option<usize> {
        if self.data_wait || self.state == SmtpState::Closed || pending.is_empty() {
            return None;
        }
        if !self.in_data {
            return command_line_len(pending, next_command);
        }
        let Some(end) = find_end_from(pending, self.scanned) else {
            self.scanned = pending.len();
            return None;
        };
        self.scanned = 0;
        Some(end.len)
    }

    fn data(&mut self, bytes: &[u8], index: usize) -> Seen<SmtpState> {
        let dissection = dissect_data(bytes, Some(&self.envelope), self.eight_bit);
        self.in_data = false;
        self.awaiting.push_back((index, Awaited::EndOfData));
        Seen {
            kind: "data",
            dissection,
            state: SmtpState::ReceivingData,
            answers: None,
        }
    }

    fn command(&mut self, bytes: &[u8], index: usize) -> Seen<SmtpState> {
        let mut dissection = dissect_command(bytes);
        let command = parse_line(strip_line_end(bytes)).command.ok();
        let projected = self.projected();
        let mut in_sequence = true;
        if let Some(c) = &command
            && let Err(e) = check_sequence(projected, c)
        {
            in_sequence = false;
            let verb_end = bytes
                .iter()
                .position(|&b| b == b' ' || b == b'\r' || b == b'\n')
                .unwrap_or(bytes.len());
            dissection.diagnostics.push(
                Diagnostic::error(
                    Span::new(0, verb_end),
                    format!(
                        "{e} (the session is \"{projected}\"): the server answers 503 bad sequence"
                    ),
                )
                .reference("RFC 5321 §4.1.4"),
            );
        }
        if matches!(command, Some(Command::Data)) && in_sequence {
            self.data_wait = true;
        }
        self.awaiting.push_back((index, Awaited::Command(command)));
        Seen {
            kind: "command",
            dissection,
            state: self.state,
            answers: None,
        }
    }

    fn reply(&mut self, bytes: &[u8]) -> Seen<SmtpState> {
        let reply = Reply::parse(bytes).ok();
        let code = reply.as_ref().map_or(0, |r| r.code);
        let (kind, dissection, answers) = if !self.greeted {
            self.greeted = true;
            self.state = after_greeting(code);
            let mut d = dissect_reply_to(bytes, None);
            d.diagnostics.push(Diagnostic::note(
                Span::new(0, 3.min(bytes.len())),
                if code == 220 {
                    "the greeting: the server speaks first, then waits for HELO or EHLO (RFC 5321 §4.3.1)"
                } else {
                    "a greeting other than 220: the server refuses the session and will close"
                },
            ));
            ("greeting", d, None)
        } else if let Some((index, awaited)) = self.awaiting.pop_front() {
            ("reply", self.answer(bytes, awaited, code), Some(index))
        } else {
            let mut d = dissect_reply_to(bytes, None);
            d.diagnostics.push(Diagnostic::note(
                Span::new(0, 3.min(bytes.len())),
                "a reply no command asked for (a server that shuts down says 421 and closes)",
            ));
            if code == 421 {
                self.state = SmtpState::Closed;
            }
            ("reply", d, None)
        };
        Seen {
            kind,
            dissection,
            state: self.state,
            answers,
        }
    }

    /// A reply to what the client sent: a command or the message text.
    fn answer(&mut self, bytes: &[u8], awaited: Awaited, code: u16) -> Dissection {
        match awaited {
            Awaited::Command(command) => {
                let d = dissect_reply_to(bytes, command.as_ref());
                if let Some(c) = &command {
                    self.follow(c, code);
                }
                d
            }
            Awaited::EndOfData => {
                let mut d = dissect_reply_to(bytes, None);
                d.diagnostics.push(Diagnostic::note(
                    Span::new(0, 3.min(bytes.len())),
                    if (200..300).contains(&code) {
                        "answers the end of the message: with this 250 the server has taken responsibility for delivering it"
                    } else {
                        "answers the end of the message: it was not accepted"
                    },
                ));
                self.state = after_reply(SmtpState::ReceivingData, &Command::Data, code);
                self.envelope = Envelope::default();
                self.eight_bit = false;
                d
            }
        }
    }

    /// Applies a reply to the command it answers.
    fn follow(&mut self, command: &Command, code: u16) {
        let ok = (200..300).contains(&code);
        match command {
            Command::Mail {
                reverse_path,
                params,
            } if ok => {
                self.envelope = Envelope {
                    mail_from: Some(reverse_path.clone()),
                    rcpt_to: Vec::new(),
                };
                self.eight_bit = params.iter().any(|p| {
                    p.keyword == "BODY"
                        && p.value
                            .as_deref()
                            .is_some_and(|v| v.eq_ignore_ascii_case("8BITMIME"))
                });
            }
            Command::Rcpt { forward_path, .. } if ok => {
                self.envelope.rcpt_to.push(forward_path.clone())
            }
            Command::Data => {
                self.data_wait = false;
                self.in_data = code == 354;
            }
            _ => {}
        }
        self.state = after_reply(self.state, command, code);
        if !self.state.in_transaction() && self.state != SmtpState::ReceivingData {
            self.envelope = Envelope::default();
            self.eight_bit = false;
        }
    }
}

impl SessionRules for SmtpRules {
    type State = SmtpState;

    fn next_message(&mut self, side: Side, pending: &[u8]) -> Option<usize> {
        match side {
            Side::Client => self.next_client_message(pending),
            Side::Server => reply_len(pending, next_reply(pending)),
        }
    }

    fn observe(
        &mut self,
        side: Side,
        bytes: &[u8],
        history: &[Observed<SmtpState>],
    ) -> Seen<SmtpState> {
        match side {
            Side::Client if self.in_data => self.data(bytes, history.len()),
            Side::Client => self.command(bytes, history.len()),
            Side::Server => self.reply(bytes),
        }
    }

    fn state(&self) -> SmtpState {
        self.state
    }

    fn state_label(&self) -> String {
        self.state.label().to_string()
    }

    fn state_hint(&self) -> String {
        self.state.explain().to_string()
    }

    /// What the student is typing (the bytes that would be sent), in the
    /// context of the session: a command checked against the state, or a
    /// line of the message text.
    fn dissect_draft(&self, bytes: &[u8]) -> Dissection {
        if self.in_data || self.data_wait {
            return dissect_data_line(bytes);
        }
        let mut d = dissect_command(bytes);
        if let Ok(c) = parse_line(&bytes[..text_end(bytes)]).command {
            let projected = self.projected();
            if let Err(e) = check_sequence(projected, &c) {
                d.diagnostics.push(
                    Diagnostic::error(
                        Span::new(0, c.verb().len().min(bytes.len())),
                        format!("{e} (the session is \"{projected}\"): the server will answer 503"),
                    )
                    .reference("RFC 5321 §4.1.4"),
                );
            }
        }
        d
    }

    fn dissect_pending(&self, side: Side, pending: &[u8]) -> Dissection {
        match side {
            // Message text typed so far, before its final dot (or sent
            // ahead of the 354, as a pipelining client does).
            Side::Client if self.in_data || self.data_wait => {
                dissect_data(pending, Some(&self.envelope), self.eight_bit)
            }
            Side::Client => dissect_command(pending),
            Side::Server => dissect_reply_to(pending, None),
        }
    }
}

/// One line of message text as the student types it after 354.
pub fn dissect_data_line(bytes: &[u8]) -> Dissection {
    let content_end = text_end(bytes);
    let line = &bytes[..content_end];
    let mut d = Dissection::new(
        Protocol::Smtp,
        format!("Message line: {}", visible(line)),
        bytes.len(),
    );
    if bytes.is_empty() {
        return d;
    }
    let mut children = Vec::new();
    if line == b"." {
        children.push(
            Field::new("End of data", Span::new(0, 1), ".")
                .help("A line with a single dot ends the message (RFC 5321 §4.1.1.4)."),
        );
    } else if line.first() == Some(&b'.') {
        children.push(Field::new("Dot", Span::new(0, 1), ".").help(
            "A line that starts with a dot: the receiver removes this first dot. To send a line \
             that starts with '.', type two (dot-stuffing, RFC 5321 §4.5.2).",
        ));
        if content_end > 1 {
            children.push(Field::new(
                "Text",
                Span::new(1, content_end),
                visible(&line[1..]),
            ));
        }
        d.diagnostics.push(
            Diagnostic::note(
                Span::new(0, 1),
                "the receiver removes the first dot of this line (dot-stuffing)",
            )
            .reference("RFC 5321 §4.5.2"),
        );
    } else if content_end > 0 {
        children.push(Field::new("Text", Span::new(0, content_end), visible(line)));
    }
    if content_end < bytes.len() {
        let eol = Span::new(content_end, bytes.len());
        children.push(Field::new("End of line", eol, visible(eol.slice(bytes))));
        if eol.slice(bytes) != b"\r\n" {
            d.diagnostics.push(
                Diagnostic::warning(
                    eol,
                    "message lines end with CR LF; a bare LF or CR is not a line end here",
                )
                .reference("RFC 5321 §2.3.8"),
            );
        }
    }
    if line.len() > 998 {
        d.diagnostics.push(
            Diagnostic::error(
                Span::new(0, content_end),
                "a message line is at most 998 characters",
            )
            .reference("RFC 5322 §2.1.1"),
        );
    }
    d.fields.push(
        Field::new("Message line", Span::new(0, bytes.len()), visible(line))
            .with_children(children),
    );
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::Follower;

    const COURSE: &[(Side, &str)] = &[
        (Side::Server, "220 hamburger.edu\r\n"),
        (Side::Client, "HELO crepes.fr\r\n"),
        (Side::Server, "250 Hello crepes.fr, pleased to meet you\r\n"),
        (Side::Client, "MAIL FROM: <alice@crepes.fr>\r\n"),
        (Side::Server, "250 alice@crepes.fr ... Sender ok\r\n"),
        (Side::Client, "RCPT TO: <bob@hamburger.edu>\r\n"),
        (Side::Server, "250 bob@hamburger.edu ... Recipient ok\r\n"),
        (Side::Client, "RCPT TO: <Johm@hamburger.edu>\r\n"),
        (Side::Server, "550 No such user here\r\n"),
        (Side::Client, "DATA\r\n"),
        (
            Side::Server,
            "354 Enter mail, end with \".\" on a line by itself\r\n",
        ),
        (Side::Client, "Do you like ketchup?\r\n"),
        (Side::Client, "    How about pickles?\r\n"),
        (Side::Client, ".\r\n"),
        (Side::Server, "250 Message accepted for delivery\r\n"),
        (Side::Client, "QUIT\r\n"),
        (Side::Server, "221 hamburger.edu closing connection\r\n"),
    ];

    #[test]
    fn the_course_dialogue_is_followed_state_by_state() {
        let t = SmtpTranscript::replay(COURSE.iter().map(|(s, b)| (*s, b.as_bytes())));
        let states: Vec<_> = t
            .messages()
            .iter()
            .map(|m| (m.kind.as_str(), m.state.label()))
            .collect();
        assert_eq!(
            states,
            [
                ("greeting", "connected"),
                ("command", "connected"),
                ("reply", "greeted"),
                ("command", "greeted"),
                ("reply", "mail transaction open"),
                ("command", "mail transaction open"),
                ("reply", "recipients given"),
                ("command", "recipients given"),
                ("reply", "recipients given"),
                ("command", "recipients given"),
                ("reply", "receiving data"),
                ("data", "receiving data"),
                ("reply", "greeted"),
                ("command", "greeted"),
                ("reply", "closed"),
            ]
        );
        let data = &t.messages()[11];
        assert_eq!(
            data.bytes,
            b"Do you like ketchup?\r\n    How about pickles?\r\n.\r\n"
        );
        assert!(data.dissection.find("Envelope vs header").is_some());
        assert!(
            data.dissection
                .diagnostics
                .iter()
                .any(|d| d.message.contains("no From:"))
        );
        let refusal = &t.messages()[8];
        assert_eq!(refusal.answers, Some(7));
        assert!(refusal.dissection.diagnostics.iter().any(|d| {
            d.message
                .contains("Johm@hamburger.edu>: this recipient is refused")
        }));
        assert_eq!(t.state(), SmtpState::Closed);
        for m in t.messages() {
            assert!(
                m.dissection.check_invariants(true).is_empty(),
                "{}: {:?}",
                m.kind,
                m.dissection.check_invariants(true)
            );
        }
    }

    #[test]
    fn sequence_errors_are_flagged_before_the_server_answers() {
        let mut t = SmtpTranscript::new();
        t.push_server(b"220 hi\r\n");
        let out = t.push_client(b"RCPT TO:<bob@hamburger.edu>\r\n");
        assert!(
            out[0]
                .dissection
                .diagnostics
                .iter()
                .any(|d| d.message.contains("HELO") && d.message.contains("503"))
        );
        t.push_server(b"503 Send HELO/EHLO first\r\n");
        t.push_client(b"HELO x.y\r\n");
        t.push_server(b"250 ok\r\n");
        let draft = t.dissect_draft(b"DATA\r\n");
        assert!(
            draft
                .diagnostics
                .iter()
                .any(|d| d.message.contains("RCPT") && d.message.contains("503"))
        );
        assert!(
            t.dissect_draft(b"MAIL FROM:<a@b.c>\r\n")
                .diagnostics
                .is_empty()
        );
    }

    #[test]
    fn pipelined_commands_and_held_data() {
        let mut t = SmtpTranscript::new();
        t.push_server(b"220 hi\r\n");
        // The client pipelines, then sends its text before the 354 arrives.
        let out = t.push_client(b"EHLO a.b\r\nMAIL FROM:<a@a.b> BODY=8BITMIME\r\nRCPT TO:<bob@hamburger.edu>\r\nDATA\r\nSubject: caf\xc3\xa9\r\n\r\nx\r\n.\r\n");
        assert_eq!(out.len(), 4, "the text is held until DATA is answered");
        assert!(out.iter().all(|m| {
            m.dissection
                .diagnostics
                .iter()
                .all(|d| d.severity != crate::dissect::Severity::Error)
        }));
        let out =
            t.push_server(b"250-hamburger.edu\r\n250 8BITMIME\r\n250 ok\r\n250 ok\r\n354 go\r\n");
        assert_eq!(out.len(), 5, "four replies and the released message text");
        let data = out.last().unwrap();
        assert_eq!(data.kind, "data");
        assert!(
            !data
                .dissection
                .diagnostics
                .iter()
                .any(|d| d.message.contains("8BITMIME")),
            "BODY=8BITMIME was declared"
        );
        assert_eq!(t.envelope().rcpt_to, ["bob@hamburger.edu"]);
        t.push_server(b"250 accepted\r\n");
        assert_eq!(t.state(), SmtpState::Greeted);
        assert!(t.envelope().rcpt_to.is_empty());
    }

    #[test]
    fn a_refused_data_releases_commands() {
        let mut t = SmtpTranscript::new();
        t.push_server(b"220 hi\r\n");
        t.push_client(b"HELO a.b\r\n");
        t.push_server(b"250 ok\r\n");
        t.push_client(b"MAIL FROM:<a@a.b>\r\n");
        t.push_server(b"250 ok\r\n");
        // DATA before RCPT: flagged, and its refusal leaves the next line a command.
        let out = t.push_client(b"DATA\r\nQUIT\r\n");
        assert_eq!(out.len(), 2);
        assert_eq!(out[1].kind, "command");
        t.push_server(b"503 Need RCPT before DATA\r\n221 bye\r\n");
        assert_eq!(t.state(), SmtpState::Closed);
        assert!(dissect_data_line(b"..x\r\n").find("Dot").is_some());
        assert!(dissect_data_line(b".\r\n").find("End of data").is_some());
        assert!(
            dissect_data_line(b"Do you like ketchup?\n").diagnostics[0]
                .message
                .contains("CR LF")
        );
    }
}
