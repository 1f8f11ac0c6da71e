//! `wirelab-bench`: the native client that `cargo xtask bench` times the
//! relay and its peers with. Each subcommand measures one thing for a
//! given time and prints one line, `RESULT key=value ...`, which xtask
//! parses (`imap` and `swarm` measure a server of the relay, IMAP beside
//! Dovecot); `echo` is the TCP echo server the relay and its peers bridge to;
//! `dissect` drives headless Chromium through the page's hidden `/bench`
//! route.
//! Everything is loopback and bounded in time; the client is Rust so that
//! the figures measure the servers, not a script's interpreter.

#![forbid(unsafe_code)]

mod echo;
mod imap;
mod page;
mod smtp;
mod stats;
mod swarm;
mod tcp;
mod ws;

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
#[command(about = "The native client of `cargo xtask bench`")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where a WebSocket measurement connects.
#[derive(clap::Args, Clone)]
struct Target {
    /// The WebSocket URL (`ws://127.0.0.1:8080/ws?target=upper-tcp`).
    #[arg(long)]
    url: String,
    /// Speak the relay's `wirelab.v1` protocol: ask for it and wait for
    /// `connected` before timing (off: a plain bridge such as websocat).
    #[arg(long)]
    relay: bool,
}

/// A swarm as `POST /api/swarms` takes it; rates in bytes/s, 0 unlimited.
#[derive(clap::Args, Clone)]
struct SwarmArgs {
    /// The relay's page and API address.
    #[arg(long)]
    api: SocketAddr,
    /// Leechers (the seed comes on top).
    #[arg(long)]
    peers: usize,
    #[arg(long)]
    file_size: usize,
    #[arg(long, default_value_t = 256 * 1024)]
    piece_size: usize,
    #[arg(long, default_value_t = 0.0)]
    u_s: f64,
    #[arg(long, default_value_t = 0.0)]
    u_i: f64,
    #[arg(long, default_value_t = 0.0)]
    d_i: f64,
}

