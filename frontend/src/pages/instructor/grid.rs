//! The class grid on `/instructor`: students × tasks, a tick or a cross
//! per cell, the CSV link, and each student's attempts in time order (a
//! `<details>` to open). Loaded from `/api/classes/{id}/progress`, then
//! kept live by the class feed's `attempt` events; a join, or a feed that
//! fell behind, loads it again.

use super::progress::{AttemptEvent, Cell, Grid, GridAction, Progress, StudentRow};
use crate::plural::plural;
use gloo_events::EventListener;
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// Feed events after which the grid is read again.
const RELOAD_EVENTS: &[&str] = &["joined", "lagged"];

#[derive(Properties, PartialEq)]
pub struct ProgressGridProps {
    pub id: String,
}

#[function_component(ProgressGrid)]
pub fn progress_grid(props: &ProgressGridProps) -> Html {
    let grid = use_reducer(Grid::default);
    {
        let dispatch = grid.dispatcher();
        use_effect_with(props.id.clone(), move |id| {
            let listening = listen(id.clone(), dispatch);
            move || drop(listening)
        });
    }
    let csv = format!("/api/classes/{}/progress.csv", props.id);
    html! {
        <section class="progress-grid" data-testid="progress-grid">
            <h3>{ "Progress" }</h3>
            <p><a href={csv} download="progress.csv" data-testid="progress-csv">{ "Download as CSV" }</a></p>
            if let Some(e) = &grid.error {
                <p class="notice" role="alert">{ e }</p>
            }
            // Focusable, so a keyboard can scroll a grid wider than the screen.
            <div class="table-scroll" tabindex="0" role="region" aria-label="The class grid">
                <table>
                    <thead><tr>
                        <th scope="col">{ "Student" }</th>
                        { for grid.tasks.iter().map(|t| html! {
                            <th scope="col" title={t.title.clone()}>{ &t.id }</th>
                        }) }
                    </tr></thead>
                    <tbody>{ for grid.students.iter().map(student_row) }</tbody>
                </table>
            </div>
            <h4>{ "Attempts" }</h4>
            { for grid.students.iter().map(attempts_of) }
        </section>
    }
}

fn student_row(student: &StudentRow) -> Html {
    html! {
        <tr>
            <th scope="row">{ &student.name }</th>
            { for student.cells.iter().map(|c| cell(&student.id, c)) }
        </tr>
    }
}

fn cell(student: &str, cell: &Cell) -> Html {
    let (mark, label) = match cell.status.as_str() {
        "passed" => ("✓", "passed".to_string()),
        "missing" => (
            "✗",
            format!(
                "missing: {}",
                cell.last_reason.as_deref().unwrap_or("not passed yet")
            ),
        ),
        _ => ("", "not tried".to_string()),
    };
    html! {
        <td data-testid="progress-cell" data-student={student.to_string()}
            data-task={cell.task.clone()} data-status={cell.status.clone()}
            title={label.clone()} aria-label={label}>
            { mark }
            if cell.attempts > 1 {
                <small>{ format!(" {}", cell.attempts) }</small>
            }
        </td>
    }
}

/// One student's attempts, oldest first, folded.
fn attempts_of(student: &StudentRow) -> Html {
    html! {
        <details data-testid="student-attempts" data-student={student.id.clone()}>
            <summary>{ format!("{} ({})", student.name, plural(student.attempts.len(), "attempt")) }</summary>
            <ol>
                { for student.attempts.iter().map(|a| html! {
                    <li data-passed={a.passed.to_string()}>
                        { format!("{} {} {}", clock(a.at_ms), a.task, if a.passed { "✓" } else { "✗" }) }
                        if let Some(why) = &a.reason {
                            { format!(" — {why}") }
                        }
                    </li>
                }) }
            </ol>
        </details>
    }
}

/// `HH:MM:SS` (UTC) of Unix milliseconds.
fn clock(at_ms: u64) -> String {
    let secs = at_ms / 1000;
    format!(
        "{:02}:{:02}:{:02}",
        secs / 3600 % 24,
        secs / 60 % 60,
        secs % 60
    )
}

/// What keeps the grid live: the event source and its listeners.
struct Listening {
    source: web_sys::EventSource,
    _listeners: Vec<EventListener>,
}

impl Drop for Listening {
    fn drop(&mut self) {
        self.source.close();
    }
}

/// Loads the grid, then applies each attempt of the class's feed.
fn listen(id: String, dispatch: UseReducerDispatcher<Grid>) -> Option<Listening> {
    load(&id, dispatch.clone());
    let source = web_sys::EventSource::new(&format!("/api/classes/{id}/events")).ok()?;
    let mut listeners = Vec::new();
    let on_attempt = dispatch.clone();
    listeners.push(EventListener::new(&source, "attempt", move |event| {
        let data = event
            .dyn_ref::<web_sys::MessageEvent>()
            .and_then(|m| m.data().as_string());
        if let Some(attempt) = data.and_then(|d| serde_json::from_str::<AttemptEvent>(&d).ok()) {
            on_attempt.dispatch(GridAction::Attempt(attempt));
        }
    }));
    for kind in RELOAD_EVENTS {
        let (id, dispatch) = (id.clone(), dispatch.clone());
        listeners.push(EventListener::new(&source, *kind, move |_| {
            load(&id, dispatch.clone());
        }));
    }
    Some(Listening {
        source,
        _listeners: listeners,
    })
}

fn load(id: &str, dispatch: UseReducerDispatcher<Grid>) {
    let path = format!("/api/classes/{id}/progress");
    yew::platform::spawn_local(async move {
        dispatch.dispatch(match crate::api::get_json::<Progress>(&path).await {
            Ok(progress) => GridAction::Loaded(progress),
            Err(e) => GridAction::Failed(e.message),
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_is_utc_hours_minutes_seconds() {
        assert_eq!(clock(0), "00:00:00");
        assert_eq!(clock(((13 * 60 + 5) * 60 + 9) * 1000 + 999), "13:05:09");
    }
}
