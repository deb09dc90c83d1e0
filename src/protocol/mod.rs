//! The cluster session protocol: the messages a client exchanges with an
//! Aeron Cluster while it connects, and their binary encoding.
//!
//! The encoding follows Aeron Cluster's SBE schema (`aeron-cluster-codecs.xml`,
//! schema id 111): an 8-byte message header, the fixed-size block, then the
//! variable-length fields, all little-endian. Two layouts are encoded, the
//! peer's being chosen in the connect configuration ([`Layout`]): the current
//! Aeron's (1.19 and later; encoded as version 16, Aeron 1.51.0's) and Aeron
//! 1.15.1's (version 0). Decoding uses the
//! block length the sender wrote, so messages from an older or newer schema
//! version with a shorter or longer block still decode.

mod codec;
mod messages;

pub use codec::{DecodeError, Layout, decode, decode_with, encode, encode_with};
pub use messages::{
    Challenge, ChallengeResponse, EventCode, Message, NewLeaderEvent, SessionCloseRequest,
    SessionConnectRequest, SessionEvent, SessionKeepAlive, SessionMessageHeader, parse_endpoints,
};

/// The cluster codecs' SBE schema id.
pub const SCHEMA_ID: u16 = 111;
/// The schema version this crate encodes by default ([`Layout::Current`]):
/// Aeron 1.51.0's `aeron-cluster-codecs.xml` (upstream tag 1.51.0).
pub const SCHEMA_VERSION: u16 = 16;
/// The client's session protocol version, as sent in a connect request
/// (semantic version 0.3.0 packed as `major << 16 | minor << 8 | patch`).
pub const PROTOCOL_VERSION: i32 = 3 << 8;
