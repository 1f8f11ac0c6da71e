//! What a forward proxy does to the messages it passes on, without I/O:
//! reading a client's absolute-form request (RFC 9112 §3.2.2) and refusing
//! what it will not forward (CONNECT, origin-form, a malformed URI, a loop
//! through itself), writing the request it sends the origin (its own
//! fields, `Via`, the conditional fields of a revalidation), and writing
//! the response the client gets with `Via`, `Age` and `Cache-Status`.
//!
//! The caller frames the bytes ([`super::frame`]), decides where the origin
//! may be and connects; [`super::cache_store`] decides about the cache.

use super::cache::{Fields, hop_by_hop, value_of, values_of};
use super::frame::{Frame, body_bytes};
use super::message::{StartLine, Version, parse_head, text};

/// Longest host name accepted in a URI (RFC 1035's 253, with room for a
/// bracketed IPv6 literal).
const MAX_HOST_LEN: usize = 255;

/// Where an absolute-form request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// Lower case; an IPv6 literal keeps its brackets off.
    pub host: String,
    pub port: u16,
    /// The origin-form target sent upstream: path and query, at least `/`.
    pub path: String,
}

impl Origin {
    /// The URI the cache keys on: `http://host[:port]/path?query`, the
    /// port left out when it is 80.
    pub fn uri(&self) -> String {
        format!("http://{}{}", self.authority(), self.path)
    }

    /// `host[:port]`, as the Host field gives it.
    pub fn authority(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == 80 {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

/// A request the proxy will forward.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyRequest {
    pub method: String,
    pub version: Version,
    pub origin: Origin,
    /// The fields as the client sent them.
    pub fields: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The client's connection stays open after the answer.
    pub keep_alive: bool,
}

impl ProxyRequest {
    /// `GET http://host/path HTTP/1.1`, as the log shows it.
    pub fn line(&self) -> String {
        format!(
            "{} {} {}",
            self.method,
            self.origin.uri(),
            self.version.as_str()
        )
    }
}

/// Why the proxy answers a request itself, without going to an origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// CONNECT makes a tunnel the cache could not see into.
    Connect,
    /// `GET /index.html`: a request for a server, not a proxy.
    OriginForm,
    /// The request line or the URI cannot be read; says what is wrong.
    Malformed(String),
    /// A version other than HTTP/1.0 or HTTP/1.1.
    Version,
    /// The request came through this proxy already.
    Loop,
}

impl Refusal {
    pub fn status(&self) -> u16 {
        match self {
            Refusal::Connect => 405,
            Refusal::OriginForm | Refusal::Malformed(_) => 400,
            Refusal::Version => 505,
            // As squid answers a forwarding loop: 508 is WebDAV's.
            Refusal::Loop => 403,
        }
    }

