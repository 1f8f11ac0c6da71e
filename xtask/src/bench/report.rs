//! The benchmark's table: each row a figure of wirelab's, the peer's
//! figure beside it, their ratio and the target; printed, and
//! written to `bench/RESULTS.md` with the date, the commit and the machine,
//! keeping the last run's table below as "Previous run" so the next run
//! compares.

use std::fmt::Write as _;

/// What a row must reach to be met.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// wirelab / peer at most this (latencies).
    RatioAtMost(f64),
    /// wirelab / peer at least this (rates).
    RatioAtLeast(f64),
    /// wirelab's figure at most this (its unit).
    AtMost(f64),
    /// wirelab's figure at least this (its unit).
    AtLeast(f64),
}

impl Target {
    fn describe(self, unit: &str) -> String {
        match self {
            Target::RatioAtMost(r) => format!("≤ {r}×"),
            Target::RatioAtLeast(r) => format!("≥ {r}×"),
            Target::AtMost(v) => format!("< {} {unit}", number(v)),
            Target::AtLeast(v) => format!("≥ {} {unit}", number(v)),
        }
    }

    /// Whether it is met; `None` when a figure it needs is missing.
    fn met(self, wirelab: Option<f64>, ratio: Option<f64>) -> Option<bool> {
        match self {
            Target::RatioAtMost(r) => ratio.map(|x| x <= r),
            Target::RatioAtLeast(r) => ratio.map(|x| x >= r),
            Target::AtMost(v) => wirelab.map(|x| x < v),
            Target::AtLeast(v) => wirelab.map(|x| x >= v),
        }
    }
}

/// One line of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub what: String,
    pub unit: &'static str,
    pub wirelab: Option<f64>,
    /// The peer's name and figure; a name without a figure is a peer that
    /// is missing or failed.
    pub peer: Option<(String, Option<f64>)>,
    pub target: Option<Target>,
}

impl Row {
    pub fn new(what: impl Into<String>, unit: &'static str, wirelab: Option<f64>) -> Row {
        Row {
            what: what.into(),
            unit,
            wirelab,
            peer: None,
            target: None,
        }
    }

    pub fn peer(mut self, name: &str, figure: Option<f64>) -> Row {
        self.peer = Some((name.to_string(), figure));
        self
    }

    pub fn target(mut self, target: Target) -> Row {
        self.target = Some(target);
        self
    }

    fn ratio(&self) -> Option<f64> {
        let peer = self.peer.as_ref()?.1?;
        let wirelab = self.wirelab?;
        (peer > 0.0).then(|| wirelab / peer)
    }
}

/// A figure with thousands separators and sensible decimals.
pub fn number(v: f64) -> String {
    let decimals = if v.abs() >= 100.0 {
        0
    } else if v.abs() >= 10.0 {
        1
    } else {
        2
    };
    let text = format!("{v:.decimals$}");
    let (int, frac) = match text.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (text.as_str(), None),
    };
    let (sign, digits) = match int.strip_prefix('-') {
        Some(d) => ("-", d),
        None => ("", int),
    };
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

fn figure(v: Option<f64>, unit: &str) -> String {
    match v {
        Some(v) => format!("{} {unit}", number(v)),
        None => "not measured".to_string(),
    }
}

/// The markdown table.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| what | wirelab | peer | ratio | target | met |\n|---|---|---|---|---|---|\n",
    );
    for row in rows {
        let peer = match &row.peer {
            Some((name, v)) => format!("{name}: {}", figure(*v, row.unit)),
            None => String::new(),
        };
        let ratio = row.ratio().map(|r| format!("{r:.2}×")).unwrap_or_default();
        let (target, met) = match row.target {
            Some(t) => (
                t.describe(row.unit),
                match t.met(row.wirelab, row.ratio()) {
                    Some(true) => "yes",
                    Some(false) => "**no**",
                    None => "?",
                },
            ),
            None => (String::new(), ""),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {peer} | {ratio} | {target} | {met} |",
            row.what,
            figure(row.wirelab, row.unit)
        );
    }
    out
}

