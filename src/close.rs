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
