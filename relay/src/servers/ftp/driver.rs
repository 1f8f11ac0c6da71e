//! Drives one FTP control connection: the shared [`FtpServer`] engine over a
//! tokio socket, plus the data connections it asks for.
//!
//! The generic driver (`crate::driver`) runs engines that only talk on their
//! own connection; FTP also needs data connections, which this driver opens
//! on the engine's [`DataRequest`]s and reports back as [`DataEvent`]s:
//!
//! - `Listen`: a listener on a free port of the passive range, bound to the
//!   server's address, which the session itself polls: it accepts one
//!   connection, only from the control connection's peer address (anyone
//!   else is dropped), within the data timeout. A session has at most
//!   `max_passive_per_session` listeners waiting, the server
//!   `max_passive_listeners`; past either the engine hears `Failed` and
//!   answers `425`. Abort closes a listener at once, so a client repeating
//!   PASV never holds more than one port;
//! - `Connect`: a connection to the client's PORT/EPRT address, which must be
//!   the control peer's address (the engine checks it; this driver checks it
//!   again);
//! - each open data connection runs in its own task ([`super::data`]) of the
//!   server's [`TaskTracker`], fed by a bounded channel of commands and
//!   reporting on one bounded channel back to the session, so events keep
//!   their order. `Abort`, the end of the session and shutdown stop it.
//!
//! No await on a full channel while the other side awaits you: the session
//! never waits for a data task. Commands that find a task's channel full
//! wait in that connection's backlog (the file the engine handed over, so at
//! most `max_file_bytes`), and the session's loop moves them on as the task
//! makes room; a task may wait for room in the events channel, which the
//! session's loop always drains. Writes to a client that does not read are
//! bounded by the send timeout, and every wait ends at shutdown.

use super::data::{self, DataCmd, DataTask, Events};
use crate::driver::Clock;
use std::collections::{HashMap, VecDeque};
use std::future::poll_fn;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::task::Poll;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, warn};
use wirelab_shared::engine::{Engine, Millis, Output};
use wirelab_shared::ftp::fs::FileTree;
use wirelab_shared::ftp::server::{DataConnId, DataEvent, DataRequest, FtpServer, ServerEvent};
use wirelab_shared::relay_protocol::PortRange;

/// Commands queued in one data task's channel: a few chunks ahead of the
/// socket keep it busy; the rest waits in the session's backlog.
const DATA_COMMANDS: usize = 4;
/// Events queued from a session's data tasks: enough for a transfer's
/// reads to flow while the session answers on the control connection.
const DATA_EVENTS: usize = 16;
/// How long the goodbye (`421`) may take to go out at shutdown or timeout.
const GOODBYE_TIMEOUT: Duration = Duration::from_secs(1);

/// What every session of one FTP server shares.
#[derive(Debug)]
pub struct FtpDriverSettings {
    /// The address passive listeners bind.
    pub host: IpAddr,
    pub passive_ports: PortRange,
    /// How long a passive listener waits for its client, and an active
    /// connection for the client to answer.
    pub data_timeout: Duration,
    /// How long a write to the client (control or data) may wait for the
    /// client to read before the connection is given up.
    pub send_timeout: Duration,
    /// A control connection with no traffic for this long is closed.
    pub idle_timeout: Duration,
    /// Passive listeners one session may have waiting at once.
    pub max_passive_per_session: usize,
    /// Passive listeners waiting at once, all sessions together.
    pub passive_listeners: Arc<Semaphore>,
    pub clock: Clock,
    /// Round-robin start in the passive range, so ports are not reused at once.
    pub next_port: AtomicU32,
    /// Where data connection tasks run, so shutdown waits for them.
    pub tracker: TaskTracker,
}

/// The session's side of one data connection (or passive listener).
struct DataHandle {
    commands: mpsc::Sender<DataCmd>,
    /// Commands the channel had no room for yet, in order.
    backlog: VecDeque<DataCmd>,
    /// Stops the task (Abort; a child of the session's token).
    stop: CancellationToken,
    /// A passive listener still waiting for its client.
    waiting: Option<Waiting>,
}

