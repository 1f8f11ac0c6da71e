//! Swarms on demand (`/api/swarms`): one seed and up to 49 leechers of a
//! generated file, each peer on its own loopback address (127.0.2.x),
//! finding the others through the lab's tracker and paced by token
//! buckets at the rates asked (u_s for the seed, u_i and d_i for the
//! leechers), running the shared BitTorrent [`Node`].
//!
//! - `POST /api/swarms` `{peers, file_size, piece_size, u_s, u_i, d_i,
//!   mode}` (rates in bytes/s, 0 unlimited) → `{id, tracker_url,
//!   torrent_url}`;
//! - `GET /api/swarms` → the running swarms' ids, info hashes and piece
//!   counts (a student's own only, in classroom mode);
//! - `GET /api/swarms/{id}` → each peer's pieces, bytes (as its node
//!   counts them, as its sockets carried them, and from which swarm peer
//!   they came), whom it unchokes, when it finished (seconds
//!   from the swarm's start), whether its file's SHA-1 is the original's,
//!   and how its token buckets were used (`pacing`: held by the limit, or
//!   short of demand);
//! - `GET /api/swarms/{id}/torrent` → the `.torrent`.
//!
//! `mode` is `"p2p"` (the default: every leecher trades with every other)
//! or `"client-server"`, the course's other half of the comparison: each
//! leecher connects to the seed alone and refuses the others, so only the
//! seed uploads, through its one u_s bucket shared by all its
//! connections, and the seed unchokes every leecher that asks (a server
//! serves all its clients; four slots would leave u_s idle whenever a
//! served leecher finished before the next 10 s round). It is still
//! BitTorrent on the wire between the seed and each leecher, and the last
//! leecher finishes near N·F/u_s, the D_cs bound.
//!
//! Bounded by `[servers.tracker]`: swarms at once, file size, the bytes
//! all swarms' peers hold together, and a lifetime after which a swarm
//! ends by itself; 49 leechers at most.
//!
//! In classroom mode a swarm is its maker's: another student gets `404`
//! for it (the ids count up, so they are easy to guess) and is refused a
//! `/ws` session to its peers; the instructor sees and stops any.

mod bucket;
mod peer;

use crate::AppState;
use crate::config::TrackerServer;
use crate::policy::{Allowed, Refusal, TargetKind};
use anyhow::{Context, Result, bail};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use wirelab_shared::bittorrent::choker::ChokerConfig;
use wirelab_shared::bittorrent::metainfo::{Metainfo, Sha1Hash, sha1};
use wirelab_shared::bittorrent::node::{Node, NodeConfig};
use wirelab_shared::bittorrent::simulation::sample_file;
use wirelab_shared::relay_protocol::{ConnectQuery, Transport};

/// The bound: one seed and 49 leechers, 127.0.2.1 to .50.
pub const MAX_LEECHERS: usize = 49;

/// Who uploads in a swarm.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SwarmMode {
    /// Every peer uploads to every other (tit-for-tat, rarest first).
    #[default]
    P2p,
    /// Leechers download from the seed alone and never upload.
    ClientServer,
}

/// What a swarm is asked to be.
#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
pub struct SwarmRequest {
    /// Leechers (the seed comes on top).
    pub peers: usize,
    pub file_size: usize,
    pub piece_size: usize,
    #[serde(default)]
    pub u_s: f64,
    #[serde(default)]
    pub u_i: f64,
    #[serde(default)]
    pub d_i: f64,
    #[serde(default)]
    pub mode: SwarmMode,
}

/// One peer as `GET /api/swarms/{id}` shows it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PeerView {
    pub address: String,
    pub seed: bool,
    pub pieces: Vec<usize>,
    pub downloaded: u64,
    pub uploaded: u64,
    /// Bytes read from and written to its sockets, after its token
    /// buckets: what the rates limit (`uploaded` counts a block when it is
    /// queued, up to a pipeline of blocks ahead of the socket).
    pub wire_in: u64,
    pub wire_out: u64,
    /// How its token buckets were used, read with the counters above.
    pub pacing: bucket::Pacing,
    pub neighbours: usize,
    /// The swarm peers (their index in `peers`, 0 the seed) in its top
    /// slots and its optimistic unchoke; a client from outside the swarm
    /// is left out.
    pub unchoked: Vec<u32>,
    pub optimistic: Option<u32>,
    /// Bytes read from each swarm peer (by its index), wire overhead
    /// included: who this peer got its file from.
    pub received_from: BTreeMap<u32, u64>,
    /// Seconds from the swarm's start to this peer's whole file.
    pub done_secs: Option<f64>,
    pub verified: bool,
}

