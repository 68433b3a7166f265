//! End to end, issue 12: separation of duties covers every version of a request, and approvals bind the
//! evidence they saw. Each test is one attack, driven from the CLI on a real ledger.

mod common;
use common::{Env, file, file_request, team, verify_json};

fn gate(env: &Env, req: &str) -> (i32, serde_json::Value) {
    let out = env.run(&["--json", "gate", req]);
    (out.status.code().unwrap(), serde_json::from_slice(&out.stdout).unwrap())
}

/// The checklist item `id` of a gate or evaluation document.
fn item<'a>(g: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    g["checklist"].as_array().unwrap().iter().find(|i| i["id"] == id).unwrap_or_else(|| panic!("no {id} in {g}"))
}

/// The counting verdict of `name`'s latest decision.
fn decision<'a>(g: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    g["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|d| d["name"].as_str().unwrap().starts_with(name))
        .unwrap_or_else(|| panic!("{g}"))
}

fn excluded(g: &serde_json::Value, name: &str) -> String {
    decision(g, name)["excluded"].as_str().unwrap_or("").to_string()
}

/// Attaches a passing JUnit report with two tests, returning the evidence entry id.
fn junit(env: &Env, req: &str) -> String {
    let f = file(
        env,
        "junit.xml",
        r#"<testsuite name="smoke" tests="2"><testcase name="a"/><testcase name="b"/></testsuite>"#,
    );
    attach(env, req, &f, "test")
}

fn attach(env: &Env, req: &str, path: &str, kind: &str) -> String {
    let v = env.json(&["evidence", "add", req, path, "--kind", kind, "--as", "bob"]);
    v["entry_id"].as_str().unwrap_or_else(|| panic!("{v}")).to_string()
}

/// 4 KiB of pseudo-random bytes (a fixed LCG, so the test is repeatable), never valid UTF-8.
fn random_bytes(env: &Env, name: &str) -> String {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut bytes = Vec::with_capacity(4096);
    for _ in 0..4096 {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        bytes.push((x >> 56) as u8);
    }
    bytes[0] = 0xff;
    let p = env.home().join(name);
    std::fs::write(&p, bytes).unwrap();
    p.to_str().unwrap().to_string()
}

fn has_missing_tests_flag(env: &Env, req: &str) -> bool {
    let show = env.json(&["show", req]);
    show["assessment"]["flags"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["id"] == "GATE_BYPASS" && f["explanation"].as_str().unwrap().contains("requires test evidence"))
}

fn adopt(env: &Env, name: &str, toml: &str) {
    let p = file(env, name, toml);
    env.ok(&["policy", "adopt", &p, "--as", "alice"]);
}

/// Asserts a refusal (exit 1, message part) that leaves the ledger file unchanged.
fn refused(env: &Env, args: &[&str], says: &str) {
    let before = env.fingerprint();
    let err = env.fails(args, 1);
    assert!(err.contains(says), "{args:?}: {err}");
    assert_eq!(env.fingerprint(), before, "{args:?} changed the ledger");
}

/// Appends an approval of the current version signed by `who`'s key behind the workflow's back (as an
/// older rollcall, a modified client or a peer's log could), signing every evidence id attached so far.
fn forge_approval(env: &Env, req: &str, who: &str) {
    use rollcall::ledger::{Hash, PublicKey, Statement};
    let show = env.json(&["show", req]);
    let key = env.signing_key(who);
    let evidence: Vec<&serde_json::Value> =
        show["evidence"].as_array().unwrap().iter().map(|e| &e["entry_id"]).collect();
    let body = serde_json::json!({
        "request": req, "version": show["version"], "revert_digest": show["revert_digest"], "evidence": evidence,
        "policy": show["evaluation"]["policy"], "decision": "approve", "comment": "approved my own version", "flags": []
    });
    let refs = [Hash::from_hex(req).unwrap(), Hash::from_hex(show["version"].as_str().unwrap()).unwrap()];
    let st = Statement::new("approval.granted", &PublicKey::from_signing(&key), body, &refs);
    env.append_raw(&st, &key);
}

