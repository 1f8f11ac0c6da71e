//! Counters for `/api/metrics`, in the Prometheus text format (version
//! 0.0.4): sessions and bytes per target, refusals by code and reason,
//! dropped UDP replies.
//!
//! A session takes its target's [`TargetCounters`] once and adds to its
//! atomics as bytes flow; the rest is counted rarely and sits behind a
//! mutex. Target labels are catalog names or `custom`, so a student typing
//! host names cannot grow the label set.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The counters of one target (label `target`, and `transport`).
#[derive(Debug, Default)]
pub struct TargetCounters {
    pub sessions: AtomicU64,
    pub open: AtomicI64,
    pub bytes_to_target: AtomicU64,
    pub bytes_to_page: AtomicU64,
    pub connect_failures: AtomicU64,
}

/// Every counter of the relay.
#[derive(Debug, Default)]
pub struct Metrics {
    targets: Mutex<HashMap<(String, &'static str), Arc<TargetCounters>>>,
    refusals: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    udp_dropped: Mutex<BTreeMap<&'static str, u64>>,
    recordings: AtomicU64,
}

impl Metrics {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// The counters of `target` over `transport`.
    pub fn target(&self, target: &str, transport: &'static str) -> Arc<TargetCounters> {
        let mut map = self.targets.lock().unwrap_or_else(|e| e.into_inner());
        map.entry((target.to_string(), transport))
            .or_default()
            .clone()
    }

    /// One `error` sent to a page: `code` is the protocol's error code,
    /// `reason` which check or limit it was.
    pub fn refused(&self, code: &'static str, reason: &'static str) {
        let mut map = self.refusals.lock().unwrap_or_else(|e| e.into_inner());
        *map.entry((code, reason)).or_default() += 1;
    }

    /// A UDP reply not passed to the page (`too_large`, `unsolicited`).
    pub fn udp_dropped(&self, reason: &'static str) {
        let mut map = self.udp_dropped.lock().unwrap_or_else(|e| e.into_inner());
        *map.entry(reason).or_default() += 1;
    }

    pub fn recording_started(&self) {
        self.recordings.fetch_add(1, Ordering::Relaxed);
    }

    /// The refusals counted for `(code, reason)`, for tests.
    pub fn refusals_of(&self, code: &str, reason: &str) -> u64 {
        let map = self.refusals.lock().unwrap_or_else(|e| e.into_inner());
        map.iter()
            .filter(|((c, r), _)| *c == code && *r == reason)
            .map(|(_, n)| *n)
            .sum()
    }

    /// Everything, in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut targets: Vec<((String, &'static str), Arc<TargetCounters>)> = self
            .targets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        targets.sort_by(|a, b| a.0.cmp(&b.0));
        let per_target = |out: &mut String,
                          name: &str,
                          kind: &str,
                          help: &str,
                          value: &dyn Fn(&TargetCounters) -> String| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            for ((target, transport), c) in &targets {
                let _ = writeln!(
                    out,
                    "{name}{{target=\"{}\",transport=\"{transport}\"}} {}",
                    escape(target),
                    value(c)
                );
            }
        };
        per_target(
            &mut out,
            "wirelab_sessions_total",
            "counter",
            "WebSocket sessions that connected to a target.",
            &|c| c.sessions.load(Ordering::Relaxed).to_string(),
        );
        per_target(
            &mut out,
            "wirelab_sessions_open",
            "gauge",
            "WebSocket sessions connected to a target now.",
            &|c| c.open.load(Ordering::Relaxed).to_string(),
        );
        per_target(
            &mut out,
            "wirelab_connect_failures_total",
            "counter",
            "Connections to a target that failed or timed out.",
            &|c| c.connect_failures.load(Ordering::Relaxed).to_string(),
        );
        let _ = writeln!(
            out,
            "# HELP wirelab_bytes_total Payload bytes relayed, by direction."
        );
        let _ = writeln!(out, "# TYPE wirelab_bytes_total counter");
        for ((target, transport), c) in &targets {
            for (direction, n) in [
                ("to_target", c.bytes_to_target.load(Ordering::Relaxed)),
                ("to_page", c.bytes_to_page.load(Ordering::Relaxed)),
            ] {
                let _ = writeln!(
                    out,
                    "wirelab_bytes_total{{target=\"{}\",transport=\"{transport}\",direction=\"{direction}\"}} {n}",
                    escape(target)
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP wirelab_refusals_total Errors sent to pages, by code and reason."
        );
        let _ = writeln!(out, "# TYPE wirelab_refusals_total counter");
        for ((code, reason), n) in self
            .refusals
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "wirelab_refusals_total{{code=\"{code}\",reason=\"{reason}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP wirelab_udp_replies_dropped_total UDP replies not passed on (amplification bounds)."
        );
        let _ = writeln!(out, "# TYPE wirelab_udp_replies_dropped_total counter");
        for (reason, n) in self
            .udp_dropped
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "wirelab_udp_replies_dropped_total{{reason=\"{reason}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP wirelab_recordings_total Connections recorded.\n# TYPE wirelab_recordings_total counter\nwirelab_recordings_total {}",
            self.recordings.load(Ordering::Relaxed)
        );
        out
    }
}

/// Escapes a label value (backslash, quote, newline).
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::new();
        let t = m.target("upper-tcp", "tcp");
        t.sessions.fetch_add(2, Ordering::Relaxed);
        t.bytes_to_target.fetch_add(13, Ordering::Relaxed);
        m.refused("forbidden", "loopback");
        m.refused("forbidden", "loopback");
        m.udp_dropped("unsolicited");
        let text = m.render();
        assert!(text.contains("wirelab_sessions_total{target=\"upper-tcp\",transport=\"tcp\"} 2"));
        assert!(text.contains(
            "wirelab_bytes_total{target=\"upper-tcp\",transport=\"tcp\",direction=\"to_target\"} 13"
        ));
        assert!(text.contains("wirelab_refusals_total{code=\"forbidden\",reason=\"loopback\"} 2"));
        assert!(text.contains("wirelab_udp_replies_dropped_total{reason=\"unsolicited\"} 1"));
        assert_eq!(m.refusals_of("forbidden", "loopback"), 2);
        // Every sample line has a TYPE line for its metric before it.
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let name = line.split(['{', ' ']).next().unwrap();
            assert!(text.contains(&format!("# TYPE {name} ")), "{line}");
        }
        assert_eq!(escape("a\"b"), "a\\\"b");
    }
}
