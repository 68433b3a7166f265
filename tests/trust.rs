//! Trust across machines (issue 12), end to end: each test is an attack an enrolled member (or someone with
//! write access to a ledger file) can mount with the commands and library they have, and shows that it
//! fails — the import is refused, or the entry does not count and `gate` says why, or `verify` names it.
//!
//! Histories are built at fixed times with `ROLLCALL_NOW` (debug builds let it move the upper time bound
//! too; a release build measures that bound from the system clock).

mod common;

use common::{Env, team_at, verify_json};
use ratatui::crossterm::event::KeyCode;
use rollcall::ledger::{Hash, Ledger, PublicKey, SignedStatement, Statement};
use rollcall::workflow::waiting::{Stand, Turn};
use serde_json::Value;

const T0: &str = "2026-11-01T00:00:00Z";

/// Runs `args` with the clock at `now`; returns (exit code, stdout, stderr).
fn run_at(env: &Env, now: &str, args: &[&str]) -> (i32, String, String) {
    let out = env.cmd().args(args).env("ROLLCALL_NOW", now).output().expect("run");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The error lines of stderr (without the clock override's warning).
fn errors(err: &str) -> usize {
    err.lines().filter(|l| !l.starts_with("warning: the clock")).count()
}

fn ok_at(env: &Env, now: &str, args: &[&str]) -> String {
    let (code, out, err) = run_at(env, now, args);
    assert_eq!(code, 0, "rollcall {args:?} at {now}: {err}");
    out
}

fn json_at(env: &Env, now: &str, args: &[&str]) -> Value {
    let mut a = vec!["--json"];
    a.extend_from_slice(args);
    serde_json::from_str(&ok_at(env, now, &a)).expect("json")
}

fn gate_at(env: &Env, now: &str, req: &str) -> (i32, Value) {
    let (code, out, err) = run_at(env, now, &["--json", "gate", req]);
    (code, serde_json::from_str(&out).unwrap_or_else(|_| panic!("gate json: {out} {err}")))
}

/// A request filed by bob at `now`, with a passing JUnit report attached a minute later (one approval by an
/// approver then lets it run).
fn request_at(env: &Env, now: &str) -> String {
    let args = common::request_args("bob", "Revert the cache change", "low");
    let req = json_at(env, now, &args)["request"].as_str().expect("request id").to_string();
    let junit = common::file(
        env,
        "junit.xml",
        r#"<testsuite name="smoke" tests="2"><testcase name="a"/><testcase name="b"/></testsuite>"#,
    );
    let t = rollcall::ledger::statement::parse_ts(&format!("{}.000Z", now.trim_end_matches('Z'))).unwrap();
    let later = rollcall::ledger::statement::format_ts(t + chrono::Duration::minutes(1));
    ok_at(env, &later, &["evidence", "add", &req, &junit, "--kind", "test", "--as", "bob"]);
    req
}

/// A second machine of `founder`'s ledger, joined by the existing member `who` (their key copied over) at
/// `now`, from `bundle`.
fn machine(founder: &Env, who: &str, origin: &str, bundle: &str, now: &str) -> Env {
    let m = Env::new();
    std::fs::create_dir_all(m.home().join("keys")).unwrap();
    std::fs::copy(founder.home().join(format!("keys/{who}.key")), m.home().join(format!("keys/{who}.key"))).unwrap();
    ok_at(&m, now, &["init", "--join", bundle, "--as", who, "--origin", origin]);
    m
}

/// Exports `env`'s ledger as `who` (exports are audited reads) to `name` in its home.
fn export_at(env: &Env, now: &str, name: &str, who: &str) -> String {
    let p = env.home().join(name);
    ok_at(env, now, &["export", "--out", p.to_str().unwrap(), "--as", who]);
    p.to_string_lossy().into_owned()
}

/// What `verify --json` lists as not counting: (kind, reason).
fn does_not_count(v: &Value) -> Vec<(&str, &str)> {
    v["does_not_count"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["kind"].as_str().unwrap(), d["reason"].as_str().unwrap_or("")))
        .collect()
}

/// The decision of `who` in a gate report.
fn decision<'a>(g: &'a Value, who: &str) -> &'a Value {
    g["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"].as_str().unwrap_or("").starts_with(who))
        .unwrap_or_else(|| panic!("no decision by {who}: {g}"))
}

/// carol approves on her own machine while alice, on the founder's, revokes her: neither had seen the other.
/// After the exchange, in `order`, the approval counts on neither machine.
fn concurrent_approval_and_revocation(founder_imports_first: bool) {
    let f = team_at(Some(T0));
    let req = request_at(&f, "2026-11-02T09:00:00Z");
    let b = export_at(&f, "2026-11-02T09:01:00Z", "f1.rollcall", "alice");
    let m = machine(&f, "carol", "test.example/carol", &b, "2026-11-02T09:02:00Z");
    ok_at(&m, "2026-11-02T10:00:00Z", &["approve", &req, "--comment", "looks right", "--as", "carol"]);
    assert_eq!(gate_at(&m, "2026-11-02T10:01:00Z", &req).0, 0, "counts where it was made, for now");
    ok_at(&f, "2026-11-02T10:00:30Z", &["revoke", "carol", "--reason", "left the team", "--as", "alice"]);
    let from_m = export_at(&m, "2026-11-02T11:00:00Z", "m.rollcall", "carol");
    let from_f = export_at(&f, "2026-11-02T11:00:00Z", "f2.rollcall", "alice");
    if founder_imports_first {
        ok_at(&f, "2026-11-02T12:00:00Z", &["import", &from_m]);
        ok_at(&m, "2026-11-02T12:00:00Z", &["import", &from_f]);
    } else {
        ok_at(&m, "2026-11-02T12:00:00Z", &["import", &from_f]);
        ok_at(&f, "2026-11-02T12:00:00Z", &["import", &from_m]);
    }
    for env in [&f, &m] {
        let (code, g) = gate_at(env, "2026-11-02T13:00:00Z", &req);
        assert_eq!(code, 1, "{g}");
        assert_eq!(g["approvals"]["have"], 0, "{g}");
        // `show` says why, on the approval's line of the timeline.
        let shown = ok_at(env, "2026-11-02T13:00:00Z", &["show", &req]);
        let line = shown.lines().find(|l| l.contains("approval.granted")).expect("the approval is shown");
        assert!(line.contains("concurrently with carol's revocation at test.example/laptop #"), "{shown}");
        // Intact, and listed as not counting, with the reason.
        let (code, v) = verify_json(env);
        assert_eq!(code, 0, "{v}");
        assert!(v["does_not_count"].to_string().contains("concurrently with carol's revocation"), "{v}");
    }
}

#[test]
fn concurrent_approval_and_revocation_count_on_neither_machine_founder_first() {
    concurrent_approval_and_revocation(true);
}

#[test]
fn concurrent_approval_and_revocation_count_on_neither_machine_peer_first() {
    concurrent_approval_and_revocation(false);
}

#[test]
fn an_approval_the_revoker_had_seen_keeps_counting() {
    let f = team_at(Some(T0));
    let req = request_at(&f, "2026-11-02T09:00:00Z");
    let b = export_at(&f, "2026-11-02T09:01:00Z", "f1.rollcall", "alice");
    let m = machine(&f, "carol", "test.example/carol", &b, "2026-11-02T09:02:00Z");
    ok_at(&m, "2026-11-02T10:00:00Z", &["approve", &req, "--comment", "looks right", "--as", "carol"]);
    ok_at(&f, "2026-11-02T10:30:00Z", &["import", &export_at(&m, "2026-11-02T10:20:00Z", "m.rollcall", "carol")]);
    // alice revokes carol having seen her approval: the approval is in the revocation's causal past.
    ok_at(&f, "2026-11-02T11:00:00Z", &["revoke", "carol", "--reason", "left the team", "--as", "alice"]);
    ok_at(&m, "2026-11-02T12:00:00Z", &["import", &export_at(&f, "2026-11-02T11:30:00Z", "f2.rollcall", "alice")]);
    for env in [&f, &m] {
        let (code, g) = gate_at(env, "2026-11-02T13:00:00Z", &req);
        assert_eq!(code, 0, "{g}");
        assert_eq!(decision(&g, "carol")["counts"], true);
    }
    // New decisions by carol no longer count anywhere: the CLI refuses them.
    let (code, _, err) = run_at(&m, "2026-11-02T13:00:00Z", &["note", "still here", "--as", "carol"]);
    assert_eq!(code, 1, "{err}");
}

