//! The session follower of a line protocol, once for all three: it keeps
//! each side's bytes not yet part of a message, asks the protocol's
//! [`SessionRules`] whether a complete message is at their front, hands
//! each one to the rules to be dissected in the context of the session, and
//! records it as an [`Observed`] message with its offset in its side's
//! stream.
//!
//! Server bytes may release client bytes the rules held back (SMTP's
//! message text waits for the 354 that says it is text), so after the
//! server's messages the client's side is looked at again.

use crate::dissect::Dissection;
use crate::transcript::{Follower, Observed, PendingBytes, Side};

/// What one protocol knows of its sessions; [`Transcript`] does the rest.
pub trait SessionRules: Default {
    type State: Clone;

    /// The length of the complete message of `side` at the front of
    /// `pending`, or `None` while it is incomplete (or held back).
    fn next_message(&mut self, side: Side, pending: &[u8]) -> Option<usize>;

    /// One complete message of `side`, after every message in `history`
    /// (so its index is `history.len()`): how it reads in the session, and
    /// what it does to it.
    fn observe(
        &mut self,
        side: Side,
        bytes: &[u8],
        history: &[Observed<Self::State>],
    ) -> Seen<Self::State>;

    /// The state the messages so far have confirmed.
    fn state(&self) -> Self::State;
    /// That state, as the student reads it.
    fn state_label(&self) -> String;
    /// What may come next in that state.
    fn state_hint(&self) -> String;
    /// The line being typed, dissected in the context of the session.
    fn dissect_draft(&self, bytes: &[u8]) -> Dissection;
    /// The bytes of `side` not yet a complete message, as far as they go.
    fn dissect_pending(&self, side: Side, pending: &[u8]) -> Dissection;
}

/// How the rules read one complete message.
#[derive(Debug, Clone)]
pub struct Seen<S> {
    /// "greeting", "command", "reply", "data", ...
    pub kind: &'static str,
    pub dissection: Dissection,
    /// The session state after it.
    pub state: S,
    /// For a reply: the index of the command it answers.
    pub answers: Option<usize>,
}

/// The follower of one connection of the protocol whose rules are `R`.
#[derive(Debug, Clone)]
pub struct Transcript<R: SessionRules> {
    rules: R,
    messages: Vec<Observed<R::State>>,
    client: PendingBytes,
    server: PendingBytes,
}

impl<R: SessionRules> Default for Transcript<R> {
    fn default() -> Self {
        Transcript::new()
    }
}

impl<R: SessionRules> Transcript<R> {
    pub fn new() -> Self {
        Transcript {
            rules: R::default(),
            messages: Vec::new(),
            client: PendingBytes::default(),
            server: PendingBytes::default(),
        }
    }

    /// The state the server's replies have confirmed so far.
    pub fn state(&self) -> R::State {
        self.rules.state()
    }

    /// Every complete message so far.
    pub fn messages(&self) -> &[Observed<R::State>] {
        &self.messages
    }

    /// Client bytes not yet part of a complete message.
    pub fn pending_client(&self) -> &[u8] {
        self.client.bytes()
    }

    /// Server bytes not yet part of a complete message.
    pub fn pending_server(&self) -> &[u8] {
        self.server.bytes()
    }

    /// The protocol's own view of the session.
    pub fn rules(&self) -> &R {
        &self.rules
    }

    /// Bytes the client sent; returns the messages they completed.
    pub fn push_client(&mut self, bytes: &[u8]) -> Vec<Observed<R::State>> {
        self.push(Side::Client, bytes)
    }

    /// Bytes the server sent; returns the messages they completed (held
    /// client bytes they release included).
    pub fn push_server(&mut self, bytes: &[u8]) -> Vec<Observed<R::State>> {
        self.push(Side::Server, bytes)
    }

    /// Dissects what the student is typing, in the context of the session.
    pub fn dissect_draft(&self, bytes: &[u8]) -> Dissection {
        self.rules.dissect_draft(bytes)
    }

    fn push(&mut self, side: Side, bytes: &[u8]) -> Vec<Observed<R::State>> {
        let before = self.messages.len();
        self.pending_mut(side).extend(bytes);
        self.take_messages(side);
        if side == Side::Server {
            self.take_messages(Side::Client);
        }
        self.messages[before..].to_vec()
    }

    fn pending_mut(&mut self, side: Side) -> &mut PendingBytes {
        match side {
            Side::Client => &mut self.client,
            Side::Server => &mut self.server,
        }
    }

    /// Every complete message at the front of `side`'s pending bytes.
    fn take_messages(&mut self, side: Side) {
        loop {
            let pending = match side {
                Side::Client => &self.client,
                Side::Server => &self.server,
            };
            let Some(len) = self.rules.next_message(side, pending.bytes()) else {
                return;
            };
            let (offset, bytes) = self.pending_mut(side).take(len);
            let seen = self.rules.observe(side, &bytes, &self.messages);
            self.messages.push(Observed {
                side,
                offset,
                bytes,
                kind: seen.kind.into(),
                dissection: seen.dissection,
                state: seen.state,
                answers: seen.answers,
            });
        }
    }
}

impl<R: SessionRules> Follower for Transcript<R> {
    type State = R::State;

    fn push(&mut self, side: Side, bytes: &[u8]) -> Vec<Observed<R::State>> {
        Transcript::push(self, side, bytes)
    }

    fn state_label(&self) -> String {
        self.rules.state_label()
    }

    fn state_hint(&self) -> String {
        self.rules.state_hint()
    }

    fn dissect_draft(&self, bytes: &[u8]) -> Dissection {
        self.rules.dissect_draft(bytes)
    }

    fn pending(&self, side: Side) -> &[u8] {
        match side {
            Side::Client => self.client.bytes(),
            Side::Server => self.server.bytes(),
        }
    }

    fn dissect_pending(&self, side: Side) -> Dissection {
        self.rules.dissect_pending(side, self.pending(side))
    }
}