/// What a swarm's peers update and the API reads.
pub struct SwarmShared {
    pub peers: Mutex<Vec<PeerView>>,
    pub file_hash: Sha1Hash,
}

struct Swarm {
    /// The student who made it (`class/student`); `None` for the
    /// instructor's or on a relay without classroom mode.
    owner: Option<String>,
    torrent: Vec<u8>,
    request: SwarmRequest,
    pieces: usize,
    info_hash: Sha1Hash,
    /// Where each peer listens: the page may connect there through `/ws`.
    addrs: Vec<SocketAddr>,
    shared: Arc<SwarmShared>,
    cancel: CancellationToken,
}

/// Every running swarm.
#[derive(Default)]
pub struct Swarms {
    running: Mutex<HashMap<u64, Swarm>>,
    next_id: Mutex<u64>,
}

impl Swarms {
    /// Whether one more swarm fits the bounds. Checked before it starts, so
    /// two requests at once may both pass: the bound is then exceeded by
    /// one swarm at most, never without limit.
    fn room_for(&self, request: &SwarmRequest, cfg: &TrackerServer) -> Result<(), String> {
        let running = self
            .running
            .lock()
            .map_err(|_| "swarm registry unavailable".to_string())?;
        if running.len() >= cfg.max_swarms {
            return Err(format!(
                "{} swarms are running: wait for one to end",
                cfg.max_swarms
            ));
        }
        let held: u64 = running.values().map(|s| s.request.bytes()).sum();
        if held + request.bytes() > cfg.swarm_max_total_bytes {
            return Err(format!(
                "the swarms would hold {} bytes, over the {} this relay allows: fewer peers or a smaller file",
                held + request.bytes(),
                cfg.swarm_max_total_bytes
            ));
        }
        Ok(())
    }

    /// A `/ws` query for the address of a running swarm's peer, as
    /// `viewer` sees it: allowed if the swarm is theirs (a student's own
    /// in classroom mode, any on an open relay), so they can talk to the
    /// peer although the policy refuses loopback addresses and the class
    /// may refuse typed hosts; refused with the reason if the swarm is
    /// someone else's. Exactly those addresses, over TCP, while the swarm
    /// runs; `None` for anything else, for the policy to decide.
    pub fn peer_target(
        &self,
        query: &ConnectQuery,
        viewer: &Viewer,
    ) -> Option<Result<Allowed, Refusal>> {
        if query.target.is_some() || query.accept.is_some() || query.data_port.is_some() {
            return None;
        }
        if query.transport.is_some_and(|t| t != Transport::Tcp) {
            return None;
        }
        let ip: IpAddr = query.host.as_deref()?.parse().ok()?;
        let addr = SocketAddr::new(ip, query.port?);
        let running = self.running.lock().ok()?;
        let swarm = running.values().find(|s| s.addrs.contains(&addr))?;
        if !visible(swarm, viewer) {
            return Some(Err(Refusal::forbidden(
                "swarm_owner",
                format!(
                    "{addr} is a peer of another student's swarm: start your own swarm to talk to its peers"
                ),
            )));
        }
        Some(Ok(Allowed {
            target: addr.to_string(),
            transport: Transport::Tcp,
            addr,
            fallbacks: Vec::new(),
            kind: TargetKind::Custom,
        }))
    }
}

#[derive(Serialize)]
struct Created {
    id: u64,
    tracker_url: String,
    torrent_url: String,
}

fn error(status: StatusCode, message: impl std::fmt::Display) -> Response {
    (
        status,
        Json(serde_json::json!({"error": message.to_string()})),
    )
        .into_response()
}

impl SwarmRequest {
    fn validate(&self, cfg: &TrackerServer) -> Result<()> {
        if self.peers == 0 || self.peers > MAX_LEECHERS {
            bail!("peers must be 1 to {MAX_LEECHERS} leechers");
        }
        if self.file_size == 0 || self.file_size > cfg.swarm_max_file_bytes {
            bail!("file_size must be 1 byte to {}", cfg.swarm_max_file_bytes);
        }
        if !(16 * 1024..=4 * 1024 * 1024).contains(&self.piece_size) {
            bail!("piece_size must be 16 KiB to 4 MiB");
        }
        let rates = [self.u_s, self.u_i, self.d_i];
        if rates
            .iter()
            .any(|r| !r.is_finite() || *r < 0.0 || (*r > 0.0 && *r < 1024.0))
        {
            bail!("rates are bytes per second: 0 (unlimited) or at least 1024");
        }
        Ok(())
    }

    /// What its peers hold in memory: each keeps a copy.
    fn bytes(&self) -> u64 {
        (self.peers as u64 + 1) * self.file_size as u64
    }
}

