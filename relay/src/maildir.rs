//! The mail store on disk: one Maildir per mailbox under
//! `<data_dir>/mail/<address>/`, implementing the shared
//! [`MailStore`] trait that the SMTP and POP3 engines use.
//!
//! Delivery writes the message to `tmp/` and fsyncs it, then hands it to
//! the [`GroupCommit`] committer, which renames it into `new/` and fsyncs
//! `new/` (once for every delivery of its batch) before `deliver` returns,
//! so that when the SMTP engine answers 250 the message survives a crash
//! (kill -9, power loss). Opening a mailbox for
//! POP3 moves `new/` into `cur/` (the Maildir "seen by a reader" step),
//! locks the mailbox in this process, fsyncs `cur/` and `new/`, and lists
//! `cur/`; deletions happen only in [`MailStore::close`] (POP3's UPDATE),
//! followed by an fsync of `cur/`. A new mailbox's folder is fsync'd into
//! the data directory before any message is delivered to it. File names follow the Maildir convention
//! (`time.unique.host,S=size[:2,]`); the part before `,S=` is the POP3
//! unique id. The bytes each mailbox holds are counted once from disk and
//! then kept up to date in memory, so the quota check costs no directory
//! scan per message.
//!
//! IMAP's side (flags in file names, UIDs in a file) is in [`imap`].
//!
//! Every call does blocking file I/O: the driver runs the engines on
//! tokio's blocking pool (see [`crate::driver::TcpServerSettings::blocking`]).

use crate::config::MailStorage;
use crate::durable::sync_dir;
use crate::group_commit::{GroupCommit, Staged};
use anyhow::{Context, Result, bail};
use std::collections::HashMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};
use wirelab_shared::mail::address::check_address;
use wirelab_shared::mail::locks::MailboxLocks;
use wirelab_shared::mail::store::{
    Account, Accounts, LockToken, MailStore, MessageInfo, QuotaLedger, RecipientCheck, StoreError,
    course_messages,
};

mod imap;
mod imap_cache;
pub use imap::UID_FILE;

/// Mailboxes in Maildir folders.
/// The shared mailboxes and, in classroom mode, each student's own.
pub type MailHomes = crate::homes::Homes<std::sync::Arc<MaildirStore>>;

#[derive(Debug)]
pub struct MaildirStore {
    root: PathBuf,
    accounts: Accounts,
    /// Which mailboxes a POP3 session of this process holds.
    locks: Mutex<MailboxLocks>,
    counter: AtomicU64,
    commit: GroupCommit,
    /// Bytes per mailbox (the shared [`QuotaLedger`]), counted from disk
    /// on first use and kept up to date since; a mailbox is counted afresh
    /// after POP3 or IMAP removes from it or it is reset. Deliveries in flight while it is counted may be
    /// counted twice or not at all: the quota is that approximate.
    usage: Mutex<QuotaLedger>,
    /// Held while IMAP reads or rewrites a UID file or renames a message
    /// for its flags, so sessions do not hand out one UID twice.
    imap: Mutex<()>,
    /// Where each message of a folder was at the last look, by folder
    /// directory and key: FETCH and STORE of every message would otherwise
    /// scan the folder once per message.
    imap_paths: Mutex<HashMap<PathBuf, HashMap<String, PathBuf>>>,
    /// Folder scans IMAP made to find one message, for the test that
    /// fetching every message does not scan once per message.
    imap_scans: AtomicU64,
    /// The bytes of messages IMAP read lately, by unique name.
    imap_cache: imap_cache::MessageCache,
}

/// One mailbox as the API lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MailboxSummary {
    pub address: String,
    pub messages: usize,
    pub bytes: u64,
    /// Whether a POP3 session holds it now.
    pub locked: bool,
}

fn io(e: std::io::Error) -> StoreError {
    StoreError::Io(e.to_string())
}

