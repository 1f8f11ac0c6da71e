//! The server engine's folder commands (RFC 9051 §6.3.4 to §6.3.11):
//! CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE, LIST (and LSUB) and
//! STATUS, over the folders of an [`ImapStore`]. Names are checked with
//! [`super::folder`]; how many folders (and subscriptions) a user may have
//! is [`super::ImapServerConfig::max_folders`].
//!
//! The hierarchy is kept whole here, not by the store: CREATE makes the
//! missing folders above a name, RENAME moves the folders inside a name
//! with it, DELETE refuses a folder that has folders inside it.

use crate::imap::command::Command;
use crate::imap::folder::{self, DELIMITER, ancestors, is_inside, wildcard_match};
use crate::imap::server::{ImapServer, data};
use crate::imap::store::{Flags, INBOX, ImapMessage, ImapStore};
use crate::imap::syntax::Value;
use crate::mail::store::StoreError;

/// A folder name as it is written in a response: an atom when it can be.
pub(super) fn name_value(name: &str) -> Value {
    let atom = !name.is_empty()
        && name
            .bytes()
            .all(|b| b > b' ' && b < 0x7f && !b"(){%*\"\\]".contains(&b));
    if atom {
        Value::Atom(name.into())
    } else {
        Value::Quoted(name.as_bytes().to_vec())
    }
}

fn atoms(names: &[&str]) -> Value {
    Value::List(names.iter().map(|n| Value::Atom((*n).into())).collect())
}

impl<S: ImapStore> ImapServer<S> {
    /// The folder the argument `i` names, checked; `None` once the NO is sent.
    pub(super) fn folder_arg(&mut self, c: &Command, i: usize) -> Option<String> {
        let raw = c.arguments.get(i).and_then(Value::string_bytes);
        match folder::check_name(raw.unwrap_or_default(), self.config.max_folder_name_bytes) {
            Ok(name) => Some(name),
            Err(why) => {
                self.no(c, Some("CANNOT"), &why);
                None
            }
        }
    }

    /// INBOX and the other folders, sorted; `None` once the NO is sent.
    fn existing(&mut self, c: &Command) -> Option<Vec<String>> {
        match self.store.folders(self.mailbox()) {
            Ok(mut names) => {
                names.sort();
                names.insert(0, INBOX.into());
                Some(names)
            }
            Err(e) => {
                self.refuse_store(c, &e);
                None
            }
        }
    }

    /// Makes `name` and the folders above it that are missing, within the
    /// folder limit.
    fn make_folder(
        &mut self,
        existing: &[String],
        name: &str,
    ) -> Result<(), (&'static str, String)> {
        let missing: Vec<&str> = ancestors(name)
            .into_iter()
            .chain([name])
            .filter(|n| !existing.iter().any(|e| e == n))
            .collect();
        // INBOX is not counted: the limit is on the folders made by IMAP.
        let limit = self.config.max_folders;
        if existing.len() - 1 + missing.len() > limit {
            return Err((
                "LIMIT",
                format!("a mailbox has at most {limit} folders here"),
            ));
        }
        for n in missing {
            self.store
                .create_folder(self.mailbox(), n)
                .map_err(|e| super::mailbox::store_refusal(&e))?;
        }
        Ok(())
    }

    pub(super) fn create(&mut self, c: &Command) {
        let Some(name) = self.folder_arg(c, 0) else {
            return;
        };
        let Some(existing) = self.existing(c) else {
            return;
        };
        if existing.contains(&name) {
            return self.no(c, Some("ALREADYEXISTS"), &format!("{name} exists already"));
        }
        match self.make_folder(&existing, &name) {
            Ok(()) => self.ok(c, None),
            Err((code, text)) => self.no(c, Some(code), &text),
        }
    }

    pub(super) fn delete(&mut self, c: &Command) {
        let Some(name) = self.folder_arg(c, 0) else {
            return;
        };
        if name == INBOX {
            return self.no(
                c,
                Some("CANNOT"),
                "INBOX cannot be deleted (RFC 9051 §6.3.5)",
            );
        }
        let Some(existing) = self.existing(c) else {
            return;
        };
        if existing.iter().any(|e| is_inside(e, &name)) {
            let text = format!("{name} has folders inside it: delete them first");
            return self.no(c, Some("HASCHILDREN"), &text);
        }
        match self.store.delete_folder(self.mailbox(), &name) {
            Ok(()) => self.ok(c, None),
            Err(e) => self.refuse_store(c, &e),
        }
    }

