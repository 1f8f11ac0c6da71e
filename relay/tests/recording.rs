//! Recordings and delay: a recorded connection downloads as a transcript
//! and as a pcapng file that tshark reads back with the right handshake,
//! sequence numbers, payload, and both FINs with their ACKs however the
//! session ended; a recording reads while its session is open, and grows;
//! `delay_ms` delays each direction and keeps the order.

mod common;

use common::*;
use std::process::Command;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use wirelab_relay::config::RecordingMode;

fn recording_id(connected: &serde_json::Value) -> String {
    connected["recording"]
        .as_str()
        .unwrap_or_else(|| panic!("no recording id in {connected}"))
        .to_string()
}

/// Waits until the recording's transcript shows the session ended.
async fn finished_transcript(relay: &TestRelay, id: &str) -> String {
    for _ in 0..100 {
        let (status, _, text) = relay
            .request("GET", &format!("/api/recordings/{id}/text"), &[], "")
            .await;
        assert_eq!(status, 200, "{text}");
        if text.contains("closed:") {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the recording {id} never ended");
}

async fn pcapng(relay: &TestRelay, id: &str) -> Vec<u8> {
    let (status, head, body) = relay
        .request_bytes("GET", &format!("/api/recordings/{id}/pcapng"), &[], "")
        .await;
    assert_eq!(status, 200);
    assert!(head.contains("application/x-pcapng"), "{head}");
    assert!(head.contains(".pcapng\""), "{head}");
    body
}

/// `tshark -r` on `bytes` with `-T fields`, one `Vec` of fields per packet.
fn tshark_fields(bytes: &[u8], fields: &[&str]) -> Option<Vec<Vec<String>>> {
    let tshark = wirelab_testkit::require_tool("tshark", "tshark")?;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("capture.pcapng");
    std::fs::write(&file, bytes).unwrap();
    let mut cmd = Command::new(tshark);
    cmd.arg("-r")
        .arg(&file)
        .args([
            "-o",
            "tcp.check_checksum:TRUE",
            "-o",
            "ip.check_checksum:TRUE",
        ])
        .args([
            "-o",
            "udp.check_checksum:TRUE",
            "-T",
            "fields",
            "-E",
            "separator=|",
        ]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| l.split('|').map(str::to_string).collect())
            .collect(),
    )
}

/// The Enhanced Packet Blocks of a capture, read with the pcap-file crate.
fn packets(bytes: &[u8]) -> Vec<Vec<u8>> {
    use pcap_file::pcapng::{Block, PcapNgReader};
    let mut reader = PcapNgReader::new(bytes).expect("a pcapng section header");
    let mut frames = Vec::new();
    let mut linktypes = Vec::new();
    while let Some(block) = reader.next_block() {
        match block.expect("a well-formed block") {
            Block::EnhancedPacket(p) => {
                assert_eq!(p.original_len as usize, p.data.len());
                frames.push(p.data.to_vec());
            }
            Block::InterfaceDescription(i) => linktypes.push(i.linktype),
            _ => {}
        }
    }
    assert_eq!(linktypes, vec![pcap_file::DataLink::ETHERNET]);
    frames
}

/// The fields [`assert_closed_cleanly`] and [`assert_no_fin_yet`] read.
const SEGMENT_FIELDS: [&str; 6] = [
    "tcp.srcport",
    "tcp.flags.str",
    "tcp.seq",
    "tcp.ack",
    "tcp.len",
    "tcp.analysis.flags",
];

/// Checks with tshark that a finished session's capture has one FIN each
/// way, each acknowledged by the other side's next segment, and nothing
/// tshark's analysis flags; returns whether the relay's FIN came first.
/// `None` when tshark is missing.
fn assert_closed_cleanly(capture: &[u8], server_port: u16) -> Option<bool> {
    let rows = tshark_fields(capture, &SEGMENT_FIELDS)?;
    let server_port = server_port.to_string();
    for row in &rows {
        assert_eq!(row[5], "", "no TCP analysis warnings: {row:?}\n{rows:?}");
    }
    let fins: Vec<usize> = (0..rows.len())
        .filter(|&i| rows[i][1].contains('F'))
        .collect();
    assert_eq!(fins.len(), 2, "two FINs: {rows:?}");
    let from_server = |i: usize| rows[i][0] == server_port;
    assert_ne!(
        from_server(fins[0]),
        from_server(fins[1]),
        "one each way: {rows:?}"
    );
    for &fin in &fins {
        let seq: u64 = rows[fin][2].parse().unwrap();
        let ack = (fin + 1..rows.len())
            .find(|&i| from_server(i) != from_server(fin))
            .unwrap_or_else(|| panic!("no segment after the FIN at {fin}: {rows:?}"));
        assert_eq!(
            rows[ack][3],
            (seq + 1).to_string(),
            "the FIN's ACK: {rows:?}"
        );
    }
    Some(!from_server(fins[0]))
}

#[tokio::test]
async fn a_tcp_recording_reads_back_in_tshark() {
    let relay = start(|_| {}).await;
    let mut ws = relay.open("target=upper-tcp&record=1").await;
    let connected = expect_connected(&mut ws).await;
    let id = recording_id(&connected);
    send_bytes(&mut ws, b"hello world\r\n").await;
    assert_eq!(next_bytes(&mut ws).await, b"HELLO WORLD\r\n");
    // More than one segment's worth, to see the split and the numbering.
    let long = vec![b'a'; 3000];
    send_bytes(&mut ws, &long).await;
    let mut got = Vec::new();
    while got.len() < 3000 {
        got.extend(next_bytes(&mut ws).await);
    }
    send_text(&mut ws, r#"{"type":"shutdown"}"#).await;
    assert!(matches!(
        next_relay_message(&mut ws).await,
        wirelab_shared::relay_protocol::RelayMessage::Closed { .. }
    ));

    let (status, _, meta) = relay
        .request("GET", &format!("/api/recordings/{id}"), &[], "")
        .await;
    assert_eq!(status, 200);
    let meta: serde_json::Value = serde_json::from_str(&meta).unwrap();
    assert_eq!(meta["target"], "upper-tcp");
    assert_eq!(meta["pcapng_url"], format!("/api/recordings/{id}/pcapng"));
    let (_, list) = relay.get("/api/recordings").await;
    assert!(list.contains(&id), "{list}");

    let text = finished_transcript(&relay, &id).await;
    assert!(text.contains(">  13 bytes  hello world␍␊"), "{text}");
    assert!(text.contains("<  13 bytes  HELLO WORLD␍␊"), "{text}");
    assert!(text.contains(">  FIN"), "{text}");
    assert!(text.contains("<  FIN"), "{text}");

    let capture = pcapng(&relay, &id).await;
    let frames = packets(&capture);
    // SYN, SYN-ACK, ACK first; a FIN from each side at the end.
    assert!(frames.len() >= 3 + 2 + 4);
    let payload: Vec<u8> = frames.iter().flat_map(|f| f[54..].to_vec()).collect();
    let needle = b"hello world\r\nHELLO WORLD\r\n";
    assert!(payload.windows(needle.len()).any(|w| w == needle));

    let Some(rows) = tshark_fields(
        &capture,
        &[
            "tcp.srcport",
            "tcp.flags.str",
            "tcp.seq",
            "tcp.ack",
            "tcp.len",
            "tcp.checksum.status",
            "ip.checksum.status",
            "tcp.analysis.flags",
        ],
    ) else {
        return;
    };
    let port = relay.relay.target("upper-tcp").unwrap().port.to_string();
    let flags: Vec<&str> = rows.iter().map(|r| r[1].as_str()).collect();
    assert!(
        flags[0].contains('S') && !flags[0].contains('A'),
        "{flags:?}"
    );
    assert!(
        flags[1].contains('S') && flags[1].contains('A'),
        "{flags:?}"
    );
    assert_eq!(
        rows[2][2], "1",
        "the ACK after the handshake has relative seq 1"
    );
    // Every checksum is good (status 1; 0 is bad, 2 unverified) and
    // tshark's analysis finds nothing wrong.
    for row in &rows {
        assert_eq!(row[5], "1", "TCP checksum good: {row:?}");
        assert_eq!(row[6], "1", "IP checksum good: {row:?}");
        assert_eq!(row[7], "", "no TCP analysis warnings: {row:?}");
    }
    // The client's bytes are numbered as TCP does: 13, then 3000 in
    // segments of at most 1460, then the FIN at 1 + 13 + 3000.
    let client: Vec<&Vec<String>> = rows.iter().filter(|r| r[0] != port).collect();
    let data: Vec<(u64, u64)> = client
        .iter()
        .filter(|r| r[4] != "0")
        .map(|r| (r[2].parse().unwrap(), r[4].parse().unwrap()))
        .collect();
    assert_eq!(data, vec![(1, 13), (14, 1460), (1474, 1460), (2934, 80)]);
    let fins: Vec<&&Vec<String>> = client.iter().filter(|r| r[1].contains('F')).collect();
    assert_eq!(fins.len(), 1);
    assert_eq!(fins[0][2], "3014");
    assert!(rows.iter().any(|r| r[0] == port && r[1].contains('F')));
    let port: u16 = port.parse().unwrap();
    assert_eq!(assert_closed_cleanly(&capture, port), Some(true));
}

/// A session recorded to its end, `finish` ending it: its transcript and
/// its capture.
async fn recorded_session(
    relay: &TestRelay,
    target: &str,
    send: &[u8],
    finish: impl AsyncFnOnce(&mut Ws),
) -> (String, Vec<u8>) {
    let mut ws = relay.open(&format!("target={target}&record=1")).await;
    let id = recording_id(&expect_connected(&mut ws).await);
    send_bytes(&mut ws, send).await;
    finish(&mut ws).await;
    let text = finished_transcript(relay, &id).await;
    (text, pcapng(relay, &id).await)
}

#[tokio::test]
async fn both_fins_and_their_acks_however_the_session_ends() {
    let relay = start(|_| {}).await;
    let port = |name: &str| relay.relay.target(name).unwrap().port;

    // The page closes the WebSocket: the relay's FIN, then the server's.
    let (text, capture) = recorded_session(&relay, "upper-tcp", b"bye\n", async |ws| {
        assert_eq!(next_bytes(ws).await, b"BYE\n");
        ws.close(None).await.unwrap();
    })
    .await;
    assert!(text.contains(">  FIN (the relay closed"), "{text}");
    assert!(text.contains("<  FIN (the server closed"), "{text}");
    let relay_first = assert_closed_cleanly(&capture, port("upper-tcp"));
    assert!(relay_first.unwrap_or(true), "the relay's FIN came first");

    // The server closes first (HTTP/1.0): its FIN, then the relay's.
    let request = b"GET /index.html HTTP/1.0\r\n\r\n";
    let (text, capture) = recorded_session(&relay, "http", request, async |ws| {
        loop {
            if let Message::Text(t) = next(ws).await
                && t.contains("\"closed\"")
            {
                break;
            }
        }
    })
    .await;
    let (server_fin, relay_fin) = (text.find("<  FIN").unwrap(), text.find(">  FIN").unwrap());
    assert!(server_fin < relay_fin, "{text}");
    let relay_first = assert_closed_cleanly(&capture, port("http"));
    assert!(!relay_first.unwrap_or(false), "the server's FIN came first");
}

/// Checks with tshark that an open session's capture is read whole, has no
/// FIN and nothing tshark's analysis flags; returns its payload bytes.
/// `None` when tshark is missing.
fn assert_no_fin_yet(capture: &[u8]) -> Option<usize> {
    let rows = tshark_fields(capture, &SEGMENT_FIELDS)?;
    assert_eq!(
        rows.len(),
        packets(capture).len(),
        "tshark reads every packet"
    );
    for row in &rows {
        assert!(!row[1].contains('F'), "no FIN yet: {rows:?}");
        assert_eq!(row[5], "", "no TCP analysis warnings: {rows:?}");
    }
    Some(rows.iter().map(|r| r[4].parse::<usize>().unwrap()).sum())
}

#[tokio::test]
async fn a_recording_reads_while_its_session_is_open_and_grows() {
    let relay = start(|_| {}).await;
    let mut ws = relay.open("target=upper-tcp&record=1").await;
    let id = recording_id(&expect_connected(&mut ws).await);
    let text_url = format!("/api/recordings/{id}/text");

    // Right from `connected`: the handshake and nothing else.
    let (status, text) = relay.get(&text_url).await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("still open"), "{text}");
    let capture = pcapng(&relay, &id).await;
    assert_eq!(packets(&capture).len(), 3);
    assert_eq!(assert_no_fin_yet(&capture).unwrap_or(0), 0);

    send_bytes(&mut ws, b"so far\n").await;
    assert_eq!(next_bytes(&mut ws).await, b"SO FAR\n");
    let (_, text) = relay.get(&text_url).await;
    assert!(text.contains("<  7 bytes  SO FAR␊"), "{text}");
    assert!(text.contains("still open"), "{text}");
    let first = pcapng(&relay, &id).await;
    let payload: Vec<u8> = packets(&first)
        .iter()
        .flat_map(|f| f[54..].to_vec())
        .collect();
    assert_eq!(payload, b"so far\nSO FAR\n");
    assert_eq!(assert_no_fin_yet(&first).unwrap_or(14), 14);

    send_bytes(&mut ws, b"and more\n").await;
    assert_eq!(next_bytes(&mut ws).await, b"AND MORE\n");
    let grown = pcapng(&relay, &id).await;
    assert!(packets(&grown).len() > packets(&first).len());
    assert!(grown.starts_with(&first), "what was there stays as it was");
    assert_eq!(assert_no_fin_yet(&grown).unwrap_or(32), 32);

    ws.close(None).await.unwrap();
    let text = finished_transcript(&relay, &id).await;
    assert!(!text.contains("still open"), "{text}");
}

#[tokio::test]
async fn a_udp_recording_and_the_modes() {
    let relay = start(|c| c.recordings.mode = RecordingMode::Always).await;
    let mut ws = relay.open("target=upper-udp").await;
    let id = recording_id(&expect_connected(&mut ws).await);
    send_bytes(&mut ws, b"abc").await;
    assert_eq!(next_bytes(&mut ws).await, b"ABC");
    ws.close(None).await.unwrap();
    let text = finished_transcript(&relay, &id).await;
    assert!(text.contains("# udp 127.0.0.1:"), "{text}");
    let capture = pcapng(&relay, &id).await;
    assert_eq!(packets(&capture).len(), 2);
    if let Some(rows) = tshark_fields(
        &capture,
        &["udp.length", "udp.checksum.status", "udp.payload"],
    ) {
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0], vec!["11", "1", "616263"]);
        assert_eq!(rows[1], vec!["11", "1", "414243"]);
    }
    if let Some(rows) = tshark_fields(&capture, &["frame.time_epoch"]) {
        // The interface's timestamp resolution and the packets' timestamps
        // agree: tshark dates the packets today, not in 1970 or in 50000.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        for row in rows {
            let epoch: f64 = row[0].parse().unwrap();
            assert!((epoch - now).abs() < 86_400.0, "{epoch} vs {now}");
        }
    }

    let off = start(|c| c.recordings.mode = RecordingMode::Off).await;
    let mut ws = off.open("target=upper-tcp&record=1").await;
    assert!(expect_connected(&mut ws).await.get("recording").is_none());
    let on_request = start(|_| {}).await;
    let mut ws = on_request.open("target=upper-tcp").await;
    assert!(expect_connected(&mut ws).await.get("recording").is_none());
    // Unknown and malformed ids.
    assert_eq!(on_request.get("/api/recordings/not-an-id").await.0, 404);
    assert_eq!(
        on_request
            .get("/api/recordings/..%2F..%2Fetc%2Fpasswd/text")
            .await
            .0,
        404
    );
    assert_eq!(
        on_request
            .get("/api/recordings/0123456789abcdef0123456789abcdef/pcapng")
            .await
            .0,
        404
    );
}

