//! Swarms on demand: `POST /api/swarms` starts a seed and leechers on
//! their own loopback addresses, found through the tracker; every leecher
//! ends with the whole file, its SHA-1 checked; the `.torrent` served is
//! the swarm's; bad requests are refused with a reason; aria2c joins a
//! lab swarm from its `.torrent` and downloads the file; client-server
//! leechers get every byte from the seed and P2P leechers from each other;
//! at N = 30 P2P's measured time beats client-server's by 1.5 at least
//! (the bounds say 4); and a page session
//! (`/ws`) reaches a swarm peer, handshakes and gets a block, while other
//! loopback addresses stay closed to it; the peer drops it for a wrong info
//! hash, a request over 16 KiB or past the end of a piece; and the seed
//! and the leechers upload, and the leechers download, at the rates
//! asked within 10 % whenever the limit held them (a peer short of demand
//! is told apart by its unused allowance).

mod common;

use common::*;
use serde_json::Value;
use std::time::Duration;
use wirelab_shared::bittorrent::metainfo::{Metainfo, sha1};
use wirelab_shared::bittorrent::simulation::sample_file;
use wirelab_shared::bittorrent::wire::{Frame, Handshake, Message, WireReader};
use wirelab_shared::relay_protocol::{ClosedBy, ErrorCode, RelayMessage};
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

/// Who unchokes whom in a view is said in swarm peer numbers: another
/// peer of this swarm, never the peer itself (the connection keys it
/// used to show started at 0 for every peer). Returns how many unchokes
/// the view shows.
fn unchokes_named_by_peer_number(view: &Value) -> usize {
    let peers = view["peers"].as_array().unwrap();
    let mut unchokes = 0;
    for (i, p) in peers.iter().enumerate() {
        let top = p["unchoked"].as_array().unwrap().iter().map(Value::as_u64);
        for q in top.chain([p["optimistic"].as_u64()]).flatten() {
            let q = q as usize;
            assert!(q < peers.len() && q != i, "peer {i} unchokes {q}: {p}");
            unchokes += 1;
        }
    }
    unchokes
}

/// A swarm's last view, and the unchokes its views showed on the way.
struct Done {
    view: Value,
    unchokes_seen: usize,
}

