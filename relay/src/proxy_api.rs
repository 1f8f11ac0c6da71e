//! `/api/proxy/...`: what the caching proxy did, for the page's web cache
//! view and for anyone with curl.
//!
//! - `GET /api/proxy/log` — the last requests (`servers.proxy.log_entries`),
//!   oldest first: what the client asked, hit or miss or revalidated, the
//!   request sent upstream with its conditional fields and the status that
//!   came back, and the times (see `servers::proxy::LogEntry`);
//! - `GET /api/proxy/cache` — the cache's entries, least recently used
//!   first, with their age and the freshness left
//!   (`wirelab_shared::http::cache_store::EntryView`);
//! - `DELETE /api/proxy/cache` — empties the cache (to replay the first,
//!   uncached fetch).

use crate::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

fn not_running() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(serde_json::json!({"error": "the caching proxy is not running on this relay"})),
    )
        .into_response()
}

pub async fn log(State(state): State<AppState>) -> Response {
    match &state.proxy {
        Some(proxy) => Json(proxy.log()).into_response(),
        None => not_running(),
    }
}

pub async fn cache(State(state): State<AppState>) -> Response {
    match &state.proxy {
        Some(proxy) => Json(proxy.cache()).into_response(),
        None => not_running(),
    }
}

pub async fn clear_cache(State(state): State<AppState>) -> Response {
    match &state.proxy {
        Some(proxy) => {
            proxy.clear_cache();
            StatusCode::NO_CONTENT.into_response()
        }
        None => not_running(),
    }
}
