//! Every limit of `[limits]` hit through `/ws` and reported as `limit` (or
//! `timeout`) naming its key. The per-student limit is in classroom.rs, the
//! per-address one also in access.rs, the idle timeout in ws.rs.

mod common;

use common::*;
use futures_util::SinkExt;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::{Frame, FrameHeader};
use wirelab_relay::policy::resolver::StaticResolver;
use wirelab_shared::relay_protocol::ErrorCode;

async fn expect_limit(ws: &mut Ws, key: &str) -> String {
    let (code, message) = expect_error(ws).await;
    assert_eq!(code, ErrorCode::Limit, "{message}");
    assert!(message.contains(key), "{key} not named in: {message}");
    expect_close(ws, 1008).await;
    message
}

#[tokio::test]
async fn total_and_per_address_connections() {
    let relay = start(|c| c.limits.max_connections = 2).await;
    let mut a = relay.open("target=upper-tcp").await;
    expect_connected(&mut a).await;
    let mut b = relay.open("target=upper-udp").await;
    expect_connected(&mut b).await;
    let mut c = relay.open("target=upper-tcp").await;
    expect_limit(&mut c, "limits.max_connections").await;
    // A slot comes back when a session ends.
    drop(a);
    let mut d = None;
    for _ in 0..100 {
        let mut ws = relay.open("target=upper-tcp").await;
        if let Message::Text(text) = next(&mut ws).await
            && text.contains("connected")
        {
            d = Some(ws);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(d.is_some(), "the freed slot was never given back");

    let relay = start(|c| c.limits.max_connections_per_client = 1).await;
    let mut a = relay.open("target=upper-tcp").await;
    expect_connected(&mut a).await;
    let mut b = relay.open("target=upper-tcp").await;
    expect_limit(&mut b, "limits.max_connections_per_client").await;
}

#[tokio::test]
async fn frame_and_message_sizes() {
    // One frame over the frame limit.
    let relay = start(|c| {
        c.limits.max_frame_bytes = 1000;
        c.limits.max_message_bytes = 4000;
    })
    .await;
    let mut ws = relay.open("target=upper-tcp").await;
    expect_connected(&mut ws).await;
    send_bytes(&mut ws, &[b'a'; 1500]).await;
    let message = expect_limit(&mut ws, "limits.max_frame_bytes").await;
    assert!(message.contains("1500 bytes"), "{message}");

    // A message in small frames, over the message limit.
    let mut ws = relay.open("target=upper-tcp").await;
    expect_connected(&mut ws).await;
    let chunk = vec![b'b'; 900];
    for i in 0..5 {
        let opcode = if i == 0 {
            OpCode::Data(Data::Binary)
        } else {
            OpCode::Data(Data::Continue)
        };
        let header = FrameHeader {
            is_final: i == 4,
            opcode,
            ..FrameHeader::default()
        };
        ws.send(Message::Frame(Frame::from_payload(
            header,
            chunk.clone().into(),
        )))
        .await
        .unwrap();
    }
    expect_limit(&mut ws, "limits.max_message_bytes").await;

    // Under both limits, fragments make one message and one write.
    let mut ws = relay.open("target=upper-tcp").await;
    expect_connected(&mut ws).await;
    send_bytes(&mut ws, &[b'c'; 999]).await;
    let mut got = Vec::new();
    while got.len() < 999 {
        got.extend(next_bytes(&mut ws).await);
    }
    assert_eq!(got, vec![b'C'; 999]);
}

#[tokio::test]
async fn bytes_per_connection_and_per_minute() {
    let relay = start(|c| c.limits.max_bytes_per_connection = 100).await;
    let mut ws = relay.open("target=upper-tcp").await;
    expect_connected(&mut ws).await;
    send_bytes(&mut ws, &[b'x'; 40]).await;
    assert_eq!(next_bytes(&mut ws).await.len(), 40);
    // 80 so far; 40 more crosses 100.
    send_bytes(&mut ws, &[b'y'; 40]).await;
    expect_limit(&mut ws, "limits.max_bytes_per_connection").await;

    // Per minute, over all of a client's sessions.
    let relay = start(|c| c.limits.max_bytes_per_minute = 100).await;
    let mut a = relay.open("target=upper-tcp").await;
    expect_connected(&mut a).await;
    send_bytes(&mut a, &[b'x'; 30]).await;
    assert_eq!(next_bytes(&mut a).await.len(), 30);
    let mut b = relay.open("target=upper-udp").await;
    expect_connected(&mut b).await;
    send_bytes(&mut b, &[b'z'; 50]).await;
    expect_limit(&mut b, "limits.max_bytes_per_minute").await;
    // The budget is spent for the other session too.
    send_bytes(&mut a, b"!").await;
    expect_limit(&mut a, "limits.max_bytes_per_minute").await;
}

#[tokio::test]
async fn connect_timeout_covers_a_slow_lookup() {
    let relay = start_resolving(
        |c| {
            c.limits.connect_timeout_secs = 0.2;
            c.policy = toml::from_str(
                "[[rules]]\nhosts = [\"slow.test\"]\ncidrs = [\"127.0.0.1/32\"]\nports = [9]\n",
            )
            .unwrap();
        },
        StaticResolver::new()
            .with("slow.test", &["127.0.0.1"])
            .slow(Duration::from_secs(30)),
    )
    .await;
    let mut ws = relay.open("host=slow.test&port=9").await;
    let (code, message) = expect_error(&mut ws).await;
    assert_eq!(code, ErrorCode::Timeout);
    assert!(message.contains("slow.test"), "{message}");
    expect_close(&mut ws, 1011).await;
}

#[tokio::test]
async fn delay_is_bounded() {
    let relay = start(|c| c.limits.max_delay_ms = 500).await;
    let mut ws = relay.open("target=upper-tcp&delay_ms=5000").await;
    expect_limit(&mut ws, "limits.max_delay_ms").await;
    let relay = start(|c| c.limits.max_delay_ms = 0).await;
    let mut ws = relay.open("target=upper-tcp&delay_ms=10").await;
    expect_limit(&mut ws, "limits.max_delay_ms").await;
    let mut ws = relay.open("target=upper-tcp&delay_ms=0").await;
    expect_connected(&mut ws).await;
}

#[tokio::test]
async fn every_limit_hit_is_counted_in_the_metrics() {
    let relay = start(|c| c.limits.max_connections_per_client = 1).await;
    let mut a = relay.open("target=upper-tcp").await;
    expect_connected(&mut a).await;
    for _ in 0..3 {
        let mut b = relay.open("target=upper-tcp").await;
        expect_limit(&mut b, "max_connections_per_client").await;
    }
    let (_, metrics) = relay.get("/api/metrics").await;
    assert!(
        metrics.contains(
            "wirelab_refusals_total{code=\"limit\",reason=\"max_connections_per_client\"} 3"
        ),
        "{metrics}"
    );
    assert!(metrics.contains("wirelab_connections_open 1"), "{metrics}");
}
