//! Every route of the relay's router, read from `relay/src/lib.rs`'s
//! source rather than listed by hand, so a route added later is held to
//! the same rules: in classroom mode each one that is not on the short
//! list of what students may call refuses students (bearer and cookie, of
//! the class and of another) and anonymous callers, and answers the
//! instructor; every route but the way in (joining, signing in, health)
//! refuses anonymous callers and the tokens of a closed class; and every
//! route that changes something refuses a cross-site form post, whoever's
//! cookie it carries or none.

mod common;

use common::class::*;
use common::*;
use std::collections::BTreeSet;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The source the router is built in.
const ROUTER_SOURCE: &str = include_str!("../src/lib.rs");

/// What students (and, where it says so, anyone) may call: their own lab.
/// Every other route is the instructor's.
const STUDENTS_MAY_CALL: &[(&str, &str)] = &[
    ("GET", "/api/targets"),
    ("GET", "/api/cdn/route"),
    ("GET", "/api/proxy/log"),
    ("GET", "/api/proxy/cache"),
    ("DELETE", "/api/proxy/cache"),
    ("GET", "/api/dns/traces"),
    ("GET", "/api/dns/trace"),
    ("GET", "/api/dns/cache"),
    ("DELETE", "/api/dns/cache"),
    ("GET", "/api/swarms"),
    ("POST", "/api/swarms"),
    ("GET", "/api/swarms/{id}"),
    ("DELETE", "/api/swarms/{id}"),
    ("GET", "/api/swarms/{id}/torrent"),
    ("GET", "/api/mailboxes"),
    ("GET", "/api/tasks"),
    ("GET", "/api/tasks/events"),
    ("POST", "/api/mailboxes/{address}/reset"),
    ("GET", "/api/recordings"),
    ("GET", "/api/recordings/{id}"),
    ("GET", "/api/recordings/{id}/text"),
    ("GET", "/api/recordings/{id}/pcapng"),
    // Signing in is how one becomes the instructor; asking whether one is
    // and signing out concern only the caller's own cookie.
    ("GET", "/api/instructor/session"),
    ("POST", "/api/instructor/session"),
    ("DELETE", "/api/instructor/session"),
    ("POST", "/api/join"),
    ("GET", "/join/{code}"),
    ("POST", "/join/{code}"),
    ("GET", "/ws"),
    ("GET", "/api/health"),
];

/// `(method, path)` of every route in the `router` function's source.
fn routes() -> BTreeSet<(String, String)> {
    let start = ROUTER_SOURCE
        .find("pub fn router(")
        .expect("the router function");
    let body = &ROUTER_SOURCE[start..];
    let end = body.find("\n}\n").expect("the router's end");
    let mut body = &body[..end];
    let mut found = BTreeSet::new();
    while let Some(at) = body.find(".route(") {
        body = &body[at + ".route(".len()..];
        let path = body
            .trim_start()
            .strip_prefix('"')
            .and_then(|rest| rest.split('"').next())
            .expect("a route's path is a string literal");
        let handlers = &body[..call_end(body)];
        for method in ["get", "post", "put", "patch", "delete"] {
            if calls(handlers, method) {
                found.insert((method.to_uppercase(), path.to_string()));
            }
        }
    }
    assert!(found.len() > 20, "the router's routes are read: {found:?}");
    found
}

/// Where the call whose arguments `text` starts with closes.
fn call_end(text: &str) -> usize {
    let mut depth = 1;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    panic!("an unclosed .route(: {text}");
}

/// Whether `handlers` (`get(a).post(b)`) routes `method`.
fn calls(handlers: &str, method: &str) -> bool {
    let call = format!("{method}(");
    handlers.match_indices(&call).any(|(i, _)| {
        let before = handlers[..i].chars().last();
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
    })
}

/// The instructor's routes: every one students are not listed for.
fn instructor_routes() -> Vec<(String, String)> {
    let open: BTreeSet<(String, String)> = STUDENTS_MAY_CALL
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    let all = routes();
    let gone: Vec<_> = open.difference(&all).collect();
    assert!(gone.is_empty(), "listed but not routed: {gone:?}");
    let mut instructors: Vec<_> = all.difference(&open).cloned().collect();
    // Closing the class last, so that every other call finds it open.
    instructors.sort_by_key(|(m, p)| (m == "DELETE" && p == "/api/classes/{id}", p.clone()));
    instructors
}

