//! The head of an HTTP/1.x message read with byte spans: the start line
//! (request line or status line), each header line as written (including
//! the broken ones a student may type), and where the head ends. The framer,
//! the dissector, the server and the client all start from this.
//!
//! The reader is lenient on purpose: it records what it found and leaves
//! the judging to the dissector's diagnostics and the server's replies.

use crate::dissect::Span;
use crate::framing::{LineEnding, split_lines};

/// The HTTP version of a start line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Version {
    Http10,
    Http11,
}

impl Version {
    pub fn as_str(&self) -> &'static str {
        match self {
            Version::Http10 => "HTTP/1.0",
            Version::Http11 => "HTTP/1.1",
        }
    }

    /// Reads `HTTP/1.0` or `HTTP/1.1`; anything else is `Err` with what it was.
    pub fn parse(text: &str) -> Result<Version, VersionProblem> {
        match text {
            "HTTP/1.1" => Ok(Version::Http11),
            "HTTP/1.0" => Ok(Version::Http10),
            _ => {
                let well_formed = text.len() == 8
                    && text.starts_with("HTTP/")
                    && text.as_bytes()[5].is_ascii_digit()
                    && text.as_bytes()[6] == b'.'
                    && text.as_bytes()[7].is_ascii_digit();
                if well_formed {
                    Err(VersionProblem::Unsupported)
                } else {
                    Err(VersionProblem::Malformed)
                }
            }
        }
    }
}

/// Why a version is not one this lab's server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionProblem {
    /// `HTTP/2.0`, `HTTP/1.2`: well formed, not supported (505).
    Unsupported,
    /// Not of the form `HTTP/x.y` (400).
    Malformed,
}

/// The first line of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartLine {
    /// `GET /index.html HTTP/1.1`. The version is absent in an HTTP/0.9
    /// request (`GET /`).
    Request {
        method: Span,
        target: Span,
        version: Option<Span>,
        /// More than one space somewhere between the parts.
        extra_spaces: bool,
    },
    /// `HTTP/1.1 200 OK`.
    Status {
        version: Span,
        code: Span,
        reason: Span,
    },
    /// A line that is neither.
    Invalid,
}

/// One line of the header section, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderLine {
    /// The line without its ending.
    pub content: Span,
    /// The line with its ending.
    pub whole: Span,
    pub ending: Option<LineEnding>,
    pub kind: HeaderLineKind,
}

/// What a header line turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderLineKind {
    /// `Name: value`.
    Field {
        name: Span,
        /// The colon and the whitespace around the value's start.
        separator: Span,
        value: Span,
        /// Whitespace between the name and the colon (forbidden).
        space_before_colon: bool,
    },
    /// A line starting with a space or tab: an obsolete continuation of the
    /// previous field's value (obs-fold, RFC 9112 §5.2).
    Continuation,
    /// No colon at all, like the course's `Connection close`.
    NoColon,
}

/// The head of a message: start line, header lines, and the blank line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// Empty lines before the start line (tolerated, RFC 9112 §2.2).
    pub leading: Span,
    /// The start line without its ending, and with it.
    pub start_content: Span,
    pub start_whole: Span,
    pub start_ending: Option<LineEnding>,
    pub start: StartLine,
    pub lines: Vec<HeaderLine>,
    /// The empty line that ends the head, if it was there.
    pub blank: Option<Span>,
    /// Where the body starts (or where the head stopped, if incomplete).
    pub end: usize,
}

impl Head {
    /// Whether the blank line ending the head was found.
    pub fn is_complete(&self) -> bool {
        self.blank.is_some()
    }

    /// The header fields, with their names and (unfolded) values as text.
    pub fn fields<'a>(&'a self, bytes: &'a [u8]) -> Vec<FieldRef<'a>> {
        let mut fields: Vec<FieldRef<'a>> = Vec::new();
        for line in &self.lines {
            match &line.kind {
                HeaderLineKind::Field { name, value, .. } => fields.push(FieldRef {
                    name: text(bytes, *name),
                    value: text(bytes, *value).to_string(),
                    line,
                }),
                HeaderLineKind::Continuation => {
                    if let Some(last) = fields.last_mut() {
                        let more = text(bytes, line.content).trim();
                        last.value.push(' ');
                        last.value.push_str(more);
                    }
                }
                HeaderLineKind::NoColon => {}
            }
        }
        fields
    }

