//! Cross-site request forgery: a browser attaches the relay's cookies (the
//! instructor's session, a student's token) to any request a page makes
//! to the relay, whichever site that page is on. `SameSite=Strict` keeps
//! them off requests from other sites, but not from another port or
//! subdomain of the same site (`http://127.0.0.1:8081` is the same site as
//! the relay on `:8080`). So a request that changes something
//! (any method but `GET`, `HEAD`, `OPTIONS`) and carries one of those
//! cookies must also name its page in `Origin`, and that page must be the
//! relay's own or one of `allowed_origins` ([`crate::access`]). Browsers
//! send `Origin` on every such request; programs authenticate with
//! `Authorization: Bearer` and send no cookie, so they are not concerned.
//!
//! A change named by a page of another site is refused even without a
//! cookie: a form on that page could otherwise post to `/join/{code}` and
//! leave the visitor holding a pass to a class they never chose (a login
//! forgery), or try instructor secrets from the visitor's address.

use crate::AppState;
use crate::classroom::api::ApiError;
use crate::policy::Refusal;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header::ORIGIN};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Whether the request carries a cookie that authenticates someone.
fn has_credential_cookie(headers: &HeaderMap) -> bool {
    [
        crate::access::TOKEN_COOKIE,
        crate::classroom::instructor::COOKIE,
    ]
    .iter()
    .any(|name| crate::access::cookie(headers, name).is_some())
}

/// Whether a request with this method and these headers may go on.
pub fn check(state: &AppState, method: &Method, headers: &HeaderMap) -> Result<(), Refusal> {
    let safe = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    if safe {
        return Ok(());
    }
    if !has_credential_cookie(headers) {
        // Without an Origin this is a program's request, not a page's.
        return state
            .access
            .check_origin(headers)
            .map_err(|_| foreign_page());
    }
    if !headers.contains_key(ORIGIN) {
        return Err(Refusal::forbidden(
            "csrf",
            "a request that changes something and carries the relay's cookie must come from the \
             relay's own page (it has no Origin header)",
        ));
    }
    state
        .access
        .check_origin(headers)
        .map_err(|_| foreign_page())
}

fn foreign_page() -> Refusal {
    Refusal::forbidden(
        "csrf",
        "a request that changes something must come from the relay's own page, not another \
         site's",
    )
}

/// [`check`] as a middleware.
pub async fn middleware(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match check(&state, request.method(), request.headers()) {
        Ok(()) => next.run(request).await,
        Err(refusal) => {
            state.metrics.refused("forbidden", refusal.reason);
            ApiError::from(refusal).into_response()
        }
    }
}
