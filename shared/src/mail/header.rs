//! The header section of a message or body part (RFC 5322 §2.2): header
//! fields `Name: value` up to the empty line, with folded lines joined to
//! their field.
//!
//! [`parse_section`] works on a region of the whole message and gives
//! absolute spans; it never fails. A line that is neither a field nor a
//! continuation ends the section early: that is the "missing blank line"
//! mistake, which the section records in `missing_separator` so that the
//! caller can explain it.

use crate::dissect::{Diagnostic, Span};

/// One header field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderField {
    /// The whole field, its last line ending included.
    pub span: Span,
    pub name: Span,
    /// The `:` (and any white space obsolete syntax put before it).
    pub colon: Span,
    /// Everything after the colon up to the last line ending, folds included.
    pub value: Span,
    /// The last line ending (empty at the end of the input).
    pub ending: Span,
}

impl HeaderField {
    /// The field name as written.
    pub fn name_text(&self, bytes: &[u8]) -> String {
        String::from_utf8_lossy(self.name.slice(bytes)).into_owned()
    }

    /// Whether the field is called `name` (case-insensitive, RFC 5322 §1.2.2).
    pub fn is(&self, bytes: &[u8], name: &str) -> bool {
        self.name.slice(bytes).eq_ignore_ascii_case(name.as_bytes())
    }

    /// The value unfolded (CR LF removed, RFC 5322 §2.2.3) and trimmed.
    pub fn unfolded(&self, bytes: &[u8]) -> String {
        let raw: Vec<u8> = self
            .value
            .slice(bytes)
            .iter()
            .copied()
            .filter(|&b| b != b'\r' && b != b'\n')
            .collect();
        String::from_utf8_lossy(&raw)
            .trim_matches([' ', '\t'])
            .to_string()
    }
}

/// A parsed header section.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HeaderSection {
    pub fields: Vec<HeaderField>,
    /// From the first field to the end of the last one.
    pub span: Span,
    /// The empty line that ends the section, if there is one.
    pub separator: Option<Span>,
    /// Where the body starts.
    pub body_start: usize,
    /// Set when the section ended at a line that is not a header field,
    /// without the empty line that should have come first.
    pub missing_separator: Option<Span>,
    pub diagnostics: Vec<Diagnostic>,
}

impl HeaderSection {
    /// The first field called `name`.
    pub fn get(&self, bytes: &[u8], name: &str) -> Option<&HeaderField> {
        self.fields.iter().find(|f| f.is(bytes, name))
    }

    /// Every field called `name`, in order.
    pub fn all<'a>(
        &'a self,
        bytes: &'a [u8],
        name: &'a str,
    ) -> impl Iterator<Item = &'a HeaderField> {
        self.fields.iter().filter(move |f| f.is(bytes, name))
    }
}

/// The line at `pos` within `end`: (end of content, end of line).
fn line_at(bytes: &[u8], pos: usize, end: usize) -> (usize, usize) {
    match bytes[pos..end].iter().position(|&b| b == b'\n') {
        Some(rel) => {
            let lf = pos + rel;
            let content_end = if lf > pos && bytes[lf - 1] == b'\r' {
                lf - 1
            } else {
                lf
            };
            (content_end, lf + 1)
        }
        None => (end, end),
    }
}

fn is_ftext(b: u8) -> bool {
    (33..=126).contains(&b) && b != b':'
}

