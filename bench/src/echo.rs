//! The TCP echo server behind the relay and its peers, so both bridge to
//! the same server. It lives until its standard input closes (xtask holds
//! the other end), so it never outlives the run.

use anyhow::{Context, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Each connection's buffer: one read of a 16 KiB message and then some.
const BUFFER: usize = 64 * 1024;

pub async fn serve() -> Result<String> {
    // Ten thousand idle sessions each hold a connection here.
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .context("binding the echo server")?;
    let addr = listener.local_addr()?;
    println!("listening {addr}");
    let accept = async {
        loop {
            if let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(echo(stream));
            }
        }
    };
    let stdin_closed = async {
        let mut sink = [0u8; 64];
        let mut stdin = tokio::io::stdin();
        while matches!(stdin.read(&mut sink).await, Ok(n) if n > 0) {}
    };
    tokio::select! {
        _ = accept => {}
        _ = stdin_closed => {}
    }
    Ok(format!("echo={addr}"))
}

/// Writes back every byte read until the client closes.
async fn echo(mut stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let mut buf = vec![0u8; BUFFER];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if stream.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}
