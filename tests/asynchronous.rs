//! The handoff and the connect as futures: on a minimal executor of our
//! own, and with futures dropped at every await point. (Under tokio:
//! `tests/ecosystem/tests/tokio.rs`.)
#![cfg(not(loom))]

mod common;

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::Duration;

use common::Tally;
use leakless::connect::{StateName, YieldNow, connect_async};
use leakless::sim::{Sim, SimConfig};
use leakless::{Cancelled, CreateError, Delivery, handoff};

/// A waker that counts its wakes and unparks the thread that made it.
struct Counting {
    wakes: AtomicUsize,
    thread: thread::Thread,
}

impl Wake for Counting {
    fn wake(self: Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
        self.thread.unpark();
    }
}

fn counting() -> (Arc<Counting>, Waker) {
    let counter = Arc::new(Counting {
        wakes: AtomicUsize::new(0),
        thread: thread::current(),
    });
    (counter.clone(), Waker::from(counter))
}

/// The smallest executor: poll, park until woken, poll again.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let (_, waker) = counting();
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        thread::park();
    }
}

#[test]
fn awaiting_receives_a_completion_from_another_thread() {
    let tally = Tally::new();
    let (creator, requester) = handoff();
    let resource = tally.create();
    let worker = thread::spawn(move || creator.complete(Ok::<_, &str>(resource)));
    let taken = block_on(requester).unwrap();
    assert_eq!(worker.join().unwrap(), Ok(Delivery::Delivered));
    taken.close().unwrap();
    assert_eq!(tally.closed(), 1);
}

#[test]
fn a_completion_wakes_the_registered_waker_once() {
    let (creator, mut requester) = handoff::<common::Counted, &str>();
    let (counter, waker) = counting();
    let mut cx = Context::from_waker(&waker);
    assert!(Pin::new(&mut requester).poll(&mut cx).is_pending());
    let _ = creator.complete(Err("refused"));
    assert_eq!(counter.wakes.load(Ordering::SeqCst), 1);
    match Pin::new(&mut requester).poll(&mut cx) {
        Poll::Ready(Err(CreateError::Failed("refused"))) => {}
        other => panic!("expected the failure, got {other:?}"),
    }
    // After the outcome, the future is spent.
    assert!(matches!(
        Pin::new(&mut requester).poll(&mut cx),
        Poll::Ready(Err(CreateError::Spent))
    ));
}

#[test]
fn re_polling_with_another_waker_moves_the_registration() {
    let (creator, mut requester) = handoff::<common::Counted, &str>();
    let (first, first_waker) = counting();
    let (second, second_waker) = counting();
    assert!(
        Pin::new(&mut requester)
            .poll(&mut Context::from_waker(&first_waker))
            .is_pending()
    );
    assert!(
        Pin::new(&mut requester)
            .poll(&mut Context::from_waker(&second_waker))
            .is_pending()
    );
    drop(creator); // abandoned: wakes whoever is registered
    assert_eq!(first.wakes.load(Ordering::SeqCst), 0);
    assert_eq!(second.wakes.load(Ordering::SeqCst), 1);
    assert!(matches!(
        Pin::new(&mut requester).poll(&mut Context::from_waker(&second_waker)),
        Poll::Ready(Err(CreateError::Abandoned))
    ));
}

#[test]
fn dropping_a_polled_future_gives_up_and_the_late_completion_is_closed() {
    let tally = Tally::new();
    let (creator, mut requester) = handoff::<common::Counted, &str>();
    let (counter, waker) = counting();
    assert!(
        Pin::new(&mut requester)
            .poll(&mut Context::from_waker(&waker))
            .is_pending()
    );
    drop(requester);
    assert_eq!(
        creator.complete(Ok(tally.create())),
        Ok(Delivery::ClosedLate)
    );
    assert_eq!(
        counter.wakes.load(Ordering::SeqCst),
        0,
        "nobody left to wake"
    );
    assert_eq!((tally.closed(), tally.double_closes()), (1, 0));
}

#[test]
fn a_polled_requester_can_still_be_waited_on_or_cancelled() {
    let tally = Tally::new();
    let (creator, mut requester) = handoff::<common::Counted, &str>();
    let (_, waker) = counting();
    assert!(
        Pin::new(&mut requester)
            .poll(&mut Context::from_waker(&waker))
            .is_pending()
    );
    assert!(requester.wait_timeout(Duration::from_millis(1)).is_none());
    assert!(
        Pin::new(&mut requester)
            .poll(&mut Context::from_waker(&waker))
            .is_pending()
    );
    assert_eq!(requester.cancel(), Ok(Cancelled::WhilePending));
    assert_eq!(
        creator.complete(Ok(tally.create())),
        Ok(Delivery::ClosedLate)
    );
    assert_eq!(tally.closed(), 1);
}

// ---- the connect as a future --------------------------------------------------

#[test]
fn connect_async_on_a_minimal_executor_times_out_and_releases() {
    let sim = Sim::start(SimConfig::default()).expect("a valid simulation");
    sim.pause();
    let config = sim.connect_config().timeout(Duration::from_millis(5));
    let failed = match block_on(connect_async(sim.driver(), config, &YieldNow)) {
        Err(failed) => failed,
        Ok(_) => panic!("the driver is paused"),
    };
    assert_eq!(failed.error.timed_out_in(), Some(StateName::Pending));
    sim.resume();
    sim.settle();
    assert_eq!(sim.ledger().live(), 0);
}

/// Drops the connect future after each number of polls in turn: whatever
/// the await point, everything held or pending is released.
#[test]
fn dropping_the_connect_future_at_any_await_point_releases_everything() {
    let sim = Sim::start(SimConfig::default()).expect("a valid simulation");
    let (_, waker) = counting();
    let mut cx = Context::from_waker(&waker);
    for polls in 1..40 {
        let mut future = Box::pin(connect_async(sim.driver(), sim.connect_config(), &YieldNow));
        let mut finished = false;
        for _ in 0..polls {
            if let Poll::Ready(result) = future.as_mut().poll(&mut cx) {
                if let Ok(client) = result {
                    client.close().unwrap();
                }
                finished = true;
                break;
            }
            // Let the simulated driver make progress between polls.
            thread::sleep(Duration::from_micros(50));
        }
        drop(future);
        sim.settle();
        let ledger = sim.ledger();
        assert_eq!(
            ledger.live(),
            0,
            "after {polls} polls (finished: {finished}): {ledger:?}"
        );
    }
    assert_eq!(sim.ledger().double_closes, 0);
}
