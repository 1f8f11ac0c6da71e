//! The relay's configuration: defaults, the TOML file and the command-line
//! overrides, merged in that order into one [`Config`].
//!
//! Every option can be set in the file; the command line only overrides the
//! common ones. Unknown keys in the file are errors, so a typo does not
//! silently keep a default. `wirelab print-config` shows the merged result.

use crate::policy::rules::{Cidr, NamedTarget, Rule};
use anyhow::bail;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use wirelab_shared::http::frame::Limits as HttpLimits;
use wirelab_shared::http::server::ServerLimits;

const LOOPBACK: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

/// Everything the relay needs to start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address of the web server (the page, `/ws`, `/api`).
    pub bind: IpAddr,
    pub port: u16,
    /// The built site (`cargo xtask dist` writes it to `dist/`).
    pub dist: PathBuf,
    /// Where the reference servers keep their data. Defaults to the user's
    /// data directory (`~/.local/share/wirelab` on Linux).
    pub data_dir: Option<PathBuf>,
    /// The address students open, such as `https://lab.example.edu`, when it
    /// is not `http://<bind>:<port>` (behind a reverse proxy): join links are
    /// built on it, and its origin and host are accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// Origins (`https://lab.example.edu`) of other pages allowed to open
    /// `/ws`, besides the relay's own; `"*"` allows any page.
    pub allowed_origins: Vec<String>,
    /// Host names the relay answers to when it is bound to loopback, besides
    /// `localhost` and IP addresses (the DNS rebinding defence).
    pub allowed_hosts: Vec<String>,
    /// Reverse proxies whose `X-Forwarded-For` is believed; from anyone
    /// else the header is ignored.
    pub trusted_proxies: Vec<Cidr>,
    /// For one person running the relay on their own machine: the page may
    /// open `?transport=&host=localhost&port=` to their own programs on
    /// this machine's loopback ports (the textbook's TCPServer, UDPServer,
    /// WebServer), never the relay's own ports. Refused with classroom mode,
    /// a bind other than loopback, a `public_url` or any-origin `/ws`.
    pub local_programs: bool,
    pub limits: Limits,
    pub policy: PolicyConfig,
    pub classroom: ClassroomConfig,
    pub recordings: RecordingsConfig,
    pub servers: Servers,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: LOOPBACK,
            port: 8080,
            dist: PathBuf::from("dist"),
            data_dir: None,
            public_url: None,
            allowed_origins: Vec::new(),
            allowed_hosts: Vec::new(),
            trusted_proxies: Vec::new(),
            local_programs: false,
            limits: Limits::default(),
            policy: PolicyConfig::default(),
            classroom: ClassroomConfig::default(),
            recordings: RecordingsConfig::default(),
            servers: Servers::default(),
        }
    }
}

/// Bounds on what clients may do. Each has a default that suits a
/// classroom; hitting one ends or refuses the session with `limit`, naming
/// the key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// A session with no traffic either way for this long is closed.
    pub idle_timeout_secs: f64,
    /// How long finding and connecting to a target may take.
    pub connect_timeout_secs: f64,
    /// Largest WebSocket frame the page may send.
    pub max_frame_bytes: usize,
    /// Largest WebSocket message the page may send (one TCP write, one
    /// datagram).
    pub max_message_bytes: usize,
    /// Open `/ws` sessions in all.
    pub max_connections: usize,
    /// Open `/ws` sessions per client address.
    pub max_connections_per_client: usize,
    /// Open `/ws` sessions per classroom student (token).
    pub max_connections_per_token: usize,
    /// Bytes both ways over one session.
    pub max_bytes_per_connection: u64,
    /// Bytes both ways per minute for one client (the student with a token,
    /// else the address), over all its sessions.
    pub max_bytes_per_minute: u64,
    /// Largest `delay_ms` a page may ask for; 0 turns delay emulation off.
    pub max_delay_ms: u64,
    /// Slowest `rate_kbps` (link rate) a page may ask for: a slower link
    /// holds a session's queued bytes (up to 1 MiB each way) longer.
    pub min_rate_kbps: u64,
    /// Classroom joins and instructor sign-ins per client address per
    /// minute (a class behind one NAT joins from one address).
    pub max_joins_per_minute: u64,
    /// Largest UDP reply passed back to the page; larger ones are dropped.
    pub udp_max_reply_bytes: usize,
    /// A reference-server connection with no traffic for this long is closed.
    pub server_idle_timeout_secs: f64,
    /// A reference-server connection whose client does not take what the
    /// server sends for this long is closed (a client that never reads).
    pub write_timeout_secs: f64,
    /// Connections each reference server accepts at once; a client beyond
    /// that is told so at once (503, 421, `-ERR`) and closed.
    pub server_max_connections: usize,
    /// How long a listening socket opened by `{"type":"listen"}` (FTP active
    /// mode) waits for the server to connect, and for the page to take it.
    pub listen_timeout_secs: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            idle_timeout_secs: 300.0,
            connect_timeout_secs: 5.0,
            max_frame_bytes: 64 * 1024,
            max_message_bytes: 64 * 1024,
            max_connections: 4096,
            max_connections_per_client: 64,
            max_connections_per_token: 16,
            max_bytes_per_connection: 64 * 1024 * 1024,
            max_bytes_per_minute: 32 * 1024 * 1024,
            max_delay_ms: 1000,
            min_rate_kbps: 8,
            max_joins_per_minute: 600,
            udp_max_reply_bytes: 4096,
            server_idle_timeout_secs: 600.0,
            write_timeout_secs: 30.0,
            server_max_connections: 1024,
            listen_timeout_secs: 60.0,
        }
    }
}

impl Limits {
    pub fn idle_timeout(&self) -> Duration {
        seconds(self.idle_timeout_secs)
    }

    pub fn connect_timeout(&self) -> Duration {
        seconds(self.connect_timeout_secs)
    }

    pub fn server_idle_timeout(&self) -> Duration {
        seconds(self.server_idle_timeout_secs)
    }

    pub fn write_timeout(&self) -> Duration {
        seconds(self.write_timeout_secs)
    }

    pub fn listen_timeout(&self) -> Duration {
        seconds(self.listen_timeout_secs)
    }
}

fn seconds(secs: f64) -> Duration {
    Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX)
}

/// `[policy]`: what students may reach besides the built-in servers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyConfig {
    /// Targets the operator names, listed in the catalog.
    pub targets: Vec<NamedTarget>,
    /// Rules that allow custom `host`/`port` targets. None: custom targets
    /// are refused.
    pub rules: Vec<Rule>,
}