    pub(super) fn rename(&mut self, c: &Command) {
        let Some(from) = self.folder_arg(c, 0) else {
            return;
        };
        let Some(to) = self.folder_arg(c, 1) else {
            return;
        };
        let Some(existing) = self.existing(c) else {
            return;
        };
        if !existing.contains(&from) {
            return self.no(
                c,
                Some("NONEXISTENT"),
                &format!("there is no folder {from}"),
            );
        }
        if existing.contains(&to) || to == INBOX {
            return self.no(c, Some("ALREADYEXISTS"), &format!("{to} exists already"));
        }
        if is_inside(&to, &from) {
            return self.no(c, Some("CANNOT"), "a folder cannot move inside itself");
        }
        let moved = if from == INBOX {
            self.empty_inbox_into(&existing, &to)
        } else {
            self.rename_tree(&existing, &from, &to)
        };
        match moved {
            Ok(()) => self.ok(c, None),
            Err((code, text)) => self.no(c, Some(code), &text),
        }
    }

    /// RENAME INBOX: its messages move to a new folder, INBOX stays, empty
    /// (RFC 9051 §6.3.6).
    fn empty_inbox_into(
        &mut self,
        existing: &[String],
        to: &str,
    ) -> Result<(), (&'static str, String)> {
        self.make_folder(existing, to)?;
        let refuse = |e: StoreError| super::mailbox::store_refusal(&e);
        let snapshot = self.store.snapshot(self.mailbox(), INBOX).map_err(refuse)?;
        let keys: Vec<String> = snapshot.messages.into_iter().map(|m| m.key).collect();
        self.store
            .copy(self.mailbox(), INBOX, &keys, to, true)
            .map_err(refuse)?;
        Ok(())
    }

    /// Renames `from` and every folder inside it.
    fn rename_tree(
        &mut self,
        existing: &[String],
        from: &str,
        to: &str,
    ) -> Result<(), (&'static str, String)> {
        let above: Vec<String> = ancestors(to).into_iter().map(String::from).collect();
        for parent in above.iter().filter(|a| !existing.contains(a)) {
            self.make_folder(existing, parent)?;
        }
        let mut moving: Vec<&String> = existing
            .iter()
            .filter(|e| *e == from || is_inside(e, from))
            .collect();
        // Parents first: the store's folders are flat, so any order works,
        // but a failure then leaves the outer folders renamed, not holes.
        moving.sort_by_key(|n| n.len());
        for old in moving {
            let new = format!("{to}{}", &old[from.len()..]);
            self.store
                .rename_folder(self.mailbox(), old, &new)
                .map_err(|e| super::mailbox::store_refusal(&e))?;
        }
        Ok(())
    }

    pub(super) fn subscribe(&mut self, c: &Command, on: bool) {
        let Some(name) = self.folder_arg(c, 0) else {
            return;
        };
        let mut names = match self.store.subscriptions(self.mailbox()) {
            Ok(names) => names,
            Err(e) => return self.refuse_store(c, &e),
        };
        let there = names.contains(&name);
        if on && !there {
            if names.len() >= self.config.max_folders {
                let text = format!("at most {} subscriptions here", self.config.max_folders);
                return self.no(c, Some("LIMIT"), &text);
            }
            names.push(name);
        } else if !on {
            if !there {
                return self.no(c, Some("NONEXISTENT"), &format!("{name} is not subscribed"));
            }
            names.retain(|n| *n != name);
        }
        match self.store.set_subscriptions(self.mailbox(), &names) {
            Ok(()) => self.ok(c, None),
            Err(e) => self.refuse_store(c, &e),
        }
    }

