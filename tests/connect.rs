//! The typestate connect over the simulation: every state × every way of
//! giving up ends with nothing live and nothing closed twice.
#![cfg(not(loom))]

use std::time::{Duration, Instant};

use leakless::connect::{
    AsyncConnect, Backoff, Cleanup, ConfigError, ConnectConfig, ConnectError, Failed, Leakless,
    Naive, Pending, Progress, Released, ResourceKind, StateName, Subscribed, connect, connect_with,
};
use leakless::sim::{FaultProfile, Sim, SimConfig, SimDriver};

fn sim(config: SimConfig) -> Sim {
    Sim::start(config).expect("a valid simulation")
}

fn faults(faults: FaultProfile) -> SimConfig {
    SimConfig {
        faults,
        ..SimConfig::default()
    }
}

/// Asserts the end state every test wants: nothing live, no double close.
fn assert_clean(sim: &Sim) {
    sim.settle();
    let ledger = sim.ledger();
    assert_eq!(ledger.live(), 0, "nothing live at the end: {ledger:?}");
    assert_eq!(ledger.double_closes, 0, "nothing closed twice: {ledger:?}");
}

fn start(sim: &Sim, config: ConnectConfig) -> AsyncConnect<Pending, SimDriver> {
    AsyncConnect::start(sim.driver(), config).expect("valid configuration")
}

/// Polls a Pending attempt until the subscription is held.
fn subscribed(
    mut attempt: AsyncConnect<Pending, SimDriver>,
) -> AsyncConnect<Subscribed, SimDriver> {
    loop {
        match attempt.poll() {
            Progress::Pending(same) => attempt = same,
            Progress::Ready(next) => return next,
            Progress::Failed(failed) => panic!("unexpected failure: {failed}"),
        }
    }
}

/// An attempt in Subscribed whose publications are held in flight by the
/// paused driver.
fn subscribed_with_publications_in_flight(sim: &Sim) -> AsyncConnect<Subscribed, SimDriver> {
    let attempt = start(sim, sim.connect_config());
    sim.settle(); // the subscription exists
    sim.pause(); // the publications asked for next stay in flight
    let attempt = subscribed(attempt);
    assert_eq!(sim.in_flight(), 3, "one publication per member in flight");
    attempt
}

/// Connects until the simulation has nothing more to do, then lets the
/// deadline pass (the clock is frozen and jumps): the failure does not
/// depend on how fast a loaded machine runs.
fn fail_when_quiet<C: Cleanup>(sim: &Sim, config: ConnectConfig) -> Failed {
    match connect_with::<_, C>(sim.driver(), config, &mut sim.expire_when_quiet()) {
        Ok(_) => panic!("expected the connect to fail"),
        Err(failed) => failed,
    }
}

fn connect_or_fail<C: Cleanup>(sim: &Sim, config: ConnectConfig) -> Failed {
    match connect_with::<_, C>(sim.driver(), config, &mut Backoff::default()) {
        Ok(_) => panic!("expected the connect to fail"),
        Err(failed) => failed,
    }
}

// ---- the happy path -------------------------------------------------------

#[test]
fn connect_send_receive_close() {
    let sim = sim(SimConfig::default());
    let mut client = connect(sim.driver(), sim.connect_config()).unwrap();
    assert_eq!(client.state(), StateName::Connected);
    assert_eq!(client.leader_member_id(), 0);
    assert_eq!(sim.open_sessions(), 1);
    // Multi-member: the first connected publication won, the others were
    // closed, or cancelled while pending and closed by the driver (settle
    // waits for those).
    sim.settle();
    assert_eq!(sim.ledger().live_publications, 1);
    assert_eq!(sim.ledger().live_subscriptions, 1);

    client.offer(b"ping").unwrap();
    let mut echoed = Vec::new();
    while echoed.is_empty() {
        client.poll_egress(|payload| echoed.push(payload.to_vec()));
    }
    assert_eq!(echoed, vec![b"ping".to_vec()]);

    let released = client.close().unwrap();
    assert_eq!(released.subscriptions, 1);
    // Every member's publication is accounted for: the winner and the
    // losers held when it won were closed; losers still pending were
    // cancelled (or closed late if they had just finished).
    assert_eq!(
        released.publications + released.cancelled + released.closed_late,
        3,
        "{released:?}"
    );
    assert_eq!(
        sim.open_sessions(),
        0,
        "the session was closed before the resources"
    );
    assert_eq!(sim.closed_sessions(), 1);
    assert_clean(&sim);
}

