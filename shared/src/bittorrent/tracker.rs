//! The tracker's memory: which peers announced which torrent, and what
//! each announce is answered. Bounded in torrents, in peers per torrent,
//! in peers per reply and in announces per client address per minute;
//! peers that stop announcing are forgotten after two intervals.
//!
//! The caller passes the announcing address and the time; the HTTP side
//! is [`super::tracker_server`].

use super::announce::{AnnounceReply, AnnounceRequest, Event, PeerInfo};
use super::metainfo::Sha1Hash;
use crate::engine::Millis;
use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddrV4};

/// The tracker's bounds and timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrackerLimits {
    /// Torrents tracked at once; announces for more are refused.
    pub max_torrents: usize,
    /// Peers of one torrent; announces from more are refused.
    pub max_peers_per_torrent: usize,
    /// Most peers in one reply (and the default when numwant is absent).
    pub max_numwant: u32,
    /// The `interval` told to clients, in seconds.
    pub interval_secs: u32,
    /// Announces one client address may make per minute.
    pub max_announces_per_minute: u32,
}

impl Default for TrackerLimits {
    fn default() -> Self {
        TrackerLimits {
            max_torrents: 256,
            max_peers_per_torrent: 200,
            max_numwant: 50,
            // Short, for a lab: a swarm lives for minutes, not days.
            interval_secs: 60,
            max_announces_per_minute: 600,
        }
    }
}

/// The most client addresses whose announces are counted at once: the
/// count is reset every minute, and addresses past this are refused.
const MAX_CLIENTS: usize = 4096;

#[derive(Debug, Clone)]
struct PeerEntry {
    addr: SocketAddrV4,
    left: u64,
    last_seen: Millis,
}

/// A torrent's peers, by peer id (ordered, so replies are reproducible).
type Swarm = BTreeMap<[u8; 20], PeerEntry>;

/// Every torrent's peers.
#[derive(Debug, Clone, Default)]
pub struct Tracker {
    limits: TrackerLimits,
    torrents: HashMap<Sha1Hash, Swarm>,
    window_start: Millis,
    announces: HashMap<IpAddr, u32>,
}

impl Tracker {
    pub fn new(limits: TrackerLimits) -> Tracker {
        Tracker {
            limits,
            ..Tracker::default()
        }
    }

    pub fn limits(&self) -> &TrackerLimits {
        &self.limits
    }

    /// How many torrents and peers it holds.
    pub fn size(&self) -> (usize, usize) {
        (
            self.torrents.len(),
            self.torrents.values().map(BTreeMap::len).sum(),
        )
    }

    /// Answers one announce from `from` at `now`.
    pub fn announce(&mut self, req: &AnnounceRequest, from: IpAddr, now: Millis) -> AnnounceReply {
        match self.admit(req, from, now) {
            Ok(()) => self.reply(req, now),
            Err(reason) => AnnounceReply::Failure(reason.into()),
        }
    }

