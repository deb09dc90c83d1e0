//! The [`Close`] trait: resources that must be released explicitly.

/// A resource that must be released explicitly, such as a subscription or a
/// publication on a media driver.
///
/// `close` consumes the resource, so a closed resource cannot be used or
/// closed again: "closed exactly once" is a fact of the type system wherever
/// the resource is held by value. leakless's handoff and guards make the same
/// true across threads, for a resource that is still being created when its
/// requester gives up.
///
/// # Example
///
/// ```
/// use leakless::Close;
///
/// struct Subscription { id: u64 }
///
/// impl Close for Subscription {
///     type Error = std::io::Error;
///     fn close(self) -> Result<(), Self::Error> {
///         // tell the driver to remove subscription `self.id` ...
///         Ok(())
///     }
/// }
///
/// Subscription { id: 7 }.close().unwrap();
/// ```
pub trait Close {
    /// What can go wrong while releasing the resource.
    type Error;

    /// Releases the resource.
    ///
    /// An error means the release was attempted and failed; the resource is
    /// consumed either way and must not be released again.
    fn close(self) -> Result<(), Self::Error>;
}

/// Why closing a resource did not succeed: its `close` returned an error,
/// or it panicked.
///
/// leakless calls your [`Close::close`] on its own release paths (a late
/// completion, a cancel, a dropped guard or attempt); a panic there is
/// caught, never unwinds out of a `Drop` (which would abort the process),
/// and is reported with its message like a close error. Everything else
/// being released is still closed, each exactly once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CloseError<E> {
    /// The resource's `close` returned this error.
    #[error("close failed: {0}")]
    Failed(#[source] E),
    /// The resource's `close` panicked with this message. The resource is
    /// consumed and must not be closed again (whatever the panic left).
    #[error("close panicked: {0}")]
    Panicked(String),
}

impl<E> CloseError<E> {
    /// Whether the close panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self, CloseError::Panicked(_))
    }
}

/// Closes `resource`, catching a panic of its `close` (see [`CloseError`]).
pub(crate) fn close_contained<T: Close>(resource: T) -> Result<(), CloseError<T::Error>> {
    // AssertUnwindSafe: the resource is consumed either way, and nothing of
    // ours is observed half-updated after a panic (callers update their own
    // state before closing).
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| resource.close())) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(CloseError::Failed(error)),
        Err(payload) => Err(CloseError::Panicked(panic_message(payload.as_ref()))),
    }
}

/// Runs user code that has nothing to report (a waker), catching a panic
/// so that it cannot unwind out of a `Drop` or leave a release half done.
/// Returns the panic's message if it panicked.
pub(crate) fn contained(run: impl FnOnce()) -> Option<String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(run))
        .err()
        .map(|payload| panic_message(payload.as_ref()))
}

/// The message a panic was raised with, when it is text.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        String::from("(a panic payload that is not text)")
    }
}
