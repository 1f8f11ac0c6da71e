//! The POP3 server engine (sans-IO) over a [`MailStore`]: the course's
//! session word for word (`+OK POP3 server ready`, `+OK`, `+OK user
//! successfully logged on`, `1 498`, `2 912`, `+OK POP3 server signing
//! off`), with STAT, LIST, RETR, DELE, RSET, NOOP, TOP, UIDL and CAPA.
//!
//! Logging in locks the mailbox (a second session gets `-ERR [IN-USE]`)
//! and takes a snapshot of it; DELE only marks; QUIT in TRANSACTION enters
//! UPDATE and asks the store to delete the marked messages and unlock. A
//! connection that ends any other way (end of stream, drop) unlocks
//! without deleting anything.
//!
//! Its bounds are in [`Pop3ServerConfig`], each answered with `-ERR`: a
//! command line too long (dropped as it arrives), and, closing the
//! connection without UPDATE, a command line that does not arrive in time,
//! too many refused commands or failed logins, and more pipelined input
//! than the server holds (see [`crate::command_reader`]). RFC 1939 §3 lets
//! an idle server close silently; this one says why first.

use super::command::{Command, CommandError, parse_line};
use super::frame::COMMAND_LINE_LIMIT;
use super::reply::Reply;
use super::session::{Pop3State, after_reply, check_state};
use crate::command_reader::{CommandReader, LineLimits, Next};
use crate::engine::{Engine, Millis, Output};
use crate::line_protocol::Outbox;
use crate::mail::store::{LockToken, MailStore, StoreError};

/// Settings of the POP3 server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pop3ServerConfig {
    pub hostname: String,
    /// Failed logins before the server closes the connection.
    pub max_failed_logins: usize,
    /// Refused commands before the server closes the connection.
    pub max_errors: usize,
    /// The longest command line, without CR LF (beyond it: `-ERR`).
    pub max_line_bytes: usize,
    /// How long a command line may take from its first byte to its end.
    pub command_timeout_ms: u64,
    /// Commands answered before the server waits for its replies to be
    /// written (a client pipelining RETRs that never reads stops being read).
    pub max_pipelined_commands: usize,
}

impl Default for Pop3ServerConfig {
    fn default() -> Self {
        Pop3ServerConfig {
            hostname: "hamburger.edu".into(),
            max_failed_logins: 3,
            max_errors: 20,
            max_line_bytes: COMMAND_LINE_LIMIT,
            command_timeout_ms: 60_000,
            max_pipelined_commands: 128,
        }
    }
}

/// What the server reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pop3ServerEvent {
    Answered {
        command: String,
        ok: bool,
    },
    LoggedIn {
        mailbox: String,
        messages: usize,
    },
    /// UPDATE: these messages were removed.
    Deleted {
        mailbox: String,
        count: usize,
    },
    State(Pop3State),
}

#[derive(Debug, Clone)]
struct Entry {
    uid: String,
    size: u64,
    deleted: bool,
}

struct Maildrop {
    mailbox: String,
    lock: LockToken,
    entries: Vec<Entry>,
}

/// One POP3 server connection.
pub struct Pop3Server<S: MailStore> {
    config: Pop3ServerConfig,
    store: S,
    state: Pop3State,
    user: Option<String>,
    drop: Option<Maildrop>,
    input: CommandReader,
    outbox: Outbox<Pop3ServerEvent>,
    failed_logins: usize,
    errors: usize,
}

impl<S: MailStore> Pop3Server<S> {
    /// A new connection; the greeting is ready to be polled.
    pub fn new(config: Pop3ServerConfig, store: S) -> Pop3Server<S> {
        let input = CommandReader::new(LineLimits {
            max_line_bytes: config.max_line_bytes,
            line_timeout_ms: config.command_timeout_ms,
            max_pipelined: config.max_pipelined_commands,
        });
        let mut s = Pop3Server {
            config,
            store,
            state: Pop3State::AwaitingGreeting,
            user: None,
            drop: None,
            input,
            outbox: Outbox::default(),
            failed_logins: 0,
            errors: 0,
        };
        s.send(Reply::ok("POP3 server ready"));
        s.set_state(Pop3State::Authorization);
        s
    }

    pub fn state(&self) -> Pop3State {
        self.state
    }

    fn send(&mut self, reply: Reply) {
        let bytes = reply.to_bytes();
        self.input.replied(bytes.len());
        self.outbox.transmit(bytes);
    }

