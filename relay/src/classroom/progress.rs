//! The class grid: every student of a class against every task, from the
//! attempts the class store kept, as JSON for the `/instructor` page and
//! scripts, and as CSV for a spreadsheet.
//!
//! | route | what |
//! |---|---|
//! | `GET /api/classes/{id}/progress` | `{"class", "tasks": [{id, page, title}], "students": [{id, name, cells, attempts}]}` |
//! | `GET /api/classes/{id}/progress.csv` | one row per student, one column per task, the cell's status |
//!
//! Both are the instructor's alone (students and anonymous callers get
//! 401). A cell is `passed` (some attempt passed), `missing` (tried, not
//! passed: `last_reason` says what was missing) or `todo`.

use super::api::ApiError;
use super::blocking;
use super::manage::instructors_class;
use super::store::{Attempt, StudentRecord};
use crate::AppState;
use crate::policy::Refusal;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::collections::HashMap;
use wirelab_shared::exercises::{Page, Task};

/// A task, as a column of the grid.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskColumn {
    pub id: String,
    pub page: Page,
    pub title: String,
}

/// One student's standing on one task.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cell {
    pub task: String,
    /// `passed`, `missing` or `todo`.
    pub status: &'static str,
    pub attempts: usize,
    /// Unix milliseconds of the first pass.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_passed_at_ms: Option<u64>,
    /// What the latest attempt found missing, while not passed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_reason: Option<String>,
}

/// One attempt in a student's history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttemptRow {
    pub task: String,
    pub passed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub target: String,
    /// Unix milliseconds.
    pub at_ms: u64,
}

/// One row of the grid.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StudentProgress {
    pub id: String,
    pub name: String,
    /// One per task, in the order of [`Progress::tasks`].
    pub cells: Vec<Cell>,
    /// Every attempt of theirs, oldest first.
    pub attempts: Vec<AttemptRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Progress {
    pub class: String,
    pub tasks: Vec<TaskColumn>,
    pub students: Vec<StudentProgress>,
}

/// The grid of `students` over `tasks`, from the class's `attempts` in
/// time order. Attempts of a task no longer loaded stay in the student's
/// history but have no column.
pub fn grid(
    class: &str,
    tasks: &[Task],
    students: Vec<StudentRecord>,
    attempts: &[Attempt],
) -> Progress {
    // Grouped once: a class of thousands with 20 000 attempts is not
    // scanned once per student.
    let mut by_student: HashMap<&str, Vec<&Attempt>> = HashMap::new();
    for attempt in attempts {
        by_student
            .entry(&attempt.student)
            .or_default()
            .push(attempt);
    }
    let students = students
        .into_iter()
        .map(|student| {
            let theirs = by_student.remove(student.id.as_str()).unwrap_or_default();
            StudentProgress {
                cells: tasks.iter().map(|t| cell(&t.id, &theirs)).collect(),
                attempts: theirs.iter().map(|a| row(a)).collect(),
                id: student.id,
                name: student.name,
            }
        })
        .collect();
    Progress {
        class: class.to_string(),
        tasks: tasks
            .iter()
            .map(|t| TaskColumn {
                id: t.id.clone(),
                page: t.page,
                title: t.title.clone(),
            })
            .collect(),
        students,
    }
}

fn cell(task: &str, theirs: &[&Attempt]) -> Cell {
    let mine: Vec<&&Attempt> = theirs.iter().filter(|a| a.task == task).collect();
    let first_pass = mine.iter().find(|a| a.passed);
    let status = match (first_pass, mine.last()) {
        (Some(_), _) => "passed",
        (None, Some(_)) => "missing",
        (None, None) => "todo",
    };
    Cell {
        task: task.to_string(),
        status,
        attempts: mine.len(),
        first_passed_at_ms: first_pass.map(|a| a.at_ms),
        last_reason: match (first_pass, mine.last()) {
            (None, Some(last)) if !last.detail.is_empty() => Some(last.detail.clone()),
            _ => None,
        },
    }
}

fn row(attempt: &Attempt) -> AttemptRow {
    AttemptRow {
        task: attempt.task.clone(),
        passed: attempt.passed,
        reason: (!attempt.passed && !attempt.detail.is_empty()).then(|| attempt.detail.clone()),
        target: attempt.target.clone(),
        at_ms: attempt.at_ms,
    }
}

/// The grid as CSV (RFC 4180, CRLF line ends): `student,name`, then one
/// column per task id, each cell its status.
pub fn to_csv(progress: &Progress) -> anyhow::Result<String> {
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let mut header = vec!["student".to_string(), "name".to_string()];
    header.extend(progress.tasks.iter().map(|t| t.id.clone()));
    out.write_record(&header)?;
    for student in &progress.students {
        let mut record = vec![
            spreadsheet_safe(&student.id),
            spreadsheet_safe(&student.name),
        ];
        record.extend(student.cells.iter().map(|c| c.status.to_string()));
        out.write_record(&record)?;
    }
    Ok(String::from_utf8(out.into_inner()?)?)
}