/// The unique id and size encoded in a Maildir file name.
fn parse_name(name: &str) -> Option<(String, Option<u64>)> {
    let base = name.split(':').next()?;
    if base.is_empty() || base.starts_with('.') {
        return None;
    }
    let (uid, size) = match base.split_once(",S=") {
        Some((uid, rest)) => (uid, rest.split(',').next().and_then(|s| s.parse().ok())),
        None => (base, None),
    };
    Some((uid.to_string(), size))
}

/// A message file: its path, its unique id (the key), its size.
type MessageFile = (PathBuf, String, u64);

/// Every message file of the Maildir folder `folder` in `subdirs`, in
/// delivery order.
fn files_in(folder: &Path, subdirs: &[&str]) -> std::io::Result<Vec<MessageFile>> {
    let mut out = Vec::new();
    for sub in subdirs {
        let dir = folder.join(sub);
        for entry in fs::read_dir(&dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some((uid, size)) = parse_name(&name) else {
                continue;
            };
            let size = match size {
                Some(s) => s,
                None => entry.metadata()?.len(),
            };
            out.push((entry.path(), uid, size));
        }
    }
    // Delivery order: the time prefix, then the name.
    out.sort_by_key(|(_, uid, _)| {
        let time: u64 = uid
            .split('.')
            .next()
            .and_then(|t| t.parse().ok())
            .unwrap_or(u64::MAX);
        (time, uid.clone())
    });
    Ok(out)
}

impl MaildirStore {
    /// Opens (creating) the store under `root` for the configured
    /// mailboxes, with a committer of its own; a mailbox created now gets
    /// the seed messages if its account asks for them.
    pub fn open(root: &Path, settings: &MailStorage) -> Result<MaildirStore> {
        let commit = GroupCommit::start(settings.max_queued_deliveries)
            .context("cannot start the Maildir committer thread")?;
        Self::open_with(root, settings, commit)
    }

    /// [`MaildirStore::open`] committing through `commit`, which stores can
    /// share (one disk, one committer: bigger batches).
    pub fn open_with(
        root: &Path,
        settings: &MailStorage,
        commit: GroupCommit,
    ) -> Result<MaildirStore> {
        let mut list = Vec::new();
        for m in &settings.mailboxes {
            let address = m.address.to_ascii_lowercase();
            check_address(&address).map_err(|e| {
                anyhow::anyhow!(
                    "servers.mail.mailboxes: {:?} is not a valid address: {e}",
                    m.address
                )
            })?;
            if address.contains(['/', '\\']) || address.starts_with('.') {
                bail!(
                    "servers.mail.mailboxes: {:?} cannot be used as a folder name",
                    m.address
                );
            }
            if list.iter().any(|a: &Account| a.address == address) {
                bail!("servers.mail.mailboxes: {:?} is listed twice", m.address);
            }
            list.push(Account::new(&address, &m.password, m.seed));
        }
        let store = MaildirStore {
            root: root.to_path_buf(),
            accounts: Accounts::new(list),
            locks: Mutex::new(MailboxLocks::default()),
            counter: AtomicU64::new(0),
            commit,
            usage: Mutex::new(QuotaLedger::new(settings.max_mailbox_bytes)),
            imap: Mutex::new(()),
            imap_paths: Mutex::new(HashMap::new()),
            imap_scans: AtomicU64::new(0),
            imap_cache: imap_cache::MessageCache::new(
                settings.imap_cache_messages,
                settings.imap_cache_bytes,
            ),
        };
        for a in &store.accounts.list {
            let dir = store.dir(&a.address);
            if !dir.exists() {
                store
                    .create(&a.address)
                    .with_context(|| format!("cannot create the mailbox {}", dir.display()))?;
            }
        }
        Ok(store)
    }

    fn dir(&self, mailbox: &str) -> PathBuf {
        self.root.join(mailbox)
    }