/// Where and when a run happened.
pub struct Context {
    pub date: String,
    pub commit: String,
    pub machine: String,
    /// Each comparison's rounds, and the seconds of each contender's turn.
    pub rounds: usize,
    pub slice: u32,
    pub notes: Vec<String>,
}

/// The whole `bench/RESULTS.md`: this run, then the previous run's part
/// of `old` (its own "Previous run" dropped, so the file stays two runs).
pub fn results_file(context: &Context, rows: &[Row], old: Option<&str>) -> String {
    let mut out = String::from("# Benchmarks\n\n");
    out.push_str(&run_section(context, rows));
    if let Some(previous) = old.and_then(previous_run) {
        out.push_str("\n## Previous run\n\n");
        out.push_str(&previous);
    }
    out
}

fn run_section(context: &Context, rows: &[Row]) -> String {
    let mut out = format!(
        "`cargo xtask bench` on {}, commit {}: each figure the median of {} turns of {} s, \
         the contenders taking turns.\n\
         Machine: {}.\n\
         Figures are indicative: the relay, the peers and the client share the machine.\n\n",
        context.date, context.commit, context.rounds, context.slice, context.machine
    );
    out.push_str(&table(rows));
    if !context.notes.is_empty() {
        out.push('\n');
        for note in &context.notes {
            let _ = writeln!(out, "- {note}");
        }
    }
    out
}

/// The run section of an earlier results file, without its own previous
/// run.
fn previous_run(old: &str) -> Option<String> {
    let body = old.strip_prefix("# Benchmarks\n")?.trim_start();
    let body = match body.find("\n## Previous run") {
        Some(end) => &body[..end],
        None => body,
    };
    let body = body.trim_end();
    (!body.is_empty()).then(|| format!("{body}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Vec<Row> {
        vec![
            Row::new("round trip p50", "µs", Some(80.0))
                .peer("websocat", Some(100.0))
                .target(Target::RatioAtMost(0.8)),
            Row::new("throughput", "MB/s", Some(300.0))
                .peer("websocat", Some(463.0))
                .target(Target::RatioAtLeast(1.1)),
            Row::new("SMTP", "msg/s", Some(1234.0)).target(Target::AtLeast(1000.0)),
            Row::new("web", "req/s", Some(97000.0)).peer("nginx", None),
        ]
    }

    #[test]
    fn numbers_are_grouped() {
        assert_eq!(number(278000.4), "278,000");
        assert_eq!(number(1234.0), "1,234");
        assert_eq!(number(999.0), "999");
        assert_eq!(number(88.26), "88.3");
        assert_eq!(number(0.19), "0.19");
        assert_eq!(number(-1500.0), "-1,500");
    }

    #[test]
    fn the_table_says_ratio_target_and_met() {
        let table = table(&rows());
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(
            lines[2],
            "| round trip p50 | 80.0 µs | websocat: 100 µs | 0.80× | ≤ 0.8× | yes |"
        );
        assert_eq!(
            lines[3],
            "| throughput | 300 MB/s | websocat: 463 MB/s | 0.65× | ≥ 1.1× | **no** |"
        );
        assert_eq!(
            lines[4],
            "| SMTP | 1,234 msg/s |  |  | ≥ 1,000 msg/s | yes |"
        );
        assert_eq!(
            lines[5],
            "| web | 97,000 req/s | nginx: not measured |  |  |  |"
        );
    }

    #[test]
    fn the_previous_run_is_kept_once() {
        let context = Context {
            date: "2026-12-05 20:00 UTC".into(),
            commit: "abc".into(),
            machine: "test".into(),
            rounds: 3,
            slice: 1,
            notes: vec!["MISSING: wrk".into()],
        };
        let first = results_file(&context, &rows(), None);
        assert!(!first.contains("Previous run"));
        let second = results_file(&context, &rows()[..1], Some(&first));
        assert_eq!(second.matches("## Previous run").count(), 1);
        assert!(second.contains("| SMTP |"), "the old table is kept");
        let third = results_file(&context, &rows()[..1], Some(&second));
        assert_eq!(third.matches("## Previous run").count(), 1);
        assert!(!third.contains("| SMTP |"), "only one previous run");
        assert!(third.contains("- MISSING: wrk"));
    }
}
