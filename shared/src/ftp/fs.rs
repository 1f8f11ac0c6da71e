//! The file tree an FTP server serves: the [`FileTree`] trait, with
//! [`MemoryTree`] here (tests, the page's in-browser server) and a sandboxed
//! directory on disk in the relay.
//!
//! Paths are [`VirtualPath`]s, already normalised so they cannot name
//! anything above the root; an implementation must still make sure its own
//! namespace cannot be left (the disk tree refuses symbolic links that point
//! outside). Writes are checked against a quota: [`FsError::QuotaExceeded`]
//! is what the server turns into `452`.
//!
//! Times are Unix seconds. [`MemoryTree`] has no clock: its owner sets the
//! time new writes get with [`MemoryTree::set_time`].

use crate::ftp::path::{VirtualPath, parse_absolute};
use std::collections::BTreeMap;

/// A file or a directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    File,
    Directory,
}

/// What the tree knows about one entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metadata {
    pub kind: FileKind,
    pub size: u64,
    /// Last modification, in Unix seconds.
    pub modified: u64,
}

impl Metadata {
    pub fn is_dir(&self) -> bool {
        self.kind == FileKind::Directory
    }
}

/// One entry of a directory listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    pub name: String,
    pub meta: Metadata,
}

/// Why a file operation failed. The server maps each to a reply code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FsError {
    #[error("no such file or directory")]
    NotFound,
    #[error("not a directory")]
    NotADirectory,
    #[error("is a directory")]
    IsADirectory,
    #[error("already exists")]
    AlreadyExists,
    #[error("directory not empty")]
    NotEmpty,
    #[error("permission denied")]
    PermissionDenied,
    #[error("quota of {limit} bytes exceeded")]
    QuotaExceeded { limit: u64 },
    #[error("file name not allowed: {0}")]
    BadName(String),
    #[error("{0}")]
    Io(String),
}

/// Storage for an FTP server. Every path is absolute inside the tree.
pub trait FileTree {
    fn stat(&self, path: &VirtualPath) -> Result<Metadata, FsError>;
    /// The entries of a directory, sorted by name.
    fn list(&self, dir: &VirtualPath) -> Result<Vec<DirEntry>, FsError>;
    fn read(&self, path: &VirtualPath) -> Result<Vec<u8>, FsError>;
    /// Creates or replaces (or, with `append`, extends) a file whose parent
    /// directory exists, within the quota.
    fn write(&mut self, path: &VirtualPath, bytes: &[u8], append: bool) -> Result<(), FsError>;
    fn delete(&mut self, path: &VirtualPath) -> Result<(), FsError>;
    fn make_dir(&mut self, path: &VirtualPath) -> Result<(), FsError>;
    /// Removes an empty directory.
    fn remove_dir(&mut self, path: &VirtualPath) -> Result<(), FsError>;
    fn rename(&mut self, from: &VirtualPath, to: &VirtualPath) -> Result<(), FsError>;
    /// Bytes that may still be written, `None` without a quota.
    fn space_left(&self) -> Option<u64>;
}

/// The lab's demo files, the same on disk and in memory: text with several
/// lines (to see ASCII mode at work), a binary file with every byte value and
/// a small PNG whose signature holds CR LF and LF (what an ASCII-mode
/// transfer breaks), and an empty `upload/` directory.
pub fn demo_files() -> Vec<(&'static str, Vec<u8>)> {
    let readme = "Welcome to the wirelab FTP server.\n\
\n\
This is a sandbox: nothing you do here leaves it.\n\
Log in as anonymous (any password) to read, or with the student account\n\
from the lab's configuration to upload, rename and delete as well.\n\
\n\
Files:\n\
  README.txt      this text\n\
  pub/hello.txt   a short text file, good for a first RETR\n\
  pub/notes.txt   a longer text file\n\
  pub/bytes.bin   the 256 byte values 0x00 to 0xFF, in order\n\
  pub/pixel.png   a 1x1 PNG image\n\
  upload/         a place for your STOR\n\
\n\
Try TYPE A then RETR pub/bytes.bin, and TYPE I then the same: count the bytes.\n";
    let hello = "Hello from the wirelab FTP server!\nThis file came over a data connection.\n";
    let notes = "FTP in five lines:\n\
1. The client opens the control connection to port 21 and logs in.\n\
2. Commands and replies travel on it as lines of text.\n\
3. Every file and every listing travels on a new data connection.\n\
4. PASV: the server listens and the client connects; PORT: the other way round.\n\
5. The server remembers who you are and where you are until QUIT.\n";
    vec![
        ("/README.txt", readme.as_bytes().to_vec()),
        ("/pub/hello.txt", hello.as_bytes().to_vec()),
        ("/pub/notes.txt", notes.as_bytes().to_vec()),
        ("/pub/bytes.bin", (0..=255u8).collect()),
        ("/pub/pixel.png", PIXEL_PNG.to_vec()),
        ("/upload/", Vec::new()),
    ]
}

