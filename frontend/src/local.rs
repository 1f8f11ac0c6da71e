//! The in-browser reference servers: the same shared engines the relay
//! runs, driven by the page itself when no relay answers (a static copy of
//! the page, a laptop with the relay stopped). Their catalog entries say
//! "in-browser" where the relay's say an address. Offered: the web server,
//! the uppercase servers, and the DNS hierarchy's root, TLD and
//! authoritative servers (not the recursive resolver), SMTP, POP3 and IMAP, the
//! textbook's §2.8 web server, and the socket chapter's closed ports (a
//! connect to `closed-tcp` is refused, `closed-udp` hears every datagram
//! and answers none).
//!
//! The SMTP, POP3 and IMAP servers share one in-memory mail store for the
//! life of the page (a reload starts again from the course's mailbox), so
//! mail sent over SMTP can be read over POP3 or IMAP, and IMAP's folders
//! and flags last from one connection to the next, as with the relay.

use std::collections::HashMap;
use std::sync::Arc;
use wirelab_shared::catalog::{
    BOOK_WEB_DESCRIPTION, CLOSED_TCP_DESCRIPTION, CLOSED_UDP_DESCRIPTION, paired_name, split_paired,
};
use wirelab_shared::dns::hierarchy::{self, Role};
use wirelab_shared::dns::server::{AuthoritativeTcp, AuthoritativeUdp, Authority};
use wirelab_shared::engine::{Engine, ErasedEngine, Millis, Output};
use wirelab_shared::http::book_server::BookWebServer;
use wirelab_shared::http::server::{Endpoints, HttpServerConnection};
use wirelab_shared::http::site::{WebSite, demo_files};
use wirelab_shared::http::store::MemoryFileStore;
use wirelab_shared::imap::{ImapServer, ImapServerConfig};
use wirelab_shared::mail::store::MemoryStore;
use wirelab_shared::pop3::{Pop3Server, Pop3ServerConfig};
use wirelab_shared::relay_protocol::{TargetInfo, Transport};
use wirelab_shared::smtp::{SmtpServer, SmtpServerConfig};
use wirelab_shared::upper::{UpperTcpServer, UpperUdpServer};

thread_local! {
    /// The mailboxes of the in-browser mail servers (the page has one thread).
    static MAIL: Arc<MemoryStore> = Arc::new(MemoryStore::course());
}

/// The mail store the in-browser SMTP, POP3 and IMAP servers share.
pub fn mail_store() -> Arc<MemoryStore> {
    MAIL.with(Arc::clone)
}

/// The host shown for in-browser servers.
pub const LOCAL_HOST: &str = "in-browser";

/// The targets the page can serve itself.
pub fn targets() -> Vec<TargetInfo> {
    let mut targets = fixed_targets();
    targets.extend(dns_targets());
    targets
}

fn fixed_targets() -> Vec<TargetInfo> {
    vec![
        TargetInfo {
            name: "http".into(),
            transport: Transport::Tcp,
            host: LOCAL_HOST.into(),
            port: 8081,
            protocol: "http".into(),
            description: "Web server with the course's pages, running in this page".into(),
            data_ports: None,
        },
        TargetInfo {
            name: "upper-tcp".into(),
            transport: Transport::Tcp,
            host: LOCAL_HOST.into(),
            port: 12000,
            protocol: "line".into(),
            description: "Uppercase server (TCP), running in this page".into(),
            data_ports: None,
        },
        TargetInfo {
            name: "upper-udp".into(),
            transport: Transport::Udp,
            host: LOCAL_HOST.into(),
            port: 12000,
            protocol: "line".into(),
            description: "Uppercase server (UDP), running in this page".into(),
            data_ports: None,
        },
        TargetInfo {
            name: "webserver-book".into(),
            transport: Transport::Tcp,
            host: LOCAL_HOST.into(),
            port: 6789,
            protocol: "http".into(),
            description: BOOK_WEB_DESCRIPTION.into(),
            data_ports: None,
        },
        closed_target("closed-tcp", Transport::Tcp, CLOSED_TCP_DESCRIPTION),
        closed_target("closed-udp", Transport::Udp, CLOSED_UDP_DESCRIPTION),
        TargetInfo {
            name: "smtp".into(),
            transport: Transport::Tcp,
            host: LOCAL_HOST.into(),
            port: 2525,
            protocol: "smtp".into(),
            description: "SMTP server hamburger.edu, running in this page".into(),
            data_ports: None,
        },
        TargetInfo {
            name: "pop3".into(),
            transport: Transport::Tcp,
            host: LOCAL_HOST.into(),
            port: 1110,
            protocol: "pop3".into(),
            description: "POP3 server (user bob, password hungry), running in this page".into(),
            data_ports: None,
        },
        TargetInfo {
            name: "imap".into(),
            transport: Transport::Tcp,
            host: LOCAL_HOST.into(),
            port: 1143,
            protocol: "imap".into(),
            description: "IMAP server: the POP3 mailbox as INBOX, with folders and flags \
                          (a1 LOGIN bob hungry), running in this page"
                .into(),
            data_ports: None,
        },
    ]
}

