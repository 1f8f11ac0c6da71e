//! The relay's JSON endpoints as the page sees them.

use wirelab_shared::relay_protocol::{Health, TargetInfo};

/// Why a call to the relay failed.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// The HTTP status, when the relay answered at all.
    pub status: Option<u16>,
    pub message: String,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// `GET /api/health`.
pub async fn health() -> Result<Health, ApiError> {
    get_json("/api/health").await
}

/// `GET /api/targets`.
pub async fn targets() -> Result<Vec<TargetInfo>, ApiError> {
    get_json("/api/targets").await
}

/// GETs JSON; a refusal's own `message` (classroom mode answers 401 with
/// `{"code":"auth","message":...}`) is kept for the student.
pub async fn get_json<T: serde::de::DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    let response = gloo_net::http::Request::get(path)
        .send()
        .await
        .map_err(|e| ApiError {
            status: None,
            message: e.to_string(),
        })?;
    if !response.ok() {
        let status = response.status();
        let message = response
            .json::<serde_json::Value>()
            .await
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_string))
            .unwrap_or_else(|| format!("{path}: HTTP {status}"));
        return Err(ApiError {
            status: Some(status),
            message,
        });
    }
    response.json::<T>().await.map_err(|e| ApiError {
        status: None,
        message: e.to_string(),
    })
}

/// POSTs JSON and reads JSON back; a refusal's reason (the relay's
/// `message` or `error`) is kept for the student.
pub async fn post_json<B: serde::Serialize, T: serde::de::DeserializeOwned>(
    path: &str,
    body: &B,
) -> Result<T, ApiError> {
    let request = gloo_net::http::Request::post(path)
        .json(body)
        .map_err(network)?;
    let response = request.send().await.map_err(network)?;
    refused(path, &response).await?;
    response.json::<T>().await.map_err(network)
}

/// DELETEs; any 2xx is done.
pub async fn delete(path: &str) -> Result<(), ApiError> {
    let response = gloo_net::http::Request::delete(path)
        .send()
        .await
        .map_err(network)?;
    refused(path, &response).await
}

fn network(e: gloo_net::Error) -> ApiError {
    ApiError {
        status: None,
        message: e.to_string(),
    }
}

/// The relay's reason when it did not answer 2xx.
async fn refused(path: &str, response: &gloo_net::http::Response) -> Result<(), ApiError> {
    if response.ok() {
        return Ok(());
    }
    let status = response.status();
    let body = response.json::<serde_json::Value>().await.ok();
    let message = body
        .as_ref()
        .and_then(|v| v["message"].as_str().or(v["error"].as_str()))
        .map_or_else(|| format!("{path}: HTTP {status}"), str::to_string);
    Err(ApiError {
        status: Some(status),
        message,
    })
}
