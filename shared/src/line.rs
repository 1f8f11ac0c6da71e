//! Dissector for plain text lines, the "protocol" of the course's uppercase
//! server and of anything typed to a raw TCP or UDP socket.
//!
//! It shows each line with its text and its ending, and tells the student
//! what a line-based server will make of it: a bare LF, a stray CR, a last
//! line that never ended, control characters and bytes that are not UTF-8.

use crate::dissect::{Diagnostic, Dissection, Field, Protocol, Span};
use crate::framing::{LineEnding, split_lines};
use crate::text::visible;

const CRLF_HELP: &str = "CR LF (0x0D 0x0A) ends a line in every Internet text protocol \
     (RFC 5234 §B.1, RFC 5321 §2.3.8, RFC 9112 §2.2).";

/// Dissects `bytes` as a sequence of text lines.
pub fn dissect(bytes: &[u8]) -> Dissection {
    let lines = split_lines(bytes);
    let summary = match lines.first() {
        None => "(empty)".to_string(),
        Some((first, _)) => {
            let text = visible(first.slice(bytes));
            let more = if lines.len() > 1 {
                format!(" (+{} more lines)", lines.len() - 1)
            } else {
                String::new()
            };
            format!("{}{more}", truncate(&text, 60))
        }
    };
    let mut d = Dissection::new(Protocol::Line, summary, bytes.len());
    for (index, (content, ending)) in lines.iter().enumerate() {
        let number = index + 1;
        let text = content.slice(bytes);
        let whole_end = content.end + ending.map_or(0, |e| e.len());
        let mut field = Field::new(
            format!("Line {number}"),
            Span::new(content.start, whole_end),
            visible(&bytes[content.start..whole_end]),
        );
        if !content.is_empty() {
            field
                .children
                .push(Field::new("Text", *content, visible(text)).help(format!(
                    "{} bytes of text; a line-based server acts on it once the line ends.",
                    text.len()
                )));
        }
        match ending {
            Some(LineEnding::CrLf) => field.children.push(
                Field::new(
                    "End of line",
                    Span::new(content.end, whole_end),
                    "CR LF (␍␊)",
                )
                .help(CRLF_HELP),
            ),
            Some(LineEnding::BareLf) => {
                let span = Span::new(content.end, whole_end);
                field.children.push(
                    Field::new("End of line", span, "LF alone (␊)")
                        .help("A line ended by LF without the CR before it."),
                );
                d.diagnostics.push(
                    Diagnostic::warning(
                        span,
                        format!(
                            "line {number} ends with a bare LF; Internet protocols end lines \
                             with CR LF, and strict servers reject or misread a bare LF"
                        ),
                    )
                    .reference("RFC 5321 §2.3.8"),
                );
            }
            None => d.diagnostics.push(
                Diagnostic::note(
                    Span::point(content.end),
                    format!(
                        "line {number} has no end of line yet: a line-based server keeps \
                         waiting for CR LF before it answers"
                    ),
                )
                .reference("RFC 5234 §B.1"),
            ),
        }
        check_content(bytes, *content, number, &mut d.diagnostics);
        d.fields.push(field);
    }
    d
}

fn check_content(bytes: &[u8], content: Span, number: usize, out: &mut Vec<Diagnostic>) {
    let text = content.slice(bytes);
    if let Some(i) = text.iter().position(|&b| b == b'\r') {
        let at = content.start + i;
        out.push(
            Diagnostic::warning(
                Span::new(at, at + 1),
                format!("line {number} contains a CR that is not followed by LF"),
            )
            .reference("RFC 5321 §2.3.8"),
        );
    }
    if let Some(i) = text
        .iter()
        .position(|&b| (b < 0x20 && b != b'\t' && b != b'\r') || b == 0x7f)
    {
        let at = content.start + i;
        out.push(Diagnostic::note(
            Span::new(at, at + 1),
            format!(
                "line {number} contains the control byte 0x{:02X}, which a terminal would not show",
                text[i]
            ),
        ));
    }
    let mut offset = 0;
    for chunk in text.utf8_chunks() {
        offset += chunk.valid().len();
        if !chunk.invalid().is_empty() {
            let at = content.start + offset;
            out.push(Diagnostic::note(
                Span::new(at, at + chunk.invalid().len()),
                format!("line {number} contains bytes that are not valid UTF-8"),
            ));
            break;
        }
    }
}

fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        text.to_string()
    } else {
        let mut t: String = text.chars().take(max_chars).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dissect::Severity;
    use proptest::prelude::*;

    #[test]
    fn crlf_line_is_covered_and_clean() {
        let d = dissect(b"hello world\r\n");
        assert_eq!(d.summary, "hello world");
        assert!(d.diagnostics.is_empty());
        assert!(d.check_invariants(true).is_empty());
        let eol = d.find("End of line").unwrap();
        assert_eq!(eol.span, Span::new(11, 13));
        assert_eq!(eol.value, "CR LF (␍␊)");
    }

    #[test]
    fn bare_lf_and_missing_ending_are_explained() {
        let d = dissect(b"one\ntwo");
        assert_eq!(d.summary, "one (+1 more lines)");
        assert_eq!(d.diagnostics.len(), 2);
        assert_eq!(d.diagnostics[0].severity, Severity::Warning);
        assert!(d.diagnostics[0].message.contains("bare LF"));
        assert_eq!(d.diagnostics[1].span, Span::point(7));
        assert!(d.check_invariants(true).is_empty());
    }

    #[test]
    fn stray_cr_controls_and_invalid_utf8_are_noted() {
        let d = dissect(b"a\rb\x01caf\xe9\r\n");
        let messages: Vec<_> = d.diagnostics.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(messages.len(), 3, "{messages:?}");
        assert!(messages[0].contains("CR that is not followed by LF"));
        assert!(messages[1].contains("0x01"));
        assert!(messages[2].contains("UTF-8"));
        assert_eq!(d.diagnostics[2].span, Span::new(7, 8));
    }

    #[test]
    fn empty_input() {
        let d = dissect(b"");
        assert_eq!(d.summary, "(empty)");
        assert!(d.fields.is_empty());
    }

    proptest! {
        #[test]
        fn any_bytes_dissect_within_bounds(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let d = dissect(&bytes);
            prop_assert!(d.check_invariants(true).is_empty());
        }
    }
}
