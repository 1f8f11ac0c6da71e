//! FTP replies: a three-digit code and text, on one line (`331 Username OK,
//! password required`) or on several (`211-Features:` ... `211 End`), as
//! RFC 959 §4.2 defines them, and what each digit of a code means.
//!
//! [`Reply::parse`] takes one complete reply as found by
//! [`crate::ftp::frame::next_reply`]; [`Reply::to_bytes`] writes one. The
//! meaning tables serve the dissector and the page's explanations.

use crate::framing::split_lines;
use std::fmt;

/// One reply: its code and its lines of text (one for a single-line reply;
/// the first, the middle ones and the last for a multi-line reply).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub lines: Vec<String>,
}

/// Why bytes are not a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReplyError {
    #[error("empty reply")]
    Empty,
    #[error("a reply starts with a three-digit code from 100 to 599")]
    BadCode,
    #[error("after the code comes a space (last line) or a hyphen (more lines follow)")]
    BadSeparator,
    #[error("a multi-line reply ends with a line starting with the same code and a space")]
    Unterminated,
    #[error("a single-line reply is one line; more lines follow it")]
    TrailingLines,
}

impl Reply {
    /// A single-line reply.
    pub fn new(code: u16, text: impl Into<String>) -> Self {
        Reply {
            code,
            lines: vec![text.into()],
        }
    }

    /// A multi-line reply: `first` after `code-`, the `middle` lines as they
    /// are, `last` after `code `.
    pub fn multiline(code: u16, first: impl Into<String>, middle: &[String], last: &str) -> Self {
        let mut lines = vec![first.into()];
        lines.extend(middle.iter().cloned());
        lines.push(last.to_string());
        Reply { code, lines }
    }

    pub fn is_multiline(&self) -> bool {
        self.lines.len() > 1
    }

    /// The text of every line joined by newlines.
    pub fn text(&self) -> String {
        self.lines.join("\n")
    }

    /// The class of the reply, from its first digit.
    pub fn class(&self) -> ReplyClass {
        ReplyClass::of(self.code)
    }

    /// Writes the reply with CR LF line ends. A middle line that would read
    /// as the end of the reply (`211 ...`) is indented by one space, as
    /// RFC 959 §4.2 asks servers to do.
    pub fn to_bytes(&self) -> Vec<u8> {
        let code = self.code;
        let mut out = String::new();
        let strip = |s: &str| s.replace(['\r', '\n'], " ");
        match self.lines.as_slice() {
            [] => out.push_str(&format!("{code} \r\n")),
            [only] => out.push_str(&format!("{code} {}\r\n", strip(only))),
            [first, middle @ .., last] => {
                out.push_str(&format!("{code}-{}\r\n", strip(first)));
                for line in middle {
                    let line = strip(line);
                    if is_last_line(line.trim_start_matches(' ').as_bytes(), code) {
                        out.push(' ');
                    }
                    out.push_str(&line);
                    out.push_str("\r\n");
                }
                out.push_str(&format!("{code} {}\r\n", strip(last)));
            }
        }
        out.into_bytes()
    }

    /// Parses one complete reply (line endings included or not). Invalid
    /// UTF-8 in the text is replaced, the dissector says where it was.
    pub fn parse(bytes: &[u8]) -> Result<Reply, ReplyError> {
        let lines = split_lines(bytes);
        let Some((first, _)) = lines.first() else {
            return Err(ReplyError::Empty);
        };
        let first = first.slice(bytes);
        let code = parse_code(first).ok_or(ReplyError::BadCode)?;
        let text_of =
            |line: &[u8]| String::from_utf8_lossy(line.get(4..).unwrap_or(b"")).into_owned();
        match first.get(3) {
            None | Some(b' ') if lines.len() == 1 => Ok(Reply::new(code, text_of(first))),
            Some(b'-') => {
                let mut out = vec![text_of(first)];
                for (i, (span, _)) in lines.iter().enumerate().skip(1) {
                    let line = span.slice(bytes);
                    if is_last_line(line, code) {
                        out.push(text_of(line));
                        if i + 1 != lines.len() {
                            return Err(ReplyError::Unterminated);
                        }
                        return Ok(Reply { code, lines: out });
                    }
                    out.push(String::from_utf8_lossy(unindent_middle(line, code)).into_owned());
                }
                Err(ReplyError::Unterminated)
            }
            None | Some(b' ') => Err(ReplyError::TrailingLines),
            _ => Err(ReplyError::BadSeparator),
        }
    }
}

/// A middle line as its sender meant it: the one space a server adds before a
/// middle line that would otherwise read as the last line is removed.
pub fn unindent_middle(line: &[u8], code: u16) -> &[u8] {
    let trimmed = line
        .iter()
        .position(|&b| b != b' ')
        .map_or(&line[..0], |i| &line[i..]);
    match line.strip_prefix(b" ") {
        Some(rest) if is_last_line(trimmed, code) => rest,
        _ => line,
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code, self.lines.join(" / "))
    }
}

