//! The SMTP server engine (sans-IO): the course's `hamburger.edu`, which
//! receives mail for the local mailboxes of a [`MailStore`] and refuses to
//! relay anywhere else.
//!
//! Its replies follow the course's transcript word for word after HELO
//! (`250 Hello crepes.fr, pleased to meet you`, `550 No such user here`,
//! ...). After EHLO it lists its extensions (SIZE, 8BITMIME, PIPELINING,
//! ENHANCEDSTATUSCODES, HELP) and adds enhanced status codes. A message is
//! acknowledged with 250 only after [`MailStore::deliver`] returned, with a
//! `Return-Path:` and a `Received:` line added on top, dated from the time
//! the driver passes in (see [`SmtpServerConfig::clock_epoch_unix`]), not
//! from the store. The driver must run the engine where a store call may
//! block (the relay's disk store does).
//!
//! Every bound is in [`SmtpServerConfig`] and answered as RFC 5321 §4.5.3
//! says: a command line too long gets 500 (dropped as it arrives), a
//! message over SIZE 552 (after its end, kept to the limit meanwhile), a
//! recipient over the limit 452, a command line or a message that does
//! not arrive in time 421 and the connection closed (§4.5.3.2), as do too
//! many refused commands (Postfix's `smtpd_hard_error_limit`) and more
//! pipelined input than the server holds (see [`crate::command_reader`]).

use super::command::{Command, CommandError, Param, parse_line};
use super::frame::{COMMAND_LINE_LIMIT, DataReceiver};
use super::reply::Reply;
use super::session::{SmtpState, after_reply, check_sequence};
use crate::command_reader::{CommandReader, LineLimits, Next};
use crate::engine::{Engine, Millis, Output};
use crate::line_protocol::Outbox;
use crate::mail::date::DateTime;
use crate::mail::store::{MailStore, RecipientCheck, StoreError};
use crate::mail::trace::format_received;

/// How the server presents itself and what it accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpServerConfig {
    /// The server's name in the greeting and trace lines.
    pub hostname: String,
    /// Greet with `220 <hostname> ESMTP Service ready`, as most servers do,
    /// instead of the course's bare `220 <hostname>`. Either is RFC 5321's
    /// greeting (§4.2: the domain, then optional text); the word ESMTP there
    /// is only a custom (RFC 1869 §4.2 asked for it, RFC 5321 does not).
    pub esmtp_greeting: bool,
    /// The largest message accepted (announced as SIZE).
    pub max_message_bytes: usize,
    pub max_recipients: usize,
    /// The client's address as the server sees it, for `Received:`.
    pub peer: String,
    /// After this many refused commands the server closes with 421.
    pub max_errors: usize,
    /// The longest command line, without CR LF (beyond it: 500).
    pub max_line_bytes: usize,
    /// How long a command line may take from its first byte to its end.
    pub command_timeout_ms: u64,
    /// How long the message may take from the 354 to its final dot.
    pub data_timeout_ms: u64,
    /// Commands answered before the server waits for its replies to be
    /// written (a PIPELINING client that never reads stops being read).
    pub max_pipelined_commands: usize,
    /// The Unix second at which the driver's clock read `Millis(0)`, so
    /// the `Received:` line is dated from the time the driver passes in;
    /// `None`: the server has no wall clock and dates it at the epoch.
    pub clock_epoch_unix: Option<i64>,
}

impl Default for SmtpServerConfig {
    fn default() -> Self {
        SmtpServerConfig {
            hostname: "hamburger.edu".into(),
            esmtp_greeting: false,
            max_message_bytes: 10 * 1024 * 1024,
            max_recipients: 100,
            peer: "unknown".into(),
            max_errors: 20,
            max_line_bytes: COMMAND_LINE_LIMIT,
            command_timeout_ms: 60_000,
            data_timeout_ms: 300_000,
            max_pipelined_commands: 128,
            clock_epoch_unix: None,
        }
    }
}

/// What the server reports to its driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmtpServerEvent {
    /// A command line and the code it was answered with.
    Answered { command: String, code: u16 },
    /// A message was stored.
    Delivered {
        reverse_path: String,
        mailboxes: Vec<String>,
        size: usize,
    },
    /// The session state changed.
    State(SmtpState),
}

/// One SMTP server connection.
pub struct SmtpServer<S: MailStore> {
    config: SmtpServerConfig,
    store: S,
    state: SmtpState,
    input: CommandReader,
    data: Option<DataReceiver>,
    /// When the message being received must have ended.
    data_deadline: Option<Millis>,
    now: Millis,
    esmtp: bool,
    helo: String,
    reverse_path: String,
    /// (address as given, mailbox)
    recipients: Vec<(String, String)>,
    outbox: Outbox<SmtpServerEvent>,
    errors: usize,
}

