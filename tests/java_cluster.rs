//! leakless against a real Java Aeron Cluster node (Aeron 1.15.1, one
//! member, an echo service): the connect, echoes, keep-alives past the
//! session timeout, close; and Aeron #1574 against the real cluster.
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

use leakless::aeron::AeronDriver;
use leakless::aeron::testing::{JavaNode, SteppedDriver, eventually};
use leakless::connect::{
    Backoff, Cleanup, ConnectConfig, ConnectError, Leakless, Naive, StateName, connect_with,
};
use leakless::protocol::Layout;

const WAIT: Duration = Duration::from_secs(10);

fn config(timeout: Duration) -> ConnectConfig {
    ConnectConfig::new("aeron:udp?endpoint=localhost:20900", 102)
        .member(0, "aeron:udp?endpoint=localhost:20110")
        .ingress_stream_id(101)
        .layout(Layout::Aeron1_15)
        .timeout(timeout)
}

#[test]
fn connect_echo_keep_alive_past_the_session_timeout_then_close() {
    let node = JavaNode::start().expect("start the Java node");
    let media = SteppedDriver::launch().unwrap();
    let driver = AeronDriver::connect(media.dir()).unwrap();
    let mut client =
        connect_with::<_, Leakless>(driver.clone(), config(WAIT), &mut Backoff::default())
            .expect("connect to the Java cluster");
    assert!(eventually(WAIT, || node.saw("SESSION_OPEN")));

    let echo = |client: &mut leakless::connect::Client<AeronDriver>, text: &[u8]| {
        assert!(eventually(WAIT, || client.offer(text).is_ok()));
        let mut got = Vec::new();
        assert!(eventually(WAIT, || {
            client.poll_egress(|payload| got.push(payload.to_vec()));
            !got.is_empty()
        }));
        assert_eq!(got, vec![text.to_vec()]);
    };
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
    assert_eq!(driver.ledger().live(), 0);
}

/// Attempts that time out in Pending while the client's own media driver is
/// held; then it runs and one more attempt connects. Returns the client
/// subscriptions left live, from the client's audit.
fn timed_out_attempts_then_connect<C: Cleanup>(attempts: usize) -> usize {
    let node = JavaNode::start().expect("start the Java node");
    let media = SteppedDriver::launch().unwrap();
    let driver = AeronDriver::connect(media.dir()).unwrap();
    media.hold();
    for _ in 0..attempts {
        let failed = match connect_with::<_, C>(
            driver.clone(),
            config(Duration::from_millis(50)),
            &mut Backoff::default(),
        ) {
            Ok(_) => panic!("nothing can be created while the driver is held"),
            Err(failed) => failed,
        };
        assert!(matches!(
            failed.error,
            ConnectError::TimedOut {
                state: StateName::Pending,
                ..
            }
        ));
    }
    media.release();
    // The retry connects.
    let client = connect_with::<_, C>(driver.clone(), config(WAIT), &mut Backoff::default())
        .expect("the retry connects");
    assert!(eventually(WAIT, || node.count("SESSION_OPEN") == 1));
    client.close().unwrap();
    assert!(eventually(WAIT, || driver.in_flight() == 0));
    driver.ledger().live_subscriptions
}

#[test]
fn aeron_1574_against_the_real_cluster() {
    let naive = timed_out_attempts_then_connect::<Naive>(3);
    let leakless = timed_out_attempts_then_connect::<Leakless>(3);
    println!(
        "after 3 timed-out attempts and a connect: naive {naive} live subscriptions, leakless {leakless}"
    );
    assert_eq!(naive, 3, "one leaked subscription per timed-out attempt");
    assert_eq!(leakless, 0);
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
