//! [`AeronDriver`]: the `Driver` trait over a real Aeron client.

use std::ffi::CString;
use std::time::Duration;

use rusteron_client::{
    Aeron, AeronAsyncAddPublication, AeronAsyncAddSubscription, AeronContext, AeronOfferError,
    AeronPublication, AeronSubscription, Handlers,
};

use crate::audit::{Kind, Ledger, LedgerSnapshot, Tracked};
use crate::driver::OfferError;
use crate::sync::os::atomic_order::{Acquire, Relaxed, Release};
use crate::sync::os::{Arc, AtomicBool, AtomicI64, Mutex, MutexGuard, thread};
use crate::{Close, Creator, Delivery, Driver, Requester, handoff};

/// How long the add worker sleeps when adds are pending and none moved
/// (the C client has no completion callback: pending adds are polled).
const IDLE: Duration = Duration::from_micros(100);
/// How long the worker parks when nothing is pending: a new command unparks
/// it at once; the bound only times the closing of lingering publications.
const PARKED: Duration = Duration::from_millis(50);

/// What the Aeron driver can fail with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AeronError {
    /// The Aeron C client reported an error.
    #[error("aeron: {0}")]
    Client(String),
    /// A channel that cannot be passed to C (it contains a NUL byte).
    #[error("invalid channel {0:?}: it contains a NUL byte")]
    InvalidChannel(String),
    /// The driver handle was stopped before the creation finished.
    #[error("the aeron driver handle has stopped")]
    Stopped,
}

impl From<rusteron_client::AeronCError> for AeronError {
    fn from(error: rusteron_client::AeronCError) -> Self {
        AeronError::Client(error.to_string())
    }
}

impl From<rusteron_media_driver::AeronCError> for AeronError {
    fn from(error: rusteron_media_driver::AeronCError) -> Self {
        AeronError::Client(error.to_string())
    }
}

/// An Aeron subscription (the egress).
pub struct Subscription(AeronSubscription);

impl Subscription {
    /// The underlying rusteron subscription.
    pub fn inner(&self) -> &AeronSubscription {
        &self.0
    }
}

impl Close for Subscription {
    type Error = AeronError;
    fn close(self) -> Result<(), AeronError> {
        self.0.close().map_err(AeronError::from)
    }
}

/// An Aeron publication (an ingress).
pub struct Publication {
    inner: AeronPublication,
    /// Where a close hands the publication to linger (see
    /// [`AeronOptions::publication_linger`]).
    linger: Arc<Linger>,
}

impl Publication {
    /// The underlying rusteron publication.
    pub fn inner(&self) -> &AeronPublication {
        &self.inner
    }
}

impl Close for Publication {
    type Error = AeronError;
    /// Hands the publication to the worker to linger, or closes it at once
    /// when lingering is off or the worker has stopped. Either way it is
    /// closed exactly once, by Aeron.
    fn close(self) -> Result<(), AeronError> {
        match self.linger.offer(self.inner) {
            None => Ok(()),
            Some(publication) => publication.close().map_err(AeronError::from),
        }
    }
}

/// Publications that were closed by their owners and that the worker keeps
/// open a little longer, so that the next add to the same channel and
/// stream finds the driver's publication still there and connected.
///
/// Aeron shares one driver publication between a client's publications to
/// the same channel and stream. Closing the last one tears it down, and the
/// next attempt must set it up and wait for the cluster to connect to it
/// again: under a tight deadline, a retry then times out where it would
/// have connected. (The naive cleanup gets this for free from the
/// publications it leaks.)
struct Linger {
    /// Closed publications not yet taken by the worker; `None` once the
    /// worker has stopped (then a close closes at once).
    inbox: Mutex<Option<Vec<AeronPublication>>>,
    /// How long a publication lingers; zero: not at all.
    duration: Duration,
    /// Publications lingering now (inbox included).
    count: crate::sync::os::AtomicU64,
}