/// `closed-tcp` or `closed-udp`: a port where nothing listens.
fn closed_target(name: &str, transport: Transport, description: &str) -> TargetInfo {
    TargetInfo {
        name: name.into(),
        transport,
        host: LOCAL_HOST.into(),
        port: 4,
        protocol: "line".into(),
        description: description.into(),
        data_ports: None,
    }
}

/// The DNS servers of the lab's hierarchy that can run in the page: all
/// but the recursive resolver, which needs the relay (its trace and cache
/// are the relay's API). Each twice, as on the relay: `dns-root` (UDP) and
/// `dns-root-tcp` (TCP).
fn dns_targets() -> Vec<TargetInfo> {
    let mut out = Vec::new();
    for s in hierarchy::SERVERS
        .iter()
        .filter(|s| s.role != Role::Resolver)
    {
        for transport in [Transport::Udp, Transport::Tcp] {
            out.push(TargetInfo {
                name: paired_name(s.catalog, transport),
                transport,
                host: LOCAL_HOST.into(),
                port: 1053,
                protocol: "dns".into(),
                description: format!("{}, running in this page ({transport})", s.description),
                data_ports: None,
            });
        }
    }
    out
}

thread_local! {
    /// The in-browser DNS servers' zones, parsed once from the embedded
    /// defaults (the relay reads its copies from the data directory).
    static DNS_AUTHORITIES: HashMap<&'static str, Arc<Authority>> = hierarchy::SERVERS
        .iter()
        .filter(|s| s.role != Role::Resolver)
        .map(|s| (s.catalog, Arc::new(s.default_authority())))
        .collect();
}

/// The engine of an in-browser DNS server, replying after its simulated
/// distance as the relay's do.
fn dns_engine(name: &str) -> Option<Box<dyn ErasedEngine>> {
    let (base, transport) = split_paired(name);
    let server = hierarchy::server(base)?;
    let authority = DNS_AUTHORITIES.with(|all| all.get(server.catalog).cloned())?;
    Some(match transport {
        Transport::Tcp => Box::new(AuthoritativeTcp::new(authority, server.delay_ms)),
        Transport::Udp => Box::new(AuthoritativeUdp::new(authority, server.delay_ms)),
    })
}

/// A fresh engine for the in-browser target `name`: one per connection for
/// TCP, one per datagram for UDP (as the relay's drivers do).
pub fn engine(name: &str) -> Option<Box<dyn ErasedEngine>> {
    if name.starts_with("dns") {
        return dns_engine(name);
    }
    match name {
        "upper-tcp" => Some(Box::new(UpperTcpServer::new())),
        "closed-udp" => Some(Box::new(NoServer)),
        "webserver-book" => Some(Box::new(BookWebServer::new(Arc::new(demo_files())))),
        "upper-udp" => Some(Box::new(UpperUdpServer::new())),
        "http" => Some(Box::new(HttpServerConnection::new(
            web_site(),
            Endpoints {
                remote_ip: "this page".into(),
                local_ip: LOCAL_HOST.into(),
            },
            wall_clock_epoch(),
        ))),
        "smtp" => Some(Box::new(SmtpServer::new(
            SmtpServerConfig {
                peer: "[in-browser]".into(),
                clock_epoch_unix: Some(wall_clock_epoch()),
                ..SmtpServerConfig::default()
            },
            mail_store(),
        ))),
        "pop3" => Some(Box::new(Pop3Server::new(
            Pop3ServerConfig::default(),
            mail_store(),
        ))),
        "imap" => Some(Box::new(ImapServer::new(
            ImapServerConfig {
                clock_epoch_unix: Some(wall_clock_epoch()),
                ..ImapServerConfig::default()
            },
            mail_store(),
        ))),
        _ => None,
    }
}

/// Whether a connect to the in-browser target `name` is refused, as a
/// machine refuses a TCP connection to a port where nothing listens.
pub fn refuses(name: &str) -> bool {
    name == "closed-tcp"
}

/// What stands behind `closed-udp`: every datagram taken, none answered.
struct NoServer;

impl Engine for NoServer {
    type Event = ();

    fn handle_input(&mut self, _bytes: &[u8], _now: Millis) {}

    fn handle_eof(&mut self, _now: Millis) {}

    fn poll_output(&mut self) -> Output<()> {
        Output::Wait(None)
    }
}

thread_local! {
    /// One web site for all in-browser connections, so cookies, sessions
    /// and uploads live as long as the page.
    static WEB_SITE: Arc<WebSite> = Arc::new(WebSite::new(
        Arc::new(MemoryFileStore::new()),
        WebSite::default_credentials(),
    ));
}

fn web_site() -> Arc<WebSite> {
    WEB_SITE.with(Arc::clone)
}

