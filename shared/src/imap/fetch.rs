//! The message side of the server engine, without state: which messages a
//! sequence set names (RFC 9051 §6.4.9, §9 `sequence-set`), the FETCH items
//! the server serves and their answers (§6.4.5, §7.5.2, the ENVELOPE from
//! the header), and the SEARCH keys it evaluates (§6.4.4).

use crate::imap::part::{PartSection, parse_part_section, part_bytes};
use crate::imap::store::{Flags, ImapMessage};
use crate::imap::syntax::{SeqNumber, Value, sequence_set};
use crate::mail::address::{Mailbox, parse_address_list};
use crate::mail::date::{DateTime, MONTHS};
use crate::mail::header::parse_section;
use std::borrow::Cow;

/// The indices (0-based, ascending, once each) of the messages `set`
/// names: message sequence numbers, or UIDs when `uid`. A sequence number
/// past the last message is an error (RFC 9051 §9: invalid); UIDs that no
/// message has are skipped (§6.4.9).
pub fn select_messages(
    set: &str,
    uid: bool,
    messages: &[ImapMessage],
) -> Result<Vec<usize>, String> {
    let ranges = sequence_set(set).ok_or_else(|| format!("{set:?} is not a sequence set"))?;
    if set == "$" {
        return Err("this server keeps no saved search result ($)".into());
    }
    let star = if uid {
        messages.last().map_or(0, |m| m.uid)
    } else {
        messages.len() as u32
    };
    let value = |n: SeqNumber| match n {
        SeqNumber::Number(n) => n,
        SeqNumber::Star => star,
    };
    // Each range becomes the run of indices it names (by binary search for
    // UIDs, which the messages are sorted by); the runs are merged, so the
    // work is the runs' count times its log plus the messages named, however
    // many ranges overlap.
    let mut runs = Vec::new();
    for range in ranges {
        let first = value(range.first);
        let last = range.last.map_or(first, value);
        let (lo, hi) = (first.min(last), first.max(last));
        if uid {
            let start = messages.partition_point(|m| m.uid < lo);
            let end = messages.partition_point(|m| m.uid <= hi);
            runs.push((start, end));
        } else {
            if lo == 0 || hi as usize > messages.len() {
                return Err(format!(
                    "{set} names messages past the last one ({}) (RFC 9051 §9)",
                    messages.len()
                ));
            }
            runs.push((lo as usize - 1, hi as usize));
        }
    }
    runs.sort_unstable();
    let mut picked = Vec::new();
    let mut next = 0;
    for (start, end) in runs {
        picked.extend(start.max(next)..end);
        next = next.max(end);
    }
    Ok(picked)
}

/// Which part of a message a body item asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Section {
    Whole,
    Header,
    Text,
    /// `HEADER.FIELDS (names)`, or with `not` `HEADER.FIELDS.NOT (names)`:
    /// the header's fields named (or not named), then the blank line.
    Fields {
        not: bool,
        names: Vec<String>,
    },
    /// A numbered part: `1.2`, `1.2.MIME`, `3.HEADER`, `3.TEXT`.
    Part(PartSection),
}

/// One FETCH item this server answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchItem {
    Envelope,
    Flags,
    Uid,
    Size,
    InternalDate,
    /// `BODY` (`extended` false) or `BODYSTRUCTURE`.
    Structure {
        extended: bool,
    },
    /// `BODY[...]`, `BODY.PEEK[...]`, `RFC822`, `RFC822.HEADER`,
    /// `RFC822.TEXT`: `name` is how the answer is labelled.
    Body {
        section: Section,
        peek: bool,
        partial: Option<(u32, u32)>,
        name: String,
    },
}

impl FetchItem {
    /// Whether fetching it sets `\Seen` (RFC 9051 §6.4.5: BODY[] but not
    /// BODY.PEEK[], nor RFC822.HEADER).
    pub fn sets_seen(&self) -> bool {
        matches!(self, FetchItem::Body { peek: false, .. })
    }
}

