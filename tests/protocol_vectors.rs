//! The codec against Aeron's own encoders: `tests/vectors/aeron-<version>.txt`
//! holds every session-protocol message the client encodes or decodes, as
//! each Aeron version of the matrix writes it with its generated SBE
//! encoders (regenerate with `bash interop/java-cluster/vectors.sh`). Each
//! vector must decode to the message the Java writer was given, and that
//! message must encode back to the same bytes.

use leakless::protocol::*;

/// A matrix entry: the Aeron version, the layout the client is configured
/// with for it, and its vectors.
struct Version {
    aeron: &'static str,
    layout: Layout,
    vectors: &'static str,
}

const MATRIX: &[Version] = &[
    Version {
        aeron: "1.51.0",
        layout: Layout::Current,
        vectors: include_str!("vectors/aeron-1.51.0.txt"),
    },
    Version {
        aeron: "1.15.1",
        layout: Layout::Aeron1_15,
        vectors: include_str!("vectors/aeron-1.15.1.txt"),
    },
];

fn parse(vectors: &str) -> Vec<(&str, Vec<u8>)> {
    vectors
        .lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| {
            let (name, hex) = line.split_once(' ').expect("name hex");
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
                .collect();
            (name, bytes)
        })
        .collect()
}

/// The message the Java writer encoded under `name` (Vectors.java), with
/// the fields `layout` lacks at their null value.
fn expected(name: &str, layout: Layout) -> Message {
    let current = layout == Layout::Current;
    let event = |code: EventCode, detail: &str| {
        Message::Event(SessionEvent {
            cluster_session_id: 42,
            correlation_id: 7,
            leadership_term_id: 3,
            leader_member_id: 1,
            code,
            version: if current { PROTOCOL_VERSION } else { 0 },
            leader_heartbeat_timeout_ns: if current { 10_000_000_000 } else { 0 },
            detail: detail.to_string(),
        })
    };
    match name {
        "session_message" | "egress_session_message" => Message::Session(
            SessionMessageHeader {
                leadership_term_id: 3,
                cluster_session_id: 42,
                timestamp: 1_700_000_000_000,
            },
            b"echo".to_vec(),
        ),
        "session_event_ok" => event(EventCode::Ok, ""),
        "session_event_redirect" => {
            event(EventCode::Redirect, "1=localhost:20111,0=localhost:20110")
        }
        "session_event_error" => event(EventCode::Error, "no, thank you"),
        "connect_request" => Message::Connect(SessionConnectRequest {
            correlation_id: 7,
            response_stream_id: 102,
            version: if current { PROTOCOL_VERSION } else { 0 },
            response_channel: "aeron:udp?endpoint=localhost:20900".to_string(),
            encoded_credentials: b"secret".to_vec(),
            client_info: if current { "leakless" } else { "" }.to_string(),
        }),
        "close_request" => Message::Close(SessionCloseRequest {
            leadership_term_id: 3,
            cluster_session_id: 42,
        }),
        "keep_alive" => Message::KeepAlive(SessionKeepAlive {
            leadership_term_id: 3,
            cluster_session_id: 42,
        }),
        "new_leader_event" => Message::NewLeader(NewLeaderEvent {
            leadership_term_id: 4,
            cluster_session_id: 42,
            leader_member_id: 2,
            ingress_endpoints: "0=localhost:20110,1=localhost:20111,2=localhost:20112".to_string(),
        }),
        "challenge" => Message::Challenge(Challenge {
            correlation_id: 7,
            cluster_session_id: 42,
            encoded_challenge: b"who are you?".to_vec(),
        }),
        "challenge_response" => Message::ChallengeResponse(ChallengeResponse {
            correlation_id: 7,
            cluster_session_id: 42,
            encoded_credentials: b"secret".to_vec(),
        }),
        other => panic!("a vector named {other:?} that the test does not know"),
    }
}

/// Every message kind the client handles, by vector name.
const NAMES: &[&str] = &[
    "session_message",
    "session_event_ok",
    "session_event_redirect",
    "session_event_error",
    "connect_request",
    "close_request",
    "keep_alive",
    "new_leader_event",
    "challenge",
    "challenge_response",
];

/// Whether `bytes`, the vector `name`, decodes to the expected message and
/// that message encodes back to the same bytes. 1.15's egress header is
/// the one message the client decodes but never encodes (it sends the
/// ingress header, template 1): it must re-encode to the ingress vector.
fn agrees(version: &Version, name: &str, bytes: &[u8], ingress_header: &[u8]) -> bool {
    let message = expected(name, version.layout);
    let reencoded = encode_with(version.layout, &message);
    let same_bytes = if name == "egress_session_message" {
        // Template 2 (egress) where the client writes 1 (ingress); every
        // other byte the same.
        let mut as_ingress = bytes.to_vec();
        as_ingress[2] = 1;
        bytes[2] == 2 && as_ingress == reencoded && reencoded == ingress_header
    } else {
        reencoded == bytes
    };
    decode_with(version.layout, bytes) == Ok(message) && same_bytes
}

fn vectors_of(version: &Version) -> Vec<(&'static str, Vec<u8>)> {
    parse(version.vectors)
}

fn ingress_header(vectors: &[(&str, Vec<u8>)]) -> Vec<u8> {
    vectors
        .iter()
        .find(|(name, _)| *name == "session_message")
        .map(|(_, bytes)| bytes.clone())
        .expect("a session_message vector")
}

#[test]
fn every_message_kind_has_a_vector_in_every_version() {
    for version in MATRIX {
        let names: Vec<&str> = vectors_of(version).iter().map(|(n, _)| *n).collect();
        for name in NAMES {
            assert!(names.contains(name), "{}: no {name} vector", version.aeron);
        }
    }
}

#[test]
fn each_vector_decodes_and_re_encodes_byte_for_byte() {
    for version in MATRIX {
        let vectors = vectors_of(version);
        let ingress = ingress_header(&vectors);
        for (name, bytes) in &vectors {
            assert_eq!(
                decode_with(version.layout, bytes),
                Ok(expected(name, version.layout)),
                "Aeron {} {name}",
                version.aeron
            );
            assert!(
                agrees(version, name, bytes, &ingress),
                "Aeron {} {name}: re-encoded {:02x?}\n   Aeron wrote {:02x?}",
                version.aeron,
                encode_with(version.layout, &expected(name, version.layout)),
                bytes
            );
        }
    }
}

#[test]
fn changing_any_one_byte_of_a_vector_is_caught() {
    for version in MATRIX {
        let vectors = vectors_of(version);
        let ingress = ingress_header(&vectors);
        for (name, bytes) in &vectors {
            for at in 0..bytes.len() {
                let mut changed = bytes.clone();
                changed[at] ^= 0x01;
                assert!(
                    !agrees(version, name, &changed, &ingress),
                    "Aeron {} {name}: byte {at} changed and nothing noticed",
                    version.aeron
                );
            }
        }
    }
}

#[test]
fn each_version_read_with_the_other_layout_is_a_typed_error_naming_both() {
    for version in MATRIX {
        let other = match version.layout {
            Layout::Current => Layout::Aeron1_15,
            Layout::Aeron1_15 => Layout::Current,
        };
        for (name, bytes) in vectors_of(version) {
            let error = decode_with(other, &bytes).expect_err(name);
            assert!(
                matches!(error, DecodeError::WrongLayout { configured, .. } if configured == other),
                "Aeron {} {name}: {error}",
                version.aeron
            );
            let text = error.to_string();
            assert!(
                text.contains(version.layout.releases()) && text.contains(other.releases()),
                "{text}"
            );
        }
    }
}
