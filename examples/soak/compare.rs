//! Whether leakless connected significantly less often than naive: a
//! one-sided two-proportion z-test on the connected counts of one soak.
//!
//! H0: both policies connect with the same probability; the alternative:
//! leakless's is lower. With the pooled rate p and n attempts each side,
//! z = (p_leakless - p_naive) / sqrt(p (1 - p) (1/n_naive + 1/n_leakless)).
//! The soak fails when z < -3.090 (α = 0.001, one-sided): strict, because
//! CI runs four judged soaks and each would otherwise fail one run in a hundred
//! with no real difference; the bug this guards against (192 against 310
//! connects of 2,000) gives z ≈ -5.6. The normal
//! approximation needs a few connects and a few failures on each side;
//! below five of either, the test is not applied (too few to tell).

use crate::workload::Outcome;

/// The one-sided critical value at α = 0.001.
pub const CRITICAL_Z: f64 = -3.090;
/// Fewer connects (or non-connects), summed over both sides, and the
/// normal approximation does not hold.
const TOO_FEW: u64 = 5;

pub struct Rates {
    pub naive: (u64, u64),
    pub leakless: (u64, u64),
    /// `None`: too few connects or failures to test.
    pub z: Option<f64>,
}

impl Rates {
    pub fn of(naive: &Outcome, leakless: &Outcome) -> Rates {
        let naive_counts = (naive.connected, naive.attempts);
        let leakless_counts = (leakless.connected, leakless.attempts);
        Rates {
            naive: naive_counts,
            leakless: leakless_counts,
            z: z(naive_counts, leakless_counts),
        }
    }

    pub fn leakless_significantly_lower(&self) -> bool {
        self.z.is_some_and(|z| z < CRITICAL_Z)
    }

    /// One line for people.
    pub fn summary(&self) -> String {
        let rate = |(connected, attempts): (u64, u64)| {
            format!(
                "{:.1}% ({connected}/{attempts})",
                100.0 * connected as f64 / attempts.max(1) as f64
            )
        };
        let verdict = match self.z {
            None => String::from("too few connects or failures to test"),
            Some(z) if z < CRITICAL_Z => {
                format!("z = {z:+.2} < {CRITICAL_Z}: leakless connects SIGNIFICANTLY LESS often")
            }
            Some(z) => format!("z = {z:+.2}, not significantly lower (fails below {CRITICAL_Z})"),
        };
        format!(
            "connect rate: naive {}, leakless {}; one-sided two-proportion z-test at α = 0.001: {verdict}",
            rate(self.naive),
            rate(self.leakless)
        )
    }
}

/// The z statistic of leakless's rate against naive's, or `None` when the
/// counts are too small for the normal approximation.
fn z(naive: (u64, u64), leakless: (u64, u64)) -> Option<f64> {
    let (connected, attempts) = (naive.0 + leakless.0, naive.1 + leakless.1);
    if connected < TOO_FEW || attempts - connected < TOO_FEW || naive.1 == 0 || leakless.1 == 0 {
        return None;
    }
    let pooled = connected as f64 / attempts as f64;
    let spread =
        (pooled * (1.0 - pooled) * (1.0 / naive.1 as f64 + 1.0 / leakless.1 as f64)).sqrt();
    let (p_naive, p_leakless) = (
        naive.0 as f64 / naive.1 as f64,
        leakless.0 as f64 / leakless.1 as f64,
    );
    Some((p_leakless - p_naive) / spread)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_rates_are_not_lower() {
        assert_eq!(z((250, 1000), (250, 1000)), Some(0.0));
    }

    #[test]
    fn the_outside_checks_figures_are_significantly_lower() {
        // 192 of 2000 against 310 of 2000: the aeron soak before the fix.
        assert!(z((310, 2000), (192, 2000)).unwrap() < CRITICAL_Z);
    }

    #[test]
    fn a_small_difference_is_not() {
        assert!(z((249, 1000), (230, 1000)).unwrap() > CRITICAL_Z);
    }

    #[test]
    fn too_few_connects_are_not_tested() {
        assert_eq!(z((4, 40), (0, 40)), None);
    }
}
