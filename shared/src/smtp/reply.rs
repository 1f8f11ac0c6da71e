//! SMTP replies (RFC 5321 §4.2): a three-digit code and text, on one line
//! or on several (`250-` continues, `250 ` ends), with the enhanced status
//! codes of RFC 3463 (`2.1.0`) when a server uses them.
//!
//! [`Reply::parse`] takes one complete reply (see [`super::frame`]);
//! [`Reply::to_bytes`] writes one. The meaning tables explain codes to the
//! student.

use crate::dissect::Span;
use crate::framing::split_lines;

/// One SMTP reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    /// The text of each line, after the code and its separator.
    pub lines: Vec<String>,
}

/// Why bytes are not a well-formed reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReplyError {
    #[error("the reply is empty")]
    Empty,
    #[error("a reply line starts with a three-digit code, this one does not")]
    BadCode { span: Span },
    #[error("the code is followed by '-' (more lines) or a space (last line), not {found:?}")]
    BadSeparator { span: Span, found: char },
    #[error("every line of a multi-line reply has the same code")]
    MixedCodes { span: Span },
    #[error("the last line of the reply still says '-' (more to come)")]
    Unfinished { span: Span },
    #[error("the reply goes on after its last line")]
    TrailingData { span: Span },
}

impl Reply {
    pub fn new(code: u16, text: impl Into<String>) -> Reply {
        Reply {
            code,
            lines: vec![text.into()],
        }
    }

    pub fn multiline(code: u16, lines: Vec<String>) -> Reply {
        Reply { code, lines }
    }

    /// 2xx: the command was done.
    pub fn is_positive(&self) -> bool {
        (200..300).contains(&self.code)
    }

    /// The text of all lines, joined by spaces.
    pub fn text(&self) -> String {
        self.lines.join(" ")
    }

    /// The enhanced status code at the start of the first line, if any.
    pub fn enhanced(&self) -> Option<(u8, u16, u16)> {
        self.lines
            .first()
            .and_then(|l| parse_enhanced(l).map(|(c, _)| c))
    }

    /// The wire form.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = String::new();
        let n = self.lines.len().max(1);
        for i in 0..n {
            let text = self.lines.get(i).map(String::as_str).unwrap_or("");
            let last = i + 1 == n;
            match (last, text.is_empty()) {
                (true, true) => out.push_str(&format!("{}\r\n", self.code)),
                (true, false) => out.push_str(&format!("{} {text}\r\n", self.code)),
                (false, _) => out.push_str(&format!("{}-{text}\r\n", self.code)),
            }
        }
        out.into_bytes()
    }

    /// Parses one complete reply.
    pub fn parse(bytes: &[u8]) -> Result<Reply, ReplyError> {
        let lines = split_lines(bytes);
        if lines.is_empty() {
            return Err(ReplyError::Empty);
        }
        let mut code = None;
        let mut texts = Vec::new();
        for (i, (content, _)) in lines.iter().enumerate() {
            let line = content.slice(bytes);
            let last = i + 1 == lines.len();
            let digits = line.get(..3).filter(|d| d.iter().all(u8::is_ascii_digit));
            let Some(digits) = digits else {
                return Err(ReplyError::BadCode {
                    span: Span::new(content.start, content.start + line.len().min(3)),
                });
            };
            let this: u16 = std::str::from_utf8(digits)
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            if *code.get_or_insert(this) != this {
                return Err(ReplyError::MixedCodes {
                    span: Span::new(content.start, content.start + 3),
                });
            }
            let sep = line.get(3).copied();
            let text_start = match sep {
                None => 3,
                Some(b' ') => 4,
                Some(b'-') if !last => 4,
                Some(b'-') => {
                    return Err(ReplyError::Unfinished {
                        span: Span::new(content.start + 3, content.start + 4),
                    });
                }
                Some(other) => {
                    return Err(ReplyError::BadSeparator {
                        span: Span::new(content.start + 3, content.start + 4),
                        found: other as char,
                    });
                }
            };
            if !last && sep != Some(b'-') {
                return Err(ReplyError::TrailingData {
                    span: Span::new(lines[i + 1].0.start, bytes.len()),
                });
            }
            texts.push(String::from_utf8_lossy(&line[text_start.min(line.len())..]).into_owned());
        }
        Ok(Reply {
            code: code.unwrap_or(0),
            lines: texts,
        })
    }
}

/// `2.1.0 text` → ((2, 1, 0), length of "2.1.0").
pub fn parse_enhanced(text: &str) -> Option<((u8, u16, u16), usize)> {
    let token = text.split(' ').next()?;
    let mut parts = token.split('.');
    let class: u8 = parts.next()?.parse().ok()?;
    let subject: u16 = parts.next()?.parse().ok()?;
    let detail: u16 = parts.next()?.parse().ok()?;
    if parts.next().is_some() || !matches!(class, 2 | 4 | 5) || token.len() > 11 {
        return None;
    }
    Some(((class, subject, detail), token.len()))
}

