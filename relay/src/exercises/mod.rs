//! Exercises checked from the bytes the relay bridged: the tasks of
//! `<data_dir>/tasks/` (the defaults of [`wirelab_shared::exercises`] written
//! there when missing; a malformed file stops the relay with its file, line
//! and reason), each learner's recent exchanges per protocol, their attempts
//! (behind [`store::AttemptStore`]) and the ticks a page listens to.
//!
//! The bridge gives each session to a catalog target whose protocol has
//! tasks an [`observer::SessionObserver`]; its checker task follows the
//! bytes off the serving path and hands finished exchanges to
//! [`Exercises::exchanges_finished`], which checks the learner's tasks.

pub mod api;
pub mod observer;
pub mod store;

use crate::classroom::events::{ClassEvent, Events};
use anyhow::{Context, Result, bail};
use serde::Serialize;
use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use store::{Attempt, AttemptStore, Learner};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, broadcast};
use wirelab_shared::exercises::{
    DEFAULT_TASKS, Exchange, Task, TaskProtocol, Verdict, check, parse_task,
};

/// Exchanges kept per learner and protocol: the window a task is checked
/// over (the course's longest task takes 8 messages, 4 exchanges; an SMTP
/// session with two mails about 12).
pub const MAX_HISTORY: usize = 32;
/// Task files read from the tasks directory, at most, and their size.
const MAX_TASK_FILES: usize = 500;
const MAX_TASK_FILE_BYTES: u64 = 64 * 1024;
/// Pages listening for ticks at once, at most.
const MAX_LISTENERS: usize = 1024;
/// Ticks waiting for slow listeners before they miss some (they then
/// reload the list).
const TICK_BACKLOG: usize = 256;

/// A task's state changed for a learner.
#[derive(Debug, Clone, Serialize)]
pub struct Tick {
    #[serde(skip)]
    pub learner: Learner,
    pub task: String,
    pub passed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The exercises of a running relay.
pub struct Exercises {
    tasks: Vec<Task>,
    attempts: Arc<dyn AttemptStore>,
    histories: Mutex<HashMap<(Learner, TaskProtocol), VecDeque<Exchange>>>,
    /// The passes recorded by this relay, so two sessions of one learner
    /// finishing at once record a task's pass once.
    passes: Mutex<HashSet<(Learner, String)>>,
    ticks: broadcast::Sender<Tick>,
    /// Where a class's students' attempts are told to the instructor.
    class_events: Option<Events>,
    listeners: Arc<Semaphore>,
    next_connection: AtomicU64,
}

/// One page listening for ticks; it holds one of [`MAX_LISTENERS`] places.
pub struct Listener {
    pub ticks: broadcast::Receiver<Tick>,
    _place: OwnedSemaphorePermit,
}

/// `<data_dir>/tasks`.
pub fn tasks_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("tasks")
}

impl Exercises {
    /// Writes the default task files that are missing, then reads every
    /// task file; errors name the file, line and reason.
    pub fn load(data_dir: &Path, attempts: Arc<dyn AttemptStore>) -> Result<Exercises> {
        let dir = tasks_dir(data_dir);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create the task directory {}", dir.display()))?;
        for (file, text) in DEFAULT_TASKS {
            let path = dir.join(file);
            if !path.exists() {
                std::fs::write(&path, text)
                    .with_context(|| format!("cannot write the default task {}", path.display()))?;
            }
        }
        Ok(Self::with_tasks(read_tasks(&dir)?, attempts))
    }

    /// Exercises over `tasks` (tests).
    pub fn with_tasks(tasks: Vec<Task>, attempts: Arc<dyn AttemptStore>) -> Exercises {
        Exercises {
            tasks,
            attempts,
            histories: Mutex::new(HashMap::new()),
            passes: Mutex::new(HashSet::new()),
            ticks: broadcast::channel(TICK_BACKLOG).0,
            class_events: None,
            listeners: Arc::new(Semaphore::new(MAX_LISTENERS)),
            next_connection: AtomicU64::new(1),
        }
    }

    /// Tells each attempt of a class's student to `events` too, for the
    /// instructor's grid.
    pub fn telling(mut self, events: Events) -> Exercises {
        self.class_events = Some(events);
        self
    }

    pub fn tasks(&self) -> &[Task] {
        &self.tasks
    }

    /// Whether some task is checked over `protocol`.
    pub fn checks(&self, protocol: TaskProtocol) -> bool {
        self.tasks.iter().any(|t| t.protocol == protocol)
    }

