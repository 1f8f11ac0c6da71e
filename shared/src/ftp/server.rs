//! The FTP server engine for one control connection, sans-IO.
//!
//! Besides the control connection's bytes (the [`Engine`] contract), the
//! server needs data connections, which only its driver can open. It asks
//! for them with [`ServerEvent::Data`] events carrying a [`DataRequest`], and
//! the driver reports back with [`FtpServer::handle_data`]:
//!
//! | engine asks ([`DataRequest`])      | driver does, then reports ([`DataEvent`])                      |
//! |------------------------------------|----------------------------------------------------------------|
//! | `Listen { id }` (PASV, EPSV)       | binds a passive port, reports `Listening { addr }` (or `Failed`); accepts one connection, only from the control peer's address, and reports `Opened` |
//! | `Connect { id, addr }` (PORT, EPRT)| connects to `addr`, reports `Opened` (or `Failed`)             |
//! | `Send { id, bytes }`               | writes the bytes in order                                      |
//! | `Close { id }`                     | writes what is pending, sends FIN, reports `Closed`            |
//! | `Abort { id }`                     | drops the listener or connection at once; reports nothing more |
//!
//! and, on an open data connection, `Received(bytes)` for what the client
//! sent and `PeerClosed` for its FIN (the end of an upload). Events for ids the
//! engine no longer knows are ignored, so a driver never has to be exact
//! about races. The engine never opens a data connection to anyone but the
//! control connection's peer (no FTP bounce, RFC 2577 §3).
//!
//! Replies follow RFC 959: `125` when the client had already connected,
//! `150` when the connection is still to be opened, `226` once the data
//! connection has closed, `425` when there is none, `452` past the quota.

use crate::engine::{Engine, Millis, Output};
use crate::framing::next_line;
use crate::ftp::MAX_LINE;
use crate::ftp::address::{epsv_reply_text, explain_port, pasv_reply_text};
use crate::ftp::command::{COMMANDS, Command, CommandError, command_info, split};
use crate::ftp::frame::strip_telnet;
use crate::ftp::fs::{DirEntry, FileTree, FsError};
use crate::ftp::list::{format_listing, format_name_list, mdtm_value};
use crate::ftp::path::{VirtualPath, resolve};
use crate::ftp::reply::Reply;
use crate::ftp::session::{DataKind, DataSetup, LoginState, SessionState, TransferType};
use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};

/// One account of the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub user: String,
    pub password: String,
    /// STOR, APPE, DELE, MKD, RMD, RNFR/RNTO allowed.
    pub can_write: bool,
}

/// How the server behaves; the same for every connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSettings {
    /// The text of the 220 greeting.
    pub greeting: String,
    pub accounts: Vec<Account>,
    /// `anonymous` (and `ftp`) may log in with any password, read-only.
    pub anonymous: bool,
    /// Largest file RETR sends or STOR accepts.
    pub max_file_bytes: u64,
    /// How long a transfer waits for its data connection to open.
    pub data_open_timeout_ms: u64,
    /// Unix seconds at engine time zero, when the driver knows the wall
    /// clock: listings then show `HH:MM` for recent files, as ls does.
    pub unix_time_at_zero: Option<u64>,
    /// Failed logins before the server hangs up.
    pub max_login_failures: u32,
    /// Longest command line; a longer one gets `500` and is skipped.
    pub max_line_bytes: usize,
    /// How long a command line may take to arrive once its first byte has:
    /// past it, `421` and the connection closes (a slowloris holds a
    /// connection open by sending a byte now and then).
    pub line_timeout_ms: u64,
    /// Commands answered `500`-`504` or `530` before the server hangs up
    /// with `421`; 0 for no bound.
    pub max_bad_commands: u32,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            greeting: "wirelab FTP server ready".into(),
            accounts: Vec::new(),
            anonymous: true,
            max_file_bytes: 16 * 1024 * 1024,
            data_open_timeout_ms: 30_000,
            unix_time_at_zero: None,
            max_login_failures: 5,
            max_line_bytes: MAX_LINE,
            line_timeout_ms: 30_000,
            max_bad_commands: 50,
        }
    }
}

/// Names one data connection (or passive listener) of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DataConnId(pub u64);

/// What the engine asks its driver to do about data connections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataRequest {
    Listen { id: DataConnId },
    Connect { id: DataConnId, addr: SocketAddr },
    Send { id: DataConnId, bytes: Vec<u8> },
    Close { id: DataConnId },
    Abort { id: DataConnId },
}

/// What the driver reports about a data connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataEvent {
    /// The passive listener is bound at `addr`.
    Listening { addr: SocketAddr },
    /// The data connection is established.
    Opened,
    /// Bytes from the client.
    Received(Vec<u8>),
    /// The client closed its side (the end of an upload).
    PeerClosed,
    /// A `Close` finished: everything was sent and the FIN is out.
    Closed,
    /// Listening, connecting, reading or writing failed.
    Failed { reason: String },
}

/// What the server reports besides control bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerEvent {
    /// A request the driver must carry out (see the module docs).
    Data(DataRequest),
    /// A command line arrived (PASS's argument hidden).
    Command(String),
    LoggedIn {
        user: String,
        anonymous: bool,
    },
    /// A transfer finished (successfully or not) with this many bytes.
    Transfer {
        kind: DataKind,
        bytes: u64,
        ok: bool,
    },
}

const CHUNK: usize = 16 * 1024;

/// Command lines (of the longest allowed) that may wait while a transfer or
/// a passive listener holds the commands back; more closes the connection.
const PENDING_LINES: usize = 4;

/// Bytes past the space left that an upload may still send (and have
/// dropped) before the server cuts its data connection.
const OVERFLOW_DRAIN: u64 = 4 * 1024 * 1024;

fn quota_reply(limit: u64) -> Reply {
    Reply::new(
        452,
        format!("Error writing file: it would exceed the space left ({limit} bytes)"),
    )
}

#[derive(Debug, Clone)]
enum Mode {
    Passive {
        listening: Option<SocketAddr>,
        extended: bool,
    },
    Active {
        addr: SocketAddr,
        extended: bool,
    },
}

#[derive(Debug, Clone)]
struct DataConn {
    id: DataConnId,
    mode: Mode,
    opened: bool,
    /// Bytes that arrived before a transfer command claimed the connection.
    early: Vec<u8>,
    peer_closed: bool,
}

#[derive(Debug)]
enum Job {
    Send(Vec<u8>),
    Receive {
        path: VirtualPath,
        append: bool,
        buffer: Vec<u8>,
        limit: u64,
    },
}

#[derive(Debug, PartialEq, Eq)]
enum Phase {
    Opening,
    Running,
    /// Close was asked; this reply goes out once it is done.
    Closing(Reply),
}

#[derive(Debug)]
struct Transfer {
    conn: DataConn,
    kind: DataKind,
    job: Job,
    phase: Phase,
    deadline: Option<Millis>,
    bytes: u64,
}

/// The server side of one FTP control connection.
pub struct FtpServer<T: FileTree> {
    settings: ServerSettings,
    tree: T,
    peer: SocketAddr,
    local: SocketAddr,
    login: LoginState,
    can_write: bool,
    cwd: VirtualPath,
    transfer_type: TransferType,
    rename_from: Option<VirtualPath>,
    epsv_all: bool,
    data: Option<DataConn>,
    transfer: Option<Transfer>,
    /// A PASV/EPSV waits for its listener: later commands wait too.
    waiting_listen: bool,
    input: Vec<u8>,
    discarding: bool,
    outputs: VecDeque<Output<ServerEvent>>,
    next_id: u64,
    login_failures: u32,
    /// Commands answered 500-504 or 530 so far.
    bad_commands: u32,
    /// When the first byte of the command line still being received came.
    line_started: Option<Millis>,
    closed: bool,
    now: Millis,
}

/// LF → CR LF, for sending a stored text file in ASCII type. A CR LF that is
/// already there stays one CR LF.
pub fn to_network_ascii(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 32);
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' && (i == 0 || bytes[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

/// CR LF → LF, for storing a file received in ASCII type on a Unix host.
pub fn from_network_ascii(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
            continue;
        }
        out.push(b);
    }
    out
}

fn quote_path(path: &str) -> String {
    format!("\"{}\"", path.replace('"', "\"\""))
}

fn same_host(a: IpAddr, b: IpAddr) -> bool {
    a.to_canonical() == b.to_canonical()
}

