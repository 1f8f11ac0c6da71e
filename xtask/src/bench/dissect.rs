//! The page's dissection rows of `cargo xtask bench`: what the WASM page
//! takes, in headless Chromium, to show a 1 MB HTTP response (with
//! Content-Length and chunked) and a 10,000-line SMTP session, as the
//! page's hidden `/bench` route timed it (`wirelab-bench dissect` reads its
//! figures). Without chromium or chromedriver the rows stay, unmeasured,
//! and the run says so loudly.

use super::report::{Row, Target};
use std::collections::HashMap;

/// The target: a 1 MB HTTP response dissected in the page.
pub const TARGET_MS: f64 = 20.0;

/// The inputs, by their key in the route's figures.
const CASES: [(&str, &str, bool); 3] = [
    ("http_cl", "1 MB HTTP response with Content-Length", true),
    (
        "http_chunked",
        "1 MB HTTP response, chunked (8 KiB chunks)",
        true,
    ),
    ("smtp", "10,000-line SMTP session (99 mails)", false),
];

/// The stages besides the whole, with what each one is.
const STAGES: [(&str, &str); 4] = [
    ("follow", "framing and dissecting (follow)"),
    ("dissect", "of which the dissector alone"),
    ("render", "the inspector's tree and hex view into the DOM"),
    ("tree", "of which the tree alone"),
];

/// The executables the browser needs, each with one of its names.
pub const BROWSER: [(&[&str], &str); 2] = [
    (
        &["chromium", "chromium-browser", "google-chrome"],
        "apt-get install chromium",
    ),
    (&["chromedriver"], "apt-get install chromium-driver"),
];

/// The rows from the client's figures (`None`: not measured).
pub fn rows(figures: Option<&HashMap<String, String>>) -> Vec<Row> {
    let get = |key: String| -> Option<f64> { figures?.get(&key)?.parse().ok() };
    let mut rows = Vec::new();
    for (case, what, targeted) in CASES {
        let median = get(format!("{case}_page_median_ms"));
        let p95 = get(format!("{case}_page_p95_ms"));
        let whole = format!(
            "{what} shown in the page (headless Chromium, release WASM): follow, timeline and \
             inspector, median"
        );
        let mut median_row = Row::new(whole, "ms", median);
        let mut p95_row = Row::new("same, p95", "ms", p95);
        if targeted {
            median_row = median_row.target(Target::AtMost(TARGET_MS));
            p95_row = p95_row.target(Target::AtMost(TARGET_MS));
        }
        rows.extend([median_row, p95_row]);
        for (stage, about) in STAGES {
            let Some(median) = get(format!("{case}_{stage}_median_ms")) else {
                // The dissector alone is timed for HTTP only.
                if stage == "dissect" {
                    continue;
                }
                rows.push(Row::new(format!("same: {about}, median"), "ms", None));
                continue;
            };
            let p95 = get(format!("{case}_{stage}_p95_ms"))
                .map(|p| format!(" (p95 {} ms)", super::report::number(p)))
                .unwrap_or_default();
            let row = Row::new(format!("same: {about}, median{p95}"), "ms", Some(median));
            // "Dissected in the page": the target read narrowly, beside
            // the whole above.
            rows.push(if targeted && stage == "follow" {
                row.target(Target::AtMost(TARGET_MS))
            } else {
                row
            });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_http_rows_carry_the_target_and_the_p95() {
        let f = figures(&[
            ("http_cl_page_median_ms", "12.5"),
            ("http_cl_page_p95_ms", "25.0"),
            ("http_cl_follow_median_ms", "8.0"),
            ("http_cl_follow_p95_ms", "9.5"),
        ]);
        let rows = rows(Some(&f));
        assert_eq!(rows[0].wirelab, Some(12.5));
        assert_eq!(rows[0].target, Some(Target::AtMost(TARGET_MS)));
        assert_eq!(rows[1].wirelab, Some(25.0));
        assert!(rows[2].what.contains("(p95 9.50 ms)"), "{}", rows[2].what);
        assert_eq!(rows[2].wirelab, Some(8.0));
        assert_eq!(rows[2].target, Some(Target::AtMost(TARGET_MS)));
        let table = super::super::report::table(&rows);
        assert!(
            table.contains("| 25.0 ms |  |  | < 20.0 ms | **no** |"),
            "{table}"
        );
    }

    #[test]
    fn not_measured_rows_stay_and_smtp_has_no_target_or_dissector_row() {
        let rows = rows(None);
        assert!(rows.iter().all(|r| r.wirelab.is_none()));
        let smtp: Vec<_> = rows.iter().filter(|r| r.what.contains("SMTP")).collect();
        assert_eq!(smtp.len(), 1);
        assert_eq!(smtp[0].target, None);
        // The dissector-alone row appears only with its figure.
        assert!(rows.iter().all(|r| !r.what.contains("dissector alone")));
    }
}
