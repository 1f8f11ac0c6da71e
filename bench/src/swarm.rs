//! Swarms on the relay (`/api/swarms`): how closely each peer keeps the
//! rates asked, telling a limit that held the peer from a peer short of
//! demand ([`rates`]), and how long a swarm without limits takes
//! until every leecher holds the file and its SHA-1 matched ([`time`]).
//! The peers' counters come from `GET /api/swarms/{id}` (`pacing`: each
//! token bucket's bytes, held time and unused allowance); each swarm is
//! deleted when measured.

use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The largest API answer read (a swarm's view lists every peer's pieces).
const MAX_ANSWER: u64 = 16 * 1024 * 1024;
/// How often [`time`] looks at the swarm.
const POLL: Duration = Duration::from_millis(50);

/// What a swarm is asked to be (the API's request).
pub struct Request {
    pub peers: usize,
    pub file_size: usize,
    pub piece_size: usize,
    pub u_s: f64,
    pub u_i: f64,
    pub d_i: f64,
}

impl Request {
    fn json(&self) -> String {
        serde_json::json!({
            "peers": self.peers, "file_size": self.file_size, "piece_size": self.piece_size,
            "u_s": self.u_s, "u_i": self.u_i, "d_i": self.d_i,
        })
        .to_string()
    }
}

/// Starts the swarm, lets it run `warmup`, then reads every peer's
/// counters at the start and end of `window`: each limited direction's
/// rate beside the one asked, signed, and whether the limit held the peer
/// back or the peer lacked demand ([`Limit`]). The worst deviation is
/// over the limits that held alone: a peer short of demand does not test
/// its limit.
pub async fn rates(
    api: SocketAddr,
    request: Request,
    warmup: Duration,
    window: Duration,
) -> Result<String> {
    let id = create(api, &request).await?;
    let measured = measure_rates(api, id, &request, warmup, window).await;
    delete(api, id).await?;
    let limits = measured?;
    let held: Vec<&Limit> = limits.iter().filter(|l| !l.starved()).collect();
    let worst = held
        .iter()
        .map(|l| l.deviation_pct.abs())
        .fold(None, |worst: Option<f64>, d| {
            Some(worst.map_or(d, |w| w.max(d)))
        });
    let listed: Vec<String> = limits.iter().map(Limit::to_string).collect();
    Ok(format!(
        "limits={} held={} starved={} worst_deviation_pct={} window_secs={:.2} {}",
        limits.len(),
        held.len(),
        limits.len() - held.len(),
        // No figure rather than a 0 when no limit held.
        worst.map_or("none".into(), |w| format!("{w:.2}")),
        limits.iter().map(|l| l.secs).fold(f64::INFINITY, f64::min),
        listed.join(" ")
    ))
}

/// Above this share of its allowance lost for lack of anything to send
/// (or to read), a peer was short of demand in the window: its rate says
/// nothing about its limit. A peer the limit holds loses none (its bucket
/// never fills); a stall of the whole relay on a loaded machine loses a
/// little, which this leaves room for.
const STARVED_PCT: f64 = 1.0;

/// One limited direction of one peer over the window.
struct Limit {
    peer: usize,
    up: bool,
    asked: f64,
    /// The window by the peer's own clock (its views' `at_secs`).
    secs: f64,
    /// Measured rate against the one asked, in percent: below 0, slower.
    deviation_pct: f64,
    /// The share of the window during which a block waited for tokens.
    held_pct: f64,
    /// The share of the allowance lost with nothing to send or read.
    unused_pct: f64,
}

impl Limit {
    fn starved(&self) -> bool {
        self.unused_pct > STARVED_PCT
    }
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (peer, way) = (self.peer, if self.up { "up" } else { "down" });
        let verdict = if self.starved() { "starved" } else { "held" };
        write!(
            f,
            "peer{peer}_{way}={:+.2}%/{verdict}/held_{:.0}%/unused_{:.1}%/of_{:.0}KiB/s",
            self.deviation_pct,
            self.held_pct,
            self.unused_pct,
            self.asked / 1024.0
        )
    }
}

async fn measure_rates(
    api: SocketAddr,
    id: u64,
    request: &Request,
    warmup: Duration,
    window: Duration,
) -> Result<Vec<Limit>> {
    tokio::time::sleep(warmup).await;
    let before = peers(&show(api, id).await?)?;
    tokio::time::sleep(window).await;
    let after = peers(&show(api, id).await?)?;
    let mut limits = Vec::new();
    for (i, (b, a)) in before.iter().zip(&after).enumerate() {
        // The seed is done from the start.
        if a.done && !a.seed {
            bail!("peer {i} finished within the window: a bigger file is needed");
        }
        let secs = a.at_secs - b.at_secs;
        if secs <= 0.0 {
            bail!("peer {i}'s view did not change within the window");
        }
        let (up_asked, down_asked) = if i == 0 {
            (request.u_s, 0.0)
        } else {
            (request.u_i, request.d_i)
        };
        let sides = [
            (true, up_asked, b.up, a.up),
            (false, down_asked, b.down, a.down),
        ];
        for (up, asked, b, a) in sides {
            if asked <= 0.0 {
                continue;
            }
            let (Some(b), Some(a)) = (b, a) else {
                bail!("peer {i} shows no bucket for a rate asked");
            };
            let limit = Limit {
                peer: i,
                up,
                asked,
                secs,
                deviation_pct: ((a.paced - b.paced) as f64 / secs / asked - 1.0) * 100.0,
                held_pct: (a.held_secs - b.held_secs) / secs * 100.0,
                unused_pct: (a.unused - b.unused) as f64 / (asked * secs) * 100.0,
            };
            eprintln!("{limit}");
            limits.push(limit);
        }
    }
    Ok(limits)
}

