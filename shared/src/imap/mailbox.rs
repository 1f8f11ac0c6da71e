//! The server engine's commands that use the mail store (RFC 9051 §6.2.3,
//! §6.3, §6.4): LOGIN, SELECT and EXAMINE, FETCH,
//! STORE, SEARCH, EXPUNGE, CLOSE and UNSELECT, on INBOX or any other
//! folder (the folder commands are in [`super::folders`]).

use crate::imap::command::{Command, ImapState};
use crate::imap::fetch::{self, FetchItem};
use crate::imap::response::{Response, Status};
use crate::imap::server::{ImapServer, data, untagged};
use crate::imap::store::{Flags, ImapMessage, ImapStore};
use crate::imap::syntax::Value;
use crate::mail::store::StoreError;

/// The mailbox a session has selected, as the session last saw it: the
/// message sequence numbers are indices into `messages` plus one.
pub(super) struct Selected {
    /// INBOX or another folder's name.
    pub folder: String,
    pub read_only: bool,
    pub uid_validity: u32,
    pub uid_next: u32,
    pub messages: Vec<ImapMessage>,
}

/// About how many bytes of FETCH responses are queued at once.
const FETCH_BATCH: usize = 256 * 1024;

/// A FETCH answered in batches: the messages still to answer.
pub(super) struct PendingFetch {
    command: Command,
    items: Vec<FetchItem>,
    indices: Vec<usize>,
    next: usize,
}

/// The response code and text a store error is answered with.
pub(super) fn store_refusal(e: &StoreError) -> (&'static str, String) {
    match e {
        StoreError::NoSuchMessage(_) => {
            ("EXPUNGEISSUED", format!("{e}: another session removed it"))
        }
        StoreError::Locked => ("INUSE", format!("{e}: try again after it logs out")),
        StoreError::NoSuchFolder(_) => ("NONEXISTENT", e.to_string()),
        StoreError::FolderExists(_) => ("ALREADYEXISTS", e.to_string()),
        StoreError::MailboxFull { .. } => ("OVERQUOTA", e.to_string()),
        _ => ("SERVERBUG", e.to_string()),
    }
}

impl<S: ImapStore> ImapServer<S> {
    pub(super) fn mailbox(&self) -> &str {
        self.user.as_deref().unwrap_or_default()
    }

    /// The selected folder's name (empty when none is).
    pub(super) fn folder(&self) -> String {
        self.selected
            .as_ref()
            .map(|s| s.folder.clone())
            .unwrap_or_default()
    }

    pub(super) fn no(&mut self, c: &Command, code: Option<&str>, text: &str) {
        self.complete(&c.tag, c.verb.name(), Status::No, code, text);
    }

    pub(super) fn refuse_store(&mut self, c: &Command, e: &StoreError) {
        let (code, text) = store_refusal(e);
        self.no(c, Some(code), &text);
    }

    pub(super) fn ok(&mut self, c: &Command, code: Option<&str>) {
        let name = c.verb.name();
        let text = format!("{}{name} completed", if c.uid { "UID " } else { "" });
        self.complete(&c.tag, name, Status::Ok, code, &text);
    }

    pub(super) fn login(&mut self, c: &Command) {
        let text = |i: usize| {
            let bytes = c.arguments.get(i).and_then(Value::string_bytes);
            String::from_utf8_lossy(bytes.unwrap_or_default()).into_owned()
        };
        self.log_in(&c.tag, c.verb.name(), &text(0), &text(1));
    }