impl<T: FileTree> FtpServer<T> {
    /// A session for a client at `peer` that reached us at `local`. The 220
    /// greeting is ready to be drained at once.
    pub fn new(settings: ServerSettings, tree: T, peer: SocketAddr, local: SocketAddr) -> Self {
        let mut server = FtpServer {
            settings,
            tree,
            peer,
            local,
            login: LoginState::NotLoggedIn,
            can_write: false,
            cwd: VirtualPath::root(),
            transfer_type: TransferType::Ascii,
            rename_from: None,
            epsv_all: false,
            data: None,
            transfer: None,
            waiting_listen: false,
            input: Vec::new(),
            discarding: false,
            outputs: VecDeque::new(),
            next_id: 1,
            login_failures: 0,
            bad_commands: 0,
            line_started: None,
            closed: false,
            now: Millis(0),
        };
        let greeting = server.settings.greeting.clone();
        server.reply(220, greeting);
        server
    }

    /// The session as the course describes it.
    pub fn state(&self) -> SessionState {
        let data = match &self.data {
            None => DataSetup::None,
            Some(conn) => match &conn.mode {
                Mode::Passive {
                    listening,
                    extended,
                } => DataSetup::Passive {
                    addr: listening.unwrap_or(self.local),
                    extended: *extended,
                },
                Mode::Active { addr, extended } => DataSetup::Active {
                    addr: *addr,
                    extended: *extended,
                },
            },
        };
        SessionState {
            login: self.login.clone(),
            cwd: self.cwd.to_string(),
            transfer_type: self.transfer_type,
            data,
            transfer: self.transfer.as_ref().map(|t| t.kind.clone()),
            rename_from: self.rename_from.as_ref().map(ToString::to_string),
        }
    }

    /// The file tree (tests and the in-browser server look into it).
    pub fn tree(&self) -> &T {
        &self.tree
    }

    /// A report from the driver about data connection `id`.
    pub fn handle_data(&mut self, id: DataConnId, event: DataEvent, now: Millis) {
        self.now = now;
        if self.closed {
            return;
        }
        if self.transfer.as_ref().is_some_and(|t| t.conn.id == id) {
            self.transfer_event(event);
        } else if self.data.as_ref().is_some_and(|c| c.id == id) {
            self.prepared_event(event);
        }
        self.process_input();
        self.after_input();
    }

    fn reply(&mut self, code: u16, text: impl Into<String>) {
        self.send_reply(Reply::new(code, text));
    }

    fn send_reply(&mut self, reply: Reply) {
        if matches!(reply.code, 500..=504) {
            self.bad_commands += 1;
        }
        self.outputs.push_back(Output::Transmit(reply.to_bytes()));
    }

    fn request(&mut self, request: DataRequest) {
        self.outputs
            .push_back(Output::Event(ServerEvent::Data(request)));
    }

    fn new_id(&mut self) -> DataConnId {
        let id = DataConnId(self.next_id);
        self.next_id += 1;
        id
    }

    fn drop_prepared(&mut self) {
        if let Some(conn) = self.data.take() {
            self.request(DataRequest::Abort { id: conn.id });
        }
    }

    fn now_unix(&self) -> Option<u64> {
        self.settings
            .unix_time_at_zero
            .map(|base| base + self.now.0 / 1000)
    }

    // ---- data connection events ----

    fn prepared_event(&mut self, event: DataEvent) {
        let max = self.settings.max_file_bytes;
        let Some(conn) = self.data.as_mut() else {
            return;
        };
        match event {
            DataEvent::Listening { addr } => {
                let extended = match &mut conn.mode {
                    Mode::Passive {
                        listening,
                        extended,
                    } => {
                        *listening = Some(addr);
                        *extended
                    }
                    Mode::Active { .. } => return,
                };
                self.waiting_listen = false;
                if extended {
                    self.reply(229, epsv_reply_text(addr.port()));
                } else {
                    // 227 names the address the client reached us at: the
                    // listener is on the same host.
                    match self.local.ip().to_canonical() {
                        IpAddr::V4(ip) => {
                            let shown = std::net::SocketAddrV4::new(ip, addr.port());
                            self.reply(227, pasv_reply_text(shown));
                        }
                        IpAddr::V6(_) => {
                            self.drop_prepared();
                            self.reply(425, "PASV cannot describe an IPv6 address: use EPSV");
                        }
                    }
                }
            }
            DataEvent::Opened => conn.opened = true,
            DataEvent::Received(bytes) => {
                conn.early.extend_from_slice(&bytes);
                if conn.early.len() as u64 > max {
                    self.drop_prepared();
                }
            }
            DataEvent::PeerClosed => conn.peer_closed = true,
            DataEvent::Closed => {}
            DataEvent::Failed { reason } => {
                self.data = None;
                if self.waiting_listen {
                    self.waiting_listen = false;
                    self.reply(425, format!("Can't open passive data connection: {reason}"));
                }
            }
        }
    }

    fn transfer_event(&mut self, event: DataEvent) {
        let Some(t) = self.transfer.as_mut() else {
            return;
        };
        match event {
            DataEvent::Opened => {
                t.conn.opened = true;
                if t.phase == Phase::Opening {
                    self.run_transfer();
                }
            }
            DataEvent::Received(bytes) => {
                if t.phase == Phase::Opening {
                    t.conn.early.extend_from_slice(&bytes);
                } else {
                    self.receive(&bytes);
                }
            }
            DataEvent::PeerClosed => {
                t.conn.peer_closed = true;
                if t.phase == Phase::Running && matches!(t.job, Job::Receive { .. }) {
                    self.finish_receive();
                }
            }
            DataEvent::Closed => {
                if let Phase::Closing(_) = &t.phase {
                    self.end_transfer();
                }
            }
            DataEvent::Failed { reason } => {
                let id = t.conn.id;
                let reply = match std::mem::replace(&mut t.phase, Phase::Running) {
                    Phase::Opening => {
                        Reply::new(425, format!("Can't open data connection: {reason}"))
                    }
                    // The transfer had already failed; that reply says why.
                    Phase::Closing(reply) if reply.code >= 400 => reply,
                    _ => Reply::new(
                        426,
                        format!("Connection closed; transfer aborted: {reason}"),
                    ),
                };
                self.request(DataRequest::Abort { id });
                self.fail_transfer(reply);
            }
            DataEvent::Listening { .. } => {}
        }
    }

    fn run_transfer(&mut self) {
        let Some(t) = self.transfer.as_mut() else {
            return;
        };
        t.phase = Phase::Running;
        t.deadline = None;
        let id = t.conn.id;
        match &mut t.job {
            Job::Send(bytes) => {
                let bytes = std::mem::take(bytes);
                t.bytes = bytes.len() as u64;
                for chunk in bytes.chunks(CHUNK) {
                    self.request(DataRequest::Send {
                        id,
                        bytes: chunk.to_vec(),
                    });
                }
                self.close_transfer(Reply::new(
                    226,
                    format!(
                        "Transfer complete ({} bytes); closing data connection",
                        bytes.len()
                    ),
                ));
            }
            Job::Receive { .. } => {
                let early = std::mem::take(&mut t.conn.early);
                let peer_closed = t.conn.peer_closed;
                self.receive(&early);
                if peer_closed
                    && self
                        .transfer
                        .as_ref()
                        .is_some_and(|t| t.phase == Phase::Running)
                {
                    self.finish_receive();
                }
            }
        }
    }

    fn receive(&mut self, bytes: &[u8]) {
        let Some(t) = self.transfer.as_mut() else {
            return;
        };
        let Job::Receive { buffer, limit, .. } = &mut t.job else {
            return;
        };
        t.bytes += bytes.len() as u64;
        let limit = *limit;
        if t.bytes <= limit {
            buffer.extend_from_slice(bytes);
            return;
        }
        // Past the space left: nothing more is kept. The rest of a modest
        // overflow is read and dropped so the client finishes sending and
        // reads a clean 452; a flood is cut off at once.
        buffer.clear();
        if t.bytes > limit.saturating_add(OVERFLOW_DRAIN) {
            let id = t.conn.id;
            self.request(DataRequest::Abort { id });
            self.fail_transfer(quota_reply(limit));
        }
    }

