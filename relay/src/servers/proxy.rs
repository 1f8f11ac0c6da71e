//! The caching proxy (catalog `proxy`, 127.0.0.1:3128): an HTTP/1.1
//! forward proxy with a shared cache, driving
//! [`wirelab_shared::http::proxy`] (the messages) and
//! [`wirelab_shared::http::cache_store`] (the cache) over tokio sockets.
//!
//! Each client connection reads requests with the web server's framer and
//! bounds (`[servers.http]`), answers from the cache or fetches from the
//! origin over a connection kept from an earlier miss or a new one (held
//! back by `origin_delay_ms`, the origin "far away"), and logs what it did for `/api/proxy/log`. Origins
//! are what the relay's policy allows (its own reference servers by
//! default); the relay hands the policy over once it is built, with
//! [`ProxyHandle::set_origins`]. Where an origin may be is in `origins`,
//! the bytes answered in `answers`, one origin exchange in `upstream`, the
//! log in `log`.

use super::{ServerContext, bind_tcp};
use crate::catalog::Catalog;
use crate::config::ProxyServer;
use crate::driver::{ConnectionGate, next_connection};
use crate::policy::Policy;
use anyhow::Result;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tracing::debug;
use wirelab_shared::http::cache::{CacheStatus, Forward};
use wirelab_shared::http::cache_store::{
    Bounds, CACHE_NAME, EntryView, Fetched, Plan, Settled, Store,
};
use wirelab_shared::http::frame::{Frame, FrameError, Limits, RequestFramer, Status};
use wirelab_shared::http::proxy::{OriginResponse, ProxyRequest, read_request, upstream_request};
use wirelab_shared::http::server::ServerLimits;
use wirelab_shared::relay_protocol::{TargetInfo, Transport};

mod answers;
mod log;
mod origins;
mod upstream;

use answers::{busy, first_line};
pub use log::{LogEntry, UpstreamExchange};

/// Where origins may be: the relay's policy and catalog, known only once
/// every server has started.
struct Origins {
    policy: Arc<Policy>,
    catalog: Arc<Catalog>,
}

/// The running proxy, shared by its connections and `/api/proxy`.
pub struct Proxy {
    cache: Mutex<Store>,
    log: log::Log,
    origins: OnceLock<Origins>,
    /// `127.0.0.1:3128`: this proxy's name in `Via`, and its address.
    via_name: String,
    listen: SocketAddr,
    settings: ProxyServer,
    limits: ServerLimits,
    /// Origin connections kept open for the next miss.
    pool: upstream::Pool,
}

/// A handle on the running proxy.
#[derive(Clone)]
pub struct ProxyHandle(Arc<Proxy>);

impl ProxyHandle {
    /// Gives the proxy the relay's policy; until then it answers 503.
    pub fn set_origins(&self, policy: Arc<Policy>, catalog: Arc<Catalog>) {
        let _ = self.0.origins.set(Origins { policy, catalog });
    }

    /// The log, oldest first.
    pub fn log(&self) -> Vec<LogEntry> {
        self.0.log.entries()
    }

    /// The cache's entries, least recently used first.
    pub fn cache(&self) -> Vec<EntryView> {
        lock(&self.0.cache).view(unix_now())
    }

