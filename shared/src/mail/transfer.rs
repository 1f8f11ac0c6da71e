//! Content-Transfer-Encodings (RFC 2045 §6): decoding base64 and
//! quoted-printable bodies with diagnostics that point at the offending
//! bytes, and encoding them (for composing messages).
//!
//! Decoders are lenient, as mail readers are: they decode what they can
//! and report the rest. Spans in the diagnostics are offsets into the
//! caller's message: pass the offset at which `input` starts as `base`.

use crate::dissect::{Diagnostic, Span};

/// Decoded bytes and what was wrong with the encoded form.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Decoded {
    pub bytes: Vec<u8>,
    pub diagnostics: Vec<Diagnostic>,
}

/// A Content-Transfer-Encoding value (RFC 2045 §6.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferEncoding {
    SevenBit,
    EightBit,
    Binary,
    QuotedPrintable,
    Base64,
    Other(String),
}

impl TransferEncoding {
    pub fn from_label(label: &str) -> TransferEncoding {
        match label.trim().to_ascii_lowercase().as_str() {
            "7bit" => TransferEncoding::SevenBit,
            "8bit" => TransferEncoding::EightBit,
            "binary" => TransferEncoding::Binary,
            "quoted-printable" => TransferEncoding::QuotedPrintable,
            "base64" => TransferEncoding::Base64,
            other => TransferEncoding::Other(other.to_string()),
        }
    }

    pub fn name(&self) -> &str {
        match self {
            TransferEncoding::SevenBit => "7bit",
            TransferEncoding::EightBit => "8bit",
            TransferEncoding::Binary => "binary",
            TransferEncoding::QuotedPrintable => "quoted-printable",
            TransferEncoding::Base64 => "base64",
            TransferEncoding::Other(name) => name,
        }
    }

    /// Whether the body must be decoded to get the content.
    pub fn is_encoding(&self) -> bool {
        matches!(
            self,
            TransferEncoding::QuotedPrintable | TransferEncoding::Base64
        )
    }
}

use crate::base64::value as base64_value;

/// Decodes base64 text (line breaks and spaces ignored, RFC 2045 §6.8).
pub fn decode_base64(input: &[u8], base: usize) -> Decoded {
    let mut out = Decoded::default();
    let mut quad = [0u8; 4];
    let mut filled = 0usize;
    let mut alphabet_chars = 0usize;
    let mut padding = 0usize;
    let mut first_padding: Option<usize> = None;
    let mut invalid: Vec<usize> = Vec::new();
    let mut after_padding: Option<usize> = None;
    for (i, &b) in input.iter().enumerate() {
        if matches!(b, b' ' | b'\t' | b'\r' | b'\n') {
            continue;
        }
        if b == b'=' {
            padding += 1;
            first_padding.get_or_insert(i);
            continue;
        }
        let Some(v) = base64_value(b) else {
            invalid.push(i);
            continue;
        };
        if padding > 0 && after_padding.is_none() {
            after_padding = Some(i);
        }
        alphabet_chars += 1;
        quad[filled] = v;
        filled += 1;
        if filled == 4 {
            out.bytes.push(quad[0] << 2 | quad[1] >> 4);
            out.bytes.push(quad[1] << 4 | quad[2] >> 2);
            out.bytes.push(quad[2] << 6 | quad[3]);
            filled = 0;
        }
    }
    match filled {
        2 => out.bytes.push(quad[0] << 2 | quad[1] >> 4),
        3 => {
            out.bytes.push(quad[0] << 2 | quad[1] >> 4);
            out.bytes.push(quad[1] << 4 | quad[2] >> 2);
        }
        _ => {}
    }
    if let Some(&first) = invalid.first() {
        out.diagnostics.push(
            Diagnostic::error(
                Span::new(base + first, base + first + 1),
                format!(
                    "{} character(s) are not in the base64 alphabet (A-Z a-z 0-9 + /), the first \
                     is {:?}; a decoder skips them, so the content is probably damaged",
                    invalid.len(),
                    input[first] as char
                ),
            )
            .reference("RFC 2045 §6.8"),
        );
    }
    if let Some(at) = after_padding {
        out.diagnostics.push(
            Diagnostic::error(
                Span::new(base + at, base + at + 1),
                "base64 data continues after the '=' padding that should end it",
            )
            .reference("RFC 4648 §3.3"),
        );
    }
    let total = alphabet_chars + padding;
    let whole = Span::new(base, base + input.len());
    if !total.is_multiple_of(4) {
        if total % 4 == 1 || padding > 0 {
            out.diagnostics.push(
                Diagnostic::error(
                    whole,
                    format!(
                        "the base64 text is {total} characters long (padding included), and \
                         {total} mod 4 = {}: base64 comes in groups of 4 characters, so a \
                         character is missing or extra and the data is corrupt",
                        total % 4
                    ),
                )
                .reference("RFC 4648 §4"),
            );
        } else {
            out.diagnostics.push(
                Diagnostic::warning(
                    whole,
                    format!(
                        "the base64 text ends without its '=' padding ({total} characters, not \
                         a multiple of 4); most decoders cope"
                    ),
                )
                .reference("RFC 4648 §3.2"),
            );
        }
    }
    out
}

