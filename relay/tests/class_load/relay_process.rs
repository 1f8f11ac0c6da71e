//! The relay under load: the `wirelab` binary as a process of its own, so
//! its memory can be read from `/proc/<pid>/status` apart from the load
//! generator's. It listens on free ports with its own data directory and a
//! configuration for a class behind one address: connection limits raised
//! above what the students open at once, a passive FTP port per student, a
//! mailbox per student. Its log goes to a file, printed when it fails.

use anyhow::{Context, Result, bail};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long the relay may take to print its banner.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running `wirelab`, killed on drop.
pub struct RelayProcess {
    child: Child,
    /// Where `/ws` listens.
    pub addr: SocketAddr,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl RelayProcess {
    /// Starts the relay for `students` and waits for its banner.
    pub fn start(students: usize) -> Result<RelayProcess> {
        let dir = tempfile::tempdir()?;
        let config = dir.path().join("wirelab.toml");
        std::fs::write(&config, config_text(dir.path(), students))?;
        let log = dir.path().join("relay.log");
        let mut child = Command::new(env!("CARGO_BIN_EXE_wirelab"))
            .arg("--config")
            .arg(&config)
            .env("RUST_LOG", "warn")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log)?)
            .spawn()
            .context("starting wirelab")?;
        let stdout = child.stdout.take().context("the relay's stdout")?;
        let mut relay = RelayProcess {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            log,
            _dir: dir,
        };
        relay.addr = read_banner(stdout).with_context(|| relay.log_tail())?;
        Ok(relay)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory now, in KiB (0 once it has exited).
    pub fn rss_kib(&self) -> u64 {
        rss_kib(self.pid()).unwrap_or(0)
    }

    /// The last lines of the relay's log (warnings and errors).
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(20)..].join("\n");
        format!("the relay's log ends with:\n{tail}")
    }
}

/// The resident memory of process `pid`, in KiB.
pub fn rss_kib(pid: u32) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// Reads the banner up to "Press Ctrl-C", returning the `/ws` address. A
/// thread keeps draining stdout afterwards so the relay never blocks on it.
fn read_banner(stdout: std::process::ChildStdout) -> Result<SocketAddr> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut addr = None;
    loop {
        let line = rx
            .recv_timeout(START_TIMEOUT)
            .context("the relay stopped or printed no banner")?;
        if let Some(text) = line.trim().strip_prefix("page, /ws and /api on ") {
            addr = Some(text.parse().context("the banner's address")?);
        }
        if line.starts_with("Press Ctrl-C") {
            break;
        }
    }
    match addr {
        Some(addr) => Ok(addr),
        None => bail!("the banner does not say where /ws is"),
    }
}

/// The relay's configuration for a class of `students` on one address.
fn config_text(dir: &Path, students: usize) -> String {
    // A student holds at most two sessions at once (FTP control and data),
    // and each has a connection to a reference server behind it.
    let sessions = 4 * students + 64;
    let mut text = format!(
        "port = 0\ndata_dir = {data:?}\ndist = {dist:?}\n\n\
         [limits]\n\
         max_connections = {sessions}\n\
         max_connections_per_client = {sessions}\n\
         server_max_connections = {sessions}\n\
         max_bytes_per_minute = {bytes}\n\n\
         [servers.http]\nport = 0\n\n\
         [servers.book_web]\nport = 0\n\n\
         [servers.upper]\ntcp_port = 0\nudp_port = 0\n\n\
         [servers.ftp]\nport = 0\npassive_port_first = 0\npassive_port_count = {passive}\n\n\
         [servers.dns]\nport = 0\n\n\
         [servers.cdn]\nport = 0\n\n\
         [servers.smtp]\nport = 0\n\n\
         [servers.pop3]\nport = 0\n\n\
         [servers.imap]\nport = 0\n\n\
         [servers.tracker]\nport = 0\n\n\
         [servers.proxy]\nport = 0\n",
        data = dir.join("data"),
        dist = dir.join("no-dist"),
        // Every student shares the one address's budget.
        bytes = 1u64 << 40,
        passive = students + 100,
    );
    for id in 0..students {
        let (address, password) = super::flows::mailbox(id);
        text.push_str(&format!(
            "\n[[servers.mail.mailboxes]]\naddress = {address:?}\npassword = {password:?}\nseed = false\n"
        ));
    }
    text
}
