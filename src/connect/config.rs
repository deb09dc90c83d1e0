//! What a connect needs to know, checked before anything is created.

use std::time::Duration;

use crate::protocol::Layout;

/// Configuration of a cluster connect.
///
/// ```
/// use std::time::Duration;
/// use leakless::connect::ConnectConfig;
///
/// let config = ConnectConfig::new("sim:egress", 102)
///     .member(0, "sim:member-0")
///     .member(1, "sim:member-1")
///     .timeout(Duration::from_secs(5));
/// assert!(config.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectConfig {
    /// Channel of the egress subscription: where the cluster's replies come.
    pub egress_channel: String,
    /// Stream id of the egress subscription.
    pub egress_stream_id: i32,
    /// Stream id of the ingress publications.
    pub ingress_stream_id: i32,
    /// The cluster members' ingress endpoints, `(member id, channel)`. One
    /// publication is created per member; the first connected wins.
    pub members: Vec<(i32, String)>,
    /// The overall deadline, from the start of the attempt (Aeron's message
    /// timeout; default 5 s).
    pub timeout: Duration,
    /// Credentials sent with the connect request and on a challenge.
    pub credentials: Vec<u8>,
    /// The cluster's codec layout (its schema version).
    pub layout: Layout,
}

impl ConnectConfig {
    /// A configuration with the egress subscription's channel and stream,
    /// ingress stream 101, a 5 s timeout, no members yet, no credentials,
    /// and the current codec layout.
    pub fn new(egress_channel: impl Into<String>, egress_stream_id: i32) -> Self {
        Self {
            egress_channel: egress_channel.into(),
            egress_stream_id,
            ingress_stream_id: 101,
            members: Vec::new(),
            timeout: Duration::from_secs(5),
            credentials: Vec::new(),
            layout: Layout::Current,
        }
    }

    /// Adds a member's ingress endpoint.
    pub fn member(mut self, id: i32, channel: impl Into<String>) -> Self {
        self.members.push((id, channel.into()));
        self
    }

    /// Sets the ingress stream id.
    pub fn ingress_stream_id(mut self, stream_id: i32) -> Self {
        self.ingress_stream_id = stream_id;
        self
    }

    /// Sets the overall deadline, counted from the start of an attempt.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the credentials.
    pub fn credentials(mut self, credentials: impl Into<Vec<u8>>) -> Self {
        self.credentials = credentials.into();
        self
    }

    /// Sets the codec layout the cluster speaks (its schema version).
    pub fn layout(mut self, layout: Layout) -> Self {
        self.layout = layout;
        self
    }

    /// The ingress channel for an endpoint the cluster named (in a REDIRECT
    /// or a NewLeaderEvent). A cluster names `host:port` endpoints, which
    /// become `aeron:udp?endpoint=host:port`; an endpoint that is already a
    /// channel (`aeron:…`, or the simulation's `sim:…`) is used as it is.
    ///
    /// ```
    /// use leakless::connect::ConnectConfig;
    /// assert_eq!(ConnectConfig::endpoint_channel("localhost:20111"), "aeron:udp?endpoint=localhost:20111");
    /// assert_eq!(ConnectConfig::endpoint_channel("sim:member-2"), "sim:member-2");
    /// ```
    pub fn endpoint_channel(endpoint: &str) -> String {
        if endpoint.starts_with("aeron:") || endpoint.starts_with("sim:") {
            endpoint.to_owned()
        } else {
            format!("aeron:udp?endpoint={endpoint}")
        }
    }

    /// Checks the configuration; a connect does this before creating
    /// anything. Every error names the input and what to give instead;
    /// nothing is adjusted.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_channel("egress", &self.egress_channel)?;
        check_stream("egress", self.egress_stream_id)?;
        check_stream("ingress", self.ingress_stream_id)?;
        if self.members.is_empty() {
            return Err(ConfigError::NoMembers);
        }
        for (at, (id, channel)) in self.members.iter().enumerate() {
            if self.members[..at].iter().any(|(other, _)| other == id) {
                return Err(ConfigError::DuplicateMember { id: *id });
            }
            check_channel("member ingress", channel)?;
        }
        if self.timeout.is_zero() {
            return Err(ConfigError::ZeroTimeout);
        }
        Ok(())
    }
}

fn check_channel(what: &'static str, channel: &str) -> Result<(), ConfigError> {
    if channel.trim().is_empty() {
        return Err(ConfigError::EmptyChannel { what });
    }
    super::channel::check(channel).map_err(|reason| {
        ConfigError::InvalidChannel(Box::new(InvalidChannel {
            what,
            channel: channel.to_owned(),
            reason,
        }))
    })
}

fn check_stream(what: &'static str, stream_id: i32) -> Result<(), ConfigError> {
    match stream_id {
        0 => Err(ConfigError::ZeroStreamId { what }),
        id if id < 0 => Err(ConfigError::NegativeStreamId { what, id }),
        _ => Ok(()),
    }
}

/// A channel that is not a channel: which one, what was given, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the {what} channel {channel:?} is not a channel: {reason}; give one such as aeron:udp?endpoint=host:port or aeron:ipc"
)]
pub struct InvalidChannel {
    /// Which channel.
    pub what: &'static str,
    /// The channel given.
    pub channel: String,
    /// What is wrong with it.
    pub reason: String,
}

/// A configuration that cannot work; nothing was created.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// No ingress endpoint to connect to.
    #[error("no cluster members configured: add at least one ingress endpoint")]
    NoMembers,
    /// A stream id of 0, which Aeron reserves.
    #[error("the {what} stream id is 0; use a non-zero stream id")]
    ZeroStreamId {
        /// Which stream.
        what: &'static str,
    },
    /// A negative stream id: cluster clients use positive ones (Aeron
    /// Cluster's defaults are 101 for ingress and 102 for egress).
    #[error(
        "the {what} stream id is {id}; use a positive stream id (the cluster's defaults: ingress 101, egress 102)"
    )]
    NegativeStreamId {
        /// Which stream.
        what: &'static str,
        /// The stream id given.
        id: i32,
    },
    /// A channel that is empty.
    #[error("the {what} channel is empty; give a channel such as aeron:udp?endpoint=host:port")]
    EmptyChannel {
        /// Which channel.
        what: &'static str,
    },
    /// A channel that is not an Aeron URI (nor a `sim:` channel of the
    /// built-in simulation); boxed, so errors stay small.
    #[error("{0}")]
    InvalidChannel(Box<InvalidChannel>),
    /// A retry policy or pool setting that cannot work (the message names
    /// the field and what to give).
    #[error("{0}")]
    InvalidSetting(String),
    /// Two members with the same id: a REDIRECT or new leader names a
    /// member by id, so ids must be unique.
    #[error("member id {id} is configured twice; give each member its own id")]
    DuplicateMember {
        /// The repeated id.
        id: i32,
    },
    /// A timeout of zero: the attempt would expire before it starts.
    #[error("the connect timeout is zero; give a positive timeout (Aeron's default is 5 s)")]
    ZeroTimeout,
    /// An absolute deadline that has already passed.
    #[error("the connect deadline has already passed; give a deadline in the future")]
    DeadlineExpired,
}
