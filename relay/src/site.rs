//! Serving the built page from `dist/`. Any path that is not a file gets
//! `index.html`, so the page's own routes (`/http`, `/sockets`) work when
//! opened or reloaded directly. Without a built page, every page path
//! explains how to build one instead of answering a bare 404.
//!
//! `cargo xtask dist` leaves `.br` and `.gz` copies beside the big files;
//! each browser gets the smallest one it accepts (brotli before gzip at an
//! equal preference), with the original file's type (`application/wasm`
//! for the WASM, which lets the browser compile it while it downloads).

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse};
use std::path::Path;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeader;

/// Adds the site as the fallback of `routes`.
pub fn attach<S: Clone + Send + Sync + 'static>(routes: Router<S>, dist: &Path) -> Router<S> {
    let index = dist.join("index.html");
    if index.is_file() {
        let files = ServeDir::new(dist)
            .precompressed_br()
            .precompressed_gzip()
            .fallback(ServeFile::new(index));
        // The same URL has several bodies: a shared cache must keep them
        // apart by the request's Accept-Encoding.
        return routes.fallback_service(SetResponseHeader::appending(
            files,
            header::VARY,
            HeaderValue::from_static("accept-encoding"),
        ));
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
