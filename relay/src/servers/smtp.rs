//! The course's SMTP server (`hamburger.edu`), driving
//! [`wirelab_shared::smtp::SmtpServer`] over the Maildir store. Engine
//! calls run on the blocking pool, since delivery fsyncs.

use super::{ServerContext, bind_tcp};
use crate::driver::serve_tcp;
use crate::maildir::{MailHomes, MaildirStore};
use anyhow::Result;
use std::net::SocketAddr;
use std::sync::Arc;
use wirelab_shared::relay_protocol::{TargetInfo, Transport};
use wirelab_shared::smtp::{SmtpServer, SmtpServerConfig};

/// The mailboxes a connection delivers to: its student's in classroom mode.
pub fn mail_home(homes: &MailHomes, remote: SocketAddr) -> Arc<MaildirStore> {
    homes.for_peer(Transport::Tcp, remote).unwrap_or_else(|e| {
        tracing::error!("cannot open the student's mailboxes, using the shared ones: {e:#}");
        homes.shared().clone()
    })
}

pub async fn start(ctx: &ServerContext<'_>, homes: Arc<MailHomes>) -> Result<Vec<TargetInfo>> {
    let cfg = &ctx.config.servers.smtp;
    let listener = bind_tcp(
        SocketAddr::new(ctx.config.servers.host, cfg.port),
        "the SMTP server (smtp)",
        "servers.smtp.port",
    )
    .await?;
    let addr = listener.local_addr()?;
    let engine_config = SmtpServerConfig {
        // The driver's clock starts with the listener: Received lines are
        // dated from the time it passes in.
        clock_epoch_unix: Some(super::http::unix_now()),
        ..cfg.engine_config()
    };
    let mailboxes = homes.shared().addresses();
    let mut settings = ctx
        .tcp_settings("smtp")
        .with_busy_reply(wirelab_shared::busy::smtp(&cfg.hostname));
    settings.blocking = true;
    serve_tcp(
        listener,
        settings,
        move |peer| {
            let config = SmtpServerConfig {
                peer: format!("[{}]", peer.remote.ip()),
                ..engine_config.clone()
            };
            SmtpServer::new(config, mail_home(&homes, peer.remote))
        },
        ctx.shutdown.clone(),
        ctx.tracker,
    );
    Ok(vec![TargetInfo {
        name: "smtp".into(),
        transport: Transport::Tcp,
        host: addr.ip().to_string(),
        port: addr.port(),
        protocol: "smtp".into(),
        description: format!(
            "SMTP server {} (the course's mail server): mail for {}",
            cfg.hostname,
            mailboxes.join(", ")
        ),
        data_ports: None,
    }])
}
