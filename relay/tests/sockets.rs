//! The socket chapter's experiments through the relay: the uppercase
//! servers as the course's Python servers answer (all of Unicode, the
//! client's address when asked).

mod common;

use common::*;
use futures_util::StreamExt;
use wirelab_shared::relay_protocol::{ErrorCode, RelayMessage};

/// The `local` address of the relay's socket, from `connected`.
async fn local_address(ws: &mut Ws) -> String {
    match next_relay_message(ws).await {
        RelayMessage::Connected { local, .. } => local,
        other => panic!("expected connected, got {other:?}"),
    }
}

#[tokio::test]
async fn the_uppercase_servers_upper_case_all_of_unicode() {
    let relay = start(|_| {}).await;
    let mut tcp = relay.open("target=upper-tcp").await;
    local_address(&mut tcp).await;
    send_bytes(&mut tcp, "Ça marche? ünïcödé straße\r\n".as_bytes()).await;
    assert_eq!(
        String::from_utf8(next_bytes(&mut tcp).await).unwrap(),
        "ÇA MARCHE? ÜNÏCÖDÉ STRASSE\r\n"
    );
    // Latin-1 bytes are not UTF-8: they come back as they went.
    send_bytes(&mut tcp, b"caf\xe9\n").await;
    assert_eq!(next_bytes(&mut tcp).await, b"CAF\xe9\n");

    let mut udp = relay.open("target=upper-udp").await;
    local_address(&mut udp).await;
    send_bytes(&mut udp, "ünïcödé".as_bytes()).await;
    assert_eq!(next_bytes(&mut udp).await, "ÜNÏCÖDÉ".as_bytes());
}

#[tokio::test]
async fn the_uppercase_servers_can_say_whom_they_answer() {
    let relay = start(|c| {
        c.servers.upper.tcp_show_peer = true;
        c.servers.upper.udp_show_peer = true;
    })
    .await;
    for target in ["upper-tcp", "upper-udp"] {
        let mut ws = relay.open(&format!("target={target}")).await;
        // The server's peer is the relay's socket, which `connected` names.
        let local = local_address(&mut ws).await;
        send_bytes(&mut ws, b"hello\n").await;
        assert_eq!(
            String::from_utf8(next_bytes(&mut ws).await).unwrap(),
            format!("[{local}] HELLO\n"),
            "{target}"
        );
    }
}

#[tokio::test]
async fn by_default_the_uppercase_servers_do_not_show_the_peer() {
    let relay = start(|_| {}).await;
    let mut ws = relay.open("target=upper-tcp").await;
    local_address(&mut ws).await;
    send_bytes(&mut ws, b"hello\n").await;
    assert_eq!(next_bytes(&mut ws).await, b"HELLO\n");
}

/// The `closed-*` target's address, to try it without the relay too.
fn closed_port(relay: &TestRelay, name: &str) -> std::net::SocketAddr {
    let target = relay.relay.target(name).unwrap();
    format!("{}:{}", target.host, target.port).parse().unwrap()
}

#[tokio::test]
async fn a_tcp_client_before_its_server_is_refused_at_once() {
    let relay = start(|_| {}).await;
    let addr = closed_port(&relay, "closed-tcp");
    // As the student's own TCPClient sees it.
    let direct = std::net::TcpStream::connect(addr).unwrap_err();
    assert_eq!(direct.kind(), std::io::ErrorKind::ConnectionRefused);
    // Through the relay: an error, then the WebSocket closes.
    let mut ws = relay.open("target=closed-tcp").await;
    let (code, message) = expect_error(&mut ws).await;
    assert_eq!(code, ErrorCode::ConnectFailed, "{message}");
    assert!(message.contains("refused"), "{message}");
}

