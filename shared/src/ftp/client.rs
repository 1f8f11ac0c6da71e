//! The FTP client engine, sans-IO: it sends what the student (or a program)
//! types on the control connection, reads the replies, and follows the
//! session the way the server keeps it (logged in or not, current
//! directory, transfer type, the pending data connection), so the page can
//! show that state and knows which data connection to open.
//!
//! Driving it: call [`FtpClient::send_line`] (raw bytes, as typed) or
//! [`FtpClient::send`] (a typed command), feed what the server sends to
//! [`Engine::handle_input`], and drain [`Engine::poll_output`]: `Transmit`
//! bytes go to the control connection; [`ClientEvent`]s say what happened —
//! a reply (with its bytes, to dissect), a data connection to open
//! (`ConnectData`, after 227 or 229: open it before sending the transfer
//! command's reply is awaited), a transfer starting or done.
//!
//! Before sending, [`FtpClient::diagnose`] tells what the server will make
//! of a line in the current state: a command before login, a transfer
//! without PASV or PORT (425), a PORT whose address is not the client's own
//! (the FTP bounce attack).

use crate::dissect::{Diagnostic, Span};
use crate::engine::{Engine, Millis, Output};
use crate::framing::split_lines;
use crate::ftp::MAX_LINE;
use crate::ftp::address::{find_extended_port, find_host_port, parse_host_port};
use crate::ftp::command::{Command, command_info, split};
use crate::ftp::frame::{next_reply, strip_telnet};
use crate::ftp::path::{parse_absolute, resolve};
use crate::ftp::reply::{Reply, ReplyError};
use crate::ftp::session::{DataKind, DataSetup, LoginState, SessionState};
use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr, SocketAddrV4};

/// What the client engine reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientEvent {
    /// A complete reply, with its bytes for the dissector and the command it
    /// answers (`None` for the greeting and unsolicited replies).
    Reply {
        reply: Reply,
        bytes: Vec<u8>,
        answers: Option<Command>,
    },
    /// Bytes that are not a valid reply.
    Malformed { bytes: Vec<u8>, error: String },
    /// 227 or 229: open the data connection to this port. `addr` is the
    /// address the reply names (227) or the control connection's server
    /// with the port (229), when known.
    ConnectData {
        port: u16,
        addr: Option<SocketAddr>,
        /// `p1*256+p2 = port` for a 227.
        arithmetic: Option<String>,
    },
    /// 125 or 150: the data connection carries this now.
    TransferStarting { kind: DataKind },
    /// The final reply of a transfer command.
    TransferDone { kind: DataKind, ok: bool },
    /// The session state changed.
    State(SessionState),
    /// The server closed the control connection (or said it would: 221, 421).
    Closed,
}

/// A command sent and not yet answered with a final reply.
#[derive(Debug, Clone)]
struct Pending {
    command: Option<Command>,
    started: Option<DataKind>,
}

/// The client side of one FTP control connection.
#[derive(Debug, Default)]
pub struct FtpClient {
    state: SessionState,
    pending: VecDeque<Pending>,
    greeted: bool,
    input: Vec<u8>,
    typed: Vec<u8>,
    outputs: VecDeque<Output<ClientEvent>>,
    server: Option<SocketAddr>,
    local: Option<SocketAddr>,
    closed: bool,
}

fn is_anonymous(user: &str) -> bool {
    user.eq_ignore_ascii_case("anonymous") || user.eq_ignore_ascii_case("ftp")
}

/// The path in a 257 reply: the text between the first quote and the quote
/// that closes it, `""` standing for one quote (RFC 959 Appendix II).
pub fn quoted_path(text: &str) -> Option<String> {
    let start = text.find('"')? + 1;
    let mut out = String::new();
    let mut chars = text[start..].chars().peekable();
    while let Some(c) = chars.next() {
        if c == '"' {
            if chars.peek() == Some(&'"') {
                chars.next();
                out.push('"');
            } else {
                return Some(out);
            }
        } else {
            out.push(c);
        }
    }
    None
}

