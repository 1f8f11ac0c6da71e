//! The class grid's state: the relay's `/api/classes/{id}/progress`
//! (students × tasks, each student's attempts) and the `attempt` events of
//! the class's feed applied to it as they come, so a cell ticks without a
//! reload. A plain reducer with native tests; the view is [`super::grid`].

use serde::Deserialize;
use std::rc::Rc;
use yew::Reducible;

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TaskColumn {
    pub id: String,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Cell {
    pub task: String,
    /// `passed`, `missing` or `todo`.
    pub status: String,
    pub attempts: usize,
    #[serde(default)]
    pub first_passed_at_ms: Option<u64>,
    #[serde(default)]
    pub last_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AttemptRow {
    pub task: String,
    pub passed: bool,
    #[serde(default)]
    pub reason: Option<String>,
    pub at_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StudentRow {
    pub id: String,
    pub name: String,
    pub cells: Vec<Cell>,
    pub attempts: Vec<AttemptRow>,
}

/// The relay's answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Progress {
    pub tasks: Vec<TaskColumn>,
    pub students: Vec<StudentRow>,
}

/// An `attempt` event of the class feed (the fields the grid needs).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AttemptEvent {
    pub student: String,
    pub task: String,
    pub passed: bool,
    #[serde(default)]
    pub reason: Option<String>,
    pub at_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Grid {
    pub tasks: Vec<TaskColumn>,
    pub students: Vec<StudentRow>,
    pub error: Option<String>,
}

pub enum GridAction {
    Loaded(Progress),
    Attempt(AttemptEvent),
    Failed(String),
}

impl Grid {
    pub fn apply(&mut self, action: GridAction) {
        match action {
            GridAction::Loaded(progress) => {
                self.tasks = progress.tasks;
                self.students = progress.students;
                self.error = None;
            }
            GridAction::Attempt(event) => self.attempt(event),
            GridAction::Failed(message) => self.error = Some(message),
        }
    }

    /// Applies one attempt. One the grid already holds (a reload crossed
    /// the event) changes nothing; one of a student the grid does not list
    /// yet waits for the reload their `joined` event brings.
    fn attempt(&mut self, event: AttemptEvent) {
        let Some(student) = self.students.iter_mut().find(|s| s.id == event.student) else {
            return;
        };
        let known = student
            .attempts
            .iter()
            .any(|a| a.task == event.task && a.at_ms == event.at_ms && a.passed == event.passed);
        if known {
            return;
        }
        let at = student.attempts.partition_point(|a| a.at_ms <= event.at_ms);
        student.attempts.insert(
            at,
            AttemptRow {
                task: event.task.clone(),
                passed: event.passed,
                reason: event.reason.clone(),
                at_ms: event.at_ms,
            },
        );
        if let Some(cell) = student.cells.iter_mut().find(|c| c.task == event.task) {
            cell.attempts += 1;
            if event.passed {
                cell.status = "passed".into();
                cell.first_passed_at_ms.get_or_insert(event.at_ms);
                cell.last_reason = None;
            } else if cell.status != "passed" {
                cell.status = "missing".into();
                cell.last_reason = event.reason;
            }
        }
    }
}

impl Reducible for Grid {
    type Action = GridAction;

    fn reduce(self: Rc<Self>, action: GridAction) -> Rc<Self> {
        let mut next = (*self).clone();
        next.apply(action);
        Rc::new(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loaded() -> Grid {
        let progress: Progress = serde_json::from_value(serde_json::json!({
            "class": "c-1",
            "tasks": [{"id": "http-head", "page": "http", "title": "HEAD"},
                      {"id": "http-404", "page": "http", "title": "404"}],
            "students": [
                {"id": "s-a", "name": "Ann", "attempts": [],
                 "cells": [{"task": "http-head", "status": "todo", "attempts": 0},
                           {"task": "http-404", "status": "todo", "attempts": 0}]},
                {"id": "s-b", "name": "Bob", "attempts": [],
                 "cells": [{"task": "http-head", "status": "todo", "attempts": 0},
                           {"task": "http-404", "status": "todo", "attempts": 0}]}]
        }))
        .unwrap();
        let mut grid = Grid::default();
        grid.apply(GridAction::Loaded(progress));
        grid
    }

    fn event(student: &str, task: &str, passed: bool, at_ms: u64) -> AttemptEvent {
        AttemptEvent {
            student: student.into(),
            task: task.into(),
            passed,
            reason: (!passed).then(|| "not yet".into()),
            at_ms,
        }
    }

    fn status(grid: &Grid, student: usize, task: usize) -> &str {
        &grid.students[student].cells[task].status
    }

    #[test]
    fn an_attempt_ticks_its_students_cell_only() {
        let mut grid = loaded();
        grid.apply(GridAction::Attempt(event("s-b", "http-404", false, 10)));
        assert_eq!(status(&grid, 1, 1), "missing");
        assert_eq!(
            grid.students[1].cells[1].last_reason.as_deref(),
            Some("not yet")
        );
        grid.apply(GridAction::Attempt(event("s-b", "http-404", true, 20)));
        assert_eq!(status(&grid, 1, 1), "passed");
        assert_eq!(grid.students[1].cells[1].first_passed_at_ms, Some(20));
        assert_eq!(grid.students[1].cells[1].attempts, 2);
        assert_eq!(status(&grid, 0, 1), "todo", "Ann's cell is hers");
        assert_eq!(status(&grid, 1, 0), "todo", "another task's cell stays");
        // A later miss does not take a pass away.
        grid.apply(GridAction::Attempt(event("s-b", "http-404", false, 30)));
        assert_eq!(status(&grid, 1, 1), "passed");
    }

    #[test]
    fn attempts_stay_in_time_order_and_a_repeat_counts_once() {
        let mut grid = loaded();
        grid.apply(GridAction::Attempt(event("s-a", "http-head", true, 30)));
        grid.apply(GridAction::Attempt(event("s-a", "http-404", false, 10)));
        grid.apply(GridAction::Attempt(event("s-a", "http-head", true, 30)));
        let times: Vec<u64> = grid.students[0].attempts.iter().map(|a| a.at_ms).collect();
        assert_eq!(times, [10, 30]);
        assert_eq!(grid.students[0].cells[0].attempts, 1);
    }

    #[test]
    fn an_unknown_student_waits_for_the_reload() {
        let mut grid = loaded();
        let before = grid.clone();
        grid.apply(GridAction::Attempt(event("s-new", "http-head", true, 5)));
        assert_eq!(grid, before);
        grid.apply(GridAction::Failed("HTTP 500".into()));
        assert_eq!(grid.error.as_deref(), Some("HTTP 500"));
    }
}
