//! DNS over TCP framing (RFC 1035 §4.2.2, RFC 7766 §8): every message is
//! preceded by its length as two bytes, big-endian.
//!
//! [`next_tcp_message`] looks at the front of a receive buffer and says
//! `Partial` until a whole message is there; [`TcpFramer`] keeps the buffer
//! for a connection. Over UDP a datagram is exactly one message and needs
//! no framer. The two-byte prefix bounds a message to 65,535 bytes; a
//! server sets a lower bound with [`TcpFramer::with_max_message`], checked
//! as soon as the prefix is in, before the message's bytes are waited for.
//! The buffer holds what the caller pushed and has not taken yet: a caller
//! bounds it by pushing only when [`TcpFramer::has_message`] is false.

use crate::dissect::Span;

/// What the front of a TCP receive buffer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpFrame {
    /// A whole message at `message`; drop `consumed` bytes (prefix included).
    Complete { message: Span, consumed: usize },
    /// Not yet: `needed` more bytes at least.
    Partial { needed: usize },
}

/// A length prefix over the framer's limit: the connection must end, as
/// nothing after it can be framed without reading the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a message of {announced} bytes announced, over the limit of {max}")]
pub struct TooLarge {
    pub announced: usize,
    pub max: usize,
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
#[derive(Debug, Clone)]
pub struct TcpFramer {
    buffer: Vec<u8>,
    /// Where the bytes not taken yet start in `buffer`: taking a message
    /// moves it, and the front is dropped at the next push, so a burst of
    /// pipelined messages costs one copy, not one per message.
    start: usize,
    max_message: usize,
}

impl Default for TcpFramer {
    fn default() -> Self {
        TcpFramer {
            buffer: Vec::new(),
            start: 0,
            max_message: u16::MAX as usize,
        }
    }
}

impl TcpFramer {
    pub fn new() -> Self {
        Self::default()
    }

    /// A framer that refuses messages longer than `max` bytes.
    pub fn with_max_message(max: usize) -> Self {
        TcpFramer {
            max_message: max,
            ..Self::default()
        }
    }

    pub fn push(&mut self, bytes: &[u8]) {
        if self.start > 0 {
            self.buffer.drain(..self.start);
            self.start = 0;
        }
        self.buffer.extend_from_slice(bytes);
    }

    /// The next complete message, without its prefix. A message over the
    /// limit is never returned: see [`TcpFramer::try_next_message`].
    pub fn next_message(&mut self) -> Option<Vec<u8>> {
        self.try_next_message().ok().flatten()
    }

    /// The next complete message, `None` until one is whole, or the error
    /// of a prefix over the limit (the framer stays stuck on it).
    pub fn try_next_message(&mut self) -> Result<Option<Vec<u8>>, TooLarge> {
        let rest = &self.buffer[self.start..];
        if let &[a, b, ..] = rest {
            let announced = u16::from_be_bytes([a, b]) as usize;
            if announced > self.max_message {
                return Err(TooLarge {
                    announced,
                    max: self.max_message,
                });
            }
        }
        match next_tcp_message(rest) {
            TcpFrame::Complete { message, consumed } => {
                let msg = message.slice(rest).to_vec();
                self.start += consumed;
                Ok(Some(msg))
            }
            TcpFrame::Partial { .. } => Ok(None),
        }
    }

    /// Whether a whole message (or a prefix over the limit) waits to be
    /// taken: the caller should take it before pushing more.
    pub fn has_message(&self) -> bool {
        let rest = &self.buffer[self.start..];
        match rest {
            &[a, b, ..] => {
                let announced = u16::from_be_bytes([a, b]) as usize;
                announced > self.max_message || rest.len() >= 2 + announced
            }
            _ => false,
        }
    }

    /// Bytes received that do not make a whole message yet.
    pub fn pending(&self) -> usize {
        self.buffer.len() - self.start
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

    #[test]
    fn a_prefix_over_the_limit_is_refused_before_its_bytes() {
        let mut f = TcpFramer::with_max_message(512);
        let mut stream = tcp_wrap(&[7; 512]);
        stream.extend_from_slice(&[0x02, 0x01]);
        f.push(&stream);
        assert!(f.has_message());
        assert_eq!(f.try_next_message().unwrap().unwrap().len(), 512);
        // Only the prefix of the next message is in: it is already refused.
        assert!(f.has_message());
        let refused = TooLarge {
            announced: 513,
            max: 512,
        };
        assert_eq!(f.try_next_message(), Err(refused));
        assert_eq!(f.next_message(), None);
        assert_eq!(f.try_next_message(), Err(refused));
    }

    #[test]
    fn taking_messages_then_pushing_keeps_the_rest() {
        let mut f = TcpFramer::new();
        let mut stream = tcp_wrap(b"one");
        stream.extend(tcp_wrap(b"two"));
        f.push(&stream[..7]);
        assert_eq!(f.next_message().unwrap(), b"one");
        assert!(!f.has_message());
        assert_eq!(f.pending(), 2);
        f.push(&stream[7..]);
        assert!(f.has_message());
        assert_eq!(f.next_message().unwrap(), b"two");
        assert_eq!(f.pending(), 0);
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
