//! Drives the shared sans-IO server engines over tokio sockets: the one
//! place where a reference server meets the network.
//!
//! [`serve_tcp`] accepts connections and runs one engine per connection;
//! [`serve_udp`] runs one engine per datagram and sends what it transmits
//! back to the datagram's sender. Both stop when the shutdown token fires.
//! A server with its own connection driver (FTP) accepts with
//! [`next_connection`], as `serve_tcp` does.
//! A protocol adds a server by writing its engine in `shared` and calling
//! one of these with a factory.

use std::fmt::Debug;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Sleep;
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
    /// A write the client does not take within this long ends the
    /// connection: a client that never reads holds neither a connection
    /// slot nor the relay's shutdown for ever.
    pub write_timeout: Duration,
    pub max_connections: usize,
    /// The engine's calls may block (a store on disk that fsyncs): run each
    /// `handle_*` and the draining that follows on tokio's blocking pool,
    /// so that a slow disk never stalls the runtime's worker threads.
    pub blocking: bool,
    /// What a client arriving while the server is at `max_connections`
    /// is told before the connection closes (see `wirelab_shared::busy`);
    /// `None` closes it at once.
    pub busy_reply: Option<Arc<[u8]>>,
}

impl TcpServerSettings {
    /// These settings with `reply` for clients over the connection cap.
    pub fn with_busy_reply(mut self, reply: Vec<u8>) -> Self {
        self.busy_reply = Some(reply.into());
        self
    }
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

/// Refusals being written at once, per server; past this a client over the
/// cap is closed without a word, so a flood of connections costs no more
/// than this many small tasks.
const MAX_REFUSALS_AT_ONCE: usize = 64;

/// How long a refusal may take to write, and to wait for the client's
/// unread request to drain so that closing does not reset the connection
/// before the client has read why.
const REFUSAL_TIMEOUT: Duration = Duration::from_secs(2);

/// Bytes an engine may transmit in one drain before the driver writes them
/// out and asks for more: a pipelined flood of requests for large answers
/// is written as it is produced, never gathered in memory first.
const DRAIN_BUDGET: usize = 256 * 1024;

/// The connection cap of one server: a slot per connection, and the answer
/// for clients that arrive when every slot is taken.
#[derive(Debug, Clone)]
pub struct ConnectionGate {
    name: &'static str,
    permits: Arc<Semaphore>,
    busy_reply: Option<Arc<[u8]>>,
    refusing: Arc<Semaphore>,
}

impl ConnectionGate {
    pub fn new(name: &'static str, max_connections: usize, busy_reply: Option<Arc<[u8]>>) -> Self {
        ConnectionGate {
            name,
            permits: Arc::new(Semaphore::new(max_connections.max(1))),
            busy_reply,
            refusing: Arc::new(Semaphore::new(MAX_REFUSALS_AT_ONCE)),
        }
    }

    fn of(settings: &TcpServerSettings) -> Self {
        Self::new(
            settings.name,
            settings.max_connections,
            settings.busy_reply.clone(),
        )
    }

