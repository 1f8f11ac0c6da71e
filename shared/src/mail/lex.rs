//! The lexical layer of structured header fields (RFC 5322 §3.2, RFC 2045
//! §5.1): words, quoted strings, comments, domain literals and specials,
//! each with its span in the raw message.
//!
//! The caller passes the raw bytes of the whole message and the span of a
//! field value (folds included); whitespace and folding between tokens are
//! skipped, so the caller covers those gaps itself (see
//! [`super::cover::cover`]). Nothing here fails: an unterminated quoted
//! string or comment ends at the end of the value, with a diagnostic.

use crate::dissect::{Diagnostic, Span};

/// The specials of addresses (RFC 5322 §3.2.3), without `.`: a dot-atom
/// such as `crepes.fr` stays one word.
pub const ADDRESS_SPECIALS: &[u8] = b"()<>[]:;@\\,\"";

/// The tspecials of MIME parameters (RFC 2045 §5.1).
pub const MIME_TSPECIALS: &[u8] = b"()<>@,;:\\\"/[]?=";

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A run of ordinary characters: an atom, a token, a dot-atom.
    Word,
    /// `"..."`; the token's text is the content without quotes or escapes.
    Quoted,
    /// `(...)`; the text is the content without the outer parentheses.
    Comment,
    /// `[...]` where `[` is a special.
    DomainLiteral,
    /// One special character.
    Special(u8),
}

/// One token of a structured field value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
    /// The decoded text (quotes, escapes and folds removed).
    pub text: String,
}

impl Token {
    pub fn is_special(&self, c: u8) -> bool {
        self.kind == TokenKind::Special(c)
    }
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Splits `span` of `bytes` into tokens. `specials` are the characters that
/// stand alone (`(` and `"` always start a comment and a quoted string).
pub fn tokenize(bytes: &[u8], span: Span, specials: &[u8]) -> (Vec<Token>, Vec<Diagnostic>) {
    let end = span.end.min(bytes.len());
    let mut i = span.start.min(end);
    let mut tokens = Vec::new();
    let mut diagnostics = Vec::new();
    while i < end {
        let c = bytes[i];
        if is_space(c) {
            i += 1;
            continue;
        }
        let start = i;
        match c {
            b'(' => {
                let mut depth = 0usize;
                let mut text = Vec::new();
                let mut closed = false;
                while i < end {
                    let b = bytes[i];
                    match b {
                        b'\\' if i + 1 < end => {
                            text.push(bytes[i + 1]);
                            i += 2;
                            continue;
                        }
                        b'(' => {
                            if depth > 0 {
                                text.push(b);
                            }
                            depth += 1;
                        }
                        b')' => {
                            depth -= 1;
                            if depth == 0 {
                                i += 1;
                                closed = true;
                                break;
                            }
                            text.push(b);
                        }
                        b'\r' | b'\n' => {}
                        _ => text.push(b),
                    }
                    i += 1;
                }
                if !closed {
                    diagnostics.push(
                        Diagnostic::warning(
                            Span::new(start, i),
                            "this comment has no closing parenthesis",
                        )
                        .reference("RFC 5322 §3.2.2"),
                    );
                }
                tokens.push(Token {
                    kind: TokenKind::Comment,
                    span: Span::new(start, i),
                    text: String::from_utf8_lossy(&text).into_owned(),
                });
            }
            b'"' => {
                i += 1;
                let mut text = Vec::new();
                let mut closed = false;
                while i < end {
                    match bytes[i] {
                        b'\\' if i + 1 < end => {
                            text.push(bytes[i + 1]);
                            i += 2;
                            continue;
                        }
                        b'"' => {
                            i += 1;
                            closed = true;
                            break;
                        }
                        b'\r' | b'\n' => {}
                        b => text.push(b),
                    }
                    i += 1;
                }
                if !closed {
                    diagnostics.push(
                        Diagnostic::warning(
                            Span::new(start, i),
                            "this quoted string has no closing quote",
                        )
                        .reference("RFC 5322 §3.2.4"),
                    );
                }
                tokens.push(Token {
                    kind: TokenKind::Quoted,
                    span: Span::new(start, i),
                    text: String::from_utf8_lossy(&text).into_owned(),
                });
            }
            b'[' if specials.contains(&b'[') => {
                while i < end && bytes[i] != b']' {
                    i += 1;
                }
                if i < end {
                    i += 1;
                } else {
                    diagnostics.push(
                        Diagnostic::warning(
                            Span::new(start, i),
                            "this domain literal has no closing bracket",
                        )
                        .reference("RFC 5322 §3.4.1"),
                    );
                }
                tokens.push(Token {
                    kind: TokenKind::DomainLiteral,
                    span: Span::new(start, i),
                    text: String::from_utf8_lossy(&bytes[start..i]).into_owned(),
                });
            }
            c if specials.contains(&c) => {
                i += 1;
                tokens.push(Token {
                    kind: TokenKind::Special(c),
                    span: Span::new(start, i),
                    text: (c as char).to_string(),
                });
            }
            _ => {
                while i < end {
                    let b = bytes[i];
                    if is_space(b) || b == b'(' || b == b'"' || specials.contains(&b) {
                        break;
                    }
                    i += 1;
                }
                tokens.push(Token {
                    kind: TokenKind::Word,
                    span: Span::new(start, i),
                    text: String::from_utf8_lossy(&bytes[start..i]).into_owned(),
                });
            }
        }
    }
    (tokens, diagnostics)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(input: &str, specials: &[u8]) -> Vec<(TokenKind, String)> {
        let bytes = input.as_bytes();
        tokenize(bytes, Span::new(0, bytes.len()), specials)
            .0
            .into_iter()
            .map(|t| (t.kind, t.text))
            .collect()
    }

    #[test]
    fn addresses_split_into_words_and_specials() {
        let t = kinds(
            "\"Alice \\\"A\\\"\" <alice@crepes.fr> (chef)",
            ADDRESS_SPECIALS,
        );
        assert_eq!(
            t,
            vec![
                (TokenKind::Quoted, "Alice \"A\"".into()),
                (TokenKind::Special(b'<'), "<".into()),
                (TokenKind::Word, "alice".into()),
                (TokenKind::Special(b'@'), "@".into()),
                (TokenKind::Word, "crepes.fr".into()),
                (TokenKind::Special(b'>'), ">".into()),
                (TokenKind::Comment, "chef".into()),
            ]
        );
    }

    #[test]
    fn mime_parameters_and_folds() {
        let t = kinds(
            "multipart/mixed;\r\n boundary=\"front ier\"",
            MIME_TSPECIALS,
        );
        let texts: Vec<_> = t.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(
            texts,
            ["multipart", "/", "mixed", ";", "boundary", "=", "front ier"]
        );
    }

    #[test]
    fn unterminated_constructs_end_at_the_value_with_a_diagnostic() {
        let bytes = b"(open \"quote";
        let (tokens, diags) = tokenize(bytes, Span::new(0, bytes.len()), ADDRESS_SPECIALS);
        assert_eq!(tokens.len(), 1);
        assert_eq!(tokens[0].span, Span::new(0, bytes.len()));
        assert_eq!(diags.len(), 1);
        let bytes = b"a \"b";
        let (tokens, diags) = tokenize(bytes, Span::new(0, 4), ADDRESS_SPECIALS);
        assert_eq!(tokens[1].text, "b");
        assert_eq!(diags.len(), 1);
    }
}