impl FtpClient {
    pub fn new() -> Self {
        FtpClient {
            state: SessionState::new(),
            ..Default::default()
        }
    }

    /// The bytes of a reply begun but not complete yet.
    pub fn pending_reply(&self) -> &[u8] {
        &self.input
    }

    /// The control connection's addresses, when known: `server` is the
    /// address the client connected to, `local` the client's own address as
    /// the server sees it (through the relay: the relay's `local`). They make
    /// 229 and the PORT checks exact.
    pub fn set_addresses(&mut self, server: Option<SocketAddr>, local: Option<SocketAddr>) {
        self.server = server;
        self.local = local;
    }

    /// The session as the client understands it from the replies so far.
    pub fn state(&self) -> &SessionState {
        &self.state
    }

    /// What the data connection of the current transfer carries, if a
    /// transfer was announced (125/150) and not finished.
    pub fn transfer(&self) -> Option<&DataKind> {
        self.state.transfer.as_ref()
    }

    /// The PORT command that asks the server to connect to `addr` (where the
    /// client, or the relay for it, listens), with `p1 = port / 256` and
    /// `p2 = port % 256` (see [`crate::ftp::address::port_argument`]).
    pub fn port_command(addr: SocketAddrV4) -> Command {
        Command::Port(addr)
    }

    /// Queues a typed command.
    pub fn send(&mut self, command: &Command) {
        self.send_line(&command.to_bytes());
    }

