//! Added one-way delay for `delay_ms`: a first-in first-out queue whose
//! items come out a fixed time after they went in, so each direction of a
//! session is delayed while its order is kept. With a zero delay items come
//! out on the next poll, without a timer: tokio's timer rounds every sleep
//! up to its next millisecond tick, which would add a millisecond or two to
//! every round trip a student measures.
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
    queue: VecDeque<(Instant, usize, T)>,
    queued_bytes: usize,
}

impl<T> DelayLine<T> {
    pub fn new(delay: Duration) -> Self {
        DelayLine {
            delay,
            queue: VecDeque::new(),
            queued_bytes: 0,
        }
    }

    /// Queues `item`, which counts as `len` bytes until it is taken.
    pub fn push(&mut self, item: T, len: usize) {
        self.queued_bytes += len;
        self.queue
            .push_back((Instant::now() + self.delay, len, item));
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
            Some((due, _, _)) if self.delay.is_zero() || *due <= Instant::now() => {}
            Some((due, _, _)) => tokio::time::sleep_until(*due).await,
            None => std::future::pending().await,
        }
    }

    /// The oldest item if it is due.
    pub fn pop_due(&mut self) -> Option<T> {
        match self.queue.front() {
            Some((due, _, _)) if self.delay.is_zero() || *due <= Instant::now() => {
                let (_, len, item) = self.queue.pop_front()?;
                self.queued_bytes -= len;
                Some(item)
            }
            _ => None,
        }
    }
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

    /// Whether `ready()` resolves on its first poll.
    fn futures_ready<T>(line: &DelayLine<T>) -> bool {
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut ready = std::pin::pin!(line.ready());
        ready.as_mut().poll(&mut cx).is_ready()
    }
}
