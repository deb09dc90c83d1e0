//! One connect + close cycle, two ways over the same driver: the typestate
//! connect (`connect_with`), and a hand-written state machine (one enum,
//! one loop) doing the same steps. Both take a clone of the driver and the
//! config per cycle, check the deadline on every poll (as Aeron's
//! `AsyncConnect` does), validate the config at start and close with the
//! leadership term the cluster answered with.
//!
//! [`InlineDriver`] answers everything at once on the calling thread, so a
//! cycle is the same instructions on every run (the simulation's conductor
//! thread would make counts depend on scheduling).

use std::cell::Cell;
use std::convert::Infallible;
use std::hint::black_box;
use std::rc::Rc;
use std::time::Instant;

use leakless::connect::{ConnectConfig, Idle, Leakless, connect_with};
use leakless::protocol::{
    self, EventCode, Message, SessionCloseRequest, SessionConnectRequest, SessionEvent,
};
use leakless::{Close, Driver, OfferError, Owned, Requester, handoff};

/// A zero-latency driver on the calling thread: creations are complete
/// when asked for, publications are connected, and a connect request is
/// answered OK on the next poll.
#[derive(Debug, Clone)]
pub struct InlineDriver {
    /// The correlation id of a connect request not yet answered.
    request: Rc<Cell<Option<i64>>>,
    correlation: Rc<Cell<i64>>,
    /// The clock stands still: no deadline passes, and reading it costs
    /// the same on every run.
    start: Instant,
}

/// A subscription or publication of the inline driver.
#[derive(Debug)]
pub struct InlineResource;

impl Close for InlineResource {
    type Error = Infallible;
    fn close(self) -> Result<(), Infallible> {
        Ok(())
    }
}

impl Default for InlineDriver {
    fn default() -> Self {
        InlineDriver {
            request: Rc::default(),
            correlation: Rc::new(Cell::new(1)),
            start: Instant::now(),
        }
    }
}

impl InlineDriver {
    fn created(&self) -> Requester<InlineResource, Infallible> {
        let (creator, requester) = handoff();
        let _ = creator.complete(Ok(InlineResource));
        requester
    }
}

impl Driver for InlineDriver {
    type Subscription = InlineResource;
    type Publication = InlineResource;
    type Error = Infallible;

    fn add_subscription(&self, _: &str, _: i32) -> Requester<InlineResource, Infallible> {
        self.created()
    }

    fn add_publication(&self, _: &str, _: i32) -> Requester<InlineResource, Infallible> {
        self.created()
    }

    fn is_connected(&self, _: &InlineResource) -> bool {
        true
    }

    fn offer(&self, _: &InlineResource, message: &[u8]) -> Result<(), OfferError> {
        if let Ok(Message::Connect(request)) = protocol::decode(message) {
            self.request.set(Some(request.correlation_id));
        }
        Ok(())
    }

    fn poll(&self, _: &InlineResource, handler: &mut dyn FnMut(&[u8]), _: usize) -> usize {
        let Some(correlation_id) = self.request.take() else {
            return 0;
        };
        handler(&protocol::encode(&Message::Event(SessionEvent {
            cluster_session_id: 7,
            correlation_id,
            leadership_term_id: 3,
            leader_member_id: 0,
            code: EventCode::Ok,
            version: protocol::PROTOCOL_VERSION,
            leader_heartbeat_timeout_ns: 0,
            detail: String::new(),
        })));
        1
    }

    fn next_correlation_id(&self) -> i64 {
        let id = self.correlation.get();
        self.correlation.set(id + 1);
        id
    }

    fn now(&self) -> Instant {
        self.start
    }
}

/// Both machines poll in a busy loop: the comparison is of the state
/// machines, not of idle strategies.
#[derive(Debug)]
pub struct Spin;

impl Idle for Spin {
    fn idle(&mut self, _: bool) {
        std::hint::spin_loop();
    }
}

