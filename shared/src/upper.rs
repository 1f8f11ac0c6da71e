//! The course's first client-server application: the uppercase server of
//! the socket chapter. A client sends a sentence, the server sends it back in
//! upper case, over TCP (a connection per client, many lines per connection)
//! or over UDP (one datagram in, one datagram out).
//!
//! Only ASCII letters change, as Python's `str.upper()` on the course's
//! ASCII sentences; other bytes, line endings included, are echoed unchanged
//! so the student sees exactly what crossed the wire.

use crate::engine::{Engine, Millis, Output};
use crate::framing::next_line;
use std::collections::VecDeque;

/// Longest line the TCP server buffers before answering what it has.
pub const MAX_LINE: usize = 8 * 1024;

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

/// Upper-cases ASCII letters, leaving every other byte as it is.
pub fn to_upper(bytes: &[u8]) -> Vec<u8> {
    bytes.to_ascii_uppercase()
}

/// The TCP uppercase server for one connection.
///
/// Each complete line (LF-terminated) is answered at once. Bytes without a LF
/// are answered after [`FLUSH_AFTER_MS`] of silence, or at end of stream, so
/// that the textbook's client, which sends no line ending, also works.
#[derive(Debug, Default)]
pub struct UpperTcpServer {
    buffer: Vec<u8>,
    outputs: VecDeque<Output<UpperEvent>>,
    flush_at: Option<Millis>,
    closed: bool,
}

impl UpperTcpServer {
    pub fn new() -> Self {
        Self::default()
    }

    fn answer(&mut self, received: Vec<u8>) {
        self.outputs
            .push_back(Output::Transmit(to_upper(&received)));
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
                    // An endless line: answer what has arrived, keep going.
                    let received = std::mem::take(&mut self.buffer);
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
    outputs: VecDeque<Output<UpperEvent>>,
}

impl UpperUdpServer {
    pub fn new() -> Self {
        Self::default()
    }
}

impl Engine for UpperUdpServer {
    type Event = UpperEvent;

    fn handle_input(&mut self, datagram: &[u8], _now: Millis) {
        self.outputs.push_back(Output::Transmit(to_upper(datagram)));
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
    fn only_ascii_letters_change() {
        assert_eq!(
            to_upper("señor 42!\r\n".as_bytes()),
            "SEñOR 42!\r\n".as_bytes()
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
