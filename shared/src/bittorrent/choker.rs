//! Tit-for-tat as the course tells it: a peer uploads to the four
//! neighbours currently sending to it at the highest rate, re-evaluated
//! every 10 s, and every 30 s "optimistically unchokes" one more neighbour
//! chosen at random, which may then join the top four.
//!
//! [`Choker::tick`] is called with the time and each neighbour's rate and
//! interest; it re-evaluates whatever is due and says when it next needs
//! to be called. The randomness is a seeded generator, so a run replays.
//!
//! A seed downloads nothing, so tit-for-tat has nothing to reward: it calls
//! [`Choker::tick_seeding`] instead, with the rates at which neighbours
//! download from it, and chokes in *seed mode*, as BitTorrent clients do
//! once they have the whole file (mainline's seed choker, libtorrent's
//! round-robin seed slots): its aim is to keep its upload busy and spread
//! it fairly. Each 10 s round keeps the slots of the neighbours it
//! uploads to fastest but one, and gives the last slot to the interested
//! neighbour that has waited longest (round robin); between rounds, every
//! [`ChokerConfig::seed_idle_ms`], a slot whose neighbour took nothing
//! (it has nothing left to ask of us, or asks elsewhere) goes to the
//! longest-waiting one, so u_s does not idle until the next round.

use crate::engine::Millis;
use std::collections::BTreeMap;

/// The schedule and the number of regular slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChokerConfig {
    pub regular_slots: usize,
    pub regular_every_ms: u64,
    pub optimistic_every_ms: u64,
    /// A seed's check for slots that took nothing since the last.
    pub seed_idle_ms: u64,
}

