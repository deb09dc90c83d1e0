//! Selects a deliberate bug for `loom-tests/mutants.sh` from the
//! `LEAKLESS_MUTANT` environment variable.
//!
//! A mutant is a `cfg` of this crate alone. Passing it through `RUSTFLAGS`
//! would change the flags of every dependency too, and cargo would rebuild
//! all of them for each mutant (minutes each); a cfg emitted here rebuilds
//! leakless and its test targets only. Unset, or empty, nothing is emitted,
//! so a normal build is unchanged.

const MUTANTS: &[&str] = &[
    "aeron_1574",
    "both_close",
    "relaxed_publish",
    "naive_connect",
    "lost_wake",
    "refusing_take",
    "relaxed_gone_load",
    "release_only_gone",
    "relaxed_waiting_clear",
    "forget_second_publication",
    "forget_new_leader_publication",
    "blind_withdraw",
];

fn main() {
    println!("cargo::rerun-if-env-changed=LEAKLESS_MUTANT");
    println!("cargo::rerun-if-changed=build.rs");
    let values = MUTANTS
        .iter()
        .map(|m| format!("\"{m}\""))
        .collect::<Vec<_>>()
        .join(", ");
    println!("cargo::rustc-check-cfg=cfg(leakless_mutant, values({values}))");
    match std::env::var("LEAKLESS_MUTANT") {
        Ok(name) if name.is_empty() => {}
        Ok(name) if MUTANTS.contains(&name.as_str()) => {
            println!("cargo::rustc-cfg=leakless_mutant=\"{name}\"");
        }
        Ok(name) => panic!(
            "LEAKLESS_MUTANT={name:?} names no mutant; known: {}",
            MUTANTS.join(", ")
        ),
        Err(_) => {}
    }
}