// ---- Pending × {timeout, close, drop, failure, late completion} -------------

#[test]
fn pending_timeout_while_the_subscription_is_in_flight() {
    let sim = sim(SimConfig::default());
    sim.pause();
    let config = sim.connect_config().timeout(Duration::from_millis(5));
    let failed = connect_or_fail::<Leakless>(&sim, config);
    assert_eq!(failed.error.timed_out_in(), Some(StateName::Pending));
    assert_eq!(failed.released.cancelled, 1);
    sim.resume(); // the late completion arrives after the attempt gave up
    sim.settle();
    assert_eq!(sim.ledger().late_closes, 1, "closed by the driver side");
    assert_clean(&sim);
}

#[test]
fn pending_close_and_drop_cancel_the_subscription() {
    let sim = sim(SimConfig::default());
    sim.pause();
    let released = start(&sim, sim.connect_config()).close().unwrap();
    assert_eq!(released.cancelled, 1);
    drop(start(&sim, sim.connect_config()));
    sim.resume();
    sim.settle();
    assert_eq!(sim.ledger().created_subscriptions, 2);
    assert_eq!(sim.ledger().late_closes, 2);
    assert_clean(&sim);
}

#[test]
fn pending_close_after_the_subscription_is_ready_closes_it_late() {
    let sim = sim(SimConfig::default());
    let attempt = start(&sim, sim.connect_config());
    sim.settle(); // created, not yet taken by a poll
    let released = attempt.close().unwrap();
    assert_eq!(released.closed_late, 1);
    assert_clean(&sim);
}

#[test]
fn pending_creation_failure_and_creator_panic() {
    for profile in [
        FaultProfile {
            creation_failure_rate: 1.0,
            ..FaultProfile::default()
        },
        FaultProfile {
            creator_panic_rate: 1.0,
            ..FaultProfile::default()
        },
    ] {
        let sim = sim(faults(profile));
        let failed = connect_or_fail::<Leakless>(&sim, sim.connect_config());
        assert!(matches!(
            failed.error,
            ConnectError::CreationFailed {
                what: ResourceKind::EgressSubscription,
                ..
            } | ConnectError::CreationAbandoned {
                what: ResourceKind::EgressSubscription
            }
        ));
        assert_clean(&sim);
    }
}

// ---- Subscribed × {timeout, close, drop, failure, late completion} ----------

#[test]
fn subscribed_timeout_while_publications_are_in_flight() {
    let sim = sim(SimConfig::default());
    // Frozen: the deadline passes when the test says, not when a loaded
    // machine gets round to it.
    sim.freeze_clock();
    let config = sim.connect_config().timeout(Duration::from_millis(20));
    let attempt = AsyncConnect::<Pending, _>::start(sim.driver(), config).unwrap();
    sim.settle();
    sim.pause();
    let attempt = subscribed(attempt);
    sim.advance_clock(Duration::from_secs(1));
    let failed = match attempt.poll() {
        Progress::Failed(failed) => failed,
        Progress::Pending(_) => panic!("the deadline has passed"),
        Progress::Ready(_) => panic!("nothing can connect while paused"),
    };
    assert_eq!(failed.error.timed_out_in(), Some(StateName::Subscribed));
    assert_eq!(
        (failed.released.subscriptions, failed.released.cancelled),
        (1, 3)
    );
    sim.resume();
    sim.settle();
    assert_eq!(sim.ledger().late_closes, 3);
    assert_clean(&sim);
}

#[test]
fn subscribed_close_and_drop_release_held_and_pending() {
    let sim = sim(SimConfig::default());
    let released = subscribed_with_publications_in_flight(&sim)
        .close()
        .unwrap();
    assert_eq!((released.subscriptions, released.cancelled), (1, 3));
    sim.resume();
    sim.settle();
    drop(subscribed_with_publications_in_flight(&sim));
    sim.resume();
    assert_clean(&sim);
}

#[test]
fn subscribed_timeout_with_publications_that_never_connect() {
    let sim = sim(faults(FaultProfile {
        never_connect_rate: 1.0,
        ..FaultProfile::default()
    }));
    let failed = fail_when_quiet::<Leakless>(&sim, sim.connect_config());
    assert_eq!(failed.error.timed_out_in(), Some(StateName::Subscribed));
    assert_eq!(
        failed.released.publications, 3,
        "held, unconnected publications closed"
    );
    assert_clean(&sim);
}

