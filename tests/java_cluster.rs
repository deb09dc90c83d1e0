//! leakless against a real Java Aeron Cluster (Aeron 1.15.1, an echo
//! service). One node: the connect, echoes, keep-alives past the session
//! timeout, close; Aeron #1574 against the real cluster; authentication.
//! Three nodes (tests named `three_nodes_*`): REDIRECT from a follower, and
//! failover when the leader dies.
//!
//! Prepare the node, then run (feature `java-cluster`):
//!
//! ```sh
//! eval "$(bash interop/java-cluster/prepare.sh)"
//! cargo test --features java-cluster --test java_cluster -- --test-threads=1
//! ```
#![cfg(all(feature = "java-cluster", not(loom)))]

use std::thread;
use std::time::{Duration, Instant};

mod common;

use leakless::aeron::AeronDriver;
use leakless::aeron::testing::{
    JavaCluster, JavaNode, SteppedDriver, driver_counts, eventually, ingress_endpoint, java_layout,
    publication_channels, receive_channels, time_out_while_held,
};
use leakless::connect::{
    Backoff, Cleanup, ConnectConfig, ConnectError, Leakless, Naive, connect_with,
};
use leakless::protocol::Layout;
use rusteron_client::Aeron;

use common::cluster::{
    EGRESS_STREAM, INGRESS_STREAM, WAIT, assert_nothing_left, echo, keep_alive_until,
};
const EPHEMERAL_EGRESS: &str = "aeron:udp?endpoint=localhost:0";

/// The client's configuration for the prepared Aeron version, without
/// members.
///
/// The egress takes an ephemeral port (`:0`), as Aeron's own client does:
/// a connect right after a close gets a new endpoint, never the one just
/// closed (whose old session's egress publication, still connected in the
/// cluster's driver, would send the answer where no image is yet).
fn base(timeout: Duration) -> ConnectConfig {
    ConnectConfig::new(EPHEMERAL_EGRESS, EGRESS_STREAM)
        .ingress_stream_id(INGRESS_STREAM)
        .layout(java_layout())
        .timeout(timeout)
}

/// The ingress channel of cluster member `member`.
fn member_channel(member: usize) -> String {
    ConnectConfig::endpoint_channel(&ingress_endpoint(member))
}

/// The configuration naming each of `members` members' endpoints.
fn every_member(members: usize) -> ConnectConfig {
    (0..members).fold(base(WAIT), |config, member| {
        config.member(member as i32, member_channel(member))
    })
}

/// The configuration for the one-node cluster.
fn config(timeout: Duration) -> ConnectConfig {
    base(timeout).member(0, member_channel(0))
}

#[test]
fn connect_echo_keep_alive_past_the_session_timeout_then_close() {
    let node = JavaNode::start().expect("start the Java node");
    let media = SteppedDriver::launch().unwrap();
    let driver = AeronDriver::connect(media.dir()).unwrap();
    let observer = media.client().unwrap();
    let mut client =
        connect_with::<_, Leakless>(driver.clone(), config(WAIT), &mut Backoff::default())
            .expect("connect to the Java cluster");
    assert!(eventually(WAIT, || node.saw("SESSION_OPEN")));

    for n in 0..3u8 {
        echo(&mut client, &[b'e', b'0' + n]);
    }
    // The node's session timeout is 5 s (1.15.1's default): stay quiet but
    // for keep-alives for longer than that, then talk again.
    let quiet_until = Instant::now() + Duration::from_secs(6);
    while Instant::now() < quiet_until {
        client.send_keep_alive().unwrap();
        thread::sleep(Duration::from_millis(500));
    }
    assert!(
        !node.saw("SESSION_CLOSE"),
        "keep-alives kept the session open"
    );
    echo(&mut client, b"still here");

    client.close().unwrap();
    assert!(
        eventually(WAIT, || node.saw("SESSION_CLOSE 1 CLIENT_ACTION")),
        "the node saw the client close its session: {:?}",
        node.lines()
    );
    assert_nothing_left(&driver, &observer);
}

