//! DNS over TCP framing (RFC 1035 §4.2.2, RFC 7766 §8): every message is
//! preceded by its length as two bytes, big-endian.
//!
//! [`next_tcp_message`] looks at the front of a receive buffer and says
//! `Partial` until a whole message is there; [`TcpFramer`] keeps the buffer
//! for a connection. Over UDP a datagram is exactly one message and needs
//! no framer. The two-byte prefix bounds a message to 65,535 bytes; a
//! server sets a lower bound with [`TcpFramer::with_max_message`], which
//! also refuses a message too short for a DNS header, both checked as soon
//! as the prefix is in, before the message's bytes are waited for.
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

/// A length prefix the framer refuses (over its limit, or too short for a
/// DNS header): the connection must end, as what follows cannot be trusted
/// to be framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a message of {announced} bytes announced, outside {min}..={max}")]
pub struct BadLength {
    pub announced: usize,
    pub min: usize,
    pub max: usize,
}

/// The 12 bytes of a DNS header: no message is shorter (RFC 1035 §4.1.1).
const HEADER_LEN: usize = 12;

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
    min_message: usize,
    max_message: usize,
}

impl Default for TcpFramer {
    fn default() -> Self {
        TcpFramer {
            buffer: Vec::new(),
            start: 0,
            min_message: 0,
            max_message: u16::MAX as usize,
        }
    }
}

impl TcpFramer {
    pub fn new() -> Self {
        Self::default()
    }

    /// A server's framer: it refuses messages longer than `max` bytes,
    /// and shorter than a DNS header.
    pub fn with_max_message(max: usize) -> Self {
        TcpFramer {
            min_message: HEADER_LEN,
            max_message: max,
            ..Self::default()
        }
    }

    fn refuses(&self, announced: usize) -> Option<BadLength> {
        (announced < self.min_message || announced > self.max_message).then_some(BadLength {
            announced,
            min: self.min_message,
            max: self.max_message,
        })
    }

    pub fn push(&mut self, bytes: &[u8]) {
        if self.start > 0 {
            self.buffer.drain(..self.start);
            self.start = 0;
        }
        self.buffer.extend_from_slice(bytes);
    }

    /// The next complete message, without its prefix. A message of a
    /// refused length is never returned: see [`TcpFramer::try_next_message`].
    pub fn next_message(&mut self) -> Option<Vec<u8>> {
        self.try_next_message().ok().flatten()
    }

    /// The next complete message, `None` until one is whole, or the error
    /// of a prefix of a refused length (the framer stays stuck on it).
    pub fn try_next_message(&mut self) -> Result<Option<Vec<u8>>, BadLength> {
        let rest = &self.buffer[self.start..];
        if let &[a, b, ..] = rest
            && let Some(bad) = self.refuses(u16::from_be_bytes([a, b]) as usize)
        {
            return Err(bad);
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

    /// Whether a whole message (or a prefix of a refused length) waits to
    /// be taken: the caller should take it before pushing more.
    pub fn has_message(&self) -> bool {
        let rest = &self.buffer[self.start..];
        match rest {
            &[a, b, ..] => {
                let announced = u16::from_be_bytes([a, b]) as usize;
                self.refuses(announced).is_some() || rest.len() >= 2 + announced
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
        let refused = BadLength {
            announced: 513,
            min: 12,
            max: 512,
        };
        assert_eq!(f.try_next_message(), Err(refused));
        assert_eq!(f.next_message(), None);
        assert_eq!(f.try_next_message(), Err(refused));
    }

    #[test]
    fn a_server_refuses_a_message_shorter_than_a_header() {
        let mut f = TcpFramer::with_max_message(512);
        f.push(&tcp_wrap(&[0; 11]));
        assert!(f.has_message());
        assert!(matches!(
            f.try_next_message(),
            Err(BadLength { announced: 11, .. })
        ));
        // A framer with no limits frames it (the dissector explains it).
        let mut f = TcpFramer::new();
        f.push(&tcp_wrap(&[0; 11]));
        assert_eq!(f.next_message().unwrap().len(), 11);
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
