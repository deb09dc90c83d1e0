//! This crate's own loom model over leakless's handoff: the creator on one
//! thread, `take_or_give_up` on another; in every interleaving the resource
//! is closed exactly once. Run with `RUSTFLAGS="--cfg loom" cargo test`.
#![cfg(loom)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use leakless_downstream::{Counted, ask, take_or_give_up};

#[test]
fn complete_vs_take_or_give_up_closes_exactly_once() {
    loom::model(|| {
        // A std counter is fine here: it is only read after both threads
        // are joined, and it is not what the model explores.
        let closes = Arc::new(AtomicUsize::new(0));
        let (creator, requester) = ask();
        let resource = Counted(closes.clone());
        let creating = loom::thread::spawn(move || {
            let _ = creator.complete(Ok(resource));
        });
        take_or_give_up(requester);
        creating.join().unwrap();
        assert_eq!(closes.load(SeqCst), 1, "closed exactly once");
    });
}
