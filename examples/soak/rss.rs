//! The process's resident memory, from /proc (Linux); `None` elsewhere.

/// Resident set size in KiB.
pub fn kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
