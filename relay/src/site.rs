//! Serving the built page from `dist/`. Any path that is not a file gets
//! `index.html`, so the page's own routes (`/http`, `/sockets`) work when
//! opened or reloaded directly. Without a built page, every page path
//! explains how to build one instead of answering a bare 404.

use axum::Router;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse};
use std::path::Path;
use tower_http::services::{ServeDir, ServeFile};

/// Adds the site as the fallback of `routes`.
pub fn attach<S: Clone + Send + Sync + 'static>(routes: Router<S>, dist: &Path) -> Router<S> {
    let index = dist.join("index.html");
    if index.is_file() {
        // `cargo xtask dist` leaves .gz copies of the big files: sent as is
        // to browsers that accept gzip.
        return routes.fallback_service(
            ServeDir::new(dist)
                .precompressed_gzip()
                .fallback(ServeFile::new(index)),
        );
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
