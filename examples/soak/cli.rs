//! The soak's flags.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

/// Many connect attempts against the simulated cluster, naive vs leakless.
#[derive(Debug, Clone, Parser)]
#[command(name = "soak", version, about, long_about = ABOUT, after_help = EXIT_CODES)]
pub struct Args {
    /// Connect attempts per implementation.
    #[arg(long, default_value_t = 5_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub attempts: u64,
    /// Each attempt's deadline, in milliseconds (fractions allowed).
    #[arg(long, default_value = "2", value_parser = positive_ms)]
    pub deadline_ms: Duration,
    /// Creation latency, drawn uniformly from MIN..MAX milliseconds.
    #[arg(long, default_value = "0..3", value_parser = latency_range)]
    pub latency_ms: std::ops::Range<Duration>,
    /// Cluster members (one ingress publication each per attempt); with
    /// `--transport java-cluster`, that many Java nodes (1 to 3).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub members: u16,
    /// Chance of each fault: creation failure, lost reply, leader change
    /// (a tenth of it), creator panic, panicking close and
    /// never-connecting publication (half of it each).
    #[arg(long, default_value = "0.05", value_parser = rate)]
    pub fault_rate: f64,
    /// Seed of every random draw: the same seed, the same faults.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Retry each client until it connects (transient errors only), as
    /// users of Aeron Cluster did.
    #[arg(long)]
    pub retry: bool,
    /// Write an SVG plot of live resources against attempts.
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
    /// Lend clients from a pool of 4 (connecting in the background under
    /// the same faults) instead of connecting per attempt: each attempt is a
    /// check-out, a request, and a check-in.
    #[arg(long)]
    pub pool: bool,
    /// Rounds: the attempts are split between this many rounds of one run
    /// of each policy, leakless first in odd rounds and naive first in even
    /// ones, each round with its own seed (seed, seed + 1, ...). Many short
    /// rounds spread a change in the machine's load over both policies.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub rounds: u64,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
    /// `sim`: the embedded simulation (default). `aeron`: a real embedded
    /// Aeron media driver and a one-node cluster responder (needs
    /// `--features aeron`); its fault is the driver held for a creation
    /// latency at the start of each attempt. `java-cluster`: the same
    /// against a real Java Aeron Cluster node (needs `--features
    /// java-cluster` and interop/java-cluster/prepare.sh).
    #[arg(long, value_enum, default_value_t = Transport::Sim)]
    pub transport: Transport,
    /// `network` (with `--transport java-cluster --members 3`, inside the
    /// network lab: `interop/java-cluster/netlab.sh run ...`): during each
    /// run, cut and heal random links (client-member, member-member) and
    /// kill and restart random nodes, `--network-faults` of them.
    #[arg(long, value_enum, default_value_t = Faults::None)]
    pub faults: Faults,
    /// How many network faults each run injects (`--faults network`).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=100))]
    pub network_faults: u64,
    /// With `--transport aeron` or `java-cluster`: how long a closed
    /// ingress publication stays open for the next attempt to the same
    /// member, in milliseconds (`AeronOptions::publication_linger`; 0: not
    /// at all).
    #[arg(long, default_value = "1000", value_parser = millis)]
    pub publication_linger_ms: Duration,
}

/// Which faults beyond the simulated ones the soak injects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Faults {
    /// None beyond `--fault-rate`'s.
    None,
    /// Network partitions and node restarts (the network lab).
    Network,
}

/// Which transport the soak runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Transport {
    /// The embedded simulated driver and cluster.
    Sim,
    /// A real Aeron media driver (feature `aeron`).
    Aeron,
    /// A real Java Aeron Cluster (feature `java-cluster`, after
    /// `interop/java-cluster/prepare.sh`).
    JavaCluster,
}

const ABOUT: &str = "\
Many connect attempts against a cluster, run twice: with the naive cleanup
of Aeron before its fix for issue #1574 (a timed-out attempt forgets what is
still being created) and with leakless's. Creations are slow or fail, replies
are lost, leaders change, closes panic, at the rates given. At the end it
prints, for each policy, how many attempts connected and timed out, what was
released, the connect latency percentiles, and what is still live in the
driver: the naive policy leaks a subscription or publication per timed-out
attempt, leakless none. The embedded simulation is the default transport: no
setup needed.";

const EXIT_CODES: &str = "\
Exit codes:
  0  leakless left nothing live, closed nothing twice, and connected as
     often as the naive policy (a one-sided z-test at 0.001)
  1  leakless leaked or double-closed, or connected significantly less often
  2  bad arguments, an unwritable --plot path, or the transport failed";

fn millis(text: &str) -> Result<Duration, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number of milliseconds"))?;
    if !(0.0..=3_600_000.0).contains(&value) {
        return Err(format!("{text:?} must be between 0 and 3600000 ms"));
    }
    Ok(Duration::from_secs_f64(value / 1000.0))
}

fn positive_ms(text: &str) -> Result<Duration, String> {
    let duration = millis(text)?;
    if duration.is_zero() {
        return Err(String::from("the deadline must be positive"));
    }
    Ok(duration)
}

fn latency_range(text: &str) -> Result<std::ops::Range<Duration>, String> {
    let (min, max) = text
        .split_once("..")
        .ok_or_else(|| format!("{text:?} is not MIN..MAX (for example 0..4)"))?;
    let (min, max) = (millis(min)?, millis(max)?);
    if min > max {
        return Err(format!("{text:?}: MIN is larger than MAX"));
    }
    Ok(min..max)
}

fn rate(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number"))?;
    if !(0.0..=1.0).contains(&value) {
        return Err(format!("{text:?} must be between 0 and 1"));
    }
    Ok(value)
}
