//! SMTP framing, the first parsing stage: where a command line ends, where
//! a (possibly multi-line) reply ends, and where the DATA text ends, each
//! with the limits of RFC 5321 §4.5.3.1.
//!
//! Every function looks at the front of a buffer of received bytes and
//! returns `Ok(None)` ("partial") until a whole message is there. The DATA
//! text is framed by [`crate::stuffing::find_end`] for a whole buffer, or
//! streamed through [`DataReceiver`] by a server that must not keep more
//! than its size limit in memory.

use crate::framing::{Line, LineTooLong, next_line};

/// RFC 5321 §4.5.3.1.4: a command line is at most 512 octets with its CR LF.
pub const MAX_COMMAND_LINE: usize = 510;
/// RFC 5321 §4.5.3.1.5: a reply line is at most 512 octets with its CR LF.
pub const MAX_REPLY_LINE: usize = 510;
/// Receivers accept longer lines than the RFC minimum; the framer's hard
/// limit for one command line (beyond it: `500 Line too long`).
pub const COMMAND_LINE_LIMIT: usize = 4096;
/// A multi-line reply longer than this is cut (EHLO lists are short).
pub const MAX_REPLY_LINES: usize = 200;

/// The next command line.
pub fn next_command(buf: &[u8]) -> Result<Option<Line>, LineTooLong> {
    next_line(buf, COMMAND_LINE_LIMIT)
}

/// The length of the next complete reply at the front of `buf`: lines up to
/// the first one whose code is not followed by `-`. A line that does not
/// start with a code ends the reply too, so that a malformed reply is
/// dissected rather than waited for forever.
pub fn next_reply(buf: &[u8]) -> Result<Option<usize>, LineTooLong> {
    let mut at = 0usize;
    for _ in 0..MAX_REPLY_LINES {
        let Some(line) = next_line(&buf[at..], COMMAND_LINE_LIMIT)? else {
            return Ok(None);
        };
        let content = line.content.shifted(at).slice(buf);
        at += line.consumed;
        let continues =
            content.len() >= 4 && content[..3].iter().all(u8::is_ascii_digit) && content[3] == b'-';
        if !continues {
            return Ok(Some(at));
        }
    }
    Err(LineTooLong {
        limit: COMMAND_LINE_LIMIT * MAX_REPLY_LINES,
    })
}

/// A streaming receiver of DATA text: feed it bytes as they arrive, it
/// removes the dot-stuffing, keeps at most `limit` bytes, and says when the
/// terminating `.` line has arrived (and how many input bytes it used).
#[derive(Debug, Clone)]
pub struct DataReceiver {
    text: Vec<u8>,
    limit: usize,
    overflow: bool,
    state: DataState,
    received: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DataState {
    /// After CR LF (or at the very start).
    LineStart,
    Middle,
    /// After a CR in the middle of a line.
    Cr,
    /// A '.' at a line start.
    Dot,
    /// '.' CR at a line start.
    DotCr,
}

impl DataReceiver {
    pub fn new(limit: usize) -> DataReceiver {
        DataReceiver {
            text: Vec::new(),
            limit,
            overflow: false,
            state: DataState::LineStart,
            received: 0,
        }
    }

    fn push(&mut self, b: u8) {
        if self.text.len() < self.limit {
            self.text.push(b);
        } else {
            self.overflow = true;
        }
    }

    /// Feeds bytes; returns how many were part of the DATA text (the rest
    /// belongs to the next command) once the end has been seen.
    pub fn feed(&mut self, bytes: &[u8]) -> Option<usize> {
        for (i, &b) in bytes.iter().enumerate() {
            self.received += 1;
            self.state = match (self.state, b) {
                (DataState::LineStart, b'.') => DataState::Dot,
                (DataState::LineStart | DataState::Middle, b'\r') => DataState::Cr,
                (DataState::LineStart | DataState::Middle, _) => {
                    self.push(b);
                    DataState::Middle
                }
                (DataState::Cr, b'\n') => {
                    self.push(b'\r');
                    self.push(b'\n');
                    DataState::LineStart
                }
                (DataState::Cr, b'\r') => {
                    self.push(b'\r');
                    DataState::Cr
                }
                (DataState::Cr, _) => {
                    self.push(b'\r');
                    self.push(b);
                    DataState::Middle
                }
                // The stuffed dot is dropped; what follows is ordinary text.
                (DataState::Dot, b'\r') => DataState::DotCr,
                (DataState::Dot, _) => {
                    self.push(b);
                    DataState::Middle
                }
                (DataState::DotCr, b'\n') => return Some(i + 1),
                (DataState::DotCr, b'\r') => {
                    self.push(b'\r');
                    DataState::Cr
                }
                (DataState::DotCr, _) => {
                    self.push(b'\r');
                    self.push(b);
                    DataState::Middle
                }
            };
        }
        None
    }

