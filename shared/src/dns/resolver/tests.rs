//! The resolver against the lab's whole hierarchy, simulated in memory: each
//! query the resolver sends is answered by the authoritative engine of the
//! server at that address.

use super::*;
use crate::dns::hierarchy::{self, SERVERS};
use std::net::Ipv4Addr;

const PORT: u16 = 1053;

struct Net {
    servers: Vec<(IpAddr, Arc<Authority>)>,
    /// Addresses that never answer.
    silent: Vec<IpAddr>,
    /// Addresses that answer UDP with TC set.
    truncating: Vec<IpAddr>,
}

fn authority(s: &hierarchy::LabServer) -> Arc<Authority> {
    Arc::new(s.default_authority())
}

fn lab() -> (Resolver, Net) {
    let local = SERVERS.iter().find(|s| s.catalog == "dns").unwrap();
    let config = ResolverConfig {
        root_hints: hierarchy::root_hints(),
        upstream_port: PORT,
        ..ResolverConfig::default()
    };
    let resolver = Resolver::new(config, Some(authority(local)));
    let servers = SERVERS
        .iter()
        .filter(|s| s.catalog != "dns")
        .map(|s| (s.ip(), authority(s)))
        .collect();
    (
        resolver,
        Net {
            servers,
            silent: Vec::new(),
            truncating: Vec::new(),
        },
    )
}

fn client(port: u16) -> ClientId {
    ClientId {
        addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port),
        via: Via::Udp,
        conn: 0,
    }
}

/// Runs the resolver until it answers; time advances 1 ms per hop, or to
/// the deadline when nothing is in flight.
fn run(r: &mut Resolver, net: &Net, now: &mut u64) -> Vec<(ClientId, Message)> {
    let mut replies = Vec::new();
    for _ in 0..1000 {
        let mut in_flight = Vec::new();
        let deadline = loop {
            match r.poll_output() {
                ResolverOutput::Reply { to, message } => {
                    replies.push((to, Message::parse(&message).unwrap()))
                }
                ResolverOutput::Query { to, via, message } => in_flight.push((to, via, message)),
                ResolverOutput::Finished { .. } => {}
                ResolverOutput::Wait(d) => break d,
            }
        };
        if in_flight.is_empty() {
            match deadline {
                Some(d) => {
                    *now = d.0;
                    r.handle_timeout(Millis(*now));
                    continue;
                }
                None => return replies,
            }
        }
        for (to, via, message) in in_flight {
            *now += 1;
            assert_eq!(to.port(), PORT);
            if net.silent.contains(&to.ip()) {
                continue;
            }
            let Some((_, auth)) = net.servers.iter().find(|(a, _)| *a == to.ip()) else {
                continue;
            };
            // The lab's resolver sends from its own address, 127.0.0.1:
            // the client a CDN's server sees.
            let mut reply = auth
                .answer_to(&message, via, Some(IpAddr::V4(Ipv4Addr::LOCALHOST)))
                .unwrap();
            if via == Via::Udp && net.truncating.contains(&to.ip()) {
                let mut m = Message::parse(&reply).unwrap();
                m.answers.clear();
                m.header.tc = true;
                reply = m.to_bytes();
            }
            r.handle_upstream(to, via, &reply, Millis(*now));
        }
    }
    panic!("the resolver never settled");
}

fn ask(
    r: &mut Resolver,
    net: &Net,
    now: &mut u64,
    name: &str,
    qtype: RecordType,
    id: u16,
) -> Message {
    let q = Message::query(id, Question::new(Name::parse(name).unwrap(), qtype), true);
    r.handle_client(client(5353), &q.to_bytes(), Millis(*now));
    let replies = run(r, net, now);
    assert_eq!(replies.len(), 1);
    replies.into_iter().next().unwrap().1
}