/// A passive listener, polled by the session until its client connects.
struct Waiting {
    listener: TcpListener,
    until: Instant,
    /// The task's end of the commands channel, handed over once connected.
    commands: mpsc::Receiver<DataCmd>,
    /// Counts the listener against the server's cap until it is dropped.
    _permit: OwnedSemaphorePermit,
}

/// Runs one session until the engine closes, the client goes away, the
/// session sits idle or the server shuts down.
pub async fn run_session<T: FileTree>(
    control: TcpStream,
    engine: FtpServer<T>,
    peer: SocketAddr,
    settings: Arc<FtpDriverSettings>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let session = shutdown.child_token();
    // Every data task of the session stops with it, however it ends.
    let _stop_data = session.clone().drop_guard();
    let (events_tx, events_rx) = mpsc::channel(DATA_EVENTS);
    let mut run = Session {
        control,
        engine,
        peer,
        settings,
        session,
        conns: HashMap::new(),
        events: events_tx,
    };
    run.run(events_rx).await
}

struct Session<T: FileTree> {
    control: TcpStream,
    engine: FtpServer<T>,
    peer: SocketAddr,
    settings: Arc<FtpDriverSettings>,
    /// Cancelled at shutdown and when the session ends.
    session: CancellationToken,
    conns: HashMap<DataConnId, DataHandle>,
    events: Events,
}

