//! Ledger throughput against this machine's own limits, measured in the same run:
//!
//! - batched append (sign + append, 1,000 statements per transaction, one checkpoint per batch) against
//!   raw SQLite inserts of the same rows with the single-core signing cost added;
//! - full `verify` against (cores × single-core `verify_strict` rate, sustained over 4 s of passes before
//!   and after the run, as `cargo bench --bench verify` measures it: shared/strict.rs).
//!
//! Run with `cargo bench --bench ledger` (`ROLLCALL_BENCH_N` sets the size; default 100,000).

use ed25519_dalek::{Signer, SigningKey};
use rollcall::identity::genesis::GenesisBody;
use rollcall::identity::passphrase::Given;
use rollcall::identity::{Keystore, Passphrase};
use rollcall::ledger::dsse::{Domain, pae, payload_type};
use rollcall::ledger::{Ledger, PublicKey, SignedStatement, Statement};
use rollcall::workflow::Context;
use std::time::Instant;

#[path = "shared/strict.rs"]
#[allow(dead_code)]
mod strict;

const BATCH: usize = 1_000;

fn statements(key: &SigningKey, n: usize) -> Vec<Statement> {
    let actor = PublicKey::from_signing(key);
    (0..n)
        .map(|i| {
            Statement::new(
                "note",
                &actor,
                serde_json::json!({"text": format!("benchmark note {i}: rollback of deploy {} verified by on-call", 4000 + i)}),
                &[],
            )
        })
        .collect()
}

fn rate(n: usize, secs: f64) -> f64 {
    n as f64 / secs
}