    /// Opens the mailbox of `user` if `password` is right (LOGIN and
    /// AUTHENTICATE), answering the command `tag`.
    pub(super) fn log_in(&mut self, tag: &str, verb: &str, user: &str, password: &str) {
        let (status, code, text) = match self.store.imap_login(user, password) {
            Ok(mailbox) => {
                self.user = Some(mailbox);
                (Status::Ok, None, format!("{verb} completed"))
            }
            Err(StoreError::Io(e)) => (Status::No, Some("UNAVAILABLE"), e),
            Err(_) => (
                Status::No,
                Some("AUTHENTICATIONFAILED"),
                "unknown user or wrong password (the POP3 users: bob / hungry)".to_string(),
            ),
        };
        self.complete(tag, verb, status, code, &text);
        if self.user.is_some() {
            self.set_state(ImapState::Authenticated);
        }
    }

    pub(super) fn select(&mut self, c: &Command) {
        // A failed SELECT leaves no mailbox selected (RFC 9051 §6.3.2).
        self.selected = None;
        self.set_state(ImapState::Authenticated);
        let Some(folder) = self.folder_arg(c, 0) else {
            return;
        };
        let snapshot = match self.store.snapshot(self.mailbox(), &folder) {
            Ok(s) => s,
            Err(e) => return self.refuse_store(c, &e),
        };
        let read_only = c.verb == crate::imap::Verb::Examine;
        let n = snapshot.messages.len() as u32;
        let all = Flags::all_names().join(" ");
        let permanent = if read_only {
            String::new()
        } else {
            all.clone()
        };
        self.send(&number_data(n, "EXISTS"));
        // IMAP4rev1 clients expect RECENT; this server never sets \Recent.
        self.send(&number_data(0, "RECENT"));
        self.send(&data("FLAGS", vec![atom_list(Flags::all_names())]));
        for (code, text) in [
            ("PERMANENTFLAGS", format!("({permanent})")),
            ("UIDVALIDITY", snapshot.uid_validity.to_string()),
            ("UIDNEXT", snapshot.uid_next.to_string()),
        ] {
            self.send(&untagged(Status::Ok, Some((code, Some(text))), ""));
        }
        self.selected = Some(Selected {
            folder,
            read_only,
            uid_validity: snapshot.uid_validity,
            uid_next: snapshot.uid_next,
            messages: snapshot.messages,
        });
        self.set_state(ImapState::Selected);
        self.ok(c, Some(if read_only { "READ-ONLY" } else { "READ-WRITE" }));
    }

    /// The messages a command's sequence set names, or the BAD it gets.
    pub(super) fn named(&mut self, c: &Command) -> Option<Vec<usize>> {
        let set = c
            .arguments
            .first()
            .and_then(Value::as_atom)
            .unwrap_or_default();
        let messages = &self.selected.as_ref()?.messages;
        match fetch::select_messages(set, c.uid, messages) {
            Ok(indices) => Some(indices),
            Err(e) => {
                self.complete(&c.tag, c.verb.name(), Status::Bad, None, &e);
                None
            }
        }
    }

    pub(super) fn fetch(&mut self, c: &Command) {
        let mut items = match c.arguments.get(1).map(fetch::fetch_items) {
            Some(Ok(items)) => items,
            Some(Err(e)) => return self.no(c, Some("CANNOT"), &e),
            None => return self.no(c, None, "FETCH needs items"),
        };
        // UID FETCH answers with the UID unasked (RFC 9051 §6.4.9).
        if c.uid && !items.contains(&FetchItem::Uid) {
            items.insert(0, FetchItem::Uid);
        }
        let Some(indices) = self.named(c) else { return };
        self.pending_fetch = Some(PendingFetch {
            command: c.clone(),
            items,
            indices,
            next: 0,
        });
        self.continue_fetch();
    }

    /// Answers the pending FETCH for its next messages, until about
    /// [`FETCH_BATCH`] bytes are queued; the rest waits until the driver
    /// has taken them (see `poll_output`), so one FETCH 1:* BODY[] holds
    /// one batch in memory, not the whole mailbox.
    pub(super) fn continue_fetch(&mut self) {
        let Some(mut pending) = self.pending_fetch.take() else {
            return;
        };
        let mut queued = 0;
        while let Some(&i) = pending.indices.get(pending.next) {
            pending.next += 1;
            match self.fetch_one(i, &pending.items) {
                Ok(bytes) => queued += bytes,
                Err(e) => return self.refuse_store(&pending.command, &e),
            }
            if queued >= FETCH_BATCH && pending.next < pending.indices.len() {
                self.pending_fetch = Some(pending);
                return;
            }
        }
        self.ok(&pending.command, None);
    }

