//! The mail servers end to end: the course's SMTP dialogue and POP3
//! session through `/ws` exactly as the page sends them, the shared client
//! engines over real sockets, real clients (swaks, Python's smtplib and
//! poplib, curl) with byte-for-byte checks, the POP3 lock, the limits, and
//! the mailbox API. Every relay here has its own temporary data directory.

mod common;

use common::*;
use std::path::Path;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wirelab_shared::engine::{Engine, Millis, Output};
use wirelab_shared::mail::header::parse_section;
use wirelab_shared::mail::store::course_messages;
use wirelab_shared::relay_protocol::RelayMessage;
use wirelab_shared::smtp::client::{OutgoingMail, SmtpClient, SmtpClientEvent};
use wirelab_testkit::require_tool;

/// Reads from the WebSocket until `complete` says the bytes hold a whole reply.
async fn ws_read(ws: &mut Ws, complete: impl Fn(&[u8]) -> bool) -> String {
    let mut got = Vec::new();
    while !complete(&got) {
        got.extend(next_bytes(ws).await);
    }
    String::from_utf8(got).unwrap()
}

fn smtp_reply(b: &[u8]) -> bool {
    matches!(wirelab_shared::smtp::frame::next_reply(b), Ok(Some(n)) if n == b.len())
}

fn pop3_reply(multiline: bool) -> impl Fn(&[u8]) -> bool {
    move |b: &[u8]| matches!(wirelab_shared::pop3::frame::next_reply(b, multiline), Ok(Some(n)) if n == b.len())
}

async fn connect(relay: &TestRelay, target: &str) -> Ws {
    let mut ws = relay.open(&format!("target={target}")).await;
    assert!(matches!(
        next_relay_message(&mut ws).await,
        RelayMessage::Connected { .. }
    ));
    ws
}