/// Whose swarms the caller may see: `None` for all (the instructor, or
/// anyone without classroom mode), else the student's own. An extractor,
/// so every handler refuses a caller the classroom refuses the same way.
pub struct Viewer(Option<String>);

impl Viewer {
    /// Everyone's swarms: the instructor, or anyone on an open relay.
    pub fn everyone() -> Viewer {
        Viewer(None)
    }

    /// A student's own swarms, named as their maker was.
    pub fn student(claims: &crate::classroom::token::Claims) -> Viewer {
        Viewer(Some(format!("{}/{}", claims.class, claims.sub)))
    }
}

impl axum::extract::FromRequestParts<AppState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Response> {
        use crate::classroom::api::Caller;
        match Caller::of(state, &parts.headers).await {
            Ok(Caller::Student(a)) => Ok(Viewer::student(&a.claims)),
            Ok(Caller::Open | Caller::Instructor) => Ok(Viewer::everyone()),
            Err(refusal) => Err(refusal.into_response()),
        }
    }
}

/// The answer when the registry is unusable (a thread panicked while
/// holding it).
fn unavailable() -> Response {
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "swarm registry unavailable",
    )
}

/// Whether `viewer` may see the swarm.
fn visible(swarm: &Swarm, viewer: &Viewer) -> bool {
    viewer.0.is_none() || swarm.owner == viewer.0
}

pub async fn create(
    State(state): State<AppState>,
    Viewer(owner): Viewer,
    Json(request): Json<SwarmRequest>,
) -> Response {
    let cfg = &state.config.servers.tracker;
    if let Err(e) = request.validate(cfg) {
        return error(StatusCode::BAD_REQUEST, e);
    }
    let Some(tracker) = state
        .catalog
        .get("tracker")
        .and_then(crate::catalog::target_addr)
    else {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the tracker is not running on this relay",
        );
    };
    let swarms = state.swarms.clone();
    if let Err(why) = swarms.room_for(&request, cfg) {
        return error(StatusCode::TOO_MANY_REQUESTS, why);
    }
    let id = {
        let Ok(mut next) = swarms.next_id.lock() else {
            return unavailable();
        };
        *next += 1;
        *next
    };
    match start(id, request, tracker, state.shutdown.child_token()).await {
        Ok(mut swarm) => {
            swarm.owner = owner;
            let cancel = swarm.cancel.clone();
            let lifetime = Duration::from_secs(cfg.swarm_lifetime_secs);
            if let Ok(mut running) = swarms.running.lock() {
                running.insert(id, swarm);
            }
            tokio::spawn(async move {
                tokio::select! {
                    _ = tokio::time::sleep(lifetime) => {}
                    _ = cancel.cancelled() => {}
                }
                cancel.cancel();
                if let Ok(mut running) = swarms.running.lock() {
                    running.remove(&id);
                }
            });
            Json(Created {
                id,
                tracker_url: format!("http://{tracker}/announce"),
                torrent_url: format!("/api/swarms/{id}/torrent"),
            })
            .into_response()
        }
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}")),
    }
}

/// Binds every peer, then starts them, the seed first so that each
/// leecher's announce finds the peers before it.
async fn start(
    id: u64,
    request: SwarmRequest,
    tracker: SocketAddr,
    cancel: CancellationToken,
) -> Result<Swarm> {
    let data = sample_file(request.file_size);
    let torrent = Metainfo::build(
        &format!("swarm-{id}.bin"),
        &data,
        request.piece_size,
        &format!("http://{tracker}/announce"),
    );
    let meta = Metainfo::parse(&torrent).context("the torrent just built")?;
    let count = request.peers + 1;
    let mut listeners = Vec::with_capacity(count);
    for i in 0..count {
        let ip = Ipv4Addr::new(127, 0, 2, (i + 1) as u8);
        let listener = TcpListener::bind(SocketAddr::new(IpAddr::V4(ip), 0))
            .await
            .with_context(|| format!("binding peer {i} on {ip}"))?;
        listeners.push(listener);
    }
    let addrs = listeners
        .iter()
        .map(TcpListener::local_addr)
        .collect::<std::io::Result<Vec<_>>>()
        .context("a peer's address")?;
    let views = listeners
        .iter()
        .enumerate()
        .map(|(i, l)| PeerView {
            address: l.local_addr().map(|a| a.to_string()).unwrap_or_default(),
            seed: i == 0,
            ..PeerView::default()
        })
        .collect();
    let shared = Arc::new(SwarmShared {
        peers: Mutex::new(views),
        file_hash: sha1(&data),
    });
    let started = tokio::time::Instant::now();
    let seed_addr = listeners[0].local_addr().context("the seed's address")?;
    for (i, listener) in listeners.into_iter().enumerate() {
        let node = Node::new(
            node_config(&meta, i, id, request),
            (i == 0).then_some(&data[..]),
        );
        let (up, down) = if i == 0 {
            (request.u_s, 0.0)
        } else {
            (request.u_i, request.d_i)
        };
        let (announced, ready) = tokio::sync::oneshot::channel();
        let setup = peer::PeerSetup {
            index: i,
            listener,
            node,
            up,
            down,
            tracker,
            info_hash: meta.info_hash,
            left: if i == 0 { 0 } else { meta.info.length },
            announced,
            started,
            only_seed: (request.mode == SwarmMode::ClientServer && i > 0).then_some(seed_addr),
        };
        let (shared, cancel) = (shared.clone(), cancel.clone());
        tokio::spawn(peer::run(setup, shared, cancel));
        // The next peer announces once this one is in the tracker's list,
        // so each finds all the peers started before it.
        let _ = ready.await;
    }
    Ok(Swarm {
        owner: None,
        torrent,
        request,
        pieces: meta.info.pieces.len(),
        info_hash: meta.info_hash,
        addrs,
        shared,
        cancel,
    })
}

