//! A fixed-size latency histogram: log-linear buckets (8 per power of two,
//! so within 12.5%), allocated once, so a million samples cost no memory.

use std::time::Duration;

const SUB_BUCKETS: usize = 8;
const BUCKETS: usize = 64 * SUB_BUCKETS;

pub struct Histogram {
    counts: Box<[u64; BUCKETS]>,
    total: u64,
    max: Duration,
}

fn bucket(nanos: u64) -> usize {
    if nanos < SUB_BUCKETS as u64 {
        return nanos as usize;
    }
    let magnitude = 63 - nanos.leading_zeros() as usize; // >= 3
    let sub = (nanos >> (magnitude - 3)) as usize & (SUB_BUCKETS - 1);
    (magnitude - 2) * SUB_BUCKETS + sub
}

/// The smallest value that falls in `index`.
fn lower_bound(index: usize) -> u64 {
    if index < SUB_BUCKETS {
        return index as u64;
    }
    let magnitude = index / SUB_BUCKETS + 2;
    let sub = (index % SUB_BUCKETS) as u64;
    (SUB_BUCKETS as u64 + sub) << (magnitude - 3)
}

impl Histogram {
    pub fn new() -> Self {
        Self {
            counts: Box::new([0; BUCKETS]),
            total: 0,
            max: Duration::ZERO,
        }
    }

    pub fn record(&mut self, value: Duration) {
        let nanos = u64::try_from(value.as_nanos()).unwrap_or(u64::MAX);
        self.counts[bucket(nanos).min(BUCKETS - 1)] += 1;
        self.total += 1;
        self.max = self.max.max(value);
    }

    /// The value at `quantile` (0..=1), as a bucket's lower bound; zero
    /// when empty.
    pub fn quantile(&self, quantile: f64) -> Duration {
        if self.total == 0 {
            return Duration::ZERO;
        }
        let rank = ((self.total as f64 * quantile).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (index, count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return Duration::from_nanos(lower_bound(index)).min(self.max);
            }
        }
        self.max
    }

    pub fn max(&self) -> Duration {
        self.max
    }
}
