//! What an IMAP client knows of the mailbox after a session, read from the
//! session's messages as the follower ([`super::ImapTranscript`]) framed
//! them: the folders LIST named (and CREATE, DELETE and RENAME changed),
//! and in each folder selected, its messages by number with the UID,
//! subject and flags the server said (SELECT's EXISTS, FETCH, the untagged
//! FETCH after STORE, EXPUNGE, and EXISTS arriving during IDLE).
//!
//! It is the client's view on purpose, not the server's: the page shows
//! the student what their own commands taught the client, so a flag shows
//! once a FETCH or STORE reported it, and a message the server has but
//! nobody fetched yet shows as "not fetched". Bounded: at most
//! [`MAX_FOLDERS`] folders and [`MAX_MESSAGES`] messages per folder are
//! kept, whatever numbers the server sends.

use super::command::{Command, Verb};
use super::response::{Response, Status};
use super::sections::{NumberedPart, numbered_parts};
use super::store::INBOX;
use super::syntax::Value;
use crate::dissect::Span;
use crate::mail::encoded_word::decode_unstructured;
use crate::mail::header::parse_section;
use crate::transcript::{Observed, Side};

/// The most folders kept.
pub const MAX_FOLDERS: usize = 200;
/// The most messages kept per folder (the rest are counted, not listed).
pub const MAX_MESSAGES: usize = 1000;

/// One message as the client knows it; its sequence number is its place
/// in [`KnownFolder::messages`] plus one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KnownMessage {
    pub uid: Option<u32>,
    pub subject: Option<String>,
    /// `None` until the server reported the flags.
    pub flags: Option<Vec<String>>,
}

impl KnownMessage {
    pub fn has_flag(&self, flag: &str) -> bool {
        self.flags
            .iter()
            .flatten()
            .any(|f| f.eq_ignore_ascii_case(flag))
    }
}

/// One folder as the client knows it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KnownFolder {
    pub name: String,
    /// The hierarchy delimiter LIST gave (`/`), if any.
    pub delimiter: Option<char>,
    /// `\HasChildren`, `\Sent`, ... as LIST gave them.
    pub attributes: Vec<String>,
    /// Whether it was selected in this session (its messages are known).
    pub opened: bool,
    /// Whether the server named it (LIST, STATUS, a CREATE it completed,
    /// a SELECT it completed), not only a command of the client.
    pub confirmed: bool,
    /// The number of messages the server last said (EXISTS or STATUS).
    pub count: Option<u32>,
    pub uid_validity: Option<u32>,
    pub messages: Vec<KnownMessage>,
}

impl KnownFolder {
    fn named(name: &str) -> KnownFolder {
        KnownFolder {
            name: name.to_string(),
            ..KnownFolder::default()
        }
    }

    /// The message numbered `number` (from 1), made known if it is new.
    fn message(&mut self, number: u32) -> Option<&mut KnownMessage> {
        let index = usize::try_from(number).ok()?.checked_sub(1)?;
        if index >= MAX_MESSAGES {
            return None;
        }
        if self.messages.len() <= index {
            self.messages.resize_with(index + 1, KnownMessage::default);
        }
        self.messages.get_mut(index)
    }

    fn exists(&mut self, count: u32) {
        self.count = Some(count);
        let kept = usize::try_from(count).map_or(MAX_MESSAGES, |n| n.min(MAX_MESSAGES));
        self.messages.resize_with(kept, KnownMessage::default);
    }

    fn expunge(&mut self, number: u32) {
        let index = usize::try_from(number).ok().and_then(|n| n.checked_sub(1));
        if let Some(i) = index.filter(|&i| i < self.messages.len()) {
            self.messages.remove(i);
        }
        self.count = self.count.map(|c| c.saturating_sub(1));
    }
}

/// The last BODYSTRUCTURE fetched, numbered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedStructure {
    pub folder: String,
    /// The message's number when it was fetched.
    pub number: u32,
    pub uid: Option<u32>,
    pub parts: Vec<NumberedPart>,
}

/// One row of the folder tree: a folder, how deep it sits, its last name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeRow<'a> {
    pub folder: &'a KnownFolder,
    pub depth: usize,
    pub label: &'a str,
}

/// Everything the client learnt in the session.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientView {
    pub folders: Vec<KnownFolder>,
    /// The folder selected now.
    pub selected: Option<String>,
    pub structure: Option<FetchedStructure>,
    /// Commands sent and not completed, by their message index.
    awaiting: Vec<(usize, Command)>,
}

