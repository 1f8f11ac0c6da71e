//! Exercises checked from what the relay bridged: real sessions through
//! `/ws` to the reference servers do tasks (every default task but the
//! ones tested apart), `/api/tasks` shows them passed for that learner
//! only, and `/api/tasks/events` ticks live.

mod common;

use common::class::{SECRET, classroom, join_json};
use common::*;
use futures_util::SinkExt;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use wirelab_relay::config::Config;
use wirelab_shared::ftp::address::port_argument;
use wirelab_shared::relay_protocol::RelayMessage;

/// `GET /api/tasks?page=<page>` with extra header lines, as JSON.
async fn tasks(relay: &TestRelay, page: &str, headers: &[&str]) -> serde_json::Value {
    let (status, _, body) = relay
        .request("GET", &format!("/api/tasks?page={page}"), headers, "")
        .await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

fn status_of(list: &serde_json::Value, id: &str) -> String {
    list["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id)
        .unwrap_or_else(|| panic!("no task {id} in {list}"))["status"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Polls the task list until `id` has `status`: the check runs on a task
/// of its own, after the bytes were bridged. Fails after 5 s.
async fn wait_for_status(
    relay: &TestRelay,
    page: &str,
    headers: &[&str],
    id: &str,
    status: &str,
) -> serde_json::Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let list = tasks(relay, page, headers).await;
        if status_of(&list, id) == status {
            return list;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{id} is not {status} within 5 s: {list}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Opens `/api/tasks/events`; returns the stream once the head is read.
async fn listen(relay: &TestRelay, headers: &[&str]) -> TcpStream {
    let mut stream = TcpStream::connect(relay.relay.addr).await.unwrap();
    let mut request = format!(
        "GET /api/tasks/events HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\n",
        relay.relay.addr
    );
    for h in headers {
        request.push_str(&format!("{h}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let head = read_until(&mut stream, "\r\n\r\n").await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("text/event-stream"), "{head}");
    stream
}

/// Reads until `needle` arrives; fails after 5 s.
async fn read_until(stream: &mut TcpStream, needle: &str) -> String {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    tokio::time::timeout(Duration::from_secs(5), async {
        while !String::from_utf8_lossy(&seen).contains(needle) {
            let n = stream.read(&mut buf).await.unwrap();
            assert!(
                n > 0,
                "closed before {needle:?}: {}",
                String::from_utf8_lossy(&seen)
            );
            seen.extend_from_slice(&buf[..n]);
        }
    })
    .await
    .unwrap_or_else(|_| {
        panic!(
            "no {needle:?} within 5 s: {}",
            String::from_utf8_lossy(&seen)
        )
    });
    String::from_utf8_lossy(&seen).into_owned()
}

#[tokio::test]
async fn a_head_request_through_ws_passes_the_head_task_and_ticks() {
    let relay = start(|_| {}).await;
    // The defaults were written to the data directory.
    assert!(relay._data.path().join("tasks/http-head.toml").exists());
    let before = tasks(&relay, "http", &[]).await;
    assert_eq!(before["learner"]["student"], "local");
    assert_eq!(status_of(&before, "http-head"), "todo");
    let mut events = listen(&relay, &[]).await;

    let mut ws = relay.open("target=http").await;
    expect_connected(&mut ws).await;
    send_bytes(
        &mut ws,
        b"HEAD /index.html HTTP/1.1\r\nHost: www.someschool.edu\r\n\r\n",
    )
    .await;
    let answer = next_bytes(&mut ws).await;
    assert!(answer.starts_with(b"HTTP/1.1 200"), "{answer:?}");

    let tick = read_until(&mut events, "\"task\":\"http-head\"").await;
    assert!(tick.contains("event: tick"), "{tick}");
    assert!(tick.contains("\"passed\":true"), "{tick}");
    let list = wait_for_status(&relay, "http", &[], "http-head", "passed").await;
    assert!(
        list["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["page"] == "http")
    );

    // A GET answered 200 goes part of the way to the 404 task: at close,
    // the task says what the try lacked.
    send_bytes(
        &mut ws,
        b"GET /index.html HTTP/1.1\r\nHost: www.someschool.edu\r\n\r\n",
    )
    .await;
    let answer = next_bytes(&mut ws).await;
    assert!(answer.starts_with(b"HTTP/1.1 200"), "{answer:?}");
    ws.send(Message::Close(None)).await.unwrap();
    let list = wait_for_status(&relay, "http", &[], "http-404", "missing").await;
    let miss = list["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == "http-404")
        .unwrap();
    assert!(
        miss["reason"]
            .as_str()
            .unwrap()
            .contains("answered 200, not 404"),
        "{miss}"
    );
    // A task nothing went towards stays to do.
    assert_eq!(status_of(&list, "http-post-form"), "todo");
}

#[tokio::test]
async fn the_source_port_the_relay_connected_from_passes_the_sockets_task() {
    let relay = start(|_| {}).await;
    // A wrong port: at the end of the flow, the task says what is missing.
    let mut ws = relay.open("target=upper-udp").await;
    let connected = expect_connected(&mut ws).await;
    let local: std::net::SocketAddr = connected["local"].as_str().unwrap().parse().unwrap();
    send_bytes(&mut ws, format!("port {}", local.port() ^ 1).as_bytes()).await;
    next_bytes(&mut ws).await;
    ws.send(Message::Close(None)).await.unwrap();
    let list = wait_for_status(&relay, "sockets", &[], "sockets-source-port", "missing").await;
    assert!(
        list.to_string().contains("does not hold the source port"),
        "{list}"
    );

    let mut ws = relay.open("target=upper-udp").await;
    let connected = expect_connected(&mut ws).await;
    let local: std::net::SocketAddr = connected["local"].as_str().unwrap().parse().unwrap();
    send_bytes(&mut ws, format!("my port is {}", local.port()).as_bytes()).await;
    next_bytes(&mut ws).await;
    wait_for_status(&relay, "sockets", &[], "sockets-source-port", "passed").await;
}

/// Makes a class and joins two students; returns their tokens.
async fn two_students(relay: &TestRelay) -> (String, String) {
    let bearer = format!("Authorization: Bearer {SECRET}");
    let (status, _, body) = relay
        .request(
            "POST",
            "/api/classes",
            &[&bearer, "Content-Type: application/json"],
            r#"{"name":"Lab 1"}"#,
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let class: serde_json::Value = serde_json::from_str(&body).unwrap();
    let code = class["join_code"].as_str().unwrap();
    let mut tokens = Vec::new();
    for name in ["Alice", "Bob"] {
        let json = join_json(relay, code, name).await;
        tokens.push(json["token"].as_str().unwrap().to_string());
    }
    (tokens[0].clone(), tokens[1].clone())
}

#[tokio::test]
async fn a_students_pass_is_theirs_alone() {
    let relay = start(classroom).await;
    let (alice, bob) = two_students(&relay).await;
    let as_alice = format!("Authorization: Bearer {alice}");
    let as_bob = format!("Authorization: Bearer {bob}");
    let mut bobs_events = listen(&relay, &[&as_bob]).await;

    let mut ws = relay.open(&format!("target=upper-tcp&token={alice}")).await;
    expect_connected(&mut ws).await;
    send_bytes(&mut ws, b"hello\n").await;
    assert_eq!(next_bytes(&mut ws).await, b"HELLO\n");
    wait_for_status(&relay, "sockets", &[&as_alice], "sockets-upper", "passed").await;

    let bobs = tasks(&relay, "sockets", &[&as_bob]).await;
    assert_eq!(status_of(&bobs, "sockets-upper"), "todo");
    assert_ne!(
        bobs["learner"],
        tasks(&relay, "sockets", &[&as_alice]).await["learner"]
    );
    // Bob hears nothing of Alice's pass: his stream has only keep-alives.
    let mut buf = [0u8; 4096];
    let heard = tokio::time::timeout(Duration::from_millis(500), bobs_events.read(&mut buf)).await;
    if let Ok(Ok(n)) = heard {
        let text = String::from_utf8_lossy(&buf[..n]);
        assert!(!text.contains("sockets-upper"), "{text}");
    }

    // No token: refused; the instructor sees the tasks without a status of theirs.
    let (status, _, _) = relay
        .request("GET", "/api/tasks?page=sockets", &[], "")
        .await;
    assert_eq!(status, 401);
    let teacher = tasks(
        &relay,
        "sockets",
        &[&format!("Authorization: Bearer {SECRET}")],
    )
    .await;
    assert!(teacher["learner"].is_null(), "{teacher}");
    assert_eq!(status_of(&teacher, "sockets-upper"), "todo");
}

#[tokio::test]
async fn an_unknown_page_is_a_bad_request() {
    let relay = start(|_| {}).await;
    let (status, _, body) = relay
        .request("GET", "/api/tasks?page=gopher", &[], "")
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("gopher"), "{body}");
}

/// Sends one request (it asks the server to close) and returns the answer.
async fn http_exchange(relay: &TestRelay, request: &str) -> String {
    let mut ws = relay.open("target=http").await;
    expect_connected(&mut ws).await;
    send_bytes(&mut ws, request.as_bytes()).await;
    let mut answer = Vec::new();
    loop {
        match next(&mut ws).await {
            Message::Binary(bytes) => answer.extend_from_slice(&bytes),
            Message::Text(_) => return String::from_utf8_lossy(&answer).into_owned(),
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// Sends `line` (unless empty) and reads until the reply is whole.
async fn say(ws: &mut Ws, line: &str, whole: impl Fn(&str) -> bool) -> String {
    if !line.is_empty() {
        send_bytes(ws, line.as_bytes()).await;
    }
    let mut text = String::new();
    while !whole(&text) {
        text.push_str(&String::from_utf8_lossy(&next_bytes(ws).await));
    }
    text
}

fn code_line(code: &'static str) -> impl Fn(&str) -> bool {
    move |text: &str| {
        text.lines().any(|l| l.starts_with(&format!("{code} "))) && text.ends_with("\r\n")
    }
}

fn pop3_line(text: &str) -> bool {
    text.ends_with("\r\n")
}

fn pop3_multiline(text: &str) -> bool {
    text.ends_with("\r\n.\r\n") || text.starts_with("-ERR")
}

async fn do_http_tasks(relay: &TestRelay) {
    let host = "Host: www.someschool.edu\r\nConnection: close\r\n";
    let page = http_exchange(relay, &format!("GET /~ross/ HTTP/1.1\r\n{host}\r\n")).await;
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    http_exchange(relay, &format!("HEAD /~ross/ HTTP/1.1\r\n{host}\r\n")).await;
    http_exchange(
        relay,
        &format!("GET /~ross/banana/.html HTTP/1.1\r\n{host}\r\n"),
    )
    .await;
    let kiwi = http_exchange(
        relay,
        &format!("GET /fruit/kiwi.gif HTTP/1.1\r\n{host}\r\n"),
    )
    .await;
    let modified = kiwi
        .lines()
        .find_map(|l| l.strip_prefix("Last-Modified: "))
        .unwrap_or_else(|| panic!("no Last-Modified: {kiwi}"));
    let again = http_exchange(
        relay,
        &format!("GET /fruit/kiwi.gif HTTP/1.1\r\n{host}If-Modified-Since: {modified}\r\n\r\n"),
    )
    .await;
    assert!(again.starts_with("HTTP/1.1 304"), "{again}");
    let bad = http_exchange(relay, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n").await;
    assert!(bad.starts_with("HTTP/1.1 400"), "{bad}");
    http_exchange(relay, &format!("GET /private/ HTTP/1.1\r\n{host}\r\n")).await;
    let auth = "Authorization: Basic c3R1ZGVudDp3aXJlbGFi\r\n";
    http_exchange(
        relay,
        &format!("GET /private/ HTTP/1.1\r\n{host}{auth}\r\n"),
    )
    .await;
    let counter = http_exchange(
        relay,
        &format!("GET /cookie-counter HTTP/1.1\r\n{host}\r\n"),
    )
    .await;
    let cookie = counter
        .lines()
        .find_map(|l| l.strip_prefix("Set-Cookie: "))
        .unwrap_or_else(|| panic!("no Set-Cookie: {counter}"));
    let cookie = cookie.split(';').next().unwrap();
    http_exchange(
        relay,
        &format!("GET /cookie-counter HTTP/1.1\r\n{host}Cookie: {cookie}\r\n\r\n"),
    )
    .await;
    let body = "prenom=Hugues&nom=Fauconnier&age=41+%E0+60+ans";
    let form = "Content-Type: application/x-www-form-urlencoded";
    http_exchange(
        relay,
        &format!(
            "POST /cgi/show HTTP/1.1\r\n{host}{form}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    )
    .await;
}

async fn do_mail_tasks(relay: &TestRelay) {
    let mut smtp = relay.open("target=smtp").await;
    expect_connected(&mut smtp).await;
    say(&mut smtp, "", code_line("220")).await;
    for (line, code) in [
        ("HELO crepes.fr", "250"),
        ("MAIL FROM:<alice@crepes.fr>", "250"),
        ("RCPT TO:<bob@hamburger.edu>", "250"),
        ("RCPT TO:<john@hamburger.edu>", "550"),
        ("DATA", "354"),
        ("Do you like ketchup?\r\nHow about pickles?\r\n.", "250"),
        ("MAIL FROM:<alice@crepes.fr>", "250"),
        ("RCPT TO:<bob@hamburger.edu>", "250"),
        ("DATA", "354"),
        ("Encore?\r\n.", "250"),
        ("QUIT", "221"),
    ] {
        say(&mut smtp, &format!("{line}\r\n"), code_line(code)).await;
    }
    let mut pop3 = relay.open("target=pop3").await;
    expect_connected(&mut pop3).await;
    say(&mut pop3, "", pop3_line).await;
    for line in ["user bob", "pass hungry", "stat"] {
        let reply = say(&mut pop3, &format!("{line}\r\n"), pop3_line).await;
        assert!(reply.starts_with("+OK"), "{line}: {reply}");
    }
    for line in ["list", "retr 1"] {
        say(&mut pop3, &format!("{line}\r\n"), pop3_multiline).await;
    }
    for line in ["dele 1", "quit"] {
        let reply = say(&mut pop3, &format!("{line}\r\n"), pop3_line).await;
        assert!(reply.starts_with("+OK"), "{line}: {reply}");
    }
}

async fn do_ftp_tasks(relay: &TestRelay) {
    let mut control = relay.open("target=ftp").await;
    expect_connected(&mut control).await;
    say(&mut control, "", code_line("220")).await;
    say(&mut control, "USER anonymous\r\n", code_line("331")).await;
    say(&mut control, "PASS guest@example.org\r\n", code_line("230")).await;
    let reply = say(&mut control, "PASV\r\n", code_line("227")).await;
    let port = wirelab_shared::ftp::address::find_host_port(reply.as_bytes())
        .unwrap()
        .port();
    let mut data = relay.open(&format!("target=ftp&data_port={port}")).await;
    expect_connected(&mut data).await;
    say(&mut control, "LIST pub\r\n", code_line("226")).await;
    // Active mode: the relay listens for the server's data connection.
    send_text(&mut control, r#"{"type":"listen"}"#).await;
    let (addr, id) = match next_relay_message(&mut control).await {
        RelayMessage::Listening { addr, id, .. } => {
            (addr.parse::<std::net::SocketAddrV4>().unwrap(), id.unwrap())
        }
        other => panic!("expected listening, got {other:?}"),
    };
    let port_line = format!("PORT {}\r\n", port_argument(addr));
    say(&mut control, &port_line, code_line("200")).await;
    let mut data = relay.open(&format!("accept={id}")).await;
    send_bytes(&mut control, b"RETR pub/hello.txt\r\n").await;
    expect_connected(&mut data).await;
    say(&mut control, "", code_line("226")).await;
}

/// One DNS query over its own UDP flow to `target`; the reply.
async fn dns_query(relay: &TestRelay, target: &str, qtype: RecordType, rd: bool) -> Vec<u8> {
    use wirelab_shared::dns::message::{Message as Dns, Question};
    let name = wirelab_shared::dns::name::Name::parse("gaia.cs.umass.edu.").unwrap();
    let name = if qtype == RecordType::MX {
        wirelab_shared::dns::name::Name::parse("hamburger.edu.").unwrap()
    } else {
        name
    };
    let query = Dns::query(0x1234, Question::new(name, qtype), rd);
    let mut ws = relay.open(&format!("target={target}")).await;
    expect_connected(&mut ws).await;
    send_bytes(&mut ws, &query.to_bytes()).await;
    let reply = next_bytes(&mut ws).await;
    ws.send(Message::Close(None)).await.unwrap();
    reply
}

use wirelab_shared::dns::types::RecordType;

async fn do_dns_tasks(relay: &TestRelay) {
    for target in ["dns-root", "dns-edu", "dns-umass", "dns-cs-umass"] {
        dns_query(relay, target, RecordType::A, false).await;
    }
    let answer = dns_query(relay, "dns", RecordType::A, true).await;
    let answer = wirelab_shared::dns::message::Message::parse(&answer).unwrap();
    assert!(!answer.answers.is_empty(), "{}", answer.to_text());
    dns_query(relay, "dns", RecordType::MX, true).await;
}

#[tokio::test]
async fn the_default_tasks_pass_against_the_reference_servers() {
    let relay = start(|_| {}).await;
    do_http_tasks(&relay).await;
    do_mail_tasks(&relay).await;
    do_ftp_tasks(&relay).await;
    do_dns_tasks(&relay).await;
    for (page, ids) in [
        (
            "http",
            &[
                "http-get-page",
                "http-head",
                "http-404",
                "http-304-typed",
                "http-400",
                "http-auth",
                "http-cookie",
                "http-post-form",
            ][..],
        ),
        ("smtp", &["smtp-course-mail", "smtp-two-mails"]),
        ("pop3", &["pop3-read-delete", "pop3-list"]),
        ("ftp", &["ftp-login", "ftp-passive-list", "ftp-active-retr"]),
        ("dns", &["dns-walk", "dns-recursive", "dns-mx"]),
    ] {
        for id in ids {
            wait_for_status(&relay, page, &[], id, "passed").await;
        }
    }
}

/// A relay on `data`'s data directory (the caller keeps the directory).
async fn start_on(data: &std::path::Path) -> TestRelay {
    let mut config = Config::ephemeral(data);
    config.dist = data.join("no-dist");
    let relay = wirelab_relay::Relay::start_with(config, Default::default())
        .await
        .expect("relay starts");
    TestRelay {
        relay,
        _data: tempfile::tempdir().unwrap(),
    }
}

#[tokio::test]
async fn progress_survives_a_restart_of_the_relay() {
    let data = tempfile::tempdir().unwrap();
    let first = start_on(data.path()).await;
    let mut ws = first.open("target=http").await;
    expect_connected(&mut ws).await;
    send_bytes(
        &mut ws,
        b"HEAD /index.html HTTP/1.1\r\nHost: www.someschool.edu\r\n\r\n",
    )
    .await;
    next_bytes(&mut ws).await;
    wait_for_status(&first, "http", &[], "http-head", "passed").await;
    drop(ws);
    assert!(first.relay.stop(Duration::from_secs(2)).await);

    // The class store's database kept it: a new relay on the same data
    // directory shows it passed before anything is sent.
    let second = start_on(data.path()).await;
    let list = tasks(&second, "http", &[]).await;
    assert_eq!(status_of(&list, "http-head"), "passed", "{list}");
    assert_eq!(status_of(&list, "http-404"), "todo", "{list}");
}