    /// A number for a new connection, to tell connections apart.
    pub fn connection_id(&self) -> u64 {
        self.next_connection.fetch_add(1, Ordering::Relaxed)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Tick> {
        self.ticks.subscribe()
    }

    /// A place to listen for ticks, unless every place is taken.
    pub fn listener(&self) -> Option<Listener> {
        let place = self.listeners.clone().try_acquire_owned().ok()?;
        Some(Listener {
            ticks: self.ticks.subscribe(),
            _place: place,
        })
    }

    pub fn attempts_of(&self, learner: &Learner) -> Result<Vec<Attempt>> {
        self.attempts.attempts_of(learner)
    }

    /// Exchanges of a learner's connection finished: the learner's tasks
    /// over that protocol are checked. A first pass is an attempt, told at
    /// once; with `closed_target`, the connection (to that target) ended,
    /// and each task it was for that was tried (some step went part of the
    /// way) and is not passed gets an attempt saying what is missing.
    pub fn exchanges_finished(
        &self,
        learner: &Learner,
        protocol: TaskProtocol,
        exchanges: Vec<Exchange>,
        closed_target: Option<&str>,
    ) {
        let history = self.remember(learner, protocol, exchanges);
        let passed = self.passed_tasks(learner);
        for task in self.tasks.iter().filter(|t| t.protocol == protocol) {
            if passed.contains(&task.id) {
                continue;
            }
            let verdict = check(task, &history);
            let target = closed_target.unwrap_or(&task.target);
            match verdict {
                Verdict::Passed => self.attempt(learner, task, target, None),
                Verdict::Missing {
                    reason,
                    tried: true,
                    ..
                } if closed_target.is_some_and(|t| is_for(task, t)) => {
                    self.attempt(learner, task, target, Some(reason))
                }
                Verdict::Missing { .. } => {}
            }
        }
    }

    /// Adds `exchanges` to the learner's window and returns it.
    fn remember(
        &self,
        learner: &Learner,
        protocol: TaskProtocol,
        exchanges: Vec<Exchange>,
    ) -> Vec<Exchange> {
        let mut histories = self.histories.lock().unwrap_or_else(|e| e.into_inner());
        let history = histories.entry((learner.clone(), protocol)).or_default();
        for exchange in exchanges {
            if history.len() == MAX_HISTORY {
                history.pop_front();
            }
            history.push_back(exchange);
        }
        history.iter().cloned().collect()
    }

    fn passed_tasks(&self, learner: &Learner) -> HashSet<String> {
        match self.attempts.attempts_of(learner) {
            Ok(attempts) => attempts
                .into_iter()
                .filter(|a| a.passed)
                .map(|a| a.task)
                .collect(),
            Err(e) => {
                tracing::warn!("cannot read the attempts of {learner:?}: {e:#}");
                HashSet::new()
            }
        }
    }

    fn attempt(&self, learner: &Learner, task: &Task, target: &str, reason: Option<String>) {
        if reason.is_none() {
            let mut passes = self.passes.lock().unwrap_or_else(|e| e.into_inner());
            if !passes.insert((learner.clone(), task.id.clone())) {
                return;
            }
        }
        let attempt = Attempt {
            task: task.id.clone(),
            passed: reason.is_none(),
            reason: reason.clone(),
            target: target.to_string(),
            at_ms: crate::recording::unix_now_us() / 1000,
        };
        // Kept before it is told, so a grid reloaded on the event has it.
        if let Err(e) = self.attempts.record_attempt(learner, attempt.clone()) {
            tracing::warn!(
                "cannot keep an attempt of {learner:?} at {}: {e:#}",
                task.id
            );
        }
        self.tell_class(learner, &attempt);
        // Nobody listening is fine: the list says the same.
        let _ = self.ticks.send(Tick {
            learner: learner.clone(),
            task: task.id.clone(),
            passed: reason.is_none(),
            reason,
        });
    }

    /// Tells the instructor's feed of the learner's class, if any.
    fn tell_class(&self, learner: &Learner, attempt: &Attempt) {
        if let (Some(events), Some(class)) = (&self.class_events, &learner.class) {
            events.send(ClassEvent::attempt(
                class,
                &learner.student,
                &attempt.task,
                attempt.passed,
                attempt.reason.clone(),
                attempt.at_ms,
            ));
        }
    }
}

/// Whether a connection to `target` is part of `task` (its target or a step's).
fn is_for(task: &Task, target: &str) -> bool {
    let base = |name: &str| wirelab_shared::catalog::split_paired(name).0.to_string();
    std::iter::once(task.target.as_str())
        .chain(task.steps.iter().filter_map(|s| s.target.as_deref()))
        .any(|t| t == target || base(t) == base(target))
}

/// Reads the `*.toml` files of `dir`, in name order.
fn read_tasks(dir: &Path) -> Result<Vec<Task>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the task directory {}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    if files.len() > MAX_TASK_FILES {
        bail!(
            "{} holds {} task files, more than the {MAX_TASK_FILES} a relay reads",
            dir.display(),
            files.len()
        );
    }
    let mut tasks: Vec<Task> = Vec::new();
    let mut problems = Vec::new();
    for path in files {
        match read_task(&path) {
            Ok(task) if tasks.iter().any(|t| t.id == task.id) => problems.push(format!(
                "{}: the id {:?} is used by another task file",
                path.display(),
                task.id
            )),
            Ok(task) => tasks.push(task),
            Err(problem) => problems.push(problem),
        }
    }
    if !problems.is_empty() {
        bail!(
            "the task files have errors (fix them, or delete a default one to get it back):\n  {}",
            problems.join("\n  ")
        );
    }
    Ok(tasks)
}