impl Default for ChokerConfig {
    /// The course's numbers: top 4, every 10 s; an optimistic unchoke every 30 s.
    fn default() -> Self {
        ChokerConfig {
            regular_slots: 4,
            regular_every_ms: 10_000,
            optimistic_every_ms: 30_000,
            seed_idle_ms: 1_000,
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

/// What last changed who is unchoked: a page's log names it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Decision {
    #[default]
    None,
    /// A leecher's round: the top four by rate (and, every 30 s, a new
    /// optimistic unchoke).
    Round,
    /// A slot freed by a neighbour that lost interest or left, or an empty
    /// one, filled at once.
    FreeSlot,
    /// A seed's round (or its first choice, the moment it completed).
    SeedRound,
    /// A seed's slot that took nothing for a check's time, rotated.
    SeedIdleSlot,
}

/// Who is unchoked, and why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unchoked {
    /// The regular slots, best rate first.
    pub top: Vec<u32>,
    /// The optimistic unchoke, never one of `top`.
    pub optimistic: Option<u32>,
    /// Whether `top` was chosen in seed mode (fastest takers and round
    /// robin) rather than by tit-for-tat.
    pub seed_mode: bool,
    /// What chose the slots last.
    pub decision: Decision,
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
    /// Seed mode: when it next looks for slots that took nothing.
    next_idle_check: Millis,
    /// Seed mode: when each neighbour last held a regular slot; the one
    /// that has waited longest (or never held one) is unchoked next.
    last_slot: BTreeMap<u32, Millis>,
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
            next_idle_check: Millis(0),
            last_slot: BTreeMap::new(),
        }
    }

    pub fn unchoked(&self) -> &Unchoked {
        &self.unchoked
    }

    /// When [`Choker::tick`] (or [`Choker::tick_seeding`]) next has
    /// something to do.
    pub fn next_deadline(&self) -> Millis {
        let rounds = self.next_regular.min(self.next_optimistic);
        if self.unchoked.seed_mode {
            rounds.min(self.next_idle_check)
        } else {
            rounds
        }
    }

    /// Re-evaluates the top slots and the optimistic unchoke if due at
    /// `now`; returns whether anything was re-evaluated.
    pub fn tick(&mut self, now: Millis, neighbours: &[Neighbour]) -> bool {
        let regular_due = now >= self.next_regular;
        let optimistic_due = now >= self.next_optimistic;
        if regular_due {
            self.unchoked.top = top_by_rate(neighbours, self.config.regular_slots, self.salt);
            self.unchoked.decision = Decision::Round;
            self.next_regular = now.saturating_add(self.config.regular_every_ms);
        }
        self.optimistic_round(now, neighbours, optimistic_due);
        regular_due || optimistic_due
    }

    /// The seed's [`Choker::tick`]: `rate` is what each neighbour took
    /// from us since the last call. Its first call (a leecher that just
    /// completed) chooses the slots in seed mode at once; the rounds keep
    /// their 10 s schedule.
    pub fn tick_seeding(&mut self, now: Millis, neighbours: &[Neighbour]) -> bool {
        let entering = !self.unchoked.seed_mode;
        self.unchoked.seed_mode = true;
        let regular_due = now >= self.next_regular;
        let idle_due = now >= self.next_idle_check;
        let optimistic_due = now >= self.next_optimistic;
        let before = self.unchoked.top.clone();
        if regular_due || entering {
            self.seed_round(now, neighbours);
            self.unchoked.decision = Decision::SeedRound;
            if regular_due {
                self.next_regular = now.saturating_add(self.config.regular_every_ms);
            }
        } else if idle_due {
            self.rotate_idle(now, neighbours);
            if self.unchoked.top != before {
                self.unchoked.decision = Decision::SeedIdleSlot;
            }
        }
        if regular_due || idle_due || entering {
            self.next_idle_check = now.saturating_add(self.config.seed_idle_ms);
        }
        self.optimistic_round(now, neighbours, optimistic_due);
        entering || regular_due || optimistic_due || self.unchoked.top != before
    }

    /// A seed's round: the fastest takers keep their slots, all but one;
    /// the rest go round robin to who has waited longest.
    fn seed_round(&mut self, now: Millis, neighbours: &[Neighbour]) {
        let takers: Vec<Neighbour> = neighbours
            .iter()
            .filter(|n| n.rate > 0.0)
            .copied()
            .collect();
        let kept = self.config.regular_slots.saturating_sub(1);
        let top = top_by_rate(&takers, kept, self.salt);
        self.set_top(now, top, neighbours);
    }

    /// Gives each slot whose neighbour took nothing since the last check
    /// to the interested neighbour that has waited longest, if any waits.
    fn rotate_idle(&mut self, now: Millis, neighbours: &[Neighbour]) {
        let took = |id: u32| neighbours.iter().any(|n| n.id == id && n.rate > 0.0);
        let waiting = self.longest_waiting(neighbours, usize::MAX).len();
        let mut idle = 0;
        let top: Vec<u32> = self
            .unchoked
            .top
            .iter()
            .copied()
            .filter(|&id| {
                let keep = took(id) || idle >= waiting;
                idle += usize::from(!keep);
                keep
            })
            .collect();
        self.set_top(now, top, neighbours);
    }

    /// Sets the top slots to `kept`, the free ones filled round robin,
    /// and notes who holds a slot now and who just lost one.
    fn set_top(&mut self, now: Millis, kept: Vec<u32>, neighbours: &[Neighbour]) {
        for id in &self.unchoked.top {
            self.last_slot.insert(*id, now);
        }
        self.unchoked.top = kept;
        let free = self
            .config
            .regular_slots
            .saturating_sub(self.unchoked.top.len());
        let next = self.longest_waiting(neighbours, free);
        self.unchoked.top.extend(next);
        self.last_slot
            .retain(|id, _| neighbours.iter().any(|n| n.id == *id));
    }

    /// Up to `count` interested neighbours outside the slots, those that
    /// never held one first, then who lost theirs longest ago.
    fn longest_waiting(&self, neighbours: &[Neighbour], count: usize) -> Vec<u32> {
        let scramble = |id: u32| (u64::from(id) ^ self.salt).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let mut waiting: Vec<u32> = neighbours
            .iter()
            .filter(|n| n.interested && !self.unchoked.top.contains(&n.id))
            .map(|n| n.id)
            .collect();
        waiting.sort_by_key(|id| (self.last_slot.get(id).copied(), scramble(*id)));
        waiting.truncate(count);
        waiting
    }

    /// The optimistic unchoke: a new one when due, and at once when it
    /// joined the top, lost interest, left, or there was none.
    fn optimistic_round(&mut self, now: Millis, neighbours: &[Neighbour], due: bool) {
        let optimistic_lost = self.unchoked.optimistic.is_some_and(|o| {
            self.unchoked.top.contains(&o) || !neighbours.iter().any(|n| n.id == o && n.interested)
        });
        if due || optimistic_lost {
            self.unchoked.optimistic = self.random_choked(neighbours);
        }
        if due {
            self.next_optimistic = now.saturating_add(self.config.optimistic_every_ms);
        }
    }

    /// Between rounds, keeps the regular slots for *downloaders* (BEP 3):
    /// a neighbour that lost interest, finished or left gives its slot
    /// up at once, and a free slot goes at once to the best-rated
    /// interested neighbour still choked (in seed mode: the one that has
    /// waited longest), instead of sitting idle until the next 10 s
    /// round; so does an empty optimistic slot. Returns whether the top
    /// changed.
    pub fn refill(&mut self, neighbours: &[Neighbour]) -> bool {
        let interested = |id: u32| neighbours.iter().any(|n| n.id == id && n.interested);
        let before = self.unchoked.top.clone();
        self.unchoked.top.retain(|&id| interested(id));
        let free = self
            .config
            .regular_slots
            .saturating_sub(self.unchoked.top.len());
        let next = if self.unchoked.seed_mode {
            self.longest_waiting(neighbours, free)
        } else {
            let waiting: Vec<Neighbour> = neighbours
                .iter()
                .filter(|n| !self.unchoked.contains(n.id))
                .copied()
                .collect();
            top_by_rate(&waiting, free, self.salt)
        };
        self.unchoked.top.extend(next);
        let lost = |o: u32| !interested(o) || self.unchoked.top.contains(&o);
        let optimistic = self.unchoked.optimistic;
        if optimistic.is_none_or(lost) {
            self.unchoked.optimistic = self.random_choked(neighbours);
        }
        if self.unchoked.top != before || self.unchoked.optimistic != optimistic {
            self.unchoked.decision = Decision::FreeSlot;
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
        // A leecher's choker has no business between its rounds.
        assert_eq!(c.next_deadline(), Millis(20_000));
        assert!(!c.unchoked().seed_mode);
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

    #[test]
    fn a_seed_keeps_its_three_fastest_takers_and_rotates_the_fourth_slot() {
        let mut c = Choker::new(ChokerConfig::default(), 4);
        let n = neighbours(&[50.0, 40.0, 30.0, 20.0, 10.0, 0.0, 0.0]);
        assert!(c.tick_seeding(Millis(0), &n));
        assert!(c.unchoked().seed_mode);
        let mut fourth = Vec::new();
        for round in 0..4 {
            if round > 0 {
                assert!(c.tick_seeding(Millis(round * 10_000), &n));
            }
            let top = &c.unchoked().top;
            assert_eq!(top[..3], [0, 1, 2], "round {round}: {top:?}");
            fourth.push(top[3]);
        }
        // Round robin: each of the others has the slot once before any
        // has it twice, the fastest of them (3, at 20) no more than the
        // idle ones.
        fourth.sort_unstable();
        assert_eq!(fourth, vec![3, 4, 5, 6]);
    }

    #[test]
    fn a_seeds_slot_that_took_nothing_goes_to_the_longest_waiting_within_a_second() {
        let mut c = Choker::new(ChokerConfig::default(), 9);
        let mut n = neighbours(&[0.0; 8]);
        c.tick_seeding(Millis(0), &n);
        assert_eq!(c.next_deadline(), Millis(1_000));
        let first = c.unchoked().top.clone();
        assert_eq!(first.len(), 4);
        for id in &first[..3] {
            n[*id as usize].rate = 100.0;
        }
        // Nothing happens before the check is due.
        assert!(!c.tick_seeding(Millis(999), &n));
        assert_eq!(c.unchoked().top, first);
        assert!(c.tick_seeding(Millis(1_000), &n));
        assert_eq!(c.unchoked().decision, Decision::SeedIdleSlot);
        let top = c.unchoked().top.clone();
        assert_eq!(top[..3], first[..3]);
        assert!(!first.contains(&top[3]), "{first:?} then {top:?}");
        // The idle one waits behind every other neighbour: the next idle
        // slots go to the rest first.
        for id in &top[..3] {
            n[*id as usize].rate = 0.0;
        }
        n[top[3] as usize].rate = 100.0;
        c.tick_seeding(Millis(2_000), &n);
        let third = &c.unchoked().top;
        assert_eq!(third[0], top[3]);
        assert!(!third.contains(&first[3]), "{third:?}");
        assert_eq!(c.next_deadline(), Millis(3_000));
    }

    #[test]
    fn a_seed_keeps_an_idle_slot_when_nobody_waits_for_it() {
        let mut c = Choker::new(ChokerConfig::default(), 2);
        let n = neighbours(&[0.0; 4]);
        c.tick_seeding(Millis(0), &n);
        let first = c.unchoked().top.clone();
        assert!(!c.tick_seeding(Millis(1_000), &n));
        assert_eq!(c.unchoked().top, first);
        assert_eq!(c.unchoked().optimistic, None);
    }

    #[test]
    fn a_seeds_free_slot_goes_to_the_longest_waiting() {
        let mut c = Choker::new(ChokerConfig::default(), 6);
        let mut n = neighbours(&[0.0; 6]);
        c.tick_seeding(Millis(0), &n);
        let first = c.unchoked().top.clone();
        let out = first[0];
        n[out as usize].interested = false;
        assert!(c.refill(&n));
        let top = &c.unchoked().top;
        assert!(!top.contains(&out));
        assert_eq!(top.len(), 4);
    }

    #[test]
    fn a_leecher_turned_seed_chooses_at_once_and_keeps_the_10_s_rounds() {
        let mut c = Choker::new(ChokerConfig::default(), 12);
        let n = neighbours(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        c.tick(Millis(0), &n);
        assert_eq!(c.unchoked().decision, Decision::Round);
        assert!(c.tick_seeding(Millis(3_500), &n));
        assert!(c.unchoked().seed_mode);
        assert_eq!(c.unchoked().decision, Decision::SeedRound);
        assert_eq!(c.next_deadline(), Millis(4_500));
        for t in (4_500..10_000).step_by(1_000) {
            c.tick_seeding(Millis(t), &n);
        }
        assert_eq!(c.next_deadline(), Millis(10_000));
    }
}