    /// LIST and LSUB (and LIST (SUBSCRIBED), RFC 9051 §6.3.9.1): the
    /// folders the pattern matches; an empty pattern asks for the
    /// hierarchy delimiter.
    pub(super) fn list(&mut self, c: &Command) {
        let options = match c.arguments.first() {
            Some(Value::List(o)) => o.as_slice(),
            _ => &[],
        };
        let subscribed_only = c.verb == crate::imap::Verb::Lsub
            || options.iter().any(|o| {
                o.as_atom()
                    .is_some_and(|a| a.eq_ignore_ascii_case("SUBSCRIBED"))
            });
        let args = match c.arguments.split_first() {
            Some((Value::List(_), rest)) => rest,
            _ => &c.arguments[..],
        };
        let text = |v: Option<&Value>| {
            String::from_utf8_lossy(v.and_then(Value::string_bytes).unwrap_or_default())
                .into_owned()
        };
        let reference = text(args.first());
        let patterns: Vec<String> = match args.get(1) {
            Some(Value::List(items)) => items.iter().map(|v| text(Some(v))).collect(),
            other => vec![text(other)],
        };
        let name = c.verb.name();
        let delimiter = Value::Quoted(vec![DELIMITER as u8]);
        if patterns.iter().all(String::is_empty) {
            let root = Value::Quoted(Vec::new());
            self.send(&data(name, vec![atoms(&["\\Noselect"]), delimiter, root]));
            return self.ok(c, None);
        }
        let Some(existing) = self.existing(c) else {
            return;
        };
        let subscriptions = match self.store.subscriptions(self.mailbox()) {
            Ok(s) => s,
            Err(e) => return self.refuse_store(c, &e),
        };
        let shown = if subscribed_only {
            &subscriptions
        } else {
            &existing
        };
        for folder in shown {
            let full = |p: &String| format!("{reference}{p}");
            if !patterns.iter().any(|p| wildcard_match(&full(p), folder)) {
                continue;
            }
            let mut attributes = Vec::new();
            if !existing.contains(folder) {
                attributes.push("\\NonExistent");
            } else if existing.iter().any(|e| is_inside(e, folder)) {
                attributes.push("\\HasChildren");
            } else {
                attributes.push("\\HasNoChildren");
            }
            if subscribed_only && c.verb == crate::imap::Verb::List {
                attributes.push("\\Subscribed");
            }
            let line = vec![atoms(&attributes), delimiter.clone(), name_value(folder)];
            self.send(&data(name, line));
        }
        self.ok(c, None);
    }