impl SwarmArgs {
    fn request(&self) -> swarm::Request {
        swarm::Request {
            peers: self.peers,
            file_size: self.file_size,
            piece_size: self.piece_size,
            u_s: self.u_s,
            u_i: self.u_i,
            d_i: self.d_i,
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// A TCP echo server on 127.0.0.1:0; prints `listening <addr>`, serves
    /// until its standard input closes.
    Echo,
    /// Round trips of 100-byte messages over one WebSocket: p50 and p99.
    Rtt {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
    },
    /// Round trips of 100 bytes over one plain TCP connection.
    TcpRtt {
        #[arg(long)]
        addr: SocketAddr,
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
    },
    /// Echo throughput of 16 KiB messages over one WebSocket, in MB/s of
    /// bytes echoed back.
    Throughput {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
    },
    /// Round trips per second of N sessions at once, each one message at a
    /// time.
    Sessions {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 64)]
        count: usize,
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
    },
    /// Opens N idle sessions and reads the resident memory of process
    /// `pid` before and after.
    Idle {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 10_000)]
        count: usize,
        #[arg(long)]
        pid: u32,
    },
    /// N SMTP clients sending one message after another: messages per
    /// second, each acknowledged with 250.
    Smtp {
        #[arg(long)]
        addr: SocketAddr,
        #[arg(long, default_value_t = 4)]
        clients: usize,
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        /// The recipient, a mailbox of the server.
        #[arg(long, default_value = "bob@hamburger.edu")]
        to: String,
    },
    /// N IMAP clients at once, each logging in, selecting INBOX and
    /// fetching `1:* (FLAGS ENVELOPE)`, then logging out, one session
    /// after another: sessions and messages fetched per second.
    Imap {
        #[arg(long)]
        addr: SocketAddr,
        #[arg(long, default_value_t = 100)]
        clients: usize,
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        #[arg(long)]
        user: String,
        #[arg(long)]
        password: String,
        /// The messages INBOX holds: a FETCH giving another count fails.
        #[arg(long)]
        messages: u64,
    },
    /// A swarm on the relay (`POST /api/swarms` at `--api`, the relay's
    /// page address) with the rates given: after `--warmup` s, each
    /// limited direction's rate over `--seconds` beside the one asked, and
    /// the worst deviation in percent.
    SwarmRates {
        #[command(flatten)]
        swarm: SwarmArgs,
        #[arg(long, default_value_t = 3.0)]
        warmup: f64,
        #[arg(long, default_value_t = 6.0)]
        seconds: f64,
    },
    /// A swarm on the relay: seconds until every leecher's file is
    /// verified (at most `--timeout`).
    SwarmTime {
        #[command(flatten)]
        swarm: SwarmArgs,
        #[arg(long, default_value_t = 120.0)]
        timeout: f64,
        /// The relay's process, whose CPU time the swarm takes is shown.
        #[arg(long)]
        pid: Option<u32>,
    },
    /// The page's dissection of a 1 MB HTTP response and a 10,000-line
    /// SMTP session, timed in headless Chromium by the page's hidden
    /// `/bench` route: each stage's median and p95 in ms.
    Dissect {
        /// The built page (`cargo xtask dist`).
        #[arg(long)]
        dist: PathBuf,
        /// How long the route may take, in seconds.
        #[arg(long, default_value_t = 300.0)]
        seconds: f64,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(line) => {
            // Not `println!`: the echo server's reader stops listening after
            // its first line, and a panic on the closed pipe is no failure.
            let _ = writeln!(std::io::stdout(), "RESULT {line}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("wirelab-bench: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// A single-threaded runtime for one connection (no hand-offs between
/// threads in a round trip), two workers for many.
fn runtime(many: bool) -> Result<tokio::runtime::Runtime> {
    let mut builder = if many {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(2);
        b
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    Ok(builder.enable_all().build()?)
}

fn seconds(s: f64) -> Duration {
    Duration::try_from_secs_f64(s).unwrap_or(Duration::from_secs(10))
}

fn run(command: Command) -> Result<String> {
    match command {
        Command::Echo => runtime(true)?.block_on(echo::serve()),
        Command::Rtt { target, seconds: s } => {
            runtime(false)?.block_on(ws::round_trips(&target.url, target.relay, seconds(s)))
        }
        Command::TcpRtt { addr, seconds: s } => {
            runtime(false)?.block_on(tcp::round_trips(addr, seconds(s)))
        }
        Command::Throughput { target, seconds: s } => {
            runtime(false)?.block_on(ws::throughput(&target.url, target.relay, seconds(s)))
        }
        Command::Sessions {
            target,
            count,
            seconds: s,
        } => runtime(true)?.block_on(ws::sessions(&target.url, target.relay, count, seconds(s))),
        Command::Idle { target, count, pid } => {
            runtime(true)?.block_on(ws::idle(&target.url, target.relay, count, pid))
        }
        Command::Smtp {
            addr,
            clients,
            seconds: s,
            to,
        } => runtime(true)?.block_on(smtp::ingest(addr, clients, &to, seconds(s))),
        Command::Imap {
            addr,
            clients,
            seconds: s,
            user,
            password,
            messages,
        } => {
            let login = imap::Login {
                user,
                password,
                messages,
            };
            runtime(true)?.block_on(imap::sessions(addr, clients, login, seconds(s)))
        }
        Command::SwarmRates {
            swarm: args,
            warmup,
            seconds: s,
        } => runtime(false)?.block_on(swarm::rates(
            args.api,
            args.request(),
            seconds(warmup),
            seconds(s),
        )),
        Command::SwarmTime {
            swarm: args,
            timeout,
            pid,
        } => runtime(false)?.block_on(swarm::time(args.api, args.request(), seconds(timeout), pid)),
        Command::Dissect { dist, seconds: s } => page::dissect(&dist, seconds(s)),
    }
}
