//! The relay behind real nginx, configured by `docs/hosting/nginx.conf` as
//! it ships (only its name, ports, certificate and upstream changed), all on
//! loopback: the page over TLS, a WebSocket round trip to the uppercase
//! server through the proxy's `/ws`, and the client's address as the relay
//! sees it. nginx reaches the relay from 127.0.0.2, the one trusted proxy;
//! students come from other 127.x addresses and write lies into
//! `X-Forwarded-For`. With one connection allowed per client address, which
//! session the relay refuses, and the address its refusal names, show whom
//! it counted.

mod common;

use common::{TestRelay, expect_connected, expect_error, next_bytes, send_bytes};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{ClientConfig, RootCertStore, crypto::ring};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use wirelab_shared::relay_protocol::ErrorCode;

/// The name students type, as the certificate and `public_url` give it.
const NAME: &str = "lab.test";
/// nginx's own address toward the relay (`proxy_bind`): the trusted proxy.
const PROXY: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
/// Two students' machines and one that goes around the proxy.
const ALICE: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 3);
const BOB: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 4);
const SNEAK: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 5);
/// What the students write into `X-Forwarded-For` themselves.
const LIE: &str = "203.0.113.66";
/// In the built page the test serves, to recognise it through the proxy.
const PAGE_MARK: &str = "<title>wirelab behind nginx</title>";

#[tokio::test]
async fn the_page_ws_and_client_addresses_work_through_nginx() {
    let Some(nginx_bin) = wirelab_testkit::require_tool("nginx", "nginx-light") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (https, http) = (free_port(), free_port());
    let dist = built_page(dir.path());
    let relay = common::start(|c| {
        c.dist = dist;
        c.public_url = Some(format!("https://{NAME}:{https}"));
        c.trusted_proxies = vec![PROXY.to_string().parse().unwrap()];
        c.limits.max_connections_per_client = 1;
    })
    .await;
    let tls = certificate(dir.path());
    let _nginx = Nginx::start(&nginx_bin, dir.path(), relay.relay.addr, https, http);

    the_page_comes_over_tls(&tls, https, http).await;
    the_client_is_who_connected_to_nginx(&tls, https, &relay).await;
}

/// The page and the relay's 404 come back through TLS; plain HTTP is sent
/// to HTTPS.
async fn the_page_comes_over_tls(tls: &TlsConnector, https: u16, http: u16) {
    let (status, body) = get(tls, https, "/").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(PAGE_MARK), "{body}");
    let (status, body) = get(tls, https, "/http").await;
    assert!(status == 200 && body.contains(PAGE_MARK), "{status} {body}");
    let (status, _) = get(tls, https, "/no-such-page").await;
    assert_eq!(status, 404, "the relay's 404 passes through");
    let (status, head) = plain_get(http, "/").await;
    assert_eq!(status, 301, "{head}");
    assert!(
        head.contains(&format!("Location: https://{NAME}/")),
        "{head}"
    );
}

/// Alice's lie is ignored and her real address counted; Bob, through the
/// same proxy, is someone else; a client going around the proxy is not
/// believed at all.
async fn the_client_is_who_connected_to_nginx(tls: &TlsConnector, https: u16, relay: &TestRelay) {
    let mut alice = open_via_nginx(tls, https, ALICE).await;
    expect_connected(&mut alice).await;
    send_bytes(&mut alice, b"hello through nginx\n").await;
    assert_eq!(next_bytes(&mut alice).await, b"HELLO THROUGH NGINX\n");

    let mut again = open_via_nginx(tls, https, ALICE).await;
    let (code, message) = expect_error(&mut again).await;
    assert_eq!(code, ErrorCode::Limit, "{message}");
    assert!(
        message.contains(&format!("your address ({ALICE})")),
        "the relay counted someone else: {message}"
    );
    assert!(!message.contains(LIE) && !message.contains(&PROXY.to_string()));

    let mut bob = open_via_nginx(tls, https, BOB).await;
    expect_connected(&mut bob).await;

    // Straight to the relay, claiming to be Alice (whose one slot is
    // taken): the claim is not believed, so the sneak is let in as itself.
    let mut sneak = open_direct(relay.relay.addr, SNEAK, &ALICE.to_string()).await;
    expect_connected(&mut sneak).await;
    let mut sneak_again = open_direct(relay.relay.addr, SNEAK, LIE).await;
    let (code, message) = expect_error(&mut sneak_again).await;
    assert_eq!(code, ErrorCode::Limit, "{message}");
    assert!(
        message.contains(&format!("your address ({SNEAK})")),
        "{message}"
    );
}

