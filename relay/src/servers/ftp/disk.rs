//! The FTP server's files on disk: a [`FileTree`] over one sandbox directory.
//!
//! Paths arrive as [`VirtualPath`]s, already unable to climb above `/`. This
//! module makes sure the disk agrees: names a platform would split
//! (backslash, drive colon, control bytes) are refused, and every path is
//! resolved through the real file system (`canonicalize`) and must stay under
//! the canonical root, so a symbolic link placed in the sandbox that points
//! outside it is refused (reads, listings and writes alike; a listing hides
//! it). Operations on a name itself (delete, rename, rmdir) act on the link,
//! never on what it points to.
//!
//! A write is durable and all-or-nothing: the bytes go to a temporary file
//! (`.wirelab-part.<random>`) in the same directory, which is fsynced,
//! renamed over the final name, and the directory fsynced; only then does
//! the write return (and the engine answer `226`). A write that fails
//! removes its temporary file; one left by a crash is never listed, its name
//! cannot be used, and [`DiskTree::open`] removes it at the next start.
//!
//! The caller creates the tree with [`DiskTree::open`], which fills a new
//! root with the demo files. Calls block on the file system; the files are a
//! lab's (small), so the driver calls them from its task directly.

use crate::durable::sync_dir;
use std::fs::File;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::UNIX_EPOCH;
use wirelab_shared::ftp::fs::{DirEntry, FileKind, FileTree, FsError, Metadata, demo_files};
use wirelab_shared::ftp::path::VirtualPath;

/// The start of an upload's temporary name; no entry may be called so.
const PART_PREFIX: &str = ".wirelab-part.";

/// Deepest directory level the tree walks (quota, clean-up) descend to.
const MAX_DEPTH: usize = 64;

/// A sandboxed directory as an FTP file tree. Cheap to clone: every session
/// gets its own handle on the same directory.
#[derive(Debug, Clone)]
pub struct DiskTree {
    root: Arc<PathBuf>,
    quota: Option<u64>,
}

/// Where a virtual path lands on disk.
struct Resolved {
    /// The canonical parent joined with the plain name: the entry itself
    /// (a link stays a link).
    entry: PathBuf,
    /// The canonical path, when the entry exists (links followed).
    target: Option<PathBuf>,
}

fn io_error(e: std::io::Error) -> FsError {
    match e.kind() {
        ErrorKind::NotFound => FsError::NotFound,
        ErrorKind::AlreadyExists => FsError::AlreadyExists,
        ErrorKind::PermissionDenied => FsError::PermissionDenied,
        ErrorKind::DirectoryNotEmpty => FsError::NotEmpty,
        ErrorKind::NotADirectory => FsError::NotADirectory,
        ErrorKind::IsADirectory => FsError::IsADirectory,
        _ => FsError::Io(e.to_string()),
    }
}

fn metadata_of(meta: &std::fs::Metadata) -> Metadata {
    Metadata {
        kind: if meta.is_dir() {
            FileKind::Directory
        } else {
            FileKind::File
        },
        size: if meta.is_dir() { 0 } else { meta.len() },
        modified: meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs()),
    }
}

/// Writes the course's demo files under `root`.
fn write_demo_files(root: &Path) -> std::io::Result<()> {
    for (path, bytes) in demo_files() {
        let on_disk = root.join(path.trim_start_matches('/'));
        if path.ends_with('/') {
            std::fs::create_dir_all(&on_disk)?;
        } else {
            if let Some(parent) = on_disk.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&on_disk, bytes)?;
        }
    }
    Ok(())
}

