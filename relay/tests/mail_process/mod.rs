//! The `wirelab` binary as a process of its own, for the mail tests that
//! kill it (`kill -9`) or watch its memory: every listener on a free port,
//! its own data directory, the mail servers' ports read from its banner,
//! and blocking SMTP and POP3 helpers over `std::net`.
#![allow(dead_code)]

use crate::process::{self, Wirelab};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A running relay and its mail servers' ports; killed when dropped.
pub struct Running {
    pub relay: Wirelab,
    pub smtp: u16,
    pub pop3: u16,
}

impl Running {
    /// SIGKILL: no chance to flush or clean anything up.
    pub fn kill_9(&mut self) {
        self.relay.kill_9();
    }

    /// The most memory the process has held so far (VmHWM), in bytes.
    pub fn peak_memory(&self) -> u64 {
        self.relay.peak_kib() * 1024
    }
}

/// A config file in `dir` with every port free, data in `dir/data`, the
/// DNS servers off, and `smtp_extra` and `pop3_extra` TOML lines added to
/// the mail servers' tables.
pub fn config(dir: &Path, smtp_extra: &str, pop3_extra: &str) -> PathBuf {
    process::config(
        dir,
        &[
            ("servers.dns", "enabled = false"),
            ("servers.ftp", "passive_port_count = 4"),
            ("servers.smtp", smtp_extra),
            ("servers.pop3", pop3_extra),
        ],
    )
}

/// Starts the relay and reads the ports of the mail servers from its banner.
pub fn spawn(config: &Path) -> Running {
    let relay = Wirelab::spawn(config);
    let (smtp, pop3) = (relay.port("smtp"), relay.port("pop3"));
    Running { relay, smtp, pop3 }
}

pub fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s
}

/// One line, CR LF included; panics if the connection ends first.
pub fn line(s: &mut TcpStream) -> String {
    try_line(s).expect("connection closed")
}

/// One line, or `None` if the connection ends (or fails) first.
pub fn try_line(s: &mut TcpStream) -> Option<String> {
    let mut out = Vec::new();
    let mut b = [0u8; 1];
    while !out.ends_with(b"\r\n") {
        match s.read(&mut b) {
            Ok(1) => out.push(b[0]),
            _ => return None,
        }
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

pub fn say(s: &mut TcpStream, text: &str) -> String {
    s.write_all(text.as_bytes()).unwrap();
    line(s)
}

/// An SMTP reply, the lines of a multi-line one joined.
pub fn reply(s: &mut TcpStream) -> Option<String> {
    let mut text = String::new();
    loop {
        let l = try_line(s)?;
        let last = l.as_bytes().get(3) != Some(&b'-');
        text.push_str(&l);
        if last {
            return Some(text);
        }
    }
}

/// The lines of a POP3 multi-line body up to its dot, unstuffed.
pub fn body(s: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let l = line(s);
        if l == ".\r\n" {
            return out;
        }
        out.extend_from_slice(l.strip_prefix('.').unwrap_or(&l).as_bytes());
    }
}

/// Logs in to POP3 as bob.
pub fn pop3_bob(port: u16) -> TcpStream {
    let mut s = connect(port);
    assert_eq!(line(&mut s), "+OK POP3 server ready\r\n");
    assert_eq!(say(&mut s, "USER bob\r\n"), "+OK\r\n");
    assert_eq!(
        say(&mut s, "PASS hungry\r\n"),
        "+OK user successfully logged on\r\n"
    );
    s
}

/// The messages of bob's Maildir on disk (new/ and cur/).
pub fn bobs_messages(data: &Path) -> Vec<Vec<u8>> {
    let bob = data.join("mail/bob@hamburger.edu");
    let mut out = Vec::new();
    for sub in ["new", "cur"] {
        for e in std::fs::read_dir(bob.join(sub)).unwrap() {
            out.push(std::fs::read(e.unwrap().path()).unwrap());
        }
    }
    out
}
