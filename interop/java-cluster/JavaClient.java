import io.aeron.Aeron;
import io.aeron.cluster.client.AeronCluster;
import io.aeron.cluster.client.EgressListener;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import io.aeron.exceptions.TimeoutException;
import org.agrona.concurrent.AgentInvoker;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Aeron's own Java cluster client ({@code AeronCluster}), built against the
 * version prepare.sh fetched. Two modes:
 *
 * <p>{@code anchor ATTEMPTS DEADLINE_MS ENDPOINTS}: the workload of the #1574 anchor
 * table (docs/AERON.md): connect attempts whose deadline passes while the
 * client's media driver is held (so the egress subscription add is still
 * in flight), then a retry that connects and closes. The client's media
 * driver runs in this process with ThreadingMode.INVOKER: a duty thread
 * invokes it, and holding it means not invoking it.
 *
 * ENDPOINTS are the cluster's ingress endpoints ("0=localhost:20110"). Prints one line:
 * {@code ROW attempts=A timed_out=T connected=C live_subscriptions=S live_publications=P}
 * where S and P come from the client's media driver's own counters: receive
 * channel status counters (each egress subscription is on its own ephemeral
 * port, so one per live subscription) and publisher limits on the ingress
 * stream.
 *
 * <p>{@code bench CONNECTS WARMUP ECHOES ENDPOINTS}: one round of the Rust-vs-Java
 * benchmark (docs/BENCHMARKS.md, interop/java-cluster/bench.sh): CONNECTS
 * connects and closes, then a connect, WARMUP echoes and ECHOES timed echoes
 * of a 32-byte message, one at a time. The client's media driver runs on a
 * thread of its own (SHARED); the client polls with a busy-spin idle
 * strategy, as the Rust side does. Prints
 * {@code RESULT client=java connect_us=… p50_us=… p99_us=…}, each the median
 * connect time or the round trip percentile of this round.
 */
public final class JavaClient {
    static final int INGRESS_STREAM = 101;
    static final int EGRESS_STREAM = 102;
    static final int PUBLISHER_LIMIT_TYPE_ID = 1;
    static final int RECEIVE_CHANNEL_STATUS_TYPE_ID = 7;

    static AeronCluster.Context cluster(Aeron aeron, String endpoints, long timeoutMs) {
        return new AeronCluster.Context()
            .aeron(aeron)
            .ownsAeronClient(false) // a long-lived client reuses its Aeron
            .ingressChannel("aeron:udp")
            .ingressStreamId(INGRESS_STREAM)
            .ingressEndpoints(endpoints)
            .egressChannel("aeron:udp?endpoint=localhost:0")
            .egressStreamId(EGRESS_STREAM)
            .messageTimeoutNs(TimeUnit.MILLISECONDS.toNanos(timeoutMs));
    }

    public static void main(String[] args) throws Exception {
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        switch (args[0]) {
            case "anchor" -> anchor(rest);
            case "bench" -> bench(rest);
            default -> throw new IllegalArgumentException("mode must be anchor or bench, not " + args[0]);
        }
    }

