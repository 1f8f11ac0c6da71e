//! The target policy end to end: with rules that open the whole public
//! Internet, every special address, every odd way of writing one, every
//! name that resolves to one and port 25 are still refused with
//! `forbidden`; what the rules name reaches a test server on loopback; UDP
//! replies cannot amplify. Names resolve through a test resolver: no DNS,
//! and nothing but 127.0.0.1 is ever connected to.

mod common;

use common::*;
use std::collections::BTreeMap;
use std::time::Duration;
use wirelab_relay::config::Config;
use wirelab_relay::policy::resolver::StaticResolver;
use wirelab_shared::relay_protocol::ErrorCode;

fn resolver() -> StaticResolver {
    StaticResolver::new()
        .with("lab.test", &["127.0.0.1"])
        .with("private.test", &["10.0.0.5"])
        .with("meta.test", &["169.254.169.254"])
        .with("cgnat.test", &["100.64.1.1"])
        .with("ula.test", &["fd00::1"])
        .with("v6loop.test", &["::1"])
        .with("mapped.test", &["::ffff:192.168.0.1"])
        .with("multicast.test", &["224.0.0.251"])
        .with("zero.test", &["0.0.0.0"])
        // A public address first and a loopback one second, as a rebinding
        // attacker would answer.
        .with("rebind.test", &["93.184.216.34", "127.0.0.1"])
        .with("public.test", &["93.184.216.34"])
}

/// Rules that open everything public (but not port 25), `lab.test` at one
/// loopback TCP port, and one loopback UDP port by address.
fn policy(tcp_port: u16, udp_port: u16) -> impl FnOnce(&mut Config) {
    move |c: &mut Config| {
        c.policy = toml::from_str(&format!(
            r#"
            [[rules]]
            description = "the public Internet"
            hosts = ["*"]
            cidrs = ["0.0.0.0/0", "::/0"]
            ports = ["1-65535"]

            [[rules]]
            description = "the course's test server"
            hosts = ["lab.test"]
            cidrs = ["127.0.0.1/32"]
            ports = [{tcp_port}]
            transports = ["tcp"]

            [[rules]]
            description = "the course's UDP server"
            cidrs = ["127.0.0.1/32"]
            ports = [{udp_port}]
            transports = ["udp"]
            "#
        ))
        .unwrap();
    }
}

#[test]
fn an_invalid_cidr_stops_the_config_naming_the_entry_and_why() {
    for (text, entry, why) in [
        (
            "[[policy.rules]]\nports = [80]\ncidrs = [\"10.0.0.0/33\"]\n",
            "cidrs = [\"10.0.0.0/33\"]",
            "\"10.0.0.0/33\": the prefix length must be 0 to 32",
        ),
        (
            "[[policy.rules]]\nports = [80]\ncidrs = [\"fc00::/7\", \"ten/8\"]\n",
            "\"ten/8\"",
            "\"ten/8\" is not a CIDR such as 10.0.0.0/8 or 2001:db8::/32",
        ),
        (
            "trusted_proxies = [\"10.0.0.2/99\"]\n",
            "trusted_proxies",
            "\"10.0.0.2/99\": the prefix length must be 0 to 32",
        ),
    ] {
        let err = format!("{:#}", Config::from_toml(text).unwrap_err());
        assert!(err.contains(entry), "{text}: {err}");
        assert!(err.contains(why), "{text}: {err}");
    }
    // A bare address is a /32 or /128, as before.
    let c = Config::from_toml("trusted_proxies = [\"10.0.0.2\", \"::1\"]\n").unwrap();
    let shown: Vec<String> = c.trusted_proxies.iter().map(|c| c.to_string()).collect();
    assert_eq!(shown, ["10.0.0.2/32", "::1/128"]);
}

