//! The reference web server with real clients: curl for each behaviour the
//! chapter teaches, and Python's http.client for a persistent connection.

mod common;

use common::*;
use std::path::Path;
use tokio::process::Command;
use wirelab_testkit::require_tool;

struct Curl {
    base: String,
    curl: std::path::PathBuf,
}

impl Curl {
    async fn run(&self, args: &[&str]) -> (String, String) {
        let out = Command::new(&self.curl)
            .args(["--silent", "--show-error", "--max-time", "10"])
            .args(args)
            .output()
            .await
            .expect("curl runs");
        (
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    }

    /// Runs curl with `args` for the status code alone (the body is
    /// dropped).
    async fn status(&self, args: &[&str]) -> String {
        let mut all = vec!["--output", "/dev/null", "--write-out", "%{http_code}"];
        all.extend_from_slice(args);
        self.run(&all).await.0
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

async fn setup() -> Option<(TestRelay, Curl)> {
    let curl = require_tool("curl", "curl")?;
    let relay = start(|_| {}).await;
    let target = relay.relay.target("http").unwrap().clone();
    let base = format!("http://{}:{}", target.host, target.port);
    Some((relay, Curl { base, curl }))
}

#[tokio::test]
async fn curl_get_head_and_404() {
    let Some((_relay, c)) = setup().await else {
        return;
    };
    let (page, _) = c.run(&[&c.url("/somedir/page.html")]).await;
    assert!(
        page.contains("www.someschool.edu/somedir/page.html"),
        "{page}"
    );
    let (head, _) = c.run(&["--head", &c.url("/fruit/kiwi.gif")]).await;
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(head.contains("Content-Type: image/gif\r\n"));
    assert!(head.contains("Last-Modified: Mon, 22 Jun 1998 09:23:24 GMT\r\n"));
    assert!(head.ends_with("\r\n\r\n"), "HEAD has no body");
    let code = c.status(&[&c.url("/~ross/banana/.html")]).await;
    assert_eq!(code, "404");
    // The GIF is a real GIF.
    let out = Command::new(&c.curl)
        .args(["--silent", &c.url("/fruit/kiwi.gif")])
        .output()
        .await
        .unwrap();
    assert!(out.stdout.starts_with(b"GIF89a"));
    assert_eq!(out.stdout.len(), 565);
}

#[tokio::test]
async fn curl_conditional_get_gives_304() {
    let Some((_relay, c)) = setup().await else {
        return;
    };
    let code = c
        .status(&[
            "--header",
            "If-Modified-Since: Mon, 22 Jun 1998 09:23:24 GMT",
            &c.url("/fruit/kiwi.gif"),
        ])
        .await;
    assert_eq!(code, "304");
    // curl's own conditional request, from a date.
    let code = c
        .status(&[
            "--time-cond",
            "Tue, 23 Jun 1998 00:00:00 GMT",
            &c.url("/fruit/kiwi.gif"),
        ])
        .await;
    assert_eq!(code, "304");
    let (head, _) = c.run(&["--head", &c.url("/fruit/kiwi.gif")]).await;
    let etag = head
        .lines()
        .find_map(|l| l.strip_prefix("ETag: "))
        .unwrap()
        .to_string();
    let code = c
        .status(&[
            "--header",
            &format!("If-None-Match: {etag}"),
            &c.url("/fruit/kiwi.gif"),
        ])
        .await;
    assert_eq!(code, "304");
}

#[tokio::test]
async fn curl_basic_auth_redirect_and_methods() {
    let Some((_relay, c)) = setup().await else {
        return;
    };
    let (head, _) = c.run(&["--include", &c.url("/private/")]).await;
    assert!(head.starts_with("HTTP/1.1 401 Unauthorized"), "{head}");
    assert!(head.contains("WWW-Authenticate: Basic realm=\"wirelab private area\""));
    let (page, _) = c
        .run(&["--user", "student:wirelab", &c.url("/private/")])
        .await;
    assert!(
        page.contains("You sent the right Authorization header"),
        "{page}"
    );
    let (moved, _) = c.run(&["--include", &c.url("/old/page.html")]).await;
    assert!(
        moved.starts_with("HTTP/1.1 301 Moved Permanently")
            && moved.contains("Location: /somedir/page.html\r\n"),
        "{moved}"
    );
    let (followed, _) = c.run(&["--location", &c.url("/old/page.html")]).await;
    assert!(followed.contains("somedir/page.html"));
    let (refused, _) = c
        .run(&["--include", "--request", "DELETE", &c.url("/index.html")])
        .await;
    assert!(
        refused.starts_with("HTTP/1.1 405") && refused.contains("Allow: GET, HEAD, OPTIONS"),
        "{refused}"
    );
    let (bad, _) = c
        .run(&["--include", "--http1.1", "--header", "Host:", &c.url("/")])
        .await;
    assert!(bad.starts_with("HTTP/1.1 400 Bad Request"), "{bad}");
}

#[tokio::test]
async fn curl_cookie_jar_counts_visits() {
    let Some((_relay, c)) = setup().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let jar = dir.path().join("jar.txt");
    let jar = jar.to_str().unwrap();
    let counter = c.url("/cookie-counter");
    let visit = ["--cookie-jar", jar, "--cookie", jar, &counter];
    for _ in 0..2 {
        c.run(&visit).await;
    }
    let (third, _) = c.run(&visit).await;
    assert!(third.contains("You have been here 3 times"), "{third}");
    assert!(std::fs::read_to_string(jar).unwrap().contains("visits\t3"));
}

#[tokio::test]
async fn curl_put_get_delete_in_upload_and_chunked() {
    let Some((relay, c)) = setup().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("notes.txt");
    std::fs::write(&file, "persistent vs non-persistent\n").unwrap();
    let code = c
        .status(&[
            "--upload-file",
            file.to_str().unwrap(),
            &c.url("/upload/notes.txt"),
        ])
        .await;
    assert_eq!(code, "201");
    let (back, _) = c.run(&[&c.url("/upload/notes.txt")]).await;
    assert_eq!(back, "persistent vs non-persistent\n");
    // It is on disk, inside the data directory's upload folder.
    let on_disk = relay._data.path().join("http/upload/notes.txt");
    assert!(Path::new(&on_disk).is_file());
    let escape = c
        .status(&[
            "--path-as-is",
            "--upload-file",
            file.to_str().unwrap(),
            &c.url("/upload/..%2F..%2Fescape.txt"),
        ])
        .await;
    assert_eq!(escape, "403");
    let code = c
        .status(&["--request", "DELETE", &c.url("/upload/notes.txt")])
        .await;
    assert_eq!(code, "204");
    let (verbose, trace) = c.run(&["--verbose", &c.url("/chunked")]).await;
    assert!(trace.contains("Transfer-Encoding: chunked"), "{trace}");
    assert!(verbose.contains("a chunk of size zero ends the body"));
}

#[tokio::test]
async fn curl_http_1_0_and_keep_alive_reuse() {
    let Some((_relay, c)) = setup().await else {
        return;
    };
    let (_, trace) = c
        .run(&[
            "--verbose",
            "--http1.0",
            "--output",
            "/dev/null",
            &c.url("/ross/index.html"),
        ])
        .await;
    assert!(trace.contains("GET /ross/index.html HTTP/1.0"), "{trace}");
    assert!(trace.contains("Connection: close"), "{trace}");
    // Two URLs in one curl run: the second reuses the first's connection.
    let (_, trace) = c
        .run(&[
            "--verbose",
            "--output",
            "/dev/null",
            "--output",
            "/dev/null",
            &c.url("/index.html"),
            &c.url("/somedir/page.html"),
        ])
        .await;
    assert!(
        trace.contains("Re-using existing connection") || trace.contains("Reusing existing"),
        "curl did not reuse the persistent connection:\n{trace}"
    );
}

#[tokio::test]
async fn python_http_client_on_one_persistent_connection() {
    let Some(python) = require_tool("python3", "python3") else {
        return;
    };
    let relay = start(|_| {}).await;
    let target = relay.relay.target("http").unwrap().clone();
    let script = r#"
import http.client, sys
conn = http.client.HTTPConnection(sys.argv[1], int(sys.argv[2]), timeout=10)
seen = []
for path in ["/someDepartment/home.index"] + ["/someDepartment/img/pic%02d.jpg" % i for i in range(1, 11)]:
    conn.request("GET", path)
    r = conn.getresponse()
    body = r.read()
    seen.append((r.status, len(body), r.getheader("Content-Type")))
    if conn.sock is None:
        print("connection closed after", path); sys.exit(1)
conn.request("POST", "/cgi/show", body="prenom=Hugues&nom=Fauconnier&age=41+%E0+60+ans",
             headers={"Content-Type": "application/x-www-form-urlencoded"})
r = conn.getresponse()
page = r.read().decode("utf-8")
assert "<td>age</td><td>41 à 60 ans</td>" in page, page
assert all(s == 200 for s, _, _ in seen), seen
assert all(t == "image/jpeg" for _, _, t in seen[1:]), seen
print("ok", len(seen))
"#;
    let out = Command::new(python)
        .args(["-c", script, &target.host, &target.port.to_string()])
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.trim(), "ok 11");
}

/// The textbook's §2.8 server (`webserver-book`) as curl sees it: the book's
/// status line and headers, then the file; nothing at all where the book's
/// code throws.
#[tokio::test]
async fn curl_and_the_textbooks_web_server() {
    let Some(curl) = require_tool("curl", "curl") else {
        return;
    };
    let relay = start(|_| {}).await;
    let target = relay.relay.target("webserver-book").unwrap().clone();
    let c = Curl {
        base: format!("http://{}:{}", target.host, target.port),
        curl,
    };
    let page = wirelab_shared::http::site::demo_files()["/somedir/page.html"]
        .body
        .to_vec();
    let (reply, errors) = c.run(&["--include", &c.url("/somedir/page.html")]).await;
    let expected = format!(
        "HTTP/1.0 200 Document Follows\r\nContent-Length: {}\r\n\r\n{}",
        page.len(),
        String::from_utf8_lossy(&page)
    );
    assert_eq!(reply, expected, "{errors}");
    let (head, _) = c
        .run(&["--include", "--output", "-", &c.url("/fruit/kiwi.gif")])
        .await;
    assert!(
        head.starts_with("HTTP/1.0 200 Document Follows\r\nContent-Type: image/gif\r\nContent-Length: 565\r\n\r\nGIF89a"),
        "{head:?}"
    );
    // The book has no 404: the program throws and the socket closes.
    let (reply, errors) = c.run(&["--include", &c.url("/nope.html")]).await;
    assert_eq!(reply, "");
    assert!(errors.contains("Empty reply from server"), "{errors}");
}

/// The CGI page over a real socket: SERVER_PORT is the port curl reached,
/// and the slides' form comes in ISO-8859-1 so a browser sends %E0.
#[tokio::test]
async fn curl_sees_the_cgi_variables_and_the_latin1_form() {
    let Some((relay, c)) = setup().await else {
        return;
    };
    let port = relay.relay.target("http").unwrap().port;
    let (page, errors) = c
        .run(&[
            "--header",
            "Accept-Language: fr_CA, fr",
            &c.url("/cgi/show?age=41+%E0+60+ans"),
        ])
        .await;
    for needle in [
        format!("<th>SERVER_PORT</th><td><code>{port}</code>"),
        "<th>GATEWAY_INTERFACE</th><td><code>CGI/1.1</code>".into(),
        "<th>HTTP_ACCEPT_LANGUAGE</th><td><code>fr_CA, fr</code>".into(),
        "<th>HTTP_ACCEPT</th><td><code>*/*</code>".into(),
        "<td>age</td><td>41 à 60 ans</td>".into(),
    ] {
        assert!(page.contains(&needle), "missing {needle}: {page} {errors}");
    }
    let (head, _) = c.run(&["--head", &c.url("/form.html")]).await;
    assert!(
        head.contains("Content-Type: text/html; charset=iso-8859-1\r\n"),
        "{head}"
    );
}
