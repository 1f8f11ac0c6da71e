//! The course's resolution figure as a ladder diagram of (at least) five
//! lanes (requesting host, local DNS server, root, TLD, authoritative), drawn by
//! the shared [`Timeline`](crate::components::timeline::Timeline) with the
//! messages numbered as the figure numbers them. Two sources: the student's
//! walk by hand (where the student is the local server), and the
//! resolver's trace (where the local server is the lab's resolver).
//!
//! Each arrow's `message` is the index of what it stands for in its
//! source: [`Walk::numbered`] for a walk, `Trace::events` for a trace.
//! Each server met has its own lane, labelled with its name: two
//! authoritative servers of one walk are two lanes.

use crate::components::timeline::{Arrow, ArrowKind, Lane};
use std::rc::Rc;
use wirelab_shared::dns::dissect::dissect;
use wirelab_shared::dns::resolver::{Trace, TraceKind};
use wirelab_shared::dns::walk::{Party, Walk, WalkMessage};
use wirelab_shared::text::parse_hex;

/// The lanes of a figure and who stands in each: the requesting host, the
/// local server, then for the root, the TLD and the authoritative role
/// every server met in it, in the order first asked (the role's name alone
/// when none was), so each message is drawn to the server that really
/// took it (a referral from dns.umass.edu to dns.cs.umass.edu is two
/// lanes, not one labelled with the first).
struct Lanes {
    lanes: Vec<Lane>,
    /// The role and host name of each lane.
    who: Vec<(Party, Option<String>)>,
}

impl Lanes {
    fn new(local: &str, met: &[(Party, String)]) -> Lanes {
        let mut out = Lanes {
            lanes: vec![
                Lane {
                    label: "requesting host".into(),
                },
                Lane {
                    label: local.to_string(),
                },
            ],
            who: vec![(Party::Host, None), (Party::Local, None)],
        };
        for party in [Party::Root, Party::Tld, Party::Authoritative] {
            let before = out.who.len();
            for (_, host) in met.iter().filter(|(p, _)| *p == party) {
                if !out.who.iter().any(|(_, h)| h.as_ref() == Some(host)) {
                    out.push(party, Some(host.clone()));
                }
            }
            if out.who.len() == before {
                out.push(party, None);
            }
        }
        out
    }

    fn push(&mut self, party: Party, host: Option<String>) {
        let what = match party {
            Party::Root => "root",
            Party::Tld => "TLD",
            _ => "authoritative",
        };
        self.lanes.push(Lane {
            label: match &host {
                Some(host) => format!("{what}: {}", host.trim_end_matches('.')),
                None => party.label().to_string(),
            },
        });
        self.who.push((party, host));
    }

    /// The lane of `host` in role `party`; the role's first lane when that
    /// host has none (a trace event that names no server).
    fn of(&self, party: Party, host: Option<&str>) -> usize {
        let by_host = host.and_then(|h| {
            self.who
                .iter()
                .position(|(p, known)| *p == party && known.as_deref() == Some(h))
        });
        by_host
            .or_else(|| self.who.iter().position(|(p, _)| *p == party))
            .unwrap_or_else(|| party.index())
    }
}

/// The figure of a walk by hand.
pub fn walk_figure(walk: &Walk) -> (Rc<Vec<Lane>>, Rc<Vec<Arrow>>) {
    let met: Vec<(Party, String)> = walk
        .steps
        .iter()
        .map(|s| (s.party, s.host.clone()))
        .collect();
    let lanes = Lanes::new("local DNS server: you", &met);
    let lane_of_step = |i: usize| lanes.of(walk.steps[i].party, Some(&walk.steps[i].host));
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
        let (from, to) = match numbered.what {
            WalkMessage::Query(i) => (Party::Local.index(), lane_of_step(i)),
            WalkMessage::Reply(i) => (lane_of_step(i), Party::Local.index()),
            WalkMessage::HostQuery | WalkMessage::HostReply => {
                (numbered.from.index(), numbered.to.index())
            }
        };
        arrows.push(Arrow {
            from,
            to,
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
            from: lanes.of(last.party, Some(&last.host)),
            to: Party::Local.index(),
            t_ms: clock,
            label: format!("no reply: {why}"),
            kind: ArrowKind::Close,
            message: None,
        });
    }
    (Rc::new(lanes.lanes), Rc::new(arrows))
}

