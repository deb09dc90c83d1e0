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
import java.util.concurrent.TimeUnit;

/**
 * One member of an Aeron Cluster (1.15.1) whose service echoes every session
 * message. Arguments: the node's directory, and optionally a secret: then
 * every session is challenged and must answer with the secret.
 *
 * A single node by default; {@code -Dleakless.members=3 -Dleakless.member=i}
 * makes it member i of a three-node cluster on localhost. Member i listens on
 * ingress 20110+i, member status 20220+i, log 20330+i, catchup 20440+i,
 * log control 20550+i, archive control 8010+i, archive responses 8020+2i and
 * 8021+2i.
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
        int memberId = Integer.getInteger("leakless.member", 0);
        int memberCount = Integer.getInteger("leakless.members", 1);
        StringBuilder all = new StringBuilder();
        for (int i = 0; i < memberCount; i++) {
            if (i > 0) all.append('|');
            all.append(i).append(",localhost:").append(20110 + i).append(",localhost:").append(20220 + i)
                .append(",localhost:").append(20330 + i).append(",localhost:").append(20440 + i)
                .append(",localhost:").append(8010 + i);
        }
        String members = all.toString();
        // One member: a unicast log to itself. Several: the log goes out on
        // a manual multi-destination publication the leader adds followers to.
        String logChannel = memberCount == 1
            ? "aeron:udp?term-length=256k|endpoint=localhost:20330"
            : "aeron:udp?term-length=256k|control-mode=manual|control=localhost:" + (20550 + memberId);

        MediaDriver.Context driver = new MediaDriver.Context()
            .aeronDirectoryName(aeronDir)
            .threadingMode(ThreadingMode.SHARED)
            .dirDeleteOnStart(true);
        Archive.Context archive = new Archive.Context()
            .aeronDirectoryName(aeronDir)
            .archiveDir(new File(base, "archive"))
            .controlChannel("aeron:udp?endpoint=localhost:" + (8010 + memberId))
            .localControlChannel("aeron:ipc?term-length=64k")
            .threadingMode(ArchiveThreadingMode.SHARED)
            .deleteArchiveOnStart(true);
        AeronArchive.Context archiveClient = new AeronArchive.Context()
            .controlRequestChannel("aeron:udp?endpoint=localhost:" + (8010 + memberId))
            .controlResponseChannel("aeron:udp?endpoint=localhost:" + (8020 + 2 * memberId))
            .aeronDirectoryName(aeronDir);
        ConsensusModule.Context consensus = new ConsensusModule.Context()
            .clusterMemberId(memberId)
            // Members start one after another: canvass long enough to
            // see each other, and notice a dead leader within 2 s so the
            // failover test is quick (1.15.1's default is 10 s).
            .startupCanvassTimeoutNs(TimeUnit.SECONDS.toNanos(5))
            .leaderHeartbeatTimeoutNs(TimeUnit.SECONDS.toNanos(2))
            .errorHandler(Throwable::printStackTrace)
            .clusterMembers(members)
            .clusterDir(new File(base, "cluster"))
            .ingressChannel("aeron:udp")
            .logChannel(logChannel)
            .archiveContext(archiveClient.clone())
            .aeronDirectoryName(aeronDir)
            .deleteDirOnStart(true);
        if (args.length > 1) {
            byte[] secret = args[1].getBytes(StandardCharsets.US_ASCII);
            consensus.authenticatorSupplier(() -> new SecretAuthenticator(secret));
        }
        ClusteredServiceContainer.Context service = new ClusteredServiceContainer.Context()
            .aeronDirectoryName(aeronDir)
            .archiveContext(archiveClient.clone().controlResponseChannel("aeron:udp?endpoint=localhost:" + (8021 + 2 * memberId)))
            .clusterDir(new File(base, "cluster"))
            .clusteredService(new Echo());

        try (ClusteredMediaDriver node = ClusteredMediaDriver.launch(driver, archive, consensus);
             ClusteredServiceContainer container = ClusteredServiceContainer.launch(service)) {
            System.out.println("READY");
            System.out.flush();
            // Run until stdin closes (the Rust harness holds it open, then
            // drops it), something is written to it (cluster.sh stop), or
            // the process is killed. Not SIGTERM: a JVM started where
            // SIGTERM is ignored keeps ignoring it.
            System.in.read();
        }
    }
}
