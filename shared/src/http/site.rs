//! The reference web server's site: the course's pages and images, and the
//! behaviours the chapter teaches (conditional GET, redirects, Basic
//! authentication, cookies, sessions, forms, chunks, PUT and DELETE).
//!
//! [`WebSite::respond`] turns one well-formed request into a response; the
//! connection engine ([`super::server`]) handles framing, persistence,
//! pipelining and timing around it. Shared state (sessions, uploads) sits
//! behind `Mutex`es so one `WebSite` serves every connection.

use super::cgi;
use super::cookie::cookie_value;
use super::date;
use super::message::Version;
use super::response::{Body, Response, escape};
use super::store::{FileStore, UploadName};
use super::url::{percent_decode, split_target};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// A file of the demo site.
#[derive(Debug, Clone)]
pub struct StaticFile {
    pub content_type: &'static str,
    /// Borrowed for the embedded files; owned for pages made at start
    /// (the CDN's, which name the port the replicas got).
    pub body: Cow<'static, [u8]>,
    /// Seconds since the Unix epoch.
    pub last_modified: i64,
    /// Its `ETag` and `Last-Modified` values, worked out once: the files
    /// never change, and hashing the body for every GET showed at the top of
    /// the serving path's profile.
    etag: String,
    last_modified_imf: String,
}

impl StaticFile {
    pub fn new(content_type: &'static str, body: &'static [u8], last_modified: i64) -> Self {
        Self::from_body(content_type, Cow::Borrowed(body), last_modified)
    }

    /// A file made at run time.
    pub fn owned(content_type: &'static str, body: Vec<u8>, last_modified: i64) -> Self {
        Self::from_body(content_type, Cow::Owned(body), last_modified)
    }

    fn from_body(content_type: &'static str, body: Cow<'static, [u8]>, last_modified: i64) -> Self {
        StaticFile {
            content_type,
            etag: etag_of(&body),
            body,
            last_modified,
            last_modified_imf: date::format_imf(last_modified),
        }
    }
}

/// `Mon, 22 Jun 1998 09:23:24 GMT`: the kiwi's date in the textbook.
pub const KIWI_LAST_MODIFIED: i64 = 898_507_404;
/// `Tue, 30 Oct 2007 17:00:02 GMT`: the slides' Last-Modified.
pub const PAGES_LAST_MODIFIED: i64 = 1_193_763_602;

macro_rules! asset {
    ($path:literal) => {
        include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/http/", $path))
    };
}

/// The demo site's files by path.
pub fn demo_files() -> BTreeMap<&'static str, StaticFile> {
    let html = |body| StaticFile::new("text/html; charset=utf-8", body, PAGES_LAST_MODIFIED);
    let jpeg = |body| StaticFile::new("image/jpeg", body, PAGES_LAST_MODIFIED);
    let mut files = BTreeMap::new();
    files.insert("/index.html", html(asset!("index.html")));
    files.insert("/somedir/page.html", html(asset!("somedir/page.html")));
    files.insert("/~ross/index.html", html(asset!("ross-index.html")));
    files.insert("/ross/index.html", html(asset!("ross/index.html")));
    // The slides' form, in the slides' charset, so it sends %E0 for à as
    // they show; the UTF-8 copy sends %C3%A0 (see `cgi`).
    files.insert(
        "/form.html",
        StaticFile::new(
            "text/html; charset=iso-8859-1",
            asset!("form.html"),
            PAGES_LAST_MODIFIED,
        ),
    );
    files.insert("/form-utf8.html", html(asset!("form-utf8.html")));
    files.insert("/private/index.html", html(asset!("private/index.html")));
    files.insert(
        "/someDepartment/home.index",
        html(asset!("someDepartment/home.index")),
    );
    files.insert(
        "/fruit/kiwi.gif",
        StaticFile::new("image/gif", asset!("kiwi.gif"), KIWI_LAST_MODIFIED),
    );
    let pictures: [&'static [u8]; 10] = [
        asset!("pic01.jpg"),
        asset!("pic02.jpg"),
        asset!("pic03.jpg"),
        asset!("pic04.jpg"),
        asset!("pic05.jpg"),
        asset!("pic06.jpg"),
        asset!("pic07.jpg"),
        asset!("pic08.jpg"),
        asset!("pic09.jpg"),
        asset!("pic10.jpg"),
    ];
    const PICTURE_PATHS: [&str; 10] = [
        "/someDepartment/img/pic01.jpg",
        "/someDepartment/img/pic02.jpg",
        "/someDepartment/img/pic03.jpg",
        "/someDepartment/img/pic04.jpg",
        "/someDepartment/img/pic05.jpg",
        "/someDepartment/img/pic06.jpg",
        "/someDepartment/img/pic07.jpg",
        "/someDepartment/img/pic08.jpg",
        "/someDepartment/img/pic09.jpg",
        "/someDepartment/img/pic10.jpg",
    ];
    for (path, body) in PICTURE_PATHS.iter().zip(pictures) {
        files.insert(*path, jpeg(body));
    }
    files
}

