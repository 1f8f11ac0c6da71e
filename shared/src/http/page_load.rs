//! A browser's page load, sans-IO: fetch a base HTML file, find the images
//! it references, and fetch them, in one of the course's four ways
//! ([`Mode`]). The caller owns the connections: it opens, writes and closes
//! them when told ([`Step`]), and feeds back what happens ([`PageLoad::opened`],
//! [`PageLoad::received`], [`PageLoad::closed`]); it times the steps with
//! its own clock. The response-time lab drives it through the relay.
//!
//! Connections are numbered from 0 in the order they are opened. Responses
//! are framed with [`frame_response`] under [`LOAD_LIMITS`], so a server
//! that sends too much fails the load instead of filling memory; a load
//! takes at most [`MAX_IMAGES`] images.

use super::frame::{Limits, Status, body_bytes, frame_response};
use super::response_time::Mode;
use std::collections::VecDeque;

/// The most images a load fetches, whatever the page references.
pub const MAX_IMAGES: usize = 32;

/// Bounds on one response of a page load.
pub const LOAD_LIMITS: Limits = Limits {
    max_line: 8 * 1024,
    max_headers: 100,
    max_head: 64 * 1024,
    max_body: 1024 * 1024,
    max_chunk_line: 1024,
    max_trailers: 32,
    max_trailer_bytes: 16 * 1024,
};

/// What the caller must do, or what happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Open connection `conn` to the server.
    Open { conn: usize },
    /// Write `bytes` on `conn`: the requests for `paths`.
    Send {
        conn: usize,
        bytes: Vec<u8>,
        paths: Vec<String>,
    },
    /// Close `conn`: nothing more will be asked on it.
    Close { conn: usize },
    /// The response for `path` has fully arrived on `conn`: `bytes` long
    /// (head and body), with `status`.
    Object {
        conn: usize,
        path: String,
        bytes: usize,
        status: u16,
    },
    /// Every object has arrived.
    Done,
    /// The load cannot go on.
    Failed(String),
}

#[derive(Debug, Default)]
struct Conn {
    open: bool,
    /// Asked on it and not answered yet, in order.
    asked: VecDeque<String>,
    buf: Vec<u8>,
    /// Closed (by us or the server): no more requests on it.
    finished: bool,
}

/// One page load.
#[derive(Debug)]
pub struct PageLoad {
    mode: Mode,
    host: String,
    base: String,
    max_images: usize,
    /// Objects known and not yet asked for, in order.
    to_ask: VecDeque<String>,
    /// The base file's images have been found (or it had none).
    images_known: bool,
    conns: Vec<Conn>,
    /// For non-persistent modes: the path each new connection will ask for.
    waiting_to_send: Vec<Option<String>>,
    steps: VecDeque<Step>,
    over: bool,
}

impl PageLoad {
    /// A load of `base` from `host` that takes the first `max_images` images.
    pub fn new(mode: Mode, host: &str, base: &str, max_images: usize) -> Self {
        PageLoad {
            mode,
            host: host.to_string(),
            base: base.to_string(),
            max_images: max_images.min(MAX_IMAGES),
            to_ask: VecDeque::new(),
            images_known: false,
            conns: Vec::new(),
            waiting_to_send: Vec::new(),
            steps: VecDeque::new(),
            over: false,
        }
    }

    /// Starts with the base file.
    pub fn start(&mut self) {
        self.to_ask.push_back(self.base.clone());
        self.schedule();
    }

    /// The next thing to do or report.
    pub fn poll(&mut self) -> Option<Step> {
        self.steps.pop_front()
    }

    /// Whether it is done or failed.
    pub fn is_over(&self) -> bool {
        self.over
    }

    /// Connection `conn` is up.
    pub fn opened(&mut self, conn: usize) {
        let Some(c) = self.conns.get_mut(conn) else {
            return;
        };
        c.open = true;
        if let Some(path) = self.waiting_to_send.get_mut(conn).and_then(Option::take) {
            self.send(conn, vec![path]);
        }
        self.schedule();
    }

    /// Bytes arrived on `conn`.
    pub fn received(&mut self, conn: usize, bytes: &[u8]) {
        if self.over {
            return;
        }
        let Some(c) = self.conns.get_mut(conn) else {
            return;
        };
        c.buf.extend_from_slice(bytes);
        loop {
            let c = &mut self.conns[conn];
            if c.asked.is_empty() {
                if !c.buf.is_empty() {
                    return self.fail(format!(
                        "connection {} sent bytes nobody asked for",
                        conn + 1
                    ));
                }
                break;
            }
            match frame_response(&c.buf, Some("GET"), &LOAD_LIMITS) {
                Ok(Status::Complete(frame)) => {
                    let body = body_bytes(&c.buf, &frame);
                    let status = status_code(&c.buf);
                    let rest = c.buf.split_off(frame.len);
                    c.buf = rest;
                    let path = c.asked.pop_front().unwrap_or_default();
                    self.answered(conn, path, frame.len, status, &body);
                }
                Ok(Status::Partial | Status::UntilClose { .. }) => break,
                Err(e) => return self.fail(format!("connection {}: {e}", conn + 1)),
            }
        }
        self.schedule();
    }

