//! The HTTP page's CDN section in headless Chromium: fetching the origin's
//! page as a client in New York and one in Paris shows, for every image,
//! the replica of that client's region, named by the replica's own
//! `Server` header, and why; without a relay the section says it needs one.

use anyhow::Result;
use wirelab_e2e::{Lab, OfflineSite};

#[test]
fn each_region_gets_its_replica_for_every_image() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    lab.open_online("/http")?;
    let b = &lab.browser;
    let button = b.wait_until("the CDN button", || b.find("[data-testid=\"cdn-trace\"]"))?;
    b.click(&button)?;
    let rows = b.wait_until("a row per image and client", || {
        let rows = b.find_all("[data-testid=\"cdn-row\"]")?;
        Ok((rows.len() == 6).then_some(rows))
    })?;
    let mut seen = Vec::new();
    for row in &rows {
        let client = b.attribute(row, "data-client")?.unwrap_or_default();
        let replica = b.attribute(row, "data-replica")?.unwrap_or_default();
        let text = b.text(row)?;
        let expected = match client.as_str() {
            "127.0.0.1" => "ny.cdn.com",
            "127.1.0.7" => "paris.cdn.com",
            other => panic!("a row for {other}"),
        };
        assert_eq!(replica, expected, "{text}");
        assert!(
            text.contains("200, wirelab/") && text.contains(&format!("CDN replica {expected}")),
            "{text}"
        );
        assert!(
            text.contains(&format!("the nearest is {expected}")),
            "{text}"
        );
        seen.push((client, b.attribute(row, "data-url")?.unwrap_or_default()));
    }
    // Both clients followed the same three images.
    let urls = |client: &str| -> Vec<String> {
        seen.iter()
            .filter(|(c, _)| c == client)
            .map(|(_, u)| u.clone())
            .collect()
    };
    assert_eq!(urls("127.0.0.1"), urls("127.1.0.7"));
    assert!(
        urls("127.0.0.1")
            .iter()
            .any(|u| u.contains("video.sina.com"))
    );
    Ok(())
}

#[test]
fn without_a_relay_the_section_says_it_needs_one() -> Result<()> {
    let Some(offline) = OfflineSite::open("/http")? else {
        return Ok(());
    };
    let b = &offline.browser;
    b.wait_text("cdn-offline", "run on the relay")?;
    assert!(b.find("[data-testid=\"cdn-trace\"]")?.is_none());
    Ok(())
}
