//! The class store: classes, their students, finished sessions and
//! exercise attempts in one SQLite database,
//! `<data_dir>/classroom/classroom.sqlite3` (compiled in with `rusqlite`'s
//! `bundled` SQLite, so nothing is installed).
//!
//! The CLI (`wirelab class ...`) and the running relay open the same file:
//! it is in WAL mode (readers never wait for the writer) with a busy
//! timeout (a writer waits for the other's transaction instead of failing),
//! so a class made with `wirelab class create` works at once and 300
//! students joining together are 300 short transactions. Every call
//! blocks on the disk: the relay makes them from `spawn_blocking` (see
//! [`super::Classroom`]), the CLI directly. A [`ClassStore`] is a cheap
//! handle on one connection, shared by clones.
//!
//! The schema is migrated with `PRAGMA user_version` ([`super::schema`]);
//! a data directory kept by an older relay (`classes/<id>.json`,
//! `students.jsonl`, `activity.jsonl`) is imported once, when the database
//! is made ([`super::legacy`]).

use crate::config::RecordingMode;
use crate::identity::{ClassId, StudentId};
use anyhow::{Context, Result, bail};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// A class, as the instructor made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Class {
    pub id: String,
    pub name: String,
    /// The secret part of the join link.
    pub join_code: String,
    /// Unix seconds.
    pub created: u64,
    #[serde(default)]
    pub closed: bool,
    /// Catalog targets students may open; empty means all.
    #[serde(default)]
    pub targets: Vec<String>,
    /// Whether students may ask for custom targets (the policy still rules).
    #[serde(default)]
    pub custom_targets: bool,
    /// Lifetime of a student token, overriding the relay's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_ttl_secs: Option<u64>,
    /// The largest `delay_ms` the class's pages may ask for (0: no delay
    /// emulation); never more than the relay's `limits.max_delay_ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_delay_ms: Option<u64>,
    /// Whether the class's sessions are recorded, instead of the relay's
    /// `[recordings] mode`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recordings: Option<RecordingMode>,
}

/// One student who joined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudentRecord {
    pub id: String,
    pub name: String,
    /// Unix seconds of the (last) join.
    pub joined: u64,
    /// Unix seconds: tokens issued up to then were revoked by the
    /// instructor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<u64>,
}

/// One finished session of a student.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionRecord {
    pub student: String,
    pub target: String,
    pub transport: String,
    pub peer: String,
    pub client: String,
    /// Unix milliseconds.
    pub started_ms: u64,
    pub duration_ms: u64,
    pub bytes_to_target: u64,
    pub bytes_to_page: u64,
    /// How it ended: "closed by peer", "idle", "limit: ...", ...
    pub outcome: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording: Option<String>,
}

/// One check of an exercise for a student.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    pub student: String,
    /// The task's id, as its task file names it.
    pub task: String,
    pub passed: bool,
    /// What the checker saw, for the student and the instructor.
    pub detail: String,
    /// The catalog target of the connection it was checked after.
    #[serde(default)]
    pub target: String,
    /// Unix milliseconds.
    pub at_ms: u64,
}

/// A learner's attempts kept at most: past it the oldest are not read.
pub const MAX_ATTEMPTS_READ: usize = 1_000;

/// What a new class is made from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewClass {
    pub name: String,
    pub targets: Vec<String>,
    pub custom_targets: bool,
    pub token_ttl_secs: Option<u64>,
}

/// A change to a class's settings; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClassSettings {
    pub targets: Option<Vec<String>>,
    pub custom_targets: Option<bool>,
    /// `Some(None)` (JSON `null`) goes back to the relay's limit.
    #[serde(with = "double_option")]
    pub max_delay_ms: Option<Option<u64>>,
    /// `Some(None)` (JSON `null`) goes back to the relay's mode.
    #[serde(with = "double_option")]
    pub recordings: Option<Option<RecordingMode>>,
}

/// A field that may be absent (no change), `null` (clear) or a value.
mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(
        value: &Option<Option<T>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        value.serialize(s)
    }

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

/// Why a new student was not added: the class has
/// [`MAX_STUDENTS_PER_CLASS`] already.
#[derive(Debug, thiserror::Error)]
#[error("the class already has {0} students, the most one class can have")]
pub struct ClassFull(pub usize);

