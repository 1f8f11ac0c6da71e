//! The wirelab relay as a library: [`Relay::start`] binds the web server and
//! every reference server, and returns once they all listen, so the binary,
//! the integration tests and the browser tests start the very same thing.
//!
//! The web server serves the built page (`dist/`), `/ws` (the bridge of relay
//! protocol v1), the APIs (`/api/targets`, `/api/health`, `/api/metrics`,
//! `/api/recordings`, `/api/classes`, `/api/instructor/session`,
//! `/api/join`, `/api/tasks`) and the classroom join page (`/join/<code>`).
//! The security model is in the README: deny by default ([`policy`]),
//! `Origin`/`Host` checks ([`access`]), tokens in classroom mode
//! ([`classroom`]), an `Origin` check on what a cookie changes ([`csrf`]),
//! and [`limits`] on everything.
#![forbid(unsafe_code)]

pub mod access;
pub mod activity;
pub mod api;
pub mod bridge;
pub mod catalog;
pub mod cdn_api;
pub mod classroom;
pub mod cli;
pub mod config;
pub mod csrf;
pub mod data_channels;
pub mod delay;
pub mod dns_api;
pub mod driver;
pub mod durable;
pub mod exercises;
pub mod group_commit;
pub mod homes;
pub mod identity;
pub mod limits;
pub mod maildir;
pub mod metrics;
pub mod policy;
pub mod proxy_api;
pub mod recording;
#[cfg(target_os = "linux")]
pub mod rx_stamp;
pub mod secrets;
pub mod servers;
pub mod site;
pub mod swarm;

use access::Access;
use activity::Activity;
use anyhow::{Context, Result};
use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use catalog::Catalog;
use classroom::Classroom;
use config::Config;
use identity::Identities;
use limits::Limiter;
use metrics::Metrics;
use policy::Policy;
use policy::resolver::{Resolver, SystemResolver};
use recording::RecordingStore;
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
    /// Control sessions and listeners that grant FTP data connections.
    pub data_channels: Arc<data_channels::DataChannels>,
    /// The DNS resolver, when the DNS servers run (`/api/dns/...`).
    pub dns: Option<servers::dns::ResolverHandle>,
    /// The caching proxy, when it runs (`/api/proxy/...`).
    pub proxy: Option<servers::proxy::ProxyHandle>,
    pub policy: Arc<Policy>,
    pub access: Arc<Access>,
    pub classroom: Arc<Classroom>,
    pub limiter: Arc<Limiter>,
    pub metrics: Arc<Metrics>,
    pub recordings: Arc<RecordingStore>,
    pub identities: Arc<Identities>,
    pub activity: Arc<Activity>,
    /// The mailboxes, when the reference servers run.
    pub mail: Option<Arc<maildir::MailHomes>>,
    /// The FTP trees, when the reference servers run.
    pub ftp: Option<Arc<servers::ftp::FtpHomes>>,
    /// The tasks, the learners' attempts and the observers' checks.
    pub exercises: Arc<exercises::Exercises>,
    /// The BitTorrent swarms started with `POST /api/swarms`.
    pub swarms: Arc<swarm::Swarms>,
}

/// What a relay can be started with besides its config.
#[derive(Clone)]
pub struct RelayOptions {
    /// How custom and named targets' host names are resolved (tests map
    /// names to addresses without DNS).
    pub resolver: Arc<dyn Resolver>,
}

impl Default for RelayOptions {
    fn default() -> Self {
        RelayOptions {
            resolver: Arc::new(SystemResolver),
        }
    }
}

/// A running relay.
pub struct Relay {
    /// Where the page, `/ws` and `/api` are served.
    pub addr: SocketAddr,
    pub catalog: Arc<Catalog>,
    /// Shared with the running relay: its counters, classes, recordings.
    pub state: AppState,
    shutdown: CancellationToken,
    tracker: TaskTracker,
}

impl Relay {
    /// Binds everything and starts serving. Fails, naming the port, if any
    /// listener cannot be bound.
    pub async fn start(config: Config) -> Result<Relay> {
        Self::start_with(config, RelayOptions::default()).await
    }

