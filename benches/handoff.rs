//! The handoff against the usual ways to pass one value between threads.
//!
//! `cargo bench --bench handoff`; the ratios are in docs/BENCHMARKS.md.
use std::hint::black_box;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::{Acquire, Release};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use leakless::{Close, handoff};

/// A resource whose close costs nothing, so the handoff itself is measured.
struct Val(u64);

impl Close for Val {
    type Error = std::convert::Infallible;
    fn close(self) -> Result<(), Self::Error> {
        black_box(self.0);
        Ok(())
    }
}

type Slot = Arc<(Mutex<Option<u64>>, Condvar)>;

fn mutex_slot() -> Slot {
    Arc::new((Mutex::new(None), Condvar::new()))
}

fn fill(slot: &Slot, value: u64) {
    *slot.0.lock().unwrap() = Some(value);
    slot.1.notify_one();
}

fn wait_for(slot: &Slot) -> u64 {
    let mut guard = slot.0.lock().unwrap();
    loop {
        if let Some(value) = guard.take() {
            return value;
        }
        guard = slot.1.wait(guard).unwrap();
    }
}

fn single_thread(c: &mut Criterion) {
    let mut group = c.benchmark_group("round_trip_single_thread");
    group.bench_function("leakless", |b| {
        b.iter(|| {
            let (creator, mut requester) = handoff::<Val, ()>();
            let _ = creator.complete(Ok(Val(black_box(7))));
            let taken = requester.try_take().unwrap().unwrap();
            black_box(taken.into_inner().0)
        })
    });
    group.bench_function("oneshot", |b| {
        b.iter(|| {
            let (tx, rx) = oneshot::channel::<u64>();
            tx.send(black_box(7)).unwrap();
            black_box(rx.try_recv().unwrap())
        })
    });
    group.bench_function("sync_channel_1", |b| {
        b.iter(|| {
            let (tx, rx) = mpsc::sync_channel::<u64>(1);
            tx.send(black_box(7)).unwrap();
            black_box(rx.try_recv().unwrap())
        })
    });
    group.bench_function("mutex_condvar", |b| {
        b.iter(|| {
            let slot = mutex_slot();
            fill(&slot, black_box(7));
            black_box(wait_for(&slot))
        })
    });
    group.finish();
}

fn give_up(c: &mut Criterion) {
    let mut group = c.benchmark_group("give_up");
    group.bench_function("take", |b| {
        b.iter(|| {
            let (creator, mut requester) = handoff::<Val, ()>();
            let _ = creator.complete(Ok(Val(black_box(7))));
            black_box(requester.try_take().unwrap().unwrap().into_inner().0)
        })
    });
    group.bench_function("cancel_then_complete", |b| {
        b.iter(|| {
            let (creator, requester) = handoff::<Val, ()>();
            let _ = black_box(requester.cancel());
            black_box(creator.complete(Ok(Val(black_box(7)))))
        })
    });
    group.bench_function("complete_then_cancel", |b| {
        b.iter(|| {
            let (creator, requester) = handoff::<Val, ()>();
            let _ = black_box(creator.complete(Ok(Val(black_box(7)))));
            black_box(requester.cancel())
        })
    });
    group.finish();
}

type Job = Box<dyn FnOnce() + Send>;

/// A worker thread that busy-polls for the completing half of each round
/// trip, so a completion lands within about a microsecond of the request:
/// the case where spinning before parking pays. The job slot costs the same
/// for every contender.
struct Worker {
    slot: Arc<(Mutex<Option<Job>>, AtomicBool, AtomicBool)>,
    handle: Option<thread::JoinHandle<()>>,
}

impl Worker {
    fn start() -> Self {
        let slot: Arc<(Mutex<Option<Job>>, AtomicBool, AtomicBool)> = Arc::default();
        let inbox = slot.clone();
        let handle = thread::spawn(move || {
            let (job, ready, stop) = &*inbox;
            while !stop.load(Acquire) {
                if ready.swap(false, Acquire) {
                    let job = job.lock().unwrap().take();
                    if let Some(job) = job {
                        job();
                    }
                } else {
                    std::hint::spin_loop();
                }
            }
        });
        Worker {
            slot,
            handle: Some(handle),
        }
    }

