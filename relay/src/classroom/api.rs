//! The HTTP side of classroom mode: the instructor's class API, the join
//! page students open, and [`Caller`], which every API handler uses to
//! tell an instructor, a student and an anonymous caller apart.
//!
//! | route | who | what |
//! |---|---|---|
//! | `POST /api/classes` | instructor | make a class: `{"name", "targets"?, "custom_targets"?, "token_ttl_secs"?}` → the class and its `join_url` |
//! | `GET /api/classes` | instructor | every class |
//! | `GET /api/classes/{id}` | instructor | the class, its students, their finished and open sessions |
//! | `DELETE /api/classes/{id}` | instructor | close the class: its tokens stop working, its open sessions end |
//!
//! The instructor is the instructor secret as `Authorization: Bearer`, or
//! the session cookie of [`super::instructor`]; the rest of the
//! instructor's API (sign-in, roster, revocation, settings, the live feed)
//! is in [`super::manage`].
//! | `POST /api/join` | anyone with the code | `{"code", "name"}` → `{"token", ...}`, and the cookie |
//! | `GET`/`POST /join/{code}` | anyone with the code | the join form; submitting it sets the cookie and opens the lab |

use super::events::ClassEvent;
use super::store::{Class, NewClass, SessionRecord, StudentRecord};
use super::{Admitted, blocking};
use crate::AppState;
use crate::activity::LiveView;
use crate::policy::Refusal;
use axum::Json;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use wirelab_shared::relay_protocol::ErrorCode;

/// An API error: a status and the same `{code, message}` the WebSocket uses.
#[derive(Debug)]
pub struct ApiError(pub StatusCode, pub Refusal);

impl ApiError {
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError(
            StatusCode::NOT_FOUND,
            Refusal::new(ErrorCode::UnknownTarget, "not_found", message),
        )
    }
}

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> Self {
        let status = match r.code {
            ErrorCode::Auth => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::UnknownTarget => StatusCode::NOT_FOUND,
            ErrorCode::Limit => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::ConnectFailed => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        };
        ApiError(status, r)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "code": self.1.code,
            "message": self.1.message,
        });
        (self.0, Json(body)).into_response()
    }
}

/// Who is calling an API.
#[derive(Debug, Clone)]
pub enum Caller {
    /// No classroom mode: the relay's APIs are open.
    Open,
    Instructor,
    Student(Box<Admitted>),
}

impl Caller {
    /// Identifies the caller: the instructor (secret as bearer, or a
    /// signed-in session cookie) or a student token (as bearer or cookie)
    /// in classroom mode, [`Caller::Open`] otherwise.
    pub async fn of(state: &AppState, headers: &HeaderMap) -> Result<Caller, ApiError> {
        let room = &state.classroom;
        if !room.enabled {
            return Ok(Caller::Open);
        }
        if is_instructor(state, headers) {
            return Ok(Caller::Instructor);
        }
        let token = crate::access::token(headers, None);
        Ok(Caller::Student(Box::new(
            room.admit(token, super::unix_now()).await?,
        )))
    }

    /// Only the instructor (or anyone, without classroom mode).
    pub async fn instructor(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
        if !state.classroom.enabled || is_instructor(state, headers) {
            return Ok(());
        }
        Err(Refusal::auth(
            "instructor_only",
            "this is for the instructor: sign in at /instructor, or send the instructor secret \
             as Authorization: Bearer <secret>",
        )
        .into())
    }
}

/// In classroom mode, the lab's shared tools (the web cache, the DNS
/// resolver's cache and traces, the CDN's routing, swarms) answer the
/// class's students and the instructor only: what they show is the class's
/// traffic, and a token that stopped standing stops them too.
pub async fn members_only(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    match Caller::of(&state, request.headers()).await {
        Ok(_) => next.run(request).await,
        Err(refusal) => refusal.into_response(),
    }
}

