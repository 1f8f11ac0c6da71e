//! Relay protocol v1 end to end: a WebSocket client talks to the relay, the
//! relay to the uppercase reference servers, all on 127.0.0.1.

mod common;

use common::*;
use std::time::Duration;
use wirelab_relay::config::Limits;
use wirelab_shared::relay_protocol::{ClosedBy, ErrorCode, RelayMessage, TargetInfo, Transport};

#[tokio::test]
async fn tcp_round_trip_through_the_relay() {
    let relay = start(|_| {}).await;
    let target = relay.relay.target("upper-tcp").unwrap().clone();
    let mut ws = relay.open("target=upper-tcp").await;
    match next_relay_message(&mut ws).await {
        RelayMessage::Connected {
            transport,
            target: name,
            peer,
            local,
            connect_ms,
            t_ms,
            recording,
            started_us,
            at_us,
        } => {
            assert_eq!(recording, None, "no recording unless asked for");
            assert_eq!(
                (started_us, at_us),
                (None, None),
                "no stamps unless asked for"
            );
            assert_eq!(transport, Transport::Tcp);
            assert_eq!(name.as_deref(), Some("upper-tcp"));
            assert_eq!(peer, format!("127.0.0.1:{}", target.port));
            assert!(local.starts_with("127.0.0.1:"));
            // A real measurement: a connect takes some microseconds (the
            // value keeps two decimals of a millisecond), and one that had
            // taken the connect timeout would have failed instead.
            let timeout_ms = Limits::default().connect_timeout_secs * 1000.0;
            assert!(
                connect_ms.is_finite() && connect_ms > 0.0 && connect_ms < timeout_ms,
                "connect_ms = {connect_ms}"
            );
            assert!(t_ms.is_some());
        }
        other => panic!("expected connected, got {other:?}"),
    }
    send_bytes(&mut ws, b"hello world\r\n").await;
    assert_eq!(next_bytes(&mut ws).await, b"HELLO WORLD\r\n");
    // The connection stays open for more lines.
    send_bytes(&mut ws, b"second\r\n").await;
    assert_eq!(next_bytes(&mut ws).await, b"SECOND\r\n");
}

#[tokio::test]
async fn udp_round_trip_one_datagram_per_frame() {
    let relay = start(|_| {}).await;
    let mut ws = relay.open("target=upper-udp").await;
    match next_relay_message(&mut ws).await {
        RelayMessage::Connected { transport, .. } => assert_eq!(transport, Transport::Udp),
        other => panic!("expected connected, got {other:?}"),
    }
    send_bytes(&mut ws, b"hello world").await;
    assert_eq!(next_bytes(&mut ws).await, b"HELLO WORLD");
    send_bytes(&mut ws, b"a").await;
    send_bytes(&mut ws, b"b").await;
    let mut got = vec![next_bytes(&mut ws).await, next_bytes(&mut ws).await];
    got.sort();
    assert_eq!(got, vec![b"A".to_vec(), b"B".to_vec()]);
}

#[tokio::test]
async fn unknown_target_is_an_error_then_close_1008() {
    let relay = start(|_| {}).await;
    let mut ws = relay.open("target=telnet").await;
    match next_relay_message(&mut ws).await {
        RelayMessage::Error { code, message, .. } => {
            assert_eq!(code, ErrorCode::UnknownTarget);
            assert!(message.contains("telnet"), "{message}");
        }
        other => panic!("expected error, got {other:?}"),
    }
    expect_close(&mut ws, 1008).await;
}

#[tokio::test]
async fn custom_targets_are_forbidden() {
    let relay = start(|_| {}).await;
    for query in [
        "transport=tcp&host=10.0.0.1&port=22",
        "transport=udp&host=127.0.0.1&port=53",
        "host=example.com&port=80",
    ] {
        let mut ws = relay.open(query).await;
        match next_relay_message(&mut ws).await {
            RelayMessage::Error { code, message, .. } => {
                assert_eq!(code, ErrorCode::Forbidden, "{query}");
                assert!(message.contains("not allowed"), "{message}");
            }
            other => panic!("expected error for {query}, got {other:?}"),
        }
        expect_close(&mut ws, 1008).await;
    }
}