/// A name a student typed, kept from being read as a formula by a
/// spreadsheet that opens the file (OWASP's CSV injection advice: a
/// leading `'`).
fn spreadsheet_safe(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

/// The class's grid, read from the store.
async fn progress_of(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
) -> Result<Progress, ApiError> {
    instructors_class(state, headers, id).await?;
    let store = state.classroom.store.clone();
    let class = id.to_string();
    let (students, attempts) =
        blocking(move || Ok((store.students(&class)?, store.attempts_for_class(&class)?))).await?;
    Ok(grid(id, state.exercises.tasks(), students, &attempts))
}

/// `GET /api/classes/{id}/progress`.
pub async fn progress(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Progress>, ApiError> {
    Ok(Json(progress_of(&state, &headers, &id).await?))
}

/// `GET /api/classes/{id}/progress.csv`, offered as a download.
pub async fn progress_csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let progress = progress_of(&state, &headers, &id).await?;
    let text = to_csv(&progress)
        .map_err(|e| Refusal::bad_request(format!("cannot write the CSV: {e:#}")))?;
    let mut response = text.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8; header=present"),
    );
    // The id is the relay's own (letters, digits, dashes), safe in a header.
    if let Ok(value) = HeaderValue::from_str(&format!(
        "attachment; filename=\"progress-{}.csv\"",
        id.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_")
    )) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn student(id: &str, name: &str) -> StudentRecord {
        StudentRecord {
            id: id.into(),
            name: name.into(),
            joined: 0,
            revoked_at: None,
        }
    }

    fn attempt(student: &str, task: &str, passed: bool, at_ms: u64) -> Attempt {
        Attempt {
            student: student.into(),
            task: task.into(),
            passed,
            detail: if passed {
                String::new()
            } else {
                format!("no {task} yet")
            },
            target: "http".into(),
            at_ms,
        }
    }

    fn two_tasks() -> Vec<Task> {
        wirelab_shared::exercises::default_tasks()
            .into_iter()
            .filter(|t| t.id == "http-head" || t.id == "http-404")
            .collect()
    }

    #[test]
    fn each_cell_is_the_students_own() {
        let tasks = two_tasks();
        let attempts = [
            attempt("ann", "http-404", false, 1),
            attempt("bob", "http-404", true, 2),
            attempt("ann", "http-404", false, 3),
            attempt("ann", "http-head", true, 4),
            attempt("ann", "gone-task", true, 5),
        ];
        let progress = grid(
            "c1",
            &tasks,
            vec![student("ann", "Ann"), student("bob", "Bob")],
            &attempts,
        );
        let column = |id: &str| tasks.iter().position(|t| t.id == id).unwrap();
        let ann = &progress.students[0];
        let missing = &ann.cells[column("http-404")];
        assert_eq!(
            (missing.status, missing.attempts),
            ("missing", 2),
            "{missing:?}"
        );
        assert_eq!(missing.last_reason.as_deref(), Some("no http-404 yet"));
        let passed = &ann.cells[column("http-head")];
        assert_eq!(passed.status, "passed");
        assert_eq!(passed.first_passed_at_ms, Some(4));
        assert_eq!(passed.last_reason, None);
        let times: Vec<u64> = ann.attempts.iter().map(|a| a.at_ms).collect();
        assert_eq!(times, [1, 3, 4, 5], "every attempt of Ann's, oldest first");
        let bob = &progress.students[1];
        assert_eq!(bob.cells[column("http-404")].status, "passed");
        assert_eq!(bob.cells[column("http-head")].status, "todo");
        assert_eq!(bob.attempts.len(), 1);
    }

    #[test]
    fn csv_quotes_commas_quotes_and_defuses_formulas() {
        let tasks = two_tasks();
        let progress = grid(
            "c1",
            &tasks,
            vec![
                student("s-1", "Doe, \"JJ\" Jane"),
                student("s-2", "=HYPERLINK(\"x\")"),
            ],
            &[attempt("s-1", "http-head", true, 1)],
        );
        let text = to_csv(&progress).unwrap();
        let lines: Vec<&str> = text.split("\r\n").collect();
        let ids: Vec<&str> = tasks.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(lines[0], format!("student,name,{}", ids.join(",")));
        let head_first = ids[0] == "http-head";
        let ann = if head_first {
            "passed,todo"
        } else {
            "todo,passed"
        };
        assert_eq!(lines[1], format!("s-1,\"Doe, \"\"JJ\"\" Jane\",{ann}"));
        assert_eq!(lines[2], "s-2,\"'=HYPERLINK(\"\"x\"\")\",todo,todo");
        assert_eq!(lines[3], "", "the last record ends in CRLF");
        assert_eq!(lines.len(), 4);
    }
}
