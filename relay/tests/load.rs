//! Load, on loopback only and bounded: 500 WebSocket sessions open at once,
//! each doing a round trip with the uppercase server, none failing. The
//! ignored test `idle_session_memory` measures the relay's memory per idle
//! session in a separate `wirelab` process (`cargo xtask measure` runs it
//! in release mode and prints the figure).

mod common;

use common::*;
use futures_util::future::join_all;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Barrier;
use tokio_tungstenite::tungstenite::Message;

const SESSIONS: usize = 500;

/// Each session holds about four descriptors (both ends of the WebSocket,
/// both ends of the TCP connection): make sure the process may open them.
fn raise_fd_limit(needed: u64) {
    match rlimit::increase_nofile_limit(needed) {
        Ok(got) if got >= needed => {}
        Ok(got) => panic!("the open-file limit is {got}, the test needs {needed}"),
        Err(e) => panic!("cannot raise the open-file limit: {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_concurrent_sessions_each_round_trip() {
    raise_fd_limit(4 * SESSIONS as u64 + 256);
    let relay = Arc::new(
        start(|c| {
            c.limits.max_connections = SESSIONS + 10;
            c.limits.max_connections_per_client = SESSIONS + 10;
            c.limits.server_max_connections = SESSIONS + 10;
        })
        .await,
    );
    let all_open = Arc::new(Barrier::new(SESSIONS + 1));
    // Released once the relay's count is read: a round trip without added
    // delay takes microseconds, so a session released at once could end
    // (and leave the count) before the count is read.
    let go = Arc::new(Barrier::new(SESSIONS + 1));
    let started = Instant::now();
    let tasks: Vec<_> = (0..SESSIONS)
        .map(|i| {
            let relay = relay.clone();
            let all_open = all_open.clone();
            let go = go.clone();
            tokio::spawn(async move {
                let mut ws = relay.open("target=upper-tcp").await;
                expect_connected(&mut ws).await;
                // Everyone is connected before anyone talks.
                all_open.wait().await;
                go.wait().await;
                let line = format!("session {i} says hello\n");
                send_bytes(&mut ws, line.as_bytes()).await;
                let mut got = Vec::new();
                while got.len() < line.len() {
                    got.extend(next_bytes(&mut ws).await);
                }
                assert_eq!(got, line.to_uppercase().into_bytes(), "session {i}");
                ws.close(None).await.unwrap();
                // Drain until the relay's close arrives.
                while let Some(Ok(msg)) = futures_util::StreamExt::next(&mut ws).await {
                    if matches!(msg, Message::Close(_)) {
                        break;
                    }
                }
                i
            })
        })
        .collect();
    // A session that fails before the barrier never reaches it: wait for
    // the barrier only as long as connecting can take, then say which.
    if tokio::time::timeout(Duration::from_secs(60), all_open.wait())
        .await
        .is_err()
    {
        let failed: Vec<String> = join_all(tasks.into_iter().map(|t| async {
            t.abort();
            t.await
        }))
        .await
        .into_iter()
        .filter_map(|r| r.err().filter(|e| e.is_panic()).map(|e| e.to_string()))
        .collect();
        panic!("not every session connected; failures: {failed:?}");
    }
    assert_eq!(relay.relay.state.limiter.open(), SESSIONS);
    go.wait().await;
    let finished = join_all(tasks).await;
    let ok = finished.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, SESSIONS, "every session made its round trip");
    eprintln!(
        "{SESSIONS} concurrent sessions, each one round trip, in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    let (_, metrics) = relay.get("/api/metrics").await;
    assert!(
        metrics.contains(&format!(
            "wirelab_sessions_total{{target=\"upper-tcp\",transport=\"tcp\"}} {SESSIONS}"
        )),
        "{metrics}"
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Resident memory of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/<pid>/status")
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Opens `n` idle sessions to upper-tcp on the relay at `port`.
async fn open_idle(port: u16, n: usize) -> Vec<Ws> {
    let mut sessions = Vec::with_capacity(n);
    for chunk in 0..n.div_ceil(100) {
        let batch = (n - chunk * 100).min(100);
        let opened = join_all((0..batch).map(|_| async move {
            use tokio_tungstenite::tungstenite::client::IntoClientRequest;
            let mut request = format!("ws://127.0.0.1:{port}/ws?target=upper-tcp")
                .into_client_request()
                .unwrap();
            request
                .headers_mut()
                .insert("Sec-WebSocket-Protocol", "wirelab.v1".parse().unwrap());
            let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
            expect_connected(&mut ws).await;
            ws
        }))
        .await;
        sessions.extend(opened);
    }
    sessions
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a check: cargo xtask measure"]
async fn idle_session_memory() {
    const IDLE: usize = 1000;
    raise_fd_limit(4 * IDLE as u64 + 256);
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = data.path().join("wirelab.toml");
    std::fs::write(
        &config,
        format!(
            "port = {port}\ndata_dir = {:?}\n[limits]\nmax_connections = 5000\n\
             max_connections_per_client = 5000\nserver_max_connections = 5000\n\
             [servers.upper]\ntcp_port = {}\nudp_port = {}\n",
            data.path(),
            free_port(),
            free_port()
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_wirelab"))
        .arg("--config")
        .arg(&config)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let relay = Running(child);
    let pid = relay.0.id();
    // The banner's first line says it is listening.
    // (The reader stays alive: the relay goes on printing its banner.)
    let mut banner = BufReader::new(stdout);
    let mut first = String::new();
    banner.read_line(&mut first).unwrap();
    assert!(first.contains("wirelab is running"), "{first}");

    // Warm up the allocator and the runtime, then measure.
    drop(open_idle(port, 100).await);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss_kib(pid);
    let sessions = open_idle(port, IDLE).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = rss_kib(pid);
    let per_session = (after.saturating_sub(before)) as f64 / IDLE as f64;
    println!(
        "relay memory: {before} KiB with no session, {after} KiB with {IDLE} idle sessions: \
         {per_session:.1} KiB per idle session (relay side, reference server's connection included)"
    );
    assert!(after > before, "opening sessions used memory");
    drop(sessions);
    drop(banner);
}