/// The items of a FETCH command, macros expanded; an error names the item
/// the server does not serve.
pub fn fetch_items(arg: &Value) -> Result<Vec<FetchItem>, String> {
    let words: Vec<&str> = match arg {
        Value::List(items) => items.iter().filter_map(Value::as_atom).collect(),
        other => other.as_atom().into_iter().collect(),
    };
    let mut items = Vec::new();
    for word in words {
        let upper = word.to_ascii_uppercase();
        match upper.as_str() {
            "FULL" => items.extend([
                FetchItem::Flags,
                FetchItem::InternalDate,
                FetchItem::Size,
                FetchItem::Envelope,
                FetchItem::Structure { extended: false },
            ]),
            "BODY" => items.push(FetchItem::Structure { extended: false }),
            "BODYSTRUCTURE" => items.push(FetchItem::Structure { extended: true }),
            "ALL" => items.extend([
                FetchItem::Flags,
                FetchItem::InternalDate,
                FetchItem::Size,
                FetchItem::Envelope,
            ]),
            "FAST" => items.extend([FetchItem::Flags, FetchItem::InternalDate, FetchItem::Size]),
            "ENVELOPE" => items.push(FetchItem::Envelope),
            "FLAGS" => items.push(FetchItem::Flags),
            "UID" => items.push(FetchItem::Uid),
            "RFC822.SIZE" => items.push(FetchItem::Size),
            "INTERNALDATE" => items.push(FetchItem::InternalDate),
            "RFC822" => items.push(rfc822(Section::Whole, false, "RFC822")),
            "RFC822.HEADER" => items.push(rfc822(Section::Header, true, "RFC822.HEADER")),
            "RFC822.TEXT" => items.push(rfc822(Section::Text, false, "RFC822.TEXT")),
            _ => items.push(body_item(&upper).ok_or_else(|| {
                format!("{word} is not served by this server yet (it serves FLAGS, UID, RFC822.SIZE, INTERNALDATE, ENVELOPE, BODY, BODYSTRUCTURE, BODY[], BODY[HEADER], BODY[HEADER.FIELDS (...)], BODY[HEADER.FIELDS.NOT (...)], BODY[TEXT], numbered parts (BODY[1.2], BODY[1.MIME], BODY[3.HEADER], BODY[3.TEXT]) and their PEEK forms)")
            })?),
        }
    }
    Ok(items)
}

fn rfc822(section: Section, peek: bool, name: &str) -> FetchItem {
    FetchItem::Body {
        section,
        peek,
        partial: None,
        name: name.into(),
    }
}

/// `BODY[section]<o.n>` / `BODY.PEEK[...]` with a section this server serves.
fn body_item(upper: &str) -> Option<FetchItem> {
    let (head, rest) = upper.split_once('[')?;
    let (section, partial) = rest.split_once(']')?;
    let peek = match head {
        "BODY" => false,
        "BODY.PEEK" => true,
        _ => return None,
    };
    let section_kind = match section {
        "" => Section::Whole,
        "HEADER" => Section::Header,
        "TEXT" => Section::Text,
        _ => parse_part_section(section)
            .map(Section::Part)
            .or_else(|| header_fields(section))?,
    };
    let partial = match partial {
        "" => None,
        p => {
            let (o, n) = p.strip_prefix('<')?.strip_suffix('>')?.split_once('.')?;
            Some((o.parse().ok()?, n.parse().ok()?))
        }
    };
    // The answer names the origin only (RFC 9051 §7.5.2: BODY[]<0>).
    let origin = partial.map_or(String::new(), |(o, _)| format!("<{o}>"));
    Some(FetchItem::Body {
        section: section_kind,
        peek,
        partial,
        name: format!("BODY[{section}]{origin}"),
    })
}

/// `HEADER.FIELDS (A B)` or `HEADER.FIELDS.NOT (A B)`, upper case.
fn header_fields(section: &str) -> Option<Section> {
    let (not, names) = match section.strip_prefix("HEADER.FIELDS.NOT ") {
        Some(names) => (true, names),
        None => (false, section.strip_prefix("HEADER.FIELDS ")?),
    };
    let names = names.strip_prefix('(')?.strip_suffix(')')?;
    let names: Vec<String> = names
        .split(' ')
        .filter(|n| !n.is_empty())
        .map(String::from)
        .collect();
    (!names.is_empty()).then_some(Section::Fields { not, names })
}