/// The messages of a mailbox on disk (new/ and cur/), in delivery order.
fn stored(data: &Path, mailbox: &str) -> Vec<Vec<u8>> {
    let mut files = Vec::new();
    for sub in ["new", "cur"] {
        for e in std::fs::read_dir(data.join("mail").join(mailbox).join(sub)).unwrap() {
            files.push(e.unwrap().path());
        }
    }
    files.sort_by_key(|p| {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        (
            name.split('.').next().unwrap().parse::<u64>().unwrap(),
            name,
        )
    });
    files.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

/// The message without the Return-Path and Received lines the server added.
fn without_trace(message: &[u8]) -> &[u8] {
    let h = parse_section(message, 0, message.len());
    assert!(
        h.fields[0].is(message, "Return-Path"),
        "the server adds Return-Path first"
    );
    assert!(h.fields[1].is(message, "Received"), "then Received");
    &message[h.fields[1].span.end..]
}

#[tokio::test]
async fn the_course_smtp_dialogue_through_ws_then_pop3() {
    let relay = start(|_| {}).await;
    let mut ws = connect(&relay, "smtp").await;
    let greeting = ws_read(&mut ws, smtp_reply).await;
    assert_eq!(greeting, "220 hamburger.edu\r\n", "the course's greeting");
    // The course's dialogue, line by line as the page sends it, with the
    // replies of the course word for word.
    for (line, reply) in [
        (
            "HELO crepes.fr",
            Some("250 Hello crepes.fr, pleased to meet you"),
        ),
        (
            "MAIL FROM: <alice@crepes.fr>",
            Some("250 alice@crepes.fr ... Sender ok"),
        ),
        (
            "RCPT TO: <bob@hamburger.edu>",
            Some("250 bob@hamburger.edu ... Recipient ok"),
        ),
        (
            "RCPT TO: <Johm@hamburger.edu>",
            Some("550 No such user here"),
        ),
        (
            "DATA",
            Some("354 Enter mail, end with \".\" on a line by itself"),
        ),
        ("Do you like ketchup?", None),
        ("    How about pickles?", None),
        (".", Some("250 Message accepted for delivery")),
        ("QUIT", Some("221 hamburger.edu closing connection")),
    ] {
        send_bytes(&mut ws, format!("{line}\r\n").as_bytes()).await;
        if let Some(expected) = reply {
            assert_eq!(
                ws_read(&mut ws, smtp_reply).await,
                format!("{expected}\r\n"),
                "after {line:?}"
            );
        }
    }
    match next_relay_message(&mut ws).await {
        RelayMessage::Closed { .. } => {}
        other => panic!("expected closed, got {other:?}"),
    }
    let bob = stored(relay._data.path(), "bob@hamburger.edu");
    assert_eq!(bob.len(), 3);
    let text = String::from_utf8(bob[2].clone()).unwrap();
    assert!(text.starts_with("Return-Path: <alice@crepes.fr>\r\nReceived: from crepes.fr ([127.0.0.1])\r\n\tby hamburger.edu (wirelab) with SMTP\r\n\tfor <bob@hamburger.edu>;\r\n\t"), "{text}");
    // The course's text has no header section: the server puts an empty
    // line after its trace fields, so the two lines stay the body.
    assert_eq!(
        without_trace(&bob[2]),
        b"\r\nDo you like ketchup?\r\n    How about pickles?\r\n"
    );

    // Bob reads it over POP3.
    let mut ws = connect(&relay, "pop3").await;
    assert_eq!(
        ws_read(&mut ws, pop3_reply(false)).await,
        "+OK POP3 server ready\r\n"
    );
    send_bytes(&mut ws, b"user bob\r\n").await;
    assert_eq!(ws_read(&mut ws, pop3_reply(false)).await, "+OK\r\n");
    send_bytes(&mut ws, b"pass hungry\r\n").await;
    assert_eq!(
        ws_read(&mut ws, pop3_reply(false)).await,
        "+OK user successfully logged on\r\n"
    );
    send_bytes(&mut ws, b"list\r\n").await;
    let size = bob[2].len();
    assert_eq!(
        ws_read(&mut ws, pop3_reply(true)).await,
        format!(
            "+OK 3 messages ({} octets)\r\n1 498\r\n2 912\r\n3 {size}\r\n.\r\n",
            1410 + size
        )
    );
    send_bytes(&mut ws, b"retr 3\r\n").await;
    let retr = ws_read(&mut ws, pop3_reply(true)).await;
    assert!(retr.starts_with(&format!(
        "+OK {size} octets\r\nReturn-Path: <alice@crepes.fr>\r\n"
    )));
    assert!(retr.ends_with("Do you like ketchup?\r\n    How about pickles?\r\n.\r\n"));
}

#[tokio::test]
async fn the_course_pop3_session_through_ws() {
    let relay = start(|_| {}).await;
    let mut ws = connect(&relay, "pop3").await;
    assert_eq!(
        ws_read(&mut ws, pop3_reply(false)).await,
        "+OK POP3 server ready\r\n"
    );
    let [one, two] = course_messages();
    let one = String::from_utf8_lossy(one);
    let two = String::from_utf8_lossy(two);
    for (line, multiline, expected) in [
        ("user bob", false, "+OK\r\n".to_string()),
        (
            "pass hungry",
            false,
            "+OK user successfully logged on\r\n".into(),
        ),
        (
            "list",
            true,
            "+OK 2 messages (1410 octets)\r\n1 498\r\n2 912\r\n.\r\n".into(),
        ),
        ("retr 1", true, format!("+OK 498 octets\r\n{one}.\r\n")),
        ("dele 1", false, "+OK message 1 deleted\r\n".into()),
        ("retr 2", true, format!("+OK 912 octets\r\n{two}.\r\n")),
        ("dele 2", false, "+OK message 2 deleted\r\n".into()),
    ] {
        send_bytes(&mut ws, format!("{line}\r\n").as_bytes()).await;
        assert_eq!(
            ws_read(&mut ws, pop3_reply(multiline)).await,
            expected,
            "after {line:?}"
        );
    }
    // Deletions wait for QUIT.
    assert_eq!(stored(relay._data.path(), "bob@hamburger.edu").len(), 2);
    send_bytes(&mut ws, b"quit\r\n").await;
    assert_eq!(
        ws_read(&mut ws, pop3_reply(false)).await,
        "+OK POP3 server signing off\r\n"
    );
    assert!(stored(relay._data.path(), "bob@hamburger.edu").is_empty());
}

async fn read_line(stream: &mut TcpStream) -> String {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\r\n") {
        assert_eq!(
            stream.read(&mut byte).await.unwrap(),
            1,
            "the server closed early"
        );
        line.push(byte[0]);
    }
    String::from_utf8(line).unwrap()
}

