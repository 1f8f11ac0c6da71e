//! DNS over TCP for the lab's servers, with every bound RFC 7766 asks of a
//! server that a class may lean on: a cap on connections per server (at
//! the cap a new connection is accepted and closed at once, so its client
//! learns at once instead of hanging in the accept queue), a longest query
//! (checked on its length prefix, before its bytes are waited for), a cap
//! on queries in flight per connection (at the cap the connection is not
//! read, so its queries wait in the client's socket, not in our memory), a
//! write timeout (a client that does not read its replies is dropped) and
//! an idle timeout.
//!
//! [`serve_authoritative`] runs the authoritative servers' connections
//! (the shared [`AuthoritativeTcp`] engine, read only while it
//! [`wants_input`](AuthoritativeTcp::wants_input)); the resolver's own
//! connections (`super::resolver`) use [`TcpBounds`], [`admit`] and
//! [`write_reply`] the same way.

use crate::driver::Clock;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{Instrument, debug, info_span, warn};
use wirelab_shared::dns::server::{AuthoritativeTcp, TcpLimits};
use wirelab_shared::engine::{Engine, Output};

/// How much one server's TCP side may be asked.
#[derive(Debug, Clone, Copy)]
pub struct TcpBounds {
    /// Connections at once; more are accepted and closed.
    pub max_connections: usize,
    /// The longest query, by its length prefix.
    pub max_message: usize,
    /// Queries of one connection waiting for their replies.
    pub max_in_flight: usize,
    /// How long one reply may take to write.
    pub write_timeout: Duration,
    /// How long a connection may have nothing to read or write.
    pub idle_timeout: Duration,
}

impl TcpBounds {
    /// The engine's share of the bounds.
    pub fn engine_limits(&self) -> TcpLimits {
        TcpLimits {
            max_message: self.max_message,
            max_in_flight: self.max_in_flight,
        }
    }

    /// The connection slots of one server.
    pub fn permits(&self) -> Arc<Semaphore> {
        Arc::new(Semaphore::new(self.max_connections.max(1)))
    }
}

/// Bytes read at once: a few queries; the bound on what one connection
/// holds in memory beyond one partial query.
pub const READ_CHUNK: usize = 4096;

/// A free slot among `permits` for a connection just accepted, or `None`
/// after closing it (the server is at its cap).
pub fn admit(
    permits: &Arc<Semaphore>,
    stream: TcpStream,
    peer: SocketAddr,
    server: &'static str,
) -> Option<(TcpStream, OwnedSemaphorePermit)> {
    match permits.clone().try_acquire_owned() {
        Ok(permit) => Some((stream, permit)),
        Err(_) => {
            debug!(server, %peer, "at the connection cap: closed at once");
            drop(stream);
            None
        }
    }
}

/// Writes one reply, giving up after `timeout` (the client does not read).
pub async fn write_reply(
    stream: &mut TcpStream,
    bytes: &[u8],
    timeout: Duration,
) -> std::io::Result<()> {
    match tokio::time::timeout(timeout, stream.write_all(bytes)).await {
        Ok(written) => written,
        Err(_) => Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("the client read no reply for {timeout:?}"),
        )),
    }
}

/// Accepts connections to one authoritative server until `shutdown`, each
/// driving an engine from `make`.
pub fn serve_authoritative<F>(
    listener: TcpListener,
    name: &'static str,
    bounds: TcpBounds,
    make: F,
    shutdown: CancellationToken,
    tracker: &TaskTracker,
) where
    F: Fn(TcpLimits, std::net::IpAddr) -> AuthoritativeTcp + Send + Sync + 'static,
{
    let permits = bounds.permits();
    let clock = Clock::start();
    let inner_tracker = tracker.clone();
    tracker.spawn(async move {
        loop {
            let (stream, peer) = tokio::select! {
                _ = shutdown.cancelled() => return,
                accepted = listener.accept() => match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        // Out of file descriptors is transient; back off.
                        warn!(server = name, "accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let Some((stream, permit)) = admit(&permits, stream, peer, name) else {
                continue;
            };
            let engine = make(bounds.engine_limits(), peer.ip());
            let shutdown = shutdown.clone();
            let span = info_span!("conn", server = name, %peer);
            inner_tracker.spawn(
                async move {
                    if let Err(e) = connection(stream, engine, clock, bounds, shutdown).await {
                        debug!("connection ended: {e}");
                    }
                    drop(permit);
                }
                .instrument(span),
            );
        }
    });
}

/// One connection: read while the engine wants input, write what it
/// transmits, wake it at its deadlines, until it closes, the client goes,
/// a bound is broken or the server shuts down.
async fn connection(
    mut stream: TcpStream,
    mut engine: AuthoritativeTcp,
    clock: Clock,
    bounds: TcpBounds,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let mut buf = vec![0u8; READ_CHUNK];
    let mut deadline = None;
    let mut peer_done = false;
    loop {
        let engine_sleep = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(clock.instant(at)).await,
                None => std::future::pending().await,
            }
        };
        let reading = !peer_done && engine.wants_input();
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            _ = tokio::time::sleep(bounds.idle_timeout) => {
                debug!("idle timeout");
                return Ok(());
            }
            _ = engine_sleep => engine.handle_timeout(clock.now()),
            read = stream.read(&mut buf), if reading => match read? {
                0 => {
                    peer_done = true;
                    engine.handle_eof(clock.now());
                }
                n => engine.handle_input(&buf[..n], clock.now()),
            },
        }
        loop {
            match engine.poll_output() {
                Output::Transmit(bytes) => {
                    write_reply(&mut stream, &bytes, bounds.write_timeout).await?
                }
                Output::Event(event) => debug!(?event),
                Output::Close => {
                    // A broken bound or a finished peer: close our side.
                    let _ = stream.shutdown().await;
                    return Ok(());
                }
                Output::Wait(next) => {
                    deadline = next;
                    break;
                }
            }
        }
    }
}