    /// Counts the announce and records the peer, or says why not.
    fn admit(
        &mut self,
        req: &AnnounceRequest,
        from: IpAddr,
        now: Millis,
    ) -> Result<(), &'static str> {
        self.count_announce(from, now)?;
        let IpAddr::V4(ip) = from else {
            return Err("this tracker serves IPv4 peers only (BEP 23 compact lists)");
        };
        let ttl = 2 * 1000 * u64::from(self.limits.interval_secs);
        if !self.torrents.contains_key(&req.info_hash) {
            if req.event == Event::Stopped {
                return Ok(());
            }
            if self.torrents.len() >= self.limits.max_torrents {
                self.forget_stale(now, ttl);
            }
            if self.torrents.len() >= self.limits.max_torrents {
                return Err("tracker full: too many torrents");
            }
        }
        let swarm = self.torrents.entry(req.info_hash).or_default();
        swarm.retain(|_, p| now.0.saturating_sub(p.last_seen.0) <= ttl);
        if req.event == Event::Stopped {
            swarm.remove(&req.peer_id);
        } else if swarm.len() >= self.limits.max_peers_per_torrent
            && !swarm.contains_key(&req.peer_id)
        {
            return Err("torrent full: too many peers");
        } else {
            swarm.insert(
                req.peer_id,
                PeerEntry {
                    addr: SocketAddrV4::new(ip, req.port),
                    left: req.left,
                    last_seen: now,
                },
            );
        }
        if swarm.is_empty() {
            self.torrents.remove(&req.info_hash);
        }
        Ok(())
    }

    fn count_announce(&mut self, from: IpAddr, now: Millis) -> Result<(), &'static str> {
        if now.0.saturating_sub(self.window_start.0) >= 60_000 {
            self.window_start = now;
            self.announces.clear();
        }
        if !self.announces.contains_key(&from) && self.announces.len() >= MAX_CLIENTS {
            return Err("tracker busy: too many clients this minute");
        }
        let count = self.announces.entry(from).or_insert(0);
        if *count >= self.limits.max_announces_per_minute {
            return Err("too many announces from this address: wait a minute");
        }
        *count += 1;
        Ok(())
    }

    fn forget_stale(&mut self, now: Millis, ttl: u64) {
        for swarm in self.torrents.values_mut() {
            swarm.retain(|_, p| now.0.saturating_sub(p.last_seen.0) <= ttl);
        }
        self.torrents.retain(|_, s| !s.is_empty());
    }

    fn reply(&self, req: &AnnounceRequest, _now: Millis) -> AnnounceReply {
        let empty = Swarm::new();
        let swarm = self.torrents.get(&req.info_hash).unwrap_or(&empty);
        let want = req
            .numwant
            .unwrap_or(self.limits.max_numwant)
            .min(self.limits.max_numwant) as usize;
        let peers = if req.event == Event::Stopped {
            Vec::new()
        } else {
            swarm
                .iter()
                .filter(|(id, _)| **id != req.peer_id)
                .take(want)
                .map(|(id, p)| PeerInfo {
                    addr: p.addr,
                    peer_id: (!req.compact).then_some(*id),
                })
                .collect()
        };
        let complete = swarm.values().filter(|p| p.left == 0).count() as u32;
        AnnounceReply::Peers {
            interval: self.limits.interval_secs,
            complete,
            incomplete: swarm.len() as u32 - complete,
            peers,
            compact: req.compact,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn announce(id: u8, port: u16, left: u64, event: Event) -> AnnounceRequest {
        AnnounceRequest {
            info_hash: [9; 20],
            peer_id: [id; 20],
            port,
            uploaded: 0,
            downloaded: 0,
            left,
            event,
            compact: true,
            numwant: None,
        }
    }

    fn peers(reply: &AnnounceReply) -> Vec<SocketAddrV4> {
        match reply {
            AnnounceReply::Peers { peers, .. } => peers.iter().map(|p| p.addr).collect(),
            AnnounceReply::Failure(f) => panic!("failure: {f}"),
        }
    }

    const LOCAL: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    #[test]
    fn a_leecher_learns_of_the_seed_and_the_seed_of_the_leecher() {
        let mut t = Tracker::new(TrackerLimits::default());
        let seed = t.announce(&announce(1, 7001, 0, Event::Started), LOCAL, Millis(0));
        assert!(peers(&seed).is_empty());
        let leech = t.announce(&announce(2, 7002, 100, Event::Started), LOCAL, Millis(1));
        assert_eq!(peers(&leech), vec!["127.0.0.1:7001".parse().unwrap()]);
        let AnnounceReply::Peers {
            complete,
            incomplete,
            ..
        } = leech
        else {
            unreachable!()
        };
        assert_eq!((complete, incomplete), (1, 1));
        let again = t.announce(&announce(1, 7001, 0, Event::None), LOCAL, Millis(2));
        assert_eq!(peers(&again), vec!["127.0.0.1:7002".parse().unwrap()]);
        t.announce(&announce(2, 7002, 0, Event::Stopped), LOCAL, Millis(3));
        assert_eq!(t.size(), (1, 1));
    }

    #[test]
    fn peers_that_stop_announcing_are_forgotten() {
        let mut t = Tracker::new(TrackerLimits::default());
        t.announce(&announce(1, 7001, 0, Event::Started), LOCAL, Millis(0));
        let late = t.announce(
            &announce(2, 7002, 5, Event::Started),
            LOCAL,
            Millis(121_000),
        );
        assert!(peers(&late).is_empty());
        assert_eq!(t.size(), (1, 1));
    }

    #[test]
    fn bounds_refuse_with_a_failure_reason() {
        let limits = TrackerLimits {
            max_torrents: 1,
            max_peers_per_torrent: 2,
            max_announces_per_minute: 4,
            ..TrackerLimits::default()
        };
        let mut t = Tracker::new(limits);
        t.announce(&announce(1, 1, 0, Event::Started), LOCAL, Millis(0));
        t.announce(&announce(2, 2, 0, Event::Started), LOCAL, Millis(0));
        let third = t.announce(&announce(3, 3, 0, Event::Started), LOCAL, Millis(0));
        assert_eq!(
            third,
            AnnounceReply::Failure("torrent full: too many peers".into())
        );
        let mut other = announce(4, 4, 0, Event::Started);
        other.info_hash = [8; 20];
        let refused = t.announce(&other, LOCAL, Millis(0));
        assert_eq!(
            refused,
            AnnounceReply::Failure("tracker full: too many torrents".into())
        );
        let fifth = t.announce(&announce(1, 1, 0, Event::None), LOCAL, Millis(0));
        assert!(matches!(fifth, AnnounceReply::Failure(f) if f.starts_with("too many announces")));
        let next_minute = t.announce(&announce(1, 1, 0, Event::None), LOCAL, Millis(60_000));
        assert_eq!(peers(&next_minute).len(), 1);
    }

    #[test]
    fn numwant_is_capped() {
        let limits = TrackerLimits {
            max_numwant: 3,
            ..TrackerLimits::default()
        };
        let mut t = Tracker::new(limits);
        for id in 1..=6 {
            t.announce(
                &announce(id, id.into(), 1, Event::Started),
                LOCAL,
                Millis(0),
            );
        }
        let mut asks_many = announce(9, 9, 1, Event::None);
        asks_many.numwant = Some(1000);
        assert_eq!(peers(&t.announce(&asks_many, LOCAL, Millis(0))).len(), 3);
    }
}
