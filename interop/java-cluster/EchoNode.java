import io.aeron.Image;
import io.aeron.Publication;
import io.aeron.archive.Archive;
import io.aeron.archive.ArchiveThreadingMode;
import io.aeron.archive.client.AeronArchive;
import io.aeron.cluster.ClusteredMediaDriver;
import io.aeron.cluster.ConsensusModule;
import io.aeron.cluster.codecs.CloseReason;
import io.aeron.cluster.service.ClientSession;
import io.aeron.cluster.service.Cluster;
import io.aeron.cluster.service.ClusteredService;
import io.aeron.cluster.service.ClusteredServiceContainer;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import io.aeron.logbuffer.Header;
import io.aeron.security.Authenticator;
import io.aeron.security.SessionProxy;
import org.agrona.DirectBuffer;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * A one-node Aeron Cluster (1.15.1) whose service echoes every session
 * message. Arguments: the node's directory, and optionally a secret: then
 * every session is challenged and must answer with the secret.
 */
public final class EchoNode {
    /** Challenges every session; accepts the one that answers with the secret. */
    static final class SecretAuthenticator implements Authenticator {
        private final byte[] secret;
        private final Map<Long, Boolean> answers = new HashMap<>();

        SecretAuthenticator(byte[] secret) {
            this.secret = secret;
        }

        public void onConnectRequest(long sessionId, byte[] credentials, long nowMs) {}

        public void onChallengeResponse(long sessionId, byte[] credentials, long nowMs) {
            answers.put(sessionId, Arrays.equals(secret, credentials));
        }

        public void onConnectedSession(SessionProxy session, long nowMs) {
            session.challenge("who are you?".getBytes(StandardCharsets.US_ASCII));
        }

        public void onChallengedSession(SessionProxy session, long nowMs) {
            Boolean accepted = answers.remove(session.sessionId());
            if (accepted == null) {
                return; // no answer yet
            }
            if (accepted) {
                session.authenticate(new byte[0]);
                System.out.println("AUTHENTICATED " + session.sessionId());
            } else {
                session.reject();
                System.out.println("REJECTED " + session.sessionId());
            }
        }
    }

    static final class Echo implements ClusteredService {
        public void onStart(Cluster cluster) {}
        public void onSessionOpen(ClientSession session, long timestamp) {
            System.out.println("SESSION_OPEN " + session.id());
        }
        public void onSessionClose(ClientSession session, long timestamp, CloseReason reason) {
            System.out.println("SESSION_CLOSE " + session.id() + " " + reason);
        }
        public void onSessionMessage(ClientSession session, long timestamp, DirectBuffer buffer, int offset, int length, Header header) {
            while (session.offer(buffer, offset, length) < 0) {
                Thread.yield();
            }
        }
        public void onTimerEvent(long correlationId, long timestamp) {}
        public void onTakeSnapshot(Publication snapshotPublication) {}
        public void onLoadSnapshot(Image snapshotImage) {}
        public void onRoleChange(Cluster.Role newRole) {
            System.out.println("ROLE " + newRole);
        }
        public void onTerminate(Cluster cluster) {}
    }

    public static void main(String[] args) throws Exception {
        String base = args[0];
        String aeronDir = base + "/aeron";
        String members = "0,localhost:20110,localhost:20220,localhost:20330,localhost:20440,localhost:8010";

        MediaDriver.Context driver = new MediaDriver.Context()
            .aeronDirectoryName(aeronDir)
            .threadingMode(ThreadingMode.SHARED)
            .dirDeleteOnStart(true);
        Archive.Context archive = new Archive.Context()
            .aeronDirectoryName(aeronDir)
            .archiveDir(new File(base, "archive"))
            .controlChannel("aeron:udp?endpoint=localhost:8010")
            .localControlChannel("aeron:ipc?term-length=64k")
            .threadingMode(ArchiveThreadingMode.SHARED)
            .deleteArchiveOnStart(true);
        AeronArchive.Context archiveClient = new AeronArchive.Context()
            .controlRequestChannel("aeron:udp?endpoint=localhost:8010")
            .controlResponseChannel("aeron:udp?endpoint=localhost:8020")
            .aeronDirectoryName(aeronDir);
        ConsensusModule.Context consensus = new ConsensusModule.Context()
            .clusterMemberId(0)
            .clusterMembers(members)
            .clusterDir(new File(base, "cluster"))
            .ingressChannel("aeron:udp")
            .logChannel("aeron:udp?term-length=256k|endpoint=localhost:20330")
            .archiveContext(archiveClient.clone())
            .aeronDirectoryName(aeronDir)
            .deleteDirOnStart(true);
        if (args.length > 1) {
            byte[] secret = args[1].getBytes(StandardCharsets.US_ASCII);
            consensus.authenticatorSupplier(() -> new SecretAuthenticator(secret));
        }
        ClusteredServiceContainer.Context service = new ClusteredServiceContainer.Context()
            .aeronDirectoryName(aeronDir)
            .archiveContext(archiveClient.clone().controlResponseChannel("aeron:udp?endpoint=localhost:8021"))
            .clusterDir(new File(base, "cluster"))
            .clusteredService(new Echo());

        try (ClusteredMediaDriver node = ClusteredMediaDriver.launch(driver, archive, consensus);
             ClusteredServiceContainer container = ClusteredServiceContainer.launch(service)) {
            System.out.println("READY");
            System.out.flush();
            // Run until stdin closes (the harness holds it open) or the process is killed.
            while (System.in.read() != -1) {}
        }
    }
}
