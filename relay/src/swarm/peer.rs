//! One peer of a relay swarm: a [`Node`] on its own loopback address,
//! announced to the lab's tracker over HTTP from that address, connected
//! to the peers the tracker gave it and accepting the others, its reads
//! and writes paced by two token buckets (d_i and u_i; on the way out
//! only piece messages are charged, so control messages never wait).
//!
//! A client-server leecher (`only_seed`) connects to the seed alone and
//! closes every connection it is offered, so it never uploads.
//!
//! One task owns the node; each connection has a reader task feeding it
//! and a writer task draining a bounded queue, so a slow socket slows that
//! connection alone.

use super::bucket::{Bucket, Pacing};
use super::{PeerView, SwarmShared};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use wirelab_shared::bittorrent::announce::{AnnounceReply, AnnounceRequest, Event};
use wirelab_shared::bittorrent::node::Node;
use wirelab_shared::engine::Millis;

/// What the connection tasks tell the peer's task.
enum Input {
    Bytes(u32, Vec<u8>),
    Closed(u32),
}

/// One peer's sockets and rates.
pub struct PeerSetup {
    pub index: usize,
    pub listener: TcpListener,
    pub node: Node,
    pub up: f64,
    pub down: f64,
    pub tracker: SocketAddr,
    pub info_hash: [u8; 20],
    pub left: u64,
    /// Told once the tracker has this peer, so the next one finds it.
    pub announced: tokio::sync::oneshot::Sender<()>,
    /// The swarm's start, from which every peer's clock and finish count.
    pub started: Instant,
    /// Client-server mode, for a leecher: the seed's address, the one
    /// peer it talks to.
    pub only_seed: Option<SocketAddr>,
}

struct Running {
    index: usize,
    node: Node,
    shared: Arc<SwarmShared>,
    started: Instant,
    writers: std::collections::HashMap<u32, mpsc::Sender<Vec<u8>>>,
    inputs: mpsc::Sender<Input>,
    up: Arc<Bucket>,
    down: Arc<Bucket>,
    /// Bytes through the buckets, in and out, of every connection, and
    /// of those out the ones the upload bucket charged (piece messages).
    wire: Arc<[AtomicU64; 3]>,
    next_key: u32,
    /// Each connection's swarm peer number, known from its address
    /// (127.0.2.x is peer x − 1); absent for a client from outside the swarm.
    peer_numbers: std::collections::HashMap<u32, u32>,
    /// Bytes read from each swarm peer, by its number.
    received_from: std::collections::BTreeMap<u32, u64>,
    cancel: CancellationToken,
}

/// Runs one peer until the swarm is cancelled.
pub async fn run(setup: PeerSetup, shared: Arc<SwarmShared>, cancel: CancellationToken) {
    let local = match setup.listener.local_addr() {
        Ok(a) => a,
        Err(_) => return,
    };
    let (tx, mut rx) = mpsc::channel(256);
    let mut peer = Running {
        index: setup.index,
        node: setup.node,
        shared,
        started: setup.started,
        writers: Default::default(),
        inputs: tx,
        up: Arc::new(Bucket::new(setup.up)),
        down: Arc::new(Bucket::new(setup.down)),
        wire: Arc::default(),
        next_key: 0,
        peer_numbers: Default::default(),
        received_from: Default::default(),
        cancel: cancel.clone(),
    };
    let request = announce_request(setup.info_hash, setup.index, local.port(), setup.left);
    let peers = announce(setup.tracker, local, &request).await;
    let _ = setup.announced.send(());
    let wanted = |addr: &SocketAddr| match setup.only_seed {
        Some(seed) => *addr == seed,
        None => *addr != local,
    };
    for addr in peers.into_iter().filter(wanted) {
        if let Ok(stream) = connect_from(local, addr).await {
            peer.add(stream);
        }
    }
    peer.publish();
    loop {
        let deadline = peer.started + Duration::from_millis(peer.node.next_deadline().0);
        tokio::select! {
            _ = cancel.cancelled() => break,
            accepted = setup.listener.accept() => {
                // A client-server leecher serves nobody: dropping the
                // stream closes it.
                if let Ok((stream, _)) = accepted && setup.only_seed.is_none() {
                    peer.add(stream);
                }
            }
            Some(input) = rx.recv() => peer.handle(input).await,
            _ = tokio::time::sleep_until(deadline) => {
                let now = peer.now();
                peer.node.tick(now);
                peer.flush().await;
            }
        }
    }
}

