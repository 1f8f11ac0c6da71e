//! Where the mail servers keep mail: the [`MailStore`] trait both servers
//! use (SMTP delivers into it, POP3 reads and deletes), the accounts it
//! knows ([`Accounts`]), and [`MemoryStore`], the in-memory store that runs
//! the servers in the browser and in tests. The relay implements the same
//! trait over Maildir directories on disk.
//!
//! Callers must follow the POP3 discipline the trait encodes: [`open`]
//! locks a mailbox and returns a snapshot of its messages; [`read`] and
//! [`close`] need the lock token; [`close`] deletes and unlocks (the UPDATE
//! state), [`release`] unlocks without deleting (a session that ended
//! without QUIT). Methods take `&self`: stores use interior mutability, so
//! one store can be shared by every connection of both servers.
//!
//! The mail rules are kept here once, so that a store only stores: the
//! login check ([`Accounts::login`]), POP3's mailbox locks
//! ([`MailboxLocks`]) and the quota ([`check_quota`], and the bytes per
//! mailbox in a [`QuotaLedger`]).
//!
//! [`open`]: MailStore::open
//! [`read`]: MailStore::read
//! [`close`]: MailStore::close
//! [`release`]: MailStore::release

use super::locks::MailboxLocks;
pub use super::quota::{QuotaLedger, check_quota};
use crate::imap::store::{Flags, UidMap};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// One mailbox and the password that opens it over POP3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// `bob@hamburger.edu`; mailbox names are addresses in lower case.
    pub address: String,
    pub password: String,
    /// Whether a fresh (or reset) mailbox holds the course's two messages.
    pub seed: bool,
}

impl Account {
    pub fn new(address: &str, password: &str, seed: bool) -> Account {
        Account {
            address: address.to_ascii_lowercase(),
            password: password.to_string(),
            seed,
        }
    }

    fn local_part(&self) -> &str {
        self.address
            .rsplit_once('@')
            .map_or(&self.address, |(l, _)| l)
    }

    fn domain(&self) -> &str {
        self.address.rsplit_once('@').map_or("", |(_, d)| d)
    }
}

/// The accounts of the course: `bob@hamburger.edu` (password `hungry`, with
/// the course's two messages) and `alice@crepes.fr` (password `crepes`).
pub fn course_accounts() -> Vec<Account> {
    vec![
        Account::new("bob@hamburger.edu", "hungry", true),
        Account::new("alice@crepes.fr", "crepes", false),
    ]
}

/// What a store says about a `RCPT TO` address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecipientCheck {
    /// A local mailbox (its name).
    Local(String),
    /// The domain is ours, the user is not: `550 No such user here`.
    UnknownUser,
    /// Another domain: this server does not relay.
    NotLocal,
}

/// The set of accounts a store serves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Accounts {
    pub list: Vec<Account>,
}

impl Accounts {
    pub fn new(list: Vec<Account>) -> Accounts {
        Accounts { list }
    }

    /// The domains that have at least one mailbox here.
    pub fn local_domains(&self) -> Vec<String> {
        let mut domains: Vec<String> = self.list.iter().map(|a| a.domain().to_string()).collect();
        domains.sort();
        domains.dedup();
        domains
    }

    /// Whether mail to `address` is for a local mailbox. `postmaster` (alone
    /// or at a local domain) must always be accepted (RFC 5321 §4.5.1): with
    /// no mailbox of that name it goes to the domain's first mailbox.
    pub fn check_recipient(&self, address: &str) -> RecipientCheck {
        let address = address.to_ascii_lowercase();
        if self.list.iter().any(|a| a.address == address) {
            return RecipientCheck::Local(address);
        }
        let domain = address.rsplit_once('@').map_or("", |(_, d)| d);
        let local_part = address
            .rsplit_once('@')
            .map_or(address.as_str(), |(l, _)| l);
        if local_part == "postmaster" {
            let first = self
                .list
                .iter()
                .find(|a| domain.is_empty() || a.domain() == domain);
            if let Some(a) = first {
                return RecipientCheck::Local(a.address.clone());
            }
        }
        if self.list.iter().any(|a| a.domain() == domain) {
            RecipientCheck::UnknownUser
        } else {
            RecipientCheck::NotLocal
        }
    }

