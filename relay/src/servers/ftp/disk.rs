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
//! The caller creates the tree with [`DiskTree::open`], which fills a new
//! root with the demo files. Calls block on the file system; the files are a
//! lab's (small), so the driver calls them from its task directly.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::UNIX_EPOCH;
use wirelab_shared::ftp::fs::{DirEntry, FileKind, FileTree, FsError, Metadata, demo_files};
use wirelab_shared::ftp::path::VirtualPath;

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

impl DiskTree {
    /// Opens (and on first use creates and fills with the demo files) the
    /// sandbox at `root`.
    pub fn open(root: &Path, quota: Option<u64>) -> std::io::Result<DiskTree> {
        if !root.exists() {
            std::fs::create_dir_all(root)?;
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
        }
        Ok(DiskTree {
            root: Arc::new(root.canonicalize()?),
            quota,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
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
            if depth > 64 {
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
        let mut options = std::fs::OpenOptions::new();
        options.create(true);
        if append {
            options.append(true);
        } else {
            options.write(true).truncate(true);
        }
        use std::io::Write;
        let mut f = options.open(&file).map_err(io_error)?;
        f.write_all(bytes).map_err(io_error)
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
}
