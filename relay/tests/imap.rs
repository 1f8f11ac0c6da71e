//! The IMAP server end to end with real clients: Python's imaplib through
//! a whole session (log in, select, fetch, set flags, mail arriving by
//! SMTP, log out, log in again: the flags are still there, also on disk as
//! Maildir info), curl's `imap://` (list, fetch, search), and bad input on
//! a raw socket (an oversized literal refused before it is sent, an
//! endless line, commands in the wrong state), and IDLE told of mail that
//! SMTP delivers; imaplib again with folders, APPEND, MOVE, AUTHENTICATE
//! PLAIN and NAMESPACE, and mbsync syncing folders and flags both ways.

mod common;

use common::*;
use std::path::Path;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wirelab_shared::mail::store::course_messages;
use wirelab_testkit::require_tool;

/// The names of bob's message files in `cur/`, sorted.
fn cur_names(data: &Path) -> Vec<String> {
    let cur = data.join("mail/bob@hamburger.edu/cur");
    let mut names: Vec<String> = std::fs::read_dir(cur)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

const PY_IMAP: &str = r#"
import imaplib, smtplib, sys
port, smtp_port, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
m = imaplib.IMAP4("127.0.0.1", port)
print(m.login("bob", "hungry")[0])
typ, data = m.select("INBOX")
print(typ, data[0].decode(), m.untagged_responses.get("UIDNEXT"))
typ, data = m.fetch("1:*", "(UID FLAGS RFC822.SIZE)")
print(" | ".join(d.decode() for d in data))
typ, data = m.fetch("1", "(BODY.PEEK[])")
open(out, "wb").write(data[0][1])
typ, data = m.fetch("2", "(BODY[HEADER])")
print(data[0][0].decode(), data[1].decode())
typ, data = m.store("1", "+FLAGS", "(\\Flagged)")
print(data[0].decode())
with smtplib.SMTP("127.0.0.1", smtp_port) as s:
    s.sendmail("alice@crepes.fr", ["bob@hamburger.edu"], b"Subject: late\r\n\r\nhi\r\n")
typ, data = m.noop()
print("EXISTS", m.untagged_responses.get("EXISTS"))
print(m.search(None, "UNSEEN")[1][0].decode())
print(m.logout()[0])
m = imaplib.IMAP4("127.0.0.1", port)
m.login("bob", "hungry")
m.select("INBOX", readonly=True)
typ, data = m.uid("FETCH", "1:*", "(FLAGS)")
print(" | ".join(d.decode() for d in data))
print(m.status("INBOX", "(MESSAGES UNSEEN UIDNEXT)")[1][0].decode())
m.logout()
"#;

#[tokio::test]
async fn python_imaplib_sets_flags_that_outlive_the_session() {
    let Some(python) = require_tool("python3", "python3") else {
        return;
    };
    let relay = start(|_| {}).await;
    let port = relay.relay.target("imap").unwrap().port.to_string();
    let smtp = relay.relay.target("smtp").unwrap().port.to_string();
    let body = relay._data.path().join("body.eml");
    let out = run(
        &python,
        &["-c", PY_IMAP, &port, &smtp, &body.to_string_lossy()],
    )
    .await;
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    let recipe = course_messages()[1];
    let header = recipe.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    // BODY[HEADER] is no PEEK: it sets \Seen and says so.
    let header_line = format!("2 (BODY[HEADER] {{{header}}}  FLAGS (\\Seen))");
    assert_eq!(
        lines,
        [
            "OK",
            "OK 2 [b'3']",
            "1 (UID 1 FLAGS () RFC822.SIZE 498) | 2 (UID 2 FLAGS () RFC822.SIZE 912)",
            &header_line,
            "1 (FLAGS (\\Flagged))",
            "EXISTS [b'2', b'3']",
            "1 3",
            "BYE",
            "1 (UID 1 FLAGS (\\Flagged)) | 2 (UID 2 FLAGS (\\Seen)) | 3 (UID 3 FLAGS ())",
            "INBOX (MESSAGES 3 UNSEEN 2 UIDNEXT 4)",
        ],
        "{text}"
    );
    assert_eq!(std::fs::read(&body).unwrap(), course_messages()[0]);
    let names = cur_names(relay._data.path());
    assert!(names[0].ends_with(",S=498:2,F"), "{names:?}");
    assert!(names[1].ends_with(",S=912:2,S"), "{names:?}");
}

#[tokio::test]
async fn curl_lists_fetches_and_searches() {
    let Some(curl) = require_tool("curl", "curl") else {
        return;
    };
    let relay = start(|_| {}).await;
    let base = format!(
        "imap://127.0.0.1:{}/",
        relay.relay.target("imap").unwrap().port
    );
    let list = run(&curl, &["-s", "-u", "bob:hungry", &base]).await;
    assert_eq!(
        String::from_utf8_lossy(&list.stdout),
        "* LIST (\\HasNoChildren) \"/\" INBOX\r\n"
    );
    // A custom command makes a folder; the listing then shows it.
    run(
        &curl,
        &["-s", "-u", "bob:hungry", &base, "-X", "CREATE Sent/2024"],
    )
    .await;
    let list = run(&curl, &["-s", "-u", "bob:hungry", &base]).await;
    assert_eq!(
        String::from_utf8_lossy(&list.stdout),
        "* LIST (\\HasNoChildren) \"/\" INBOX\r\n* LIST (\\HasChildren) \"/\" Sent\r\n\
         * LIST (\\HasNoChildren) \"/\" Sent/2024\r\n"
    );
    let url = format!("{base}INBOX;UID=2");
    let fetched = run(&curl, &["-s", "-u", "bob:hungry", &url]).await;
    assert_eq!(fetched.stdout, course_messages()[1]);
    let url = format!("{base}INBOX?UNSEEN");
    let search = run(&curl, &["-s", "-u", "bob:hungry", &url]).await;
    assert_eq!(
        String::from_utf8_lossy(&search.stdout),
        "* SEARCH 1\r\n",
        "curl's fetch set \\Seen on message 2"
    );
}

/// Reads until the session has said `needle`; within 5 s, not hanging.
async fn read_until(stream: &mut TcpStream, got: &mut Vec<u8>, needle: &str) -> String {
    let wait = async {
        while !String::from_utf8_lossy(got).contains(needle) {
            let mut buf = [0u8; 4096];
            let n = stream.read(&mut buf).await.unwrap();
            assert!(
                n > 0,
                "closed before {needle:?}: {}",
                String::from_utf8_lossy(got)
            );
            got.extend_from_slice(&buf[..n]);
        }
    };
    tokio::time::timeout(Duration::from_secs(5), wait)
        .await
        .unwrap_or_else(|_| panic!("no {needle:?} in {}", String::from_utf8_lossy(got)));
    String::from_utf8(std::mem::take(got)).unwrap()
}

#[tokio::test]
async fn bad_input_is_answered_bad_or_no() {
    let relay = start(|_| {}).await;
    let port = relay.relay.target("imap").unwrap().port;
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut got = Vec::new();
    read_until(&mut s, &mut got, "server ready\r\n").await;
    // A literal over max_literal_bytes: refused without the "+" that
    // would let the client send it.
    s.write_all(b"a1 LOGIN {5000000}\r\n").await.unwrap();
    let text = read_until(&mut s, &mut got, "\r\n").await;
    assert!(
        text.starts_with("a1 BAD [TOOBIG] a literal of 5000000 bytes"),
        "{text}"
    );
    // A line that never ends within max_line_bytes is dropped as it comes.
    s.write_all(&[b'x'; 100_000]).await.unwrap();
    s.write_all(b"\r\na2 FETCH 1 FLAGS\r\na3 SELECT INBOX\r\na4 NOOP\r\n")
        .await
        .unwrap();
    let text = read_until(&mut s, &mut got, "a4 OK").await;
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "* BAD [TOOBIG] a line is longer than 8192 bytes: dropped",
            "a2 NO FETCH is not valid in the Not Authenticated state (RFC 9051 §3)",
            "a3 NO SELECT is not valid in the Not Authenticated state (RFC 9051 §3)",
            "a4 OK NOOP completed",
        ]
    );
    s.write_all(b"a5 LOGIN bob hungry\r\na6 FETCH 1 FLAGS\r\na7 SELECT INBOX\r\na8 FETCH 9 FLAGS\r\na9 STORE 1 +FLAGS (\\Recent)\r\n")
        .await
        .unwrap();
    let text = read_until(&mut s, &mut got, "a9 NO [CANNOT] \\Recent cannot be kept").await;
    assert!(
        text.contains("a6 NO FETCH is not valid in the Authenticated state"),
        "{text}"
    );
    assert!(
        text.contains("a8 BAD 9 names messages past the last one (2)"),
        "{text}"
    );
}