    fn locks(&self) -> std::sync::MutexGuard<'_, MailboxLocks> {
        self.locks.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn usage(&self) -> std::sync::MutexGuard<'_, QuotaLedger> {
        self.usage.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The bytes `mailbox` holds (new/ and cur/).
    fn used_bytes(&self, mailbox: &str) -> std::io::Result<u64> {
        if let Some(used) = self.usage().used(mailbox) {
            return Ok(used);
        }
        // Counted outside the lock: a scan of a big mailbox holds up no
        // other mailbox's delivery.
        let mut used: u64 = 0;
        // IMAP's folders count too: APPEND and COPY fill the same disk.
        let folders = self.folder_dirs(mailbox)?.into_iter().map(|(_, dir)| dir);
        for dir in std::iter::once(self.dir(mailbox)).chain(folders) {
            used += files_in(&dir, &["new", "cur"])?
                .iter()
                .map(|f| f.2)
                .sum::<u64>();
        }
        self.usage().counted(mailbox, used);
        Ok(used)
    }

    /// Writes `message` to `tmp/` and fsyncs it, for the committer to move
    /// into `new/`. Each delivery syncs its own files, so concurrent ones
    /// sync in parallel while the committer syncs the last batch's folders.
    fn stage(&self, mailbox: &str, message: &[u8]) -> std::io::Result<Staged> {
        let dir = self.dir(mailbox);
        let name = self.unique_name(message.len());
        let tmp = dir.join("tmp").join(&name);
        let written = File::create(&tmp).and_then(|mut file| {
            file.write_all(message)?;
            file.sync_all()
        });
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        Ok(Staged {
            tmp,
            new: dir.join("new").join(name),
        })
    }

    fn create(&self, mailbox: &str) -> std::io::Result<()> {
        let dir = self.dir(mailbox);
        for sub in ["tmp", "new", "cur"] {
            fs::create_dir_all(dir.join(sub))?;
        }
        if self.accounts.get(mailbox).is_some_and(|a| a.seed) {
            for (i, message) in course_messages().iter().enumerate() {
                // Small fixed timestamps sort the seeds before any delivery.
                let name = format!("{}.seed-{}.wirelab,S={}", i + 1, i + 1, message.len());
                self.write_durably(&dir, &name, message)?;
            }
        }
        sync_dir(&dir)?;
        // The mailbox's own entry, or a crash could lose the folder and
        // every message acknowledged into it.
        sync_dir(&self.root)
    }

    /// tmp/name → fsync → new/name → fsync new/.
    fn write_durably(&self, dir: &Path, name: &str, message: &[u8]) -> std::io::Result<()> {
        let tmp = dir.join("tmp").join(name);
        let mut file = File::create(&tmp)?;
        file.write_all(message)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, dir.join("new").join(name))?;
        sync_dir(&dir.join("new"))
    }

    fn unique_name(&self, size: usize) -> String {
        self.unique_name_at(None, size)
    }

    /// A unique name starting with `secs` (the arrival time it records),
    /// or with the time now.
    fn unique_name_at(&self, secs: Option<u64>, size: usize) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        format!(
            "{}.M{}P{}Q{n}.wirelab,S={size}",
            secs.unwrap_or(now.as_secs()),
            now.subsec_micros(),
            std::process::id()
        )
    }

    /// Every message file of a mailbox (new/ and cur/): (path, uid, size).
    fn files(
        &self,
        mailbox: &str,
        subdirs: &[&str],
    ) -> std::io::Result<Vec<(PathBuf, String, u64)>> {
        files_in(&self.dir(mailbox), subdirs)
    }

    /// Empties a mailbox and puts its seed messages back. Refused while a
    /// POP3 session of this process holds it.
    pub fn reset(&self, mailbox: &str) -> Result<(), StoreError> {
        let mailbox = mailbox.to_ascii_lowercase();
        if self.accounts.get(&mailbox).is_none() {
            return Err(StoreError::NoSuchMailbox(mailbox));
        }
        if self.locks().is_locked(&mailbox) {
            return Err(StoreError::Locked);
        }
        let dir = self.dir(&mailbox);
        self.usage().removed(&mailbox);
        self.imap_cache.forget_under(&dir);
        if dir.exists() {
            fs::remove_dir_all(&dir).map_err(io)?;
        }
        let created = self.create(&mailbox).map_err(io);
        // Deliveries during the reset counted themselves into the old figure.
        self.usage().removed(&mailbox);
        created
    }

    /// The configured mailboxes with their contents.
    pub fn summaries(&self) -> Vec<MailboxSummary> {
        self.accounts
            .list
            .iter()
            .map(|a| {
                let files = self.files(&a.address, &["new", "cur"]).unwrap_or_default();
                MailboxSummary {
                    address: a.address.clone(),
                    messages: files.len(),
                    bytes: files.iter().map(|f| f.2).sum(),
                    locked: self.locks().is_locked(&a.address),
                }
            })
            .collect()
    }

    pub fn addresses(&self) -> Vec<String> {
        self.accounts
            .list
            .iter()
            .map(|a| a.address.clone())
            .collect()
    }
}

