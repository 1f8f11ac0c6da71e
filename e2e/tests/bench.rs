//! The hidden `/bench` route in headless Chromium: one run of each input
//! (`?runs=1&warmup=0`) ends with a figure for every stage, and nothing in
//! the page links to the route. No time is asserted: `cargo xtask bench`
//! reads the figures.

use anyhow::{Result, bail};
use std::time::{Duration, Instant};
use wirelab_e2e::OfflineSite;

/// A debug build of the page takes far longer than the release one the
/// benchmark uses.
const DONE_WITHIN: Duration = Duration::from_secs(120);

#[test]
fn the_bench_route_shows_a_figure_for_every_input_and_stage() -> Result<()> {
    let Some(offline) = OfflineSite::open("/bench?runs=1&warmup=0")? else {
        return Ok(());
    };
    let b = &offline.browser;
    let section = b.testid("bench")?;
    let started = Instant::now();
    while b.attribute(&section, "data-state")?.as_deref() != Some("done") {
        if started.elapsed() > DONE_WITHIN {
            bail!("the /bench route was not done within {DONE_WITHIN:?}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let mut seen = Vec::new();
    for row in b.find_all("[data-testid=\"bench-row\"]")? {
        let read = |name: &str| b.attribute(&row, name).map(Option::unwrap_or_default);
        let median: f64 = read("data-median-ms")?.parse()?;
        let p95: f64 = read("data-p95-ms")?.parse()?;
        assert!(median.is_finite() && median >= 0.0, "{median}");
        // One run: its time is both the median and the p95.
        assert_eq!(median, p95);
        seen.push(format!("{}/{}", read("data-case")?, read("data-stage")?));
    }
    let mut want = Vec::new();
    for case in ["http_cl", "http_chunked", "smtp"] {
        for stage in ["follow", "dissect", "render", "tree", "page"] {
            // The dissector alone is timed for the HTTP responses only.
            if !(case == "smtp" && stage == "dissect") {
                want.push(format!("{case}/{stage}"));
            }
        }
    }
    assert_eq!(seen, want);
    assert!(
        b.find("a[href=\"/bench\"]")?.is_none(),
        "the route is not linked"
    );
    Ok(())
}
