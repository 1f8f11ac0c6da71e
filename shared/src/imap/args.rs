//! The argument grammar of each IMAP command (RFC 9051 §9): which items a
//! command takes, in which order, so that a command either parses or says
//! which argument is wrong and why.
//!
//! The reader ([`super::syntax`]) has already cut the line into items; this
//! only checks their shapes: `astring`, `sequence-set`, flag lists, fetch
//! items and search keys.

use crate::dissect::Span;
use crate::imap::command::Verb;
use crate::imap::syntax::{ErrorKind, Node, SyntaxError, Value, number, sequence_set};

/// The items that may be fetched (RFC 9051 §6.4.5), without a section.
const FETCH_ITEMS: &[&str] = &[
    "ALL",
    "FAST",
    "FULL",
    "ENVELOPE",
    "FLAGS",
    "INTERNALDATE",
    "RFC822.SIZE",
    "RFC822",
    "RFC822.HEADER",
    "RFC822.TEXT",
    "BODY",
    "BODYSTRUCTURE",
    "UID",
    "BINARY.SIZE",
];

/// Fetch items that take a `[section]` and an optional `<partial>`.
const SECTIONED: &[&str] = &["BODY", "BODY.PEEK", "BINARY", "BINARY.PEEK", "BINARY.SIZE"];

/// Search keys without an argument (RFC 9051 §6.4.4; RECENT, NEW and OLD
/// from RFC 3501).
const SEARCH_FLAGS: &[&str] = &[
    "ALL",
    "ANSWERED",
    "DELETED",
    "DRAFT",
    "FLAGGED",
    "SEEN",
    "UNANSWERED",
    "UNDELETED",
    "UNDRAFT",
    "UNFLAGGED",
    "UNSEEN",
    "NEW",
    "OLD",
    "RECENT",
];

/// Search keys followed by a string.
const SEARCH_STRINGS: &[&str] = &[
    "BCC",
    "BODY",
    "CC",
    "FROM",
    "SUBJECT",
    "TEXT",
    "TO",
    "KEYWORD",
    "UNKEYWORD",
];

/// Search keys followed by a date (`1-Feb-1994`).
const SEARCH_DATES: &[&str] = &["BEFORE", "ON", "SINCE", "SENTBEFORE", "SENTON", "SENTSINCE"];

/// The status items (RFC 9051 §6.3.11; RECENT from RFC 3501).
const STATUS_ITEMS: &[&str] = &[
    "MESSAGES",
    "UIDNEXT",
    "UIDVALIDITY",
    "UNSEEN",
    "DELETED",
    "SIZE",
    "RECENT",
    "HIGHESTMODSEQ",
];

/// The arguments still to check, with their spans.
struct Args<'a> {
    values: &'a [Value],
    nodes: &'a [Node],
    at: usize,
    /// Where a missing argument would have been.
    end: Span,
    reference: &'static str,
}

impl<'a> Args<'a> {
    fn next(&mut self, what: &str) -> Result<(&'a Value, Span), SyntaxError> {
        let value = self.values.get(self.at).ok_or_else(|| {
            SyntaxError::new(ErrorKind::Syntax, self.end, format!("{what} is missing"))
                .cite(self.reference)
        })?;
        let span = self.nodes.get(self.at).map_or(self.end, |n| n.span);
        self.at += 1;
        Ok((value, span))
    }

    fn peek(&self) -> Option<&'a Value> {
        self.values.get(self.at)
    }

    fn done(&self) -> bool {
        self.at >= self.values.len()
    }

    fn fail(&self, span: Span, message: impl Into<String>) -> SyntaxError {
        SyntaxError::new(ErrorKind::Syntax, span, message).cite(self.reference)
    }

    fn astring(&mut self, what: &str) -> Result<(), SyntaxError> {
        let (value, span) = self.next(what)?;
        if value.is_string_like() {
            Ok(())
        } else {
            Err(self.fail(span, format!("{what} is a string, not a list")))
        }
    }

    fn sequence_set(&mut self) -> Result<(), SyntaxError> {
        let (value, span) = self.next("the sequence set")?;
        match value.as_atom().and_then(sequence_set) {
            Some(_) => Ok(()),
            None => Err(self
                .fail(
                    span,
                    "a sequence set is numbers from 1 and ranges: 1, 2:4, 5:*, 1,3:5",
                )
                .cite("RFC 9051 §9")),
        }
    }

    fn list(&mut self, what: &str) -> Result<&'a [Value], SyntaxError> {
        let (value, span) = self.next(what)?;
        match value {
            Value::List(items) => Ok(items),
            _ => Err(self.fail(span, format!("{what} is a parenthesised list"))),
        }
    }

    fn finish(&self) -> Result<(), SyntaxError> {
        match self.nodes.get(self.at) {
            None => Ok(()),
            Some(node) => Err(self.fail(
                Span::new(
                    node.span.start,
                    self.nodes.last().map_or(node.span.end, |n| n.span.end),
                ),
                "more arguments than the command takes",
            )),
        }
    }
}

