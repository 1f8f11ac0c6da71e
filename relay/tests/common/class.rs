//! Classroom helpers shared by the classroom, instructor and isolation
//! tests: a classroom relay's config, making a class, joining, signing in,
//! and reading a Server-Sent Events feed.

use super::TestRelay;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wirelab_relay::config::Config;

pub const SECRET: &str = "instructor-secret-for-tests";
pub const KEY: &str = "0123456789abcdef0123456789abcdef-test-key";

pub fn classroom(c: &mut Config) {
    c.classroom.enabled = true;
    c.classroom.instructor_secret = Some(SECRET.into());
    c.classroom.token_key = Some(KEY.into());
}

pub fn instructor() -> String {
    format!("Authorization: Bearer {SECRET}")
}

pub fn bearer(token: &str) -> String {
    format!("Authorization: Bearer {token}")
}

/// Makes a class through the API; returns its JSON.
pub async fn make_class(relay: &TestRelay, body: &str) -> serde_json::Value {
    let (status, _, body) = relay
        .request(
            "POST",
            "/api/classes",
            &[&instructor(), "Content-Type: application/json"],
            body,
        )
        .await;
    assert_eq!(status, 201, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// Joins through the API; returns the whole answer (`token`, `student`).
pub async fn join_json(relay: &TestRelay, code: &str, name: &str) -> serde_json::Value {
    let (status, head, body) = relay
        .request(
            "POST",
            "/api/join",
            &["Content-Type: application/json"],
            &serde_json::json!({"code": code, "name": name}).to_string(),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        head.to_ascii_lowercase()
            .contains("set-cookie: wirelab_token="),
        "{head}"
    );
    serde_json::from_str(&body).unwrap()
}

/// Joins through the API; returns the token.
pub async fn join(relay: &TestRelay, code: &str, name: &str) -> String {
    join_json(relay, code, name).await["token"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The value (`name=value`) of the `Set-Cookie` line of a response head.
pub fn set_cookie(head: &str) -> String {
    let line = head
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .unwrap_or_else(|| panic!("no Set-Cookie in {head}"));
    line.split_once(':').unwrap().1.trim().to_string()
}

/// Signs in as the instructor; returns the `Cookie:` header line.
pub async fn sign_in(relay: &TestRelay) -> String {
    let (status, head, body) = relay
        .request(
            "POST",
            "/api/instructor/session",
            &["Content-Type: application/json"],
            &serde_json::json!({ "secret": SECRET }).to_string(),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let cookie = set_cookie(&head);
    format!("Cookie: {}", cookie.split(';').next().unwrap())
}

/// The relay's own page, as a browser names it in `Origin`.
pub fn own_origin(relay: &TestRelay) -> String {
    format!("Origin: http://{}", relay.relay.addr)
}

/// An open `text/event-stream` response, read event by event.
pub struct EventFeed {
    stream: TcpStream,
    buffer: String,
}

impl EventFeed {
    /// Opens `path` with `headers`; panics unless it answers 200.
    pub async fn open(relay: &TestRelay, path: &str, headers: &[&str]) -> EventFeed {
        let mut stream = TcpStream::connect(relay.relay.addr).await.unwrap();
        let mut request = format!("GET {path} HTTP/1.1\r\nHost: {}\r\n", relay.relay.addr);
        for h in headers {
            request.push_str(&format!("{h}\r\n"));
        }
        request.push_str("\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut feed = EventFeed {
            stream,
            buffer: String::new(),
        };
        let head = feed.read_until("\r\n\r\n").await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert!(head.contains("text/event-stream"), "{head}");
        feed
    }

    async fn read_until(&mut self, end: &str) -> String {
        loop {
            if let Some(at) = self.buffer.find(end) {
                let taken = self.buffer[..at + end.len()].to_string();
                self.buffer.drain(..at + end.len());
                return taken;
            }
            let mut chunk = [0u8; 4096];
            let n = tokio::time::timeout(Duration::from_secs(5), self.stream.read(&mut chunk))
                .await
                .expect("an event within 5 s")
                .unwrap();
            assert!(n > 0, "the feed ended");
            self.buffer.push_str(&String::from_utf8_lossy(&chunk[..n]));
        }
    }

    /// The next event of kind `kind` (others are skipped), as JSON. The
    /// body is chunked: the chunk sizes are lines of their own, skipped.
    pub async fn next_of(&mut self, kind: &str) -> serde_json::Value {
        loop {
            let block = self.read_until("\n\n").await;
            let mut event = None;
            let mut data = None;
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event: ").or(line.strip_prefix("event:")) {
                    event = Some(v.trim().to_string());
                }
                if let Some(v) = line.strip_prefix("data: ").or(line.strip_prefix("data:")) {
                    data = Some(v.trim().to_string());
                }
            }
            if event.as_deref() == Some(kind) {
                return serde_json::from_str(&data.unwrap_or_default()).unwrap();
            }
        }
    }
}