impl ClientView {
    /// Reads a whole session's messages, in order.
    pub fn of<S>(messages: &[Observed<S>]) -> ClientView {
        let mut view = ClientView::default();
        for (index, m) in messages.iter().enumerate() {
            match m.side {
                Side::Client => view.command(index, &m.bytes),
                Side::Server => view.response(m.answers, &m.bytes),
            }
        }
        view
    }

    pub fn folder(&self, name: &str) -> Option<&KnownFolder> {
        self.folders.iter().find(|f| same_folder(&f.name, name))
    }

    fn folder_mut(&mut self, name: &str) -> Option<&mut KnownFolder> {
        if self.folder(name).is_none() && self.folders.len() < MAX_FOLDERS {
            self.folders.push(KnownFolder::named(name));
        }
        self.folders.iter_mut().find(|f| same_folder(&f.name, name))
    }

    fn selected_mut(&mut self) -> Option<&mut KnownFolder> {
        let name = self.selected.clone()?;
        self.folder_mut(&name)
    }

    /// The folders as a tree: INBOX first, then the others by name, each
    /// under its parent (a folder named `Work/2026` sits under `Work`).
    pub fn tree(&self) -> Vec<TreeRow<'_>> {
        let mut folders: Vec<&KnownFolder> = self.folders.iter().collect();
        folders.sort_by_key(|f| (!same_folder(&f.name, INBOX), f.name.clone()));
        folders
            .into_iter()
            .map(|folder| {
                let parts = match folder.delimiter {
                    Some(d) => folder.name.split(d).collect(),
                    None => vec![folder.name.as_str()],
                };
                TreeRow {
                    folder,
                    depth: parts.len().saturating_sub(1),
                    label: parts.last().copied().unwrap_or_default(),
                }
            })
            .collect()
    }

    /// A command sent: SELECT opens its folder at once (its untagged data
    /// comes before its completion); the rest waits for completion.
    fn command(&mut self, index: usize, bytes: &[u8]) {
        let Ok(command) = Command::parse(bytes) else {
            return;
        };
        if matches!(command.verb, Verb::Select | Verb::Examine) {
            self.selected = mailbox_name(command.arguments.first());
            self.structure = None;
            if let Some(folder) = self.selected_mut() {
                // A new selection numbers the messages afresh.
                folder.messages.clear();
                folder.opened = true;
            }
        }
        self.awaiting.push((index, command));
    }

    fn response(&mut self, answers: Option<usize>, bytes: &[u8]) {
        match Response::parse(bytes) {
            Ok(Response::Status {
                tag: Some(_),
                status,
                ..
            }) => self.completed(answers, status),
            Ok(Response::Status {
                tag: None,
                code: Some(code),
                ..
            }) if code.name.eq_ignore_ascii_case("UIDVALIDITY") => {
                let validity = code.text.as_deref().and_then(|t| t.trim().parse().ok());
                if let Some(folder) = self.selected_mut() {
                    folder.uid_validity = validity;
                }
            }
            Ok(Response::Data {
                number,
                name,
                arguments,
            }) => self.data(number, &name.to_ascii_uppercase(), &arguments),
            _ => {}
        }
    }

    /// A tagged completion: what the completed command changed.
    fn completed(&mut self, answers: Option<usize>, status: Status) {
        let Some(at) = self.awaiting.iter().position(|(i, _)| Some(*i) == answers) else {
            return;
        };
        let (_, command) = self.awaiting.remove(at);
        let first = mailbox_name(command.arguments.first());
        match (command.verb, status) {
            (Verb::Select | Verb::Examine, Status::Ok) => {
                if let Some(folder) = self.selected_mut() {
                    folder.confirmed = true;
                }
            }
            (Verb::Select | Verb::Examine, _) => {
                // A folder the server refused to open and never named is
                // not one the client knows.
                self.folders.retain(|f| {
                    f.confirmed || first.as_deref().is_none_or(|n| !same_folder(&f.name, n))
                });
                self.selected = None;
            }
            (Verb::Close, Status::Ok) => {
                // CLOSE expunges silently (RFC 9051 §6.4.1): no EXPUNGE
                // responses say which went, the \Deleted ones did.
                if let Some(folder) = self.selected_mut() {
                    folder.messages.retain(|m| !m.has_flag("\\Deleted"));
                }
                self.selected = None;
            }
            (Verb::Unselect, Status::Ok) => self.selected = None,
            (Verb::Create, Status::Ok) => {
                if let Some(folder) = first.and_then(|name| self.folder_mut(&name)) {
                    folder.confirmed = true;
                }
            }
            (Verb::Delete, Status::Ok) => {
                self.folders
                    .retain(|f| first.as_deref().is_none_or(|n| !same_folder(&f.name, n)));
            }
            (Verb::Rename, Status::Ok) => {
                let to = mailbox_name(command.arguments.get(1));
                if let (Some(from), Some(to)) = (first, to)
                    && let Some(folder) = self.folder_mut(&from)
                {
                    folder.name = to;
                }
            }
            _ => {}
        }
    }

    fn data(&mut self, number: Option<u32>, name: &str, arguments: &[Value]) {
        match (name, number, arguments) {
            ("LIST" | "LSUB", None, [Value::List(attributes), delimiter, mailbox, ..]) => {
                self.listed(attributes, delimiter, mailbox);
            }
            ("STATUS", None, [mailbox, Value::List(items)]) => {
                let count = pair(items, "MESSAGES").and_then(|v| v.as_atom()?.parse().ok());
                if let Some(folder) = mailbox_name(Some(mailbox)).and_then(|n| self.folder_mut(&n))
                {
                    folder.count = count.or(folder.count);
                    folder.confirmed = true;
                }
            }
            ("EXISTS", Some(count), _) => {
                if let Some(folder) = self.selected_mut() {
                    folder.exists(count);
                }
            }
            ("EXPUNGE", Some(n), _) => {
                if let Some(folder) = self.selected_mut() {
                    folder.expunge(n);
                }
            }
            ("FETCH", Some(n), [Value::List(items)]) => self.fetched(n, items),
            _ => {}
        }
    }

    fn listed(&mut self, attributes: &[Value], delimiter: &Value, mailbox: &Value) {
        let Some(name) = mailbox_name(Some(mailbox)) else {
            return;
        };
        let delimiter = delimiter
            .string_bytes()
            .filter(|_| matches!(delimiter, Value::Quoted(_)))
            .and_then(|b| b.first())
            .map(|&b| char::from(b));
        if let Some(folder) = self.folder_mut(&name) {
            folder.confirmed = true;
            folder.delimiter = delimiter;
            folder.attributes = attributes
                .iter()
                .filter_map(|a| a.as_atom().map(str::to_string))
                .collect();
        }
    }

    /// `* n FETCH (...)`: what it says of message n of the selected folder.
    fn fetched(&mut self, number: u32, items: &[Value]) {
        let Some(folder_name) = self.selected.clone() else {
            return;
        };
        let mut structure = None;
        let Some(message) = self
            .folder_mut(&folder_name)
            .and_then(|f| f.message(number))
        else {
            return;
        };
        for item in items.chunks(2) {
            let [name, value] = item else { continue };
            let name = name.as_atom().unwrap_or_default().to_ascii_uppercase();
            match (name.as_str(), value) {
                ("FLAGS", Value::List(flags)) => {
                    message.flags = Some(
                        flags
                            .iter()
                            .filter_map(|f| f.as_atom().map(str::to_string))
                            .collect(),
                    );
                }
                ("UID", _) => message.uid = value.as_atom().and_then(|t| t.parse().ok()),
                ("ENVELOPE", Value::List(fields)) => {
                    if let Some(subject) = fields.get(1).and_then(decoded_text) {
                        message.subject = Some(subject);
                    }
                }
                ("BODYSTRUCTURE" | "BODY", Value::List(_)) => structure = Some(value),
                (n, _) if n.starts_with("BODY[HEADER") || n.starts_with("RFC822.HEADER") => {
                    if let Some(subject) = value.string_bytes().and_then(subject_field) {
                        message.subject = Some(subject);
                    }
                }
                _ => {}
            }
        }
        let uid = message.uid;
        if let Some(value) = structure {
            self.structure = Some(FetchedStructure {
                folder: folder_name,
                number,
                uid,
                parts: numbered_parts(value),
            });
        }
    }
}

