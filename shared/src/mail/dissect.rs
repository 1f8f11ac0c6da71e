//! The dissection of a whole Internet message (RFC 5322 and MIME): the
//! header fields taken apart (addresses, dates, encoded words, media types,
//! trace lines), the body as a tree of parts with their decoded content,
//! the `Received:` chain, and the envelope next to the header when one is
//! known, all over the exact bytes of the message.
//!
//! [`dissect`] is the `mail` kind; [`dissect_with_envelope`] is what the
//! SMTP transcript uses for a DATA section, where `MAIL FROM` and `RCPT TO`
//! are known. The input is the message as stored (after dot-stuffing was
//! removed); the caller maps spans if it showed the stuffed form.

use super::address::parse_address_list;
use super::charset;
use super::content_type;
use super::cover::cover;
use super::date;
use super::encoded_word::decode_unstructured;
use super::envelope::{Envelope, compare};
use super::header::HeaderField;
use super::mime::{self, Content, Entity};
use super::trace::parse_received;
use super::transfer::TransferEncoding;
use crate::dissect::{Diagnostic, Dissection, Field, Protocol, Span};
use crate::text::visible;

/// Decoded text shown in a body field is cut after this many characters.
pub const PREVIEW_CHARS: usize = 4096;

/// Longest line RFC 5322 §2.1.1 allows, without its CR LF.
pub const MAX_LINE: usize = 998;

/// Dissects a whole message (`wirelab dissect mail`).
pub fn dissect(bytes: &[u8]) -> Dissection {
    dissect_with_envelope(bytes, None)
}

/// Dissects a message; with `envelope`, adds the "Envelope vs header" view
/// (without it, one is recovered from `Return-Path:` and `Received:` when
/// the message has them).
pub fn dissect_with_envelope(bytes: &[u8], envelope: Option<&Envelope>) -> Dissection {
    let root = mime::parse(bytes);
    let mut d = Dissection::new(Protocol::Mime, summary(bytes, &root), bytes.len());
    let mut diagnostics = Vec::new();
    d.fields = entity_fields(bytes, &root, &mut diagnostics);
    if let Some(chain) = received_chain(bytes, &root) {
        d.fields.push(chain);
    }
    let traced = Envelope::from_trace(bytes, &root);
    if let Some(env) = envelope.or(traced.as_ref()) {
        d.fields
            .push(envelope_view(bytes, &root, env, envelope.is_none()));
    }
    message_checks(bytes, &root, &mut diagnostics);
    // In reading order, so the list follows the message.
    diagnostics.sort_by_key(|d| (d.span.start, d.span.end));
    d.diagnostics = diagnostics;
    d
}

fn summary(bytes: &[u8], root: &Entity) -> String {
    let subject = root
        .header
        .get(bytes, "Subject")
        .map(|f| decode_unstructured(bytes, f.value).text);
    let from = root.header.get(bytes, "From").and_then(|f| {
        parse_address_list(bytes, f.value)
            .mailboxes
            .first()
            .map(|m| m.address.clone())
    });
    let shape = match &root.content {
        Content::Multipart(m) => format!("{}, {} parts", root.essence(), m.parts.len()),
        _ => format!("{}, {} bytes of body", root.essence(), root.body.len()),
    };
    if root.header.fields.is_empty() {
        return format!("Message without header fields ({shape})");
    }
    let subject = subject.map_or("(no subject)".to_string(), |s| format!("{s:?}"));
    match from {
        Some(f) => format!("From {f}: {subject} ({shape})"),
        None => format!("{subject} ({shape})"),
    }
}