/// Whether the request carries the instructor secret or a live
/// instructor session cookie.
fn is_instructor(state: &AppState, headers: &HeaderMap) -> bool {
    let room = &state.classroom;
    room.is_instructor(crate::access::bearer(headers))
        || crate::access::cookie(headers, super::instructor::COOKIE)
            .is_some_and(|id| room.instructors.is_signed_in(id, super::unix_now()))
}

/// Refuses catalog names the relay does not have.
pub fn check_targets(state: &AppState, targets: &[String]) -> Result<(), ApiError> {
    match targets.iter().find(|t| state.catalog.get(t).is_none()) {
        Some(target) => Err(Refusal::bad_request(format!(
            "there is no target named {target:?} in this relay's catalog"
        ))
        .into()),
        None => Ok(()),
    }
}

pub fn classroom_only(state: &AppState) -> Result<(), ApiError> {
    if state.classroom.enabled {
        Ok(())
    } else {
        Err(ApiError::not_found(
            "classroom mode is off on this relay (start it with --classroom)",
        ))
    }
}

/// A class as the API shows it.
#[derive(Debug, Serialize)]
pub struct ClassView {
    #[serde(flatten)]
    pub class: Class,
    pub join_url: String,
}

pub fn view(state: &AppState, class: Class) -> ClassView {
    ClassView {
        join_url: state.classroom.join_url(&class),
        class,
    }
}

pub async fn create_class(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(new): Json<NewClass>,
) -> Result<(StatusCode, Json<ClassView>), ApiError> {
    classroom_only(&state)?;
    Caller::instructor(&state, &headers).await?;
    check_targets(&state, &new.targets)?;
    let store = state.classroom.store.clone();
    // A name or lifetime the store refuses is the caller's mistake, not a
    // failing store: told as a bad request.
    let made = blocking(move || Ok(store.create(new, super::unix_now()))).await?;
    let class = made.map_err(|e| Refusal::bad_request(format!("{e:#}")))?;
    tracing::info!(class = %class.id, "class created: {}", class.name);
    Ok((StatusCode::CREATED, Json(view(&state, class))))
}

pub async fn list_classes(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Vec<ClassView>>, ApiError> {
    classroom_only(&state)?;
    Caller::instructor(&state, &headers).await?;
    let store = state.classroom.store.clone();
    let classes = blocking(move || store.list()).await?;
    Ok(Json(classes.into_iter().map(|c| view(&state, c)).collect()))
}

/// One student in the instructor's view.
#[derive(Debug, Serialize)]
pub struct StudentActivity {
    #[serde(flatten)]
    pub student: StudentRecord,
    pub open: Vec<LiveView>,
    pub sessions: Vec<SessionRecord>,
}

#[derive(Debug, Serialize)]
pub struct ClassActivity {
    pub class: ClassView,
    pub students: Vec<StudentActivity>,
}

pub async fn class_activity(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<ClassActivity>, ApiError> {
    classroom_only(&state)?;
    Caller::instructor(&state, &headers).await?;
    let store = state.classroom.store.clone();
    let class_id = id.clone();
    let (class, students, mut sessions) = blocking(move || {
        Ok((
            store.get(&class_id)?,
            store.students(&class_id)?,
            store.sessions(&class_id)?,
        ))
    })
    .await?;
    let class = class.ok_or_else(|| ApiError::not_found(format!("there is no class {id:?}")))?;
    let mut open = state.activity.in_class(&id);
    let students = students
        .into_iter()
        .map(|student| {
            let mine = |s: &Option<String>| s.as_deref() == Some(student.id.as_str());
            StudentActivity {
                open: open.extract_if(.., |v| mine(&v.student)).collect(),
                sessions: sessions
                    .extract_if(.., |s| s.student == student.id)
                    .collect(),
                student,
            }
        })
        .collect();
    Ok(Json(ClassActivity {
        class: view(&state, class),
        students,
    }))
}

pub async fn close_class(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<ClassView>, ApiError> {
    classroom_only(&state)?;
    Caller::instructor(&state, &headers).await?;
    let store = state.classroom.store.clone();
    let class_id = id.clone();
    let class = blocking(move || Ok(store.close(&class_id)))
        .await?
        .map_err(|e| ApiError::not_found(format!("{e:#}")))?;
    let why = super::closed(&class);
    let ended = state.activity.stop_where(&id, None, |_| true, &why);
    tracing::info!(class = %id, "class closed; {ended} open session(s) ended");
    state
        .classroom
        .events
        .send(ClassEvent::new(&id, "class_closed", None));
    Ok(Json(view(&state, class)))
}

#[derive(Debug, Deserialize)]
pub struct JoinRequest {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Serialize)]
pub struct JoinResponse {
    pub token: String,
    pub class: String,
    pub class_name: String,
    pub student: String,
    pub name: String,
    pub expires_at: u64,
}

pub async fn join_api(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Json(request): Json<JoinRequest>,
) -> Result<Response, ApiError> {
    state
        .limiter
        .join(state.access.client_addr(peer, &headers))?;
    let previous = crate::access::token(&headers, None);
    let joined = state
        .classroom
        .join(&request.code, &request.name, previous, super::unix_now())
        .await?;
    let cookie = state.classroom.token_cookie(&joined);
    let body = JoinResponse {
        token: joined.token,
        class: joined.class.id,
        class_name: joined.class.name,
        student: joined.claims.sub,
        name: joined.claims.name,
        expires_at: joined.claims.exp,
    };
    let mut response = Json(body).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// Escapes text for HTML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · wirelab</title><style>\
         body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;line-height:1.5}}\
         input,button{{font:inherit;padding:.4rem .6rem}}.error{{color:#b00020}}</style></head>\
         <body><h1>{title}</h1>{body}</body></html>",
        title = escape(title)
    ))
}

