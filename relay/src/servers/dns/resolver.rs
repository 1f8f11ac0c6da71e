//! Drives the shared resolver engine (`wirelab_shared::dns::resolver`) over
//! tokio sockets: one task owns the engine; client queries come in on the
//! resolver's UDP socket and TCP listener, queries to other servers go out
//! on an upstream UDP socket (or a TCP connection after a truncated reply),
//! and `/api/dns/...` asks the same task for traces and the cache through
//! a [`ResolverHandle`] (traces come as bytes and are dissected in the
//! asker's task, never in the resolver's).
//!
//! The engine's task never waits on a client: TCP connections send it
//! queries on a shared channel (they may wait for it), and it hands each
//! connection its replies with `try_send` on a channel as deep as the
//! connection's cap on queries in flight, which a connection never
//! exceeds; a connection whose channel is full anyway is dropped. Each
//! connection keeps the bounds of [`super::tcp`].

use super::tcp::{READ_CHUNK, TcpBounds, admit, write_reply};
use crate::driver::{Clock, UdpStats};
use anyhow::Result;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{OwnedSemaphorePermit, mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, info_span};
use wirelab_shared::dns::cache::CacheView;
use wirelab_shared::dns::frame::{TcpFramer, tcp_wrap};
use wirelab_shared::dns::resolver::{
    ClientId, KeptTrace, Resolver, ResolverConfig, ResolverOutput, Trace,
};
use wirelab_shared::dns::server::{Authority, Via};

/// What the web API may ask the resolver task. Traces come back as kept
/// (bytes): the asker dissects them, not the resolver's task.
enum Control {
    Traces(oneshot::Sender<Vec<KeptTrace>>),
    Trace {
        client: SocketAddr,
        query_id: u16,
        reply: oneshot::Sender<Option<KeptTrace>>,
    },
    Cache(oneshot::Sender<Vec<CacheView>>),
    ClearCache(oneshot::Sender<()>),
}

/// A handle on the running resolver, for `/api/dns/...`, and on the other
/// DNS servers' counters.
#[derive(Clone)]
pub struct ResolverHandle {
    control: mpsc::Sender<Control>,
    /// The resolver's address (127.0.0.1:port).
    pub addr: SocketAddr,
    /// The UDP counters of every other DNS server, by catalog name.
    udp_stats: Arc<HashMap<&'static str, Arc<UdpStats>>>,
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
        let kept = self.ask(Control::Traces).await.unwrap_or_default();
        kept.iter().map(KeptTrace::render).collect()
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
        .map(|kept| kept.render())
    }

    pub async fn cache(&self) -> Vec<CacheView> {
        self.ask(Control::Cache).await.unwrap_or_default()
    }

    pub async fn clear_cache(&self) {
        self.ask(Control::ClearCache).await;
    }

    /// The UDP counters of the DNS server `catalog` ("dns-root"): how many
    /// replies it holds back, at most, and how many datagrams it dropped.
    pub fn udp_stats(&self, catalog: &str) -> Option<Arc<UdpStats>> {
        self.udp_stats.get(catalog).cloned()
    }
}

/// What the resolver task hands a TCP connection, one per query taken.
enum ToConnection {
    Reply(Vec<u8>),
    /// The message was no query (a response, or no header): no reply.
    NoReply,
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

/// Starts the resolver on its sockets. `udp_stats` are the other servers'
/// counters, for the handle.
#[allow(clippy::too_many_arguments)]
pub fn spawn(
    udp: UdpSocket,
    tcp: TcpListener,
    config: ResolverConfig,
    local: Arc<Authority>,
    bounds: TcpBounds,
    udp_stats: Arc<HashMap<&'static str, Arc<UdpStats>>>,
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
        bounds,
        shutdown,
        tracker_inner,
    ));
    Ok(ResolverHandle {
        control: control_tx,
        addr,
        udp_stats,
    })
}

