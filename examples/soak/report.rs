//! The soak's report: a table for people, JSON for machines.

use std::fmt::Write;
use std::time::Duration;

use serde_json::{Value, json};

use crate::cli::Args;
use crate::compare::Rates;
use crate::workload::Outcome;

fn ms(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1e6).round() / 1e3
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(
        || String::from("n/a"),
        |kib| format!("{:.1}", kib as f64 / 1024.0),
    )
}

fn growth_kib(outcome: &Outcome) -> Option<i64> {
    Some(outcome.rss_after_kib? as i64 - outcome.rss_before_kib? as i64)
}

/// A row of the table: its label, and how to fill its cell from an outcome.
type Row = (&'static str, Box<dyn Fn(&Outcome) -> String>);

pub fn table(args: &Args, naive: &Outcome, leakless: &Outcome, rates: &Rates) -> String {
    let rows: Vec<Row> = vec![
        ("attempts", Box::new(|o| o.attempts.to_string())),
        ("connected", Box::new(|o| o.connected.to_string())),
        ("timed out", Box::new(|o| o.timed_out.to_string())),
        (
            "  in Pending / Subscribed",
            Box::new(|o| format!("{} / {}", o.timed_out_in[0], o.timed_out_in[1])),
        ),
        ("failed", Box::new(|o| o.failed.to_string())),
        (
            "late completions closed",
            Box::new(|o| o.late_closes().to_string()),
        ),
        (
            "closes that panicked (caught)",
            Box::new(|o| o.close_panics().to_string()),
        ),
        (
            "pending creations forgotten",
            Box::new(|o| o.released.forgotten.to_string()),
        ),
        (
            "live subscriptions at end",
            Box::new(|o| o.ledger.live_subscriptions.to_string()),
        ),
        (
            "live publications at end",
            Box::new(|o| o.ledger.live_publications.to_string()),
        ),
        ("peak live", Box::new(|o| o.ledger.peak_live.to_string())),
        (
            "double closes",
            Box::new(|o| o.ledger.double_closes.to_string()),
        ),
        (
            "connect p50 / p99 / max (ms)",
            Box::new(|o| {
                format!(
                    "{} / {} / {}",
                    ms(o.latency.quantile(0.5)),
                    ms(o.latency.quantile(0.99)),
                    ms(o.latency.max())
                )
            }),
        ),
        (
            "RSS before -> after its runs (MiB)",
            Box::new(|o| format!("{} -> {}", mib(o.rss_before_kib), mib(o.rss_after_kib))),
        ),
        (
            "run time (s)",
            Box::new(|o| format!("{:.1}", o.elapsed.as_secs_f64())),
        ),
    ];
    let mut rows = rows;
    if naive.faults + leakless.faults > 0 {
        rows.push((
            "network faults injected",
            Box::new(|o| o.faults.to_string()),
        ));
        rows.push((
            "heals, then a connect",
            Box::new(|o| format!("{} of {}", o.heals_then_connected(), o.recoveries.len())),
        ));
        rows.push((
            "slowest recovery (s)",
            Box::new(|o| format!("{:.2}", o.slowest_recovery().as_secs_f64())),
        ));
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "soak: {} attempts each in {} round{}, deadline {} ms, creation latency {}..{} ms, {} member{}, fault rate {}, seed {}{}",
        args.attempts,
        args.rounds.min(args.attempts),
        if args.rounds.min(args.attempts) == 1 {
            ""
        } else {
            "s"
        },
        ms(args.deadline_ms),
        ms(args.latency_ms.start),
        ms(args.latency_ms.end),
        args.members,
        if args.members == 1 { "" } else { "s" },
        args.fault_rate,
        args.seed,
        if args.retry {
            ", retrying until connected"
        } else {
            ""
        }
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<30} {:>22} {:>22}",
        "", "naive (Aeron #1574)", "leakless"
    );
    for (label, cell) in rows {
        let _ = writeln!(
            out,
            "{label:<30} {:>22} {:>22}",
            cell(naive),
            cell(leakless)
        );
    }
    let verdict = if leakless.ledger.live() == 0 && leakless.ledger.double_closes == 0 {
        "leakless: nothing live, nothing closed twice"
    } else {
        "leakless: LEAKED OR CLOSED TWICE"
    };
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{verdict}; naive left {} subscriptions and {} publications live.",
        naive.ledger.live_subscriptions, naive.ledger.live_publications
    );
    let _ = writeln!(out, "{}", rates.summary());
    out
}

fn outcome_json(outcome: &Outcome) -> Value {
    json!({
        "attempts": outcome.attempts,
        "connected": outcome.connected,
        "timed_out": outcome.timed_out,
        "timed_out_in": {
            "pending": outcome.timed_out_in[0],
            "subscribed": outcome.timed_out_in[1],
        },
        "network_faults": outcome.faults,
        "heals": outcome.recoveries.len(),
        "heals_then_connected": outcome.heals_then_connected(),
        "slowest_recovery_s": outcome.slowest_recovery().as_secs_f64(),
        "recoveries": outcome.recoveries.iter().map(|recovery| json!({
            "kind": recovery.kind,
            "fault": recovery.fault,
            "connected_after_s": recovery.connected_after.map(|after| after.as_secs_f64()),
            "probes": recovery.probes,
            "last_error": recovery.last_error,
        })).collect::<Vec<_>>(),
        "failed": outcome.failed,
        "late_closes": outcome.late_closes(),
        "forgotten": outcome.released.forgotten,
        "close_panics": outcome.close_panics(),
        "live_subscriptions": outcome.ledger.live_subscriptions,
        "live_publications": outcome.ledger.live_publications,
        "created_subscriptions": outcome.ledger.created_subscriptions,
        "created_publications": outcome.ledger.created_publications,
        "peak_live": outcome.ledger.peak_live,
        "double_closes": outcome.ledger.double_closes,
        "latency_ms": {
            "p50": ms(outcome.latency.quantile(0.5)),
            "p99": ms(outcome.latency.quantile(0.99)),
            "max": ms(outcome.latency.max()),
        },
        "rss_kib": {
            "before": outcome.rss_before_kib,
            "after": outcome.rss_after_kib,
            "growth": growth_kib(outcome),
        },
        "seconds": outcome.elapsed.as_secs_f64(),
    })
}

pub fn json(args: &Args, naive: &Outcome, leakless: &Outcome, rates: &Rates) -> Value {
    json!({
        "config": {
            "attempts": args.attempts,
            "deadline_ms": ms(args.deadline_ms),
            "latency_ms": [ms(args.latency_ms.start), ms(args.latency_ms.end)],
            "members": args.members,
            "fault_rate": args.fault_rate,
            "seed": args.seed,
            "rounds": args.rounds.min(args.attempts),
            "retry": args.retry,
            "pool": args.pool,
            "transport": format!("{:?}", args.transport).to_lowercase(),
            "faults": format!("{:?}", args.faults).to_lowercase(),
        },
        "naive": outcome_json(naive),
        "leakless": outcome_json(leakless),
        "connect_rate_test": {
            "test": "one-sided two-proportion z-test, alpha 0.001",
            "z": rates.z,
            "critical_z": crate::compare::CRITICAL_Z,
            "leakless_significantly_lower": rates.leakless_significantly_lower(),
        },
    })
}
