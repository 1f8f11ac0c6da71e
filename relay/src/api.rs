//! The JSON endpoints: `/api/targets` (the catalog) and `/api/health`.

use crate::AppState;
use axum::Json;
use axum::extract::State;
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
