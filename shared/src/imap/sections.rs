//! The section numbers of a message's parts (RFC 9051 §6.4.5), read from
//! the BODYSTRUCTURE a server sent: `1`, `1.1`, `1.2`, `2`, and for each
//! part the sections that name its headers (`HEADER`, `TEXT`, `n.MIME`,
//! and `n.HEADER` / `n.TEXT` inside an enclosed message), so that the page
//! can offer `BODY.PEEK[<section>]` for any of them.
//!
//! The caller passes the structure as parsed (a [`Value`] from a FETCH
//! response); anything that is not a body structure yields what could be
//! read. The walk stops at [`MAX_DEPTH`] nested parts whatever the input.

use crate::imap::syntax::Value;

/// How deep the walk goes; the parser bounds nesting too, this keeps the
/// walk bounded on its own.
pub const MAX_DEPTH: usize = 16;

/// One part of the MIME tree with the sections that fetch it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberedPart {
    /// Its own section number (`"4.2.1"`); empty for the whole message.
    pub section: String,
    /// `TEXT/PLAIN`, `MULTIPART/ALTERNATIVE`, ...
    pub media_type: String,
    /// 0 for the whole message, 1 for its parts, ...
    pub depth: usize,
    /// The size in octets the server gave, for a non-multipart part.
    pub size: Option<u64>,
    /// The sections naming its headers: `HEADER` and `TEXT` for the whole
    /// message, `n.MIME` for a part, `n.HEADER` and `n.TEXT` for an
    /// enclosed message.
    pub header_sections: Vec<String>,
}

/// The whole message and every part, in order, each with its sections.
pub fn numbered_parts(structure: &Value) -> Vec<NumberedPart> {
    let mut out = vec![NumberedPart {
        section: String::new(),
        media_type: media_type(structure),
        depth: 0,
        size: None,
        header_sections: vec!["HEADER".into(), "TEXT".into()],
    }];
    message_body(structure, "", 1, &mut out);
    out
}

/// The parts of a message's body: a multipart's parts are numbered 1, 2,
/// ...; a single part is part 1 (§6.4.5: "a non-[MIME-IMB] ... message
/// ... has only a part 1").
fn message_body(body: &Value, prefix: &str, depth: usize, out: &mut Vec<NumberedPart>) {
    if depth > MAX_DEPTH {
        return;
    }
    match children(body) {
        Some(parts) => {
            for (i, part) in parts.iter().enumerate() {
                walk(part, &join(prefix, i + 1), depth, out);
            }
        }
        None => walk(body, &join(prefix, 1), depth, out),
    }
}

fn walk(part: &Value, section: &str, depth: usize, out: &mut Vec<NumberedPart>) {
    if depth > MAX_DEPTH {
        return;
    }
    let kind = media_type(part);
    let enclosed = enclosed_body(part, &kind);
    let mut header_sections = vec![format!("{section}.MIME")];
    if enclosed.is_some() {
        header_sections.extend([format!("{section}.HEADER"), format!("{section}.TEXT")]);
    }
    out.push(NumberedPart {
        section: section.to_string(),
        size: single_fields(part).and_then(|f| f.get(6)).and_then(number),
        media_type: kind,
        depth,
        header_sections,
    });
    if let Some(inner) = enclosed {
        message_body(inner, section, depth + 1, out);
    } else if let Some(parts) = children(part) {
        for (i, child) in parts.iter().enumerate() {
            walk(child, &join(section, i + 1), depth + 1, out);
        }
    }
}

fn join(prefix: &str, n: usize) -> String {
    if prefix.is_empty() {
        n.to_string()
    } else {
        format!("{prefix}.{n}")
    }
}

/// A multipart's parts: the lists that lead its body structure.
fn children(body: &Value) -> Option<&[Value]> {
    let Value::List(items) = body else {
        return None;
    };
    let count = items
        .iter()
        .take_while(|v| matches!(v, Value::List(_)))
        .count();
    (count > 0).then(|| &items[..count])
}

/// A non-multipart part's fields (type, subtype, parameters, id,
/// description, encoding, size, ...).
fn single_fields(body: &Value) -> Option<&[Value]> {
    match body {
        Value::List(items) if children(body).is_none() => Some(items),
        _ => None,
    }
}

/// The body structure of an enclosed `MESSAGE/RFC822` (its 9th field,
/// after the envelope).
fn enclosed_body<'a>(part: &'a Value, kind: &str) -> Option<&'a Value> {
    if !kind.eq_ignore_ascii_case("MESSAGE/RFC822") {
        return None;
    }
    single_fields(part)?
        .get(8)
        .filter(|v| matches!(v, Value::List(_)))
}

fn text(v: &Value) -> Option<String> {
    v.string_bytes()
        .map(|b| String::from_utf8_lossy(b).to_ascii_uppercase())
}

fn number(v: &Value) -> Option<u64> {
    v.as_atom()?.parse().ok()
}

