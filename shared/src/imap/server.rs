//! The IMAP server engine (RFC 9051 §6): the greeting, CAPABILITY, NOOP,
//! LOGOUT, ID and ENABLE; STARTTLS refused with the reason (the lab has no
//! TLS); LOGIN with the POP3 users; INBOX, the whole mailbox, and folders
//! beside it, with SELECT, EXAMINE, FETCH, STORE, SEARCH, EXPUNGE, CLOSE and
//! UNSELECT (and their UID forms) in [`super::mailbox`], and CREATE, DELETE,
//! RENAME, SUBSCRIBE, UNSUBSCRIBE, LIST, LSUB and STATUS in
//! [`super::folders`], over an [`ImapStore`]; BAD for what does not parse,
//! NO for a command in the wrong state and for what this server does not
//! do.
//!
//! Input is framed with [`super::frame`]: a synchronising literal gets one
//! `+` continuation, a literal over the limit is refused before any of its
//! bytes are read, and an over-long line is dropped up to its LF and
//! answered once. Time comes from the driver: during IDLE the engine asks
//! to be woken every [`ImapServerConfig::idle_poll_ms`] (its `Wait`
//! deadline) and then looks at the selected folder for new mail.

use crate::engine::{Engine, Millis, Output};
use crate::imap::command::{Command, ImapState, Verb, parse_command};
use crate::imap::frame::{FrameError, Framed, Limits, next_command};
use crate::imap::response::{Code, Response, Status};
use crate::imap::store::ImapStore;
use crate::imap::syntax::Value;
use crate::line_protocol::Outbox;

/// What CAPABILITY announces: only what this engine does.
pub const CAPABILITIES: &[&str] = &[
    "IMAP4rev2",
    "IMAP4rev1",
    "LITERAL-",
    "ENABLE",
    "ID",
    "UNSELECT",
    "MOVE",
    "UIDPLUS",
    "IDLE",
    "NAMESPACE",
    "AUTH=PLAIN",
    "SASL-IR",
];

/// Settings of the IMAP server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImapServerConfig {
    pub limits: Limits,
    /// Commands answered BAD before the server says BYE and closes.
    pub max_errors: usize,
    /// Folders besides INBOX a mailbox may have, and subscriptions.
    pub max_folders: usize,
    /// The longest folder name, in bytes.
    pub max_folder_name_bytes: usize,
    /// How often an IDLE session looks at its folder for new mail: the
    /// engine asks its driver to wake it this often.
    pub idle_poll_ms: u64,
    /// How long one IDLE may last before the server says BYE (RFC 9051
    /// §5.4 lets a server end a session idle for 30 minutes).
    pub max_idle_ms: u64,
    /// The Unix second at which the driver's clock read `Millis(0)`, so a
    /// message APPENDed without a date gets the time the driver passes in
    /// as its INTERNALDATE; `None`: the server has no wall clock and
    /// leaves the date to the store (the epoch in a memory store).
    pub clock_epoch_unix: Option<i64>,
}

impl Default for ImapServerConfig {
    fn default() -> Self {
        ImapServerConfig {
            limits: Limits::default(),
            max_errors: 20,
            max_folders: 100,
            max_folder_name_bytes: 200,
            idle_poll_ms: 500,
            max_idle_ms: 30 * 60 * 1000,
            clock_epoch_unix: None,
        }
    }
}

/// What the server reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImapServerEvent {
    /// A command was completed with this status.
    Answered {
        command: String,
        status: Status,
    },
    State(ImapState),
}

/// One IMAP server connection over the store `S`.
pub struct ImapServer<S> {
    pub(super) config: ImapServerConfig,
    pub(super) store: S,
    /// The mailbox LOGIN opened.
    pub(super) user: Option<String>,
    pub(super) selected: Option<super::mailbox::Selected>,
    state: ImapState,
    buffer: Vec<u8>,
    /// Where the data of the literal already answered with `+` starts.
    continued_at: Option<usize>,
    /// A line went over the limit: its bytes are dropped up to its LF.
    discarding: bool,
    outbox: Outbox<ImapServerEvent>,
    errors: usize,
    /// The driver's time at the last call.
    now: Millis,
    /// The IDLE command's tag and when it began, while idling.
    idling: Option<(String, Millis)>,
    /// When the driver is to wake an IDLE session.
    next_poll: Option<Millis>,
    /// The AUTHENTICATE command's tag, while its response line is awaited.
    pub(super) authenticating: Option<String>,
    /// A FETCH whose answer is not all queued yet; commands wait behind it.
    pub(super) pending_fetch: Option<super::mailbox::PendingFetch>,
}