    /// The sentence the client reads.
    pub fn message(&self) -> String {
        match self {
            Refusal::Connect => "This proxy does not make CONNECT tunnels: it is a web cache for \
                 plain HTTP, and a tunnel (for https) is opaque to a cache. Ask for \
                 http:// URLs in absolute form."
                .into(),
            Refusal::OriginForm => "This is a proxy: send the whole URL in the request line \
                 (absolute form, `GET http://host:port/path HTTP/1.1`, RFC 9112 §3.2.2), \
                 not just the path. Set it as your client's HTTP proxy, e.g. `curl -x`."
                .into(),
            Refusal::Malformed(why) => format!("The request's URL cannot be used: {why}."),
            Refusal::Version => "This proxy speaks HTTP/1.0 and HTTP/1.1.".into(),
            Refusal::Loop => "This request has already been through this proxy (its own \
                 address, or its own name in Via): forwarding it would loop for ever."
                .into(),
        }
    }
}

/// Reads the framed request at the front of `buf`. `via_name` is the
/// proxy's own received-by name (`127.0.0.1:3128`): a request that carries
/// it in `Via` is a loop.
pub fn read_request(buf: &[u8], frame: &Frame, via_name: &str) -> Result<ProxyRequest, Refusal> {
    let head = parse_head(&buf[..frame.head_end]);
    let StartLine::Request {
        method,
        target,
        version,
        ..
    } = head.start
    else {
        return Err(Refusal::Malformed(
            "the first line is not a request line".into(),
        ));
    };
    let method = text(buf, method).to_string();
    let version = version
        .and_then(|v| Version::parse(text(buf, v)).ok())
        .ok_or(Refusal::Version)?;
    if method.eq_ignore_ascii_case("CONNECT") {
        return Err(Refusal::Connect);
    }
    let target = text(buf, target);
    if target.starts_with('/') || target == "*" {
        return Err(Refusal::OriginForm);
    }
    let origin = parse_absolute(target).map_err(|why| Refusal::Malformed(why.into()))?;
    let fields: Vec<(String, String)> = head
        .fields(buf)
        .into_iter()
        .map(|f| (f.name.to_string(), f.value.trim().to_string()))
        .collect();
    if came_through(&fields, via_name) {
        return Err(Refusal::Loop);
    }
    let keep_alive = version == Version::Http11 && !wants_close(&fields);
    Ok(ProxyRequest {
        method,
        version,
        origin,
        body: body_bytes(&buf[..frame.len], frame),
        fields,
        keep_alive,
    })
}

fn wants_close(fields: &Fields) -> bool {
    ["connection", "proxy-connection"].iter().any(|name| {
        values_of(fields, name)
            .iter()
            .flat_map(|v| v.split(','))
            .any(|o| o.trim().eq_ignore_ascii_case("close"))
    })
}

/// Whether `Via` names this proxy among the ones the message went through.
pub fn came_through(fields: &Fields, via_name: &str) -> bool {
    values_of(fields, "via")
        .iter()
        .flat_map(|v| v.split(','))
        .filter_map(|hop| hop.split_whitespace().nth(1))
        .any(|received_by| received_by.eq_ignore_ascii_case(via_name))
}

/// Splits `http://host[:port][/path][?query]` (RFC 9110 §4.2.1).
pub fn parse_absolute(uri: &str) -> Result<Origin, &'static str> {
    if uri.bytes().any(|b| b <= b' ' || b >= 0x7f) {
        return Err("a URL may not hold spaces, control characters or raw non-ASCII bytes");
    }
    let Some((scheme, rest)) = uri.split_once("://") else {
        return Err("it is not an absolute URL (`http://host/path`)");
    };
    if !scheme.eq_ignore_ascii_case("http") {
        return Err("this proxy fetches http:// URLs only");
    }
    let split = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(split);
    if authority.contains('@') {
        return Err("user names and passwords in the URL are not forwarded");
    }
    let (host, port) = split_authority(authority)?;
    let path = path.split('#').next().unwrap_or("");
    let path = match path {
        "" => "/".to_string(),
        p if p.starts_with('?') => format!("/{p}"),
        p => p.to_string(),
    };
    Ok(Origin { host, port, path })
}

fn split_authority(authority: &str) -> Result<(String, u16), &'static str> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (v6, after) = rest
            .split_once(']')
            .ok_or("an IPv6 address without its `]`")?;
        if v6.parse::<std::net::Ipv6Addr>().is_err() {
            return Err("the address in brackets is not an IPv6 address");
        }
        (v6, after.strip_prefix(':'))
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let valid_host = host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b':');
    if host.is_empty() || host.len() > MAX_HOST_LEN || !valid_host {
        return Err("the URL has no usable host name");
    }
    let port = match port {
        None | Some("") => 80,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|&p| p != 0)
            .ok_or("the port is not a number from 1 to 65535")?,
    };
    Ok((host.to_ascii_lowercase(), port))
}

/// Request fields a proxy replaces when it revalidates with its own.
const CONDITIONAL: [&str; 5] = [
    "if-none-match",
    "if-modified-since",
    "if-match",
    "if-unmodified-since",
    "if-range",
];

