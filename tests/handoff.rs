//! Every state transition of the handoff, one test each, on std threads.
#![cfg(not(loom))]

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::thread;
use std::time::{Duration, Instant};

use common::{CloseFailed, Tally};
use leakless::{Cancelled, CloseError, CreateError, Delivery, handoff};

type Pair = (
    leakless::Creator<common::Counted, &'static str>,
    leakless::Requester<common::Counted, &'static str>,
);

fn pair() -> Pair {
    handoff()
}

#[test]
fn try_take_before_complete_is_none() {
    let (creator, mut requester) = pair();
    assert!(requester.try_take().is_none());
    assert!(!requester.is_finished());
    drop(creator);
}

#[test]
fn complete_ok_then_take_hands_over_the_resource() {
    let tally = Tally::new();
    let (creator, mut requester) = pair();
    assert_eq!(
        creator.complete(Ok(tally.create())),
        Ok(Delivery::Delivered)
    );
    assert!(requester.is_finished());
    let resource = requester.try_take().unwrap().unwrap();
    assert_eq!(tally.closed(), 0, "taking does not close");
    resource.close().unwrap();
    assert_eq!((tally.created(), tally.closed()), (1, 1));
}

#[test]
fn complete_err_then_take_reports_the_failure() {
    let (creator, mut requester) = pair();
    assert_eq!(creator.complete(Err("no space")), Ok(Delivery::Delivered));
    let error = requester.try_take().unwrap().unwrap_err();
    assert_eq!(error, CreateError::Failed("no space"));
}

#[test]
fn creator_dropped_then_take_reports_abandoned() {
    let (creator, mut requester) = pair();
    drop(creator);
    assert_eq!(
        requester.try_take().unwrap().unwrap_err(),
        CreateError::Abandoned
    );
}

#[test]
fn second_take_is_spent() {
    let tally = Tally::new();
    let (creator, mut requester) = pair();
    let _ = creator.complete(Ok(tally.create()));
    let _resource = requester.try_take().unwrap().unwrap();
    assert_eq!(
        requester.try_take().unwrap().unwrap_err(),
        CreateError::Spent
    );
    assert_eq!(requester.wait().unwrap_err(), CreateError::Spent);
    assert_eq!(requester.cancel(), Ok(Cancelled::NothingToClose));
}

#[test]
fn cancel_then_complete_closes_late_on_the_creator_side() {
    let tally = Tally::new();
    let (creator, requester) = pair();
    assert_eq!(requester.cancel(), Ok(Cancelled::WhilePending));
    assert_eq!(
        creator.complete(Ok(tally.create())),
        Ok(Delivery::ClosedLate)
    );
    assert_eq!((tally.closed(), tally.double_closes()), (1, 0));
}

#[test]
fn complete_then_cancel_closes_late_on_the_requester_side() {
    let tally = Tally::new();
    let (creator, requester) = pair();
    assert_eq!(
        creator.complete(Ok(tally.create())),
        Ok(Delivery::Delivered)
    );
    let cancelled = requester.cancel().unwrap();
    assert_eq!(cancelled, Cancelled::ClosedLate);
    assert!(cancelled.closed_resource());
    assert_eq!((tally.closed(), tally.double_closes()), (1, 0));
}

#[test]
fn cancel_then_complete_err_discards() {
    let (creator, requester) = pair();
    let _ = requester.cancel();
    assert_eq!(creator.complete(Err("refused")), Ok(Delivery::Discarded));
}

#[test]
fn complete_err_then_cancel_has_nothing_to_close() {
    let (creator, requester) = pair();
    let _ = creator.complete(Err("refused"));
    assert_eq!(requester.cancel(), Ok(Cancelled::NothingToClose));
}

#[test]
fn creator_dropped_then_cancel_has_nothing_to_close() {
    let (creator, requester) = pair();
    drop(creator);
    assert_eq!(requester.cancel(), Ok(Cancelled::NothingToClose));
}

#[test]
fn cancel_then_creator_dropped_is_quiet() {
    let (creator, requester) = pair();
    assert_eq!(requester.cancel(), Ok(Cancelled::WhilePending));
    drop(creator);
}

#[test]
fn requester_dropped_then_complete_closes_late() {
    let tally = Tally::new();
    let (creator, requester) = pair();
    drop(requester);
    assert_eq!(
        creator.complete(Ok(tally.create())),
        Ok(Delivery::ClosedLate)
    );
    assert_eq!(tally.closed(), 1);
}

#[test]
fn complete_then_requester_dropped_closes() {
    let tally = Tally::new();
    let (creator, requester) = pair();
    let _ = creator.complete(Ok(tally.create()));
    drop(requester);
    assert_eq!((tally.closed(), tally.double_closes()), (1, 0));
}