    /// The account a POP3 user name designates: the whole address, or the
    /// local part alone when only one domain has it (`bob`, as in the course).
    pub fn find_user(&self, user: &str) -> Option<&Account> {
        let user = user.to_ascii_lowercase();
        if let Some(a) = self.list.iter().find(|a| a.address == user) {
            return Some(a);
        }
        let mut matching = self.list.iter().filter(|a| a.local_part() == user);
        let first = matching.next()?;
        matching.next().is_none().then_some(first)
    }

    pub fn get(&self, mailbox: &str) -> Option<&Account> {
        self.list.iter().find(|a| a.address == mailbox)
    }

    /// The login rule of every store: the user names an account
    /// ([`Accounts::find_user`]) whose password is `password`; the mailbox
    /// it opens.
    pub fn login(&self, user: &str, password: &str) -> Result<String, StoreError> {
        let account = self
            .find_user(user)
            .ok_or_else(|| StoreError::NoSuchMailbox(user.into()))?;
        if account.password != password {
            return Err(StoreError::BadPassword);
        }
        Ok(account.address.clone())
    }
}

/// One message in a mailbox snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageInfo {
    /// A unique, stable id (1 to 70 printable characters, for UIDL).
    pub uid: String,
    /// The exact size in octets, as POP3's LIST reports it.
    pub size: u64,
}

/// A lock on a mailbox, handed out by [`MailStore::open`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LockToken(pub u64);

/// Why a store operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("there is no mailbox {0}")]
    NoSuchMailbox(String),
    #[error("wrong password")]
    BadPassword,
    #[error("the mailbox is locked by another POP3 session")]
    Locked,
    #[error("the session no longer holds the mailbox lock")]
    StaleLock,
    #[error("there is no message {0}")]
    NoSuchMessage(String),
    #[error("the mailbox is full: {used} of {limit} bytes used, {incoming} more do not fit")]
    MailboxFull {
        used: u64,
        incoming: u64,
        limit: u64,
    },
    #[error("there is no folder {0}")]
    NoSuchFolder(String),
    #[error("there is a folder {0} already")]
    FolderExists(String),
    #[error("storage failed: {0}")]
    Io(String),
}

/// The mail storage both servers share. See the module docs for the
/// locking discipline.
pub trait MailStore {
    /// Whether mail to `address` is for a local mailbox.
    fn check_recipient(&self, address: &str) -> RecipientCheck;
    /// The domains this store receives mail for.
    fn local_domains(&self) -> Vec<String>;
    /// Whether `incoming` more bytes fit in `mailbox`.
    fn check_room(&self, mailbox: &str, incoming: u64) -> Result<(), StoreError>;
    /// Stores `message` in each of `mailboxes`, durably: when this returns
    /// `Ok`, the message survives a crash.
    fn deliver(&self, mailboxes: &[String], message: &[u8]) -> Result<(), StoreError>;
    /// Checks a POP3 user name and password; returns the mailbox name.
    fn login(&self, user: &str, password: &str) -> Result<String, StoreError>;
    /// Locks `mailbox` and returns a snapshot of its messages, oldest first.
    fn open(&self, mailbox: &str) -> Result<(LockToken, Vec<MessageInfo>), StoreError>;
    /// The bytes of one message of the snapshot.
    fn read(&self, mailbox: &str, lock: LockToken, uid: &str) -> Result<Vec<u8>, StoreError>;
    /// Deletes `delete` and unlocks: POP3's UPDATE state.
    fn close(&self, mailbox: &str, lock: LockToken, delete: &[String]) -> Result<(), StoreError>;
    /// Unlocks without deleting anything (a session ended without QUIT).
    fn release(&self, mailbox: &str, lock: LockToken);
}

macro_rules! forward_store {
    ($($ty:ty),*) => {$(
        impl<T: MailStore + ?Sized> MailStore for $ty {
            fn check_recipient(&self, address: &str) -> RecipientCheck { (**self).check_recipient(address) }
            fn local_domains(&self) -> Vec<String> { (**self).local_domains() }
            fn check_room(&self, mailbox: &str, incoming: u64) -> Result<(), StoreError> { (**self).check_room(mailbox, incoming) }
            fn deliver(&self, mailboxes: &[String], message: &[u8]) -> Result<(), StoreError> { (**self).deliver(mailboxes, message) }
            fn login(&self, user: &str, password: &str) -> Result<String, StoreError> { (**self).login(user, password) }
            fn open(&self, mailbox: &str) -> Result<(LockToken, Vec<MessageInfo>), StoreError> { (**self).open(mailbox) }
            fn read(&self, mailbox: &str, lock: LockToken, uid: &str) -> Result<Vec<u8>, StoreError> { (**self).read(mailbox, lock, uid) }
            fn close(&self, mailbox: &str, lock: LockToken, delete: &[String]) -> Result<(), StoreError> { (**self).close(mailbox, lock, delete) }
            fn release(&self, mailbox: &str, lock: LockToken) { (**self).release(mailbox, lock) }
        }
    )*};
}
forward_store!(Arc<T>, std::rc::Rc<T>, &T, Box<T>);

