//! Sync end to end: three machines converging by files in any order, transitivity, witnessing,
//! incremental and compressed bundles, sync through a git remote (with a non-fast-forward push),
//! offline audit of a bundle, and inclusion and consistency proofs.

mod common;

use common::{Env, file_request, git, peer, verify_json};
use serde_json::{Value, json};

/// Every origin's latest root as `verify --json` reports it, by origin name.
fn roots(env: &Env) -> Vec<(String, u64, String)> {
    let (code, v) = verify_json(env);
    assert_eq!(code, 0, "verify: {v}");
    let mut out: Vec<(String, u64, String)> = v["origins"]
        .as_array()
        .expect("origins")
        .iter()
        .map(|o| {
            (
                o["origin"].as_str().unwrap().to_string(),
                o["size"].as_u64().unwrap(),
                o["root"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

/// What `show REQ --json` says about a request, without the parts that depend on who is looking.
fn request_state(env: &Env, req: &str) -> (Value, Value) {
    let v = env.json(&["show", req]);
    (v["status"].clone(), v["evaluation"]["approvals"]["have"].clone())
}

fn added(report: &Value) -> u64 {
    report["added"].as_u64().expect("added")
}

/// alice founds the ledger; bob (requester) and carol (approver) each join from a bundle of it.
fn three() -> (Env, Env, Env) {
    let a = Env::with_ledger();
    let b = peer(&a, "bob", "test.example/bob", &["requester"]);
    let c = peer(&a, "carol", "test.example/carol", &["approver"]);
    (a, b, c)
}

#[test]
fn three_ledgers_converge_whatever_the_order_of_imports() {
    let (a, b, c) = three();
    // bob files a request; carol must see it before she can approve it.
    let req = file_request(&b, "bob", "low");
    common::tested(&b, &req, "bob");
    let bb = b.export("b1.rollcall");
    let r = c.import(&bb);
    assert!(added(&r) > 0, "{r}");
    c.ok(&["approve", &req, "--comment", "canary clean", "--as", "carol"]);
    a.ok(&["note", "alice was here", "--as", "alice"]);

    let ba = a.export("a.rollcall");
    let bb = b.export("b.rollcall");
    let bc = c.export("c.rollcall");
    // Different orders on each machine, and a bundle imported twice.
    a.import(&bb);
    a.import(&bc);
    b.import(&bc);
    b.import(&ba);
    c.import(&ba);
    c.import(&bb);
    let again = c.import(&bb);
    assert_eq!(added(&again), 0, "a second import adds nothing: {again}");

    let set = a.entry_set();
    assert_eq!(set, b.entry_set(), "alice and bob hold the same leaves");
    assert_eq!(set, c.entry_set(), "alice and carol hold the same leaves");
    assert_eq!(set.iter().filter(|l| l.starts_with("test.example/laptop ")).count(), a.size() as usize);
    assert_eq!(roots(&a), roots(&b));
    assert_eq!(roots(&a), roots(&c));

    // The projections agree too: the same request, approved once, on every machine.
    let state = request_state(&a, &req);
    assert_eq!(state.1, 1, "carol's approval reached alice: {state:?}");
    assert_eq!(state, request_state(&b, &req));
    assert_eq!(state, request_state(&c, &req));
    let list = |e: &Env| {
        let v = e.json(&["list"]);
        v["requests"].as_array().expect("requests").iter().map(|r| r["id"].clone()).collect::<Vec<_>>()
    };
    assert_eq!(list(&a), list(&b));
    assert_eq!(list(&a), list(&c));
}

#[test]
fn sync_is_transitive_and_checked_against_the_origins_own_checkpoint() {
    let a = Env::with_ledger();
    let b = peer(&a, "bob", "test.example/bob", &["approver"]);
    // carol is enrolled by alice but only ever meets bob.
    let c = Env::new();
    c.ok(&["key", "new", "carol"]);
    a.ok(&["enroll", "carol", "--pubkey", &c.public_key("carol"), "--role", "auditor", "--as", "alice"]);
    a.ok(&["note", "only alice wrote this", "--as", "alice"]);
    b.import(&a.export("a.rollcall"));
    let bb = b.export("b.rollcall");
    c.ok(&["init", "--join", &bb, "--as", "carol", "--origin", "test.example/carol"]);

    let a_root = roots(&a).into_iter().find(|r| r.0 == "test.example/laptop").expect("alice's origin");
    let c_view = roots(&c).into_iter().find(|r| r.0 == "test.example/laptop").expect("alice's log reached carol");
    assert_eq!(a_root, c_view, "carol holds exactly alice's signed log");

    // An inclusion proof made on carol's machine checks against alice's own published key.
    let log = a.json(&["log"]);
    let note = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "note")
        .and_then(|e| e["entry_id"].as_str())
        .expect("alice's note")
        .to_string();
    let proof = c.home().join("note.proof");
    let proof = proof.to_str().unwrap();
    c.ok(&["prove", &note, "--out", proof]);
    let vkey = a_verifier_key(&a);
    let v = c.json(&["verify-proof", proof, "--entry-file", &format!("{proof}.entry"), "--key", &vkey]);
    assert_eq!(v["valid"], true, "{v}");
}

/// The ledger's own origin verifier key, as `init` printed it and `verify --json` reports it.
fn a_verifier_key(a: &Env) -> String {
    let (_, v) = verify_json(a);
    let own = v["origins"].as_array().unwrap().iter().find(|o| o["own"] == true).expect("own origin").clone();
    own["vkey"].as_str().expect("verify --json names each origin's verifier key").to_string()
}

#[test]
fn witnesses_are_reported_by_verify() {
    let a = Env::with_ledger();
    let b = peer(&a, "bob", "test.example/bob", &["approver"]);
    a.import(&b.export("b.rollcall"));
    let (code, v) = verify_json(&a);
    assert_eq!(code, 0);
    let own = v["completeness"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["origin"] == "test.example/laptop")
        .expect("own log")
        .clone();
    assert_eq!(own["witnessed"], true, "{own}");
    assert!(own["statement"].as_str().unwrap().contains("by test.example/bob"), "{own}");
    let human = a.ok(&["verify"]);
    assert!(human.contains("witnessed"), "{human}");
}

#[test]
fn incremental_and_compressed_bundles() {
    let a = Env::with_ledger();
    let b = peer(&a, "bob", "test.example/bob", &["approver"]);
    // carol joins before alice has seen anything of bob's log.
    let c = peer(&a, "carol", "test.example/carol", &["auditor"]);
    let full = b.export("full.rollcall");
    a.import(&full);
    let cps = a.home().join("held.checkpoints");
    a.ok(&["checkpoints", "--out", cps.to_str().unwrap()]);
    for i in 0..5 {
        b.ok(&["note", &format!("bob {i}"), "--as", "bob"]);
    }
    let inc = b.home().join("inc.rollcall");
    let v = b.json(&["export", "--out", inc.to_str().unwrap(), "--since", cps.to_str().unwrap(), "--zstd"]);
    let mine = v["origins"].as_array().unwrap().iter().find(|o| o["own"] == true).unwrap().clone();
    assert!(mine["from"].as_u64().unwrap() > 0, "incremental: {v}");
    let bytes = std::fs::read(&inc).unwrap();
    assert_eq!(&bytes[..4], &[0x28, 0xB5, 0x2F, 0xFD], "a zstd frame");
    assert!(bytes.len() < std::fs::metadata(&full).unwrap().len() as usize);

    let r = a.import(inc.to_str().unwrap());
    assert_eq!(r["compressed"], true);
    assert_eq!(added(&r), 6, "five notes and the export's own audit entry: {r}");
    assert_eq!(
        roots(&a).iter().find(|o| o.0 == "test.example/bob"),
        roots(&b).iter().find(|o| o.0 == "test.example/bob")
    );

    // A ledger that lacks the prefix cannot take an incremental bundle; nothing changes.
    let before = c.fingerprint();
    let err = c.fails(&["import", inc.to_str().unwrap()], 1);
    assert!(err.contains("test.example/bob"), "{err}");
    assert_eq!(before, c.fingerprint());
}

fn clone(remote: &std::path::Path, into: &std::path::Path) -> String {
    git(remote.parent().unwrap(), &["clone", "-q", remote.to_str().unwrap(), into.to_str().unwrap()]);
    git(into, &["config", "user.name", "t"]);
    git(into, &["config", "user.email", "t@example.com"]);
    into.to_str().unwrap().to_string()
}

/// A bare repository as the exchange (in a temporary directory, kept while it is held), and a working copy
/// of it for each of three machines.
fn exchange() -> (tempfile::TempDir, std::path::PathBuf, [String; 3]) {
    let shared = tempfile::tempdir().unwrap();
    let remote = shared.path().join("exchange.git");
    git(shared.path(), &["init", "-q", "--bare", remote.to_str().unwrap()]);
    let copies = ["wa", "wb", "wc"].map(|w| clone(&remote, &shared.path().join(w)));
    (shared, remote, copies)
}

/// The bundles (`*.rollcall`) in working copy `w`, sorted.
fn bundles(w: &str) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(w)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".rollcall"))
        .collect();
    files.sort();
    files
}

#[test]
fn three_machines_sync_through_a_git_remote() {
    let (a, b, c) = three();
    let (_shared, remote, [wa, wb, wc]) = exchange();

    a.ok(&["sync", "--git", &wa]);
    let req = file_request(&b, "bob", "low");
    common::tested(&b, &req, "bob");
    b.ok(&["sync", "--git", &wb]);
    c.ok(&["sync", "--git", &wc]);
    c.ok(&["approve", &req, "--comment", "looks right", "--as", "carol"]);
    // carol commits offline while bob pushes: her branch has diverged from the remote, and her next sync
    // must bring in bob's commit before its push can land.
    c.ok(&["sync", "--git", &wc, "--offline"]);
    b.ok(&["note", "bob again", "--as", "bob"]);
    b.ok(&["sync", "--git", &wb]);
    let v = c.json(&["sync", "--git", &wc]);
    assert_eq!(v["pushed"], true, "{v}");
    assert_eq!(v["refused"], 0, "{v}");
    // A push that loses a race (the server refuses it once, as it refuses a non-fast-forward) is retried
    // after pulling again.
    let hook = remote.join("hooks").join("pre-receive");
    std::fs::write(
        &hook,
        "#!/bin/sh\nif [ ! -e \"$0.raced\" ]; then touch \"$0.raced\"; echo 'rejected: fetch first' >&2; exit 1; fi\n",
    )
    .unwrap();
    let mut perms = std::fs::metadata(&hook).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&hook, perms).unwrap();
    a.ok(&["note", "alice again", "--as", "alice"]);
    let v = a.json(&["sync", "--git", &wa]);
    assert_eq!(v["push_attempts"], 2, "{v}");
    assert_eq!(v["pushed"], true, "{v}");
    // Two more rounds bring everyone to the same state.
    for _ in 0..2 {
        a.ok(&["sync", "--git", &wa]);
        b.ok(&["sync", "--git", &wb]);
        c.ok(&["sync", "--git", &wc]);
    }
    assert_eq!(a.entry_set(), b.entry_set());
    assert_eq!(a.entry_set(), c.entry_set());
    assert_eq!(request_state(&a, &req).1, 1);
    for e in [&a, &b, &c] {
        assert_eq!(verify_json(e).0, 0);
    }
    // One bundle per machine in the exchange.
    assert_eq!(bundles(&wa).len(), 3, "{:?}", bundles(&wa));
}

