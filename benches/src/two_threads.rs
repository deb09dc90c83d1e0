//! The two-thread round trip: the requester blocks in its wait while a
//! worker thread completes. A worker busy-polls for its next job, so a
//! completion lands within about a microsecond of the request (`early`:
//! the case where spinning before parking pays), or after a pause it spins
//! through first (`late`: every contender parks, or spins in vain).

use std::hint::black_box;
use std::sync::atomic::Ordering::{Acquire, Release};
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use leakless::handoff;

use crate::Val;

type Job = Box<dyn FnOnce() + Send>;

/// A worker thread that busy-polls for jobs. The job slot costs the same
/// for every contender.
#[derive(Debug)]
pub struct Worker {
    inbox: Arc<Inbox>,
    handle: Option<thread::JoinHandle<()>>,
}

#[derive(Default)]
struct Inbox {
    job: Mutex<Option<Job>>,
    ready: AtomicBool,
    stop: AtomicBool,
    /// How long the worker waits before running a job, in nanoseconds.
    delay_ns: AtomicU64,
}

impl std::fmt::Debug for Inbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inbox").finish_non_exhaustive()
    }
}

impl Worker {
    /// Starts the worker; `delay` before each completion (zero: at once).
    pub fn start(delay: Duration) -> Self {
        let inbox = Arc::new(Inbox::default());
        inbox.delay_ns.store(delay.as_nanos() as u64, Release);
        let shared = inbox.clone();
        let handle = thread::spawn(move || {
            while !shared.stop.load(Acquire) {
                if shared.ready.swap(false, Acquire) {
                    let job = shared.job.lock().unwrap().take();
                    let delay = Duration::from_nanos(shared.delay_ns.load(Acquire));
                    if !delay.is_zero() {
                        let until = Instant::now() + delay;
                        while Instant::now() < until {
                            std::hint::spin_loop();
                        }
                    }
                    if let Some(job) = job {
                        job();
                    }
                } else {
                    std::hint::spin_loop();
                }
            }
        });
        Worker {
            inbox,
            handle: Some(handle),
        }
    }

    fn run(&self, job: Job) {
        *self.inbox.job.lock().unwrap() = Some(job);
        self.inbox.ready.store(true, Release);
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.inbox.stop.store(true, Release);
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

/// A two-thread round trip through one contender.
pub type TwoThreadOp = fn(&Worker) -> u64;

/// The contenders, leakless first.
pub const CONTENDERS: &[(&str, TwoThreadOp)] = &[
    ("leakless_wait", leakless),
    ("oneshot_recv", oneshot),
    ("crossbeam_bounded_1_recv", crossbeam_bounded_1),
    ("sync_channel_1_recv", sync_channel_1),
    ("mutex_condvar_wait", mutex_condvar),
];

/// `wait` (spins briefly, then parks).
pub fn leakless(worker: &Worker) -> u64 {
    let (creator, mut requester) = handoff::<Val, ()>();
    worker.run(Box::new(move || {
        let _ = creator.complete(Ok(Val(7)));
    }));
    black_box(requester.wait().unwrap().into_inner().0)
}

/// `recv` (parks at once).
pub fn oneshot(worker: &Worker) -> u64 {
    let (tx, rx) = oneshot::channel::<u64>();
    worker.run(Box::new(move || tx.send(7).unwrap()));
    black_box(rx.recv().unwrap())
}

/// `recv` (crossbeam spins with backoff before it parks).
pub fn crossbeam_bounded_1(worker: &Worker) -> u64 {
    let (tx, rx) = crossbeam_channel::bounded::<u64>(1);
    worker.run(Box::new(move || tx.send(7).unwrap()));
    black_box(rx.recv().unwrap())
}

/// `recv`.
pub fn sync_channel_1(worker: &Worker) -> u64 {
    let (tx, rx) = mpsc::sync_channel::<u64>(1);
    worker.run(Box::new(move || tx.send(7).unwrap()));
    black_box(rx.recv().unwrap())
}

/// Lock, wait on the condvar until filled.
pub fn mutex_condvar(worker: &Worker) -> u64 {
    let slot: Arc<(Mutex<Option<u64>>, Condvar)> = Arc::default();
    let filler = slot.clone();
    worker.run(Box::new(move || {
        *filler.0.lock().unwrap() = Some(7);
        filler.1.notify_one();
    }));
    let mut guard = slot.0.lock().unwrap();
    loop {
        if let Some(value) = guard.take() {
            return black_box(value);
        }
        guard = slot.1.wait(guard).unwrap();
    }
}
