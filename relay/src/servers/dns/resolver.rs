//! Drives the shared resolver engine (`wirelab_shared::dns::resolver`) over
//! tokio sockets: one task owns the engine; client queries come in on the
//! resolver's UDP socket and TCP listener, queries to other servers go out
//! on an upstream UDP socket (or a TCP connection after a truncated reply),
//! and `/api/dns/...` asks the same task for traces and the cache through
//! a [`ResolverHandle`].

use crate::driver::Clock;
use anyhow::Result;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::debug;
use wirelab_shared::dns::cache::CacheView;
use wirelab_shared::dns::frame::{TcpFramer, tcp_wrap};
use wirelab_shared::dns::resolver::{ClientId, Resolver, ResolverConfig, ResolverOutput, Trace};
use wirelab_shared::dns::server::{Authority, Via};

/// What the web API may ask the resolver task.
enum Control {
    Traces(oneshot::Sender<Vec<Trace>>),
    Trace {
        client: SocketAddr,
        query_id: u16,
        reply: oneshot::Sender<Option<Trace>>,
    },
    Cache(oneshot::Sender<Vec<CacheView>>),
    ClearCache(oneshot::Sender<()>),
}

/// A handle on the running resolver, for `/api/dns/...`.
#[derive(Clone)]
pub struct ResolverHandle {
    control: mpsc::Sender<Control>,
    /// The resolver's address (127.0.0.1:port).
    pub addr: SocketAddr,
}

impl std::fmt::Debug for ResolverHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ResolverHandle({})", self.addr)
    }
}

impl ResolverHandle {
    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Control) -> Option<T> {
        let (tx, rx) = oneshot::channel();
        self.control.send(make(tx)).await.ok()?;
        rx.await.ok()
    }

    /// Every kept trace, oldest first.
    pub async fn traces(&self) -> Vec<Trace> {
        self.ask(Control::Traces).await.unwrap_or_default()
    }

    /// The trace of one query (the client's address as the resolver saw
    /// it, and the query's ID).
    pub async fn trace(&self, client: SocketAddr, query_id: u16) -> Option<Trace> {
        self.ask(|reply| Control::Trace {
            client,
            query_id,
            reply,
        })
        .await
        .flatten()
    }

    pub async fn cache(&self) -> Vec<CacheView> {
        self.ask(Control::Cache).await.unwrap_or_default()
    }

    pub async fn clear_cache(&self) {
        self.ask(Control::ClearCache).await;
    }
}

/// What a connection or an upstream exchange tells the resolver task.
enum Inbound {
    Client {
        id: ClientId,
        message: Vec<u8>,
    },
    ClientGone(u64),
    Upstream {
        from: SocketAddr,
        result: std::result::Result<Vec<u8>, String>,
    },
}

/// Starts the resolver on its sockets.
pub fn spawn(
    udp: UdpSocket,
    tcp: TcpListener,
    config: ResolverConfig,
    local: Arc<Authority>,
    idle: Duration,
    shutdown: CancellationToken,
    tracker: &TaskTracker,
) -> Result<ResolverHandle> {
    let addr = udp.local_addr()?;
    // Queries to other servers leave from the resolver's address, on a
    // port the system picks (and randomises).
    let upstream = std::net::UdpSocket::bind(SocketAddr::new(addr.ip(), 0))?;
    upstream.set_nonblocking(true)?;
    let upstream = UdpSocket::from_std(upstream)?;
    let (control_tx, control_rx) = mpsc::channel(16);
    let resolver = Resolver::new(config, Some(local));
    let tracker_inner = tracker.clone();
    tracker.spawn(run(
        resolver,
        udp,
        tcp,
        upstream,
        control_rx,
        idle,
        shutdown,
        tracker_inner,
    ));
    Ok(ResolverHandle {
        control: control_tx,
        addr,
    })
}

