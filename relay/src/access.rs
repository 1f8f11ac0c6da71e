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
use std::fmt;
use std::net::{IpAddr, SocketAddr};

/// The name of the cookie that carries a student's token.
pub const TOKEN_COOKIE: &str = "wirelab_token";

/// A web origin: scheme, host and port, compared after normalisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub scheme: String,
    /// Lower case; IPv6 addresses without brackets.
    pub host: String,
    pub port: u16,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if Some(self.port) == default_port(&self.scheme) {
            write!(f, "{}://{host}", self.scheme)
        } else {
            write!(f, "{}://{host}:{}", self.scheme, self.port)
        }
    }
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        _ => None,
    }
}

/// Splits `host[:port]` or `[v6][:port]`.
fn split_authority(authority: &str) -> Option<(String, Option<u16>)> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse().ok()?),
            None if after.is_empty() => None,
            None => return None,
        };
        (host.to_string(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p.parse().ok()?)),
            None => (authority.to_string(), None),
        }
    };
    if host.is_empty() {
        return None;
    }
    Some((host.to_ascii_lowercase(), port))
}

/// The origin of an http(s) URL (`https://lab.example.edu/path` gives
/// `https://lab.example.edu`).
pub fn origin_of(url: &str) -> Result<Origin> {
    let Some((scheme, rest)) = url.trim().split_once("://") else {
        bail!("no scheme");
    };
    let scheme = scheme.to_ascii_lowercase();
    let Some(default) = default_port(&scheme).filter(|_| scheme.starts_with("http")) else {
        bail!("the scheme must be http or https");
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        bail!("an origin has no user name");
    }
    let Some((host, port)) = split_authority(authority) else {
        bail!("no host");
    };
    Ok(Origin {
        scheme,
        host,
        port: port.unwrap_or(default),
    })
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
            let mut names: Vec<String> = config
                .allowed_hosts
                .iter()
                .map(|h| h.trim().trim_end_matches('.').to_ascii_lowercase())
                .collect();
            names.extend(public.iter().map(|o| o.host.clone()));
            names.extend(allowed_origins.iter().map(|o| o.host.clone()));
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
        let Some((name, _)) = split_authority(host) else {
            return Err(Refusal::bad_request(format!(
                "the Host header {host:?} is not valid"
            )));
        };
        let name = name.trim_end_matches('.');
        if name.parse::<IpAddr>().is_ok()
            || name == "localhost"
            || name.ends_with(".localhost")
            || allowed.iter().any(|a| a == name)
        {
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
        let own = headers
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .and_then(split_authority);
        if let Some((host, port)) = own
            && host == origin.host
            && port.or(default_port(&origin.scheme)) == Some(origin.port)
        {
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

/// The token of `Authorization: Bearer <token>`.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
        .filter(|t| !t.is_empty())
}

/// The value of cookie `name`.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
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
        assert_eq!(o.port, 443);
        let o = origin_of("http://[::1]:8080").unwrap();
        assert_eq!((o.host.as_str(), o.port), ("::1", 8080));
        assert_eq!(o.to_string(), "http://[::1]:8080");
        assert!(origin_of("ftp://x").is_err());
        assert!(origin_of("http://user@x").is_err());
        assert!(origin_of("lab.example.edu").is_err());
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
    fn tokens_come_from_query_header_or_cookie() {
        let h = headers(&[("cookie", "a=1; wirelab_token=from-cookie")]);
        assert_eq!(token(&h, None), Some("from-cookie"));
        assert_eq!(token(&h, Some("from-query")), Some("from-query"));
        let h = headers(&[("authorization", "Bearer from-header")]);
        assert_eq!(token(&h, None), Some("from-header"));
        assert_eq!(token(&HeaderMap::new(), None), None);
    }
}