/// A UDP server on 127.0.0.1: "x" gets three replies, "big" one of 5000 bytes.
async fn chatty_udp() -> u16 {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let port = socket.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 2048];
        while let Ok((n, from)) = socket.recv_from(&mut buf).await {
            let replies: Vec<Vec<u8>> = match &buf[..n] {
                b"big" => vec![vec![b'B'; 5000]],
                b"x" => vec![b"ONE".to_vec(), b"TWO".to_vec(), b"THREE".to_vec()],
                other => vec![other.to_ascii_uppercase()],
            };
            for r in replies {
                let _ = socket.send_to(&r, from).await;
            }
        }
    });
    port
}

#[tokio::test]
async fn forbidden_targets_are_refused_in_every_form() {
    let tcp_port = echo_tcp(b"echo:").await;
    let udp_port = chatty_udp().await;
    let relay = start_resolving(policy(tcp_port, udp_port), resolver()).await;
    let tcp_port_s = tcp_port.to_string();
    let udp_port_s = udp_port.to_string();
    // (transport, host, port, reason)
    let cases: Vec<(&str, &str, &str, &str)> = vec![
        // IPv4 ranges.
        ("tcp", "127.0.0.1", "80", "loopback"),
        ("tcp", "127.1.2.3", "80", "loopback"),
        ("tcp", "10.0.0.1", "22", "private"),
        ("tcp", "10.255.255.255", "80", "private"),
        ("tcp", "172.16.0.1", "80", "private"),
        ("tcp", "172.31.255.254", "80", "private"),
        ("tcp", "192.168.1.1", "80", "private"),
        ("tcp", "100.64.0.1", "80", "cgnat"),
        ("tcp", "100.127.255.254", "80", "cgnat"),
        ("tcp", "169.254.169.254", "80", "link_local"),
        ("tcp", "169.254.0.1", "80", "link_local"),
        ("tcp", "224.0.0.1", "80", "multicast"),
        ("udp", "239.255.255.250", "1900", "multicast"),
        ("udp", "255.255.255.255", "67", "broadcast"),
        ("tcp", "240.0.0.1", "80", "reserved"),
        ("tcp", "0.0.0.0", "80", "unspecified"),
        ("tcp", "0.1.2.3", "80", "unspecified"),
        ("tcp", "192.0.2.1", "80", "documentation"),
        ("tcp", "198.18.0.1", "80", "benchmarking"),
        // Odd literal forms.
        ("tcp", "2130706433", "80", "loopback"),
        ("tcp", "0x7f000001", "80", "loopback"),
        ("tcp", "0177.0.0.1", "80", "loopback"),
        ("tcp", "127.1", "80", "loopback"),
        ("tcp", "0x7f.1", "80", "loopback"),
        ("tcp", "017700000001", "80", "loopback"),
        ("tcp", "0xa9fea9fe", "80", "link_local"),
        ("tcp", "3232235777", "80", "private"),
        ("tcp", "0", "80", "unspecified"),
        // IPv6 and the IPv6 forms of IPv4 addresses.
        ("tcp", "::1", "80", "loopback"),
        ("tcp", "[::1]", "80", "loopback"),
        ("tcp", "::", "80", "unspecified"),
        ("tcp", "::ffff:127.0.0.1", "80", "loopback"),
        ("tcp", "::ffff:7f00:1", "80", "loopback"),
        ("tcp", "::ffff:169.254.169.254", "80", "link_local"),
        ("tcp", "64:ff9b::7f00:1", "80", "loopback"),
        ("tcp", "64:ff9b::a9fe:a9fe", "80", "link_local"),
        ("tcp", "2002:7f00:1::", "80", "loopback"),
        ("tcp", "2002:c0a8:101::", "80", "private"),
        ("tcp", "fc00::1", "80", "unique_local"),
        ("tcp", "fd12:3456::1", "80", "unique_local"),
        ("tcp", "fe80::1", "80", "link_local"),
        ("tcp", "fe80::1%eth0", "80", "link_local"),
        ("udp", "ff02::1", "5353", "multicast"),
        ("tcp", "::127.0.0.1", "80", "reserved"),
        ("tcp", "2001:db8::1", "80", "documentation"),
        // Names, resolved once by the relay.
        ("tcp", "localhost", "80", "loopback"),
        ("tcp", "LOCALHOST.", "80", "loopback"),
        ("tcp", "app.localhost", "80", "loopback"),
        ("tcp", "private.test", "80", "private"),
        ("tcp", "meta.test", "80", "link_local"),
        ("tcp", "cgnat.test", "80", "cgnat"),
        ("tcp", "ula.test", "80", "unique_local"),
        ("tcp", "v6loop.test", "80", "loopback"),
        ("tcp", "mapped.test", "80", "private"),
        ("udp", "multicast.test", "5353", "multicast"),
        ("tcp", "rebind.test", "80", "loopback"),
        ("tcp", "zero.test", "80", "unspecified"),
        // Loopback, but not the port or transport the rules name.
        ("tcp", "lab.test", "22", "loopback"),
        ("udp", "lab.test", &tcp_port_s, "loopback"),
        ("tcp", "127.0.0.1", &udp_port_s, "loopback"),
        // Mail relaying.
        ("tcp", "93.184.216.34", "25", "port_25"),
        ("tcp", "public.test", "25", "port_25"),
    ];
    assert!(cases.len() >= 40);
    let mut expected_counts: BTreeMap<&str, u64> = BTreeMap::new();
    for (transport, host, port, reason) in &cases {
        let query = format!(
            "transport={transport}&host={}&port={port}",
            host.replace('%', "%25")
        );
        let mut ws = relay.open(&query).await;
        let (code, message) = expect_error(&mut ws).await;
        assert_eq!(code, ErrorCode::Forbidden, "{query}: {message}");
        assert!(
            message.contains("is not allowed") && message.ends_with('.'),
            "{query}: a sentence saying what is refused: {message}"
        );
        expect_close(&mut ws, 1008).await;
        *expected_counts.entry(reason).or_default() += 1;
        assert_eq!(
            relay.relay.state.metrics.refusals_of("forbidden", reason),
            expected_counts[reason],
            "{query} was refused as {reason}: {message}"
        );
    }
    // The messages explain the odd forms and the names.
    let mut ws = relay.open("transport=tcp&host=2130706433&port=80").await;
    let (_, message) = expect_error(&mut ws).await;
    assert!(
        message.contains("2130706433 is another way of writing 127.0.0.1"),
        "{message}"
    );
    let mut ws = relay.open("host=meta.test&port=80").await;
    let (_, message) = expect_error(&mut ws).await;
    assert!(
        message.contains("meta.test resolves to 169.254.169.254"),
        "{message}"
    );
    // Malformed hosts are bad requests, not forbidden.
    for host in ["1.2.3.4.5", "evil.com%2Fx", "a%20b", "256.0.0.1"] {
        let mut ws = relay.open(&format!("host={host}&port=80")).await;
        assert_eq!(
            expect_error(&mut ws).await.0,
            ErrorCode::BadRequest,
            "{host}"
        );
    }
    // The counts show in /api/metrics (with the one more 2130706433 above).
    let (status, metrics) = relay.get("/api/metrics").await;
    assert_eq!(status, 200);
    assert!(
        metrics.contains(&format!(
            "wirelab_refusals_total{{code=\"forbidden\",reason=\"loopback\"}} {}",
            expected_counts["loopback"] + 1
        )),
        "{metrics}"
    );
}