    /// The text of the method, for requests.
    pub fn method<'a>(&self, bytes: &'a [u8]) -> Option<&'a str> {
        match &self.start {
            StartLine::Request { method, .. } => Some(text(bytes, *method)),
            _ => None,
        }
    }

    /// The status code, for responses.
    pub fn status(&self, bytes: &[u8]) -> Option<u16> {
        match &self.start {
            StartLine::Status { code, .. } => text(bytes, *code).parse().ok(),
            _ => None,
        }
    }

    /// The version text of the start line, if there is one.
    pub fn version_text<'a>(&self, bytes: &'a [u8]) -> Option<&'a str> {
        match &self.start {
            StartLine::Request { version, .. } => version.map(|v| text(bytes, v)),
            StartLine::Status { version, .. } => Some(text(bytes, *version)),
            StartLine::Invalid => None,
        }
    }
}

/// A header field as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRef<'a> {
    pub name: &'a str,
    /// The value, with obsolete continuation lines joined by a space.
    pub value: String,
    pub line: &'a HeaderLine,
}

/// The text of a span, or "" when it is not UTF-8 (a dissector reports that
/// separately).
pub fn text(bytes: &[u8], span: Span) -> &str {
    std::str::from_utf8(span.slice(bytes)).unwrap_or("")
}

fn is_ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Reads the head at the start of `bytes`. It stops at the first empty
/// line; without one, `blank` is `None` and every line so far is a header.
pub fn parse_head(bytes: &[u8]) -> Head {
    let lines = split_lines(bytes);
    let mut iter = lines.into_iter().peekable();
    // Empty lines before the start line.
    let mut leading_end = 0;
    while let Some((content, Some(ending))) = iter.peek().copied() {
        let stray_cr = content.len() == 1 && bytes[content.start] == b'\r';
        if content.is_empty() || stray_cr {
            leading_end = content.end + ending.len();
            iter.next();
        } else {
            break;
        }
    }
    let leading = Span::new(0, leading_end);
    let Some((start_content, start_ending)) = iter.next() else {
        return Head {
            leading,
            start_content: Span::point(leading_end),
            start_whole: Span::point(leading_end),
            start_ending: None,
            start: StartLine::Invalid,
            lines: Vec::new(),
            blank: None,
            end: bytes.len(),
        };
    };
    let start_whole = Span::new(
        start_content.start,
        start_content.end + start_ending.map_or(0, |e| e.len()),
    );
    let start = parse_start_line(bytes, start_content);
    let mut header_lines = Vec::new();
    let mut blank = None;
    let mut end = start_whole.end;
    for (content, ending) in iter {
        let whole = Span::new(content.start, content.end + ending.map_or(0, |e| e.len()));
        let is_empty = content.is_empty() || (content.len() == 1 && bytes[content.start] == b'\r');
        if is_empty && ending.is_some() {
            blank = Some(whole);
            end = whole.end;
            break;
        }
        end = whole.end;
        header_lines.push(HeaderLine {
            content,
            whole,
            ending,
            kind: classify_header_line(bytes, content),
        });
    }
    Head {
        leading,
        start_content,
        start_whole,
        start_ending,
        start,
        lines: header_lines,
        blank,
        end,
    }
}

fn classify_header_line(bytes: &[u8], content: Span) -> HeaderLineKind {
    let line = content.slice(bytes);
    if line.first().is_some_and(|&b| is_ows(b)) {
        return HeaderLineKind::Continuation;
    }
    let Some(colon) = line.iter().position(|&b| b == b':') else {
        return HeaderLineKind::NoColon;
    };
    let mut name_end = colon;
    while name_end > 0 && is_ows(line[name_end - 1]) {
        name_end -= 1;
    }
    let mut value_start = colon + 1;
    while value_start < line.len() && is_ows(line[value_start]) {
        value_start += 1;
    }
    let mut value_end = line.len();
    while value_end > value_start && is_ows(line[value_end - 1]) {
        value_end -= 1;
    }
    let base = content.start;
    HeaderLineKind::Field {
        name: Span::new(base, base + name_end),
        separator: Span::new(base + name_end, base + value_start),
        value: Span::new(base + value_start, base + value_end.max(value_start)),
        space_before_colon: name_end != colon,
    }
}