/// The strong entity tag of a body: a hash, quoted.
pub fn etag_of(body: &[u8]) -> String {
    let hash = body.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    });
    format!("\"{:x}-{hash:016x}\"", body.len())
}

/// Who may enter `/private/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub user: String,
    pub password: String,
    pub realm: String,
}

/// The most server-side sessions kept; the oldest go first.
const MAX_SESSIONS: usize = 10_000;
/// A session ends after this many visits (the course's example).
pub const SESSION_VISITS: u32 = 10;
/// The longest `/delay/<ms>`.
pub const MAX_DELAY_MS: u64 = 10_000;

#[derive(Debug, Default)]
struct Sessions {
    by_id: HashMap<String, SessionEntry>,
    next: u64,
}

#[derive(Debug, Clone)]
struct SessionEntry {
    visits: u32,
    created_unix: i64,
    order: u64,
}

/// The site and its state, shared by every connection.
pub struct WebSite {
    pub server_header: String,
    pub files: BTreeMap<&'static str, StaticFile>,
    pub redirects: BTreeMap<&'static str, &'static str>,
    pub credentials: Credentials,
    pub uploads: Arc<dyn FileStore>,
    /// Most bytes `/upload/` may hold.
    pub upload_quota: u64,
    /// Seconds a persistent connection may sit idle (advertised in Keep-Alive).
    pub keep_alive_secs: u64,
    sessions: Mutex<Sessions>,
}

/// What the site needs to know about the request beyond its bytes.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// The client's IP address (REMOTE_ADDR).
    pub remote_addr: String,
    /// The server's own address, when Host is missing (SERVER_NAME).
    pub local_addr: String,
    /// The port the request came in on (SERVER_PORT), when there is a socket.
    pub local_port: Option<u16>,
    /// Wall-clock seconds since the Unix epoch.
    pub now_unix: i64,
}

/// One well-formed request, as the site sees it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub target: String,
    pub version: Version,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The request exactly as received (for /echo).
    pub raw: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether a comma-separated header (Connection, TE) holds `token`.
    pub fn header_has_token(&self, name: &str, token: &str) -> bool {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .flat_map(|(_, v)| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }
}

/// The site's answer: a response, possibly delayed.
#[derive(Debug, Clone)]
pub struct Reply {
    pub response: Response,
    /// Send it only after this many milliseconds (`/delay/<ms>`).
    pub delay_ms: u64,
}

impl From<Response> for Reply {
    fn from(response: Response) -> Self {
        Reply {
            response,
            delay_ms: 0,
        }
    }
}

const STANDARD_METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "CONNECT", "PATCH",
];

impl WebSite {
    pub fn new(uploads: Arc<dyn FileStore>, credentials: Credentials) -> WebSite {
        let mut redirects = BTreeMap::new();
        redirects.insert("/old/page.html", "/somedir/page.html");
        redirects.insert("/~ross", "/~ross/");
        redirects.insert("/private", "/private/");
        redirects.insert("/upload", "/upload/");
        WebSite {
            server_header: format!(
                "wirelab/{} (reference web server)",
                env!("CARGO_PKG_VERSION")
            ),
            files: demo_files(),
            redirects,
            credentials,
            uploads,
            upload_quota: 10 * 1024 * 1024,
            keep_alive_secs: 60,
            sessions: Mutex::new(Sessions::default()),
        }
    }

    /// The lab's default credentials for `/private/`.
    pub fn default_credentials() -> Credentials {
        Credentials {
            user: "student".into(),
            password: "wirelab".into(),
            realm: "wirelab private area".into(),
        }
    }

