//! The instructor's API beyond making and closing classes
//! ([`super::api`]): signing in from a browser, the roster, one student's
//! sessions, resetting a student's mailboxes and FTP home, revoking a
//! student, the class's settings, and the live feed of class events.
//!
//! | route | what |
//! |---|---|
//! | `POST /api/instructor/session` | sign in: `{"secret"}` (JSON) or `secret=` (form) → the session cookie |
//! | `GET /api/instructor/session` | `{"instructor": true/false}`: whether the caller is the instructor |
//! | `DELETE /api/instructor/session` | sign out |
//! | `GET /api/classes/{id}/roster` | each student, with `online` (open sessions now) and `revoked_at` |
//! | `GET /api/classes/{id}/students/{student}/sessions` | `{"open", "finished"}`, with links to recordings |
//! | `POST /api/classes/{id}/students/{student}/reset` | the student's mailboxes and FTP home back to the course's |
//! | `POST /api/classes/{id}/students/{student}/revoke` | the student's tokens stop working, their sessions end |
//! | `GET`, `PATCH /api/classes/{id}/settings` | `targets`, `custom_targets`, `max_delay_ms`, `recordings` |
//! | `GET /api/classes/{id}/events` | Server-Sent Events: joins, sessions opened and closed, revocations, attempts |
//!
//! The class grid (`/api/classes/{id}/progress`) is in [`super::progress`].
//!
//! Every route but signing in is the instructor's alone (secret or
//! session cookie); students and anonymous callers get 401.

use super::api::{ApiError, Caller, check_targets, classroom_only, view};
use super::events::ClassEvent;
use super::instructor;
use super::store::{Class, ClassSettings, StudentRecord};
use super::{blocking, unix_now};
use crate::AppState;
use crate::activity::LiveView;
use crate::policy::Refusal;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::convert::Infallible;
use std::net::SocketAddr;
use tokio::sync::broadcast::error::RecvError;

/// The largest sign-in body read.
const MAX_SIGN_IN_BYTES: usize = 4096;

#[derive(Debug, Deserialize)]
struct SignIn {
    secret: String,
}

/// The secret of a sign-in body, JSON or form.
fn sign_in_secret(headers: &HeaderMap, body: &[u8]) -> Option<String> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if json {
        return serde_json::from_slice::<SignIn>(body)
            .ok()
            .map(|s| s.secret);
    }
    url::form_urlencoded::parse(body)
        .find(|(k, _)| k == "secret")
        .map(|(_, v)| v.into_owned())
}

fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// `POST /api/instructor/session`.
pub async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    classroom_only(&state)?;
    // Even without a cookie yet: a sign-in comes from the relay's own page.
    state.access.check_origin(&headers)?;
    let client = state.access.client_addr(peer, &headers);
    state.limiter.join(client)?;
    if body.len() > MAX_SIGN_IN_BYTES {
        return Err(Refusal::bad_request("the sign-in form is too large").into());
    }
    let secret = sign_in_secret(&headers, &body);
    let room = &state.classroom;
    if !room.is_instructor(secret.as_deref()) {
        // Never the secret itself in a log line, right or wrong.
        tracing::warn!(%client, "instructor sign-in refused: wrong secret");
        return Err(Refusal::auth("bad_secret", "that is not the instructor secret").into());
    }
    let id = room.instructors.sign_in(unix_now());
    tracing::info!(%client, "instructor signed in");
    let body = Json(json!({"instructor": true, "expires_in": instructor::SESSION_SECS}));
    Ok(with_cookie(
        body.into_response(),
        &instructor::cookie(&id, room.secure_cookie()),
    ))
}

/// `GET /api/instructor/session`: whether the caller is the instructor.
pub async fn whoami(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    classroom_only(&state)?;
    let instructor = Caller::instructor(&state, &headers).await.is_ok();
    Ok(Json(json!({ "instructor": instructor })).into_response())
}

/// `DELETE /api/instructor/session`.
pub async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let room = &state.classroom;
    if let Some(id) = crate::access::cookie(&headers, instructor::COOKIE) {
        room.instructors.sign_out(id);
    }
    with_cookie(
        Json(json!({"instructor": false})).into_response(),
        &instructor::clear_cookie(room.secure_cookie()),
    )
}

/// The class `id`, for the instructor only.
pub(super) async fn instructors_class(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
) -> Result<Class, ApiError> {
    classroom_only(state)?;
    Caller::instructor(state, headers).await?;
    let store = state.classroom.store.clone();
    let class_id = id.to_string();
    blocking(move || store.get(&class_id))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("there is no class {id:?}")))
}

