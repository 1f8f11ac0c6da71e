//! The page's exercises: the tasks of one page with the learner's status,
//! each with its hint, ticked live. The relay does the checking, from the
//! bytes it bridged (`GET /api/tasks?page=`, and the Server-Sent Events of
//! `GET /api/tasks/events`); without a relay the panel says so, since the
//! in-browser servers check nothing.
//!
//! The panel's state is a plain reducer ([`Tasks`]): the list loaded, an
//! error, and [`apply_tick`], the one change a tick makes, tested natively.

use crate::relay_info::{RelayStatus, use_relay_info};
use serde::Deserialize;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// One task as `GET /api/tasks` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TaskRow {
    pub id: String,
    pub title: String,
    pub hint: String,
    /// `passed`, `missing` or `todo`.
    pub status: String,
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct TaskList {
    tasks: Vec<TaskRow>,
}

/// What `event: tick` carries.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Tick {
    pub task: String,
    pub passed: bool,
    #[serde(default)]
    pub reason: Option<String>,
}

/// The list once `tick` arrived: a pass stays a pass.
pub fn apply_tick(rows: &[TaskRow], tick: &Tick) -> Vec<TaskRow> {
    rows.iter()
        .map(|row| {
            if row.id != tick.task || row.status == "passed" {
                return row.clone();
            }
            TaskRow {
                status: if tick.passed { "passed" } else { "missing" }.to_string(),
                reason: if tick.passed {
                    None
                } else {
                    tick.reason.clone()
                },
                ..row.clone()
            }
        })
        .collect()
}

/// The panel's state.
#[derive(Debug, Default, PartialEq)]
pub struct Tasks {
    /// `None` until the relay answered.
    pub rows: Option<Vec<TaskRow>>,
    pub error: Option<String>,
}

pub enum TasksAction {
    Loaded(Vec<TaskRow>),
    Failed(String),
    Tick(Tick),
}

impl Reducible for Tasks {
    type Action = TasksAction;

    fn reduce(self: Rc<Self>, action: TasksAction) -> Rc<Self> {
        Rc::new(match action {
            TasksAction::Loaded(rows) => Tasks {
                rows: Some(rows),
                error: None,
            },
            TasksAction::Failed(error) => Tasks {
                rows: self.rows.clone(),
                error: Some(error),
            },
            TasksAction::Tick(tick) => Tasks {
                rows: self.rows.as_deref().map(|rows| apply_tick(rows, &tick)),
                error: self.error.clone(),
            },
        })
    }
}

#[derive(Properties, PartialEq)]
pub struct TaskPanelProps {
    /// The page's name in the task files (`http`, `sockets`).
    pub page: AttrValue,
}

#[function_component(TaskPanel)]
pub fn task_panel(props: &TaskPanelProps) -> Html {
    let info = use_relay_info();
    let online = info.is_online();
    let tasks = use_reducer(Tasks::default);
    {
        let dispatch = tasks.dispatcher();
        let page = props.page.clone();
        use_effect_with((page, online), move |(page, online)| {
            let listening = online.then(|| listen(page.to_string(), dispatch));
            move || drop(listening)
        });
    }
    let body = match (&info.status, &tasks.rows) {
        (RelayStatus::Offline { .. }, _) => html! {
            <p class="hint" data-testid="tasks-need-relay">
                { "These tasks are checked by a relay, from the bytes it carries. The page runs \
                   its own servers now and checks nothing: start the relay (cargo xtask run) to \
                   have your work ticked." }
            </p>
        },
        (RelayStatus::Locked { .. }, _) => html! {
            <p class="hint" data-testid="tasks-need-relay">
                { "Join your class (the link your instructor gave) to have your tasks checked." }
            </p>
        },
        (_, None) => html! { <p class="hint">{ "Asking the relay…" }</p> },
        (_, Some(rows)) => html! {
            <ul class="tasks">
                { for rows.iter().map(task_item) }
            </ul>
        },
    };
    html! {
        <section class="task-panel" data-testid="task-panel" data-page={props.page.clone()}>
            <h2>{ "Tasks" }</h2>
            if let Some(e) = &tasks.error {
                <p class="notice" data-testid="tasks-error">{ e }</p>
            }
            { body }
        </section>
    }
}

