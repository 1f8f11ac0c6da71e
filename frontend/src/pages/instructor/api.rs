//! The instructor's calls to the relay (`/api/instructor/session`,
//! `/api/classes/...`). The browser sends the session cookie and the
//! page's `Origin` by itself; the page never keeps the secret.

use crate::api::{ApiError, get_json};
use gloo_net::http::{Request, Response};
use serde::Deserialize;

/// A class as `/api/classes` lists it (the fields the page shows).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ClassInfo {
    pub id: String,
    pub name: String,
    pub join_code: String,
    pub join_url: String,
    #[serde(default)]
    pub closed: bool,
}

/// One student on the roster.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RosterEntry {
    pub id: String,
    pub name: String,
    pub online: bool,
    pub open_sessions: usize,
    #[serde(default)]
    pub revoked_at: Option<u64>,
}

/// The relay's message of a refused call, or its status.
async fn refusal(path: &str, response: Response) -> ApiError {
    let status = response.status();
    let message = response
        .json::<serde_json::Value>()
        .await
        .ok()
        .and_then(|v| v["message"].as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{path}: HTTP {status}"));
    ApiError {
        status: Some(status),
        message,
    }
}

fn network(e: impl std::fmt::Display) -> ApiError {
    ApiError {
        status: None,
        message: e.to_string(),
    }
}

/// Sends `request` and reads its JSON answer.
async fn send<T: serde::de::DeserializeOwned>(path: &str, request: Request) -> Result<T, ApiError> {
    let response = request.send().await.map_err(network)?;
    if !response.ok() {
        return Err(refusal(path, response).await);
    }
    response.json::<T>().await.map_err(network)
}

/// Whether the browser is signed in as the instructor (`Err` with 404:
/// the relay is not in classroom mode).
pub async fn signed_in() -> Result<bool, ApiError> {
    let answer: serde_json::Value = get_json("/api/instructor/session").await?;
    Ok(answer["instructor"].as_bool().unwrap_or(false))
}

pub async fn sign_in(secret: &str) -> Result<(), ApiError> {
    let path = "/api/instructor/session";
    let body = serde_json::json!({ "secret": secret });
    let request = Request::post(path).json(&body).map_err(network)?;
    send::<serde_json::Value>(path, request).await.map(|_| ())
}

pub async fn sign_out() -> Result<(), ApiError> {
    let path = "/api/instructor/session";
    send::<serde_json::Value>(path, Request::delete(path).build().map_err(network)?)
        .await
        .map(|_| ())
}

pub async fn classes() -> Result<Vec<ClassInfo>, ApiError> {
    get_json("/api/classes").await
}

pub async fn create_class(name: &str) -> Result<ClassInfo, ApiError> {
    let path = "/api/classes";
    let request = Request::post(path)
        .json(&serde_json::json!({ "name": name }))
        .map_err(network)?;
    send(path, request).await
}

pub async fn close_class(id: &str) -> Result<ClassInfo, ApiError> {
    let path = format!("/api/classes/{id}");
    send(&path, Request::delete(&path).build().map_err(network)?).await
}

pub async fn roster(id: &str) -> Result<Vec<RosterEntry>, ApiError> {
    get_json(&format!("/api/classes/{id}/roster")).await
}

/// `GET /api/classes/{id}/students/{student}/sessions`: the student's
/// open and finished sessions, with their recordings' links.
pub async fn student_sessions(
    id: &str,
    student: &str,
) -> Result<super::student::Sessions, ApiError> {
    get_json(&format!("/api/classes/{id}/students/{student}/sessions")).await
}

/// `POST` to `/api/classes/{id}/students/{student}/{what}` (`reset` or
/// `revoke`); the relay's answer as it is.
pub async fn act_on_student(
    id: &str,
    student: &str,
    what: &str,
) -> Result<serde_json::Value, ApiError> {
    let path = format!("/api/classes/{id}/students/{student}/{what}");
    send(&path, Request::post(&path).build().map_err(network)?).await
}

/// `GET /api/classes/{id}/settings`.
pub async fn settings(id: &str) -> Result<super::settings::SavedSettings, ApiError> {
    get_json(&format!("/api/classes/{id}/settings")).await
}

/// `PATCH /api/classes/{id}/settings` with `change`; the settings after it.
pub async fn change_settings(
    id: &str,
    change: &serde_json::Value,
) -> Result<super::settings::SavedSettings, ApiError> {
    let path = format!("/api/classes/{id}/settings");
    let request = Request::patch(&path).json(change).map_err(network)?;
    send(&path, request).await
}
