//! Request targets and form data: splitting `/path?query#fragment`,
//! percent-decoding (`%E0`), `+` as a space in forms, and decoding the
//! resulting bytes as UTF-8 or, failing that, as ISO-8859-1 (the course's
//! form example, `age=41+%E0+60+ans`, was sent by a Latin-1 page).

use crate::dissect::Span;

/// The four forms of request target (RFC 9112 §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetForm {
    /// `/where?q=now`, the usual form.
    Origin,
    /// `http://www.example.org/pub/`, sent to proxies.
    Absolute,
    /// `www.example.com:80`, for CONNECT only.
    Authority,
    /// `*`, for a server-wide OPTIONS.
    Asterisk,
}

/// A request target split into its parts, with spans relative to the
/// target's first byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub form: TargetForm,
    /// `http://host:port` of an absolute-form target.
    pub scheme_authority: Option<Span>,
    pub path: Span,
    /// The query without its `?`.
    pub query: Option<Span>,
    /// A fragment, which a client must not send (RFC 9110 §4.2.4).
    pub fragment: Option<Span>,
}

/// Splits a request target. Spans are relative to `target`.
pub fn split_target(target: &str) -> Target {
    let bytes = target.as_bytes();
    let len = bytes.len();
    if target == "*" {
        return Target {
            form: TargetForm::Asterisk,
            scheme_authority: None,
            path: Span::new(0, 1),
            query: None,
            fragment: None,
        };
    }
    let (form, path_start, authority) = if let Some(rest) = target.find("://").filter(|&i| {
        i > 0
            && target[..i]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.')
    }) {
        let after = rest + 3;
        let path_start = target[after..].find('/').map_or(len, |i| after + i);
        (
            TargetForm::Absolute,
            path_start,
            Some(Span::new(0, path_start)),
        )
    } else if !target.starts_with('/') && target.contains(':') && !target.contains('/') {
        (TargetForm::Authority, len, Some(Span::new(0, len)))
    } else {
        (TargetForm::Origin, 0, None)
    };
    let fragment_start = target[path_start..].find('#').map(|i| path_start + i);
    let end_before_fragment = fragment_start.unwrap_or(len);
    let query_start = target[path_start..end_before_fragment]
        .find('?')
        .map(|i| path_start + i);
    let path_end = query_start.unwrap_or(end_before_fragment);
    Target {
        form,
        scheme_authority: authority,
        path: Span::new(path_start, path_end),
        query: query_start.map(|q| Span::new(q + 1, end_before_fragment)),
        fragment: fragment_start.map(|f| Span::new(f + 1, len)),
    }
}

/// Bytes decoded from `%XX` escapes (and `+` as space when `plus_is_space`),
/// plus whether any escape was malformed (kept literally).
pub fn percent_decode(text: &str, plus_is_space: bool) -> (Vec<u8>, bool) {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut malformed = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).and_then(|h| {
                    let h = std::str::from_utf8(h).ok()?;
                    u8::from_str_radix(h, 16).ok()
                });
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => {
                        malformed = true;
                        out.push(b'%');
                    }
                }
            }
            b'+' if plus_is_space => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    (out, malformed)
}

/// How decoded bytes became text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    Utf8,
    /// Not valid UTF-8: read as ISO-8859-1, where every byte is a character.
    Latin1,
}

/// Bytes as text: UTF-8 if they are valid, ISO-8859-1 otherwise.
pub fn bytes_to_text(bytes: &[u8]) -> (String, Charset) {
    match std::str::from_utf8(bytes) {
        Ok(s) => (s.to_string(), Charset::Utf8),
        Err(_) => (bytes.iter().map(|&b| b as char).collect(), Charset::Latin1),
    }
}

/// One `name=value` pair of a query or form body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormPair {
    /// The whole pair, relative to the text it came from.
    pub span: Span,
    pub name: String,
    pub value: String,
    /// Whether an `=` was present (`flag` alone has none).
    pub has_value: bool,
    pub charset: Charset,
    pub malformed_escape: bool,
}