#[test]
fn amend_then_self_approve_does_not_count() {
    let env = team();
    let req = file_request(&env, "bob", "medium");
    junit(&env, &req);
    // erin (release-manager) rewrites bob's revert to run another command, then approves her own version.
    env.ok(&[
        "request",
        "amend",
        &req,
        "--reason",
        "use the faster path",
        "--revert-cmd",
        "kubectl delete deployment payments",
        "--as",
        "erin",
    ]);
    // The workflow refuses to record an approval that would not count, saying why.
    refused(&env, &["approve", &req, "--comment", "looks fine to me", "--as", "erin"], "amended this request");
    // One recorded anyway (by a modified client) is shown and does not count.
    forge_approval(&env, &req, "erin");
    let (code, g) = gate(&env, &req);
    assert_eq!(code, 1, "{g}");
    let why = excluded(&g, "erin");
    assert!(why.contains("amended this request (version ") && why.contains("the requester may not approve"), "{why}");
    let approvals = item(&g, "approvals")["detail"].as_str().unwrap();
    assert!(approvals.starts_with("0 of 1") && approvals.contains("amended this request"), "{approvals}");
    // The reason is in `show` too, text and JSON, and in the human gate output.
    let text = env.ok(&["show", &req]);
    assert!(text.contains("does not count: amended this request"), "{text}");
    let shown = env.json(&["show", &req]);
    assert!(shown["evaluation"]["decisions"][0]["excluded"].as_str().unwrap().contains("amended this request"));
    let out = env.run(&["gate", &req]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("amended this request"));
    // verify lists it among the decisions that do not count (the chain itself is intact).
    let (code, v) = verify_json(&env);
    assert_eq!(code, 0, "{v}");
    let dnc = v["does_not_count"].as_array().unwrap();
    assert!(dnc.len() == 1 && dnc[0]["reason"].as_str().unwrap().contains("amended this request"), "{v}");
    // An approver who wrote no version counts.
    env.ok(&["approve", &req, "--comment", "reviewed the new command", "--as", "carol"]);
    let (code, g) = gate(&env, &req);
    assert_eq!(code, 0, "{g}");
    // The original requester is a requester too (frank files; amended by erin; frank may not approve).
    let req = file_request(&env, "frank", "medium");
    junit(&env, &req);
    env.ok(&["request", "amend", &req, "--reason", "clearer title", "--title", "Revert 4411 (p99)", "--as", "erin"]);
    refused(&env, &["approve", &req, "--comment", "mine", "--as", "frank"], "self-approval does not count");
}

#[test]
fn the_author_of_the_revert_operation_may_not_approve_it_even_when_self_approval_is_allowed() {
    let env = team();
    adopt(&env, "self.toml", "version = 1\n[approvals]\nself_approval = true\n");
    // frank (requester, approver) files and approves his own request: self-approval is allowed, but he
    // wrote the revert operation.
    let req = file_request(&env, "frank", "medium");
    junit(&env, &req);
    refused(&env, &["approve", &req, "--comment", "mine", "--as", "frank"], "authored the current revert operation");
    // erin amends only the title: frank still authored the operation in force.
    env.ok(&["request", "amend", &req, "--reason", "clearer title", "--title", "Revert 4411 (p99)", "--as", "erin"]);
    refused(&env, &["approve", &req, "--comment", "mine", "--as", "frank"], "authored the current revert operation");
    forge_approval(&env, &req, "frank");
    let (code, g) = gate(&env, &req);
    assert_eq!(code, 1, "{g}");
    assert!(excluded(&g, "frank").contains("authored the current revert operation (version "), "{g}");
    // erin changes the operation: now she is its author, and frank's approval of her version counts.
    env.ok(&[
        "request",
        "amend",
        &req,
        "--reason",
        "one more revision",
        "--revert-cmd",
        "helm rollback payments 40",
        "--to",
        "40",
        "--as",
        "erin",
    ]);
    env.ok(&["approve", &req, "--comment", "erin's command is right", "--as", "frank"]);
    refused(&env, &["approve", &req, "--comment", "my own command", "--as", "erin"], "authored the current revert");
    let (code, g) = gate(&env, &req);
    assert_eq!(code, 0, "{g}");
    assert_eq!(decision(&g, "frank")["counts"], true, "{g}");
    // The policy may allow it.
    adopt(&env, "author.toml", "version = 1\n[approvals]\nself_approval = true\nauthor_may_approve_revert = true\n");
    env.ok(&["approve", &req, "--comment", "my own command", "--as", "erin"]);
    let (_, g) = gate(&env, &req);
    assert_eq!(decision(&g, "erin")["counts"], true, "{g}");
}

