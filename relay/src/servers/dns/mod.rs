//! The lab's DNS hierarchy on loopback: the root, the TLDs and the
//! authoritative servers of `wirelab_shared::dns::hierarchy`, each on its
//! own 127.x address, plus the recursive resolver `dns` on 127.0.0.1, all on
//! one port (`servers.dns.port`, 1053 by default), UDP and TCP.
//!
//! Zone files live in `<data_dir>/dns/zones/`; the embedded defaults are
//! written there when missing, so an instructor can edit them (a zone with
//! errors stops the relay with the file, line and reason). Each server is in
//! the catalog twice: `dns-root` (UDP) and `dns-root-tcp` (TCP).
//!
//! Every server is bounded against a class leaning on it: UDP replies held
//! back for the simulated distance wait in one capped queue per server
//! (`crate::driver::serve_udp_bounded`), and TCP keeps the bounds of
//! [`tcp`].
//!
//! The authoritative servers' UDP sides share one thread of their own, with
//! a single-threaded runtime, and the resolver has another: on the relay's
//! runtime, every datagram arriving while a server worked woke a second
//! worker parked in `epoll_wait`, a context switch per query.

pub mod resolver;
pub mod tcp;

use super::ServerContext;
use crate::driver::{UdpServerSettings, serve_udp_bounded};
use anyhow::{Context, Result, bail};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use tokio::net::{TcpListener, UdpSocket};
use tokio_util::sync::CancellationToken;
use wirelab_shared::Severity;
use wirelab_shared::dns::hierarchy::{self, LabServer, Role, SERVERS};
use wirelab_shared::dns::resolver::{AddressPrefix, ResolverConfig};
use wirelab_shared::dns::server::{AuthoritativeTcp, AuthoritativeUdp, Authority};
use wirelab_shared::dns::zone::{Zone, parse_zone};
use wirelab_shared::relay_protocol::{TargetInfo, Transport};

pub use resolver::ResolverHandle;
use tcp::TcpBounds;

/// Where the zone files are.
pub fn zones_dir(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join("dns").join("zones")
}

/// Writes the default zone files that are missing, then reads every zone
/// the servers need. Errors in a zone file stop the relay, naming the file
/// and line.
pub fn load_zones(data_dir: &Path) -> Result<HashMap<String, Zone>> {
    let dir = zones_dir(data_dir);
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create the zone directory {}", dir.display()))?;
    for (file, text) in hierarchy::ZONE_FILES {
        let path = dir.join(file);
        if !path.exists() {
            std::fs::write(&path, text)
                .with_context(|| format!("cannot write the default zone {}", path.display()))?;
        }
    }
    let mut zones = HashMap::new();
    let mut problems = Vec::new();
    for file in SERVERS.iter().flat_map(|s| s.zones.iter()) {
        if zones.contains_key(*file) {
            continue;
        }
        let path = dir.join(file);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read the zone file {}", path.display()))?;
        let parsed = parse_zone(&text, Some(&hierarchy::origin_of_file(file)));
        for d in &parsed.diagnostics {
            let line = text[..d.span.start.min(text.len())].matches('\n').count() + 1;
            let where_ = format!("{}:{line}", path.display());
            match d.severity {
                Severity::Error => problems.push(format!("{where_}: {}", d.message)),
                _ => tracing::warn!("{where_}: {}", d.message),
            }
        }
        zones.insert(file.to_string(), parsed.zone);
    }
    if !problems.is_empty() {
        bail!(
            "the DNS zone files have errors (fix them, or delete a file to get the default back):\n  {}",
            problems.join("\n  ")
        );
    }
    Ok(zones)
}

/// One server's sockets.
struct Bound {
    server: &'static LabServer,
    udp: UdpSocket,
    tcp: TcpListener,
}

fn bind_error(e: &std::io::Error, addr: SocketAddr, server: &LabServer) -> anyhow::Error {
    let hint = if addr.ip() != std::net::IpAddr::from([127, 0, 0, 1]) {
        " (every DNS server has its own loopback address; Linux has all of 127.0.0.0/8, \
         other systems may need an alias)"
    } else {
        ""
    };
    anyhow::anyhow!(
        "cannot listen on {addr} for the DNS server {} ({}): {e}{hint}; is the port in use? \
         change servers.dns.port in the config",
        server.catalog,
        server.host
    )
}

/// Binds every server on its address and the common port. With port 0 the
/// port is drawn from [`super::ports`] (a number the system picks for UDP
/// may still be held for TCP by a TIME_WAIT socket); if it is taken on any
/// address, everything is tried again with another.
async fn bind_all(port: u16) -> Result<Vec<Bound>> {
    let candidates: Vec<u16> = if port == 0 {
        super::ports::candidate_blocks(1)?.take(50).collect()
    } else {
        vec![port]
    };
    let mut last_error = None;
    'attempt: for (tried, &port) in candidates.iter().enumerate() {
        let retry = tried + 1 < candidates.len();
        let mut bound = Vec::new();
        for server in SERVERS {
            let addr = SocketAddr::new(server.ip(), port);
            let udp = match UdpSocket::bind(addr).await {
                Ok(s) => s,
                Err(e) => {
                    last_error = Some(bind_error(&e, addr, server));
                    if e.kind() == std::io::ErrorKind::AddrInUse && retry {
                        continue 'attempt;
                    }
                    break 'attempt;
                }
            };
            let tcp = match TcpListener::bind(addr).await {
                Ok(l) => l,
                Err(e) => {
                    last_error = Some(bind_error(&e, addr, server));
                    if e.kind() == std::io::ErrorKind::AddrInUse && retry {
                        continue 'attempt;
                    }
                    break 'attempt;
                }
            };
            bound.push(Bound { server, udp, tcp });
        }
        return Ok(bound);
    }
    Err(last_error.unwrap_or_else(|| anyhow::anyhow!("cannot bind the DNS servers")))
}