/// The two messages of the course's POP3 session (`list` shows `1 498` and
/// `2 912`): a lunch invitation and a multipart recipe with an attachment.
pub fn course_messages() -> [&'static [u8]; 2] {
    [
        include_bytes!("seed/1-lunch.eml"),
        include_bytes!("seed/2-crepe-recipe.eml"),
    ]
}

/// Size limits of a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreLimits {
    /// Largest mailbox, in bytes.
    pub max_mailbox_bytes: u64,
}

impl Default for StoreLimits {
    fn default() -> Self {
        StoreLimits {
            max_mailbox_bytes: 50 * 1024 * 1024,
        }
    }
}

/// One folder of a memory mailbox: INBOX or a named one.
#[derive(Debug, Default)]
pub(crate) struct MemoryFolder {
    pub(crate) messages: Vec<(String, Vec<u8>)>,
    /// IMAP's UIDs, flags and arrival times, by message key.
    pub(crate) uids: UidMap,
    pub(crate) flags: BTreeMap<String, Flags>,
    pub(crate) dates: BTreeMap<String, i64>,
}

#[derive(Debug, Default)]
pub(crate) struct MemoryMailbox {
    /// What POP3 sees, and SMTP delivers into.
    pub(crate) inbox: MemoryFolder,
    /// IMAP's other folders, by name.
    pub(crate) folders: BTreeMap<String, MemoryFolder>,
    pub(crate) subscriptions: Vec<String>,
}

impl MemoryMailbox {
    /// The bytes the mailbox holds in all its folders, for the quota.
    pub(crate) fn used_bytes(&self) -> u64 {
        std::iter::once(&self.inbox)
            .chain(self.folders.values())
            .flat_map(|f| &f.messages)
            .map(|(_, m)| m.len() as u64)
            .sum()
    }
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) accounts: Accounts,
    pub(crate) boxes: BTreeMap<String, MemoryMailbox>,
    /// Numbers message keys and new folders' UIDVALIDITY.
    pub(crate) next_uid: u64,
    /// Which mailboxes a POP3 session holds.
    pub(crate) locks: MailboxLocks,
    pub(crate) quota: QuotaLedger,
}

/// A mail store in memory: the in-browser servers' storage, and the one the
/// engine tests use. Lost when dropped.
#[derive(Debug)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

impl MemoryStore {
    /// A store for `accounts`, each mailbox seeded if its account says so.
    pub fn new(accounts: Vec<Account>, limits: StoreLimits) -> MemoryStore {
        let store = MemoryStore {
            inner: Mutex::new(Inner {
                accounts: Accounts::new(accounts.clone()),
                boxes: BTreeMap::new(),
                next_uid: 1,
                locks: MailboxLocks::default(),
                quota: QuotaLedger::new(limits.max_mailbox_bytes),
            }),
        };
        for a in &accounts {
            // Every account's mailbox exists; resetting creates and seeds it.
            let _ = store.reset(&a.address);
        }
        store
    }

