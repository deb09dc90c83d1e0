//! Helpers shared by the integration tests: a resource that counts its
//! closes, and a small seeded random generator.
#![allow(dead_code)] // each test file uses a different subset

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use leakless::Close;

#[cfg(all(feature = "java-cluster", not(loom)))]
pub mod cluster;

/// Counts resources created and closed, and closes of a resource that was
/// already closed.
#[derive(Debug, Default)]
pub struct Tally {
    pub created: AtomicUsize,
    pub closed: AtomicUsize,
    pub double_closes: AtomicUsize,
}

impl Tally {
    pub fn new() -> Arc<Self> {
        Arc::default()
    }

    pub fn create(self: &Arc<Self>) -> Counted {
        self.created.fetch_add(1, SeqCst);
        Counted {
            tally: Arc::clone(self),
            closes: Arc::new(AtomicUsize::new(0)),
            fail_close: false,
            panic_on_close: false,
        }
    }

    pub fn created(&self) -> usize {
        self.created.load(SeqCst)
    }

    pub fn closed(&self) -> usize {
        self.closed.load(SeqCst)
    }

    pub fn double_closes(&self) -> usize {
        self.double_closes.load(SeqCst)
    }
}

/// A resource that records its close in its [`Tally`].
#[derive(Debug)]
pub struct Counted {
    tally: Arc<Tally>,
    /// Shared by every copy of this resource, so a duplicated value that is
    /// closed twice is seen.
    closes: Arc<AtomicUsize>,
    pub fail_close: bool,
    pub panic_on_close: bool,
}

#[derive(Debug, PartialEq, Eq)]
pub struct CloseFailed;

impl Close for Counted {
    type Error = CloseFailed;
    fn close(self) -> Result<(), CloseFailed> {
        if self.closes.fetch_add(1, SeqCst) > 0 {
            self.tally.double_closes.fetch_add(1, SeqCst);
        }
        self.tally.closed.fetch_add(1, SeqCst);
        if self.panic_on_close {
            panic!("close panicked (on purpose)");
        }
        if self.fail_close {
            Err(CloseFailed)
        } else {
            Ok(())
        }
    }
}

/// xorshift64*: deterministic, seeded, good enough to vary a race.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}