async fn pop3_login(port: u16) -> (TcpStream, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    read_line(&mut s).await;
    s.write_all(b"USER bob\r\nPASS hungry\r\n").await.unwrap();
    read_line(&mut s).await;
    let answer = read_line(&mut s).await;
    (s, answer)
}

#[tokio::test]
async fn a_second_pop3_session_is_locked_out_and_a_dropped_one_deletes_nothing() {
    let relay = start(|_| {}).await;
    let port = relay.relay.target("pop3").unwrap().port;
    let (mut first, answer) = pop3_login(port).await;
    assert_eq!(answer, "+OK user successfully logged on\r\n");
    first.write_all(b"DELE 1\r\nDELE 2\r\n").await.unwrap();
    read_line(&mut first).await;
    read_line(&mut first).await;
    let (_second, answer) = pop3_login(port).await;
    assert!(answer.starts_with("-ERR [IN-USE]"), "{answer}");
    // The first session goes away without QUIT: nothing is deleted.
    drop(first);
    let mut answer = String::new();
    for _ in 0..100 {
        let (mut third, a) = pop3_login(port).await;
        answer = a;
        if answer.starts_with("+OK") {
            third.write_all(b"STAT\r\n").await.unwrap();
            assert_eq!(read_line(&mut third).await, "+OK 2 1410\r\n");
            break;
        }
        // The server notices the closed connection asynchronously.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(answer.starts_with("+OK"), "{answer}");
    assert_eq!(stored(relay._data.path(), "bob@hamburger.edu").len(), 2);
}

/// Drives the shared SMTP client engine over a real socket.
async fn send_with_engine(port: u16, mails: Vec<OutgoingMail>) -> Vec<SmtpClientEvent> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut client = SmtpClient::new("crepes.fr", mails);
    let mut events = Vec::new();
    let mut buf = vec![0u8; 4096];
    loop {
        let n = stream.read(&mut buf).await.unwrap();
        if n == 0 {
            client.handle_eof(Millis(0));
        } else {
            client.handle_input(&buf[..n], Millis(0));
        }
        loop {
            match client.poll_output() {
                Output::Transmit(bytes) => stream.write_all(&bytes).await.unwrap(),
                Output::Event(e) => events.push(e),
                Output::Close => return events,
                Output::Wait(_) => break,
            }
        }
    }
}