    /// `* n FETCH (...)` for the message at `index`, setting `\Seen` first
    /// when a body item asks for it; the bytes it queued.
    fn fetch_one(&mut self, index: usize, items: &[FetchItem]) -> Result<usize, StoreError> {
        let (mailbox, folder) = (self.mailbox().to_string(), self.folder());
        let Some(selected) = self.selected.as_mut() else {
            return Ok(0);
        };
        let message = &mut selected.messages[index];
        let mut flags_unasked = false;
        if !selected.read_only
            && items.iter().any(FetchItem::sets_seen)
            && !message.flags.contains(Flags::SEEN)
        {
            let flags = message.flags.with(Flags::SEEN);
            self.store
                .set_flags(&mailbox, &folder, &message.key, flags)?;
            message.flags = flags;
            // A flag that changed is reported even if not asked for.
            flags_unasked = !items.contains(&FetchItem::Flags);
        }
        let message = message.clone();
        let needs_body = items.iter().any(|i| {
            matches!(
                i,
                FetchItem::Body { .. } | FetchItem::Envelope | FetchItem::Structure { .. }
            )
        });
        let body = if needs_body {
            self.store.read_message(&mailbox, &folder, &message.key)?
        } else {
            Vec::new()
        };
        let mut answer = Vec::new();
        for item in items {
            answer.extend(fetch_answer(item, &message, &body));
        }
        if flags_unasked {
            answer.extend(fetch_answer(&FetchItem::Flags, &message, &body));
        }
        Ok(self.send(&fetch_response(index, answer)))
    }

    pub(super) fn store_flags(&mut self, c: &Command) {
        if self.selected.as_ref().is_some_and(|s| s.read_only) {
            return self.no(c, Some("READ-ONLY"), "the mailbox was opened with EXAMINE");
        }
        let action = c
            .arguments
            .get(1)
            .and_then(Value::as_atom)
            .unwrap_or_default();
        let action = action.to_ascii_uppercase();
        let silent = action.ends_with(".SILENT");
        let given: Vec<&Value> = match c.arguments.get(2) {
            Some(Value::List(items)) => items.iter().collect(),
            _ => c.arguments.iter().skip(2).collect(),
        };
        let mut flags = Flags::default();
        for v in given {
            let name = v.as_atom().unwrap_or_default();
            match Flags::from_name(name) {
                Some(f) => flags = flags.with(f),
                None => {
                    let text =
                        format!("{name} cannot be kept: this server keeps the system flags only");
                    return self.no(c, Some("CANNOT"), &text);
                }
            }
        }
        let Some(indices) = self.named(c) else { return };
        for i in indices {
            if let Err(e) = self.store_one(i, &action, flags, silent, c.uid) {
                return self.refuse_store(c, &e);
            }
        }
        self.ok(c, None);
    }

    fn store_one(
        &mut self,
        index: usize,
        action: &str,
        flags: Flags,
        silent: bool,
        uid: bool,
    ) -> Result<(), StoreError> {
        let (mailbox, folder) = (self.mailbox().to_string(), self.folder());
        let Some(selected) = self.selected.as_mut() else {
            return Ok(());
        };
        let message = &mut selected.messages[index];
        let new = match action.as_bytes().first() {
            Some(b'+') => message.flags.with(flags),
            Some(b'-') => message.flags.without(flags),
            _ => flags,
        };
        self.store.set_flags(&mailbox, &folder, &message.key, new)?;
        message.flags = new;
        let message = message.clone();
        if !silent {
            let mut answer = fetch_answer(&FetchItem::Flags, &message, &[]);
            if uid {
                answer.extend(fetch_answer(&FetchItem::Uid, &message, &[]));
            }
            self.send(&fetch_response(index, answer));
        }
        Ok(())
    }