/// One SMTP command and its reply, read up to the reply's code (the rest
/// of the line is left for the next read, which looks for another code).
async fn smtp_say(s: &mut TcpStream, got: &mut Vec<u8>, line: &str, code: &str) {
    if !line.is_empty() {
        s.write_all(line.as_bytes()).await.unwrap();
    }
    read_until(s, got, &format!("{code} ")).await;
}

#[tokio::test]
async fn idle_sees_mail_delivered_by_smtp() {
    let relay = start(|_| {}).await;
    let port = relay.relay.target("imap").unwrap().port;
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut got = Vec::new();
    read_until(&mut s, &mut got, "server ready\r\n").await;
    s.write_all(b"a1 LOGIN bob hungry\r\na2 SELECT INBOX\r\na3 IDLE\r\n")
        .await
        .unwrap();
    let text = read_until(&mut s, &mut got, "+ idling\r\n").await;
    assert!(text.contains("* 2 EXISTS"), "{text}");
    let smtp_port = relay.relay.target("smtp").unwrap().port;
    let mut m = TcpStream::connect(("127.0.0.1", smtp_port)).await.unwrap();
    let mut mgot = Vec::new();
    smtp_say(&mut m, &mut mgot, "", "220").await;
    for (line, code) in [
        ("HELO crepes.fr\r\n", "250"),
        ("MAIL FROM:<alice@crepes.fr>\r\n", "250"),
        ("RCPT TO:<bob@hamburger.edu>\r\n", "250"),
        ("DATA\r\n", "354"),
        ("Subject: idle\r\n\r\nhello\r\n.\r\n", "250"),
    ] {
        smtp_say(&mut m, &mut mgot, line, code).await;
    }
    // Told within read_until's 5 s, with no command from the client.
    let text = read_until(&mut s, &mut got, "* 3 EXISTS\r\n").await;
    assert_eq!(text, "* 3 EXISTS\r\n");
    s.write_all(b"DONE\r\na4 FETCH 3 BODY[HEADER]\r\n")
        .await
        .unwrap();
    let text = read_until(&mut s, &mut got, "a4 OK").await;
    assert!(text.starts_with("a3 OK IDLE terminated\r\n"), "{text}");
    assert!(text.contains("Subject: idle"), "{text}");
}

