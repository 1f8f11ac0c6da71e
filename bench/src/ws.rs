//! The WebSocket measurements: one session's round trips, one session's
//! echo throughput, many sessions' round trips at once, and the memory of
//! many idle sessions. The same code drives the relay (`relay`: the
//! `wirelab.v1` subprotocol, timing from its `connected`) and a plain
//! bridge such as websocat or websockify; what comes back is counted in
//! bytes, since a bridge may cut the echo into frames of its own.

use crate::stats::Samples;
use crate::tcp::MESSAGE;
use anyhow::{Context, Result, anyhow, bail};
use futures_util::stream::{self, SplitStream};
use futures_util::{SinkExt, StreamExt};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::sync::{Barrier, Semaphore};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{Bytes, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use wirelab_shared::relay_protocol::RelayMessage;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The message of the throughput measurement.
const BIG: usize = 16 * 1024;
/// Throughput messages sent and not yet echoed: enough to keep both
/// directions busy, bounded so nothing queues without end.
const WINDOW: usize = 16;
/// The longest wait for any one reply before the measurement fails.
const REPLY_TIMEOUT: Duration = Duration::from_secs(5);
/// Idle sessions being opened at once.
const OPENING_AT_ONCE: usize = 128;

/// Opens a session; with `relay`, asks for `wirelab.v1` and waits for
/// `connected`.
async fn open(url: &str, relay: bool) -> Result<Ws> {
    let mut request = url.into_client_request()?;
    if relay {
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static("wirelab.v1"),
        );
    }
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(request, None, true)
        .await
        .with_context(|| format!("opening {url}"))?;
    if relay {
        let text = loop {
            match ws.next().await {
                Some(Ok(Message::Text(text))) => break text,
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Ok(other)) => bail!("expected `connected`, got {other:?}"),
                Some(Err(e)) => return Err(anyhow!(e).context("reading `connected`")),
                None => bail!("the relay closed before `connected`"),
            }
        };
        match serde_json::from_str(text.as_str()) {
            Ok(RelayMessage::Connected { .. }) => {}
            _ => bail!("the relay answered {}", text.as_str()),
        }
    }
    Ok(ws)
}

/// Reads binary frames until `len` bytes have come.
async fn receive(ws: &mut SplitStream<Ws>, len: usize) -> Result<()> {
    let mut got = 0;
    while got < len {
        match tokio::time::timeout(REPLY_TIMEOUT, ws.next()).await {
            Err(_) => bail!("no echo within {REPLY_TIMEOUT:?}"),
            Ok(Some(Ok(Message::Binary(bytes)))) => got += bytes.len(),
            Ok(Some(Ok(Message::Text(text)))) => bail!("the bridge said {}", text.as_str()),
            Ok(Some(Ok(Message::Close(frame)))) => bail!("closed: {frame:?}"),
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(e))) => return Err(anyhow!(e)),
            Ok(None) => bail!("the bridge closed the WebSocket"),
        }
    }
    Ok(())
}

/// Round trips of [`MESSAGE`] bytes, one at a time, for `seconds`.
pub async fn round_trips(url: &str, relay: bool, seconds: Duration) -> Result<String> {
    let (mut tx, mut rx) = open(url, relay).await?.split();
    let message = Bytes::from(vec![b'x'; MESSAGE]);
    let mut samples = Samples::default();
    let deadline = Instant::now() + seconds;
    while Instant::now() < deadline {
        let started = Instant::now();
        tx.send(Message::Binary(message.clone())).await?;
        receive(&mut rx, MESSAGE).await?;
        samples.push(started.elapsed());
    }
    Ok(samples.summary())
}