/// bob re-appends alice's signed note to his own log with the library (a copy, FORMAT.md §2.1) and syncs:
/// alice's `sync --git` takes his bundle, as `import` does, and its line for that bundle says SECURITY in
/// the sentence `import` prints; `--json` counts the copy; `verify` then fails naming it.
#[test]
fn a_sync_that_takes_a_copied_entry_says_so() {
    use rollcall::ledger::{Hash, Ledger};
    let (a, b, c) = three();
    let (_shared, _remote, [wa, wb, wc]) = exchange();
    let id = a.json(&["note", "mine", "--as", "alice"])["entry_id"].as_str().unwrap().to_string();
    let row = Ledger::open_read_only(&a.ledger()).unwrap().entry(&Hash::from_hex(&id).unwrap()).unwrap().unwrap();
    let mut l = Ledger::open(&b.ledger()).unwrap();
    l.append(std::slice::from_ref(&row.entry), None, &b.signing_key("origin"), i64::MAX).unwrap();
    drop(l);
    b.ok(&["sync", "--git", &wb]);
    let said = a.ok(&["sync", "--git", &wa]);
    let line = said.lines().find(|l| l.contains("SECURITY")).unwrap_or_else(|| panic!("{said}"));
    assert!(line.contains("; SECURITY: 1 of the leaves added holds an entry another leaf already held"), "{said}");
    assert_eq!(verify_json(&a).0, 1);
    // carol, syncing with `--json`, is told which bundle brought the second leaf of the entry (bob's first
    // here, so alice's original is the later arrival: either is a copy of the other, §2.1).
    let v = c.json(&["sync", "--git", &wc]);
    let copies: Vec<u64> =
        v["peers"].as_array().unwrap().iter().map(|p| p["import"]["copies"].as_u64().unwrap()).collect();
    assert_eq!(copies.len(), 2, "{v}");
    assert_eq!(copies.iter().sum::<u64>(), 1, "{v}");
    assert_eq!(verify_json(&c).0, 1);
}

