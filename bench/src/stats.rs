//! Latency samples and their percentiles.

use std::time::Duration;

/// Round-trip times, in nanoseconds.
#[derive(Debug, Default)]
pub struct Samples(Vec<u64>);

impl Samples {
    pub fn push(&mut self, d: Duration) {
        self.0.push(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The `p`-th percentile (0-100) in microseconds, by nearest rank; 0
    /// with no sample.
    pub fn percentile_us(&mut self, p: f64) -> f64 {
        if self.0.is_empty() {
            return 0.0;
        }
        self.0.sort_unstable();
        let rank = ((p / 100.0) * self.0.len() as f64).ceil() as usize;
        let index = rank.clamp(1, self.0.len()) - 1;
        self.0[index] as f64 / 1000.0
    }

    /// `count=.. p50_us=.. p99_us=..`.
    pub fn summary(&mut self) -> String {
        format!(
            "count={} p50_us={:.1} p99_us={:.1}",
            self.len(),
            self.percentile_us(50.0),
            self.percentile_us(99.0)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let mut s = Samples::default();
        assert_eq!(s.percentile_us(50.0), 0.0);
        for us in (1..=100).rev() {
            s.push(Duration::from_micros(us));
        }
        assert_eq!(s.percentile_us(50.0), 50.0);
        assert_eq!(s.percentile_us(99.0), 99.0);
        assert_eq!(s.percentile_us(100.0), 100.0);
        assert_eq!(s.percentile_us(0.0), 1.0);
    }
}
