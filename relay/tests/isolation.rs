//! A classroom student sees only their own sessions, mailboxes, files,
//! recordings, swarms and progress: each is tried by another student of the same
//! class and by a student of another class, and every try is refused (or
//! shows the trier their own, untouched copy).

mod common;

use common::class::*;
use common::*;
use wirelab_shared::relay_protocol::ErrorCode;

/// Two students of one class and one of another.
struct Classes {
    relay: TestRelay,
    first: serde_json::Value,
    second: serde_json::Value,
    /// `(token, student id)` of Alice and Bob (first class), Carol (second).
    alice: (String, String),
    bob: (String, String),
    carol: (String, String),
}

async fn two_classes() -> Classes {
    let relay = start(classroom).await;
    let first = make_class(&relay, r#"{"name":"Monday"}"#).await;
    let second = make_class(&relay, r#"{"name":"Tuesday"}"#).await;
    let member = |class: &serde_json::Value, name: &'static str| {
        let relay = &relay;
        let code = class["join_code"].as_str().unwrap().to_string();
        async move {
            let j = join_json(relay, &code, name).await;
            (
                j["token"].as_str().unwrap().to_string(),
                j["student"].as_str().unwrap().to_string(),
            )
        }
    };
    let alice = member(&first, "Alice").await;
    let bob = member(&first, "Bob").await;
    let carol = member(&second, "Carol").await;
    Classes {
        relay,
        first,
        second,
        alice,
        bob,
        carol,
    }
}

async fn say(ws: &mut Ws, line: &str) -> String {
    if !line.is_empty() {
        send_bytes(ws, format!("{line}\r\n").as_bytes()).await;
    }
    let mut got = String::new();
    while !got.ends_with("\r\n") {
        got.push_str(&String::from_utf8_lossy(&next_bytes(ws).await));
    }
    got
}

/// How many messages bob@hamburger.edu has in the caller's mailboxes.
async fn bobs_messages(relay: &TestRelay, token: &str) -> u64 {
    let (status, _, body) = relay
        .request("GET", "/api/mailboxes", &[&bearer(token)], "")
        .await;
    assert_eq!(status, 200, "{body}");
    let boxes: serde_json::Value = serde_json::from_str(&body).unwrap();
    boxes
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["address"] == "bob@hamburger.edu")
        .and_then(|b| b["messages"].as_u64())
        .unwrap()
}

