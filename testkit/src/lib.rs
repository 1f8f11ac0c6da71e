//! Helpers shared by the tests that need something outside Rust: a real
//! client (curl, dig, swaks, python3) or a browser.
//!
//! A test that cannot find its tool calls [`skip`]: on a developer's machine
//! it prints a loud `SKIPPED: <why>` line and records it for `cargo xtask
//! test`'s summary; in CI (`CI=true`) a missing tool is a failure instead.
#![forbid(unsafe_code)]

use std::io::Write;
use std::path::{Path, PathBuf};

/// Whether this run is CI, where nothing may be skipped.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Gives up on the current test because something it needs is missing:
/// panics in CI, otherwise prints and records `SKIPPED: <why>`. The caller
/// returns right after.
pub fn skip(why: &str) {
    if in_ci() {
        panic!("CI=true and this test cannot run: {why}");
    }
    eprintln!("SKIPPED: {why}");
    if let Some(log) = std::env::var_os("WIRELAB_SKIP_LOG")
        && let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
    {
        let _ = writeln!(file, "{why}");
    }
}

/// The full path of an executable found on `PATH`.
pub fn find_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

/// [`find_tool`], or [`skip`] naming the tool and the package that has it.
pub fn require_tool(name: &str, package: &str) -> Option<PathBuf> {
    let found = find_tool(name);
    if found.is_none() {
        skip(&format!(
            "{name} is not installed (apt-get install {package})"
        ));
    }
    found
}

/// The workspace root, for tests that read fixtures or the built page.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("testkit lives in the workspace")
        .to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_tools_on_path_and_not_others() {
        assert!(find_tool("sh").is_some());
        assert!(find_tool("surely-no-such-tool-here").is_none());
        assert!(workspace_root().join("Cargo.toml").is_file());
    }
}