/// Rows read back at most per list, so a huge class cannot exhaust memory.
pub const MAX_ROWS: usize = 20_000;
/// Students per class at most: joining past it is refused.
pub const MAX_STUDENTS_PER_CLASS: usize = 5_000;
/// How long a call waits for another process's write before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// A handle on the database (clones share one connection).
#[derive(Debug, Clone)]
pub struct ClassStore {
    path: PathBuf,
    conn: Arc<Mutex<Connection>>,
}

impl ClassStore {
    /// Where the database of `data_dir` is.
    pub fn path_in(data_dir: &Path) -> PathBuf {
        data_dir.join("classroom").join("classroom.sqlite3")
    }

    /// Opens (making and migrating it if needed) the store of `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Self> {
        let path = Self::path_in(data_dir);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        create_private(&path)?;
        let mut conn = Connection::open(&path)
            .with_context(|| format!("cannot open the class store {}", path.display()))?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // WAL lets the CLI read while the relay writes; NORMAL syncs at
        // checkpoints only, which a crash of the relay cannot undo (only a
        // power cut can lose the last commits).
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        super::schema::migrate(&mut conn, data_dir)
            .with_context(|| format!("cannot migrate the class store {}", path.display()))?;
        Ok(ClassStore {
            path,
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic mid-call leaves no transaction open (rusqlite rolls back
        // on drop), so the connection is still good.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn create(&self, new: NewClass, now: u64) -> Result<Class> {
        let name = new.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            bail!("a class needs a name of 1 to 100 characters");
        }
        if new.token_ttl_secs == Some(0) {
            bail!("token_ttl_secs must be at least 1");
        }
        let class = Class {
            id: format!("c-{}", crate::secrets::random_hex(6)),
            name: name.to_string(),
            join_code: crate::secrets::random_hex(12),
            created: now,
            closed: false,
            targets: new.targets,
            custom_targets: new.custom_targets,
            token_ttl_secs: new.token_ttl_secs,
            max_delay_ms: None,
            recordings: None,
        };
        insert_class(&self.conn(), &class)?;
        Ok(class)
    }

    pub fn get(&self, id: &str) -> Result<Option<Class>> {
        if ClassId::parse(id).is_none() {
            return Ok(None);
        }
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!("{SELECT_CLASS} WHERE id = ?1"))?;
        Ok(stmt.query_row([id], class_of_row).optional()?)
    }