/// The part of `message` a section names: the header with its blank line,
/// what follows it, or some of the header's fields and the blank line.
pub fn section_bytes<'a>(message: &'a [u8], section: &Section) -> Cow<'a, [u8]> {
    let split = find(message, b"\r\n\r\n")
        .map(|at| at + 4)
        .or_else(|| find(message, b"\n\n").map(|at| at + 2))
        .unwrap_or(message.len());
    match section {
        Section::Whole => Cow::Borrowed(message),
        Section::Header => Cow::Borrowed(&message[..split]),
        Section::Text => Cow::Borrowed(&message[split..]),
        Section::Fields { not, names } => {
            let header = parse_section(message, 0, split);
            let mut out = Vec::new();
            for f in &header.fields {
                let named = names.iter().any(|n| f.is(message, n));
                if named != *not {
                    out.extend_from_slice(f.span.slice(message));
                }
            }
            out.extend_from_slice(b"\r\n");
            Cow::Owned(out)
        }
        Section::Part(part) => Cow::Owned(part_bytes(message, part)),
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The bytes `<origin.count>` keeps of `bytes`.
pub fn partial_bytes(bytes: &[u8], partial: Option<(u32, u32)>) -> &[u8] {
    match partial {
        None => bytes,
        Some((origin, count)) => {
            let start = (origin as usize).min(bytes.len());
            let end = start.saturating_add(count as usize).min(bytes.len());
            &bytes[start..end]
        }
    }
}

/// `(\Seen \Flagged)`.
pub fn flags_value(flags: Flags) -> Value {
    Value::List(
        flags
            .names()
            .into_iter()
            .map(|n| Value::Atom(n.into()))
            .collect(),
    )
}

/// INTERNALDATE's form, `"05-Dec-2026 23:32:59 +0000"` (RFC 9051 §9).
pub fn internal_date(unix: i64) -> Value {
    let t = DateTime::from_unix(unix);
    let text = format!(
        "{:02}-{}-{:04} {:02}:{:02}:{:02} +0000",
        t.day,
        MONTHS[usize::from(t.month.clamp(1, 12)) - 1],
        t.year,
        t.hour,
        t.minute,
        t.second
    );
    Value::Quoted(text.into_bytes())
}

/// Reads INTERNALDATE's form (APPEND's date-time, RFC 9051 §9): seconds
/// since 1970, or `None` if it is not one.
pub fn parse_internal_date(text: &str) -> Option<i64> {
    let (date, rest) = text.trim_start().split_once(' ')?;
    let (time, zone) = rest.split_once(' ')?;
    let mut d = date.splitn(3, '-');
    let day: u8 = d.next()?.parse().ok()?;
    let month = d.next()?;
    let month = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(month))? as u8 + 1;
    let year: i64 = d.next().filter(|y| y.len() == 4)?.parse().ok()?;
    let mut t = time.splitn(3, ':').map(|x| x.parse::<i64>().ok());
    let (h, m, sec) = (t.next()??, t.next()??, t.next()??);
    let sign = match zone.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let zone: i64 = zone.get(1..).filter(|z| z.len() == 4)?.parse().ok()?;
    let valid = (1..=31).contains(&day) && h < 24 && m < 60 && sec < 61;
    let offset = sign * (zone / 100 * 3600 + zone % 100 * 60);
    valid.then(|| {
        crate::mail::date::days_from_civil(year, month, day) * 86400 + h * 3600 + m * 60 + sec
            - offset
    })
}

/// The ENVELOPE of a message (RFC 9051 §7.5.2): date, subject, from,
/// sender, reply-to, to, cc, bcc, in-reply-to and message-id, from its
/// header, as sent (encoded words are not decoded; clients do that).
pub fn envelope(message: &[u8]) -> Value {
    let header = parse_section(message, 0, message.len());
    let text = |name: &str| {
        header
            .get(message, name)
            .map_or(nil(), |f| nstring(f.unfolded(message).into_bytes()))
    };
    let addresses = |name: &str| {
        let Some(field) = header.get(message, name) else {
            return nil();
        };
        let list = parse_address_list(message, field.value);
        if list.mailboxes.is_empty() {
            return nil();
        }
        Value::List(list.mailboxes.iter().map(address).collect())
    };
    let from = addresses("From");
    // RFC 9051 §7.5.2: absent Sender and Reply-To are the From.
    let or_from = |v: Value| if v == nil() { from.clone() } else { v };
    Value::List(vec![
        text("Date"),
        text("Subject"),
        from.clone(),
        or_from(addresses("Sender")),
        or_from(addresses("Reply-To")),
        addresses("To"),
        addresses("Cc"),
        addresses("Bcc"),
        text("In-Reply-To"),
        text("Message-ID"),
    ])
}

/// `(name NIL mailbox host)`.
fn address(m: &Mailbox) -> Value {
    let (local, domain) = m.address.rsplit_once('@').unwrap_or((&m.address, ""));
    let name = m
        .display_name
        .as_ref()
        .map_or(nil(), |n| nstring(n.clone().into_bytes()));
    let domain = if domain.is_empty() {
        nil()
    } else {
        nstring(domain.as_bytes().to_vec())
    };
    Value::List(vec![
        name,
        nil(),
        nstring(local.as_bytes().to_vec()),
        domain,
    ])
}

