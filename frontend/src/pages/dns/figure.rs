//! The course's resolution figure as a ladder diagram of five lanes
//! (requesting host, local DNS server, root, TLD, authoritative), drawn by
//! the shared [`Timeline`](crate::components::timeline::Timeline) with the
//! messages numbered as the figure numbers them. Two sources: the student's
//! walk by hand (where the student is the local server), and the
//! resolver's trace (where the local server is the lab's resolver).
//!
//! Each arrow's `message` is the index of what it stands for in its
//! source: [`Walk::numbered`] for a walk, `Trace::events` for a trace.

use crate::components::timeline::{Arrow, ArrowKind, Lane};
use std::rc::Rc;
use wirelab_shared::dns::dissect::dissect;
use wirelab_shared::dns::resolver::{Trace, TraceKind};
use wirelab_shared::dns::walk::{Party, Walk, WalkMessage};
use wirelab_shared::text::parse_hex;

/// The lanes, each named by what stands there (the first server met in
/// each role).
fn lanes(local: &str, servers: [Option<String>; 3]) -> Rc<Vec<Lane>> {
    let mut out = vec![
        Lane {
            label: "requesting host".into(),
        },
        Lane {
            label: local.to_string(),
        },
    ];
    for (party, server) in [Party::Root, Party::Tld, Party::Authoritative]
        .into_iter()
        .zip(servers)
    {
        let what = match party {
            Party::Root => "root",
            Party::Tld => "TLD",
            _ => "authoritative",
        };
        out.push(Lane {
            label: match server {
                Some(host) => format!("{what}: {}", host.trim_end_matches('.')),
                None => party.label().to_string(),
            },
        });
    }
    Rc::new(out)
}

/// The figure of a walk by hand.
pub fn walk_figure(walk: &Walk) -> (Rc<Vec<Lane>>, Rc<Vec<Arrow>>) {
    let host_of = |party: Party| {
        walk.steps
            .iter()
            .find(|s| s.party == party)
            .map(|s| s.host.clone())
    };
    let lanes = lanes(
        "local DNS server: you",
        [
            host_of(Party::Root),
            host_of(Party::Tld),
            host_of(Party::Authoritative),
        ],
    );
    // Network time only: each query leaves when the previous reply came
    // back, so the student's thinking time between steps does not count.
    let mut clock = 0.0;
    let mut at = Vec::new();
    for s in &walk.steps {
        let reply = s.replied_ms.map(|r| clock + (r - s.sent_ms).max(0.0));
        at.push((clock, reply));
        if let Some(r) = reply {
            clock = r;
        }
    }
    let mut arrows = Vec::new();
    for (index, numbered) in walk.numbered().into_iter().enumerate() {
        let (t, bytes, kind) = match numbered.what {
            WalkMessage::HostQuery => (0.0, Some(walk.host_query()), ArrowKind::Request),
            WalkMessage::Query(i) => (
                at[i].0,
                Some(walk.steps[i].query.clone()),
                ArrowKind::Request,
            ),
            WalkMessage::Reply(i) => (
                at[i].1.unwrap_or(at[i].0),
                walk.steps[i].reply.clone(),
                ArrowKind::Response,
            ),
            WalkMessage::HostReply => (clock, walk.host_reply(), ArrowKind::Response),
        };
        let summary = bytes.map(|b| dissect(&b).summary).unwrap_or_default();
        arrows.push(Arrow {
            from: numbered.from.index(),
            to: numbered.to.index(),
            t_ms: t,
            label: format!("{} {summary}", numbered.n),
            kind,
            message: Some(index),
        });
    }
    // A query that got no reply: drawn dashed back to the local server.
    if let Some(last) = walk.steps.last()
        && let Some(why) = &last.failed
    {
        arrows.push(Arrow {
            from: last.party.index(),
            to: Party::Local.index(),
            t_ms: clock,
            label: format!("no reply: {why}"),
            kind: ArrowKind::Close,
            message: None,
        });
    }
    (lanes, Rc::new(arrows))
}

