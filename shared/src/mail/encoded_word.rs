//! Encoded words in header fields (RFC 2047): `=?charset?Q?text?=` and
//! `=?charset?B?text?=`, the way non-ASCII text such as
//! `=?utf-8?Q?=C2=A1Hola,_se=C3=B1or!?=` ("¡Hola, señor!") travels in a
//! 7-bit header.
//!
//! [`decode_unstructured`] reads a whole field value (folds included, as
//! raw bytes of the message) into display text, and returns every encoded
//! word it found with its span, charset and decoded text. Malformed words
//! are left as they are, as mail readers do.

use super::charset;
use super::transfer::decode_base64;
use crate::dissect::{Diagnostic, Span};

/// One encoded word found in a header value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedWord {
    /// The whole `=?...?=`.
    pub span: Span,
    pub charset: String,
    /// `B` or `Q` (upper-cased).
    pub encoding: char,
    /// The encoded text between the third `?` and the final `?=`.
    pub text: Span,
    pub decoded: String,
}

/// A header value turned into text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DecodedText {
    pub text: String,
    pub words: Vec<EncodedWord>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Tries to read one encoded word starting at `at` (which must point at
/// `=?`), within `end`. Returns the word and where it ends.
pub fn parse_word(bytes: &[u8], at: usize, end: usize) -> Option<(EncodedWord, Vec<Diagnostic>)> {
    let end = end.min(bytes.len());
    if at + 2 > end || &bytes[at..at + 2] != b"=?" {
        return None;
    }
    let printable = |b: u8| b > b' ' && b < 0x7f;
    let mut i = at + 2;
    let charset_start = i;
    while i < end && bytes[i] != b'?' {
        if !printable(bytes[i]) {
            return None;
        }
        i += 1;
    }
    if i >= end || i == charset_start {
        return None;
    }
    let charset_full = String::from_utf8_lossy(&bytes[charset_start..i]).into_owned();
    i += 1;
    let encoding = (*bytes.get(i)? as char).to_ascii_uppercase();
    if !(encoding == 'B' || encoding == 'Q') || bytes.get(i + 1) != Some(&b'?') {
        return None;
    }
    i += 2;
    let text_start = i;
    while i + 1 < end && !(bytes[i] == b'?' && bytes[i + 1] == b'=') {
        if !printable(bytes[i]) {
            return None;
        }
        i += 1;
    }
    if i + 1 >= end {
        return None;
    }
    let text = Span::new(text_start, i);
    let span = Span::new(at, i + 2);
    // RFC 2231 §5 allows a language after the charset: utf-8*fr.
    let charset_name = charset_full
        .split('*')
        .next()
        .unwrap_or_default()
        .to_string();
    let mut diagnostics = Vec::new();
    let raw = text.slice(bytes);
    let decoded_bytes = if encoding == 'B' {
        let d = decode_base64(raw, text.start);
        diagnostics.extend(d.diagnostics);
        d.bytes
    } else {
        decode_q(raw)
    };
    let (decoded, problem) = charset::decode(&decoded_bytes, &charset_name);
    if let Some(problem) = problem {
        diagnostics.push(Diagnostic::warning(span, problem.describe()).reference("RFC 2047 §3"));
    }
    if span.len() > 75 {
        diagnostics.push(
            Diagnostic::note(
                span,
                format!(
                    "this encoded word is {} characters long; RFC 2047 limits one to 75 \
                     (split longer text into several words)",
                    span.len()
                ),
            )
            .reference("RFC 2047 §2"),
        );
    }
    Some((
        EncodedWord {
            span,
            charset: charset_name,
            encoding,
            text,
            decoded,
        },
        diagnostics,
    ))
}

/// The "Q" encoding: like quoted-printable, with `_` for a space.
fn decode_q(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'_' => out.push(b' '),
            b'=' => {
                let hex = raw.get(i + 1..i + 3).and_then(|h| {
                    std::str::from_utf8(h)
                        .ok()
                        .and_then(|s| u8::from_str_radix(s, 16).ok())
                });
                match hex {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'='),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    out
}

/// Decodes an unstructured value (Subject, Comments, a display name): the
/// folds are removed, encoded words decoded, and the white space between
/// two adjacent encoded words dropped (RFC 2047 §6.2).
pub fn decode_unstructured(bytes: &[u8], span: Span) -> DecodedText {
    let end = span.end.min(bytes.len());
    let mut out = DecodedText::default();
    // Text since the last encoded word, kept apart so that pure white space
    // between two words can be dropped.
    let mut pending = Vec::new();
    let mut last_was_word = false;
    let mut i = span.start.min(end);
    while i < end {
        let b = bytes[i];
        if b == b'='
            && bytes.get(i + 1) == Some(&b'?')
            && let Some((word, diagnostics)) = parse_word(bytes, i, end)
        {
            let only_space = pending.iter().all(|&c| c == b' ' || c == b'\t');
            if !(last_was_word && only_space) {
                out.text.push_str(&String::from_utf8_lossy(&pending));
            }
            pending.clear();
            out.text.push_str(&word.decoded);
            i = word.span.end;
            out.words.push(word);
            out.diagnostics.extend(diagnostics);
            last_was_word = true;
            continue;
        }
        if b != b'\r' && b != b'\n' {
            pending.push(b);
        }
        i += 1;
    }
    out.text.push_str(&String::from_utf8_lossy(&pending));
    let trimmed = out.text.trim_matches([' ', '\t']).to_string();
    out.text = trimmed;
    out
}

/// Encodes text as one or more Q encoded words in UTF-8 if it is not plain
/// ASCII (for composing headers); ASCII text is returned as is.
pub fn encode_if_needed(text: &str) -> String {
    if text.is_ascii() {
        return text.to_string();
    }
    let mut words = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        let mut piece = String::new();
        if c == ' ' {
            piece.push('_');
        } else if c.is_ascii_alphanumeric() || "!*+-/".contains(c) {
            piece.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                piece.push_str(&format!("={b:02X}"));
            }
        }
        // "=?utf-8?Q?" + "?=" is 12 characters; keep words within 75.
        if current.len() + piece.len() > 63 {
            words.push(std::mem::take(&mut current));
        }
        current.push_str(&piece);
    }
    words.push(current);
    words
        .iter()
        .map(|w| format!("=?utf-8?Q?{w}?="))
        .collect::<Vec<_>>()
        .join("\r\n ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(s: &str) -> DecodedText {
        decode_unstructured(s.as_bytes(), Span::new(0, s.len()))
    }

    #[test]
    fn the_course_subject() {
        let d = decode(" =?utf-8?Q?=C2=A1Hola,_se=C3=B1or!?=");
        assert_eq!(d.text, "¡Hola, señor!");
        assert_eq!(d.words.len(), 1);
        assert_eq!(d.words[0].charset, "utf-8");
        assert_eq!(d.words[0].encoding, 'Q');
        assert_eq!(d.words[0].span, Span::new(1, 36));
        assert!(d.diagnostics.is_empty());
    }

    #[test]
    fn base64_latin1_adjacent_words_and_plain_text() {
        let d = decode("=?ISO-8859-1?B?Q3Lq?= =?iso-8859-1?q?pes?= au  beurre");
        assert_eq!(d.text, "Crêpes au  beurre");
        let d = decode("Re: =?utf-8?B?w6l0w6k=?=\r\n and more");
        assert_eq!(d.text, "Re: été and more");
        let d = decode("=?utf-8*fr?Q?=C3=A0?=");
        assert_eq!(d.text, "à");
    }

    #[test]
    fn malformed_words_stay_literal() {
        for s in [
            "=?utf-8?X?abc?=",
            "=?utf-8?Q?abc",
            "=??Q?a?=",
            "=?utf 8?Q?a?=",
        ] {
            assert_eq!(decode(s).text, s, "{s}");
        }
        let d = decode("=?klingon?Q?abc?=");
        assert_eq!(d.text, "abc");
        assert_eq!(d.diagnostics.len(), 1);
    }

    #[test]
    fn encoding_round_trips() {
        for text in ["¡Hola, señor!", "plain", &"é".repeat(40)] {
            let encoded = encode_if_needed(text);
            assert!(encoded.is_ascii());
            assert_eq!(decode(&encoded).text, text);
        }
    }
}