/// INBOX is named in any case; other names are case-sensitive.
fn same_folder(a: &str, b: &str) -> bool {
    a == b || (a.eq_ignore_ascii_case(INBOX) && b.eq_ignore_ascii_case(INBOX))
}

/// A mailbox argument as text, INBOX in capitals.
fn mailbox_name(value: Option<&Value>) -> Option<String> {
    let bytes = value?.string_bytes()?;
    let name = String::from_utf8_lossy(bytes).into_owned();
    Some(if name.eq_ignore_ascii_case(INBOX) {
        INBOX.to_string()
    } else {
        name
    })
}

/// The value after `key` in a `(KEY value KEY value)` list.
fn pair<'a>(items: &'a [Value], key: &str) -> Option<&'a Value> {
    items
        .chunks(2)
        .find(|p| p[0].as_atom().is_some_and(|k| k.eq_ignore_ascii_case(key)))
        .and_then(|p| p.get(1))
}

/// An envelope's string with its encoded words decoded; NIL is none.
fn decoded_text(value: &Value) -> Option<String> {
    if value
        .as_atom()
        .is_some_and(|a| a.eq_ignore_ascii_case("NIL"))
    {
        return None;
    }
    let bytes = value.string_bytes()?;
    Some(decode_unstructured(bytes, Span::new(0, bytes.len())).text)
}