impl Linger {
    /// Takes `publication` to linger; hands it back to be closed now.
    fn offer(&self, publication: AeronPublication) -> Option<AeronPublication> {
        if self.duration.is_zero() {
            return Some(publication);
        }
        let mut inbox = lock(&self.inbox);
        match inbox.as_mut() {
            Some(inbox) => {
                self.count.fetch_add(1, Relaxed);
                inbox.push(publication);
                None
            }
            None => Some(publication),
        }
    }
}

/// The worker's lingering publications: one per channel and stream (a
/// second one to the same pair would keep nothing more open).
#[derive(Default)]
struct Lingering(Vec<(String, i32, AeronPublication, std::time::Instant)>);

impl Lingering {
    /// Takes what was handed over since the last call.
    fn take_in(&mut self, linger: &Linger) -> Result<(), AeronError> {
        let arrived = lock(&linger.inbox).as_mut().map(std::mem::take);
        let mut result = Ok(());
        for publication in arrived.into_iter().flatten() {
            let (channel, stream) = (publication.channel().to_owned(), publication.stream_id());
            let until = std::time::Instant::now() + linger.duration;
            let same = self
                .0
                .iter()
                .position(|(c, s, ..)| *c == channel && *s == stream);
            let older = match same {
                Some(at) => Some(
                    std::mem::replace(&mut self.0[at], (channel, stream, publication, until)).2,
                ),
                None => {
                    self.0.push((channel, stream, publication, until));
                    None
                }
            };
            if let Some(older) = older {
                result = result.and(Self::close(linger, older));
            }
        }
        result
    }

    /// Closes the publications whose time is up (all of them when `all`).
    fn expire(&mut self, linger: &Linger, all: bool) -> Result<(), AeronError> {
        let now = std::time::Instant::now();
        let mut result = Ok(());
        let mut at = 0;
        while at < self.0.len() {
            if all || self.0[at].3 <= now {
                let (.., publication, _) = self.0.swap_remove(at);
                result = result.and(Self::close(linger, publication));
            } else {
                at += 1;
            }
        }
        result
    }

    fn close(linger: &Linger, publication: AeronPublication) -> Result<(), AeronError> {
        linger.count.fetch_sub(1, Relaxed);
        publication.close().map_err(AeronError::from)
    }
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("aeron::Subscription")
    }
}

impl std::fmt::Debug for Publication {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("aeron::Publication")
    }
}

/// A pending Aeron add and the creator half of its handoff.
enum PendingAdd {
    Subscription(
        AeronAsyncAddSubscription,
        Creator<Tracked<Subscription>, AeronError>,
    ),
    Publication(
        AeronAsyncAddPublication,
        Creator<Tracked<Publication>, AeronError>,
    ),
}

/// A rusteron asynchronous add, as the worker drives it: polled until it
/// resolves, or withdrawn (removed by registration id).
trait AsyncAdd: Sized {
    /// What rusteron hands over when the add resolves.
    type Resource;
    /// Our wrapper of it, which closes through Aeron.
    type Wrapped: Close<Error = AeronError>;
    /// How the ledger counts it.
    const KIND: Kind;
    fn try_resolve(&self) -> Result<Option<Self::Resource>, rusteron_client::AeronCError>;
    fn withdraw(&self);
    fn wrap(resource: Self::Resource, shared: &Shared) -> Self::Wrapped;
}

impl AsyncAdd for AeronAsyncAddSubscription {
    type Resource = AeronSubscription;
    type Wrapped = Subscription;
    const KIND: Kind = Kind::Subscription;
    fn try_resolve(&self) -> Result<Option<AeronSubscription>, rusteron_client::AeronCError> {
        self.poll()
    }
    fn withdraw(&self) {
        let _ = self.cancel();
    }
    fn wrap(resource: AeronSubscription, _: &Shared) -> Subscription {
        Subscription(resource)
    }
}

