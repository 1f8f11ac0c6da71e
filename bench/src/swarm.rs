//! Swarms on the relay (`/api/swarms`): how closely each peer keeps the
//! rates asked ([`rates`]), and how long a swarm without limits takes
//! until every leecher holds the file and its SHA-1 matched ([`time`]).
//! The peers' byte counters come from `GET /api/swarms/{id}`; each swarm
//! is deleted when measured.

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

/// Starts the swarm, lets it run `warmup`, then reads every peer's bytes
/// at the start and end of `window`: each limited direction's rate beside
/// the one asked, and the worst deviation in percent.
pub async fn rates(
    api: SocketAddr,
    request: Request,
    warmup: Duration,
    window: Duration,
) -> Result<String> {
    let id = create(api, &request).await?;
    let measured = measure_rates(api, id, &request, warmup, window).await;
    delete(api, id).await?;
    let deviations = measured?;
    let worst = deviations.iter().copied().fold(0.0, f64::max);
    let listed: Vec<String> = deviations.iter().map(|d| format!("{d:.2}")).collect();
    Ok(format!(
        "limits={} worst_deviation_pct={worst:.2} deviations_pct={}",
        deviations.len(),
        listed.join(",")
    ))
}

async fn measure_rates(
    api: SocketAddr,
    id: u64,
    request: &Request,
    warmup: Duration,
    window: Duration,
) -> Result<Vec<f64>> {
    tokio::time::sleep(warmup).await;
    let (before, at) = (peers(&show(api, id).await?)?, Instant::now());
    tokio::time::sleep(window).await;
    let (after, elapsed) = (peers(&show(api, id).await?)?, at.elapsed().as_secs_f64());
    let mut deviations = Vec::new();
    for (i, (b, a)) in before.iter().zip(&after).enumerate() {
        // The seed is done from the start.
        if a.done && !a.seed {
            bail!("peer {i} finished within the window: a bigger file is needed");
        }
        let limits = if i == 0 {
            [(request.u_s, a.uploaded - b.uploaded), (0.0, 0)]
        } else {
            [
                (request.u_i, a.uploaded - b.uploaded),
                (request.d_i, a.downloaded - b.downloaded),
            ]
        };
        for (asked, bytes) in limits.into_iter().filter(|(asked, _)| *asked > 0.0) {
            let rate = bytes as f64 / elapsed;
            eprintln!("peer {i}: {rate:.0} B/s of {asked:.0} asked");
            deviations.push((rate / asked - 1.0).abs() * 100.0);
        }
    }
    Ok(deviations)
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

/// One peer's counters from the swarm's view: the bytes its sockets
/// carried after its token buckets, which is what the rates limit.
struct PeerBytes {
    seed: bool,
    uploaded: u64,
    downloaded: u64,
    done: bool,
    verified: bool,
}

fn peers(view: &Value) -> Result<Vec<PeerBytes>> {
    let list = view["peers"]
        .as_array()
        .context("the view lists no peers")?;
    Ok(list
        .iter()
        .map(|p| PeerBytes {
            seed: p["seed"].as_bool().unwrap_or(false),
            uploaded: p["wire_out"].as_u64().unwrap_or(0),
            downloaded: p["wire_in"].as_u64().unwrap_or(0),
            done: !p["done_secs"].is_null(),
            verified: p["verified"].as_bool().unwrap_or(false),
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
