//! An automated accessibility check of every page: axe-core (vendored in
//! `e2e/vendor/`, see its README) runs in headless Chromium on each route
//! and the test fails on any serious or critical violation, naming the
//! rule, the page and the elements. Minor and moderate findings are not
//! the bar here; a missing label, too little contrast or a duplicate id is.

use anyhow::{Result, bail};
use serde_json::Value;
use wirelab_e2e::{Browser, Lab};

/// axe-core's minified build, injected into each page under test.
const AXE: &str = include_str!("../vendor/axe.min.js");

/// Every route of the page, with an element of that page that is there
/// once it has drawn (so the check sees the page, not the loading text).
const ROUTES: &[(&str, &str)] = &[
    ("/", ".page.home .card a"),
    ("/http", "[data-testid=\"editor\"]"),
    ("/smtp", "[data-testid=\"connect\"]"),
    ("/pop3", "[data-testid=\"connect\"]"),
    ("/ftp", "[data-testid=\"connect\"]"),
    ("/dns", "[data-testid=\"mode-iterative\"]"),
    ("/sockets", "[data-testid=\"connect\"]"),
];

/// Runs axe on the whole document and returns its serious and critical
/// violations, each with its rule, help text and the offending elements.
const RUN_AXE: &str = r#"
const done = arguments[arguments.length - 1];
axe.run(document, { resultTypes: ["violations"] }).then(
  (report) => done(report.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => n.target.join(" ") + ": " + n.failureSummary),
    }))),
  (error) => done([{ id: "axe-error", impact: "critical", help: String(error), nodes: [] }]),
);
"#;

/// The serious and critical violations axe finds on the current page.
fn violations(b: &Browser) -> Result<Vec<Value>> {
    b.execute(AXE, &[])?;
    match b.execute_async(RUN_AXE, &[])? {
        Value::Array(found) => Ok(found),
        other => bail!("axe answered {other}"),
    }
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
fn no_page_has_a_serious_accessibility_violation() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    let mut found = Vec::new();
    for (route, drawn) in ROUTES {
        lab.open_online(route)?;
        let b = &lab.browser;
        b.wait_until(&format!("{drawn} on {route}"), || b.find(drawn))?;
        for violation in violations(b)? {
            found.push(describe(route, &violation));
        }
    }
    assert!(
        found.is_empty(),
        "axe-core found {} serious or critical violations:\n{}",
        found.len(),
        found.join("\n")
    );
    Ok(())
}