#[test]
fn dropping_the_guard_closes_and_into_inner_does_not() {
    let tally = Tally::new();
    let (creator, mut requester) = pair();
    let _ = creator.complete(Ok(tally.create()));
    drop(requester.try_take().unwrap().unwrap());
    assert_eq!(tally.closed(), 1);

    let (creator, mut requester) = pair();
    let _ = creator.complete(Ok(tally.create()));
    let raw = requester.try_take().unwrap().unwrap().into_inner();
    assert_eq!(tally.closed(), 1, "into_inner hands closing to the caller");
    leakless::Close::close(raw).unwrap();
    assert_eq!(tally.closed(), 2);
}

#[test]
fn close_error_while_cancelling_is_returned() {
    let tally = Tally::new();
    let (creator, requester) = pair();
    let mut resource = tally.create();
    resource.fail_close = true;
    let _ = creator.complete(Ok(resource));
    assert_eq!(requester.cancel(), Err(CloseError::Failed(CloseFailed)));
    assert_eq!(tally.closed(), 1);
}

#[test]
fn close_error_on_the_creator_side_is_returned_from_complete() {
    let tally = Tally::new();
    let (creator, requester) = pair();
    let _ = requester.cancel();
    let mut resource = tally.create();
    resource.fail_close = true;
    assert_eq!(
        creator.complete(Ok(resource)),
        Err(CloseError::Failed(CloseFailed))
    );
    assert_eq!(tally.closed(), 1);
}

const PANIC: &str = "close panicked (on purpose)";

#[test]
fn panicking_close_in_cancel_is_caught_and_reported() {
    let tally = Tally::new();
    let (creator, requester) = pair();
    let mut resource = tally.create();
    resource.panic_on_close = true;
    let _ = creator.complete(Ok(resource));
    assert_eq!(
        requester.cancel(),
        Err(CloseError::Panicked(PANIC.to_string()))
    );
    assert_eq!((tally.closed(), tally.double_closes()), (1, 0));
}

#[test]
fn panicking_close_in_complete_is_caught_and_reported() {
    let tally = Tally::new();
    let (creator, requester) = pair();
    let _ = requester.cancel();
    let mut resource = tally.create();
    resource.panic_on_close = true;
    assert_eq!(
        creator.complete(Ok(resource)),
        Err(CloseError::Panicked(PANIC.to_string()))
    );
    assert_eq!((tally.closed(), tally.double_closes()), (1, 0));
}

#[test]
fn panicking_close_never_unwinds_out_of_a_drop() {
    let tally = Tally::new();
    // The requester dropped with a finished, untaken resource.
    let (creator, requester) = pair();
    let mut resource = tally.create();
    resource.panic_on_close = true;
    let _ = creator.complete(Ok(resource));
    assert!(catch_unwind(AssertUnwindSafe(|| drop(requester))).is_ok());
    // An Owned guard dropped.
    let (creator, mut requester) = pair();
    let mut resource = tally.create();
    resource.panic_on_close = true;
    let _ = creator.complete(Ok(resource));
    let guard = requester.try_take().unwrap().unwrap();
    assert!(catch_unwind(AssertUnwindSafe(|| drop(guard))).is_ok());
    assert_eq!((tally.closed(), tally.double_closes()), (2, 0));
}

#[test]
fn panicking_closes_during_another_panic_do_not_abort() {
    // Two guards whose closes panic, dropped while a panic unwinds: before,
    // the second close's panic aborted the process ("panic in a destructor
    // during cleanup"). Reaching the assertions is the test.
    let tally = Tally::new();
    let guards: Vec<_> = (0..2)
        .map(|_| {
            let (creator, mut requester) = pair();
            let mut resource = tally.create();
            resource.panic_on_close = true;
            let _ = creator.complete(Ok(resource));
            requester.try_take().unwrap().unwrap()
        })
        .collect();
    let unwound = catch_unwind(AssertUnwindSafe(move || {
        let _guards = guards;
        panic!("the owner's own panic");
    }));
    assert!(unwound.is_err());
    assert_eq!((tally.closed(), tally.double_closes()), (2, 0));
}

#[test]
fn close_catching_reports_a_panic_and_close_lets_it_through() {
    let tally = Tally::new();
    let (creator, mut requester) = pair();
    let mut resource = tally.create();
    resource.panic_on_close = true;
    let _ = creator.complete(Ok(resource));
    let guard = requester.try_take().unwrap().unwrap();
    assert_eq!(
        guard.close_catching(),
        Err(CloseError::Panicked(PANIC.to_string()))
    );
    let (creator, mut requester) = pair();
    let mut resource = tally.create();
    resource.panic_on_close = true;
    let _ = creator.complete(Ok(resource));
    let guard = requester.try_take().unwrap().unwrap();
    assert!(catch_unwind(AssertUnwindSafe(|| guard.close())).is_err());
    assert_eq!((tally.closed(), tally.double_closes()), (2, 0));
}

