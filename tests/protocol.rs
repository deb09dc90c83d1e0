//! The session protocol codec: round trips, the byte layout, and bad input.

use leakless::protocol::*;

fn all_messages() -> Vec<Message> {
    vec![
        Message::Session(
            SessionMessageHeader {
                leadership_term_id: 3,
                cluster_session_id: 42,
                timestamp: 0,
            },
            b"payload".to_vec(),
        ),
        Message::Event(SessionEvent {
            cluster_session_id: 42,
            correlation_id: 7,
            leadership_term_id: 3,
            leader_member_id: 1,
            code: EventCode::Redirect,
            version: PROTOCOL_VERSION,
            leader_heartbeat_timeout_ns: 10_000_000_000,
            detail: String::from("0=a:1,1=b:2"),
        }),
        Message::Connect(SessionConnectRequest {
            correlation_id: 7,
            response_stream_id: 102,
            version: PROTOCOL_VERSION,
            response_channel: String::from("aeron:udp?endpoint=localhost:0"),
            encoded_credentials: vec![1, 2, 3],
            client_info: String::from("leakless"),
        }),
        Message::Close(SessionCloseRequest {
            leadership_term_id: 3,
            cluster_session_id: 42,
        }),
        Message::Challenge(Challenge {
            correlation_id: 7,
            cluster_session_id: 42,
            encoded_challenge: b"nonce".to_vec(),
        }),
        Message::ChallengeResponse(ChallengeResponse {
            correlation_id: 7,
            cluster_session_id: 42,
            encoded_credentials: b"secret".to_vec(),
        }),
        Message::NewLeader(NewLeaderEvent {
            leadership_term_id: 4,
            cluster_session_id: 42,
            leader_member_id: 2,
            ingress_endpoints: String::from("0=a:1,1=b:2,2=c:3"),
        }),
    ]
}

#[test]
fn every_message_round_trips() {
    for message in all_messages() {
        assert_eq!(
            decode(&encode(&message)),
            Ok(message.clone()),
            "{message:?}"
        );
    }
}

#[test]
fn every_event_code_round_trips() {
    for code in 0..5 {
        let event = EventCode::from_i32(code).unwrap();
        assert_eq!(event.to_i32(), code);
    }
    assert_eq!(EventCode::from_i32(5), None);
}

#[test]
fn close_request_layout_byte_for_byte() {
    let bytes = encode(&Message::Close(SessionCloseRequest {
        leadership_term_id: 0x0102,
        cluster_session_id: -1,
    }));
    let expected: Vec<u8> = [
        &[16, 0, 4, 0, 111, 0, 16, 0][..], // block 16, template 4, schema 111, version 16
        &[0x02, 0x01, 0, 0, 0, 0, 0, 0],   // leadershipTermId
        &[0xff; 8],                        // clusterSessionId = -1
    ]
    .concat();
    assert_eq!(bytes, expected);
}

#[test]
fn connect_request_layout_byte_for_byte() {
    let bytes = encode(&Message::Connect(SessionConnectRequest {
        correlation_id: 5,
        response_stream_id: 102,
        version: 0x0300,
        response_channel: String::from("ch"),
        encoded_credentials: vec![9],
        client_info: String::new(),
    }));
    let expected: Vec<u8> = [
        &[16, 0, 3, 0, 111, 0, 16, 0][..],
        &[5, 0, 0, 0, 0, 0, 0, 0], // correlationId
        &[102, 0, 0, 0],           // responseStreamId
        &[0, 3, 0, 0],             // version
        &[2, 0, 0, 0, b'c', b'h'], // responseChannel
        &[1, 0, 0, 0, 9],          // encodedCredentials
        &[0, 0, 0, 0],             // clientInfo
    ]
    .concat();
    assert_eq!(bytes, expected);
}

