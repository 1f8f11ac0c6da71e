//! Fetching one part of a message by its section number (RFC 9051
//! §6.4.5): `BODY[1.2]` is the content of part 2 of part 1, as sent (still
//! transfer-encoded); `BODY[1.MIME]` that part's own header; and inside an
//! enclosed `message/rfc822` part, `BODY[3.HEADER]` and `BODY[3.TEXT]` the
//! enclosed message's header and text. A message that is not multipart has
//! only a part 1, its body.
//!
//! The parts are found in the MIME tree of [`crate::mail::mime`], whose
//! depth is bounded; a section naming a part the message does not have
//! yields no bytes (the answer is an empty string).

use crate::mail::mime::{self, Content, Entity};

/// The longest part number path served (`1.2.3...`), as deep as the MIME
/// parser nests.
const MAX_PATH: usize = mime::MAX_DEPTH;

/// What of the numbered part a section asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartTail {
    /// `1.2`: the part's content.
    Content,
    /// `1.2.MIME`: the part's header.
    Mime,
    /// `3.HEADER`: an enclosed message's header.
    Header,
    /// `3.TEXT`: an enclosed message's text.
    Text,
}

/// A numbered section: the part numbers from the top, and what of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartSection {
    pub path: Vec<u32>,
    pub tail: PartTail,
}

/// Reads `1.2`, `1.2.MIME`, `3.HEADER`, `3.TEXT` (upper case); `None` for
/// anything else (numbers must be non-zero).
pub fn parse_part_section(section: &str) -> Option<PartSection> {
    let mut path = Vec::new();
    let mut tail = PartTail::Content;
    for (i, word) in section.split('.').enumerate() {
        if tail != PartTail::Content {
            return None;
        }
        match word.parse::<u32>() {
            Ok(n) if n > 0 && word.bytes().all(|b| b.is_ascii_digit()) => path.push(n),
            _ if i > 0 => {
                tail = match word {
                    "MIME" => PartTail::Mime,
                    "HEADER" => PartTail::Header,
                    "TEXT" => PartTail::Text,
                    _ => return None,
                }
            }
            _ => return None,
        }
    }
    (!path.is_empty() && path.len() <= MAX_PATH).then_some(PartSection { path, tail })
}

/// The bytes of `section` in `message`; empty when it has no such part.
pub fn part_bytes(message: &[u8], section: &PartSection) -> Vec<u8> {
    let root = mime::parse(message);
    let Some(entity) = find_part(&root, &section.path) else {
        return Vec::new();
    };
    let span = match (section.tail, &entity.content) {
        (PartTail::Content, _) => (entity.body.start, entity.body.end),
        (PartTail::Mime, _) => (entity.span.start, entity.header.body_start),
        (PartTail::Header, Content::Message(inner)) => (inner.span.start, inner.header.body_start),
        (PartTail::Text, Content::Message(inner)) => (inner.body.start, inner.body.end),
        _ => return Vec::new(),
    };
    message.get(span.0..span.1).unwrap_or_default().to_vec()
}

/// The entity `path` names: each number picks a part of a multipart; in
/// a part that encloses a message, the numbers go on inside that message;
/// a body that is not multipart is its own part 1.
fn find_part<'e>(root: &'e Entity, path: &[u32]) -> Option<&'e Entity> {
    let mut entity = root;
    for (depth, &n) in path.iter().enumerate() {
        let container = match &entity.content {
            Content::Message(inner) if depth > 0 => inner.as_ref(),
            _ => entity,
        };
        entity = match &container.content {
            Content::Multipart(m) => {
                &m.parts
                    .get(usize::try_from(n).ok()?.checked_sub(1)?)?
                    .entity
            }
            _ if n == 1 => container,
            _ => return None,
        };
    }
    Some(entity)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIXED: &[u8] = b"Subject: x\r\nMIME-Version: 1.0\r\n\
        Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n\
        --m\r\nContent-Type: multipart/alternative; boundary=\"a\"\r\n\r\n\
        --a\r\nContent-Type: text/plain\r\n\r\nhi\r\n\
        --a\r\nContent-Type: text/html\r\n\r\n<p>hi</p>\r\n--a--\r\n\
        --m\r\nContent-Type: message/rfc822\r\n\r\n\
        Subject: inner\r\n\r\ninner text\r\n--m--\r\n";

    fn fetch(message: &[u8], section: &str) -> String {
        let section = parse_part_section(section).expect("a part section");
        String::from_utf8(part_bytes(message, &section)).unwrap()
    }

    #[test]
    fn sections_are_read_with_their_tails() {
        assert_eq!(
            parse_part_section("1.2.MIME"),
            Some(PartSection {
                path: vec![1, 2],
                tail: PartTail::Mime
            })
        );
        assert_eq!(parse_part_section("3").map(|s| s.path), Some(vec![3]));
        for bad in [
            "",
            "0",
            "1.0",
            "HEADER",
            "1.MIME.1",
            "1.HEADER.FIELDS (X)",
            "1.+2",
            "x",
        ] {
            assert_eq!(parse_part_section(bad), None, "{bad}");
        }
        let deep = vec!["1"; MAX_PATH + 1].join(".");
        assert_eq!(parse_part_section(&deep), None);
    }

    #[test]
    fn parts_of_a_mixed_message_with_an_alternative_and_an_enclosed_message() {
        assert_eq!(fetch(MIXED, "1.1"), "hi");
        assert_eq!(fetch(MIXED, "1.2"), "<p>hi</p>");
        assert_eq!(fetch(MIXED, "1.2.MIME"), "Content-Type: text/html\r\n\r\n");
        assert_eq!(fetch(MIXED, "2.HEADER"), "Subject: inner\r\n\r\n");
        assert!(fetch(MIXED, "2.TEXT").starts_with("inner text"));
        assert!(fetch(MIXED, "2").starts_with("Subject: inner\r\n\r\ninner text"));
        // The enclosed message is not multipart: its part 1 is its text.
        assert!(fetch(MIXED, "2.1").starts_with("inner text"));
        assert_eq!(fetch(MIXED, "3"), "");
        assert_eq!(fetch(MIXED, "1.1.HEADER"), "");
    }

    #[test]
    fn a_single_part_message_has_only_a_part_1() {
        let plain = b"Subject: x\r\n\r\nhello\r\n";
        assert_eq!(fetch(plain, "1"), "hello\r\n");
        assert_eq!(fetch(plain, "2"), "");
    }
}