/// Echo throughput of [`BIG`]-byte messages, [`WINDOW`] in flight.
pub async fn throughput(url: &str, relay: bool, seconds: Duration) -> Result<String> {
    let (mut tx, mut rx) = open(url, relay).await?.split();
    let message = Bytes::from(vec![b'y'; BIG]);
    let window = Semaphore::new(WINDOW);
    let received = AtomicU64::new(0);
    let send = async {
        loop {
            window.acquire().await?.forget();
            tx.send(Message::Binary(message.clone())).await?;
        }
    };
    let echo = async {
        let mut owed = 0usize;
        loop {
            let frame = tokio::time::timeout(REPLY_TIMEOUT, rx.next())
                .await
                .context("no echo within 5 s")?;
            match frame {
                Some(Ok(Message::Binary(bytes))) => {
                    received.fetch_add(bytes.len() as u64, Ordering::Relaxed);
                    owed += bytes.len();
                    window.add_permits(owed / BIG);
                    owed %= BIG;
                }
                Some(Ok(Message::Text(text))) => bail!("the bridge said {}", text.as_str()),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(anyhow!(e)),
                None => bail!("the bridge closed the WebSocket"),
            }
        }
    };
    let started = Instant::now();
    let outcome: Result<()> = tokio::select! {
        r = send => r,
        r = echo => r,
        _ = tokio::time::sleep(seconds) => Ok(()),
    };
    outcome?;
    let bytes = received.load(Ordering::Relaxed);
    let mb_per_s = bytes as f64 / started.elapsed().as_secs_f64() / 1e6;
    Ok(format!("bytes={bytes} mb_per_s={mb_per_s:.1}"))
}

/// `count` sessions, each doing round trips one after another, all
/// opened before the clock starts: round trips per second in all.
pub async fn sessions(url: &str, relay: bool, count: usize, seconds: Duration) -> Result<String> {
    raise_fd_limit(count)?;
    let opened: Vec<Ws> = open_many(url, relay, count).await?;
    let done = Arc::new(AtomicU64::new(0));
    let start = Arc::new(Barrier::new(count + 1));
    let mut tasks = Vec::with_capacity(count);
    for ws in opened {
        let (done, start) = (done.clone(), start.clone());
        tasks.push(tokio::spawn(async move {
            let (mut tx, mut rx) = ws.split();
            let message = Bytes::from(vec![b'z'; MESSAGE]);
            start.wait().await;
            let deadline = Instant::now() + seconds;
            while Instant::now() < deadline {
                tx.send(Message::Binary(message.clone())).await?;
                receive(&mut rx, MESSAGE).await?;
                done.fetch_add(1, Ordering::Relaxed);
            }
            anyhow::Ok(())
        }));
    }
    start.wait().await;
    let started = Instant::now();
    for task in tasks {
        task.await??;
    }
    let total = done.load(Ordering::Relaxed);
    let per_second = total as f64 / started.elapsed().as_secs_f64();
    Ok(format!(
        "sessions={count} round_trips={total} per_second={per_second:.0}"
    ))
}

/// Opens `count` sessions and leaves them idle: the resident memory of
/// process `pid` before (after a warm-up) and with them all open.
pub async fn idle(url: &str, relay: bool, count: usize, pid: u32) -> Result<String> {
    raise_fd_limit(count)?;
    // The first sessions grow the runtime's and the allocator's pools once.
    drop(open_many(url, relay, OPENING_AT_ONCE).await?);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss_kib(pid)?;
    let started = Instant::now();
    let sessions = open_many(url, relay, count).await?;
    let opening = started.elapsed();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = rss_kib(pid)?;
    drop(sessions);
    let per_session = after.saturating_sub(before) as f64 / count as f64;
    Ok(format!(
        "sessions={count} before_kib={before} after_kib={after} per_session_kib={per_session:.1} \
         opening_s={:.1}",
        opening.as_secs_f64()
    ))
}

async fn open_many(url: &str, relay: bool, count: usize) -> Result<Vec<Ws>> {
    stream::iter(0..count)
        .map(|_| open(url, relay))
        .buffer_unordered(OPENING_AT_ONCE)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}

/// One descriptor per session here, plus some for the runtime.
fn raise_fd_limit(sessions: usize) -> Result<()> {
    let needed = sessions as u64 + 256;
    let got = rlimit::increase_nofile_limit(needed).context("raising the open-file limit")?;
    if got < needed {
        bail!("the open-file limit is {got}, {sessions} sessions need {needed}");
    }
    Ok(())
}

/// The resident memory of process `pid`, in KiB.
fn rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmRSS in /proc/<pid>/status")
}
