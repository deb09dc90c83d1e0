//! Every handoff path, once, for leakless and for each contender that has
//! the path: make a single-use channel, pass one `u64`-sized value (or
//! none), end both halves. Each returns the value it received (0 for none),
//! so that nothing is optimised away.
//!
//! Differences in what the contenders do are part of what is measured and
//! are stated in docs/BENCHMARKS.md: leakless's value is a resource with a
//! `close` (here a no-op), its give-up paths close rather than drop, and its
//! take returns an owning guard.

use std::future::{Future, IntoFuture};
use std::hint::black_box;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::task::{Context, Poll, Waker};

use leakless::handoff;

use crate::{Val, floor};

/// One operation: a whole handoff along one path.
pub type Op = fn() -> u64;

/// A path and the contenders that have it, leakless first, the floor last.
#[derive(Debug)]
pub struct Path {
    /// Short name, as in the docs' tables.
    pub name: &'static str,
    /// What happens along the path.
    pub what: &'static str,
    /// (contender, operation).
    pub contenders: &'static [(&'static str, Op)],
}

/// Every path measured.
pub const PATHS: &[Path] = &[
    Path {
        name: "round_trip",
        what: "create, complete with a value, take it (one thread)",
        contenders: &[
            ("leakless", round_trip::leakless),
            ("oneshot", round_trip::oneshot),
            ("tokio_oneshot", round_trip::tokio_oneshot),
            ("futures_oneshot", round_trip::futures_oneshot),
            ("crossbeam_bounded_1", round_trip::crossbeam_bounded_1),
            ("sync_channel_1", round_trip::sync_channel_1),
            ("mutex_condvar", round_trip::mutex_condvar),
            ("floor", floor::round_trip),
        ],
    },
    Path {
        name: "cancel_then_complete",
        what: "the requester gives up, then the creator finishes: the creator disposes of the value",
        contenders: &[
            ("leakless", cancel_then_complete::leakless),
            ("oneshot", cancel_then_complete::oneshot),
            ("tokio_oneshot", cancel_then_complete::tokio_oneshot),
            ("futures_oneshot", cancel_then_complete::futures_oneshot),
            ("floor", floor::cancel_then_complete),
        ],
    },
    Path {
        name: "complete_then_cancel",
        what: "the creator finishes, then the requester gives up: the requester disposes of the value",
        contenders: &[
            ("leakless", complete_then_cancel::leakless),
            ("oneshot", complete_then_cancel::oneshot),
            ("tokio_oneshot", complete_then_cancel::tokio_oneshot),
            ("futures_oneshot", complete_then_cancel::futures_oneshot),
            ("floor", floor::complete_then_cancel),
        ],
    },
    Path {
        name: "abandoned",
        what: "the creator gives up without a value; the requester learns it",
        contenders: &[
            ("leakless", abandoned::leakless),
            ("oneshot", abandoned::oneshot),
            ("tokio_oneshot", abandoned::tokio_oneshot),
            ("futures_oneshot", abandoned::futures_oneshot),
            ("crossbeam_bounded_1", abandoned::crossbeam_bounded_1),
            ("sync_channel_1", abandoned::sync_channel_1),
            ("floor", floor::abandoned),
        ],
    },
    Path {
        name: "awaited_ready",
        what: "complete, then poll the receiving future once (ready)",
        contenders: &[
            ("leakless", awaited::leakless_ready),
            ("oneshot", awaited::oneshot_ready),
            ("tokio_oneshot", awaited::tokio_ready),
            ("futures_oneshot", awaited::futures_ready),
            ("floor", floor::round_trip),
        ],
    },
    Path {
        name: "awaited_pending_then_woken",
        what: "poll (pending, waker registered), complete (wakes), poll (ready)",
        contenders: &[
            ("leakless", awaited::leakless_pending_then_woken),
            ("oneshot", awaited::oneshot_pending_then_woken),
            ("tokio_oneshot", awaited::tokio_pending_then_woken),
            ("futures_oneshot", awaited::futures_pending_then_woken),
            ("floor", floor::pending_then_woken),
        ],
    },
    Path {
        name: "wait_already_there",
        what: "complete, then a blocking wait that finds the value (no park)",
        contenders: &[
            ("leakless", wait_already_there::leakless),
            ("oneshot", wait_already_there::oneshot),
            (
                "crossbeam_bounded_1",
                wait_already_there::crossbeam_bounded_1,
            ),
            ("sync_channel_1", wait_already_there::sync_channel_1),
            ("mutex_condvar", wait_already_there::mutex_condvar),
            ("floor", floor::round_trip),
        ],
    },
];

