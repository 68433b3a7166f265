//! Sync throughput against this machine's own limits, measured in the same run:
//!
//! - import of a full bundle into a new machine joining the ledger (as `init --join` does) and into a
//!   ledger already in use, each against (cores × single-core `verify_strict`);
//! - export rate (target ≥ 100,000 entries/s) and bundle size against the statement and signature bytes
//!   it carries (target ≤ 1.3×);
//! - an incremental export of the last 1,000 entries against the full export (cost in proportion to
//!   what is new).
//!
//! Run with `cargo bench --bench sync` (`ROLLCALL_BENCH_N` sets the size; default 1,000,000). The source
//! ledger is built once under `target/bench-sync-N/` and reused.

use ed25519_dalek::{Signer, SigningKey};
use rollcall::identity::genesis::GenesisBody;
use rollcall::ledger::dsse::{Domain, pae, payload_type};
use rollcall::ledger::{Ledger, LedgerError, PublicKey, SignedStatement, Statement};
use rollcall::sync::export::{ExportOptions, export};
use rollcall::sync::import::{ImportOptions, import};
use std::time::Instant;

const BATCH: usize = 5_000;

/// Import options as the command line gives them: statements up to this machine's clock plus five
/// minutes are accepted (the default, 1970, refuses every statement as forward-dated).
fn import_opts() -> ImportOptions {
    ImportOptions { max_ms: chrono::Utc::now().timestamp_millis() + 300_000, ..ImportOptions::default() }
}

fn notes(key: &SigningKey, domain: &Domain, from: usize, n: usize) -> Vec<SignedStatement> {
    let actor = PublicKey::from_signing(key);
    (from..from + n)
        .map(|i| {
            Statement::new(
                "note",
                &actor,
                serde_json::json!({"text": format!("benchmark note {i}: rollback of deploy {} verified by on-call", 4000 + i)}),
                &[],
            )
            .sign(key, domain)
            .unwrap()
        })
        .collect()
}