impl<S: MailStore> SmtpServer<S> {
    /// A new connection: the greeting is ready to be polled.
    pub fn new(config: SmtpServerConfig, store: S) -> SmtpServer<S> {
        let input = CommandReader::new(LineLimits {
            max_line_bytes: config.max_line_bytes,
            line_timeout_ms: config.command_timeout_ms,
            max_pipelined: config.max_pipelined_commands,
        });
        let mut server = SmtpServer {
            config,
            store,
            state: SmtpState::AwaitingGreeting,
            input,
            data: None,
            data_deadline: None,
            now: Millis(0),
            esmtp: false,
            helo: String::new(),
            reverse_path: String::new(),
            recipients: Vec::new(),
            outbox: Outbox::default(),
            errors: 0,
        };
        let greeting = server.greeting();
        server.send(Reply::new(220, greeting));
        server.set_state(SmtpState::Connected);
        server
    }

    /// The text of the 220: the course's bare name, or with the ESMTP words.
    fn greeting(&self) -> String {
        let hostname = &self.config.hostname;
        if self.config.esmtp_greeting {
            format!("{hostname} ESMTP Service ready")
        } else {
            hostname.clone()
        }
    }

    /// Where the session is.
    pub fn state(&self) -> SmtpState {
        self.state
    }

    fn send(&mut self, reply: Reply) {
        let bytes = reply.to_bytes();
        self.input.replied(bytes.len());
        self.outbox.transmit(bytes);
    }

    fn set_state(&mut self, state: SmtpState) {
        self.outbox
            .set_state(&mut self.state, state, SmtpServerEvent::State);
        if !state.in_transaction() && state != SmtpState::ReceivingData {
            self.reverse_path.clear();
            self.recipients.clear();
        }
    }

    /// A reply with the enhanced code prefixed when the client said EHLO.
    fn text(&self, enhanced: &str, text: &str) -> String {
        if self.esmtp && !enhanced.is_empty() {
            format!("{enhanced} {text}")
        } else {
            text.to_string()
        }
    }

    fn answer(
        &mut self,
        command: Option<&Command>,
        line: &[u8],
        code: u16,
        enhanced: &str,
        text: &str,
    ) {
        let text = self.text(enhanced, text);
        self.send(Reply::new(code, text));
        self.outbox.event(SmtpServerEvent::Answered {
            command: String::from_utf8_lossy(line).into_owned(),
            code,
        });
        if let Some(cmd) = command {
            let next = after_reply(self.state, cmd, code);
            self.set_state(next);
        }
        if code >= 500 {
            self.errors += 1;
            if self.errors >= self.config.max_errors {
                self.give_up("4.7.0", "Too many errors, closing connection");
            }
        }
    }

    /// 421 `<domain> <why>` (RFC 5321 §3.8), then close: what the server
    /// answers when it ends the session itself.
    fn give_up(&mut self, enhanced: &str, why: &str) {
        if self.outbox.is_closed() {
            return;
        }
        let text = self.text(enhanced, &format!("{} {why}", self.config.hostname));
        self.send(Reply::new(421, text));
        self.data = None;
        self.close();
    }

    /// The wall-clock second now, from the driver's time.
    fn now_unix(&self) -> i64 {
        self.config
            .clock_epoch_unix
            .map_or(0, |epoch| epoch.saturating_add((self.now.0 / 1000) as i64))
    }

    fn start_round(&mut self, now: Millis) {
        self.now = now;
        self.input.start_round(now);
    }

    fn close(&mut self) {
        let (state, reverse_path, recipients) = (
            &mut self.state,
            &mut self.reverse_path,
            &mut self.recipients,
        );
        self.outbox.close(|out| {
            out.set_state(state, SmtpState::Closed, SmtpServerEvent::State);
            reverse_path.clear();
            recipients.clear();
        });
    }

    fn process(&mut self) {
        while !self.outbox.is_closed() {
            if let Some(receiver) = self.data.as_mut() {
                match receiver.feed(self.input.unread()) {
                    Some(used) => {
                        self.input.consume(used);
                        self.input.restart_line_clock();
                        self.finish_data();
                        continue;
                    }
                    None => {
                        self.input.consume(self.input.unread().len());
                        return;
                    }
                }
            }
            match self.input.next_command() {
                Next::Line(content) => self.handle_line(&content),
                Next::TooLong => {
                    self.answer(None, b"(line too long)", 500, "5.5.2", "Line too long")
                }
                Next::Wait | Next::Paused => break,
            }
        }
        if self.input.overfull() {
            self.give_up(
                "4.7.0",
                "Too many pipelined commands without reading the replies, closing connection",
            );
        }
    }

