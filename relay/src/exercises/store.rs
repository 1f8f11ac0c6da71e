//! Where a learner's attempts are kept, behind [`AttemptStore`]: the relay
//! keeps them in the class store's database ([`StoredAttempts`]), so a
//! class's progress (and the local user's) survives a restart;
//! [`MemoryAttempts`] keeps them in memory, bounded per learner, for tests.

use crate::classroom::store::{self as class_store, ClassStore};
use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// Who does the tasks: a classroom student, or the one local user of a
/// relay without classroom mode.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Learner {
    /// The class id; `None` for the local user.
    pub class: Option<String>,
    /// The student's id (`sub` of their token); `local` for the local user.
    pub student: String,
}

impl Learner {
    /// The one user of a relay without classroom mode.
    pub fn local() -> Learner {
        Learner {
            class: None,
            student: "local".to_string(),
        }
    }

    pub fn student(class: &str, student: &str) -> Learner {
        Learner {
            class: Some(class.to_string()),
            student: student.to_string(),
        }
    }
}

/// One check of a task for a learner: its first pass, or a connection to
/// the task's server that ended without it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attempt {
    pub task: String,
    pub passed: bool,
    /// What was still missing, when not passed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The catalog target of the connection it was checked after.
    pub target: String,
    /// Unix milliseconds.
    pub at_ms: u64,
}

/// Keeps attempts per learner, in the order they were made.
pub trait AttemptStore: Send + Sync {
    fn record_attempt(&self, learner: &Learner, attempt: Attempt) -> anyhow::Result<()>;
    /// The learner's attempts, oldest first.
    fn attempts_of(&self, learner: &Learner) -> anyhow::Result<Vec<Attempt>>;
}

/// The attempts in the class store's database: a student's under their
/// class, the local user's under the class `""`. One indexed insert or read
/// per call, on the caller's thread (the checker's task, an API handler).
pub struct StoredAttempts {
    store: ClassStore,
}

impl StoredAttempts {
    pub fn new(store: ClassStore) -> StoredAttempts {
        StoredAttempts { store }
    }
}

impl AttemptStore for StoredAttempts {
    fn record_attempt(&self, learner: &Learner, attempt: Attempt) -> anyhow::Result<()> {
        let class = learner.class.as_deref().unwrap_or("");
        self.store.record_attempt(
            class,
            &class_store::Attempt {
                student: learner.student.clone(),
                task: attempt.task,
                passed: attempt.passed,
                detail: attempt.reason.unwrap_or_default(),
                target: attempt.target,
                at_ms: attempt.at_ms,
            },
        )
    }

    fn attempts_of(&self, learner: &Learner) -> anyhow::Result<Vec<Attempt>> {
        let class = learner.class.as_deref().unwrap_or("");
        let stored = self.store.attempts_of(class, &learner.student)?;
        Ok(stored
            .into_iter()
            .map(|a| Attempt {
                task: a.task,
                passed: a.passed,
                reason: (!a.passed && !a.detail.is_empty()).then_some(a.detail),
                target: a.target,
                at_ms: a.at_ms,
            })
            .collect())
    }
}

/// Attempts kept per learner in memory; past this many, the oldest attempt
/// that is not a pass makes room (a pass is kept once per task).
pub const MAX_ATTEMPTS_PER_LEARNER: usize = 1000;

/// The in-memory [`AttemptStore`].
#[derive(Default)]
pub struct MemoryAttempts {
    learners: Mutex<HashMap<Learner, VecDeque<Attempt>>>,
}

impl AttemptStore for MemoryAttempts {
    fn record_attempt(&self, learner: &Learner, attempt: Attempt) -> anyhow::Result<()> {
        let mut learners = self.learners.lock().unwrap_or_else(|e| e.into_inner());
        let attempts = learners.entry(learner.clone()).or_default();
        if attempts.len() >= MAX_ATTEMPTS_PER_LEARNER
            && let Some(oldest) = attempts.iter().position(|a| !a.passed)
        {
            attempts.remove(oldest);
        }
        attempts.push_back(attempt);
        Ok(())
    }

    fn attempts_of(&self, learner: &Learner) -> anyhow::Result<Vec<Attempt>> {
        let learners = self.learners.lock().unwrap_or_else(|e| e.into_inner());
        Ok(learners
            .get(learner)
            .map(|a| a.iter().cloned().collect())
            .unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(task: &str, passed: bool, at_ms: u64) -> Attempt {
        Attempt {
            task: task.into(),
            passed,
            reason: (!passed).then(|| "not yet".into()),
            target: "http".into(),
            at_ms,
        }
    }

    /// Both stores keep learners apart and give back what was kept.
    fn learners_are_kept_apart_in(store: &dyn AttemptStore) {
        let (ann, bob) = (Learner::student("c1", "ann"), Learner::student("c1", "bob"));
        let other_class = Learner::student("c2", "ann");
        store
            .record_attempt(&ann, attempt("http-404", false, 1))
            .unwrap();
        store
            .record_attempt(&ann, attempt("http-head", true, 2))
            .unwrap();
        assert_eq!(
            store.attempts_of(&ann).unwrap(),
            [attempt("http-404", false, 1), attempt("http-head", true, 2)]
        );
        assert!(store.attempts_of(&bob).unwrap().is_empty());
        assert!(store.attempts_of(&other_class).unwrap().is_empty());
        assert!(store.attempts_of(&Learner::local()).unwrap().is_empty());
        store
            .record_attempt(&Learner::local(), attempt("dns-mx", true, 3))
            .unwrap();
        assert_eq!(store.attempts_of(&Learner::local()).unwrap().len(), 1);
    }

    #[test]
    fn learners_are_kept_apart() {
        learners_are_kept_apart_in(&MemoryAttempts::default());
        let dir = tempfile::tempdir().unwrap();
        let stored = StoredAttempts::new(ClassStore::open(dir.path()).unwrap());
        learners_are_kept_apart_in(&stored);
        // Another handle on the same file (the relay restarted) sees them.
        let again = StoredAttempts::new(ClassStore::open(dir.path()).unwrap());
        assert_eq!(again.attempts_of(&Learner::local()).unwrap().len(), 1);
    }

    #[test]
    fn a_full_learner_drops_old_misses_not_passes() {
        let store = MemoryAttempts::default();
        let ann = Learner::local();
        store
            .record_attempt(&ann, attempt("http-head", true, 0))
            .unwrap();
        for at in 1..=MAX_ATTEMPTS_PER_LEARNER as u64 + 10 {
            store
                .record_attempt(&ann, attempt("http-404", false, at))
                .unwrap();
        }
        let kept = store.attempts_of(&ann).unwrap();
        assert_eq!(kept.len(), MAX_ATTEMPTS_PER_LEARNER);
        assert!(kept[0].passed);
        assert_eq!(
            kept.last().unwrap().at_ms,
            MAX_ATTEMPTS_PER_LEARNER as u64 + 10
        );
    }
}