/// Student `student` of class `class`.
async fn student_of(
    state: &AppState,
    class: &str,
    student: &str,
) -> Result<StudentRecord, ApiError> {
    let store = state.classroom.store.clone();
    let (c, s) = (class.to_string(), student.to_string());
    blocking(move || store.student(&c, &s))
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!("there is no student {student:?} in this class"))
        })
}

/// One student on the roster.
#[derive(Debug, Serialize)]
pub struct RosterEntry {
    #[serde(flatten)]
    pub student: StudentRecord,
    /// Whether the student has a session open now.
    pub online: bool,
    pub open_sessions: usize,
}

/// `GET /api/classes/{id}/roster`.
pub async fn roster(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Vec<RosterEntry>>, ApiError> {
    instructors_class(&state, &headers, &id).await?;
    let store = state.classroom.store.clone();
    let class_id = id.clone();
    let students = blocking(move || store.students(&class_id)).await?;
    let open = state.activity.in_class(&id);
    Ok(Json(
        students
            .into_iter()
            .map(|student| {
                let n = open
                    .iter()
                    .filter(|v| v.student.as_deref() == Some(student.id.as_str()))
                    .count();
                RosterEntry {
                    student,
                    online: n > 0,
                    open_sessions: n,
                }
            })
            .collect(),
    ))
}

/// A recording's links, added to a session that has one.
fn with_links(mut session: Value) -> Value {
    if let Some(id) = session
        .get("recording")
        .and_then(Value::as_str)
        .map(str::to_string)
    {
        session["text_url"] = json!(format!("/api/recordings/{id}/text"));
        session["pcapng_url"] = json!(format!("/api/recordings/{id}/pcapng"));
    }
    session
}

/// `GET /api/classes/{id}/students/{student}/sessions`.
pub async fn student_sessions(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, student)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    instructors_class(&state, &headers, &id).await?;
    let record = student_of(&state, &id, &student).await?;
    let store = state.classroom.store.clone();
    let (c, s) = (id.clone(), student.clone());
    let finished = blocking(move || store.sessions_of(&c, &s)).await?;
    let open: Vec<LiveView> = state
        .activity
        .in_class(&id)
        .into_iter()
        .filter(|v| v.student.as_deref() == Some(student.as_str()))
        .collect();
    let links = |v: Vec<Value>| v.into_iter().map(with_links).collect::<Vec<_>>();
    let to_values = |v: Value| v.as_array().cloned().unwrap_or_default();
    Ok(Json(json!({
        "student": record,
        "open": links(to_values(json!(open))),
        "finished": links(to_values(json!(finished))),
    })))
}

/// `POST /api/classes/{id}/students/{student}/reset`: every mailbox of
/// the student's copy back to its seed messages, and their FTP home back
/// to the demo files.
pub async fn reset_student(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, student)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let class = instructors_class(&state, &headers, &id).await?;
    let record = student_of(&state, &id, &student).await?;
    let who = crate::identity::StudentIdentity {
        class: crate::identity::ClassId::parse(&class.id)
            .ok_or_else(|| ApiError::not_found("bad class id"))?,
        student: crate::identity::StudentId::parse(&record.id)
            .ok_or_else(|| ApiError::not_found("bad student id"))?,
        name: record.name.clone(),
    };
    let mail = state.mail.clone();
    let ftp = state.ftp.clone();
    let done = tokio::task::spawn_blocking(move || reset_homes(mail, ftp, &who))
        .await
        .map_err(|e| super::store_failure(&anyhow::anyhow!("{e}")))?;
    let (mailboxes, ftp_reset) = done.map_err(|e| {
        ApiError(
            StatusCode::CONFLICT,
            Refusal::forbidden("reset", format!("{e:#}")),
        )
    })?;
    state
        .classroom
        .events
        .send(ClassEvent::new(&id, "mailboxes_reset", Some(&student)));
    Ok(Json(json!({"mailboxes": mailboxes, "ftp": ftp_reset})))
}

