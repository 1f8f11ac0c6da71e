//! The processes of a benchmark run and what they print: finding a peer on
//! the PATH, a child killed on drop, waiting for a port, and the parsers of
//! the relay's banner, the client's `RESULT` line, dnsperf and wrk.

use anyhow::{Context, Result, bail};
use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// The executable `name` on the PATH, if installed.
pub fn installed(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// A child process stopped (and reaped) when dropped: asked with SIGTERM,
/// killed if it has not exited within [`STOP_TIMEOUT`].
pub struct Running {
    pub child: Child,
    pub name: &'static str,
}

impl Running {
    pub fn spawn(name: &'static str, cmd: &mut Command) -> Result<Running> {
        let child = cmd.spawn().with_context(|| format!("starting {name}"))?;
        Ok(Running { child, name })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until `addr` accepts TCP connections, failing if the process
    /// exits first or `timeout` passes.
    pub fn wait_for(&mut self, addr: SocketAddr, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                bail!("{} exited ({status}) before listening on {addr}", self.name);
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!("{} did not listen on {addr} within {timeout:?}", self.name)
    }
}

/// How long a child may take to exit after SIGTERM.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

impl Drop for Running {
    fn drop(&mut self) {
        // SIGTERM rather than SIGKILL: nginx's master killed outright leaves
        // its worker running, and the relay shuts down within 5 s.
        let asked = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        let deadline = Instant::now() + STOP_TIMEOUT;
        while asked && Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port free on 127.0.0.1 now (for a peer that cannot pick its own).
pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The relay's banner: `/ws`'s address and each target's by name.
#[derive(Debug, Default, PartialEq)]
pub struct Banner {
    pub ws: Option<SocketAddr>,
    pub targets: HashMap<String, SocketAddr>,
}

impl Banner {
    /// Takes one banner line; returns false at the last ("Press Ctrl-C").
    pub fn take(&mut self, line: &str) -> bool {
        if line.starts_with("Press Ctrl-C") {
            return false;
        }
        let trimmed = line.trim();
        if let Some(addr) = trimmed.strip_prefix("page, /ws and /api on ") {
            self.ws = addr.parse().ok();
        } else if let [name, "tcp" | "udp", addr, ..] =
            trimmed.split_whitespace().collect::<Vec<_>>()[..]
            && let Ok(addr) = addr.parse()
        {
            self.targets.insert(name.to_string(), addr);
        }
        true
    }

    pub fn target(&self, name: &str) -> Result<SocketAddr> {
        self.targets
            .get(name)
            .copied()
            .with_context(|| format!("the relay's banner lists no {name}"))
    }
}

/// The `key=value` pairs of the client's `RESULT` line.
pub fn result_line(stdout: &str) -> Option<HashMap<String, String>> {
    let line = stdout.lines().find_map(|l| l.strip_prefix("RESULT "))?;
    Some(
        line.split_whitespace()
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

/// The number after `label` on the first line that has it.
fn number_after(text: &str, label: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.trim().strip_prefix(label))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// dnsperf's queries per second and mean latency in ms.
pub fn dnsperf(output: &str) -> Option<(f64, f64)> {
    let qps = number_after(output, "Queries per second:")?;
    let latency_s = number_after(output, "Average Latency (s):")?;
    Some((qps, latency_s * 1000.0))
}

/// wrk's requests per second, failing if any answer was not 2xx or 3xx
/// or any socket failed (a fast error is not a fast server).
pub fn wrk(output: &str) -> Result<f64> {
    if let Some(line) = output
        .lines()
        .find(|l| l.contains("Non-2xx or 3xx responses") || l.contains("Socket errors"))
    {
        bail!("wrk: {}", line.trim());
    }
    number_after(output, "Requests/sec:").context("no Requests/sec in wrk's output")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_banner_gives_ws_and_targets() {
        let mut banner = Banner::default();
        let lines = [
            "wirelab is running: open http://127.0.0.1:40147/",
            "  page, /ws and /api on 127.0.0.1:40147",
            "  data directory /tmp/x",
            "  upper-tcp             tcp 127.0.0.1:44905      Uppercase server (TCP): every line",
            "  dns-cs-umass          udp 127.0.0.21:28685     Authoritative server dns.cs.umass.edu (udp)",
        ];
        for line in lines {
            assert!(banner.take(line));
        }
        assert!(!banner.take("Press Ctrl-C to stop."));
        assert_eq!(banner.ws, Some("127.0.0.1:40147".parse().unwrap()));
        assert_eq!(
            banner.target("dns-cs-umass").unwrap(),
            "127.0.0.21:28685".parse().unwrap()
        );
        assert_eq!(banner.targets.len(), 2);
        assert!(banner.target("smtp").is_err());
    }

    #[test]
    fn the_clients_result_line_is_read() {
        let out = "warming up\nRESULT count=10 p50_us=88.5 p99_us=120.0\n";
        let result = result_line(out).unwrap();
        assert_eq!(result["p50_us"], "88.5");
        assert_eq!(result.len(), 3);
        assert!(result_line("no result").is_none());
    }

    #[test]
    fn dnsperf_output_is_read() {
        let out = "Statistics:\n\n  Queries sent:         2780000\n  Queries completed:    2780000 (100.00%)\n  \
                   Queries lost:         0 (0.00%)\n\n  Response codes:       NOERROR 2780000 (100.00%)\n  \
                   Run time (s):         10.000049\n  Queries per second:   277998.641\n\n  \
                   Average Latency (s):  0.000190 (min 0.000012, max 0.004150)\n";
        let (qps, ms) = dnsperf(out).unwrap();
        assert_eq!(qps, 277998.641);
        assert!((ms - 0.19).abs() < 1e-9);
        assert!(dnsperf("Statistics:\n").is_none());
    }

    #[test]
    fn wrk_output_is_read_and_errors_fail() {
        let out = "Running 10s test @ http://127.0.0.1:80/\n  1 threads and 32 connections\n\
                   1450000 requests in 10.00s, 1.00GB read\nRequests/sec: 145000.21\nTransfer/sec: 100.00MB\n";
        assert_eq!(wrk(out).unwrap(), 145000.21);
        let failing = format!("{out}  Non-2xx or 3xx responses: 12\n");
        assert!(wrk(&failing).is_err());
        assert!(wrk("nothing").is_err());
    }
}
