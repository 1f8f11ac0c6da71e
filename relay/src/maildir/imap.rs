//! The IMAP side of the Maildir store ([`ImapStore`]): flags live in the
//! Maildir info of each file name in `cur/` (`...,S=498:2,FS`, RFC-less
//! but the convention every Maildir program shares), and UIDVALIDITY,
//! UIDNEXT and each message's UID in `wirelab-imap-uids` in each folder,
//! replaced atomically (written to `tmp/`, fsync'd, renamed, the folder
//! fsync'd) whenever a message gets a UID or one is gone.
//!
//! INBOX is the mailbox's Maildir; the other folders are Maildir++
//! subfolders inside it (`Archive/2024` is `.Archive.2024/`, with a
//! `maildirfolder` file, as Courier and Dovecot lay them out), and the
//! subscriptions are the lines of `wirelab-imap-subscriptions`. A message
//! appended or copied is written to the folder's `tmp/`, fsync'd and
//! renamed (or hard-linked) into `cur/` with its flags; a MOVE links into
//! the target and then unlinks the source, so a crash between the two
//! leaves the message twice, never nowhere. The quota counts every folder.
//!
//! A message's key is its POP3 unique id, the file name before `,S=`,
//! which flag changes and POP3's move from `new/` to `cur/` keep. IMAP
//! takes no POP3 lock: it reads and flags while a POP3 session is open,
//! but does not expunge then (the POP3 session's numbering would shift
//! under it), and a message POP3 deleted is gone for IMAP too.

use super::{MaildirStore, MessageFile, files_in, io};
use crate::durable::sync_dir;
use std::borrow::Cow;
use std::collections::HashMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{SystemTime, UNIX_EPOCH};
use wirelab_shared::imap::store::{Flags, INBOX, ImapMessage, ImapStore, MailboxSnapshot, UidMap};
use wirelab_shared::mail::store::{MailStore, StoreError};

/// The file holding a folder's UIDs.
pub const UID_FILE: &str = "wirelab-imap-uids";

/// The file holding a mailbox's subscriptions, one name a line.
const SUBSCRIPTIONS_FILE: &str = "wirelab-imap-subscriptions";

/// Larger than the subscriptions of any mailbox within the folder limit.
const MAX_SUBSCRIPTIONS_FILE: u64 = 1024 * 1024;

/// Larger than any UID file of a mailbox within the quota could be: a
/// bigger one is not ours and is not read.
const MAX_UID_FILE: u64 = 64 * 1024 * 1024;

