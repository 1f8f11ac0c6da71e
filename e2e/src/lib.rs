//! The harness of the browser tests: a relay started in-process on free
//! ports serving the built page, and headless Chromium driven through
//! chromedriver's W3C WebDriver API.
//!
//! The WebDriver client is a few blocking HTTP calls with `ureq`, so
//! nothing is downloaded: chromium and chromedriver come from the system
//! (Debian's `chromium` and `chromium-driver`). When they, or the built page,
//! are missing, [`Lab::start`] skips the test (a failure in CI).
//!
//! Tests find elements by their `data-testid` and poll with
//! [`Browser::wait_until`] instead of sleeping. The first steps every test
//! takes are here once: [`Lab::open_online`] (a page that sees the relay)
//! and [`OfflineSite::open`] (the page alone on a static host).
#![forbid(unsafe_code)]

mod page;
pub use page::key;

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Value, json};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use wirelab_relay::Relay;
use wirelab_relay::config::Config;
use wirelab_testkit::{find_tool, skip, workspace_root};

/// How long [`Browser::wait_until`] waits by default.
pub const WAIT: Duration = Duration::from_secs(15);

/// The W3C key of a WebDriver element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// The harness's HTTP client: plain HTTP on loopback, never through a
/// proxy from the environment, and a 4xx or 5xx is an answer to read (a
/// WebDriver error is a JSON body), not an error.
fn http_client() -> ureq::Agent {
    ureq::Agent::config_builder()
        .proxy(None)
        .http_status_as_error(false)
        .timeout_connect(Some(Duration::from_secs(5)))
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

/// The built page: `WIRELAB_DIST` (set by `cargo xtask test`) or `dist/`.
pub fn dist_dir() -> PathBuf {
    std::env::var_os("WIRELAB_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("dist"))
}

/// The built page, or `None` after [`skip`] when it is not built.
fn built_page() -> Option<PathBuf> {
    let dist = dist_dir();
    if !dist.join("index.html").is_file() {
        skip(&format!(
            "the page is not built at {} (run `cargo xtask dist`)",
            dist.display()
        ));
        return None;
    }
    Some(dist)
}

/// A relay plus a browser, torn down together.
pub struct Lab {
    pub browser: Browser,
    pub relay: Relay,
    pub base: String,
    runtime: tokio::runtime::Runtime,
    /// What the relay was started with, for [`Lab::restarted`].
    config: Config,
    _data: tempfile::TempDir,
}

impl Lab {
    /// Starts a relay (adjusted by `adjust`) and a browser, or returns `None`
    /// after [`skip`] when the page is not built or no browser is installed.
    pub fn start(adjust: impl FnOnce(&mut Config)) -> Option<Lab> {
        let dist = built_page()?;
        let browser = Browser::launch_or_skip()?;
        let data = tempfile::tempdir().expect("temp dir");
        let mut config = Config::ephemeral(data.path());
        config.dist = dist;
        adjust(&mut config);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let relay = runtime
            .block_on(Relay::start(config.clone()))
            .expect("relay starts");
        let base = format!("http://{}", relay.addr);
        Some(Lab {
            browser,
            relay,
            base,
            runtime,
            config,
            _data: data,
        })
    }

    /// A further browser with a profile of its own (its own
    /// `--user-data-dir`, so its own cookies): another person in the lab.
    pub fn new_profile(&self) -> Result<Browser> {
        Browser::launch_or_skip().ok_or_else(|| anyhow!("a second browser did not start"))
    }

    /// The lab with its relay stopped and started again on the same data
    /// directory and the same address (so the browsers' cookies, which
    /// belong to the host, still apply): what a relay restart looks like
    /// to a class. The pages must be reloaded.
    pub fn restarted(self) -> Result<Lab> {
        let Lab {
            browser,
            relay,
            runtime,
            mut config,
            _data,
            ..
        } = self;
        let addr = relay.addr;
        runtime.block_on(relay.stop(Duration::from_secs(5)));
        config.port = addr.port();
        // The old listener may take a moment to be gone.
        let deadline = Instant::now() + Duration::from_secs(10);
        let relay = loop {
            match runtime.block_on(Relay::start(config.clone())) {
                Ok(relay) => break relay,
                Err(e) if Instant::now() > deadline => {
                    return Err(e.context(format!("restarting the relay on {addr}")));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(200)),
            }
        };
        Ok(Lab {
            browser,
            base: format!("http://{}", relay.addr),
            relay,
            runtime,
            config,
            _data,
        })
    }

    /// Opens `path` of the lab in the browser.
    pub fn open(&mut self, path: &str) -> Result<()> {
        let url = format!("{}{path}", self.base);
        self.browser.goto(&url)
    }

    /// Opens `path` and waits until the page sees the relay online.
    pub fn open_online(&mut self, path: &str) -> Result<()> {
        self.open(path)?;
        self.browser
            .wait_attribute("relay-status", "data-state", "online")
    }

    /// A plain HTTP GET to the relay (for links the page shows), returning
    /// the status and the body bytes.
    pub fn get(&self, path: &str) -> Result<(u16, Vec<u8>)> {
        let url = format!("http://{}{path}", self.relay.addr);
        let mut response = http_client().get(&url).call()?;
        let body = response.body_mut().read_to_vec()?;
        Ok((response.status().as_u16(), body))
    }

    /// Runs a future on the relay's runtime (for tests that also talk to
    /// the servers directly).
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }
}

/// A static web server for the built page alone, with no `/api` and no
/// `/ws`: what a student gets from a copy of `dist/` on any web host. The
/// page must fall back to its in-browser servers there.
pub struct StaticSite {
    pub addr: SocketAddr,
    runtime: tokio::runtime::Runtime,
}

impl StaticSite {
    pub fn start(dist: &Path) -> StaticSite {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let app = wirelab_relay::site::attach(axum::Router::new(), dist);
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        runtime.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        StaticSite { addr, runtime }
    }
}

/// The built page on a [`StaticSite`], with a browser on one of its pages
/// that has found out there is no relay: the lab of a student without one.
pub struct OfflineSite {
    pub browser: Browser,
    _site: StaticSite,
}

impl OfflineSite {
    /// Serves the page, opens `path` and waits until the page says it is
    /// offline; `None` (after [`skip`]) when the page is not built or no
    /// browser is installed.
    pub fn open(path: &str) -> Result<Option<OfflineSite>> {
        let Some(dist) = built_page() else {
            return Ok(None);
        };
        let Some(mut browser) = Browser::launch_or_skip() else {
            return Ok(None);
        };
        let site = StaticSite::start(&dist);
        browser.goto(&format!("http://{}{path}", site.addr))?;
        browser.wait_attribute("relay-status", "data-state", "offline")?;
        Ok(Some(OfflineSite {
            browser,
            _site: site,
        }))
    }
}

impl Drop for StaticSite {
    fn drop(&mut self) {
        // Dropping the runtime stops the server.
        let _ = &self.runtime;
    }
}

/// Headless Chromium under chromedriver, with a fresh profile; what the
/// page saves goes to [`Browser::downloads`].
pub struct Browser {
    driver: Child,
    driver_addr: SocketAddr,
    client: ureq::Agent,
    session: String,
    _profile: tempfile::TempDir,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn find_chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CHROME") {
        return Some(PathBuf::from(path));
    }
    [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ]
    .iter()
    .find_map(|name| find_tool(name))
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session, or skips.
    pub fn launch_or_skip() -> Option<Browser> {
        let Some(driver) = std::env::var_os("CHROMEDRIVER")
            .map(PathBuf::from)
            .or_else(|| find_tool("chromedriver"))
        else {
            skip("chromedriver is not installed (apt-get install chromium-driver)");
            return None;
        };
        let Some(chromium) = find_chromium() else {
            skip("chromium is not installed (apt-get install chromium)");
            return None;
        };
        match Browser::launch(&driver, &chromium) {
            Ok(browser) => Some(browser),
            Err(e) => panic!("chromium and chromedriver are installed but do not start: {e:#}"),
        }
    }

    fn launch(driver_path: &Path, chromium: &Path) -> Result<Browser> {
        let port = free_port();
        let driver = Command::new(driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", driver_path.display()))?;
        let driver_addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let profile = tempfile::tempdir()?;
        std::fs::create_dir(profile.path().join("downloads"))?;
        let mut browser = Browser {
            driver,
            driver_addr,
            client: http_client(),
            session: String::new(),
            _profile: profile,
        };
        let ready_by = Instant::now() + Duration::from_secs(20);
        loop {
            match browser.http("GET", "/status", None) {
                Ok(v) if v["value"]["ready"] == json!(true) => break,
                _ if Instant::now() > ready_by => bail!("chromedriver did not become ready"),
                _ => std::thread::sleep(Duration::from_millis(100)),
            }
        }
        let args = vec![
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-extensions".into(),
            "--window-size=1280,900".into(),
            format!("--user-data-dir={}", browser._profile.path().display()),
        ];
        let caps = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": {
                        "binary": chromium,
                        "args": args,
                        "prefs": {
                            "download.default_directory": browser.downloads(),
                            "download.prompt_for_download": false
                        }
                    }
                }
            }
        });
        let created = browser.http("POST", "/session", Some(caps))?;
        browser.session = created["value"]["sessionId"]
            .as_str()
            .ok_or_else(|| anyhow!("no session id in {created}"))?
            .to_string();
        Ok(browser)
    }

    /// One WebDriver call.
    fn http(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value> {
        let request = ureq::http::Request::builder()
            .method(method)
            .uri(format!("http://{}{path}", self.driver_addr));
        let mut response = match body {
            Some(body) => self.client.run(
                request
                    .header("content-type", "application/json; charset=utf-8")
                    .body(body.to_string())?,
            )?,
            None => self.client.run(request.body(())?)?,
        };
        let body = response.body_mut().read_to_vec()?;
        let value: Value = serde_json::from_slice(&body)
            .with_context(|| format!("chromedriver answered {}", String::from_utf8_lossy(&body)))?;
        if let Some(error) = value["value"]["error"].as_str() {
            bail!(
                "WebDriver {method} {path}: {error}: {}",
                value["value"]["message"].as_str().unwrap_or("")
            );
        }
        Ok(value)
    }

    fn session_call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value> {
        self.http(method, &format!("/session/{}{path}", self.session), body)
    }

    pub fn goto(&mut self, url: &str) -> Result<()> {
        self.session_call("POST", "/url", Some(json!({ "url": url })))?;
        Ok(())
    }

    /// Where the page's downloads are saved.
    pub fn downloads(&self) -> PathBuf {
        self._profile.path().join("downloads")
    }

    /// Runs `script` (a function body: `arguments[i]`, `return ...`) in the
    /// page and returns what it returns.
    pub fn execute(&self, script: &str, args: &[Value]) -> Result<Value> {
        let v = self.session_call(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )?;
        Ok(v["value"].clone())
    }

    /// Elements matching a CSS selector (possibly none).
    pub fn find_all(&self, css: &str) -> Result<Vec<Element>> {
        let found = self.session_call(
            "POST",
            "/elements",
            Some(json!({ "using": "css selector", "value": css })),
        )?;
        Ok(found["value"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|v| v[ELEMENT_KEY].as_str().map(|id| Element(id.to_string())))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// The first element matching a CSS selector, if any.
    pub fn find(&self, css: &str) -> Result<Option<Element>> {
        Ok(self.find_all(css)?.into_iter().next())
    }

    /// Waits for the element with `data-testid="<id>"`.
    pub fn testid(&self, id: &str) -> Result<Element> {
        let css = format!("[data-testid=\"{id}\"]");
        self.wait_until(&format!("an element {css}"), || self.find(&css))
    }

    pub fn click(&self, element: &Element) -> Result<()> {
        self.session_call(
            "POST",
            &format!("/element/{}/click", element.0),
            Some(json!({})),
        )?;
        Ok(())
    }

    pub fn type_text(&self, element: &Element, text: &str) -> Result<()> {
        self.session_call(
            "POST",
            &format!("/element/{}/value", element.0),
            Some(json!({ "text": text })),
        )?;
        Ok(())
    }

    /// The rendered text of an element.
    pub fn text(&self, element: &Element) -> Result<String> {
        let v = self.session_call("GET", &format!("/element/{}/text", element.0), None)?;
        Ok(v["value"].as_str().unwrap_or_default().to_string())
    }

    /// An attribute of an element (`data-state`, `value`, ...).
    pub fn attribute(&self, element: &Element, name: &str) -> Result<Option<String>> {
        let v = self.session_call(
            "GET",
            &format!("/element/{}/attribute/{name}", element.0),
            None,
        )?;
        Ok(v["value"].as_str().map(str::to_string))
    }

    /// A DOM property of an element (`value` of a textarea, `checked`).
    pub fn property(&self, element: &Element, name: &str) -> Result<Option<String>> {
        let v = self.session_call(
            "GET",
            &format!("/element/{}/property/{name}", element.0),
            None,
        )?;
        Ok(match &v["value"] {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        })
    }

    /// Chooses `<option value="value">` of the `<select>` with that test id.
    pub fn select_option(&self, select_testid: &str, value: &str) -> Result<()> {
        let css = format!("[data-testid=\"{select_testid}\"] option[value=\"{value}\"]");
        let option = self.wait_until(&format!("option {value}"), || self.find(&css))?;
        self.click(&option)
    }

    /// Polls `probe` until it returns `Some`, for at most [`WAIT`].
    pub fn wait_until<T>(
        &self,
        what: &str,
        mut probe: impl FnMut() -> Result<Option<T>>,
    ) -> Result<T> {
        let deadline = Instant::now() + WAIT;
        let mut last_error = None;
        loop {
            match probe() {
                Ok(Some(value)) => return Ok(value),
                Ok(None) => {}
                Err(e) => last_error = Some(e),
            }
            if Instant::now() > deadline {
                let detail = last_error
                    .map(|e| format!(" (last error: {e:#})"))
                    .unwrap_or_default();
                bail!("timed out after {WAIT:?} waiting for {what}{detail}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until the element with test id `id` has `attr` equal to `want`.
    pub fn wait_attribute(&self, id: &str, attr: &str, want: &str) -> Result<()> {
        let element = self.testid(id)?;
        let mut seen = None;
        self.wait_until(&format!("{id} to have {attr}={want}"), || {
            seen = self.attribute(&element, attr)?;
            Ok((seen.as_deref() == Some(want)).then_some(()))
        })
        .with_context(|| format!("{id} has {attr}={seen:?}"))
    }

    /// Waits until the text of test id `id` contains `needle`, and returns it.
    pub fn wait_text(&self, id: &str, needle: &str) -> Result<String> {
        let element = self.testid(id)?;
        let mut last = String::new();
        self.wait_until(&format!("{id} to contain {needle:?}"), || {
            last = self.text(&element)?;
            Ok(last.contains(needle).then(|| last.clone()))
        })
        .with_context(|| format!("{id} says: {last}"))
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.http("DELETE", &format!("/session/{}", self.session), None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// A WebDriver element reference.
#[derive(Debug, Clone)]
pub struct Element(pub String);

impl Element {
    /// The element as an argument of [`Browser::execute`].
    pub fn arg(&self) -> Value {
        json!({ ELEMENT_KEY: self.0 })
    }
}
