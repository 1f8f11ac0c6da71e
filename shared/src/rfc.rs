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

/// For help text that cites today's RFCs, a sentence naming the older
/// numbers the course cites for them ("RFC 5321 replaces RFC 821 and 2821,
/// which the course cites."), one per RFC cited; `None` if none applies.
pub fn course_numbers_note(text: &str) -> Option<String> {
    let mut notes: Vec<String> = Vec::new();
    for current in cited_numbers(text) {
        let olds: Vec<u16> = REPLACED
            .iter()
            .filter(|r| r.current.contains(&current))
            .flat_map(|r| std::iter::once(r.old).chain(r.via.iter().copied()))
            .filter(|&n| n < current)
            .collect::<std::collections::BTreeSet<u16>>()
            .into_iter()
            // Only the numbers the course itself cites.
            .filter(|n| REPLACED.iter().any(|r| r.old == *n) || [2821, 2822].contains(n))
            .collect();
        if olds.is_empty() {
            continue;
        }
        let note = format!(
            "RFC {current} replaces {}, which the course cites.",
            and_list(&olds)
        );
        if !notes.contains(&note) {
            notes.push(note);
        }
    }
    (!notes.is_empty()).then(|| notes.join(" "))
}

/// The numbers after "RFC " in `text`, in order.
fn cited_numbers(text: &str) -> Vec<u16> {
    text.match_indices("RFC ")
        .filter_map(|(at, _)| {
            let digits: String = text[at + 4..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse().ok()
        })
        .collect()
}

/// "RFC 821", "RFC 821 and 2821", "RFC 2068, 2616 and 7230".
fn and_list(numbers: &[u16]) -> String {
    let names: Vec<String> = numbers.iter().map(u16::to_string).collect();
    match names.split_last() {
        Some((last, [])) => format!("RFC {last}"),
        Some((last, rest)) => format!("RFC {} and {last}", rest.join(", ")),
        None => String::new(),
    }
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
    fn help_citing_todays_rfcs_names_the_courses_numbers() {
        assert_eq!(
            course_numbers_note("the dot ends the message (RFC 5321 §4.1.1.4)").as_deref(),
            Some("RFC 5321 replaces RFC 821 and 2821, which the course cites.")
        );
        assert_eq!(
            course_numbers_note("RFC 9112 §2.1 and RFC 9051 §6").as_deref(),
            Some(
                "RFC 9112 replaces RFC 2068 and 2616, which the course cites. \
                 RFC 9051 replaces RFC 3501, which the course cites."
            )
        );
        assert_eq!(
            course_numbers_note("RFC 5322 §3.6").as_deref(),
            Some("RFC 5322 replaces RFC 822 and 2822, which the course cites.")
        );
        // Still in force, or no RFC at all: nothing to add.
        assert_eq!(course_numbers_note("RFC 1939 §5"), None);
        assert_eq!(
            course_numbers_note("RFC 9110 RFC 9110"),
            course_numbers_note("RFC 9110")
        );
        assert_eq!(course_numbers_note("see the RFC"), None);
    }

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
