//! The wirelab page: a Yew single-page app. It has no protocol logic of its
//! own; it drives the engines and dissectors of `wirelab-shared`, either
//! through the relay's WebSocket bridge or, with no relay, in the browser.
//!
//! Layout: [`app`] (shell, header, navigation, routes), [`bundle`] (the
//! page built as one WASM module per group of routes, each entry in
//! `frontend/bundles/`), [`pages`] (one per
//! workbench), [`components`] (panes shared by the workbenches),
//! [`callbacks`] (the callbacks every workbench builds alike), [`session`]
//! (the plain-Rust reducer of a connection's transcript, unit-tested
//! natively), [`link`] (the connection to a server: relay or in-browser),
//! [`relay_info`] (the relay's status and catalog, a context every page
//! reads with a hook) and [`api`] (the relay's JSON endpoints); [`plural`]
//! writes every count.
#![forbid(unsafe_code)]

pub mod api;
pub mod app;
pub mod bench;
pub mod bundle;
pub mod callbacks;
pub mod components;
pub mod follow;
pub mod hooks;
pub mod link;
pub mod local;
pub mod pages;
pub mod plural;
pub mod proxy_view;
pub mod relay_info;
pub mod route;
pub mod session;
pub mod settings;

/// Milliseconds on the page's monotonic clock (`performance.now()`).
pub fn now_ms() -> f64 {
    #[cfg(target_arch = "wasm32")]
    {
        web_sys::window()
            .and_then(|w| w.performance())
            .map(|p| p.now())
            .unwrap_or_else(js_sys::Date::now)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        use std::sync::OnceLock;
        use std::time::Instant;
        static START: OnceLock<Instant> = OnceLock::new();
        START.get_or_init(Instant::now).elapsed().as_secs_f64() * 1000.0
    }
}