/// `[classroom]`: tokens for students, an instructor API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClassroomConfig {
    /// Require a class token on `/ws` and the APIs (also `--classroom`).
    pub enabled: bool,
    /// What the instructor sends as `Authorization: Bearer ...`. If absent,
    /// one is generated into `<data_dir>/classroom/instructor.secret`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instructor_secret: Option<String>,
    /// The key that signs student tokens (at least 32 characters). If
    /// absent, one is generated into `<data_dir>/classroom/token.key`;
    /// relays that share students need the same key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_key: Option<String>,
    /// How long a student's token is valid; joining again renews it.
    pub token_ttl_secs: u64,
}

impl Default for ClassroomConfig {
    fn default() -> Self {
        ClassroomConfig {
            enabled: false,
            instructor_secret: None,
            token_key: None,
            token_ttl_secs: 2 * 3600,
        }
    }
}

/// When connections are recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordingMode {
    Off,
    /// When the page asks with `record=1` on `/ws`.
    OnRequest,
    Always,
}

/// `[recordings]`: per-connection transcripts in `<data_dir>/recordings`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecordingsConfig {
    pub mode: RecordingMode,
    /// Payload bytes kept per recording; the rest is counted, not kept.
    pub max_bytes: u64,
    /// Recordings older than this are deleted.
    pub keep_hours: f64,
    /// At most this many recordings are kept (the oldest go first).
    pub max_count: usize,
}

impl Default for RecordingsConfig {
    fn default() -> Self {
        RecordingsConfig {
            mode: RecordingMode::OnRequest,
            max_bytes: 4 * 1024 * 1024,
            keep_hours: 24.0,
            max_count: 1000,
        }
    }
}

/// The reference servers. Each protocol has its own table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Servers {
    /// Start the reference servers at all.
    pub enabled: bool,
    /// The address every reference server listens on.
    pub host: IpAddr,
    pub http: HttpServer,
    pub book_web: BookWebServer,
    pub upper: UpperServer,
    pub ftp: FtpServer,
    pub dns: DnsServers,
    pub cdn: CdnServers,
    pub smtp: SmtpServer,
    pub pop3: Pop3Server,
    pub imap: ImapServer,
    pub tracker: TrackerServer,
    pub proxy: ProxyServer,
    /// The mailboxes the mail servers share.
    pub mail: MailStorage,
}

impl Default for Servers {
    fn default() -> Self {
        Servers {
            enabled: true,
            host: LOOPBACK,
            http: HttpServer::default(),
            book_web: BookWebServer::default(),
            upper: UpperServer::default(),
            ftp: FtpServer::default(),
            dns: DnsServers::default(),
            cdn: CdnServers::default(),
            smtp: SmtpServer::default(),
            pop3: Pop3Server::default(),
            imap: ImapServer::default(),
            tracker: TrackerServer::default(),
            proxy: ProxyServer::default(),
            mail: MailStorage::default(),
        }
    }
}

/// The textbook's §2.8 web server (`webserver-book`), on the book's port.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BookWebServer {
    pub port: u16,
}

impl Default for BookWebServer {
    fn default() -> Self {
        BookWebServer { port: 6789 }
    }
}

/// The CDN's replicas of the origin www.sina.com (the textbook's §2.9.2):
/// web servers on their own loopback addresses (see
/// `wirelab_shared::http::cdn::REPLICAS`), all on one port, with the
/// reference web server's bounds (`servers.http`). The CDN's DNS server is
/// one of `servers.dns`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CdnServers {
    pub enabled: bool,
    /// The port every replica listens on, each on its own address; the
    /// origin's page names it in its rewritten URLs. 0 picks one free port
    /// for all.
    pub port: u16,
}

impl Default for CdnServers {
    fn default() -> Self {
        CdnServers {
            enabled: true,
            port: 8082,
        }
    }
}

/// The reference web server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpServer {
    pub port: u16,
    /// How long an idle persistent connection stays open.
    pub keep_alive_secs: u64,
    /// The credentials of /private/ (HTTP Basic authentication).
    pub user: String,
    pub password: String,
    /// Most bytes /upload/ may hold in all.
    pub upload_quota_bytes: u64,
    /// Longest request head (request line, header lines, blank line); a
    /// longer one gets 431.
    pub max_head_bytes: usize,
    /// Longest line of a head or a trailer section (431; 414 for the
    /// request line).
    pub max_line_bytes: usize,
    /// Most header lines in a request (431).
    pub max_headers: usize,
    /// Longest request body (413, before it is read when Content-Length
    /// says so); for a chunked body, its chunks with their size lines.
    pub max_body_bytes: usize,
    /// Longest chunk-size line, chunk extensions included (400).
    pub max_chunk_line_bytes: usize,
    /// Most trailer lines after a chunked body (431).
    pub max_trailers: usize,
    /// Longest trailer section after a chunked body (431).
    pub max_trailer_bytes: usize,
    /// A request's head must have arrived this long after its first byte;
    /// else 408 and the connection closes.
    pub head_timeout_secs: f64,
    /// A whole request, head and body, must have arrived this long after
    /// its first byte; else 408 and the connection closes.
    pub request_timeout_secs: f64,
    /// Most pipelined requests answered from one read; the last of them
    /// closes the connection when more wait behind it.
    pub max_pipelined: u32,
    /// Once the answers to one read add up to this many bytes, the next
    /// one closes the connection when more requests wait behind it.
    pub max_pipelined_bytes: usize,
}

impl Default for HttpServer {
    fn default() -> Self {
        let limits = ServerLimits::default();
        HttpServer {
            port: 8081,
            keep_alive_secs: 60,
            user: "student".into(),
            password: "wirelab".into(),
            upload_quota_bytes: 10 * 1024 * 1024,
            max_head_bytes: limits.frame.max_head,
            max_line_bytes: limits.frame.max_line,
            max_headers: limits.frame.max_headers,
            max_body_bytes: limits.frame.max_body,
            max_chunk_line_bytes: limits.frame.max_chunk_line,
            max_trailers: limits.frame.max_trailers,
            max_trailer_bytes: limits.frame.max_trailer_bytes,
            head_timeout_secs: limits.head_timeout_ms as f64 / 1000.0,
            request_timeout_secs: limits.request_timeout_ms as f64 / 1000.0,
            max_pipelined: limits.max_pipelined,
            max_pipelined_bytes: limits.max_pipelined_bytes,
        }
    }
}

impl HttpServer {
    /// The bounds each connection of the web server runs with.
    pub fn limits(&self) -> ServerLimits {
        ServerLimits {
            frame: HttpLimits {
                max_line: self.max_line_bytes,
                max_headers: self.max_headers,
                max_head: self.max_head_bytes,
                max_body: self.max_body_bytes,
                max_chunk_line: self.max_chunk_line_bytes,
                max_trailers: self.max_trailers,
                max_trailer_bytes: self.max_trailer_bytes,
            },
            head_timeout_ms: seconds(self.head_timeout_secs).as_millis() as u64,
            request_timeout_ms: seconds(self.request_timeout_secs).as_millis() as u64,
            max_pipelined: self.max_pipelined,
            max_pipelined_bytes: self.max_pipelined_bytes,
        }
    }

