//! Following a conversation from the client's side: the bytes a workbench
//! sent and received on one connection, cut into whole messages, each
//! dissected in context (an HTTP response knows the method of its request;
//! an SMTP reply knows the state of the session).
//!
//! A [`Conversation`] is fed the chunks in the order they crossed the
//! wire, each with its time; it returns the messages that became complete.
//! The page rebuilds its message list from a session's transcript this
//! way, so the dissection logic stays here, in one place.

use crate::dissect::Dissection;
use crate::framing::next_line;

/// A scripted dialogue of a line protocol: the lines a student types, one
/// by one, to replay an example of the course (the SMTP exchange between
/// crepes.fr and hamburger.edu, a POP3 session...). The workbench offers
/// them one step at a time, so the student still sends each line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dialogue {
    pub id: &'static str,
    pub title: &'static str,
    /// What to look at along the way.
    pub note: &'static str,
    /// The lines, without their CR LF.
    pub steps: &'static [&'static str],
}

/// Who sent a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    Client,
    Server,
}

/// One complete message of a conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub sender: Sender,
    pub bytes: Vec<u8>,
    /// When its first and last bytes were seen (milliseconds, caller's clock).
    pub first_ms: f64,
    pub last_ms: f64,
    pub dissection: Dissection,
    /// False for what was left incomplete when the connection ended.
    pub complete: bool,
}

/// A protocol's way of cutting a connection into messages.
pub trait Conversation {
    /// Bytes the client sent.
    fn client_bytes(&mut self, bytes: &[u8], t_ms: f64) -> Vec<Message>;
    /// Bytes the server sent.
    fn server_bytes(&mut self, bytes: &[u8], t_ms: f64) -> Vec<Message>;
    /// The connection ended: flush what was left (bodies that end at close,
    /// incomplete messages).
    fn closed(&mut self, t_ms: f64) -> Vec<Message>;
    /// The protocol state to show the student, if the protocol has one.
    fn state(&self) -> Option<String> {
        None
    }
    /// One sentence on what may come next in that state.
    fn state_hint(&self) -> Option<String> {
        None
    }
    /// Dissects what the student is typing (the bytes that would be sent
    /// next) in the context of the conversation so far: an SMTP command
    /// checked against the session state, a line of message text after 354.
    /// `None` when the protocol has no context to add; the page then uses
    /// its context-free dissector.
    fn dissect_draft(&self, _bytes: &[u8]) -> Option<Dissection> {
        None
    }
    /// Messages begun but not complete yet (a message text whose final dot
    /// has not been sent, a long reply still arriving), each with
    /// `complete: false`, so a page can show them as they grow. They are
    /// not consumed: the next call returns them again, longer, until they
    /// complete and come out of `client_bytes` / `server_bytes`.
    fn in_progress(&self) -> Vec<Message> {
        Vec::new()
    }
}

/// Bytes waiting to become a message, with the times of their first and
/// last bytes.
#[derive(Debug, Default, Clone)]
pub struct Pending {
    pub bytes: Vec<u8>,
    pub first_ms: Option<f64>,
    pub last_ms: Option<f64>,
}

impl Pending {
    pub fn push(&mut self, bytes: &[u8], t_ms: f64) {
        if bytes.is_empty() {
            return;
        }
        if self.bytes.is_empty() {
            self.first_ms = Some(t_ms);
        }
        self.last_ms = Some(t_ms);
        self.bytes.extend_from_slice(bytes);
    }

    /// The bytes waiting, dissected as they stand, as a message not
    /// complete yet (what [`Conversation::in_progress`] returns); `None`
    /// when nothing waits.
    pub fn partial(
        &self,
        sender: Sender,
        dissect: impl FnOnce(&[u8]) -> Dissection,
    ) -> Option<Message> {
        let first_ms = self.first_ms?;
        if self.bytes.is_empty() {
            return None;
        }
        Some(Message {
            sender,
            dissection: dissect(&self.bytes),
            bytes: self.bytes.clone(),
            first_ms,
            last_ms: self.last_ms.unwrap_or(first_ms),
            complete: false,
        })
    }

