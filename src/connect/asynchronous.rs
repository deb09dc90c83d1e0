//! The connect as a future, with no runtime dependency: the same typestate
//! machine, polled between pauses that you supply.
//!
//! Dropping the future at any `.await` drops the attempt it holds, which
//! releases everything held or pending, exactly like dropping the attempt.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::cleanup::{Cleanup, Leakless};
use super::config::ConnectConfig;
use super::error::Failed;
use super::{AsyncConnect, Client, Pending, Progress, Subscribed};
use crate::Driver;

/// A pause between two polls of a connect: a timer from your runtime, or
/// [`YieldNow`] where there is none. With tokio, use `TokioSleep`
/// (feature `tokio`); for another runtime, wrap its timer:
///
/// ```
/// use std::time::Duration;
/// use leakless::connect::Sleep;
///
/// /// A runtime's timer future (here a stand-in that is ready at once).
/// struct Timer;
/// impl std::future::Future for Timer {
///     type Output = ();
///     fn poll(self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<()> {
///         std::task::Poll::Ready(())
///     }
/// }
///
/// struct MyRuntimeSleep;
/// impl Sleep for MyRuntimeSleep {
///     type Pause = Timer;
///     fn sleep(&self, _duration: Duration) -> Timer {
///         Timer // my_runtime::sleep(duration)
///     }
/// }
/// ```
pub trait Sleep {
    /// The future of one pause.
    type Pause: Future<Output = ()>;
    /// A pause of about `duration`.
    fn sleep(&self, duration: Duration) -> Self::Pause;
}

/// A borrowed sleeper sleeps as the sleeper does: pass `&sleeper` to keep
/// using it, or the sleeper itself (owned, `'static`) to move the connect
/// into a spawned task.
impl<S: Sleep + ?Sized> Sleep for &S {
    type Pause = S::Pause;
    fn sleep(&self, duration: Duration) -> S::Pause {
        (**self).sleep(duration)
    }
}

/// Tokio's timer as a [`Sleep`] (feature `tokio`; needs a tokio runtime
/// with the time driver enabled).
///
/// ```
/// # #[cfg(all(feature = "tokio", not(loom)))] {
/// use leakless::connect::{TokioSleep, connect_async};
/// use leakless::sim::{Sim, SimConfig};
///
/// let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
/// let sim = Sim::start(SimConfig::default()).expect("a valid simulation");
/// let (driver, config) = (sim.driver(), sim.connect_config());
/// // Owned and 'static: the connect can move into a spawned task.
/// let client = runtime
///     .block_on(async { tokio::spawn(connect_async(driver, config, TokioSleep)).await })
///     .unwrap()
///     .unwrap();
/// client.close().unwrap();
/// # }
/// ```
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioSleep;

#[cfg(feature = "tokio")]
impl Sleep for TokioSleep {
    type Pause = tokio::time::Sleep;
    fn sleep(&self, duration: Duration) -> tokio::time::Sleep {
        tokio::time::sleep(duration)
    }
}

/// A pause that only yields to the executor once (it ignores the duration):
/// works on any executor, without a timer, at the cost of polling busily.
#[derive(Debug, Clone, Copy, Default)]
pub struct YieldNow;

/// The future of a [`YieldNow`] pause.
#[derive(Debug, Default)]
pub struct YieldOnce {
    yielded: bool,
}

impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

impl Sleep for YieldNow {
    type Pause = YieldOnce;
    fn sleep(&self, _duration: Duration) -> YieldOnce {
        YieldOnce::default()
    }
}

/// How long the async connect pauses between polls that found nothing to do.
const POLL_INTERVAL: Duration = Duration::from_micros(100);

/// Connects with the leakless policy, pausing with `sleep` between polls.
///
/// ```
/// # leakless::doc_std(|| {
/// use leakless::connect::{YieldNow, connect_async};
/// use leakless::sim::{Sim, SimConfig};
///
/// # fn block_on<F: std::future::Future>(future: F) -> F::Output {
/// #     // A minimal executor: poll, park until woken.
/// #     struct Unpark(std::thread::Thread);
/// #     impl std::task::Wake for Unpark {
/// #         fn wake(self: std::sync::Arc<Self>) { self.0.unpark() }
/// #     }
/// #     let waker = std::task::Waker::from(std::sync::Arc::new(Unpark(std::thread::current())));
/// #     let mut cx = std::task::Context::from_waker(&waker);
/// #     let mut future = std::pin::pin!(future);
/// #     loop {
/// #         if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut cx) {
/// #             return output;
/// #         }
/// #         std::thread::park();
/// #     }
/// # }
/// let sim = Sim::start(SimConfig::default()).expect("a valid simulation");
/// // Any executor: tokio, `futures::executor::block_on`, or this one.
/// let client = block_on(connect_async(sim.driver(), sim.connect_config(), &YieldNow)).unwrap();
/// client.close().unwrap();
/// # });
/// ```
pub async fn connect_async<D: Driver, S: Sleep>(
    driver: D,
    config: ConnectConfig,
    sleep: S,
) -> Result<Client<D>, Failed> {
    connect_async_with::<D, Leakless, S>(driver, config, sleep).await
}

/// [`connect_async`] with cleanup policy `C`.
pub async fn connect_async_with<D: Driver, C: Cleanup, S: Sleep>(
    driver: D,
    config: ConnectConfig,
    sleep: S,
) -> Result<Client<D, C>, Failed> {
    let mut attempt = AsyncConnect::<Pending, D, C>::start(driver, config)
        .map_err(|error| Failed::ended(error, Default::default()))?;
    let mut subscribed: AsyncConnect<Subscribed, D, C> = loop {
        match attempt.poll() {
            Progress::Pending(same) => attempt = same,
            Progress::Ready(next) => break next,
            Progress::Failed(failed) => return Err(failed),
        }
        sleep.sleep(POLL_INTERVAL).await;
    };
    loop {
        match subscribed.poll() {
            Progress::Pending(same) => subscribed = same,
            Progress::Ready(client) => return Ok(client),
            Progress::Failed(failed) => return Err(failed),
        }
        sleep.sleep(POLL_INTERVAL).await;
    }
}
