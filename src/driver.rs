//! The [`Driver`] trait: everything a cluster connect needs from a transport.

use std::time::Instant;

use crate::{Close, Requester};

/// Why a message could not be offered to a publication.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OfferError {
    /// No subscriber is connected to the publication yet.
    #[error("the publication is not connected; wait for it or pick another member")]
    NotConnected,
    /// The publication is full for now; try again on the next poll.
    #[error("the publication is back-pressured; try again")]
    BackPressured,
    /// The publication is closed or failed for good.
    #[error("the publication failed: {0}")]
    Failed(String),
}

/// A transport that creates subscriptions and publications asynchronously:
/// a media driver client such as Aeron's, or leakless's simulation
/// ([`crate::sim`]).
///
/// The asynchronous adds return the [`Requester`] half of a
/// [`handoff`](crate::handoff()): the driver completes the other half when
/// the resource exists, and a requester that gives up first gets the
/// resource closed instead of leaked.
///
/// A `Driver` is a cheap handle (`Clone`), shared by the attempts that use it.
pub trait Driver: Clone {
    /// An egress subscription.
    type Subscription: Close<Error = Self::Error>;
    /// An ingress publication.
    type Publication: Close<Error = Self::Error>;
    /// What creating or closing a resource can fail with.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Starts creating a subscription; the requester receives it.
    fn add_subscription(
        &self,
        channel: &str,
        stream_id: i32,
    ) -> Requester<Self::Subscription, Self::Error>;

    /// Starts creating a publication; the requester receives it.
    fn add_publication(
        &self,
        channel: &str,
        stream_id: i32,
    ) -> Requester<Self::Publication, Self::Error>;

    /// Whether a subscriber is connected to the publication.
    fn is_connected(&self, publication: &Self::Publication) -> bool;

    /// Offers one message to the publication.
    fn offer(&self, publication: &Self::Publication, message: &[u8]) -> Result<(), OfferError>;

    /// Hands up to `limit` received messages to `handler`; returns how many.
    fn poll(
        &self,
        subscription: &Self::Subscription,
        handler: &mut dyn FnMut(&[u8]),
        limit: usize,
    ) -> usize;

    /// A new correlation id, unique for this driver's client.
    fn next_correlation_id(&self) -> i64;

    /// The channel to name in the connect request as the cluster's way
    /// back: `configured`, the egress channel, with whatever the driver
    /// chose for it filled in. Aeron lets a UDP subscription take an
    /// ephemeral port (`aeron:udp?endpoint=host:0`), as Aeron's own client
    /// does by default; the cluster must be told the port it got. `None`
    /// while that is not known yet (the connect asks again on its next
    /// poll). The default: `configured` as it is.
    fn response_channel(
        &self,
        subscription: &Self::Subscription,
        configured: &str,
    ) -> Option<String> {
        let _ = subscription;
        Some(configured.to_owned())
    }

    /// The driver's clock; deadlines are checked against it.
    fn now(&self) -> Instant {
        Instant::now()
    }
}
