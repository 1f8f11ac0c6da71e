//! Trace fields (RFC 5321 §4.4, RFC 5322 §3.6.7): the `Received:` line each
//! SMTP server adds on top of the message, and the `Return-Path:` the final
//! one adds from the envelope's `MAIL FROM`. Read from the top down they
//! are the route backwards: the lowest `Received:` is the first hop.
//!
//! [`parse_received`] reads one `Received:` value into its clauses (from,
//! by, via, with, id, for) and date, with fields for the dissection tree;
//! [`format_received`] writes the one this lab's server adds.

use super::cover::cover;
use super::date::{self, DateTime};
use super::lex::{Token, TokenKind, tokenize};
use crate::dissect::{Diagnostic, Field, Severity, Span};

/// One `Received:` field, read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Received {
    /// The host that sent the message ("from crepes.fr").
    pub from: Option<String>,
    /// The host that received it ("by hamburger.edu").
    pub by: Option<String>,
    pub with: Option<String>,
    pub id: Option<String>,
    /// The recipient ("for <bob@hamburger.edu>"), when one was named.
    pub for_recipient: Option<String>,
    pub date: Option<DateTime>,
}

/// What [`parse_received`] returns.
#[derive(Debug, Clone, Default)]
pub struct ParsedReceived {
    pub received: Received,
    pub fields: Vec<Field>,
    pub diagnostics: Vec<Diagnostic>,
}

const KEYWORDS: [&str; 6] = ["from", "by", "via", "with", "id", "for"];

fn clause_help(keyword: &str) -> &'static str {
    match keyword {
        "from" => {
            "The host that handed the message over, as it named itself in HELO/EHLO, often followed by what the server saw in parentheses (RFC 5321 §4.4)."
        }
        "by" => "The server that received the message and added this line.",
        "with" => "The protocol: SMTP (after HELO), ESMTP (after EHLO), and variants (RFC 3848).",
        "id" => "The receiving server's identifier for this transfer, for its logs.",
        "for" => "The envelope recipient (RCPT TO) this copy was for.",
        "via" => "The link over which the message came (rarely used).",
        _ => "",
    }
}

/// Reads the `Received:` value in `span` of `bytes`.
pub fn parse_received(bytes: &[u8], span: Span) -> ParsedReceived {
    let (tokens, diagnostics) = tokenize(bytes, span, b";<>[]");
    let mut out = ParsedReceived {
        diagnostics,
        ..ParsedReceived::default()
    };
    let semicolon = tokens.iter().rposition(|t| t.is_special(b';'));
    let clause_tokens = &tokens[..semicolon.unwrap_or(tokens.len())];
    let mut children = Vec::new();
    // Split the clauses at the keywords.
    let mut starts: Vec<usize> = clause_tokens
        .iter()
        .enumerate()
        .filter(|(_, t)| {
            t.kind == TokenKind::Word && KEYWORDS.contains(&t.text.to_ascii_lowercase().as_str())
        })
        .map(|(i, _)| i)
        .collect();
    starts.push(clause_tokens.len());
    for pair in starts.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let keyword = clause_tokens[a].text.to_ascii_lowercase();
        let value_tokens: &[Token] = &clause_tokens[a + 1..b];
        let main: Vec<&Token> = value_tokens
            .iter()
            .filter(|t| t.kind != TokenKind::Comment)
            .collect();
        let value: String = main
            .iter()
            .map(|t| t.text.as_str())
            .collect::<Vec<_>>()
            .join("");
        let comment: Vec<&str> = value_tokens
            .iter()
            .filter(|t| t.kind == TokenKind::Comment)
            .map(|t| t.text.as_str())
            .collect();
        let end = value_tokens
            .last()
            .map_or(clause_tokens[a].span.end, |t| t.span.end);
        let cspan = Span::new(clause_tokens[a].span.start, end);
        let shown = if comment.is_empty() {
            value.clone()
        } else {
            format!("{value} ({})", comment.join(") ("))
        };
        let value = value.trim_matches(['<', '>']).to_string();
        match keyword.as_str() {
            "from" => out.received.from = Some(value),
            "by" => out.received.by = Some(value),
            "with" => out.received.with = Some(value),
            "id" => out.received.id = Some(value),
            "for" => out.received.for_recipient = Some(value),
            _ => {}
        }
        let mut label = keyword.clone();
        if let Some(first) = label.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        children.push(
            Field::new(label, cspan, shown)
                .help(clause_help(&keyword))
                .with_children(cover(
                    bytes,
                    cspan,
                    vec![Field::new(
                        "Keyword",
                        clause_tokens[a].span,
                        keyword.clone(),
                    )],
                )),
        );
    }
    if let Some(first) = clause_tokens.first()
        && starts[0] != 0
    {
        let end = clause_tokens[..starts[0]]
            .last()
            .map_or(first.span.end, |t| t.span.end);
        out.diagnostics.push(
            Diagnostic::warning(
                Span::new(first.span.start, end),
                "text before the first clause: a Received line is made of from/by/via/with/id/for clauses",
            )
            .reference("RFC 5321 §4.4"),
        );
    }
    match semicolon {
        Some(s) => {
            let date_start = tokens
                .get(s + 1)
                .map_or(tokens[s].span.end, |t| t.span.start);
            let date_span = Span::new(date_start, span.end.max(date_start));
            let text: String = String::from_utf8_lossy(date_span.slice(bytes))
                .replace(['\r', '\n'], "")
                .trim()
                .to_string();
            let parsed = date::parse(&text);
            let shown = match &parsed.date {
                Some(d) => format!("{text} = {}", d.utc_iso()),
                None => text.clone(),
            };
            out.received.date = parsed.date;
            for (severity, message, reference) in parsed.problems {
                out.diagnostics
                    .push(Diagnostic::new(severity, date_span, message).reference(reference));
            }
            children.push(Field::new("Separator", tokens[s].span, ";"));
            if !date_span.is_empty() {
                children.push(
                    Field::new("Date", date_span, shown)
                        .help("When this server received the message (RFC 5321 §4.4)."),
                );
            }
        }
        None => out.diagnostics.push(
            Diagnostic::new(
                Severity::Error,
                span,
                "a Received line ends with '; date-time', and this one has no date",
            )
            .reference("RFC 5321 §4.4"),
        ),
    }
    if out.received.by.is_none() {
        out.diagnostics.push(
            Diagnostic::warning(
                span,
                "a Received line should say which server received the message (a 'by' clause)",
            )
            .reference("RFC 5321 §4.4"),
        );
    }
    out.fields = cover(bytes, span, children);
    out
}

