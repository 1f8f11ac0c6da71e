//! The reference site's CGI page (`/cgi/show`, and `/private/cgi/show`
//! behind Basic authentication): what a CGI program (or PHP's `$_SERVER`)
//! gets from the server, every variable the course's slides list (RFC 3875
//! §4.1), with the value a CGI server would set and what it means; then the
//! form's pairs, decoded, with the charset the bytes were read in.
//!
//! The course's form was sent by an ISO-8859-1 page, so `à` travels as
//! `%E0`; a UTF-8 page sends `%C3%A0`. The page says which one it read.

use super::response::escape;
use super::site::{Request, RequestContext};
use super::url::{Charset, form_pairs};

/// `SERVER_SOFTWARE`: name/version, as RFC 3875 §4.1.17 has it.
pub const SERVER_SOFTWARE: &str = concat!("wirelab/", env!("CARGO_PKG_VERSION"));

/// The notional document root `PATH_TRANSLATED` maps `PATH_INFO` under (the
/// site's files live in the program, not on a disk).
pub const DOCUMENT_ROOT: &str = "/var/www/html";

/// Where the script sits and who was authenticated to reach it.
pub struct Script<'a> {
    /// `SCRIPT_NAME`: `/cgi/show` or `/private/cgi/show`.
    pub name: &'a str,
    /// The request's path, of which `PATH_INFO` is what follows the name.
    pub path: &'a str,
    pub query: &'a str,
    /// The user a protected script was reached as (Basic authentication).
    pub user: Option<&'a str>,
}

/// One variable: name, value, what it means.
type Variable = (&'static str, String, &'static str);

/// The variables of RFC 3875 §4.1 the slides list, and a few more a CGI
/// program commonly reads.
pub fn variables(req: &Request, ctx: &RequestContext, script: &Script) -> Vec<Variable> {
    let header = |name: &str| req.header(name).unwrap_or("").to_string();
    let host = req.header("Host");
    let server_name = host
        .map(|h| h.rsplit_once(':').map_or(h, |(name, _)| name).to_string())
        .unwrap_or_else(|| ctx.local_addr.clone());
    let server_port = ctx.local_port.map(|p| p.to_string()).unwrap_or_else(|| {
        // With no socket (the page's own server), the port the client addressed.
        host.and_then(|h| h.rsplit_once(':'))
            .map_or("80".to_string(), |(_, port)| port.to_string())
    });
    let path_info = script
        .path
        .strip_prefix(script.name)
        .unwrap_or("")
        .to_string();
    let path_translated = if path_info.is_empty() {
        String::new()
    } else {
        format!("{DOCUMENT_ROOT}{path_info}")
    };
    let content_length = if req.body.is_empty() {
        String::new()
    } else {
        req.body.len().to_string()
    };
    let (auth_type, remote_user) = match script.user {
        Some(user) => ("Basic".to_string(), user.to_string()),
        None => (String::new(), String::new()),
    };
    vec![
        (
            "SERVER_SOFTWARE",
            SERVER_SOFTWARE.into(),
            "the server's name and version (name/version)",
        ),
        (
            "SERVER_NAME",
            server_name,
            "the server's host name, alias or address, from Host",
        ),
        (
            "GATEWAY_INTERFACE",
            "CGI/1.1".into(),
            "the CGI revision the server speaks (CGI/revision)",
        ),
        (
            "SERVER_PROTOCOL",
            req.version.as_str().to_string(),
            "the protocol and revision of the request",
        ),
        (
            "SERVER_PORT",
            server_port,
            "the port the request came in on",
        ),
        (
            "REQUEST_METHOD",
            req.method.clone(),
            "the request's method: GET or POST for a form",
        ),
        (
            "REQUEST_URI",
            req.target.clone(),
            "the request target as sent (Apache's addition)",
        ),
        (
            "SCRIPT_NAME",
            script.name.to_string(),
            "the script's path on the server",
        ),
        (
            "PATH_INFO",
            path_info,
            "what follows the script's name in the path (/cgi/show/extra: /extra)",
        ),
        (
            "PATH_TRANSLATED",
            path_translated,
            "PATH_INFO mapped to a file under the document root; empty without PATH_INFO",
        ),
        (
            "QUERY_STRING",
            script.query.to_string(),
            "everything after ? in the URL: a GET form's fields",
        ),
        (
            "REMOTE_HOST",
            String::new(),
            "the client's host name; empty: this server does no reverse DNS lookup",
        ),
        (
            "REMOTE_ADDR",
            ctx.remote_addr.clone(),
            "the client's IP address",
        ),
        (
            "AUTH_TYPE",
            auth_type,
            "how the client authenticated: Basic under /private/cgi/show, empty where the script is not protected",
        ),
        (
            "REMOTE_USER",
            remote_user,
            "the authenticated user, for a protected script (try /private/cgi/show)",
        ),
        (
            "REMOTE_IDENT",
            String::new(),
            "the user name an RFC 931 ident server gave; empty: the server does not ask",
        ),
        (
            "CONTENT_TYPE",
            header("Content-Type"),
            "the type of the attached body (a POST form)",
        ),
        (
            "CONTENT_LENGTH",
            content_length,
            "the body's length in bytes",
        ),
        (
            "HTTP_ACCEPT",
            header("Accept"),
            "the Accept header: the media types the client takes",
        ),
        (
            "HTTP_ACCEPT_LANGUAGE",
            header("Accept-Language"),
            "the Accept-Language header: the languages it prefers",
        ),
        (
            "HTTP_USER_AGENT",
            header("User-Agent"),
            "the User-Agent header: the client's software",
        ),
        ("HTTP_HOST", header("Host"), "the Host header"),
    ]
}

