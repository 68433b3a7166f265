//! Files rollcall creates are readable by their user only (issue 13): the home, key and origin
//! directories 0700; the ledger, its WAL and SHM, key files, bundles and evidence exports 0600.
#![cfg(unix)]

mod common;

use common::Env;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())).permissions().mode() & 0o777
}

#[test]
fn everything_rollcall_creates_is_private() {
    let env = Env::new();
    // A home that does not exist yet, so rollcall creates it (and its parent).
    let home = env.home().join("nested/home");
    let run = |args: &[&str]| {
        let out = env.cmd().env("ROLLCALL_HOME", &home).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    run(&["key", "new", "alice"]);
    assert_eq!(mode(&env.home().join("nested")), 0o700);
    assert_eq!(mode(&home), 0o700);
    assert_eq!(mode(&home.join("keys")), 0o700);
    assert_eq!(mode(&home.join("keys/alice.key")), 0o600);
    run(&["init", "--admin", "alice", "--origin", "test.example/laptop"]);
    let ledger = home.join("ledger.db");
    assert_eq!(mode(&ledger), 0o600);
    assert_eq!(mode(&home.join("origins")), 0o700);
    for f in std::fs::read_dir(home.join("origins")).unwrap() {
        assert_eq!(mode(&f.unwrap().path()), 0o600);
    }

    // A reader holding the ledger open keeps its WAL and SHM in place while rollcall appends.
    let reader = rusqlite::Connection::open(&ledger).unwrap();
    let _: i64 = reader.query_row("SELECT COUNT(*) FROM entries", [], |r| r.get(0)).unwrap();
    run(&["note", "a note", "--as", "alice"]);
    for suffix in ["-wal", "-shm"] {
        let p = home.join(format!("ledger.db{suffix}"));
        assert!(p.exists(), "{} exists while a reader has the ledger open", p.display());
        assert_eq!(mode(&p), 0o600, "{}", p.display());
    }
    drop(reader);

    let bundle = env.home().join("out.rollcall");
    run(&["export", "--out", bundle.to_str().unwrap()]);
    assert_eq!(mode(&bundle), 0o600);

    let report = env.home().join("report.md");
    run(&["report", "--out", report.to_str().unwrap()]);
    assert_eq!(mode(&report), 0o600);
}

#[test]
fn evidence_exports_are_private() {
    let env = common::team();
    let req = common::file_request(&env, "bob", "low");
    let file = common::file(&env, "run.log", "all good\n");
    env.ok(&["evidence", "add", &req, &file, "--kind", "log", "--as", "bob"]);
    let shown = env.json(&["show", &req]);
    let id = shown["evidence"][0]["entry_id"].as_str().unwrap_or_else(|| panic!("{shown}")).to_string();
    let out = env.home().join("exported.log");
    env.ok(&["evidence", "export", &id, "--out", out.to_str().unwrap()]);
    assert_eq!(std::fs::read(&out).unwrap(), b"all good\n");
    assert_eq!(mode(&out), 0o600);
}
