//! Gnutella's query flooding on a generated overlay, and KaZaA's
//! supernodes as a variant of the same overlay.
//!
//! The overlay is generated from a seed, so a page, a test and a student's
//! notes all see the same network: peers join one at a time through a peer
//! already in (the bootstrapping step), then more edges are added at random,
//! no peer having more than `max_neighbors`.
//!
//! Flooding follows the textbook (§2.6 of the older editions): Alice sends
//! the query to each neighbour with a node count of K; a peer that receives
//! it decrements the count and, if something is left, forwards it to every
//! neighbour but the one it came from. A peer forwards a query only the
//! first time it sees it (Gnutella remembers a query's id), so the messages
//! sent stay under problem P18's bound, Σ N(N−1)^i for i < K, which counts
//! every path as if the overlay were a tree.

/// Most peers a generated overlay has (the page draws them all).
pub const MAX_PEERS: usize = 200;

/// A small deterministic generator (SplitMix64): the same seed gives the
/// same overlay on every machine, without a dependency.
#[derive(Debug, Clone)]
pub struct Seeded(u64);

impl Seeded {
    pub fn new(seed: u64) -> Seeded {
        Seeded(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// An unstructured overlay: who is whose neighbour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overlay {
    neighbors: Vec<Vec<usize>>,
    max_neighbors: usize,
}

impl Overlay {
    /// `peers` peers (2 to [`MAX_PEERS`]), each with at most
    /// `max_neighbors` (at least 2) neighbours, connected.
    pub fn generate(peers: usize, max_neighbors: usize, seed: u64) -> Overlay {
        let peers = peers.clamp(2, MAX_PEERS);
        let max_neighbors = max_neighbors.max(2);
        let mut rng = Seeded::new(seed);
        let mut overlay = Overlay {
            neighbors: vec![Vec::new(); peers],
            max_neighbors,
        };
        // Each newcomer is given one peer already in that has room.
        for newcomer in 1..peers {
            let open: Vec<usize> = (0..newcomer).filter(|&p| overlay.has_room(p)).collect();
            let contact = open[rng.below(open.len())];
            overlay.link(newcomer, contact);
        }
        // Then more edges, as peers learn of others, until degrees fill up.
        for _ in 0..peers * max_neighbors {
            let (a, b) = (rng.below(peers), rng.below(peers));
            if a != b && overlay.has_room(a) && overlay.has_room(b) && !overlay.linked(a, b) {
                overlay.link(a, b);
            }
        }
        overlay
    }

    fn has_room(&self, p: usize) -> bool {
        self.neighbors[p].len() < self.max_neighbors
    }

    fn linked(&self, a: usize, b: usize) -> bool {
        self.neighbors[a].contains(&b)
    }

    fn link(&mut self, a: usize, b: usize) {
        self.neighbors[a].push(b);
        self.neighbors[b].push(a);
    }

    pub fn len(&self) -> usize {
        self.neighbors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.neighbors.is_empty()
    }

    pub fn max_neighbors(&self) -> usize {
        self.max_neighbors
    }

    pub fn neighbors(&self, peer: usize) -> &[usize] {
        &self.neighbors[peer]
    }

    /// Every edge once, the smaller peer first.
    pub fn edges(&self) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        for (a, ns) in self.neighbors.iter().enumerate() {
            out.extend(ns.iter().filter(|&&b| a < b).map(|&b| (a, b)));
        }
        out
    }

    /// Floods a query from `from` with a node count of `ttl`.
    pub fn flood(&self, from: usize, ttl: u32) -> Flood {
        let mut first_hop = vec![None; self.len()];
        first_hop[from.min(self.len() - 1)] = Some(0);
        let mut per_hop = Vec::new();
        // (peer, the peer it came from, the count it carries)
        let mut frontier = vec![(from, usize::MAX, ttl)];
        while !frontier.is_empty() {
            let mut sent = 0;
            let mut next = Vec::new();
            for (peer, came_from, count) in frontier {
                if count == 0 {
                    continue;
                }
                for &n in self.neighbors(peer).iter().filter(|&&n| n != came_from) {
                    sent += 1;
                    if first_hop[n].is_none() {
                        first_hop[n] = Some(per_hop.len() as u32 + 1);
                        // Decremented on arrival; forwarded only if some is left.
                        next.push((n, peer, count - 1));
                    }
                }
            }
            if sent == 0 {
                break;
            }
            per_hop.push(sent);
            frontier = next;
        }
        Flood {
            from,
            ttl,
            per_hop,
            first_hop,
        }
    }
}

/// What one flooded query did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flood {
    pub from: usize,
    pub ttl: u32,
    /// Query messages sent at each hop (hop 1 first).
    pub per_hop: Vec<u64>,
    /// For each peer, the hop at which the query first reached it.
    pub first_hop: Vec<Option<u32>>,
}

impl Flood {
    pub fn messages(&self) -> u64 {
        self.per_hop.iter().sum()
    }

    /// Peers the query reached, the asking one not counted.
    pub fn reached(&self) -> usize {
        self.first_hop.iter().flatten().filter(|&&h| h > 0).count()
    }
}