pub(super) fn nil() -> Value {
    Value::Atom("NIL".into())
}

/// A quoted string, or a literal when the text holds what a quoted string
/// cannot (control bytes, 8-bit bytes).
pub(super) fn nstring(bytes: Vec<u8>) -> Value {
    if bytes.iter().all(|&b| (0x20..0x7f).contains(&b)) {
        Value::Quoted(bytes)
    } else {
        Value::Literal {
            data: bytes,
            synchronizing: true,
        }
    }
}

/// The indices of the messages matching every key of a SEARCH (the keys
/// about flags, ALL, a sequence set and UID set); an error names a key
/// this server does not evaluate.
pub fn search(keys: &[Value], messages: &[ImapMessage]) -> Result<Vec<usize>, String> {
    let mut matching = vec![true; messages.len()];
    let mut words = keys.iter();
    while let Some(key) = words.next() {
        let word = key.as_atom().unwrap_or_default().to_ascii_uppercase();
        let keep: Vec<bool> = match word.as_str() {
            "CHARSET" => {
                // US-ASCII and UTF-8 mean the same to keys without strings.
                words.next();
                continue;
            }
            "UID" => {
                let set = words.next().and_then(Value::as_atom).unwrap_or_default();
                in_set(select_messages(set, true, messages)?, messages.len())
            }
            _ if sequence_set(&word).is_some() => {
                in_set(select_messages(&word, false, messages)?, messages.len())
            }
            _ => {
                let test = flag_key(&word).ok_or_else(|| {
                    format!("the search key {word} is not evaluated by this server yet")
                })?;
                messages.iter().map(|m| test(m.flags)).collect()
            }
        };
        for (m, k) in matching.iter_mut().zip(keep) {
            *m &= k;
        }
    }
    Ok((0..messages.len()).filter(|&i| matching[i]).collect())
}

fn in_set(indices: Vec<usize>, len: usize) -> Vec<bool> {
    let mut keep = vec![false; len];
    for i in indices {
        keep[i] = true;
    }
    keep
}

