//! The reference web server's connection engine (sans-IO): it frames the
//! requests arriving on one connection, answers each in order through the
//! [`WebSite`], and decides when the connection ends.
//!
//! - Persistence: HTTP/1.1 keeps the connection open unless the request
//!   says `Connection: close`; HTTP/1.0 closes after each response unless it
//!   asks for `Connection: keep-alive`. An idle persistent connection is
//!   closed after the site's `keep_alive_secs`.
//! - Pipelining: requests that arrive back to back are answered in order; a
//!   delayed response (`/delay/<ms>`) holds back the ones behind it.
//! - Bad requests get 400 (or 505 for an unsupported version, 413/431 for
//!   oversized ones) with an explanation, and the connection closes.
//!
//! The driver passes `now` on its monotonic clock; the site's
//! `clock_epoch_unix` says which wall-clock second `Millis(0)` is, for the
//! Date header.

use super::dissect::dissect_request;
use super::frame::{FrameError, Limits, Status, body_bytes, frame_request};
use super::message::{HeaderLineKind, StartLine, Version, VersionProblem, parse_head, text};
use super::response::{Response, Wire, escape};
use super::site::{Reply, Request, RequestContext, WebSite};
use crate::dissect::Severity;
use crate::engine::{Engine, Millis, Output};
use std::collections::VecDeque;
use std::sync::Arc;

/// Requests answered on one connection before the server closes it.
pub const MAX_REQUESTS_PER_CONNECTION: u32 = 100;

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
    clock_epoch_unix: i64,
    limits: Limits,
    buffer: Vec<u8>,
    outputs: VecDeque<Output<HttpServerEvent>>,
    pending: Option<Pending>,
    idle_deadline: Option<Millis>,
    /// No more requests are read: the connection closes after what is queued.
    closing: bool,
    closed: bool,
    peer_eof: bool,
    served: u32,
}

impl HttpServerConnection {
    pub fn new(site: Arc<WebSite>, endpoints: Endpoints, clock_epoch_unix: i64) -> Self {
        HttpServerConnection {
            site,
            endpoints,
            clock_epoch_unix,
            limits: Limits {
                max_body: 4 * 1024 * 1024,
                ..Limits::default()
            },
            buffer: Vec::new(),
            outputs: VecDeque::new(),
            pending: None,
            idle_deadline: None,
            closing: false,
            closed: false,
            peer_eof: false,
            served: 0,
        }
    }

    fn now_unix(&self, now: Millis) -> i64 {
        self.clock_epoch_unix + (now.0 / 1000) as i64
    }

