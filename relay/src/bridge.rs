//! `GET /ws`: one WebSocket bridged to one TCP connection or one UDP flow,
//! as relay protocol v1 (`docs/relay-protocol.md`) describes.
//!
//! Before the upgrade the handler reads what only the HTTP request has: the
//! client's address, the `Host`/`Origin` checks and the classroom token.
//! After it, the session asks, in order: the query, the token's scope, the
//! delay bound, the connection limits, and the policy ([`decide`], which
//! resolves names); connects to the checked address; reports `connected`
//! (or `error`, then closes with 1008/1011); and then copies bytes both ways
//! until either side closes, the session sits idle, a limit is hit or the
//! relay shuts down, each ending reported as `closed` or `error`.
//!
//! Every byte is counted (limits, metrics, the instructor's view), passes
//! through a [`DelayLine`] each way (`delay_ms`, `rate_kbps`), is written to the
//! connection's recording if it has one, and is copied to the exercises'
//! observer when a task may be done over the target's protocol (checked on
//! a task of its own, see [`crate::exercises`]).
//!
//! With `stamps=1` the page also learns when each chunk met the server's
//! socket, on one clock for the whole relay ([`SessionClock::at_us`]): a
//! chunk is stamped as it is read, before the delay line, and a write once
//! it completes, so the delay the page asked for is not drawn as the
//! server's time.

use crate::AppState;
use crate::activity::{LiveSession, SessionCounters, Stop};
use crate::classroom::events::ClassEvent;
use crate::classroom::{Admitted, unix_now};
use crate::data_channels::ControlSession;
use crate::delay::DelayLine;
use crate::exercises::observer::{Observed, SessionObserver};
use crate::exercises::store::Learner;
use crate::identity::IdentityGuard;
use crate::limits::ConnectionPermit;
use crate::metrics::TargetCounters;
use crate::policy::{Allowed, Refusal, decide};
use crate::recording::{Event, Header, Recorder};
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream, UdpSocket};
use tracing::{Instrument, debug, info, info_span};
use wirelab_shared::exercises::TaskProtocol;
use wirelab_shared::relay_protocol::{
    ClosedBy, ConnectQuery, ErrorCode, PageMessage, RelayMessage, SUBPROTOCOL, Transport,
};

/// The WebSocket read buffer of a session (see [`ws_handler`]).
const WS_READ_BUFFER: usize = 8 * 1024;

/// What the HTTP request told about the client, checked before the upgrade
/// and reported after it.
struct Arrival {
    params: HashMap<String, String>,
    client: IpAddr,
    /// The student (classroom mode), nobody (open relay), or why the
    /// request is refused (`Host`, `Origin`, token).
    gate: Result<Option<Admitted>, Refusal>,
}

/// The upgrade handler. Query parameters are read by hand so that a bad one
/// is reported over the WebSocket as `bad_request`, not as a failed upgrade
/// the page cannot explain; refusals are reported the same way.
pub async fn ws_handler(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let client = state.access.client_addr(peer, &headers);
    let gate = match state
        .access
        .check_host(&headers)
        .and_then(|()| state.access.check_origin(&headers))
    {
        Err(refusal) => Err(refusal),
        Ok(()) if !state.classroom.enabled => Ok(None),
        Ok(()) => {
            let token = crate::access::token(&headers, params.get("token").map(String::as_str));
            state.classroom.admit(token, unix_now()).await.map(Some)
        }
    };
    let limits = &state.config.limits;
    let arrival = Arrival {
        params,
        client,
        gate,
    };
    upgrade
        .protocols([SUBPROTOCOL])
        // tungstenite zero-fills its whole read buffer before each read:
        // its default of 128 KiB would be most of an idle session's memory.
        // Larger messages still arrive (the buffer grows for them).
        .read_buffer_size(WS_READ_BUFFER)
        .max_message_size(limits.max_message_bytes)
        .max_frame_size(limits.max_frame_bytes)
        .on_upgrade(move |socket| {
            let span = info_span!(
                "ws",
                client = %arrival.client,
                target = arrival.params.get("target").map(String::as_str).unwrap_or("-")
            );
            session(state, arrival, socket).instrument(span)
        })
}

/// Turns the raw query into a [`ConnectQuery`], naming the parameter that is wrong.
pub fn parse_query(params: &HashMap<String, String>) -> Result<ConnectQuery, Refusal> {
    fn number<T: std::str::FromStr>(
        params: &HashMap<String, String>,
        key: &str,
    ) -> Result<Option<T>, Refusal> {
        params
            .get(key)
            .map(|v| {
                v.parse().map_err(|_| {
                    Refusal::bad_request(format!(
                        "the query parameter {key}={v:?} is not a valid number"
                    ))
                })
            })
            .transpose()
    }
    let transport = match params.get("transport").map(String::as_str) {
        None => None,
        Some("tcp") => Some(Transport::Tcp),
        Some("udp") => Some(Transport::Udp),
        Some(other) => {
            return Err(Refusal::bad_request(format!(
                "transport must be tcp or udp, not {other:?}"
            )));
        }
    };
    Ok(ConnectQuery {
        target: params.get("target").cloned(),
        transport,
        host: params.get("host").cloned(),
        port: number(params, "port")?,
        data_port: number(params, "data_port")?,
        accept: params.get("accept").cloned(),
        token: params.get("token").cloned(),
        delay_ms: number(params, "delay_ms")?,
        rate_kbps: number(params, "rate_kbps")?,
        record: wants_recording(params),
        stamps: is_yes(params, "stamps"),
    })
}

/// Whether the page asked for a recording (`record=1`).
fn wants_recording(params: &HashMap<String, String>) -> bool {
    is_yes(params, "record")
}

/// Whether the flag `key` is set (`key=1`, `true` or `yes`).
fn is_yes(params: &HashMap<String, String>, key: &str) -> bool {
    params
        .get(key)
        .is_some_and(|v| matches!(v.as_str(), "1" | "true" | "yes"))
}

/// A session's clocks: time since its WebSocket opened, for `t_ms`, and,
/// when the page asked for stamps, the relay's own clock, which every
/// session shares so that several WebSockets fall on one axis.
#[derive(Clone, Copy)]
struct SessionClock {
    opened: Instant,
    /// When the relay started, if the page asked for stamps.
    relay_started: Option<Instant>,
}

impl SessionClock {
    fn t_ms(&self) -> Option<f64> {
        Some(round_ms(self.opened.elapsed()))
    }

    /// `at` in microseconds since the relay started, if stamps are on.
    fn at_us(&self, at: Instant) -> Option<u64> {
        let started = self.relay_started?;
        Some(at.saturating_duration_since(started).as_micros() as u64)
    }

    fn now_us(&self) -> Option<u64> {
        self.at_us(Instant::now())
    }

    /// The `data` frame that goes before a chunk read at `at_us`.
    fn data_frame(&self, at_us: Option<u64>, len: usize) -> Option<Message> {
        self.relay_started?;
        let at_us = at_us?;
        Some(Message::text(format!(
            r#"{{"type":"data","at_us":{at_us},"len":{len}}}"#
        )))
    }

