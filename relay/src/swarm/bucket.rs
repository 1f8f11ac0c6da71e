//! A token bucket for one direction of one swarm peer: `take(n)` returns
//! when `n` bytes fit the rate. It runs into debt rather than splitting a
//! read or write, and the next caller waits the debt off, so the average
//! rate holds over any stretch longer than one burst.

use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// Bytes per second; 0 is unlimited.
pub struct Bucket {
    rate: f64,
    state: Mutex<(f64, Instant)>,
}

impl Bucket {
    pub fn new(rate: f64) -> Bucket {
        Bucket {
            rate,
            state: Mutex::new((0.0, Instant::now())),
        }
    }

    /// Waits until `n` more bytes are within the rate.
    pub async fn take(&self, n: usize) {
        // Nothing to charge waits for nobody's debt: a control message
        // goes out at once even while piece bytes wait.
        if self.rate <= 0.0 || n == 0 {
            return;
        }
        let wait = {
            let mut state = self.state.lock().await;
            let (tokens, last) = &mut *state;
            let now = Instant::now();
            // At most a tenth of a second of unused rate is saved up.
            let burst = self.rate / 10.0;
            *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * self.rate).min(burst);
            *last = now;
            *tokens -= n as f64;
            (*tokens < 0.0).then(|| Duration::from_secs_f64(-*tokens / self.rate))
        };
        if let Some(wait) = wait {
            tokio::time::sleep(wait).await;
        }
    }
}
