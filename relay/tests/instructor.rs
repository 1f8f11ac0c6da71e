//! The instructor's side of classroom mode: signing in from a browser
//! (a cookie, never the secret in a URL), the Origin check on what the
//! cookie changes, the roster, a student's sessions, the class settings,
//! the live feed, revoking a student and closing a class (their open
//! sessions end), resetting a student's data, and a class of 300 joining
//! at once.

mod common;

use common::class::*;
use common::*;
use std::time::Duration;
use wirelab_relay::classroom::store::ClassStore;
use wirelab_shared::relay_protocol::ErrorCode;

/// `(status, body)` of a request.
async fn call(relay: &TestRelay, method: &str, path: &str, headers: &[&str]) -> (u16, String) {
    let (status, _, body) = relay.request(method, path, headers, "").await;
    (status, body)
}

#[tokio::test]
async fn the_instructor_signs_in_with_a_cookie_and_out_again() {
    let relay = start(classroom).await;
    let path = "/api/instructor/session";
    let json = "Content-Type: application/json";
    let (status, _, body) = relay
        .request("POST", path, &[json], r#"{"secret":"guess"}"#)
        .await;
    assert_eq!(status, 401, "{body}");
    // The secret in the URL is not a way in.
    let (status, _, _) = relay
        .request("POST", &format!("{path}?secret={SECRET}"), &[], "")
        .await;
    assert_eq!(status, 401);

    let (status, head, body) = relay
        .request(
            "POST",
            path,
            &[json],
            &serde_json::json!({ "secret": SECRET }).to_string(),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let cookie = set_cookie(&head);
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(
        !cookie.contains(SECRET),
        "the cookie is an id, not the secret"
    );
    let cookie = format!("Cookie: {}", cookie.split(';').next().unwrap());

    // The cookie works wherever the bearer does, changes included (from
    // the relay's own page).
    assert_eq!(call(&relay, "GET", "/api/classes", &[&cookie]).await.0, 200);
    assert_eq!(call(&relay, "GET", "/api/metrics", &[&cookie]).await.0, 200);
    let (status, _, body) = relay
        .request(
            "POST",
            "/api/classes",
            &[&cookie, &own_origin(&relay), json],
            r#"{"name":"Lab"}"#,
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (_, body) = call(&relay, "GET", path, &[&cookie]).await;
    assert!(body.contains("\"instructor\":true"), "{body}");

    // A form works too (the page's sign-in form).
    let (status, head, _) = relay
        .request(
            "POST",
            path,
            &["Content-Type: application/x-www-form-urlencoded"],
            &format!("secret={SECRET}"),
        )
        .await;
    assert_eq!(status, 200);
    assert!(set_cookie(&head).starts_with("wirelab_instructor="));

    // Signing out ends the session and clears the cookie.
    let (status, head, _) = relay
        .request("DELETE", path, &[&cookie, &own_origin(&relay)], "")
        .await;
    assert_eq!(status, 200);
    assert!(set_cookie(&head).contains("Max-Age=0"));
    assert_eq!(call(&relay, "GET", "/api/classes", &[&cookie]).await.0, 401);
    let (_, body) = call(&relay, "GET", path, &[&cookie]).await;
    assert!(body.contains("\"instructor\":false"), "{body}");
}

#[tokio::test]
async fn cookie_authenticated_changes_need_the_relays_own_origin() {
    let relay = start(classroom).await;
    let cookie = sign_in(&relay).await;
    let json = "Content-Type: application/json";
    let make = |headers: Vec<String>| {
        let relay = &relay;
        async move {
            let mut lines: Vec<&str> = headers.iter().map(String::as_str).collect();
            lines.push(json);
            relay
                .request("POST", "/api/classes", &lines, r#"{"name":"Lab"}"#)
                .await
        }
    };
    // A page on another site, or on another port of this one (the same
    // site to SameSite), or no Origin at all: refused.
    for origin in [
        Some("Origin: http://evil.example".to_string()),
        Some(format!(
            "Origin: http://127.0.0.1:{}",
            relay.relay.addr.port() + 1
        )),
        None,
    ] {
        let mut headers = vec![cookie.clone()];
        headers.extend(origin.clone());
        let (status, _, body) = make(headers).await;
        assert_eq!(status, 403, "{origin:?}: {body}");
        assert!(body.contains("own page"), "{body}");
    }
    let (status, _, body) = make(vec![cookie.clone(), own_origin(&relay)]).await;
    assert_eq!(status, 201, "{body}");
    // A program with the bearer and no cookie needs no Origin.
    let (status, _, _) = make(vec![instructor()]).await;
    assert_eq!(status, 201);
    // A student's cookie is held to the same rule.
    let class = make_class(&relay, r#"{"name":"Mail"}"#).await;
    let token = join(&relay, class["join_code"].as_str().unwrap(), "Eve").await;
    let student_cookie = format!("Cookie: wirelab_token={token}");
    let reset = "/api/mailboxes/bob@hamburger.edu/reset";
    let (status, body) = call(
        &relay,
        "POST",
        reset,
        &[&student_cookie, "Origin: http://evil.example"],
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = call(
        &relay,
        "POST",
        reset,
        &[&student_cookie, &own_origin(&relay)],
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn students_and_anonymous_callers_are_refused_the_instructor_endpoints() {
    let relay = start(classroom).await;
    let class = make_class(&relay, r#"{"name":"Lab"}"#).await;
    let id = class["id"].as_str().unwrap();
    let joined = join_json(&relay, class["join_code"].as_str().unwrap(), "Mallory").await;
    let token = joined["token"].as_str().unwrap();
    let me = joined["student"].as_str().unwrap();
    let endpoints = [
        ("GET", "/api/classes".to_string()),
        ("POST", "/api/classes".to_string()),
        ("GET", format!("/api/classes/{id}")),
        ("DELETE", format!("/api/classes/{id}")),
        ("GET", format!("/api/classes/{id}/roster")),
        ("GET", format!("/api/classes/{id}/settings")),
        ("PATCH", format!("/api/classes/{id}/settings")),
        ("GET", format!("/api/classes/{id}/events")),
        ("GET", format!("/api/classes/{id}/students/{me}/sessions")),
        ("POST", format!("/api/classes/{id}/students/{me}/reset")),
        ("POST", format!("/api/classes/{id}/students/{me}/revoke")),
        ("GET", "/api/metrics".to_string()),
    ];
    let as_bearer = bearer(token);
    let as_cookie = format!("Cookie: wirelab_token={token}");
    let origin = own_origin(&relay);
    let callers: [(&str, Vec<&str>); 3] = [
        ("anonymous", vec!["Content-Type: application/json"]),
        (
            "student bearer",
            vec![&as_bearer, "Content-Type: application/json"],
        ),
        (
            "student cookie",
            vec![&as_cookie, &origin, "Content-Type: application/json"],
        ),
    ];
    for (who, headers) in &callers {
        for (method, path) in &endpoints {
            let (status, _, body) = relay.request(method, path, headers, "{}").await;
            assert_eq!(status, 401, "{who} {method} {path}: {body}");
        }
    }
    // None of it happened: the class is open and Mallory not revoked.
    let (_, body) = call(
        &relay,
        "GET",
        &format!("/api/classes/{id}/roster"),
        &[&instructor()],
    )
    .await;
    let roster: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(roster[0].get("revoked_at").is_none(), "{roster}");
    let mut ws = relay.open(&format!("target=upper-tcp&token={token}")).await;
    expect_connected(&mut ws).await;
}

#[tokio::test]
async fn roster_sessions_settings_and_the_live_feed() {
    let relay = start(classroom).await;
    let class = make_class(&relay, r#"{"name":"Lab"}"#).await;
    let id = class["id"].as_str().unwrap();
    let cookie = sign_in(&relay).await;
    let mut feed = EventFeed::open(&relay, &format!("/api/classes/{id}/events"), &[&cookie]).await;

    let alice = join_json(&relay, class["join_code"].as_str().unwrap(), "Alice").await;
    let (token, student) = (
        alice["token"].as_str().unwrap(),
        alice["student"].as_str().unwrap(),
    );
    let joined = feed.next_of("joined").await;
    assert_eq!(
        (joined["student"].as_str(), joined["name"].as_str()),
        (Some(student), Some("Alice"))
    );

    let mut ws = relay
        .open(&format!("target=upper-tcp&record=1&token={token}"))
        .await;
    let connected = expect_connected(&mut ws).await;
    let recording = connected["recording"].as_str().unwrap().to_string();
    let opened = feed.next_of("session_opened").await;
    assert_eq!(opened["target"], "upper-tcp");

    let (status, body) = call(
        &relay,
        "GET",
        &format!("/api/classes/{id}/roster"),
        &[&cookie],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let roster: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(roster[0]["name"], "Alice");
    assert_eq!(roster[0]["online"], true, "{roster}");
    let sessions_path = format!("/api/classes/{id}/students/{student}/sessions");
    let (_, body) = call(&relay, "GET", &sessions_path, &[&cookie]).await;
    let sessions: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(sessions["open"].as_array().unwrap().len(), 1, "{sessions}");

    send_bytes(&mut ws, b"hi\n").await;
    assert_eq!(next_bytes(&mut ws).await, b"HI\n");
    drop(ws);
    let closed = feed.next_of("session_closed").await;
    assert_eq!(closed["student"], student);
    // The finished session is written off the runtime: wait for it.
    let mut finished = serde_json::Value::Null;
    for _ in 0..100 {
        let (_, body) = call(&relay, "GET", &sessions_path, &[&cookie]).await;
        let sessions: serde_json::Value = serde_json::from_str(&body).unwrap();
        if let Some(first) = sessions["finished"].get(0) {
            finished = first.clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(finished["bytes_to_target"], 3, "{finished}");
    assert_eq!(
        finished["pcapng_url"],
        format!("/api/recordings/{recording}/pcapng")
    );
    let (_, body) = call(
        &relay,
        "GET",
        &format!("/api/classes/{id}/roster"),
        &[&cookie],
    )
    .await;
    assert!(body.contains("\"online\":false"), "{body}");

    // Settings apply to the token already handed out.
    let settings = format!("/api/classes/{id}/settings");
    let patch = |body: &'static str| {
        let (relay, settings, cookie) = (&relay, &settings, &cookie);
        async move {
            relay
                .request(
                    "PATCH",
                    settings,
                    &[cookie, &own_origin(relay), "Content-Type: application/json"],
                    body,
                )
                .await
        }
    };
    let (status, _, body) = patch(r#"{"targets":["upper-tcp"],"max_delay_ms":50}"#).await;
    assert_eq!(status, 200, "{body}");
    feed.next_of("settings").await;
    let mut udp = relay.open(&format!("target=upper-udp&token={token}")).await;
    let (code, message) = expect_error(&mut udp).await;
    assert_eq!(code, ErrorCode::Forbidden, "{message}");
    let mut slow = relay
        .open(&format!("target=upper-tcp&delay_ms=200&token={token}"))
        .await;
    let (code, message) = expect_error(&mut slow).await;
    assert_eq!(code, ErrorCode::Limit, "{message}");
    let mut ok = relay
        .open(&format!("target=upper-tcp&delay_ms=50&token={token}"))
        .await;
    expect_connected(&mut ok).await;
    // What the relay cannot give is refused, and so are unknown targets.
    assert_eq!(patch(r#"{"max_delay_ms":999999}"#).await.0, 400);
    assert_eq!(patch(r#"{"targets":["nowhere"]}"#).await.0, 400);
    let (_, body) = call(&relay, "GET", &settings, &[&cookie]).await;
    let now: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(now["targets"], serde_json::json!(["upper-tcp"]));
    assert_eq!(now["max_delay_ms"], 50);

    // Recordings: "always" records without the page asking, "off" even
    // when it asks.
    assert_eq!(patch(r#"{"recordings":"always"}"#).await.0, 200);
    let mut recorded = relay.open(&format!("target=upper-tcp&token={token}")).await;
    let connected = expect_connected(&mut recorded).await;
    assert!(connected["recording"].is_string(), "{connected}");
    assert_eq!(patch(r#"{"recordings":"off"}"#).await.0, 200);
    let mut unrecorded = relay
        .open(&format!("target=upper-tcp&record=1&token={token}"))
        .await;
    let connected = expect_connected(&mut unrecorded).await;
    assert!(connected.get("recording").is_none(), "{connected}");

    // Custom targets: refused by the class, then left to the relay's policy.
    let custom = format!("host=127.0.0.1&port=9&token={token}");
    let mut typed = relay.open(&custom).await;
    let (_, message) = expect_error(&mut typed).await;
    assert!(message.contains("not hosts you type"), "{message}");
    assert_eq!(patch(r#"{"custom_targets":true}"#).await.0, 200);
    let mut typed = relay.open(&custom).await;
    let (_, message) = expect_error(&mut typed).await;
    assert!(!message.contains("not hosts you type"), "{message}");
}

/// The links the instructor page shows beside a student's session work
/// with the page's session cookie alone (no bearer secret), and the
/// student's cookie-less neighbour is refused them.
#[tokio::test]
async fn the_instructor_reads_a_students_recording_with_the_session_cookie() {
    let relay = start(classroom).await;
    let class = make_class(&relay, r#"{"name":"Lab"}"#).await;
    let code = class["join_code"].as_str().unwrap();
    let token = join(&relay, code, "Alice").await;
    let other = join(&relay, code, "Bob").await;
    let cookie = sign_in(&relay).await;

    let mut ws = relay
        .open(&format!("target=upper-tcp&record=1&token={token}"))
        .await;
    let connected = expect_connected(&mut ws).await;
    let recording = connected["recording"].as_str().unwrap().to_string();
    send_bytes(&mut ws, b"recorded line\n").await;
    assert_eq!(next_bytes(&mut ws).await, b"RECORDED LINE\n");

    let text = format!("/api/recordings/{recording}/text");
    let (status, body) = call(&relay, "GET", &text, &[&cookie]).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("recorded line"), "{body}");
    let pcapng = format!("/api/recordings/{recording}/pcapng");
    let (status, _, bytes) = relay.request_bytes("GET", &pcapng, &[&cookie], "").await;
    assert_eq!(status, 200);
    // A pcapng file opens with a Section Header Block.
    assert_eq!(bytes.get(..4), Some(&[0x0a, 0x0d, 0x0d, 0x0a][..]));
    let (status, _) = call(&relay, "GET", &text, &[&bearer(&other)]).await;
    assert_eq!(status, 403, "another student is refused");
    let (status, _) = call(&relay, "GET", &text, &[]).await;
    assert_eq!(status, 401, "an anonymous caller is refused");
}

/// Waits (at most `within`) for the relay to end `ws` with an error, and
/// returns it.
async fn ended(ws: &mut Ws, within: Duration) -> (ErrorCode, String) {
    tokio::time::timeout(within, expect_error(ws))
        .await
        .unwrap_or_else(|_| panic!("the session was not ended within {within:?}"))
}

#[tokio::test]
async fn revoking_a_student_ends_their_open_sessions_within_a_second() {
    let relay = start(classroom).await;
    let class = make_class(&relay, r#"{"name":"Lab"}"#).await;
    let (id, code) = (
        class["id"].as_str().unwrap(),
        class["join_code"].as_str().unwrap(),
    );
    let mallory = join_json(&relay, code, "Mallory").await;
    let token = mallory["token"].as_str().unwrap();
    let bob = join(&relay, code, "Bob").await;
    let mut hers = relay.open(&format!("target=upper-tcp&token={token}")).await;
    expect_connected(&mut hers).await;
    let mut his = relay.open(&format!("target=upper-tcp&token={bob}")).await;
    expect_connected(&mut his).await;

    let student = mallory["student"].as_str().unwrap();
    let (status, body) = call(
        &relay,
        "POST",
        &format!("/api/classes/{id}/students/{student}/revoke"),
        &[&instructor()],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"sessions_ended\":1"), "{body}");
    let (code_, message) = ended(&mut hers, Duration::from_secs(1)).await;
    assert_eq!(code_, ErrorCode::Auth);
    assert!(message.contains("withdrawn"), "{message}");
    expect_close(&mut hers, 1008).await;

    // Bob goes on; Mallory's token and her rejoining from that browser do not.
    send_bytes(&mut his, b"still here\n").await;
    assert_eq!(next_bytes(&mut his).await, b"STILL HERE\n");
    let mut again = relay.open(&format!("target=upper-tcp&token={token}")).await;
    assert_eq!(expect_error(&mut again).await.0, ErrorCode::Auth);
    let (status, _, body) = relay
        .request(
            "POST",
            "/api/join",
            &["Content-Type: application/json", &bearer(token)],
            &serde_json::json!({"code": code, "name": "Mallory"}).to_string(),
        )
        .await;
    assert_eq!(status, 401, "{body}");
    let (_, body) = call(
        &relay,
        "GET",
        &format!("/api/classes/{id}/roster"),
        &[&instructor()],
    )
    .await;
    assert!(body.contains("revoked_at"), "{body}");
}

#[tokio::test]
async fn closing_or_revoking_from_another_process_ends_open_sessions_too() {
    let relay = start(classroom).await;
    // Closed through the API: at once.
    let class = make_class(&relay, r#"{"name":"Monday"}"#).await;
    let token = join(&relay, class["join_code"].as_str().unwrap(), "Ann").await;
    let mut ws = relay.open(&format!("target=upper-tcp&token={token}")).await;
    expect_connected(&mut ws).await;
    let path = format!("/api/classes/{}", class["id"].as_str().unwrap());
    assert_eq!(call(&relay, "DELETE", &path, &[&instructor()]).await.0, 200);
    let (code, message) = ended(&mut ws, Duration::from_secs(1)).await;
    assert_eq!(code, ErrorCode::Auth);
    assert!(message.contains("closed"), "{message}");

    // Closed by another process on the same store (as `wirelab class close`
    // does): the relay's sweep ends the session.
    let class = make_class(&relay, r#"{"name":"Tuesday"}"#).await;
    let token = join(&relay, class["join_code"].as_str().unwrap(), "Ben").await;
    let mut ws = relay.open(&format!("target=upper-udp&token={token}")).await;
    expect_connected(&mut ws).await;
    let cli = ClassStore::open(relay._data.path()).unwrap();
    cli.close(class["id"].as_str().unwrap()).unwrap();
    let (code, message) = ended(&mut ws, Duration::from_secs(3)).await;
    assert_eq!(code, ErrorCode::Auth);
    assert!(message.contains("Tuesday"), "{message}");

    // A student revoked by another process: the same sweep.
    let class = make_class(&relay, r#"{"name":"Wednesday"}"#).await;
    let code = class["join_code"].as_str().unwrap();
    let cid = class["id"].as_str().unwrap();
    let gone = join_json(&relay, code, "Cy").await;
    let stays = join(&relay, code, "Di").await;
    let mut revoked = relay
        .open(&format!(
            "target=upper-tcp&token={}",
            gone["token"].as_str().unwrap()
        ))
        .await;
    expect_connected(&mut revoked).await;
    let mut kept = relay.open(&format!("target=upper-tcp&token={stays}")).await;
    expect_connected(&mut kept).await;
    let now = wirelab_relay::classroom::unix_now();
    cli.revoke_student(cid, gone["student"].as_str().unwrap(), now)
        .unwrap();
    let (code, message) = ended(&mut revoked, Duration::from_secs(3)).await;
    assert_eq!(code, ErrorCode::Auth);
    assert!(message.contains("withdrawn"), "{message}");
    send_bytes(&mut kept, b"on\n").await;
    assert_eq!(next_bytes(&mut kept).await, b"ON\n");
}

#[tokio::test]
async fn a_reset_puts_a_students_mailboxes_and_files_back() {
    let relay = start(classroom).await;
    let class = make_class(&relay, r#"{"name":"Lab"}"#).await;
    let id = class["id"].as_str().unwrap();
    let joined = join_json(&relay, class["join_code"].as_str().unwrap(), "Ada").await;
    let student = joined["student"].as_str().unwrap();
    let reset = format!("/api/classes/{id}/students/{student}/reset");
    // The first reset makes the student's homes (as a first connection would).
    let (status, body) = call(&relay, "POST", &reset, &[&instructor()]).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("bob@hamburger.edu") && body.contains("\"ftp\":true"),
        "{body}"
    );

    let home = relay
        ._data
        .path()
        .join(format!("classes/{id}/students/{student}"));
    std::fs::write(home.join("ftp/extra.txt"), "mine").unwrap();
    std::fs::create_dir(home.join("ftp/made")).unwrap();
    let bob_new = home.join("mail/bob@hamburger.edu/new");
    let messages = || std::fs::read_dir(&bob_new).unwrap().count();
    assert_eq!(messages(), 2);
    let first = std::fs::read_dir(&bob_new)
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    std::fs::remove_file(first.path()).unwrap();
    assert_eq!(messages(), 1);

    let (status, body) = call(&relay, "POST", &reset, &[&instructor()]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(messages(), 2, "bob's two messages are back");
    assert!(!home.join("ftp/extra.txt").exists() && !home.join("ftp/made").exists());
    assert!(home.join("ftp/pub").is_dir(), "the demo files are back");
    // The shared mailboxes were not touched.
    let shared = relay._data.path().join("mail/bob@hamburger.edu/new");
    assert_eq!(std::fs::read_dir(shared).unwrap().count(), 2);
    // An unknown student is not found.
    let (status, _) = call(
        &relay,
        "POST",
        &format!("/api/classes/{id}/students/s-nobody/reset"),
        &[&instructor()],
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn three_hundred_students_join_at_once() {
    let relay = std::sync::Arc::new(start(classroom).await);
    let class = make_class(&relay, r#"{"name":"Lecture hall"}"#).await;
    let code = class["join_code"].as_str().unwrap().to_string();
    let joins: Vec<_> = (0..300)
        .map(|i| {
            let (relay, code) = (relay.clone(), code.clone());
            tokio::spawn(async move { join_json(&relay, &code, &format!("Student {i}")).await })
        })
        .collect();
    let mut students = std::collections::HashSet::new();
    for join in joins {
        let joined = join.await.unwrap();
        assert!(joined["token"].as_str().unwrap().starts_with("wl1."));
        students.insert(joined["student"].as_str().unwrap().to_string());
    }
    assert_eq!(students.len(), 300);
    let id = class["id"].as_str().unwrap();
    let (status, body) = call(
        &relay,
        "GET",
        &format!("/api/classes/{id}/roster"),
        &[&instructor()],
    )
    .await;
    assert_eq!(status, 200);
    let roster: Vec<serde_json::Value> = serde_json::from_str(&body).unwrap();
    let recorded: std::collections::HashSet<String> = roster
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(recorded, students);
}

#[tokio::test]
async fn joining_is_rate_limited_per_address() {
    let relay = start(|c| {
        classroom(c);
        c.limits.max_joins_per_minute = 3;
    })
    .await;
    let class = make_class(&relay, r#"{"name":"Lab"}"#).await;
    let code = class["join_code"].as_str().unwrap();
    for name in ["A", "B", "C"] {
        join(&relay, code, name).await;
    }
    let (status, _, body) = relay
        .request(
            "POST",
            "/api/join",
            &["Content-Type: application/json"],
            &serde_json::json!({"code": code, "name": "D"}).to_string(),
        )
        .await;
    assert_eq!(status, 429, "{body}");
    assert!(body.contains("max_joins_per_minute"), "{body}");
    // The join form and guessing the instructor secret share the budget.
    let (status, _, _) = relay
        .request(
            "POST",
            &format!("/join/{code}"),
            &["Content-Type: application/x-www-form-urlencoded"],
            "name=E",
        )
        .await;
    assert_eq!(status, 400);
    let (status, _, _) = relay
        .request(
            "POST",
            "/api/instructor/session",
            &["Content-Type: application/json"],
            &serde_json::json!({ "secret": SECRET }).to_string(),
        )
        .await;
    assert_eq!(status, 429);
}