/// `path` with its parameters filled in: `{id}` a class, `{student}` one
/// of its students, `{code}` its join code, `{address}` a mailbox.
fn filled(path: &str, class: &serde_json::Value, student: &str) -> String {
    let path = path
        .replace("{id}", class["id"].as_str().unwrap())
        .replace("{student}", student)
        .replace("{code}", class["join_code"].as_str().unwrap())
        .replace("{address}", "bob@hamburger.edu");
    assert!(
        !path.contains('{'),
        "{path}: a new parameter; say here what a test fills it with"
    );
    path
}

/// One request, read up to its head and a body of known length (an event
/// stream's body is not waited for): the status and what was read.
async fn send(
    relay: &TestRelay,
    method: &str,
    path: &str,
    headers: &[&str],
    body: &str,
) -> (u16, String) {
    let mut stream = TcpStream::connect(relay.relay.addr).await.unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", relay.relay.addr);
    for h in headers {
        request.push_str(&format!("{h}\r\n"));
    }
    request.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ));
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&response).to_string();
        if let Some(head_end) = text.find("\r\n\r\n") {
            let length = text[..head_end]
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if response.len() >= head_end + 4 + length {
                return (text[9..12].parse().unwrap(), text);
            }
        }
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut chunk))
            .await
            .unwrap_or_else(|_| panic!("{method} {path} answered within 5 s"))
            .unwrap();
        if n == 0 {
            return (text[9..12].parse().unwrap(), text);
        }
        response.extend_from_slice(&chunk[..n]);
    }
}

const JSON: &str = "Content-Type: application/json";

