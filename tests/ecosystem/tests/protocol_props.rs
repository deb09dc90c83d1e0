//! The cluster codecs against arbitrary bytes: decoding never panics, in
//! either layout, and every valid message round-trips. The bytes come from
//! the network, so any of them may arrive.
//!
//! CI runs a short run (the default 2,000 cases a property, or
//! `PROPTEST_CASES`); the long run, a million cases a property:
//!
//! ```sh
//! PROPTEST_CASES=1000000 cargo test --release -p leakless-ecosystem-tests --test protocol_props
//! ```

use leakless::protocol::*;
use proptest::collection::vec;
use proptest::prelude::*;

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000);
    ProptestConfig {
        cases,
        // Shrinking a failure is worth its time; a pass is not.
        ..ProptestConfig::default()
    }
}

fn layouts() -> impl Strategy<Value = Layout> {
    prop_oneof![Just(Layout::Current), Just(Layout::Aeron1_15)]
}

fn text() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[ -~]{0,40}").expect("a valid regex")
}

fn code() -> impl Strategy<Value = EventCode> {
    (0..5i32).prop_map(|c| EventCode::from_i32(c).expect("0..5 are codes"))
}

/// Any message the codec knows, with any field values.
fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        (
            any::<i64>(),
            any::<i64>(),
            any::<i64>(),
            vec(any::<u8>(), 0..64)
        )
            .prop_map(
                |(leadership_term_id, cluster_session_id, timestamp, payload)| Message::Session(
                    SessionMessageHeader {
                        leadership_term_id,
                        cluster_session_id,
                        timestamp
                    },
                    payload
                )
            ),
        (
            any::<i64>(),
            any::<i64>(),
            any::<i64>(),
            any::<i32>(),
            code(),
            any::<i32>(),
            any::<i64>(),
            text()
        )
            .prop_map(
                |(s, c, t, leader, code, version, hb, detail)| Message::Event(SessionEvent {
                    cluster_session_id: s,
                    correlation_id: c,
                    leadership_term_id: t,
                    leader_member_id: leader,
                    code,
                    version,
                    leader_heartbeat_timeout_ns: hb,
                    detail,
                })
            ),
        (
            any::<i64>(),
            any::<i32>(),
            any::<i32>(),
            text(),
            vec(any::<u8>(), 0..32),
            text()
        )
            .prop_map(
                |(c, stream, version, channel, credentials, info)| Message::Connect(
                    SessionConnectRequest {
                        correlation_id: c,
                        response_stream_id: stream,
                        version,
                        response_channel: channel,
                        encoded_credentials: credentials,
                        client_info: info,
                    }
                )
            ),
        (any::<i64>(), any::<i64>()).prop_map(|(t, s)| Message::Close(SessionCloseRequest {
            leadership_term_id: t,
            cluster_session_id: s
        })),
        (any::<i64>(), any::<i64>()).prop_map(|(t, s)| Message::KeepAlive(SessionKeepAlive {
            leadership_term_id: t,
            cluster_session_id: s
        })),
        (any::<i64>(), any::<i64>(), any::<i32>(), text()).prop_map(|(t, s, l, e)| {
            Message::NewLeader(NewLeaderEvent {
                leadership_term_id: t,
                cluster_session_id: s,
                leader_member_id: l,
                ingress_endpoints: e,
            })
        }),
        (any::<i64>(), any::<i64>(), vec(any::<u8>(), 0..32)).prop_map(|(c, s, ch)| {
            Message::Challenge(Challenge {
                correlation_id: c,
                cluster_session_id: s,
                encoded_challenge: ch,
            })
        }),
        (any::<i64>(), any::<i64>(), vec(any::<u8>(), 0..32)).prop_map(|(c, s, cr)| {
            Message::ChallengeResponse(ChallengeResponse {
                correlation_id: c,
                cluster_session_id: s,
                encoded_credentials: cr,
            })
        }),
    ]
}

/// What `layout` carries of `message`: 1.15's layout has no protocol
/// version, no client info and no heartbeat timeout; they decode as 0 / "".
fn as_carried(layout: Layout, mut message: Message) -> Message {
    if layout == Layout::Aeron1_15 {
        match &mut message {
            Message::Connect(c) => {
                c.version = 0;
                c.client_info.clear();
            }
            Message::Event(e) => {
                e.version = 0;
                e.leader_heartbeat_timeout_ns = 0;
            }
            _ => {}
        }
    }
    message
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_bytes_decode_to_a_message_or_an_error_never_a_panic(
        layout in layouts(),
        bytes in vec(any::<u8>(), 0..256),
    ) {
        let _ = decode_with(layout, &bytes);
    }

    #[test]
    fn bytes_with_a_valid_header_decode_without_panicking(
        layout in layouts(),
        block_length in any::<u16>(),
        template in 0u16..12,
        version in prop_oneof![Just(0u16), Just(16u16), any::<u16>()],
        body in vec(any::<u8>(), 0..256),
    ) {
        // A header the decoder accepts, so the fuzzing reaches the bodies.
        let mut bytes = Vec::with_capacity(8 + body.len());
        bytes.extend_from_slice(&block_length.to_le_bytes());
        bytes.extend_from_slice(&template.to_le_bytes());
        bytes.extend_from_slice(&SCHEMA_ID.to_le_bytes());
        bytes.extend_from_slice(&version.to_le_bytes());
        bytes.extend_from_slice(&body);
        let _ = decode_with(layout, &bytes);
    }

    #[test]
    fn every_valid_message_round_trips(layout in layouts(), message in message()) {
        let bytes = encode_with(layout, &message);
        prop_assert_eq!(decode_with(layout, &bytes), Ok(as_carried(layout, message)));
    }

    #[test]
    fn every_truncation_of_a_valid_message_is_an_error_or_a_shorter_payload(
        layout in layouts(),
        message in message(),
        cut in any::<prop::sample::Index>(),
    ) {
        let bytes = encode_with(layout, &message);
        let at = cut.index(bytes.len());
        match decode_with(layout, &bytes[..at]) {
            Err(_) => {}
            // A session message's payload is the rest of the bytes: cut, it
            // is shorter, and nothing else changes.
            Ok(Message::Session(header, payload)) => {
                let Message::Session(whole, full) = as_carried(layout, message) else {
                    return Err(TestCaseError::fail("only a session message decodes when cut"));
                };
                prop_assert_eq!(header, whole);
                prop_assert!(full.starts_with(&payload));
            }
            // The one optional trailing field: a connect request cut right
            // before its client info reads as one from a sender without it.
            Ok(Message::Connect(cut_request)) => {
                let Message::Connect(mut whole) = as_carried(layout, message) else {
                    return Err(TestCaseError::fail("a connect request from another message"));
                };
                whole.client_info.clear();
                prop_assert_eq!(cut_request, whole);
            }
            Ok(other) => {
                return Err(TestCaseError::fail(format!("{other:?} decoded from {at} of {} bytes", bytes.len())));
            }
        }
    }
}
