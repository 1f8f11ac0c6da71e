//! Who is asking, and from which page: the checks every `/ws`, `/api` and
//! `/join` request goes through before anything else.
//!
//! - **Origin.** A browser names the page that opens a WebSocket in
//!   `Origin`. Only the relay's own page (the origin matching the `Host` the
//!   request was sent to, or `public_url`) and the configured
//!   `allowed_origins` may drive `/ws`, so a page on another site cannot use
//!   a student's local relay. Requests without `Origin` come from programs,
//!   not pages, and pass.
//! - **Host.** A relay bound to loopback answers only to `localhost`, IP
//!   addresses and the configured names, so a site that points its own name
//!   at 127.0.0.1 (DNS rebinding) cannot pass the origin check either.
//! - **Client address.** The TCP peer, or the `X-Forwarded-For` entry a
//!   trusted proxy added; the header is ignored from anyone else.
//! - **Credentials.** A classroom token from `?token=`, `Authorization:
//!   Bearer` or the `wirelab_token` cookie the join page sets.

use crate::config::Config;
use crate::policy::Refusal;
use crate::policy::rules::Cidr;
use anyhow::{Result, bail};
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, COOKIE, HOST, ORIGIN};
use axum::http::uri::Authority;
use headers::authorization::Bearer;
use headers::{Authorization, Header};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use url::{Host, Url};
use wirelab_shared::http::cookie::cookie_values;

/// The name of the cookie that carries a student's token.
pub const TOKEN_COOKIE: &str = "wirelab_token";

/// A web origin (RFC 6454 §4): scheme, host and port, as the WHATWG URL
/// parser (the browser's own) normalises them. The port is filled in from
/// the scheme when the URL leaves it out, so `http://h` and `http://h:80`
/// are the same origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    scheme: String,
    host: Host,
    port: u16,
}

impl Origin {
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// A lower-case (punycode) name or an address.
    pub fn host(&self) -> &Host {
        &self.host
    }

    pub fn port(&self) -> u16 {
        self.port
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tuple = url::Origin::Tuple(self.scheme.clone(), self.host.clone(), self.port);
        f.write_str(&tuple.ascii_serialization())
    }
}

/// The origin of an http(s) URL (`https://lab.example.edu/path` gives
/// `https://lab.example.edu`). `null` and the opaque origins of other
/// schemes (`file:`, `data:`) are refused.
pub fn origin_of(url: &str) -> Result<Origin> {
    let url = Url::parse(url.trim())?;
    if !matches!(url.scheme(), "http" | "https") {
        bail!("the scheme must be http or https");
    }
    if !url.username().is_empty() || url.password().is_some() {
        bail!("an origin has no user name");
    }
    let (Some(host), Some(port)) = (url.host(), url.port_or_known_default()) else {
        bail!("no host");
    };
    Ok(Origin {
        scheme: url.scheme().to_string(),
        host: host.to_owned(),
        port,
    })
}

/// The origin of a page fetched with `scheme` from `authority`, the value
/// of a `Host` header (`host[:port]`, `[v6][:port]`, nothing else).
fn served_origin(scheme: &str, authority: &str) -> Option<Origin> {
    let authority: Authority = authority.parse().ok()?;
    if authority.as_str().contains('@') {
        return None;
    }
    origin_of(&format!("{scheme}://{authority}")).ok()
}

/// A host name as `allowed_hosts` compares it: IDNA-normalised like the
/// `Host` of a request, without a final dot.
fn host_name(text: &str) -> String {
    let text = text.trim().trim_end_matches('.');
    match Host::parse(text) {
        Ok(Host::Domain(name)) => name,
        _ => text.to_ascii_lowercase(),
    }
}

/// The access settings, read once from the config.
#[derive(Debug, Clone)]
pub struct Access {
    public: Option<Origin>,
    allowed_origins: Vec<Origin>,
    any_origin: bool,
    /// Set when the relay is bound to loopback: only these names (plus
    /// `localhost` and addresses) may appear in `Host`.
    allowed_hosts: Option<Vec<String>>,
    trusted_proxies: Vec<Cidr>,
}

