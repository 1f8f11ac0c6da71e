//! The course's circular DHT: identifiers of `bits` bits on a ring, each key
//! stored at its immediate successor (the first peer at or after it, going
//! round), each peer knowing its two successors, and optional shortcuts.
//!
//! A lookup is counted as the course counts it: the query goes from peer to
//! peer until it reaches the peer whose immediate successor is responsible
//! for the key (that peer knows the answer and replies to whoever asked).
//! For the slides' ring (peers 1 3 4 5 8 10 12 14) and key 1110 asked at
//! peer 1 that is 6 query messages along the successors (1 → 3 → 4 → 5 → 8
//! → 10 → 12), and 2 with shortcuts (1 → 10 → 12).
//!
//! The shortcuts are Chord's finger table (peer p points at the successors
//! of p + 1, p + 2, p + 4, ..., p + 2^(bits−1)), so a lookup takes
//! O(log N) messages; the slides only say "possible to design shortcuts so
//! O(log N) neighbors, O(log N) messages", and this is the design that does.
//!
//! Churn follows the slides: a peer that leaves is noticed by the peers that
//! had it as a successor, which move up their second successor and ask it
//! for its successor; a peer that joins asks for its own successor with a
//! lookup, and its predecessor takes it as its new successor.

use std::collections::BTreeSet;

/// The largest identifier size the page offers (a ring of 256 places).
pub const MAX_BITS: u8 = 8;

/// A ring of peers on identifiers `0 .. 2^bits`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ring {
    bits: u8,
    peers: BTreeSet<u16>,
}

/// Why a ring change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RingError {
    #[error("identifiers have {bits} bits: {id} is not between 0 and {max}")]
    OutOfRange { id: u16, bits: u8, max: u16 },
    #[error("peer {0} is already in the ring")]
    AlreadyIn(u16),
    #[error("peer {0} is not in the ring")]
    NotIn(u16),
    #[error("the last peer cannot leave: a ring needs one peer to hold the keys")]
    LastPeer,
}

/// One lookup: the query's way round the ring, and the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    pub key: u16,
    /// The peers the query visited, the asking peer first: each step to the
    /// next is one query message.
    pub path: Vec<u16>,
    /// The peer responsible for the key (its immediate successor).
    pub responsible: u16,
}

impl Lookup {
    /// Query messages sent (the reply to the asking peer not counted).
    pub fn messages(&self) -> usize {
        self.path.len().saturating_sub(1)
    }
}

/// One step of a churn repair, as a sentence for the page and its messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repair {
    pub peer: u16,
    pub what: String,
}

impl Ring {
    /// The slides' ring: n = 4, peers 1 3 4 5 8 10 12 14.
    pub fn course() -> Ring {
        Ring::new(4, [1, 3, 4, 5, 8, 10, 12, 14]).expect("the course's ring is valid")
    }

    /// The ring in the slides' figure, which shows a peer 15 (1111) where
    /// the text has 14: key 1110 then belongs to 15, and the message counts
    /// are the same.
    pub fn course_figure() -> Ring {
        Ring::new(4, [1, 3, 4, 5, 8, 10, 12, 15]).expect("the figure's ring is valid")
    }

    /// A ring of `bits`-bit identifiers (1 to [`MAX_BITS`]) with `peers`.
    pub fn new(bits: u8, peers: impl IntoIterator<Item = u16>) -> Result<Ring, RingError> {
        let bits = bits.clamp(1, MAX_BITS);
        let mut ring = Ring {
            bits,
            peers: BTreeSet::new(),
        };
        for p in peers {
            ring.check_range(p)?;
            if !ring.peers.insert(p) {
                return Err(RingError::AlreadyIn(p));
            }
        }
        if ring.peers.is_empty() {
            return Err(RingError::LastPeer);
        }
        Ok(ring)
    }

    pub fn bits(&self) -> u8 {
        self.bits
    }

    /// How many identifiers the ring has: 2^bits.
    pub fn size(&self) -> u16 {
        1 << self.bits
    }