impl<S: ImapStore> ImapServer<S> {
    /// The wall-clock second now, from the driver's time, if the server
    /// was told when its driver's clock started.
    pub(super) fn now_unix(&self) -> Option<i64> {
        self.config
            .clock_epoch_unix
            .map(|epoch| epoch.saturating_add((self.now.0 / 1000) as i64))
    }

    /// A new connection; the greeting is ready to be polled.
    pub fn new(config: ImapServerConfig, store: S) -> ImapServer<S> {
        let mut s = ImapServer {
            config,
            store,
            user: None,
            selected: None,
            state: ImapState::NotAuthenticated,
            buffer: Vec::new(),
            continued_at: None,
            discarding: false,
            outbox: Outbox::default(),
            errors: 0,
            now: Millis(0),
            idling: None,
            next_poll: None,
            authenticating: None,
            pending_fetch: None,
        };
        let capability = CAPABILITIES.join(" ");
        s.send(&untagged(
            Status::Ok,
            Some(("CAPABILITY", Some(capability))),
            "wirelab IMAP server ready",
        ));
        s.outbox.event(ImapServerEvent::State(s.state));
        s
    }

    pub fn state(&self) -> ImapState {
        self.state
    }

    /// Queues a response; its length in bytes.
    pub(super) fn send(&mut self, response: &Response) -> usize {
        let bytes = response.to_bytes();
        let length = bytes.len();
        self.outbox.transmit(bytes);
        length
    }

    pub(super) fn complete(
        &mut self,
        tag: &str,
        verb: &str,
        status: Status,
        code: Option<&str>,
        text: &str,
    ) {
        self.send(&Response::Status {
            tag: Some(tag.to_string()),
            status,
            code: code.map(|name| Code {
                name: name.into(),
                text: None,
            }),
            text: text.into(),
        });
        self.outbox.event(ImapServerEvent::Answered {
            command: verb.into(),
            status,
        });
    }

    pub(super) fn set_state(&mut self, state: ImapState) {
        self.outbox
            .set_state(&mut self.state, state, ImapServerEvent::State);
    }

    fn close(&mut self) {
        if self.outbox.close(|_| {}) {
            self.idling = None;
            self.pending_fetch = None;
            self.next_poll = None;
            self.buffer.clear();
        }
    }

    fn bye(&mut self, code: Option<&str>, text: &str) {
        self.send(&untagged(Status::Bye, code.map(|c| (c, None)), text));
        self.set_state(ImapState::Logout);
        self.close();
    }

    fn process(&mut self) {
        while !self.outbox.is_closed() && self.pending_fetch.is_none() {
            if self.discarding && !self.drop_rest_of_line() {
                return;
            }
            if self.idling.is_some() || self.authenticating.is_some() {
                if !self.continuation_line() {
                    return;
                }
                continue;
            }
            match next_command(&self.buffer, &self.config.limits) {
                Ok(Framed::Complete(n)) => {
                    let message: Vec<u8> = self.buffer.drain(..n).collect();
                    self.continued_at = None;
                    self.answer(&message);
                }
                Ok(Framed::AwaitingContinuation { at, .. }) => {
                    if self.continued_at != Some(at) {
                        self.continued_at = Some(at);
                        self.send(&Response::Continuation {
                            text: "Ready for literal data".into(),
                        });
                    }
                    return;
                }
                Ok(Framed::Partial) => return,
                Err(e) => self.refuse(e),
            }
        }
    }

    /// Starts IDLE (RFC 9051 §6.3.13): `+ idling`, then new mail is told
    /// as it comes until the client sends DONE.
    fn idle(&mut self, c: &Command) {
        self.send(&Response::Continuation {
            text: "idling".into(),
        });
        self.idling = Some((c.tag.clone(), self.now));
        self.next_poll = Some(self.now.saturating_add(self.config.idle_poll_ms));
    }

