//! Classroom mode end to end: the instructor makes a class, students join
//! (by API and by the join page's cookie), tokens are checked for
//! signature, expiry, scope and class, the instructor sees the activity,
//! and servers can tell which student a connection is for; a closed
//! class's or a revoked student's open task feed ends like their sessions.

mod common;

use common::class::{KEY, classroom, instructor, join_json, make_class};
use common::*;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wirelab_relay::classroom::token::{Claims, TokenKey};
use wirelab_shared::relay_protocol::{ErrorCode, Transport};

/// Joins through the API; returns the token.
async fn join(relay: &TestRelay, code: &str, name: &str) -> String {
    let json = join_json(relay, code, name).await;
    json["token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn nothing_works_without_a_token() {
    let relay = start(classroom).await;
    let mut ws = relay.open("target=upper-tcp").await;
    let (code, message) = expect_error(&mut ws).await;
    assert_eq!(code, ErrorCode::Auth);
    assert!(message.contains("join your class"), "{message}");
    expect_close(&mut ws, 1008).await;
    for path in [
        "/api/targets",
        "/api/classes",
        "/api/metrics",
        "/api/recordings",
    ] {
        let (status, _, body) = relay.request("GET", path, &[], "").await;
        assert_eq!(status, 401, "{path}: {body}");
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["code"], "auth", "{path}");
    }
    // Health stays open for load balancers.
    assert_eq!(relay.get("/api/health").await.0, 200);
}

