//! The reference FTP server (catalog `ftp`): the shared
//! [`wirelab_shared::ftp::server`] engine over tokio sockets, serving the
//! sandbox `<data_dir>/ftp` ([`disk::DiskTree`]) to `anonymous` (read-only)
//! and to the configured student account (read and write, within a quota).
//!
//! The control port and the passive data ports are bound to the servers'
//! address (loopback by default). The catalog entry declares the passive
//! range as `data_ports`, which is what lets the relay bridge a page's data
//! connections to them (see `crate::data_channels`).
//!
//! Every limit of `[servers.ftp]` is enforced where it belongs: line length,
//! line timeout and bad commands in the engine, the data and send timeouts
//! and the passive listener caps in [`driver`] and [`data`]; every session
//! and data connection runs in the relay's task tracker and ends at
//! shutdown.

pub mod data;
pub mod disk;
pub mod driver;

use super::{ServerContext, bind_tcp};
use crate::driver::{Clock, ConnectionGate, next_connection};
use anyhow::{Context, Result, bail};
use disk::DiskTree;
use driver::{FtpDriverSettings, run_session};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::AtomicU32;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::Semaphore;

/// The shared FTP tree and each classroom student's own.
pub type FtpHomes = crate::homes::Homes<DiskTree>;
use tracing::{Instrument, debug, info_span};
use wirelab_shared::ftp::server::{Account, FtpServer, ServerSettings};
use wirelab_shared::relay_protocol::{PortRange, TargetInfo, Transport};

/// Finds `count` consecutive free TCP ports on `host` (for a configured
/// first port of 0), from the blocks [`super::ports`] suggests.
fn free_port_block(host: IpAddr, count: u16) -> Result<u16> {
    for start in super::ports::candidate_blocks(count)?.take(256) {
        let all_free = (0..count)
            .all(|i| std::net::TcpListener::bind(SocketAddr::new(host, start + i)).is_ok());
        if all_free {
            return Ok(start);
        }
    }
    bail!(
        "cannot find {count} consecutive free ports on {host} for FTP passive mode (set servers.ftp.passive_port_first)"
    )
}

/// A bound in the engine's milliseconds (at least 1: 0 means none there).
fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

pub async fn start(ctx: &ServerContext<'_>) -> Result<Vec<TargetInfo>> {
    let host = ctx.config.servers.host;
    let cfg = &ctx.config.servers.ftp;
    if cfg.passive_port_count == 0 {
        bail!("servers.ftp.passive_port_count must be at least 1");
    }
    let first = match cfg.passive_port_first {
        0 => free_port_block(host, cfg.passive_port_count)?,
        first => first,
    };
    let last = u16::try_from(u32::from(first) + u32::from(cfg.passive_port_count) - 1)
        .context("servers.ftp.passive_port_first + passive_port_count goes past port 65535")?;
    let passive_ports = PortRange { first, last };

    let root = ctx.data_dir.join("ftp");
    let tree = DiskTree::open(&root, Some(cfg.quota_bytes))
        .with_context(|| format!("cannot open the FTP root {}", root.display()))?;
    // Classroom students each get a tree of their own, with the demo files.
    let quota = cfg.quota_bytes;
    let homes = Arc::new(crate::homes::Homes::new(
        tree,
        ctx.data_dir,
        "ftp",
        ctx.identities.clone(),
        Box::new(move |dir: &std::path::Path| Ok(DiskTree::open(dir, Some(quota))?)),
    ));
    let _ = ctx.ftp_homes.set(homes.clone());

    let listener = bind_tcp(
        SocketAddr::new(host, cfg.port),
        "the FTP server (ftp)",
        "servers.ftp.port",
    )
    .await?;
    let addr = listener.local_addr()?;

    let clock = Clock::start();
    let unix_now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let settings = ServerSettings {
        greeting: "wirelab FTP server ready (log in as anonymous, or as the student account)"
            .into(),
        accounts: vec![Account {
            user: cfg.student_user.clone(),
            password: cfg.student_password.clone(),
            can_write: true,
        }],
        anonymous: cfg.anonymous,
        max_file_bytes: cfg.quota_bytes,
        unix_time_at_zero: Some(unix_now),
        data_open_timeout_ms: millis(cfg.data_timeout()),
        max_line_bytes: cfg.max_line_bytes,
        line_timeout_ms: millis(cfg.line_timeout()),
        max_bad_commands: cfg.max_bad_commands,
        ..ServerSettings::default()
    };
    let driver_settings = Arc::new(FtpDriverSettings {
        host,
        passive_ports,
        data_timeout: cfg.data_timeout(),
        send_timeout: cfg.send_timeout(),
        idle_timeout: ctx.config.limits.server_idle_timeout(),
        max_passive_per_session: cfg.max_passive_listeners_per_session,
        passive_listeners: Arc::new(Semaphore::new(cfg.max_passive_listeners)),
        clock,
        next_port: AtomicU32::new(0),
        tracker: ctx.tracker.clone(),
    });
    let gate = ConnectionGate::new(
        "ftp",
        ctx.config.limits.server_max_connections,
        Some(wirelab_shared::busy::ftp().into()),
    );
    let shutdown = ctx.shutdown.clone();
    let tracker = ctx.tracker.clone();
    ctx.tracker.spawn(async move {
        while let Some((stream, remote, permit)) =
            next_connection(&listener, &gate, &shutdown, &tracker).await
        {
            let local = stream.local_addr().unwrap_or(addr);
            let tree = homes.for_peer(Transport::Tcp, remote).unwrap_or_else(|e| {
                tracing::error!("cannot open the student's FTP tree, using the shared one: {e:#}");
                homes.shared().clone()
            });
            let engine = FtpServer::new(settings.clone(), tree, remote, local);
            let driver_settings = driver_settings.clone();
            let shutdown = shutdown.clone();
            tracker.spawn(
                async move {
                    debug!("accepted");
                    if let Err(e) =
                        run_session(stream, engine, remote, driver_settings, shutdown).await
                    {
                        debug!("session ended with an error: {e}");
                    }
                    debug!("closed");
                    drop(permit);
                }
                .instrument(info_span!("conn", server = "ftp", peer = %remote)),
            );
        }
    });

    Ok(vec![TargetInfo {
        name: "ftp".into(),
        transport: Transport::Tcp,
        host: addr.ip().to_string(),
        port: addr.port(),
        protocol: "ftp".into(),
        description: format!(
            "FTP server: control connection here, passive data ports {first}-{last}; anonymous (read-only) or {} (read-write)",
            cfg.student_user
        ),
        data_ports: Some(passive_ports),
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_free_block_is_free() {
        let host = IpAddr::from([127, 0, 0, 1]);
        let start = free_port_block(host, 16).unwrap();
        for port in start..start + 16 {
            // Free a moment ago, and nothing here listens on it since.
            assert!(std::net::TcpListener::bind((host, port)).is_ok(), "{port}");
        }
    }
}
