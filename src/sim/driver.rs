//! The simulated media driver: a conductor thread that creates resources in
//! the order they were asked for, after a latency, with faults.

use std::collections::{HashMap, VecDeque};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::time::Instant;

use super::cluster::{Cluster, Egress, Outgoing};
use super::faults::{Dice, FaultProfile};
use super::{SimError, member_index};
use crate::audit::{Kind, Ledger};
use crate::driver::OfferError;
use crate::sync::os::atomic_order::{Acquire, Relaxed, Release};
use crate::sync::os::{Arc, AtomicBool, AtomicI64, Condvar, Mutex, MutexGuard};
use crate::{Close, Creator, Delivery, Driver, Requester, handoff};

/// Messages an egress subscription keeps before the oldest is overwritten,
/// as a log buffer wraps.
const INBOX_CAPACITY: usize = 256;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The simulation's state stays consistent across a panic elsewhere.
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}

/// What a creation will do, decided when it is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Create,
    Fail,
    Panic,
    /// The channel names no member of a cluster of this many.
    NoSuchMember(usize),
}

enum Command {
    Subscription {
        creator: Creator<SimSubscription, SimError>,
        channel: String,
        stream_id: i32,
    },
    Publication {
        creator: Creator<SimPublication, SimError>,
        channel: String,
        never_connects: bool,
    },
}

struct Queued {
    due: Instant,
    fate: Fate,
    command: Command,
}

#[derive(Default)]
struct Queue {
    commands: VecDeque<Queued>,
    paused: bool,
    busy: bool,
    shutdown: bool,
}

type Inbox = Mutex<VecDeque<Vec<u8>>>;

/// The subscriptions on each egress channel and stream, by id.
type Routes = HashMap<(String, i32), Vec<(u64, Arc<Inbox>)>>;

/// Everything the driver handles, the conductor and the resources share.
pub(super) struct Shared {
    queue: Mutex<Queue>,
    /// Wakes the conductor (new command, resume, shutdown) and settle().
    changed: Condvar,
    faults: FaultProfile,
    dice: Mutex<Dice>,
    pub(super) ledger: Ledger,
    pub(super) cluster: Mutex<Cluster>,
    routes: Mutex<Routes>,
    next_correlation_id: AtomicI64,
    stopped: AtomicBool,
    pub(super) clock: Arc<super::Clock>,
}

impl Shared {
    pub(super) fn new(config: &super::SimConfig) -> Self {
        let clock = Arc::new(super::Clock::default());
        Shared {
            queue: Mutex::default(),
            changed: Condvar::new(),
            faults: config.faults.clone(),
            dice: Mutex::new(Dice::new(config.faults.seed)),
            ledger: Ledger::default(),
            cluster: Mutex::new(Cluster::new(config, clock.clone())),
            routes: Mutex::default(),
            next_correlation_id: AtomicI64::new(1),
            stopped: AtomicBool::new(false),
            clock,
        }
    }

    /// Sends messages to every subscription on their egress channel/stream.
    pub(super) fn deliver(&self, outgoing: Vec<Outgoing>) {
        let routes = lock(&self.routes);
        for (Egress { channel, stream_id }, bytes) in outgoing {
            let Some(inboxes) = routes.get(&(channel, stream_id)) else {
                continue;
            };
            for (_, inbox) in inboxes {
                let mut inbox = lock(inbox);
                if inbox.len() == INBOX_CAPACITY {
                    inbox.pop_front();
                }
                inbox.push_back(bytes.clone());
            }
        }
    }

    fn enqueue(&self, fate: Fate, command: Command) {
        let latency = lock(&self.dice).within(&self.faults.creation_latency);
        let mut queue = lock(&self.queue);
        if queue.shutdown {
            drop(queue);
            // A stopped driver creates nothing.
            match command {
                Command::Subscription { creator, .. } => {
                    let _ = creator.complete(Err(SimError::Stopped));
                }
                Command::Publication { creator, .. } => {
                    let _ = creator.complete(Err(SimError::Stopped));
                }
            }
            return;
        }
        queue.commands.push_back(Queued {
            due: Instant::now() + latency,
            fate,
            command,
        });
        self.changed.notify_all();
    }

    /// Ends a simulated close: panics if the fault profile says so (after
    /// the release, which the caller has done).
    fn after_close(&self) {
        if self.faults.close_panic_rate > 0.0
            && lock(&self.dice).chance(self.faults.close_panic_rate)
        {
            // resume_unwind skips the panic hook: a soak with many injected
            // panics stays quiet.
            resume_unwind(Box::new("simulated close panic"));
        }
    }

