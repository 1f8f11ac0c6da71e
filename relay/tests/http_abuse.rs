//! The reference web server leaned on by a class: a client that sends
//! trailers without end, and hundreds that start a request and never
//! finish it. Each is answered the way HTTP answers it (431, 408) and
//! closed, and an honest request on a new connection is still answered.

mod common;

use common::*;
use futures_util::future::join_all;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedReadHalf;
use tokio::time::timeout;

/// Where the relay's web server listens.
fn web_server(relay: &TestRelay) -> SocketAddr {
    let target = relay.relay.target("http").expect("the web server runs");
    SocketAddr::new(target.host.parse().unwrap(), target.port)
}

/// Everything the server sends until it closes (or resets) the connection.
async fn read_until_closed(mut reader: OwnedReadHalf) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = reader.read(&mut buf).await {
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    got
}

/// The status code at the start of a response, if it is one.
fn status_of(response: &[u8]) -> Option<u16> {
    let line = response.strip_prefix(b"HTTP/1.1 ")?;
    std::str::from_utf8(line.get(..3)?).ok()?.parse().ok()
}

/// A complete GET of `/` on a new connection; its status, or `None` if
/// the server closed without answering.
async fn honest_get(addr: SocketAddr) -> Option<u16> {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (reader, mut writer) = stream.into_split();
    writer
        .write_all(b"GET / HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    status_of(&read_until_closed(reader).await)
}

/// Opens `count` connections that each send the start of a head and
/// nothing more.
async fn half_sent_heads(addr: SocketAddr, count: usize) -> Vec<TcpStream> {
    let mut streams = Vec::with_capacity(count);
    for _ in 0..count {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: lab\r\n")
            .await
            .unwrap();
        streams.push(stream);
    }
    streams
}

/// Checks that every half-sent connection gets 408 and is closed.
async fn expect_408_on_each(streams: Vec<TcpStream>) {
    let answers = join_all(streams.into_iter().map(|stream| async move {
        let (reader, _writer) = stream.into_split();
        timeout(Duration::from_secs(10), read_until_closed(reader))
            .await
            .expect("the server answers and closes within 10 s instead of waiting")
    }))
    .await;
    for answer in answers {
        assert_eq!(
            status_of(&answer),
            Some(408),
            "{}",
            String::from_utf8_lossy(&answer)
        );
        assert!(String::from_utf8_lossy(&answer).contains("\r\nConnection: close\r\n"));
    }
}

#[tokio::test]
async fn an_endless_trailer_section_is_cut_off_with_431() {
    let relay = start(|_| {}).await;
    let stream = TcpStream::connect(web_server(&relay)).await.unwrap();
    let (reader, mut writer) = stream.into_split();
    let reading = tokio::spawn(read_until_closed(reader));
    writer
        .write_all(b"POST /echo HTTP/1.1\r\nHost: lab\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n")
        .await
        .unwrap();
    // The client got 30 MB in without an answer; socket buffers
    // hold a few MB, so a server that stops at its 16 KiB limit makes the
    // writes fail long before 32 MiB.
    const GIVE_UP: usize = 32 * 1024 * 1024;
    let line = format!("X-Flood: {}\r\n", "f".repeat(1000));
    let flood = async {
        let mut sent = 0;
        while sent < GIVE_UP && writer.write_all(line.as_bytes()).await.is_ok() {
            sent += line.len();
        }
        sent
    };
    let sent = timeout(Duration::from_secs(30), flood)
        .await
        .expect("the server stops taking trailers instead of buffering them");
    assert!(sent < GIVE_UP, "the server took {sent} bytes of trailers");
    let answer = timeout(Duration::from_secs(5), reading)
        .await
        .expect("the server closes the connection")
        .unwrap();
    let text = String::from_utf8_lossy(&answer);
    assert_eq!(status_of(&answer), Some(431), "{text}");
    assert!(text.contains("\r\nConnection: close\r\n"), "{text}");
    assert!(text.contains("trailer"), "{text}");
}

#[tokio::test]
async fn three_hundred_half_sent_heads_do_not_lock_the_server() {
    let relay = start(|config| {
        // Room for all of them: the head timeout is what is tested here.
        config.limits.server_max_connections = 400;
        config.servers.http.head_timeout_secs = 1.0;
    })
    .await;
    let addr = web_server(&relay);
    let half_sent = half_sent_heads(addr, 300).await;
    let honest = timeout(Duration::from_secs(5), honest_get(addr))
        .await
        .expect("an honest request is answered within 5 s instead of hanging");
    assert_eq!(honest, Some(200));
    expect_408_on_each(half_sent).await;
}

#[tokio::test]
async fn the_head_timeout_frees_a_server_at_its_connection_cap() {
    let relay = start(|config| {
        config.limits.server_max_connections = 8;
        config.servers.http.head_timeout_secs = 1.0;
    })
    .await;
    let addr = web_server(&relay);
    let half_sent = half_sent_heads(addr, 8).await;
    expect_408_on_each(half_sent).await;
    let honest = timeout(Duration::from_secs(5), honest_get(addr))
        .await
        .expect("an honest request is answered within 5 s instead of hanging");
    assert_eq!(honest, Some(200));
}

#[tokio::test]
async fn a_huge_content_length_gets_413_before_the_body() {
    let relay = start(|_| {}).await;
    let stream = TcpStream::connect(web_server(&relay)).await.unwrap();
    let (reader, mut writer) = stream.into_split();
    writer
        .write_all(b"POST /echo HTTP/1.1\r\nHost: lab\r\nContent-Length: 1000000000\r\n\r\n")
        .await
        .unwrap();
    let answer = timeout(Duration::from_secs(5), read_until_closed(reader))
        .await
        .expect("answered without waiting for the body");
    assert_eq!(
        status_of(&answer),
        Some(413),
        "{}",
        String::from_utf8_lossy(&answer)
    );
}

#[tokio::test]
async fn a_pipeline_sent_without_reading_is_cut_short() {
    let relay = start(|_| {}).await;
    let stream = TcpStream::connect(web_server(&relay)).await.unwrap();
    let (reader, mut writer) = stream.into_split();
    // 200 requests in one write: one read for the server on loopback.
    let pipeline = b"GET /fruit/kiwi.gif HTTP/1.1\r\nHost: lab\r\n\r\n".repeat(200);
    writer.write_all(&pipeline).await.unwrap();
    let answers = timeout(Duration::from_secs(5), read_until_closed(reader))
        .await
        .expect("the server closes instead of answering without end");
    let text = String::from_utf8_lossy(&answers);
    let count = text.matches("HTTP/1.1 200 OK\r\n").count();
    assert!(
        (16..200).contains(&count),
        "{count} of the 200 pipelined requests answered"
    );
    let last = text
        .rsplit("HTTP/1.1 200 OK\r\n")
        .next()
        .unwrap_or_default();
    assert!(last.contains("\r\nConnection: close\r\n"), "{last}");
}
