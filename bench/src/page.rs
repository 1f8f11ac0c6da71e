//! `wirelab-bench dissect`: the page's own dissection timed in headless
//! Chromium. It serves the built page (the e2e harness's static site),
//! opens its hidden `/bench` route, which times the work itself with
//! `performance.now()`, waits until the route says it is done, and reads
//! its rows: for each input and stage, `<case>_<stage>_median_ms` and
//! `<case>_<stage>_p95_ms`.

use anyhow::{Context, Result, bail};
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};
use wirelab_e2e::{Browser, StaticSite};

/// How often the route's state is read while it runs.
const POLL: Duration = Duration::from_millis(250);

/// The route's figures as `key=value` pairs, or an error when Chromium is
/// missing, the route fails or it is not done within `timeout`.
pub fn dissect(dist: &Path, timeout: Duration) -> Result<String> {
    if !dist.join("index.html").is_file() {
        bail!("the page is not built at {}", dist.display());
    }
    let site = StaticSite::start(dist);
    let mut browser =
        Browser::launch_or_skip().context("chromium or chromedriver is not installed")?;
    browser.goto(&format!("http://{}/bench", site.addr))?;
    let section = browser.testid("bench")?;
    let deadline = Instant::now() + timeout;
    while browser.attribute(&section, "data-state")?.as_deref() != Some("done") {
        if Instant::now() > deadline {
            bail!("the /bench route was not done within {timeout:?}");
        }
        std::thread::sleep(POLL);
    }
    let mut line = String::new();
    for row in browser.find_all("[data-testid=\"bench-row\"]")? {
        let read = |name: &str| -> Result<String> {
            browser
                .attribute(&row, name)?
                .with_context(|| format!("a bench row without {name}"))
        };
        let key = format!("{}_{}", read("data-case")?, read("data-stage")?);
        let (median, p95) = (read("data-median-ms")?, read("data-p95-ms")?);
        write!(line, "{key}_median_ms={median} {key}_p95_ms={p95} ")?;
    }
    if line.is_empty() {
        bail!("the /bench route showed no figures");
    }
    Ok(line.trim_end().to_string())
}