/// Resets a student's mailboxes (returns their addresses) and FTP home.
fn reset_homes(
    mail: Option<std::sync::Arc<crate::maildir::MailHomes>>,
    ftp: Option<std::sync::Arc<crate::servers::ftp::FtpHomes>>,
    who: &crate::identity::StudentIdentity,
) -> anyhow::Result<(Vec<String>, bool)> {
    let mut reset = Vec::new();
    if let Some(homes) = mail {
        let store = homes.for_student(who)?;
        for address in store.addresses() {
            store.reset(&address).map_err(|e| match e {
                wirelab_shared::mail::store::StoreError::Locked => anyhow::anyhow!(
                    "a POP3 session of the student holds {address}; reset after it quits"
                ),
                other => anyhow::anyhow!("cannot reset {address}: {other}"),
            })?;
            reset.push(address);
        }
    }
    let ftp_reset = match ftp {
        Some(homes) => {
            homes.for_student(who)?.reset()?;
            true
        }
        None => false,
    };
    Ok((reset, ftp_reset))
}

/// `POST /api/classes/{id}/students/{student}/revoke`.
pub async fn revoke_student(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, student)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    instructors_class(&state, &headers, &id).await?;
    student_of(&state, &id, &student).await?;
    let now = unix_now();
    let store = state.classroom.store.clone();
    let (c, s) = (id.clone(), student.clone());
    let record = blocking(move || store.revoke_student(&c, &s, now)).await?;
    let ended = state.activity.stop_where(
        &id,
        Some(&student),
        |s| s.token_issued.is_some_and(|iat| iat <= now),
        &super::revoked(),
    );
    tracing::info!(class = %id, %student, "student revoked; {ended} open session(s) ended");
    state
        .classroom
        .events
        .send(ClassEvent::new(&id, "revoked", Some(&student)));
    Ok(Json(json!({"student": record, "sessions_ended": ended})))
}

/// `GET /api/classes/{id}/settings`.
pub async fn settings(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let class = instructors_class(&state, &headers, &id).await?;
    Ok(Json(settings_view(&state, &class)))
}

fn settings_view(state: &AppState, class: &Class) -> Value {
    json!({
        "targets": class.targets,
        "custom_targets": class.custom_targets,
        "max_delay_ms": class.max_delay_ms,
        "recordings": class.recordings,
        "relay_max_delay_ms": state.config.limits.max_delay_ms,
        "relay_recordings": state.config.recordings.mode,
    })
}

/// `PATCH /api/classes/{id}/settings`: the fields given change, at once
/// for every student (tokens already handed out included).
pub async fn change_settings(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(change): Json<ClassSettings>,
) -> Result<Json<Value>, ApiError> {
    instructors_class(&state, &headers, &id).await?;
    if let Some(targets) = &change.targets {
        check_targets(&state, targets)?;
    }
    let relay_max = state.config.limits.max_delay_ms;
    if let Some(Some(delay)) = change.max_delay_ms
        && delay > relay_max
    {
        return Err(Refusal::bad_request(format!(
            "max_delay_ms {delay} is more than the relay allows ({relay_max}, limits.max_delay_ms)"
        ))
        .into());
    }
    let store = state.classroom.store.clone();
    let class_id = id.clone();
    let class = blocking(move || store.update_settings(&class_id, &change)).await?;
    state
        .classroom
        .events
        .send(ClassEvent::new(&id, "settings", None));
    let mut body = settings_view(&state, &class);
    body["class"] = json!(view(&state, class));
    Ok(Json(body))
}

/// `GET /api/classes/{id}/events`: the class's events as Server-Sent
/// Events, each `event: <kind>` with the [`ClassEvent`] as JSON, and
/// `event: lagged` (how many were missed) when this feed fell behind.
/// The feed ends when the relay stops.
pub async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    instructors_class(&state, &headers, &id).await?;
    let feed = Feed {
        events: state.classroom.events.subscribe(),
        class: id,
        shutdown: state.shutdown.clone(),
    };
    let stream = futures_util::stream::unfold(feed, |mut feed| async move {
        let event = feed.next().await?;
        Some((Ok(event), feed))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// One subscriber's view of the events: those of its class.
struct Feed {
    events: tokio::sync::broadcast::Receiver<ClassEvent>,
    class: String,
    shutdown: tokio_util::sync::CancellationToken,
}

impl Feed {
    /// The next event of the class; `None` once the relay stops.
    async fn next(&mut self) -> Option<Event> {
        loop {
            let received = tokio::select! {
                _ = self.shutdown.cancelled() => return None,
                received = self.events.recv() => received,
            };
            match received {
                Ok(e) if e.class == self.class => {
                    return Event::default().event(e.kind).json_data(&e).ok();
                }
                Ok(_) => continue,
                Err(RecvError::Lagged(n)) => {
                    return Some(Event::default().event("lagged").data(n.to_string()));
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }
}
