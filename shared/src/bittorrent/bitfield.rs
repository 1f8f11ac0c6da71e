//! Which pieces a peer has: one bit per piece, the first piece in the high
//! bit of the first byte, as the bitfield message carries it (BEP 3).

/// A set of piece indices below a fixed count.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bitfield {
    bytes: Vec<u8>,
    len: usize,
}

impl Bitfield {
    /// No pieces out of `len`.
    pub fn empty(len: usize) -> Bitfield {
        Bitfield {
            bytes: vec![0; len.div_ceil(8)],
            len,
        }
    }

    /// Every piece out of `len` (a seed).
    pub fn full(len: usize) -> Bitfield {
        let mut b = Bitfield::empty(len);
        (0..len).for_each(|i| b.set(i));
        b
    }

    /// Reads a bitfield message's payload for `len` pieces; `None` when it
    /// has the wrong length or sets a spare bit past the last piece (BEP 3:
    /// "Clients should drop the connection if they receive bitfields that
    /// are not of the correct size, or if the bitfield has any of the spare
    /// bits set").
    pub fn from_wire(payload: &[u8], len: usize) -> Option<Bitfield> {
        if payload.len() != len.div_ceil(8) {
            return None;
        }
        let b = Bitfield {
            bytes: payload.to_vec(),
            len,
        };
        let spare_clear = (len..payload.len() * 8).all(|i| !b.bit(i));
        spare_clear.then_some(b)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// How many pieces it counts (set or not).
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn bit(&self, index: usize) -> bool {
        self.bytes
            .get(index / 8)
            .is_some_and(|b| b & (0x80 >> (index % 8)) != 0)
    }

    /// Whether piece `index` is in the set (false past the end).
    pub fn has(&self, index: usize) -> bool {
        index < self.len && self.bit(index)
    }

    /// Adds piece `index`; nothing past the end.
    pub fn set(&mut self, index: usize) {
        if index < self.len {
            self.bytes[index / 8] |= 0x80 >> (index % 8);
        }
    }

    /// Removes piece `index`; nothing past the end.
    pub fn unset(&mut self, index: usize) {
        if index < self.len {
            self.bytes[index / 8] &= !(0x80 >> (index % 8));
        }
    }

    /// How many pieces are in the set.
    pub fn count(&self) -> usize {
        self.bytes.iter().map(|b| b.count_ones() as usize).sum()
    }

    /// Whether every piece is in the set.
    pub fn is_complete(&self) -> bool {
        self.count() == self.len
    }

    /// The indices in the set, in order.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.len).filter(|&i| self.bit(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_are_high_first_and_spare_bits_must_be_clear() {
        let mut b = Bitfield::empty(10);
        b.set(0);
        b.set(9);
        b.set(10);
        assert_eq!(b.as_bytes(), &[0x80, 0x40]);
        assert_eq!(b.iter().collect::<Vec<_>>(), vec![0, 9]);
        assert_eq!(Bitfield::from_wire(&[0x80, 0x40], 10), Some(b));
        assert_eq!(Bitfield::from_wire(&[0x80, 0x20], 10), None);
        assert_eq!(Bitfield::from_wire(&[0x80], 10), None);
        assert!(Bitfield::full(10).is_complete());
        assert_eq!(Bitfield::full(10).as_bytes(), &[0xff, 0xc0]);
    }
}