    /// The `sent` frame after a write to the server completed, now.
    fn sent_frame(&self, len: usize, fin: bool) -> Option<Message> {
        let at_us = self.now_us()?;
        let fin = if fin { r#","fin":true"# } else { "" };
        Some(Message::text(format!(
            r#"{{"type":"sent","at_us":{at_us},"len":{len}{fin}}}"#
        )))
    }
}

fn round_ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0 * 100.0).round() / 100.0
}

/// Everything a session needs once it is allowed.
struct Prepared {
    allowed: Allowed,
    query: ConnectQuery,
    /// `?accept=<id>`: the connection an FTP server made to a listener the
    /// page opened with `{"type":"listen"}`.
    accept: Option<String>,
    permit: ConnectionPermit,
    admitted: Option<Admitted>,
    delay: Duration,
    /// The link rate asked for (`rate_kbps`), checked against the bound.
    rate_kbps: Option<u64>,
    record: bool,
}

/// The checks between the upgrade and the connection, in order.
async fn prepare(state: &AppState, arrival: &mut Arrival) -> Result<Prepared, Refusal> {
    let gate = std::mem::replace(&mut arrival.gate, Ok(None));
    let admitted = gate?;
    let query = parse_query(&arrival.params)?;
    // A student's own swarm's peers are theirs to talk to, whatever the
    // class says of typed hosts; a classmate's are refused here.
    let viewer = admitted
        .as_ref()
        .map_or_else(crate::swarm::Viewer::everyone, |a| {
            crate::swarm::Viewer::student(&a.claims)
        });
    let swarm_peer = state.swarms.peer_target(&query, &viewer).transpose()?;
    if let Some(admitted) = &admitted
        && swarm_peer.is_none()
    {
        check_scope(admitted, &query)?;
    }
    let max_delay = class_max_delay(state, admitted.as_ref());
    let delay_ms = query.delay_ms.unwrap_or(0);
    if delay_ms > max_delay {
        return Err(Refusal::limit(
            "max_delay_ms",
            if max_delay == 0 {
                "this relay does not add delay (limits.max_delay_ms is 0)".to_string()
            } else {
                format!(
                    "delay_ms={delay_ms} is more than this relay allows ({max_delay} ms, \
                     limits.max_delay_ms or the class's setting)"
                )
            },
        ));
    }
    let rate_kbps = check_rate(&state.config.limits, query.rate_kbps)?;
    let student = admitted.as_ref().map(|a| a.claims.sub.as_str());
    let permit = state.limiter.admit(arrival.client, student)?;
    let delay = Duration::from_millis(delay_ms);
    let requested = wants_recording(&arrival.params);
    let record = match admitted.as_ref().and_then(|a| a.class.recordings) {
        Some(mode) => crate::recording::mode_wants(mode, requested),
        None => state.recordings.wants(requested),
    };
    if let Some(id) = &query.accept {
        // The listener's id is the grant; `accept_session` checks it.
        let allowed = Allowed {
            target: "ftp-data".into(),
            transport: Transport::Tcp,
            addr: SocketAddr::from(([0, 0, 0, 0], 0)),
            fallbacks: Vec::new(),
            kind: crate::policy::TargetKind::Accepted,
        };
        return Ok(Prepared {
            allowed,
            accept: Some(id.clone()),
            query,
            permit,
            admitted,
            delay,
            rate_kbps,
            record,
        });
    }
    let allowed = match swarm_peer {
        Some(peer) => peer,
        None => decide(&state.policy, &state.catalog, &query).await?,
    };
    if state.policy.allows_local_programs()
        && allowed.kind == crate::policy::TargetKind::Custom
        && allowed
            .addrs()
            .any(|a| a.ip().is_loopback() && state.data_channels.is_listening_on(a.port()))
    {
        // The relay's own FTP active-mode listener: not a program of the user's.
        return Err(Refusal::forbidden(
            "relay_port",
            format!(
                "target {} is not allowed: the relay itself listens there (FTP active mode)",
                allowed.target
            ),
        ));
    }
    // A data connection (FTP passive mode) needs an open control connection.
    state
        .data_channels
        .authorize(&query, &allowed, arrival.client)?;
    Ok(Prepared {
        allowed,
        query,
        accept: None,
        permit,
        admitted,
        delay,
        rate_kbps,
        record,
    })
}

/// The link rate a page asked for, if the relay allows it: no slower than
/// `limits.min_rate_kbps`.
fn check_rate(limits: &crate::config::Limits, asked: Option<u64>) -> Result<Option<u64>, Refusal> {
    match asked {
        Some(rate) if rate < limits.min_rate_kbps => Err(Refusal::limit(
            "min_rate_kbps",
            format!(
                "rate_kbps={rate} is slower than this relay allows ({} kbit/s, \
                 limits.min_rate_kbps)",
                limits.min_rate_kbps
            ),
        )),
        other => Ok(other),
    }
}

/// The largest delay a session may ask for: the relay's limit, or less if
/// the student's class says so.
fn class_max_delay(state: &AppState, admitted: Option<&Admitted>) -> u64 {
    let relay = state.config.limits.max_delay_ms;
    admitted
        .and_then(|a| a.class.max_delay_ms)
        .map_or(relay, |class| class.min(relay))
}

/// What a class allows (its settings now, whatever the token says): its
/// targets, and custom targets if it says so.
fn check_scope(admitted: &Admitted, query: &ConnectQuery) -> Result<(), Refusal> {
    match &query.target {
        Some(name) if !admitted.allows_target(name) => Err(Refusal::forbidden(
            "scope",
            format!(
                "your class ({}) does not include the target {name}; ask your instructor",
                admitted.class.name
            ),
        )),
        None if (query.host.is_some() || query.port.is_some())
            && !admitted.class.custom_targets =>
        {
            Err(Refusal::forbidden(
                "scope",
                format!(
                    "your class ({}) reaches only the targets of the catalog, not hosts you type",
                    admitted.class.name
                ),
            ))
        }
        _ => Ok(()),
    }
}

async fn session(state: AppState, mut arrival: Arrival, mut ws: WebSocket) {
    let clock = SessionClock {
        opened: Instant::now(),
        relay_started: is_yes(&arrival.params, "stamps").then_some(state.started),
    };
    let prepared = match prepare(&state, &mut arrival).await {
        Ok(prepared) => prepared,
        Err(refusal) => {
            info!(code = ?refusal.code, reason = refusal.reason, "refused: {}", refusal.message);
            send_refusal(&state, &mut ws, clock, &refusal).await;
            return;
        }
    };
    let counters = state.metrics.target(
        prepared.allowed.metrics_label(),
        prepared.allowed.transport.as_str(),
    );
    let mut run = Run {
        state: &state,
        prepared: &prepared,
        client: arrival.client,
        counters,
        live: Arc::new(SessionCounters::default()),
        total_bytes: 0,
        recorder: None,
        connected: None,
        fin_at: None,
        stop: Stop::new(),
        observer: None,
    };
    let ending = match (&prepared.accept, prepared.allowed.transport) {
        (Some(id), _) => accept_session(&mut run, id, &mut ws, clock).await,
        (None, Transport::Tcp) => tcp_session(&mut run, &mut ws, clock).await,
        (None, Transport::Udp) => udp_session(&mut run, &mut ws, clock).await,
    };
    let outcome = match &ending {
        Ending::Closed { by, reason } => {
            debug!(?by, "closed: {reason}");
            run.record(Event::Closed(reason.clone()));
            let msg = RelayMessage::Closed {
                by: *by,
                reason: reason.clone(),
                t_ms: clock.t_ms(),
                at_us: clock.at_us(run.fin_at.unwrap_or_else(Instant::now)),
            }
            .to_json();
            let _ = tokio::time::timeout(CLOSING_SEND_LIMIT, ws.send(Message::text(msg))).await;
            close_ws(&mut ws, 1000, reason).await;
            match by {
                ClosedBy::Peer => format!("closed by the server: {reason}"),
                ClosedBy::Relay => format!("closed by the relay: {reason}"),
            }
        }
        Ending::Error {
            code,
            message,
            reason,
        } => {
            run.record(Event::Closed(format!("error: {message}")));
            let refusal = Refusal::new(*code, reason, message.clone());
            send_refusal(&state, &mut ws, clock, &refusal).await;
            format!("error ({}): {message}", code.as_str())
        }
        Ending::PageGone => {
            run.record(Event::Closed("the page closed the WebSocket".into()));
            "closed by the page".to_string()
        }
    };
    run.finish(outcome);
}