    pub fn peers(&self) -> impl Iterator<Item = u16> + '_ {
        self.peers.iter().copied()
    }

    pub fn contains(&self, peer: u16) -> bool {
        self.peers.contains(&peer)
    }

    fn check_range(&self, id: u16) -> Result<(), RingError> {
        let max = self.size() - 1;
        if id > max {
            return Err(RingError::OutOfRange {
                id,
                bits: self.bits,
                max,
            });
        }
        Ok(())
    }

    /// The first peer at or after `id`, going round: who holds key `id`.
    pub fn successor_of(&self, id: u16) -> u16 {
        let id = id % self.size();
        self.peers
            .range(id..)
            .next()
            .or_else(|| self.peers.iter().next())
            .copied()
            .expect("a ring has a peer")
    }

    /// A peer's immediate successor (the next peer after it).
    pub fn next_peer(&self, peer: u16) -> u16 {
        self.successor_of((peer + 1) % self.size())
    }

    /// A peer's two successors, as each peer keeps them against churn.
    pub fn successors(&self, peer: u16) -> [u16; 2] {
        let first = self.next_peer(peer);
        [first, self.next_peer(first)]
    }

    /// Chord's shortcuts of `peer`: the successors of peer + 2^i, each once,
    /// its immediate successor excluded.
    pub fn shortcuts(&self, peer: u16) -> Vec<u16> {
        let next = self.next_peer(peer);
        let mut out: Vec<u16> = (0..self.bits)
            .map(|i| self.successor_of((peer + (1 << i)) % self.size()))
            .filter(|&p| p != peer && p != next)
            .collect();
        out.dedup();
        out
    }

    /// Clockwise distance from `a` to `b`.
    fn distance(&self, a: u16, b: u16) -> u16 {
        (b + self.size() - a) % self.size()
    }

    /// Whether `key` is in the ring interval (a, b].
    fn between(&self, key: u16, a: u16, b: u16) -> bool {
        let d = self.distance(a, key);
        d != 0 && d <= self.distance(a, b) || a == b
    }

    /// Who holds `key`, asked at `from`: along successors only, or using
    /// shortcuts too.
    pub fn lookup(&self, from: u16, key: u16, shortcuts: bool) -> Result<Lookup, RingError> {
        if !self.contains(from) {
            return Err(RingError::NotIn(from));
        }
        self.check_range(key)?;
        let responsible = self.successor_of(key);
        let mut path = vec![from];
        let mut at = from;
        // The asking peer holds the key itself, or its successor does.
        while at != responsible && !self.between(key, at, self.next_peer(at)) {
            at = self.next_hop(at, key, shortcuts);
            path.push(at);
            if path.len() > self.peers.len() + 1 {
                break; // cannot happen on a consistent ring; never loop
            }
        }
        Ok(Lookup {
            key,
            path,
            responsible,
        })
    }

    /// Where `at` forwards a query for `key`: its successor, or the known
    /// peer that gets closest to the key without passing it.
    fn next_hop(&self, at: u16, key: u16, shortcuts: bool) -> u16 {
        let next = self.next_peer(at);
        if !shortcuts {
            return next;
        }
        let target = self.distance(at, key);
        self.shortcuts(at)
            .into_iter()
            .chain([next])
            .filter(|&p| self.distance(at, p) < target)
            .max_by_key(|&p| self.distance(at, p))
            .unwrap_or(next)
    }

    /// Peer `peer` leaves abruptly: the ring without it, and what the peers
    /// that knew it do to repair their two successors.
    pub fn leave(&mut self, peer: u16) -> Result<Vec<Repair>, RingError> {
        if !self.contains(peer) {
            return Err(RingError::NotIn(peer));
        }
        if self.peers.len() == 1 {
            return Err(RingError::LastPeer);
        }
        let knew: Vec<(u16, [u16; 2])> = self
            .peers()
            .filter(|&p| p != peer && self.successors(p).contains(&peer))
            .map(|p| (p, self.successors(p)))
            .collect();
        self.peers.remove(&peer);
        Ok(knew
            .into_iter()
            .map(|(p, [first, _])| {
                let [now_first, now_second] = self.successors(p);
                let what = if first == peer {
                    format!(
                        "peer {p} notices {peer} is gone (no answer to its pings); makes its \
                         second successor {now_first} its immediate successor; asks {now_first} \
                         for its successor and makes {now_second} its second"
                    )
                } else {
                    format!(
                        "peer {p} notices its second successor {peer} is gone; asks {now_first} \
                         for its successor and makes {now_second} its second"
                    )
                };
                Repair { peer: p, what }
            })
            .collect())
    }

    /// Peer `peer` joins: it finds its successor with a lookup (asked at
    /// `via`), and the peers before it take it into their successors.
    pub fn join(&mut self, peer: u16, via: u16) -> Result<(Lookup, Vec<Repair>), RingError> {
        self.check_range(peer)?;
        if self.contains(peer) {
            return Err(RingError::AlreadyIn(peer));
        }
        let found = self.lookup(via, peer, false)?;
        let before: Vec<(u16, [u16; 2])> = self.peers().map(|p| (p, self.successors(p))).collect();
        self.peers.insert(peer);
        let [first, second] = self.successors(peer);
        let mut repairs = vec![Repair {
            peer,
            what: format!(
                "peer {peer} asks {via} who holds key {peer}: {first}, which becomes its immediate \
                 successor; {first}'s successor {second} becomes its second"
            ),
        }];
        for (p, old) in before {
            let new = self.successors(p);
            if new != old {
                repairs.push(Repair {
                    peer: p,
                    what: format!(
                        "peer {p} learns of {peer}: its successors go from {} and {} to {} and {}",
                        old[0], old[1], new[0], new[1]
                    ),
                });
            }
        }
        Ok((found, repairs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_go_to_their_immediate_successor_as_the_slides_say() {
        let ring = Ring::course();
        assert_eq!(ring.successor_of(13), 14);
        assert_eq!(ring.successor_of(15), 1);
        assert_eq!(ring.successor_of(14), 14);
        assert_eq!(ring.successor_of(0), 1);
        assert_eq!(ring.successor_of(6), 8);
    }

    #[test]
    fn the_slides_query_takes_six_messages_and_two_with_shortcuts() {
        for ring in [Ring::course(), Ring::course_figure()] {
            let plain = ring.lookup(1, 0b1110, false).unwrap();
            assert_eq!(plain.path, [1, 3, 4, 5, 8, 10, 12]);
            assert_eq!(plain.messages(), 6);
            let short = ring.lookup(1, 0b1110, true).unwrap();
            assert_eq!(short.path, [1, 10, 12]);
            assert_eq!(short.messages(), 2);
            assert_eq!(short.responsible, plain.responsible);
        }
        assert_eq!(Ring::course().lookup(1, 14, false).unwrap().responsible, 14);
        assert_eq!(
            Ring::course_figure()
                .lookup(1, 14, false)
                .unwrap()
                .responsible,
            15
        );
    }

    #[test]
    fn a_peer_that_holds_the_key_or_whose_successor_does_sends_nothing() {
        let ring = Ring::course();
        assert_eq!(ring.lookup(4, 4, true).unwrap().messages(), 0);
        assert_eq!(ring.lookup(4, 5, false).unwrap().messages(), 0);
        // Key 15 wraps round to peer 1.
        let wrap = ring.lookup(12, 15, false).unwrap();
        assert_eq!(wrap.path, [12, 14]);
        assert_eq!(wrap.responsible, 1);
    }

    #[test]
    fn every_lookup_finds_the_successor_and_shortcuts_never_cost_more() {
        let ring = Ring::new(6, [2, 7, 11, 19, 23, 31, 40, 41, 52, 60, 63]).unwrap();
        for from in ring.peers() {
            for key in 0..ring.size() {
                let plain = ring.lookup(from, key, false).unwrap();
                let short = ring.lookup(from, key, true).unwrap();
                assert_eq!(plain.responsible, ring.successor_of(key));
                assert_eq!(short.responsible, plain.responsible);
                assert!(short.messages() <= plain.messages(), "{from} {key}");
                assert!(short.messages() <= 2 * ring.bits() as usize);
            }
        }
    }

    #[test]
    fn peer_5_leaves_and_4_repairs_as_the_slides_say() {
        let mut ring = Ring::course();
        assert_eq!(ring.successors(4), [5, 8]);
        let repairs = ring.leave(5).unwrap();
        assert_eq!(ring.successors(4), [8, 10]);
        assert_eq!(ring.successors(3), [4, 8]);
        let four = repairs.iter().find(|r| r.peer == 4).unwrap();
        assert!(
            four.what
                .contains("makes its second successor 8 its immediate")
        );
        assert!(four.what.contains("makes 10 its second"));
        assert_eq!(repairs.len(), 2, "{repairs:?}");
    }

    #[test]
    fn peer_13_joins_between_12_and_14() {
        let mut ring = Ring::course();
        let (found, repairs) = ring.join(13, 1).unwrap();
        assert_eq!(found.responsible, 14);
        assert_eq!(ring.successors(13), [14, 1]);
        assert_eq!(ring.successors(12), [13, 14]);
        assert_eq!(ring.successors(10), [12, 13]);
        assert_eq!(repairs.len(), 3, "{repairs:?}");
        assert_eq!(ring.successor_of(13), 13);
    }

    #[test]
    fn bad_changes_are_refused_with_a_reason() {
        let mut ring = Ring::course();
        assert_eq!(ring.join(3, 1), Err(RingError::AlreadyIn(3)));
        assert!(matches!(
            ring.join(16, 1),
            Err(RingError::OutOfRange { id: 16, .. })
        ));
        assert_eq!(ring.leave(2), Err(RingError::NotIn(2)));
        assert_eq!(ring.lookup(2, 5, false), Err(RingError::NotIn(2)));
        let mut one = Ring::new(4, [7]).unwrap();
        assert_eq!(one.leave(7), Err(RingError::LastPeer));
        assert_eq!(one.lookup(7, 3, true).unwrap().messages(), 0);
    }
}