impl Access {
    pub fn from_config(config: &Config) -> Self {
        let public = config.public_url.as_deref().and_then(|u| origin_of(u).ok());
        let allowed_origins: Vec<Origin> = config
            .allowed_origins
            .iter()
            .filter_map(|o| origin_of(o).ok())
            .collect();
        let allowed_hosts = config.bind.is_loopback().then(|| {
            let mut names: Vec<String> =
                config.allowed_hosts.iter().map(|h| host_name(h)).collect();
            names.extend(
                public
                    .iter()
                    .chain(&allowed_origins)
                    .filter_map(|o| match &o.host {
                        Host::Domain(name) => Some(host_name(name)),
                        Host::Ipv4(_) | Host::Ipv6(_) => None,
                    }),
            );
            names
        });
        Access {
            public,
            any_origin: config.allowed_origins.iter().any(|o| o == "*"),
            allowed_origins,
            allowed_hosts,
            trusted_proxies: config.trusted_proxies.clone(),
        }
    }

    /// The `Host` check of a loopback relay (see the module docs).
    pub fn check_host(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        let Some(allowed) = &self.allowed_hosts else {
            return Ok(());
        };
        let Some(host) = headers.get(HOST).and_then(|h| h.to_str().ok()) else {
            // HTTP/1.0 without Host: only a program does that.
            return Ok(());
        };
        let Some(origin) = served_origin("http", host) else {
            return Err(Refusal::bad_request(format!(
                "the Host header {host:?} is not valid"
            )));
        };
        let name = match origin.host {
            Host::Ipv4(_) | Host::Ipv6(_) => return Ok(()),
            Host::Domain(name) => host_name(&name),
        };
        if name == "localhost" || name.ends_with(".localhost") || allowed.contains(&name) {
            return Ok(());
        }
        Err(Refusal::forbidden(
            "host_header",
            format!(
                "this relay runs on the local machine and answers only to localhost and its IP \
                 addresses, not to {name:?} (a web site can point its own name at your machine \
                 to reach it). If {name} is yours, add it to allowed_hosts in the relay's config."
            ),
        ))
    }

    /// The `Origin` check of `/ws`.
    pub fn check_origin(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        let Some(value) = headers.get(ORIGIN) else {
            return Ok(());
        };
        if self.any_origin {
            return Ok(());
        }
        let text = value.to_str().unwrap_or("?");
        let refuse = |shown: &str| {
            Refusal::forbidden(
                "origin",
                format!(
                    "this relay only accepts WebSocket connections from its own page; a page at \
                     {shown} tried to use it. If that page is yours, add its origin to \
                     allowed_origins in the relay's config."
                ),
            )
        };
        let Ok(origin) = origin_of(text) else {
            return Err(refuse(text));
        };
        if self.public.as_ref() == Some(&origin) || self.allowed_origins.contains(&origin) {
            return Ok(());
        }
        // The relay's own page: the origin the request's Host would give a
        // page under the scheme the browser used.
        let own = headers
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .and_then(|host| served_origin(&origin.scheme, host));
        if own.as_ref() == Some(&origin) {
            return Ok(());
        }
        Err(refuse(&origin.to_string()))
    }

    /// The client's address: the TCP peer, unless the peer is a trusted
    /// proxy, in which case the right-most `X-Forwarded-For` entry that is
    /// not itself a trusted proxy.
    pub fn client_addr(&self, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
        let peer_ip = crate::policy::address::canonical(peer.ip());
        if !self.is_trusted_proxy(peer_ip) {
            return peer_ip;
        }
        let entries: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        for entry in entries.iter().rev() {
            let Some(ip) = parse_forwarded_ip(entry) else {
                // Whatever is left of a garbled entry was written by the client.
                break;
            };
            let ip = crate::policy::address::canonical(ip);
            if !self.is_trusted_proxy(ip) {
                return ip;
            }
        }
        peer_ip
    }

    fn is_trusted_proxy(&self, ip: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|c| c.contains(ip))
    }
}

