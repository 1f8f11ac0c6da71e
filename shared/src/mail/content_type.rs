//! `Content-Type` and `Content-Disposition` values (RFC 2045 §5, RFC 2183):
//! a media type such as `multipart/mixed` or a disposition such as
//! `attachment`, then `; name=value` parameters, quoted or not, with the
//! RFC 2231 forms (`filename*=utf-8''cr%C3%AApe.jpg`, `name*0=...`).
//!
//! [`parse`] reads a field value into the typed [`Parameterized`] and the
//! fields of the dissection tree; it never fails.

use super::charset;
use super::cover::cover;
use super::lex::{MIME_TSPECIALS, Token, TokenKind, tokenize};
use crate::dissect::{Diagnostic, Field, Span};

/// One parameter after the RFC 2231 pieces were joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter {
    /// Lower-cased, without RFC 2231 `*` suffixes.
    pub name: String,
    pub value: String,
    pub span: Span,
}

/// `type/subtype; params` or `disposition; params`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Parameterized {
    /// Lower-cased: `multipart`, or the disposition (`attachment`).
    pub kind: String,
    /// Lower-cased subtype (`mixed`); empty for a disposition.
    pub subtype: String,
    pub parameters: Vec<Parameter>,
}

impl Parameterized {
    /// `multipart/mixed`.
    pub fn essence(&self) -> String {
        if self.subtype.is_empty() {
            self.kind.clone()
        } else {
            format!("{}/{}", self.kind, self.subtype)
        }
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.parameters
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .map(|p| p.value.as_str())
    }

    pub fn is_multipart(&self) -> bool {
        self.kind == "multipart"
    }
}

/// What [`parse`] returns.
#[derive(Debug, Clone, Default)]
pub struct ParsedParameterized {
    pub value: Option<Parameterized>,
    pub fields: Vec<Field>,
    pub diagnostics: Vec<Diagnostic>,
}