#[allow(clippy::too_many_arguments)]
async fn run(
    mut resolver: Resolver,
    udp: UdpSocket,
    tcp: TcpListener,
    upstream: UdpSocket,
    mut control: mpsc::Receiver<Control>,
    bounds: TcpBounds,
    shutdown: CancellationToken,
    tracker: TaskTracker,
) {
    let clock = Clock::start();
    let (inbound_tx, mut inbound) = mpsc::channel::<Inbound>(256);
    let mut connections: HashMap<u64, mpsc::Sender<ToConnection>> = HashMap::new();
    let permits = bounds.permits();
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
                Ok((n, from)) => {
                    // A UDP client is owed nothing when no reply comes.
                    let _ = resolver.handle_client(
                        ClientId { addr: from, via: Via::Udp, conn: 0 },
                        &client_buf[..n],
                        clock.now(),
                    );
                }
                Err(e) => debug!("resolver recv_from: {e}"),
            },
            received = upstream.recv_from(&mut upstream_buf) => match received {
                Ok((n, from)) => resolver.handle_upstream(from, Via::Udp, &upstream_buf[..n], clock.now()),
                Err(e) => debug!("resolver upstream recv_from: {e}"),
            },
            accepted = tcp.accept() => match accepted {
                Ok((stream, peer)) => {
                    let Some((stream, permit)) = admit(&permits, stream, peer, "dns") else {
                        continue;
                    };
                    let conn = next_conn;
                    next_conn += 1;
                    // As deep as the queries a connection may have in
                    // flight: the replies always fit.
                    let (tx, rx) = mpsc::channel(bounds.max_in_flight.max(1));
                    connections.insert(conn, tx);
                    let client = ClientConnection {
                        id: ClientId { addr: peer, via: Via::Tcp, conn },
                        replies: rx,
                        inbound: inbound_tx.clone(),
                        bounds,
                        shutdown: shutdown.clone(),
                        _permit: permit,
                    };
                    let span = info_span!("conn", server = "dns", %peer);
                    tracker.spawn(tracing::Instrument::instrument(client.run(stream), span));
                }
                Err(e) => {
                    debug!("resolver accept: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(event) = inbound.recv() => match event {
                Inbound::Client { id, message } => {
                    if !resolver.handle_client(id, &message, clock.now()) {
                        hand_over(&mut connections, id.conn, ToConnection::NoReply);
                    }
                }
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
                    let _ = reply.send(resolver.kept_traces().cloned().collect());
                }
                Control::Trace { client, query_id, reply } => {
                    let _ = reply.send(resolver.kept_trace_for(client, query_id).cloned());
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
                        hand_over(
                            &mut connections,
                            to.conn,
                            ToConnection::Reply(tcp_wrap(&message)),
                        );
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

/// Gives connection `conn` what it is owed, never waiting: a connection
/// whose channel is full has more replies than queries it may have in
/// flight, so something is wrong with it, and it is dropped (its task sees
/// the channel close). A connection already gone is skipped.
fn hand_over(
    connections: &mut HashMap<u64, mpsc::Sender<ToConnection>>,
    conn: u64,
    what: ToConnection,
) {
    let Some(tx) = connections.get(&conn) else {
        return;
    };
    match tx.try_send(what) {
        Ok(()) => {}
        Err(TrySendError::Closed(_)) => {
            connections.remove(&conn);
        }
        Err(TrySendError::Full(_)) => {
            debug!(
                conn,
                "a TCP client's reply channel is full: dropping the connection"
            );
            connections.remove(&conn);
        }
    }
}

/// A client's TCP connection: length-prefixed queries to the resolver
/// task, its replies back, until either side closes, a bound is broken
/// or it sits idle.
struct ClientConnection {
    id: ClientId,
    replies: mpsc::Receiver<ToConnection>,
    inbound: mpsc::Sender<Inbound>,
    bounds: TcpBounds,
    shutdown: CancellationToken,
    /// The connection's slot among the server's, freed when it ends.
    _permit: OwnedSemaphorePermit,
}

impl ClientConnection {
    async fn run(mut self, mut stream: TcpStream) {
        if let Err(e) = self.serve(&mut stream).await {
            debug!("connection ended: {e}");
        }
        let _ = stream.shutdown().await;
        let _ = self.inbound.send(Inbound::ClientGone(self.id.conn)).await;
    }

    async fn serve(&mut self, stream: &mut TcpStream) -> std::io::Result<()> {
        let mut framer = TcpFramer::with_max_message(self.bounds.max_message);
        let mut buf = vec![0u8; READ_CHUNK];
        let mut peer_done = false;
        let mut in_flight = 0usize;
        loop {
            // Queries already read go to the resolver first, up to the cap.
            while in_flight < self.bounds.max_in_flight {
                let message = framer
                    .try_next_message()
                    .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
                let Some(message) = message else {
                    break;
                };
                let id = self.id;
                if self
                    .inbound
                    .send(Inbound::Client { id, message })
                    .await
                    .is_err()
                {
                    return Ok(());
                }
                in_flight += 1;
            }
            if peer_done && in_flight == 0 {
                return Ok(());
            }
            let reading =
                !peer_done && in_flight < self.bounds.max_in_flight && !framer.has_message();
            tokio::select! {
                _ = self.shutdown.cancelled() => return Ok(()),
                _ = tokio::time::sleep(self.bounds.idle_timeout) => {
                    debug!("idle timeout");
                    return Ok(());
                }
                read = stream.read(&mut buf), if reading => match read? {
                    0 => peer_done = true,
                    n => framer.push(&buf[..n]),
                },
                reply = self.replies.recv() => {
                    in_flight = in_flight.saturating_sub(1);
                    match reply {
                        Some(ToConnection::Reply(bytes)) => {
                            write_reply(stream, &bytes, self.bounds.write_timeout).await?;
                        }
                        Some(ToConnection::NoReply) => {}
                        None => return Ok(()),
                    }
                }
            }
        }
    }
}
