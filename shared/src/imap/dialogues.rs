//! The IMAP sessions a student can replay line by line in the workbench:
//! logging in, listing and selecting, fetching a header then a body,
//! flagging and expunging, folders, and IDLE while a mail arrives. Tags are numbered for the student
//! (`a001`, `a002`, ...), as the RFC's examples number theirs.
//!
//! Each step is one line as typed, without its CR LF. The tests play every
//! session against the server engine on the course's mailbox and check
//! that each command is completed with OK.

use crate::conversation::Dialogue;

/// Every IMAP dialogue, logging in first.
pub const DIALOGUES: &[Dialogue] = &[
    Dialogue {
        id: "login",
        title: "Logging in",
        note: "The server speaks first (* OK, Not Authenticated). Each command starts with a tag \
               the client chooses; the server's answer ends with a line carrying the same tag \
               (OK, NO or BAD), after any untagged lines (*). LOGIN moves the session to \
               Authenticated, LOGOUT to Logout (the server says BYE first).",
        steps: &["a001 CAPABILITY", "a002 LOGIN bob hungry", "a003 LOGOUT"],
    },
    Dialogue {
        id: "list-select",
        title: "Listing the folders and selecting INBOX",
        note: "Unlike POP3, IMAP keeps folders on the server. LIST \"\" * names them all; SELECT \
               opens one (the session is now Selected) and tells how many messages it holds \
               (EXISTS), the flags in use, and the UIDVALIDITY and UIDNEXT that let a client \
               recognise messages it saw in an earlier session.",
        steps: &[
            "a001 LOGIN bob hungry",
            "a002 LIST \"\" *",
            "a003 SELECT INBOX",
            "a004 LOGOUT",
        ],
    },
    Dialogue {
        id: "fetch",
        title: "Fetching a header, then a body",
        note: "IMAP fetches parts of a message: the envelope and flags of every message first, \
               then one header, then one body. BODY.PEEK leaves the message unread; BODY[TEXT] \
               sets \\Seen, as the last FETCH FLAGS shows. The data comes as literals: {n} then \
               exactly n bytes.",
        steps: &[
            "a001 LOGIN bob hungry",
            "a002 SELECT INBOX",
            "a003 FETCH 1:* (FLAGS ENVELOPE)",
            "a004 FETCH 1 BODY.PEEK[HEADER]",
            "a005 FETCH 1 BODY[TEXT]",
            "a006 FETCH 1 FLAGS",
            "a007 LOGOUT",
        ],
    },
    Dialogue {
        id: "flag-expunge",
        title: "Flagging, then expunging",
        note: "STORE sets flags kept on the server for the next session (and the next client). \
               \\Deleted only marks a message, as POP3's DELE does; EXPUNGE removes the marked \
               ones for good and tells which numbers went (* n EXPUNGE). Replaying this deletes \
               one of bob's messages.",
        steps: &[
            "a001 LOGIN bob hungry",
            "a002 SELECT INBOX",
            "a003 STORE 1 +FLAGS (\\Flagged)",
            "a004 STORE 2 +FLAGS (\\Deleted)",
            "a005 FETCH 1:* FLAGS",
            "a006 EXPUNGE",
            "a007 LOGOUT",
        ],
    },
    Dialogue {
        id: "folders",
        title: "Folders: create, copy, list",
        note: "CREATE makes a folder on the server; COPY puts a copy of a message there (the \
               server says its new UID in [COPYUID]); LIST and STATUS show it. A second replay \
               gets NO for CREATE: the folder is still there.",
        steps: &[
            "a001 LOGIN bob hungry",
            "a002 CREATE Kept",
            "a003 SELECT INBOX",
            "a004 COPY 1 Kept",
            "a005 LIST \"\" *",
            "a006 STATUS Kept (MESSAGES UNSEEN)",
            "a007 LOGOUT",
        ],
    },
    Dialogue {
        id: "idle",
        title: "IDLE, and a mail arrives",
        note: "IDLE asks the server to say at once when something changes, instead of the client \
               asking again and again. After the server's + (it is listening), open the SMTP page \
               (/smtp) in another tab and send a mail to <bob@hamburger.edu> (the course's \
               dialogue does). Here, without a command from you, the server says * n EXISTS: \
               message n has arrived, and the folder tree grows by one. DONE (no tag) ends the \
               IDLE and the server completes it; then fetch the new message with FETCH *. \
               (This needs the relay: without it, each tab has its own in-browser mailbox.)",
        steps: &[
            "a001 LOGIN bob hungry",
            "a002 SELECT INBOX",
            "a003 IDLE",
            "DONE",
            "a004 FETCH * (UID FLAGS ENVELOPE)",
            "a005 LOGOUT",
        ],
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversation::{Message, Sender};
    use crate::imap::{ImapServer, ImapServerConfig, ImapTranscript};
    use crate::line_protocol::play_dialogue;
    use crate::mail::store::MemoryStore;
    use std::sync::Arc;

    /// Plays `dialogue` on a fresh course mailbox; each step's tagged
    /// completion line, and every message.
    fn play(dialogue: &Dialogue) -> (Vec<String>, Vec<Message>) {
        let store = Arc::new(MemoryStore::course());
        let mut server = ImapServer::new(ImapServerConfig::default(), store);
        let played = play_dialogue(dialogue, &mut server, ImapTranscript::new(), 0.0);
        let mut completions = Vec::new();
        let mut tag = "";
        for (step, replies) in dialogue.steps.iter().zip(&played.answers) {
            // DONE has no tag: the IDLE it ends is completed with the
            // IDLE's tag; the IDLE itself is answered with a continuation.
            if *step != "DONE" {
                tag = step.split(' ').next().unwrap_or_default();
            }
            let answer = if step.ends_with(" IDLE") { "+" } else { tag };
            let completion = replies
                .iter()
                .filter(|m| m.sender == Sender::Server)
                .map(|m| String::from_utf8_lossy(&m.bytes).into_owned())
                .find(|text| text.starts_with(&format!("{answer} ")))
                .unwrap_or_else(|| panic!("{}: no completion for {step}", dialogue.id));
            completions.push(completion);
        }
        (completions, played.messages)
    }

    #[test]
    fn every_dialogue_is_completed_with_ok_and_dissects_cleanly() {
        for dialogue in DIALOGUES {
            let (completions, messages) = play(dialogue);
            let mut tag = "";
            for (step, completion) in dialogue.steps.iter().zip(&completions) {
                if *step != "DONE" {
                    tag = step.split(' ').next().unwrap_or_default();
                }
                let ok = if step.ends_with(" IDLE") {
                    completion.starts_with("+ ")
                } else {
                    completion.starts_with(&format!("{tag} OK"))
                };
                assert!(ok, "{}: {step} got {completion}", dialogue.id);
            }
            for m in &messages {
                assert!(
                    m.dissection.check_invariants(true).is_empty(),
                    "{}",
                    dialogue.id
                );
            }
        }
    }

    #[test]
    fn tags_are_numbered_for_the_student() {
        for dialogue in DIALOGUES {
            let tagged = dialogue.steps.iter().filter(|s| **s != "DONE");
            for (i, step) in tagged.enumerate() {
                assert!(step.starts_with(&format!("a{:03} ", i + 1)), "{step}");
            }
        }
    }

    #[test]
    fn the_idle_dialogue_ends_its_idle_with_done() {
        let idle = DIALOGUES.iter().find(|d| d.id == "idle").unwrap();
        let (completions, _) = play(idle);
        assert_eq!(completions[2], "+ idling\r\n");
        assert!(completions[3].starts_with("a003 OK"), "{}", completions[3]);
        assert!(idle.note.contains("/smtp"));
    }

    #[test]
    fn the_fetch_dialogue_shows_seen_set_by_the_body_and_not_by_the_peek() {
        let fetch = DIALOGUES.iter().find(|d| d.id == "fetch").unwrap();
        let (_, messages) = play(fetch);
        let flags: Vec<String> = messages
            .iter()
            .map(|m| String::from_utf8_lossy(&m.bytes).into_owned())
            .filter(|t| t.starts_with("* 1 FETCH (FLAGS"))
            .collect();
        assert!(!flags[0].contains("\\Seen"), "{flags:?}");
        assert!(flags.last().unwrap().contains("\\Seen"), "{flags:?}");
    }
}
