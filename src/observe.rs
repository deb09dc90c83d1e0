//! Watching connects: an [`Observer`] trait with a no-op default, [`Metrics`]
//! (counters and a latency histogram), and [`TimeoutAlarm`], a warning hook
//! for when timeouts exceed a rate. No global registry is forced on you; the
//! `metrics` feature adds an adapter for the `metrics` facade crate.

use std::time::Duration;

use crate::connect::{ConnectError, Failed, Released, StateName};
use crate::sync::os::atomic_order::Relaxed;
use crate::sync::os::{AtomicU64, Mutex};

/// Told what connects do. Every method has a no-op default; `()` observes
/// nothing.
pub trait Observer: Send + Sync {
    /// An attempt started.
    fn connect_started(&self) {}
    /// An attempt connected, `latency` after it started.
    fn connected(&self, latency: Duration) {
        let _ = latency;
    }
    /// An attempt timed out in `state`.
    fn timed_out(&self, state: StateName) {
        let _ = state;
    }
    /// An attempt failed for a reason other than its deadline.
    fn failed(&self, error: &ConnectError) {
        let _ = error;
    }
    /// An attempt or a client released resources: pending creations
    /// cancelled, late completions closed, close errors.
    fn released(&self, released: &Released) {
        let _ = released;
    }
}

impl Observer for () {}

/// Tells `observer` how an attempt failed (timed out, and where, or failed
/// otherwise), then what it released.
pub(crate) fn report_failure(observer: &(impl Observer + ?Sized), failed: &Failed) {
    match failed.error.timed_out_in() {
        Some(state) => observer.timed_out(state),
        None => observer.failed(&failed.error),
    }
    observer.released(&failed.released);
}

/// Log-2 buckets of microseconds: bucket `i` holds latencies below `2^i` µs.
const BUCKETS: usize = 40;

/// Counters of connects and a connect-latency histogram; lock-free to
/// update, cheap to share (`Arc<Metrics>` is an [`Observer`] too).
///
/// ```
/// use std::time::Duration;
/// use leakless::observe::{Metrics, Observer};
///
/// let metrics = Metrics::default();
/// metrics.connect_started();
/// metrics.connected(Duration::from_micros(300));
/// let snapshot = metrics.snapshot();
/// assert_eq!((snapshot.started, snapshot.succeeded), (1, 1));
/// assert!(snapshot.latency_quantile(0.5) <= Duration::from_micros(512));
/// ```
#[derive(Debug)]
pub struct Metrics {
    started: AtomicU64,
    succeeded: AtomicU64,
    timed_out: [AtomicU64; 3],
    failed: AtomicU64,
    cancelled: AtomicU64,
    closed_late: AtomicU64,
    close_errors: AtomicU64,
    latency: [AtomicU64; BUCKETS],
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            started: AtomicU64::new(0),
            succeeded: AtomicU64::new(0),
            timed_out: std::array::from_fn(|_| AtomicU64::new(0)),
            failed: AtomicU64::new(0),
            cancelled: AtomicU64::new(0),
            closed_late: AtomicU64::new(0),
            close_errors: AtomicU64::new(0),
            latency: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

fn state_index(state: StateName) -> usize {
    match state {
        StateName::Pending => 0,
        StateName::Subscribed => 1,
        StateName::Connected => 2,
    }
}

/// The counts of a [`Metrics`] at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsSnapshot {
    /// Attempts started.
    pub started: u64,
    /// Attempts connected.
    pub succeeded: u64,
    /// Attempts timed out in Pending, Subscribed, Connected.
    pub timed_out: [u64; 3],
    /// Attempts failed otherwise.
    pub failed: u64,
    /// Pending creations cancelled.
    pub cancelled: u64,
    /// Late completions closed by the giving-up side.
    pub closed_late: u64,
    /// Closes that returned an error.
    pub close_errors: u64,
    /// Connect latencies: `latency[i]` counts those below `2^i` µs (and at
    /// or above `2^(i-1)`).
    pub latency: [u64; BUCKETS],
}

