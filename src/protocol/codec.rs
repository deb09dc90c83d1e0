//! SBE-layout encoding and decoding of the session protocol messages.

use super::SCHEMA_ID;
use super::messages::*;

const HEADER_LEN: usize = 8;

/// Which schema version's layout to encode, and whose template ids to read:
/// the peer's. Decoding follows the block length the sender wrote, and
/// refuses a message whose schema version belongs to the other layout
/// ([`DecodeError::WrongLayout`]).
///
/// Aeron renumbered the session messages' template ids in schema version 3
/// (Aeron 1.19.0); since then the session messages have only grown at the
/// end of their blocks, which decoding by block length absorbs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Layout {
    /// Aeron Cluster 1.15 – 1.18: schema 111, versions 0 – 2 (1.15.1's
    /// `aeron-cluster-codecs.xml` is version 0): other template ids, shorter
    /// blocks, no protocol version, no client info, separate ingress and
    /// egress message headers.
    Aeron1_15,
    /// Aeron Cluster 1.19 and later: schema 111, version 3 and up. Encodes
    /// version 16, as Aeron 1.51.0 (and 1.52.x) do; byte for byte the
    /// messages Aeron 1.51.0's own encoders write (`tests/vectors/`).
    #[default]
    Current,
}

impl Layout {
    /// The layout of a message whose header carries schema `version`.
    pub fn of_schema_version(version: u16) -> Layout {
        if version <= LAST_1_15_VERSION {
            Layout::Aeron1_15
        } else {
            Layout::Current
        }
    }

    /// The Aeron releases that speak this layout, for messages.
    pub fn releases(self) -> &'static str {
        match self {
            Layout::Aeron1_15 => "Aeron 1.15 – 1.18 (schema versions 0 – 2)",
            Layout::Current => "Aeron 1.19 and later (schema version 3 and up)",
        }
    }
}

impl std::fmt::Display for Layout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Layout::Aeron1_15 => f.write_str("Layout::Aeron1_15"),
            Layout::Current => f.write_str("Layout::Current"),
        }
    }
}

/// The last schema version with the 1.15 template ids (Aeron 1.18).
const LAST_1_15_VERSION: u16 = 2;

/// A layout's template ids and block lengths.
struct Templates {
    version: u16,
    /// Application messages (the ingress header in 1.15).
    session: u16,
    /// 1.15's separate egress message header.
    egress_session: Option<u16>,
    event: u16,
    event_block: u16,
    connect: u16,
    connect_block: u16,
    close: u16,
    keep_alive: u16,
    new_leader: u16,
    challenge: u16,
    challenge_response: u16,
}

impl Layout {
    fn templates(self) -> &'static Templates {
        const CURRENT: Templates = Templates {
            version: super::SCHEMA_VERSION,
            session: 1,
            egress_session: None,
            event: 2,
            event_block: 44,
            connect: 3,
            connect_block: 16,
            close: 4,
            keep_alive: 5,
            new_leader: 6,
            challenge: 7,
            challenge_response: 8,
        };
        const AERON_1_15: Templates = Templates {
            version: 0,
            session: 1,
            egress_session: Some(2),
            event: 3,
            event_block: 32,
            connect: 4,
            connect_block: 12,
            close: 5,
            keep_alive: 6,
            new_leader: 7,
            challenge: 8,
            challenge_response: 9,
        };
        match self {
            Layout::Current => &CURRENT,
            Layout::Aeron1_15 => &AERON_1_15,
        }
    }
}

/// Why bytes could not be decoded into a [`Message`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The buffer ends before the message does.
    #[error("message truncated: needed {needed} bytes, got {got}")]
    Truncated {
        /// Bytes the message needs.
        needed: usize,
        /// Bytes there were.
        got: usize,
    },
    /// Not a cluster codecs message.
    #[error("schema id {0} is not the cluster codecs schema (111); is this the right stream?")]
    WrongSchema(u16),
    /// A cluster message this client does not handle.
    #[error("template id {0} is not a session protocol message")]
    UnknownTemplate(u16),
    /// An event code outside the schema.
    #[error("unknown session event code {0}")]
    UnknownEventCode(i32),
    /// A text field that is not UTF-8.
    #[error("a text field is not valid UTF-8")]
    InvalidText,
    /// The message's schema version belongs to the other layout: the
    /// cluster runs another Aeron generation than the one configured.
    #[error(
        "the message has schema version {version}, which is {}, but the connect is configured for {} ({configured}); set ConnectConfig::layout({})",
        Layout::of_schema_version(*version).releases(),
        configured.releases(),
        Layout::of_schema_version(*version)
    )]
    WrongLayout {
        /// The layout the decoder was asked to read.
        configured: Layout,
        /// The schema version the message carries.
        version: u16,
    },
}

struct Writer(Vec<u8>);

