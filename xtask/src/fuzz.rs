//! `cargo xtask fuzz`: coverage-guided fuzzing of every parser, dissector
//! and server engine with libFuzzer, on the stable toolchain.
//!
//! The targets are the binaries of `shared/fuzz/fuzz_targets/`, each one
//! line around a body of `wirelab_shared::fuzzing`. They are built in
//! release mode with LLVM's SanitizerCoverage passes (stable `-C` flags:
//! no nightly, no cargo-fuzz, nothing to install but the `libfuzzer-sys`
//! crate, whose build compiles libFuzzer with the system C++ compiler),
//! with debug assertions and overflow checks on, into `<target>/fuzz/`.
//!
//! Each target then runs for the time given, starting from its checked-in
//! seed corpus (`shared/fuzz/corpus/<target>/`, never written unless
//! `--save`) and a working corpus under `<target>/fuzz/corpus/<target>/`
//! where new inputs go. A crash, an input that takes over a second, or
//! memory past the limits (the fuzz crate caps the heap; `-rss_limit_mb`
//! the process) is a failure, saved under `<target>/fuzz/artifacts/`. A
//! timeout is replayed before it counts: the bodies are deterministic, so
//! one that does not happen again was the machine's load.
//!
//! `--seed` only rebuilds the seed corpus from the fixtures (the
//! `seed_corpus_is_up_to_date` test, blessed).

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Coverage instrumentation as cargo-fuzz sets it, on stable flags only;
/// `--cfg fuzzing` as libfuzzer-sys expects. Debug assertions and
/// overflow checks make arithmetic mistakes crash instead of wrapping.
const RUSTFLAGS: &str = "-Cpasses=sancov-module \
    -Cllvm-args=-sanitizer-coverage-level=4 \
    -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
    -Cllvm-args=-sanitizer-coverage-pc-table \
    -Cllvm-args=-sanitizer-coverage-trace-compares \
    --cfg fuzzing -Cdebug-assertions -Coverflow-checks";

/// An input that takes longer than this many seconds is a failure.
const TIMEOUT_SECS: u32 = 1;
/// The whole process, libFuzzer included, must stay under this resident
/// size (the fuzz crate also caps the Rust heap at 64 MiB).
const RSS_LIMIT_MB: u32 = 512;

/// What `cargo xtask fuzz` was asked.
#[derive(Debug, PartialEq)]
struct Options {
    seconds: u64,
    targets: Vec<String>,
    save: bool,
    seed: bool,
}

fn parse_options(args: &[String]) -> Result<Options> {
    let mut options = Options {
        seconds: 600,
        targets: Vec::new(),
        save: false,
        seed: false,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--minutes" => {
                let value = args.next().context("--minutes needs a number")?;
                let minutes: f64 = value
                    .parse()
                    .ok()
                    .filter(|m: &f64| m.is_finite() && *m > 0.0)
                    .with_context(|| format!("--minutes {value:?}: a positive number"))?;
                options.seconds = ((minutes * 60.0).round() as u64).max(1);
            }
            "--target" => options
                .targets
                .push(args.next().context("--target needs a name")?.clone()),
            "--save" => options.save = true,
            "--seed" => options.seed = true,
            other => bail!("cargo xtask fuzz: unknown option {other:?}"),
        }
    }
    Ok(options)
}

/// `cargo xtask fuzz [--minutes N] [--target NAME]... [--save] [--seed]`.
pub fn fuzz(args: &[String]) -> Result<()> {
    let options = parse_options(args)?;
    if options.seed {
        return regenerate_seeds();
    }
    let all = target_names()?;
    let chosen = if options.targets.is_empty() {
        all
    } else {
        for name in &options.targets {
            if !all.contains(name) {
                bail!("no fuzz target {name:?}; there are: {}", all.join(", "));
            }
        }
        options.targets.clone()
    };
    let host = host_triple()?;
    build(&host)?;
    let mut reports = Vec::new();
    for name in &chosen {
        reports.push(run_target(name, &host, &options)?);
    }
    print_summary(&reports);
    let failed: Vec<&str> = reports
        .iter()
        .filter(|r| !r.ok())
        .map(|r| r.name.as_str())
        .collect();
    if !failed.is_empty() {
        bail!("fuzzing found problems in: {}", failed.join(", "));
    }
    Ok(())
}

fn fuzz_crate() -> PathBuf {
    crate::root().join("shared/fuzz")
}

/// Where the fuzz build, working corpora, logs and findings go.
fn work_dir() -> PathBuf {
    crate::target_dir().join("fuzz")
}

