//! The MIME structure of a message (RFC 2045, RFC 2046): a tree of
//! entities, each with its header section, its media type and transfer
//! encoding, and a body that is either content, a list of parts separated
//! by boundary lines, or an encapsulated message (`message/rfc822`).
//!
//! [`parse`] never fails. Every span points into the raw message, so a page
//! can highlight any part of it. The structural mistakes the course's
//! examples make (a part without the empty line after its header, a
//! missing boundary line, a missing closing boundary) are kept as
//! diagnostics on the entity where they happen. Decoding is on demand
//! ([`Entity::decoded`], [`Entity::text`]).

use super::charset;
use super::content_type::{self, Parameterized};
use super::header::{HeaderSection, parse_section};
use super::transfer::{Decoded, TransferEncoding, decode_base64, decode_quoted_printable};
use crate::dissect::{Diagnostic, Span};

/// Nested multiparts deeper than this are read as plain content, so a
/// hostile message cannot exhaust the stack.
pub const MAX_DEPTH: usize = 32;

/// One MIME entity: the message itself, a body part, or an encapsulated message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entity {
    pub span: Span,
    pub header: HeaderSection,
    pub body: Span,
    /// The media type in effect: the declared one, or the default
    /// (`text/plain; charset=us-ascii`, `message/rfc822` in a digest).
    pub media_type: Parameterized,
    /// Whether `media_type` was declared by a Content-Type field.
    pub declared_type: bool,
    pub encoding: TransferEncoding,
    pub disposition: Option<Parameterized>,
    pub content: Content,
    /// Structural problems of this entity (not of its header fields, which
    /// the dissector reports field by field).
    pub diagnostics: Vec<Diagnostic>,
}

/// What the body of an entity holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// Content to decode and show.
    Single,
    Multipart(Multipart),
    /// A `message/rfc822` body, itself a message.
    Message(Box<Entity>),
}

/// The body of a `multipart/*` entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Multipart {
    pub boundary: String,
    /// Text before the first boundary line, which readers ignore.
    pub preamble: Option<Span>,
    pub parts: Vec<BodyPart>,
    /// The closing `--boundary--` line, with the line ending before it.
    pub close: Option<Span>,
    /// Text after the closing boundary, which readers ignore.
    pub epilogue: Option<Span>,
}

/// One part of a multipart body with the boundary line that opens it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyPart {
    /// The `--boundary` line, with the line ending before it (which belongs
    /// to the delimiter, RFC 2046 §5.1.1).
    pub delimiter: Span,
    pub entity: Entity,
}

impl Entity {
    /// `text/plain`, `multipart/mixed`.
    pub fn essence(&self) -> String {
        self.media_type.essence()
    }

    /// The charset of a text entity (default US-ASCII, RFC 2046 §4.1.2).
    pub fn charset(&self) -> String {
        self.media_type
            .param("charset")
            .unwrap_or("us-ascii")
            .to_string()
    }

    /// The file name offered for this part, from Content-Disposition or the
    /// older Content-Type `name` parameter.
    pub fn filename(&self) -> Option<String> {
        self.disposition
            .as_ref()
            .and_then(|d| d.param("filename"))
            .or_else(|| self.media_type.param("name"))
            .map(str::to_string)
    }

    /// Whether a mail reader would offer this part as an attachment.
    pub fn is_attachment(&self) -> bool {
        self.disposition
            .as_ref()
            .is_some_and(|d| d.kind == "attachment")
            || (self.filename().is_some() && self.media_type.kind != "text")
    }

    /// The body with its transfer encoding undone; diagnostics point into
    /// the raw message.
    pub fn decoded(&self, bytes: &[u8]) -> Decoded {
        let raw = self.body.slice(bytes);
        match self.encoding {
            TransferEncoding::Base64 => decode_base64(raw, self.body.start),
            TransferEncoding::QuotedPrintable => decode_quoted_printable(raw, self.body.start),
            _ => Decoded {
                bytes: raw.to_vec(),
                diagnostics: Vec::new(),
            },
        }
    }

    /// The text of a `text/*` (or untyped) entity in its charset.
    pub fn text(&self, bytes: &[u8]) -> Option<String> {
        if self.media_type.kind != "text" {
            return None;
        }
        Some(charset::decode(&self.decoded(bytes).bytes, &self.charset()).0)
    }

