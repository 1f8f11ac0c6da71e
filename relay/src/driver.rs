//! Drives the shared sans-IO server engines over tokio sockets: the one
//! place where a reference server meets the network.
//!
//! [`serve_tcp`] accepts connections and runs one engine per connection;
//! [`serve_udp`] runs one engine per datagram and sends what it transmits
//! back to the datagram's sender. Both stop when the shutdown token fires.
//! A protocol adds a server by writing its engine in `shared` and calling
//! one of these with a factory.

use std::fmt::Debug;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{Instrument, debug, info_span, warn};
use wirelab_shared::engine::{Engine, Millis, Output};

/// What an engine factory learns about a new connection or datagram.
#[derive(Debug, Clone, Copy)]
pub struct Peer {
    pub remote: SocketAddr,
    pub local: SocketAddr,
}

/// Settings shared by every connection of one server.
#[derive(Debug, Clone)]
pub struct TcpServerSettings {
    /// Name in logs ("upper-tcp").
    pub name: &'static str,
    pub idle_timeout: Duration,
    pub max_connections: usize,
}

/// A monotonic clock for engines: milliseconds since the server started.
#[derive(Debug, Clone, Copy)]
pub struct Clock(Instant);

impl Clock {
    pub fn start() -> Self {
        Clock(Instant::now())
    }

    pub fn now(&self) -> Millis {
        Millis(self.0.elapsed().as_millis() as u64)
    }

    /// The instant a deadline in engine time corresponds to.
    pub fn instant(&self, at: Millis) -> tokio::time::Instant {
        tokio::time::Instant::from_std(self.0 + Duration::from_millis(at.0))
    }
}

