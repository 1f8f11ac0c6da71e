//! Recordings and delay: a recorded connection downloads as a transcript
//! and as a pcapng file that tshark reads back with the right handshake,
//! sequence numbers, payload and FINs; `delay_ms` delays each direction
//! and keeps the order.

mod common;

use common::*;
use std::process::Command;
use std::time::{Duration, Instant};
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
