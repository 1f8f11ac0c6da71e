//! An automated accessibility check of every page: axe-core (vendored in
//! `e2e/vendor/`, see its README) runs in headless Chromium on each route
//! and the test fails on any moderate, serious or critical violation,
//! naming the rule, the page and the elements: a missing label, too little
//! contrast, a duplicate id, and headings that skip a level. Only axe's
//! "minor" findings are not the bar.

use anyhow::{Context, Result, bail};
use serde_json::Value;
use wirelab_e2e::{Browser, Lab, OfflineSite, key};

const RECEIVED: &str = "[data-testid=\"transcript-entry\"][data-direction=\"received\"]";

/// axe-core's minified build, injected into each page under test.
const AXE: &str = include_str!("../vendor/axe.min.js");

/// Every route of the page, with an element of that page that is there
/// once it has drawn (so the check sees the page, not the loading text).
const ROUTES: &[(&str, &str)] = &[
    ("/", ".page.home .card a"),
    ("/http", "[data-testid=\"editor\"]"),
    ("/response-time", "[data-testid=\"rt-run-all\"]"),
    ("/smtp", "[data-testid=\"connect\"]"),
    ("/pop3", "[data-testid=\"connect\"]"),
    ("/imap", "[data-testid=\"connect\"]"),
    ("/ftp", "[data-testid=\"connect\"]"),
    ("/dns", "[data-testid=\"mode-iterative\"]"),
    ("/sockets", "[data-testid=\"connect\"]"),
    ("/p2p", "[data-testid=\"dht-ring\"]"),
    ("/caching", "[data-testid=\"delay-curve\"]"),
];

#[test]
fn every_page_is_in_the_list() {
    // The instructor's page needs a signed-in relay: its own test below.
    for path in wirelab_shared::pages::PAGE_PATHS {
        if !["/bench", "/instructor"].contains(path) {
            assert!(
                ROUTES.iter().any(|(route, _)| route == path),
                "{path} is not checked by axe"
            );
        }
    }
}

/// Runs axe on the whole document and returns its violations above minor, each with its rule, help text and the offending elements.
const RUN_AXE: &str = r#"
const done = arguments[arguments.length - 1];
axe.run(document, { resultTypes: ["violations"] }).then(
  (report) => done(report.violations
    .filter((v) => v.impact !== "minor")
    .map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => n.target.join(" ") + ": " + n.failureSummary),
    }))),
  (error) => done([{ id: "axe-error", impact: "critical", help: String(error), nodes: [] }]),
);
"#;

/// The violations above minor axe finds on the current page.
fn violations(b: &Browser) -> Result<Vec<Value>> {
    b.execute(AXE, &[])?;
    match b.execute_async(RUN_AXE, &[])? {
        Value::Array(found) => Ok(found),
        other => bail!("axe answered {other}"),
    }
}

/// The violations above minor on the current page, described.
fn check(b: &Browser, what: &str, found: &mut Vec<String>) -> Result<()> {
    for violation in violations(b)? {
        found.push(describe(what, &violation));
    }
    Ok(())
}

/// Fails naming every violation `found`.
fn assert_none(found: &[String]) {
    assert!(
        found.is_empty(),
        "axe-core found {} violations above minor:\n{}",
        found.len(),
        found.join("\n")
    );
}

/// One violation, as a line a reader can act on.
fn describe(route: &str, violation: &Value) -> String {
    let nodes: Vec<&str> = violation["nodes"]
        .as_array()
        .map(|n| n.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    format!(
        "{route}: {} ({}): {}\n    {}",
        violation["id"].as_str().unwrap_or("?"),
        violation["impact"].as_str().unwrap_or("?"),
        violation["help"].as_str().unwrap_or(""),
        nodes.join("\n    ")
    )
}

#[test]
fn no_page_has_an_accessibility_violation_above_minor() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    let mut found = Vec::new();
    for (route, drawn) in ROUTES {
        lab.open_online(route)?;
        let b = &lab.browser;
        b.wait_until(&format!("{drawn} on {route}"), || b.find(drawn))?;
        check(b, route, &mut found)?;
    }
    assert_none(&found);
    Ok(())
}