    /// Reads the line that ends IDLE or answers AUTHENTICATE's `+`;
    /// whether there was one.
    fn continuation_line(&mut self) -> bool {
        let Some(lf) = self.buffer.iter().position(|&b| b == b'\n') else {
            if self.buffer.len() > self.config.limits.line {
                let text = "a line went on too long: closing the connection";
                self.bye(Some("TOOBIG"), text);
            }
            return false;
        };
        let line: Vec<u8> = self.buffer.drain(..=lf).collect();
        if let Some(tag) = self.authenticating.take() {
            self.plain_response(&tag, &line);
            return true;
        }
        let Some((tag, _)) = self.idling.take() else {
            return true;
        };
        self.next_poll = None;
        if line.trim_ascii().eq_ignore_ascii_case(b"DONE") {
            self.complete(&tag, "IDLE", Status::Ok, None, "IDLE terminated");
        } else {
            let text = "IDLE ends with DONE on a line of its own (RFC 9051 §6.3.13)";
            self.complete(&tag, "IDLE", Status::Bad, None, text);
            self.errors += 1;
        }
        true
    }

    /// Drops bytes up to the LF of an over-long line; whether it came.
    fn drop_rest_of_line(&mut self) -> bool {
        match self.buffer.iter().position(|&b| b == b'\n') {
            Some(lf) => {
                self.buffer.drain(..=lf);
                self.discarding = false;
                true
            }
            None => {
                self.buffer.clear();
                false
            }
        }
    }

    /// Answers a message the limits refuse, before reading its bytes.
    fn refuse(&mut self, error: FrameError) {
        let tag = leading_tag(&self.buffer);
        match error {
            FrameError::LiteralTooLarge { span, .. }
                if self.buffer.get(span.end.saturating_sub(2)) != Some(&b'+') =>
            {
                // Synchronising: the client waits for "+", which never comes,
                // so the literal's bytes are never sent.
                let text = format!("{error}: refused before any of it is sent");
                self.complete(&tag, "(too big)", Status::Bad, Some("TOOBIG"), &text);
                self.errors += 1;
                self.continued_at = None;
                // The framer checked the size once the line had ended.
                let lf = self.buffer[span.end..].iter().position(|&b| b == b'\n');
                let end = lf.map_or(self.buffer.len(), |lf| span.end + lf + 1);
                self.buffer.drain(..end);
            }
            FrameError::LineTooLong { .. } => {
                let text = format!("{error}: dropped");
                self.complete(&tag, "(too long)", Status::Bad, Some("TOOBIG"), &text);
                self.errors += 1;
                self.discarding = true;
            }
            // A non-synchronising literal's bytes come anyway and cannot be
            // told from commands; a message over the limit cannot be skipped.
            _ => self.bye(Some("TOOBIG"), &format!("{error}: closing the connection")),
        }
        if self.errors >= self.config.max_errors {
            self.bye(None, "too many bad commands, closing the connection");
        }
    }

    fn answer(&mut self, message: &[u8]) {
        let parsed = parse_command(message);
        let command = match parsed.command {
            Ok(command) => command,
            Err(e) => {
                let tag = parsed
                    .syntax
                    .tag
                    .map(|t| String::from_utf8_lossy(t.slice(message)).into_owned())
                    .unwrap_or_else(|| "*".into());
                self.complete(
                    &tag,
                    "(malformed)",
                    Status::Bad,
                    None,
                    &format!("{e} ({})", e.reference),
                );
                self.errors += 1;
                if self.errors >= self.config.max_errors {
                    self.bye(None, "too many bad commands, closing the connection");
                }
                return;
            }
        };
        let name = command.verb.name();
        if !command.verb.valid_in(self.state) {
            let text = format!(
                "{name} is not valid in the {} state (RFC 9051 §3)",
                self.state.label()
            );
            self.complete(&command.tag, name, Status::No, None, &text);
            return;
        }
        self.run(&command);
    }