impl MailStore for MaildirStore {
    fn check_recipient(&self, address: &str) -> RecipientCheck {
        self.accounts.check_recipient(address)
    }

    fn local_domains(&self) -> Vec<String> {
        self.accounts.local_domains()
    }

    fn check_room(&self, mailbox: &str, incoming: u64) -> Result<(), StoreError> {
        let used = self.used_bytes(mailbox).map_err(io)?;
        self.usage().check(used, incoming)
    }

    fn deliver(&self, mailboxes: &[String], message: &[u8]) -> Result<(), StoreError> {
        for m in mailboxes {
            if self.accounts.get(m).is_none() {
                return Err(StoreError::NoSuchMailbox(m.clone()));
            }
            self.check_room(m, message.len() as u64)?;
        }
        let mut staged = Vec::with_capacity(mailboxes.len());
        for m in mailboxes {
            match self.stage(m, message) {
                Ok(file) => staged.push(file),
                Err(e) => {
                    for file in &staged {
                        let _ = fs::remove_file(&file.tmp);
                    }
                    return Err(io(e));
                }
            }
        }
        self.commit.commit(staged).map_err(|e| {
            tracing::debug!("delivery refused: {e}");
            StoreError::Io(e.to_string())
        })?;
        self.usage().added(mailboxes, message.len() as u64);
        Ok(())
    }

    fn login(&self, user: &str, password: &str) -> Result<String, StoreError> {
        self.accounts.login(user, password)
    }

    fn open(&self, mailbox: &str) -> Result<(LockToken, Vec<MessageInfo>), StoreError> {
        if self.accounts.get(mailbox).is_none() {
            return Err(StoreError::NoSuchMailbox(mailbox.into()));
        }
        let token = self.locks().acquire(mailbox)?;
        let listed = (|| -> std::io::Result<Vec<MessageInfo>> {
            let dir = self.dir(mailbox);
            let mut moved = false;
            for entry in fs::read_dir(dir.join("new"))? {
                let entry = entry?;
                let name = entry.file_name().to_string_lossy().into_owned();
                fs::rename(entry.path(), dir.join("cur").join(format!("{name}:2,")))?;
                moved = true;
            }
            if moved {
                // Both ends of the renames: a message is in cur/ and no
                // longer in new/ after a crash, never in both.
                sync_dir(&dir.join("cur"))?;
                sync_dir(&dir.join("new"))?;
            }
            Ok(self
                .files(mailbox, &["cur"])?
                .into_iter()
                .map(|(_, uid, size)| MessageInfo { uid, size })
                .collect())
        })();
        match listed {
            Ok(list) => Ok((token, list)),
            Err(e) => {
                self.locks().release(mailbox, token);
                Err(io(e))
            }
        }
    }

    fn read(&self, mailbox: &str, lock: LockToken, uid: &str) -> Result<Vec<u8>, StoreError> {
        self.locks().check(mailbox, lock)?;
        let file = self
            .files(mailbox, &["cur"])
            .map_err(io)?
            .into_iter()
            .find(|(_, u, _)| u == uid)
            .ok_or_else(|| StoreError::NoSuchMessage(uid.into()))?;
        fs::read(file.0).map_err(io)
    }