    fn run(&self, job: Job) {
        *self.slot.0.lock().unwrap() = Some(job);
        self.slot.1.store(true, Release);
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.slot.2.store(true, Release);
        if let Some(handle) = self.handle.take() {
            handle.join().unwrap();
        }
    }
}

fn two_threads(c: &mut Criterion) {
    let mut group = c.benchmark_group("round_trip_two_threads");
    let worker = Worker::start();
    group.bench_function("leakless_wait", |b| {
        b.iter(|| {
            let (creator, mut requester) = handoff::<Val, ()>();
            worker.run(Box::new(move || {
                let _ = creator.complete(Ok(Val(7)));
            }));
            black_box(requester.wait().unwrap().into_inner().0)
        })
    });
    group.bench_function("oneshot_recv", |b| {
        b.iter(|| {
            let (tx, rx) = oneshot::channel::<u64>();
            worker.run(Box::new(move || tx.send(7).unwrap()));
            black_box(rx.recv().unwrap())
        })
    });
    group.bench_function("sync_channel_1_recv", |b| {
        b.iter(|| {
            let (tx, rx) = mpsc::sync_channel::<u64>(1);
            worker.run(Box::new(move || tx.send(7).unwrap()));
            black_box(rx.recv().unwrap())
        })
    });
    group.bench_function("mutex_condvar_wait", |b| {
        b.iter(|| {
            let slot = mutex_slot();
            let filler = slot.clone();
            worker.run(Box::new(move || fill(&filler, 7)));
            black_box(wait_for(&slot))
        })
    });
    group.finish();
}

/// The awaited handoff: complete, then poll the receiving future once (it
/// is ready). The same no-op waker for every contender, so the future's own
/// cost is what is measured, not an executor's.
fn awaited(c: &mut Criterion) {
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll, Waker};

    fn ready<F: Future + Unpin>(mut future: F) -> F::Output {
        let mut cx = Context::from_waker(Waker::noop());
        match Pin::new(&mut future).poll(&mut cx) {
            Poll::Ready(output) => output,
            Poll::Pending => unreachable!("the value was sent before the poll"),
        }
    }

    let mut group = c.benchmark_group("awaited_round_trip");
    group.bench_function("leakless", |b| {
        b.iter(|| {
            let (creator, requester) = handoff::<Val, ()>();
            let _ = creator.complete(Ok(Val(black_box(7))));
            black_box(ready(requester).unwrap().into_inner().0)
        })
    });
    group.bench_function("tokio_oneshot", |b| {
        b.iter(|| {
            let (tx, rx) = tokio::sync::oneshot::channel::<u64>();
            tx.send(black_box(7)).unwrap();
            black_box(ready(rx).unwrap())
        })
    });
    group.bench_function("futures_oneshot", |b| {
        b.iter(|| {
            let (tx, rx) = futures::channel::oneshot::channel::<u64>();
            tx.send(black_box(7)).unwrap();
            black_box(ready(rx).unwrap())
        })
    });
    group.bench_function("leakless_pending_then_ready", |b| {
        // The path with a waker registered: poll (pending), complete (wake),
        // poll again.
        b.iter(|| {
            let (creator, mut requester) = handoff::<Val, ()>();
            let mut cx = Context::from_waker(Waker::noop());
            assert!(Pin::new(&mut requester).poll(&mut cx).is_pending());
            let _ = creator.complete(Ok(Val(black_box(7))));
            black_box(ready(requester).unwrap().into_inner().0)
        })
    });
    group.bench_function("tokio_oneshot_pending_then_ready", |b| {
        b.iter(|| {
            let (tx, mut rx) = tokio::sync::oneshot::channel::<u64>();
            let mut cx = Context::from_waker(Waker::noop());
            assert!(Pin::new(&mut rx).poll(&mut cx).is_pending());
            tx.send(black_box(7)).unwrap();
            black_box(ready(rx).unwrap())
        })
    });
    group.bench_function("futures_oneshot_pending_then_ready", |b| {
        b.iter(|| {
            let (tx, mut rx) = futures::channel::oneshot::channel::<u64>();
            let mut cx = Context::from_waker(Waker::noop());
            assert!(Pin::new(&mut rx).poll(&mut cx).is_pending());
            tx.send(black_box(7)).unwrap();
            black_box(ready(rx).unwrap())
        })
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50)
}

criterion_group! {
    name = benches;
    config = config();
    targets = single_thread, give_up, two_threads, awaited
}
criterion_main!(benches);