impl Running {
    fn now(&self) -> Millis {
        Millis(self.started.elapsed().as_millis() as u64)
    }

    fn add(&mut self, stream: TcpStream) {
        let key = self.next_key;
        self.next_key += 1;
        if let Some(number) = stream.peer_addr().ok().and_then(swarm_peer_number) {
            self.peer_numbers.insert(key, number);
        }
        let (mut read, mut write) = stream.into_split();
        let (wtx, mut wrx) = mpsc::channel::<Vec<u8>>(64);
        self.writers.insert(key, wtx);
        let (inputs, down, up) = (self.inputs.clone(), self.down.clone(), self.up.clone());
        let (cancel, wire_in, wire_out) =
            (self.cancel.clone(), self.wire.clone(), self.wire.clone());
        tokio::spawn(async move {
            let mut buf = vec![0u8; 16 * 1024];
            loop {
                let n = tokio::select! {
                    _ = cancel.cancelled() => break,
                    n = read.read(&mut buf) => n.unwrap_or(0),
                };
                if n == 0 {
                    break;
                }
                down.take(n).await;
                wire_in[0].fetch_add(n as u64, Ordering::Relaxed);
                if inputs
                    .send(Input::Bytes(key, buf[..n].to_vec()))
                    .await
                    .is_err()
                {
                    return;
                }
            }
            let _ = inputs.send(Input::Closed(key)).await;
        });
        tokio::spawn(async move {
            while let Some(bytes) = wrx.recv().await {
                let paced = paced_len(&bytes);
                up.take(paced).await;
                if write.write_all(&bytes).await.is_err() {
                    break;
                }
                wire_out[1].fetch_add(bytes.len() as u64, Ordering::Relaxed);
                wire_out[2].fetch_add(paced as u64, Ordering::Relaxed);
            }
        });
        let now = self.now();
        self.node.connect(key, now);
    }

    async fn handle(&mut self, input: Input) {
        match input {
            Input::Bytes(key, bytes) => {
                if let Some(number) = self.peer_numbers.get(&key) {
                    *self.received_from.entry(*number).or_default() += bytes.len() as u64;
                }
                let now = self.now();
                self.node.handle_input(key, &bytes, now);
            }
            Input::Closed(key) => {
                self.node.disconnect(key);
                self.writers.remove(&key);
                self.peer_numbers.remove(&key);
            }
        }
        self.flush().await;
    }

    /// Hands what the node wants sent to the writers, and shows its state.
    async fn flush(&mut self) {
        let (out, closed) = self.node.take_outgoing();
        for (key, bytes) in out {
            if let Some(w) = self.writers.get(&key) {
                let _ = w.send(bytes).await;
            }
        }
        for key in closed {
            self.writers.remove(&key);
        }
        self.publish();
    }

