//! The SMTP dialogues a student can replay line by line in the workbench:
//! the course's exchange between crepes.fr and hamburger.edu first, then
//! what the course mentions around it (EHLO and a real header, a
//! dot-stuffed line, two messages on one persistent connection, the
//! envelope against the header, 503 for commands out of order, the other
//! commands).
//!
//! Each step is one line as the student types it, without its CR LF; the
//! page adds the CR LF when the line is sent. The tests below play every
//! dialogue against the server engine and check each reply code, so a
//! dialogue and the server cannot drift apart.

use crate::conversation::Dialogue;

/// The course's dialogue, as the textbook prints it (Johm is the course's
/// unknown user).
pub const COURSE: Dialogue = Dialogue {
    id: "course",
    title: "The course: crepes.fr sends to hamburger.edu",
    note: "The course's exchange, one line at a time. Johm is not a user of hamburger.edu, so the \
           second RCPT gets 550 and the message goes to bob only. After 354 every line you type \
           is message text, until the line with a single dot. This message has no header at all \
           (no From:, no Date:): see what the dissection of the text says, then read it back on \
           the POP3 page. The course prints MAIL FROM: <alice@crepes.fr> with a space after the \
           colon, which RFC 5321's grammar does not have: type it that way to see the note.",
    steps: &[
        "HELO crepes.fr",
        "MAIL FROM:<alice@crepes.fr>",
        "RCPT TO:<bob@hamburger.edu>",
        "RCPT TO:<Johm@hamburger.edu>",
        "DATA",
        "Do you like ketchup?",
        "How about pickles?",
        ".",
        "QUIT",
    ],
};

