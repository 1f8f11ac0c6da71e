//! Data connections for protocols with a control connection (FTP): what lets
//! a page open `/ws?target=ftp&data_port=<port>` (passive mode) and ask for
//! `{"type":"listen"}` then `/ws?accept=<id>` (active mode), and nothing more.
//!
//! The rules (relay-protocol.md):
//! - a data port is allowed only for a catalog target that declares a
//!   `data_ports` range, only for a port in it, and only while the same client
//!   address has a control connection to that target open. [`DataChannels`]
//!   keeps that registry: the bridge registers each control session
//!   ([`DataChannels::open_control`], undone when the returned
//!   [`ControlSession`] drops) and asks [`DataChannels::authorize`] before
//!   bridging a data port;
//! - `listen` is allowed only on such a control session: the relay binds a
//!   port on its own address of the control connection, accepts one
//!   connection, only from the control connection's peer (the server), within
//!   the listen timeout, and hands it to the `/ws?accept=<id>` WebSocket of
//!   the same client address ([`DataChannels::take`]). A control session
//!   holds at most [`MAX_LISTENERS`] of them; they end with it, at the
//!   listen timeout, or at shutdown, and run in the relay's [`TaskTracker`]
//!   so shutdown waits for them.

use crate::catalog::target_addr;
use crate::policy::{Allowed, Refusal};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::debug;
use wirelab_shared::relay_protocol::{ConnectQuery, ErrorCode, TargetInfo};

/// Listening sockets one control session may have open at once.
pub const MAX_LISTENERS: usize = 4;

struct PendingAccept {
    client: IpAddr,
    /// The listener's port, closed to `local_programs` while it waits.
    port: u16,
    /// The server's connection, and when the listener accepted it.
    connection: oneshot::Receiver<(TcpStream, Instant)>,
}

#[derive(Default)]
struct Registry {
    /// Open control sessions per (target, client address).
    controls: HashMap<(String, IpAddr), usize>,
    /// Listening sockets waiting to be taken by `/ws?accept=<id>`.
    pending: HashMap<String, PendingAccept>,
}

/// The relay's registry of control sessions and pending active-mode listeners.
pub struct DataChannels {
    registry: Mutex<Registry>,
    listen_timeout: Duration,
    tracker: TaskTracker,
}

/// A control connection that grants data connections while it lives.
pub struct ControlSession {
    channels: Arc<DataChannels>,
    target: String,
    client: IpAddr,
    /// The server's address: the only one a listener accepts.
    server: SocketAddr,
    /// The relay's own address on the control connection: where listeners bind.
    local: SocketAddr,
    listeners: Vec<CancellationToken>,
}

impl Drop for ControlSession {
    fn drop(&mut self) {
        for listener in &self.listeners {
            listener.cancel();
        }
        let mut registry = self.channels.lock();
        let key = (self.target.clone(), self.client);
        if let Some(count) = registry.controls.get_mut(&key) {
            *count -= 1;
            if *count == 0 {
                registry.controls.remove(&key);
            }
        }
    }
}

fn refuse(code: ErrorCode, message: impl Into<String>) -> Refusal {
    Refusal::new(code, "data_channel", message)
}

/// Random, unguessable listener ids (128 bits).
fn new_id() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // No system randomness: randomly keyed hashes of a counter.
        use std::hash::BuildHasher;
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let state = std::collections::hash_map::RandomState::new();
        bytes[..8].copy_from_slice(&state.hash_one(n).to_le_bytes());
        bytes[8..].copy_from_slice(&state.hash_one(!n).to_le_bytes());
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The policy for `?target=<name>&data_port=<port>`: the target must declare
/// a data port range holding `port`. Called by [`crate::policy::decide`];
/// whether a control session is open is checked by [`DataChannels::authorize`].
pub fn data_port_target(target: &TargetInfo, port: u16) -> Result<Allowed, Refusal> {
    let name = &target.name;
    let Some(range) = target.data_ports else {
        return Err(refuse(
            ErrorCode::Forbidden,
            format!("{name} has no data connections: data_port is only for targets such as ftp"),
        ));
    };
    if !range.contains(port) {
        return Err(refuse(
            ErrorCode::Forbidden,
            format!(
                "port {port} is not a data port of {name}: its data ports are {} to {}",
                range.first, range.last
            ),
        ));
    }
    let addr = target_addr(target).ok_or_else(|| {
        refuse(
            ErrorCode::ConnectFailed,
            format!(
                "the catalog entry {name} has no usable address ({})",
                target.host
            ),
        )
    })?;
    Ok(Allowed {
        target: name.clone(),
        transport: target.transport,
        addr: SocketAddr::new(addr.ip(), port),
        fallbacks: Vec::new(),
        kind: crate::policy::TargetKind::BuiltIn,
    })
}