/// The value every path passes.
fn seven() -> u64 {
    black_box(7)
}

/// A `Mutex<Option<u64>>` and a `Condvar`: the hand-rolled one-slot channel.
type Slot = Arc<(Mutex<Option<u64>>, Condvar)>;

fn fill(slot: &Slot, value: u64) {
    *slot.0.lock().unwrap() = Some(value);
    slot.1.notify_one();
}

fn wait_for(slot: &Slot) -> u64 {
    let mut guard = slot.0.lock().unwrap();
    loop {
        if let Some(value) = guard.take() {
            return value;
        }
        guard = slot.1.wait(guard).unwrap();
    }
}

/// Create, complete, take on one thread.
pub mod round_trip {
    use super::*;

    /// `try_take` of a completed handoff.
    pub fn leakless() -> u64 {
        let (creator, mut requester) = handoff::<Val, ()>();
        let _ = creator.complete(Ok(Val(seven())));
        requester.try_take().unwrap().unwrap().into_inner().0
    }
    /// `send`, `try_recv`.
    pub fn oneshot() -> u64 {
        let (tx, rx) = oneshot::channel::<u64>();
        tx.send(seven()).unwrap();
        rx.try_recv().unwrap()
    }
    /// `send`, `try_recv`.
    pub fn tokio_oneshot() -> u64 {
        let (tx, mut rx) = tokio::sync::oneshot::channel::<u64>();
        tx.send(seven()).unwrap();
        rx.try_recv().unwrap()
    }
    /// `send`, `try_recv`.
    pub fn futures_oneshot() -> u64 {
        let (tx, mut rx) = futures_channel::oneshot::channel::<u64>();
        tx.send(seven()).unwrap();
        rx.try_recv().unwrap().unwrap()
    }
    /// `bounded(1)`, `send`, `try_recv`.
    pub fn crossbeam_bounded_1() -> u64 {
        let (tx, rx) = crossbeam_channel::bounded::<u64>(1);
        tx.send(seven()).unwrap();
        rx.try_recv().unwrap()
    }
    /// `sync_channel(1)`, `send`, `try_recv`.
    pub fn sync_channel_1() -> u64 {
        let (tx, rx) = mpsc::sync_channel::<u64>(1);
        tx.send(seven()).unwrap();
        rx.try_recv().unwrap()
    }
    /// Fill (lock, store, `notify_one`), take (lock, take).
    pub fn mutex_condvar() -> u64 {
        let slot: Slot = Arc::default();
        fill(&slot, seven());
        wait_for(&slot)
    }
}

/// The requester gives up first, then the creator finishes.
pub mod cancel_then_complete {
    use super::*;

