//! The page's routes and the navigation entries that lead to them.

use yew_router::prelude::*;

#[derive(Clone, Routable, PartialEq, Eq, Debug)]
pub enum Route {
    #[at("/")]
    Home,
    #[at("/http")]
    Http,
    #[at("/smtp")]
    Smtp,
    #[at("/pop3")]
    Pop3,
    #[at("/imap")]
    Imap,
    #[at("/ftp")]
    Ftp,
    #[at("/dns")]
    Dns,
    #[at("/sockets")]
    Sockets,
    #[at("/p2p")]
    P2p,
    /// The HTTP response-time lab, reached from the HTTP page.
    #[at("/response-time")]
    ResponseTime,
    /// The caching calculators (issue 14).
    #[at("/caching")]
    Caching,
    /// The dissection benchmark (`cargo xtask bench`); not in the
    /// navigation.
    #[at("/bench")]
    Bench,
    /// The instructor's classes (classroom mode); not in the navigation.
    #[at("/instructor")]
    Instructor,
    #[not_found]
    #[at("/404")]
    NotFound,
}

/// One entry of the navigation bar.
pub struct NavEntry {
    pub route: Route,
    /// Lowercase key used in `data-testid="nav-<key>"` and as the catalog's
    /// protocol name.
    pub key: &'static str,
    pub label: &'static str,
}

/// The navigation, one entry per protocol, in the course's order.
pub fn nav_entries() -> Vec<NavEntry> {
    vec![
        NavEntry {
            route: Route::Http,
            key: "http",
            label: "HTTP",
        },
        NavEntry {
            route: Route::Smtp,
            key: "smtp",
            label: "SMTP",
        },
        NavEntry {
            route: Route::Pop3,
            key: "pop3",
            label: "POP3",
        },
        NavEntry {
            route: Route::Imap,
            key: "imap",
            label: "IMAP",
        },
        NavEntry {
            route: Route::Ftp,
            key: "ftp",
            label: "FTP",
        },
        NavEntry {
            route: Route::Dns,
            key: "dns",
            label: "DNS",
        },
        NavEntry {
            route: Route::Sockets,
            key: "sockets",
            label: "Sockets",
        },
    ]
}

/// The lessons beyond the protocols, on the start page's cards but not in
/// the navigation bar, which has no room for more on a laptop's screen.
pub fn lesson_entries() -> Vec<NavEntry> {
    vec![
        NavEntry {
            route: Route::ResponseTime,
            key: "response-time",
            label: "Response time, measured",
        },
        NavEntry {
            route: Route::Caching,
            key: "caching",
            label: "Web caches, calculated",
        },
        NavEntry {
            route: Route::P2p,
            key: "p2p",
            label: "Peer to peer: the DHT and flooding",
        },
    ]
}
