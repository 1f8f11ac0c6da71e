//! The IMAP side of [`MemoryStore`]: INBOX is the mailbox SMTP delivers
//! into and POP3 reads, the other folders live beside it, each with its
//! own UIDs, flags and arrival times. Like the Maildir store, IMAP takes
//! no POP3 lock but does not expunge from an INBOX a POP3 session holds.

use std::collections::BTreeMap;

use crate::imap::store::{Flags, INBOX, ImapMessage, ImapStore, MailboxSnapshot, UidMap};
use crate::mail::store::{MailStore, MemoryFolder, MemoryMailbox, MemoryStore, StoreError};

fn mailbox_mut<'a>(
    boxes: &'a mut BTreeMap<String, MemoryMailbox>,
    mailbox: &str,
) -> Result<&'a mut MemoryMailbox, StoreError> {
    boxes
        .get_mut(mailbox)
        .ok_or_else(|| StoreError::NoSuchMailbox(mailbox.into()))
}

fn folder_mut<'a>(
    b: &'a mut MemoryMailbox,
    folder: &str,
) -> Result<&'a mut MemoryFolder, StoreError> {
    if folder == INBOX {
        return Ok(&mut b.inbox);
    }
    b.folders
        .get_mut(folder)
        .ok_or_else(|| StoreError::NoSuchFolder(folder.into()))
}

impl MemoryFolder {
    fn snapshot(&mut self) -> MailboxSnapshot {
        let keys: Vec<String> = self.messages.iter().map(|(k, _)| k.clone()).collect();
        self.uids.sync(&keys);
        self.flags.retain(|k, _| self.uids.uids.contains_key(k));
        self.dates.retain(|k, _| self.uids.uids.contains_key(k));
        let messages = self
            .messages
            .iter()
            .map(|(key, m)| ImapMessage {
                key: key.clone(),
                uid: self.uids.uids[key],
                size: m.len() as u64,
                flags: self.flags.get(key).copied().unwrap_or_default(),
                internal_date: self.dates.get(key).copied().unwrap_or_default(),
            })
            .collect();
        MailboxSnapshot {
            uid_validity: self.uids.uid_validity,
            uid_next: self.uids.uid_next,
            messages,
        }
    }

    /// Adds a message and gives it its UID at once.
    fn add(&mut self, key: String, message: Vec<u8>, flags: Flags, date: i64) -> u32 {
        self.flags.insert(key.clone(), flags);
        self.dates.insert(key.clone(), date);
        self.messages.push((key, message));
        self.snapshot();
        self.uids.uid_next.saturating_sub(1)
    }
}

impl ImapStore for MemoryStore {
    fn imap_login(&self, user: &str, password: &str) -> Result<String, StoreError> {
        self.login(user, password)
    }

    fn folders(&self, mailbox: &str) -> Result<Vec<String>, StoreError> {
        let mut inner = self.lock();
        Ok(mailbox_mut(&mut inner.boxes, mailbox)?
            .folders
            .keys()
            .cloned()
            .collect())
    }

    fn create_folder(&self, mailbox: &str, folder: &str) -> Result<(), StoreError> {
        let mut inner = self.lock();
        // A folder made again after a DELETE must not reuse its UIDs.
        let validity = inner.next_uid as u32;
        inner.next_uid += 1;
        let b = mailbox_mut(&mut inner.boxes, mailbox)?;
        if folder == INBOX || b.folders.contains_key(folder) {
            return Err(StoreError::FolderExists(folder.into()));
        }
        let fresh = MemoryFolder {
            uids: UidMap::new(validity),
            ..MemoryFolder::default()
        };
        b.folders.insert(folder.into(), fresh);
        Ok(())
    }