    /// Takes the first `n` bytes as a message's bytes, with its first time.
    pub fn take(&mut self, n: usize, t_ms: f64) -> (Vec<u8>, f64) {
        let rest = self.bytes.split_off(n);
        let taken = std::mem::replace(&mut self.bytes, rest);
        let first = self.first_ms.unwrap_or(t_ms);
        self.first_ms = if self.bytes.is_empty() {
            None
        } else {
            Some(t_ms)
        };
        (taken, first)
    }
}

/// A conversation of CRLF lines, each a message, dissected by a function
/// per direction: the raw sockets and any line protocol without state.
pub struct LineConversation {
    client: Pending,
    server: Pending,
    dissect_client: fn(&[u8]) -> Dissection,
    dissect_server: fn(&[u8]) -> Dissection,
}

/// Longest line kept before it is cut into a message anyway.
const MAX_LINE: usize = 64 * 1024;

impl LineConversation {
    pub fn new(
        dissect_client: fn(&[u8]) -> Dissection,
        dissect_server: fn(&[u8]) -> Dissection,
    ) -> Self {
        LineConversation {
            client: Pending::default(),
            server: Pending::default(),
            dissect_client,
            dissect_server,
        }
    }

    fn lines(
        pending: &mut Pending,
        sender: Sender,
        dissect: fn(&[u8]) -> Dissection,
        t_ms: f64,
    ) -> Vec<Message> {
        let mut out = Vec::new();
        loop {
            let n = match next_line(&pending.bytes, MAX_LINE) {
                Ok(Some(line)) => line.consumed,
                Ok(None) => break,
                Err(_) => pending.bytes.len(),
            };
            let (bytes, first_ms) = pending.take(n, t_ms);
            out.push(Message {
                sender,
                dissection: dissect(&bytes),
                bytes,
                first_ms,
                last_ms: t_ms,
                complete: true,
            });
        }
        out
    }

    fn flush(
        pending: &mut Pending,
        sender: Sender,
        dissect: fn(&[u8]) -> Dissection,
        t_ms: f64,
    ) -> Option<Message> {
        if pending.bytes.is_empty() {
            return None;
        }
        let n = pending.bytes.len();
        let (bytes, first_ms) = pending.take(n, t_ms);
        Some(Message {
            sender,
            dissection: dissect(&bytes),
            bytes,
            first_ms,
            last_ms: t_ms,
            complete: false,
        })
    }
}

impl Conversation for LineConversation {
    fn client_bytes(&mut self, bytes: &[u8], t_ms: f64) -> Vec<Message> {
        self.client.push(bytes, t_ms);
        Self::lines(&mut self.client, Sender::Client, self.dissect_client, t_ms)
    }

    fn server_bytes(&mut self, bytes: &[u8], t_ms: f64) -> Vec<Message> {
        self.server.push(bytes, t_ms);
        Self::lines(&mut self.server, Sender::Server, self.dissect_server, t_ms)
    }

    fn closed(&mut self, t_ms: f64) -> Vec<Message> {
        let client = Self::flush(&mut self.client, Sender::Client, self.dissect_client, t_ms);
        let server = Self::flush(&mut self.server, Sender::Server, self.dissect_server, t_ms);
        client.into_iter().chain(server).collect()
    }

    fn in_progress(&self) -> Vec<Message> {
        let client = self.client.partial(Sender::Client, self.dissect_client);
        let server = self.server.partial(Sender::Server, self.dissect_server);
        client.into_iter().chain(server).collect()
    }
}

/// A conversation where every chunk is a message of its own: UDP, where
/// each datagram stands alone (dissect them with a datagram dissector such
/// as [`crate::line::dissect_datagram`], which expects no end of line).
pub struct DatagramConversation {
    dissect_client: fn(&[u8]) -> Dissection,
    dissect_server: fn(&[u8]) -> Dissection,
}

