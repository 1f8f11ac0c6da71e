//! The first parsing stage for line-based protocols: finding where a line
//! ends in a growing buffer, with a hard limit on its length.
//!
//! The caller keeps a buffer of received bytes, asks [`next_line`] for the
//! next complete line, acts on it and then drops `consumed` bytes from the
//! front. `Ok(None)` means "partial: wait for more bytes". A line longer than
//! the limit is an error the caller must handle (reply, discard or close),
//! so a peer can never make the buffer grow without bound.
//!
//! [`CommandLines`] is that loop for a server reading command lines, with
//! the over-long line dropped and reported once.
//!
//! [`split_lines`], [`first_line`], [`strip_line_end`] and [`text_end`] read
//! lines out of bytes already held whole, for dissectors and followers.

use crate::dissect::Span;

/// How a line ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineEnding {
    /// CR LF, as every Internet text protocol asks (RFC 5234 `CRLF`).
    CrLf,
    /// LF alone: tolerated by many servers, but not what the RFCs say.
    BareLf,
}

impl LineEnding {
    pub fn len(&self) -> usize {
        match self {
            LineEnding::CrLf => 2,
            LineEnding::BareLf => 1,
        }
    }

    pub fn is_empty(&self) -> bool {
        false
    }
}

/// One complete line found at the front of a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    /// The line's content, without its ending.
    pub content: Span,
    pub ending: LineEnding,
    /// How many bytes to drop from the buffer: content plus ending.
    pub consumed: usize,
}

/// The line at the front of the buffer was longer than allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("line longer than {limit} bytes")]
pub struct LineTooLong {
    pub limit: usize,
}

/// Finds the first line in `buf`. `max_len` bounds the content length (not
/// counting the ending). Returns `Ok(None)` while no LF has arrived and the
/// buffer is still within the limit.
pub fn next_line(buf: &[u8], max_len: usize) -> Result<Option<Line>, LineTooLong> {
    // Look one byte past the limit for the CR of a CRLF.
    let window = &buf[..buf.len().min(max_len.saturating_add(2))];
    match window.iter().position(|&b| b == b'\n') {
        Some(lf) => {
            let (end, ending) = if lf > 0 && buf[lf - 1] == b'\r' {
                (lf - 1, LineEnding::CrLf)
            } else {
                (lf, LineEnding::BareLf)
            };
            if end > max_len {
                return Err(LineTooLong { limit: max_len });
            }
            Ok(Some(Line {
                content: Span::new(0, end),
                ending,
                consumed: lf + 1,
            }))
        }
        None if buf.len() > max_len + 1 => Err(LineTooLong { limit: max_len }),
        None => Ok(None),
    }
}

/// What [`CommandLines::next`] read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandLine {
    /// A complete line's content, without its ending.
    Line(Vec<u8>),
    /// A line over the framer's limit, now dropped up to its LF.
    TooLong,
}

/// The command lines a server reads from its peer. A line longer than the
/// framer allows is dropped as it arrives, up to its LF however late that
/// comes, and reported once as [`CommandLine::TooLong`] so the server
/// answers it with one error: a peer never makes the buffer grow without
/// bound. The caller feeds it with [`CommandLines::extend`] and calls
/// [`CommandLines::next`] until `None`.
#[derive(Debug, Clone, Default)]
pub struct CommandLines {
    buffer: Vec<u8>,
    /// A line went over the limit: drop bytes until its LF.
    discarding: bool,
}

