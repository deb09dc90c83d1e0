//! [`Owned`]: the guard that closes a created resource exactly once.

use std::fmt;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};

use crate::Close;
use crate::close::{CloseError, close_contained};

/// Owns a created resource and closes it when dropped.
///
/// Use [`Owned::close`] to see the close error; dropping the guard closes
/// the resource too, but has nowhere to report an error and discards it (a
/// panic in the resource's `close` too: it never unwinds out of the drop).
/// [`Owned::into_inner`] takes the resource out: you now own closing it.
///
/// `Owned<T>` has the size of `T`.
///
/// # Example
///
/// ```
/// use leakless::{Close, Owned};
///
/// struct Publication;
/// impl Close for Publication {
///     type Error = std::convert::Infallible;
///     fn close(self) -> Result<(), Self::Error> { Ok(()) }
/// }
///
/// let publication = Owned::new(Publication);
/// publication.close().unwrap(); // or let it drop: it is closed either way
/// ```
#[must_use = "dropping an Owned closes the resource at once"]
pub struct Owned<T: Close> {
    // ManuallyDrop so that close/into_inner can move the value out and skip
    // our Drop, which would otherwise close it a second time.
    resource: ManuallyDrop<T>,
}

impl<T: Close> Owned<T> {
    /// Takes ownership of `resource`; it will be closed exactly once.
    pub fn new(resource: T) -> Self {
        Self {
            resource: ManuallyDrop::new(resource),
        }
    }

    /// Closes the resource now and returns what its close returned.
    ///
    /// A panic in the resource's `close` reaches you, as if you had called
    /// it yourself; [`close_catching`](Self::close_catching) turns it into
    /// an error instead.
    pub fn close(self) -> Result<(), T::Error> {
        self.into_inner().close()
    }

    /// Closes the resource now; a panic in its `close` is caught and
    /// returned as [`CloseError::Panicked`] with its message.
    pub fn close_catching(self) -> Result<(), CloseError<T::Error>> {
        close_contained(self.into_inner())
    }

    /// Takes the resource out of the guard without closing it.
    ///
    /// You now own closing it: nothing in leakless will close it for you.
    #[must_use = "the resource is no longer closed for you: close it"]
    pub fn into_inner(self) -> T {
        let mut this = ManuallyDrop::new(self);
        // SAFETY: `this` is never used again and its Drop never runs
        // (ManuallyDrop), so the resource is moved out exactly once.
        unsafe { ManuallyDrop::take(&mut this.resource) }
    }
}

impl<T: Close> Drop for Owned<T> {
    fn drop(&mut self) {
        // SAFETY: drop runs at most once, and close/into_inner, the only
        // other places that take the resource, skip this Drop.
        let resource = unsafe { ManuallyDrop::take(&mut self.resource) };
        // Drop cannot report an error; `Owned::close` is how to see it. A
        // panicking close is caught: unwinding out of a Drop that runs
        // during another panic would abort the process.
        let _ = close_contained(resource);
    }
}

impl<T: Close> Deref for Owned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.resource
    }
}

impl<T: Close> DerefMut for Owned<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.resource
    }
}

impl<T: Close + fmt::Debug> fmt::Debug for Owned<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Owned").field(&*self.resource).finish()
    }
}