/// Waits until the transcript holds `n` replies from the server.
fn wait_replies(b: &Browser, n: usize) -> Result<()> {
    b.wait_until(&format!("{n} replies"), || {
        Ok((b.find_all(RECEIVED)?.len() >= n).then_some(()))
    })
}

/// The pages once they show what a session draws: transcripts, the
/// timeline, the inspector with a message opened, the CDN's replicas
/// traced, the web cache's view with a request and an entry, the DNS walk,
/// the IMAP page's folder tree, parts and POP3 comparison, and the
/// shortcuts dialog open over a page.
#[test]
fn pages_in_use_have_no_accessibility_violation_above_minor() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    let mut found = Vec::new();
    lab.open_online("/smtp")?;
    let b = &lab.browser;
    b.click(&b.testid("connect")?)?;
    wait_replies(b, 1)?;
    b.send_keys(&format!("HELO crepes.fr{}", key::ENTER))?;
    wait_replies(b, 2)?;
    let reply = b.find_all(RECEIVED)?.pop().context("a reply")?;
    b.click(&reply)?;
    check(b, "/smtp with a reply opened", &mut found)?;
    b.send_keys(key::ESCAPE)?;
    b.execute("document.activeElement.blur()", &[])?;
    b.send_keys("?")?;
    b.wait_attribute("shortcuts", "open", "true")?;
    check(b, "/smtp with the shortcuts open", &mut found)?;

    lab.open_online("/http")?;
    let b = &lab.browser;
    b.click(&b.testid("send")?)?;
    wait_replies(b, 1)?;
    check(b, "/http with a response", &mut found)?;
    b.click(&b.testid("cdn-trace")?)?;
    b.wait_until("the CDN's table", || b.find("[data-testid=\"cdn-row\"]"))?;
    check(b, "/http with the CDN's replicas traced", &mut found)?;
    lab.open_online("/http")?;
    let b = &lab.browser;
    b.select_option("target-select", "http")?;
    b.click(&b.testid("via-cache")?)?;
    b.select_option("template-select", "cache-fresh")?;
    b.wait_text("preview", "GET http://")?;
    b.click(&b.testid("send")?)?;
    wait_replies(b, 1)?;
    b.wait_until("the web cache's entry", || {
        b.find("[data-testid=\"cache-entry\"]")
    })?;
    check(b, "/http through the web cache", &mut found)?;

    lab.open_online("/dns")?;
    let b = &lab.browser;
    b.wait_until("the root among the DNS servers", || {
        b.find("[data-testid=\"target-select\"] option[value=\"dns-root\"]")
    })?;
    b.click(&b.testid("send")?)?;
    wait_replies(b, 1)?;
    check(b, "/dns with the root's referral", &mut found)?;

    lab.open_online("/response-time")?;
    let b = &lab.browser;
    b.select_option("rt-rtt", "0")?;
    b.select_option("rt-images", "2")?;
    b.click(&b.testid("rt-run-pipelined")?)?;
    b.wait_until("the pipelined run's timeline", || {
        b.find("[data-testid=\"rt-timeline\"] [data-testid=\"timeline-arrow\"]")
    })?;
    check(b, "/response-time with a run and its timeline", &mut found)?;

    lab.open_online("/imap")?;
    let b = &lab.browser;
    b.click(&b.testid("connect")?)?;
    wait_replies(b, 1)?;
    let lines = [
        "a001 LOGIN bob hungry",
        "a002 LIST \"\" *",
        "a003 SELECT INBOX",
        "a004 FETCH 1:* (UID FLAGS ENVELOPE)",
        "a005 FETCH 2 BODYSTRUCTURE",
    ];
    for (i, line) in lines.iter().enumerate() {
        let before = b.find_all(RECEIVED)?.len();
        b.type_text(&b.testid("editor")?, line)?;
        b.click(&b.testid("send")?)?;
        b.wait_text("transcript", &format!("a{:03} OK", i + 1))?;
        wait_replies(b, before + 1)?;
    }
    b.wait_until("the numbered parts", || {
        b.find("[data-testid=\"imap-part\"]")
    })?;
    b.wait_until("the POP3 comparison's rows", || {
        b.find("[data-testid=\"compare-row\"]")
    })?;
    check(
        b,
        "/imap with folders, flags, parts and the POP3 comparison",
        &mut found,
    )?;
    assert_none(&found);
    Ok(())
}

