//! Request operations on a large ledger: one approval through the full workflow path (build, re-check
//! against the log, sign, append, durable commit), and `list` / `show` / `gate` on a ledger of 100,000
//! requests (each with an approval). The approval is compared with the raw cost of one durable SQLite
//! commit measured in the same run.
//!
//! Run with `cargo bench --bench requests` (`ROLLCALL_BENCH_N` sets the number of requests).

use ed25519_dalek::SigningKey;
use rollcall::audit::kinds::{APPROVED, REQUESTED};
use rollcall::audit::record::{Category, RequestBody, RevertOp, Risk};
use rollcall::identity::genesis::GenesisBody;
use rollcall::identity::kinds::ENROLLED;
use rollcall::identity::passphrase::Given;
use rollcall::identity::{Keystore, Passphrase};
use rollcall::ledger::{Hash, Ledger, PublicKey, SignedStatement, Statement};
use rollcall::workflow::query::Filter;
use rollcall::workflow::{Context, decisions, index, query};
use std::time::Instant;

fn record(i: usize) -> RequestBody {
    RequestBody {
        title: format!("Revert deploy {i} of payments-api"),
        change: format!("deploy-{i}"),
        ticket: Some(format!("OPS-{i}")),
        category: Category::CriticalBug,
        rationale: "error rate above SLO after the deploy".into(),
        impact: "a few seconds of 503s during the rollout".into(),
        components: vec!["payments-api".into()],
        env: ["production", "staging", "canary"][i % 3].into(),
        revert: RevertOp {
            tool: "helm".into(),
            argv: vec!["helm".into(), "rollback".into(), "payments".into(), format!("{i}")],
            from: format!("{}", i + 1),
            to: format!("{i}"),
        },
        risk: Risk::Low,
        ..Default::default()
    }
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

fn main() {
    let n: usize = std::env::var("ROLLCALL_BENCH_N").ok().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    // SAFETY: single-threaded at this point.
    unsafe { std::env::set_var("ROLLCALL_INSECURE_FAST_KDF", "1") };
    let dir = tempfile::tempdir().unwrap();
    let ks = Keystore::at(dir.path());
    let pass = Passphrase::new("bench passphrase".into());
    ks.create("admin", &pass).unwrap();
    ks.create("carol", &pass).unwrap();
    let admin = ks.unlock("admin", &pass).unwrap();
    let carol = ks.unlock("carol", &pass).unwrap();
    let origin = SigningKey::from_bytes(&[4u8; 32]);
    ks.store_origin("bench.example/origin", &origin, &pass).unwrap();
    let path = dir.path().join("ledger.db");
    let a = admin.public();
    let genesis = GenesisBody::new(
        "bench.example/origin",
        &PublicKey::from_signing(&origin),
        "admin",
        &a,
        rollcall::policy::DEFAULT_POLICY,
    )
    .statement(&a)
    .sign(admin.signing_key(), &rollcall::ledger::dsse::Domain::genesis_only())
    .unwrap();
    let mut ledger = Ledger::create(&path, "bench.example/origin", &origin, &genesis).unwrap();
    let domain = ledger.domain();
    // carol files the requests, dave approves half of them.
    ks.create("dave", &pass).unwrap();
    let dave = ks.unlock("dave", &pass).unwrap();
    for (name, key, roles) in [("carol", carol.public(), vec!["requester"]), ("dave", dave.public(), vec!["approver"])]
    {
        let body = serde_json::json!({"name": name, "key": key.encode(), "roles": roles});
        ledger
            .append(
                &[Statement::new(ENROLLED, &a, body, &[]).sign(admin.signing_key(), &domain).unwrap()],
                None,
                &origin,
                i64::MAX,
            )
            .unwrap();
    }
    let t = Instant::now();
    let mut first = None;
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        let mut batch: Vec<SignedStatement> = Vec::new();
        for &i in chunk {
            let r = record(i);
            let req = Statement::new(REQUESTED, &carol.public(), serde_json::to_value(&r).unwrap(), &[])
                .sign(carol.signing_key(), &domain)
                .unwrap();
            let id = req.id;
            first.get_or_insert(id);
            batch.push(req);
            if i % 2 == 0 {
                let d = serde_json::json!({"request": id.to_hex(), "version": id.to_hex(), "revert_digest": r.revert_digest(),
                    "evidence": [], "policy": genesis.id.to_hex(), "decision": "approve", "comment": "ok", "flags": []});
                batch.push(
                    Statement::new(APPROVED, &dave.public(), d, &[id, id]).sign(dave.signing_key(), &domain).unwrap(),
                );
            }
        }
        ledger.append(&batch, None, &origin, i64::MAX).unwrap();
    }
    let build_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let indexed = index::rebuild(&ledger, chrono::Utc::now()).unwrap();
    let rebuild_s = t.elapsed().as_secs_f64();
    drop(ledger);

    let ctx = Context { ledger_path: path.clone(), keystore: ks.clone(), passphrases: Box::new(Given(pass.clone())) };
    let first = first.unwrap().to_hex();
    let last_odd = {
        let rows = query::list(
            &ctx,
            &Filter {
                limit: Some(1),
                status: Some(rollcall::audit::projection::Status::Pending),
                ..Default::default()
            },
        )
        .unwrap();
        rows[0].id.to_hex()
    };

    // list / show / gate, each the best of 5 (warm cache, as an interactive user sees it).
    let best = |f: &dyn Fn()| {
        (0..5)
            .map(|_| {
                let t = Instant::now();
                f();
                ms(t)
            })
            .fold(f64::MAX, f64::min)
    };
    let list_page = best(&|| {
        query::list(&ctx, &Filter { limit: Some(100), ..Default::default() }).unwrap();
    });
    let list_filtered = best(&|| {
        query::list(
            &ctx,
            &Filter {
                status: Some(rollcall::audit::projection::Status::Approved),
                env: Some("staging".into()),
                limit: Some(100),
                ..Default::default()
            },
        )
        .unwrap();
    });
    let list_all = best(&|| {
        query::list(&ctx, &Filter::default()).unwrap();
    });
    let show = best(&|| {
        query::show(&ctx, &first[..12]).unwrap();
    });
    let gate = best(&|| {
        query::gate(&ctx, &last_odd[..12], None, query::Asked::default(), None).unwrap();
    });

    // One approval through the whole workflow (key already unlocked by the session; the passphrase KDF
    // is the key's own cost and is reported apart).
    let mut approve_times = Vec::new();
    let rows = query::list(
        &ctx,
        &Filter { status: Some(rollcall::audit::projection::Status::Pending), limit: Some(5), ..Default::default() },
    )
    .unwrap();
    for row in &rows {
        let mut session = ctx.session(Some("dave")).unwrap();
        let id = row.id;
        let t = Instant::now();
        rollcall::workflow::act::append_on(&mut session, &id, APPROVED, &|d| {
            let b = decisions::decision_body(d, rollcall::audit::bodies::Decision::Approve, "bench approval");
            Ok((serde_json::to_value(b).unwrap(), vec![d.view.current().id]))
        })
        .unwrap();
        approve_times.push(ms(t));
    }
    approve_times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let approve_median = approve_times[approve_times.len() / 2];

    // The machine's floor for a durable append: one row committed with synchronous=FULL in WAL mode.
    let raw = rusqlite::Connection::open(dir.path().join("raw.db")).unwrap();
    raw.pragma_update(None, "journal_mode", "WAL").unwrap();
    raw.pragma_update(None, "synchronous", "FULL").unwrap();
    raw.execute_batch("CREATE TABLE t (id BLOB PRIMARY KEY, b BLOB)").unwrap();
    let mut commits = Vec::new();
    for i in 0..20u32 {
        let t = Instant::now();
        raw.execute(
            "INSERT INTO t VALUES (?1, ?2)",
            rusqlite::params![Hash::of(&[&i.to_be_bytes()]).0, vec![0u8; 600]],
        )
        .unwrap();
        commits.push(ms(t));
    }
    commits.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let commit_median = commits[commits.len() / 2];
    let kdf = {
        let t = Instant::now();
        let _ = ks.unlock("dave", &pass);
        ms(t)
    };
    let t = Instant::now();
    let report = rollcall::workflow::verify::verify(&ctx).unwrap();
    let verify_s = t.elapsed().as_secs_f64();
    assert!(report.intact());

    println!(
        "rollcall request benchmark: {n} requests ({} entries), built in {build_s:.1} s, index rebuilt in {rebuild_s:.1} s ({indexed} rows)",
        n + n / 2 + 3
    );
    println!("  list, newest 100:                 {list_page:>8.1} ms   (target < 100 ms)");
    println!("  list, status+env filter, 100:     {list_filtered:>8.1} ms");
    println!("  list, all {n} rows:          {list_all:>8.1} ms   (building every row; printing them costs more)");
    println!("  show one request:                 {show:>8.1} ms   (target < 100 ms)");
    println!("  gate one request:                 {gate:>8.1} ms   (target < 100 ms)");
    println!(
        "  approve (check, sign, durable append), median of {}: {approve_median:.1} ms   (target well under 50 ms)",
        approve_times.len()
    );
    println!(
        "  limit: one durable SQLite commit:  {commit_median:>8.2} ms   -> approval = {:.1}x a bare commit",
        approve_median / commit_median
    );
    println!("  verify (integrity + every request folded and evaluated): {verify_s:.1} s");
    // A release build (`cargo bench`) ignores ROLLCALL_INSECURE_FAST_KDF: its keys are sealed at the default cost.
    let cost =
        if cfg!(debug_assertions) { "the test KDF" } else { "the default KDF; a release build ignores the test one" };
    println!("  (unlocking a key is the key's own KDF cost: {kdf:.1} ms with {cost})");
}