#[tokio::test]
async fn delay_slows_both_directions_and_keeps_the_order() {
    let relay = start(|c| c.limits.max_delay_ms = 500).await;
    let sent = Instant::now();
    let mut ws = relay.open("target=upper-tcp&delay_ms=100&record=1").await;
    let connected = expect_connected(&mut ws).await;
    // The handshake is one round trip: 2 × 100 ms at least.
    assert!(
        connected["connect_ms"].as_f64().unwrap() >= 200.0,
        "{connected}"
    );
    let id = recording_id(&connected);
    let asked = Instant::now();
    for line in [&b"one\n"[..], b"two\n", b"three\n"] {
        send_bytes(&mut ws, line).await;
    }
    let mut got = Vec::new();
    while got.len() < b"ONE\nTWO\nTHREE\n".len() {
        got.extend(next_bytes(&mut ws).await);
    }
    assert_eq!(got, b"ONE\nTWO\nTHREE\n");
    // Sleeps never end early: these are lower bounds.
    assert!(asked.elapsed() >= Duration::from_millis(200));
    assert!(sent.elapsed() >= Duration::from_millis(400));
    drop(ws);
    let text = finished_transcript(&relay, &id).await;
    assert!(text.contains("added delay 100 ms each way"), "{text}");

    let mut udp = relay.open("target=upper-udp&delay_ms=50").await;
    expect_connected(&mut udp).await;
    for d in [&b"a"[..], b"b", b"c"] {
        send_bytes(&mut udp, d).await;
    }
    let mut replies = Vec::new();
    for _ in 0..3 {
        replies.push(next_bytes(&mut udp).await);
    }
    assert_eq!(replies, vec![b"A".to_vec(), b"B".to_vec(), b"C".to_vec()]);
}