    /// `cancel`, then `complete` closes the value (`ClosedLate`).
    pub fn leakless() -> u64 {
        let (creator, requester) = handoff::<Val, ()>();
        let _ = black_box(requester.cancel());
        black_box(creator.complete(Ok(Val(seven())))).is_ok() as u64
    }
    /// Drop the receiver, then `send` hands the value back; dropped.
    pub fn oneshot() -> u64 {
        let (tx, rx) = oneshot::channel::<u64>();
        drop(rx);
        tx.send(seven()).unwrap_err().into_inner()
    }
    /// Drop the receiver, then `send` hands the value back; dropped.
    pub fn tokio_oneshot() -> u64 {
        let (tx, rx) = tokio::sync::oneshot::channel::<u64>();
        drop(rx);
        tx.send(seven()).unwrap_err()
    }
    /// Drop the receiver, then `send` hands the value back; dropped.
    pub fn futures_oneshot() -> u64 {
        let (tx, rx) = futures_channel::oneshot::channel::<u64>();
        drop(rx);
        tx.send(seven()).unwrap_err()
    }
}

/// The creator finishes, then the requester gives up.
pub mod complete_then_cancel {
    use super::*;

    /// `complete`, then `cancel` closes the value (`ClosedReady`).
    pub fn leakless() -> u64 {
        let (creator, requester) = handoff::<Val, ()>();
        let _ = black_box(creator.complete(Ok(Val(seven()))));
        black_box(requester.cancel()).is_ok() as u64
    }
    /// `send`, then drop the receiver (which drops the value).
    pub fn oneshot() -> u64 {
        let (tx, rx) = oneshot::channel::<u64>();
        tx.send(seven()).unwrap();
        drop(black_box(rx));
        1
    }
    /// `send`, then drop the receiver (which drops the value).
    pub fn tokio_oneshot() -> u64 {
        let (tx, rx) = tokio::sync::oneshot::channel::<u64>();
        tx.send(seven()).unwrap();
        drop(black_box(rx));
        1
    }
    /// `send`, then drop the receiver (which drops the value).
    pub fn futures_oneshot() -> u64 {
        let (tx, rx) = futures_channel::oneshot::channel::<u64>();
        tx.send(seven()).unwrap();
        drop(black_box(rx));
        1
    }
}

/// The creator gives up without a value.
pub mod abandoned {
    use super::*;

    /// Drop the creator; `try_take` reports it.
    pub fn leakless() -> u64 {
        let (creator, mut requester) = handoff::<Val, ()>();
        drop(black_box(creator));
        requester.try_take().unwrap().is_err() as u64
    }
    /// Drop the sender; `try_recv` reports it.
    pub fn oneshot() -> u64 {
        let (tx, rx) = oneshot::channel::<u64>();
        drop(black_box(tx));
        rx.try_recv().is_err() as u64
    }
    /// Drop the sender; `try_recv` reports it.
    pub fn tokio_oneshot() -> u64 {
        let (tx, mut rx) = tokio::sync::oneshot::channel::<u64>();
        drop(black_box(tx));
        rx.try_recv().is_err() as u64
    }
    /// Drop the sender; `try_recv` reports it.
    pub fn futures_oneshot() -> u64 {
        let (tx, mut rx) = futures_channel::oneshot::channel::<u64>();
        drop(black_box(tx));
        rx.try_recv().is_err() as u64
    }
    /// Drop the sender; `try_recv` reports it.
    pub fn crossbeam_bounded_1() -> u64 {
        let (tx, rx) = crossbeam_channel::bounded::<u64>(1);
        drop(black_box(tx));
        rx.try_recv().is_err() as u64
    }
    /// Drop the sender; `try_recv` reports it.
    pub fn sync_channel_1() -> u64 {
        let (tx, rx) = mpsc::sync_channel::<u64>(1);
        drop(black_box(tx));
        rx.try_recv().is_err() as u64
    }
}

/// The receiving half as a future, polled with a no-op waker (the same
/// for every contender: the future's cost is measured, not an executor's).
pub mod awaited {
    use super::*;

