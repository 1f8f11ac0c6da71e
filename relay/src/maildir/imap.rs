//! The IMAP side of the Maildir store ([`ImapStore`]): flags live in the
//! Maildir info of each file name in `cur/` (`...,S=498:2,FS`, RFC-less
//! but the convention every Maildir program shares), and UIDVALIDITY,
//! UIDNEXT and each message's UID in `wirelab-imap-uids` in the mailbox's
//! folder, replaced atomically (written to `tmp/`, fsync'd, renamed, the
//! folder fsync'd) whenever a message gets a UID or one is gone.
//!
//! A message's key is its POP3 unique id, the file name before `,S=`,
//! which flag changes and POP3's move from `new/` to `cur/` keep. IMAP
//! takes no POP3 lock: it reads and flags while a POP3 session is open,
//! but does not expunge then (the POP3 session's numbering would shift
//! under it), and a message POP3 deleted is gone for IMAP too.

use super::{MaildirStore, io};
use crate::durable::sync_dir;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{SystemTime, UNIX_EPOCH};
use wirelab_shared::imap::store::{Flags, ImapMessage, ImapStore, MailboxSnapshot, UidMap};
use wirelab_shared::mail::store::{MailStore, StoreError};

/// The file holding a mailbox's UIDs.
pub const UID_FILE: &str = "wirelab-imap-uids";

/// Larger than any UID file of a mailbox within the quota could be: a
/// bigger one is not ours and is not read.
const MAX_UID_FILE: u64 = 64 * 1024 * 1024;

/// The info part of a Maildir file name (after `:2,`).
fn info_of(path: &Path) -> &str {
    path.file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.split_once(":2,"))
        .map_or("", |(_, info)| info)
}

/// The arrival time a Maildir name starts with (seconds since 1970).
fn arrival(key: &str) -> i64 {
    key.split('.')
        .next()
        .and_then(|t| t.parse().ok())
        .unwrap_or(0)
}

impl MaildirStore {
    fn imap_guard(&self) -> std::sync::MutexGuard<'_, ()> {
        self.imap.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn check_mailbox(&self, mailbox: &str) -> Result<(), StoreError> {
        match self.accounts.get(mailbox) {
            Some(_) => Ok(()),
            None => Err(StoreError::NoSuchMailbox(mailbox.into())),
        }
    }

    /// The stored UIDs, or a fresh map with a new UIDVALIDITY when there
    /// are none (a new or reset mailbox) or the file is unreadable.
    fn read_uids(&self, mailbox: &str) -> UidMap {
        let path = self.dir(mailbox).join(UID_FILE);
        let small = fs::metadata(&path).is_ok_and(|m| m.len() <= MAX_UID_FILE);
        let stored = small
            .then(|| fs::read_to_string(&path).ok())
            .flatten()
            .and_then(|text| UidMap::parse(&text));
        stored.unwrap_or_else(|| {
            // The time makes a reset mailbox's UIDVALIDITY differ from the
            // old one's, so clients drop the UIDs they cached.
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(1, |d| d.as_secs() as u32);
            UidMap::new(now)
        })
    }

    /// Replaces the UID file atomically and durably.
    fn write_uids(&self, mailbox: &str, map: &UidMap) -> std::io::Result<()> {
        let dir = self.dir(mailbox);
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join("tmp").join(format!("{UID_FILE}.{n}"));
        let written = File::create(&tmp).and_then(|mut file| {
            file.write_all(map.to_text().as_bytes())?;
            file.sync_all()
        });
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        fs::rename(&tmp, dir.join(UID_FILE))?;
        sync_dir(&dir)
    }

    /// The file of the message `key`, in `new/` or `cur/`.
    fn find_file(&self, mailbox: &str, key: &str) -> Result<PathBuf, StoreError> {
        self.files(mailbox, &["new", "cur"])
            .map_err(io)?
            .into_iter()
            .find(|(_, k, _)| k == key)
            .map(|(path, _, _)| path)
            .ok_or_else(|| StoreError::NoSuchMessage(key.into()))
    }

    /// Renames the message `key` into `cur/` with `flags` as its info,
    /// keeping letters of other programs' keywords.
    fn rename_with_flags(&self, mailbox: &str, key: &str, flags: Flags) -> std::io::Result<()> {
        let Ok(path) = self.find_file(mailbox, key) else {
            return Err(std::io::ErrorKind::NotFound.into());
        };
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let base = name.split(':').next().unwrap_or(name);
        let mut info: Vec<char> = info_of(&path)
            .chars()
            .filter(|c| !"DFRST".contains(*c))
            .chain(flags.maildir_info().chars())
            .collect();
        info.sort_unstable();
        info.dedup();
        let info: String = info.into_iter().collect();
        let target = self
            .dir(mailbox)
            .join("cur")
            .join(format!("{base}:2,{info}"));
        if target == path {
            return Ok(());
        }
        fs::rename(&path, &target)?;
        if let Some(from) = path.parent() {
            sync_dir(from)?;
        }
        sync_dir(&self.dir(mailbox).join("cur"))
    }
}

impl ImapStore for MaildirStore {
    fn imap_login(&self, user: &str, password: &str) -> Result<String, StoreError> {
        self.login(user, password)
    }

