//! The session protocol messages, as plain Rust values.

/// What a [`SessionEvent`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventCode {
    /// The session is open.
    Ok,
    /// The cluster could not open the session; see the detail.
    Error,
    /// This member is not the leader; the detail lists the ingress endpoints.
    Redirect,
    /// The credentials were rejected.
    AuthenticationRejected,
    /// The session was closed.
    Closed,
}

impl EventCode {
    /// The wire value.
    pub fn to_i32(self) -> i32 {
        match self {
            EventCode::Ok => 0,
            EventCode::Error => 1,
            EventCode::Redirect => 2,
            EventCode::AuthenticationRejected => 3,
            EventCode::Closed => 4,
        }
    }

    /// The code for a wire value, if it is one.
    pub fn from_i32(value: i32) -> Option<Self> {
        Some(match value {
            0 => EventCode::Ok,
            1 => EventCode::Error,
            2 => EventCode::Redirect,
            3 => EventCode::AuthenticationRejected,
            4 => EventCode::Closed,
            _ => return None,
        })
    }
}

/// Header of an application message between a client and the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionMessageHeader {
    /// The leadership term the client knows.
    pub leadership_term_id: i64,
    /// The session the message belongs to.
    pub cluster_session_id: i64,
    /// Set by the cluster; 0 from a client.
    pub timestamp: i64,
}

/// The cluster's answer to a connect request, or an event on a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionEvent {
    /// The session opened (or the one the event is about).
    pub cluster_session_id: i64,
    /// The connect request this answers.
    pub correlation_id: i64,
    /// The current leadership term.
    pub leadership_term_id: i64,
    /// The current leader.
    pub leader_member_id: i32,
    /// What happened.
    pub code: EventCode,
    /// The cluster's protocol version (0: not sent).
    pub version: i32,
    /// The leader's heartbeat timeout (0: not sent).
    pub leader_heartbeat_timeout_ns: i64,
    /// An error message, or for [`EventCode::Redirect`] the ingress
    /// endpoints as `memberId=endpoint,…` (see [`parse_endpoints`]).
    pub detail: String,
}

/// Asks the cluster to open a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConnectRequest {
    /// Chosen by the client; the answer carries it back.
    pub correlation_id: i64,
    /// The stream of the client's egress subscription.
    pub response_stream_id: i32,
    /// The client's protocol version.
    pub version: i32,
    /// The channel of the client's egress subscription.
    pub response_channel: String,
    /// Credentials, if the cluster authenticates.
    pub encoded_credentials: Vec<u8>,
    /// Free-form client description.
    pub client_info: String,
}

/// Closes an open session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionCloseRequest {
    /// The leadership term the client knows.
    pub leadership_term_id: i64,
    /// The session to close.
    pub cluster_session_id: i64,
}

/// Keeps a session open while the client has nothing to send (a cluster
/// closes a session it has not heard from for its session timeout).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionKeepAlive {
    /// The leadership term the client knows.
    pub leadership_term_id: i64,
    /// The session to keep open.
    pub cluster_session_id: i64,
}

/// The cluster asks the client for credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The connect request being challenged.
    pub correlation_id: i64,
    /// The session being opened.
    pub cluster_session_id: i64,
    /// What the authenticator sent.
    pub encoded_challenge: Vec<u8>,
}

/// The client's answer to a [`Challenge`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChallengeResponse {
    /// The connect request being challenged.
    pub correlation_id: i64,
    /// The session being opened.
    pub cluster_session_id: i64,
    /// The credentials.
    pub encoded_credentials: Vec<u8>,
}

/// A new leader was elected while the session was open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLeaderEvent {
    /// The new leadership term.
    pub leadership_term_id: i64,
    /// The session this is sent to.
    pub cluster_session_id: i64,
    /// The new leader.
    pub leader_member_id: i32,
    /// The ingress endpoints, `memberId=endpoint,…`.
    pub ingress_endpoints: String,
}

/// Any message of the session protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// An application message: header and payload.
    Session(SessionMessageHeader, Vec<u8>),
    /// See [`SessionEvent`].
    Event(SessionEvent),
    /// See [`SessionConnectRequest`].
    Connect(SessionConnectRequest),
    /// See [`SessionCloseRequest`].
    Close(SessionCloseRequest),
    /// See [`SessionKeepAlive`].
    KeepAlive(SessionKeepAlive),
    /// See [`Challenge`].
    Challenge(Challenge),
    /// See [`ChallengeResponse`].
    ChallengeResponse(ChallengeResponse),
    /// See [`NewLeaderEvent`].
    NewLeader(NewLeaderEvent),
}

/// Parses ingress endpoints as Aeron writes them, `memberId=endpoint,…`.
///
/// Entries that do not parse are skipped.
///
/// ```
/// let endpoints = leakless::protocol::parse_endpoints("0=host-a:9000,1=host-b:9000");
/// assert_eq!(endpoints, vec![(0, "host-a:9000".to_owned()), (1, "host-b:9000".to_owned())]);
/// ```
pub fn parse_endpoints(detail: &str) -> Vec<(i32, String)> {
    detail
        .split(',')
        .filter_map(|entry| {
            let (id, endpoint) = entry.split_once('=')?;
            let id = id.trim().parse().ok()?;
            let endpoint = endpoint.trim();
            (!endpoint.is_empty()).then(|| (id, endpoint.to_owned()))
        })
        .collect()
}
