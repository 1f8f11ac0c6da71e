//! An FTP control connection followed from the client's side, for the
//! page's transcript: the command lines the student sent and the replies
//! the server sent, cut into messages and dissected in the context of the
//! session (a RETR before PASV is diagnosed against the state the session
//! was in when it was sent).
//!
//! It drives an [`FtpClient`] with the same bytes the page exchanged, so the
//! session state it shows ([`FtpConversation::client`]) is the one the
//! replies established. The caller feeds the chunks in wire order (the
//! [`Conversation`] contract) and, when it knows them, gives the control
//! connection's addresses first ([`FtpConversation::with_addresses`]) so
//! 229 replies and PORT arguments are checked exactly.

use crate::conversation::{Conversation, Message, Pending, Sender};
use crate::engine::{Engine, Millis, Output};
use crate::framing::next_line;
use crate::ftp::MAX_LINE;
use crate::ftp::client::{ClientEvent, FtpClient};
use crate::ftp::dissect::{dissect_command_in, dissect_reply};
use std::net::SocketAddr;

/// The control connection of one FTP session, message by message.
#[derive(Debug)]
pub struct FtpConversation {
    client: FtpClient,
    typed: Pending,
    /// When the first byte not yet part of a reply arrived.
    server_first_ms: Option<f64>,
    /// When the server's last bytes arrived.
    server_last_ms: f64,
    /// Bytes fed to the client engine and not yet returned in a reply.
    server_buffered: usize,
}

impl FtpConversation {
    pub fn new() -> Self {
        FtpConversation {
            client: FtpClient::new(),
            typed: Pending::default(),
            server_first_ms: None,
            server_last_ms: 0.0,
            server_buffered: 0,
        }
    }

    /// A conversation on a control connection from `local` to `server` (as
    /// the relay reported them in `connected`).
    pub fn with_addresses(server: Option<SocketAddr>, local: Option<SocketAddr>) -> Self {
        let mut c = FtpConversation::new();
        c.client.set_addresses(server, local);
        c
    }

    /// The client engine, with the session state the replies so far set up.
    pub fn client(&self) -> &FtpClient {
        &self.client
    }

    /// Turns what the client engine reported into messages, giving each
    /// reply the time its first byte arrived.
    fn drain(&mut self, t_ms: f64, out: &mut Vec<Message>) {
        loop {
            match self.client.poll_output() {
                Output::Event(ClientEvent::Reply { bytes, .. }) => {
                    out.push(self.server_message(bytes, t_ms, true));
                }
                Output::Event(ClientEvent::Malformed { bytes, .. }) => {
                    out.push(self.server_message(bytes, t_ms, true));
                }
                Output::Event(_) | Output::Transmit(_) | Output::Close => {}
                Output::Wait(_) => return,
            }
        }
    }

    fn server_message(&mut self, bytes: Vec<u8>, t_ms: f64, complete: bool) -> Message {
        self.server_buffered = self.server_buffered.saturating_sub(bytes.len());
        let first_ms = self.server_first_ms.unwrap_or(t_ms);
        // What is left began arriving no later than now.
        self.server_first_ms = (self.server_buffered > 0).then_some(t_ms);
        Message {
            sender: Sender::Server,
            dissection: dissect_reply(&bytes),
            bytes,
            first_ms,
            last_ms: t_ms,
            complete,
        }
    }
}

impl Default for FtpConversation {
    fn default() -> Self {
        Self::new()
    }
}

impl Conversation for FtpConversation {
    fn client_bytes(&mut self, bytes: &[u8], t_ms: f64) -> Vec<Message> {
        self.typed.push(bytes, t_ms);
        let mut out = Vec::new();
        loop {
            let n = match next_line(&self.typed.bytes, MAX_LINE) {
                Ok(Some(line)) => line.consumed,
                Ok(None) => break,
                Err(_) => self.typed.bytes.len(),
            };
            let (line, first_ms) = self.typed.take(n, t_ms);
            // Diagnosed in the state the session was in when it left.
            let dissection = dissect_command_in(&line, &self.client);
            self.client.send_line(&line);
            self.drain(t_ms, &mut out);
            out.push(Message {
                sender: Sender::Client,
                bytes: line,
                first_ms,
                last_ms: t_ms,
                dissection,
                complete: true,
            });
        }
        out
    }

    fn server_bytes(&mut self, bytes: &[u8], t_ms: f64) -> Vec<Message> {
        if bytes.is_empty() {
            return Vec::new();
        }
        if self.server_buffered == 0 {
            self.server_first_ms = Some(t_ms);
        }
        self.server_buffered += bytes.len();
        self.server_last_ms = t_ms;
        self.client.handle_input(bytes, Millis(0));
        let mut out = Vec::new();
        self.drain(t_ms, &mut out);
        out
    }

    fn closed(&mut self, t_ms: f64) -> Vec<Message> {
        let mut out = Vec::new();
        if !self.typed.bytes.is_empty() {
            let n = self.typed.bytes.len();
            let (line, first_ms) = self.typed.take(n, t_ms);
            out.push(Message {
                sender: Sender::Client,
                dissection: dissect_command_in(&line, &self.client),
                bytes: line,
                first_ms,
                last_ms: t_ms,
                complete: false,
            });
        }
        // A reply cut short comes back as Malformed, marked incomplete.
        self.client.handle_eof(Millis(0));
        loop {
            match self.client.poll_output() {
                Output::Event(ClientEvent::Malformed { bytes, .. }) => {
                    out.push(self.server_message(bytes, t_ms, false));
                }
                Output::Wait(_) => break,
                _ => {}
            }
        }
        out
    }