/// Reads the header section that starts at `start`, within `end`.
pub fn parse_section(bytes: &[u8], start: usize, end: usize) -> HeaderSection {
    let end = end.min(bytes.len());
    let start = start.min(end);
    let mut section = HeaderSection {
        span: Span::point(start),
        body_start: end,
        ..HeaderSection::default()
    };
    let mut pos = start;
    let mut eight_bit: Option<usize> = None;
    while pos < end {
        let (content_end, line_end) = line_at(bytes, pos, end);
        let content = &bytes[pos..content_end];
        if content.is_empty() {
            section.separator = Some(Span::new(pos, line_end));
            section.body_start = line_end;
            return finish(section, eight_bit);
        }
        if content[0] == b' ' || content[0] == b'\t' {
            if let Some(last) = section.fields.last_mut() {
                last.value = Span::new(last.value.start, content_end);
                last.ending = Span::new(content_end, line_end);
                last.span = Span::new(last.span.start, line_end);
                if eight_bit.is_none() {
                    eight_bit = content.iter().position(|&b| b >= 0x80).map(|i| pos + i);
                }
                pos = line_end;
                continue;
            }
            section.diagnostics.push(
                Diagnostic::error(
                    Span::new(pos, content_end),
                    "the header section starts with a line that begins with white space, which \
                     would continue a previous field, but there is none",
                )
                .reference("RFC 5322 §2.2.3"),
            );
            section.missing_separator = Some(Span::new(pos, content_end));
            section.body_start = pos;
            return finish(section, eight_bit);
        }
        let colon = content.iter().position(|&b| b == b':');
        let name_ok = |colon: usize| {
            let name = &content[..colon];
            let trimmed_len = name
                .iter()
                .rposition(|&b| b != b' ' && b != b'\t')
                .map_or(0, |p| p + 1);
            trimmed_len > 0 && name[..trimmed_len].iter().all(|&b| is_ftext(b))
        };
        match colon {
            Some(c) if name_ok(c) => {
                let name_len = content[..c]
                    .iter()
                    .rposition(|&b| b != b' ' && b != b'\t')
                    .map_or(0, |p| p + 1);
                if name_len < c {
                    section.diagnostics.push(
                        Diagnostic::warning(
                            Span::new(pos + name_len, pos + c),
                            "white space between a field name and its colon is obsolete syntax",
                        )
                        .reference("RFC 5322 §4.5"),
                    );
                }
                if eight_bit.is_none() {
                    eight_bit = content.iter().position(|&b| b >= 0x80).map(|i| pos + i);
                }
                section.fields.push(HeaderField {
                    span: Span::new(pos, line_end),
                    name: Span::new(pos, pos + name_len),
                    colon: Span::new(pos + name_len, pos + c + 1),
                    value: Span::new(pos + c + 1, content_end),
                    ending: Span::new(content_end, line_end),
                });
                pos = line_end;
            }
            _ => {
                section.missing_separator = Some(Span::new(pos, content_end));
                section.body_start = pos;
                return finish(section, eight_bit);
            }
        }
    }
    finish(section, eight_bit)
}

fn finish(mut section: HeaderSection, eight_bit: Option<usize>) -> HeaderSection {
    if let (Some(first), Some(last)) = (section.fields.first(), section.fields.last()) {
        section.span = Span::new(first.span.start, last.span.end);
    }
    if let Some(at) = eight_bit {
        section.diagnostics.push(
            Diagnostic::warning(
                Span::new(at, at + 1),
                "a header field contains 8-bit bytes: headers are 7-bit ASCII, with non-ASCII \
                 text in encoded words (=?utf-8?Q?...?=), unless both ends use SMTPUTF8",
            )
            .reference("RFC 5322 §2.2, RFC 2047, RFC 6532"),
        );
    }
    section
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_folds_and_the_empty_line() {
        let m = b"From: alice@crepes.fr\r\nSubject: a\r\n  folded one\r\n\r\nbody";
        let h = parse_section(m, 0, m.len());
        assert_eq!(h.fields.len(), 2);
        assert_eq!(h.fields[1].unfolded(m), "a  folded one");
        assert!(h.fields[1].is(m, "SUBJECT"));
        assert_eq!(h.separator, Some(Span::new(49, 51)));
        assert_eq!(h.body_start, 51);
        assert_eq!(&m[h.body_start..], b"body");
        assert_eq!(h.span, Span::new(0, 49));
        assert!(h.missing_separator.is_none());
        assert!(h.get(m, "from").is_some());
    }

    #[test]
    fn a_line_that_is_not_a_field_ends_the_section() {
        let m = b"Content-Type: image/jpeg\nbase64 encoded data .....\n";
        let h = parse_section(m, 0, m.len());
        assert_eq!(h.fields.len(), 1);
        assert_eq!(h.missing_separator, Some(Span::new(25, 50)));
        assert_eq!(h.body_start, 25);
        let m = b"Do you like ketchup?\r\n";
        let h = parse_section(m, 0, m.len());
        assert!(h.fields.is_empty());
        assert_eq!(h.body_start, 0);
    }

    #[test]
    fn header_only_and_obsolete_forms() {
        let m = b"Subject : hi\r\nX: \xc3\xa9";
        let h = parse_section(m, 0, m.len());
        assert_eq!(h.fields.len(), 2);
        assert_eq!(h.fields[0].name_text(m), "Subject");
        assert_eq!(h.body_start, m.len());
        assert_eq!(h.diagnostics.len(), 2);
        let h = parse_section(b" leading", 0, 8);
        assert_eq!(h.diagnostics.len(), 1);
    }
}