/// Checks the arguments of `verb` against its grammar.
pub fn check_command(
    verb: Verb,
    uid: bool,
    values: &[Value],
    nodes: &[Node],
    verb_span: Span,
) -> Result<(), SyntaxError> {
    let end = nodes.last().map_or(verb_span, |n| n.span);
    let mut a = Args {
        values,
        nodes,
        at: 0,
        end: Span::point(end.end),
        reference: verb.section(),
    };
    match verb {
        Verb::Capability
        | Verb::Noop
        | Verb::Logout
        | Verb::Starttls
        | Verb::Namespace
        | Verb::Idle
        | Verb::Close
        | Verb::Unselect
        | Verb::Check => {}
        Verb::Expunge if uid => a.sequence_set()?,
        Verb::Expunge => {}
        Verb::Login => {
            a.astring("the user name")?;
            a.astring("the password")?;
        }
        Verb::Authenticate => authenticate(&mut a)?,
        Verb::Enable => {
            atom(&mut a, "a capability to enable")?;
            while !a.done() {
                atom(&mut a, "a capability")?;
            }
        }
        Verb::Id => id(&mut a)?,
        Verb::Select | Verb::Examine | Verb::Create => {
            a.astring("the mailbox name")?;
            if !a.done() {
                a.list("the parameters")?;
            }
        }
        Verb::Delete | Verb::Subscribe | Verb::Unsubscribe => a.astring("the mailbox name")?,
        Verb::Rename => {
            a.astring("the mailbox name")?;
            a.astring("the new name")?;
        }
        Verb::List => list(&mut a)?,
        Verb::Lsub => {
            a.astring("the reference")?;
            a.astring("the mailbox pattern")?;
        }
        Verb::Status => status(&mut a)?,
        Verb::Append => append(&mut a)?,
        Verb::Search => search(&mut a)?,
        Verb::Fetch => fetch(&mut a)?,
        Verb::Store => store(&mut a)?,
        Verb::Copy | Verb::Move => {
            a.sequence_set()?;
            a.astring("the destination mailbox")?;
        }
    }
    a.finish()
}

fn atom(a: &mut Args, what: &str) -> Result<String, SyntaxError> {
    let (value, span) = a.next(what)?;
    value
        .as_atom()
        .map(str::to_string)
        .ok_or_else(|| a.fail(span, format!("{what} is an atom")))
}

fn authenticate(a: &mut Args) -> Result<(), SyntaxError> {
    atom(a, "the SASL mechanism")?;
    if !a.done() {
        let (value, span) = a.next("the initial response")?;
        let base64 = value.as_atom().is_some_and(|t| {
            t == "="
                || t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b))
        });
        if !base64 {
            return Err(a
                .fail(
                    span,
                    "the initial response is base64, or = when it is empty",
                )
                .cite("RFC 9051 §6.2.2"));
        }
    }
    Ok(())
}

fn id(a: &mut Args) -> Result<(), SyntaxError> {
    let (value, span) = a.next("the identification (a list, or NIL)")?;
    match value {
        Value::Atom(t) if t.eq_ignore_ascii_case("NIL") => Ok(()),
        Value::List(items)
            if items.len().is_multiple_of(2)
                && items.iter().all(|v| {
                    matches!(v, Value::Quoted(_) | Value::Literal { .. }) || is_nil(v)
                }) =>
        {
            Ok(())
        }
        _ => Err(a.fail(
            span,
            "ID takes NIL or a list of field and value strings: (\"name\" \"sodr\")",
        )),
    }
}

fn is_nil(value: &Value) -> bool {
    value
        .as_atom()
        .is_some_and(|t| t.eq_ignore_ascii_case("NIL"))
}

/// `LIST [(options)] reference pattern-or-patterns [RETURN (options)]`.
fn list(a: &mut Args) -> Result<(), SyntaxError> {
    if matches!(a.peek(), Some(Value::List(_))) {
        a.list("the selection options")?;
    }
    a.astring("the reference")?;
    let (pattern, span) = a.next("the mailbox pattern")?;
    if let Value::List(items) = pattern
        && (items.is_empty() || !items.iter().all(Value::is_string_like))
    {
        return Err(a.fail(span, "the patterns are a list of strings"));
    }
    if !a.done() {
        let keyword = atom(a, "RETURN")?;
        if !keyword.eq_ignore_ascii_case("RETURN") {
            return Err(a.fail(a.end, "only RETURN (options) may follow the pattern"));
        }
        a.list("the return options")?;
    }
    Ok(())
}

