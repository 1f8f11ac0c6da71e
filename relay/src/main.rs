//! The `wirelab` binary: parses the command line, sets up logging and runs
//! the relay until Ctrl-C or SIGTERM.

use anyhow::Result;
use clap::Parser;
use std::process::ExitCode;
use std::time::Duration;
use tracing_subscriber::EnvFilter;
use wirelab_relay::Relay;
use wirelab_relay::cli::{Cli, Command, ServeArgs};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Dissect(args)) => wirelab_relay::cli::dissect(&args).map(|json| {
            println!("{json}");
        }),
        Some(Command::PrintConfig(args)) => args.load().map(|c| print!("{}", c.to_toml())),
        Some(Command::Class(args)) => wirelab_relay::cli::class(&args).map(|out| println!("{out}")),
        Some(Command::ResetMailbox(args)) => {
            wirelab_relay::cli::reset_mailbox(&args).map(|text| print!("{text}"))
        }
        Some(Command::Serve(args)) => serve(args),
        None => serve(cli.serve),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wirelab: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn serve(args: ServeArgs) -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let config = args.load()?;
    // Every session holds two or three sockets: a class of 300 outgrows the
    // common soft limit of 1024 descriptors long before the hard one.
    if let Ok(limit) = rlimit::increase_nofile_limit(u64::MAX) {
        tracing::debug!("open file limit: {limit}");
    }
    let runtime = tokio::runtime::Runtime::new()?;
    let result = runtime.block_on(async move {
        let relay = Relay::start(config.clone()).await?;
        print_banner(&relay, &config);
        wait_for_signal().await;
        eprintln!("wirelab: shutting down…");
        if !relay.stop(SHUTDOWN_GRACE).await {
            eprintln!("wirelab: some connections did not close in time");
        }
        Ok(())
    });
    // Whatever is still running (a blocking disk write, a task that did not
    // see the shutdown) gets a last moment, not a say in when we exit.
    runtime.shutdown_timeout(SHUTDOWN_LAST_MOMENT);
    result
}

/// How long connections get to close after Ctrl-C, and then the runtime's
/// remaining tasks: together under the 5 s an operator waits.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);
const SHUTDOWN_LAST_MOMENT: Duration = Duration::from_millis(500);

fn print_banner(relay: &Relay, config: &wirelab_relay::config::Config) {
    let host = match relay.addr.ip() {
        ip if ip.is_unspecified() => "127.0.0.1".to_string(),
        ip => ip.to_string(),
    };
    println!(
        "wirelab is running: open http://{host}:{}/",
        relay.addr.port()
    );
    println!("  page, /ws and /api on {}", relay.addr);
    println!("  data directory {}", config.data_dir().display());
    if config.classroom.enabled {
        println!("  classroom mode: /ws and the APIs need a class token");
        match wirelab_relay::classroom::Classroom::instructor_secret_file(config) {
            Some(file) => println!("  instructor secret in {}", file.display()),
            None => println!("  instructor secret from the config (classroom.instructor_secret)"),
        }
        println!("  make a class: wirelab class create --name \"...\" (or POST /api/classes)");
    }
    if !config.policy.rules.is_empty() {
        println!(
            "  custom targets allowed by {} policy rule(s)",
            config.policy.rules.len()
        );
    }
    if relay.targets().is_empty() {
        println!("  no reference servers");
    }
    let name_width = relay
        .targets()
        .iter()
        .map(|t| t.name.len())
        .max()
        .unwrap_or(0);
    let addr_width = relay
        .targets()
        .iter()
        .map(|t| t.host.len() + 1 + t.port.to_string().len())
        .max()
        .unwrap_or(0);
    for t in relay.targets() {
        let addr = format!("{}:{}", t.host, t.port);
        println!(
            "  {:<name_width$} {} {:<addr_width$}  {}",
            t.name, t.transport, addr, t.description
        );
    }
    println!("Press Ctrl-C to stop.");
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
