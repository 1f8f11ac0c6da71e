//! What the session followers of the line protocols (SMTP, POP3) return for
//! each complete message of a connection: which side sent it, where it
//! starts in that side's byte stream, its dissection in the context of the
//! session, and the session state once it was handled.
//!
//! A page feeds a follower the bytes of a connection as they are sent and
//! received (`push_client` / `push_server` on [`crate::smtp::SmtpTranscript`]
//! or [`crate::pop3::Pop3Transcript`]) and shows the [`Observed`] messages
//! that come back.

use crate::dissect::Dissection;
use serde::{Deserialize, Serialize};

/// Who sent a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Client,
    Server,
}

/// One complete message of a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observed<S> {
    pub side: Side,
    /// Offset of the first byte in the stream this side sent.
    pub offset: usize,
    pub bytes: Vec<u8>,
    /// "greeting", "command", "reply", "data" (SMTP's message text).
    pub kind: String,
    pub dissection: Dissection,
    /// The session state after this message.
    pub state: S,
    /// For a reply: the index (in the transcript) of the command it answers.
    pub answers: Option<usize>,
}