fn parse_start_line(bytes: &[u8], content: Span) -> StartLine {
    let line = content.slice(bytes);
    let base = content.start;
    // Words separated by runs of spaces, with their spans.
    let mut words = Vec::new();
    let mut i = 0;
    while i < line.len() {
        while i < line.len() && line[i] == b' ' {
            i += 1;
        }
        let start = i;
        while i < line.len() && line[i] != b' ' {
            i += 1;
        }
        if i > start {
            words.push(Span::new(base + start, base + i));
        }
    }
    let single_spaced = {
        let joined_len: usize =
            words.iter().map(Span::len).sum::<usize>() + words.len().saturating_sub(1);
        joined_len == line.len()
    };
    if line.starts_with(b"HTTP/") {
        if words.len() < 2 {
            return StartLine::Invalid;
        }
        // The reason phrase is everything after the code, spaces included.
        let code = words[1];
        let reason_start = (code.end + 1).min(base + line.len());
        return StartLine::Status {
            version: words[0],
            code,
            reason: Span::new(reason_start, base + line.len()),
        };
    }
    match words.as_slice() {
        [method, target, version] => StartLine::Request {
            method: *method,
            target: *target,
            version: Some(*version),
            extra_spaces: !single_spaced,
        },
        [method, target] => StartLine::Request {
            method: *method,
            target: *target,
            version: None,
            extra_spaces: !single_spaced,
        },
        // A target with spaces in it: the version is the last word.
        [method, .., version] if words.len() > 3 => StartLine::Request {
            method: *method,
            target: Span::new(words[1].start, words[words.len() - 2].end),
            version: Some(*version),
            extra_spaces: true,
        },
        _ => StartLine::Invalid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOMESCHOOL: &[u8] = b"GET /somedir/page.html HTTP/1.1\r\nHost: www.someschool.edu\r\nConnection: close\r\nUser-agent: Mozilla/4.0\r\nAccept-language: fr\r\n\r\n";

    #[test]
    fn request_head_with_spans() {
        let head = parse_head(SOMESCHOOL);
        assert!(head.is_complete());
        assert_eq!(head.end, SOMESCHOOL.len());
        assert_eq!(head.method(SOMESCHOOL), Some("GET"));
        assert_eq!(head.version_text(SOMESCHOOL), Some("HTTP/1.1"));
        let fields = head.fields(SOMESCHOOL);
        let names: Vec<_> = fields.iter().map(|f| f.name).collect();
        assert_eq!(
            names,
            ["Host", "Connection", "User-agent", "Accept-language"]
        );
        assert_eq!(fields[0].value, "www.someschool.edu");
        match &head.lines[0].kind {
            HeaderLineKind::Field { separator, .. } => {
                assert_eq!(separator.slice(SOMESCHOOL), b": ");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_courses_connection_close_has_no_colon() {
        let msg = b"HTTP/1.1 200 OK\r\nConnection close\r\nContent-Length: 0\r\n\r\n";
        let head = parse_head(msg);
        assert_eq!(head.lines[0].kind, HeaderLineKind::NoColon);
        assert_eq!(head.status(msg), Some(200));
        assert_eq!(head.fields(msg).len(), 1);
    }

    #[test]
    fn status_line_reason_keeps_its_spaces() {
        let msg = b"HTTP/1.0 200 Document Follows\r\n\r\n";
        let head = parse_head(msg);
        match head.start {
            StartLine::Status { reason, .. } => assert_eq!(reason.slice(msg), b"Document Follows"),
            other => panic!("{other:?}"),
        }
        let empty_reason = b"HTTP/1.1 204 \r\n\r\n";
        match parse_head(empty_reason).start {
            StartLine::Status { reason, .. } => assert!(reason.is_empty()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn folding_space_before_colon_and_bare_lf() {
        let msg = b"GET / HTTP/1.1\nHost : a\nX-Long: one\n  two\n\nbody";
        let head = parse_head(msg);
        assert!(head.is_complete());
        assert_eq!(head.end, msg.len() - 4);
        assert_eq!(head.start_ending, Some(LineEnding::BareLf));
        assert!(matches!(
            head.lines[0].kind,
            HeaderLineKind::Field {
                space_before_colon: true,
                ..
            }
        ));
        assert_eq!(head.lines[2].kind, HeaderLineKind::Continuation);
        let fields = head.fields(msg);
        assert_eq!(fields[1].value, "one two");
    }

    #[test]
    fn leading_empty_lines_and_incomplete_heads() {
        let msg = b"\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n";
        let head = parse_head(msg);
        assert_eq!(head.leading, Span::new(0, 4));
        assert!(!head.is_complete());
        assert_eq!(head.end, msg.len());
        let nothing = parse_head(b"");
        assert_eq!(nothing.start, StartLine::Invalid);
    }

    #[test]
    fn odd_request_lines() {
        let msg = b"GET /a b HTTP/1.1\r\n\r\n";
        match parse_head(msg).start {
            StartLine::Request {
                target,
                extra_spaces,
                ..
            } => {
                assert_eq!(target.slice(msg), b"/a b");
                assert!(extra_spaces);
            }
            other => panic!("{other:?}"),
        }
        let nine = b"GET /\r\n\r\n";
        assert!(matches!(
            parse_head(nine).start,
            StartLine::Request { version: None, .. }
        ));
        assert_eq!(parse_head(b"HELLO\r\n\r\n").start, StartLine::Invalid);
        assert_eq!(Version::parse("HTTP/2.0"), Err(VersionProblem::Unsupported));
        assert_eq!(Version::parse("HTTP/1"), Err(VersionProblem::Malformed));
        assert_eq!(Version::parse("HTTP/1.0"), Ok(Version::Http10));
    }
}