    pub(super) fn search(&mut self, c: &Command) {
        let Some(selected) = &self.selected else {
            return;
        };
        let found = match fetch::search(&c.arguments, &selected.messages) {
            Ok(found) => found,
            Err(e) => return self.no(c, Some("CANNOT"), &e),
        };
        let numbers = found
            .into_iter()
            .map(|i| {
                let n = if c.uid {
                    selected.messages[i].uid
                } else {
                    i as u32 + 1
                };
                Value::Atom(n.to_string())
            })
            .collect();
        self.send(&data("SEARCH", numbers));
        self.ok(c, None);
    }

    pub(super) fn expunge(&mut self, c: &Command) {
        if self.selected.as_ref().is_some_and(|s| s.read_only) {
            return self.no(c, Some("READ-ONLY"), "the mailbox was opened with EXAMINE");
        }
        // UID EXPUNGE removes only the named messages (RFC 9051 §6.4.9).
        let named = if c.uid { self.named(c) } else { None };
        if c.uid && named.is_none() {
            return;
        }
        match self.remove_deleted(named.as_deref(), true) {
            Ok(()) => self.ok(c, None),
            Err(e) => self.refuse_store(c, &e),
        }
    }

    /// Removes the messages marked `\Deleted` (among `only`, if given),
    /// telling the client each one's sequence number when `announce`.
    fn remove_deleted(&mut self, only: Option<&[usize]>, announce: bool) -> Result<(), StoreError> {
        let (mailbox, folder) = (self.mailbox().to_string(), self.folder());
        let Some(selected) = self.selected.as_mut() else {
            return Ok(());
        };
        let mut named = vec![only.is_none(); selected.messages.len()];
        for &i in only.unwrap_or_default() {
            named[i] = true;
        }
        let doomed: Vec<usize> = (0..selected.messages.len())
            .filter(|&i| named[i] && selected.messages[i].flags.contains(Flags::DELETED))
            .collect();
        if doomed.is_empty() {
            return Ok(());
        }
        let keys: Vec<String> = doomed
            .iter()
            .map(|&i| selected.messages[i].key.clone())
            .collect();
        self.store.expunge(&mailbox, &folder, &keys)?;
        self.forget(&doomed, announce);
        Ok(())
    }

    /// Drops the messages at `doomed` (ascending) from the session's view,
    /// telling the client each one's sequence number when `announce`: each
    /// EXPUNGE renumbers the messages after it (RFC 9051 §7.5.1).
    pub(super) fn forget(&mut self, doomed: &[usize], announce: bool) {
        let Some(selected) = self.selected.as_mut() else {
            return;
        };
        let mut gone = vec![false; selected.messages.len()];
        for &i in doomed {
            gone[i] = true;
        }
        let mut at = 0;
        selected.messages.retain(|_| {
            at += 1;
            !gone[at - 1]
        });
        if announce {
            for (removed, &i) in doomed.iter().enumerate() {
                self.send(&number_data((i - removed) as u32 + 1, "EXPUNGE"));
            }
        }
    }

    pub(super) fn close_mailbox(&mut self, c: &Command) {
        let expunge = c.verb == crate::imap::Verb::Close
            && self.selected.as_ref().is_some_and(|s| !s.read_only);
        if expunge && let Err(e) = self.remove_deleted(None, false) {
            return self.refuse_store(c, &e);
        }
        self.selected = None;
        self.set_state(ImapState::Authenticated);
        self.ok(c, None);
    }