#[test]
fn session_event_decodes_with_a_shorter_block_from_an_older_schema() {
    // An older sender's SessionEvent: block of 32 (no version, no
    // heartbeat timeout), then the detail.
    let mut bytes = vec![32, 0, 2, 0, 111, 0, 5, 0];
    bytes.extend_from_slice(&9i64.to_le_bytes()); // clusterSessionId
    bytes.extend_from_slice(&8i64.to_le_bytes()); // correlationId
    bytes.extend_from_slice(&1i64.to_le_bytes()); // leadershipTermId
    bytes.extend_from_slice(&0i32.to_le_bytes()); // leaderMemberId
    bytes.extend_from_slice(&0i32.to_le_bytes()); // code OK
    bytes.extend_from_slice(&0u32.to_le_bytes()); // detail ""
    match decode(&bytes) {
        Ok(Message::Event(event)) => {
            assert_eq!((event.cluster_session_id, event.correlation_id), (9, 8));
            assert_eq!(event.code, EventCode::Ok);
            assert_eq!((event.version, event.leader_heartbeat_timeout_ns), (0, 0));
        }
        other => panic!("expected an event, got {other:?}"),
    }
}

#[test]
fn every_truncation_is_an_error_not_a_panic() {
    for message in all_messages() {
        let bytes = encode(&message);
        for len in 0..bytes.len() {
            // Session messages carry their payload to the end: any cut
            // after the block is a shorter payload, which is valid.
            if matches!(message, Message::Session(..)) && len >= 8 + 24 {
                continue;
            }
            // clientInfo came with schema version 14: a connect request
            // that ends before it is an older sender's, and valid.
            if let Message::Connect(request) = &message {
                if len == bytes.len() - 4 - request.client_info.len() {
                    assert!(decode(&bytes[..len]).is_ok());
                    continue;
                }
            }
            assert!(decode(&bytes[..len]).is_err(), "{message:?} cut at {len}");
        }
    }
}

