//! The million-entry demo ledger the console and report benchmarks share: built once under `target/`
//! (`ROLLCALL_BENCH_SCALE` synthetic requests; default 660,000 ≈ 1 M entries) and reused by later runs.
//!
//! The ledger is built by the release binary in a child process, never in the benchmark's own: a child
//! started later reports a peak resident memory of at least what its parent held when it started it (Linux
//! carries the parent's high-water mark across the `exec`), and the console benchmark reads its own
//! process's high-water mark, so a build in-process (about 200 MB) would stand in every memory figure of
//! the run that built it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// The directory of the demo ledger, built now if it is not there yet.
#[allow(dead_code)] // not every benchmark that includes this file uses the million-entry ledger
pub fn million() -> PathBuf {
    let scale: usize = std::env::var("ROLLCALL_BENCH_SCALE").ok().and_then(|s| s.parse().ok()).unwrap_or(660_000);
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target").join(format!("bench-demo-{scale}"));
    if !dir.join("ledger.db").exists() {
        build(&dir, scale);
    }
    // A ledger kept from an earlier build may hold a request index of an older version, which the first
    // command would rebuild in the background, sharing the cores with what is measured (an import took 45.6 s
    // beside it, 28.8 s without, 2026-12-08): brought up to date here first, in the foreground.
    for db in ["ledger.db", "jump-host.db"] {
        let p = dir.join(db);
        if p.exists() {
            let ok = Command::new(env!("CARGO_BIN_EXE_rollcall"))
                .env("ROLLCALL_HOME", dir.join("home"))
                .arg("--ledger")
                .arg(&p)
                .args(["rebuild", "--if-behind"])
                .stdout(Stdio::null())
                .status();
            assert!(ok.is_ok_and(|s| s.success()), "rollcall rebuild --if-behind {}", p.display());
        }
    }
    dir
}

/// Builds `rollcall demo --scale SCALE` in `dir` (removed first) with the release binary in a child
/// process, its progress on stderr.
pub fn build(dir: &Path, scale: usize) {
    let _ = std::fs::remove_dir_all(dir);
    let t = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_rollcall"))
        .args(["demo", "--no-tui", "--json", "--scale", &scale.to_string(), "--dir"])
        .arg(dir)
        .stderr(Stdio::inherit())
        .output()
        .expect("start rollcall demo");
    assert!(out.status.success(), "rollcall demo --scale {scale} failed");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("demo --json");
    let count = |k: &str| doc[k].as_u64().expect("a count in demo --json");
    println!(
        "built a demo ledger of {} entries ({} requests) in {:.0} s",
        count("entries"),
        count("requests") + count("synthetic"),
        t.elapsed().as_secs_f64()
    );
}
