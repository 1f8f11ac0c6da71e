//! The DNS servers under a client that leans on them: pipelining without
//! reading, flooding UDP, an oversized TCP length prefix, a reader that
//! never reads, more connections than the cap. Each test checks that the
//! abuser meets a bound and that everyone else is still answered.

mod common;

use common::*;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use wirelab_shared::dns::frame::{TcpFramer, tcp_wrap};
use wirelab_shared::dns::{Message, Name, Question, Rcode, RecordType};

fn query(name: &str, qtype: RecordType, id: u16, recursion: bool) -> Vec<u8> {
    let question = Question::new(Name::parse(name).unwrap(), qtype);
    Message::query(id, question, recursion).to_bytes()
}

fn address(relay: &TestRelay, catalog: &str) -> SocketAddr {
    let target = relay.relay.target(catalog).expect("in the catalog");
    SocketAddr::new(target.host.parse().unwrap(), target.port)
}

/// One UDP query from a fresh socket, asked again every 200 ms as a stub
/// resolver would, until answered or `within` has passed.
async fn ask_udp(server: SocketAddr, name: &str, within: Duration) -> Option<Message> {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let id = 0x5151;
    let bytes = query(name, RecordType::A, id, true);
    let mut buf = vec![0u8; 4096];
    let give_up = tokio::time::Instant::now() + within;
    while tokio::time::Instant::now() < give_up {
        socket.send_to(&bytes, server).await.unwrap();
        let wait = tokio::time::timeout(Duration::from_millis(200), socket.recv_from(&mut buf));
        if let Ok(Ok((n, _))) = wait.await
            && let Ok(reply) = Message::parse(&buf[..n])
            && reply.header.id == id
        {
            return Some(reply);
        }
    }
    None
}

/// One query over a new TCP connection, its reply read within 5 s.
async fn ask_tcp(server: SocketAddr, name: &str) -> Message {
    try_ask_tcp(server, name)
        .await
        .expect("a reply over TCP within 5 s")
}

/// [`ask_tcp`], `None` if the connection ends or 5 s pass without a reply.
async fn try_ask_tcp(server: SocketAddr, name: &str) -> Option<Message> {
    let exchange = async {
        let mut stream = TcpStream::connect(server).await.ok()?;
        let bytes = tcp_wrap(&query(name, RecordType::A, 7, true));
        stream.write_all(&bytes).await.ok()?;
        let mut framer = TcpFramer::new();
        let mut buf = vec![0u8; 4096];
        loop {
            if let Some(message) = framer.next_message() {
                return Message::parse(&message).ok();
            }
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => framer.push(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), exchange)
        .await
        .ok()
        .flatten()
}

/// Reads until the server ends the connection (end of stream or a reset);
/// fails the test if it is still open after 5 s.
async fn expect_closed(stream: &mut TcpStream) {
    let mut buf = vec![0u8; 65536];
    let closed = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), closed)
        .await
        .expect("the server closes the connection");
}

fn answer_of(reply: &Message) -> String {
    reply
        .answers
        .last()
        .map(|r| r.data.to_text())
        .unwrap_or_default()
}