#[tokio::test]
async fn no_open_relay_size_limits_and_the_client_engine() {
    let relay = start(|c| {
        c.servers.smtp.max_message_bytes = 2000;
        c.servers.mail.max_mailbox_bytes = 5000;
    })
    .await;
    let port = relay.relay.target("smtp").unwrap().port;
    let mail = |to: &str, body: Vec<u8>| OutgoingMail {
        mail_from: "alice@crepes.fr".into(),
        rcpt_to: vec![to.into()],
        message: [b"Subject: test\r\n\r\n".to_vec(), body].concat(),
    };
    let events = send_with_engine(
        port,
        vec![
            mail("someone@gmail.com", b"relay me\r\n".to_vec()),
            mail("bob@hamburger.edu", vec![b'x'; 3000]),
            mail("bob@hamburger.edu", b"small\r\n".to_vec()),
            mail(
                "alice@crepes.fr",
                [vec![b'y'; 1900], b"\r\n".to_vec()].concat(),
            ),
            mail(
                "alice@crepes.fr",
                [vec![b'y'; 1900], b"\r\n".to_vec()].concat(),
            ),
            mail(
                "alice@crepes.fr",
                [vec![b'y'; 1900], b"\r\n".to_vec()].concat(),
            ),
        ],
    )
    .await;
    let outcomes: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            SmtpClientEvent::Delivered { index, .. } => Some(format!("{index}: delivered")),
            SmtpClientEvent::Failed { index, reply } => {
                Some(format!("{index}: {}", reply.to_bytes().escape_ascii()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            "0: 550 5.7.1 Relaying denied: this server only accepts mail for crepes.fr, hamburger.edu\\r\\n",
            "1: 552 5.3.4 Message too big for system\\r\\n",
            "2: delivered",
            "3: delivered",
            "4: delivered",
            "5: 552 5.2.2 Mailbox full\\r\\n",
        ]
    );
    assert_eq!(stored(relay._data.path(), "bob@hamburger.edu").len(), 3);
    assert_eq!(stored(relay._data.path(), "alice@crepes.fr").len(), 2);
}

#[tokio::test]
async fn the_configured_limits_reach_both_servers() {
    let relay = start(|c| {
        c.servers.smtp.max_line_bytes = 600;
        c.servers.smtp.max_recipients = 2;
        c.servers.smtp.max_errors = 3;
        c.servers.pop3.max_line_bytes = 300;
        c.servers.pop3.max_errors = 3;
    })
    .await;
    let port = relay.relay.target("smtp").unwrap().port;
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    read_line(&mut s).await;
    let long = |n: usize| format!("NOOP {}\r\n", "x".repeat(n - 5));
    s.write_all(format!("HELO crepes.fr\r\n{}{}", long(600), long(601)).as_bytes())
        .await
        .unwrap();
    read_line(&mut s).await;
    assert_eq!(read_line(&mut s).await, "250 OK\r\n");
    assert_eq!(read_line(&mut s).await, "500 Line too long\r\n");
    s.write_all(b"MAIL FROM:<alice@crepes.fr>\r\nRCPT TO:<bob@hamburger.edu>\r\nRCPT TO:<alice@crepes.fr>\r\nRCPT TO:<bob@hamburger.edu>\r\n")
        .await
        .unwrap();
    for _ in 0..3 {
        assert!(read_line(&mut s).await.starts_with("250 "));
    }
    assert_eq!(read_line(&mut s).await, "452 Too many recipients\r\n");
    s.write_all(b"BAD\r\nBAD\r\nNOOP\r\n").await.unwrap();
    read_line(&mut s).await;
    read_line(&mut s).await;
    assert_eq!(
        read_line(&mut s).await,
        "421 hamburger.edu Too many errors, closing connection\r\n"
    );
    assert_eq!(s.read(&mut [0u8; 1]).await.unwrap(), 0, "closed");

    let port = relay.relay.target("pop3").unwrap().port;
    let (mut s, answer) = pop3_login(port).await;
    assert_eq!(answer, "+OK user successfully logged on\r\n");
    s.write_all(format!("{}{}", long(300), long(301)).as_bytes())
        .await
        .unwrap();
    // Read whole (and refused: NOOP takes no argument), then too long.
    assert_eq!(
        read_line(&mut s).await,
        "-ERR usage: NOOP (no argument)\r\n"
    );
    assert_eq!(read_line(&mut s).await, "-ERR line too long\r\n");
    s.write_all(b"BAD\r\n").await.unwrap();
    read_line(&mut s).await;
    assert_eq!(
        read_line(&mut s).await,
        "-ERR too many errors, closing connection\r\n"
    );
    assert_eq!(s.read(&mut [0u8; 1]).await.unwrap(), 0, "closed");
}

async fn http(relay: &TestRelay, method: &str, path: &str) -> (u16, serde_json::Value) {
    let mut stream = TcpStream::connect(relay.relay.addr).await.unwrap();
    // The relay's own address as Host: a loopback relay refuses other
    // names (its DNS rebinding defence).
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        relay.relay.addr
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8_lossy(&response).to_string();
    let status = text[9..12].parse().unwrap();
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (
        status,
        serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
    )
}

#[tokio::test]
async fn the_mailbox_api_lists_and_resets() {
    let relay = start(|_| {}).await;
    let (status, list) = http(&relay, "GET", "/api/mailboxes").await;
    assert_eq!(status, 200);
    assert_eq!(list[0]["address"], "bob@hamburger.edu");
    assert_eq!(list[0]["messages"], 2);
    assert_eq!(list[0]["bytes"], 1410);
    let port = relay.relay.target("pop3").unwrap().port;
    let (mut s, _) = pop3_login(port).await;
    let (status, body) = http(&relay, "POST", "/api/mailboxes/bob@hamburger.edu/reset").await;
    assert_eq!(status, 409, "{body}");
    s.write_all(b"DELE 1\r\nQUIT\r\n").await.unwrap();
    read_line(&mut s).await;
    assert_eq!(read_line(&mut s).await, "+OK POP3 server signing off\r\n");
    assert_eq!(stored(relay._data.path(), "bob@hamburger.edu").len(), 1);
    let (status, body) = http(&relay, "POST", "/api/mailboxes/bob@hamburger.edu/reset").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["reset"]["messages"], 2);
    assert_eq!(
        stored(relay._data.path(), "bob@hamburger.edu"),
        course_messages().map(|m| m.to_vec())
    );
    let (status, _) = http(&relay, "POST", "/api/mailboxes/nobody@hamburger.edu/reset").await;
    assert_eq!(status, 404);
    let off = start(|c| c.servers.enabled = false).await;
    assert_eq!(http(&off, "GET", "/api/mailboxes").await.0, 503);
}