    /// Answers one request.
    pub fn respond(&self, req: &Request, ctx: &RequestContext) -> Reply {
        if !STANDARD_METHODS.contains(&req.method.as_str()) {
            return Response::html(
                501,
                "501 Not Implemented",
                &format!(
                    "<p>This server does not know the method <code>{}</code>. Methods are case-sensitive: GET, HEAD, POST, PUT, DELETE, OPTIONS.</p>",
                    escape(&req.method)
                ),
            )
            .into();
        }
        let target = split_target(&req.target);
        let raw_path = &req.target[target.path.start..target.path.end];
        let query = target
            .query
            .map(|q| req.target[q.start..q.end].to_string())
            .unwrap_or_default();
        let (path_bytes, _) = percent_decode(raw_path, false);
        let path = String::from_utf8_lossy(&path_bytes).to_string();
        let path = if path.is_empty() {
            "/".to_string()
        } else {
            path
        };

        if req.method == "TRACE" || req.method == "CONNECT" || req.method == "PATCH" {
            return method_not_allowed(&req.method, "GET, HEAD, OPTIONS");
        }
        if let Some(location) = self.redirects.get(path.as_str()) {
            return Response::html(
                301,
                "301 Moved Permanently",
                &format!("<p>This object has moved to <a href=\"{location}\">{location}</a>. Location says where; a browser follows it by itself.</p>"),
            )
            .header("Location", *location)
            .into();
        }
        if path == "/echo" {
            return self.echo(req);
        }
        if path == "/cookie-counter" {
            return self.cookie_counter(req);
        }
        if path == "/session" {
            return self.session(req, ctx);
        }
        if path == "/chunked" {
            return only_get_head(req).unwrap_or_else(|| chunked_page().into());
        }
        if let Some(name) = path.strip_prefix("/cache/") {
            return super::cache_demo::respond(req, name, &query, ctx.now_unix);
        }
        if let Some(ms) = path.strip_prefix("/delay/") {
            return self.delay(req, ms);
        }
        if path == "/cgi/show" || path.starts_with("/cgi/show/") {
            let script = cgi::Script {
                name: "/cgi/show",
                path: &path,
                query: &query,
                user: None,
            };
            return self.cgi_show(req, ctx, &script);
        }
        if path == "/private/cgi/show" || path.starts_with("/private/cgi/show/") {
            if !self.authorized(req) {
                return self.unauthorized();
            }
            let script = cgi::Script {
                name: "/private/cgi/show",
                path: &path,
                query: &query,
                user: Some(&self.credentials.user),
            };
            return self.cgi_show(req, ctx, &script);
        }
        if let Some(rest) = path.strip_prefix("/upload/") {
            return self.upload(req, ctx, rest);
        }
        if path.starts_with("/private/") && !self.authorized(req) {
            return self.unauthorized();
        }
        let lookup = if path.ends_with('/') {
            format!("{path}index.html")
        } else {
            path.clone()
        };
        match self.files.get(lookup.as_str()) {
            Some(file) => {
                if let Some(refusal) = only_get_head(req) {
                    return refusal;
                }
                self.static_file(req, file)
            }
            None => {
                if req.method == "OPTIONS" {
                    return Response::new(204)
                        .header("Allow", "GET, HEAD, POST, PUT, DELETE, OPTIONS")
                        .into();
                }
                not_found(&path)
            }
        }
    }

    fn static_file(&self, req: &Request, file: &StaticFile) -> Reply {
        if not_modified(req, &file.etag, file.last_modified) {
            return Response::new(304)
                .header("ETag", file.etag.clone())
                .header("Last-Modified", file.last_modified_imf.clone())
                .into();
        }
        Response::new(200)
            .header("Last-Modified", file.last_modified_imf.clone())
            .header("ETag", file.etag.clone())
            .body(file.content_type, file.body.to_vec())
            .into()
    }

    fn authorized(&self, req: &Request) -> bool {
        let Some(value) = req.header("Authorization") else {
            return false;
        };
        let Some((scheme, token)) = value.split_once(' ') else {
            return false;
        };
        if !scheme.eq_ignore_ascii_case("basic") {
            return false;
        }
        let expected = format!("{}:{}", self.credentials.user, self.credentials.password);
        crate::base64::decode(token.trim().as_bytes()).is_some_and(|d| d == expected.as_bytes())
    }

    fn unauthorized(&self) -> Reply {
        Response::html(
            401,
            "401 Unauthorized",
            &format!(
                "<p>This area needs a user name and a password. Send them with every request in an \
                 <code>Authorization: Basic ...</code> header, where ... is the base64 of user:password.</p>\
                 <p>In this lab they are <code>{}</code> and <code>{}</code>.</p>",
                escape(&self.credentials.user),
                escape(&self.credentials.password)
            ),
        )
        .header(
            "WWW-Authenticate",
            format!("Basic realm=\"{}\", charset=\"UTF-8\"", self.credentials.realm),
        )
        .into()
    }

    fn echo(&self, req: &Request) -> Reply {
        Response::new(200)
            .body("text/plain; charset=utf-8", req.raw.clone())
            .header("Cache-Control", "no-store")
            .into()
    }

    fn cookie_counter(&self, req: &Request) -> Reply {
        if let Some(refusal) = only_get_head(req) {
            return refusal;
        }
        let previous: u64 = req
            .header("Cookie")
            .and_then(|c| cookie_value(c, "visits"))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let visits = previous.saturating_add(1);
        let text = if previous == 0 {
            "<p>This is your first visit. The response carries <code>Set-Cookie: visits=1</code>; your browser stores it and sends it back in <code>Cookie</code> next time.</p>".to_string()
        } else {
            format!(
                "<p>You have been here {visits} times. Vous êtes déjà venu {visits} fois.</p>\
                 <p>The server keeps nothing: the count travels in the cookie, <code>Cookie: visits={previous}</code> in, <code>Set-Cookie: visits={visits}</code> out.</p>"
            )
        };
        Response::html(200, "Cookie counter", &text)
            .header(
                "Set-Cookie",
                format!("visits={visits}; Path=/cookie-counter; Max-Age=31536000"),
            )
            .header("Cache-Control", "no-store")
            .into()
    }