/// The request to send the origin: origin-form, the client's end-to-end
/// fields (without its validators when `conditional` replaces them),
/// `Host`, and `Via` with this proxy added. No `Connection: close`: the
/// caller may keep the origin connection for the next request.
pub fn upstream_request(
    request: &ProxyRequest,
    conditional: &[(String, String)],
    via_name: &str,
) -> Vec<u8> {
    let mut out = format!(
        "{} {} HTTP/1.1\r\nHost: {}\r\n",
        request.method,
        request.origin.path,
        request.origin.authority()
    );
    let replaced = |name: &str| {
        let lower = name.to_ascii_lowercase();
        lower == "host"
            || lower == "via"
            || lower == "content-length"
            // The whole body is here already: no 100 Continue to wait for.
            || lower == "expect"
            || (!conditional.is_empty() && CONDITIONAL.contains(&lower.as_str()))
    };
    for (name, value) in &request.fields {
        if !hop_by_hop(name, &request.fields) && !replaced(name) {
            out.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    for (name, value) in conditional {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!(
        "Via: {}\r\n",
        via_value(&request.fields, request.version, via_name)
    ));
    if !request.body.is_empty() || request.method == "POST" || request.method == "PUT" {
        out.push_str(&format!("Content-Length: {}\r\n", request.body.len()));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&request.body);
    bytes
}

/// `Via` as received with this proxy's hop added (RFC 9110 §7.6.3).
fn via_value(fields: &Fields, version: Version, via_name: &str) -> String {
    let protocol = match version {
        Version::Http10 => "1.0",
        Version::Http11 => "1.1",
    };
    let ours = format!("{protocol} {via_name} (wirelab)");
    let before = values_of(fields, "via").join(", ");
    if before.is_empty() {
        ours
    } else {
        format!("{before}, {ours}")
    }
}

/// An origin's response, read from the bytes of one framed response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginResponse {
    pub status: u16,
    pub reason: String,
    /// End-to-end fields only: the origin connection's own are dropped.
    /// Content-Length stays: a HEAD answer passes it on.
    pub fields: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The origin keeps the connection open after it (HTTP/1.1 without
    /// `Connection: close`).
    pub keep_alive: bool,
}

/// Reads the response framed at the front of `buf` (its body de-chunked).
pub fn read_response(buf: &[u8], frame: &Frame) -> Option<OriginResponse> {
    let head = parse_head(&buf[..frame.head_end]);
    let StartLine::Status { code, reason, .. } = head.start else {
        return None;
    };
    let status = text(buf, code)
        .parse::<u16>()
        .ok()
        .filter(|s| (100..600).contains(s))?;
    let all: Vec<(String, String)> = head
        .fields(buf)
        .into_iter()
        .map(|f| (f.name.to_string(), f.value.trim().to_string()))
        .collect();
    let fields = all
        .iter()
        .filter(|(name, _)| !hop_by_hop(name, &all))
        .cloned()
        .collect();
    let http11 = head.version_text(buf) == Some("HTTP/1.1");
    Some(OriginResponse {
        status,
        keep_alive: http11 && !wants_close(&all),
        reason: text(buf, reason).to_string(),
        fields,
        body: body_bytes(&buf[..frame.len], frame),
    })
}

/// What the client is sent, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery<'a> {
    pub version: Version,
    pub head_only: bool,
    pub keep_alive: bool,
    pub age: u64,
    pub cache_status: &'a str,
    pub via_name: &'a str,
}

/// The response the client gets: the origin's (or the stored) status,
/// fields and body, with `Age`, `Via` and `Cache-Status` set by this proxy.
/// The body goes with its Content-Length (it arrived whole, de-chunked);
/// an answer to HEAD keeps the origin's Content-Length and has no body.
pub fn client_response(
    status: u16,
    reason: &str,
    fields: &Fields,
    body: &[u8],
    delivery: Delivery,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(512 + body.len());
    out.extend_from_slice(format!("HTTP/1.1 {status} {reason}\r\n").as_bytes());
    let replaced = ["age", "via", "cache-status", "content-length"];
    for (name, value) in fields {
        if !replaced.iter().any(|r| name.eq_ignore_ascii_case(r)) {
            put_field(&mut out, name, value);
        }
    }
    let cache_status = values_of(fields, "cache-status")
        .into_iter()
        .chain([delivery.cache_status])
        .collect::<Vec<_>>()
        .join(", ");
    put_field(&mut out, "Age", &delivery.age.to_string());
    let via = via_value(fields, delivery.version, delivery.via_name);
    put_field(&mut out, "Via", &via);
    put_field(&mut out, "Cache-Status", &cache_status);
    if !delivery.keep_alive {
        put_field(&mut out, "Connection", "close");
    }
    let bodiless = (100..200).contains(&status) || status == 204 || status == 304;
    if !bodiless {
        let length = match value_of(fields, "content-length") {
            Some(origin_length) if delivery.head_only => origin_length.to_string(),
            _ => body.len().to_string(),
        };
        put_field(&mut out, "Content-Length", &length);
    }
    out.extend_from_slice(b"\r\n");
    if !bodiless && !delivery.head_only {
        out.extend_from_slice(body);
    }
    out
}

fn put_field(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// The proxy's own answer (a refusal, an unreachable origin), as plain
/// text with the sentence that says why.
pub fn error_response(status: u16, message: &str, delivery: Delivery) -> Vec<u8> {
    let fields = vec![(
        "Content-Type".to_string(),
        "text/plain; charset=utf-8".to_string(),
    )];
    let body = format!("{message}\n");
    let reason = super::status::reason_phrase(status).unwrap_or("Error");
    client_response(status, reason, &fields, body.as_bytes(), delivery)
}

#[cfg(test)]
mod tests;
