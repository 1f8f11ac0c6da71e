//! Every page fits a narrow screen: at a phone's 390×844 and at 800×900
//! the document is no wider than the window (the header folds, the panes
//! stack, wide content scrolls inside its own box).

use anyhow::Result;
use wirelab_e2e::Lab;

/// Every route of the page (see `frontend/src/route.rs`).
const ROUTES: [&str; 13] = [
    "/",
    "/sockets",
    "/http",
    "/response-time",
    "/smtp",
    "/pop3",
    "/imap",
    "/ftp",
    "/dns",
    "/p2p",
    "/instructor",
    "/caching",
    "/no-such-page",
];

#[test]
fn every_page_is_in_the_list() {
    for path in wirelab_shared::pages::PAGE_PATHS {
        // The hidden benchmark page is for a desktop's headless Chromium.
        if *path != "/bench" {
            assert!(
                ROUTES.contains(path),
                "{path} is not checked at narrow widths"
            );
        }
    }
}

/// The deepest elements that reach past the window's right edge, to name
/// in a failure.
const CULPRITS: &str = r#"
    const w = window.innerWidth;
    return [...document.querySelectorAll("body *")]
        .filter(e => e.getBoundingClientRect().right > w + 0.5)
        .filter(e => ![...e.children].some(c => c.getBoundingClientRect().right > w + 0.5))
        .slice(0, 6)
        .map(e => e.tagName.toLowerCase() + "." + [...e.classList].join(".")
            + (e.dataset.testid ? "[" + e.dataset.testid + "]" : "")
            + " to " + Math.round(e.getBoundingClientRect().right) + " px")
        .join(", ");
"#;

/// How much wider than the window the document is (0 when it fits).
const OVERFLOW: &str = "return document.documentElement.scrollWidth - window.innerWidth;";

/// Fails, naming the widest elements, if the page as it stands is wider
/// than the window.
fn assert_fits(b: &wirelab_e2e::Browser) -> Result<()> {
    let overflow = b.execute(OVERFLOW, &[])?;
    let culprits = b.execute(CULPRITS, &[])?;
    anyhow::ensure!(
        overflow.as_i64().is_some_and(|px| px <= 0),
        "{overflow} px too wide ({culprits})"
    );
    Ok(())
}

fn overflow_on_every_route(width: u32, height: u32) -> Result<Vec<String>> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(Vec::new());
    };
    lab.browser.set_window_size(width, height)?;
    let mut too_wide = Vec::new();
    for route in ROUTES {
        lab.open_online(route)?;
        let b = &lab.browser;
        // The routed page is drawn (after the relay's catalog came in).
        b.wait_until("the page drawn", || b.find("main > *"))?;
        let overflow = b.execute(OVERFLOW, &[])?;
        if overflow.as_i64().is_none_or(|px| px > 0) {
            let culprits = b.execute(CULPRITS, &[])?;
            too_wide.push(format!("{route}: {overflow} px too wide ({culprits})"));
        }
    }
    Ok(too_wide)
}

#[test]
fn no_page_is_wider_than_a_phone() -> Result<()> {
    let too_wide = overflow_on_every_route(390, 844)?;
    assert!(too_wide.is_empty(), "at 390×844: {too_wide:?}");
    Ok(())
}

#[test]
fn no_page_is_wider_than_a_small_tablet() -> Result<()> {
    let too_wide = overflow_on_every_route(800, 900)?;
    assert!(too_wide.is_empty(), "at 800×900: {too_wide:?}");
    Ok(())
}

#[test]
fn a_response_its_hex_and_the_timeline_fit_a_phone() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    lab.browser.set_window_size(390, 844)?;
    lab.open_online("/http")?;
    let b = &lab.browser;
    b.select_option("template-select", "someschool")?;
    b.wait_text("preview", "someschool")?;
    b.click(&b.testid("send")?)?;
    b.wait_text("transcript", "HTTP/1.1 200 OK")?;
    let response = b
        .find("[data-testid=\"transcript-entry\"][data-direction=\"received\"]")?
        .expect("a response");
    b.click(&response)?;
    b.wait_attribute("inspector", "data-source", "received")?;
    b.testid("bytes")?;
    assert_fits(b)?;
    Ok(())
}

