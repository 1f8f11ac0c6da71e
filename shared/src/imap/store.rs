//! What the IMAP server needs of a mail store (RFC 9051 §2.3): the
//! [`ImapStore`] trait, over the same mailboxes as SMTP and POP3, with each
//! message's UID and flags kept by the store so that they outlive the
//! session; [`Flags`], the system flags with their Maildir info letters;
//! and [`UidMap`], the bookkeeping of UIDVALIDITY, UIDNEXT and each
//! message's UID that every store shares (the relay writes it to a file
//! in the Maildir, [`MemoryStore`] keeps it in memory).
//!
//! Unlike POP3 the IMAP side takes no lock: several IMAP sessions and SMTP
//! deliveries may touch one mailbox at once. Each call works on the store's
//! current state; a message another session removed is reported as
//! [`StoreError::NoSuchMessage`].

use crate::mail::store::{MailStore, MemoryStore, StoreError};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The system flags (RFC 9051 §2.3.2) as a set. `\Recent` is gone from
/// IMAP4rev2 and is never set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Flags(pub u8);

/// Each flag: its bit, its IMAP name, its Maildir info letter. In the
/// letters' ASCII order, which Maildir file names must use.
const FLAG_TABLE: [(u8, &str, char); 5] = [
    (1, "\\Draft", 'D'),
    (2, "\\Flagged", 'F'),
    (4, "\\Answered", 'R'),
    (8, "\\Seen", 'S'),
    (16, "\\Deleted", 'T'),
];

impl Flags {
    pub const DRAFT: Flags = Flags(1);
    pub const FLAGGED: Flags = Flags(2);
    pub const ANSWERED: Flags = Flags(4);
    pub const SEEN: Flags = Flags(8);
    pub const DELETED: Flags = Flags(16);

    /// Every flag this server can keep, for FLAGS and PERMANENTFLAGS.
    pub fn all_names() -> Vec<&'static str> {
        FLAG_TABLE.iter().map(|f| f.1).collect()
    }

    /// The flag called `name` (any case), if it is a system flag.
    pub fn from_name(name: &str) -> Option<Flags> {
        FLAG_TABLE
            .iter()
            .find(|f| f.1.eq_ignore_ascii_case(name))
            .map(|f| Flags(f.0))
    }

    pub fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    pub fn with(self, other: Flags) -> Flags {
        Flags(self.0 | other.0)
    }

    pub fn without(self, other: Flags) -> Flags {
        Flags(self.0 & !other.0)
    }

    /// The names of the flags set, for a FLAGS response.
    pub fn names(self) -> Vec<&'static str> {
        FLAG_TABLE
            .iter()
            .filter(|f| self.0 & f.0 != 0)
            .map(|f| f.1)
            .collect()
    }

    /// The letters after `:2,` in a Maildir file name (`FS`).
    pub fn maildir_info(self) -> String {
        FLAG_TABLE
            .iter()
            .filter(|f| self.0 & f.0 != 0)
            .map(|f| f.2)
            .collect()
    }

    /// The flags of a Maildir info part (`FS`); unknown letters (other
    /// programs' keywords) are ignored.
    pub fn from_maildir_info(info: &str) -> Flags {
        let bits = FLAG_TABLE
            .iter()
            .filter(|f| info.contains(f.2))
            .fold(0, |acc, f| acc | f.0);
        Flags(bits)
    }
}

/// One message of a mailbox as IMAP sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImapMessage {
    /// The store's own id of the message (the POP3 unique id).
    pub key: String,
    pub uid: u32,
    pub size: u64,
    pub flags: Flags,
    /// When the message arrived, in seconds since 1970 (INTERNALDATE).
    pub internal_date: i64,
}

/// A mailbox's messages in UID order, with its UIDVALIDITY and UIDNEXT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxSnapshot {
    pub uid_validity: u32,
    pub uid_next: u32,
    pub messages: Vec<ImapMessage>,
}

/// The UIDs of a mailbox: which message key has which UID, and the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UidMap {
    pub uid_validity: u32,
    pub uid_next: u32,
    pub uids: BTreeMap<String, u32>,
}

impl Default for UidMap {
    fn default() -> Self {
        UidMap::new(1)
    }
}

/// The first line of the stored form, so that a foreign file is not misread.
const UIDMAP_MAGIC: &str = "wirelab-imap-uids 1";

impl UidMap {
    pub fn new(uid_validity: u32) -> UidMap {
        UidMap {
            uid_validity: uid_validity.max(1),
            uid_next: 1,
            uids: BTreeMap::new(),
        }
    }

    /// Gives each key in `keys` (oldest first) that has no UID the next
    /// one and forgets keys no longer there; whether anything changed.
    pub fn sync(&mut self, keys: &[String]) -> bool {
        let before = self.uids.len();
        self.uids.retain(|k, _| keys.contains(k));
        let mut changed = before != self.uids.len();
        for key in keys {
            if !self.uids.contains_key(key) {
                self.uids.insert(key.clone(), self.uid_next);
                // UIDs never run out in a lab mailbox; if one did, the
                // last UID is reused rather than wrapping to 0.
                self.uid_next = self.uid_next.saturating_add(1);
                changed = true;
            }
        }
        changed
    }

