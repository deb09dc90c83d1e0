//! loom models of the typestate connect over a minimal loom-friendly driver
//! (`support/driver.rs`): every interleaving of a creation finishing with
//! the attempt timing out, closing or dropping, in each state. Each model
//! asserts that every created resource is closed exactly once.
//!
//! Built with `LEAKLESS_MUTANT=naive_connect` (build.rs), the same models run
//! the naive (pre-fix Aeron) cleanup and must fail: `loom-tests/mutants.sh`.
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test --release --test loom_connect`
#![cfg(loom)]

mod support;

use loom::thread;

use leakless::connect::{AsyncConnect, ConnectConfig, Pending, Progress, StateName, Subscribed};
use support::driver::ModelDriver;
use support::{bounded, unbounded};

/// The cleanup policy under test: leakless, or the naive baseline when the
/// models are run as a mutant.
#[cfg(not(leakless_mutant = "naive_connect"))]
type Policy = leakless::connect::Leakless;
#[cfg(leakless_mutant = "naive_connect")]
type Policy = leakless::connect::Naive;

type Attempt<S> = AsyncConnect<S, ModelDriver, Policy>;

fn config(members: i32) -> ConnectConfig {
    (0..members).fold(ConnectConfig::new("sim:model-egress", 102), |config, id| {
        config.member(id, format!("sim:model-member-{id}"))
    })
}

fn start(driver: &ModelDriver, members: i32) -> Attempt<Pending> {
    Attempt::<Pending>::start(driver.clone(), config(members)).unwrap()
}

/// Starts an attempt and takes it to Subscribed, with one publication
/// creation per member stashed in the driver.
fn subscribed(driver: &ModelDriver, members: i32) -> Attempt<Subscribed> {
    let attempt = start(driver, members);
    assert!(driver.complete_subscription());
    match attempt.poll() {
        Progress::Ready(subscribed) => subscribed,
        other => panic!("expected Subscribed, got {other:?}"),
    }
}

/// A one-member attempt taken to Connected (its publication created here).
fn connected(driver: &ModelDriver) -> Attempt<leakless::connect::Connected> {
    let mut attempt = subscribed(driver, 1);
    assert!(driver.complete_publication());
    loop {
        match attempt.poll() {
            Progress::Pending(same) => attempt = same,
            Progress::Ready(client) => return client,
            Progress::Failed(failed) => panic!("unexpected failure: {failed}"),
        }
    }
}

fn assert_timed_out<H, N>(progress: Progress<H, N>, in_state: StateName) {
    match progress {
        Progress::Failed(failed) => assert_eq!(
            failed.error.timed_out_in(),
            Some(in_state),
            "{}",
            failed.error
        ),
        other => panic!("expected a timeout, got {other:?}"),
    }
}

#[derive(Clone, Copy)]
enum GiveUp {
    Close,
    Drop,
}

fn give_up<S: leakless::connect::Stage>(attempt: Attempt<S>, how: GiveUp) {
    match how {
        GiveUp::Close => {
            attempt.close().unwrap();
        }
        GiveUp::Drop => drop(attempt),
    }
}

#[test]
fn timeout_in_pending_vs_subscription_ready() {
    unbounded(|| {
        let driver = ModelDriver::new();
        let attempt = start(&driver, 1);
        driver.race(
            |driver| driver.complete_subscription(),
            || {
                driver.expire();
                assert_timed_out(attempt.poll(), StateName::Pending);
            },
        );
    });
}

#[test]
fn timeout_in_subscribed_vs_publication_ready() {
    unbounded(|| {
        let driver = ModelDriver::new();
        let attempt = subscribed(&driver, 1);
        driver.race(
            |driver| driver.complete_publication(),
            || {
                driver.expire();
                assert_timed_out(attempt.poll(), StateName::Subscribed);
            },
        );
    });
}

fn pending_give_up_vs_subscription_ready(how: GiveUp) {
    unbounded(move || {
        let driver = ModelDriver::new();
        let attempt = start(&driver, 1);
        driver.race(
            |driver| driver.complete_subscription(),
            || {
                give_up(attempt, how);
            },
        );
    });
}

#[test]
fn close_in_pending_vs_subscription_ready() {
    pending_give_up_vs_subscription_ready(GiveUp::Close);
}

#[test]
fn drop_in_pending_vs_subscription_ready() {
    pending_give_up_vs_subscription_ready(GiveUp::Drop);
}

fn subscribed_give_up_vs_publication_ready(how: GiveUp) {
    unbounded(move || {
        let driver = ModelDriver::new();
        let attempt = subscribed(&driver, 1);
        driver.race(
            |driver| driver.complete_publication(),
            || {
                give_up(attempt, how);
            },
        );
    });
}

#[test]
fn close_in_subscribed_vs_publication_ready() {
    subscribed_give_up_vs_publication_ready(GiveUp::Close);
}

#[test]
fn drop_in_subscribed_vs_publication_ready() {
    subscribed_give_up_vs_publication_ready(GiveUp::Drop);
}

/// Two members, both publications pending: the deadline passes (or the
/// attempt is closed) while one thread completes both. Both pending
/// publications are released: taken and closed, or cancelled and closed by
/// their creator. (Forgetting the second one fails this model.)
#[test]
fn timeout_in_subscribed_with_two_pending_vs_both_ready() {
    unbounded(|| {
        let driver = ModelDriver::new();
        let attempt = subscribed(&driver, 2);
        driver.race(
            |driver| {
                driver.complete_publication();
                driver.complete_publication();
            },
            || {
                driver.expire();
                assert_timed_out(attempt.poll(), StateName::Subscribed);
            },
        );
    });
}

/// REDIRECT while connecting: the first member's publication is replaced
/// by one to the leader, which is still pending when the deadline passes
/// (or the attempt is closed) as a thread creates it. The redirected
/// member's publication and the leader's are each closed exactly once.
#[test]
fn redirect_then_timeout_vs_leader_publication_ready() {
    unbounded(|| {
        let driver = ModelDriver::new();
        driver.redirect_next();
        let mut attempt = subscribed(&driver, 1);
        assert!(driver.complete_publication());
        // Poll until the REDIRECT has asked for the leader's publication.
        while driver.stashed_publications() == 0 {
            match attempt.poll() {
                Progress::Pending(same) => attempt = same,
                other => panic!("expected to wait for the leader, got {other:?}"),
            }
        }
        driver.race(
            |driver| driver.complete_publication(),
            || {
                driver.expire();
                assert_timed_out(attempt.poll(), StateName::Subscribed);
            },
        );
    });
}

/// Two members' publications complete on two threads while the attempt
/// polls: the first connected wins, the other is closed (or cancelled and
/// closed by its creator), and closing the client closes the rest.
#[test]
fn two_members_complete_first_wins() {
    bounded(|| {
        let driver = ModelDriver::new();
        let mut attempt = subscribed(&driver, 2);
        let members: Vec<_> = (0..2)
            .map(|_| {
                let driver = driver.clone();
                thread::spawn(move || driver.complete_publication())
            })
            .collect();
        let client = loop {
            match attempt.poll() {
                Progress::Pending(same) => attempt = same,
                Progress::Ready(client) => break client,
                Progress::Failed(failed) => panic!("unexpected failure: {failed}"),
            }
            thread::yield_now();
        };
        for member in members {
            member.join().unwrap();
        }
        assert_eq!(
            driver.live(),
            2,
            "connected with the subscription and the winning publication only"
        );
        client.close().unwrap();
        driver.assert_all_closed_once();
    });
}

/// The async connect, dropped after each number of polls in turn (at each
/// of its await points) while a thread creates the subscription and the
/// publication: whatever was held or pending is closed exactly once.
#[test]
fn connect_async_dropped_at_each_await_point_vs_creations() {
    use std::future::Future;
    use std::task::{Context, Poll, Waker};
    for polls in 0..6 {
        unbounded(move || {
            let driver = ModelDriver::new();
            let mut future = Box::pin(leakless::connect::connect_async_with::<_, Policy, _>(
                driver.clone(),
                config(1),
                leakless::connect::YieldNow,
            ));
            let conductor = {
                let driver = driver.clone();
                thread::spawn(move || {
                    driver.complete_subscription();
                    driver.complete_publication();
                })
            };
            let mut cx = Context::from_waker(Waker::noop());
            let mut connected = None;
            for _ in 0..polls {
                if let Poll::Ready(result) = future.as_mut().poll(&mut cx) {
                    connected = result.ok();
                    break;
                }
            }
            drop(future);
            conductor.join().unwrap();
            if let Some(client) = connected {
                client.close().unwrap();
            }
            driver.assert_all_closed_once();
        });
    }
}

/// Retry: the first attempt times out with its subscription pending; the
/// retry's next attempt starts from that failure and asks for its own,
/// while a thread creates both (the first one late). The late one is closed
/// by its creator, the next attempt's is held and then closed with it:
/// each exactly once, never mixed up.
#[test]
fn retry_next_attempt_vs_the_previous_attempts_late_completion() {
    unbounded(|| {
        let driver = ModelDriver::new();
        let policy = leakless::retry::RetryPolicy {
            max_attempts: 2,
            initial_backoff: std::time::Duration::ZERO,
            max_backoff: std::time::Duration::ZERO,
            ..leakless::retry::RetryPolicy::default()
        };
        let (mut retry, first) =
            leakless::retry::Retry::<_, Policy>::start(policy, driver.clone(), config(1)).unwrap();
        driver.expire();
        let failed = match first.poll() {
            Progress::Failed(failed) => failed,
            other => panic!("expected the first attempt to time out, got {other:?}"),
        };
        driver.renew();
        driver.race(
            |driver| {
                driver.complete_subscription();
                driver.complete_subscription();
            },
            || {
                let second = retry.next(failed).unwrap();
                give_up(second, GiveUp::Close);
            },
        );
    });
}

/// A connected client hears of a new leader and starts a publication to it;
/// the client is closed (or dropped) while a thread creates that
/// publication. The old and the new leader's publications are each closed
/// exactly once: the gap upstream Aeron still has (its
/// `addNewLeaderIngressPublication` gives up without removing the
/// registration) cannot happen here.
#[test]
fn close_while_the_new_leader_publication_is_pending_vs_it_ready() {
    for how in [GiveUp::Close, GiveUp::Drop] {
        unbounded(move || {
            let driver = ModelDriver::new();
            let mut client = connected(&driver);
            driver.announce_new_leader();
            client.poll_egress(|_| {});
            assert_eq!(
                driver.stashed_publications(),
                1,
                "the new leader's, pending"
            );
            driver.race(
                |driver| driver.complete_publication(),
                || {
                    give_up(client, how);
                },
            );
        });
    }
}

/// A connected client, closed or dropped: its session's resources are
/// closed exactly once.
#[test]
fn close_and_drop_in_connected() {
    for how in [GiveUp::Close, GiveUp::Drop] {
        unbounded(move || {
            let driver = ModelDriver::new();
            let client = connected(&driver);
            give_up(client, how);
            driver.assert_all_closed_once();
        });
    }
}