#[test]
fn the_web_cache_view_with_its_rows_fits_a_phone() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    lab.browser.set_window_size(390, 844)?;
    lab.open_online("/http")?;
    let b = &lab.browser;
    b.select_option("target-select", "http")?;
    b.click(&b.testid("via-cache")?)?;
    b.select_option("template-select", "cache-fresh")?;
    b.wait_text("preview", "GET http://")?;
    b.click(&b.testid("send")?)?;
    b.wait_until("a row of the view", || {
        b.find("[data-testid=\"cache-log-row\"]")
    })?;
    b.wait_until("the cache's entry", || {
        b.find("[data-testid=\"cache-entry\"]")
    })?;
    assert_fits(b)?;
    Ok(())
}

#[test]
fn a_resolved_name_with_its_trace_and_cache_fits_a_phone() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    lab.browser.set_window_size(390, 844)?;
    lab.open_online("/dns")?;
    let b = &lab.browser;
    // Through the local resolver: the reply, the eight-message figure, the
    // trace's table and the cache, the widest things the DNS page draws.
    b.click(&b.testid("mode-recursive")?)?;
    b.wait_until("the resolver chosen", || {
        Ok(b.property(&b.testid("target-select")?, "value")?
            .filter(|v| v == "dns"))
    })?;
    b.click(&b.testid("send")?)?;
    b.wait_attribute("trace-summary", "data-messages", "8")?;
    assert_fits(b)?;
    Ok(())
}

#[test]
fn the_imap_folder_tree_parts_and_pop3_comparison_fit_a_phone() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    lab.browser.set_window_size(390, 844)?;
    lab.open_online("/imap")?;
    let b = &lab.browser;
    b.click(&b.testid("connect")?)?;
    b.wait_text("transcript", "* OK")?;
    let lines = [
        "a001 LOGIN bob hungry",
        "a002 CREATE Work",
        "a003 CREATE Work/2026",
        "a004 LIST \"\" *",
        "a005 SELECT INBOX",
        "a006 STORE 1 +FLAGS (\\Seen \\Flagged \\Answered \\Draft)",
        "a007 FETCH 1:* (UID FLAGS ENVELOPE)",
        "a008 FETCH 2 BODYSTRUCTURE",
    ];
    for (i, line) in lines.iter().enumerate() {
        b.type_text(&b.testid("editor")?, line)?;
        b.click(&b.testid("send")?)?;
        b.wait_text("transcript", &format!("a{:03} OK", i + 1))?;
    }
    b.wait_until("the numbered parts", || {
        b.find("[data-testid=\"imap-part\"]")
    })?;
    b.wait_until("the POP3 comparison's rows", || {
        b.find("[data-testid=\"compare-row\"]")
    })?;
    assert_fits(b)?;
    Ok(())
}

#[test]
fn the_peer_wire_workbench_in_use_fits_a_phone() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    lab.browser.set_window_size(390, 844)?;
    lab.open_online("/p2p")?;
    let b = &lab.browser;
    // The default swarm (ten leechers): its table, the workbench's form
    // with the 40-digit info hash, and the seed's bitfield in the inspector.
    b.click(&b.testid("swarm-start")?)?;
    b.wait_until("the peer wire workbench", || {
        b.find("[data-testid=\"peer-wire\"]")
    })?;
    b.click(&b.testid("wire-handshake")?)?;
    let bitfield =
        "[data-testid=\"wire-message\"][data-direction=\"received\"][data-name=\"bitfield\"]";
    let bitfield = b.wait_until("the seed's bitfield", || b.find(bitfield))?;
    b.click(&bitfield)?;
    b.wait_text("dissection-summary", "bitfield")?;
    let fits = assert_fits(b);
    b.click(&b.testid("swarm-stop")?)?;
    fits?;
    Ok(())
}
