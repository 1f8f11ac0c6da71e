//! Helpers for the relay's integration tests: start a relay on free ports
//! and speak relay protocol v1 to it with a real WebSocket client.
#![allow(dead_code)]

pub mod class;

use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use wirelab_relay::config::Config;
use wirelab_relay::policy::resolver::StaticResolver;
use wirelab_relay::{Relay, RelayOptions};
use wirelab_shared::relay_protocol::{ErrorCode, RelayMessage};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What a WebSocket can run over: a plain socket, or a TLS stream (the
/// nginx test's).
pub trait Stream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin {}
impl<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin> Stream for S {}

/// A relay on free ports with its own data directory, removed on drop.
pub struct TestRelay {
    pub relay: Relay,
    pub _data: tempfile::TempDir,
}

pub async fn start(adjust: impl FnOnce(&mut Config)) -> TestRelay {
    start_with(adjust, RelayOptions::default()).await
}

/// A relay whose host names resolve through `resolver` (no DNS).
pub async fn start_resolving(
    adjust: impl FnOnce(&mut Config),
    resolver: StaticResolver,
) -> TestRelay {
    start_with(
        adjust,
        RelayOptions {
            resolver: resolver.into_arc(),
        },
    )
    .await
}

pub async fn start_with(adjust: impl FnOnce(&mut Config), options: RelayOptions) -> TestRelay {
    let data = tempfile::tempdir().unwrap();
    let mut config = Config::ephemeral(data.path());
    config.dist = data.path().join("no-dist");
    adjust(&mut config);
    let relay = Relay::start_with(config, options)
        .await
        .expect("relay starts");
    TestRelay { relay, _data: data }
}

/// The error the relay sends first, then its close frame with `close`.
pub async fn expect_error<S: Stream>(ws: &mut WebSocketStream<S>) -> (ErrorCode, String) {
    match next_relay_message(ws).await {
        RelayMessage::Error { code, message, .. } => (code, message),
        other => panic!("expected an error, got {other:?}"),
    }
}

/// Waits for `connected` and returns it as JSON (with any optional fields).
pub async fn expect_connected<S: Stream>(ws: &mut WebSocketStream<S>) -> serde_json::Value {
    match next(ws).await {
        Message::Text(text) => {
            let json: serde_json::Value = serde_json::from_str(text.as_str()).unwrap();
            assert_eq!(json["type"], "connected", "{text}");
            json
        }
        other => panic!("expected connected, got {other:?}"),
    }
}

/// A TCP server on 127.0.0.1 that echoes what it reads, prefixed with
/// `tag`, until the relay closes. Returns its port.
pub async fn echo_tcp(tag: &'static [u8]) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                loop {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            let mut reply = tag.to_vec();
                            reply.extend_from_slice(&buf[..n]);
                            if stream.write_all(&reply).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    port
}

impl TestRelay {
    pub fn url(&self, query: &str) -> String {
        format!("ws://{}/ws?{query}", self.relay.addr)
    }

    /// Opens `/ws?query` announcing the `wirelab.v1` subprotocol, and checks
    /// that the relay selected it.
    pub async fn open(&self, query: &str) -> Ws {
        let mut request = self.url(query).into_client_request().unwrap();
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static("wirelab.v1"),
        );
        let (ws, response) = tokio_tungstenite::connect_async(request)
            .await
            .expect("upgrade");
        assert_eq!(
            response.headers().get("sec-websocket-protocol").unwrap(),
            "wirelab.v1"
        );
        ws
    }

    /// A plain HTTP GET, returning status and body.
    pub async fn get(&self, path: &str) -> (u16, String) {
        let (status, _, body) = self.request("GET", path, &[], "").await;
        (status, body)
    }

    /// An HTTP request with extra header lines (`"Name: value"`), returning
    /// status, the head and the body. `Host` is the relay's address unless
    /// a header line gives another.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[&str],
        body: &str,
    ) -> (u16, String, String) {
        let (status, head, body) = self.request_bytes(method, path, headers, body).await;
        (status, head, String::from_utf8_lossy(&body).into_owned())
    }

    /// [`TestRelay::request`] with the body as bytes.
    pub async fn request_bytes(
        &self,
        method: &str,
        path: &str,
        headers: &[&str],
        body: &str,
    ) -> (u16, String, Vec<u8>) {
        let mut stream = TcpStream::connect(self.relay.addr).await.unwrap();
        let mut request = format!("{method} {path} HTTP/1.1\r\n");
        if !headers
            .iter()
            .any(|h| h.to_ascii_lowercase().starts_with("host:"))
        {
            request.push_str(&format!("Host: {}\r\n", self.relay.addr));
        }
        for h in headers {
            request.push_str(&format!("{h}\r\n"));
        }
        request.push_str(&format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ));
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.unwrap();
        let split = response
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or(response.len());
        let head = String::from_utf8_lossy(&response[..split]).to_string();
        let status = head[9..12].parse().unwrap();
        let body = response.get(split + 4..).unwrap_or_default();
        let body = if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            dechunk(body)
        } else {
            body.to_vec()
        };
        (status, head, body)
    }

    /// Opens `/ws?query` with extra request headers, without checking the
    /// subprotocol.
    pub async fn open_with(&self, query: &str, headers: &[(&'static str, &str)]) -> Ws {
        let mut request = self.url(query).into_client_request().unwrap();
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static("wirelab.v1"),
        );
        for (name, value) in headers {
            request
                .headers_mut()
                .insert(*name, HeaderValue::from_str(value).unwrap());
        }
        tokio_tungstenite::connect_async(request)
            .await
            .expect("upgrade")
            .0
    }
}