    fn set_state(&mut self, state: Pop3State) {
        self.outbox
            .set_state(&mut self.state, state, Pop3ServerEvent::State);
    }

    fn answer(&mut self, line: &[u8], reply: Reply) {
        let ok = reply.ok;
        self.send(reply);
        self.outbox.event(Pop3ServerEvent::Answered {
            command: String::from_utf8_lossy(line).into_owned(),
            ok,
        });
        if !ok {
            self.errors += 1;
            if self.errors >= self.config.max_errors {
                self.give_up("too many errors, closing connection");
            }
        }
    }

    /// `-ERR <why>`, then close without UPDATE: nothing marked is deleted.
    fn give_up(&mut self, why: &str) {
        if !self.outbox.is_closed() {
            self.send(Reply::err(why));
            self.close();
        }
    }

    /// Closes without UPDATE: the mailbox is unlocked, nothing deleted.
    fn close(&mut self) {
        let (state, drop, store) = (&mut self.state, &mut self.drop, &self.store);
        self.outbox.close(|out| {
            if let Some(d) = drop.take() {
                store.release(&d.mailbox, d.lock);
            }
            if *state != Pop3State::Update {
                out.set_state(state, Pop3State::Closed, Pop3ServerEvent::State);
            }
        });
    }

    fn process(&mut self) {
        while !self.outbox.is_closed() {
            match self.input.next_command() {
                Next::Line(content) => self.handle_line(&content),
                Next::TooLong => self.answer(b"(line too long)", Reply::err("line too long")),
                Next::Wait | Next::Paused => break,
            }
        }
        if self.failed_logins >= self.config.max_failed_logins {
            self.give_up("[AUTH] too many failed logins, closing connection");
        }
        if self.input.overfull() {
            self.give_up(
                "too many pipelined commands without reading the replies, closing connection",
            );
        }
    }

    fn message(&self, n: u32) -> Result<&Entry, Reply> {
        let d = self
            .drop
            .as_ref()
            .ok_or_else(|| Reply::err("not logged in"))?;
        match d.entries.get((n as usize).wrapping_sub(1)) {
            None => Err(Reply::err(format!(
                "no such message, only {} messages in maildrop",
                d.entries.len()
            ))),
            Some(e) if e.deleted => Err(Reply::err(format!("message {n} already deleted"))),
            Some(e) => Ok(e),
        }
    }

    fn totals(&self) -> (usize, u64) {
        self.drop.as_ref().map_or((0, 0), |d| {
            d.entries
                .iter()
                .filter(|e| !e.deleted)
                .fold((0, 0), |(n, size), e| (n + 1, size + e.size))
        })
    }

    fn read(&self, uid: &str) -> Result<Vec<u8>, Reply> {
        let d = self
            .drop
            .as_ref()
            .ok_or_else(|| Reply::err("not logged in"))?;
        self.store
            .read(&d.mailbox, d.lock, uid)
            .map_err(|e| Reply::err(format!("[SYS/TEMP] cannot read the message: {e}")))
    }

