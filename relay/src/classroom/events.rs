//! What happens in the classes, as it happens: joins, sessions opened and
//! closed, revocations, settings changed, classes closed, exercise
//! attempts checked. The relay sends
//! each [`ClassEvent`] once to [`Events`]; every instructor's feed
//! (`GET /api/classes/{id}/events`, Server-Sent Events) subscribes and
//! keeps those of its class.
//!
//! A subscriber that does not keep up is not waited for: each has a queue
//! of [`QUEUE`] events, and one that falls further behind is told how many
//! it missed (a `lagged` event) and goes on from the newest, so a slow
//! instructor's browser costs the relay a bounded amount of memory.

use super::token::Claims;
use serde::Serialize;
use tokio::sync::broadcast;

/// Events kept for the slowest subscriber.
pub const QUEUE: usize = 256;

/// One thing that happened in a class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClassEvent {
    pub class: String,
    /// `joined`, `session_opened`, `session_closed`, `revoked`,
    /// `settings`, `mailboxes_reset`, `class_closed`, `attempt`.
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub student: Option<String>,
    /// The student's name (`joined`), or the target (sessions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The task of an `attempt`, whether it passed, and what was missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Unix milliseconds.
    pub at_ms: u64,
}

impl ClassEvent {
    /// An event of the whole class or, with `student`, of one student.
    pub fn new(class: &str, kind: &'static str, student: Option<&str>) -> Self {
        ClassEvent {
            class: class.to_string(),
            kind,
            student: student.map(str::to_string),
            name: None,
            target: None,
            task: None,
            passed: None,
            reason: None,
            at_ms: super::unix_now_ms(),
        }
    }

    pub fn joined(claims: &Claims) -> Self {
        ClassEvent {
            name: Some(claims.name.clone()),
            ..Self::new(&claims.class, "joined", Some(&claims.sub))
        }
    }

    /// A session of `student` to `target` opened or closed.
    pub fn session(class: &str, student: &str, target: &str, opened: bool) -> Self {
        let kind = if opened {
            "session_opened"
        } else {
            "session_closed"
        };
        ClassEvent {
            target: Some(target.to_string()),
            ..Self::new(class, kind, Some(student))
        }
    }

    /// A student's attempt at a task was checked (`at_ms`: the attempt's).
    pub fn attempt(
        class: &str,
        student: &str,
        task: &str,
        passed: bool,
        reason: Option<String>,
        at_ms: u64,
    ) -> Self {
        ClassEvent {
            task: Some(task.to_string()),
            passed: Some(passed),
            reason,
            at_ms,
            ..Self::new(class, "attempt", Some(student))
        }
    }
}

/// The relay's one stream of class events; a clone sends to the same
/// subscribers.
#[derive(Debug, Clone)]
pub struct Events {
    sender: broadcast::Sender<ClassEvent>,
}

impl Default for Events {
    fn default() -> Self {
        Self::new()
    }
}

impl Events {
    pub fn new() -> Self {
        Events {
            sender: broadcast::channel(QUEUE).0,
        }
    }

    /// Hands `event` to every subscriber (none listening is fine).
    pub fn send(&self, event: ClassEvent) {
        let _ = self.sender.send(event);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<ClassEvent> {
        self.sender.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_slow_subscriber_loses_the_oldest_and_is_told() {
        let events = Events::new();
        let mut rx = events.subscribe();
        for i in 0..QUEUE + 10 {
            events.send(ClassEvent::new("c-1", "joined", Some(&format!("s-{i}"))));
        }
        match rx.recv().await {
            Err(broadcast::error::RecvError::Lagged(n)) => assert_eq!(n, 10),
            other => panic!("expected a lag, got {other:?}"),
        }
        let next = rx.recv().await.unwrap();
        assert_eq!(next.student.as_deref(), Some("s-10"));
    }
}
