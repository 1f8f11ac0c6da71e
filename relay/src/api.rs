//! The JSON and text endpoints besides the classroom ones
//! ([`crate::classroom::api`]):
//!
//! - `/api/targets`: the catalog (in classroom mode, what the caller's
//!   token allows);
//! - `/api/health`: always open, for load balancers;
//! - `/api/metrics`: Prometheus text (the instructor only, in classroom
//!   mode);
//! - `/api/recordings`, `/api/recordings/{id}`, `.../{id}/text`,
//!   `.../{id}/pcapng`: the caller's recordings (a student sees their own,
//!   the instructor all; without classroom mode the unguessable id is the
//!   key, and only a relay on loopback lists them).
//! - `/api/mailboxes`, `POST /api/mailboxes/{address}/reset`: the mail
//!   servers' mailboxes, listed and reset to their seed messages (as
//!   `wirelab reset-mailbox` does).

use crate::AppState;
use crate::classroom::api::{ApiError, Caller};
use crate::policy::Refusal;
use crate::recording::{Header, Recording, pcapng, transcript};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;
use wirelab_shared::mail::store::StoreError;
use wirelab_shared::relay_protocol::{Health, SUBPROTOCOL, TargetInfo};

pub async fn targets(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Vec<TargetInfo>>, ApiError> {
    let all = state.catalog.targets();
    Ok(Json(match Caller::of(&state, &headers).await? {
        Caller::Open | Caller::Instructor => all.to_vec(),
        Caller::Student(a) => all
            .iter()
            .filter(|t| a.allows_target(&t.name))
            .cloned()
            .collect(),
    }))
}

pub async fn health(State(state): State<AppState>) -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        subprotocol: SUBPROTOCOL.into(),
        targets: state.catalog.len(),
        uptime_s: state.started.elapsed().as_secs(),
        local_programs: state.policy.allows_local_programs(),
    })
}

pub async fn metrics(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    Caller::instructor(&state, &headers).await?;
    let mut text = state.metrics.render();
    text.push_str(&format!(
        "# HELP wirelab_connections_open WebSocket sessions holding a connection slot.\n\
         # TYPE wirelab_connections_open gauge\nwirelab_connections_open {}\n",
        state.limiter.open()
    ));
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        text,
    )
        .into_response())
}

/// A recording's metadata, with the links to download it.
#[derive(Debug, Serialize)]
pub struct RecordingView {
    #[serde(flatten)]
    pub header: Header,
    pub text_url: String,
    pub pcapng_url: String,
}

impl From<Header> for RecordingView {
    fn from(header: Header) -> Self {
        RecordingView {
            text_url: format!("/api/recordings/{}/text", header.id),
            pcapng_url: format!("/api/recordings/{}/pcapng", header.id),
            header,
        }
    }
}

fn may_see(caller: &Caller, header: &Header) -> bool {
    match caller {
        Caller::Open | Caller::Instructor => true,
        Caller::Student(a) => {
            header.class.as_deref() == Some(a.claims.class.as_str())
                && header.student.as_deref() == Some(a.claims.sub.as_str())
        }
    }
}