    fn fate(&self) -> Fate {
        let mut dice = lock(&self.dice);
        if dice.chance(self.faults.creator_panic_rate) {
            Fate::Panic
        } else if dice.chance(self.faults.creation_failure_rate) {
            Fate::Fail
        } else {
            Fate::Create
        }
    }

    /// The conductor: processes commands in order, each when it is due.
    pub(super) fn run_conductor(self: Arc<Self>) {
        let mut queue = lock(&self.queue);
        loop {
            if queue.shutdown {
                // Creations never started are abandoned: their requesters
                // learn so, and nothing was created to leak.
                queue.commands.clear();
                self.stopped.store(true, Release);
                self.changed.notify_all();
                return;
            }
            let due = match queue.commands.front() {
                Some(next) if !queue.paused => next.due,
                _ => {
                    queue = self.changed.wait(queue).unwrap_or_else(|p| p.into_inner());
                    continue;
                }
            };
            let now = Instant::now();
            if now < due {
                queue = self
                    .changed
                    .wait_timeout(queue, due - now)
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
                continue;
            }
            let Some(next) = queue.commands.pop_front() else {
                continue;
            };
            queue.busy = true;
            drop(queue);
            self.process(next);
            queue = lock(&self.queue);
            queue.busy = false;
            self.changed.notify_all();
        }
    }

    fn process(self: &Arc<Self>, queued: Queued) {
        match queued.command {
            Command::Subscription {
                creator,
                channel,
                stream_id,
            } => self.finish(creator, queued.fate, &channel, |shared, id| {
                let inbox = Arc::new(Inbox::default());
                lock(&shared.routes)
                    .entry((channel.clone(), stream_id))
                    .or_default()
                    .push((id, inbox.clone()));
                shared.ledger.created(Kind::Subscription, id);
                SimSubscription {
                    id,
                    key: (channel.clone(), stream_id),
                    inbox,
                    shared: shared.clone(),
                }
            }),
            Command::Publication {
                creator,
                channel,
                never_connects,
            } => self.finish(creator, queued.fate, &channel, |shared, id| {
                shared.ledger.created(Kind::Publication, id);
                SimPublication {
                    id,
                    member: member_index(&channel),
                    connected: !never_connects,
                    shared: shared.clone(),
                }
            }),
        }
    }

    /// Completes one creation according to its fate.
    fn finish<T: Close>(
        self: &Arc<Self>,
        creator: Creator<T, SimError>,
        fate: Fate,
        channel: &str,
        create: impl FnOnce(&Arc<Self>, u64) -> T,
    ) {
        match fate {
            Fate::Fail => {
                let _ = creator.complete(Err(SimError::CreationFailed {
                    channel: channel.to_owned(),
                }));
            }
            Fate::NoSuchMember(members) => {
                let _ = creator.complete(Err(SimError::NoSuchMember {
                    member: channel.to_owned(),
                    members,
                }));
            }
            Fate::Panic => {
                // The creator is dropped by the unwind: the requester sees
                // the creation abandoned. resume_unwind skips the panic hook,
                // so a soak with many injected panics stays quiet.
                let _ = catch_unwind(AssertUnwindSafe(move || {
                    let _creator = creator;
                    resume_unwind(Box::new("simulated creator panic"));
                }));
            }
            Fate::Create => {
                let id = self.ledger.next_id();
                let resource = create(self, id);
                // A late close that failed or panicked was still a late close.
                match creator.complete(Ok(resource)) {
                    Ok(Delivery::ClosedLate) | Err(_) => self.ledger.closed_late(),
                    Ok(_) => {}
                }
            }
        }
    }

    pub(super) fn is_paused(&self) -> bool {
        lock(&self.queue).paused
    }

    pub(super) fn pause(&self, paused: bool) {
        lock(&self.queue).paused = paused;
        self.changed.notify_all();
    }

    /// Blocks until every queued creation has been processed (or the
    /// driver is paused with work left, or stopped).
    pub(super) fn settle(&self) {
        let mut queue = lock(&self.queue);
        while !queue.paused
            && !self.stopped.load(Acquire)
            && (queue.busy || !queue.commands.is_empty())
        {
            queue = self.changed.wait(queue).unwrap_or_else(|p| p.into_inner());
        }
    }

    pub(super) fn shutdown(&self) {
        lock(&self.queue).shutdown = true;
        self.changed.notify_all();
    }

