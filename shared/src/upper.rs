//! The course's first client-server application: the uppercase server of
//! the socket chapter. A client sends a sentence, the server sends it back in
//! upper case, over TCP (a connection per client, many lines per connection)
//! or over UDP (one datagram in, one datagram out).
//!
//! Letters are upper-cased as the course's Python servers do with
//! `str.upper()`: all of Unicode, with its full mappings (`ß` → `SS`,
//! `ﬁ` → `FI`), so a reply may be longer than its line (at most
//! [`MAX_GROWTH`] times). Bytes that are not UTF-8 are echoed unchanged, as
//! are line endings, so the student sees exactly what crossed the wire.
//!
//! A server may prefix each reply with the client's address and port as it
//! saw them (`[127.0.0.1:40112] HELLO`): the socket chapter's point that a
//! server learns who sent each segment or datagram.

use crate::engine::{Engine, Millis, Output};
use crate::framing::next_line;
use std::collections::VecDeque;

/// Longest line the TCP server buffers before answering what it has.
pub const MAX_LINE: usize = 8 * 1024;

/// How many times longer than its input an upper-case copy may be: no
/// character's upper case takes more than three times its UTF-8 bytes
/// (`ΐ`, 2 bytes, is `Ϊ́`, 6). So a TCP reply holds at most
/// `MAX_GROWTH * MAX_LINE` bytes, plus the peer prefix.
pub const MAX_GROWTH: usize = 3;

/// The course's textbook client sends its sentence without any line ending.
/// Bytes that sit this long without a LF are answered as they are.
pub const FLUSH_AFTER_MS: u64 = 200;

/// What the uppercase servers report to their driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpperEvent {
    /// A sentence came in and its upper-case copy went out.
    Answered { received: Vec<u8> },
    /// The client closed its side; the server closes too.
    ClientClosed,
}

/// Upper-cases the UTF-8 text in `bytes` as Python's `str.upper()` does,
/// leaving every byte that is not part of a UTF-8 character as it is.
pub fn to_upper(bytes: &[u8]) -> Vec<u8> {
    let mut upper = Vec::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        upper.extend_from_slice(chunk.valid().to_uppercase().as_bytes());
        upper.extend_from_slice(chunk.invalid());
    }
    upper
}

/// Where the last complete UTF-8 character of `bytes` ends: an endless
/// line is answered in pieces cut there, so no character is split between
/// two pieces (and left as two invalid halves).
fn end_of_complete_text(bytes: &[u8]) -> usize {
    // A character is at most 4 bytes: look for its lead byte among the last 3.
    let tail_start = bytes.len().saturating_sub(3);
    for start in (tail_start..bytes.len()).rev() {
        let byte = bytes[start];
        let width = match byte {
            0xC2..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF4 => 4,
            _ if byte & 0xC0 == 0x80 => continue,
            _ => return bytes.len(),
        };
        let incomplete = bytes.len() - start < width;
        return if incomplete && start > 0 {
            start
        } else {
            bytes.len()
        };
    }
    bytes.len()
}

/// The reply to `received`: its upper case, after `[address:port] ` when
/// the server shows its peer.
fn reply(prefix: Option<&str>, received: &[u8]) -> Vec<u8> {
    let upper = to_upper(received);
    match prefix {
        None => upper,
        Some(prefix) => [prefix.as_bytes(), &upper].concat(),
    }
}

/// `[127.0.0.1:40112] `, as a reply's prefix.
fn peer_prefix(peer: impl std::fmt::Display) -> String {
    format!("[{peer}] ")
}

/// The TCP uppercase server for one connection.
///
/// Each complete line (LF-terminated) is answered at once. Bytes without a LF
/// are answered after [`FLUSH_AFTER_MS`] of silence, or at end of stream, so
/// that the textbook's client, which sends no line ending, also works.
#[derive(Debug, Default)]
pub struct UpperTcpServer {
    /// `[address:port] ` before each reply, when the server shows its peer.
    prefix: Option<String>,
    buffer: Vec<u8>,
    outputs: VecDeque<Output<UpperEvent>>,
    flush_at: Option<Millis>,
    closed: bool,
}

impl UpperTcpServer {
    pub fn new() -> Self {
        Self::default()
    }

    /// A server that starts each reply with `[<peer>] `, the client's
    /// address and port as its socket saw them.
    pub fn showing_peer(peer: impl std::fmt::Display) -> Self {
        Self {
            prefix: Some(peer_prefix(peer)),
            ..Self::default()
        }
    }

    fn answer(&mut self, received: Vec<u8>) {
        self.outputs
            .push_back(Output::Transmit(reply(self.prefix.as_deref(), &received)));
        self.outputs
            .push_back(Output::Event(UpperEvent::Answered { received }));
    }