/// A valid 1x1 PNG (one opaque teal pixel), 69 bytes.
pub const PIXEL_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53,
    0xde, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x60, 0x68, 0x68, 0x00,
    0x00, 0x01, 0x84, 0x01, 0x01, 0x68, 0x72, 0xf3, 0x8f, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e,
    0x44, 0xae, 0x42, 0x60, 0x82,
];

#[derive(Debug, Clone)]
enum Node {
    Dir { modified: u64 },
    File { bytes: Vec<u8>, modified: u64 },
}

/// A file tree in memory, with an optional quota on the total size of files.
#[derive(Debug, Clone)]
pub struct MemoryTree {
    nodes: BTreeMap<VirtualPath, Node>,
    quota: Option<u64>,
    now: u64,
}

impl Default for MemoryTree {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryTree {
    /// An empty tree (only the root), without a quota, at time 0.
    pub fn new() -> Self {
        let mut nodes = BTreeMap::new();
        nodes.insert(VirtualPath::root(), Node::Dir { modified: 0 });
        MemoryTree {
            nodes,
            quota: None,
            now: 0,
        }
    }

    /// A tree holding [`demo_files`], stamped `now`.
    pub fn demo(now: u64) -> Self {
        let mut tree = MemoryTree::new();
        tree.set_time(now);
        for (path, bytes) in demo_files() {
            let vpath = parse_absolute(path);
            tree.create_parents(&vpath);
            if path.ends_with('/') {
                tree.nodes.insert(vpath, Node::Dir { modified: now });
            } else {
                tree.nodes.insert(
                    vpath,
                    Node::File {
                        bytes,
                        modified: now,
                    },
                );
            }
        }
        tree
    }

    fn create_parents(&mut self, path: &VirtualPath) {
        let mut parent = path.parent();
        let now = self.now;
        while !parent.is_root() {
            self.nodes
                .entry(parent.clone())
                .or_insert(Node::Dir { modified: now });
            parent = parent.parent();
        }
    }

    pub fn with_quota(mut self, quota: Option<u64>) -> Self {
        self.quota = quota;
        self
    }

    /// The time (Unix seconds) that writes from now on record.
    pub fn set_time(&mut self, now: u64) {
        self.now = now;
    }

    /// Total bytes of all files.
    pub fn used(&self) -> u64 {
        self.nodes
            .values()
            .map(|n| match n {
                Node::File { bytes, .. } => bytes.len() as u64,
                Node::Dir { .. } => 0,
            })
            .sum()
    }

    fn meta(node: &Node) -> Metadata {
        match node {
            Node::Dir { modified } => Metadata {
                kind: FileKind::Directory,
                size: 0,
                modified: *modified,
            },
            Node::File { bytes, modified } => Metadata {
                kind: FileKind::File,
                size: bytes.len() as u64,
                modified: *modified,
            },
        }
    }

    fn require_dir(&self, path: &VirtualPath) -> Result<(), FsError> {
        match self.nodes.get(path) {
            Some(Node::Dir { .. }) => Ok(()),
            Some(Node::File { .. }) => Err(FsError::NotADirectory),
            None => Err(FsError::NotFound),
        }
    }

    fn children<'a>(
        &'a self,
        dir: &'a VirtualPath,
    ) -> impl Iterator<Item = (&'a VirtualPath, &'a Node)> {
        let depth = dir.components().len() + 1;
        self.nodes
            .range(dir.clone()..)
            .skip(1)
            .take_while(move |(p, _)| dir.contains(p))
            .filter(move |(p, _)| p.components().len() == depth)
    }
}

impl FileTree for MemoryTree {
    fn stat(&self, path: &VirtualPath) -> Result<Metadata, FsError> {
        self.nodes
            .get(path)
            .map(Self::meta)
            .ok_or(FsError::NotFound)
    }

    fn list(&self, dir: &VirtualPath) -> Result<Vec<DirEntry>, FsError> {
        self.require_dir(dir)?;
        Ok(self
            .children(dir)
            .map(|(p, n)| DirEntry {
                name: p.name().unwrap_or_default().to_string(),
                meta: Self::meta(n),
            })
            .collect())
    }

    fn read(&self, path: &VirtualPath) -> Result<Vec<u8>, FsError> {
        match self.nodes.get(path) {
            Some(Node::File { bytes, .. }) => Ok(bytes.clone()),
            Some(Node::Dir { .. }) => Err(FsError::IsADirectory),
            None => Err(FsError::NotFound),
        }
    }

    fn write(&mut self, path: &VirtualPath, bytes: &[u8], append: bool) -> Result<(), FsError> {
        if path.is_root() {
            return Err(FsError::IsADirectory);
        }
        self.require_dir(&path.parent())?;
        let old = match self.nodes.get(path) {
            Some(Node::Dir { .. }) => return Err(FsError::IsADirectory),
            Some(Node::File { bytes, .. }) => bytes.clone(),
            None => Vec::new(),
        };
        let new_len = if append {
            old.len() + bytes.len()
        } else {
            bytes.len()
        } as u64;
        if let Some(limit) = self.quota
            && self.used() - old.len() as u64 + new_len > limit
        {
            return Err(FsError::QuotaExceeded { limit });
        }
        let mut content = if append { old } else { Vec::new() };
        content.extend_from_slice(bytes);
        self.nodes.insert(
            path.clone(),
            Node::File {
                bytes: content,
                modified: self.now,
            },
        );
        Ok(())
    }

