//! POP3 replies (RFC 1939 §3, RFC 2449): a status indicator `+OK` or
//! `-ERR`, text that may start with a `[RESPONSE-CODE]`, and for some
//! commands a multi-line body ended by a line with a single dot, with
//! byte-stuffing of lines that start with a dot.
//!
//! Whether a reply is multi-line depends on the command it answers
//! ([`super::Command::expects_multiline`]), so parsing takes that as an
//! argument; see [`super::frame::next_reply`] for framing.

use crate::stuffing::{find_end, stuff, unstuff};

/// One POP3 reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub ok: bool,
    /// The text after the status indicator (and its space).
    pub text: String,
    /// The multi-line body, unstuffed, each line with its CR LF.
    pub body: Option<Vec<u8>>,
}

/// Why bytes are not a well-formed reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReplyError {
    #[error("a POP3 reply starts with +OK or -ERR")]
    BadStatus,
    #[error("the first line has no CR LF")]
    NoLineEnd,
    #[error("the multi-line reply has no final '.' line")]
    Unterminated,
}

impl Reply {
    pub fn ok(text: impl Into<String>) -> Reply {
        Reply {
            ok: true,
            text: text.into(),
            body: None,
        }
    }

    pub fn err(text: impl Into<String>) -> Reply {
        Reply {
            ok: false,
            text: text.into(),
            body: None,
        }
    }

    pub fn with_body(mut self, body: Vec<u8>) -> Reply {
        self.body = Some(body);
        self
    }

    /// The response code in brackets at the start of the text (RFC 2449 §8).
    pub fn response_code(&self) -> Option<&str> {
        let rest = self.text.strip_prefix('[')?;
        rest.split_once(']').map(|(code, _)| code)
    }

    /// The wire form: the status line, and the stuffed body with its final
    /// dot line when there is one.
    pub fn to_bytes(&self) -> Vec<u8> {
        let status = if self.ok { "+OK" } else { "-ERR" };
        let mut out = if self.text.is_empty() {
            format!("{status}\r\n")
        } else {
            format!("{status} {}\r\n", self.text)
        }
        .into_bytes();
        if let Some(body) = &self.body {
            out.extend(stuff(body));
        }
        out
    }

    /// Parses one complete reply; `multiline` says whether a positive reply
    /// has a body (it depends on the command).
    pub fn parse(bytes: &[u8], multiline: bool) -> Result<Reply, ReplyError> {
        let lf = bytes
            .iter()
            .position(|&b| b == b'\n')
            .ok_or(ReplyError::NoLineEnd)?;
        let line_end = if lf > 0 && bytes[lf - 1] == b'\r' {
            lf - 1
        } else {
            lf
        };
        let line = &bytes[..line_end];
        let (ok, rest) = if let Some(r) = line.strip_prefix(b"+OK") {
            (true, r)
        } else if let Some(r) = line.strip_prefix(b"-ERR") {
            (false, r)
        } else {
            return Err(ReplyError::BadStatus);
        };
        if !rest.is_empty() && rest[0] != b' ' {
            return Err(ReplyError::BadStatus);
        }
        let text = String::from_utf8_lossy(rest.strip_prefix(b" ").unwrap_or(rest)).into_owned();
        let body = if ok && multiline {
            let after = &bytes[lf + 1..];
            let end = find_end(after).ok_or(ReplyError::Unterminated)?;
            Some(unstuff(&after[..end.content_end]).0)
        } else {
            None
        };
        Ok(Reply { ok, text, body })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_course_replies() {
        assert_eq!(
            Reply::parse(b"+OK POP3 server ready\r\n", false).unwrap(),
            Reply::ok("POP3 server ready")
        );
        assert_eq!(Reply::parse(b"+OK\r\n", false).unwrap(), Reply::ok(""));
        let r = Reply::parse(b"+OK 2 messages\r\n1 498\r\n2 912\r\n.\r\n", true).unwrap();
        assert_eq!(r.body.as_deref(), Some(&b"1 498\r\n2 912\r\n"[..]));
        let r = Reply::err("[IN-USE] mailbox locked");
        assert_eq!(r.response_code(), Some("IN-USE"));
        assert_eq!(r.to_bytes(), b"-ERR [IN-USE] mailbox locked\r\n");
    }

    #[test]
    fn malformed() {
        assert_eq!(Reply::parse(b"OK\r\n", false), Err(ReplyError::BadStatus));
        assert_eq!(
            Reply::parse(b"+OKAY\r\n", false),
            Err(ReplyError::BadStatus)
        );
        assert_eq!(Reply::parse(b"+OK", false), Err(ReplyError::NoLineEnd));
        assert_eq!(
            Reply::parse(b"+OK\r\nabc\r\n", true),
            Err(ReplyError::Unterminated)
        );
        // A negative reply is never multi-line.
        assert_eq!(Reply::parse(b"-ERR no\r\n", true).unwrap().body, None);
    }

    pub(crate) fn reply() -> impl Strategy<Value = Reply> {
        (
            any::<bool>(),
            "([!-~][ -~]{0,30})?",
            proptest::option::of(proptest::collection::vec("[ -~]{0,12}", 0..5)),
        )
            .prop_map(|(ok, text, body)| Reply {
                ok,
                text,
                body: if ok {
                    body.map(|lines| {
                        lines
                            .iter()
                            .flat_map(|l| format!("{l}\r\n").into_bytes())
                            .collect()
                    })
                } else {
                    None
                },
            })
    }

    proptest! {
        #[test]
        fn replies_round_trip(r in reply()) {
            let bytes = r.to_bytes();
            prop_assert_eq!(Reply::parse(&bytes, r.body.is_some()), Ok(r));
        }
    }
}