/// An entry the gate's verdict rests on held by two logs (dave re-appends carol's approval to his own log
/// with the library) makes `gate` block, checklist item `copies`, until an admin acknowledges it: a copy can
/// move an entry in the ledger's order (an execution copied into a log that had not seen the approvals stops
/// counting there, and the approved request opened the gate again), and nothing says which leaf is the
/// original (here the copy, in a log that had not seen the request, makes the approval not count).
/// `gate --change` weighs it the same way.
#[test]
fn a_copied_entry_of_the_request_blocks_the_gate_until_it_is_acknowledged() {
    use rollcall::ledger::{Hash, Ledger};
    let (a, b, c) = three();
    // dave's machine joined before the request and saw nothing since (a log takes no entry stamped before
    // what it has seen).
    let d = peer(&a, "dave", "test.example/dave", &["requester"]);
    let req = file_request(&b, "bob", "low");
    common::tested(&b, &req, "bob");
    c.import(&b.export("b1.rollcall"));
    let approval = c.json(&["approve", &req, "--comment", "canary clean", "--as", "carol"])["entry_id"]
        .as_str()
        .unwrap()
        .to_string();
    a.import(&b.export("b2.rollcall"));
    a.import(&c.export("c1.rollcall"));
    let gate = |args: &[&str]| {
        let out = a.run(&[&["--json", "gate"], args].concat());
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        (out.status.code(), v)
    };
    let copies_item = |v: &serde_json::Value| common::checklist_item(v, "copies");
    let (code, v) = gate(&[&req]);
    assert_eq!(code, Some(0), "{v}");
    assert!(copies_item(&v).is_null(), "{v}");

    let row = Ledger::open_read_only(&a.ledger()).unwrap().entry(&Hash::from_hex(&approval).unwrap()).unwrap().unwrap();
    let mut l = Ledger::open(&d.ledger()).unwrap();
    l.append(std::slice::from_ref(&row.entry), None, &d.signing_key("origin"), i64::MAX).unwrap();
    drop(l);
    a.import(&d.export("d.rollcall"));
    let (code, v) = gate(&[&req]);
    assert_eq!(code, Some(1), "{v}");
    assert_eq!(v["gate"], false, "{v}");
    let item = copies_item(&v);
    assert_eq!(item["met"], false, "{v}");
    assert!(item["detail"].as_str().unwrap().contains(&format!("(first {})", &approval[..12])), "{item}");
    let (code, v) = gate(&["--change", "deploy-4411", "--env", "production"]);
    assert_eq!(code, Some(1), "{v}");

    let evidence = verify_json(&a).1["equivocations"][0]["evidence"].as_str().unwrap().to_string();
    // The acknowledgment says what the copy did to the request: it lifts the block, not that.
    let out = a.run(&["acknowledge", &evidence[..16], "--finding", "dave's test of the library", "--as", "alice"]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains(&format!("the copied entry {} (approval.granted) of request {}", &approval[..12], &req[..12]))
            && said.contains("does not count where the copy put it"),
        "{said}"
    );
    // Acknowledged, the copy no longer blocks by itself. What it did stays: the approval is judged at its
    // first position, now in dave's log, which had not seen the request (so it reviewed nothing and is no
    // decision): the order a copy can move, and why the gate gives no passing verdict while one is open.
    let (code, v) = gate(&[&req]);
    assert!(copies_item(&v).is_null(), "{v}");
    assert_eq!(code, Some(1), "{v}");
    assert_eq!(v["decisions"], json!([]), "{v}");
    let shown = a.json(&["show", &req]);
    let line = shown["timeline"].as_array().unwrap().iter().find(|t| t["entry_id"] == approval.as_str()).cloned();
    assert!(line.is_some_and(|l| l["ignored"].as_str().unwrap_or("").contains("request had not been seen")), "{shown}");
}