#[test]
fn gaia_takes_the_eight_messages_of_the_course_then_comes_from_the_cache() {
    let (mut r, net) = lab();
    let mut now = 1000;
    let reply = ask(
        &mut r,
        &net,
        &mut now,
        "gaia.cs.umass.edu",
        RecordType::A,
        0x1234,
    );
    assert_eq!(reply.header.id, 0x1234);
    assert!(reply.header.ra && reply.header.rd && !reply.header.aa);
    assert_eq!(reply.answers.len(), 1);
    assert_eq!(reply.answers[0].data.to_text(), "128.119.245.12");
    let trace = r.trace_for(client(5353).addr, 0x1234).unwrap().clone();
    let numbered: Vec<_> = trace.events.iter().filter(|e| e.n.is_some()).collect();
    assert_eq!(numbered.len(), 8, "{:#?}", trace.events);
    let roles: Vec<&str> = numbered.iter().map(|e| e.role.as_str()).collect();
    assert_eq!(
        roles,
        [
            "local",
            "root",
            "root",
            "TLD",
            "TLD",
            "authoritative",
            "authoritative",
            "local"
        ]
    );
    assert!(
        numbered[1]
            .to
            .starts_with("a.root-servers.net. 127.0.0.10:1053")
    );
    assert!(numbered[5].to.starts_with("dns.cs.umass.edu."));
    assert_eq!(
        numbered.iter().map(|e| e.n.unwrap()).collect::<Vec<_>>(),
        (1..=8).collect::<Vec<_>>()
    );
    assert_eq!(trace.upstream_queries, 3);
    assert!(trace.finished);
    // The messages were kept as bytes and are dissected now, when asked.
    for e in &numbered {
        assert!(!e.hex.is_empty() && !e.summary.is_empty(), "{e:?}");
    }
    assert!(
        numbered[0].summary.contains("gaia.cs.umass.edu"),
        "{numbered:?}"
    );
    assert!(numbered[0].hex.starts_with("1234"), "{}", numbered[0].hex);

    // The same name again: two messages, from the cache, TTL counting down.
    now += 10_000;
    let again = ask(
        &mut r,
        &net,
        &mut now,
        "gaia.cs.umass.edu",
        RecordType::A,
        0x1235,
    );
    assert_eq!(again.answers[0].ttl, 3600 - 10);
    let trace = r.trace_for(client(5353).addr, 0x1235).unwrap();
    assert_eq!(trace.upstream_queries, 0);
    assert_eq!(trace.events.iter().filter(|e| e.n.is_some()).count(), 2);

    // Another edu name: the edu servers are cached, the root is skipped.
    let other = ask(
        &mut r,
        &net,
        &mut now,
        "www.someschool.edu",
        RecordType::A,
        7,
    );
    assert_eq!(other.answers[0].data.to_text(), "192.0.2.80");
    let trace = r.trace_for(client(5353).addr, 7).unwrap();
    assert_eq!(trace.upstream_queries, 2);
    assert!(trace.events.iter().any(|e| e.kind == TraceKind::Cache));
    let cache = r.cache_snapshot(Millis(now));
    assert!(cache.iter().any(|c| c.name == "edu." && c.rtype == "NS"));
}

#[test]
fn cname_nxdomain_and_negative_cache() {
    let (mut r, net) = lab();
    let mut now = 0;
    let reply = ask(&mut r, &net, &mut now, "www.ibm.com", RecordType::A, 1);
    assert_eq!(reply.answers[0].rtype, RecordType::CNAME);
    assert_eq!(reply.answers.len(), 4);
    let reply = ask(
        &mut r,
        &net,
        &mut now,
        "nobody.cs.umass.edu",
        RecordType::A,
        2,
    );
    assert_eq!(reply.rcode(), Rcode::NXDOMAIN);
    assert_eq!(reply.authority[0].rtype, RecordType::SOA);
    let reply = ask(
        &mut r,
        &net,
        &mut now,
        "nobody.cs.umass.edu",
        RecordType::MX,
        3,
    );
    assert_eq!(reply.rcode(), Rcode::NXDOMAIN);
    assert_eq!(
        r.trace_for(client(5353).addr, 3).unwrap().upstream_queries,
        0
    );
    let reply = ask(&mut r, &net, &mut now, "hamburger.edu", RecordType::MX, 4);
    assert_eq!(reply.answers.len(), 2);
    let reply = ask(
        &mut r,
        &net,
        &mut now,
        "gaia.cs.umass.edu",
        RecordType::MX,
        5,
    );
    assert!(reply.answers.is_empty());
    assert_eq!(reply.rcode(), Rcode::NOERROR);
    // Its own zone, answered with authority and no trace.
    let reply = ask(&mut r, &net, &mut now, "cis.poly.edu", RecordType::A, 6);
    assert!(reply.header.aa);
    assert_eq!(reply.answers[0].data.to_text(), "128.238.24.30");
    let reply = ask(
        &mut r,
        &net,
        &mut now,
        "www.networkutopia.com",
        RecordType::A,
        8,
    );
    assert_eq!(reply.answers[0].data.to_text(), "212.212.212.2");
}

