//! `rollcall verify` on the ledger people have: the `demo --scale` ledger (requests with approvals,
//! evidence and executions; `ROLLCALL_BENCH_SCALE` synthetic requests, default 660,000 ≈ 1,000,000
//! entries, built once under target/ and reused). The real binary runs in a child process, so its peak
//! resident memory is what `ps` and `/usr/bin/time` report (file-backed pages included).
//!
//! The limit, measured in the same run right before and right after each verify: cores × the
//! single-core `verify_strict` rate on 20,000 of this ledger's own statements (the highest of the two
//! rates, so the ratio is conservative), and the raw rate of the same checks on every core at once (what
//! the vCPUs give in parallel). `ROLLCALL_BENCH_RUNS` runs (default 3); the notes ledger's row is
//! `cargo bench --bench ledger`.
//!
//! Targets (issue 15): throughput ≥ 0.8 × the limit, peak RSS ≤ 256 MB.

#[path = "shared/child.rs"]
mod child;
#[path = "shared/demo_ledger.rs"]
mod demo_ledger;

use ed25519_dalek::{Signature, VerifyingKey};
use rollcall::ledger::Ledger;
use rollcall::ledger::dsse::{pae, payload_type};
use std::time::Instant;

const SAMPLE: i64 = 20_000;

/// (message, signature, key) of up to `SAMPLE` entries of the ledger, as `verify` checks them.
fn sample(db: &std::path::Path, ledger_id: &rollcall::ledger::Hash) -> Vec<(Vec<u8>, Signature, VerifyingKey)> {
    let conn = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).expect("open");
    let mut stmt = conn.prepare("SELECT statement, signature, actor FROM entries LIMIT ?1").expect("prepare");
    let rows = stmt
        .query_map([SAMPLE], |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?, r.get::<_, String>(2)?)))
        .expect("query");
    let mut keys = std::collections::HashMap::new();
    let pt = payload_type(ledger_id);
    rows.map(|r| {
        let (statement, signature, actor) = r.expect("row");
        let vk = *keys.entry(actor.clone()).or_insert_with(|| {
            let raw: [u8; 32] = hex::decode(actor.trim_start_matches("ed25519:")).unwrap().try_into().unwrap();
            VerifyingKey::from_bytes(&raw).unwrap()
        });
        (pae(&pt, &statement), Signature::from_slice(&signature).expect("signature"), vk)
    })
    // The genesis entry is signed before the ledger has an id (docs/FORMAT.md): leave it out.
    .filter(|(m, sig, vk)| vk.verify_strict(m, sig).is_ok())
    .collect()
}

fn strict_rate(msgs: &[(Vec<u8>, Signature, VerifyingKey)]) -> f64 {
    let t = Instant::now();
    for (m, sig, vk) in msgs {
        vk.verify_strict(m, sig).expect("valid");
    }
    msgs.len() as f64 / t.elapsed().as_secs_f64()
}

fn parallel_rate(msgs: &[(Vec<u8>, Signature, VerifyingKey)], cores: usize) -> f64 {
    let t = Instant::now();
    std::thread::scope(|s| {
        for part in msgs.chunks(msgs.len().div_ceil(cores)) {
            s.spawn(move || {
                for (m, sig, vk) in part {
                    vk.verify_strict(m, sig).expect("valid");
                }
            });
        }
    });
    msgs.len() as f64 / t.elapsed().as_secs_f64()
}

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
    let (mut ratios, mut rates, mut peaks, mut secs) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for run in 1..=runs {
        let before = strict_rate(&msgs);
        let r = child::rollcall(&dir.join("home"), &["--ledger", db.to_str().expect("path"), "verify"]);
        let after = strict_rate(&msgs);
        let parallel = parallel_rate(&msgs, cores);
        assert!(r.success, "the benchmark ledger verifies:\n{}", r.stdout);
        let limit = cores as f64 * before.max(after);
        let rate = entries as f64 / r.secs;
        println!(
            "  run {run}: {:>6.1} s, {rate:>7.0} entries/s; limit {cores} x {:.0} /s = {limit:.0} /s -> {:.0} % (target >= 80 %); \
             {:.0} % of the raw parallel rate ({parallel:.0} /s); peak RSS {:.0} MB (target <= 256 MB)",
            r.secs,
            before.max(after),
            100.0 * rate / limit,
            100.0 * rate / parallel,
            r.peak_mb
        );
        ratios.push(100.0 * rate / limit);
        rates.push(rate);
        peaks.push(r.peak_mb);
        secs.push(r.secs);
    }
    let ((s0, s1), (r0, r1), (q0, q1), (m0, m1)) = (range(&secs), range(&rates), range(&ratios), range(&peaks));
    println!(
        "  over {runs} runs: {s0:.1}–{s1:.1} s, {r0:.0}–{r1:.0} entries/s, {q0:.0}–{q1:.0} % of the limit, peak RSS {m0:.0}–{m1:.0} MB"
    );
}
