//! `cargo xtask bench [--quick] [--page] [smtp | web | proxy | imap | swarm | rtt | dns]`: the relay measured side by side with its
//! peers, in release mode, from one run. It builds `wirelab` and the native
//! client `wirelab-bench` in release, starts the client's TCP echo server,
//! the relay (free ports, its own data directory, no simulated DNS
//! distance, limits raised for 10,000 sessions, a policy rule for the echo
//! server, a mailbox of 1,000 messages for IMAP) and each peer that is
//! installed (websocat, websockify, unbound, nginx, squid, Dovecot;
//! dnsperf and wrk drive the DNS and web servers), printing
//! `MISSING: <tool> (<how to install>)` for each one that is not. The
//! contenders of a comparison take turns: [`ROUNDS`] rounds of a 4 s slice
//! each (2 s with `--quick`), the median of each one's rounds its figure.
//! It prints the table of figures, ratios and the targets, and
//! writes it to `bench/RESULTS.md` with the date, the commit and the
//! machine, keeping the previous run's table. `bench smtp` measures the
//! SMTP ingest alone, [`ROUNDS`] times on a fresh relay each, and prints
//! each figure and their median without touching `bench/RESULTS.md`; `bench
//! web` likewise the reference web server and nginx under wrk, and `bench
//! proxy` the caching proxy's hits and squid's (one worker, the same
//! object from the same origin: the relay's web server); `bench imap` the
//! IMAP server and Dovecot ([`imap`]), and `bench swarm` the swarms' rate
//! limits and a 30-leecher swarm's time ([`swarm`]), `bench rtt` the
//! round trips alone, more turns of them (`bench rtt --pinned`: under two
//! fixed placements of the processes, see [`placement`]), and `bench dns`
//! the DNS rows alone (the authoritative server, the resolver's cache and
//! unbound under dnsperf). It is not a
//! test: `cargo xtask test` never runs it.
//!
//! It also builds the page in release (`cargo xtask dist`) and times its
//! dissection in headless Chromium ([`dissect`]); `--page` does only that
//! and prints the rows without writing `bench/RESULTS.md`.

mod dissect;
mod imap;
mod peers;
mod placement;
mod report;
mod swarm;
mod tools;

use anyhow::{Context, Result, bail};
use report::{Row, Target};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use tools::{Banner, Running};

/// Idle sessions for the memory figure.
const IDLE_SESSIONS: usize = 10_000;
/// The relay's descriptors per idle session to the echo server: the
/// WebSocket and the connection to the server.
const FDS_PER_IDLE_SESSION: u64 = 2;
/// Descriptors the relay holds besides its sessions (listeners, files).
const SPARE_FDS: u64 = 512;
/// Sessions at once for the round-trips-per-second figure.
const CONCURRENT_SESSIONS: usize = 64;
/// The memory bound for the idle sessions, in MiB.
const IDLE_MEMORY_MIB: f64 = 500.0;
/// The target for the page's first load on the wire, in kB.
const PAGE_FIRST_LOAD_KB: f64 = 500.0;
/// The course's ~557-byte page, served by the relay and by nginx.
const PAGE: &str = "somedir/page.html";
/// Rounds of each comparison: the contenders take turns, each measured
/// for one slice per round, and the median of its rounds is its figure, so
/// a burst of load from elsewhere on the machine hits them alike.
const ROUNDS: usize = 3;
/// Rounds of `bench rtt`: more than [`ROUNDS`], as a round trip of some
/// 90 µs moves with every wakeup the machine's other work delays.
const RTT_ROUNDS: usize = 7;
/// A slice, in seconds (`--quick`: [`QUICK_SLICE`]).
const SLICE: u32 = 4;
const QUICK_SLICE: u32 = 2;

/// Each peer: its executable and how to install it.
const PEERS: [(&str, &str); 8] = [
    ("websocat", "cargo install websocat"),
    ("websockify", "apt-get install websockify"),
    ("nginx", "apt-get install nginx-light"),
    ("unbound", "apt-get install unbound"),
    ("dnsperf", "apt-get install dnsperf"),
    ("wrk", "apt-get install wrk"),
    ("squid", "apt-get install squid"),
    ("dovecot", "apt-get install dovecot-imapd"),
];

/// The object both caches serve from the relay's web server: fresh for a
/// day, so every request after the first is a hit.
const CACHED_OBJECT: &str = "cache/fresh.txt?max-age=86400";

/// One run's settings and the notes gathered on the way.
struct Bench {
    /// Seconds per turn.
    slice: u32,
    dir: PathBuf,
    client: PathBuf,
    /// Idle sessions the open-file limit allows, at most [`IDLE_SESSIONS`].
    idle_sessions: usize,
    started: std::time::Instant,
    notes: Vec<String>,
    /// Clock ticks per second, the unit of a process's CPU time.
    clock_ticks: f64,
    /// The CPUs the client runs on (`taskset --cpu-list`), if pinned.
    client_cpus: Option<&'static str>,
}