/// What [`MaildirStore::place`] puts into a folder.
enum Content<'a> {
    Bytes(&'a [u8]),
    /// Another folder's message file.
    File(&'a Path),
}

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

    /// Where a folder would be: INBOX is the mailbox's Maildir, the others
    /// Maildir++ subfolders (`.Archive.2024`).
    fn folder_path(&self, mailbox: &str, folder: &str) -> PathBuf {
        if folder == INBOX {
            return self.dir(mailbox);
        }
        self.dir(mailbox)
            .join(format!(".{}", folder.replace('/', ".")))
    }

    /// The folder's directory, if the mailbox and the folder exist.
    fn folder_dir(&self, mailbox: &str, folder: &str) -> Result<PathBuf, StoreError> {
        self.check_mailbox(mailbox)?;
        let dir = self.folder_path(mailbox, folder);
        if !dir.join("cur").is_dir() {
            return Err(StoreError::NoSuchFolder(folder.into()));
        }
        Ok(dir)
    }

    /// The IMAP name and directory of every Maildir++ subfolder.
    pub(super) fn folder_dirs(&self, mailbox: &str) -> std::io::Result<Vec<(String, PathBuf)>> {
        let mut out = Vec::new();
        for entry in fs::read_dir(self.dir(mailbox))? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(name) = name.strip_prefix('.') else {
                continue;
            };
            if !name.is_empty() && entry.path().join("cur").is_dir() {
                out.push((name.replace('.', "/"), entry.path()));
            }
        }
        Ok(out)
    }

    /// The stored UIDs, or `None` when there are none (a new or reset
    /// folder) or the file is unreadable.
    fn read_uids(&self, dir: &Path) -> Option<UidMap> {
        let path = dir.join(UID_FILE);
        let small = fs::metadata(&path).is_ok_and(|m| m.len() <= MAX_UID_FILE);
        small
            .then(|| fs::read_to_string(&path).ok())
            .flatten()
            .and_then(|text| UidMap::parse(&text))
    }

    /// A fresh map for a folder without one.
    fn fresh_uids(&self) -> UidMap {
        // The time makes a reset mailbox's UIDVALIDITY differ from the
        // old one's, so clients drop the UIDs they cached; the counter,
        // that of two folders made in one second.
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |d| d.as_secs() as u32);
        let n = self.counter.fetch_add(1, Ordering::Relaxed) as u32;
        UidMap::new(now.wrapping_add(n % 1024))
    }

    /// Replaces a file of `dir` atomically and durably.
    fn replace_file(&self, dir: &Path, name: &str, text: &str) -> std::io::Result<()> {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join("tmp").join(format!("{name}.{n}"));
        let written = File::create(&tmp).and_then(|mut file| {
            file.write_all(text.as_bytes())?;
            file.sync_all()
        });
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        fs::rename(&tmp, dir.join(name))?;
        sync_dir(dir)
    }

    /// The folder's UIDs, brought up to date with its files and stored if
    /// they changed. Called with the IMAP lock held.
    fn synced_uids(&self, dir: &Path) -> Result<(UidMap, Vec<MessageFile>), StoreError> {
        let files = files_in(dir, &["new", "cur"]).map_err(io)?;
        let stored = self.read_uids(dir);
        // A fresh map is stored even with no message to number: its
        // UIDVALIDITY must be the same at the next look.
        let fresh = stored.is_none();
        let mut map = stored.unwrap_or_else(|| self.fresh_uids());
        let keys: Vec<String> = files.iter().map(|f| f.1.clone()).collect();
        if map.sync(&keys) || fresh {
            self.replace_file(dir, UID_FILE, &map.to_text())
                .map_err(io)?;
        }
        Ok((map, files))
    }

    fn paths(&self) -> std::sync::MutexGuard<'_, HashMap<PathBuf, HashMap<String, PathBuf>>> {
        self.imap_paths.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Remembers where the messages of the folder `dir` are now.
    fn remember(&self, dir: &Path, files: &[MessageFile]) {
        let paths = files.iter().map(|(p, k, _)| (k.clone(), p.clone()));
        self.paths().insert(dir.to_path_buf(), paths.collect());
    }

    /// The file of the message `key`, in `new/` or `cur/`: where it was at
    /// the last look if it is still there, else found by a scan.
    fn find_file(&self, dir: &Path, key: &str) -> Result<PathBuf, StoreError> {
        let known = self.paths().get(dir).and_then(|m| m.get(key).cloned());
        if let Some(path) = known.filter(|p| p.exists()) {
            return Ok(path);
        }
        self.imap_scans.fetch_add(1, Ordering::Relaxed);
        let files = files_in(dir, &["new", "cur"]).map_err(io)?;
        self.remember(dir, &files);
        files
            .into_iter()
            .find(|(_, k, _)| k == key)
            .map(|(path, _, _)| path)
            .ok_or_else(|| StoreError::NoSuchMessage(key.into()))
    }

    /// The message `key` read from where the folder's last look found it,
    /// without checking first that the folder and the file are there: a
    /// message is small, so each such stat costs about as much as the
    /// read (in a profile of 100 sessions fetching every message's
    /// ENVELOPE, the two stats were some 15 % of the relay's time). A file
    /// renamed or removed since fails the read, and the caller then takes
    /// the checked way.
    fn read_where_last_seen(&self, mailbox: &str, folder: &str, key: &str) -> Option<Vec<u8>> {
        self.check_mailbox(mailbox).ok()?;
        let dir = self.folder_path(mailbox, folder);
        let path = self.paths().get(&dir)?.get(key)?.clone();
        fs::read(path).ok()
    }

    /// The bytes of the message `key` from its file.
    fn read_from_file(
        &self,
        mailbox: &str,
        folder: &str,
        key: &str,
    ) -> Result<Vec<u8>, StoreError> {
        if let Some(bytes) = self.read_where_last_seen(mailbox, folder, key) {
            return Ok(bytes);
        }
        let dir = self.folder_dir(mailbox, folder)?;
        match fs::read(self.find_file(&dir, key)?) {
            // Renamed for its flags (or moved to cur/ by POP3) meanwhile.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                fs::read(self.find_file(&dir, key)?).map_err(io)
            }
            read => read.map_err(io),
        }
    }

    /// Renames the message `key` into `cur/` with `flags` as its info,
    /// keeping letters of other programs' keywords.
    fn rename_with_flags(&self, dir: &Path, key: &str, flags: Flags) -> std::io::Result<()> {
        let Ok(path) = self.find_file(dir, key) else {
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
        let target = dir.join("cur").join(format!("{base}:2,{info}"));
        if target == path {
            return Ok(());
        }
        fs::rename(&path, &target)?;
        if let Some(folder) = self.paths().get_mut(dir) {
            folder.insert(key.to_string(), target.clone());
        }
        if let Some(from) = path.parent() {
            sync_dir(from)?;
        }
        sync_dir(&dir.join("cur"))
    }

    /// Puts a message into `dir`'s `cur/` as `name` with `flags`: a hard
    /// link to the file of a COPY when the file system allows, else the
    /// bytes written to `tmp/`, fsync'd and renamed.
    fn place(&self, dir: &Path, name: &str, flags: Flags, content: Content) -> std::io::Result<()> {
        let target = dir
            .join("cur")
            .join(format!("{name}:2,{}", flags.maildir_info()));
        let bytes = match content {
            Content::File(source) => {
                if fs::hard_link(source, &target).is_ok() {
                    return Ok(());
                }
                Cow::Owned(fs::read(source)?)
            }
            Content::Bytes(bytes) => Cow::Borrowed(bytes),
        };
        let tmp = dir.join("tmp").join(name);
        let written = File::create(&tmp).and_then(|mut file| {
            file.write_all(&bytes)?;
            file.sync_all()
        });
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        fs::rename(&tmp, target)
    }

    /// The UIDVALIDITY of the folder `dir` and the UIDs of `keys` in it,
    /// given now if new.
    fn uids_of(&self, dir: &Path, keys: &[String]) -> Result<(u32, Vec<u32>), StoreError> {
        let _guard = self.imap_guard();
        let (map, _) = self.synced_uids(dir)?;
        let uids = keys
            .iter()
            .map(|k| map.uids.get(k).copied().unwrap_or_default())
            .collect();
        Ok((map.uid_validity, uids))
    }

    fn read_subscriptions(&self, mailbox: &str) -> std::io::Result<Vec<String>> {
        let path = self.dir(mailbox).join(SUBSCRIPTIONS_FILE);
        match fs::metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Ok(m) if m.len() > MAX_SUBSCRIPTIONS_FILE => return Ok(Vec::new()),
            _ => {}
        }
        let text = fs::read_to_string(path)?;
        Ok(text
            .lines()
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect())
    }
}