    fn run(&mut self, c: &Command) {
        let name = c.verb.name();
        match c.verb {
            Verb::Capability => {
                let caps = CAPABILITIES
                    .iter()
                    .map(|c| Value::Atom((*c).into()))
                    .collect();
                self.send(&data("CAPABILITY", caps));
                self.complete(&c.tag, name, Status::Ok, None, "CAPABILITY completed");
            }
            Verb::Noop | Verb::Check => {
                self.refresh();
                self.complete(&c.tag, name, Status::Ok, None, &format!("{name} completed"));
            }
            Verb::Login => self.login(c),
            Verb::Authenticate => self.authenticate(c),
            Verb::Namespace => self.namespace(c),
            Verb::Select | Verb::Examine => self.select(c),
            Verb::List | Verb::Lsub => self.list(c),
            Verb::Idle => self.idle(c),
            Verb::Append => self.append(c),
            Verb::Copy => self.copy(c, false),
            Verb::Move => self.copy(c, true),
            Verb::Create => self.create(c),
            Verb::Delete => self.delete(c),
            Verb::Rename => self.rename(c),
            Verb::Subscribe => self.subscribe(c, true),
            Verb::Unsubscribe => self.subscribe(c, false),
            Verb::Status => self.status(c),
            Verb::Fetch => self.fetch(c),
            Verb::Store => self.store_flags(c),
            Verb::Search => self.search(c),
            Verb::Expunge => self.expunge(c),
            Verb::Close | Verb::Unselect => self.close_mailbox(c),
            Verb::Logout => {
                self.send(&untagged(
                    Status::Bye,
                    None,
                    "wirelab IMAP server logging out",
                ));
                self.complete(&c.tag, name, Status::Ok, None, "LOGOUT completed");
                self.set_state(ImapState::Logout);
                self.close();
            }
            Verb::Id => {
                let fields = ["name", "wirelab", "version", env!("CARGO_PKG_VERSION")]
                    .map(|s| Value::Quoted(s.as_bytes().to_vec()));
                self.send(&data("ID", vec![Value::List(fields.to_vec())]));
                self.complete(&c.tag, name, Status::Ok, None, "ID completed");
            }
            Verb::Enable => {
                // None of the extensions ENABLE turns on is implemented.
                self.send(&data("ENABLED", Vec::new()));
                self.complete(&c.tag, name, Status::Ok, None, "ENABLE completed");
            }
            Verb::Starttls => self.complete(
                &c.tag,
                name,
                Status::No,
                None,
                "this lab has no TLS: everything, passwords included, crosses the network in \
                 clear (a real server would offer STARTTLS and refuse LOGIN before it, \
                 LOGINDISABLED)",
            ),
        }
    }
}

/// `* <status> [code] text`.
pub(super) fn untagged(
    status: Status,
    code: Option<(&str, Option<String>)>,
    text: &str,
) -> Response {
    Response::Status {
        tag: None,
        status,
        code: code.map(|(name, text)| Code {
            name: name.into(),
            text,
        }),
        text: text.into(),
    }
}

/// `* <name> <arguments>`.
pub(super) fn data(name: &str, arguments: Vec<Value>) -> Response {
    Response::Data {
        number: None,
        name: name.into(),
        arguments,
    }
}

/// The tag at the start of `buffer`, or `*` when there is none to echo.
fn leading_tag(buffer: &[u8]) -> String {
    let end = buffer
        .iter()
        .position(|&b| !crate::imap::command::is_tag_char(b))
        .unwrap_or(buffer.len());
    if end == 0 || end > 64 || buffer.get(end) != Some(&b' ') {
        return "*".into();
    }
    String::from_utf8_lossy(&buffer[..end]).into_owned()
}

impl<S: ImapStore> Engine for ImapServer<S> {
    type Event = ImapServerEvent;

    fn handle_input(&mut self, bytes: &[u8], now: Millis) {
        self.now = now;
        if self.outbox.is_closed() {
            return;
        }
        self.buffer.extend_from_slice(bytes);
        self.process();
    }

    fn handle_eof(&mut self, _now: Millis) {
        self.close();
    }

    fn handle_timeout(&mut self, now: Millis) {
        self.now = now;
        let Some((_, since)) = &self.idling else {
            return;
        };
        if self.outbox.is_closed() || self.next_poll.is_none_or(|at| now < at) {
            return;
        }
        if now.0.saturating_sub(since.0) >= self.config.max_idle_ms {
            self.next_poll = None;
            return self.bye(None, "idle for too long, closing the connection");
        }
        self.refresh();
        self.next_poll = Some(now.saturating_add(self.config.idle_poll_ms));
    }

