//! A message acknowledged with 250 survives `kill -9` of the relay: the
//! `wirelab` binary runs as a separate process on free ports with its own
//! data directory, gets a message, is killed at once, and a new process on
//! the same directory serves it over POP3. Also `wirelab reset-mailbox`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

struct Running {
    child: Child,
    smtp: u16,
    pop3: u16,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn config(dir: &Path) -> PathBuf {
    let path = dir.join("wirelab.toml");
    let text = format!(
        "port = 0\ndata_dir = {:?}\ndist = {:?}\n\n[servers.upper]\ntcp_port = 0\nudp_port = 0\n\n[servers.smtp]\nport = 0\n\n[servers.pop3]\nport = 0\n",
        dir.join("data"),
        dir.join("no-dist")
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// Starts the relay and reads the ports of the mail servers from its banner.
fn spawn(config: &Path) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wirelab"))
        .arg("--config")
        .arg(config)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let (mut smtp, mut pop3) = (0, 0);
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the relay prints its banner");
        let words: Vec<&str> = line.split_whitespace().collect();
        let port = |w: &[&str]| w[2].rsplit(':').next().unwrap().parse::<u16>().unwrap();
        match words.first() {
            Some(&"smtp") => smtp = port(&words),
            Some(&"pop3") => pop3 = port(&words),
            Some(&"Press") => break,
            _ => {}
        }
    }
    assert!(
        smtp != 0 && pop3 != 0,
        "both mail servers are in the banner"
    );
    Running { child, smtp, pop3 }
}

fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

fn line(s: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let mut b = [0u8; 1];
    while !out.ends_with(b"\r\n") {
        assert_eq!(s.read(&mut b).unwrap(), 1, "connection closed");
        out.push(b[0]);
    }
    String::from_utf8(out).unwrap()
}

fn say(s: &mut TcpStream, text: &str) -> String {
    s.write_all(text.as_bytes()).unwrap();
    line(s)
}

#[test]
fn an_acknowledged_message_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let marker = format!("durable message {}", std::process::id());
    {
        let mut relay = spawn(&cfg);
        let mut s = connect(relay.smtp);
        assert!(line(&mut s).starts_with("220 hamburger.edu"));
        assert!(say(&mut s, "HELO crepes.fr\r\n").starts_with("250"));
        assert!(say(&mut s, "MAIL FROM:<alice@crepes.fr>\r\n").starts_with("250"));
        assert!(say(&mut s, "RCPT TO:<bob@hamburger.edu>\r\n").starts_with("250"));
        assert!(say(&mut s, "DATA\r\n").starts_with("354"));
        let reply = say(
            &mut s,
            &format!("Subject: kill -9\r\n\r\n{marker}\r\n.\r\n"),
        );
        assert_eq!(reply, "250 Message accepted for delivery\r\n");
        // SIGKILL right after the 250: no chance to flush anything more.
        relay.child.kill().unwrap();
        relay.child.wait().unwrap();
    }
    let bob = dir.path().join("data/mail/bob@hamburger.edu");
    assert_eq!(
        std::fs::read_dir(bob.join("tmp")).unwrap().count(),
        0,
        "nothing half-written in tmp/"
    );
    let relay = spawn(&cfg);
    let mut s = connect(relay.pop3);
    assert_eq!(line(&mut s), "+OK POP3 server ready\r\n");
    say(&mut s, "USER bob\r\n");
    assert_eq!(
        say(&mut s, "PASS hungry\r\n"),
        "+OK user successfully logged on\r\n"
    );
    assert!(say(&mut s, "STAT\r\n").starts_with("+OK 3 "));
    s.write_all(b"RETR 3\r\n").unwrap();
    let mut text = String::new();
    loop {
        let l = line(&mut s);
        if l == ".\r\n" {
            break;
        }
        text.push_str(&l);
    }
    assert!(text.contains(&marker), "{text}");
    assert!(
        text.contains("\r\nReceived: from crepes.fr ([127.0.0.1])\r\n"),
        "{text}"
    );
}

#[test]
fn reset_mailbox_puts_the_course_messages_back() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let reset = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_wirelab"))
            .arg("reset-mailbox")
            .args(args)
            .arg("--config")
            .arg(&cfg)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    // A fresh directory is created and seeded by the command itself.
    let bob = dir.path().join("data/mail/bob@hamburger.edu");
    let (ok, text) = reset(&["bob@hamburger.edu"]);
    assert!(ok, "{text}");
    assert_eq!(
        text,
        "bob@hamburger.edu: reset, 2 message(s), 1410 octets\n"
    );
    std::fs::write(bob.join("new/9.extra.wirelab,S=5"), "extra").unwrap();
    std::fs::remove_file(bob.join("new/1.seed-1.wirelab,S=498")).unwrap();
    let (ok, text) = reset(&["--all"]);
    assert!(ok, "{text}");
    assert!(
        text.contains("alice@crepes.fr: reset, 0 message(s)"),
        "{text}"
    );
    let mut names: Vec<String> = std::fs::read_dir(bob.join("new"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["1.seed-1.wirelab,S=498", "2.seed-2.wirelab,S=912"]);
    let (ok, text) = reset(&["nobody@hamburger.edu"]);
    assert!(!ok);
    assert!(
        text.contains("there is no mailbox nobody@hamburger.edu"),
        "{text}"
    );
}
