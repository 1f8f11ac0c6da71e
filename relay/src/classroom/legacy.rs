//! The import of a data directory kept by a relay from before the class
//! store: `classes/<id>.json` (one class each), `classes/<id>/students.jsonl`
//! (one join per line, the latest wins) and `classes/<id>/activity.jsonl`
//! (one finished session per line). [`super::schema::migrate`] calls it
//! once, when it makes the database; the files are left where they are.
//! A line or file that does not parse is skipped with a warning, as the
//! old relay skipped it when reading.

use super::store::{Class, SessionRecord, StudentRecord, insert_class};
use anyhow::Result;
use rusqlite::{Connection, params};
use serde::de::DeserializeOwned;
use std::path::Path;

/// What was imported.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Imported {
    pub classes: usize,
    pub students: usize,
    pub sessions: usize,
}

/// Imports every class under `<data_dir>/classes` into `conn`.
pub fn import(conn: &Connection, data_dir: &Path) -> Result<Imported> {
    let dir = data_dir.join("classes");
    let mut imported = Imported::default();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(imported);
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|x| x != "json") {
            continue;
        }
        let class: Class = match std::fs::read(&path)
            .map_err(anyhow::Error::from)
            .and_then(|b| Ok(serde_json::from_slice(&b)?))
        {
            Ok(class) => class,
            Err(e) => {
                tracing::warn!("not importing {}: {e:#}", path.display());
                continue;
            }
        };
        insert_class(conn, &class)?;
        imported.classes += 1;
        let class_dir = dir.join(&class.id);
        imported.students += import_students(conn, &class.id, &class_dir)?;
        imported.sessions += import_sessions(conn, &class.id, &class_dir)?;
    }
    Ok(imported)
}

fn import_students(conn: &Connection, class: &str, dir: &Path) -> Result<usize> {
    let mut stmt = conn.prepare(
        "INSERT INTO students (class, id, name, joined) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (class, id) DO UPDATE SET name = excluded.name, joined = excluded.joined",
    )?;
    let mut n = 0;
    for s in read_lines::<StudentRecord>(&dir.join("students.jsonl")) {
        if crate::identity::StudentId::parse(&s.id).is_some() {
            n += stmt.execute(params![class, s.id, s.name, s.joined])?;
        }
    }
    Ok(n)
}

fn import_sessions(conn: &Connection, class: &str, dir: &Path) -> Result<usize> {
    let mut stmt = conn.prepare(
        "INSERT INTO sessions (class, student, target, transport, peer, client, started_ms, \
         duration_ms, bytes_to_target, bytes_to_page, outcome, recording) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    let mut n = 0;
    for s in read_lines::<SessionRecord>(&dir.join("activity.jsonl")) {
        n += stmt.execute(params![
            class,
            s.student,
            s.target,
            s.transport,
            s.peer,
            s.client,
            s.started_ms,
            s.duration_ms,
            s.bytes_to_target,
            s.bytes_to_page,
            s.outcome,
            s.recording,
        ])?;
    }
    Ok(n)
}

/// The parsable lines of a JSON-lines file, the last
/// [`super::store::MAX_ROWS`] of them (as the old relay read it).
fn read_lines<T: DeserializeOwned>(path: &Path) -> Vec<T> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(super::store::MAX_ROWS);
    lines[start..]
        .iter()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::store::ClassStore;

    /// A data directory as the JSON-file relay left it.
    fn old_data_dir(dir: &std::path::Path) {
        let classes = dir.join("classes");
        std::fs::create_dir_all(classes.join("c-0a1b2c/students/s-1/maildir")).unwrap();
        std::fs::write(
            classes.join("c-0a1b2c.json"),
            r#"{"id":"c-0a1b2c","name":"Lab 1","join_code":"00ff00ff00ff00ff00ff00ff",
               "created":100,"closed":false,"targets":["smtp"],"custom_targets":true}"#,
        )
        .unwrap();
        std::fs::write(
            classes.join("c-ffffff.json"),
            r#"{"id":"c-ffffff","name":"Old","join_code":"11","created":50,"closed":true}"#,
        )
        .unwrap();
        std::fs::write(classes.join("broken.json"), "{not json").unwrap();
        std::fs::write(
            classes.join("c-0a1b2c/students.jsonl"),
            "{\"id\":\"s-1\",\"name\":\"Ada\",\"joined\":101}\n\
             {\"id\":\"s-2\",\"name\":\"Bob\",\"joined\":102}\n\
             garbage\n\
             {\"id\":\"s-1\",\"name\":\"Ada L.\",\"joined\":103}\n",
        )
        .unwrap();
        std::fs::write(
            classes.join("c-0a1b2c/activity.jsonl"),
            "{\"student\":\"s-1\",\"target\":\"smtp\",\"transport\":\"tcp\",\
             \"peer\":\"127.0.0.1:2525\",\"client\":\"127.0.0.1\",\"started_ms\":5,\
             \"duration_ms\":6,\"bytes_to_target\":7,\"bytes_to_page\":8,\
             \"outcome\":\"closed by peer\"}\n",
        )
        .unwrap();
    }

    #[test]
    fn the_json_files_are_imported_once() {
        let dir = tempfile::tempdir().unwrap();
        old_data_dir(dir.path());
        let store = ClassStore::open(dir.path()).unwrap();
        let classes = store.list().unwrap();
        let names: Vec<_> = classes.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["Old", "Lab 1"]);
        assert!(classes[0].closed);
        assert_eq!(classes[1].targets, ["smtp"]);
        assert!(classes[1].custom_targets);
        let lab = store
            .by_join_code("00ff00ff00ff00ff00ff00ff")
            .unwrap()
            .unwrap();
        let students = store.students(&lab.id).unwrap();
        assert_eq!(students.len(), 2);
        assert_eq!(
            (students[0].name.as_str(), students[0].joined),
            ("Ada L.", 103)
        );
        let sessions = store.sessions(&lab.id).unwrap();
        assert_eq!(sessions.len(), 1);
        assert_eq!(sessions[0].bytes_to_page, 8);
        // The files stay, and opening again does not import them again.
        drop(store);
        assert!(dir.path().join("classes/c-0a1b2c.json").is_file());
        let again = ClassStore::open(dir.path()).unwrap();
        assert_eq!(again.list().unwrap().len(), 2);
        assert_eq!(again.students(&lab.id).unwrap().len(), 2);
        assert_eq!(again.sessions(&lab.id).unwrap().len(), 1);
    }
}
