//! Filling the gaps between the meaningful children of a field, so that
//! every byte of a well-formed message is covered by a leaf (the rule of
//! [`crate::dissect`]) without each structured-field parser having to name
//! every space and fold itself.
//!
//! The caller builds the children it understands (an address, a parameter),
//! with spans inside `parent`, and calls [`cover`]; it gets them back sorted,
//! with leaves named "Whitespace", "Folding", "Separator" or "Text" in
//! between. Children that overlap an earlier one are dropped.

use crate::dissect::{Field, Span};
use crate::text::visible;

/// Returns `children` sorted by position with every gap inside `parent`
/// filled by a leaf that says what the gap holds.
pub fn cover(bytes: &[u8], parent: Span, mut children: Vec<Field>) -> Vec<Field> {
    children.sort_by_key(|f| (f.span.start, f.span.end));
    let mut out = Vec::with_capacity(children.len() * 2 + 1);
    let mut at = parent.start;
    for child in children {
        if child.span.start < at || !parent.contains(&child.span) {
            continue;
        }
        if child.span.start > at {
            out.push(gap(bytes, Span::new(at, child.span.start)));
        }
        at = child.span.end;
        out.push(child);
    }
    if at < parent.end {
        out.push(gap(bytes, Span::new(at, parent.end)));
    }
    out
}

/// One leaf for the bytes of `span` that no meaningful child covers.
pub fn gap(bytes: &[u8], span: Span) -> Field {
    let raw = span.slice(bytes);
    let shown = visible(raw);
    if raw.iter().any(|&b| b == b'\r' || b == b'\n') {
        if raw
            .iter()
            .all(|&b| matches!(b, b'\r' | b'\n' | b' ' | b'\t'))
        {
            return Field::new("Folding", span, shown).help(
                "A line break followed by a space or tab: the field goes on on the next \
                 line. Readers remove the CR LF (\"unfolding\", RFC 5322 §2.2.3).",
            );
        }
        return Field::new("Text", span, shown);
    }
    if raw.iter().all(|&b| b == b' ' || b == b'\t') {
        return Field::new("Whitespace", span, shown);
    }
    let trimmed = raw.trim_ascii();
    if trimmed.len() == 1 && b",;:=/".contains(&trimmed[0]) {
        return Field::new("Separator", span, shown);
    }
    Field::new("Text", span, shown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_are_named_and_everything_is_covered() {
        let bytes = b"a, b\r\n c";
        let children = vec![
            Field::new("C", Span::new(7, 8), "c"),
            Field::new("A", Span::new(0, 1), "a"),
            Field::new("B", Span::new(3, 4), "b"),
        ];
        let out = cover(bytes, Span::new(0, 8), children);
        let names: Vec<_> = out.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["A", "Separator", "B", "Folding", "C"]);
        assert_eq!(out[1].span, Span::new(1, 3));
    }

    #[test]
    fn overlapping_and_outside_children_are_dropped() {
        let bytes = b"abcdef";
        let children = vec![
            Field::new("X", Span::new(0, 3), ""),
            Field::new("Y", Span::new(2, 4), ""),
            Field::new("Z", Span::new(5, 9), ""),
        ];
        let out = cover(bytes, Span::new(0, 6), children);
        let names: Vec<_> = out.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["X", "Text"]);
        assert_eq!(out[1].span, Span::new(3, 6));
    }
}