    fn session(&self, req: &Request, ctx: &RequestContext) -> Reply {
        if let Some(refusal) = only_get_head(req) {
            return refusal;
        }
        let sent = req.header("Cookie").and_then(|c| cookie_value(c, "sid"));
        let Ok(mut sessions) = self.sessions.lock() else {
            return server_error("the session table is unavailable");
        };
        let known = sent.filter(|id| sessions.by_id.contains_key(id));
        let (id, entry, fresh) = match known {
            Some(id) => {
                let entry = sessions.by_id.get_mut(&id).expect("checked above");
                entry.visits += 1;
                (id.clone(), entry.clone(), false)
            }
            None => {
                if sessions.by_id.len() >= MAX_SESSIONS
                    && let Some(oldest) = sessions
                        .by_id
                        .iter()
                        .min_by_key(|(_, e)| e.order)
                        .map(|(k, _)| k.clone())
                {
                    sessions.by_id.remove(&oldest);
                }
                sessions.next += 1;
                let order = sessions.next;
                let id = format!(
                    "{:016x}",
                    (order ^ (ctx.now_unix as u64).rotate_left(20))
                        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                );
                let entry = SessionEntry {
                    visits: 1,
                    created_unix: ctx.now_unix,
                    order,
                };
                sessions.by_id.insert(id.clone(), entry.clone());
                (id, entry, true)
            }
        };
        let table = format!(
            "<table border=\"1\"><tr><th>session id (the cookie)</th><th>visits</th><th>started</th></tr>\
             <tr><td><code>{id}</code></td><td>{}</td><td>{}</td></tr></table>",
            entry.visits,
            date::format_imf(entry.created_unix)
        );
        if entry.visits > SESSION_VISITS {
            sessions.by_id.remove(&id);
            return Response::html(
                200,
                "Session ended",
                &format!(
                    "<p>This session has ended after {SESSION_VISITS} visits: the server deleted its row from its table, \
                     and the response tells the browser to forget the cookie (Max-Age=0). Your next visit starts a new session.</p>{table}"
                ),
            )
            .header("Set-Cookie", "sid=; Path=/session; Max-Age=0")
            .header("Cache-Control", "no-store")
            .into();
        }
        let intro = if fresh {
            "<p>A new session: the server created a row in its own table (the back-end database) and gave your browser only its key, in <code>Set-Cookie: sid=...</code>.</p>"
        } else {
            "<p>The server found your session from the <code>Cookie: sid=...</code> you sent and counted this visit in its table.</p>"
        };
        let left = SESSION_VISITS - entry.visits;
        let mut response = Response::html(
            200,
            "Server-side session",
            &format!(
                "{intro}{table}<p>The session ends after {SESSION_VISITS} visits ({left} left).</p>"
            ),
        )
        .header("Cache-Control", "no-store");
        if fresh {
            response = response.header("Set-Cookie", format!("sid={id}; Path=/session; HttpOnly"));
        }
        response.into()
    }

    fn delay(&self, req: &Request, ms: &str) -> Reply {
        if let Some(refusal) = only_get_head(req) {
            return refusal;
        }
        match ms.parse::<u64>() {
            Ok(ms) if ms <= MAX_DELAY_MS => Reply {
                response: Response::html(
                    200,
                    "Delayed answer",
                    &format!("<p>The server waited {ms} ms before answering. Requests pipelined behind this one wait too: responses go out in order.</p>"),
                ),
                delay_ms: ms,
            },
            _ => Response::html(
                400,
                "400 Bad Request",
                &format!("<p>/delay/ takes a number of milliseconds up to {MAX_DELAY_MS}, such as /delay/500.</p>"),
            )
            .into(),
        }
    }

    fn cgi_show(&self, req: &Request, ctx: &RequestContext, script: &cgi::Script) -> Reply {
        if !matches!(req.method.as_str(), "GET" | "HEAD" | "POST") {
            return method_not_allowed(&req.method, "GET, HEAD, POST");
        }
        let content_type = req.header("Content-Type").unwrap_or("");
        let mut html = String::new();
        let days = ctx.now_unix.div_euclid(86_400);
        let (y, m, d) = date::civil_from_days(days);
        let secs = ctx.now_unix.rem_euclid(86_400);
        html.push_str(&format!(
            "<p>le {d}/{m:02}/{y} à {:02}:{:02}:{:02} (UTC): what the server saw of your request, as a CGI or PHP program sees it in <code>$_SERVER</code>.</p>",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        ));
        html.push_str("<h2>Query string (the URL, after ?)</h2>");
        html.push_str(&cgi::pairs_table(script.query));
        html.push_str("<h2>Body</h2>");
        if content_type
            .to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded")
        {
            html.push_str(&cgi::pairs_table(&String::from_utf8_lossy(&req.body)));
        } else if req.body.is_empty() {
            html.push_str("<p>(no body)</p>");
        } else {
            html.push_str(&format!(
                "<p>{} bytes of {}</p>",
                req.body.len(),
                escape(content_type)
            ));
        }
        html.push_str("<h2>Variables (RFC 3875 §4.1)</h2>");
        html.push_str(&cgi::variables_table(&cgi::variables(req, ctx, script)));
        Response::html(200, "What the server saw", &html)
            .header("Cache-Control", "no-store")
            .into()
    }

