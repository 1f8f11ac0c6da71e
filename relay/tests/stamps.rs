//! Stamps (`stamps=1`): the relay tells the page when each chunk met the
//! server's socket, on one clock for all its sessions, so a page can order
//! the events of several WebSockets (an FTP control and data connection,
//! HTTP's successive connections) as they happened.

mod common;

use common::*;
use tokio_tungstenite::tungstenite::Message;
use wirelab_shared::relay_protocol::RelayMessage;

/// What one request brought back: the `sent` stamp of its write, the
/// `data` stamps before each chunk, and the bytes.
#[derive(Default)]
struct Exchange {
    sent: Vec<(u64, usize)>,
    data: Vec<(u64, usize)>,
    bytes: Vec<u8>,
}

/// Reads frames until `want` bytes have arrived, checking that every
/// binary frame follows a `data` stamp of its length.
async fn collect(ws: &mut Ws, want: usize) -> Exchange {
    let mut exchange = Exchange::default();
    let mut announced = None;
    while exchange.bytes.len() < want {
        match next(ws).await {
            Message::Text(text) => match serde_json::from_str(text.as_str()).unwrap() {
                RelayMessage::Sent { at_us, len, .. } => exchange.sent.push((at_us, len)),
                RelayMessage::Data { at_us, len } => {
                    assert_eq!(announced, None, "two stamps for one chunk: {text}");
                    announced = Some(len);
                    exchange.data.push((at_us, len));
                }
                other => panic!("unexpected {other:?}"),
            },
            Message::Binary(bytes) => {
                assert_eq!(
                    announced.take(),
                    Some(bytes.len()),
                    "a chunk without its stamp"
                );
                exchange.bytes.extend_from_slice(&bytes);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    exchange
}

/// `connected`'s `(started_us, at_us)`.
async fn connected_stamps(ws: &mut Ws) -> (u64, u64) {
    match next_relay_message(ws).await {
        RelayMessage::Connected {
            started_us: Some(started),
            at_us: Some(at),
            ..
        } => (started, at),
        other => panic!("expected connected with stamps, got {other:?}"),
    }
}

#[tokio::test]
async fn a_reply_is_stamped_after_the_write_that_asked_for_it() {
    let relay = start(|_| {}).await;
    let mut ws = relay.open("target=upper-tcp&stamps=1").await;
    let (started, up) = connected_stamps(&mut ws).await;
    assert!(started <= up, "connect started at {started}, ended at {up}");
    let mut last = up;
    for line in ["hello\r\n", "the second line\r\n"] {
        send_bytes(&mut ws, line.as_bytes()).await;
        let exchange = collect(&mut ws, line.len()).await;
        assert_eq!(exchange.bytes, line.to_uppercase().as_bytes());
        assert_eq!(exchange.sent.len(), 1, "one write, one stamp");
        let (sent_at, sent_len) = exchange.sent[0];
        assert_eq!(sent_len, line.len());
        assert!(sent_at >= last, "stamps go forward: {sent_at} after {last}");
        for (at, _) in &exchange.data {
            assert!(
                *at >= sent_at,
                "the reply ({at}) after the write ({sent_at})"
            );
            last = *at;
        }
    }
    send_text(&mut ws, r#"{"type":"shutdown"}"#).await;
    // The FIN's write is stamped, then the server's FIN.
    let fin_sent = match next_relay_message(&mut ws).await {
        RelayMessage::Sent {
            at_us,
            len: 0,
            fin: true,
        } => at_us,
        other => panic!("expected the FIN's stamp, got {other:?}"),
    };
    assert!(fin_sent >= last);
    match next_relay_message(&mut ws).await {
        RelayMessage::Closed {
            at_us: Some(at), ..
        } => assert!(at >= fin_sent, "FIN read at {at}, sent at {fin_sent}"),
        other => panic!("expected closed with a stamp, got {other:?}"),
    }
}

#[tokio::test]
async fn two_websockets_share_one_clock() {
    let relay = start(|_| {}).await;
    let mut first = relay.open("target=upper-tcp&stamps=1").await;
    let (_, first_up) = connected_stamps(&mut first).await;
    send_bytes(&mut first, b"one\r\n").await;
    let one = collect(&mut first, 5).await;
    // Opened after the first one's reply came back: later on the clock,
    // though its own WebSocket has just opened.
    let mut second = relay.open("target=upper-tcp&stamps=1").await;
    let (second_started, _) = connected_stamps(&mut second).await;
    let reply_at = one.data.last().unwrap().0;
    assert!(first_up <= reply_at);
    assert!(
        second_started >= reply_at,
        "the second connection ({second_started}) began after the first reply ({reply_at})"
    );
    send_bytes(&mut second, b"two\r\n").await;
    let two = collect(&mut second, 5).await;
    assert!(two.sent[0].0 >= second_started);
}

#[tokio::test]
async fn with_a_delay_the_stamp_is_where_the_bytes_met_the_server() {
    let relay = start(|c| c.limits.max_delay_ms = 1000).await;
    let mut ws = relay.open("target=upper-tcp&stamps=1&delay_ms=400").await;
    connected_stamps(&mut ws).await;
    send_bytes(&mut ws, b"slow\r\n").await;
    let exchange = collect(&mut ws, 6).await;
    let sent_at = exchange.sent[0].0;
    let reply_at = exchange.data[0].0;
    // The reply waits 400 ms in the relay before it goes to the page; it is
    // stamped as it was read, right after the write, not then.
    assert!(reply_at >= sent_at);
    assert!(
        reply_at - sent_at < 400_000,
        "the reply was stamped {} µs after the write: the added delay counted",
        reply_at - sent_at
    );
}

#[tokio::test]
async fn udp_datagrams_are_stamped_both_ways() {
    let relay = start(|_| {}).await;
    let mut ws = relay.open("target=upper-udp&stamps=1").await;
    connected_stamps(&mut ws).await;
    send_bytes(&mut ws, b"datagram").await;
    let exchange = collect(&mut ws, 8).await;
    assert_eq!(exchange.bytes, b"DATAGRAM");
    assert_eq!(exchange.sent, vec![(exchange.sent[0].0, 8)]);
    assert!(exchange.data[0].0 >= exchange.sent[0].0);
}

#[tokio::test]
async fn without_stamps_the_relay_speaks_plain_v1() {
    let relay = start(|_| {}).await;
    let mut ws = relay.open("target=upper-tcp").await;
    let connected = expect_connected(&mut ws).await;
    assert!(connected.get("at_us").is_none(), "{connected}");
    send_bytes(&mut ws, b"plain\r\n").await;
    // The reply comes alone: no `sent`, no `data` before it.
    assert_eq!(next_bytes(&mut ws).await, b"PLAIN\r\n");
}