    /// 421 when the command line or the message being received is late.
    fn check_time(&mut self, now: Millis) {
        let seconds = |ms: u64| ms.div_ceil(1000);
        if self.data.is_some() {
            if self.data_deadline.is_some_and(|at| now >= at) {
                let why = format!(
                    "Timeout: the message did not end within {} s, closing transmission channel",
                    seconds(self.config.data_timeout_ms)
                );
                self.give_up("4.4.2", &why);
            }
        } else if self.input.timed_out(now) {
            let why = format!(
                "Timeout: the command line did not end within {} s, closing transmission channel",
                seconds(self.config.command_timeout_ms)
            );
            self.give_up("4.4.2", &why);
        }
    }

    fn deadline(&self) -> Option<Millis> {
        match (self.outbox.is_closed(), self.data.is_some()) {
            (true, _) => None,
            (false, true) => self.data_deadline,
            (false, false) => self.input.deadline(),
        }
    }

    fn handle_line(&mut self, line: &[u8]) {
        let parsed = parse_line(line);
        let command = match parsed.command {
            Ok(c) => c,
            Err(e) => {
                let (enhanced, text) = match &e {
                    CommandError::Unrecognized { verb, .. } => (
                        "5.5.2",
                        format!(
                            "Command unrecognized: {:?}",
                            verb.chars().take(20).collect::<String>()
                        ),
                    ),
                    CommandError::NotImplemented { verb, .. } => {
                        ("5.5.1", format!("{verb} not implemented"))
                    }
                    CommandError::Syntax { message, .. } => {
                        ("5.5.4", format!("Syntax error: {message}"))
                    }
                };
                self.answer(None, line, e.code(), enhanced, &text);
                return;
            }
        };
        if let Err(seq) = check_sequence(self.state, &command) {
            self.answer(Some(&command), line, 503, "5.5.1", seq.reply_text());
            return;
        }
        let host = self.config.hostname.clone();
        match &command {
            Command::Helo(domain) => {
                self.esmtp = false;
                self.helo = domain.clone();
                self.answer(
                    Some(&command),
                    line,
                    250,
                    "",
                    &format!("Hello {domain}, pleased to meet you"),
                );
            }
            Command::Ehlo(domain) => {
                self.esmtp = true;
                self.helo = domain.clone();
                let lines = vec![
                    format!("{host} Hello {domain}, pleased to meet you"),
                    format!("SIZE {}", self.config.max_message_bytes),
                    "8BITMIME".into(),
                    "PIPELINING".into(),
                    "ENHANCEDSTATUSCODES".into(),
                    "HELP".into(),
                ];
                self.send(Reply::multiline(250, lines));
                self.outbox.event(SmtpServerEvent::Answered {
                    command: String::from_utf8_lossy(line).into_owned(),
                    code: 250,
                });
                let next = after_reply(self.state, &command, 250);
                self.set_state(next);
            }
            Command::Mail {
                reverse_path,
                params,
            } => {
                if let Some((code, enhanced, text)) = self.check_mail_params(params) {
                    self.answer(Some(&command), line, code, enhanced, &text);
                    return;
                }
                self.reverse_path = reverse_path.clone();
                let shown = if reverse_path.is_empty() {
                    "<>"
                } else {
                    reverse_path
                };
                self.answer(
                    Some(&command),
                    line,
                    250,
                    "2.1.0",
                    &format!("{shown} ... Sender ok"),
                );
            }
            Command::Rcpt {
                forward_path,
                params,
            } => {
                if let Some(p) = params.first() {
                    let text = format!("Parameter {} not supported", p.keyword);
                    self.answer(Some(&command), line, 555, "5.5.4", &text);
                    return;
                }
                if self.recipients.len() >= self.config.max_recipients {
                    self.answer(Some(&command), line, 452, "4.5.3", "Too many recipients");
                    return;
                }
                match self.store.check_recipient(forward_path) {
                    RecipientCheck::Local(mailbox) => match self.store.check_room(&mailbox, 0) {
                        Ok(()) => {
                            self.recipients.push((forward_path.clone(), mailbox));
                            self.answer(
                                Some(&command),
                                line,
                                250,
                                "2.1.5",
                                &format!("{forward_path} ... Recipient ok"),
                            );
                        }
                        Err(_) => self.answer(
                            Some(&command),
                            line,
                            452,
                            "4.2.2",
                            "Mailbox full, try again later",
                        ),
                    },
                    RecipientCheck::UnknownUser => {
                        self.answer(Some(&command), line, 550, "5.1.1", "No such user here");
                    }
                    RecipientCheck::NotLocal => {
                        let domains = self.store.local_domains().join(", ");
                        let text =
                            format!("Relaying denied: this server only accepts mail for {domains}");
                        self.answer(Some(&command), line, 550, "5.7.1", &text);
                    }
                }
            }
            Command::Data => {
                // +1: a message of exactly the limit is fine, one byte more is not.
                self.data = Some(DataReceiver::new(self.config.max_message_bytes + 1));
                self.data_deadline = Some(self.now.saturating_add(self.config.data_timeout_ms));
                self.answer(
                    Some(&command),
                    line,
                    354,
                    "",
                    "Enter mail, end with \".\" on a line by itself",
                );
            }
            Command::Rset => self.answer(Some(&command), line, 250, "2.0.0", "OK"),
            Command::Noop(_) => self.answer(Some(&command), line, 250, "2.0.0", "OK"),
            Command::Quit => {
                self.answer(
                    Some(&command),
                    line,
                    221,
                    "2.0.0",
                    &format!("{host} closing connection"),
                );
                self.close();
            }
            Command::Vrfy(who) => {
                let address = if who.contains('@') {
                    who.trim_matches(['<', '>']).to_string()
                } else {
                    format!("{who}@{host}")
                };
                match self.store.check_recipient(&address) {
                    RecipientCheck::Local(mailbox) => {
                        self.answer(Some(&command), line, 250, "2.1.5", &format!("<{mailbox}>"));
                    }
                    RecipientCheck::UnknownUser => {
                        self.answer(Some(&command), line, 550, "5.1.1", "No such user here")
                    }
                    RecipientCheck::NotLocal => {
                        self.answer(Some(&command), line, 551, "5.1.6", "User not local")
                    }
                }
            }
            Command::Expn(_) => {
                self.answer(Some(&command), line, 502, "5.5.1", "EXPN not implemented")
            }
            Command::Help(topic) => {
                let text = match topic.as_deref().map(str::to_ascii_uppercase).as_deref() {
                    Some("MAIL") => "MAIL FROM:<sender> [SIZE=n] [BODY=8BITMIME]",
                    Some("RCPT") => "RCPT TO:<recipient>",
                    Some("DATA") => "DATA, then the message, then a line with a single dot",
                    Some("HELO") | Some("EHLO") => {
                        "HELO your.domain, or EHLO to see the extensions"
                    }
                    _ => "",
                };
                let lines = if text.is_empty() {
                    vec![
                        "Commands: HELO EHLO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP".to_string(),
                        "For more, HELP <command>".to_string(),
                    ]
                } else {
                    vec![text.to_string()]
                };
                self.send(Reply::multiline(214, lines));
                self.outbox.event(SmtpServerEvent::Answered {
                    command: String::from_utf8_lossy(line).into_owned(),
                    code: 214,
                });
            }
        }
    }