    pub fn clear_cache(&self) {
        lock(&self.0.cache).clear();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic elsewhere cannot leave the cache half-updated in a way that
    // matters more than losing the proxy: go on with what is there.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

pub async fn start(ctx: &ServerContext<'_>) -> Result<(Vec<TargetInfo>, Option<ProxyHandle>)> {
    let cfg = &ctx.config.servers.proxy;
    if !cfg.enabled {
        return Ok((Vec::new(), None));
    }
    let listener = bind_tcp(
        SocketAddr::new(ctx.config.servers.host, cfg.port),
        "the caching proxy (proxy)",
        "servers.proxy.port",
    )
    .await?;
    let listen = listener.local_addr()?;
    let proxy = Arc::new(Proxy {
        cache: Mutex::new(Store::new(Bounds {
            max_bytes: cfg.cache_max_bytes,
            max_entries: cfg.cache_max_entries,
            max_object_bytes: cfg.max_object_bytes,
        })),
        log: log::Log::new(cfg.log_entries),
        origins: OnceLock::new(),
        via_name: listen.to_string(),
        listen,
        settings: cfg.clone(),
        limits: ctx.config.servers.http.limits(),
        pool: upstream::Pool::default(),
    });
    let settings = ctx.tcp_settings("proxy");
    let gate = ConnectionGate::new("proxy", settings.max_connections, Some(busy(&proxy)));
    let (shutdown, tracker) = (ctx.shutdown.clone(), ctx.tracker.clone());
    let accepting = proxy.clone();
    ctx.tracker.spawn(async move {
        while let Some((stream, remote, permit)) =
            next_connection(&listener, &gate, &shutdown, &tracker).await
        {
            let proxy = accepting.clone();
            let shutdown = shutdown.clone();
            let idle = settings.idle_timeout;
            let write_timeout = settings.write_timeout;
            tracker.spawn(async move {
                let client = Client {
                    proxy,
                    remote,
                    idle,
                    write_timeout,
                };
                tokio::select! {
                    _ = shutdown.cancelled() => {}
                    ended = client.serve(stream) => if let Err(e) = ended {
                        debug!(peer = %remote, "proxy connection ended: {e}");
                    },
                }
                drop(permit);
            });
        }
    });
    let target = TargetInfo {
        name: "proxy".into(),
        transport: Transport::Tcp,
        host: listen.ip().to_string(),
        port: listen.port(),
        protocol: "http".into(),
        description: "Caching web proxy (RFC 9111): absolute-form requests to the lab's web servers, hits, misses and 304 revalidations in /api/proxy/log".into(),
        data_ports: None,
    };
    Ok((vec![target], Some(ProxyHandle(proxy))))
}

/// One client connection.
struct Client {
    proxy: Arc<Proxy>,
    remote: SocketAddr,
    idle: Duration,
    write_timeout: Duration,
}

/// What reading the next request gave.
enum Next {
    Request(Frame),
    /// The client closed, went idle, or sent nothing usable in time.
    Done,
    /// Answer this status and close (a bound crossed, a request too slow).
    Refuse(u16, String),
}

impl Client {
    /// Answers requests until the client closes, idles, or a request or
    /// answer says to close.
    async fn serve(&self, mut stream: TcpStream) -> std::io::Result<()> {
        let mut buf = Vec::new();
        let mut framer = RequestFramer::new(self.proxy.limits.frame);
        loop {
            let (answer, keep_alive) = match self.next(&mut stream, &mut buf, &mut framer).await? {
                Next::Done => return Ok(()),
                Next::Refuse(status, why) => {
                    (self.proxy.refuse_framing(self.remote, status, &why), false)
                }
                Next::Request(frame) => {
                    let answer = self.proxy.answer(&buf, &frame, self.remote).await;
                    buf.drain(..frame.len);
                    answer
                }
            };
            tokio::time::timeout(self.write_timeout, stream.write_all(&answer))
                .await
                .map_err(|_| std::io::ErrorKind::TimedOut)??;
            if !keep_alive {
                let _ = stream.shutdown().await;
                return Ok(());
            }
        }
    }

    /// Reads until `buf` starts with a whole request: waiting at most the
    /// idle timeout for its first byte, then the request timeout for all.
    async fn next(
        &self,
        stream: &mut TcpStream,
        buf: &mut Vec<u8>,
        framer: &mut RequestFramer,
    ) -> std::io::Result<Next> {
        let limits = &self.proxy.limits;
        let mut deadline = None;
        let mut chunk = vec![0u8; 16 * 1024];
        loop {
            if !buf.is_empty() {
                match framer.next(buf) {
                    Ok(Status::Complete(frame)) => return Ok(Next::Request(frame)),
                    Ok(_) => {}
                    Err(e) => return Ok(refuse_frame(&e)),
                }
                deadline.get_or_insert_with(|| {
                    tokio::time::Instant::now() + Duration::from_millis(limits.request_timeout_ms)
                });
            }
            let wait = match deadline {
                Some(at) => tokio::time::timeout_at(at, stream.read(&mut chunk)).await,
                None => tokio::time::timeout(self.idle, stream.read(&mut chunk)).await,
            };
            match wait {
                Err(_) if deadline.is_some() => {
                    return Ok(Next::Refuse(
                        408,
                        "the request did not arrive in time".into(),
                    ));
                }
                Err(_) | Ok(Ok(0)) => return Ok(Next::Done),
                Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
                Ok(Err(e)) => return Err(e),
            }
        }
    }
}

fn refuse_frame(error: &FrameError) -> Next {
    Next::Refuse(
        error.status(),
        format!("The request cannot be read: {error}."),
    )
}

/// Why an origin could not be used, and the status that says so.
struct Unusable {
    status: u16,
    message: String,
    detail: &'static str,
}

impl Proxy {
    /// The answer to the request framed at the front of `buf`, and whether
    /// the connection stays open after it.
    async fn answer(&self, buf: &[u8], frame: &Frame, client: SocketAddr) -> (Vec<u8>, bool) {
        let started = Instant::now();
        let mut entry = LogEntry::new(client, unix_now());
        let request = match read_request(buf, frame, &self.via_name) {
            Ok(request) => request,
            Err(refusal) => {
                entry.request = first_line(buf);
                return (self.refuse(entry, &refusal, started), false);
            }
        };
        entry.request = request.line();
        let addrs = match self.origin_addrs(&request.origin).await {
            Ok(addrs) => addrs,
            Err(unusable) => return (self.unusable(entry, &request, unusable, started), false),
        };
        let answer = self.through_cache(&request, &addrs, &mut entry).await;
        entry.total_ms = started.elapsed().as_millis() as u64;
        self.log.push(entry);
        (answer, request.keep_alive)
    }

    /// Serves from the cache, or fetches (or revalidates) and settles.
    async fn through_cache(
        &self,
        request: &ProxyRequest,
        addrs: &[SocketAddr],
        entry: &mut LogEntry,
    ) -> Vec<u8> {
        let uri = request.origin.uri();
        let now = unix_now();
        let plan = lock(&self.cache).plan(&request.method, &uri, &request.fields, now);
        if let Plan::Serve(stored) = &plan {
            let status = CacheStatus::hit(CACHE_NAME, stored.ttl(now));
            entry.outcome = "hit".into();
            let response = &stored.response;
            return self.deliver(request, entry, response, stored.age(now), &status);
        }
        let conditional = match &plan {
            Plan::Revalidate { conditional, .. } => conditional.clone(),
            _ => Vec::new(),
        };
        let sent = upstream_request(request, &conditional, &self.via_name);
        let mut exchange = UpstreamExchange::new(&sent, addrs, conditional);
        let fetched = self
            .fetch(addrs, &sent, &request.method, &mut exchange)
            .await;
        entry.upstream = Some(exchange);
        let origin = match fetched {
            Ok(origin) => origin,
            Err(unusable) => {
                let status = CacheStatus::forwarded(CACHE_NAME, Forward::Miss, None);
                entry.outcome = "error".into();
                return self.error(request, entry, unusable.status, &unusable.message, &status);
            }
        };
        let fetched = Fetched {
            status: origin.status,
            reason: origin.reason,
            headers: origin.fields,
            body: origin.body.into(),
            request_time: now,
            response_time: unix_now(),
        };
        let settled =
            lock(&self.cache).settle(&plan, &request.method, &uri, &request.fields, fetched);
        entry.outcome = outcome(&plan, &settled).into();
        let Settled {
            response,
            age,
            status,
        } = settled;
        self.deliver(request, entry, &response, age, &status)
    }

    /// Connects to the origin (after the "far away" delay), sends the
    /// request and reads the whole response, within the origin timeout.
    async fn fetch(
        &self,
        addrs: &[SocketAddr],
        sent: &[u8],
        method: &str,
        exchange: &mut UpstreamExchange,
    ) -> Result<OriginResponse, Unusable> {
        let started = Instant::now();
        // No timer at all without a delay: tokio rounds a zero-length one up
        // to a millisecond, which a miss would pay for nothing.
        if self.settings.origin_delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(self.settings.origin_delay_ms)).await;
        }
        let limits = Limits {
            max_body: self.settings.max_response_bytes,
            ..self.limits.frame
        };
        let fetched = tokio::time::timeout(
            self.settings.origin_timeout(),
            upstream::exchange(&self.pool, addrs, sent, method, &limits),
        )
        .await
        .unwrap_or(Err(upstream::Failure::TimedOut));
        exchange.ms = started.elapsed().as_millis() as u64;
        let (origin, reused) = fetched.map_err(|f| f.unusable(addrs, &self.settings))?;
        exchange.status = Some(origin.status);
        exchange.reused_connection = reused;
        Ok(origin)
    }
}

/// What the log calls what happened.
fn outcome(plan: &Plan, settled: &Settled) -> &'static str {
    match plan {
        Plan::Revalidate { .. } if settled.status.fwd_status == Some(304) => "revalidated",
        Plan::Revalidate { .. } => "refetched",
        Plan::Fetch(Forward::Bypass) => "passed",
        _ if settled.status.stored => "miss",
        _ => "miss, not stored",
    }
}
