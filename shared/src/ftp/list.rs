//! What LIST sends on the data connection. RFC 959 §4.1.3 leaves the format
//! to the server ("for people"); nearly every server writes Unix `ls -l`
//! lines, which is what the reference server writes ([`format_listing`]) and
//! what [`parse_line`] reads, column by column with byte spans:
//!
//! ```text
//! -rw-r--r--    1 ftp      ftp           256 Jan 05 12:34 bytes.bin
//! type+perms links owner   group        size date         name
//! ```
//!
//! Also here: NLST's name list, and Unix time as calendar dates (for the
//! listing and for MDTM's `YYYYMMDDHHMMSS`), computed without a clock.

use crate::dissect::Span;
use crate::framing::{LineEnding, split_lines};
use crate::ftp::fs::{DirEntry, FileKind};

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A moment in UTC, split into calendar fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

/// Unix seconds to a UTC calendar date.
pub fn civil(unix: u64) -> Civil {
    let days = (unix / 86_400) as i64;
    let secs = unix % 86_400;
    let (year, month, day) = crate::calendar::civil_from_days(days);
    Civil {
        year,
        month,
        day,
        hour: (secs / 3600) as u32,
        minute: (secs / 60 % 60) as u32,
        second: (secs % 60) as u32,
    }
}

/// MDTM's time value (RFC 3659 §2.3): `YYYYMMDDHHMMSS`, UTC.
pub fn mdtm_value(unix: u64) -> String {
    let c = civil(unix);
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

/// The date column of `ls -l`: `Jan 05 12:34` for a file changed in the
/// last six months of `now`, `Jan 05  2023` otherwise or when `now` is unknown.
pub fn ls_date(modified: u64, now: Option<u64>) -> String {
    const HALF_YEAR: u64 = 182 * 86_400;
    let c = civil(modified);
    let month = MONTHS[(c.month as usize).saturating_sub(1).min(11)];
    match now {
        Some(now) if modified <= now + 3600 && now - modified.min(now) < HALF_YEAR => {
            format!("{month} {:02} {:02}:{:02}", c.day, c.hour, c.minute)
        }
        _ => format!("{month} {:02}  {}", c.day, c.year),
    }
}

/// One `ls -l` line for an entry (no line ending).
pub fn format_entry(entry: &DirEntry, now: Option<u64>) -> String {
    let (mode, links) = match entry.meta.kind {
        FileKind::Directory => ("drwxr-xr-x", 2),
        FileKind::File => ("-rw-r--r--", 1),
    };
    format!(
        "{mode} {links:>4} {:<8} {:<8} {:>8} {} {}",
        "ftp",
        "ftp",
        entry.meta.size,
        ls_date(entry.meta.modified, now),
        entry.name
    )
}

/// LIST output: one line per entry, each ended by CR LF (a listing travels
/// in ASCII type, RFC 959 §4.1.3).
pub fn format_listing(entries: &[DirEntry], now: Option<u64>) -> Vec<u8> {
    let mut out = String::new();
    for e in entries {
        out.push_str(&format_entry(e, now));
        out.push_str("\r\n");
    }
    out.into_bytes()
}

/// NLST output: names only, each ended by CR LF.
pub fn format_name_list(entries: &[DirEntry]) -> Vec<u8> {
    let mut out = String::new();
    for e in entries {
        out.push_str(&e.name);
        out.push_str("\r\n");
    }
    out.into_bytes()
}

/// A column of a parsed line: its span (the separating spaces before it
/// included, so the columns cover the line) and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub span: Span,
    pub text: String,
}

/// One parsed `ls -l` line. Spans are relative to the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListEntry {
    /// `-` file, `d` directory, `l` symbolic link, ...
    pub type_char: char,
    /// The first ten characters: type and permissions.
    pub mode: Column,
    pub links: Column,
    pub owner: Option<Column>,
    pub group: Option<Column>,
    pub size: Column,
    pub date: Column,
    pub name: Column,
    /// For a symbolic link, what it points to (`name -> target`).
    pub target: Option<Column>,
}

impl ListEntry {
    pub fn size_bytes(&self) -> Option<u64> {
        self.size.text.parse().ok()
    }

