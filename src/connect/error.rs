//! How a connect fails, and what it released when it did.

use std::fmt;
use std::time::Duration;

use super::Released;
use super::config::ConfigError;

/// The connect's states, as errors and reports name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StateName {
    /// The egress subscription is being created.
    Pending,
    /// The subscription is held; ingress, request and response are in progress.
    Subscribed,
    /// The session is open.
    Connected,
}

impl fmt::Display for StateName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StateName::Pending => "Pending",
            StateName::Subscribed => "Subscribed",
            StateName::Connected => "Connected",
        })
    }
}

/// Which resource a creation error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    /// The egress subscription.
    EgressSubscription,
    /// An ingress publication.
    IngressPublication,
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ResourceKind::EgressSubscription => "egress subscription",
            ResourceKind::IngressPublication => "ingress publication",
        })
    }
}

/// Why a connect failed. Whatever the error, everything the attempt held or
/// had pending was released before it was returned.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The deadline passed.
    #[error(
        "connect timed out in state {state} after {timeout:?}{}; everything held or pending was released, start a new attempt to retry",
        unanswered_hint(*unanswered)
    )]
    TimedOut {
        /// The state the attempt was in.
        state: StateName,
        /// The configured timeout.
        timeout: Duration,
        /// `Some(layout)` when the connect request was sent, in `layout`,
        /// and nothing answered it: a slow cluster, or one of another Aeron
        /// generation, which ignores a request in the other layout.
        unanswered: Option<crate::protocol::Layout>,
    },
    /// The driver failed to create a resource.
    #[error("could not create the {what}: {source}")]
    CreationFailed {
        /// Which resource.
        what: ResourceKind,
        /// The driver's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The driver dropped a creation without finishing it.
    #[error("the driver abandoned creating the {what}; check the driver, then retry")]
    CreationAbandoned {
        /// Which resource.
        what: ResourceKind,
    },
    /// The cluster rejected the credentials.
    #[error("the cluster rejected the credentials: {detail}")]
    AuthenticationRejected {
        /// The cluster's detail.
        detail: String,
    },
    /// The cluster answered ERROR.
    #[error("the cluster refused the session: {detail}")]
    Refused {
        /// The cluster's detail.
        detail: String,
    },
    /// The cluster closed the session while it was being opened.
    #[error("the cluster closed the session while connecting: {detail}")]
    SessionClosed {
        /// The cluster's detail.
        detail: String,
    },
    /// A REDIRECT that names no endpoint for the leader.
    #[error("the cluster redirected to leader {leader} but named no endpoint for it: {detail:?}")]
    BadRedirect {
        /// The leader's member id.
        leader: i32,
        /// The redirect's endpoint list.
        detail: String,
    },
    /// The cluster answered in the other Aeron generation's message
    /// layout than the one configured ([`ConnectConfig::layout`]).
    ///
    /// [`ConnectConfig::layout`]: super::ConnectConfig::layout
    #[error("{0}")]
    WrongLayout(crate::protocol::DecodeError),
    /// The configuration cannot work; nothing was created.
    #[error("invalid connect configuration: {0}")]
    Config(#[from] ConfigError),
}

/// What a timeout after an unanswered request says about the layout.
fn unanswered_hint(unanswered: Option<crate::protocol::Layout>) -> String {
    match unanswered {
        Some(layout) => format!(
            " with the connect request unanswered (sent as {layout}, for {}; a cluster of another Aeron generation ignores it: check ConnectConfig::layout)",
            layout.releases()
        ),
        None => String::new(),
    }
}

impl ConnectError {
    /// The state the attempt was in when its deadline passed, if that is
    /// how it failed.
    ///
    /// ```
    /// use std::time::Duration;
    /// use leakless::connect::{ConnectError, StateName};
    ///
    /// let error = ConnectError::TimedOut {
    ///     state: StateName::Pending,
    ///     timeout: Duration::from_millis(5),
    ///     unanswered: None,
    /// };
    /// assert_eq!(error.timed_out_in(), Some(StateName::Pending));
    /// ```
    pub fn timed_out_in(&self) -> Option<StateName> {
        match self {
            ConnectError::TimedOut { state, .. } => Some(*state),
            _ => None,
        }
    }

    /// Whether a new attempt may succeed (timeouts, creation failures, a
    /// lost or refused reply), as opposed to a rejection or a bad
    /// configuration.
    pub fn is_transient(&self) -> bool {
        !matches!(
            self,
            ConnectError::AuthenticationRejected { .. }
                | ConnectError::Config(_)
                | ConnectError::WrongLayout(_)
        )
    }
}

/// A failed attempt: the error, and what was released on the way out.
///
/// Only the connect makes one, after releasing everything the attempt held
/// or had pending, so holding a `Failed` proves the attempt has ended: a
/// [`Retry`](crate::retry::Retry) starts its next attempt only from one.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct Failed {
    /// Why it failed.
    #[source]
    pub error: ConnectError,
    /// What the attempt released as it failed.
    pub released: Released,
    /// Keeps `Failed` from being made outside the crate.
    _ended: Ended,
}

/// Proof that an attempt has ended; only this crate makes one.
#[derive(Debug)]
struct Ended;

impl Failed {
    /// An attempt that ended with `error`, after releasing `released`.
    pub(crate) fn ended(error: ConnectError, released: Released) -> Self {
        Failed {
            error,
            released,
            _ended: Ended,
        }
    }
}

/// Closing released everything, but some closes returned errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("released everything, but {} close(s) failed: {}", .released.close_errors.len(), .released.close_errors.join("; "))]
pub struct ReleaseError {
    /// What was released, the failed closes included.
    pub released: Released,
}
