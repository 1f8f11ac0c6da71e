//! Golden POP3 sessions: the course's session as printed (whose missing
//! `+OK` lines the dissector must explain) and replayed against this lab's
//! server (which reproduces `1 498`, `2 912` on a fresh mailbox), and a
//! session that uses the other commands and the wrong states.

mod common;

use common::*;
use std::sync::Arc;
use wirelab_shared::dissect::Severity;
use wirelab_shared::mail::store::MemoryStore;
use wirelab_shared::pop3::{Pop3Server, Pop3ServerConfig, Pop3State, Pop3Transcript};

fn render(t: &Pop3Transcript) -> String {
    render_session(t.messages(), |s| s.label())
}

fn against_the_server(name: &str) -> (Pop3Transcript, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::course());
    let mut server = Pop3Server::new(Pop3ServerConfig::default(), store.clone());
    let mut t = Pop3Transcript::new();
    type_commands(&mut server, &mut t, &fixture_dir("pop3").join(name));
    (t, store)
}

#[test]
fn every_session_matches_its_golden_outline() {
    let transcripts = fixtures("pop3", "transcript");
    let commands = fixtures("pop3", "commands");
    // Two loops over what a directory holds: make sure they have work.
    assert!(!transcripts.is_empty(), "no .transcript fixtures");
    assert!(commands.len() >= 2, "fixtures are missing: {commands:?}");
    for path in transcripts {
        let t: Pop3Transcript = follow_fixture(&path);
        check_golden(&path, &render(&t));
    }
    for path in commands {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let (t, _) = against_the_server(&name);
        check_golden(&path, &render(&t));
    }
}

#[test]
fn the_course_session_against_the_server() {
    let (t, store) = against_the_server("course-session.commands");
    let replies: Vec<String> = t
        .messages()
        .iter()
        .filter(|m| m.kind != "command")
        .map(|m| {
            String::from_utf8_lossy(&m.bytes)
                .lines()
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(replies[0], "+OK POP3 server ready");
    assert_eq!(replies[1], "+OK");
    assert_eq!(replies[2], "+OK user successfully logged on");
    assert_eq!(replies.last().unwrap(), "+OK POP3 server signing off");
    let list = t
        .messages()
        .iter()
        .find(|m| {
            m.answers
                .is_some_and(|a| t.messages()[a].bytes == b"list\r\n")
        })
        .unwrap();
    assert!(list.bytes.ends_with(b"\r\n1 498\r\n2 912\r\n.\r\n"));
    // The real server sends message 2 for retr 2: no erratum to explain.
    assert!(t.messages().iter().all(|m| {
        !m.dissection
            .diagnostics
            .iter()
            .any(|d| d.message.contains("erratum"))
    }));
    assert_eq!(t.state(), Pop3State::Update);
    assert!(
        store.messages("bob@hamburger.edu").is_empty(),
        "download and delete"
    );
}

#[test]
fn erratum_the_printed_session_omits_the_ok_lines() {
    let path = fixture_dir("pop3").join("course-session-as-printed.transcript");
    let t: Pop3Transcript = follow_fixture(&path);
    let missing_ok = t
        .messages()
        .iter()
        .filter(|m| {
            m.dissection.diagnostics.iter().any(|d| {
                d.severity == Severity::Error && d.message.contains("starts with +OK or -ERR")
            })
        })
        .count();
    assert!(
        missing_ok >= 3,
        "the printed `1 498`, `2 912`, `<message 1 contents>` lines lack +OK"
    );
}

#[test]
fn erratum_retr_2_printing_message_1_is_explained_where_it_happens() {
    let path = fixture_dir("pop3").join("course-session-as-printed.transcript");
    let t: Pop3Transcript = follow_fixture(&path);
    let explained: Vec<(usize, &[u8])> = t
        .messages()
        .iter()
        .enumerate()
        .filter(|(_, m)| {
            m.dissection
                .diagnostics
                .iter()
                .any(|d| d.message.contains("erratum") && d.message.contains("retr 2"))
        })
        .map(|(i, m)| (i, &m.bytes[..]))
        .collect();
    // Only the second `<message 1 contents>`, the one after `retr 2`; the
    // first answers `retr 1` as it should.
    assert_eq!(explained.len(), 1, "{explained:?}");
    let (at, bytes) = explained[0];
    assert_eq!(bytes, b"<message 1 contents>\r\n");
    let retr_2 = t
        .messages()
        .iter()
        .position(|m| m.bytes == b"retr 2\r\n")
        .unwrap();
    assert!(at > retr_2);
    let diagnostic = t.messages()[at]
        .dissection
        .diagnostics
        .iter()
        .find(|d| d.message.contains("erratum"))
        .unwrap();
    assert_eq!(&bytes[diagnostic.span.start..diagnostic.span.end], b"1");
}

#[test]
fn other_commands_and_wrong_states() {
    let (t, store) = against_the_server("keep-top-uidl.commands");
    let list_first = &t.messages()[3];
    assert!(
        list_first
            .dissection
            .diagnostics
            .iter()
            .any(|d| d.message.contains("only valid after logging in"))
    );
    let top = t
        .messages()
        .iter()
        .find(|m| m.bytes.starts_with(b"+OK top of message follows"))
        .unwrap();
    assert!(top.dissection.find("Header: Subject").is_some());
    let retr3 = t.messages().last().unwrap();
    assert!(retr3.bytes.starts_with(b"+OK POP3 server signing off"));
    assert!(
        t.messages()
            .iter()
            .any(|m| m.bytes.starts_with(b"-ERR no such message"))
    );
    assert_eq!(
        store.messages("bob@hamburger.edu").len(),
        2,
        "RSET undid the DELE"
    );
}