/// Polls the swarm until every leecher is done, or `secs` pass.
async fn until_done(relay: &TestRelay, id: u64, secs: u64) -> Done {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    let mut unchokes_seen = 0;
    loop {
        let (status, text) = relay.get(&format!("/api/swarms/{id}")).await;
        assert_eq!(status, 200, "{text}");
        let view: Value = serde_json::from_str(&text).unwrap();
        unchokes_seen += unchokes_named_by_peer_number(&view);
        let peers = view["peers"].as_array().unwrap();
        if peers
            .iter()
            .all(|p| p["seed"] == true || !p["done_secs"].is_null())
        {
            return Done {
                view,
                unchokes_seen,
            };
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
    let view = until_done(&relay, id, 60).await.view;
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
    // Every view polled on the way named unchoked peers by swarm peer
    // number (until_done checks); that some were unchoked at all is
    // p2p_leechers_get_bytes_from_each_other's to show, since here the
    // slots empty as the leechers finish and lose interest.
    // What BitTorrent promises is that leechers carry a share of the
    // upload, not that the seed saves a fixed number of copies: at
    // unlimited rates the seed, which has every piece from the start and
    // refills a slot as soon as a downloader is done, may well send most.
    // The leechers together must have sent at least one whole copy.
    let seed_up = peers[0]["uploaded"].as_u64().unwrap();
    let leechers_up: u64 = peers[1..]
        .iter()
        .map(|p| p["uploaded"].as_u64().unwrap())
        .sum();
    eprintln!("the seed uploaded {seed_up} bytes, the leechers {leechers_up}");
    assert!(
        leechers_up >= 1048576,
        "the leechers uploaded {leechers_up} bytes, the seed {seed_up}"
    );
    // What the seed's sockets carried is what its node queued, give or
    // take the blocks still in flight and the messages around them.
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

/// The distribution time of a finished swarm: its last leecher's finish,
/// in seconds from the swarm's start.
fn last_finish(view: &Value) -> f64 {
    view["peers"].as_array().unwrap()[1..]
        .iter()
        .map(|p| p["done_secs"].as_f64().unwrap())
        .fold(0.0, f64::max)
}

/// Starts a swarm, waits for every leecher, checks their files, stops it.
async fn run_to_the_end(relay: &TestRelay, body: &str) -> Done {
    let (status, created) = post_swarm(relay, body).await;
    assert_eq!(status, 200, "{created}");
    let id = created["id"].as_u64().unwrap();
    let done = until_done(relay, id, 120).await;
    for p in &done.view["peers"].as_array().unwrap()[1..] {
        assert_eq!(p["verified"], true, "{p}");
    }
    relay
        .request("DELETE", &format!("/api/swarms/{id}"), &[], "")
        .await;
    done
}

#[tokio::test]
async fn client_server_leechers_get_every_byte_from_the_seed() {
    let relay = start(|_| {}).await;
    let view = run_to_the_end(
        &relay,
        r#"{"peers": 6, "file_size": 262144, "piece_size": 32768, "mode": "client-server"}"#,
    )
    .await
    .view;
    assert_eq!(view["request"]["mode"], "client-server");
    let peers = view["peers"].as_array().unwrap();
    for (i, p) in peers.iter().enumerate().skip(1) {
        // Bytes came over the wire from the seed (peer 0) and nobody else.
        let from = p["received_from"].as_object().unwrap();
        assert_eq!(from.keys().collect::<Vec<_>>(), ["0"], "peer {i}: {p}");
        assert!(from["0"].as_u64().unwrap() >= 262144, "peer {i}: {p}");
        assert_eq!(p["uploaded"], 0, "peer {i} uploaded: {p}");
        assert_eq!(p["neighbours"], 1, "peer {i}: {p}");
    }
    assert_eq!(peers[0]["uploaded"], 6 * 262144, "{}", peers[0]);
}

#[tokio::test]
async fn p2p_leechers_get_bytes_from_each_other() {
    let relay = start(|_| {}).await;
    let done = run_to_the_end(
        &relay,
        r#"{"peers": 6, "file_size": 262144, "piece_size": 32768, "u_s": 131072}"#,
    )
    .await;
    let view = done.view;
    assert_eq!(view["request"]["mode"], "p2p");
    // Seen while it ran (at the end nobody is interested any more).
    assert!(done.unchokes_seen > 0, "nobody unchoked anybody: {view}");
    let from_leechers: u64 = view["peers"].as_array().unwrap()[1..]
        .iter()
        .flat_map(|p| p["received_from"].as_object().unwrap().iter())
        .filter(|(from, _)| *from != "0")
        .map(|(_, bytes)| bytes.as_u64().unwrap())
        .sum();
    assert!(from_leechers > 0, "{view:#}");
}

/// The course's example at N = 30, scaled: F = 256 KiB, u = F/4 s,
/// u_s = 10u, d_i = u_s. D_cs = 30F/u_s = 12 s; D_P2P = 30F/(u_s + 30u)
/// = 3 s; the bounds' factor is 4 (3 hours against 0.75 in the slides).
/// Rates this low keep the 31 peers far from the CPU on a busy machine
/// (at u = F/2 s, P2P's lead shrank to 2 % with other tests running).
#[tokio::test]
async fn at_thirty_peers_p2p_beats_client_server_by_the_bounds_factor_within_a_tolerance() {
    let relay = start(|_| {}).await;
    let (f, u) = (262144.0, 65536.0);
    let body = |mode: &str| {
        format!(
            r#"{{"peers": 30, "file_size": {f}, "piece_size": 16384, "u_s": {}, "u_i": {u}, "d_i": {}, "mode": "{mode}"}}"#,
            10.0 * u,
            10.0 * u
        )
    };
    let cs = last_finish(&run_to_the_end(&relay, &body("client-server")).await.view);
    let p2p_view = run_to_the_end(&relay, &body("p2p")).await.view;
    let p2p = last_finish(&p2p_view);
    let (d_cs, d_p2p) = (30.0 * f / (10.0 * u), 30.0 * f / (10.0 * u + 30.0 * u));
    eprintln!("client-server {cs:.2} s (D_cs {d_cs} s), P2P {p2p:.2} s (D_P2P {d_p2p} s)");
    let seed_sent = p2p_view["peers"][0]["wire_out"].as_f64().unwrap();
    eprintln!(
        "in P2P the seed sent {seed_sent} bytes, {:.0} % of u_s over the run",
        100.0 * seed_sent / (10.0 * u * p2p)
    );
    // Client-server is the seed's bucket emptied N times over: it cannot
    // beat D_cs by more than the bucket's saved-up tenth of a second, and
    // (if the bucket were per connection, not shared) would take 1/30 of it.
    assert!(
        cs >= d_cs - 0.2,
        "client-server in {cs} s, under D_cs {d_cs} s"
    );
    assert!(p2p >= d_p2p - 0.2, "P2P in {p2p} s, under D_P2P {d_p2p} s");
    // The tolerance: the bounds' factor is 4; the swarm must show at
    // least 1.6 of it. Measured 1.76 to 2.09 in seven runs with the seed
    // choking in seed mode and slow neighbours holding one piece
    // (client-server 12.02 to 12.21 s, P2P 5.76 to 6.84 s), on this
    // machine with other builds running (load 6 to 8 on 2 cores); 1.75 to
    // 1.88 in five runs before; the in-memory simulation, same nodes and
    // no CPU, 6.4 s (1.88). Before slots were refilled (a downloader that
    // lost interest kept its slot until the 10 s round, which never comes
    // in a run of seconds) it was 1.2 to 1.5. What keeps P2P above D_P2P
    // and the factor under 4: D_P2P assumes every peer uploads at its
    // rate from the first instant, and here nobody has anything to upload
    // until a first whole 16 KiB piece arrived and was checked, and a
    // leecher's upload slot (u/5 = 13 KiB/s) takes 1.25 s to pass a piece
    // on, 40 % of D_P2P (start-up); a piece passes on only whole (granularity), and 16
    // pieces for 30 peers leave little to trade at the end: a leecher's
    // last pieces are each asked of one neighbour, and those of a leecher
    // crawl in at its upload slot's 13 KiB/s (end game); so a leecher the
    // seed unchokes often has nothing left to ask it, and the seed sends
    // 41 to 47 % of u_s over the run (printed above; 64 % in the
    // simulation), although seed mode rotates a slot that took nothing
    // for a second; and the token buckets' burst and the machine's load
    // add the rest.
    let factor = cs / p2p;
    eprintln!(
        "P2P beat client-server by {factor:.2}, the bounds by {}",
        d_cs / d_p2p
    );
    assert!(
        factor >= 1.6,
        "P2P beat client-server by only {factor:.2} (bounds: 4)"
    );
}

/// Reads frames from the peer (binary frames) until `want` of them have
/// arrived; a `closed` from the relay ends the reading early.
async fn read_frames(ws: &mut Ws, reader: &mut WireReader, want: usize) -> (Vec<Frame>, bool) {
    let mut frames = Vec::new();
    while frames.len() < want {
        match next(ws).await {
            tokio_tungstenite::tungstenite::Message::Binary(bytes) => {
                reader.push(&bytes);
                while let Some((frame, _)) = reader.next_frame().unwrap() {
                    frames.push(frame);
                }
            }
            tokio_tungstenite::tungstenite::Message::Text(text) => {
                let message: RelayMessage = serde_json::from_str(text.as_str()).unwrap();
                if let RelayMessage::Closed { by, .. } = message {
                    return (frames, by == ClosedBy::Peer);
                }
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    (frames, false)
}

#[tokio::test]
async fn a_page_session_reaches_a_swarm_peer_and_gets_a_block() {
    let relay = start(|_| {}).await;
    let (status, created) = post_swarm(
        &relay,
        r#"{"peers": 1, "file_size": 65536, "piece_size": 16384}"#,
    )
    .await;
    assert_eq!(status, 200, "{created}");
    let id = created["id"].as_u64().unwrap();
    let (_, text) = relay.get(&format!("/api/swarms/{id}")).await;
    let view: Value = serde_json::from_str(&text).unwrap();
    let seed: std::net::SocketAddr = view["peers"][0]["address"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let info_hash =
        wirelab_shared::bittorrent::syntax::parse_info_hash(view["info_hash"].as_str().unwrap())
            .unwrap();
    let (_, listed) = relay.get("/api/swarms").await;
    let listed: Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed[0]["id"], id, "{listed}");
    assert_eq!(listed[0]["info_hash"], view["info_hash"], "{listed}");

    let query = format!("host={}&port={}", seed.ip(), seed.port());
    let mut ws = relay.open(&query).await;
    let connected = expect_connected(&mut ws).await;
    assert_eq!(connected["peer"], seed.to_string(), "{connected}");
    let hello = Handshake::new(info_hash, *b"-WL0001-student00001");
    send_bytes(&mut ws, &hello.encode()).await;
    let mut reader = WireReader::new(1 << 20);
    let (frames, _) = read_frames(&mut ws, &mut reader, 2).await;
    let Frame::Handshake(theirs) = &frames[0] else {
        panic!("the peer answers with its handshake first: {frames:?}");
    };
    assert_eq!(theirs.info_hash, info_hash);
    assert_eq!(frames[1], Frame::Message(Message::Bitfield(vec![0xf0])));

    send_bytes(&mut ws, &Message::Interested.encode()).await;
    let (frames, _) = read_frames(&mut ws, &mut reader, 1).await;
    assert_eq!(frames, [Frame::Message(Message::Unchoke)]);
    let ask = Message::Request {
        index: 1,
        begin: 0,
        length: 16384,
    };
    send_bytes(&mut ws, &ask.encode()).await;
    let (frames, _) = read_frames(&mut ws, &mut reader, 1).await;
    let file = sample_file(65536);
    assert_eq!(
        frames,
        [Frame::Message(Message::Piece {
            index: 1,
            begin: 0,
            block: file[16384..32768].to_vec()
        })]
    );

    // Over 16 KiB: the peer drops the connection.
    let greedy = Message::Request {
        index: 2,
        begin: 0,
        length: 32768,
    };
    send_bytes(&mut ws, &greedy.encode()).await;
    let (frames, dropped) = read_frames(&mut ws, &mut reader, usize::MAX).await;
    assert!(
        dropped,
        "the peer closed the connection; it sent {frames:?}"
    );
    assert!(
        !frames
            .iter()
            .any(|f| matches!(f, Frame::Message(Message::Piece { .. }))),
        "{frames:?}"
    );

    // Only the swarm's peers are opened, and only while the swarm runs.
    let mut other = relay
        .open(&format!("host={}&port={}", seed.ip(), seed.port() ^ 1))
        .await;
    assert_eq!(expect_error(&mut other).await.0, ErrorCode::Forbidden);
    relay
        .request("DELETE", &format!("/api/swarms/{id}"), &[], "")
        .await;
    let mut late = relay.open(&query).await;
    assert_eq!(expect_error(&mut late).await.0, ErrorCode::Forbidden);
}

/// A one-leecher swarm of 4 pieces of 16 KiB: its seed's address and the
/// info hash.
async fn small_swarm_seed(relay: &TestRelay) -> (String, [u8; 20]) {
    let (status, created) = post_swarm(
        relay,
        r#"{"peers": 1, "file_size": 65536, "piece_size": 16384}"#,
    )
    .await;
    assert_eq!(status, 200, "{created}");
    let (_, text) = relay.get(&format!("/api/swarms/{}", created["id"])).await;
    let view: Value = serde_json::from_str(&text).unwrap();
    let seed: std::net::SocketAddr = view["peers"][0]["address"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let hash =
        wirelab_shared::bittorrent::syntax::parse_info_hash(view["info_hash"].as_str().unwrap());
    (
        format!("host={}&port={}", seed.ip(), seed.port()),
        hash.unwrap(),
    )
}

#[tokio::test]
async fn a_swarm_peer_drops_a_page_for_a_wrong_hash_or_a_request_past_the_end() {
    let relay = start(|_| {}).await;
    let (query, info_hash) = small_swarm_seed(&relay).await;

    let mut stranger = relay.open(&query).await;
    expect_connected(&mut stranger).await;
    let wrong = Handshake::new([0x55; 20], *b"-WL0001-student00001");
    send_bytes(&mut stranger, &wrong.encode()).await;
    let mut reader = WireReader::new(1 << 20);
    let (frames, dropped) = read_frames(&mut stranger, &mut reader, usize::MAX).await;
    // The seed speaks first (its handshake and bitfield), then reads ours
    // and hangs up.
    assert!(dropped, "a wrong info hash is dropped: {frames:?}");
    assert!(frames.len() <= 2, "{frames:?}");

    let mut ws = relay.open(&query).await;
    expect_connected(&mut ws).await;
    send_bytes(&mut ws, &Handshake::new(info_hash, [1; 20]).encode()).await;
    send_bytes(&mut ws, &Message::Interested.encode()).await;
    let mut reader = WireReader::new(1 << 20);
    let (frames, _) = read_frames(&mut ws, &mut reader, 3).await;
    assert_eq!(frames[2], Frame::Message(Message::Unchoke), "{frames:?}");
    // Piece 3 is 16384 bytes: 8192 + 16384 runs past its end.
    let past = Message::Request {
        index: 3,
        begin: 8192,
        length: 16384,
    };
    send_bytes(&mut ws, &past.encode()).await;
    let (frames, dropped) = read_frames(&mut ws, &mut reader, usize::MAX).await;
    assert!(dropped, "a request past the end is dropped: {frames:?}");
    assert!(frames.is_empty(), "{frames:?}");
}

/// Each peer's clock (`pacing.at_secs`) and its `side` bucket's counters
/// (`pacing.up` or `pacing.down`), in peer order.
async fn pacing(relay: &TestRelay, id: u64, side: &str) -> Vec<(f64, Value)> {
    let (status, text) = relay.get(&format!("/api/swarms/{id}")).await;
    assert_eq!(status, 200, "{text}");
    let view: Value = serde_json::from_str(&text).unwrap();
    let peers = view["peers"].as_array().unwrap();
    for p in peers.iter().filter(|p| p["seed"] == false) {
        assert!(p["done_secs"].is_null(), "a leecher finished early: {p}");
    }
    peers
        .iter()
        .map(|p| {
            let pacing = &p["pacing"];
            (pacing["at_secs"].as_f64().unwrap(), pacing[side].clone())
        })
        .collect()
}

/// One limit over a window, by the peer's own clock: its bytes per second
/// against the rate asked, and the share of its allowance lost with
/// nothing to send or read (its demand fell short, not its limit).
fn over_window(before: &(f64, Value), after: &(f64, Value), asked: f64) -> (f64, f64) {
    let secs = after.0 - before.0;
    assert!(secs > 1.0, "the view was not updated: {before:?} {after:?}");
    let delta =
        |key: &str| (after.1[key].as_u64().unwrap() - before.1[key].as_u64().unwrap()) as f64;
    let rate = delta("paced_bytes") / secs / asked;
    let unused = delta("unused_bytes") / secs / asked;
    (rate, unused)
}

/// Above this share of its allowance unused, a limit's peer was short of
/// demand: its rate is no test of the limit.
const STARVED: f64 = 0.02;

/// Runs `body` (four leechers) for 3 s, then measures its peers' `side`
/// limits (`asked[i]`, 0 unlimited) over 8 s: a limit that held its peer
/// sent within ±10 % of its rate; one whose peer was short of demand sent
/// what its allowance left unused does not account for, within ±10 %.
/// Most of them must have held: a swarm whose limits mostly went
/// unexercised tests nothing.
///
/// ±10 %: the bytes are counted as whole 16 KiB blocks after their wait,
/// a block either side of a window of 8 s at 64 KiB/s being ±3 %, and the
/// bucket may save 0.1 s of rate up (+1 %); the window is the peer's own
/// clock, so the API's delays on a loaded machine do not enter it, and a
/// stall of the relay shows as unused allowance, not as a slow limit.
async fn limits_hold(body: &str, side: &str, asked: [f64; 5]) {
    let relay = start(|_| {}).await;
    let (status, created) = post_swarm(&relay, body).await;
    assert_eq!(status, 200, "{created}");
    let id = created["id"].as_u64().unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = pacing(&relay, id, side).await;
    tokio::time::sleep(Duration::from_secs(8)).await;
    let after = pacing(&relay, id, side).await;
    relay
        .request("DELETE", &format!("/api/swarms/{id}"), &[], "")
        .await;
    let (mut held, mut limits) = (0, 0);
    for (i, asked) in asked.into_iter().enumerate().filter(|(_, a)| *a > 0.0) {
        limits += 1;
        let (rate, unused) = over_window(&before[i], &after[i], asked);
        eprintln!("peer {i} {side}: {rate:.3} of its rate, {unused:.3} of it unused");
        if unused <= STARVED {
            held += 1;
            assert!(
                (0.9..=1.1).contains(&rate),
                "peer {i}'s limit held it at {rate:.3}"
            );
        } else {
            let accounted = rate + unused;
            assert!(
                (0.9..=1.1).contains(&accounted),
                "peer {i}, short of demand, sent {rate:.3} and left {unused:.3} unused"
            );
        }
    }
    assert!(
        held * 2 > limits,
        "{held} of {limits} {side} limits held their peer"
    );
}

/// The bench's uploads-bound swarm at a quarter of its rates (u_s =
/// 4 u_i, d_i unlimited), over a window after the start: the seed, which
/// every leecher asks for new pieces, is held at u_s, and the leechers
/// at u_i unless one had nothing the others wanted. When a leecher's
/// requests waited behind its own piece uploads in its upload bucket, the
/// seed sent 6.5–17 % below u_s, and a 15 % error fails here.
#[tokio::test]
async fn the_seed_and_the_leechers_upload_at_the_rates_asked() {
    const U_S: f64 = 256.0 * 1024.0;
    const U_I: f64 = 64.0 * 1024.0;
    let body = format!(
        r#"{{"peers": 4, "file_size": {}, "piece_size": 65536, "u_s": {U_S}, "u_i": {U_I}, "d_i": 0}}"#,
        8 << 20
    );
    limits_hold(&body, "up", [U_S, U_I, U_I, U_I, U_I]).await;
}

/// The bench's downloads-bound swarm at a quarter of its rate (uploads
/// unlimited, so each leecher is offered more than d_i): the leechers
/// are held at d_i.
#[tokio::test]
async fn the_leechers_download_at_the_rate_asked() {
    const D_I: f64 = 128.0 * 1024.0;
    let body = format!(
        r#"{{"peers": 4, "file_size": {}, "piece_size": 65536, "u_s": 0, "u_i": 0, "d_i": {D_I}}}"#,
        8 << 20
    );
    limits_hold(&body, "down", [0.0, D_I, D_I, D_I, D_I]).await;
}