    fn snapshot(&self, mailbox: &str) -> Result<MailboxSnapshot, StoreError> {
        self.check_mailbox(mailbox)?;
        let _guard = self.imap_guard();
        let files = self.files(mailbox, &["new", "cur"]).map_err(io)?;
        let mut map = self.read_uids(mailbox);
        let keys: Vec<String> = files.iter().map(|f| f.1.clone()).collect();
        if map.sync(&keys) {
            self.write_uids(mailbox, &map).map_err(io)?;
        }
        let mut messages: Vec<ImapMessage> = files
            .into_iter()
            .filter_map(|(path, key, size)| {
                Some(ImapMessage {
                    uid: *map.uids.get(&key)?,
                    size,
                    flags: Flags::from_maildir_info(info_of(&path)),
                    internal_date: arrival(&key),
                    key,
                })
            })
            .collect();
        messages.sort_by_key(|m| m.uid);
        // A key in both new/ and cur/ (a crash between link and unlink)
        // is one message.
        messages.dedup_by_key(|m| m.uid);
        Ok(MailboxSnapshot {
            uid_validity: map.uid_validity,
            uid_next: map.uid_next,
            messages,
        })
    }

    fn read_message(&self, mailbox: &str, key: &str) -> Result<Vec<u8>, StoreError> {
        self.check_mailbox(mailbox)?;
        match fs::read(self.find_file(mailbox, key)?) {
            // Renamed for its flags (or moved to cur/ by POP3) meanwhile.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                fs::read(self.find_file(mailbox, key)?).map_err(io)
            }
            read => read.map_err(io),
        }
    }

    fn set_flags(&self, mailbox: &str, key: &str, flags: Flags) -> Result<(), StoreError> {
        self.check_mailbox(mailbox)?;
        let _guard = self.imap_guard();
        match self.rename_with_flags(mailbox, key, flags) {
            // POP3 may have moved the file from new/ to cur/ meanwhile.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => self
                .rename_with_flags(mailbox, key, flags)
                .map_err(|e| match e.kind() {
                    std::io::ErrorKind::NotFound => StoreError::NoSuchMessage(key.into()),
                    _ => io(e),
                }),
            other => other.map_err(io),
        }
    }

    fn expunge(&self, mailbox: &str, keys: &[String]) -> Result<(), StoreError> {
        self.check_mailbox(mailbox)?;
        let _guard = self.imap_guard();
        if self.locks().contains_key(mailbox) {
            return Err(StoreError::Locked);
        }
        let removed = (|| -> std::io::Result<()> {
            for (path, key, _) in self.files(mailbox, &["new", "cur"])? {
                if keys.contains(&key) {
                    fs::remove_file(path)?;
                }
            }
            sync_dir(&self.dir(mailbox).join("cur"))?;
            sync_dir(&self.dir(mailbox).join("new"))
        })();
        self.usage().remove(mailbox);
        removed.map_err(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MailStorage;

    const BOB: &str = "bob@hamburger.edu";

    fn store(dir: &Path) -> MaildirStore {
        MaildirStore::open(dir, &MailStorage::default()).unwrap()
    }

    #[test]
    fn flags_and_uids_outlive_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        let first = s.snapshot(BOB).unwrap();
        let uids: Vec<u32> = first.messages.iter().map(|m| m.uid).collect();
        assert_eq!((uids, first.uid_next), (vec![1, 2], 3));
        let key = first.messages[0].key.clone();
        s.set_flags(BOB, &key, Flags::SEEN.with(Flags::FLAGGED))
            .unwrap();
        let cur = dir.path().join(BOB).join("cur");
        assert!(cur.join(format!("{key},S=498:2,FS")).is_file());
        s.deliver(&[BOB.into()], b"Subject: hi\r\n\r\nhello\r\n")
            .unwrap();
        drop(s);
        let s = store(dir.path());
        let again = s.snapshot(BOB).unwrap();
        assert_eq!(again.uid_validity, first.uid_validity);
        assert_eq!(again.uid_next, 4);
        let flags: Vec<(u32, Flags)> = again.messages.iter().map(|m| (m.uid, m.flags)).collect();
        assert_eq!(
            flags,
            [
                (1, Flags::SEEN.with(Flags::FLAGGED)),
                (2, Flags::default()),
                (3, Flags::default())
            ]
        );
        assert_eq!(s.read_message(BOB, &key).unwrap().len(), 498);
    }

    #[test]
    fn expunge_waits_for_pop3_and_keeps_uids_unused() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        let keys: Vec<String> = s
            .snapshot(BOB)
            .unwrap()
            .messages
            .into_iter()
            .map(|m| m.key)
            .collect();
        let (lock, _) = s.open(BOB).unwrap();
        assert_eq!(s.expunge(BOB, &keys[..1]), Err(StoreError::Locked));
        // Flags may change under POP3: its ids do not.
        s.set_flags(BOB, &keys[1], Flags::SEEN).unwrap();
        assert_eq!(s.read(BOB, lock, &keys[1]).unwrap().len(), 912);
        s.release(BOB, lock);
        s.expunge(BOB, &keys[..1]).unwrap();
        s.deliver(&[BOB.into()], b"Subject: hi\r\n\r\nhello\r\n")
            .unwrap();
        let after = s.snapshot(BOB).unwrap();
        let uids: Vec<u32> = after.messages.iter().map(|m| m.uid).collect();
        assert_eq!(uids, [2, 3], "UID 1 is never given again");
        assert_eq!(
            s.read_message(BOB, &keys[0]),
            Err(StoreError::NoSuchMessage(keys[0].clone()))
        );
        assert_eq!(s.summaries()[0].bytes, 912 + 22);
        s.reset(BOB).unwrap();
        assert!(!dir.path().join(BOB).join(UID_FILE).exists());
    }

    #[test]
    fn a_foreign_uid_file_starts_over() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        fs::write(dir.path().join(BOB).join(UID_FILE), "garbage\n").unwrap();
        let snap = s.snapshot(BOB).unwrap();
        assert_eq!(snap.uid_next, 3);
        assert!(snap.uid_validity > 1);
    }
}