    /// Every class, oldest first.
    pub fn list(&self) -> Result<Vec<Class>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "{SELECT_CLASS} ORDER BY created, id LIMIT {MAX_ROWS}"
        ))?;
        let rows = stmt.query_map([], class_of_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The open class whose join code is `code`.
    pub fn by_join_code(&self, code: &str) -> Result<Option<Class>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "{SELECT_CLASS} WHERE join_code = ?1 AND NOT closed"
        ))?;
        let found = stmt.query_row([code], class_of_row).optional()?;
        // The index found it; compare again in constant time so the answer
        // does not depend on how much of a guess was right.
        Ok(found
            .filter(|c| crate::secrets::constant_time_eq(c.join_code.as_bytes(), code.as_bytes())))
    }

    pub fn close(&self, id: &str) -> Result<Class> {
        let changed = self
            .conn()
            .execute("UPDATE classes SET closed = 1 WHERE id = ?1", [id])?;
        if changed == 0 {
            bail!("there is no class {id:?}");
        }
        self.get(id)?.context("the class vanished")
    }

    /// Applies `settings` to class `id` and returns the class as it is now.
    pub fn update_settings(&self, id: &str, settings: &ClassSettings) -> Result<Class> {
        let mut class = self
            .get(id)?
            .with_context(|| format!("there is no class {id:?}"))?;
        if let Some(targets) = &settings.targets {
            class.targets = targets.clone();
        }
        if let Some(custom) = settings.custom_targets {
            class.custom_targets = custom;
        }
        if let Some(delay) = settings.max_delay_ms {
            class.max_delay_ms = delay;
        }
        if let Some(mode) = settings.recordings {
            class.recordings = mode;
        }
        self.conn().execute(
            "UPDATE classes SET targets = ?2, custom_targets = ?3, max_delay_ms = ?4, \
             recordings = ?5 WHERE id = ?1",
            params![
                class.id,
                serde_json::to_string(&class.targets)?,
                class.custom_targets,
                class.max_delay_ms,
                class.recordings.map(mode_name),
            ],
        )?;
        Ok(class)
    }

    /// Records a (re)join: a new student, or a known one's new name and time.
    /// Refused past [`MAX_STUDENTS_PER_CLASS`] new students.
    pub fn add_student(&self, class: &str, student: &StudentRecord) -> Result<()> {
        StudentId::parse(&student.id).context("bad student id")?;
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let known: bool = tx
            .prepare_cached("SELECT 1 FROM students WHERE class = ?1 AND id = ?2")?
            .exists(params![class, student.id])?;
        if !known {
            let count: usize = tx
                .prepare_cached("SELECT count(*) FROM students WHERE class = ?1")?
                .query_row([class], |r| r.get(0))?;
            if count >= MAX_STUDENTS_PER_CLASS {
                return Err(ClassFull(count).into());
            }
        }
        tx.prepare_cached(
            "INSERT INTO students (class, id, name, joined) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (class, id) DO UPDATE SET name = excluded.name, joined = excluded.joined",
        )?
        .execute(params![class, student.id, student.name, student.joined])?;
        tx.commit()?;
        Ok(())
    }

    /// The students of a class, each once, in the order they first joined.
    pub fn students(&self, class: &str) -> Result<Vec<StudentRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT id, name, joined, revoked_at FROM students WHERE class = ?1 \
             ORDER BY rowid LIMIT {MAX_ROWS}"
        ))?;
        let rows = stmt.query_map([class], student_of_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn student(&self, class: &str, id: &str) -> Result<Option<StudentRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT id, name, joined, revoked_at FROM students WHERE class = ?1 AND id = ?2",
        )?;
        Ok(stmt.query_row([class, id], student_of_row).optional()?)
    }

    /// The revoked students of a class: id → when (Unix s).
    pub fn revoked_in(&self, class: &str) -> Result<HashMap<String, u64>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT id, revoked_at FROM students WHERE class = ?1 AND revoked_at IS NOT NULL \
             LIMIT {MAX_ROWS}"
        ))?;
        let rows = stmt.query_map([class], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Ends every token of student `id` issued up to `now`.
    pub fn revoke_student(&self, class: &str, id: &str, now: u64) -> Result<StudentRecord> {
        let changed = self.conn().execute(
            "UPDATE students SET revoked_at = ?3 WHERE class = ?1 AND id = ?2",
            params![class, id, now],
        )?;
        if changed == 0 {
            bail!("there is no student {id:?} in class {class:?}");
        }
        self.student(class, id)?.context("the student vanished")
    }

    pub fn add_session(&self, class: &str, session: &SessionRecord) -> Result<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO sessions (class, student, target, transport, peer, client, \
                 started_ms, duration_ms, bytes_to_target, bytes_to_page, outcome, recording) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?
            .execute(params![
                class,
                session.student,
                session.target,
                session.transport,
                session.peer,
                session.client,
                session.started_ms,
                session.duration_ms,
                session.bytes_to_target,
                session.bytes_to_page,
                session.outcome,
                session.recording,
            ])?;
        Ok(())
    }

    /// The class's finished sessions, the latest [`MAX_ROWS`], oldest first.
    pub fn sessions(&self, class: &str) -> Result<Vec<SessionRecord>> {
        self.sessions_where(class, None)
    }

    /// One student's finished sessions, the latest [`MAX_ROWS`], oldest first.
    pub fn sessions_of(&self, class: &str, student: &str) -> Result<Vec<SessionRecord>> {
        self.sessions_where(class, Some(student))
    }

    fn sessions_where(&self, class: &str, student: Option<&str>) -> Result<Vec<SessionRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT * FROM (SELECT student, target, transport, peer, client, started_ms, \
             duration_ms, bytes_to_target, bytes_to_page, outcome, recording, rowid AS n \
             FROM sessions WHERE class = ?1 AND (?2 IS NULL OR student = ?2) \
             ORDER BY rowid DESC LIMIT {MAX_ROWS}) ORDER BY n"
        ))?;
        let rows = stmt.query_map(params![class, student], session_of_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Records one check of task `task` for `student` of `class`.
    pub fn record_attempt(&self, class: &str, attempt: &Attempt) -> Result<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO attempts (class, student, task, passed, detail, target, at_ms) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                class,
                attempt.student,
                attempt.task,
                attempt.passed,
                attempt.detail,
                attempt.target,
                attempt.at_ms,
            ])?;
        Ok(())
    }

    /// One student's attempts in time order (the latest
    /// [`MAX_ATTEMPTS_READ`], and every pass however old).
    pub fn attempts_of(&self, class: &str, student: &str) -> Result<Vec<Attempt>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT student, task, passed, detail, target, at_ms FROM attempts \
             WHERE id IN (SELECT id FROM attempts WHERE class = ?1 AND student = ?2 \
                          ORDER BY at_ms DESC, id DESC LIMIT {MAX_ATTEMPTS_READ}) \
                OR (class = ?1 AND student = ?2 AND passed) \
             ORDER BY at_ms, id"
        ))?;
        let rows = stmt.query_map(params![class, student], attempt_of_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The class's attempts in time order (the latest [`MAX_ROWS`], and
    /// every pass however old, so the grid never loses a tick).
    pub fn attempts_for_class(&self, class: &str) -> Result<Vec<Attempt>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT student, task, passed, detail, target, at_ms FROM attempts \
             WHERE id IN (SELECT id FROM attempts WHERE class = ?1 \
                          ORDER BY at_ms DESC, id DESC LIMIT {MAX_ROWS}) \
                OR (class = ?1 AND passed) \
             ORDER BY at_ms, id"
        ))?;
        let rows = stmt.query_map([class], attempt_of_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// An attempt from a row of `student, task, passed, detail, target, at_ms`.
fn attempt_of_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Attempt> {
    Ok(Attempt {
        student: r.get(0)?,
        task: r.get(1)?,
        passed: r.get(2)?,
        detail: r.get(3)?,
        target: r.get(4)?,
        at_ms: r.get(5)?,
    })
}

/// Creates the database file readable by its owner only, if it is new:
/// it holds the join codes, and SQLite gives its `-wal` and `-shm` files
/// the same permissions.
fn create_private(path: &Path) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot create {}", path.display())),
    }
}

