//! Who may drive the relay: `Origin` on `/ws`, `Host` on a loopback relay
//! (DNS rebinding), and `X-Forwarded-For` believed only from a configured
//! proxy.

mod common;

use common::*;
use wirelab_shared::relay_protocol::ErrorCode;

#[tokio::test]
async fn only_the_relays_own_page_and_configured_origins_open_ws() {
    let relay = start(|c| c.allowed_origins = vec!["https://course.example.edu".into()]).await;
    let own = format!("http://{}", relay.relay.addr);
    // The page the relay serves, a configured origin, and a program (no Origin).
    for headers in [
        vec![("origin", own.as_str())],
        vec![("origin", "https://course.example.edu")],
        vec![],
    ] {
        let mut ws = relay.open_with("target=upper-tcp", &headers).await;
        expect_connected(&mut ws).await;
        send_bytes(&mut ws, b"hi\n").await;
        assert_eq!(next_bytes(&mut ws).await, b"HI\n");
    }
    // A page elsewhere, the same host on another port, an opaque origin.
    let other_port = format!(
        "http://127.0.0.1:{}",
        relay.relay.addr.port().wrapping_add(1).max(1)
    );
    for origin in [
        "http://evil.example",
        "https://course.example.edu:8443",
        other_port.as_str(),
        "null",
    ] {
        let mut ws = relay
            .open_with("target=upper-tcp", &[("origin", origin)])
            .await;
        let (code, message) = expect_error(&mut ws).await;
        assert_eq!(code, ErrorCode::Forbidden, "{origin}");
        assert!(message.contains("allowed_origins"), "{message}");
        expect_close(&mut ws, 1008).await;
    }
    assert_eq!(
        relay.relay.state.metrics.refusals_of("forbidden", "origin"),
        4
    );
}

#[tokio::test]
async fn a_loopback_relay_ignores_names_pointed_at_it() {
    let relay = start(|c| c.allowed_hosts = vec!["wirelab.lan".into()]).await;
    let port = relay.relay.addr.port();
    // A rebinding site: its page's origin matches its own Host header.
    let host = format!("rebind.evil.example:{port}");
    let origin = format!("http://{host}");
    let mut ws = relay
        .open_with("target=upper-tcp", &[("host", &host), ("origin", &origin)])
        .await;
    let (code, message) = expect_error(&mut ws).await;
    assert_eq!(code, ErrorCode::Forbidden);
    assert!(message.contains("allowed_hosts"), "{message}");
    // The APIs too.
    let (status, _, body) = relay
        .request("GET", "/api/targets", &[&format!("Host: {host}")], "")
        .await;
    assert_eq!(status, 403, "{body}");
    // localhost, addresses and the configured name are fine.
    for host in [format!("localhost:{port}"), format!("wirelab.lan:{port}")] {
        let (status, _, _) = relay
            .request("GET", "/api/targets", &[&format!("Host: {host}")], "")
            .await;
        assert_eq!(status, 200, "{host}");
    }
    let mut ws = relay
        .open_with(
            "target=upper-tcp",
            &[
                ("host", &format!("wirelab.lan:{port}")),
                ("origin", &format!("http://wirelab.lan:{port}")),
            ],
        )
        .await;
    expect_connected(&mut ws).await;
}

#[tokio::test]
async fn forwarded_for_is_ignored_unless_the_proxy_is_trusted() {
    // One connection per client address makes the address the relay
    // believes visible.
    let untrusted = start(|c| c.limits.max_connections_per_client = 1).await;
    let mut first = untrusted
        .open_with("target=upper-tcp", &[("x-forwarded-for", "203.0.113.1")])
        .await;
    expect_connected(&mut first).await;
    // A client claiming another address is still 127.0.0.1.
    let mut spoofed = untrusted
        .open_with("target=upper-tcp", &[("x-forwarded-for", "203.0.113.2")])
        .await;
    let (code, message) = expect_error(&mut spoofed).await;
    assert_eq!(code, ErrorCode::Limit);
    assert!(message.contains("127.0.0.1"), "{message}");

    let trusted = start(|c| {
        c.limits.max_connections_per_client = 1;
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let mut a = trusted
        .open_with("target=upper-tcp", &[("x-forwarded-for", "203.0.113.1")])
        .await;
    expect_connected(&mut a).await;
    // Behind the trusted proxy, another client has its own slot...
    let mut b = trusted
        .open_with(
            "target=upper-tcp",
            &[("x-forwarded-for", "6.6.6.6, 203.0.113.2")],
        )
        .await;
    expect_connected(&mut b).await;
    // ...and the same client does not, whatever it prepends.
    let mut c = trusted
        .open_with(
            "target=upper-tcp",
            &[("x-forwarded-for", "198.51.100.9, 203.0.113.1")],
        )
        .await;
    let (code, message) = expect_error(&mut c).await;
    assert_eq!(code, ErrorCode::Limit);
    assert!(message.contains("203.0.113.1"), "{message}");
}
