//! The JSON endpoints: `/api/targets` (the catalog), `/api/health`, and the
//! mailboxes of the mail servers: `GET /api/mailboxes` lists them,
//! `POST /api/mailboxes/{address}/reset` empties one and puts its seed
//! messages back (as `wirelab reset-mailbox` does).

use crate::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use wirelab_shared::mail::store::StoreError;
use wirelab_shared::relay_protocol::{Health, SUBPROTOCOL, TargetInfo};

pub async fn targets(State(state): State<AppState>) -> Json<Vec<TargetInfo>> {
    Json(state.catalog.targets().to_vec())
}

pub async fn health(State(state): State<AppState>) -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        subprotocol: SUBPROTOCOL.into(),
        targets: state.catalog.len(),
        uptime_s: state.started.elapsed().as_secs(),
    })
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
pub async fn mailboxes(State(state): State<AppState>) -> Response {
    let Some(store) = state.mail.clone() else {
        return no_mail();
    };
    // Listing reads directories: keep it off the runtime's workers.
    match tokio::task::spawn_blocking(move || store.summaries()).await {
        Ok(list) => Json(list).into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// `POST /api/mailboxes/{address}/reset`.
pub async fn reset_mailbox(State(state): State<AppState>, Path(address): Path<String>) -> Response {
    let Some(store) = state.mail.clone() else {
        return no_mail();
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