impl AsyncAdd for AeronAsyncAddPublication {
    type Resource = AeronPublication;
    type Wrapped = Publication;
    const KIND: Kind = Kind::Publication;
    fn try_resolve(&self) -> Result<Option<AeronPublication>, rusteron_client::AeronCError> {
        self.poll()
    }
    fn withdraw(&self) {
        let _ = self.cancel();
    }
    fn wrap(resource: AeronPublication, shared: &Shared) -> Publication {
        Publication {
            inner: resource,
            linger: shared.linger.clone(),
        }
    }
}

/// The creator half of an add's handoff.
type AddCreator<A> = Creator<Tracked<<A as AsyncAdd>::Wrapped>, AeronError>;

/// One poll of one pending add; hands it back while it is still pending.
fn advance<A: AsyncAdd>(
    poller: A,
    creator: AddCreator<A>,
    shared: &Shared,
) -> Option<(A, AddCreator<A>)> {
    if creator.is_cancelled() {
        // The requester gave up: remove the add by registration id, as
        // Aeron's fix for #1574 does; nothing to close.
        poller.withdraw();
        shared.count_cancelled();
        return None;
    }
    match poller.try_resolve() {
        Ok(None) => Some((poller, creator)),
        Ok(Some(resource)) => {
            let resource = shared.ledger.track(A::KIND, A::wrap(resource, shared));
            shared.delivered(creator.complete(Ok(resource)));
            None
        }
        Err(error) => {
            let _ = creator.complete(Err(error.into()));
            None
        }
    }
}

impl PendingAdd {
    /// One poll; `None` once the add resolved (created, failed or
    /// withdrawn).
    fn advance(self, shared: &Shared) -> Option<PendingAdd> {
        match self {
            PendingAdd::Subscription(poller, creator) => {
                advance(poller, creator, shared).map(|(p, c)| PendingAdd::Subscription(p, c))
            }
            PendingAdd::Publication(poller, creator) => {
                advance(poller, creator, shared).map(|(p, c)| PendingAdd::Publication(p, c))
            }
        }
    }

    fn cancel(self) {
        match self {
            PendingAdd::Subscription(poller, _creator) => poller.withdraw(),
            PendingAdd::Publication(poller, _creator) => poller.withdraw(),
        }
    }
}

/// Figures an [`AeronDriver`] keeps about its adds.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct AddCounts {
    /// Pending adds cancelled because their requester gave up.
    pub cancelled: u64,
    /// Adds that completed after their requester gave up and were closed.
    pub closed_late: u64,
    /// Closes of lingering publications that Aeron refused (their owners'
    /// closes had already returned `Ok`).
    pub linger_close_errors: u64,
}

/// A creation asked for by a requester, for the worker to start.
enum Command {
    Subscription(String, i32, Creator<Tracked<Subscription>, AeronError>),
    Publication(String, i32, Creator<Tracked<Publication>, AeronError>),
}

/// What the connecting threads and the worker share. The Aeron client and
/// its pending adds are not `Send` (rusteron), so they live on the worker
/// thread alone; requesters reach it through `commands`.
struct Shared {
    commands: Mutex<Vec<Command>>,
    /// Every subscription and publication this client created, and closed.
    ledger: Arc<Ledger>,
    /// Adds asked for and not yet resolved (commands + pending).
    in_flight: crate::sync::os::AtomicU64,
    counts: Mutex<AddCounts>,
    next_correlation_id: AtomicI64,
    stop: AtomicBool,
    linger: Arc<Linger>,
    /// The worker thread, to unpark when a command arrives.
    worker: std::sync::OnceLock<thread::Thread>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}

impl Shared {
    fn wake_worker(&self) {
        if let Some(worker) = self.worker.get() {
            worker.unpark();
        }
    }

    fn count_cancelled(&self) {
        lock(&self.counts).cancelled += 1;
    }