#[tokio::test]
async fn pipelining_600_queries_without_reading_stops_no_one() {
    let relay = start(|_| {}).await;
    let resolver = address(&relay, "dns");
    let mut flood = TcpStream::connect(resolver).await.unwrap();
    let mut burst = Vec::new();
    for id in 0..600u16 {
        // Half from the resolver's own zone, half needing the hierarchy.
        let name = if id % 2 == 0 {
            "cis.poly.edu"
        } else {
            "gaia.cs.umass.edu"
        };
        burst.extend(tcp_wrap(&query(name, RecordType::A, id, true)));
    }
    flood.write_all(&burst).await.unwrap();

    // Another client is answered while the flood's replies sit unread.
    let reply = ask_udp(resolver, "www.ibm.com", Duration::from_secs(5))
        .await
        .expect("a UDP query answered during the TCP flood");
    assert_eq!(reply.rcode(), Rcode::NOERROR);
    assert_eq!(reply.answers.len(), 4, "{reply:?}");
    let reply = ask_tcp(resolver, "cis.poly.edu").await;
    assert_eq!(answer_of(&reply), "128.238.24.30");

    // And once the flooding connection is gone, still.
    drop(flood);
    let reply = ask_udp(resolver, "gaia.cs.umass.edu", Duration::from_secs(5))
        .await
        .expect("a UDP query answered after the flood");
    assert_eq!(answer_of(&reply), "128.119.245.12");
    let reply = ask_tcp(resolver, "www.someschool.edu").await;
    assert_eq!(answer_of(&reply), "192.0.2.80");
    relay.relay.stop(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_udp_flood_keeps_at_most_the_cap_of_replies_waiting() {
    const CAP: usize = 64;
    let relay = start(|c| {
        c.servers.dns.simulate_distance = true;
        c.servers.dns.udp_max_pending = CAP;
    })
    .await;
    let root = address(&relay, "dns-root");
    let datagram = query("gaia.cs.umass.edu", RecordType::A, 1, false);
    let mut flooders = Vec::new();
    for _ in 0..4 {
        let datagram = datagram.clone();
        flooders.push(tokio::spawn(async move {
            // Never reads its replies.
            let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            for _ in 0..5_000 {
                let _ = socket.send_to(&datagram, root).await;
            }
        }));
    }
    // A legitimate client, asking again as stub resolvers do.
    let reply = ask_udp(root, "gaia.cs.umass.edu", Duration::from_secs(10))
        .await
        .expect("the root still answers under the flood");
    assert_eq!(reply.authority[0].name, Name::parse("edu").unwrap());
    for f in flooders {
        f.await.unwrap();
    }

    let stats = relay
        .relay
        .state
        .dns
        .as_ref()
        .unwrap()
        .udp_stats("dns-root")
        .unwrap();
    assert!(stats.peak() <= CAP, "{} replies waited", stats.peak());
    assert!(stats.dropped() > 0, "the flood never reached the cap");
    // The held replies leave, and the queue empties.
    let drained = async {
        while stats.pending() > 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(5), drained)
        .await
        .expect("the waiting replies are sent");
    relay.relay.stop(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_length_prefix_out_of_bounds_is_closed_at_once() {
    let relay = start(|c| c.servers.dns.tcp_max_message_bytes = 512).await;
    for server in ["dns", "dns-root", "dns-cs-umass"] {
        // 513 bytes announced, over the limit: the few that follow are
        // never waited for. Then 5 bytes, too short for a DNS header.
        let oversized = [0x02, 0x01, 0xAB, 0xCD];
        let mut undersized = tcp_wrap(&query("gaia.cs.umass.edu", RecordType::A, 9, true));
        undersized.extend_from_slice(&[0x00, 0x05, 1, 2, 3, 4, 5]);
        for bytes in [&oversized[..], &undersized] {
            let mut stream = TcpStream::connect(address(&relay, server)).await.unwrap();
            stream.write_all(bytes).await.unwrap();
            expect_closed(&mut stream).await;
        }
        // The server itself carries on.
        let reply = ask_tcp(address(&relay, server), "gaia.cs.umass.edu").await;
        assert_ne!(reply.rcode(), Rcode::SERVFAIL, "{server}");
    }
    relay.relay.stop(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_is_disconnected() {
    let relay = start(|c| {
        c.servers.dns.tcp_write_timeout_secs = 0.5;
        c.servers.dns.tcp_idle_timeout_secs = 600.0;
    })
    .await;
    for (server, name) in [("dns", "cis.poly.edu"), ("dns-ibm", "www.ibm.com")] {
        let addr = address(&relay, server);
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        // A small window, so the server's writes stall soon.
        socket.set_recv_buffer_size(4096).unwrap();
        let mut stream = socket.connect(addr).await.unwrap();
        let batch: Vec<u8> = (0..100u16)
            .flat_map(|id| tcp_wrap(&query(name, RecordType::A, id, true)))
            .collect();
        let flood = async {
            // Writes until the server gives up on us.
            loop {
                if stream.write_all(&batch).await.is_err() {
                    return;
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(60), flood)
            .await
            .unwrap_or_else(|_| panic!("{server} kept a client that never reads"));
        // Others are still served.
        let reply = ask_tcp(addr, name).await;
        assert_eq!(reply.rcode(), Rcode::NOERROR, "{server}");
    }
    relay.relay.stop(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn at_the_connection_cap_a_new_connection_is_closed_at_once() {
    let relay = start(|c| c.limits.server_max_connections = 3).await;
    for server in ["dns", "dns-edu"] {
        let addr = address(&relay, server);
        let mut held = Vec::new();
        for _ in 0..3 {
            held.push(TcpStream::connect(addr).await.unwrap());
        }
        // Each held connection is served: so all three took their slots.
        for stream in &mut held {
            stream
                .write_all(&tcp_wrap(&query("edu", RecordType::NS, 3, true)))
                .await
                .unwrap();
            let mut prefix = [0u8; 2];
            tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut prefix))
                .await
                .expect("a reply within 5 s")
                .unwrap();
        }
        let mut refused = TcpStream::connect(addr).await.unwrap();
        expect_closed(&mut refused).await;
        // A slot freed is a slot for the next client.
        drop(held.pop());
        let answered = async {
            loop {
                if let Some(reply) = try_ask_tcp(addr, "edu").await {
                    return reply;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        };
        let reply = tokio::time::timeout(Duration::from_secs(5), answered)
            .await
            .expect("answered once a slot is free");
        assert_ne!(reply.rcode(), Rcode::SERVFAIL, "{server}");
    }
    relay.relay.stop(Duration::from_secs(5)).await;
}