#[tokio::test]
async fn bad_query_is_a_bad_request() {
    let relay = start(|_| {}).await;
    let mut ws = relay.open("target=upper-tcp&delay_ms=soon").await;
    match next_relay_message(&mut ws).await {
        RelayMessage::Error { code, .. } => assert_eq!(code, ErrorCode::BadRequest),
        other => panic!("expected error, got {other:?}"),
    }
    expect_close(&mut ws, 1008).await;
}

#[tokio::test]
async fn idle_sessions_are_closed_by_the_relay() {
    let relay = start(|c| c.limits.idle_timeout_secs = 0.3).await;
    let mut ws = relay.open("target=upper-tcp").await;
    assert!(matches!(
        next_relay_message(&mut ws).await,
        RelayMessage::Connected { .. }
    ));
    let started = std::time::Instant::now();
    match next_relay_message(&mut ws).await {
        RelayMessage::Closed {
            by, reason, t_ms, ..
        } => {
            assert_eq!(by, ClosedBy::Relay);
            assert_eq!(reason, "idle");
            assert!(t_ms.unwrap() >= 300.0);
        }
        other => panic!("expected closed, got {other:?}"),
    }
    assert!(started.elapsed() >= Duration::from_millis(250));
    expect_close(&mut ws, 1000).await;
}

/// The idle timer runs from the last thing that moved, not from the start:
/// a session that talks more often than its idle timeout, for twice as
/// long, is not closed.
#[tokio::test]
async fn sessions_that_keep_talking_outlive_the_idle_timeout() {
    let relay = start(|c| c.limits.idle_timeout_secs = 0.4).await;
    for (target, line, upper) in [
        ("upper-tcp", &b"still here\r\n"[..], &b"STILL HERE\r\n"[..]),
        ("upper-udp", b"still here", b"STILL HERE"),
    ] {
        let mut ws = relay.open(&format!("target={target}")).await;
        assert!(matches!(
            next_relay_message(&mut ws).await,
            RelayMessage::Connected { .. }
        ));
        for _ in 0..8 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            send_bytes(&mut ws, line).await;
            assert_eq!(next_bytes(&mut ws).await, upper, "{target}");
        }
    }
}

#[tokio::test]
async fn shutdown_half_closes_and_the_peer_close_is_reported() {
    let relay = start(|_| {}).await;
    let mut ws = relay.open("target=upper-tcp").await;
    assert!(matches!(
        next_relay_message(&mut ws).await,
        RelayMessage::Connected { .. }
    ));
    // Like the textbook client: a sentence without a line ending, then FIN.
    send_bytes(&mut ws, b"bye").await;
    send_text(&mut ws, r#"{"type":"shutdown"}"#).await;
    // The server still answers after our FIN (half-close), then closes.
    assert_eq!(next_bytes(&mut ws).await, b"BYE");
    match next_relay_message(&mut ws).await {
        RelayMessage::Closed { by, reason, .. } => {
            assert_eq!(by, ClosedBy::Peer);
            assert!(reason.contains("FIN"), "{reason}");
        }
        other => panic!("expected closed, got {other:?}"),
    }
    expect_close(&mut ws, 1000).await;
}

#[tokio::test]
async fn oversized_frames_hit_the_limit() {
    let relay = start(|c| c.limits.max_frame_bytes = 1000).await;
    let mut ws = relay.open("target=upper-tcp").await;
    assert!(matches!(
        next_relay_message(&mut ws).await,
        RelayMessage::Connected { .. }
    ));
    send_bytes(&mut ws, &vec![b'a'; 1500]).await;
    match next_relay_message(&mut ws).await {
        RelayMessage::Error { code, message, .. } => {
            assert_eq!(code, ErrorCode::Limit);
            assert!(message.contains("1500 bytes"), "{message}");
        }
        other => panic!("expected error, got {other:?}"),
    }
    expect_close(&mut ws, 1008).await;
}

#[tokio::test]
async fn text_frames_that_are_not_commands_are_refused() {
    let relay = start(|_| {}).await;
    let mut ws = relay.open("target=upper-tcp").await;
    next_relay_message(&mut ws).await;
    send_text(&mut ws, "hello").await;
    match next_relay_message(&mut ws).await {
        RelayMessage::Error { code, .. } => assert_eq!(code, ErrorCode::BadRequest),
        other => panic!("expected error, got {other:?}"),
    }
}

#[tokio::test]
async fn catalog_and_health_endpoints() {
    let relay = start(|_| {}).await;
    let (status, body) = relay.get("/api/targets").await;
    assert_eq!(status, 200);
    let targets: Vec<TargetInfo> = serde_json::from_str(&body).unwrap();
    let names: Vec<_> = targets.iter().map(|t| t.name.as_str()).collect();
    assert!(
        names.contains(&"upper-tcp") && names.contains(&"upper-udp"),
        "{names:?}"
    );
    assert!(
        targets.iter().all(|t| t.port != 0),
        "real ports are reported"
    );
    let (status, body) = relay.get("/api/health").await;
    assert_eq!(status, 200);
    let health: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["subprotocol"], "wirelab.v1");
    // Without a built page the site explains itself instead of a bare 404.
    let (status, body) = relay.get("/sockets").await;
    assert_eq!(status, 503);
    assert!(body.contains("cargo xtask run"));
}