    pub fn is_dir(&self) -> bool {
        self.type_char == 'd'
    }
}

/// What one line of a listing is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListLine {
    /// `total 12`: the blocks the directory uses, as ls prints it first.
    Total {
        blocks: Column,
    },
    Entry(Box<ListEntry>),
    /// Not a Unix listing line.
    Unparsed,
}

/// What a file type character means.
pub fn type_name(c: char) -> &'static str {
    match c {
        '-' => "regular file",
        'd' => "directory",
        'l' => "symbolic link",
        'b' => "block device",
        'c' => "character device",
        'p' => "named pipe",
        's' => "socket",
        _ => "unknown type",
    }
}

/// `rwxr-xr-x` as an octal mode, `755`, when every character is plain.
pub fn octal_mode(perms: &str) -> Option<String> {
    let bytes = perms.as_bytes();
    if bytes.len() != 9 {
        return None;
    }
    let mut digits = String::new();
    for triple in bytes.chunks(3) {
        let mut v = 0;
        for (i, (&c, want)) in triple.iter().zip([b'r', b'w', b'x']).enumerate() {
            if c == want {
                v |= 4 >> i;
            } else if c != b'-' {
                return None;
            }
        }
        digits.push(char::from(b'0' + v));
    }
    Some(digits)
}

