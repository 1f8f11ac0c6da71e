//! The web cache view on the HTTP page in headless Chromium: through the
//! relay's caching proxy, `/cache/fresh.txt?max-age=2` fetched three times
//! is a miss, a hit, and after 2 s a revalidation with a 304 from the
//! origin, each shown as a row of the view and in the response's own
//! `Cache-Status`; the cache's entry counts its freshness down to stale;
//! the timeline gains the origin's lane.

use anyhow::Result;
use wirelab_e2e::{Browser, Lab};

/// The outcomes of the view's request rows, oldest first.
fn outcomes(b: &Browser) -> Result<Vec<String>> {
    let mut rows = b
        .find_all("[data-testid=\"cache-log-row\"]")?
        .iter()
        .map(|row| Ok(b.attribute(row, "data-outcome")?.unwrap_or_default()))
        .collect::<Result<Vec<_>>>()?;
    // The view shows the newest first.
    rows.reverse();
    Ok(rows)
}

fn wait_outcomes(b: &Browser, want: &[&str]) -> Result<()> {
    b.wait_until(&format!("the view's rows to be {want:?}"), || {
        Ok((outcomes(b)? == want).then_some(()))
    })
}

/// Sends the draft and waits for the `n`-th response in the transcript
/// (its summary).
fn send_and_wait(b: &Browser, n: usize) -> Result<String> {
    b.click(&b.testid("send")?)?;
    b.wait_until(&format!("response {n}"), || {
        let received =
            b.find_all("[data-testid=\"transcript-entry\"][data-direction=\"received\"]")?;
        Ok(match received.get(n - 1) {
            Some(entry) => Some(b.text(entry)?),
            None => None,
        })
    })
}

fn fresh_ms(b: &Browser) -> Result<Option<i64>> {
    let Some(entry) = b.find("[data-testid=\"cache-entry\"]")? else {
        return Ok(None);
    };
    let url = b.attribute(&entry, "data-url")?.unwrap_or_default();
    assert!(url.contains("/cache/fresh.txt?max-age=2"), "{url}");
    Ok(b.attribute(&entry, "data-fresh-ms")?
        .and_then(|v| v.parse().ok()))
}

#[test]
fn fresh_txt_through_the_proxy_is_a_miss_a_hit_then_revalidated() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    lab.open_online("/http")?;
    let b = &lab.browser;
    b.select_option("target-select", "http")?;
    b.click(&b.testid("via-cache")?)?;
    b.select_option("template-select", "cache-fresh")?;
    // The request line names the origin, as a forward proxy needs.
    let preview = b.wait_text("preview", "/cache/fresh.txt?max-age=2 HTTP/1.1␍␊")?;
    assert!(preview.starts_with("GET http://127.0.0.1:"), "{preview}");
    b.wait_text("cache-empty", "The cache is empty")?;

    send_and_wait(b, 1)?;
    b.wait_text("last-cache-status", "fwd=uri-miss")?;
    // Sent again at once, well inside the 2 s the object is fresh.
    send_and_wait(b, 2)?;
    b.wait_text("last-cache-status", "wirelab; hit")?;
    wait_outcomes(b, &["miss", "hit"])?;
    // Never more than its 2 s lifetime (how much is left depends on how
    // quickly this machine got here, so no lower bound).
    let left = b.wait_until("the cache's entry", || fresh_ms(b))?;
    assert!(left <= 2000, "fresh for {left} ms");
    // The page counts it down to stale by itself.
    b.wait_until("the entry to go stale", || {
        Ok(fresh_ms(b)?.filter(|ms| *ms <= 0))
    })?;

    send_and_wait(b, 3)?;
    b.wait_text("last-cache-status", "fwd-status=304")?;
    wait_outcomes(b, &["miss", "hit", "revalidated"])?;
    let row = b
        .find("[data-testid=\"cache-log-row\"][data-outcome=\"revalidated\"]")?
        .expect("the revalidation's row");
    let text = b.text(&row)?;
    assert!(text.contains("304"), "{text}");
    assert!(
        text.contains("If-None-Match") || text.contains("If-Modified-Since"),
        "the conditional request is shown: {text}"
    );
    // The hit's row says nothing went upstream.
    let hit = b
        .find("[data-testid=\"cache-log-row\"][data-outcome=\"hit\"]")?
        .expect("the hit's row");
    assert!(b.text(&hit)?.contains("answered from the cache"));
    // The timeline: client, proxy, and the origin's lane the relay reports.
    b.wait_until("the origin's lane", || {
        let lanes = b.find_all("[data-testid=\"timeline-lane\"]")?;
        for lane in &lanes {
            if b.text(lane)?.contains("as the relay reports it") {
                return Ok(Some(lanes.len()));
            }
        }
        Ok(None)
    })?;
    Ok(())
}
