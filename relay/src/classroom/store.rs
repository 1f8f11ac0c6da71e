//! Classes on disk, under `<data_dir>/classes/`: one `<id>.json` per class,
//! and a folder `<id>/` with `students.jsonl` (who joined) and
//! `activity.jsonl` (one line per finished session). The CLI and the
//! running relay share these files, so a class made with `wirelab class
//! create` works at once; every read goes to the disk.

use crate::identity::{ClassId, StudentId};
use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

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
}

/// One student who joined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudentRecord {
    pub id: String,
    pub name: String,
    /// Unix seconds of the (last) join.
    pub joined: u64,
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

/// What a new class is made from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewClass {
    pub name: String,
    pub targets: Vec<String>,
    pub custom_targets: bool,
    pub token_ttl_secs: Option<u64>,
}

/// The `classes` folder.
#[derive(Debug, Clone)]
pub struct ClassStore {
    dir: PathBuf,
}

/// Activity lines read back at most, so a huge log cannot exhaust memory.
const MAX_ACTIVITY_LINES: usize = 20_000;

impl ClassStore {
    pub fn new(data_dir: &Path) -> Self {
        ClassStore {
            dir: data_dir.join("classes"),
        }
    }

    fn class_file(&self, id: &ClassId) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    fn class_dir(&self, id: &ClassId) -> PathBuf {
        self.dir.join(id.as_str())
    }

    pub fn create(&self, new: NewClass, now: u64) -> Result<Class> {
        let name = new.name.trim();
        if name.is_empty() || name.len() > 100 {
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
        };
        self.save(&class)?;
        Ok(class)
    }

    fn save(&self, class: &Class) -> Result<()> {
        std::fs::create_dir_all(&self.dir)
            .with_context(|| format!("cannot create {}", self.dir.display()))?;
        let id = ClassId::parse(&class.id).context("bad class id")?;
        let path = self.class_file(&id);
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(class)?)
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        std::fs::rename(&tmp, &path)?;
        Ok(())
    }

    pub fn get(&self, id: &str) -> Option<Class> {
        let id = ClassId::parse(id)?;
        let text = std::fs::read(self.class_file(&id)).ok()?;
        serde_json::from_slice(&text).ok()
    }

    /// Every class, oldest first.
    pub fn list(&self) -> Vec<Class> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut classes: Vec<Class> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
            .filter_map(|e| std::fs::read(e.path()).ok())
            .filter_map(|bytes| serde_json::from_slice(&bytes).ok())
            .collect();
        classes.sort_by(|a: &Class, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
        classes
    }

    /// The open class whose join code is `code`.
    pub fn by_join_code(&self, code: &str) -> Option<Class> {
        self.list().into_iter().find(|c| {
            !c.closed && crate::secrets::constant_time_eq(c.join_code.as_bytes(), code.as_bytes())
        })
    }

    pub fn close(&self, id: &str) -> Result<Class> {
        let mut class = self
            .get(id)
            .with_context(|| format!("there is no class {id:?}"))?;
        class.closed = true;
        self.save(&class)?;
        Ok(class)
    }

    fn append(&self, id: &str, file: &str, line: &impl Serialize) -> Result<()> {
        let id = ClassId::parse(id).context("bad class id")?;
        let dir = self.class_dir(&id);
        std::fs::create_dir_all(&dir)?;
        let mut out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(file))?;
        let mut text = serde_json::to_string(line)?;
        text.push('\n');
        // One write per line, so concurrent appends do not interleave.
        out.write_all(text.as_bytes())?;
        Ok(())
    }

    fn read_lines<T: for<'de> Deserialize<'de>>(&self, id: &str, file: &str) -> Vec<T> {
        let Some(id) = ClassId::parse(id) else {
            return Vec::new();
        };
        let Ok(text) = std::fs::read_to_string(self.class_dir(&id).join(file)) else {
            return Vec::new();
        };
        let lines: Vec<&str> = text.lines().collect();
        let start = lines.len().saturating_sub(MAX_ACTIVITY_LINES);
        lines[start..]
            .iter()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    pub fn add_student(&self, class: &str, student: &StudentRecord) -> Result<()> {
        StudentId::parse(&student.id).context("bad student id")?;
        self.append(class, "students.jsonl", student)
    }

    /// The students of a class, each once (the latest join wins).
    pub fn students(&self, class: &str) -> Vec<StudentRecord> {
        let mut out: Vec<StudentRecord> = Vec::new();
        for record in self.read_lines::<StudentRecord>(class, "students.jsonl") {
            match out.iter_mut().find(|s| s.id == record.id) {
                Some(existing) => *existing = record,
                None => out.push(record),
            }
        }
        out
    }

    pub fn add_session(&self, class: &str, session: &SessionRecord) -> Result<()> {
        self.append(class, "activity.jsonl", session)
    }

    pub fn sessions(&self, class: &str) -> Vec<SessionRecord> {
        self.read_lines(class, "activity.jsonl")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_are_created_found_and_closed() {
        let dir = tempfile::tempdir().unwrap();
        let store = ClassStore::new(dir.path());
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
        assert_eq!(store.get(&class.id), Some(class.clone()));
        assert_eq!(store.by_join_code(&class.join_code), Some(class.clone()));
        assert_eq!(store.by_join_code("nope"), None);
        assert_eq!(store.list().len(), 1);
        assert!(store.get("../../etc/passwd").is_none());
        store.close(&class.id).unwrap();
        assert!(store.get(&class.id).unwrap().closed);
        assert_eq!(store.by_join_code(&class.join_code), None);
        assert!(store.create(NewClass::default(), 0).is_err());
    }

    #[test]
    fn students_and_sessions_are_logged() {
        let dir = tempfile::tempdir().unwrap();
        let store = ClassStore::new(dir.path());
        let class = store
            .create(
                NewClass {
                    name: "x".into(),
                    ..Default::default()
                },
                0,
            )
            .unwrap();
        for (name, joined) in [("Alice", 1), ("Bob", 2), ("Alice B.", 3)] {
            let id = if name.starts_with("Alice") {
                "s-a"
            } else {
                "s-b"
            };
            store
                .add_student(
                    &class.id,
                    &StudentRecord {
                        id: id.into(),
                        name: name.into(),
                        joined,
                    },
                )
                .unwrap();
        }
        let students = store.students(&class.id);
        assert_eq!(students.len(), 2);
        assert_eq!(students[0].name, "Alice B.");
        let session = SessionRecord {
            student: "s-a".into(),
            target: "upper-tcp".into(),
            transport: "tcp".into(),
            peer: "127.0.0.1:1".into(),
            client: "127.0.0.1".into(),
            started_ms: 5,
            duration_ms: 6,
            bytes_to_target: 7,
            bytes_to_page: 8,
            outcome: "closed by peer".into(),
            recording: None,
        };
        store.add_session(&class.id, &session).unwrap();
        assert_eq!(store.sessions(&class.id), vec![session]);
    }
}
