//! Added one-way delay for `delay_ms`: a first-in first-out queue whose
//! items come out a fixed time after they went in, so each direction of a
//! session is delayed while its order is kept. With a zero delay items come
//! out on the next poll.
//!
//! The caller pushes what arrives, awaits [`DelayLine::ready`] in its
//! select loop, and then takes the due items with [`DelayLine::pop_due`].

use std::collections::VecDeque;
use std::time::Duration;
use tokio::time::Instant;

/// One direction's queue.
#[derive(Debug)]
pub struct DelayLine<T> {
    delay: Duration,
    queue: VecDeque<(Instant, T)>,
}

impl<T> DelayLine<T> {
    pub fn new(delay: Duration) -> Self {
        DelayLine {
            delay,
            queue: VecDeque::new(),
        }
    }

    pub fn push(&mut self, item: T) {
        self.queue.push_back((Instant::now() + self.delay, item));
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Resolves when the oldest item is due; never, while the line is empty.
    pub async fn ready(&self) {
        match self.queue.front() {
            Some((due, _)) => tokio::time::sleep_until(*due).await,
            None => std::future::pending().await,
        }
    }

    /// The oldest item if it is due.
    pub fn pop_due(&mut self) -> Option<T> {
        match self.queue.front() {
            Some((due, _)) if *due <= Instant::now() => self.queue.pop_front().map(|(_, t)| t),
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
        line.push(1);
        tokio::time::sleep(Duration::from_millis(10)).await;
        line.push(2);
        assert_eq!(line.pop_due(), None);
        line.ready().await;
        assert_eq!(line.pop_due(), Some(1));
        // Sleeping never ends early, so these lower bounds always hold.
        assert!(Instant::now() - start >= delay);
        line.ready().await;
        assert_eq!(line.pop_due(), Some(2));
        assert!(Instant::now() - start >= delay + Duration::from_millis(10));
        assert!(line.is_empty());
    }

    #[tokio::test]
    async fn a_zero_delay_passes_items_at_once() {
        let mut line = DelayLine::new(Duration::ZERO);
        line.push("a");
        line.ready().await;
        assert_eq!(line.pop_due(), Some("a"));
    }
}