    /// A command typed without its end of line yet, a reply still
    /// arriving: shown as they stand.
    fn in_progress(&self) -> Vec<Message> {
        let command = self.typed.partial(Sender::Client, |line| {
            dissect_command_in(line, &self.client)
        });
        let pending = self.client.pending_reply();
        let reply = (!pending.is_empty()).then(|| Message {
            sender: Sender::Server,
            dissection: dissect_reply(pending),
            bytes: pending.to_vec(),
            first_ms: self.server_first_ms.unwrap_or(self.server_last_ms),
            last_ms: self.server_last_ms,
            complete: false,
        });
        command.into_iter().chain(reply).collect()
    }

    fn state(&self) -> Option<String> {
        let s = self.client.state();
        let mut text = format!(
            "{}; directory {}; type {}; data connection: {}",
            s.login, s.cwd, s.transfer_type, s.data
        );
        if let Some(kind) = &s.transfer {
            text.push_str(&format!("; transferring {kind:?}"));
        }
        Some(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dissect::Severity;
    use crate::ftp::session::{DataSetup, LoginState};

    fn addresses() -> FtpConversation {
        FtpConversation::with_addresses(
            Some("127.0.0.1:2121".parse().unwrap()),
            Some("127.0.0.1:50000".parse().unwrap()),
        )
    }

    #[test]
    fn commands_and_replies_become_messages_with_the_session_state() {
        let mut c = addresses();
        let greeting = c.server_bytes(b"220 wirelab FTP server ready\r\n", 1.0);
        assert_eq!(greeting.len(), 1);
        assert_eq!(greeting[0].sender, Sender::Server);
        // Before login, LIST is diagnosed against the state at that time.
        let sent = c.client_bytes(b"LIST\r\n", 2.0);
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].dissection.worst(), Some(Severity::Error));
        let m = c.server_bytes(b"530 Please log in with USER and PASS\r\n", 3.0);
        assert_eq!(m[0].dissection.summary.get(..3), Some("530"));
        c.client_bytes(b"USER anonymous\r\n", 4.0);
        c.server_bytes(b"331 Username OK, password required\r\n", 5.0);
        c.client_bytes(b"PASS guest@example.org\r\n", 6.0);
        c.server_bytes(b"230 Login successful\r\n", 7.0);
        assert_eq!(
            c.client().state().login,
            LoginState::LoggedIn {
                user: "anonymous".into(),
                anonymous: true
            }
        );
        c.client_bytes(b"PASV\r\n", 8.0);
        c.server_bytes(b"227 Entering Passive Mode (127,0,0,1,82,9)\r\n", 9.0);
        assert!(matches!(
            c.client().state().data,
            DataSetup::Passive { addr, .. } if addr.port() == 21001
        ));
        let state = c.state().unwrap();
        assert!(state.contains("logged in as anonymous"), "{state}");
        assert!(state.contains("127.0.0.1:21001"), "{state}");
        // Now LIST is fine.
        let sent = c.client_bytes(b"LIST\r\n", 10.0);
        assert!(sent[0].dissection.diagnostics.is_empty());
    }

    #[test]
    fn replies_split_across_chunks_keep_their_first_time() {
        let mut c = FtpConversation::new();
        assert!(c.server_bytes(b"220-wel", 1.0).is_empty());
        let m = c.server_bytes(b"come\r\n220 ready\r\n150 Op", 2.0);
        assert_eq!(m.len(), 1);
        assert_eq!((m[0].first_ms, m[0].last_ms), (1.0, 2.0));
        assert!(m[0].complete);
        let growing = c.in_progress();
        assert_eq!(growing.len(), 1);
        assert_eq!(growing[0].bytes, b"150 Op");
        assert_eq!((growing[0].first_ms, growing[0].last_ms), (2.0, 2.0));
        assert!(!growing[0].complete);
        let m = c.server_bytes(b"ening\r\n", 3.0);
        assert_eq!((m[0].first_ms, m[0].last_ms), (2.0, 3.0));
        assert!(c.in_progress().is_empty());
        // A reply cut by the end of the connection is kept, incomplete.
        c.server_bytes(b"226 Tra", 4.0);
        let left = c.closed(5.0);
        assert_eq!(left.len(), 1);
        assert!(!left[0].complete);
        assert_eq!(left[0].bytes, b"226 Tra");
    }

    #[test]
    fn lines_typed_in_pieces_and_a_line_left_unfinished() {
        let mut c = FtpConversation::new();
        assert!(c.client_bytes(b"NO", 1.0).is_empty());
        let growing = c.in_progress();
        assert_eq!(
            (growing.len(), growing[0].bytes.as_slice()),
            (1, &b"NO"[..])
        );
        assert_eq!(growing[0].sender, Sender::Client);
        let m = c.client_bytes(b"OP\r\nQU", 2.0);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].bytes, b"NOOP\r\n");
        assert_eq!(m[0].first_ms, 1.0);
        let left = c.closed(3.0);
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].bytes, b"QU");
        assert!(!left[0].complete);
    }
}
