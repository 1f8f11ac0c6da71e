//! The class store's schema and its migrations, numbered by SQLite's
//! `PRAGMA user_version`: the database at version N has had the first N
//! steps of `MIGRATIONS` applied. A new version appends a step; steps
//! already shipped are never edited.
//!
//! Migrating runs in one `IMMEDIATE` transaction, so when the CLI and the
//! relay open a new data directory together, one migrates and the other
//! waits for it and then finds nothing to do.

use anyhow::{Context, Result, bail};
use rusqlite::{Connection, TransactionBehavior};
use std::path::Path;

/// Each step's SQL, in order; step N brings the database to version N + 1.
const MIGRATIONS: &[&str] = &[
    // 1: classes, students, finished sessions, exercise attempts.
    "CREATE TABLE classes (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        join_code TEXT NOT NULL UNIQUE,
        created INTEGER NOT NULL,
        closed INTEGER NOT NULL DEFAULT 0,
        targets TEXT NOT NULL DEFAULT '[]',
        custom_targets INTEGER NOT NULL DEFAULT 0,
        token_ttl_secs INTEGER,
        max_delay_ms INTEGER,
        recordings TEXT
    );
    CREATE TABLE students (
        class TEXT NOT NULL REFERENCES classes (id),
        id TEXT NOT NULL,
        name TEXT NOT NULL,
        joined INTEGER NOT NULL,
        revoked_at INTEGER,
        PRIMARY KEY (class, id)
    );
    CREATE TABLE sessions (
        class TEXT NOT NULL,
        student TEXT NOT NULL,
        target TEXT NOT NULL,
        transport TEXT NOT NULL,
        peer TEXT NOT NULL,
        client TEXT NOT NULL,
        started_ms INTEGER NOT NULL,
        duration_ms INTEGER NOT NULL,
        bytes_to_target INTEGER NOT NULL,
        bytes_to_page INTEGER NOT NULL,
        outcome TEXT NOT NULL,
        recording TEXT
    );
    CREATE INDEX sessions_of_student ON sessions (class, student);
    CREATE TABLE attempts (
        id INTEGER PRIMARY KEY,
        class TEXT NOT NULL,
        student TEXT NOT NULL,
        task TEXT NOT NULL,
        passed INTEGER NOT NULL,
        detail TEXT NOT NULL,
        at_ms INTEGER NOT NULL
    );
    CREATE INDEX attempts_of_class ON attempts (class, at_ms);",
    // 2: the target an attempt was checked after; a learner's attempts at
    // once (the local user of a relay without classes is class '').
    "ALTER TABLE attempts ADD COLUMN target TEXT NOT NULL DEFAULT '';
    CREATE INDEX attempts_of_student ON attempts (class, student, at_ms);",
];

/// The version this relay writes.
pub const VERSION: usize = MIGRATIONS.len();

/// Brings the database up to [`VERSION`]. A database made before there
/// was one (version 0) also gets the JSON files of `data_dir` imported,
/// in the same transaction, so they are imported exactly once.
pub fn migrate(conn: &mut Connection, data_dir: &Path) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: usize = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version > VERSION {
        bail!(
            "the class store is at version {version}, made by a newer relay (this one knows \
             {VERSION}); use that relay or a copy of the data directory"
        );
    }
    for (step, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        tx.execute_batch(sql)
            .with_context(|| format!("migration to version {}", step + 1))?;
    }
    if version == 0 {
        let imported = super::legacy::import(&tx, data_dir)?;
        if imported.classes > 0 {
            tracing::info!(
                "imported {} class(es), {} join(s) and {} session(s) from the JSON files in \
                 {} (left in place; the database is used from now on)",
                imported.classes,
                imported.students,
                imported.sessions,
                data_dir.join("classes").display()
            );
        }
    }
    if version != VERSION {
        tx.pragma_update(None, "user_version", VERSION)?;
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrating_twice_is_a_no_op_and_a_newer_store_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = Connection::open(dir.path().join("db")).unwrap();
        migrate(&mut conn, dir.path()).unwrap();
        migrate(&mut conn, dir.path()).unwrap();
        let version: usize = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, VERSION);
        conn.pragma_update(None, "user_version", VERSION + 1)
            .unwrap();
        let error = migrate(&mut conn, dir.path()).unwrap_err();
        assert!(error.to_string().contains("newer relay"), "{error:#}");
    }
}