impl ImapStore for MaildirStore {
    fn imap_login(&self, user: &str, password: &str) -> Result<String, StoreError> {
        self.login(user, password)
    }

    fn folders(&self, mailbox: &str) -> Result<Vec<String>, StoreError> {
        self.check_mailbox(mailbox)?;
        let dirs = self.folder_dirs(mailbox).map_err(io)?;
        Ok(dirs.into_iter().map(|(name, _)| name).collect())
    }

    fn create_folder(&self, mailbox: &str, folder: &str) -> Result<(), StoreError> {
        self.check_mailbox(mailbox)?;
        let dir = self.folder_path(mailbox, folder);
        if folder == INBOX || dir.exists() {
            return Err(StoreError::FolderExists(folder.into()));
        }
        let made = (|| {
            for sub in ["tmp", "new", "cur"] {
                fs::create_dir_all(dir.join(sub))?;
            }
            File::create(dir.join("maildirfolder"))?;
            sync_dir(&dir)?;
            sync_dir(&self.dir(mailbox))
        })();
        made.map_err(io)
    }

    fn delete_folder(&self, mailbox: &str, folder: &str) -> Result<(), StoreError> {
        let dir = self.folder_dir(mailbox, folder)?;
        if folder == INBOX {
            return Err(StoreError::Io("INBOX cannot be deleted".into()));
        }
        let removed = fs::remove_dir_all(&dir).and_then(|()| sync_dir(&self.dir(mailbox)));
        self.usage().removed(mailbox);
        self.imap_cache.forget_under(&dir);
        removed.map_err(io)
    }