/// The state of one connected session: what it counts and records.
struct Run<'a> {
    state: &'a AppState,
    prepared: &'a Prepared,
    client: IpAddr,
    counters: Arc<TargetCounters>,
    live: Arc<SessionCounters>,
    total_bytes: u64,
    recorder: Option<Recorder>,
    /// Set once connected: the peer, when, and the listing guard.
    connected: Option<Connected>,
    /// When the server's FIN was read (the stamp of `closed`), which a
    /// delay line may hand on later.
    fin_at: Option<Instant>,
    /// Pulled when the instructor revokes the student or closes the class.
    stop: Arc<Stop>,
    /// The exercises' copy of the bytes, when a task may be done on this
    /// session.
    observer: Option<SessionObserver>,
}

struct Connected {
    peer: SocketAddr,
    started_ms: u64,
    started: Instant,
    _live: crate::activity::LiveGuard,
    _identity: Option<IdentityGuard>,
}

impl Run<'_> {
    fn allowed(&self) -> &Allowed {
        &self.prepared.allowed
    }

    /// Counts bytes moving either way against the limits.
    fn charge(&mut self, n: usize, to_target: bool) -> Result<(), Ending> {
        let n = n as u64;
        let (metric, live) = if to_target {
            (&self.counters.bytes_to_target, &self.live.to_target)
        } else {
            (&self.counters.bytes_to_page, &self.live.to_page)
        };
        metric.fetch_add(n, Ordering::Relaxed);
        live.fetch_add(n, Ordering::Relaxed);
        self.total_bytes += n;
        let max = self.state.config.limits.max_bytes_per_connection;
        if self.total_bytes > max {
            return Err(Ending::refused(Refusal::limit(
                "max_bytes_per_connection",
                format!(
                    "this connection carried more than {max} bytes, the limit per connection \
                     (limits.max_bytes_per_connection)"
                ),
            )));
        }
        self.prepared.permit.charge(n).map_err(Ending::refused)
    }

    fn record(&mut self, event: Event) {
        if let Some(o) = &mut self.observer {
            match &event {
                Event::ToTarget(bytes) => o.to_server(bytes),
                Event::ToPage(bytes) => o.to_page(bytes),
                _ => {}
            }
        }
        if let Some(r) = &mut self.recorder {
            r.record(event);
        }
    }

    /// Called once the socket is connected: lists the session, starts its
    /// recording, counts it.
    fn on_connected(
        &mut self,
        local: SocketAddr,
        peer: SocketAddr,
        started: Instant,
        connect_time: Duration,
        identity: Option<IdentityGuard>,
    ) {
        let allowed = &self.prepared.allowed;
        let started_ms = unix_now_ms().saturating_sub(started.elapsed().as_millis() as u64);
        let identity_of = self.prepared.admitted.as_ref();
        if self.prepared.record {
            let header = Header {
                id: crate::secrets::random_hex(16),
                transport: allowed.transport,
                target: allowed.target.clone(),
                client: local,
                server: peer,
                started_unix_us: crate::recording::unix_now_us()
                    .saturating_sub(started.elapsed().as_micros() as u64),
                connect_us: connect_time.as_micros() as u64,
                delay_ms: self.prepared.delay.as_millis() as u64,
                class: identity_of.map(|a| a.claims.class.clone()),
                student: identity_of.map(|a| a.claims.sub.clone()),
            };
            match self.state.recordings.start(header, started) {
                Ok(r) => {
                    self.state.metrics.recording_started();
                    self.recorder = Some(r);
                }
                Err(e) => tracing::warn!("cannot start a recording: {e}"),
            }
        }
        self.observer = self.observe(local);
        self.counters.sessions.fetch_add(1, Ordering::Relaxed);
        self.counters.open.fetch_add(1, Ordering::Relaxed);
        let live = self.state.activity.open(LiveSession {
            class: identity_of.map(|a| a.claims.class.clone()),
            student: identity_of.map(|a| a.claims.sub.clone()),
            client: self.client,
            target: allowed.target.clone(),
            transport: allowed.transport,
            peer,
            started_ms,
            recording: self.recorder.as_ref().map(|r| r.id().to_string()),
            counters: self.live.clone(),
            token_issued: identity_of.map(|a| a.claims.iat),
            stop: self.stop.clone(),
        });
        if let Some(a) = identity_of {
            let event = ClassEvent::session(&a.claims.class, &a.claims.sub, &allowed.target, true);
            self.state.classroom.events.send(event);
        }
        self.connected = Some(Connected {
            peer,
            started_ms,
            started,
            _live: live,
            _identity: identity,
        });
    }

    /// An observer for the exercises, when the target's protocol has tasks:
    /// for the classroom student, or the local user of an open relay.
    fn observe(&self, local: SocketAddr) -> Option<SessionObserver> {
        // An FTP data connection carries files, not the conversation.
        if self.prepared.query.data_port.is_some() || self.prepared.accept.is_some() {
            return None;
        }
        let allowed = &self.prepared.allowed;
        let entry = self.state.catalog.get(&allowed.target)?;
        let protocol = TaskProtocol::from_catalog(&entry.protocol)?;
        if !self.state.exercises.checks(protocol) {
            return None;
        }
        let learner = match &self.prepared.admitted {
            Some(a) => Learner::student(&a.claims.class, &a.claims.sub),
            None if !self.state.classroom.enabled => Learner::local(),
            None => return None,
        };
        let session = Observed {
            learner,
            protocol,
            target: allowed.target.clone(),
            udp: allowed.transport == Transport::Udp,
            source_port: Some(local.port()),
        };
        Some(SessionObserver::start(
            self.state.exercises.clone(),
            session,
        ))
    }

    /// The session is over: logs it to the class's activity.
    fn finish(mut self, outcome: String) {
        // The checker sees the end of the session and checks it.
        self.observer = None;
        let recording = self.recording_id();
        // Dropping the recorder flushes the file.
        self.recorder = None;
        let Some(connected) = self.connected.take() else {
            return;
        };
        self.counters.open.fetch_sub(1, Ordering::Relaxed);
        let Some(admitted) = &self.prepared.admitted else {
            return;
        };
        let allowed = &self.prepared.allowed;
        let record = crate::classroom::store::SessionRecord {
            student: admitted.claims.sub.clone(),
            target: allowed.target.clone(),
            transport: allowed.transport.to_string(),
            peer: connected.peer.to_string(),
            client: self.client.to_string(),
            started_ms: connected.started_ms,
            duration_ms: connected.started.elapsed().as_millis() as u64,
            bytes_to_target: self.live.to_target.load(Ordering::Relaxed),
            bytes_to_page: self.live.to_page.load(Ordering::Relaxed),
            outcome,
            recording,
        };
        let class = admitted.claims.class.clone();
        let event = ClassEvent::session(&class, &record.student, &record.target, false);
        self.state.classroom.events.send(event);
        // Written off the runtime's workers; nothing waits for it.
        let store = self.state.classroom.store.clone();
        tokio::task::spawn_blocking(move || {
            if let Err(e) = store.add_session(&class, &record) {
                tracing::warn!("cannot log a session of {class}: {e:#}");
            }
        });
    }

    fn recording_id(&self) -> Option<String> {
        self.recorder.as_ref().map(|r| r.id().to_string())
    }

    /// Registers the socket bound to `local` as the student's, if there is one.
    /// Whether the connection carries a classroom student's identity.
    fn needs_identity(&self) -> bool {
        self.prepared
            .admitted
            .as_ref()
            .and_then(|a| a.identity())
            .is_some()
    }

    fn register_identity(&self, transport: Transport, local: SocketAddr) -> Option<IdentityGuard> {
        let who = self.prepared.admitted.as_ref()?.identity()?;
        Some(self.state.identities.register(transport, local, who))
    }
}

