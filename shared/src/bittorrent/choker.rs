//! Tit-for-tat as the course tells it: a peer uploads to the four
//! neighbours currently sending to it at the highest rate, re-evaluated
//! every 10 s, and every 30 s "optimistically unchokes" one more neighbour
//! chosen at random, which may then join the top four.
//!
//! [`Choker::tick`] is called with the time and each neighbour's rate and
//! interest; it re-evaluates whatever is due and says when it next needs
//! to be called. The randomness is a seeded generator, so a run replays.
//! A seed, which downloads nothing, passes the rates at which neighbours
//! download from it instead.

use crate::engine::Millis;

/// The schedule and the number of regular slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChokerConfig {
    pub regular_slots: usize,
    pub regular_every_ms: u64,
    pub optimistic_every_ms: u64,
}

impl Default for ChokerConfig {
    /// The course's numbers: top 4, every 10 s; an optimistic unchoke every 30 s.
    fn default() -> Self {
        ChokerConfig {
            regular_slots: 4,
            regular_every_ms: 10_000,
            optimistic_every_ms: 30_000,
        }
    }
}

/// One neighbour as the choker sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Neighbour {
    pub id: u32,
    /// Bytes per second it sends us (a seed: takes from us).
    pub rate: f64,
    /// Whether it wants pieces from us: only those are worth unchoking.
    pub interested: bool,
}

/// Who is unchoked, and why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unchoked {
    /// The regular slots, best rate first.
    pub top: Vec<u32>,
    /// The optimistic unchoke, never one of `top`.
    pub optimistic: Option<u32>,
}

impl Unchoked {
    /// Whether `id` is unchoked either way.
    pub fn contains(&self, id: u32) -> bool {
        self.top.contains(&id) || self.optimistic == Some(id)
    }
}

/// The choker of one peer.
#[derive(Debug, Clone)]
pub struct Choker {
    config: ChokerConfig,
    next_regular: Millis,
    next_optimistic: Millis,
    unchoked: Unchoked,
    rng: u64,
    /// Orders neighbours of equal rate.
    salt: u64,
}

impl Choker {
    /// A choker whose first evaluation is due at once.
    pub fn new(config: ChokerConfig, seed: u64) -> Choker {
        Choker {
            config,
            next_regular: Millis(0),
            next_optimistic: Millis(0),
            unchoked: Unchoked::default(),
            // xorshift needs a non-zero state.
            rng: seed | 1,
            salt: seed,
        }
    }

    pub fn unchoked(&self) -> &Unchoked {
        &self.unchoked
    }

    /// When [`Choker::tick`] next has something to do.
    pub fn next_deadline(&self) -> Millis {
        self.next_regular.min(self.next_optimistic)
    }

    /// Re-evaluates the top slots and the optimistic unchoke if due at
    /// `now`; returns whether anything was re-evaluated.
    pub fn tick(&mut self, now: Millis, neighbours: &[Neighbour]) -> bool {
        let regular_due = now >= self.next_regular;
        let optimistic_due = now >= self.next_optimistic;
        if regular_due {
            self.unchoked.top = top_by_rate(neighbours, self.config.regular_slots, self.salt);
            self.next_regular = now.saturating_add(self.config.regular_every_ms);
        }
        let optimistic_lost = self.unchoked.optimistic.is_some_and(|o| {
            self.unchoked.top.contains(&o) || !neighbours.iter().any(|n| n.id == o && n.interested)
        });
        if optimistic_due || optimistic_lost {
            self.unchoked.optimistic = self.random_choked(neighbours);
        }
        if optimistic_due {
            self.next_optimistic = now.saturating_add(self.config.optimistic_every_ms);
        }
        regular_due || optimistic_due
    }

    /// Between rounds, keeps the regular slots for *downloaders* (BEP 3):
    /// a neighbour that lost interest, finished or left gives its slot
    /// up at once, and a free slot goes at once to the best-rated
    /// interested neighbour still choked, instead of sitting idle until
    /// the next 10 s round. Returns whether the top changed.
    pub fn refill(&mut self, neighbours: &[Neighbour]) -> bool {
        let interested = |id: u32| neighbours.iter().any(|n| n.id == id && n.interested);
        let before = self.unchoked.top.clone();
        self.unchoked.top.retain(|&id| interested(id));
        let free = self
            .config
            .regular_slots
            .saturating_sub(self.unchoked.top.len());
        let waiting: Vec<Neighbour> = neighbours
            .iter()
            .filter(|n| !self.unchoked.contains(n.id))
            .copied()
            .collect();
        self.unchoked
            .top
            .extend(top_by_rate(&waiting, free, self.salt));
        if self.unchoked.optimistic.is_some_and(|o| !interested(o)) {
            self.unchoked.optimistic = self.random_choked(neighbours);
        }
        self.unchoked.top != before
    }

    /// A random interested neighbour outside the top slots.
    fn random_choked(&mut self, neighbours: &[Neighbour]) -> Option<u32> {
        let choked: Vec<u32> = neighbours
            .iter()
            .filter(|n| n.interested && !self.unchoked.top.contains(&n.id))
            .map(|n| n.id)
            .collect();
        if choked.is_empty() {
            return None;
        }
        let pick = (self.next_random() % choked.len() as u64) as usize;
        Some(choked[pick])
    }

    fn next_random(&mut self) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }
}