fn percent_decode(text: &str) -> Vec<u8> {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(v) = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// Reads the value in `span`. With `media_type`, the value starts with
/// `type/subtype` (Content-Type); otherwise with one token (a disposition).
pub fn parse(bytes: &[u8], span: Span, media_type: bool) -> ParsedParameterized {
    let (tokens, mut diagnostics) = tokenize(bytes, span, MIME_TSPECIALS);
    let tokens: Vec<Token> = tokens
        .into_iter()
        .filter(|t| t.kind != TokenKind::Comment)
        .collect();
    let mut out = ParsedParameterized::default();
    let mut children = Vec::new();
    let mut i = 0;
    let mut value = Parameterized::default();
    // The leading type/subtype or disposition.
    match tokens.first() {
        Some(t) if t.kind == TokenKind::Word => {
            value.kind = t.text.to_ascii_lowercase();
            let mut end = t.span.end;
            i = 1;
            if media_type {
                let slash = tokens.get(1).is_some_and(|t| t.is_special(b'/'));
                let sub = tokens.get(2).filter(|t| t.kind == TokenKind::Word);
                match (slash, sub) {
                    (true, Some(sub)) => {
                        value.subtype = sub.text.to_ascii_lowercase();
                        end = sub.span.end;
                        i = 3;
                    }
                    _ => diagnostics.push(
                        Diagnostic::error(
                            t.span,
                            format!(
                                "{:?} has no subtype: a media type is type/subtype, such as \
                                 text/plain",
                                t.text
                            ),
                        )
                        .reference("RFC 2045 §5.1"),
                    ),
                }
            }
            let whole = Span::new(t.span.start, end);
            let label = if media_type {
                "Media type"
            } else {
                "Disposition"
            };
            children.push(
                Field::new(label, whole, value.essence()).help(if media_type {
                    "What the body is: a top-level type (text, image, multipart, ...) and a \
                 subtype (RFC 2045 §5, RFC 2046)."
                } else {
                    "inline (show it in the message) or attachment (offer to save it), RFC 2183."
                }),
            );
        }
        _ => {
            diagnostics.push(
                Diagnostic::error(
                    span,
                    if media_type {
                        "the field has no media type"
                    } else {
                        "the field has no disposition type"
                    },
                )
                .reference(if media_type {
                    "RFC 2045 §5.1"
                } else {
                    "RFC 2183 §2"
                }),
            );
        }
    }
    // RFC 2231 pieces: (base name, section, extended, value, span)
    let mut pieces: Vec<(String, u32, bool, String, Span)> = Vec::new();
    while i < tokens.len() {
        let t = &tokens[i];
        if !t.is_special(b';') {
            diagnostics.push(
                Diagnostic::warning(
                    t.span,
                    format!(
                        "unexpected {:?}: parameters are separated by ';', and a value with \
                         special characters must be quoted",
                        t.text
                    ),
                )
                .reference("RFC 2045 §5.1"),
            );
            i += 1;
            continue;
        }
        i += 1;
        let Some(name) = tokens.get(i).filter(|t| t.kind == TokenKind::Word) else {
            // A trailing ';' is common and harmless.
            continue;
        };
        i += 1;
        if !tokens.get(i).is_some_and(|t| t.is_special(b'=')) {
            diagnostics.push(
                Diagnostic::warning(
                    name.span,
                    format!("the parameter {:?} has no '=value'", name.text),
                )
                .reference("RFC 2045 §5.1"),
            );
            continue;
        }
        i += 1;
        let Some(v) = tokens
            .get(i)
            .filter(|t| matches!(t.kind, TokenKind::Word | TokenKind::Quoted))
        else {
            diagnostics.push(
                Diagnostic::warning(
                    name.span,
                    format!("the parameter {:?} has an empty value", name.text),
                )
                .reference("RFC 2045 §5.1"),
            );
            continue;
        };
        i += 1;
        let pspan = Span::new(name.span.start, v.span.end);
        let raw_name = name.text.to_ascii_lowercase();
        let (base, section, extended) = split_2231(&raw_name);
        children.push(
            Field::new(format!("Parameter: {}", name.text), pspan, v.text.clone()).with_children(
                cover(
                    bytes,
                    pspan,
                    vec![
                        Field::new("Name", name.span, name.text.clone()),
                        Field::new("Value", v.span, v.text.clone()).help(param_help(&base)),
                    ],
                ),
            ),
        );
        pieces.push((base, section, extended, v.text.clone(), pspan));
    }
    // Join RFC 2231 continuations and decode extended values.
    let mut names: Vec<String> = Vec::new();
    for (base, ..) in &pieces {
        if !names.contains(base) {
            names.push(base.clone());
        }
    }
    for base in names {
        let mut parts: Vec<&(String, u32, bool, String, Span)> =
            pieces.iter().filter(|p| p.0 == base).collect();
        let plain_repeats = parts.iter().filter(|p| p.1 == 0).count();
        if plain_repeats > 1 {
            diagnostics.push(
                Diagnostic::warning(
                    parts[1].4,
                    format!("the parameter {base:?} is given more than once; readers disagree on which wins"),
                )
                .reference("RFC 2045 §5"),
            );
            parts.truncate(1);
        }
        parts.sort_by_key(|p| p.1);
        let mut raw = Vec::new();
        let mut charset_label: Option<String> = None;
        for (k, (_, _, extended, text, _)) in parts.iter().enumerate() {
            if *extended {
                let mut text = text.as_str();
                if k == 0 {
                    let mut it = text.splitn(3, '\'');
                    if let (Some(cs), Some(_lang), Some(rest)) = (it.next(), it.next(), it.next()) {
                        charset_label = Some(cs.to_string());
                        text = rest;
                    }
                }
                raw.extend(percent_decode(text));
            } else {
                raw.extend_from_slice(text.as_bytes());
            }
        }
        let value_text = match charset_label.as_deref() {
            Some(cs) if !cs.is_empty() => charset::decode(&raw, cs).0,
            _ => String::from_utf8_lossy(&raw).into_owned(),
        };
        let span = Span::new(parts[0].4.start, parts[parts.len() - 1].4.end);
        value.parameters.push(Parameter {
            name: base,
            value: value_text,
            span,
        });
    }
    if media_type
        && value.is_multipart()
        && let Some(b) = value.parameters.iter().find(|p| p.name == "boundary")
    {
        check_boundary(&b.value, b.span, &mut diagnostics);
    }
    if !value.kind.is_empty() {
        out.value = Some(value);
    }
    out.fields = cover(bytes, span, children);
    out.diagnostics = diagnostics;
    out
}

/// `filename*1*` → ("filename", 1, true).
fn split_2231(name: &str) -> (String, u32, bool) {
    let (name, extended) = match name.strip_suffix('*') {
        Some(n) => (n, true),
        None => (name, false),
    };
    if let Some((base, section)) = name.rsplit_once('*')
        && let Ok(n) = section.parse::<u32>()
    {
        return (base.to_string(), n, extended);
    }
    (name.to_string(), 0, extended)
}

fn param_help(name: &str) -> &'static str {
    match name {
        "boundary" => {
            "The line that separates the parts of a multipart body: each part starts after \
             --boundary, the body ends with --boundary-- (RFC 2046 §5.1.1)."
        }
        "charset" => {
            "The character set of the text, such as UTF-8 or ISO-8859-1 (RFC 2046 §4.1.2)."
        }
        "name" | "filename" => {
            "The file name a mail reader offers when saving the part (RFC 2183 §2.3)."
        }
        _ => "A parameter of the media type or disposition (RFC 2045 §5.1).",
    }
}