#[test]
fn approval_before_evidence_goes_stale_until_reapproved() {
    let env = team();
    // A policy that requires no evidence at medium risk, so an approval before any evidence counts.
    adopt(&env, "lenient.toml", "version = 1\n[evidence.tiers]\nmedium = []\n");
    let req = file_request(&env, "bob", "medium");
    env.ok(&["approve", &req, "--comment", "fine as it is", "--as", "carol"]);
    assert_eq!(gate(&env, &req).0, 0);
    let ev = junit(&env, &req);
    let (code, g) = gate(&env, &req);
    assert_eq!(code, 1, "{g}");
    let why = excluded(&g, "carol");
    let expected = format!("stale: evidence {} attached after this approval; re-approve", &ev[..12]);
    assert!(why.contains(&expected), "{why}");
    assert!(item(&g, "approvals")["detail"].as_str().unwrap().contains(&expected), "{g}");
    assert!(env.ok(&["show", &req]).contains(&expected));
    // Re-approving signs the new evidence list.
    env.ok(&["approve", &req, "--comment", "tests reviewed", "--as", "carol"]);
    let (code, g) = gate(&env, &req);
    assert_eq!(code, 0, "{g}");
    let signed = env.json(&["show", &req])["decisions"][1]["body"]["evidence"].clone();
    assert_eq!(signed, serde_json::json!([ev]));

    // Any later attachment dismisses it again, even a log, and a purge of that log does not undo it.
    let log = attach(&env, &req, &file(&env, "late.log", "something else\n"), "log");
    let (code, g) = gate(&env, &req);
    assert_eq!(code, 1);
    assert!(excluded(&g, "carol").contains(&format!("stale: evidence {}", &log[..12])), "{g}");
    env.ok(&["evidence", "purge", &log, "--reason", "pasted a token", "--as", "erin"]);
    assert_eq!(gate(&env, &req).0, 1);
    // Staleness is routine, not a violation: verify does not list it.
    assert!(verify_json(&env).1["does_not_count"].as_array().unwrap().is_empty());
    env.ok(&["approve", &req, "--comment", "seen the log too", "--as", "carol"]);
    assert_eq!(gate(&env, &req).0, 0);
}

#[test]
fn approvals_need_the_required_evidence_and_survive_its_purge() {
    let env = team();
    let req = file_request(&env, "bob", "medium");
    refused(&env, &["approve", &req, "--comment", "tests to follow", "--as", "carol"], "required test evidence");
    // Signed before the evidence existed (a modified client), it does not count once tests arrive.
    forge_approval(&env, &req, "carol");
    assert!(excluded(&gate(&env, &req).1, "carol").contains("required test evidence"));
    let ev = junit(&env, &req);
    let (code, g) = gate(&env, &req);
    assert_eq!(code, 1, "{g}");
    assert_eq!(item(&g, "evidence")["met"], true, "{g}");
    assert!(excluded(&g, "carol").contains("stale: evidence"), "{g}");
    env.ok(&["approve", &req, "--comment", "tests reviewed", "--as", "carol"]);
    assert_eq!(gate(&env, &req).0, 0);
    // A purge after the approval neither makes it stale nor takes away the tests it saw.
    env.ok(&["evidence", "purge", &ev, "--reason", "retention", "--as", "erin"]);
    let (code, g) = gate(&env, &req);
    assert_eq!(code, 0, "{g}");
    assert!(!has_missing_tests_flag(&env, &req));
}

