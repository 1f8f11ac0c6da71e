//! The IMAP server, driving [`wirelab_shared::imap::ImapServer`] over the
//! same Maildir store as the SMTP and POP3 servers (its IMAP side, see
//! [`crate::maildir`]), on the blocking pool.

use super::{ServerContext, bind_tcp};
use crate::driver::serve_tcp;
use crate::maildir::MailHomes;
use anyhow::Result;
use std::net::SocketAddr;
use std::sync::Arc;
use wirelab_shared::imap::{ImapServer, ImapServerConfig};
use wirelab_shared::relay_protocol::{TargetInfo, Transport};

pub async fn start(ctx: &ServerContext<'_>, homes: Arc<MailHomes>) -> Result<Vec<TargetInfo>> {
    let listener = bind_tcp(
        SocketAddr::new(ctx.config.servers.host, ctx.config.servers.imap.port),
        "the IMAP server (imap)",
        "servers.imap.port",
    )
    .await?;
    let addr = listener.local_addr()?;
    let engine_config = ImapServerConfig {
        // The driver's clock starts with the listener: APPEND dates
        // messages from the time it passes in, as SMTP does.
        clock_epoch_unix: Some(super::http::unix_now()),
        ..ctx.config.servers.imap.engine_config()
    };
    let mut settings = ctx
        .tcp_settings("imap")
        .with_busy_reply(wirelab_shared::busy::imap());
    // Every store call reads or writes files.
    settings.blocking = true;
    serve_tcp(
        listener,
        settings,
        move |peer| {
            ImapServer::new(
                engine_config.clone(),
                super::smtp::mail_home(&homes, peer.remote),
            )
        },
        ctx.shutdown.clone(),
        ctx.tracker,
    );
    Ok(vec![TargetInfo {
        name: "imap".into(),
        transport: Transport::Tcp,
        host: addr.ip().to_string(),
        port: addr.port(),
        protocol: "imap".into(),
        description:
            "IMAP server: the POP3 mailboxes as INBOX, with folders, flags kept on the server \
                      (a1 LOGIN bob hungry)"
                .into(),
        data_ports: None,
    }])
}
