//! `GET /api/cdn/route?from=<address>`: which CDN replica serves each image
//! of the origin's base page to a client at `from`, and why. The relay
//! plays that client from its loopback address (one of 127.0.0.0/8, which
//! stand for regions): it fetches `www.sina.com/sports/` from the origin,
//! asks the lab's authoritative servers for each image's host (the
//! provider's server for its alias, then the CDN's server, as a resolver
//! in the client's region would, so the CDN sees the client's address),
//! and fetches the image from the address the CDN gave. The JSON is
//! [`wirelab_shared::http::cdn_route::RouteReport`].
//!
//! Only the lab's own servers are reached (the catalog's `http`,
//! `dns-sina`, `dns-cdn` and the replicas' addresses), each step within
//! `limits.connect_timeout_secs`, each answer read to at most
//! [`MAX_RESPONSE`] bytes.

use crate::AppState;
use crate::catalog::target_addr;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, UdpSocket};
use wirelab_shared::dns::{Message, Name, Question, RData, RecordType};
use wirelab_shared::http::cdn::{ALIAS_HOST, BASE_PAGE, CDN_HOST, ORIGIN_HOST, replica_at};
use wirelab_shared::http::cdn_route::{ObjectRoute, RouteReport, image_urls, split_url};
use wirelab_shared::http::message::parse_head;

/// The most bytes read of one HTTP answer (the base page and the images
/// are a few kilobytes).
pub const MAX_RESPONSE: u64 = 256 * 1024;

#[derive(Debug, Deserialize)]
pub struct RouteQuery {
    pub from: String,
}

fn refuse(status: StatusCode, message: String) -> Response {
    (status, Json(serde_json::json!({ "message": message }))).into_response()
}

/// The lab's servers a route needs, from the catalog.
struct Servers {
    origin: SocketAddr,
    provider_dns: SocketAddr,
    cdn_dns: SocketAddr,
    wait: Duration,
}

pub async fn route(State(state): State<AppState>, Query(q): Query<RouteQuery>) -> Response {
    let client = match q.from.parse::<IpAddr>() {
        Ok(ip @ IpAddr::V4(v4)) if v4.is_loopback() => ip,
        _ => {
            return refuse(
                StatusCode::BAD_REQUEST,
                format!(
                    "from={:?}: give an address of 127.0.0.0/8 (127.0.x.x is New York, 127.1.x.x Paris)",
                    q.from
                ),
            );
        }
    };
    let address = |name: &str| state.catalog.get(name).and_then(target_addr);
    let (Some(origin), Some(provider_dns), Some(cdn_dns), Some(_)) = (
        address("http"),
        address("dns-sina"),
        address("dns-cdn"),
        state.catalog.get("cdn-ny"),
    ) else {
        return refuse(
            StatusCode::NOT_FOUND,
            "the CDN's servers (http, dns-sina, dns-cdn, cdn-ny) are not running on this relay"
                .into(),
        );
    };
    let servers = Servers {
        origin,
        provider_dns,
        cdn_dns,
        wait: state.config.limits.connect_timeout(),
    };
    Json(trace_route(client, &servers).await).into_response()
}

async fn trace_route(client: IpAddr, servers: &Servers) -> RouteReport {
    let mut report = RouteReport {
        client: client.to_string(),
        page: format!("http://{ORIGIN_HOST}:{}/sports/", servers.origin.port()),
        objects: Vec::new(),
        error: None,
    };
    let page = match http_get(client, servers.origin, ORIGIN_HOST, BASE_PAGE, servers.wait).await {
        Ok(answer) if answer.status == Some(200) => answer.body,
        Ok(answer) => {
            report.error = Some(format!("the origin answered {:?}", answer.status));
            return report;
        }
        Err(e) => {
            report.error = Some(format!("the origin: {e}"));
            return report;
        }
    };
    for url in image_urls(&String::from_utf8_lossy(&page)) {
        report
            .objects
            .push(follow_object(client, &url, servers).await);
    }
    report
}

/// One image: its host looked up from `client`, then fetched from there.
async fn follow_object(client: IpAddr, url: &str, servers: &Servers) -> ObjectRoute {
    let Some((host, port, path)) = split_url(url) else {
        let mut route = ObjectRoute::new(url, "");
        route.error = Some("not an http:// URL".into());
        return route;
    };
    let mut route = ObjectRoute::new(url, host);
    if let Err(e) = locate(client, host, servers, &mut route).await {
        route.error = Some(e);
        return route;
    }
    let Some(address) = route.address.as_deref().and_then(|a| a.parse().ok()) else {
        return route;
    };
    if replica_at(address).is_none() {
        route.error = Some(format!("{address} is no replica of the lab: not fetched"));
        return route;
    }
    match http_get(
        client,
        SocketAddr::new(address, port),
        host,
        path,
        servers.wait,
    )
    .await
    {
        Ok(answer) => {
            route.status = answer.status;
            route.server = answer.server;
        }
        Err(e) => route.error = Some(format!("the replica: {e}")),
    }
    route
}