    fn process(&mut self, now: Millis) {
        while self.pending.is_none() && !self.closing && !self.closed {
            match frame_request(&self.buffer, &self.limits) {
                Ok(Status::Complete(frame)) => {
                    let raw: Vec<u8> = self.buffer.drain(..frame.len).collect();
                    let body = body_bytes(&raw, &frame);
                    self.answer(raw, frame.head_end, body, now);
                }
                Ok(Status::Partial) => break,
                // Requests are never framed until close.
                Ok(Status::UntilClose { .. }) => break,
                Err(e) => {
                    let raw = std::mem::take(&mut self.buffer);
                    self.reject(&raw, frame_error_status(&e), &e.to_string(), now);
                }
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
        self.idle_deadline = if self.pending.is_none() && !self.closing {
            Some(now.saturating_add(self.site.keep_alive_secs.saturating_mul(1000)))
        } else {
            None
        };
    }

    /// Answers a complete request (or rejects it).
    fn answer(&mut self, raw: Vec<u8>, head_end: usize, body: Vec<u8>, now: Millis) {
        let head = parse_head(&raw[..head_end]);
        let StartLine::Request {
            method,
            target,
            version,
            extra_spaces,
        } = head.start.clone()
        else {
            return self.reject(
                &raw,
                400,
                "the first line is not a request line (`GET /index.html HTTP/1.1`)",
                now,
            );
        };
        let version = match version.map(|v| Version::parse(text(&raw, v))) {
            Some(Ok(v)) => v,
            Some(Err(VersionProblem::Unsupported)) => {
                let written = version.map(|v| text(&raw, v)).unwrap_or("");
                return self.reject(
                    &raw,
                    505,
                    &format!("this server speaks HTTP/1.0 and HTTP/1.1, not {written}"),
                    now,
                );
            }
            Some(Err(VersionProblem::Malformed)) => {
                return self.reject(
                    &raw,
                    400,
                    "the version must be written HTTP/1.1 or HTTP/1.0",
                    now,
                );
            }
            None => {
                return self.reject(
                    &raw,
                    400,
                    "the request line has no version: end it with HTTP/1.1",
                    now,
                );
            }
        };
        let broken_head = extra_spaces
            || head.lines.iter().any(|l| match l.kind {
                HeaderLineKind::NoColon | HeaderLineKind::Continuation => true,
                HeaderLineKind::Field {
                    space_before_colon,
                    name,
                    ..
                } => space_before_colon || name.is_empty(),
            });
        let fields = head.fields(&raw);
        let hosts = fields
            .iter()
            .filter(|f| f.name.eq_ignore_ascii_case("host"))
            .count();
        if broken_head || (version == Version::Http11 && hosts != 1) || hosts > 1 {
            return self.reject(&raw, 400, "the request breaks the message syntax", now);
        }
        let request = Request {
            method: text(&raw, method).to_string(),
            target: text(&raw, target).to_string(),
            version,
            headers: fields
                .iter()
                .map(|f| (f.name.to_string(), f.value.clone()))
                .collect(),
            body,
            raw: raw.clone(),
        };
        let ctx = RequestContext {
            remote_addr: self.endpoints.remote_ip.clone(),
            local_addr: self.endpoints.local_ip.clone(),
            now_unix: self.now_unix(now),
        };
        let reply = self.site.respond(&request, &ctx);
        self.served += 1;
        let wants_close = match version {
            Version::Http11 => request.header_has_token("Connection", "close"),
            Version::Http10 => !request.header_has_token("Connection", "keep-alive"),
        };
        let persistent = !wants_close && self.served < MAX_REQUESTS_PER_CONNECTION;
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

    fn with_common_headers(&self, mut response: Response, now: Millis) -> Response {
        let mut common = vec![
            (
                "Date".to_string(),
                super::date::format_imf(self.now_unix(now)),
            ),
            ("Server".to_string(), self.site.server_header.clone()),
        ];
        common.append(&mut response.headers);
        response.headers = common;
        response
    }

    /// Answers a bad request with `status` and closes: after a framing or
    /// syntax error the server cannot trust where the next request starts.
    fn reject(&mut self, raw: &[u8], status: u16, summary: &str, now: Millis) {
        let problems: Vec<String> = dissect_request(raw)
            .diagnostics
            .into_iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| match d.reference {
                Some(r) => format!("<li>{} ({})</li>", escape(&d.message), escape(&r)),
                None => format!("<li>{}</li>", escape(&d.message)),
            })
            .collect();
        let details = if problems.is_empty() {
            String::new()
        } else {
            format!("<ul>\n{}\n</ul>", problems.join("\n"))
        };
        let title = format!(
            "{status} {}",
            super::status::reason_phrase(status).unwrap_or("Error")
        );
        let response = Response::html(
            status,
            &title,
            &format!("<p>{}.</p>\n{details}", escape(summary)),
        );
        let response = self
            .with_common_headers(response, now)
            .header("Connection", "close");
        let (bytes, _) = response.to_bytes(Wire {
            request_version: Version::Http11,
            head_only: false,
            accepts_trailers: false,
        });
        let method = match parse_head(raw).start {
            StartLine::Request { method, .. } => text(raw, method).to_string(),
            _ => String::new(),
        };
        self.closing = true;
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
}

fn frame_error_status(e: &FrameError) -> u16 {
    match e {
        FrameError::LineTooLong { .. }
        | FrameError::TooManyHeaders { .. }
        | FrameError::HeadTooLarge { .. } => 431,
        FrameError::BodyTooLarge { .. } => 413,
        _ => 400,
    }
}

impl Engine for HttpServerConnection {
    type Event = HttpServerEvent;

    fn handle_input(&mut self, bytes: &[u8], now: Millis) {
        if self.closing || self.closed {
            return;
        }
        self.buffer.extend_from_slice(bytes);
        self.process(now);
    }

    fn handle_eof(&mut self, now: Millis) {
        self.peer_eof = true;
        if !self.closed {
            self.process(now);
        }
    }

    fn handle_timeout(&mut self, now: Millis) {
        if let Some(pending) = &self.pending
            && now >= pending.at
        {
            let Pending {
                bytes,
                event,
                close_after,
                ..
            } = self.pending.take().expect("checked above");
            self.emit(bytes, event, close_after);
            if !self.closed {
                self.process(now);
            }
            return;
        }
        if let Some(deadline) = self.idle_deadline
            && now >= deadline
            && self.pending.is_none()
            && !self.closed
        {
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
        let deadline = match (&self.pending, self.idle_deadline) {
            (Some(p), _) => Some(p.at),
            (None, d) => d,
        };
        Output::Wait(deadline)
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
        // The 400 explains what the dissector found.
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
