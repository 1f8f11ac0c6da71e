//! The uppercase servers of the course's socket chapter, on TCP and UDP,
//! driving [`wirelab_shared::upper`]'s engines; with `tcp_show_peer` or
//! `udp_show_peer` each reply starts with the client's address and port.

use super::{ServerContext, bind_tcp, bind_udp};
use crate::driver::{serve_tcp, serve_udp};
use anyhow::Result;
use std::net::SocketAddr;
use wirelab_shared::relay_protocol::{TargetInfo, Transport};
use wirelab_shared::upper::{UpperTcpServer, UpperUdpServer};

pub async fn start(ctx: &ServerContext<'_>) -> Result<Vec<TargetInfo>> {
    let host = ctx.config.servers.host;
    let cfg = &ctx.config.servers.upper;
    let (show_tcp_peer, show_udp_peer) = (cfg.tcp_show_peer, cfg.udp_show_peer);

    let listener = bind_tcp(
        SocketAddr::new(host, cfg.tcp_port),
        "the uppercase server (upper-tcp)",
        "servers.upper.tcp_port",
    )
    .await?;
    let tcp_addr = listener.local_addr()?;
    serve_tcp(
        listener,
        ctx.tcp_settings("upper-tcp"),
        move |peer| {
            if show_tcp_peer {
                UpperTcpServer::showing_peer(peer.remote)
            } else {
                UpperTcpServer::new()
            }
        },
        ctx.shutdown.clone(),
        ctx.tracker,
    );

    let socket = bind_udp(
        SocketAddr::new(host, cfg.udp_port),
        "the uppercase server (upper-udp)",
        "servers.upper.udp_port",
    )
    .await?;
    let udp_addr = socket.local_addr()?;
    serve_udp(
        socket,
        "upper-udp",
        move |peer| {
            if show_udp_peer {
                UpperUdpServer::showing_peer(peer.remote)
            } else {
                UpperUdpServer::new()
            }
        },
        ctx.shutdown.clone(),
        ctx.tracker,
    );

    Ok(vec![
        TargetInfo {
            name: "upper-tcp".into(),
            transport: Transport::Tcp,
            host: tcp_addr.ip().to_string(),
            port: tcp_addr.port(),
            protocol: "line".into(),
            description: "Uppercase server (TCP): every line you send comes back in upper case"
                .into(),
            data_ports: None,
        },
        TargetInfo {
            name: "upper-udp".into(),
            transport: Transport::Udp,
            host: udp_addr.ip().to_string(),
            port: udp_addr.port(),
            protocol: "line".into(),
            description: "Uppercase server (UDP): every datagram you send comes back in upper case"
                .into(),
            data_ports: None,
        },
    ])
}
