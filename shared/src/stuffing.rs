//! Dot-stuffing, shared by SMTP's DATA (RFC 5321 §4.5.2) and POP3's
//! multi-line replies (RFC 1939 §3): a text block ends with a line holding
//! a single `.`, so every line of the text that starts with `.` gets one
//! more in front of it on the wire.
//!
//! [`find_end`] is the framer (where does the block end, `None` while
//! partial); [`stuff`] and [`unstuff`] convert; [`OffsetMap`] and
//! [`remap_fields`] carry a dissection of the unstuffed text back onto the
//! bytes that crossed the wire, each removed dot getting a leaf of its own.
//! Lines start after CR LF only: a bare LF does not end a line here, as in
//! servers that resist SMTP smuggling.

use crate::dissect::{Diagnostic, Field, Span};
use crate::mail::cover::cover;

/// Where a dot-terminated block ends in a buffer that starts at the first
/// byte of the block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockEnd {
    /// The end of the text, its last CR LF included (the `.` line follows).
    pub content_end: usize,
    /// The end of the `.` CR LF line: how many bytes the block takes.
    pub len: usize,
}

/// Finds the terminating `.` line. The block starts at a line start, so a
/// buffer starting with `.\r\n` is an empty block.
pub fn find_end(buf: &[u8]) -> Option<BlockEnd> {
    find_end_from(buf, 0)
}

/// [`find_end`] for a buffer that grows: an earlier call looked at the
/// first `scanned` bytes and found no end, so only the rest (and the four
/// bytes before it, where a terminator may have started) is searched. This
/// keeps following a large message that arrives in many pieces linear.
pub fn find_end_from(buf: &[u8], scanned: usize) -> Option<BlockEnd> {
    if buf.starts_with(b".\r\n") {
        return Some(BlockEnd {
            content_end: 0,
            len: 3,
        });
    }
    let start = scanned.saturating_sub(4).min(buf.len());
    buf[start..]
        .windows(5)
        .position(|w| w == b"\r\n.\r\n")
        .map(|i| BlockEnd {
            content_end: start + i + 2,
            len: start + i + 5,
        })
}

/// The wire form of `text`: dots doubled at line starts, a CR LF added if
/// the text does not end with one, and the terminating `.` line.
pub fn stuff(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + 8);
    let mut at_line_start = true;
    for (i, &b) in text.iter().enumerate() {
        if at_line_start && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        at_line_start = b == b'\n' && i > 0 && text[i - 1] == b'\r';
    }
    if !text.is_empty() && !text.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

/// Removes the stuffing from the text of a block (without its `.` line).
/// Returns the text and the offsets, in `stuffed`, of the dots removed.
pub fn unstuff(stuffed: &[u8]) -> (Vec<u8>, Vec<usize>) {
    let mut out = Vec::with_capacity(stuffed.len());
    let mut removed = Vec::new();
    let mut at_line_start = true;
    for (i, &b) in stuffed.iter().enumerate() {
        if at_line_start && b == b'.' {
            removed.push(i);
            at_line_start = false;
            continue;
        }
        out.push(b);
        at_line_start = b == b'\n' && i > 0 && stuffed[i - 1] == b'\r';
    }
    (out, removed)
}

/// Maps offsets in unstuffed text back to the stuffed bytes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OffsetMap {
    /// Offsets of the removed dots in the stuffed bytes.
    pub removed: Vec<usize>,
    /// Added to every mapped offset (where the text starts on the wire).
    pub base: usize,
}

impl OffsetMap {
    /// Where the removed dot number `k` was, in unstuffed coordinates.
    fn unstuffed_at(&self, k: usize) -> usize {
        self.removed[k] - k
    }

    /// A start offset: a span that starts where a dot was removed starts
    /// after the dot (the dot gets its own leaf).
    pub fn start(&self, u: usize) -> usize {
        let before = (0..self.removed.len())
            .take_while(|&k| self.unstuffed_at(k) <= u)
            .count();
        self.base + u + before
    }

    /// An end offset (exclusive).
    pub fn end(&self, u: usize) -> usize {
        let before = (0..self.removed.len())
            .take_while(|&k| self.unstuffed_at(k) < u)
            .count();
        self.base + u + before
    }

    /// A span: its start after a dot removed there, its end before one.
    /// An empty span stays where it ends, before the dot, so it stays
    /// inside the span around it (an empty last part of a multipart body
    /// whose text ends in a lone ".").
    pub fn span(&self, s: Span) -> Span {
        if s.is_empty() {
            let at = self.end(s.end);
            return Span::new(at, at);
        }
        Span::new(self.start(s.start), self.end(s.end))
    }
}

fn remap_field(field: Field, map: &OffsetMap) -> Field {
    Field {
        span: map.span(field.span),
        children: field
            .children
            .into_iter()
            .map(|c| remap_field(c, map))
            .collect(),
        ..field
    }
}

/// Inserts `leaf` into the deepest field of `fields` that contains it,
/// splitting a leaf it falls into so that coverage is kept.
fn insert_leaf(fields: &mut [Field], leaf: Field, bytes: &[u8]) -> bool {
    for f in fields.iter_mut() {
        if f.span.contains(&leaf.span) && !f.span.is_empty() {
            if insert_leaf(&mut f.children, leaf.clone(), bytes) {
                return true;
            }
            if f.children.is_empty() {
                f.children = cover(bytes, f.span, vec![leaf]);
            } else {
                f.children.push(leaf);
                f.children.sort_by_key(|c| c.span.start);
            }
            return true;
        }
    }
    false
}

