//! What the students measured: every step's time (or its failure) and every
//! flow's, kept per student in a [`Recorder`] while the class runs, merged
//! into one [`Report`] at the end and printed as a table (count, failures,
//! p50, p99, max per step and per flow).
//!
//! Each student keeps its own recorder, so timing a step takes no lock that
//! 300 tasks would fight over; merging happens once, after the run.

use super::flows::Flow;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

/// The failures kept with their reason (the rest are only counted).
const KEPT_FAILURES: usize = 20;

/// The times of one step or flow, in microseconds, and how often it failed.
#[derive(Debug, Default, Clone)]
pub struct Samples {
    micros: Vec<u64>,
    failures: usize,
}

impl Samples {
    fn record(&mut self, took: Duration, ok: bool) {
        if ok {
            self.micros
                .push(took.as_micros().try_into().unwrap_or(u64::MAX));
        } else {
            self.failures += 1;
        }
    }

    fn merge(&mut self, other: Samples) {
        self.micros.extend(other.micros);
        self.failures += other.failures;
    }

    /// One row of the table: count, failures, p50, p99 and max in ms.
    fn row(&mut self, label: &str) -> String {
        self.micros.sort_unstable();
        let ms = |us: u64| us as f64 / 1000.0;
        format!(
            "{label:<34} {:>7} {:>5} {:>9.2} {:>9.2} {:>9.2}",
            self.micros.len() + self.failures,
            self.failures,
            ms(percentile(&self.micros, 50.0)),
            ms(percentile(&self.micros, 99.0)),
            ms(self.micros.last().copied().unwrap_or(0)),
        )
    }
}

/// The nearest-rank percentile of sorted values (0 when there are none).
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// A step is known by its flow, its place in the flow and its name, so the
/// table lists steps in the order a student does them.
type StepKey = (Flow, usize, String);

/// One failed flow: who, where, why.
#[derive(Debug, Clone)]
pub struct Failure {
    pub student: usize,
    pub flow: Flow,
    /// Seconds since the class started.
    pub at_secs: f64,
    pub reason: String,
}

/// One student's measurements.
#[derive(Debug, Default)]
pub struct Recorder {
    step_no: usize,
    steps: BTreeMap<StepKey, Samples>,
    flows: BTreeMap<Flow, Samples>,
    failures: Vec<Failure>,
    failure_count: usize,
}

impl Recorder {
    /// Starts counting the steps of a new flow.
    pub fn begin(&mut self) {
        self.step_no = 0;
    }

    /// Records the next step of `flow`.
    pub fn step(&mut self, flow: Flow, name: &str, took: Duration, ok: bool) {
        self.step_no += 1;
        self.steps
            .entry((flow, self.step_no, name.to_string()))
            .or_default()
            .record(took, ok);
    }

    /// Records the whole flow, and its failure with the reason.
    pub fn end(&mut self, flow: Flow, took: Duration, failure: Option<Failure>) {
        self.flows
            .entry(flow)
            .or_default()
            .record(took, failure.is_none());
        if let Some(failure) = failure {
            self.failure_count += 1;
            if self.failures.len() < KEPT_FAILURES {
                self.failures.push(failure);
            }
        }
    }
}

/// The whole class's measurements and what was seen of the relay.
#[derive(Debug, Default)]
pub struct Report {
    pub students: usize,
    pub seconds: f64,
    pub elapsed_secs: f64,
    steps: BTreeMap<StepKey, Samples>,
    flows: BTreeMap<Flow, Samples>,
    failures: Vec<Failure>,
    failure_count: usize,
    /// Students whose task did not finish in time or panicked.
    pub lost_students: Vec<String>,
    pub peak_sessions: usize,
    /// The relay's resident memory in KiB: before, at peak, after.
    pub rss_kib: (u64, u64, u64),
}

impl Report {
    pub fn new(students: usize, seconds: f64) -> Report {
        Report {
            students,
            seconds,
            ..Report::default()
        }
    }

    pub fn add(&mut self, recorder: Recorder) {
        for (key, samples) in recorder.steps {
            self.steps.entry(key).or_default().merge(samples);
        }
        for (flow, samples) in recorder.flows {
            self.flows.entry(flow).or_default().merge(samples);
        }
        self.failure_count += recorder.failure_count;
        for failure in recorder.failures {
            if self.failures.len() < KEPT_FAILURES {
                self.failures.push(failure);
            }
        }
    }

    /// The flows no student got to do.
    pub fn flows_not_run(&self) -> Vec<Flow> {
        Flow::ALL
            .into_iter()
            .filter(|f| !self.flows.contains_key(f))
            .collect()
    }

    /// Flows that failed, plus students that never reported.
    pub fn failed(&self) -> usize {
        self.failure_count + self.lost_students.len()
    }

    /// The first failures with their reasons, oldest first.
    pub fn first_failures(&self, n: usize) -> String {
        let mut failures = self.failures.clone();
        failures.sort_by(|a, b| a.at_secs.total_cmp(&b.at_secs));
        let mut out = String::new();
        for f in failures.iter().take(n) {
            let _ = writeln!(
                out,
                "  at {:.2} s, student {}, {}: {}",
                f.at_secs,
                f.student,
                f.flow.name(),
                f.reason
            );
        }
        for lost in &self.lost_students {
            let _ = writeln!(out, "  {lost}");
        }
        out
    }

    /// The printed table.
    pub fn table(&mut self) -> String {
        let mut out = String::new();
        let header = |first: &str| {
            format!(
                "{first:<34} {:>7} {:>5} {:>9} {:>9} {:>9}",
                "count", "fail", "p50 ms", "p99 ms", "max ms"
            )
        };
        let _ = writeln!(
            out,
            "A class at once: {} students for {:.0} s (ran {:.1} s)\n",
            self.students, self.seconds, self.elapsed_secs
        );
        let _ = writeln!(out, "{}", header("step"));
        for ((flow, _, name), samples) in &mut self.steps {
            let _ = writeln!(out, "{}", samples.row(&format!("{}: {name}", flow.name())));
        }
        let _ = writeln!(out, "\n{}", header("flow"));
        for (flow, samples) in &mut self.flows {
            let _ = writeln!(out, "{}", samples.row(flow.name()));
        }
        let steps: usize = self
            .steps
            .values()
            .map(|s| s.micros.len() + s.failures)
            .sum();
        let flows: usize = self
            .flows
            .values()
            .map(|s| s.micros.len() + s.failures)
            .sum();
        let (before, peak, after) = self.rss_kib;
        let mib = |kib: u64| kib as f64 / 1024.0;
        let _ = writeln!(
            out,
            "\ntotal: {flows} flows, {steps} steps ({:.0} steps/s), {} failed",
            steps as f64 / self.elapsed_secs.max(0.001),
            self.failed()
        );
        let _ = writeln!(
            out,
            "/ws sessions open at once (peak, as the students count them): {}",
            self.peak_sessions
        );
        let _ = write!(
            out,
            "relay memory (VmRSS): before {:.1} MiB, peak {:.1} MiB, after {:.1} MiB",
            mib(before),
            mib(peak),
            mib(after)
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let values: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&values, 50.0), 50);
        assert_eq!(percentile(&values, 99.0), 99);
        assert_eq!(percentile(&values, 100.0), 100);
        assert_eq!(percentile(&[7], 99.0), 7);
        assert_eq!(percentile(&[], 50.0), 0);
    }
}