/// The `slots` interested neighbours with the best rates. Ties (at the
/// start every rate is 0) go by a per-peer scramble of the ids under
/// `salt`, reproducible, so the peers of a swarm do not all unchoke the
/// same lowest-numbered four and leave the rest waiting for a round.
fn top_by_rate(neighbours: &[Neighbour], slots: usize, salt: u64) -> Vec<u32> {
    let scramble = |id: u32| (u64::from(id) ^ salt).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mut interested: Vec<&Neighbour> = neighbours.iter().filter(|n| n.interested).collect();
    interested.sort_by(|a, b| {
        b.rate
            .total_cmp(&a.rate)
            .then(scramble(a.id).cmp(&scramble(b.id)))
    });
    interested.iter().take(slots).map(|n| n.id).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn neighbours(rates: &[f64]) -> Vec<Neighbour> {
        rates
            .iter()
            .enumerate()
            .map(|(i, &rate)| Neighbour {
                id: i as u32,
                rate,
                interested: true,
            })
            .collect()
    }

    #[test]
    fn the_four_best_uploaders_and_one_optimistic_unchoke() {
        let mut c = Choker::new(ChokerConfig::default(), 42);
        let n = neighbours(&[10.0, 50.0, 30.0, 0.0, 40.0, 20.0, 5.0]);
        assert!(c.tick(Millis(0), &n));
        assert_eq!(c.unchoked().top, vec![1, 4, 2, 5]);
        let optimistic = c.unchoked().optimistic.unwrap();
        assert!([0, 3, 6].contains(&optimistic));
        assert_eq!(c.next_deadline(), Millis(10_000));
    }

    #[test]
    fn top_four_every_10_s_optimistic_every_30_s() {
        let mut c = Choker::new(ChokerConfig::default(), 7);
        let mut n = neighbours(&[1.0, 2.0, 3.0, 4.0, 5.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
        c.tick(Millis(0), &n);
        let first = c.unchoked().clone();
        // Between deadlines nothing changes, whatever the rates do.
        n[0].rate = 100.0;
        assert!(!c.tick(Millis(9_999), &n));
        assert_eq!(c.unchoked(), &first);
        // At 10 s the top four follow the rates; the optimistic one stays
        // unless it joined them.
        assert!(c.tick(Millis(10_000), &n));
        assert_eq!(c.unchoked().top, vec![0, 4, 3, 2]);
        let mut optimistic_changes = 0;
        let mut last = c.unchoked().optimistic;
        for t in (20_000..=300_000).step_by(10_000) {
            c.tick(Millis(t), &n);
            if c.unchoked().optimistic != last {
                assert_eq!(t % 30_000, 0, "the optimistic unchoke moved at {t} ms");
                optimistic_changes += 1;
            }
            last = c.unchoked().optimistic;
        }
        assert!(optimistic_changes >= 3, "{optimistic_changes}");
    }

    #[test]
    fn an_optimistic_peer_that_joins_the_top_is_replaced() {
        let mut c = Choker::new(ChokerConfig::default(), 3);
        let mut n = neighbours(&[5.0, 5.0, 5.0, 5.0, 0.0, 0.0]);
        c.tick(Millis(0), &n);
        let o = c.unchoked().optimistic.unwrap();
        n[o as usize].rate = 50.0;
        c.tick(Millis(10_000), &n);
        assert_eq!(c.unchoked().top[0], o);
        assert!(c.unchoked().optimistic.is_some_and(|p| p != o));
        assert!(!c.unchoked().top.contains(&c.unchoked().optimistic.unwrap()));
    }

    #[test]
    fn a_free_slot_is_taken_at_once_and_a_full_top_waits() {
        let mut c = Choker::new(ChokerConfig::default(), 5);
        c.tick(Millis(0), &[]);
        let mut n = neighbours(&[1.0, 2.0, 3.0, 4.0]);
        assert!(c.refill(&n));
        assert_eq!(c.unchoked().top, vec![3, 2, 1, 0]);
        n.push(Neighbour {
            id: 9,
            rate: 99.0,
            interested: true,
        });
        assert!(!c.refill(&n));
        assert_eq!(c.unchoked().top, vec![3, 2, 1, 0]);
    }

    #[test]
    fn a_downloader_that_loses_interest_frees_its_slot_for_the_best_waiting() {
        let mut c = Choker::new(ChokerConfig::default(), 8);
        let mut n = neighbours(&[5.0, 6.0, 7.0, 8.0, 1.0, 3.0, 2.0]);
        c.tick(Millis(0), &n);
        assert_eq!(c.unchoked().top, vec![3, 2, 1, 0]);
        let optimistic = c.unchoked().optimistic.unwrap();
        n[2].interested = false;
        assert!(c.refill(&n));
        // Peer 2 is out; the best of the waiting (5, then 6, then 4) that
        // is not already the optimistic unchoke is in.
        let best_waiting = [5, 6, 4].into_iter().find(|&p| p != optimistic).unwrap();
        assert_eq!(c.unchoked().top, vec![3, 1, 0, best_waiting]);
        // One that leaves altogether frees its slot too.
        n.retain(|p| p.id != 3);
        assert!(c.refill(&n));
        assert!(!c.unchoked().top.contains(&3));
        assert_eq!(c.unchoked().top.len(), 4);
        // Nothing else moves until the next round.
        assert!(!c.refill(&n));
    }

    #[test]
    fn uninterested_neighbours_are_not_unchoked() {
        let mut c = Choker::new(ChokerConfig::default(), 1);
        let mut n = neighbours(&[9.0, 8.0]);
        n[0].interested = false;
        c.tick(Millis(0), &n);
        assert_eq!(c.unchoked().top, vec![1]);
        assert_eq!(c.unchoked().optimistic, None);
    }
}