impl MetricsSnapshot {
    /// Attempts timed out in `state`.
    pub fn timed_out_in(&self, state: StateName) -> u64 {
        self.timed_out[state_index(state)]
    }

    /// All timeouts.
    pub fn timed_out_total(&self) -> u64 {
        self.timed_out.iter().sum()
    }

    /// An upper bound of the latency at `quantile` (0..=1); zero if none.
    pub fn latency_quantile(&self, quantile: f64) -> Duration {
        let total: u64 = self.latency.iter().sum();
        if total == 0 {
            return Duration::ZERO;
        }
        let rank = ((total as f64 * quantile.clamp(0.0, 1.0)).ceil() as u64).max(1);
        let mut seen = 0;
        for (bucket, count) in self.latency.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return Duration::from_micros(1u64 << bucket);
            }
        }
        Duration::from_micros(1u64 << (BUCKETS - 1))
    }
}

impl Metrics {
    /// The counts now.
    pub fn snapshot(&self) -> MetricsSnapshot {
        let load = |counter: &AtomicU64| counter.load(Relaxed);
        MetricsSnapshot {
            started: load(&self.started),
            succeeded: load(&self.succeeded),
            timed_out: std::array::from_fn(|i| load(&self.timed_out[i])),
            failed: load(&self.failed),
            cancelled: load(&self.cancelled),
            closed_late: load(&self.closed_late),
            close_errors: load(&self.close_errors),
            latency: std::array::from_fn(|i| load(&self.latency[i])),
        }
    }
}

// ORDERING: Relaxed throughout: each counter is independent, and a snapshot
// is a set of separate readings, not a consistent cut.
impl Observer for Metrics {
    fn connect_started(&self) {
        self.started.fetch_add(1, Relaxed);
    }
    fn connected(&self, latency: Duration) {
        self.succeeded.fetch_add(1, Relaxed);
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        let bucket = (64 - micros.leading_zeros() as usize).min(BUCKETS - 1);
        self.latency[bucket].fetch_add(1, Relaxed);
    }
    fn timed_out(&self, state: StateName) {
        self.timed_out[state_index(state)].fetch_add(1, Relaxed);
    }
    fn failed(&self, _error: &ConnectError) {
        self.failed.fetch_add(1, Relaxed);
    }
    fn released(&self, released: &Released) {
        self.cancelled.fetch_add(released.cancelled as u64, Relaxed);
        self.closed_late
            .fetch_add(released.closed_late as u64, Relaxed);
        self.close_errors
            .fetch_add(released.close_errors.len() as u64, Relaxed);
    }
}

impl<O: Observer + ?Sized> Observer for std::sync::Arc<O> {
    fn connect_started(&self) {
        (**self).connect_started()
    }
    fn connected(&self, latency: Duration) {
        (**self).connected(latency)
    }
    fn timed_out(&self, state: StateName) {
        (**self).timed_out(state)
    }
    fn failed(&self, error: &ConnectError) {
        (**self).failed(error)
    }
    fn released(&self, released: &Released) {
        (**self).released(released)
    }
}

/// Passes everything on to an inner observer, and calls a warning hook when
/// the share of timeouts among the last `window` finished attempts exceeds
/// `threshold` ("monitor creation timeouts with sane thresholds").
///
/// ```
/// use std::sync::{Arc, atomic::{AtomicUsize, Ordering}};
/// use leakless::connect::StateName;
/// use leakless::observe::{Observer, TimeoutAlarm};
///
/// let warnings = Arc::new(AtomicUsize::new(0));
/// let counted = warnings.clone();
/// let alarm = TimeoutAlarm::new((), 4, 0.5, move |rate| {
///     assert!(rate > 0.5);
///     counted.fetch_add(1, Ordering::Relaxed);
/// });
/// for _ in 0..3 {
///     alarm.timed_out(StateName::Pending);
/// }
/// assert_eq!(warnings.load(Ordering::Relaxed), 1); // 3 of 3 > 50%: warned once
/// ```
pub struct TimeoutAlarm<O> {
    inner: O,
    window: usize,
    threshold: f64,
    /// The last outcomes (true: timed out), and whether the alarm is raised.
    recent: Mutex<(std::collections::VecDeque<bool>, bool)>,
    hook: Box<dyn Fn(f64) + Send + Sync>,
}