/// The targets: the files of `shared/fuzz/fuzz_targets/` (a test in
/// `wirelab-shared` keeps them in step with the bodies).
fn target_names() -> Result<Vec<String>> {
    let dir = fuzz_crate().join("fuzz_targets");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_suffix(".rs")
                .map(str::to_string)
        })
        .collect();
    names.sort();
    Ok(names)
}

/// The host's target triple: the build names it so that RUSTFLAGS reach
/// the fuzz targets but not build scripts.
fn host_triple() -> Result<String> {
    let out = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .arg("-vV")
        .output()
        .context("running rustc -vV")?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(str::to_string)
        .context("rustc -vV names no host")
}

fn build(host: &str) -> Result<()> {
    let mut cmd = crate::cargo();
    cmd.current_dir(fuzz_crate())
        .args(["build", "--release", "--locked", "--bins", "--target", host])
        .env("CARGO_TARGET_DIR", work_dir().join("build"))
        .env("RUSTFLAGS", RUSTFLAGS)
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS");
    crate::run_checked(
        &mut cmd,
        "building the fuzz targets with coverage instrumentation (libFuzzer needs a C++ compiler)",
    )
}

fn regenerate_seeds() -> Result<()> {
    crate::run_checked(
        crate::cargo()
            .args([
                "test",
                "--package",
                "wirelab-shared",
                "--lib",
                "fuzzing::tests::seed_corpus_is_up_to_date",
            ])
            .env("WIRELAB_BLESS", "1"),
        "rebuilding the seed corpus in shared/fuzz/corpus/ from the fixtures",
    )
}

/// What one target's run came to.
#[derive(Debug, Default, PartialEq)]
struct Report {
    name: String,
    runs: u64,
    execs_per_sec: u64,
    corpus: u64,
    new_inputs: u64,
    coverage: u64,
    peak_rss_mb: u64,
    /// Crash, timeout and out-of-memory inputs saved.
    findings: Vec<PathBuf>,
    /// Timeouts that did not happen again when replayed.
    unreproduced_timeouts: usize,
    exit_ok: bool,
}

impl Report {
    fn ok(&self) -> bool {
        self.exit_ok && self.findings.is_empty()
    }

    /// Adds a later run of the same target: runs add up, the rest is the
    /// latest figure (the corpus and coverage only grow).
    fn add(&mut self, later: Report) {
        let seconds =
            self.runs / self.execs_per_sec.max(1) + later.runs / later.execs_per_sec.max(1);
        self.runs += later.runs;
        self.execs_per_sec = self.runs / seconds.max(1);
        self.corpus = later.corpus;
        self.new_inputs += later.new_inputs;
        self.coverage = later.coverage;
        self.peak_rss_mb = self.peak_rss_mb.max(later.peak_rss_mb);
        self.findings.extend(later.findings);
    }
}

/// A target's files and folders.
struct Paths {
    binary: PathBuf,
    seeds: PathBuf,
    corpus: PathBuf,
    artifacts: PathBuf,
    log: PathBuf,
}