#[test]
fn subscribed_publication_creation_failure() {
    let sim = sim(SimConfig::default());
    // Well formed, but no member of this cluster: the driver says so (not
    // as an injected fault).
    let config = ConnectConfig::new("sim:egress", 102).member(0, "sim:member-7");
    let failed = connect_or_fail::<Leakless>(&sim, config);
    assert!(matches!(
        failed.error,
        ConnectError::CreationFailed {
            what: ResourceKind::IngressPublication,
            ..
        }
    ));
    let message = failed.error.to_string();
    assert!(message.contains("no member sim:member-7"), "{message}");
    assert_eq!(failed.released.subscriptions, 1);
    assert_clean(&sim);
}

#[test]
fn lost_reply_times_out_in_subscribed() {
    let sim = sim(faults(FaultProfile {
        lost_reply_rate: 1.0,
        ..FaultProfile::default()
    }));
    let failed = fail_when_quiet::<Leakless>(&sim, sim.connect_config());
    assert_eq!(failed.error.timed_out_in(), Some(StateName::Subscribed));
    assert_eq!(sim.open_sessions(), 0);
    assert_clean(&sim);
}

// ---- the protocol's branches --------------------------------------------------

#[test]
fn redirect_from_a_follower_ends_connected_to_the_leader() {
    let sim = sim(SimConfig {
        leader: 2,
        ..SimConfig::default()
    });
    // Only a follower's endpoint is configured: it answers REDIRECT.
    let config = ConnectConfig::new("sim:egress", 102).member(0, "sim:member-0");
    let client = connect(sim.driver(), config).unwrap();
    assert_eq!(client.leader_member_id(), 2);
    sim.settle();
    assert_eq!(
        sim.ledger().live_publications,
        1,
        "the follower's publication was closed"
    );
    client.close().unwrap();
    assert_clean(&sim);
}

#[test]
fn challenge_is_answered_with_the_credentials() {
    let sim = sim(SimConfig {
        credentials: Some(b"secret".to_vec()),
        ..SimConfig::default()
    });
    let client = connect(sim.driver(), sim.connect_config().credentials("secret")).unwrap();
    assert_eq!(sim.open_sessions(), 1);
    client.close().unwrap();
    assert_clean(&sim);
}

#[test]
fn bad_credentials_are_rejected_and_not_transient() {
    let sim = sim(SimConfig {
        credentials: Some(b"secret".to_vec()),
        ..SimConfig::default()
    });
    for credentials in ["wrong", ""] {
        let config = sim.connect_config().credentials(credentials);
        let failed = connect_or_fail::<Leakless>(&sim, config);
        assert!(
            matches!(failed.error, ConnectError::AuthenticationRejected { .. }),
            "{credentials:?}: {}",
            failed.error
        );
        assert!(!failed.error.is_transient());
    }
    assert_clean(&sim);
}

#[test]
fn error_answer_is_refused() {
    let sim = sim(SimConfig {
        refuse_with: Some(String::from("maintenance")),
        ..SimConfig::default()
    });
    let failed = connect_or_fail::<Leakless>(&sim, sim.connect_config());
    match failed.error {
        ConnectError::Refused { detail } => assert_eq!(detail, "maintenance"),
        other => panic!("expected Refused, got {other}"),
    }
    assert_clean(&sim);
}

// ---- Connected ----------------------------------------------------------------

#[test]
fn leader_change_switches_the_ingress_publication() {
    let sim = sim(SimConfig::default());
    let mut client = connect(sim.driver(), sim.connect_config()).unwrap();
    sim.elect(1).expect("a member of the cluster");
    while client.leader_member_id() != 1 {
        client.poll_egress(|_| {});
    }
    assert_eq!(client.leadership_term_id(), 2);
    sim.settle(); // the publication to the new leader exists
    let mut echoed = 0;
    client.poll_egress(|_| {}); // switches to it, closing the old one
    assert_eq!(sim.ledger().live_publications, 1);
    client.offer(b"after election").unwrap();
    while echoed == 0 {
        echoed += client.poll_egress(|_| {});
    }
    client.close().unwrap();
    assert_clean(&sim);
}

#[test]
fn close_while_the_new_leader_publication_is_pending() {
    let sim = sim(SimConfig::default());
    // One member configured: no losing publications to account for.
    let config = ConnectConfig::new("sim:egress", 102).member(0, "sim:member-0");
    let mut client = connect(sim.driver(), config).unwrap();
    sim.settle();
    sim.pause();
    sim.elect(2).expect("a member of the cluster");
    while client.leader_member_id() != 2 {
        client.poll_egress(|_| {});
    }
    assert_eq!(sim.in_flight(), 1);
    let released = client.close().unwrap();
    assert_eq!(
        released.cancelled, 1,
        "the pending publication was cancelled"
    );
    sim.resume();
    assert_clean(&sim);
}

