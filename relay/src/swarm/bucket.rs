//! A token bucket for one direction of one swarm peer: `take(n)` returns
//! when `n` bytes fit the rate. It runs into debt rather than splitting a
//! read or write, and the next caller waits the debt off, so the average
//! rate holds over any stretch longer than one burst.
//!
//! It also keeps account of where its allowance went ([`Usage`]), so a
//! measured rate below the one asked can be told apart: the limit
//! binding (callers waited for tokens) or the peer lacking demand (the
//! bucket sat full and the rate it earned meanwhile was thrown away).

use serde::Serialize;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::time::Instant;

/// Bytes per second; 0 is unlimited.
pub struct Bucket {
    rate: f64,
    state: Mutex<State>,
}

struct State {
    tokens: f64,
    last: Instant,
    /// When the debt owed now is paid off: a caller waits until then.
    paid_at: Instant,
    /// Time during which some caller waited for tokens, up to `paid_at`.
    held: Duration,
    /// Allowance thrown away because the bucket was full.
    unused: f64,
}

/// Where one bucket's allowance went since the swarm started: what the
/// swarm's view shows beside its byte counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Usage {
    /// Bytes the peer's sockets carried that the bucket paced, counted
    /// after the write or the read (for the upload side, piece messages
    /// only: control messages are not charged).
    pub paced_bytes: u64,
    /// Seconds during which a caller waited for tokens: the limit held
    /// the peer back.
    pub held_secs: f64,
    /// Allowance lost because nothing was waiting when the bucket was
    /// full (more than [`BURST_SECS`] of its rate saved up): the peer had
    /// nothing to send, or nothing came to read, so it was short of
    /// demand, not of rate.
    pub unused_bytes: u64,
}

/// A peer's two buckets as the swarm's view shows them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Pacing {
    /// Seconds from the swarm's start when these figures and the peer's
    /// byte counters were read: a rate measured between two views divides
    /// by the difference of these, not by the time between the requests.
    pub at_secs: f64,
    /// The upload bucket (u_s or u_i); absent when unlimited.
    pub up: Option<Usage>,
    /// The download bucket (d_i); absent when unlimited.
    pub down: Option<Usage>,
}

/// At most this much of unused rate is saved up: a peer idle for longer
/// does not send its idle time's worth in one go afterwards.
pub const BURST_SECS: f64 = 0.1;

impl Bucket {
    pub fn new(rate: f64) -> Bucket {
        let now = Instant::now();
        Bucket {
            rate,
            state: Mutex::new(State {
                tokens: 0.0,
                last: now,
                paid_at: now,
                held: Duration::ZERO,
                unused: 0.0,
            }),
        }
    }

    /// Whether it limits anything.
    pub fn limits(&self) -> bool {
        self.rate > 0.0
    }

    /// Its [`Usage`] beside the `paced` bytes the caller counted, if it
    /// limits anything.
    pub fn usage_if_limited(&self, paced: u64) -> Option<Usage> {
        self.limits().then(|| self.usage(paced))
    }

    /// Waits until `n` more bytes are within the rate.
    pub async fn take(&self, n: usize) {
        // Nothing to charge waits for nobody's debt: a control message
        // goes out at once even while piece bytes wait.
        if !self.limits() || n == 0 {
            return;
        }
        if let Some(wait) = self.charge(n, Instant::now()) {
            tokio::time::sleep(wait).await;
        }
    }

    /// Charges `n` bytes at `now`: how long their caller must wait.
    fn charge(&self, n: usize, now: Instant) -> Option<Duration> {
        let mut state = self.lock();
        state.refill(now, self.rate);
        state.tokens -= n as f64;
        (state.tokens < 0.0).then(|| state.owe(now, self.rate))
    }

    /// Where the allowance went until now (the wait ahead of a caller not
    /// yet counted as held), beside the `paced` bytes the caller counted.
    pub fn usage(&self, paced: u64) -> Usage {
        self.usage_at(paced, Instant::now())
    }

