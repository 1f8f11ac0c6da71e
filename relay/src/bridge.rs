//! `GET /ws`: one WebSocket bridged to one TCP connection or one UDP flow,
//! as relay protocol v1 (`docs/relay-protocol.md`) describes.
//!
//! The session asks the policy what the query may reach, connects, reports
//! `connected` (or `error`, then closes with 1008/1011), and then copies
//! bytes both ways until either side closes, the session sits idle, a limit
//! is hit or the relay shuts down, each ending reported as `closed`.

use crate::AppState;
use crate::data_channels::ControlSession;
use crate::policy::{Allowed, Refusal, decide};
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Query, State};
use axum::response::Response;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tracing::{Instrument, debug, info, info_span};
use wirelab_shared::relay_protocol::{
    ClosedBy, ConnectQuery, ErrorCode, PageMessage, RelayMessage, SUBPROTOCOL, Transport,
};

/// The upgrade handler. Query parameters are read by hand so that a bad one
/// is reported over the WebSocket as `bad_request`, not as a failed upgrade
/// the page cannot explain.
pub async fn ws_handler(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    Query(params): Query<HashMap<String, String>>,
    upgrade: WebSocketUpgrade,
) -> Response {
    // tungstenite refuses messages over this size itself; between the limit
    // and twice the limit the session reports `limit` in words first.
    let hard_cap = state
        .config
        .limits
        .max_frame_bytes
        .saturating_mul(2)
        .max(1024);
    upgrade
        .protocols([SUBPROTOCOL])
        .max_message_size(hard_cap)
        .max_frame_size(hard_cap)
        .on_upgrade(move |socket| {
            let span = info_span!(
                "ws",
                target = params.get("target").map(String::as_str).unwrap_or("-")
            );
            session(state, params, client, socket).instrument(span)
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
                v.parse().map_err(|_| Refusal {
                    code: ErrorCode::BadRequest,
                    message: format!("the query parameter {key}={v:?} is not a valid number"),
                })
            })
            .transpose()
    }
    let transport = match params.get("transport").map(String::as_str) {
        None => None,
        Some("tcp") => Some(Transport::Tcp),
        Some("udp") => Some(Transport::Udp),
        Some(other) => {
            return Err(Refusal {
                code: ErrorCode::BadRequest,
                message: format!("transport must be tcp or udp, not {other:?}"),
            });
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
    })
}

/// Time since the WebSocket opened, for `t_ms`.
#[derive(Clone, Copy)]
struct SessionClock(Instant);

impl SessionClock {
    fn t_ms(&self) -> Option<f64> {
        Some(round_ms(self.0.elapsed()))
    }
}

fn round_ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0 * 100.0).round() / 100.0
}

async fn session(
    state: AppState,
    params: HashMap<String, String>,
    client: SocketAddr,
    mut ws: WebSocket,
) {
    let clock = SessionClock(Instant::now());
    let query = match parse_query(&params) {
        Ok(query) => query,
        Err(refusal) => return refuse(&mut ws, clock, refusal).await,
    };
    let ending = if let Some(id) = &query.accept {
        accept_session(&state, id, client, &mut ws, clock).await
    } else {
        let allowed = match decide(&state.catalog, &query).and_then(|allowed| {
            state
                .data_channels
                .authorize(&query, &allowed, client.ip())
                .map(|()| allowed)
        }) {
            Ok(allowed) => allowed,
            Err(refusal) => return refuse(&mut ws, clock, refusal).await,
        };
        match allowed.transport {
            Transport::Tcp => tcp_session(&state, &allowed, &query, client, &mut ws, clock).await,
            Transport::Udp => udp_session(&state, &allowed, &mut ws, clock).await,
        }
    };
    match ending {
        Ending::Closed { by, reason } => {
            debug!(?by, "closed: {reason}");
            let msg = RelayMessage::Closed {
                by,
                reason: reason.clone(),
                t_ms: clock.t_ms(),
            };
            let _ = ws.send(Message::text(msg.to_json())).await;
            close_ws(&mut ws, 1000, &reason).await;
        }
        Ending::Error { code, message } => send_error(&mut ws, clock, code, &message).await,
        Ending::PageGone => {}
    }
}

async fn refuse(ws: &mut WebSocket, clock: SessionClock, refusal: Refusal) {
    info!(code = ?refusal.code, "refused: {}", refusal.message);
    send_error(ws, clock, refusal.code, &refusal.message).await;
}

/// How a bridged session ended.
enum Ending {
    /// Report `closed` and close the WebSocket normally.
    Closed { by: ClosedBy, reason: String },
    /// Report `error` and close with the error's close code.
    Error { code: ErrorCode, message: String },
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

    fn error(code: ErrorCode, message: impl Into<String>) -> Self {
        Ending::Error {
            code,
            message: message.into(),
        }
    }
}