    fn close(&self, mailbox: &str, lock: LockToken, delete: &[String]) -> Result<(), StoreError> {
        self.locks().check(mailbox, lock)?;
        let result = (|| -> std::io::Result<()> {
            if delete.is_empty() {
                return Ok(());
            }
            for (path, uid, _) in self.files(mailbox, &["cur"])? {
                if delete.contains(&uid) {
                    fs::remove_file(path)?;
                }
            }
            sync_dir(&self.dir(mailbox).join("cur"))
        })();
        if !delete.is_empty() {
            self.usage().removed(mailbox);
            self.imap_cache.forget(delete);
        }
        self.locks().release(mailbox, lock);
        result.map_err(io)
    }

    fn release(&self, mailbox: &str, lock: LockToken) {
        self.locks().release(mailbox, lock);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(dir: &Path) -> MaildirStore {
        MaildirStore::open(dir, &MailStorage::default()).unwrap()
    }

    #[test]
    fn a_fresh_store_has_the_course_mailbox() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        let bob = dir.path().join("bob@hamburger.edu");
        assert!(bob.join("tmp").is_dir() && bob.join("new").is_dir() && bob.join("cur").is_dir());
        let (lock, list) = s.open("bob@hamburger.edu").unwrap();
        assert_eq!(list.iter().map(|m| m.size).collect::<Vec<_>>(), [498, 912]);
        assert_eq!(list[0].uid, "1.seed-1.wirelab");
        assert_eq!(
            s.read("bob@hamburger.edu", lock, &list[1].uid).unwrap(),
            course_messages()[1]
        );
        // Opening moved the messages from new/ to cur/ with the ":2," suffix.
        assert_eq!(fs::read_dir(bob.join("new")).unwrap().count(), 0);
        assert!(bob.join("cur").join("1.seed-1.wirelab,S=498:2,").is_file());
        assert_eq!(s.open("bob@hamburger.edu"), Err(StoreError::Locked));
        s.release("bob@hamburger.edu", lock);
        // Reopening the store does not seed again.
        drop(s);
        let s = store(dir.path());
        assert_eq!(s.summaries()[0].messages, 2);
    }

