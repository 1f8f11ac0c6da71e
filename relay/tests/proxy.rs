//! The caching proxy with real clients: curl `-x` and Python's urllib
//! through the course's sequence (a miss, hits with Age growing, a
//! revalidation after max-age with the 304 in the log), Chromium loading a
//! page through it, and bad input on a raw socket, each answered with a
//! reason and nothing cached.

mod common;

use common::*;
use serde_json::Value;
use std::future::Future;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::Command;
use wirelab_testkit::require_tool;

/// A relay with its proxy and web server, as `http://ip:port`.
struct Lab {
    relay: TestRelay,
    proxy: String,
    origin: String,
}

async fn lab(adjust: impl FnOnce(&mut wirelab_relay::config::Config)) -> Lab {
    let relay = start(adjust).await;
    let at = |name: &str| {
        let t = relay.relay.target(name).expect("in the catalog");
        format!("{}:{}", t.host, t.port)
    };
    let (proxy, origin) = (at("proxy"), format!("http://{}", at("http")));
    Lab {
        relay,
        proxy,
        origin,
    }
}

impl Lab {
    async fn api(&self, path: &str) -> Vec<Value> {
        let (status, body) = self.relay.get(path).await;
        assert_eq!(status, 200, "{path}: {body}");
        serde_json::from_str(&body).unwrap()
    }

    async fn log(&self) -> Vec<Value> {
        self.api("/api/proxy/log").await
    }

    async fn cache(&self) -> Vec<Value> {
        self.api("/api/proxy/cache").await
    }

    /// Sends `request` as it is to the proxy and reads the answer to the
    /// end (the proxy closes after a refusal), within 5 s.
    async fn raw(&self, request: &str) -> String {
        let mut stream = TcpStream::connect(&self.proxy).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer))
            .await
            .expect("answered within 5 s instead of hanging")
            .unwrap();
        String::from_utf8_lossy(&answer).into_owned()
    }
}

/// A field's value in a response head (the last one, as curl prints
/// heads one after another).
fn header(head: &str, name: &str) -> Option<String> {
    head.lines()
        .filter_map(|line| line.split_once(':'))
        .filter(|(n, _)| n.trim().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim().to_string())
        .next_back()
}

fn age(head: &str) -> u64 {
    header(head, "Age")
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("an Age field in {head}"))
}