    pub(super) fn status(&mut self, c: &Command) {
        let Some(folder) = self.folder_arg(c, 0) else {
            return;
        };
        let snapshot = match self.store.snapshot(self.mailbox(), &folder) {
            Ok(s) => s,
            Err(e) => return self.refuse_store(c, &e),
        };
        let m = &snapshot.messages;
        let count = |f: fn(&ImapMessage) -> bool| m.iter().filter(|x| f(x)).count() as u64;
        let mut answer = Vec::new();
        let asked = match c.arguments.get(1) {
            Some(Value::List(items)) => items.as_slice(),
            _ => &[],
        };
        for item in asked.iter().filter_map(Value::as_atom) {
            let value = match item.to_ascii_uppercase().as_str() {
                "MESSAGES" => m.len() as u64,
                "RECENT" => 0,
                "UIDNEXT" => u64::from(snapshot.uid_next),
                "UIDVALIDITY" => u64::from(snapshot.uid_validity),
                "UNSEEN" => count(|x| !x.flags.contains(Flags::SEEN)),
                "DELETED" => count(|x| x.flags.contains(Flags::DELETED)),
                "SIZE" => m.iter().map(|x| x.size).sum(),
                other => {
                    let text = format!("STATUS {other} is not served by this server");
                    return self.no(c, None, &text);
                }
            };
            answer.push(Value::Atom(item.to_ascii_uppercase()));
            answer.push(Value::Atom(value.to_string()));
        }
        self.send(&data(
            "STATUS",
            vec![name_value(&folder), Value::List(answer)],
        ));
        self.ok(c, None);
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::{Engine, Millis, drain};
    use crate::imap::server::{ImapServer, ImapServerConfig};
    use crate::mail::store::MemoryStore;
    use std::sync::Arc;

    fn say(server: &mut ImapServer<Arc<MemoryStore>>, input: &str) -> String {
        server.handle_input(input.as_bytes(), Millis(0));
        String::from_utf8(drain(server).bytes()).unwrap()
    }

    fn logged_in(store: &Arc<MemoryStore>, max_folders: usize) -> ImapServer<Arc<MemoryStore>> {
        let config = ImapServerConfig {
            max_folders,
            ..ImapServerConfig::default()
        };
        let mut s = ImapServer::new(config, store.clone());
        drain(&mut s);
        say(&mut s, "a0 LOGIN bob hungry\r\n");
        s
    }

    #[test]
    fn create_list_rename_delete() {
        let store = Arc::new(MemoryStore::course());
        let mut s = logged_in(&store, 5);
        assert_eq!(
            say(&mut s, "a1 CREATE Archive/2024\r\n"),
            "a1 OK CREATE completed\r\n"
        );
        assert_eq!(
            say(&mut s, "a2 CREATE \"My Sent\"\r\n"),
            "a2 OK CREATE completed\r\n"
        );
        assert_eq!(
            say(&mut s, "a3 LIST \"\" *\r\n"),
            "* LIST (\\HasNoChildren) \"/\" INBOX\r\n* LIST (\\HasChildren) \"/\" Archive\r\n\
             * LIST (\\HasNoChildren) \"/\" Archive/2024\r\n\
             * LIST (\\HasNoChildren) \"/\" \"My Sent\"\r\na3 OK LIST completed\r\n"
        );
        assert_eq!(
            say(&mut s, "a4 LIST \"\" %\r\n").matches("* LIST").count(),
            3,
            "% stops at the delimiter"
        );
        let text = say(
            &mut s,
            "a5 CREATE archive/2024\r\na6 CREATE a.b\r\na7 CREATE INBOX\r\n",
        );
        assert!(
            text.contains("a5 OK"),
            "other names keep their case: {text}"
        );
        assert!(
            text.contains("a6 NO [CANNOT] '.' cannot be in a folder name"),
            "{text}"
        );
        assert!(text.contains("a7 NO [ALREADYEXISTS]"), "{text}");
        let text = say(&mut s, "a8 CREATE x\r\n");
        assert!(
            text.starts_with("a8 NO [LIMIT] a mailbox has at most 5 folders"),
            "{text}"
        );
        let text = say(
            &mut s,
            "b1 DELETE Archive\r\nb2 DELETE INBOX\r\nb3 DELETE nope\r\n",
        );
        assert!(text.contains("b1 NO [HASCHILDREN]"), "{text}");
        assert!(
            text.contains("b2 NO [CANNOT] INBOX cannot be deleted"),
            "{text}"
        );
        assert!(text.contains("b3 NO [NONEXISTENT]"), "{text}");
        assert_eq!(
            say(&mut s, "b4 RENAME Archive Old/Archive\r\n"),
            "b4 NO [LIMIT] a mailbox has at most 5 folders here\r\n"
        );
        assert_eq!(
            say(&mut s, "b5 DELETE archive/2024\r\nb6 DELETE archive\r\n"),
            "b5 OK DELETE completed\r\nb6 OK DELETE completed\r\n"
        );
        assert_eq!(
            say(&mut s, "b7 RENAME Archive Old/Archive\r\n"),
            "b7 OK RENAME completed\r\n"
        );
        assert_eq!(
            say(&mut s, "b8 LIST \"Old/\" *\r\n"),
            "* LIST (\\HasChildren) \"/\" Old/Archive\r\n\
             * LIST (\\HasNoChildren) \"/\" Old/Archive/2024\r\nb8 OK LIST completed\r\n"
        );
        let text = say(&mut s, "b9 RENAME Old Old/x\r\n");
        assert!(
            text.starts_with("b9 NO [CANNOT] a folder cannot move inside itself"),
            "{text}"
        );
    }

    #[test]
    fn rename_inbox_subscriptions_and_status() {
        let store = Arc::new(MemoryStore::course());
        let mut s = logged_in(&store, 10);
        assert_eq!(
            say(&mut s, "a1 RENAME inbox Saved\r\n"),
            "a1 OK RENAME completed\r\n"
        );
        assert_eq!(
            say(
                &mut s,
                "a2 STATUS Saved (MESSAGES UIDNEXT)\r\na3 STATUS INBOX (MESSAGES)\r\n"
            ),
            "* STATUS Saved (MESSAGES 2 UIDNEXT 3)\r\na2 OK STATUS completed\r\n\
             * STATUS INBOX (MESSAGES 0)\r\na3 OK STATUS completed\r\n"
        );
        let text = say(&mut s, "a4 SELECT Saved\r\n");
        assert!(text.starts_with("* 2 EXISTS\r\n"), "{text}");
        let text = say(
            &mut s,
            "a5 SUBSCRIBE Saved\r\na6 SUBSCRIBE Gone\r\na7 UNSUBSCRIBE Nope\r\n",
        );
        assert!(
            text.contains("a6 OK") && text.contains("a7 NO [NONEXISTENT]"),
            "{text}"
        );
        assert_eq!(
            say(&mut s, "a8 LSUB \"\" *\r\n"),
            "* LSUB (\\HasNoChildren) \"/\" Saved\r\n* LSUB (\\NonExistent) \"/\" Gone\r\n\
             a8 OK LSUB completed\r\n"
        );
        assert_eq!(
            say(&mut s, "a9 LIST (SUBSCRIBED) \"\" S*\r\n"),
            "* LIST (\\HasNoChildren \\Subscribed) \"/\" Saved\r\na9 OK LIST completed\r\n"
        );
    }
}
