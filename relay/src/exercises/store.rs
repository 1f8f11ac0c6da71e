//! Where a learner's attempts are kept, behind [`AttemptStore`], so the
//! class store's database can keep them when it lands; [`MemoryAttempts`]
//! keeps them in memory (lost at restart), bounded per learner.

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

    #[test]
    fn learners_are_kept_apart() {
        let store = MemoryAttempts::default();
        let (ann, bob) = (Learner::student("c1", "ann"), Learner::student("c1", "bob"));
        store
            .record_attempt(&ann, attempt("http-head", true, 1))
            .unwrap();
        assert_eq!(store.attempts_of(&ann).unwrap().len(), 1);
        assert!(store.attempts_of(&bob).unwrap().is_empty());
        assert!(store.attempts_of(&Learner::local()).unwrap().is_empty());
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