#[test]
fn connected_drop_closes_the_session_and_resources() {
    let sim = sim(SimConfig::default());
    drop(connect(sim.driver(), sim.connect_config()).unwrap());
    assert_eq!(sim.closed_sessions(), 1);
    assert_clean(&sim);
}

// ---- configuration ------------------------------------------------------------

#[test]
fn bad_configuration_is_rejected_before_anything_is_created() {
    let sim = sim(SimConfig::default());
    let good = sim.connect_config();
    let cases = [
        (
            good.clone().timeout(Duration::ZERO),
            ConfigError::ZeroTimeout,
        ),
        (
            ConnectConfig::new("sim:egress", 102),
            ConfigError::NoMembers,
        ),
        (
            ConnectConfig::new("", 102).member(0, "sim:member-0"),
            ConfigError::EmptyChannel { what: "egress" },
        ),
        (
            ConnectConfig::new("sim:egress", 0).member(0, "sim:member-0"),
            ConfigError::ZeroStreamId { what: "egress" },
        ),
        (
            good.clone().ingress_stream_id(0),
            ConfigError::ZeroStreamId { what: "ingress" },
        ),
        (
            ConnectConfig::new("sim:egress", 102).member(0, " "),
            ConfigError::EmptyChannel {
                what: "member ingress",
            },
        ),
        (
            good.clone().member(0, "sim:member-1"),
            ConfigError::DuplicateMember { id: 0 },
        ),
        (
            ConnectConfig::new("sim:egress", -102).member(0, "sim:member-0"),
            ConfigError::NegativeStreamId {
                what: "egress",
                id: -102,
            },
        ),
        (
            good.clone().ingress_stream_id(-1),
            ConfigError::NegativeStreamId {
                what: "ingress",
                id: -1,
            },
        ),
    ];
    for (config, expected) in cases {
        match AsyncConnect::<Pending, _>::start(sim.driver(), config) {
            Err(ConnectError::Config(error)) => assert_eq!(error, expected),
            other => panic!("expected {expected}, got {other:?}"),
        }
    }
    // Channels that are not channels, named in the error with the reason.
    for (egress, member) in [
        ("%%%", "sim:member-0"),
        ("sim:egress", "aeron:udp?endpoint=nowhere"),
    ] {
        let config = ConnectConfig::new(egress, 102).member(0, member);
        match AsyncConnect::<Pending, _>::start(sim.driver(), config) {
            Err(ConnectError::Config(ConfigError::InvalidChannel(invalid))) => {
                assert!(
                    invalid.channel == egress || invalid.channel == member,
                    "{invalid}"
                );
                assert!(!invalid.reason.is_empty());
            }
            other => panic!("expected an invalid channel, got {other:?}"),
        }
    }
    let expired =
        AsyncConnect::<Pending, _>::start_with_deadline(sim.driver(), good, Instant::now());
    assert!(matches!(
        expired,
        Err(ConnectError::Config(ConfigError::DeadlineExpired))
    ));
    assert_eq!(sim.ledger().created_subscriptions, 0);
    assert_eq!(sim.in_flight(), 0);
}

#[test]
fn a_timeout_that_runs_out_before_the_first_poll_is_a_timeout_in_pending() {
    // A 1 ns timeout has passed before the attempt is first polled (as any
    // short one may on a loaded machine): the user gave a timeout, so this
    // is a timeout, not a configuration error, and the pending subscription
    // is cancelled.
    let sim = sim(SimConfig::default());
    sim.pause();
    let failed =
        connect_or_fail::<Leakless>(&sim, sim.connect_config().timeout(Duration::from_nanos(1)));
    sim.resume();
    assert_eq!(
        failed.error.timed_out_in(),
        Some(StateName::Pending),
        "{}",
        failed.error
    );
    assert_eq!(failed.released.cancelled, 1);
    assert_clean(&sim);
}

