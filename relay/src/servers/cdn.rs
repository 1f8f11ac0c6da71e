//! The CDN's replicas of the origin www.sina.com (catalog `cdn-ny`,
//! `cdn-paris`): the reference web server's engine, each on its own
//! loopback address ([`wirelab_shared::http::cdn::REPLICAS`]) and all on
//! one port (`servers.cdn.port`), serving the origin's objects under the
//! CDN's paths and naming themselves in every `Server` header. The CDN's
//! DNS server, which picks a replica per client, is one of the DNS
//! servers (`dns-cdn`); the origin's base page, which names the replicas'
//! port, is served by the reference web server ([`super::http`]).

use super::ServerContext;
use anyhow::{Result, anyhow};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use wirelab_shared::http::cdn::{REPLICAS, Replica, replica_files, replica_server_header};
use wirelab_shared::http::site::WebSite;
use wirelab_shared::http::store::MemoryFileStore;
use wirelab_shared::relay_protocol::{TargetInfo, Transport};

/// What the replicas' start leaves for the others: their catalog entries
/// and the port they share (the origin's page names it).
pub struct Started {
    pub targets: Vec<TargetInfo>,
    pub port: u16,
}

/// Starts every replica, or none when `servers.cdn.enabled` is false.
pub async fn start(ctx: &ServerContext<'_>) -> Result<Option<Started>> {
    let cfg = &ctx.config.servers.cdn;
    if !cfg.enabled {
        return Ok(None);
    }
    let listeners = bind_all(cfg.port).await?;
    let port = listeners
        .first()
        .map_or(cfg.port, |(_, l)| l.local_addr().map_or(0, |a| a.port()));
    let mut targets = Vec::new();
    for (replica, listener) in listeners {
        targets.push(catalog_entry(replica, listener.local_addr()?));
        serve(ctx, replica, listener);
    }
    Ok(Some(Started { targets, port }))
}

/// Serves one replica's site on `listener`: the reference web server
/// with the replica's files and name, taking no uploads.
fn serve(ctx: &ServerContext<'_>, replica: &'static Replica, listener: TcpListener) {
    let mut site = WebSite::new(
        Arc::new(MemoryFileStore::new()),
        WebSite::default_credentials(),
    );
    site.files = replica_files(replica);
    site.redirects.clear();
    site.server_header = replica_server_header(replica);
    site.keep_alive_secs = ctx.config.servers.http.keep_alive_secs;
    site.upload_quota = 0;
    super::http::serve_site(ctx, replica.catalog, listener, site);
}

/// Binds every replica on its address and the common port. With port 0
/// the port is drawn from [`super::ports`] and, if it is taken on any
/// address, everything is tried again with another.
async fn bind_all(port: u16) -> Result<Vec<(&'static Replica, TcpListener)>> {
    let candidates: Vec<u16> = if port == 0 {
        super::ports::candidate_blocks(1)?.take(50).collect()
    } else {
        vec![port]
    };
    let mut last_error = None;
    'attempt: for &port in &candidates {
        let mut bound = Vec::new();
        for replica in REPLICAS {
            let addr = SocketAddr::new(replica.ip(), port);
            match TcpListener::bind(addr).await {
                Ok(listener) => bound.push((replica, listener)),
                Err(e) => {
                    let in_use = e.kind() == std::io::ErrorKind::AddrInUse;
                    last_error = Some(anyhow!(
                        "cannot listen on TCP {addr} for the CDN replica {} ({}): {e} \
                         (every replica has its own loopback address; Linux has all of \
                         127.0.0.0/8, other systems may need an alias); is the port in use? \
                         change servers.cdn.port in the config",
                        replica.catalog,
                        replica.host
                    ));
                    if in_use {
                        continue 'attempt;
                    }
                    break 'attempt;
                }
            }
        }
        return Ok(bound);
    }
    Err(last_error.unwrap_or_else(|| anyhow!("cannot bind the CDN replicas")))
}

fn catalog_entry(replica: &Replica, addr: SocketAddr) -> TargetInfo {
    TargetInfo {
        name: replica.catalog.into(),
        transport: Transport::Tcp,
        host: addr.ip().to_string(),
        port: addr.port(),
        protocol: "http".into(),
        description: format!(
            "CDN replica {} ({}) of www.sina.com's objects; dns.cdn.com sends it the clients at {}",
            replica.host, replica.region, replica.clients
        ),
        data_ports: None,
    }
}
