//! Where the web server keeps the files students PUT into `/upload/`: a
//! trait with an in-memory implementation here (tests, the in-browser
//! server) and a sandboxed directory in the relay.
//!
//! Names are checked here, once, before any store sees them: one path
//! segment of letters, digits, `.`, `_` and `-`, not starting with a dot.
//! Whatever the request path says (`..`, `%2F`, an absolute path), nothing
//! else reaches a store, so no store can be led outside its folder.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// A stored file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    pub bytes: Vec<u8>,
    /// Seconds since the Unix epoch.
    pub modified_unix: i64,
}

/// A store failed (disk full, permissions): the server answers 500.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StoreError(pub String);

/// Flat storage of uploaded files by checked name.
pub trait FileStore: Send + Sync {
    fn get(&self, name: &UploadName) -> Result<Option<StoredFile>, StoreError>;
    /// Stores the file; `Ok(true)` if it is new, `Ok(false)` if it replaced one.
    fn put(&self, name: &UploadName, bytes: &[u8], modified_unix: i64) -> Result<bool, StoreError>;
    /// `Ok(true)` if a file was deleted.
    fn delete(&self, name: &UploadName) -> Result<bool, StoreError>;
    /// Names and sizes, sorted by name.
    fn list(&self) -> Result<Vec<(String, u64)>, StoreError>;
    /// Bytes stored in all, for the quota.
    fn total_bytes(&self) -> Result<u64, StoreError> {
        Ok(self.list()?.iter().map(|(_, n)| n).sum())
    }
}

/// A file name that passed the sandbox rules.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct UploadName(String);

impl UploadName {
    pub const MAX_LEN: usize = 64;

    /// Checks a decoded path segment; the error says why it is refused.
    pub fn new(name: &str) -> Result<UploadName, &'static str> {
        if name.is_empty() {
            return Err("a file name is needed after /upload/");
        }
        if name.len() > Self::MAX_LEN {
            return Err("file names are limited to 64 characters");
        }
        if name.starts_with('.') {
            return Err("file names may not start with a dot (no . or .. or hidden files)");
        }
        if !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        {
            return Err(
                "file names may use only letters, digits, '.', '_' and '-' (no slashes: there are no folders)",
            );
        }
        Ok(UploadName(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Files in memory, for tests and the in-browser server.
#[derive(Debug, Default)]
pub struct MemoryFileStore {
    files: Mutex<BTreeMap<String, StoredFile>>,
}

impl MemoryFileStore {
    pub fn new() -> Self {
        Self::default()
    }
}

impl FileStore for MemoryFileStore {
    fn get(&self, name: &UploadName) -> Result<Option<StoredFile>, StoreError> {
        Ok(self.lock()?.get(name.as_str()).cloned())
    }

    fn put(&self, name: &UploadName, bytes: &[u8], modified_unix: i64) -> Result<bool, StoreError> {
        let previous = self.lock()?.insert(
            name.as_str().to_string(),
            StoredFile {
                bytes: bytes.to_vec(),
                modified_unix,
            },
        );
        Ok(previous.is_none())
    }

    fn delete(&self, name: &UploadName) -> Result<bool, StoreError> {
        Ok(self.lock()?.remove(name.as_str()).is_some())
    }

    fn list(&self) -> Result<Vec<(String, u64)>, StoreError> {
        Ok(self
            .lock()?
            .iter()
            .map(|(n, f)| (n.clone(), f.bytes.len() as u64))
            .collect())
    }
}

impl MemoryFileStore {
    fn lock(&self) -> Result<std::sync::MutexGuard<'_, BTreeMap<String, StoredFile>>, StoreError> {
        self.files
            .lock()
            .map_err(|_| StoreError("the file store is poisoned".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_could_escape_are_refused() {
        for bad in [
            "",
            "..",
            ".",
            ".hidden",
            "a/b",
            "../etc/passwd",
            "/etc/passwd",
            "a\\b",
            "a b",
            "é",
            "a\0",
        ] {
            assert!(UploadName::new(bad).is_err(), "{bad:?}");
        }
        assert!(UploadName::new(&"a".repeat(65)).is_err());
        for good in ["notes.txt", "a-b_c.2", "README"] {
            assert!(UploadName::new(good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn memory_store_round_trip() {
        let store = MemoryFileStore::new();
        let name = UploadName::new("x.txt").unwrap();
        assert!(store.put(&name, b"hello", 5).unwrap());
        assert!(!store.put(&name, b"hello!", 6).unwrap());
        assert_eq!(store.get(&name).unwrap().unwrap().bytes, b"hello!");
        assert_eq!(store.list().unwrap(), vec![("x.txt".to_string(), 6)]);
        assert_eq!(store.total_bytes().unwrap(), 6);
        assert!(store.delete(&name).unwrap());
        assert!(!store.delete(&name).unwrap());
        assert!(store.get(&name).unwrap().is_none());
    }
}