    /// Queues bytes exactly as typed (the page adds CR LF). Each complete line
    /// is also read as a command, so the state follows what the server will
    /// do with it.
    pub fn send_line(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.outputs.push_back(Output::Transmit(bytes.to_vec()));
        self.typed.extend_from_slice(bytes);
        while let Some(lf) = self.typed.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.typed.drain(..=lf).collect();
            let content = line
                .strip_suffix(b"\n")
                .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
                .unwrap_or(&line);
            let (content, _) = strip_telnet(content);
            let command = Command::parse(&content).ok();
            if command.is_some() || !content.is_empty() {
                self.pending.push_back(Pending {
                    command,
                    started: None,
                });
            }
        }
        if self.typed.len() > MAX_LINE {
            self.typed.clear();
        }
    }

    /// What the server will make of `line` (one command, ending optional) in
    /// the current state: diagnostics with spans into `line`.
    pub fn diagnose(&self, line: &[u8]) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        let content_end = split_lines(line).first().map_or(0, |(s, _)| s.end);
        let content = &line[..content_end];
        let parts = split(content);
        let verb_span = Span::new(0, parts.verb.len());
        let verb = String::from_utf8_lossy(parts.verb).to_ascii_uppercase();
        let Some(info) = command_info(&verb) else {
            return out;
        };
        if info.needs_login && !self.state.login.is_logged_in() {
            out.push(
                Diagnostic::error(
                    verb_span,
                    format!(
                        "{verb} before login: the server answers 530 until USER and PASS have succeeded ({})",
                        self.state.login
                    ),
                )
                .reference("RFC 959 §4.1.1"),
            );
        }
        if verb == "PASS" && !matches!(self.state.login, LoginState::NeedPassword { .. }) {
            out.push(
                Diagnostic::warning(
                    verb_span,
                    "PASS must come right after USER: the server answers 503 (bad sequence)",
                )
                .reference("RFC 959 §5.4"),
            );
        }
        if verb == "RNTO" && self.state.rename_from.is_none() {
            out.push(
                Diagnostic::warning(
                    verb_span,
                    "RNTO must come right after an accepted RNFR: the server answers 503",
                )
                .reference("RFC 959 §4.1.3"),
            );
        }
        if info.uses_data_connection
            && self.state.login.is_logged_in()
            && !self.state.data.is_some()
        {
            out.push(
                Diagnostic::error(
                    verb_span,
                    format!(
                        "{verb} needs a data connection, and none was set up: the server will answer \
                         425 Can't open data connection. Send PASV (or EPSV) first, or PORT (or EPRT)"
                    ),
                )
                .reference("RFC 959 §3.2"),
            );
        }
        if verb == "PORT"
            && let Some(arg) = parts.argument
            && let Ok(hp) = parse_host_port(arg)
            && let Some(local) = self.local
            && IpAddr::V4(hp.ip()) != local.ip().to_canonical()
        {
            let span = hp.span.shifted(parts.argument_start);
            out.push(
                Diagnostic::warning(
                    span,
                    format!(
                        "PORT names {}, but the server sees this client as {}: a server that obeyed \
                         would connect to a third host on the client's word (the FTP bounce attack, \
                         used to scan ports and send data from the server's address). Servers refuse \
                         it; the reference server answers 504",
                        hp.ip(),
                        local.ip().to_canonical()
                    ),
                )
                .reference("RFC 2577 §3"),
            );
        }
        out
    }

    fn event(&mut self, event: ClientEvent) {
        self.outputs.push_back(Output::Event(event));
    }

    fn on_reply(&mut self, reply: Reply, bytes: Vec<u8>) {
        let preliminary = reply.class().is_preliminary();
        let before = self.state.clone();
        let mut finished = None;
        let answers = if !self.greeted && self.pending.is_empty() {
            // The 220 greeting (or 120/421) answers the connection itself.
            None
        } else if preliminary {
            self.pending.front().and_then(|p| p.command.clone())
        } else {
            self.pending.pop_front().and_then(|p| {
                finished = p.started;
                p.command
            })
        };
        if !preliminary {
            self.greeted = true;
        }
        self.event(ClientEvent::Reply {
            reply: reply.clone(),
            bytes,
            answers: answers.clone(),
        });
        if let Some(kind) = finished {
            // The final reply of a transfer closes what 125/150 opened.
            self.state.transfer = None;
            self.state.data = DataSetup::None;
            self.event(ClientEvent::TransferDone {
                kind,
                ok: !reply.class().is_negative(),
            });
        } else if let Some(command) = &answers {
            self.follow(command, &reply);
        }
        if reply.code == 421 && !self.closed {
            self.closed = true;
            self.event(ClientEvent::Closed);
        }
        if self.state != before {
            let state = self.state.clone();
            self.event(ClientEvent::State(state));
        }
    }

    fn follow(&mut self, command: &Command, reply: &Reply) {
        let code = reply.code;
        let ok = (200..300).contains(&code);
        match command {
            Command::User(user) => {
                self.state.login = match code {
                    331 | 332 => LoginState::NeedPassword { user: user.clone() },
                    230 => LoginState::LoggedIn {
                        user: user.clone(),
                        anonymous: is_anonymous(user),
                    },
                    _ => LoginState::NotLoggedIn,
                };
                if code == 331 || code == 230 {
                    self.state.cwd = "/".into();
                }
            }
            Command::Pass(_) => {
                if let LoginState::NeedPassword { user } = &self.state.login {
                    let user = user.clone();
                    self.state.login = if code == 230 || code == 202 {
                        LoginState::LoggedIn {
                            anonymous: is_anonymous(&user),
                            user,
                        }
                    } else if code == 332 {
                        LoginState::NeedPassword { user }
                    } else {
                        LoginState::NotLoggedIn
                    };
                }
            }
            Command::Cwd(dir) if ok => {
                self.state.cwd = resolve(&parse_absolute(&self.state.cwd), dir).to_string();
            }
            Command::Cdup if ok => {
                self.state.cwd = parse_absolute(&self.state.cwd).parent().to_string();
            }
            Command::Pwd if code == 257 => {
                if let Some(path) = quoted_path(&reply.lines[0]) {
                    self.state.cwd = path;
                }
            }
            Command::Type(t) if ok => self.state.transfer_type = *t,
            Command::Pasv if code == 227 => {
                if let Some(hp) = find_host_port(reply.lines[0].as_bytes()) {
                    let addr = SocketAddr::V4(hp.addr());
                    self.state.data = DataSetup::Passive {
                        addr,
                        extended: false,
                    };
                    self.event(ClientEvent::ConnectData {
                        port: hp.port(),
                        addr: Some(addr),
                        arithmetic: Some(hp.port_arithmetic()),
                    });
                }
            }
            Command::Epsv(_) if code == 229 => {
                if let Some((_, port)) = find_extended_port(reply.lines[0].as_bytes()) {
                    let addr = self.server.map(|s| SocketAddr::new(s.ip(), port));
                    self.state.data = DataSetup::Passive {
                        addr: addr.unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], port))),
                        extended: true,
                    };
                    self.event(ClientEvent::ConnectData {
                        port,
                        addr,
                        arithmetic: None,
                    });
                }
            }
            Command::Port(addr) if ok => {
                self.state.data = DataSetup::Active {
                    addr: SocketAddr::V4(*addr),
                    extended: false,
                };
            }
            Command::Eprt(addr) if ok => {
                self.state.data = DataSetup::Active {
                    addr: *addr,
                    extended: true,
                };
            }
            Command::Pasv | Command::Epsv(_) | Command::Port(_) | Command::Eprt(_) => {
                self.state.data = DataSetup::None;
            }
            Command::List(_)
            | Command::Nlst(_)
            | Command::Retr(_)
            | Command::Stor(_)
            | Command::Appe(_) => {
                if reply.class().is_preliminary() {
                    let kind = self.data_kind(command);
                    self.state.transfer = Some(kind.clone());
                    if let Some(p) = self.pending.front_mut() {
                        p.started = Some(kind.clone());
                    }
                    self.event(ClientEvent::TransferStarting { kind });
                } else {
                    // Refused before any transfer: the server dropped the
                    // prepared data connection.
                    self.state.data = DataSetup::None;
                }
            }
            Command::Rnfr(path) => {
                self.state.rename_from = (code == 350).then(|| path.clone());
            }
            Command::Abor => {
                self.state.transfer = None;
                self.state.data = DataSetup::None;
            }
            Command::Quit if code == 221 => {
                self.closed = true;
                self.event(ClientEvent::Closed);
            }
            _ => {}
        }
        if !matches!(command, Command::Rnfr(_)) {
            self.state.rename_from = None;
        }
    }

    fn data_kind(&self, command: &Command) -> DataKind {
        match command {
            Command::List(_) => DataKind::Listing,
            Command::Nlst(_) => DataKind::NameList,
            Command::Retr(p) => DataKind::Download {
                path: resolve(&parse_absolute(&self.state.cwd), p).to_string(),
            },
            Command::Stor(p) | Command::Appe(p) => DataKind::Upload {
                path: resolve(&parse_absolute(&self.state.cwd), p).to_string(),
                append: matches!(command, Command::Appe(_)),
            },
            _ => DataKind::Listing,
        }
    }

    fn read_replies(&mut self) {
        loop {
            match next_reply(&self.input, MAX_LINE) {
                Ok(Some(frame)) => {
                    let bytes: Vec<u8> = self.input.drain(..frame.consumed).collect();
                    match Reply::parse(&bytes) {
                        Ok(reply) => self.on_reply(reply, bytes),
                        Err(e) => self.malformed(bytes, e),
                    }
                }
                Ok(None) => return,
                Err(e) => {
                    let bytes = std::mem::take(&mut self.input);
                    self.event(ClientEvent::Malformed {
                        bytes,
                        error: e.to_string(),
                    });
                    return;
                }
            }
        }
    }

    fn malformed(&mut self, bytes: Vec<u8>, error: ReplyError) {
        self.event(ClientEvent::Malformed {
            bytes,
            error: error.to_string(),
        });
    }
}