#[test]
fn a_simulation_that_cannot_work_is_refused_not_adjusted() {
    let cases = [
        SimConfig {
            members: 0,
            ..SimConfig::default()
        },
        SimConfig {
            leader: 99,
            ..SimConfig::default()
        },
        SimConfig {
            faults: FaultProfile {
                lost_reply_rate: 1.5,
                ..FaultProfile::default()
            },
            ..SimConfig::default()
        },
        SimConfig {
            faults: FaultProfile {
                creation_latency: Duration::from_millis(3)..Duration::from_millis(1),
                ..FaultProfile::default()
            },
            ..SimConfig::default()
        },
    ];
    for config in cases {
        match Sim::start(config.clone()) {
            Err(leakless::sim::SimError::InvalidConfig(why)) => assert!(!why.is_empty()),
            Err(other) => panic!("{config:?}: {other}"),
            Ok(_) => panic!("{config:?} was accepted"),
        }
    }
    let sim = sim(SimConfig::default());
    match sim.elect(99) {
        Err(error @ leakless::sim::SimError::NoSuchMember { .. }) => {
            assert!(error.to_string().contains("members are 0 to 2"), "{error}");
        }
        other => panic!("expected NoSuchMember, got {other:?}"),
    }
    assert_eq!(sim.leader(), 0, "nothing changed");
}

#[test]
fn a_huge_timeout_does_not_overflow() {
    let sim = sim(SimConfig::default());
    let client = connect(sim.driver(), sim.connect_config().timeout(Duration::MAX)).unwrap();
    client.close().unwrap();
    assert_clean(&sim);
}

// ---- the retry loop of Aeron #1574 --------------------------------------------

/// 1,000 attempts, each timing out while its subscription is still being
/// created, retried at once as Aeron users did. The driver is paused during
/// each attempt, so the timeout in Pending does not depend on scheduling;
/// it resumes between attempts, so a late creation can land while the next
/// attempt runs.
fn retry_loop<C: Cleanup>() -> (Sim, usize, Released) {
    let sim = sim(faults(FaultProfile {
        creation_latency: Duration::from_micros(400)..Duration::from_micros(400),
        ..FaultProfile::default()
    }));
    let config = sim.connect_config().timeout(Duration::from_micros(200));
    let mut max_live = 0;
    let mut released = Released::default();
    for _ in 0..1_000 {
        sim.pause();
        let failed = connect_or_fail::<C>(&sim, config.clone());
        sim.resume();
        assert_eq!(
            failed.error.timed_out_in(),
            Some(StateName::Pending),
            "{}",
            failed.error
        );
        max_live = max_live.max(sim.ledger().live());
        released.absorb(failed.released);
    }
    sim.settle();
    (sim, max_live, released)
}

#[test]
fn retry_loop_naive_leaks_one_subscription_per_attempt() {
    let (sim, _, released) = retry_loop::<Naive>();
    let ledger = sim.ledger();
    println!("naive: {ledger:?}");
    assert_eq!(released.forgotten, 1_000);
    assert_eq!(ledger.live_subscriptions, 1_000);
    assert_eq!(ledger.late_closes, 0);
}

#[test]
fn retry_loop_leakless_leaks_nothing_and_never_holds_more_than_one() {
    let (sim, max_live, released) = retry_loop::<Leakless>();
    let ledger = sim.ledger();
    println!("leakless: {ledger:?}, {released:?}, max live seen between attempts {max_live}");
    assert_eq!(ledger.live(), 0);
    assert_eq!(ledger.created_subscriptions, 1_000);
    // Each late subscription was closed once: by the driver if the attempt
    // gave up first, by the attempt if creation finished first.
    assert_eq!(released.cancelled as u64, ledger.late_closes);
    assert_eq!(ledger.late_closes + released.closed_late as u64, 1_000);
    assert!(ledger.peak_live <= 1, "peak live {}", ledger.peak_live);
    assert_clean(&sim);
}

#[test]
fn keep_alives_keep_a_quiet_session_open_past_the_session_timeout() {
    let sim = sim(SimConfig {
        session_timeout: Duration::from_millis(40),
        ..SimConfig::default()
    });
    // The session timeout is read from the simulation's clock: frozen, it
    // moves 5 ms per keep-alive, whatever the machine's load.
    sim.freeze_clock();
    let mut kept = connect(sim.driver(), sim.connect_config()).unwrap();
    let quiet = connect(sim.driver(), sim.connect_config()).unwrap();
    assert_eq!(sim.open_sessions(), 2);
    for _ in 0..30 {
        kept.send_keep_alive().unwrap();
        sim.advance_clock(Duration::from_millis(5));
    }
    // The cluster times sessions out lazily, when it next hears anything.
    kept.send_keep_alive().unwrap();
    assert_eq!(sim.open_sessions(), 1, "the quiet session timed out");
    kept.offer(b"still here").unwrap();
    let mut echoed = 0;
    while echoed == 0 {
        echoed += kept.poll_egress(|_| {});
    }
    drop(quiet);
    kept.close().unwrap();
    assert_clean(&sim);
}