    fn delivered(&self, delivery: Result<Delivery, crate::CloseError<AeronError>>) {
        if let Ok(Delivery::ClosedLate) = delivery {
            lock(&self.counts).closed_late += 1;
            self.ledger.closed_late();
        }
    }

    /// Starts the add a command asks for, on the worker's client.
    fn start(&self, aeron: &Aeron, command: Command, pending: &mut Vec<PendingAdd>) {
        match command {
            Command::Subscription(channel, stream_id, creator) => {
                let poller = c_channel(&channel).and_then(|channel| {
                    aeron
                        .async_add_subscription(&channel, stream_id, Handlers::NONE, Handlers::NONE)
                        .map_err(AeronError::from)
                });
                match poller {
                    Ok(poller) => pending.push(PendingAdd::Subscription(poller, creator)),
                    Err(error) => {
                        self.in_flight.fetch_sub(1, Relaxed);
                        let _ = creator.complete(Err(error));
                    }
                }
            }
            Command::Publication(channel, stream_id, creator) => {
                let poller = c_channel(&channel).and_then(|channel| {
                    aeron
                        .async_add_publication(&channel, stream_id)
                        .map_err(AeronError::from)
                });
                match poller {
                    Ok(poller) => pending.push(PendingAdd::Publication(poller, creator)),
                    Err(error) => {
                        self.in_flight.fetch_sub(1, Relaxed);
                        let _ = creator.complete(Err(error));
                    }
                }
            }
        }
    }

    /// The worker: owns the client, starts the adds asked for, and polls
    /// every pending add until it resolves or its requester gives up.
    fn run(&self, aeron: Aeron) {
        let mut pending: Vec<PendingAdd> = Vec::new();
        let mut lingering = Lingering::default();
        while !self.stop.load(Acquire) {
            let lingered = lingering.take_in(&self.linger);
            let expired = lingering.expire(&self.linger, false);
            if lingered.and(expired).is_err() {
                lock(&self.counts).linger_close_errors += 1;
            }
            let commands = std::mem::take(&mut *lock(&self.commands));
            let started = !commands.is_empty();
            for command in commands {
                self.start(&aeron, command, &mut pending);
            }
            let before = pending.len();
            pending = pending
                .into_iter()
                .filter_map(|add| {
                    let still = add.advance(self);
                    if still.is_none() {
                        self.in_flight.fetch_sub(1, Relaxed);
                    }
                    still
                })
                .collect();
            if !started && pending.len() == before {
                // Parked, an idle client costs no CPU: on a small machine a
                // thread waking every 100 µs slows everything else down.
                if pending.is_empty() {
                    thread::park_timeout(PARKED);
                } else {
                    thread::sleep(IDLE);
                }
            }
        }
        // Stopping: creations in flight are cancelled; their requesters see
        // them abandoned. Lingering publications close now, and closes from
        // here on close at once.
        for add in pending {
            add.cancel();
        }
        // Taking the inbox and closing it happen under one lock, so a close
        // racing with the stop either lands in what is taken here or finds
        // `None` and closes its publication itself.
        let last = lock(&self.linger.inbox).take().unwrap_or_default();
        let mut failed = lingering.expire(&self.linger, true).is_err();
        for publication in last {
            failed |= Lingering::close(&self.linger, publication).is_err();
        }
        if failed {
            lock(&self.counts).linger_close_errors += 1;
        }
        for command in std::mem::take(&mut *lock(&self.commands)) {
            match command {
                Command::Subscription(.., creator) => {
                    let _ = creator.complete(Err(AeronError::Stopped));
                }
                Command::Publication(.., creator) => {
                    let _ = creator.complete(Err(AeronError::Stopped));
                }
            }
        }
    }
}