/// `TYPE/SUBTYPE`; a multipart's subtype follows its parts.
fn media_type(body: &Value) -> String {
    if let (Some(parts), Value::List(items)) = (children(body), body) {
        let subtype = items.get(parts.len()).and_then(text);
        return format!("MULTIPART/{}", subtype.unwrap_or_else(|| "?".into()));
    }
    let fields = single_fields(body).unwrap_or_default();
    let field = |i: usize| fields.get(i).and_then(text).unwrap_or_else(|| "?".into());
    format!("{}/{}", field(0), field(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imap::response::Response;
    use crate::imap::structure::body_structure;

    /// The BODYSTRUCTURE in an untagged FETCH response, parsed.
    fn structure_of(wire: &str) -> Value {
        let line = format!("* 1 FETCH (BODYSTRUCTURE {wire})\r\n");
        let Ok(Response::Data { mut arguments, .. }) = Response::parse(line.as_bytes()) else {
            panic!("not a FETCH response: {line}");
        };
        let Some(Value::List(mut items)) = arguments.pop() else {
            panic!("no fetch items");
        };
        items.pop().expect("the structure")
    }

    fn sections(parts: &[NumberedPart]) -> Vec<String> {
        parts
            .iter()
            .map(|p| format!("{} {}", p.section, p.media_type))
            .collect()
    }

    const PLAIN: &str = "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 14 2)";
    const GIF: &str = "(\"IMAGE\" \"GIF\" NIL NIL NIL \"BASE64\" 300)";
    const RICH: &str = "(\"TEXT\" \"RICHTEXT\" NIL NIL NIL \"7BIT\" 20 1)";
    const OCTETS: &str = "(\"APPLICATION\" \"OCTET-STREAM\" NIL NIL NIL \"BASE64\" 99)";
    const ENVELOPE: &str = "(NIL \"inner\" NIL NIL NIL NIL NIL NIL NIL NIL)";

    /// RFC 9051 §6.4.5's example message: a multipart/mixed holding a
    /// text, an attachment, an enclosed message, and a multipart/mixed
    /// whose enclosed message holds a multipart/alternative.
    fn rfc_example() -> Value {
        let inner_mixed = format!("({PLAIN} {OCTETS} \"MIXED\")");
        let message3 = format!(
            "(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 500 {ENVELOPE} {inner_mixed} 20)"
        );
        let alternative = format!("({PLAIN} {RICH} \"ALTERNATIVE\")");
        let message42 = format!(
            "(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 600 {ENVELOPE} ({PLAIN} {alternative} \"MIXED\") 25)"
        );
        let part4 = format!("({GIF} {message42} \"MIXED\")");
        structure_of(&format!("({PLAIN} {OCTETS} {message3} {part4} \"MIXED\")"))
    }

    #[test]
    fn the_rfc_example_is_numbered_as_the_rfc_numbers_it() {
        let parts = numbered_parts(&rfc_example());
        assert_eq!(
            sections(&parts),
            [
                " MULTIPART/MIXED",
                "1 TEXT/PLAIN",
                "2 APPLICATION/OCTET-STREAM",
                "3 MESSAGE/RFC822",
                "3.1 TEXT/PLAIN",
                "3.2 APPLICATION/OCTET-STREAM",
                "4 MULTIPART/MIXED",
                "4.1 IMAGE/GIF",
                "4.2 MESSAGE/RFC822",
                "4.2.1 TEXT/PLAIN",
                "4.2.2 MULTIPART/ALTERNATIVE",
                "4.2.2.1 TEXT/PLAIN",
                "4.2.2.2 TEXT/RICHTEXT",
            ]
        );
        assert_eq!(parts[0].header_sections, ["HEADER", "TEXT"]);
        let find = |s: &str| parts.iter().find(|p| p.section == s).unwrap();
        assert_eq!(find("4.1").header_sections, ["4.1.MIME"]);
        assert_eq!(
            find("4.2").header_sections,
            ["4.2.MIME", "4.2.HEADER", "4.2.TEXT"]
        );
        assert_eq!(find("4.2.2.2").depth, 4);
        assert_eq!(find("4.1").size, Some(300));
        assert_eq!(find("4").size, None);
    }

    #[test]
    fn a_single_part_message_has_only_a_part_1() {
        let parts = numbered_parts(&structure_of(PLAIN));
        assert_eq!(sections(&parts), [" TEXT/PLAIN", "1 TEXT/PLAIN"]);
        assert_eq!(parts[1].size, Some(14));
    }

    #[test]
    fn the_servers_own_structure_of_a_mixed_message_with_an_alternative() {
        let message = b"Subject: x\r\nMIME-Version: 1.0\r\n\
            Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n\
            --m\r\nContent-Type: multipart/alternative; boundary=\"a\"\r\n\r\n\
            --a\r\nContent-Type: text/plain\r\n\r\nhi\r\n\
            --a\r\nContent-Type: text/html\r\n\r\n<p>hi</p>\r\n--a--\r\n\
            --m\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\niVBO\r\n--m--\r\n";
        let parts = numbered_parts(&body_structure(message, true));
        assert_eq!(
            sections(&parts),
            [
                " MULTIPART/MIXED",
                "1 MULTIPART/ALTERNATIVE",
                "1.1 TEXT/PLAIN",
                "1.2 TEXT/HTML",
                "2 IMAGE/PNG",
            ]
        );
    }

    #[test]
    fn what_is_not_a_structure_gives_what_could_be_read() {
        let parts = numbered_parts(&Value::Atom("NIL".into()));
        assert_eq!(sections(&parts), [" ?/?", "1 ?/?"]);
        // Nested deeper than the walk goes: it stops.
        let mut deep = structure_of(PLAIN);
        for _ in 0..40 {
            deep = Value::List(vec![deep, Value::Quoted(b"MIXED".to_vec())]);
        }
        assert!(numbered_parts(&deep).len() <= MAX_DEPTH + 2);
    }
}
