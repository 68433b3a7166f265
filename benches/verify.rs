//! `rollcall verify` on the ledger people have: the `demo --scale` ledger (requests with approvals,
//! evidence and executions; `ROLLCALL_BENCH_SCALE` synthetic requests, default 660,000 ≈ 1,000,000
//! entries, built once under target/ and reused). The real binary runs in a child process, so its peak
//! resident memory is what `ps` and `/usr/bin/time` report (file-backed pages included).
//!
//! The limit, measured in the same run right before and right after each verify: cores × the
//! single-core `verify_strict` rate on 20,000 of this ledger's own statements, sustained over 4 s of
//! passes (the higher of the two, so the ratio is conservative), and the raw rate of the same checks on
//! every core at once (what the vCPUs give in parallel). The ratio to the fastest single pass (under a
//! second; how the limit was measured before 2026-12-05) is printed beside it, and so are the two
//! single-core rates: on a VM whose speed drifts, the gap between them shows how far it moved around the
//! run. `ROLLCALL_BENCH_RUNS` runs (default 3); the notes ledger's row is `cargo bench --bench ledger`.
//!
//! Targets (issue 15): throughput ≥ 0.8 × the limit, peak RSS ≤ 256 MB.

#[path = "shared/child.rs"]
mod child;
#[path = "shared/demo_ledger.rs"]
mod demo_ledger;
#[path = "shared/strict.rs"]
mod strict;

use rollcall::ledger::Ledger;
use strict::{parallel_rate, sample, strict_rate};

fn range(v: &[f64]) -> (f64, f64) {
    (v.iter().cloned().fold(f64::INFINITY, f64::min), v.iter().cloned().fold(0.0, f64::max))
}

fn main() {
    let dir = demo_ledger::million();
    let db = dir.join("ledger.db");
    let runs: usize = std::env::var("ROLLCALL_BENCH_RUNS").ok().and_then(|s| s.parse().ok()).unwrap_or(3);
    let cores = std::thread::available_parallelism().map(|c| c.get()).unwrap_or(1);
    let (entries, ledger_id) = {
        let l = Ledger::open_read_only(&db).expect("open");
        (l.origins().expect("origins").iter().map(|o| l.size(o).unwrap_or(0)).sum::<u64>(), l.ledger_id())
    };
    let msgs = sample(&db, &ledger_id);
    println!("rollcall verify benchmark on {entries} entries ({}), {cores} cores, {runs} runs", dir.display());
    let (mut ratios, mut rates, mut peaks, mut secs, mut against_fastest) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for run in 1..=runs {
        let before = strict_rate(&msgs);
        let r = child::rollcall(&dir.join("home"), &["--ledger", db.to_str().expect("path"), "verify"]);
        let after = strict_rate(&msgs);
        let parallel = parallel_rate(&msgs, cores).sustained;
        assert!(r.success, "the benchmark ledger verifies:\n{}", r.stdout);
        let single = before.max(after);
        let limit = cores as f64 * single.sustained;
        let rate = entries as f64 / r.secs;
        let fastest = 100.0 * rate / (cores as f64 * single.fastest);
        println!(
            "  run {run}: {:>6.1} s, {rate:>7.0} entries/s; limit {cores} x {:.0} /s = {limit:.0} /s -> {:.0} % (target >= 80 %; \
             single core {:.0} /s before the run, {:.0} /s after); \
             {fastest:.0} % of {cores} x the fastest pass ({:.0} /s); {:.0} % of the raw parallel rate ({parallel:.0} /s); \
             peak RSS {:.0} MB (target <= 256 MB)",
            r.secs,
            single.sustained,
            100.0 * rate / limit,
            before.sustained,
            after.sustained,
            single.fastest,
            100.0 * rate / parallel,
            r.peak_mb
        );
        ratios.push(100.0 * rate / limit);
        against_fastest.push(fastest);
        rates.push(rate);
        peaks.push(r.peak_mb);
        secs.push(r.secs);
    }
    let ((s0, s1), (r0, r1), (q0, q1), (m0, m1)) = (range(&secs), range(&rates), range(&ratios), range(&peaks));
    let (f0, f1) = range(&against_fastest);
    println!(
        "  over {runs} runs: {s0:.1}–{s1:.1} s, {r0:.0}–{r1:.0} entries/s, {q0:.0}–{q1:.0} % of the limit \
         ({f0:.0}–{f1:.0} % of the fastest passes), peak RSS {m0:.0}–{m1:.0} MB"
    );
}