/// The code at the start of a line, if it is three digits from 100 to 599.
pub fn parse_code(line: &[u8]) -> Option<u16> {
    let digits = line.get(..3)?;
    if !digits.iter().all(u8::is_ascii_digit) || !(b'1'..=b'5').contains(&digits[0]) {
        return None;
    }
    Some(
        digits
            .iter()
            .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0')),
    )
}

/// Whether `line` ends a multi-line reply with `code`: the code then a space
/// (RFC 959 §4.2), or the code alone, which some servers send.
pub fn is_last_line(line: &[u8], code: u16) -> bool {
    parse_code(line) == Some(code) && matches!(line.get(3), None | Some(b' '))
}

/// What the first digit says (RFC 959 §4.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyClass {
    /// 1yz: the action is starting, expect another reply.
    PositivePreliminary,
    /// 2yz: done.
    PositiveCompletion,
    /// 3yz: accepted, send the next command of the sequence.
    PositiveIntermediate,
    /// 4yz: not done, but trying again may work.
    TransientNegative,
    /// 5yz: not done, and the same command will fail again.
    PermanentNegative,
    Unknown,
}

impl ReplyClass {
    pub fn of(code: u16) -> Self {
        match code / 100 {
            1 => ReplyClass::PositivePreliminary,
            2 => ReplyClass::PositiveCompletion,
            3 => ReplyClass::PositiveIntermediate,
            4 => ReplyClass::TransientNegative,
            5 => ReplyClass::PermanentNegative,
            _ => ReplyClass::Unknown,
        }
    }

    pub fn is_preliminary(&self) -> bool {
        *self == ReplyClass::PositivePreliminary
    }

    pub fn is_negative(&self) -> bool {
        matches!(
            self,
            ReplyClass::TransientNegative | ReplyClass::PermanentNegative
        )
    }
}

/// The meaning of the first digit, as a short name and an explanation.
pub fn first_digit_meaning(digit: u8) -> (&'static str, &'static str) {
    match digit {
        b'1' => (
            "Positive Preliminary",
            "the action is being started; expect another reply before sending a new command",
        ),
        b'2' => (
            "Positive Completion",
            "the requested action has been completed; a new command may be sent",
        ),
        b'3' => (
            "Positive Intermediate",
            "the command was accepted but the server needs more: send the next command of the sequence (PASS after USER, RNTO after RNFR)",
        ),
        b'4' => (
            "Transient Negative Completion",
            "the action was not taken, but the error is temporary: the same command may work later",
        ),
        b'5' => (
            "Permanent Negative Completion",
            "the action was not taken and repeating the same command will fail again",
        ),
        _ => ("Unknown", "RFC 959 defines first digits 1 to 5 only"),
    }
}

/// The meaning of the second digit (RFC 959 §4.2.1).
pub fn second_digit_meaning(digit: u8) -> (&'static str, &'static str) {
    match digit {
        b'0' => (
            "Syntax",
            "a syntax error, or a command that fits no other group",
        ),
        b'1' => (
            "Information",
            "an answer to a request for information (status, help)",
        ),
        b'2' => ("Connections", "about the control and data connections"),
        b'3' => (
            "Authentication and accounting",
            "about logging in (USER, PASS, ACCT)",
        ),
        b'4' => ("Unspecified", "RFC 959 leaves this group unspecified"),
        b'5' => (
            "File system",
            "about the file system: files, directories, space",
        ),
        _ => ("Unknown", "RFC 959 defines second digits 0 to 5 only"),
    }
}

