//! Added one-way delay for `delay_ms`, and a link rate for `rate_kbps`: a
//! first-in first-out queue whose items come out a fixed time after they
//! went in, so each direction of a session is delayed while its order is
//! kept. With a zero delay items come out on the next poll, without a
//! timer: tokio's timer rounds every sleep up to its next millisecond tick,
//! which would add a millisecond or two to every round trip a student
//! measures.
//!
//! With a rate the line is a link as the course draws it: an item is
//! transmitted once the link is free (the items before it have gone out),
//! which takes its size over the rate, and then propagates for the delay.
//! So an object's transmission time is real, and objects sent back to back
//! (pipelined responses) queue behind each other as on a real link. Items
//! are whole reads (up to 16 KiB), so an item arrives whole at the end of
//! its transmission, as a store-and-forward link delivers a packet.
//!
//! The caller pushes what arrives with its size, awaits
//! [`DelayLine::ready`] in its select loop, and then takes the due items
//! with [`DelayLine::pop_due`]; it stops reading its source while
//! [`DelayLine::queued_bytes`] is over its bound.

use std::collections::VecDeque;
use std::time::Duration;
use tokio::time::Instant;

/// One direction's queue.
#[derive(Debug)]
pub struct DelayLine<T> {
    delay: Duration,
    /// Bits a second, if the link has a rate.
    rate_bps: Option<u64>,
    /// When the link has sent everything queued so far (with a rate).
    link_free_at: Option<Instant>,
    queue: VecDeque<(Instant, usize, T)>,
    queued_bytes: usize,
}

impl<T> DelayLine<T> {
    pub fn new(delay: Duration) -> Self {
        Self::with_rate(delay, None)
    }

    /// A line that also transmits at `rate_kbps` kilobits (1000 bits) a
    /// second; `None` (or 0) is a link of unlimited rate.
    pub fn with_rate(delay: Duration, rate_kbps: Option<u64>) -> Self {
        DelayLine {
            delay,
            rate_bps: rate_kbps.filter(|r| *r > 0).map(|r| r.saturating_mul(1000)),
            link_free_at: None,
            queue: VecDeque::new(),
            queued_bytes: 0,
        }
    }

    /// Queues `item`, which counts as `len` bytes until it is taken.
    pub fn push(&mut self, item: T, len: usize) {
        self.queued_bytes += len;
        let sent = self.transmitted_at(Instant::now(), len);
        self.queue.push_back((sent + self.delay, len, item));
    }

    /// When the last bit of `len` bytes arriving `now` has left the link:
    /// now itself without a rate, else after the items before it and its
    /// own transmission time.
    fn transmitted_at(&mut self, now: Instant, len: usize) -> Instant {
        let Some(rate_bps) = self.rate_bps else {
            return now;
        };
        let start = self.link_free_at.map_or(now, |free| free.max(now));
        let bits = (len as u64).saturating_mul(8);
        let done = start + transmission_time(bits, rate_bps);
        self.link_free_at = Some(done);
        done
    }

    /// Whether items go out on the next poll: no delay and no rate.
    fn passes_at_once(&self) -> bool {
        self.delay.is_zero() && self.rate_bps.is_none()
    }

    /// Whether an item pushed now would be due at once with nothing ahead
    /// of it: no delay, no rate and an empty line. The caller may then
    /// hand it on itself instead of queueing it for the next poll.
    pub fn passes_now(&self) -> bool {
        self.queue.is_empty() && self.passes_at_once()
    }