/// mbsync's configuration: the relay's IMAP server as the far side, a
/// Maildir under `local` as the near side, every folder both ways.
fn mbsync_config(port: u16, local: &Path) -> String {
    format!(
        "IMAPAccount lab\nHost 127.0.0.1\nPort {port}\nUser bob\nPass hungry\nSSLType None\n\
         AuthMechs PLAIN\n\nIMAPStore far\nAccount lab\n\n\
         MaildirStore near\nPath {dir}/\nInbox {dir}/INBOX\nSubFolders Verbatim\n\n\
         Channel lab\nFar :far:\nNear :near:\nPatterns *\nCreate Both\nExpunge Both\n\
         SyncState *\n",
        dir = local.display()
    )
}

/// The flags letters of the files in a Maildir folder (`new/` and
/// `cur/`), sorted.
fn flag_letters(folder: &Path) -> Vec<String> {
    let new = std::fs::read_dir(folder.join("new")).unwrap();
    let mut letters: Vec<String> = std::fs::read_dir(folder.join("cur"))
        .unwrap()
        .chain(new)
        .map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            name.split_once(":2,").map_or("", |(_, f)| f).to_string()
        })
        .collect();
    letters.sort();
    letters
}

#[tokio::test]
async fn mbsync_syncs_folders_and_flags_both_ways() {
    let Some(mbsync) = require_tool("mbsync", "isync") else {
        return;
    };
    let relay = start(|_| {}).await;
    let port = relay.relay.target("imap").unwrap().port;
    let local = relay._data.path().join("near");
    // A folder that exists only on this side, with one message in it.
    let archive = local.join("Archive");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(archive.join(sub)).unwrap();
    }
    std::fs::write(
        archive.join("new/1.local.host"),
        b"Subject: kept\r\nFrom: bob@hamburger.edu\r\n\r\nfiled away\r\n",
    )
    .unwrap();
    let rc = relay._data.path().join("mbsyncrc");
    std::fs::write(&rc, mbsync_config(port, &local)).unwrap();
    let rc = rc.to_string_lossy().into_owned();
    let args = ["-c", rc.as_str(), "-a"];
    let out = run(&mbsync, &args).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        flag_letters(&local.join("INBOX")).len(),
        2,
        "INBOX came down"
    );
    let server = relay._data.path().join("mail/bob@hamburger.edu");
    assert_eq!(
        std::fs::read_dir(server.join(".Archive/cur"))
            .unwrap()
            .count(),
        1,
        "the folder and its message went up"
    );
    // \Flagged set here, then synced: the server's file gets F.
    let cur = local.join("INBOX/cur");
    let mut near: Vec<std::path::PathBuf> = ["new", "cur"]
        .iter()
        .flat_map(|sub| std::fs::read_dir(local.join("INBOX").join(sub)).unwrap())
        .map(|e| e.unwrap().path())
        .collect();
    near.sort();
    let first = near.remove(0);
    let name = first.file_name().unwrap().to_string_lossy().into_owned();
    let flagged = match name.split_once(":2,") {
        Some((base, flags)) => format!("{base}:2,F{flags}"),
        None => format!("{name}:2,F"),
    };
    std::fs::rename(&first, cur.join(flagged)).unwrap();
    let out = run(&mbsync, &args).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let letters = flag_letters(&server);
    assert!(letters.iter().any(|f| f.contains('F')), "{letters:?}");
}

