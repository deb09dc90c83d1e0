import io.aeron.cluster.codecs.ChallengeEncoder;
import io.aeron.cluster.codecs.ChallengeResponseEncoder;
import io.aeron.cluster.codecs.EventCode;
import io.aeron.cluster.codecs.MessageHeaderEncoder;
import io.aeron.cluster.codecs.NewLeaderEventEncoder;
import io.aeron.cluster.codecs.SessionCloseRequestEncoder;
import io.aeron.cluster.codecs.SessionConnectRequestEncoder;
import io.aeron.cluster.codecs.SessionEventEncoder;
import io.aeron.cluster.codecs.SessionKeepAliveEncoder;
import io.aeron.cluster.codecs.SessionMessageHeaderEncoder;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.charset.StandardCharsets;

/**
 * Writes test vectors for tests/protocol_vectors.rs: every session-protocol
 * message the leakless client encodes or decodes, written by this Aeron
 * version's own generated encoders (current layout: 1.19 and later). One
 * line per message, "name hex". The values are the ones the Rust test
 * expects; keep the two in step.
 */
public final class Vectors {
    static final UnsafeBuffer BUFFER = new UnsafeBuffer(new byte[1024]);
    static final MessageHeaderEncoder HEADER = new MessageHeaderEncoder();

    static final byte[] CREDENTIALS = "secret".getBytes(StandardCharsets.US_ASCII);
    static final byte[] CHALLENGE = "who are you?".getBytes(StandardCharsets.US_ASCII);
    static final byte[] PAYLOAD = "echo".getBytes(StandardCharsets.US_ASCII);
    static final int PROTOCOL_VERSION = 3 << 8; // 0.3.0

    static void print(String name, int length) {
        StringBuilder hex = new StringBuilder();
        for (int i = 0; i < length; i++) {
            hex.append(String.format("%02x", BUFFER.getByte(i) & 0xff));
        }
        System.out.println(name + " " + hex);
    }

    static int header() {
        return MessageHeaderEncoder.ENCODED_LENGTH;
    }

    public static void main(String[] args) {
        System.out.println("# schema " + MessageHeaderEncoder.SCHEMA_ID + " version " + MessageHeaderEncoder.SCHEMA_VERSION);

        SessionMessageHeaderEncoder session = new SessionMessageHeaderEncoder()
            .wrapAndApplyHeader(BUFFER, 0, HEADER)
            .leadershipTermId(3).clusterSessionId(42).timestamp(1_700_000_000_000L);
        BUFFER.putBytes(header() + session.encodedLength(), PAYLOAD);
        print("session_message", header() + session.encodedLength() + PAYLOAD.length);

        for (EventCode code : new EventCode[] {EventCode.OK, EventCode.REDIRECT, EventCode.ERROR}) {
            SessionEventEncoder event = new SessionEventEncoder()
                .wrapAndApplyHeader(BUFFER, 0, HEADER)
                .clusterSessionId(42).correlationId(7).leadershipTermId(3).leaderMemberId(1)
                .code(code).version(PROTOCOL_VERSION).leaderHeartbeatTimeoutNs(10_000_000_000L)
                .detail(code == EventCode.OK ? "" : code == EventCode.REDIRECT
                    ? "1=localhost:20111,0=localhost:20110" : "no, thank you");
            print("session_event_" + code.name().toLowerCase(), header() + event.encodedLength());
        }

        SessionConnectRequestEncoder connect = new SessionConnectRequestEncoder()
            .wrapAndApplyHeader(BUFFER, 0, HEADER)
            .correlationId(7).responseStreamId(102).version(PROTOCOL_VERSION)
            .responseChannel("aeron:udp?endpoint=localhost:20900")
            .putEncodedCredentials(CREDENTIALS, 0, CREDENTIALS.length)
            .clientInfo("leakless");
        print("connect_request", header() + connect.encodedLength());

        SessionCloseRequestEncoder close = new SessionCloseRequestEncoder()
            .wrapAndApplyHeader(BUFFER, 0, HEADER)
            .leadershipTermId(3).clusterSessionId(42);
        print("close_request", header() + close.encodedLength());

        SessionKeepAliveEncoder keepAlive = new SessionKeepAliveEncoder()
            .wrapAndApplyHeader(BUFFER, 0, HEADER)
            .leadershipTermId(3).clusterSessionId(42);
        print("keep_alive", header() + keepAlive.encodedLength());

        NewLeaderEventEncoder newLeader = new NewLeaderEventEncoder()
            .wrapAndApplyHeader(BUFFER, 0, HEADER)
            .leadershipTermId(4).clusterSessionId(42).leaderMemberId(2)
            .ingressEndpoints("0=localhost:20110,1=localhost:20111,2=localhost:20112");
        print("new_leader_event", header() + newLeader.encodedLength());

        ChallengeEncoder challenge = new ChallengeEncoder()
            .wrapAndApplyHeader(BUFFER, 0, HEADER)
            .correlationId(7).clusterSessionId(42)
            .putEncodedChallenge(CHALLENGE, 0, CHALLENGE.length);
        print("challenge", header() + challenge.encodedLength());

        ChallengeResponseEncoder response = new ChallengeResponseEncoder()
            .wrapAndApplyHeader(BUFFER, 0, HEADER)
            .correlationId(7).clusterSessionId(42)
            .putEncodedCredentials(CREDENTIALS, 0, CREDENTIALS.length);
        print("challenge_response", header() + response.encodedLength());
    }
}
