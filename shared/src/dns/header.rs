//! The 12-byte header (RFC 1035 §4.1.1, with AD and CD from RFC 4035
//! §3.2): ID, the flags word and the four counts.
//!
//! [`FLAG_BITS`] describes each field of the flags word with its bit
//! positions, so the dissector can show every flag as its own field and
//! the page can toggle single bits.

use super::types::{Opcode, Rcode};

/// Length of the header on the wire.
pub const HEADER_LEN: usize = 12;

/// The header of a message. The counts are the ones on the wire; when a
/// [`super::Message`] is encoded they are recomputed from its sections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Header {
    pub id: u16,
    /// 0 = query, 1 = response.
    pub qr: bool,
    pub opcode: u8,
    /// Authoritative answer.
    pub aa: bool,
    /// Truncated: the message did not fit (retry over TCP).
    pub tc: bool,
    /// Recursion desired.
    pub rd: bool,
    /// Recursion available.
    pub ra: bool,
    /// Reserved, must be zero.
    pub z: bool,
    /// Authentic data (DNSSEC).
    pub ad: bool,
    /// Checking disabled (DNSSEC).
    pub cd: bool,
    /// The low 4 bits of the response code.
    pub rcode: u8,
    pub qdcount: u16,
    pub ancount: u16,
    pub nscount: u16,
    pub arcount: u16,
}

/// One field of the flags word: its name, its bits and what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlagBits {
    pub name: &'static str,
    /// Short label: "QR", "Opcode".
    pub short: &'static str,
    /// Bit positions in RFC numbering: bit 0 is the most significant bit of
    /// the 16-bit flags word (bit 16 of the header counting from the ID).
    pub first_bit: u8,
    pub width: u8,
    pub help: &'static str,
}

impl FlagBits {
    /// The mask of this field in the 16-bit flags word.
    pub fn mask(&self) -> u16 {
        let ones = ((1u32 << self.width) - 1) as u16;
        ones << (16 - self.first_bit - self.width)
    }

    /// The field's value in `flags`.
    pub fn get(&self, flags: u16) -> u16 {
        (flags & self.mask()) >> (16 - self.first_bit - self.width)
    }

    /// `flags` with this field set to `value` (extra bits dropped).
    pub fn set(&self, flags: u16, value: u16) -> u16 {
        let shifted = (value << (16 - self.first_bit - self.width)) & self.mask();
        (flags & !self.mask()) | shifted
    }

    /// Wireshark's picture of the bits: `.... .1.. .... ....`.
    pub fn bit_picture(&self, flags: u16) -> String {
        let mut s = String::with_capacity(19);
        for bit in 0..16u8 {
            if bit > 0 && bit % 4 == 0 {
                s.push(' ');
            }
            let inside = bit >= self.first_bit && bit < self.first_bit + self.width;
            if inside {
                let set = flags & (0x8000 >> bit) != 0;
                s.push(if set { '1' } else { '0' });
            } else {
                s.push('.');
            }
        }
        s
    }

    /// "bit 5" or "bits 1-4" in RFC numbering.
    pub fn positions(&self) -> String {
        if self.width == 1 {
            format!("bit {}", self.first_bit)
        } else {
            format!(
                "bits {}-{}",
                self.first_bit,
                self.first_bit + self.width - 1
            )
        }
    }
}

