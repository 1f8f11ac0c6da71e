//! The `wirelab` binary as a process of its own, for the tests that kill
//! it (`kill -9`), stop it (SIGTERM) or read its memory: a config file with
//! every listener on a free port, the catalog's addresses read from the
//! banner it prints, and the process killed and reaped when dropped.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running relay and the address of every catalog target it announced.
pub struct Wirelab {
    pub child: Child,
    targets: HashMap<String, SocketAddr>,
}

impl Drop for Wirelab {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Wirelab {
    /// Starts `wirelab --config <config>` and waits for its banner.
    pub fn spawn(config: &Path) -> Wirelab {
        let mut child = Command::new(env!("CARGO_BIN_EXE_wirelab"))
            .arg("--config")
            .arg(config)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let targets = read_banner(child.stdout.take().unwrap());
        Wirelab { child, targets }
    }

    /// Where the catalog target `name` listens.
    pub fn addr(&self, name: &str) -> SocketAddr {
        *self
            .targets
            .get(name)
            .unwrap_or_else(|| panic!("{name} is not in the banner: {:?}", self.targets))
    }

    pub fn port(&self, name: &str) -> u16 {
        self.addr(name).port()
    }

    /// SIGKILL: no chance to flush or clean anything up.
    pub fn kill_9(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// The resident memory now (VmRSS), in KiB.
    pub fn rss_kib(&self) -> u64 {
        self.status_kib("VmRSS:")
    }

    /// The most memory the process has held so far (VmHWM), in KiB.
    pub fn peak_kib(&self) -> u64 {
        self.status_kib("VmHWM:")
    }

    fn status_kib(&self, key: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("the relay is running, on Linux");
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("{key} in /proc/<pid>/status"))
    }
}

/// Reads `name transport host:port description` lines up to "Press Ctrl-C".
fn read_banner(stdout: std::process::ChildStdout) -> HashMap<String, SocketAddr> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut targets = HashMap::new();
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the relay prints its banner");
        if line.starts_with("Press") {
            return targets;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        if let [name, "tcp" | "udp", addr, ..] = words.as_slice()
            && let Ok(addr) = addr.parse()
        {
            targets.insert(name.to_string(), addr);
        }
    }
}

/// Writes `dir/wirelab.toml`: data in `dir/data`, every listener on a free
/// port, and `extra` lines added to the tables they name (`("servers.smtp",
/// "max_errors = 3")`; a table the base lacks is added).
pub fn config(dir: &Path, extra: &[(&str, &str)]) -> PathBuf {
    let mut tables: Vec<(String, String)> = [
        ("servers.http", "port = 0"),
        ("servers.book_web", "port = 0"),
        ("servers.upper", "tcp_port = 0\nudp_port = 0"),
        ("servers.smtp", "port = 0"),
        ("servers.pop3", "port = 0"),
        ("servers.imap", "port = 0"),
        ("servers.tracker", "port = 0"),
        ("servers.proxy", "port = 0"),
        ("servers.ftp", "port = 0\npassive_port_first = 0"),
        ("servers.dns", "port = 0"),
        ("servers.cdn", "port = 0"),
    ]
    .iter()
    .map(|(t, body)| (t.to_string(), body.to_string()))
    .collect();
    for (table, lines) in extra {
        match tables.iter_mut().find(|(t, _)| t == table) {
            Some((_, body)) => {
                body.push('\n');
                body.push_str(lines);
            }
            None => tables.push((table.to_string(), lines.to_string())),
        }
    }
    let mut text = format!(
        "port = 0\ndata_dir = {:?}\ndist = {:?}\n",
        dir.join("data"),
        dir.join("no-dist")
    );
    for (table, body) in tables {
        text.push_str(&format!("\n[{table}]\n{body}\n"));
    }
    let path = dir.join("wirelab.toml");
    std::fs::write(&path, text).unwrap();
    path
}
