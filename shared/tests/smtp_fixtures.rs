//! Golden SMTP sessions: the course's dialogues (as printed, and replayed
//! against this lab's server, which must answer with the course's words),
//! and sessions of our own with EHLO, pipelining, dot-stuffing, 8-bit text
//! and commands out of sequence.

mod common;

use common::*;
use std::sync::Arc;
use wirelab_shared::dissect::Severity;
use wirelab_shared::mail::store::MemoryStore;
use wirelab_shared::smtp::{SmtpServer, SmtpServerConfig, SmtpState, SmtpTranscript};
use wirelab_shared::transcript::Side;

fn render(t: &SmtpTranscript) -> String {
    render_session(t.messages(), |s| s.label())
}

fn replay(name: &str) -> SmtpTranscript {
    follow_fixture(&fixture_dir("smtp").join(name))
}

#[test]
fn every_transcript_matches_its_golden_outline() {
    let files = fixtures("smtp", "transcript");
    assert!(files.len() >= 4);
    for path in files {
        let t: SmtpTranscript = follow_fixture(&path);
        check_golden(&path, &render(&t));
    }
}

/// The bytes of a session in the order they crossed the wire.
type Wire = Vec<(Side, Vec<u8>)>;

/// Runs the lines of a `.commands` fixture against the server, one at a
/// time as a student types them, and follows both sides.
fn against_the_server(name: &str) -> (SmtpTranscript, Wire, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::course());
    let config = SmtpServerConfig {
        peer: "[192.0.2.25]".into(),
        clock_epoch_unix: Some(1_725_271_282),
        ..SmtpServerConfig::default()
    };
    let mut server = SmtpServer::new(config, store.clone());
    let mut t = SmtpTranscript::new();
    let wire = type_commands(&mut server, &mut t, &fixture_dir("smtp").join(name));
    (t, wire, store)
}

#[test]
fn the_server_answers_the_course_dialogue_in_the_course_words() {
    let (t, wire, store) = against_the_server("course-dialogue.commands");
    check_golden(
        &fixture_dir("smtp").join("course-dialogue.commands"),
        &render(&t),
    );
    let printed = transcript(&fixture_dir("smtp").join("course-dialogue.transcript"));
    let printed_replies: Vec<&Vec<u8>> = printed
        .iter()
        .filter(|(s, _)| *s == Side::Server)
        .map(|(_, b)| b)
        .collect();
    let our_replies: Vec<&Vec<u8>> = wire
        .iter()
        .filter(|(s, _)| *s == Side::Server)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(our_replies.len(), printed_replies.len());
    // Every reply is the course's, word for word, the greeting included.
    for (ours, printed) in our_replies.iter().zip(&printed_replies) {
        assert_eq!(
            String::from_utf8_lossy(ours),
            String::from_utf8_lossy(printed)
        );
    }
    assert_eq!(t.state(), SmtpState::Closed);
    let stored = store.messages("bob@hamburger.edu");
    assert_eq!(stored.len(), 3);
    assert!(
        stored[2]
            .1
            .ends_with(b"\r\nDo you like ketchup?\r\n    How about pickles?\r\n")
    );
}

#[test]
fn the_course_dialogue_as_printed() {
    let t = replay("course-dialogue.transcript");
    let labels: Vec<&str> = t.messages().iter().map(|m| m.state.label()).collect();
    assert!(
        labels.contains(&"mail transaction open")
            && labels.contains(&"recipients given")
            && labels.contains(&"receiving data")
    );
    let refusal = t
        .messages()
        .iter()
        .find(|m| m.bytes.starts_with(b"550"))
        .unwrap();
    assert!(
        refusal
            .dissection
            .diagnostics
            .iter()
            .any(|d| d.message.contains("recipient is refused"))
    );
    let mail_from = &t.messages()[3];
    assert!(mail_from.dissection.diagnostics.iter().any(|d| d.severity == Severity::Warning && d.message.contains("space after the colon")));
    let data = t.messages().iter().find(|m| m.kind == "data").unwrap();
    let env = data.dissection.find("Envelope vs header").unwrap();
    assert_eq!(
        env.children.len(),
        2,
        "one sender, one accepted recipient (Johm was refused)"
    );
    let t = replay("course-dialogue-slides.transcript");
    assert_eq!(t.state(), SmtpState::Closed);
}

#[test]
fn pipelining_stuffing_and_8bit_text() {
    let t = replay("ehlo-pipelining-stuffing.transcript");
    let data = t.messages().iter().find(|m| m.kind == "data").unwrap();
    assert!(data.dissection.find("Dot-stuffing").is_some());
    assert!(
        data.dissection
            .diagnostics
            .iter()
            .any(|d| d.message.contains("BODY=8BITMIME"))
    );
    let env = data.dissection.find("Envelope vs header").unwrap();
    assert!(
        env.children
            .iter()
            .any(|c| c.value.contains("To: carol@gmail.com") && c.value.contains("(none)"))
    );
    let ehlo_reply = &t.messages()[2];
    assert!(
        ehlo_reply
            .dissection
            .find("Extension: PIPELINING")
            .is_some()
    );
}

#[test]
fn commands_out_of_sequence_are_flagged() {
    let t = replay("bad-sequence.transcript");
    let flagged: Vec<String> = t
        .messages()
        .iter()
        .filter(|m| m.kind == "command")
        .filter(|m| {
            m.dissection
                .diagnostics
                .iter()
                .any(|d| d.message.contains("503"))
        })
        .map(|m| String::from_utf8_lossy(&m.bytes).trim_end().to_string())
        .collect();
    assert_eq!(
        flagged,
        [
            "MAIL FROM:<alice@crepes.fr>",
            "RCPT TO:<bob@hamburger.edu>",
            "DATA"
        ]
    );
    let hello = t
        .messages()
        .iter()
        .find(|m| m.bytes.starts_with(b"HELLO"))
        .unwrap();
    assert!(
        hello
            .dissection
            .diagnostics
            .iter()
            .any(|d| d.message.contains("500"))
    );
}