fn main() {
    let n: usize = std::env::var("ROLLCALL_BENCH_N").ok().and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let cores = std::thread::available_parallelism().map(|c| c.get()).unwrap_or(1);
    let dir = tempfile::tempdir().unwrap();
    let admin = SigningKey::from_bytes(&[3u8; 32]);
    let origin = SigningKey::from_bytes(&[4u8; 32]);
    let genesis = GenesisBody::new(
        "bench.example/a",
        &PublicKey::from_signing(&origin),
        "admin",
        &PublicKey::from_signing(&admin),
        rollcall::policy::DEFAULT_POLICY,
    )
    .statement(&PublicKey::from_signing(&admin))
    .sign(&admin, &Domain::genesis_only())
    .unwrap();
    let domain = &Domain::of(&genesis.id);
    // The source ledger is built once under target/ and copied for each run (the run appends to it).
    let cache = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target").join(format!("bench-sync-v2-{n}"));
    if !cache.join("a.db").exists() {
        std::fs::create_dir_all(&cache).unwrap();
        let building = cache.join("a.db.building");
        let _ = std::fs::remove_file(&building);
        let mut a = Ledger::create(&building, "bench.example/a", &origin, &genesis).unwrap();
        let t = Instant::now();
        let mut done = 0;
        while done < n {
            let k = BATCH.min(n - done);
            a.append(&notes(&admin, domain, done, k), None, &origin, i64::MAX).unwrap();
            done += k;
        }
        drop(a);
        std::fs::rename(&building, cache.join("a.db")).unwrap();
        eprintln!("built a ledger of {n} notes in {:.1} s", t.elapsed().as_secs_f64());
    }
    let a_path = dir.path().join("a.db");
    std::fs::copy(cache.join("a.db"), &a_path).unwrap();
    let mut a = Ledger::open(&a_path).unwrap();

    // Limit: cores x single-core verify_strict, on statements like these. This VM's speed drifts by up to
    // 20 % within a minute, so the rate is measured right before and right after each import and the import
    // is compared with the mean of the two; the ratio against the highest rate of the run is printed too.
    let sample: Vec<(Vec<u8>, ed25519_dalek::Signature)> = notes(&admin, domain, 0, 20_000)
        .iter()
        .map(|s| {
            let m = pae(&payload_type(&genesis.id), &s.bytes);
            let sig = admin.sign(&m);
            (m, sig)
        })
        .collect();
    let vk = admin.verifying_key();
    let verify_rate = || {
        let t = Instant::now();
        for (m, sig) in &sample {
            vk.verify_strict(m, sig).unwrap();
        }
        sample.len() as f64 / t.elapsed().as_secs_f64()
    };

    // Export.
    let bundle = dir.path().join("a.rollcall");
    let t = Instant::now();
    let file = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&bundle).unwrap());
    let report = export(&a, file, &ExportOptions::default()).unwrap();
    let export_secs = t.elapsed().as_secs_f64();
    let exported = report.entries as f64;
    let ratio = report.bytes as f64 / report.payload_bytes as f64;

    // A new machine joining the ledger: the bundle is imported while its ledger file is created (as
    // `init --join` does), timed until the file is complete and synced.
    let b_path = dir.path().join("b.db");
    let b_key = PublicKey::from_signing(&SigningKey::from_bytes(&[5u8; 32]));
    let strict_0 = verify_rate();
    let t = Instant::now();
    let mut joined = None;
    let b = Ledger::create_with(&b_path, "bench.example/b", &b_key, &a.ledger_id(), |l| {
        joined = Some(import(l, std::fs::File::open(&bundle).unwrap(), &import_opts())?);
        Ok::<(), rollcall::sync::SyncError>(())
    })
    .unwrap();
    let join_secs = t.elapsed().as_secs_f64();
    let joined = joined.unwrap();
    assert_eq!(joined.added() as f64, exported);
    let join_rate = joined.added() as f64 / join_secs;

    // A machine with a ledger already in use (open to other readers) importing the same bundle.
    let c_path = dir.path().join("c.db");
    let c_key = PublicKey::from_signing(&SigningKey::from_bytes(&[6u8; 32]));
    let c =
        Ledger::create_with(&c_path, "bench.example/c", &c_key, &a.ledger_id(), |_| Ok::<(), LedgerError>(())).unwrap();
    let strict_1 = verify_rate();
    let t = Instant::now();
    let imported = import(&c, std::fs::File::open(&bundle).unwrap(), &import_opts()).unwrap();
    let import_secs = t.elapsed().as_secs_f64();
    drop(c);
    let import_rate = imported.added() as f64 / import_secs;
    let strict_2 = verify_rate();
    let join_limit = cores as f64 * (strict_0 + strict_1) / 2.0;
    let import_limit = cores as f64 * (strict_1 + strict_2) / 2.0;
    let max_limit = cores as f64 * strict_0.max(strict_1).max(strict_2);
    assert_eq!(imported.added() as f64, exported);

    // Incremental: 1,000 new entries, exported since the checkpoint b holds.
    // Signed for the cached ledger's own id (its genesis was stamped when it was built, not in this run).
    let a_domain = &Domain::of(&a.ledger_id());
    a.append(&notes(&admin, a_domain, n, 1_000), None, &origin, i64::MAX).unwrap();
    let a_origin = b.origin_by_name("bench.example/a").unwrap();
    let (_, since) = b.latest_checkpoint(&a_origin).unwrap().unwrap();
    let opts = ExportOptions { since: [("bench.example/a".to_string(), since)].into_iter().collect(), no_blobs: false };
    let t = Instant::now();
    let inc = export(&a, std::io::sink(), &opts).unwrap();
    let inc_secs = t.elapsed().as_secs_f64();
    let mut buf = Vec::new();
    export(&a, &mut buf, &opts).unwrap();
    let t = Instant::now();
    let r = import(&b, std::io::Cursor::new(buf), &import_opts()).unwrap();
    let inc_import = t.elapsed().as_secs_f64();
    assert_eq!(r.added(), 1_000);

    println!("rollcall sync benchmark: {n} notes, {cores} cores");
    println!(
        "  single-core verify_strict:            {strict_0:.0} /s before the join, {strict_1:.0} between, {strict_2:.0} after the import"
    );
    println!(
        "  measured: join (new machine):          {join_rate:>10.0} /s   = {:.0}% of {cores} x the rate around it, {join_limit:.0} /s (target >= 60%; {:.0}% of the run's highest); {} entries in {join_secs:.1} s",
        100.0 * join_rate / join_limit,
        100.0 * join_rate / max_limit,
        joined.added()
    );
    println!(
        "  measured: import into a ledger in use: {import_rate:>10.0} /s   = {:.0}% of {cores} x the rate around it, {import_limit:.0} /s ({:.0}% of the run's highest); {} entries in {import_secs:.1} s",
        100.0 * import_rate / import_limit,
        100.0 * import_rate / max_limit,
        imported.added()
    );
    println!(
        "  measured: export:                     {:>10.0} /s   (target >= 100,000 /s); {} entries in {export_secs:.1} s",
        exported / export_secs,
        report.entries
    );
    println!(
        "  bundle size: {} bytes for {} bytes of statements and signatures = {ratio:.3}x (target <= 1.3x)",
        report.bytes, report.payload_bytes
    );
    println!(
        "  incremental export of the last {} entries: {:.1} ms (full export {:.0} ms = {:.4}% of it); import {:.0} ms",
        inc.entries,
        inc_secs * 1e3,
        export_secs * 1e3,
        100.0 * inc_secs / export_secs,
        inc_import * 1e3
    );
}