/// Accepts connections on `listener` until `shutdown`, running a fresh engine
/// from `make` for each, at most `max_connections` at once (the others wait
/// in the accept queue).
pub fn serve_tcp<E, F>(
    listener: TcpListener,
    settings: TcpServerSettings,
    make: F,
    shutdown: CancellationToken,
    tracker: &TaskTracker,
) where
    E: Engine + Send + 'static,
    E::Event: Debug + Send,
    F: Fn(Peer) -> E + Send + Sync + 'static,
{
    let make = Arc::new(make);
    let permits = Arc::new(Semaphore::new(settings.max_connections.max(1)));
    let clock = Clock::start();
    let inner_tracker = tracker.clone();
    tracker.spawn(async move {
        loop {
            let permit = tokio::select! {
                _ = shutdown.cancelled() => break,
                permit = permits.clone().acquire_owned() => match permit {
                    Ok(permit) => permit,
                    Err(_) => break,
                },
            };
            let (stream, remote) = tokio::select! {
                _ = shutdown.cancelled() => break,
                accepted = listener.accept() => match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        // Running out of file descriptors is transient; back off.
                        warn!(server = settings.name, "accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let local = stream.local_addr().unwrap_or(remote);
            let engine = make(Peer { remote, local });
            let span = info_span!("conn", server = settings.name, peer = %remote);
            let idle = settings.idle_timeout;
            let shutdown = shutdown.clone();
            inner_tracker.spawn(
                async move {
                    debug!("accepted");
                    if let Err(e) = run_tcp_connection(stream, engine, clock, idle, shutdown).await
                    {
                        debug!("connection ended with an error: {e}");
                    }
                    debug!("closed");
                    drop(permit);
                }
                .instrument(span),
            );
        }
    });
}

/// One connection: read, feed the engine, write what it transmits, honour
/// its deadlines, until the engine closes, the peer goes away, the connection
/// sits idle or the server shuts down.
async fn run_tcp_connection<E>(
    mut stream: TcpStream,
    mut engine: E,
    clock: Clock,
    idle: Duration,
    shutdown: CancellationToken,
) -> std::io::Result<()>
where
    E: Engine,
    E::Event: Debug,
{
    let mut buf = vec![0u8; 16 * 1024];
    let mut peer_done = false;
    // Engines may greet first (SMTP 220, POP3 +OK): drain before reading.
    let mut deadline = match flush(&mut stream, &mut engine).await? {
        Step::Close => return close(stream).await,
        Step::Wait(d) => d,
    };
    loop {
        let idle_sleep = tokio::time::sleep(idle);
        let engine_sleep = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(clock.instant(at)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = shutdown.cancelled() => return close(stream).await,
            _ = idle_sleep => {
                debug!("idle timeout");
                return close(stream).await;
            }
            _ = engine_sleep => engine.handle_timeout(clock.now()),
            read = stream.read(&mut buf), if !peer_done => match read? {
                0 => {
                    peer_done = true;
                    engine.handle_eof(clock.now());
                }
                n => engine.handle_input(&buf[..n], clock.now()),
            },
        }
        deadline = match flush(&mut stream, &mut engine).await? {
            Step::Close => return close(stream).await,
            Step::Wait(d) => d,
        };
        if peer_done && deadline.is_none() {
            // The peer is gone and the engine waits for nothing: done.
            return close(stream).await;
        }
    }
}

enum Step {
    Close,
    Wait(Option<Millis>),
}

async fn flush<E>(stream: &mut TcpStream, engine: &mut E) -> std::io::Result<Step>
where
    E: Engine,
    E::Event: Debug,
{
    loop {
        match engine.poll_output() {
            Output::Transmit(bytes) => stream.write_all(&bytes).await?,
            Output::Event(event) => debug!(?event),
            Output::Close => return Ok(Step::Close),
            Output::Wait(deadline) => return Ok(Step::Wait(deadline)),
        }
    }
}

async fn close(mut stream: TcpStream) -> std::io::Result<()> {
    stream.flush().await?;
    stream.shutdown().await
}

/// Answers datagrams on `socket` until `shutdown`: a fresh engine from `make`
/// for each datagram, everything it transmits sent back to the sender. An
/// engine that asks to be woken later (`Wait(Some(deadline))`, a DNS server
/// holding its reply back for its simulated distance) is kept in a task of
/// its own until it waits for nothing, so the socket keeps serving others.
pub fn serve_udp<E, F>(
    socket: UdpSocket,
    name: &'static str,
    make: F,
    shutdown: CancellationToken,
    tracker: &TaskTracker,
) where
    E: Engine + Send + 'static,
    E::Event: Debug + Send,
    F: Fn(Peer) -> E + Send + Sync + 'static,
{
    let clock = Clock::start();
    let socket = Arc::new(socket);
    let inner_tracker = tracker.clone();
    tracker.spawn(async move {
        let local = socket.local_addr().ok();
        // The largest UDP payload; anything longer was cut by the kernel anyway.
        let mut buf = vec![0u8; 65_535];
        loop {
            let (n, remote) = tokio::select! {
                _ = shutdown.cancelled() => break,
                received = socket.recv_from(&mut buf) => match received {
                    Ok(pair) => pair,
                    Err(e) => {
                        // ICMP errors from earlier replies surface here; keep serving.
                        debug!(server = name, "recv_from: {e}");
                        continue;
                    }
                },
            };
            let mut engine = make(Peer {
                remote,
                local: local.unwrap_or(remote),
            });
            engine.handle_input(&buf[..n], clock.now());
            if let Some(deadline) = drain_datagrams(&socket, &mut engine, name, remote).await {
                let socket = socket.clone();
                let shutdown = shutdown.clone();
                inner_tracker.spawn(async move {
                    let mut deadline = Some(deadline);
                    while let Some(at) = deadline {
                        tokio::select! {
                            _ = shutdown.cancelled() => return,
                            _ = tokio::time::sleep_until(clock.instant(at)) => {}
                        }
                        engine.handle_timeout(clock.now());
                        deadline = drain_datagrams(&socket, &mut engine, name, remote).await;
                    }
                });
            }
        }
    });
}

/// Sends what a datagram engine transmits to `remote`; returns its next
/// deadline, if it has one.
async fn drain_datagrams<E>(
    socket: &UdpSocket,
    engine: &mut E,
    name: &'static str,
    remote: SocketAddr,
) -> Option<Millis>
where
    E: Engine,
    E::Event: Debug,
{
    loop {
        match engine.poll_output() {
            Output::Transmit(datagram) => {
                if let Err(e) = socket.send_to(&datagram, remote).await {
                    debug!(server = name, peer = %remote, "send_to: {e}");
                }
            }
            Output::Event(event) => debug!(server = name, peer = %remote, ?event),
            Output::Close => return None,
            Output::Wait(deadline) => return deadline,
        }
    }
}
