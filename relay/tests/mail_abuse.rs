//! The mail servers under abusive clients, against the `wirelab` binary as
//! a process of its own so that its memory can be watched: a client that
//! sends one byte a second (SMTP and POP3), a message that never ends, a
//! 10 MB command line, and a PIPELINING flood from a client that never
//! reads, while an honest session goes through.

mod mail_process;
mod process;

use mail_process::*;
use std::io::{ErrorKind, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::time::Duration;

/// What the relay may grow by while a client sends 10 MB it must not keep.
const MEMORY_SLACK: u64 = 5 * 1024 * 1024;

/// Sends `text` one byte a second until the server closes (or it is all
/// sent), from a thread of its own.
fn trickle(s: &TcpStream, text: &'static str) -> std::thread::JoinHandle<()> {
    let mut s = s.try_clone().unwrap();
    std::thread::spawn(move || {
        for b in text.bytes() {
            if s.write_all(&[b]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    })
}

/// A whole transaction from an honest client, answered 250.
fn honest_session(port: u16, subject: &str) {
    let mut s = connect(port);
    assert!(line(&mut s).starts_with("220 "));
    s.write_all(b"EHLO crepes.fr\r\n").unwrap();
    assert!(reply(&mut s).unwrap().starts_with("250-hamburger.edu"));
    s.write_all(b"MAIL FROM:<alice@crepes.fr>\r\nRCPT TO:<bob@hamburger.edu>\r\nDATA\r\n")
        .unwrap();
    assert!(line(&mut s).starts_with("250 "));
    assert!(line(&mut s).starts_with("250 "));
    assert!(line(&mut s).starts_with("354 "));
    let text = format!("Subject: {subject}\r\n\r\nDo you like ketchup?\r\n.\r\n");
    assert_eq!(
        say(&mut s, &text),
        "250 2.0.0 Message accepted for delivery\r\n"
    );
    assert!(say(&mut s, "QUIT\r\n").starts_with("221 "));
}

#[test]
fn slow_clients_are_answered_and_closed() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        "command_timeout_secs = 2.0\ndata_timeout_secs = 4.0",
        "command_timeout_secs = 2.0",
    );
    let relay = spawn(&cfg);

    // SMTP, one byte a second: 421 once the line is 2 s old, then closed.
    let mut s = connect(relay.smtp);
    assert!(line(&mut s).starts_with("220 "));
    let writer = trickle(&s, "HELO crepes.fr\r\n");
    assert_eq!(
        line(&mut s),
        "421 hamburger.edu Timeout: the command line did not end within 2 s, closing transmission channel\r\n"
    );
    assert_eq!(try_line(&mut s), None, "closed after the 421");
    writer.join().unwrap();

    // A message whose lines come in time but which never ends.
    let mut s = connect(relay.smtp);
    assert!(line(&mut s).starts_with("220 "));
    s.write_all(
        b"HELO crepes.fr\r\nMAIL FROM:<alice@crepes.fr>\r\nRCPT TO:<bob@hamburger.edu>\r\nDATA\r\n",
    )
    .unwrap();
    for code in ["250 ", "250 ", "250 ", "354 "] {
        assert!(line(&mut s).starts_with(code));
    }
    let writer = trickle(&s, "a\r\nb\r\nc\r\nd\r\ne\r\nf\r\n");
    assert_eq!(
        line(&mut s),
        "421 hamburger.edu Timeout: the message did not end within 4 s, closing transmission channel\r\n"
    );
    assert_eq!(try_line(&mut s), None, "closed after the 421");
    writer.join().unwrap();

    // POP3, one byte a second after logging in: -ERR, closed, nothing deleted.
    let mut s = pop3_bob(relay.pop3);
    assert_eq!(say(&mut s, "DELE 1\r\n"), "+OK message 1 deleted\r\n");
    let writer = trickle(&s, "QUIT\r\n");
    assert_eq!(
        line(&mut s),
        "-ERR command line not completed within 2 s, closing connection\r\n"
    );
    assert_eq!(try_line(&mut s), None, "closed after the -ERR");
    writer.join().unwrap();
    let mut s = pop3_bob(relay.pop3);
    assert_eq!(say(&mut s, "STAT\r\n"), "+OK 2 1410\r\n");
}

#[test]
fn a_ten_megabyte_line_gets_500_and_is_never_held() {
    let dir = tempfile::tempdir().unwrap();
    let relay = spawn(&config(dir.path(), "", ""));
    honest_session(relay.smtp, "warming up");
    let before = relay.peak_memory();

    let mut s = connect(relay.smtp);
    assert!(line(&mut s).starts_with("220 "));
    s.write_all(b"EHLO crepes.fr\r\n").unwrap();
    assert!(reply(&mut s).unwrap().starts_with("250-"));
    let mut long = b"NOOP ".to_vec();
    long.resize(10 * 1024 * 1024, b'x');
    long.extend_from_slice(b"\r\n");
    s.write_all(&long).unwrap();
    assert_eq!(line(&mut s), "500 5.5.2 Line too long\r\n");
    assert_eq!(
        say(&mut s, "NOOP\r\n"),
        "250 2.0.0 OK\r\n",
        "the session goes on"
    );

    let grown = relay.peak_memory().saturating_sub(before);
    eprintln!("peak memory grew by {grown} bytes for a 10 MB line");
    assert!(grown < MEMORY_SLACK, "grew by {grown} bytes");
}

/// How a flooding client that never reads ended.
#[derive(Debug, PartialEq)]
enum FloodEnd {
    /// Its writes blocked: the server stopped reading.
    Blocked,
    /// The server closed the connection.
    Closed,
    /// It wrote everything: nothing held it back.
    WroteAll,
}

/// EHLO, MAIL, 10,000 RCPTs, then more RCPTs, never reading a reply, until
/// a write blocks for 5 s or fails, or 64 MB have gone out. `started`
/// hears once the first 10,000 are written.
fn flood(port: u16, started: mpsc::Sender<()>) -> (FloodEnd, usize) {
    let mut s = connect(port);
    s.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
    let rcpt = "RCPT TO:<bob@hamburger.edu>\r\n";
    let mut first = String::from("EHLO flood.example\r\nMAIL FROM:<flood@crepes.fr>\r\n");
    first.push_str(&rcpt.repeat(10_000));
    let more = rcpt.repeat(1000);
    let mut sent = 0;
    let mut chunk = first.as_bytes();
    while sent < 64 * 1024 * 1024 {
        match s.write_all(chunk) {
            Ok(()) => sent += chunk.len(),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return (FloodEnd::Blocked, sent);
            }
            Err(_) => return (FloodEnd::Closed, sent),
        }
        if sent == first.len() {
            let _ = started.send(());
        }
        chunk = more.as_bytes();
    }
    (FloodEnd::WroteAll, sent)
}

