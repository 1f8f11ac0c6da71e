//! Fuzz bodies for HTTP: the framer, the head parser and the dissectors
//! over any bytes (and the CDN route's reading of a page's images), and
//! the reference web server's connection engine.

use super::{check, follow};
use crate::engine::{Drained, Engine, Millis, drain};
use crate::http::frame::{Limits, Status, frame_request, frame_response};
use crate::http::server::{Endpoints, HttpServerConnection, HttpServerEvent};
use crate::http::site::WebSite;
use crate::http::store::MemoryFileStore;
use std::sync::Arc;

/// Small limits, so the fuzzer reaches every "too large" branch with
/// short inputs. Any limit the framer gains later keeps its default (the
/// update names every field today, hence the allow).
#[allow(clippy::needless_update)]
fn small_limits() -> Limits {
    Limits {
        max_line: 256,
        max_headers: 16,
        max_head: 1024,
        max_body: 1024,
        ..Limits::default()
    }
}

/// The framer consumes a stream message by message; what it frames, the
/// dissectors and the conversation follower take apart without panicking.
pub fn http(data: &[u8]) {
    check(&crate::http::dissect_request(data), data);
    check(&crate::http::dissect_response_to(data, Some("HEAD")), data);
    check(&crate::http::dissect_message(data), data);
    let small = small_limits();
    let mut rest = data;
    // Each round consumes at least one byte, so this ends.
    while let Ok(Status::Complete(frame)) = frame_request(rest, &small) {
        assert!(frame.len > 0 && frame.len <= rest.len());
        assert!(frame.head_end <= frame.len);
        check(
            &crate::http::dissect_request(&rest[..frame.len]),
            &rest[..frame.len],
        );
        rest = &rest[frame.len..];
    }
    for method in [Some("GET"), Some("HEAD"), None] {
        if let Ok(Status::Complete(frame)) = frame_response(data, method, &small) {
            assert!(frame.len <= data.len() && frame.head_end <= frame.len);
        }
    }
    follow(
        &mut crate::http::conversation::HttpConversation::new(),
        data,
    );
    cdn_page(data);
}

/// The relay reads a base page's images for `/api/cdn/route`: however the
/// page is written, the URLs taken stay within their bounds, and a URL
/// that splits splits into pieces of itself.
fn cdn_page(data: &[u8]) {
    use crate::http::cdn_route::{MAX_OBJECTS, MAX_URL, image_urls, split_url};
    let urls = image_urls(&String::from_utf8_lossy(data));
    assert!(urls.len() <= MAX_OBJECTS);
    for url in &urls {
        assert!(url.len() <= MAX_URL);
        if let Some((host, _, path)) = split_url(url) {
            assert!(!host.is_empty() && url.contains(host) && url.contains(path));
        }
    }
}

/// What any one response may add to the connection beyond the request it
/// answers: the head, an error page, the largest file of the demo site.
const RESPONSE_ALLOWANCE: usize = 16 * 1024;

/// The reference web server, fed any bytes as one connection: requests
/// split across two reads, delayed responses released, the peer's end of
/// stream. Whatever it sends must frame as exactly the responses it
/// reports, and their size must be bounded by what it was asked.
pub fn http_server(data: &[u8]) {
    let site = Arc::new(WebSite::new(
        Arc::new(MemoryFileStore::new()),
        WebSite::default_credentials(),
    ));
    let largest_file = site.files.values().map(|f| f.body.len()).max().unwrap_or(0);
    let mut server = HttpServerConnection::new(
        site,
        Endpoints {
            remote_ip: "127.0.0.1".into(),
            local_ip: "127.0.0.1".into(),
        },
        1_700_000_000,
    );
    let out = drive_with_delays(&mut server, data);
    let served: Vec<&str> = out
        .events
        .iter()
        .filter_map(|e| match e {
            HttpServerEvent::Served { method, .. } => Some(method.as_str()),
            _ => None,
        })
        .collect();
    let sent = out.bytes();
    let bound = served.len() * (largest_file + RESPONSE_ALLOWANCE) + 8 * data.len();
    assert!(
        sent.len() <= bound,
        "{} bytes answered, more than {bound}",
        sent.len()
    );
    assert_frames_as_responses(&sent, &served);
}

/// Feeds `data` in two reads, lets every delay and idle timer expire, and
/// ends the stream; returns all the engine put out.
fn drive_with_delays(server: &mut HttpServerConnection, data: &[u8]) -> Drained<HttpServerEvent> {
    let (a, b) = data.split_at(data.len() / 2);
    let mut all = Drained {
        transmitted: Vec::new(),
        events: Vec::new(),
        close: false,
        deadline: None,
    };
    let mut now = Millis(0);
    for piece in [a, b] {
        server.handle_input(piece, now);
        super::append(&mut all, drain(server));
        // A `/delay/<ms>` response holds back the pipeline: release it,
        // as many times as there may be delayed requests queued.
        for _ in 0..crate::http::server::MAX_REQUESTS_PER_CONNECTION {
            let Some(deadline) = all.deadline.filter(|d| d.0 < 15_000 + now.0) else {
                break;
            };
            now = deadline;
            server.handle_timeout(now);
            super::append(&mut all, drain(server));
        }
    }
    server.handle_eof(now);
    super::append(&mut all, drain(server));
    // Each timer releases a delayed response or ends the connection.
    for _ in 0..=crate::http::server::MAX_REQUESTS_PER_CONNECTION {
        let Some(deadline) = all.deadline else { break };
        now = deadline.max(now);
        server.handle_timeout(now);
        super::append(&mut all, drain(server));
    }
    assert_eq!(all.deadline, None, "the timers never ran out");
    assert!(all.close, "the stream ended, so did the connection");
    all
}

/// `sent` must be exactly one response for each method served, in order:
/// a client that trusts the framing reads them all and finds nothing left
/// over.
fn assert_frames_as_responses(sent: &[u8], served: &[&str]) {
    let mut rest = sent;
    for (i, &method) in served.iter().enumerate() {
        let last = i + 1 == served.len();
        match response_len(rest, method) {
            Some(len) if !last || len == rest.len() => rest = &rest[len..],
            // A request the server rejects (400, 431, 505...) is the last
            // on its connection, and its error page has a body even when
            // the request line said HEAD: the server did not accept it as
            // a HEAD request.
            _ if last && response_len(rest, "GET") == Some(rest.len()) => rest = &[],
            _ => panic!("the response to {method} does not frame"),
        }
    }
    assert!(
        rest.is_empty(),
        "{} bytes sent beyond the responses",
        rest.len()
    );
}

/// The length of the response at the front of `bytes`, answering `method`.
fn response_len(bytes: &[u8], method: &str) -> Option<usize> {
    let limits = Limits {
        max_body: usize::MAX,
        ..Limits::default()
    };
    match frame_response(bytes, Some(method), &limits) {
        Ok(Status::Complete(frame)) => Some(frame.len),
        Ok(Status::UntilClose { .. }) => Some(bytes.len()),
        _ => None,
    }
}
