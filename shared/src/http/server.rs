//! The reference web server's connection engine (sans-IO): it frames the
//! requests arriving on one connection, answers each in order through the
//! [`WebSite`], and decides when the connection ends.
//!
//! - Persistence: HTTP/1.1 keeps the connection open unless the request
//!   says `Connection: close`; HTTP/1.0 closes after each response unless it
//!   asks for `Connection: keep-alive`. An idle persistent connection is
//!   closed after the site's `keep_alive_secs`.
//! - Pipelining: requests that arrive back to back are answered in order; a
//!   delayed response (`/delay/<ms>`) holds back the ones behind it. One
//!   read gets at most [`ServerLimits::max_pipelined`] answers, or fewer once
//!   they add up to [`ServerLimits::max_pipelined_bytes`]; the last says
//!   `Connection: close` when more wait, so a client that pipelines without
//!   reading cannot make the server queue answers without end.
//! - Limits: a request past one of the framer's [`Limits`] gets 431 (head,
//!   header lines, trailers), 414 (request line), 413 (body) or 400 (broken
//!   framing), and one that has started but not completed in time gets 408;
//!   each explains itself, and the connection closes.
//! - Bad requests get 400 (or 505 for an unsupported version) with an
//!   explanation from the strict parser, and the connection closes. The
//!   teaching dissector is not run here.
//!
//! The driver passes `now` on its monotonic clock; the site's
//! `clock_epoch_unix` says which wall-clock second `Millis(0)` is, for the
//! Date header.

use super::frame::{FrameError, Limits, RequestFramer, Status, body_bytes};
use super::message::{Head, HeaderLineKind, StartLine, Version, VersionProblem, parse_head, text};
use super::response::{Response, Wire, escape};
use super::site::{Reply, Request, RequestContext, WebSite};
use crate::engine::{Engine, Millis, Output};
use std::collections::VecDeque;
use std::sync::Arc;

/// Requests answered on one connection before the server closes it.
pub const MAX_REQUESTS_PER_CONNECTION: u32 = 100;

/// Bounds on one connection: the framer's, and time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    pub frame: Limits,
    /// A request's head must have arrived this long after its first byte
    /// (else 408).
    pub head_timeout_ms: u64,
    /// The whole request, head and body, must have arrived this long after
    /// its first byte (else 408).
    pub request_timeout_ms: u64,
    /// Most requests answered from one read; the last of them closes the
    /// connection if more are waiting behind it.
    pub max_pipelined: u32,
    /// Once the answers to one read add up to this many bytes, the next
    /// one closes the connection if more requests wait behind it.
    pub max_pipelined_bytes: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            frame: Limits::default(),
            // A student typing a request by hand (telnet, the line
            // workbench) needs about as long as for an SMTP command line.
            head_timeout_ms: 60_000,
            request_timeout_ms: 120_000,
            max_pipelined: 16,
            max_pipelined_bytes: 1024 * 1024,
        }
    }
}

/// What the server engine reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpServerEvent {
    /// A request was answered.
    Served {
        method: String,
        target: String,
        status: u16,
        /// Whether the connection stays open after it.
        persistent: bool,
    },
    /// The persistent connection sat idle too long.
    IdleTimeout,
}

/// Where the connection comes from and goes to.
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub remote_ip: String,
    pub local_ip: String,
}

struct Pending {
    at: Millis,
    bytes: Vec<u8>,
    event: HttpServerEvent,
    close_after: bool,
}

/// One connection of the reference web server.
pub struct HttpServerConnection {
    site: Arc<WebSite>,
    endpoints: Endpoints,
    /// The server's port, for SERVER_PORT, when a socket has one.
    local_port: Option<u16>,
    clock_epoch_unix: i64,
    limits: ServerLimits,
    framer: RequestFramer,
    buffer: Vec<u8>,
    outputs: VecDeque<Output<HttpServerEvent>>,
    pending: Option<Pending>,
    /// When the request being read started to arrive (its time bounds run
    /// from there).
    request_started: Option<Millis>,
    /// When the connection last fell idle, with nothing buffered; `None`
    /// before anything arrived (the driver's own idle timeout covers that).
    idle_since: Option<Millis>,
    /// Requests answered since the last `handle_*` call began.
    answered_in_batch: u32,
    /// Bytes of the answers to those requests.
    queued_in_batch: usize,
    /// No more requests are read: the connection closes after what is queued.
    closing: bool,
    closed: bool,
    peer_eof: bool,
    served: u32,
    /// The last `Date` value and the second it was written for: formatting
    /// it for each of many requests a second cost more than the answer.
    date: (i64, String),
}