    fn upload(&self, req: &Request, ctx: &RequestContext, rest: &str) -> Reply {
        if rest.is_empty() {
            if let Some(refusal) = only_get_head(req) {
                return refusal;
            }
            return match self.uploads.list() {
                Ok(files) => {
                    let mut html = String::from(
                        "<p>PUT a file here (<code>PUT /upload/notes.txt</code> with a body), GET it back, DELETE it.</p><ul>",
                    );
                    for (name, size) in &files {
                        html.push_str(&format!(
                            "<li><a href=\"/upload/{0}\">{0}</a> ({size} bytes)</li>",
                            escape(name)
                        ));
                    }
                    if files.is_empty() {
                        html.push_str("<li>(empty)</li>");
                    }
                    html.push_str("</ul>");
                    Response::html(200, "/upload/", &html)
                        .header("Cache-Control", "no-store")
                        .into()
                }
                Err(e) => server_error(&e.0),
            };
        }
        let name = match UploadName::new(rest) {
            Ok(name) => name,
            Err(why) => {
                return Response::html(
                    403,
                    "403 Forbidden",
                    &format!(
                        "<p>{}: {why}. Nothing outside /upload/ can be read or written.</p>",
                        escape(rest)
                    ),
                )
                .into();
            }
        };
        match req.method.as_str() {
            "GET" | "HEAD" => match self.uploads.get(&name) {
                Ok(Some(file)) => {
                    let etag = etag_of(&file.bytes);
                    if not_modified(req, &etag, file.modified_unix) {
                        return Response::new(304).header("ETag", etag).into();
                    }
                    Response::new(200)
                        .header("Last-Modified", date::format_imf(file.modified_unix))
                        .header("ETag", etag)
                        .body(guess_type(name.as_str()), file.bytes)
                        .into()
                }
                Ok(None) => not_found(&format!("/upload/{}", name.as_str())),
                Err(e) => server_error(&e.0),
            },
            "PUT" => {
                let used = match self.uploads.total_bytes() {
                    Ok(n) => n,
                    Err(e) => return server_error(&e.0),
                };
                let replaced = self
                    .uploads
                    .get(&name)
                    .ok()
                    .flatten()
                    .map_or(0, |f| f.bytes.len() as u64);
                if used - replaced.min(used) + req.body.len() as u64 > self.upload_quota {
                    return Response::html(
                        413,
                        "413 Content Too Large",
                        &format!(
                            "<p>/upload/ may hold {} bytes in all; this file does not fit.</p>",
                            self.upload_quota
                        ),
                    )
                    .into();
                }
                match self.uploads.put(&name, &req.body, ctx.now_unix) {
                    Ok(true) => Response::html(
                        201,
                        "201 Created",
                        &format!(
                            "<p>Stored {} bytes as /upload/{}.</p>",
                            req.body.len(),
                            escape(name.as_str())
                        ),
                    )
                    .header("Location", format!("/upload/{}", name.as_str()))
                    .into(),
                    Ok(false) => Response::new(204).into(),
                    Err(e) => server_error(&e.0),
                }
            }
            "DELETE" => match self.uploads.delete(&name) {
                Ok(true) => Response::new(204).into(),
                Ok(false) => not_found(&format!("/upload/{}", name.as_str())),
                Err(e) => server_error(&e.0),
            },
            "OPTIONS" => Response::new(204)
                .header("Allow", "GET, HEAD, PUT, DELETE, OPTIONS")
                .into(),
            other => method_not_allowed(other, "GET, HEAD, PUT, DELETE, OPTIONS"),
        }
    }
}

/// RFC 9110 §13.2.2: If-None-Match wins over If-Modified-Since, and both
/// apply to GET and HEAD only.
pub(crate) fn not_modified(req: &Request, etag: &str, last_modified: i64) -> bool {
    if req.method != "GET" && req.method != "HEAD" {
        return false;
    }
    if let Some(tags) = req.header("If-None-Match") {
        let weak = |t: &str| t.trim().trim_start_matches("W/").to_string();
        return tags.trim() == "*" || tags.split(',').any(|t| weak(t) == weak(etag));
    }
    if let Some(since) = req.header("If-Modified-Since")
        && let Ok(since) = date::parse(since)
    {
        return last_modified <= since.unix;
    }
    false
}

pub(crate) fn only_get_head(req: &Request) -> Option<Reply> {
    match req.method.as_str() {
        "GET" | "HEAD" => None,
        "OPTIONS" => Some(
            Response::new(204)
                .header("Allow", "GET, HEAD, OPTIONS")
                .into(),
        ),
        other => Some(method_not_allowed(other, "GET, HEAD, OPTIONS")),
    }
}