/// The provider's alias leads into the CDN's zone: the resolver follows
/// the CNAME to a second delegation, and the CDN answers with the replica
/// nearest to the resolver (New York's, 127.0.0.80), not the whole set.
#[test]
fn a_cname_into_the_cdn_is_followed_to_the_replica_nearest_the_resolver() {
    let (mut r, net) = lab();
    let mut now = 0;
    let reply = ask(&mut r, &net, &mut now, "video.sina.com", RecordType::A, 1);
    assert_eq!(reply.rcode(), Rcode::NOERROR);
    let answers: Vec<(String, RecordType, String)> = reply
        .answers
        .iter()
        .map(|a| (a.name.to_string(), a.rtype, a.data.to_text()))
        .collect();
    assert_eq!(
        answers,
        vec![
            (
                "video.sina.com.".to_string(),
                RecordType::CNAME,
                "www.cdn.com.".to_string()
            ),
            (
                "www.cdn.com.".to_string(),
                RecordType::A,
                "127.0.0.80".to_string()
            ),
        ]
    );
    // The CDN's name alone, from the cache now: the same replica.
    let reply = ask(&mut r, &net, &mut now, "www.cdn.com", RecordType::A, 2);
    assert_eq!(reply.answers.len(), 1);
    assert_eq!(reply.answers[0].data.to_text(), "127.0.0.80");
    assert_eq!(
        r.trace_for(client(5353).addr, 2).unwrap().upstream_queries,
        0
    );
}

#[test]
fn silent_servers_time_out_and_truncation_goes_to_tcp() {
    let (mut r, mut net) = lab();
    // dns.cs.umass.edu never answers: the resolver tries dns.umass.edu next,
    // which refers cs.umass.edu back to the silent server: SERVFAIL.
    net.silent.push(IpAddr::from([127, 0, 0, 21]));
    let mut now = 0;
    let reply = ask(
        &mut r,
        &net,
        &mut now,
        "gaia.cs.umass.edu",
        RecordType::A,
        9,
    );
    assert_eq!(reply.rcode(), Rcode::SERVFAIL);
    let trace = r.trace_for(client(5353).addr, 9).unwrap();
    assert!(trace.events.iter().any(|e| e.kind == TraceKind::Timeout));
    let (mut r, mut net) = lab();
    net.truncating.push(IpAddr::from([127, 0, 0, 41]));
    let reply = ask(&mut r, &net, &mut now, "www.ibm.com", RecordType::A, 10);
    assert_eq!(reply.answers.len(), 4);
    let trace = r.trace_for(client(5353).addr, 10).unwrap();
    assert!(trace.events.iter().any(|e| e.transport == "tcp"));
}