/// Every SMTP dialogue, the course's first.
pub const DIALOGUES: &[Dialogue] = &[
    COURSE,
    Dialogue {
        id: "ehlo-header",
        title: "EHLO, a message with a header, a dot-stuffed line",
        note: "EHLO asks for the extended service: the server lists its extensions on a \
               multi-line reply (250- continues, 250 and a space ends) and adds enhanced status \
               codes (2.1.0). The message now has a header (From, To, Subject, Date), an empty \
               line, then the body. The line typed with two dots arrives with one: a line that \
               starts with a dot is sent with an extra one so it cannot be taken for the end.",
        steps: &[
            "EHLO crepes.fr",
            "MAIL FROM:<alice@crepes.fr>",
            "RCPT TO:<bob@hamburger.edu>",
            "DATA",
            "From: Alice <alice@crepes.fr>",
            "To: Bob <bob@hamburger.edu>",
            "Subject: Ketchup",
            "Date: Tue, 14 Nov 2023 22:13:20 +0100",
            "",
            "Do you like ketchup?",
            "..signed: this line starts with one dot once stored",
            ".",
            "QUIT",
        ],
    },
    Dialogue {
        id: "persistent",
        title: "Two messages on one connection (persistent)",
        note: "SMTP keeps the connection open: after the 250 that accepts a message, the client \
               starts the next transaction with a new MAIL FROM, and says QUIT only when it has \
               sent everything.",
        steps: &[
            "HELO crepes.fr",
            "MAIL FROM:<alice@crepes.fr>",
            "RCPT TO:<bob@hamburger.edu>",
            "DATA",
            "Subject: first",
            "",
            "Do you like ketchup?",
            ".",
            "MAIL FROM:<alice@crepes.fr>",
            "RCPT TO:<bob@hamburger.edu>",
            "DATA",
            "Subject: second",
            "",
            "How about pickles?",
            ".",
            "QUIT",
        ],
    },
    Dialogue {
        id: "envelope",
        title: "Envelope versus header: a blind copy, a refused relay",
        note: "The envelope (MAIL FROM, RCPT TO) routes the message; the header (From:, To:) is \
               what the reader sees. Here bob receives a message whose To: names carol, and \
               bounces would go to the newsletter address, not to Alice. carol@example.org is \
               not a local mailbox: hamburger.edu is no open relay and refuses her. The Subject \
               is an encoded word (RFC 2047): the dissection decodes it.",
        steps: &[
            "EHLO crepes.fr",
            "MAIL FROM:<newsletter-bounces@crepes.fr>",
            "RCPT TO:<bob@hamburger.edu>",
            "RCPT TO:<carol@example.org>",
            "DATA",
            "From: Alice <alice@crepes.fr>",
            "To: Carol <carol@example.org>",
            "Subject: =?utf-8?Q?Cr=C3=AApes_du_jour?=",
            "Date: Tue, 14 Nov 2023 22:15:00 +0100",
            "",
            "Bob receives this although the To: line names Carol:",
            "delivery follows RCPT TO, the reader sees To:.",
            ".",
            "QUIT",
        ],
    },
    Dialogue {
        id: "bad-sequence",
        title: "Commands out of order: 503",
        note: "SMTP is a state machine: MAIL before HELO, RCPT before MAIL, DATA before any \
               accepted RCPT and a second MAIL inside a transaction are answered 503 (bad \
               sequence of commands). The dissection of the line you type warns before you send \
               it. RSET abandons the transaction and leaves the session greeted.",
        steps: &[
            "MAIL FROM:<alice@crepes.fr>",
            "HELO crepes.fr",
            "RCPT TO:<bob@hamburger.edu>",
            "DATA",
            "MAIL FROM:<alice@crepes.fr>",
            "MAIL FROM:<alice@crepes.fr>",
            "RSET",
            "QUIT",
        ],
    },
    Dialogue {
        id: "other-commands",
        title: "VRFY, HELP, NOOP",
        note: "Commands outside a mail transaction: VRFY asks whether a mailbox exists (many \
               servers refuse to say, against address harvesting), HELP lists the commands, NOOP \
               does nothing but proves the server is alive.",
        steps: &[
            "HELO crepes.fr",
            "VRFY bob",
            "VRFY john",
            "HELP",
            "NOOP",
            "QUIT",
        ],
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversation::{Conversation, Message, Sender};
    use crate::engine::{Engine, Millis, drain};
    use crate::line_protocol::play_dialogue;
    use crate::mail::store::MemoryStore;
    use crate::smtp::{SmtpServer, SmtpServerConfig, SmtpTranscript};
    use crate::transcript::FollowedConversation;
    use std::sync::Arc;

    /// Plays `dialogue` against the server one line at a time, as the
    /// workbench does; returns each line's reply codes (none after a line
    /// of message text), the messages and the follower.
    fn play(
        dialogue: &Dialogue,
        store: Arc<MemoryStore>,
    ) -> (
        Vec<Vec<u16>>,
        Vec<Message>,
        FollowedConversation<SmtpTranscript>,
    ) {
        let mut server = SmtpServer::new(SmtpServerConfig::default(), store);
        let played = play_dialogue(dialogue, &mut server, SmtpTranscript::new(), 1.0);
        let mut codes = Vec::new();
        for replies in &played.answers {
            codes.push(
                replies
                    .iter()
                    .filter(|m| m.sender == Sender::Server)
                    .map(|m| {
                        std::str::from_utf8(&m.bytes[..3])
                            .unwrap()
                            .parse::<u16>()
                            .unwrap()
                    })
                    .collect(),
            );
        }
        (codes, played.messages, played.conversation)
    }

    fn course_store() -> Arc<MemoryStore> {
        Arc::new(MemoryStore::course())
    }

    #[test]
    fn the_course_dialogue_gets_the_course_replies() {
        let store = course_store();
        let (codes, messages, c) = play(&COURSE, store.clone());
        let none: Vec<u16> = Vec::new();
        assert_eq!(
            codes,
            [
                vec![250],
                vec![250],
                vec![250],
                vec![550],
                vec![354],
                none.clone(),
                none,
                vec![250],
                vec![221]
            ]
        );
        assert_eq!(c.state().as_deref(), Some("closed"));
        let data = messages
            .iter()
            .find(|m| m.dissection.summary.starts_with("Message data"))
            .expect("the message text is one message");
        assert_eq!(
            data.bytes,
            b"Do you like ketchup?\r\nHow about pickles?\r\n.\r\n"
        );
        // Typed over three steps: its times are those of its first and last lines.
        assert_eq!((data.first_ms, data.last_ms), (6.0, 8.0));
        let bob = store.messages("bob@hamburger.edu");
        assert_eq!(bob.len(), 3, "the two seed messages and the course's");
        assert!(
            String::from_utf8_lossy(&bob[2].1)
                .ends_with("Do you like ketchup?\r\nHow about pickles?\r\n")
        );
    }

    #[test]
    fn every_dialogue_gets_the_replies_its_note_promises() {
        let expected: &[(&str, &[&[u16]])] = &[
            (
                "ehlo-header",
                &[
                    &[250],
                    &[250],
                    &[250],
                    &[354],
                    &[],
                    &[],
                    &[],
                    &[],
                    &[],
                    &[],
                    &[],
                    &[250],
                    &[221],
                ],
            ),
            (
                "persistent",
                &[
                    &[250],
                    &[250],
                    &[250],
                    &[354],
                    &[],
                    &[],
                    &[],
                    &[250],
                    &[250],
                    &[250],
                    &[354],
                    &[],
                    &[],
                    &[],
                    &[250],
                    &[221],
                ],
            ),
            (
                "envelope",
                &[
                    &[250],
                    &[250],
                    &[250],
                    &[550],
                    &[354],
                    &[],
                    &[],
                    &[],
                    &[],
                    &[],
                    &[],
                    &[],
                    &[250],
                    &[221],
                ],
            ),
            (
                "bad-sequence",
                &[
                    &[503],
                    &[250],
                    &[503],
                    &[503],
                    &[250],
                    &[503],
                    &[250],
                    &[221],
                ],
            ),
            (
                "other-commands",
                &[&[250], &[250], &[550], &[214], &[250], &[221]],
            ),
        ];
        assert_eq!(expected.len() + 1, DIALOGUES.len());
        for (id, codes) in expected {
            let dialogue = DIALOGUES.iter().find(|d| d.id == *id).unwrap();
            assert_eq!(dialogue.steps.len(), codes.len(), "{id}");
            let (got, messages, c) = play(dialogue, course_store());
            let want: Vec<Vec<u16>> = codes.iter().map(|c| c.to_vec()).collect();
            assert_eq!(got, want, "{id}");
            assert_eq!(c.state().as_deref(), Some("closed"), "{id}");
            for m in &messages {
                assert!(
                    m.dissection.check_invariants(true).is_empty(),
                    "{id}: {}",
                    m.dissection.summary
                );
            }
        }
    }

    #[test]
    fn the_follower_warns_before_each_503_and_explains_the_stuffed_dot() {
        let (_, messages, _) = play(&DIALOGUES[4], course_store());
        let warned: Vec<bool> = messages
            .iter()
            .filter(|m| m.sender == Sender::Client)
            .map(|m| {
                m.dissection
                    .diagnostics
                    .iter()
                    .any(|d| d.message.contains("503"))
            })
            .collect();
        assert_eq!(warned, [true, false, true, true, false, true, false, false]);
        let (_, messages, _) = play(&DIALOGUES[1], course_store());
        let data = messages
            .iter()
            .find(|m| m.dissection.summary.starts_with("Message data"))
            .unwrap();
        assert!(
            data.dissection.diagnostics.is_empty(),
            "{:?}",
            data.dissection.diagnostics
        );
        assert!(data.dissection.fields[0].value.contains("1 stuffed dot"));
    }

    #[test]
    fn drafts_and_message_text_in_progress_are_dissected_in_context() {
        let mut server = SmtpServer::new(SmtpServerConfig::default(), course_store());
        let mut c = FollowedConversation::new(SmtpTranscript::new());
        c.server_bytes(&drain(&mut server).bytes(), 0.0);
        for line in ["HELO crepes.fr\r\n", "MAIL FROM:<alice@crepes.fr>\r\n"] {
            c.client_bytes(line.as_bytes(), 1.0);
            server.handle_input(line.as_bytes(), Millis(0));
            c.server_bytes(&drain(&mut server).bytes(), 2.0);
        }
        assert_eq!(c.state().as_deref(), Some("mail transaction open"));
        assert!(c.state_hint().unwrap().contains("RCPT TO"));
        let draft = c.dissect_draft(b"DATA\r\n").unwrap();
        assert!(draft.diagnostics.iter().any(|d| d.message.contains("503")));
        for line in ["RCPT TO:<bob@hamburger.edu>\r\n", "DATA\r\n"] {
            c.client_bytes(line.as_bytes(), 3.0);
            server.handle_input(line.as_bytes(), Millis(0));
            c.server_bytes(&drain(&mut server).bytes(), 4.0);
        }
        assert_eq!(c.state().as_deref(), Some("receiving data"));
        // After 354 the draft is a line of message text.
        let draft = c.dissect_draft(b".\r\n").unwrap();
        assert!(draft.find("End of data").is_some());
        // Text typed so far shows as a message in progress, not yet complete.
        assert!(c.client_bytes(b"Do you like ketchup?\r\n", 5.0).is_empty());
        let growing = c.in_progress();
        assert_eq!(growing.len(), 1);
        assert!(!growing[0].complete);
        assert_eq!(growing[0].bytes, b"Do you like ketchup?\r\n");
        assert!(growing[0].dissection.summary.starts_with("Message data"));
        // A connection that ends mid-text flushes it once.
        let flushed = c.closed(6.0);
        assert_eq!(flushed.len(), 1);
        assert_eq!(flushed[0].first_ms, 5.0);
        assert!(c.closed(7.0).is_empty());
        assert!(c.in_progress().is_empty());
    }
}