    /** The value at quantile q of sorted samples (nearest rank). */
    static long quantile(long[] sorted, double q) {
        int rank = (int) Math.ceil(q * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    static void bench(String[] args) throws Exception {
        int connects = Integer.parseInt(args[0]);
        int warmup = Integer.parseInt(args[1]);
        int echoes = Integer.parseInt(args[2]);
        String endpoints = args[3];
        Path dir = Files.createTempDirectory("leakless-java-bench");
        MediaDriver.Context driverContext = new MediaDriver.Context()
            .aeronDirectoryName(dir.resolve("aeron").toString())
            .threadingMode(ThreadingMode.SHARED)
            .dirDeleteOnStart(true)
            .dirDeleteOnShutdown(true);
        try (MediaDriver driver = MediaDriver.launch(driverContext);
             Aeron aeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(driverContext.aeronDirectoryName()))) {
            long[] connectNs = new long[connects];
            for (int i = 0; i < connects; i++) {
                long start = System.nanoTime();
                try (AeronCluster client = AeronCluster.connect(cluster(aeron, endpoints, 10_000)
                    .idleStrategy(new BusySpinIdleStrategy()))) {
                    connectNs[i] = System.nanoTime() - start;
                }
            }
            Arrays.sort(connectNs);
            long[] received = {0};
            EgressListener listener = (sessionId, timestamp, buffer, offset, length, header) -> received[0]++;
            UnsafeBuffer message = new UnsafeBuffer(new byte[32]);
            long[] rtt = new long[echoes];
            try (AeronCluster client = AeronCluster.connect(cluster(aeron, endpoints, 10_000)
                .idleStrategy(new BusySpinIdleStrategy())
                .egressListener(listener))) {
                BusySpinIdleStrategy idle = new BusySpinIdleStrategy();
                for (int i = 0; i < warmup + echoes; i++) {
                    long start = System.nanoTime();
                    message.putLong(0, start);
                    while (client.offer(message, 0, message.capacity()) < 0) {
                        idle.idle();
                    }
                    long expected = received[0] + 1;
                    while (received[0] < expected) {
                        idle.idle(client.pollEgress());
                    }
                    if (i >= warmup) {
                        rtt[i - warmup] = System.nanoTime() - start;
                    }
                }
            }
            Arrays.sort(rtt);
            System.out.printf("RESULT client=java connect_us=%.1f p50_us=%.1f p99_us=%.1f%n",
                quantile(connectNs, 0.5) / 1e3, quantile(rtt, 0.5) / 1e3, quantile(rtt, 0.99) / 1e3);
        }
    }

    static void anchor(String[] args) throws Exception {
        int attempts = Integer.parseInt(args[0]);
        long deadlineMs = Long.parseLong(args[1]);
        String endpoints = args[2];

        Path dir = Files.createTempDirectory("leakless-java-client");
        MediaDriver.Context driverContext = new MediaDriver.Context()
            .aeronDirectoryName(dir.resolve("aeron").toString())
            .threadingMode(ThreadingMode.INVOKER)
            .timerIntervalNs(TimeUnit.MILLISECONDS.toNanos(100))
            .dirDeleteOnStart(true)
            .dirDeleteOnShutdown(true);
        AtomicBoolean held = new AtomicBoolean(false);
        AtomicBoolean running = new AtomicBoolean(true);
        try (MediaDriver driver = MediaDriver.launch(driverContext)) {
            AgentInvoker invoker = driver.sharedAgentInvoker();
            Thread duty = new Thread(() -> {
                while (running.get()) {
                    if (held.get() || invoker.invoke() == 0) {
                        Thread.onSpinWait();
                    }
                }
            });
            duty.start();
            int timedOut = 0;
            int connected = 0;
            // The client must not give up on a held driver: a minute.
            try (Aeron aeron = Aeron.connect(new Aeron.Context()
                .aeronDirectoryName(driverContext.aeronDirectoryName())
                .driverTimeoutMs(60_000))) {
                held.set(true);
                for (int i = 0; i < attempts; i++) {
                    AeronCluster.AsyncConnect connect = AeronCluster.asyncConnect(cluster(aeron, endpoints, deadlineMs));
                    try {
                        while (connect.poll() == null) {
                            Thread.onSpinWait();
                        }
                        throw new IllegalStateException("connected while the driver was held");
                    } catch (TimeoutException expected) {
                        timedOut++;
                    } finally {
                        connect.close();
                    }
                }
                held.set(false);
                try (AeronCluster client = AeronCluster.connect(cluster(aeron, endpoints, 10_000))) {
                    connected++;
                }
                // Let the driver finish what the closes asked (its timer
                // runs every 100 ms) before reading its counters.
                Thread.sleep(2_000);
                int[] subscriptions = {0};
                int[] publications = {0};
                aeron.countersReader().forEach((counterId, typeId, key, label) -> {
                    if (typeId == RECEIVE_CHANNEL_STATUS_TYPE_ID) {
                        subscriptions[0]++;
                    } else if (typeId == PUBLISHER_LIMIT_TYPE_ID && key.getInt(12) == INGRESS_STREAM) {
                        publications[0]++;
                    }
                });
                System.out.println("ROW attempts=" + attempts + " timed_out=" + timedOut + " connected=" + connected +
                    " live_subscriptions=" + subscriptions[0] + " live_publications=" + publications[0]);
            } finally {
                running.set(false);
                duty.join();
            }
        }
    }
}
