//! The relay's JSON endpoints as the page sees them.

use wirelab_shared::relay_protocol::{Health, TargetInfo};

/// `GET /api/health`.
pub async fn health() -> Result<Health, String> {
    get_json("/api/health").await
}

/// `GET /api/targets`.
pub async fn targets() -> Result<Vec<TargetInfo>, String> {
    get_json("/api/targets").await
}

async fn get_json<T: serde::de::DeserializeOwned>(path: &str) -> Result<T, String> {
    let response = gloo_net::http::Request::get(path)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !response.ok() {
        return Err(format!("{path}: HTTP {}", response.status()));
    }
    response.json::<T>().await.map_err(|e| e.to_string())
}
