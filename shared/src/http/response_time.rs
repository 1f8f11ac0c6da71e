//! The course's response-time formulas for a page of a base file and the
//! objects it references (§2.2.2, the slides' scorecard, problem P7), as
//! pure functions of the round-trip time, the link rate and the objects'
//! sizes, for the four ways of fetching it ([`Mode`]).
//!
//! Each object costs its transmission time, its size in bits over the
//! rate; the round trips are the course's:
//!
//! - non-persistent, one at a time: 2 RTT (the TCP handshake, then the
//!   request) and its transmission, for every object: 2(n+1) RTT;
//! - m parallel non-persistent connections: the base file, then the
//!   objects in rounds of m at once, 2 RTT a round: 2 + 2⌈n/m⌉ RTT;
//! - persistent without pipelining: one handshake, then 1 RTT per object:
//!   (n+1)+1 RTT, "about n+1" for the n+1 objects;
//! - persistent with pipelining: 2 RTT for the base file, then 1 RTT for
//!   all the objects at once: 3 RTT ("about 2 RTT" once the base is there).
//!
//! A caller passes the sizes it has (the lab uses the responses it got,
//! head and body, as those are what crosses the link).

/// How a page's objects are fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// One connection per object, one after the other.
    NonPersistent,
    /// One connection per object, up to this many at once.
    Parallel { m: usize },
    /// One connection, one request at a time.
    Persistent,
    /// One connection, every request of the page sent back to back.
    Pipelined,
}

impl Mode {
    /// The four modes in the course's order, with `m` parallel connections.
    pub fn all(m: usize) -> [Mode; 4] {
        [
            Mode::NonPersistent,
            Mode::Parallel { m },
            Mode::Persistent,
            Mode::Pipelined,
        ]
    }

    /// The name the page and its tests use (`data-mode`).
    pub fn key(&self) -> &'static str {
        match self {
            Mode::NonPersistent => "non-persistent",
            Mode::Parallel { .. } => "parallel",
            Mode::Persistent => "persistent",
            Mode::Pipelined => "pipelined",
        }
    }

    /// How the course says it.
    pub fn title(&self) -> String {
        match self {
            Mode::NonPersistent => "non-persistent, one at a time".into(),
            Mode::Parallel { m } => format!("non-persistent, {m} in parallel"),
            Mode::Persistent => "persistent, without pipelining".into(),
            Mode::Pipelined => "persistent, with pipelining".into(),
        }
    }

    /// The round trips the formula counts for a base file and `n` objects.
    pub fn round_trips(&self, n: usize) -> usize {
        match self {
            Mode::NonPersistent => 2 * (n + 1),
            Mode::Parallel { m } => 2 + 2 * n.div_ceil((*m).max(1)),
            Mode::Persistent => n + 2,
            Mode::Pipelined if n == 0 => 2,
            Mode::Pipelined => 3,
        }
    }

    /// The formula as the course writes it, for the page.
    pub fn formula_text(&self) -> &'static str {
        match self {
            Mode::NonPersistent => "2 RTT + transmission, per object: 2(n+1) RTT + ΣT",
            Mode::Parallel { .. } => {
                "2 RTT + T(base), then 2 RTT + T per round of m: (2 + 2⌈n/m⌉) RTT"
            }
            Mode::Persistent => "2 RTT for the base, 1 RTT per object: about n+1 RTT + ΣT",
            Mode::Pipelined => "2 RTT for the base, 1 RTT for all objects: about 2 RTT (+1) + ΣT",
        }
    }
}

/// What the formulas need to know.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// The round-trip time, in milliseconds.
    pub rtt_ms: f64,
    /// The link rate in kilobits (1000 bits) a second; `None`: no
    /// transmission time (the course's "very small objects").
    pub rate_kbps: Option<f64>,
    /// The base file's size in bytes.
    pub base_bytes: usize,
    /// Each referenced object's size in bytes.
    pub object_bytes: Vec<usize>,
}

/// Milliseconds `bytes` take at `rate_kbps` (bits over kilobits a second
/// are milliseconds); nothing without a rate.
pub fn transmission_ms(bytes: usize, rate_kbps: Option<f64>) -> f64 {
    match rate_kbps {
        Some(rate) if rate > 0.0 => bytes as f64 * 8.0 / rate,
        _ => 0.0,
    }
}