fn status(a: &mut Args) -> Result<(), SyntaxError> {
    a.astring("the mailbox name")?;
    let span = a.nodes.get(a.at).map_or(a.end, |n| n.span);
    let items = a.list("the status items")?;
    let known = |v: &Value| {
        v.as_atom()
            .is_some_and(|t| STATUS_ITEMS.iter().any(|k| k.eq_ignore_ascii_case(t)))
    };
    if items.is_empty() || !items.iter().all(known) {
        return Err(a.fail(
            span,
            "the status items are a non-empty list of MESSAGES, UIDNEXT, UIDVALIDITY, UNSEEN, \
             DELETED, SIZE",
        ));
    }
    Ok(())
}

/// `APPEND mailbox [(flags)] ["date-time"] literal`.
fn append(a: &mut Args) -> Result<(), SyntaxError> {
    a.astring("the mailbox name")?;
    if matches!(a.peek(), Some(Value::List(_))) {
        let span = a.nodes.get(a.at).map_or(a.end, |n| n.span);
        let flags = a.list("the flags")?;
        if !flags.iter().all(is_flag) {
            return Err(a.fail(span, "flags are atoms such as \\Seen or $Junk"));
        }
    }
    if matches!(a.peek(), Some(Value::Quoted(_))) {
        a.next("the date")?;
    }
    let (message, span) = a.next("the message, as a literal")?;
    if !matches!(message, Value::Literal { .. }) {
        return Err(a.fail(
            span,
            "the message is sent as a literal: {size} CR LF then the bytes",
        ));
    }
    Ok(())
}

fn is_flag(value: &Value) -> bool {
    value.as_atom().is_some_and(|t| {
        let name = t.strip_prefix('\\').unwrap_or(t);
        !name.is_empty() && !name.contains(['[', ']', '\\']) || t == "\\*"
    })
}