impl Writer {
    fn new(layout: &Templates, template_id: u16, block_length: u16) -> Self {
        let mut w = Writer(Vec::with_capacity(64));
        w.u16(block_length);
        w.u16(template_id);
        w.u16(SCHEMA_ID);
        w.u16(layout.version);
        w
    }
    fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn i32(&mut self, v: i32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn var(&mut self, data: &[u8]) {
        // The schema caps var data at 2^30 bytes; nothing we send is near it.
        let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
        self.0.extend_from_slice(&len.to_le_bytes());
        self.0.extend_from_slice(data);
    }
}

/// Encodes a message with the current schema's layout.
///
/// ```
/// use leakless::protocol::{Message, SessionCloseRequest, decode, encode};
/// let close = Message::Close(SessionCloseRequest { leadership_term_id: 3, cluster_session_id: 42 });
/// let bytes = encode(&close);
/// assert_eq!(bytes.len(), 8 + 16);
/// assert_eq!(decode(&bytes), Ok(close));
/// ```
pub fn encode(message: &Message) -> Vec<u8> {
    encode_with(Layout::Current, message)
}

/// Encodes a message with `layout`: the peer's schema version.
pub fn encode_with(layout: Layout, message: &Message) -> Vec<u8> {
    let t = layout.templates();
    match message {
        Message::Session(header, payload) => {
            let mut w = Writer::new(t, t.session, 24);
            w.i64(header.leadership_term_id);
            w.i64(header.cluster_session_id);
            w.i64(header.timestamp);
            w.0.extend_from_slice(payload);
            w.0
        }
        Message::Event(e) => {
            let mut w = Writer::new(t, t.event, t.event_block);
            w.i64(e.cluster_session_id);
            w.i64(e.correlation_id);
            w.i64(e.leadership_term_id);
            w.i32(e.leader_member_id);
            w.i32(e.code.to_i32());
            if t.event_block >= 44 {
                w.i32(e.version);
                w.i64(e.leader_heartbeat_timeout_ns);
            }
            w.var(e.detail.as_bytes());
            w.0
        }
        Message::Connect(c) => {
            let mut w = Writer::new(t, t.connect, t.connect_block);
            w.i64(c.correlation_id);
            w.i32(c.response_stream_id);
            if t.connect_block >= 16 {
                w.i32(c.version);
            }
            w.var(c.response_channel.as_bytes());
            w.var(&c.encoded_credentials);
            if layout == Layout::Current {
                w.var(c.client_info.as_bytes());
            }
            w.0
        }
        Message::Close(c) => {
            let mut w = Writer::new(t, t.close, 16);
            w.i64(c.leadership_term_id);
            w.i64(c.cluster_session_id);
            w.0
        }
        Message::KeepAlive(k) => {
            let mut w = Writer::new(t, t.keep_alive, 16);
            w.i64(k.leadership_term_id);
            w.i64(k.cluster_session_id);
            w.0
        }
        Message::NewLeader(n) => {
            let mut w = Writer::new(t, t.new_leader, 20);
            w.i64(n.leadership_term_id);
            w.i64(n.cluster_session_id);
            w.i32(n.leader_member_id);
            w.var(n.ingress_endpoints.as_bytes());
            w.0
        }
        Message::Challenge(c) => {
            let mut w = Writer::new(t, t.challenge, 16);
            w.i64(c.correlation_id);
            w.i64(c.cluster_session_id);
            w.var(&c.encoded_challenge);
            w.0
        }
        Message::ChallengeResponse(c) => {
            let mut w = Writer::new(t, t.challenge_response, 16);
            w.i64(c.correlation_id);
            w.i64(c.cluster_session_id);
            w.var(&c.encoded_credentials);
            w.0
        }
    }
}

/// Reads a message's fixed block by offset (fields past the sender's block
/// length read as the schema's null value, 0) and then its var data.
struct Reader<'a> {
    bytes: &'a [u8],
    block: &'a [u8],
    /// Where the next var-data field starts.
    var_at: usize,
}

impl<'a> Reader<'a> {
    fn le<const N: usize>(&self, offset: usize) -> [u8; N] {
        let mut out = [0u8; N];
        if let Some(field) = self.block.get(offset..offset + N) {
            out.copy_from_slice(field);
        }
        out
    }
    fn i32(&self, offset: usize) -> i32 {
        i32::from_le_bytes(self.le(offset))
    }
    fn i64(&self, offset: usize) -> i64 {
        i64::from_le_bytes(self.le(offset))
    }
    fn var(&mut self) -> Result<&'a [u8], DecodeError> {
        let got = self.bytes.len();
        let len_end = self.var_at + 4;
        let len = self
            .bytes
            .get(self.var_at..len_end)
            .ok_or(DecodeError::Truncated {
                needed: len_end,
                got,
            })?;
        let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
        let end = len_end.saturating_add(len);
        let data = self
            .bytes
            .get(len_end..end)
            .ok_or(DecodeError::Truncated { needed: end, got })?;
        self.var_at = end;
        Ok(data)
    }
    /// A var-data field added in a later schema version: absent if the
    /// message ends before it.
    fn var_optional(&mut self) -> Result<&'a [u8], DecodeError> {
        if self.var_at >= self.bytes.len() {
            return Ok(&[]);
        }
        self.var()
    }
    fn text(&mut self) -> Result<String, DecodeError> {
        text(self.var()?)
    }
}