    /// Tells a session with a mailbox selected of mail that arrived since
    /// (RFC 9051 §7.4.1, EXISTS); flags changed elsewhere are not told.
    pub(super) fn refresh(&mut self) {
        let (mailbox, folder) = (self.mailbox().to_string(), self.folder());
        let Some(selected) = self.selected.as_mut() else {
            return;
        };
        let Ok(snapshot) = self.store.snapshot(&mailbox, &folder) else {
            return;
        };
        if snapshot.uid_validity != selected.uid_validity {
            return;
        }
        let newest = selected.uid_next;
        let arrived: Vec<ImapMessage> = snapshot
            .messages
            .into_iter()
            .filter(|m| m.uid >= newest)
            .collect();
        if arrived.is_empty() {
            return;
        }
        selected.uid_next = snapshot.uid_next;
        selected.messages.extend(arrived);
        let n = selected.messages.len() as u32;
        self.send(&number_data(n, "EXISTS"));
    }
}

/// One item's name and value in a FETCH response.
fn fetch_answer(item: &FetchItem, m: &ImapMessage, body: &[u8]) -> Vec<Value> {
    let (name, value) = match item {
        FetchItem::Envelope => ("ENVELOPE".to_string(), fetch::envelope(body)),
        FetchItem::Structure { extended } => {
            let name = if *extended { "BODYSTRUCTURE" } else { "BODY" };
            (
                name.into(),
                super::structure::body_structure(body, *extended),
            )
        }
        FetchItem::Flags => ("FLAGS".to_string(), fetch::flags_value(m.flags)),
        FetchItem::Uid => ("UID".into(), Value::Atom(m.uid.to_string())),
        FetchItem::Size => ("RFC822.SIZE".into(), Value::Atom(m.size.to_string())),
        FetchItem::InternalDate => ("INTERNALDATE".into(), fetch::internal_date(m.internal_date)),
        FetchItem::Body {
            section,
            partial,
            name,
            ..
        } => {
            let bytes = fetch::section_bytes(body, section);
            let literal = Value::Literal {
                data: fetch::partial_bytes(&bytes, *partial).to_vec(),
                synchronizing: true,
            };
            (name.clone(), literal)
        }
    };
    vec![Value::Atom(name), value]
}

fn fetch_response(index: usize, answer: Vec<Value>) -> Response {
    Response::Data {
        number: Some(index as u32 + 1),
        name: "FETCH".into(),
        arguments: vec![Value::List(answer)],
    }
}

/// `* n EXISTS`, `* n EXPUNGE`, ...
pub(super) fn number_data(n: u32, name: &str) -> Response {
    Response::Data {
        number: Some(n),
        name: name.into(),
        arguments: Vec::new(),
    }
}

