//! What one POP3 session learnt about the mailbox it read, from its
//! transcript: the scan listing of the last `LIST`, the messages `RETR`
//! brought (and the headers `TOP` brought), the messages marked with
//! `DELE` (until an `RSET`), and whether `QUIT` applied the marks.
//!
//! A page builds it from [`super::Pop3Transcript::messages`] to show the
//! mailbox as the session sees it, each retrieved message ready for
//! [`crate::mail::mime::parse`]. Only replies the server accepted count.

use super::command::{Command, parse_line};
use super::reply::Reply;
use super::session::Pop3State;
use crate::framing::strip_line_end;
use crate::transcript::{Observed, Side};

/// One line of a scan listing: `1 498`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanEntry {
    pub number: u32,
    pub octets: u64,
}

/// A message the session retrieved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retrieved {
    pub number: u32,
    /// The message as stored: the reply's body with the stuffing removed.
    pub message: Vec<u8>,
    /// The index of the reply among the transcript's messages.
    pub reply: usize,
    /// Fetched with TOP: the header and at most the first lines of the body.
    pub partial: bool,
}

/// The mailbox as one session saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionMailbox {
    /// The last full scan listing (`LIST` without argument), if any.
    pub listing: Option<Vec<ScanEntry>>,
    /// By message number, the latest retrieval of each (a RETR replaces a TOP).
    pub retrieved: Vec<Retrieved>,
    /// Marked for deletion (accepted DELE, no RSET since).
    pub deleted: Vec<u32>,
    /// QUIT in the TRANSACTION state was accepted: the marked messages are gone.
    pub committed: bool,
}

impl SessionMailbox {
    /// Reads a session's transcript.
    pub fn of(messages: &[Observed<Pop3State>]) -> SessionMailbox {
        let mut mailbox = SessionMailbox::default();
        for (index, reply) in messages.iter().enumerate() {
            let (Side::Server, Some(asked)) = (reply.side, reply.answers) else {
                continue;
            };
            let Some(command) = messages.get(asked).and_then(|m| command_of(&m.bytes)) else {
                continue;
            };
            let Ok(parsed) = Reply::parse(&reply.bytes, command.expects_multiline()) else {
                continue;
            };
            if !parsed.ok {
                continue;
            }
            mailbox.apply(&command, parsed, index, reply.state);
        }
        mailbox.retrieved.sort_by_key(|r| r.number);
        mailbox
    }

    fn apply(&mut self, command: &Command, reply: Reply, index: usize, after: Pop3State) {
        match command {
            Command::List(None) => {
                let body = reply.body.unwrap_or_default();
                self.listing = Some(parse_listing(&body));
            }
            Command::Retr(n) => self.keep(Retrieved {
                number: *n,
                message: reply.body.unwrap_or_default(),
                reply: index,
                partial: false,
            }),
            Command::Top(n, _) => {
                let fuller = self.retrieved.iter().any(|r| r.number == *n && !r.partial);
                if !fuller {
                    self.keep(Retrieved {
                        number: *n,
                        message: reply.body.unwrap_or_default(),
                        reply: index,
                        partial: true,
                    });
                }
            }
            Command::Dele(n) if !self.deleted.contains(n) => self.deleted.push(*n),
            Command::Rset => self.deleted.clear(),
            Command::Quit if after == Pop3State::Update => self.committed = true,
            _ => {}
        }
    }

    fn keep(&mut self, retrieved: Retrieved) {
        self.retrieved.retain(|r| r.number != retrieved.number);
        self.retrieved.push(retrieved);
    }

    /// Whether message `number` is marked for deletion.
    pub fn is_deleted(&self, number: u32) -> bool {
        self.deleted.contains(&number)
    }

    /// The retrieval of message `number`, if the session made one.
    pub fn get(&self, number: u32) -> Option<&Retrieved> {
        self.retrieved.iter().find(|r| r.number == number)
    }
}

fn command_of(line: &[u8]) -> Option<Command> {
    parse_line(strip_line_end(line)).command.ok()
}

/// `n octets` lines; lines that do not read so are skipped.
fn parse_listing(body: &[u8]) -> Vec<ScanEntry> {
    String::from_utf8_lossy(body)
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let number = words.next()?.parse().ok()?;
            let octets = words.next()?.parse().ok()?;
            Some(ScanEntry { number, octets })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pop3::Pop3Transcript;
    use crate::transcript::Follower;

    fn session(chunks: &[(Side, &str)]) -> SessionMailbox {
        let t = Pop3Transcript::replay(chunks.iter().map(|(s, b)| (*s, b.as_bytes())));
        SessionMailbox::of(t.messages())
    }

    #[test]
    fn the_course_session_retrieves_both_and_deletes_both() {
        use Side::*;
        let m = session(&[
            (Server, "+OK POP3 server ready\r\n"),
            (Client, "user bob\r\n"),
            (Server, "+OK\r\n"),
            (Client, "pass hungry\r\n"),
            (Server, "+OK user successfully logged on\r\n"),
            (Client, "list\r\n"),
            (
                Server,
                "+OK 2 messages (1410 octets)\r\n1 498\r\n2 912\r\n.\r\n",
            ),
            (Client, "retr 1\r\n"),
            (Server, "+OK 22 octets\r\nSubject: a\r\n\r\n..dot\r\n.\r\n"),
            (Client, "dele 1\r\n"),
            (Server, "+OK message 1 deleted\r\n"),
            (Client, "top 2 0\r\n"),
            (Server, "+OK\r\nSubject: b\r\n\r\n.\r\n"),
            (Client, "dele 2\r\n"),
            (Server, "-ERR no such message\r\n"),
            (Client, "quit\r\n"),
            (Server, "+OK POP3 server signing off\r\n"),
        ]);
        assert_eq!(
            m.listing,
            Some(vec![
                ScanEntry {
                    number: 1,
                    octets: 498
                },
                ScanEntry {
                    number: 2,
                    octets: 912
                }
            ])
        );
        assert_eq!(m.retrieved.len(), 2);
        assert_eq!(m.get(1).unwrap().message, b"Subject: a\r\n\r\n.dot\r\n");
        assert!(!m.get(1).unwrap().partial);
        assert!(m.get(2).unwrap().partial);
        assert_eq!(m.deleted, [1], "the refused DELE marks nothing");
        assert!(m.is_deleted(1) && !m.is_deleted(2));
        assert!(m.committed);
    }

    #[test]
    fn rset_clears_the_marks_and_a_session_without_quit_commits_nothing() {
        use Side::*;
        let m = session(&[
            (Server, "+OK ready\r\n"),
            (
                Client,
                "USER bob\r\nPASS hungry\r\nDELE 1\r\nRSET\r\nDELE 2\r\n",
            ),
            (Server, "+OK\r\n+OK\r\n+OK\r\n+OK\r\n+OK\r\n"),
            (Client, "RETR 2\r\n"),
            (Server, "+OK\r\nhello\r\n"),
        ]);
        assert_eq!(m.deleted, [2]);
        assert!(!m.committed);
        assert!(
            m.retrieved.is_empty(),
            "a reply still arriving is not retrieved"
        );
        assert_eq!(m.listing, None);
    }
}
