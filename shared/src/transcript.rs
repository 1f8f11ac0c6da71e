//! What the session followers of the line protocols (SMTP, POP3, IMAP)
//! return for each complete message of a connection: which side sent it,
//! where it starts in that side's byte stream, its dissection in the
//! context of the session, and the session state once it was handled.
//!
//! A page feeds a follower the bytes of a connection as they are sent and
//! received (`push_client` / `push_server` on
//! [`crate::smtp::SmtpTranscript`], [`crate::pop3::Pop3Transcript`] or
//! [`crate::imap::ImapTranscript`]) and shows the [`Observed`] messages
//! that come back.
//!
//! The followers are also [`Follower`]s, so a workbench can use them as a
//! [`Conversation`] through [`FollowedConversation`]: the page's generic
//! line workbench then shows their messages, their state and the
//! dissection of the line being typed in the context of the session.
//! [`Follower::replay`] follows a whole recorded conversation at once.
//!
//! The three followers are one [`crate::line_protocol::Transcript`] over
//! each protocol's rules; [`PendingBytes`] is its plumbing: one side's
//! bytes not yet part of a message, with their offset in that side's
//! stream.

use crate::conversation::{Conversation, Message, Sender};
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

/// The bytes one side sent that are not yet part of a complete message,
/// and where they start in that side's stream: what a follower keeps per
/// side. Bytes are added at the end and taken, a message at a time, from
/// the front.
#[derive(Debug, Clone, Default)]
pub struct PendingBytes {
    bytes: Vec<u8>,
    /// The stream offset of `bytes[0]`.
    offset: usize,
}

impl PendingBytes {
    pub fn extend(&mut self, bytes: &[u8]) {
        self.bytes.extend_from_slice(bytes);
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Takes the first `n` bytes as one message: their offset in the
    /// stream, and the bytes.
    pub fn take(&mut self, n: usize) -> (usize, Vec<u8>) {
        let offset = self.offset;
        self.offset += n;
        (offset, self.bytes.drain(..n).collect())
    }
}

/// A session follower of a line protocol ([`crate::smtp::SmtpTranscript`],
/// [`crate::pop3::Pop3Transcript`]), as [`FollowedConversation`] drives it.
pub trait Follower {
    type State;
    /// Bytes one side sent; the messages they completed (on either side:
    /// a reply may release client bytes the follower held).
    fn push(&mut self, side: Side, bytes: &[u8]) -> Vec<Observed<Self::State>>;
    /// The session state, as the student reads it ("recipients given").
    fn state_label(&self) -> String;
    /// What may come next in that state.
    fn state_hint(&self) -> String;
    /// The line being typed, dissected in the context of the session.
    fn dissect_draft(&self, bytes: &[u8]) -> Dissection;
    /// Bytes of `side` not yet part of a complete message.
    fn pending(&self, side: Side) -> &[u8];
    /// The dissection of those bytes, as far as they go.
    fn dissect_pending(&self, side: Side) -> Dissection;

    /// Follows a whole conversation: `(side, bytes)` in the order they
    /// crossed.
    fn replay<'a>(chunks: impl IntoIterator<Item = (Side, &'a [u8])>) -> Self
    where
        Self: Default + Sized,
    {
        let mut follower = Self::default();
        for (side, bytes) in chunks {
            follower.push(side, bytes);
        }
        follower
    }
}

fn index(side: Side) -> usize {
    match side {
        Side::Client => 0,
        Side::Server => 1,
    }
}

/// A [`Follower`] seen as a [`Conversation`]: it keeps the time of every
/// chunk, so each message gets the times of its own first and last bytes
/// (message text SMTP held until the 354 keeps the times it was typed).
pub struct FollowedConversation<F> {
    follower: F,
    /// Per side: where each chunk starts in that side's stream, and when it came.
    marks: [Vec<(usize, f64)>; 2],
    /// Per side: bytes pushed so far.
    received: [usize; 2],
    /// Per side: the stream offset up to which pending bytes were flushed
    /// as incomplete messages when the connection closed.
    flushed: [usize; 2],
}

impl<F: Follower> FollowedConversation<F> {
    pub fn new(follower: F) -> Self {
        FollowedConversation {
            follower,
            marks: [Vec::new(), Vec::new()],
            received: [0, 0],
            flushed: [0, 0],
        }
    }

    /// The follower, for what only its protocol knows (the SMTP envelope,
    /// the messages a POP3 session retrieved).
    pub fn follower(&self) -> &F {
        &self.follower
    }

    /// When the byte at `offset` of `side`'s stream arrived.
    fn time_at(&self, side: Side, offset: usize) -> f64 {
        let marks = &self.marks[index(side)];
        let after = marks.partition_point(|(start, _)| *start <= offset);
        marks.get(after.saturating_sub(1)).map_or(0.0, |(_, t)| *t)
    }

    fn push(&mut self, side: Side, bytes: &[u8], t_ms: f64) -> Vec<Message> {
        if bytes.is_empty() {
            return Vec::new();
        }
        let i = index(side);
        self.marks[i].push((self.received[i], t_ms));
        self.received[i] += bytes.len();
        let observed = self.follower.push(side, bytes);
        observed
            .into_iter()
            .map(|o| {
                let last = o.offset + o.bytes.len().max(1) - 1;
                Message {
                    sender: sender(o.side),
                    first_ms: self.time_at(o.side, o.offset),
                    last_ms: self.time_at(o.side, last),
                    bytes: o.bytes,
                    dissection: o.dissection,
                    complete: true,
                }
            })
            .collect()
    }

    /// The incomplete message of `side`, unless it was flushed already.
    fn pending_message(&self, side: Side) -> Option<Message> {
        let i = index(side);
        let pending = self.follower.pending(side);
        if pending.is_empty() || self.flushed[i] >= self.received[i] {
            return None;
        }
        let start = self.received[i] - pending.len();
        Some(Message {
            sender: sender(side),
            bytes: pending.to_vec(),
            first_ms: self.time_at(side, start),
            last_ms: self.time_at(side, self.received[i] - 1),
            dissection: self.follower.dissect_pending(side),
            complete: false,
        })
    }
}

fn sender(side: Side) -> Sender {
    match side {
        Side::Client => Sender::Client,
        Side::Server => Sender::Server,
    }
}

impl<F: Follower> Conversation for FollowedConversation<F> {
    fn client_bytes(&mut self, bytes: &[u8], t_ms: f64) -> Vec<Message> {
        self.push(Side::Client, bytes, t_ms)
    }

    fn server_bytes(&mut self, bytes: &[u8], t_ms: f64) -> Vec<Message> {
        self.push(Side::Server, bytes, t_ms)
    }

    fn closed(&mut self, _t_ms: f64) -> Vec<Message> {
        let out: Vec<Message> = [Side::Client, Side::Server]
            .into_iter()
            .filter_map(|side| self.pending_message(side))
            .collect();
        self.flushed = self.received;
        out
    }

    fn state(&self) -> Option<String> {
        Some(self.follower.state_label())
    }

    fn state_hint(&self) -> Option<String> {
        Some(self.follower.state_hint())
    }

    fn dissect_draft(&self, bytes: &[u8]) -> Option<Dissection> {
        Some(self.follower.dissect_draft(bytes))
    }

    fn in_progress(&self) -> Vec<Message> {
        [Side::Client, Side::Server]
            .into_iter()
            .filter_map(|side| self.pending_message(side))
            .collect()
    }
}