    fn rename_folder(&self, mailbox: &str, from: &str, to: &str) -> Result<(), StoreError> {
        let dir = self.folder_dir(mailbox, from)?;
        let target = self.folder_path(mailbox, to);
        if from == INBOX {
            return Err(StoreError::Io(
                "INBOX is renamed by moving its messages".into(),
            ));
        }
        if to == INBOX || target.exists() {
            return Err(StoreError::FolderExists(to.into()));
        }
        self.imap_cache.forget_under(&dir);
        fs::rename(dir, target)
            .and_then(|()| sync_dir(&self.dir(mailbox)))
            .map_err(io)
    }

    fn subscriptions(&self, mailbox: &str) -> Result<Vec<String>, StoreError> {
        self.check_mailbox(mailbox)?;
        self.read_subscriptions(mailbox).map_err(io)
    }

    fn set_subscriptions(&self, mailbox: &str, names: &[String]) -> Result<(), StoreError> {
        self.check_mailbox(mailbox)?;
        let _guard = self.imap_guard();
        let text: String = names.iter().map(|n| format!("{n}\n")).collect();
        self.replace_file(&self.dir(mailbox), SUBSCRIPTIONS_FILE, &text)
            .map_err(io)
    }

    fn snapshot(&self, mailbox: &str, folder: &str) -> Result<MailboxSnapshot, StoreError> {
        let dir = self.folder_dir(mailbox, folder)?;
        let _guard = self.imap_guard();
        let (map, files) = self.synced_uids(&dir)?;
        self.remember(&dir, &files);
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

    fn read_message(&self, mailbox: &str, folder: &str, key: &str) -> Result<Vec<u8>, StoreError> {
        self.check_mailbox(mailbox)?;
        let dir = self.folder_path(mailbox, folder);
        if let Some(bytes) = self.imap_cache.get(&dir, key) {
            return Ok(bytes.to_vec());
        }
        let bytes = self.read_from_file(mailbox, folder, key)?;
        self.imap_cache.put(&dir, key, &bytes);
        Ok(bytes)
    }

    fn set_flags(
        &self,
        mailbox: &str,
        folder: &str,
        key: &str,
        flags: Flags,
    ) -> Result<(), StoreError> {
        let dir = self.folder_dir(mailbox, folder)?;
        let _guard = self.imap_guard();
        match self.rename_with_flags(&dir, key, flags) {
            // POP3 may have moved the file from new/ to cur/ meanwhile.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => self
                .rename_with_flags(&dir, key, flags)
                .map_err(|e| match e.kind() {
                    std::io::ErrorKind::NotFound => StoreError::NoSuchMessage(key.into()),
                    _ => io(e),
                }),
            other => other.map_err(io),
        }
    }

    fn expunge(&self, mailbox: &str, folder: &str, keys: &[String]) -> Result<(), StoreError> {
        let dir = self.folder_dir(mailbox, folder)?;
        let _guard = self.imap_guard();
        if folder == INBOX && self.locks().is_locked(mailbox) {
            return Err(StoreError::Locked);
        }
        let doomed: std::collections::HashSet<&String> = keys.iter().collect();
        let removed = (|| -> std::io::Result<()> {
            for (path, key, _) in files_in(&dir, &["new", "cur"])? {
                if doomed.contains(&key) {
                    fs::remove_file(path)?;
                }
            }
            sync_dir(&dir.join("cur"))?;
            sync_dir(&dir.join("new"))
        })();
        self.usage().removed(mailbox);
        self.imap_cache.forget(keys);
        removed.map_err(io)
    }

    fn append(
        &self,
        mailbox: &str,
        folder: &str,
        message: &[u8],
        flags: Flags,
        date: Option<i64>,
    ) -> Result<(u32, u32), StoreError> {
        let dir = self.folder_dir(mailbox, folder)?;
        self.check_room(mailbox, message.len() as u64)?;
        let secs = date.map(|d| d.max(0) as u64);
        let name = self.unique_name_at(secs, message.len());
        self.place(&dir, &name, flags, Content::Bytes(message))
            .and_then(|()| sync_dir(&dir.join("cur")))
            .map_err(io)?;
        self.usage()
            .added(&[mailbox.to_string()], message.len() as u64);
        let key = name.split(",S=").next().unwrap_or(&name).to_string();
        let (validity, uids) = self.uids_of(&dir, &[key])?;
        Ok((validity, uids[0]))
    }

    fn copy(
        &self,
        mailbox: &str,
        from: &str,
        keys: &[String],
        to: &str,
        remove: bool,
    ) -> Result<(u32, Vec<u32>), StoreError> {
        let source = self.folder_dir(mailbox, from)?;
        let target = self.folder_dir(mailbox, to)?;
        if remove && from == INBOX && self.locks().is_locked(mailbox) {
            return Err(StoreError::Locked);
        }
        let files = files_in(&source, &["new", "cur"]).map_err(io)?;
        let mut picked = Vec::with_capacity(keys.len());
        for key in keys {
            let file = files.iter().find(|f| &f.1 == key);
            picked.push(file.ok_or_else(|| StoreError::NoSuchMessage(key.clone()))?);
        }
        if !remove {
            self.check_room(mailbox, picked.iter().map(|f| f.2).sum())?;
        }
        let mut new_keys = Vec::with_capacity(picked.len());
        for (path, key, size) in &picked {
            let name = self.unique_name_at(Some(arrival(key).max(0) as u64), *size as usize);
            let flags = Flags::from_maildir_info(info_of(path));
            self.place(&target, &name, flags, Content::File(path))
                .map_err(io)?;
            new_keys.push(name.split(",S=").next().unwrap_or(&name).to_string());
        }
        sync_dir(&target.join("cur")).map_err(io)?;
        if remove {
            self.expunge(mailbox, from, keys)?;
        } else {
            self.usage().removed(mailbox);
        }
        self.uids_of(&target, &new_keys)
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
        let first = s.snapshot(BOB, INBOX).unwrap();
        let uids: Vec<u32> = first.messages.iter().map(|m| m.uid).collect();
        assert_eq!((uids, first.uid_next), (vec![1, 2], 3));
        let key = first.messages[0].key.clone();
        s.set_flags(BOB, INBOX, &key, Flags::SEEN.with(Flags::FLAGGED))
            .unwrap();
        let cur = dir.path().join(BOB).join("cur");
        assert!(cur.join(format!("{key},S=498:2,FS")).is_file());
        s.deliver(&[BOB.into()], b"Subject: hi\r\n\r\nhello\r\n")
            .unwrap();
        drop(s);
        let s = store(dir.path());
        let again = s.snapshot(BOB, INBOX).unwrap();
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
        assert_eq!(s.read_message(BOB, INBOX, &key).unwrap().len(), 498);
    }

    #[test]
    fn expunge_waits_for_pop3_and_keeps_uids_unused() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        let keys: Vec<String> = s
            .snapshot(BOB, INBOX)
            .unwrap()
            .messages
            .into_iter()
            .map(|m| m.key)
            .collect();
        let (lock, _) = s.open(BOB).unwrap();
        assert_eq!(s.expunge(BOB, INBOX, &keys[..1]), Err(StoreError::Locked));
        // Flags may change under POP3: its ids do not.
        s.set_flags(BOB, INBOX, &keys[1], Flags::SEEN).unwrap();
        assert_eq!(s.read(BOB, lock, &keys[1]).unwrap().len(), 912);
        s.release(BOB, lock);
        s.expunge(BOB, INBOX, &keys[..1]).unwrap();
        s.deliver(&[BOB.into()], b"Subject: hi\r\n\r\nhello\r\n")
            .unwrap();
        let after = s.snapshot(BOB, INBOX).unwrap();
        let uids: Vec<u32> = after.messages.iter().map(|m| m.uid).collect();
        assert_eq!(uids, [2, 3], "UID 1 is never given again");
        assert_eq!(
            s.read_message(BOB, INBOX, &keys[0]),
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
        let snap = s.snapshot(BOB, INBOX).unwrap();
        assert_eq!(snap.uid_next, 3);
        assert!(snap.uid_validity > 1);
    }
}

#[cfg(test)]
mod folder_tests {
    use super::*;
    use crate::config::MailStorage;