impl<O: std::fmt::Debug> std::fmt::Debug for TimeoutAlarm<O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimeoutAlarm")
            .field("inner", &self.inner)
            .field("window", &self.window)
            .field("threshold", &self.threshold)
            .finish_non_exhaustive()
    }
}

impl<O: Observer> TimeoutAlarm<O> {
    /// Watches the last `window` attempts (at least 1); calls `hook` with
    /// the rate when it rises above `threshold`, once until it falls back.
    pub fn new(
        inner: O,
        window: usize,
        threshold: f64,
        hook: impl Fn(f64) + Send + Sync + 'static,
    ) -> Self {
        Self {
            inner,
            window: window.max(1),
            threshold,
            recent: Mutex::new((std::collections::VecDeque::new(), false)),
            hook: Box::new(hook),
        }
    }

    /// The inner observer.
    pub fn inner(&self) -> &O {
        &self.inner
    }

    fn record(&self, timed_out: bool) {
        let rate = {
            let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
            let (outcomes, raised) = &mut *recent;
            outcomes.push_back(timed_out);
            if outcomes.len() > self.window {
                outcomes.pop_front();
            }
            let rate = outcomes.iter().filter(|t| **t).count() as f64 / outcomes.len() as f64;
            let above = rate > self.threshold;
            let fire = above && !*raised;
            *raised = above;
            fire.then_some(rate)
        };
        if let Some(rate) = rate {
            (self.hook)(rate);
        }
    }
}

impl<O: Observer> Observer for TimeoutAlarm<O> {
    fn connect_started(&self) {
        self.inner.connect_started()
    }
    fn connected(&self, latency: Duration) {
        self.record(false);
        self.inner.connected(latency)
    }
    fn timed_out(&self, state: StateName) {
        self.record(true);
        self.inner.timed_out(state)
    }
    fn failed(&self, error: &ConnectError) {
        self.record(false);
        self.inner.failed(error)
    }
    fn released(&self, released: &Released) {
        self.inner.released(released)
    }
}

/// Reports to the `metrics` facade crate (feature `metrics`): counters
/// `leakless_connects_started`, `_succeeded`, `_timed_out` (label `state`),
/// `_failed`, `leakless_creations_cancelled`, `leakless_late_closes`,
/// `leakless_close_errors`, and histogram `leakless_connect_latency_seconds`.
#[cfg(feature = "metrics")]
#[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
#[derive(Debug, Clone, Copy, Default)]
pub struct MetricsFacade;

#[cfg(feature = "metrics")]
impl Observer for MetricsFacade {
    fn connect_started(&self) {
        metrics::counter!("leakless_connects_started").increment(1);
    }
    fn connected(&self, latency: Duration) {
        metrics::counter!("leakless_connects_succeeded").increment(1);
        metrics::histogram!("leakless_connect_latency_seconds").record(latency.as_secs_f64());
    }
    fn timed_out(&self, state: StateName) {
        metrics::counter!("leakless_connects_timed_out", "state" => state.to_string()).increment(1);
    }
    fn failed(&self, _error: &ConnectError) {
        metrics::counter!("leakless_connects_failed").increment(1);
    }
    fn released(&self, released: &Released) {
        metrics::counter!("leakless_creations_cancelled").increment(released.cancelled as u64);
        metrics::counter!("leakless_late_closes").increment(released.closed_late as u64);
        metrics::counter!("leakless_close_errors").increment(released.close_errors.len() as u64);
    }
}
