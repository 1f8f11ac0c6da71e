//! The reference servers the relay hosts, one module per protocol. Each
//! binds its sockets, hands them to the engine drivers in [`crate::driver`]
//! and returns its catalog entries with the ports it really bound (so a
//! configured port 0 shows the port the system picked).

pub mod book_web;
pub mod cdn;
pub mod closed;
pub mod dns;
pub mod ftp;
pub mod http;
pub mod imap;
pub mod pop3;
pub mod ports;
pub mod proxy;
pub mod smtp;
pub mod tracker;
pub mod upper;

use crate::config::{Config, Limits};
use crate::driver::TcpServerSettings;
use crate::identity::Identities;
use crate::maildir::MailHomes;
use anyhow::{Context, Result};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use tokio::net::{TcpListener, UdpSocket};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use wirelab_shared::relay_protocol::TargetInfo;

/// What every server's `start` gets.
pub struct ServerContext<'a> {
    pub config: &'a Config,
    pub data_dir: &'a Path,
    pub shutdown: CancellationToken,
    pub tracker: &'a TaskTracker,
    /// Where the DNS servers leave the resolver's handle, for `/api/dns`.
    pub dns_resolver: &'a std::sync::OnceLock<dns::ResolverHandle>,
    /// Where the caching proxy leaves its handle, for `/api/proxy` and
    /// to be given the relay's policy once it is built.
    pub proxy: &'a std::sync::OnceLock<proxy::ProxyHandle>,
    /// Which classroom student a connection from the relay belongs to
    /// (`identities.student_at(transport, peer.remote)`): servers keep
    /// per-student data under `data_dir.join(identity.data_subdir())`.
    pub identities: Arc<Identities>,
    /// The mailboxes of the SMTP and POP3 servers.
    pub mail: Option<Arc<MailHomes>>,
    /// Where the FTP server leaves its homes, for the instructor's reset.
    pub ftp_homes: &'a std::sync::OnceLock<Arc<ftp::FtpHomes>>,
}

impl ServerContext<'_> {
    /// Driver settings for a TCP server named `name`, from the limits.
    pub fn tcp_settings(&self, name: &'static str) -> TcpServerSettings {
        let Limits {
            server_max_connections,
            ..
        } = self.config.limits;
        TcpServerSettings {
            name,
            idle_timeout: self.config.limits.server_idle_timeout(),
            write_timeout: self.config.limits.write_timeout(),
            max_connections: server_max_connections,
            blocking: false,
            busy_reply: None,
        }
    }
}

/// Starts every reference server and returns the catalog entries, in the
/// order the page lists them.
pub async fn start_all(ctx: &ServerContext<'_>) -> Result<Vec<TargetInfo>> {
    if !ctx.config.servers.enabled {
        return Ok(Vec::new());
    }
    let mut targets = Vec::new();
    // The replicas first: the origin's page names the port they got.
    let cdn = cdn::start(ctx).await?;
    targets.extend(http::start(ctx, cdn.as_ref().map(|c| c.port)).await?);
    targets.extend(book_web::start(ctx).await?);
    targets.extend(upper::start(ctx).await?);
    targets.extend(closed::start(ctx).await?);
    targets.extend(ftp::start(ctx).await?);
    targets.extend(tracker::start(ctx).await?);
    let (dns_targets, resolver) = dns::start(ctx).await?;
    targets.extend(dns_targets);
    if let Some(cdn) = cdn {
        targets.extend(cdn.targets);
    }
    if let Some(handle) = resolver {
        let _ = ctx.dns_resolver.set(handle);
    }
    let (proxy_targets, proxy) = proxy::start(ctx).await?;
    targets.extend(proxy_targets);
    if let Some(handle) = proxy {
        let _ = ctx.proxy.set(handle);
    }
    if let Some(homes) = &ctx.mail {
        targets.extend(smtp::start(ctx, homes.clone()).await?);
        targets.extend(pop3::start(ctx, homes.clone()).await?);
        targets.extend(imap::start(ctx, homes.clone()).await?);
    }
    Ok(targets)
}

/// Binds a TCP listener, with an error that names the server and the config
/// key to change when the port is taken.
pub async fn bind_tcp(addr: SocketAddr, what: &str, config_key: &str) -> Result<TcpListener> {
    TcpListener::bind(addr).await.with_context(|| {
        format!("cannot listen on TCP {addr} for {what} (is the port in use? change {config_key} in the config)")
    })
}

/// Binds a UDP socket, with an error like [`bind_tcp`]'s.
pub async fn bind_udp(addr: SocketAddr, what: &str, config_key: &str) -> Result<UdpSocket> {
    UdpSocket::bind(addr).await.with_context(|| {
        format!("cannot listen on UDP {addr} for {what} (is the port in use? change {config_key} in the config)")
    })
}
