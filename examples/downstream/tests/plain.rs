//! Ordinary tests. A loom build (`RUSTFLAGS="--cfg loom"`) compiles
//! leakless on loom's primitives, which only work inside `loom::model`: so
//! these are kept out of loom builds, as leakless's docs say.
#![cfg(not(loom))]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use leakless_downstream::{Counted, ask, take_or_give_up};

#[test]
fn taken_when_ready_and_closed_once() {
    let closes = Arc::new(AtomicUsize::new(0));
    let (creator, requester) = ask();
    let _ = creator.complete(Ok(Counted(closes.clone())));
    assert!(take_or_give_up(requester));
    assert_eq!(closes.load(SeqCst), 1);
}

#[test]
fn given_up_when_not_ready_and_closed_once_later() {
    let closes = Arc::new(AtomicUsize::new(0));
    let (creator, requester) = ask();
    assert!(!take_or_give_up(requester));
    let _ = creator.complete(Ok(Counted(closes.clone())));
    assert_eq!(closes.load(SeqCst), 1);
}
