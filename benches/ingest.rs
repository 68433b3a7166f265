//! `rollcall ingest` and `rollcall reconcile` as users run them (the release binary in a child process:
//! wall time and peak resident memory as `/usr/bin/time` counts them), against this machine's own limit
//! measured in the same run:
//!
//! - ingest of a 100,000-revision Helm history (one rollback in two) into the demo ledger, against
//!   signing 100,000 statements of the same size with Ed25519 on every core (what ingest cannot avoid);
//!   target under 10 s;
//! - reconcile of 100,000 observations against 100,000 requests (`demo --scale 100000`, six histories of
//!   the synthetic requests' environments and components), against a bare read of the same observation
//!   and request rows; target under 5 s.
//!
//! Run with `cargo bench --bench ingest`. The 100,000-request ledger is built once under `target/`.

#[path = "shared/child.rs"]
mod child;
#[path = "shared/demo_ledger.rs"]
mod demo_ledger;

use ed25519_dalek::{Signer, SigningKey};
use rollcall::demo;
use std::path::PathBuf;
use std::time::Instant;

const REVISIONS: usize = 100_000;
const RUNS: usize = 3;

fn range(v: &[f64]) -> String {
    let lo = v.iter().cloned().fold(f64::INFINITY, f64::min);
    let hi = v.iter().cloned().fold(0.0, f64::max);
    format!("{lo:.2}–{hi:.2}")
}