#[tokio::test]
async fn swaks_sends_to_several_recipients_byte_for_byte() {
    let Some(swaks) = require_tool("swaks", "swaks") else {
        return;
    };
    let relay = start(|_| {}).await;
    let port = relay.relay.target("smtp").unwrap().port.to_string();
    // swaks ends the text with CR LF . CR LF itself: the file has no final line break.
    let message = b"From: Alice <alice@crepes.fr>\r\nTo: bob@hamburger.edu, alice@crepes.fr\r\nSubject: from swaks\r\n\r\n.a line that starts with a dot\r\n..and one with two\r\nDo you like ketchup?";
    let file = relay._data.path().join("swaks.eml");
    std::fs::write(&file, message).unwrap();
    let out = run(
        &swaks,
        &[
            "--server",
            &format!("127.0.0.1:{port}"),
            "--from",
            "alice@crepes.fr",
            "--to",
            "bob@hamburger.edu,alice@crepes.fr",
            "--data",
            &format!("@{}", file.display()),
        ],
    )
    .await;
    let transcript = String::from_utf8_lossy(&out.stdout);
    assert!(
        transcript.contains("<-  250 2.0.0 Message accepted for delivery"),
        "{transcript}"
    );
    let expected = [&message[..], b"\r\n"].concat();
    for mailbox in ["bob@hamburger.edu", "alice@crepes.fr"] {
        let got = stored(relay._data.path(), mailbox);
        assert_eq!(without_trace(got.last().unwrap()), expected, "{mailbox}");
    }
}

const PY_SEND: &str = r#"
import smtplib, sys
from email.message import EmailMessage
from email import policy
port, out = int(sys.argv[1]), sys.argv[2]
m = EmailMessage(policy=policy.SMTP)
m["From"] = "Alice <alice@crepes.fr>"
m["To"] = "Bob <bob@hamburger.edu>, alice@crepes.fr"
m["Subject"] = "Crêpes and dots"
m.set_content(".leading dot\n..two dots\n.\nDo you like ketchup?\n")
m.add_attachment(bytes(range(256)) * 4, maintype="application", subtype="octet-stream", filename="bytes.bin")
raw = m.as_bytes()
open(out, "wb").write(raw)
with smtplib.SMTP("127.0.0.1", port) as s:
    refused = s.sendmail("alice@crepes.fr", ["bob@hamburger.edu", "alice@crepes.fr", "johm@hamburger.edu"], raw)
