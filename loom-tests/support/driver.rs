//! A minimal loom-friendly driver: creations are stashed until a model
//! thread completes them, the clock jumps past every deadline when the model
//! says so, and the cluster answers OK to any connect request.

use std::time::{Duration, Instant};

use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use loom::sync::{Arc, Mutex};

use leakless::protocol::{self, EventCode, Message, NewLeaderEvent, SessionEvent};
use leakless::{Close, Creator, Driver, OfferError, Requester, handoff};

/// What the model's resources report to.
#[derive(Debug, Default)]
pub struct Counts {
    pub created: AtomicUsize,
    pub closed: AtomicUsize,
}

/// A subscription or publication of the model; panics on a second close.
#[derive(Debug)]
pub struct Resource {
    counts: Arc<Counts>,
    closed: Arc<AtomicBool>,
}

impl Close for Resource {
    type Error = std::io::Error;
    fn close(self) -> Result<(), Self::Error> {
        if self.closed.swap(true, SeqCst) {
            std::mem::forget(self);
            panic!("resource closed twice");
        }
        self.counts.closed.fetch_add(1, SeqCst);
        Ok(())
    }
}

type Stash = Mutex<Vec<Creator<Resource, std::io::Error>>>;

#[derive(Debug)]
struct Shared {
    subscriptions: Stash,
    publications: Stash,
    counts: Arc<Counts>,
    expired: AtomicBool,
    /// The correlation id of the last connect request offered.
    request: Mutex<Option<i64>>,
    /// Answer the next connect request with REDIRECT to member 1.
    redirect_next: AtomicBool,
    /// Deliver a NewLeaderEvent (member 1) on the next egress poll.
    new_leader_next: AtomicBool,
    correlation: AtomicUsize,
    start: Instant,
}

/// The model's driver; clone it into the threads that complete creations.
#[derive(Debug, Clone)]
pub struct ModelDriver(Arc<Shared>);

impl ModelDriver {
    pub fn new() -> Self {
        ModelDriver(Arc::new(Shared {
            subscriptions: Mutex::new(Vec::new()),
            publications: Mutex::new(Vec::new()),
            counts: Arc::new(Counts::default()),
            expired: AtomicBool::new(false),
            request: Mutex::new(None),
            redirect_next: AtomicBool::new(false),
            new_leader_next: AtomicBool::new(false),
            correlation: AtomicUsize::new(1),
            start: Instant::now(),
        }))
    }

    /// The next connect request is answered with REDIRECT (the leader is
    /// member 1), the ones after it with OK.
    pub fn redirect_next(&self) {
        self.0.redirect_next.store(true, SeqCst);
    }

    /// The next egress poll delivers a NewLeaderEvent: member 1 leads now.
    pub fn announce_new_leader(&self) {
        self.0.new_leader_next.store(true, SeqCst);
    }

    /// The timer fires: every deadline has passed from now on.
    pub fn expire(&self) {
        self.0.expired.store(true, SeqCst);
    }

    /// Time stands still again (for the next attempt of a retry): a
    /// deadline set from now on has not passed.
    pub fn renew(&self) {
        self.0.expired.store(false, SeqCst);
    }

    /// Completes the oldest stashed subscription creation, if any.
    pub fn complete_subscription(&self) -> bool {
        let creator = self.0.subscriptions.lock().unwrap().pop();
        self.complete(creator)
    }

    /// Completes the most recent stashed publication creation, if any.
    pub fn complete_publication(&self) -> bool {
        let creator = self.0.publications.lock().unwrap().pop();
        self.complete(creator)
    }

    fn complete(&self, creator: Option<Creator<Resource, std::io::Error>>) -> bool {
        let Some(creator) = creator else {
            return false;
        };
        self.0.counts.created.fetch_add(1, SeqCst);
        let resource = Resource {
            counts: self.0.counts.clone(),
            closed: Arc::new(AtomicBool::new(false)),
        };
        let _ = creator.complete(Ok(resource));
        true
    }