    /// Checks that every bound allows something.
    fn validate(&self) -> Result<()> {
        for (key, value) in [
            ("max_head_bytes", self.max_head_bytes),
            ("max_line_bytes", self.max_line_bytes),
            ("max_headers", self.max_headers),
            ("max_body_bytes", self.max_body_bytes),
            ("max_chunk_line_bytes", self.max_chunk_line_bytes),
            ("max_trailers", self.max_trailers),
            ("max_trailer_bytes", self.max_trailer_bytes),
            ("max_pipelined", self.max_pipelined as usize),
            ("max_pipelined_bytes", self.max_pipelined_bytes),
        ] {
            if value == 0 {
                bail!("servers.http.{key} must be at least 1");
            }
        }
        for (key, value) in [
            ("head_timeout_secs", self.head_timeout_secs),
            ("request_timeout_secs", self.request_timeout_secs),
        ] {
            if !(value.is_finite() && value > 0.0) {
                bail!("servers.http.{key} must be a positive number of seconds");
            }
        }
        Ok(())
    }
}

/// The caching proxy (`proxy`): an HTTP/1.1 forward proxy with a shared
/// cache, reaching only the origins the relay's policy allows. Requests
/// from its clients are bounded by `[servers.http]`'s limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProxyServer {
    pub enabled: bool,
    pub port: u16,
    /// Bytes the cache may hold in all (bodies, heads and URIs); the least
    /// recently used entries leave first.
    pub cache_max_bytes: usize,
    /// Entries the cache may hold.
    pub cache_max_entries: usize,
    /// A larger response is passed on to the client and not stored.
    pub max_object_bytes: usize,
    /// A larger response from an origin is not passed on at all: 502.
    pub max_response_bytes: usize,
    /// Every request to an origin is held back this long, as if the origin
    /// were far away, so that a hit is visibly faster than a miss.
    pub origin_delay_ms: u64,
    /// An origin that has not answered this long after the request: 504.
    pub origin_timeout_secs: f64,
    /// Requests kept in `GET /api/proxy/log` (the oldest leave first).
    pub log_entries: usize,
}

impl Default for ProxyServer {
    fn default() -> Self {
        ProxyServer {
            enabled: true,
            port: 3128,
            cache_max_bytes: 64 * 1024 * 1024,
            cache_max_entries: 1024,
            max_object_bytes: 1024 * 1024,
            max_response_bytes: 8 * 1024 * 1024,
            origin_delay_ms: 100,
            origin_timeout_secs: 10.0,
            log_entries: 256,
        }
    }
}

impl ProxyServer {
    pub fn origin_timeout(&self) -> Duration {
        seconds(self.origin_timeout_secs)
    }

    fn validate(&self) -> Result<()> {
        if self.max_response_bytes == 0 {
            bail!("servers.proxy.max_response_bytes must be at least 1");
        }
        if !(self.origin_timeout_secs.is_finite() && self.origin_timeout_secs > 0.0) {
            bail!("servers.proxy.origin_timeout_secs must be a positive number of seconds");
        }
        Ok(())
    }
}

/// The lab's DNS hierarchy: a root, TLDs, authoritative servers and the
/// recursive resolver, each on its own loopback address (see
/// `wirelab_shared::dns::hierarchy`), all on one port.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DnsServers {
    pub enabled: bool,
    /// The port every DNS server listens on, UDP and TCP. 0 picks a free
    /// port for the first server and uses it for all.
    pub port: u16,
    /// Hold each reply back as far as the server is "away" (root 40 ms, a
    /// TLD 25 ms, others 10 ms), so the resolver's trace shows what the
    /// cache saves.
    pub simulate_distance: bool,
    /// Clients (CIDR) the resolver recurses for; the others get REFUSED.
    pub recursion_clients: Vec<String>,
    /// How long the resolver waits for a server before trying the next.
    pub resolver_timeout_ms: u64,
    /// Replies one server holds back for its simulated distance at once;
    /// past it a datagram is dropped, as an overloaded server does.
    pub udp_max_pending: usize,
    /// DNS over TCP: the longest query accepted, checked on its length
    /// prefix (a longer one, or one shorter than a header, closes the
    /// connection).
    pub tcp_max_message_bytes: usize,
    /// DNS over TCP: queries of one connection waiting for their replies;
    /// at the cap the server reads nothing more from it until one leaves.
    pub tcp_max_in_flight: usize,
    /// DNS over TCP: a reply that cannot be written for this long (a client
    /// that does not read) closes the connection.
    pub tcp_write_timeout_secs: f64,
    /// DNS over TCP: a connection with nothing to read or write for this
    /// long is closed (RFC 7766 §6.2.3: seconds, not minutes). Connections
    /// per server are capped by `limits.server_max_connections`; at the cap
    /// a new one is accepted and closed at once.
    pub tcp_idle_timeout_secs: f64,
}

impl Default for DnsServers {
    fn default() -> Self {
        DnsServers {
            enabled: true,
            port: 1053,
            simulate_distance: true,
            recursion_clients: vec!["127.0.0.0/8".into(), "::1/128".into()],
            resolver_timeout_ms: 1500,
            udp_max_pending: 1024,
            tcp_max_message_bytes: 4096,
            tcp_max_in_flight: 16,
            tcp_write_timeout_secs: 10.0,
            tcp_idle_timeout_secs: 30.0,
        }
    }
}

impl DnsServers {
    pub fn tcp_write_timeout(&self) -> Duration {
        seconds(self.tcp_write_timeout_secs)
    }

    pub fn tcp_idle_timeout(&self) -> Duration {
        seconds(self.tcp_idle_timeout_secs)
    }

    fn validate(&self) -> Result<()> {
        for (key, value) in [
            ("udp_max_pending", self.udp_max_pending),
            ("tcp_max_in_flight", self.tcp_max_in_flight),
        ] {
            if value == 0 {
                bail!("servers.dns.{key} must be at least 1");
            }
        }
        if !(12..=usize::from(u16::MAX)).contains(&self.tcp_max_message_bytes) {
            bail!("servers.dns.tcp_max_message_bytes must be 12 (a bare header) to 65535");
        }
        for (key, value) in [
            ("tcp_write_timeout_secs", self.tcp_write_timeout_secs),
            ("tcp_idle_timeout_secs", self.tcp_idle_timeout_secs),
        ] {
            if !(value.is_finite() && value > 0.0) {
                bail!("servers.dns.{key} must be a positive number of seconds");
            }
        }
        Ok(())
    }
}