pub async fn join_page(State(state): State<AppState>, Path(code): Path<String>) -> Response {
    let class = if state.classroom.enabled {
        let store = state.classroom.store.clone();
        let code = code.clone();
        match blocking(move || store.by_join_code(&code)).await {
            Ok(class) => class,
            Err(refusal) => return ApiError::from(refusal).into_response(),
        }
    } else {
        None
    };
    match class {
        None => (
            StatusCode::NOT_FOUND,
            page(
                "No such class",
                "<p class=\"error\">This join link is not valid (the class may have been closed). \
                 Ask your instructor for the current one.</p>",
            ),
        )
            .into_response(),
        Some(class) => page(
            &format!("Join {}", class.name),
            &format!(
                "<form method=\"post\" action=\"/join/{code}\">\
                 <p><label>Your name <input name=\"name\" required maxlength=\"40\" autofocus></label></p>\
                 <p><button type=\"submit\">Join the class</button></p></form>\
                 <p>Joining stores a pass in this browser for a few hours; open this link again \
                 when it runs out.</p>",
                code = escape(&code)
            ),
        )
        .into_response(),
    }
}

#[derive(Debug, Deserialize)]
pub struct JoinForm {
    pub name: String,
}

pub async fn join_submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(code): Path<String>,
    axum::Form(form): axum::Form<JoinForm>,
) -> Response {
    let previous = crate::access::token(&headers, None);
    let joined = match state.limiter.join(state.access.client_addr(peer, &headers)) {
        Ok(()) => {
            state
                .classroom
                .join(&code, &form.name, previous, super::unix_now())
                .await
        }
        Err(refusal) => Err(refusal),
    };
    match joined {
        Err(refusal) => (
            StatusCode::BAD_REQUEST,
            page(
                "Could not join",
                &format!("<p class=\"error\">{}</p>", escape(&refusal.message)),
            ),
        )
            .into_response(),
        Ok(joined) => {
            let cookie = state.classroom.token_cookie(&joined);
            let mut response = page(
                &format!("Welcome, {}", joined.claims.name),
                &format!(
                    "<p>You are in <b>{}</b>.</p><p><a href=\"/\">Open the lab</a></p>",
                    escape(&joined.class.name)
                ),
            )
            .into_response();
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape("<script>\"x\" & 'y'"),
            "&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;"
        );
    }
}