    fn handle_line(&mut self, line: &[u8]) {
        let parsed = parse_line(line);
        let command = match parsed.command {
            Ok(c) => c,
            Err(CommandError::Unknown { keyword, .. }) => {
                let shown: String = keyword.chars().take(20).collect();
                return self.answer(line, Reply::err(format!("unknown command {shown:?}")));
            }
            Err(e) => return self.answer(line, Reply::err(e.to_string())),
        };
        let user_given = self.user.is_some();
        if let Err(e) = check_state(self.state, &command, user_given) {
            return self.answer(line, Reply::err(e.to_string()));
        }
        let reply = match &command {
            Command::User(name) => {
                self.user = Some(name.clone());
                Reply::ok("")
            }
            Command::Pass(password) => self.login(password),
            Command::Quit => {
                if self.state == Pop3State::Transaction {
                    self.update(line);
                } else {
                    self.answer(line, Reply::ok("POP3 server signing off"));
                    self.close();
                }
                return;
            }
            Command::Capa => Reply::ok("Capability list follows").with_body(
                b"TOP\r\nUSER\r\nUIDL\r\nPIPELINING\r\nRESP-CODES\r\nIMPLEMENTATION wirelab\r\n"
                    .to_vec(),
            ),
            Command::Noop => Reply::ok(""),
            Command::Stat => {
                let (n, size) = self.totals();
                Reply::ok(format!("{n} {size}"))
            }
            Command::List(None) => {
                let d = self
                    .drop
                    .as_ref()
                    .map(|d| d.entries.clone())
                    .unwrap_or_default();
                let (n, size) = self.totals();
                let body: String = d
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| !e.deleted)
                    .map(|(i, e)| format!("{} {}\r\n", i + 1, e.size))
                    .collect();
                Reply::ok(format!("{n} messages ({size} octets)")).with_body(body.into_bytes())
            }
            Command::List(Some(n)) => match self.message(*n) {
                Ok(e) => Reply::ok(format!("{n} {}", e.size)),
                Err(r) => r,
            },
            Command::Uidl(None) => {
                let d = self
                    .drop
                    .as_ref()
                    .map(|d| d.entries.clone())
                    .unwrap_or_default();
                let body: String = d
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| !e.deleted)
                    .map(|(i, e)| format!("{} {}\r\n", i + 1, e.uid))
                    .collect();
                Reply::ok("").with_body(body.into_bytes())
            }
            Command::Uidl(Some(n)) => match self.message(*n) {
                Ok(e) => Reply::ok(format!("{n} {}", e.uid)),
                Err(r) => r,
            },
            Command::Retr(n) => match self.message(*n).map(|e| (e.uid.clone(), e.size)) {
                Ok((uid, size)) => match self.read(&uid) {
                    Ok(bytes) => Reply::ok(format!("{size} octets")).with_body(bytes),
                    Err(r) => r,
                },
                Err(r) => r,
            },
            Command::Top(n, lines) => match self.message(*n).map(|e| e.uid.clone()) {
                Ok(uid) => match self.read(&uid) {
                    Ok(bytes) => {
                        Reply::ok("top of message follows").with_body(top(&bytes, *lines as usize))
                    }
                    Err(r) => r,
                },
                Err(r) => r,
            },
            Command::Dele(n) => match self.message(*n) {
                Ok(_) => {
                    if let Some(d) = self.drop.as_mut() {
                        d.entries[*n as usize - 1].deleted = true;
                    }
                    Reply::ok(format!("message {n} deleted"))
                }
                Err(r) => r,
            },
            Command::Rset => {
                if let Some(d) = self.drop.as_mut() {
                    for e in &mut d.entries {
                        e.deleted = false;
                    }
                }
                let (n, size) = self.totals();
                Reply::ok(format!("maildrop has {n} messages ({size} octets)"))
            }
        };
        let ok = reply.ok;
        self.answer(line, reply);
        // PASS must come right after USER.
        if !matches!(command, Command::User(_)) {
            self.user = None;
        }
        let next = after_reply(self.state, &command, ok);
        self.set_state(next);
    }

    fn login(&mut self, password: &str) -> Reply {
        let user = self.user.take().unwrap_or_default();
        let result = self.store.login(&user, password).and_then(|mailbox| {
            self.store
                .open(&mailbox)
                .map(|(lock, list)| (mailbox, lock, list))
        });
        match result {
            Ok((mailbox, lock, list)) => {
                let count = list.len();
                self.drop = Some(Maildrop {
                    mailbox: mailbox.clone(),
                    lock,
                    entries: list
                        .into_iter()
                        .map(|m| Entry {
                            uid: m.uid,
                            size: m.size,
                            deleted: false,
                        })
                        .collect(),
                });
                self.outbox.event(Pop3ServerEvent::LoggedIn {
                    mailbox,
                    messages: count,
                });
                Reply::ok("user successfully logged on")
            }
            Err(StoreError::Locked) => Reply::err(
                "[IN-USE] the mailbox is locked by another POP3 session; try again when it quits",
            ),
            Err(StoreError::BadPassword | StoreError::NoSuchMailbox(_)) => {
                self.failed_logins += 1;
                Reply::err("[AUTH] invalid user name or password")
            }
            Err(e) => Reply::err(format!("[SYS/TEMP] {e}")),
        }
    }

    fn update(&mut self, line: &[u8]) {
        self.set_state(Pop3State::Update);
        let Some(d) = self.drop.take() else {
            self.answer(line, Reply::ok("POP3 server signing off"));
            return self.close();
        };
        let delete: Vec<String> = d
            .entries
            .iter()
            .filter(|e| e.deleted)
            .map(|e| e.uid.clone())
            .collect();
        match self.store.close(&d.mailbox, d.lock, &delete) {
            Ok(()) => {
                self.outbox.event(Pop3ServerEvent::Deleted {
                    mailbox: d.mailbox.clone(),
                    count: delete.len(),
                });
                self.answer(line, Reply::ok("POP3 server signing off"));
            }
            Err(e) => {
                self.store.release(&d.mailbox, d.lock);
                self.answer(
                    line,
                    Reply::err(format!("[SYS/TEMP] some deleted messages not removed: {e}")),
                );
            }
        }
        self.close();
    }
}

