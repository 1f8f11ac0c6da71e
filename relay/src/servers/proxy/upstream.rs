//! One exchange with an origin: connect (trying each allowed address),
//! send the request, read the response until it is framed or the origin
//! closes, never more than the limits allow.

use super::Unusable;
use crate::config::ProxyServer;
use std::net::SocketAddr;
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

/// Sends `request` to the first address that takes it and reads the
/// response to a `method` request.
pub async fn exchange(
    addrs: &[SocketAddr],
    request: &[u8],
    method: &str,
    limits: &Limits,
) -> Result<OriginResponse, Failure> {
    let mut stream = connect(addrs).await?;
    let _ = stream.set_nodelay(true);
    stream.write_all(request).await.map_err(Failure::Io)?;
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        let n = stream.read(&mut chunk).await.map_err(Failure::Io)?;
        if n == 0 {
            let frame = at_close(&buf, method, limits).ok_or_else(|| {
                Failure::Malformed("the origin closed before the whole response arrived".into())
            })?;
            return parse(&buf, &frame);
        }
        buf.extend_from_slice(&chunk[..n]);
        match frame_response(&buf, Some(method), limits) {
            Ok(Status::Complete(frame)) => return parse(&buf, &frame),
            Ok(_) => {}
            Err(FrameError::BodyTooLarge { .. }) => return Err(Failure::TooLarge),
            Err(e) => return Err(Failure::Malformed(e.to_string())),
        }
    }
}

async fn connect(addrs: &[SocketAddr]) -> Result<TcpStream, Failure> {
    let mut last = std::io::Error::other("no address to connect to");
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(stream) => return Ok(stream),
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