    /// The bytes queued and not yet taken.
    pub fn queued_bytes(&self) -> usize {
        self.queued_bytes
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Resolves when the oldest item is due (at once, with no timer, if it
    /// already is); never, while the line is empty.
    pub async fn ready(&self) {
        match self.queue.front() {
            Some((due, _, _)) if self.passes_at_once() || *due <= Instant::now() => {}
            Some((due, _, _)) => tokio::time::sleep_until(*due).await,
            None => std::future::pending().await,
        }
    }

    /// The oldest item if it is due.
    pub fn pop_due(&mut self) -> Option<T> {
        match self.queue.front() {
            Some((due, _, _)) if self.passes_at_once() || *due <= Instant::now() => {
                let (_, len, item) = self.queue.pop_front()?;
                self.queued_bytes -= len;
                Some(item)
            }
            _ => None,
        }
    }
}

/// How long `bits` take at `rate_bps`, to the nanosecond.
fn transmission_time(bits: u64, rate_bps: u64) -> Duration {
    let nanos = (bits as u128 * 1_000_000_000) / rate_bps.max(1) as u128;
    Duration::from_nanos(nanos.min(u64::MAX as u128) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn items_come_out_in_order_after_the_delay() {
        let delay = Duration::from_millis(40);
        let mut line = DelayLine::new(delay);
        let start = Instant::now();
        line.push(1, 10);
        tokio::time::sleep(Duration::from_millis(10)).await;
        line.push(2, 20);
        assert_eq!(line.queued_bytes(), 30);
        assert_eq!(line.pop_due(), None);
        line.ready().await;
        assert_eq!(line.pop_due(), Some(1));
        // Sleeping never ends early, so these lower bounds always hold.
        assert!(Instant::now() - start >= delay);
        line.ready().await;
        assert_eq!(line.pop_due(), Some(2));
        assert!(Instant::now() - start >= delay + Duration::from_millis(10));
        assert!(line.is_empty());
        assert_eq!(line.queued_bytes(), 0);
    }

    #[tokio::test]
    async fn a_zero_delay_passes_items_at_once() {
        let mut line = DelayLine::new(Duration::ZERO);
        line.push("a", 1);
        line.ready().await;
        assert_eq!(line.pop_due(), Some("a"));
    }

    /// A timer, even one already due, is not ready on its first poll: it
    /// waits for the next tick. An item of a zero delay line must be.
    #[tokio::test]
    async fn a_zero_delay_needs_no_timer() {
        let mut line = DelayLine::new(Duration::ZERO);
        line.push("now", 3);
        let ready = futures_ready(&line);
        assert!(
            ready,
            "a due item must be ready without waiting for a timer tick"
        );
        assert_eq!(line.pop_due(), Some("now"));
    }

    /// Only a line that would pass an item on at once, behind nothing,
    /// lets the bridge forward it itself: a delay, a rate or an item still
    /// queued must keep the line's order and timing.
    #[test]
    fn only_an_empty_line_without_delay_or_rate_passes_now() {
        let mut line = DelayLine::new(Duration::ZERO);
        assert!(line.passes_now());
        line.push("queued", 1);
        assert!(!line.passes_now(), "an item is still queued ahead");
        assert_eq!(line.pop_due(), Some("queued"));
        assert!(line.passes_now());
        let delayed: DelayLine<()> = DelayLine::new(Duration::from_millis(1));
        assert!(!delayed.passes_now(), "a delay is asked");
        let limited: DelayLine<()> = DelayLine::with_rate(Duration::ZERO, Some(8));
        assert!(!limited.passes_now(), "a rate is asked");
    }

    #[test]
    fn transmission_takes_the_size_over_the_rate() {
        // 1250 bytes are 10,000 bits: 100 ms at 100 kbit/s.
        assert_eq!(
            transmission_time(10_000, 100_000),
            Duration::from_millis(100)
        );
        assert_eq!(transmission_time(8, 1_000_000), Duration::from_micros(8));
    }

    #[tokio::test]
    async fn a_rate_sends_items_one_after_the_other() {
        // 100 kbit/s and 10 ms of delay: 1250 bytes take 100 ms to send.
        let mut line = DelayLine::with_rate(Duration::from_millis(10), Some(100));
        let start = Instant::now();
        line.push("first", 1250);
        line.push("second", 1250);
        let (first_due, second_due) = (line.queue[0].0, line.queue[1].0);
        // The second waits for the link: sent from 100 to 200 ms.
        assert!(first_due - start >= Duration::from_millis(110));
        assert_eq!(second_due - first_due, Duration::from_millis(100));
        line.ready().await;
        assert_eq!(line.pop_due(), Some("first"));
        // Sleeping never ends early, so these lower bounds always hold.
        assert!(Instant::now() >= first_due);
        assert_eq!(line.pop_due(), None);
        line.ready().await;
        assert_eq!(line.pop_due(), Some("second"));
        assert!(Instant::now() >= second_due);
    }

    #[test]
    fn an_idle_link_sends_at_once() {
        let mut line: DelayLine<()> = DelayLine::with_rate(Duration::ZERO, Some(8));
        let t0 = Instant::now();
        // 1000 bytes at 8 kbit/s: one second, from t0.
        assert_eq!(line.transmitted_at(t0, 1000), t0 + Duration::from_secs(1));
        // Arriving while it is busy: after it.
        let busy = t0 + Duration::from_millis(500);
        assert_eq!(line.transmitted_at(busy, 1000), t0 + Duration::from_secs(2));
        // Arriving once it is idle again: from then.
        let idle = t0 + Duration::from_secs(5);
        assert_eq!(
            line.transmitted_at(idle, 1),
            idle + Duration::from_millis(1)
        );
    }

    #[test]
    fn a_zero_rate_is_no_rate() {
        let mut line: DelayLine<()> = DelayLine::with_rate(Duration::from_millis(5), Some(0));
        let t0 = Instant::now();
        assert_eq!(line.transmitted_at(t0, 1_000_000), t0);
    }

    /// Whether `ready()` resolves on its first poll.
    fn futures_ready<T>(line: &DelayLine<T>) -> bool {
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut ready = std::pin::pin!(line.ready());
        ready.as_mut().poll(&mut cx).is_ready()
    }
}
