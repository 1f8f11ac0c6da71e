//! The core the line protocols (SMTP, POP3, IMAP) share, so that each of
//! them only says what is its own:
//!
//! - [`follower`]: [`Transcript`], the follower of a whole session (client
//!   bytes and server bytes in, complete messages out), generic over the
//!   protocol's [`SessionRules`]: how a message is framed and what it does
//!   to the session;
//! - [`framed_len`], the bounded framing every follower uses for one side's
//!   pending bytes: a line over its limit is still taken, up to its LF, so
//!   that it shows with its error instead of blocking the session
//!   ([`command_line_len`] for command lines, [`reply_len`] for replies);
//! - [`outbox`]: [`Outbox`], the outputs an engine (client or server) has
//!   for its driver, closing once and telling each change of state;
//! - [`client`]: the client engine's loop over whole replies
//!   ([`feed_replies`]), generic over the protocol's [`LineClient`];
//! - [`dialogue`]: a course dialogue played against a server engine
//!   through the follower, as the workbench plays it ([`play_dialogue`]).

pub mod client;
pub mod dialogue;
pub mod follower;
pub mod outbox;

pub use client::{LineClient, ReplyInput, feed_replies};
pub use dialogue::{Played, play_dialogue};
pub use follower::{Seen, SessionRules, Transcript};
pub use outbox::Outbox;

use crate::framing::{Line, LineTooLong};

/// How many bytes at the front of `buf` the next message takes, from what
/// the protocol's framer said of them: `None` until one is complete. A
/// message the framer refuses (over a limit) is taken up to its LF, or
/// whole if none came yet, so that it is shown with its error.
pub fn framed_len<E>(buf: &[u8], framed: Result<Option<usize>, E>) -> Option<usize> {
    match framed {
        Ok(len) => len,
        Err(_) if buf.is_empty() => None,
        Err(_) => Some(
            buf.iter()
                .position(|&b| b == b'\n')
                .map_or(buf.len(), |p| p + 1),
        ),
    }
}

/// [`framed_len`] for the replies of SMTP and POP3: a reply the framer
/// refuses takes every byte there is, as the followers always did (after a
/// reply too long to frame there is no telling where the next one starts).
pub fn reply_len<E>(buf: &[u8], framed: Result<Option<usize>, E>) -> Option<usize> {
    match framed {
        Ok(len) => len,
        Err(_) if buf.is_empty() => None,
        Err(_) => Some(buf.len()),
    }
}

/// [`framed_len`] for a framer of single command lines.
pub fn command_line_len(
    buf: &[u8],
    next_command: impl Fn(&[u8]) -> Result<Option<Line>, LineTooLong>,
) -> Option<usize> {
    framed_len(buf, next_command(buf).map(|line| line.map(|l| l.consumed)))
}