/// The course's sequence through `fetch` (which returns the response
/// head): a miss, two hits with Age growing, then after max-age a
/// revalidation the log shows with its If-None-Match and the 304.
async fn course_sequence<F, Fut>(lab: &Lab, fetch: F)
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = String>,
{
    // Six seconds: ages are whole seconds and the origin's Date may lag by
    // one, so a shorter life could end before the second hit.
    let url = format!("{}/cache/fresh.txt?max-age=6", lab.origin);
    let miss = fetch(url.clone()).await;
    let status = header(&miss, "Cache-Status").unwrap();
    assert!(
        status.starts_with("wirelab; fwd=uri-miss; fwd-status=200; stored"),
        "{miss}"
    );
    assert!(
        header(&miss, "Via").unwrap().contains("(wirelab)"),
        "{miss}"
    );

    let hit = fetch(url.clone()).await;
    assert!(
        header(&hit, "Cache-Status")
            .unwrap()
            .starts_with("wirelab; hit"),
        "{hit}"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let later = fetch(url.clone()).await;
    assert!(
        header(&later, "Cache-Status")
            .unwrap()
            .starts_with("wirelab; hit"),
        "{later}"
    );
    assert!(age(&later) > age(&hit), "Age grows: {hit}\n{later}");

    tokio::time::sleep(Duration::from_millis(6200)).await;
    let revalidated = fetch(url.clone()).await;
    assert!(revalidated.starts_with("HTTP/1.1 200"), "{revalidated}");
    assert!(
        header(&revalidated, "Cache-Status")
            .unwrap()
            .starts_with("wirelab; fwd=stale; fwd-status=304"),
        "{revalidated}"
    );

    let log = lab.log().await;
    let outcomes: Vec<&str> = log.iter().map(|e| e["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["miss", "hit", "hit", "revalidated"]);
    let upstream = &log[3]["upstream"];
    assert_eq!(upstream["status"], 304);
    assert!(
        upstream["request"]
            .as_str()
            .unwrap()
            .contains("If-None-Match: \""),
        "{upstream}"
    );
    assert!(log[1]["upstream"].is_null(), "a hit never goes upstream");
    let cache = lab.cache().await;
    assert_eq!(cache.len(), 1);
    assert_eq!(cache[0]["hits"], 2);
    assert!(cache[0]["revalidated_at"].is_i64());
}

#[tokio::test]
async fn curl_through_the_course_sequence() {
    let Some(curl) = require_tool("curl", "curl") else {
        return;
    };
    let lab = lab(|_| {}).await;
    let proxy = lab.proxy.clone();
    course_sequence(&lab, |url| {
        let (curl, proxy) = (curl.clone(), proxy.clone());
        async move {
            let out = Command::new(&curl)
                .env_remove("no_proxy")
                .env_remove("NO_PROXY")
                .args(["--silent", "--show-error", "--max-time", "10"])
                .args(["--dump-header", "-", "--output", "/dev/null"])
                .args(["--proxy", &format!("http://{proxy}"), &url])
                .output()
                .await
                .unwrap();
            String::from_utf8_lossy(&out.stdout).into_owned()
        }
    })
    .await;
}

/// Fetches a URL through a proxy with urllib and prints the status line
/// and the head.
const URLLIB: &str = r#"
import sys, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": sys.argv[1]}))
with opener.open(sys.argv[2], timeout=10) as r:
    body = r.read()
    print(f"HTTP/1.1 {r.status} {r.reason}")
    for name, value in r.headers.items():
        print(f"{name}: {value}")
    print(f"X-Body-Length: {len(body)}")
"#;

#[tokio::test]
async fn python_urllib_through_the_course_sequence() {
    let Some(python) = require_tool("python3", "python3") else {
        return;
    };
    let lab = lab(|_| {}).await;
    let proxy = format!("http://{}", lab.proxy);
    course_sequence(&lab, |url| {
        let (python, proxy) = (python.clone(), proxy.clone());
        async move {
            let out = Command::new(&python)
                .env_remove("no_proxy")
                .env_remove("NO_PROXY")
                .args(["-c", URLLIB, &proxy, &url])
                .output()
                .await
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let head = String::from_utf8_lossy(&out.stdout).into_owned();
            assert_eq!(
                header(&head, "X-Body-Length"),
                header(&head, "Content-Length")
            );
            head
        }
    })
    .await;
}

#[tokio::test]
async fn a_changed_object_is_fetched_again_and_only_a_miss_waits_for_the_far_origin() {
    let lab = lab(|c| c.servers.proxy.origin_delay_ms = 300).await;
    let url = format!("{}/cache/changing.txt?every=2&max-age=0", lab.origin);
    let get = format!("GET {url} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let first = lab.raw(&get).await;
    assert!(
        header(&first, "Cache-Status").unwrap().contains("stored"),
        "{first}"
    );
    // max-age=0: every request is checked; after the next 2 s period the
    // object has changed and comes back whole.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let changed = lab.raw(&get).await;
    assert!(
        header(&changed, "Cache-Status")
            .unwrap()
            .starts_with("wirelab; fwd=stale; fwd-status=200; stored"),
        "{changed}"
    );
    assert_ne!(header(&first, "ETag"), header(&changed, "ETag"));
    let log = lab.log().await;
    assert_eq!(log[1]["outcome"], "refetched");

    // The far-away origin: a miss waits for it, a hit does not.
    let fresh = format!(
        "GET {}/cache/fresh.txt?max-age=60 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        lab.origin
    );
    lab.raw(&fresh).await;
    lab.raw(&fresh).await;
    let log = lab.log().await;
    let (miss, hit) = (&log[2], &log[3]);
    assert_eq!(
        (miss["outcome"].as_str(), hit["outcome"].as_str()),
        (Some("miss"), Some("hit"))
    );
    assert!(miss["upstream"]["ms"].as_u64().unwrap() >= 300, "{miss}");
    assert!(
        hit["upstream"].is_null(),
        "a hit does not wait for the origin: {hit}"
    );
}

#[tokio::test]
async fn bad_input_gets_a_clear_answer_and_nothing_is_cached() {
    let lab = lab(|c| c.servers.proxy.max_object_bytes = 64 * 1024).await;
    let cases = [
        (
            "GET http://127.0.0.1:9/ HTTP/1.1\r\nHost: x\r\n\r\n".to_string(),
            "HTTP/1.1 403",
            "policy allows",
        ),
        (
            format!("GET http://{}/ HTTP/1.1\r\nHost: x\r\n\r\n", lab.proxy),
            "HTTP/1.1 403",
            "loop",
        ),
        (
            format!(
                "GET {}/ HTTP/1.1\r\nHost: x\r\nVia: 1.1 {} (wirelab)\r\n\r\n",
                lab.origin, lab.proxy
            ),
            "HTTP/1.1 403",
            "loop",
        ),
        (
            "GET http://[zz/ HTTP/1.1\r\nHost: x\r\n\r\n".to_string(),
            "HTTP/1.1 400",
            "URL cannot be used",
        ),
        (
            "GET https://127.0.0.1/ HTTP/1.1\r\nHost: x\r\n\r\n".to_string(),
            "HTTP/1.1 400",
            "http:// URLs only",
        ),
        (
            "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n".to_string(),
            "HTTP/1.1 400",
            "absolute form",
        ),
        (
            "CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\r\n".to_string(),
            "HTTP/1.1 405",
            "CONNECT",
        ),
        (
            format!(
                "GET http://{}/ HTTP/1.1\r\n{}\r\n\r\n",
                "a",
                "X: y\r\n".repeat(200)
            ),
            "HTTP/1.1 431",
            "header lines",
        ),
    ];
    for (request, status, why) in &cases {
        let answer = lab.raw(request).await;
        assert!(answer.starts_with(status), "{request:?} → {answer}");
        assert!(answer.contains(why), "{request:?} → {answer}");
        for field in ["Via", "Age", "Cache-Status"] {
            assert!(header(&answer, field).is_some(), "{field} in {answer}");
        }
    }
    // A response over the largest object passes through whole, uncached.
    let big = format!(
        "GET {}/cache/big.bin?kib=100 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        lab.origin
    );
    let answer = lab.raw(&big).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{}", &answer[..200]);
    assert!(
        header(&answer, "Cache-Status")
            .unwrap()
            .ends_with("detail=too-big")
    );
    assert_eq!(answer.split("\r\n\r\n").nth(1).unwrap().len(), 100 * 1024);
    assert!(lab.cache().await.is_empty(), "nothing cached");
    let log = lab.log().await;
    assert_eq!(log.len(), cases.len() + 1);
    assert!(
        log[..cases.len()].iter().all(|e| e["outcome"] == "refused"),
        "{log:?}"
    );
}

#[tokio::test]
async fn clearing_the_cache_makes_the_next_request_a_miss() {
    let lab = lab(|_| {}).await;
    let get = format!(
        "GET {}/fruit/kiwi.gif HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        lab.origin
    );
    lab.raw(&get).await;
    let hit = lab.raw(&get).await;
    assert!(
        header(&hit, "Cache-Status")
            .unwrap()
            .starts_with("wirelab; hit"),
        "{hit}"
    );
    let (status, _, _) = lab
        .relay
        .request("DELETE", "/api/proxy/cache", &[], "")
        .await;
    assert_eq!(status, 204);
    assert!(lab.cache().await.is_empty());
    let again = lab.raw(&get).await;
    assert!(
        header(&again, "Cache-Status")
            .unwrap()
            .contains("fwd=uri-miss"),
        "{again}"
    );
}

#[tokio::test]
async fn chromium_loads_a_page_through_the_proxy() {
    let Some(chromium) = require_tool("chromium", "chromium") else {
        return;
    };
    let lab = lab(|_| {}).await;
    let profile = tempfile::tempdir().unwrap();
    let page = format!("{}/cache/", lab.origin);
    let out = tokio::time::timeout(
        Duration::from_secs(60),
        Command::new(&chromium)
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                &format!("--user-data-dir={}", profile.path().display()),
                &format!("--proxy-server=http://{}", lab.proxy),
                // Chromium sends loopback straight to the server unless told.
                "--proxy-bypass-list=<-loopback>",
                "--dump-dom",
                &page,
            ])
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("Chromium finished within 60 s")
    .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        dom.contains("Objects for the web cache"),
        "{dom}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = lab.log().await;
    assert!(
        log.iter().any(|e| e["request"]
            .as_str()
            .is_some_and(|r| r.starts_with(&format!("GET {page} HTTP/1.1")))),
        "{log:?}"
    );
}

#[tokio::test]
async fn head_and_post_go_around_the_cache() {
    let lab = lab(|_| {}).await;
    let url = format!("{}/fruit/kiwi.gif", lab.origin);
    let get = lab
        .raw(&format!(
            "GET {url} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        ))
        .await;
    let head = lab
        .raw(&format!(
            "HEAD {url} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        ))
        .await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(
        header(&head, "Content-Length"),
        header(&get, "Content-Length")
    );
    assert!(head.ends_with("\r\n\r\n"), "no body after a HEAD: {head}");
    assert_eq!(
        header(&head, "Cache-Status").unwrap(),
        "wirelab; fwd=bypass; fwd-status=200"
    );
    let form = "name=kiwi";
    let post = lab
        .raw(&format!(
            "POST {}/cgi/show HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{form}",
            lab.origin,
            form.len()
        ))
        .await;
    assert!(
        post.starts_with("HTTP/1.1 200") && post.contains("kiwi"),
        "{post}"
    );
    let outcomes: Vec<String> = lab
        .log()
        .await
        .iter()
        .map(|e| e["outcome"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(outcomes, ["miss", "passed", "passed"]);
    let cached: Vec<String> = lab
        .cache()
        .await
        .iter()
        .map(|e| e["uri"].to_string())
        .collect();
    assert_eq!(cached, [format!("\"{url}\"")]);
}

#[tokio::test]
async fn a_client_over_the_connection_cap_is_told_so_with_the_proxy_fields() {
    let lab = lab(|c| c.limits.server_max_connections = 1).await;
    // A persistent connection answered once holds the one slot.
    let mut held = TcpStream::connect(&lab.proxy).await.unwrap();
    let get = format!(
        "GET {}/fruit/kiwi.gif HTTP/1.1\r\nHost: x\r\n\r\n",
        lab.origin
    );
    held.write_all(get.as_bytes()).await.unwrap();
    let mut first = [0u8; 12];
    held.read_exact(&mut first).await.unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    let answer = lab
        .raw("GET http://127.0.0.1:1/ HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert_eq!(
        header(&answer, "Cache-Status").unwrap(),
        "wirelab; detail=busy"
    );
    assert!(header(&answer, "Via").is_some() && header(&answer, "Age").is_some());
}

#[tokio::test]
async fn misses_reuse_the_origin_connection_and_survive_its_closing() {
    let lab = lab(|c| c.servers.http.keep_alive_secs = 1).await;
    let get = |n: u32| {
        format!(
            "GET {}/cache/fresh.txt?max-age=60&n={n} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            lab.origin
        )
    };
    for n in 0..2 {
        let answer = lab.raw(&get(n)).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
    // The origin closes the kept connection after a second idle: the next
    // miss finds it closed and goes over a new one.
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let answer = lab.raw(&get(2)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let reused: Vec<bool> = lab
        .log()
        .await
        .iter()
        .map(|e| e["upstream"]["reused_connection"].as_bool().unwrap())
        .collect();
    assert_eq!(reused, [false, true, false]);
}
