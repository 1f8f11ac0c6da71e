//! The learner's side of the exercises over HTTP:
//!
//! | route | who | what |
//! |---|---|---|
//! | `GET /api/tasks?page=<page>` | a student (classroom), anyone (open relay), the instructor (no status) | the page's tasks (every task without `page`) and the caller's status of each |
//! | `GET /api/tasks/events` | a student, or anyone on an open relay | Server-Sent Events: `tick` each time one of the caller's tasks is checked (passed, or what is missing); a student's feed ends when their token stops standing (class closed, student revoked) |
//!
//! A student is known by their token (the cookie the join page set, or a
//! bearer token), the same as on `/ws`; on a relay without classroom mode
//! every caller is the one local user. See `docs/relay-protocol.md`.

use super::Tick;
use super::store::{Attempt, Learner};
use crate::AppState;
use crate::classroom::Classroom;
use crate::classroom::api::{ApiError, Caller};
use crate::policy::Refusal;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use serde::{Deserialize, Serialize};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;
use wirelab_shared::exercises::{Page, Task};
use wirelab_shared::relay_protocol::ErrorCode;

#[derive(Debug, Deserialize)]
pub struct TasksQuery {
    page: Option<String>,
}

/// One task as a page shows it, with the caller's status.
#[derive(Debug, Serialize)]
pub struct TaskView {
    pub id: String,
    pub page: Page,
    pub title: String,
    pub hint: String,
    pub target: String,
    /// `passed`, `missing` (tried: `reason` says what is missing), `todo`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Attempts made (connections to its server, and its pass).
    pub attempts: usize,
    /// When it passed (Unix milliseconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passed_at_ms: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct TasksView {
    /// Whose status this is; `None` for the instructor.
    pub learner: Option<Learner>,
    pub tasks: Vec<TaskView>,
}

/// The learner a caller is, if any (the instructor is none).
async fn learner_of(state: &AppState, headers: &HeaderMap) -> Result<Option<Learner>, ApiError> {
    Ok(match Caller::of(state, headers).await? {
        Caller::Open => Some(Learner::local()),
        Caller::Instructor => None,
        Caller::Student(admitted) => Some(Learner::student(
            &admitted.claims.class,
            &admitted.claims.sub,
        )),
    })
}

fn parse_page(page: &str) -> Result<Page, ApiError> {
    serde_json::from_value(serde_json::Value::String(page.to_string())).map_err(|_| {
        ApiError::from(Refusal::new(
            ErrorCode::BadRequest,
            "page",
            format!("no page {page:?}: one of http, smtp, pop3, ftp, dns, sockets"),
        ))
    })
}

/// `GET /api/tasks?page=<page>`.
pub async fn tasks(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<TasksQuery>,
) -> Result<Json<TasksView>, ApiError> {
    let learner = learner_of(&state, &headers).await?;
    let page = query.page.as_deref().map(parse_page).transpose()?;
    let attempts = match &learner {
        Some(l) => state.exercises.attempts_of(l).map_err(|e| {
            ApiError(
                StatusCode::INTERNAL_SERVER_ERROR,
                Refusal::new(
                    ErrorCode::BadRequest,
                    "attempts",
                    format!("cannot read the attempts: {e:#}"),
                ),
            )
        })?,
        None => Vec::new(),
    };
    let tasks = state
        .exercises
        .tasks()
        .iter()
        .filter(|t| page.is_none_or(|p| t.page == p))
        .map(|t| view(t, &attempts))
        .collect();
    Ok(Json(TasksView { learner, tasks }))
}

fn view(task: &Task, attempts: &[Attempt]) -> TaskView {
    let mine: Vec<&Attempt> = attempts.iter().filter(|a| a.task == task.id).collect();
    let pass = mine.iter().find(|a| a.passed);
    let last = mine.last();
    let status = match (pass, last) {
        (Some(_), _) => "passed",
        (None, Some(_)) => "missing",
        (None, None) => "todo",
    };
    TaskView {
        id: task.id.clone(),
        page: task.page,
        title: task.title.clone(),
        hint: task.hint.clone(),
        target: task.target.clone(),
        status,
        reason: pass
            .is_none()
            .then(|| last.and_then(|a| a.reason.clone()))
            .flatten(),
        attempts: mine.len(),
        passed_at_ms: pass.map(|a| a.at_ms),
    }
}

/// `GET /api/tasks/events`: the caller's ticks, as Server-Sent Events.
pub async fn events(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let learner = match learner_of(&state, &headers).await {
        Ok(Some(learner)) => learner,
        Ok(None) => {
            return ApiError::from(Refusal::forbidden(
                "learner_only",
                "the events are a learner's own: the instructor has none",
            ))
            .into_response();
        }
        Err(e) => return e.into_response(),
    };
    let Some(listener) = state.exercises.listener() else {
        return ApiError::from(Refusal::limit(
            "max_task_listeners",
            "too many pages listen for task events on this relay; reload later",
        ))
        .into_response();
    };
    let standing = state.classroom.enabled.then(|| Standing {
        room: state.classroom.clone(),
        token: crate::access::token(&headers, None)
            .unwrap_or_default()
            .to_string(),
        every: tokio::time::interval(RECHECK),
    });
    let stream = ticks_of(
        Feed {
            learner,
            listener,
            standing,
        },
        state.shutdown.clone(),
    );
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// How often an open feed checks its student's token again.
const RECHECK: Duration = Duration::from_secs(1);

/// One open feed: whose ticks it carries, and the token that let it open.
struct Feed {
    learner: Learner,
    listener: super::Listener,
    standing: Option<Standing>,
}

/// A student's token, checked again while their feed is open: a class
/// closed or a student revoked (by this relay or another process on the
/// store) ends the feed within [`RECHECK`], as it ends their `/ws`
/// sessions.
struct Standing {
    room: Arc<Classroom>,
    token: String,
    every: tokio::time::Interval,
}

/// Waits for the next check; whether the token still stands. Without
/// classroom mode there is nothing to check and this never returns.
async fn still_stands(standing: &mut Option<Standing>) -> bool {
    let Some(s) = standing else {
        return std::future::pending().await;
    };
    s.every.tick().await;
    let now = crate::classroom::unix_now();
    s.room.admit(Some(&s.token), now).await.is_ok()
}

/// The ticks of the feed's learner, until the relay shuts down or their
/// token stops standing. A listener that fell behind is told so
/// (`lagged`) and should reload the list.
fn ticks_of(
    feed: Feed,
    shutdown: CancellationToken,
) -> impl Stream<Item = Result<Event, Infallible>> {
    futures_util::stream::unfold((feed, shutdown), |(mut feed, shutdown)| async move {
        loop {
            let received = tokio::select! {
                () = shutdown.cancelled() => return None,
                stands = still_stands(&mut feed.standing) => {
                    if stands { continue } else { return None }
                }
                received = feed.listener.ticks.recv() => received,
            };
            let event = match received {
                Ok(tick) if tick.learner == feed.learner => tick_event(&tick),
                Ok(_) => continue,
                Err(RecvError::Lagged(_)) => Event::default().event("lagged").data("{}"),
                Err(RecvError::Closed) => return None,
            };
            return Some((Ok(event), (feed, shutdown)));
        }
    })
}

fn tick_event(tick: &Tick) -> Event {
    Event::default()
        .event("tick")
        .data(serde_json::to_string(tick).unwrap_or_default())
}
