//! Connect latencies: an HDR histogram (hdrhistogram) with three
//! significant digits, so every percentile is within 0.1% of the value
//! recorded, from a nanosecond to an hour, in a few tens of KiB.

use std::time::Duration;

pub struct Histogram(hdrhistogram::Histogram<u64>);

/// The largest latency recorded as itself (an hour); longer ones saturate.
const HIGHEST_NANOS: u64 = 3_600_000_000_000;

impl Histogram {
    pub fn new() -> Self {
        match hdrhistogram::Histogram::new_with_bounds(1, HIGHEST_NANOS, 3) {
            Ok(histogram) => Self(histogram),
            // The bounds are constants that hdrhistogram accepts.
            Err(error) => unreachable!("histogram bounds: {error}"),
        }
    }

    pub fn record(&mut self, value: Duration) {
        let nanos = u64::try_from(value.as_nanos()).unwrap_or(u64::MAX);
        self.0.saturating_record(nanos.clamp(1, HIGHEST_NANOS));
    }

    /// The value at `quantile` (0..=1), within 0.1%; zero when empty.
    pub fn quantile(&self, quantile: f64) -> Duration {
        if self.0.is_empty() {
            return Duration::ZERO;
        }
        Duration::from_nanos(self.0.value_at_quantile(quantile))
    }

    pub fn max(&self) -> Duration {
        if self.0.is_empty() {
            return Duration::ZERO;
        }
        Duration::from_nanos(self.0.max())
    }

    /// Adds `other`'s samples (same bounds, so nothing is lost).
    pub fn absorb(&mut self, other: &Histogram) {
        let _ = self.0.add(&other.0);
    }
}