#[test]
fn random_bytes_labelled_test_satisfy_nothing_and_keep_the_bypass_flag() {
    let env = team();
    let req = file_request(&env, "bob", "medium");
    assert!(has_missing_tests_flag(&env, &req));
    let junk = attach(&env, &req, &random_bytes(&env, "results.bin"), "test");
    refused(&env, &["approve", &req, "--comment", "tests attached", "--as", "carol"], "required test evidence");
    forge_approval(&env, &req, "carol");
    let (code, g) = gate(&env, &req);
    assert_eq!(code, 1, "{g}");
    let evidence = item(&g, "evidence");
    assert_eq!(evidence["met"], false);
    let detail = evidence["detail"].as_str().unwrap();
    assert!(detail.contains("missing evidence: test") && detail.contains(&junk[..12]), "{detail}");
    assert!(has_missing_tests_flag(&env, &req), "random bytes do not clear GATE_BYPASS");
    assert!(excluded(&g, "carol").contains("required test evidence"), "{g}");
    // It is still kept and shown.
    assert!(env.ok(&["show", &req]).contains(&junk[..12]));

    // A JUnit report that ran nothing does not satisfy it either.
    let empty = file(&env, "empty.xml", r#"<testsuite name="none" tests="0"></testsuite>"#);
    attach(&env, &req, &empty, "test");
    refused(&env, &["approve", &req, "--comment", "re-approve", "--as", "carol"], "required test evidence");
    let (code, g) = gate(&env, &req);
    assert_eq!(code, 1, "{g}");
    assert!(item(&g, "evidence")["detail"].as_str().unwrap().contains("no tests"), "{g}");
    assert!(has_missing_tests_flag(&env, &req));

    // A real report with tests does.
    junit(&env, &req);
    assert!(!has_missing_tests_flag(&env, &req));
    env.ok(&["approve", &req, "--comment", "real tests now", "--as", "carol"]);
    let (code, g) = gate(&env, &req);
    assert_eq!(code, 0, "{g}");
}

#[test]
fn a_scan_must_be_sarif_or_osv() {
    let env = team();
    let req = file_request(&env, "bob", "high");
    junit(&env, &req);
    attach(&env, &req, &file(&env, "scan.txt", "0 vulnerabilities found\n"), "scan");
    let (_, g) = gate(&env, &req);
    assert!(item(&g, "evidence")["detail"].as_str().unwrap().contains("missing evidence: scan"), "{g}");
    let sarif = format!("{}/tests/fixtures/trivy.sarif", env!("CARGO_MANIFEST_DIR"));
    attach(&env, &req, &sarif, "scan");
    let (_, g) = gate(&env, &req);
    assert_eq!(item(&g, "evidence")["met"], true, "{g}");
}

#[test]
fn accept_opaque_lets_opaque_evidence_count() {
    let env = team();
    adopt(&env, "opaque.toml", "version = 1\n[evidence]\naccept_opaque = true\n");
    let req = file_request(&env, "bob", "medium");
    attach(&env, &req, &random_bytes(&env, "results.bin"), "test");
    assert!(!has_missing_tests_flag(&env, &req), "the policy accepts opaque test evidence");
    env.ok(&["approve", &req, "--comment", "opaque accepted by policy", "--as", "carol"]);
    let (code, g) = gate(&env, &req);
    assert_eq!(code, 0, "{g}");
    // A JUnit report with no tests still says nothing ran: it is not opaque, and satisfies nothing.
    let env = team();
    adopt(&env, "opaque.toml", "version = 1\n[evidence]\naccept_opaque = true\n");
    let req = file_request(&env, "bob", "medium");
    attach(&env, &req, &file(&env, "empty.xml", r#"<testsuite name="none" tests="0"></testsuite>"#), "test");
    assert_eq!(item(&gate(&env, &req).1, "evidence")["met"], false);
}
