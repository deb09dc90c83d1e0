//! Allocations per operation, counted exactly by a global allocator: the
//! same on every run. Asserts leakless's targets (one allocation per
//! handoff, none on cancel, take or a parked wait) and prints every
//! contender's counts for docs/BENCHMARKS.md:
//!
//! `cargo test --release -p leakless-benches --test allocations -- --nocapture`
#![cfg(not(loom))]
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::time::Duration;

use leakless::handoff;
use leakless_benches::Val;
use leakless_benches::connect::{self, InlineDriver};
use leakless_benches::paths::PATHS;

/// Counts the calling thread's allocations and bytes.
struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
    static BYTES: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; the counting touches only
// const-initialised thread-locals without destructors.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|n| n.set(n.get() + 1));
        let _ = BYTES.try_with(|n| n.set(n.get() + layout.size() as u64));
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCS.try_with(|n| n.set(n.get() + 1));
        let _ = BYTES.try_with(|n| n.set(n.get() + new_size as u64));
        // SAFETY: the caller's contract, passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// (allocations, bytes) the calling thread made while running `f`.
fn counted<R>(f: impl FnOnce() -> R) -> (u64, u64, R) {
    let (a, b) = (ALLOCS.with(Cell::get), BYTES.with(Cell::get));
    let result = f();
    (
        ALLOCS.with(Cell::get) - a,
        BYTES.with(Cell::get) - b,
        result,
    )
}

/// Per operation, averaged over many (each path allocates the same every
/// time, so this is exact once warm).
fn per_op(op: fn() -> u64) -> (f64, f64) {
    const N: u64 = 1000;
    op(); // warm: lazily initialised thread-locals of the contenders
    let (allocs, bytes, _) = counted(|| {
        for _ in 0..N {
            std::hint::black_box(op());
        }
    });
    (allocs as f64 / N as f64, bytes as f64 / N as f64)
}

#[test]
fn every_path_of_leakless_allocates_once_and_the_table() {
    for path in PATHS {
        println!(
            "\n| {} | allocations / op | bytes / op |\n|---|---:|---:|",
            path.name
        );
        for &(contender, op) in path.contenders {
            let (allocs, bytes) = per_op(op);
            println!("| {contender} | {allocs} | {bytes} |");
            if contender == "leakless" {
                assert_eq!(allocs, 1.0, "{}: one allocation per handoff", path.name);
            }
        }
    }
}

#[test]
fn cancel_and_take_allocate_nothing() {
    let (creator, requester) = handoff::<Val, ()>();
    let (allocs, _, _) = counted(|| requester.cancel());
    assert_eq!(allocs, 0, "cancel");
    let (allocs, _, _) = counted(|| creator.complete(Ok(Val(7))));
    assert_eq!(allocs, 0, "a complete that closes late");

    let (creator, mut requester) = handoff::<Val, ()>();
    let _ = creator.complete(Ok(Val(7)));
    let (allocs, _, taken) = counted(|| requester.try_take());
    assert!(matches!(taken, Some(Ok(_))));
    assert_eq!(allocs, 0, "take");
}

/// A blocking wait that parks registers the thread's own handle, which
/// allocates nothing (before this release it allocated a 24-byte `Arc`
/// waker). The creator completes 20 ms after the waiter said it is about to
/// wait, long after the wait's spin phase, so the wait has parked (unless
/// the waiter was descheduled for all of that time, which does not change
/// the count asserted).
#[test]
fn a_parked_wait_allocates_nothing() {
    for _ in 0..5 {
        let (creator, mut requester) = handoff::<Val, ()>();
        let waiting = Arc::new(AtomicBool::new(false));
        let about_to_wait = waiting.clone();
        let waiter = std::thread::spawn(move || {
            // This thread's lazily made handle, before counting.
            let _ = std::thread::current();
            about_to_wait.store(true, SeqCst);
            let (allocs, _, outcome) = counted(|| requester.wait());
            assert!(outcome.is_ok());
            allocs
        });
        while !waiting.load(SeqCst) {
            std::thread::yield_now();
        }
        std::thread::sleep(Duration::from_millis(20));
        let _ = creator.complete(Ok(Val(7)));
        assert_eq!(waiter.join().unwrap(), 0, "a parked wait allocated");
    }
}

#[test]
fn connect_cycle_allocations() {
    let driver = InlineDriver::default();
    let config = connect::one_member();
    println!("\n| connect_cycle | allocations / op | bytes / op |\n|---|---:|---:|");
    for (name, cycle) in [
        (
            "typestate",
            connect::typestate_cycle::<InlineDriver> as fn(&_, &_) -> i64,
        ),
        ("hand_written", connect::hand_written_cycle::<InlineDriver>),
    ] {
        cycle(&driver, &config);
        let (allocs, bytes, _) = counted(|| cycle(&driver, &config));
        println!("| {name} | {allocs} | {bytes} |");
        assert!(
            allocs > 0,
            "a cycle creates two resources and encodes messages"
        );
    }
}
