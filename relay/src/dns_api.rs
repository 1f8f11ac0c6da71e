//! `/api/dns/...`: what the DNS workbench reads from the resolver besides
//! the DNS messages themselves.
//!
//! - `GET /api/dns/traces` — every kept resolution trace, oldest first;
//! - `GET /api/dns/trace?id=<query id>&port=<client port>` (or
//!   `&client=<ip:port>`) — the trace of one query the page sent through
//!   `/ws?target=dns`: the page knows the ID it chose and its local port
//!   from the `connected` message; 404 until the resolver has seen it;
//! - `GET /api/dns/cache` — the cache with the seconds left on each entry;
//! - `DELETE /api/dns/cache` — empties the cache (to replay the course's
//!   first, uncached resolution).
//!
//! The JSON is `wirelab_shared::dns::resolver::Trace` and
//! `wirelab_shared::dns::cache::CacheView`, serialised as they are.

use crate::AppState;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::net::SocketAddr;

fn not_running() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(serde_json::json!({"error": "the DNS servers are not running on this relay"})),
    )
        .into_response()
}

pub async fn traces(State(state): State<AppState>) -> Response {
    match &state.dns {
        Some(dns) => Json(dns.traces().await).into_response(),
        None => not_running(),
    }
}

#[derive(Debug, Deserialize)]
pub struct TraceQuery {
    pub id: u16,
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default)]
    pub client: Option<SocketAddr>,
}

pub async fn trace(State(state): State<AppState>, Query(q): Query<TraceQuery>) -> Response {
    let Some(dns) = &state.dns else {
        return not_running();
    };
    if let Some(client) = q.client {
        return match dns.trace(client, q.id).await {
            Some(t) => Json(t).into_response(),
            None => not_found(q.id),
        };
    }
    let found = dns.traces().await.into_iter().rev().find(|t| {
        t.query_id == q.id
            && q.port
                .is_none_or(|p| t.client.parse::<SocketAddr>().is_ok_and(|a| a.port() == p))
    });
    match found {
        Some(t) => Json(t).into_response(),
        None => not_found(q.id),
    }
}

fn not_found(id: u16) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(serde_json::json!({"error": format!("no trace for query ID {id} (yet)")})),
    )
        .into_response()
}

pub async fn cache(State(state): State<AppState>) -> Response {
    match &state.dns {
        Some(dns) => Json(dns.cache().await).into_response(),
        None => not_running(),
    }
}

pub async fn clear_cache(State(state): State<AppState>) -> Response {
    match &state.dns {
        Some(dns) => {
            dns.clear_cache().await;
            StatusCode::NO_CONTENT.into_response()
        }
        None => not_running(),
    }
}