/// `cargo xtask bench`.
pub fn bench(args: &[String]) -> Result<()> {
    let (mut quick, mut page_only, mut smtp_alone, mut web_alone) = (false, false, false, false);
    let (mut proxy_alone, mut imap_alone, mut swarm_alone, mut rtt_alone) =
        (false, false, false, false);
    let mut pinned = false;
    let mut dns_alone = false;
    for arg in args {
        match arg.as_str() {
            "--quick" => quick = true,
            "--page" => page_only = true,
            "smtp" => smtp_alone = true,
            "web" => web_alone = true,
            "proxy" => proxy_alone = true,
            "imap" => imap_alone = true,
            "swarm" => swarm_alone = true,
            "rtt" => rtt_alone = true,
            "--pinned" => pinned = true,
            "dns" => dns_alone = true,
            other => bail!(
                "bench takes --quick, --page (the page alone), smtp (the SMTP ingest alone), web (the web server and nginx alone), proxy (the caching proxy and squid alone), imap (the IMAP server and Dovecot alone), swarm (the swarms' rates and time alone), rtt (the round trips alone; rtt --pinned under fixed placements) and dns (the DNS servers and unbound alone), not {other:?}"
            ),
        }
    }
    if pinned && !rtt_alone {
        bail!("--pinned goes with rtt: only the round trips are measured pinned");
    }
    if pinned {
        placement::check_possible()?;
    }
    super::run_checked(
        super::cargo().args([
            "build",
            "--release",
            "--package",
            "wirelab-relay",
            "--package",
            "wirelab-bench",
        ]),
        "building the relay and the bench client in release",
    )?;
    let release = super::target_dir().join("release");
    let dir = std::env::temp_dir().join(format!("wirelab-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut bench = Bench {
        slice: if quick { QUICK_SLICE } else { SLICE },
        dir: dir.clone(),
        client: release.join("wirelab-bench"),
        idle_sessions: IDLE_SESSIONS,
        started: std::time::Instant::now(),
        notes: Vec::new(),
        clock_ticks: placement::ticks_per_second(),
        client_cpus: None,
    };
    if page_only {
        let rows = bench.dissect_rows();
        let _ = std::fs::remove_dir_all(&dir);
        print!("\n{}", report::table(&rows));
        for note in &bench.notes {
            println!("{note}");
        }
        return Ok(());
    }
    if smtp_alone {
        let done = bench.smtp_alone(&release.join("wirelab"));
        let _ = std::fs::remove_dir_all(&dir);
        return done;
    }
    if imap_alone || swarm_alone {
        let done = bench.server_alone(&release.join("wirelab"), swarm_alone);
        let _ = std::fs::remove_dir_all(&dir);
        return done;
    }
    if rtt_alone {
        let done = bench.rtt_alone(&release.join("wirelab"), pinned);
        let _ = std::fs::remove_dir_all(&dir);
        return done;
    }
    if dns_alone {
        let done = bench.dns_alone(&release.join("wirelab"));
        let _ = std::fs::remove_dir_all(&dir);
        return done;
    }
    if web_alone || proxy_alone {
        let done = bench.web_alone(&release.join("wirelab"), proxy_alone);
        let _ = std::fs::remove_dir_all(&dir);
        return done;
    }
    bench.raise_fd_limit();
    for (tool, install) in PEERS {
        if tools::installed(tool).is_none() {
            let line = format!("MISSING: {tool} ({install}): its figures are not measured");
            eprintln!("\n*** {line} ***\n");
            bench.notes.push(line);
        }
    }
    let rows = bench.run_all(&release.join("wirelab"));
    let _ = std::fs::remove_dir_all(&dir);
    let rows = rows?;
    bench.write_results(&rows)
}

impl Bench {
    /// The relay's idle sessions need more descriptors than a usual soft
    /// limit: raise it for this process and the ones it starts, past the
    /// hard limit where that is allowed (CAP_SYS_RESOURCE), and open as
    /// many idle sessions as fit.
    fn raise_fd_limit(&mut self) {
        let needed = FDS_PER_IDLE_SESSION * IDLE_SESSIONS as u64 + SPARE_FDS;
        let hard = rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(0, |(_, hard)| hard);
        if hard < needed {
            let _ = rlimit::setrlimit(rlimit::Resource::NOFILE, needed, needed);
        }
        let got = match rlimit::increase_nofile_limit(needed) {
            Ok(got) => got,
            Err(e) => {
                self.note(format!("cannot raise the open-file limit: {e}"));
                rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(1024, |(soft, _)| soft)
            }
        };
        self.idle_sessions = idle_sessions_within(got);
        if self.idle_sessions < IDLE_SESSIONS {
            self.note(format!(
                "the open-file limit is {got}, not the {needed} that {IDLE_SESSIONS} idle sessions need \
                 (raising it takes CAP_SYS_RESOURCE): {} sessions are opened and the memory at \
                 {IDLE_SESSIONS} extrapolated from them",
                self.idle_sessions
            ));
        }
    }

    /// Says what is measured now, and since when the run goes.
    fn progress(&self, what: &str) {
        eprintln!(
            "xtask: bench [{:5.1} s]: {what}",
            self.started.elapsed().as_secs_f64()
        );
    }

    fn note(&mut self, line: String) {
        eprintln!("xtask: {line}");
        self.notes.push(line);
    }

    fn run_all(&mut self, relay_binary: &Path) -> Result<Vec<Row>> {
        // Every peer runs from here to the end, so the contenders can take
        // turns within each measurement.
        let Contenders {
            mut echo,
            echo_addr,
            relay,
            banner,
            ws,
            websocat,
            websockify,
            bridges,
        } = self.start_bridges(relay_binary)?;
        let dir = self.dir.clone();
        let unbound = self.peer("unbound", || peers::unbound(&dir));
        let page = super::root().join("shared/assets/http").join(PAGE);
        let nginx = self.peer("nginx", || peers::nginx(&dir, &page, PAGE));
        let squid = self.peer("squid", || peers::squid(&dir));
        let dovecot = self.start_dovecot();

        let mut rows = self.relay_rows(&bridges, echo_addr);
        rows.extend(self.dns_rows(&banner, unbound.as_ref().map(|u| u.1))?);
        rows.push(self.web_row(&banner, nginx.as_ref().map(|n| n.1))?);
        rows.push(self.proxy_row(&banner, squid.as_ref().map(|s| s.1))?);
        rows.extend(self.imap_rows(banner.target("imap")?, dovecot.as_ref().map(|d| d.1)));
        let websocat_idle = match (&websocat, bridges.iter().find(|b| b.name == "websocat")) {
            (Some((peer, _)), Some(bridge)) => self.idle_memory(bridge, peer.pid()),
            _ => (None, None),
        };
        drop((websocat, websockify, unbound, nginx, squid, dovecot));
        rows.push(self.smtp_row(&banner)?);
        let relay_idle = self.idle_memory(&bridges[0], relay.pid());
        rows.extend(self.idle_rows(relay_idle, websocat_idle));
        // After the idle sessions: the swarms' gigabytes, which the
        // allocator keeps, would count as the relay's idle memory.
        rows.extend(self.swarm_rows(ws, relay.pid()));
        rows.extend(self.dissect_rows());
        rows.extend(self.page_rows());
        drop(relay);
        // Closing its standard input ends the echo server.
        drop(echo.child.stdin.take());
        Ok(rows)
    }

    /// `bench smtp`: the SMTP ingest [`ROUNDS`] times, each on a fresh
    /// relay with an empty data directory (a mailbox that grows from one
    /// round to the next would weigh on the later ones), and the median.
    /// `bench/RESULTS.md` keeps the full table: one row would replace it.
    fn smtp_alone(&mut self, relay_binary: &Path) -> Result<()> {
        // No echo server: nothing is bridged, and the relay's policy rule
        // names the discard port, where nothing listens.
        let echo_addr = SocketAddr::from(([127, 0, 0, 1], 9));
        let mut rates = Vec::new();
        for round in 1..=ROUNDS {
            self.progress(&format!("SMTP ingest alone, round {round}"));
            let data = self.dir.join("data");
            if data.exists() {
                std::fs::remove_dir_all(&data)?;
            }
            let (relay, banner) = self.start_relay(relay_binary, echo_addr)?;
            rates.extend(self.smtp_row(&banner)?.wirelab);
            drop(relay);
        }
        let figures: Vec<String> = rates.iter().map(|r| format!("{r:.0}")).collect();
        let mut row = self.smtp_row_of(median(rates));
        row.what = format!("{} (rounds: {})", row.what, figures.join(", "));
        let mut out = std::io::stdout().lock();
        writeln!(out)?;
        write!(out, "{}", report::table(&[row]))?;
        for note in &self.notes {
            writeln!(out, "{note}")?;
        }
        Ok(())
    }

    /// `bench web`: the reference web server and nginx taking turns under
    /// wrk, as in the full run, printed without touching `bench/RESULTS.md`;
    /// with `proxy`, the caching proxy and squid instead.
    fn web_alone(&mut self, relay_binary: &Path, proxy: bool) -> Result<()> {
        // Nothing is bridged: the policy rule names the discard port.
        let echo_addr = SocketAddr::from(([127, 0, 0, 1], 9));
        let (relay, banner) = self.start_relay(relay_binary, echo_addr)?;
        let dir = self.dir.clone();
        let row = if proxy {
            let squid = self.peer("squid", || peers::squid(&dir));
            let row = self.proxy_row(&banner, squid.as_ref().map(|s| s.1));
            drop(squid);
            row?
        } else {
            let page = super::root().join("shared/assets/http").join(PAGE);
            let nginx = self.peer("nginx", || peers::nginx(&dir, &page, PAGE));
            let row = self.web_row(&banner, nginx.as_ref().map(|n| n.1));
            drop(nginx);
            row?
        };
        drop(relay);
        let mut out = std::io::stdout().lock();
        writeln!(out)?;
        write!(out, "{}", report::table(&[row]))?;
        for note in &self.notes {
            writeln!(out, "{note}")?;
        }
        Ok(())
    }

    /// `bench imap`: the relay's IMAP server and Dovecot taking turns, as
    /// in the full run, printed without touching `bench/RESULTS.md`; with
    /// `swarm`, the swarm rows instead.
    fn server_alone(&mut self, relay_binary: &Path, swarm: bool) -> Result<()> {
        // Nothing is bridged: the policy rule names the discard port.
        let echo_addr = SocketAddr::from(([127, 0, 0, 1], 9));
        let (relay, banner) = self.start_relay(relay_binary, echo_addr)?;
        if swarm {
            let api = banner.ws.context("the banner does not say where /api is")?;
            let rows = self.swarm_rows(api, relay.pid());
            drop(relay);
            return self.print_rows(&rows);
        }
        let dovecot = self.start_dovecot();
        if dovecot.is_none() && tools::installed("dovecot").is_none() {
            let line =
                "MISSING: dovecot (apt-get install dovecot-imapd): its figures are not measured";
            eprintln!("\n*** {line} ***\n");
            self.notes.push(line.into());
        }
        let rows = self.imap_rows(banner.target("imap")?, dovecot.as_ref().map(|d| d.1));
        drop((relay, dovecot));
        self.print_rows(&rows)
    }

    /// `bench dns`: the DNS rows of the full run (the authoritative
    /// server, the resolver's cache and unbound taking turns under
    /// dnsperf), printed without touching `bench/RESULTS.md`.
    fn dns_alone(&mut self, relay_binary: &Path) -> Result<()> {
        for (tool, install) in PEERS {
            if matches!(tool, "unbound" | "dnsperf") && tools::installed(tool).is_none() {
                let line = format!("MISSING: {tool} ({install}): its figures are not measured");
                eprintln!("\n*** {line} ***\n");
                self.notes.push(line);
            }
        }
        // Nothing is bridged: the policy rule names the discard port.
        let echo_addr = SocketAddr::from(([127, 0, 0, 1], 9));
        let (relay, banner) = self.start_relay(relay_binary, echo_addr)?;
        let dir = self.dir.clone();
        let unbound = self.peer("unbound", || peers::unbound(&dir));
        let rows = self.dns_rows(&banner, unbound.as_ref().map(|u| u.1));
        drop((unbound, relay));
        self.print_rows(&rows?)
    }

    /// Prints `rows` and the notes, leaving `bench/RESULTS.md` alone.
    fn print_rows(&self, rows: &[Row]) -> Result<()> {
        let mut out = std::io::stdout().lock();
        writeln!(out)?;
        write!(out, "{}", report::table(rows))?;
        for note in &self.notes {
            writeln!(out, "{note}")?;
        }
        Ok(())
    }

    /// The echo server, the relay bridging to it and the peer bridges that
    /// are installed: what the round-trip, throughput and session rows
    /// measure.
    fn start_bridges(&mut self, relay_binary: &Path) -> Result<Contenders> {
        let (echo, echo_addr) = self.start_echo()?;
        let (relay, banner) = self.start_relay(relay_binary, echo_addr)?;
        let ws = banner.ws.context("the banner does not say where /ws is")?;
        let relay_url = format!(
            "ws://{ws}/ws?transport=tcp&host=127.0.0.1&port={}",
            echo_addr.port()
        );
        let websocat = self.peer("websocat", || peers::websocat(echo_addr));
        let websockify = self.peer("websockify", || peers::websockify(echo_addr));
        let bridges = bridges(
            relay_url,
            relay.pid(),
            [("websocat", &websocat), ("websockify", &websockify)],
        );
        Ok(Contenders {
            echo,
            echo_addr,
            relay,
            banner,
            ws,
            websocat,
            websockify,
            bridges,
        })
    }

    /// Starts a peer if it is installed; a failure to start is noted.
    fn peer(
        &mut self,
        name: &str,
        start: impl FnOnce() -> Result<(Running, SocketAddr)>,
    ) -> Option<(Running, SocketAddr)> {
        tools::installed(name)?;
        match start() {
            Ok(peer) => Some(peer),
            Err(e) => {
                self.note(format!("FAILED: {name} did not start: {e:#}"));
                None
            }
        }
    }

    /// The client's echo server, and its address.
    fn start_echo(&self) -> Result<(Running, SocketAddr)> {
        let mut echo = Running::spawn(
            "the echo server",
            Command::new(&self.client)
                .arg("echo")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped()),
        )?;
        let stdout = echo
            .child
            .stdout
            .take()
            .context("the echo server's stdout")?;
        let mut first = String::new();
        BufReader::new(stdout).read_line(&mut first)?;
        let addr = first
            .trim()
            .strip_prefix("listening ")
            .and_then(|a| a.parse().ok())
            .with_context(|| format!("the echo server said {first:?}"))?;
        Ok((echo, addr))
    }

    /// Starts the relay and reads its banner to the end.
    fn start_relay(&self, binary: &Path, echo: SocketAddr) -> Result<(Running, Banner)> {
        let mailbox = self.dir.join("data/mail").join(imap::USER);
        if !mailbox.exists() {
            imap::write_maildir(&mailbox)?;
        }
        let config = self.dir.join("wirelab.toml");
        std::fs::write(&config, relay_config(&self.dir, echo.port()))?;
        let log = std::fs::File::create(self.dir.join("relay.log"))?;
        let mut relay = Running::spawn(
            "wirelab",
            Command::new(binary)
                .arg("--config")
                .arg(&config)
                .env("RUST_LOG", "warn")
                .env("NO_COLOR", "1")
                .stdout(Stdio::piped())
                .stderr(log),
        )?;
        let stdout = relay.child.stdout.take().context("the relay's stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let mut banner = Banner::default();
        loop {
            let line = lines
                .next()
                .context("the relay stopped before its banner ended")??;
            if !banner.take(&line) {
                break;
            }
        }
        // The relay prints nothing more; its pipe may close.
        drop(lines);
        Ok((relay, banner))
    }

    /// Runs the client with `args`; a failure is noted and gives `None`.
    fn client(&mut self, what: &str, args: &[&str]) -> Option<HashMap<String, String>> {
        self.progress(what);
        let mut command = match self.client_cpus {
            Some(cpus) => {
                let mut taskset = Command::new("taskset");
                taskset.args(["--cpu-list", cpus]).arg(&self.client);
                taskset
            }
            None => Command::new(&self.client),
        };
        let output = command.args(args).stderr(Stdio::piped()).output();
        let output = match output {
            Ok(o) => o,
            Err(e) => {
                self.note(format!("FAILED: {what}: cannot start the client: {e}"));
                return None;
            }
        };
        let stdout = String::from_utf8_lossy(&output.stdout);
        match tools::result_line(&stdout) {
            Some(result) if output.status.success() => {
                // Each turn's figures, so a reader can judge the spread.
                if let Some(line) = stdout.lines().find_map(|l| l.strip_prefix("RESULT ")) {
                    eprintln!("xtask: bench:         {line}");
                }
                Some(result)
            }
            _ => {
                let stderr = String::from_utf8_lossy(&output.stderr);
                self.note(format!("FAILED: {what}: {}", stderr.trim()));
                None
            }
        }
    }

    /// Numbers from one client run, by key.
    fn client_figures<const N: usize>(
        &mut self,
        what: &str,
        args: &[&str],
        keys: [&str; N],
    ) -> [Option<f64>; N] {
        let result = self.client(what, args);
        keys.map(|key| result.as_ref().and_then(|r| r.get(key)?.parse().ok()))
    }

    fn slice_arg(&self) -> String {
        self.slice.to_string()
    }

    /// Round trips, throughput and sessions through each bridge, taking
    /// turns, and the direct TCP round trip.
    fn relay_rows(&mut self, bridges: &[Bridge], echo: SocketAddr) -> Vec<Row> {
        let (medians, direct) = self.measure_bridges(bridges, echo);
        let of = |name: &str| {
            bridges
                .iter()
                .position(|b| b.name == name)
                .map(|i| medians[i])
                .unwrap_or_default()
        };
        bridge_rows(of("wirelab"), of("websocat"), of("websockify"), direct)
    }

    /// Each bridge's medians, in the order of `bridges`, and the direct
    /// TCP round trip's p50.
    fn measure_bridges(
        &mut self,
        bridges: &[Bridge],
        echo: SocketAddr,
    ) -> (Vec<Medians>, Option<f64>) {
        let mut figures: Vec<Figures> = bridges.iter().map(|_| Figures::default()).collect();
        let mut direct = Vec::new();
        let echo = echo.to_string();
        for round in 1..=ROUNDS {
            direct.extend(self.round_trip_turns(bridges, &mut figures, &echo, round));
        }
        for round in 1..=ROUNDS {
            for (bridge, figures) in bridges.iter().zip(&mut figures) {
                let [rate] =
                    self.bridge_run(bridge, "throughput", "throughput", &[], round, ["mb_per_s"]);
                figures.throughput.extend(rate);
            }
        }
        let count = CONCURRENT_SESSIONS.to_string();
        for round in 1..=ROUNDS {
            for (bridge, figures) in bridges.iter().zip(&mut figures) {
                let what = format!("{CONCURRENT_SESSIONS} sessions");
                let [rate] = self.bridge_run(
                    bridge,
                    &what,
                    "sessions",
                    &["--count", &count],
                    round,
                    ["per_second"],
                );
                figures.sessions.extend(rate);
            }
        }
        (
            figures.iter().map(Figures::medians).collect(),
            median(direct),
        )
    }

    /// One round of the round-trip measurement: a turn through each
    /// bridge, their p50 and p99 added to `figures`, then the direct TCP
    /// round trip to `echo`, whose p50 is returned.
    fn round_trip_turns(
        &mut self,
        bridges: &[Bridge],
        figures: &mut [Figures],
        echo: &str,
        round: usize,
    ) -> Option<f64> {
        for (bridge, figures) in bridges.iter().zip(figures.iter_mut()) {
            let ticks_before = placement::cpu_ticks(bridge.pid);
            let [p50, p99, count] = self.bridge_run(
                bridge,
                "round trips",
                "rtt",
                &[],
                round,
                ["p50_us", "p99_us", "count"],
            );
            let ticks = ticks_before
                .zip(placement::cpu_ticks(bridge.pid))
                .map(|(before, after)| after.saturating_sub(before) as f64);
            figures.p50.extend(p50);
            figures.p99.extend(p99);
            figures.cpu_us.extend(
                ticks
                    .zip(count.filter(|&n| n > 0.0))
                    .map(|(ticks, n)| ticks / self.clock_ticks * 1e6 / n),
            );
        }
        let args = ["tcp-rtt", "--addr", echo, "--seconds", &self.slice_arg()];
        let [p50] = self.client_figures(
            &format!("direct TCP: round trips, round {round}"),
            &args,
            ["p50_us"],
        );
        p50
    }

    /// `bench rtt`: only the round trips of the full run (the relay,
    /// websocat and websockify taking turns, and direct TCP), over
    /// [`RTT_ROUNDS`] rounds since the figure is the noisiest, printed
    /// without touching `bench/RESULTS.md`; with `pinned`, once under each
    /// of [`placement::PLACEMENTS`].
    fn rtt_alone(&mut self, relay_binary: &Path, pinned: bool) -> Result<()> {
        let Contenders {
            mut echo,
            echo_addr,
            relay,
            websocat,
            websockify,
            bridges,
            ..
        } = self.start_bridges(relay_binary)?;
        let mut tables = Vec::new();
        if pinned {
            for placement in placement::PLACEMENTS {
                placement::pin(echo.pid(), placement.client_and_echo)?;
                for bridge in &bridges {
                    placement::pin(bridge.pid, placement.bridge)?;
                }
                self.client_cpus = Some(placement.client_and_echo);
                let rows = self.rtt_rows(&bridges, echo_addr);
                tables.push((Some(placement.name), rows));
            }
            self.client_cpus = None;
        } else {
            tables.push((None, self.rtt_rows(&bridges, echo_addr)));
        }
        drop((websocat, websockify, relay));
        // Closing its standard input ends the echo server.
        drop(echo.child.stdin.take());
        let mut out = std::io::stdout().lock();
        for (placement, rows) in tables {
            writeln!(out)?;
            if let Some(placement) = placement {
                writeln!(out, "Pinned: {placement}")?;
            }
            write!(out, "{}", report::table(&rows))?;
        }
        for note in &self.notes {
            writeln!(out, "{note}")?;
        }
        Ok(())
    }

    /// [`RTT_ROUNDS`] rounds of round trips through `bridges` and direct
    /// to `echo`: the round-trip rows of the full run, and each bridge's
    /// CPU time per round trip beside websocat's.
    fn rtt_rows(&mut self, bridges: &[Bridge], echo: SocketAddr) -> Vec<Row> {
        let mut figures: Vec<Figures> = bridges.iter().map(|_| Figures::default()).collect();
        let echo_text = echo.to_string();
        let mut direct = Vec::new();
        for round in 1..=RTT_ROUNDS {
            direct.extend(self.round_trip_turns(bridges, &mut figures, &echo_text, round));
        }
        let medians: Vec<Medians> = figures.iter().map(Figures::medians).collect();
        let of = |name: &str| {
            bridges
                .iter()
                .position(|b| b.name == name)
                .map(|i| medians[i])
                .unwrap_or_default()
        };
        let (wirelab, websocat) = (of("wirelab"), of("websocat"));
        let mut rows = bridge_rows(wirelab, websocat, of("websockify"), median(direct));
        // The rows after the first four are throughput and sessions.
        rows.truncate(4);
        rows.push(
            Row::new(
                "the bridge process's CPU time per round trip (utime + stime)",
                "µs",
                wirelab.cpu_us,
            )
            .peer("websocat", websocat.cpu_us),
        );
        rows
    }

    /// One turn of a client measurement through `bridge`.
    fn bridge_run<const N: usize>(
        &mut self,
        bridge: &Bridge,
        what: &str,
        command: &str,
        extra: &[&str],
        round: usize,
        keys: [&str; N],
    ) -> [Option<f64>; N] {
        let slice = self.slice_arg();
        let mut args = vec![command, "--url", &bridge.url, "--seconds", &slice];
        if bridge.relay {
            args.push("--relay");
        }
        args.extend_from_slice(extra);
        let what = format!("{}: {what}, round {round}", bridge.name);
        self.client_figures(&what, &args, keys)
    }

    /// dnsperf against the authoritative server, the resolver's cache and
    /// unbound, taking turns.
    fn dns_rows(&mut self, banner: &Banner, unbound: Option<SocketAddr>) -> Result<Vec<Row>> {
        let queries = self.dir.join("queries.txt");
        std::fs::write(&queries, "gaia.cs.umass.edu A\n")?;
        let mut servers = vec![
            ("dns-cs-umass", banner.target("dns-cs-umass")?),
            ("the resolver dns", banner.target("dns")?),
        ];
        servers.extend(unbound.map(|addr| ("unbound", addr)));
        let mut qps = vec![Vec::new(); servers.len()];
        let mut ms = vec![Vec::new(); servers.len()];
        for round in 1..=ROUNDS {
            for (i, (name, addr)) in servers.iter().enumerate() {
                if let Some((q, l)) =
                    self.dnsperf(&format!("{name}, round {round}"), *addr, &queries)
                {
                    qps[i].push(q);
                    ms[i].push(l);
                }
            }
        }
        let at = |figures: &[Vec<f64>], i: usize| figures.get(i).and_then(|f| median(f.clone()));
        let unbound = |figures: &[Vec<f64>]| unbound.and_then(|_| at(figures, 2));
        Ok(vec![
            Row::new(
                "DNS authoritative answer (gaia.cs.umass.edu A at dns-cs-umass, dnsperf -c 4)",
                "qps",
                at(&qps, 0),
            )
            .peer("unbound local-data", unbound(&qps))
            .target(Target::RatioAtLeast(0.5)),
            Row::new("same, mean latency", "ms", at(&ms, 0)).peer("unbound", unbound(&ms)),
            Row::new(
                "the resolver `dns` answering from its cache",
                "qps",
                at(&qps, 1),
            )
            .peer("unbound local-data", unbound(&qps))
            .target(Target::RatioAtLeast(0.5)),
            Row::new("same, mean latency", "ms", at(&ms, 1)).peer("unbound", unbound(&ms)),
        ])
    }

    /// dnsperf's queries per second and mean latency against `server`.
    fn dnsperf(&mut self, what: &str, server: SocketAddr, queries: &Path) -> Option<(f64, f64)> {
        tools::installed("dnsperf")?;
        self.progress(&format!("dnsperf against {what} ({server})"));
        let output = Command::new("dnsperf")
            .args([
                "-s",
                &server.ip().to_string(),
                "-p",
                &server.port().to_string(),
            ])
            .arg("-d")
            .arg(queries)
            .args(["-c", "4", "-l", &self.slice_arg()])
            .output();
        let text = match output {
            Ok(o) => String::from_utf8_lossy(&o.stdout).into_owned(),
            Err(e) => {
                self.note(format!("FAILED: dnsperf against {what}: {e}"));
                return None;
            }
        };
        let figures = tools::dnsperf(&text);
        if let Some((qps, ms)) = figures {
            eprintln!("xtask: bench:         {qps:.0} qps, {ms:.2} ms mean");
        } else {
            self.note(format!("FAILED: dnsperf against {what}: {}", text.trim()));
        }
        figures
    }

    /// wrk against the relay's web server and nginx, taking turns.
    fn web_row(&mut self, banner: &Banner, nginx: Option<SocketAddr>) -> Result<Row> {
        let relay = banner.target("http")?;
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for round in 1..=ROUNDS {
            ours.extend(self.wrk(&format!("the relay's web server, round {round}"), relay));
            if let Some(nginx) = nginx {
                theirs.extend(self.wrk(&format!("nginx, round {round}"), nginx));
            }
        }
        Ok(Row::new(
            format!("reference web server, the 557-byte /{PAGE}, wrk -t1 -c32"),
            "req/s",
            median(ours),
        )
        .peer("nginx, 1 worker", median(theirs))
        .target(Target::RatioAtLeast(0.9)))
    }

    /// Hits through the relay's caching proxy and through squid, taking
    /// turns, both fetching the same object from the relay's web server.
    fn proxy_row(&mut self, banner: &Banner, squid: Option<SocketAddr>) -> Result<Row> {
        let (proxy, origin) = (banner.target("proxy")?, banner.target("http")?);
        // wrk sends its path as it is: a full URL makes it absolute-form.
        let script = self.dir.join("absolute-form.lua");
        std::fs::write(
            &script,
            format!("wrk.path = \"http://{origin}/{CACHED_OBJECT}\"\n"),
        )?;
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for round in 1..=ROUNDS {
            let what = format!("the relay's caching proxy, round {round}");
            ours.extend(self.wrk_with(&what, proxy, Some(&script)));
            if let Some(squid) = squid {
                let what = format!("squid, round {round}");
                theirs.extend(self.wrk_with(&what, squid, Some(&script)));
            }
        }
        Ok(Row::new(
            format!("caching proxy, hits on /{CACHED_OBJECT}, wrk -t1 -c32"),
            "req/s",
            median(ours),
        )
        .peer("squid, 1 worker", median(theirs))
        .target(Target::RatioAtLeast(0.8)))
    }

    fn wrk(&mut self, what: &str, server: SocketAddr) -> Option<f64> {
        self.wrk_with(what, server, None)
    }

    /// wrk for one slice against `server`, with a Lua `script` if given.
    fn wrk_with(&mut self, what: &str, server: SocketAddr, script: Option<&Path>) -> Option<f64> {
        tools::installed("wrk")?;
        self.progress(&format!("wrk against {what} ({server})"));
        let mut wrk = Command::new("wrk");
        wrk.args(["-t1", "-c32", &format!("-d{}s", self.slice)]);
        if let Some(script) = script {
            wrk.arg("-s").arg(script);
        }
        let output = wrk.arg(format!("http://{server}/{PAGE}")).output();
        let result = output
            .context("starting wrk")
            .and_then(|o| tools::wrk(&String::from_utf8_lossy(&o.stdout)));
        match result {
            Ok(rate) => {
                eprintln!("xtask: bench:         {rate:.0} requests/s");
                Some(rate)
            }
            Err(e) => {
                self.note(format!("FAILED: wrk against {what}: {e:#}"));
                None
            }
        }
    }

    fn smtp_row(&mut self, banner: &Banner) -> Result<Row> {
        let smtp = banner.target("smtp")?.to_string();
        let seconds = (self.slice * ROUNDS as u32).to_string();
        let [rate] = self.client_figures(
            "SMTP ingest, 4 clients",
            &[
                "smtp",
                "--addr",
                &smtp,
                "--clients",
                "4",
                "--seconds",
                &seconds,
            ],
            ["per_second"],
        );
        Ok(self.smtp_row_of(rate))
    }

    fn smtp_row_of(&self, rate: Option<f64>) -> Row {
        Row::new(
            "SMTP ingest, fsync before 250, 4 native clients",
            "msg/s",
            rate,
        )
        .target(Target::AtLeast(1000.0))
    }

    /// Resident memory (MiB) with [`IDLE_SESSIONS`] idle sessions through
    /// `bridge`, process `pid` (extrapolated from fewer when the open-file
    /// limit is lower), and KiB per session.
    fn idle_memory(&mut self, bridge: &Bridge, pid: u32) -> (Option<f64>, Option<f64>) {
        let count = self.idle_sessions.to_string();
        let pid = pid.to_string();
        let mut args = vec![
            "idle",
            "--url",
            &bridge.url,
            "--count",
            &count,
            "--pid",
            &pid,
        ];
        if bridge.relay {
            args.push("--relay");
        }
        let what = format!("{}: {count} idle sessions", bridge.name);
        let [before, per_session] =
            self.client_figures(&what, &args, ["before_kib", "per_session_kib"]);
        let at_full = before
            .zip(per_session)
            .map(|(before, each)| (before + each * IDLE_SESSIONS as f64) / 1024.0);
        (at_full, per_session)
    }

    /// The relay's memory with 10,000 idle sessions beside websocat's.
    fn idle_rows(
        &self,
        relay: (Option<f64>, Option<f64>),
        websocat: (Option<f64>, Option<f64>),
    ) -> Vec<Row> {
        let how = if self.idle_sessions < IDLE_SESSIONS {
            format!(
                ", extrapolated from {}",
                report::number(self.idle_sessions as f64)
            )
        } else {
            String::new()
        };
        vec![
            Row::new(
                format!(
                    "resident memory with {} idle /ws sessions to the echo server{how}",
                    report::number(IDLE_SESSIONS as f64)
                ),
                "MiB",
                relay.0,
            )
            .peer("websocat", websocat.0)
            .target(Target::AtMost(IDLE_MEMORY_MIB)),
            Row::new("memory per idle session", "KiB", relay.1).peer("websocat", websocat.1),
        ]
    }

    /// The page built in release, its dissection timed in headless
    /// Chromium; the rows stay unmeasured, loudly, without chromium.
    fn dissect_rows(&mut self) -> Vec<Row> {
        let missing: Vec<&str> = dissect::BROWSER
            .iter()
            .filter(|(names, _)| names.iter().all(|n| tools::installed(n).is_none()))
            .map(|(_, install)| *install)
            .collect();
        if !missing.is_empty() {
            let line = format!(
                "skipped: chromium missing ({}): the page's dissection is not measured",
                missing.join(", ")
            );
            eprintln!("\n*** {line} ***\n");
            self.notes.push(line);
            return dissect::rows(None);
        }
        self.progress("building the page in release (cargo xtask dist)");
        let dist = match super::dist(false) {
            Ok(dist) => dist,
            Err(e) => {
                self.note(format!("FAILED: building the page: {e:#}"));
                return dissect::rows(None);
            }
        };
        let figures = self.client(
            "the page's dissection in headless Chromium (/bench)",
            &["dissect", "--dist", &dist.to_string_lossy()],
        );
        dissect::rows(figures.as_ref())
    }

    /// The page's first load on the wire with brotli, as `cargo xtask
    /// dist` prints it (the start page's module), and the costliest first
    /// visit (a lab page opened straight from a link), if a release build
    /// of the page is in `dist/`.
    fn page_rows(&mut self) -> Vec<Row> {
        let dist = super::root().join("dist");
        let loads = super::dist::has_compressed_copies(&dist)
            .then(|| {
                let first = super::dist::first_load(&dist).ok()?;
                let heaviest = super::dist::modules()
                    .ok()?
                    .into_iter()
                    .filter_map(|m| Some((super::dist::page_load(&dist, &m).ok()?, m)))
                    .max_by_key(|(load, _)| load.brotli)?;
                Some((first, heaviest))
            })
            .flatten();
        let Some((first, (heaviest, module))) = loads else {
            self.note(
                "the page's size is not measured: run `cargo xtask dist` (release) first".into(),
            );
            return vec![
                Row::new("the page's first load on the wire", "kB", None)
                    .target(Target::AtMost(PAGE_FIRST_LOAD_KB)),
            ];
        };
        let kb = |bytes: u64| bytes as f64 / 1000.0;
        vec![
            Row::new(
                format!(
                    "the page's first load on the wire with brotli: the start page (dist/; {} kB with gzip only)",
                    report::number(kb(first.gzip))
                ),
                "kB",
                Some(kb(first.brotli)),
            )
            .target(Target::AtMost(PAGE_FIRST_LOAD_KB)),
            Row::new(
                format!(
                    "same, the costliest page opened first: its module `{module}` ({} kB with gzip only)",
                    report::number(kb(heaviest.gzip))
                ),
                "kB",
                Some(kb(heaviest.brotli)),
            )
            .target(Target::AtMost(PAGE_FIRST_LOAD_KB)),
        ]
    }

    fn write_results(&self, rows: &[Row]) -> Result<()> {
        let context = report::Context {
            date: command_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
            commit: commit(),
            machine: machine(),
            rounds: ROUNDS,
            slice: self.slice,
            notes: self.notes.clone(),
        };
        let file = super::root().join("bench/RESULTS.md");
        let old = std::fs::read_to_string(&file).ok();
        let text = report::results_file(&context, rows, old.as_deref());
        std::fs::write(&file, &text).with_context(|| format!("writing {}", file.display()))?;
        let mut out = std::io::stdout().lock();
        writeln!(out)?;
        write!(out, "{}", report::table(rows))?;
        for note in &self.notes {
            writeln!(out, "{note}")?;
        }
        writeln!(out, "\nwritten to {}", file.display())?;
        Ok(())
    }
}

/// What a WebSocket bridge is measured with.
struct Bridge {
    name: &'static str,
    url: String,
    relay: bool,
    /// The bridge's process, to pin it and read its CPU time.
    pid: u32,
}

/// The relay at `relay_url` (process `relay_pid`) and each peer that
/// started, in that order.
fn bridges(
    relay_url: String,
    relay_pid: u32,
    peers: [(&'static str, &Option<(Running, SocketAddr)>); 2],
) -> Vec<Bridge> {
    let relay = Bridge {
        name: "wirelab",
        url: relay_url,
        relay: true,
        pid: relay_pid,
    };
    let peers = peers.into_iter().filter_map(|(name, peer)| {
        let (running, addr) = peer.as_ref()?;
        Some(Bridge {
            name,
            url: format!("ws://{addr}/"),
            relay: false,
            pid: running.pid(),
        })
    });
    std::iter::once(relay).chain(peers).collect()
}

/// What [`Bench::start_bridges`] started; each process stops when dropped.
struct Contenders {
    echo: Running,
    echo_addr: SocketAddr,
    relay: Running,
    banner: Banner,
    /// Where the relay's `/ws` (and API) listens.
    ws: SocketAddr,
    websocat: Option<(Running, SocketAddr)>,
    websockify: Option<(Running, SocketAddr)>,
    bridges: Vec<Bridge>,
}

/// A bridge's figures, one per round that succeeded.
#[derive(Debug, Default, Clone)]
struct Figures {
    p50: Vec<f64>,
    p99: Vec<f64>,
    throughput: Vec<f64>,
    sessions: Vec<f64>,
    /// The bridge process's CPU time per round trip, µs.
    cpu_us: Vec<f64>,
}

impl Figures {
    fn medians(&self) -> Medians {
        Medians {
            p50: median(self.p50.clone()),
            p99: median(self.p99.clone()),
            throughput: median(self.throughput.clone()),
            sessions: median(self.sessions.clone()),
            cpu_us: median(self.cpu_us.clone()),
        }
    }
}

/// A bridge's median figures; `None` where no round succeeded.
#[derive(Debug, Default, Clone, Copy)]
struct Medians {
    p50: Option<f64>,
    p99: Option<f64>,
    throughput: Option<f64>,
    sessions: Option<f64>,
    cpu_us: Option<f64>,
}

/// The middle value (the mean of the two middle ones for an even count).
fn median(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]) / 2.0),
    }
}