/// The P2P page with a swarm running and the peer wire workbench in use:
/// a handshake sent to the seed, its bitfield opened in the inspector.
#[test]
fn the_peer_wire_workbench_in_use_has_no_violation_above_minor() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    lab.open_online("/p2p")?;
    let b = &lab.browser;
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
    let mut found = Vec::new();
    check(b, "/p2p talking to a swarm peer", &mut found)?;
    b.click(&b.testid("swarm-stop")?)?;
    assert_none(&found);
    Ok(())
}

/// The page without a relay (served as static files): the offline badge,
/// the in-browser servers, and the FTP page that says it needs the relay.
#[test]
fn pages_without_a_relay_have_no_accessibility_violation_above_minor() -> Result<()> {
    let mut found = Vec::new();
    for (route, drawn) in [("/smtp", "connect"), ("/ftp", "needs-relay")] {
        let Some(site) = OfflineSite::open(route)? else {
            return Ok(());
        };
        let b = &site.browser;
        b.testid(drawn)?;
        check(b, &format!("{route} without a relay"), &mut found)?;
    }
    assert_none(&found);
    Ok(())
}

#[test]
fn the_instructor_page_has_no_serious_accessibility_violation() -> Result<()> {
    const SECRET: &str = "a11y-instructor-secret";
    let Some(mut lab) = Lab::start(|c| {
        c.classroom.enabled = true;
        c.classroom.instructor_secret = Some(SECRET.into());
    }) else {
        return Ok(());
    };
    lab.open("/instructor")?;
    let b = &lab.browser;
    let mut found = Vec::new();
    let secret = b.wait_until("the sign-in form", || {
        b.find("[data-testid=\"instructor-secret\"]")
    })?;
    check(b, "/instructor (signed out)", &mut found)?;
    b.type_text(&secret, SECRET)?;
    b.click(&b.testid("instructor-sign-in")?)?;
    let name = b.wait_until("the class form", || b.find("[data-testid=\"class-name\"]"))?;
    b.type_text(&name, "Lab")?;
    b.click(&b.testid("class-create")?)?;
    b.wait_until("the QR code", || b.find("[data-testid=\"join-qr\"] svg"))?;
    check(b, "/instructor (a class)", &mut found)?;
    // A student's panel, with its "Are you sure?" step, beside the settings form.
    let code = b.text(&b.testid("join-code")?)?;
    let room = lab.relay.state.classroom.clone();
    let now = wirelab_relay::classroom::unix_now();
    lab.block_on(room.join(&code, "Ada", None, now))
        .map_err(|r| anyhow::anyhow!(r.message))?;
    let student = b.wait_until("the student on the roster", || {
        b.find("[data-testid=\"student-open\"]")
    })?;
    b.click(&student)?;
    b.click(&b.wait_until("the student's panel", || {
        b.find("[data-testid=\"student-revoke\"]")
    })?)?;
    b.wait_until("the confirmation", || {
        b.find("[data-testid=\"student-confirm\"]")
    })?;
    b.wait_until("the settings form", || {
        b.find("[data-testid=\"settings-all-targets\"]")
    })?;
    check(
        b,
        "/instructor (a student's panel, the settings)",
        &mut found,
    )?;
    assert_none(&found);
    Ok(())
}
