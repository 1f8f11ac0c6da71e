//! The swarm rows (`/api/swarms` on the relay, no peer to compare with):
//! how closely the peers keep the rates asked, and how long 30 leechers
//! take to get a 64 MiB file without limits.
//!
//! The rates are measured on two swarms of [`RATE_LEECHERS`] leechers, as
//! no one swarm binds every limit at once (what the leechers download
//! together is what the peers upload): one where the uploads bind (u_s
//! and u_i set, d_i unlimited; the seed's pieces are new to every
//! leecher, so each has more to give than u_i), one where the downloads
//! bind (d_i set, uploads unlimited). Each runs [`WARMUP`] s, then every
//! limited direction's paced bytes are counted over a window of
//! [`ROUNDS`] slices by the peer's own clock, with the time a block
//! waited for tokens and the allowance lost with nothing to send or read.
//! A limit that lost more than 1 % of its allowance so was short of
//! demand in the window, which says nothing of the limit: it is counted
//! apart, and the figure is the worst deviation of the limits that held.

use super::report::{Row, Target};
use super::{Bench, ROUNDS, median};
use std::net::SocketAddr;

/// Leechers of the rate swarms.
const RATE_LEECHERS: usize = 4;
/// Their file: big enough that none finishes within the window.
const RATE_FILE: usize = 64 * 1024 * 1024;
const U_S: f64 = 1024.0 * 1024.0;
const U_I: f64 = 256.0 * 1024.0;
/// The downloads-bound swarm's d_i, uploads unlimited.
const D_I: f64 = 512.0 * 1024.0;
/// Seconds before the rates are counted: the peers connect, get their
/// first whole pieces and tell the others. Within the first five or so a
/// leecher may still have nothing the others want: after 3 s, one of the
/// four was short of demand in 5 of 6 uploads-bound windows (2.9 to
/// 14 % of its allowance unused, its rate as much below u_i; u_i of 128
/// or 256 KiB/s), after 6 s in none of 10.
const WARMUP: u32 = 6;
/// The timed swarm: leechers and file size.
const TIMED_LEECHERS: usize = 30;
const TIMED_FILE: usize = 64 * 1024 * 1024;
/// The bound for the timed swarm, in seconds.
const TIMED_TARGET: f64 = 10.0;

impl Bench {
    /// Both swarm rows, measured through the relay's API at `api`.
    /// `relay` is its process, whose CPU time each timed swarm takes is
    /// shown beside the time (the time grows with the machine's load).
    pub(super) fn swarm_rows(&mut self, api: SocketAddr, relay: u32) -> Vec<Row> {
        let uploads = self.swarm_rates("uploads bound", api, [U_S, U_I, 0.0]);
        let downloads = self.swarm_rates("downloads bound", api, [0.0, 0.0, D_I]);
        let worst = match (uploads[0], downloads[0]) {
            (Some(u), Some(d)) => Some(u.max(d)),
            _ => None,
        };
        let starved = match (uploads[1], downloads[1]) {
            (Some(u), Some(d)) => Some(u + d),
            _ => None,
        };
        let (mut times, mut cpu) = (Vec::new(), Vec::new());
        for round in 1..=ROUNDS {
            let [seconds, cpu_seconds] = self.swarm_time(round, api, relay);
            times.extend(seconds);
            cpu.extend(cpu_seconds);
        }
        vec![
            Row::new(
                format!(
                    "swarm rate limits, {RATE_LEECHERS} leechers, two swarms (u_s = {} KiB/s and u_i = {} KiB/s, downloads unlimited; d_i = {} KiB/s, uploads unlimited): worst deviation of a peer's paced bytes per second from its limit, over {} s where the limit held it (blocks waiting for tokens)",
                    U_S / 1024.0,
                    U_I / 1024.0,
                    D_I / 1024.0,
                    self.slice * ROUNDS as u32
                ),
                "%",
                worst,
            )
            .target(Target::AtMost(5.0)),
            Row::new(
                "same, limits left out: the peer was short of demand (over 1 % of its allowance unused with nothing to send or read)",
                "",
                starved,
            ),
            Row::new(
                format!(
                    "swarm, {TIMED_LEECHERS} leechers, a {} MiB file, no limits: until every leecher is verified (from the POST)",
                    TIMED_FILE >> 20
                ),
                "s",
                median(times),
            )
            .target(Target::AtMost(TIMED_TARGET)),
            Row::new("same, the relay's CPU time (user and system)", "s", median(cpu)),
        ]
    }

    /// The worst deviation, in percent, of one rate swarm's limits that
    /// held, and how many were left out as short of demand.
    fn swarm_rates(
        &mut self,
        what: &str,
        api: SocketAddr,
        [u_s, u_i, d_i]: [f64; 3],
    ) -> [Option<f64>; 2] {
        let window = self.slice * ROUNDS as u32;
        let args = client_args(
            "swarm-rates",
            &[
                ("--api", api.to_string()),
                ("--peers", RATE_LEECHERS.to_string()),
                ("--file-size", RATE_FILE.to_string()),
                ("--u-s", u_s.to_string()),
                ("--u-i", u_i.to_string()),
                ("--d-i", d_i.to_string()),
                ("--warmup", WARMUP.to_string()),
                ("--seconds", window.to_string()),
            ],
        );
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.client_figures(
            &format!("swarm rates, {what}"),
            &args,
            ["worst_deviation_pct", "starved"],
        )
    }

    fn swarm_time(&mut self, round: usize, api: SocketAddr, relay: u32) -> [Option<f64>; 2] {
        let args = client_args(
            "swarm-time",
            &[
                ("--api", api.to_string()),
                ("--peers", TIMED_LEECHERS.to_string()),
                ("--file-size", TIMED_FILE.to_string()),
                ("--pid", relay.to_string()),
            ],
        );
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let what = format!("swarm of {TIMED_LEECHERS} without limits, round {round}");
        self.client_figures(&what, &args, ["seconds", "relay_cpu_seconds"])
    }
}

/// The bench client's command line: `command`, then each flag and its value.
fn client_args(command: &str, flags: &[(&str, String)]) -> Vec<String> {
    std::iter::once(command.to_string())
        .chain(
            flags
                .iter()
                .flat_map(|(flag, value)| [flag.to_string(), value.clone()]),
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_args_put_each_value_after_its_flag() {
        let args = client_args(
            "swarm-time",
            &[("--api", "127.0.0.1:1".into()), ("--pid", "7".into())],
        );
        assert_eq!(args, ["swarm-time", "--api", "127.0.0.1:1", "--pid", "7"]);
    }
}