/// Inserts a class (also used by the import of the JSON files).
pub(super) fn insert_class(conn: &Connection, class: &Class) -> Result<()> {
    ClassId::parse(&class.id).context("bad class id")?;
    conn.prepare_cached(
        "INSERT INTO classes (id, name, join_code, created, closed, targets, custom_targets, \
         token_ttl_secs, max_delay_ms, recordings) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        class.id,
        class.name,
        class.join_code,
        class.created,
        class.closed,
        serde_json::to_string(&class.targets)?,
        class.custom_targets,
        class.token_ttl_secs,
        class.max_delay_ms,
        class.recordings.map(mode_name),
    ])?;
    Ok(())
}

const SELECT_CLASS: &str = "SELECT id, name, join_code, created, closed, targets, \
    custom_targets, token_ttl_secs, max_delay_ms, recordings FROM classes";

fn class_of_row(r: &Row<'_>) -> rusqlite::Result<Class> {
    let targets: String = r.get(5)?;
    let recordings: Option<String> = r.get(9)?;
    Ok(Class {
        id: r.get(0)?,
        name: r.get(1)?,
        join_code: r.get(2)?,
        created: r.get(3)?,
        closed: r.get(4)?,
        targets: serde_json::from_str(&targets).unwrap_or_default(),
        custom_targets: r.get(6)?,
        token_ttl_secs: r.get(7)?,
        max_delay_ms: r.get(8)?,
        recordings: recordings.as_deref().and_then(mode_of_name),
    })
}

fn student_of_row(r: &Row<'_>) -> rusqlite::Result<StudentRecord> {
    Ok(StudentRecord {
        id: r.get(0)?,
        name: r.get(1)?,
        joined: r.get(2)?,
        revoked_at: r.get(3)?,
    })
}

