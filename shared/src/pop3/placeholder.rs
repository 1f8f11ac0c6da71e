//! The course's printed POP3 sessions stand a placeholder for each message's
//! text: `<message 1 contents>`. One slide answers `retr 2` with
//! `<message 1 contents>`, a slip of the material (RETR 2 returns message 2,
//! RFC 1939 §5). [`placeholder_number`] finds such a placeholder in a reply,
//! so the session follower can explain the slip on the reply where it
//! happens instead of reproducing it silently.

use crate::dissect::Span;

/// How many bytes of a reply are searched: a placeholder is a short line at
/// its start, and a retrieved message may be megabytes long.
const SEARCHED: usize = 512;

/// A `<message N ...>` placeholder at the start of a line in the first
/// bytes of `reply`: the span of N and its value.
pub fn placeholder_number(reply: &[u8]) -> Option<(Span, u32)> {
    let searched = &reply[..reply.len().min(SEARCHED)];
    let mut start = 0;
    for line in searched.split(|&b| b == b'\n') {
        if let Some(found) = in_line(line, start) {
            return Some(found);
        }
        start += line.len() + 1;
    }
    None
}

/// `<message N` (any case, blanks between), then a `>` on the same line.
fn in_line(line: &[u8], offset: usize) -> Option<(Span, u32)> {
    let rest = line.strip_prefix(b"<")?;
    let word = b"message";
    if rest.len() < word.len() || !rest[..word.len()].eq_ignore_ascii_case(word) {
        return None;
    }
    let after_word = 1 + word.len();
    let blanks = line[after_word..]
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    let digits_start = after_word + blanks;
    let digits = line[digits_start..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if blanks == 0 || digits == 0 || digits > 9 || !line[digits_start..].contains(&b'>') {
        return None;
    }
    let number = std::str::from_utf8(&line[digits_start..digits_start + digits])
        .ok()?
        .parse()
        .ok()?;
    let span = Span::new(offset + digits_start, offset + digits_start + digits);
    Some((span, number))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_slides_placeholder_and_its_number() {
        assert_eq!(
            placeholder_number(b"<message 1 contents>\r\n.\r\n"),
            Some((Span::new(9, 10), 1))
        );
        assert_eq!(
            placeholder_number(b"+OK\r\n<Message  12 contents>\r\n.\r\n"),
            Some((Span::new(15, 17), 12))
        );
    }

    #[test]
    fn real_messages_and_other_text_are_not_placeholders() {
        for reply in [
            &b"+OK 498 octets\r\nSubject: message 1\r\n\r\nsee message 1\r\n.\r\n"[..],
            b"<message contents>\r\n",
            b"<message 1 contents\r\n",
            b"<messages 1>\r\n",
            b"",
        ] {
            assert_eq!(placeholder_number(reply), None, "{reply:?}");
        }
    }

    #[test]
    fn only_the_start_of_a_long_reply_is_searched() {
        let mut reply = vec![b'x'; SEARCHED];
        reply.extend_from_slice(b"\n<message 1 contents>\n");
        assert_eq!(placeholder_number(&reply), None);
    }
}