/// The headline attack: a revoked release-manager backdates her clock and joins again, or joins from a
/// copy of the ledger from before her revocation, then files and force-runs a revert by the emergency path.
#[test]
fn a_revoked_member_cannot_backdate_her_way_back_in() {
    let f = team_at(Some(T0));
    let old = export_at(&f, "2026-11-02T08:00:00Z", "old.rollcall", "alice");
    ok_at(&f, "2026-11-05T09:00:00Z", &["revoke", "erin", "--reason", "left the company", "--as", "alice"]);
    let shared = export_at(&f, "2026-11-05T09:05:00Z", "shared.rollcall", "alice");

    // Joining from the current ledger with the clock set before the revocation: she is revoked in what
    // she joins from, so nothing is created.
    let mallory = Env::new();
    std::fs::create_dir_all(mallory.home().join("keys")).unwrap();
    std::fs::copy(f.home().join("keys/erin.key"), mallory.home().join("keys/erin.key")).unwrap();
    let (code, _, err) = run_at(
        &mallory,
        "2026-11-03T00:00:00Z",
        &["init", "--join", &shared, "--as", "erin", "--origin", "evil.example/m"],
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("forward-dated"), "her clock is behind what she joins from: {err}");
    assert!(!mallory.ledger().exists());

    // Joining from the old copy works (she was enrolled there) and she backdates everything; the entries
    // are concurrent with her revocation, so none of them counts.
    let at = "2026-11-03T00:00:00Z";
    ok_at(&mallory, at, &["init", "--join", &old, "--as", "erin", "--origin", "evil.example/m"]);
    let args = common::request_args("erin", "Quietly revert the audit logging", "low");
    let req = json_at(&mallory, at, &args)["request"].as_str().unwrap().to_string();
    ok_at(&mallory, at, &["emergency", &req, "--reason", "trust me", "--as", "erin"]);
    assert_eq!(gate_at(&mallory, at, &req).0, 0, "on her own machine the emergency lets it run");
    let evil = export_at(&mallory, at, "evil.rollcall", "erin");

    ok_at(&f, "2026-11-06T10:00:00Z", &["import", &evil]);
    let (code, g) = gate_at(&f, "2026-11-06T10:01:00Z", &req);
    assert_eq!(code, 1, "{g}");
    let shown = ok_at(&f, "2026-11-06T10:01:00Z", &["show", &req]);
    assert!(shown.contains("concurrently with erin's revocation"), "{shown}");
    let (code, v) = verify_json(&f);
    assert_eq!(code, 0, "{v}");
    let dnc = v["does_not_count"].to_string();
    assert!(dnc.contains("emergency.invoked") && dnc.contains("concurrently with erin's revocation"), "{v}");

    // An entry stamped far in the future (to push her log behind everyone's, or an approval that never
    // expires) is refused on import, naming the line, and changes nothing.
    ok_at(&mallory, "9999-01-01T00:00:00Z", &["note", "from the future", "--as", "erin"]);
    let future = export_at(&mallory, "9999-01-01T00:00:01Z", "future.rollcall", "erin");
    let (before, dump) = (f.fingerprint(), f.dump());
    let (code, _, err) = run_at(&f, "2026-11-06T11:00:00Z", &["import", &future]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("line ") && err.contains("9999-01-01") && err.contains("forward-dated"), "{err}");
    assert_eq!(errors(&err), 1, "{err}");
    assert_eq!(f.fingerprint(), before);
    assert!(f.dump() == dump);
}

/// A revoked admin enrolls a fresh admin key on a machine that had not seen her revocation, and that key
/// revokes the founder: both governance entries are void (the first is concurrent with her revocation, so
/// the second is signed by a key that was never enrolled). The founder stays an admin.
#[test]
fn a_revoked_admin_cannot_enroll_a_new_admin_who_revokes_the_founder() {
    let f = team_at(Some(T0));
    let zed = f.json(&["key", "new", "zed"])["public_key"].as_str().unwrap().to_string();
    ok_at(&f, "2026-11-01T01:00:00Z", &["enroll", "zed", "--pubkey", &zed, "--role", "admin", "--as", "alice"]);
    let old = export_at(&f, "2026-11-01T02:00:00Z", "old.rollcall", "alice");
    ok_at(&f, "2026-11-03T00:00:00Z", &["revoke", "zed", "--reason", "compromised", "--as", "alice"]);

    let z = machine(&f, "zed", "evil.example/z", &old, "2026-11-02T00:00:00Z");
    let nova = z.json(&["key", "new", "nova"])["public_key"].as_str().unwrap().to_string();
    ok_at(&z, "2026-11-02T00:01:00Z", &["enroll", "nova", "--pubkey", &nova, "--role", "admin", "--as", "zed"]);
    ok_at(&z, "2026-11-02T00:02:00Z", &["revoke", "alice", "--reason", "coup", "--as", "nova"]);
    ok_at(&f, "2026-11-04T00:00:00Z", &["import", &export_at(&z, "2026-11-02T00:03:00Z", "z.rollcall", "zed")]);

    let members = json_at(&f, "2026-11-04T00:01:00Z", &["members"]);
    let alice = members["members"].as_array().unwrap().iter().find(|m| m["name"] == "alice").unwrap();
    assert!(alice["revoked"].is_null(), "{members}");
    assert!(members["members"].as_array().unwrap().iter().all(|m| m["name"] != "nova"), "{members}");
    // alice still governs.
    ok_at(&f, "2026-11-04T00:02:00Z", &["note", "still in charge", "--as", "alice"]);
    let (code, v) = verify_json(&f);
    assert_eq!(code, 0, "{v}");
    let dnc = v["does_not_count"].to_string();
    assert!(dnc.contains("concurrently with zed's revocation"), "{v}");
    assert!(dnc.contains("not enrolled"), "nova's revocation of alice does not count: {v}");
}

