//! The server engine's commands that put messages into a folder: APPEND
//! (RFC 9051 §6.3.12, with its flags and date), COPY and MOVE (§6.4.7,
//! §6.4.8, RFC 6851) and their UID forms, answered with UIDPLUS's
//! APPENDUID and COPYUID (RFC 4315) so that a client knows the new UIDs.
//!
//! A folder that does not exist is NO [TRYCREATE]: the client may CREATE it
//! and try again. Keywords other than the system flags are not kept (the
//! server announces no `\*` in PERMANENTFLAGS), so APPEND drops them.

use crate::imap::Status;
use crate::imap::command::Command;
use crate::imap::fetch::parse_internal_date;
use crate::imap::server::{ImapServer, untagged};
use crate::imap::store::{Flags, ImapStore};
use crate::imap::syntax::Value;

/// A UID set in short form: runs as ranges (`4:7,9`).
pub(super) fn uid_set(uids: &[u32]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < uids.len() {
        let mut j = i;
        while j + 1 < uids.len() && uids[j + 1] == uids[j].wrapping_add(1) {
            j += 1;
        }
        if !out.is_empty() {
            out.push(',');
        }
        out.push_str(&uids[i].to_string());
        if j > i {
            out.push_str(&format!(":{}", uids[j]));
        }
        i = j + 1;
    }
    out
}

impl<S: ImapStore> ImapServer<S> {
    /// Whether `folder` exists; NO [TRYCREATE] sent if not.
    fn target_exists(&mut self, c: &Command, folder: &str) -> bool {
        let exists = folder == crate::imap::store::INBOX
            || self
                .store
                .folders(self.mailbox())
                .is_ok_and(|names| names.iter().any(|n| n == folder));
        if !exists {
            let text = format!("there is no folder {folder}: CREATE it first");
            self.no(c, Some("TRYCREATE"), &text);
        }
        exists
    }

    pub(super) fn append(&mut self, c: &Command) {
        let Some(folder) = self.folder_arg(c, 0) else {
            return;
        };
        let mut flags = Flags::default();
        let mut date = None;
        // Between the name and the message: the flags, the date, or both.
        let between = c.arguments.get(1..c.arguments.len().saturating_sub(1));
        for argument in between.unwrap_or_default() {
            match argument {
                Value::List(names) => {
                    let names = names.iter().filter_map(Value::as_atom);
                    flags = names.filter_map(Flags::from_name).fold(flags, Flags::with);
                }
                other => {
                    let text = String::from_utf8_lossy(other.string_bytes().unwrap_or_default());
                    match parse_internal_date(&text) {
                        Some(t) => date = Some(t),
                        None => {
                            let text = format!(
                                "{text:?} is not a date-time: \"05-Dec-2026 23:32:59 +0000\""
                            );
                            return self.complete(&c.tag, c.verb.name(), Status::Bad, None, &text);
                        }
                    }
                }
            }
        }
        let message = c
            .arguments
            .last()
            .and_then(Value::string_bytes)
            .unwrap_or_default();
        if !self.target_exists(c, &folder) {
            return;
        }
        // Without a date the message arrives now, by the driver's clock.
        let now = self.now_unix();
        match self
            .store
            .append(self.mailbox(), &folder, message, flags, date.or(now))
        {
            Ok((validity, uid)) => {
                // The client learns of the message in its own folder now.
                self.refresh();
                self.ok(c, Some(&format!("APPENDUID {validity} {uid}")));
            }
            Err(e) => self.refuse_store(c, &e),
        }
    }

