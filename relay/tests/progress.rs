//! The class grid: two students of one class each do a task through
//! `/ws`, the instructor's feed hears each attempt as it is checked, and
//! `/api/classes/{id}/progress` (JSON) and `progress.csv` tick the right
//! task for the right student, the same after a restart on the same data
//! directory. Students and anonymous callers are refused both.

mod common;

use common::class::*;
use common::*;
use std::time::Duration;
use wirelab_relay::config::Config;

/// A classroom relay on `data` (the caller keeps the directory).
async fn start_on(data: &std::path::Path) -> TestRelay {
    let mut config = Config::ephemeral(data);
    config.dist = data.join("no-dist");
    classroom(&mut config);
    let relay = wirelab_relay::Relay::start_with(config, Default::default())
        .await
        .expect("relay starts");
    TestRelay {
        relay,
        _data: tempfile::tempdir().unwrap(),
    }
}

async fn get(relay: &TestRelay, path: &str, headers: &[&str]) -> (u16, String, String) {
    relay.request("GET", path, headers, "").await
}

async fn progress(relay: &TestRelay, class: &str) -> serde_json::Value {
    let (status, _, body) = get(
        relay,
        &format!("/api/classes/{class}/progress"),
        &[&instructor()],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// The status of `task` in the row of student `id`.
fn cell(progress: &serde_json::Value, id: &str, task: &str) -> String {
    let column = progress["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .position(|t| t["id"] == task)
        .unwrap_or_else(|| panic!("no task {task} in {progress}"));
    let row = progress["students"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("no student {id} in {progress}"));
    assert_eq!(row["cells"][column]["task"], task);
    row["cells"][column]["status"].as_str().unwrap().to_string()
}

/// Polls the grid until both passes are in it; fails after 5 s.
async fn wait_for_both(
    relay: &TestRelay,
    class: &str,
    alice: &str,
    bob: &str,
) -> serde_json::Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let grid = progress(relay, class).await;
        if cell(&grid, alice, "sockets-upper") == "passed"
            && cell(&grid, bob, "http-head") == "passed"
        {
            return grid;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not both passed within 5 s: {grid}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_grid_ticks_each_students_own_task_and_survives_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let relay = start_on(data.path()).await;
    let class = make_class(&relay, r#"{"name":"Lab 1"}"#).await;
    let (id, code) = (
        class["id"].as_str().unwrap(),
        class["join_code"].as_str().unwrap(),
    );
    let alice = join_json(&relay, code, "Alice, \"Al\"").await;
    let bob = join_json(&relay, code, "Bob").await;
    let alice_id = alice["student"].as_str().unwrap();
    let bob_id = bob["student"].as_str().unwrap();
    let mut feed = EventFeed::open(
        &relay,
        &format!("/api/classes/{id}/events"),
        &[&instructor()],
    )
    .await;

    // Alice has a line upper-cased; Bob asks for headers only.
    let mut alices_ws = relay
        .open(&format!(
            "target=upper-tcp&token={}",
            alice["token"].as_str().unwrap()
        ))
        .await;
    expect_connected(&mut alices_ws).await;
    send_bytes(&mut alices_ws, b"hello\n").await;
    assert_eq!(next_bytes(&mut alices_ws).await, b"HELLO\n");
    let told = feed.next_of("attempt").await;
    assert_eq!(told["student"], alice_id, "{told}");
    assert_eq!(told["task"], "sockets-upper", "{told}");
    assert_eq!(told["passed"], true, "{told}");

    let mut ws = relay
        .open(&format!(
            "target=http&token={}",
            bob["token"].as_str().unwrap()
        ))
        .await;
    expect_connected(&mut ws).await;
    send_bytes(
        &mut ws,
        b"HEAD /index.html HTTP/1.1\r\nHost: www.someschool.edu\r\n\r\n",
    )
    .await;
    assert!(next_bytes(&mut ws).await.starts_with(b"HTTP/1.1 200"));

    let grid = wait_for_both(&relay, id, alice_id, bob_id).await;
    assert_eq!(cell(&grid, alice_id, "http-head"), "todo", "{grid}");
    assert_eq!(cell(&grid, bob_id, "sockets-upper"), "todo", "{grid}");
    let alices = grid["students"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == alice_id)
        .unwrap();
    assert_eq!(alices["name"], "Alice, \"Al\"");
    let history = alices["attempts"].as_array().unwrap();
    assert!(
        history
            .iter()
            .any(|a| a["task"] == "sockets-upper" && a["passed"] == true),
        "{alices}"
    );
    assert!(
        history.iter().all(|a| a["task"] != "http-head"),
        "Bob's pass is not Alice's: {alices}"
    );

    // The CSV holds the same grid, the name quoted.
    let (status, head, csv) = get(
        &relay,
        &format!("/api/classes/{id}/progress.csv"),
        &[&instructor()],
    )
    .await;
    assert_eq!(status, 200, "{csv}");
    assert!(
        head.to_ascii_lowercase().contains("content-type: text/csv"),
        "{head}"
    );
    let mut lines = csv.split("\r\n");
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let column = |task: &str| header.iter().position(|h| *h == task).unwrap() - 2;
    let alice_line = csv.lines().find(|l| l.starts_with(alice_id)).unwrap();
    let prefix = format!("{alice_id},\"Alice, \"\"Al\"\"\",");
    assert!(alice_line.starts_with(&prefix), "{alice_line}");
    let alice_cells: Vec<&str> = alice_line[prefix.len()..].split(',').collect();
    assert_eq!(alice_cells[column("sockets-upper")], "passed", "{csv}");
    assert_eq!(alice_cells[column("http-head")], "todo", "{csv}");
    let bob_line = csv.lines().find(|l| l.starts_with(bob_id)).unwrap();
    let bob_cells: Vec<&str> = bob_line.split(',').skip(2).collect();
    assert_eq!(bob_cells[column("http-head")], "passed", "{csv}");
    assert_eq!(bob_cells[column("sockets-upper")], "todo", "{csv}");

    // Closing the sessions adds their near-misses (Bob's HEAD tried the
    // 400 task): the grid is compared once Bob's is in.
    drop((alices_ws, ws));
    for _ in 0..2 {
        feed.next_of("session_closed").await;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let grid = loop {
        let grid = progress(&relay, id).await;
        if cell(&grid, bob_id, "http-400") == "missing" {
            break grid;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no near-miss within 5 s: {grid}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    drop(feed);
    assert!(relay.relay.stop(Duration::from_secs(2)).await);
    let again = start_on(data.path()).await;
    assert_eq!(
        progress(&again, id).await,
        grid,
        "the grid is the same after a restart"
    );
}

#[tokio::test]
async fn students_and_anonymous_callers_are_refused_the_grid() {
    let relay = start(classroom).await;
    let class = make_class(&relay, r#"{"name":"Lab 2"}"#).await;
    let (id, code) = (
        class["id"].as_str().unwrap(),
        class["join_code"].as_str().unwrap(),
    );
    let token = join(&relay, code, "Carol").await;
    for path in [
        format!("/api/classes/{id}/progress"),
        format!("/api/classes/{id}/progress.csv"),
    ] {
        let as_student = bearer(&token);
        let cookie = format!("Cookie: wirelab_token={token}");
        for headers in [vec![], vec![as_student.as_str()], vec![cookie.as_str()]] {
            let (status, _, body) = get(&relay, &path, &headers).await;
            assert_eq!(status, 401, "{path} with {headers:?}: {body}");
            assert!(!body.contains("Carol"), "{body}");
        }
        let (status, _, _) = get(&relay, &path, &[&instructor()]).await;
        assert_eq!(status, 200, "{path}: the instructor is let in");
    }
    let (status, _, _) = get(
        &relay,
        "/api/classes/no-such-class/progress",
        &[&instructor()],
    )
    .await;
    assert_eq!(status, 404);
}
