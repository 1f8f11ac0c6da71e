//! The textbook's §2.8 web server (catalog `webserver-book`, the book's port
//! 6789), driving [`wirelab_shared::http::book_server`]'s engine: one
//! request per connection, `HTTP/1.0 200 Document Follows` or no reply, as
//! `WebServer.java` answers.

use super::{ServerContext, bind_tcp};
use crate::driver::serve_tcp;
use anyhow::Result;
use std::net::SocketAddr;
use std::sync::Arc;
use wirelab_shared::catalog::BOOK_WEB_DESCRIPTION;
use wirelab_shared::http::book_server::BookWebServer;
use wirelab_shared::http::site::demo_files;
use wirelab_shared::relay_protocol::{TargetInfo, Transport};

pub async fn start(ctx: &ServerContext<'_>) -> Result<Vec<TargetInfo>> {
    let listener = bind_tcp(
        SocketAddr::new(ctx.config.servers.host, ctx.config.servers.book_web.port),
        "the textbook's web server (webserver-book)",
        "servers.book_web.port",
    )
    .await?;
    let addr = listener.local_addr()?;
    let files = Arc::new(demo_files());
    serve_tcp(
        listener,
        ctx.tcp_settings("webserver-book"),
        move |_peer| BookWebServer::new(files.clone()),
        ctx.shutdown.clone(),
        ctx.tracker,
    );
    Ok(vec![TargetInfo {
        name: "webserver-book".into(),
        transport: Transport::Tcp,
        host: addr.ip().to_string(),
        port: addr.port(),
        protocol: "http".into(),
        description: BOOK_WEB_DESCRIPTION.into(),
        data_ports: None,
    }])
}
