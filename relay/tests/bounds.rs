//! The reference servers' driver under a class's load: a server at its
//! connection cap answers the next client at once in its protocol's words
//! and closes; a client that never reads is dropped after the write
//! timeout while others are served; the relay's `wirelab` process ends
//! within 5 s of SIGTERM with such clients still connected.

mod common;
mod process;

use process::Wirelab;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

fn addr(relay: &common::TestRelay, name: &str) -> SocketAddr {
    let t = relay
        .relay
        .target(name)
        .expect("the target is in the catalog");
    format!("{}:{}", t.host, t.port).parse().unwrap()
}

/// Everything the server says until it closes (or `wait` passes).
fn read_until_closed(s: &mut TcpStream, wait: Duration) -> (String, bool) {
    s.set_read_timeout(Some(wait)).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let closed = loop {
        match s.read(&mut buf) {
            Ok(0) => break true,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break true,
            Err(_) => break false,
        }
    };
    (String::from_utf8_lossy(&got).into_owned(), closed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_at_its_cap_refuses_the_next_client_at_once_in_its_own_words() {
    let relay = common::start(|c| c.limits.server_max_connections = 2).await;
    let cases = [
        ("http", "HTTP/1.1 503 Service Unavailable"),
        ("smtp", "421 hamburger.edu "),
        ("pop3", "-ERR [SYS/TEMP] "),
        ("ftp", "421 "),
    ];
    for (name, refusal) in cases {
        let server = addr(&relay, name);
        let outcome = tokio::task::spawn_blocking(move || {
            // Two clients take both slots and hold them.
            let held: Vec<TcpStream> = (0..2)
                .map(|_| TcpStream::connect(server).unwrap())
                .collect();
            std::thread::sleep(Duration::from_millis(200));
            let mut third = TcpStream::connect(server).unwrap();
            if name == "http" {
                third
                    .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                    .unwrap();
            }
            let refused = read_until_closed(&mut third, Duration::from_secs(5));
            // A slot freed is a slot taken again.
            drop(held);
            std::thread::sleep(Duration::from_millis(300));
            let mut fourth = TcpStream::connect(server).unwrap();
            if name == "http" {
                fourth
                    .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    .unwrap();
            }
            let mut first = [0u8; 12];
            fourth
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            fourth.read_exact(&mut first).unwrap();
            (refused, String::from_utf8_lossy(&first).into_owned())
        })
        .await
        .unwrap();
        let ((said, closed), served) = outcome;
        assert!(
            said.starts_with(refusal),
            "{name} over its cap said {said:?}"
        );
        assert!(closed, "{name} closed the refused connection");
        let welcome = match name {
            "http" => "HTTP/1.1 200",
            "pop3" => "+OK",
            _ => "220",
        };
        assert!(
            served.starts_with(welcome),
            "{name} serves a client once a slot is free: {served:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_is_dropped_and_others_are_served() {
    let relay = common::start(|c| c.limits.write_timeout_secs = 1.0).await;
    let server = addr(&relay, "http");
    tokio::task::spawn_blocking(move || {
        let mut greedy = TcpStream::connect(server).unwrap();
        greedy
            .set_write_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        // Ask for the same picture over and over and read none of it.
        let request = b"GET /fruit/kiwi.gif HTTP/1.1\r\nHost: x\r\n\r\n".repeat(64);
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(2) {
            if greedy.write_all(&request).is_err() {
                break;
            }
        }
        // Meanwhile an honest client is answered.
        let mut honest = TcpStream::connect(server).unwrap();
        honest
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let (answer, closed) = read_until_closed(&mut honest, Duration::from_secs(5));
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer:?}");
        assert!(closed);
        // The greedy client was cut off: what it can still read ends.
        let drained = Instant::now();
        let (_, ended) = read_until_closed(&mut greedy, Duration::from_secs(10));
        assert!(
            ended,
            "the never-reading client is still connected {:?} later",
            drained.elapsed()
        );
    })
    .await
    .unwrap();
}

/// The `wirelab` binary on free ports; stops within 5 s of SIGTERM even
/// with a client that never reads and one that trickles a request.
#[test]
fn the_relay_stops_within_five_seconds_with_attackers_connected() {
    let dir = tempfile::tempdir().unwrap();
    let mut relay = Wirelab::spawn(&process::config(dir.path(), &[]));
    let (http, smtp) = (relay.addr("http"), relay.addr("smtp"));
    let child = &mut relay.child;
    let mut greedy = TcpStream::connect(http).unwrap();
    greedy
        .set_write_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let request = b"GET /fruit/kiwi.gif HTTP/1.1\r\nHost: x\r\n\r\n".repeat(64);
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(1) && greedy.write_all(&request).is_ok() {}
    let mut slow = TcpStream::connect(smtp).unwrap();
    slow.write_all(b"MAIL FROM:<slo").unwrap();

    let sent = Instant::now();
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let mut exited = None;
    while sent.elapsed() < Duration::from_secs(8) {
        if let Some(code) = child.try_wait().unwrap() {
            exited = Some((code, sent.elapsed()));
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let (code, took) = exited.expect("the relay exits after SIGTERM");
    assert!(code.success(), "{code}");
    assert!(
        took < Duration::from_secs(5),
        "the relay took {took:?} to stop with attackers connected"
    );
    drop((greedy, slow));
}

/// A page that floods a session and never reads what comes back is ended
/// by the write timeout, with the relay's queues bounded meanwhile, and
/// another page's session goes on as usual.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_that_never_reads_is_ended_and_others_go_on() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let relay = common::start(|c| {
        c.limits.write_timeout_secs = 1.0;
        c.limits.max_bytes_per_minute = 1 << 30;
        c.limits.max_bytes_per_connection = 1 << 30;
    })
    .await;
    let mut greedy = relay.open("target=upper-tcp").await;
    common::expect_connected(&mut greedy).await;
    // Lines the uppercase server echoes; none of the echoes is read.
    let line = Message::binary(b"echo me back please\n".repeat(3000));
    let flooding = async {
        for _ in 0..2_000 {
            if greedy.send(line.clone()).await.is_err() {
                break;
            }
        }
    };
    // The relay stops reading the flood once its queue is full, so the
    // sends themselves stall: give up on them after a while.
    let _ = tokio::time::timeout(Duration::from_secs(5), flooding).await;

    let mut honest = relay.open("target=upper-tcp").await;
    common::expect_connected(&mut honest).await;
    common::send_bytes(&mut honest, b"still there?\n").await;
    assert_eq!(common::next_bytes(&mut honest).await, b"STILL THERE?\n");

    // What the greedy page can still read ends with the relay's closing.
    let ended = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(message) = greedy.next().await {
            match message {
                Ok(Message::Close(_)) | Err(_) => return true,
                Ok(Message::Text(text)) if text.contains("\"closed\"") => return true,
                Ok(_) => {}
            }
        }
        true
    })
    .await;
    assert_eq!(
        ended,
        Ok(true),
        "the never-reading page's session was ended"
    );
}