/// What a reply code means (RFC 5321 §4.2.2, §4.2.3).
pub fn code_meaning(code: u16) -> &'static str {
    match code {
        211 => "System status, or system help reply",
        214 => "Help message",
        220 => "Service ready: the server's greeting",
        221 => "Service closing transmission channel",
        235 => "Authentication succeeded",
        250 => "Requested mail action okay, completed",
        251 => "User not local; will forward",
        252 => "Cannot verify the user, but will accept the message and attempt delivery",
        334 => "Authentication challenge",
        354 => "Start mail input; end with <CRLF>.<CRLF>",
        421 => "Service not available, closing transmission channel",
        450 => "Requested mail action not taken: mailbox unavailable (busy), try again later",
        451 => "Requested action aborted: local error in processing",
        452 => "Requested action not taken: insufficient system storage",
        455 => "Server unable to accommodate parameters",
        500 => "Syntax error, command unrecognized",
        501 => "Syntax error in parameters or arguments",
        502 => "Command not implemented",
        503 => "Bad sequence of commands",
        504 => "Command parameter not implemented",
        550 => {
            "Requested action not taken: mailbox unavailable (not found, no access, or refused by policy)"
        }
        551 => "User not local",
        552 => "Requested mail action aborted: exceeded storage allocation",
        553 => "Requested action not taken: mailbox name not allowed",
        554 => "Transaction failed",
        555 => "MAIL FROM/RCPT TO parameters not recognized or not implemented",
        _ => match code / 100 {
            2 => "Positive completion",
            3 => "Positive intermediate: send more",
            4 => "Transient negative completion: try again later",
            5 => "Permanent negative completion: do not repeat as is",
            _ => "Not a valid SMTP reply code (they run from 200 to 599)",
        },
    }
}

/// What the first and second digits say (RFC 5321 §4.2.1).
pub fn digits_meaning(code: u16) -> String {
    let first = match code / 100 {
        2 => "2yz positive completion",
        3 => "3yz positive intermediate",
        4 => "4yz transient failure (try again)",
        5 => "5yz permanent failure",
        _ => "not a valid first digit",
    };
    let second = match code / 10 % 10 {
        0 => "x0z syntax",
        1 => "x1z information",
        2 => "x2z connections",
        5 => "x5z mail system",
        _ => "x?z unspecified",
    };
    format!("{first}; {second}")
}

/// What an enhanced status code means (RFC 3463, RFC 5248).
pub fn enhanced_meaning((class, subject, detail): (u8, u16, u16)) -> String {
    let c = match class {
        2 => "success",
        4 => "persistent transient failure",
        _ => "permanent failure",
    };
    let s = match subject {
        0 => "other or undefined status",
        1 => "addressing",
        2 => "mailbox",
        3 => "mail system",
        4 => "network and routing",
        5 => "mail delivery protocol",
        6 => "message content or media",
        7 => "security or policy",
        _ => "unknown subject",
    };
    let d = match (subject, detail) {
        (0, 0) => "",
        (1, 0) => ": other address status",
        (1, 1) => ": bad destination mailbox address",
        (1, 3) => ": bad destination mailbox address syntax",
        (1, 5) => ": destination address valid",
        (1, 7) => ": bad sender's mailbox address syntax",
        (2, 2) => ": mailbox full",
        (3, 4) => ": message too big for system",
        (5, 1) => ": invalid command",
        (5, 2) => ": syntax error",
        (5, 3) => ": too many recipients",
        (5, 4) => ": invalid command arguments",
        (6, 0) => ": other or undefined media error",
        (7, 1) => ": delivery not authorized, message refused",
        _ => "",
    };
    format!("{class}.{subject}.{detail}: {c}, {s}{d}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_course_replies() {
        let r = Reply::parse(b"250 Hello crepes.fr, pleased to meet you\r\n").unwrap();
        assert_eq!(r.code, 250);
        assert_eq!(r.text(), "Hello crepes.fr, pleased to meet you");
        let r = Reply::parse(b"354 Enter mail, end with \".\" on a line by itself\r\n").unwrap();
        assert_eq!(r.code, 354);
        assert!(Reply::parse(b"550 No such user here\r\n").unwrap().lines == ["No such user here"]);
    }

    #[test]
    fn multiline_and_enhanced() {
        let bytes = b"250-hamburger.edu\r\n250-SIZE 1000\r\n250 8BITMIME\r\n";
        let r = Reply::parse(bytes).unwrap();
        assert_eq!(r.lines, ["hamburger.edu", "SIZE 1000", "8BITMIME"]);
        assert_eq!(r.to_bytes(), bytes);
        let r = Reply::new(550, "5.1.1 No such user here");
        assert_eq!(r.enhanced(), Some((5, 1, 1)));
        assert!(enhanced_meaning((5, 1, 1)).contains("bad destination mailbox"));
        assert_eq!(Reply::parse(b"250\r\n").unwrap().lines, [""]);
    }

    #[test]
    fn malformed_replies() {
        assert!(matches!(Reply::parse(b""), Err(ReplyError::Empty)));
        assert!(matches!(
            Reply::parse(b"OK\r\n"),
            Err(ReplyError::BadCode { .. })
        ));
        assert!(matches!(
            Reply::parse(b"250-a\r\n251 b\r\n"),
            Err(ReplyError::MixedCodes { .. })
        ));
        assert!(matches!(
            Reply::parse(b"250-a\r\n"),
            Err(ReplyError::Unfinished { .. })
        ));
        assert!(matches!(
            Reply::parse(b"250:a\r\n"),
            Err(ReplyError::BadSeparator { found: ':', .. })
        ));
        assert!(matches!(
            Reply::parse(b"250 a\r\n250 b\r\n"),
            Err(ReplyError::TrailingData { .. })
        ));
        assert!(code_meaning(999).contains("Not a valid"));
        assert!(digits_meaning(550).contains("permanent"));
    }

    pub(crate) fn reply() -> impl Strategy<Value = Reply> {
        (
            200u16..600,
            proptest::collection::vec("([!-~][ -~]{0,30})?", 1..4),
        )
            .prop_map(|(code, lines)| Reply { code, lines })
        // A last line without text and a first line "x" round-trip the same way.
    }

    proptest! {
        #[test]
        fn replies_round_trip(r in reply()) {
            let bytes = r.to_bytes();
            prop_assert_eq!(Reply::parse(&bytes), Ok(r));
        }
    }
}
