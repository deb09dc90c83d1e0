//! Random races of complete / cancel / drop / timeout / await on real threads:
//! what loom cannot check (real time, real scheduling, many rounds).
#![cfg(not(loom))]

mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc;
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

use common::{Counted, Rng, Tally};
use leakless::{Creator, Delivery, handoff};

const ROUNDS: u64 = 100_000;

/// Busy-waits a random short while, so the two sides meet at varying points.
fn jitter(rng: &mut Rng) {
    for _ in 0..rng.below(64) {
        std::hint::spin_loop();
    }
}

#[test]
fn random_races_close_every_created_resource_exactly_once() {
    let tally = Tally::new();
    let (to_creator, creators) = mpsc::channel::<Creator<Counted, &'static str>>();

    let creator_side = {
        let tally = tally.clone();
        thread::spawn(move || {
            let mut rng = Rng::new(0x5eed_c0de);
            let mut late_closes = 0u64;
            for creator in creators {
                jitter(&mut rng);
                match rng.below(4) {
                    0 => drop(creator), // abandoned, as by a panicking driver
                    1 => {
                        let _ = creator.complete(Err("creation failed"));
                    }
                    _ => {
                        if creator.complete(Ok(tally.create())) == Ok(Delivery::ClosedLate) {
                            late_closes += 1;
                        }
                    }
                }
            }
            late_closes
        })
    };

    let mut rng = Rng::new(0xdead_beef);
    let mut late_closes = 0u64;
    for _ in 0..ROUNDS {
        let (creator, mut requester) = handoff();
        to_creator.send(creator).unwrap();
        jitter(&mut rng);
        match rng.below(6) {
            0 => {
                if requester.cancel().unwrap().closed_resource() {
                    late_closes += 1;
                }
            }
            1 => drop(requester),
            2 => {
                if let Some(Ok(resource)) = requester.try_take() {
                    resource.close().unwrap();
                }
            }
            3 => {
                // A deadline of a few microseconds: a timeout, then give up.
                let deadline = Instant::now() + Duration::from_micros(rng.below(20));
                match requester.wait_until(deadline) {
                    Some(outcome) => drop(outcome),
                    None => {
                        if requester.cancel().unwrap().closed_resource() {
                            late_closes += 1;
                        }
                    }
                }
            }
            4 => drop(requester.wait()),
            _ => {
                // Awaited once (a waker registered), then given up: the
                // registration is taken back as the requester goes.
                let mut cx = Context::from_waker(Waker::noop());
                if let Poll::Ready(Ok(resource)) = Pin::new(&mut requester).poll(&mut cx) {
                    resource.close().unwrap();
                } else if requester.cancel().unwrap().closed_resource() {
                    late_closes += 1;
                }
            }
        }
    }
    drop(to_creator);
    late_closes += creator_side.join().unwrap();

    assert!(
        tally.created() > ROUNDS as usize / 3,
        "the workload created resources"
    );
    assert_eq!(tally.double_closes(), 0, "no resource closed twice");
    assert_eq!(
        tally.created(),
        tally.closed(),
        "every created resource closed"
    );
    assert!(late_closes > 0, "some races ended in a late close");
}