fn unix_now_ms() -> u64 {
    crate::recording::unix_now_us() / 1000
}

/// How a bridged session ended.
enum Ending {
    /// Report `closed` and close the WebSocket normally.
    Closed { by: ClosedBy, reason: String },
    /// Report `error` and close with the error's close code. `reason` is
    /// the metrics label (which limit, which check).
    Error {
        code: ErrorCode,
        message: String,
        reason: &'static str,
    },
    /// The page closed the WebSocket (or it broke): nothing left to tell.
    PageGone,
}

impl Ending {
    fn relay(reason: impl Into<String>) -> Self {
        Ending::Closed {
            by: ClosedBy::Relay,
            reason: reason.into(),
        }
    }

    fn peer(reason: impl Into<String>) -> Self {
        Ending::Closed {
            by: ClosedBy::Peer,
            reason: reason.into(),
        }
    }

    fn error(code: ErrorCode, message: impl Into<String>) -> Self {
        Ending::Error {
            code,
            message: message.into(),
            reason: code.as_str(),
        }
    }

    /// The instructor ended the session (see [`Stop`]).
    fn stopped(stop: &Stop) -> Self {
        match stop.why() {
            Some(why) => Ending::refused(why.clone()),
            None => Ending::relay("ended by the instructor"),
        }
    }

    fn refused(refusal: Refusal) -> Self {
        Ending::Error {
            code: refusal.code,
            message: refusal.message,
            reason: refusal.reason,
        }
    }
}

/// Sends `error`, closes the WebSocket, and counts the refusal.
async fn send_refusal(state: &AppState, ws: &mut WebSocket, clock: SessionClock, r: &Refusal) {
    state.metrics.refused(r.code.as_str(), r.reason);
    let msg = RelayMessage::Error {
        code: r.code,
        message: r.message.clone(),
        t_ms: clock.t_ms(),
    };
    let _ = tokio::time::timeout(CLOSING_SEND_LIMIT, ws.send(Message::text(msg.to_json()))).await;
    close_ws(ws, r.code.close_code(), &r.message).await;
}

async fn close_ws(ws: &mut WebSocket, code: u16, reason: &str) {
    // A close reason may hold at most 123 bytes (RFC 6455 §5.5).
    let frame = CloseFrame {
        code,
        reason: Utf8Bytes::from(truncate(reason, 123).to_string()),
    };
    let _ = tokio::time::timeout(CLOSING_SEND_LIMIT, ws.send(Message::Close(Some(frame)))).await;
}

/// How long the last words to a page (`closed`, `error`, the close frame)
/// may take: a page that does not read gets no more of the relay's time.
const CLOSING_SEND_LIMIT: Duration = Duration::from_secs(1);

/// Bytes queued for one direction of a session (its delay line) past which
/// the relay stops reading that direction's source until they drain: a
/// fast sender meets backpressure instead of filling the relay's memory.
const MAX_QUEUED_BYTES: usize = 1024 * 1024;

/// The longest idle time a session's deadline is set to: a configuration
/// may mean "never" with a huge number, which an instant cannot hold.
const LONGEST_IDLE: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// `limits.idle_timeout`, at most [`LONGEST_IDLE`].
fn session_idle_timeout(limits: &crate::config::Limits) -> Duration {
    limits.idle_timeout().min(LONGEST_IDLE)
}

/// Sends one message to the page within the write timeout, unless the
/// relay shuts down first; false if it was not taken (the page is gone or
/// does not read), which ends the session.
async fn send_to_page(run: &Run<'_>, ws: &mut WebSocket, message: Message) -> bool {
    let state = run.state;
    tokio::select! {
        // The send first: one that completes at once never polls the
        // shutdown future, so never joins the waiters of the token that
        // every session shares; shutdown still ends a send that waits.
        biased;
        sent = tokio::time::timeout(state.config.limits.write_timeout(), ws.send(message)) => {
            matches!(sent, Ok(Ok(())))
        }
        _ = state.shutdown.cancelled() => false,
    }
}

/// Sends a chunk of the server's bytes to the page, after its `data`
/// stamp when the page asked for stamps; both go out in one flush, within
/// the write timeout (see [`send_to_page`]).
async fn send_chunk_to_page(
    run: &Run<'_>,
    ws: &mut WebSocket,
    stamp: Option<Message>,
    bytes: Vec<u8>,
) -> bool {
    use futures_util::SinkExt;
    let Some(stamp) = stamp else {
        return send_to_page(run, ws, Message::binary(bytes)).await;
    };
    let state = run.state;
    let both = async {
        ws.feed(stamp).await?;
        ws.send(Message::binary(bytes)).await
    };
    tokio::select! {
        // The send first, as in `send_to_page`.
        biased;
        sent = tokio::time::timeout(state.config.limits.write_timeout(), both) => {
            matches!(sent, Ok(Ok(())))
        }
        _ = state.shutdown.cancelled() => false,
    }
}

/// Writes to the server within the write timeout, unless the relay shuts
/// down first.
async fn write_to_server(
    run: &Run<'_>,
    stream: &mut TcpStream,
    bytes: &[u8],
) -> Result<(), String> {
    let state = run.state;
    tokio::select! {
        // The write first, as in `send_to_page`.
        biased;
        written = tokio::time::timeout(state.config.limits.write_timeout(), stream.write_all(bytes)) => {
            match written {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(format!("could not send to the server: {e}")),
                Err(_) => Err("the server did not take what was sent (limits.write_timeout_secs)".into()),
            }
        }
        _ = state.shutdown.cancelled() => Err("the relay is shutting down".into()),
    }
}