/// When the last server took the message: the date of its top `Received:`
/// field, in Unix seconds. IMAP's INTERNALDATE of a delivered message is
/// "the date and time of final delivery" (RFC 9051 §2.3.3), which is the
/// date the delivering server wrote there, from its caller's clock. `None`
/// when the head has no `Received:` or its date cannot be read. Reads the
/// head only, without building a dissection (this is the serving path).
pub fn delivery_date(message: &[u8]) -> Option<i64> {
    let head_end = message
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(message.len());
    let head = std::str::from_utf8(&message[..head_end]).ok()?;
    let mut lines = head.split("\r\n");
    let first = lines.find(|l| {
        l.get(..9)
            .is_some_and(|name| name.eq_ignore_ascii_case("received:"))
    })?;
    // The field goes on over its folded lines, which start with white space.
    let mut value = first[9..].to_string();
    for more in lines.take_while(|l| l.starts_with([' ', '\t'])) {
        value.push_str(more);
    }
    let (_, when) = value.rsplit_once(';')?;
    date::parse(when).date.map(|d| d.unix())
}

/// The `Received:` field this lab's server adds, folded, with its CRLF.
/// `helo` is what the client said in HELO/EHLO, `peer` the address it
/// connected from, `esmtp` whether it said EHLO.
pub fn format_received(
    helo: &str,
    peer: &str,
    by: &str,
    esmtp: bool,
    recipient: Option<&str>,
    at: &DateTime,
) -> String {
    let protocol = if esmtp { "ESMTP" } else { "SMTP" };
    let mut line = format!("Received: from {helo} ({peer})\r\n\tby {by} (wirelab) with {protocol}");
    if let Some(r) = recipient {
        line.push_str(&format!("\r\n\tfor <{r}>"));
    }
    line.push_str(&format!(";\r\n\t{}\r\n", at.to_rfc5322()));
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> ParsedReceived {
        parse_received(s.as_bytes(), Span::new(0, s.len()))
    }

    #[test]
    fn the_delivery_date_is_the_top_received_fields() {
        let message = b"Return-Path: <alice@crepes.fr>\r\nReceived: from crepes.fr ([127.0.0.1])\r\n\tby hamburger.edu (wirelab) with SMTP;\r\n\tTue, 14 Nov 2023 22:13:20 +0000\r\nReceived: from elsewhere; Mon, 13 Nov 2023 10:00:00 +0000\r\n\r\nbody; Wed, 15 Nov 2023 10:00:00 +0000\r\n";
        assert_eq!(delivery_date(message), Some(1_700_000_000));
        assert_eq!(
            delivery_date(
                b"Subject: no trace\r\n\r\nReceived: x; Tue, 14 Nov 2023 22:13:20 +0000\r\n"
            ),
            None
        );
        assert_eq!(delivery_date(b"Received: from a; not a date\r\n\r\n"), None);
        assert_eq!(delivery_date(b"\xff\xfe"), None);
    }

    #[test]
    fn the_textbook_received_lines() {
        let r = p(" from crepes.fr by hamburger.edu; 12 Oct 98 15:27:39 GMT");
        assert_eq!(r.received.from.as_deref(), Some("crepes.fr"));
        assert_eq!(r.received.by.as_deref(), Some("hamburger.edu"));
        assert_eq!(r.received.date.unwrap().year, 1998);
        let names: Vec<_> = r.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Whitespace",
                "From",
                "Whitespace",
                "By",
                "Separator",
                "Whitespace",
                "Date"
            ]
        );
        let r = p(" from hamburger.edu by sushi.jp; 3 Jul 01 15:30.01 GMT");
        assert!(r.diagnostics.iter().any(|d| d.message.contains("'.'")));
    }

    #[test]
    fn our_own_line_reads_back() {
        let at = DateTime::from_unix(1_700_000_000);
        let line = format_received(
            "crepes.fr",
            "[127.0.0.1]",
            "hamburger.edu",
            true,
            Some("bob@hamburger.edu"),
            &at,
        );
        let value = &line["Received:".len()..line.len() - 2];
        let r = p(value);
        assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
        assert_eq!(r.received.from.as_deref(), Some("crepes.fr"));
        assert_eq!(r.received.with.as_deref(), Some("ESMTP"));
        assert_eq!(
            r.received.for_recipient.as_deref(),
            Some("bob@hamburger.edu")
        );
        assert_eq!(r.received.date, Some(at));
    }

    #[test]
    fn a_missing_date_is_an_error() {
        let r = p(" from a by b");
        assert_eq!(r.diagnostics.len(), 1);
        assert_eq!(r.diagnostics[0].severity, Severity::Error);
    }
}