    fn finish_receive(&mut self) {
        let Some(t) = self.transfer.as_mut() else {
            return;
        };
        let Job::Receive {
            path,
            append,
            buffer,
            limit,
        } = &mut t.job
        else {
            return;
        };
        let path = path.clone();
        let append = *append;
        if t.bytes > *limit {
            let limit = *limit;
            return self.close_transfer(quota_reply(limit));
        }
        let mut content = std::mem::take(buffer);
        if self.transfer_type == TransferType::Ascii {
            content = from_network_ascii(&content);
        }
        let reply = match self.tree.write(&path, &content, append) {
            Ok(()) => Reply::new(
                226,
                format!(
                    "Transfer complete: {} stored ({} bytes)",
                    path,
                    content.len()
                ),
            ),
            Err(e) => self.fs_error_reply(&path, e),
        };
        self.close_transfer(reply);
    }

    fn close_transfer(&mut self, reply: Reply) {
        if let Some(t) = self.transfer.as_mut() {
            t.phase = Phase::Closing(reply);
            let id = t.conn.id;
            self.request(DataRequest::Close { id });
        }
    }

    fn end_transfer(&mut self) {
        if let Some(t) = self.transfer.take()
            && let Phase::Closing(reply) = t.phase
        {
            let ok = reply.code < 400;
            self.send_reply(reply);
            self.outputs.push_back(Output::Event(ServerEvent::Transfer {
                kind: t.kind,
                bytes: t.bytes,
                ok,
            }));
        }
    }

    fn fail_transfer(&mut self, reply: Reply) {
        if let Some(t) = self.transfer.take() {
            self.send_reply(reply);
            self.outputs.push_back(Output::Event(ServerEvent::Transfer {
                kind: t.kind,
                bytes: t.bytes,
                ok: false,
            }));
        }
    }

    // ---- commands ----

    fn process_input(&mut self) {
        let max_line = self.settings.max_line_bytes;
        while !self.closed && !self.waiting_listen {
            if self.discarding {
                match self.input.iter().position(|&b| b == b'\n') {
                    Some(lf) => {
                        self.input.drain(..=lf);
                        self.discarding = false;
                        self.line_started = None;
                    }
                    None => {
                        self.input.clear();
                        return;
                    }
                }
            }
            let line = match next_line(&self.input, max_line) {
                Ok(Some(line)) => line,
                Ok(None) => return,
                Err(_) => {
                    match self.input.iter().position(|&b| b == b'\n') {
                        Some(lf) => {
                            self.input.drain(..=lf);
                            self.line_started = None;
                        }
                        None => {
                            self.input.clear();
                            self.discarding = true;
                        }
                    }
                    self.reply(
                        500,
                        format!("Command line too long (more than {max_line} bytes)"),
                    );
                    self.check_bad_commands();
                    continue;
                }
            };
            let (text, _) = strip_telnet(line.content.slice(&self.input));
            if self.transfer.is_some() {
                // During a transfer only ABOR and QUIT are read; the rest waits.
                let verb = split(&text).verb.to_ascii_uppercase();
                if verb != b"ABOR" && verb != b"QUIT" {
                    return;
                }
            }
            self.input.drain(..line.consumed);
            self.line_started = None;
            self.command(&text);
            self.check_bad_commands();
        }
    }

    /// Closes the control connection with `421` past
    /// [`ServerSettings::max_bad_commands`]: a client that keeps sending
    /// what the server refuses is probing or lost.
    fn check_bad_commands(&mut self) {
        let max = self.settings.max_bad_commands;
        if max > 0 && self.bad_commands >= max && !self.closed {
            self.hang_up(Reply::new(
                421,
                format!("Too many bad commands ({max}), closing control connection"),
            ));
        }
    }

    /// Ends the session from the server's side: transfers and listeners
    /// dropped, `reply` sent, the control connection closed.
    fn hang_up(&mut self, reply: Reply) {
        if let Some(t) = self.transfer.take() {
            self.request(DataRequest::Abort { id: t.conn.id });
        }
        self.drop_prepared();
        self.waiting_listen = false;
        self.send_reply(reply);
        self.closed = true;
        self.outputs.push_back(Output::Close);
    }

    /// After new input: starts the clock of a command line that has begun
    /// but not ended, and bounds what waits while a transfer or a listener
    /// holds the commands back.
    fn after_input(&mut self) {
        if self.closed {
            return;
        }
        let pending_limit = self.settings.max_line_bytes.saturating_mul(PENDING_LINES);
        if self.input.len() > pending_limit {
            return self.hang_up(Reply::new(
                421,
                "Too many commands sent ahead of their replies, closing control connection",
            ));
        }
        let partial = self.discarding || (!self.input.is_empty() && !self.input.contains(&b'\n'));
        if !partial {
            self.line_started = None;
        } else if self.line_started.is_none() {
            self.line_started = Some(self.now);
        }
    }

    /// When the command line being received must have ended.
    fn line_deadline(&self) -> Option<Millis> {
        match self.settings.line_timeout_ms {
            0 => None,
            ms => self.line_started.map(|t| t.saturating_add(ms)),
        }
    }

    fn command(&mut self, line: &[u8]) {
        let parsed = Command::parse(line);
        let shown = match &parsed {
            Ok(cmd) => cmd.redacted(),
            Err(_) => String::from_utf8_lossy(line).into_owned(),
        };
        self.outputs
            .push_back(Output::Event(ServerEvent::Command(shown)));
        let verb = String::from_utf8_lossy(split(line).verb).to_ascii_uppercase();
        let info = command_info(&verb);
        if info.is_some_and(|i| i.needs_login) && !self.login.is_logged_in() {
            self.bad_commands += 1;
            return self.reply(530, "Please log in with USER and PASS first");
        }
        let cmd = match parsed {
            Ok(cmd) => cmd,
            Err(CommandError::Empty) => return self.reply(500, "Empty command line"),
            Err(CommandError::BadVerb(_)) => {
                return self.reply(500, "Syntax error, command unrecognized");
            }
            Err(CommandError::BadType(t)) => {
                return self.reply(
                    504,
                    format!("TYPE {t} is not supported: use A (ASCII) or I (binary)"),
                );
            }
            Err(e) => return self.reply(501, format!("Syntax error in parameters: {e}")),
        };
        if !matches!(cmd, Command::Rnto(_)) && !matches!(cmd, Command::Rnfr(_)) {
            self.rename_from = None;
        }
        match cmd {
            Command::User(user) => self.user(user),
            Command::Pass(password) => self.pass(password),
            Command::Acct(_) => self.reply(202, "ACCT is not needed on this server"),
            Command::Cwd(dir) => self.cwd(&dir),
            Command::Cdup => self.cwd(".."),
            Command::Pwd => {
                let text = format!(
                    "{} is the current directory",
                    quote_path(&self.cwd.to_string())
                );
                self.reply(257, text);
            }
            Command::Type(t) => {
                self.transfer_type = t;
                let text = match t {
                    TransferType::Ascii => "Type set to A: text, line ends sent as CR LF",
                    TransferType::Image => "Type set to I: binary, bytes sent as stored",
                };
                self.reply(200, text);
            }
            Command::Mode(m) if m.eq_ignore_ascii_case("S") => {
                self.reply(200, "Mode set to S (stream)")
            }
            Command::Mode(_) => self.reply(504, "Only MODE S (stream) is supported"),
            Command::Stru(s) if s.eq_ignore_ascii_case("F") => {
                self.reply(200, "Structure set to F (file)")
            }
            Command::Stru(_) => self.reply(504, "Only STRU F (file) is supported"),
            Command::Pasv => self.passive(false),
            Command::Epsv(arg) => self.epsv(arg),
            Command::Port(addr) => self.active(SocketAddr::V4(addr), false),
            Command::Eprt(addr) => self.active(addr, true),
            Command::List(arg) => self.listing(arg, false),
            Command::Nlst(arg) => self.listing(arg, true),
            Command::Retr(path) => self.retr(&path),
            Command::Stor(path) => self.store(&path, false),
            Command::Appe(path) => self.store(&path, true),
            Command::Dele(path) => self.write_op(
                &path,
                |tree, p| tree.delete(p),
                |p| Reply::new(250, format!("{p} deleted")),
            ),
            Command::Mkd(path) => self.write_op(
                &path,
                |tree, p| tree.make_dir(p),
                |p| Reply::new(257, format!("{} created", quote_path(&p.to_string()))),
            ),
            Command::Rmd(path) => self.write_op(
                &path,
                |tree, p| tree.remove_dir(p),
                |p| Reply::new(250, format!("{p} removed")),
            ),
            Command::Rnfr(path) => self.rnfr(&path),
            Command::Rnto(path) => self.rnto(&path),
            Command::Size(path) => self.size(&path),
            Command::Mdtm(path) => self.mdtm(&path),
            Command::Syst => self.reply(215, "UNIX Type: L8"),
            Command::Feat => {
                let features: Vec<String> =
                    ["EPRT", "EPSV", "MDTM", "PASV", "SIZE", "TVFS", "UTF8"]
                        .iter()
                        .map(|f| format!(" {f}"))
                        .collect();
                self.send_reply(Reply::multiline(211, "Features:", &features, "End"));
            }
            Command::Opts(opts) => {
                if opts.eq_ignore_ascii_case("UTF8 ON") || opts.eq_ignore_ascii_case("UTF8") {
                    self.reply(200, "UTF8 is always on");
                } else {
                    self.reply(501, format!("Option {opts:?} not understood"));
                }
            }
            Command::Stat(arg) => self.stat(arg),
            Command::Noop => self.reply(200, "NOOP ok"),
            Command::Help(topic) => self.help(topic),
            Command::Abor => self.abort(),
            Command::Quit => {
                if let Some(t) = self.transfer.take() {
                    self.request(DataRequest::Abort { id: t.conn.id });
                }
                self.drop_prepared();
                self.reply(221, "Goodbye");
                self.closed = true;
                self.outputs.push_back(Output::Close);
            }
            Command::Other { verb, .. } => {
                self.reply(
                    502,
                    format!("{verb} is not implemented (HELP lists the commands)"),
                );
            }
        }
    }

