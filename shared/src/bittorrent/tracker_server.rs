//! The tracker's HTTP side, one engine per connection: reads one request
//! head (bounded by [`LIMITS`]), answers `GET /announce?…` from the shared
//! [`Tracker`] with a bencoded body (a bad announce gets a `failure reason`,
//! as BEP 3 says, with status 200 so clients read it), anything else with
//! an HTTP error, and closes: one announce per connection, as clients make
//! them.
//!
//! The driver passes the client's address and the time; the tracker behind
//! the mutex is shared by every connection.

use super::announce::AnnounceRequest;
use super::tracker::Tracker;
use crate::engine::{Engine, Millis, Output};
use crate::http::frame::{Limits, find_head_end};
use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// Bounds on a request head: an announce is one line of a few hundred
/// bytes and a few headers.
pub const LIMITS: Limits = Limits {
    max_line: 4096,
    max_headers: 32,
    max_head: 8192,
    max_body: 0,
    max_chunk_line: 0,
    max_trailers: 0,
    max_trailer_bytes: 0,
};

/// What a connection reports: the request line and how it was answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackerEvent {
    pub request_line: String,
    pub status: u16,
}

/// One client connection to the tracker.
pub struct TrackerConnection {
    tracker: Arc<Mutex<Tracker>>,
    client: IpAddr,
    buffer: Vec<u8>,
    outputs: VecDeque<Output<TrackerEvent>>,
    done: bool,
}

impl TrackerConnection {
    pub fn new(tracker: Arc<Mutex<Tracker>>, client: IpAddr) -> TrackerConnection {
        TrackerConnection {
            tracker,
            client,
            buffer: Vec::new(),
            outputs: VecDeque::new(),
            done: false,
        }
    }

    fn answer(&mut self, status: u16, body: Vec<u8>, request_line: String) {
        let reason = crate::http::status::reason_phrase(status).unwrap_or("Error");
        let content_type = if status == 200 {
            "text/plain"
        } else {
            "text/plain; charset=utf-8"
        };
        let mut out = format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        out.extend_from_slice(&body);
        self.outputs.push_back(Output::Event(TrackerEvent {
            request_line,
            status,
        }));
        self.outputs.push_back(Output::Transmit(out));
        self.outputs.push_back(Output::Close);
        self.done = true;
        self.buffer = Vec::new();
    }

    /// The answer to a complete head.
    fn route(&self, head: &[u8], now: Millis) -> (u16, Vec<u8>) {
        let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
        let line = String::from_utf8_lossy(line.strip_suffix(b"\r").unwrap_or(line));
        let mut parts = line.split(' ');
        let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
            return (400, b"not an HTTP request line\n".to_vec());
        };
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        if path != "/announce" {
            return (404, b"only /announce is served here\n".to_vec());
        }
        if method != "GET" {
            return (405, b"announce with GET\n".to_vec());
        }
        let reply = match AnnounceRequest::from_query(query) {
            Ok(req) => match self.tracker.lock() {
                Ok(mut t) => t.announce(&req, self.client, now),
                Err(_) => super::announce::AnnounceReply::Failure("tracker unavailable".into()),
            },
            Err(e) => super::announce::AnnounceReply::Failure(e.to_string()),
        };
        (200, reply.encode())
    }
}

impl Engine for TrackerConnection {
    type Event = TrackerEvent;

    fn handle_input(&mut self, bytes: &[u8], now: Millis) {
        if self.done {
            return;
        }
        let room = LIMITS.max_head + 1 - self.buffer.len().min(LIMITS.max_head);
        self.buffer
            .extend_from_slice(&bytes[..bytes.len().min(room)]);
        match find_head_end(&self.buffer, &LIMITS) {
            Ok(Some(end)) => {
                let head = self.buffer[..end].to_vec();
                let first = head.split(|&b| b == b'\n').next().unwrap_or_default();
                let request_line = crate::text::visible(first).trim_end().to_string();
                let (status, body) = self.route(&head, now);
                self.answer(status, body, request_line);
            }
            Ok(None) => {}
            Err(e) => self.answer(400, format!("{e}\n").into_bytes(), String::new()),
        }
    }

    fn handle_eof(&mut self, _now: Millis) {
        if !self.done {
            self.done = true;
            self.outputs.push_back(Output::Close);
        }
    }

    fn poll_output(&mut self) -> Output<TrackerEvent> {
        self.outputs.pop_front().unwrap_or(Output::Wait(None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bittorrent::announce::{AnnounceReply, Event};
    use crate::bittorrent::tracker::TrackerLimits;
    use crate::engine::drain;

    fn connection() -> TrackerConnection {
        let tracker = Arc::new(Mutex::new(Tracker::new(TrackerLimits::default())));
        TrackerConnection::new(tracker, "127.0.0.1".parse().unwrap())
    }

    fn body(out: &[u8]) -> &[u8] {
        let at = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        &out[at + 4..]
    }

    #[test]
    fn an_announce_gets_a_bencoded_reply_and_the_connection_closes() {
        let mut c = connection();
        let req = AnnounceRequest {
            info_hash: [1; 20],
            peer_id: [2; 20],
            port: 6881,
            uploaded: 0,
            downloaded: 0,
            left: 10,
            event: Event::Started,
            compact: true,
            numwant: None,
        };
        let wire = format!(
            "GET /announce?{} HTTP/1.1\r\nHost: t\r\n\r\n",
            req.to_query()
        );
        let (a, b) = wire.as_bytes().split_at(20);
        c.handle_input(a, Millis(0));
        assert!(drain(&mut c).transmitted.is_empty());
        c.handle_input(b, Millis(1));
        let out = drain(&mut c);
        assert!(out.close);
        let bytes = out.bytes();
        assert!(bytes.starts_with(b"HTTP/1.1 200 OK\r\n"));
        assert!(matches!(
            AnnounceReply::parse(body(&bytes)),
            Ok(AnnounceReply::Peers { .. })
        ));
        assert_eq!(out.events[0].status, 200);
    }

    #[test]
    fn junk_is_answered_not_served() {
        let answer = |wire: &[u8]| {
            let mut c = connection();
            c.handle_input(wire, Millis(0));
            drain(&mut c).bytes()
        };
        let bad = answer(b"GET /announce?port=1 HTTP/1.1\r\n\r\n");
        assert_eq!(
            AnnounceReply::parse(body(&bad)),
            Ok(AnnounceReply::Failure("missing parameter info_hash".into()))
        );
        assert!(answer(b"GET / HTTP/1.1\r\n\r\n").starts_with(b"HTTP/1.1 404"));
        assert!(answer(b"POST /announce HTTP/1.1\r\n\r\n").starts_with(b"HTTP/1.1 405"));
        let long = [b"GET /announce?".as_slice(), &[b'a'; 20_000]].concat();
        assert!(answer(&long).starts_with(b"HTTP/1.1 400"));
    }
}
