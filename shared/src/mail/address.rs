//! Mail addresses: the `local-part@domain` syntax shared by SMTP paths
//! (RFC 5321 §4.1.2) and header fields (RFC 5322 §3.4), and address lists
//! such as `To: Bob <bob@hamburger.edu>, alice@crepes.fr` with their spans.
//!
//! [`check_address`] validates one address and says what is wrong;
//! [`parse_address_list`] reads a field value into mailboxes and fields for
//! the dissection tree, never failing.

use super::cover::cover;
use super::encoded_word::{decode_unstructured, parse_word};
use super::lex::{ADDRESS_SPECIALS, Token, TokenKind, tokenize};
use crate::dissect::{Diagnostic, Field, Span};

/// Why an address is not a valid `local-part@domain`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AddressError {
    #[error("the address is empty")]
    Empty,
    #[error("the address has no '@' between the user and the domain")]
    NoAt,
    #[error("the part before '@' (the local part) is empty")]
    EmptyLocalPart,
    #[error("the local part has a character that needs quoting, or a misplaced dot")]
    BadLocalPart,
    #[error("the domain after '@' is empty")]
    EmptyDomain,
    #[error("the domain is not a valid host name (letters, digits, '-' and dots)")]
    BadDomain,
}

fn is_atext(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&b) || b >= 0x80
}

/// Checks `local-part@domain` (RFC 5321 §4.1.2 `Mailbox`): a dot-string or
/// quoted local part, and a domain of letters, digits and hyphens, or an
/// address literal in brackets. Returns the two halves.
pub fn check_address(address: &str) -> Result<(&str, &str), AddressError> {
    if address.is_empty() {
        return Err(AddressError::Empty);
    }
    let at = address.rfind('@').ok_or(AddressError::NoAt)?;
    let (local, domain) = (&address[..at], &address[at + 1..]);
    if local.is_empty() {
        return Err(AddressError::EmptyLocalPart);
    }
    let quoted = local.len() >= 2 && local.starts_with('"') && local.ends_with('"');
    if !quoted {
        let ok = local
            .split('.')
            .all(|atom| !atom.is_empty() && atom.bytes().all(is_atext));
        if !ok {
            return Err(AddressError::BadLocalPart);
        }
    }
    if domain.is_empty() {
        return Err(AddressError::EmptyDomain);
    }
    if domain.starts_with('[') && domain.ends_with(']') {
        return Ok((local, domain));
    }
    let ok = domain.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b >= 0x80)
    });
    if !ok {
        return Err(AddressError::BadDomain);
    }
    Ok((local, domain))
}

/// One mailbox of an address list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    /// The decoded display name (`Alice`, `¡Hola!`), if any.
    pub display_name: Option<String>,
    pub address: String,
    /// The whole mailbox, name included.
    pub span: Span,
}

impl Mailbox {
    /// `Alice <alice@crepes.fr>` or `alice@crepes.fr`.
    pub fn display(&self) -> String {
        match &self.display_name {
            Some(name) => format!("{name} <{}>", self.address),
            None => self.address.clone(),
        }
    }
}

/// An address list read from a field value.
#[derive(Debug, Clone, Default)]
pub struct AddressList {
    pub mailboxes: Vec<Mailbox>,
    /// Fields covering the value: one per mailbox or group, with the gaps.
    pub fields: Vec<Field>,
    pub diagnostics: Vec<Diagnostic>,
}

fn phrase_text(bytes: &[u8], tokens: &[Token]) -> Option<String> {
    let mut words: Vec<String> = Vec::new();
    for t in tokens {
        match t.kind {
            TokenKind::Word => {
                let decoded = if t.text.starts_with("=?") {
                    parse_word(bytes, t.span.start, t.span.end)
                        .filter(|(w, _)| w.span == t.span)
                        .map(|(w, _)| w.decoded)
                } else {
                    None
                };
                words.push(decoded.unwrap_or_else(|| t.text.clone()));
            }
            TokenKind::Quoted => {
                // Encoded words are not allowed inside quotes (RFC 2047 §5),
                // but many mailers put them there; decode them anyway.
                let text = t.text.as_bytes();
                let decoded = decode_unstructured(text, Span::new(0, text.len()));
                words.push(decoded.text);
            }
            TokenKind::Special(b'.') => words.push(".".into()),
            _ => {}
        }
    }
    let joined = words.join(" ");
    (!joined.trim().is_empty()).then(|| joined.trim().to_string())
}

