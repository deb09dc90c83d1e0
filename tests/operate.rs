//! Operating it: retries that cannot overlap, metrics, the timeout alarm,
//! and the pool, over the simulation.
#![cfg(not(loom))]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use leakless::connect::{
    Backoff, ConfigError, ConnectError, Leakless, StateName, connect_observed,
};
use leakless::observe::{Metrics, Observer, TimeoutAlarm};
use leakless::pool::{Pool, PoolConfig, PoolError};
use leakless::retry::{self, GaveUp, Retry, RetryPolicy};
use leakless::sim::{FaultProfile, Sim, SimConfig};

fn lossy(rate: f64) -> Sim {
    Sim::start(SimConfig {
        faults: FaultProfile {
            lost_reply_rate: rate,
            ..FaultProfile::default()
        },
        ..SimConfig::default()
    })
    .expect("a valid simulation")
}

fn quick() -> RetryPolicy {
    RetryPolicy {
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(4),
        ..RetryPolicy::default()
    }
}

fn assert_clean(sim: &Sim) {
    sim.settle();
    let ledger = sim.ledger();
    assert_eq!((ledger.live(), ledger.double_closes), (0, 0), "{ledger:?}");
}

// ---- retry ------------------------------------------------------------------

#[test]
fn retry_gets_through_lost_replies() {
    let sim = lossy(0.5);
    let policy = RetryPolicy {
        max_attempts: 30,
        ..quick()
    };
    // An attempt whose reply was lost times out once the simulation is
    // quiet (the frozen clock jumps), one that got its reply connects:
    // neither depends on the machine's speed.
    let client = retry::connect(
        policy,
        sim.driver(),
        sim.connect_config(),
        &mut sim.expire_when_quiet(),
    )
    .unwrap();
    client.close().unwrap();
    assert_clean(&sim);
}

#[test]
fn retry_gives_up_after_max_attempts_with_the_history() {
    let sim = lossy(1.0);
    let policy = RetryPolicy {
        max_attempts: 3,
        ..quick()
    };
    // Each attempt goes as far as the simulation lets it (the request sent,
    // no reply), then its deadline passes: in Subscribed, however loaded
    // the machine.
    let error = retry::connect(
        policy,
        sim.driver(),
        sim.connect_config(),
        &mut sim.expire_when_quiet(),
    )
    .unwrap_err();
    assert_eq!(error.reason, GaveUp::AttemptsExhausted);
    assert_eq!(error.attempts.len(), 3);
    for (index, attempt) in error.attempts.iter().enumerate() {
        assert_eq!(attempt.number, index as u32 + 1);
        assert_eq!(attempt.timed_out_in, Some(StateName::Subscribed));
        assert_eq!(attempt.released.subscriptions, 1);
    }
    assert!(
        error
            .attempts
            .windows(2)
            .all(|w| w[0].ended_after < w[1].ended_after)
    );
    assert!(error.to_string().contains("after 3 attempt(s)"));
    assert_clean(&sim);
}

#[test]
fn retry_does_not_retry_rejected_credentials() {
    let sim = Sim::start(SimConfig {
        credentials: Some(b"secret".to_vec()),
        ..SimConfig::default()
    })
    .expect("a valid simulation");
    let config = sim.connect_config().credentials("wrong");
    let error = retry::connect(quick(), sim.driver(), config, &mut Backoff::default()).unwrap_err();
    assert_eq!(error.reason, GaveUp::NotTransient);
    assert_eq!(error.attempts.len(), 1);
    assert!(matches!(
        error.last,
        ConnectError::AuthenticationRejected { .. }
    ));
    assert_clean(&sim);
}

#[test]
fn retry_stops_at_the_budget() {
    let sim = lossy(1.0);
    let config = sim.connect_config().timeout(Duration::from_millis(10));
    let policy = RetryPolicy {
        max_attempts: 1_000,
        budget: Duration::from_millis(30),
        ..quick()
    };
    let error = retry::connect(policy, sim.driver(), config, &mut Backoff::default()).unwrap_err();
    assert_eq!(error.reason, GaveUp::BudgetExhausted);
    assert!(error.attempts.len() < 1_000);
    assert_clean(&sim);
}

