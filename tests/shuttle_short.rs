//! `cargo test` runs the shuttle tests too, short: `tests/shuttle.rs` needs
//! leakless built with its sync facade on shuttle's primitives (the
//! test-only `shuttle` feature), which the other tests of this run must not
//! get, so this test builds and runs it as a separate cargo invocation, in
//! its own target directory (`target/shuttle`), with 1,000 schedules a test
//! unless `SHUTTLE_SCHEDULES` says otherwise.
//!
//! The long run (10,000 schedules a test in CI; any number by hand):
//!
//! ```sh
//! CARGO_TARGET_DIR=target/shuttle SHUTTLE_SCHEDULES=200000 \
//!     cargo test --release --features shuttle --test shuttle
//! ```
#![cfg(all(not(feature = "shuttle"), not(loom)))]

use std::path::Path;
use std::process::Command;

#[test]
fn shuttle_schedules_short_run() {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
    // CARGO_TARGET_TMPDIR is <target dir>/tmp: a sibling of it keeps the
    // nested build beside this one (and shared with CI's long run).
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target directory")
        .join("shuttle");
    let schedules = std::env::var("SHUTTLE_SCHEDULES").unwrap_or_else(|_| "1000".into());
    let output = Command::new(cargo)
        .args([
            "test",
            "--release",
            "--features",
            "shuttle",
            "--test",
            "shuttle",
        ])
        .arg("--manifest-path")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target)
        .env("SHUTTLE_SCHEDULES", &schedules)
        .output()
        .expect("cargo runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the shuttle tests failed ({schedules} schedules a test):\n{stdout}\n{stderr}"
    );
    // The run must have run them: a filter or cfg mistake that ran none
    // would otherwise pass.
    assert!(
        stdout.contains("test result: ok.") && !stdout.contains("ok. 0 passed"),
        "expected the shuttle tests to run and pass:\n{stdout}"
    );
}