#[test]
fn a_pipelining_flood_is_bounded_and_an_honest_session_goes_through() {
    let dir = tempfile::tempdir().unwrap();
    let relay = spawn(&config(dir.path(), "", ""));
    honest_session(relay.smtp, "warming up");
    let before = relay.peak_memory();

    let port = relay.smtp;
    let (started, flooding) = mpsc::channel();
    let flooder = std::thread::spawn(move || flood(port, started));
    // Whether the first 10,000 went out or the flood already ended.
    let _ = flooding.recv_timeout(Duration::from_secs(60));
    honest_session(relay.smtp, "meanwhile");
    let (end, sent) = flooder.join().unwrap();
    eprintln!("the flood ended {end:?} after {sent} bytes");
    assert_ne!(end, FloodEnd::WroteAll, "the server must stop reading");
    honest_session(relay.smtp, "after");

    let grown = relay.peak_memory().saturating_sub(before);
    eprintln!("peak memory grew by {grown} bytes during the flood");
    assert!(grown < MEMORY_SLACK, "grew by {grown} bytes");
    let subjects: Vec<String> = bobs_messages(&dir.path().join("data"))
        .iter()
        .map(|m| String::from_utf8_lossy(m).into_owned())
        .filter_map(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("Subject: ").map(str::to_string))
        })
        .collect();
    for subject in ["warming up", "meanwhile", "after"] {
        assert!(subjects.iter().any(|s| s == subject), "{subjects:?}");
    }
}
