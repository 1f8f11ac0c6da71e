//! The IMAP rows: the relay's `imap` server and Dovecot taking turns, each
//! serving a copy of the same generated Maildir (an INBOX of
//! [`MESSAGES`] messages) to [`CLIENTS`] native clients at once, each of
//! which logs in, selects INBOX, fetches `1:* (FLAGS ENVELOPE)` and logs
//! out, over and over. The relay's copy is its bench mailbox's folder in
//! its data directory, placed before the relay starts.

use super::report::{Row, Target};
use super::tools::Running;
use super::{Bench, ROUNDS, median, peers};
use anyhow::Result;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::Path;

/// The mailbox both servers serve, on the relay one of its accounts.
pub const USER: &str = "bench@hamburger.edu";
pub const PASSWORD: &str = "bench";
/// The messages of its INBOX.
pub const MESSAGES: usize = 1000;
/// Sessions at once.
pub const CLIENTS: usize = 100;

/// Writes the Maildir (`cur/`, `new/`, `tmp/`) of [`MESSAGES`] small
/// messages, each with the headers an envelope shows, into `folder`.
pub fn write_maildir(folder: &Path) -> Result<()> {
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(folder.join(sub))?;
    }
    for i in 1..=MESSAGES {
        let message = message(i);
        // Dovecot and the relay both read the size after `,S=` and the
        // flags after `:2,`; every fourth message has been read.
        let flags = if i % 4 == 0 { "S" } else { "" };
        let name = format!(
            "{}.bench-{i}.wirelab,S={}:2,{flags}",
            1_700_000_000 + i,
            message.len()
        );
        std::fs::write(folder.join("cur").join(name), message)?;
    }
    Ok(())
}

/// Message `i`: a From, To, Cc, Subject, Date and Message-ID, and a body
/// of a few hundred bytes.
fn message(i: usize) -> String {
    let mut text = format!(
        "Return-Path: <alice@crepes.fr>\r\nFrom: Alice <alice@crepes.fr>\r\n\
         To: Bench <{USER}>\r\nCc: Bob <bob@hamburger.edu>\r\n\
         Subject: benchmark message {i}\r\nDate: Mon, 13 Nov 2023 10:{:02}:{:02} +0000\r\n\
         Message-ID: <bench-{i}@crepes.fr>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=us-ascii\r\n\r\n",
        i / 60 % 60,
        i % 60
    );
    for line in 0..8 {
        let _ = write!(text, "Line {line} of message {i}: do you like ketchup?\r\n");
    }
    text
}

impl Bench {
    /// The relay's IMAP and Dovecot's taking turns for [`ROUNDS`] slices
    /// each; Dovecot missing or failing leaves its figures out.
    pub(super) fn imap_rows(&mut self, relay: SocketAddr, dovecot: Option<SocketAddr>) -> Vec<Row> {
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for round in 1..=ROUNDS {
            ours.push(self.imap_run(&format!("the relay's IMAP, round {round}"), relay));
            if let Some(dovecot) = dovecot {
                theirs.push(self.imap_run(&format!("Dovecot, round {round}"), dovecot));
            }
        }
        let of = |runs: &[[Option<f64>; 2]], i: usize| {
            median(runs.iter().filter_map(|r| r[i]).collect())
        };
        let what = format!(
            "IMAP, {CLIENTS} clients at once: LOGIN, SELECT a {}-message INBOX, FETCH 1:* (FLAGS ENVELOPE), LOGOUT",
            super::report::number(MESSAGES as f64)
        );
        vec![
            Row::new(what, "sessions/s", of(&ours, 0))
                .peer("Dovecot", dovecot.and(of(&theirs, 0)))
                .target(Target::RatioAtLeast(0.5)),
            Row::new("same, messages fetched", "msg/s", of(&ours, 1))
                .peer("Dovecot", dovecot.and(of(&theirs, 1)))
                .target(Target::RatioAtLeast(0.5)),
        ]
    }

    fn imap_run(&mut self, what: &str, server: SocketAddr) -> [Option<f64>; 2] {
        let (server, clients) = (server.to_string(), CLIENTS.to_string());
        let (messages, seconds) = (MESSAGES.to_string(), self.slice_arg());
        let args = [
            "imap",
            "--addr",
            &server,
            "--clients",
            &clients,
            "--seconds",
            &seconds,
            "--user",
            USER,
            "--password",
            PASSWORD,
            "--messages",
            &messages,
        ];
        self.client_figures(what, &args, ["sessions_per_second", "messages_per_second"])
    }

    /// Dovecot serving its own copy of the Maildir, if installed.
    pub(super) fn start_dovecot(&mut self) -> Option<(Running, SocketAddr)> {
        let dir = self.dir.clone();
        self.peer("dovecot", || {
            let maildir = dir.join("dovecot-maildir");
            write_maildir(&maildir)?;
            let user = peers::DovecotUser {
                name: USER,
                password: PASSWORD,
                maildir: &maildir,
            };
            peers::dovecot(&dir, &user)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_maildir_holds_every_message_with_its_size_in_its_name() {
        let dir =
            std::env::temp_dir().join(format!("wirelab-bench-maildir-{}", std::process::id()));
        write_maildir(&dir).unwrap();
        let names: Vec<_> = std::fs::read_dir(dir.join("cur"))
            .unwrap()
            .map(|e| e.unwrap())
            .collect();
        assert_eq!(names.len(), MESSAGES);
        for entry in names {
            let name = entry.file_name().into_string().unwrap();
            let size: u64 = name
                .split(",S=")
                .nth(1)
                .unwrap()
                .split(':')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(size, entry.metadata().unwrap().len());
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