/// A `dist/` with a recognisable page in it.
fn built_page(dir: &Path) -> PathBuf {
    let dist = dir.join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    let page = format!("<!doctype html><html><head>{PAGE_MARK}</head><body></body></html>");
    std::fs::write(dist.join("index.html"), page).unwrap();
    dist
}

/// A self-signed certificate for [`NAME`] written where nginx reads it,
/// and a TLS client that trusts it alone.
fn certificate(dir: &Path) -> TlsConnector {
    let made = rcgen::generate_simple_self_signed(vec![NAME.to_string()]).unwrap();
    std::fs::write(dir.join("cert.pem"), made.cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), made.signing_key.serialize_pem()).unwrap();
    let mut roots = RootCertStore::empty();
    roots.add(made.cert.der().clone()).unwrap();
    // ring is deprecated for lacking post-quantum key exchange, which a
    // loopback test does not need; aws-lc-rs, which has it, needs cmake.
    #[allow(deprecated)]
    let provider = ring::default_provider();
    let config = ClientConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

/// A TCP connection from `from` (a 127.x address) to `to`.
async fn connect_from(from: Ipv4Addr, to: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from((from, 0))).unwrap();
    socket.connect(to).await.unwrap()
}

async fn tls_from(tls: &TlsConnector, from: Ipv4Addr, https: u16) -> TlsStream<TcpStream> {
    let tcp = connect_from(from, SocketAddr::from((Ipv4Addr::LOCALHOST, https))).await;
    let name = ServerName::try_from(NAME).unwrap();
    tls.connect(name, tcp).await.expect("nginx's certificate")
}

/// `/ws?target=upper-tcp` through nginx from `from`, as a browser on the
/// lab's page opens it, with a lie in `X-Forwarded-For`.
async fn open_via_nginx(
    tls: &TlsConnector,
    https: u16,
    from: Ipv4Addr,
) -> WebSocketStream<TlsStream<TcpStream>> {
    let url = format!("wss://{NAME}:{https}/ws?target=upper-tcp");
    let origin = format!("https://{NAME}:{https}");
    let stream = tls_from(tls, from, https).await;
    let request = ws_request(&url, &[("Origin", &origin), ("X-Forwarded-For", LIE)]);
    tokio_tungstenite::client_async(request, stream)
        .await
        .expect("the upgrade through nginx")
        .0
}

/// `/ws?target=upper-tcp` straight to the relay from `from`, claiming to
/// be `claimed`.
async fn open_direct(
    relay: SocketAddr,
    from: Ipv4Addr,
    claimed: &str,
) -> WebSocketStream<TcpStream> {
    let url = format!("ws://{relay}/ws?target=upper-tcp");
    let request = ws_request(&url, &[("X-Forwarded-For", claimed)]);
    tokio_tungstenite::client_async(request, connect_from(from, relay).await)
        .await
        .expect("the upgrade")
        .0
}

fn ws_request(
    url: &str,
    headers: &[(&'static str, &str)],
) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    let mut request = url.into_client_request().unwrap();
    let fields = request.headers_mut();
    fields.insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("wirelab.v1"),
    );
    for (name, value) in headers {
        fields.insert(*name, HeaderValue::from_str(value).unwrap());
    }
    request
}

/// A GET over TLS through nginx: the status and the body.
async fn get(tls: &TlsConnector, https: u16, path: &str) -> (u16, String) {
    let mut stream = tls_from(tls, ALICE, https).await;
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {NAME}:{https}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let (status, response) = read_response(&mut stream).await;
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_string());
    (status, body.unwrap_or_default())
}