/// An `X-Forwarded-For` entry: an address, possibly with a port.
fn parse_forwarded_ip(entry: &str) -> Option<IpAddr> {
    if let Ok(ip) = entry.parse() {
        return Some(ip);
    }
    if let Ok(addr) = entry.parse::<SocketAddr>() {
        return Some(addr.ip());
    }
    None
}

/// The token of `Authorization: Bearer <token>` (the scheme in any case).
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?;
    let typed = Authorization::<Bearer>::decode(&mut std::iter::once(value)).ok()?;
    // The token is the tail of the header value; borrow it from there so
    // it lives as long as the request's headers.
    let text = value.to_str().ok()?;
    let token = text.get(text.len().checked_sub(typed.token().len())?..)?;
    Some(token.trim_end()).filter(|t| !t.is_empty())
}

/// The value of cookie `name`: the first one sent, which a browser makes
/// the most specific (RFC 6265 §5.4), across every `Cookie` header.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| cookie_values(v, name).next())
}

/// A request's classroom token: `?token=`, then `Authorization: Bearer`,
/// then the cookie.
pub fn token<'a>(headers: &'a HeaderMap, query_token: Option<&'a str>) -> Option<&'a str> {
    query_token
        .filter(|t| !t.is_empty())
        .or_else(|| bearer(headers))
        .or_else(|| cookie(headers, TOKEN_COOKIE))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn access(adjust: impl FnOnce(&mut Config)) -> Access {
        let mut config = Config::default();
        adjust(&mut config);
        Access::from_config(&config)
    }

    #[test]
    fn origins_parse_and_normalise() {
        let o = origin_of("HTTPS://Lab.Example.edu/join/x").unwrap();
        assert_eq!(o.to_string(), "https://lab.example.edu");
        assert_eq!(o.port(), 443);
        let o = origin_of("http://[::1]:8080").unwrap();
        assert!(matches!(o.host(), Host::Ipv6(ip) if ip.is_loopback()));
        assert_eq!(o.port(), 8080);
        assert_eq!(o.to_string(), "http://[::1]:8080");
        assert!(origin_of("ftp://x").is_err());
        assert!(origin_of("http://user@x").is_err());
        assert!(origin_of("http://:pw@x").is_err());
        assert!(origin_of("lab.example.edu").is_err());
    }

    #[test]
    fn origins_are_scheme_host_and_port() {
        let same = |a: &str, b: &str| origin_of(a).unwrap() == origin_of(b).unwrap();
        // The default port, written or not, is the same origin (RFC 6454 §4).
        assert!(same("http://lab.example.edu", "http://lab.example.edu:80"));
        assert!(same(
            "https://lab.example.edu:443/",
            "https://lab.example.edu"
        ));
        assert_eq!(origin_of("http://h:80").unwrap().to_string(), "http://h");
        assert!(!same("http://lab.example.edu", "https://lab.example.edu"));
        assert!(!same(
            "http://lab.example.edu",
            "http://lab.example.edu:8080"
        ));
        // A path, a query and a fragment are not part of an origin.
        assert!(same("http://h:8080/a/b?c#d", "http://h:8080"));
        // IPv6, in any spelling, with or without the default port.
        assert!(same("http://[::1]", "http://[0:0::1]:80"));
        assert_eq!(
            origin_of("http://[::1]").unwrap().to_string(),
            "http://[::1]"
        );
        // Names as the browser sends them: lower case and punycode.
        assert!(same(
            "http://bücher.example",
            "http://xn--bcher-kva.example"
        ));
        // `null` and the opaque origins are no origin to allow.
        for opaque in [
            "null",
            "file:///etc/passwd",
            "data:text/html,hi",
            "http://",
            "",
        ] {
            assert!(origin_of(opaque).is_err(), "{opaque}");
        }
    }

    #[test]
    fn the_own_page_is_matched_with_default_ports_and_ipv6() {
        let a = access(|_| {});
        for (host, origin) in [
            ("localhost", "http://localhost:80"),
            ("localhost:80", "http://localhost"),
            ("LOCALHOST:8080", "http://localhost:8080"),
            ("[::1]:8080", "http://[::1]:8080"),
            ("[::1]", "http://[::1]"),
            ("[0::1]:8080", "http://[::1]:8080"),
            ("127.0.0.1:8080", "http://127.0.0.1:8080/some/page"),
            ("lab.example.edu", "https://lab.example.edu:443"),
        ] {
            let h = headers(&[("host", host), ("origin", origin)]);
            assert!(a.check_origin(&h).is_ok(), "{host} {origin}");
        }
        for (host, origin) in [
            ("[::1]:8080", "http://[::1]:8081"),
            ("[::1]:8080", "http://127.0.0.1:8080"),
            ("localhost:8080", "http://localhost"),
            ("localhost", "https://localhost:80"),
            // A Host that is more than an authority never matches.
            ("evil@localhost:8080", "http://localhost:8080"),
            ("localhost:8080/x", "http://localhost:8080"),
            ("", "http://localhost"),
        ] {
            let h = headers(&[("host", host), ("origin", origin)]);
            assert!(a.check_origin(&h).is_err(), "{host} {origin}");
        }
    }

    #[test]
    fn configured_origins_match_with_their_default_port() {
        let a = access(|c| {
            c.public_url = Some("https://lab.example.edu/wirelab/".into());
            c.allowed_origins = vec!["http://[2001:db8::1]:80".into()];
        });
        for origin in [
            "https://lab.example.edu:443",
            "https://LAB.example.edu",
            "http://[2001:db8::1]",
        ] {
            let h = headers(&[("host", "relay.internal:8080"), ("origin", origin)]);
            assert!(a.check_origin(&h).is_ok(), "{origin}");
        }
        let h = headers(&[("host", "x"), ("origin", "http://lab.example.edu")]);
        assert!(a.check_origin(&h).is_err());
    }

    #[test]
    fn only_the_own_page_and_configured_origins_pass() {
        let a = access(|c| c.allowed_origins = vec!["https://course.example.edu".into()]);
        let ok = [
            headers(&[("host", "127.0.0.1:8080")]),
            headers(&[
                ("host", "127.0.0.1:8080"),
                ("origin", "http://127.0.0.1:8080"),
            ]),
            headers(&[("host", "localhost"), ("origin", "http://localhost")]),
            headers(&[("host", "x:1"), ("origin", "https://course.example.edu")]),
        ];
        for h in ok {
            assert!(a.check_origin(&h).is_ok(), "{h:?}");
        }
        let refused = [
            headers(&[
                ("host", "127.0.0.1:8080"),
                ("origin", "http://evil.example"),
            ]),
            headers(&[
                ("host", "127.0.0.1:8080"),
                ("origin", "http://127.0.0.1:8081"),
            ]),
            headers(&[("host", "127.0.0.1:8080"), ("origin", "null")]),
            headers(&[
                ("host", "localhost:8080"),
                ("origin", "http://127.0.0.1:8080"),
            ]),
        ];
        for h in refused {
            let r = a.check_origin(&h).unwrap_err();
            assert_eq!(r.reason, "origin", "{h:?}");
        }
        assert!(
            access(|c| c.allowed_origins = vec!["*".into()])
                .check_origin(&headers(&[("origin", "http://anything")]))
                .is_ok()
        );
    }

    #[test]
    fn a_loopback_relay_answers_only_to_local_names() {
        let a = access(|c| c.allowed_hosts = vec!["wirelab.lan".into()]);
        for host in [
            "127.0.0.1:8080",
            "[::1]:8080",
            "localhost:8080",
            "wirelab.lan",
        ] {
            assert!(a.check_host(&headers(&[("host", host)])).is_ok(), "{host}");
        }
        let r = a
            .check_host(&headers(&[("host", "rebind.evil.example:8080")]))
            .unwrap_err();
        assert_eq!(r.reason, "host_header");
        // A relay on a public address is reached by whatever name points at it.
        let public = access(|c| c.bind = "0.0.0.0".parse().unwrap());
        assert!(
            public
                .check_host(&headers(&[("host", "lab.example.edu")]))
                .is_ok()
        );
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let a = access(|c| c.trusted_proxies = vec!["10.0.0.2".parse().unwrap()]);
        let xff = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.9")]);
        let direct: SocketAddr = "198.51.100.7:5000".parse().unwrap();
        assert_eq!(a.client_addr(direct, &xff).to_string(), "198.51.100.7");
        let proxy: SocketAddr = "10.0.0.2:5000".parse().unwrap();
        // The proxy appended the address it saw; what the client wrote
        // before that (6.6.6.6) is not believed.
        assert_eq!(a.client_addr(proxy, &xff).to_string(), "203.0.113.9");
        assert_eq!(
            a.client_addr(proxy, &HeaderMap::new()).to_string(),
            "10.0.0.2"
        );
        let garbled = headers(&[("x-forwarded-for", "1.1.1.1, not-an-ip")]);
        assert_eq!(a.client_addr(proxy, &garbled).to_string(), "10.0.0.2");
    }

    #[test]
    fn host_names_are_normalised_before_the_check() {
        let a = access(|c| {
            c.allowed_hosts = vec!["WireLab.LAN.".into()];
            c.allowed_origins = vec!["https://Course.Example.edu".into()];
        });
        for host in [
            "wirelab.lan:8080",
            "WIRELAB.lan",
            "wirelab.lan.",
            "course.example.edu",
            "LocalHost.:8080",
            "app.localhost",
            "[::ffff:127.0.0.1]:8080",
        ] {
            assert!(a.check_host(&headers(&[("host", host)])).is_ok(), "{host}");
        }
        let r = a
            .check_host(&headers(&[("host", "wirelab.lan.evil.example")]))
            .unwrap_err();
        assert_eq!(r.reason, "host_header");
        for garbled in ["a b", "x:port", "[::1", "user@localhost", "h:99999", ""] {
            let r = a.check_host(&headers(&[("host", garbled)])).unwrap_err();
            assert_eq!(r.reason, "bad_request", "{garbled:?}");
        }
    }

    #[test]
    fn bearer_tokens_in_any_case_of_the_scheme() {
        for (value, token) in [
            ("Bearer abc", Some("abc")),
            ("bearer abc", Some("abc")),
            ("BEARER abc", Some("abc")),
            ("Bearer   abc  ", Some("abc")),
            ("Bearer a.b-c_d~e+f/g==", Some("a.b-c_d~e+f/g==")),
            ("Bearer ", None),
            ("Bearer", None),
            ("Bearerabc", None),
            ("Basic YWxhZGRpbjpvcGVuc2VzYW1l", None),
            ("Token abc", None),
            ("", None),
        ] {
            assert_eq!(
                bearer(&headers(&[("authorization", value)])),
                token,
                "{value:?}"
            );
        }
        // Only the first Authorization header counts.
        let two = headers(&[("authorization", "Basic x"), ("authorization", "Bearer y")]);
        assert_eq!(bearer(&two), None);
    }

    #[test]
    fn the_first_token_cookie_wins() {
        let h = headers(&[(
            "cookie",
            "wirelab_token=path-specific; wirelab_token=site-wide",
        )]);
        assert_eq!(cookie(&h, TOKEN_COOKIE), Some("path-specific"));
        // HTTP/2 may split cookies into several headers (RFC 9113 §8.2.3).
        let h = headers(&[("cookie", "a=1"), ("cookie", " wirelab_token = t ; b=2")]);
        assert_eq!(cookie(&h, TOKEN_COOKIE), Some("t"));
        // A longer or shorter name, or a pair without `=`, is another cookie.
        let h = headers(&[(
            "cookie",
            "xwirelab_token=1; wirelab_tokens=2; wirelab_token",
        )]);
        assert_eq!(cookie(&h, TOKEN_COOKIE), None);
    }

    #[test]
    fn tokens_come_from_query_header_or_cookie() {
        let h = headers(&[("cookie", "a=1; wirelab_token=from-cookie")]);
        assert_eq!(token(&h, None), Some("from-cookie"));
        assert_eq!(token(&h, Some("from-query")), Some("from-query"));
        let h = headers(&[("authorization", "Bearer from-header")]);
        assert_eq!(token(&h, None), Some("from-header"));
        assert_eq!(token(&HeaderMap::new(), None), None);
    }
}
