//! The soak: many connect attempts against the embedded simulated cluster,
//! under a seeded fault profile, once with the naive connect (Aeron's
//! client before the fix of #1574) and once with leakless; then a report of
//! what each left behind.
//!
//! The two run in `--rounds` rounds (ten by default), taking turns to go
//! first, so that neither gains from its place in the run or from a change
//! in the machine's load; their connect rates are then compared with a
//! one-sided two-proportion z-test (not with `--pool`, whose check-outs
//! measure the machine's load more than the policy).
//!
//! `cargo run --release --example soak` (see `--help` for the flags).
//! Exits 0 when leakless ended with nothing live, nothing closed twice, and
//! a connect rate not significantly below naive's; 1 when one of those
//! failed; 2 on bad arguments or a transport that could not start.

#[cfg(feature = "aeron")]
mod aeron_transport;
mod cli;
mod compare;
mod histogram;
mod plot;
mod report;
mod rss;
mod workload;

use clap::Parser;
use leakless::connect::{Leakless, Naive};

fn main() {
    let args = cli::Args::parse();
    // A plot that cannot be written fails now, not after the run.
    if let Some(path) = &args.plot {
        if let Err(error) = plot::check_writable(path) {
            eprintln!("cannot write the plot to {}: {error}", path.display());
            std::process::exit(2);
        }
    }
    let progress = workload::progress_bar(args.attempts);
    let (leakless, naive) = match args.transport {
        cli::Transport::Sim => rounds(&args, |round, leakless_first| {
            let run_leakless = || workload::run::<Leakless>(round, &progress);
            let run_naive = || workload::run::<Naive>(round, &progress);
            in_order(leakless_first, run_leakless, run_naive)
        }),
        cli::Transport::Aeron => aeron_runs(&args, &progress, false),
        cli::Transport::JavaCluster => aeron_runs(&args, &progress, true),
    };
    progress.finish_and_clear();

    let rates = compare::Rates::of(&naive, &leakless);
    if args.json {
        println!("{}", report::json(&args, &naive, &leakless, &rates));
    } else {
        print!("{}", report::table(&args, &naive, &leakless, &rates));
    }
    if let Some(path) = &args.plot {
        match plot::svg(path, &naive, &leakless) {
            Ok(()) => eprintln!("plot written to {}", path.display()),
            Err(error) => {
                eprintln!("could not write the plot to {}: {error}", path.display());
                std::process::exit(2);
            }
        }
    }
    let clean = leakless.ledger.live() == 0 && leakless.ledger.double_closes == 0;
    // With --pool a "connect" is a check-out within 20 deadlines from a
    // pool that connects in the background: its rate follows the machine's
    // load more than the policy, so it is reported, not judged.
    let rate_failed = !args.pool && rates.leakless_significantly_lower();
    std::process::exit(if clean && !rate_failed { 0 } else { 1 });
}

/// Runs `round` (one run of each policy, in the order it is told) for each
/// of `args.rounds` rounds, leakless first in the odd ones, and adds up
/// each policy's outcomes. Each round gets its share of the attempts and a
/// seed of its own.
fn rounds(
    args: &cli::Args,
    mut round: impl FnMut(&cli::Args, bool) -> (workload::Outcome, workload::Outcome),
) -> (workload::Outcome, workload::Outcome) {
    let rounds = args.rounds.min(args.attempts);
    let mut total: Option<(workload::Outcome, workload::Outcome)> = None;
    for index in 0..rounds {
        let mut this = args.clone();
        this.attempts = args.attempts / rounds + u64::from(index < args.attempts % rounds);
        this.seed = args.seed.wrapping_add(index);
        let (leakless, naive) = round(&this, index % 2 == 0);
        total = Some(match total {
            None => (leakless, naive),
            Some((mut all_leakless, mut all_naive)) => {
                all_leakless.absorb(leakless);
                all_naive.absorb(naive);
                (all_leakless, all_naive)
            }
        });
    }
    total.unwrap_or_else(|| unreachable!("clap keeps --rounds and --attempts at 1 or more"))
}

/// Runs both, in the order given; returns (leakless, naive).
fn in_order<T>(
    leakless_first: bool,
    leakless: impl FnOnce() -> T,
    naive: impl FnOnce() -> T,
) -> (T, T) {
    if leakless_first {
        let leakless = leakless();
        (leakless, naive())
    } else {
        let naive = naive();
        (leakless(), naive)
    }
}

#[cfg(feature = "aeron")]
fn aeron_runs(
    args: &cli::Args,
    progress: &indicatif::ProgressBar,
    java: bool,
) -> (workload::Outcome, workload::Outcome) {
    let network = args.faults == cli::Faults::Network;
    if network && !(java && args.members == 3) {
        eprintln!(
            "--faults network needs --transport java-cluster --members 3 (in the network lab)"
        );
        std::process::exit(2);
    }
    let peer = if network {
        aeron_transport::Peer::NetworkLab
    } else if java {
        if !(1..=3).contains(&args.members) {
            eprintln!(
                "--transport java-cluster runs 1 to 3 Java nodes on this machine, not {}",
                args.members
            );
            std::process::exit(2);
        }
        aeron_transport::Peer::JavaCluster(usize::from(args.members))
    } else {
        aeron_transport::Peer::Responder
    };
    let fail = |error: leakless::aeron::AeronError| -> ! {
        eprintln!("the aeron transport failed: {error}");
        std::process::exit(2);
    };
    // One cluster for every round and both policies: the same node(s).
    let mut cluster = aeron_transport::start_cluster(peer).unwrap_or_else(|error| fail(error));
    rounds(args, |round, leakless_first| {
        let (leakless, naive) = if leakless_first {
            let leakless = aeron_transport::run::<Leakless>(round, progress, peer, &mut cluster);
            (
                leakless,
                aeron_transport::run::<Naive>(round, progress, peer, &mut cluster),
            )
        } else {
            let naive = aeron_transport::run::<Naive>(round, progress, peer, &mut cluster);
            (
                aeron_transport::run::<Leakless>(round, progress, peer, &mut cluster),
                naive,
            )
        };
        (
            leakless.unwrap_or_else(|error| fail(error)),
            naive.unwrap_or_else(|error| fail(error)),
        )
    })
}

#[cfg(not(feature = "aeron"))]
fn aeron_runs(
    _: &cli::Args,
    _: &indicatif::ProgressBar,
    _java: bool,
) -> (workload::Outcome, workload::Outcome) {
    eprintln!(
        "this soak was built without the aeron feature; run it with\n  cargo run --release --features aeron --example soak -- --transport aeron"
    );
    std::process::exit(2);
}
