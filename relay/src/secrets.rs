//! Random ids and keys, secret files, and comparing secrets in constant
//! time. The callers decide how long an id must be; everything here comes
//! from the operating system's random source.

use anyhow::{Context, Result};
use std::io::Write;
use std::path::Path;

/// `bytes` random bytes as lower-case hex.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the operating system has a random source");
    hex(&buf)
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether two secrets are equal, taking the same time wherever they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The secret stored in `path`, or a new random one (`bytes` bytes, as hex)
/// written there readable by its owner only.
pub fn load_or_create(path: &Path, bytes: usize) -> Result<String> {
    if let Ok(text) = std::fs::read_to_string(path) {
        let secret = text.trim().to_string();
        if !secret.is_empty() {
            return Ok(secret);
        }
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let secret = random_hex(bytes);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot write the secret file {}", path.display()))?;
    writeln!(file, "{secret}")?;
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_random_and_secrets_persist() {
        assert_ne!(random_hex(16), random_hex(16));
        assert_eq!(random_hex(16).len(), 32);
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k/secret");
        let first = load_or_create(&path, 32).unwrap();
        assert_eq!(load_or_create(&path, 32).unwrap(), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
