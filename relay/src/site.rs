//! Serving the built page from `dist/`. Any path that is not a file gets
//! `index.html`, so the page's own routes (`/http`, `/sockets`) work when
//! opened or reloaded directly; a path the page's router does not know
//! ([`wirelab_shared::pages`]) gets it with status 404, the page showing its
//! own "not found" view. Without a built page, every page path explains how
//! to build one instead of answering a bare 404.
//!
//! `cargo xtask dist` leaves `.br` and `.gz` copies beside the big files;
//! each browser gets the smallest one it accepts (brotli before gzip at an
//! equal preference), with the original file's type (`application/wasm`
//! for the WASM, which lets the browser compile it while it downloads).
//! Files named with the build's version stamp are cached for good; the
//! shell is revalidated ([`cache_policy`]).

use axum::Router;
use axum::extract::Request;
use axum::handler::HandlerWithoutStateExt;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use std::path::{Path, PathBuf};
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeader;
use wirelab_shared::pages::is_page_path;

/// Adds the site as the fallback of `routes`.
pub fn attach<S: Clone + Send + Sync + 'static>(routes: Router<S>, dist: &Path) -> Router<S> {
    let index = dist.join("index.html");
    if index.is_file() {
        let files = ServeDir::new(dist)
            .precompressed_br()
            .precompressed_gzip()
            .fallback((move |request| the_page(index.clone(), request)).into_service());
        // The same URL has several bodies: a shared cache must keep them
        // apart by the request's Accept-Encoding.
        let site = Router::new()
            .fallback_service(SetResponseHeader::appending(
                files,
                header::VARY,
                HeaderValue::from_static("accept-encoding"),
            ))
            .layer(axum::middleware::from_fn(cache_policy));
        return routes.fallback_service(site);
    }
    tracing::warn!(
        "no built page at {}: run `cargo xtask run` (or `cargo xtask dist`)",
        index.display()
    );
    let shown = dist.display().to_string();
    routes.fallback(move || {
        let shown = shown.clone();
        async move {
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Html(format!(
                    "<!doctype html><title>wirelab</title><h1>wirelab relay</h1>\
                     <p>The relay is running, but the page is not built: {shown}/index.html \
                     is missing. Run <code>cargo xtask run</code>, or <code>cargo xtask dist</code> \
                     and pass <code>--dist</code>.</p>\
                     <p>The catalog is at <a href=\"/api/targets\">/api/targets</a>.</p>"
                )),
            )
                .into_response()
        }
    })
}

/// How long a browser keeps what it got. The shell names its modules,
/// stylesheet and scripts with a version stamp (`?v=<hash of the build>`),
/// so a stamped URL never changes its bytes and is kept for a year without
/// asking again: a page in another WASM module, reached by a reload, then
/// costs only the shell's revalidation once its module has been loaded.
/// Everything else (the shell, unstamped files) is revalidated each time.
async fn cache_policy(request: Request, next: axum::middleware::Next) -> Response {
    let stamped = request
        .uri()
        .query()
        .is_some_and(|query| query.split('&').any(|pair| pair.starts_with("v=")));
    let mut response = next.run(request).await;
    let policy = if stamped && response.status().is_success() {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    response
}

/// The page's shell for a path that is not a file: 200 on the router's
/// routes, 404 elsewhere.
async fn the_page(index: PathBuf, mut request: Request) -> Response {
    if is_page_path(request.uri().path()) {
        return serve_file(index, request).await;
    }
    // A 404 carries the whole shell: a 304 "not modified" would leave the
    // browser nothing to show.
    for conditional in [header::IF_MODIFIED_SINCE, header::IF_NONE_MATCH] {
        request.headers_mut().remove(conditional);
    }
    let mut response = serve_file(index, request).await;
    if response.status().is_success() {
        *response.status_mut() = StatusCode::NOT_FOUND;
    }
    response
}

async fn serve_file(path: PathBuf, request: Request) -> Response {
    match ServeFile::new(path).try_call(request).await {
        Ok(response) => response.into_response(),
        Err(error) => {
            tracing::warn!("reading the page's shell: {error}");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
