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