    fn check_mail_params(&self, params: &[Param]) -> Option<(u16, &'static str, String)> {
        for p in params {
            match (p.keyword.as_str(), p.value.as_deref()) {
                ("SIZE", Some(v)) => match v.parse::<u64>() {
                    Ok(n) if n > self.config.max_message_bytes as u64 => {
                        return Some((
                            552,
                            "5.3.4",
                            "Message size exceeds fixed maximum message size".into(),
                        ));
                    }
                    Ok(_) => {}
                    Err(_) => return Some((501, "5.5.4", format!("SIZE={v} is not a number"))),
                },
                ("BODY", Some(v))
                    if v.eq_ignore_ascii_case("7BIT") || v.eq_ignore_ascii_case("8BITMIME") => {}
                ("BODY", _) => return Some((501, "5.5.4", "BODY is 7BIT or 8BITMIME".into())),
                (other, _) => {
                    return Some((555, "5.5.4", format!("Parameter {other} not supported")));
                }
            }
        }
        None
    }

    fn finish_data(&mut self) {
        let Some(receiver) = self.data.take() else {
            return;
        };
        let overflow = receiver.overflowed();
        let text = receiver.into_text();
        if overflow {
            self.answer(
                Some(&Command::Data),
                b"(end of data)",
                552,
                "5.3.4",
                "Message too big for system",
            );
            return;
        }
        let mut mailboxes: Vec<String> = self.recipients.iter().map(|(_, m)| m.clone()).collect();
        mailboxes.sort();
        mailboxes.dedup();
        let at = DateTime::from_unix(self.now_unix());
        let single = (self.recipients.len() == 1).then(|| self.recipients[0].0.clone());
        let mut message = format!("Return-Path: <{}>\r\n", self.reverse_path).into_bytes();
        message.extend(
            format_received(
                &self.helo,
                &self.config.peer,
                &self.config.hostname,
                self.esmtp,
                single.as_deref(),
                &at,
            )
            .into_bytes(),
        );
        if !starts_with_header_field(&text) {
            // The client sent no header section (the course's own dialogue
            // types just two lines of text): an empty line after the trace
            // fields keeps that text the body, as real MTAs do, instead of
            // letting "Do you like ketchup?" pass for a header line.
            message.extend_from_slice(b"\r\n");
        }
        message.extend_from_slice(&text);
        match self.store.deliver(&mailboxes, &message) {
            Ok(()) => {
                self.outbox.event(SmtpServerEvent::Delivered {
                    reverse_path: self.reverse_path.clone(),
                    mailboxes,
                    size: message.len(),
                });
                self.answer(
                    Some(&Command::Data),
                    b"(end of data)",
                    250,
                    "2.0.0",
                    "Message accepted for delivery",
                );
            }
            Err(StoreError::MailboxFull { .. }) => {
                self.answer(
                    Some(&Command::Data),
                    b"(end of data)",
                    552,
                    "5.2.2",
                    "Mailbox full",
                );
            }
            Err(_) => {
                self.answer(
                    Some(&Command::Data),
                    b"(end of data)",
                    451,
                    "4.3.0",
                    "Local error in processing, try again later",
                );
            }
        }
    }
}