struct Handle {
    shared: Arc<Shared>,
    worker: Option<thread::JoinHandle<()>>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.shared.stop.store(true, Release);
        self.shared.wake_worker();
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

/// A [`Driver`] over a real Aeron client; cheap to clone. The client lives
/// on a worker thread of its own; the last clone dropped stops it (pending
/// adds are cancelled, then the client closes).
#[derive(Clone)]
pub struct AeronDriver {
    handle: Arc<Handle>,
}

impl std::fmt::Debug for AeronDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AeronDriver").finish_non_exhaustive()
    }
}

/// How an [`AeronDriver`] treats its resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AeronOptions {
    /// How long a closed publication stays open in the worker before Aeron
    /// closes it (one per channel and stream; the newest closed wins), so
    /// that a retry to the same cluster member finds it still connected
    /// instead of setting up a new one. `Duration::ZERO` closes at once.
    /// Default: one second. A closed publication's owner never sees it
    /// again; [`AeronDriver::lingering`] counts them, and dropping the last
    /// driver clone closes them.
    pub publication_linger: Duration,
}

impl Default for AeronOptions {
    fn default() -> Self {
        AeronOptions {
            publication_linger: Duration::from_secs(1),
        }
    }
}

impl AeronDriver {
    /// Starts a worker thread with a new Aeron client of the media driver
    /// in `dir`, with the default [`AeronOptions`].
    pub fn connect(dir: &str) -> Result<Self, AeronError> {
        Self::connect_with(dir, AeronOptions::default())
    }

    /// Starts a worker thread with a new Aeron client of the media driver
    /// in `dir`.
    pub fn connect_with(dir: &str, options: AeronOptions) -> Result<Self, AeronError> {
        let dir = CString::new(dir).map_err(|_| AeronError::InvalidChannel(dir.to_owned()))?;
        let shared = Arc::new(Shared {
            commands: Mutex::default(),
            ledger: Arc::default(),
            in_flight: crate::sync::os::AtomicU64::new(0),
            counts: Mutex::default(),
            next_correlation_id: AtomicI64::new(0),
            stop: AtomicBool::new(false),
            linger: Arc::new(Linger {
                inbox: Mutex::new(Some(Vec::new())),
                duration: options.publication_linger,
                count: crate::sync::os::AtomicU64::new(0),
            }),
            worker: std::sync::OnceLock::new(),
        });
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let worker = {
            let shared = shared.clone();
            thread::Builder::new()
                .name(String::from("leakless-aeron"))
                .spawn(move || {
                    let _ = shared.worker.set(thread::current());
                    let client = AeronContext::new().and_then(|context| {
                        context.set_dir(&dir)?;
                        prepare_context(&context)?;
                        let aeron = Aeron::new(&context)?;
                        aeron.start()?;
                        Ok(aeron)
                    });
                    match client {
                        Ok(aeron) => {
                            // Correlation ids for cluster requests: from the
                            // client's own sequence, then counted here.
                            shared
                                .next_correlation_id
                                .store(aeron.next_correlation_id(), Relaxed);
                            let _ = ready_tx.send(Ok(()));
                            shared.run(aeron);
                        }
                        Err(error) => {
                            let _ = ready_tx.send(Err(AeronError::from(error)));
                        }
                    }
                })
                .map_err(|error| AeronError::Client(error.to_string()))?
        };
        let handle = Handle {
            shared,
            worker: Some(worker),
        };
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(AeronDriver {
                handle: Arc::new(handle),
            }),
            Ok(Err(error)) => Err(error),
            Err(_) => Err(AeronError::Client(String::from(
                "the aeron worker thread died",
            ))),
        }
    }

    /// The audit of this client's resources: created, closed, live now
    /// (what would still be live at shutdown), peak, double closes.
    pub fn ledger(&self) -> LedgerSnapshot {
        self.handle.shared.ledger.snapshot()
    }

    /// Pending adds cancelled and late completions closed so far.
    pub fn add_counts(&self) -> AddCounts {
        *lock(&self.handle.shared.counts)
    }

    /// Closed publications still lingering (see
    /// [`AeronOptions::publication_linger`]).
    pub fn lingering(&self) -> u64 {
        self.handle.shared.linger.count.load(Relaxed)
    }

    /// Adds asked for and not yet resolved (created, failed or cancelled).
    pub fn in_flight(&self) -> u64 {
        self.handle.shared.in_flight.load(Relaxed)
    }

    fn ask(&self, command: Command) {
        self.handle.shared.in_flight.fetch_add(1, Relaxed);
        lock(&self.handle.shared.commands).push(command);
        self.handle.shared.wake_worker();
    }
}