#[test]
fn creator_panicking_on_its_thread_is_seen_as_abandoned() {
    let (creator, mut requester) = pair();
    let worker = thread::spawn(move || {
        let _creator = creator;
        panic!("driver crashed (on purpose)");
    });
    assert!(worker.join().is_err());
    assert_eq!(requester.wait().unwrap_err(), CreateError::Abandoned);
}

#[test]
fn wait_receives_a_completion_from_another_thread() {
    let tally = Tally::new();
    let (creator, mut requester) = pair();
    let resource = tally.create();
    let worker = thread::spawn(move || creator.complete(Ok(resource)));
    let taken = requester.wait().unwrap();
    assert_eq!(worker.join().unwrap(), Ok(Delivery::Delivered));
    taken.close().unwrap();
    assert_eq!(tally.closed(), 1);
}

#[test]
fn wait_until_a_passed_deadline_leaves_the_request_pending() {
    let tally = Tally::new();
    let (creator, mut requester) = pair();
    assert!(requester.wait_until(Instant::now()).is_none());
    assert!(requester.wait_timeout(Duration::from_millis(1)).is_none());
    // Still usable after a timed-out wait: the creator can complete...
    assert_eq!(
        creator.complete(Ok(tally.create())),
        Ok(Delivery::Delivered)
    );
    // ...and the next wait takes it at once.
    let taken = requester
        .wait_until(Instant::now() + Duration::from_secs(60))
        .unwrap()
        .unwrap();
    drop(taken);
    assert_eq!(tally.closed(), 1);
}

#[test]
fn timed_wait_then_cancel_closes_the_late_completion_exactly_once() {
    let tally = Tally::new();
    let (creator, mut requester) = pair();
    let (go, gate) = std::sync::mpsc::channel::<()>();
    let resource = tally.create();
    let worker = thread::spawn(move || {
        gate.recv().unwrap();
        creator.complete(Ok(resource))
    });
    assert!(requester.wait_timeout(Duration::from_millis(5)).is_none());
    assert_eq!(requester.cancel(), Ok(Cancelled::WhilePending));
    go.send(()).unwrap();
    assert_eq!(worker.join().unwrap(), Ok(Delivery::ClosedLate));
    assert_eq!((tally.closed(), tally.double_closes()), (1, 0));
}

#[test]
fn wait_timeout_of_a_huge_duration_is_an_untimed_wait() {
    let (creator, mut requester) = pair();
    let worker = thread::spawn(move || drop(creator));
    let outcome = requester.wait_timeout(Duration::MAX).unwrap();
    assert_eq!(outcome.unwrap_err(), CreateError::Abandoned);
    worker.join().unwrap();
}

#[test]
fn error_messages_say_what_to_do() {
    let failed: CreateError<std::io::Error> =
        CreateError::Failed(std::io::Error::other("driver timeout"));
    assert_eq!(
        failed.to_string(),
        "resource creation failed: driver timeout"
    );
    assert!(std::error::Error::source(&failed).is_some());
    assert!(
        CreateError::<std::io::Error>::Abandoned
            .to_string()
            .contains("start a new request")
    );
}

#[test]
fn creator_sees_the_requester_give_up() {
    let (creator, requester) = pair();
    assert!(!creator.is_cancelled());
    let _ = requester.cancel();
    assert!(creator.is_cancelled());
    drop(creator);
}

#[test]
fn is_finished_then_try_take_agree_on_real_threads() {
    // The pattern users write, after a poll registered a waker, against a
    // creator on another thread: once is_finished says so, try_take must
    // hand over the outcome (it once refused while the creator was handing
    // the waker's slot back).
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Waker};
    let tally = Tally::new();
    for _ in 0..2_000 {
        let (creator, mut requester) = pair();
        let mut cx = Context::from_waker(Waker::noop());
        assert!(Pin::new(&mut requester).poll(&mut cx).is_pending());
        let resource = tally.create();
        let completer = thread::spawn(move || creator.complete(Ok(resource)));
        while !requester.is_finished() {
            std::hint::spin_loop();
        }
        let taken = requester
            .try_take()
            .expect("is_finished, so try_take hands it over");
        taken.unwrap().close().unwrap();
        let _ = completer.join().unwrap();
    }
    assert_eq!(
        (tally.created(), tally.closed(), tally.double_closes()),
        (2_000, 2_000, 0)
    );
}