fn entity_fields(bytes: &[u8], entity: &Entity, diagnostics: &mut Vec<Diagnostic>) -> Vec<Field> {
    let mut fields = Vec::new();
    diagnostics.extend(entity.header.diagnostics.iter().cloned());
    diagnostics.extend(entity.diagnostics.iter().cloned());
    if !entity.header.fields.is_empty() {
        let children: Vec<Field> = entity
            .header
            .fields
            .iter()
            .map(|f| field_tree(bytes, f, diagnostics))
            .collect();
        fields.push(
            Field::new(
                "Header section",
                entity.header.span,
                format!("{} fields", entity.header.fields.len()),
            )
            .help(
                "Header fields, one per line (long ones folded onto lines that start with white \
                 space), up to an empty line (RFC 5322 §2.2).",
            )
            .with_children(children),
        );
    }
    if let Some(sep) = entity.header.separator {
        fields.push(
            Field::new("Empty line", sep, visible(sep.slice(bytes)))
                .help("The empty line that ends the header; the body follows (RFC 5322 §2.1)."),
        );
    }
    if entity.body.is_empty() {
        return fields;
    }
    match &entity.content {
        Content::Single => fields.push(body_leaf(bytes, entity, diagnostics)),
        Content::Message(inner) => {
            let inner_fields = entity_fields(bytes, inner, diagnostics);
            fields.push(
                Field::new("Body", entity.body, "message/rfc822: an encapsulated message")
                    .help("A whole message carried as a part, such as a forwarded mail (RFC 2046 §5.2.1).")
                    .child(
                        Field::new("Encapsulated message", inner.span, summary(bytes, inner))
                            .with_children(inner_fields),
                    ),
            );
        }
        Content::Multipart(mp) => {
            let mut children = Vec::new();
            if let Some(p) = mp.preamble {
                children.push(
                    Field::new("Preamble", p, preview_text(&String::from_utf8_lossy(p.slice(bytes))))
                        .help("Text before the first boundary line; MIME readers ignore it (RFC 2046 §5.1.1)."),
                );
            }
            for (i, part) in mp.parts.iter().enumerate() {
                children.push(
                    Field::new("Boundary", part.delimiter, format!("--{}", mp.boundary)).help(
                        "A boundary line: --boundary on a line of its own, the line ending \
                         before it included, starts the next part (RFC 2046 §5.1.1).",
                    ),
                );
                let e = &part.entity;
                let mut label = format!("Part {}: {}", i + 1, e.essence());
                if let Some(name) = e.filename() {
                    label.push_str(&format!(" ({name})"));
                }
                let part_fields = entity_fields(bytes, e, diagnostics);
                children.push(
                    Field::new(label, e.span, part_summary(bytes, e)).with_children(part_fields),
                );
            }
            if let Some(c) = mp.close {
                children.push(
                    Field::new("Closing boundary", c, format!("--{}--", mp.boundary))
                        .help("--boundary-- ends the multipart body (RFC 2046 §5.1.1)."),
                );
            }
            if let Some(e) = mp.epilogue {
                children.push(
                    Field::new(
                        "Epilogue",
                        e,
                        preview_text(&String::from_utf8_lossy(e.slice(bytes))),
                    )
                    .help("Text after the closing boundary; readers ignore it (RFC 2046 §5.1.1)."),
                );
            }
            fields.push(
                Field::new(
                    "Body",
                    entity.body,
                    format!("{}: {} parts", entity.essence(), mp.parts.len()),
                )
                .help(
                    "A multipart body: parts separated by boundary lines, each part with its own \
                     header and body (RFC 2046 §5.1).",
                )
                .with_children(children),
            );
        }
    }
    fields
}

fn part_summary(bytes: &[u8], e: &Entity) -> String {
    match &e.content {
        Content::Multipart(m) => format!("{} parts", m.parts.len()),
        _ => match e.text(bytes) {
            Some(t) => preview_text(t.trim_end()),
            None => format!("{} bytes ({})", e.body.len(), e.encoding.name()),
        },
    }
}

fn preview_text(text: &str) -> String {
    let count = text.chars().count();
    if count <= PREVIEW_CHARS {
        text.to_string()
    } else {
        let mut t: String = text.chars().take(PREVIEW_CHARS).collect();
        t.push_str(&format!("… ({} more characters)", count - PREVIEW_CHARS));
        t
    }
}