/// The body of a chunked response.
fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = body.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&body[..eol])
            .ok()
            .and_then(|s| usize::from_str_radix(s.trim(), 16).ok());
        let rest = &body[eol + 2..];
        let Some(size) = size.filter(|s| *s > 0 && rest.len() >= *s) else {
            break;
        };
        out.extend_from_slice(&rest[..size]);
        body = rest[size..].strip_prefix(b"\r\n").unwrap_or(&rest[size..]);
    }
    out
}

/// The next message, failing the test after 5 seconds.
pub async fn next<S: Stream>(ws: &mut WebSocketStream<S>) -> Message {
    tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .expect("a message within 5 s")
        .expect("the stream is open")
        .expect("no WebSocket error")
}

/// The next text frame, parsed as a relay message.
pub async fn next_relay_message<S: Stream>(ws: &mut WebSocketStream<S>) -> RelayMessage {
    match next(ws).await {
        Message::Text(text) => serde_json::from_str(text.as_str())
            .unwrap_or_else(|e| panic!("not a relay message: {text}: {e}")),
        other => panic!("expected a text frame, got {other:?}"),
    }
}

/// The next binary frame.
pub async fn next_bytes<S: Stream>(ws: &mut WebSocketStream<S>) -> Vec<u8> {
    match next(ws).await {
        Message::Binary(bytes) => bytes.to_vec(),
        other => panic!("expected a binary frame, got {other:?}"),
    }
}

/// Expects a close frame with `code`.
pub async fn expect_close(ws: &mut Ws, code: u16) {
    match next(ws).await {
        Message::Close(Some(frame)) => assert_eq!(frame.code, CloseCode::from(code)),
        other => panic!("expected a close frame, got {other:?}"),
    }
}

pub async fn send_bytes<S: Stream>(ws: &mut WebSocketStream<S>, bytes: &[u8]) {
    ws.send(Message::binary(bytes.to_vec())).await.unwrap();
}

pub async fn send_text(ws: &mut Ws, text: &str) {
    ws.send(Message::text(text.to_string())).await.unwrap();
}

/// Runs a real client (`program` with `args`) to the end and returns what it
/// printed; a failure shows both of its outputs.
pub async fn run(program: &std::path::Path, args: &[&str]) -> std::process::Output {
    let out = tokio::process::Command::new(program)
        .args(args)
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{} failed: {}\n{}",
        program.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs dig against `server` on `port`, from the address `source` when
/// given (`-b`: the lab's 127.x addresses stand for regions), and returns
/// what it printed; a failing dig fails the test.
pub fn run_dig(source: Option<&str>, server: &str, port: u16, args: &[&str]) -> String {
    let mut command = std::process::Command::new("dig");
    if let Some(source) = source {
        command.args(["-b", source]);
    }
    let out = command
        .arg(format!("@{server}"))
        .args(["-p", &port.to_string(), "+tries=1", "+time=5"])
        .args(args)
        .output()
        .expect("dig runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "dig {args:?} failed: {text}");
    text
}