impl HttpServerConnection {
    pub fn new(site: Arc<WebSite>, endpoints: Endpoints, clock_epoch_unix: i64) -> Self {
        let limits = ServerLimits::default();
        HttpServerConnection {
            site,
            endpoints,
            local_port: None,
            clock_epoch_unix,
            limits,
            framer: RequestFramer::new(limits.frame),
            buffer: Vec::new(),
            outputs: VecDeque::new(),
            pending: None,
            date: (i64::MIN, String::new()),
            request_started: None,
            idle_since: None,
            answered_in_batch: 0,
            queued_in_batch: 0,
            closing: false,
            closed: false,
            peer_eof: false,
            served: 0,
        }
    }

    /// The same connection with other bounds (the relay's configuration).
    pub fn with_limits(mut self, limits: ServerLimits) -> Self {
        self.limits = limits;
        self.framer = RequestFramer::new(limits.frame);
        self
    }

    /// The port the server's socket listens on, shown as SERVER_PORT.
    pub fn with_local_port(mut self, port: u16) -> Self {
        self.local_port = Some(port);
        self
    }

    /// A `handle_*` call begins: the pipelining bounds count from here.
    fn new_batch(&mut self) {
        self.answered_in_batch = 0;
        self.queued_in_batch = 0;
    }

    fn now_unix(&self, now: Millis) -> i64 {
        self.clock_epoch_unix + (now.0 / 1000) as i64
    }

    fn process(&mut self, now: Millis) {
        while self.pending.is_none() && !self.closing && !self.closed {
            match self.framer.next(&self.buffer) {
                Ok(Status::Complete(frame)) => {
                    self.request_started = None;
                    let raw: Vec<u8> = self.buffer.drain(..frame.len).collect();
                    let body = body_bytes(&raw, &frame);
                    self.answer(raw, frame.head_end, body, now);
                }
                // Requests are never framed until close.
                Ok(Status::Partial | Status::UntilClose { .. }) => break,
                Err(e) => self.reject_framing(&e, now),
            }
        }
        if self.closed {
            return;
        }
        if self.peer_eof && self.pending.is_none() && !self.closing {
            // The client closed its side: nothing more can come.
            self.closing = true;
            self.outputs.push_back(Output::Close);
            self.closed = true;
            return;
        }
        if self.pending.is_none() && !self.closing {
            if self.buffer.is_empty() {
                self.request_started = None;
                self.idle_since = Some(now);
            } else if only_empty_lines(&self.buffer) {
                // A stray CR LF after a request (RFC 9112 §2.2) starts
                // nothing: the connection is still idle, not late.
                self.request_started = None;
                self.idle_since.get_or_insert(now);
            } else if self.request_started.is_none() {
                self.request_started = Some(now);
            }
        }
    }

    /// When the request being read must be complete: its head within the
    /// head timeout, all of it within the request timeout.
    fn request_deadline(&self) -> Option<Millis> {
        let started = self.request_started?;
        let whole = started.saturating_add(self.limits.request_timeout_ms);
        if self.framer.head_complete() {
            return Some(whole);
        }
        Some(whole.min(started.saturating_add(self.limits.head_timeout_ms)))
    }

    fn idle_deadline(&self) -> Option<Millis> {
        let keep_alive_ms = self.site.keep_alive_secs.saturating_mul(1000);
        Some(self.idle_since?.saturating_add(keep_alive_ms))
    }

