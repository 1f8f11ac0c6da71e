//! Swarms on demand: `POST /api/swarms` starts a seed and leechers on
//! their own loopback addresses, found through the tracker; every leecher
//! ends with the whole file, its SHA-1 checked; the `.torrent` served is
//! the swarm's; bad requests are refused with a reason; and aria2c joins a
//! lab swarm from its `.torrent` and downloads the file.

mod common;

use common::*;
use serde_json::Value;
use std::time::Duration;
use wirelab_shared::bittorrent::metainfo::{Metainfo, sha1};
use wirelab_shared::bittorrent::simulation::sample_file;
use wirelab_testkit::require_tool;

async fn post_swarm(relay: &TestRelay, body: &str) -> (u16, Value) {
    let (status, _, text) = relay
        .request(
            "POST",
            "/api/swarms",
            &["Content-Type: application/json"],
            body,
        )
        .await;
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Polls the swarm until every leecher is done, or `secs` pass.
async fn until_done(relay: &TestRelay, id: u64, secs: u64) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let (status, text) = relay.get(&format!("/api/swarms/{id}")).await;
        assert_eq!(status, 200, "{text}");
        let view: Value = serde_json::from_str(&text).unwrap();
        let peers = view["peers"].as_array().unwrap();
        if peers
            .iter()
            .all(|p| p["seed"] == true || !p["done_secs"].is_null())
        {
            return view;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not done within {secs} s: {view:#}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_swarm_of_ten_completes_with_every_piece_verified() {
    let relay = start(|_| {}).await;
    let (status, created) = post_swarm(
        &relay,
        r#"{"peers": 10, "file_size": 1048576, "piece_size": 65536, "u_s": 0, "u_i": 0, "d_i": 0}"#,
    )
    .await;
    assert_eq!(status, 200, "{created}");
    let id = created["id"].as_u64().unwrap();
    let tracker_port = relay.relay.target("tracker").unwrap().port;
    assert_eq!(
        created["tracker_url"],
        format!("http://127.0.0.1:{tracker_port}/announce")
    );
    let view = until_done(&relay, id, 60).await;
    let peers = view["peers"].as_array().unwrap();
    assert_eq!(peers.len(), 11);
    for p in &peers[1..] {
        assert_eq!(p["verified"], true, "{p}");
        // Its sockets carried the blocks it got and the messages around
        // them: more than the pieces alone.
        let (wire_in, downloaded) = (p["wire_in"].as_u64(), p["downloaded"].as_u64());
        assert!(wire_in > downloaded && downloaded >= Some(1048576), "{p}");
        assert_eq!(p["pieces"].as_array().unwrap().len(), 16, "{p}");
        assert!(
            p["address"].as_str().unwrap().starts_with("127.0.2."),
            "{p}"
        );
    }
    // Who unchokes whom is said in swarm peer numbers: another peer of
    // this swarm, never the peer itself (the connection keys it used to
    // show started at 0 for every peer).
    let mut unchokes = 0;
    for (i, p) in peers.iter().enumerate() {
        let top = p["unchoked"].as_array().unwrap().iter().map(Value::as_u64);
        for q in top.chain([p["optimistic"].as_u64()]).flatten() {
            let q = q as usize;
            assert!(q < peers.len() && q != i, "peer {i} unchokes {q}: {p}");
            unchokes += 1;
        }
    }
    assert!(unchokes > 0, "nobody unchokes anybody: {view}");
    // The leechers traded among themselves: the seed did not upload every copy.
    let seed_up = peers[0]["uploaded"].as_u64().unwrap();
    assert!(seed_up < 10 * 1048576, "the seed uploaded {seed_up} bytes");
    let seed_wire = peers[0]["wire_out"].as_u64().unwrap();
    assert!(
        seed_wire > 0 && seed_wire <= seed_up * 2,
        "the seed wrote {seed_wire} bytes"
    );
    let (status, _, torrent) = relay
        .request_bytes("GET", created["torrent_url"].as_str().unwrap(), &[], "")
        .await;
    assert_eq!(status, 200);
    let meta = Metainfo::parse(&torrent).unwrap();
    assert_eq!(meta.info.length, 1048576);
    let (status, _, _) = relay
        .request("DELETE", &format!("/api/swarms/{id}"), &[], "")
        .await;
    assert_eq!(status, 204);
    assert_eq!(relay.get(&format!("/api/swarms/{id}")).await.0, 404);
}

#[tokio::test]
async fn bad_swarm_requests_are_refused_with_a_reason() {
    let relay = start(|_| {}).await;
    for (body, why) in [
        (
            r#"{"peers": 50, "file_size": 1000, "piece_size": 16384}"#,
            "peers must be 1 to 49",
        ),
        (
            r#"{"peers": 2, "file_size": 100000000, "piece_size": 16384}"#,
            "file_size",
        ),
        (
            r#"{"peers": 2, "file_size": 1000, "piece_size": 1000}"#,
            "piece_size",
        ),
        (
            r#"{"peers": 2, "file_size": 1000, "piece_size": 16384, "u_s": -5}"#,
            "rates",
        ),
    ] {
        let (status, answer) = post_swarm(&relay, body).await;
        assert_eq!(status, 400, "{body}");
        assert!(answer["error"].as_str().unwrap().contains(why), "{answer}");
    }
    // 49 copies of 64 MiB and the seed's are over the 2 GiB all swarms may hold.
    let (status, answer) = post_swarm(
        &relay,
        r#"{"peers": 49, "file_size": 67108864, "piece_size": 1048576}"#,
    )
    .await;
    assert_eq!(status, 429, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("over the 2147483648"),
        "{answer}"
    );
}

#[tokio::test]
async fn aria2c_joins_a_lab_swarm_and_gets_the_file() {
    let Some(aria2c) = require_tool("aria2c", "aria2") else {
        return;
    };
    let relay = start(|_| {}).await;
    let (status, created) = post_swarm(
        &relay,
        r#"{"peers": 3, "file_size": 500000, "piece_size": 32768}"#,
    )
    .await;
    assert_eq!(status, 200, "{created}");
    let (_, _, torrent) = relay
        .request_bytes("GET", created["torrent_url"].as_str().unwrap(), &[], "")
        .await;
    let dir = relay._data.path().join("student");
    std::fs::create_dir_all(&dir).unwrap();
    let torrent_path = dir.join("swarm.torrent");
    std::fs::write(&torrent_path, &torrent).unwrap();
    let listen = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = tokio::process::Command::new(aria2c)
        .args([
            "--enable-dht=false",
            "--enable-dht6=false",
            "--enable-peer-exchange=false",
            "--bt-enable-lpd=false",
            "--disable-ipv6=true",
            "--interface=127.0.0.1",
            "--file-allocation=none",
            "--seed-time=0",
            "--bt-stop-timeout=60",
            "--console-log-level=warn",
            "--summary-interval=0",
        ])
        .arg(format!("--listen-port={listen}"))
        .arg(format!("--dir={}", dir.display()))
        .arg(&torrent_path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let out = tokio::time::timeout(Duration::from_secs(90), child.wait_with_output())
        .await
        .expect("aria2c finished within 90 s instead of hanging")
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let name = Metainfo::parse(&torrent).unwrap().info.name;
    let got = std::fs::read(dir.join(name)).unwrap();
    assert_eq!(sha1(&got), sha1(&sample_file(500000)));
}