fn task_item(row: &TaskRow) -> Html {
    let (mark, class) = match row.status.as_str() {
        "passed" => ("done", "badge ok"),
        "missing" => ("not yet", "badge note"),
        _ => ("to do", "badge"),
    };
    html! {
        <li data-testid="task" data-task={row.id.clone()} data-status={row.status.clone()}>
            <span class={class}>{ mark }</span>{ " " }
            <span class="task-title">{ &row.title }</span>
            if let Some(reason) = &row.reason {
                <p class="hint" data-testid="task-reason">{ reason }</p>
            }
            <details>
                <summary>{ "hint" }</summary>
                <p data-testid="task-hint">{ &row.hint }</p>
            </details>
        </li>
    }
}

/// What keeps the live list going: the event source and its listener.
struct Listening {
    source: web_sys::EventSource,
    _ticks: gloo_events::EventListener,
}

impl Drop for Listening {
    fn drop(&mut self) {
        self.source.close();
    }
}

/// Loads the page's tasks, then applies each tick as it comes.
fn listen(page: String, dispatch: UseReducerDispatcher<Tasks>) -> Option<Listening> {
    load(&page, dispatch.clone());
    let source = web_sys::EventSource::new("/api/tasks/events").ok()?;
    let ticks = gloo_events::EventListener::new(&source, "tick", move |event| {
        let data = event
            .dyn_ref::<web_sys::MessageEvent>()
            .and_then(|m| m.data().as_string());
        let Some(tick) = data.and_then(|d| serde_json::from_str::<Tick>(&d).ok()) else {
            return;
        };
        dispatch.dispatch(TasksAction::Tick(tick));
        // The list is read again too, so a tick missed while it loaded is
        // right as well.
        load(&page, dispatch.clone());
    });
    Some(Listening {
        source,
        _ticks: ticks,
    })
}

fn load(page: &str, dispatch: UseReducerDispatcher<Tasks>) {
    let path = format!("/api/tasks?page={page}");
    yew::platform::spawn_local(async move {
        dispatch.dispatch(match crate::api::get_json::<TaskList>(&path).await {
            Ok(list) => TasksAction::Loaded(list.tasks),
            Err(e) => TasksAction::Failed(e.message),
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, status: &str) -> TaskRow {
        TaskRow {
            id: id.into(),
            title: id.into(),
            hint: String::new(),
            status: status.into(),
            reason: None,
        }
    }

    #[test]
    fn a_tick_marks_its_task_and_a_pass_stays() {
        let rows = vec![row("http-head", "todo"), row("http-404", "passed")];
        let passed = apply_tick(
            &rows,
            &Tick {
                task: "http-head".into(),
                passed: true,
                reason: None,
            },
        );
        assert_eq!(passed[0].status, "passed");
        let missed = apply_tick(
            &passed,
            &Tick {
                task: "http-404".into(),
                passed: false,
                reason: Some("not seen yet".into()),
            },
        );
        assert_eq!(missed[1].status, "passed");
        assert_eq!(missed[1].reason, None);
        // Through the reducer: nothing to tick before the list is loaded.
        let state = Rc::new(Tasks::default()).reduce(TasksAction::Tick(Tick {
            task: "http-head".into(),
            passed: true,
            reason: None,
        }));
        assert_eq!(state.rows, None);
        let state = state
            .reduce(TasksAction::Loaded(rows))
            .reduce(TasksAction::Tick(Tick {
                task: "http-head".into(),
                passed: true,
                reason: None,
            }));
        assert_eq!(state.rows.as_ref().unwrap()[0].status, "passed");
        let listed: TaskList =
            serde_json::from_str(r#"{"learner":null,"tasks":[{"id":"a","page":"http","title":"t","hint":"h","target":"http","status":"missing","reason":"r","attempts":1}]}"#)
                .unwrap();
        assert_eq!(listed.tasks[0].reason.as_deref(), Some("r"));
    }
}