    /// Answers a complete request (or rejects it).
    fn answer(&mut self, raw: Vec<u8>, head_end: usize, body: Vec<u8>, now: Millis) {
        let head = parse_head(&raw[..head_end]);
        let StartLine::Request {
            method,
            target,
            version,
            ..
        } = head.start.clone()
        else {
            return self.reject(
                String::new(),
                400,
                "the first line is not a request line (`GET /index.html HTTP/1.1`)",
                now,
            );
        };
        let method = text(&raw, method).to_string();
        let version = match version.map(|v| Version::parse(text(&raw, v))) {
            Some(Ok(v)) => v,
            Some(Err(VersionProblem::Unsupported)) => {
                let written = version.map(|v| text(&raw, v)).unwrap_or("");
                return self.reject(
                    method,
                    505,
                    &format!("this server speaks HTTP/1.0 and HTTP/1.1, not {written}"),
                    now,
                );
            }
            Some(Err(VersionProblem::Malformed)) => {
                return self.reject(
                    method,
                    400,
                    "the version must be written HTTP/1.1 or HTTP/1.0",
                    now,
                );
            }
            None => {
                return self.reject(
                    method,
                    400,
                    "the request line has no version: end it with HTTP/1.1",
                    now,
                );
            }
        };
        if let Some(problem) = syntax_problem(&head, &raw, version) {
            return self.reject(method, 400, &problem, now);
        }
        let request = Request {
            method,
            target: text(&raw, target).to_string(),
            version,
            headers: head
                .fields(&raw)
                .iter()
                .map(|f| (f.name.to_string(), f.value.clone()))
                .collect(),
            body,
            raw,
        };
        let ctx = RequestContext {
            remote_addr: self.endpoints.remote_ip.clone(),
            local_addr: self.endpoints.local_ip.clone(),
            local_port: self.local_port,
            now_unix: self.now_unix(now),
        };
        let reply = self.site.respond(&request, &ctx);
        self.served += 1;
        self.answered_in_batch += 1;
        let wants_close = match version {
            Version::Http11 => request.header_has_token("Connection", "close"),
            Version::Http10 => !request.header_has_token("Connection", "keep-alive"),
        };
        // More requests wait behind this one than one read may answer.
        let pipeline_full = (self.answered_in_batch >= self.limits.max_pipelined
            || self.queued_in_batch >= self.limits.max_pipelined_bytes)
            && !self.buffer.is_empty();
        let persistent =
            !wants_close && !pipeline_full && self.served < MAX_REQUESTS_PER_CONNECTION;
        self.send(reply, &request, persistent, now);
    }

    fn send(&mut self, reply: Reply, request: &Request, persistent: bool, now: Millis) {
        let Reply { response, delay_ms } = reply;
        let mut response = self.with_common_headers(response, now);
        if persistent {
            if request.version == Version::Http10 {
                response = response.header("Connection", "keep-alive").header(
                    "Keep-Alive",
                    format!(
                        "timeout={}, max={}",
                        self.site.keep_alive_secs,
                        MAX_REQUESTS_PER_CONNECTION - self.served
                    ),
                );
            }
        } else {
            response = response.header("Connection", "close");
        }
        let (bytes, close_delimited) = response.to_bytes(Wire {
            request_version: request.version,
            head_only: request.method == "HEAD",
            accepts_trailers: request.header_has_token("TE", "trailers"),
        });
        let close_after = !persistent || close_delimited;
        self.queued_in_batch = self.queued_in_batch.saturating_add(bytes.len());
        let event = HttpServerEvent::Served {
            method: request.method.clone(),
            target: request.target.clone(),
            status: response.status,
            persistent: !close_after,
        };
        if close_after {
            self.closing = true;
        }
        if delay_ms > 0 {
            self.pending = Some(Pending {
                at: now.saturating_add(delay_ms),
                bytes,
                event,
                close_after,
            });
        } else {
            self.emit(bytes, event, close_after);
        }
    }

    fn emit(&mut self, bytes: Vec<u8>, event: HttpServerEvent, close_after: bool) {
        self.outputs.push_back(Output::Transmit(bytes));
        self.outputs.push_back(Output::Event(event));
        if close_after {
            self.outputs.push_back(Output::Close);
            self.closed = true;
        }
    }

    fn with_common_headers(&mut self, mut response: Response, now: Millis) -> Response {
        let mut common = vec![
            ("Date".to_string(), self.date_header(now)),
            ("Server".to_string(), self.site.server_header.clone()),
        ];
        common.append(&mut response.headers);
        response.headers = common;
        response
    }

    /// The `Date` value for `now`, formatted once per second.
    fn date_header(&mut self, now: Millis) -> String {
        let unix = self.now_unix(now);
        if self.date.0 != unix {
            self.date = (unix, super::date::format_imf(unix));
        }
        self.date.1.clone()
    }

    /// Sends the delayed answer once its time has come, then reads on.
    fn send_delayed_if_due(&mut self, now: Millis) {
        let Some(pending) = self.pending.take_if(|p| now >= p.at) else {
            return;
        };
        self.emit(pending.bytes, pending.event, pending.close_after);
        if !self.closed {
            self.process(now);
        }
    }