/// The header, the empty line and the first `lines` lines of the body (TOP).
pub fn top(message: &[u8], lines: usize) -> Vec<u8> {
    let header_end = message
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(message.len(), |p| p + 4);
    let mut out = message[..header_end].to_vec();
    let mut rest = &message[header_end..];
    for _ in 0..lines {
        if rest.is_empty() {
            break;
        }
        let end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .map_or(rest.len(), |p| p + 2);
        out.extend_from_slice(&rest[..end]);
        rest = &rest[end..];
    }
    out
}

impl<S: MailStore> Engine for Pop3Server<S> {
    type Event = Pop3ServerEvent;

    fn handle_input(&mut self, bytes: &[u8], now: Millis) {
        if self.outbox.is_closed() {
            return;
        }
        self.input.start_round(now);
        self.input.extend(bytes);
        self.process();
    }

    fn handle_eof(&mut self, _now: Millis) {
        // No QUIT: nothing is deleted (RFC 1939 §6).
        self.close();
    }

    fn handle_timeout(&mut self, now: Millis) {
        if self.outbox.is_closed() {
            return;
        }
        self.input.start_round(now);
        if self.input.timed_out(now) {
            let seconds = self.config.command_timeout_ms.div_ceil(1000);
            self.give_up(&format!(
                "command line not completed within {seconds} s, closing connection"
            ));
            return;
        }
        self.process();
    }

    fn poll_output(&mut self) -> Output<Pop3ServerEvent> {
        let deadline = if self.outbox.is_closed() {
            None
        } else {
            self.input.deadline()
        };
        self.outbox.poll(deadline)
    }
}