    fn delete(&mut self, path: &VirtualPath) -> Result<(), FsError> {
        match self.nodes.get(path) {
            Some(Node::File { .. }) => {
                self.nodes.remove(path);
                Ok(())
            }
            Some(Node::Dir { .. }) => Err(FsError::IsADirectory),
            None => Err(FsError::NotFound),
        }
    }

    fn make_dir(&mut self, path: &VirtualPath) -> Result<(), FsError> {
        if self.nodes.contains_key(path) {
            return Err(FsError::AlreadyExists);
        }
        self.require_dir(&path.parent())?;
        self.nodes
            .insert(path.clone(), Node::Dir { modified: self.now });
        Ok(())
    }

    fn remove_dir(&mut self, path: &VirtualPath) -> Result<(), FsError> {
        if path.is_root() {
            return Err(FsError::PermissionDenied);
        }
        self.require_dir(path)?;
        if self.children(path).next().is_some() {
            return Err(FsError::NotEmpty);
        }
        self.nodes.remove(path);
        Ok(())
    }

    fn rename(&mut self, from: &VirtualPath, to: &VirtualPath) -> Result<(), FsError> {
        if from.is_root() || to.is_root() || from.contains(to) {
            return Err(FsError::PermissionDenied);
        }
        if !self.nodes.contains_key(from) {
            return Err(FsError::NotFound);
        }
        if self.nodes.contains_key(to) {
            return Err(FsError::AlreadyExists);
        }
        self.require_dir(&to.parent())?;
        let moved: Vec<VirtualPath> = self
            .nodes
            .range(from.clone()..)
            .take_while(|(p, _)| from.contains(p))
            .map(|(p, _)| p.clone())
            .collect();
        for old in moved {
            if let Some(node) = self.nodes.remove(&old) {
                let mut components = to.components().to_vec();
                components.extend_from_slice(&old.components()[from.components().len()..]);
                let new = parse_absolute(&format!("/{}", components.join("/")));
                self.nodes.insert(new, node);
            }
        }
        Ok(())
    }

    fn space_left(&self) -> Option<u64> {
        self.quota.map(|q| q.saturating_sub(self.used()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> VirtualPath {
        parse_absolute(s)
    }

    #[test]
    fn demo_tree_lists_and_reads() {
        let tree = MemoryTree::demo(1_700_000_000);
        let names: Vec<_> = tree
            .list(&p("/"))
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(names, vec!["README.txt", "pub", "upload"]);
        let pub_names: Vec<_> = tree
            .list(&p("/pub"))
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(
            pub_names,
            vec!["bytes.bin", "hello.txt", "notes.txt", "pixel.png"]
        );
        assert_eq!(tree.read(&p("/pub/bytes.bin")).unwrap().len(), 256);
        assert_eq!(tree.stat(&p("/pub")).unwrap().kind, FileKind::Directory);
        assert_eq!(tree.read(&p("/pub")), Err(FsError::IsADirectory));
        assert_eq!(tree.list(&p("/README.txt")), Err(FsError::NotADirectory));
        assert_eq!(&PIXEL_PNG[..8], b"\x89PNG\r\n\x1a\n");
    }

    #[test]
    fn writes_respect_the_quota_and_the_tree() {
        let mut tree = MemoryTree::new().with_quota(Some(10));
        tree.make_dir(&p("/up")).unwrap();
        tree.write(&p("/up/a"), b"12345", false).unwrap();
        assert_eq!(tree.space_left(), Some(5));
        assert_eq!(
            tree.write(&p("/up/b"), b"123456", false),
            Err(FsError::QuotaExceeded { limit: 10 })
        );
        // Replacing a file counts only the difference.
        tree.write(&p("/up/a"), b"1234567890", false).unwrap();
        assert_eq!(
            tree.write(&p("/up/a"), b"x", true),
            Err(FsError::QuotaExceeded { limit: 10 })
        );
        assert_eq!(
            tree.write(&p("/nodir/a"), b"x", false),
            Err(FsError::NotFound)
        );
        assert_eq!(tree.remove_dir(&p("/up")), Err(FsError::NotEmpty));
        tree.delete(&p("/up/a")).unwrap();
        tree.remove_dir(&p("/up")).unwrap();
        assert_eq!(tree.stat(&p("/up")), Err(FsError::NotFound));
    }

    #[test]
    fn rename_moves_whole_directories() {
        let mut tree = MemoryTree::demo(0);
        tree.rename(&p("/pub"), &p("/upload/pub2")).unwrap();
        assert!(tree.read(&p("/upload/pub2/hello.txt")).is_ok());
        assert_eq!(tree.stat(&p("/pub")), Err(FsError::NotFound));
        assert_eq!(
            tree.rename(&p("/upload"), &p("/upload/inside")),
            Err(FsError::PermissionDenied)
        );
        assert_eq!(
            tree.rename(&p("/README.txt"), &p("/upload")),
            Err(FsError::AlreadyExists)
        );
    }
}