fn body_leaf(bytes: &[u8], entity: &Entity, diagnostics: &mut Vec<Diagnostic>) -> Field {
    let decoded = entity.decoded(bytes);
    diagnostics.extend(decoded.diagnostics.iter().cloned());
    let raw = entity.body.slice(bytes);
    if matches!(entity.encoding, TransferEncoding::SevenBit)
        && let Some(i) = raw.iter().position(|&b| b >= 0x80)
    {
        let at = entity.body.start + i;
        diagnostics.push(
            Diagnostic::warning(
                Span::new(at, at + 1),
                "8-bit bytes in a body that is (by default) 7bit: declare \
                 Content-Transfer-Encoding: 8bit and send with SMTP's BODY=8BITMIME, or encode \
                 the text as quoted-printable or base64",
            )
            .reference("RFC 2045 §2.7, RFC 6152"),
        );
    }
    let how = if entity.encoding.is_encoding() {
        format!(", decoded from {}", entity.encoding.name())
    } else {
        String::new()
    };
    let value = if entity.media_type.kind == "text" {
        let (text, problem) = charset::decode(&decoded.bytes, &entity.charset());
        if let Some(p) = problem {
            diagnostics
                .push(Diagnostic::warning(entity.body, p.describe()).reference("RFC 2046 §4.1.2"));
        }
        preview_text(&text)
    } else {
        let head: Vec<u8> = decoded.bytes.iter().take(24).copied().collect();
        format!(
            "{} bytes of {}{how}: {}{}",
            decoded.bytes.len(),
            entity.essence(),
            crate::text::hex_spaced(&head),
            if decoded.bytes.len() > head.len() {
                " …"
            } else {
                ""
            }
        )
    };
    let help = format!(
        "The content: {}{}{how}. {}",
        entity.essence(),
        if entity.media_type.kind == "text" {
            format!(" in {}", entity.charset())
        } else {
            String::new()
        },
        match entity.encoding {
            TransferEncoding::Base64 =>
                "Base64 turns every 3 bytes into 4 ASCII characters (RFC 2045 §6.8).",
            TransferEncoding::QuotedPrintable =>
                "Quoted-printable keeps ASCII as is and writes other bytes as =XX (RFC 2045 §6.7).",
            _ => "It travels as is (RFC 2045 §6.2).",
        }
    );
    Field::new("Body", entity.body, value).help(help)
}

fn header_help(name: &str) -> Option<&'static str> {
    Some(match name {
        "from" => {
            "The author of the message (RFC 5322 §3.6.2). Required. Not the envelope's MAIL FROM, which says where bounces go."
        }
        "to" => {
            "The primary recipients as the reader sees them (RFC 5322 §3.6.3). Delivery follows RCPT TO, not this line."
        }
        "cc" => "Carbon copy: secondary recipients, visible to all (RFC 5322 §3.6.3).",
        "bcc" => {
            "Blind carbon copy: recipients the others do not see; usually removed before sending (RFC 5322 §3.6.3)."
        }
        "subject" => {
            "The topic of the message (RFC 5322 §3.6.5). Non-ASCII text is sent as encoded words (RFC 2047)."
        }
        "date" => "When the author sent the message (RFC 5322 §3.6.1). Required.",
        "message-id" => "A unique identifier for this message, <unique@domain> (RFC 5322 §3.6.4).",
        "in-reply-to" | "references" => {
            "The Message-IDs this message answers, for threading (RFC 5322 §3.6.4)."
        }
        "reply-to" => "Where replies should go, if not to From (RFC 5322 §3.6.2).",
        "sender" => "Who actually sent the message on behalf of the From author (RFC 5322 §3.6.2).",
        "received" => {
            "A trace line added by each SMTP server on the way, newest on top (RFC 5321 §4.4)."
        }
        "return-path" => {
            "The envelope's MAIL FROM, recorded by the server that delivered the message into the mailbox (RFC 5321 §4.4)."
        }
        "mime-version" => "Says that the message uses MIME; always 1.0 (RFC 2045 §4).",
        "content-type" => {
            "The media type of the body, with parameters such as charset or boundary (RFC 2045 §5)."
        }
        "content-transfer-encoding" => {
            "How the body was made 7-bit safe: 7bit, 8bit, binary, quoted-printable or base64 (RFC 2045 §6)."
        }
        "content-disposition" => {
            "Whether to show the part inline or offer it as an attachment, and its file name (RFC 2183)."
        }
        "content-id" => {
            "An identifier to refer to this part from another, such as an image in HTML (RFC 2045 §7)."
        }
        "content-description" => "A human-readable description of the part (RFC 2045 §8).",
        "delivered-to" => {
            "The mailbox a server delivered the message to (not standardised, widely used)."
        }
        _ => return None,
    })
}

