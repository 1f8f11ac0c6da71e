//! Framing the control connection: where a command or a reply ends in a
//! growing buffer.
//!
//! A command is one line ([`next_command`]). A reply is one line, or, when
//! its code is followed by a hyphen, every line up to the one that starts
//! with the same code and a space (RFC 959 §4.2); [`next_reply`] returns
//! `Ok(None)` (partial) until that line has arrived. Both enforce limits, so
//! a peer that never ends a line or a reply cannot make the buffer grow
//! without bound: the caller drops the bytes an error reports.

use crate::dissect::Span;
use crate::framing::{LineEnding, LineTooLong, next_line};
use crate::ftp::reply::{is_last_line, parse_code};

/// Most lines one multi-line reply may have.
pub const MAX_REPLY_LINES: usize = 2048;
/// Most bytes one reply may have.
pub const MAX_REPLY_BYTES: usize = 256 * 1024;

/// One complete reply at the front of a buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyFrame {
    /// Each line's content and ending, spans into the buffer.
    pub lines: Vec<(Span, LineEnding)>,
    /// Bytes to drop from the buffer.
    pub consumed: usize,
}

/// The reply at the front of the buffer breaks a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReplyFrameError {
    #[error("a reply line is longer than {limit} bytes")]
    LineTooLong { limit: usize },
    #[error("a multi-line reply is longer than {MAX_REPLY_LINES} lines or {MAX_REPLY_BYTES} bytes")]
    TooLong,
}

/// Finds the first complete reply in `buf`.
pub fn next_reply(buf: &[u8], max_line: usize) -> Result<Option<ReplyFrame>, ReplyFrameError> {
    let line_err = |e: LineTooLong| ReplyFrameError::LineTooLong { limit: e.limit };
    let Some(first) = next_line(buf, max_line).map_err(line_err)? else {
        return Ok(None);
    };
    let first_text = first.content.slice(buf);
    let mut lines = vec![(first.content, first.ending)];
    let multi = match parse_code(first_text) {
        Some(code) if first_text.get(3) == Some(&b'-') => Some(code),
        _ => None,
    };
    let Some(code) = multi else {
        return Ok(Some(ReplyFrame {
            lines,
            consumed: first.consumed,
        }));
    };
    let mut at = first.consumed;
    loop {
        if lines.len() >= MAX_REPLY_LINES || at > MAX_REPLY_BYTES {
            return Err(ReplyFrameError::TooLong);
        }
        let Some(line) = next_line(&buf[at..], max_line).map_err(line_err)? else {
            return Ok(None);
        };
        let content = line.content.shifted(at);
        lines.push((content, line.ending));
        at += line.consumed;
        if is_last_line(content.slice(buf), code) {
            return Ok(Some(ReplyFrame {
                lines,
                consumed: at,
            }));
        }
    }
}

/// One command line at the front of a buffer: [`crate::framing::next_line`]
/// under the FTP name, so callers read as the protocol does.
pub fn next_command(
    buf: &[u8],
    max_line: usize,
) -> Result<Option<crate::framing::Line>, LineTooLong> {
    next_line(buf, max_line)
}

/// Telnet commands on the control connection (RFC 959 §4.1.3 asks clients to
/// send `IAC IP` and `IAC DM` before ABOR): they are not part of the command.
/// Returns the line without them (`IAC IAC` stands for one 0xFF byte) and
/// whether there were any.
pub fn strip_telnet(line: &[u8]) -> (Vec<u8>, bool) {
    const IAC: u8 = 0xFF;
    let mut out = Vec::with_capacity(line.len());
    let mut found = false;
    let mut i = 0;
    while i < line.len() {
        let b = line[i];
        if b == IAC {
            found = true;
            match line.get(i + 1) {
                Some(&IAC) => {
                    out.push(IAC);
                    i += 2;
                }
                // WILL/WONT/DO/DONT carry an option byte.
                Some(&(0xFB..=0xFE)) => i += 3,
                Some(_) => i += 2,
                None => i += 1,
            }
        } else if b == 0xF2 && found {
            // A Data Mark sent as urgent data may arrive without its IAC.
            i += 1;
        } else {
            out.push(b);
            i += 1;
        }
    }
    (out, found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn single_and_multi_line_replies_are_framed() {
        let f = next_reply(b"220 ready\r\n331 next", 100).unwrap().unwrap();
        assert_eq!(f.consumed, 11);
        assert_eq!(f.lines.len(), 1);
        let buf = b"211-Features:\r\n EPSV\r\n211 End\r\nrest";
        let f = next_reply(buf, 100).unwrap().unwrap();
        assert_eq!(f.lines.len(), 3);
        assert_eq!(&buf[f.consumed..], b"rest");
        // A middle line starting with another code does not end it.
        let buf = b"214-Help\r\n200 not the end\r\n214 end\r\n";
        assert_eq!(next_reply(buf, 100).unwrap().unwrap().lines.len(), 3);
        assert_eq!(next_reply(b"211-a\r\nb\r\n", 100), Ok(None));
    }

    #[test]
    fn limits_hold() {
        assert!(matches!(
            next_reply(&[b'2'; 200], 100),
            Err(ReplyFrameError::LineTooLong { .. })
        ));
        let mut many = b"211-start\r\n".to_vec();
        for _ in 0..MAX_REPLY_LINES {
            many.extend_from_slice(b"x\r\n");
        }
        assert_eq!(next_reply(&many, 100), Err(ReplyFrameError::TooLong));
    }

    #[test]
    fn telnet_commands_are_removed() {
        let (line, found) = strip_telnet(b"\xff\xf4\xff\xf2ABOR");
        assert_eq!(line, b"ABOR");
        assert!(found);
        assert_eq!(
            strip_telnet(b"RETR a\xff\xffb"),
            (b"RETR a\xffb".to_vec(), true)
        );
        assert_eq!(strip_telnet(b"NOOP"), (b"NOOP".to_vec(), false));
    }

    proptest! {
        #[test]
        fn every_strict_prefix_of_a_reply_is_partial(
            code in 100u16..600,
            lines in proptest::collection::vec("[ -~]{0,20}", 1..4),
        ) {
            let reply = crate::ftp::reply::Reply { code, lines };
            let bytes = reply.to_bytes();
            for cut in 0..bytes.len() {
                prop_assert_eq!(next_reply(&bytes[..cut], 100), Ok(None));
            }
            prop_assert_eq!(next_reply(&bytes, 100).unwrap().unwrap().consumed, bytes.len());
        }

        #[test]
        fn framing_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            if let Ok(Some(f)) = next_reply(&bytes, 64) {
                prop_assert!(f.consumed <= bytes.len());
            }
            let _ = strip_telnet(&bytes);
        }
    }
}