/// The bridges' rows: the relay beside websocat and websockify, and what
/// it adds to the direct round trip.
fn bridge_rows(
    wirelab: Medians,
    websocat: Medians,
    websockify: Medians,
    direct: Option<f64>,
) -> Vec<Row> {
    let added = wirelab.p50.zip(direct).map(|(relay, tcp)| relay - tcp);
    vec![
        Row::new(
            "relay round trip, 100 bytes to a TCP echo server, p50",
            "µs",
            wirelab.p50,
        )
        .peer("websocat", websocat.p50)
        .target(Target::RatioAtMost(0.8)),
        Row::new("same, p50", "µs", wirelab.p50).peer("websockify", websockify.p50),
        Row::new("same, p99", "µs", wirelab.p99).peer("websocat", websocat.p99),
        Row::new(
            "what the relay adds to a loopback round trip (p50 through it minus direct TCP p50)",
            "µs",
            added,
        )
        .peer("direct TCP p50", direct)
        .target(Target::AtMost(300.0)),
        Row::new(
            "relay echo throughput, 16 KiB messages (bytes echoed)",
            "MB/s",
            wirelab.throughput,
        )
        .peer("websocat", websocat.throughput)
        .target(Target::RatioAtLeast(1.1)),
        Row::new("same", "MB/s", wirelab.throughput).peer("websockify", websockify.throughput),
        Row::new(
            format!("{CONCURRENT_SESSIONS} sessions at once, round trips per second"),
            "rt/s",
            wirelab.sessions,
        )
        .peer("websocat", websocat.sessions)
        .target(Target::RatioAtLeast(1.0)),
        Row::new("same", "rt/s", wirelab.sessions).peer("websockify", websockify.sessions),
    ]
}