impl Engine for FtpClient {
    type Event = ClientEvent;

    fn handle_input(&mut self, bytes: &[u8], _now: Millis) {
        if self.closed && self.input.is_empty() && bytes.is_empty() {
            return;
        }
        self.input.extend_from_slice(bytes);
        self.read_replies();
    }

    fn handle_eof(&mut self, _now: Millis) {
        if !self.input.is_empty() {
            let bytes = std::mem::take(&mut self.input);
            self.event(ClientEvent::Malformed {
                bytes,
                error: "the connection closed in the middle of a reply".into(),
            });
        }
        if !self.closed {
            self.closed = true;
            self.event(ClientEvent::Closed);
        }
    }

    fn poll_output(&mut self) -> Output<ClientEvent> {
        self.outputs.pop_front().unwrap_or(Output::Wait(None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dissect::Severity;
    use crate::engine::drain;
    use crate::ftp::fs::MemoryTree;
    use crate::ftp::server::DataEvent;
    use crate::ftp::server::tests::Harness;

    struct Session {
        client: FtpClient,
        server: Harness,
        events: Vec<ClientEvent>,
    }

    impl Session {
        fn new() -> Self {
            let server = Harness::new(MemoryTree::demo(1_700_000_000));
            let mut client = FtpClient::new();
            client.set_addresses(
                Some("127.0.0.1:2121".parse().unwrap()),
                Some("127.0.0.1:50000".parse().unwrap()),
            );
            let mut s = Session {
                client,
                server,
                events: Vec::new(),
            };
            let greeting = std::mem::take(&mut s.server.control);
            s.deliver(&greeting);
            s
        }

        fn deliver(&mut self, bytes: &[u8]) {
            self.client.handle_input(bytes, Millis(0));
            self.events = drain(&mut self.client).events;
        }

        fn send(&mut self, line: &str) -> Vec<ClientEvent> {
            self.client.send_line(format!("{line}\r\n").as_bytes());
            let out = drain(&mut self.client);
            let replies = self
                .server
                .cmd(&String::from_utf8_lossy(&out.bytes()).replace("\r\n", ""));
            self.deliver(replies.as_bytes());
            self.events.clone()
        }

        fn replies(&self) -> Vec<u16> {
            self.events
                .iter()
                .filter_map(|e| match e {
                    ClientEvent::Reply { reply, .. } => Some(reply.code),
                    _ => None,
                })
                .collect()
        }
    }

    #[test]
    fn follows_the_course_session() {
        let mut s = Session::new();
        assert!(
            matches!(&s.events[0], ClientEvent::Reply { reply, answers: None, .. } if reply.code == 220)
        );
        let d = s.client.diagnose(b"RETR hello.txt\r\n");
        assert_eq!(d.len(), 1);
        assert!(d[0].message.contains("before login"), "{}", d[0].message);
        s.send("USER anonymous");
        assert_eq!(
            s.client.state().login,
            LoginState::NeedPassword {
                user: "anonymous".into()
            }
        );
        s.send("PASS guest@example.org");
        assert!(s.client.state().login.is_logged_in());
        assert!(s.events.iter().any(|e| matches!(e, ClientEvent::State(_))));
        let d = s.client.diagnose(b"RETR hello.txt\r\n");
        assert_eq!(d[0].severity, Severity::Error);
        assert!(d[0].message.contains("425"), "{}", d[0].message);
        s.send("CWD pub");
        assert_eq!(s.client.state().cwd, "/pub");
        s.send("PWD");
        assert_eq!(s.client.state().cwd, "/pub");
        let events = s.send("PASV");
        let connect = events
            .iter()
            .find_map(|e| match e {
                ClientEvent::ConnectData {
                    port, arithmetic, ..
                } => Some((*port, arithmetic.clone())),
                _ => None,
            })
            .unwrap();
        assert_eq!(connect, (21001, Some("82*256+9 = 21001".to_string())));
        assert!(matches!(s.client.state().data, DataSetup::Passive { .. }));
        assert!(s.client.diagnose(b"RETR hello.txt\r\n").is_empty());
        // The page opens the data connection; then RETR gets 125 and 226.
        let id = s.server.last_id();
        s.server.data(id, DataEvent::Opened);
        s.send("RETR hello.txt");
        assert_eq!(s.replies(), vec![125, 226]);
        let kinds: Vec<_> = s
            .events
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    ClientEvent::TransferStarting { .. } | ClientEvent::TransferDone { .. }
                )
            })
            .collect();
        assert_eq!(kinds.len(), 2);
        assert!(
            matches!(kinds[1], ClientEvent::TransferDone { ok: true, kind: DataKind::Download { path } } if path == "/pub/hello.txt")
        );
        assert_eq!(s.client.state().data, DataSetup::None);
        assert_eq!(s.client.state().transfer, None);
        s.send("TYPE I");
        assert_eq!(
            s.client.state().transfer_type,
            crate::ftp::TransferType::Image
        );
        s.send("QUIT");
        assert!(s.events.contains(&ClientEvent::Closed));
    }