    /// This entity and every entity inside it, depth first.
    pub fn walk(&self) -> Vec<&Entity> {
        let mut out = vec![self];
        match &self.content {
            Content::Single => {}
            Content::Multipart(m) => {
                for p in &m.parts {
                    out.extend(p.entity.walk());
                }
            }
            Content::Message(inner) => out.extend(inner.walk()),
        }
        out
    }
}

/// Parses a whole message.
pub fn parse(bytes: &[u8]) -> Entity {
    parse_entity(bytes, Span::new(0, bytes.len()), false, 0, true)
}

fn default_type(in_digest: bool) -> Parameterized {
    if in_digest {
        Parameterized {
            kind: "message".into(),
            subtype: "rfc822".into(),
            parameters: Vec::new(),
        }
    } else {
        Parameterized {
            kind: "text".into(),
            subtype: "plain".into(),
            parameters: Vec::new(),
        }
    }
}

fn parse_entity(
    bytes: &[u8],
    span: Span,
    in_digest: bool,
    depth: usize,
    is_message: bool,
) -> Entity {
    let header = parse_section(bytes, span.start, span.end);
    let mut diagnostics = Vec::new();
    if let Some(line) = header.missing_separator {
        let shown = String::from_utf8_lossy(line.slice(bytes));
        let shown: String = shown.chars().take(40).collect();
        let (severity_is_error, message) = match (header.fields.is_empty(), is_message) {
            (true, true) => (
                false,
                format!(
                    "The message has no header fields: its first line {shown:?} is not a header \
                     field (no colon), so all of it is read as the body."
                ),
            ),
            (true, false) => (
                true,
                format!(
                    "This part has no empty line after its boundary line: {shown:?} is read as \
                     the start of its body. Even a part without header fields starts with an \
                     empty line."
                ),
            ),
            (false, _) => (
                true,
                format!(
                    "The empty line between the header and the body is missing: {shown:?} is \
                     not a header field (no colon), so the body starts there."
                ),
            ),
        };
        let d = if severity_is_error {
            Diagnostic::error(line, message)
        } else {
            Diagnostic::note(line, message)
        };
        diagnostics.push(d.reference(if is_message {
            "RFC 5322 §2.1"
        } else {
            "RFC 2046 §5.1.1"
        }));
    }
    let mut media_type = default_type(in_digest);
    let mut declared_type = false;
    if let Some(f) = header.get(bytes, "Content-Type") {
        let parsed = content_type::parse(bytes, f.value, true);
        if let Some(v) = parsed.value.filter(|v| !v.subtype.is_empty()) {
            media_type = v;
            declared_type = true;
        }
    }
    let encoding = header
        .get(bytes, "Content-Transfer-Encoding")
        .map(|f| TransferEncoding::from_label(&f.unfolded(bytes)))
        .unwrap_or(TransferEncoding::SevenBit);
    let disposition = header
        .get(bytes, "Content-Disposition")
        .and_then(|f| content_type::parse(bytes, f.value, false).value);
    let body = Span::new(header.body_start, span.end);
    let mut content = Content::Single;
    if media_type.is_multipart() && depth < MAX_DEPTH {
        if encoding.is_encoding() {
            diagnostics.push(
                Diagnostic::error(
                    header
                        .get(bytes, "Content-Transfer-Encoding")
                        .map_or(body, |f| f.value),
                    "a multipart entity cannot be base64 or quoted-printable encoded, only its \
                     parts can",
                )
                .reference("RFC 2045 §6.4"),
            );
        }
        match media_type.param("boundary").map(str::to_string) {
            Some(boundary) if !boundary.is_empty() => {
                let digest = media_type.subtype == "digest";
                content = Content::Multipart(split(
                    bytes,
                    body,
                    &boundary,
                    digest,
                    depth,
                    &mut diagnostics,
                ));
            }
            _ => {
                let at = header.get(bytes, "Content-Type").map_or(body, |f| f.value);
                diagnostics.push(
                    Diagnostic::error(
                        at,
                        "a multipart Content-Type needs a boundary parameter; without it the \
                         parts cannot be found and the body is shown as one block",
                    )
                    .reference("RFC 2046 §5.1.1"),
                );
            }
        }
    } else if media_type.essence() == "message/rfc822"
        && !encoding.is_encoding()
        && depth < MAX_DEPTH
    {
        content = Content::Message(Box::new(parse_entity(bytes, body, false, depth + 1, true)));
    }
    Entity {
        span,
        header,
        body,
        media_type,
        declared_type,
        encoding,
        disposition,
        content,
        diagnostics,
    }
}