impl CommandLines {
    pub fn extend(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// The bytes not read yet, for a server that reads something other
    /// than command lines for a while (SMTP's message text).
    pub fn unread(&self) -> &[u8] {
        &self.buffer
    }

    /// Drops the first `n` unread bytes, read by the caller itself.
    pub fn consume(&mut self, n: usize) {
        self.buffer.drain(..n);
    }

    /// The next line as `frame` (the protocol's `next_command`) finds it;
    /// `None` until one is complete.
    pub fn next(
        &mut self,
        frame: impl Fn(&[u8]) -> Result<Option<Line>, LineTooLong>,
    ) -> Option<CommandLine> {
        if !self.discarding {
            match frame(&self.buffer) {
                Ok(Some(line)) => {
                    let content = self.buffer[..line.content.end].to_vec();
                    self.buffer.drain(..line.consumed);
                    return Some(CommandLine::Line(content));
                }
                Ok(None) => return None,
                Err(_) => self.discarding = true,
            }
        }
        match self.buffer.iter().position(|&b| b == b'\n') {
            Some(lf) => {
                self.buffer.drain(..=lf);
                self.discarding = false;
                Some(CommandLine::TooLong)
            }
            None => {
                self.buffer.clear();
                None
            }
        }
    }
}

/// The first line of `bytes` as [`split_lines`] reads it: its content,
/// where it ends with its ending, and the ending (`None` if the bytes stop
/// before one). For dissectors of one-line messages (a command line, a
/// status line) that show the rest as following bytes.
pub fn first_line(bytes: &[u8]) -> (Span, usize, Option<LineEnding>) {
    match split_lines(bytes).first() {
        Some((content, ending)) => (
            *content,
            content.end + ending.map_or(0, |e| e.len()),
            *ending,
        ),
        None => (Span::point(0), 0, None),
    }
}

/// `line` without the CR and LF bytes at its end: the text of a line a
/// framer returned whole, ending included.
pub fn strip_line_end(line: &[u8]) -> &[u8] {
    let ending = line
        .iter()
        .rev()
        .take_while(|&&b| b == b'\r' || b == b'\n')
        .count();
    &line[..line.len() - ending]
}

/// Where the text of `bytes` stops: at its first CR or LF, or at its end
/// (a line still being typed has none).
pub fn text_end(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(bytes.len())
}

/// Splits a whole message into lines (each with its ending, the last one
/// possibly without any), with spans into `bytes`. Used by dissectors that
/// already hold a complete frame.
pub fn split_lines(bytes: &[u8]) -> Vec<(Span, Option<LineEnding>)> {
    let mut lines = Vec::new();
    let mut start = 0;
    while start < bytes.len() {
        match bytes[start..].iter().position(|&b| b == b'\n') {
            Some(rel) => {
                let lf = start + rel;
                if lf > start && bytes[lf - 1] == b'\r' {
                    lines.push((Span::new(start, lf - 1), Some(LineEnding::CrLf)));
                } else {
                    lines.push((Span::new(start, lf), Some(LineEnding::BareLf)));
                }
                start = lf + 1;
            }
            None => {
                lines.push((Span::new(start, bytes.len()), None));
                break;
            }
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn finds_crlf_and_bare_lf_lines() {
        let line = next_line(b"HELO crepes.fr\r\nrest", 100).unwrap().unwrap();
        assert_eq!(line.content, Span::new(0, 14));
        assert_eq!(line.ending, LineEnding::CrLf);
        assert_eq!(line.consumed, 16);
        let bare = next_line(b"abc\n", 100).unwrap().unwrap();
        assert_eq!(bare.ending, LineEnding::BareLf);
        assert_eq!(bare.consumed, 4);
        let empty = next_line(b"\r\n", 100).unwrap().unwrap();
        assert_eq!(empty.content, Span::new(0, 0));
    }

    #[test]
    fn partial_until_lf_and_limit_enforced() {
        assert_eq!(next_line(b"abc\r", 100), Ok(None));
        assert_eq!(next_line(b"", 100), Ok(None));
        // Exactly at the limit is fine, with either ending.
        assert!(next_line(b"abcd\r\n", 4).unwrap().is_some());
        assert!(next_line(b"abcd\n", 4).unwrap().is_some());
        assert_eq!(next_line(b"abcde\n", 4), Err(LineTooLong { limit: 4 }));
        // Without any LF, the buffer may hold the limit plus a CR, no more.
        assert_eq!(next_line(b"abcd\r", 4), Ok(None));
        assert_eq!(next_line(b"abcdef", 4), Err(LineTooLong { limit: 4 }));
    }

    #[test]
    fn an_over_long_command_line_is_dropped_and_reported_once() {
        let frame = |buf: &[u8]| next_line(buf, 4);
        let mut lines = CommandLines::default();
        lines.extend(b"NOOP\r\nTOOLONG");
        assert_eq!(lines.next(frame), Some(CommandLine::Line(b"NOOP".to_vec())));
        assert_eq!(
            lines.next(frame),
            None,
            "nothing kept while the LF is awaited"
        );
        assert!(lines.unread().is_empty());
        lines.extend(b"STILL\r\nQUIT\r\n");
        assert_eq!(lines.next(frame), Some(CommandLine::TooLong));
        assert_eq!(lines.next(frame), Some(CommandLine::Line(b"QUIT".to_vec())));
        assert_eq!(lines.next(frame), None);
        lines.extend(b"DATA");
        lines.consume(2);
        assert_eq!(lines.unread(), b"TA");
    }

    #[test]
    fn first_line_and_line_ends() {
        assert_eq!(
            first_line(b"USER bob\r\nPASS"),
            (Span::new(0, 8), 10, Some(LineEnding::CrLf))
        );
        assert_eq!(first_line(b"QUIT"), (Span::new(0, 4), 4, None));
        assert_eq!(first_line(b""), (Span::point(0), 0, None));
        assert_eq!(strip_line_end(b"NOOP\r\n"), b"NOOP");
        assert_eq!(strip_line_end(b"a\rb\n\n"), b"a\rb");
        assert_eq!(text_end(b"a\rb\n"), 1);
        assert_eq!(text_end(b"typing"), 6);
    }

    #[test]
    fn split_lines_covers_every_byte() {
        let lines = split_lines(b"a\r\nbb\ncc");
        assert_eq!(
            lines,
            vec![
                (Span::new(0, 1), Some(LineEnding::CrLf)),
                (Span::new(3, 5), Some(LineEnding::BareLf)),
                (Span::new(6, 8), None),
            ]
        );
        assert!(split_lines(b"").is_empty());
    }

    proptest! {
        #[test]
        fn every_strict_prefix_of_a_line_is_partial(content in "[ -~]{0,40}") {
            let msg = format!("{content}\r\n");
            for cut in 0..msg.len() {
                prop_assert_eq!(next_line(&msg.as_bytes()[..cut], 64), Ok(None));
            }
            let line = next_line(msg.as_bytes(), 64).unwrap().unwrap();
            prop_assert_eq!(line.consumed, msg.len());
        }

        #[test]
        fn framing_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200), max in 0usize..50) {
            if let Ok(Some(line)) = next_line(&bytes, max) {
                prop_assert!(line.consumed <= bytes.len());
                prop_assert!(line.content.len() <= max);
            }
        }
    }
}