impl<T: FileTree> Session<T> {
    async fn run(
        &mut self,
        mut events_rx: mpsc::Receiver<(DataConnId, DataEvent)>,
    ) -> std::io::Result<()> {
        let mut buf = vec![0u8; 16 * 1024];
        let mut peer_done = false;
        let clock = self.settings.clock;
        loop {
            let Some(deadline) = self.flush().await? else {
                return self.control.shutdown().await;
            };
            if peer_done && deadline.is_none() && self.conns.is_empty() {
                return Ok(());
            }
            let engine_sleep = async {
                match deadline {
                    Some(at) => tokio::time::sleep_until(clock.instant(at)).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = self.session.cancelled() => {
                    return self.goodbye(b"421 Server shutting down\r\n").await;
                }
                _ = tokio::time::sleep(self.settings.idle_timeout) => {
                    debug!("idle timeout");
                    return self.goodbye(b"421 Timeout: idle too long, closing control connection\r\n").await;
                }
                _ = engine_sleep => self.engine.handle_timeout(clock.now()),
                Some((id, event)) = events_rx.recv() => self.data_event(id, event),
                (id, room) = room_in(&self.conns) => self.move_backlog(id, room),
                (id, accepted) = accept_in(&self.conns) => self.accepted(id, accepted),
                id = expiry_in(&self.conns) => self.expired(id),
                read = self.control.read(&mut buf), if !peer_done => match read? {
                    0 => {
                        peer_done = true;
                        self.engine.handle_eof(clock.now());
                    }
                    n => self.engine.handle_input(&buf[..n], clock.now()),
                },
            }
        }
    }

    /// A last line to the client, which may not be reading: bounded.
    async fn goodbye(&mut self, line: &[u8]) -> std::io::Result<()> {
        let _ = tokio::time::timeout(GOODBYE_TIMEOUT, self.control.write_all(line)).await;
        let _ = tokio::time::timeout(GOODBYE_TIMEOUT, self.control.shutdown()).await;
        Ok(())
    }

    fn data_event(&mut self, id: DataConnId, event: DataEvent) {
        if matches!(event, DataEvent::Closed | DataEvent::Failed { .. }) {
            self.conns.remove(&id);
        }
        self.engine
            .handle_data(id, event, self.settings.clock.now());
    }

    /// Room came free in `id`'s channel: the oldest waiting command goes.
    fn move_backlog(
        &mut self,
        id: DataConnId,
        room: Result<mpsc::OwnedPermit<DataCmd>, mpsc::error::SendError<()>>,
    ) {
        let Some(handle) = self.conns.get_mut(&id) else {
            return;
        };
        match (room, handle.backlog.pop_front()) {
            (Ok(permit), Some(command)) => drop(permit.send(command)),
            // The task is gone (it failed or was stopped): nobody will send these.
            (Err(_), _) => handle.backlog.clear(),
            (Ok(_), None) => {}
        }
    }

    /// A connection came to `id`'s listener: the client's starts the data
    /// task (and closes the listener); anyone else's is dropped (a server
    /// that took any comer would hand the file to whoever raced for the
    /// port).
    fn accepted(&mut self, id: DataConnId, accepted: std::io::Result<(TcpStream, SocketAddr)>) {
        let (stream, remote) = match accepted {
            Ok(pair) => pair,
            Err(e) => return self.fail(id, format!("accepting the data connection failed: {e}")),
        };
        if remote.ip().to_canonical() != self.peer.ip().to_canonical() {
            debug!(%remote, "refused a data connection from a foreign address");
            return;
        }
        let Some(handle) = self.conns.get_mut(&id) else {
            return;
        };
        let Some(waiting) = handle.waiting.take() else {
            return;
        };
        let task = DataTask {
            id,
            commands: waiting.commands,
            events: self.events.clone(),
            stop: handle.stop.clone(),
            send_timeout: self.settings.send_timeout,
        };
        self.settings.tracker.spawn(data::run(stream, task));
    }

    /// Nobody connected to `id`'s listener in time.
    fn expired(&mut self, id: DataConnId) {
        let secs = self.settings.data_timeout.as_secs();
        self.fail(id, format!("nothing connected within {secs} s"));
    }

    fn fail(&mut self, id: DataConnId, reason: String) {
        self.conns.remove(&id);
        self.engine
            .handle_data(id, DataEvent::Failed { reason }, self.settings.clock.now());
    }

    /// Drains the engine: control bytes out, data requests carried out. `None`
    /// when the engine closed the control connection.
    async fn flush(&mut self) -> std::io::Result<Option<Option<Millis>>> {
        loop {
            match self.engine.poll_output() {
                Output::Transmit(bytes) => self.send_control(&bytes).await?,
                Output::Event(ServerEvent::Data(request)) => {
                    if let Some((id, event)) = self.data_request(request).await {
                        self.engine
                            .handle_data(id, event, self.settings.clock.now());
                    }
                }
                Output::Event(event) => debug!(?event),
                Output::Close => return Ok(None),
                Output::Wait(deadline) => return Ok(Some(deadline)),
            }
        }
    }

    /// Writes a reply; a client that does not read its control connection
    /// within the send timeout, or a shutdown, ends the session.
    async fn send_control(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let write = tokio::time::timeout(self.settings.send_timeout, self.control.write_all(bytes));
        tokio::select! {
            _ = self.session.cancelled() => Err(std::io::ErrorKind::Interrupted.into()),
            written = write => written.map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))?,
        }
    }

    /// Carries out one request; returns an event for the engine that the
    /// session knows at once (the listener's address, or why there is none).
    async fn data_request(&mut self, request: DataRequest) -> Option<(DataConnId, DataEvent)> {
        match request {
            DataRequest::Listen { id } => return Some((id, self.listen(id).await)),
            DataRequest::Connect { id, addr } => self.connect(id, addr),
            DataRequest::Send { id, bytes } => self.queue(id, DataCmd::Send(bytes)),
            DataRequest::Close { id } => self.queue(id, DataCmd::Close),
            DataRequest::Abort { id } => {
                // Dropping the handle closes a listener at once.
                if let Some(handle) = self.conns.remove(&id) {
                    handle.stop.cancel();
                }
            }
        }
        None
    }

    /// Hands a command to the data task, or to the backlog when its channel
    /// is full (never waiting: the task may be waiting for us).
    fn queue(&mut self, id: DataConnId, command: DataCmd) {
        let Some(handle) = self.conns.get_mut(&id) else {
            return;
        };
        if !handle.backlog.is_empty() {
            return handle.backlog.push_back(command);
        }
        match handle.commands.try_send(command) {
            Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => {}
            Err(mpsc::error::TrySendError::Full(command)) => handle.backlog.push_back(command),
        }
    }

    /// PASV/EPSV: a listener within the caps, polled by the session.
    async fn listen(&mut self, id: DataConnId) -> DataEvent {
        let settings = self.settings.clone();
        let waiting = self.conns.values().filter(|h| h.waiting.is_some()).count();
        if waiting >= settings.max_passive_per_session {
            let reason = format!(
                "this session already has {waiting} passive listeners waiting (at most {})",
                settings.max_passive_per_session
            );
            return DataEvent::Failed { reason };
        }
        let Ok(permit) = settings.passive_listeners.clone().try_acquire_owned() else {
            let reason =
                "the server has as many passive listeners waiting as it allows; try again soon";
            return DataEvent::Failed {
                reason: reason.into(),
            };
        };
        let listener = match bind_passive(&settings).await {
            Ok(listener) => listener,
            Err(reason) => {
                warn!("passive listener: {reason}");
                return DataEvent::Failed { reason };
            }
        };
        let addr = listener
            .local_addr()
            .unwrap_or(SocketAddr::new(settings.host, 0));
        let (commands_tx, commands) = mpsc::channel(DATA_COMMANDS);
        self.conns.insert(
            id,
            DataHandle {
                commands: commands_tx,
                backlog: VecDeque::new(),
                stop: self.session.child_token(),
                waiting: Some(Waiting {
                    listener,
                    until: Instant::now() + settings.data_timeout,
                    commands,
                    _permit: permit,
                }),
            },
        );
        DataEvent::Listening { addr }
    }

    /// PORT/EPRT: connect to the client in a task.
    fn connect(&mut self, id: DataConnId, addr: SocketAddr) {
        let (commands_tx, commands) = mpsc::channel(DATA_COMMANDS);
        let stop = self.session.child_token();
        self.conns.insert(
            id,
            DataHandle {
                commands: commands_tx,
                backlog: VecDeque::new(),
                stop: stop.clone(),
                waiting: None,
            },
        );
        let task = DataTask {
            id,
            commands,
            events: self.events.clone(),
            stop,
            send_timeout: self.settings.send_timeout,
        };
        let settings = &self.settings;
        settings.tracker.spawn(data::run_active(
            addr,
            self.peer,
            settings.data_timeout,
            task,
        ));
    }
}