/// The SMTP server of the mail chapter (the course's `hamburger.edu`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmtpServer {
    pub port: u16,
    /// The name in the greeting and in the Received lines it adds.
    pub hostname: String,
    /// Greet with `220 <hostname> ESMTP Service ready` instead of the
    /// course's `220 <hostname>`.
    pub esmtp_greeting: bool,
    /// The largest message accepted (announced as SIZE after EHLO); a
    /// bigger one is read to its end, not kept, and answered 552.
    pub max_message_bytes: usize,
    /// Recipients of one message; more get 452 (RFC 5321 §4.5.3.1.8).
    pub max_recipients: usize,
    /// The longest command line without CR LF; longer ones get 500.
    pub max_line_bytes: usize,
    /// A command line must arrive within this, from its first byte (421).
    pub command_timeout_secs: f64,
    /// A message must arrive within this, from the 354 to its dot (421).
    pub data_timeout_secs: f64,
    /// Refused commands (5xx) before the server answers 421 and closes.
    pub max_errors: usize,
    /// Commands answered before the server waits for its replies to be
    /// written; a client that pipelines 64 KiB more unanswered gets 421.
    pub max_pipelined_commands: usize,
}

impl Default for SmtpServer {
    fn default() -> Self {
        let engine = wirelab_shared::smtp::SmtpServerConfig::default();
        SmtpServer {
            port: 2525,
            hostname: "hamburger.edu".into(),
            esmtp_greeting: engine.esmtp_greeting,
            max_message_bytes: engine.max_message_bytes,
            max_recipients: engine.max_recipients,
            max_line_bytes: engine.max_line_bytes,
            command_timeout_secs: secs(engine.command_timeout_ms),
            data_timeout_secs: secs(engine.data_timeout_ms),
            max_errors: engine.max_errors,
            max_pipelined_commands: engine.max_pipelined_commands,
        }
    }
}

impl SmtpServer {
    /// What the shared engine needs; the peer is filled in per connection.
    pub fn engine_config(&self) -> wirelab_shared::smtp::SmtpServerConfig {
        wirelab_shared::smtp::SmtpServerConfig {
            hostname: self.hostname.clone(),
            esmtp_greeting: self.esmtp_greeting,
            max_message_bytes: self.max_message_bytes,
            max_recipients: self.max_recipients,
            max_line_bytes: self.max_line_bytes,
            command_timeout_ms: millis(self.command_timeout_secs),
            data_timeout_ms: millis(self.data_timeout_secs),
            max_errors: self.max_errors,
            max_pipelined_commands: self.max_pipelined_commands,
            ..wirelab_shared::smtp::SmtpServerConfig::default()
        }
    }

    fn validate(&self) -> Result<()> {
        // RFC 5321 §4.5.3.1.4: 512 octets with CR LF must be accepted.
        if self.max_line_bytes < 510 {
            bail!("servers.smtp.max_line_bytes must be at least 510 (RFC 5321 §4.5.3.1.4)");
        }
        at_least_one(
            "servers.smtp",
            &[
                ("max_message_bytes", self.max_message_bytes),
                ("max_recipients", self.max_recipients),
                ("max_errors", self.max_errors),
                ("max_pipelined_commands", self.max_pipelined_commands),
            ],
        )?;
        positive_secs(
            "servers.smtp.command_timeout_secs",
            self.command_timeout_secs,
        )?;
        positive_secs("servers.smtp.data_timeout_secs", self.data_timeout_secs)
    }
}

/// The POP3 server of the mail chapter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Pop3Server {
    pub port: u16,
    /// The longest command line without CR LF; longer ones get -ERR.
    pub max_line_bytes: usize,
    /// A command line must arrive within this, from its first byte (-ERR,
    /// closed, nothing deleted).
    pub command_timeout_secs: f64,
    /// Refused commands before the server answers -ERR and closes.
    pub max_errors: usize,
    /// Wrong passwords before the server answers -ERR and closes.
    pub max_failed_logins: usize,
    /// Commands answered before the server waits for its replies to be
    /// written; a client that pipelines 64 KiB more unanswered is closed.
    pub max_pipelined_commands: usize,
}

impl Default for Pop3Server {
    fn default() -> Self {
        let engine = wirelab_shared::pop3::Pop3ServerConfig::default();
        Pop3Server {
            port: 1110,
            max_line_bytes: engine.max_line_bytes,
            command_timeout_secs: secs(engine.command_timeout_ms),
            max_errors: engine.max_errors,
            max_failed_logins: engine.max_failed_logins,
            max_pipelined_commands: engine.max_pipelined_commands,
        }
    }
}

impl Pop3Server {
    /// What the shared engine needs, under the SMTP server's host name.
    pub fn engine_config(&self, hostname: &str) -> wirelab_shared::pop3::Pop3ServerConfig {
        wirelab_shared::pop3::Pop3ServerConfig {
            hostname: hostname.to_string(),
            max_failed_logins: self.max_failed_logins,
            max_errors: self.max_errors,
            max_line_bytes: self.max_line_bytes,
            command_timeout_ms: millis(self.command_timeout_secs),
            max_pipelined_commands: self.max_pipelined_commands,
        }
    }

    fn validate(&self) -> Result<()> {
        // RFC 2449 §4: 255 octets with CR LF must be accepted.
        if self.max_line_bytes < 253 {
            bail!("servers.pop3.max_line_bytes must be at least 253 (RFC 2449 §4)");
        }
        at_least_one(
            "servers.pop3",
            &[
                ("max_errors", self.max_errors),
                ("max_failed_logins", self.max_failed_logins),
                ("max_pipelined_commands", self.max_pipelined_commands),
            ],
        )?;
        positive_secs(
            "servers.pop3.command_timeout_secs",
            self.command_timeout_secs,
        )
    }
}

/// The IMAP server: the POP3 users' mailboxes as INBOX, flags kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImapServer {
    pub port: u16,
    /// The longest line of a command without CR LF; longer ones are
    /// dropped as they arrive and answered BAD [TOOBIG].
    pub max_line_bytes: usize,
    /// The largest literal (`{n}`) announced; a bigger one is refused
    /// before any of its bytes are read.
    pub max_literal_bytes: u64,
    /// The largest whole command, literals included.
    pub max_command_bytes: usize,
    /// Commands answered BAD before the server says BYE and closes.
    pub max_errors: usize,
    /// Folders a mailbox may have besides INBOX (CREATE answers NO
    /// [LIMIT] beyond), and subscriptions.
    pub max_folders: usize,
    /// The longest folder name, in bytes.
    pub max_folder_name_bytes: usize,
    /// How often, in milliseconds, an IDLE session looks for new mail.
    pub idle_poll_ms: u64,
    /// How long one IDLE may last, in seconds, before BYE.
    pub max_idle_secs: u64,
}

impl Default for ImapServer {
    fn default() -> Self {
        let engine = wirelab_shared::imap::ImapServerConfig::default();
        ImapServer {
            port: 1143,
            max_line_bytes: engine.limits.line,
            max_literal_bytes: engine.limits.literal,
            max_command_bytes: engine.limits.message,
            max_errors: engine.max_errors,
            max_folders: engine.max_folders,
            max_folder_name_bytes: engine.max_folder_name_bytes,
            idle_poll_ms: engine.idle_poll_ms,
            max_idle_secs: engine.max_idle_ms / 1000,
        }
    }
}

