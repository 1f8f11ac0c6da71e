//! The BitTorrent tracker (catalog `tracker`): drives
//! [`wirelab_shared::bittorrent::tracker_server`]'s engine over TCP, one
//! announce per connection, every connection sharing one
//! [`Tracker`] bounded by `[servers.tracker]`.

use super::{ServerContext, bind_tcp};
use crate::driver::serve_tcp;
use anyhow::Result;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use wirelab_shared::bittorrent::tracker::Tracker;
use wirelab_shared::bittorrent::tracker_server::TrackerConnection;
use wirelab_shared::relay_protocol::{TargetInfo, Transport};

pub async fn start(ctx: &ServerContext<'_>) -> Result<Vec<TargetInfo>> {
    let cfg = &ctx.config.servers.tracker;
    let tracker = Arc::new(Mutex::new(Tracker::new(cfg.limits())));
    let listener = bind_tcp(
        SocketAddr::new(ctx.config.servers.host, cfg.port),
        "the BitTorrent tracker (tracker)",
        "servers.tracker.port",
    )
    .await?;
    let addr = listener.local_addr()?;
    serve_tcp(
        listener,
        ctx.tcp_settings("tracker"),
        move |peer| TrackerConnection::new(tracker.clone(), peer.remote.ip()),
        ctx.shutdown.clone(),
        ctx.tracker,
    );
    Ok(vec![TargetInfo {
        name: "tracker".into(),
        transport: Transport::Tcp,
        host: addr.ip().to_string(),
        port: addr.port(),
        protocol: "http".into(),
        description: "BitTorrent tracker: GET /announce?info_hash=…&compact=1 answers a bencoded peer list (BEP 3, BEP 23)".into(),
        data_ports: None,
    }])
}
