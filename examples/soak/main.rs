//! The soak: many connect attempts against the embedded simulated cluster,
//! under a seeded fault profile, once with the naive connect (Aeron's
//! client before the fix of #1574) and once with leakless; then a report of
//! what each left behind.
//!
//! `cargo run --release --example soak` (see `--help` for the flags).
//! Exits 0 when leakless ended with nothing live and nothing closed twice.

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
    let leakless = workload::run::<Leakless>(&args, &progress);
    let naive = workload::run::<Naive>(&args, &progress);
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