    /// The course's accounts with bob's two messages.
    pub fn course() -> MemoryStore {
        MemoryStore::new(course_accounts(), StoreLimits::default())
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves consistent data (every
        // change is a single push or retain), so poisoning is ignored.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Empties `mailbox` and puts the seed messages back if its account has
    /// them. Refused while a POP3 session holds the mailbox.
    pub fn reset(&self, mailbox: &str) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let mailbox = mailbox.to_ascii_lowercase();
        let account = inner
            .accounts
            .get(&mailbox)
            .cloned()
            .ok_or_else(|| StoreError::NoSuchMailbox(mailbox.clone()))?;
        if inner.locks.is_locked(&mailbox) {
            return Err(StoreError::Locked);
        }
        let validity = inner
            .boxes
            .get(&mailbox)
            .map_or(1, |b| b.inbox.uids.uid_validity.saturating_add(1));
        let mut messages = Vec::new();
        if account.seed {
            for (i, m) in course_messages().iter().enumerate() {
                messages.push((format!("seed-{}", i + 1), m.to_vec()));
            }
        }
        inner.quota.removed(&mailbox);
        inner.boxes.insert(
            mailbox,
            MemoryMailbox {
                inbox: MemoryFolder {
                    messages,
                    // Old UIDs may be given again: IMAP clients must be told.
                    uids: UidMap::new(validity),
                    ..MemoryFolder::default()
                },
                ..MemoryMailbox::default()
            },
        );
        Ok(())
    }

    /// The messages of `mailbox` (uid and bytes), for tests and views.
    pub fn messages(&self, mailbox: &str) -> Vec<(String, Vec<u8>)> {
        self.lock()
            .boxes
            .get(&mailbox.to_ascii_lowercase())
            .map(|b| b.inbox.messages.clone())
            .unwrap_or_default()
    }

    /// Whether a POP3 session holds `mailbox`.
    pub fn is_locked(&self, mailbox: &str) -> bool {
        self.lock().locks.is_locked(&mailbox.to_ascii_lowercase())
    }
}

impl MailStore for MemoryStore {
    fn check_recipient(&self, address: &str) -> RecipientCheck {
        self.lock().accounts.check_recipient(address)
    }

    fn local_domains(&self) -> Vec<String> {
        self.lock().accounts.local_domains()
    }

    fn check_room(&self, mailbox: &str, incoming: u64) -> Result<(), StoreError> {
        let mut guard = self.lock();
        let inner = &mut *guard;
        let b = inner
            .boxes
            .get(mailbox)
            .ok_or_else(|| StoreError::NoSuchMailbox(mailbox.into()))?;
        inner.quota.check_room(mailbox, incoming, || b.used_bytes())
    }

    fn deliver(&self, mailboxes: &[String], message: &[u8]) -> Result<(), StoreError> {
        for m in mailboxes {
            self.check_room(m, message.len() as u64)?;
        }
        // IMAP's INTERNALDATE: when the delivering server (which dated its
        // Received: line from its caller's clock) took the message.
        let delivered = super::trace::delivery_date(message);
        let mut inner = self.lock();
        for m in mailboxes {
            let uid = format!("m{}", inner.next_uid);
            inner.next_uid += 1;
            let inbox = &mut inner
                .boxes
                .get_mut(m)
                .ok_or_else(|| StoreError::NoSuchMailbox(m.clone()))?
                .inbox;
            if let Some(date) = delivered {
                inbox.dates.insert(uid.clone(), date);
            }
            inbox.messages.push((uid, message.to_vec()));
        }
        inner.quota.added(mailboxes, message.len() as u64);
        Ok(())
    }

    fn login(&self, user: &str, password: &str) -> Result<String, StoreError> {
        self.lock().accounts.login(user, password)
    }

    fn open(&self, mailbox: &str) -> Result<(LockToken, Vec<MessageInfo>), StoreError> {
        let mut inner = self.lock();
        let infos = inner
            .boxes
            .get(mailbox)
            .ok_or_else(|| StoreError::NoSuchMailbox(mailbox.into()))?
            .inbox
            .messages
            .iter()
            .map(|(uid, m)| MessageInfo {
                uid: uid.clone(),
                size: m.len() as u64,
            })
            .collect();
        let token = inner.locks.acquire(mailbox)?;
        Ok((token, infos))
    }

    fn read(&self, mailbox: &str, lock: LockToken, uid: &str) -> Result<Vec<u8>, StoreError> {
        let inner = self.lock();
        let b = inner
            .boxes
            .get(mailbox)
            .ok_or_else(|| StoreError::NoSuchMailbox(mailbox.into()))?;
        inner.locks.check(mailbox, lock)?;
        b.inbox
            .messages
            .iter()
            .find(|(u, _)| u == uid)
            .map(|(_, m)| m.clone())
            .ok_or_else(|| StoreError::NoSuchMessage(uid.into()))
    }

    fn close(&self, mailbox: &str, lock: LockToken, delete: &[String]) -> Result<(), StoreError> {
        let mut guard = self.lock();
        let inner = &mut *guard;
        let b = inner
            .boxes
            .get_mut(mailbox)
            .ok_or_else(|| StoreError::NoSuchMailbox(mailbox.into()))?;
        inner.locks.check(mailbox, lock)?;
        b.inbox.messages.retain(|(uid, _)| !delete.contains(uid));
        if !delete.is_empty() {
            inner.quota.removed(mailbox);
        }
        inner.locks.release(mailbox, lock);
        Ok(())
    }