fn tokens(line: &[u8]) -> Vec<Span> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, &b) in line.iter().enumerate() {
        match (b == b' ' || b == b'\t', start) {
            (true, Some(s)) => {
                out.push(Span::new(s, i));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(Span::new(s, line.len()));
    }
    out
}

fn is_mode(token: &[u8]) -> bool {
    token.len() >= 10
        && token.len() <= 11
        && b"-dlbcps".contains(&token[0])
        && token[1..10].iter().all(|b| b"rwxsStTl-".contains(b))
        && token.get(10).is_none_or(|b| b"+.@".contains(b))
}

fn is_digits(t: &[u8]) -> bool {
    !t.is_empty() && t.len() <= 20 && t.iter().all(u8::is_ascii_digit)
}

fn is_month(t: &[u8]) -> bool {
    MONTHS.iter().any(|m| m.as_bytes().eq_ignore_ascii_case(t))
}

fn is_time_or_year(t: &[u8]) -> bool {
    match t.iter().position(|&b| b == b':') {
        Some(colon) => {
            (1..=2).contains(&colon)
                && t.len() == colon + 3
                && t.iter()
                    .enumerate()
                    .all(|(i, b)| i == colon || b.is_ascii_digit())
        }
        None => t.len() == 4 && is_digits(t),
    }
}

/// Parses one line (without its ending) of a Unix listing.
pub fn parse_line(line: &[u8]) -> ListLine {
    let toks = tokens(line);
    let text = |s: Span| String::from_utf8_lossy(s.slice(line)).into_owned();
    let col = |from: usize, s: Span| Column {
        span: Span::new(from, s.end),
        text: text(s),
    };
    if toks.len() == 2 && toks[0].slice(line) == b"total" && is_digits(toks[1].slice(line)) {
        return ListLine::Total {
            blocks: col(toks[0].end, toks[1]),
        };
    }
    if toks.len() < 7 || !is_mode(toks[0].slice(line)) || !is_digits(toks[1].slice(line)) {
        return ListLine::Unparsed;
    }
    // The date is the first "Mon DD HH:MM|YYYY" after the size.
    let Some(m) = (3..toks.len().saturating_sub(2)).find(|&m| {
        is_month(toks[m].slice(line))
            && is_digits(toks[m + 1].slice(line))
            && toks[m + 1].len() <= 2
            && is_time_or_year(toks[m + 2].slice(line))
            && is_digits(toks[m - 1].slice(line))
    }) else {
        return ListLine::Unparsed;
    };
    let date_end = toks[m + 2].end;
    if date_end + 1 >= line.len() {
        return ListLine::Unparsed;
    }
    let size_index = m - 1;
    let owner = (size_index > 2).then(|| col(toks[1].end, toks[2]));
    let group = (size_index > 3).then(|| {
        col(
            toks[2].end,
            Span::new(toks[3].start, toks[size_index - 1].end),
        )
    });
    let name_span = Span::new(date_end + 1, line.len());
    let type_char = char::from(line[0]);
    // Found in the bytes: an offset into the lossily decoded text would be
    // off after any byte that is not UTF-8.
    let arrow = name_span.slice(line).windows(4).position(|w| w == b" -> ");
    let (name, target) = match (type_char, arrow) {
        ('l', Some(arrow)) => {
            let name_end = name_span.start + arrow;
            (
                Column {
                    span: Span::new(date_end, name_end),
                    text: text(Span::new(name_span.start, name_end)),
                },
                Some(Column {
                    span: Span::new(name_end, line.len()),
                    text: text(Span::new(name_end + 4, line.len())),
                }),
            )
        }
        _ => (
            Column {
                span: Span::new(date_end, line.len()),
                text: text(name_span),
            },
            None,
        ),
    };
    ListLine::Entry(Box::new(ListEntry {
        type_char,
        mode: col(0, toks[0]),
        links: col(toks[0].end, toks[1]),
        owner,
        group,
        size: col(toks[size_index - 1].end, toks[size_index]),
        date: Column {
            span: Span::new(toks[size_index].end, date_end),
            text: text(Span::new(toks[m].start, date_end)),
        },
        name,
        target,
    }))
}

/// Every line of a listing with its span, ending and parse.
pub fn parse_listing(bytes: &[u8]) -> Vec<(Span, Option<LineEnding>, ListLine)> {
    split_lines(bytes)
        .into_iter()
        .map(|(span, ending)| (span, ending, parse_line(span.slice(bytes))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ftp::fs::Metadata;

    #[test]
    fn calendar_dates() {
        assert_eq!(mdtm_value(0), "19700101000000");
        assert_eq!(mdtm_value(951_782_400), "20000229000000");
        assert_eq!(mdtm_value(1_700_000_000), "20231114221320");
        assert_eq!(ls_date(1_700_000_000, Some(1_700_100_000)), "Nov 14 22:13");
        assert_eq!(ls_date(1_700_000_000, Some(1_800_000_000)), "Nov 14  2023");
        assert_eq!(ls_date(1_700_000_000, None), "Nov 14  2023");
    }

    #[test]
    fn formatted_lines_parse_back() {
        let entry = DirEntry {
            name: "my notes.txt".into(),
            meta: Metadata {
                kind: FileKind::File,
                size: 1234,
                modified: 1_700_000_000,
            },
        };
        let line = format_entry(&entry, Some(1_700_000_000));
        assert_eq!(
            line,
            "-rw-r--r--    1 ftp      ftp          1234 Nov 14 22:13 my notes.txt"
        );
        let ListLine::Entry(e) = parse_line(line.as_bytes()) else {
            panic!("not parsed: {line}");
        };
        assert_eq!(e.name.text, "my notes.txt");
        assert_eq!(e.size_bytes(), Some(1234));
        assert_eq!(e.owner.unwrap().text, "ftp");
        assert_eq!(e.date.text, "Nov 14 22:13");
        assert_eq!(e.mode.span, Span::new(0, 10));
        assert_eq!(e.name.span.end, line.len());
    }

    #[test]
    fn other_servers_lines() {
        let ListLine::Entry(e) =
            parse_line(b"lrwxrwxrwx 1 root root 7 Mar  1  2021 bin -> usr/bin")
        else {
            panic!()
        };
        assert_eq!(e.type_char, 'l');
        assert_eq!(e.name.text, "bin");
        assert_eq!(e.target.unwrap().text, "usr/bin");
        // No group column, as some servers write.
        let ListLine::Entry(e) = parse_line(b"drwxr-xr-x 2 ftp 4096 Jan 5 09:00 pub") else {
            panic!()
        };
        assert!(e.group.is_none());
        assert!(e.is_dir());
        assert!(matches!(parse_line(b"total 12"), ListLine::Total { .. }));
        assert_eq!(
            parse_line(b"01-05-24  09:00AM  <DIR>  pub"),
            ListLine::Unparsed
        );
        assert_eq!(octal_mode("rwxr-xr-x").as_deref(), Some("755"));
        assert_eq!(octal_mode("rwsr-xr-x"), None);
    }
}