/// Starts the swarm and waits until every leecher is done: seconds from
/// the request to the last leecher's verified file, and how long the
/// request itself took (the file made and hashed, the peers started).
pub async fn time(
    api: SocketAddr,
    request: Request,
    timeout: Duration,
    relay: Option<u32>,
) -> Result<String> {
    let cpu_before = relay.and_then(cpu_seconds);
    let started = Instant::now();
    let id = create(api, &request).await?;
    let created = started.elapsed().as_secs_f64();
    let finished = wait_for_all(api, id, started, started + timeout).await;
    delete(api, id).await?;
    let seconds = finished?;
    // What the relay spent, which a loaded machine does not inflate as it
    // does the time.
    let cpu = cpu_before
        .zip(relay.and_then(cpu_seconds))
        .map_or("unknown".into(), |(before, after)| {
            format!("{:.2}", after - before)
        });
    Ok(format!(
        "peers={} file_bytes={} seconds={seconds:.2} setup_seconds={created:.2} relay_cpu_seconds={cpu}",
        request.peers, request.file_size
    ))
}

/// The user and system CPU time of process `pid` so far, in seconds,
/// from `/proc/<pid>/stat` (in clock ticks, 100 a second on Linux).
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command name, which may hold spaces, in its
    // parentheses: utime and stime are the 12th and 13th of them.
    let after = stat.rsplit_once(')')?.1;
    let mut fields = after.split_whitespace().skip(11);
    let user: f64 = fields.next()?.parse().ok()?;
    let system: f64 = fields.next()?.parse().ok()?;
    Some((user + system) / 100.0)
}

/// Seconds since `started`'s request until every leecher is verified.
async fn wait_for_all(
    api: SocketAddr,
    id: u64,
    started: Instant,
    deadline: Instant,
) -> Result<f64> {
    loop {
        let peers = peers(&show(api, id).await?)?;
        if let Some((i, _)) = peers
            .iter()
            .enumerate()
            .find(|(_, p)| p.done && !p.verified)
        {
            bail!("peer {i} finished with a file whose SHA-1 is not the original's");
        }
        if peers.iter().all(|p| p.verified || p.seed) {
            return Ok(started.elapsed().as_secs_f64());
        }
        if Instant::now() > deadline {
            let left = peers.iter().filter(|p| !p.verified && !p.seed).count();
            bail!("{left} leechers still unfinished at the deadline");
        }
        tokio::time::sleep(POLL).await;
    }
}

/// One peer's counters from the swarm's view.
struct PeerBytes {
    seed: bool,
    done: bool,
    verified: bool,
    /// Seconds from the swarm's start when the counters were read.
    at_secs: f64,
    up: Option<Bucket>,
    down: Option<Bucket>,
}

/// One token bucket's counters (`pacing.up` or `pacing.down`): the bytes
/// it paced through the sockets, the seconds a block waited for tokens,
/// and the allowance lost with nothing to send or read.
#[derive(Clone, Copy)]
struct Bucket {
    paced: u64,
    held_secs: f64,
    unused: u64,
}

impl Bucket {
    fn from_view(usage: &Value) -> Option<Bucket> {
        Some(Bucket {
            paced: usage["paced_bytes"].as_u64()?,
            held_secs: usage["held_secs"].as_f64()?,
            unused: usage["unused_bytes"].as_u64()?,
        })
    }
}

fn peers(view: &Value) -> Result<Vec<PeerBytes>> {
    let list = view["peers"]
        .as_array()
        .context("the view lists no peers")?;
    Ok(list
        .iter()
        .map(|p| PeerBytes {
            seed: p["seed"].as_bool().unwrap_or(false),
            done: !p["done_secs"].is_null(),
            verified: p["verified"].as_bool().unwrap_or(false),
            at_secs: p["pacing"]["at_secs"].as_f64().unwrap_or(0.0),
            up: Bucket::from_view(&p["pacing"]["up"]),
            down: Bucket::from_view(&p["pacing"]["down"]),
        })
        .collect())
}

async fn create(api: SocketAddr, request: &Request) -> Result<u64> {
    let (status, body) = http(api, "POST", "/api/swarms", &request.json()).await?;
    if status != 200 {
        bail!("POST /api/swarms: {status} {body}");
    }
    let created: Value = serde_json::from_str(&body)?;
    created["id"].as_u64().context("no swarm id in the answer")
}

async fn show(api: SocketAddr, id: u64) -> Result<Value> {
    let (status, body) = http(api, "GET", &format!("/api/swarms/{id}"), "").await?;
    if status != 200 {
        bail!("GET /api/swarms/{id}: {status} {body}");
    }
    Ok(serde_json::from_str(&body)?)
}

async fn delete(api: SocketAddr, id: u64) -> Result<()> {
    http(api, "DELETE", &format!("/api/swarms/{id}"), "").await?;
    Ok(())
}

/// One HTTP/1.1 exchange on a connection of its own: the status and the
/// body (the relay answers these with a length and closes after them).
async fn http(api: SocketAddr, method: &str, path: &str, body: &str) -> Result<(u16, String)> {
    let mut stream = TcpStream::connect(api)
        .await
        .with_context(|| format!("connecting to {api}"))?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {api}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    let mut answer = Vec::new();
    tokio::time::timeout(
        Duration::from_secs(60),
        (&mut stream).take(MAX_ANSWER).read_to_end(&mut answer),
    )
    .await
    .with_context(|| format!("{method} {path}: no answer within 60 s"))??;
    let text = String::from_utf8_lossy(&answer);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .context("an answer without a head")?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("an answer without a status")?;
    Ok((status, body.to_string()))
}
