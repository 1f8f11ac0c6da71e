//! What a line protocol's engine has for its driver: the outputs of the
//! [`Engine`](crate::engine::Engine) contract in the order they were made,
//! and whether the engine has closed. Every client and server engine of
//! SMTP, POP3 and IMAP keeps one, so closing happens once and a state
//! change is told as an event the same way in all of them.

use crate::engine::{Millis, Output};
use std::collections::VecDeque;

/// An engine's outputs not yet polled, and whether it closed.
#[derive(Debug)]
pub struct Outbox<E> {
    queue: VecDeque<Output<E>>,
    closed: bool,
}

impl<E> Default for Outbox<E> {
    fn default() -> Self {
        Outbox {
            queue: VecDeque::new(),
            closed: false,
        }
    }
}

impl<E> Outbox<E> {
    /// Bytes for the peer.
    pub fn transmit(&mut self, bytes: Vec<u8>) {
        self.queue.push_back(Output::Transmit(bytes));
    }

    /// Something for the driver to show or log.
    pub fn event(&mut self, event: E) {
        self.queue.push_back(Output::Event(event));
    }

    /// Asks the driver to close, once: `last_words` queue what goes out
    /// before the close (the engine's last state), then the close. A
    /// second call does nothing and returns false, so an engine tidies up
    /// (releases a lock) only on the call that returns true.
    pub fn close(&mut self, last_words: impl FnOnce(&mut Self)) -> bool {
        if self.closed {
            return false;
        }
        self.closed = true;
        last_words(self);
        self.queue.push_back(Output::Close);
        true
    }

    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Whether every output was polled.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// The next output, or, when there is none, `Wait` for `deadline`.
    pub fn poll(&mut self, deadline: Option<Millis>) -> Output<E> {
        self.queue.pop_front().unwrap_or(Output::Wait(deadline))
    }

    /// Moves `state` to `next`, telling the driver as `as_event(next)` when
    /// it changed (and only then).
    pub fn set_state<S: PartialEq + Copy>(
        &mut self,
        state: &mut S,
        next: S,
        as_event: impl FnOnce(S) -> E,
    ) {
        if *state != next {
            *state = next;
            self.event(as_event(next));
        }
    }
}
