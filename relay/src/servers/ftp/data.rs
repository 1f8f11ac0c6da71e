//! One FTP data connection, in its own task: writes what the session sends
//! (`Send`, then `Close`), reports what the client sends, and reports back
//! on the session's events channel (`Opened`, `Received`, `PeerClosed`,
//! `Closed`, `Failed`), in order.
//!
//! Every wait is bounded or stoppable: a write the client does not take
//! within the send timeout fails the transfer (the engine answers `426`),
//! and the task's stop token (Abort, the end of the session, shutdown) ends
//! it wherever it waits. The caller spawns [`run_active`] or [`run`] in the
//! server's task tracker.

use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use wirelab_shared::ftp::server::{DataConnId, DataEvent};

/// What the session asks of a data connection.
pub enum DataCmd {
    Send(Vec<u8>),
    Close,
}

/// The session's end of the events channel.
pub type Events = mpsc::Sender<(DataConnId, DataEvent)>;

/// What one data task needs besides its socket.
pub struct DataTask {
    pub id: DataConnId,
    pub commands: mpsc::Receiver<DataCmd>,
    pub events: Events,
    pub stop: CancellationToken,
    pub send_timeout: Duration,
}

/// Active mode: connects to the client (only ever the control connection's
/// peer) within `timeout`, then runs the connection.
pub async fn run_active(addr: SocketAddr, peer: SocketAddr, timeout: Duration, task: DataTask) {
    if addr.ip().to_canonical() != peer.ip().to_canonical() {
        let reason = "active mode connects only to the control connection's peer".into();
        report(&task, DataEvent::Failed { reason }).await;
        return;
    }
    let connected = tokio::select! {
        _ = task.stop.cancelled() => return,
        connected = tokio::time::timeout(timeout, TcpStream::connect(addr)) => connected,
    };
    let reason = match connected {
        Ok(Ok(stream)) => return run(stream, task).await,
        Ok(Err(e)) => e.to_string(),
        Err(_) => format!("{addr} did not answer within {} s", timeout.as_secs()),
    };
    report(&task, DataEvent::Failed { reason }).await;
}

/// Runs an open data connection until it is closed, fails or is stopped.
pub async fn run(stream: TcpStream, mut task: DataTask) {
    let stop = task.stop.clone();
    tokio::select! {
        _ = stop.cancelled() => {}
        _ = transfer(stream, &mut task) => {}
    }
}

async fn transfer(stream: TcpStream, task: &mut DataTask) {
    let _ = stream.set_nodelay(true);
    let (mut reader, mut writer) = stream.into_split();
    if !report(task, DataEvent::Opened).await {
        return;
    }
    let mut buf = vec![0u8; 16 * 1024];
    let mut peer_done = false;
    loop {
        let event = tokio::select! {
            command = task.commands.recv() => match command {
                Some(DataCmd::Send(bytes)) => {
                    match bounded(task.send_timeout, writer.write_all(&bytes)).await {
                        Ok(()) => continue,
                        Err(reason) => DataEvent::Failed { reason },
                    }
                }
                Some(DataCmd::Close) => match bounded(task.send_timeout, writer.shutdown()).await {
                    Ok(()) => DataEvent::Closed,
                    Err(reason) => DataEvent::Failed { reason },
                },
                None => return,
            },
            read = reader.read(&mut buf), if !peer_done => match read {
                Ok(0) => {
                    peer_done = true;
                    DataEvent::PeerClosed
                }
                Ok(n) => DataEvent::Received(buf[..n].to_vec()),
                Err(e) => DataEvent::Failed { reason: e.to_string() },
            },
        };
        let last = matches!(event, DataEvent::Closed | DataEvent::Failed { .. });
        if !report(task, event).await || last {
            return;
        }
    }
}

/// Reports to the session; false when the session is gone or stopped us.
/// Waiting for room here cannot deadlock: the session never waits for us.
pub async fn report(task: &DataTask, event: DataEvent) -> bool {
    tokio::select! {
        _ = task.stop.cancelled() => false,
        sent = task.events.send((task.id, event)) => sent.is_ok(),
    }
}

/// A write (one chunk, or the FIN) that fails when the client has not
/// taken it within `timeout`: a client that never reads would otherwise
/// hold the transfer, its port and the file in memory forever.
async fn bounded(
    timeout: Duration,
    write: impl std::future::Future<Output = std::io::Result<()>>,
) -> Result<(), String> {
    match tokio::time::timeout(timeout, write).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!(
            "the client stopped reading the data connection ({} s without progress)",
            timeout.as_secs()
        )),
    }
}