async fn send_error(ws: &mut WebSocket, clock: SessionClock, code: ErrorCode, message: &str) {
    let msg = RelayMessage::Error {
        code,
        message: message.to_string(),
        t_ms: clock.t_ms(),
    };
    let _ = ws.send(Message::text(msg.to_json())).await;
    close_ws(ws, code.close_code(), message).await;
}

async fn close_ws(ws: &mut WebSocket, code: u16, reason: &str) {
    // A close reason may hold at most 123 bytes (RFC 6455 §5.5).
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let frame = CloseFrame {
        code,
        reason: Utf8Bytes::from(reason[..end].to_string()),
    };
    let _ = ws.send(Message::Close(Some(frame))).await;
}

async fn send_connected(
    ws: &mut WebSocket,
    clock: SessionClock,
    allowed: &Allowed,
    local: String,
    connect_time: Duration,
) -> bool {
    let msg = RelayMessage::Connected {
        transport: allowed.transport,
        target: Some(allowed.target.clone()),
        peer: allowed.addr.to_string(),
        local,
        connect_ms: round_ms(connect_time),
        t_ms: clock.t_ms(),
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

fn classify(received: Option<Result<Message, axum::Error>>, max_frame: usize) -> FromPage {
    match received {
        None | Some(Err(_)) | Some(Ok(Message::Close(_))) => FromPage::Gone,
        Some(Ok(Message::Binary(bytes))) if bytes.len() > max_frame => {
            FromPage::Bad(Ending::error(
                ErrorCode::Limit,
                format!(
                    "a message of {} bytes is over this relay's limit of {max_frame} bytes per message",
                    bytes.len()
                ),
            ))
        }
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

fn truncate(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

async fn tcp_session(
    state: &AppState,
    allowed: &Allowed,
    query: &ConnectQuery,
    client: SocketAddr,
    ws: &mut WebSocket,
    clock: SessionClock,
) -> Ending {
    let limits = &state.config.limits;
    let started = Instant::now();
    let stream = match tokio::time::timeout(
        limits.connect_timeout(),
        TcpStream::connect(allowed.addr),
    )
    .await
    {
        Err(_) => {
            return Ending::error(
                ErrorCode::Timeout,
                format!(
                    "{} ({}) did not answer within {:?}",
                    allowed.target,
                    allowed.addr,
                    limits.connect_timeout()
                ),
            );
        }
        Ok(Err(e)) => {
            return Ending::error(
                ErrorCode::ConnectFailed,
                format!(
                    "could not connect to {} ({}): {e}",
                    allowed.target, allowed.addr
                ),
            );
        }
        Ok(Ok(stream)) => stream,
    };
    let _ = stream.set_nodelay(true);
    let local_addr = stream.local_addr().ok();
    let local = local_addr.map(|a| a.to_string()).unwrap_or_default();
    if !send_connected(ws, clock, allowed, local, started.elapsed()).await {
        return Ending::PageGone;
    }
    info!(peer = %allowed.addr, "connected");
    // An FTP control connection grants data connections while it is open.
    let mut control = local_addr.and_then(|local| {
        state.data_channels.open_control(
            state.catalog.get(&allowed.target),
            query,
            client.ip(),
            allowed.addr,
            local,
        )
    });
    tcp_bridge(state, stream, ws, clock, control.as_mut()).await
}

/// `/ws?accept=<id>`: the connection the server made to a listener opened
/// with `{"type":"listen"}`, bridged like any TCP connection.
async fn accept_session(
    state: &AppState,
    id: &str,
    client: SocketAddr,
    ws: &mut WebSocket,
    clock: SessionClock,
) -> Ending {
    let started = Instant::now();
    let stream = match state.data_channels.take(id, client.ip()).await {
        Ok(stream) => stream,
        Err(refusal) => return Ending::error(refusal.code, refusal.message),
    };
    let _ = stream.set_nodelay(true);
    let msg = RelayMessage::Connected {
        transport: Transport::Tcp,
        target: None,
        peer: stream
            .peer_addr()
            .map(|a| a.to_string())
            .unwrap_or_default(),
        local: stream
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default(),
        connect_ms: round_ms(started.elapsed()),
        t_ms: clock.t_ms(),
    };
    if ws.send(Message::text(msg.to_json())).await.is_err() {
        return Ending::PageGone;
    }
    tcp_bridge(state, stream, ws, clock, None).await
}

/// Copies bytes both ways between an open TCP connection and the page.
async fn tcp_bridge(
    state: &AppState,
    mut stream: TcpStream,
    ws: &mut WebSocket,
    clock: SessionClock,
    mut control: Option<&mut ControlSession>,
) -> Ending {
    let limits = &state.config.limits;
    let mut buf = vec![0u8; 16 * 1024];
    let mut write_open = true;
    loop {
        tokio::select! {
            _ = state.shutdown.cancelled() => return Ending::relay("the relay is shutting down"),
            _ = tokio::time::sleep(limits.idle_timeout()) => return Ending::relay("idle"),
            read = stream.read(&mut buf) => match read {
                Ok(0) => {
                    return Ending::Closed {
                        by: ClosedBy::Peer,
                        reason: "the server closed the connection (TCP FIN)".into(),
                    };
                }
                Ok(n) => {
                    if ws.send(Message::binary(buf[..n].to_vec())).await.is_err() {
                        return Ending::PageGone;
                    }
                }
                Err(e) => {
                    return Ending::Closed {
                        by: ClosedBy::Peer,
                        reason: format!("the connection failed: {e}"),
                    };
                }
            },
            received = ws.recv() => match classify(received, limits.max_frame_bytes) {
                FromPage::Bytes(bytes) => {
                    if !write_open {
                        return Ending::error(
                            ErrorCode::BadRequest,
                            "data sent after shutdown: the write side is already closed",
                        );
                    }
                    if let Err(e) = stream.write_all(&bytes).await {
                        return Ending::Closed {
                            by: ClosedBy::Peer,
                            reason: format!("could not send to the server: {e}"),
                        };
                    }
                }
                FromPage::Control(PageMessage::Shutdown) => {
                    if write_open {
                        write_open = false;
                        let _ = stream.shutdown().await;
                    }
                }
                FromPage::Control(PageMessage::Listen) => {
                    let Some(control) = control.as_deref_mut() else {
                        return Ending::error(
                            ErrorCode::Forbidden,
                            "this relay does not open listening sockets for this target",
                        );
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
                        Err(refusal) => return Ending::error(refusal.code, refusal.message),
                    }
                }
                FromPage::Ignore => {}
                FromPage::Gone => return Ending::PageGone,
                FromPage::Bad(ending) => return ending,
            },
        }
    }
}

async fn udp_session(
    state: &AppState,
    allowed: &Allowed,
    ws: &mut WebSocket,
    clock: SessionClock,
) -> Ending {
    let limits = &state.config.limits;
    let started = Instant::now();
    let bind_addr: std::net::SocketAddr = if allowed.addr.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = match UdpSocket::bind(bind_addr).await {
        Ok(s) => s,
        Err(e) => {
            return Ending::error(
                ErrorCode::ConnectFailed,
                format!("could not open a UDP socket: {e}"),
            );
        }
    };
    // A connected UDP socket only accepts datagrams from the target.
    if let Err(e) = socket.connect(allowed.addr).await {
        return Ending::error(
            ErrorCode::ConnectFailed,
            format!(
                "could not address {} ({}): {e}",
                allowed.target, allowed.addr
            ),
        );
    }
    let local = socket
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    if !send_connected(ws, clock, allowed, local, started.elapsed()).await {
        return Ending::PageGone;
    }
    info!(peer = %allowed.addr, "udp flow open");

    let mut buf = vec![0u8; 65_535];
    loop {
        tokio::select! {
            _ = state.shutdown.cancelled() => return Ending::relay("the relay is shutting down"),
            _ = tokio::time::sleep(limits.idle_timeout()) => return Ending::relay("idle"),
            received = socket.recv(&mut buf) => match received {
                Ok(n) => {
                    if ws.send(Message::binary(buf[..n].to_vec())).await.is_err() {
                        return Ending::PageGone;
                    }
                }
                // An ICMP "port unreachable" for an earlier datagram. UDP
                // itself promises nothing, so the flow goes on in silence,
                // as the course's experiment expects.
                Err(e) => debug!("udp recv: {e}"),
            },
            received = ws.recv() => match classify(received, limits.max_frame_bytes) {
                FromPage::Bytes(datagram) => {
                    if let Err(e) = socket.send(&datagram).await {
                        debug!("udp send: {e}");
                    }
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
        let q = parse_query(&params(&[("target", "smtp"), ("delay_ms", "20")])).unwrap();
        assert_eq!(q.target.as_deref(), Some("smtp"));
        assert_eq!(q.delay_ms, Some(20));
        let err = parse_query(&params(&[("port", "http")])).unwrap_err();
        assert_eq!(err.code, ErrorCode::BadRequest);
        assert!(err.message.contains("port=\"http\""));
        let err = parse_query(&params(&[("transport", "sctp")])).unwrap_err();
        assert!(err.message.contains("tcp or udp"));
    }

    #[test]
    fn truncation_respects_utf8() {
        assert_eq!(truncate("héllo", 2), "h");
        assert_eq!(truncate("abc", 10), "abc");
    }
}