    fn answer_complete_lines(&mut self) {
        loop {
            match next_line(&self.buffer, MAX_LINE) {
                Ok(Some(line)) => {
                    let rest = self.buffer.split_off(line.consumed);
                    let received = std::mem::replace(&mut self.buffer, rest);
                    self.answer(received);
                }
                Ok(None) => break,
                Err(_) => {
                    // An endless line: answer what has arrived, keep going,
                    // keeping a character cut by the read for the next piece.
                    let rest = self.buffer.split_off(end_of_complete_text(&self.buffer));
                    let received = std::mem::replace(&mut self.buffer, rest);
                    self.answer(received);
                    break;
                }
            }
        }
    }
}

impl Engine for UpperTcpServer {
    type Event = UpperEvent;

    fn handle_input(&mut self, bytes: &[u8], now: Millis) {
        if self.closed {
            return;
        }
        self.buffer.extend_from_slice(bytes);
        self.answer_complete_lines();
        self.flush_at = if self.buffer.is_empty() {
            None
        } else {
            Some(now.saturating_add(FLUSH_AFTER_MS))
        };
    }

    fn handle_eof(&mut self, _now: Millis) {
        if self.closed {
            return;
        }
        if !self.buffer.is_empty() {
            let received = std::mem::take(&mut self.buffer);
            self.answer(received);
        }
        self.flush_at = None;
        self.closed = true;
        self.outputs
            .push_back(Output::Event(UpperEvent::ClientClosed));
        self.outputs.push_back(Output::Close);
    }

    fn handle_timeout(&mut self, now: Millis) {
        if let Some(at) = self.flush_at
            && now >= at
            && !self.buffer.is_empty()
        {
            let received = std::mem::take(&mut self.buffer);
            self.answer(received);
            self.flush_at = None;
        }
    }

    fn poll_output(&mut self) -> Output<UpperEvent> {
        self.outputs
            .pop_front()
            .unwrap_or(Output::Wait(self.flush_at))
    }
}

/// The UDP uppercase server: every datagram is answered with one datagram.
/// It keeps no state between datagrams, as UDP has no connection.
#[derive(Debug, Default)]
pub struct UpperUdpServer {
    /// `[address:port] ` before each reply, when the server shows its peer.
    prefix: Option<String>,
    outputs: VecDeque<Output<UpperEvent>>,
}

impl UpperUdpServer {
    pub fn new() -> Self {
        Self::default()
    }

    /// A server that starts each reply with `[<peer>] `, the address and
    /// port the datagram came from.
    pub fn showing_peer(peer: impl std::fmt::Display) -> Self {
        Self {
            prefix: Some(peer_prefix(peer)),
            ..Self::default()
        }
    }
}

impl Engine for UpperUdpServer {
    type Event = UpperEvent;

    fn handle_input(&mut self, datagram: &[u8], _now: Millis) {
        self.outputs
            .push_back(Output::Transmit(reply(self.prefix.as_deref(), datagram)));
        self.outputs.push_back(Output::Event(UpperEvent::Answered {
            received: datagram.to_vec(),
        }));
    }

    fn handle_eof(&mut self, _now: Millis) {}