    const BOB: &str = "bob@hamburger.edu";

    #[test]
    fn folders_are_maildir_plus_plus_with_their_own_uids() {
        let dir = tempfile::tempdir().unwrap();
        let s = MaildirStore::open(dir.path(), &MailStorage::default()).unwrap();
        s.create_folder(BOB, "Archive").unwrap();
        s.create_folder(BOB, "Archive/2024").unwrap();
        assert_eq!(
            s.create_folder(BOB, "Archive"),
            Err(StoreError::FolderExists("Archive".into()))
        );
        let empty = s.snapshot(BOB, "Archive/2024").unwrap().uid_validity;
        assert_eq!(
            s.snapshot(BOB, "Archive/2024").unwrap().uid_validity,
            empty,
            "an empty folder keeps its UIDVALIDITY"
        );
        let home = dir.path().join(BOB);
        assert!(home.join(".Archive.2024/cur").is_dir());
        assert!(home.join(".Archive/maildirfolder").is_file());
        let mut names = s.folders(BOB).unwrap();
        names.sort();
        assert_eq!(names, ["Archive", "Archive/2024"]);
        let uid = s
            .append(
                BOB,
                "Archive",
                b"Subject: a\r\n\r\nx\r\n",
                Flags::SEEN,
                Some(1_000_000),
            )
            .unwrap();
        assert_eq!(uid.1, 1);
        let inbox: Vec<String> = s
            .snapshot(BOB, INBOX)
            .unwrap()
            .messages
            .into_iter()
            .map(|m| m.key)
            .collect();
        s.set_flags(BOB, INBOX, &inbox[0], Flags::FLAGGED).unwrap();
        assert_eq!(
            s.copy(BOB, INBOX, &inbox[..1], "Archive", false).unwrap().1,
            [2]
        );
        assert_eq!(
            s.copy(BOB, INBOX, &inbox[1..], "Archive/2024", true)
                .unwrap()
                .1,
            [1]
        );
        assert_eq!(
            s.snapshot(BOB, INBOX).unwrap().messages.len(),
            1,
            "moved away"
        );
        s.rename_folder(BOB, "Archive/2024", "Old").unwrap();
        drop(s);
        let s = MaildirStore::open(dir.path(), &MailStorage::default()).unwrap();
        let archive = s.snapshot(BOB, "Archive").unwrap();
        let seen: Vec<(u32, Flags, i64)> = archive
            .messages
            .iter()
            .map(|m| (m.uid, m.flags, m.internal_date))
            .collect();
        assert_eq!(seen, [(1, Flags::SEEN, 1_000_000), (2, Flags::FLAGGED, 1)]);
        assert_eq!(archive.uid_next, 3);
        let old = s.snapshot(BOB, "Old").unwrap();
        assert_eq!(old.messages[0].size, 912);
        assert_eq!(
            s.read_message(BOB, "Old", &old.messages[0].key)
                .unwrap()
                .len(),
            912
        );
        s.delete_folder(BOB, "Old").unwrap();
        assert_eq!(
            s.snapshot(BOB, "Old"),
            Err(StoreError::NoSuchFolder("Old".into()))
        );
        s.set_subscriptions(BOB, &["Archive".into(), "Gone".into()])
            .unwrap();
        assert_eq!(s.subscriptions(BOB).unwrap(), ["Archive", "Gone"]);
    }