#[test]
fn foreign_and_unknown_messages_are_errors() {
    let mut bytes = encode(&all_messages()[3]);
    bytes[4] = 1; // another schema
    assert_eq!(decode(&bytes), Err(DecodeError::WrongSchema(1)));
    let mut bytes = encode(&all_messages()[3]);
    bytes[2] = 99;
    assert_eq!(decode(&bytes), Err(DecodeError::UnknownTemplate(99)));
    let mut event = encode(&all_messages()[1]);
    event[8 + 28] = 77; // event code
    assert_eq!(decode(&event), Err(DecodeError::UnknownEventCode(77)));
    let huge_var = {
        let mut b = encode(&all_messages()[4]);
        let at = 8 + 16;
        b[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        b
    };
    assert!(matches!(
        decode(&huge_var),
        Err(DecodeError::Truncated { .. })
    ));
}

#[test]
fn endpoints_parse_and_skip_garbage() {
    assert_eq!(
        parse_endpoints("0=a:1, 1 = b:2,junk,x=c:3,2="),
        vec![(0, String::from("a:1")), (1, String::from("b:2"))]
    );
    assert!(parse_endpoints("").is_empty());
}

// ---- Aeron 1.15.1's layout (schema 111, version 0) ------------------------------

fn keep_alive() -> Message {
    Message::KeepAlive(SessionKeepAlive {
        leadership_term_id: 3,
        cluster_session_id: 42,
    })
}

// Round trips in both layouts, with arbitrary field values: the property
// `every_valid_message_round_trips` in tests/ecosystem/tests/protocol_props.rs.

#[test]
fn connect_request_in_the_1_15_layout_byte_for_byte() {
    let bytes = encode_with(
        Layout::Aeron1_15,
        &Message::Connect(SessionConnectRequest {
            correlation_id: 5,
            response_stream_id: 102,
            version: PROTOCOL_VERSION,
            response_channel: String::from("ch"),
            encoded_credentials: vec![9],
            client_info: String::from("not in 1.15"),
        }),
    );
    let expected: Vec<u8> = [
        &[12, 0, 4, 0, 111, 0, 0, 0][..], // block 12, template 4, schema 111, version 0
        &[5, 0, 0, 0, 0, 0, 0, 0],        // correlationId
        &[102, 0, 0, 0],                  // responseStreamId
        &[2, 0, 0, 0, b'c', b'h'],        // responseChannel
        &[1, 0, 0, 0, 9],                 // encodedCredentials
    ]
    .concat();
    assert_eq!(bytes, expected);
}

#[test]
fn session_event_from_a_1_15_node_decodes() {
    // SessionEvent as 1.15.1 lays it out: template 3, block 32.
    let mut bytes = vec![32, 0, 3, 0, 111, 0, 0, 0];
    bytes.extend_from_slice(&77i64.to_le_bytes()); // clusterSessionId
    bytes.extend_from_slice(&5i64.to_le_bytes()); // correlationId
    bytes.extend_from_slice(&2i64.to_le_bytes()); // leadershipTermId
    bytes.extend_from_slice(&1i32.to_le_bytes()); // leaderMemberId
    bytes.extend_from_slice(&2i32.to_le_bytes()); // code REDIRECT
    bytes.extend_from_slice(&7u32.to_le_bytes());
    bytes.extend_from_slice(b"1=h:900");
    match decode_with(Layout::Aeron1_15, &bytes) {
        Ok(Message::Event(event)) => {
            assert_eq!(
                (
                    event.cluster_session_id,
                    event.correlation_id,
                    event.leader_member_id
                ),
                (77, 5, 1)
            );
            assert_eq!(event.code, EventCode::Redirect);
            assert_eq!(event.detail, "1=h:900");
        }
        other => panic!("expected an event, got {other:?}"),
    }
    // The same bytes are a connect request under the current template ids:
    // the layout decides, so it is part of the configuration.
    assert!(!matches!(decode(&bytes), Ok(Message::Event(_))));
}

#[test]
fn egress_message_header_of_1_15_is_a_session_message() {
    let mut bytes = vec![24, 0, 2, 0, 111, 0, 0, 0];
    bytes.extend_from_slice(&1i64.to_le_bytes());
    bytes.extend_from_slice(&42i64.to_le_bytes());
    bytes.extend_from_slice(&0i64.to_le_bytes());
    bytes.extend_from_slice(b"echo");
    match decode_with(Layout::Aeron1_15, &bytes) {
        Ok(Message::Session(header, payload)) => {
            assert_eq!(header.cluster_session_id, 42);
            assert_eq!(payload, b"echo");
        }
        other => panic!("expected a session message, got {other:?}"),
    }
}

#[test]
fn keep_alive_layouts_byte_for_byte() {
    let current = encode_with(Layout::Current, &keep_alive());
    assert_eq!(&current[..8], &[16, 0, 5, 0, 111, 0, 16, 0]);
    let old = encode_with(Layout::Aeron1_15, &keep_alive());
    assert_eq!(&old[..8], &[16, 0, 6, 0, 111, 0, 0, 0]);
    assert_eq!(&current[8..], &old[8..]);
}

/// Found by the cargo-fuzz target (`tests/fuzz`): a 1.15 connect request
/// with two bytes after its credentials. Aeron 1.15's request has no client
/// info, so they belong to no field; read as client info, the decoded
/// message did not survive a re-encode (which writes no client info in
/// that layout).
#[test]
fn a_legacy_connect_request_has_no_client_info_whatever_follows_it() {
    let bytes = [
        0u8, 0, 4, 0, 111, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        255, 0, 4,
    ];
    let message = decode_with(Layout::Aeron1_15, &bytes).expect("a 1.15 connect request");
    let Message::Connect(request) = &message else {
        panic!("expected a connect request, got {message:?}");
    };
    assert_eq!(request.client_info, "");
    let again = encode_with(Layout::Aeron1_15, &message);
    assert_eq!(decode_with(Layout::Aeron1_15, &again), Ok(message));
}

/// Found by the cargo-fuzz target too: a 1.15 connect request whose
/// sender wrote a longer block. Aeron 1.15's request has no version field;
/// the bytes where a later schema keeps it are not read.
#[test]
fn a_legacy_connect_request_reads_no_version_from_a_longer_block() {
    let mut bytes = vec![36u8, 0, 4, 0, 111, 0, 0, 0];
    let mut block = [0u8; 36];
    block[12] = 4; // where the current schema keeps `version`
    bytes.extend_from_slice(&block);
    bytes.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]); // two empty var fields
    let message = decode_with(Layout::Aeron1_15, &bytes).expect("a 1.15 connect request");
    let Message::Connect(request) = &message else {
        panic!("expected a connect request, got {message:?}");
    };
    assert_eq!(request.version, 0);
    let again = encode_with(Layout::Aeron1_15, &message);
    assert_eq!(decode_with(Layout::Aeron1_15, &again), Ok(message));
}