    fn poll_output(&mut self) -> Output<UpperEvent> {
        self.outputs.pop_front().unwrap_or(Output::Wait(None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::drain;
    use proptest::prelude::*;

    #[test]
    fn answers_each_complete_line_and_keeps_the_connection() {
        let mut server = UpperTcpServer::new();
        server.handle_input(b"hello world\r\nsecond", Millis(0));
        let out = drain(&mut server);
        assert_eq!(out.bytes(), b"HELLO WORLD\r\n");
        assert!(!out.close);
        assert_eq!(out.deadline, Some(Millis(FLUSH_AFTER_MS)));
        server.handle_input(b" line\n", Millis(10));
        let out = drain(&mut server);
        assert_eq!(out.bytes(), b"SECOND LINE\n");
        assert_eq!(out.deadline, None);
        assert_eq!(
            out.events,
            vec![UpperEvent::Answered {
                received: b"second line\n".to_vec()
            }]
        );
    }

    #[test]
    fn a_sentence_without_line_ending_is_answered_after_a_pause() {
        // The textbook client: clientSocket.send(sentence.encode()).
        let mut server = UpperTcpServer::new();
        server.handle_input(b"abc", Millis(1000));
        let out = drain(&mut server);
        assert!(out.transmitted.is_empty());
        let deadline = out.deadline.unwrap();
        server.handle_timeout(Millis(deadline.0 - 1));
        assert!(drain(&mut server).transmitted.is_empty());
        server.handle_timeout(deadline);
        assert_eq!(drain(&mut server).bytes(), b"ABC");
    }

    #[test]
    fn eof_answers_the_rest_then_closes() {
        let mut server = UpperTcpServer::new();
        server.handle_input(b"bye", Millis(0));
        drain(&mut server);
        server.handle_eof(Millis(1));
        let out = drain(&mut server);
        assert_eq!(out.bytes(), b"BYE");
        assert!(out.close);
        assert_eq!(out.events.last(), Some(&UpperEvent::ClientClosed));
        // Input after close is ignored.
        server.handle_input(b"x\n", Millis(2));
        assert!(drain(&mut server).transmitted.is_empty());
    }

    #[test]
    fn endless_lines_are_answered_in_bounded_pieces() {
        let mut server = UpperTcpServer::new();
        let long = vec![b'a'; MAX_LINE * 3];
        server.handle_input(&long, Millis(0));
        let out = drain(&mut server);
        assert_eq!(out.bytes(), vec![b'A'; MAX_LINE * 3]);
        assert!(server.buffer.is_empty());
    }

    #[test]
    fn all_of_unicode_is_upper_cased_as_python_does() {
        // Each pair as Python 3's str.upper() answers it.
        for (line, python) in [
            ("Ça marche? ünïcödé\r\n", "ÇA MARCHE? ÜNÏCÖDÉ\r\n"),
            ("señor 42!\n", "SEÑOR 42!\n"),
            ("straße", "STRASSE"),
            ("ﬁn ŉ ΐ", "FIN \u{2bc}N \u{399}\u{308}\u{301}"),
            ("привет, κόσμε", "ПРИВЕТ, ΚΌΣΜΕ"),
            ("日本 ok", "日本 OK"),
        ] {
            assert_eq!(to_upper(line.as_bytes()), python.as_bytes(), "{line}");
        }
    }

    #[test]
    fn bytes_that_are_not_utf8_are_echoed_as_they_are() {
        assert_eq!(to_upper(b"caf\xe9 \xff ok\xc3"), b"CAF\xe9 \xff OK\xc3");
        assert_eq!(
            to_upper(b"\xc3\xa9t\xc3"),
            "ÉT".bytes().chain([0xc3]).collect::<Vec<_>>()
        );
    }

    #[test]
    fn no_character_grows_more_than_max_growth() {
        let worst = (0..=u32::from(char::MAX))
            .filter_map(char::from_u32)
            .map(|c| {
                c.to_uppercase()
                    .map(char::len_utf8)
                    .sum::<usize>()
                    .div_ceil(c.len_utf8())
            })
            .max();
        assert_eq!(worst, Some(MAX_GROWTH));
    }

    #[test]
    fn an_endless_line_is_not_cut_inside_a_character() {
        let mut server = UpperTcpServer::new();
        // Past the limit, a read ends inside a two-byte letter.
        let mut long = vec![b'a'; MAX_LINE + 1];
        long.extend_from_slice("é".as_bytes());
        let cut = long.len() - 1;
        server.handle_input(&long[..cut], Millis(0));
        server.handle_input(&long[cut..], Millis(0));
        server.handle_eof(Millis(0));
        let mut expected = vec![b'A'; MAX_LINE + 1];
        expected.extend_from_slice("É".as_bytes());
        assert_eq!(drain(&mut server).bytes(), expected);
    }

    #[test]
    fn a_server_showing_its_peer_prefixes_each_reply() {
        let peer: std::net::SocketAddr = "127.0.0.1:40112".parse().unwrap();
        let mut tcp = UpperTcpServer::showing_peer(peer);
        tcp.handle_input("hello\r\nça\n".as_bytes(), Millis(0));
        assert_eq!(
            drain(&mut tcp).transmitted,
            vec![
                b"[127.0.0.1:40112] HELLO\r\n".to_vec(),
                "[127.0.0.1:40112] ÇA\n".as_bytes().to_vec()
            ]
        );
        let mut udp = UpperUdpServer::showing_peer(peer);
        udp.handle_input(b"hi", Millis(0));
        assert_eq!(
            drain(&mut udp).transmitted,
            vec![b"[127.0.0.1:40112] HI".to_vec()]
        );
    }

    #[test]
    fn udp_answers_one_datagram_per_datagram() {
        let mut server = UpperUdpServer::new();
        server.handle_input(b"hello world", Millis(0));
        server.handle_input(b"two", Millis(0));
        let out = drain(&mut server);
        assert_eq!(
            out.transmitted,
            vec![b"HELLO WORLD".to_vec(), b"TWO".to_vec()]
        );
        assert_eq!(out.deadline, None);
    }

    proptest! {
        #[test]
        fn splitting_the_input_does_not_change_the_answer(
            text in "[a-z \r\n]{0,80}",
            cut in 0usize..80,
        ) {
            let bytes = text.as_bytes();
            let cut = cut.min(bytes.len());
            let mut whole = UpperTcpServer::new();
            whole.handle_input(bytes, Millis(0));
            whole.handle_eof(Millis(0));
            let mut split = UpperTcpServer::new();
            split.handle_input(&bytes[..cut], Millis(0));
            split.handle_input(&bytes[cut..], Millis(0));
            split.handle_eof(Millis(0));
            prop_assert_eq!(drain(&mut whole).bytes(), drain(&mut split).bytes());
        }
    }
}