    /// The request being read is late: 408, and what came of it is dropped.
    fn time_out_request(&mut self, now: Millis) {
        let method = leading_method(&self.buffer);
        self.buffer = Vec::new();
        let summary = if self.framer.head_complete() {
            "the request's body did not arrive in time"
        } else {
            "the request's head did not arrive in time (it ends with an empty line)"
        };
        self.reject(method, 408, summary, now);
    }

    /// Answers a request that crossed a limit or cannot be framed; what was
    /// buffered of it is dropped.
    fn reject_framing(&mut self, error: &FrameError, now: Millis) {
        let method = leading_method(&self.buffer);
        self.buffer = Vec::new();
        self.reject(method, error.status(), &error.to_string(), now);
    }

    /// Answers a bad request with `status` and closes: after a framing or
    /// syntax error the server cannot trust where the next request starts.
    fn reject(&mut self, method: String, status: u16, summary: &str, now: Millis) {
        let title = format!(
            "{status} {}",
            super::status::reason_phrase(status).unwrap_or("Error")
        );
        let response = Response::html(status, &title, &format!("<p>{}.</p>\n", escape(summary)));
        let response = self
            .with_common_headers(response, now)
            .header("Connection", "close");
        let (bytes, _) = response.to_bytes(Wire {
            request_version: Version::Http11,
            head_only: false,
            accepts_trailers: false,
        });
        self.closing = true;
        self.request_started = None;
        self.emit(
            bytes,
            HttpServerEvent::Served {
                method,
                target: String::new(),
                status,
                persistent: false,
            },
            true,
        );
    }

    /// While a delayed answer holds the pipeline back nothing is framed, so
    /// what arrives meanwhile is bounded by the most one request may hold;
    /// past that the connection closes after the delayed answer.
    fn buffer_while_delayed(&mut self, bytes: &[u8]) {
        let most = self.limits.frame.max_head + self.limits.frame.max_body;
        if self.buffer.len() + bytes.len() <= most {
            self.buffer.extend_from_slice(bytes);
            return;
        }
        self.buffer = Vec::new();
        self.closing = true;
        if let Some(pending) = &mut self.pending {
            pending.close_after = true;
        }
    }
}

/// What makes a request's head break the message syntax (RFC 9112 §2.2,
/// §3.2, §5), said for the student; `None` if nothing does.
fn syntax_problem(head: &Head, raw: &[u8], version: Version) -> Option<String> {
    if let StartLine::Request {
        extra_spaces: true, ..
    } = head.start
    {
        return Some(
            "the request line must be method, target and version separated by single spaces".into(),
        );
    }
    for line in &head.lines {
        let shown = text(raw, line.content);
        let problem = match line.kind {
            HeaderLineKind::NoColon => format!("the header line `{shown}` has no colon"),
            HeaderLineKind::Continuation => format!(
                "the line `{shown}` starts with a space: folding a header over several lines is obsolete and refused"
            ),
            HeaderLineKind::Field {
                space_before_colon: true,
                ..
            } => format!("in `{shown}`, no space is allowed between the field name and its colon"),
            HeaderLineKind::Field { name, .. } if name.is_empty() => {
                format!("the header line `{shown}` has no field name before its colon")
            }
            HeaderLineKind::Field { .. } => continue,
        };
        return Some(problem);
    }
    let hosts = head
        .fields(raw)
        .iter()
        .filter(|f| f.name.eq_ignore_ascii_case("host"))
        .count();
    match (version, hosts) {
        (Version::Http11, 0) => Some("an HTTP/1.1 request must have a Host header".into()),
        (_, n) if n > 1 => Some("a request must not have more than one Host header".into()),
        _ => None,
    }
}

fn only_empty_lines(buffer: &[u8]) -> bool {
    buffer.iter().all(|b| matches!(b, b'\r' | b'\n'))
}

/// The method at the start of what was buffered of a request, if it looks
/// like one (for the event of a refused request).
fn leading_method(buffer: &[u8]) -> String {
    let start = buffer
        .iter()
        .position(|b| !matches!(b, b'\r' | b'\n'))
        .unwrap_or(buffer.len());
    let rest = &buffer[start..buffer.len().min(start + 32)];
    let end = rest.iter().position(|&b| b == b' ').unwrap_or(0);
    let method = &rest[..end];
    if method.iter().all(u8::is_ascii_alphabetic) {
        String::from_utf8_lossy(method).into_owned()
    } else {
        String::new()
    }
}