impl ImapServer {
    /// What the shared engine needs.
    pub fn engine_config(&self) -> wirelab_shared::imap::ImapServerConfig {
        wirelab_shared::imap::ImapServerConfig {
            limits: wirelab_shared::imap::Limits {
                line: self.max_line_bytes,
                literal: self.max_literal_bytes,
                message: self.max_command_bytes,
            },
            max_errors: self.max_errors,
            max_folders: self.max_folders,
            max_folder_name_bytes: self.max_folder_name_bytes,
            idle_poll_ms: self.idle_poll_ms,
            max_idle_ms: self.max_idle_secs.saturating_mul(1000),
            clock_epoch_unix: None,
        }
    }

    fn validate(&self) -> Result<()> {
        // RFC 7162 §4: servers should take lines of 8192 octets; 1000 is
        // the least that still fits every command a client of the lab sends.
        if self.max_line_bytes < 1000 {
            bail!("servers.imap.max_line_bytes must be at least 1000");
        }
        if self.max_command_bytes < self.max_line_bytes {
            bail!("servers.imap.max_command_bytes must be at least servers.imap.max_line_bytes");
        }
        // A name longer than a file name may be cannot be a directory.
        if self.max_folder_name_bytes > 200 {
            bail!("servers.imap.max_folder_name_bytes must be at most 200");
        }
        at_least_one(
            "servers.imap",
            &[
                ("max_errors", self.max_errors),
                ("max_folder_name_bytes", self.max_folder_name_bytes),
                ("idle_poll_ms", self.idle_poll_ms as usize),
                ("max_idle_secs", self.max_idle_secs as usize),
            ],
        )
    }
}

/// The BitTorrent tracker (`tracker`): HTTP announces answered with
/// bencoded peer lists (BEP 3, BEP 23 compact), bounded in what it keeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrackerServer {
    pub port: u16,
    /// Torrents tracked at once; announces for more get a failure reason.
    pub max_torrents: usize,
    /// Peers of one torrent; more get a failure reason.
    pub max_peers_per_torrent: usize,
    /// Most peers in one reply, whatever `numwant` asks.
    pub max_numwant: u32,
    /// The `interval` told to clients; a peer not heard from for two
    /// intervals is forgotten.
    pub interval_secs: u32,
    /// Announces one client address may make per minute.
    pub max_announces_per_minute: u32,
    /// Swarms (`POST /api/swarms`) running at once.
    pub max_swarms: usize,
    /// The largest file a swarm distributes.
    pub swarm_max_file_bytes: usize,
    /// What all running swarms may hold in memory together: each peer
    /// keeps its own copy, so a swarm holds (peers + 1) × file size.
    pub swarm_max_total_bytes: u64,
    /// A swarm ends by itself this long after it started.
    pub swarm_lifetime_secs: u64,
}

impl Default for TrackerServer {
    fn default() -> Self {
        let engine = wirelab_shared::bittorrent::tracker::TrackerLimits::default();
        TrackerServer {
            port: 6969,
            max_torrents: engine.max_torrents,
            max_peers_per_torrent: engine.max_peers_per_torrent,
            max_numwant: engine.max_numwant,
            interval_secs: engine.interval_secs,
            max_announces_per_minute: engine.max_announces_per_minute,
            max_swarms: 4,
            swarm_max_file_bytes: 64 * 1024 * 1024,
            swarm_max_total_bytes: 2 * 1024 * 1024 * 1024,
            swarm_lifetime_secs: 600,
        }
    }
}

impl TrackerServer {
    /// What the shared tracker needs.
    pub fn limits(&self) -> wirelab_shared::bittorrent::tracker::TrackerLimits {
        wirelab_shared::bittorrent::tracker::TrackerLimits {
            max_torrents: self.max_torrents,
            max_peers_per_torrent: self.max_peers_per_torrent,
            max_numwant: self.max_numwant,
            interval_secs: self.interval_secs,
            max_announces_per_minute: self.max_announces_per_minute,
        }
    }

    fn validate(&self) -> Result<()> {
        at_least_one(
            "servers.tracker",
            &[
                ("max_torrents", self.max_torrents),
                ("max_peers_per_torrent", self.max_peers_per_torrent),
                ("max_numwant", self.max_numwant as usize),
                ("interval_secs", self.interval_secs as usize),
                (
                    "max_announces_per_minute",
                    self.max_announces_per_minute as usize,
                ),
                ("max_swarms", self.max_swarms),
                ("swarm_max_file_bytes", self.swarm_max_file_bytes),
                ("swarm_max_total_bytes", self.swarm_max_total_bytes as usize),
                ("swarm_lifetime_secs", self.swarm_lifetime_secs as usize),
            ],
        )
    }
}

fn secs(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

fn millis(secs: f64) -> u64 {
    (secs * 1000.0).ceil() as u64
}

fn at_least_one(table: &str, values: &[(&str, usize)]) -> Result<()> {
    match values.iter().find(|(_, v)| *v == 0) {
        Some((key, _)) => bail!("{table}.{key} must be at least 1"),
        None => Ok(()),
    }
}

fn positive_secs(key: &str, value: f64) -> Result<()> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        bail!("{key} must be a positive number of seconds")
    }
}

/// The mailboxes (Maildir folders under `<data_dir>/mail/`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailStorage {
    /// A mailbox that holds this much refuses more mail (452 / 552).
    pub max_mailbox_bytes: u64,
    /// Deliveries that may wait for the disk at once; while that many
    /// wait, the next message is refused with 451 (try again later).
    pub max_queued_deliveries: usize,
    /// Messages whose bytes IMAP keeps in memory, so FETCH does not read
    /// their files again (0: none are kept); least recently used out first.
    pub imap_cache_messages: usize,
    /// Bytes of messages IMAP keeps in memory at most; a message larger
    /// than a sixteenth of this is always read from its file.
    pub imap_cache_bytes: usize,
    /// Every mailbox; mail for other users of their domains gets
    /// `550 No such user here`, mail for other domains is refused.
    pub mailboxes: Vec<Mailbox>,
}

impl Default for MailStorage {
    fn default() -> Self {
        MailStorage {
            max_mailbox_bytes: 50 * 1024 * 1024,
            max_queued_deliveries: 256,
            imap_cache_messages: 100_000,
            imap_cache_bytes: 64 * 1024 * 1024,
            mailboxes: wirelab_shared::mail::store::course_accounts()
                .into_iter()
                .map(|a| Mailbox {
                    address: a.address,
                    password: a.password,
                    seed: a.seed,
                })
                .collect(),
        }
    }
}

/// One mailbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mailbox {
    pub address: String,
    /// The POP3 password (USER is the address, or its local part).
    pub password: String,
    /// Put the course's two messages (498 and 912 octets) in it when it is
    /// created or reset.
    #[serde(default)]
    pub seed: bool,
}