/// The variables as a table: name, value, meaning.
pub fn variables_table(variables: &[Variable]) -> String {
    let mut html = String::from(
        "<table border=\"1\"><tr><th>variable</th><th>value</th><th>meaning</th></tr>",
    );
    for (name, value, meaning) in variables {
        html.push_str(&format!(
            "<tr><th>{name}</th><td><code>{}</code></td><td>{meaning}</td></tr>",
            escape(value)
        ));
    }
    html.push_str("</table>");
    html
}

/// A query or form body's pairs: decoded, as sent, and the charset read.
pub fn pairs_table(text: &str) -> String {
    let pairs = form_pairs(text);
    if pairs.is_empty() {
        return "<p>(none)</p>".into();
    }
    let mut html = String::from(
        "<table border=\"1\"><tr><th>name</th><th>value (decoded)</th><th>as sent</th><th>read as</th></tr>",
    );
    let mut latin1 = false;
    for p in &pairs {
        let sent = text.get(p.span.start..p.span.end).unwrap_or("");
        let charset = match p.charset {
            Charset::Utf8 => "UTF-8",
            Charset::Latin1 => {
                latin1 = true;
                "ISO-8859-1"
            }
        };
        html.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{charset}</td></tr>",
            escape(&p.name),
            escape(&p.value),
            escape(sent),
        ));
    }
    html.push_str("</table>");
    html.push_str(if latin1 {
        "<p>Some bytes are not UTF-8, so they were read as ISO-8859-1, the charset of the \
         page that sent the form: there <code>à</code> is one byte, <code>%E0</code>, as in the \
         course's <code>age=41+%E0+60+ans</code>. A UTF-8 page (<a href=\"/form-utf8.html\">\
         /form-utf8.html</a>) sends the two bytes of its UTF-8, <code>%C3%A0</code>. The request \
         does not say which: the server must know the charset of its own form.</p>"
    } else {
        "<p>Every value is UTF-8: a UTF-8 page sends <code>à</code> as <code>%C3%A0</code>. The \
         course's form (<a href=\"/form.html\">/form.html</a>, served in ISO-8859-1 as the \
         slides' was) sends <code>%E0</code>.</p>"
    });
    html
}