fn node_config(meta: &Metainfo, i: usize, swarm: u64, request: SwarmRequest) -> NodeConfig {
    let mut peer_id = *b"-WL0001-swarm0000000";
    peer_id[13..].copy_from_slice(format!("{i:07}").as_bytes());
    let mut choker = ChokerConfig::default();
    if i == 0 && request.mode == SwarmMode::ClientServer {
        // A server serves every client at once: a slot for each leecher
        // and an outside client or two, so u_s never waits for a round.
        choker.regular_slots = MAX_LEECHERS + 2;
    }
    NodeConfig {
        info: meta.info.clone(),
        info_hash: meta.info_hash,
        peer_id,
        pipeline: 8,
        choker,
        seed: swarm.wrapping_mul(1000).wrapping_add(i as u64),
    }
}

#[derive(Serialize)]
struct SwarmView {
    id: u64,
    request: SwarmRequest,
    pieces: usize,
    /// In hex: what a student's handshake to a peer must carry.
    info_hash: String,
    peers: Vec<PeerView>,
}

/// One running swarm as `GET /api/swarms` lists it: enough for a page to
/// announce to the tracker for it or handshake with its peers.
#[derive(Serialize)]
struct Listed {
    id: u64,
    info_hash: String,
    pieces: usize,
}

/// Every running swarm the caller may see, oldest first.
pub async fn list(State(state): State<AppState>, viewer: Viewer) -> Response {
    let Ok(running) = state.swarms.running.lock() else {
        return unavailable();
    };
    let mut listed: Vec<Listed> = running
        .iter()
        .filter(|(_, s)| visible(s, &viewer))
        .map(|(id, s)| Listed {
            id: *id,
            info_hash: hex(&s.info_hash),
            pieces: s.pieces,
        })
        .collect();
    listed.sort_by_key(|l| l.id);
    Json(listed).into_response()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub async fn show(State(state): State<AppState>, viewer: Viewer, Path(id): Path<u64>) -> Response {
    let Ok(running) = state.swarms.running.lock() else {
        return unavailable();
    };
    let Some(swarm) = running.get(&id).filter(|s| visible(s, &viewer)) else {
        return error(StatusCode::NOT_FOUND, "no such swarm (it may have ended)");
    };
    let peers = swarm
        .shared
        .peers
        .lock()
        .map(|p| p.clone())
        .unwrap_or_default();
    Json(SwarmView {
        id,
        request: swarm.request,
        pieces: swarm.pieces,
        info_hash: hex(&swarm.info_hash),
        peers,
    })
    .into_response()
}

pub async fn torrent(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<u64>,
) -> Response {
    let torrent = state.swarms.running.lock().ok().and_then(|r| {
        r.get(&id)
            .filter(|s| visible(s, &viewer))
            .map(|s| s.torrent.clone())
    });
    match torrent {
        Some(bytes) => {
            ([(header::CONTENT_TYPE, "application/x-bittorrent")], bytes).into_response()
        }
        None => error(StatusCode::NOT_FOUND, "no such swarm (it may have ended)"),
    }
}

/// Ends a swarm now.
pub async fn stop(State(state): State<AppState>, viewer: Viewer, Path(id): Path<u64>) -> Response {
    let swarm = state.swarms.running.lock().ok().and_then(|mut r| {
        let theirs = r.get(&id).is_some_and(|s| visible(s, &viewer));
        if theirs { r.remove(&id) } else { None }
    });
    match swarm {
        Some(s) => {
            s.cancel.cancel();
            StatusCode::NO_CONTENT.into_response()
        }
        None => error(StatusCode::NOT_FOUND, "no such swarm"),
    }
}