/// Every field of the flags word, left to right.
pub const FLAG_BITS: [FlagBits; 10] = [
    FlagBits {
        name: "QR (query/response)",
        short: "QR",
        first_bit: 0,
        width: 1,
        help: "0 in a query, 1 in a response; query and reply share the same format \
               (RFC 1035 §4.1.1).",
    },
    FlagBits {
        name: "Opcode",
        short: "Opcode",
        first_bit: 1,
        width: 4,
        help: "The kind of query: 0 is a standard QUERY, copied into the response \
               (RFC 1035 §4.1.1).",
    },
    FlagBits {
        name: "AA (authoritative answer)",
        short: "AA",
        first_bit: 5,
        width: 1,
        help: "Set by a server that is an authority for the name in the question; a \
               cache or a referral leaves it clear (RFC 1035 §4.1.1).",
    },
    FlagBits {
        name: "TC (truncated)",
        short: "TC",
        first_bit: 6,
        width: 1,
        help: "The response did not fit in the UDP datagram and was cut: ask again over \
               TCP (RFC 1035 §4.2.1, RFC 7766).",
    },
    FlagBits {
        name: "RD (recursion desired)",
        short: "RD",
        first_bit: 7,
        width: 1,
        help: "The client asks the server to resolve the name all the way (a recursive \
               query); clear, the server answers from what it has or refers (an iterative \
               query). Copied into the response (RFC 1035 §4.1.1).",
    },
    FlagBits {
        name: "RA (recursion available)",
        short: "RA",
        first_bit: 8,
        width: 1,
        help: "Set in a response when the server offers recursion to this client \
               (RFC 1035 §4.1.1).",
    },
    FlagBits {
        name: "Z (reserved)",
        short: "Z",
        first_bit: 9,
        width: 1,
        help: "Reserved for future use: must be zero (RFC 1035 §4.1.1, RFC 6895 §2).",
    },
    FlagBits {
        name: "AD (authentic data)",
        short: "AD",
        first_bit: 10,
        width: 1,
        help: "In a response, the resolver validated the data with DNSSEC; in a query, the \
               client understands AD (RFC 4035 §3.2.3, RFC 6840 §5.7).",
    },
    FlagBits {
        name: "CD (checking disabled)",
        short: "CD",
        first_bit: 11,
        width: 1,
        help: "The client asks the resolver not to validate DNSSEC signatures \
               (RFC 4035 §3.2.2).",
    },
    FlagBits {
        name: "RCODE (response code)",
        short: "RCODE",
        first_bit: 12,
        width: 4,
        help: "0 NOERROR, 1 FORMERR, 2 SERVFAIL, 3 NXDOMAIN, 4 NOTIMP, 5 REFUSED; EDNS adds \
               8 high bits in the OPT record (RFC 1035 §4.1.1, RFC 6891 §6.1.3).",
    },
];

impl Header {
    /// The 16-bit flags word.
    pub fn flags(&self) -> u16 {
        let mut f = 0u16;
        let values = [
            self.qr as u16,
            self.opcode as u16,
            self.aa as u16,
            self.tc as u16,
            self.rd as u16,
            self.ra as u16,
            self.z as u16,
            self.ad as u16,
            self.cd as u16,
            self.rcode as u16,
        ];
        for (bits, value) in FLAG_BITS.iter().zip(values) {
            f = bits.set(f, value);
        }
        f
    }

    /// Sets every flag from a flags word.
    pub fn set_flags(&mut self, flags: u16) {
        let v = |i: usize| FLAG_BITS[i].get(flags);
        self.qr = v(0) != 0;
        self.opcode = v(1) as u8;
        self.aa = v(2) != 0;
        self.tc = v(3) != 0;
        self.rd = v(4) != 0;
        self.ra = v(5) != 0;
        self.z = v(6) != 0;
        self.ad = v(7) != 0;
        self.cd = v(8) != 0;
        self.rcode = v(9) as u8;
    }

    /// The ID of a message from its first two bytes alone: a query cut
    /// short still has the ID its reply and the resolver's trace carry.
    pub fn id_of(message: &[u8]) -> Option<u16> {
        match message {
            [high, low, ..] => Some(u16::from_be_bytes([*high, *low])),
            _ => None,
        }
    }

    /// Reads the header from the first 12 bytes.
    pub fn parse(bytes: &[u8]) -> Option<Header> {
        if bytes.len() < HEADER_LEN {
            return None;
        }
        let word = |i: usize| u16::from_be_bytes([bytes[i], bytes[i + 1]]);
        let mut h = Header {
            id: word(0),
            qdcount: word(4),
            ancount: word(6),
            nscount: word(8),
            arcount: word(10),
            ..Header::default()
        };
        h.set_flags(word(2));
        Some(h)
    }