#[tokio::test]
async fn a_udp_client_before_its_server_hears_nothing() {
    let relay = start(|_| {}).await;
    let addr = closed_port(&relay, "closed-udp");
    // A connected UDP socket learns of the ICMP "port unreachable" on its
    // next receive; nothing else answers.
    let direct = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    direct.connect(addr).unwrap();
    direct
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    direct.send(b"hello").unwrap();
    let mut buf = [0u8; 64];
    let error = direct.recv(&mut buf).unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::ConnectionRefused);
    // Through the relay the flow opens (UDP has nothing to refuse) and
    // stays silent: no reply, no error, and later datagrams still go.
    let mut ws = relay.open("target=closed-udp").await;
    local_address(&mut ws).await;
    for sentence in [&b"hello"[..], b"anyone?"] {
        send_bytes(&mut ws, sentence).await;
        let heard = tokio::time::timeout(std::time::Duration::from_secs(1), ws.next()).await;
        assert!(heard.is_err(), "expected silence, got {heard:?}");
    }
}

/// A UDP server on 127.0.0.1 that answers each datagram with `tag` and the
/// datagram, as a student's own UDPServer would. Returns its port.
async fn echo_udp(tag: &'static [u8]) -> u16 {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let port = socket.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut buf = [0u8; 2048];
        while let Ok((n, from)) = socket.recv_from(&mut buf).await {
            let reply = [tag, &buf[..n]].concat();
            let _ = socket.send_to(&reply, from).await;
        }
    });
    port
}

#[tokio::test]
async fn the_users_own_programs_are_out_of_reach_by_default() {
    let relay = start(|_| {}).await;
    let port = echo_tcp(b"mine: ").await;
    let mut ws = relay
        .open(&format!("transport=tcp&host=localhost&port={port}"))
        .await;
    let (code, message) = expect_error(&mut ws).await;
    assert_eq!(code, ErrorCode::Forbidden, "{message}");
    let (_, health) = relay.get("/api/health").await;
    assert!(health.contains("\"local_programs\":false"), "{health}");
}

#[tokio::test]
async fn local_programs_reach_the_users_own_servers_on_loopback() {
    let relay = start(|c| c.local_programs = true).await;
    let (_, health) = relay.get("/api/health").await;
    assert!(health.contains("\"local_programs\":true"), "{health}");
    let tcp_port = echo_tcp(b"TCPServer: ").await;
    for host in ["localhost", "127.0.0.1"] {
        let mut ws = relay
            .open(&format!("transport=tcp&host={host}&port={tcp_port}"))
            .await;
        local_address(&mut ws).await;
        send_bytes(&mut ws, b"hello\n").await;
        assert_eq!(next_bytes(&mut ws).await, b"TCPServer: hello\n", "{host}");
    }
    let udp_port = echo_udp(b"UDPServer: ").await;
    let mut ws = relay
        .open(&format!("transport=udp&host=127.0.0.1&port={udp_port}"))
        .await;
    local_address(&mut ws).await;
    send_bytes(&mut ws, b"hi").await;
    assert_eq!(next_bytes(&mut ws).await, b"UDPServer: hi");
    // Other machines stay behind the policy.
    let mut ws = relay.open("transport=tcp&host=10.0.0.1&port=80").await;
    let (code, message) = expect_error(&mut ws).await;
    assert_eq!(code, ErrorCode::Forbidden, "{message}");
}

#[tokio::test]
async fn local_programs_never_reach_the_relays_own_ports() {
    let relay = start(|c| c.local_programs = true).await;
    let mut own: Vec<(String, u16)> = relay
        .relay
        .targets()
        .iter()
        .map(|t| (t.transport.to_string(), t.port))
        .collect();
    own.push(("tcp".into(), relay.relay.addr.port()));
    let ftp = relay.relay.target("ftp").unwrap().data_ports.unwrap();
    own.push(("tcp".into(), ftp.first));
    for (transport, port) in own {
        for host in ["localhost", "127.0.0.1", "127.0.0.10", "::1"] {
            let mut ws = relay
                .open(&format!("transport={transport}&host={host}&port={port}"))
                .await;
            let (code, message) = expect_error(&mut ws).await;
            assert_eq!(code, ErrorCode::Forbidden, "{host}:{port}: {message}");
            assert!(message.contains("relay's own"), "{message}");
        }
    }
}