    pub(super) fn queued(&self) -> usize {
        let queue = lock(&self.queue);
        queue.commands.len() + usize::from(queue.busy)
    }
}

/// A simulated egress subscription.
pub struct SimSubscription {
    id: u64,
    key: (String, i32),
    inbox: Arc<Inbox>,
    shared: Arc<Shared>,
}

impl Close for SimSubscription {
    type Error = SimError;
    fn close(self) -> Result<(), SimError> {
        let mut routes = lock(&self.shared.routes);
        if let Some(list) = routes.get_mut(&self.key) {
            list.retain(|(id, _)| *id != self.id);
            if list.is_empty() {
                // Channels are often one per attempt: forget empty ones.
                routes.remove(&self.key);
            }
        }
        drop(routes);
        self.shared.ledger.closed(Kind::Subscription, self.id);
        self.shared.after_close();
        Ok(())
    }
}

impl std::fmt::Debug for SimSubscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimSubscription")
            .field("id", &self.id)
            .field("channel", &self.key.0)
            .field("stream_id", &self.key.1)
            .finish()
    }
}

/// A simulated ingress publication to a cluster member.
pub struct SimPublication {
    id: u64,
    member: Option<usize>,
    connected: bool,
    shared: Arc<Shared>,
}

impl Close for SimPublication {
    type Error = SimError;
    fn close(self) -> Result<(), SimError> {
        self.shared.ledger.closed(Kind::Publication, self.id);
        self.shared.after_close();
        Ok(())
    }
}

impl std::fmt::Debug for SimPublication {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimPublication")
            .field("id", &self.id)
            .field("member", &self.member)
            .field("connected", &self.connected)
            .finish()
    }
}

/// A handle to the simulated media driver; cheap to clone.
#[derive(Clone)]
pub struct SimDriver {
    pub(super) shared: Arc<Shared>,
}

impl std::fmt::Debug for SimDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimDriver").finish_non_exhaustive()
    }
}

impl Driver for SimDriver {
    type Subscription = SimSubscription;
    type Publication = SimPublication;
    type Error = SimError;

    fn add_subscription(
        &self,
        channel: &str,
        stream_id: i32,
    ) -> Requester<SimSubscription, SimError> {
        let (creator, requester) = handoff();
        let fate = self.shared.fate();
        self.shared.enqueue(
            fate,
            Command::Subscription {
                creator,
                channel: channel.to_owned(),
                stream_id,
            },
        );
        requester
    }

    fn add_publication(
        &self,
        channel: &str,
        _stream_id: i32,
    ) -> Requester<SimPublication, SimError> {
        let (creator, requester) = handoff();
        // A channel that names no member of the cluster fails as the
        // error it is (not as an injected fault).
        let members = lock(&self.shared.cluster).members();
        let fate = match member_index(channel) {
            Some(member) if member < members => self.shared.fate(),
            _ => Fate::NoSuchMember(members),
        };
        let never_connects = lock(&self.shared.dice).chance(self.shared.faults.never_connect_rate);
        self.shared.enqueue(
            fate,
            Command::Publication {
                creator,
                channel: channel.to_owned(),
                never_connects,
            },
        );
        requester
    }

    fn is_connected(&self, publication: &SimPublication) -> bool {
        publication.connected
            && publication
                .member
                .is_some_and(|member| member < lock(&self.shared.cluster).members())
    }

    fn offer(&self, publication: &SimPublication, message: &[u8]) -> Result<(), OfferError> {
        if !self.is_connected(publication) {
            return Err(OfferError::NotConnected);
        }
        let Some(member) = publication.member else {
            return Err(OfferError::NotConnected);
        };
        let outgoing = lock(&self.shared.cluster).on_ingress(member, message);
        self.shared.deliver(outgoing);
        Ok(())
    }

    fn poll(
        &self,
        subscription: &SimSubscription,
        handler: &mut dyn FnMut(&[u8]),
        limit: usize,
    ) -> usize {
        let mut taken = Vec::new();
        {
            let mut inbox = lock(&subscription.inbox);
            while taken.len() < limit {
                match inbox.pop_front() {
                    Some(message) => taken.push(message),
                    None => break,
                }
            }
        }
        for message in &taken {
            handler(message);
        }
        taken.len()
    }

    fn next_correlation_id(&self) -> i64 {
        self.shared.next_correlation_id.fetch_add(1, Relaxed)
    }

    /// The simulation's clock: real time unless a test froze it.
    fn now(&self) -> Instant {
        self.shared.clock.now()
    }
}
