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

/// Largest UDP payload that fits an Ethernet frame (MTU 1500) without IP
/// fragmentation: 1500 minus the 20-byte IPv4 and 8-byte UDP headers.
const UNFRAGMENTED_PAYLOAD: usize = 1472;

/// Dissects `bytes` as a sequence of text lines, read from a stream: a
/// last line without its end of line is noted, as a line-based server
/// waits for it.
pub fn dissect(bytes: &[u8]) -> Dissection {
    let lines = split_lines(bytes);
    let mut d = Dissection::new(Protocol::Line, summary(bytes, &lines), bytes.len());
    d.fields = line_fields(bytes, &lines, &mut d.diagnostics, Stream::Lines);
    d
}

/// Dissects `bytes` as one UDP datagram of text: the datagram's end is the
/// message's end (its length travels in the UDP header), so no line
/// ending is expected; what is noted instead is what a datagram can get
/// wrong: being empty, or too large for one unfragmented packet.
pub fn dissect_datagram(bytes: &[u8]) -> Dissection {
    let lines = split_lines(bytes);
    let summary = if bytes.is_empty() {
        "(empty datagram)".to_string()
    } else {
        summary(bytes, &lines)
    };
    let mut d = Dissection::new(Protocol::Line, summary, bytes.len());
    if bytes.is_empty() {
        d.diagnostics.push(
            Diagnostic::note(
                Span::point(0),
                "an empty datagram: UDP carries it as a header with a payload of 0 bytes, \
                 and the server receives a datagram with no text",
            )
            .reference("RFC 768"),
        );
        return d;
    }
    let children = line_fields(bytes, &lines, &mut d.diagnostics, Stream::Datagram);
    let mut payload = Field::new(
        "Datagram payload",
        Span::new(0, bytes.len()),
        match bytes.len() {
            1 => "1 byte".to_string(),
            n => format!("{n} bytes"),
        },
    )
    .help(
        "One UDP datagram: its length is in the UDP header, so the datagram's end is the \
         message's end and no line ending is needed (RFC 768).",
    );
    payload.children = children;
    d.fields.push(payload);
    if bytes.len() > UNFRAGMENTED_PAYLOAD {
        d.diagnostics.push(
            Diagnostic::note(
                Span::new(UNFRAGMENTED_PAYLOAD, bytes.len()),
                format!(
                    "a {}-byte datagram does not fit one Ethernet packet ({UNFRAGMENTED_PAYLOAD} \
                     bytes of UDP payload at most): IP fragments it, and losing any fragment \
                     loses the whole datagram",
                    bytes.len()
                ),
            )
            .reference("RFC 8085 §3.2"),
        );
    }
    d
}

/// Whether the lines came from a byte stream, where a line ends with its
/// line ending, or from a datagram, where the datagram's end ends the last.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stream {
    Lines,
    Datagram,
}

/// The first line, and how many follow.
fn summary(bytes: &[u8], lines: &[(Span, Option<LineEnding>)]) -> String {
    match lines.first() {
        None => "(empty)".to_string(),
        Some((first, _)) => {
            let text = visible(first.slice(bytes));
            let more = match lines.len() {
                0 | 1 => String::new(),
                2 => " (+1 more line)".to_string(),
                n => format!(" (+{} more lines)", n - 1),
            };
            format!("{}{more}", truncate(&text, 60))
        }
    }
}

/// One field per line, with its text and its ending, and the diagnostics
/// of each.
fn line_fields(
    bytes: &[u8],
    lines: &[(Span, Option<LineEnding>)],
    diagnostics: &mut Vec<Diagnostic>,
    stream: Stream,
) -> Vec<Field> {
    let mut fields = Vec::new();
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
                diagnostics.push(
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
            // A datagram's last line ends with the datagram.
            None if stream == Stream::Datagram => {}
            None => diagnostics.push(
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
        check_content(bytes, *content, number, diagnostics);
        fields.push(field);
    }
    fields
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
        assert_eq!(d.summary, "one (+1 more line)");
        assert_eq!(dissect(b"a\r\nb\r\nc").summary, "a (+2 more lines)");
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

    #[test]
    fn a_datagram_needs_no_end_of_line() {
        let d = dissect_datagram(b"hello udp");
        assert_eq!(d.summary, "hello udp");
        assert!(d.diagnostics.is_empty(), "{:?}", d.diagnostics);
        let payload = d.find("Datagram payload").unwrap();
        assert_eq!(
            (payload.span, payload.value.as_str()),
            (Span::new(0, 9), "9 bytes")
        );
        assert!(d.check_invariants(true).is_empty());
        // The same bytes from a stream wait for their CR LF.
        assert!(
            dissect(b"hello udp").diagnostics[0]
                .message
                .contains("no end of line yet")
        );
        // What is wrong inside a line is still said.
        let d = dissect_datagram(b"one\ntwo\x01");
        let messages: Vec<_> = d.diagnostics.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(messages[0].contains("bare LF") && messages[1].contains("0x01"));
        assert_eq!(
            dissect_datagram(b"x")
                .find("Datagram payload")
                .unwrap()
                .value,
            "1 byte"
        );
    }

    #[test]
    fn empty_and_oversized_datagrams_are_noted() {
        let d = dissect_datagram(b"");
        assert_eq!(d.summary, "(empty datagram)");
        assert_eq!(d.diagnostics.len(), 1);
        assert_eq!(d.diagnostics[0].severity, Severity::Note);
        assert!(d.diagnostics[0].message.contains("empty datagram"));
        assert!(d.check_invariants(true).is_empty());
        let fits = vec![b'a'; UNFRAGMENTED_PAYLOAD];
        assert!(dissect_datagram(&fits).diagnostics.is_empty());
        let big = vec![b'a'; UNFRAGMENTED_PAYLOAD + 1];
        let d = dissect_datagram(&big);
        assert_eq!(d.diagnostics.len(), 1);
        assert!(d.diagnostics[0].message.contains("1473-byte datagram"));
        assert_eq!(d.diagnostics[0].reference.as_deref(), Some("RFC 8085 §3.2"));
        assert!(d.check_invariants(true).is_empty());
    }

    proptest! {
        #[test]
        fn any_datagram_dissects_within_bounds(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let d = dissect_datagram(&bytes);
            prop_assert!(d.check_invariants(true).is_empty());
            prop_assert!(d.diagnostics.iter().all(|d| !d.message.contains("no end of line")));
        }

        #[test]
        fn any_bytes_dissect_within_bounds(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let d = dissect(&bytes);
            prop_assert!(d.check_invariants(true).is_empty());
        }
    }
}
