//! Folder names (RFC 9051 §5.1): what a name may hold, its hierarchy and
//! LIST's wildcards. The hierarchy delimiter is `/`, as most servers
//! export it (RFC 9051 leaves the choice to the server, §5.1): `Archive/2024`
//! is the folder `2024` inside `Archive`. The relay keeps folders as
//! Maildir++ directories (`.Archive.2024`), where `.` separates the
//! levels, so a name may not contain `.`.
//!
//! INBOX is the mailbox itself, named in any case; it has no folders
//! inside it here (a name may not start with `INBOX/`).

use crate::imap::store::INBOX;

/// The hierarchy delimiter LIST announces.
pub const DELIMITER: char = '/';

/// The name a client gave, checked: `INBOX` in any case becomes `INBOX`;
/// anything else must be printable ASCII without `.`, `*` or `%`, at most
/// `max_bytes` long, with no empty level. Why not, otherwise.
pub fn check_name(raw: &[u8], max_bytes: usize) -> Result<String, String> {
    let Ok(name) = std::str::from_utf8(raw) else {
        return Err(
            "a folder name is ASCII here (modified UTF-7 for other letters, RFC 3501 §5.1.3)"
                .into(),
        );
    };
    if name.eq_ignore_ascii_case(INBOX) {
        return Ok(INBOX.into());
    }
    if name.is_empty() || name.len() > max_bytes {
        return Err(format!("a folder name is 1 to {max_bytes} bytes long"));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(' '..='~').contains(c) || matches!(c, '.' | '*' | '%'))
    {
        return Err(format!(
            "{bad:?} cannot be in a folder name here (the folders are Maildir++ directories, \
             where . separates the levels; * and % are LIST's wildcards)"
        ));
    }
    if name.split(DELIMITER).any(str::is_empty) {
        return Err(format!(
            "{name:?} has an empty level between its / delimiters"
        ));
    }
    let first = name.split(DELIMITER).next().unwrap_or_default();
    if first.eq_ignore_ascii_case(INBOX) {
        return Err("INBOX has no folders inside it on this server".into());
    }
    Ok(name.to_string())
}

/// The folders above `name`, outermost first: `a/b/c` gives `a`, `a/b`.
pub fn ancestors(name: &str) -> Vec<&str> {
    name.match_indices(DELIMITER)
        .map(|(i, _)| &name[..i])
        .collect()
}

/// Whether `name` is inside `parent`, at any depth.
pub fn is_inside(name: &str, parent: &str) -> bool {
    name.strip_prefix(parent)
        .is_some_and(|rest| rest.starts_with(DELIMITER))
}

/// Whether `name` matches a LIST pattern: `*` matches anything, `%`
/// anything but the delimiter (RFC 9051 §6.3.9). INBOX is matched in any
/// case.
pub fn wildcard_match(pattern: &str, name: &str) -> bool {
    fn go(p: &[u8], n: &[u8], inbox: bool) -> bool {
        match p.split_first() {
            None => n.is_empty(),
            Some((b'*', rest)) => (0..=n.len()).any(|i| go(rest, &n[i..], inbox)),
            Some((b'%', rest)) => (0..=n.len())
                .take_while(|&i| i == 0 || n[i - 1] != DELIMITER as u8)
                .any(|i| go(rest, &n[i..], inbox)),
            Some((c, rest)) => n.split_first().is_some_and(|(d, nr)| {
                (c == d || inbox && c.eq_ignore_ascii_case(d)) && go(rest, nr, inbox)
            }),
        }
    }
    // A run of wildcards matches what its widest member matches; with runs
    // collapsed, each level of recursion must consume one literal byte of
    // the name, so the work stays small for any pattern a line can hold.
    let mut collapsed: Vec<u8> = Vec::new();
    for b in pattern.bytes() {
        match (collapsed.last_mut(), b) {
            (Some(last @ (b'*' | b'%')), b'*' | b'%') => {
                if b == b'*' {
                    *last = b'*';
                }
            }
            _ => collapsed.push(b),
        }
    }
    go(&collapsed, name.as_bytes(), name == INBOX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_and_inbox_is_any_case() {
        assert_eq!(check_name(b"inBox", 20).unwrap(), "INBOX");
        assert_eq!(check_name(b"Archive/2024", 20).unwrap(), "Archive/2024");
        for bad in [
            &b"a.b"[..],
            b"",
            b"a//b",
            b"/a",
            b"a/",
            b"x*",
            b"INBOX/x",
            b"\xc3\xa9",
        ] {
            assert!(check_name(bad, 20).is_err(), "{bad:?}");
        }
        assert!(check_name(&[b'a'; 21], 20).is_err());
        assert_eq!(ancestors("a/b/c"), ["a", "a/b"]);
        assert!(is_inside("a/b/c", "a/b") && !is_inside("a/bc", "a/b"));
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("%*%I%N*B*O*X%", "INBOX"));
        assert!(wildcard_match("inbox", "INBOX"));
        assert!(
            !wildcard_match("sent", "Sent"),
            "other names keep their case"
        );
        assert!(wildcard_match("%", "Sent") && !wildcard_match("%", "Sent/2024"));
        assert!(wildcard_match("Sent/%", "Sent/2024") && wildcard_match("*", "a/b/c"));
        assert!(!wildcard_match(
            &format!("{}Q", "*%I".repeat(500)),
            "INBOXES/x/"
        ));
    }
}