#[test]
fn the_next_attempt_starts_only_from_the_previous_failure() {
    let sim = lossy(1.0);
    let config = sim.connect_config().timeout(Duration::from_millis(5));
    let (mut retry, first) = Retry::<_, Leakless>::start(quick(), sim.driver(), config).unwrap();
    let failed = match leakless::connect::connect_with::<_, Leakless>(
        sim.driver(),
        sim.connect_config().timeout(Duration::from_millis(5)),
        &mut Backoff::default(),
    ) {
        Err(failed) => failed,
        Ok(_) => panic!("replies are lost"),
    };
    drop(first);
    // The failure token is what starts the next attempt.
    let second = retry.next(failed).unwrap();
    assert_eq!(retry.history().len(), 1);
    drop(second);
    assert_clean(&sim);
}

// ---- metrics and the alarm ----------------------------------------------------

#[test]
fn metrics_count_starts_successes_timeouts_and_releases() {
    let sim = lossy(0.0);
    let metrics = Metrics::default();
    let client = connect_observed::<_, Leakless>(
        sim.driver(),
        sim.connect_config(),
        &mut Backoff::default(),
        &metrics,
    )
    .unwrap();
    client.close().unwrap();
    sim.pause();
    let failed = connect_observed::<_, Leakless>(
        sim.driver(),
        sim.connect_config().timeout(Duration::from_millis(5)),
        &mut Backoff::default(),
        &metrics,
    );
    assert!(failed.is_err());
    sim.resume();
    let snapshot = metrics.snapshot();
    assert_eq!((snapshot.started, snapshot.succeeded), (2, 1));
    assert_eq!(snapshot.timed_out_in(StateName::Pending), 1);
    assert_eq!(snapshot.timed_out_total(), 1);
    assert_eq!(snapshot.cancelled, 1, "the pending subscription");
    assert!(snapshot.latency_quantile(1.0) > Duration::ZERO);
    assert_clean(&sim);
}

#[test]
fn timeout_alarm_fires_when_creations_time_out() {
    let sim = lossy(0.0);
    sim.pause();
    let warnings = Arc::new(AtomicUsize::new(0));
    let counted = warnings.clone();
    let alarm = TimeoutAlarm::new(Metrics::default(), 4, 0.5, move |_| {
        counted.fetch_add(1, Ordering::Relaxed);
    });
    for _ in 0..4 {
        let _ = connect_observed::<_, Leakless>(
            sim.driver(),
            sim.connect_config().timeout(Duration::from_millis(2)),
            &mut Backoff::default(),
            &alarm,
        );
    }
    assert_eq!(warnings.load(Ordering::Relaxed), 1);
    assert_eq!(alarm.inner().snapshot().timed_out_total(), 4);
    sim.resume();
    assert_clean(&sim);
}

#[cfg(feature = "metrics")]
mod facade {
    use std::sync::{Arc, Mutex};

    use metrics::{
        Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit,
    };

    /// Remembers the names of the counters that were registered.
    #[derive(Default)]
    struct Names(Arc<Mutex<Vec<String>>>);

    impl Recorder for Names {
        fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
            self.0.lock().unwrap().push(key.name().to_owned());
            Counter::noop()
        }
        fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
            Gauge::noop()
        }
        fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
            self.0.lock().unwrap().push(key.name().to_owned());
            Histogram::noop()
        }
    }

    #[test]
    fn the_facade_adapter_reports_to_the_installed_recorder() {
        use leakless::observe::{MetricsFacade, Observer};
        let recorder = Names::default();
        let names = recorder.0.clone();
        metrics::with_local_recorder(&recorder, || {
            MetricsFacade.connect_started();
            MetricsFacade.connected(std::time::Duration::from_millis(1));
            MetricsFacade.timed_out(leakless::connect::StateName::Pending);
        });
        let names = names.lock().unwrap();
        for expected in [
            "leakless_connects_started",
            "leakless_connects_succeeded",
            "leakless_connect_latency_seconds",
            "leakless_connects_timed_out",
        ] {
            assert!(
                names.iter().any(|n| n == expected),
                "{expected} in {names:?}"
            );
        }
    }
}

// ---- the pool -----------------------------------------------------------------

