//! Deliberate bugs, compiled in only with the `leakless_mutant` cfg (which
//! build.rs sets from the `LEAKLESS_MUTANT` environment variable), so
//! `loom-tests/mutants.sh` can show that the loom models catch them.
//!
//! Each is a `const bool` the optimiser removes from a normal build. (A
//! fourth mutant, `naive_connect`, needs no code here: the connect models
//! switch to the naive cleanup policy, `connect::Naive`.)

/// The Aeron #1574 bug: the requester gives up without marking the state,
/// so a creation that finishes later is never closed.
pub(crate) const AERON_1574: bool = cfg!(leakless_mutant = "aeron_1574");

/// Each side decides whether it came second by re-reading the state after
/// its own RMW instead of using the value the RMW returned: both can see
/// both bits and both close.
pub(crate) const BOTH_CLOSE: bool = cfg!(leakless_mutant = "both_close");

/// The creator publishes the outcome with `Relaxed` instead of the
/// release/acquire pair: the requester may read the cell before the write.
pub(crate) const RELAXED_PUBLISH: bool = cfg!(leakless_mutant = "relaxed_publish");

/// An awaiting requester registers its waker without checking whether the
/// outcome arrived meanwhile: the creator, already finished, never wakes it.
pub(crate) const LOST_WAKE: bool = cfg!(leakless_mutant = "lost_wake");

/// `try_take` refuses an outcome while the creator is still handing back
/// a registered waker's slot (the behaviour before 0.2): `is_finished()`
/// can then be true while `try_take()` returns `None`.
pub(crate) const REFUSING_TAKE: bool = cfg!(leakless_mutant = "refusing_take");

/// The creator's load that finds `GONE` set is `Relaxed` instead of
/// `Acquire`: the requester's last accesses no longer happen-before the
/// creator's close and free.
pub(crate) const RELAXED_GONE_LOAD: bool = cfg!(leakless_mutant = "relaxed_gone_load");

/// The requester sets `GONE` with `Release` instead of `AcqRel`: when the
/// creator finished first, the requester frees without acquiring the
/// creator's last accesses.
pub(crate) const RELEASE_ONLY_GONE: bool = cfg!(leakless_mutant = "release_only_gone");

/// The creator clears `WAITING` with `Relaxed` instead of `Release`: its
/// access to the waiter slot no longer happens-before the requester's free.
pub(crate) const RELAXED_WAITING_CLEAR: bool = cfg!(leakless_mutant = "relaxed_waiting_clear");

/// An attempt in Subscribed releases its first member's publication and
/// forgets the second: a multi-member leak only a model with two pending
/// publications sees.
pub(crate) const FORGET_SECOND_PUBLICATION: bool =
    cfg!(leakless_mutant = "forget_second_publication");

/// A connected client closed while its new leader's publication is pending
/// forgets that publication: upstream Aeron's remaining gap
/// (`addNewLeaderIngressPublication`, since 1.50.0).
pub(crate) const FORGET_NEW_LEADER_PUBLICATION: bool =
    cfg!(leakless_mutant = "forget_new_leader_publication");

/// A timed wait whose deadline passed withdraws its registration with a
/// plain store instead of a compare-exchange: a completion that landed at
/// that moment is erased, and nobody closes the resource.
pub(crate) const BLIND_WITHDRAW: bool = cfg!(leakless_mutant = "blind_withdraw");

/// The bit the BOTH_CLOSE mutant uses to keep itself memory-safe; never set
/// in a normal build.
pub(crate) const FIRST_OUT: u8 = 0b1_0000;