/// Problem P18's bound on the query messages with at most `neighbors`
/// neighbours per peer and a node count of `ttl`: Σ N(N−1)^i for i < K.
pub fn p18_bound(neighbors: u64, ttl: u32) -> u64 {
    let mut total: u64 = 0;
    let mut term = neighbors;
    for _ in 0..ttl {
        total = total.saturating_add(term);
        term = term.saturating_mul(neighbors.saturating_sub(1));
    }
    total
}

/// KaZaA's two tiers: every ordinary peer attached to one supernode (its
/// group leader, which indexes the group's content), the supernodes an
/// overlay of their own that queries flood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Supernodes {
    /// The leaders' overlay (leader `i` is supernode number `i`).
    pub leaders: Overlay,
    /// For each ordinary peer, its leader.
    pub leader_of: Vec<usize>,
}

/// One query in the two-tier overlay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TieredQuery {
    /// The query to the asker's own leader (1), then the leaders' flood.
    pub messages: u64,
    /// Peers whose content the reached leaders index (the asker's group
    /// included).
    pub peers_covered: usize,
}

impl Supernodes {
    /// `peers` ordinary peers spread over `leaders` supernodes.
    pub fn generate(peers: usize, leaders: usize, max_neighbors: usize, seed: u64) -> Supernodes {
        let leaders = leaders.clamp(2, MAX_PEERS);
        let overlay = Overlay::generate(leaders, max_neighbors, seed);
        let mut rng = Seeded::new(seed ^ 0x5EED);
        let leader_of = (0..peers.min(MAX_PEERS * 10))
            .map(|_| rng.below(leaders))
            .collect();
        Supernodes {
            leaders: overlay,
            leader_of,
        }
    }

    /// Ordinary peer `peer` asks with a node count of `ttl` among leaders.
    pub fn query(&self, peer: usize, ttl: u32) -> TieredQuery {
        let own = self.leader_of.get(peer).copied().unwrap_or(0);
        let flood = self.leaders.flood(own, ttl);
        let covered = self
            .leader_of
            .iter()
            .filter(|&&l| flood.first_hop[l].is_some())
            .count();
        TieredQuery {
            messages: 1 + flood.messages(),
            peers_covered: covered,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_p18_bound_is_the_textbooks_sum() {
        // N = 4, K = 3: 4 + 4·3 + 4·9 = 52.
        assert_eq!(p18_bound(4, 3), 52);
        assert_eq!(p18_bound(4, 1), 4);
        assert_eq!(p18_bound(4, 0), 0);
        assert_eq!(p18_bound(2, 7), 14);
        assert_eq!(p18_bound(u64::MAX, 9), u64::MAX);
    }

    #[test]
    fn the_same_seed_gives_the_same_connected_overlay() {
        let a = Overlay::generate(60, 4, 7);
        assert_eq!(a, Overlay::generate(60, 4, 7));
        assert_ne!(a, Overlay::generate(60, 4, 8));
        for p in 0..a.len() {
            assert!(a.neighbors(p).len() <= 4);
            assert!(!a.neighbors(p).is_empty());
        }
        // Connected: a flood with a count as large as the overlay reaches all.
        assert_eq!(a.flood(0, 60).reached(), 59);
    }

    #[test]
    fn flooding_stays_under_the_bound_and_grows_with_the_count() {
        let overlay = Overlay::generate(120, 4, 42);
        let mut last_reached = 0;
        for ttl in 1..=7 {
            let flood = overlay.flood(3, ttl);
            assert!(flood.messages() <= p18_bound(4, ttl), "ttl {ttl}");
            assert!(flood.per_hop.len() <= ttl as usize);
            for (hop, &sent) in flood.per_hop.iter().enumerate() {
                assert!(sent <= 4 * 3u64.pow(hop as u32), "hop {hop}");
            }
            assert!(flood.reached() >= last_reached);
            last_reached = flood.reached();
        }
        // A count of 1: Alice's neighbours hear it and forward nothing.
        let one = overlay.flood(3, 1);
        assert_eq!(one.messages(), overlay.neighbors(3).len() as u64);
        assert_eq!(one.reached(), overlay.neighbors(3).len());
    }

    #[test]
    fn a_chain_floods_one_message_a_hop() {
        // With at most 2 neighbours the overlay has no branch to spend on.
        let chain = Overlay::generate(10, 2, 1);
        let flood = chain.flood(0, 3);
        assert!(flood.messages() <= p18_bound(2, 3));
        assert_eq!(Overlay::generate(1, 1, 1).len(), 2);
    }

    #[test]
    fn supernodes_cover_more_peers_for_fewer_messages() {
        let tiers = Supernodes::generate(200, 20, 4, 9);
        let flat = Overlay::generate(200, 4, 9);
        let tiered = tiers.query(0, 2);
        let flooded = flat.flood(0, 2);
        assert!(tiered.peers_covered > flooded.reached(), "{tiered:?}");
        assert!(tiered.messages <= 1 + p18_bound(4, 2));
    }
}