    fn usage_at(&self, paced: u64, now: Instant) -> Usage {
        let state = self.lock();
        let earned = state.tokens + now.duration_since(state.last).as_secs_f64() * self.rate;
        let overflow = (earned - self.rate * BURST_SECS).max(0.0);
        Usage {
            paced_bytes: paced,
            held_secs: state
                .held
                .saturating_sub(state.paid_at.saturating_duration_since(now))
                .as_secs_f64(),
            unused_bytes: (state.unused + overflow) as u64,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing is left half-done under the lock: a panicked holder's
        // figures are still whole.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    /// Adds the rate earned since the last call, keeping at most
    /// [`BURST_SECS`] of it and counting the rest as unused.
    fn refill(&mut self, now: Instant, rate: f64) {
        let earned = self.tokens + now.duration_since(self.last).as_secs_f64() * rate;
        let burst = rate * BURST_SECS;
        self.unused += (earned - burst).max(0.0);
        self.tokens = earned.min(burst);
        self.last = now;
    }

    /// The wait until the debt is paid off, counting it as held time
    /// where it does not overlap an earlier caller's wait.
    fn owe(&mut self, now: Instant, rate: f64) -> Duration {
        let wait = Duration::from_secs_f64(-self.tokens / rate);
        let paid_at = now + wait;
        self.held += paid_at.saturating_duration_since(self.paid_at.max(now));
        self.paid_at = paid_at;
        wait
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: f64 = 64.0 * 1024.0;
    const BLOCK: usize = 16 * 1024;

    /// A sender at `start`'s bucket: sends a block whenever its last wait
    /// is over, while `busy(t)` holds for the seconds `t` since `start`,
    /// else looks again a millisecond later. The bytes it sent.
    fn send_while(bucket: &Bucket, start: Instant, secs: f64, busy: impl Fn(f64) -> bool) -> u64 {
        let (mut now, mut sent) = (start, 0);
        while (now - start).as_secs_f64() < secs {
            if busy((now - start).as_secs_f64()) {
                now += bucket.charge(BLOCK, now).unwrap_or_default();
                sent += BLOCK as u64;
            } else {
                now += Duration::from_millis(1);
            }
        }
        sent
    }

    #[test]
    fn a_sender_always_ready_is_held_and_gets_the_rate() {
        let start = Instant::now();
        let bucket = Bucket::new(RATE);
        bucket.lock().last = start;
        let sent = send_while(&bucket, start, 10.0, |_| true);
        let usage = bucket.usage_at(sent, start + Duration::from_secs(10));
        assert!((sent as f64 / 10.0 / RATE - 1.0).abs() < 0.01, "{sent}");
        assert_eq!(usage.unused_bytes, 0, "{usage:?}");
        assert!(usage.held_secs > 9.5, "{usage:?}");
    }

    /// Busy every other second: most of the idle seconds' rate is lost
    /// as unused (not the burst kept, nor the time a busy second's last
    /// block still waits into the idle one), and the sender is held only
    /// while busy or paying its last block off.
    #[test]
    fn an_idle_sender_loses_its_allowance_as_unused() {
        let start = Instant::now();
        let bucket = Bucket::new(RATE);
        bucket.lock().last = start;
        let sent = send_while(&bucket, start, 10.0, |t| (t as u64).is_multiple_of(2));
        let usage = bucket.usage_at(sent, start + Duration::from_secs(10));
        let unused_secs = usage.unused_bytes as f64 / RATE;
        assert!((3.0..=4.5).contains(&unused_secs), "{usage:?}");
        assert!((5.0..=6.5).contains(&usage.held_secs), "{usage:?}");
        // What was sent and what was lost add up to the allowance.
        let accounted = (sent + usage.unused_bytes) as f64 / (10.0 * RATE);
        assert!((0.97..=1.03).contains(&accounted), "{accounted}");
    }

    /// Several writers taking at once owe one debt: the time held is the
    /// stretch they waited, not the sum of their waits.
    #[test]
    fn overlapping_waits_count_once() {
        let start = Instant::now();
        let bucket = Bucket::new(RATE);
        bucket.lock().last = start;
        let waits: Vec<Duration> = (0..4).filter_map(|_| bucket.charge(BLOCK, start)).collect();
        assert_eq!(waits.last(), Some(&Duration::from_secs(1)));
        let usage = bucket.usage_at(0, start + Duration::from_secs(1));
        assert!((usage.held_secs - 1.0).abs() < 1e-6, "{usage:?}");
        // Half-way, only the half already waited counts.
        let usage = bucket.usage_at(0, start + Duration::from_millis(500));
        assert!((usage.held_secs - 0.5).abs() < 1e-6, "{usage:?}");
    }
}