/// A Helm history of `n` revisions of one release from `start`, one every `step` seconds, every second
/// one a rollback to the revision before the previous.
fn helm_history(n: usize, first: u64, start: chrono::DateTime<chrono::Utc>, step: i64) -> String {
    let mut out = String::with_capacity(n * 170);
    out.push('[');
    for i in 0..n {
        let rev = first + i as u64;
        let at =
            (start + chrono::Duration::seconds(step * i as i64)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let description =
            if i % 2 == 1 && i >= 2 { format!("Rollback to {}", rev - 2) } else { "Upgrade complete".to_string() };
        if i > 0 {
            out.push(',');
        }
        out.push_str(&format!(
            r#"{{"revision":{rev},"updated":"{at}","status":"superseded","chart":"app-1.{rev}.0","app_version":"1.{rev}","description":"{description}"}}"#
        ));
    }
    out.push(']');
    out
}

fn ingest_args<'a>(ledger: &'a str, file: &'a str, env: &'a str, component: &'a str) -> Vec<&'a str> {
    vec!["--ledger", ledger, "ingest", "helm", file, "--env", env, "--component", component, "--as", "erin"]
}

fn main() {
    // SAFETY: set before any thread starts; the children inherit it.
    unsafe { std::env::set_var("ROLLCALL_PASSPHRASE", demo::PASSPHRASE) };
    let work = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target").join("bench-ingest");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).expect("mkdir");

    // 1. Ingest.
    let base = work.join("demo");
    demo_ledger::build(&base, 0);
    let now = chrono::Utc::now();
    let history = helm_history(REVISIONS, 1, now - chrono::Duration::days(400), 300);
    let file = work.join("history.json");
    std::fs::write(&file, &history).expect("write");
    println!(
        "rollcall ingest: a Helm history of {REVISIONS} revisions ({:.1} MB, {} rollbacks)",
        history.len() as f64 / 1e6,
        REVISIONS / 2 - 1
    );
    // The limit: Ed25519 signatures of statements of this size, on every core (ingest signs on all).
    let key = SigningKey::from_bytes(&[7; 32]);
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let t = Instant::now();
    std::thread::scope(|s| {
        for c in 0..cores {
            let key = &key;
            s.spawn(move || {
                let mut m = vec![b'x'; 640];
                for i in (c..REVISIONS).step_by(cores) {
                    m[..8].copy_from_slice(&(i as u64).to_le_bytes());
                    std::hint::black_box(key.sign(&m));
                }
            });
        }
    });
    let limit = t.elapsed().as_secs_f64();
    let (mut times, mut peaks, mut again) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..RUNS {
        let dir = work.join(format!("ingest-{run}"));
        child::copy_dir(&base, &dir);
        let ledger = dir.join("ledger.db");
        let args = ingest_args(ledger.to_str().unwrap(), file.to_str().unwrap(), "production", "app");
        let first = child::rollcall(&dir.join("home"), &args);
        assert!(first.success, "ingest failed: {}", first.stdout);
        times.push(first.secs);
        peaks.push(first.peak_mb);
        let second = child::rollcall(&dir.join("home"), &args);
        assert!(second.success && second.stdout.contains("0 recorded"), "{}", second.stdout);
        again.push(second.secs);
        let _ = std::fs::remove_dir_all(&dir);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let t = median(&mut times.clone());
    println!(
        "  ingest:      {} s (median {t:.2} s)  peak RSS {} MB   limit (sign {REVISIONS} statements, {cores} cores): {limit:.2} s   ratio {:.0} %   target < 10 s: {}",
        range(&times),
        range(&peaks),
        100.0 * limit / t,
        if t < 10.0 { "met" } else { "NOT met" }
    );
    println!("  again (nothing new): {} s", range(&again));

    // 2. Reconcile: 100,000 observations against 100,000 requests.
    let scale = 100_000;
    let big = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target").join(format!("bench-reconcile-{scale}"));
    if !big.join("ingested").exists() {
        let _ = std::fs::remove_dir_all(&big);
        let t = Instant::now();
        demo_ledger::build(&big, scale);
        // The synthetic requests cycle over six components and three environments, spread from a year
        // before the scenario: one history per pair, 100,000 revisions in all, over the same year.
        let ledger = big.join("ledger.db");
        let start = now - chrono::Duration::days(460);
        let pairs = [
            ("production", "payments-api"),
            ("staging", "checkout"),
            ("canary", "auth"),
            ("production", "search"),
            ("staging", "ledger-sync"),
            ("canary", "edge"),
        ];
        for (k, (env, component)) in pairs.iter().enumerate() {
            let n = REVISIONS / pairs.len() + usize::from(k < REVISIONS % pairs.len());
            let h = helm_history(n, 1, start + chrono::Duration::minutes(k as i64), 370 * 86_400 / n as i64);
            let f = big.join(format!("history-{component}.json"));
            std::fs::write(&f, h).expect("write");
            let r = child::rollcall(
                &big.join("home"),
                &ingest_args(ledger.to_str().unwrap(), f.to_str().unwrap(), env, component),
            );
            assert!(r.success, "ingest {component}: {}", r.stdout);
        }
        std::fs::write(big.join("ingested"), "").expect("mark");
        println!(
            "built the reconcile ledger ({scale} requests, {REVISIONS} observations) in {:.0} s",
            t.elapsed().as_secs_f64()
        );
    }
    let ledger = big.join("ledger.db");
    // The limit: read every observation's statement and every request's facts, nothing else.
    let raw = rusqlite::Connection::open_with_flags(&ledger, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).expect("open");
    let t = Instant::now();
    let mut bytes = 0usize;
    for sql in ["SELECT statement FROM entries WHERE kind = 'deployment.observed'", "SELECT facts FROM request_index"] {
        let mut stmt = raw.prepare(sql).expect("prepare");
        let mut rows = stmt.query([]).expect("query");
        while let Some(r) = rows.next().expect("row") {
            bytes += r.get_ref(0).expect("col").as_bytes().expect("bytes").len();
        }
    }
    let read = t.elapsed().as_secs_f64();
    let (mut times, mut peaks) = (Vec::new(), Vec::new());
    let mut summary = String::new();
    for _ in 0..RUNS {
        let r = child::rollcall(&big.join("home"), &["--ledger", ledger.to_str().unwrap(), "--json", "reconcile"]);
        times.push(r.secs);
        peaks.push(r.peak_mb);
        summary = r.stdout;
    }
    let v: serde_json::Value = serde_json::from_str(&summary).expect("reconcile json");
    let t = median(&mut times.clone());
    println!(
        "rollcall reconcile: {} observed rollbacks, {} matched, {} unrecorded, {} unauthorized; {} executed",
        v["rollbacks"],
        v["matched"].as_array().map(Vec::len).unwrap_or(0),
        v["unrecorded"].as_array().map(Vec::len).unwrap_or(0),
        v["unauthorized"].as_array().map(Vec::len).unwrap_or(0),
        v["executed"]
    );
    println!(
        "  reconcile:   {} s (median {t:.2} s)  peak RSS {} MB   limit (read {:.0} MB of observations and facts): {read:.2} s   ratio {:.0} %   target < 5 s: {}",
        range(&times),
        range(&peaks),
        bytes as f64 / 1e6,
        100.0 * read / t,
        if t < 5.0 { "met" } else { "NOT met" }
    );
}