    fn poll<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
        Pin::new(future).poll(&mut Context::from_waker(Waker::noop()))
    }

    fn ready<F: Future + Unpin>(mut future: F) -> F::Output {
        match poll(&mut future) {
            Poll::Ready(output) => output,
            Poll::Pending => unreachable!("the value was sent before the poll"),
        }
    }

    /// Complete, poll once.
    pub fn leakless_ready() -> u64 {
        let (creator, requester) = handoff::<Val, ()>();
        let _ = creator.complete(Ok(Val(seven())));
        ready(requester).unwrap().into_inner().0
    }
    /// Send, poll once (oneshot's receiver is `IntoFuture`; its future is
    /// pinned on the stack).
    pub fn oneshot_ready() -> u64 {
        let (tx, rx) = oneshot::channel::<u64>();
        tx.send(seven()).unwrap();
        let mut future = std::pin::pin!(rx.into_future());
        match future
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
        {
            Poll::Ready(output) => output.unwrap(),
            Poll::Pending => unreachable!("the value was sent before the poll"),
        }
    }
    /// Send, poll once.
    pub fn tokio_ready() -> u64 {
        let (tx, rx) = tokio::sync::oneshot::channel::<u64>();
        tx.send(seven()).unwrap();
        ready(rx).unwrap()
    }
    /// Send, poll once.
    pub fn futures_ready() -> u64 {
        let (tx, rx) = futures_channel::oneshot::channel::<u64>();
        tx.send(seven()).unwrap();
        ready(rx).unwrap()
    }

    /// Poll (pending), complete (wakes), poll (ready).
    pub fn leakless_pending_then_woken() -> u64 {
        let (creator, mut requester) = handoff::<Val, ()>();
        assert!(poll(&mut requester).is_pending());
        let _ = creator.complete(Ok(Val(seven())));
        ready(requester).unwrap().into_inner().0
    }
    /// Poll (pending), send (wakes), poll (ready).
    pub fn oneshot_pending_then_woken() -> u64 {
        let (tx, rx) = oneshot::channel::<u64>();
        let mut future = std::pin::pin!(rx.into_future());
        let mut cx = Context::from_waker(Waker::noop());
        assert!(future.as_mut().poll(&mut cx).is_pending());
        tx.send(seven()).unwrap();
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(output) => output.unwrap(),
            Poll::Pending => unreachable!("the value was sent before the poll"),
        }
    }
    /// Poll (pending), send (wakes), poll (ready).
    pub fn tokio_pending_then_woken() -> u64 {
        let (tx, mut rx) = tokio::sync::oneshot::channel::<u64>();
        assert!(poll(&mut rx).is_pending());
        tx.send(seven()).unwrap();
        ready(rx).unwrap()
    }
    /// Poll (pending), send (wakes), poll (ready).
    pub fn futures_pending_then_woken() -> u64 {
        let (tx, mut rx) = futures_channel::oneshot::channel::<u64>();
        assert!(poll(&mut rx).is_pending());
        tx.send(seven()).unwrap();
        ready(rx).unwrap()
    }
}

/// Complete, then a blocking wait that finds the value already there.
pub mod wait_already_there {
    use super::*;

    /// `complete`, `wait`.
    pub fn leakless() -> u64 {
        let (creator, mut requester) = handoff::<Val, ()>();
        let _ = creator.complete(Ok(Val(seven())));
        requester.wait().unwrap().into_inner().0
    }
    /// `send`, `recv`.
    pub fn oneshot() -> u64 {
        let (tx, rx) = oneshot::channel::<u64>();
        tx.send(seven()).unwrap();
        rx.recv().unwrap()
    }
    /// `send`, `recv`.
    pub fn crossbeam_bounded_1() -> u64 {
        let (tx, rx) = crossbeam_channel::bounded::<u64>(1);
        tx.send(seven()).unwrap();
        rx.recv().unwrap()
    }
    /// `send`, `recv`.
    pub fn sync_channel_1() -> u64 {
        let (tx, rx) = mpsc::sync_channel::<u64>(1);
        tx.send(seven()).unwrap();
        rx.recv().unwrap()
    }
    /// Fill, then the waiting take (finds it without waiting).
    pub fn mutex_condvar() -> u64 {
        super::round_trip::mutex_condvar()
    }
}
