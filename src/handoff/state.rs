//! The handoff's state word: four bits, each set exactly once by one side.
//!
//! Every transition is a single atomic read-modify-write whose *returned*
//! previous value decides what the caller does next; no decision is made by
//! re-reading the word. That is what makes "whoever comes second closes"
//! exactly-once: of the two RMWs that set [`DONE`] and [`GONE`], exactly one
//! sees the other's bit.
//!
//! | state               | meaning                                    | who may touch the cell |
//! |---------------------|--------------------------------------------|------------------------|
//! | `0`                 | creating; requester interested             | creator (writes)       |
//! | `WAITING`           | creating; requester parked                 | creator (writes)       |
//! | `DONE`              | outcome published                          | requester (takes)      |
//! | `DONE \| ABANDONED` | creator dropped without an outcome         | nobody (empty)         |
//! | `DONE \| WAITING`   | outcome published, waiter being woken      | creator (waiter slot)  |
//! | `GONE`              | requester gave up first                    | creator (closes)       |
//! | `DONE \| GONE`      | terminal: the second side freed everything | nobody (freed)         |

/// Set by the creator, once, when it finishes: with an outcome written to the
/// cell by `complete`, or together with [`ABANDONED`] when dropped.
/// Release: publishes the cell. Acquire: sees the requester's last accesses
/// when [`GONE`] was already set and the creator must close and free.
pub(crate) const DONE: u8 = 0b0001;

/// Set with [`DONE`] by a creator dropped without completing (including
/// during a panic unwind). The cell stays empty.
pub(crate) const ABANDONED: u8 = 0b0010;

/// Set by the requester, once, when it gives up (cancel or drop). After
/// setting it the requester never touches the allocation again unless
/// [`DONE`] was already set, in which case it closes and frees.
pub(crate) const GONE: u8 = 0b0100;

/// Set by a requester about to park, after it wrote its thread into the
/// waiter slot; cleared by whichever side ends the wait. While it is set
/// together with [`DONE`], the creator owns the waiter slot and the requester
/// must not free the allocation.
pub(crate) const WAITING: u8 = 0b1000;