/// The idle sessions that fit in `limit` descriptors.
fn idle_sessions_within(limit: u64) -> usize {
    let fit = limit.saturating_sub(SPARE_FDS) / FDS_PER_IDLE_SESSION;
    (fit as usize).min(IDLE_SESSIONS)
}

/// The relay's configuration: free ports, a data directory of its own, no
/// simulated DNS distance, limits above what the run opens, and the echo
/// server allowed as a custom target.
fn relay_config(dir: &Path, echo_port: u16) -> String {
    let sessions = IDLE_SESSIONS + 1000;
    format!(
        "port = 0\ndata_dir = {data:?}\ndist = {dist:?}\n\n\
         [limits]\n\
         max_connections = {sessions}\n\
         max_connections_per_client = {sessions}\n\
         server_max_connections = {sessions}\n\
         max_bytes_per_connection = {big}\n\
         max_bytes_per_minute = {big}\n\n\
         [[policy.rules]]\n\
         description = \"the benchmark's echo server\"\n\
         cidrs = [\"127.0.0.1/32\"]\n\
         ports = [{echo_port}]\n\
         transports = [\"tcp\"]\n\n\
         [servers.http]\nport = 0\n\n\
         [servers.book_web]\nport = 0\n\n\
         [servers.upper]\ntcp_port = 0\nudp_port = 0\n\n\
         [servers.ftp]\nport = 0\npassive_port_first = 0\n\n\
         [servers.dns]\nport = 0\nsimulate_distance = false\n\n\
         [servers.cdn]\nport = 0\n\n\
         [servers.smtp]\nport = 0\n\n\
         [servers.pop3]\nport = 0\n\n\
         [servers.imap]\nport = 0\n\n\
         [servers.tracker]\nport = 0\n\n\
         [servers.proxy]\nport = 0\n\n\
         [[servers.mail.mailboxes]]\naddress = \"bob@hamburger.edu\"\npassword = \"hungry\"\nseed = true\n\n\
         [[servers.mail.mailboxes]]\naddress = \"alice@crepes.fr\"\npassword = \"crepes\"\n\n\
         [[servers.mail.mailboxes]]\naddress = {user:?}\npassword = {password:?}\n",
        data = dir.join("data"),
        dist = dir.join("no-dist"),
        big = 1u64 << 50,
        user = imap::USER,
        password = imap::PASSWORD,
    )
}