fn trimmed_value(bytes: &[u8], value: Span) -> Span {
    let raw = value.slice(bytes);
    let start = raw
        .iter()
        .position(|&b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .unwrap_or(raw.len());
    let end = raw
        .iter()
        .rposition(|&b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .map_or(start, |p| p + 1);
    Span::new(value.start + start, value.start + end)
}

fn field_tree(bytes: &[u8], field: &HeaderField, diagnostics: &mut Vec<Diagnostic>) -> Field {
    let name = field.name_text(bytes);
    let lower = name.to_ascii_lowercase();
    let value = value_tree(bytes, field, &lower, diagnostics);
    let mut children = vec![
        Field::new("Name", field.name, name.clone()),
        Field::new("Colon", field.colon, visible(field.colon.slice(bytes))),
    ];
    let shown = value.value.clone();
    if !field.value.is_empty() {
        children.push(value);
    }
    if !field.ending.is_empty() {
        children.push(Field::new(
            "End of line",
            field.ending,
            visible(field.ending.slice(bytes)),
        ));
    }
    let mut f = Field::new(format!("Header: {name}"), field.span, shown).with_children(children);
    if let Some(help) = header_help(&lower) {
        f = f.help(help);
    }
    f
}

fn value_tree(
    bytes: &[u8],
    field: &HeaderField,
    lower: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> Field {
    let span = field.value;
    let unfolded = field.unfolded(bytes);
    match lower {
        "from" | "to" | "cc" | "bcc" | "reply-to" | "sender" | "resent-from" | "resent-to"
        | "resent-cc" | "resent-sender" | "return-path" | "delivered-to" => {
            let list = parse_address_list(bytes, span);
            diagnostics.extend(list.diagnostics);
            let shown =
                if lower == "return-path" && list.mailboxes.iter().all(|m| m.address.is_empty()) {
                    "<> (null sender: a bounce)".to_string()
                } else {
                    list.mailboxes
                        .iter()
                        .map(|m| m.display())
                        .collect::<Vec<_>>()
                        .join(", ")
                };
            if list.mailboxes.is_empty() && matches!(lower, "from" | "sender") {
                diagnostics.push(
                    Diagnostic::warning(
                        span,
                        format!("the {} field has no address", field.name_text(bytes)),
                    )
                    .reference("RFC 5322 §3.6.2"),
                );
            }
            Field::new("Value", span, shown).with_children(list.fields)
        }
        "date" | "resent-date" => {
            let parsed = date::parse(&unfolded);
            let at = trimmed_value(bytes, span);
            for (severity, message, reference) in parsed.problems {
                diagnostics.push(Diagnostic::new(severity, at, message).reference(reference));
            }
            let shown = match parsed.date {
                Some(d) => format!("{unfolded} = {}", d.utc_iso()),
                None => unfolded,
            };
            Field::new("Value", span, shown)
        }
        "received" => {
            let parsed = parse_received(bytes, span);
            diagnostics.extend(parsed.diagnostics);
            Field::new("Value", span, unfolded).with_children(parsed.fields)
        }
        "content-type" | "content-disposition" => {
            let parsed = content_type::parse(bytes, span, lower == "content-type");
            diagnostics.extend(parsed.diagnostics);
            Field::new("Value", span, unfolded).with_children(parsed.fields)
        }
        "content-transfer-encoding" => {
            if let TransferEncoding::Other(other) = TransferEncoding::from_label(&unfolded) {
                diagnostics.push(
                    Diagnostic::warning(
                        trimmed_value(bytes, span),
                        format!(
                            "{other:?} is not a standard transfer encoding (7bit, 8bit, binary, \
                             quoted-printable, base64); readers will show the body undecoded"
                        ),
                    )
                    .reference("RFC 2045 §6.1"),
                );
            }
            Field::new("Value", span, unfolded.to_ascii_lowercase())
        }
        "mime-version" => {
            let without_comments: String = {
                let mut depth = 0usize;
                unfolded
                    .chars()
                    .filter(|&c| match c {
                        '(' => {
                            depth += 1;
                            false
                        }
                        ')' => {
                            depth = depth.saturating_sub(1);
                            false
                        }
                        _ => depth == 0 && !c.is_whitespace(),
                    })
                    .collect()
            };
            if without_comments != "1.0" {
                diagnostics.push(
                    Diagnostic::warning(
                        trimmed_value(bytes, span),
                        format!("MIME-Version is always 1.0, not {unfolded:?}"),
                    )
                    .reference("RFC 2045 §4"),
                );
            }
            Field::new("Value", span, unfolded)
        }
        _ => {
            let decoded = decode_unstructured(bytes, span);
            diagnostics.extend(decoded.diagnostics);
            if decoded.words.is_empty() {
                return Field::new("Value", span, decoded.text);
            }
            let words: Vec<Field> = decoded
                .words
                .iter()
                .map(|w| {
                    let charset_end = w.span.start
                        + 2
                        + bytes[w.span.start + 2..w.span.end]
                            .iter()
                            .position(|&b| b == b'?')
                            .unwrap_or(0);
                    let parts = vec![
                        Field::new("Delimiter", Span::new(w.span.start, w.span.start + 2), "=?"),
                        Field::new(
                            "Charset",
                            Span::new(w.span.start + 2, charset_end),
                            w.charset.clone(),
                        )
                        .help("The character set of the decoded text (RFC 2047 §2)."),
                        Field::new("Delimiter", Span::new(charset_end, charset_end + 1), "?"),
                        Field::new(
                            "Encoding",
                            Span::new(charset_end + 1, charset_end + 2),
                            w.encoding.to_string(),
                        )
                        .help(
                            "Q: like quoted-printable with _ for a space; B: base64 (RFC 2047 §4).",
                        ),
                        Field::new("Delimiter", Span::new(charset_end + 2, w.text.start), "?"),
                        Field::new("Encoded text", w.text, visible(w.text.slice(bytes))),
                        Field::new("Delimiter", Span::new(w.text.end, w.span.end), "?="),
                    ];
                    Field::new("Encoded word", w.span, w.decoded.clone())
                        .help("Non-ASCII text in a header: =?charset?encoding?text?= (RFC 2047).")
                        .with_children(parts)
                })
                .collect();
            Field::new("Value", span, decoded.text).with_children(cover(bytes, span, words))
        }
    }
}

fn received_chain(bytes: &[u8], root: &Entity) -> Option<Field> {
    let received: Vec<&HeaderField> = root.header.all(bytes, "Received").collect();
    let first = received.first()?;
    let start = received
        .iter()
        .map(|f| f.span.start)
        .min()
        .unwrap_or(first.span.start);
    let end = received
        .iter()
        .map(|f| f.span.end)
        .max()
        .unwrap_or(first.span.end);
    let hops: Vec<Field> = received
        .iter()
        .rev()
        .enumerate()
        .map(|(i, f)| {
            let r = parse_received(bytes, f.value).received;
            let when = r
                .date
                .map(|d| format!(", at {}", d.utc_iso()))
                .unwrap_or_default();
            Field::new(
                format!("Hop {}", i + 1),
                f.span,
                format!(
                    "from {} by {}{when}",
                    r.from.as_deref().unwrap_or("?"),
                    r.by.as_deref().unwrap_or("?")
                ),
            )
        })
        .collect();
    Some(
        Field::new(
            "Received chain",
            Span::new(start, end),
            format!("{} hop(s), oldest first", hops.len()),
        )
        .help(
            "Each server that relays the message adds a Received line on top, so reading them \
             from the bottom up retraces its route (RFC 5321 §4.4).",
        )
        .with_children(hops),
    )
}

fn envelope_view(bytes: &[u8], root: &Entity, envelope: &Envelope, from_trace: bool) -> Field {
    let rows = compare(bytes, root, envelope);
    let span = if root.header.fields.is_empty() {
        Span::point(0)
    } else {
        root.header.span
    };
    let children: Vec<Field> = rows
        .iter()
        .map(|r| {
            let value = format!(
                "envelope {} | header {}{}",
                r.envelope.as_deref().unwrap_or("(none)"),
                r.header.as_deref().unwrap_or("(none)"),
                if r.agree { "" } else { " — they differ" }
            );
            Field::new(
                r.role.clone(),
                r.header_span.unwrap_or(Span::point(span.start)),
                value,
            )
            .help(r.explanation.clone())
        })
        .collect();
    Field::new(
        "Envelope vs header",
        span,
        if from_trace {
            "the envelope as recorded by Return-Path and Received".to_string()
        } else {
            "MAIL FROM / RCPT TO next to From / To / Cc".to_string()
        },
    )
    .help(
        "SMTP delivers by the envelope (MAIL FROM, RCPT TO); the reader sees the header (From:, \
         To:). They need not agree (RFC 5321 §2.3.1, RFC 5322 §3.6).",
    )
    .with_children(children)
}

fn message_checks(bytes: &[u8], root: &Entity, diagnostics: &mut Vec<Diagnostic>) {
    // Line endings and lengths, over the whole message.
    let mut bare_lf: Option<usize> = None;
    let mut bare_lf_count = 0usize;
    let mut long: Option<(usize, usize)> = None;
    let mut long_count = 0usize;
    let mut start = 0usize;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' {
            let cr = i > 0 && bytes[i - 1] == b'\r';
            if !cr {
                bare_lf_count += 1;
                bare_lf.get_or_insert(i);
            }
            let content_len = i - start - usize::from(cr);
            if content_len > MAX_LINE {
                long_count += 1;
                long.get_or_insert((start, content_len));
            }
            start = i + 1;
        }
    }
    if bytes.len() - start > MAX_LINE {
        long_count += 1;
        long.get_or_insert((start, bytes.len() - start));
    }
    if let Some(at) = bare_lf {
        diagnostics.push(
            Diagnostic::warning(
                Span::new(at, at + 1),
                format!(
                    "{bare_lf_count} line(s) end with a bare LF; in a message every line ends \
                     with CR LF, and servers handle a bare LF differently (this is how SMTP \
                     smuggling works)"
                ),
            )
            .reference("RFC 5322 §2.3, RFC 5321 §2.3.8"),
        );
    }
    if let Some((at, len)) = long {
        diagnostics.push(
            Diagnostic::error(
                Span::new(at, at + len),
                format!(
                    "{long_count} line(s) are longer than 998 characters (this one has {len}); \
                     servers may cut or reject them; encode the content (quoted-printable, \
                     base64) to keep lines short"
                ),
            )
            .reference("RFC 5322 §2.1.1"),
        );
    }
    // Required and single-instance fields (RFC 5322 §3.6).
    let end_of_header = if root.header.fields.is_empty() {
        0
    } else {
        root.header.span.end
    };
    for (name, why) in [("From", "who wrote it"), ("Date", "when it was written")] {
        if root.header.get(bytes, name).is_none() {
            diagnostics.push(
                Diagnostic::warning(
                    Span::point(end_of_header),
                    format!(
                        "the message has no {name}: field ({why}); RFC 5322 requires From and \
                         Date in every message"
                    ),
                )
                .reference("RFC 5322 §3.6"),
            );
        }
    }
    for name in [
        "From",
        "Sender",
        "Reply-To",
        "To",
        "Cc",
        "Bcc",
        "Message-ID",
        "In-Reply-To",
        "References",
        "Subject",
        "Date",
    ] {
        if let Some(second) = root.header.all(bytes, name).nth(1) {
            diagnostics.push(
                Diagnostic::warning(
                    second.span,
                    format!("the {name}: field appears more than once; RFC 5322 allows it once"),
                )
                .reference("RFC 5322 §3.6"),
            );
        }
    }
    let mime_fields = root.header.get(bytes, "Content-Type").is_some()
        || root
            .header
            .get(bytes, "Content-Transfer-Encoding")
            .is_some();
    if mime_fields && root.header.get(bytes, "MIME-Version").is_none() {
        diagnostics.push(
            Diagnostic::warning(
                Span::point(end_of_header),
                "the message uses MIME fields (Content-Type, Content-Transfer-Encoding) without \
                 MIME-Version: 1.0, which tells readers to interpret them",
            )
            .reference("RFC 2045 §4"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dissect::Severity;

    fn messages(d: &Dissection) -> Vec<String> {
        d.diagnostics.iter().map(|d| d.message.clone()).collect()
    }

    #[test]
    fn a_clean_message_is_fully_covered() {
        let msg = b"From: Alice <alice@crepes.fr>\r\nTo: bob@hamburger.edu\r\nDate: Tue, 14 Nov 2023 22:13:20 +0000\r\nSubject: =?utf-8?Q?=C2=A1Hola,_se=C3=B1or!?=\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nDo you like ketchup?\r\n";
        let d = dissect(msg);
        assert!(d.diagnostics.is_empty(), "{:?}", d.diagnostics);
        assert!(
            d.check_invariants(true).is_empty(),
            "{:?}",
            d.check_invariants(true)
        );
        assert_eq!(
            d.summary,
            "From alice@crepes.fr: \"¡Hola, señor!\" (text/plain, 22 bytes of body)"
        );
        assert_eq!(d.find("Header: Subject").unwrap().value, "¡Hola, señor!");
        assert_eq!(d.find("Charset").unwrap().value, "utf-8");
        assert_eq!(d.find("Body").unwrap().value, "Do you like ketchup?\r\n");
        assert_eq!(d.protocol, Protocol::Mime);
    }

    #[test]
    fn the_ketchup_data_has_no_header() {
        let d = dissect(b"Do you like ketchup?\r\nHow about pickles?\r\n");
        let m = messages(&d);
        assert!(m.iter().any(|m| m.contains("no header fields")), "{m:?}");
        assert!(m.iter().any(|m| m.contains("no From:")));
        assert!(m.iter().any(|m| m.contains("no Date:")));
        assert!(d.check_invariants(true).is_empty());
        assert!(d.summary.starts_with("Message without header fields"));
    }

    #[test]
    fn envelope_and_trace_views() {
        let msg = b"Return-Path: <alice@crepes.fr>\r\nReceived: from crepes.fr by hamburger.edu for <bob@hamburger.edu>; Tue, 14 Nov 2023 22:13:20 +0000\r\nFrom: alice@crepes.fr\r\nTo: bob@hamburger.edu\r\nDate: Tue, 14 Nov 2023 22:13:20 +0000\r\n\r\nhi\r\n";
        let d = dissect(msg);
        let view = d.find("Envelope vs header").unwrap();
        assert_eq!(view.children.len(), 2);
        assert!(view.children.iter().all(|c| !c.value.contains("differ")));
        assert_eq!(
            d.find("Received chain").unwrap().children[0].value,
            "from crepes.fr by hamburger.edu, at 2023-11-14 22:13:20 UTC"
        );
        assert!(d.check_invariants(true).is_empty());
        let env = Envelope {
            mail_from: Some("alice@crepes.fr".into()),
            rcpt_to: vec!["carol@hamburger.edu".into()],
        };
        let d = dissect_with_envelope(b"From: alice@crepes.fr\r\n\r\nx", Some(&env));
        let view = d.find("Envelope vs header").unwrap();
        assert!(view.children[1].value.contains("differ"));
    }

    #[test]
    fn bare_lf_long_lines_duplicates_and_8bit() {
        let mut msg = b"From: a@b.c\nFrom: d@e.f\r\nDate: Tue, 14 Nov 2023 22:13:20 +0000\r\n\r\ncaf\xc3\xa9 ".to_vec();
        msg.extend(vec![b'x'; 1200]);
        let d = dissect(&msg);
        let m = messages(&d);
        assert!(m.iter().any(|m| m.contains("bare LF")), "{m:?}");
        assert!(m.iter().any(|m| m.contains("longer than 998")));
        assert!(m.iter().any(|m| m.contains("more than once")));
        assert!(m.iter().any(|m| m.contains("8-bit bytes")));
        assert!(d.diagnostics.iter().any(|d| d.severity == Severity::Error));
        assert!(d.check_invariants(true).is_empty());
    }

    #[test]
    fn mime_without_version_and_huge_bodies_are_previewed() {
        let mut msg = b"From: a@b.c\r\nDate: Tue, 14 Nov 2023 22:13:20 +0000\r\nContent-Type: text/plain\r\n\r\n".to_vec();
        for _ in 0..200 {
            msg.extend_from_slice(b"0123456789012345678901234567890123456789\r\n");
        }
        let d = dissect(&msg);
        assert!(
            messages(&d)
                .iter()
                .any(|m| m.contains("without MIME-Version"))
        );
        assert!(d.find("Body").unwrap().value.ends_with("more characters)"));
    }
}