    /// The race every connect model runs: `creating` on a new model thread
    /// (the driver's conductor finishing creations) while `act` runs here;
    /// then the thread is joined and every resource must have been closed
    /// exactly once.
    pub fn race<R: Send + 'static>(
        &self,
        creating: impl FnOnce(&ModelDriver) -> R + Send + 'static,
        act: impl FnOnce(),
    ) {
        let driver = self.clone();
        let conductor = loom::thread::spawn(move || {
            creating(&driver);
        });
        act();
        conductor.join().unwrap();
        self.assert_all_closed_once();
    }

    /// Publication creations asked for and not yet completed.
    pub fn stashed_publications(&self) -> usize {
        self.0.publications.lock().unwrap().len()
    }

    /// Resources created and not yet closed.
    pub fn live(&self) -> usize {
        self.0.counts.created.load(SeqCst) - self.0.counts.closed.load(SeqCst)
    }

    /// Asserts every created resource was closed exactly once (a second
    /// close already panicked in `Resource::close`).
    pub fn assert_all_closed_once(&self) {
        let created = self.0.counts.created.load(SeqCst);
        let closed = self.0.counts.closed.load(SeqCst);
        assert!(
            created == closed,
            "{created} resources created, {closed} closed: resource closed {closed} times of {created}"
        );
    }

    fn stash(&self, stash: &Stash) -> Requester<Resource, std::io::Error> {
        let (creator, requester) = handoff();
        stash.lock().unwrap().push(creator);
        requester
    }
}

impl Driver for ModelDriver {
    type Subscription = Resource;
    type Publication = Resource;
    type Error = std::io::Error;

    fn add_subscription(&self, _: &str, _: i32) -> Requester<Resource, std::io::Error> {
        self.stash(&self.0.subscriptions)
    }

    fn add_publication(&self, _: &str, _: i32) -> Requester<Resource, std::io::Error> {
        self.stash(&self.0.publications)
    }

    fn is_connected(&self, _: &Resource) -> bool {
        true
    }

    fn offer(&self, _: &Resource, message: &[u8]) -> Result<(), OfferError> {
        if let Ok(Message::Connect(request)) = protocol::decode(message) {
            *self.0.request.lock().unwrap() = Some(request.correlation_id);
        }
        Ok(())
    }

    fn poll(&self, _: &Resource, handler: &mut dyn FnMut(&[u8]), _: usize) -> usize {
        if self.0.new_leader_next.swap(false, SeqCst) {
            handler(&protocol::encode(&Message::NewLeader(NewLeaderEvent {
                leadership_term_id: 2,
                cluster_session_id: 7,
                leader_member_id: 1,
                ingress_endpoints: String::from("1=leader:20111"),
            })));
            return 1;
        }
        let Some(correlation_id) = self.0.request.lock().unwrap().take() else {
            return 0;
        };
        let redirect = self.0.redirect_next.swap(false, SeqCst);
        handler(&protocol::encode(&Message::Event(SessionEvent {
            cluster_session_id: 7,
            correlation_id,
            leadership_term_id: 1,
            leader_member_id: i32::from(redirect),
            code: if redirect {
                EventCode::Redirect
            } else {
                EventCode::Ok
            },
            version: protocol::PROTOCOL_VERSION,
            leader_heartbeat_timeout_ns: 0,
            detail: if redirect {
                String::from("1=leader:20111")
            } else {
                String::new()
            },
        })));
        1
    }

    fn next_correlation_id(&self) -> i64 {
        self.0.correlation.fetch_add(1, SeqCst) as i64
    }

    /// Real time does not pass in a model: the clock stands at the start
    /// until the model expires it, then jumps a day ahead.
    fn now(&self) -> Instant {
        if self.0.expired.load(SeqCst) {
            self.0.start + Duration::from_secs(86_400)
        } else {
            self.0.start
        }
    }
}