/// A GET to nginx's plain HTTP port: the status and the whole response.
async fn plain_get(http: u16, path: &str) -> (u16, String) {
    let to = SocketAddr::from((Ipv4Addr::LOCALHOST, http));
    let mut stream = connect_from(ALICE, to).await;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {NAME}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    read_response(&mut stream).await
}

async fn read_response(stream: &mut (impl AsyncReadExt + Unpin)) -> (u16, String) {
    let mut bytes = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut bytes))
        .await
        .expect("nginx answers within 5 s")
        .expect("the response");
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, text)
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    listener.local_addr().unwrap().port()
}

/// nginx in the foreground on `dir`, as one process, killed when dropped.
struct Nginx {
    child: Child,
}

impl Nginx {
    fn start(program: &Path, dir: &Path, relay: SocketAddr, https: u16, http: u16) -> Nginx {
        let site = dir.join("wirelab.conf");
        std::fs::write(&site, site_config(dir, relay, https, http)).unwrap();
        let main = dir.join("nginx.conf");
        std::fs::write(&main, main_config(dir, &site)).unwrap();
        let error_log = dir.join("error.log");
        let child = Command::new(program)
            .arg("-p")
            .arg(dir)
            .arg("-c")
            .arg(&main)
            .arg("-e")
            .arg(&error_log)
            .stdin(Stdio::null())
            .spawn()
            .expect("nginx starts");
        let mut nginx = Nginx { child };
        nginx.wait_listening(https, &error_log);
        nginx
    }

    /// Waits up to 10 s for nginx to accept, failing with its error log if
    /// it stopped instead.
    fn wait_listening(&mut self, port: u16, error_log: &Path) {
        for _ in 0..100 {
            if std::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                let log = std::fs::read_to_string(error_log).unwrap_or_default();
                panic!("nginx stopped ({status}):\n{log}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("nginx did not listen on {port} within 10 s");
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `docs/hosting/nginx.conf` with the test's name, ports, certificate and
/// relay. Each change must find its text, so the test fails if the shipped
/// file changes under it rather than testing something else.
fn site_config(dir: &Path, relay: SocketAddr, https: u16, http: u16) -> String {
    let shipped = wirelab_testkit::workspace_root().join("docs/hosting/nginx.conf");
    let mut text = std::fs::read_to_string(&shipped).unwrap();
    let live = "/etc/letsencrypt/live/lab.example.edu";
    let changes = [
        (
            format!("{live}/fullchain.pem"),
            dir.join("cert.pem").display().to_string(),
        ),
        (
            format!("{live}/privkey.pem"),
            dir.join("key.pem").display().to_string(),
        ),
        ("lab.example.edu".into(), NAME.into()),
        ("server 127.0.0.1:8080;".into(), format!("server {relay};")),
        (
            "listen 443 ssl;".into(),
            format!("listen 127.0.0.1:{https} ssl;"),
        ),
        ("listen 80;".into(), format!("listen 127.0.0.1:{http};")),
    ];
    for (from, to) in changes {
        assert!(
            text.contains(&from),
            "{} no longer has {from:?}",
            shipped.display()
        );
        text = text.replace(&from, &to);
    }
    // The test machine may have no IPv6 loopback.
    text.lines()
        .filter(|line| !line.trim_start().starts_with("listen [::]"))
        .map(|line| format!("{line}\n"))
        .collect()
}

/// The rest of an nginx.conf around the site: everything in `dir`, and
/// nginx's connections to the relay from [`PROXY`]. One process, no
/// workers: killing it when the test ends leaves nothing behind (a master
/// killed outright leaves its workers running, holding the ports).
fn main_config(dir: &Path, site: &Path) -> String {
    let dir = dir.display();
    format!(
        "master_process off;\ndaemon off;\npid {dir}/nginx.pid;\n\
         error_log {dir}/error.log;\nevents {{ worker_connections 64; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {dir}/body;\n  \
         proxy_temp_path {dir}/proxy;\n  fastcgi_temp_path {dir}/fastcgi;\n  \
         uwsgi_temp_path {dir}/uwsgi;\n  scgi_temp_path {dir}/scgi;\n  \
         proxy_bind {PROXY};\n  include {site};\n}}\n",
        site = site.display()
    )
}
