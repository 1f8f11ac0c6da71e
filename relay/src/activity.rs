//! The sessions open right now, with their byte counts, for the
//! instructor's view of a class (`GET /api/classes/<id>`); finished
//! classroom sessions go to the class's activity log on disk
//! ([`crate::classroom::store`]).
//!
//! The bridge registers a session once it is connected and keeps the
//! [`LiveGuard`] until it ends; it adds to the [`SessionCounters`] as bytes
//! flow, and ends the session when its [`Stop`] is pulled: the instructor
//! revoked the student or closed the class ([`Activity::stop_where`]).

use serde::Serialize;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use tokio_util::sync::CancellationToken;
use wirelab_shared::relay_protocol::Transport;

use crate::policy::Refusal;

/// The way to end one session from outside it, and why it was ended.
#[derive(Debug, Default)]
pub struct Stop {
    token: CancellationToken,
    why: OnceLock<Refusal>,
}

impl Stop {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Ends the session; the first reason given is the one it reports.
    pub fn pull(&self, why: Refusal) {
        let _ = self.why.set(why);
        self.token.cancel();
    }

    /// Resolves once [`Stop::pull`] was called.
    pub async fn pulled(&self) {
        self.token.cancelled().await
    }

    pub fn is_pulled(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Why the session was ended.
    pub fn why(&self) -> Option<&Refusal> {
        self.why.get()
    }
}

/// Bytes one session moved so far.
#[derive(Debug, Default)]
pub struct SessionCounters {
    pub to_target: AtomicU64,
    pub to_page: AtomicU64,
}

/// One open session.
#[derive(Debug, Clone)]
pub struct LiveSession {
    pub class: Option<String>,
    pub student: Option<String>,
    pub client: IpAddr,
    pub target: String,
    pub transport: Transport,
    pub peer: SocketAddr,
    /// Unix milliseconds.
    pub started_ms: u64,
    pub recording: Option<String>,
    pub counters: Arc<SessionCounters>,
    /// When the student's token was issued (Unix s): a revocation ends the
    /// sessions of tokens issued up to it.
    pub token_issued: Option<u64>,
    pub stop: Arc<Stop>,
}

/// What the instructor sees of an open session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiveView {
    pub student: Option<String>,
    pub client: String,
    pub target: String,
    pub transport: Transport,
    pub peer: String,
    pub started_ms: u64,
    pub bytes_to_target: u64,
    pub bytes_to_page: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recording: Option<String>,
}

/// Every open session.
#[derive(Debug, Default)]
pub struct Activity {
    next: AtomicU64,
    live: Mutex<HashMap<u64, LiveSession>>,
}

impl Activity {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, LiveSession>> {
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Lists `session` until the guard is dropped.
    pub fn open(self: &Arc<Self>, session: LiveSession) -> LiveGuard {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(id, session);
        LiveGuard {
            activity: self.clone(),
            id,
        }
    }

    /// Ends, with `why`, the sessions of class `class` (of `student` only,
    /// if given) that `also` picks; returns how many.
    pub fn stop_where(
        &self,
        class: &str,
        student: Option<&str>,
        also: impl Fn(&LiveSession) -> bool,
        why: &Refusal,
    ) -> usize {
        let live = self.lock();
        let mut n = 0;
        for s in live.values().filter(|s| {
            s.class.as_deref() == Some(class)
                && (student.is_none() || s.student.as_deref() == student)
                && also(s)
        }) {
            s.stop.pull(why.clone());
            n += 1;
        }
        n
    }

    /// Each classroom session open now: its class, student, token's issue
    /// time and stop (for the sweep that ends those no longer allowed).
    pub fn classroom_sessions(&self) -> Vec<(String, String, u64, Arc<Stop>)> {
        self.lock()
            .values()
            .filter_map(|s| {
                Some((
                    s.class.clone()?,
                    s.student.clone()?,
                    s.token_issued?,
                    s.stop.clone(),
                ))
            })
            .collect()
    }

    /// The open sessions of class `class`.
    pub fn in_class(&self, class: &str) -> Vec<LiveView> {
        let mut views: Vec<LiveView> = self
            .lock()
            .values()
            .filter(|s| s.class.as_deref() == Some(class))
            .map(|s| LiveView {
                student: s.student.clone(),
                client: s.client.to_string(),
                target: s.target.clone(),
                transport: s.transport,
                peer: s.peer.to_string(),
                started_ms: s.started_ms,
                bytes_to_target: s.counters.to_target.load(Ordering::Relaxed),
                bytes_to_page: s.counters.to_page.load(Ordering::Relaxed),
                recording: s.recording.clone(),
            })
            .collect();
        views.sort_by_key(|v| v.started_ms);
        views
    }
}

/// Unlists a session when it ends.
#[derive(Debug)]
pub struct LiveGuard {
    activity: Arc<Activity>,
    id: u64,
}

impl Drop for LiveGuard {
    fn drop(&mut self) {
        self.activity.lock().remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_sessions_are_listed_per_class_until_they_end() {
        let activity = Activity::new();
        let counters = Arc::new(SessionCounters::default());
        let guard = activity.open(LiveSession {
            class: Some("c-1".into()),
            student: Some("s-1".into()),
            client: "127.0.0.1".parse().unwrap(),
            target: "upper-tcp".into(),
            transport: Transport::Tcp,
            peer: "127.0.0.1:12000".parse().unwrap(),
            started_ms: 5,
            recording: None,
            counters: counters.clone(),
            token_issued: Some(1),
            stop: Stop::new(),
        });
        counters.to_page.fetch_add(7, Ordering::Relaxed);
        let views = activity.in_class("c-1");
        assert_eq!(views.len(), 1);
        assert_eq!(views[0].bytes_to_page, 7);
        assert!(activity.in_class("c-2").is_empty());
        assert_eq!(activity.classroom_sessions().len(), 1);
        let why = Refusal::auth("revoked", "gone");
        assert_eq!(activity.stop_where("c-1", Some("s-2"), |_| true, &why), 0);
        assert_eq!(activity.stop_where("c-1", Some("s-1"), |_| true, &why), 1);
        let stop = activity.classroom_sessions()[0].3.clone();
        assert!(stop.is_pulled());
        assert_eq!(stop.why().unwrap().reason, "revoked");
        drop(guard);
        assert!(activity.in_class("c-1").is_empty());
    }
}