impl Scenario {
    fn t(&self, bytes: usize) -> f64 {
        transmission_ms(bytes, self.rate_kbps)
    }

    /// The whole page's response time, in milliseconds, fetched as `mode`.
    pub fn total_ms(&self, mode: Mode) -> f64 {
        let rtt = self.rtt_ms;
        let base = 2.0 * rtt + self.t(self.base_bytes);
        let objects: f64 = self.object_bytes.iter().map(|b| self.t(*b)).sum();
        let n = self.object_bytes.len() as f64;
        match mode {
            Mode::NonPersistent => base + 2.0 * rtt * n + objects,
            Mode::Parallel { m } => {
                // A round lasts as long as its largest object.
                let rounds: f64 = self
                    .object_bytes
                    .chunks(m.max(1))
                    .map(|round| {
                        let largest = round.iter().copied().max().unwrap_or(0);
                        2.0 * rtt + self.t(largest)
                    })
                    .sum();
                base + rounds
            }
            Mode::Persistent => base + rtt * n + objects,
            Mode::Pipelined if self.object_bytes.is_empty() => base,
            // The objects follow each other on the one link.
            Mode::Pipelined => base + rtt + objects,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small(n: usize, rtt_ms: f64) -> Scenario {
        Scenario {
            rtt_ms,
            rate_kbps: None,
            base_bytes: 1000,
            object_bytes: vec![1000; n],
        }
    }

    #[test]
    fn problem_p7_three_very_small_objects() {
        // P7 with RTT0 = 1 and the DNS round trips left out: 8, 4 (with
        // enough parallel connections), 5 and 3 RTT0.
        let s = small(3, 1.0);
        assert_eq!(s.total_ms(Mode::NonPersistent), 8.0);
        assert_eq!(s.total_ms(Mode::Parallel { m: 5 }), 4.0);
        assert_eq!(s.total_ms(Mode::Persistent), 5.0);
        assert_eq!(s.total_ms(Mode::Pipelined), 3.0);
        for mode in Mode::all(5) {
            assert_eq!(mode.round_trips(3) as f64, s.total_ms(mode), "{mode:?}");
        }
    }

    #[test]
    fn ten_images_at_50_ms_in_the_order_the_course_gives() {
        let s = small(10, 50.0);
        let [np, par, pers, pipe] = Mode::all(5).map(|m| s.total_ms(m));
        assert_eq!((np, par, pers, pipe), (1100.0, 300.0, 600.0, 150.0));
        assert!(np > pers && pers > par && par > pipe);
        // Fewer parallel connections, more rounds.
        assert_eq!(s.total_ms(Mode::Parallel { m: 3 }), 500.0);
        assert_eq!(
            s.total_ms(Mode::Parallel { m: 0 }),
            s.total_ms(Mode::NonPersistent)
        );
    }

    #[test]
    fn transmission_adds_the_sizes_over_the_rate() {
        // 1250 bytes at 100 kbit/s: 100 ms each.
        let s = Scenario {
            rtt_ms: 10.0,
            rate_kbps: Some(100.0),
            base_bytes: 1250,
            object_bytes: vec![1250, 1250, 625],
        };
        assert_eq!(transmission_ms(1250, Some(100.0)), 100.0);
        assert_eq!(s.total_ms(Mode::NonPersistent), 4.0 * 20.0 + 350.0);
        // Rounds of two: the first lasts its larger object, then the last.
        assert_eq!(s.total_ms(Mode::Parallel { m: 2 }), 120.0 + 120.0 + 70.0);
        assert_eq!(s.total_ms(Mode::Persistent), 120.0 + 3.0 * 10.0 + 250.0);
        assert_eq!(s.total_ms(Mode::Pipelined), 120.0 + 10.0 + 250.0);
    }

    #[test]
    fn a_page_alone_is_two_round_trips_every_way() {
        let s = small(0, 7.0);
        for mode in Mode::all(5) {
            assert_eq!(s.total_ms(mode), 14.0, "{mode:?}");
            assert_eq!(mode.round_trips(0), 2, "{mode:?}");
        }
    }

    #[test]
    fn keys_are_the_pages_names() {
        let keys = Mode::all(5).map(|m| m.key());
        assert_eq!(
            keys,
            ["non-persistent", "parallel", "persistent", "pipelined"]
        );
    }
}
