//! POP3 framing: command lines (RFC 2449 §4 allows 255 octets with CR LF),
//! and replies, whose end depends on the command they answer: a positive
//! reply to RETR, TOP, CAPA and argument-less LIST and UIDL runs to a line
//! with a single dot, everything else is one line.
//!
//! Both return `Ok(None)` until a whole message is in the buffer.

use crate::framing::{Line, LineTooLong, next_line};
use crate::stuffing::find_end_from;

/// RFC 2449 §4: a command line is at most 255 octets with its CR LF.
pub const MAX_COMMAND_LINE: usize = 253;
/// The framer's hard limit for a command line.
pub const COMMAND_LINE_LIMIT: usize = 1024;
/// RFC 2449 §4: the first line of a reply is at most 512 octets.
pub const MAX_STATUS_LINE: usize = 510;

/// The next command line.
pub fn next_command(buf: &[u8]) -> Result<Option<Line>, LineTooLong> {
    next_line(buf, COMMAND_LINE_LIMIT)
}

/// The length of the next complete reply; `multiline` says whether a
/// positive reply to the pending command has a body.
pub fn next_reply(buf: &[u8], multiline: bool) -> Result<Option<usize>, LineTooLong> {
    next_reply_resuming(buf, multiline, &mut 0)
}

/// [`next_reply`] for a buffer that grows, so that a long RETR arriving in
/// pieces is scanned once: `scanned` remembers how far a previous call
/// looked (start at 0, and set it back to 0 once a reply is taken).
pub fn next_reply_resuming(
    buf: &[u8],
    multiline: bool,
    scanned: &mut usize,
) -> Result<Option<usize>, LineTooLong> {
    let Some(line) = next_line(buf, COMMAND_LINE_LIMIT)? else {
        return Ok(None);
    };
    if !multiline || !buf.starts_with(b"+OK") {
        return Ok(Some(line.consumed));
    }
    let body = &buf[line.consumed..];
    match find_end_from(body, scanned.saturating_sub(line.consumed)) {
        Some(end) => Ok(Some(line.consumed + end.len)),
        None => {
            *scanned = buf.len();
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pop3::reply::Reply;
    use proptest::prelude::*;

    #[test]
    fn replies_end_where_the_command_says() {
        let list = b"+OK 2 messages\r\n1 498\r\n2 912\r\n.\r\n+OK";
        assert_eq!(next_reply(list, true), Ok(Some(33)));
        assert_eq!(next_reply(list, false), Ok(Some(16)));
        assert_eq!(
            next_reply(b"-ERR no such message\r\n1 2\r\n", true),
            Ok(Some(22))
        );
        assert_eq!(next_reply(b"+OK\r\n.\r\n", true), Ok(Some(8)));
        assert_eq!(next_reply(b"+OK\r\nabc\r\n", true), Ok(None));
    }

    proptest! {
        #[test]
        fn every_strict_prefix_of_a_reply_is_partial(lines in proptest::collection::vec("[ -~.]{0,10}", 0..6), text in "[ -~]{0,20}") {
            let body: Vec<u8> = lines.iter().flat_map(|l| format!("{l}\r\n").into_bytes()).collect();
            let bytes = Reply::ok(text).with_body(body).to_bytes();
            let mut scanned = 0;
            for cut in 0..bytes.len() {
                prop_assert_eq!(next_reply(&bytes[..cut], true), Ok(None));
                prop_assert_eq!(next_reply_resuming(&bytes[..cut], true, &mut scanned), Ok(None));
            }
            prop_assert_eq!(next_reply(&bytes, true), Ok(Some(bytes.len())));
            prop_assert_eq!(next_reply_resuming(&bytes, true, &mut scanned), Ok(Some(bytes.len())));
        }
    }
}
