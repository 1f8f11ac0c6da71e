//! Cookies (RFC 6265): the `Set-Cookie` a server sends (one cookie and its
//! attributes) and the `Cookie` a client sends back (name=value pairs).
//! Spans are relative to the header value.

use crate::dissect::Span;

/// One `Set-Cookie` header value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetCookie {
    /// `name=value`, the cookie itself.
    pub pair: Span,
    pub name: String,
    pub value: String,
    /// Whether the first part had the `=` a cookie needs (`1678` alone does not).
    pub has_equals: bool,
    pub attributes: Vec<CookieAttribute>,
}

/// One attribute after the cookie: `Path=/`, `HttpOnly`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieAttribute {
    pub span: Span,
    pub name: String,
    pub value: Option<String>,
}

impl CookieAttribute {
    /// What the attribute tells the browser, with the RFC section.
    pub fn meaning(&self) -> &'static str {
        match self.name.to_ascii_lowercase().as_str() {
            "expires" => {
                "Expires: the browser forgets the cookie after this date; without it (or Max-Age) the cookie lasts until the browser closes (RFC 6265 §5.2.1)."
            }
            "max-age" => {
                "Max-Age: the cookie lasts this many seconds; it wins over Expires (RFC 6265 §5.2.2)."
            }
            "domain" => {
                "Domain: the hosts the cookie is sent back to; absent, only the host that set it (RFC 6265 §5.2.3)."
            }
            "path" => {
                "Path: the cookie is sent back only for paths under this one (RFC 6265 §5.2.4)."
            }
            "secure" => "Secure: the cookie is sent back only over HTTPS (RFC 6265 §5.2.5).",
            "httponly" => {
                "HttpOnly: page scripts cannot read the cookie, only HTTP requests carry it (RFC 6265 §5.2.6)."
            }
            "samesite" => {
                "SameSite: whether the cookie goes along on requests started by other sites (RFC 6265bis)."
            }
            _ => {
                "An attribute this lab does not know: browsers ignore unknown attributes (RFC 6265 §5.2)."
            }
        }
    }
}

fn trimmed(text: &str, start: usize, end: usize) -> Span {
    let piece = &text[start..end];
    let lead = piece.len() - piece.trim_start().len();
    let trail = piece.len() - piece.trim_end().len();
    Span::new(start + lead, end - trail)
}

/// Splits `text` on `;` into trimmed spans.
fn split_semicolons(text: &str) -> Vec<Span> {
    let mut spans = Vec::new();
    let mut start = 0;
    for piece in text.split(';') {
        let end = start + piece.len();
        let span = trimmed(text, start, end);
        if !span.is_empty() {
            spans.push(span);
        }
        start = end + 1;
    }
    spans
}

fn piece(text: &str, span: Span) -> &str {
    &text[span.start..span.end]
}

/// Reads a `Set-Cookie` value.
pub fn parse_set_cookie(value: &str) -> SetCookie {
    let mut parts = split_semicolons(value).into_iter();
    let pair = parts.next().unwrap_or(Span::point(0));
    let pair_text = piece(value, pair);
    let (name, val, has_equals) = match pair_text.split_once('=') {
        Some((n, v)) => (n.trim().to_string(), v.trim().to_string(), true),
        None => (String::new(), pair_text.to_string(), false),
    };
    let attributes = parts
        .map(|span| {
            let text = piece(value, span);
            let (name, value) = match text.split_once('=') {
                Some((n, v)) => (n.trim().to_string(), Some(v.trim().to_string())),
                None => (text.to_string(), None),
            };
            CookieAttribute { span, name, value }
        })
        .collect();
    SetCookie {
        pair,
        name,
        value: val,
        has_equals,
        attributes,
    }
}

/// One pair of a `Cookie` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookiePair {
    pub span: Span,
    pub name: String,
    pub value: String,
    pub has_equals: bool,
}

/// Reads a `Cookie` value: `name=value; name2=value2`.
pub fn parse_cookie(value: &str) -> Vec<CookiePair> {
    split_semicolons(value)
        .into_iter()
        .map(|span| {
            let text = piece(value, span);
            match text.split_once('=') {
                Some((n, v)) => CookiePair {
                    span,
                    name: n.trim().to_string(),
                    value: v.trim().to_string(),
                    has_equals: true,
                },
                None => CookiePair {
                    span,
                    name: String::new(),
                    value: text.to_string(),
                    has_equals: false,
                },
            }
        })
        .collect()
}

/// The values of every cookie called `name` in a `Cookie` header value,
/// borrowed from it, in the order sent. A browser sends the cookie with
/// the longest path first (RFC 6265 §5.4), so the first is the most
/// specific one; a pair without `=` names no cookie.
pub fn cookie_values<'a>(header: &'a str, name: &str) -> impl Iterator<Item = &'a str> {
    split_semicolons(header)
        .into_iter()
        .filter_map(move |span| {
            let (n, v) = piece(header, span).split_once('=')?;
            (n.trim() == name).then_some(v.trim())
        })
}

/// The value of cookie `name` in a `Cookie` header value (the first, if
/// it is sent more than once).
pub fn cookie_value(header: &str, name: &str) -> Option<String> {
    cookie_values(header, name).next().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_set_cookie() {
        let v = "visits=3; Path=/; Max-Age=3600; HttpOnly";
        let c = parse_set_cookie(v);
        assert_eq!(
            (c.name.as_str(), c.value.as_str(), c.has_equals),
            ("visits", "3", true)
        );
        assert_eq!(c.pair, Span::new(0, 8));
        let names: Vec<_> = c.attributes.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["Path", "Max-Age", "HttpOnly"]);
        assert_eq!(c.attributes[1].value.as_deref(), Some("3600"));
        assert_eq!(piece(v, c.attributes[2].span), "HttpOnly");
        assert!(c.attributes[0].meaning().contains("§5.2.4"));
    }

    #[test]
    fn the_courses_cookie_has_no_name() {
        let c = parse_set_cookie("1678");
        assert!(!c.has_equals);
        assert_eq!(c.value, "1678");
        let pairs = parse_cookie("1678");
        assert!(!pairs[0].has_equals);
    }

    #[test]
    fn cookie_pairs() {
        let pairs = parse_cookie("visits=3;  session=ab12 ; ");
        assert_eq!(pairs.len(), 2);
        assert_eq!(pairs[1].name, "session");
        assert_eq!(pairs[1].span, Span::new(11, 23));
        assert_eq!(cookie_value("a=1; b=2", "b").as_deref(), Some("2"));
        assert_eq!(cookie_value("a=1", "c"), None);
        assert!(parse_cookie("").is_empty());
    }

    #[test]
    fn a_request_cookie_header_by_name() {
        let header = "a=1; token=first;token=second ;  b = 2 ; flag; empty=";
        assert_eq!(
            cookie_values(header, "token").collect::<Vec<_>>(),
            ["first", "second"]
        );
        assert_eq!(cookie_value(header, "token").as_deref(), Some("first"));
        // Spaces around the name and value are not part of them.
        assert_eq!(cookie_value(header, "b").as_deref(), Some("2"));
        assert_eq!(cookie_value(header, "empty").as_deref(), Some(""));
        // A pair without `=` is not a cookie called `flag`.
        assert_eq!(cookie_value(header, "flag"), None);
        // Names are case-sensitive, and a value may hold `=`.
        assert_eq!(cookie_value(header, "A"), None);
        assert_eq!(cookie_value("t=a=b", "t").as_deref(), Some("a=b"));
        assert_eq!(cookie_values("", "t").count(), 0);
    }
}