fn address_text(tokens: &[Token]) -> String {
    tokens
        .iter()
        .filter(|t| t.kind != TokenKind::Comment)
        .map(|t| match t.kind {
            TokenKind::Quoted => format!("\"{}\"", t.text),
            _ => t.text.clone(),
        })
        .collect()
}

fn span_of(tokens: &[Token]) -> Option<Span> {
    Some(Span::new(
        tokens.first()?.span.start,
        tokens.last()?.span.end,
    ))
}

/// Reads the address list in `span` of `bytes` (a From, To, Cc, Reply-To,
/// Sender or Return-Path value).
pub fn parse_address_list(bytes: &[u8], span: Span) -> AddressList {
    let (tokens, lex_diagnostics) = tokenize(bytes, span, ADDRESS_SPECIALS);
    let mut list = AddressList {
        diagnostics: lex_diagnostics,
        ..AddressList::default()
    };
    let mut children = Vec::new();
    let mut item: Vec<Token> = Vec::new();
    let mut in_angle = false;
    let flush = |item: &mut Vec<Token>, list: &mut AddressList, children: &mut Vec<Field>| {
        let tokens = std::mem::take(item);
        if tokens.iter().all(|t| t.kind == TokenKind::Comment) {
            return;
        }
        if let Some(field) = mailbox(bytes, &tokens, list) {
            children.push(field);
        }
    };
    for token in tokens {
        match token.kind {
            TokenKind::Special(b'<') => {
                in_angle = true;
                item.push(token);
            }
            TokenKind::Special(b'>') => {
                in_angle = false;
                item.push(token);
            }
            TokenKind::Special(b',') if !in_angle => flush(&mut item, &mut list, &mut children),
            TokenKind::Special(b':') if !in_angle && !item.iter().any(|t| t.is_special(b'@')) => {
                // A group: "Friends: a@b, c@d;" or "undisclosed-recipients:;".
                let name_span =
                    span_of(&item).map_or(token.span, |s| Span::new(s.start, token.span.end));
                let name = phrase_text(bytes, &item).unwrap_or_default();
                item.clear();
                children.push(
                    Field::new("Group", name_span, name)
                        .help("A named group of addresses, ended by ';' (RFC 5322 §3.4)."),
                );
            }
            TokenKind::Special(b';') if !in_angle => {
                flush(&mut item, &mut list, &mut children);
            }
            _ => item.push(token),
        }
    }
    flush(&mut item, &mut list, &mut children);
    list.fields = cover(bytes, span, children);
    list
}