impl<S: MailStore> Drop for Pop3Server<S> {
    fn drop(&mut self) {
        if let Some(d) = self.drop.take() {
            self.store.release(&d.mailbox, d.lock);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::drain;
    use crate::mail::store::{MemoryStore, course_messages};
    use std::sync::Arc;

    fn server(store: &Arc<MemoryStore>) -> Pop3Server<Arc<MemoryStore>> {
        Pop3Server::new(Pop3ServerConfig::default(), store.clone())
    }

    fn say(s: &mut Pop3Server<Arc<MemoryStore>>, input: &str) -> String {
        s.handle_input(input.as_bytes(), Millis(0));
        String::from_utf8_lossy(&drain(s).bytes()).into_owned()
    }

    #[test]
    fn the_course_session() {
        let store = Arc::new(MemoryStore::course());
        let mut s = server(&store);
        assert_eq!(say(&mut s, ""), "+OK POP3 server ready\r\n");
        assert_eq!(say(&mut s, "user bob\r\n"), "+OK\r\n");
        assert_eq!(
            say(&mut s, "pass hungry\r\n"),
            "+OK user successfully logged on\r\n"
        );
        assert_eq!(s.state(), Pop3State::Transaction);
        assert_eq!(
            say(&mut s, "list\r\n"),
            "+OK 2 messages (1410 octets)\r\n1 498\r\n2 912\r\n.\r\n"
        );
        let retr = say(&mut s, "retr 1\r\n");
        let [one, two] = course_messages();
        let expected = format!("+OK 498 octets\r\n{}.\r\n", String::from_utf8_lossy(one));
        assert_eq!(retr, expected);
        assert_eq!(say(&mut s, "dele 1\r\n"), "+OK message 1 deleted\r\n");
        let expected = format!("+OK 912 octets\r\n{}.\r\n", String::from_utf8_lossy(two));
        assert_eq!(say(&mut s, "retr 2\r\n"), expected);
        assert_eq!(say(&mut s, "dele 2\r\n"), "+OK message 2 deleted\r\n");
        assert_eq!(
            say(&mut s, "retr 1\r\n"),
            "-ERR message 1 already deleted\r\n"
        );
        assert_eq!(say(&mut s, "stat\r\n"), "+OK 0 0\r\n");
        // Nothing is deleted before QUIT.
        assert_eq!(store.messages("bob@hamburger.edu").len(), 2);
        s.handle_input(b"quit\r\n", Millis(0));
        let out = drain(&mut s);
        assert_eq!(out.bytes(), b"+OK POP3 server signing off\r\n");
        assert!(out.close);
        assert_eq!(s.state(), Pop3State::Update);
        assert!(store.messages("bob@hamburger.edu").is_empty());
        assert!(!store.is_locked("bob@hamburger.edu"));
    }

    #[test]
    fn locks_wrong_state_and_dropped_connections() {
        let store = Arc::new(MemoryStore::course());
        let mut first = server(&store);
        assert_eq!(
            say(&mut first, "LIST\r\n"),
            "+OK POP3 server ready\r\n-ERR LIST is only valid after logging in (TRANSACTION state); log in with USER and PASS first\r\n"
        );
        assert!(say(&mut first, "PASS hungry\r\n").starts_with("-ERR PASS comes right after"));
        assert_eq!(
            say(&mut first, "USER bob\r\nPASS hungry\r\nDELE 1\r\n"),
            "+OK\r\n+OK user successfully logged on\r\n+OK message 1 deleted\r\n"
        );
        let mut second = server(&store);
        say(&mut second, "");
        assert!(say(&mut second, "USER bob\r\nPASS hungry\r\n").contains("-ERR [IN-USE]"));
        assert_eq!(second.state(), Pop3State::Authorization);
        // The first connection drops without QUIT: nothing deleted, unlocked.
        first.handle_eof(Millis(0));
        assert!(drain(&mut first).close);
        assert_eq!(store.messages("bob@hamburger.edu").len(), 2);
        assert!(
            say(&mut second, "USER bob\r\nPASS hungry\r\n")
                .ends_with("+OK user successfully logged on\r\n")
        );
        drop(second);
        assert!(
            !store.is_locked("bob@hamburger.edu"),
            "dropping the engine unlocks"
        );
    }

    #[test]
    fn other_commands() {
        let store = Arc::new(MemoryStore::course());
        let mut s = server(&store);
        say(&mut s, "USER bob@hamburger.edu\r\nPASS hungry\r\n");
        assert_eq!(say(&mut s, "LIST 2\r\n"), "+OK 2 912\r\n");
        assert_eq!(
            say(&mut s, "LIST 3\r\n"),
            "-ERR no such message, only 2 messages in maildrop\r\n"
        );
        assert_eq!(
            say(&mut s, "UIDL\r\n"),
            "+OK\r\n1 seed-1\r\n2 seed-2\r\n.\r\n"
        );
        assert_eq!(say(&mut s, "UIDL 1\r\n"), "+OK 1 seed-1\r\n");
        let top = say(&mut s, "TOP 1 1\r\n");
        assert!(top.starts_with("+OK top of message follows\r\nReturn-Path:"));
        assert!(
            top.ends_with("\r\n\r\nDo you like ketchup?\r\n.\r\n"),
            "{top}"
        );
        assert_eq!(
            say(&mut s, "DELE 1\r\nRSET\r\n"),
            "+OK message 1 deleted\r\n+OK maildrop has 2 messages (1410 octets)\r\n"
        );
        assert_eq!(say(&mut s, "NOOP\r\n"), "+OK\r\n");
        assert!(say(&mut s, "CAPA\r\n").contains("\r\nUIDL\r\n"));
        assert!(
            say(&mut s, "USER bob\r\n").starts_with("-ERR USER is only valid in the AUTHORIZATION")
        );
        assert!(say(&mut s, "HELO\r\n").starts_with("-ERR unknown command"));
        assert!(
            say(&mut s, &format!("NOOP {}\r\n", "x".repeat(2000)))
                .starts_with("-ERR line too long")
        );
    }

    #[test]
    fn failed_logins_close_and_quit_in_authorization() {
        let store = Arc::new(MemoryStore::course());
        let mut s = server(&store);
        say(&mut s, "");
        for _ in 0..2 {
            assert_eq!(
                say(&mut s, "USER bob\r\nPASS full\r\n"),
                "+OK\r\n-ERR [AUTH] invalid user name or password\r\n"
            );
        }
        s.handle_input(b"USER bob\r\nPASS full\r\n", Millis(0));
        let out = drain(&mut s);
        assert!(out.close);
        let mut s = server(&store);
        s.handle_input(b"QUIT\r\n", Millis(0));
        let out = drain(&mut s);
        assert!(out.close);
        assert_eq!(s.state(), Pop3State::Closed);
    }

    fn with(config: Pop3ServerConfig, store: &Arc<MemoryStore>) -> Pop3Server<Arc<MemoryStore>> {
        Pop3Server::new(config, store.clone())
    }

    #[test]
    fn a_command_line_that_never_ends_gets_err_and_deletes_nothing() {
        let store = Arc::new(MemoryStore::course());
        let config = Pop3ServerConfig {
            command_timeout_ms: 2000,
            ..Pop3ServerConfig::default()
        };
        let mut s = with(config, &store);
        s.handle_input(b"USER bob\r\nPASS hungry\r\nDELE 1\r\nQU", Millis(500));
        let out = drain(&mut s);
        assert_eq!(out.deadline, Some(Millis(2500)), "QU began at 500");
        s.handle_input(b"I", Millis(1500));
        assert_eq!(drain(&mut s).deadline, Some(Millis(2500)));
        s.handle_timeout(Millis(2500));
        let out = drain(&mut s);
        assert_eq!(
            out.bytes(),
            b"-ERR command line not completed within 2 s, closing connection\r\n"
        );
        assert!(out.close);
        assert_eq!(s.state(), Pop3State::Closed, "no UPDATE");
        assert_eq!(store.messages("bob@hamburger.edu").len(), 2);
        assert!(!store.is_locked("bob@hamburger.edu"));
    }

    #[test]
    fn line_and_error_limits_come_from_the_config() {
        let store = Arc::new(MemoryStore::course());
        let config = Pop3ServerConfig {
            max_line_bytes: 6,
            max_errors: 3,
            ..Pop3ServerConfig::default()
        };
        let mut s = with(config, &store);
        say(&mut s, "");
        assert_eq!(
            say(&mut s, "STAT\r\n"),
            "-ERR STAT is only valid after logging in (TRANSACTION state); log in with USER and PASS first\r\n"
        );
        assert_eq!(say(&mut s, "NOOP xy\r\n"), "-ERR line too long\r\n");
        s.handle_input(b"BAD\r\nNOOP\r\n", Millis(0));
        let out = drain(&mut s);
        assert!(out.close);
        assert_eq!(
            String::from_utf8(out.bytes()).unwrap(),
            "-ERR unknown command \"BAD\"\r\n-ERR too many errors, closing connection\r\n"
        );
    }

    #[test]
    fn pipelined_retrs_are_answered_a_window_at_a_time() {
        let store = Arc::new(MemoryStore::course());
        let big = format!("Subject: big\r\n\r\n{}\r\n", "x".repeat(100_000));
        store
            .deliver(&["alice@crepes.fr".to_string()], big.as_bytes())
            .unwrap();
        let mut s = with(Pop3ServerConfig::default(), &store);
        say(&mut s, "USER alice\r\nPASS crepes\r\n");
        s.handle_input("RETR 1\r\n".repeat(5).as_bytes(), Millis(10));
        let out = drain(&mut s);
        // 256 KiB of replies a round: three RETRs, then the rest once written.
        assert_eq!(out.transmitted.len(), 3);
        assert_eq!(out.deadline, Some(Millis(10)));
        s.handle_timeout(Millis(11));
        let out = drain(&mut s);
        assert_eq!((out.transmitted.len(), out.deadline), (2, None));
    }

    #[test]
    fn a_client_that_pipelines_without_reading_is_closed() {
        let store = Arc::new(MemoryStore::course());
        let config = Pop3ServerConfig {
            max_pipelined_commands: 2,
            ..Pop3ServerConfig::default()
        };
        let mut s = with(config, &store);
        say(&mut s, "USER bob\r\nPASS hungry\r\n");
        let flood = "NOOP\r\n".repeat(crate::command_reader::MIN_UNREAD_BYTES / 6 + 10);
        let out = say(&mut s, &flood);
        assert_eq!(
            out,
            "+OK\r\n+OK\r\n-ERR too many pipelined commands without reading the replies, closing connection\r\n"
        );
        assert!(!store.is_locked("bob@hamburger.edu"));
    }

    #[test]
    fn byte_stuffing_in_retr() {
        let store = Arc::new(MemoryStore::course());
        store
            .deliver(
                &["alice@crepes.fr".to_string()],
                b"Subject: dots\r\n\r\n.one\r\n..two\r\n",
            )
            .unwrap();
        let mut s = server(&store);
        let out = say(&mut s, "USER alice\r\nPASS crepes\r\nRETR 1\r\n");
        assert!(
            out.ends_with("+OK 30 octets\r\nSubject: dots\r\n\r\n..one\r\n...two\r\n.\r\n"),
            "{out}"
        );
    }
}
