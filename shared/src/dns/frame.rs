//! DNS over TCP framing (RFC 1035 §4.2.2, RFC 7766 §8): every message is
//! preceded by its length as two bytes, big-endian.
//!
//! [`next_tcp_message`] looks at the front of a receive buffer and says
//! `Partial` until a whole message is there; [`TcpFramer`] keeps the buffer
//! for a connection. Over UDP a datagram is exactly one message and needs
//! no framer. The two-byte prefix bounds a message to 65,535 bytes, so the
//! buffer can never grow past that plus one read.

use crate::dissect::Span;

/// What the front of a TCP receive buffer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpFrame {
    /// A whole message at `message`; drop `consumed` bytes (prefix included).
    Complete { message: Span, consumed: usize },
    /// Not yet: `needed` more bytes at least.
    Partial { needed: usize },
}

/// Finds the first length-prefixed message in `buf`.
pub fn next_tcp_message(buf: &[u8]) -> TcpFrame {
    if buf.len() < 2 {
        return TcpFrame::Partial {
            needed: 2 - buf.len(),
        };
    }
    let len = u16::from_be_bytes([buf[0], buf[1]]) as usize;
    if buf.len() < 2 + len {
        return TcpFrame::Partial {
            needed: 2 + len - buf.len(),
        };
    }
    TcpFrame::Complete {
        message: Span::new(2, 2 + len),
        consumed: 2 + len,
    }
}

/// The message with its two-byte length in front. Messages over 65,535
/// bytes cannot be framed; they are cut to that length (no message this
/// lab builds comes close).
pub fn tcp_wrap(message: &[u8]) -> Vec<u8> {
    let message = &message[..message.len().min(u16::MAX as usize)];
    let mut out = Vec::with_capacity(message.len() + 2);
    out.extend_from_slice(&(message.len() as u16).to_be_bytes());
    out.extend_from_slice(message);
    out
}

/// The receive side of one TCP connection: push bytes in, take messages out.
#[derive(Debug, Default, Clone)]
pub struct TcpFramer {
    buffer: Vec<u8>,
}

impl TcpFramer {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// The next complete message, without its prefix.
    pub fn next_message(&mut self) -> Option<Vec<u8>> {
        match next_tcp_message(&self.buffer) {
            TcpFrame::Complete { message, consumed } => {
                let msg = message.slice(&self.buffer).to_vec();
                self.buffer.drain(..consumed);
                Some(msg)
            }
            TcpFrame::Partial { .. } => None,
        }
    }

    /// Bytes received that do not make a whole message yet.
    pub fn pending(&self) -> usize {
        self.buffer.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn frames_back_to_back_messages() {
        let mut f = TcpFramer::new();
        let mut stream = tcp_wrap(b"first");
        stream.extend(tcp_wrap(b"second"));
        f.push(&stream[..4]);
        assert_eq!(f.next_message(), None);
        f.push(&stream[4..]);
        assert_eq!(f.next_message().unwrap(), b"first");
        assert_eq!(f.next_message().unwrap(), b"second");
        assert_eq!(f.next_message(), None);
        assert_eq!(f.pending(), 0);
        assert_eq!(
            next_tcp_message(&[0, 0]),
            TcpFrame::Complete {
                message: Span::new(2, 2),
                consumed: 2
            }
        );
    }

    proptest! {
        #[test]
        fn every_strict_prefix_is_partial(msg in proptest::collection::vec(any::<u8>(), 0..600)) {
            let framed = tcp_wrap(&msg);
            for cut in 0..framed.len() {
                let is_partial = matches!(next_tcp_message(&framed[..cut]), TcpFrame::Partial { .. });
                prop_assert!(is_partial);
            }
            prop_assert_eq!(
                next_tcp_message(&framed),
                TcpFrame::Complete { message: Span::new(2, framed.len()), consumed: framed.len() }
            );
        }
    }
}
