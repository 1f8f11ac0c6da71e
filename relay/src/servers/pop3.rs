//! The POP3 server, driving [`wirelab_shared::pop3::Pop3Server`] over the
//! same Maildir store as the SMTP server, on the blocking pool.

use super::{ServerContext, bind_tcp};
use crate::driver::serve_tcp;
use crate::maildir::MailHomes;
use anyhow::Result;
use std::net::SocketAddr;
use std::sync::Arc;
use wirelab_shared::pop3::Pop3Server;
use wirelab_shared::relay_protocol::{TargetInfo, Transport};

pub async fn start(ctx: &ServerContext<'_>, homes: Arc<MailHomes>) -> Result<Vec<TargetInfo>> {
    let listener = bind_tcp(
        SocketAddr::new(ctx.config.servers.host, ctx.config.servers.pop3.port),
        "the POP3 server (pop3)",
        "servers.pop3.port",
    )
    .await?;
    let addr = listener.local_addr()?;
    let engine_config = ctx
        .config
        .servers
        .pop3
        .engine_config(&ctx.config.servers.smtp.hostname);
    let mut settings = ctx
        .tcp_settings("pop3")
        .with_busy_reply(wirelab_shared::busy::pop3());
    settings.blocking = true;
    serve_tcp(
        listener,
        settings,
        move |peer| {
            Pop3Server::new(
                engine_config.clone(),
                super::smtp::mail_home(&homes, peer.remote),
            )
        },
        ctx.shutdown.clone(),
        ctx.tracker,
    );
    let users: Vec<String> = ctx
        .config
        .servers
        .mail
        .mailboxes
        .iter()
        .map(|m| m.address.clone())
        .collect();
    Ok(vec![TargetInfo {
        name: "pop3".into(),
        transport: Transport::Tcp,
        host: addr.ip().to_string(),
        port: addr.port(),
        protocol: "pop3".into(),
        description: format!(
            "POP3 server: read the mailboxes of {} (user bob, password hungry)",
            users.join(", ")
        ),
        data_ports: None,
    }])
}
