//! `rollcall import` and `rollcall init --join` on the ledger people have: the bundle of the whole
//! `demo --scale` ledger (`ROLLCALL_BENCH_SCALE` synthetic requests, default 660,000 ≈ 1,000,000 entries,
//! built once under target/ and reused), imported into the demo's jump host (a ledger in use that joined
//! when it held a few hundred entries) and joined by a new machine. The real binary runs in a child
//! process: its time is end to end (every line checked, the transaction, and the request index brought up
//! to date or, for an import this large, its rebuild started in the background), its peak resident memory
//! as `ps` and `/usr/bin/time` count it. Then the time until the index is up to date (`rebuild --if-behind`
//! waits for the background rebuild), and once the rebuild's own time and memory in the foreground.
//! `cargo bench --bench sync` is the row on a ledger of notes.
//!
//! The limit, measured right before and right after each command: 2 × the single-core `verify_strict`
//! rate on 20,000 of this ledger's own statements, sustained over 4 s of passes (the higher of the two;
//! see `shared/strict.rs`). `ROLLCALL_BENCH_RUNS` runs
//! (default 2). Targets (issue 15): ≥ 0.6 × the limit, peak RSS ≤ 256 MB.

#[path = "shared/child.rs"]
mod child;
#[path = "shared/demo_ledger.rs"]
mod demo_ledger;
#[path = "shared/strict.rs"]
mod strict;

use rollcall::ledger::Ledger;

const PASSPHRASE: &str = "demo-passphrase";

fn main() {
    let dir = demo_ledger::million();
    let db = dir.join("ledger.db");
    let runs: usize = std::env::var("ROLLCALL_BENCH_RUNS").ok().and_then(|s| s.parse().ok()).unwrap_or(2);
    let cores = std::thread::available_parallelism().map(|c| c.get()).unwrap_or(1);
    let (entries, ledger_id) = {
        let l = Ledger::open_read_only(&db).expect("open");
        (l.origins().expect("origins").iter().map(|o| l.size(o).unwrap_or(0)).sum::<u64>(), l.ledger_id())
    };
    let msgs = strict::sample(&db, &ledger_id);
    let work = tempfile::tempdir_in(dir.parent().expect("target")).expect("work dir");
    let home = work.path().join("home");
    child::copy_dir(&dir.join("home"), &home);
    let envs = [("ROLLCALL_PASSPHRASE", PASSPHRASE), ("ROLLCALL_ORIGIN_PASSPHRASE", PASSPHRASE)];
    let bundle = work.path().join("all.rollcall");
    let path = |p: &std::path::Path| p.to_str().expect("path").to_string();
    let out = child::rollcall_with(
        &home,
        &envs,
        &["--ledger", &path(&db), "export", "--out", &path(&bundle), "--as", "grace"],
    );
    assert!(out.success, "export: {}", out.stdout);
    println!(
        "rollcall import benchmark: the bundle of {entries} entries ({:.0} MB, exported in {:.1} s) from {}, {cores} cores",
        std::fs::metadata(&bundle).map(|m| m.len()).unwrap_or(0) as f64 / 1e6,
        out.secs,
        dir.display()
    );
    for run in 1..=runs {
        // Into a ledger in use: a copy of the demo's jump host.
        let in_use = work.path().join(format!("in-use-{run}.db"));
        std::fs::copy(dir.join("jump-host.db"), &in_use).expect("copy the jump host");
        let before = strict::strict_rate(&msgs);
        let r = child::rollcall_with(&home, &envs, &["--ledger", &path(&in_use), "import", &path(&bundle)]);
        let caught_up = index_ready(&home, &envs, &in_use);
        let after = strict::strict_rate(&msgs);
        let parallel = strict::parallel_rate(&msgs, cores).sustained;
        assert!(r.success, "import: {}", r.stdout);
        let limit = cores as f64 * before.max(after).sustained;
        report(&format!("run {run}: import into a ledger in use"), entries, &r, limit, parallel);
        println!("    request index up to date {caught_up:.1} s after the import returned (rebuilt in the background)");
        // A new machine joining.
        let joined = work.path().join(format!("joined-{run}.db"));
        let before = strict::strict_rate(&msgs);
        let origin = format!("bench.example/join-{run}");
        let r = child::rollcall_with(
            &home,
            &envs,
            &["--ledger", &path(&joined), "init", "--join", &path(&bundle), "--as", "frank", "--origin", &origin],
        );
        let caught_up = index_ready(&home, &envs, &joined);
        let after = strict::strict_rate(&msgs);
        let parallel = strict::parallel_rate(&msgs, cores).sustained;
        assert!(r.success, "join: {}", r.stdout);
        report(&format!("run {run}: init --join"), entries, &r, cores as f64 * before.max(after).sustained, parallel);
        println!("    request index up to date {caught_up:.1} s after the join returned (rebuilt in the background)");
        if run == runs {
            // What the background process does, in the foreground, where its memory can be counted.
            let rebuilt = child::rollcall_with(&home, &envs, &["--ledger", &path(&joined), "rebuild"]);
            assert!(rebuilt.success, "rebuild: {}", rebuilt.stdout);
            println!(
                "  the background rebuild's own cost, as `rollcall rebuild` in the foreground: {:.1} s, peak RSS {:.0} MB",
                rebuilt.secs, rebuilt.peak_mb
            );
        }
        for f in [&in_use, &joined] {
            for suffix in ["", "-wal", "-shm", "-index.lock"] {
                let mut name = f.as_os_str().to_owned();
                name.push(suffix);
                let _ = std::fs::remove_file(std::path::PathBuf::from(name));
            }
        }
    }
}

/// Waits for the request index of the ledger at `db` to be current (`rebuild --if-behind` waits for the
/// background rebuild an import or a join started): the seconds that took.
fn index_ready(home: &std::path::Path, envs: &[(&str, &str)], db: &std::path::Path) -> f64 {
    let r = child::rollcall_with(home, envs, &["--ledger", db.to_str().expect("path"), "rebuild", "--if-behind"]);
    assert!(r.success, "rebuild --if-behind: {}", r.stdout);
    r.secs
}

fn report(what: &str, entries: u64, r: &child::Run, limit: f64, parallel: f64) {
    let rate = entries as f64 / r.secs;
    println!(
        "  {what}: {:>6.1} s, {rate:>6.0} entries/s; limit {limit:.0} /s -> {:.0} % (target >= 60 %); \
         {:.0} % of the raw parallel rate ({parallel:.0} /s); peak RSS {:.0} MB (target <= 256 MB)",
        r.secs,
        100.0 * rate / limit,
        100.0 * rate / parallel,
        r.peak_mb
    );
}