    /// Tells a client over the cap why, then closes, in a task bounded in
    /// number and time.
    fn refuse(&self, mut stream: TcpStream, remote: SocketAddr, tracker: &TaskTracker) {
        debug!(server = self.name, peer = %remote, "at the connection cap: refused");
        let Some(reply) = self.busy_reply.clone() else {
            return;
        };
        let Ok(slot) = self.refusing.clone().try_acquire_owned() else {
            return;
        };
        tracker.spawn(async move {
            let _slot = slot;
            let _ = tokio::time::timeout(REFUSAL_TIMEOUT, async {
                stream.write_all(&reply).await?;
                stream.shutdown().await?;
                // Read what the client already sent until it closes: closing
                // with unread bytes would reset the connection, and the
                // client could lose the refusal it has not read yet.
                let mut sink = [0u8; 4096];
                while stream.read(&mut sink).await? > 0 {}
                Ok::<_, std::io::Error>(())
            })
            .await;
        });
    }
}

/// Accepts connections on `listener` until `shutdown`, running a fresh engine
/// from `make` for each, at most `max_connections` at once; a client beyond
/// that is answered with the settings' busy reply and closed at once.
pub fn serve_tcp<E, F>(
    listener: TcpListener,
    settings: TcpServerSettings,
    make: F,
    shutdown: CancellationToken,
    tracker: &TaskTracker,
) where
    E: Engine + Send + 'static,
    E::Event: Debug + Send + 'static,
    F: Fn(Peer) -> E + Send + Sync + 'static,
{
    let make = Arc::new(make);
    let gate = ConnectionGate::of(&settings);
    let clock = Clock::start();
    let inner_tracker = tracker.clone();
    tracker.spawn(async move {
        while let Some((stream, remote, permit)) =
            next_connection(&listener, &gate, &shutdown, &inner_tracker).await
        {
            let local = stream.local_addr().unwrap_or(remote);
            let engine = make(Peer { remote, local });
            let span = info_span!("conn", server = settings.name, peer = %remote);
            let connection = Connection {
                clock,
                idle: settings.idle_timeout,
                write_timeout: settings.write_timeout,
                blocking: settings.blocking,
                shutdown: shutdown.clone(),
            };
            inner_tracker.spawn(
                async move {
                    debug!("accepted");
                    if let Err(e) = connection.run(stream, engine).await {
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

/// Waits for a connection and takes a slot for it from `gate`; a client
/// that finds every slot taken is refused (see [`ConnectionGate`]) and the
/// wait goes on. `None` once `shutdown` fires. The slot goes with the
/// connection: drop it when the connection ends. A failed accept (out of
/// file descriptors, say) is logged and retried.
pub async fn next_connection(
    listener: &TcpListener,
    gate: &ConnectionGate,
    shutdown: &CancellationToken,
    tracker: &TaskTracker,
) -> Option<(TcpStream, SocketAddr, OwnedSemaphorePermit)> {
    loop {
        let (stream, remote) = tokio::select! {
            _ = shutdown.cancelled() => return None,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Running out of file descriptors is transient; back off.
                    warn!(server = gate.name, "accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        // Replies are written whole: without NODELAY a reply that follows
        // another (FTP's 226 after its 150) waits for the client's delayed
        // ACK, some 40 ms that students would read as the network's.
        let _ = stream.set_nodelay(true);
        match gate.permits.clone().try_acquire_owned() {
            Ok(permit) => return Some((stream, remote, permit)),
            Err(_) => gate.refuse(stream, remote, tracker),
        }
    }
}

/// How one TCP connection of a server is driven.
struct Connection {
    clock: Clock,
    idle: Duration,
    write_timeout: Duration,
    blocking: bool,
    shutdown: CancellationToken,
}

impl Connection {
    /// Reads, feeds the engine, writes what it transmits and honours its
    /// deadlines, until the engine closes, the peer goes away, the
    /// connection sits idle, a write is not taken in time or the server
    /// shuts down.
    async fn run<E>(&self, mut stream: TcpStream, engine: E) -> std::io::Result<()>
    where
        E: Engine + Send + 'static,
        E::Event: Debug + Send + 'static,
    {
        let mut engine = Some(engine);
        let mut buf = vec![0u8; 16 * 1024];
        let mut peer_done = false;
        // Engines may greet first (SMTP 220, POP3 +OK): drain before reading.
        let mut drained = step(&mut engine, self.blocking, |_| {}).await?;
        // One idle timer for the whole connection, moved only when it fires
        // early: a fresh timer per request cost a timer-wheel insertion
        // and removal on every round.
        let idle = tokio::time::sleep(self.idle);
        tokio::pin!(idle);
        loop {
            let deadline = match self.flush(&mut stream, drained.outputs).await? {
                Step::Close => return close(stream).await,
                Step::Wait(d) => d,
            };
            if drained.more {
                // The engine has more to send: write it before reading on.
                drained = step(&mut engine, self.blocking, |_| {}).await?;
                continue;
            }
            if peer_done && deadline.is_none() {
                // The peer is gone and the engine waits for nothing: done.
                return close(stream).await;
            }
            let engine_sleep = async {
                match deadline {
                    Some(at) => tokio::time::sleep_until(self.clock.instant(at)).await,
                    None => std::future::pending().await,
                }
            };
            let idle_until = tokio::time::Instant::now() + self.idle;
            drained = tokio::select! {
                _ = self.shutdown.cancelled() => return stream.shutdown().await,
                _ = sleep_on_until(idle.as_mut(), idle_until) => {
                    debug!("idle timeout");
                    return close(stream).await;
                }
                _ = engine_sleep => {
                    let now = self.clock.now();
                    step(&mut engine, self.blocking, move |e| e.handle_timeout(now)).await?
                }
                read = stream.read(&mut buf), if !peer_done => {
                    let now = self.clock.now();
                    match read? {
                        0 => {
                            peer_done = true;
                            step(&mut engine, self.blocking, move |e| e.handle_eof(now)).await?
                        }
                        n => {
                            let input = buf[..n].to_vec();
                            step(&mut engine, self.blocking, move |e| e.handle_input(&input, now))
                                .await?
                        }
                    }
                }
            };
        }
    }

    /// Writes what the engine transmitted, each write bounded by the write
    /// timeout and cut short by shutdown.
    async fn flush<Ev: Debug>(
        &self,
        stream: &mut TcpStream,
        outputs: Vec<Output<Ev>>,
    ) -> std::io::Result<Step> {
        for output in outputs {
            match output {
                Output::Transmit(bytes) => {
                    let rest = write_what_fits(stream, &bytes)?;
                    if rest.is_empty() {
                        continue;
                    }
                    tokio::select! {
                        _ = self.shutdown.cancelled() => return Ok(Step::Close),
                        written = tokio::time::timeout(self.write_timeout, stream.write_all(rest)) => {
                            written.map_err(|_| {
                                std::io::Error::new(
                                    std::io::ErrorKind::TimedOut,
                                    "the client did not read what the server sent",
                                )
                            })??
                        }
                    }
                }
                Output::Event(event) => debug!(?event),
                Output::Close => return Ok(Step::Close),
                Output::Wait(deadline) => return Ok(Step::Wait(deadline)),
            }
        }
        Ok(Step::Wait(None))
    }
}

/// Waits on `sleep` until `until`: a timer set for an earlier instant (by
/// an earlier wait) is moved to `until` when it fires, not before. So a
/// loop that pushes its idle deadline on every turn keeps one timer armed
/// instead of arming and disarming one per turn.
pub(crate) async fn sleep_on_until(mut sleep: Pin<&mut Sleep>, until: tokio::time::Instant) {
    loop {
        sleep.as_mut().await;
        if sleep.deadline() >= until {
            return;
        }
        sleep.as_mut().reset(until);
    }
}

/// Writes what the socket takes now, without waiting, and returns what is
/// left. Most answers fit in the socket's buffer at once: they then cost no
/// timer, which the write timeout would arm and disarm for every answer;
/// what does not fit is written under that timeout as before.
fn write_what_fits<'a>(stream: &TcpStream, bytes: &'a [u8]) -> std::io::Result<&'a [u8]> {
    let mut rest = bytes;
    while !rest.is_empty() {
        match stream.try_write(rest) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => rest = &rest[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
            Err(e) => return Err(e),
        }
    }
    Ok(rest)
}

enum Step {
    Close,
    Wait(Option<Millis>),
}

/// What one drain of an engine gave: its outputs, and whether it stopped
/// at [`DRAIN_BUDGET`] with more to give.
struct Drained<Ev> {
    outputs: Vec<Output<Ev>>,
    more: bool,
}

/// Runs one `handle_*` call and drains the engine up to [`DRAIN_BUDGET`]
/// bytes, on the blocking pool when `blocking` is set (the engine travels
/// there and back).
async fn step<E>(
    engine: &mut Option<E>,
    blocking: bool,
    call: impl FnOnce(&mut E) + Send + 'static,
) -> std::io::Result<Drained<E::Event>>
where
    E: Engine + Send + 'static,
    E::Event: Send + 'static,
{
    fn run<E: Engine>(engine: &mut E, call: impl FnOnce(&mut E)) -> Drained<E::Event> {
        call(engine);
        let mut outputs = Vec::new();
        let mut bytes = 0;
        loop {
            let output = engine.poll_output();
            let last = matches!(output, Output::Wait(_) | Output::Close);
            if let Output::Transmit(data) = &output {
                bytes += data.len();
            }
            outputs.push(output);
            if last {
                return Drained {
                    outputs,
                    more: false,
                };
            }
            if bytes >= DRAIN_BUDGET {
                return Drained {
                    outputs,
                    more: true,
                };
            }
        }
    }
    let Some(mut current) = engine.take() else {
        return Err(std::io::Error::other("the engine was lost"));
    };
    if !blocking {
        let drained = run(&mut current, call);
        *engine = Some(current);
        return Ok(drained);
    }
    let (current, drained) = tokio::task::spawn_blocking(move || {
        let drained = run(&mut current, call);
        (current, drained)
    })
    .await
    .map_err(|e| std::io::Error::other(format!("the engine failed: {e}")))?;
    *engine = Some(current);
    Ok(drained)
}

/// Closes our side, then reads and drops what the client still sends for
/// a moment (bounded in time and bytes): closing with unread bytes would
/// make the kernel reset the connection, and the client could lose the
/// last reply (a 421, a 408) before it reads it.
async fn close(mut stream: TcpStream) -> std::io::Result<()> {
    stream.flush().await?;
    stream.shutdown().await?;
    let _ = tokio::time::timeout(LINGER_TIME, async {
        let mut sink = [0u8; 4096];
        let mut left = LINGER_BYTES;
        while left > 0 {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(n) => left = left.saturating_sub(n),
            }
        }
    })
    .await;
    Ok(())
}

/// How long, and how many bytes, [`close`] reads after its last reply.
const LINGER_TIME: Duration = Duration::from_secs(2);
const LINGER_BYTES: usize = 256 * 1024;

/// How many engines one UDP server keeps waiting for a deadline by default.
pub const DEFAULT_MAX_PENDING_DATAGRAMS: usize = 1024;

/// Settings of one UDP server.
#[derive(Debug, Clone)]
pub struct UdpServerSettings {
    /// Name in logs ("dns-root").
    pub name: &'static str,
    /// Engines kept waiting for a deadline (replies held back) at once.
    /// At the cap a datagram is dropped unanswered, as an overloaded server
    /// drops what it cannot queue: a flood costs a bounded amount of memory
    /// and no tasks.
    pub max_pending: usize,
}

/// What a UDP server counts, readable while it runs.
#[derive(Debug, Default)]
pub struct UdpStats {
    pending: std::sync::atomic::AtomicUsize,
    peak: std::sync::atomic::AtomicUsize,
    dropped: std::sync::atomic::AtomicU64,
}

/// The counters are read for logs and tests only: no ordering needed.
const RELAXED: std::sync::atomic::Ordering = std::sync::atomic::Ordering::Relaxed;

impl UdpStats {
    /// Engines waiting for a deadline now.
    pub fn pending(&self) -> usize {
        self.pending.load(RELAXED)
    }

    /// The most engines that ever waited at once.
    pub fn peak(&self) -> usize {
        self.peak.load(RELAXED)
    }

    /// Datagrams dropped because `max_pending` engines were waiting.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(RELAXED)
    }

    fn set_pending(&self, n: usize) {
        self.pending.store(n, RELAXED);
        self.peak.fetch_max(n, RELAXED);
    }
}

/// Answers datagrams on `socket` until `shutdown`: a fresh engine from `make`
/// for each datagram, everything it transmits sent back to the sender, at
/// most [`DEFAULT_MAX_PENDING_DATAGRAMS`] engines waiting at once (see
/// [`serve_udp_bounded`]).
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
    let settings = UdpServerSettings {
        name,
        max_pending: DEFAULT_MAX_PENDING_DATAGRAMS,
    };
    serve_udp_bounded(socket, settings, make, shutdown, tracker);
}

/// [`serve_udp`] with its settings; returns the server's counters. An
/// engine that asks to be woken later (`Wait(Some(deadline))`, a DNS server
/// holding its reply back for its simulated distance) waits in a queue
/// ordered by deadline, in the same task, so the socket keeps serving
/// others; at most `settings.max_pending` wait, and a datagram that comes
/// while the queue is full is dropped (logged at debug level).
pub fn serve_udp_bounded<E, F>(
    socket: UdpSocket,
    settings: UdpServerSettings,
    make: F,
    shutdown: CancellationToken,
    tracker: &TaskTracker,
) -> Arc<UdpStats>
where
    E: Engine + Send + 'static,
    E::Event: Debug + Send,
    F: Fn(Peer) -> E + Send + Sync + 'static,
{
    let stats = Arc::new(UdpStats::default());
    let server = UdpServer {
        local: socket.local_addr().ok(),
        socket,
        name: settings.name,
        make,
        clock: Clock::start(),
        waiting: Waiting::new(settings.max_pending.max(1)),
        stats: stats.clone(),
    };
    tracker.spawn(server.run(shutdown));
    stats
}

/// One UDP server's task: its socket, its waiting engines, its counters.
struct UdpServer<E, F> {
    socket: UdpSocket,
    local: Option<SocketAddr>,
    name: &'static str,
    make: F,
    clock: Clock,
    waiting: Waiting<E>,
    stats: Arc<UdpStats>,
}

impl<E, F> UdpServer<E, F>
where
    E: Engine + Send + 'static,
    E::Event: Debug + Send,
    F: Fn(Peer) -> E + Send + Sync + 'static,
{
    async fn run(mut self, shutdown: CancellationToken) {
        // The largest UDP payload; anything longer was cut by the kernel anyway.
        let mut buf = vec![0u8; 65_535];
        loop {
            let next = self.waiting.next_deadline();
            let clock = self.clock;
            let wake = async {
                match next {
                    Some(at) => tokio::time::sleep_until(clock.instant(at)).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = wake => self.wake_due().await,
                received = self.socket.recv_from(&mut buf) => match received {
                    Ok((n, remote)) => self.answer(&buf[..n], remote).await,
                    // ICMP errors from earlier replies surface here; keep serving.
                    Err(e) => debug!(server = self.name, "recv_from: {e}"),
                },
            }
            self.stats.set_pending(self.waiting.len());
        }
    }

    /// Wakes the engines whose deadline has come.
    async fn wake_due(&mut self) {
        let now = self.clock.now();
        while let Some(mut w) = self.waiting.pop_due(now) {
            w.engine.handle_timeout(now);
            let next = drain_datagrams(&self.socket, &mut w.engine, self.name, w.remote).await;
            if let Some(at) = next {
                self.waiting.push(at, w.engine, w.remote);
            }
        }
    }

    /// A fresh engine for one datagram, or the datagram dropped when the
    /// queue of waiting engines is full.
    async fn answer(&mut self, datagram: &[u8], remote: SocketAddr) {
        if self.waiting.is_full() {
            let dropped = self.stats.dropped.fetch_add(1, RELAXED) + 1;
            debug!(
                server = self.name, peer = %remote,
                "dropped a datagram: {} replies already wait ({dropped} dropped so far)",
                self.waiting.len(),
            );
            return;
        }
        let mut engine = (self.make)(Peer {
            remote,
            local: self.local.unwrap_or(remote),
        });
        engine.handle_input(datagram, self.clock.now());
        if let Some(at) = drain_datagrams(&self.socket, &mut engine, self.name, remote).await {
            self.waiting.push(at, engine, remote);
        }
    }
}

/// Datagram engines waiting for their deadlines, earliest first, at most
/// `cap` of them.
struct Waiting<E> {
    heap: std::collections::BinaryHeap<std::cmp::Reverse<WaitingEngine<E>>>,
    cap: usize,
    /// Arrival order, so that equal deadlines keep it.
    next_seq: u64,
}

struct WaitingEngine<E> {
    at: Millis,
    seq: u64,
    engine: E,
    remote: SocketAddr,
}

impl<E> PartialEq for WaitingEngine<E> {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl<E> Eq for WaitingEngine<E> {}

impl<E> PartialOrd for WaitingEngine<E> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl<E> Ord for WaitingEngine<E> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

impl<E> Waiting<E> {
    fn new(cap: usize) -> Self {
        Waiting {
            heap: std::collections::BinaryHeap::new(),
            cap,
            next_seq: 0,
        }
    }

    fn len(&self) -> usize {
        self.heap.len()
    }

    fn is_full(&self) -> bool {
        self.heap.len() >= self.cap
    }

    /// Queues an engine. An engine already in hand (woken, and waiting
    /// again) is kept even at the cap: the cap refuses new datagrams only.
    fn push(&mut self, at: Millis, engine: E, remote: SocketAddr) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(std::cmp::Reverse(WaitingEngine {
            at,
            seq,
            engine,
            remote,
        }));
    }

    fn next_deadline(&self) -> Option<Millis> {
        self.heap.peek().map(|w| w.0.at)
    }

    fn pop_due(&mut self, now: Millis) -> Option<WaitingEngine<E>> {
        if self.next_deadline()? > now {
            return None;
        }
        self.heap.pop().map(|w| w.0)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiting_engines_come_out_by_deadline_then_arrival() {
        let remote: SocketAddr = "127.0.0.1:5353".parse().unwrap();
        let mut waiting = Waiting::new(3);
        waiting.push(Millis(40), "late", remote);
        waiting.push(Millis(10), "first", remote);
        waiting.push(Millis(10), "second", remote);
        assert!(waiting.is_full());
        assert_eq!(waiting.next_deadline(), Some(Millis(10)));
        assert!(waiting.pop_due(Millis(9)).is_none());
        let due: Vec<&str> = std::iter::from_fn(|| waiting.pop_due(Millis(10)))
            .map(|w| w.engine)
            .collect();
        assert_eq!(due, ["first", "second"]);
        assert!(!waiting.is_full());
        assert_eq!(waiting.pop_due(Millis(100)).map(|w| w.engine), Some("late"));
        assert_eq!(waiting.len(), 0);
        assert_eq!(waiting.next_deadline(), None);
    }
}