    /// The server closed `conn` (or it failed).
    pub fn closed(&mut self, conn: usize) {
        let Some(c) = self.conns.get_mut(conn) else {
            return;
        };
        c.finished = true;
        if let Some(path) = c.asked.front().cloned() {
            self.fail(format!(
                "the server closed connection {} before answering {path}",
                conn + 1
            ));
        }
    }

    fn fail(&mut self, why: String) {
        if !self.over {
            self.over = true;
            self.steps.push_back(Step::Failed(why));
        }
    }

    fn answered(&mut self, conn: usize, path: String, bytes: usize, status: u16, body: &[u8]) {
        if path == self.base && !self.images_known {
            self.images_known = true;
            let base = self.base.clone();
            let images = image_paths(body, &base, self.max_images);
            self.to_ask.extend(images);
        }
        self.steps.push_back(Step::Object {
            conn,
            path,
            bytes,
            status,
        });
        if !self.reuses_connections() {
            self.finish(conn);
        }
    }

    fn finish(&mut self, conn: usize) {
        if let Some(c) = self.conns.get_mut(conn)
            && !c.finished
        {
            c.finished = true;
            self.steps.push_back(Step::Close { conn });
        }
    }

    fn reuses_connections(&self) -> bool {
        matches!(self.mode, Mode::Persistent | Mode::Pipelined)
    }

    /// Connections that may be busy at once now: parallel ones only once
    /// the base file has said what to fetch.
    fn max_busy(&self) -> usize {
        match self.mode {
            Mode::Parallel { m } if self.images_known => m.max(1),
            _ => 1,
        }
    }

    fn busy(&self) -> usize {
        self.conns.iter().filter(|c| !c.finished).count()
    }

    fn outstanding(&self) -> bool {
        self.conns.iter().any(|c| !c.asked.is_empty())
            || self.waiting_to_send.iter().any(Option::is_some)
    }

    fn schedule(&mut self) {
        if self.over {
            return;
        }
        if self.reuses_connections() {
            self.schedule_on_one();
        } else {
            while self.busy() < self.max_busy() {
                let Some(path) = self.to_ask.pop_front() else {
                    break;
                };
                let conn = self.open_new();
                self.waiting_to_send[conn] = Some(path);
            }
        }
        if self.images_known && self.to_ask.is_empty() && !self.outstanding() {
            if self.reuses_connections() {
                self.finish(0);
            }
            self.over = true;
            self.steps.push_back(Step::Done);
        }
    }

    /// Persistent modes: one connection, asked when it is idle.
    fn schedule_on_one(&mut self) {
        if self.conns.is_empty() {
            self.open_new();
            return;
        }
        let c = &self.conns[0];
        if !c.open || c.finished || !c.asked.is_empty() || self.to_ask.is_empty() {
            return;
        }
        let paths: Vec<String> = match self.mode {
            Mode::Pipelined => self.to_ask.drain(..).collect(),
            _ => self.to_ask.pop_front().into_iter().collect(),
        };
        self.send(0, paths);
    }

    fn open_new(&mut self) -> usize {
        let conn = self.conns.len();
        self.conns.push(Conn::default());
        self.waiting_to_send.push(None);
        self.steps.push_back(Step::Open { conn });
        conn
    }

    fn send(&mut self, conn: usize, paths: Vec<String>) {
        let close = !self.reuses_connections();
        let mut bytes = Vec::new();
        for path in &paths {
            bytes.extend(request(&self.host, path, close));
        }
        self.conns[conn].asked.extend(paths.iter().cloned());
        self.steps.push_back(Step::Send { conn, bytes, paths });
    }
}

/// A GET as a browser sends it; `close` asks for a non-persistent connection.
pub fn request(host: &str, path: &str, close: bool) -> Vec<u8> {
    let connection = if close { "Connection: close\r\n" } else { "" };
    format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n{connection}\r\n").into_bytes()
}

/// The status code of the response at the front of `buf` (0 if unreadable).
fn status_code(buf: &[u8]) -> u16 {
    let line = buf.split(|b| *b == b'\n').next().unwrap_or_default();
    std::str::from_utf8(line)
        .ok()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|code| code.trim().parse().ok())
        .unwrap_or(0)
}