    fn user(&mut self, user: String) {
        self.login = LoginState::NeedPassword { user: user.clone() };
        self.can_write = false;
        self.cwd = VirtualPath::root();
        if self.is_anonymous(&user) {
            self.reply(
                331,
                "Anonymous login okay, send your e-mail address as password",
            );
        } else {
            // The same answer for unknown users, so USER cannot probe for names.
            self.reply(331, "Username OK, password required");
        }
    }

    fn is_anonymous(&self, user: &str) -> bool {
        self.settings.anonymous
            && (user.eq_ignore_ascii_case("anonymous") || user.eq_ignore_ascii_case("ftp"))
    }

    fn pass(&mut self, password: String) {
        let user = match &self.login {
            LoginState::NotLoggedIn => return self.reply(503, "Login with USER first"),
            LoginState::LoggedIn { .. } => return self.reply(503, "Already logged in"),
            LoginState::NeedPassword { user } => user.clone(),
        };
        let anonymous = self.is_anonymous(&user);
        let account = self
            .settings
            .accounts
            .iter()
            .find(|a| a.user == user && a.password == password)
            .cloned();
        if anonymous || account.is_some() {
            self.can_write = account.as_ref().is_some_and(|a| a.can_write);
            self.login = LoginState::LoggedIn {
                user: user.clone(),
                anonymous,
            };
            self.outputs.push_back(Output::Event(ServerEvent::LoggedIn {
                user: user.clone(),
                anonymous,
            }));
            if anonymous {
                self.reply(230, "Anonymous user logged in, read-only access");
            } else {
                self.reply(230, format!("User {user} logged in, proceed"));
            }
        } else {
            self.login = LoginState::NotLoggedIn;
            self.login_failures += 1;
            if self.login_failures >= self.settings.max_login_failures {
                self.reply(421, "Too many failed logins, closing control connection");
                self.closed = true;
                self.outputs.push_back(Output::Close);
            } else {
                self.reply(530, "Login incorrect");
            }
        }
    }

    fn fs_error_reply(&self, path: &VirtualPath, e: FsError) -> Reply {
        match e {
            FsError::QuotaExceeded { limit } => Reply::new(
                452,
                format!("Error writing file: quota of {limit} bytes exceeded"),
            ),
            FsError::BadName(why) => Reply::new(553, format!("File name not allowed: {why}")),
            FsError::Io(why) => Reply::new(451, format!("Local error in processing: {why}")),
            other => Reply::new(550, format!("{path}: {other}")),
        }
    }

    fn cwd(&mut self, dir: &str) {
        let path = resolve(&self.cwd, dir);
        match self.tree.stat(&path) {
            Ok(meta) if meta.is_dir() => {
                self.reply(250, format!("Directory changed to {path}"));
                self.cwd = path;
            }
            Ok(_) => self.reply(550, format!("{path}: not a directory")),
            Err(e) => {
                let reply = self.fs_error_reply(&path, e);
                self.send_reply(reply);
            }
        }
    }

    fn passive(&mut self, extended: bool) {
        if self.epsv_all && !extended {
            return self.reply(
                503,
                "EPSV ALL was sent: only EPSV may set up data connections now",
            );
        }
        self.drop_prepared();
        let id = self.new_id();
        self.data = Some(DataConn {
            id,
            mode: Mode::Passive {
                listening: None,
                extended,
            },
            opened: false,
            early: Vec::new(),
            peer_closed: false,
        });
        self.waiting_listen = true;
        self.request(DataRequest::Listen { id });
    }

    fn epsv(&mut self, arg: Option<String>) {
        let family = if self.local.ip().to_canonical().is_ipv4() {
            "1"
        } else {
            "2"
        };
        match arg.as_deref().map(str::trim) {
            None => self.passive(true),
            Some(a) if a.eq_ignore_ascii_case("ALL") => {
                self.epsv_all = true;
                self.reply(
                    200,
                    "EPSV ALL ok: from now on only EPSV sets up data connections",
                );
            }
            Some(a) if a == family => self.passive(true),
            Some(_) => self.reply(
                522,
                format!("Network protocol not supported, use ({family})"),
            ),
        }
    }

    fn active(&mut self, addr: SocketAddr, extended: bool) {
        let verb = if extended { "EPRT" } else { "PORT" };
        if self.epsv_all {
            return self.reply(
                503,
                "EPSV ALL was sent: only EPSV may set up data connections now",
            );
        }
        let family = if self.peer.ip().to_canonical().is_ipv4() {
            "1"
        } else {
            "2"
        };
        if addr.is_ipv4() != self.peer.ip().to_canonical().is_ipv4() {
            return self.reply(
                522,
                format!("Network protocol not supported, use ({family})"),
            );
        }
        if !same_host(addr.ip(), self.peer.ip()) {
            // Connecting to a third party on the client's word is the FTP
            // bounce attack (RFC 2577 §3).
            return self.reply(
                504,
                format!(
                    "{verb} refused: {} is not your address ({}); this server only connects back to the client",
                    addr.ip(),
                    self.peer.ip().to_canonical()
                ),
            );
        }
        if addr.port() < 1024 {
            return self.reply(
                504,
                format!("{verb} refused: port {} is a privileged port", addr.port()),
            );
        }
        self.drop_prepared();
        let id = self.new_id();
        self.data = Some(DataConn {
            id,
            mode: Mode::Active { addr, extended },
            opened: false,
            early: Vec::new(),
            peer_closed: false,
        });
        let how = match addr {
            SocketAddr::V4(a) if !extended => format!(
                " (port {})",
                explain_port((a.port() / 256) as u8, (a.port() % 256) as u8)
            ),
            _ => String::new(),
        };
        self.reply(
            200,
            format!("{verb} command successful: the next transfer connects to {addr}{how}"),
        );
    }

    fn start_transfer(&mut self, kind: DataKind, job: Job, what: String) {
        let Some(conn) = self.data.take() else {
            return self.reply(
                425,
                "Can't open data connection: send PASV (or EPSV) or PORT (or EPRT) first",
            );
        };
        let mut transfer = Transfer {
            conn,
            kind,
            job,
            phase: Phase::Opening,
            deadline: None,
            bytes: 0,
        };
        let type_name = match self.transfer_type {
            TransferType::Ascii => "ASCII",
            TransferType::Image => "BINARY",
        };
        if transfer.conn.opened {
            self.transfer = Some(transfer);
            self.reply(
                125,
                format!(
                    "Data connection already open; transfer starting ({type_name} mode, {what})"
                ),
            );
            self.run_transfer();
            return;
        }
        if let Mode::Active { addr, .. } = transfer.conn.mode {
            self.request(DataRequest::Connect {
                id: transfer.conn.id,
                addr,
            });
        }
        transfer.deadline = Some(self.now.saturating_add(self.settings.data_open_timeout_ms));
        self.transfer = Some(transfer);
        self.reply(
            150,
            format!("File status okay; about to open data connection ({type_name} mode, {what})"),
        );
    }