fn read_task(path: &Path) -> Result<Task, String> {
    let name = path.display().to_string();
    let size = std::fs::metadata(path)
        .map_err(|e| format!("{name}: {e}"))?
        .len();
    if size > MAX_TASK_FILE_BYTES {
        return Err(format!(
            "{name}: {size} bytes, more than a task file may hold ({MAX_TASK_FILE_BYTES})"
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("{name}: {e}"))?;
    parse_task(&name, &text).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use store::MemoryAttempts;
    use wirelab_shared::conversation::Sender;
    use wirelab_shared::exercises::{Connection, Follow};

    #[test]
    fn defaults_are_written_once_and_an_edited_file_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(MemoryAttempts::default());
        let first = Exercises::load(dir.path(), store.clone()).unwrap();
        assert_eq!(first.tasks().len(), DEFAULT_TASKS.len());
        let path = tasks_dir(dir.path()).join("http-head.toml");
        let edited = std::fs::read_to_string(&path)
            .unwrap()
            .replace("Ask for the headers only", "HEAD, please");
        std::fs::write(&path, edited).unwrap();
        let again = Exercises::load(dir.path(), store).unwrap();
        let head = again.tasks().iter().find(|t| t.id == "http-head").unwrap();
        assert!(head.title.starts_with("HEAD, please"));
    }

    #[test]
    fn a_malformed_task_stops_the_load_naming_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let tasks = tasks_dir(dir.path());
        std::fs::create_dir_all(&tasks).unwrap();
        std::fs::write(
            tasks.join("mine.toml"),
            "id = \"mine\"\npage = \"gopher\"\n",
        )
        .unwrap();
        let e = Exercises::load(dir.path(), Arc::new(MemoryAttempts::default()))
            .err()
            .unwrap();
        let text = format!("{e:#}");
        assert!(text.contains("mine.toml:2: "), "{text}");
        assert!(text.contains("gopher"), "{text}");
    }

    #[test]
    fn a_pass_is_an_attempt_and_a_tick_for_its_learner_only() {
        let exercises = Exercises::with_tasks(
            wirelab_shared::exercises::default_tasks(),
            Arc::new(MemoryAttempts::default()),
        );
        let mut ticks = exercises.subscribe();
        let ann = Learner::student("c1", "ann");
        let done = Follow::replay(
            TaskProtocol::Http,
            Connection::tcp(1, "http"),
            [
                (Sender::Client, &b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"[..]),
                (
                    Sender::Server,
                    b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n",
                ),
            ],
        );
        exercises.exchanges_finished(&ann, TaskProtocol::Http, done, Some("http"));
        let attempts = exercises.attempts_of(&ann).unwrap();
        let head = attempts.iter().find(|a| a.task == "http-head").unwrap();
        assert!(head.passed);
        // The GET tasks were not tried by a HEAD: no attempt of theirs.
        assert!(!attempts.iter().any(|a| a.task == "http-404"));
        assert!(
            exercises
                .attempts_of(&Learner::student("c1", "bob"))
                .unwrap()
                .is_empty()
        );
        let tick = ticks.try_recv().unwrap();
        assert_eq!(tick.learner, ann);
    }

    #[test]
    fn a_class_students_attempt_is_told_to_the_class_feed() {
        let events = Events::new();
        let mut feed = events.subscribe();
        let exercises = Exercises::with_tasks(
            wirelab_shared::exercises::default_tasks(),
            Arc::new(MemoryAttempts::default()),
        )
        .telling(events);
        let upper = |learner: &Learner| {
            let done = Follow::replay(
                TaskProtocol::Line,
                Connection::tcp(1, "upper-tcp"),
                [(Sender::Client, &b"hi\n"[..]), (Sender::Server, b"HI\n")],
            );
            exercises.exchanges_finished(learner, TaskProtocol::Line, done, Some("upper-tcp"));
        };
        upper(&Learner::local());
        upper(&Learner::student("c1", "ann"));
        let told: Vec<ClassEvent> = std::iter::from_fn(|| feed.try_recv().ok()).collect();
        for event in &told {
            assert_eq!(
                (event.class.as_str(), event.kind, event.student.as_deref()),
                ("c1", "attempt", Some("ann")),
                "the local user's attempts are no class's: {event:?}"
            );
        }
        let upper = told
            .iter()
            .find(|e| e.task.as_deref() == Some("sockets-upper"))
            .unwrap_or_else(|| panic!("no sockets-upper in {told:?}"));
        assert_eq!(upper.passed, Some(true));
    }
}