    fn publish(&self) {
        let status = self.node.status();
        let now = self.started.elapsed().as_secs_f64();
        let pacing = Pacing {
            at_secs: now,
            up: self
                .up
                .usage_if_limited(self.wire[2].load(Ordering::Relaxed)),
            down: self
                .down
                .usage_if_limited(self.wire[0].load(Ordering::Relaxed)),
        };
        if let Ok(mut peers) = self.shared.peers.lock() {
            let view: &mut PeerView = &mut peers[self.index];
            view.pieces = status.have.iter().collect();
            view.downloaded = status.downloaded;
            view.uploaded = status.uploaded;
            view.wire_in = self.wire[0].load(Ordering::Relaxed);
            view.wire_out = self.wire[1].load(Ordering::Relaxed);
            view.pacing = pacing;
            view.unchoked = self.numbers(&status.unchoked.top);
            view.optimistic = status
                .unchoked
                .optimistic
                .and_then(|key| self.peer_numbers.get(&key).copied());
            view.neighbours = self.node.neighbours().count();
            view.received_from.clone_from(&self.received_from);
            if self.node.is_complete() && view.done_secs.is_none() {
                view.done_secs = Some(now);
                view.verified = wirelab_shared::bittorrent::node::file_hash(&self.node)
                    == Some(self.shared.file_hash);
            }
        }
    }
}

impl Running {
    /// The swarm peer numbers of these connections, outsiders left out.
    fn numbers(&self, keys: &[u32]) -> Vec<u32> {
        keys.iter()
            .filter_map(|key| self.peer_numbers.get(key).copied())
            .collect()
    }
}

/// The bytes of one outgoing message that the upload bucket charges: a
/// piece's, all of them; a control message's (request, have, interested,
/// the handshake…), none. Charged, a leecher's request to the seed waited
/// off the debt its own piece uploads ran up, so the seed's requests came
/// late and the seed sent 6.5–17 % below u_s; BitTorrent clients likewise
/// limit the payload alone. The node hands over one message at a time.
fn paced_len(message: &[u8]) -> usize {
    const PIECE: u8 = 7;
    match message.get(4) {
        Some(&PIECE) => message.len(),
        _ => 0,
    }
}

/// A swarm peer's number from its address: peer i listens and connects
/// from 127.0.2.(i + 1).
fn swarm_peer_number(addr: SocketAddr) -> Option<u32> {
    match addr.ip() {
        std::net::IpAddr::V4(ip) if ip.octets()[..3] == [127, 0, 2] && ip.octets()[3] > 0 => {
            Some(u32::from(ip.octets()[3]) - 1)
        }
        _ => None,
    }
}

fn announce_request(info_hash: [u8; 20], index: usize, port: u16, left: u64) -> AnnounceRequest {
    let mut peer_id = *b"-WL0001-swarm0000000";
    peer_id[13..].copy_from_slice(format!("{index:07}").as_bytes());
    AnnounceRequest {
        info_hash,
        peer_id,
        port,
        uploaded: 0,
        downloaded: 0,
        left,
        event: Event::Started,
        compact: true,
        numwant: Some(50),
    }
}

/// A TCP connection from our own loopback address, so the tracker and the
/// other peers see the address this peer listens on.
async fn connect_from(local: SocketAddr, to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(local.ip(), 0))?;
    tokio::time::timeout(Duration::from_secs(5), socket.connect(to))
        .await
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))?
}

/// Announces to the tracker and returns the peers it gave; none if it
/// could not be reached or refused.
async fn announce(
    tracker: SocketAddr,
    local: SocketAddr,
    request: &AnnounceRequest,
) -> Vec<SocketAddr> {
    let Ok(mut stream) = connect_from(local, tracker).await else {
        return Vec::new();
    };
    let head = format!(
        "GET /announce?{} HTTP/1.1\r\nHost: {tracker}\r\nConnection: close\r\n\r\n",
        request.to_query()
    );
    let mut reply = Vec::new();
    let exchange = async {
        stream.write_all(head.as_bytes()).await?;
        (&mut stream).take(64 * 1024).read_to_end(&mut reply).await
    };
    if tokio::time::timeout(Duration::from_secs(5), exchange)
        .await
        .is_err()
    {
        return Vec::new();
    }
    let body = reply
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|at| &reply[at + 4..]);
    match body.map(AnnounceReply::parse) {
        Some(Ok(AnnounceReply::Peers { peers, .. })) => {
            peers.iter().map(|p| SocketAddr::V4(p.addr)).collect()
        }
        _ => Vec::new(),
    }
}
