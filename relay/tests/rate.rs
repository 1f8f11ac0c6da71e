//! `rate_kbps` on `/ws`: the link rate the response-time lab asks for.
//! Bytes take their size over the rate to cross, each way, one chunk after
//! the other; without it (or with `delay_ms` alone) nothing changes. Only
//! lower bounds are asserted: a busy machine makes things later, never
//! earlier.

mod common;

use common::*;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use wirelab_shared::relay_protocol::{ErrorCode, RelayMessage};

/// Reads the server's bytes until it closes, failing after 5 s per frame.
async fn read_to_close(ws: &mut Ws) -> Vec<u8> {
    let mut bytes = Vec::new();
    loop {
        match next(ws).await {
            Message::Binary(chunk) => bytes.extend_from_slice(&chunk),
            Message::Text(text) => {
                let message: RelayMessage = serde_json::from_str(text.as_str()).unwrap();
                if matches!(message, RelayMessage::Closed { .. }) {
                    return bytes;
                }
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// Reads `want` bytes of the server's answer.
async fn read_bytes(ws: &mut Ws, want: usize) -> Vec<u8> {
    let mut bytes = Vec::new();
    while bytes.len() < want {
        bytes.extend(next_bytes(ws).await);
    }
    bytes
}

/// Milliseconds `bytes` take at `rate_kbps` (bits over kilobits a second).
fn transmission_ms(bytes: usize, rate_kbps: u64) -> u64 {
    (bytes as u64 * 8).div_ceil(rate_kbps)
}

#[tokio::test]
async fn a_line_takes_its_transmission_time_each_way() {
    let relay = start(|_| {}).await;
    // 2000 bytes at 64 kbit/s: 250 ms up, 250 ms back.
    let mut ws = relay.open("target=upper-tcp&rate_kbps=64").await;
    expect_connected(&mut ws).await;
    let mut line = vec![b'a'; 1998];
    line.extend_from_slice(b"\r\n");
    let sent = Instant::now();
    send_bytes(&mut ws, &line).await;
    let reply = read_bytes(&mut ws, line.len()).await;
    let took = sent.elapsed();
    assert_eq!(reply, line.to_ascii_uppercase());
    let floor = Duration::from_millis(2 * transmission_ms(line.len(), 64));
    assert!(took >= floor, "took {took:?}, less than {floor:?}");
}

#[tokio::test]
async fn an_http_object_arrives_after_its_transmission_time_and_the_delay() {
    let relay = start(|c| c.limits.max_delay_ms = 1000).await;
    let mut ws = relay.open("target=http&rate_kbps=100&delay_ms=20").await;
    expect_connected(&mut ws).await;
    let request = b"GET /someDepartment/home.index HTTP/1.1\r\nHost: www.someSchool.edu\r\n\
                    Connection: close\r\n\r\n";
    let sent = Instant::now();
    send_bytes(&mut ws, request).await;
    let response = read_to_close(&mut ws).await;
    let took = sent.elapsed();
    assert!(response.starts_with(b"HTTP/1.1 200 OK\r\n"));
    // One round trip, the request's and the response's transmission.
    let floor_ms =
        2 * 20 + transmission_ms(request.len(), 100) + transmission_ms(response.len(), 100);
    assert!(
        took >= Duration::from_millis(floor_ms),
        "{} bytes came back in {took:?}, less than {floor_ms} ms",
        response.len()
    );
}

#[tokio::test]
async fn pipelined_answers_queue_behind_each_other() {
    let relay = start(|_| {}).await;
    let mut ws = relay.open("target=http&rate_kbps=200").await;
    expect_connected(&mut ws).await;
    let mut requests = Vec::new();
    for n in 1..=5 {
        requests.extend_from_slice(
            format!("GET /someDepartment/img/pic{n:02}.jpg HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes(),
        );
    }
    requests.extend_from_slice(
        b"GET /someDepartment/img/pic06.jpg HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    let sent = Instant::now();
    send_bytes(&mut ws, &requests).await;
    let responses = read_to_close(&mut ws).await;
    let took = sent.elapsed();
    let answers = responses
        .windows(b"HTTP/1.1 200 OK".len())
        .filter(|w| w == b"HTTP/1.1 200 OK")
        .count();
    assert_eq!(answers, 6);
    // Six pictures of about 1.2 kB each are more than 6 kB: their times add.
    let floor_ms = transmission_ms(requests.len(), 200) + transmission_ms(responses.len(), 200);
    assert!(responses.len() > 6_000, "{}", responses.len());
    assert!(
        took >= Duration::from_millis(floor_ms),
        "took {took:?}, less than {floor_ms} ms"
    );
}

#[tokio::test]
async fn the_rate_is_bounded() {
    let relay = start(|c| c.limits.min_rate_kbps = 50).await;
    for query in [
        "target=upper-tcp&rate_kbps=49",
        "target=upper-tcp&rate_kbps=0",
    ] {
        let mut ws = relay.open(query).await;
        let (code, message) = expect_error(&mut ws).await;
        assert_eq!(code, ErrorCode::Limit, "{message}");
        assert!(message.contains("limits.min_rate_kbps"), "{message}");
        expect_close(&mut ws, 1008).await;
    }
    let mut ws = relay.open("target=upper-udp&rate_kbps=50").await;
    expect_connected(&mut ws).await;
    send_bytes(&mut ws, b"udp too").await;
    assert_eq!(next_bytes(&mut ws).await, b"UDP TOO");
    let mut ws = relay.open("target=upper-tcp&rate_kbps=fast").await;
    let (code, message) = expect_error(&mut ws).await;
    assert_eq!(code, ErrorCode::BadRequest, "{message}");
}