impl DiskTree {
    /// Opens (and on first use creates and fills with the demo files) the
    /// sandbox at `root`.
    pub fn open(root: &Path, quota: Option<u64>) -> std::io::Result<DiskTree> {
        if !root.exists() {
            std::fs::create_dir_all(root)?;
            write_demo_files(root)?;
        }
        let tree = DiskTree {
            root: Arc::new(root.canonicalize()?),
            quota,
        };
        let removed = remove_parts(&tree.root, 0);
        if removed > 0 {
            tracing::info!(
                "removed {removed} unfinished upload(s) from {}",
                tree.root.display()
            );
        }
        Ok(tree)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Empties the tree and puts the demo files back (the instructor's
    /// reset of a student's home). A session using the tree meanwhile sees
    /// its files go, as if someone else had deleted them.
    pub fn reset(&self) -> std::io::Result<()> {
        for entry in std::fs::read_dir(self.root.as_path())? {
            let path = entry?.path();
            // Links are removed, never followed.
            if path.symlink_metadata()?.is_dir() {
                std::fs::remove_dir_all(&path)?;
            } else {
                std::fs::remove_file(&path)?;
            }
        }
        write_demo_files(&self.root)
    }

    fn inside(&self, path: &Path) -> Result<(), FsError> {
        if path.starts_with(self.root.as_path()) {
            Ok(())
        } else {
            Err(FsError::PermissionDenied)
        }
    }

    /// The entry itself: its parent resolved (and inside), its name plain.
    /// Enough for operations on the name (delete, rename, rmdir).
    fn entry(&self, path: &VirtualPath) -> Result<PathBuf, FsError> {
        path.check_portable()
            .map_err(|e| FsError::BadName(e.to_string()))?;
        if path.components().iter().any(|c| is_part(c)) {
            return Err(FsError::BadName(format!(
                "names starting with {PART_PREFIX} are kept for uploads in progress"
            )));
        }
        let Some(name) = path.name() else {
            return Ok(self.root.to_path_buf());
        };
        let mut parent = self.root.to_path_buf();
        for c in &path.components()[..path.components().len() - 1] {
            parent.push(c);
        }
        let parent = parent.canonicalize().map_err(io_error)?;
        self.inside(&parent)?;
        Ok(parent.join(name))
    }

    fn resolve(&self, path: &VirtualPath) -> Result<Resolved, FsError> {
        let entry = self.entry(path)?;
        if path.is_root() {
            return Ok(Resolved {
                target: Some(entry.clone()),
                entry,
            });
        }
        let target = match entry.canonicalize() {
            Ok(target) => {
                self.inside(&target)?;
                Some(target)
            }
            // A dangling link: refuse it rather than write through it.
            Err(_) if entry.symlink_metadata().is_ok() => return Err(FsError::PermissionDenied),
            Err(_) => None,
        };
        Ok(Resolved { entry, target })
    }

    fn existing(&self, path: &VirtualPath) -> Result<PathBuf, FsError> {
        self.resolve(path)?.target.ok_or(FsError::NotFound)
    }

    /// Bytes used by regular files under the root (links not followed).
    pub fn used(&self) -> u64 {
        fn walk(dir: &Path, depth: usize) -> u64 {
            if depth > MAX_DEPTH {
                return 0;
            }
            let Ok(entries) = std::fs::read_dir(dir) else {
                return 0;
            };
            entries
                .flatten()
                .map(|e| match e.file_type() {
                    Ok(t) if t.is_dir() => walk(&e.path(), depth + 1),
                    Ok(t) if t.is_file() => e.metadata().map_or(0, |m| m.len()),
                    _ => 0,
                })
                .sum()
        }
        walk(&self.root, 0)
    }
}

impl FileTree for DiskTree {
    fn stat(&self, path: &VirtualPath) -> Result<Metadata, FsError> {
        let target = self.existing(path)?;
        std::fs::metadata(target)
            .map(|m| metadata_of(&m))
            .map_err(io_error)
    }

    fn list(&self, dir: &VirtualPath) -> Result<Vec<DirEntry>, FsError> {
        let target = self.existing(dir)?;
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&target).map_err(io_error)?.flatten() {
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if is_part(&name) {
                continue;
            }
            // Follow links, and hide those that lead out of the sandbox.
            let Ok(real) = entry.path().canonicalize() else {
                continue;
            };
            if self.inside(&real).is_err() {
                continue;
            }
            if let Ok(meta) = std::fs::metadata(&real) {
                out.push(DirEntry {
                    name,
                    meta: metadata_of(&meta),
                });
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    fn read(&self, path: &VirtualPath) -> Result<Vec<u8>, FsError> {
        let target = self.existing(path)?;
        if target.is_dir() {
            return Err(FsError::IsADirectory);
        }
        std::fs::read(target).map_err(io_error)
    }

    fn write(&mut self, path: &VirtualPath, bytes: &[u8], append: bool) -> Result<(), FsError> {
        if path.is_root() {
            return Err(FsError::IsADirectory);
        }
        let resolved = self.resolve(path)?;
        let file = resolved.target.unwrap_or(resolved.entry);
        let old = match std::fs::metadata(&file) {
            Ok(m) if m.is_dir() => return Err(FsError::IsADirectory),
            Ok(m) => m.len(),
            Err(_) => 0,
        };
        let new_len = if append { old } else { 0 } + bytes.len() as u64;
        if let Some(limit) = self.quota
            && self.used().saturating_sub(old) + new_len > limit
        {
            return Err(FsError::QuotaExceeded { limit });
        }
        let appended_to = (append && old > 0).then_some(file.as_path());
        replace_durably(&file, appended_to, bytes).map_err(io_error)
    }

    fn delete(&mut self, path: &VirtualPath) -> Result<(), FsError> {
        let entry = self.entry(path)?;
        match entry.symlink_metadata() {
            Ok(m) if m.is_dir() => Err(FsError::IsADirectory),
            Ok(_) => std::fs::remove_file(&entry).map_err(io_error),
            Err(e) => Err(io_error(e)),
        }
    }

    fn make_dir(&mut self, path: &VirtualPath) -> Result<(), FsError> {
        let resolved = self.resolve(path)?;
        if resolved.target.is_some() {
            return Err(FsError::AlreadyExists);
        }
        std::fs::create_dir(&resolved.entry).map_err(io_error)
    }

    fn remove_dir(&mut self, path: &VirtualPath) -> Result<(), FsError> {
        if path.is_root() {
            return Err(FsError::PermissionDenied);
        }
        let entry = self.entry(path)?;
        std::fs::remove_dir(&entry).map_err(io_error)
    }

    fn rename(&mut self, from: &VirtualPath, to: &VirtualPath) -> Result<(), FsError> {
        if from.is_root() || to.is_root() || from.contains(to) {
            return Err(FsError::PermissionDenied);
        }
        let from = self.entry(from)?;
        if from.symlink_metadata().is_err() {
            return Err(FsError::NotFound);
        }
        let to = self.entry(to)?;
        if to.symlink_metadata().is_ok() {
            return Err(FsError::AlreadyExists);
        }
        std::fs::rename(&from, &to).map_err(io_error)
    }

    fn space_left(&self) -> Option<u64> {
        self.quota.map(|q| q.saturating_sub(self.used()))
    }
}

fn is_part(name: &str) -> bool {
    name.starts_with(PART_PREFIX)
}

/// A fresh temporary name for an upload (random, so two sessions writing
/// the same file never share one).
fn part_name() -> String {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        bytes = (u64::from(std::process::id()) << 32 ^ n).to_le_bytes();
    }
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{PART_PREFIX}{hex}")
}

/// Makes `file` hold `bytes` (after the current content of `appended_to`)
/// all at once and durably: temporary file, fsync, rename, fsync of the
/// directory. On failure the temporary file is removed and `file` is as it
/// was.
fn replace_durably(file: &Path, appended_to: Option<&Path>, bytes: &[u8]) -> std::io::Result<()> {
    let dir = file.parent().ok_or(ErrorKind::InvalidInput)?;
    let part = dir.join(part_name());
    let written = (|| {
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&part)?;
        if let Some(old) = appended_to {
            std::io::copy(&mut File::open(old)?, &mut out)?;
        }
        out.write_all(bytes)?;
        out.sync_all()?;
        drop(out);
        std::fs::rename(&part, file)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&part);
        return Err(e);
    }
    sync_dir(dir)
}

/// Removes the temporary files of uploads a crash interrupted; returns how
/// many. Links are not followed.
fn remove_parts(dir: &Path, depth: usize) -> usize {
    if depth > MAX_DEPTH {
        return 0;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        match entry.file_type() {
            Ok(t) if t.is_dir() => removed += remove_parts(&entry.path(), depth + 1),
            Ok(t) if t.is_file() && entry.file_name().to_str().is_some_and(is_part) => {
                match std::fs::remove_file(entry.path()) {
                    Ok(()) => removed += 1,
                    Err(e) => tracing::warn!("cannot remove {}: {e}", entry.path().display()),
                }
            }
            _ => {}
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;
    use wirelab_shared::ftp::path::{parse_absolute, resolve};

    fn tree() -> (tempfile::TempDir, DiskTree) {
        let dir = tempfile::tempdir().unwrap();
        let tree = DiskTree::open(&dir.path().join("ftp"), Some(100_000)).unwrap();
        (dir, tree)
    }

    #[test]
    fn demo_files_are_created_once() {
        let (dir, mut tree) = tree();
        let names: Vec<_> = tree
            .list(&VirtualPath::root())
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(names, vec!["README.txt", "pub", "upload"]);
        assert_eq!(
            tree.read(&parse_absolute("/pub/bytes.bin")).unwrap().len(),
            256
        );
        tree.delete(&parse_absolute("/README.txt")).unwrap();
        // Opening again keeps what is there.
        let again = DiskTree::open(&dir.path().join("ftp"), None).unwrap();
        assert_eq!(
            again.stat(&parse_absolute("/README.txt")),
            Err(FsError::NotFound)
        );
    }

    /// Every way of writing a path that tries to leave the sandbox.
    #[test]
    fn path_escape_attempts_stay_inside() {
        let (dir, mut tree) = tree();
        let outside = dir.path().join("secret.txt");
        std::fs::write(&outside, "outside").unwrap();
        std::os::unix::fs::symlink(&outside, dir.path().join("ftp/pub/link-out")).unwrap();
        std::os::unix::fs::symlink(dir.path(), dir.path().join("ftp/pub/dir-out")).unwrap();
        std::os::unix::fs::symlink("hello.txt", dir.path().join("ftp/pub/link-in")).unwrap();
        std::os::unix::fs::symlink("/nonexistent/x", dir.path().join("ftp/upload/dangling"))
            .unwrap();
        let cwd = parse_absolute("/pub");
        let attempts = [
            "../secret.txt",
            "../../secret.txt",
            "/../secret.txt",
            "../../../../../../etc/passwd",
            "....//....//secret.txt",
            "..\\secret.txt",
            "..%2fsecret.txt",
            "%2e%2e/secret.txt",
            "link-out",
            "dir-out/secret.txt",
            "dir-out",
            "/pub/./../../secret.txt",
            "secret.txt\0.png",
            "C:\\secret.txt",
            "/upload/dangling",
        ];
        for attempt in attempts {
            let path = resolve(&cwd, attempt);
            let read = tree.read(&path);
            assert!(
                read.as_deref() != Ok(b"outside".as_slice()),
                "{attempt:?} read the outside file"
            );
            let write = tree.write(&path, b"pwned", false);
            assert!(
                std::fs::read(&outside).unwrap() == b"outside",
                "{attempt:?} wrote outside ({write:?})"
            );
        }
        assert!(!Path::new("/nonexistent/x").exists());
        // Nothing was created next to the sandbox.
        let mut beside: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        beside.sort();
        assert_eq!(beside, vec!["ftp", "secret.txt"]);
        // Links that stay inside work; those that leave are not listed.
        assert_eq!(
            tree.read(&parse_absolute("/pub/link-in")).unwrap(),
            tree.read(&parse_absolute("/pub/hello.txt")).unwrap()
        );
        let names: Vec<_> = tree
            .list(&cwd)
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert!(!names.iter().any(|n| n.contains("out")), "{names:?}");
        // Deleting a link removes the link, not its target.
        tree.delete(&parse_absolute("/pub/link-out")).unwrap();
        assert!(outside.exists());
        assert_eq!(
            tree.stat(&parse_absolute("/pub/dir-out/secret.txt")),
            Err(FsError::PermissionDenied)
        );
    }

    #[test]
    fn writes_and_the_quota() {
        let (_dir, mut tree) = tree();
        let used = tree.used();
        let mut small = DiskTree::open(tree.root(), Some(used + 10)).unwrap();
        small
            .write(&parse_absolute("/upload/a"), b"0123456789", false)
            .unwrap();
        assert_eq!(small.space_left(), Some(0));
        assert!(matches!(
            small.write(&parse_absolute("/upload/b"), b"x", false),
            Err(FsError::QuotaExceeded { .. })
        ));
        tree.make_dir(&parse_absolute("/upload/d")).unwrap();
        assert_eq!(
            tree.make_dir(&parse_absolute("/upload/d")),
            Err(FsError::AlreadyExists)
        );
        tree.rename(&parse_absolute("/upload/a"), &parse_absolute("/upload/d/a"))
            .unwrap();
        assert_eq!(
            tree.remove_dir(&parse_absolute("/upload/d")),
            Err(FsError::NotEmpty)
        );
        tree.delete(&parse_absolute("/upload/d/a")).unwrap();
        tree.remove_dir(&parse_absolute("/upload/d")).unwrap();
        assert_eq!(
            tree.write(&parse_absolute("/nodir/a"), b"x", false),
            Err(FsError::NotFound)
        );
        assert_eq!(
            tree.delete(&parse_absolute("/pub")),
            Err(FsError::IsADirectory)
        );
    }

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn writes_replace_the_file_whole_and_leave_no_temporary_file() {
        let (dir, mut tree) = tree();
        let upload = dir.path().join("ftp/upload");
        let path = parse_absolute("/upload/notes.txt");
        tree.write(&path, b"first version\n", false).unwrap();
        tree.write(&path, b"second\n", false).unwrap();
        assert_eq!(tree.read(&path).unwrap(), b"second\n");
        tree.write(&path, b"appended\n", true).unwrap();
        assert_eq!(tree.read(&path).unwrap(), b"second\nappended\n");
        tree.write(&parse_absolute("/upload/new.txt"), b"x", true)
            .unwrap();
        assert_eq!(names_in(&upload), vec!["new.txt", "notes.txt"]);
    }

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temporary_file() {
        let (dir, _) = tree();
        let upload = dir.path().join("ftp/upload");
        let file = upload.join("kept.txt");
        std::fs::write(&file, b"old").unwrap();
        // Appending from a file that cannot be read fails half-way.
        let missing = upload.join("missing");
        assert!(replace_durably(&file, Some(&missing), b"new").is_err());
        assert_eq!(std::fs::read(&file).unwrap(), b"old");
        assert_eq!(names_in(&upload), vec!["kept.txt"]);
    }

    #[test]
    fn temporary_files_are_hidden_reserved_and_removed_at_start() {
        let (dir, mut tree) = tree();
        let root = dir.path().join("ftp");
        // What kill -9 during a write leaves behind.
        std::fs::write(root.join("upload/.wirelab-part.0011223344556677"), b"half").unwrap();
        std::fs::create_dir(root.join("upload/deep")).unwrap();
        std::fs::write(root.join("upload/deep/.wirelab-part.aa"), b"half").unwrap();
        let listed: Vec<String> = tree
            .list(&parse_absolute("/upload"))
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(listed, vec!["deep"]);
        for attempt in [
            "/upload/.wirelab-part.0011223344556677",
            "/upload/.wirelab-part.x",
        ] {
            let path = parse_absolute(attempt);
            assert!(
                matches!(tree.read(&path), Err(FsError::BadName(_))),
                "{attempt}"
            );
            assert!(
                matches!(tree.write(&path, b"x", false), Err(FsError::BadName(_))),
                "{attempt}"
            );
        }
        DiskTree::open(&root, None).unwrap();
        assert!(names_in(&root.join("upload")) == vec!["deep"]);
        assert!(names_in(&root.join("upload/deep")).is_empty());
    }
}
