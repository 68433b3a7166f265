//! Evidence and analysis throughput beside this machine's limits, measured in the same run:
//!
//! - attaching a 64 MiB log (read, hash, recognise, store, sign, append) against raw SHA-256 of the same
//!   bytes in memory, and against writing the same bytes to a file with fsync (the storage floor);
//! - the security analysis of a revert touching 1,000 files.

use rollcall::analysis::changeset::ChangeSet;
use rollcall::analysis::flags::{self, Input, Tests};
use rollcall::identity::passphrase::Given;
use rollcall::identity::{Keystore, Passphrase};
use rollcall::workflow::Context;
use sha2::{Digest, Sha256};
use std::time::Instant;

fn main() {
    // SAFETY: single-threaded here.
    unsafe { std::env::set_var("ROLLCALL_INSECURE_FAST_KDF", "1") };
    let dir = tempfile::tempdir().unwrap();
    let pass = Passphrase::new("bench passphrase".into());
    let ks = Keystore::at(dir.path());
    ks.create("alice", &pass).unwrap();
    let ctx = Context { ledger_path: dir.path().join("ledger.db"), keystore: ks, passphrases: Box::new(Given(pass)) };
    rollcall::workflow::init::init(&ctx, "alice", Some("bench.example/e"), None).unwrap();
    let mut record: rollcall::audit::RequestBody = serde_json::from_value(serde_json::json!({
        "title": "t", "change": "c", "category": "other", "rationale": "r", "impact": "i", "components": ["a"],
        "env": "staging", "revert": {"tool": "git", "argv": ["git", "revert", "x"], "from": "a", "to": "b"}, "risk": "low"
    }))
    .unwrap();
    record.title = "bench".into();
    let r = rollcall::workflow::requests::new_request(&ctx, Some("alice"), record.clone(), None).unwrap();
    let req = r.entry_id.to_hex();

    // 64 MiB of log lines.
    let line = b"2026-11-23T10:00:00.000Z INFO payments-api request handled status=200 latency_ms=12 trace=4f2a\n";
    let mut data = Vec::with_capacity(64 << 20);
    while data.len() + line.len() <= 64 << 20 {
        data.extend_from_slice(line);
    }
    let path = dir.path().join("big.log");
    std::fs::write(&path, &data).unwrap();
    let t = Instant::now();
    let digest = Sha256::digest(&data);
    let raw_s = t.elapsed().as_secs_f64();
    // `attach_evidence` opens a session, which unlocks the signer's and the origin's keys: their KDF is
    // the keys' own cost (a release build ignores ROLLCALL_INSECURE_FAST_KDF, so `cargo bench` pays the
    // default, ~0.25 s for the two), measured here apart and not counted in the attach.
    let t = Instant::now();
    drop(ctx.session(Some("alice")).unwrap());
    let unlock_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let (receipt, _) =
        rollcall::workflow::lifecycle::attach_evidence(&ctx, Some("alice"), &req, "log", Some(&path), None, None)
            .unwrap();
    let attach_s = t.elapsed().as_secs_f64() - unlock_s;
    assert!(attach_s > 0.0, "the attach took less than opening its session: {attach_s} s");
    // The storage floor: the same bytes written to a new file on the same disk and made durable.
    let t = Instant::now();
    {
        use std::io::Write;
        let mut f = std::fs::File::create(dir.path().join("floor.bin")).unwrap();
        f.write_all(&data).unwrap();
        f.sync_all().unwrap();
    }
    let write_s = t.elapsed().as_secs_f64();
    let shown = rollcall::workflow::evidence::show(&ctx, &receipt.entry_id.to_hex()[..12]).unwrap();
    assert_eq!(shown.body.sha256.as_deref(), Some(hex::encode(digest).as_str()));
    let mib = data.len() as f64 / (1 << 20) as f64;

    // A revert touching 1,000 files, 20 changed lines each.
    let mut diff = String::new();
    for i in 0..1000 {
        diff.push_str(&format!("diff --git a/src/mod{i}/file.rs b/src/mod{i}/file.rs\n--- a/src/mod{i}/file.rs\n+++ b/src/mod{i}/file.rs\n@@ -1,20 +1,20 @@\n"));
        for j in 0..10 {
            diff.push_str(&format!(
                "-    let value_{j} = compute({j}, \"old\");\n+    let value_{j} = compute({j}, \"new\");\n"
            ));
        }
    }
    let t = Instant::now();
    let files = rollcall::analysis::diff::parse(&diff).unwrap();
    let cs = ChangeSet { source: "diff".into(), commits: vec![], files };
    let f = flags::flags(&Input {
        record: &record,
        changeset: Some(&cs),
        known_bad: &|_| None,
        emergency: None,
        tests: Tests::default(),
        tests_required: false,
    });
    let analysis_ms = t.elapsed().as_secs_f64() * 1000.0;

    println!("rollcall evidence benchmark");
    println!("  raw SHA-256 of {mib:.0} MiB in memory:        {:>8.0} MiB/s", mib / raw_s);
    println!(
        "  attach {mib:.0} MiB (read, hash, store, sign): {:>8.0} MiB/s   = {:.0}% of raw SHA-256 (target >= 50%)",
        mib / attach_s,
        100.0 * raw_s / attach_s
    );
    println!(
        "  raw write + fsync of the same bytes:      {:>8.0} MiB/s   (attach = {:.0}% of it; a durable store writes \
         the bytes at least once)",
        mib / write_s,
        100.0 * write_s / attach_s
    );
    println!("  (opening the session, unlocking two keys, not counted above: {:.0} ms)", unlock_s * 1000.0);
    println!("  analysis of a revert touching 1,000 files: {analysis_ms:>8.1} ms   ({} flags; target < 1 s)", f.len());
}
