//! What makes a write survive a crash on the relay's disk stores (the
//! Maildir, the FTP tree): after a file is written, fsynced and renamed into
//! place, its directory is fsynced so that the rename itself is on disk.

use std::path::Path;

/// Fsyncs `dir`: a rename or an unlink inside it becomes durable (POSIX);
/// other platforms have no such call and their file systems order it anyway.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}