#[allow(clippy::too_many_arguments)]
async fn run(
    mut resolver: Resolver,
    udp: UdpSocket,
    tcp: TcpListener,
    upstream: UdpSocket,
    mut control: mpsc::Receiver<Control>,
    idle: Duration,
    shutdown: CancellationToken,
    tracker: TaskTracker,
) {
    let clock = Clock::start();
    let (inbound_tx, mut inbound) = mpsc::channel::<Inbound>(256);
    let mut connections: HashMap<u64, mpsc::Sender<Vec<u8>>> = HashMap::new();
    let mut next_conn = 1u64;
    let mut deadline = None;
    let mut client_buf = vec![0u8; 65_535];
    let mut upstream_buf = vec![0u8; 65_535];
    loop {
        let sleep = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(clock.instant(at)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = sleep => resolver.handle_timeout(clock.now()),
            received = udp.recv_from(&mut client_buf) => match received {
                Ok((n, from)) => resolver.handle_client(
                    ClientId { addr: from, via: Via::Udp, conn: 0 },
                    &client_buf[..n],
                    clock.now(),
                ),
                Err(e) => debug!("resolver recv_from: {e}"),
            },
            received = upstream.recv_from(&mut upstream_buf) => match received {
                Ok((n, from)) => resolver.handle_upstream(from, Via::Udp, &upstream_buf[..n], clock.now()),
                Err(e) => debug!("resolver upstream recv_from: {e}"),
            },
            accepted = tcp.accept() => match accepted {
                Ok((stream, peer)) => {
                    let conn = next_conn;
                    next_conn += 1;
                    let (tx, rx) = mpsc::channel(16);
                    connections.insert(conn, tx);
                    tracker.spawn(client_connection(
                        stream,
                        ClientId { addr: peer, via: Via::Tcp, conn },
                        rx,
                        inbound_tx.clone(),
                        idle,
                        shutdown.clone(),
                    ));
                }
                Err(e) => {
                    debug!("resolver accept: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(event) = inbound.recv() => match event {
                Inbound::Client { id, message } => resolver.handle_client(id, &message, clock.now()),
                Inbound::ClientGone(conn) => {
                    connections.remove(&conn);
                }
                Inbound::Upstream { from, result } => match result {
                    Ok(message) => resolver.handle_upstream(from, Via::Tcp, &message, clock.now()),
                    Err(why) => resolver.handle_upstream_failure(from, Via::Tcp, &why, clock.now()),
                },
            },
            Some(request) = control.recv() => match request {
                Control::Traces(reply) => {
                    let _ = reply.send(resolver.traces().cloned().collect());
                }
                Control::Trace { client, query_id, reply } => {
                    let _ = reply.send(resolver.trace_for(client, query_id).cloned());
                }
                Control::Cache(reply) => {
                    let _ = reply.send(resolver.cache_snapshot(clock.now()));
                }
                Control::ClearCache(reply) => {
                    resolver.clear_cache();
                    let _ = reply.send(());
                }
            },
        }
        // Drain what the engine wants done.
        loop {
            match resolver.poll_output() {
                ResolverOutput::Reply { to, message } => match to.via {
                    Via::Udp => {
                        if let Err(e) = udp.send_to(&message, to.addr).await {
                            debug!("resolver send_to {}: {e}", to.addr);
                        }
                    }
                    Via::Tcp => {
                        if let Some(tx) = connections.get(&to.conn) {
                            let _ = tx.send(tcp_wrap(&message)).await;
                        }
                    }
                },
                ResolverOutput::Query {
                    to,
                    via: Via::Udp,
                    message,
                } => {
                    if let Err(e) = upstream.send_to(&message, to).await {
                        debug!("resolver upstream send_to {to}: {e}");
                    }
                }
                ResolverOutput::Query {
                    to,
                    via: Via::Tcp,
                    message,
                } => {
                    let tx = inbound_tx.clone();
                    tracker.spawn(async move {
                        let result = exchange_tcp(to, &message).await;
                        let _ = tx.send(Inbound::Upstream { from: to, result }).await;
                    });
                }
                ResolverOutput::Finished { summary, .. } => debug!("resolved: {summary}"),
                ResolverOutput::Wait(d) => {
                    deadline = d;
                    break;
                }
            }
        }
    }
}

/// One query over TCP to a server: connect, send it with its length
/// prefix, read one reply.
async fn exchange_tcp(to: SocketAddr, message: &[u8]) -> std::result::Result<Vec<u8>, String> {
    let work = async {
        let mut stream = TcpStream::connect(to).await.map_err(|e| e.to_string())?;
        stream
            .write_all(&tcp_wrap(message))
            .await
            .map_err(|e| e.to_string())?;
        let mut framer = TcpFramer::new();
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            if let Some(reply) = framer.next_message() {
                return Ok(reply);
            }
            let n = stream.read(&mut buf).await.map_err(|e| e.to_string())?;
            if n == 0 {
                return Err("the server closed the connection without a reply".to_string());
            }
            framer.push(&buf[..n]);
        }
    };
    match tokio::time::timeout(Duration::from_secs(5), work).await {
        Ok(result) => result,
        Err(_) => Err("no reply over TCP within 5 s".into()),
    }
}

/// A client's TCP connection: length-prefixed queries to the resolver
/// task, its replies back, until either side closes or it sits idle.
async fn client_connection(
    mut stream: TcpStream,
    id: ClientId,
    mut replies: mpsc::Receiver<Vec<u8>>,
    inbound: mpsc::Sender<Inbound>,
    idle: Duration,
    shutdown: CancellationToken,
) {
    let mut framer = TcpFramer::new();
    let mut buf = vec![0u8; 16 * 1024];
    let mut reading = true;
    let mut outstanding = 0usize;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(idle) => break,
            read = stream.read(&mut buf), if reading => match read {
                Ok(0) | Err(_) => {
                    reading = false;
                    if outstanding == 0 {
                        break;
                    }
                }
                Ok(n) => {
                    framer.push(&buf[..n]);
                    while let Some(message) = framer.next_message() {
                        outstanding += 1;
                        if inbound.send(Inbound::Client { id, message }).await.is_err() {
                            return;
                        }
                    }
                }
            },
            reply = replies.recv() => match reply {
                Some(bytes) => {
                    outstanding = outstanding.saturating_sub(1);
                    if stream.write_all(&bytes).await.is_err() {
                        break;
                    }
                    if !reading && outstanding == 0 {
                        break;
                    }
                }
                None => break,
            },
        }
    }
    let _ = stream.shutdown().await;
    let _ = inbound.send(Inbound::ClientGone(id.conn)).await;
}
