//! Nothing acknowledged is lost to `kill -9`: the `wirelab` binary runs as
//! a separate process on free ports with its own data directory and is
//! killed in the middle of an ingest of up to 1,000 messages over 8 SMTP
//! connections, after one acknowledged message, and between a POP3 `DELE`
//! and its `QUIT`; a new process on the same directory must hold every
//! message it acknowledged, whole and once. Also `wirelab reset-mailbox`.

mod mail_process;
mod process;

use mail_process::*;
use std::collections::HashMap;
use std::io::Write;
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn config(dir: &Path) -> std::path::PathBuf {
    mail_process::config(dir, "", "")
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
        relay.kill_9();
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

const CONNECTIONS: usize = 8;
const MESSAGES: usize = 1000;

/// The text of message `id` as the client means it (unstuffed): a unique
/// subject, a size that varies with the id, and a line that needs a dot
/// stuffed.
fn message_text(id: &str, n: usize) -> String {
    let mut text = format!("Subject: ingest {id}\r\nMessage-ID: <{id}@crepes.fr>\r\n\r\n");
    for k in 0..(n * 7919 % 40 + 3) {
        text.push_str(&format!("{id} line {k}: {}\r\n", "ketchup ".repeat(k % 9)));
    }
    text.push_str(&format!(
        ".a line that starts with a dot\r\nend of {id}\r\n"
    ));
    text
}

/// One SMTP connection sending its share of the messages (at most
/// `limit`), recording each one answered 250, until the relay dies under it.
fn ingest(
    port: u16,
    conn: usize,
    limit: usize,
    acked: &Mutex<Vec<String>>,
    odd: &Mutex<Vec<String>>,
) {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return;
    };
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    if reply(&mut s).is_none() || s.write_all(b"EHLO crepes.fr\r\n").is_err() {
        return;
    }
    if reply(&mut s).is_none() {
        return;
    }
    for m in (conn..MESSAGES).step_by(CONNECTIONS).take(limit) {
        let id = format!("c{conn}-m{m}");
        let stuffed = message_text(&id, m).replace("\r\n.", "\r\n..");
        // PIPELINING: the envelope in one write, then the text after 354.
        let envelope = "MAIL FROM:<alice@crepes.fr>\r\nRCPT TO:<bob@hamburger.edu>\r\nDATA\r\n";
        if s.write_all(envelope.as_bytes()).is_err() {
            return;
        }
        for _ in 0..3 {
            match reply(&mut s) {
                Some(r) if r.starts_with('2') || r.starts_with("354") => {}
                Some(r) => return odd.lock().unwrap().push(format!("{id}: {r}")),
                None => return,
            }
        }
        if s.write_all(format!("{stuffed}.\r\n").as_bytes()).is_err() {
            return;
        }
        match reply(&mut s) {
            Some(r) if r.starts_with("250 ") => acked.lock().unwrap().push(id),
            Some(r) => return odd.lock().unwrap().push(format!("{id}: {r}")),
            None => return,
        }
    }
}

/// The ingest's messages in bob's Maildir, by id, each checked whole: the
/// server's two trace fields, then exactly the text sent.
fn ingested(data: &Path) -> HashMap<String, usize> {
    let mut found = HashMap::new();
    for message in bobs_messages(data) {
        let text = String::from_utf8(message).expect("UTF-8 as sent");
        let Some(at) = text.find("Subject: ingest ") else {
            continue; // the course's two seeded messages
        };
        let id = text[at + 16..].split("\r\n").next().unwrap().to_string();
        let n: usize = id.split("-m").nth(1).unwrap().parse().unwrap();
        assert_eq!(&text[at..], message_text(&id, n), "{id} is whole");
        assert!(text.starts_with("Return-Path: <alice@crepes.fr>\r\nReceived: from crepes.fr"));
        *found.entry(id).or_insert(0) += 1;
    }
    found
}

/// A kill point that differs from run to run, between 250 and 399
/// acknowledgements.
fn kill_point() -> usize {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    250 + nanos as usize % 150
}

#[test]
fn kill_9_mid_ingest_loses_no_acknowledged_message() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let kill_at = kill_point();
    let acked = Arc::new(Mutex::new(Vec::new()));
    let odd = Arc::new(Mutex::new(Vec::new()));
    let mut relay = spawn(&cfg);
    let clients: Vec<_> = (0..CONNECTIONS)
        .map(|conn| {
            let (acked, odd, port) = (acked.clone(), odd.clone(), relay.smtp);
            std::thread::spawn(move || ingest(port, conn, MESSAGES, &acked, &odd))
        })
        .collect();
    let give_up = Instant::now() + Duration::from_secs(600);
    while acked.lock().unwrap().len() < kill_at && Instant::now() < give_up {
        std::thread::sleep(Duration::from_millis(1));
    }
    relay.kill_9();
    let at_kill = acked.lock().unwrap().len();
    for c in clients {
        c.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    eprintln!(
        "killed at {at_kill} acknowledgements (aimed at {kill_at}); {} in all",
        acked.len()
    );
    assert!(odd.lock().unwrap().is_empty(), "{:?}", odd.lock().unwrap());
    assert!(acked.len() >= kill_at, "the ingest got going");
    assert!(acked.len() < MESSAGES, "the kill came mid-ingest");

    let relay = spawn(&cfg);
    let data = dir.path().join("data");
    let found = ingested(&data);
    for id in &acked {
        assert_eq!(found.get(id), Some(&1), "{id} was acknowledged: there once");
    }
    assert!(
        found.values().all(|&n| n == 1),
        "no message twice: {found:?}"
    );
    // Those in flight at the kill may be there too, but whole (checked).
    eprintln!("{} messages on disk after the restart", found.len());
    assert!(found.len() <= acked.len() + CONNECTIONS);
    // The restarted relay serves exactly what is on disk.
    let mut s = pop3_bob(relay.pop3);
    let stat = say(&mut s, "STAT\r\n");
    assert!(
        stat.starts_with(&format!("+OK {} ", found.len() + 2)),
        "{stat} for {} messages",
        found.len() + 2
    );
}

#[test]
fn kill_9_between_dele_and_quit_keeps_every_message() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let data = dir.path().join("data");
    let mut relay = spawn(&cfg);
    let acked = Mutex::new(Vec::new());
    let odd = Mutex::new(Vec::new());
    ingest(relay.smtp, 0, 3, &acked, &odd);
    assert_eq!(acked.lock().unwrap().len(), 3, "{:?}", odd.lock().unwrap());
    let mut before = bobs_messages(&data);
    before.sort();
    assert_eq!(before.len(), 5);
    let mut s = pop3_bob(relay.pop3);
    for n in 1..=5 {
        assert_eq!(
            say(&mut s, &format!("DELE {n}\r\n")),
            format!("+OK message {n} deleted\r\n")
        );
    }
    assert_eq!(say(&mut s, "STAT\r\n"), "+OK 0 0\r\n");
    relay.kill_9();

    let mut after = bobs_messages(&data);
    after.sort();
    assert_eq!(after, before, "every message in place, byte for byte");
    let relay = spawn(&cfg);
    let mut s = pop3_bob(relay.pop3);
    let size: usize = before.iter().map(Vec::len).sum();
    assert_eq!(say(&mut s, "STAT\r\n"), format!("+OK 5 {size}\r\n"));
    s.write_all(b"RETR 5\r\n").unwrap();
    assert!(line(&mut s).starts_with("+OK"));
    let last = String::from_utf8(body(&mut s)).unwrap();
    assert!(last.contains("Subject: ingest c0-m"), "{last}");
}
