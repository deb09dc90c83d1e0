//! What the `aeron` tests and examples need: an embedded media driver whose
//! duty cycle can be held, a one-node cluster responder, and the driver's
//! own counters of live subscriptions and publications.

use std::collections::HashMap;
use std::ffi::CString;
use std::time::{Duration, Instant};

use rusteron_client::bindings::{
    AERON_COUNTER_PUBLISHER_LIMIT_TYPE_ID, AERON_COUNTER_RECEIVE_CHANNEL_STATUS_TYPE_ID,
    AERON_COUNTER_SUBSCRIPTION_POSITION_TYPE_ID,
};
use rusteron_client::{Aeron, AeronContext, AeronPublication, Handlers};
use rusteron_media_driver::AeronDriverContext;
use rusteron_media_driver::bindings::aeron_threading_mode_enum;

#[cfg(feature = "java-cluster")]
pub use super::java_node::{
    JavaCluster, JavaNode, LAUNCH_WITHIN, Placement, java_aeron_version, java_layout,
};
#[cfg(feature = "java-cluster")]
pub use super::netlab::{Host, LAB_MEMBERS, NetLab};
use super::{AeronDriver, AeronError};
use crate::connect::{Backoff, Cleanup, ConnectConfig, StateName, connect_with};
use crate::protocol::{self, EventCode, Message, SessionEvent};
use crate::sync::os::atomic_order::{Acquire, Release};
use crate::sync::os::{Arc, AtomicBool, Mutex, thread};

/// The driver's housekeeping tick in tests: short, so closed resources leave
/// its counters quickly.
pub const TIMER_INTERVAL: Duration = Duration::from_millis(10);