pub async fn list_recordings(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Vec<RecordingView>>, ApiError> {
    let caller = Caller::of(&state, &headers).await?;
    // On a shared relay without classroom mode nobody is known, so nobody
    // may list everyone's recordings; each is still reachable by its id.
    if matches!(caller, Caller::Open) && !state.config.bind.is_loopback() {
        return Err(Refusal::forbidden(
            "list_recordings",
            "this relay does not list recordings (it is shared and not in classroom mode); \
             each connection's recording is at the link its id gives",
        )
        .into());
    }
    Ok(Json(
        state
            .recordings
            .list()
            .into_iter()
            .filter(|h| may_see(&caller, h))
            .map(RecordingView::from)
            .collect(),
    ))
}

async fn visible_header(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
) -> Result<Header, ApiError> {
    let caller = Caller::of(state, headers).await?;
    match state.recordings.header(id) {
        Some(h) if may_see(&caller, &h) => Ok(h),
        Some(_) => {
            Err(Refusal::forbidden("not_yours", "this recording belongs to someone else").into())
        }
        None => Err(ApiError::not_found(format!("there is no recording {id:?}"))),
    }
}

pub async fn recording(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<RecordingView>, ApiError> {
    Ok(Json(visible_header(&state, &headers, &id).await?.into()))
}

/// A file name for a download: the target (made safe) and the id's start.
fn file_name(header: &Header, extension: &str) -> String {
    let target: String = header
        .target
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("wirelab-{target}-{}.{extension}", &header.id[..8])
}

/// Recording `id`, read on a blocking thread: a file of `max_bytes` does not
/// hold up the sessions that share this one's runtime thread.
async fn read_recording(state: &AppState, id: String) -> Result<Recording, ApiError> {
    let store = state.recordings.clone();
    tokio::task::spawn_blocking(move || store.open(&id))
        .await
        .ok()
        .flatten()
        .ok_or_else(|| ApiError::not_found("the recording cannot be read"))
}

/// A recording grows while its session is open: each download is read anew.
const NOT_CACHED: &str = "no-store";

pub async fn recording_text(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let header = visible_header(&state, &headers, &id).await?;
    let rec = read_recording(&state, id).await?;
    let disposition = format!("inline; filename=\"{}\"", file_name(&header, "txt"));
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "text/plain; charset=utf-8".to_string(),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, NOT_CACHED.to_string()),
        ],
        transcript(&rec),
    )
        .into_response())
}

pub async fn recording_pcapng(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let header = visible_header(&state, &headers, &id).await?;
    let rec = read_recording(&state, id).await?;
    let disposition = format!("attachment; filename=\"{}\"", file_name(&header, "pcapng"));
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-pcapng".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, NOT_CACHED.to_string()),
        ],
        pcapng::export(&rec),
    )
        .into_response())
}
fn error(status: StatusCode, message: String) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

fn no_mail() -> Response {
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        "this relay runs no reference servers (--no-servers)".into(),
    )
}

/// `GET /api/mailboxes`: each mailbox with its message count and size.
pub async fn mailboxes(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let store = match callers_mailboxes(&state, &headers).await {
        Ok(store) => store,
        Err(response) => return *response,
    };
    // Listing reads directories: keep it off the runtime's workers.
    match tokio::task::spawn_blocking(move || store.summaries()).await {
        Ok(list) => Json(list).into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// The mailboxes the caller sees: a classroom student's own, or the shared
/// ones (the instructor, or a relay without classroom mode).
async fn callers_mailboxes(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<std::sync::Arc<crate::maildir::MaildirStore>, Box<Response>> {
    let Some(homes) = state.mail.clone() else {
        return Err(Box::new(no_mail()));
    };
    match Caller::of(state, headers).await {
        Ok(Caller::Student(admitted)) => match admitted.identity() {
            Some(who) => homes
                .for_student(&who)
                .map_err(|e| Box::new(error(StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}")))),
            None => Ok(homes.shared().clone()),
        },
        Ok(_) => Ok(homes.shared().clone()),
        Err(e) => Err(Box::new(e.into_response())),
    }
}

/// `POST /api/mailboxes/{address}/reset`.
pub async fn reset_mailbox(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(address): Path<String>,
) -> Response {
    let store = match callers_mailboxes(&state, &headers).await {
        Ok(store) => store,
        Err(response) => return *response,
    };
    let target = address.clone();
    let result = tokio::task::spawn_blocking(move || {
        store.reset(&target)?;
        Ok::<_, StoreError>(
            store
                .summaries()
                .into_iter()
                .find(|s| s.address == target.to_ascii_lowercase()),
        )
    })
    .await;
    match result {
        Ok(Ok(summary)) => Json(json!({ "reset": summary })).into_response(),
        Ok(Err(StoreError::NoSuchMailbox(_))) => error(
            StatusCode::NOT_FOUND,
            format!("there is no mailbox {address}"),
        ),
        Ok(Err(StoreError::Locked)) => error(
            StatusCode::CONFLICT,
            format!("a POP3 session holds {address}; reset it after that session quits"),
        ),
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}
