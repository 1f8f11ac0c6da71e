//! The direct TCP round trip to the echo server: the baseline that says
//! what the relay adds.

use crate::stats::Samples;
use anyhow::{Context, Result, bail};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The size of a round trip's message.
pub const MESSAGE: usize = 100;

pub async fn round_trips(addr: SocketAddr, seconds: Duration) -> Result<String> {
    let mut stream = TcpStream::connect(addr)
        .await
        .with_context(|| format!("connecting to {addr}"))?;
    stream.set_nodelay(true)?;
    let message = [b'x'; MESSAGE];
    let mut reply = [0u8; MESSAGE];
    let mut samples = Samples::default();
    let deadline = Instant::now() + seconds;
    while Instant::now() < deadline {
        let started = Instant::now();
        stream.write_all(&message).await?;
        tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut reply))
            .await
            .context("no echo within 5 s")??;
        samples.push(started.elapsed());
    }
    if samples.len() == 0 {
        bail!("no round trip");
    }
    Ok(samples.summary())
}