fn atom_list(names: Vec<&str>) -> Value {
    Value::List(names.into_iter().map(|n| Value::Atom(n.into())).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Engine, Millis, drain};
    use crate::imap::server::ImapServerConfig;
    use crate::mail::store::{MailStore, MemoryStore};
    use std::sync::Arc;

    fn say(server: &mut ImapServer<Arc<MemoryStore>>, input: &str) -> String {
        server.handle_input(input.as_bytes(), Millis(0));
        String::from_utf8(drain(server).bytes()).unwrap()
    }

    fn logged_in(store: &Arc<MemoryStore>) -> ImapServer<Arc<MemoryStore>> {
        let mut s = ImapServer::new(ImapServerConfig::default(), store.clone());
        drain(&mut s);
        assert_eq!(
            say(&mut s, "a1 LOGIN bob hungry\r\n"),
            "a1 OK LOGIN completed\r\n"
        );
        s
    }

    #[test]
    fn select_fetch_store_and_the_flag_stays() {
        let store = Arc::new(MemoryStore::course());
        let mut s = logged_in(&store);
        let text = say(&mut s, "a2 SELECT inbox\r\n");
        assert_eq!(
            text,
            "* 2 EXISTS\r\n* 0 RECENT\r\n* FLAGS (\\Draft \\Flagged \\Answered \\Seen \\Deleted)\r\n\
             * OK [PERMANENTFLAGS (\\Draft \\Flagged \\Answered \\Seen \\Deleted)]\r\n\
             * OK [UIDVALIDITY 1]\r\n* OK [UIDNEXT 3]\r\na2 OK [READ-WRITE] SELECT completed\r\n"
        );
        let text = say(&mut s, "a3 FETCH 1:* (FLAGS RFC822.SIZE)\r\n");
        assert_eq!(
            text,
            "* 1 FETCH (FLAGS () RFC822.SIZE 498)\r\n* 2 FETCH (FLAGS () RFC822.SIZE 912)\r\n\
             a3 OK FETCH completed\r\n"
        );
        let text = say(&mut s, "a4 FETCH 1 BODY.PEEK[HEADER]<0.8>\r\n");
        assert!(
            text.starts_with("* 1 FETCH (BODY[HEADER]<0> {8}\r\n"),
            "{text}"
        );
        let text = say(&mut s, "a5 UID FETCH 1 BODY[]\r\n");
        assert!(
            text.starts_with("* 1 FETCH (UID 1 BODY[] {498}\r\n"),
            "{text}"
        );
        assert!(
            text.ends_with(" FLAGS (\\Seen))\r\na5 OK UID FETCH completed\r\n"),
            "{text}"
        );
        assert_eq!(
            say(&mut s, "a6 SEARCH UNSEEN\r\n"),
            "* SEARCH 2\r\na6 OK SEARCH completed\r\n"
        );
        assert_eq!(
            say(&mut s, "a7 LOGOUT\r\n").lines().last(),
            Some("a7 OK LOGOUT completed")
        );
        let mut s = logged_in(&store);
        say(&mut s, "b1 EXAMINE INBOX\r\n");
        assert_eq!(
            say(&mut s, "b2 FETCH 1:2 FLAGS\r\n"),
            "* 1 FETCH (FLAGS (\\Seen))\r\n* 2 FETCH (FLAGS ())\r\nb2 OK FETCH completed\r\n"
        );
        let text = say(&mut s, "b3 STORE 1 +FLAGS (\\Deleted)\r\n");
        assert!(text.starts_with("b3 NO [READ-ONLY]"), "{text}");
    }

    #[test]
    fn a_big_fetch_is_answered_in_batches_and_commands_wait_behind_it() {
        let store = Arc::new(MemoryStore::course());
        let bob = ["bob@hamburger.edu".to_string()];
        let body = format!("Subject: big\r\n\r\n{}\r\n", "x".repeat(20_000));
        for _ in 0..40 {
            store.deliver(&bob, body.as_bytes()).unwrap();
        }
        let mut s = logged_in(&store);
        say(&mut s, "a2 SELECT INBOX\r\n");
        s.handle_input(b"a3 FETCH 1:* BODY.PEEK[]\r\na4 NOOP\r\n", Millis(0));
        assert!(s.pending_fetch.is_some(), "800 KB are not queued at once");
        let text = String::from_utf8(drain(&mut s).bytes()).unwrap();
        assert!(s.pending_fetch.is_none());
        assert_eq!(text.matches(" FETCH (BODY[] {").count(), 42);
        assert!(
            text.ends_with("a3 OK FETCH completed\r\na4 OK NOOP completed\r\n"),
            "{}",
            &text[text.len() - 100..]
        );
    }

    #[test]
    fn store_expunge_close_and_new_mail() {
        let store = Arc::new(MemoryStore::course());
        let mut s = logged_in(&store);
        say(&mut s, "a2 SELECT INBOX\r\n");
        assert_eq!(
            say(&mut s, "a3 STORE 1:2 +FLAGS.SILENT (\\Deleted)\r\n"),
            "a3 OK STORE completed\r\n"
        );
        assert_eq!(
            say(&mut s, "a4 UID STORE 2 -FLAGS \\Deleted\r\n"),
            "* 2 FETCH (FLAGS () UID 2)\r\na4 OK UID STORE completed\r\n"
        );
        store
            .deliver(&["bob@hamburger.edu".into()], b"Subject: new\r\n\r\nhi\r\n")
            .unwrap();
        assert_eq!(
            say(&mut s, "a5 NOOP\r\n"),
            "* 3 EXISTS\r\na5 OK NOOP completed\r\n"
        );
        assert_eq!(
            say(&mut s, "a6 EXPUNGE\r\n"),
            "* 1 EXPUNGE\r\na6 OK EXPUNGE completed\r\n"
        );
        let text = say(&mut s, "a7 FETCH 3 UID\r\n");
        assert!(
            text.starts_with("a7 BAD 3 names messages past the last one (2)"),
            "{text}"
        );
        assert_eq!(
            say(&mut s, "a8 STATUS INBOX (MESSAGES UIDNEXT UNSEEN)\r\n"),
            "* STATUS INBOX (MESSAGES 2 UIDNEXT 4 UNSEEN 2)\r\na8 OK STATUS completed\r\n"
        );
        say(&mut s, "a9 STORE 1 FLAGS (\\Deleted \\Seen)\r\n");
        assert_eq!(say(&mut s, "b1 CLOSE\r\n"), "b1 OK CLOSE completed\r\n");
        assert_eq!(store.messages("bob@hamburger.edu").len(), 1);
        let text = say(&mut s, "b2 FETCH 1 FLAGS\r\n");
        assert!(
            text.starts_with("b2 NO FETCH is not valid in the Authenticated state"),
            "{text}"
        );
    }

    #[test]
    fn list_lsub_and_refusals() {
        let store = Arc::new(MemoryStore::course());
        let mut s = logged_in(&store);
        assert_eq!(
            say(&mut s, "a2 LIST \"\" \"\"\r\n"),
            "* LIST (\\Noselect) \"/\" \"\"\r\na2 OK LIST completed\r\n"
        );
        assert_eq!(
            say(&mut s, "a3 LIST \"\" *\r\n"),
            "* LIST (\\HasNoChildren) \"/\" INBOX\r\na3 OK LIST completed\r\n"
        );
        assert_eq!(
            say(&mut s, "a4 LSUB \"\" Sent*\r\n"),
            "a4 OK LSUB completed\r\n"
        );
        let text = say(&mut s, "a5 SELECT Sent\r\n");
        assert!(text.starts_with("a5 NO [NONEXISTENT]"), "{text}");
        say(&mut s, "a6 SELECT INBOX\r\n");
        let alice = "((\"Alice\" NIL \"alice\" \"crepes.fr\"))";
        assert_eq!(
            say(&mut s, "a7 FETCH 1 ENVELOPE\r\n"),
            format!(
                "* 1 FETCH (ENVELOPE (\"Mon, 2 Sep 2024 12:21:20 +0200\" \"Lunch?\" \
                 {alice} {alice} {alice} ((\"Bob\" NIL \"bob\" \"hamburger.edu\")) NIL NIL NIL \
                 \"<ketchup.1@crepes.fr>\"))\r\na7 OK FETCH completed\r\n"
            )
        );
        let text = say(&mut s, "a7 FETCH 1 (BODY BODYSTRUCTURE)\r\n");
        assert!(
            text.starts_with(
                "* 1 FETCH (BODY (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" "
            ),
            "{text}"
        );
        assert!(text.contains(" BODYSTRUCTURE (\"TEXT\" "), "{text}");
        let text = say(&mut s, "a8 STORE 1 +FLAGS ($Junk)\r\n");
        assert!(
            text.starts_with("a8 NO [CANNOT] $Junk cannot be kept"),
            "{text}"
        );
    }
}