#[test]
fn strangers_are_refused_and_forged_replies_dropped() {
    let (mut r, net) = lab();
    let stranger = ClientId {
        addr: "10.1.2.3:4444".parse().unwrap(),
        via: Via::Udp,
        conn: 0,
    };
    let q = Message::query(
        1,
        Question::new(Name::parse("gaia.cs.umass.edu").unwrap(), RecordType::A),
        true,
    );
    assert!(r.handle_client(stranger, &q.to_bytes(), Millis(0)));
    let mut now = 0;
    let replies = run(&mut r, &net, &mut now);
    assert_eq!(replies[0].1.rcode(), Rcode::REFUSED);
    assert!(!replies[0].1.header.ra);

    // A forged reply from the wrong address is ignored.
    r.handle_client(client(1), &q.to_bytes(), Millis(0));
    let (to, message) = loop {
        match r.poll_output() {
            ResolverOutput::Query { to, message, .. } => break (to, message),
            ResolverOutput::Wait(_) => panic!("no query"),
            _ => {}
        }
    };
    let mut forged = Message::response_to(&Message::parse(&message).unwrap());
    forged.answers.push(Record::new(
        Name::parse("gaia.cs.umass.edu").unwrap(),
        86400,
        RData::A(Ipv4Addr::new(6, 6, 6, 6)),
    ));
    r.handle_upstream(
        "127.0.0.99:1053".parse().unwrap(),
        Via::Udp,
        &forged.to_bytes(),
        Millis(1),
    );
    assert!(matches!(r.poll_output(), ResolverOutput::Wait(Some(_))));
    // Answer for real, from the right address.
    let auth = &net.servers.iter().find(|(a, _)| *a == to.ip()).unwrap().1;
    r.handle_upstream(
        to,
        Via::Udp,
        &auth.answer(&message, Via::Udp).unwrap(),
        Millis(2),
    );
    let mut now = 2;
    let replies = run(&mut r, &net, &mut now);
    assert_eq!(replies[0].1.answers[0].data.to_text(), "128.119.245.12");
}

#[test]
fn messages_that_are_no_query_get_no_reply_and_say_so() {
    let (mut r, _net) = lab();
    let mut response = Message::query(
        5,
        Question::new(Name::parse("gaia.cs.umass.edu").unwrap(), RecordType::A),
        true,
    );
    response.header.qr = true;
    assert!(!r.handle_client(client(7), &response.to_bytes(), Millis(0)));
    assert!(!r.handle_client(client(7), &[0x12, 0x34, 0x01], Millis(0)));
    assert!(matches!(r.poll_output(), ResolverOutput::Wait(None)));
    // Unreadable past the header: a query still, answered FORMERR.
    assert!(r.handle_client(
        client(7),
        &[0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 9],
        Millis(0)
    ));
    match r.poll_output() {
        ResolverOutput::Reply { message, .. } => {
            assert_eq!(Message::parse(&message).unwrap().rcode(), Rcode::FORMERR);
        }
        other => panic!("expected a reply, got {other:?}"),
    }
}

#[test]
fn norecurse_queries_show_the_cache() {
    let (mut r, net) = lab();
    let mut now = 0;
    let mut q = Message::query(
        1,
        Question::new(Name::parse("gaia.cs.umass.edu").unwrap(), RecordType::A),
        false,
    );
    r.handle_client(client(9), &q.to_bytes(), Millis(0));
    let replies = run(&mut r, &net, &mut now);
    // Not cached yet: a referral to the root.
    assert!(replies[0].1.answers.is_empty());
    assert_eq!(
        replies[0].1.authority[0].data.to_text(),
        "a.root-servers.net."
    );
    ask(
        &mut r,
        &net,
        &mut now,
        "gaia.cs.umass.edu",
        RecordType::A,
        2,
    );
    q.header.id = 3;
    r.handle_client(client(9), &q.to_bytes(), Millis(now));
    let replies = run(&mut r, &net, &mut now);
    assert_eq!(replies[0].1.answers[0].data.to_text(), "128.119.245.12");
}

#[test]
fn prefixes() {
    let p = AddressPrefix::parse("127.0.0.0/8").unwrap();
    assert!(p.contains(IpAddr::from([127, 1, 2, 3])));
    assert!(!p.contains(IpAddr::from([128, 0, 0, 1])));
    assert!(
        AddressPrefix::parse("0.0.0.0/0")
            .unwrap()
            .contains(IpAddr::from([8, 8, 8, 8]))
    );
    assert!(
        AddressPrefix::parse("::1")
            .unwrap()
            .contains("::1".parse().unwrap())
    );
    assert!(AddressPrefix::parse("10.0.0.0/33").is_none());
    assert_eq!(p.to_string(), "127.0.0.0/8");
}