/// The figure of the resolver's trace: every numbered message, and the
/// timeouts; notes and cache hits are listed beside it, not drawn.
pub fn trace_figure(trace: &Trace) -> (Rc<Vec<Lane>>, Rc<Vec<Arrow>>) {
    let server_of = |party: Party| {
        trace
            .events
            .iter()
            .find(|e| e.kind == TraceKind::Query && Party::of_trace_role(&e.role) == party)
            .and_then(|e| e.to.split_whitespace().next().map(str::to_string))
    };
    let lanes = lanes(
        "local DNS server: dns.poly.edu",
        [
            server_of(Party::Root),
            server_of(Party::Tld),
            server_of(Party::Authoritative),
        ],
    );
    let mut arrows = Vec::new();
    for (index, e) in trace.events.iter().enumerate() {
        let party = Party::of_trace_role(&e.role);
        let (from, to, kind) = match e.kind {
            TraceKind::ClientQuery => (Party::Host, Party::Local, ArrowKind::Request),
            TraceKind::ClientReply => (Party::Local, Party::Host, ArrowKind::Response),
            TraceKind::Query => (Party::Local, party, ArrowKind::Request),
            TraceKind::Reply => (party, Party::Local, ArrowKind::Response),
            TraceKind::Timeout => (party, Party::Local, ArrowKind::Close),
            TraceKind::Cache | TraceKind::Note => continue,
        };
        let summary = if e.hex.is_empty() {
            e.summary.clone()
        } else {
            parse_hex(&e.hex).map_or_else(|| e.summary.clone(), |b| dissect(&b).summary)
        };
        let label = match e.n {
            Some(n) => format!("{n} {summary}"),
            None => summary,
        };
        arrows.push(Arrow {
            from: from.index(),
            to: to.index(),
            t_ms: e.at_ms as f64,
            label,
            kind,
            message: (!e.hex.is_empty()).then_some(index),
        });
    }
    (lanes, Rc::new(arrows))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pages::dns::lab::{DnsLab, tests::step};
    use wirelab_shared::dns::resolver::TraceEvent;
    use wirelab_shared::relay_protocol::Transport;

    #[test]
    fn a_walk_is_drawn_with_its_eight_numbered_arrows() {
        let mut lab = DnsLab::default();
        step(&mut lab, "dns-root", Transport::Udp, None, 0.0);
        let hop = lab.walk.as_ref().unwrap().next_hops().remove(0);
        step(&mut lab, "dns-edu", Transport::Udp, Some(hop.zone), 5.0);
        let hop = lab.walk.as_ref().unwrap().next_hops().remove(0);
        step(
            &mut lab,
            "dns-cs-umass",
            Transport::Udp,
            Some(hop.zone),
            9.0,
        );
        let (lanes, arrows) = walk_figure(lab.walk.as_ref().unwrap());
        assert_eq!(lanes.len(), 5);
        assert_eq!(lanes[2].label, "root: a.root-servers.net");
        assert_eq!(lanes[4].label, "authoritative: dns.cs.umass.edu");
        assert_eq!(arrows.len(), 8);
        let ends: Vec<_> = arrows.iter().map(|a| (a.from, a.to)).collect();
        assert_eq!(
            ends,
            [
                (0, 1),
                (1, 2),
                (2, 1),
                (1, 3),
                (3, 1),
                (1, 4),
                (4, 1),
                (1, 0)
            ]
        );
        assert!(arrows[0].label.starts_with("1 "));
        assert!(arrows[7].label.starts_with("8 "), "{}", arrows[7].label);
        // Round trips only: three of 1 ms each, not the 9 ms of the whole.
        assert_eq!(arrows[7].t_ms, 3.0);
        assert_eq!(arrows[3].t_ms, 1.0);
        assert_eq!(arrows[5].message, Some(5));
    }

    fn event(n: Option<usize>, kind: TraceKind, role: &str, to: &str) -> TraceEvent {
        TraceEvent {
            n,
            kind,
            at_ms: 1,
            from: "x".into(),
            to: to.into(),
            role: role.into(),
            zone: None,
            transport: "udp".into(),
            summary: "s".into(),
            hex: String::new(),
            rtt_ms: None,
        }
    }

    #[test]
    fn a_trace_is_drawn_by_role() {
        let trace = Trace {
            id: 1,
            client: "127.0.0.1:4000".into(),
            transport: "udp".into(),
            query_id: 7,
            question: "gaia.cs.umass.edu. A".into(),
            started_ms: 0,
            finished: true,
            elapsed_ms: 3,
            rcode: "NOERROR".into(),
            answer: vec![],
            upstream_queries: 1,
            events: vec![
                event(Some(1), TraceKind::ClientQuery, "local", "local DNS server"),
                event(None, TraceKind::Cache, "local", ""),
                event(
                    Some(2),
                    TraceKind::Query,
                    "TLD",
                    "a.edu-servers.net. 127.0.0.11:1053",
                ),
                event(None, TraceKind::Timeout, "TLD", ""),
                event(Some(3), TraceKind::ClientReply, "local", ""),
            ],
        };
        let (lanes, arrows) = trace_figure(&trace);
        assert_eq!(lanes[3].label, "TLD: a.edu-servers.net");
        assert_eq!(lanes[2].label, "root DNS server");
        let ends: Vec<_> = arrows.iter().map(|a| (a.from, a.to, a.kind)).collect();
        assert_eq!(
            ends,
            [
                (0, 1, ArrowKind::Request),
                (1, 3, ArrowKind::Request),
                (3, 1, ArrowKind::Close),
                (1, 0, ArrowKind::Response)
            ]
        );
        assert_eq!(arrows[1].label, "2 s");
        assert_eq!(arrows[1].message, None, "no bytes to show");
    }
}
