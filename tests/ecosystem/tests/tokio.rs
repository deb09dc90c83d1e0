//! The handoff and the connect under tokio: awaited on its runtime, dropped
//! by its timeout, the connect spawned as a task with tokio's timer.
#![cfg(not(loom))]

#[path = "../../common/mod.rs"]
mod common;

use std::time::Duration;

use common::Tally;
use leakless::connect::{Sleep, connect_async};
use leakless::sim::{Sim, SimConfig};
use leakless::{Delivery, handoff};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn awaited_under_tokio() {
    let tally = Tally::new();
    let (creator, requester) = handoff::<common::Counted, &str>();
    let resource = tally.create();
    let worker = tokio::task::spawn_blocking(move || creator.complete(Ok(resource)));
    let taken = requester.await.unwrap();
    assert_eq!(worker.await.unwrap(), Ok(Delivery::Delivered));
    drop(taken);
    assert_eq!(tally.closed(), 1);
}

#[tokio::test]
async fn a_tokio_timeout_drops_the_future_and_the_late_completion_is_closed() {
    let tally = Tally::new();
    let (creator, requester) = handoff::<common::Counted, &str>();
    let timed_out = tokio::time::timeout(Duration::from_millis(5), requester).await;
    assert!(timed_out.is_err());
    assert_eq!(
        creator.complete(Ok(tally.create())),
        Ok(Delivery::ClosedLate)
    );
    assert_eq!(tally.closed(), 1);
}

// ---- the connect as a future --------------------------------------------------

/// Tokio's timer as the connect's pause: what `leakless::connect::TokioSleep`
/// (feature `tokio`) is, written here so that this member does not turn the
/// feature on for the whole workspace.
struct TokioSleep;

impl Sleep for TokioSleep {
    type Pause = tokio::time::Sleep;
    fn sleep(&self, duration: Duration) -> Self::Pause {
        tokio::time::sleep(duration)
    }
}

// ---- --------------------------------------------------

#[tokio::test]
async fn connect_async_under_tokio() {
    let sim = Sim::start(SimConfig::default()).expect("a valid simulation");
    let mut client = connect_async(sim.driver(), sim.connect_config(), &TokioSleep)
        .await
        .unwrap();
    client.offer(b"hello").unwrap();
    client.close().unwrap();
    sim.settle();
    assert_eq!(sim.ledger().live(), 0);
}

#[tokio::test]
async fn connect_async_moves_into_a_spawned_task_with_an_owned_sleeper() {
    let sim = Sim::start(SimConfig::default()).expect("a valid simulation");
    // Owned and 'static: the future does not borrow the sleeper.
    let task = tokio::spawn(connect_async(
        sim.driver(),
        sim.connect_config(),
        TokioSleep,
    ));
    let client = task.await.expect("the task ran").expect("connected");
    client.close().unwrap();
    sim.settle();
    assert_eq!(sim.ledger().live(), 0);
}