    fn listing(&mut self, arg: Option<String>, names_only: bool) {
        // Clients send ls options (LIST -la); they are not paths.
        let path_arg: Vec<&str> = arg
            .as_deref()
            .unwrap_or("")
            .split(' ')
            .filter(|w| !w.is_empty() && !w.starts_with('-'))
            .collect();
        let path = resolve(&self.cwd, &path_arg.join(" "));
        let entries = match self.tree.stat(&path) {
            Ok(meta) if meta.is_dir() => self.tree.list(&path),
            Ok(meta) => Ok(vec![DirEntry {
                name: path.name().unwrap_or_default().to_string(),
                meta,
            }]),
            Err(e) => Err(e),
        };
        let entries = match entries {
            Ok(entries) => entries,
            Err(e) => {
                let reply = self.fs_error_reply(&path, e);
                return self.send_reply(reply);
            }
        };
        let (bytes, kind) = if names_only {
            (format_name_list(&entries), DataKind::NameList)
        } else {
            (format_listing(&entries, self.now_unix()), DataKind::Listing)
        };
        let what = format!("listing of {path}");
        self.start_transfer(kind, Job::Send(bytes), what);
    }

    fn read_for_transfer(&self, path: &VirtualPath) -> Result<Vec<u8>, Reply> {
        let meta = self
            .tree
            .stat(path)
            .map_err(|e| self.fs_error_reply(path, e))?;
        if meta.is_dir() {
            return Err(Reply::new(
                550,
                format!("{path}: is a directory, not a file"),
            ));
        }
        if meta.size > self.settings.max_file_bytes {
            return Err(Reply::new(
                550,
                format!(
                    "{path}: larger than this server's limit of {} bytes",
                    self.settings.max_file_bytes
                ),
            ));
        }
        let bytes = self
            .tree
            .read(path)
            .map_err(|e| self.fs_error_reply(path, e))?;
        Ok(match self.transfer_type {
            TransferType::Ascii => to_network_ascii(&bytes),
            TransferType::Image => bytes,
        })
    }

    fn retr(&mut self, arg: &str) {
        let path = resolve(&self.cwd, arg);
        match self.read_for_transfer(&path) {
            Ok(bytes) => {
                let what = format!("{path}, {} bytes", bytes.len());
                self.start_transfer(
                    DataKind::Download {
                        path: path.to_string(),
                    },
                    Job::Send(bytes),
                    what,
                );
            }
            Err(reply) => {
                self.drop_prepared();
                self.send_reply(reply);
            }
        }
    }

    fn store(&mut self, arg: &str, append: bool) {
        let path = resolve(&self.cwd, arg);
        if !self.can_write {
            self.drop_prepared();
            return self.reply(
                550,
                format!("{path}: permission denied (this account is read-only)"),
            );
        }
        match self.tree.stat(&path) {
            Ok(meta) if meta.is_dir() => {
                self.drop_prepared();
                return self.reply(550, format!("{path}: is a directory"));
            }
            _ => {}
        }
        match self.tree.stat(&path.parent()) {
            Ok(meta) if meta.is_dir() => {}
            _ => {
                self.drop_prepared();
                return self.reply(550, format!("{}: no such directory", path.parent()));
            }
        }
        let existing = self.tree.stat(&path).map(|m| m.size).unwrap_or(0);
        // Replacing a file frees its old bytes; appending keeps them.
        let freed = if append { 0 } else { existing };
        let kept = if append { existing } else { 0 };
        let quota_left = self
            .tree
            .space_left()
            .map_or(u64::MAX, |left| left.saturating_add(freed));
        let left = quota_left.min(self.settings.max_file_bytes.saturating_sub(kept));
        let kind = DataKind::Upload {
            path: path.to_string(),
            append,
        };
        let what = format!("{path}");
        self.start_transfer(
            kind,
            Job::Receive {
                path,
                append,
                buffer: Vec::new(),
                limit: left,
            },
            what,
        );
    }

    fn write_op(
        &mut self,
        arg: &str,
        op: impl FnOnce(&mut T, &VirtualPath) -> Result<(), FsError>,
        ok: impl FnOnce(&VirtualPath) -> Reply,
    ) {
        let path = resolve(&self.cwd, arg);
        if !self.can_write {
            return self.reply(
                550,
                format!("{path}: permission denied (this account is read-only)"),
            );
        }
        let reply = match op(&mut self.tree, &path) {
            Ok(()) => ok(&path),
            Err(e) => self.fs_error_reply(&path, e),
        };
        self.send_reply(reply);
    }

    fn rnfr(&mut self, arg: &str) {
        let path = resolve(&self.cwd, arg);
        if !self.can_write {
            return self.reply(
                550,
                format!("{path}: permission denied (this account is read-only)"),
            );
        }
        match self.tree.stat(&path) {
            Ok(_) => {
                self.reply(350, format!("{path} exists: send RNTO with the new name"));
                self.rename_from = Some(path);
            }
            Err(e) => {
                let reply = self.fs_error_reply(&path, e);
                self.send_reply(reply);
            }
        }
    }

    fn rnto(&mut self, arg: &str) {
        let Some(from) = self.rename_from.take() else {
            return self.reply(503, "Send RNFR first");
        };
        let to = resolve(&self.cwd, arg);
        let reply = match self.tree.rename(&from, &to) {
            Ok(()) => Reply::new(250, format!("Renamed {from} to {to}")),
            Err(e) => self.fs_error_reply(&to, e),
        };
        self.send_reply(reply);
    }

    fn size(&mut self, arg: &str) {
        let path = resolve(&self.cwd, arg);
        let reply = match self.tree.stat(&path) {
            Ok(meta) if meta.is_dir() => Reply::new(550, format!("{path}: not a plain file")),
            Ok(meta) => match self.transfer_type {
                TransferType::Image => Reply::new(213, meta.size.to_string()),
                TransferType::Ascii => match self.read_for_transfer(&path) {
                    Ok(bytes) => Reply::new(213, bytes.len().to_string()),
                    Err(reply) => reply,
                },
            },
            Err(e) => self.fs_error_reply(&path, e),
        };
        self.send_reply(reply);
    }

    fn mdtm(&mut self, arg: &str) {
        let path = resolve(&self.cwd, arg);
        let reply = match self.tree.stat(&path) {
            Ok(meta) if meta.is_dir() => Reply::new(550, format!("{path}: not a plain file")),
            Ok(meta) => Reply::new(213, mdtm_value(meta.modified)),
            Err(e) => self.fs_error_reply(&path, e),
        };
        self.send_reply(reply);
    }

    fn stat(&mut self, arg: Option<String>) {
        if let Some(arg) = arg {
            if !self.login.is_logged_in() {
                return self.reply(530, "Please log in with USER and PASS first");
            }
            let path = resolve(&self.cwd, &arg);
            let entries = match self.tree.stat(&path) {
                Ok(meta) if meta.is_dir() => self.tree.list(&path),
                Ok(meta) => Ok(vec![DirEntry {
                    name: path.name().unwrap_or_default().to_string(),
                    meta,
                }]),
                Err(e) => Err(e),
            };
            let reply = match entries {
                Ok(entries) => {
                    let listing =
                        String::from_utf8_lossy(&format_listing(&entries, self.now_unix()))
                            .into_owned();
                    let lines: Vec<String> = listing.lines().map(str::to_string).collect();
                    Reply::multiline(213, format!("Status of {path}:"), &lines, "End of status")
                }
                Err(e) => self.fs_error_reply(&path, e),
            };
            return self.send_reply(reply);
        }
        let state = self.state();
        let lines = vec![
            format!(" Connected from {}", self.peer),
            format!(" Login: {}", state.login),
            format!(" Current directory: {}", state.cwd),
            format!(" TYPE: {}", state.transfer_type),
            format!(" Data connection: {}", state.data),
            match &state.transfer {
                Some(kind) => format!(" Transfer in progress: {kind:?}"),
                None => " No transfer in progress".to_string(),
            },
        ];
        self.send_reply(Reply::multiline(
            211,
            "wirelab FTP server status:",
            &lines,
            "End of status",
        ));
    }