fn run_target(name: &str, host: &str, options: &Options) -> Result<Report> {
    let paths = Paths {
        binary: work_dir()
            .join("build")
            .join(host)
            .join("release")
            .join(name),
        seeds: fuzz_crate().join("corpus").join(name),
        corpus: work_dir().join("corpus").join(name),
        artifacts: work_dir().join("artifacts").join(name),
        log: work_dir().join("logs").join(format!("{name}.log")),
    };
    for dir in [
        &paths.seeds,
        &paths.corpus,
        &paths.artifacts,
        &work_dir().join("logs"),
    ] {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    eprintln!(
        "xtask: fuzzing {name} for {} s (log: {})",
        options.seconds,
        paths.log.display()
    );
    let deadline = Instant::now() + Duration::from_secs(options.seconds);
    let mut report = Report {
        name: name.to_string(),
        ..Report::default()
    };
    // libFuzzer stops at its first finding. A timeout that does not
    // happen again is the machine, not the input: note it, fuzz on.
    loop {
        let seconds = deadline
            .saturating_duration_since(Instant::now())
            .as_secs()
            .max(1);
        let (mut segment, text) = run_segment(name, &paths, seconds)?;
        let found = std::mem::take(&mut segment.findings);
        let (confirmed, unconfirmed) = confirm_timeouts(&paths.binary, found)?;
        let exit_ok = segment.exit_ok;
        report.add(segment);
        report.unreproduced_timeouts += unconfirmed;
        report.findings.extend(confirmed);
        let only_load = !exit_ok && report.findings.is_empty() && unconfirmed > 0;
        if !only_load {
            report.exit_ok = exit_ok;
            if !report.ok() {
                eprintln!("{}", tail(&text, 40));
            }
            break;
        }
        if Instant::now() >= deadline {
            report.exit_ok = true;
            break;
        }
    }
    for f in &report.findings {
        eprintln!(
            "xtask: {name} saved {} (reproduce: {} {})",
            f.display(),
            paths.binary.display(),
            f.display()
        );
    }
    if options.save {
        merge_into_seeds(&paths.binary, &paths.seeds, &paths.corpus)?;
    }
    Ok(report)
}

/// One libFuzzer run of `seconds`, and the log it wrote.
fn run_segment(name: &str, paths: &Paths, seconds: u64) -> Result<(Report, String)> {
    // Findings of earlier runs stay where they are, but are not this run's.
    let earlier = findings(&paths.artifacts)?;
    let output = std::fs::File::create(&paths.log)?;
    // New inputs go to the first folder; the seeds are only read.
    let status = Command::new(&paths.binary)
        .arg(&paths.corpus)
        .arg(&paths.seeds)
        .arg(format!("-max_total_time={seconds}"))
        .arg(format!("-timeout={TIMEOUT_SECS}"))
        .arg(format!("-rss_limit_mb={RSS_LIMIT_MB}"))
        .arg(format!("-artifact_prefix={}/", paths.artifacts.display()))
        .arg("-print_final_stats=1")
        .stdout(output.try_clone()?)
        .stderr(output)
        .status()
        .with_context(|| format!("starting {}", paths.binary.display()))?;
    let text = std::fs::read_to_string(&paths.log).unwrap_or_default();
    let mut report = parse_log(name, &text);
    report.exit_ok = status.success();
    report.findings = findings(&paths.artifacts)?
        .into_iter()
        .filter(|f| !earlier.contains(f))
        .collect();
    Ok((report, text))
}

/// Replays each timeout input up to three times: one that runs within the
/// limit even once was slowed down by the machine (another build taking
/// the CPU), as the bodies are deterministic. Those are renamed
/// `unreproduced-timeout-*` and counted; the others are findings.
fn confirm_timeouts(binary: &Path, found: Vec<PathBuf>) -> Result<(Vec<PathBuf>, usize)> {
    let mut confirmed = Vec::new();
    let mut unconfirmed = 0;
    for file in found {
        let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !name.starts_with("timeout-") || replays_in_time(binary, &file)? {
            confirmed.push(file);
            continue;
        }
        let renamed = file.with_file_name(format!("unreproduced-{name}"));
        std::fs::rename(&file, &renamed)?;
        unconfirmed += 1;
    }
    Ok((confirmed, unconfirmed))
}

/// Whether `input` takes over the time limit on each of three runs.
fn replays_in_time(binary: &Path, input: &Path) -> Result<bool> {
    for _ in 0..3 {
        let status = Command::new(binary)
            .arg(format!("-timeout={TIMEOUT_SECS}"))
            .arg(input)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .with_context(|| format!("replaying {}", input.display()))?;
        if status.success() {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Adds to the checked-in corpus only the new inputs that reach coverage
/// it does not (libFuzzer's merge), so it stays small.
fn merge_into_seeds(binary: &Path, seeds: &Path, corpus: &Path) -> Result<()> {
    let status = Command::new(binary)
        .arg("-merge=1")
        .arg(seeds)
        .arg(corpus)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .context("merging the new inputs into the seed corpus")?;
    if !status.success() {
        bail!("merging into {} failed ({status})", seeds.display());
    }
    Ok(())
}

/// The crash, timeout and out-of-memory inputs libFuzzer saved.
fn findings(artifacts: &Path) -> Result<Vec<PathBuf>> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(artifacts)?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            ["crash-", "timeout-", "oom-", "leak-"]
                .iter()
                .any(|prefix| name.starts_with(prefix))
        })
        .collect();
    found.sort();
    Ok(found)
}

/// Reads libFuzzer's final statistics and its last status line
/// (`#123 DONE cov: 456 ft: 789 corp: 12/3456b ...`).
fn parse_log(name: &str, text: &str) -> Report {
    let mut report = Report {
        name: name.to_string(),
        ..Report::default()
    };
    for line in text.lines() {
        let number =
            |prefix: &str| -> Option<u64> { line.strip_prefix(prefix)?.trim().parse().ok() };
        if let Some(n) = number("stat::number_of_executed_units:") {
            report.runs = n;
        } else if let Some(n) = number("stat::average_exec_per_sec:") {
            report.execs_per_sec = n;
        } else if let Some(n) = number("stat::new_units_added:") {
            report.new_inputs = n;
        } else if let Some(n) = number("stat::peak_rss_mb:") {
            report.peak_rss_mb = n;
        } else if line.starts_with('#') {
            if let Some(n) = field(line, "cov:") {
                report.coverage = n;
            }
            if let Some(n) = field(line, "corp:") {
                report.corpus = n;
            }
        }
    }
    report
}

/// The number after `key` in a libFuzzer status line (`corp: 12/3456b`
/// gives 12).
fn field(line: &str, key: &str) -> Option<u64> {
    let rest = line.split(key).nth(1)?.trim_start();
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn print_summary(reports: &[Report]) {
    println!();
    println!(
        "{:<16} {:>12} {:>9} {:>7} {:>6} {:>6} {:>8}  result",
        "target", "runs", "exec/s", "corpus", "new", "cov", "rss MB"
    );
    for r in reports {
        let result = if r.ok() && r.unreproduced_timeouts > 0 {
            format!(
                "ok ({} timeouts under load, not reproduced)",
                r.unreproduced_timeouts
            )
        } else if r.ok() {
            "ok".to_string()
        } else if r.findings.is_empty() {
            "FAILED (see its log)".to_string()
        } else {
            format!("FAILED: {} saved", r.findings.len())
        };
        println!(
            "{:<16} {:>12} {:>9} {:>7} {:>6} {:>6} {:>8}  {result}",
            r.name, r.runs, r.execs_per_sec, r.corpus, r.new_inputs, r.coverage, r.peak_rss_mb
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn options_default_to_ten_minutes_of_every_target() {
        let o = parse_options(&[]).unwrap();
        assert_eq!(o.seconds, 600);
        assert!(o.targets.is_empty() && !o.save && !o.seed);
        let o = parse_options(&args(&["--minutes", "0.5", "--target", "dns", "--save"])).unwrap();
        assert_eq!(o.seconds, 30);
        assert_eq!(o.targets, vec!["dns".to_string()]);
        assert!(o.save);
        assert!(parse_options(&args(&["--minutes", "-1"])).is_err());
        assert!(parse_options(&args(&["--minutes"])).is_err());
        assert!(parse_options(&args(&["--bogus"])).is_err());
    }

    #[test]
    fn libfuzzer_statistics_are_read() {
        let log = "#2\tINITED cov: 10 ft: 11 corp: 3/120b exec/s: 0 rss: 30Mb\n\
                   #4096\tpulse  cov: 55 ft: 70 corp: 9/1Kb lim: 40 exec/s: 2048 rss: 31Mb\n\
                   Done 9000 runs in 3 second(s)\n\
                   stat::number_of_executed_units: 9000\n\
                   stat::average_exec_per_sec:     3000\n\
                   stat::new_units_added:          6\n\
                   stat::slowest_unit_time_sec:    0\n\
                   stat::peak_rss_mb:              31\n";
        let r = parse_log("dns", log);
        assert_eq!(
            r,
            Report {
                name: "dns".into(),
                runs: 9000,
                execs_per_sec: 3000,
                corpus: 9,
                new_inputs: 6,
                coverage: 55,
                peak_rss_mb: 31,
                findings: Vec::new(),
                unreproduced_timeouts: 0,
                exit_ok: false,
            }
        );
    }

    #[test]
    fn runs_of_one_target_add_up() {
        let mut total = Report {
            runs: 1000,
            execs_per_sec: 100,
            corpus: 5,
            coverage: 50,
            ..Report::default()
        };
        total.add(Report {
            runs: 3000,
            execs_per_sec: 100,
            corpus: 9,
            coverage: 70,
            peak_rss_mb: 40,
            ..Report::default()
        });
        assert_eq!((total.runs, total.execs_per_sec), (4000, 100));
        assert_eq!(
            (total.corpus, total.coverage, total.peak_rss_mb),
            (9, 70, 40)
        );
    }

    #[test]
    fn every_fuzz_target_is_found() {
        let names = target_names().unwrap();
        for expected in ["http_server", "dns", "smtp_server", "dns_zone"] {
            assert!(names.iter().any(|n| n == expected), "{expected}");
        }
    }
}
