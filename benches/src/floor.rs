//! The floor: the least a single-use handoff of one value between two
//! parties must do, written out. One allocation holding a state byte, the
//! value and (for the awaited path) a waker slot; one atomic
//! read-modify-write by each side, because each must learn whether the
//! other has finished, and whichever comes second frees; the value moved in
//! and out. No error type, no close, no panic containment, no validation.
//!
//! The awaited path that registers a waker needs two more RMWs: one to
//! publish the registration, and one by the creator to hand the slot back
//! after taking the waker (without it the requester could free the slot
//! while the creator still reads it).

use std::cell::UnsafeCell;
use std::hint::black_box;
use std::mem::MaybeUninit;
use std::sync::atomic::AtomicU8;
use std::sync::atomic::Ordering::AcqRel;
use std::task::Waker;

const DONE: u8 = 1;
const GONE: u8 = 2;
const ABANDONED: u8 = 4;
const WAITING: u8 = 8;

struct Cell {
    state: AtomicU8,
    value: UnsafeCell<MaybeUninit<u64>>,
    waker: UnsafeCell<Option<Waker>>,
}

/// One allocation; `black_box` keeps the compiler from eliding it.
fn allocate() -> *mut Cell {
    black_box(Box::into_raw(Box::new(Cell {
        state: AtomicU8::new(0),
        value: UnsafeCell::new(MaybeUninit::uninit()),
        waker: UnsafeCell::new(None),
    })))
}

/// # Safety
/// `cell` is live and the caller is the side that frees it.
unsafe fn free(cell: *mut Cell) {
    // SAFETY: allocated by `allocate`; the caller is the second side.
    drop(unsafe { Box::from_raw(cell) });
}

/// The creator: writes the value, then one RMW. Returns whether it must
/// dispose of the value and free (the requester is gone).
///
/// # Safety
/// `cell` is live; only the creator writes the value.
unsafe fn complete(cell: *mut Cell, value: u64) -> bool {
    // SAFETY: the creator owns the value slot until its RMW.
    unsafe {
        (*(*cell).value.get()).write(value);
        (*cell).state.fetch_or(DONE, AcqRel) & GONE != 0
    }
}

/// The requester: one RMW; returns the value if the creator had finished
/// (then the requester freed), `None` if not (the creator will free).
///
/// # Safety
/// `cell` is live.
unsafe fn take_or_leave(cell: *mut Cell) -> Option<u64> {
    // SAFETY: live; after an RMW that sees DONE the value is ours and the
    // creator never touches the cell again.
    unsafe {
        let prev = (*cell).state.fetch_or(GONE, AcqRel);
        if prev & (DONE | ABANDONED) == 0 {
            return None;
        }
        let value = if prev & DONE != 0 {
            Some((*(*cell).value.get()).assume_init_read())
        } else {
            None
        };
        free(cell);
        value.or(Some(0))
    }
}

/// Create, complete, take on one thread.
pub fn round_trip() -> u64 {
    let cell = allocate();
    // SAFETY: each side runs once, in an order the protocol allows.
    unsafe {
        let _ = complete(cell, black_box(7));
        take_or_leave(cell).unwrap_or(0)
    }
}

/// The requester gives up first; the creator then disposes of the value.
pub fn cancel_then_complete() -> u64 {
    let cell = allocate();
    // SAFETY: as above.
    unsafe {
        let _ = take_or_leave(cell);
        if complete(cell, black_box(7)) {
            let value = (*(*cell).value.get()).assume_init_read();
            free(cell);
            return value;
        }
    }
    0
}

/// The creator finishes first; the requester gives up and disposes of it.
pub fn complete_then_cancel() -> u64 {
    let cell = allocate();
    // SAFETY: as above.
    unsafe {
        let _ = complete(cell, black_box(7));
        take_or_leave(cell).unwrap_or(0)
    }
}

/// The creator gives up without a value; the requester learns it and frees.
pub fn abandoned() -> u64 {
    let cell = allocate();
    // SAFETY: as above; ABANDONED tells the requester there is no value.
    unsafe {
        let _ = (*cell).state.fetch_or(ABANDONED, AcqRel);
        take_or_leave(cell).unwrap_or(0)
    }
}

/// The awaited path: the requester registers a waker (pending), the
/// creator completes and wakes it, the requester takes the value.
pub fn pending_then_woken() -> u64 {
    let cell = allocate();
    // SAFETY: the slot is the requester's until its WAITING RMW, then the
    // creator's until it clears WAITING.
    unsafe {
        *(*cell).waker.get() = Some(Waker::noop().clone());
        let _pending = (*cell).state.fetch_or(WAITING, AcqRel);
        (*(*cell).value.get()).write(black_box(7));
        let prev = (*cell).state.fetch_or(DONE, AcqRel);
        if prev & WAITING != 0 {
            let waker = (*(*cell).waker.get()).take();
            (*cell).state.fetch_and(!WAITING, AcqRel);
            if let Some(waker) = waker {
                waker.wake();
            }
        }
        take_or_leave(cell).unwrap_or(0)
    }
}
