//! What goes wrong in the simulation, and the seeded dice that decide when.

use std::ops::Range;
use std::time::Duration;

/// The faults the simulated driver and cluster inject, decided by a seeded
/// random generator so a run can be repeated exactly.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultProfile {
    /// How long each creation takes: a duration drawn uniformly from the
    /// range (an empty range means exactly its start).
    pub creation_latency: Range<Duration>,
    /// Chance that a creation fails with an error.
    pub creation_failure_rate: f64,
    /// Chance that the creator panics instead of completing.
    pub creator_panic_rate: f64,
    /// Chance that closing a resource panics, after the simulated driver
    /// has released it (so the audit still sees it closed): what a user's
    /// `Close` may do. leakless catches the panic and reports it as a close
    /// error.
    pub close_panic_rate: f64,
    /// Chance that a publication never connects.
    pub never_connect_rate: f64,
    /// Chance that the cluster does not answer a connect request.
    pub lost_reply_rate: f64,
    /// The seed of every draw.
    pub seed: u64,
}

impl Default for FaultProfile {
    /// No faults, no latency, seed 1.
    fn default() -> Self {
        Self {
            creation_latency: Duration::ZERO..Duration::ZERO,
            creation_failure_rate: 0.0,
            creator_panic_rate: 0.0,
            close_panic_rate: 0.0,
            never_connect_rate: 0.0,
            lost_reply_rate: 0.0,
            seed: 1,
        }
    }
}

/// SplitMix64: small, seeded, and good enough to decide faults.
#[derive(Debug, Clone)]
pub(crate) struct Dice(u64);

impl Dice {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// True with probability `rate` (clamped to 0..=1; NaN is 0).
    pub(crate) fn chance(&mut self, rate: f64) -> bool {
        let unit = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        unit < rate
    }

    /// A duration drawn uniformly from `range`.
    pub(crate) fn within(&mut self, range: &Range<Duration>) -> Duration {
        let start = range.start.as_nanos() as u64;
        let end = range.end.as_nanos() as u64;
        if end <= start {
            return range.start;
        }
        Duration::from_nanos(start + self.next_u64() % (end - start))
    }
}
