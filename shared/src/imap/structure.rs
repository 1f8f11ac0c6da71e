//! FETCH BODY and BODYSTRUCTURE (RFC 9051 §7.5.2): a message's MIME tree,
//! from [`crate::mail::mime`], as IMAP's nested lists. For each leaf part:
//! type, subtype, parameters, Content-ID, Content-Description, transfer
//! encoding and size in octets (as sent, still encoded), then the lines of
//! a `text/*` part, or the envelope, structure and lines of an enclosed
//! `message/rfc822`; a multipart lists its parts, then its subtype.
//! BODYSTRUCTURE adds the extension data: MD5 (never kept: NIL), the
//! disposition, language and location (NIL), and a multipart's parameters.
//!
//! The MIME parser stops nesting at [`crate::mail::mime::MAX_DEPTH`], so
//! the answer's depth is bounded whatever the message.

use crate::imap::fetch::{envelope, nil, nstring};
use crate::imap::syntax::Value;
use crate::mail::content_type::Parameterized;
use crate::mail::mime::{self, Content, Entity};

/// The BODY (`extended` false) or BODYSTRUCTURE of `message`.
pub fn body_structure(message: &[u8], extended: bool) -> Value {
    entity_value(message, &mime::parse(message), extended)
}

fn quoted(text: &str) -> Value {
    nstring(text.as_bytes().to_vec())
}

/// `("charset" "utf-8" ...)` or NIL.
fn parameters(p: &Parameterized) -> Value {
    if p.parameters.is_empty() {
        return nil();
    }
    let pairs = p
        .parameters
        .iter()
        .flat_map(|x| [quoted(&x.name.to_ascii_uppercase()), quoted(&x.value)]);
    Value::List(pairs.collect())
}

/// A header field's unfolded value, or NIL.
fn field(bytes: &[u8], e: &Entity, name: &str) -> Value {
    e.header
        .get(bytes, name)
        .map_or_else(nil, |f| quoted(f.unfolded(bytes).trim()))
}

/// `("attachment" ("filename" "x.pdf"))` or NIL.
fn disposition(e: &Entity) -> Value {
    e.disposition.as_ref().map_or_else(nil, |d| {
        Value::List(vec![quoted(&d.kind.to_ascii_uppercase()), parameters(d)])
    })
}

fn lines(body: &[u8]) -> Value {
    let n = body.iter().filter(|&&b| b == b'\n').count();
    Value::Atom(n.to_string())
}

fn entity_value(bytes: &[u8], e: &Entity, extended: bool) -> Value {
    let mut items = Vec::new();
    if let Content::Multipart(m) = &e.content
        && !m.parts.is_empty()
    {
        items.extend(
            m.parts
                .iter()
                .map(|p| entity_value(bytes, &p.entity, extended)),
        );
        items.push(quoted(&e.media_type.subtype.to_ascii_uppercase()));
        if extended {
            items.extend([parameters(&e.media_type), disposition(e), nil(), nil()]);
        }
        return Value::List(items);
    }
    let body = bytes.get(e.body.start..e.body.end).unwrap_or_default();
    let kind = e.media_type.kind.to_ascii_uppercase();
    items.extend([
        quoted(&kind),
        quoted(&e.media_type.subtype.to_ascii_uppercase()),
        if e.declared_type || kind != "TEXT" {
            parameters(&e.media_type)
        } else {
            // The default type's charset (RFC 2045 §5.2), said outright.
            Value::List(vec![quoted("CHARSET"), quoted("us-ascii")])
        },
        field(bytes, e, "Content-ID"),
        field(bytes, e, "Content-Description"),
        quoted(&e.encoding.name().to_ascii_uppercase()),
        Value::Atom(body.len().to_string()),
    ]);
    if let Content::Message(inner) = &e.content {
        let inner_bytes = bytes
            .get(inner.span.start..inner.span.end)
            .unwrap_or_default();
        items.push(envelope(inner_bytes));
        items.push(entity_value(bytes, inner, extended));
        items.push(lines(body));
    } else if kind == "TEXT" {
        items.push(lines(body));
    }
    if extended {
        items.extend([nil(), disposition(e), nil(), nil()]);
    }
    Value::List(items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::store::course_messages;

    fn text(v: &Value) -> String {
        let mut out = Vec::new();
        v.write(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_plain_message_and_the_course_recipe() {
        let plain = b"Subject: x\r\n\r\nhello\r\nworld\r\n";
        assert_eq!(
            text(&body_structure(plain, false)),
            "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 14 2)"
        );
        let recipe = text(&body_structure(course_messages()[1], true));
        assert!(recipe.starts_with("((\"TEXT\" \"PLAIN\""), "{recipe}");
        assert!(recipe.contains(" \"MIXED\" (\"BOUNDARY\" "), "{recipe}");
        assert!(recipe.contains("\"ATTACHMENT\" (\"FILENAME\""), "{recipe}");
    }
}
