//! Beyond loom's bound: randomized (and PCT) schedules with many threads,
//! from shuttle, over the handoff and the pool's shelf. loom explores every
//! interleaving of 2–3 threads; these run 8 and more threads through
//! thousands of schedules each, and every schedule asserts exactly-once
//! close. (shuttle checks schedules, not memory orderings: that is loom's.)
//!
//! The `shuttle` feature puts leakless's sync facade on shuttle's
//! primitives, so this file needs it:
//!
//! ```sh
//! cargo test --release --features shuttle --test shuttle                    # 10,000 schedules a test
//! SHUTTLE_SCHEDULES=200000 cargo test --release --features shuttle --test shuttle   # long
//! ```
#![cfg(all(feature = "shuttle", not(loom)))]

use shuttle::sync::Arc;
use shuttle::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use shuttle::thread;

use leakless::pool::Shelf;
use leakless::{Close, Requester, handoff};

fn schedules() -> usize {
    std::env::var("SHUTTLE_SCHEDULES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000)
}

/// A resource that counts its closes in a shared slot of its own.
struct Res {
    closes: Arc<AtomicUsize>,
}

impl Close for Res {
    type Error = ();
    fn close(self) -> Result<(), ()> {
        if self.closes.fetch_add(1, SeqCst) > 0 {
            // A second close can only come from a duplicated value: forget
            // it, so the shared count is not released twice, and fail.
            std::mem::forget(self);
            panic!("resource closed twice");
        }
        Ok(())
    }
}

fn resource() -> (Res, Arc<AtomicUsize>) {
    let closes = Arc::new(AtomicUsize::new(0));
    (
        Res {
            closes: closes.clone(),
        },
        closes,
    )
}

/// What a requester thread does with its handoff.
fn request(kind: usize, mut requester: Requester<Res, ()>) {
    match kind % 6 {
        // Polls once (a waker registered), then checks and takes: once
        // is_finished says so, try_take must hand the outcome over.
        5 => {
            let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
            let polled = std::future::Future::poll(std::pin::Pin::new(&mut requester), &mut cx);
            if let std::task::Poll::Ready(Ok(resource)) = polled {
                resource.close().unwrap();
                return;
            }
            while !requester.is_finished() {
                thread::yield_now();
            }
            match requester.try_take() {
                Some(Ok(resource)) => resource.close().unwrap(),
                Some(Err(error)) => panic!("created, yet {error:?}"),
                None => panic!("is_finished, yet try_take refused"),
            }
        }
        // Waits for it and closes it.
        0 => {
            if let Ok(resource) = requester.wait() {
                resource.close().unwrap();
            }
        }
        // Takes it if it is there, else gives up.
        1 => match requester.try_take() {
            Some(Ok(resource)) => resource.close().unwrap(),
            _ => {
                let _ = requester.cancel();
            }
        },
        // Gives up at once.
        2 => {
            let _ = requester.cancel();
        }
        // Drops it.
        3 => drop(requester),
        // A timed wait that may come back empty, then gives up.
        _ => match requester.wait_timeout(std::time::Duration::ZERO) {
            Some(Ok(resource)) => resource.close().unwrap(),
            _ => drop(requester),
        },
    }
}

/// Six handoffs, twelve threads: a creator and a requester each, every
/// requester behaving differently. Each created resource is closed exactly
/// once in every schedule.
fn many_handoffs() {
    let mut closes = Vec::new();
    let mut threads = Vec::new();
    for kind in 0..6 {
        let (creator, requester) = handoff::<Res, ()>();
        let (resource, closed) = resource();
        closes.push(closed);
        threads.push(thread::spawn(move || {
            let _ = creator.complete(Ok(resource));
        }));
        threads.push(thread::spawn(move || request(kind, requester)));
    }
    for thread in threads {
        thread.join().unwrap();
    }
    for (kind, closed) in closes.iter().enumerate() {
        assert_eq!(
            closed.load(SeqCst),
            1,
            "requester kind {kind}: closed exactly once"
        );
    }
}

#[test]
fn many_handoffs_random_schedules() {
    shuttle::check_random(many_handoffs, schedules());
}

#[test]
fn many_handoffs_pct_schedules() {
    shuttle::check_pct(many_handoffs, schedules(), 3);
}

/// The pool's shelf: eight holders check clients out and back in (or
/// discard them) while the pool adds clients and closes; every client comes
/// back exactly once and is closed exactly once.
fn shelf_under_many_holders() {
    let shelf = Arc::new(Shelf::new());
    let mut closes = Vec::new();
    for _ in 0..4 {
        let (client, closed) = resource();
        closes.push(closed);
        shelf
            .add(client)
            .unwrap_or_else(|client| client.close().unwrap());
    }
    let holders: Vec<_> = (0..8)
        .map(|i| {
            let shelf = shelf.clone();
            thread::spawn(move || {
                if let Some(client) = shelf.take() {
                    if i % 3 == 0 {
                        // Unhealthy: closed, not returned.
                        shelf.discard();
                        client.close().unwrap();
                    } else if let Err(client) = shelf.put_back(client) {
                        client.close().unwrap(); // the pool closed first
                    }
                }
            })
        })
        .collect();
    let (late, late_closed) = resource();
    let adder = {
        let shelf = shelf.clone();
        thread::spawn(move || {
            if let Err(client) = shelf.add(late) {
                client.close().unwrap();
            }
        })
    };
    let (idle, _still_out) = shelf.close();
    for client in idle {
        client.close().unwrap();
    }
    for holder in holders {
        holder.join().unwrap();
    }
    adder.join().unwrap();
    closes.push(late_closed);
    for (i, closed) in closes.iter().enumerate() {
        assert_eq!(closed.load(SeqCst), 1, "client {i}: closed exactly once");
    }
}

#[test]
fn shelf_random_schedules() {
    shuttle::check_random(shelf_under_many_holders, schedules());
}

#[test]
fn shelf_pct_schedules() {
    shuttle::check_pct(shelf_under_many_holders, schedules(), 3);
}