/// The connection is up: [`Run::on_connected`] (the recording starts),
/// then `connected` to the page, with the optional `recording` id when
/// there is one (an addition to protocol v1 that older pages ignore).
/// `started` and `up` are when connecting began and when the connection
/// was really up (the stamps), `connect_time` what the student is told the
/// set-up took (with the added delay). False if the page is gone.
async fn announce_connected(
    run: &mut Run<'_>,
    ws: &mut WebSocket,
    clock: SessionClock,
    (local, peer): (SocketAddr, SocketAddr),
    (started, up): (Instant, Instant),
    connect_time: Duration,
    identity: Option<IdentityGuard>,
) -> bool {
    run.on_connected(local, peer, started, connect_time, identity);
    let allowed = run.allowed();
    let msg = RelayMessage::Connected {
        transport: allowed.transport,
        target: allowed.catalog_name().map(str::to_string),
        peer: peer.to_string(),
        local: local.to_string(),
        connect_ms: round_ms(connect_time),
        t_ms: clock.t_ms(),
        recording: run.recording_id(),
        started_us: clock.at_us(started),
        at_us: clock.at_us(up),
    };
    ws.send(Message::text(msg.to_json())).await.is_ok()
}

/// What the page asked for in one WebSocket message.
enum FromPage {
    Bytes(Vec<u8>),
    Control(PageMessage),
    Ignore,
    Gone,
    Bad(Ending),
}

fn classify(
    received: Option<Result<Message, axum::Error>>,
    limits: &crate::config::Limits,
) -> FromPage {
    match received {
        None | Some(Ok(Message::Close(_))) => FromPage::Gone,
        Some(Err(e)) => match too_long(e, limits) {
            Some(ending) => FromPage::Bad(ending),
            None => FromPage::Gone,
        },
        Some(Ok(Message::Binary(bytes))) => FromPage::Bytes(bytes.to_vec()),
        Some(Ok(Message::Text(text))) => match serde_json::from_str::<PageMessage>(text.as_str()) {
            Ok(msg) => FromPage::Control(msg),
            Err(_) => FromPage::Bad(Ending::error(
                ErrorCode::BadRequest,
                format!(
                    "text frames carry relay commands such as {{\"type\":\"shutdown\"}}; \
                     {:?} is not one (send data as binary frames)",
                    truncate(text.as_str(), 60)
                ),
            )),
        },
        Some(Ok(Message::Ping(_) | Message::Pong(_))) => FromPage::Ignore,
    }
}

/// A frame or message over the WebSocket limits, as a `limit` ending that
/// names which; `None` for any other WebSocket failure.
fn too_long(error: axum::Error, limits: &crate::config::Limits) -> Option<Ending> {
    use tungstenite::error::{CapacityError, Error};
    let inner = error.into_inner();
    let Some(Error::Capacity(CapacityError::MessageTooLong { size, max_size })) =
        inner.downcast_ref::<Error>()
    else {
        debug!("websocket error: {inner}");
        return None;
    };
    // tungstenite reports both limits alike; the bound tells them apart.
    let (what, key) = if *max_size == limits.max_frame_bytes
        && limits.max_frame_bytes != limits.max_message_bytes
    {
        ("WebSocket frame", "max_frame_bytes")
    } else if *max_size == limits.max_message_bytes {
        ("WebSocket message", "max_message_bytes")
    } else {
        ("WebSocket frame", "max_frame_bytes")
    };
    Some(Ending::refused(Refusal::limit(
        key,
        format!(
            "a {what} of {size} bytes is over this relay's limit of {max_size} bytes \
             (limits.{key})"
        ),
    )))
}

fn truncate(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// How many local ports [`connect_tcp`] tries per address when it binds
/// before connecting.
const BIND_ATTEMPTS: usize = 8;

/// Connects to the first checked address that answers. When the socket
/// must have a known local address before the server sees the connection
/// ([`bind_before_connect`]), it is bound first and the student's identity
/// registered under that address.
async fn connect_tcp(run: &Run<'_>) -> Result<(TcpStream, Option<IdentityGuard>), std::io::Error> {
    let identity = run.needs_identity();
    let mut last_error = None;
    for addr in run.allowed().addrs() {
        for _ in 0..BIND_ATTEMPTS {
            let attempt = async {
                let socket = if addr.is_ipv4() {
                    TcpSocket::new_v4()?
                } else {
                    TcpSocket::new_v6()?
                };
                let mut guard = None;
                if let Some(local) = bind_before_connect(addr, identity) {
                    // A port of one of our own earlier connections, now in
                    // TIME_WAIT, may be bound again (connect checks the pair).
                    socket.set_reuseaddr(true)?;
                    socket.bind(local)?;
                    guard = run.register_identity(Transport::Tcp, socket.local_addr()?);
                }
                let stream = socket.connect(addr).await?;
                Ok::<_, std::io::Error>((stream, guard))
            };
            match attempt.await {
                Ok(connected) => return Ok(connected),
                // A port bound before connecting may still belong to a
                // TIME_WAIT connection to this same address, which only
                // `connect` finds out: another port will do.
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::AddrInUse | std::io::ErrorKind::AddrNotAvailable
                    ) =>
                {
                    last_error = Some(e)
                }
                Err(e) => {
                    last_error = Some(e);
                    break;
                }
            }
        }
    }
    Err(last_error.unwrap_or_else(|| std::io::Error::other("no address to connect to")))
}

/// Where to bind a TCP socket before it connects to `target`, if anywhere.
/// Binding takes a local port before the system knows the destination, so
/// it can run out of ports that `connect` alone would still find (on a busy
/// machine with many TIME_WAIT connections): bind only when it matters, for
/// a student's `identity` (registered under the exact local address before
/// the server can ask) or for a loopback target other than 127.0.0.1 and
/// ::1, which would otherwise be reached from 127.0.0.1 rather than from
/// its own address.
fn bind_before_connect(target: SocketAddr, identity: bool) -> Option<SocketAddr> {
    let ip = target.ip();
    let default_source = ip == std::net::Ipv4Addr::LOCALHOST || ip == std::net::Ipv6Addr::LOCALHOST;
    let own_source = ip.is_loopback() && !default_source;
    (identity || own_source).then(|| local_bind_addr(target))
}

/// The local address to bind before connecting to `target`: the loopback
/// address itself for a loopback target (so servers see exactly it), any
/// address otherwise.
fn local_bind_addr(target: SocketAddr) -> SocketAddr {
    match target.ip() {
        ip if ip.is_loopback() => SocketAddr::new(ip, 0),
        IpAddr::V4(_) => SocketAddr::from(([0, 0, 0, 0], 0)),
        IpAddr::V6(_) => SocketAddr::from((std::net::Ipv6Addr::UNSPECIFIED, 0)),
    }
}

/// How much one read from a server takes at most.
const READ_CHUNK: usize = 16 * 1024;

/// Turns on the kernel's receive stamps for a socket, where the system has
/// them ([`crate::rx_stamp`]).
#[cfg(target_os = "linux")]
fn enable_kernel_stamps(socket: &impl crate::rx_stamp::StampedSocket) -> bool {
    crate::rx_stamp::enable(socket)
}

#[cfg(not(target_os = "linux"))]
fn enable_kernel_stamps<T>(_socket: &T) -> bool {
    false
}

