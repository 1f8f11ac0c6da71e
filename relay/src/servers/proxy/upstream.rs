//! One exchange with an origin: over a connection kept from an earlier
//! exchange, or a new one (trying each allowed address); send the request,
//! read the response until it is framed or the origin closes, never more
//! than the limits allow; keep the connection if the origin does.

use super::Unusable;
use crate::config::ProxyServer;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wirelab_shared::http::frame::{BodyFraming, Frame, FrameError, Limits, Status, frame_response};
use wirelab_shared::http::proxy::{OriginResponse, read_response};

/// What went wrong with the origin.
#[derive(Debug)]
pub enum Failure {
    Connect(std::io::Error),
    Io(std::io::Error),
    TimedOut,
    TooLarge,
    Malformed(String),
}

impl Failure {
    /// The status and sentence the client gets.
    pub fn unusable(self, addrs: &[SocketAddr], settings: &ProxyServer) -> Unusable {
        let origin = addrs
            .first()
            .map_or_else(String::new, SocketAddr::to_string);
        let (status, message, detail) = match self {
            Failure::Connect(e) => (
                502,
                format!("The origin {origin} cannot be reached: {e}."),
                "connect",
            ),
            Failure::Io(e) => (
                502,
                format!("The connection to the origin {origin} failed: {e}."),
                "io",
            ),
            Failure::TimedOut => (
                504,
                format!(
                    "The origin {origin} did not answer within {} s (servers.proxy.origin_timeout_secs).",
                    settings.origin_timeout_secs
                ),
                "timeout",
            ),
            Failure::TooLarge => (
                502,
                format!(
                    "The origin's response is larger than this proxy passes on ({} bytes, servers.proxy.max_response_bytes).",
                    settings.max_response_bytes
                ),
                "too-large",
            ),
            Failure::Malformed(why) => (
                502,
                format!("The origin's response cannot be read: {why}."),
                "malformed",
            ),
        };
        Unusable {
            status,
            message,
            detail,
        }
    }
}

/// Idle connections to one origin kept for the next miss: a miss then
/// costs one round trip to the origin, not a handshake as well.
const MAX_IDLE_PER_ORIGIN: usize = 8;
/// Origins with idle connections kept at once.
const MAX_IDLE_ORIGINS: usize = 64;

/// Origin connections the last exchanges left open, by address.
#[derive(Default)]
pub struct Pool {
    idle: Mutex<HashMap<SocketAddr, Vec<TcpStream>>>,
}

impl Pool {
    fn take(&self, addrs: &[SocketAddr]) -> Option<(SocketAddr, TcpStream)> {
        let mut idle = super::lock(&self.idle);
        addrs.iter().find_map(|addr| {
            let stream = idle.get_mut(addr)?.pop()?;
            Some((*addr, stream))
        })
    }

    fn give(&self, addr: SocketAddr, stream: TcpStream) {
        let mut idle = super::lock(&self.idle);
        if idle.len() >= MAX_IDLE_ORIGINS && !idle.contains_key(&addr) {
            return;
        }
        let streams = idle.entry(addr).or_default();
        if streams.len() < MAX_IDLE_PER_ORIGIN {
            streams.push(stream);
        }
    }
}

/// Why one attempt on a connection did not give a response.
enum Attempt {
    /// The connection was closed before any of the answer came: a kept
    /// connection the origin had closed meanwhile. Try a fresh one.
    Stale,
    Failed(Failure),
}

/// Sends `request` over a kept connection to one of `addrs` if there is
/// one (GET and HEAD only: they may be sent again if it turns out
/// closed), else over a new one, and reads the response to a `method`
/// request. The connection is kept if the origin keeps it open. True with
/// the response when it came over a kept connection.
pub async fn exchange(
    pool: &Pool,
    addrs: &[SocketAddr],
    request: &[u8],
    method: &str,
    limits: &Limits,
) -> Result<(OriginResponse, bool), Failure> {
    let idempotent = method == "GET" || method == "HEAD";
    if let Some((addr, stream)) = pool.take(addrs).filter(|_| idempotent) {
        match attempt(stream, request, method, limits).await {
            Ok((response, open)) => return Ok((keep(pool, addr, response, open), true)),
            Err(Attempt::Failed(failure)) => return Err(failure),
            Err(Attempt::Stale) => {}
        }
    }
    let (addr, stream) = connect(addrs).await?;
    let _ = stream.set_nodelay(true);
    match attempt(stream, request, method, limits).await {
        Ok((response, open)) => Ok((keep(pool, addr, response, open), false)),
        Err(Attempt::Failed(failure)) => Err(failure),
        Err(Attempt::Stale) => Err(Failure::Malformed(
            "the origin closed the connection without answering".into(),
        )),
    }
}

fn keep(
    pool: &Pool,
    addr: SocketAddr,
    response: OriginResponse,
    open: Option<TcpStream>,
) -> OriginResponse {
    if let Some(stream) = open {
        pool.give(addr, stream);
    }
    response
}

/// One request and its response on `stream`; the stream comes back when
/// it can carry the next request.
async fn attempt(
    mut stream: TcpStream,
    request: &[u8],
    method: &str,
    limits: &Limits,
) -> Result<(OriginResponse, Option<TcpStream>), Attempt> {
    if stream.write_all(request).await.is_err() {
        return Err(Attempt::Stale);
    }
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        let n = match stream.read(&mut chunk).await {
            Ok(n) => n,
            Err(_) if buf.is_empty() => return Err(Attempt::Stale),
            Err(e) => return Err(Attempt::Failed(Failure::Io(e))),
        };
        if n == 0 {
            if buf.is_empty() {
                return Err(Attempt::Stale);
            }
            let frame = at_close(&buf, method, limits).ok_or_else(|| {
                Attempt::Failed(Failure::Malformed(
                    "the origin closed before the whole response arrived".into(),
                ))
            })?;
            return Ok((parse(&buf, &frame).map_err(Attempt::Failed)?, None));
        }
        buf.extend_from_slice(&chunk[..n]);
        match frame_response(&buf, Some(method), limits) {
            Ok(Status::Complete(frame)) => {
                let response = parse(&buf, &frame).map_err(Attempt::Failed)?;
                // Bytes past the response would be read as the next one's.
                let reusable = response.keep_alive && frame.len == buf.len();
                return Ok((response, reusable.then_some(stream)));
            }
            Ok(_) => {}
            Err(FrameError::BodyTooLarge { .. }) => return Err(Attempt::Failed(Failure::TooLarge)),
            Err(e) => return Err(Attempt::Failed(Failure::Malformed(e.to_string()))),
        }
    }
}

async fn connect(addrs: &[SocketAddr]) -> Result<(SocketAddr, TcpStream), Failure> {
    let mut last = std::io::Error::other("no address to connect to");
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(stream) => return Ok((*addr, stream)),
            Err(e) => last = e,
        }
    }
    Err(Failure::Connect(last))
}

fn parse(buf: &[u8], frame: &Frame) -> Result<OriginResponse, Failure> {
    read_response(buf, frame).ok_or_else(|| Failure::Malformed("no status line".into()))
}

/// The whole-buffer framing of a response when the origin closed.
fn at_close(buf: &[u8], method: &str, limits: &Limits) -> Option<Frame> {
    match frame_response(buf, Some(method), limits) {
        Ok(Status::Complete(frame)) => Some(frame),
        Ok(Status::UntilClose { head_end }) => Some(Frame {
            head_end,
            body: BodyFraming::UntilClose,
            len: buf.len(),
        }),
        _ => None,
    }
}
