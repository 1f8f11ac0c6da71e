//! What the IMAP server needs of a mail store (RFC 9051 §2.3): the
//! [`ImapStore`] trait, over the same mailboxes as SMTP and POP3, with each
//! message's UID and flags kept by the store so that they outlive the
//! session; [`Flags`], the system flags with their Maildir info letters;
//! and [`UidMap`], the bookkeeping of UIDVALIDITY, UIDNEXT and each
//! message's UID that every store shares (the relay writes it to a file
//! in each Maildir folder, the memory store, in [`super::memory`], keeps it
//! in memory).
//!
//! Unlike POP3 the IMAP side takes no lock: several IMAP sessions and SMTP
//! deliveries may touch one mailbox at once. Each call works on the store's
//! current state; a message another session removed is reported as
//! [`StoreError::NoSuchMessage`].

use crate::mail::store::StoreError;
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

/// The IMAP name of the mailbox's own folder, the Maildir itself.
pub const INBOX: &str = "INBOX";

/// The mail store as the IMAP server uses it. `mailbox` is a mailbox name
/// as [`crate::mail::store::MailStore::login`] returns it; `folder` is [`INBOX`] (that whole
/// mailbox, as POP3 sees it) or the IMAP name of one of its other folders
/// (`Archive/2024`), checked by the engine with [`super::folder`] before it
/// comes here. The folder tree is flat to the store: a parent is created
/// and renamed by the engine, one call per folder.
pub trait ImapStore {
    /// Checks a user name (as POP3 takes it) and password; the mailbox.
    fn imap_login(&self, user: &str, password: &str) -> Result<String, StoreError>;
    /// The folders besides INBOX, by IMAP name, in any order.
    fn folders(&self, mailbox: &str) -> Result<Vec<String>, StoreError>;
    /// Makes an empty folder; [`StoreError::FolderExists`] if it is there.
    fn create_folder(&self, mailbox: &str, folder: &str) -> Result<(), StoreError>;
    /// Removes a folder and its messages.
    fn delete_folder(&self, mailbox: &str, folder: &str) -> Result<(), StoreError>;
    /// Gives a folder (not INBOX) a new name, its messages and UIDs kept.
    fn rename_folder(&self, mailbox: &str, from: &str, to: &str) -> Result<(), StoreError>;
    /// The names the user subscribed to (RFC 9051 §6.3.7).
    fn subscriptions(&self, mailbox: &str) -> Result<Vec<String>, StoreError>;
    /// Replaces the subscriptions.
    fn set_subscriptions(&self, mailbox: &str, names: &[String]) -> Result<(), StoreError>;
    /// The folder as it is now; messages that arrived since the last call
    /// get their UIDs.
    fn snapshot(&self, mailbox: &str, folder: &str) -> Result<MailboxSnapshot, StoreError>;
    /// The bytes of the message `key`.
    fn read_message(&self, mailbox: &str, folder: &str, key: &str) -> Result<Vec<u8>, StoreError>;
    /// Replaces the flags of the message `key`.
    fn set_flags(
        &self,
        mailbox: &str,
        folder: &str,
        key: &str,
        flags: Flags,
    ) -> Result<(), StoreError>;
    /// Removes the messages `keys` for good.
    fn expunge(&self, mailbox: &str, folder: &str, keys: &[String]) -> Result<(), StoreError>;
    /// Adds `message` to `folder` with `flags`, arrived at `date` (seconds
    /// since 1970, which the server takes from its driver's clock when the
    /// client gave none); `None` when the server has no wall clock either:
    /// a store with a clock of its own (the Maildir) uses it, the memory
    /// store the epoch. Returns the folder's UIDVALIDITY and the message's
    /// UID (for APPENDUID).
    fn append(
        &self,
        mailbox: &str,
        folder: &str,
        message: &[u8],
        flags: Flags,
        date: Option<i64>,
    ) -> Result<(u32, u32), StoreError>;
    /// Copies the messages `keys` of `from` into `to`, flags and dates
    /// kept, removing them from `from` when `remove` (MOVE); `to`'s
    /// UIDVALIDITY and the UIDs the messages got there, in the order of
    /// `keys` (for COPYUID).
    fn copy(
        &self,
        mailbox: &str,
        from: &str,
        keys: &[String],
        to: &str,
        remove: bool,
    ) -> Result<(u32, Vec<u32>), StoreError>;
}

macro_rules! forward_imap_store {
    ($($ty:ty),*) => {$(
        impl<T: ImapStore + ?Sized> ImapStore for $ty {
            fn imap_login(&self, user: &str, password: &str) -> Result<String, StoreError> { (**self).imap_login(user, password) }
            fn folders(&self, mailbox: &str) -> Result<Vec<String>, StoreError> { (**self).folders(mailbox) }
            fn create_folder(&self, mailbox: &str, folder: &str) -> Result<(), StoreError> { (**self).create_folder(mailbox, folder) }
            fn delete_folder(&self, mailbox: &str, folder: &str) -> Result<(), StoreError> { (**self).delete_folder(mailbox, folder) }
            fn rename_folder(&self, mailbox: &str, from: &str, to: &str) -> Result<(), StoreError> { (**self).rename_folder(mailbox, from, to) }
            fn subscriptions(&self, mailbox: &str) -> Result<Vec<String>, StoreError> { (**self).subscriptions(mailbox) }
            fn set_subscriptions(&self, mailbox: &str, names: &[String]) -> Result<(), StoreError> { (**self).set_subscriptions(mailbox, names) }
            fn snapshot(&self, mailbox: &str, folder: &str) -> Result<MailboxSnapshot, StoreError> { (**self).snapshot(mailbox, folder) }
            fn read_message(&self, mailbox: &str, folder: &str, key: &str) -> Result<Vec<u8>, StoreError> { (**self).read_message(mailbox, folder, key) }
            fn set_flags(&self, mailbox: &str, folder: &str, key: &str, flags: Flags) -> Result<(), StoreError> { (**self).set_flags(mailbox, folder, key, flags) }
            fn expunge(&self, mailbox: &str, folder: &str, keys: &[String]) -> Result<(), StoreError> { (**self).expunge(mailbox, folder, keys) }
            fn append(&self, mailbox: &str, folder: &str, message: &[u8], flags: Flags, date: Option<i64>) -> Result<(u32, u32), StoreError> { (**self).append(mailbox, folder, message, flags, date) }
            fn copy(&self, mailbox: &str, from: &str, keys: &[String], to: &str, remove: bool) -> Result<(u32, Vec<u32>), StoreError> { (**self).copy(mailbox, from, keys, to, remove) }
        }
    )*};
}
forward_imap_store!(std::sync::Arc<T>, std::rc::Rc<T>, &T);

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