/// Encodes bytes as base64, in lines of `line_len` characters (76 for
/// MIME bodies, RFC 2045 §6.8) joined by CRLF, or in one line if `None`.
pub fn encode_base64(bytes: &[u8], line_len: Option<usize>) -> String {
    let text = crate::base64::encode(bytes);
    match line_len {
        Some(n) if n > 0 && text.len() > n => {
            let lines: Vec<&str> = text
                .as_bytes()
                .chunks(n)
                .map(|c| std::str::from_utf8(c).unwrap_or(""))
                .collect();
            lines.join("\r\n")
        }
        _ => text,
    }
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'A'..=b'F' => Some(b - b'A' + 10),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    }
}

/// Decodes quoted-printable text (RFC 2045 §6.7). Line breaks stay CRLF
/// (or what the input had); a `=` at the end of a line joins it to the next.
pub fn decode_quoted_printable(input: &[u8], base: usize) -> Decoded {
    let mut out = Decoded::default();
    let mut bad_escape: Option<usize> = None;
    let mut bad_escapes = 0usize;
    let mut lowercase: Option<usize> = None;
    let mut long_line: Option<(usize, usize)> = None;
    let mut eight_bit: Option<usize> = None;
    let mut line_start = 0usize;
    let mut i = 0usize;
    while i <= input.len() {
        // Find the end of this line.
        let rel_end = input[i..].iter().position(|&b| b == b'\n');
        let (content_end, next) = match rel_end {
            Some(rel) => {
                let lf = i + rel;
                let end = if lf > i && input[lf - 1] == b'\r' {
                    lf - 1
                } else {
                    lf
                };
                (end, lf + 1)
            }
            None => (input.len(), input.len() + 1),
        };
        let line = &input[i..content_end];
        if line.len() > 76 && long_line.is_none() {
            long_line = Some((line_start, line.len()));
        }
        // Transport may add trailing whitespace; it is not part of the data.
        let trimmed_len = line
            .iter()
            .rposition(|&b| b != b' ' && b != b'\t')
            .map_or(0, |p| p + 1);
        let line = &line[..trimmed_len];
        let soft_break = line.last() == Some(&b'=');
        let data = if soft_break {
            &line[..line.len() - 1]
        } else {
            line
        };
        let mut j = 0;
        while j < data.len() {
            let b = data[j];
            if b == b'=' {
                let hi = data.get(j + 1).copied().and_then(hex_value);
                let lo = data.get(j + 2).copied().and_then(hex_value);
                if let (Some(hi), Some(lo)) = (hi, lo) {
                    if data[j + 1].is_ascii_lowercase() || data[j + 2].is_ascii_lowercase() {
                        lowercase.get_or_insert(i + j);
                    }
                    out.bytes.push(hi << 4 | lo);
                    j += 3;
                    continue;
                }
                bad_escapes += 1;
                bad_escape.get_or_insert(i + j);
                out.bytes.push(b'=');
                j += 1;
                continue;
            }
            if b >= 0x80 {
                eight_bit.get_or_insert(i + j);
            }
            out.bytes.push(b);
            j += 1;
        }
        if next > input.len() {
            break;
        }
        if !soft_break {
            out.bytes.extend_from_slice(&input[content_end..next]);
        }
        i = next;
        line_start = i;
    }
    if let Some(at) = bad_escape {
        out.diagnostics.push(
            Diagnostic::warning(
                Span::new(base + at, base + (at + 3).min(input.len())),
                format!(
                    "{bad_escapes} '=' sign(s) are not followed by two hex digits; in \
                     quoted-printable a literal '=' is written =3D (kept as is here)"
                ),
            )
            .reference("RFC 2045 §6.7"),
        );
    }
    if let Some(at) = lowercase {
        out.diagnostics.push(
            Diagnostic::note(
                Span::new(base + at, base + at + 3),
                "quoted-printable escapes should use upper-case hex digits (=C3, not =c3)",
            )
            .reference("RFC 2045 §6.7"),
        );
    }
    if let Some((at, len)) = long_line {
        out.diagnostics.push(
            Diagnostic::warning(
                Span::new(base + at, base + at + len),
                format!(
                    "a quoted-printable line is {len} characters long; encoded lines must not \
                     exceed 76 (use a soft line break '=')"
                ),
            )
            .reference("RFC 2045 §6.7 rule 5"),
        );
    }
    if let Some(at) = eight_bit {
        out.diagnostics.push(
            Diagnostic::warning(
                Span::new(base + at, base + at + 1),
                "quoted-printable text contains 8-bit bytes, which it exists to avoid; they \
                 should be written as =XX",
            )
            .reference("RFC 2045 §6.7"),
        );
    }
    out
}

