//! Drives one FTP control connection: the shared [`FtpServer`] engine over a
//! tokio socket, plus the data connections it asks for.
//!
//! The generic driver (`crate::driver`) runs engines that only talk on their
//! own connection; FTP also needs data connections, which this driver opens
//! on the engine's [`DataRequest`]s and reports back as [`DataEvent`]s:
//!
//! - `Listen`: a listener on a free port of the passive range, bound to the
//!   server's address; it accepts one connection, only from the control
//!   connection's peer address (anyone else is dropped), within the data
//!   timeout;
//! - `Connect`: a connection to the client's PORT/EPRT address, which must be
//!   the control peer's address (the engine checks it; this driver checks it
//!   again);
//! - each data connection runs in its own task, fed by a channel of
//!   `Send`/`Close` commands and reporting `Received`, `PeerClosed`, `Closed`
//!   and `Failed` on one channel back to the session, so events keep their
//!   order. `Abort` and the end of the session abort the task.

use crate::driver::Clock;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};
use wirelab_shared::engine::{Engine, Output};
use wirelab_shared::ftp::fs::FileTree;
use wirelab_shared::ftp::server::{DataConnId, DataEvent, DataRequest, FtpServer, ServerEvent};
use wirelab_shared::relay_protocol::PortRange;

/// What every session of one FTP server shares.
#[derive(Debug)]
pub struct FtpDriverSettings {
    /// The address passive listeners bind.
    pub host: IpAddr,
    pub passive_ports: PortRange,
    /// How long a passive listener waits for its client, and an active
    /// connection for the client to answer.
    pub data_timeout: Duration,
    pub idle_timeout: Duration,
    pub clock: Clock,
    /// Round-robin start in the passive range, so ports are not reused at once.
    pub next_port: AtomicU32,
}

enum DataCmd {
    Send(Vec<u8>),
    Close,
}

struct DataHandle {
    commands: mpsc::UnboundedSender<DataCmd>,
    task: Option<AbortHandle>,
}

type Events = mpsc::UnboundedSender<(DataConnId, DataEvent)>;

