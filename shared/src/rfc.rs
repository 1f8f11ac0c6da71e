//! The RFC numbers the course cites, mapped to the ones in force today.
//!
//! The slides and the textbook name the standards of their time: SMTP as
//! RFC 821, the message format as RFC 822, HTTP/1.1 as RFC 2068 or 2616,
//! IMAP as RFC 3501. Each has since been replaced (obsoleted, in the RFC
//! Editor's word) by a newer RFC, and the lab's dissectors cite the newer
//! ones. This table lets the page say which is which, so a student reading
//! "RFC 821" on a slide and "RFC 5321" in the inspector knows they are one
//! protocol.

/// One RFC the course cites that a newer one replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replaced {
    /// The number the course cites.
    pub old: u16,
    /// What it specifies.
    pub topic: &'static str,
    /// The RFCs in between, oldest first.
    pub via: &'static [u16],
    /// The RFCs in force today.
    pub current: &'static [u16],
}

/// Every replaced RFC the course cites, by old number.
pub const REPLACED: &[Replaced] = &[
    Replaced {
        old: 821,
        topic: "SMTP",
        via: &[2821],
        current: &[5321],
    },
    Replaced {
        old: 822,
        topic: "the Internet message format (headers, the blank line, the body)",
        via: &[2822],
        current: &[5322],
    },
    Replaced {
        old: 2068,
        topic: "HTTP/1.1",
        via: &[2616, 7230, 7231, 7232, 7233, 7234, 7235],
        current: &[9110, 9111, 9112],
    },
    Replaced {
        old: 2616,
        topic: "HTTP/1.1",
        via: &[7230, 7231, 7232, 7233, 7234, 7235],
        current: &[9110, 9111, 9112],
    },
    Replaced {
        old: 3501,
        topic: "IMAP4rev1",
        via: &[],
        current: &[9051],
    },
];

/// What replaced RFC `old`, if the course cites it and it was replaced.
pub fn replaced(old: u16) -> Option<&'static Replaced> {
    REPLACED.iter().find(|r| r.old == old)
}

/// `numbers` written as the page shows them: "RFC 9110, 9111, 9112".
pub fn cite(numbers: &[u16]) -> String {
    let list: Vec<String> = numbers.iter().map(u16::to_string).collect();
    format!("RFC {}", list.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_courses_old_numbers_lead_to_todays() {
        assert_eq!(replaced(821).unwrap().current, &[5321]);
        assert_eq!(replaced(822).unwrap().current, &[5322]);
        assert_eq!(replaced(2068).unwrap().current, &[9110, 9111, 9112]);
        assert_eq!(replaced(2616).unwrap().current, &[9110, 9111, 9112]);
        assert_eq!(replaced(3501).unwrap().current, &[9051]);
        // Still in force: not in the table.
        for current in [959, 1034, 1035, 1939, 5321, 9110] {
            assert!(replaced(current).is_none(), "{current}");
        }
    }

    #[test]
    fn every_entry_moves_forward_in_time() {
        for r in REPLACED {
            let chain: Vec<u16> = std::iter::once(r.old)
                .chain(r.via.iter().copied())
                .chain(r.current.iter().copied())
                .collect();
            assert!(chain.windows(2).all(|w| w[0] < w[1]), "{chain:?}");
        }
        assert_eq!(cite(&[9110, 9111]), "RFC 9110, 9111");
    }
}