fn is_root() -> bool {
    command_line("id", &["-u"]) == "0"
}

/// The first line a command prints, or "unknown".
fn command_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .map(str::to_string)
        })
        .unwrap_or_else(|| "unknown".into())
}

/// `git rev-parse HEAD`, marked when the tree has changes.
fn commit() -> String {
    let head = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(super::root())
        .output()
        .map_or("unknown".into(), |o| {
            String::from_utf8_lossy(&o.stdout).trim().to_string()
        });
    let dirty = Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=no"])
        .current_dir(super::root())
        .output()
        .is_ok_and(|o| !o.stdout.is_empty());
    if dirty {
        format!("`{head}` (with uncommitted changes)")
    } else {
        format!("`{head}`")
    }
}

/// `uname -a`, the cores and the memory.
fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))?
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map_or("unknown".into(), |kib| {
            format!("{:.1} GiB", kib / 1024.0 / 1024.0)
        });
    format!(
        "`{}`, {cores} cores, {memory} memory",
        command_line("uname", &["-a"])
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_the_rounds_is_the_figure() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![3.0, 1.0, 200.0]), Some(3.0));
        assert_eq!(median(vec![4.0, 1.0]), Some(2.5));
    }

    #[test]
    fn the_relay_adds_its_p50_minus_the_direct_one() {
        let wirelab = Medians {
            p50: Some(45.0),
            ..Medians::default()
        };
        let rows = bridge_rows(wirelab, Medians::default(), Medians::default(), Some(18.0));
        let added = rows
            .iter()
            .find(|r| r.what.starts_with("what the relay adds"))
            .unwrap();
        assert_eq!(added.wirelab, Some(27.0));
        assert_eq!(added.peer, Some(("direct TCP p50".to_string(), Some(18.0))));
        // A peer not measured stays in its row, without a figure.
        assert_eq!(rows[0].peer, Some(("websocat".to_string(), None)));
    }

    #[test]
    fn idle_sessions_fit_the_open_file_limit() {
        assert_eq!(idle_sessions_within(1 << 20), IDLE_SESSIONS);
        assert_eq!(idle_sessions_within(20_000), 9_744);
        assert_eq!(idle_sessions_within(100), 0);
    }

    #[test]
    fn the_relay_config_allows_the_echo_server_only() {
        let config = relay_config(Path::new("/tmp/b"), 4242);
        assert!(config.contains("ports = [4242]"));
        assert!(config.contains("cidrs = [\"127.0.0.1/32\"]"));
        assert!(config.contains("simulate_distance = false"));
        assert!(config.contains(&format!("max_connections = {}", IDLE_SESSIONS + 1000)));
    }
}