    fn poll_output(&mut self) -> Output<ImapServerEvent> {
        if self.outbox.is_empty() && self.pending_fetch.is_some() && !self.outbox.is_closed() {
            self.continue_fetch();
            if self.pending_fetch.is_none() {
                // Commands that came behind the FETCH.
                self.process();
            }
        }
        self.outbox.poll(self.next_poll)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::drain;
    use crate::mail::store::MemoryStore;

    fn session(input: &[u8]) -> (String, bool, ImapServer<MemoryStore>) {
        let mut server = ImapServer::new(ImapServerConfig::default(), MemoryStore::course());
        server.handle_input(input, Millis(0));
        let out = drain(&mut server);
        (
            String::from_utf8_lossy(&out.bytes()).into_owned(),
            out.close,
            server,
        )
    }

    #[test]
    fn greeting_capability_noop_id_logout() {
        let (text, closed, server) =
            session(b"a1 CAPABILITY\r\na2 noop\r\na3 ID NIL\r\na4 LOGOUT\r\na5 NOOP\r\n");
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(
            lines[..9],
            [
                "* OK [CAPABILITY IMAP4rev2 IMAP4rev1 LITERAL- ENABLE ID UNSELECT MOVE UIDPLUS IDLE NAMESPACE AUTH=PLAIN SASL-IR] wirelab IMAP server ready",
                "* CAPABILITY IMAP4rev2 IMAP4rev1 LITERAL- ENABLE ID UNSELECT MOVE UIDPLUS IDLE NAMESPACE AUTH=PLAIN SASL-IR",
                "a1 OK CAPABILITY completed",
                "a2 OK NOOP completed",
                &format!(
                    "* ID (\"name\" \"wirelab\" \"version\" \"{}\")",
                    env!("CARGO_PKG_VERSION")
                ),
                "a3 OK ID completed",
                "* BYE wirelab IMAP server logging out",
                "a4 OK LOGOUT completed",
                "",
            ]
        );
        assert!(closed);
        assert_eq!(server.state(), ImapState::Logout);
    }

    #[test]
    fn refusals_say_why() {
        let (text, closed, _) = session(
            b"a1 STARTTLS\r\na2 FETCH 1 FLAGS\r\na3 ENABLE UTF8=ACCEPT\r\na4 FROB\r\n\
              a+5 NOOP\r\na6 LOGIN bob full\r\na7 CREATE x\r\n",
        );
        assert!(text.contains("a1 NO this lab has no TLS"), "{text}");
        assert!(
            text.contains("a2 NO FETCH is not valid in the Not Authenticated state"),
            "{text}"
        );
        assert!(text.contains("a3 NO ENABLE is not valid"), "{text}");
        assert!(
            text.contains("a4 BAD \"FROB\" is not an IMAP command"),
            "{text}"
        );
        assert!(text.contains("* BAD the tag holds"), "{text}");
        assert!(
            text.contains("a6 NO [AUTHENTICATIONFAILED] unknown user or wrong password"),
            "{text}"
        );
        assert!(
            text.contains("a7 NO CREATE is not valid in the Not Authenticated state"),
            "{text}"
        );
        assert!(!closed);
    }

    #[test]
    fn a_synchronising_literal_gets_one_continuation() {
        let mut server = ImapServer::new(ImapServerConfig::default(), MemoryStore::course());
        drain(&mut server);
        server.handle_input(b"a1 ID (\"name\" {3}\r\n", Millis(0));
        assert_eq!(drain(&mut server).bytes(), b"+ Ready for literal data\r\n");
        server.handle_input(b"ab", Millis(1));
        assert!(drain(&mut server).bytes().is_empty(), "one + per literal");
        server.handle_input(b"c)\r\n", Millis(2));
        let text = String::from_utf8(drain(&mut server).bytes()).unwrap();
        assert!(text.ends_with("a1 OK ID completed\r\n"), "{text}");
    }

    #[test]
    fn oversized_literals_and_endless_lines_are_refused_unread() {
        let config = ImapServerConfig {
            limits: Limits {
                line: 100,
                literal: 10,
                message: 1000,
            },
            max_errors: 5,
            ..Default::default()
        };
        let mut server = ImapServer::new(config.clone(), MemoryStore::course());
        drain(&mut server);
        server.handle_input(b"a1 LOGIN {3}\r\n", Millis(0));
        assert_eq!(drain(&mut server).bytes(), b"+ Ready for literal data\r\n");
        server.handle_input(b"bob {11}\r\na2 NOOP\r\n", Millis(0));
        let text = String::from_utf8(drain(&mut server).bytes()).unwrap();
        assert!(
            text.starts_with("a1 BAD [TOOBIG] a literal of 11 bytes"),
            "{text}"
        );
        assert!(!text.contains('+'), "no + for the refused literal");
        assert!(text.ends_with("\r\na2 OK NOOP completed\r\n"), "{text}");
        server.handle_input(&[b'x'; 500], Millis(1));
        server.handle_input(&[b'x'; 500], Millis(2));
        server.handle_input(b"\r\na2 NOOP\r\n", Millis(3));
        let text = String::from_utf8(drain(&mut server).bytes()).unwrap();
        assert_eq!(
            text,
            "* BAD [TOOBIG] a line is longer than 100 bytes: dropped\r\na2 OK NOOP completed\r\n"
        );
        let mut server = ImapServer::new(config, MemoryStore::course());
        drain(&mut server);
        server.handle_input(b"a1 ID (\"x\" {11+}\r\n", Millis(0));
        let out = drain(&mut server);
        assert!(String::from_utf8_lossy(&out.bytes()).starts_with("* BYE [TOOBIG]"));
        assert!(out.close);
    }

    #[test]
    fn idle_tells_of_new_mail_when_woken_and_ends_on_done() {
        let store = std::sync::Arc::new(MemoryStore::course());
        let config = ImapServerConfig {
            max_idle_ms: 10_000,
            ..ImapServerConfig::default()
        };
        let mut server = ImapServer::new(config, store.clone());
        server.handle_input(b"a1 LOGIN bob hungry\r\na2 SELECT INBOX\r\n", Millis(0));
        assert_eq!(drain(&mut server).deadline, None, "no timer unless idling");
        server.handle_input(b"a3 IDLE\r\n", Millis(100));
        let out = drain(&mut server);
        assert_eq!(out.bytes(), b"+ idling\r\n");
        assert_eq!(out.deadline, Some(Millis(600)));
        server.handle_timeout(Millis(600));
        let out = drain(&mut server);
        assert!(out.bytes().is_empty());
        assert_eq!(out.deadline, Some(Millis(1100)));
        let bob = ["bob@hamburger.edu".to_string()];
        crate::mail::store::MailStore::deliver(&*store, &bob, b"Subject: hi\r\n\r\nx\r\n").unwrap();
        server.handle_timeout(Millis(1100));
        assert_eq!(drain(&mut server).bytes(), b"* 3 EXISTS\r\n");
        server.handle_input(b"DO", Millis(1200));
        assert!(drain(&mut server).bytes().is_empty());
        server.handle_input(b"NE\r\na4 NOOP\r\n", Millis(1300));
        let out = drain(&mut server);
        assert_eq!(
            out.bytes(),
            b"a3 OK IDLE terminated\r\na4 OK NOOP completed\r\n"
        );
        assert_eq!(out.deadline, None);
        server.handle_input(b"a5 IDLE\r\nnope\r\na6 IDLE\r\n", Millis(2000));
        let text = String::from_utf8(drain(&mut server).bytes()).unwrap();
        assert!(text.contains("a5 BAD IDLE ends with DONE"), "{text}");
        server.handle_timeout(Millis(12_000));
        let out = drain(&mut server);
        assert!(String::from_utf8_lossy(&out.bytes()).starts_with("* BYE idle for too long"));
        assert!(out.close);
        assert_eq!(out.deadline, None);
    }

    #[test]
    fn authenticate_plain_both_ways_and_namespace() {
        let (text, _, server) = session(
            b"a1 AUTHENTICATE CRAM-MD5\r\na2 AUTHENTICATE PLAIN AGJvYgBmdWxs\r\n\
              a3 AUTHENTICATE PLAIN\r\n*\r\na4 AUTHENTICATE PLAIN\r\nAGJvYgBodW5ncnk=\r\n\
              a5 NAMESPACE\r\n",
        );
        let lines: Vec<&str> = text.lines().skip(1).collect();
        assert_eq!(
            lines,
            [
                "a1 NO [CANNOT] CRAM-MD5 is not offered: AUTHENTICATE PLAIN (AUTH=PLAIN)",
                "a2 NO [AUTHENTICATIONFAILED] unknown user or wrong password (the POP3 users: bob / hungry)",
                "+",
                "a3 BAD AUTHENTICATE cancelled by the client (RFC 9051 §6.2.2)",
                "+",
                "a4 OK AUTHENTICATE completed",
                "* NAMESPACE ((\"\" \"/\")) NIL NIL",
                "a5 OK NAMESPACE completed",
            ]
        );
        assert_eq!(server.state(), ImapState::Authenticated);
    }

    #[test]
    fn too_many_errors_end_the_session() {
        let (text, closed, _) = session(&b"x FROB\r\n".repeat(30));
        assert_eq!(text.matches(" BAD ").count(), 20);
        assert!(text.contains("* BYE too many bad commands"));
        assert!(closed);
    }
}