/// An admin's enrollment of a second admin key signed in a sandbox ledger, copied into a member's log of
/// the production ledger: the signature is bound to the sandbox's ledger id and never verifies here.
#[test]
fn an_entry_signed_for_another_ledger_never_verifies_here() {
    let prod = Env::with_ledger();
    let sandbox = Env::new();
    std::fs::create_dir_all(sandbox.home().join("keys")).unwrap();
    std::fs::copy(prod.home().join("keys/alice.key"), sandbox.home().join("keys/alice.key")).unwrap();
    sandbox.ok(&["init", "--admin", "alice", "--origin", "sandbox.example/s"]);
    let k = sandbox.json(&["key", "new", "mallory"])["public_key"].as_str().unwrap().to_string();
    sandbox.ok(&["enroll", "mallory", "--pubkey", &k, "--role", "admin", "--as", "alice"]);
    let c = rusqlite::Connection::open(sandbox.ledger()).unwrap();
    let (bytes, sig): (Vec<u8>, Vec<u8>) = c
        .query_row("SELECT statement, signature FROM entries WHERE kind = 'identity.enrolled'", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    drop(c);
    let replayed = SignedStatement::from_parts(bytes, &sig).unwrap();
    // A member with the production origin key appends it through the library (no workflow checks).
    let mut l = Ledger::open(&prod.ledger()).unwrap();
    l.append(std::slice::from_ref(&replayed), None, &prod.signing_key("origin"), i64::MAX).unwrap();
    drop(l);
    let (code, v) = verify_json(&prod);
    assert_eq!(code, 1, "{v}");
    assert!(v["integrity"]["failure"]["problem"].as_str().unwrap().contains("in this ledger"), "{v}");
    // The roster never takes it: mallory is no member, and cannot act as an admin.
    let members = prod.json(&["members"]);
    assert!(members["members"].as_array().unwrap().iter().all(|m| m["name"] != "mallory"), "{members}");
    std::fs::copy(sandbox.home().join("keys/mallory.key"), prod.home().join("keys/mallory.key")).unwrap();
    let err = prod.fails(&["note", "I am admin now", "--as", "mallory"], 1);
    assert!(err.contains("not enrolled"), "{err}");
}

/// An approval row added with plain INSERTs (no trigger touched): carol's key as actor, 64 random bytes
/// as signature, no checkpoint. `gate` and `show` check every row they rely on and name it.
#[test]
fn a_forged_row_never_counts_and_the_command_names_it() {
    let env = team_at(Some(T0));
    let req = request_at(&env, "2026-11-02T09:00:00Z");
    let show = json_at(&env, "2026-11-02T09:01:00Z", &["show", &req]);
    let carol = env.public_key("carol");
    let body = serde_json::json!({
        "request": req, "version": show["version"], "revert_digest": show["revert_digest"], "evidence": [],
        "policy": show["evaluation"]["policy"], "decision": "approve", "comment": "forged", "flags": []
    });
    let mut st =
        Statement::new("approval.granted", &PublicKey::parse(&carol).unwrap(), body, &[Hash::from_hex(&req).unwrap()]);
    st.ts = "2026-11-02T09:30:00.000Z".into();
    let id = env.forge_row(&st, 1_793_000_000_000);
    for args in [vec!["gate", req.as_str()], vec!["show", req.as_str()]] {
        let (code, _, err) = run_at(&env, "2026-11-02T10:00:00Z", &args);
        assert_eq!(code, 1, "{args:?}: {err}");
        assert!(err.contains(&id.to_hex()[..16]) && err.contains("fails its check"), "{err}");
        assert_eq!(errors(&err), 1, "{err}");
    }
    let (code, v) = verify_json(&env);
    assert_eq!(code, 1, "{v}");
}

/// A mirror cut back (leaves, tree hashes and checkpoints deleted) while this ledger still holds its own
/// cosignature of the longer log, and its own merge marker naming it: `verify` fails with SECURITY and
/// every command that decides refuses.
#[test]
fn a_mirror_cut_back_is_a_security_failure() {
    let f = team_at(Some(T0));
    let b = export_at(&f, "2026-11-01T01:00:00Z", "f.rollcall", "alice");
    let m = machine(&f, "carol", "test.example/carol", &b, "2026-11-01T02:00:00Z");
    for i in 0..3 {
        ok_at(&m, "2026-11-01T03:00:00Z", &["note", &format!("note {i}"), "--as", "carol"]);
    }
    ok_at(&f, "2026-11-01T04:00:00Z", &["import", &export_at(&m, "2026-11-01T03:30:00Z", "m.rollcall", "carol")]);
    ok_at(&f, "2026-11-01T05:00:00Z", &["note", "seen carol's notes", "--as", "alice"]);
    assert_eq!(verify_json(&f).0, 0);
    let c = f.tamper();
    let o: i64 = c.query_row("SELECT id FROM origins WHERE name = 'test.example/carol'", [], |r| r.get(0)).unwrap();
    c.execute("DELETE FROM leaves WHERE origin = ?1 AND idx >= 1", [o]).unwrap();
    c.execute("DELETE FROM checkpoints WHERE origin = ?1 AND size > 1", [o]).unwrap();
    c.execute("DELETE FROM tree_hashes WHERE origin = ?1 AND idx >= 1", [o]).unwrap();
    drop(c);
    let (code, v) = verify_json(&f);
    assert_eq!(code, 1, "{v}");
    let p = v["integrity"]["failure"]["problem"].as_str().unwrap();
    assert!(p.contains("SECURITY") && p.contains("entries were removed"), "{v}");
    let err = f.fails(&["members"], 1);
    assert!(err.contains("SECURITY"), "{err}");
    // An import into the cut-back file is refused as damage to this ledger (not blamed on the bundle) and
    // changes nothing.
    let err = f.refuses(&["import", &b]);
    assert!(err.contains("ledger is damaged") && err.contains("SECURITY"), "{err}");
}

/// A leaf appended to the own log with no checkpoint: `verify` fails, and no append signs a checkpoint
/// over it.
#[test]
fn an_unsigned_own_log_tail_is_refused() {
    let env = Env::with_ledger();
    env.notes(2);
    let alice = env.signing_key("alice");
    let l = Ledger::open(&env.ledger()).unwrap();
    let note = Statement::new("note", &PublicKey::from_signing(&alice), serde_json::json!({"text": "slipped in"}), &[])
        .sign(&alice, &l.domain())
        .unwrap();
    let head = note.check(&l.domain()).unwrap();
    drop(l);
    env.push_leaf(&note, &head, false);
    let (code, v) = verify_json(&env);
    assert_eq!(code, 1, "{v}");
    assert!(
        v["integrity"]["failure"]["problem"].as_str().unwrap().contains("after the latest signed checkpoint"),
        "{v}"
    );
    let before = env.fingerprint();
    let err = env.fails(&["note", "next", "--as", "alice"], 1);
    assert!(err.contains("refusing to sign over entries this origin key did not write"), "{err}");
    assert_eq!(env.fingerprint(), before);
}

/// A peer that rewrites its own log so an entry is stamped before the one preceding it (to slip under a
/// revocation or an expiry): the importer refuses the bundle at that line.
#[test]
fn a_backdated_bundle_is_refused() {
    let f = team_at(Some(T0));
    let b = export_at(&f, "2026-11-01T01:00:00Z", "f.rollcall", "alice");
    let m = machine(&f, "carol", "test.example/carol", &b, "2026-11-02T00:00:00Z");
    // Built with the library, holding the peer's own keys: a note stamped a day before the join.
    let carol = m.signing_key("carol");
    let l = Ledger::open(&m.ledger()).unwrap();
    let mut st = Statement::new("note", &PublicKey::from_signing(&carol), serde_json::json!({"text": "earlier"}), &[]);
    st.ts = "2026-11-01T00:30:00.000Z".into();
    let note = st.sign(&carol, &l.domain()).unwrap();
    let head = note.check(&l.domain()).unwrap();
    drop(l);
    m.push_leaf(&note, &head, true);
    let bundle = export_at(&m, "2026-11-02T00:10:00Z", "m.rollcall", "carol");
    let (before, dump) = (f.fingerprint(), f.dump());
    let (code, _, err) = run_at(&f, "2026-11-02T01:00:00Z", &["import", &bundle]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("line ") && err.contains("earlier than the entry before it") && err.contains("backdated"),
        "{err}"
    );
    assert_eq!(f.fingerprint(), before);
    assert!(f.dump() == dump);
    // And `verify` on the peer's own file names the entry.
    let (code, v) = verify_json(&m);
    assert_eq!(code, 1, "{v}");
    assert!(v["integrity"]["failure"]["problem"].as_str().unwrap().contains("time never goes backwards"), "{v}");
}

/// A row's position in the union of logs is its leaf's effective time, which in a log that verifies is the
/// statement's own (signed) time. One moved behind the ledger's back — an approval's effective time set a
/// day earlier or later, so that it would sort before or after another log's revocation — is named by
/// `gate` and `show` before they rely on it, and the file is left as it was.
#[test]
fn a_row_whose_stored_effective_time_was_changed_never_counts() {
    for delta in [-86_400_000i64, 86_400_000] {
        let env = team_at(Some(T0));
        let req = request_at(&env, "2026-11-02T09:00:00Z");
        ok_at(&env, "2026-11-02T10:00:00Z", &["approve", &req, "--comment", "looks right", "--as", "carol"]);
        let c = env.tamper();
        let (idx, id): (i64, Vec<u8>) = c
            .query_row(
                "SELECT l.idx, l.entry_id FROM leaves l JOIN entries e ON e.id = l.entry_id
                  WHERE e.kind = 'approval.granted'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        c.execute("UPDATE leaves SET ets = ets + ?1 WHERE idx = ?2", rusqlite::params![delta, idx]).unwrap();
        drop(c);
        let before = std::fs::read(env.ledger()).unwrap();
        for args in [vec!["gate", req.as_str()], vec!["show", req.as_str()]] {
            let (code, _, err) = run_at(&env, "2026-11-02T10:05:00Z", &args);
            assert_eq!(code, 1, "{delta} {args:?}: {err}");
            let named = &Hash::from_slice(&id).unwrap().to_hex()[..16];
            assert!(err.contains(named) && err.contains("stored effective time is not its statement's time"), "{err}");
            assert_eq!(errors(&err), 1, "{err}");
        }
        assert_eq!(std::fs::read(env.ledger()).unwrap(), before, "{delta}: the file changed");
        assert_eq!(verify_json(&env).0, 1);
    }
}

/// A week after the reverts of the tests below ran.
const LATER: &str = "2026-11-09T09:00:00Z";

/// bob's request (tested at 09:01), a copy of the founder's ledger taken at 09:02 before anyone decided, then
/// carol's approval at 10:00 and erin's execution at 11:00: (founder, request, the copy).
fn ran_after_a_copy_was_taken() -> (Env, String, String) {
    let f = team_at(Some(T0));
    let req = request_at(&f, "2026-11-02T09:00:00Z");
    let early = export_at(&f, "2026-11-02T09:02:00Z", "early.rollcall", "alice");
    ok_at(&f, "2026-11-02T10:00:00Z", &["approve", &req, "--comment", "graphs confirm it", "--as", "carol"]);
    ok_at(&f, "2026-11-02T11:00:00Z", &["execute", &req, "--outcome", "succeeded", "--as", "erin"]);
    (f, req, early)
}

/// The revert of `req` still counts a week later: `show` says executed, `verify` passes and does not list
/// the execution among what does not count.
fn still_counts(f: &Env, req: &str) {
    let shown = json_at(f, LATER, &["show", req]);
    assert_eq!(shown["status"], "executed", "{shown}");
    let (code, v) = verify_json(f);
    assert_eq!(code, 0, "{v}");
    let discounted: Vec<&str> =
        v["does_not_count"].as_array().unwrap().iter().map(|d| d["kind"].as_str().unwrap()).collect();
    assert!(!discounted.contains(&"rollback.executed"), "{v}");
}

/// carol approves and erin runs the revert on the founder's machine. A week later frank (an approver), on a
/// machine of his own joined from a copy taken before anyone decided, signs a rejection stamped just after
/// the request, before carol's approval: valid times (nothing his log had seen is later), but his machine
/// had seen neither the approval nor the execution, and theirs had not seen his rejection. The execution
/// is judged by what its log had seen when it ran: it still counts, and the rejection is listed.
#[test]
fn a_backdated_rejection_does_not_undo_a_revert_that_ran() {
    let (f, req, early) = ran_after_a_copy_was_taken();
    assert_eq!(json_at(&f, LATER, &["show", &req])["status"], "executed");
    let m = machine(&f, "frank", "test.example/frank-2", &early, "2026-11-02T09:03:00Z");
    ok_at(&m, "2026-11-02T09:04:00Z", &["reject", &req, "--comment", "too risky", "--as", "frank"]);
    ok_at(&f, LATER, &["import", &export_at(&m, "2026-11-02T09:05:00Z", "frank.rollcall", "frank")]);
    still_counts(&f, &req);
}

/// The one exception to "nothing signed after a revert ran changes whether it counted" (FORMAT.md §1.2, a
/// decision): alice, an admin, on a machine joined from the copy taken before anyone decided, revokes carol
/// a week after the revert ran. Her log had seen neither carol's approval nor the execution: the revocation
/// is concurrent with the approval, which stops counting ("revocation wins", §7.3), and so does the
/// execution that relied on it; `verify` stays intact and lists both, the approval naming the revocation,
/// and `show` calls the request pending.
#[test]
fn a_late_concurrent_revocation_voids_the_approval_a_revert_ran_on() {
    let (f, req, early) = ran_after_a_copy_was_taken();
    let m = machine(&f, "alice", "test.example/alice-2", &early, "2026-11-02T09:03:00Z");
    ok_at(&m, "2026-11-09T08:00:00Z", &["revoke", "carol", "--reason", "key lost", "--as", "alice"]);
    ok_at(&f, LATER, &["import", &export_at(&m, "2026-11-09T08:01:00Z", "alice.rollcall", "alice")]);
    let (code, v) = verify_json(&f);
    assert_eq!(code, 0, "{v}");
    let listed = does_not_count(&v);
    assert!(
        listed.iter().any(|(k, r)| *k == "approval.granted" && r.contains("concurrently with carol's revocation")),
        "{v}"
    );
    assert!(listed.iter().any(|(k, _)| *k == "rollback.executed"), "{v}");
    // Without the approval the request is pending again, its revert shown and not counted.
    assert_eq!(json_at(&f, LATER, &["show", &req])["status"], "pending");
}

/// carol's approval, the one the revert ran on, copied byte for byte into the log of a machine frank joined
/// from an old copy, under a name whose tag sorts before the founder's: the approval's first position is
/// now on a log the executing machine never saw. Nothing in a statement names its log, so no import can
/// tell the copy from the original: both are taken, in either order (refusing the later arrival would
/// make the verdict depend on which came first, and split machines for good). Each ledger holds the same
/// evidence of kind `copy`, which fails `verify` and the report as a fork does, naming both leaves; the
/// revert is still judged with the approval where its log had seen it. Once an admin acknowledges the
/// evidence (on one machine, the acknowledgment carried to the other by an import), both verify again.
#[test]
fn an_approval_copied_into_another_log_is_evidence_in_either_order() {
    use sha2::Digest;
    let tag = |name: &str| u32::from_be_bytes(sha2::Sha256::digest(name.as_bytes())[..4].try_into().unwrap());
    let (f, req, early) = ran_after_a_copy_was_taken();
    let approval = json_at(&f, LATER, &["show", &req])["decisions"][0]["entry_id"].as_str().unwrap().to_string();
    let first = tag("test.example/laptop");
    let name = (0..).map(|i| format!("test.example/frank-{i}")).find(|n| tag(n) < first).unwrap();
    let m = machine(&f, "frank", &name, &early, "2026-11-02T09:03:00Z");
    let copy =
        Ledger::open_read_only(&f.ledger()).unwrap().entry(&Hash::from_hex(&approval).unwrap()).unwrap().unwrap();
    let mut l = Ledger::open(&m.ledger()).unwrap();
    l.append(std::slice::from_ref(&copy.entry), None, &m.signing_key("origin"), i64::MAX).unwrap();
    drop(l);
    let copied = export_at(&m, "2026-11-02T10:05:00Z", "frank.rollcall", "frank");
    // The original first, then the copy; and on a machine joined from the copy, the original second.
    // Each import says so (the copy, or the original arriving second, is the leaf it counts).
    let said = ok_at(&f, LATER, &["import", &copied]);
    assert!(said.contains("SECURITY: 1 of the leaves added holds an entry another leaf already held"), "{said}");
    let g = machine(&f, "erin", "test.example/erin-2", &copied, "2026-11-02T10:06:00Z");
    let all = export_at(&f, LATER, "all.rollcall", "alice");
    assert_eq!(json_at(&g, LATER, &["import", &all])["copies"], 1);
    let mut found = Vec::new();
    for (env, who) in [(&f, "alice"), (&g, "erin")] {
        let held = Ledger::open_read_only(&env.ledger()).unwrap().entry(&copy.entry.id).unwrap().unwrap();
        assert_ne!(held.pos, copy.pos, "the approval's first position moved to frank's log");
        assert_eq!(json_at(env, LATER, &["show", &req])["status"], "executed");
        let (code, v) = verify_json(env);
        assert_eq!(code, 1, "{v}");
        let p = v["integrity"]["failure"]["problem"].as_str().unwrap().to_string();
        let leaves = format!("is held by 2 leaves (leaf 1 of {name}, leaf ");
        assert!(p.starts_with(&format!("SECURITY: 1 equivocation recorded (copy: entry {approval} {leaves}")), "{p}");
        assert!(p.contains("of test.example/laptop)"), "{p}");
        assert_eq!(v["integrity"]["failure"]["entry_id"].as_str(), Some(approval.as_str()), "{v}");
        assert_eq!(v["equivocations"].as_array().unwrap().len(), 1, "{v}");
        let e = &v["equivocations"][0];
        assert_eq!((e["kind"].as_str(), e["origin"].as_str()), (Some("copy"), Some("test.example/laptop")), "{v}");
        // The report's verdict says so too (and it exits 1).
        let (code, out, err) = run_at(env, LATER, &["report", "--format", "json", "--as", who]);
        assert_eq!(code, 1, "{err}");
        let header = serde_json::from_str::<Value>(&out).expect("the JSON report")["header"].to_string();
        assert!(header.contains(&format!("SECURITY: copy of origin test.example/laptop found: entry {approval} ")));
        found.push((p, e["evidence"].as_str().unwrap().to_string()));
    }
    assert_eq!(found[0], found[1], "the same failure and evidence whichever arrived first");
    let finding = "frank copied carol's approval into his log; his machine was reimaged";
    ok_at(&f, LATER, &["acknowledge", &found[0].1[..16], "--finding", finding, "--as", "alice"]);
    ok_at(&g, LATER, &["import", &export_at(&f, LATER, "acked.rollcall", "alice")]);
    for env in [&f, &g] {
        let (code, v) = verify_json(env);
        assert_eq!(code, 0, "{v}");
        let a = &v["acknowledged"][0];
        assert_eq!((a["kind"].as_str(), a["finding"].as_str()), (Some("copy"), Some(finding)), "{v}");
        assert!(ok_at(env, LATER, &["verify"]).contains("acknowledged: copy of origin test.example/laptop"));
    }
    let (code, _, err) = run_at(&f, LATER, &["report", "--format", "json", "--as", "alice"]);
    assert_eq!(code, 0, "the report's verdict is intact once the copy is acknowledged: {err}");
}

/// bob amends his request (a revert command one revision further back), carol approves the amended
/// version and erin runs it. A week later bob, on a machine joined from a copy taken before his amendment,
/// signs another amendment of the original version, stamped before the real one: position order would
/// take his backdated amendment first, the real one would "amend a version no longer current" and carol's
/// approval "decide on a version this request never had", and `show` would display a record that never
/// ran. An execution fixes the record it ran (FORMAT.md §1.2): an amendment its log had not seen, made
/// concurrently, does not count, whatever its time; the record shown is the one that ran.
#[test]
fn a_backdated_amendment_does_not_replace_the_record_that_ran() {
    let f = team_at(Some(T0));
    let req = request_at(&f, "2026-11-02T09:00:00Z");
    let early = export_at(&f, "2026-11-02T09:02:00Z", "early.rollcall", "alice");
    let amend = |env: &Env, now: &str, cmd: &str, to: &str| {
        let args = ["request", "amend", &req, "--reason", "one revision further back", "--revert-cmd", cmd];
        ok_at(env, now, &[&args[..], &["--to", to, "--as", "bob"]].concat());
    };
    amend(&f, "2026-11-02T09:30:00Z", "helm rollback payments 40", "40");
    ok_at(&f, "2026-11-02T10:00:00Z", &["approve", &req, "--comment", "graphs confirm it", "--as", "carol"]);
    ok_at(&f, "2026-11-02T11:00:00Z", &["execute", &req, "--outcome", "succeeded", "--as", "erin"]);
    let ran = json_at(&f, LATER, &["show", &req]);
    assert_eq!(ran["status"], "executed", "{ran}");

    let m = machine(&f, "bob", "test.example/bob-2", &early, "2026-11-02T09:03:00Z");
    amend(&m, "2026-11-02T09:04:00Z", "helm rollback payments 12", "12");
    ok_at(&f, LATER, &["import", &export_at(&m, "2026-11-02T09:05:00Z", "bob.rollcall", "bob")]);

    let shown = json_at(&f, LATER, &["show", &req]);
    assert_eq!(shown["status"], "executed", "{shown}");
    assert_eq!(shown["record"], ran["record"], "the record shown is the one that ran");
    let (code, v) = verify_json(&f);
    assert_eq!(code, 0, "{v}");
    let listed = does_not_count(&v);
    assert_eq!(listed.len(), 1, "only the backdated amendment: {v}");
    assert_eq!(listed[0].0, "rollback.amended", "{v}");
    assert!(listed[0].1.contains("signed concurrently with the execution"), "{v}");
    still_counts(&f, &req);
}

/// Two machines each run the revert as their own log holds it: erin, on a machine joined from a copy taken
/// after carol approved the request, runs it at 09:40; on the founder's machine bob has amended it at 09:30
/// (a revision further back), carol approves the amendment and erin runs that at 11:00. Both reverts
/// happened and both count, so the record shown can be one of them only: the request is a fork. `show`
/// names both runs and the version each ran, a review is owed (review-due, listed by `obligations`, a close
/// refused and the ledger unchanged by it), and carol's review, which had seen both, settles it.
/// The fork of the test below, before the founder's machine imports erin's stale run: (founder, request,
/// erin's second machine).
fn two_runs_of_two_versions() -> (Env, String, Env) {
    let f = team_at(Some(T0));
    let req = request_at(&f, "2026-11-02T09:00:00Z");
    let approve = |now: &str| ok_at(&f, now, &["approve", &req, "--comment", "graphs confirm it", "--as", "carol"]);
    approve("2026-11-02T09:10:00Z");
    let approved = export_at(&f, "2026-11-02T09:12:00Z", "approved.rollcall", "alice");
    let m = machine(&f, "erin", "test.example/erin-2", &approved, "2026-11-02T09:13:00Z");
    ok_at(&m, "2026-11-02T09:40:00Z", &["execute", &req, "--outcome", "succeeded", "--as", "erin"]);
    let amend = ["request", "amend", &req, "--reason", "one revision further back", "--revert-cmd"];
    ok_at(
        &f,
        "2026-11-02T09:30:00Z",
        &[&amend[..], &["helm rollback payments 40", "--to", "40", "--as", "bob"]].concat(),
    );
    approve("2026-11-02T10:00:00Z");
    ok_at(&f, "2026-11-02T11:00:00Z", &["execute", &req, "--outcome", "succeeded", "--as", "erin"]);
    (f, req, m)
}

/// carol's post-incident review of `req` on `env` at `now`: its entry id.
fn carol_reviews(env: &Env, req: &str, now: &str, summary: &str) -> String {
    let args = ["review", req, "--summary", summary, "--kind", "post-incident", "--as", "carol"];
    json_at(env, now, &args)["entry_id"].as_str().expect("entry id").to_string()
}

#[test]
fn executions_of_different_versions_are_shown_as_a_fork_until_reviewed() {
    let (f, req, m) = two_runs_of_two_versions();
    let review = |now: &str, summary: &str| carol_reviews(&f, &req, now, summary);
    // A review of the run this machine had seen: it cannot have seen the other.
    review("2026-11-02T11:30:00Z", "the run went well");
    let amended = json_at(&f, "2026-11-02T11:31:00Z", &["show", &req])["version"].as_str().unwrap().to_string();
    ok_at(&f, LATER, &["import", &export_at(&m, "2026-11-02T09:45:00Z", "erin.rollcall", "erin")]);

    let shown = json_at(&f, LATER, &["show", &req]);
    assert_eq!(shown["status"], "review-due", "reviewed, but not the fork: {shown}");
    let runs: Vec<(&str, bool, &str)> = shown["fork"]["runs"]
        .as_array()
        .unwrap_or_else(|| panic!("no fork: {shown}"))
        .iter()
        .map(|r| (r["version"].as_str().unwrap(), r["shown"].as_bool().unwrap(), r["execution"].as_str().unwrap()))
        .collect();
    assert_eq!(runs.iter().map(|r| (r.0, r.1)).collect::<Vec<_>>(), [(req.as_str(), true), (amended.as_str(), false)]);
    // The amendment changed the revert command: the other run ran another operation.
    assert_eq!(shown["fork"]["runs"][1]["same_operation"], false, "{shown}");
    assert!(shown["fork"]["reviewed"].is_null(), "{shown}");
    let text = ok_at(&f, LATER, &["show", &req]);
    assert!(text.contains("SECURITY: the executions ran different versions of this request"), "{text}");
    assert!(runs.iter().all(|r| text.contains(&r.2[..12])), "both runs named: {text}");
    let owed = json_at(&f, LATER, &["obligations"]);
    assert_eq!(owed["obligations"][0]["kind"], "fork-review", "{owed}");
    let report = ok_at(&f, LATER, &["report", "--as", "alice"]);
    assert!(report.contains("its reverts ran different versions of the request (a fork"), "{report}");
    let csv = ok_at(&f, LATER, &["report", "--format", "csv", "--as", "alice"]);
    let (header, row) = csv.split_once("\r\n").unwrap();
    assert!(
        header.ends_with(",fork_unreviewed_since,runs_not_counted")
            && row.trim_end().ends_with(",2026-11-02T11:00:00Z,"),
        "{csv}"
    );

    // A bundle of the forked ledger, verified as an auditor would receive it, lists the fork.
    let bundle = export_at(&f, LATER, "forked.rollcall", "alice");
    let audited = json_at(&f, LATER, &["verify", "--bundle", &bundle]);
    let before = json_at(&f, LATER, &["verify"]);
    assert_eq!(audited["forks"], before["forks"], "{audited}");
    assert_eq!(before["forks"].as_array().map(Vec::len), Some(1), "{before}");
    let said = ok_at(&f, LATER, &["verify"]);
    assert!(said.contains("forks: 1 request whose executions ran different versions"), "{said}");
    assert!(said.contains(&format!("request {}: SECURITY: the executions ran", &req[..12])), "{said}");
    assert_eq!(
        (&before["forks"][0]["request"], &before["forks"][0]["reviewed"]),
        (&Value::from(req.as_str()), &Value::Null)
    );
    let close = ["close", &req, "--resolution", "made-permanent", "--comment", "done", "--as", "erin"];
    let (code, _, err) = run_at(&f, LATER, &close);
    assert_ne!(code, 0);
    assert!(err.contains("ran different versions of the request and no review has seen them all"), "{err}");
    assert_eq!(json_at(&f, LATER, &["verify"])["origins"], before["origins"], "the refused close left nothing");

    // The review is what carol's queue asks of her for this request.
    let ledger = Ledger::open_read_only(&f.ledger()).unwrap();
    let carol = PublicKey::parse(&f.public_key("carol")).unwrap();
    let id = Hash::from_hex(&req).unwrap();
    let later = chrono::DateTime::parse_from_rfc3339(LATER).unwrap().to_utc();
    let asked = rollcall::workflow::waiting::waiting_on(&ledger, &carol, later).unwrap();
    assert_eq!(asked.stands.get(&id), Some(&Stand::Waiting(Turn::Review)), "{:?}", asked.stands);
    drop(ledger);
    // The console: the request's detail names the fork and the overdue review; the integrity view lists it.
    // (220 × 60: wide enough for a fork's line.)
    let mut h = common::console(&f, "carol", 220, 60);
    h.press(KeyCode::Enter);
    let screen = h.render();
    assert!(screen.contains("SECURITY: the executions ran different versions of this request"), "{screen}");
    assert!(screen.contains("obligation: the executions ran different versions"), "{screen}");
    h.press(KeyCode::Esc);
    h.press(KeyCode::Char('4'));
    let screen = h.render();
    assert!(screen.contains("forks: 1 request whose executions ran different versions"), "{screen}");
    drop(h);
    let settled = review("2026-11-09T10:00:00Z", "both runs checked");
    let shown = json_at(&f, "2026-11-09T10:01:00Z", &["show", &req]);
    assert_eq!(shown["status"], "reviewed", "{shown}");
    assert_eq!(shown["fork"]["reviewed"], settled.as_str(), "{shown}");
    assert_eq!(shown["obligations"].as_array().map(Vec::len), Some(0), "{shown}");
    let (code, v) = verify_json(&f);
    assert_eq!(code, 0, "{v}");
    assert_eq!(
        (v["forks"].as_array().map(Vec::len), &v["forks"][0]["reviewed"]),
        (Some(1), &Value::from(settled)),
        "{v}"
    );
}

/// carol's review on the founder's machine, which had not seen erin's stale run, copied byte for byte into
/// the log of a machine frank joined after both runs (its tag sorting before the founder's, so the copy is
/// the review's first position, on a log that had seen both runs). What a review had seen is what every log
/// holding it had seen (FORMAT.md §1.2, *Forks*): the copy does not settle the fork. (By its first position
/// alone it did.)
#[test]
fn a_review_copied_into_a_log_that_had_seen_both_runs_does_not_settle_the_fork() {
    use sha2::Digest;
    let tag = |name: &str| u32::from_be_bytes(sha2::Sha256::digest(name.as_bytes())[..4].try_into().unwrap());
    let (f, req, m) = two_runs_of_two_versions();
    let after_runs = export_at(&f, "2026-11-02T11:05:00Z", "ran.rollcall", "alice");
    let review = carol_reviews(&f, &req, "2026-11-02T11:30:00Z", "the run went well");
    let stale = export_at(&m, "2026-11-02T09:45:00Z", "erin.rollcall", "erin");
    let first = tag("test.example/laptop");
    let name = (0..).map(|i| format!("test.example/frank-{i}")).find(|n| tag(n) < first).unwrap();
    let g = machine(&f, "frank", &name, &after_runs, "2026-11-02T11:06:00Z");
    ok_at(&g, "2026-11-02T11:07:00Z", &["import", &stale]);
    let copy = Ledger::open_read_only(&f.ledger()).unwrap().entry(&Hash::from_hex(&review).unwrap()).unwrap().unwrap();
    let mut l = Ledger::open(&g.ledger()).unwrap();
    l.append(std::slice::from_ref(&copy.entry), None, &g.signing_key("origin"), i64::MAX).unwrap();
    drop(l);
    ok_at(&f, LATER, &["import", &stale]);
    ok_at(&f, LATER, &["import", &export_at(&g, "2026-11-02T11:40:00Z", "frank.rollcall", "frank")]);
    let held = Ledger::open_read_only(&f.ledger()).unwrap().entry(&copy.entry.id).unwrap().unwrap();
    assert_ne!(held.pos, copy.pos, "the review's first position moved to frank's log");
    let shown = json_at(&f, LATER, &["show", &req]);
    assert_eq!(shown["status"], "review-due", "{shown}");
    assert!(shown["fork"]["reviewed"].is_null(), "{shown}");
    assert_eq!(json_at(&f, LATER, &["obligations"])["obligations"][0]["kind"], "fork-review");
    let (_, v) = verify_json(&f);
    assert!(v["forks"][0]["reviewed"].is_null(), "{v}");
}

/// `who`, on a machine joined at 09:03 from `early` (a copy taken before anyone decided), runs `args` (as
/// `who`) at 09:04; the founder's machine imports it a week later.
fn signed_stale_and_imported(f: &Env, early: &str, who: &str, args: &[&str]) {
    let m = machine(f, who, &format!("test.example/{who}-2"), early, "2026-11-02T09:03:00Z");
    ok_at(&m, "2026-11-02T09:04:00Z", &[args, &["--as", who]].concat());
    ok_at(f, LATER, &["import", &export_at(&m, "2026-11-02T09:05:00Z", &format!("{who}.rollcall"), who)]);
}

/// `verify` lists one entry as not counting, of `kind`, judged after the run that had not seen it.
fn only_judged_after_the_run(f: &Env, kind: &str) {
    let (_, v) = verify_json(f);
    let listed = does_not_count(&v);
    assert_eq!(listed.len(), 1, "{v}");
    assert_eq!(listed[0].0, kind, "{v}");
    assert!(listed[0].1.contains("which had not seen it, and judged after it"), "{v}");
}

/// The same with a withdrawal: bob, on a machine joined from the copy taken before anyone decided, withdraws
/// his request a week after the revert ran, stamped just after the copy. Position order would withdraw the
/// request before the approval and the execution; judged after the execution it ran without seeing, the
/// withdrawal does not count, and the request stays executed.
#[test]
fn a_backdated_withdrawal_does_not_undo_a_revert_that_ran() {
    let (f, req, early) = ran_after_a_copy_was_taken();
    signed_stale_and_imported(&f, &early, "bob", &["request", "withdraw", &req, "--reason", "not needed"]);
    still_counts(&f, &req);
    only_judged_after_the_run(&f, "rollback.withdrawn");
}

/// The same with an emergency: erin (on call), on a machine joined from the copy taken before anyone
/// decided, invokes the emergency path for the request a week after she ran its revert, stamped just after
/// the copy. Position order would put the request under an emergency before carol's approval (refusing it)
/// and owe a post-hoc review of a revert that ran on an approval; judged after the execution that had not
/// seen it, the emergency does not count, and no review is owed.
#[test]
fn a_backdated_emergency_does_not_change_the_revert_that_ran() {
    let (f, req, early) = ran_after_a_copy_was_taken();
    signed_stale_and_imported(&f, &early, "erin", &["emergency", &req, "--reason", "checkout down"]);
    still_counts(&f, &req);
    only_judged_after_the_run(&f, "emergency.invoked");
    assert!(json_at(&f, LATER, &["show", &req])["obligations"].as_array().is_some_and(|o| o.is_empty()));
}

/// A revoked admin revokes himself on a machine that had not seen his revocation, after approving there:
/// the second revocation adds to the first and never replaces it (before, the later one by position did,
/// so his approval, concurrent with the first, counted again). And a revoked key is never enrolled again.
#[test]
fn a_second_revocation_of_a_key_does_not_undo_the_first() {
    let f = team_at(Some(T0));
    let zed = f.json(&["key", "new", "zed"])["public_key"].as_str().unwrap().to_string();
    let enroll = ["enroll", "zed", "--pubkey", &zed, "--role", "admin", "--role", "approver", "--as", "alice"];
    ok_at(&f, "2026-11-01T01:00:00Z", &enroll);
    let req = request_at(&f, "2026-11-02T09:00:00Z");
    let old = export_at(&f, "2026-11-02T09:05:00Z", "old.rollcall", "alice");
    let z = machine(&f, "zed", "evil.example/z", &old, "2026-11-02T09:10:00Z");
    let alices = f.size();
    ok_at(&f, "2026-11-02T10:00:00Z", &["revoke", "zed", "--reason", "key compromised", "--as", "alice"]);
    ok_at(&z, "2026-11-02T10:30:00Z", &["approve", &req, "--comment", "fine", "--as", "zed"]);
    ok_at(&z, "2026-11-02T10:31:00Z", &["revoke", "zed", "--reason", "leaving", "--as", "zed"]);
    // zed can no longer sign the export's audited read on his machine (his binary could skip it): bob's
    // key, copied there, carries the bundle.
    std::fs::copy(f.home().join("keys/bob.key"), z.home().join("keys/bob.key")).unwrap();
    ok_at(&f, "2026-11-02T11:00:00Z", &["import", &export_at(&z, "2026-11-02T10:32:00Z", "z.rollcall", "bob")]);
    let (code, g) = gate_at(&f, "2026-11-02T11:01:00Z", &req);
    assert_eq!((code, &g["approvals"]["have"]), (1, &Value::from(0)), "{g}");
    let shown = ok_at(&f, "2026-11-02T11:01:00Z", &["show", &req]);
    let line = shown.lines().find(|l| l.contains("approval.granted")).expect("the approval is shown");
    assert!(line.contains("concurrently with zed's revocation at test.example/laptop #"), "{shown}");
    // `members` names the first revocation, alice's.
    let members = json_at(&f, "2026-11-02T11:02:00Z", &["members"]);
    let m = members["members"].as_array().unwrap().iter().find(|m| m["name"] == "zed").unwrap().clone();
    assert_eq!(m["revoked"].as_u64(), Some(alices), "{members}");
    assert_eq!(m["revoked_at"], format!("test.example/laptop #{alices}"), "{members}");
    let table = ok_at(&f, "2026-11-02T11:02:00Z", &["members"]);
    assert!(table.contains(&format!("revoked at test.example/laptop #{alices}")), "{table}");
    // Enrolling the revoked key again is refused, and nothing is written.
    let before = f.fingerprint();
    let again = ["enroll", "zed2", "--pubkey", &zed, "--role", "approver", "--as", "alice"];
    let (code, _, err) = run_at(&f, "2026-11-02T11:03:00Z", &again);
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("revoked") && err.contains("never enrolled again"), "{err}");
    assert_eq!(f.fingerprint(), before);
}

/// A policy adopted with `content` by alice at `now` (a file in `env`'s home).
fn adopt_at(env: &Env, now: &str, name: &str, content: &str) {
    let path = common::file(env, name, content);
    ok_at(env, now, &["policy", "adopt", &path, "--as", "alice"]);
}

/// The admins take the emergency path away from release managers; erin, working from a copy older than
/// that policy (an old bundle), files a request and breaks glass there. Before, the founder's `gate`
/// passed her request with no approval (the emergency waived them under the policy her log had seen); an
/// emergency now waives only what the policy the gate applies lets its signer waive (FORMAT.md §5).
#[test]
fn an_emergency_from_an_old_copy_waives_nothing_under_a_stricter_policy() {
    let f = team_at(Some(T0));
    let old = export_at(&f, "2026-11-02T08:00:00Z", "old.rollcall", "alice");
    adopt_at(
        &f,
        "2026-11-03T09:00:00Z",
        "p2.toml",
        "version = 1\n[emergency]\nmay_invoke = [\"admin\"]\nreview_within_hours = 48\n",
    );
    // On the founder's machine the CLI refuses her.
    let req0 = json_at(&f, "2026-11-04T09:00:00Z", &common::request_args("erin", "Revert", "low"))["request"]
        .as_str()
        .unwrap()
        .to_string();
    let (code, _, err) = run_at(&f, "2026-11-04T09:01:00Z", &["emergency", &req0, "--reason", "now", "--as", "erin"]);
    assert_ne!(code, 0, "{err}");
    // From the old copy she may, there.
    let m = machine(&f, "erin", "evil.example/m", &old, "2026-11-05T09:00:00Z");
    let args = common::request_args("erin", "Quietly revert the audit logging", "critical");
    let req = json_at(&m, "2026-11-05T09:01:00Z", &args)["request"].as_str().unwrap().to_string();
    ok_at(&m, "2026-11-05T09:02:00Z", &["emergency", &req, "--reason", "trust me", "--as", "erin"]);
    assert_eq!(gate_at(&m, "2026-11-05T09:03:00Z", &req).0, 0, "on her machine the emergency lets it run");
    ok_at(&f, "2026-11-05T10:00:00Z", &["import", &export_at(&m, "2026-11-05T09:04:00Z", "m.rollcall", "erin")]);
    let (code, g) = gate_at(&f, "2026-11-05T10:01:00Z", &req);
    assert_eq!(code, 1, "{g}");
    let checklist = g["checklist"].as_array().unwrap();
    assert!(checklist.iter().all(|i| i["waived"] == false), "{g}");
    assert!(checklist[0]["detail"].as_str().unwrap().contains("its emergency waives nothing: erin"), "{g}");
    // Its security flag says so too (it said "approvals and evidence were waived").
    let shown = json_at(&f, "2026-11-05T10:01:30Z", &["show", &req]);
    let flags = shown["assessment"]["flags"].as_array().unwrap();
    let bypass = flags.iter().find(|fl| fl["location"] == "emergency").unwrap_or_else(|| panic!("{shown}"));
    assert_eq!(bypass["id"], "GATE_BYPASS");
    assert!(bypass["explanation"].as_str().unwrap().contains("; it waives nothing: its signer may not"), "{bypass}");
    // The record is intact: what she did is on it, and lets nothing run; the request still takes decisions.
    let (code, v) = verify_json(&f);
    assert_eq!(code, 0, "{v}");
    ok_at(&f, "2026-11-05T10:02:00Z", &["reject", &req, "--comment", "not without approvals", "--as", "dave"]);
    let g = gate_at(&f, "2026-11-05T10:03:00Z", &req).1;
    let rejections = g["checklist"].as_array().unwrap().iter().find(|i| i["id"] == "rejections").unwrap().clone();
    assert_eq!(rejections["met"], false, "{g}");
}

/// A purge signed where an approval was not known does not make the approval fresh: bob attaches a finding
/// carol never sees and carol approves on her machine (stale); erin, on a machine that had the finding but
/// not the approval, purges it at a time between the two. Before, the purge, placed before the approval by
/// its time, made carol's approval count; only a purge the approver's log had seen excuses it now.
#[test]
fn a_purge_the_approver_had_not_seen_does_not_make_her_approval_fresh() {
    let f = team_at(Some(T0));
    let req = request_at(&f, "2026-11-02T09:00:00Z");
    let b1 = export_at(&f, "2026-11-02T09:02:00Z", "b1.rollcall", "alice");
    let c = machine(&f, "carol", "test.example/carol", &b1, "2026-11-02T09:03:00Z");
    let e = machine(&f, "erin", "evil.example/e", &b1, "2026-11-02T09:03:00Z");
    let finding = common::file(&f, "finding.txt", "DROP TABLE audit_log; -- the revert also runs this\n");
    let add = ["--json", "evidence", "add", &req, &finding, "--kind", "log", "--as", "bob"];
    let (code, out, err) = run_at(&f, "2026-11-02T10:00:00Z", &add);
    assert_eq!(code, 0, "{err}");
    let ev2 = serde_json::from_str::<Value>(&out).unwrap()["entry_id"].as_str().unwrap().to_string();
    ok_at(&e, "2026-11-02T10:06:00Z", &["import", &export_at(&f, "2026-11-02T10:05:00Z", "b2.rollcall", "alice")]);
    ok_at(&c, "2026-11-02T11:00:00Z", &["approve", &req, "--comment", "looks right", "--as", "carol"]);
    ok_at(&f, "2026-11-02T12:00:00Z", &["import", &export_at(&c, "2026-11-02T11:01:00Z", "c.rollcall", "carol")]);
    assert_eq!(gate_at(&f, "2026-11-02T12:01:00Z", &req).0, 1, "stale: carol never saw the finding");
    ok_at(&e, "2026-11-02T10:30:00Z", &["evidence", "purge", &ev2, "--reason", "contains a secret", "--as", "erin"]);
    ok_at(&f, "2026-11-02T12:10:00Z", &["import", &export_at(&e, "2026-11-02T10:30:01Z", "e.rollcall", "erin")]);
    let (code, g) = gate_at(&f, "2026-11-02T12:11:00Z", &req);
    assert_eq!(code, 1, "{g}");
    assert!(decision(&g, "carol")["excluded"].as_str().unwrap_or("").contains("stale"), "{g}");
}

/// The report's approval time is the run's: carol approved on the founder's machine, then rejected on her
/// own machine, which had not seen the run, at a time before it; erin's run, which had not seen the
/// rejection, counts. The report read today's tally (carol's latest decision, a rejection) and called the
/// run "executed without the approvals the policy requires", with no approval time.
#[test]
fn a_rejection_the_run_had_not_seen_leaves_the_reports_approval_time() {
    let f = team_at(Some(T0));
    let req = request_at(&f, "2026-11-02T09:00:00Z");
    ok_at(&f, "2026-11-02T09:10:00Z", &["approve", &req, "--comment", "looks right", "--as", "carol"]);
    let b = export_at(&f, "2026-11-02T09:20:00Z", "b.rollcall", "alice");
    let c = machine(&f, "carol", "test.example/carol", &b, "2026-11-02T09:21:00Z");
    ok_at(&c, "2026-11-02T09:30:00Z", &["reject", &req, "--comment", "on second thought, no", "--as", "carol"]);
    ok_at(&f, "2026-11-02T10:00:00Z", &["execute", &req, "--outcome", "succeeded", "--as", "erin"]);
    ok_at(&f, "2026-11-02T11:00:00Z", &["import", &export_at(&c, "2026-11-02T10:30:00Z", "c.rollcall", "carol")]);
    let shown = json_at(&f, "2026-11-02T11:01:00Z", &["show", &req]);
    assert_eq!(shown["executions"].as_array().map(Vec::len), Some(1), "the run counts: {shown}");
    let v = json_at(&f, "2026-11-02T12:00:00Z", &["report", "--format", "json", "--as", "alice"]);
    let facts = v["requests"].as_array().unwrap().iter().find(|r| r["id"] == req.as_str()).unwrap().clone();
    assert_eq!(facts["approved_at"], "2026-11-02T09:10:00Z", "{facts}");
    assert!(!v["breaches"].to_string().contains("executed without the approvals"), "{}", v["breaches"]);
}

/// The fork of `req` is still owed its review at 09:31 on 2026-11-09; carol's review at 10:00 settles it.
fn still_forked_until_carol_reviews(f: &Env, req: &str) {
    let shown = json_at(f, "2026-11-09T09:31:00Z", &["show", req]);
    assert_eq!(shown["status"], "review-due", "{shown}");
    assert!(shown["fork"]["reviewed"].is_null(), "{shown}");
    let settled = carol_reviews(f, req, "2026-11-09T10:00:00Z", "both runs checked");
    let shown = json_at(f, "2026-11-09T10:01:00Z", &["show", req]);
    assert_eq!((&shown["status"], &shown["fork"]["reviewed"]), (&Value::from("reviewed"), &Value::from(settled)));
}

/// A fork is settled only by a review whose signer holds a role the policy's `emergency.may_review` names:
/// bob, a requester and nothing more, reviews after both runs (a post-incident review, open to anyone) and
/// the fork stays unreviewed; carol's settles it. Before, bob's review settled the fork.
#[test]
fn a_fork_is_settled_only_by_a_review_from_the_roles_the_policy_names() {
    let (f, req, m) = two_runs_of_two_versions();
    ok_at(&f, LATER, &["import", &export_at(&m, "2026-11-02T09:45:00Z", "erin.rollcall", "erin")]);
    let bobs = ["review", &req, "--summary", "looks fine to me", "--kind", "post-incident", "--as", "bob"];
    ok_at(&f, "2026-11-09T09:30:00Z", &bobs);
    still_forked_until_carol_reviews(&f, &req);
}

/// A fork is not settled by a member who ran one of its reverts, whichever of their keys signs the review:
/// erin ran both, her laptop is replaced (revoked, a new key enrolled under her name, release-manager, a
/// role whose review settles forks), and her new key reviews. Before, a fork's review was judged by key,
/// so her own review settled her own runs.
#[test]
fn a_fork_is_not_settled_by_a_new_key_of_who_ran_it() {
    let (f, req, m) = two_runs_of_two_versions();
    ok_at(&f, LATER, &["import", &export_at(&m, "2026-11-02T09:45:00Z", "erin.rollcall", "erin")]);
    ok_at(&f, "2026-11-09T09:10:00Z", &["revoke", "erin", "--reason", "laptop lost", "--as", "alice"]);
    let k = json_at(&f, "2026-11-09T09:11:00Z", &["key", "new", "erin-2"]);
    let enroll = ["enroll", "erin", "--pubkey", k["public_key"].as_str().unwrap(), "--role", "release-manager"];
    ok_at(&f, "2026-11-09T09:12:00Z", &[&enroll[..], &["--as", "alice"]].concat());
    let own = ["review", &req, "--summary", "both of my runs went fine", "--kind", "post-incident", "--as", "erin-2"];
    ok_at(&f, "2026-11-09T09:30:00Z", &own);
    still_forked_until_carol_reviews(&f, &req);
}

/// The admins raise the governance threshold to two signatures; zed, an admin working from a copy older
/// than that policy, enrolls nova alone there. His change counts (its proposal's past decides, FORMAT.md
/// §7.3), but `verify` lists it, naming the concurrent policy and what it asks; the enrollment made before
/// the policy, with the threshold of its time, is not listed.
#[test]
fn a_governance_change_made_alone_from_a_copy_older_than_the_threshold_is_listed() {
    let f = team_at(Some(T0));
    let zed = f.json(&["key", "new", "zed"])["public_key"].as_str().unwrap().to_string();
    ok_at(&f, "2026-11-01T01:00:00Z", &["enroll", "zed", "--pubkey", &zed, "--role", "admin", "--as", "alice"]);
    let old = export_at(&f, "2026-11-01T02:00:00Z", "old.rollcall", "alice");
    adopt_at(&f, "2026-11-03T00:00:00Z", "two.toml", "version = 1\n[identity]\nadmin_signatures = 2\n");
    assert!(json_at(&f, "2026-11-03T00:01:00Z", &["verify"])["stale_governance"].as_array().unwrap().is_empty());

    let z = machine(&f, "zed", "evil.example/z", &old, "2026-11-02T00:00:00Z");
    let nova = z.json(&["key", "new", "nova"])["public_key"].as_str().unwrap().to_string();
    ok_at(&z, "2026-11-02T00:01:00Z", &["enroll", "nova", "--pubkey", &nova, "--role", "approver", "--as", "zed"]);
    ok_at(&f, "2026-11-04T00:00:00Z", &["import", &export_at(&z, "2026-11-02T00:03:00Z", "z.rollcall", "zed")]);

    let v = json_at(&f, "2026-11-04T00:01:00Z", &["verify"]);
    let stale = v["stale_governance"].as_array().unwrap();
    assert_eq!(stale.len(), 1, "{v}");
    assert_eq!(
        (&stale[0]["kind"], &stale[0]["signatures"], &stale[0]["needs"]),
        (&"identity.enrolled".into(), &1.into(), &2.into())
    );
    assert!(stale[0]["at"].as_str().unwrap().starts_with("evil.example/z #"), "{v}");
    assert!(stale[0]["policy_at"].as_str().unwrap().starts_with("test.example/laptop #"), "{v}");
    let text = ok_at(&f, "2026-11-04T00:02:00Z", &["verify"]);
    assert!(
        text.contains(
            "governance: 1 change took effect with fewer admin signatures than a policy its proposal had not seen \
             asks (made from an older copy of the ledger; it does count)"
        ) && text.contains("identity.enrolled: 1 admin signature; the policy adopted at test.example/laptop #"),
        "{text}"
    );
    // The report's header, for an auditor, and the console's integrity screen say it too.
    let report = ok_at(&f, "2026-11-04T00:03:00Z", &["report", "--as", "alice"]);
    assert!(report.contains("- governance: 1 change took effect with fewer admin signatures"), "{report}");
    assert!(report.contains("  - evil.example/z #"), "{report}");
    let json = json_at(&f, "2026-11-04T00:04:00Z", &["report", "--format", "json", "--as", "alice"]);
    assert_eq!(json["header"]["governance"].as_array().map(Vec::len), Some(1), "{json}");
    let mut h = common::console(&f, "alice", 160, 48);
    h.press(ratatui::crossterm::event::KeyCode::Char('4'));
    let screen = h.render();
    assert!(screen.contains("governance: 1 change took effect with fewer admin signatures"), "{screen}");
}

/// A post-hoc review covers the runs in its past. Mallory breaks the glass and records a failed run on her
/// laptop; the office reviews it; then, from her copy that never saw the review, she records a run that
/// succeeded. Before, the review settled the emergency all the same: the one run that changed production
/// was never reviewed, and nothing was owed. Now the review is owed again, and another one settles it.
#[test]
fn a_post_hoc_review_does_not_cover_a_run_it_had_not_seen() {
    let m = common::team();
    let req = common::file_request(&m, "bob", "critical");
    let laptop = common::peer_exported_by(
        &m,
        Some("alice"),
        "mallory",
        "test.example/mallory-laptop",
        &["release-manager", "executor"],
    );
    laptop.ok(&["emergency", &req, "--reason", "checkout down for everyone", "--as", "mallory"]);
    laptop.ok(&["execute", &req, "--outcome", "failed", "--notes", "did nothing", "--as", "mallory"]);
    m.import(&laptop.export("l1.rollcall"));
    m.ok(&["review", &req, "--summary", "the run failed, nothing changed", "--as", "carol"]);
    assert_eq!(m.json(&["show", &req])["status"], "reviewed");
    // On the laptop, without the review.
    laptop.ok(&["execute", &req, "--outcome", "succeeded", "--as", "mallory"]);
    m.import(&laptop.export("l2.rollcall"));
    let show = m.json(&["show", &req]);
    assert_eq!(show["status"], "review-due", "{show}");
    let owed = m.json(&["obligations"]);
    assert!(owed["obligations"].as_array().unwrap().iter().any(|o| o["request"] == req.as_str()), "{owed}");
    m.ok(&["review", &req, "--summary", "the second run restored checkout", "--as", "dave"]);
    assert_eq!(m.json(&["show", &req])["status"], "reviewed");
    assert_eq!(verify_json(&m).0, 0);
}

/// An entry is stamped strictly later than everything its file holds, so it sorts after every entry it
/// has seen. Lena approves on a laptop whose clock runs two minutes ahead (within the skew) and whose origin
/// tag sorts after the office's; the office imports the approval and runs the revert at once. Before, the
/// run was stamped at the approval's own millisecond, the tags put it first, and it did not count: "0 of 1
/// approvals" for a run that had seen and relied on the approval.
#[test]
fn a_run_sorts_after_an_approval_stamped_ahead_that_it_relied_on() {
    use sha2::{Digest, Sha256};
    let tag = |origin: &str| u32::from_be_bytes(Sha256::digest(origin.as_bytes())[..4].try_into().unwrap());
    let ahead = (0..).map(|n| format!("test.example/ahead-{n}")).find(|o| tag(o) > tag("test.example/laptop")).unwrap();
    let m = common::team();
    let req = common::file_request(&m, "bob", "low");
    common::tested(&m, &req, "bob");
    let laptop = common::peer_exported_by(&m, Some("alice"), "lena", &ahead, &["approver"]);
    let later =
        (chrono::Utc::now() + chrono::Duration::seconds(120)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    ok_at(&laptop, &later, &["approve", &req, "--comment", "graphs confirm it", "--as", "lena"]);
    m.import(&laptop.export("l1.rollcall"));
    assert_eq!(m.run(&["gate", &req]).status.code(), Some(0));
    m.ok(&["execute", &req, "--outcome", "succeeded", "--as", "erin"]);
    let show = m.json(&["show", &req]);
    assert_eq!(show["status"], "executed", "{show}");
    let (approved, ran) = (show["decisions"][0]["ts"].as_str().unwrap(), show["executions"][0]["ts"].as_str().unwrap());
    assert!(ran > approved, "the run {ran} is stamped after the approval {approved}");
    let (code, v) = verify_json(&m);
    assert_eq!(code, 0, "{v}");
    assert!(v["does_not_count"].as_array().unwrap().is_empty(), "{v}");
}

/// A command judges its entry at the time it will be stamped, not at its clock: an entry is stamped after
/// everything the file holds, and a peer's clock may run ahead within the skew. Approvals expire after an
/// hour here; carol approved at 09:10, erin's other machine (its clock three minutes ahead) wrote at 10:12,
/// and the office, having imported that, records the run at 10:09 by its clock. Before, `execute` checked
/// the run at 10:09 (the approval 59 minutes old), wrote it stamped after 10:12 (expired there), and the
/// run it recorded did not count. Now the gate blocks it and `execute` refuses it, nothing written; a
/// governance change's receipt names the entry written.
#[test]
fn a_command_judges_its_entry_at_the_time_it_is_stamped() {
    let f = team_at(Some(T0));
    let policy = common::file(&f, "expiry.toml", "version = 1\n[approvals]\nexpiry_hours = 1\n");
    ok_at(&f, "2026-11-02T08:00:00Z", &["policy", "adopt", &policy, "--as", "alice"]);
    let req = request_at(&f, "2026-11-02T09:00:00Z");
    ok_at(&f, "2026-11-02T09:10:00Z", &["approve", &req, "--comment", "graphs confirm it", "--as", "carol"]);
    let copy = export_at(&f, "2026-11-02T09:12:00Z", "copy.rollcall", "alice");
    let m = machine(&f, "erin", "test.example/erin-2", &copy, "2026-11-02T09:13:00Z");
    ok_at(&f, "2026-11-02T10:08:00Z", &["import", &export_at(&m, "2026-11-02T10:12:00Z", "m.rollcall", "erin")]);
    let before = json_at(&f, "2026-11-02T10:08:30Z", &["verify"])["origins"].clone();
    // The gate judges at that time too: it would let through a run `execute` then refuses to record. So
    // does erin's queue (it asked her to run it).
    let (code, g) = gate_at(&f, "2026-11-02T10:09:00Z", &req);
    assert_eq!(code, 1, "{g}");
    assert!(common::checklist_item(&g, "approvals")["detail"].as_str().unwrap().contains("expired"), "{g}");
    let ledger = Ledger::open_read_only(&f.ledger()).unwrap();
    let erin = PublicKey::parse(&f.public_key("erin")).unwrap();
    let at = chrono::DateTime::parse_from_rfc3339("2026-11-02T10:09:00Z").unwrap().to_utc();
    let asked = rollcall::workflow::waiting::waiting_on(&ledger, &erin, at).unwrap();
    assert_ne!(asked.stands.get(&Hash::from_hex(&req).unwrap()), Some(&Stand::Waiting(Turn::Execute)));
    drop(ledger);
    let (code, _, err) =
        run_at(&f, "2026-11-02T10:09:00Z", &["execute", &req, "--outcome", "succeeded", "--as", "erin"]);
    assert_ne!(code, 0, "a run stamped where its approval had expired was recorded");
    assert!(err.contains("expired"), "{err}");
    assert_eq!(json_at(&f, "2026-11-02T10:09:30Z", &["verify"])["origins"], before, "nothing written");
    // A governance change at that clock: its receipt names the entry written, in effect (it named the id
    // of the statement before the restamp, "pending" and unknown to `cosign`).
    let zed = f.json(&["key", "new", "zed"])["public_key"].as_str().unwrap().to_string();
    let enroll = ["enroll", "zed", "--pubkey", &zed, "--role", "approver", "--as", "alice"];
    let got = json_at(&f, "2026-11-02T10:09:40Z", &enroll);
    assert_eq!((&got["proposal"], &got["in_effect"]), (&got["entry_id"], &Value::Bool(true)), "{got}");
}

/// A machine that cannot record a run now has its gate block, saying so: here a policy lowered the skew
/// after a laptop's approval, stamped half an hour ahead under the old one, was imported, so the ledger
/// holds a time more than the skew past this machine's clock and `execute` would refuse to record the run
/// the gate let through. A what-if clock (`ROLLCALL_NOW`) is not asked this.
#[test]
fn the_gate_blocks_while_this_machine_cannot_record_a_run() {
    let m = common::team();
    let wide = common::file(&m, "wide.toml", "version = 1\n[identity]\nmax_clock_skew_seconds = 3600\n");
    m.ok(&["policy", "adopt", &wide, "--as", "alice"]);
    let req = common::file_request(&m, "bob", "low");
    common::tested(&m, &req, "bob");
    let laptop = common::peer_exported_by(&m, Some("alice"), "lena", "test.example/lena", &["approver"]);
    let ahead =
        (chrono::Utc::now() + chrono::Duration::minutes(30)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    ok_at(&laptop, &ahead, &["approve", &req, "--comment", "graphs confirm it", "--as", "lena"]);
    m.import(&laptop.export_as("l.rollcall", Some("lena")));
    assert_eq!(m.run(&["gate", &req]).status.code(), Some(0), "within the skew: the gate judges at the stamp");
    let tight = common::file(&m, "tight.toml", "version = 1\n[identity]\nmax_clock_skew_seconds = 60\n");
    m.ok(&["policy", "adopt", &tight, "--as", "alice"]);
    let out = m.run(&["--json", "gate", &req]);
    let g: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{g}");
    let item = common::checklist_item(&g, "clock");
    assert!(item["detail"].as_str().unwrap_or("").contains("cannot record a run now"), "{g}");
    let before = m.fingerprint();
    let err = m.refuses(&["execute", &req, "--outcome", "succeeded", "--as", "erin"]);
    assert!(err.contains("clock"), "{err}");
    assert_eq!(m.fingerprint(), before);
}

/// `show`'s tally at the run (and the report's approval time, from the same count) counts an approval
/// that has expired since only when it had not expired at the run: a break-glass run four days after
/// carol's approval lapsed (72 hours) ran without it, and read "1 of 1 when it ran".
#[test]
fn the_tally_at_a_run_leaves_out_an_approval_that_had_expired_before_it() {
    let env = team_at(Some(T0));
    let req = request_at(&env, "2026-11-02T09:00:00Z");
    ok_at(&env, "2026-11-02T10:00:00Z", &["approve", &req, "--comment", "fine", "--as", "carol"]);
    ok_at(&env, "2026-11-06T10:00:00Z", &["emergency", &req, "--reason", "checkout down", "--as", "erin"]);
    ok_at(&env, "2026-11-06T10:05:00Z", &["execute", &req, "--outcome", "succeeded", "--as", "erin"]);
    let v = json_at(&env, LATER, &["show", &req]);
    assert_eq!(
        (v["approvals_at_run"]["have"].clone(), v["approvals_at_run"]["need"].clone()),
        (0.into(), 1.into()),
        "{v}"
    );
    let text = ok_at(&env, LATER, &["show", &req]);
    assert!(text.contains("(0 of 1 when it ran under its emergency"), "{text}");
    // Approved the day before the run: it had not expired then, and counts though it has since.
    let other = request_at(&env, "2026-11-06T11:00:00Z");
    ok_at(&env, "2026-11-06T12:00:00Z", &["approve", &other, "--comment", "fine", "--as", "carol"]);
    ok_at(&env, "2026-11-07T12:00:00Z", &["execute", &other, "--outcome", "succeeded", "--as", "erin"]);
    let v = json_at(&env, "2026-11-20T00:00:00Z", &["show", &other]);
    assert_eq!(v["approvals_at_run"]["have"], 1, "{v}");
    assert_eq!(v["evaluation"]["approvals"]["have"], 0, "none counts now: {v}");
}