const PY_FOLDERS: &str = r#"
import imaplib, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
print(m.authenticate("PLAIN", lambda _: b"\0bob\0hungry")[0])
print(m.create("Archive/2024")[0], m.create("Sent")[0])
print(m.list()[1])
typ, data = m.append("Sent", r"(\Seen)", imaplib.Time2Internaldate(1_000_000_000), b"Subject: sent\r\n\r\nhi\r\n")
print(typ, data[0].decode())
m.select("INBOX")
typ, data = m.uid("MOVE", "2", "Archive/2024")
print(typ, m.untagged_responses.get("EXPUNGE"))
print(m.status("Archive/2024", "(MESSAGES)")[1][0].decode())
print(m.status("INBOX", "(MESSAGES)")[1][0].decode())
m.select("Sent", readonly=True)
print(m.fetch("1", "(FLAGS INTERNALDATE BODYSTRUCTURE)")[1][0].decode())
print(m.rename("Archive", "Old")[0], m.delete("Sent")[0])
print(m.list()[1])
print(m.namespace()[1][0].decode())
m.logout()
"#;

#[tokio::test]
async fn python_imaplib_uses_folders_append_move_and_authenticate() {
    let Some(python) = require_tool("python3", "python3") else {
        return;
    };
    let relay = start(|_| {}).await;
    let port = relay.relay.target("imap").unwrap().port.to_string();
    let out = run(&python, &["-c", PY_FOLDERS, &port]).await;
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 11, "{text}");
    assert_eq!(lines[..2], ["OK", "OK OK"], "{text}");
    assert_eq!(
        lines[2],
        r#"[b'(\\HasNoChildren) "/" INBOX', b'(\\HasChildren) "/" Archive', b'(\\HasNoChildren) "/" Archive/2024', b'(\\HasNoChildren) "/" Sent']"#
    );
    assert!(
        lines[3].starts_with("OK [APPENDUID ") && lines[3].ends_with(" 1] APPEND completed"),
        "{text}"
    );
    assert_eq!(
        lines[4], "OK [b'2']",
        "message 2 expunged from INBOX: {text}"
    );
    assert_eq!(
        lines[5..7],
        ["Archive/2024 (MESSAGES 1)", "INBOX (MESSAGES 1)"],
        "{text}"
    );
    assert!(lines[7].starts_with(r#"1 (FLAGS (\Seen) INTERNALDATE "09-Sep-2001 01:46:40 +0000" BODYSTRUCTURE ("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 4 1"#), "{text}");
    assert_eq!(lines[8], "OK OK", "{text}");
    assert_eq!(
        lines[9],
        r#"[b'(\\HasNoChildren) "/" INBOX', b'(\\HasChildren) "/" Old', b'(\\HasNoChildren) "/" Old/2024']"#
    );
    assert_eq!(lines[10], r#"(("" "/")) NIL NIL"#, "{text}");
    let server = relay._data.path().join("mail/bob@hamburger.edu");
    assert!(server.join(".Old.2024/cur").is_dir() && !server.join(".Sent").exists());
}