/// The Unix second at which the page clock (`now_ms`) read zero, so
/// engines can turn their `Millis` into wall-clock dates.
pub fn wall_clock_epoch() -> i64 {
    #[cfg(target_arch = "wasm32")]
    let wall_ms = js_sys::Date::now();
    #[cfg(not(target_arch = "wasm32"))]
    let wall_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as f64)
        .unwrap_or(0.0);
    ((wall_ms - crate::now_ms()) / 1000.0) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_local_target_has_an_engine() {
        for t in targets() {
            assert!(engine(&t.name).is_some() != refuses(&t.name), "{}", t.name);
        }
        assert!(engine("smtp-on-mars").is_none());
        assert!(
            engine("dns").is_none(),
            "the resolver runs on the relay only"
        );
    }

    #[test]
    fn the_in_browser_root_refers_to_edu() {
        use wirelab_shared::dns::query::QuerySpec;
        use wirelab_shared::dns::{Name, RecordType};
        use wirelab_shared::engine::{Millis, Output};
        let query = QuerySpec::new(Name::parse("gaia.cs.umass.edu").unwrap(), RecordType::A, 9)
            .next_hop(9)
            .to_bytes();
        let mut root = engine("dns-root").unwrap();
        root.handle_input(&query, Millis(0));
        // Held back for the root's simulated distance, then sent.
        let mut reply = None;
        for _ in 0..4 {
            match root.poll_output() {
                Output::Wait(Some(at)) => root.handle_timeout(at),
                Output::Transmit(bytes) => reply = Some(bytes),
                _ => {}
            }
        }
        let reply = wirelab_shared::dns::Message::parse(&reply.expect("a reply")).unwrap();
        assert_eq!(reply.authority[0].name.to_string(), "edu.");
        // Every server of the hierarchy but the resolver, over UDP and TCP.
        let authoritative = hierarchy::SERVERS
            .iter()
            .filter(|s| s.role != Role::Resolver)
            .count();
        assert_eq!(
            targets().iter().filter(|t| t.protocol == "dns").count(),
            2 * authoritative
        );
        assert!(targets().iter().any(|t| t.name == "dns-cdn"));
    }

    fn talk(engine: &mut Box<dyn ErasedEngine>, input: &str) -> String {
        use wirelab_shared::engine::{ErasedOutput, Millis, Output};
        engine.handle_input(input.as_bytes(), Millis(0));
        let mut out = Vec::new();
        loop {
            match engine.poll_output() {
                Output::Transmit(bytes) => out.extend(bytes),
                Output::Wait(_) => break,
                ErasedOutput::Event(_) | Output::Close => {}
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn the_local_imap_server_keeps_folders_and_flags_between_connections() {
        let mut imap = engine("imap").unwrap();
        assert!(talk(&mut imap, "").starts_with("* OK [CAPABILITY IMAP4rev2"));
        let replies = talk(
            &mut imap,
            "a1 LOGIN bob hungry\r\na2 CREATE Kept\r\na3 SELECT INBOX\r\n\
             a4 COPY 1 Kept\r\na5 STORE 1 +FLAGS (\\Flagged)\r\na6 LOGOUT\r\n",
        );
        assert!(replies.contains("a4 OK [COPYUID "), "{replies}");
        assert!(replies.contains("a6 OK LOGOUT"), "{replies}");
        let mut again = engine("imap").unwrap();
        talk(&mut again, "");
        let replies = talk(
            &mut again,
            "b1 LOGIN bob hungry\r\nb2 LIST \"\" *\r\nb3 EXAMINE INBOX\r\nb4 FETCH 1 FLAGS\r\n",
        );
        assert!(
            replies.contains("* LIST (\\HasNoChildren) \"/\" Kept\r\n"),
            "{replies}"
        );
        assert!(
            replies.contains("* 1 FETCH (FLAGS (\\Flagged))"),
            "{replies}"
        );
    }

    #[test]
    fn mail_sent_to_the_local_smtp_server_is_read_from_the_local_pop3_server() {
        let mut smtp = engine("smtp").unwrap();
        assert!(talk(&mut smtp, "").starts_with("220 hamburger.edu"));
        let replies = talk(
            &mut smtp,
            "HELO crepes.fr\r\nMAIL FROM:<alice@crepes.fr>\r\nRCPT TO:<bob@hamburger.edu>\r\nDATA\r\nDo you like ketchup?\r\n.\r\nQUIT\r\n",
        );
        assert!(
            replies.contains("250 Message accepted for delivery"),
            "{replies}"
        );
        let mut pop3 = engine("pop3").unwrap();
        talk(&mut pop3, "");
        let replies = talk(&mut pop3, "USER bob\r\nPASS hungry\r\nLIST 3\r\nRETR 3\r\n");
        assert!(replies.contains("Do you like ketchup?"), "{replies}");
        // A second POP3 connection meets the first one's lock, which the
        // end of the first connection releases.
        let mut second = engine("pop3").unwrap();
        assert!(talk(&mut second, "USER bob\r\nPASS hungry\r\n").contains("[IN-USE]"));
        drop(pop3);
        assert!(
            talk(&mut second, "USER bob\r\nPASS hungry\r\n")
                .contains("+OK user successfully logged on")
        );
    }
}