fn mailbox(bytes: &[u8], tokens: &[Token], list: &mut AddressList) -> Option<Field> {
    let whole = span_of(tokens)?;
    let open = tokens.iter().position(|t| t.is_special(b'<'));
    let (display_name, addr_tokens, addr_span, name_span) = match open {
        Some(open) => {
            let close = tokens[open..]
                .iter()
                .position(|t| t.is_special(b'>'))
                .map(|p| open + p);
            let inner_end = close.unwrap_or(tokens.len());
            let mut inner = &tokens[open + 1..inner_end];
            // Obsolete source routes: <@relay.example:bob@hamburger.edu>.
            if let Some(colon) = inner.iter().position(|t| t.is_special(b':')) {
                inner = &inner[colon + 1..];
            }
            if close.is_none() {
                list.diagnostics.push(
                    Diagnostic::warning(tokens[open].span, "'<' without its closing '>'")
                        .reference("RFC 5322 §3.4"),
                );
            }
            let angle_end = close.map_or(whole.end, |c| tokens[c].span.end);
            let name = &tokens[..open];
            (
                phrase_text(bytes, name),
                inner.to_vec(),
                Span::new(tokens[open].span.start, angle_end),
                span_of(name),
            )
        }
        None => {
            let comment = tokens
                .iter()
                .find(|t| t.kind == TokenKind::Comment)
                .map(|t| t.text.clone());
            let addr: Vec<Token> = tokens
                .iter()
                .filter(|t| t.kind != TokenKind::Comment)
                .cloned()
                .collect();
            let addr_span = span_of(&addr).unwrap_or(whole);
            (comment, addr, addr_span, None)
        }
    };
    let address = address_text(&addr_tokens);
    let mut address_field = Field::new("Address", addr_span, address.clone()).help(
        "The mailbox itself, local-part@domain (RFC 5322 §3.4.1). Mail to it is routed by \
         the domain's MX records.",
    );
    if let Err(e) = check_address(&address) {
        // `<>` is the null return path of bounces (RFC 5321 §4.5.5).
        if !address.is_empty() || open.is_none() {
            list.diagnostics.push(
                Diagnostic::warning(addr_span, format!("{address:?}: {e}"))
                    .reference("RFC 5322 §3.4.1"),
            );
        }
    }
    let mut children = Vec::new();
    if let Some(name_span) = name_span {
        children.push(
            Field::new(
                "Display name",
                name_span,
                display_name.clone().unwrap_or_default(),
            )
            .help("The name a mail reader shows; it plays no part in delivery."),
        );
    }
    if let Some(inner) = span_of(&addr_tokens).filter(|s| open.is_some() && *s != addr_span) {
        address_field = address_field.with_children(cover(
            bytes,
            addr_span,
            vec![Field::new("Mailbox", inner, address.clone())],
        ));
    }
    children.push(address_field);
    let m = Mailbox {
        display_name,
        address,
        span: whole,
    };
    let field =
        Field::new("Mailbox", whole, m.display()).with_children(cover(bytes, whole, children));
    list.mailboxes.push(m);
    Some(field)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked() {
        assert_eq!(
            check_address("bob@hamburger.edu"),
            Ok(("bob", "hamburger.edu"))
        );
        assert_eq!(
            check_address("\"bob smith\"@x.org"),
            Ok(("\"bob smith\"", "x.org"))
        );
        assert_eq!(check_address("a@[127.0.0.1]"), Ok(("a", "[127.0.0.1]")));
        assert_eq!(check_address("bob"), Err(AddressError::NoAt));
        assert_eq!(check_address("@x.org"), Err(AddressError::EmptyLocalPart));
        assert_eq!(check_address("a..b@x.org"), Err(AddressError::BadLocalPart));
        assert_eq!(check_address("a@"), Err(AddressError::EmptyDomain));
        assert_eq!(check_address("a@x_y.org"), Err(AddressError::BadDomain));
        assert_eq!(check_address(""), Err(AddressError::Empty));
    }

    fn parse(s: &str) -> AddressList {
        parse_address_list(s.as_bytes(), Span::new(0, s.len()))
    }

    #[test]
    fn lists_with_names_comments_and_groups() {
        let l = parse(
            " \"Alice A.\" <alice@crepes.fr>, bob@hamburger.edu (Bob),\r\n =?utf-8?Q?Jos=C3=A9?= <jose@x.es>",
        );
        let shown: Vec<_> = l.mailboxes.iter().map(Mailbox::display).collect();
        assert_eq!(
            shown,
            [
                "Alice A. <alice@crepes.fr>",
                "Bob <bob@hamburger.edu>",
                "José <jose@x.es>"
            ]
        );
        assert!(l.diagnostics.is_empty(), "{:?}", l.diagnostics);
        let l = parse("undisclosed-recipients:;");
        assert!(l.mailboxes.is_empty());
        assert_eq!(l.fields[0].name, "Group");
        let l = parse("Friends: a@b.c, d@e.f;");
        assert_eq!(l.mailboxes.len(), 2);
    }

    #[test]
    fn every_byte_is_covered_and_bad_addresses_reported() {
        let s = "Bob <bob@hamburger.edu>, nobody";
        let l = parse(s);
        let mut covered = vec![false; s.len()];
        fn mark(f: &Field, covered: &mut [bool]) {
            if f.children.is_empty() {
                for c in &mut covered[f.span.start..f.span.end] {
                    *c = true;
                }
            }
            for c in &f.children {
                mark(c, covered);
            }
        }
        for f in &l.fields {
            mark(f, &mut covered);
        }
        assert!(covered.iter().all(|c| *c), "{:#?}", l.fields);
        assert_eq!(l.diagnostics.len(), 1);
        assert!(l.diagnostics[0].message.contains("no '@'"));
    }
}