/// The standard text of a code, with the RFC that defines it.
pub fn standard_meaning(code: u16) -> Option<(&'static str, &'static str)> {
    let m = match code {
        110 => ("Restart marker reply", "RFC 959 §4.2.2"),
        120 => ("Service ready in nnn minutes", "RFC 959 §4.2.2"),
        125 => (
            "Data connection already open; transfer starting",
            "RFC 959 §4.2.2",
        ),
        150 => (
            "File status okay; about to open data connection",
            "RFC 959 §4.2.2",
        ),
        200 => ("Command okay", "RFC 959 §4.2.2"),
        202 => (
            "Command not implemented, superfluous at this site",
            "RFC 959 §4.2.2",
        ),
        211 => ("System status, or system help reply", "RFC 959 §4.2.2"),
        212 => ("Directory status", "RFC 959 §4.2.2"),
        213 => (
            "File status (SIZE and MDTM answer with it)",
            "RFC 3659 §3, §4",
        ),
        214 => ("Help message", "RFC 959 §4.2.2"),
        215 => ("NAME system type", "RFC 959 §4.2.2"),
        220 => ("Service ready for new user", "RFC 959 §4.2.2"),
        221 => ("Service closing control connection", "RFC 959 §4.2.2"),
        225 => (
            "Data connection open; no transfer in progress",
            "RFC 959 §4.2.2",
        ),
        226 => (
            "Closing data connection; requested file action successful",
            "RFC 959 §4.2.2",
        ),
        227 => (
            "Entering Passive Mode (h1,h2,h3,h4,p1,p2)",
            "RFC 959 §4.2.2",
        ),
        229 => ("Entering Extended Passive Mode (|||port|)", "RFC 2428 §3"),
        230 => ("User logged in, proceed", "RFC 959 §4.2.2"),
        250 => ("Requested file action okay, completed", "RFC 959 §4.2.2"),
        257 => (
            "\"PATHNAME\" created (or is the current directory)",
            "RFC 959 §4.2.2",
        ),
        331 => ("User name okay, need password", "RFC 959 §4.2.2"),
        332 => ("Need account for login", "RFC 959 §4.2.2"),
        350 => (
            "Requested file action pending further information",
            "RFC 959 §4.2.2",
        ),
        421 => (
            "Service not available, closing control connection",
            "RFC 959 §4.2.2",
        ),
        425 => ("Can't open data connection", "RFC 959 §4.2.2"),
        426 => ("Connection closed; transfer aborted", "RFC 959 §4.2.2"),
        450 => (
            "Requested file action not taken: file unavailable (busy)",
            "RFC 959 §4.2.2",
        ),
        451 => (
            "Requested action aborted: local error in processing",
            "RFC 959 §4.2.2",
        ),
        452 => (
            "Requested action not taken: insufficient storage space",
            "RFC 959 §4.2.2",
        ),
        500 => ("Syntax error, command unrecognized", "RFC 959 §4.2.2"),
        501 => ("Syntax error in parameters or arguments", "RFC 959 §4.2.2"),
        502 => ("Command not implemented", "RFC 959 §4.2.2"),
        503 => ("Bad sequence of commands", "RFC 959 §4.2.2"),
        504 => (
            "Command not implemented for that parameter",
            "RFC 959 §4.2.2",
        ),
        522 => (
            "Network protocol not supported (use the one in parentheses)",
            "RFC 2428 §2",
        ),
        530 => ("Not logged in", "RFC 959 §4.2.2"),
        532 => ("Need account for storing files", "RFC 959 §4.2.2"),
        550 => (
            "Requested action not taken: file unavailable (not found, no access)",
            "RFC 959 §4.2.2",
        ),
        551 => (
            "Requested action aborted: page type unknown",
            "RFC 959 §4.2.2",
        ),
        552 => (
            "Requested file action aborted: exceeded storage allocation",
            "RFC 959 §4.2.2",
        ),
        553 => (
            "Requested action not taken: file name not allowed",
            "RFC 959 §4.2.2",
        ),
        _ => return None,
    };
    Some(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn single_line_replies() {
        let r = Reply::parse(b"331 Username OK, password required\r\n").unwrap();
        assert_eq!(r, Reply::new(331, "Username OK, password required"));
        assert_eq!(r.class(), ReplyClass::PositiveIntermediate);
        assert_eq!(r.to_bytes(), b"331 Username OK, password required\r\n");
        assert_eq!(Reply::parse(b"200\r\n").unwrap(), Reply::new(200, ""));
        assert_eq!(Reply::parse(b"2x0 hi\r\n"), Err(ReplyError::BadCode));
        assert_eq!(Reply::parse(b"650 hi\r\n"), Err(ReplyError::BadCode));
        assert_eq!(Reply::parse(b"200_hi\r\n"), Err(ReplyError::BadSeparator));
        assert_eq!(Reply::parse(b""), Err(ReplyError::Empty));
    }

    #[test]
    fn multi_line_replies() {
        let bytes = b"211-Features:\r\n EPSV\r\n MDTM\r\n211 End\r\n";
        let r = Reply::parse(bytes).unwrap();
        assert_eq!(r.lines, vec!["Features:", " EPSV", " MDTM", "End"]);
        assert_eq!(r.to_bytes(), bytes);
        assert_eq!(
            Reply::parse(b"211-a\r\nb\r\n"),
            Err(ReplyError::Unterminated)
        );
        // A middle line that looks like the end is indented when written and
        // read back without the indent.
        let tricky = Reply::multiline(214, "Help", &["214 not the end".into()], "ok");
        let bytes = tricky.to_bytes();
        assert_eq!(bytes, b"214-Help\r\n 214 not the end\r\n214 ok\r\n");
        assert_eq!(Reply::parse(&bytes).unwrap(), tricky);
    }

    #[test]
    fn digit_meanings() {
        assert_eq!(first_digit_meaning(b'4').0, "Transient Negative Completion");
        assert_eq!(second_digit_meaning(b'5').0, "File system");
        assert_eq!(
            standard_meaning(425).unwrap().0,
            "Can't open data connection"
        );
        assert!(standard_meaning(299).is_none());
    }

    proptest! {
        #[test]
        fn replies_round_trip(
            code in 100u16..600,
            lines in proptest::collection::vec("[ -~]{0,30}", 1..5),
        ) {
            let reply = Reply { code, lines };
            let bytes = reply.to_bytes();
            prop_assert_eq!(Reply::parse(&bytes).unwrap(), reply);
        }
    }
}