    fn delete_folder(&self, mailbox: &str, folder: &str) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let b = mailbox_mut(&mut inner.boxes, mailbox)?;
        b.folders
            .remove(folder)
            .ok_or_else(|| StoreError::NoSuchFolder(folder.into()))?;
        inner.quota.removed(mailbox);
        Ok(())
    }

    fn rename_folder(&self, mailbox: &str, from: &str, to: &str) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let b = mailbox_mut(&mut inner.boxes, mailbox)?;
        if to == INBOX || b.folders.contains_key(to) {
            return Err(StoreError::FolderExists(to.into()));
        }
        let folder = b
            .folders
            .remove(from)
            .ok_or_else(|| StoreError::NoSuchFolder(from.into()))?;
        b.folders.insert(to.into(), folder);
        Ok(())
    }

    fn subscriptions(&self, mailbox: &str) -> Result<Vec<String>, StoreError> {
        let mut inner = self.lock();
        Ok(mailbox_mut(&mut inner.boxes, mailbox)?
            .subscriptions
            .clone())
    }

    fn set_subscriptions(&self, mailbox: &str, names: &[String]) -> Result<(), StoreError> {
        let mut inner = self.lock();
        mailbox_mut(&mut inner.boxes, mailbox)?.subscriptions = names.to_vec();
        Ok(())
    }

    fn snapshot(&self, mailbox: &str, folder: &str) -> Result<MailboxSnapshot, StoreError> {
        let mut inner = self.lock();
        let b = mailbox_mut(&mut inner.boxes, mailbox)?;
        Ok(folder_mut(b, folder)?.snapshot())
    }

    fn read_message(&self, mailbox: &str, folder: &str, key: &str) -> Result<Vec<u8>, StoreError> {
        let mut inner = self.lock();
        let f = folder_mut(mailbox_mut(&mut inner.boxes, mailbox)?, folder)?;
        f.messages
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, m)| m.clone())
            .ok_or_else(|| StoreError::NoSuchMessage(key.into()))
    }

    fn set_flags(
        &self,
        mailbox: &str,
        folder: &str,
        key: &str,
        flags: Flags,
    ) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let f = folder_mut(mailbox_mut(&mut inner.boxes, mailbox)?, folder)?;
        if !f.messages.iter().any(|(k, _)| k == key) {
            return Err(StoreError::NoSuchMessage(key.into()));
        }
        f.flags.insert(key.to_string(), flags);
        Ok(())
    }

    fn expunge(&self, mailbox: &str, folder: &str, keys: &[String]) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let locked = inner.locks.is_locked(mailbox);
        let b = mailbox_mut(&mut inner.boxes, mailbox)?;
        if folder == INBOX && locked {
            return Err(StoreError::Locked);
        }
        let f = folder_mut(b, folder)?;
        let doomed: std::collections::BTreeSet<&String> = keys.iter().collect();
        f.messages.retain(|(k, _)| !doomed.contains(k));
        inner.quota.removed(mailbox);
        Ok(())
    }

    fn append(
        &self,
        mailbox: &str,
        folder: &str,
        message: &[u8],
        flags: Flags,
        date: Option<i64>,
    ) -> Result<(u32, u32), StoreError> {
        let mut inner = self.lock();
        let key = format!("m{}", inner.next_uid);
        inner.next_uid += 1;
        let inner = &mut *inner;
        let b = mailbox_mut(&mut inner.boxes, mailbox)?;
        let incoming = message.len() as u64;
        inner
            .quota
            .check_room(mailbox, incoming, || b.used_bytes())?;
        let f = folder_mut(b, folder)?;
        let uid = f.add(key, message.to_vec(), flags, date.unwrap_or_default());
        let validity = f.uids.uid_validity;
        inner.quota.added(&[mailbox.to_string()], incoming);
        Ok((validity, uid))
    }

    fn copy(
        &self,
        mailbox: &str,
        from: &str,
        keys: &[String],
        to: &str,
        remove: bool,
    ) -> Result<(u32, Vec<u32>), StoreError> {
        let mut inner = self.lock();
        let first_key = inner.next_uid;
        inner.next_uid += keys.len() as u64;
        let inner = &mut *inner;
        let locked = inner.locks.is_locked(mailbox);
        let b = mailbox_mut(&mut inner.boxes, mailbox)?;
        if remove && from == INBOX && locked {
            return Err(StoreError::Locked);
        }
        // Checked before the source changes: a MOVE to nowhere loses nothing.
        folder_mut(b, to)?;
        let source = folder_mut(b, from)?;
        let mut picked = Vec::with_capacity(keys.len());
        for key in keys {
            let (_, bytes) = source
                .messages
                .iter()
                .find(|(k, _)| k == key)
                .ok_or_else(|| StoreError::NoSuchMessage(key.clone()))?;
            let flags = source.flags.get(key).copied().unwrap_or_default();
            let date = source.dates.get(key).copied().unwrap_or_default();
            picked.push((bytes.clone(), flags, date));
        }
        if remove {
            source.messages.retain(|(k, _)| !keys.contains(k));
        } else {
            let incoming = picked.iter().map(|p| p.0.len() as u64).sum();
            inner
                .quota
                .check_room(mailbox, incoming, || b.used_bytes())?;
            inner.quota.added(&[mailbox.to_string()], incoming);
        }
        let target = folder_mut(b, to)?;
        let uids = picked
            .into_iter()
            .enumerate()
            .map(|(i, (bytes, flags, date))| {
                target.add(format!("m{}", first_key + i as u64), bytes, flags, date)
            })
            .collect();
        Ok((target.uids.uid_validity, uids))
    }
}