/// `FETCH set (ALL | FAST | FULL | item | (item ...))`.
fn fetch(a: &mut Args) -> Result<(), SyntaxError> {
    a.sequence_set()?;
    let (items, span) = a.next("the items to fetch")?;
    let ok = match items {
        Value::Atom(item) => fetch_item(item),
        Value::List(list) => {
            !list.is_empty()
                && list.iter().all(|v| {
                    v.as_atom().is_some_and(|t| {
                        fetch_item(t)
                            && !["ALL", "FAST", "FULL"]
                                .iter()
                                .any(|m| t.eq_ignore_ascii_case(m))
                    })
                })
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(a.fail(
            span,
            "fetch items are FLAGS, UID, ENVELOPE, RFC822.SIZE, INTERNALDATE, BODYSTRUCTURE, \
             BODY[section]<partial>, BODY.PEEK[...] or a list of them",
        ))
    }
}

/// Whether `item` is a fetch item, with a well-formed section if it has one.
pub fn fetch_item(item: &str) -> bool {
    let Some(open) = item.find('[') else {
        return FETCH_ITEMS.iter().any(|k| k.eq_ignore_ascii_case(item));
    };
    let name = &item[..open];
    let Some(close) = item.rfind(']') else {
        return false;
    };
    SECTIONED.iter().any(|k| k.eq_ignore_ascii_case(name))
        && section(&item[open + 1..close])
        && partial(&item[close + 1..])
}

/// A section: empty, part numbers, HEADER, HEADER.FIELDS[.NOT] (names),
/// TEXT, MIME (RFC 9051 §6.4.5).
fn section(text: &str) -> bool {
    let mut rest = text;
    while let Some(first) = rest.split('.').next()
        && number(first).is_some_and(|n| n > 0)
    {
        rest = rest[first.len()..].strip_prefix('.').unwrap_or("");
        if rest.is_empty() {
            return true;
        }
    }
    let upper = rest.to_ascii_uppercase();
    if let Some(names) = upper
        .strip_prefix("HEADER.FIELDS.NOT ")
        .or_else(|| upper.strip_prefix("HEADER.FIELDS "))
    {
        return names
            .strip_prefix('(')
            .and_then(|n| n.strip_suffix(')'))
            .is_some_and(|n| !n.is_empty() && n.split(' ').all(|h| !h.is_empty()));
    }
    matches!(upper.as_str(), "" | "HEADER" | "TEXT" | "MIME")
}

/// `<offset.length>`, or nothing.
fn partial(text: &str) -> bool {
    if text.is_empty() {
        return true;
    }
    text.strip_prefix('<')
        .and_then(|t| t.strip_suffix('>'))
        .and_then(|t| t.split_once('.'))
        .is_some_and(|(o, l)| number(o).is_some() && number(l).is_some_and(|n| n > 0))
}

/// `STORE set [+|-]FLAGS[.SILENT] (flags) | flag ...`.
fn store(a: &mut Args) -> Result<(), SyntaxError> {
    a.sequence_set()?;
    let (action, span) = a.next("FLAGS, +FLAGS or -FLAGS")?;
    let name = action
        .as_atom()
        .map(|t| t.to_ascii_uppercase())
        .unwrap_or_default();
    let base = name.trim_start_matches(['+', '-']);
    if name.len() - base.len() > 1 || !matches!(base, "FLAGS" | "FLAGS.SILENT") {
        return Err(a.fail(
            span,
            "the action is FLAGS, +FLAGS or -FLAGS, optionally .SILENT",
        ));
    }
    let (flags, span) = a.next("the flags")?;
    let ok = match flags {
        Value::List(items) => items.iter().all(is_flag),
        other => {
            let mut ok = is_flag(other);
            while let Some(v) = a.peek() {
                ok &= is_flag(v);
                a.at += 1;
            }
            ok
        }
    };
    if ok {
        Ok(())
    } else {
        Err(a.fail(span, "flags are atoms such as \\Seen, \\Deleted or $Junk"))
    }
}

/// `SEARCH [RETURN (...)] [CHARSET name] key ...`.
fn search(a: &mut Args) -> Result<(), SyntaxError> {
    if a.peek()
        .and_then(Value::as_atom)
        .is_some_and(|t| t.eq_ignore_ascii_case("RETURN"))
    {
        a.next("RETURN")?;
        a.list("the return options")?;
    }
    if a.peek()
        .and_then(Value::as_atom)
        .is_some_and(|t| t.eq_ignore_ascii_case("CHARSET"))
    {
        a.next("CHARSET")?;
        a.astring("the charset")?;
    }
    search_key(a, 0)?;
    while !a.done() {
        search_key(a, 0)?;
    }
    Ok(())
}

fn search_key(a: &mut Args, depth: usize) -> Result<(), SyntaxError> {
    let (key, span) = a.next("a search key")?;
    let bad = |a: &Args, what: &str| a.fail(span, what).cite("RFC 9051 §6.4.4");
    if depth > crate::imap::syntax::MAX_DEPTH {
        return Err(bad(a, "search keys nest too deep"));
    }
    match key {
        Value::List(items) => {
            let nodes: Vec<Node> = Vec::new();
            let mut inner = Args {
                values: items,
                nodes: &nodes,
                at: 0,
                end: span,
                reference: a.reference,
            };
            search_key(&mut inner, depth + 1)?;
            while !inner.done() {
                search_key(&mut inner, depth + 1)?;
            }
            Ok(())
        }
        Value::Atom(word) => {
            let upper = word.to_ascii_uppercase();
            let is = |set: &[&str]| set.contains(&upper.as_str());
            if is(SEARCH_FLAGS) {
                Ok(())
            } else if is(SEARCH_STRINGS) {
                a.astring(&format!("the string after {upper}"))
            } else if is(SEARCH_DATES) {
                let (date, span) = a.next(&format!("the date after {upper}"))?;
                let text = date
                    .string_bytes()
                    .map(String::from_utf8_lossy)
                    .unwrap_or_default();
                if date_text(&text) {
                    Ok(())
                } else {
                    Err(a.fail(span, "a search date is day-Mon-year: 1-Feb-1994"))
                }
            } else if upper == "HEADER" {
                a.astring("the header field name")?;
                a.astring("the string to look for")
            } else if upper == "LARGER" || upper == "SMALLER" {
                let (n, span) = a.next("the size")?;
                match n.as_atom().and_then(number) {
                    Some(_) => Ok(()),
                    None => Err(a.fail(span, "a size is a number of octets")),
                }
            } else if upper == "UID" {
                a.sequence_set()
            } else if upper == "NOT" {
                search_key(a, depth + 1)
            } else if upper == "OR" {
                search_key(a, depth + 1)?;
                search_key(a, depth + 1)
            } else if sequence_set(word).is_some() {
                Ok(())
            } else {
                Err(bad(a, &format!("{word:?} is not a search key")))
            }
        }
        _ => Err(bad(a, "a search key is a word such as FROM, SEEN or 1:5")),
    }
}

/// `date-text`: `1-Feb-1994` or `01-Feb-1994` (RFC 9051 §9).
fn date_text(text: &str) -> bool {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let mut parts = text.split('-');
    let (Some(d), Some(m), Some(y), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    (1..=2).contains(&d.len())
        && d.bytes().all(|b| b.is_ascii_digit())
        && MONTHS.iter().any(|x| x.eq_ignore_ascii_case(m))
        && y.len() == 4
        && y.bytes().all(|b| b.is_ascii_digit())
}