    #[test]
    fn reading_and_flagging_every_message_scans_the_folder_once() {
        let dir = tempfile::tempdir().unwrap();
        // Without the cache of bytes, which would answer without a file.
        let settings = MailStorage {
            imap_cache_messages: 0,
            ..MailStorage::default()
        };
        let s = MaildirStore::open(dir.path(), &settings).unwrap();
        for i in 0..300 {
            s.append(
                BOB,
                INBOX,
                format!("Subject: {i}\r\n\r\nx\r\n").as_bytes(),
                Flags::default(),
                None,
            )
            .unwrap();
        }
        let snapshot = s.snapshot(BOB, INBOX).unwrap();
        let before = s.imap_scans.load(Ordering::Relaxed);
        for m in &snapshot.messages {
            s.read_message(BOB, INBOX, &m.key).unwrap();
            s.set_flags(BOB, INBOX, &m.key, Flags::SEEN).unwrap();
            s.read_message(BOB, INBOX, &m.key).unwrap();
        }
        assert_eq!(
            s.imap_scans.load(Ordering::Relaxed),
            before,
            "no scan per message"
        );
        // A message moved behind the store's back is found by one scan.
        let key = &snapshot.messages[5].key;
        let path = s.find_file(&dir.path().join(BOB), key).unwrap();
        std::fs::rename(
            &path,
            dir.path().join(BOB).join("new").join(format!("{key},S=20")),
        )
        .unwrap();
        assert!(s.read_message(BOB, INBOX, key).is_ok());
        assert_eq!(s.imap_scans.load(Ordering::Relaxed), before + 1);
    }

