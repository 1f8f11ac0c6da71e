//! SMTP ingest: clients that each send one message after another on one
//! connection (MAIL FROM, RCPT TO, DATA, the message), waiting for every
//! reply as smtplib does. A message counts once its `250` has come, which
//! the relay's server sends only after the message is on disk.

use anyhow::{Context, Result, bail};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

/// The longest reply line read; the server's are under 100 bytes.
const MAX_LINE: u64 = 1024;
/// The most lines of one multi-line reply (EHLO's is a handful).
const MAX_LINES: usize = 32;
const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

pub async fn ingest(
    addr: SocketAddr,
    clients: usize,
    to: &str,
    seconds: Duration,
) -> Result<String> {
    let sent = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + seconds;
    let tasks: Vec<_> = (0..clients)
        .map(|id| {
            let (sent, to) = (sent.clone(), to.to_string());
            tokio::spawn(async move { client(addr, id, &to, deadline, &sent).await })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    let total = sent.load(Ordering::Relaxed);
    let per_second = total as f64 / started.elapsed().as_secs_f64();
    Ok(format!(
        "clients={clients} messages={total} per_second={per_second:.0}"
    ))
}

/// One connection sending until `deadline`.
async fn client(
    addr: SocketAddr,
    id: usize,
    to: &str,
    deadline: Instant,
    sent: &AtomicU64,
) -> Result<()> {
    let stream = TcpStream::connect(addr)
        .await
        .with_context(|| format!("connecting to {addr}"))?;
    stream.set_nodelay(true)?;
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    expect(&mut read, 220).await?;
    command(&mut write, &mut read, "HELO crepes.fr\r\n", 250).await?;
    let mut n = 0u64;
    while Instant::now() < deadline {
        command(
            &mut write,
            &mut read,
            "MAIL FROM:<alice@crepes.fr>\r\n",
            250,
        )
        .await?;
        command(&mut write, &mut read, &format!("RCPT TO:<{to}>\r\n"), 250).await?;
        command(&mut write, &mut read, "DATA\r\n", 354).await?;
        let message = format!(
            "Subject: bench client {id} message {n}\r\n\r\nDo you like ketchup?\r\nHow about pickles?\r\n.\r\n"
        );
        command(&mut write, &mut read, &message, 250).await?;
        sent.fetch_add(1, Ordering::Relaxed);
        n += 1;
    }
    command(&mut write, &mut read, "QUIT\r\n", 221).await
}

async fn command(
    write: &mut OwnedWriteHalf,
    read: &mut BufReader<OwnedReadHalf>,
    text: &str,
    code: u16,
) -> Result<()> {
    write.write_all(text.as_bytes()).await?;
    expect(read, code)
        .await
        .with_context(|| format!("after {:?}", text.lines().next().unwrap_or("")))
}

/// Reads one reply, single or multi-line, and checks its code.
async fn expect(read: &mut BufReader<OwnedReadHalf>, code: u16) -> Result<()> {
    for _ in 0..MAX_LINES {
        let mut line = Vec::new();
        let n = tokio::time::timeout(
            REPLY_TIMEOUT,
            (&mut *read).take(MAX_LINE).read_until(b'\n', &mut line),
        )
        .await
        .context("no reply within 10 s")??;
        if n == 0 {
            bail!("the server closed the connection");
        }
        let text = String::from_utf8_lossy(&line);
        let got: u16 = text.get(..3).and_then(|c| c.parse().ok()).unwrap_or(0);
        if got != code {
            bail!("expected {code}, got {}", text.trim_end());
        }
        if text.as_bytes().get(3) != Some(&b'-') {
            return Ok(());
        }
    }
    bail!("a reply of more than {MAX_LINES} lines")
}
