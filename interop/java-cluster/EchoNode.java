import io.aeron.ExclusivePublication;
import io.aeron.Image;
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
 * One member of a current Aeron Cluster (1.4x/1.5x API; built against the
 * version prepare.sh fetched) whose service echoes every session message.
 * Arguments: the node's directory, and optionally a secret: then every
 * session is challenged and must answer with the secret.
 *
 * A single node by default; {@code -Dleakless.members=3 -Dleakless.member=i}
 * makes it member i of a three-node cluster on localhost. Member i listens on
 * ingress 20110+i, consensus 20220+i, log 20330+i, catchup 20440+i and
 * archive control 8010+i (the same ports as the 1.15.1 node in aeron-1.15/).
 * {@code -Dleakless.hosts=h0,h1,h2} puts member i on host hi instead of
 * localhost (the network lab: each node in a namespace of its own), and
 * {@code -Dleakless.keep=true} keeps the node's archive and cluster
 * directories from an earlier run, so that a restarted node rejoins.
 *
 * It prints ROLE role, SESSION_OPEN id, SESSION_CLOSE id reason,
 * AUTHENTICATED id and REJECTED id, and READY once launched.
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
        private Cluster cluster;

        public void onStart(Cluster cluster, Image snapshotImage) {
            this.cluster = cluster;
        }
        public void onSessionOpen(ClientSession session, long timestamp) {
            System.out.println("SESSION_OPEN " + session.id());
        }
        public void onSessionClose(ClientSession session, long timestamp, CloseReason reason) {
            System.out.println("SESSION_CLOSE " + session.id() + " " + reason);
        }
        public void onSessionMessage(ClientSession session, long timestamp, DirectBuffer buffer, int offset, int length, Header header) {
            // Followers' offers are mocked (they return at once); the
            // leader's reach the client. Back pressure is waited out.
            while (session.offer(buffer, offset, length) < 0) {
                cluster.idleStrategy().idle();
            }
        }
        public void onTimerEvent(long correlationId, long timestamp) {}
        public void onTakeSnapshot(ExclusivePublication snapshotPublication) {}
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
        String[] hosts = new String[memberCount];
        Arrays.fill(hosts, "localhost");
        String hostList = System.getProperty("leakless.hosts");
        if (hostList != null) {
            String[] given = hostList.split(",");
            for (int i = 0; i < memberCount && i < given.length; i++) hosts[i] = given[i].trim();
        }
        boolean keep = Boolean.getBoolean("leakless.keep");
        String me = hosts[memberId];
        StringBuilder all = new StringBuilder();
        for (int i = 0; i < memberCount; i++) {
            if (i > 0) all.append('|');
            String h = hosts[i];
            all.append(i).append(',').append(h).append(':').append(20110 + i)
                .append(',').append(h).append(':').append(20220 + i)
                .append(',').append(h).append(':').append(20330 + i)
                .append(',').append(h).append(':').append(20440 + i)
                .append(',').append(h).append(':').append(8010 + i);
        }

        MediaDriver.Context driver = new MediaDriver.Context()
            .aeronDirectoryName(aeronDir)
            .threadingMode(ThreadingMode.SHARED)
            .dirDeleteOnStart(true)
            .dirDeleteOnShutdown(true);
        Archive.Context archive = new Archive.Context()
            .aeronDirectoryName(aeronDir)
            .archiveDir(new File(base, "archive"))
            .controlChannel("aeron:udp?endpoint=" + me + ":" + (8010 + memberId))
            .localControlChannel("aeron:ipc?term-length=64k")
            .replicationChannel("aeron:udp?endpoint=" + me + ":0")
            .recordingEventsEnabled(false)
            .threadingMode(ArchiveThreadingMode.SHARED)
            .deleteArchiveOnStart(!keep);
        // The consensus module and the service reach their own archive over IPC.
        AeronArchive.Context archiveClient = new AeronArchive.Context()
            .controlRequestChannel(archive.localControlChannel())
            .controlRequestStreamId(archive.localControlStreamId())
            .controlResponseChannel(archive.localControlChannel())
            .aeronDirectoryName(aeronDir);
        ConsensusModule.Context consensus = new ConsensusModule.Context()
            .clusterMemberId(memberId)
            // Members start one after another: canvass long enough to see
            // each other; notice a dead leader within 2 s so the failover
            // test is quick; and keep 1.15.1's 5 s session timeout, which
            // the keep-alive test outlasts.
            .startupCanvassTimeoutNs(TimeUnit.SECONDS.toNanos(5))
            .leaderHeartbeatTimeoutNs(TimeUnit.SECONDS.toNanos(2))
            .sessionTimeoutNs(TimeUnit.SECONDS.toNanos(5))
            .errorHandler(Throwable::printStackTrace)
            .clusterMembers(all.toString())
            .clusterDir(new File(base, "cluster"))
            .ingressChannel("aeron:udp")
            // No endpoint: the leader publishes the log on a manual
            // multi-destination channel and adds each follower's log endpoint.
            .logChannel("aeron:udp?term-length=256k")
            .replicationChannel("aeron:udp?endpoint=" + me + ":0")
            .archiveContext(archiveClient.clone())
            .aeronDirectoryName(aeronDir)
            .deleteDirOnStart(!keep);
        if (args.length > 1) {
            byte[] secret = args[1].getBytes(StandardCharsets.US_ASCII);
            consensus.authenticatorSupplier(() -> new SecretAuthenticator(secret));
        }
        ClusteredServiceContainer.Context service = new ClusteredServiceContainer.Context()
            .aeronDirectoryName(aeronDir)
            .archiveContext(archiveClient.clone())
            .clusterDir(new File(base, "cluster"))
            .errorHandler(Throwable::printStackTrace)
            .clusteredService(new Echo());

        try (ClusteredMediaDriver node = ClusteredMediaDriver.launch(driver, archive, consensus);
             ClusteredServiceContainer container = ClusteredServiceContainer.launch(service)) {
            System.out.println("READY");
            System.out.flush();
            // Run until stdin closes (the Rust harness holds it open, then
            // drops it), something is written to it (cluster.sh stop), or
            // the process is killed.
            System.in.read();
        }
    }
}