    #[test]
    fn a_refused_transfer_and_multi_line_replies() {
        let mut s = Session::new();
        s.send("USER anonymous");
        s.send("PASS x");
        s.send("EPSV");
        assert!(
            matches!(s.events.iter().find(|e| matches!(e, ClientEvent::ConnectData { .. })), Some(ClientEvent::ConnectData { port: 21001, addr: Some(a), .. }) if a.port() == 21001)
        );
        s.send("RETR nothing-here");
        assert_eq!(s.replies(), vec![550]);
        assert_eq!(s.client.state().data, DataSetup::None);
        s.send("FEAT");
        match &s.events[0] {
            ClientEvent::Reply { reply, answers, .. } => {
                assert_eq!(reply.code, 211);
                assert!(reply.lines.contains(&" EPSV".to_string()));
                assert_eq!(answers, &Some(Command::Feat));
            }
            other => panic!("{other:?}"),
        }
        s.send("RNFR README.txt");
        assert_eq!(s.replies(), vec![550], "anonymous is read-only");
    }

    #[test]
    fn port_to_another_host_is_explained() {
        let mut s = Session::new();
        s.send("USER anonymous");
        s.send("PASS x");
        let d = s.client.diagnose(b"PORT 192,168,1,20,0,80\r\n");
        assert_eq!(d.len(), 1);
        assert!(d[0].message.contains("bounce"), "{}", d[0].message);
        assert_eq!(d[0].span, Span::new(5, 22));
        assert!(s.client.diagnose(b"PORT 127,0,0,1,158,107\r\n").is_empty());
        s.send("PORT 127,0,0,1,158,107");
        assert!(
            matches!(s.client.state().data, DataSetup::Active { addr, .. } if addr.port() == 40555)
        );
        assert_eq!(
            FtpClient::port_command("127.0.0.1:40555".parse().unwrap()).to_line(),
            "PORT 127,0,0,1,158,107"
        );
    }

    #[test]
    fn replies_split_across_reads_and_garbage() {
        let mut c = FtpClient::new();
        c.handle_input(b"220-wel", Millis(0));
        assert!(drain(&mut c).events.is_empty());
        c.handle_input(b"come\r\n220 ready\r\nhello\r\n", Millis(0));
        let events = drain(&mut c).events;
        assert!(
            matches!(&events[0], ClientEvent::Reply { reply, .. } if reply.lines == vec!["welcome", "ready"])
        );
        assert!(matches!(&events[1], ClientEvent::Malformed { .. }));
        c.handle_eof(Millis(0));
        assert_eq!(drain(&mut c).events, vec![ClientEvent::Closed]);
        assert_eq!(
            quoted_path("\"/a \"\"q\"\"\" ok").as_deref(),
            Some("/a \"q\"")
        );
        assert_eq!(quoted_path("no quotes"), None);
    }
}