impl DatagramConversation {
    pub fn new(
        dissect_client: fn(&[u8]) -> Dissection,
        dissect_server: fn(&[u8]) -> Dissection,
    ) -> Self {
        DatagramConversation {
            dissect_client,
            dissect_server,
        }
    }
}

impl Conversation for DatagramConversation {
    fn client_bytes(&mut self, bytes: &[u8], t_ms: f64) -> Vec<Message> {
        vec![Message {
            sender: Sender::Client,
            bytes: bytes.to_vec(),
            first_ms: t_ms,
            last_ms: t_ms,
            dissection: (self.dissect_client)(bytes),
            complete: true,
        }]
    }

    fn server_bytes(&mut self, bytes: &[u8], t_ms: f64) -> Vec<Message> {
        vec![Message {
            sender: Sender::Server,
            bytes: bytes.to_vec(),
            first_ms: t_ms,
            last_ms: t_ms,
            dissection: (self.dissect_server)(bytes),
            complete: true,
        }]
    }

    fn closed(&mut self, _t_ms: f64) -> Vec<Message> {
        Vec::new()
    }

    /// What is typed will leave as one datagram, so it is dissected as
    /// one, like the datagrams already sent.
    fn dissect_draft(&self, bytes: &[u8]) -> Option<Dissection> {
        Some((self.dissect_client)(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::line;

    #[test]
    fn lines_become_messages_across_chunks() {
        let mut c = LineConversation::new(line::dissect, line::dissect);
        assert!(c.client_bytes(b"hel", 1.0).is_empty());
        let m = c.client_bytes(b"lo\r\nworld\r\nrest", 2.0);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].bytes, b"hello\r\n");
        assert_eq!((m[0].first_ms, m[0].last_ms), (1.0, 2.0));
        assert_eq!(m[1].first_ms, 2.0);
        let s = c.server_bytes(b"HELLO\r\n", 3.0);
        assert_eq!(s[0].sender, Sender::Server);
        let left = c.closed(4.0);
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].bytes, b"rest");
        assert!(!left[0].complete);
    }

    #[test]
    fn datagrams_stand_alone() {
        let mut c = DatagramConversation::new(line::dissect_datagram, line::dissect_datagram);
        let m = c.client_bytes(b"no newline", 1.0);
        assert_eq!(m.len(), 1);
        assert!(m[0].complete);
        assert!(
            m[0].dissection.diagnostics.is_empty(),
            "no end of line is due"
        );
        let reply = c.server_bytes(b"NO NEWLINE", 1.5);
        assert!(reply[0].dissection.diagnostics.is_empty());
        let empty = c.client_bytes(b"", 1.7);
        assert_eq!(empty[0].dissection.summary, "(empty datagram)");
        let draft = c.dissect_draft(b"typed").unwrap();
        assert!(draft.diagnostics.is_empty());
        assert!(c.in_progress().is_empty(), "a datagram is never partial");
        assert!(c.closed(2.0).is_empty());
    }

    #[test]
    fn a_line_in_pieces_is_in_progress_until_it_ends() {
        let mut c = LineConversation::new(line::dissect, line::dissect);
        assert!(c.in_progress().is_empty());
        assert!(c.client_bytes(b"hel", 1.0).is_empty());
        assert!(c.client_bytes(b"lo", 2.0).is_empty());
        let growing = c.in_progress();
        assert_eq!(growing.len(), 1);
        assert_eq!(growing[0].bytes, b"hello");
        assert!(!growing[0].complete);
        assert_eq!((growing[0].first_ms, growing[0].last_ms), (1.0, 2.0));
        let done = c.client_bytes(b"\r\n", 3.0);
        assert_eq!(done[0].bytes, b"hello\r\n");
        assert_eq!(done[0].first_ms, 1.0);
        assert!(c.in_progress().is_empty());
    }
}