/// An embedded media driver (shared threading mode, one thread of ours)
/// whose duty cycle can be held: while held, no add or remove completes.
pub struct SteppedDriver {
    dir: String,
    held: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl SteppedDriver {
    /// Starts a driver in a new directory under `/dev/shm` (or the temp dir).
    pub fn launch() -> Result<Self, AeronError> {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let base = if std::path::Path::new("/dev/shm").is_dir() {
            std::path::PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let dir = base
            .join(format!(
                "leakless-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            ))
            .to_string_lossy()
            .into_owned();
        let c_dir =
            CString::new(dir.clone()).map_err(|_| AeronError::InvalidChannel(dir.clone()))?;
        let context = AeronDriverContext::new()?;
        context.set_dir(&c_dir)?;
        context.set_dir_delete_on_start(true)?;
        context.set_dir_delete_on_shutdown(true)?;
        context.set_threading_mode(aeron_threading_mode_enum::AERON_THREADING_MODE_SHARED)?;
        context.set_timer_interval_ns(TIMER_INTERVAL.as_nanos() as u64)?;
        // Closed publications leave the driver after a linger; keep it short.
        context.set_publication_linger_timeout_ns(TIMER_INTERVAL.as_nanos() as u64)?;

        let held = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let thread = {
            let (held, stop) = (held.clone(), stop.clone());
            thread::Builder::new()
                .name(String::from("aeron-media-driver"))
                .spawn(move || {
                    let driver = match rusteron_media_driver::AeronDriver::new(&context)
                        .and_then(|driver| driver.start(true).map(|_| driver))
                    {
                        Ok(driver) => driver,
                        Err(error) => {
                            let _ = started_tx.send(Err(AeronError::from(error)));
                            return;
                        }
                    };
                    let _ = started_tx.send(Ok(()));
                    while !stop.load(Acquire) {
                        if held.load(Acquire) {
                            thread::sleep(Duration::from_millis(1));
                            continue;
                        }
                        match driver.main_do_work() {
                            Ok(work) => driver.main_idle_strategy(work),
                            Err(_) => thread::sleep(Duration::from_millis(1)),
                        }
                    }
                })
                .map_err(|error| AeronError::Client(error.to_string()))?
        };
        match started_rx.recv() {
            Ok(Ok(())) => Ok(SteppedDriver {
                dir,
                held,
                stop,
                thread: Some(thread),
            }),
            Ok(Err(error)) => Err(error),
            Err(_) => Err(AeronError::Client(String::from(
                "the media driver thread died",
            ))),
        }
    }

    /// The Aeron directory clients connect to.
    pub fn dir(&self) -> &str {
        &self.dir
    }

    /// Stops running the duty cycle: adds and removes wait.
    pub fn hold(&self) {
        self.held.store(true, Release);
    }

    /// Runs the duty cycle again.
    pub fn release(&self) {
        self.held.store(false, Release);
    }

    /// A new client of this driver, for the calling thread (Aeron clients
    /// are not `Send`).
    pub fn client(&self) -> Result<Aeron, AeronError> {
        client_of(&self.dir)
    }
}

impl Drop for SteppedDriver {
    fn drop(&mut self) {
        self.stop.store(true, Release);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A new Aeron client of the media driver in `dir`.
fn client_of(dir: &str) -> Result<Aeron, AeronError> {
    let context = AeronContext::new()?;
    let c_dir = CString::new(dir).map_err(|_| AeronError::InvalidChannel(dir.to_owned()))?;
    context.set_dir(&c_dir)?;
    super::driver::prepare_context(&context)?;
    let aeron = Aeron::new(&context)?;
    aeron.start()?;
    Ok(aeron)
}

/// Reads the stream id from a per-stream counter's key (registration id
/// i64, session id i32, stream id i32, channel …).
fn key_stream_id(key: &[u8]) -> Option<i32> {
    Some(i32::from_le_bytes(key.get(12..16)?.try_into().ok()?))
}

/// Counts of live resources, from the media driver's own counters (the CnC
/// file), as `aeron-stat` would show them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DriverCounts {
    /// Subscriber-position counters on the stream: one per subscription
    /// linked to a publication (with one publication on the stream, one per
    /// live subscription).
    pub subscriptions: usize,
    /// Publisher-limit counters on the stream: one per publication in the
    /// driver (publications of one client to the same channel and stream
    /// share one).
    pub publications: usize,
}

/// Counts the driver's live subscriptions and publications on `stream_id`.
pub fn driver_counts(aeron: &Aeron, stream_id: i32) -> DriverCounts {
    let mut counts = DriverCounts {
        subscriptions: 0,
        publications: 0,
    };
    aeron
        .counters_reader()
        .foreach_counter_fn(|_value, _id, type_id, key, _label| {
            if key_stream_id(key) != Some(stream_id) {
                return;
            }
            if type_id == AERON_COUNTER_SUBSCRIPTION_POSITION_TYPE_ID as i32 {
                counts.subscriptions += 1;
            } else if type_id == AERON_COUNTER_PUBLISHER_LIMIT_TYPE_ID as i32 {
                counts.publications += 1;
            }
        });
    counts
}

/// The driver's receive-channel status counters: one per UDP endpoint it
/// receives on. When each subscription has an endpoint of its own (an
/// egress port per attempt, or an ephemeral `:0` port), one per live
/// subscription, whether or not anything was ever sent to it.
pub fn receive_channels(aeron: &Aeron) -> usize {
    let mut count = 0;
    aeron
        .counters_reader()
        .foreach_counter_fn(|_value, _id, type_id, _key, _label| {
            if type_id == AERON_COUNTER_RECEIVE_CHANNEL_STATUS_TYPE_ID as i32 {
                count += 1;
            }
        });
    count
}

/// Holds `media` and makes `attempts` connects with `config(i)` for
/// attempt `i`, each of which must time out in Pending: nothing can be
/// created while the driver is held. `media` is still held on return.
/// The #1574 workload; an error says which attempt did something else.
pub fn time_out_while_held<C: Cleanup>(
    media: &SteppedDriver,
    driver: &AeronDriver,
    config: impl Fn(usize) -> ConnectConfig,
    attempts: usize,
) -> Result<(), String> {
    media.hold();
    for attempt in 0..attempts {
        match connect_with::<_, C>(driver.clone(), config(attempt), &mut Backoff::default()) {
            Ok(_) => {
                return Err(format!(
                    "attempt {attempt} connected while the driver was held"
                ));
            }
            Err(failed) if failed.error.timed_out_in() == Some(StateName::Pending) => {}
            Err(failed) => {
                return Err(format!(
                    "attempt {attempt} failed otherwise than timing out in Pending: {}",
                    failed.error
                ));
            }
        }
    }
    Ok(())
}

/// The channels of the driver's publications on `stream_id`, from their
/// publisher-limit counters (label `pub-lmt: registration session stream
/// channel`).
pub fn publication_channels(aeron: &Aeron, stream_id: i32) -> Vec<String> {
    let mut channels = Vec::new();
    aeron
        .counters_reader()
        .foreach_counter_fn(|_value, _id, type_id, key, label| {
            if type_id != AERON_COUNTER_PUBLISHER_LIMIT_TYPE_ID as i32
                || key_stream_id(key) != Some(stream_id)
            {
                return;
            }
            if let Some(channel) = label.split_whitespace().nth(4) {
                channels.push(channel.to_string());
            }
        });
    channels
}

/// The client-facing ingress endpoint, `host:port`, of member `member` of a
/// Java cluster on localhost.
pub fn ingress_endpoint(member: usize) -> String {
    format!("localhost:{}", ingress_port(member))
}

/// The ingress port of member `member` of a Java cluster
/// (`interop/java-cluster/EchoNode.java` gives member i port 20110 + i).
pub fn ingress_port(member: usize) -> usize {
    20110 + member
}

/// Polls `probe` until it holds or `within` passes; returns whether it held.
pub fn eventually(within: Duration, mut probe: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if probe() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(1));
    }
}

/// What the responder has seen.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ResponderStats {
    /// Connect requests answered OK.
    pub sessions_opened: u64,
    /// Sessions closed by the client (SessionCloseRequest).
    pub sessions_closed: u64,
    /// Application messages echoed.
    pub echoes: u64,
}

/// A minimal one-node cluster over real Aeron: reads connect requests from
/// the ingress stream and answers SessionEvent OK on the response channel;
/// echoes application messages; counts session closes. Stops on drop.
pub struct Responder {
    stats: Arc<Mutex<ResponderStats>>,
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

struct Session {
    egress: (String, i32),
}

impl Responder {
    /// Starts answering on `ingress_channel` / `ingress_stream_id`, with a
    /// client of its own (on its own thread) of `driver`.
    pub fn start(
        driver: &SteppedDriver,
        ingress_channel: &str,
        ingress_stream_id: i32,
    ) -> Result<Self, AeronError> {
        let channel = CString::new(ingress_channel)
            .map_err(|_| AeronError::InvalidChannel(ingress_channel.to_owned()))?;
        let dir = driver.dir().to_owned();
        let stats = Arc::new(Mutex::new(ResponderStats::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = {
            let (stats, stop) = (stats.clone(), stop.clone());
            thread::Builder::new()
                .name(String::from("cluster-responder"))
                .spawn(move || {
                    let started = client_of(&dir).and_then(|aeron| {
                        let subscription = aeron
                            .async_add_subscription(
                                &channel,
                                ingress_stream_id,
                                Handlers::NONE,
                                Handlers::NONE,
                            )?
                            .poll_blocking(Duration::from_secs(5))?;
                        Ok((aeron, subscription))
                    });
                    let (aeron, subscription) = match started {
                        Ok(started) => {
                            let _ = ready_tx.send(Ok(()));
                            started
                        }
                        Err(error) => {
                            let _ = ready_tx.send(Err(error));
                            return;
                        }
                    };
                    let mut node = Node {
                        aeron,
                        publications: HashMap::new(),
                        sessions: HashMap::new(),
                        next_session_id: 1,
                        stats,
                    };
                    while !stop.load(Acquire) {
                        let mut inbox = Vec::new();
                        let read = subscription
                            .poll_fn(|message, _| inbox.push(message.to_vec()), 16)
                            .unwrap_or(0);
                        for message in inbox {
                            node.on_ingress(&message);
                        }
                        if read <= 0 {
                            thread::sleep(Duration::from_micros(200));
                        }
                    }
                    let _ = subscription.close();
                })
                .map_err(|error| AeronError::Client(error.to_string()))?
        };
        let responder = Responder {
            stats,
            stop,
            thread: Some(thread),
        };
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(responder),
            Ok(Err(error)) => Err(error),
            Err(_) => Err(AeronError::Client(String::from(
                "the responder thread died",
            ))),
        }
    }

    /// What it has seen so far.
    pub fn stats(&self) -> ResponderStats {
        *self.stats.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        self.stop.store(true, Release);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

struct Node {
    aeron: Aeron,
    /// One publication per egress channel/stream, shared by its sessions.
    publications: HashMap<(String, i32), AeronPublication>,
    sessions: HashMap<i64, Session>,
    next_session_id: i64,
    stats: Arc<Mutex<ResponderStats>>,
}

impl Node {
    fn on_ingress(&mut self, bytes: &[u8]) {
        match protocol::decode(bytes) {
            Ok(Message::Connect(request)) => {
                let egress = (request.response_channel.clone(), request.response_stream_id);
                let session_id = self.next_session_id;
                self.next_session_id += 1;
                let event = protocol::encode(&Message::Event(SessionEvent {
                    cluster_session_id: session_id,
                    correlation_id: request.correlation_id,
                    leadership_term_id: 1,
                    leader_member_id: 0,
                    code: EventCode::Ok,
                    version: protocol::PROTOCOL_VERSION,
                    leader_heartbeat_timeout_ns: 10_000_000_000,
                    detail: String::new(),
                }));
                if self.send(&egress, &event) {
                    self.sessions.insert(session_id, Session { egress });
                    self.stats
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .sessions_opened += 1;
                }
            }
            Ok(Message::Session(header, payload)) => {
                let Some(session) = self.sessions.get(&header.cluster_session_id) else {
                    return;
                };
                let egress = session.egress.clone();
                let mut echo = protocol::encode(&Message::Session(header, Vec::new()));
                echo.extend_from_slice(&payload);
                if self.send(&egress, &echo) {
                    self.stats.lock().unwrap_or_else(|p| p.into_inner()).echoes += 1;
                }
            }
            Ok(Message::Close(close))
                if self.sessions.remove(&close.cluster_session_id).is_some() =>
            {
                self.stats
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .sessions_closed += 1;
            }
            _ => {}
        }
    }

    /// Offers on the egress publication, creating it on first use; gives up
    /// after a second.
    fn send(&mut self, egress: &(String, i32), bytes: &[u8]) -> bool {
        if !self.publications.contains_key(egress) {
            let Ok(channel) = CString::new(egress.0.clone()) else {
                return false;
            };
            let publication = self
                .aeron
                .async_add_publication(&channel, egress.1)
                .and_then(|poller| poller.poll_blocking(Duration::from_secs(5)));
            match publication {
                Ok(publication) => {
                    self.publications.insert(egress.clone(), publication);
                }
                Err(_) => return false,
            }
        }
        let Some(publication) = self.publications.get(egress) else {
            return false;
        };
        eventually(Duration::from_secs(1), || publication.offer(bytes).is_ok())
    }
}