    /// [`Relay::start`] with a chosen resolver.
    pub async fn start_with(config: Config, options: RelayOptions) -> Result<Relay> {
        config.validate()?;
        let data_dir = config.data_dir();
        std::fs::create_dir_all(&data_dir)
            .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
        let shutdown = CancellationToken::new();
        let tracker = TaskTracker::new();
        let dns_resolver = std::sync::OnceLock::new();
        let ftp_homes = std::sync::OnceLock::new();
        let proxy = std::sync::OnceLock::new();
        let identities = Identities::new();
        let mail = if config.servers.enabled {
            let root = data_dir.join("mail");
            // One committer for every mailbox: one disk, bigger batches.
            let commit =
                group_commit::GroupCommit::start(config.servers.mail.max_queued_deliveries)
                    .context("cannot start the Maildir committer thread")?;
            let shared = Arc::new(
                maildir::MaildirStore::open_with(&root, &config.servers.mail, commit.clone())
                    .with_context(|| format!("cannot open the mailboxes in {}", root.display()))?,
            );
            // Classroom students each get the course's mailboxes of their own.
            let settings = config.servers.mail.clone();
            Some(Arc::new(homes::Homes::new(
                shared,
                &data_dir,
                "mail",
                identities.clone(),
                Box::new(move |dir: &std::path::Path| {
                    let store = maildir::MaildirStore::open_with(dir, &settings, commit.clone())?;
                    Ok(Arc::new(store))
                }),
            )))
        } else {
            None
        };

        let targets = servers::start_all(&servers::ServerContext {
            config: &config,
            data_dir: &data_dir,
            shutdown: shutdown.clone(),
            tracker: &tracker,
            dns_resolver: &dns_resolver,
            proxy: &proxy,
            identities: identities.clone(),
            mail: mail.clone(),
            ftp_homes: &ftp_homes,
        })
        .await
        .inspect_err(|_| shutdown.cancel())?;

        let addr = SocketAddr::new(config.bind, config.port);
        let listener = servers::bind_tcp(addr, "the web page and /ws", "port (or --port)")
            .await
            .inspect_err(|_| shutdown.cancel())?;
        let addr = listener.local_addr()?;

        let named = config
            .policy
            .targets
            .iter()
            .map(|t| TargetInfo {
                name: t.name.clone(),
                transport: t.transport,
                host: t.host.clone(),
                port: t.port,
                protocol: t.protocol.clone(),
                description: t.description.clone(),
                data_ports: None,
            })
            .collect();
        let own_ports = own_ports(&targets, addr.port());
        let catalog = Catalog::new(targets)
            .with_named(named)
            .map_err(anyhow::Error::msg)
            .inspect_err(|_| shutdown.cancel())?;
        let base_url = config.public_url.clone().unwrap_or_else(|| {
            let host = match addr.ip() {
                ip if ip.is_unspecified() => "127.0.0.1".to_string(),
                std::net::IpAddr::V6(v6) => format!("[{v6}]"),
                ip => ip.to_string(),
            };
            format!("http://{host}:{}", addr.port())
        });
        let classroom = Classroom::from_config(&config, &data_dir, base_url)
            .inspect_err(|_| shutdown.cancel())?;
        let exercises = exercises::Exercises::load(
            &data_dir,
            Arc::new(exercises::store::StoredAttempts::new(
                classroom.store.clone(),
            )),
        )
        .inspect_err(|_| shutdown.cancel())?
        .telling(classroom.events.clone());
        let recordings = RecordingStore::new(&data_dir, &config.recordings);
        recordings.prune();
        let state = AppState {
            data_channels: data_channels::DataChannels::new(
                config.limits.listen_timeout(),
                tracker.clone(),
            ),
            policy: Arc::new({
                let policy = Policy::new(
                    config.policy.rules.clone(),
                    options.resolver,
                    config.limits.connect_timeout(),
                );
                if config.local_programs {
                    policy.with_local_programs(own_ports)
                } else {
                    policy
                }
            }),
            access: Arc::new(Access::from_config(&config)),
            classroom: Arc::new(classroom),
            limiter: Limiter::new(&config.limits),
            metrics: Metrics::new(),
            recordings: Arc::new(recordings),
            identities,
            activity: Activity::new(),
            config: Arc::new(config),
            catalog: Arc::new(catalog),
            shutdown: shutdown.clone(),
            started: Instant::now(),
            dns: dns_resolver.get().cloned(),
            proxy: proxy.get().cloned(),
            mail,
            ftp: ftp_homes.get().cloned(),
            exercises: Arc::new(exercises),
            swarms: Arc::default(),
        };
        if state.classroom.enabled {
            classroom::sweep::start(&state, &tracker);
        }
        if let Some(proxy) = &state.proxy {
            proxy.set_origins(state.policy.clone(), state.catalog.clone());
        }
        let catalog = state.catalog.clone();
        let app = router(state.clone());
        let stop = shutdown.clone();
        tracker.spawn(async move {
            // Nagle's algorithm would hold a second small frame (a stamp,
            // then the bytes it stamps) until the first is acknowledged:
            // every frame goes out when written.
            let listener = listener.tap_io(|tcp| {
                if let Err(e) = tcp.set_nodelay(true) {
                    tracing::debug!("TCP_NODELAY on a page's connection: {e}");
                }
            });
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
            state,
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
    use classroom::api as class_api;
    use classroom::manage;
    use classroom::progress;
    let dist = state.config.dist.clone();
    // The APIs and the join page answer only to the names a loopback relay
    // accepts (the DNS rebinding defence, see `access`); `/ws` checks the
    // same itself, to report a refusal over the WebSocket.
    let lab_tools = Router::new()
        .route("/api/cdn/route", get(cdn_api::route))
        .route("/api/proxy/log", get(proxy_api::log))
        .route(
            "/api/proxy/cache",
            get(proxy_api::cache).delete(proxy_api::clear_cache),
        )
        .route("/api/dns/traces", get(dns_api::traces))
        .route("/api/dns/trace", get(dns_api::trace))
        .route(
            "/api/dns/cache",
            get(dns_api::cache).delete(dns_api::clear_cache),
        )
        .route("/api/swarms", get(swarm::list).post(swarm::create))
        .route("/api/swarms/{id}", get(swarm::show).delete(swarm::stop))
        .route("/api/swarms/{id}/torrent", get(swarm::torrent))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            class_api::members_only,
        ));
    let guarded = Router::new()
        .route("/api/targets", get(api::targets))
        .merge(lab_tools)
        .route("/api/mailboxes", get(api::mailboxes))
        .route("/api/tasks", get(exercises::api::tasks))
        .route("/api/tasks/events", get(exercises::api::events))
        .route("/api/mailboxes/{address}/reset", post(api::reset_mailbox))
        .route("/api/metrics", get(api::metrics))
        .route("/api/recordings", get(api::list_recordings))
        .route("/api/recordings/{id}", get(api::recording))
        .route("/api/recordings/{id}/text", get(api::recording_text))
        .route("/api/recordings/{id}/pcapng", get(api::recording_pcapng))
        .route(
            "/api/classes",
            get(class_api::list_classes).post(class_api::create_class),
        )
        .route(
            "/api/classes/{id}",
            get(class_api::class_activity).delete(class_api::close_class),
        )
        .route(
            "/api/instructor/session",
            get(manage::whoami)
                .post(manage::sign_in)
                .delete(manage::sign_out),
        )
        .route("/api/classes/{id}/roster", get(manage::roster))
        .route(
            "/api/classes/{id}/settings",
            get(manage::settings).patch(manage::change_settings),
        )
        .route("/api/classes/{id}/events", get(manage::events))
        .route("/api/classes/{id}/progress", get(progress::progress))
        .route(
            "/api/classes/{id}/progress.csv",
            get(progress::progress_csv),
        )
        .route(
            "/api/classes/{id}/students/{student}/sessions",
            get(manage::student_sessions),
        )
        .route(
            "/api/classes/{id}/students/{student}/reset",
            post(manage::reset_student),
        )
        .route(
            "/api/classes/{id}/students/{student}/revoke",
            post(manage::revoke_student),
        )
        .route("/api/join", post(class_api::join_api))
        .route(
            "/join/{code}",
            get(class_api::join_page).post(class_api::join_submit),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            csrf::middleware,
        ))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            check_host,
        ));
    let routes = guarded
        .route("/ws", get(bridge::ws_handler))
        .route("/api/health", get(api::health));
    site::attach(routes, &dist)
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// The `Host` check of [`access::Access::check_host`], as a middleware.
async fn check_host(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match state.access.check_host(request.headers()) {
        Ok(()) => next.run(request).await,
        Err(refusal) => {
            state.metrics.refused("forbidden", refusal.reason);
            classroom::api::ApiError::from(refusal).into_response()
        }
    }
}

/// Every port the relay itself listens on: its page, each reference
/// server's, the FTP passive range. `local_programs` never opens these.
fn own_ports(servers: &[TargetInfo], page_port: u16) -> std::collections::BTreeSet<u16> {
    let mut ports: std::collections::BTreeSet<u16> = servers.iter().map(|t| t.port).collect();
    for range in servers.iter().filter_map(|t| t.data_ports.as_ref()) {
        ports.extend(range.first..=range.last);
    }
    ports.insert(page_port);
    ports
}