fn main() {
    let n: usize = std::env::var("ROLLCALL_BENCH_N").ok().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let cores = std::thread::available_parallelism().map(|c| c.get()).unwrap_or(1);
    let dir = tempfile::tempdir().unwrap();
    let admin = SigningKey::from_bytes(&[3u8; 32]);
    let origin = SigningKey::from_bytes(&[4u8; 32]);
    let stmts = statements(&admin, n);

    // Limit 1: single-core signing cost.
    let t = Instant::now();
    // Statements are signed bound to their ledger; any ledger id costs the same.
    let limit_domain = Domain::of(&rollcall::ledger::Hash([9; 32]));
    let signed: Vec<SignedStatement> = stmts.iter().map(|s| s.sign(&admin, &limit_domain).unwrap()).collect();
    let sign_rate = rate(n, t.elapsed().as_secs_f64());

    // Limit 2: raw SQLite inserts of the same rows (WAL, synchronous=FULL, same batch size).
    let raw_path = dir.path().join("raw.db");
    let mut raw = rusqlite::Connection::open(&raw_path).unwrap();
    raw.pragma_update(None, "journal_mode", "WAL").unwrap();
    raw.pragma_update(None, "synchronous", "FULL").unwrap();
    raw.execute_batch("CREATE TABLE e (id BLOB PRIMARY KEY, statement BLOB NOT NULL, signature BLOB NOT NULL)")
        .unwrap();
    let t = Instant::now();
    for chunk in signed.chunks(BATCH) {
        let tx = raw.transaction().unwrap();
        {
            let mut ins = tx.prepare_cached("INSERT INTO e VALUES (?1, ?2, ?3)").unwrap();
            for s in chunk {
                ins.execute(rusqlite::params![s.id.0, s.bytes, s.signature]).unwrap();
            }
        }
        tx.commit().unwrap();
    }
    let raw_rate = rate(n, t.elapsed().as_secs_f64());
    let append_limit = 1.0 / (1.0 / raw_rate + 1.0 / sign_rate);

    // Measured: sign + batched append through the ledger.
    let path = dir.path().join("ledger.db");
    let genesis = GenesisBody::new(
        "bench.example/origin",
        &PublicKey::from_signing(&origin),
        "admin",
        &PublicKey::from_signing(&admin),
        rollcall::policy::DEFAULT_POLICY,
    )
    .statement(&PublicKey::from_signing(&admin))
    .sign(&admin, &Domain::genesis_only())
    .unwrap();
    let mut ledger = Ledger::create(&path, "bench.example/origin", &origin, &genesis).unwrap();
    let domain = ledger.domain();
    let stmts = statements(&admin, n);
    let t = Instant::now();
    for chunk in stmts.chunks(BATCH) {
        let batch: Vec<SignedStatement> = chunk.iter().map(|s| s.sign(&admin, &domain).unwrap()).collect();
        ledger.append(&batch, None, &origin, i64::MAX).unwrap();
    }
    let append_rate = rate(n, t.elapsed().as_secs_f64());
    drop(ledger);

    // Limit 3: cores x single-core verify_strict, each rate sustained over passes of the sample for at
    // least 4 s, before and after the run (the higher of the two; see shared/strict.rs).
    let sample = 20_000.min(n);
    let vk = admin.verifying_key();
    let msgs: Vec<(Vec<u8>, ed25519_dalek::Signature, ed25519_dalek::VerifyingKey)> = signed[..sample]
        .iter()
        .map(|s| {
            let m = pae(&payload_type(&genesis.id), &s.bytes);
            let sig = admin.sign(&m);
            (m, sig, vk)
        })
        .collect();
    let strict_before = strict::strict_rate(&msgs);
    // The same raw checks spread over every core at once: what the hardware really gives in parallel
    // (vCPUs that are hyperthreads of one core, or clock boost on one core, make it lower than the above).
    let parallel_before = strict::parallel_rate(&msgs, cores);

    // Measured: the full `rollcall verify` path.
    let ctx = Context {
        ledger_path: path.clone(),
        keystore: Keystore::at(dir.path()),
        passphrases: Box::new(Given(Passphrase::new("unused-passphrase".into()))),
    };
    let t = Instant::now();
    let report = rollcall::workflow::verify::verify(&ctx).unwrap();
    let verify_secs = t.elapsed().as_secs_f64();
    assert!(report.intact(), "{:?}", report.failure);
    let verified = report.origins[0].verified as usize;
    let verify_rate = rate(verified, verify_secs);
    let strict = strict_before.max(strict::strict_rate(&msgs));
    let parallel = parallel_before.max(strict::parallel_rate(&msgs, cores));
    let (strict_rate, parallel_rate) = (strict.sustained, parallel.sustained);
    let verify_limit = strict_rate * cores as f64;

    if let Some(keep) = std::env::var_os("ROLLCALL_BENCH_KEEP") {
        std::fs::copy(&path, keep).unwrap();
    }
    println!("rollcall ledger benchmark: {n} notes, {cores} cores, batches of {BATCH}");
    println!("  single-core Ed25519 sign:           {sign_rate:>10.0} /s");
    println!("  raw SQLite insert (same rows):      {raw_rate:>10.0} /s");
    println!("  limit: raw insert + signing cost:   {append_limit:>10.0} /s");
    println!(
        "  measured: sign + batched append:    {append_rate:>10.0} /s   = {:.0}% of limit (target >= 50%)",
        100.0 * append_rate / append_limit
    );
    println!(
        "  single-core verify_strict:          {strict_rate:>10.0} /s   (sustained over 4 s; fastest pass {:.0} /s)",
        strict.fastest
    );
    println!("  limit: {cores} cores x verify_strict:      {verify_limit:>10.0} /s");
    println!(
        "  raw verify_strict on {cores} threads:     {parallel_rate:>10.0} /s   (what the cores give in parallel)"
    );
    println!(
        "  measured: rollcall verify:          {verify_rate:>10.0} /s   = {:.0}% of limit (target >= 80%), {:.0}% of the parallel raw rate; {verified} entries in {verify_secs:.2} s",
        100.0 * verify_rate / verify_limit,
        100.0 * verify_rate / parallel_rate
    );
}