fn authority_for(server: &LabServer, zones: &HashMap<String, Zone>) -> Arc<Authority> {
    let zones = server
        .zones
        .iter()
        .filter_map(|f| zones.get(*f).cloned())
        .collect();
    Arc::new(server.authority_of(zones))
}

/// Starts every DNS server; returns the catalog entries and the handle of
/// the resolver (for `/api/dns/...`).
pub async fn start(ctx: &ServerContext<'_>) -> Result<(Vec<TargetInfo>, Option<ResolverHandle>)> {
    let cfg = &ctx.config.servers.dns;
    if !cfg.enabled {
        return Ok((Vec::new(), None));
    }
    let zones = load_zones(ctx.data_dir)?;
    let mut allowed = Vec::new();
    for text in &cfg.recursion_clients {
        allowed.push(AddressPrefix::parse(text).with_context(|| {
            format!("servers.dns.recursion_clients: {text:?} is not an address or CIDR prefix")
        })?);
    }
    let bound = bind_all(cfg.port).await?;
    let port = bound
        .first()
        .map_or(cfg.port, |b| b.udp.local_addr().map_or(0, |a| a.port()));
    let bounds = TcpBounds {
        max_connections: ctx.config.limits.server_max_connections,
        max_message: cfg.tcp_max_message_bytes,
        max_in_flight: cfg.tcp_max_in_flight,
        write_timeout: cfg.tcp_write_timeout(),
        idle_timeout: cfg.tcp_idle_timeout(),
    };
    let udp_thread = udp_thread(ctx.shutdown.clone())?;
    let mut targets = Vec::new();
    let mut udp_stats = HashMap::new();
    let mut resolver_sockets = None;
    for Bound { server, udp, tcp } in bound {
        targets.extend(catalog_entries(server, udp.local_addr()?));
        let authority = authority_for(server, &zones);
        if server.role == Role::Resolver {
            // Started last, with the others' counters in its handle.
            resolver_sockets = Some((udp, tcp, authority));
            continue;
        }
        let delay = if cfg.simulate_distance {
            server.delay_ms
        } else {
            0
        };
        let for_udp = authority.clone();
        let settings = UdpServerSettings {
            name: server.catalog,
            max_pending: cfg.udp_max_pending,
        };
        // The socket and its task go to the UDP thread's runtime.
        let stats = {
            let _on_udp_thread = udp_thread.enter();
            serve_udp_bounded(
                UdpSocket::from_std(udp.into_std()?)?,
                settings,
                // The client's address is what a CDN's server answers by.
                move |peer| {
                    AuthoritativeUdp::new(for_udp.clone(), delay).for_client(peer.remote.ip())
                },
                ctx.shutdown.clone(),
                ctx.tracker,
            )
        };
        udp_stats.insert(server.catalog, stats);
        tcp::serve_authoritative(
            tcp,
            server.catalog,
            bounds,
            move |limits, client| {
                AuthoritativeTcp::with_limits(authority.clone(), delay, limits).for_client(client)
            },
            ctx.shutdown.clone(),
            ctx.tracker,
        );
    }
    let mut handle = None;
    if let Some((udp, tcp, authority)) = resolver_sockets {
        let config = ResolverConfig {
            root_hints: hierarchy::root_hints(),
            upstream_port: port,
            allowed,
            timeout_ms: cfg.resolver_timeout_ms.max(1),
            seed: seed(),
            ..ResolverConfig::default()
        };
        handle = Some(resolver::spawn(
            udp,
            tcp,
            config,
            authority,
            bounds,
            Arc::new(udp_stats),
            ctx.shutdown.clone(),
            ctx.tracker,
        )?);
    }
    Ok((targets, handle))
}

/// The runtime of the thread the authoritative servers' UDP sides run on,
/// until `shutdown` (their tasks end then, or are dropped with it).
fn udp_thread(shutdown: CancellationToken) -> Result<tokio::runtime::Handle> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let handle = runtime.handle().clone();
    std::thread::Builder::new()
        .name("dns-servers".into())
        .spawn(move || runtime.block_on(shutdown.cancelled()))?;
    Ok(handle)
}

/// A server's two catalog entries: `dns-root` (UDP) and `dns-root-tcp`.
fn catalog_entries(server: &LabServer, addr: SocketAddr) -> [TargetInfo; 2] {
    [Transport::Udp, Transport::Tcp].map(|transport| TargetInfo {
        name: wirelab_shared::catalog::paired_name(server.catalog, transport),
        transport,
        host: addr.ip().to_string(),
        port: addr.port(),
        protocol: "dns".into(),
        description: format!("{} ({})", server.description, transport),
        data_ports: None,
    })
}

/// Entropy for the resolver's query IDs: the standard library's random
/// hasher keys, which the OS seeds.
fn seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(std::process::id() as u64);
    h.finish()
}