/// The #1574 workload (the anchor table in docs/AERON.md, measured beside
/// Aeron's own Java clients by interop/java-cluster/anchors.sh): attempts
/// that time out in Pending while the client's own media driver is held,
/// each with an ephemeral egress port (an endpoint of its own); then the driver runs and one more
/// attempt connects and closes. Returns the client subscriptions left live,
/// from the audit and from the media driver's own counters (one receive
/// endpoint per ephemeral egress port).
fn timed_out_attempts_then_connect<C: Cleanup>(attempts: usize) -> (usize, usize) {
    let node = JavaNode::start().expect("start the Java node");
    let media = SteppedDriver::launch().unwrap();
    let driver = AeronDriver::connect(media.dir()).unwrap();
    let observer = media.client().unwrap();
    time_out_while_held::<C>(
        &media,
        &driver,
        |_| config(Duration::from_millis(50)),
        attempts,
    )
    .unwrap();
    media.release();
    // The retry connects.
    let client = connect_with::<_, C>(driver.clone(), config(WAIT), &mut Backoff::default())
        .expect("the retry connects");
    assert!(eventually(WAIT, || node.count("SESSION_OPEN") == 1));
    client.close().unwrap();
    assert!(eventually(WAIT, || driver.in_flight() == 0));
    let audit = driver.ledger().live_subscriptions;
    // The driver closes an endpoint on its timer: wait until it holds
    // what the audit says (both must agree).
    assert!(
        eventually(WAIT, || receive_channels(&observer) == audit),
        "driver {} vs audit {audit}",
        receive_channels(&observer)
    );
    (audit, receive_channels(&observer))
}

#[test]
fn aeron_1574_against_the_real_cluster() {
    let naive = timed_out_attempts_then_connect::<Naive>(3);
    let leakless = timed_out_attempts_then_connect::<Leakless>(3);
    println!(
        "after 3 timed-out attempts and a connect, live subscriptions (audit, driver counters): naive {naive:?}, leakless {leakless:?}"
    );
    assert_eq!(
        naive,
        (3, 3),
        "one leaked subscription per timed-out attempt"
    );
    assert_eq!(leakless, (0, 0));
}

#[test]
fn authentication_challenge_answered_and_bad_credentials_rejected() {
    let node = JavaNode::start_with(&["secret"]).expect("start the Java node");
    let media = SteppedDriver::launch().unwrap();
    let driver = AeronDriver::connect(media.dir()).unwrap();

    let client = connect_with::<_, Leakless>(
        driver.clone(),
        config(WAIT).credentials("secret"),
        &mut Backoff::default(),
    )
    .expect("the challenge is answered with the secret");
    assert!(eventually(WAIT, || node.saw("AUTHENTICATED")));
    client.close().unwrap();

    let failed = match connect_with::<_, Leakless>(
        driver.clone(),
        config(WAIT).credentials("wrong"),
        &mut Backoff::default(),
    ) {
        Ok(_) => panic!("wrong credentials must be rejected"),
        Err(failed) => failed,
    };
    assert!(
        matches!(failed.error, ConnectError::AuthenticationRejected { .. }),
        "{}",
        failed.error
    );
    assert!(!failed.error.is_transient());
    assert!(node.saw("REJECTED"));
    assert!(eventually(WAIT, || driver.ledger().live() == 0));
}

#[test]
fn the_other_layout_goes_unanswered_and_the_timeout_names_it() {
    let node = JavaNode::start().expect("start the Java node");
    let media = SteppedDriver::launch().unwrap();
    let driver = AeronDriver::connect(media.dir()).unwrap();
    let observer = media.client().unwrap();
    let wrong = match java_layout() {
        Layout::Current => Layout::Aeron1_15,
        Layout::Aeron1_15 => Layout::Current,
    };
    // The node reads a request in the other layout as another message (a
    // close request, or nothing it knows) and never answers: the attempt
    // ends at its deadline, saying the request went unanswered in `wrong`.
    let failed = match connect_with::<_, Leakless>(
        driver.clone(),
        config(Duration::from_secs(5)).layout(wrong),
        &mut Backoff::default(),
    ) {
        Ok(_) => panic!("a connect in the other layout must not succeed"),
        Err(failed) => failed,
    };
    assert!(
        matches!(
            failed.error,
            ConnectError::TimedOut { unanswered: Some(layout), .. } if layout == wrong
        ),
        "{}",
        failed.error
    );
    let message = failed.error.to_string();
    assert!(
        message.contains(wrong.releases()) && message.contains("ConnectConfig::layout"),
        "{message}"
    );
    assert!(!node.saw("SESSION_OPEN"), "{:?}", node.lines());
    assert_nothing_left(&driver, &observer);
}

