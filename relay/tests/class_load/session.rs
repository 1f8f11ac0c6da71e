//! One `/ws` session as the page opens it: the `wirelab.v1` subprotocol,
//! then the relay's `connected` (or `error`), then raw bytes both ways.
//! Nothing here panics on what the relay sends: an `error`, a `closed`
//! before the reply or a malformed frame is an `Err` the student records.
//! Waits are not bounded here; the caller bounds each step as a whole. What
//! is buffered is bounded by [`MAX_BUFFERED`].
//!
//! [`Gauge`] counts the sessions open at once across every student.

use anyhow::{Context, Result, anyhow, bail};
use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use wirelab_shared::relay_protocol::{ClosedBy, RelayMessage};

/// The most bytes a reply or a data transfer may fill the buffer with; the
/// course's files and pages are a few KiB.
pub const MAX_BUFFERED: usize = 1024 * 1024;

/// Sessions open now, and the most at once.
#[derive(Debug, Default)]
pub struct Gauge {
    open: AtomicUsize,
    peak: AtomicUsize,
}

impl Gauge {
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }

    fn opened(self: &Arc<Self>) -> GaugeSlot {
        let now = self.open.fetch_add(1, Ordering::Relaxed) + 1;
        self.peak.fetch_max(now, Ordering::Relaxed);
        GaugeSlot(self.clone())
    }
}

/// One open session on the [`Gauge`], given back on drop.
#[derive(Debug)]
struct GaugeSlot(Arc<Gauge>);

impl Drop for GaugeSlot {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A connected `/ws` session and the bytes received but not yet used.
pub struct Session {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    buf: Vec<u8>,
    _slot: GaugeSlot,
}

impl Session {
    /// Opens `/ws?<query>` on the relay and waits for `connected`.
    pub async fn open(relay: SocketAddr, query: &str, gauge: &Arc<Gauge>) -> Result<Session> {
        let mut request = format!("ws://{relay}/ws?{query}").into_client_request()?;
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static("wirelab.v1"),
        );
        let (ws, _) = tokio_tungstenite::connect_async(request)
            .await
            .context("WebSocket upgrade")?;
        let mut session = Session {
            ws,
            buf: Vec::new(),
            _slot: gauge.opened(),
        };
        match session.next_text().await? {
            RelayMessage::Connected { .. } => Ok(session),
            RelayMessage::Error { code, message, .. } => {
                bail!("the relay refused: {code:?}: {message}")
            }
            other => bail!("expected connected, got {other:?}"),
        }
    }

    /// Sends one binary frame: bytes for TCP, one datagram for UDP.
    pub async fn send(&mut self, bytes: &[u8]) -> Result<()> {
        self.ws
            .send(Message::binary(bytes.to_vec()))
            .await
            .context("sending to the relay")
    }

    /// The next binary frame (one datagram, for UDP).
    pub async fn recv(&mut self) -> Result<Vec<u8>> {
        match self.next_message().await? {
            Incoming::Bytes(bytes) => Ok(bytes),
            Incoming::Closed(by, reason) => bail!("closed by {by:?} before a reply: {reason}"),
        }
    }

    /// Reads until `frame` finds a whole message at the front of the
    /// buffer (it returns the message's length), and returns that message.
    pub async fn reply(
        &mut self,
        frame: impl Fn(&[u8]) -> Result<Option<usize>>,
    ) -> Result<Vec<u8>> {
        loop {
            if let Some(len) = frame(&self.buf)? {
                let len = len.min(self.buf.len());
                return Ok(self.buf.drain(..len).collect());
            }
            let bytes = self.recv().await?;
            self.take(&bytes)?;
        }
    }

    /// Every byte until the peer closes: an FTP data connection.
    pub async fn until_closed(&mut self) -> Result<Vec<u8>> {
        loop {
            match self.next_message().await? {
                Incoming::Bytes(bytes) => self.take(&bytes)?,
                Incoming::Closed(ClosedBy::Peer, _) => return Ok(std::mem::take(&mut self.buf)),
                Incoming::Closed(by, reason) => bail!("closed by {by:?}, not the server: {reason}"),
            }
        }
    }

    /// Closes the WebSocket as the page does when a workbench is left.
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }

    fn take(&mut self, bytes: &[u8]) -> Result<()> {
        if self.buf.len() + bytes.len() > MAX_BUFFERED {
            bail!("more than {MAX_BUFFERED} bytes without a complete reply");
        }
        self.buf.extend_from_slice(bytes);
        Ok(())
    }

    async fn next_text(&mut self) -> Result<RelayMessage> {
        let text = loop {
            match self.ws.next().await {
                Some(Ok(Message::Text(text))) => break text,
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Ok(other)) => bail!("expected a relay message, got {other:?}"),
                Some(Err(e)) => return Err(anyhow!(e).context("reading from the relay")),
                None => bail!("the relay closed the WebSocket"),
            }
        };
        serde_json::from_str(text.as_str())
            .with_context(|| format!("not a relay message: {}", text.as_str()))
    }

    async fn next_message(&mut self) -> Result<Incoming> {
        loop {
            let text = match self.ws.next().await {
                Some(Ok(Message::Binary(bytes))) => return Ok(Incoming::Bytes(bytes.to_vec())),
                Some(Ok(Message::Text(text))) => text,
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Ok(Message::Close(frame))) => {
                    bail!("the relay closed the WebSocket: {frame:?}")
                }
                Some(Ok(Message::Frame(_))) => continue,
                Some(Err(e)) => return Err(anyhow!(e).context("reading from the relay")),
                None => bail!("the relay closed the WebSocket"),
            };
            match serde_json::from_str(text.as_str()) {
                Ok(RelayMessage::Closed { by, reason, .. }) => {
                    return Ok(Incoming::Closed(by, reason));
                }
                Ok(RelayMessage::Error { code, message, .. }) => {
                    bail!("relay error {code:?}: {message}")
                }
                _ => bail!("unexpected relay message {}", text.as_str()),
            }
        }
    }
}

/// What came from the relay after `connected`.
enum Incoming {
    Bytes(Vec<u8>),
    Closed(ClosedBy, String),
}
