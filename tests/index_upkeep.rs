//! The request index kept up to date beside the commands that write: an import or a join that needs a
//! rebuild of it returns once its entries are committed and leaves the rebuild to a process of its own
//! (`ROLLCALL_INDEX_BACKGROUND_FROM` lowers the ledger size from which it does, so that these small
//! ledgers show it); a reader waits for that process, and says so; a write never waits for it.

mod common;

use common::{Env, file_request, team};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::Stdio;

/// Runs `args` with `--json` and `env` lowered to defer any rebuild; returns the JSON output.
fn json_deferring(env: &Env, args: &[&str]) -> Value {
    let out = env.cmd().env("ROLLCALL_INDEX_BACKGROUND_FROM", "1").arg("--json").args(args).output().unwrap();
    assert!(out.status.success(), "rollcall {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Waits (at most a minute) for the background process `pid` to end, so that the test's directory is
/// not removed under it. Not an assertion on time: the index has been waited for already.
fn wait_gone(v: &Value) {
    if let Some(pid) = v["index"]["pid"].as_u64() {
        wait_pid(pid);
    }
}

fn wait_pid(pid: u64) {
    for _ in 0..600 {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // Gone, or a zombie nobody reaps yet (state after the command name).
        if stat.is_empty() || stat.rsplit(')').next().is_some_and(|s| s.trim_start().starts_with('Z')) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// Exports `env`'s ledger as alice (the team has several keys) to `name` in its home.
fn export(env: &Env, name: &str) -> String {
    let p = env.home().join(name);
    env.ok(&["export", "--out", p.to_str().unwrap(), "--as", "alice"]);
    p.to_string_lossy().into_owned()
}

/// A second machine: heidi (a requester alice enrols) joins the team's ledger.
fn join_heidi(a: &Env) -> Env {
    let b = Env::new();
    b.ok(&["key", "new", "heidi"]);
    let key = b.public_key("heidi");
    a.ok(&["enroll", "heidi", "--pubkey", &key, "--as", "alice", "--role", "requester"]);
    b.ok(&["init", "--join", &export(a, "for-heidi.rollcall"), "--as", "heidi", "--origin", "test.example/heidi"]);
    b
}

fn ids(listed: &Value) -> Vec<String> {
    let mut ids: Vec<String> =
        listed["requests"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_string()).collect();
    ids.sort();
    ids
}

/// Imports `bundle` into `env` (within two minutes, else the test fails rather than hangs), which must
/// add entries; returns the JSON report.
fn imported_into(env: &Env, bundle: &str) -> Value {
    let out =
        env.cmd().timeout(std::time::Duration::from_secs(120)).args(["--json", "import", bundle]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let imported: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(imported["added"].as_u64().unwrap() > 0, "{imported}");
    imported
}

#[test]
fn a_join_leaves_the_index_to_the_background_and_list_shows_what_a_rebuild_shows() {
    let a = team();
    let reqs = [file_request(&a, "bob", "low"), file_request(&a, "frank", "high")];
    let b = Env::new();
    b.ok(&["key", "new", "grace"]);
    let key = b.public_key("grace");
    a.ok(&["enroll", "grace", "--pubkey", &key, "--as", "alice", "--role", "approver"]);
    let bundle = export(&a, "all.rollcall");
    let joined = json_deferring(&b, &["init", "--join", &bundle, "--as", "grace", "--origin", "test.example/grace"]);
    assert_eq!(joined["index"]["state"], "background", "{joined}");
    assert!(joined["index"]["pid"].as_u64().is_some(), "{joined}");

    // `list` waits for the background rebuild (or does it itself, if it comes first): either way, every
    // request is there, exactly as a rebuild from every entry lists them.
    let listed = b.json(&["list"]);
    let mut want = reqs.to_vec();
    want.sort();
    assert_eq!(ids(&listed), want, "{listed}");
    b.ok(&["rebuild"]);
    assert_eq!(b.json(&["list"]), listed);
    assert!(b.ok(&["rebuild", "--if-behind"]).contains("up to date"));
    wait_gone(&joined);
    // What the background rebuild said is in its log beside the ledger, readable by its user only.
    let log = std::path::PathBuf::from(joined["index"]["log"].as_str().expect("the log is named"));
    assert_eq!(log, std::path::absolute(b.ledger()).unwrap().with_extension("db-index.log"));
    let said = std::fs::read_to_string(&log).unwrap();
    assert!(
        said.lines().next().is_some_and(|l| l.ends_with("rebuild --if-behind (in the background, after a write)")),
        "{said}"
    );
    assert!(said.contains("request index"), "{said}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&log).unwrap().permissions().mode() & 0o777, 0o600);
    }
}

#[test]
fn an_import_into_a_ledger_in_use_commits_first_and_the_index_catches_up() {
    let a = team();
    let own = file_request(&a, "bob", "low");
    let b = join_heidi(&a);
    let theirs = file_request(&b, "heidi", "medium");
    // heidi's log opens with her join (a governance entry): the index is rebuilt, and the import leaves it.
    let imported = json_deferring(&a, &["import", &b.export("heidi.rollcall")]);
    assert!(imported["added"].as_u64().unwrap() > 0, "{imported}");
    assert_eq!(imported["index"]["state"], "background", "{imported}");
    let listed = a.json(&["list"]);
    let mut want = vec![own, theirs];
    want.sort();
    assert_eq!(ids(&listed), want, "{listed}");
    wait_gone(&imported);

    // Below the threshold (the default, 20,000 entries), the import brings the index up to date itself.
    b.ok(&["note", "heidi again", "--as", "heidi"]);
    let small = a.json(&["import", &b.export("heidi2.rollcall")]);
    assert_eq!(small["index"]["state"], "current", "{small}");
}

#[test]
fn a_write_never_waits_for_an_index_upkeep_and_a_reader_waits_and_says_so() {
    let a = team();
    let first = file_request(&a, "bob", "low");
    a.ok(&["list"]);

    // Another process is bringing the index up to date: this test holds its lock.
    let lock = rollcall::workflow::index_lock::exclusive(&a.ledger());
    assert!(rollcall::workflow::index_lock::busy(&a.ledger()));

    // A request filed meanwhile is written at once (the command would hang here if it waited).
    let out = a
        .cmd()
        .timeout(std::time::Duration::from_secs(120))
        .arg("--json")
        .args(common::request_args("frank", "Revert cache deploy 77", "high"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let second: Value = serde_json::from_slice(&out.stdout).unwrap();
    let second = second["request"].as_str().unwrap().to_string();

    // `list` waits, and says why on stderr, before any row.
    let mut cmd = a.std_cmd();
    let mut child =
        cmd.args(["--json", "list"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start list");
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    assert!(line.starts_with("note: waiting for the request index"), "{line:?}");

    drop(lock);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut want = vec![first, second];
    want.sort();
    assert_eq!(ids(&listed), want, "the request filed while the index was locked is caught up: {listed}");
}

#[test]
fn a_governance_entry_on_a_large_ledger_leaves_the_rebuild_to_the_background() {
    let a = team();
    let req = file_request(&a, "bob", "low");
    a.ok(&["list"]);
    let deferring = |args: &[&str]| {
        let out = a.cmd().env("ROLLCALL_INDEX_BACKGROUND_FROM", "1").args(args).output().unwrap();
        assert!(out.status.success(), "rollcall {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stderr).unwrap()
    };
    // An approval changes a few rows: updated in place, nothing left to the background.
    common::tested(&a, &req, "bob");
    let err = deferring(&["approve", &req, "--comment", "ok", "--as", "carol"]);
    assert!(!err.contains("background"), "{err}");

    // A new member may change any request's status: the index is rebuilt, after the command, elsewhere.
    a.ok(&["key", "new", "grace"]);
    let key = a.public_key("grace");
    let err = deferring(&["enroll", "grace", "--pubkey", &key, "--as", "alice", "--role", "approver"]);
    let note = err.lines().find(|l| l.starts_with("note: the request index is being rebuilt in the background"));
    let note = note.unwrap_or_else(|| panic!("{err}"));
    let pid: u64 = note.split("process ").nth(1).and_then(|s| s.split(',').next()).unwrap().parse().unwrap();
    assert!(note.contains("its output in ") && note.contains("-index.log"), "{note}");
    let listed = a.json(&["list"]);
    assert_eq!(ids(&listed), vec![req.clone()], "{listed}");
    assert_eq!(listed["requests"][0]["approvals"]["have"], 1, "{listed}");
    wait_pid(pid);
}

#[test]
fn an_import_while_another_process_keeps_the_index_does_not_wait_for_it() {
    let a = team();
    let own = file_request(&a, "bob", "low");
    a.ok(&["list"]);
    let b = join_heidi(&a);
    let theirs = file_request(&b, "heidi", "low");
    let bundle = b.export("heidi.rollcall");

    // Another process is rebuilding alice's index (an earlier import's background rebuild).
    let rebuilding = rollcall::workflow::index_lock::exclusive(&a.ledger());
    let imported = imported_into(&a, &bundle);
    // Committed without waiting; a catch-up is queued behind the rebuild in progress.
    assert_eq!(imported["index"]["state"], "background", "{imported}");
    drop(rebuilding);
    let listed = a.json(&["list"]);
    let mut want = vec![own, theirs];
    want.sort();
    assert_eq!(ids(&listed), want, "{listed}");
    wait_gone(&imported);
}

#[test]
fn an_import_beside_an_open_connection_still_moves_its_pages_into_the_file() {
    let a = team();
    let b = join_heidi(&a);
    a.bulk_notes("alice", 6_000);
    let bundle = export(&a, "notes.rollcall");

    // A connection that stays open on heidi's ledger (a console, `log --follow`): the last one to close
    // is never the import's, so the import's own checkpoints are the only ones.
    let open = rusqlite::Connection::open(b.ledger()).unwrap();
    let _: i64 = open.query_row("SELECT COUNT(*) FROM leaves", [], |r| r.get(0)).unwrap();
    let before = std::fs::metadata(b.ledger()).unwrap().len();
    let imported = b.import(&bundle);
    assert!(imported["added"].as_u64().unwrap() >= 6_000, "{imported}");
    let after = std::fs::metadata(b.ledger()).unwrap().len();
    assert!(after > before + 1_000_000, "the imported pages reached the file: {before} -> {after} bytes");
    drop(open);
}

/// An upkeep of the index that fails after the import committed (here a write to the index refused by the
/// file) neither undoes the import nor makes it look failed: the import reports its entries and leaves the
/// index to the background catch-up, and once the index can be written again the next reader lists them.
#[test]
fn an_index_upkeep_that_fails_after_the_import_committed_leaves_it_imported() {
    let a = team();
    let own = file_request(&a, "bob", "low");
    let b = join_heidi(&a);
    a.ok(&["import", &b.export("heidi.rollcall")]);
    let theirs = file_request(&b, "heidi", "low");
    let bundle = b.export("heidi2.rollcall");
    let c = rusqlite::Connection::open(a.ledger()).unwrap();
    c.execute_batch(
        "CREATE TRIGGER index_refused BEFORE INSERT ON request_index BEGIN SELECT RAISE(ABORT, 'refused'); END",
    )
    .unwrap();
    drop(c);
    let held = a.entry_set();
    let imported = imported_into(&a, &bundle);
    assert_eq!(imported["index"]["state"], "background", "{imported}");
    wait_gone(&imported);
    let now = a.entry_set();
    assert!(now.len() > held.len() && held.iter().all(|e| now.contains(e)), "the import is kept");
    // The catch-up met the same refusal and said so in its log.
    let log = std::path::PathBuf::from(imported["index"]["log"].as_str().expect("the log is named"));
    assert!(std::fs::read_to_string(&log).unwrap().contains("refused"));
    let c = rusqlite::Connection::open(a.ledger()).unwrap();
    c.execute_batch("DROP TRIGGER index_refused").unwrap();
    drop(c);
    let listed = a.json(&["list"]);
    let mut want = vec![own, theirs];
    want.sort();
    assert_eq!(ids(&listed), want, "{listed}");
}
