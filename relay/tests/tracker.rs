//! The BitTorrent tracker end to end: curl announces and reads valid
//! bencode back (peers, then junk refused with a failure reason), and a
//! real client, aria2c, seeds a lab `.torrent` from one process and
//! downloads it in another, finding each other only through the tracker
//! (DHT, peer exchange and local discovery off, bound to loopback): the
//! downloaded file's SHA-1 is the original's.

mod common;

use common::*;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use wirelab_shared::bittorrent::announce::{AnnounceReply, AnnounceRequest, Event};
use wirelab_shared::bittorrent::metainfo::{Metainfo, sha1};
use wirelab_testkit::require_tool;

fn announce(port: u16, peer: u8, left: u64) -> AnnounceRequest {
    AnnounceRequest {
        info_hash: [0x42; 20],
        peer_id: [peer; 20],
        port,
        uploaded: 0,
        downloaded: 0,
        left,
        event: Event::Started,
        compact: true,
        numwant: None,
    }
}

async fn curl_get(curl: &Path, url: &str) -> Vec<u8> {
    run(curl, &["-sS", "--max-time", "10", url]).await.stdout
}

#[tokio::test]
async fn curl_announces_and_gets_valid_bencode() {
    let Some(curl) = require_tool("curl", "curl") else {
        return;
    };
    let relay = start(|_| {}).await;
    let port = relay.relay.target("tracker").unwrap().port;
    let url = |q: &str| format!("http://127.0.0.1:{port}/announce?{q}");
    let first = curl_get(&curl, &url(&announce(7001, 1, 0).to_query())).await;
    assert_eq!(
        AnnounceReply::parse(&first),
        Ok(AnnounceReply::Peers {
            interval: 60,
            complete: 1,
            incomplete: 0,
            peers: vec![],
            compact: true
        })
    );
    let second = curl_get(&curl, &url(&announce(7002, 2, 10).to_query())).await;
    let Ok(AnnounceReply::Peers { peers, .. }) = AnnounceReply::parse(&second) else {
        panic!("{}", String::from_utf8_lossy(&second));
    };
    assert_eq!(peers[0].addr, "127.0.0.1:7001".parse().unwrap());
    let junk = curl_get(
        &curl,
        &url("info_hash=short&port=1&uploaded=0&downloaded=0&left=0"),
    )
    .await;
    assert_eq!(
        AnnounceReply::parse(&junk),
        Ok(AnnounceReply::Failure(
            "info_hash must be 20 bytes, percent-encoded".into()
        ))
    );
    let missing = run(
        &curl,
        &[
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            &format!("http://127.0.0.1:{port}/scrape"),
        ],
    )
    .await;
    assert_eq!(missing.stdout, b"404");
}

/// A free TCP port on loopback for a client to listen on.
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// aria2c with everything but the tracker off, on loopback only.
fn aria2(aria2c: &Path, dir: &Path, torrent: &Path, seed: bool) -> tokio::process::Command {
    let mut c = tokio::process::Command::new(aria2c);
    c.args([
        "--enable-dht=false",
        "--enable-dht6=false",
        "--enable-peer-exchange=false",
        "--bt-enable-lpd=false",
        "--disable-ipv6=true",
        "--interface=127.0.0.1",
        "--file-allocation=none",
        "--console-log-level=warn",
        "--summary-interval=0",
        "--bt-tracker-connect-timeout=5",
        "--bt-tracker-timeout=5",
    ])
    .arg(format!("--listen-port={}", free_port()))
    .arg(format!("--dir={}", dir.display()))
    .args(if seed {
        ["--check-integrity=true", "--seed-ratio=0.0"]
    } else {
        ["--seed-time=0", "--bt-stop-timeout=60"]
    })
    .arg(torrent)
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .kill_on_drop(true);
    c
}

#[tokio::test]
async fn aria2c_downloads_a_lab_torrent_through_the_tracker() {
    let Some(aria2c) = require_tool("aria2c", "aria2") else {
        return;
    };
    let relay = start(|_| {}).await;
    let port = relay.relay.target("tracker").unwrap().port;
    let work = relay._data.path();
    let data: Vec<u8> = (0..300_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let announce_url = format!("http://127.0.0.1:{port}/announce");
    let torrent = Metainfo::build("lab.bin", &data, 32 * 1024, &announce_url);
    let torrent_path = work.join("lab.torrent");
    std::fs::write(&torrent_path, &torrent).unwrap();
    let (seed_dir, leech_dir) = (work.join("seed"), work.join("leech"));
    std::fs::create_dir_all(&seed_dir).unwrap();
    std::fs::write(seed_dir.join("lab.bin"), &data).unwrap();

    let _seed = aria2(&aria2c, &seed_dir, &torrent_path, true)
        .spawn()
        .unwrap();
    let leech = aria2(&aria2c, &leech_dir, &torrent_path, false)
        .spawn()
        .unwrap();
    let out = tokio::time::timeout(Duration::from_secs(90), leech.wait_with_output())
        .await
        .expect("aria2c finished within 90 s instead of hanging")
        .unwrap();
    assert!(
        out.status.success(),
        "aria2c: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let got = std::fs::read(leech_dir.join("lab.bin")).unwrap();
    assert_eq!(sha1(&got), sha1(&data));
}
