//! The sans-IO engine contract every protocol state machine follows.
//!
//! An engine never touches a socket or a clock. Its driver (a tokio task in
//! the relay, a WebAssembly closure in the page, a plain loop in a test) feeds
//! it the bytes that arrived with [`Engine::handle_input`], tells it about the
//! peer's end of stream with [`Engine::handle_eof`] and about expired deadlines
//! with [`Engine::handle_timeout`], passing the current time each time. After
//! every `handle_*` call the driver must drain [`Engine::poll_output`] until it
//! returns [`Output::Wait`], sending each [`Output::Transmit`] in order,
//! showing or logging each [`Output::Event`], and closing on [`Output::Close`].
//! The `Wait` carries the next deadline, if any, at which the driver calls
//! `handle_timeout`.
//!
//! Datagram engines (UDP) use the same contract: one `handle_input` per
//! datagram received, one datagram per `Transmit`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Milliseconds on the driver's monotonic clock. Engines only compare and
/// add them; where zero is does not matter.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct Millis(pub u64);

impl Millis {
    pub fn saturating_add(self, ms: u64) -> Millis {
        Millis(self.0.saturating_add(ms))
    }
}

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ms", self.0)
    }
}

/// What an engine wants its driver to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output<E> {
    /// Send these bytes to the peer (one datagram for datagram engines).
    Transmit(Vec<u8>),
    /// Something happened that the driver may show or log.
    Event(E),
    /// Close the connection after everything transmitted so far.
    Close,
    /// Nothing more to do until input arrives or, if given, until this time.
    Wait(Option<Millis>),
}

/// A sans-IO protocol state machine. See the module docs for the driving loop.
pub trait Engine {
    /// What the engine reports besides bytes: a parsed command, a state change.
    type Event;

    /// Feed bytes received from the peer.
    fn handle_input(&mut self, bytes: &[u8], now: Millis);

    /// The peer closed its side (TCP FIN).
    fn handle_eof(&mut self, now: Millis);

    /// A deadline returned in [`Output::Wait`] has passed.
    fn handle_timeout(&mut self, now: Millis) {
        let _ = now;
    }

    /// Drain after every `handle_*` call until it returns [`Output::Wait`].
    fn poll_output(&mut self) -> Output<Self::Event>;
}

/// What a test or a simple driver collects from draining an engine once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drained<E> {
    pub transmitted: Vec<Vec<u8>>,
    pub events: Vec<E>,
    pub close: bool,
    pub deadline: Option<Millis>,
}

impl<E> Drained<E> {
    /// All transmitted bytes joined, for stream engines.
    pub fn bytes(&self) -> Vec<u8> {
        self.transmitted.concat()
    }
}

/// Drains `engine` until it waits. An engine that never waits is a bug; the
/// bound turns that bug into a panic in tests instead of a hang.
pub fn drain<G: Engine + ?Sized>(engine: &mut G) -> Drained<G::Event> {
    const MAX_OUTPUTS: usize = 1_000_000;
    let mut out = Drained {
        transmitted: Vec::new(),
        events: Vec::new(),
        close: false,
        deadline: None,
    };
    for _ in 0..MAX_OUTPUTS {
        match engine.poll_output() {
            Output::Transmit(bytes) => out.transmitted.push(bytes),
            Output::Event(e) => out.events.push(e),
            Output::Close => out.close = true,
            Output::Wait(deadline) => {
                out.deadline = deadline;
                return out;
            }
        }
    }
    panic!("engine produced {MAX_OUTPUTS} outputs without waiting");
}

/// What a type-erased engine wants: [`Output`] with events already turned
/// into text, so drivers can hold engines of different protocols in one
/// collection (the page's in-browser servers, for one).
pub type ErasedOutput = Output<String>;

/// An engine behind a `Box<dyn ErasedEngine>`. Every [`Engine`] whose events
/// are `Debug` is one.
pub trait ErasedEngine {
    fn handle_input(&mut self, bytes: &[u8], now: Millis);
    fn handle_eof(&mut self, now: Millis);
    fn handle_timeout(&mut self, now: Millis);
    fn poll_output(&mut self) -> ErasedOutput;
}

impl<G> ErasedEngine for G
where
    G: Engine,
    G::Event: fmt::Debug,
{
    fn handle_input(&mut self, bytes: &[u8], now: Millis) {
        Engine::handle_input(self, bytes, now);
    }

    fn handle_eof(&mut self, now: Millis) {
        Engine::handle_eof(self, now);
    }

    fn handle_timeout(&mut self, now: Millis) {
        Engine::handle_timeout(self, now);
    }

    fn poll_output(&mut self) -> ErasedOutput {
        match Engine::poll_output(self) {
            Output::Transmit(bytes) => Output::Transmit(bytes),
            Output::Event(event) => Output::Event(format!("{event:?}")),
            Output::Close => Output::Close,
            Output::Wait(deadline) => Output::Wait(deadline),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upper::UpperUdpServer;

    #[test]
    fn erased_engines_keep_bytes_and_describe_events() {
        let mut engines: Vec<Box<dyn ErasedEngine>> = vec![Box::new(UpperUdpServer::new())];
        engines[0].handle_input(b"hi", Millis(0));
        assert_eq!(engines[0].poll_output(), Output::Transmit(b"HI".to_vec()));
        match engines[0].poll_output() {
            Output::Event(text) => assert!(text.starts_with("Answered"), "{text}"),
            other => panic!("expected an event, got {other:?}"),
        }
        assert_eq!(engines[0].poll_output(), Output::Wait(None));
    }
}
