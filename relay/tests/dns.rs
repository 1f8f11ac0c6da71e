//! The DNS hierarchy on loopback, checked with a real client (dig) against
//! every server, the resolver, and through `/ws` as the page uses it.

mod common;

use common::*;
use std::process::Command;
use wirelab_shared::dns::hierarchy::SERVERS;
use wirelab_shared::dns::query::QuerySpec;
use wirelab_shared::dns::{Message, Name, Rcode, RecordType};
use wirelab_shared::relay_protocol::{RelayMessage, Transport};

/// Runs dig against `server` on `port` and returns its output.
fn dig(server: &str, port: u16, args: &[&str]) -> String {
    run_dig(None, server, port, args)
}

/// dig's +short answer lines.
fn short(server: &str, port: u16, args: &[&str]) -> Vec<String> {
    let mut all = vec!["+short"];
    all.extend_from_slice(args);
    dig(server, port, &all)
        .lines()
        .map(str::to_string)
        .filter(|l| !l.is_empty())
        .collect()
}

fn dns_port(relay: &TestRelay) -> u16 {
    relay
        .relay
        .target("dns-root")
        .expect("dns-root in the catalog")
        .port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_server_answers_dig_over_udp_and_tcp() {
    let Some(_) = wirelab_testkit::require_tool("dig", "dnsutils") else {
        return;
    };
    let relay = start(|_| {}).await;
    let port = dns_port(&relay);
    // Every server is in the catalog twice, on its own address, one port.
    for s in SERVERS {
        let udp = relay.relay.target(s.catalog).unwrap();
        let tcp = relay.relay.target(&format!("{}-tcp", s.catalog)).unwrap();
        assert_eq!(udp.transport, Transport::Udp);
        assert_eq!(tcp.transport, Transport::Tcp);
        assert_eq!(udp.host, s.address.to_string());
        assert_eq!((udp.port, tcp.port), (port, port));
        assert_eq!(udp.protocol, "dns");
    }
    let checks: Vec<(&str, Vec<&str>, Vec<&str>)> = vec![
        (
            "127.0.0.10",
            vec![".", "NS", "+norecurse"],
            vec!["a.root-servers.net."],
        ),
        (
            "127.0.0.10",
            vec!["a.root-servers.net", "A", "+norecurse"],
            vec!["127.0.0.10"],
        ),
        (
            "127.0.0.11",
            vec!["edu", "SOA", "+norecurse"],
            vec!["a.edu-servers.net. hostmaster.educause.edu. 2024090100 1800 900 604800 86400"],
        ),
        (
            "127.0.0.21",
            vec!["gaia.cs.umass.edu", "A", "+norecurse"],
            vec!["128.119.245.12"],
        ),
        (
            "127.0.0.21",
            vec!["gaia.cs.umass.edu", "AAAA", "+tcp"],
            vec!["2001:db8:128:119::245:12"],
        ),
        (
            "127.0.0.21",
            vec!["www-net.cs.umass.edu", "A"],
            vec!["gaia.cs.umass.edu.", "128.119.245.12"],
        ),
        (
            "127.0.0.20",
            vec!["umass.edu", "MX"],
            vec!["10 mail.umass.edu."],
        ),
        ("127.0.0.22", vec!["www.someschool.edu"], vec!["192.0.2.80"]),
        (
            "127.0.0.23",
            vec!["hamburger.edu", "MX", "+tcp"],
            vec!["10 mail.hamburger.edu.", "20 backup.hamburger.edu."],
        ),
        (
            "127.0.0.30",
            vec!["crepes.fr", "MX"],
            vec!["10 mail.crepes.fr."],
        ),
        (
            "127.0.0.30",
            vec!["crepes.fr", "CAA"],
            vec!["0 issue \"letsencrypt.org\""],
        ),
        (
            "127.212.212.1",
            vec!["www.networkutopia.com"],
            vec!["212.212.212.2"],
        ),
        (
            "127.0.0.12",
            vec!["dns1.networkutopia.com", "A", "+norecurse"],
            vec![],
        ),
        (
            "127.0.0.1",
            vec!["cis.poly.edu", "+norecurse"],
            vec!["128.238.24.30"],
        ),
    ];
    for (server, args, expected) in checks {
        assert_eq!(
            short(server, port, &args),
            expected,
            "dig @{server} {args:?}"
        );
    }
    // The com TLD holds networkutopia.com's NS and glue, as the course's
    // registrar example says: a referral, not an answer.
    let referral = dig("127.0.0.12", port, &["www.networkutopia.com", "+norecurse"]);
    assert!(referral.contains("flags: qr;"), "{referral}");
    assert!(
        referral.contains("networkutopia.com.\t172800\tIN\tNS\tdns1.networkutopia.com."),
        "{referral}"
    );
    assert!(
        referral.contains("dns1.networkutopia.com.\t172800\tIN\tA\t127.212.212.1"),
        "{referral}"
    );
    let txt = short("127.212.212.1", port, &["dns1.networkutopia.com", "TXT"]);
    assert!(txt[0].contains("212.212.212.1"), "{txt:?}");
    // The CNAME of the course, and the three addresses rotating per reply.
    let first = short("127.0.0.41", port, &["www.ibm.com"]);
    let second = short("127.0.0.41", port, &["www.ibm.com"]);
    assert_eq!(first[0], "servereast.backup2.ibm.com.");
    assert_eq!(first.len(), 4);
    assert_ne!(first[1], second[1], "the A records rotate");
    let mut a = first[1..].to_vec();
    let mut b = second[1..].to_vec();
    a.sort();
    b.sort();
    assert_eq!(a, b);
    // NXDOMAIN with the SOA in authority, AA set.
    let nx = dig("127.0.0.21", port, &["nobody.cs.umass.edu", "+norecurse"]);
    assert!(nx.contains("status: NXDOMAIN"), "{nx}");
    assert!(nx.contains("flags: qr aa;"), "{nx}");
    assert!(
        nx.contains("cs.umass.edu.\t\t300\tIN\tSOA\tdns.cs.umass.edu."),
        "{nx}"
    );
    // A server refuses names outside its zones.
    let refused = dig("127.0.0.23", port, &["gaia.cs.umass.edu", "+norecurse"]);
    assert!(refused.contains("status: REFUSED"), "{refused}");
    // Which server answered (CHAOS TXT id.server).
    assert_eq!(
        short("127.0.0.11", port, &["id.server", "TXT", "-c", "CH"]),
        vec!["\"a.edu-servers.net.\""]
    );
    relay.relay.stop(std::time::Duration::from_secs(5)).await;
}

/// dig +trace asks its first server for the root NS, then resolves the
/// root servers' names with the system's resolver, which does not know the
/// lab: so it stops there. The iterative walk is done with +norecurse, one
/// server at a time, following each referral's glue, as the course does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iterative_resolution_with_dig_follows_the_glue() {
    let Some(_) = wirelab_testkit::require_tool("dig", "dnsutils") else {
        return;
    };
    let relay = start(|_| {}).await;
    let port = dns_port(&relay);
    let out = Command::new("dig")
        .args([
            "@127.0.0.10",
            "-p",
            &port.to_string(),
            "+tries=1",
            "+time=5",
        ])
        .args(["+trace", "gaia.cs.umass.edu"])
        .output()
        .expect("dig runs");
    let trace = String::from_utf8_lossy(&out.stdout);
    // The first step, the root's NS from our root server, is printed...
    assert!(
        trace.contains(".\t\t\t518400\tIN\tNS\ta.root-servers.net."),
        "{trace}"
    );
    // ...then dig looks a.root-servers.net up through the system resolver.
    assert!(
        trace.contains("couldn't get address for 'a.root-servers.net'"),
        "{trace}"
    );

    let mut server = "127.0.0.10".to_string();
    let mut asked = Vec::new();
    let answer = loop {
        asked.push(server.clone());
        assert!(asked.len() <= 4, "too many steps: {asked:?}");
        let out = dig(&server, port, &["gaia.cs.umass.edu", "A", "+norecurse"]);
        let answer: Vec<&str> = out
            .lines()
            .skip_while(|l| !l.starts_with(";; ANSWER SECTION"))
            .skip(1)
            .take_while(|l| !l.is_empty())
            .collect();
        if !answer.is_empty() {
            break answer.join("\n");
        }
        // Follow the first glue record of the referral.
        let glue = out
            .lines()
            .skip_while(|l| !l.starts_with(";; ADDITIONAL SECTION"))
            .skip(1)
            .find(|l| l.contains("\tA\t"))
            .unwrap_or_else(|| panic!("no glue in {out}"));
        server = glue.rsplit('\t').next().unwrap().to_string();
    };
    assert_eq!(asked, ["127.0.0.10", "127.0.0.11", "127.0.0.21"]);
    assert!(answer.ends_with("128.119.245.12"), "{answer}");
    relay.relay.stop(std::time::Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_resolver_answers_dig_and_keeps_a_trace() {
    let Some(_) = wirelab_testkit::require_tool("dig", "dnsutils") else {
        return;
    };
    let relay = start(|_| {}).await;
    let port = dns_port(&relay);
    let resolver = relay.relay.target("dns").unwrap().clone();
    assert_eq!(resolver.host, "127.0.0.1");
    let out = dig("127.0.0.1", port, &["gaia.cs.umass.edu"]);
    assert!(out.contains("flags: qr rd ra;"), "{out}");
    assert!(
        out.contains("gaia.cs.umass.edu.\t3600\tIN\tA\t128.119.245.12"),
        "{out}"
    );
    let tcp = short("127.0.0.1", port, &["www.ibm.com", "+tcp"]);
    assert_eq!(tcp.len(), 4, "{tcp:?}");
    assert_eq!(short("127.0.0.1", port, &["hamburger.edu", "MX"]).len(), 2);
    assert_eq!(
        short("127.0.0.1", port, &["www.networkutopia.com", "AAAA"]),
        vec!["2001:db8:212::2"]
    );
    let nx = dig("127.0.0.1", port, &["nothing.crepes.fr"]);
    assert!(nx.contains("status: NXDOMAIN"), "{nx}");
    assert!(nx.contains("crepes.fr.\t\t300\tIN\tSOA"), "{nx}");
    let nx = dig("127.0.0.1", port, &["www.pbs.org"]);
    assert!(nx.contains("status: NXDOMAIN"), "{nx}");
    // After a resolution the name is in the cache: +norecurse shows it.
    let cached = short("127.0.0.1", port, &["gaia.cs.umass.edu", "+norecurse"]);
    assert_eq!(cached, vec!["128.119.245.12"]);

    let (status, body) = relay.get("/api/dns/traces").await;
    assert_eq!(status, 200);
    let traces: serde_json::Value = serde_json::from_str(&body).unwrap();
    let gaia = traces
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["question"] == "gaia.cs.umass.edu. A")
        .expect("a trace for gaia");
    let numbered: Vec<&serde_json::Value> = gaia["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["n"].is_number())
        .collect();
    assert_eq!(numbered.len(), 8, "{gaia:#}");
    assert_eq!(numbered[1]["role"], "root");
    assert_eq!(numbered[3]["role"], "TLD");
    assert_eq!(numbered[5]["role"], "authoritative");
    let (status, body) = relay.get("/api/dns/cache").await;
    assert_eq!(status, 200);
    assert!(body.contains("\"name\":\"edu.\""), "{body}");
    relay.relay.stop(std::time::Duration::from_secs(5)).await;
}

#[tokio::test]
async fn through_ws_udp_and_tcp_with_the_trace_api() {
    let relay = start(|_| {}).await;
    // Iterative, as the page does: the root refers to edu.
    let mut ws = relay.open("target=dns-root").await;
    assert!(matches!(
        next_relay_message(&mut ws).await,
        RelayMessage::Connected { .. }
    ));
    let spec = QuerySpec {
        recursion_desired: false,
        ..QuerySpec::new(
            Name::parse("gaia.cs.umass.edu").unwrap(),
            RecordType::A,
            0x0101,
        )
    };
    send_bytes(&mut ws, &spec.to_bytes()).await;
    let reply = Message::parse(&next_bytes(&mut ws).await).unwrap();
    assert_eq!(reply.header.id, 0x0101);
    assert_eq!(reply.authority[0].name, Name::parse("edu").unwrap());

    // TCP, with the length prefix, to the authoritative server.
    let mut ws = relay.open("target=dns-cs-umass-tcp").await;
    assert!(matches!(
        next_relay_message(&mut ws).await,
        RelayMessage::Connected { .. }
    ));
    let tcp = QuerySpec {
        transport: wirelab_shared::dns::query::QueryTransport::Tcp,
        ..spec.clone()
    };
    send_bytes(&mut ws, &tcp.to_wire()).await;
    let mut framer = wirelab_shared::dns::frame::TcpFramer::new();
    let message = loop {
        framer.push(&next_bytes(&mut ws).await);
        if let Some(m) = framer.next_message() {
            break m;
        }
    };
    let reply = Message::parse(&message).unwrap();
    assert!(reply.header.aa);
    assert_eq!(reply.answers[0].data.to_text(), "128.119.245.12");

    // Recursive through the resolver, then its trace by ID and port.
    let mut ws = relay.open("target=dns").await;
    let local = match next_relay_message(&mut ws).await {
        RelayMessage::Connected { local, .. } => local,
        other => panic!("{other:?}"),
    };
    let port: u16 = local.rsplit(':').next().unwrap().parse().unwrap();
    let recursive = QuerySpec::new(Name::parse("www.ibm.com").unwrap(), RecordType::A, 0x4242);
    send_bytes(&mut ws, &recursive.to_bytes()).await;
    let reply = Message::parse(&next_bytes(&mut ws).await).unwrap();
    assert_eq!(reply.rcode(), Rcode::NOERROR);
    assert!(reply.header.ra);
    assert_eq!(reply.answers.len(), 4);
    let (status, body) = relay
        .get(&format!("/api/dns/trace?id={}&port={port}", 0x4242))
        .await;
    assert_eq!(status, 200, "{body}");
    let trace: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(trace["question"], "www.ibm.com. A");
    assert_eq!(trace["upstream_queries"], 3);
    // Every message of the figure comes with its hex and its summary, for
    // the page to draw and dissect (the resolver kept bytes until asked).
    let numbered: Vec<&serde_json::Value> = trace["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["n"].is_number())
        .collect();
    assert_eq!(numbered.len(), 8, "{trace:#}");
    for e in &numbered {
        assert!(e["hex"].as_str().is_some_and(|h| h.len() >= 24), "{e}");
        assert!(e["summary"].as_str().is_some_and(|s| !s.is_empty()), "{e}");
    }
    assert!(numbered[0]["hex"].as_str().unwrap().starts_with("4242"));
    let (status, _) = relay.get("/api/dns/trace?id=1&port=1").await;
    assert_eq!(status, 404);
    relay.relay.stop(std::time::Duration::from_secs(5)).await;
}

#[tokio::test]
async fn broken_zone_files_stop_the_relay_with_file_and_line() {
    let data = tempfile::tempdir().unwrap();
    let zones = data.path().join("dns").join("zones");
    std::fs::create_dir_all(&zones).unwrap();
    std::fs::write(
        zones.join("ibm.com.zone"),
        "$ORIGIN ibm.com.\n$TTL 300\n@ SOA dns hostmaster 1 2 3 4 5\n@ NS dns\ndns A 127.0.0.41\nwww A 300.1.1.1\n",
    )
    .unwrap();
    let mut config = wirelab_relay::config::Config::ephemeral(data.path());
    config.dist = data.path().join("no-dist");
    let err = match wirelab_relay::Relay::start(config).await {
        Ok(_) => panic!("the relay started with a broken zone"),
        Err(e) => format!("{e:#}"),
    };
    assert!(err.contains("ibm.com.zone:6"), "{err}");
    assert!(err.contains("not an IPv4 address"), "{err}");
    // The other defaults were written.
    assert!(zones.join("root.zone").is_file());
}