fn method_not_allowed(method: &str, allow: &str) -> Reply {
    Response::html(
        405,
        "405 Method Not Allowed",
        &format!(
            "<p>{} is not allowed here. The Allow header lists what is: {allow}.</p>",
            escape(method)
        ),
    )
    .header("Allow", allow)
    .into()
}

fn not_found(path: &str) -> Reply {
    Response::html(
        404,
        "404 Not Found",
        &format!("<p>There is nothing at <code>{}</code> on this server. See <a href=\"/\">/</a> for what there is.</p>", escape(path)),
    )
    .into()
}

fn server_error(why: &str) -> Reply {
    Response::html(
        500,
        "500 Internal Server Error",
        &format!("<p>{}</p>", escape(why)),
    )
    .into()
}

fn chunked_page() -> Response {
    let chunks: Vec<Vec<u8>> = [
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Chunks</title></head><body>\n",
        "<p>This body came in chunks. Each chunk starts with its size in hexadecimal on a line of its own,\n",
        "then the data and CR LF; a chunk of size zero ends the body.</p>\n",
        "<p>The server did not have to know the length in advance, so there is no Content-Length.</p>\n</body></html>\n",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    let count = chunks.len();
    let mut r = Response::new(200);
    r.headers
        .push(("Content-Type".into(), "text/html; charset=utf-8".into()));
    r.body = Body::Chunks {
        chunks,
        trailers: vec![("X-Chunk-Count".into(), count.to_string())],
    };
    r
}

/// A Content-Type from a file name's extension.
pub fn guess_type(name: &str) -> &'static str {
    match name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .as_deref()
    {
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("txt" | "md") => "text/plain; charset=utf-8",
        Some("css") => "text/css",
        Some("json") => "application/json",
        Some("gif") => "image/gif",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("png") => "image/png",
        Some("pdf") => "application/pdf",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::store::MemoryFileStore;

    fn site() -> WebSite {
        WebSite::new(
            Arc::new(MemoryFileStore::new()),
            WebSite::default_credentials(),
        )
    }

    fn ctx() -> RequestContext {
        RequestContext {
            remote_addr: "127.0.0.1".into(),
            local_addr: "127.0.0.1".into(),
            local_port: Some(8081),
            now_unix: 1_700_000_000,
        }
    }

    fn get(target: &str, headers: &[(&str, &str)]) -> Request {
        request("GET", target, headers, b"")
    }

    fn request(method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Request {
        Request {
            method: method.into(),
            target: target.into(),
            version: Version::Http11,
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            body: body.to_vec(),
            raw: Vec::new(),
        }
    }

    fn status(reply: &Reply) -> u16 {
        reply.response.status
    }

    fn header<'a>(reply: &'a Reply, name: &str) -> Option<&'a str> {
        reply
            .response
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn static_files_and_conditional_gets() {
        let s = site();
        let first = s.respond(&get("/fruit/kiwi.gif", &[]), &ctx());
        assert_eq!(status(&first), 200);
        assert_eq!(
            header(&first, "Last-Modified"),
            Some("Mon, 22 Jun 1998 09:23:24 GMT")
        );
        let etag = header(&first, "ETag").unwrap().to_string();
        let by_date = s.respond(
            &get(
                "/fruit/kiwi.gif",
                &[("If-Modified-Since", "Mon, 22 Jun 1998 09:23:24 GMT")],
            ),
            &ctx(),
        );
        assert_eq!(status(&by_date), 304);
        let older = s.respond(
            &get(
                "/fruit/kiwi.gif",
                &[("If-Modified-Since", "Sun, 21 Jun 1998 09:23:24 GMT")],
            ),
            &ctx(),
        );
        assert_eq!(status(&older), 200);
        let by_tag = s.respond(&get("/fruit/kiwi.gif", &[("If-None-Match", &etag)]), &ctx());
        assert_eq!(status(&by_tag), 304);
        // If-None-Match wins over If-Modified-Since.
        let other_tag = s.respond(
            &get(
                "/fruit/kiwi.gif",
                &[
                    ("If-None-Match", "\"nope\""),
                    ("If-Modified-Since", "Mon, 22 Jun 1998 09:23:24 GMT"),
                ],
            ),
            &ctx(),
        );
        assert_eq!(status(&other_tag), 200);
        assert_eq!(status(&s.respond(&get("/~ross/", &[]), &ctx())), 200);
        assert_eq!(
            status(&s.respond(&get("/~ross/banana/.html", &[]), &ctx())),
            404
        );
    }

    #[test]
    fn redirects_methods_and_auth() {
        let s = site();
        let moved = s.respond(&get("/old/page.html", &[]), &ctx());
        assert_eq!(
            (status(&moved), header(&moved, "Location")),
            (301, Some("/somedir/page.html"))
        );
        let post = s.respond(&request("POST", "/index.html", &[], b"x"), &ctx());
        assert_eq!(
            (status(&post), header(&post, "Allow")),
            (405, Some("GET, HEAD, OPTIONS"))
        );
        assert_eq!(
            status(&s.respond(&request("BREW", "/", &[], b""), &ctx())),
            501
        );
        let denied = s.respond(&get("/private/", &[]), &ctx());
        assert_eq!(status(&denied), 401);
        assert!(
            header(&denied, "WWW-Authenticate")
                .unwrap()
                .starts_with("Basic realm=")
        );
        let wrong = s.respond(
            &get("/private/", &[("Authorization", "Basic d3Jvbmc6d3Jvbmc=")]),
            &ctx(),
        );
        assert_eq!(status(&wrong), 401);
        let token = crate::base64::encode(b"student:wirelab");
        let ok = s.respond(
            &get("/private/", &[("Authorization", &format!("Basic {token}"))]),
            &ctx(),
        );
        assert_eq!(status(&ok), 200);
    }

    #[test]
    fn cookie_counter_counts() {
        let s = site();
        let first = s.respond(&get("/cookie-counter", &[]), &ctx());
        assert!(
            header(&first, "Set-Cookie")
                .unwrap()
                .starts_with("visits=1;")
        );
        let third = s.respond(&get("/cookie-counter", &[("Cookie", "visits=2")]), &ctx());
        assert!(
            header(&third, "Set-Cookie")
                .unwrap()
                .starts_with("visits=3;")
        );
        let Body::Full(body) = &third.response.body else {
            panic!()
        };
        assert!(String::from_utf8_lossy(body).contains("You have been here 3 times"));
    }

    #[test]
    fn sessions_end_after_ten_visits() {
        let s = site();
        let first = s.respond(&get("/session", &[]), &ctx());
        let cookie = header(&first, "Set-Cookie").unwrap();
        let sid = cookie.split(';').next().unwrap().to_string();
        for _ in 2..=SESSION_VISITS {
            let r = s.respond(&get("/session", &[("Cookie", &sid)]), &ctx());
            assert!(header(&r, "Set-Cookie").is_none());
        }
        let ended = s.respond(&get("/session", &[("Cookie", &sid)]), &ctx());
        assert_eq!(
            header(&ended, "Set-Cookie"),
            Some("sid=; Path=/session; Max-Age=0")
        );
        // The next visit with the old cookie starts over.
        let again = s.respond(&get("/session", &[("Cookie", &sid)]), &ctx());
        assert!(header(&again, "Set-Cookie").unwrap().starts_with("sid="));
        assert_ne!(
            header(&again, "Set-Cookie")
                .unwrap()
                .split(';')
                .next()
                .unwrap(),
            sid
        );
    }

    #[test]
    fn uploads_stay_in_their_folder() {
        let s = site();
        let created = s.respond(&request("PUT", "/upload/notes.txt", &[], b"hello"), &ctx());
        assert_eq!(status(&created), 201);
        let replaced = s.respond(&request("PUT", "/upload/notes.txt", &[], b"hello!"), &ctx());
        assert_eq!(status(&replaced), 204);
        let back = s.respond(&get("/upload/notes.txt", &[]), &ctx());
        assert_eq!(back.response.body, Body::Full(b"hello!".to_vec()));
        for evil in [
            "/upload/..%2F..%2Fetc%2Fpasswd",
            "/upload/../../etc/passwd",
            "/upload/%2e%2e",
            "/upload/a/b",
        ] {
            let r = s.respond(&request("PUT", evil, &[], b"x"), &ctx());
            assert_eq!(status(&r), 403, "{evil}");
        }
        assert_eq!(
            status(&s.respond(&request("DELETE", "/upload/notes.txt", &[], b""), &ctx())),
            204
        );
        assert_eq!(
            status(&s.respond(&request("DELETE", "/upload/notes.txt", &[], b""), &ctx())),
            404
        );
        let mut small = site();
        small.upload_quota = 3;
        assert_eq!(
            status(&small.respond(&request("PUT", "/upload/big", &[], b"1234"), &ctx())),
            413
        );
    }

    #[test]
    fn the_form_target_shows_the_cgi_view() {
        let s = site();
        let r = s.respond(
            &request(
                "POST",
                "/cgi/show/extra?x=1",
                &[
                    ("Host", "www.monsite.com:8081"),
                    ("Content-Type", "application/x-www-form-urlencoded"),
                    ("User-Agent", "lab"),
                ],
                b"prenom=Hugues&nom=Fauconnier&age=41+%E0+60+ans",
            ),
            &ctx(),
        );
        let Body::Full(body) = &r.response.body else {
            panic!()
        };
        let html = String::from_utf8_lossy(body);
        for needle in [
            "<th>REQUEST_METHOD</th><td><code>POST</code>",
            "<th>QUERY_STRING</th><td><code>x=1</code>",
            "<th>CONTENT_LENGTH</th><td><code>46</code>",
            "<th>PATH_INFO</th><td><code>/extra</code>",
            "<th>SERVER_NAME</th><td><code>www.monsite.com</code>",
            "<th>REMOTE_ADDR</th><td><code>127.0.0.1</code>",
            "<td>age</td><td>41 à 60 ans</td><td><code>age=41+%E0+60+ans</code></td><td>ISO-8859-1</td>",
            "<code>%C3%A0</code>",
        ] {
            assert!(html.contains(needle), "missing {needle} in {html}");
        }
    }

    /// The body of a 200 page as text.
    fn page(reply: &Reply) -> String {
        assert_eq!(status(reply), 200);
        let Body::Full(body) = &reply.response.body else {
            panic!()
        };
        String::from_utf8_lossy(body).into_owned()
    }

    #[test]
    fn the_cgi_page_lists_every_variable_of_the_slides() {
        let s = site();
        let html = page(&s.respond(
            &get(
                "/cgi/show/marecherche?prenom=Hugues",
                &[
                    ("Host", "www.monsite.com:8081"),
                    ("Accept", "text/*, image/jpeg, */*"),
                    ("Accept-Language", "fr_CA, fr"),
                ],
            ),
            &ctx(),
        ));
        for needle in [
            format!(
                "<th>SERVER_SOFTWARE</th><td><code>wirelab/{}</code>",
                env!("CARGO_PKG_VERSION")
            ),
            "<th>GATEWAY_INTERFACE</th><td><code>CGI/1.1</code>".into(),
            "<th>SERVER_PORT</th><td><code>8081</code>".into(),
            "<th>PATH_INFO</th><td><code>/marecherche</code>".into(),
            "<th>PATH_TRANSLATED</th><td><code>/var/www/html/marecherche</code>".into(),
            "<th>REMOTE_HOST</th><td><code></code>".into(),
            "<th>REMOTE_USER</th><td><code></code>".into(),
            "<th>AUTH_TYPE</th><td><code></code>".into(),
            "<th>HTTP_ACCEPT</th><td><code>text/*, image/jpeg, */*</code>".into(),
            "<th>HTTP_ACCEPT_LANGUAGE</th><td><code>fr_CA, fr</code>".into(),
            "<td>prenom</td><td>Hugues</td><td><code>prenom=Hugues</code></td><td>UTF-8</td>"
                .into(),
        ] {
            assert!(html.contains(&needle), "missing {needle} in {html}");
        }
        // Without PATH_INFO there is nothing to translate.
        let html = page(&s.respond(&get("/cgi/show", &[]), &ctx()));
        assert!(html.contains("<th>PATH_TRANSLATED</th><td><code></code>"));
    }

    #[test]
    fn the_protected_cgi_page_names_its_user_and_scheme() {
        let s = site();
        assert_eq!(
            status(&s.respond(&get("/private/cgi/show", &[]), &ctx())),
            401
        );
        let token = crate::base64::encode(b"student:wirelab");
        let html = page(&s.respond(
            &get(
                "/private/cgi/show",
                &[("Authorization", &format!("Basic {token}"))],
            ),
            &ctx(),
        ));
        assert!(
            html.contains("<th>AUTH_TYPE</th><td><code>Basic</code>"),
            "{html}"
        );
        assert!(
            html.contains("<th>REMOTE_USER</th><td><code>student</code>"),
            "{html}"
        );
        assert!(html.contains("<th>SCRIPT_NAME</th><td><code>/private/cgi/show</code>"));
    }

    #[test]
    fn the_slides_form_is_served_in_latin1_and_its_utf8_twin_in_utf8() {
        let s = site();
        let latin = s.respond(&get("/form.html", &[]), &ctx());
        assert_eq!(status(&latin), 200);
        assert!(
            latin
                .response
                .headers
                .iter()
                .any(|(n, v)| n == "Content-Type" && v == "text/html; charset=iso-8859-1")
        );
        let Body::Full(body) = &latin.response.body else {
            panic!()
        };
        // The slides' options, with à as the single byte E0.
        for option in [
            &b"- de 18 ans"[..],
            b"19 \xe0 40 ans",
            b"41 \xe0 60 ans",
            b"+ de 60 ans",
        ] {
            assert!(
                body.windows(option.len()).any(|w| w == option),
                "{option:?}"
            );
        }
        assert!(std::str::from_utf8(body).is_err(), "ISO-8859-1, not UTF-8");
        let html = page(&s.respond(&get("/form-utf8.html", &[]), &ctx()));
        assert!(html.contains("41 à 60 ans") && html.contains("%C3%A0"));
    }

    #[test]
    fn delays_are_bounded() {
        let s = site();
        assert_eq!(s.respond(&get("/delay/250", &[]), &ctx()).delay_ms, 250);
        assert_eq!(status(&s.respond(&get("/delay/99999", &[]), &ctx())), 400);
        assert_eq!(status(&s.respond(&get("/delay/soon", &[]), &ctx())), 400);
    }
}