    /// Whether the text went over the limit (what is kept is cut).
    pub fn overflowed(&self) -> bool {
        self.overflow
    }

    /// Bytes received so far, stuffing and terminator included.
    pub fn received(&self) -> usize {
        self.received
    }

    /// The unstuffed text (ending with CR LF unless empty).
    pub fn into_text(self) -> Vec<u8> {
        self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stuffing;
    use proptest::prelude::*;

    #[test]
    fn replies_end_at_their_last_line() {
        let buf = b"250-hamburger.edu\r\n250-SIZE 10\r\n250 HELP\r\n220 next";
        assert_eq!(next_reply(buf), Ok(Some(42)));
        assert_eq!(next_reply(b"250-a\r\n250 b"), Ok(None));
        assert_eq!(next_reply(b"garbage\r\n"), Ok(Some(9)));
        assert_eq!(
            next_command(b"HELO x\r\nMAIL"),
            Ok(Some(Line {
                content: crate::dissect::Span::new(0, 6),
                ending: crate::framing::LineEnding::CrLf,
                consumed: 8
            }))
        );
    }

    #[test]
    fn data_receiver_unstuffs_and_finds_the_end() {
        let mut r = DataReceiver::new(1000);
        assert_eq!(r.feed(b"Do you like ketchup?\r\n..hidden\r"), None);
        assert_eq!(r.feed(b"\n.\r\nQUIT\r\n"), Some(4));
        assert_eq!(r.into_text(), b"Do you like ketchup?\r\n.hidden\r\n");
        let mut r = DataReceiver::new(1000);
        assert_eq!(r.feed(b".\r\n"), Some(3));
        assert!(r.into_text().is_empty());
        let mut r = DataReceiver::new(5);
        assert_eq!(r.feed(b"0123456789\r\n.\r\n"), Some(15));
        assert!(r.overflowed());
        assert_eq!(r.received(), 15);
    }

    proptest! {
        #[test]
        fn receiver_agrees_with_the_buffer_framer(
            text in proptest::collection::vec(prop_oneof![Just(b'.'), Just(b'\r'), Just(b'\n'), Just(b'a')], 0..60),
            cut in 0usize..80,
        ) {
            // Whatever the text, stuffing it and streaming it back gives it back.
            let mut text = text;
            if !text.is_empty() && !text.ends_with(b"\r\n") {
                text.extend_from_slice(b"\r\n");
            }
            let wire = stuffing::stuff(&text);
            let end = stuffing::find_end(&wire).unwrap();
            prop_assert_eq!(end.len, wire.len());
            let cut = cut.min(wire.len());
            let mut r = DataReceiver::new(10_000);
            let first = r.feed(&wire[..cut]);
            let used = match first {
                Some(n) => n,
                None => cut + r.feed(&wire[cut..]).unwrap(),
            };
            prop_assert_eq!(used, wire.len());
            prop_assert_eq!(r.into_text(), text);
        }

        #[test]
        fn every_strict_prefix_of_a_reply_is_partial(lines in proptest::collection::vec("[ -~]{0,20}", 1..5), code in 200u16..600) {
            let reply = super::super::reply::Reply { code, lines };
            let bytes = reply.to_bytes();
            for cut in 0..bytes.len() {
                prop_assert_eq!(next_reply(&bytes[..cut]), Ok(None));
            }
            prop_assert_eq!(next_reply(&bytes), Ok(Some(bytes.len())));
        }
    }
}