#[tokio::test]
async fn sessions_are_the_instructors_to_see_not_another_students() {
    let c = two_classes().await;
    let (first, second) = (
        c.first["id"].as_str().unwrap(),
        c.second["id"].as_str().unwrap(),
    );
    let alice = &c.alice.1;
    for (who, token) in [
        ("Bob", &c.bob.0),
        ("Carol", &c.carol.0),
        ("Alice", &c.alice.0),
    ] {
        for path in [
            format!("/api/classes/{first}"),
            format!("/api/classes/{first}/roster"),
            format!("/api/classes/{first}/events"),
            format!("/api/classes/{first}/students/{alice}/sessions"),
            format!("/api/classes/{second}/roster"),
        ] {
            let (status, _, body) = c.relay.request("GET", &path, &[&bearer(token)], "").await;
            assert_eq!(status, 401, "{who} {path}: {body}");
        }
    }
    // Carol's token is no way into Monday: joining it with her token as the
    // "previous" one gives her a new id there, not hers of Tuesday.
    let (status, _, body) = c
        .relay
        .request(
            "POST",
            "/api/join",
            &["Content-Type: application/json", &bearer(&c.carol.0)],
            &serde_json::json!({"code": c.first["join_code"], "name": "Carol"}).to_string(),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let joined: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_ne!(joined["student"].as_str().unwrap(), c.carol.1);
}

#[tokio::test]
async fn mailboxes_are_each_students_own() {
    let c = two_classes().await;
    let relay = &c.relay;
    // Alice mails bob through her session: her copy of bob has three.
    let mut smtp = relay
        .open(&format!("target=smtp&token={}", c.alice.0))
        .await;
    expect_connected(&mut smtp).await;
    say(&mut smtp, "").await;
    for line in [
        "HELO crepes.fr",
        "MAIL FROM:<alice@crepes.fr>",
        "RCPT TO:<bob@hamburger.edu>",
        "DATA",
    ] {
        say(&mut smtp, line).await;
    }
    let accepted = say(&mut smtp, "Subject: Alice's\r\n\r\nHi\r\n.").await;
    assert!(accepted.starts_with("250"), "{accepted}");
    assert_eq!(bobs_messages(relay, &c.alice.0).await, 3);
    assert_eq!(bobs_messages(relay, &c.bob.0).await, 2);
    assert_eq!(bobs_messages(relay, &c.carol.0).await, 2);
    // Over POP3 too: Bob and Carol log in as bob and find two.
    for token in [&c.bob.0, &c.carol.0] {
        let mut pop3 = relay.open(&format!("target=pop3&token={token}")).await;
        expect_connected(&mut pop3).await;
        say(&mut pop3, "").await;
        say(&mut pop3, "USER bob").await;
        say(&mut pop3, "PASS hungry").await;
        let stat = say(&mut pop3, "STAT").await;
        assert!(stat.starts_with("+OK 2 "), "{stat}");
    }
    // Resetting "bob" resets the caller's own copy only.
    for token in [&c.bob.0, &c.carol.0] {
        let (status, _, body) = relay
            .request(
                "POST",
                "/api/mailboxes/bob@hamburger.edu/reset",
                &[&bearer(token)],
                "",
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(bobs_messages(relay, &c.alice.0).await, 3);
}

#[tokio::test]
async fn files_are_each_students_own() {
    let c = two_classes().await;
    let ftp = |token: String| {
        let relay = &c.relay;
        async move {
            let mut ws = relay.open(&format!("target=ftp&token={token}")).await;
            expect_connected(&mut ws).await;
            say(&mut ws, "").await;
            say(&mut ws, "USER student").await;
            let logged = say(&mut ws, "PASS student").await;
            assert!(logged.starts_with("230"), "{logged}");
            ws
        }
    };
    let mut alices = ftp(c.alice.0.clone()).await;
    let made = say(&mut alices, "MKD alices-folder").await;
    assert!(made.starts_with("257"), "{made}");
    let stored = say(&mut alices, "CWD alices-folder").await;
    assert!(stored.starts_with("250"), "{stored}");
    for token in [&c.bob.0, &c.carol.0] {
        let mut theirs = ftp(token.clone()).await;
        let refused = say(&mut theirs, "CWD alices-folder").await;
        assert!(refused.starts_with("550"), "{refused}");
        // Nor by a path out of their home into hers.
        let refused = say(&mut theirs, "CWD ../../s-x/ftp").await;
        assert!(refused.starts_with("550"), "{refused}");
    }
}

#[tokio::test]
async fn recordings_are_each_students_own() {
    let c = two_classes().await;
    let relay = &c.relay;
    let mut ws = relay
        .open(&format!("target=upper-tcp&record=1&token={}", c.alice.0))
        .await;
    let connected = expect_connected(&mut ws).await;
    let id = connected["recording"].as_str().unwrap().to_string();
    send_bytes(&mut ws, b"secret homework\n").await;
    next_bytes(&mut ws).await;
    let paths = [
        format!("/api/recordings/{id}"),
        format!("/api/recordings/{id}/text"),
        format!("/api/recordings/{id}/pcapng"),
    ];
    for path in &paths {
        let (status, _, _) = relay.request("GET", path, &[&bearer(&c.alice.0)], "").await;
        assert_eq!(status, 200, "Alice {path}");
        for (who, token) in [("Bob", &c.bob.0), ("Carol", &c.carol.0)] {
            let (status, _, body) = relay.request("GET", path, &[&bearer(token)], "").await;
            assert_eq!(status, 403, "{who} {path}: {body}");
            assert!(!body.contains("homework"));
        }
        let (status, _, _) = relay.request("GET", path, &[], "").await;
        assert_eq!(status, 401, "anonymous {path}");
    }
    for token in [&c.bob.0, &c.carol.0] {
        let (status, _, body) = relay
            .request("GET", "/api/recordings", &[&bearer(token)], "")
            .await;
        assert_eq!(status, 200);
        assert!(!body.contains(&id), "{body}");
    }
    let (_, _, body) = relay
        .request("GET", "/api/recordings", &[&bearer(&c.alice.0)], "")
        .await;
    assert!(body.contains(&id), "{body}");
}

/// `GET /api/tasks?page=<page>` as `token`, as JSON.
async fn tasks_of(relay: &TestRelay, page: &str, token: &str) -> serde_json::Value {
    let (status, _, body) = relay
        .request(
            "GET",
            &format!("/api/tasks?page={page}"),
            &[&bearer(token)],
            "",
        )
        .await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

fn task_status(list: &serde_json::Value, task: &str) -> String {
    list["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == task)
        .and_then(|t| t["status"].as_str())
        .unwrap_or_else(|| panic!("no {task} in {list}"))
        .to_string()
}

/// A class's grid, as the instructor gets it.
async fn grid(relay: &TestRelay, class: &serde_json::Value) -> serde_json::Value {
    let path = format!("/api/classes/{}/progress", class["id"].as_str().unwrap());
    let (status, _, body) = relay.request("GET", &path, &[&instructor()], "").await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// The status of `task` in student `id`'s row of `grid`, `None` without a row.
fn grid_cell(grid: &serde_json::Value, id: &str, task: &str) -> Option<String> {
    let row = grid["students"]
        .as_array()?
        .iter()
        .find(|s| s["id"] == id)?;
    let cell = row["cells"]
        .as_array()?
        .iter()
        .find(|c| c["task"] == task)?;
    cell["status"].as_str().map(str::to_string)
}

/// A HEAD request over `/ws` as `token`, answered.
async fn head_request(relay: &TestRelay, token: &str) {
    let mut ws = relay.open(&format!("target=http&token={token}")).await;
    expect_connected(&mut ws).await;
    send_bytes(
        &mut ws,
        b"HEAD /index.html HTTP/1.1\r\nHost: www.someschool.edu\r\n\r\n",
    )
    .await;
    let answer = next_bytes(&mut ws).await;
    assert!(answer.starts_with(b"HTTP/1.1 200"), "{answer:?}");
}

#[tokio::test]
async fn progress_is_each_students_own() {
    let c = two_classes().await;
    let relay = &c.relay;
    let feed_of = |token: &String| {
        let auth = bearer(token);
        async move { EventFeed::open(relay, "/api/tasks/events", &[&auth]).await }
    };
    let mut bobs_feed = feed_of(&c.bob.0).await;
    let mut carols_feed = feed_of(&c.carol.0).await;

    // Alice has a line upper-cased: her sockets task passes.
    let mut ws = relay
        .open(&format!("target=upper-tcp&token={}", c.alice.0))
        .await;
    expect_connected(&mut ws).await;
    send_bytes(&mut ws, b"hello\n").await;
    assert_eq!(next_bytes(&mut ws).await, b"HELLO\n");
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while task_status(
        &tasks_of(relay, "sockets", &c.alice.0).await,
        "sockets-upper",
    ) != "passed"
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "Alice's pass within 5 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    // Bob's and Carol's own lists do not have it.
    for (who, token) in [("Bob", &c.bob.0), ("Carol", &c.carol.0)] {
        let theirs = tasks_of(relay, "sockets", token).await;
        assert_eq!(
            task_status(&theirs, "sockets-upper"),
            "todo",
            "{who}: {theirs}"
        );
    }
    // Monday's grid has it in Alice's row alone; Tuesday's has no Alice.
    let monday = grid(relay, &c.first).await;
    assert_eq!(
        grid_cell(&monday, &c.alice.1, "sockets-upper").as_deref(),
        Some("passed")
    );
    assert_eq!(
        grid_cell(&monday, &c.bob.1, "sockets-upper").as_deref(),
        Some("todo")
    );
    let tuesday = grid(relay, &c.second).await;
    assert_eq!(
        grid_cell(&tuesday, &c.alice.1, "sockets-upper"),
        None,
        "{tuesday}"
    );
    assert_eq!(
        grid_cell(&tuesday, &c.carol.1, "sockets-upper").as_deref(),
        Some("todo")
    );
    // Neither class's grid, JSON or CSV, is a student's to read.
    for class in [&c.first, &c.second] {
        let id = class["id"].as_str().unwrap();
        for path in [
            format!("/api/classes/{id}/progress"),
            format!("/api/classes/{id}/progress.csv"),
        ] {
            for (who, token) in [("Bob", &c.bob.0), ("Carol", &c.carol.0)] {
                let (status, _, body) = relay.request("GET", &path, &[&bearer(token)], "").await;
                assert_eq!(status, 401, "{who} {path}: {body}");
                assert!(!body.contains(&c.alice.1), "{body}");
            }
        }
    }
    // Their live feeds did not carry Alice's tick: the first tick each
    // hears is of their own HEAD request, made after her pass.
    for (token, feed) in [(&c.bob.0, &mut bobs_feed), (&c.carol.0, &mut carols_feed)] {
        head_request(relay, token).await;
        let tick = feed.next_of("tick").await;
        let task = tick["task"].as_str().unwrap_or_default();
        assert!(task.starts_with("http-"), "heard another's tick: {tick}");
    }
}

/// A one-leecher swarm made by the student with `token`: its id.
async fn make_a_swarm(relay: &TestRelay, token: &str) -> u64 {
    let (status, _, body) = relay
        .request(
            "POST",
            "/api/swarms",
            &[&bearer(token), "Content-Type: application/json"],
            r#"{"peers": 1, "file_size": 65536, "piece_size": 16384}"#,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str::<serde_json::Value>(&body).unwrap()["id"]
        .as_u64()
        .unwrap()
}

#[tokio::test]
async fn swarms_are_each_students_own() {
    let c = two_classes().await;
    let relay = &c.relay;
    let id = make_a_swarm(relay, &c.alice.0).await;
    let paths = [
        format!("/api/swarms/{id}"),
        format!("/api/swarms/{id}/torrent"),
    ];
    for (who, token) in [("Bob", &c.bob.0), ("Carol", &c.carol.0)] {
        for path in &paths {
            let (status, _, body) = relay.request("GET", path, &[&bearer(token)], "").await;
            assert_eq!(status, 404, "{who} {path}: {body}");
        }
        let (status, _, body) = relay
            .request("DELETE", &paths[0], &[&bearer(token)], "")
            .await;
        assert_eq!(status, 404, "{who} stopping it: {body}");
        let (status, _, body) = relay
            .request("GET", "/api/swarms", &[&bearer(token)], "")
            .await;
        assert_eq!((status, body.as_str()), (200, "[]"), "{who}'s list");
    }
    let (_, _, listed) = relay
        .request("GET", "/api/swarms", &[&bearer(&c.alice.0)], "")
        .await;
    assert!(
        listed.contains(&format!("\"id\":{id}")),
        "Alice's list: {listed}"
    );
    // Still running: Alice and the instructor see it; she stops it.
    for path in &paths {
        let (status, _, _) = relay.request("GET", path, &[&bearer(&c.alice.0)], "").await;
        assert_eq!(status, 200, "Alice {path}");
        let (status, _, _) = relay.request("GET", path, &[&instructor()], "").await;
        assert_eq!(status, 200, "the instructor {path}");
    }
    let (status, _, _) = relay
        .request("DELETE", &paths[0], &[&bearer(&c.alice.0)], "")
        .await;
    assert_eq!(status, 204);
}

/// A student's `/ws` session to a peer of a swarm: the swarm's maker
/// reaches it although the class reaches no typed hosts; a classmate, a
/// student of another class and a page without a token are refused.
#[tokio::test]
async fn a_swarms_peers_are_reachable_by_its_maker_alone() {
    let c = two_classes().await;
    let relay = &c.relay;
    let id = make_a_swarm(relay, &c.alice.0).await;
    let (_, _, view) = relay
        .request(
            "GET",
            &format!("/api/swarms/{id}"),
            &[&bearer(&c.alice.0)],
            "",
        )
        .await;
    let view: serde_json::Value = serde_json::from_str(&view).unwrap();
    let seed: std::net::SocketAddr = view["peers"][0]["address"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let peer = format!("host={}&port={}", seed.ip(), seed.port());

    let mut alice = relay.open(&format!("{peer}&token={}", c.alice.0)).await;
    let connected = expect_connected(&mut alice).await;
    assert_eq!(connected["peer"], seed.to_string(), "{connected}");
    // Her class still reaches no other typed host.
    let mut elsewhere = relay
        .open(&format!("host=127.0.0.1&port=25&token={}", c.alice.0))
        .await;
    let (code, message) = expect_error(&mut elsewhere).await;
    assert_eq!(code, ErrorCode::Forbidden, "{message}");
    assert!(message.contains("not hosts you type"), "{message}");

    for (who, token) in [("Bob", &c.bob.0), ("Carol", &c.carol.0)] {
        let mut ws = relay.open(&format!("{peer}&token={token}")).await;
        let (code, message) = expect_error(&mut ws).await;
        assert_eq!(code, ErrorCode::Forbidden, "{who}: {message}");
        assert!(
            message.contains("another student's swarm"),
            "{who}: {message}"
        );
    }
    let mut anonymous = relay.open(&peer).await;
    let (code, message) = expect_error(&mut anonymous).await;
    assert_eq!(code, ErrorCode::Auth, "{message}");
}
