//! Drives the shared resolver engine (`wirelab_shared::dns::resolver`) over
//! tokio sockets: one task owns the engine, on a thread and a
//! single-threaded runtime of its own (with its TCP connections), so that
//! answering from the cache costs no wakeup of another thread; client
//! queries come in on the
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
use wirelab_shared::engine::Millis;

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

/// Datagrams the resolver takes from its client socket in one turn, each
/// answered before the next is read, before the other sources (TCP,
/// upstream replies, the web API, the timer) get theirs: under load the
/// socket always has more, and building the `select!` for each one costs
/// as much as answering from the cache.
const UDP_BATCH: usize = 64;

/// Starts the resolver on its sockets, on a thread of its own (see
/// [`own_thread`]). `udp_stats` are the other servers' counters, for the
/// handle.
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
    let sockets = Sockets {
        udp: udp.into_std()?,
        tcp: tcp.into_std()?,
        upstream,
    };
    let (control_tx, control_rx) = mpsc::channel(16);
    let resolver = Resolver::new(config, Some(local));
    let tasks = TaskTracker::new();
    let work = async move {
        match sockets.register() {
            Ok((udp, tcp, upstream)) => {
                let sources = Sources {
                    udp,
                    tcp,
                    upstream,
                    control: control_rx,
                };
                run(resolver, sources, bounds, shutdown, tasks.clone()).await;
            }
            Err(e) => tracing::error!("the resolver cannot use its sockets: {e}"),
        }
        // Its TCP connections and upstream exchanges live on its thread.
        tasks.close();
        tasks.wait().await;
    };
    own_thread(tracker.track_future(work))?;
    Ok(ResolverHandle {
        control: control_tx,
        addr,
        udp_stats,
    })
}

/// Runs `work` on a thread of its own with a single-threaded runtime. On
/// the relay's runtime every datagram that arrived while the resolver was
/// busy woke another worker parked in `epoll_wait` (a context switch per
/// query, measured at a third of the CPU a cached answer cost); here the
/// one thread reads what has arrived until the socket is empty and only
/// then waits for more, as unbound's event loop does.
fn own_thread(work: impl std::future::Future<Output = ()> + Send + 'static) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("dns-resolver".into())
        .spawn(move || runtime.block_on(work))?;
    Ok(())
}

/// The resolver's sockets between the relay's runtime, where they were
/// bound, and the resolver's own, where they are registered.
struct Sockets {
    udp: std::net::UdpSocket,
    tcp: std::net::TcpListener,
    upstream: std::net::UdpSocket,
}

impl Sockets {
    /// Registers the sockets with the runtime this is called on.
    fn register(self) -> std::io::Result<(UdpSocket, TcpListener, UdpSocket)> {
        Ok((
            UdpSocket::from_std(self.udp)?,
            TcpListener::from_std(self.tcp)?,
            UdpSocket::from_std(self.upstream)?,
        ))
    }
}

/// Everything the resolver's task waits on besides its timer.
struct Sources {
    udp: UdpSocket,
    tcp: TcpListener,
    upstream: UdpSocket,
    control: mpsc::Receiver<Control>,
}

/// The resolver task's state besides the engine.
struct Driver {
    clock: Clock,
    udp: UdpSocket,
    upstream: UdpSocket,
    inbound_tx: mpsc::Sender<Inbound>,
    connections: HashMap<u64, mpsc::Sender<ToConnection>>,
    tasks: TaskTracker,
}