    fn help(&mut self, topic: Option<String>) {
        if let Some(topic) = topic {
            return match command_info(topic.trim()) {
                Some(info) => self.reply(214, format!("Syntax: {} - {}", info.syntax, info.help)),
                None => self.reply(502, format!("Unknown command {}", topic.trim())),
            };
        }
        let verbs: Vec<&str> = COMMANDS.iter().map(|c| c.verb).collect();
        let rows: Vec<String> = verbs
            .chunks(8)
            .map(|row| format!(" {}", row.join(" ")))
            .collect();
        self.send_reply(Reply::multiline(
            214,
            "The following commands are recognized:",
            &rows,
            "Help OK (HELP <command> explains one)",
        ));
    }

    fn abort(&mut self) {
        if let Some(t) = self.transfer.take() {
            self.request(DataRequest::Abort { id: t.conn.id });
            self.outputs.push_back(Output::Event(ServerEvent::Transfer {
                kind: t.kind,
                bytes: t.bytes,
                ok: false,
            }));
            self.reply(426, "Connection closed; transfer aborted");
            self.reply(226, "Abort successful; data connection closed");
        } else {
            self.drop_prepared();
            self.reply(225, "No transfer to abort");
        }
    }
}

impl<T: FileTree> Engine for FtpServer<T> {
    type Event = ServerEvent;

    fn handle_input(&mut self, bytes: &[u8], now: Millis) {
        self.now = now;
        if self.closed {
            return;
        }
        self.input.extend_from_slice(bytes);
        self.process_input();
        self.after_input();
    }

    fn handle_eof(&mut self, now: Millis) {
        self.now = now;
        if self.closed {
            return;
        }
        if let Some(t) = self.transfer.take() {
            self.request(DataRequest::Abort { id: t.conn.id });
        }
        self.drop_prepared();
        self.closed = true;
        self.outputs.push_back(Output::Close);
    }

    fn handle_timeout(&mut self, now: Millis) {
        self.now = now;
        let expired = self
            .transfer
            .as_ref()
            .is_some_and(|t| t.phase == Phase::Opening && t.deadline.is_some_and(|d| now >= d));
        if expired && let Some(t) = self.transfer.as_ref() {
            let id = t.conn.id;
            let secs = self.settings.data_open_timeout_ms / 1000;
            self.request(DataRequest::Abort { id });
            self.fail_transfer(Reply::new(
                425,
                format!("Can't open data connection: nothing connected within {secs} s"),
            ));
            self.process_input();
            self.after_input();
        }
        if !self.closed && self.line_deadline().is_some_and(|d| now >= d) {
            let secs = self.settings.line_timeout_ms / 1000;
            self.hang_up(Reply::new(
                421,
                format!(
                    "Timeout: no complete command line within {secs} s, closing control connection"
                ),
            ));
        }
    }