/// Asks the provider's server for its alias (if `host` is one) and the
/// CDN's server for the CDN's name, both from `client`.
async fn locate(
    client: IpAddr,
    host: &str,
    servers: &Servers,
    route: &mut ObjectRoute,
) -> Result<(), String> {
    let cdn_name = if host.eq_ignore_ascii_case(CDN_HOST) {
        CDN_HOST.to_string()
    } else if host.eq_ignore_ascii_case(ALIAS_HOST) {
        let reply = ask_a(client, servers.provider_dns, host, servers.wait).await?;
        let target = reply
            .answers
            .iter()
            .find_map(|r| match &r.data {
                RData::Cname(target) => Some(target.to_string()),
                _ => None,
            })
            .ok_or_else(|| format!("dns.sina.com gave no CNAME for {host}"))?;
        let target = target.trim_end_matches('.').to_string();
        route.alias_of = Some(target.clone());
        target
    } else {
        return Err(format!("{host} is not a name of the lab's CDN"));
    };
    let reply = ask_a(client, servers.cdn_dns, &cdn_name, servers.wait).await?;
    let address = reply
        .answers
        .iter()
        .find_map(|r| match r.data {
            RData::A(a) => Some(IpAddr::V4(a)),
            _ => None,
        })
        .ok_or_else(|| format!("dns.cdn.com gave no address for {cdn_name}"))?;
    route.answered(client, address);
    Ok(())
}

/// One A query over UDP from `client` to `server`; the reply with the
/// query's ID from that server, within `wait`.
async fn ask_a(
    client: IpAddr,
    server: SocketAddr,
    name: &str,
    wait: Duration,
) -> Result<Message, String> {
    let name = Name::parse(name).map_err(|e| format!("{name}: {e}"))?;
    let id = (std::process::id() as u16) ^ 0x0cd0;
    let query = Message::query(id, Question::new(name, RecordType::A), false).to_bytes();
    let exchange = async {
        let socket = UdpSocket::bind(SocketAddr::new(client, 0)).await?;
        socket.send_to(&query, server).await?;
        let mut buffer = [0u8; 4096];
        loop {
            let (n, peer) = socket.recv_from(&mut buffer).await?;
            if peer != server {
                continue;
            }
            if let Ok(reply) = Message::parse(&buffer[..n])
                && reply.header.id == id
            {
                return Ok::<Message, std::io::Error>(reply);
            }
        }
    };
    match tokio::time::timeout(wait, exchange).await {
        Ok(Ok(reply)) => Ok(reply),
        Ok(Err(e)) => Err(format!("asking {server} from {client}: {e}")),
        Err(_) => Err(format!("{server} did not answer within {wait:?}")),
    }
}

/// What a web server answered.
struct HttpAnswer {
    status: Option<u16>,
    server: Option<String>,
    body: Vec<u8>,
}

/// `GET path` with `Host: host`, from `client` to `to`, over HTTP/1.0
/// (the answer ends with the connection), within `wait`.
async fn http_get(
    client: IpAddr,
    to: SocketAddr,
    host: &str,
    path: &str,
    wait: Duration,
) -> Result<HttpAnswer, String> {
    let printable = |s: &str| s.bytes().all(|b| b.is_ascii_graphic());
    if !printable(host) || !printable(path) {
        return Err("the URL has spaces or control characters".into());
    }
    let request = format!("GET {path} HTTP/1.0\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    let exchange = async {
        let socket = TcpSocket::new_v4()?;
        socket.bind(SocketAddr::new(client, 0))?;
        let mut stream = socket.connect(to).await?;
        stream.write_all(request.as_bytes()).await?;
        let mut bytes = Vec::new();
        (&mut stream)
            .take(MAX_RESPONSE)
            .read_to_end(&mut bytes)
            .await?;
        Ok::<Vec<u8>, std::io::Error>(bytes)
    };
    let bytes = match tokio::time::timeout(wait, exchange).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(e)) => return Err(format!("GET {path} from {to}: {e}")),
        Err(_) => return Err(format!("{to} did not answer within {wait:?}")),
    };
    let head = parse_head(&bytes);
    let server = head
        .fields(&bytes)
        .iter()
        .find(|f| f.name.eq_ignore_ascii_case("Server"))
        .map(|f| f.value.clone());
    Ok(HttpAnswer {
        status: head.status(&bytes),
        server,
        body: bytes.get(head.end..).unwrap_or_default().to_vec(),
    })
}