impl Engine for HttpServerConnection {
    type Event = HttpServerEvent;

    fn handle_input(&mut self, bytes: &[u8], now: Millis) {
        self.new_batch();
        if self.closing || self.closed {
            return;
        }
        if self.pending.is_some() {
            return self.buffer_while_delayed(bytes);
        }
        self.buffer.extend_from_slice(bytes);
        self.process(now);
    }

    fn handle_eof(&mut self, now: Millis) {
        self.new_batch();
        self.peer_eof = true;
        if !self.closed {
            self.process(now);
        }
    }

    fn handle_timeout(&mut self, now: Millis) {
        self.new_batch();
        if self.closed {
            return;
        }
        if self.pending.is_some() {
            return self.send_delayed_if_due(now);
        }
        if self.closing {
            return;
        }
        if let Some(deadline) = self.request_deadline() {
            if now >= deadline {
                self.time_out_request(now);
            }
            return;
        }
        if self.idle_deadline().is_some_and(|deadline| now >= deadline) {
            self.outputs
                .push_back(Output::Event(HttpServerEvent::IdleTimeout));
            self.outputs.push_back(Output::Close);
            self.closed = true;
            self.closing = true;
        }
    }

    fn poll_output(&mut self) -> Output<HttpServerEvent> {
        if let Some(out) = self.outputs.pop_front() {
            return out;
        }
        if self.closed {
            return Output::Wait(None);
        }
        if let Some(pending) = &self.pending {
            return Output::Wait(Some(pending.at));
        }
        if self.closing {
            return Output::Wait(None);
        }
        Output::Wait(self.request_deadline().or_else(|| self.idle_deadline()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::drain;
    use crate::http::frame::{Status as FrameStatus, frame_response};
    use crate::http::store::MemoryFileStore;

    fn server() -> HttpServerConnection {
        let site = WebSite::new(
            Arc::new(MemoryFileStore::new()),
            WebSite::default_credentials(),
        );
        HttpServerConnection::new(
            Arc::new(site),
            Endpoints {
                remote_ip: "127.0.0.1".into(),
                local_ip: "127.0.0.1".into(),
            },
            1_700_000_000,
        )
    }

    /// Splits a byte stream into responses, given the methods asked.
    fn responses(mut bytes: &[u8], methods: &[&str]) -> Vec<String> {
        let mut out = Vec::new();
        for m in methods {
            match frame_response(bytes, Some(m), &Limits::default()).unwrap() {
                FrameStatus::Complete(f) => {
                    out.push(String::from_utf8_lossy(&bytes[..f.len]).to_string());
                    bytes = &bytes[f.len..];
                }
                FrameStatus::UntilClose { .. } => {
                    out.push(String::from_utf8_lossy(bytes).to_string());
                    bytes = &[];
                }
                FrameStatus::Partial => panic!("partial response"),
            }
        }
        assert!(
            bytes.is_empty(),
            "left over: {}",
            String::from_utf8_lossy(bytes)
        );
        out
    }

    #[test]
    fn pipelined_requests_are_answered_in_order_on_one_connection() {
        let mut s = server();
        s.handle_input(
            b"GET /somedir/page.html HTTP/1.1\r\nHost: a\r\n\r\nHEAD /fruit/kiwi.gif HTTP/1.1\r\nHost: a\r\n\r\nGET /nope HTTP/1.1\r\nHost: a\r\n\r\n",
            Millis(0),
        );
        let out = drain(&mut s);
        assert!(!out.close);
        let r = responses(&out.bytes(), &["GET", "HEAD", "GET"]);
        assert!(r[0].starts_with(
            "HTTP/1.1 200 OK\r\nDate: Tue, 14 Nov 2023 22:13:20 GMT\r\nServer: wirelab/"
        ));
        assert!(
            r[1].starts_with("HTTP/1.1 200 OK")
                && r[1].ends_with("\r\n\r\n")
                && r[1].contains("Content-Length: 565")
        );
        assert!(r[2].starts_with("HTTP/1.1 404 Not Found"));
        assert_eq!(out.deadline, Some(Millis(60_000)));
        // Idle too long: the server closes.
        s.handle_timeout(Millis(60_000));
        let out = drain(&mut s);
        assert!(out.close);
        assert_eq!(out.events, vec![HttpServerEvent::IdleTimeout]);
    }

    #[test]
    fn connection_close_and_http_1_0_end_the_connection() {
        let mut s = server();
        s.handle_input(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", Millis(0));
        let out = drain(&mut s);
        assert!(out.close);
        let text = String::from_utf8(out.bytes()).unwrap();
        assert_eq!(
            text.matches("HTTP/1.1 200").count(),
            1,
            "the second request is not answered"
        );
        assert!(text.contains("Connection: close\r\n"));

        let mut s = server();
        s.handle_input(b"GET /ross/index.html HTTP/1.0\r\n\r\n", Millis(0));
        let out = drain(&mut s);
        assert!(out.close);

        let mut s = server();
        s.handle_input(
            b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
            Millis(0),
        );
        let out = drain(&mut s);
        assert!(!out.close);
        let text = String::from_utf8(out.bytes()).unwrap();
        assert!(
            text.contains("Connection: keep-alive\r\nKeep-Alive: timeout=60, max=99\r\n"),
            "{text}"
        );
    }

    #[test]
    fn a_delayed_response_holds_back_the_pipeline() {
        let mut s = server();
        s.handle_input(b"GET /delay/500 HTTP/1.1\r\nHost: a\r\n\r\nGET /index.html HTTP/1.1\r\nHost: a\r\n\r\n", Millis(1000));
        let out = drain(&mut s);
        assert!(out.transmitted.is_empty());
        assert_eq!(out.deadline, Some(Millis(1500)));
        s.handle_timeout(Millis(1499));
        assert!(drain(&mut s).transmitted.is_empty());
        s.handle_timeout(Millis(1500));
        let out = drain(&mut s);
        let r = responses(&out.bytes(), &["GET", "GET"]);
        assert!(r[0].contains("Delayed answer"));
        assert!(r[1].contains("The wirelab reference web server"));
    }

    #[test]
    fn bad_requests_get_400_505_and_close() {
        for (request, status) in [
            (&b"GET / HTTP/1.1\r\n\r\n"[..], "400"),
            (
                b"GET / HTTP/1.1\r\nHost: a\r\nConnection close\r\n\r\n",
                "400",
            ),
            (b"GET / HTTP/1.1\r\nHost : a\r\n\r\n", "400"),
            (b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", "505"),
            (b"GET /\r\n\r\n", "400"),
            (
                b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n",
                "400",
            ),
            (b"get / HTTP/1.1\r\nHost: a\r\n\r\n", "501"),
        ] {
            let mut s = server();
            s.handle_input(request, Millis(0));
            let out = drain(&mut s);
            let text = String::from_utf8(out.bytes()).unwrap();
            assert!(
                text.starts_with(&format!("HTTP/1.1 {status} ")),
                "{}: {text}",
                String::from_utf8_lossy(request)
            );
            if status != "501" {
                assert!(out.close, "{}", String::from_utf8_lossy(request));
            }
        }
        // The 400 explains what the strict parser found.
        let mut s = server();
        s.handle_input(
            b"GET / HTTP/1.1\r\nHost: a\r\nConnection close\r\n\r\n",
            Millis(0),
        );
        let text = String::from_utf8(drain(&mut s).bytes()).unwrap();
        assert!(text.contains("has no colon"), "{text}");
    }

    #[test]
    fn requests_split_across_reads_and_a_half_close() {
        let mut s = server();
        let request = b"POST /cgi/show HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 13\r\n\r\nprenom=Hugues";
        for byte in request.iter() {
            s.handle_input(std::slice::from_ref(byte), Millis(0));
        }
        let out = drain(&mut s);
        let text = String::from_utf8(out.bytes()).unwrap();
        assert!(text.contains("<td>prenom</td><td>Hugues</td>"), "{text}");
        // The client half-closes: the server finishes and closes too.
        s.handle_eof(Millis(1));
        assert!(drain(&mut s).close);
    }

    /// The status line and the events of a refused request, checking
    /// that it says `Connection: close` and closes.
    fn refused(out: &crate::engine::Drained<HttpServerEvent>) -> String {
        let text = String::from_utf8(out.bytes()).unwrap();
        assert!(out.close, "{text}");
        assert!(text.contains("\r\nConnection: close\r\n"), "{text}");
        text.lines().next().unwrap_or_default().to_string()
    }

    #[test]
    fn a_trailer_flood_gets_431_without_being_buffered() {
        let mut s = server();
        s.handle_input(
            b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n",
            Millis(0),
        );
        assert!(drain(&mut s).transmitted.is_empty());
        let line = format!("X-Flood: {}\r\n", "f".repeat(990));
        let mut sent = 0;
        let out = loop {
            s.handle_input(line.as_bytes(), Millis(1));
            sent += line.len();
            assert!(s.buffer.len() <= 64 * 1024, "{} bytes kept", s.buffer.len());
            let out = drain(&mut s);
            if !out.transmitted.is_empty() || sent > 1_000_000 {
                break out;
            }
        };
        assert_eq!(
            refused(&out),
            "HTTP/1.1 431 Request Header Fields Too Large"
        );
        assert!(
            sent <= 16 * 1024 + line.len(),
            "{sent} bytes of trailers taken"
        );
        assert!(s.buffer.is_empty());
        // Nothing more is taken in.
        s.handle_input(line.as_bytes(), Millis(2));
        assert!(s.buffer.is_empty());
        assert_eq!(drain(&mut s).transmitted, Vec::<Vec<u8>>::new());
    }

    #[test]
    fn oversized_heads_and_bodies_get_431_414_413() {
        let mut many = b"GET / HTTP/1.1\r\nHost: a\r\n".to_vec();
        for i in 0..200 {
            many.extend_from_slice(format!("X-{i}: 1\r\n").as_bytes());
        }
        let mut big = b"GET / HTTP/1.1\r\nHost: a\r\n".to_vec();
        for _ in 0..70 {
            big.extend_from_slice(format!("X-Big: {}\r\n", "b".repeat(1000)).as_bytes());
        }
        let long_line = format!("GET / HTTP/1.1\r\nHost: a\r\nX-Long: {}", "l".repeat(9000));
        let long_target = format!("GET /{} HTTP/1.1\r\n", "t".repeat(9000));
        let huge_body = b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999\r\n\r\n";
        for (request, status) in [
            (&many[..], "431 Request Header Fields Too Large"),
            (&big[..], "431 Request Header Fields Too Large"),
            (long_line.as_bytes(), "431 Request Header Fields Too Large"),
            (long_target.as_bytes(), "414 URI Too Long"),
            (&huge_body[..], "413 Content Too Large"),
        ] {
            let mut s = server();
            s.handle_input(request, Millis(0));
            let out = drain(&mut s);
            assert_eq!(refused(&out), format!("HTTP/1.1 {status}"));
            assert!(matches!(
                &out.events[..],
                [HttpServerEvent::Served {
                    persistent: false,
                    ..
                }]
            ));
        }
    }

    #[test]
    fn a_request_that_never_completes_gets_408() {
        let ServerLimits {
            head_timeout_ms: head,
            request_timeout_ms: whole,
            ..
        } = ServerLimits::default();
        // A head that stops halfway: 408 once the head timeout passes.
        let mut s = server();
        s.handle_input(b"GET / HTTP/1.1\r\nHost: a\r\n", Millis(5_000));
        let out = drain(&mut s);
        assert!(out.transmitted.is_empty());
        assert_eq!(out.deadline, Some(Millis(5_000 + head)));
        // More of the head does not push the deadline back.
        s.handle_input(b"Accept: */*\r\n", Millis(4_000 + head));
        assert_eq!(drain(&mut s).deadline, Some(Millis(5_000 + head)));
        s.handle_timeout(Millis(4_999 + head));
        assert!(drain(&mut s).transmitted.is_empty());
        s.handle_timeout(Millis(5_000 + head));
        let out = drain(&mut s);
        assert_eq!(refused(&out), "HTTP/1.1 408 Request Timeout");
        assert!(matches!(
            &out.events[..],
            [HttpServerEvent::Served { method, status: 408, .. }] if method == "GET"
        ));

        // A body that stops halfway: 408 once the request timeout passes.
        let mut s = server();
        s.handle_input(
            b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nhalf",
            Millis(0),
        );
        assert_eq!(drain(&mut s).deadline, Some(Millis(whole)));
        s.handle_timeout(Millis(whole));
        assert_eq!(refused(&drain(&mut s)), "HTTP/1.1 408 Request Timeout");

        // Between requests the keep-alive timeout applies, not these.
        let mut s = server();
        s.handle_input(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", Millis(0));
        assert_eq!(drain(&mut s).deadline, Some(Millis(60_000)));
        // A stray CR LF after a request is not the start of one.
        s.handle_input(b"\r\n", Millis(500));
        assert_eq!(drain(&mut s).deadline, Some(Millis(60_000)));
        s.handle_input(b"GET / HT", Millis(1_000));
        assert_eq!(drain(&mut s).deadline, Some(Millis(1_000 + head)));
    }

    #[test]
    fn the_time_bounds_come_from_the_limits() {
        let mut s = server().with_limits(ServerLimits {
            head_timeout_ms: 1_000,
            request_timeout_ms: 1_500,
            ..ServerLimits::default()
        });
        // Nothing arrived yet: only the driver's idle timeout runs.
        assert_eq!(drain(&mut s).deadline, None);
        s.handle_input(b"POST /echo HTTP/1.1\r\n", Millis(100));
        assert_eq!(drain(&mut s).deadline, Some(Millis(1_100)));
        s.handle_input(b"Host: a\r\nContent-Length: 3\r\n\r\n", Millis(900));
        assert_eq!(drain(&mut s).deadline, Some(Millis(1_600)));
        s.handle_input(b"abc", Millis(1_000));
        let out = drain(&mut s);
        assert!(
            String::from_utf8(out.bytes())
                .unwrap()
                .starts_with("HTTP/1.1 200 OK")
        );
        assert!(!out.close);
    }

    #[test]
    fn pipelining_without_reading_is_bounded() {
        let mut s = server();
        let many = b"GET /fruit/kiwi.gif HTTP/1.1\r\nHost: a\r\n\r\n".repeat(40);
        s.handle_input(&many, Millis(0));
        let out = drain(&mut s);
        assert!(out.close);
        let methods = vec!["GET"; 16];
        let answers = responses(&out.bytes(), &methods);
        assert!(
            answers[..15]
                .iter()
                .all(|r| !r.contains("Connection: close"))
        );
        assert!(
            answers[15].contains("\r\nConnection: close\r\n"),
            "{}",
            answers[15]
        );
        // Large answers cut the batch short sooner.
        let mut s = server().with_limits(ServerLimits {
            max_pipelined_bytes: 1,
            ..ServerLimits::default()
        });
        s.handle_input(&many, Millis(0));
        let out = drain(&mut s);
        assert!(out.close);
        let answers = responses(&out.bytes(), &["GET"; 2]);
        assert!(!answers[0].contains("Connection: close"));
        assert!(answers[1].contains("\r\nConnection: close\r\n"));
        // Twenty sent one read at a time are all answered.
        let mut s = server();
        for _ in 0..20 {
            s.handle_input(&many[..many.len() / 40], Millis(0));
        }
        let out = drain(&mut s);
        assert!(!out.close);
        assert_eq!(out.events.len(), 20);
    }

    #[test]
    fn what_arrives_behind_a_delayed_answer_is_bounded() {
        let mut s = server();
        s.handle_input(b"GET /delay/500 HTTP/1.1\r\nHost: a\r\n\r\n", Millis(0));
        assert_eq!(drain(&mut s).deadline, Some(Millis(500)));
        let flood = vec![b'x'; 64 * 1024];
        for _ in 0..100 {
            s.handle_input(&flood, Millis(1));
            assert!(s.buffer.len() <= 64 * 1024 + 4 * 1024 * 1024);
        }
        s.handle_timeout(Millis(500));
        let out = drain(&mut s);
        assert!(String::from_utf8_lossy(&out.bytes()).contains("Delayed answer"));
        assert!(out.close);
    }

    #[test]
    fn chunked_for_1_1_close_delimited_for_1_0() {
        let mut s = server();
        s.handle_input(
            b"GET /chunked HTTP/1.1\r\nHost: a\r\nTE: trailers\r\n\r\n",
            Millis(0),
        );
        let text = String::from_utf8(drain(&mut s).bytes()).unwrap();
        assert!(text.contains("Transfer-Encoding: chunked\r\n"));
        assert!(text.ends_with("0\r\nX-Chunk-Count: 4\r\n\r\n"));
        let mut s = server();
        s.handle_input(b"GET /chunked HTTP/1.0\r\n\r\n", Millis(0));
        let out = drain(&mut s);
        assert!(out.close);
        let text = String::from_utf8(out.bytes()).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(!head.contains("Content-Length"), "{head}");
        assert!(body.ends_with("</html>\n"));
    }
}