    /// The stored form: the magic line, `uidvalidity uidnext`, then one
    /// `uid key` line per message.
    pub fn to_text(&self) -> String {
        let mut out = format!("{UIDMAP_MAGIC}\n{} {}\n", self.uid_validity, self.uid_next);
        for (key, uid) in &self.uids {
            let _ = writeln!(out, "{uid} {key}");
        }
        out
    }

    /// Reads [`UidMap::to_text`]'s form; `None` if it is not one.
    pub fn parse(text: &str) -> Option<UidMap> {
        let mut lines = text.lines();
        if lines.next()? != UIDMAP_MAGIC {
            return None;
        }
        let (validity, next) = lines.next()?.split_once(' ')?;
        let mut map = UidMap::new(validity.parse().ok()?);
        map.uid_next = next.parse().ok()?;
        for line in lines {
            let (uid, key) = line.split_once(' ')?;
            let uid: u32 = uid.parse().ok()?;
            if uid == 0 || uid >= map.uid_next {
                return None;
            }
            map.uids.insert(key.to_string(), uid);
        }
        Some(map)
    }
}

/// The mail store as the IMAP server uses it. `mailbox` is a mailbox name
/// as [`MailStore::login`] returns it; IMAP's INBOX is that whole mailbox.
pub trait ImapStore {
    /// Checks a user name (as POP3 takes it) and password; the mailbox.
    fn imap_login(&self, user: &str, password: &str) -> Result<String, StoreError>;
    /// The mailbox as it is now; messages that arrived since the last call
    /// get their UIDs.
    fn snapshot(&self, mailbox: &str) -> Result<MailboxSnapshot, StoreError>;
    /// The bytes of the message `key`.
    fn read_message(&self, mailbox: &str, key: &str) -> Result<Vec<u8>, StoreError>;
    /// Replaces the flags of the message `key`.
    fn set_flags(&self, mailbox: &str, key: &str, flags: Flags) -> Result<(), StoreError>;
    /// Removes the messages `keys` for good.
    fn expunge(&self, mailbox: &str, keys: &[String]) -> Result<(), StoreError>;
}

impl<T: ImapStore + ?Sized> ImapStore for std::sync::Arc<T> {
    fn imap_login(&self, user: &str, password: &str) -> Result<String, StoreError> {
        (**self).imap_login(user, password)
    }
    fn snapshot(&self, mailbox: &str) -> Result<MailboxSnapshot, StoreError> {
        (**self).snapshot(mailbox)
    }
    fn read_message(&self, mailbox: &str, key: &str) -> Result<Vec<u8>, StoreError> {
        (**self).read_message(mailbox, key)
    }
    fn set_flags(&self, mailbox: &str, key: &str, flags: Flags) -> Result<(), StoreError> {
        (**self).set_flags(mailbox, key, flags)
    }
    fn expunge(&self, mailbox: &str, keys: &[String]) -> Result<(), StoreError> {
        (**self).expunge(mailbox, keys)
    }
}

impl ImapStore for MemoryStore {
    fn imap_login(&self, user: &str, password: &str) -> Result<String, StoreError> {
        self.login(user, password)
    }

    fn snapshot(&self, mailbox: &str) -> Result<MailboxSnapshot, StoreError> {
        self.imap_snapshot(mailbox)
    }

    fn read_message(&self, mailbox: &str, key: &str) -> Result<Vec<u8>, StoreError> {
        self.messages(mailbox)
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, m)| m)
            .ok_or_else(|| StoreError::NoSuchMessage(key.into()))
    }

    fn set_flags(&self, mailbox: &str, key: &str, flags: Flags) -> Result<(), StoreError> {
        self.imap_set_flags(mailbox, key, flags)
    }

    fn expunge(&self, mailbox: &str, keys: &[String]) -> Result<(), StoreError> {
        self.imap_expunge(mailbox, keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_as_names_and_maildir_letters() {
        let f = Flags::SEEN.with(Flags::FLAGGED).with(Flags::DELETED);
        assert_eq!(f.maildir_info(), "FST");
        assert_eq!(f.names(), ["\\Flagged", "\\Seen", "\\Deleted"]);
        assert_eq!(
            Flags::from_maildir_info("aFS"),
            Flags::SEEN.with(Flags::FLAGGED)
        );
        assert_eq!(Flags::from_name("\\SEEN"), Some(Flags::SEEN));
        assert_eq!(Flags::from_name("\\Recent"), None);
        assert!(!f.without(Flags::SEEN).contains(Flags::SEEN));
    }

    #[test]
    fn uids_grow_and_survive_their_stored_form() {
        let mut map = UidMap::new(77);
        assert!(map.sync(&["a".into(), "b".into()]));
        assert!(!map.sync(&["a".into(), "b".into()]));
        assert!(map.sync(&["b".into(), "c".into()]));
        assert_eq!(map.uids["b"], 2);
        assert_eq!(map.uids["c"], 3);
        assert_eq!(map.uid_next, 4);
        let back = UidMap::parse(&map.to_text()).unwrap();
        assert_eq!(back, map);
        assert_eq!(UidMap::parse("hello\n1 2\n"), None);
        assert_eq!(UidMap::parse(&format!("{UIDMAP_MAGIC}\n1 2\n5 x\n")), None);
    }
}