/// Splits `a=1&b=2` (or `;` separated) into decoded pairs, with `+` as space.
pub fn form_pairs(text: &str) -> Vec<FormPair> {
    let mut pairs = Vec::new();
    let mut start = 0;
    for piece in text.split('&') {
        let span = Span::new(start, start + piece.len());
        start += piece.len() + 1;
        if piece.is_empty() {
            continue;
        }
        let (raw_name, raw_value, has_value) = match piece.split_once('=') {
            Some((n, v)) => (n, v, true),
            None => (piece, "", false),
        };
        let (name_bytes, bad_name) = percent_decode(raw_name, true);
        let (value_bytes, bad_value) = percent_decode(raw_value, true);
        let (name, cs_name) = bytes_to_text(&name_bytes);
        let (value, cs_value) = bytes_to_text(&value_bytes);
        pairs.push(FormPair {
            span,
            name,
            value,
            has_value,
            charset: if cs_name == Charset::Latin1 || cs_value == Charset::Latin1 {
                Charset::Latin1
            } else {
                Charset::Utf8
            },
            malformed_escape: bad_name || bad_value,
        });
    }
    pairs
}

/// Percent-encodes a form value the way a browser does for
/// `application/x-www-form-urlencoded` (space as `+`).
pub fn form_encode(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        match b {
            b' ' => out.push('+'),
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn origin_form_with_query_and_fragment() {
        let t = "/cgi/show?prenom=Hugues&nom=Fauconnier#top";
        let parts = split_target(t);
        assert_eq!(parts.form, TargetForm::Origin);
        assert_eq!(parts.path.slice(t.as_bytes()), b"/cgi/show");
        assert_eq!(
            parts.query.unwrap().slice(t.as_bytes()),
            b"prenom=Hugues&nom=Fauconnier"
        );
        assert_eq!(parts.fragment.unwrap().slice(t.as_bytes()), b"top");
    }

    #[test]
    fn other_forms() {
        let t = "http://www.someschool.edu/somedir/page.html";
        let parts = split_target(t);
        assert_eq!(parts.form, TargetForm::Absolute);
        assert_eq!(
            parts.scheme_authority.unwrap().slice(t.as_bytes()),
            b"http://www.someschool.edu"
        );
        assert_eq!(parts.path.slice(t.as_bytes()), b"/somedir/page.html");
        assert_eq!(
            split_target("www.example.com:443").form,
            TargetForm::Authority
        );
        assert_eq!(split_target("*").form, TargetForm::Asterisk);
        let bare = split_target("http://example.com");
        assert!(bare.path.is_empty());
    }

    #[test]
    fn the_courses_form_decodes_as_latin1() {
        let pairs = form_pairs("prenom=Hugues&nom=Fauconnier&age=41+%E0+60+ans");
        assert_eq!(pairs.len(), 3);
        assert_eq!(pairs[2].name, "age");
        assert_eq!(pairs[2].value, "41 à 60 ans");
        assert_eq!(pairs[2].charset, Charset::Latin1);
        assert_eq!(pairs[0].charset, Charset::Utf8);
        assert_eq!(pairs[1].span, Span::new(14, 28));
        // UTF-8 escapes decode as UTF-8.
        assert_eq!(form_pairs("q=se%C3%B1or")[0].value, "señor");
    }

    #[test]
    fn odd_pairs() {
        let pairs = form_pairs("flag&&x=%zz&=v");
        assert_eq!(pairs.len(), 3);
        assert!(!pairs[0].has_value);
        assert!(pairs[1].malformed_escape);
        assert_eq!(pairs[1].value, "%zz");
        assert_eq!(pairs[2].name, "");
    }

    proptest! {
        #[test]
        fn form_encoding_round_trips(value in "\\PC{0,30}") {
            let encoded = form_encode(&value);
            let (bytes, bad) = percent_decode(&encoded, true);
            prop_assert!(!bad);
            prop_assert_eq!(String::from_utf8(bytes).unwrap(), value);
        }

        #[test]
        fn splitting_never_panics(target in "\\PC{0,60}") {
            let t = split_target(&target);
            prop_assert!(t.path.end <= target.len());
        }
    }
}