#[test]
fn settings_that_cannot_work_are_refused_not_adjusted() {
    let sim = lossy(0.0);
    let empty = Pool::<_>::start(sim.driver(), PoolConfig::new(0, sim.connect_config()));
    match empty {
        Err(PoolError::Config(ConfigError::InvalidSetting(why))) => {
            assert!(why.contains("pool size is 0"), "{why}")
        }
        other => panic!("expected the pool size refused, got {:?}", other.err()),
    }
    let no_attempts = RetryPolicy {
        max_attempts: 0,
        ..quick()
    };
    match retry::connect(
        no_attempts,
        sim.driver(),
        sim.connect_config(),
        &mut Backoff::default(),
    ) {
        Err(error) => {
            assert!(error.attempts.is_empty(), "nothing was tried");
            assert!(
                error.last.to_string().contains("max_attempts is 0"),
                "{error}"
            );
        }
        Ok(_) => panic!("max_attempts 0 must be refused"),
    }
    assert_clean(&sim);
}

#[test]
fn pool_lends_and_takes_back_then_closes_everything() {
    let sim = lossy(0.0);
    let pool: Pool<_> =
        Pool::start(sim.driver(), PoolConfig::new(3, sim.connect_config())).expect("a valid pool");
    {
        let mut first = pool.check_out(Duration::from_secs(5)).unwrap();
        let second = pool.check_out(Duration::from_secs(5)).unwrap();
        assert_ne!(first.session_id(), second.session_id());
        first.offer(b"ping").unwrap();
        assert_eq!(pool.counts().1, 2);
    }
    assert_eq!(pool.counts().1, 0);
    let audit = pool.close();
    assert_eq!(audit.still_checked_out, 0);
    assert_eq!(audit.clients_closed, audit.connected);
    assert!(audit.connected >= 2);
    assert_eq!(sim.open_sessions(), 0, "every session closed");
    assert_clean(&sim);
    assert!(matches!(
        pool.check_out(Duration::from_millis(1)),
        Err(PoolError::Closed)
    ));
}

#[test]
fn pool_replaces_a_client_whose_leader_changed() {
    let sim = lossy(0.0);
    let pool: Pool<_> =
        Pool::start(sim.driver(), PoolConfig::new(1, sim.connect_config())).expect("a valid pool");
    let first = pool.check_out(Duration::from_secs(5)).unwrap().session_id();
    sim.elect(2).expect("a member of the cluster");
    let replacement = pool.check_out(Duration::from_secs(5)).unwrap();
    assert_ne!(replacement.session_id(), first);
    assert_eq!(replacement.leader_member_id(), 2);
    drop(replacement);
    let audit = pool.close();
    assert_eq!(audit.unhealthy, 1);
    assert_clean(&sim);
}

#[test]
fn pool_closed_while_a_client_is_out_closes_it_on_return() {
    let sim = lossy(0.0);
    let pool: Pool<_> =
        Pool::start(sim.driver(), PoolConfig::new(1, sim.connect_config())).expect("a valid pool");
    let out = pool.check_out(Duration::from_secs(5)).unwrap();
    let audit = pool.close();
    assert_eq!(audit.still_checked_out, 1);
    sim.settle(); // losing members' publications cancelled while pending
    assert_eq!(
        sim.ledger().live(),
        2,
        "the lent client's subscription and publication"
    );
    drop(out);
    assert_clean(&sim);
}

#[test]
fn pool_check_out_times_out_when_nothing_can_connect() {
    let sim = lossy(0.0);
    sim.pause();
    let pool: Pool<_> =
        Pool::start(sim.driver(), PoolConfig::new(1, sim.connect_config())).expect("a valid pool");
    assert_eq!(
        pool.check_out(Duration::from_millis(20)).err(),
        Some(PoolError::Timeout(Duration::from_millis(20)))
    );
    pool.close();
    sim.resume();
    assert_clean(&sim);
}

#[test]
fn observer_sees_the_pool_connect() {
    let sim = lossy(0.0);
    let metrics = Arc::new(Metrics::default());
    let pool: Pool<_> = Pool::start_observed(
        sim.driver(),
        PoolConfig::new(2, sim.connect_config()),
        metrics.clone(),
    )
    .expect("a valid pool");
    drop(pool.check_out(Duration::from_secs(5)).unwrap());
    pool.close();
    let snapshot = metrics.snapshot();
    assert!(snapshot.succeeded >= 1);
    assert!(snapshot.started >= snapshot.succeeded);
    let _: &dyn Observer = &*metrics;
    assert_clean(&sim);
}