/// Runs one session until the engine closes, the client goes away, the
/// session sits idle or the server shuts down.
pub async fn run_session<T: FileTree>(
    mut control: TcpStream,
    mut engine: FtpServer<T>,
    peer: SocketAddr,
    settings: Arc<FtpDriverSettings>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let (events_tx, mut events_rx) = mpsc::unbounded_channel();
    let mut conns: HashMap<DataConnId, DataHandle> = HashMap::new();
    let result = async {
        let mut buf = vec![0u8; 16 * 1024];
        let mut peer_done = false;
        loop {
            let deadline = match flush(&mut control, &mut engine, &mut conns, &events_tx, peer, &settings).await? {
                None => return control.shutdown().await,
                Some(deadline) => deadline,
            };
            if peer_done && deadline.is_none() && conns.is_empty() {
                return Ok(());
            }
            let clock = settings.clock;
            let engine_sleep = async {
                match deadline {
                    Some(at) => tokio::time::sleep_until(clock.instant(at)).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => {
                    let _ = control.write_all(b"421 Server shutting down\r\n").await;
                    return control.shutdown().await;
                }
                _ = tokio::time::sleep(settings.idle_timeout) => {
                    debug!("idle timeout");
                    let _ = control.write_all(b"421 Idle timeout, closing control connection\r\n").await;
                    return control.shutdown().await;
                }
                _ = engine_sleep => engine.handle_timeout(clock.now()),
                Some((id, event)) = events_rx.recv() => {
                    if matches!(event, DataEvent::Closed | DataEvent::Failed { .. }) {
                        conns.remove(&id);
                    }
                    engine.handle_data(id, event, clock.now());
                }
                read = control.read(&mut buf), if !peer_done => match read? {
                    0 => {
                        peer_done = true;
                        engine.handle_eof(clock.now());
                    }
                    n => engine.handle_input(&buf[..n], clock.now()),
                },
            }
        }
    }
    .await;
    for (_, handle) in conns.drain() {
        if let Some(task) = handle.task {
            task.abort();
        }
    }
    result
}

/// Drains the engine: control bytes out, data requests carried out. `None`
/// when the engine closed the control connection.
async fn flush<T: FileTree>(
    control: &mut TcpStream,
    engine: &mut FtpServer<T>,
    conns: &mut HashMap<DataConnId, DataHandle>,
    events: &Events,
    peer: SocketAddr,
    settings: &Arc<FtpDriverSettings>,
) -> std::io::Result<Option<Option<wirelab_shared::Millis>>> {
    loop {
        match engine.poll_output() {
            Output::Transmit(bytes) => control.write_all(&bytes).await?,
            Output::Event(ServerEvent::Data(request)) => {
                data_request(request, conns, events, peer, settings).await;
            }
            Output::Event(event) => debug!(?event),
            Output::Close => {
                control.flush().await?;
                return Ok(None);
            }
            Output::Wait(deadline) => return Ok(Some(deadline)),
        }
    }
}

async fn data_request(
    request: DataRequest,
    conns: &mut HashMap<DataConnId, DataHandle>,
    events: &Events,
    peer: SocketAddr,
    settings: &Arc<FtpDriverSettings>,
) {
    match request {
        DataRequest::Listen { id } => {
            let (tx, rx) = mpsc::unbounded_channel();
            let task = match bind_passive(settings).await {
                Ok(listener) => {
                    let addr = listener
                        .local_addr()
                        .unwrap_or(SocketAddr::new(settings.host, 0));
                    let _ = events.send((id, DataEvent::Listening { addr }));
                    let events = events.clone();
                    let timeout = settings.data_timeout;
                    Some(
                        tokio::spawn(async move {
                            match accept_from(&listener, peer.ip(), timeout).await {
                                Some(stream) => {
                                    drop(listener);
                                    run_data(stream, id, rx, events).await;
                                }
                                None => {
                                    let _ = events.send((
                                        id,
                                        DataEvent::Failed {
                                            reason: format!(
                                                "nothing connected within {} s",
                                                timeout.as_secs()
                                            ),
                                        },
                                    ));
                                }
                            }
                        })
                        .abort_handle(),
                    )
                }
                Err(reason) => {
                    warn!("passive listener: {reason}");
                    let _ = events.send((id, DataEvent::Failed { reason }));
                    None
                }
            };
            conns.insert(id, DataHandle { commands: tx, task });
        }
        DataRequest::Connect { id, addr } => {
            let (tx, rx) = mpsc::unbounded_channel();
            let events = events.clone();
            let timeout = settings.data_timeout;
            let task = tokio::spawn(async move {
                if addr.ip().to_canonical() != peer.ip().to_canonical() {
                    let _ = events.send((
                        id,
                        DataEvent::Failed {
                            reason: "active mode connects only to the control connection's peer"
                                .into(),
                        },
                    ));
                    return;
                }
                match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
                    Ok(Ok(stream)) => run_data(stream, id, rx, events).await,
                    Ok(Err(e)) => {
                        let _ = events.send((
                            id,
                            DataEvent::Failed {
                                reason: e.to_string(),
                            },
                        ));
                    }
                    Err(_) => {
                        let _ = events.send((
                            id,
                            DataEvent::Failed {
                                reason: format!(
                                    "{addr} did not answer within {} s",
                                    timeout.as_secs()
                                ),
                            },
                        ));
                    }
                }
            });
            conns.insert(
                id,
                DataHandle {
                    commands: tx,
                    task: Some(task.abort_handle()),
                },
            );
        }
        DataRequest::Send { id, bytes } => {
            if let Some(handle) = conns.get(&id) {
                let _ = handle.commands.send(DataCmd::Send(bytes));
            }
        }
        DataRequest::Close { id } => {
            if let Some(handle) = conns.get(&id) {
                let _ = handle.commands.send(DataCmd::Close);
            }
        }
        DataRequest::Abort { id } => {
            if let Some(handle) = conns.remove(&id)
                && let Some(task) = handle.task
            {
                task.abort();
            }
        }
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

/// Accepts the first connection from `allowed` within `timeout`; others are
/// closed at once (an FTP server that took any comer would hand the file to
/// whoever raced for the port).
async fn accept_from(
    listener: &TcpListener,
    allowed: IpAddr,
    timeout: Duration,
) -> Option<TcpStream> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let (stream, remote) = tokio::time::timeout_at(deadline, listener.accept())
            .await
            .ok()?
            .ok()?;
        if remote.ip().to_canonical() == allowed.to_canonical() {
            return Some(stream);
        }
        debug!(%remote, "refused a data connection from a foreign address");
    }
}

/// One open data connection: writes what the session sends, reports what the
/// client sends, until closed.
async fn run_data(
    stream: TcpStream,
    id: DataConnId,
    mut commands: mpsc::UnboundedReceiver<DataCmd>,
    events: Events,
) {
    let _ = stream.set_nodelay(true);
    let (mut reader, mut writer) = stream.into_split();
    if events.send((id, DataEvent::Opened)).is_err() {
        return;
    }
    let mut buf = vec![0u8; 16 * 1024];
    let mut peer_done = false;
    loop {
        tokio::select! {
            command = commands.recv() => match command {
                Some(DataCmd::Send(bytes)) => {
                    if let Err(e) = writer.write_all(&bytes).await {
                        let _ = events.send((id, DataEvent::Failed { reason: e.to_string() }));
                        return;
                    }
                }
                Some(DataCmd::Close) => {
                    let event = match writer.shutdown().await {
                        Ok(()) => DataEvent::Closed,
                        Err(e) => DataEvent::Failed { reason: e.to_string() },
                    };
                    let _ = events.send((id, event));
                    return;
                }
                None => return,
            },
            read = reader.read(&mut buf), if !peer_done => match read {
                Ok(0) => {
                    peer_done = true;
                    let _ = events.send((id, DataEvent::PeerClosed));
                }
                Ok(n) => {
                    let _ = events.send((id, DataEvent::Received(buf[..n].to_vec())));
                }
                Err(e) => {
                    let _ = events.send((id, DataEvent::Failed { reason: e.to_string() }));
                    return;
                }
            },
        }
    }
}
