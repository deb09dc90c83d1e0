//! A full connect + close cycle over the zero-latency simulation: the
//! typestate connect against a hand-written state machine (one enum, one
//! loop) doing the same steps over the same driver. The types must cost
//! nothing. `cargo bench --bench connect`; ratios in docs/BENCHMARKS.md.
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use leakless::connect::{ConnectConfig, Idle, Leakless, connect_with};
use leakless::protocol::{self, EventCode, Message, SessionCloseRequest, SessionConnectRequest};
use leakless::sim::{Sim, SimConfig, SimDriver, SimPublication, SimSubscription};
use leakless::{Driver, Owned, Requester};

/// Both contenders poll in a busy loop: the comparison is of the state
/// machines, not of idle strategies.
struct Spin;
impl Idle for Spin {
    fn idle(&mut self, _: bool) {
        std::hint::spin_loop();
    }
}

/// The hand-written baseline: Aeron's `AsyncConnect` steps as an enum and a
/// loop, over the same driver, for one member.
enum Step {
    CreateSubscription(Requester<SimSubscription, leakless::sim::SimError>),
    CreatePublication(
        Owned<SimSubscription>,
        Requester<SimPublication, leakless::sim::SimError>,
    ),
    AwaitConnected(Owned<SimSubscription>, Owned<SimPublication>),
    AwaitResponse(Owned<SimSubscription>, Owned<SimPublication>, i64),
}

fn hand_written(
    driver: &SimDriver,
    config: &ConnectConfig,
) -> (Owned<SimSubscription>, Owned<SimPublication>, i64) {
    let mut step = Step::CreateSubscription(
        driver.add_subscription(&config.egress_channel, config.egress_stream_id),
    );
    loop {
        step = match step {
            Step::CreateSubscription(mut pending) => match pending.try_take() {
                None => Step::CreateSubscription(pending),
                Some(subscription) => {
                    let publication =
                        driver.add_publication(&config.members[0].1, config.ingress_stream_id);
                    Step::CreatePublication(subscription.unwrap(), publication)
                }
            },
            Step::CreatePublication(subscription, mut pending) => match pending.try_take() {
                None => Step::CreatePublication(subscription, pending),
                Some(publication) => Step::AwaitConnected(subscription, publication.unwrap()),
            },
            Step::AwaitConnected(subscription, publication) => {
                if !driver.is_connected(&publication) {
                    Step::AwaitConnected(subscription, publication)
                } else {
                    let correlation_id = driver.next_correlation_id();
                    let request = protocol::encode(&Message::Connect(SessionConnectRequest {
                        correlation_id,
                        response_stream_id: config.egress_stream_id,
                        version: protocol::PROTOCOL_VERSION,
                        response_channel: config.egress_channel.clone(),
                        encoded_credentials: Vec::new(),
                        client_info: String::from("leakless"),
                    }));
                    driver.offer(&publication, &request).unwrap();
                    Step::AwaitResponse(subscription, publication, correlation_id)
                }
            }
            Step::AwaitResponse(subscription, publication, correlation_id) => {
                let mut session = None;
                driver.poll(
                    &subscription,
                    &mut |bytes| {
                        if let Ok(Message::Event(event)) = protocol::decode(bytes) {
                            if event.correlation_id == correlation_id && event.code == EventCode::Ok
                            {
                                session = Some(event.cluster_session_id);
                            }
                        }
                    },
                    16,
                );
                match session {
                    Some(session) => return (subscription, publication, session),
                    None => Step::AwaitResponse(subscription, publication, correlation_id),
                }
            }
        };
        std::hint::spin_loop();
    }
}

fn connect_cycle(c: &mut Criterion) {
    let sim = Sim::start(SimConfig {
        members: 1,
        ..SimConfig::default()
    })
    .expect("a valid simulation");
    let config = sim.connect_config().timeout(Duration::from_secs(10));
    let mut group = c.benchmark_group("connect_close_cycle");
    group.bench_function("typestate", |b| {
        b.iter(|| {
            let client =
                connect_with::<_, Leakless>(sim.driver(), config.clone(), &mut Spin).unwrap();
            black_box(client.session_id());
            client.close().unwrap();
        })
    });
    group.bench_function("hand_written", |b| {
        let driver = sim.driver();
        b.iter(|| {
            let config = config.clone();
            let (subscription, publication, session) = hand_written(&driver, &config);
            black_box(session);
            let close = protocol::encode(&Message::Close(SessionCloseRequest {
                leadership_term_id: 1,
                cluster_session_id: session,
            }));
            let _ = driver.offer(&publication, &close);
            publication.close().unwrap();
            subscription.close().unwrap();
        })
    });
    group.finish();
    assert_eq!(sim.ledger().live(), 0);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50);
    targets = connect_cycle
}
criterion_main!(benches);