    #[test]
    fn a_move_out_of_inbox_waits_for_pop3_but_a_copy_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let s = MaildirStore::open(dir.path(), &MailStorage::default()).unwrap();
        s.create_folder(BOB, "Kept").unwrap();
        let keys: Vec<String> = s
            .snapshot(BOB, INBOX)
            .unwrap()
            .messages
            .into_iter()
            .map(|m| m.key)
            .collect();
        let (lock, _) = s.open(BOB).unwrap();
        assert_eq!(
            s.copy(BOB, INBOX, &keys, "Kept", true),
            Err(StoreError::Locked)
        );
        assert_eq!(s.copy(BOB, INBOX, &keys, "Kept", false).unwrap().1, [1, 2]);
        s.release(BOB, lock);
        assert_eq!(s.copy(BOB, INBOX, &keys, "Kept", true).unwrap().1, [3, 4]);
        assert!(s.snapshot(BOB, INBOX).unwrap().messages.is_empty());
    }

    #[test]
    fn the_quota_counts_every_folder() {
        let dir = tempfile::tempdir().unwrap();
        let settings = MailStorage {
            max_mailbox_bytes: 3000,
            ..MailStorage::default()
        };
        let s = MaildirStore::open(dir.path(), &settings).unwrap();
        s.create_folder(BOB, "Big").unwrap();
        s.append(BOB, "Big", &[b'x'; 1500], Flags::default(), None)
            .unwrap();
        let full = s.deliver(&[BOB.into()], &[b'y'; 200]);
        assert!(
            matches!(full, Err(StoreError::MailboxFull { .. })),
            "{full:?}"
        );
        let keys: Vec<String> = s
            .snapshot(BOB, INBOX)
            .unwrap()
            .messages
            .into_iter()
            .map(|m| m.key)
            .collect();
        let copy = s.copy(BOB, INBOX, &keys, "Big", false);
        assert!(
            matches!(copy, Err(StoreError::MailboxFull { .. })),
            "{copy:?}"
        );
    }
}