/// One read from the server into `buf[..n]`: `n` (0 at its FIN), and when
/// the bytes arrived (the kernel's stamp when `kernel_stamps`, else now).
async fn read_chunk(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    kernel_stamps: bool,
) -> std::io::Result<(usize, Instant)> {
    #[cfg(target_os = "linux")]
    if kernel_stamps {
        return crate::rx_stamp::read_stamped(&*stream, buf, READ_CHUNK).await;
    }
    let _ = kernel_stamps;
    buf.clear();
    let n = stream.read_buf(buf).await?;
    Ok((n, Instant::now()))
}

/// One datagram from the server into `buf`, and when it arrived (see
/// [`read_chunk`]).
async fn receive_datagram(
    socket: &UdpSocket,
    buf: &mut Vec<u8>,
    kernel_stamps: bool,
) -> std::io::Result<(usize, Instant)> {
    #[cfg(target_os = "linux")]
    if kernel_stamps {
        return crate::rx_stamp::read_stamped(socket, buf, MAX_DATAGRAM).await;
    }
    let _ = kernel_stamps;
    buf.clear();
    let n = socket.recv_buf(buf).await?;
    Ok((n, Instant::now()))
}

/// The largest UDP datagram.
const MAX_DATAGRAM: usize = 65_535;

/// Bytes (or a FIN) waiting to go to the server.
enum Up {
    Data(Vec<u8>),
    Fin,
}

/// Bytes (or the server's close) waiting to go to the page, with when
/// they were read.
enum Down {
    Data(Vec<u8>, Instant),
    Fin(Instant),
    Failed(String),
}

async fn tcp_session(run: &mut Run<'_>, ws: &mut WebSocket, clock: SessionClock) -> Ending {
    let state = run.state;
    let limits = &state.config.limits;
    let delay = run.prepared.delay;
    let started = Instant::now();
    let connecting = tokio::time::timeout(limits.connect_timeout(), connect_tcp(run)).await;
    let (stream, identity) = match connecting {
        Err(_) => {
            run.counters
                .connect_failures
                .fetch_add(1, Ordering::Relaxed);
            return Ending::error(
                ErrorCode::Timeout,
                format!(
                    "{} ({}) did not answer within {:?}",
                    run.allowed().target,
                    run.allowed().addr,
                    limits.connect_timeout()
                ),
            );
        }
        Ok(Err(e)) => {
            run.counters
                .connect_failures
                .fetch_add(1, Ordering::Relaxed);
            return Ending::error(
                ErrorCode::ConnectFailed,
                format!(
                    "could not connect to {} ({}): {e}",
                    run.allowed().target,
                    run.allowed().addr
                ),
            );
        }
        Ok(Ok(connected)) => connected,
    };
    let up = Instant::now();
    // The handshake is one round trip: with added delay, both ways.
    tokio::time::sleep(delay * 2).await;
    let connect_time = started.elapsed();
    let _ = stream.set_nodelay(true);
    let local = stream.local_addr().unwrap_or(run.allowed().addr);
    let peer = stream.peer_addr().unwrap_or(run.allowed().addr);
    if !announce_connected(
        run,
        ws,
        clock,
        (local, peer),
        (started, up),
        connect_time,
        identity,
    )
    .await
    {
        return Ending::PageGone;
    }
    info!(peer = %peer, "connected");
    // An FTP control connection grants data connections while it is open.
    let mut control = state.data_channels.open_control(
        state.catalog.get(&run.allowed().target),
        &run.prepared.query,
        run.client,
        peer,
        local,
    );
    tcp_bridge(run, stream, ws, clock, control.as_mut()).await
}

/// `/ws?accept=<id>`: the connection the FTP server made to a listener the
/// page asked for, bridged like any TCP connection.
async fn accept_session(
    run: &mut Run<'_>,
    id: &str,
    ws: &mut WebSocket,
    clock: SessionClock,
) -> Ending {
    let state = run.state;
    // The server connected when the listener accepted, which may be well
    // before the page came for the connection: that is when it happened.
    let (stream, started) = match state.data_channels.take(id, run.client).await {
        Ok(accepted) => accepted,
        Err(refusal) => return Ending::refused(refusal),
    };
    let _ = stream.set_nodelay(true);
    let (Ok(local), Ok(peer)) = (stream.local_addr(), stream.peer_addr()) else {
        return Ending::peer("the accepted connection is already gone");
    };
    let connect_time = Duration::ZERO;
    let stamps = (started, started);
    if !announce_connected(run, ws, clock, (local, peer), stamps, connect_time, None).await {
        return Ending::PageGone;
    }
    info!(peer = %peer, "accepted a data connection");
    tcp_bridge(run, stream, ws, clock, None).await
}

/// Copies bytes both ways between an open TCP connection and the page,
/// with the session's delay, limits and recording, until one side ends;
/// then a recorded connection is closed as [`close_recorded`] says.
async fn tcp_bridge(
    run: &mut Run<'_>,
    mut stream: TcpStream,
    ws: &mut WebSocket,
    clock: SessionClock,
    control: Option<&mut ControlSession>,
) -> Ending {
    let mut down: DelayLine<Down> =
        DelayLine::with_rate(run.prepared.delay, run.prepared.rate_kbps);
    // The server has not sent FIN yet (as far as we read).
    let mut read_open = true;
    let sides = (&mut stream, &mut down, &mut read_open);
    let ending = copy_both_ways(run, sides, ws, clock, control).await;
    let server_unread = read_open && down.is_empty();
    close_recorded(run, &mut stream, server_unread).await;
    ending
}

/// How long a recorded session waits for the server's FIN after the relay
/// sent its own, so the recording has both. A server answers EOF at once;
/// one that does not is not waited for longer.
const SERVER_FIN_WAIT: Duration = Duration::from_secs(1);

/// The end of a recorded TCP session, recorded as it happens: the relay's
/// FIN unless the page half-closed already, then the server's, read within
/// [`SERVER_FIN_WAIT`]. Only if `server_unread` (no EOF read yet, nothing
/// read and not yet handed to the page): otherwise the recording would
/// have a FIN after bytes it never got. Data instead of the FIN ends the
/// wait unrecorded, as the page no longer takes it.
async fn close_recorded(run: &mut Run<'_>, stream: &mut TcpStream, server_unread: bool) {
    let Some(recorder) = &run.recorder else {
        return;
    };
    let (client_fin, server_fin) = (
        recorder.client_fin_recorded(),
        recorder.server_fin_recorded(),
    );
    // A page's FIN may still be waiting in its delay line: sent now.
    let _ = stream.shutdown().await;
    if !client_fin {
        run.record(Event::FinFromRelay);
    }
    if server_fin || !server_unread {
        return;
    }
    let mut byte = [0u8; 1];
    let eof = tokio::select! {
        _ = run.state.shutdown.cancelled() => false,
        read = tokio::time::timeout(SERVER_FIN_WAIT, stream.read(&mut byte)) => {
            matches!(read, Ok(Ok(0)))
        }
    };
    if eof {
        run.record(Event::FinFromPeer);
    }
}