impl DataChannels {
    /// Listener tasks run in `tracker`, the relay's.
    pub fn new(listen_timeout: Duration, tracker: TaskTracker) -> Arc<Self> {
        Arc::new(DataChannels {
            registry: Mutex::new(Registry::default()),
            listen_timeout,
            tracker,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Registry> {
        // A panic while holding the lock leaves plain maps behind: keep going.
        self.registry.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a control session when `target` declares data ports and
    /// `query` is not itself a data connection. The registration lasts as
    /// long as the returned value.
    pub fn open_control(
        self: &Arc<Self>,
        target: Option<&TargetInfo>,
        query: &ConnectQuery,
        client: IpAddr,
        server: SocketAddr,
        local: SocketAddr,
    ) -> Option<ControlSession> {
        let target = target?;
        if target.data_ports.is_none() || query.data_port.is_some() {
            return None;
        }
        *self
            .lock()
            .controls
            .entry((target.name.clone(), client))
            .or_default() += 1;
        Some(ControlSession {
            channels: self.clone(),
            target: target.name.clone(),
            client,
            server,
            local,
            listeners: Vec::new(),
        })
    }

    /// Whether `client` has a control session to `target` open.
    pub fn has_control(&self, target: &str, client: IpAddr) -> bool {
        self.lock()
            .controls
            .contains_key(&(target.to_string(), client))
    }

    /// For a data-port query the policy allowed: refused unless the same
    /// client has the target's control connection open.
    pub fn authorize(
        &self,
        query: &ConnectQuery,
        allowed: &Allowed,
        client: IpAddr,
    ) -> Result<(), Refusal> {
        match query.data_port {
            Some(port) if !self.has_control(&allowed.target, client) => Err(refuse(
                ErrorCode::Forbidden,
                format!(
                    "a data connection to port {port} of {} needs an open control connection \
                     to {} from the same client: connect to ?target={} first",
                    allowed.target, allowed.target, allowed.target
                ),
            )),
            _ => Ok(()),
        }
    }

    /// Whether an active-mode listener of the relay waits on `port`.
    pub fn is_listening_on(&self, port: u16) -> bool {
        self.lock().pending.values().any(|p| p.port == port)
    }

    /// `{"type":"listen"}` on a control session: binds a port that only the
    /// server may connect to, for the listen timeout. Returns its address and
    /// the id for `/ws?accept=<id>`.
    pub async fn listen(
        self: &Arc<Self>,
        control: &mut ControlSession,
        shutdown: &CancellationToken,
    ) -> Result<(SocketAddr, String), Refusal> {
        control.listeners.retain(|t| !t.is_cancelled());
        if control.listeners.len() >= MAX_LISTENERS {
            return Err(refuse(
                ErrorCode::Limit,
                format!("at most {MAX_LISTENERS} listening sockets per control connection"),
            ));
        }
        let listener = TcpListener::bind(SocketAddr::new(control.local.ip(), 0))
            .await
            .map_err(|e| {
                refuse(
                    ErrorCode::ConnectFailed,
                    format!("could not open a listening socket: {e}"),
                )
            })?;
        let addr = listener
            .local_addr()
            .map_err(|e| refuse(ErrorCode::ConnectFailed, e.to_string()))?;
        let id = new_id();
        let (tx, rx) = oneshot::channel();
        self.lock().pending.insert(
            id.clone(),
            PendingAccept {
                client: control.client,
                port: addr.port(),
                connection: rx,
            },
        );
        let done = shutdown.child_token();
        control.listeners.push(done.clone());
        let allowed = control.server.ip().to_canonical();
        let lifetime = self.listen_timeout;
        let channels = self.clone();
        let task_id = id.clone();
        self.tracker.spawn(async move {
            let accepted = async {
                loop {
                    match listener.accept().await {
                        Ok((stream, remote)) if remote.ip().to_canonical() == allowed => {
                            return Some(stream);
                        }
                        Ok((_, remote)) => {
                            debug!(%remote, "listen: refused a connection from a foreign address")
                        }
                        Err(_) => return None,
                    }
                }
            };
            tokio::select! {
                _ = done.cancelled() => {}
                _ = tokio::time::sleep(lifetime) => {}
                stream = accepted => {
                    if let Some(stream) = stream {
                        let _ = tx.send((stream, Instant::now()));
                        // The page has the rest of the lifetime to take it;
                        // once it has, the slot is free for the next transfer.
                        let taken = async {
                            while channels.lock().pending.contains_key(&task_id) {
                                tokio::time::sleep(Duration::from_millis(50)).await;
                            }
                        };
                        tokio::select! {
                            _ = done.cancelled() => {}
                            _ = tokio::time::sleep(lifetime) => {}
                            _ = taken => {}
                        }
                    }
                }
            }
            channels.lock().pending.remove(&task_id);
            done.cancel();
        });
        Ok((addr, id))
    }

    /// `/ws?accept=<id>`: waits (at most the listen timeout) for the server's
    /// connection to the listener `id`, which must belong to `client`. An id
    /// is good for one WebSocket. Returns the connection and when it was
    /// accepted (the page may come for it later).
    pub async fn take(&self, id: &str, client: IpAddr) -> Result<(TcpStream, Instant), Refusal> {
        let pending = {
            let mut registry = self.lock();
            match registry.pending.get(id) {
                Some(p) if p.client == client => registry.pending.remove(id),
                _ => None,
            }
        };
        let Some(pending) = pending else {
            return Err(refuse(
                ErrorCode::Forbidden,
                "no listening socket with this id for this client (it expired, was taken, or was never opened: send {\"type\":\"listen\"} on the control connection)",
            ));
        };
        match tokio::time::timeout(self.listen_timeout, pending.connection).await {
            Ok(Ok(accepted)) => Ok(accepted),
            Ok(Err(_)) => Err(refuse(
                ErrorCode::Timeout,
                "the listening socket closed before the server connected (its control connection ended, or it expired)",
            )),
            Err(_) => Err(refuse(
                ErrorCode::Timeout,
                format!(
                    "the server did not connect within {:?}",
                    self.listen_timeout
                ),
            )),
        }
    }
}
