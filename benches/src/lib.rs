//! The workloads leakless's benches measure, shared by the instruction
//! counts (`benches/instructions.rs`, gungraun), the wall-time benches
//! (`benches/ratios.rs`, `benches/wall.rs`) and the allocation counts
//! (`tests/allocations.rs`), so that all three measure the same code.
//!
//! - [`paths`]: every handoff path, for leakless and each contender that
//!   has it, and for [`floor`], the least any such handoff must do.
//! - [`connect`]: one connect + close cycle, typestate and hand-written,
//!   over an inline zero-latency driver (deterministic: no other thread).
//! - [`two_threads`]: the blocking wait against a completing worker thread.

pub mod connect;
pub mod floor;
pub mod paths;
pub mod two_threads;

/// A resource whose close costs nothing, so that the handoff itself is
/// what is measured.
#[derive(Debug)]
pub struct Val(pub u64);

impl leakless::Close for Val {
    type Error = std::convert::Infallible;
    fn close(self) -> Result<(), Self::Error> {
        std::hint::black_box(self.0);
        Ok(())
    }
}