fn session_of_row(r: &Row<'_>) -> rusqlite::Result<SessionRecord> {
    Ok(SessionRecord {
        student: r.get(0)?,
        target: r.get(1)?,
        transport: r.get(2)?,
        peer: r.get(3)?,
        client: r.get(4)?,
        started_ms: r.get(5)?,
        duration_ms: r.get(6)?,
        bytes_to_target: r.get(7)?,
        bytes_to_page: r.get(8)?,
        outcome: r.get(9)?,
        recording: r.get(10)?,
    })
}

fn mode_name(mode: RecordingMode) -> &'static str {
    match mode {
        RecordingMode::Off => "off",
        RecordingMode::OnRequest => "on_request",
        RecordingMode::Always => "always",
    }
}

fn mode_of_name(name: &str) -> Option<RecordingMode> {
    match name {
        "off" => Some(RecordingMode::Off),
        "on_request" => Some(RecordingMode::OnRequest),
        "always" => Some(RecordingMode::Always),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn student(id: &str, name: &str, joined: u64) -> StudentRecord {
        StudentRecord {
            id: id.into(),
            name: name.into(),
            joined,
            revoked_at: None,
        }
    }

    #[test]
    fn classes_are_created_found_and_closed() {
        let dir = tempfile::tempdir().unwrap();
        let store = ClassStore::open(dir.path()).unwrap();
        let class = store
            .create(
                NewClass {
                    name: "Lab 3".into(),
                    targets: vec!["upper-tcp".into()],
                    ..Default::default()
                },
                1000,
            )
            .unwrap();
        assert_eq!(store.get(&class.id).unwrap(), Some(class.clone()));
        assert_eq!(
            store.by_join_code(&class.join_code).unwrap(),
            Some(class.clone())
        );
        assert_eq!(store.by_join_code("nope").unwrap(), None);
        assert_eq!(store.list().unwrap().len(), 1);
        assert!(store.get("../../etc/passwd").unwrap().is_none());
        store.close(&class.id).unwrap();
        assert!(store.get(&class.id).unwrap().unwrap().closed);
        assert_eq!(store.by_join_code(&class.join_code).unwrap(), None);
        assert!(store.create(NewClass::default(), 0).is_err());
        assert!(store.close("c-nothing").is_err());
    }

    #[test]
    fn students_sessions_and_attempts_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = ClassStore::open(dir.path()).unwrap();
        let class = store
            .create(
                NewClass {
                    name: "x".into(),
                    ..Default::default()
                },
                0,
            )
            .unwrap();
        for (id, name, joined) in [
            ("s-a", "Alice", 1),
            ("s-b", "Bob", 2),
            ("s-a", "Alice B.", 3),
        ] {
            store
                .add_student(&class.id, &student(id, name, joined))
                .unwrap();
        }
        let students = store.students(&class.id).unwrap();
        assert_eq!(
            students,
            vec![student("s-a", "Alice B.", 3), student("s-b", "Bob", 2)]
        );
        assert!(
            store
                .add_student(&class.id, &student("../x", "X", 1))
                .is_err()
        );
        let revoked = store.revoke_student(&class.id, "s-b", 9).unwrap();
        assert_eq!(revoked.revoked_at, Some(9));
        let all = store.revoked_in(&class.id).unwrap();
        assert_eq!(
            all.into_iter().collect::<Vec<_>>(),
            [("s-b".to_string(), 9)]
        );
        assert!(store.revoke_student(&class.id, "s-z", 9).is_err());

        let session = |student: &str, started_ms| SessionRecord {
            student: student.into(),
            target: "upper-tcp".into(),
            transport: "tcp".into(),
            peer: "127.0.0.1:1".into(),
            client: "127.0.0.1".into(),
            started_ms,
            duration_ms: 6,
            bytes_to_target: 7,
            bytes_to_page: 8,
            outcome: "closed by peer".into(),
            recording: Some("r1".into()),
        };
        store.add_session(&class.id, &session("s-a", 5)).unwrap();
        store.add_session(&class.id, &session("s-b", 6)).unwrap();
        assert_eq!(
            store.sessions(&class.id).unwrap(),
            vec![session("s-a", 5), session("s-b", 6)]
        );
        assert_eq!(
            store.sessions_of(&class.id, "s-b").unwrap(),
            vec![session("s-b", 6)]
        );
        assert!(store.sessions("c-other").unwrap().is_empty());

        for (task, passed, at_ms) in [("http-304", false, 20), ("http-304", true, 10)] {
            let attempt = Attempt {
                student: "s-a".into(),
                task: task.into(),
                passed,
                detail: "seen".into(),
                target: "http".into(),
                at_ms,
            };
            store.record_attempt(&class.id, &attempt).unwrap();
        }
        let attempts = store.attempts_for_class(&class.id).unwrap();
        assert_eq!(attempts.len(), 2);
        assert_eq!(attempts[0].at_ms, 10, "in time order");
        assert!(attempts[0].passed);
        assert_eq!(store.attempts_of(&class.id, "s-a").unwrap(), attempts);
        assert!(store.attempts_of(&class.id, "s-b").unwrap().is_empty());
        assert!(store.attempts_of("", "s-a").unwrap().is_empty());
    }

    #[test]
    fn a_full_class_refuses_new_students_but_not_rejoins() {
        let dir = tempfile::tempdir().unwrap();
        let store = ClassStore::open(dir.path()).unwrap();
        let class = store
            .create(
                NewClass {
                    name: "x".into(),
                    ..Default::default()
                },
                0,
            )
            .unwrap();
        for i in 0..MAX_STUDENTS_PER_CLASS {
            store
                .add_student(&class.id, &student(&format!("s-{i}"), "S", 1))
                .unwrap();
        }
        let error = store
            .add_student(&class.id, &student("s-new", "N", 2))
            .unwrap_err();
        assert!(error.downcast_ref::<ClassFull>().is_some(), "{error:#}");
        store
            .add_student(&class.id, &student("s-0", "Again", 3))
            .unwrap();
    }

    #[test]
    fn settings_change_only_what_is_given() {
        let dir = tempfile::tempdir().unwrap();
        let store = ClassStore::open(dir.path()).unwrap();
        let class = store
            .create(
                NewClass {
                    name: "x".into(),
                    targets: vec!["smtp".into()],
                    ..Default::default()
                },
                0,
            )
            .unwrap();
        let settings: ClassSettings =
            serde_json::from_str(r#"{"max_delay_ms":200,"recordings":"always"}"#).unwrap();
        let changed = store.update_settings(&class.id, &settings).unwrap();
        assert_eq!(changed.targets, vec!["smtp".to_string()]);
        assert_eq!(changed.max_delay_ms, Some(200));
        assert_eq!(changed.recordings, Some(RecordingMode::Always));
        let settings: ClassSettings =
            serde_json::from_str(r#"{"targets":[],"max_delay_ms":null}"#).unwrap();
        let changed = store.update_settings(&class.id, &settings).unwrap();
        assert!(changed.targets.is_empty());
        assert_eq!(changed.max_delay_ms, None);
        assert_eq!(changed.recordings, Some(RecordingMode::Always));
        assert_eq!(store.get(&class.id).unwrap().unwrap(), changed);
    }

    #[test]
    fn two_handles_on_one_file_see_each_others_writes() {
        // As the CLI and the running relay do, from two connections.
        let dir = tempfile::tempdir().unwrap();
        let relay = ClassStore::open(dir.path()).unwrap();
        let cli = ClassStore::open(dir.path()).unwrap();
        let class = cli
            .create(
                NewClass {
                    name: "x".into(),
                    ..Default::default()
                },
                0,
            )
            .unwrap();
        assert!(relay.get(&class.id).unwrap().is_some());
        let writers: Vec<_> = (0..8)
            .map(|i| {
                let store = if i % 2 == 0 {
                    relay.clone()
                } else {
                    cli.clone()
                };
                let id = class.id.clone();
                std::thread::spawn(move || {
                    for j in 0..20 {
                        store
                            .add_student(&id, &student(&format!("s-{i}-{j}"), "S", j))
                            .unwrap();
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        assert_eq!(relay.students(&class.id).unwrap().len(), 160);
        let mode: String = relay
            .conn()
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for file in ["classroom.sqlite3", "classroom.sqlite3-wal"] {
                let path = dir.path().join("classroom").join(file);
                let mode = std::fs::metadata(&path).unwrap().permissions().mode();
                assert_eq!(mode & 0o777, 0o600, "{file}");
            }
        }
    }
}
