//! IMAP framing (RFC 9051 §2.2, §4.3): where the next command or response
//! ends in a growing buffer. A message is a line, unless the line ends with
//! a literal's `{n}` or `{n+}`: then n bytes follow and the message goes on
//! after them, up to a line that ends without one.
//!
//! Every limit is checked before the bytes it concerns are taken: each line
//! against [`Limits::line`], each literal's announced size against
//! [`Limits::literal`] as soon as its `{n}` line has ended, and the whole
//! message against [`Limits::message`]. A synchronising literal whose data
//! has not come yet is [`Framed::AwaitingContinuation`]: the client waits
//! for the server's `+` before sending it.

use crate::dissect::Span;
use crate::imap::syntax::literal_header;

/// The framer's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The longest line, without its CR LF (RFC 7162 §4 asks servers to
    /// accept at least 8192 octets).
    pub line: usize,
    /// The largest literal (an APPEND's message).
    pub literal: u64,
    /// The whole message, literals included.
    pub message: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            line: 8192,
            literal: 1024 * 1024,
            message: 2 * 1024 * 1024,
        }
    }
}

/// What the buffer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framed {
    /// Not a whole message yet.
    Partial,
    /// Not a whole message yet, and the client waits for a `+` before it
    /// sends the `size` bytes of a synchronising literal starting at `at`.
    AwaitingContinuation { size: u64, at: usize },
    /// A whole message of this many bytes.
    Complete(usize),
}

/// Why the buffer can never hold a message within the limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    #[error("a line is longer than {limit} bytes")]
    LineTooLong { limit: usize },
    #[error("a literal of {size} bytes is larger than the {limit} allowed")]
    LiteralTooLarge { size: u64, limit: u64, span: Span },
    #[error("the message is longer than {limit} bytes")]
    MessageTooLong { limit: usize },
}

/// The next whole command in a client's stream.
pub fn next_command(buf: &[u8], limits: &Limits) -> Result<Framed, FrameError> {
    next_message(buf, limits)
}

/// The next whole response in a server's stream. A server never waits for
/// a continuation, so a literal still arriving is simply partial.
pub fn next_response(buf: &[u8], limits: &Limits) -> Result<Framed, FrameError> {
    match next_message(buf, limits)? {
        Framed::AwaitingContinuation { .. } => Ok(Framed::Partial),
        other => Ok(other),
    }
}

fn next_message(buf: &[u8], limits: &Limits) -> Result<Framed, FrameError> {
    let mut pos = 0;
    loop {
        let rest = &buf[pos..];
        let Some(lf) = rest.iter().position(|&b| b == b'\n') else {
            // A line at its limit may still be followed by its CR.
            if rest.len() > limits.line + 1 {
                return Err(FrameError::LineTooLong { limit: limits.line });
            }
            return within_message(pos + rest.len(), limits).map(|_| Framed::Partial);
        };
        let content = &rest[..lf];
        let content = content.strip_suffix(b"\r").unwrap_or(content);
        if content.len() > limits.line {
            return Err(FrameError::LineTooLong { limit: limits.line });
        }
        let line_end = pos + lf + 1;
        within_message(line_end, limits)?;
        let Some(open) = trailing_literal(content) else {
            return Ok(Framed::Complete(line_end));
        };
        let Some(header) = literal_header(&buf[pos + open..line_end]) else {
            // `{n}` ended by a bare LF: not a literal, the line ends here.
            return Ok(Framed::Complete(line_end));
        };
        if header.size > limits.literal {
            return Err(FrameError::LiteralTooLarge {
                size: header.size,
                limit: limits.literal,
                span: Span::new(pos + open, pos + content.len()),
            });
        }
        let data_end = line_end as u64 + header.size;
        within_message(usize::try_from(data_end).unwrap_or(usize::MAX), limits)?;
        if (buf.len() as u64) < data_end {
            if header.synchronizing {
                return Ok(Framed::AwaitingContinuation {
                    size: header.size,
                    at: line_end,
                });
            }
            return Ok(Framed::Partial);
        }
        pos = data_end as usize;
    }
}

fn within_message(len: usize, limits: &Limits) -> Result<(), FrameError> {
    if len > limits.message {
        Err(FrameError::MessageTooLong {
            limit: limits.message,
        })
    } else {
        Ok(())
    }
}

/// Where the `{` of a literal announced at the end of `line` is, if the
/// line ends with one outside a quoted string.
fn trailing_literal(line: &[u8]) -> Option<usize> {
    if line.last() != Some(&b'}') {
        return None;
    }
    let open = line.iter().rposition(|&b| b == b'{')?;
    let inside = &line[open + 1..line.len() - 1];
    let digits = inside.strip_suffix(b"+").unwrap_or(inside);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    (!in_quoted_string(&line[..open])).then_some(open)
}

/// Whether a quoted string is still open at the end of `text`.
fn in_quoted_string(text: &[u8]) -> bool {
    let mut quoted = false;
    let mut escaped = false;
    for &b in text {
        match b {
            _ if escaped => escaped = false,
            b'\\' if quoted => escaped = true,
            b'"' => quoted = !quoted,
            _ => {}
        }
    }
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: Limits = Limits {
        line: 64,
        literal: 100,
        message: 400,
    };

    #[test]
    fn lines_and_literals() {
        assert_eq!(next_command(b"a1 NOOP\r\nx", &L), Ok(Framed::Complete(9)));
        assert_eq!(next_command(b"a1 NOOP\r", &L), Ok(Framed::Partial));
        let login = b"a2 LOGIN {3}\r\nbob {6+}\r\nhungry\r\nnext";
        assert_eq!(
            next_command(&login[..14], &L),
            Ok(Framed::AwaitingContinuation { size: 3, at: 14 })
        );
        assert_eq!(
            next_command(&login[..16], &L),
            Ok(Framed::AwaitingContinuation { size: 3, at: 14 })
        );
        assert_eq!(next_command(&login[..24], &L), Ok(Framed::Partial));
        assert_eq!(next_command(login, &L), Ok(Framed::Complete(32)));
        // A server's literal never waits for anything.
        assert_eq!(
            next_response(b"* 1 FETCH (BODY[] {5}\r\nab", &L),
            Ok(Framed::Partial)
        );
        // Braces inside a quoted string announce nothing.
        assert_eq!(
            next_command(b"a3 LOGIN \"x {3}\"\r\n", &L),
            Ok(Framed::Complete(18))
        );
        assert_eq!(
            next_command(b"a3 LOGIN \"x {3}\r\n", &L),
            Ok(Framed::Complete(17))
        );
    }

    #[test]
    fn limits_are_checked_before_the_bytes_arrive() {
        assert_eq!(
            next_command(b"a APPEND x {101}\r\n", &L),
            Err(FrameError::LiteralTooLarge {
                size: 101,
                limit: 100,
                span: Span::new(11, 16)
            })
        );
        assert!(matches!(
            next_command(b"a APPEND x {99999999999999999999999999}\r\n", &L),
            Err(FrameError::LiteralTooLarge { size: u64::MAX, .. })
        ));
        let long = vec![b'x'; 66];
        assert_eq!(
            next_command(&long, &L),
            Err(FrameError::LineTooLong { limit: 64 })
        );
        assert_eq!(next_command(&long[..65], &L), Ok(Framed::Partial));
        let mut many = Vec::new();
        for _ in 0..5 {
            many.extend_from_slice(b"a {90}\r\n");
            many.extend_from_slice(&[b'y'; 90]);
        }
        assert_eq!(
            next_command(&many, &L),
            Err(FrameError::MessageTooLong { limit: 400 })
        );
    }
}
