//! IMAP sessions: clients that each log in, select INBOX, fetch
//! `1:* (FLAGS ENVELOPE)` and log out, one session after another, all at
//! once. A session counts once its LOGOUT is answered and its FETCH gave
//! exactly the messages expected (a server that answers fast with fewer is
//! not fast); its messages count with it.

use anyhow::{Context, Result, bail};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

/// The longest response line read (an envelope is well under this).
const MAX_LINE: u64 = 64 * 1024;
/// The largest literal read inside a response.
const MAX_LITERAL: u64 = 1024 * 1024;
/// More untagged lines than one command of the benchmark can bring.
const MAX_LINES: usize = 100_000;
const REPLY_TIMEOUT: Duration = Duration::from_secs(30);

/// Who logs in, and how many messages their INBOX must show.
pub struct Login {
    pub user: String,
    pub password: String,
    pub messages: u64,
}

/// `clients` connections at once for `seconds`: sessions and messages per
/// second.
pub async fn sessions(
    addr: SocketAddr,
    clients: usize,
    login: Login,
    seconds: Duration,
) -> Result<String> {
    // One untimed session first: the server's caches warm, and a wrong
    // password or mailbox fails here, once, with its reason.
    let (write, read) = connect(addr).await?;
    session(write, read, &login)
        .await
        .context("the first session")?;
    let (done, fetched) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let login = Arc::new(login);
    let started = Instant::now();
    let deadline = started + seconds;
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (done, fetched, login) = (done.clone(), fetched.clone(), login.clone());
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    let (write, read) = connect(addr).await?;
                    let n = session(write, read, &login).await?;
                    done.fetch_add(1, Ordering::Relaxed);
                    fetched.fetch_add(n, Ordering::Relaxed);
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let (done, fetched) = (
        done.load(Ordering::Relaxed),
        fetched.load(Ordering::Relaxed),
    );
    Ok(format!(
        "clients={clients} sessions={done} messages={fetched} sessions_per_second={:.1} messages_per_second={:.0}",
        done as f64 / elapsed,
        fetched as f64 / elapsed
    ))
}

async fn connect(addr: SocketAddr) -> Result<(OwnedWriteHalf, BufReader<OwnedReadHalf>)> {
    let stream = TcpStream::connect(addr)
        .await
        .with_context(|| format!("connecting to {addr}"))?;
    stream.set_nodelay(true)?;
    let (read, write) = stream.into_split();
    Ok((write, BufReader::new(read)))
}

/// One session; returns the messages its FETCH gave.
async fn session(
    mut write: OwnedWriteHalf,
    mut read: BufReader<OwnedReadHalf>,
    login: &Login,
) -> Result<u64> {
    let greeting = line(&mut read).await?;
    if !greeting.starts_with(b"* OK") {
        bail!(
            "greeting: {}",
            String::from_utf8_lossy(&greeting).trim_end()
        );
    }
    let user = format!("a LOGIN {} {}\r\n", login.user, login.password);
    command(&mut write, &mut read, "a", &user).await?;
    command(&mut write, &mut read, "b", "b SELECT INBOX\r\n").await?;
    let fetch = "c FETCH 1:* (FLAGS ENVELOPE)\r\n";
    let fetched = command(&mut write, &mut read, "c", fetch).await?;
    if fetched != login.messages {
        bail!(
            "FETCH gave {fetched} messages, not the {} expected",
            login.messages
        );
    }
    command(&mut write, &mut read, "d", "d LOGOUT\r\n").await?;
    Ok(fetched)
}

/// Sends `text` and reads up to the tagged reply, which must be OK;
/// returns the untagged FETCH responses on the way.
async fn command(
    write: &mut OwnedWriteHalf,
    read: &mut BufReader<OwnedReadHalf>,
    tag: &str,
    text: &str,
) -> Result<u64> {
    write.write_all(text.as_bytes()).await?;
    let verb = text.split_whitespace().nth(1).unwrap_or("");
    let mut fetched = 0;
    for _ in 0..MAX_LINES {
        let response = line(read).await.with_context(|| format!("after {verb}"))?;
        if response.starts_with(b"* ") && is_fetch(&response) {
            fetched += 1;
        } else if response.starts_with(format!("{tag} ").as_bytes()) {
            if response[tag.len() + 1..].starts_with(b"OK") {
                return Ok(fetched);
            }
            bail!("{verb}: {}", String::from_utf8_lossy(&response).trim_end());
        }
    }
    bail!("{verb}: more than {MAX_LINES} responses")
}

/// Whether an untagged response is `* <n> FETCH ...`.
fn is_fetch(response: &[u8]) -> bool {
    let mut words = response.split(|b| *b == b' ').skip(1);
    let number = words
        .next()
        .is_some_and(|w| w.iter().all(u8::is_ascii_digit));
    number && words.next() == Some(b"FETCH")
}

/// One response line, literals included (`{n}` CR LF and n bytes continue
/// it).
async fn line(read: &mut BufReader<OwnedReadHalf>) -> Result<Vec<u8>> {
    let mut whole = Vec::new();
    loop {
        let mut part = Vec::new();
        let n = tokio::time::timeout(
            REPLY_TIMEOUT,
            (&mut *read).take(MAX_LINE).read_until(b'\n', &mut part),
        )
        .await
        .context("no response within 30 s")??;
        if n == 0 {
            bail!("the server closed the connection");
        }
        let literal = literal_length(&part);
        whole.extend_from_slice(&part);
        let Some(length) = literal else {
            return Ok(whole);
        };
        if length > MAX_LITERAL {
            bail!("a literal of {length} bytes");
        }
        let start = whole.len();
        whole.resize(start + length as usize, 0);
        read.read_exact(&mut whole[start..]).await?;
    }
}

/// The length `n` of a line ending in `{n}` CR LF.
fn literal_length(part: &[u8]) -> Option<u64> {
    let text = part.strip_suffix(b"\r\n")?.strip_suffix(b"}")?;
    let open = text.iter().rposition(|b| *b == b'{')?;
    std::str::from_utf8(&text[open + 1..]).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fetch_responses_and_literals_are_recognised() {
        assert!(is_fetch(b"* 12 FETCH (FLAGS (\\Seen))\r\n"));
        assert!(!is_fetch(b"* 1000 EXISTS\r\n"));
        assert!(!is_fetch(b"* OK [UIDNEXT 1001]\r\n"));
        assert_eq!(
            literal_length(b"* 1 FETCH (ENVELOPE (\"x\" {12}\r\n"),
            Some(12)
        );
        assert_eq!(literal_length(b"* 1 FETCH (FLAGS ())\r\n"), None);
    }
}