struct Delimiter {
    /// With the preceding line ending.
    span: Span,
    close: bool,
}

fn split(
    bytes: &[u8],
    body: Span,
    boundary: &str,
    digest: bool,
    depth: usize,
    diagnostics: &mut Vec<Diagnostic>,
) -> Multipart {
    let marker = format!("--{boundary}");
    let marker = marker.as_bytes();
    let mut delimiters: Vec<Delimiter> = Vec::new();
    let mut pos = body.start;
    let mut previous_ending = 0usize;
    while pos < body.end {
        let (content_end, line_end) = match bytes[pos..body.end].iter().position(|&b| b == b'\n') {
            Some(rel) => {
                let lf = pos + rel;
                let end = if lf > pos && bytes[lf - 1] == b'\r' {
                    lf - 1
                } else {
                    lf
                };
                (end, lf + 1)
            }
            None => (body.end, body.end),
        };
        let line = &bytes[pos..content_end];
        if let Some(rest) = line.strip_prefix(marker) {
            let (close, padding) = match rest.strip_prefix(b"--") {
                Some(after) => (true, after),
                None => (false, rest),
            };
            if padding.iter().all(|&b| b == b' ' || b == b'\t') {
                let start = if pos > body.start {
                    pos - previous_ending
                } else {
                    pos
                };
                delimiters.push(Delimiter {
                    span: Span::new(start, line_end),
                    close,
                });
                if close {
                    break;
                }
            }
        }
        previous_ending = line_end - content_end;
        pos = line_end;
    }
    let mut multipart = Multipart {
        boundary: boundary.to_string(),
        preamble: None,
        parts: Vec::new(),
        close: None,
        epilogue: None,
    };
    let Some(first) = delimiters.first() else {
        diagnostics.push(
            Diagnostic::error(
                body,
                format!(
                    "the boundary line --{boundary} never appears in the body, so it has no \
                     parts (is the boundary parameter spelled as in the body?)"
                ),
            )
            .reference("RFC 2046 §5.1.1"),
        );
        if !body.is_empty() {
            multipart.preamble = Some(body);
        }
        return multipart;
    };
    if first.close {
        diagnostics.push(
            Diagnostic::error(first.span, "the closing boundary comes before any part")
                .reference("RFC 2046 §5.1.1"),
        );
    }
    if first.span.start > body.start {
        multipart.preamble = Some(Span::new(body.start, first.span.start));
    }
    for (i, d) in delimiters.iter().enumerate() {
        if d.close {
            multipart.close = Some(d.span);
            if d.span.end < body.end {
                multipart.epilogue = Some(Span::new(d.span.end, body.end));
            }
            break;
        }
        let part_end = delimiters.get(i + 1).map_or(body.end, |n| n.span.start);
        let part_span = Span::new(d.span.end, part_end);
        let mut entity = parse_entity(bytes, part_span, digest, depth + 1, false);
        look_for_lost_delimiter(bytes, &mut entity, boundary);
        multipart.parts.push(BodyPart {
            delimiter: d.span,
            entity,
        });
    }
    if multipart.close.is_none() {
        diagnostics.push(
            Diagnostic::error(
                Span::point(body.end),
                format!(
                    "the closing boundary --{boundary}-- is missing: a reader cannot tell \
                     whether the last part is complete"
                ),
            )
            .reference("RFC 2046 §5.1.1"),
        );
    }
    multipart
}

