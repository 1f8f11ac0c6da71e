//! The in-browser reference servers: the same shared engines the relay
//! runs, driven by the page itself when no relay answers (a static copy of
//! the page, a laptop with the relay stopped). Their catalog entries say
//! "in-browser" where the relay's say an address.

use std::sync::Arc;
use wirelab_shared::engine::ErasedEngine;
use wirelab_shared::http::server::{Endpoints, HttpServerConnection};
use wirelab_shared::http::site::WebSite;
use wirelab_shared::http::store::MemoryFileStore;
use wirelab_shared::relay_protocol::{TargetInfo, Transport};
use wirelab_shared::upper::{UpperTcpServer, UpperUdpServer};

/// The host shown for in-browser servers.
pub const LOCAL_HOST: &str = "in-browser";

/// The targets the page can serve itself.
pub fn targets() -> Vec<TargetInfo> {
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
    ]
}

/// A fresh engine for the in-browser target `name`: one per connection for
/// TCP, one per datagram for UDP (as the relay's drivers do).
pub fn engine(name: &str) -> Option<Box<dyn ErasedEngine>> {
    match name {
        "upper-tcp" => Some(Box::new(UpperTcpServer::new())),
        "upper-udp" => Some(Box::new(UpperUdpServer::new())),
        "http" => Some(Box::new(HttpServerConnection::new(
            web_site(),
            Endpoints {
                remote_ip: "this page".into(),
                local_ip: LOCAL_HOST.into(),
            },
            wall_clock_epoch(),
        ))),
        _ => None,
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
            assert!(engine(&t.name).is_some(), "{}", t.name);
        }
        assert!(engine("smtp-on-mars").is_none());
    }
}
