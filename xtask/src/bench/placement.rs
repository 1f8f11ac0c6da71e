//! Where the processes of `bench rtt --pinned` run, and the CPU time a
//! bridge spends. Unpinned, a round trip through any bridge takes about
//! 45 µs or about 70 to 100 µs depending on whether the client, the bridge
//! and the echo server happen to share a core (a wakeup on the other core
//! of a VM costs an inter-processor interrupt), so a run's median says as
//! much about the scheduler's placement as about the bridge. Pinned, each
//! placement gives the same figure turn after turn, and the bridges
//! compare under the same one. Linux only: `taskset` (util-linux) moves
//! the processes and `/proc/<pid>/stat` gives their CPU time.

use anyhow::{Context, Result, bail};
use std::process::{Command, Stdio};

/// The CPUs of the client and the echo server, and of the bridge, as
/// `taskset` lists them.
#[derive(Debug, Clone, Copy)]
pub struct Placement {
    pub name: &'static str,
    pub client_and_echo: &'static str,
    pub bridge: &'static str,
}

/// The two placements that bound the unpinned figure: every wakeup on one
/// core, and every wakeup between the bridge and the others crossing to
/// the other core.
pub const PLACEMENTS: [Placement; 2] = [
    Placement {
        name: "everything on CPU 0",
        client_and_echo: "0",
        bridge: "0",
    },
    Placement {
        name: "the bridge on CPU 1, the client and the echo server on CPU 0",
        client_and_echo: "0",
        bridge: "1",
    },
];

/// Fails unless the placements can be made: `taskset` installed and a
/// second CPU to put the bridge on.
pub fn check_possible() -> Result<()> {
    if super::tools::installed("taskset").is_none() {
        bail!("--pinned needs taskset (apt-get install util-linux)");
    }
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    if cpus < 2 {
        bail!("--pinned needs two CPUs, this process may use {cpus}");
    }
    Ok(())
}

/// Moves every thread of the running process `pid` to `cpus`.
pub fn pin(pid: u32, cpus: &str) -> Result<()> {
    let status = Command::new("taskset")
        .args(["--all-tasks", "--cpu-list", "--pid", cpus, &pid.to_string()])
        .stdout(Stdio::null())
        .status()
        .context("running taskset")?;
    if !status.success() {
        bail!("taskset could not move process {pid} to CPU {cpus}");
    }
    Ok(())
}

/// The user and system CPU time process `pid` has used so far, in clock
/// ticks; `None` if it is gone or the format is not understood.
pub fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_cpu_ticks(&stat)
}

/// utime + stime from a `/proc/<pid>/stat` line: the 14th and 15th fields,
/// counted after the command name, which is in parentheses and may hold
/// spaces.
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// Clock ticks per second, as `getconf CLK_TCK` says (100 if it cannot).
pub fn ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8_lossy(&out.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ticks_are_utime_plus_stime_after_the_name() {
        let stat = "4242 (tokio rt) worker) S 1 4242 4242 0 -1 4194560 900 0 0 0 \
                    75 31 0 0 20 0 3 0 100 1000 200";
        assert_eq!(parse_cpu_ticks(stat), Some(106));
        assert_eq!(parse_cpu_ticks("4242 (cut short) S 1 2"), None);
    }
}