/// A part whose body contains what looks like the header of another part,
/// right after an empty line, probably lost the `--boundary` line before it.
fn look_for_lost_delimiter(bytes: &[u8], entity: &mut Entity, boundary: &str) {
    if !matches!(entity.content, Content::Single) {
        return;
    }
    let body = entity.body;
    let mut pos = body.start;
    while pos < body.end {
        let line_end = bytes[pos..body.end]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(body.end, |r| pos + r + 1);
        let line = &bytes[pos..line_end];
        let lower = line.to_ascii_lowercase();
        if pos > body.start
            && (lower.starts_with(b"content-type:")
                || lower.starts_with(b"content-transfer-encoding:"))
        {
            let content_end = line_end
                - line
                    .iter()
                    .rev()
                    .take_while(|&&b| b == b'\r' || b == b'\n')
                    .count();
            entity.diagnostics.push(
                Diagnostic::warning(
                    Span::new(pos, content_end),
                    format!(
                        "this line inside a part's body looks like the header of a new part: is \
                         the --{boundary} line that should come before it missing?"
                    ),
                )
                .reference("RFC 2046 §5.1.1"),
            );
            return;
        }
        pos = line_end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIMPLE: &[u8] = b"From: a@b.c\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\npre\r\n--XX\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nCr=EApe\r\n--XX\r\n\r\nno header\r\n--XX--\r\nepi\r\n";

    #[test]
    fn a_multipart_message_is_split_with_exact_spans() {
        let m = parse(SIMPLE);
        let Content::Multipart(mp) = &m.content else {
            panic!("multipart expected");
        };
        assert_eq!(mp.boundary, "XX");
        assert_eq!(mp.preamble.unwrap().slice(SIMPLE), b"pre");
        assert_eq!(mp.parts.len(), 2);
        assert_eq!(mp.parts[0].delimiter.slice(SIMPLE), b"\r\n--XX\r\n");
        let first = &mp.parts[0].entity;
        assert_eq!(first.text(SIMPLE).unwrap(), "Crêpe");
        assert_eq!(first.charset(), "iso-8859-1");
        let second = &mp.parts[1].entity;
        assert!(!second.declared_type);
        assert_eq!(second.text(SIMPLE).unwrap(), "no header");
        assert_eq!(mp.close.unwrap().slice(SIMPLE), b"\r\n--XX--\r\n");
        assert_eq!(mp.epilogue.unwrap().slice(SIMPLE), b"epi\r\n");
        assert!(m.walk().iter().all(|e| e.diagnostics.is_empty()));
        assert_eq!(m.walk().len(), 3);
    }

    #[test]
    fn missing_closing_boundary_and_blank_lines() {
        let msg = b"Content-Type: multipart/mixed; Boundary=S\n\n--S\nDear Bob,\n--S\nContent-Type: image/jpeg\nbase64 data\n";
        let m = parse(msg);
        assert!(
            m.diagnostics
                .iter()
                .any(|d| d.message.contains("closing boundary --S-- is missing"))
        );
        let Content::Multipart(mp) = &m.content else {
            panic!()
        };
        assert_eq!(mp.parts.len(), 2);
        assert!(
            mp.parts[0].entity.diagnostics[0]
                .message
                .contains("no empty line after its boundary line")
        );
        assert!(
            mp.parts[1].entity.diagnostics[0]
                .message
                .contains("empty line between the header and the body is missing")
        );
        assert_eq!(mp.parts[1].entity.essence(), "image/jpeg");
    }

    #[test]
    fn a_lost_delimiter_is_suspected() {
        let msg = b"Content-Type: multipart/mixed; boundary=f\r\n\r\n--f\r\nContent-Type: text/plain\r\n\r\nbody\r\n\r\nContent-Type: application/octet-stream\r\n\r\nAAAA\r\n--f--\r\n";
        let m = parse(msg);
        let Content::Multipart(mp) = &m.content else {
            panic!()
        };
        assert_eq!(mp.parts.len(), 1);
        assert!(
            mp.parts[0].entity.diagnostics[0]
                .message
                .contains("--f line")
        );
    }

    #[test]
    fn nested_and_encapsulated() {
        let msg = b"Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\nContent-Type: multipart/alternative; boundary=i\r\n\r\n--i\r\n\r\nplain\r\n--i\r\nContent-Type: text/html\r\n\r\n<p>x</p>\r\n--i--\r\n--o\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nhi\r\n--o--\r\n";
        let m = parse(msg);
        let essences: Vec<_> = m.walk().iter().map(|e| e.essence()).collect();
        assert_eq!(
            essences,
            [
                "multipart/mixed",
                "multipart/alternative",
                "text/plain",
                "text/html",
                "message/rfc822",
                "text/plain"
            ]
        );
        let all = m.walk();
        assert_eq!(all[5].text(msg).unwrap(), "hi");
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let mut msg = Vec::new();
        for i in 0..200 {
            msg.extend(
                format!("Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n").bytes(),
            );
        }
        let m = parse(&msg);
        assert!(m.walk().len() <= MAX_DEPTH + 2);
    }

    #[test]
    fn no_boundary_found() {
        let msg = b"Content-Type: multipart/mixed; boundary=zz\r\n\r\nnothing here\r\n";
        let m = parse(msg);
        assert!(m.diagnostics[0].message.contains("never appears"));
        let msg = b"Content-Type: multipart/mixed\r\n\r\nx";
        assert!(
            parse(msg).diagnostics[0]
                .message
                .contains("needs a boundary")
        );
    }
}