/// The uppercase servers of the socket chapter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UpperServer {
    pub tcp_port: u16,
    pub udp_port: u16,
    /// Start each TCP reply with `[address:port] `, the client as the
    /// server's socket saw it (through the relay: the relay's own socket).
    pub tcp_show_peer: bool,
    /// The same for each UDP reply: where the datagram came from.
    pub udp_show_peer: bool,
}

impl Default for UpperServer {
    fn default() -> Self {
        UpperServer {
            tcp_port: 12000,
            udp_port: 12000,
            tcp_show_peer: false,
            udp_show_peer: false,
        }
    }
}

/// The reference FTP server: control port, passive data ports, accounts.
/// Its files live in `<data_dir>/ftp`, filled with demo files on first start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FtpServer {
    /// The control connection's port.
    pub port: u16,
    /// The first passive data port; 0 picks a free block at start.
    pub passive_port_first: u16,
    /// How many passive data ports, from `passive_port_first` on (at most
    /// this many passive transfers at once).
    pub passive_port_count: u16,
    /// `anonymous` (and `ftp`) may log in with any password, read-only.
    pub anonymous: bool,
    /// The account that may also upload, rename and delete.
    pub student_user: String,
    pub student_password: String,
    /// Total bytes the files may take; an upload past it gets 452.
    pub quota_bytes: u64,
    /// Longest command line; a longer one gets `500` (RFC 959) and is
    /// skipped.
    pub max_line_bytes: usize,
    /// A command line must arrive within this long of its first byte, or
    /// the server answers `421` and closes (slowloris).
    pub line_timeout_secs: f64,
    /// How long a passive listener waits for its client, and an active
    /// connection for the client's answer; then `425`.
    pub data_timeout_secs: f64,
    /// How long a write to a client that does not read may wait: a data
    /// connection then fails with `426`, a control connection closes.
    pub send_timeout_secs: f64,
    /// Passive listeners one session may have waiting at once.
    pub max_passive_listeners_per_session: usize,
    /// Passive listeners waiting at once, all sessions together; past it
    /// PASV and EPSV get `425`.
    pub max_passive_listeners: usize,
    /// Commands answered `500`-`504` or `530` before the server closes the
    /// session with `421`.
    pub max_bad_commands: u32,
}

impl Default for FtpServer {
    fn default() -> Self {
        FtpServer {
            port: 2121,
            passive_port_first: 21000,
            passive_port_count: 100,
            anonymous: true,
            student_user: "student".into(),
            student_password: "student".into(),
            quota_bytes: 10 * 1024 * 1024,
            max_line_bytes: 4096,
            line_timeout_secs: 30.0,
            data_timeout_secs: 30.0,
            send_timeout_secs: 30.0,
            max_passive_listeners_per_session: 1,
            max_passive_listeners: 100,
            max_bad_commands: 50,
        }
    }
}

impl FtpServer {
    pub fn line_timeout(&self) -> Duration {
        seconds(self.line_timeout_secs)
    }

    pub fn data_timeout(&self) -> Duration {
        seconds(self.data_timeout_secs)
    }

    pub fn send_timeout(&self) -> Duration {
        seconds(self.send_timeout_secs)
    }

    fn validate(&self) -> Result<()> {
        for (key, value) in [
            ("line_timeout_secs", self.line_timeout_secs),
            ("data_timeout_secs", self.data_timeout_secs),
            ("send_timeout_secs", self.send_timeout_secs),
        ] {
            if !(value.is_finite() && value > 0.0) {
                bail!("servers.ftp.{key} must be a positive number of seconds");
            }
        }
        for (key, value) in [
            (
                "max_passive_listeners_per_session",
                self.max_passive_listeners_per_session as u64,
            ),
            ("max_passive_listeners", self.max_passive_listeners as u64),
            ("max_bad_commands", u64::from(self.max_bad_commands)),
        ] {
            if value == 0 {
                bail!("servers.ftp.{key} must be at least 1");
            }
        }
        // The longest command a client sends (a path of a few hundred bytes).
        if self.max_line_bytes < 512 {
            bail!("servers.ftp.max_line_bytes must be at least 512");
        }
        Ok(())
    }
}

impl Config {
    /// Reads a TOML file; missing keys keep their defaults.
    pub fn from_file(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the config file {}", path.display()))?;
        Self::from_toml(&text).with_context(|| format!("in the config file {}", path.display()))
    }

    pub fn from_toml(text: &str) -> Result<Config> {
        let config: Config = toml::from_str(text)?;
        config.validate()?;
        Ok(config)
    }

    /// Checks what the types cannot: rules that open something, target
    /// names, URLs, limits that allow anything at all.
    pub fn validate(&self) -> Result<()> {
        for (i, rule) in self.policy.rules.iter().enumerate() {
            rule.validate(i).map_err(anyhow::Error::msg)?;
        }
        for (i, target) in self.policy.targets.iter().enumerate() {
            target.validate(i).map_err(anyhow::Error::msg)?;
        }
        if let Some(url) = &self.public_url {
            crate::access::origin_of(url)
                .with_context(|| format!("public_url {url:?} is not an http(s) URL"))?;
        }
        for origin in &self.allowed_origins {
            if origin != "*" {
                crate::access::origin_of(origin).with_context(|| {
                    format!("allowed_origins: {origin:?} is not an origin such as https://lab.example.edu")
                })?;
            }
        }
        self.validate_local_programs()?;
        let l = &self.limits;
        for (key, value) in [
            ("max_frame_bytes", l.max_frame_bytes as u64),
            ("max_message_bytes", l.max_message_bytes as u64),
            ("max_connections", l.max_connections as u64),
            (
                "max_connections_per_client",
                l.max_connections_per_client as u64,
            ),
            (
                "max_connections_per_token",
                l.max_connections_per_token as u64,
            ),
            ("max_bytes_per_connection", l.max_bytes_per_connection),
            ("max_bytes_per_minute", l.max_bytes_per_minute),
            ("max_joins_per_minute", l.max_joins_per_minute),
            ("udp_max_reply_bytes", l.udp_max_reply_bytes as u64),
            ("min_rate_kbps", l.min_rate_kbps),
        ] {
            if value == 0 {
                bail!("limits.{key} must be at least 1");
            }
        }
        for (key, value) in [
            ("idle_timeout_secs", l.idle_timeout_secs),
            ("connect_timeout_secs", l.connect_timeout_secs),
            ("server_idle_timeout_secs", l.server_idle_timeout_secs),
            ("write_timeout_secs", l.write_timeout_secs),
        ] {
            if !(value.is_finite() && value > 0.0) {
                bail!("limits.{key} must be a positive number of seconds");
            }
        }
        self.servers.ftp.validate()?;
        if let Some(key) = &self.classroom.token_key
            && key.len() < 32
        {
            bail!("classroom.token_key must have at least 32 characters");
        }
        let r = &self.recordings;
        if !(r.keep_hours.is_finite() && r.keep_hours > 0.0) {
            bail!("recordings.keep_hours must be a positive number of hours");
        }
        if r.max_count == 0 {
            bail!("recordings.max_count must be at least 1 (use mode = \"off\" to record nothing)");
        }
        if self.classroom.token_ttl_secs == 0 {
            bail!("classroom.token_ttl_secs must be at least 1");
        }
        self.servers.http.validate()?;
        self.servers.proxy.validate()?;
        self.servers.smtp.validate()?;
        self.servers.pop3.validate()?;
        self.servers.imap.validate()?;
        self.servers.tracker.validate()?;
        self.servers.dns.validate()?;
        at_least_one(
            "servers.mail",
            &[(
                "max_queued_deliveries",
                self.servers.mail.max_queued_deliveries,
            )],
        )?;
        Ok(())
    }