/// A machine given the request without its change set's bytes (`export --no-blobs`) cannot assess the
/// flags and risk they raise: its gate blocks (checklist item `changeset`) instead of asking fewer approvals
/// than the machines holding the bytes; once a bundle brings them, it decides as those do.
#[test]
fn a_gate_without_the_change_sets_bytes_blocks() {
    let (a, b, c) = three();
    let diff = a.home().join("revert.diff");
    std::fs::write(&diff, "diff --git a/app.txt b/app.txt\n--- a/app.txt\n+++ b/app.txt\n@@ -1 +1 @@\n-v2\n+v1\n")
        .unwrap();
    let mut args = common::request_args("bob", "revert the pool size", "low");
    let diff = diff.to_str().unwrap().to_string();
    args.extend(["--diff", &diff]);
    let req = b.json(&args)["request"].as_str().unwrap().to_string();
    common::tested(&b, &req, "bob");
    c.import(&b.export("b.rollcall"));
    c.ok(&["approve", &req, "--comment", "canary clean", "--as", "carol"]);
    let item = |v: &Value| common::checklist_item(v, "changeset");
    let out = c.run(&["--json", "gate", &req]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((out.status.code(), item(&v)), (Some(0), Value::Null), "the bytes are here: {v}");
    let thin = |env: &Env, name: &str| {
        let p = env.home().join(name);
        env.ok(&["export", "--no-blobs", "--out", p.to_str().unwrap()]);
        p.to_string_lossy().into_owned()
    };
    a.import(&thin(&b, "b-thin.rollcall"));
    a.import(&thin(&c, "c-thin.rollcall"));
    let out = a.run(&["--json", "gate", &req]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{v}");
    assert_eq!(item(&v)["met"], false, "{v}");
    assert!(item(&v)["detail"].as_str().unwrap().contains("not in this ledger"), "{v}");
    // An approval signed here could not list the change set's flags (it would be stale wherever the bytes
    // are): refused, nothing written. A rejection asks nothing of them.
    a.ok(&["key", "new", "quinn"]);
    let quinn = a.public_key("quinn");
    a.ok(&["enroll", "quinn", "--pubkey", &quinn, "--role", "approver", "--as", "alice"]);
    let err = a.refuses(&["approve", &req, "--comment", "looks fine", "--as", "quinn"]);
    assert!(err.contains("the change set bytes are not in this ledger"), "{err}");
    // The console says so before anything is typed (it offered the approval).
    let why = common::console_can(&a, "quinn", &req).approve.unwrap_err();
    assert!(why.contains("the change set bytes are not in this ledger"), "{why}");
    a.import(&b.export("b-full.rollcall"));
    assert_eq!(a.run(&["gate", &req]).status.code(), Some(0));
    a.ok(&["approve", &req, "--comment", "looks fine", "--as", "quinn"]);
}

/// The attack the `copies` item stops: erin's signed execution of an approved request, copied by a member
/// into a log of their own that had seen nothing since before the request (its origin name chosen so its
/// leaf sorts first at the same time), is judged at that first position, where no approval is in its past:
/// it stops counting and the request read *approved* again, so `gate` passed for a second rollback. The
/// gate now blocks while the copy is open.
#[test]
fn an_execution_copied_into_an_older_log_does_not_reopen_the_gate() {
    use rollcall::ledger::{Hash, Ledger};
    let (a, b, c) = three();
    let erin_origin = "test.example/erin";
    let e = peer(&a, "erin", erin_origin, &["executor"]);
    let tag = |name: &str| {
        let h = Hash::of(&[name.as_bytes()]);
        u32::from_be_bytes([h.0[0], h.0[1], h.0[2], h.0[3]])
    };
    let mallory_origin =
        (0..).map(|i| format!("test.example/mallory-{i}")).find(|n| tag(n) < tag(erin_origin)).unwrap();
    let m = peer(&a, "mallory", &mallory_origin, &["requester"]);
    let req = file_request(&b, "bob", "low");
    common::tested(&b, &req, "bob");
    c.import(&b.export("b.rollcall"));
    c.ok(&["approve", &req, "--comment", "canary clean", "--as", "carol"]);
    e.import(&b.export("b2.rollcall"));
    e.import(&c.export("c.rollcall"));
    let executed =
        e.json(&["execute", &req, "--outcome", "succeeded", "--as", "erin"])["entry_id"].as_str().unwrap().to_string();
    for bundle in [b.export("b3.rollcall"), c.export("c2.rollcall"), e.export("e.rollcall")] {
        a.import(&bundle);
    }
    assert_eq!(a.run(&["gate", &req]).status.code(), Some(1), "executed: the approval let one rollback through");

    let row = Ledger::open_read_only(&a.ledger()).unwrap().entry(&Hash::from_hex(&executed).unwrap()).unwrap().unwrap();
    let mut l = Ledger::open(&m.ledger()).unwrap();
    l.append(std::slice::from_ref(&row.entry), None, &m.signing_key("origin"), i64::MAX).unwrap();
    drop(l);
    a.import(&m.export("m.rollcall"));
    let out = a.run(&["--json", "gate", &req]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{v}");
    let unmet = common::unmet(&v);
    assert_eq!(unmet, ["copies"], "only the copy blocks it now (the execution stopped counting): {v}");
    // `show` (and the console's detail, which reads the same answer) says what the gate says.
    let shown = a.json(&["show", &req]);
    assert_eq!(common::checklist_item(&shown["evaluation"], "copies")["met"], false, "{shown}");
    assert_eq!(shown["evaluation"]["gate"], false, "{shown}");
}

/// `sync --git --pull-only` (an auditor's copy, a gate job given read access to the exchange only): the
/// other machines' bundles are pulled and imported, and nothing is written to the exchange: no bundle of
/// its own in the working copy, no commit, no push; run again, every file is unchanged since the last
/// import. The full sync after it still writes and pushes.
#[test]
fn a_pull_only_sync_imports_the_others_and_writes_nothing_to_the_exchange() {
    let (a, b, c) = three();
    let (_shared, remote, [wa, wb, wc]) = exchange();
    a.ok(&["sync", "--git", &wa]);
    let req = file_request(&b, "bob", "low");
    b.ok(&["sync", "--git", &wb]);
    let pushed = git(&remote, &["rev-parse", "HEAD"]);

    let v = c.json(&["sync", "--git", &wc, "--pull-only"]);
    assert_eq!((&v["exported"], &v["committed"], &v["pushed"]), (&json!(null), &json!(false), &json!(false)), "{v}");
    assert_eq!(v["refused"], 0, "{v}");
    let peers = v["peers"].as_array().unwrap();
    assert_eq!(peers.len(), 2, "{v}");
    assert!(peers.iter().all(|p| p["ok"] == true && p["unchanged"] == false), "{v}");
    // Everything bob's log holds is here now, his request among it.
    let here = c.entry_set();
    let bobs: Vec<String> = b.entry_set().into_iter().filter(|e| e.starts_with("test.example/bob ")).collect();
    assert!(!bobs.is_empty() && bobs.iter().all(|e| here.contains(e)));
    c.ok(&["show", &req]);
    // The exchange is as it was: the remote's branch, the working copy (clean, at the remote's commit,
    // holding only the others' bundles).
    assert_eq!(git(&remote, &["rev-parse", "HEAD"]), pushed);
    assert_eq!(git(std::path::Path::new(&wc), &["rev-parse", "HEAD"]), pushed);
    assert_eq!(git(std::path::Path::new(&wc), &["status", "--porcelain"]), "");
    assert_eq!(bundles(&wc), bundles(&wb));
    assert_eq!(bundles(&wc).len(), 2);

    let again = c.ok(&["sync", "--git", &wc, "--pull-only"]);
    assert_eq!(again.matches("unchanged since the last import").count(), 2, "{again}");
    assert!(again.trim_end().ends_with(&format!("wrote nothing to {wc} (--pull-only)")), "{again}");
    assert_eq!(git(&remote, &["rev-parse", "HEAD"]), pushed);

    // Without it, the same machine writes its bundle and pushes.
    let v = c.json(&["sync", "--git", &wc]);
    assert_eq!((&v["committed"], &v["pushed"]), (&json!(true), &json!(true)), "{v}");
    assert_eq!(bundles(&wc).len(), 3);
}

#[test]
fn a_bundle_is_audited_offline_without_any_ledger() {
    let a = Env::with_ledger();
    a.notes(3);
    let bundle = a.export("a.rollcall");
    let auditor = Env::new();
    let out = auditor.ok(&["verify", "--bundle", &bundle]);
    assert!(out.contains("integrity: OK"), "{out}");
    assert!(!auditor.ledger().exists(), "verify --bundle creates no ledger");
    // Pinned to the team's ledger id: the bundle passes; one of any other ledger (a self-made genesis
    // verifies on its own) fails, exit 1, in the text and the JSON; a malformed id is bad usage.
    let id = a.json(&["verify"])["ledger_id"].as_str().unwrap().to_string();
    let out = auditor.ok(&["verify", "--bundle", &bundle, "--ledger-id", &id.to_uppercase()]);
    assert!(out.contains("ledger id: the one --ledger-id names"), "{out}");
    let other = Env::with_ledger();
    let other_id = other.json(&["verify"])["ledger_id"].as_str().unwrap().to_string();
    let run = auditor.run(&["verify", "--bundle", &bundle, "--ledger-id", &other_id]);
    assert_eq!(run.status.code(), Some(1));
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(
        text.contains(&format!("ledger id: NOT ledger {other_id} (--ledger-id)")) && text.contains("integrity: OK"),
        "{text}"
    );
    let run = a.run(&["--json", "verify", "--ledger-id", &other_id]);
    assert_eq!(run.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!((v["intact"].clone(), v["ledger_id_matches"].clone()), (json!(true), json!(false)), "{v}");
    assert_eq!(a.json(&["verify", "--ledger-id", &id])["ledger_id_matches"], true);
    assert!(a.fails(&["verify", "--ledger-id", "abc"], 2).contains("is not a ledger id"));
    let written: Vec<_> = std::fs::read_dir(auditor.home()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(written.is_empty(), "nothing written to the auditor's home: {written:?}");

    // A bundle with one changed byte fails, in one line, exit 1.
    let mut bytes = std::fs::read(&bundle).unwrap();
    let at = bytes.windows(11).position(|w| w == b"note number").expect("a note in the bundle");
    bytes[at] = b'N';
    let bad = auditor.home().join("bad.rollcall");
    std::fs::write(&bad, &bytes).unwrap();
    let out = auditor.run(&["verify", "--bundle", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!auditor.ledger().exists());
}

/// A bundle whose audit copy the system does not let `verify --bundle` write (here a file size limit of
/// 16 KiB, as a full disk would) is NOT VERIFIED, saying so: not a bundle refused, not the ledger's disk,
/// and nothing is left in the temporary directory.
#[test]
fn a_bundle_whose_audit_copy_cannot_be_written_is_not_verified() {
    use std::os::unix::process::CommandExt as _;
    let a = Env::with_ledger();
    a.notes(3);
    let bundle = a.export("a.rollcall");
    let before = std::fs::read(&bundle).unwrap();
    let auditor = Env::new();
    let tmp = auditor.home().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let limited = |json: bool| {
        let mut c = auditor.std_cmd();
        c.env("TMPDIR", &tmp).args(["verify", "--bundle", &bundle]);
        if json {
            c.arg("--json");
        }
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            c.pre_exec(|| {
                // A write past the limit fails with EFBIG instead of killing the process with SIGXFSZ.
                libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                let limit = libc::rlimit { rlim_cur: 16 * 1024, rlim_max: 16 * 1024 };
                if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        c.output().unwrap()
    };
    let out = limited(false);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let line = format!("integrity: NOT VERIFIED, cannot write the bundle's audit copy in {}: ", tmp.display());
    assert!(stdout.lines().any(|l| l.starts_with(&line)), "{stdout}");
    let out = limited(true);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((&v["intact"], &v["integrity"]["failure"]["not_read"]), (&json!(false), &json!(true)), "{v}");
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0, "the audit copy is removed");
    assert_eq!(std::fs::read(&bundle).unwrap(), before);
    // Without the limit the same bundle verifies.
    assert!(auditor.ok(&["verify", "--bundle", &bundle]).contains("integrity: OK"));
}

#[test]
fn inclusion_and_consistency_proofs_check_with_nothing_else() {
    let a = Env::with_ledger();
    a.notes(4);
    let log = a.json(&["log"]);
    let id = log["entries"][2]["entry_id"].as_str().unwrap().to_string();
    let dir = a.home().to_path_buf();
    let proof = dir.join("e.proof");
    let entry = dir.join("e.entry");
    a.ok(&["prove", &id[..12], "--out", proof.to_str().unwrap(), "--entry-out", entry.to_str().unwrap()]);
    let text = std::fs::read_to_string(&proof).unwrap();
    assert!(text.starts_with("c2sp.org/tlog-proof@v1\nextra "), "{text}");

    let checker = Env::new(); // nothing but the files
    let ok = checker.json(&["verify-proof", proof.to_str().unwrap(), "--entry-file", entry.to_str().unwrap()]);
    assert_eq!(ok["valid"], true, "{ok}");
    let vkey = a_verifier_key(&a);
    let ok = checker.json(&[
        "verify-proof",
        proof.to_str().unwrap(),
        "--entry-file",
        entry.to_str().unwrap(),
        "--key",
        &vkey,
    ]);
    assert_eq!(ok["valid"], true, "{ok}");

    // Another ledger's key, a changed entry, a changed proof: each invalid, exit 1.
    let other = Env::with_ledger();
    let wrong = a_verifier_key(&other);
    let invalid = |args: &[&str]| {
        let out = checker.run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", String::from_utf8_lossy(&out.stdout));
    };
    invalid(&["verify-proof", proof.to_str().unwrap(), "--entry-file", entry.to_str().unwrap(), "--key", &wrong]);
    let mut e = std::fs::read(&entry).unwrap();
    let at = e.windows(6).position(|w| w == b"number").unwrap();
    e[at] = b'N';
    let bad_entry = dir.join("bad.entry");
    std::fs::write(&bad_entry, &e).unwrap();
    invalid(&["verify-proof", proof.to_str().unwrap(), "--entry-file", bad_entry.to_str().unwrap()]);
    let lines: Vec<&str> = text.lines().collect();
    let idx_line = lines.iter().position(|l| l.starts_with("index ")).unwrap();
    let mut forged = lines.clone();
    let other_index = format!("index {}", 3);
    forged[idx_line] = &other_index;
    let bad_proof = dir.join("bad.proof");
    std::fs::write(&bad_proof, forged.join("\n") + "\n").unwrap();
    invalid(&["verify-proof", bad_proof.to_str().unwrap(), "--entry-file", entry.to_str().unwrap()]);

    // Consistency from size 2 to the latest checkpoint.
    let cons = dir.join("c.proof");
    a.ok(&["prove", "--consistency", "2", "--out", cons.to_str().unwrap()]);
    let ok = checker.json(&["verify-proof", cons.to_str().unwrap()]);
    assert_eq!(ok["valid"], true, "{ok}");
    let text = std::fs::read_to_string(&cons).unwrap();
    assert!(text.starts_with("rollcall-consistency/v1\n"));
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let last = lines.len() - 1;
    lines[last] = lines[1 + 2].clone().replace("old ", "").chars().take(44).collect();
    std::fs::write(&cons, lines.join("\n") + "\n").unwrap();
    invalid(&["verify-proof", cons.to_str().unwrap()]);
}

/// Bob's log imported into a ledger, then an older bundle of it replayed (refused, exit 1, and recorded as
/// a rollback): the two ledgers (keep bob alive: the bundles are in his home) and the refusal.
fn replayed_rollback() -> (Env, Env, String) {
    let a = Env::with_ledger();
    let b = peer(&a, "bob", "test.example/bob", &["approver"]);
    let old = b.export("old.rollcall");
    b.ok(&["note", "later", "--as", "bob"]);
    a.import(&b.export("new.rollcall"));
    let err = a.fails(&["import", &old], 1);
    (a, b, err)
}

#[test]
fn an_investigated_equivocation_is_acknowledged_not_erased() {
    // The older bundle replayed: recorded as a rollback, and verify fails from now on.
    let (a, _b, err) = replayed_rollback();
    assert!(err.contains("SECURITY") && err.contains("rolled back"), "{err}");
    let (code, v) = verify_json(&a);
    assert_eq!(code, 1);
    let evidence = v["equivocations"][0]["evidence"].as_str().expect("evidence digest").to_string();
    assert_eq!(evidence.len(), 64);
    let human = String::from_utf8(a.run(&["verify"]).stdout).unwrap();
    assert!(human.contains(&format!("rollcall acknowledge {}", &evidence[..16])), "{human}");

    // Someone without the admin or security-approver role cannot acknowledge it; nothing is written.
    let k = a.json(&["key", "new", "mallory"]);
    a.ok(&["enroll", "mallory", "--pubkey", k["public_key"].as_str().unwrap(), "--role", "requester", "--as", "alice"]);
    let before = a.fingerprint();
    let err = a.fails(&["acknowledge", &evidence[..16], "--finding", "nothing to see", "--as", "mallory"], 1);
    assert!(err.contains("admin or security-approver"), "{err}");
    let err = a.fails(&["acknowledge", "abc", "--finding", "x", "--as", "alice"], 2);
    assert!(err.contains("8 hex"), "{err}");
    assert_eq!(before, a.fingerprint());

    // alice investigates: a stale file on a shared drive, not a rewritten log.
    a.ok(&[
        "acknowledge",
        &evidence[..16],
        "--finding",
        "old bundle from the shared drive; bob's log is intact",
        "--as",
        "alice",
    ]);
    let (code, v) = verify_json(&a);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["equivocations"].as_array().unwrap().len(), 0);
    let ack = &v["acknowledged"][0];
    assert_eq!(ack["evidence"], evidence.as_str());
    assert_eq!(ack["kind"], "rollback");
    assert!(ack["by"].as_str().unwrap().starts_with("alice"), "{ack}");
    let human = a.ok(&["verify"]);
    assert!(human.contains("acknowledged: rollback of origin test.example/bob"), "{human}");
    // The evidence itself stays.
    let c = rusqlite::Connection::open(a.ledger()).unwrap();
    let rows: i64 = c.query_row("SELECT COUNT(*) FROM equivocations", [], |r| r.get(0)).unwrap();
    assert_eq!(rows, 1);
    // A second acknowledgment finds nothing open.
    let err = a.fails(&["acknowledge", &evidence[..16], "--finding", "again", "--as", "alice"], 2);
    assert!(err.contains("no open equivocation"), "{err}");
}

#[test]
fn export_since_a_checkpoint_that_contradicts_this_ledger_is_refused() {
    let a = Env::with_ledger();
    let b = peer(&a, "bob", "test.example/bob", &["approver"]);
    let backup = common::clone_home(&b);
    let twin = common::clone_home(&b);
    b.ok(&["note", "A", "--as", "bob"]);
    for n in ["B", "C", "D"] {
        twin.ok(&["note", n, "--as", "bob"]);
    }
    a.import(&b.export("b.rollcall"));
    let cps = a.home().join("held.checkpoints");
    a.ok(&["checkpoints", "--out", cps.to_str().unwrap()]);
    let cps = cps.to_str().unwrap();

    // An export --since that is refused writes no bundle and records no read; returns the error.
    let refused = |env: &Env, since: &str, code: i32| {
        let out = env.home().join("inc.rollcall");
        let before = env.entry_set();
        let err = env.fails(&["export", "--out", out.to_str().unwrap(), "--since", since, "--as", "bob"], code);
        assert!(!out.exists(), "no bundle written");
        assert_eq!(env.entry_set(), before, "a refused export was recorded as a read");
        err
    };

    // bob's machine restored from a backup: the peer holds more of its own log than it does.
    let err = refused(&backup, cps, 1);
    assert!(err.contains("SECURITY") && err.contains("restored from an old copy"), "{err}");

    // A twin that wrote other entries from the same index on: another history.
    let err = refused(&twin, cps, 1);
    assert!(err.contains("SECURITY") && err.contains("another history"), "{err}");

    // A checkpoint whose signature does not verify.
    let text = std::fs::read_to_string(cps).unwrap();
    let forged: String = text
        .lines()
        .map(|l| match l.strip_prefix("checkpoint ") {
            Some(b64) => {
                use base64::Engine;
                let e = base64::engine::general_purpose::STANDARD;
                let note = String::from_utf8(e.decode(b64).unwrap()).unwrap();
                // The size line of the signed note (its second line), one larger.
                let mut lines: Vec<String> = note.split('\n').map(str::to_string).collect();
                lines[1] = (lines[1].parse::<u64>().unwrap() + 1).to_string();
                format!("checkpoint {}\n", e.encode(lines.join("\n")))
            }
            None => format!("{l}\n"),
        })
        .collect();
    let forged_path = a.home().join("forged.checkpoints");
    std::fs::write(&forged_path, forged).unwrap();
    let err = refused(&twin, forged_path.to_str().unwrap(), 2);
    assert!(err.contains("--since checkpoint of origin") && err.contains("does not verify"), "{err}");

    // The same export without the contradiction is recorded (the policy records reads).
    let out = twin.home().join("inc.rollcall");
    let before = twin.entry_set().len();
    twin.ok(&["export", "--out", out.to_str().unwrap(), "--as", "bob"]);
    assert_eq!(twin.entry_set().len(), before + 1);
}

/// Import follows the same thread-count policy as `verify` (`ROLLCALL_VERIFY_THREADS`): one thread brings
/// exactly what several do.
#[test]
fn import_honours_the_verify_thread_count() {
    let alice = Env::with_ledger();
    let bob = peer(&alice, "bob", "test.example/bob", &["approver"]);
    for i in 0..5 {
        bob.ok(&["note", &format!("n{i}"), "--as", "bob"]);
    }
    let bundle = bob.export("bob.rollcall");
    let one = common::clone_home(&alice);
    let out = one.cmd().args(["--json", "import", &bundle]).env("ROLLCALL_VERIFY_THREADS", "1").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    alice.import(&bundle);
    assert_eq!(one.entry_set(), alice.entry_set());
    assert_eq!(verify_json(&one).0, 0);
}

/// Rows of a table, each column as text, sorted.
type Rows = Vec<Vec<String>>;

/// The request index and search text as stored, sorted: what a rebuild would produce.
fn stored_index(env: &Env) -> (Rows, Rows) {
    let c = rusqlite::Connection::open(env.ledger()).unwrap();
    let mut s = c.prepare("SELECT * FROM request_index").unwrap();
    let n = s.column_count();
    let mut rows: Vec<Vec<String>> = s
        .query_map([], |r| (0..n).map(|i| r.get::<_, rusqlite::types::Value>(i).map(|v| format!("{v:?}"))).collect())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    rows.sort();
    let mut text: Rows = c
        .prepare("SELECT entry_id, kind, text FROM search_fts")
        .unwrap()
        .query_map([], |r| Ok(vec![r.get(0)?, r.get(1)?, r.get(2)?]))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    text.sort();
    (rows, text)
}

#[test]
fn importing_a_few_entries_updates_the_request_index_in_place() {
    let (a, b, c) = three();
    // alice meets both peers' logs (each opens with a governance entry: the index is rebuilt).
    a.import(&b.export("b0.rollcall"));
    a.import(&c.export("c0.rollcall"));
    a.ok(&["list"]);
    // A row no request has: a rebuild would drop it, an update in place leaves it.
    let sentinel = |present: bool| {
        let c = rusqlite::Connection::open(a.ledger()).unwrap();
        if present {
            c.execute(
                "INSERT INTO request_index SELECT zeroblob(32), pos, 'sentinel', status, env, risk, tier, have, need,
                   flags, requester, created, recheck_at, obligation_due, urgency, component, evidence_ok,
                   emergency, waiver_ends, deployed_at, facts FROM request_index LIMIT 1",
                [],
            )
            .unwrap();
        }
        c.query_row("SELECT COUNT(*) FROM request_index WHERE title = 'sentinel'", [], |r| r.get::<_, i64>(0)).unwrap()
    };
    let req0 = file_request(&a, "alice", "low");
    a.ok(&["list"]);
    assert_eq!(sentinel(true), 1);

    // bob files a request with its test evidence; carol approves it; alice imports both logs' news.
    let req = file_request(&b, "bob", "low");
    common::tested(&b, &req, "bob");
    c.import(&b.export("b1.rollcall"));
    c.ok(&["approve", &req, "--comment", "canary clean", "--as", "carol"]);
    assert!(added(&a.import(&b.export("b2.rollcall"))) > 0);
    assert!(added(&a.import(&c.export("c2.rollcall"))) > 0);
    assert_eq!(sentinel(false), 1, "the import updated the index in place");

    let listed = a.json(&["list"]);
    let row = listed["requests"].as_array().unwrap().iter().find(|r| r["id"] == req.as_str()).cloned();
    let row = row.unwrap_or_else(|| panic!("bob's request is listed on alice's machine: {listed}"));
    assert_eq!(row["approvals"]["have"], 1, "carol's approval counted: {row}");
    assert!(listed.to_string().contains(&req0), "{listed}");

    // Exactly what a rebuild from every entry gives (the search text of the new entries included), the
    // sentinel aside.
    let (mut rows, text) = stored_index(&a);
    rows.retain(|r| !r.iter().any(|v| v.contains("sentinel")));
    a.ok(&["rebuild"]);
    assert_eq!(sentinel(false), 0);
    assert_eq!((rows, text), stored_index(&a));
}

/// An acknowledgment added to the file behind the ledger's back (plain INSERTs: the admin's key as actor,
/// 64 random bytes as signature, a leaf no checkpoint covers) does not close the equivocation it names:
/// it fails the check every decision makes of a row before relying on it.
#[test]
fn a_forged_acknowledgment_closes_nothing() {
    use rollcall::ledger::{PublicKey, Statement};
    let (a, _b, _) = replayed_rollback();
    let (_, v) = verify_json(&a);
    let evidence = v["equivocations"][0]["evidence"].as_str().expect("an open equivocation").to_string();
    let alice = a.public_key("alice");
    let body = serde_json::json!({
        "origin": "test.example/bob", "kind": "rollback", "evidence": evidence, "finding": "forged"
    });
    let mut st = Statement::new("integrity.acknowledged", &PublicKey::parse(&alice).unwrap(), body, &[]);
    st.ts = "2099-01-01T00:00:00.000Z".into();
    a.forge_row(&st, 4_070_908_800_000);
    let (code, v) = verify_json(&a);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["equivocations"].as_array().unwrap().len(), 1, "the forged acknowledgment closed it: {v}");
    assert_eq!(v["acknowledged"].as_array().map_or(0, |a| a.len()), 0, "{v}");
}

/// A mirror cut below what this machine's own witness cosigned is tampering, as the own log's is: the
/// cosignature says this machine verified the peer's log at that size. (A cosignature of another
/// witness beyond what is held is not: that machine may hold more.) The cut is clean (the leaf, its
/// entry, its tree hash and the checkpoint removed), so nothing else in the file shows it.
#[test]
fn a_mirror_cut_below_the_own_cosignature_fails_verify() {
    let a = Env::with_ledger();
    let b = peer(&a, "bob", "test.example/bob", &["approver"]);
    b.ok(&["note", "bob one", "--as", "bob"]);
    a.import(&b.export("b1.rollcall"));
    b.ok(&["note", "bob two", "--as", "bob"]);
    a.import(&b.export("b2.rollcall"));
    assert_eq!(verify_json(&a).0, 0);
    let c = a.tamper();
    let origin: i64 = c.query_row("SELECT id FROM origins WHERE name = 'test.example/bob'", [], |r| r.get(0)).unwrap();
    let size: i64 = c.query_row("SELECT COUNT(*) FROM leaves WHERE origin = ?1", [origin], |r| r.get(0)).unwrap();
    let own_cosigned: i64 = c
        .query_row(
            "SELECT MAX(size) FROM cosignatures WHERE origin = ?1 AND witness = 'test.example/laptop'",
            [origin],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(own_cosigned, size, "this machine cosigned all of bob's log");
    // Cut back to the checkpoint before (the first import's): what remains is a log as it was then.
    let kept: i64 = c
        .query_row(
            "SELECT MAX(size) FROM checkpoints WHERE origin = ?1 AND size < ?2",
            rusqlite::params![origin, size],
            |r| r.get(0),
        )
        .unwrap();
    let cut: Vec<Vec<u8>> = c
        .prepare("SELECT entry_id FROM leaves WHERE origin = ?1 AND idx >= ?2")
        .unwrap()
        .query_map(rusqlite::params![origin, kept], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let nodes = 2 * kept - i64::from(kept.count_ones());
    c.execute("DELETE FROM leaves WHERE origin = ?1 AND idx >= ?2", rusqlite::params![origin, kept]).unwrap();
    for id in &cut {
        c.execute("DELETE FROM entries WHERE id = ?1", [id]).unwrap();
        c.execute("DELETE FROM refs WHERE entry_id = ?1", [id]).unwrap();
    }
    c.execute("DELETE FROM tree_hashes WHERE origin = ?1 AND idx >= ?2", rusqlite::params![origin, nodes]).unwrap();
    c.execute("DELETE FROM checkpoints WHERE origin = ?1 AND size > ?2", rusqlite::params![origin, kept]).unwrap();
    drop(c);
    let (code, v) = verify_json(&a);
    assert_eq!(code, 1, "{v}");
    assert!(v.to_string().contains("SECURITY") && v.to_string().contains("test.example/bob"), "{v}");
}
