//! Rarest first (the course: "Alice requests missing chunks from peers,
//! rarest first"): of the pieces a peer has and we lack, ask for the one
//! the fewest of our neighbours have, so rare pieces spread before the
//! peers holding them leave.
//!
//! [`Availability`] counts, per piece, how many neighbours have it; the
//! caller updates it from bitfield and have messages and when a neighbour
//! leaves. [`pick_rarest`] is a pure function over it.

use super::bitfield::Bitfield;

/// How many neighbours have each piece.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Availability {
    counts: Vec<u32>,
}

impl Availability {
    pub fn new(pieces: usize) -> Availability {
        Availability {
            counts: vec![0; pieces],
        }
    }

    /// A neighbour's bitfield arrived (or, with `-1`, the neighbour left).
    pub fn add_bitfield(&mut self, has: &Bitfield, sign: i32) {
        for i in has.iter() {
            self.add(i, sign);
        }
    }

    /// A neighbour announced piece `index` with a have message.
    pub fn add_have(&mut self, index: usize) {
        self.add(index, 1);
    }

    fn add(&mut self, index: usize, sign: i32) {
        if let Some(c) = self.counts.get_mut(index) {
            *c = c.saturating_add_signed(sign);
        }
    }

    /// How many neighbours have piece `index`.
    pub fn count(&self, index: usize) -> u32 {
        self.counts.get(index).copied().unwrap_or(0)
    }

    /// The rarest count among pieces some neighbour has, and which pieces
    /// have it: what the page shows as "the rarest piece".
    pub fn rarest(&self) -> Option<(u32, Vec<usize>)> {
        let min = self.counts.iter().copied().filter(|&c| c > 0).min()?;
        let which = (0..self.counts.len())
            .filter(|&i| self.counts[i] == min)
            .collect();
        Some((min, which))
    }
}

/// The piece to ask `peer_has`'s owner for: one we lack, not already
/// being fetched, that it has, and rarest among our neighbours. Ties go
/// to the `tiebreak`-th of the equally rare (modulo their number), so
/// peers given different seeds spread their requests.
pub fn pick_rarest(
    have: &Bitfield,
    in_flight: &Bitfield,
    peer_has: &Bitfield,
    availability: &Availability,
    tiebreak: u64,
) -> Option<usize> {
    let wanted = || {
        peer_has
            .iter()
            .filter(|&i| !have.has(i) && !in_flight.has(i))
    };
    let rarest = wanted().map(|i| availability.count(i)).min()?;
    let ties: Vec<usize> = wanted()
        .filter(|&i| availability.count(i) == rarest)
        .collect();
    ties.get((tiebreak % ties.len() as u64) as usize).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits(len: usize, set: &[usize]) -> Bitfield {
        let mut b = Bitfield::empty(len);
        set.iter().for_each(|&i| b.set(i));
        b
    }

    #[test]
    fn the_rarest_piece_the_peer_has_is_picked() {
        let mut avail = Availability::new(4);
        avail.add_bitfield(&bits(4, &[0, 1, 2, 3]), 1);
        avail.add_bitfield(&bits(4, &[0, 1, 2]), 1);
        avail.add_bitfield(&bits(4, &[0, 2]), 1);
        // Counts: 3, 2, 3, 1.
        let peer = bits(4, &[0, 1, 2, 3]);
        let none = Bitfield::empty(4);
        assert_eq!(pick_rarest(&none, &none, &peer, &avail, 0), Some(3));
        assert_eq!(
            pick_rarest(&bits(4, &[3]), &none, &peer, &avail, 0),
            Some(1)
        );
        assert_eq!(
            pick_rarest(&none, &bits(4, &[3, 1]), &peer, &avail, 0),
            Some(0)
        );
        assert_eq!(
            pick_rarest(&none, &bits(4, &[3, 1]), &peer, &avail, 1),
            Some(2)
        );
        assert_eq!(
            pick_rarest(&bits(4, &[0, 1, 2, 3]), &none, &peer, &avail, 0),
            None
        );
        assert_eq!(avail.rarest(), Some((1, vec![3])));
        avail.add_have(3);
        avail.add_bitfield(&bits(4, &[0, 1, 2, 3]), -1);
        assert_eq!(avail.rarest(), Some((1, vec![1, 3])));
    }

    #[test]
    fn a_peer_with_nothing_we_lack_gives_nothing() {
        let avail = Availability::new(3);
        let peer = bits(3, &[1]);
        assert_eq!(
            pick_rarest(&bits(3, &[1]), &Bitfield::empty(3), &peer, &avail, 7),
            None
        );
    }
}