#[tokio::test]
async fn a_student_reaches_what_the_class_allows_until_it_closes() {
    let relay = start(classroom).await;
    let class = make_class(&relay, r#"{"name":"Lab 3","targets":["upper-tcp"]}"#).await;
    let join_url = class["join_url"].as_str().unwrap();
    assert!(
        join_url.starts_with(&format!("http://{}/join/", relay.relay.addr)),
        "{join_url}"
    );
    let code = class["join_code"].as_str().unwrap();
    let id = class["id"].as_str().unwrap();
    let token = join(&relay, code, "Alice").await;
    // A student is not the instructor.
    let (status, _, _) = relay
        .request(
            "GET",
            "/api/classes",
            &[&format!("Authorization: Bearer {token}")],
            "",
        )
        .await;
    assert_eq!(status, 401);

    // In scope: by query parameter and by cookie.
    let mut ws = relay.open(&format!("target=upper-tcp&token={token}")).await;
    expect_connected(&mut ws).await;
    send_bytes(&mut ws, b"hello\n").await;
    assert_eq!(next_bytes(&mut ws).await, b"HELLO\n");
    let cookie = format!("wirelab_token={token}");
    let mut by_cookie = relay
        .open_with("target=upper-tcp", &[("cookie", &cookie)])
        .await;
    expect_connected(&mut by_cookie).await;

    // Out of scope: another catalog target, a custom target.
    let mut ws2 = relay.open(&format!("target=upper-udp&token={token}")).await;
    let (code_, message) = expect_error(&mut ws2).await;
    assert_eq!(code_, ErrorCode::Forbidden);
    assert!(
        message.contains("does not include the target upper-udp"),
        "{message}"
    );
    let mut ws3 = relay
        .open(&format!("host=127.0.0.1&port=80&token={token}"))
        .await;
    let (code_, message) = expect_error(&mut ws3).await;
    assert_eq!(code_, ErrorCode::Forbidden);
    assert!(message.contains("not hosts you type"), "{message}");

    // The catalog shows what the token allows.
    let (status, _, body) = relay
        .request(
            "GET",
            "/api/targets",
            &[&format!("Authorization: Bearer {token}")],
            "",
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        body.contains("upper-tcp") && !body.contains("upper-udp"),
        "{body}"
    );

    // The instructor sees Alice and her open sessions.
    let (status, _, body) = relay
        .request("GET", &format!("/api/classes/{id}"), &[&instructor()], "")
        .await;
    assert_eq!(status, 200, "{body}");
    let activity: serde_json::Value = serde_json::from_str(&body).unwrap();
    let alice = &activity["students"][0];
    assert_eq!(alice["name"], "Alice");
    assert_eq!(alice["open"].as_array().unwrap().len(), 2, "{body}");
    // Once closed, the sessions are in the class's log.
    drop(ws);
    drop(by_cookie);
    let mut logged = 0;
    for _ in 0..100 {
        let (_, _, body) = relay
            .request("GET", &format!("/api/classes/{id}"), &[&instructor()], "")
            .await;
        let activity: serde_json::Value = serde_json::from_str(&body).unwrap();
        logged = activity["students"][0]["sessions"]
            .as_array()
            .unwrap()
            .len();
        if logged == 2 {
            let first = &activity["students"][0]["sessions"][0];
            assert_eq!(first["target"], "upper-tcp");
            assert!(first["bytes_to_target"].as_u64().unwrap() <= 6);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(logged, 2);

    // Closing the class ends every token.
    let (status, _, _) = relay
        .request(
            "DELETE",
            &format!("/api/classes/{id}"),
            &[&instructor()],
            "",
        )
        .await;
    assert_eq!(status, 200);
    let mut ws = relay.open(&format!("target=upper-tcp&token={token}")).await;
    let (code_, message) = expect_error(&mut ws).await;
    assert_eq!(code_, ErrorCode::Auth);
    assert!(message.contains("closed"), "{message}");
}

#[tokio::test]
async fn expired_and_forged_tokens_are_refused() {
    let relay = start(classroom).await;
    let class = make_class(&relay, r#"{"name":"Lab"}"#).await;
    let now = wirelab_relay::classroom::unix_now();
    let claims = |exp: u64, custom: bool| Claims {
        class: class["id"].as_str().unwrap().into(),
        sub: "s-test".into(),
        name: "Mallory".into(),
        iat: now - 7200,
        exp,
        targets: vec![],
        custom,
    };
    let key = TokenKey::new(KEY.as_bytes());
    let cases = [
        (key.sign(&claims(now - 60, false)), "expired"),
        (
            TokenKey::new(b"not the relay's key, but long enough").sign(&claims(now + 600, true)),
            "not valid",
        ),
        ("wl1.garbage.garbage".to_string(), "not valid"),
    ];
    for (token, words) in cases {
        let mut ws = relay.open(&format!("target=upper-tcp&token={token}")).await;
        let (code, message) = expect_error(&mut ws).await;
        assert_eq!(code, ErrorCode::Auth);
        assert!(message.contains(words), "{message}");
    }
    // The same claims signed with the relay's key, unexpired, work.
    let good = key.sign(&claims(now + 600, false));
    let mut ws = relay.open(&format!("target=upper-tcp&token={good}")).await;
    expect_connected(&mut ws).await;
}

#[tokio::test]
async fn the_join_page_sets_a_cookie_the_page_then_uses() {
    let relay = start(classroom).await;
    let class = make_class(&relay, r#"{"name":"Networks <101>"}"#).await;
    let code = class["join_code"].as_str().unwrap();
    let (status, _, body) = relay
        .request("GET", &format!("/join/{code}"), &[], "")
        .await;
    assert_eq!(status, 200);
    assert!(body.contains("Join Networks &lt;101&gt;"), "{body}");
    assert!(body.contains("<form method=\"post\""));
    let (status, head, body) = relay
        .request(
            "POST",
            &format!("/join/{code}"),
            &["Content-Type: application/x-www-form-urlencoded"],
            "name=Bob+B.",
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Welcome, Bob B."), "{body}");
    let cookie_line = head
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .unwrap();
    assert!(cookie_line.contains("HttpOnly") && cookie_line.contains("SameSite=Strict"));
    let cookie = cookie_line
        .split_once(':')
        .unwrap()
        .1
        .split(';')
        .next()
        .unwrap()
        .trim()
        .to_string();
    let mut ws = relay
        .open_with("target=upper-udp", &[("cookie", &cookie)])
        .await;
    expect_connected(&mut ws).await;
    let (status, _, _) = relay.request("GET", "/join/not-a-code", &[], "").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn each_student_has_a_connection_limit() {
    let relay = start(|c| {
        classroom(c);
        c.limits.max_connections_per_token = 2;
    })
    .await;
    let class = make_class(&relay, r#"{"name":"Lab"}"#).await;
    let code = class["join_code"].as_str().unwrap();
    let alice = join(&relay, code, "Alice").await;
    let bob = join(&relay, code, "Bob").await;
    let mut open = Vec::new();
    for _ in 0..2 {
        let mut ws = relay.open(&format!("target=upper-tcp&token={alice}")).await;
        expect_connected(&mut ws).await;
        open.push(ws);
    }
    let mut third = relay.open(&format!("target=upper-tcp&token={alice}")).await;
    let (code_, message) = expect_error(&mut third).await;
    assert_eq!(code_, ErrorCode::Limit);
    assert!(message.contains("max_connections_per_token"), "{message}");
    // Bob has his own.
    let mut ws = relay.open(&format!("target=upper-tcp&token={bob}")).await;
    expect_connected(&mut ws).await;
}

#[tokio::test]
async fn servers_can_tell_which_student_a_connection_is_for() {
    // A server that reports the address each connection comes from.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<SocketAddr>(4);
    tokio::spawn(async move {
        while let Ok((mut stream, remote)) = listener.accept().await {
            let _ = tx.send(remote).await;
            tokio::spawn(async move {
                let mut buf = [0u8; 64];
                while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
            });
        }
    });
    let relay = start(move |c| {
        classroom(c);
        c.policy = toml::from_str(&format!(
            "[[targets]]\nname = \"mail-ish\"\nhost = \"127.0.0.1\"\nport = {port}\n"
        ))
        .unwrap();
    })
    .await;
    let class = make_class(&relay, r#"{"name":"Lab"}"#).await;
    let token = join(&relay, class["join_code"].as_str().unwrap(), "Alice").await;
    let mut ws = relay.open(&format!("target=mail-ish&token={token}")).await;
    expect_connected(&mut ws).await;
    let remote = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    let identities = &relay.relay.state.identities;
    let who = identities
        .student_at(Transport::Tcp, remote)
        .expect("the connection is Alice's");
    assert_eq!(who.name, "Alice");
    assert_eq!(who.class.as_str(), class["id"].as_str().unwrap());
    assert!(who.data_subdir().starts_with("classes"));
    drop(ws);
    // When the session ends, the address belongs to nobody.
    for _ in 0..100 {
        if identities.student_at(Transport::Tcp, remote).is_none() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the registration outlived the session");
}

/// Sends one line on a bridged connection and reads until `done` says the
/// reply is complete.
async fn say(ws: &mut Ws, line: &str, done: impl Fn(&str) -> bool) -> String {
    if !line.is_empty() {
        send_bytes(ws, format!("{line}\r\n").as_bytes()).await;
    }
    let mut got = String::new();
    while !done(&got) {
        got.push_str(&String::from_utf8_lossy(&next_bytes(ws).await));
    }
    got
}

fn line_done(text: &str) -> bool {
    text.ends_with("\r\n")
}

fn listing_done(text: &str) -> bool {
    text.ends_with("\r\n.\r\n") || text.starts_with("-ERR")
}

#[tokio::test]
async fn each_student_has_mailboxes_and_files_of_their_own() {
    let relay = start(classroom).await;
    let class = make_class(&relay, r#"{"name":"Mail lab"}"#).await;
    let code = class["join_code"].as_str().unwrap();
    let alice = join(&relay, code, "Alice").await;
    let bob = join(&relay, code, "Bob").await;

    // Alice mails bob@hamburger.edu through her own session.
    let mut smtp = relay.open(&format!("target=smtp&token={alice}")).await;
    expect_connected(&mut smtp).await;
    say(&mut smtp, "", line_done).await;
    for line in [
        "HELO crepes.fr",
        "MAIL FROM:<alice@crepes.fr>",
        "RCPT TO:<bob@hamburger.edu>",
        "DATA",
    ] {
        say(&mut smtp, line, line_done).await;
    }
    let accepted = say(
        &mut smtp,
        "Subject: only for Alice's copy\r\n\r\nDo you like ketchup?\r\n.",
        line_done,
    )
    .await;
    assert!(accepted.starts_with("250"), "{accepted}");

    // Alice's copy of bob's mailbox has the new message; Bob's has only the
    // course's two, and so does the shared one.
    let list = |token: String| {
        let relay = &relay;
        async move {
            let mut pop3 = relay.open(&format!("target=pop3&token={token}")).await;
            expect_connected(&mut pop3).await;
            say(&mut pop3, "", line_done).await;
            say(&mut pop3, "USER bob", line_done).await;
            say(&mut pop3, "PASS hungry", line_done).await;
            say(&mut pop3, "LIST", listing_done).await
        }
    };
    let alices = list(alice.clone()).await;
    assert!(alices.contains("\r\n3 "), "{alices}");
    let bobs = list(bob.clone()).await;
    assert!(
        bobs.contains("\r\n2 ") && !bobs.contains("\r\n3 "),
        "{bobs}"
    );
    let shared = relay
        ._data
        .path()
        .join("mail/bob@hamburger.edu/new")
        .read_dir()
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(shared, 2, "the shared mailbox is untouched");
    // The mailbox API shows each student their own.
    let (_, _, body) = relay
        .request(
            "GET",
            "/api/mailboxes",
            &[&format!("Authorization: Bearer {alice}")],
            "",
        )
        .await;
    let boxes: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(boxes[0]["messages"], 3, "{boxes}");

    // Files too: Alice's FTP tree is hers.
    let mut ftp = relay.open(&format!("target=ftp&token={alice}")).await;
    expect_connected(&mut ftp).await;
    say(&mut ftp, "", line_done).await;
    say(&mut ftp, "USER student", line_done).await;
    say(&mut ftp, "PASS student", line_done).await;
    let made = say(&mut ftp, "MKD alices-folder", line_done).await;
    assert!(made.starts_with("257"), "{made}");
    let students = relay._data.path().join("classes");
    let alice_dirs: Vec<_> = walk(&students)
        .into_iter()
        .filter(|p| p.ends_with("ftp/alices-folder"))
        .collect();
    assert_eq!(alice_dirs.len(), 1, "{alice_dirs:?}");
    assert!(!relay._data.path().join("ftp/alices-folder").exists());
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            out.push(p.clone());
            if p.is_dir() {
                out.extend(walk(&p));
            }
        }
    }
    out
}

/// Opens `/api/tasks/events` as `token`; returns the stream after its head.
async fn task_feed(relay: &TestRelay, token: &str) -> TcpStream {
    let mut stream = TcpStream::connect(relay.relay.addr).await.unwrap();
    let request = format!(
        "GET /api/tasks/events HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n",
        relay.relay.addr
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        assert_eq!(stream.read(&mut byte).await.unwrap(), 1, "the feed's head");
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    stream
}

/// Reads the feed until the relay ends it, or until `needle` arrives;
/// returns what it read. Fails after 5 s of neither.
async fn read_feed(stream: &mut TcpStream, needle: Option<&str>) -> (bool, String) {
    let mut text = String::new();
    loop {
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut chunk))
            .await
            .unwrap_or_else(|_| panic!("the feed neither ended nor said {needle:?}: {text}"))
            .unwrap_or(0);
        if n == 0 {
            return (true, text);
        }
        text.push_str(&String::from_utf8_lossy(&chunk[..n]));
        if needle.is_some_and(|n| text.contains(n)) {
            return (false, text);
        }
    }
}

#[tokio::test]
async fn a_closed_class_or_a_revoked_student_ends_their_open_task_feed() {
    let relay = start(classroom).await;
    // Closing the class ends its student's feed.
    let class = make_class(&relay, r#"{"name":"Monday"}"#).await;
    let token = join(&relay, class["join_code"].as_str().unwrap(), "Ann").await;
    let mut feed = task_feed(&relay, &token).await;
    let path = format!("/api/classes/{}", class["id"].as_str().unwrap());
    let (status, _, _) = relay.request("DELETE", &path, &[&instructor()], "").await;
    assert_eq!(status, 200);
    let (ended, _) = read_feed(&mut feed, None).await;
    assert!(ended);

    // Revoking a student ends theirs; their classmate's stays and ticks.
    let class = make_class(&relay, r#"{"name":"Tuesday"}"#).await;
    let code = class["join_code"].as_str().unwrap();
    let gone = join_json(&relay, code, "Cy").await;
    let stays = join(&relay, code, "Di").await;
    let mut gone_feed = task_feed(&relay, gone["token"].as_str().unwrap()).await;
    let mut kept_feed = task_feed(&relay, &stays).await;
    let revoke = format!(
        "/api/classes/{}/students/{}/revoke",
        class["id"].as_str().unwrap(),
        gone["student"].as_str().unwrap()
    );
    let (status, _, body) = relay.request("POST", &revoke, &[&instructor()], "").await;
    assert_eq!(status, 200, "{body}");
    let (ended, _) = read_feed(&mut gone_feed, None).await;
    assert!(ended);
    let mut ws = relay.open(&format!("target=upper-tcp&token={stays}")).await;
    expect_connected(&mut ws).await;
    send_bytes(&mut ws, b"still here\n").await;
    assert_eq!(next_bytes(&mut ws).await, b"STILL HERE\n");
    let (ended, text) = read_feed(&mut kept_feed, Some("sockets-upper")).await;
    assert!(!ended, "the classmate's feed ended: {text}");
}
