//! "What POP3 would have done to this mailbox": for the mailbox an IMAP
//! session has shown ([`ClientView`]), what a POP3 reader's session would
//! have left on the server, message by message, beside what IMAP leaves.
//!
//! POP3 (RFC 1939) sees one mailbox, INBOX, with no folders and no flags;
//! a reader downloads each message (RETR) and, by default, deletes it
//! (DELE, applied at QUIT), or leaves it and remembers its UIDL so as not
//! to download it twice. IMAP leaves every message on the server, in its
//! folder, with its flags, for the next session and any other client.

use super::client_view::{ClientView, KnownFolder, KnownMessage};
use super::store::INBOX;

/// What a POP3 reader does with what it downloaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pop3Habit {
    /// RETR then DELE: most readers' default.
    DownloadAndDelete,
    /// RETR only, the UIDL remembered ("leave a copy on the server").
    LeaveOnServer,
}

/// One INBOX message, under each protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComparedMessage {
    /// Its POP3 message number (its place in INBOX, as for IMAP).
    pub number: usize,
    pub uid: Option<u32>,
    pub subject: Option<String>,
    pub imap: String,
    pub pop3: String,
    /// Whether the POP3 session leaves it on the server.
    pub pop3_keeps_it: bool,
}

/// The whole comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pop3Comparison {
    pub messages: Vec<ComparedMessage>,
    /// Folders other than INBOX, with the messages the client knows of in
    /// each: out of POP3's reach.
    pub out_of_reach: Vec<(String, usize)>,
    pub imap_summary: String,
    pub pop3_summary: String,
}

/// Compares the two protocols on the mailbox `view` shows.
pub fn compare(view: &ClientView, habit: Pop3Habit) -> Pop3Comparison {
    let inbox = view.folder(INBOX);
    let messages: Vec<ComparedMessage> = inbox
        .map(|f| f.messages.as_slice())
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, m)| compared(i + 1, m, habit))
        .collect();
    let out_of_reach: Vec<(String, usize)> = view
        .folders
        .iter()
        .filter(|f| f.name != INBOX)
        .map(|f| (f.name.clone(), folder_size(f)))
        .collect();
    Pop3Comparison {
        imap_summary: imap_summary(messages.len(), &out_of_reach),
        pop3_summary: pop3_summary(&messages, &out_of_reach, habit),
        messages,
        out_of_reach,
    }
}

/// The messages known in a folder: those listed, else the last count.
fn folder_size(folder: &KnownFolder) -> usize {
    let count = folder.count.and_then(|c| usize::try_from(c).ok());
    folder.messages.len().max(count.unwrap_or(0))
}

fn flag_list(m: &KnownMessage) -> String {
    match &m.flags {
        None => "its flags (not fetched yet)".into(),
        Some(f) if f.is_empty() => "no flags yet".into(),
        Some(f) => f.join(" "),
    }
}

fn compared(number: usize, m: &KnownMessage, habit: Pop3Habit) -> ComparedMessage {
    let flags = flag_list(m);
    let imap = if m.has_flag("\\Deleted") {
        format!("Marked \\Deleted, still on the server until EXPUNGE or CLOSE; {flags} kept there.")
    } else {
        format!("Stays in INBOX on the server; {flags} kept there for the next session.")
    };
    let pop3 = match habit {
        Pop3Habit::DownloadAndDelete => format!(
            "RETR {number} downloads it, DELE {number} marks it, QUIT removes it from the \
             server: only this computer has it now. No flags on the server."
        ),
        Pop3Habit::LeaveOnServer => format!(
            "RETR {number} downloads it; it stays, and the reader remembers its UIDL so as not \
             to download it again. Read or flagged only on this computer."
        ),
    };
    ComparedMessage {
        number,
        uid: m.uid,
        subject: m.subject.clone(),
        imap,
        pop3,
        pop3_keeps_it: habit == Pop3Habit::LeaveOnServer,
    }
}

fn imap_summary(inbox: usize, others: &[(String, usize)]) -> String {
    let in_folders: usize = others.iter().map(|(_, n)| n).sum();
    format!(
        "After LOGOUT: {inbox} message(s) stay in INBOX and {in_folders} in {} other folder(s), \
         each with its flags, on the server; the next session, from any device, finds them so.",
        others.len()
    )
}