/// The figure of the resolver's trace: every numbered message, and the
/// timeouts; notes and cache hits are listed beside it, not drawn.
pub fn trace_figure(trace: &Trace) -> (Rc<Vec<Lane>>, Rc<Vec<Arrow>>) {
    // "a.edu-servers.net. 127.0.0.11:1053": the server, then its address.
    let server = |text: &str| text.split_whitespace().next().map(str::to_string);
    let met: Vec<(Party, String)> = trace
        .events
        .iter()
        .filter(|e| e.kind == TraceKind::Query)
        .filter_map(|e| Some((Party::of_trace_role(&e.role), server(&e.to)?)))
        .collect();
    let lanes = Lanes::new("local DNS server: dns.poly.edu", &met);
    let mut arrows = Vec::new();
    for (index, e) in trace.events.iter().enumerate() {
        let party = Party::of_trace_role(&e.role);
        let host = Party::Host.index();
        let local = Party::Local.index();
        let (from, to, kind) = match e.kind {
            TraceKind::ClientQuery => (host, local, ArrowKind::Request),
            TraceKind::ClientReply => (local, host, ArrowKind::Response),
            TraceKind::Query => (
                local,
                lanes.of(party, server(&e.to).as_deref()),
                ArrowKind::Request,
            ),
            TraceKind::Reply => (
                lanes.of(party, server(&e.from).as_deref()),
                local,
                ArrowKind::Response,
            ),
            TraceKind::Timeout => (
                lanes.of(party, server(&e.from).as_deref()),
                local,
                ArrowKind::Close,
            ),
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
            from,
            to,
            t_ms: e.at_ms as f64,
            label,
            kind,
            message: (!e.hex.is_empty()).then_some(index),
        });
    }
    (Rc::new(lanes.lanes), Rc::new(arrows))
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

    #[test]
    fn each_server_that_answers_has_its_own_lane() {
        // edu refers to umass.edu's servers; dns.umass.edu in turn refers
        // to cs.umass.edu's, dns.cs.umass.edu, which answers.
        let mut lab = DnsLab::default();
        step(&mut lab, "dns-root", Transport::Udp, None, 0.0);
        let hop = lab.walk.as_ref().unwrap().next_hops().remove(0);
        step(&mut lab, "dns-edu", Transport::Udp, Some(hop.zone), 5.0);
        let hop = lab
            .walk
            .as_ref()
            .unwrap()
            .next_hops()
            .into_iter()
            .find(|h| h.server.as_deref() == Some("dns-umass"))
            .unwrap();
        step(&mut lab, "dns-umass", Transport::Udp, Some(hop.zone), 9.0);
        let hop = lab.walk.as_ref().unwrap().next_hops().remove(0);
        assert_eq!(hop.server.as_deref(), Some("dns-cs-umass"));
        step(
            &mut lab,
            "dns-cs-umass",
            Transport::Udp,
            Some(hop.zone),
            12.0,
        );
        let (lanes, arrows) = walk_figure(lab.walk.as_ref().unwrap());
        let labels: Vec<&str> = lanes.iter().map(|l| l.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "requesting host",
                "local DNS server: you",
                "root: a.root-servers.net",
                "TLD: a.edu-servers.net",
                "authoritative: dns.umass.edu",
                "authoritative: dns.cs.umass.edu"
            ]
        );
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
                (1, 5),
                (5, 1),
                (1, 0)
            ]
        );
        assert!(arrows[7].label.starts_with("8 ") && arrows[8].label.starts_with("9 "));
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

    #[test]
    fn a_trace_draws_each_authoritative_server_in_its_lane() {
        let at = |kind, from: &str, to: &str| TraceEvent {
            from: from.into(),
            ..event(None, kind, "authoritative", to)
        };
        let umass = "dns.umass.edu. 127.0.0.20:1053";
        let cs = "dns.cs.umass.edu. 127.0.0.21:1053";
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
            upstream_queries: 2,
            events: vec![
                at(TraceKind::Query, "local DNS server", umass),
                at(TraceKind::Reply, umass, "local DNS server"),
                at(TraceKind::Query, "local DNS server", cs),
                at(TraceKind::Reply, cs, "local DNS server"),
            ],
        };
        let (lanes, arrows) = trace_figure(&trace);
        assert_eq!(lanes[4].label, "authoritative: dns.umass.edu");
        assert_eq!(lanes[5].label, "authoritative: dns.cs.umass.edu");
        let ends: Vec<_> = arrows.iter().map(|a| (a.from, a.to)).collect();
        assert_eq!(ends, [(1, 4), (4, 1), (1, 5), (5, 1)]);
    }
}
