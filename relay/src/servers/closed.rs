//! Two catalog targets where nothing listens (`closed-tcp`, `closed-udp`),
//! for the socket chapter's experiment: a TCP client started before its
//! server is refused at once, a UDP one hears nothing.
//!
//! The port is held so that no other program can take it, yet answers as a
//! closed port: a TCP socket bound but never listening (a SYN to it gets a
//! RST), and a UDP socket connected to itself (the kernel gives it only
//! datagrams from its own address, so anyone else's draws an ICMP "port
//! unreachable"). Neither socket is ever read.

use super::ServerContext;
use anyhow::{Context, Result};
use std::net::{IpAddr, SocketAddr};
use tokio::net::TcpSocket;
use wirelab_shared::catalog::{CLOSED_TCP_DESCRIPTION, CLOSED_UDP_DESCRIPTION};
use wirelab_shared::relay_protocol::{TargetInfo, Transport};

/// Free ports tried before giving up (another program may take the UDP
/// port's TCP twin between the two binds).
const ATTEMPTS: usize = 20;

pub async fn start(ctx: &ServerContext<'_>) -> Result<Vec<TargetInfo>> {
    let (tcp, udp) = hold_a_closed_port(ctx.config.servers.host)?;
    let port = udp.local_addr()?.port();
    let shutdown = ctx.shutdown.clone();
    ctx.tracker.spawn(async move {
        shutdown.cancelled().await;
        drop((tcp, udp));
    });
    let host = ctx.config.servers.host.to_string();
    Ok(vec![
        TargetInfo {
            name: "closed-tcp".into(),
            transport: Transport::Tcp,
            host: host.clone(),
            port,
            protocol: "line".into(),
            description: CLOSED_TCP_DESCRIPTION.into(),
            data_ports: None,
        },
        TargetInfo {
            name: "closed-udp".into(),
            transport: Transport::Udp,
            host,
            port,
            protocol: "line".into(),
            description: CLOSED_UDP_DESCRIPTION.into(),
            data_ports: None,
        },
    ])
}

/// A port of `host` held closed for TCP and UDP alike.
fn hold_a_closed_port(host: IpAddr) -> Result<(TcpSocket, std::net::UdpSocket)> {
    let mut last_error = None;
    for _ in 0..ATTEMPTS {
        let udp = std::net::UdpSocket::bind(SocketAddr::new(host, 0))
            .with_context(|| format!("cannot open a UDP socket on {host} for closed-udp"))?;
        let own = udp.local_addr()?;
        udp.connect(own)?;
        let tcp = if host.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        // No SO_REUSEADDR: no other socket may bind the port while we hold it.
        match tcp.bind(own) {
            Ok(()) => return Ok((tcp, udp)),
            Err(e) => last_error = Some(e),
        }
    }
    Err(anyhow::anyhow!(
        "cannot hold a closed port on {host} for closed-tcp and closed-udp: {}",
        last_error.map_or_else(|| "no attempt".into(), |e| e.to_string())
    ))
}
