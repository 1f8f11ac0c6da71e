//! The POP3 sessions a student can replay line by line in the workbench:
//! the course's download-and-delete session first, then download-and-keep,
//! changing one's mind with RSET, and commands in the wrong state.
//!
//! Each step is one line as typed, without its CR LF. The tests play every
//! session against the server engine on the course's mailbox and check
//! which lines get `+OK` and which `-ERR`.

use crate::conversation::Dialogue;

/// The course's session, as the slides print it (lowercase commands).
pub const COURSE: Dialogue = Dialogue {
    id: "course",
    title: "The course: bob downloads and deletes",
    note: "The course's session: log in (AUTHORIZATION), list and retrieve (TRANSACTION), mark for \
           deletion, and quit, which applies the deletions (UPDATE). The slides leave out the +OK \
           lines after list, retr and dele, and print \"message 1\" for retr 2: here you see \
           every reply as it is. A second session after this one finds the mailbox empty: reset \
           bob's mailbox below to get the course's two messages back.",
    steps: &[
        "user bob",
        "pass hungry",
        "list",
        "retr 1",
        "dele 1",
        "retr 2",
        "dele 2",
        "quit",
    ],
};

/// Every POP3 dialogue, the course's first.
pub const DIALOGUES: &[Dialogue] = &[
    COURSE,
    Dialogue {
        id: "keep",
        title: "Download and keep: STAT, LIST, UIDL, TOP, RETR",
        note: "Without DELE the messages stay on the server, so another client (or the same one \
               later) can read them again: \"download and keep\". STAT counts, UIDL gives each \
               message a name that survives between sessions, TOP n 0 fetches only the header.",
        steps: &[
            "USER bob",
            "PASS hungry",
            "STAT",
            "LIST",
            "UIDL",
            "TOP 1 0",
            "RETR 1",
            "QUIT",
        ],
    },
    Dialogue {
        id: "rset",
        title: "Changing your mind: DELE, then RSET",
        note: "DELE only marks a message; LIST no longer shows it. RSET removes the marks, and a \
               session that ends without QUIT deletes nothing either: deletions happen in the \
               UPDATE state only.",
        steps: &[
            "USER bob",
            "PASS hungry",
            "DELE 1",
            "LIST",
            "RSET",
            "LIST",
            "QUIT",
        ],
    },
    Dialogue {
        id: "wrong-state",
        title: "Commands in the wrong state",
        note: "LIST before logging in, PASS without USER, a wrong password and USER once logged \
               in all get -ERR; the dissection of the line you type says so before you send it. \
               CAPA is valid in any state.",
        steps: &[
            "LIST",
            "PASS hungry",
            "USER bob",
            "PASS ketchup",
            "USER bob",
            "PASS hungry",
            "USER alice",
            "CAPA",
            "QUIT",
        ],
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversation::{Conversation, Message, Sender};
    use crate::line_protocol::play_dialogue;
    use crate::mail::store::MemoryStore;
    use crate::pop3::{Pop3Server, Pop3ServerConfig, Pop3Transcript};
    use crate::transcript::FollowedConversation;
    use std::sync::Arc;

    /// Plays `dialogue`; returns whether each line got +OK, the messages
    /// and the follower.
    fn play(
        dialogue: &Dialogue,
        store: Arc<MemoryStore>,
    ) -> (
        Vec<bool>,
        Vec<Message>,
        FollowedConversation<Pop3Transcript>,
    ) {
        let mut server = Pop3Server::new(Pop3ServerConfig::default(), store);
        let played = play_dialogue(dialogue, &mut server, Pop3Transcript::new(), 0.0);
        let mut oks = Vec::new();
        for (step, replies) in dialogue.steps.iter().zip(&played.answers) {
            assert_eq!(replies.len(), 1, "{}: {step}", dialogue.id);
            assert_eq!(replies[0].sender, Sender::Server);
            oks.push(replies[0].bytes.starts_with(b"+OK"));
        }
        (oks, played.messages, played.conversation)
    }

    #[test]
    fn the_course_session_lists_498_and_912_and_deletes_at_quit() {
        let store = Arc::new(MemoryStore::course());
        let (oks, messages, c) = play(&COURSE, store.clone());
        assert!(oks.iter().all(|ok| *ok));
        assert_eq!(c.state().as_deref(), Some("UPDATE"));
        let list = messages
            .iter()
            .find(|m| m.bytes.starts_with(b"+OK 2 messages"))
            .expect("the scan listing");
        assert!(list.bytes.ends_with(b"1 498\r\n2 912\r\n.\r\n"));
        assert!(store.messages("bob@hamburger.edu").is_empty());
    }

    #[test]
    fn every_dialogue_gets_the_answers_its_note_promises() {
        let expected: &[(&str, &[bool])] = &[
            ("keep", &[true; 8]),
            ("rset", &[true; 7]),
            (
                "wrong-state",
                &[false, false, true, false, true, true, false, true, true],
            ),
        ];
        assert_eq!(expected.len() + 1, DIALOGUES.len());
        for (id, want) in expected {
            let store = Arc::new(MemoryStore::course());
            let dialogue = DIALOGUES.iter().find(|d| d.id == *id).unwrap();
            let (oks, messages, c) = play(dialogue, store.clone());
            assert_eq!(oks, *want, "{id}");
            assert_eq!(c.state().as_deref(), Some("UPDATE"), "{id}");
            assert_eq!(
                store.messages("bob@hamburger.edu").len(),
                2,
                "{id} deletes nothing"
            );
            for m in &messages {
                assert!(m.dissection.check_invariants(true).is_empty(), "{id}");
            }
        }
    }

    #[test]
    fn wrong_state_lines_are_flagged_before_the_server_answers() {
        let store = Arc::new(MemoryStore::course());
        let (_, messages, _) = play(&DIALOGUES[3], store);
        let flagged: Vec<bool> = messages
            .iter()
            .filter(|m| m.sender == Sender::Client)
            .map(|m| {
                m.dissection
                    .diagnostics
                    .iter()
                    .any(|d| d.message.contains("-ERR"))
            })
            .collect();
        // The wrong password cannot be seen coming; the rest can.
        assert_eq!(
            flagged,
            [true, true, false, false, false, false, true, false, false]
        );
    }

    #[test]
    fn a_reply_still_arriving_is_in_progress() {
        let mut c = FollowedConversation::new(Pop3Transcript::new());
        c.server_bytes(b"+OK POP3 server ready\r\n", 0.0);
        c.client_bytes(b"USER bob\r\nPASS hungry\r\n", 1.0);
        c.server_bytes(b"+OK\r\n+OK user successfully logged on\r\n", 2.0);
        assert_eq!(c.state().as_deref(), Some("TRANSACTION"));
        c.client_bytes(b"RETR 1\r\n", 3.0);
        assert!(
            c.server_bytes(b"+OK 30 octets\r\nSubject: lunch\r\n", 4.0)
                .is_empty()
        );
        let growing = c.in_progress();
        assert_eq!(growing.len(), 1);
        assert_eq!(growing[0].sender, Sender::Server);
        assert_eq!(growing[0].first_ms, 4.0);
        let done = c.server_bytes(b"\r\nSee you\r\n.\r\n", 5.0);
        assert_eq!(done.len(), 1);
        assert_eq!((done[0].first_ms, done[0].last_ms), (4.0, 5.0));
        assert!(c.in_progress().is_empty());
    }
}