    #[test]
    fn delivery_deletion_and_reset() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        let bob = "bob@hamburger.edu".to_string();
        s.deliver(
            &[bob.clone(), "alice@crepes.fr".into()],
            b"Subject: hi\r\n\r\nhello\r\n",
        )
        .unwrap();
        assert!(
            fs::read_dir(dir.path().join("bob@hamburger.edu/tmp"))
                .unwrap()
                .next()
                .is_none(),
            "tmp/ is empty after delivery"
        );
        let (lock, list) = s.open(&bob).unwrap();
        assert_eq!(list.len(), 3);
        assert_eq!(list[2].size, 22);
        s.close(&bob, lock, &[list[0].uid.clone(), list[2].uid.clone()])
            .unwrap();
        let (lock, list) = s.open(&bob).unwrap();
        assert_eq!(list.iter().map(|m| m.size).collect::<Vec<_>>(), [912]);
        assert_eq!(s.reset(&bob), Err(StoreError::Locked));
        s.release(&bob, lock);
        s.reset(&bob).unwrap();
        assert_eq!(
            s.summaries()[0],
            MailboxSummary {
                address: bob.clone(),
                messages: 2,
                bytes: 1410,
                locked: false
            }
        );
        assert_eq!(s.summaries()[1].messages, 1);
        assert!(matches!(
            s.reset("nobody@hamburger.edu"),
            Err(StoreError::NoSuchMailbox(_))
        ));
    }

    #[test]
    fn limits_logins_and_bad_configs() {
        let dir = tempfile::tempdir().unwrap();
        let settings = MailStorage {
            max_mailbox_bytes: 1500,
            ..MailStorage::default()
        };
        let s = MaildirStore::open(dir.path(), &settings).unwrap();
        assert!(matches!(
            s.check_room("bob@hamburger.edu", 100),
            Err(StoreError::MailboxFull { used: 1410, .. })
        ));
        assert!(s.check_room("alice@crepes.fr", 100).is_ok());
        assert_eq!(s.login("bob", "hungry").unwrap(), "bob@hamburger.edu");
        assert_eq!(s.login("bob", "nope"), Err(StoreError::BadPassword));
        let mut bad = MailStorage::default();
        bad.mailboxes[0].address = "../etc@x.org".into();
        assert!(MaildirStore::open(dir.path(), &bad).is_err());
        bad.mailboxes[0].address = "not-an-address".into();
        assert!(MaildirStore::open(dir.path(), &bad).is_err());
        assert!(parse_name(".hidden").is_none());
        assert_eq!(
            parse_name("1.x.h,S=12:2,S"),
            Some(("1.x.h".into(), Some(12)))
        );
    }

    fn smtp_say(s: &mut wirelab_shared::smtp::SmtpServer<&MaildirStore>, input: &str) -> String {
        use wirelab_shared::engine::{Engine, Millis, drain};
        s.handle_input(input.as_bytes(), Millis(0));
        String::from_utf8(drain(s).bytes()).unwrap()
    }

    /// One message to bob through the SMTP engine; the reply to its end.
    fn send_to_bob(store: &MaildirStore) -> String {
        use wirelab_shared::smtp::{SmtpServer, SmtpServerConfig};
        let mut s = SmtpServer::new(SmtpServerConfig::default(), store);
        smtp_say(&mut s, "HELO crepes.fr\r\nMAIL FROM:<alice@crepes.fr>\r\n");
        smtp_say(&mut s, "RCPT TO:<bob@hamburger.edu>\r\nDATA\r\n");
        smtp_say(&mut s, "Subject: queued\r\n\r\nhi\r\n.\r\n")
    }

    #[test]
    fn a_full_commit_queue_answers_451_and_keeps_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (commit, committer) = GroupCommit::new(1);
        let s =
            MaildirStore::open_with(dir.path(), &MailStorage::default(), commit.clone()).unwrap();
        // A delivery already waits for the disk: the queue is full.
        let waiting = {
            let commit = commit.clone();
            std::thread::spawn(move || commit.commit(Vec::new()))
        };
        while commit.stats().queued() < 1 {
            std::thread::yield_now();
        }
        assert_eq!(
            send_to_bob(&s),
            "451 Local error in processing, try again later\r\n"
        );
        let bob = dir.path().join("bob@hamburger.edu");
        assert_eq!(fs::read_dir(bob.join("tmp")).unwrap().count(), 0);
        assert_eq!(fs::read_dir(bob.join("new")).unwrap().count(), 2);
        std::thread::spawn(move || committer.run());
        waiting.join().unwrap().unwrap();
        assert_eq!(send_to_bob(&s), "250 Message accepted for delivery\r\n");
        assert_eq!(fs::read_dir(bob.join("new")).unwrap().count(), 3);
    }

    #[test]
    fn the_quota_follows_deliveries_and_deletions_without_rescanning() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        let bob = "bob@hamburger.edu".to_string();
        assert_eq!(s.used_bytes(&bob).unwrap(), 1410);
        s.deliver(std::slice::from_ref(&bob), b"0123456789")
            .unwrap();
        assert_eq!(s.used_bytes(&bob).unwrap(), 1420);
        // A file added behind the store's back is not seen until a recount.
        fs::write(
            dir.path().join("bob@hamburger.edu/new/9.extra.wirelab,S=5"),
            "extra",
        )
        .unwrap();
        assert_eq!(s.used_bytes(&bob).unwrap(), 1420);
        let (lock, list) = s.open(&bob).unwrap();
        s.close(&bob, lock, &[list[0].uid.clone()]).unwrap();
        assert_eq!(s.used_bytes(&bob).unwrap(), 1420 + 5 - 498);
        s.reset(&bob).unwrap();
        assert_eq!(s.used_bytes(&bob).unwrap(), 1410);
    }
}