/// The first backlog that can move: waits for room in that connection's
/// channel. Pending when no connection has a backlog.
async fn room_in(
    conns: &HashMap<DataConnId, DataHandle>,
) -> (
    DataConnId,
    Result<mpsc::OwnedPermit<DataCmd>, mpsc::error::SendError<()>>,
) {
    let Some((id, handle)) = conns.iter().find(|(_, h)| !h.backlog.is_empty()) else {
        return std::future::pending().await;
    };
    (*id, handle.commands.clone().reserve_owned().await)
}

/// The next connection to any of the session's waiting listeners.
async fn accept_in(
    conns: &HashMap<DataConnId, DataHandle>,
) -> (DataConnId, std::io::Result<(TcpStream, SocketAddr)>) {
    poll_fn(|cx| {
        for (id, handle) in conns {
            if let Some(waiting) = &handle.waiting
                && let Poll::Ready(accepted) = waiting.listener.poll_accept(cx)
            {
                return Poll::Ready((*id, accepted));
            }
        }
        Poll::Pending
    })
    .await
}

/// The listener whose wait for its client ends first, once it has.
async fn expiry_in(conns: &HashMap<DataConnId, DataHandle>) -> DataConnId {
    let first = conns
        .iter()
        .filter_map(|(id, h)| h.waiting.as_ref().map(|w| (w.until, *id)))
        .min();
    match first {
        Some((until, id)) => {
            tokio::time::sleep_until(until).await;
            id
        }
        None => std::future::pending().await,
    }
}

/// Binds the next free port of the passive range.
async fn bind_passive(settings: &FtpDriverSettings) -> Result<TcpListener, String> {
    let range = settings.passive_ports;
    let count = u32::from(range.last.saturating_sub(range.first)) + 1;
    let start = settings.next_port.fetch_add(1, Ordering::Relaxed);
    for i in 0..count {
        let port = range.first + ((start + i) % count) as u16;
        if let Ok(listener) = TcpListener::bind(SocketAddr::new(settings.host, port)).await {
            return Ok(listener);
        }
    }
    Err(format!(
        "every passive port from {} to {} is in use",
        range.first, range.last
    ))
}