#[tokio::test]
async fn every_instructor_route_refuses_students_and_anonymous_callers() {
    let relay = start(classroom).await;
    let class = make_class(&relay, r#"{"name":"Monday"}"#).await;
    let other = make_class(&relay, r#"{"name":"Tuesday"}"#).await;
    let mallory = join_json(&relay, class["join_code"].as_str().unwrap(), "Mallory").await;
    let carol = join(&relay, other["join_code"].as_str().unwrap(), "Carol").await;
    let (token, me) = (
        mallory["token"].as_str().unwrap(),
        mallory["student"].as_str().unwrap(),
    );
    let (as_bearer, as_carol) = (bearer(token), bearer(&carol));
    let as_cookie = format!("Cookie: wirelab_token={token}");
    let origin = own_origin(&relay);
    let callers: [(&str, Vec<&str>); 4] = [
        ("anonymous", vec![JSON]),
        ("a student's bearer", vec![&as_bearer, JSON]),
        ("a student's cookie", vec![&as_cookie, &origin, JSON]),
        ("another class's student", vec![&as_carol, JSON]),
    ];
    let routes = instructor_routes();
    assert!(
        routes.iter().any(|(_, p)| p.ends_with("/progress.csv")),
        "{routes:?}"
    );
    for (method, path) in &routes {
        let path = filled(path, &class, me);
        for (who, headers) in &callers {
            let (status, answer) = send(&relay, method, &path, headers, "{}").await;
            assert_eq!(status, 401, "{who} {method} {path}: {answer}");
        }
    }
    // Each refusal was about who called: the instructor gets an answer
    // from every one of them (a bad body is not a refusal).
    let cookie = sign_in(&relay).await;
    for (method, path) in &routes {
        let path = filled(path, &class, me);
        for headers in [
            vec![instructor(), JSON.into()],
            vec![cookie.clone(), origin.clone(), JSON.into()],
        ] {
            let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
            let (status, answer) = send(&relay, method, &path, &headers, "{}").await;
            assert!(
                ![401, 403, 404, 405].contains(&status),
                "the instructor {method} {path}: {answer}"
            );
            if method == "DELETE" {
                break;
            }
        }
    }
}

#[tokio::test]
async fn every_change_refuses_a_cross_site_form_post() {
    let relay = start(classroom).await;
    let class = make_class(&relay, r#"{"name":"Monday"}"#).await;
    let (id, code) = (
        class["id"].as_str().unwrap(),
        class["join_code"].as_str().unwrap(),
    );
    let joined = join_json(&relay, code, "Mallory").await;
    let (token, me) = (
        joined["token"].as_str().unwrap(),
        joined["student"].as_str().unwrap(),
    );
    let teacher = sign_in(&relay).await;
    let student = format!("Cookie: wirelab_token={token}");
    let changes: Vec<_> = routes().into_iter().filter(|(m, _)| m != "GET").collect();
    assert!(changes.len() > 8, "{changes:?}");
    let form = "Content-Type: application/x-www-form-urlencoded";
    for (method, path) in &changes {
        let path = filled(path, &class, me);
        for site in ["Origin: http://evil.example", "Origin: null"] {
            for cookie in [Some(&teacher), Some(&student), None] {
                let mut headers = vec![site, form];
                headers.extend(cookie.map(String::as_str));
                let body = format!("name=Eve&secret={SECRET}");
                let (status, answer) = send(&relay, method, &path, &headers, &body).await;
                assert_eq!(
                    status, 403,
                    "{method} {path} from {site} with {cookie:?}: {answer}"
                );
                assert!(answer.contains("own page"), "{answer}");
            }
        }
    }
    // None of it happened: the class is open, with Mallory alone on it.
    let (status, _, body) = relay
        .request(
            "GET",
            &format!("/api/classes/{id}/roster"),
            &[&instructor()],
            "",
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let roster: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(roster.as_array().unwrap().len(), 1, "{roster}");
    assert!(roster[0].get("revoked_at").is_none(), "{roster}");
    let mut ws = relay.open(&format!("target=upper-tcp&token={token}")).await;
    expect_connected(&mut ws).await;
    // The same form from the relay's own page joins.
    let (status, _, body) = relay
        .request(
            "POST",
            &format!("/join/{code}"),
            &[&own_origin(&relay), form],
            "name=Eve",
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

/// What a caller with no token may use on a classroom relay: the way in
/// (joining, signing in), the load balancer's health check, and `/ws`,
/// which refuses over the WebSocket itself.
const ANYONE_MAY_CALL: &[&str] = &[
    "/api/instructor/session",
    "/api/join",
    "/join/{code}",
    "/ws",
    "/api/health",
];

/// Who gets `401` from which of the routes anyone may not call.
async fn refused_by_all(
    relay: &TestRelay,
    class: &serde_json::Value,
    student: &str,
    headers: &[&str],
) -> Vec<String> {
    let mut answered = Vec::new();
    for (method, path) in routes() {
        if ANYONE_MAY_CALL.contains(&path.as_str()) {
            continue;
        }
        let path = filled(&path, class, student);
        let (status, answer) = send(relay, &method, &path, headers, "{}").await;
        if status != 401 {
            answered.push(format!(
                "{method} {path}: {}",
                answer.lines().next().unwrap_or("")
            ));
        }
    }
    answered
}

#[tokio::test]
async fn a_classroom_relay_refuses_anonymous_callers_and_closed_classes_all_but_the_way_in() {
    let relay = start(classroom).await;
    let class = make_class(&relay, r#"{"name":"Monday"}"#).await;
    let joined = join_json(&relay, class["join_code"].as_str().unwrap(), "Mallory").await;
    let (token, me) = (
        joined["token"].as_str().unwrap(),
        joined["student"].as_str().unwrap(),
    );
    let origin = own_origin(&relay);
    let answered = refused_by_all(&relay, &class, me, &[JSON, &origin]).await;
    assert!(
        answered.is_empty(),
        "answered anonymous callers:\n{}",
        answered.join("\n")
    );
    // The class's student is answered by the lab's tools; once the class
    // is closed, by nothing but the way in.
    let as_student = bearer(token);
    let as_cookie = format!("Cookie: wirelab_token={token}");
    for tool in ["/api/dns/traces", "/api/proxy/log", "/api/targets"] {
        let (status, answer) = send(&relay, "GET", tool, &[&as_student], "").await;
        assert_eq!(status, 200, "{tool}: {answer}");
    }
    let closed = format!("/api/classes/{}", class["id"].as_str().unwrap());
    let (status, _, _) = relay.request("DELETE", &closed, &[&instructor()], "").await;
    assert_eq!(status, 200);
    for headers in [
        vec![as_student.as_str(), JSON],
        vec![as_cookie.as_str(), &origin, JSON],
    ] {
        let answered = refused_by_all(&relay, &class, me, &headers).await;
        assert!(
            answered.is_empty(),
            "answered a closed class's token:\n{}",
            answered.join("\n")
        );
    }
}