/// The test of a search key about flags (`ALL` included).
fn flag_key(word: &str) -> Option<fn(Flags) -> bool> {
    Some(match word {
        "ALL" => |_| true,
        "SEEN" => |f| f.contains(Flags::SEEN),
        "UNSEEN" => |f| !f.contains(Flags::SEEN),
        "DELETED" => |f| f.contains(Flags::DELETED),
        "UNDELETED" => |f| !f.contains(Flags::DELETED),
        "FLAGGED" => |f| f.contains(Flags::FLAGGED),
        "UNFLAGGED" => |f| !f.contains(Flags::FLAGGED),
        "ANSWERED" => |f| f.contains(Flags::ANSWERED),
        "UNANSWERED" => |f| !f.contains(Flags::ANSWERED),
        "DRAFT" => |f| f.contains(Flags::DRAFT),
        "UNDRAFT" => |f| !f.contains(Flags::DRAFT),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(uids: &[u32]) -> Vec<ImapMessage> {
        uids.iter()
            .map(|&uid| ImapMessage {
                key: format!("k{uid}"),
                uid,
                size: 10,
                flags: if uid % 2 == 0 {
                    Flags::SEEN
                } else {
                    Flags::default()
                },
                internal_date: 0,
            })
            .collect()
    }

    #[test]
    fn sequence_sets_by_number_and_by_uid() {
        let m = messages(&[3, 7, 9]);
        assert_eq!(select_messages("1:*", false, &m).unwrap(), [0, 1, 2]);
        assert_eq!(select_messages("*:2,1", false, &m).unwrap(), [0, 1, 2]);
        assert!(select_messages("4", false, &m).is_err());
        assert_eq!(select_messages("7:*", true, &m).unwrap(), [1, 2]);
        assert_eq!(
            select_messages("20:*", true, &m).unwrap(),
            [2],
            "n:* holds the last"
        );
        assert_eq!(
            select_messages("4:6", true, &m).unwrap(),
            Vec::<usize>::new()
        );
        assert_eq!(select_messages("9,3:7,1:8", true, &m).unwrap(), [0, 1, 2]);
        let big = messages(&(1..=50_000).collect::<Vec<u32>>());
        // 2,000 overlapping ranges over 50,000 messages: merged, each
        // message named once, in order.
        let set = vec!["1:*"; 2000].join(",");
        assert_eq!(select_messages(&set, true, &big).unwrap().len(), 50_000);
        let picked = select_messages(&set, false, &big).unwrap();
        assert!(picked.windows(2).all(|w| w[0] + 1 == w[1]));
    }

    #[test]
    fn items_sections_and_dates() {
        let items = fetch_items(&Value::Atom("body.peek[header]<0.5>".into())).unwrap();
        assert_eq!(
            items,
            [FetchItem::Body {
                section: Section::Header,
                peek: true,
                partial: Some((0, 5)),
                name: "BODY[HEADER]<0>".into()
            }]
        );
        assert!(!items[0].sets_seen());
        assert!(fetch_items(&Value::Atom("BINARY[1]".into())).is_err());
        let Ok(part) = fetch_items(&Value::Atom("BODY.PEEK[1.MIME]".into())) else {
            panic!("numbered parts are served");
        };
        assert!(
            matches!(&part[0], FetchItem::Body { section: Section::Part(_), name, .. } if name == "BODY[1.MIME]")
        );
        assert_eq!(fetch_items(&Value::Atom("ALL".into())).unwrap().len(), 4);
        let full = fetch_items(&Value::Atom("FULL".into())).unwrap();
        assert_eq!(full[4], FetchItem::Structure { extended: false });
        let message = b"Date: Thu, 4 Sep 2003 10:21:22 -0500\r\nFrom: Alice <alice@crepes.fr>\r\n\
                        To: bob@hamburger.edu, \"B. \\\"Q\\\"\" <b@x.org>\r\nSubject: hi\r\n \xc3\xa9t\xc3\xa9\r\n\r\nx\r\n";
        let mut wire = Vec::new();
        envelope(message).write(&mut wire);
        assert_eq!(
            String::from_utf8_lossy(&wire),
            "(\"Thu, 4 Sep 2003 10:21:22 -0500\" {8}\r\nhi \u{e9}t\u{e9} \
             ((\"Alice\" NIL \"alice\" \"crepes.fr\")) ((\"Alice\" NIL \"alice\" \"crepes.fr\")) \
             ((\"Alice\" NIL \"alice\" \"crepes.fr\")) \
             ((NIL NIL \"bob\" \"hamburger.edu\") (\"B. \\\"Q\\\"\" NIL \"b\" \"x.org\")) NIL NIL NIL NIL)"
        );
        let msg = b"Subject: x\r\n\r\nhello\r\n";
        assert_eq!(
            &*section_bytes(msg, &Section::Header),
            b"Subject: x\r\n\r\n"
        );
        assert_eq!(&*section_bytes(msg, &Section::Text), b"hello\r\n");
        let two = b"From: a\r\nSubject: x\r\n y\r\nTo: b\r\n\r\nhello\r\n";
        let Ok(items) = fetch_items(&Value::Atom("BODY.PEEK[HEADER.FIELDS (subject TO)]".into()))
        else {
            panic!("HEADER.FIELDS is served");
        };
        let FetchItem::Body { section, name, .. } = &items[0] else {
            panic!()
        };
        assert_eq!(name, "BODY[HEADER.FIELDS (SUBJECT TO)]");
        assert_eq!(
            &*section_bytes(two, section),
            b"Subject: x\r\n y\r\nTo: b\r\n\r\n"
        );
        let not = header_fields("HEADER.FIELDS.NOT (SUBJECT)").unwrap();
        assert_eq!(&*section_bytes(two, &not), b"From: a\r\nTo: b\r\n\r\n");
        assert_eq!(partial_bytes(b"hello", Some((3, 10))), b"lo");
        assert_eq!(
            internal_date(1_796_514_779),
            Value::Quoted(b"05-Dec-2026 23:52:59 +0000".to_vec())
        );
    }

    #[test]
    fn search_keys() {
        let m = messages(&[1, 2, 3, 4]);
        let atoms =
            |s: &str| -> Vec<Value> { s.split(' ').map(|w| Value::Atom(w.into())).collect() };
        assert_eq!(search(&atoms("ALL"), &m).unwrap(), [0, 1, 2, 3]);
        assert_eq!(search(&atoms("UNSEEN"), &m).unwrap(), [0, 2]);
        assert_eq!(search(&atoms("SEEN 2:4"), &m).unwrap(), [1, 3]);
        assert_eq!(search(&atoms("UID 3:* UNSEEN"), &m).unwrap(), [2]);
        assert!(search(&atoms("FROM"), &m).is_err());
    }
}