    /// COPY, and MOVE when `remove`.
    pub(super) fn copy(&mut self, c: &Command, remove: bool) {
        if remove && self.selected.as_ref().is_some_and(|s| s.read_only) {
            return self.no(c, Some("READ-ONLY"), "the mailbox was opened with EXAMINE");
        }
        let Some(target) = self.folder_arg(c, 1) else {
            return;
        };
        let Some(indices) = self.named(c) else { return };
        if !self.target_exists(c, &target) {
            return;
        }
        let (keys, source_uids): (Vec<String>, Vec<u32>) = match &self.selected {
            Some(s) => indices
                .iter()
                .map(|&i| (s.messages[i].key.clone(), s.messages[i].uid))
                .unzip(),
            None => return,
        };
        if keys.is_empty() {
            return self.ok(c, None);
        }
        let (mailbox, folder) = (self.mailbox().to_string(), self.folder());
        let (validity, uids) = match self.store.copy(&mailbox, &folder, &keys, &target, remove) {
            Ok(done) => done,
            Err(e) => return self.refuse_store(c, &e),
        };
        let code = format!(
            "COPYUID {validity} {} {}",
            uid_set(&source_uids),
            uid_set(&uids)
        );
        if remove {
            // RFC 6851 §4.3: the new UIDs come before the EXPUNGEs.
            self.send(&untagged(
                Status::Ok,
                Some(("COPYUID", Some(code[8..].to_string()))),
                "moved",
            ));
            self.forget(&indices, true);
            self.refresh();
            self.ok(c, None);
        } else {
            self.refresh();
            self.ok(c, Some(&code));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Engine, Millis, drain};
    use crate::imap::server::ImapServerConfig;
    use crate::mail::store::MemoryStore;
    use std::sync::Arc;

    fn say(server: &mut ImapServer<Arc<MemoryStore>>, input: &str) -> String {
        server.handle_input(input.as_bytes(), Millis(0));
        String::from_utf8(drain(server).bytes()).unwrap()
    }

    #[test]
    fn uid_sets_are_short() {
        assert_eq!(uid_set(&[1, 2, 3, 5, 7, 8]), "1:3,5,7:8");
        assert_eq!(uid_set(&[]), "");
        assert_eq!(
            parse_internal_date("05-Dec-2026 23:32:59 +0100"),
            Some(1796513579 - 3600)
        );
        assert_eq!(
            parse_internal_date(" 5-Dec-2026 23:32:59 +0000"),
            Some(1796513579)
        );
        assert_eq!(parse_internal_date("5-Foo-2026 23:32:59 +0000"), None);
    }

    #[test]
    fn an_append_without_a_date_is_dated_by_the_drivers_clock() {
        let config = ImapServerConfig {
            clock_epoch_unix: Some(1_700_000_000),
            ..ImapServerConfig::default()
        };
        let mut s = ImapServer::new(config, Arc::new(MemoryStore::course()));
        drain(&mut s);
        say(&mut s, "a0 LOGIN bob hungry\r\n");
        s.handle_input(
            b"a1 APPEND INBOX {14+}\r\nSubject: x\r\n\r\n\r\n",
            Millis(5_000),
        );
        assert!(drain(&mut s).bytes().starts_with(b"a1 OK [APPENDUID "));
        say(&mut s, "a2 SELECT INBOX\r\n");
        let text = say(&mut s, "a3 FETCH 3 INTERNALDATE\r\n");
        assert!(
            text.starts_with("* 3 FETCH (INTERNALDATE \"14-Nov-2023 22:13:25 +0000\")"),
            "{text}"
        );
    }

    #[test]
    fn mail_delivered_by_smtp_is_dated_by_its_received_line() {
        use crate::mail::store::MailStore;
        let store = Arc::new(MemoryStore::course());
        let message = b"Received: from crepes.fr\r\n\tby hamburger.edu (wirelab) with SMTP;\r\n\tTue, 14 Nov 2023 22:13:20 +0000\r\nSubject: x\r\n\r\nhi\r\n";
        store
            .deliver(&["bob@hamburger.edu".to_string()], message)
            .unwrap();
        let mut s = ImapServer::new(ImapServerConfig::default(), store);
        drain(&mut s);
        say(&mut s, "a0 LOGIN bob hungry\r\n");
        say(&mut s, "a1 SELECT INBOX\r\n");
        let text = say(&mut s, "a2 FETCH 3 INTERNALDATE\r\n");
        assert!(
            text.starts_with("* 3 FETCH (INTERNALDATE \"14-Nov-2023 22:13:20 +0000\")"),
            "{text}"
        );
    }

    #[test]
    fn append_copy_move_with_their_uids() {
        let store = Arc::new(MemoryStore::course());
        let mut s = ImapServer::new(ImapServerConfig::default(), store.clone());
        drain(&mut s);
        say(&mut s, "a0 LOGIN bob hungry\r\na1 CREATE Sent\r\n");
        let text = say(&mut s, "a2 APPEND Nope {3}\r\n");
        assert_eq!(text, "+ Ready for literal data\r\n");
        let text = say(&mut s, "abc\r\n");
        assert!(text.starts_with("a2 NO [TRYCREATE]"), "{text}");
        let text = say(
            &mut s,
            "a3 APPEND Sent (\\Seen $Junk) \"05-Dec-2026 23:32:59 +0000\" {14+}\r\nSubject: x\r\n\r\n\r\n",
        );
        assert!(text.starts_with("a3 OK [APPENDUID "), "{text}");
        assert!(text.ends_with(" 1] APPEND completed\r\n"), "{text}");
        say(&mut s, "a4 SELECT Sent\r\n");
        assert_eq!(
            say(&mut s, "a5 FETCH 1 (FLAGS INTERNALDATE RFC822.SIZE)\r\n"),
            "* 1 FETCH (FLAGS (\\Seen) INTERNALDATE \"05-Dec-2026 23:32:59 +0000\" RFC822.SIZE 14)\r\n\
             a5 OK FETCH completed\r\n"
        );
        let text = say(&mut s, "a6 APPEND Sent {1+}\r\nx\r\n");
        assert!(text.starts_with("* 2 EXISTS\r\na6 OK [APPENDUID"), "{text}");
        say(&mut s, "b1 SELECT INBOX\r\n");
        let text = say(&mut s, "b2 COPY 1:2 Sent\r\n");
        assert!(text.starts_with("b2 OK [COPYUID "), "{text}");
        assert!(text.ends_with(" 1:2 3:4] COPY completed\r\n"), "{text}");
        let text = say(&mut s, "b3 UID MOVE 2 Sent\r\n");
        assert!(text.starts_with("* OK [COPYUID "), "{text}");
        assert!(
            text.ends_with(" 2 5] moved\r\n* 2 EXPUNGE\r\nb3 OK UID MOVE completed\r\n"),
            "{text}"
        );
        let text = say(&mut s, "b4 MOVE 1 Nope\r\n");
        assert!(text.starts_with("b4 NO [TRYCREATE]"), "{text}");
        assert_eq!(
            say(
                &mut s,
                "b5 STATUS Sent (MESSAGES UIDNEXT)\r\nb6 STATUS INBOX (MESSAGES)\r\n"
            ),
            "* STATUS Sent (MESSAGES 5 UIDNEXT 6)\r\nb5 OK STATUS completed\r\n\
             * STATUS INBOX (MESSAGES 1)\r\nb6 OK STATUS completed\r\n"
        );
        say(&mut s, "b7 EXAMINE Sent\r\n");
        let text = say(&mut s, "b8 MOVE 1 INBOX\r\n");
        assert!(text.starts_with("b8 NO [READ-ONLY]"), "{text}");
    }
}