/// The loop of [`tcp_bridge`]: the connection, what was read from it and not
/// yet passed on, and whether its reading side is still open.
async fn copy_both_ways(
    run: &mut Run<'_>,
    (stream, down, read_open): (&mut TcpStream, &mut DelayLine<Down>, &mut bool),
    ws: &mut WebSocket,
    clock: SessionClock,
    mut control: Option<&mut ControlSession>,
) -> Ending {
    let state = run.state;
    let limits = &state.config.limits;
    let delay = run.prepared.delay;
    // Read with `read_buf` into spare capacity: an idle session's buffer is
    // never written, so it takes no memory until data arrives.
    let mut buf: Vec<u8> = Vec::with_capacity(READ_CHUNK);
    let mut up: DelayLine<Up> = DelayLine::with_rate(delay, run.prepared.rate_kbps);
    // The page has not half-closed (as far as it said so).
    let mut write_open = true;
    let kernel_stamps = clock.relay_started.is_some() && enable_kernel_stamps(stream);
    let stop = run.stop.clone();
    // Made once for the whole session, not once per turn of the loop: each
    // new one would join a token's waiters and arm a timer, and dropping it
    // would undo both, for every chunk either way. The session watches a
    // child of the shutdown token: polling a token's future takes its lock,
    // and the relay's own is one lock for every session.
    let shutdown_token = state.shutdown.child_token();
    let mut shutdown = std::pin::pin!(shutdown_token.cancelled());
    let mut stopped = std::pin::pin!(stop.pulled());
    let idle_for = session_idle_timeout(limits);
    let mut idle = std::pin::pin!(tokio::time::sleep(idle_for));
    loop {
        let idle_until = tokio::time::Instant::now() + idle_for;
        tokio::select! {
            _ = &mut shutdown => return Ending::relay("the relay is shutting down"),
            _ = &mut stopped => return Ending::stopped(&stop),
            _ = crate::driver::sleep_on_until(idle.as_mut(), idle_until) => return Ending::relay("idle"),
            _ = up.ready() => {
                while let Some(item) = up.pop_due() {
                    match item {
                        Up::Data(bytes) => {
                            if let Err(ending) = forward_up(run, stream, ws, clock, &bytes).await {
                                return ending;
                            }
                        }
                        Up::Fin => {
                            let _ = stream.shutdown().await;
                            if let Some(sent) = clock.sent_frame(0, true)
                                && !send_to_page(run, ws, sent).await
                            {
                                return Ending::PageGone;
                            }
                        }
                    }
                }
            }
            _ = down.ready() => {
                while let Some(item) = down.pop_due() {
                    match item {
                        Down::Data(bytes, read_at) => {
                            if let Err(ending) = forward_down(run, ws, clock, bytes, read_at).await {
                                return ending;
                            }
                        }
                        Down::Fin(read_at) => {
                            run.fin_at = Some(read_at);
                            run.record(Event::FinFromPeer);
                            return Ending::peer("the server closed the connection (TCP FIN)");
                        }
                        Down::Failed(reason) => return Ending::peer(reason),
                    }
                }
            }
            read = read_chunk(stream, &mut buf, kernel_stamps), if *read_open && down.queued_bytes() < MAX_QUEUED_BYTES => match read {
                Ok((0, read_at)) => {
                    *read_open = false;
                    down.push(Down::Fin(read_at), 0);
                }
                Ok((n, read_at)) => {
                    if let Err(ending) = run.charge(n, false) {
                        return ending;
                    }
                    let bytes = buf[..n].to_vec();
                    if !down.passes_now() {
                        down.push(Down::Data(bytes, read_at), n);
                    } else if let Err(ending) = forward_down(run, ws, clock, bytes, read_at).await {
                        return ending;
                    }
                }
                Err(e) => {
                    *read_open = false;
                    down.push(Down::Failed(format!("the connection failed: {e}")), 0);
                }
            },
            received = ws.recv(), if up.queued_bytes() < MAX_QUEUED_BYTES => match classify(received, limits) {
                FromPage::Bytes(bytes) => {
                    if !write_open {
                        return Ending::error(
                            ErrorCode::BadRequest,
                            "data sent after shutdown: the write side is already closed",
                        );
                    }
                    if let Err(ending) = run.charge(bytes.len(), true) {
                        return ending;
                    }
                    run.record(Event::ToTarget(bytes.clone()));
                    let len = bytes.len();
                    if !up.passes_now() {
                        up.push(Up::Data(bytes), len);
                    } else if let Err(ending) = forward_up(run, stream, ws, clock, &bytes).await {
                        return ending;
                    }
                }
                FromPage::Control(PageMessage::Shutdown) => {
                    if write_open {
                        write_open = false;
                        run.record(Event::FinFromPage);
                        up.push(Up::Fin, 0);
                    }
                }
                FromPage::Control(PageMessage::Listen) => {
                    let Some(control) = control.as_deref_mut() else {
                        return Ending::refused(Refusal::forbidden(
                            "listen",
                            "this relay does not open listening sockets for this target",
                        ));
                    };
                    match state.data_channels.listen(control, &state.shutdown).await {
                        Ok((addr, id)) => {
                            let msg = RelayMessage::Listening {
                                addr: addr.to_string(),
                                id: Some(id),
                                t_ms: clock.t_ms(),
                            };
                            if ws.send(Message::text(msg.to_json())).await.is_err() {
                                return Ending::PageGone;
                            }
                        }
                        Err(refusal) => return Ending::refused(refusal),
                    }
                }
                FromPage::Ignore => {}
                FromPage::Gone => return Ending::PageGone,
                FromPage::Bad(ending) => return ending,
            },
        }
    }
}

/// Writes the page's bytes to the server, then tells the page they were
/// sent when it asked for stamps. Called when the up delay line hands them
/// on, or at once when it would have (no delay, no rate, nothing queued),
/// which spares the chunk a turn of the session's loop.
async fn forward_up(
    run: &Run<'_>,
    stream: &mut TcpStream,
    ws: &mut WebSocket,
    clock: SessionClock,
    bytes: &[u8],
) -> Result<(), Ending> {
    write_to_server(run, stream, bytes)
        .await
        .map_err(Ending::peer)?;
    if let Some(sent) = clock.sent_frame(bytes.len(), false)
        && !send_to_page(run, ws, sent).await
    {
        return Err(Ending::PageGone);
    }
    Ok(())
}

/// Records the server's bytes and sends them to the page after their
/// `data` stamp, dated `read_at`; called as [`forward_up`] is.
async fn forward_down(
    run: &mut Run<'_>,
    ws: &mut WebSocket,
    clock: SessionClock,
    bytes: Vec<u8>,
    read_at: Instant,
) -> Result<(), Ending> {
    run.record(Event::ToPage(bytes.clone()));
    let stamp = clock.data_frame(clock.at_us(read_at), bytes.len());
    if !send_chunk_to_page(run, ws, stamp, bytes).await {
        return Err(Ending::PageGone);
    }
    Ok(())
}

