//! The soak: many connect attempts against the embedded simulated cluster,
//! under a seeded fault profile, once with the naive connect (Aeron's
//! client before the fix of #1574) and once with leakless; then a report of
//! what each left behind.
//!
//! `cargo run --release --example soak` (see `--help` for the flags).
//! Exits 0 when leakless ended with nothing live and nothing closed twice.

#[cfg(feature = "aeron")]
mod aeron_transport;
mod cli;
mod histogram;
mod plot;
mod report;
mod rss;
mod workload;

use clap::Parser;
use leakless::connect::{Leakless, Naive};

fn main() {
    let args = cli::Args::parse();
    let progress = workload::progress_bar(args.attempts);
    // leakless first, so its memory figures are not blurred by what the
    // naive run leaks into this process.
    let (leakless, naive) = match args.transport {
        cli::Transport::Sim => (
            workload::run::<Leakless>(&args, &progress),
            workload::run::<Naive>(&args, &progress),
        ),
        cli::Transport::Aeron => aeron_runs(&args, &progress, false),
        cli::Transport::JavaCluster => aeron_runs(&args, &progress, true),
    };
    progress.finish_and_clear();

    if args.json {
        println!("{}", report::json(&args, &naive, &leakless));
    } else {
        print!("{}", report::table(&args, &naive, &leakless));
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
    std::process::exit(if clean { 0 } else { 1 });
}

#[cfg(feature = "aeron")]
fn aeron_runs(
    args: &cli::Args,
    progress: &indicatif::ProgressBar,
    java: bool,
) -> (workload::Outcome, workload::Outcome) {
    let peer = if java {
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
    let run = |result: Result<workload::Outcome, leakless::aeron::AeronError>| {
        result.unwrap_or_else(|error| {
            eprintln!("the aeron transport failed: {error}");
            std::process::exit(2);
        })
    };
    (
        run(aeron_transport::run::<Leakless>(args, progress, peer)),
        run(aeron_transport::run::<Naive>(args, progress, peer)),
    )
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
