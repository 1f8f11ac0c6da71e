//! Paths as the FTP server sees them: a virtual tree whose root `/` is the
//! server's sandbox. [`resolve`] turns what a client typed (relative to the
//! current directory or absolute, with `.`, `..`, doubled slashes) into a
//! [`VirtualPath`]: a list of plain names that cannot climb above the root,
//! however the argument was written. `..` at the root stays at the root, as
//! it does in a chroot.
//!
//! Storage implementations map a `VirtualPath` onto their own namespace and
//! refuse names their platform would read as something else (see
//! [`VirtualPath::check_portable`]).

use std::fmt;

/// A normalised absolute path inside the sandbox: every component is a plain
/// name (never empty, `.` or `..`, never containing `/` or NUL).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct VirtualPath {
    components: Vec<String>,
}

/// A component no storage can hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}: {name:?}")]
pub struct BadName {
    pub name: String,
    pub reason: &'static str,
}

impl VirtualPath {
    /// The root, `/`.
    pub fn root() -> Self {
        VirtualPath::default()
    }

    pub fn is_root(&self) -> bool {
        self.components.is_empty()
    }

    pub fn components(&self) -> &[String] {
        &self.components
    }

    /// The last component, if not the root.
    pub fn name(&self) -> Option<&str> {
        self.components.last().map(String::as_str)
    }

    /// The parent directory (the root's parent is the root).
    pub fn parent(&self) -> VirtualPath {
        let mut components = self.components.clone();
        components.pop();
        VirtualPath { components }
    }

    /// This path with one more plain name. A name that is not plain (empty,
    /// `.`, `..`, holding `/` or NUL) is resolved instead, so the result is
    /// still inside the root.
    pub fn join(&self, name: &str) -> VirtualPath {
        resolve(self, name)
    }

    /// Whether `other` is this path or inside it.
    pub fn contains(&self, other: &VirtualPath) -> bool {
        other.components.starts_with(&self.components)
    }

    /// Refuses names that a disk would read as more than one plain name:
    /// backslashes (a separator on Windows), drive colons, control bytes.
    /// The in-memory tree accepts them; the disk tree calls this.
    pub fn check_portable(&self) -> Result<(), BadName> {
        for name in &self.components {
            let reason = if name.contains('\\') {
                "a backslash is a path separator on some systems"
            } else if name.contains(':') {
                "a colon names a drive or a stream on some systems"
            } else if name.chars().any(char::is_control) {
                "control characters are not allowed in file names"
            } else if name.len() > 255 {
                "a name may be at most 255 bytes"
            } else {
                continue;
            };
            return Err(BadName {
                name: name.clone(),
                reason,
            });
        }
        Ok(())
    }
}

impl fmt::Display for VirtualPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.components.is_empty() {
            return f.write_str("/");
        }
        for c in &self.components {
            write!(f, "/{c}")?;
        }
        Ok(())
    }
}

/// Resolves `argument` against the current directory `cwd`: absolute when it
/// starts with `/`, relative otherwise; empty and `.` components are
/// skipped, `..` removes the previous one and never goes above the root; a NUL
/// byte ends the name (C servers read it so, and it must not smuggle a path).
pub fn resolve(cwd: &VirtualPath, argument: &str) -> VirtualPath {
    let argument = argument.split('\0').next().unwrap_or("");
    let mut components = if argument.starts_with('/') {
        Vec::new()
    } else {
        cwd.components.clone()
    };
    for part in argument.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                components.pop();
            }
            name => components.push(name.to_string()),
        }
    }
    VirtualPath { components }
}

/// Parses an absolute path as written by [`VirtualPath`]'s `Display`.
pub fn parse_absolute(text: &str) -> VirtualPath {
    resolve(&VirtualPath::root(), text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(s: &str) -> VirtualPath {
        parse_absolute(s)
    }

    #[test]
    fn relative_absolute_and_dots() {
        let cwd = p("/pub/docs");
        assert_eq!(resolve(&cwd, "a.txt").to_string(), "/pub/docs/a.txt");
        assert_eq!(resolve(&cwd, "../x").to_string(), "/pub/x");
        assert_eq!(resolve(&cwd, "/etc/passwd").to_string(), "/etc/passwd");
        assert_eq!(resolve(&cwd, "././/b/").to_string(), "/pub/docs/b");
        assert_eq!(resolve(&cwd, "").to_string(), "/pub/docs");
    }

    #[test]
    fn nothing_climbs_above_the_root() {
        let cwd = p("/pub");
        for attempt in [
            "..",
            "../..",
            "../../../../etc/passwd",
            "/../../etc",
            "a/../../../..",
            "....//..//..",
        ] {
            let r = resolve(&cwd, attempt);
            assert!(
                !r.components().iter().any(|c| c == ".." || c.is_empty()),
                "{attempt} → {r}"
            );
        }
        assert_eq!(
            resolve(&cwd, "../../../../etc/passwd").to_string(),
            "/etc/passwd"
        );
        assert_eq!(resolve(&cwd, "x\0/../../y").to_string(), "/pub/x");
    }

    #[test]
    fn portable_names() {
        assert!(p("/a/b.txt").check_portable().is_ok());
        assert!(p("/a\\..\\b").check_portable().is_err());
        assert!(p("/c:x").check_portable().is_err());
        assert!(p("/a\nb").check_portable().is_err());
        // Percent signs are plain characters in FTP: %2e%2e is a name, not "..".
        assert_eq!(p("/%2e%2e/x").components()[0], "%2e%2e");
    }

    proptest! {
        #[test]
        fn resolution_always_yields_plain_names(cwd in "(/[a-z.]{1,4}){0,4}", arg in "[a-z./\\\\%]{0,30}") {
            let r = resolve(&parse_absolute(&cwd), &arg);
            for c in r.components() {
                prop_assert!(!c.is_empty() && c != "." && c != ".." && !c.contains('/'));
            }
            // Resolving the printed form gives the same path.
            prop_assert_eq!(parse_absolute(&r.to_string()), r);
        }
    }
}