    fn release(&self, mailbox: &str, lock: LockToken) {
        self.lock().locks.release(mailbox, lock);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_course_mailbox_lists_498_and_912() {
        let [one, two] = course_messages();
        assert_eq!((one.len(), two.len()), (498, 912));
        let store = MemoryStore::course();
        let (lock, list) = store.open("bob@hamburger.edu").unwrap();
        let sizes: Vec<u64> = list.iter().map(|m| m.size).collect();
        assert_eq!(sizes, [498, 912]);
        assert_eq!(
            store.read("bob@hamburger.edu", lock, &list[0].uid).unwrap(),
            one
        );
        store.release("bob@hamburger.edu", lock);
        assert!(store.open("alice@crepes.fr").unwrap().1.is_empty());
    }

    #[test]
    fn seeded_messages_dissect_cleanly() {
        for m in course_messages() {
            let d = crate::mail::dissect::dissect(m);
            assert!(d.diagnostics.is_empty(), "{:?}", d.diagnostics);
            assert!(d.check_invariants(true).is_empty());
        }
    }

    #[test]
    fn users_recipients_and_passwords() {
        let accounts = Accounts::new(course_accounts());
        assert_eq!(
            accounts.find_user("BOB").unwrap().address,
            "bob@hamburger.edu"
        );
        assert_eq!(
            accounts.find_user("alice@crepes.fr").unwrap().address,
            "alice@crepes.fr"
        );
        assert!(accounts.find_user("john").is_none());
        assert_eq!(
            accounts.check_recipient("Bob@Hamburger.edu"),
            RecipientCheck::Local("bob@hamburger.edu".into())
        );
        assert_eq!(
            accounts.check_recipient("Johm@hamburger.edu"),
            RecipientCheck::UnknownUser
        );
        assert_eq!(
            accounts.check_recipient("x@gmail.com"),
            RecipientCheck::NotLocal
        );
        assert_eq!(
            accounts.check_recipient("Postmaster"),
            RecipientCheck::Local("bob@hamburger.edu".into())
        );
        assert_eq!(
            accounts.check_recipient("postmaster@crepes.fr"),
            RecipientCheck::Local("alice@crepes.fr".into())
        );
        assert_eq!(
            accounts.check_recipient("postmaster@gmail.com"),
            RecipientCheck::NotLocal
        );
        assert_eq!(accounts.local_domains(), ["crepes.fr", "hamburger.edu"]);
        let dup = Accounts::new(vec![
            Account::new("bob@a.org", "x", false),
            Account::new("bob@b.org", "y", false),
        ]);
        assert!(dup.find_user("bob").is_none(), "ambiguous local part");
        let store = MemoryStore::course();
        assert_eq!(store.login("bob", "hungry").unwrap(), "bob@hamburger.edu");
        assert_eq!(store.login("bob", "full"), Err(StoreError::BadPassword));
    }

    #[test]
    fn locks_deletions_and_limits() {
        let store = MemoryStore::new(
            course_accounts(),
            StoreLimits {
                max_mailbox_bytes: 2000,
            },
        );
        let bob = "bob@hamburger.edu";
        let (lock, list) = store.open(bob).unwrap();
        assert_eq!(store.open(bob), Err(StoreError::Locked));
        assert_eq!(store.reset(bob), Err(StoreError::Locked));
        // A delivery during the session is not in its snapshot.
        store
            .deliver(&[bob.to_string()], b"Subject: x\r\n\r\nhi\r\n")
            .unwrap();
        store.close(bob, lock, &[list[0].uid.clone()]).unwrap();
        assert_eq!(store.close(bob, lock, &[]), Err(StoreError::StaleLock));
        let (lock, list) = store.open(bob).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].size, 912);
        store.release(bob, lock);
        let err = store
            .deliver(&[bob.to_string()], &[b'x'; 1500])
            .unwrap_err();
        assert!(matches!(err, StoreError::MailboxFull { .. }), "{err}");
        store.reset(bob).unwrap();
        assert_eq!(store.messages(bob).len(), 2);
        assert_eq!(
            store.reset("nobody@x"),
            Err(StoreError::NoSuchMailbox("nobody@x".into()))
        );
    }
}