/// Encodes bytes as quoted-printable with CRLF line breaks kept as line
/// breaks and soft breaks keeping lines within 76 characters.
pub fn encode_quoted_printable(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + bytes.len() / 8);
    let mut line_len = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
            out.push_str("\r\n");
            line_len = 0;
            i += 2;
            continue;
        }
        let next_is_break =
            i + 1 == bytes.len() || (bytes[i + 1] == b'\r' && bytes.get(i + 2) == Some(&b'\n'));
        let literal =
            (b == b' ' || b == b'\t') && !next_is_break || (b'!'..=b'~').contains(&b) && b != b'=';
        let piece = if literal {
            (b as char).to_string()
        } else {
            format!("={b:02X}")
        };
        // Leave room for the '=' of a soft break.
        if line_len + piece.len() > 75 {
            out.push_str("=\r\n");
            line_len = 0;
        }
        line_len += piece.len();
        out.push_str(&piece);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dissect::Severity;
    use proptest::prelude::*;

    #[test]
    fn base64_known_answers() {
        assert_eq!(decode_base64(b"SGVsbG8=", 0).bytes, b"Hello");
        assert_eq!(decode_base64(b"SGVs\r\nbG8h", 0).bytes, b"Hello!");
        assert_eq!(encode_base64(b"Hello", None), "SGVsbG8=");
        assert_eq!(encode_base64(b"", None), "");
        assert_eq!(encode_base64(&[0xff; 60], Some(76)).lines().count(), 2);
    }

    #[test]
    fn the_course_base64_is_corrupt_length_mod_4_is_1() {
        let course = b"PGh0bWw+CiAgPGhlYWQ+CiAgPC9oZWFkPgogIDxib2R5PgogICAgAVGhpcyBpcyB0aGUgYm9keSBvZiB0aGUgbWVzc2FnZS48L3A+CiAgPC9ib2R5Pgo8L2h0bWw+Cg==";
        assert_eq!(course.len() % 4, 1);
        let d = decode_base64(course, 100);
        assert_eq!(d.diagnostics.len(), 1, "{:?}", d.diagnostics);
        assert_eq!(d.diagnostics[0].severity, Severity::Error);
        assert!(d.diagnostics[0].message.contains("129 mod 4 = 1"));
        assert_eq!(d.diagnostics[0].span, Span::new(100, 229));
        // It still starts with what it meant: "<html>".
        assert!(d.bytes.starts_with(b"<html>"));
    }

    #[test]
    fn base64_problems_are_located() {
        let d = decode_base64(b"base64 encoded data .....", 10);
        assert!(
            d.diagnostics[0]
                .message
                .contains("not in the base64 alphabet")
        );
        // The first byte outside the alphabet is the first '.'.
        assert_eq!(d.diagnostics[0].span, Span::new(30, 31));
        let d = decode_base64(b"SGVsbG8", 0);
        assert_eq!(d.bytes, b"Hello");
        assert_eq!(d.diagnostics[0].severity, Severity::Warning);
        let d = decode_base64(b"SGVs=bG8=", 0);
        assert!(
            d.diagnostics
                .iter()
                .any(|d| d.message.contains("after the '='"))
        );
    }

    #[test]
    fn quoted_printable_known_answers() {
        let d = decode_quoted_printable(b"Cr=C3=A8me br=C3=BBl=C3=A9e=\r\n, soft\r\nnext", 0);
        assert_eq!(
            String::from_utf8(d.bytes).unwrap(),
            "Crème brûlée, soft\r\nnext"
        );
        assert!(d.diagnostics.is_empty());
        let d = decode_quoted_printable(b"a=zz b=3d  \r\n", 0);
        assert_eq!(d.bytes, b"a=zz b=\r\n");
        assert_eq!(d.diagnostics.len(), 2);
        assert_eq!(d.diagnostics[0].span, Span::new(1, 4));
        let long = vec![b'x'; 80];
        let d = decode_quoted_printable(&long, 0);
        assert!(d.diagnostics[0].message.contains("80 characters"));
    }

    #[test]
    fn quoted_printable_encoding_keeps_lines_short_and_ascii() {
        let text = "Crème brûlée ".repeat(20) + "\r\nend ";
        let encoded = encode_quoted_printable(text.as_bytes());
        assert!(encoded.lines().all(|l| l.len() <= 76), "{encoded}");
        assert!(encoded.is_ascii());
        assert!(encoded.ends_with("end=20"));
        assert_eq!(
            decode_quoted_printable(encoded.as_bytes(), 0).bytes,
            text.as_bytes()
        );
    }

    proptest! {
        #[test]
        fn base64_round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..300), wrap in proptest::option::of(4usize..80)) {
            let wrap = wrap.map(|w| w - w % 4);
            let encoded = encode_base64(&bytes, wrap);
            let decoded = decode_base64(encoded.as_bytes(), 0);
            prop_assert_eq!(decoded.bytes, bytes);
            prop_assert!(decoded.diagnostics.is_empty());
        }

        #[test]
        fn quoted_printable_round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let encoded = encode_quoted_printable(&bytes);
            prop_assert!(encoded.is_ascii());
            let decoded = decode_quoted_printable(encoded.as_bytes(), 0);
            prop_assert_eq!(decoded.bytes, bytes);
        }

        #[test]
        fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let len = bytes.len();
            for d in [decode_base64(&bytes, 5), decode_quoted_printable(&bytes, 5)] {
                for diag in d.diagnostics {
                    prop_assert!(diag.span.end <= len + 5);
                }
            }
        }
    }
}