    /// `local_programs` opens this machine's loopback to the page: only for
    /// a relay that no one but its user can reach.
    fn validate_local_programs(&self) -> Result<()> {
        if !self.local_programs {
            return Ok(());
        }
        let refused = "local_programs (--local-programs) lets the page reach programs on this \
                       machine, so it is only for one person's relay";
        if self.classroom.enabled {
            bail!("{refused}: it cannot be used in classroom mode");
        }
        if !self.bind.is_loopback() {
            bail!(
                "{refused}: the relay must bind a loopback address (127.0.0.1 or ::1), not {}",
                self.bind
            );
        }
        if self.public_url.is_some() {
            bail!("{refused}: a public_url means others reach the relay through a proxy");
        }
        if self.allowed_origins.iter().any(|origin| origin == "*") {
            bail!("{refused}: allowed_origins = [\"*\"] would let any web site use it");
        }
        Ok(())
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }

    /// A configuration for tests: every listener on 127.0.0.1 port 0 (the
    /// system picks free ports), data in `data_dir`.
    pub fn ephemeral(data_dir: &Path) -> Config {
        let mut config = Config {
            port: 0,
            data_dir: Some(data_dir.to_path_buf()),
            ..Config::default()
        };
        config.servers.http.port = 0;
        config.servers.book_web.port = 0;
        config.servers.upper.tcp_port = 0;
        config.servers.upper.udp_port = 0;
        config.servers.ftp.port = 0;
        config.servers.ftp.passive_port_first = 0;
        config.servers.ftp.passive_port_count = 16;
        config.servers.dns.port = 0;
        config.servers.dns.simulate_distance = false;
        config.servers.cdn.port = 0;
        config.servers.smtp.port = 0;
        config.servers.pop3.port = 0;
        config.servers.imap.port = 0;
        config.servers.tracker.port = 0;
        config.servers.proxy.port = 0;
        config.servers.proxy.origin_delay_ms = 0;
        config
    }

    /// The data directory, with the default filled in.
    pub fn data_dir(&self) -> PathBuf {
        self.data_dir.clone().unwrap_or_else(default_data_dir)
    }
}