/// The typestate connect, then close. Returns the session id.
pub fn typestate_cycle<D: Driver>(driver: &D, config: &ConnectConfig) -> i64 {
    let client = connect_with::<_, Leakless>(driver.clone(), config.clone(), &mut Spin)
        .expect("the driver answers OK");
    let session = black_box(client.session_id());
    client.close().expect("closes");
    session
}

/// Aeron's `AsyncConnect` steps as an enum and a loop, for one member.
enum Step<D: Driver> {
    CreateSubscription(Requester<D::Subscription, D::Error>),
    CreatePublication(Owned<D::Subscription>, Requester<D::Publication, D::Error>),
    AwaitConnected(Owned<D::Subscription>, Owned<D::Publication>),
    AwaitResponse(Owned<D::Subscription>, Owned<D::Publication>, i64),
}

/// The session the cluster opened: its id and leadership term.
struct Session {
    id: i64,
    leadership_term_id: i64,
}

fn hand_written_connect<D: Driver>(
    driver: &D,
    config: &ConnectConfig,
) -> (Owned<D::Subscription>, Owned<D::Publication>, Session) {
    // The typestate connect validates its config at start: so does this.
    config.validate().expect("a valid config");
    let deadline = driver.now() + config.timeout;
    let mut step = Step::<D>::CreateSubscription(
        driver.add_subscription(&config.egress_channel, config.egress_stream_id),
    );
    loop {
        assert!(driver.now() < deadline, "the driver answers in time");
        step = match step {
            Step::CreateSubscription(mut pending) => match pending.try_take() {
                None => Step::CreateSubscription(pending),
                Some(subscription) => {
                    let publication =
                        driver.add_publication(&config.members[0].1, config.ingress_stream_id);
                    Step::CreatePublication(subscription.expect("created"), publication)
                }
            },
            Step::CreatePublication(subscription, mut pending) => match pending.try_take() {
                None => Step::CreatePublication(subscription, pending),
                Some(publication) => {
                    Step::AwaitConnected(subscription, publication.expect("created"))
                }
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
                    driver.offer(&publication, &request).expect("offered");
                    Step::AwaitResponse(subscription, publication, correlation_id)
                }
            }
            Step::AwaitResponse(subscription, publication, correlation_id) => {
                let mut session = None;
                driver.poll(
                    &subscription,
                    &mut |bytes| {
                        if let Ok(Message::Event(event)) = protocol::decode(bytes)
                            && event.correlation_id == correlation_id
                            && event.code == EventCode::Ok
                        {
                            session = Some(Session {
                                id: event.cluster_session_id,
                                leadership_term_id: event.leadership_term_id,
                            });
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

/// The hand-written connect, then close. Returns the session id.
pub fn hand_written_cycle<D: Driver>(driver: &D, config: &ConnectConfig) -> i64 {
    let (driver, config) = (driver.clone(), config.clone());
    let (subscription, publication, session) = hand_written_connect(&driver, &config);
    let close = protocol::encode(&Message::Close(SessionCloseRequest {
        leadership_term_id: session.leadership_term_id,
        cluster_session_id: session.id,
    }));
    let _ = driver.offer(&publication, &close);
    publication.close().expect("closes");
    subscription.close().expect("closes");
    black_box(session.id)
}

/// The config both machines connect with: one member.
pub fn one_member() -> ConnectConfig {
    ConnectConfig::new("aeron:udp?endpoint=localhost:0", 102)
        .member(0, "aeron:udp?endpoint=localhost:20110")
}

/// A one-member simulation (zero latency, no faults) and a config for it
/// with a deadline no cycle reaches; keep the `Sim` alive while using the
/// driver.
pub fn one_member_simulation() -> (leakless::sim::Sim, leakless::sim::SimDriver, ConnectConfig) {
    let sim = leakless::sim::Sim::start(leakless::sim::SimConfig {
        members: 1,
        ..leakless::sim::SimConfig::default()
    })
    .expect("a valid simulation");
    let driver = sim.driver();
    let config = sim
        .connect_config()
        .timeout(std::time::Duration::from_secs(10));
    (sim, driver, config)
}