/// Moves a dissection of the unstuffed text (fields and diagnostics) onto
/// the stuffed bytes `wire` (the whole message as sent, `map.base` being
/// where the text starts in it), adding a "Dot-stuffing" leaf for each
/// removed dot.
pub fn remap_fields(
    fields: Vec<Field>,
    diagnostics: Vec<Diagnostic>,
    map: &OffsetMap,
    wire: &[u8],
) -> (Vec<Field>, Vec<Diagnostic>) {
    let mut fields: Vec<Field> = fields.into_iter().map(|f| remap_field(f, map)).collect();
    for &dot in &map.removed {
        let at = map.base + dot;
        let leaf = Field::new("Dot-stuffing", Span::new(at, at + 1), ".").help(
            "An extra dot the sender put before a line that starts with '.', so that it is not \
             taken for the end of the text; the receiver removes it (RFC 5321 §4.5.2).",
        );
        if !insert_leaf(&mut fields, leaf.clone(), wire) {
            fields.push(leaf);
            fields.sort_by_key(|f| f.span.start);
        }
    }
    let diagnostics = diagnostics
        .into_iter()
        .map(|d| Diagnostic {
            span: map.span(d.span),
            ..d
        })
        .collect();
    (fields, diagnostics)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn an_empty_span_where_a_dot_was_removed_stays_before_it() {
        // Unstuffed "ab\r\n" from "ab\r\n.": the dot at 4 is removed.
        let map = OffsetMap {
            removed: vec![4],
            base: 0,
        };
        assert_eq!(map.span(Span::new(0, 4)), Span::new(0, 4));
        assert_eq!(map.span(Span::new(4, 4)), Span::new(4, 4));
        // The multipart whose last, empty part ends the text at that dot.
        let wire = b"Content-Type: multipart/mixed; boundary=b\r\n\r\nx\r\n--b\r\n.";
        let d = crate::smtp::dissect::dissect_data(wire, None, false);
        assert!(
            d.check_invariants(false).is_empty(),
            "{:?}",
            d.check_invariants(false)
        );
    }

    #[test]
    fn the_course_data_section() {
        let wire = b"Do you like ketchup?\r\nHow about pickles?\r\n.\r\nQUIT\r\n";
        let end = find_end(wire).unwrap();
        assert_eq!(end.content_end, 42);
        assert_eq!(end.len, 45);
        assert_eq!(
            find_end(b".\r\n"),
            Some(BlockEnd {
                content_end: 0,
                len: 3
            })
        );
        assert_eq!(find_end(b"a\n.\nb"), None, "bare LF does not end the data");
    }

    #[test]
    fn stuffing_known_answers() {
        assert_eq!(stuff(b".hidden\r\nok\r\n"), b"..hidden\r\nok\r\n.\r\n");
        assert_eq!(stuff(b"no end"), b"no end\r\n.\r\n");
        assert_eq!(stuff(b""), b".\r\n");
        let (text, removed) = unstuff(b"..a\r\n...\r\nb.\r\n");
        assert_eq!(text, b".a\r\n..\r\nb.\r\n");
        assert_eq!(removed, [0, 5]);
    }

    #[test]
    fn offsets_map_around_removed_dots() {
        // wire: "x\r\n..y\r\n" -> text "x\r\n.y\r\n"; the dot at wire 3 was removed.
        let map = OffsetMap {
            removed: vec![3],
            base: 10,
        };
        assert_eq!(map.start(0), 10);
        assert_eq!(
            map.start(3),
            14,
            "a span at the stuffed line starts after the dot"
        );
        assert_eq!(map.end(3), 13);
        assert_eq!(map.span(Span::new(0, 7)), Span::new(10, 18));
    }

    #[test]
    fn remapped_fields_keep_coverage() {
        let wire = b"..a\r\nb\r\n";
        let (text, removed) = unstuff(wire);
        assert_eq!(text, b".a\r\nb\r\n");
        let fields = vec![Field::new("Body", Span::new(0, text.len()), "")];
        let map = OffsetMap { removed, base: 0 };
        let (fields, _) = remap_fields(fields, vec![], &map, wire);
        let mut d = crate::dissect::Dissection::new(crate::dissect::Protocol::Smtp, "", wire.len());
        d.fields = fields;
        assert!(d.check_invariants(true).is_empty(), "{:#?}", d.fields);
        assert_eq!(d.find("Dot-stuffing").unwrap().span, Span::new(0, 1));
    }

    proptest! {
        #[test]
        fn stuffing_round_trips_and_frames(lines in proptest::collection::vec("[.a-z ]{0,6}", 0..8)) {
            let text: Vec<u8> = lines.iter().flat_map(|l| format!("{l}\r\n").into_bytes()).collect();
            let wire = stuff(&text);
            let end = find_end(&wire).unwrap();
            prop_assert_eq!(end.len, wire.len());
            for cut in 0..wire.len() {
                prop_assert_eq!(find_end(&wire[..cut]), None, "prefix of {} bytes", cut);
                // Resuming from any earlier failed search finds the same end.
                prop_assert_eq!(find_end_from(&wire, cut), Some(end));
            }
            let (back, _) = unstuff(&wire[..end.content_end]);
            prop_assert_eq!(back, text);
        }
    }
}
