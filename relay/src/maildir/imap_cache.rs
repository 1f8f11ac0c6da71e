//! The bytes of messages IMAP read lately, kept in memory so FETCH of a
//! whole folder does not open, read and close every message file again
//! for each session (in a profile of 100 sessions fetching every
//! ENVELOPE, the file calls were the largest share of the relay's time).
//!
//! A Maildir message never changes once delivered: a flag change renames
//! its file but keeps the unique name (the part before `:2,`), so the
//! bytes cached under that name stay right. Unique names are never given
//! twice (time, microseconds, process id and a counter; only a reset
//! mailbox's seeds get their fixed names again, with the same bytes), so
//! a new message is never answered with a deleted one's bytes; a message
//! that is expunged, moved away, deleted by POP3 or reset is dropped
//! from the cache by the store when it goes. Flags and sizes still come
//! from the file names at each SELECT.
//!
//! Bounded in messages and in bytes, the least recently used out first.

use hashlink::LruCache;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// One cached message: the folder it is in and its bytes.
struct Entry {
    folder: PathBuf,
    bytes: Arc<[u8]>,
}

struct Inner {
    /// By unique name, least recently used first.
    entries: LruCache<String, Entry>,
    bytes: usize,
}

/// Message bytes by unique name, bounded in entries and bytes.
pub(super) struct MessageCache {
    inner: Mutex<Inner>,
    max_entries: usize,
    max_bytes: usize,
}

impl std::fmt::Debug for MessageCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.lock();
        f.debug_struct("MessageCache")
            .field("entries", &inner.entries.len())
            .field("bytes", &inner.bytes)
            .finish()
    }
}

impl MessageCache {
    pub(super) fn new(max_entries: usize, max_bytes: usize) -> MessageCache {
        MessageCache {
            inner: Mutex::new(Inner {
                entries: LruCache::new_unbounded(),
                bytes: 0,
            }),
            max_entries,
            max_bytes,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The bytes of the message `key` of the folder `folder`, if cached.
    pub(super) fn get(&self, folder: &Path, key: &str) -> Option<Arc<[u8]>> {
        let mut inner = self.lock();
        let entry = inner.entries.get(key)?;
        // Another folder's message of that name (a Maildir copied by
        // hand) is not this one.
        (entry.folder == folder).then(|| entry.bytes.clone())
    }

    /// Keeps `bytes` as the message `key` of `folder`, dropping the least
    /// recently used messages to stay within the bounds. A message larger
    /// than a sixteenth of the byte bound is not kept: it would push out
    /// many small ones.
    pub(super) fn put(&self, folder: &Path, key: &str, bytes: &[u8]) {
        if self.max_entries == 0 || bytes.len() > self.max_bytes / 16 {
            return;
        }
        let mut inner = self.lock();
        let entry = Entry {
            folder: folder.to_path_buf(),
            bytes: Arc::from(bytes),
        };
        inner.bytes += bytes.len();
        if let Some(old) = inner.entries.insert(key.to_string(), entry) {
            inner.bytes -= old.bytes.len();
        }
        while inner.entries.len() > self.max_entries || inner.bytes > self.max_bytes {
            let Some((_, old)) = inner.entries.remove_lru() else {
                break;
            };
            inner.bytes -= old.bytes.len();
        }
    }

    /// Forgets the messages `keys`.
    pub(super) fn forget<'a>(&self, keys: impl IntoIterator<Item = &'a String>) {
        let mut inner = self.lock();
        for key in keys {
            if let Some(old) = inner.entries.remove(key.as_str()) {
                inner.bytes -= old.bytes.len();
            }
        }
    }

    /// Forgets every message of the folders under `dir` (a reset mailbox,
    /// a deleted or renamed folder).
    pub(super) fn forget_under(&self, dir: &Path) {
        let mut inner = self.lock();
        let mut freed = 0;
        inner.entries.retain(|_, e| {
            let gone = e.folder.starts_with(dir);
            if gone {
                freed += e.bytes.len();
            }
            !gone
        });
        inner.bytes -= freed;
    }

    /// How many messages and bytes are cached.
    #[cfg(test)]
    pub(super) fn size(&self) -> (usize, usize) {
        let inner = self.lock();
        (inner.entries.len(), inner.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_recently_used_goes_first_within_both_bounds() {
        let cache = MessageCache::new(3, 16 * 100);
        let inbox = Path::new("/m/bob");
        for key in ["a", "b", "c"] {
            cache.put(inbox, key, &[b'x'; 10]);
        }
        assert!(cache.get(inbox, "a").is_some());
        cache.put(inbox, "d", &[b'x'; 10]);
        assert!(cache.get(inbox, "b").is_none(), "b was used least lately");
        assert_eq!(cache.size(), (3, 30));
        for key in ["e", "f", "g", "h", "i", "j", "k", "l", "m", "n"] {
            cache.put(inbox, key, &[b'x'; 100]);
        }
        assert_eq!(cache.size(), (3, 300));
        cache.put(inbox, "big", &[b'x'; 101]);
        assert!(cache.get(inbox, "big").is_none(), "over a sixteenth");
        assert!(cache.get(Path::new("/m/alice"), "n").is_none());
        cache.forget(&["n".to_string()]);
        cache.forget_under(Path::new("/m"));
        assert_eq!(cache.size(), (0, 0));
    }
}