/// `~/.local/share/wirelab` (or the platform's equivalent), falling back to
/// `./wirelab-data` where the platform has none.
pub fn default_data_dir() -> PathBuf {
    dirs::data_dir()
        .map(|d| d.join("wirelab"))
        .unwrap_or_else(|| PathBuf::from("wirelab-data"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_readme() {
        let c = Config::default();
        assert_eq!(c.bind.to_string(), "127.0.0.1");
        assert_eq!(c.port, 8080);
        assert_eq!(c.servers.upper.tcp_port, 12000);
        assert_eq!(c.servers.upper.udp_port, 12000);
        assert_eq!(c.servers.ftp.port, 2121);
        assert_eq!(c.servers.ftp.passive_port_first, 21000);
        assert_eq!(c.servers.ftp.passive_port_count, 100);
        assert_eq!(c.limits.listen_timeout_secs, 60.0);
        assert_eq!(c.servers.dns.port, 1053);
        assert!(c.servers.dns.simulate_distance);
        assert_eq!(c.servers.dns.udp_max_pending, 1024);
        assert_eq!(c.servers.dns.tcp_max_message_bytes, 4096);
        assert_eq!(c.servers.dns.tcp_max_in_flight, 16);
        assert_eq!(c.servers.dns.tcp_write_timeout(), Duration::from_secs(10));
        assert_eq!(c.servers.dns.tcp_idle_timeout(), Duration::from_secs(30));
        assert_eq!(c.servers.smtp.port, 2525);
        assert_eq!(c.servers.smtp.hostname, "hamburger.edu");
        assert_eq!(c.servers.smtp.max_line_bytes, 4096);
        assert_eq!(c.servers.mail.max_queued_deliveries, 256);
        assert_eq!(c.servers.smtp.command_timeout_secs, 60.0);
        assert_eq!(c.servers.smtp.data_timeout_secs, 300.0);
        assert_eq!(c.servers.smtp.max_errors, 20);
        assert_eq!(c.servers.smtp.max_pipelined_commands, 128);
        assert_eq!(c.servers.pop3.port, 1110);
        assert_eq!(c.servers.pop3.max_line_bytes, 1024);
        assert_eq!(c.servers.pop3.command_timeout_secs, 60.0);
        assert_eq!(c.servers.pop3.max_failed_logins, 3);
        assert_eq!(c.servers.imap.port, 1143);
        assert_eq!(c.servers.proxy.port, 3128);
        assert_eq!(c.servers.proxy.cache_max_bytes, 64 * 1024 * 1024);
        assert_eq!(c.servers.proxy.cache_max_entries, 1024);
        assert_eq!(c.servers.proxy.max_object_bytes, 1024 * 1024);
        assert_eq!(c.servers.proxy.origin_delay_ms, 100);
        assert_eq!(c.servers.imap.engine_config().limits.literal, 1024 * 1024);
        let engine = c.servers.smtp.engine_config();
        assert_eq!(
            (engine.command_timeout_ms, engine.data_timeout_ms),
            (60_000, 300_000)
        );
        let boxes: Vec<_> = c
            .servers
            .mail
            .mailboxes
            .iter()
            .map(|m| (m.address.as_str(), m.password.as_str(), m.seed))
            .collect();
        assert_eq!(
            boxes,
            [
                ("bob@hamburger.edu", "hungry", true),
                ("alice@crepes.fr", "crepes", false)
            ]
        );
    }

    #[test]
    fn local_programs_are_for_a_relay_only_its_user_reaches() {
        assert!(!Config::default().local_programs);
        let base = "local_programs = true\n";
        assert!(Config::from_toml(base).unwrap().local_programs);
        assert!(Config::from_toml(&format!("{base}bind = \"::1\"\n")).is_ok());
        for (extra, named) in [
            ("[classroom]\nenabled = true\n", "classroom mode"),
            ("bind = \"0.0.0.0\"\n", "0.0.0.0"),
            ("bind = \"10.0.0.5\"\n", "10.0.0.5"),
            ("public_url = \"https://lab.example.edu\"\n", "public_url"),
            ("allowed_origins = [\"*\"]\n", "any web site"),
        ] {
            let error = Config::from_toml(&format!("{base}{extra}")).unwrap_err();
            let text = format!("{error:#}");
            assert!(
                text.contains("local_programs") && text.contains(named),
                "{text}"
            );
        }
    }

    #[test]
    fn the_esmtp_greeting_is_off_unless_asked_for() {
        assert!(
            !Config::default()
                .servers
                .smtp
                .engine_config()
                .esmtp_greeting
        );
        let c = Config::from_toml("[servers.smtp]\nesmtp_greeting = true\n").unwrap();
        assert!(c.servers.smtp.engine_config().esmtp_greeting);
    }

    #[test]
    fn mailboxes_replace_the_defaults() {
        let c = Config::from_toml(
            "[servers.smtp]\nport = 25\n\n[[servers.mail.mailboxes]]\naddress = \"carol@example.org\"\npassword = \"x\"\n",
        )
        .unwrap();
        assert_eq!(c.servers.smtp.port, 25);
        assert_eq!(c.servers.mail.mailboxes.len(), 1);
        assert!(!c.servers.mail.mailboxes[0].seed);
        assert!(Config::from_toml("[servers.pop3]\nprot = 1\n").is_err());
    }

    #[test]
    fn file_overrides_only_what_it_names() {
        let c = Config::from_toml("port = 9000\n[servers.upper]\ntcp_port = 13000\n").unwrap();
        assert_eq!(c.port, 9000);
        assert_eq!(c.servers.upper.tcp_port, 13000);
        assert_eq!(c.servers.upper.udp_port, 12000);
        assert_eq!(c.limits, Limits::default());
    }

    #[test]
    fn bad_values_are_refused_with_their_key() {
        for (text, expected) in [
            (
                "[[policy.rules]]\nports = [80]\n",
                "names neither hosts nor cidrs",
            ),
            (
                "[[policy.rules]]\nhosts = [\"*\"]\nports = []\n",
                "lists no ports",
            ),
            ("[limits]\nmax_connections = 0\n", "limits.max_connections"),
            ("public_url = \"ftp://x\"\n", "public_url"),
            (
                "[servers.http]\nmax_trailers = 0\n",
                "servers.http.max_trailers",
            ),
            (
                "[servers.http]\nhead_timeout_secs = 0\n",
                "servers.http.head_timeout_secs",
            ),
            (
                "[servers.dns]\ntcp_max_in_flight = 0\n",
                "servers.dns.tcp_max_in_flight",
            ),
            (
                "[servers.mail]\nmax_queued_deliveries = 0\n",
                "servers.mail.max_queued_deliveries",
            ),
            (
                "[servers.dns]\ntcp_max_message_bytes = 70000\n",
                "servers.dns.tcp_max_message_bytes",
            ),
            (
                "[servers.dns]\ntcp_write_timeout_secs = 0\n",
                "servers.dns.tcp_write_timeout_secs",
            ),
            ("[classroom]\ntoken_key = \"short\"\n", "token_key"),
            (
                "[servers.smtp]\nmax_line_bytes = 100\n",
                "servers.smtp.max_line_bytes",
            ),
            (
                "[servers.smtp]\ndata_timeout_secs = 0\n",
                "servers.smtp.data_timeout_secs",
            ),
            (
                "[servers.smtp]\nmax_pipelined_commands = 0\n",
                "servers.smtp.max_pipelined_commands",
            ),
            (
                "[servers.pop3]\ncommand_timeout_secs = -1\n",
                "servers.pop3.command_timeout_secs",
            ),
            (
                "[servers.pop3]\nmax_failed_logins = 0\n",
                "servers.pop3.max_failed_logins",
            ),
            (
                "[servers.imap]\nmax_line_bytes = 100\n",
                "servers.imap.max_line_bytes",
            ),
            (
                "[servers.imap]\nmax_command_bytes = 2000\n",
                "servers.imap.max_command_bytes",
            ),
            (
                "[[policy.targets]]\nname = \"a b\"\nhost = \"x.org\"\nport = 80\n",
                "target name",
            ),
        ] {
            let err = Config::from_toml(text).unwrap_err();
            assert!(format!("{err:#}").contains(expected), "{text}: {err:#}");
        }
    }

    #[test]
    fn ftp_limits_are_checked_with_their_key() {
        for (text, expected) in [
            ("line_timeout_secs = 0.0", "servers.ftp.line_timeout_secs"),
            ("data_timeout_secs = -1.0", "servers.ftp.data_timeout_secs"),
            ("send_timeout_secs = nan", "servers.ftp.send_timeout_secs"),
            (
                "max_passive_listeners = 0",
                "servers.ftp.max_passive_listeners",
            ),
            (
                "max_passive_listeners_per_session = 0",
                "servers.ftp.max_passive_listeners_per_session",
            ),
            ("max_bad_commands = 0", "servers.ftp.max_bad_commands"),
            ("max_line_bytes = 100", "servers.ftp.max_line_bytes"),
        ] {
            let err = Config::from_toml(&format!("[servers.ftp]\n{text}\n")).unwrap_err();
            assert!(format!("{err:#}").contains(expected), "{text}: {err:#}");
        }
        let c = Config::from_toml("[servers.ftp]\nline_timeout_secs = 2.5\n").unwrap();
        assert_eq!(c.servers.ftp.line_timeout(), Duration::from_millis(2500));
        assert_eq!(c.servers.ftp.max_bad_commands, 50);
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let err = Config::from_toml("prot = 9000\n").unwrap_err();
        assert!(format!("{err:#}").contains("unknown field"), "{err:#}");
    }

    #[test]
    fn printed_config_reads_back() {
        let mut c = Config {
            data_dir: Some(PathBuf::from("/tmp/x")),
            public_url: Some("https://lab.example.edu".into()),
            allowed_origins: vec!["https://course.example.edu".into()],
            trusted_proxies: vec!["10.0.0.2".parse().unwrap()],
            ..Config::default()
        };
        c.policy = toml::from_str(
            "[[targets]]\nname = \"gaia\"\nhost = \"gaia.cs.umass.edu\"\nport = 80\nprotocol = \"http\"\n\
             [[rules]]\nhosts = [\"*.umass.edu\"]\nports = [80, \"8000-8100\"]\n",
        )
        .unwrap();
        c.classroom.enabled = true;
        c.recordings.mode = RecordingMode::Always;
        c.limits.idle_timeout_secs = 1.5;
        assert_eq!(Config::from_toml(&c.to_toml()).unwrap(), c);
        assert_eq!(c.limits.idle_timeout(), Duration::from_millis(1500));
    }
}
