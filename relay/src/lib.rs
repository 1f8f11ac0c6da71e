//! The wirelab relay as a library: [`Relay::start`] binds the web server and
//! every reference server, and returns once they all listen, so the binary,
//! the integration tests and the browser tests start the very same thing.
//!
//! The web server serves the built page (`dist/`), `/ws` (the bridge of relay
//! protocol v1), `/api/targets` and `/api/health`.
#![forbid(unsafe_code)]

pub mod api;
pub mod bridge;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod driver;
pub mod maildir;
pub mod policy;
pub mod servers;
pub mod site;

use anyhow::{Context, Result};
use axum::Router;
use axum::routing::{get, post};
use catalog::Catalog;
use config::Config;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use wirelab_shared::relay_protocol::TargetInfo;

/// What every request handler shares.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub catalog: Arc<Catalog>,
    pub shutdown: CancellationToken,
    pub started: Instant,
    /// The mailboxes, when the reference servers run.
    pub mail: Option<Arc<maildir::MaildirStore>>,
}

/// A running relay.
pub struct Relay {
    /// Where the page, `/ws` and `/api` are served.
    pub addr: SocketAddr,
    pub catalog: Arc<Catalog>,
    shutdown: CancellationToken,
    tracker: TaskTracker,
}

impl Relay {
    /// Binds everything and starts serving. Fails, naming the port, if any
    /// listener cannot be bound.
    pub async fn start(config: Config) -> Result<Relay> {
        let data_dir = config.data_dir();
        std::fs::create_dir_all(&data_dir)
            .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
        let shutdown = CancellationToken::new();
        let tracker = TaskTracker::new();
        let mail = if config.servers.enabled {
            let root = data_dir.join("mail");
            Some(Arc::new(
                maildir::MaildirStore::open(&root, &config.servers.mail)
                    .with_context(|| format!("cannot open the mailboxes in {}", root.display()))?,
            ))
        } else {
            None
        };

        let targets = servers::start_all(&servers::ServerContext {
            config: &config,
            data_dir: &data_dir,
            shutdown: shutdown.clone(),
            tracker: &tracker,
            mail: mail.clone(),
        })
        .await
        .inspect_err(|_| shutdown.cancel())?;

        let addr = SocketAddr::new(config.bind, config.port);
        let listener = servers::bind_tcp(addr, "the web page and /ws", "port (or --port)")
            .await
            .inspect_err(|_| shutdown.cancel())?;
        let addr = listener.local_addr()?;

        let state = AppState {
            config: Arc::new(config),
            catalog: Arc::new(Catalog::new(targets)),
            shutdown: shutdown.clone(),
            started: Instant::now(),
            mail,
        };
        let catalog = state.catalog.clone();
        let app = router(state);
        let stop = shutdown.clone();
        tracker.spawn(async move {
            let served = axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await;
            if let Err(e) = served {
                tracing::error!("web server failed: {e}");
            }
        });
        tracker.close();
        Ok(Relay {
            addr,
            catalog,
            shutdown,
            tracker,
        })
    }

    pub fn targets(&self) -> &[TargetInfo] {
        self.catalog.targets()
    }

    /// The catalog entry named `name`.
    pub fn target(&self, name: &str) -> Option<&TargetInfo> {
        self.catalog.get(name)
    }

    /// A token that stops the relay when cancelled.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Asks everything to stop and waits (at most `grace`) until it has.
    pub async fn stop(self, grace: Duration) -> bool {
        self.shutdown.cancel();
        tokio::time::timeout(grace, self.tracker.wait())
            .await
            .is_ok()
    }

    /// Waits until the relay has stopped (after the token was cancelled).
    pub async fn stopped(&self) {
        self.shutdown.cancelled().await;
        self.tracker.wait().await;
    }
}

/// The web server's routes.
pub fn router(state: AppState) -> Router {
    let dist = state.config.dist.clone();
    let routes = Router::new()
        .route("/ws", get(bridge::ws_handler))
        .route("/api/targets", get(api::targets))
        .route("/api/health", get(api::health))
        .route("/api/mailboxes", get(api::mailboxes))
        .route("/api/mailboxes/{address}/reset", post(api::reset_mailbox));
    site::attach(routes, &dist)
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}