async fn udp_session(run: &mut Run<'_>, ws: &mut WebSocket, clock: SessionClock) -> Ending {
    let state = run.state;
    let limits = &state.config.limits;
    let delay = run.prepared.delay;
    let started = Instant::now();
    let target = run.allowed().addr;
    let socket = match UdpSocket::bind(local_bind_addr(target)).await {
        Ok(s) => s,
        Err(e) => {
            return Ending::error(
                ErrorCode::ConnectFailed,
                format!("could not open a UDP socket: {e}"),
            );
        }
    };
    let identity = socket
        .local_addr()
        .ok()
        .and_then(|local| run.register_identity(Transport::Udp, local));
    // A connected UDP socket only accepts datagrams from the target.
    if let Err(e) = socket.connect(target).await {
        run.counters
            .connect_failures
            .fetch_add(1, Ordering::Relaxed);
        return Ending::error(
            ErrorCode::ConnectFailed,
            format!("could not address {} ({target}): {e}", run.allowed().target),
        );
    }
    let local = socket.local_addr().unwrap_or(target);
    let connect_time = started.elapsed();
    if !announce_connected(
        run,
        ws,
        clock,
        (local, target),
        (started, started + connect_time),
        connect_time,
        identity,
    )
    .await
    {
        return Ending::PageGone;
    }
    info!(peer = %target, "udp flow open");

    // The largest datagram, as spare capacity (see `tcp_session`).
    let mut buf: Vec<u8> = Vec::with_capacity(MAX_DATAGRAM);
    let kernel_stamps = clock.relay_started.is_some() && enable_kernel_stamps(&socket);
    let rate = run.prepared.rate_kbps;
    let mut up: DelayLine<Vec<u8>> = DelayLine::with_rate(delay, rate);
    let mut down: DelayLine<(Vec<u8>, Instant)> = DelayLine::with_rate(delay, rate);
    // Each datagram sent earns one reply: a server cannot answer one
    // small query with a flood through this relay.
    let mut replies_owed: u64 = 0;
    let stop = run.stop.clone();
    // Made once, as in `copy_both_ways`.
    let shutdown_token = state.shutdown.child_token();
    let mut shutdown = std::pin::pin!(shutdown_token.cancelled());
    let mut stopped = std::pin::pin!(stop.pulled());
    let idle_for = session_idle_timeout(limits);
    let mut idle = std::pin::pin!(tokio::time::sleep(idle_for));
    loop {
        let idle_until = tokio::time::Instant::now() + idle_for;
        tokio::select! {
            _ = &mut shutdown => return Ending::relay("the relay is shutting down"),
            _ = &mut stopped => return Ending::stopped(&stop),
            _ = crate::driver::sleep_on_until(idle.as_mut(), idle_until) => return Ending::relay("idle"),
            _ = up.ready() => {
                while let Some(datagram) = up.pop_due() {
                    if let Err(e) = socket.send(&datagram).await {
                        debug!("udp send: {e}");
                        continue;
                    }
                    if let Some(sent) = clock.sent_frame(datagram.len(), false)
                        && !send_to_page(run, ws, sent).await
                    {
                        return Ending::PageGone;
                    }
                }
            }
            _ = down.ready() => {
                while let Some((datagram, read_at)) = down.pop_due() {
                    run.record(Event::ToPage(datagram.clone()));
                    let stamp = clock.data_frame(clock.at_us(read_at), datagram.len());
                    if !send_chunk_to_page(run, ws, stamp, datagram).await {
                        return Ending::PageGone;
                    }
                }
            }
            received = receive_datagram(&socket, &mut buf, kernel_stamps), if down.queued_bytes() < MAX_QUEUED_BYTES => match received {
                Ok((n, read_at)) => {
                    let why = if replies_owed == 0 {
                        Some(("unsolicited", "more replies than datagrams sent".to_string()))
                    } else if n > limits.udp_max_reply_bytes {
                        replies_owed -= 1;
                        Some((
                            "too_large",
                            format!(
                                "larger than {} bytes (limits.udp_max_reply_bytes)",
                                limits.udp_max_reply_bytes
                            ),
                        ))
                    } else {
                        replies_owed -= 1;
                        None
                    };
                    match why {
                        Some((label, why)) => {
                            debug!(len = n, "udp reply dropped: {why}");
                            state.metrics.udp_dropped(label);
                            run.record(Event::Dropped { len: n as u32, why });
                        }
                        None => {
                            if let Err(ending) = run.charge(n, false) {
                                return ending;
                            }
                            down.push((buf[..n].to_vec(), read_at), n);
                        }
                    }
                }
                // An ICMP "port unreachable" for an earlier datagram. UDP
                // itself promises nothing, so the flow goes on in silence,
                // as the course's experiment expects.
                Err(e) => debug!("udp recv: {e}"),
            },
            received = ws.recv(), if up.queued_bytes() < MAX_QUEUED_BYTES => match classify(received, limits) {
                FromPage::Bytes(datagram) => {
                    if let Err(ending) = run.charge(datagram.len(), true) {
                        return ending;
                    }
                    replies_owed += 1;
                    run.record(Event::ToTarget(datagram.clone()));
                    let len = datagram.len();
                    up.push(datagram, len);
                }
                FromPage::Control(PageMessage::Shutdown) => {}
                FromPage::Control(PageMessage::Listen) => {
                    return Ending::error(ErrorCode::BadRequest, "listen is for TCP targets only");
                }
                FromPage::Ignore => {}
                FromPage::Gone => return Ending::PageGone,
                FromPage::Bad(ending) => return ending,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn query_parsing_names_the_bad_parameter() {
        let q = parse_query(&params(&[
            ("target", "smtp"),
            ("delay_ms", "20"),
            ("rate_kbps", "1000"),
        ]))
        .unwrap();
        assert_eq!(q.target.as_deref(), Some("smtp"));
        assert_eq!(q.delay_ms, Some(20));
        assert_eq!(q.rate_kbps, Some(1000));
        let err = parse_query(&params(&[("rate_kbps", "fast")])).unwrap_err();
        assert!(err.message.contains("rate_kbps=\"fast\""));
        let err = parse_query(&params(&[("port", "http")])).unwrap_err();
        assert_eq!(err.code, ErrorCode::BadRequest);
        assert!(err.message.contains("port=\"http\""));
        let err = parse_query(&params(&[("transport", "sctp")])).unwrap_err();
        assert!(err.message.contains("tcp or udp"));
        assert!(wants_recording(&params(&[("record", "1")])));
        assert!(!wants_recording(&params(&[("record", "0")])));
    }

    #[test]
    fn truncation_respects_utf8() {
        assert_eq!(truncate("héllo", 2), "h");
        assert_eq!(truncate("abc", 10), "abc");
    }

    #[test]
    fn sockets_are_bound_first_only_when_it_matters() {
        let at = |text: &str| text.parse::<SocketAddr>().unwrap();
        assert_eq!(bind_before_connect(at("127.0.0.1:2525"), false), None);
        assert_eq!(bind_before_connect(at("[::1]:2525"), false), None);
        assert_eq!(bind_before_connect(at("93.184.216.34:80"), false), None);
        assert_eq!(
            bind_before_connect(at("127.0.0.10:1053"), false),
            Some(at("127.0.0.10:0"))
        );
        // A student's connection is registered under its local address.
        assert_eq!(
            bind_before_connect(at("127.0.0.1:2525"), true),
            Some(at("127.0.0.1:0"))
        );
        assert_eq!(
            bind_before_connect(at("93.184.216.34:80"), true),
            Some(at("0.0.0.0:0"))
        );
    }

    #[test]
    fn loopback_targets_are_reached_from_their_own_address() {
        assert_eq!(
            local_bind_addr("127.0.0.1:80".parse().unwrap()).to_string(),
            "127.0.0.1:0"
        );
        assert_eq!(
            local_bind_addr("[::1]:80".parse().unwrap()).to_string(),
            "[::1]:0"
        );
        assert_eq!(
            local_bind_addr("8.8.8.8:53".parse().unwrap()).to_string(),
            "0.0.0.0:0"
        );
    }
}