#[cfg(test)]
mod cache_tests {
    use super::*;
    use crate::config::MailStorage;

    const BOB: &str = "bob@hamburger.edu";

    fn keys(s: &MaildirStore) -> Vec<String> {
        let snapshot = s.snapshot(BOB, INBOX).unwrap();
        snapshot.messages.into_iter().map(|m| m.key).collect()
    }

    #[test]
    fn cached_messages_follow_flags_expunge_pop3_and_new_mail() {
        let dir = tempfile::tempdir().unwrap();
        let settings = MailStorage {
            imap_cache_messages: 2,
            ..MailStorage::default()
        };
        let s = MaildirStore::open(dir.path(), &settings).unwrap();
        let other = MaildirStore::open(dir.path(), &settings).unwrap();
        let seed = keys(&s);
        let first = s.read_message(BOB, INBOX, &seed[0]).unwrap();
        s.read_message(BOB, INBOX, &seed[1]).unwrap();
        assert_eq!(s.imap_cache.size().0, 2, "the cache is full");
        // Read from memory although the file is gone from where it was.
        other.set_flags(BOB, INBOX, &seed[0], Flags::SEEN).unwrap();
        assert_eq!(s.read_message(BOB, INBOX, &seed[0]).unwrap(), first);
        let flags = s.snapshot(BOB, INBOX).unwrap().messages[0].flags;
        assert_eq!(flags, Flags::SEEN, "another session's flags are seen");
        s.deliver(&[BOB.into()], b"Subject: new\r\n\r\nfresh\r\n")
            .unwrap();
        let new_key = keys(&s)[2].clone();
        assert!(!seed.contains(&new_key), "unique names are never reused");
        let new = s.read_message(BOB, INBOX, &new_key).unwrap();
        assert_eq!(new, b"Subject: new\r\n\r\nfresh\r\n");
        assert_eq!(s.imap_cache.size().0, 2, "bounded");
        s.expunge(BOB, INBOX, std::slice::from_ref(&new_key))
            .unwrap();
        assert_eq!(
            s.read_message(BOB, INBOX, &new_key),
            Err(StoreError::NoSuchMessage(new_key.clone()))
        );
        s.read_message(BOB, INBOX, &seed[1]).unwrap();
        let (lock, _) = s.open(BOB).unwrap();
        s.close(BOB, lock, &seed[1..2]).unwrap();
        assert_eq!(
            s.read_message(BOB, INBOX, &seed[1]),
            Err(StoreError::NoSuchMessage(seed[1].clone())),
            "POP3 deleted it"
        );
        s.read_message(BOB, INBOX, &seed[0]).unwrap();
        s.reset(BOB).unwrap();
        assert_eq!(s.imap_cache.size(), (0, 0), "a reset empties it");
        // The seeds come back under their fixed names, with their bytes.
        let after = keys(&s);
        assert_eq!(after, seed);
        assert_eq!(s.read_message(BOB, INBOX, &after[1]).unwrap().len(), 912);
    }

    #[test]
    fn no_cache_reads_every_time() {
        let dir = tempfile::tempdir().unwrap();
        let settings = MailStorage {
            imap_cache_messages: 0,
            ..MailStorage::default()
        };
        let s = MaildirStore::open(dir.path(), &settings).unwrap();
        let key = keys(&s)[0].clone();
        assert_eq!(s.read_message(BOB, INBOX, &key).unwrap().len(), 498);
        assert_eq!(s.imap_cache.size(), (0, 0));
    }
}