    fn poll_output(&mut self) -> Output<ServerEvent> {
        if let Some(out) = self.outputs.pop_front() {
            return out;
        }
        let transfer = self.transfer.as_ref().and_then(|t| t.deadline);
        let deadline = match (transfer, self.line_deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Output::Wait(if self.closed { None } else { deadline })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::engine::drain;
    use crate::ftp::fs::MemoryTree;
    use crate::ftp::path::parse_absolute;
    use std::collections::BTreeMap;

    /// What the simulated driver knows about one data connection.
    #[derive(Debug, Default)]
    pub(crate) struct SimConn {
        pub(crate) open: bool,
        /// What the server sent to the client.
        pub(crate) sent: Vec<u8>,
        pub(crate) closed: bool,
        pub(crate) aborted: bool,
        pub(crate) connect_to: Option<SocketAddr>,
    }

    /// A server with a driver simulated in memory: listeners bind at once,
    /// active connects succeed when `auto_connect` is set, closes complete.
    pub(crate) struct Harness {
        pub(crate) server: FtpServer<MemoryTree>,
        pub(crate) now: u64,
        pub(crate) conns: BTreeMap<DataConnId, SimConn>,
        pub(crate) control: Vec<u8>,
        pub(crate) auto_connect: bool,
    }

    pub(crate) fn settings() -> ServerSettings {
        ServerSettings {
            accounts: vec![Account {
                user: "student".into(),
                password: "secret".into(),
                can_write: true,
            }],
            unix_time_at_zero: Some(1_700_000_000),
            ..ServerSettings::default()
        }
    }

    impl Harness {
        pub(crate) fn new(tree: MemoryTree) -> Self {
            let server = FtpServer::new(
                settings(),
                tree,
                "127.0.0.1:50000".parse().unwrap(),
                "127.0.0.1:2121".parse().unwrap(),
            );
            let mut h = Harness {
                server,
                now: 0,
                conns: BTreeMap::new(),
                control: Vec::new(),
                auto_connect: true,
            };
            h.pump();
            h
        }

        pub(crate) fn pump(&mut self) {
            loop {
                let out = drain(&mut self.server);
                self.control.extend(out.bytes());
                let mut replies = Vec::new();
                for event in out.events {
                    let ServerEvent::Data(request) = event else {
                        continue;
                    };
                    match request {
                        DataRequest::Listen { id } => {
                            self.conns.insert(id, SimConn::default());
                            let addr = SocketAddr::from(([127, 0, 0, 1], 21000 + id.0 as u16));
                            replies.push((id, DataEvent::Listening { addr }));
                        }
                        DataRequest::Connect { id, addr } => {
                            let conn = self.conns.entry(id).or_default();
                            conn.connect_to = Some(addr);
                            if self.auto_connect {
                                conn.open = true;
                                replies.push((id, DataEvent::Opened));
                            }
                        }
                        DataRequest::Send { id, bytes } => {
                            self.conns.entry(id).or_default().sent.extend(bytes);
                        }
                        DataRequest::Close { id } => {
                            self.conns.entry(id).or_default().closed = true;
                            replies.push((id, DataEvent::Closed));
                        }
                        DataRequest::Abort { id } => {
                            self.conns.entry(id).or_default().aborted = true;
                        }
                    }
                }
                if replies.is_empty() {
                    return;
                }
                for (id, event) in replies {
                    self.server.handle_data(id, event, Millis(self.now));
                }
            }
        }

        /// Sends one command line and returns the control bytes it caused.
        pub(crate) fn cmd(&mut self, line: &str) -> String {
            self.control.clear();
            self.server
                .handle_input(format!("{line}\r\n").as_bytes(), Millis(self.now));
            self.pump();
            String::from_utf8_lossy(&self.control).into_owned()
        }

        pub(crate) fn data(&mut self, id: DataConnId, event: DataEvent) -> String {
            self.control.clear();
            self.server.handle_data(id, event, Millis(self.now));
            self.pump();
            String::from_utf8_lossy(&self.control).into_owned()
        }

        pub(crate) fn last_id(&self) -> DataConnId {
            *self.conns.keys().last().unwrap()
        }

        pub(crate) fn login(&mut self, user: &str, pass: &str) {
            assert!(self.cmd(&format!("USER {user}")).starts_with("331 "));
            assert!(self.cmd(&format!("PASS {pass}")).starts_with("230 "));
        }

        /// PASV, then the client connects: returns the connection id.
        pub(crate) fn passive_connected(&mut self) -> DataConnId {
            let reply = self.cmd("PASV");
            assert!(
                reply.starts_with("227 Entering Passive Mode (127,0,0,1,"),
                "{reply}"
            );
            let id = self.last_id();
            self.data(id, DataEvent::Opened);
            id
        }
    }

    #[test]
    fn the_course_session_download_and_listing() {
        let mut h = Harness::new(MemoryTree::demo(1_700_000_000));
        assert_eq!(String::from_utf8_lossy(&drain(&mut h.server).bytes()), "");
        let reply = h.cmd("USER anonymous");
        assert!(reply.starts_with("331 "), "{reply}");
        assert!(h.cmd("PASS me@example.org").starts_with("230 "));
        assert_eq!(h.cmd("PWD"), "257 \"/\" is the current directory\r\n");
        let id = h.passive_connected();
        let reply = h.cmd("LIST");
        assert!(
            reply.starts_with("125 Data connection already open"),
            "{reply}"
        );
        assert!(reply.contains("\r\n226 Transfer complete"), "{reply}");
        let listing = String::from_utf8(h.conns[&id].sent.clone()).unwrap();
        assert!(
            listing.contains(" pub\r\n") && listing.contains(" README.txt\r\n"),
            "{listing}"
        );
        assert!(
            listing.starts_with("-rw-r--r--    1 ftp      ftp"),
            "{listing}"
        );
        assert!(h.conns[&id].closed);
        // ASCII (the default type) sends CR LF.
        let id = h.passive_connected();
        h.cmd("RETR pub/hello.txt");
        assert_eq!(
            h.conns[&id].sent,
            b"Hello from the wirelab FTP server!\r\nThis file came over a data connection.\r\n"
        );
        // Binary sends the bytes as stored; ASCII adds a CR before the LF.
        assert!(h.cmd("TYPE I").starts_with("200 "));
        let id = h.passive_connected();
        h.cmd("RETR /pub/bytes.bin");
        assert_eq!(h.conns[&id].sent, (0..=255u8).collect::<Vec<_>>());
        h.cmd("TYPE A");
        assert_eq!(h.cmd("SIZE /pub/bytes.bin"), "213 257\r\n");
        let id = h.passive_connected();
        h.cmd("RETR /pub/bytes.bin");
        assert_eq!(h.conns[&id].sent.len(), 257);
        h.server.handle_input(b"QUIT\r\n", Millis(h.now));
        let out = drain(&mut h.server);
        assert_eq!(out.bytes(), b"221 Goodbye\r\n");
        assert!(out.close);
    }

    #[test]
    fn login_is_required_and_sequences_are_checked() {
        let mut h = Harness::new(MemoryTree::demo(0));
        assert!(h.cmd("LIST").starts_with("530 "));
        assert!(
            h.cmd("PORT 1,2,3").starts_with("530 "),
            "login comes before syntax"
        );
        assert!(h.cmd("PASS x").starts_with("503 "));
        assert!(h.cmd("SYST").starts_with("215 UNIX Type: L8"));
        assert!(
            h.cmd("USER student")
                .starts_with("331 Username OK, password required")
        );
        assert!(h.cmd("PASS wrong").starts_with("530 Login incorrect"));
        assert!(
            h.cmd("USER nobody").starts_with("331 Username OK"),
            "unknown users look the same"
        );
        h.login("student", "secret");
        assert!(h.cmd("RNTO x").starts_with("503 "));
        assert!(h.cmd("XYZ").starts_with("502 "));
        assert!(h.cmd("RETR").starts_with("501 "));
        assert!(h.cmd("TYPE E").starts_with("504 "));
        assert!(h.cmd("MODE B").starts_with("504 "));
        assert!(h.cmd("").starts_with("500 "));
    }

    #[test]
    fn too_many_failed_logins_close_the_connection() {
        let mut h = Harness::new(MemoryTree::demo(0));
        for _ in 0..4 {
            h.cmd("USER student");
            assert!(h.cmd("PASS nope").starts_with("530 "));
        }
        h.cmd("USER student");
        assert!(h.cmd("PASS nope").starts_with("421 "));
        assert!(h.server.closed);
    }

    #[test]
    fn a_transfer_without_data_connection_is_425() {
        let mut h = Harness::new(MemoryTree::demo(0));
        h.login("anonymous", "x");
        assert_eq!(
            h.cmd("RETR README.txt"),
            "425 Can't open data connection: send PASV (or EPSV) or PORT (or EPRT) first\r\n"
        );
        // A PASV is used up by one transfer.
        h.passive_connected();
        assert!(h.cmd("NLST").contains("226 "));
        assert!(h.cmd("NLST").starts_with("425 "));
    }

    #[test]
    fn active_mode_connects_back_only_to_the_client() {
        let mut h = Harness::new(MemoryTree::demo(0));
        h.login("anonymous", "x");
        let reply = h.cmd("PORT 10,0,0,99,158,107");
        assert!(
            reply.starts_with("504 PORT refused: 10.0.0.99 is not your address"),
            "{reply}"
        );
        assert!(
            h.cmd("PORT 127,0,0,1,0,21").starts_with("504 "),
            "privileged port"
        );
        assert!(h.cmd("PORT 127,0,0,1,300,1").starts_with("501 "));
        assert!(h.cmd("EPRT |1|10.0.0.1|5000|").starts_with("504 "));
        assert!(h.cmd("EPRT |2|::1|5000|").starts_with("522 "));
        let reply = h.cmd("PORT 127,0,0,1,158,107");
        assert!(reply.contains("158*256+107 = 40555"), "{reply}");
        h.auto_connect = false;
        let reply = h.cmd("RETR pub/hello.txt");
        assert!(reply.starts_with("150 "), "{reply}");
        let id = h.last_id();
        assert_eq!(
            h.conns[&id].connect_to,
            Some("127.0.0.1:40555".parse().unwrap())
        );
        let reply = h.data(id, DataEvent::Opened);
        assert!(reply.starts_with("226 "), "{reply}");
        assert!(h.conns[&id].sent.starts_with(b"Hello"));
        // EPRT works the same way, and a refused connection is a 425.
        assert!(h.cmd("EPRT |1|127.0.0.1|40556|").starts_with("200 "));
        h.cmd("LIST");
        let id = h.last_id();
        let reply = h.data(
            id,
            DataEvent::Failed {
                reason: "connection refused".into(),
            },
        );
        assert_eq!(
            reply,
            "425 Can't open data connection: connection refused\r\n"
        );
    }

    #[test]
    fn uploads_need_a_writable_account_and_convert_ascii() {
        let mut h = Harness::new(MemoryTree::demo(0));
        h.login("anonymous", "x");
        h.passive_connected();
        assert!(h.cmd("STOR upload/a.txt").starts_with("550 "));
        assert!(h.cmd("MKD x").starts_with("550 "));
        h.login("student", "secret");
        // The client connects after STOR: 150 first.
        h.cmd("PASV");
        let id = h.last_id();
        assert!(h.cmd("STOR upload/a.txt").starts_with("150 "));
        assert_eq!(h.data(id, DataEvent::Opened), "");
        h.data(id, DataEvent::Received(b"one\r\ntwo\r\n".to_vec()));
        let reply = h.data(id, DataEvent::PeerClosed);
        assert!(
            reply.starts_with("226 Transfer complete: /upload/a.txt stored (8 bytes)"),
            "{reply}"
        );
        assert_eq!(
            h.server
                .tree()
                .read(&parse_absolute("/upload/a.txt"))
                .unwrap(),
            b"one\ntwo\n"
        );
        // Binary keeps the bytes; APPE adds to them; bytes may come before STOR.
        h.cmd("TYPE I");
        let id = h.passive_connected();
        h.data(id, DataEvent::Received(b"\r\n".to_vec()));
        h.data(id, DataEvent::PeerClosed);
        assert!(h.cmd("APPE upload/a.txt").contains("226 "));
        assert_eq!(
            h.server
                .tree()
                .read(&parse_absolute("/upload/a.txt"))
                .unwrap(),
            b"one\ntwo\n\r\n"
        );
        assert!(h.cmd("RNFR upload/a.txt").starts_with("350 "));
        assert!(h.cmd("RNTO upload/b.txt").starts_with("250 "));
        assert!(
            h.cmd("MKD upload/d")
                .starts_with("257 \"/upload/d\" created")
        );
        assert!(h.cmd("RMD upload/d").starts_with("250 "));
        assert!(h.cmd("DELE upload/b.txt").starts_with("250 "));
        assert!(h.cmd("DELE upload/b.txt").starts_with("550 "));
    }

    #[test]
    fn the_quota_gives_452() {
        let mut h = Harness::new(MemoryTree::demo(0).with_quota(Some(1000)));
        h.login("student", "secret");
        h.cmd("TYPE I");
        let id = h.passive_connected();
        h.cmd("STOR upload/big.bin");
        // A modest overflow is read to the end, then refused.
        assert_eq!(h.data(id, DataEvent::Received(vec![0; 2000])), "");
        let reply = h.data(id, DataEvent::PeerClosed);
        assert!(reply.starts_with("452 Error writing file"), "{reply}");
        assert!(h.conns[&id].closed);
        assert!(
            h.server
                .tree()
                .stat(&parse_absolute("/upload/big.bin"))
                .is_err()
        );
        // A flood is cut off.
        let id = h.passive_connected();
        h.cmd("STOR upload/big.bin");
        let reply = h.data(id, DataEvent::Received(vec![0; 5 * 1024 * 1024]));
        assert!(reply.starts_with("452 "), "{reply}");
        assert!(h.conns[&id].aborted);
        assert!(
            h.server
                .tree()
                .stat(&parse_absolute("/upload/big.bin"))
                .is_err()
        );
        // The session goes on.
        assert!(h.cmd("NOOP").starts_with("200 "));
    }

    #[test]
    fn waiting_for_the_data_connection_times_out() {
        let mut h = Harness::new(MemoryTree::demo(0));
        h.login("anonymous", "x");
        h.cmd("PASV");
        let id = h.last_id();
        assert!(h.cmd("RETR README.txt").starts_with("150 "));
        let deadline = drain(&mut h.server).deadline.unwrap();
        h.control.clear();
        h.server.handle_timeout(deadline);
        h.pump();
        assert!(
            String::from_utf8_lossy(&h.control)
                .starts_with("425 Can't open data connection: nothing connected")
        );
        assert!(h.conns[&id].aborted);
    }

    #[test]
    fn commands_wait_for_the_transfer_but_abor_does_not() {
        let mut h = Harness::new(MemoryTree::demo(0));
        h.login("anonymous", "x");
        h.cmd("PASV");
        let id = h.last_id();
        // RETR and NOOP in one segment: NOOP is answered after the transfer.
        let reply = h.cmd("RETR README.txt\r\nNOOP");
        assert!(
            reply.starts_with("150 ") && !reply.contains("200"),
            "{reply}"
        );
        let reply = h.data(id, DataEvent::Opened);
        assert!(
            reply.starts_with("226 ") && reply.ends_with("200 NOOP ok\r\n"),
            "{reply}"
        );
        h.cmd("PASV");
        h.cmd("RETR README.txt");
        h.control.clear();
        h.server
            .handle_input(b"\xff\xf4\xff\xf2ABOR\r\n", Millis(0));
        h.pump();
        let reply = String::from_utf8_lossy(&h.control).into_owned();
        assert_eq!(
            reply,
            "426 Connection closed; transfer aborted\r\n226 Abort successful; data connection closed\r\n"
        );
        assert!(h.cmd("ABOR").starts_with("225 "));
    }

    #[test]
    fn paths_never_leave_the_tree() {
        let mut h = Harness::new(MemoryTree::demo(1_700_000_000));
        h.login("anonymous", "x");
        assert!(
            h.cmd("CWD ../../../..")
                .starts_with("250 Directory changed to /\r\n")
        );
        assert!(h.cmd("CWD pub").starts_with("250 "));
        assert!(h.cmd("CDUP").starts_with("250 "));
        assert_eq!(
            h.cmd("SIZE ../../../etc/passwd"),
            "550 /etc/passwd: no such file or directory\r\n"
        );
        assert!(h.cmd("CWD README.txt").starts_with("550 "));
        assert!(h.cmd("MDTM README.txt").starts_with("213 20231114221320"));
    }

    #[test]
    fn multi_line_replies() {
        let mut h = Harness::new(MemoryTree::demo(0));
        let feat = h.cmd("FEAT");
        assert!(
            feat.starts_with("211-Features:\r\n EPRT\r\n") && feat.ends_with("211 End\r\n"),
            "{feat}"
        );
        let help = h.cmd("HELP");
        assert!(
            help.starts_with("214-") && help.contains(" USER PASS ACCT"),
            "{help}"
        );
        assert!(
            h.cmd("HELP port")
                .starts_with("214 Syntax: PORT <SP> <host-port>")
        );
        h.login("anonymous", "x");
        let stat = h.cmd("STAT");
        assert!(
            stat.contains(" Login: logged in as anonymous (anonymous, read-only)"),
            "{stat}"
        );
        assert!(h.cmd("STAT /pub").contains(" hello.txt\r\n"));
    }

    #[test]
    fn epsv_and_epsv_all() {
        let mut h = Harness::new(MemoryTree::demo(0));
        h.login("anonymous", "x");
        let reply = h.cmd("EPSV");
        assert!(
            reply.starts_with("229 Entering Extended Passive Mode (|||21001|)"),
            "{reply}"
        );
        assert!(h.cmd("EPSV 2").starts_with("522 "));
        assert!(h.cmd("EPSV ALL").starts_with("200 "));
        assert!(h.cmd("PASV").starts_with("503 "));
        assert!(h.cmd("PORT 127,0,0,1,158,107").starts_with("503 "));
        // EPSV still works after EPSV ALL, and the old listener was dropped
        // when the new one was asked for.
        assert!(!h.conns[&DataConnId(1)].aborted);
        let reply = h.cmd("EPSV");
        assert!(
            reply.starts_with("229 Entering Extended Passive Mode (|||21002|)"),
            "{reply}"
        );
        assert!(h.conns[&DataConnId(1)].aborted);
        assert!(!h.conns[&DataConnId(2)].aborted);
    }

    #[test]
    fn a_command_line_that_never_ends_times_out() {
        let mut h = Harness::new(MemoryTree::demo(0));
        h.login("anonymous", "x");
        h.control.clear();
        h.server.handle_input(b"NO", Millis(h.now));
        let timeout = settings().line_timeout_ms;
        assert_eq!(
            drain(&mut h.server).deadline,
            Some(Millis(h.now + timeout)),
            "the engine asks to be woken when the line is due"
        );
        // More bytes of the same line do not push the bound back.
        h.now += timeout - 1;
        h.server.handle_input(b"O", Millis(h.now));
        h.server.handle_timeout(Millis(h.now));
        assert!(drain(&mut h.server).bytes().is_empty());
        h.now += 1;
        h.server.handle_timeout(Millis(h.now));
        let out = drain(&mut h.server);
        let text = String::from_utf8_lossy(&out.bytes()).into_owned();
        assert!(text.starts_with("421 Timeout"), "{text}");
        assert!(out.close);
    }

    #[test]
    fn a_complete_line_stops_the_line_clock() {
        let mut h = Harness::new(MemoryTree::demo(0));
        h.server.handle_input(b"NOOP\r\nNO", Millis(0));
        let first = drain(&mut h.server);
        assert_eq!(first.deadline, Some(Millis(settings().line_timeout_ms)));
        h.now = 5_000;
        assert!(h.cmd("OP").starts_with("200 "));
        assert_eq!(drain(&mut h.server).deadline, None, "nothing is due");
    }

    #[test]
    fn too_many_bad_commands_close_the_connection() {
        let mut h = Harness::new(MemoryTree::demo(0));
        let max = settings().max_bad_commands;
        for i in 1..max {
            let reply = h.cmd("BOGUS");
            assert!(reply.starts_with("502 "), "{i}: {reply}");
        }
        // Good commands do not count.
        assert!(h.cmd("NOOP").starts_with("200 "));
        h.server.handle_input(b"BOGUS\r\n", Millis(h.now));
        let out = drain(&mut h.server);
        let text = String::from_utf8_lossy(&out.bytes()).into_owned();
        assert!(
            text.starts_with("502 ") && text.contains("\r\n421 Too many bad commands"),
            "{text}"
        );
        assert!(out.close);
    }

    #[test]
    fn commands_piling_up_behind_a_transfer_are_bounded() {
        let mut h = Harness::new(MemoryTree::demo(0));
        h.auto_connect = false;
        h.login("anonymous", "x");
        assert!(h.cmd("PASV").starts_with("227 "));
        assert!(h.cmd("RETR /pub/hello.txt").starts_with("150 "));
        // The transfer waits for its connection; NOOPs wait behind it.
        let noops = "NOOP\r\n".repeat(settings().max_line_bytes * PENDING_LINES / 6 + 1);
        h.server.handle_input(noops.as_bytes(), Millis(h.now));
        let out = drain(&mut h.server);
        let text = String::from_utf8_lossy(&out.bytes()).into_owned();
        assert!(text.starts_with("421 Too many commands"), "{text}");
        assert!(out.close);
        assert!(
            out.events
                .contains(&ServerEvent::Data(DataRequest::Abort { id: DataConnId(1) })),
            "the waiting listener is dropped: {:?}",
            out.events
        );
    }

    #[test]
    fn long_lines_are_refused_and_skipped() {
        let mut h = Harness::new(MemoryTree::demo(0));
        let long = "A".repeat(MAX_LINE + 10);
        let reply = h.cmd(&long);
        assert!(reply.starts_with("500 Command line too long"), "{reply}");
        assert!(h.cmd("NOOP").starts_with("200 "));
    }

    #[test]
    fn ascii_conversions() {
        assert_eq!(to_network_ascii(b"a\nb\r\nc"), b"a\r\nb\r\nc");
        assert_eq!(from_network_ascii(b"a\r\nb\rc\n"), b"a\nb\rc\n");
    }
}