/// The Subject field of a fetched header section.
fn subject_field(header: &[u8]) -> Option<String> {
    let section = parse_section(header, 0, header.len());
    let field = section.get(header, "Subject")?;
    let text = decode_unstructured(header, field.value).text;
    Some(text.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Engine, Millis, drain};
    use crate::imap::server::{ImapServer, ImapServerConfig};
    use crate::imap::transcript::ImapTranscript;
    use crate::mail::store::MemoryStore;
    use std::sync::Arc;

    /// Types `lines` against the server engine on the course's mailbox.
    fn session(store: &Arc<MemoryStore>, lines: &[&str]) -> ClientView {
        let mut server = ImapServer::new(ImapServerConfig::default(), store.clone());
        let mut t = ImapTranscript::new();
        t.push_server(&drain(&mut server).bytes());
        for line in lines {
            let bytes = format!("{line}\r\n");
            t.push_client(bytes.as_bytes());
            server.handle_input(bytes.as_bytes(), Millis(0));
            t.push_server(&drain(&mut server).bytes());
        }
        ClientView::of(t.messages())
    }

    fn flags(m: &KnownMessage) -> Vec<&str> {
        m.flags.iter().flatten().map(String::as_str).collect()
    }

    #[test]
    fn select_fetch_and_store_teach_the_client_the_flags() {
        let store = Arc::new(MemoryStore::course());
        let view = session(
            &store,
            &[
                "a001 LOGIN bob hungry",
                "a002 LIST \"\" *",
                "a003 SELECT INBOX",
                "a004 FETCH 1 (UID FLAGS ENVELOPE)",
                "a005 FETCH 2 BODY.PEEK[HEADER]",
                "a006 STORE 1 +FLAGS (\\Flagged \\Answered)",
            ],
        );
        assert_eq!(view.selected.as_deref(), Some("INBOX"));
        let inbox = view.folder("INBOX").expect("INBOX listed");
        assert!(inbox.opened);
        assert!(inbox.uid_validity.is_some());
        assert_eq!(inbox.count, Some(inbox.messages.len() as u32));
        let first = &inbox.messages[0];
        assert_eq!(first.uid, Some(1));
        assert!(first.subject.as_deref().is_some_and(|s| !s.is_empty()));
        let mut said = flags(first);
        said.sort();
        assert_eq!(said, ["\\Answered", "\\Flagged"]);
        // Message 2: its subject from the header, its flags never said.
        assert!(inbox.messages[1].subject.is_some());
        assert_eq!(inbox.messages[1].flags, None);
    }

    #[test]
    fn folders_form_a_tree_with_inbox_first() {
        let store = Arc::new(MemoryStore::course());
        let view = session(
            &store,
            &[
                "a001 LOGIN bob hungry",
                "a002 CREATE Work",
                "a003 CREATE Work/2026",
                "a004 CREATE Archive",
                "a005 LIST \"\" *",
                "a006 DELETE Archive",
            ],
        );
        let rows: Vec<(usize, &str)> = view.tree().iter().map(|r| (r.depth, r.label)).collect();
        assert_eq!(rows[0], (0, "INBOX"));
        assert!(rows.contains(&(0, "Work")), "{rows:?}");
        assert!(rows.contains(&(1, "2026")), "{rows:?}");
        assert!(!rows.iter().any(|r| r.1 == "Archive"), "{rows:?}");
    }

    #[test]
    fn a_folder_the_server_refused_to_select_is_not_in_the_tree() {
        let store = Arc::new(MemoryStore::course());
        let view = session(
            &store,
            &[
                "a001 LOGIN bob hungry",
                "a002 SELECT Nowhere",
                "a003 CREATE Kept",
                "a004 SELECT INBOX",
                "a005 SELECT Kept",
            ],
        );
        let names: Vec<&str> = view.tree().iter().map(|r| r.label).collect();
        assert_eq!(names, ["INBOX", "Kept"]);
        assert_eq!(view.selected.as_deref(), Some("Kept"));
        assert!(view.folders.iter().all(|f| f.confirmed && f.opened));
    }

    #[test]
    fn expunge_idle_exists_and_close_change_the_messages() {
        let store = Arc::new(MemoryStore::course());
        let view = session(
            &store,
            &[
                "a001 LOGIN bob hungry",
                "a002 SELECT INBOX",
                "a003 FETCH 1:* (UID FLAGS)",
                "a004 STORE 1 +FLAGS (\\Deleted)",
                "a005 EXPUNGE",
            ],
        );
        let inbox = view.folder("INBOX").unwrap();
        let on_the_server = store_count(&store);
        assert_eq!(inbox.messages.len(), on_the_server);
        assert_ne!(inbox.messages[0].uid, Some(1), "message 1 went");

        // Followed by hand: an EXISTS during IDLE adds an unknown message.
        let mut t = ImapTranscript::new();
        t.push_server(b"* OK ready\r\n");
        t.push_client(b"a1 SELECT INBOX\r\n");
        t.push_server(b"* 2 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\na1 OK done\r\n");
        t.push_client(b"a2 FETCH 1:2 (UID FLAGS)\r\n");
        t.push_server(
            b"* 1 FETCH (UID 4 FLAGS (\\Deleted))\r\n* 2 FETCH (UID 5 FLAGS ($Later))\r\na2 OK\r\n",
        );
        t.push_client(b"a3 IDLE\r\n");
        t.push_server(b"+ idling\r\n* 3 EXISTS\r\n");
        let view = ClientView::of(t.messages());
        let inbox = view.folder("INBOX").unwrap();
        assert_eq!(inbox.uid_validity, Some(7));
        assert_eq!(inbox.messages.len(), 3);
        assert_eq!(inbox.messages[2], KnownMessage::default());
        t.push_client(b"DONE\r\n");
        t.push_server(b"a3 OK\r\n");
        t.push_client(b"a4 CLOSE\r\n");
        t.push_server(b"a4 OK\r\n");
        let view = ClientView::of(t.messages());
        assert_eq!(view.selected, None);
        let uids: Vec<_> = view
            .folder("INBOX")
            .unwrap()
            .messages
            .iter()
            .map(|m| m.uid)
            .collect();
        assert_eq!(uids, [Some(5), None]);
        assert_eq!(
            flags(&view.folder("INBOX").unwrap().messages[0]),
            ["$Later"]
        );
    }

    fn store_count(store: &Arc<MemoryStore>) -> usize {
        let view = session(store, &["a001 LOGIN bob hungry", "a002 SELECT INBOX"]);
        view.folder("INBOX").unwrap().messages.len()
    }

    #[test]
    fn a_bodystructure_is_numbered_and_numbers_from_the_server_are_bounded() {
        let mut t = ImapTranscript::new();
        t.push_server(b"* OK ready\r\n");
        t.push_client(b"a1 SELECT INBOX\r\n");
        t.push_server(b"* 4000000000 EXISTS\r\na1 OK done\r\n");
        t.push_client(b"a2 FETCH 2 (UID BODYSTRUCTURE)\r\n");
        t.push_server(
            b"* 2 FETCH (UID 9 BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 3 1) \
              (\"TEXT\" \"HTML\" NIL NIL NIL \"7BIT\" 9 1) \"ALTERNATIVE\"))\r\n\
              * 4000000000 FETCH (FLAGS (\\Seen))\r\na2 OK\r\n",
        );
        let view = ClientView::of(t.messages());
        assert_eq!(view.folder("INBOX").unwrap().messages.len(), MAX_MESSAGES);
        assert_eq!(view.folder("INBOX").unwrap().count, Some(4_000_000_000));
        let structure = view.structure.expect("a structure");
        assert_eq!((structure.number, structure.uid), (2, Some(9)));
        let sections: Vec<&str> = structure.parts.iter().map(|p| p.section.as_str()).collect();
        assert_eq!(sections, ["", "1", "2"]);
    }
}
