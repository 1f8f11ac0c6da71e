//! A class at once: simulated students, each a task doing the course's
//! flows (web, mail, the DNS walk and the resolver, FTP, the uppercase
//! server) through the relay's `/ws` as the page does, for a bounded time,
//! every step timed. The relay runs as its own `wirelab` process so its
//! memory can be read before, at peak and after.
//!
//! `class_at_once` is the measurement (ignored; `cargo xtask load` runs it
//! in release mode: 300 students for 60 s unless `WIRELAB_LOAD_STUDENTS`,
//! `WIRELAB_LOAD_SECONDS` and `WIRELAB_LOAD_SEED` say otherwise). It prints
//! a table of count, failures, p50, p99 and max per step and per flow, and
//! fails if any flow failed. `a_small_class_smoke` runs the same code with
//! 5 students for 3 s, so the load generator keeps compiling and working.
//! Loopback only; every step is bounded, and so is the whole run.

#[path = "class_load/flows.rs"]
mod flows;
#[path = "class_load/relay_process.rs"]
mod relay_process;
#[path = "class_load/session.rs"]
mod session;
#[path = "class_load/stats.rs"]
mod stats;

use anyhow::{Context, Result};
use flows::Student;
use relay_process::RelayProcess;
use session::Gauge;
use stats::Report;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How often the relay's memory is read while the class runs.
const SAMPLE_EVERY: Duration = Duration::from_millis(200);
/// Time for the flows under way at the deadline to finish (each step is
/// bounded by [`flows::STEP_TIMEOUT`]; a flow has at most a few dozen).
const FINISH_GRACE: Duration = Duration::from_secs(120);
/// The failures printed with their reasons.
const SHOWN_FAILURES: usize = 10;

/// What to run.
#[derive(Debug, Clone, Copy)]
struct Plan {
    students: usize,
    seconds: f64,
    seed: u64,
}

impl Plan {
    /// The plan `cargo xtask load` passes in the environment.
    fn from_env() -> Result<Plan> {
        fn var<T: std::str::FromStr>(name: &str, default: T) -> Result<T>
        where
            T::Err: std::error::Error + Send + Sync + 'static,
        {
            match std::env::var(name) {
                Ok(text) => text
                    .trim()
                    .parse()
                    .with_context(|| format!("{name}={text}")),
                Err(_) => Ok(default),
            }
        }
        Ok(Plan {
            students: var("WIRELAB_LOAD_STUDENTS", 300)?,
            seconds: var("WIRELAB_LOAD_SECONDS", 60.0)?,
            seed: var("WIRELAB_LOAD_SEED", 1)?,
        })
    }
}

/// Each session costs descriptors in this process (its WebSocket) and in
/// the relay, which inherits the limit: the WebSocket, the socket to the
/// target and the server's end of it.
fn raise_fd_limit(students: usize) -> Result<()> {
    let needed = (students as u64) * 16 + 1024;
    let got = rlimit::increase_nofile_limit(needed).context("raising the open-file limit")?;
    anyhow::ensure!(
        got >= needed,
        "the open-file limit is {got}, the class needs {needed}"
    );
    Ok(())
}

/// Reads the relay's memory every [`SAMPLE_EVERY`] and keeps the highest.
fn sample_peak_rss(relay: &RelayProcess, peak: Arc<AtomicU64>) -> tokio::task::JoinHandle<()> {
    let pid = relay.pid();
    tokio::spawn(async move {
        loop {
            if let Some(kib) = relay_process::rss_kib(pid) {
                peak.fetch_max(kib, Ordering::Relaxed);
            }
            tokio::time::sleep(SAMPLE_EVERY).await;
        }
    })
}

/// Runs the class and gathers its report.
async fn run_class(plan: Plan) -> Result<(Report, RelayProcess)> {
    raise_fd_limit(plan.students)?;
    let relay = RelayProcess::start(plan.students)?;
    let before = relay.rss_kib();
    let peak = Arc::new(AtomicU64::new(before));
    let sampler = sample_peak_rss(&relay, peak.clone());
    let gauge = Arc::new(Gauge::default());
    let started = Instant::now();
    let until = started + Duration::from_secs_f64(plan.seconds);
    let students: Vec<_> = (0..plan.students)
        .map(|id| {
            let student = Student::new(id, relay.addr, gauge.clone(), plan.seed);
            tokio::spawn(student.attend(until, started))
        })
        .collect();
    let mut report = Report::new(plan.students, plan.seconds);
    let deadline = tokio::time::Instant::from_std(until + FINISH_GRACE);
    for (id, task) in students.into_iter().enumerate() {
        let abort = task.abort_handle();
        match tokio::time::timeout_at(deadline, task).await {
            Ok(Ok(recorder)) => report.add(recorder),
            Ok(Err(e)) => report.lost_students.push(format!("student {id}: {e}")),
            Err(_) => {
                abort.abort();
                report.lost_students.push(format!(
                    "student {id}: still busy {FINISH_GRACE:?} after the end"
                ));
            }
        }
    }
    report.elapsed_secs = started.elapsed().as_secs_f64();
    report.peak_sessions = gauge.peak();
    // Give the relay a moment to close what the students closed.
    tokio::time::sleep(Duration::from_secs(1)).await;
    sampler.abort();
    report.rss_kib = (before, peak.load(Ordering::Relaxed), relay.rss_kib());
    Ok((report, relay))
}

/// Runs the class, prints the table, and fails with the first failures.
async fn class(plan: Plan) {
    let (mut report, relay) = match run_class(plan).await {
        Ok(done) => done,
        Err(e) => panic!("the class could not run: {e:#}"),
    };
    println!("{}", report.table());
    let not_run = report.flows_not_run();
    assert!(not_run.is_empty(), "no student did {not_run:?}");
    if report.failed() > 0 {
        panic!(
            "{} flows failed; the first:\n{}\n{}",
            report.failed(),
            report.first_failures(SHOWN_FAILURES),
            relay.log_tail()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_class_smoke() {
    class(Plan {
        students: 5,
        seconds: 3.0,
        seed: 1,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a check: cargo xtask load"]
async fn class_at_once() {
    let plan = Plan::from_env().expect("the plan in WIRELAB_LOAD_*");
    class(plan).await;
}
