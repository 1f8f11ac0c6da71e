//! The socket chapter's experiments through the relay: the uppercase
//! servers as the course's Python servers answer (all of Unicode, the
//! client's address when asked).

mod common;

use common::*;
use wirelab_shared::relay_protocol::RelayMessage;

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