    /// The 12 bytes, with the counts as they are in this struct.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        for (i, w) in [
            self.id,
            self.flags(),
            self.qdcount,
            self.ancount,
            self.nscount,
            self.arcount,
        ]
        .into_iter()
        .enumerate()
        {
            out[2 * i..2 * i + 2].copy_from_slice(&w.to_be_bytes());
        }
        out
    }

    pub fn opcode(&self) -> Opcode {
        Opcode(self.opcode)
    }

    /// The 4-bit response code (see [`super::Message::rcode`] for the
    /// extended one).
    pub fn rcode(&self) -> Rcode {
        Rcode(self.rcode as u16)
    }

    /// The set flags, as dig prints them: `qr aa rd`.
    pub fn flag_names(&self) -> String {
        let mut names = Vec::new();
        for (set, name) in [
            (self.qr, "qr"),
            (self.aa, "aa"),
            (self.tc, "tc"),
            (self.rd, "rd"),
            (self.ra, "ra"),
            (self.z, "z"),
            (self.ad, "ad"),
            (self.cd, "cd"),
        ] {
            if set {
                names.push(name);
            }
        }
        names.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_is_read_from_two_bytes() {
        assert_eq!(Header::id_of(&[0x12, 0x34, 1, 0]), Some(0x1234));
        assert_eq!(Header::id_of(&[0x12, 0x34]), Some(0x1234));
        assert_eq!(Header::id_of(&[0x12]), None);
        let h = Header {
            id: 0xbeef,
            ..Header::default()
        };
        assert_eq!(Header::id_of(&h.to_bytes()), Some(0xbeef));
    }

    /// Each flag alone, and the bit it must light (RFC 1035 §4.1.1 layout).
    #[test]
    fn every_flag_sits_on_its_own_bit() {
        type SetFlag = fn(&mut Header);
        let cases: [(SetFlag, u16); 9] = [
            (|h| h.qr = true, 0x8000),
            (|h| h.aa = true, 0x0400),
            (|h| h.tc = true, 0x0200),
            (|h| h.rd = true, 0x0100),
            (|h| h.ra = true, 0x0080),
            (|h| h.z = true, 0x0040),
            (|h| h.ad = true, 0x0020),
            (|h| h.cd = true, 0x0010),
            (|h| h.opcode = 0xF, 0x7800),
        ];
        for (set, expected) in cases {
            let mut h = Header::default();
            set(&mut h);
            assert_eq!(h.flags(), expected, "{h:?}");
            let mut back = Header::default();
            back.set_flags(expected);
            assert_eq!(back, h);
        }
        let h = Header {
            rcode: 3,
            ..Header::default()
        };
        assert_eq!(h.flags(), 0x0003);
    }

    #[test]
    fn bit_pictures_and_positions() {
        let flags = 0x8180; // a typical recursive reply: qr rd ra
        assert_eq!(FLAG_BITS[0].bit_picture(flags), "1... .... .... ....");
        assert_eq!(FLAG_BITS[1].bit_picture(flags), ".000 0... .... ....");
        assert_eq!(FLAG_BITS[4].bit_picture(flags), ".... ...1 .... ....");
        assert_eq!(FLAG_BITS[5].bit_picture(flags), ".... .... 1... ....");
        assert_eq!(FLAG_BITS[9].bit_picture(flags), ".... .... .... 0000");
        assert_eq!(FLAG_BITS[1].positions(), "bits 1-4");
        assert_eq!(FLAG_BITS[7].positions(), "bit 10");
        assert_eq!(FLAG_BITS[9].mask(), 0x000F);
        assert_eq!(FLAG_BITS[1].mask(), 0x7800);
    }

    #[test]
    fn header_bytes_round_trip() {
        let bytes = [0x12, 0x34, 0x85, 0x03, 0, 1, 0, 0, 0, 1, 0, 0];
        let h = Header::parse(&bytes).unwrap();
        assert_eq!(h.id, 0x1234);
        assert!(h.qr && h.aa && h.rd && !h.ra);
        assert_eq!(h.rcode, 3);
        assert_eq!(h.nscount, 1);
        assert_eq!(h.to_bytes(), bytes);
        assert_eq!(h.flag_names(), "qr aa rd");
        assert!(Header::parse(&bytes[..11]).is_none());
    }
}