fn check_boundary(boundary: &str, span: Span, out: &mut Vec<Diagnostic>) {
    if boundary.is_empty() || boundary.len() > 70 {
        out.push(
            Diagnostic::error(
                span,
                format!(
                    "a boundary is 1 to 70 characters long; this one has {}",
                    boundary.len()
                ),
            )
            .reference("RFC 2046 §5.1.1"),
        );
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || "'()+_,-./:=? ".contains(c);
    if let Some(c) = boundary.chars().find(|&c| !allowed(c)) {
        out.push(
            Diagnostic::warning(
                span,
                format!("the boundary contains {c:?}, which RFC 2046's bchars do not allow"),
            )
            .reference("RFC 2046 §5.1.1"),
        );
    }
    if boundary.ends_with(' ') {
        out.push(
            Diagnostic::warning(span, "a boundary must not end with a space")
                .reference("RFC 2046 §5.1.1"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str, media: bool) -> ParsedParameterized {
        parse(s.as_bytes(), Span::new(0, s.len()), media)
    }

    #[test]
    fn the_course_content_types() {
        let c = p(" multipart/mixed; boundary=\"frontier\"", true);
        let v = c.value.unwrap();
        assert_eq!(v.essence(), "multipart/mixed");
        assert_eq!(v.param("boundary"), Some("frontier"));
        assert!(c.diagnostics.is_empty());
        let c = p(" multipart/mixed; Boundary=StartOfNextPart", true);
        assert_eq!(c.value.unwrap().param("boundary"), Some("StartOfNextPart"));
        let c = p(" text/plain; charset=\"ISO-8859-1\"", true);
        assert_eq!(c.value.unwrap().param("charset"), Some("ISO-8859-1"));
    }

    #[test]
    fn rfc2231_and_dispositions() {
        let c = p(
            " attachment; filename*=utf-8''cr%C3%AApe.jpg; size=12",
            false,
        );
        let v = c.value.unwrap();
        assert_eq!(v.kind, "attachment");
        assert_eq!(v.param("filename"), Some("crêpe.jpg"));
        let c = p(" attachment; name*0=\"long \"; name*1=\"name.txt\"", false);
        assert_eq!(c.value.unwrap().param("name"), Some("long name.txt"));
    }

    #[test]
    fn mistakes_are_diagnosed_and_bytes_covered() {
        let c = p(" image", true);
        assert!(c.diagnostics[0].message.contains("no subtype"));
        let c = p(" multipart/mixed", true);
        assert!(c.value.unwrap().param("boundary").is_none());
        let c = p(" multipart/mixed; boundary=a:b; x", true);
        assert_eq!(c.diagnostics.len(), 3, "{:?}", c.diagnostics);
        assert_eq!(c.fields.first().unwrap().span.start, 0);
        assert_eq!(c.fields.last().unwrap().span.end, 33);
        let c = p("", true);
        assert!(c.value.is_none());
    }
}