/// Asserts that the client's media driver soon holds exactly one ingress
/// publication, and that it goes to `member` (read from the driver's own
/// counters, not from leakless's audit).
fn assert_ingress_only_to(observer: &Aeron, member: usize) {
    assert!(
        eventually(WAIT, || publication_channels(observer, INGRESS_STREAM)
            == vec![member_channel(member)]),
        "ingress publications: {:?}, expected only member {member}'s",
        publication_channels(observer, INGRESS_STREAM)
    );
}

#[test]
fn three_nodes_redirect_from_a_follower_ends_connected_to_the_leader() {
    let cluster = JavaCluster::start(3).expect("start three Java nodes");
    let leader = cluster.leader().expect("a leader").member();
    let follower = cluster.follower().expect("a follower").member();
    let media = SteppedDriver::launch().unwrap();
    let driver = AeronDriver::connect(media.dir()).unwrap();
    let observer = media.client().unwrap();

    // Only the follower's endpoint is known: it answers REDIRECT.
    let mut client = connect_with::<_, Leakless>(
        driver.clone(),
        base(WAIT).member(follower as i32, member_channel(follower)),
        &mut Backoff::default(),
    )
    .expect("connect through a follower");
    assert_eq!(client.leader_member_id(), leader as i32);
    // The probe assert_nothing_left uses sees the live subscription (one
    // position counter per image: the leader's, maybe the follower's).
    assert!(driver_counts(&observer, EGRESS_STREAM).subscriptions >= 1);
    assert_ingress_only_to(&observer, leader);
    echo(&mut client, b"via redirect");
    client.close().unwrap();
    assert!(eventually(WAIT, || driver.ledger().live() == 0));

    // Every member's endpoint is known: one publication per member, the
    // first connected wins (redirected if it is a follower's); the others
    // are closed.
    let (before, cancelled_before) = (driver.ledger(), driver.add_counts().cancelled);
    let mut client =
        connect_with::<_, Leakless>(driver.clone(), every_member(3), &mut Backoff::default())
            .expect("connect with every member's endpoint");
    assert_eq!(client.leader_member_id(), leader as i32);
    // Every member's publication was asked for: created, or cancelled while
    // pending when a publication that was ready at once (the leader's, still
    // lingering from the first client) won before the others were created.
    assert!(eventually(WAIT, || driver.in_flight() == 0));
    let during = driver.ledger();
    let cancelled = driver.add_counts().cancelled - cancelled_before;
    assert!(during.created_publications - before.created_publications + cancelled >= 3);
    assert_eq!(during.live_publications, 1, "{during:?}");
    assert_ingress_only_to(&observer, leader);
    echo(&mut client, b"one of three");
    client.close().unwrap();
    assert_nothing_left(&driver, &observer);
}

#[test]
fn three_nodes_failover_follows_the_new_leader() {
    let mut cluster = JavaCluster::start(3).expect("start three Java nodes");
    let media = SteppedDriver::launch().unwrap();
    let driver = AeronDriver::connect(media.dir()).unwrap();
    let observer = media.client().unwrap();
    let mut client =
        connect_with::<_, Leakless>(driver.clone(), every_member(3), &mut Backoff::default())
            .expect("connect to the cluster");
    echo(&mut client, b"before");
    let old_leader = client.leader_member_id();
    let old_term = client.leadership_term_id();

    cluster.kill(old_leader as usize);
    // The survivors elect a leader, which tells the session (NewLeaderEvent);
    // the client moves its ingress publication there.
    assert!(
        keep_alive_until(&mut client, Duration::from_secs(60), |client| {
            client.leader_member_id() != old_leader
        }),
        "no NewLeaderEvent: {:?}",
        cluster.running().map(JavaNode::lines).collect::<Vec<_>>()
    );
    let new_leader = client.leader_member_id();
    assert!(client.leadership_term_id() > old_term);
    assert_eq!(
        cluster.leader().map(|node| node.member() as i32),
        Some(new_leader)
    );
    assert!(client.is_open());
    assert!(
        keep_alive_until(&mut client, WAIT, |_| {
            publication_channels(&observer, INGRESS_STREAM)
                == vec![member_channel(new_leader as usize)]
        }),
        "the ingress publication moved to the new leader: {:?}",
        publication_channels(&observer, INGRESS_STREAM)
    );
    echo(&mut client, b"after");

    client.close().unwrap();
    let node = cluster.node(new_leader as usize).unwrap();
    assert!(
        eventually(WAIT, || node.saw("SESSION_CLOSE")),
        "the new leader saw the session close: {:?}",
        node.lines()
    );
    assert_nothing_left(&driver, &observer);
}
