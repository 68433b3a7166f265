//! The million-entry demo ledger the console and report benchmarks share: built once under `target/`
//! (`ROLLCALL_BENCH_SCALE` synthetic requests; default 660,000 ≈ 1 M entries) and reused by later runs.

use rollcall::demo;
use std::path::PathBuf;
use std::time::Instant;

/// The directory of the demo ledger, built now if it is not there yet.
pub fn million() -> PathBuf {
    let scale: usize = std::env::var("ROLLCALL_BENCH_SCALE").ok().and_then(|s| s.parse().ok()).unwrap_or(660_000);
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target").join(format!("bench-demo-{scale}"));
    if !dir.join("ledger.db").exists() {
        let _ = std::fs::remove_dir_all(&dir);
        let t = Instant::now();
        let d = demo::build(&dir, scale, &mut |s| eprintln!("building: {s}")).expect("demo");
        println!(
            "built a demo ledger of {} entries ({} requests) in {:.0} s",
            d.entries,
            d.requests + d.synthetic,
            t.elapsed().as_secs_f64()
        );
    }
    dir
}