#[tokio::test]
async fn the_site_falls_back_to_index_html_for_page_routes() {
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), "<p>the shell</p>").unwrap();
    std::fs::write(dist.path().join("style.css"), "body{}").unwrap();
    let dist_path = dist.path().to_path_buf();
    let relay = start(move |c| c.dist = dist_path).await;
    assert_eq!(relay.get("/style.css").await, (200, "body{}".to_string()));
    assert_eq!(
        relay.get("/sockets").await,
        (200, "<p>the shell</p>".to_string())
    );
}

#[tokio::test]
async fn a_port_in_use_is_named_in_the_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let data = tempfile::tempdir().unwrap();
    let mut config = wirelab_relay::config::Config::ephemeral(data.path());
    config.servers.upper.tcp_port = port;
    let err = wirelab_relay::Relay::start(config)
        .await
        .err()
        .expect("bind fails");
    let text = format!("{err:#}");
    assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
    assert!(text.contains("servers.upper.tcp_port"), "{text}");
}

#[tokio::test]
async fn the_relay_stops_and_closes_sessions() {
    let relay = start(|_| {}).await;
    let mut ws = relay.open("target=upper-tcp").await;
    next_relay_message(&mut ws).await;
    let TestRelay { relay, _data } = relay;
    let stopping = tokio::spawn(relay.stop(Duration::from_secs(5)));
    match next_relay_message(&mut ws).await {
        RelayMessage::Closed { by, reason, .. } => {
            assert_eq!(by, ClosedBy::Relay);
            assert!(reason.contains("shutting down"));
        }
        other => panic!("expected closed, got {other:?}"),
    }
    assert!(
        stopping.await.unwrap(),
        "everything stopped within the grace period"
    );
}

#[tokio::test]
async fn gzip_copies_are_served_to_browsers_that_accept_them() {
    use std::io::Write;
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), "<p>the shell</p>").unwrap();
    let css = "body { color: black; }".repeat(50);
    std::fs::write(dist.path().join("style.css"), &css).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(css.as_bytes()).unwrap();
    let compressed = gz.finish().unwrap();
    std::fs::write(dist.path().join("style.css.gz"), &compressed).unwrap();
    let dist_path = dist.path().to_path_buf();
    let relay = start(move |c| c.dist = dist_path).await;
    let (status, head, body) = relay
        .request_bytes("GET", "/style.css", &["Accept-Encoding: gzip"], "")
        .await;
    assert_eq!(status, 200);
    assert!(
        head.to_ascii_lowercase().contains("content-encoding: gzip"),
        "{head}"
    );
    assert_eq!(body, compressed);
    // Without Accept-Encoding, the plain file.
    let (_, head, body) = relay.request_bytes("GET", "/style.css", &[], "").await;
    assert!(
        !head.to_ascii_lowercase().contains("content-encoding"),
        "{head}"
    );
    assert_eq!(body, css.as_bytes());
}
