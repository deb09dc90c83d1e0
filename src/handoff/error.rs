//! What a requester can learn about a creation other than a resource.

/// Why a handoff delivered no resource.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreateError<E> {
    /// The creator reported that creation failed.
    #[error("resource creation failed: {0}")]
    Failed(#[source] E),
    /// The creator was dropped without completing (it returned early or
    /// panicked). Nothing was created; start a new request to retry.
    #[error(
        "resource creation was abandoned: the creator was dropped without completing; nothing was created, start a new request to retry"
    )]
    Abandoned,
    /// This requester already delivered its outcome. A handoff is single-use:
    /// start a new request for another resource.
    #[error(
        "this handoff already delivered its outcome; a handoff is single-use, start a new request"
    )]
    Spent,
}

/// What the creator's [`complete`](crate::Creator::complete) did with the outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "a late close tells you a requester gave up; count it"]
pub enum Delivery {
    /// The requester is still there and now owns the outcome.
    Delivered,
    /// The requester had given up; the created resource was closed here
    /// (a late completion, closed exactly once).
    ClosedLate,
    /// The requester had given up and the outcome was an error: there was
    /// nothing to close.
    Discarded,
}

/// What a requester's [`cancel`](crate::Requester::cancel) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "a late close tells you a creation finished after its deadline; count it"]
pub enum Cancelled {
    /// Creation was still in progress; the creator closes the resource when
    /// it finishes.
    WhilePending,
    /// Creation had finished but the resource was not taken: it was closed
    /// here.
    ClosedLate,
    /// There was nothing to close: creation failed or was abandoned, or the
    /// outcome was already taken.
    NothingToClose,
}

impl Cancelled {
    /// Whether this cancel closed a resource itself.
    pub fn closed_resource(self) -> bool {
        self == Cancelled::ClosedLate
    }
}