#[tokio::test]
async fn what_the_rules_name_reaches_the_test_servers() {
    let tcp_port = echo_tcp(b"echo:").await;
    let udp_port = chatty_udp().await;
    let relay = start_resolving(policy(tcp_port, udp_port), resolver()).await;

    let mut ws = relay
        .open(&format!("transport=tcp&host=lab.test&port={tcp_port}"))
        .await;
    let connected = expect_connected(&mut ws).await;
    assert_eq!(connected["peer"], format!("127.0.0.1:{tcp_port}"));
    assert!(
        connected.get("target").is_none(),
        "custom targets have no name"
    );
    send_bytes(&mut ws, b"hello").await;
    assert_eq!(next_bytes(&mut ws).await, b"echo:hello");

    let mut ws = relay
        .open(&format!("transport=udp&host=127.0.0.1&port={udp_port}"))
        .await;
    expect_connected(&mut ws).await;
    send_bytes(&mut ws, b"hi").await;
    assert_eq!(next_bytes(&mut ws).await, b"HI");

    let (_, metrics) = relay.get("/api/metrics").await;
    assert!(
        metrics.contains("wirelab_sessions_total{target=\"custom\",transport=\"tcp\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            "wirelab_bytes_total{target=\"custom\",transport=\"tcp\",direction=\"to_page\"} 10"
        ),
        "{metrics}"
    );
}

#[tokio::test]
async fn named_targets_join_the_catalog_and_are_checked() {
    let tcp_port = echo_tcp(b"named:").await;
    let relay = start_resolving(
        |c| {
            c.policy = toml::from_str(&format!(
                r#"
                [[targets]]
                name = "course-server"
                host = "127.0.0.1"
                port = {tcp_port}
                protocol = "line"
                description = "the course's server, named by its address"

                [[targets]]
                name = "sneaky"
                host = "private.test"
                port = 80
                "#
            ))
            .unwrap();
        },
        resolver(),
    )
    .await;
    let (_, body) = relay.get("/api/targets").await;
    assert!(
        body.contains("course-server") && body.contains("sneaky"),
        "{body}"
    );
    // Named by address: reached as written.
    let mut ws = relay.open("target=course-server").await;
    let connected = expect_connected(&mut ws).await;
    assert_eq!(connected["target"], "course-server");
    send_bytes(&mut ws, b"x").await;
    assert_eq!(next_bytes(&mut ws).await, b"named:x");
    // Named by a name that resolves to a private address: refused.
    let mut ws = relay.open("target=sneaky").await;
    let (code, message) = expect_error(&mut ws).await;
    assert_eq!(code, ErrorCode::Forbidden);
    assert!(
        message.contains("private.test resolves to 10.0.0.5"),
        "{message}"
    );
    // Custom targets stay refused: there are no rules.
    let mut ws = relay.open(&format!("host=127.0.0.1&port={tcp_port}")).await;
    assert_eq!(expect_error(&mut ws).await.0, ErrorCode::Forbidden);
}

/// Polls the metrics until `line` shows, so tests wait for the relay
/// without sleeping a fixed time.
async fn wait_for_metric(relay: &TestRelay, line: &str) {
    for _ in 0..100 {
        let (_, metrics) = relay.get("/api/metrics").await;
        if metrics.contains(line) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (_, metrics) = relay.get("/api/metrics").await;
    panic!("never saw {line} in\n{metrics}");
}

#[tokio::test]
async fn udp_replies_cannot_amplify() {
    let udp_port = chatty_udp().await;
    let relay = start_resolving(policy(1, udp_port), resolver()).await;
    let mut ws = relay
        .open(&format!("transport=udp&host=127.0.0.1&port={udp_port}"))
        .await;
    expect_connected(&mut ws).await;
    // One datagram, three replies: one gets through.
    send_bytes(&mut ws, b"x").await;
    assert_eq!(next_bytes(&mut ws).await, b"ONE");
    wait_for_metric(
        &relay,
        "wirelab_udp_replies_dropped_total{reason=\"unsolicited\"} 2",
    )
    .await;
    // A reply over udp_max_reply_bytes (4096) is dropped.
    send_bytes(&mut ws, b"big").await;
    wait_for_metric(
        &relay,
        "wirelab_udp_replies_dropped_total{reason=\"too_large\"} 1",
    )
    .await;
    // The flow goes on, and nothing dropped ever reached the page.
    send_bytes(&mut ws, b"ok").await;
    assert_eq!(next_bytes(&mut ws).await, b"OK");
    send_bytes(&mut ws, b"x").await;
    assert_eq!(next_bytes(&mut ws).await, b"ONE");
    wait_for_metric(
        &relay,
        "wirelab_udp_replies_dropped_total{reason=\"unsolicited\"} 4",
    )
    .await;
    send_bytes(&mut ws, b"last").await;
    assert_eq!(next_bytes(&mut ws).await, b"LAST");
}