/// Prepares a client context: replaces the C client's default error
/// handler, which exits the process on a fatal error (such as the media
/// driver shutting down) — errors of individual operations still reach their
/// callers as results — and makes its conductor back off (spin, yield, park
/// up to a millisecond) instead of sleeping 16 ms between duty cycles, so an
/// add resolves in microseconds rather than tens of milliseconds.
pub(crate) fn prepare_context(context: &AeronContext) -> Result<(), rusteron_client::AeronCError> {
    context.set_error_handler(Some(|_code: i32, _message: &str| {}))?;
    context.set_idle_strategy_kind(rusteron_client::AeronIdleStrategyKind::Backoff)?;
    Ok(())
}

fn c_channel(channel: &str) -> Result<CString, AeronError> {
    CString::new(channel).map_err(|_| AeronError::InvalidChannel(channel.to_owned()))
}

impl Driver for AeronDriver {
    type Subscription = Tracked<Subscription>;
    type Publication = Tracked<Publication>;
    type Error = AeronError;

    fn add_subscription(
        &self,
        channel: &str,
        stream_id: i32,
    ) -> Requester<Tracked<Subscription>, AeronError> {
        let (creator, requester) = handoff();
        self.ask(Command::Subscription(
            channel.to_owned(),
            stream_id,
            creator,
        ));
        requester
    }

    fn add_publication(
        &self,
        channel: &str,
        stream_id: i32,
    ) -> Requester<Tracked<Publication>, AeronError> {
        let (creator, requester) = handoff();
        self.ask(Command::Publication(channel.to_owned(), stream_id, creator));
        requester
    }

    fn is_connected(&self, publication: &Tracked<Publication>) -> bool {
        publication.inner.is_connected()
    }

    fn offer(&self, publication: &Tracked<Publication>, message: &[u8]) -> Result<(), OfferError> {
        match publication.inner.offer(message) {
            Ok(_) => Ok(()),
            Err(AeronOfferError::NotConnected) => Err(OfferError::NotConnected),
            Err(AeronOfferError::BackPressured | AeronOfferError::AdminAction) => {
                Err(OfferError::BackPressured)
            }
            Err(other) => Err(OfferError::Failed(format!("{other:?}"))),
        }
    }

    fn poll(
        &self,
        subscription: &Tracked<Subscription>,
        handler: &mut dyn FnMut(&[u8]),
        limit: usize,
    ) -> usize {
        subscription
            .0
            .poll_fn(|message, _header| handler(message), limit)
            .map_or(0, |fragments| fragments.max(0) as usize)
    }

    fn next_correlation_id(&self) -> i64 {
        self.handle.shared.next_correlation_id.fetch_add(1, Relaxed)
    }

    /// For `endpoint=host:0`, the channel with the port the media driver
    /// bound; other channels as they are.
    fn response_channel(
        &self,
        subscription: &Tracked<Subscription>,
        configured: &str,
    ) -> Option<String> {
        // The C client writes the resolved URI; an empty one: not bound yet.
        match subscription
            .0
            .try_resolve_channel_endpoint_port_as_string(configured.len() + 64)
        {
            Ok(resolved) if !resolved.is_empty() => Some(resolved),
            Ok(_) => None,
            // Not a channel the C client can parse: the configured one, as
            // before (the subscription exists, so Aeron accepted it).
            Err(_) => Some(configured.to_owned()),
        }
    }
}