/// The `src` of each `<img>` of an HTML body, as paths on the same server
/// (relative ones resolved against `base`), at most `max` of them.
pub fn image_paths(html: &[u8], base: &str, max: usize) -> Vec<String> {
    let text = String::from_utf8_lossy(html);
    let lower = text.to_ascii_lowercase();
    let dir = &base[..base.rfind('/').map_or(0, |i| i + 1)];
    let mut paths = Vec::new();
    let mut at = 0;
    while paths.len() < max {
        let Some(tag) = lower[at..].find("<img").map(|i| at + i) else {
            break;
        };
        let end = lower[tag..].find('>').map_or(lower.len(), |i| tag + i);
        if let Some(src) = attribute(&text[tag..end], &lower[tag..end], "src") {
            if src.starts_with('/') {
                paths.push(src.to_string());
            } else if !src.contains(':') && !src.is_empty() {
                paths.push(format!("{dir}{src}"));
            }
        }
        at = end;
    }
    paths
}

/// The quoted value of `name=` in a tag (`lower` is `tag` in lower case).
fn attribute<'a>(tag: &'a str, lower: &str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=");
    let start = lower.find(&key)? + key.len();
    let quote = tag[start..].chars().next()?;
    if quote != '"' && quote != '\'' {
        return None;
    }
    let value_start = start + 1;
    let len = tag[value_start..].find(quote)?;
    Some(&tag[value_start..value_start + len])
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "/someDepartment/home.index";

    fn page(images: usize) -> Vec<u8> {
        let mut html = String::from("<html><body><h1>home</h1>\n");
        for i in 1..=images {
            html.push_str(&format!("<img src=\"/img/p{i}.jpg\" alt=\"{i}\">\n"));
        }
        html.push_str("</body></html>");
        response(html.as_bytes())
    }

    fn response(body: &[u8]) -> Vec<u8> {
        let mut r =
            format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
        r.extend_from_slice(body);
        r
    }

    fn drain(load: &mut PageLoad) -> Vec<Step> {
        std::iter::from_fn(|| load.poll()).collect()
    }

    /// Plays the server: opens every connection at once, answers every
    /// request whole; returns every step and the most connections open at
    /// once.
    fn run(mode: Mode, images: usize) -> (Vec<Step>, usize) {
        let mut load = PageLoad::new(mode, "www.someSchool.edu", BASE, 10);
        load.start();
        let (mut all, mut open, mut most) = (Vec::new(), 0usize, 0usize);
        let mut pending: VecDeque<Step> = drain(&mut load).into();
        while let Some(step) = pending.pop_front() {
            match &step {
                Step::Open { conn } => {
                    open += 1;
                    most = most.max(open);
                    load.opened(*conn);
                }
                Step::Send { conn, paths, .. } => {
                    let mut answer = Vec::new();
                    for path in paths {
                        answer.extend(if path == BASE {
                            page(images)
                        } else {
                            response(b"jpeg")
                        });
                    }
                    load.received(*conn, &answer);
                }
                Step::Close { .. } => open -= 1,
                _ => {}
            }
            all.push(step);
            pending.extend(drain(&mut load));
        }
        (all, most)
    }

    fn count(steps: &[Step], f: impl Fn(&Step) -> bool) -> usize {
        steps.iter().filter(|s| f(s)).count()
    }

    #[test]
    fn non_persistent_opens_one_connection_per_object_one_at_a_time() {
        let (steps, most) = run(Mode::NonPersistent, 10);
        assert_eq!(count(&steps, |s| matches!(s, Step::Open { .. })), 11);
        assert_eq!(count(&steps, |s| matches!(s, Step::Object { .. })), 11);
        assert_eq!(most, 1);
        assert_eq!(steps.last(), Some(&Step::Done));
        let Step::Send { bytes, .. } = &steps[1] else {
            panic!("{steps:?}")
        };
        assert!(bytes.ends_with(b"Connection: close\r\n\r\n"));
    }

    #[test]
    fn parallel_keeps_m_connections_busy_after_the_base() {
        let (steps, most) = run(Mode::Parallel { m: 5 }, 10);
        assert_eq!(count(&steps, |s| matches!(s, Step::Open { .. })), 11);
        assert_eq!(most, 5);
        assert_eq!(steps.last(), Some(&Step::Done));
    }

    #[test]
    fn persistent_asks_one_object_at_a_time_on_one_connection() {
        let (steps, most) = run(Mode::Persistent, 10);
        assert_eq!(count(&steps, |s| matches!(s, Step::Open { .. })), 1);
        assert_eq!(
            count(
                &steps,
                |s| matches!(s, Step::Send { paths, .. } if paths.len() == 1)
            ),
            11
        );
        assert_eq!(most, 1);
        let n = steps.len();
        assert_eq!(steps[n - 2..], [Step::Close { conn: 0 }, Step::Done]);
        let Step::Send { bytes, .. } = &steps[1] else {
            panic!("{steps:?}")
        };
        assert!(!bytes.windows(10).any(|w| w == b"Connection"));
    }

    #[test]
    fn pipelining_sends_every_image_request_in_one_write() {
        let (steps, _) = run(Mode::Pipelined, 10);
        let sends: Vec<usize> = steps
            .iter()
            .filter_map(|s| match s {
                Step::Send { paths, .. } => Some(paths.len()),
                _ => None,
            })
            .collect();
        assert_eq!(sends, [1, 10]);
        assert_eq!(count(&steps, |s| matches!(s, Step::Object { .. })), 11);
    }

    #[test]
    fn the_student_chooses_how_many_images() {
        let mut load = PageLoad::new(Mode::Pipelined, "h", BASE, 3);
        load.start();
        load.opened(0);
        drain(&mut load);
        load.received(0, &page(10));
        let steps = drain(&mut load);
        let Some(Step::Send { paths, .. }) = steps.last() else {
            panic!("{steps:?}")
        };
        assert_eq!(paths, &["/img/p1.jpg", "/img/p2.jpg", "/img/p3.jpg"]);
    }

    #[test]
    fn responses_split_anywhere_are_framed_whole() {
        let mut load = PageLoad::new(Mode::Persistent, "h", BASE, 10);
        load.start();
        load.opened(0);
        drain(&mut load);
        let whole = page(2);
        for byte in &whole {
            load.received(0, std::slice::from_ref(byte));
        }
        let steps = drain(&mut load);
        assert!(
            matches!(&steps[0], Step::Object { bytes, status: 200, .. } if *bytes == whole.len()),
            "{steps:?}"
        );
    }

    #[test]
    fn a_server_that_misbehaves_fails_the_load() {
        let mut load = PageLoad::new(Mode::Persistent, "h", BASE, 10);
        load.start();
        load.opened(0);
        load.closed(0);
        assert!(matches!(drain(&mut load).last(), Some(Step::Failed(why)) if why.contains(BASE)));
        assert!(load.is_over());
        // Bytes nobody asked for.
        let mut load = PageLoad::new(Mode::NonPersistent, "h", BASE, 10);
        load.start();
        load.opened(0);
        let mut twice = page(0);
        twice.extend(page(0));
        load.received(0, &twice);
        assert!(matches!(drain(&mut load).last(), Some(Step::Failed(_))));
        // A body over the bound.
        let mut load = PageLoad::new(Mode::NonPersistent, "h", BASE, 10);
        load.start();
        load.opened(0);
        load.received(0, b"HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n");
        assert!(matches!(drain(&mut load).last(), Some(Step::Failed(_))));
    }

    proptest::proptest! {
        /// Whatever a server sends, in whatever pieces, the load neither
        /// panics nor keeps more than one response's bound per connection,
        /// and it ends at most once.
        #[test]
        fn any_server_bytes_are_survived(
            chunks in proptest::collection::vec(
                (0usize..3, proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)),
                0..40,
            ),
            pipelined in proptest::prelude::any::<bool>(),
        ) {
            let mode = if pipelined { Mode::Pipelined } else { Mode::Parallel { m: 2 } };
            let mut load = PageLoad::new(mode, "h", BASE, 10);
            load.start();
            let mut ends = 0;
            for conn in 0..3 {
                load.opened(conn);
            }
            for (conn, bytes) in chunks {
                load.received(conn, &bytes);
                for step in drain(&mut load) {
                    if let Step::Open { conn } = step {
                        load.opened(conn);
                    }
                    ends += usize::from(matches!(step, Step::Done | Step::Failed(_)));
                }
                let bound = LOAD_LIMITS.max_head + LOAD_LIMITS.max_body + 300;
                proptest::prop_assert!(load.conns.iter().all(|c| c.buf.len() <= bound));
            }
            proptest::prop_assert!(ends <= 1);
        }
    }

    #[test]
    fn image_sources_are_found_and_resolved() {
        let html = b"<p><IMG alt='x' SRC='a.jpg'><img src=\"/b.gif\"><img src=\"http://elsewhere/c\"><img alt=none>";
        assert_eq!(
            image_paths(html, "/dir/page.html", 10),
            ["/dir/a.jpg", "/b.gif"]
        );
        assert_eq!(image_paths(html, "/dir/page.html", 1), ["/dir/a.jpg"]);
        assert!(image_paths(b"<img", "/", 10).is_empty());
    }
}