fn pop3_summary(
    messages: &[ComparedMessage],
    others: &[(String, usize)],
    habit: Pop3Habit,
) -> String {
    let n = messages.len();
    let left = messages.iter().filter(|m| m.pop3_keeps_it).count();
    let reach = if others.is_empty() {
        String::new()
    } else {
        let names: Vec<&str> = others.iter().map(|(name, _)| name.as_str()).collect();
        format!(
            " It never sees {}: POP3 knows one mailbox, no folders.",
            names.join(", ")
        )
    };
    let habit_text = match habit {
        Pop3Habit::DownloadAndDelete => "downloaded and deleted",
        Pop3Habit::LeaveOnServer => "downloaded and left",
    };
    format!(
        "After QUIT: {n} message(s) {habit_text}; {left} left on the server, with no flags \
         there (what was read lives in the reader).{reach}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imap::transcript::ImapTranscript;

    /// A session's view: INBOX with two messages (one \Seen \Flagged,
    /// one \Deleted), and a folder Kept with one.
    fn mailbox() -> ClientView {
        let mut t = ImapTranscript::new();
        t.push_server(b"* OK ready\r\n");
        t.push_client(b"a1 LIST \"\" *\r\n");
        t.push_server(
            b"* LIST () \"/\" INBOX\r\n* LIST () \"/\" Kept\r\na1 OK\r\n\
              ",
        );
        t.push_client(b"a2 STATUS Kept (MESSAGES)\r\n");
        t.push_server(b"* STATUS Kept (MESSAGES 1)\r\na2 OK\r\n");
        t.push_client(b"a3 SELECT INBOX\r\n");
        t.push_server(b"* 2 EXISTS\r\na3 OK\r\n");
        t.push_client(b"a4 FETCH 1:2 (UID FLAGS)\r\n");
        t.push_server(
            b"* 1 FETCH (UID 7 FLAGS (\\Seen \\Flagged))\r\n\
              * 2 FETCH (UID 9 FLAGS (\\Deleted))\r\na4 OK\r\n",
        );
        ClientView::of(t.messages())
    }

    #[test]
    fn pop3_by_default_empties_the_server_and_never_sees_the_folders() {
        let c = compare(&mailbox(), Pop3Habit::DownloadAndDelete);
        assert_eq!(c.messages.len(), 2);
        assert_eq!((c.messages[0].number, c.messages[0].uid), (1, Some(7)));
        assert!(
            c.messages[0].pop3.contains("DELE 1"),
            "{}",
            c.messages[0].pop3
        );
        assert!(c.messages.iter().all(|m| !m.pop3_keeps_it));
        assert!(c.messages[0].imap.contains("\\Seen \\Flagged kept"));
        assert!(c.messages[1].imap.contains("until EXPUNGE"));
        assert_eq!(c.out_of_reach, [("Kept".to_string(), 1)]);
        assert!(
            c.pop3_summary.contains("0 left on the server"),
            "{}",
            c.pop3_summary
        );
        assert!(
            c.pop3_summary.contains("never sees Kept"),
            "{}",
            c.pop3_summary
        );
        assert!(
            c.imap_summary
                .contains("2 message(s) stay in INBOX and 1 in 1 other")
        );
    }

    #[test]
    fn leaving_mail_on_the_server_keeps_it_but_not_its_flags() {
        let c = compare(&mailbox(), Pop3Habit::LeaveOnServer);
        assert!(c.messages.iter().all(|m| m.pop3_keeps_it));
        assert!(c.messages[1].pop3.contains("UIDL"));
        assert!(
            c.pop3_summary
                .contains("2 left on the server, with no flags")
        );
    }

    #[test]
    fn an_empty_session_compares_nothing() {
        let c = compare(&ClientView::default(), Pop3Habit::DownloadAndDelete);
        assert!(c.messages.is_empty() && c.out_of_reach.is_empty());
        assert!(!c.pop3_summary.contains("never sees"));
    }
}
