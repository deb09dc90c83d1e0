//! A user of leakless: a "lazy subscription" that asks a background creator
//! for a resource and either takes it or gives up, built on
//! [`leakless::handoff`]. Its own tests show how a downstream crate tests
//! such code with loom, and keeps its ordinary tests out of loom builds.

use leakless::{Close, Creator, Requester, handoff};

/// A resource that counts its closes, so tests can assert exactly once.
#[derive(Debug)]
pub struct Counted(pub std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl Close for Counted {
    type Error = std::convert::Infallible;
    fn close(self) -> Result<(), Self::Error> {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }
}

/// Asks for a resource: the creator half goes to whoever creates it.
pub fn ask() -> (Creator<Counted, String>, Requester<Counted, String>) {
    handoff()
}

/// Takes the resource if it is there, else gives up on it (the handoff
/// then closes it when it arrives). Returns whether it was taken.
pub fn take_or_give_up(mut requester: Requester<Counted, String>) -> bool {
    match requester.try_take() {
        Some(Ok(resource)) => {
            let _ = resource.close();
            true
        }
        _ => {
            let _ = requester.cancel();
            false
        }
    }
}