async fn run(
    mut resolver: Resolver,
    sources: Sources,
    bounds: TcpBounds,
    shutdown: CancellationToken,
    tasks: TaskTracker,
) {
    let Sources {
        udp,
        tcp,
        upstream,
        mut control,
    } = sources;
    let (inbound_tx, mut inbound) = mpsc::channel::<Inbound>(256);
    let mut driver = Driver {
        clock: Clock::start(),
        udp,
        upstream,
        inbound_tx,
        connections: HashMap::new(),
        tasks,
    };
    let permits = bounds.permits();
    let mut next_conn = 1u64;
    let mut deadline = None;
    let mut client_buf = vec![0u8; 65_535];
    let mut upstream_buf = vec![0u8; 65_535];
    loop {
        let clock = driver.clock;
        let sleep = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(clock.instant(at)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = sleep => resolver.handle_timeout(clock.now()),
            received = driver.udp.recv_from(&mut client_buf) => match received {
                Ok((n, from)) => {
                    deadline = driver.client_datagram(&mut resolver, from, &client_buf[..n]).await;
                    deadline = driver.more_client_datagrams(&mut resolver, &mut client_buf, deadline).await;
                    continue;
                }
                Err(e) => debug!("resolver recv_from: {e}"),
            },
            received = driver.upstream.recv_from(&mut upstream_buf) => match received {
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
                    driver.connections.insert(conn, tx);
                    let client = ClientConnection {
                        id: ClientId { addr: peer, via: Via::Tcp, conn },
                        replies: rx,
                        inbound: driver.inbound_tx.clone(),
                        bounds,
                        shutdown: shutdown.clone(),
                        _permit: permit,
                    };
                    let span = info_span!("conn", server = "dns", %peer);
                    driver.tasks.spawn(tracing::Instrument::instrument(client.run(stream), span));
                }
                Err(e) => {
                    debug!("resolver accept: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(event) = inbound.recv() => match event {
                Inbound::Client { id, message } => {
                    if !resolver.handle_client(id, &message, clock.now()) {
                        hand_over(&mut driver.connections, id.conn, ToConnection::NoReply);
                    }
                }
                Inbound::ClientGone(conn) => {
                    driver.connections.remove(&conn);
                }
                Inbound::Upstream { from, result } => match result {
                    Ok(message) => resolver.handle_upstream(from, Via::Tcp, &message, clock.now()),
                    Err(why) => resolver.handle_upstream_failure(from, Via::Tcp, &why, clock.now()),
                },
            },
            Some(request) = control.recv() => answer_control(&mut resolver, request, clock),
        }
        deadline = driver.drain(&mut resolver).await;
    }
}

/// Answers what the web API asked.
fn answer_control(resolver: &mut Resolver, request: Control, clock: Clock) {
    match request {
        Control::Traces(reply) => {
            let _ = reply.send(resolver.kept_traces().cloned().collect());
        }
        Control::Trace {
            client,
            query_id,
            reply,
        } => {
            let _ = reply.send(resolver.kept_trace_for(client, query_id).cloned());
        }
        Control::Cache(reply) => {
            let _ = reply.send(resolver.cache_snapshot(clock.now()));
        }
        Control::ClearCache(reply) => {
            resolver.clear_cache();
            let _ = reply.send(());
        }
    }
}

impl Driver {
    /// One client datagram, answered (or sent on its way) before the next
    /// is read; returns the engine's next deadline.
    async fn client_datagram(
        &mut self,
        resolver: &mut Resolver,
        from: SocketAddr,
        message: &[u8],
    ) -> Option<Millis> {
        // A UDP client is owed nothing when no reply comes.
        let _ = resolver.handle_client(
            ClientId {
                addr: from,
                via: Via::Udp,
                conn: 0,
            },
            message,
            self.clock.now(),
        );
        self.drain(resolver).await
    }

    /// Up to [`UDP_BATCH`] more datagrams that are already waiting, without
    /// waiting for any; returns the engine's next deadline.
    async fn more_client_datagrams(
        &mut self,
        resolver: &mut Resolver,
        buf: &mut [u8],
        mut deadline: Option<Millis>,
    ) -> Option<Millis> {
        for _ in 0..UDP_BATCH {
            match self.udp.try_recv_from(buf) {
                Ok((n, from)) => {
                    let message = buf.get(..n).unwrap_or_default();
                    deadline = self.client_datagram(resolver, from, message).await;
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => {
                    debug!("resolver recv_from: {e}");
                    break;
                }
            }
        }
        deadline
    }

    /// Does what the engine wants done, until it waits; returns the
    /// deadline it waits for.
    async fn drain(&mut self, resolver: &mut Resolver) -> Option<Millis> {
        loop {
            match resolver.poll_output() {
                ResolverOutput::Reply { to, message } => self.reply(to, message).await,
                ResolverOutput::Query {
                    to,
                    via: Via::Udp,
                    message,
                } => {
                    if let Err(e) = self.upstream.send_to(&message, to).await {
                        debug!("resolver upstream send_to {to}: {e}");
                    }
                }
                ResolverOutput::Query {
                    to,
                    via: Via::Tcp,
                    message,
                } => {
                    let tx = self.inbound_tx.clone();
                    self.tasks.spawn(async move {
                        let result = exchange_tcp(to, &message).await;
                        let _ = tx.send(Inbound::Upstream { from: to, result }).await;
                    });
                }
                ResolverOutput::Finished { summary, .. } => debug!("resolved: {summary}"),
                ResolverOutput::Wait(deadline) => return deadline,
            }
        }
    }

    async fn reply(&mut self, to: ClientId, message: Vec<u8>) {
        match to.via {
            Via::Udp => {
                if let Err(e) = self.udp.send_to(&message, to.addr).await {
                    debug!("resolver send_to {}: {e}", to.addr);
                }
            }
            Via::Tcp => hand_over(
                &mut self.connections,
                to.conn,
                ToConnection::Reply(tcp_wrap(&message)),
            ),
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