print(sorted(refused))
"#;

#[tokio::test]
async fn python_smtplib_sends_dot_lines_and_an_attachment_byte_for_byte() {
    let Some(python) = require_tool("python3", "python3") else {
        return;
    };
    let relay = start(|_| {}).await;
    let port = relay.relay.target("smtp").unwrap().port.to_string();
    let sent = relay._data.path().join("sent.eml");
    let out = run(&python, &["-c", PY_SEND, &port, &sent.to_string_lossy()]).await;
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "['johm@hamburger.edu']"
    );
    let sent = std::fs::read(&sent).unwrap();
    assert!(
        sent.windows(5).any(|w| w == b"\r\n.\r\n"),
        "the message has a line with a single dot"
    );
    for mailbox in ["bob@hamburger.edu", "alice@crepes.fr"] {
        let got = stored(relay._data.path(), mailbox);
        assert_eq!(got.len(), if mailbox.starts_with("bob") { 3 } else { 1 });
        assert_eq!(without_trace(got.last().unwrap()), sent, "{mailbox}");
    }
    // Two recipients: the Received line names no single one.
    let bob = stored(relay._data.path(), "bob@hamburger.edu");
    let head = String::from_utf8_lossy(&bob[2][..200]);
    assert!(!head.contains("for <"), "{head}");
}

const PY_POP: &str = r#"
import poplib, sys
p = poplib.POP3("127.0.0.1", int(sys.argv[1]))
print(p.getwelcome().decode())
p.user("bob"); p.pass_("hungry")
resp, listing, _ = p.list()
print(" ".join(l.decode() for l in listing))
for n in range(1, len(listing) + 1):
    resp, lines, octets = p.retr(n)
    data = b"\r\n".join(lines) + b"\r\n"
    assert len(data) == octets, (len(data), octets)
    open(sys.argv[2] + str(n), "wb").write(data)
    p.dele(n)
print(p.quit().decode())
"#;

#[tokio::test]
async fn python_poplib_retrieves_and_deletes() {
    let Some(python) = require_tool("python3", "python3") else {
        return;
    };
    let relay = start(|_| {}).await;
    let port = relay.relay.target("pop3").unwrap().port.to_string();
    let prefix = relay._data.path().join("retr-");
    let out = run(&python, &["-c", PY_POP, &port, &prefix.to_string_lossy()]).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text,
        "+OK POP3 server ready\n1 498 2 912\n+OK POP3 server signing off\n"
    );
    for (i, expected) in course_messages().iter().enumerate() {
        let got = std::fs::read(format!("{}{}", prefix.display(), i + 1)).unwrap();
        assert_eq!(got, *expected);
    }
    assert!(stored(relay._data.path(), "bob@hamburger.edu").is_empty());
}

#[tokio::test]
async fn curl_retrieves_and_deletes_over_pop3() {
    let Some(curl) = require_tool("curl", "curl") else {
        return;
    };
    let relay = start(|_| {}).await;
    let base = format!(
        "pop3://127.0.0.1:{}/",
        relay.relay.target("pop3").unwrap().port
    );
    let list = run(&curl, &["-s", "-u", "bob:hungry", &base]).await;
    assert_eq!(list.stdout, b"1 498\r\n2 912\r\n");
    let retr = run(&curl, &["-s", "-u", "bob:hungry", &format!("{base}2")]).await;
    assert_eq!(retr.stdout, course_messages()[1]);
    run(
        &curl,
        &[
            "-s",
            "-u",
            "bob:hungry",
            "-X",
            "DELE",
            "-I",
            &format!("{base}1"),
        ],
    )
    .await;
    let list = run(&curl, &["-s", "-u", "bob:hungry", &base]).await;
    assert_eq!(list.stdout, b"1 912\r\n");
    assert_eq!(
        stored(relay._data.path(), "bob@hamburger.edu"),
        [course_messages()[1].to_vec()]
    );
}