impl<S: MailStore> Engine for SmtpServer<S> {
    type Event = SmtpServerEvent;

    fn handle_input(&mut self, bytes: &[u8], now: Millis) {
        if self.outbox.is_closed() {
            return;
        }
        self.start_round(now);
        self.input.extend(bytes);
        self.process();
    }

    fn handle_eof(&mut self, _now: Millis) {
        // A message whose end never came is not acknowledged, so not kept.
        self.data = None;
        self.close();
    }

    fn handle_timeout(&mut self, now: Millis) {
        if self.outbox.is_closed() {
            return;
        }
        self.start_round(now);
        self.check_time(now);
        self.process();
    }

    fn poll_output(&mut self) -> Output<SmtpServerEvent> {
        let deadline = self.deadline();
        self.outbox.poll(deadline)
    }
}

/// Whether a message begins with a header field (`name:` with a name of
/// printable characters other than the colon, RFC 5322 §2.2).
fn starts_with_header_field(text: &[u8]) -> bool {
    let first = text.split(|&b| b == b'\n').next().unwrap_or(&[]);
    match first.iter().position(|&b| b == b':') {
        Some(colon) if colon > 0 => first[..colon].iter().all(|&b| (33..=126).contains(&b)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Drained, drain};
    use crate::mail::store::MemoryStore;
    use std::sync::Arc;

    fn server() -> (SmtpServer<Arc<MemoryStore>>, Arc<MemoryStore>) {
        let store = Arc::new(MemoryStore::course());
        let config = SmtpServerConfig {
            peer: "[127.0.0.1]".into(),
            clock_epoch_unix: Some(1_700_000_000),
            ..SmtpServerConfig::default()
        };
        (SmtpServer::new(config, store.clone()), store)
    }

    fn say(s: &mut SmtpServer<Arc<MemoryStore>>, input: &str) -> String {
        s.handle_input(input.as_bytes(), Millis(0));
        String::from_utf8(drain(s).bytes()).unwrap()
    }

    #[test]
    fn the_esmtp_words_in_the_greeting_are_an_option() {
        let config = SmtpServerConfig {
            esmtp_greeting: true,
            ..SmtpServerConfig::default()
        };
        let mut s = SmtpServer::new(config, Arc::new(MemoryStore::course()));
        assert_eq!(say(&mut s, ""), "220 hamburger.edu ESMTP Service ready\r\n");
    }

    #[test]
    fn the_course_dialogue_word_for_word() {
        let (mut s, store) = server();
        assert_eq!(say(&mut s, ""), "220 hamburger.edu\r\n");
        assert_eq!(
            say(&mut s, "HELO crepes.fr\r\n"),
            "250 Hello crepes.fr, pleased to meet you\r\n"
        );
        assert_eq!(
            say(&mut s, "MAIL FROM: <alice@crepes.fr>\r\n"),
            "250 alice@crepes.fr ... Sender ok\r\n"
        );
        assert_eq!(
            say(&mut s, "RCPT TO: <bob@hamburger.edu>\r\n"),
            "250 bob@hamburger.edu ... Recipient ok\r\n"
        );
        assert_eq!(
            say(&mut s, "RCPT TO: <Johm@hamburger.edu>\r\n"),
            "550 No such user here\r\n"
        );
        assert_eq!(s.state(), SmtpState::RecipientsGiven);
        assert_eq!(
            say(&mut s, "DATA\r\n"),
            "354 Enter mail, end with \".\" on a line by itself\r\n"
        );
        assert_eq!(s.state(), SmtpState::ReceivingData);
        assert_eq!(
            say(&mut s, "Do you like ketchup?\r\n    How about pickles?\r\n"),
            ""
        );
        assert_eq!(
            say(&mut s, ".\r\n"),
            "250 Message accepted for delivery\r\n"
        );
        assert_eq!(s.state(), SmtpState::Greeted);
        s.handle_input(b"QUIT\r\n", Millis(0));
        let out = drain(&mut s);
        assert_eq!(out.bytes(), b"221 hamburger.edu closing connection\r\n");
        assert!(out.close);
        let stored = store.messages("bob@hamburger.edu");
        assert_eq!(stored.len(), 3);
        let text = String::from_utf8(stored[2].1.clone()).unwrap();
        assert_eq!(
            text,
            "Return-Path: <alice@crepes.fr>\r\nReceived: from crepes.fr ([127.0.0.1])\r\n\tby hamburger.edu (wirelab) with SMTP\r\n\tfor <bob@hamburger.edu>;\r\n\tTue, 14 Nov 2023 22:13:20 +0000\r\n\r\nDo you like ketchup?\r\n    How about pickles?\r\n"
        );
    }

    #[test]
    fn a_header_section_is_kept_as_sent_and_bare_text_becomes_the_body() {
        assert!(starts_with_header_field(
            b"From: alice@crepes.fr\r\n\r\nhi\r\n"
        ));
        assert!(starts_with_header_field(b"Subject:x\r\n"));
        assert!(!starts_with_header_field(b"Do you like ketchup?\r\n"));
        assert!(!starts_with_header_field(b""));
        assert!(!starts_with_header_field(b" folded: no\r\n"));
        assert!(!starts_with_header_field(b"\r\nbody\r\n"));
    }

    #[test]
    fn ehlo_extensions_enhanced_codes_and_pipelining() {
        let (mut s, store) = server();
        say(&mut s, "");
        let out = say(
            &mut s,
            "EHLO crepes.fr\r\nMAIL FROM:<alice@crepes.fr> SIZE=100 BODY=8BITMIME\r\nRCPT TO:<bob@hamburger.edu>\r\nRCPT TO:<carol@gmail.com>\r\nDATA\r\n",
        );
        assert_eq!(
            out,
            "250-hamburger.edu Hello crepes.fr, pleased to meet you\r\n250-SIZE 10485760\r\n250-8BITMIME\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n250 HELP\r\n\
             250 2.1.0 alice@crepes.fr ... Sender ok\r\n250 2.1.5 bob@hamburger.edu ... Recipient ok\r\n\
             550 5.7.1 Relaying denied: this server only accepts mail for crepes.fr, hamburger.edu\r\n\
             354 Enter mail, end with \".\" on a line by itself\r\n"
        );
        assert_eq!(
            say(&mut s, "Subject: caf\u{e9}\r\n\r\n..dot\r\n.\r\nQUIT\r\n"),
            "250 2.0.0 Message accepted for delivery\r\n221 2.0.0 hamburger.edu closing connection\r\n"
        );
        let stored = &store.messages("bob@hamburger.edu")[2].1;
        assert!(stored.ends_with("Subject: caf\u{e9}\r\n\r\n.dot\r\n".as_bytes()));
        assert!(String::from_utf8_lossy(stored).contains("with ESMTP"));
    }

    #[test]
    fn bad_sequences_and_syntax() {
        let (mut s, _) = server();
        say(&mut s, "");
        assert_eq!(
            say(&mut s, "MAIL FROM:<a@b.c>\r\n"),
            "503 Send HELO/EHLO first\r\n"
        );
        say(&mut s, "HELO x.org\r\n");
        assert_eq!(
            say(&mut s, "RCPT TO:<bob@hamburger.edu>\r\n"),
            "503 Need MAIL before RCPT\r\n"
        );
        assert_eq!(say(&mut s, "DATA\r\n"), "503 Need RCPT before DATA\r\n");
        say(&mut s, "MAIL FROM:<a@b.c>\r\n");
        assert_eq!(say(&mut s, "DATA\r\n"), "503 Need RCPT before DATA\r\n");
        assert_eq!(
            say(&mut s, "MAIL FROM:<a@b.c>\r\n"),
            "503 Sender already specified\r\n"
        );
        assert_eq!(say(&mut s, "RSET\r\n"), "250 OK\r\n");
        assert_eq!(s.state(), SmtpState::Greeted);
        assert!(say(&mut s, "HELLO\r\n").starts_with("500 Command unrecognized"));
        assert!(say(&mut s, "MAIL FROM:<nope>\r\n").starts_with("501 Syntax error"));
        assert_eq!(
            say(&mut s, "STARTTLS\r\n"),
            "502 STARTTLS not implemented\r\n"
        );
        assert_eq!(
            say(&mut s, "MAIL FROM:<a@b.c> SIZE=99999999999\r\n"),
            "552 Message size exceeds fixed maximum message size\r\n"
        );
        assert_eq!(
            say(&mut s, "MAIL FROM:<a@b.c> FOO=1\r\n"),
            "555 Parameter FOO not supported\r\n"
        );
        assert_eq!(say(&mut s, "VRFY bob\r\n"), "250 <bob@hamburger.edu>\r\n");
        assert_eq!(
            say(&mut s, "RSET\r\nMAIL FROM:<>\r\nRCPT TO:<Postmaster>\r\n"),
            "250 OK\r\n250 <> ... Sender ok\r\n250 Postmaster ... Recipient ok\r\n"
        );
        assert_eq!(say(&mut s, "VRFY john\r\n"), "550 No such user here\r\n");
        assert!(say(&mut s, "HELP\r\n").starts_with("214-Commands"));
        let long = format!("NOOP {}\r\n", "x".repeat(5000));
        assert_eq!(say(&mut s, &long), "500 Line too long\r\n");
        assert_eq!(say(&mut s, "NOOP\r\n"), "250 OK\r\n");
    }

    #[test]
    fn size_limit_mailbox_full_and_eof_mid_data() {
        let store = Arc::new(MemoryStore::course());
        let config = SmtpServerConfig {
            max_message_bytes: 300,
            ..SmtpServerConfig::default()
        };
        let mut s = SmtpServer::new(config, store.clone());
        say(
            &mut s,
            "HELO a.b\r\nMAIL FROM:<a@a.b>\r\nRCPT TO:<alice@crepes.fr>\r\nDATA\r\n",
        );
        let big = format!("{}\r\n.\r\n", "y".repeat(400));
        assert_eq!(say(&mut s, &big), "552 Message too big for system\r\n");
        assert_eq!(s.state(), SmtpState::Greeted);
        say(
            &mut s,
            "MAIL FROM:<a@a.b>\r\nRCPT TO:<alice@crepes.fr>\r\nDATA\r\npartial",
        );
        s.handle_eof(Millis(1));
        assert!(drain(&mut s).close);
        assert!(store.messages("alice@crepes.fr").is_empty());
    }

    fn limited(config: SmtpServerConfig) -> SmtpServer<Arc<MemoryStore>> {
        SmtpServer::new(config, Arc::new(MemoryStore::course()))
    }

    fn at(s: &mut SmtpServer<Arc<MemoryStore>>, input: &str, now: u64) -> Drained<SmtpServerEvent> {
        s.handle_input(input.as_bytes(), Millis(now));
        drain(s)
    }

    fn text(out: &Drained<SmtpServerEvent>) -> String {
        String::from_utf8(out.bytes()).unwrap()
    }

    #[test]
    fn a_command_line_that_never_ends_gets_421() {
        let mut s = limited(SmtpServerConfig {
            command_timeout_ms: 2000,
            ..SmtpServerConfig::default()
        });
        assert_eq!(
            drain(&mut s).deadline,
            None,
            "a silent client is the driver's idle bound"
        );
        let out = at(&mut s, "H", 1000);
        assert_eq!(out.deadline, Some(Millis(3000)));
        // One byte a second: the line is timed from its first byte.
        assert_eq!(at(&mut s, "E", 2000).deadline, Some(Millis(3000)));
        s.handle_timeout(Millis(2999));
        assert!(!drain(&mut s).close, "not yet");
        s.handle_timeout(Millis(3000));
        let out = drain(&mut s);
        assert_eq!(
            text(&out),
            "421 hamburger.edu Timeout: the command line did not end within 2 s, closing transmission channel\r\n"
        );
        assert!(out.close);
        assert_eq!(out.deadline, None);
        // A line that ends in time resets the clock.
        let mut s = limited(SmtpServerConfig {
            command_timeout_ms: 2000,
            ..SmtpServerConfig::default()
        });
        at(&mut s, "NO", 0);
        let out = at(&mut s, "OP\r\n", 1999);
        assert_eq!((text(&out).as_str(), out.deadline), ("250 OK\r\n", None));
    }

    #[test]
    fn a_message_that_never_ends_gets_421_and_is_not_kept() {
        let store = Arc::new(MemoryStore::course());
        let config = SmtpServerConfig {
            command_timeout_ms: 1000,
            data_timeout_ms: 5000,
            ..SmtpServerConfig::default()
        };
        let mut s = SmtpServer::new(config, store.clone());
        let out = at(
            &mut s,
            "EHLO a.b\r\nMAIL FROM:<a@a.b>\r\nRCPT TO:<alice@crepes.fr>\r\nDATA\r\n",
            100,
        );
        assert_eq!(out.deadline, Some(Millis(5100)));
        // Lines of text keep coming, each in time, but the message never ends.
        for t in 1..5 {
            let out = at(&mut s, "more text\r\n", 100 + t * 1000);
            assert_eq!(out.deadline, Some(Millis(5100)), "the message's own bound");
        }
        s.handle_timeout(Millis(5100));
        let out = drain(&mut s);
        assert_eq!(
            text(&out),
            "421 4.4.2 hamburger.edu Timeout: the message did not end within 5 s, closing transmission channel\r\n"
        );
        assert!(out.close);
        assert!(store.messages("alice@crepes.fr").is_empty());
    }

    #[test]
    fn recipients_beyond_the_limit_get_452() {
        let mut s = limited(SmtpServerConfig {
            max_recipients: 2,
            ..SmtpServerConfig::default()
        });
        let out = at(
            &mut s,
            "EHLO a.b\r\nMAIL FROM:<a@a.b>\r\nRCPT TO:<bob@hamburger.edu>\r\nRCPT TO:<alice@crepes.fr>\r\nRCPT TO:<bob@hamburger.edu>\r\n",
            0,
        );
        assert!(
            text(&out).ends_with("Recipient ok\r\n452 4.5.3 Too many recipients\r\n"),
            "{}",
            text(&out)
        );
        assert_eq!(s.state(), SmtpState::RecipientsGiven, "452 is not fatal");
    }

    #[test]
    fn the_line_limit_comes_from_the_config() {
        let mut s = limited(SmtpServerConfig {
            max_line_bytes: 10,
            ..SmtpServerConfig::default()
        });
        at(&mut s, "", 0);
        assert_eq!(text(&at(&mut s, "NOOP 12345\r\n", 0)), "250 OK\r\n");
        assert_eq!(
            text(&at(&mut s, "NOOP 123456\r\n", 0)),
            "500 Line too long\r\n"
        );
        // Only the limit is ever held of a 1 MB line, answered once at its end.
        let out = at(&mut s, &"x".repeat(1 << 20), 0);
        assert_eq!((text(&out).as_str(), out.close), ("", false));
        assert!(s.input.unread().is_empty());
        assert_eq!(
            text(&at(&mut s, "\r\nNOOP\r\n", 0)),
            "500 Line too long\r\n250 OK\r\n"
        );
    }

    #[test]
    fn pipelined_commands_are_answered_a_window_at_a_time() {
        let mut s = limited(SmtpServerConfig {
            max_pipelined_commands: 3,
            ..SmtpServerConfig::default()
        });
        at(&mut s, "EHLO a.b\r\nMAIL FROM:<a@a.b>\r\n", 0);
        let out = at(&mut s, &"RCPT TO:<bob@hamburger.edu>\r\n".repeat(7), 50);
        assert_eq!(out.transmitted.len(), 3, "one window of replies");
        assert_eq!(
            out.deadline,
            Some(Millis(50)),
            "go on once they are written"
        );
        s.handle_timeout(Millis(51));
        assert_eq!(drain(&mut s).transmitted.len(), 3);
        s.handle_timeout(Millis(52));
        let out = drain(&mut s);
        assert_eq!(out.transmitted.len(), 1);
        assert_eq!(out.deadline, None, "all answered");
    }

    #[test]
    fn a_client_that_pipelines_without_reading_is_closed() {
        let mut s = limited(SmtpServerConfig {
            max_pipelined_commands: 1,
            ..SmtpServerConfig::default()
        });
        at(&mut s, "EHLO a.b\r\n", 0);
        let flood = "NOOP\r\n".repeat(crate::command_reader::MIN_UNREAD_BYTES / 6 + 10);
        let out = at(&mut s, &flood, 0);
        assert!(out.close);
        assert!(
            text(&out).ends_with(
                "250 2.0.0 OK\r\n421 4.7.0 hamburger.edu Too many pipelined commands without reading the replies, closing connection\r\n"
            ),
            "{}",
            text(&out)
        );
    }

    #[test]
    fn too_many_errors_close_the_connection() {
        let (mut s, _) = server();
        say(&mut s, "");
        let out = say(&mut s, &"BAD\r\n".repeat(25));
        assert!(out.contains("421 hamburger.edu Too many errors"));
        assert_eq!(s.state(), SmtpState::Closed);
        assert_eq!(say(&mut s, "HELO x.y\r\n"), "");
    }
}
