//! The per-session observer the bridge feeds: it copies the bytes each way
//! (at most [`MAX_FOLLOWED_BYTES`] per session) into a bounded channel, and
//! a checker task of its own follows them with the shared engines and
//! checks the learner's tasks, so no dissecting or checking happens on the
//! path that serves any client.
//!
//! A chunk the channel has no room for cannot be followed: the session is
//! then followed no further (its exchanges so far still count).

use super::Exercises;
use super::store::Learner;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::mpsc;
use wirelab_shared::exercises::follow::MAX_FOLLOWED_BYTES;
use wirelab_shared::exercises::{Connection, Follow, TaskProtocol};

/// Chunks waiting for the checker task of one session.
const QUEUED_CHUNKS: usize = 256;

enum Chunk {
    Client(Vec<u8>),
    Server(Vec<u8>),
}

/// What the bridge holds for one observed session. Dropping it ends the
/// session for the checker.
pub struct SessionObserver {
    chunks: mpsc::Sender<Chunk>,
    /// Bytes still copied to the checker.
    budget: usize,
    /// A chunk was dropped: nothing more is sent.
    gap: Arc<AtomicBool>,
}

/// The session an observer is for.
pub struct Observed {
    pub learner: Learner,
    pub protocol: TaskProtocol,
    pub target: String,
    pub udp: bool,
    pub source_port: Option<u16>,
}

impl SessionObserver {
    /// Starts the checker task of a session.
    pub fn start(exercises: Arc<Exercises>, session: Observed) -> SessionObserver {
        let (tx, rx) = mpsc::channel(QUEUED_CHUNKS);
        let gap = Arc::new(AtomicBool::new(false));
        tokio::spawn(checker(exercises, session, rx, gap.clone()));
        SessionObserver {
            chunks: tx,
            budget: MAX_FOLLOWED_BYTES,
            gap,
        }
    }

    /// Bytes (one datagram for UDP) the page sent to the server.
    pub fn to_server(&mut self, bytes: &[u8]) {
        if let Some(copy) = self.copy(bytes) {
            self.send(Chunk::Client(copy));
        }
    }

    /// Bytes (one datagram for UDP) the server sent to the page.
    pub fn to_page(&mut self, bytes: &[u8]) {
        if let Some(copy) = self.copy(bytes) {
            self.send(Chunk::Server(copy));
        }
    }

    fn copy(&mut self, bytes: &[u8]) -> Option<Vec<u8>> {
        let n = bytes.len().min(self.budget);
        if n == 0 || self.gap.load(Ordering::Relaxed) {
            return None;
        }
        self.budget -= n;
        Some(bytes[..n].to_vec())
    }

    fn send(&mut self, chunk: Chunk) {
        if self.chunks.try_send(chunk).is_err() {
            self.gap.store(true, Ordering::Relaxed);
        }
    }
}

async fn checker(
    exercises: Arc<Exercises>,
    session: Observed,
    mut chunks: mpsc::Receiver<Chunk>,
    gap: Arc<AtomicBool>,
) {
    let connection = Connection {
        id: exercises.connection_id(),
        target: session.target.clone(),
        udp: session.udp,
        source_port: session.source_port,
    };
    let mut follow = Follow::new(session.protocol, connection);
    while let Some(chunk) = chunks.recv().await {
        match chunk {
            Chunk::Client(bytes) => follow.client(&bytes),
            Chunk::Server(bytes) => follow.server(&bytes),
        }
        let finished = follow.take_finished();
        if !finished.is_empty() {
            exercises.exchanges_finished(&session.learner, session.protocol, finished, None);
        }
        if gap.load(Ordering::Relaxed) && chunks.is_empty() {
            tracing::debug!("a session to {} is followed no further", session.target);
            break;
        }
    }
    follow.closed();
    let finished = follow.take_finished();
    exercises.exchanges_finished(
        &session.learner,
        session.protocol,
        finished,
        Some(&session.target),
    );
}
