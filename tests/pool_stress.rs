//! The pool under load: 8 threads checking clients out and in while the
//! cluster changes leader and drops replies; after close, nothing is live.
#![cfg(not(loom))]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

use leakless::pool::{Pool, PoolConfig};
use leakless::sim::{FaultProfile, Sim, SimConfig};

const THREADS: usize = 8;
const ROUNDS: u64 = 2_000;

#[test]
fn eight_threads_check_out_and_in_while_the_cluster_changes_leader() {
    let sim = Arc::new(
        Sim::start(SimConfig {
            faults: FaultProfile {
                lost_reply_rate: 0.2,
                creation_latency: Duration::ZERO..Duration::from_micros(200),
                seed: 7,
                ..FaultProfile::default()
            },
            ..SimConfig::default()
        })
        .expect("a valid simulation"),
    );
    let config = sim.connect_config().timeout(Duration::from_millis(20));
    let pool: Arc<Pool<_>> =
        Arc::new(Pool::start(sim.driver(), PoolConfig::new(4, config)).expect("a valid pool"));
    let lent = Arc::new(AtomicU64::new(0));
    let timeouts = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));

    let chaos = {
        let (sim, stop) = (sim.clone(), stop.clone());
        thread::spawn(move || {
            let mut elections = 0u64;
            while !stop.load(Ordering::Relaxed) {
                elections += 1;
                sim.elect((elections % 3) as usize)
                    .expect("a member of the cluster");
                thread::sleep(Duration::from_millis(2));
            }
            elections
        })
    };
    let workers: Vec<_> = (0..THREADS)
        .map(|_| {
            let (pool, lent, timeouts) = (pool.clone(), lent.clone(), timeouts.clone());
            thread::spawn(move || {
                for _ in 0..ROUNDS {
                    match pool.check_out(Duration::from_secs(2)) {
                        Ok(mut client) => {
                            // The work: a request and its echo.
                            if client.offer(b"work").is_ok() {
                                let mut echoed = 0;
                                for _ in 0..1_000 {
                                    echoed += client.poll_egress(|_| {});
                                    if echoed > 0 {
                                        break;
                                    }
                                    thread::yield_now();
                                }
                            }
                            lent.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(_) => {
                            timeouts.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    let elections = chaos.join().unwrap();

    let audit = pool.close();
    sim.settle();
    let ledger = sim.ledger();
    println!(
        "pool stress: {} lent, {} check-out timeouts, {elections} leader changes; audit {audit:?}; ledger {ledger:?}",
        lent.load(Ordering::Relaxed),
        timeouts.load(Ordering::Relaxed)
    );
    assert_eq!(audit.still_checked_out, 0);
    assert!(lent.load(Ordering::Relaxed) > 0, "clients were lent");
    assert!(audit.unhealthy > 0, "leader changes made clients unhealthy");
    assert_eq!(audit.clients_closed, audit.connected, "every client closed");
    assert_eq!(ledger.live(), 0, "nothing live after close");
    assert_eq!(ledger.double_closes, 0);
}