fn text(bytes: &[u8]) -> Result<String, DecodeError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| DecodeError::InvalidText)
}

/// Decodes a message of the current schema, using the block length the
/// sender wrote.
///
/// Never panics on bad input: truncated, foreign or unknown messages are a
/// [`DecodeError`].
pub fn decode(bytes: &[u8]) -> Result<Message, DecodeError> {
    decode_with(Layout::Current, bytes)
}

/// Decodes a message of `layout`'s template ids, using the block length the
/// sender wrote.
pub fn decode_with(layout: Layout, bytes: &[u8]) -> Result<Message, DecodeError> {
    let t = layout.templates();
    let got = bytes.len();
    if got < HEADER_LEN {
        return Err(DecodeError::Truncated {
            needed: HEADER_LEN,
            got,
        });
    }
    let word = |i: usize| u16::from_le_bytes([bytes[i], bytes[i + 1]]);
    let (block_length, template_id, schema_id, version) =
        (word(0) as usize, word(2), word(4), word(6));
    if schema_id != SCHEMA_ID {
        return Err(DecodeError::WrongSchema(schema_id));
    }
    // The two layouts reuse each other's template ids for other messages:
    // read by the wrong one, an event would look like a connect request.
    if Layout::of_schema_version(version) != layout {
        return Err(DecodeError::WrongLayout {
            configured: layout,
            version,
        });
    }
    let block_end = HEADER_LEN + block_length;
    let block = bytes
        .get(HEADER_LEN..block_end)
        .ok_or(DecodeError::Truncated {
            needed: block_end,
            got,
        })?;
    let mut r = Reader {
        bytes,
        block,
        var_at: block_end,
    };
    let is_session = template_id == t.session || Some(template_id) == t.egress_session;
    Ok(match template_id {
        _ if is_session => Message::Session(
            SessionMessageHeader {
                leadership_term_id: r.i64(0),
                cluster_session_id: r.i64(8),
                timestamp: r.i64(16),
            },
            bytes[block_end..].to_vec(),
        ),
        id if id == t.event => {
            let code = r.i32(28);
            Message::Event(SessionEvent {
                cluster_session_id: r.i64(0),
                correlation_id: r.i64(8),
                leadership_term_id: r.i64(16),
                leader_member_id: r.i32(24),
                code: EventCode::from_i32(code).ok_or(DecodeError::UnknownEventCode(code))?,
                // Fields the layout's schema does not have are not read, even
                // when a sender's longer block holds bytes there (the fuzzer
                // found such a message that did not survive a re-encode).
                version: if t.event_block >= 44 { r.i32(32) } else { 0 },
                leader_heartbeat_timeout_ns: if t.event_block >= 44 { r.i64(36) } else { 0 },
                detail: r.text()?,
            })
        }
        id if id == t.connect => Message::Connect(SessionConnectRequest {
            correlation_id: r.i64(0),
            response_stream_id: r.i32(8),
            version: if t.connect_block >= 16 { r.i32(12) } else { 0 },
            response_channel: r.text()?,
            encoded_credentials: r.var()?.to_vec(),
            // Aeron 1.15's request has no client info: whatever follows
            // its credentials belongs to no field (found by the fuzzer:
            // read as client info, it did not survive a re-encode).
            client_info: if layout == Layout::Current {
                text(r.var_optional()?)?
            } else {
                String::new()
            },
        }),
        id if id == t.close => Message::Close(SessionCloseRequest {
            leadership_term_id: r.i64(0),
            cluster_session_id: r.i64(8),
        }),
        id if id == t.keep_alive => Message::KeepAlive(SessionKeepAlive {
            leadership_term_id: r.i64(0),
            cluster_session_id: r.i64(8),
        }),
        id if id == t.new_leader => Message::NewLeader(NewLeaderEvent {
            leadership_term_id: r.i64(0),
            cluster_session_id: r.i64(8),
            leader_member_id: r.i32(16),
            ingress_endpoints: r.text()?,
        }),
        id if id == t.challenge => Message::Challenge(Challenge {
            correlation_id: r.i64(0),
            cluster_session_id: r.i64(8),
            encoded_challenge: r.var()?.to_vec(),
        }),
        id if id == t.challenge_response => Message::ChallengeResponse(ChallengeResponse {
            correlation_id: r.i64(0),
            cluster_session_id: r.i64(8),
            encoded_credentials: r.var()?.to_vec(),
        }),
        other => return Err(DecodeError::UnknownTemplate(other)),
    })
}