/// Everything the resolver outputs until it waits.
fn drain(r: &mut Resolver) -> Vec<ResolverOutput> {
    let mut out = Vec::new();
    loop {
        match r.poll_output() {
            ResolverOutput::Wait(_) => return out,
            other => out.push(other),
        }
    }
}

/// A query the cache answers at once takes the serving path: the same
/// reply bytes, the same `Finished` line, the same rendered trace and the
/// same cache counters as the full resolution writes, for cached records
/// (with and without EDNS, over UDP and TCP), a cached NXDOMAIN and a
/// cached NODATA.
#[test]
fn answers_from_the_cache_are_what_the_full_resolution_would_write() {
    let (mut fast, net) = lab();
    let (mut full, _) = lab();
    full.full_resolution_only = true;
    let mut now = 1000;
    let warm = [
        ("gaia.cs.umass.edu", RecordType::A),
        ("nobody.cs.umass.edu", RecordType::A),
        ("gaia.cs.umass.edu", RecordType::MX),
    ];
    for (i, (name, qtype)) in warm.into_iter().enumerate() {
        for r in [&mut fast, &mut full] {
            let mut at = now;
            ask(r, &net, &mut at, name, qtype, i as u16);
        }
        now += 100;
    }
    now += 5_000;
    let tcp = ClientId {
        via: Via::Tcp,
        conn: 3,
        ..client(4242)
    };
    let cases = [
        (client(5353), "gaia.cs.umass.edu", RecordType::A, false),
        (client(5354), "GAIA.cs.umass.EDU", RecordType::A, true),
        (tcp, "gaia.cs.umass.edu", RecordType::A, true),
        (client(5355), "nobody.cs.umass.edu", RecordType::TXT, false),
        (client(5356), "gaia.cs.umass.edu", RecordType::MX, true),
    ];
    for (i, (from, name, qtype, edns)) in cases.into_iter().enumerate() {
        let id = 0x4000 + i as u16;
        let mut q = Message::query(id, Question::new(Name::parse(name).unwrap(), qtype), true);
        if edns {
            q.set_edns(Some(Edns::with_size(4096)));
        }
        let bytes = q.to_bytes();
        assert!(fast.handle_client(from, &bytes, Millis(now)));
        assert!(full.handle_client(from, &bytes, Millis(now)));
        let (fast_out, full_out) = (drain(&mut fast), drain(&mut full));
        assert_eq!(fast_out, full_out, "{name} {qtype}");
        // One took the serving path, the other resolved.
        let last = |r: &mut Resolver| r.traces.back_mut().unwrap().resolution_mut().is_some();
        assert!(!last(&mut fast) && last(&mut full), "{name} {qtype}");
        assert!(matches!(fast_out[0], ResolverOutput::Reply { .. }));
        let fast_trace = fast.trace_for(from.addr, id).unwrap();
        assert_eq!(fast_trace, full.trace_for(from.addr, id).unwrap());
        assert_eq!(fast_trace.upstream_queries, 0);
        assert_eq!(fast.traces().count(), full.traces().count());
        assert_eq!(
            (fast.cache.hits, fast.cache.misses),
            (full.cache.hits, full.cache.misses)
        );
        now += 1_000;
    }
    // The traces kept are the same ones, oldest first.
    let ids = |r: &Resolver| r.traces().map(|t| t.id).collect::<Vec<_>>();
    assert_eq!(ids(&fast), ids(&full));
}

/// Past `max_traces`, the oldest finished traces go, the ones answered
/// from the cache like the others.
#[test]
fn answers_from_the_cache_keep_at_most_max_traces() {
    let (mut r, net) = lab();
    r.config.max_traces = 3;
    let mut now = 0;
    ask(
        &mut r,
        &net,
        &mut now,
        "gaia.cs.umass.edu",
        RecordType::A,
        1,
    );
    for id in 2..10 {
        ask(
            &mut r,
            &net,
            &mut now,
            "gaia.cs.umass.edu",
            RecordType::A,
            id,
        );
    }
    let kept: Vec<u16> = r.traces().map(|t| t.query_id).collect();
    assert_eq!(kept, vec![7, 8, 9]);
}
