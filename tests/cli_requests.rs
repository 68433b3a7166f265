//! End to end: the rollback stories of issue 3 and every refusal it names, each showing nothing was
//! written.

mod common;
use common::{Env, file, file_request, team, verify_json};

fn gate(env: &Env, req: &str) -> (i32, serde_json::Value) {
    let out = env.run(&["--json", "gate", req]);
    (out.status.code().unwrap(), serde_json::from_slice(&out.stdout).unwrap())
}

/// Attaches evidence of `kind`: a real report where rollcall reads the kind (a JUnit report with tests,
/// a SARIF scan), since only those satisfy the policy; a text file otherwise.
fn attach(env: &Env, req: &str, kind: &str, who: &str) {
    let f = match kind {
        "test" => file(env, "test.xml", r#"<testsuite name="ci" tests="1"><testcase name="ok"/></testsuite>"#),
        "scan" => format!("{}/tests/fixtures/semgrep.sarif", env!("CARGO_MANIFEST_DIR")),
        _ => file(env, &format!("{kind}.out"), &format!("{kind} output: all good\n")),
    };
    env.ok(&["evidence", "add", req, &f, "--kind", kind, "--as", who]);
}

/// Attaches a passing JUnit report (a production revert scores at least medium risk, which needs tests).
fn tested(env: &Env, req: &str, who: &str) {
    let f = file(
        env,
        "junit.xml",
        r#"<testsuite name="smoke" tests="2"><testcase name="a"/><testcase name="b"/></testsuite>"#,
    );
    env.ok(&["evidence", "add", req, &f, "--kind", "test", "--as", who]);
}

/// Asserts a refusal (exit code, message part) that leaves the ledger file unchanged.
fn refused(env: &Env, args: &[&str], code: i32, says: &str) {
    let before = env.fingerprint();
    let err = env.fails(args, code);
    assert!(err.contains(says), "{args:?}: {err}");
    assert_eq!(env.fingerprint(), before, "{args:?} changed the ledger");
}

#[test]
fn full_story_high_risk() {
    let env = team();
    let req = file_request(&env, "bob", "high");
    let (code, g) = gate(&env, &req);
    assert_eq!(code, 1);
    assert_eq!(g["gate"], false);
    assert_eq!(g["status"], "pending");
    let unmet = common::unmet(&g);
    assert_eq!(unmet, ["approvals", "required-roles", "evidence"]);

    attach(&env, &req, "test", "bob");
    attach(&env, &req, "scan", "bob");
    env.ok(&["approve", &req, "--comment", "latency graphs confirm it", "--as", "carol"]);
    assert_eq!(gate(&env, &req).0, 1, "one approval is not enough at high risk");
    env.ok(&["approve", &req, "--comment", "no security impact", "--as", "dave"]);
    let (code, g) = gate(&env, &req);
    assert_eq!(code, 0, "{g}");
    assert_eq!(g["status"], "approved");
    assert_eq!(g["approvals"]["have"], 2);

    let out = file(&env, "helm.log", "Rollback was a success! Happy Helming!\n");
    env.ok(&["execute", &req, "--outcome", "succeeded", "--output-file", &out, "--as", "erin"]);
    env.ok(&["validate", &req, "--result", "pass", "--check", "smoke=pass", "--check", "p99=pass", "--as", "erin"]);
    env.ok(&["close", &req, "--resolution", "made-permanent", "--comment", "4411 abandoned", "--as", "bob"]);
    assert!(verify_json(&env).1["does_not_count"].as_array().unwrap().is_empty());

    let show = env.json(&["show", &req]);
    assert_eq!(show["status"], "closed");
    assert_eq!(show["executions"][0]["body"]["outcome"], "succeeded");
    assert_eq!(show["executions"][0]["body"]["command"], serde_json::json!(["helm", "rollback", "payments", "41"]));
    assert_eq!(show["executions"][0]["body"]["output_sha256"].as_str().unwrap().len(), 64);
    assert_eq!(show["validations"][0]["body"]["checks"].as_array().unwrap().len(), 2);
    let kinds: Vec<&str> = show["timeline"].as_array().unwrap().iter().map(|t| t["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "rollback.requested",
            "evidence.attached",
            "evidence.attached",
            "approval.granted",
            "approval.granted",
            "rollback.executed",
            "rollback.validated",
            "rollback.closed"
        ]
    );
    // The approval signed exactly what was reviewed.
    let version = show["version"].as_str().unwrap();
    let approval = env.json(&["log", "--from", "0"])["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "approval.granted")
        .unwrap()["entry_id"]
        .as_str()
        .unwrap()
        .to_string();
    let _ = approval;
    assert_eq!(show["evaluation"]["decisions"][0]["counts"], true);
    // Each approval signed exactly what was reviewed: version, operation digest, evidence, policy.
    let signed = &show["decisions"][1]["body"];
    assert_eq!(signed["version"], req.as_str());
    assert_eq!(signed["revert_digest"], show["revert_digest"]);
    assert_eq!(signed["evidence"].as_array().unwrap().len(), 2);
    assert_eq!(signed["policy"], show["evaluation"]["policy"]);
    assert_eq!(signed["comment"], "no security impact");
    assert_eq!(show["record"]["revert"]["from"], "42");
    assert!(version.starts_with(&req[..8]));

    let text = env.ok(&["show", &req[..8]]);
    assert!(text.contains("CHECKLIST") && text.contains("TIMELINE") && text.contains("CLOSED"), "{text}");
    let list = env.json(&["list"]);
    assert_eq!(list["requests"][0]["status"], "closed");
    assert_eq!(verify_json(&env).0, 0);
}

#[test]
fn emergency_story_with_overdue_review() {
    let env = team();
    let req = file_request(&env, "bob", "critical");
    refused(&env, &["emergency", &req, "--reason", "outage", "--as", "carol"], 1, "may not invoke the emergency path");
    env.ok(&["emergency", &req, "--reason", "checkout down for everyone", "--as", "erin"]);
    let (code, g) = gate(&env, &req);
    assert_eq!(code, 0, "an emergency waives approvals and evidence: {g}");
    assert!(g["checklist"].as_array().unwrap().iter().any(|i| i["waived"] == true));
    env.ok(&["execute", &req, "--outcome", "partial", "--notes", "one pod stuck", "--as", "erin"]);
    assert_eq!(env.json(&["show", &req])["status"], "review-due");

    let obligations = env.json(&["obligations"]);
    assert_eq!(obligations["obligations"][0]["kind"], "post-hoc-review");
    assert_eq!(obligations["obligations"][0]["overdue"], false);
    // Three days later the review is overdue.
    let later = env
        .cmd()
        .args(["--json", "obligations", "--overdue"])
        .env("ROLLCALL_NOW", "2099-01-01T00:00:00Z")
        .output()
        .unwrap();
    let later: serde_json::Value = serde_json::from_slice(&later.stdout).unwrap();
    assert_eq!(later["obligations"][0]["overdue"], true, "{later}");
    let listed = env.cmd().args(["--json", "list"]).env("ROLLCALL_NOW", "2099-01-01T00:00:00Z").output().unwrap();
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed["requests"][0]["overdue"], true);

    refused(
        &env,
        &["close", &req, "--resolution", "made-permanent", "--comment", "done", "--as", "erin"],
        1,
        "post-hoc review",
    );
    // Erin broke the glass and ran the revert: rollcall will not sign her post-hoc review of it. A
    // post-incident review is anyone's, and settles nothing.
    refused(
        &env,
        &["review", &req, "--summary", "all fine", "--as", "erin"],
        1,
        "must come from someone who did none of these",
    );
    env.ok(&["review", &req, "--kind", "post-incident", "--summary", "pods stuck", "--as", "erin"]);
    let overdue = |env: &Env| {
        let out =
            env.cmd().args(["--json", "obligations", "--overdue"]).env("ROLLCALL_NOW", "2099-01-01T00:00:00Z").output();
        let out: serde_json::Value = serde_json::from_slice(&out.unwrap().stdout).unwrap();
        out["obligations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["kind"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(overdue(&env), ["post-hoc-review"]);
    assert_eq!(env.json(&["show", &req])["status"], "review-due");
    // One signed behind the workflow's back (an earlier release, a modified binary) is recorded and
    // settles nothing either: the status, the obligation, the report and the close all still say so.
    use rollcall::ledger::{Hash, PublicKey, Statement};
    let erin = env.signing_key("erin");
    let body = serde_json::json!({"request": req, "kind": "post-hoc", "summary": "I reviewed myself", "lessons": []});
    env.append_raw(
        &Statement::new("rollback.reviewed", &PublicKey::from_signing(&erin), body, &[Hash::from_hex(&req).unwrap()]),
        &erin,
    );
    let show = env.json(&["show", &req]);
    let last = show["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (show["status"].as_str(), &last["counts"], &last["actor_name"]),
        (Some("review-due"), &serde_json::json!(true), &serde_json::json!("erin")),
        "{show}"
    );
    assert_eq!(overdue(&env), ["post-hoc-review"]);
    assert!(env.ok(&["show", &req]).contains("I reviewed myself [does not settle the emergency"));
    let report = env.ok(&["report", "--format", "csv", "--as", "alice"]);
    let row: Vec<&str> = report.lines().nth(1).unwrap().split(',').collect();
    assert_eq!((row[13], row[15]), ("true", "false"), "an emergency reviewed by no one else: {report}");
    refused(
        &env,
        &["close", &req, "--resolution", "made-permanent", "--comment", "done", "--as", "erin"],
        1,
        "by someone who neither invoked it, ran the revert",
    );
    env.ok(&["review", &req, "--summary", "break-glass justified", "--lesson", "alert earlier", "--as", "alice"]);
    assert_eq!(env.json(&["show", &req])["status"], "reviewed");
    assert!(env.json(&["obligations"])["obligations"].as_array().unwrap().is_empty());
    env.ok(&["close", &req, "--resolution", "rolled-forward", "--comment", "fix shipped", "--as", "erin"]);
    assert_eq!(verify_json(&env).0, 0);
}

/// `show` on an executed request gives the tally its run counted beside today's: approvals expire (72
/// hours by default), and an auditor reading "0 of 1" a month later took it for a run without approval.
#[test]
fn show_after_a_run_says_the_approvals_it_ran_on() {
    let env = team();
    let req = file_request(&env, "bob", "low");
    tested(&env, &req, "bob");
    env.ok(&["approve", &req, "--comment", "latency graphs confirm it", "--as", "carol"]);
    env.ok(&["execute", &req, "--outcome", "succeeded", "--as", "erin"]);
    let later = (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339();
    let out = env.cmd().args(["show", &req]).env("ROLLCALL_NOW", &later).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let status = text.lines().nth(1).unwrap_or_default();
    assert!(status.contains("approvals: 0 of 1 now (1 of 1 when it ran, "), "{text}");
    let out = env.cmd().args(["--json", "show", &req]).env("ROLLCALL_NOW", &later).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["approvals_at_run"]["have"].clone(), v["approvals_at_run"]["need"].clone()),
        (1.into(), 1.into()),
        "{v}"
    );
    // Before any run there is no such tally.
    let other = file_request(&env, "bob", "low");
    assert!(env.json(&["show", &other])["approvals_at_run"].is_null());
    assert!(!String::from_utf8_lossy(&env.run(&["show", &other]).stdout).contains("when it ran"));
}

/// Breaking glass says what it did: each requirement the emergency waives and until when, a rejection an
/// approver signed as a warning (it no longer blocks), and the post-hoc review it makes due.
#[test]
fn an_emergency_says_what_it_waives_and_the_review_it_makes_due() {
    let env = team();
    let req = file_request(&env, "bob", "critical");
    env.ok(&["reject", &req, "--comment", "not without a test", "--as", "carol"]);
    let out = env.run(&["emergency", &req, "--reason", "checkout down for everyone", "--as", "erin"]);
    assert!(out.status.success());
    let said = String::from_utf8_lossy(&out.stdout);
    let line = |start: &str| said.lines().find(|l| l.starts_with(start)).unwrap_or_default().to_string();
    let rejection = line("  it waives rejections:");
    assert!(rejection.contains("emergency invoked by erin") && rejection.contains("until"), "{said}");
    assert!(rejection.contains("rejected by carol") && rejection.ends_with("no longer blocks the revert"), "{said}");
    assert!(line("  it waives approvals:").contains("until"), "{said}");
    assert!(line("  a post-hoc review by another member is due by").contains("UTC"), "{said}");
    assert!(said.starts_with("recorded emergency"), "{said}");
}

/// The post-hoc review is the emergency path's only approval: whoever filed (or amended) the request does
/// not settle it, even holding a role that reviews (frank, requester and approver). rollcall refuses to sign
/// it, and one signed behind its back settles nothing; before, the requester's own review closed the
/// emergency, so one member with a colluding on-call could file, run and sign off a revert.
#[test]
fn the_requester_does_not_settle_the_emergency_of_their_own_request() {
    let env = team();
    let req = file_request(&env, "frank", "critical");
    env.ok(&["emergency", &req, "--reason", "checkout down for everyone", "--as", "erin"]);
    env.ok(&["execute", &req, "--outcome", "succeeded", "--as", "erin"]);
    assert_eq!(env.json(&["show", &req])["status"], "review-due");
    let before = env.fingerprint();
    let err = env.fails(&["review", &req, "--summary", "all fine", "--as", "frank"], 1);
    assert!(err.contains("filed or amended the request"), "{err}");
    assert_eq!(env.fingerprint(), before);
    use rollcall::ledger::{Hash, PublicKey, Statement};
    let frank = env.signing_key("frank");
    let body = serde_json::json!({"request": req, "kind": "post-hoc", "summary": "my own", "lessons": []});
    env.append_raw(
        &Statement::new("rollback.reviewed", &PublicKey::from_signing(&frank), body, &[Hash::from_hex(&req).unwrap()]),
        &frank,
    );
    assert_eq!(env.json(&["show", &req])["status"], "review-due", "the requester's own review settles nothing");
    env.ok(&["review", &req, "--summary", "break-glass justified", "--as", "carol"]);
    assert_eq!(env.json(&["show", &req])["status"], "reviewed");
}

/// Withdrawing a request under an emergency does not end its post-hoc review: the gate stood open while
/// the emergency held, so a revert may have run unrecorded. The review stays owed (`obligations`) and is
/// taken on the withdrawn request, which reads review-due until then and withdrawn after. Before, the
/// withdrawal erased the obligation.
#[test]
fn a_withdrawal_under_an_emergency_still_owes_its_review() {
    let env = team();
    let req = file_request(&env, "bob", "critical");
    env.ok(&["emergency", &req, "--reason", "checkout down for everyone", "--as", "erin"]);
    assert_eq!(gate(&env, &req).0, 0, "the emergency opens the gate");
    env.ok(&["request", "withdraw", &req, "--reason", "not needed after all", "--as", "bob"]);
    let owed = |env: &Env| -> Vec<String> {
        env.json(&["obligations"])["obligations"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["request"] == req.as_str())
            .map(|o| o["kind"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(owed(&env), ["post-hoc-review"]);
    // Listed with the reviews due until it is taken (it read "withdrawn", ranked last, out of every list
    // a reviewer works from).
    assert_eq!(env.json(&["show", &req])["status"], "review-due");
    let due = env.json(&["list", "--status", "review-due"]);
    assert!(due["requests"].as_array().unwrap().iter().any(|r| r["id"] == req.as_str()), "{due}");
    refused(&env, &["review", &req, "--summary", "fine", "--as", "erin"], 1, "invoked this emergency");
    env.ok(&["review", &req, "--summary", "invoked in haste; nothing ran (deploy logs checked)", "--as", "carol"]);
    assert!(owed(&env).is_empty());
    assert_eq!(env.json(&["show", &req])["status"], "withdrawn");
    assert_eq!(verify_json(&env).0, 0);
}

/// Only the roles the policy names in `emergency.may_review` settle an emergency's post-hoc review: bob, a
/// requester and nothing more, is refused naming them, and a review he signs anyway counts for nothing;
/// dave's (security-approver) settles it. Before, bob's review ended the overdue obligation.
#[test]
fn a_post_hoc_review_counts_only_from_the_roles_the_policy_names() {
    use rollcall::ledger::{Hash, PublicKey, Statement};
    let env = team();
    let req = file_request(&env, "frank", "critical");
    env.ok(&["emergency", &req, "--reason", "checkout down for everyone", "--as", "erin"]);
    env.ok(&["execute", &req, "--outcome", "succeeded", "--as", "erin"]);
    refused(
        &env,
        &["review", &req, "--summary", "fine by me", "--as", "bob"],
        1,
        "holds none of the roles whose post-hoc review counts (approver, security-approver, release-manager, admin, \
         auditor)",
    );
    let bob = env.signing_key("bob");
    let body = serde_json::json!({"request": req, "kind": "post-hoc", "summary": "fine by me", "lessons": []});
    let refs = [Hash::from_hex(&req).unwrap()];
    env.append_raw(&Statement::new("rollback.reviewed", &PublicKey::from_signing(&bob), body, &refs), &bob);
    assert_eq!(env.json(&["show", &req])["status"], "review-due");
    let (_, v) = verify_json(&env);
    assert!(v["does_not_count"].to_string().contains("holds none of the roles whose post-hoc review counts"), "{v}");
    env.ok(&["review", &req, "--summary", "break-glass justified", "--as", "dave"]);
    assert_eq!(env.json(&["show", &req])["status"], "reviewed");
}

/// An emergency waives for `emergency.waives_for_hours` (24 in the built-in policy) after it is invoked,
/// then lapses: a day later the gate asks for the approvals again and a run without them is refused, writing
/// nothing; an approval then opens it as for any request, and the post-hoc review is still owed. Under a
/// policy that leaves the setting out (adopted before it existed), an emergency never lapses, as before.
#[test]
fn an_emergency_lapses_after_the_hours_the_policy_gives_it() {
    let later = (chrono::Utc::now() + chrono::Duration::hours(25)).to_rfc3339();
    let at_later = |env: &Env, args: &[&str]| env.cmd().args(args).env("ROLLCALL_NOW", &later).output().unwrap();
    let gate_later = |env: &Env, req: &str| {
        let out = at_later(env, &["--json", "gate", req]);
        let g: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.code().unwrap(), g)
    };
    let item = |g: &serde_json::Value, id: &str| {
        g["checklist"].as_array().unwrap().iter().find(|i| i["id"] == id).cloned().unwrap()
    };

    let env = team();
    let req = file_request(&env, "bob", "low");
    env.ok(&["emergency", &req, "--reason", "checkout down for everyone", "--as", "erin"]);
    let (code, g) = gate(&env, &req);
    assert_eq!(code, 0, "{g}");
    let approvals = item(&g, "approvals");
    assert_eq!(approvals["waived"], true, "{g}");
    assert!(approvals["detail"].as_str().unwrap().contains(", until "), "{g}");
    let flags = env.json(&["show", &req]).to_string();
    assert!(flags.contains("approvals and evidence were waived until "), "{flags}");

    let (code, g) = gate_later(&env, &req);
    assert_eq!(code, 1, "{g}");
    assert_eq!(
        (item(&g, "approvals")["met"].clone(), item(&g, "approvals")["waived"].clone()),
        (false.into(), false.into())
    );
    assert!(item(&g, "state")["detail"].as_str().unwrap().contains("its emergency lapsed at"), "{g}");
    // Lists say so: the status stays emergency (and so does its filter), shown as lapsed.
    let listed = |at: &dyn Fn(&Env, &[&str]) -> std::process::Output| {
        let text = String::from_utf8_lossy(&at(&env, &["list", "--status", "emergency"]).stdout).to_string();
        let json: serde_json::Value = serde_json::from_slice(&at(&env, &["--json", "list"]).stdout).unwrap();
        let show: serde_json::Value = serde_json::from_slice(&at(&env, &["--json", "show", &req]).stdout).unwrap();
        (text, json["requests"][0].clone(), show)
    };
    let (text, row, show) = listed(&|env: &Env, args: &[&str]| env.run(args));
    assert!(text.contains(" emergency ") && !text.contains("lapsed"), "{text}");
    assert_eq!((row["status"].clone(), row["emergency_lapsed"].clone()), ("emergency".into(), false.into()));
    assert!(show["emergency_lapsed_at"].is_null(), "{show}");
    let (text, row, show) = listed(&at_later);
    assert!(text.contains(" emergency (lapsed) "), "{text}");
    assert_eq!((row["status"].clone(), row["emergency_lapsed"].clone()), ("emergency".into(), true.into()));
    assert_eq!(show["status"], "emergency", "{show}");
    assert!(g["emergency_lapsed_at"].as_str().is_some_and(|t| show["emergency_lapsed_at"] == t), "{g} {show}");
    let text = String::from_utf8_lossy(&at_later(&env, &["show", &req]).stdout).to_string();
    assert!(text.contains("status: emergency (lapsed)"), "{text}");
    let before = env.fingerprint();
    let out = at_later(&env, &["execute", &req, "--outcome", "succeeded", "--as", "erin"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(env.fingerprint(), before, "a refused run writes nothing");

    tested(&env, &req, "bob");
    assert!(at_later(&env, &["approve", &req, "--comment", "seen the graphs", "--as", "carol"]).status.success());
    assert_eq!(gate_later(&env, &req).0, 0, "approved, it may run as any request may");
    assert!(at_later(&env, &["execute", &req, "--outcome", "succeeded", "--as", "erin"]).status.success());
    let show: serde_json::Value = serde_json::from_slice(&at_later(&env, &["--json", "show", &req]).stdout).unwrap();
    assert_eq!(show["status"], "review-due", "the emergency's review is still owed: {show}");
    assert!(show["emergency_lapsed_at"].is_null(), "lapsed is said of the emergency phase only: {show}");
    let listed = String::from_utf8_lossy(&at_later(&env, &["list"]).stdout).to_string();
    assert!(listed.contains(" review-due ") && !listed.contains("lapsed"), "{listed}");

    // A policy without the setting: the emergency waives for as long as the request is open to a run.
    let env = team();
    let policy = file(&env, "old.toml", "version = 1\n[emergency]\nmay_invoke = [\"release-manager\", \"admin\"]\n");
    let out = env.run(&["policy", "adopt", &policy, "--as", "alice"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("does not set emergency.waives_for_hours, so an emergency never lapses"), "{err}");
    assert!(err.contains("does not set emergency.may_review, so any member's post-hoc review settles"), "{err}");
    let req = file_request(&env, "bob", "low");
    env.ok(&["emergency", &req, "--reason", "checkout down for everyone", "--as", "erin"]);
    let (code, g) = gate_later(&env, &req);
    assert_eq!((code, item(&g, "approvals")["waived"].clone()), (0, true.into()), "{g}");

    // One whose signer may not invoke an emergency under the policy in force waives nothing: it reads as
    // lapsed at once, from its invocation.
    let admins =
        file(&env, "admins.toml", "version = 1\n[emergency]\nmay_invoke = [\"admin\"]\nwaives_for_hours = 24\n");
    env.ok(&["policy", "adopt", &admins, "--as", "alice"]);
    let (code, g) = gate(&env, &req);
    assert_eq!(code, 1, "{g}");
    assert!(item(&g, "state")["detail"].as_str().unwrap().contains("its emergency waives nothing"), "{g}");
    assert!(g["emergency_lapsed_at"].as_str().is_some(), "{g}");
    let text = String::from_utf8_lossy(&env.run(&["list"]).stdout).to_string();
    assert!(text.contains(" emergency (lapsed) "), "{text}");
}

#[test]
fn approval_refusals() {
    let env = team();
    let req = file_request(&env, "frank", "low");
    tested(&env, &req, "frank");
    refused(&env, &["approve", &req, "--comment", "lgtm", "--as", "frank"], 1, "self-approval");
    refused(&env, &["approve", &req, "--comment", "lgtm", "--as", "bob"], 1, "none of the roles");
    refused(&env, &["approve", &req, "--comment", "  ", "--as", "carol"], 2, "comment");
    env.ok(&["approve", &req, "--comment", "lgtm", "--as", "carol"]);
    refused(&env, &["approve", &req, "--comment", "again", "--as", "carol"], 1, "counts once");
    refused(&env, &["approve", "deadbeef", "--comment", "x", "--as", "carol"], 2, "no request");
    refused(&env, &["approve", "zz", "--comment", "x", "--as", "carol"], 2, "not a request id");
    env.ok(&["request", "withdraw", &req, "--reason", "not needed", "--as", "frank"]);
    refused(&env, &["approve", &req, "--comment", "late", "--as", "dave"], 1, "withdrawn");
    assert_eq!(env.json(&["show", &req])["status"], "withdrawn");
}

#[test]
fn amendment_voids_earlier_approvals() {
    let env = team();
    let req = file_request(&env, "bob", "low");
    tested(&env, &req, "bob");
    env.ok(&["approve", &req, "--comment", "ok", "--as", "carol"]);
    assert_eq!(gate(&env, &req).0, 0);
    env.ok(&[
        "request",
        "amend",
        &req,
        "--reason",
        "roll back one more revision",
        "--revert-cmd",
        "helm rollback payments 40",
        "--to",
        "40",
        "--as",
        "bob",
    ]);
    let (code, g) = gate(&env, &req);
    assert_eq!(code, 1);
    let d = &g["decisions"][0];
    assert_eq!(d["counts"], false);
    assert!(d["excluded"].as_str().unwrap().contains("earlier version"), "{g}");
    // Amending needs a reason and a real change; only the requester or a manager may amend.
    refused(&env, &["request", "amend", &req, "--reason", "", "--title", "x", "--as", "bob"], 2, "reason");
    refused(&env, &["request", "amend", &req, "--reason", "none", "--as", "bob"], 2, "changes nothing");
    refused(
        &env,
        &["request", "amend", &req, "--reason", "mine now", "--title", "x", "--as", "carol"],
        1,
        "neither the requester",
    );
    env.ok(&["approve", &req, "--comment", "ok for v2", "--as", "carol"]);
    assert_eq!(gate(&env, &req).0, 0);
}

/// An amendment answers a rejection by changing what was rejected; amending away and back to the
/// rejected content addresses nothing, so the rejection of that content blocks it again, even after its
/// rejecter approved the content in between; only the rejecter's later decision on it lifts it.
#[test]
fn a_rejection_follows_its_content_back() {
    let env = team();
    let req = file_request(&env, "bob", "low");
    tested(&env, &req, "bob");
    env.ok(&["reject", &req, "--comment", "wrong revision", "--as", "carol"]);
    let amend = |title: &str| {
        env.ok(&["request", "amend", &req, "--reason", "retitled", "--title", title, "--as", "bob"]);
    };
    amend("Revert payments deploy 4411 (checked)");
    env.ok(&["approve", &req, "--comment", "fine now", "--as", "frank"]);
    assert_eq!(gate(&env, &req).0, 0, "a real change re-opens the request");
    // Approving the changed content says nothing of the content rejected.
    env.ok(&["approve", &req, "--comment", "this one is right", "--as", "carol"]);
    amend("Revert payments deploy 4411");
    env.ok(&["approve", &req, "--comment", "fine again", "--as", "frank"]);
    let (code, g) = gate(&env, &req);
    assert_eq!(code, 1, "the rejected content came back: {g}");
    let unmet: Vec<&serde_json::Value> =
        g["checklist"].as_array().unwrap().iter().filter(|i| i["met"] == false).collect();
    assert!(unmet.iter().any(|i| i["id"] == "rejections" && i["detail"].as_str().unwrap().contains("carol")), "{g}");
    let carol = g["decisions"].as_array().unwrap().iter().find(|d| d["decision"] == "reject").unwrap().clone();
    assert_eq!(carol["counts"], true, "{g}");
    assert_eq!(env.json(&["show", &req])["status"], "rejected");
    // The rejecter's own approval of the content lifts it.
    env.ok(&["approve", &req, "--comment", "agreed after all", "--as", "carol"]);
    assert_eq!(gate(&env, &req).0, 0);
    assert_eq!(verify_json(&env).0, 0);
}

/// Replaces `name`'s key the way a lost laptop is handled: an admin revokes it and enrolls a new key
/// (`key_file` in the keystore) under the same name with `roles`.
fn rotate(env: &Env, name: &str, key_file: &str, roles: &[&str]) {
    env.ok(&["revoke", name, "--reason", "laptop lost", "--as", "alice"]);
    let k = env.json(&["key", "new", key_file]);
    let mut args = vec!["enroll", name, "--pubkey", k["public_key"].as_str().unwrap(), "--as", "alice"];
    for r in roles {
        args.extend(["--role", r]);
    }
    env.ok(&args);
}

/// A key that replaced a revoked one under the same name is the same member: its approval does not add to
/// the old key's (which the revocation had seen, so it still counts), the requester's new key does not
/// approve their own request, and whoever invoked an emergency does not settle it with their new key.
/// Before, each was a second person: one security-approver rotating their key met a two-approval tier alone.
#[test]
fn a_replaced_key_is_the_same_member() {
    let env = team();
    let req = file_request(&env, "bob", "high");
    attach(&env, &req, "test", "bob");
    attach(&env, &req, "scan", "bob");
    env.ok(&["approve", &req, "--comment", "no security impact", "--as", "dave"]);
    rotate(&env, "dave", "dave-2", &["security-approver"]);
    refused(&env, &["approve", &req, "--comment", "still no impact", "--as", "dave-2"], 1, "a member counts once");
    // One signed behind rollcall's back (as `approve` writes it) counts once with the old one.
    let old = env.json(&["show", &req])["decisions"][0]["body"].clone();
    let dave2 = env.signing_key("dave-2");
    let mut body = old.clone();
    body["comment"] = "still no impact".into();
    let st = rollcall::ledger::Statement::new(
        "approval.granted",
        &rollcall::ledger::PublicKey::from_signing(&dave2),
        body,
        &[rollcall::ledger::Hash::from_hex(&req).unwrap()],
    );
    env.append_raw(&st, &dave2);
    let (code, g) = gate(&env, &req);
    assert_eq!(code, 1, "one member met a two-approval tier: {g}");
    assert_eq!(g["approvals"]["have"], 1, "{g}");
    let old = &g["decisions"][0];
    assert_eq!(old["counts"], false, "{g}");
    assert!(old["excluded"].as_str().unwrap().contains("the same member"), "{g}");
    env.ok(&["approve", &req, "--comment", "latency graphs confirm it", "--as", "carol"]);
    assert_eq!(gate(&env, &req).0, 0, "two members");

    // The requester's new key is still the requester.
    let own = file_request(&env, "frank", "low");
    tested(&env, &own, "frank");
    rotate(&env, "frank", "frank-2", &["requester", "approver"]);
    refused(&env, &["approve", &own, "--comment", "mine, new laptop", "--as", "frank-2"], 1, "self-approval");
    assert_eq!(gate(&env, &own).0, 1);
    // ... and may still manage it, as its requester.
    env.ok(&[
        "request",
        "amend",
        &own,
        "--reason",
        "new laptop, same request",
        "--title",
        "Revert 4411 (frank)",
        "--as",
        "frank-2",
    ]);
    env.ok(&["approve", &own, "--comment", "reviewed", "--as", "carol"]);
    env.ok(&["execute", &own, "--outcome", "succeeded", "--as", "erin"]);

    // Whoever broke the glass does not review it with their new key: refused, nothing written.
    let urgent = file_request(&env, "bob", "critical");
    env.ok(&["emergency", &urgent, "--reason", "checkout down for everyone", "--as", "erin"]);
    env.ok(&["execute", &urgent, "--outcome", "succeeded", "--as", "erin"]);
    rotate(&env, "erin", "erin-2", &["executor", "release-manager"]);
    // The validation of frank's run is asked of erin's new key (she ran it), not of frank's.
    let asked = |who: &str| {
        let ledger = rollcall::ledger::Ledger::open_read_only(&env.ledger()).unwrap();
        let key = rollcall::ledger::PublicKey::parse(&env.public_key(who)).unwrap();
        let w = rollcall::workflow::waiting::waiting_on(&ledger, &key, chrono::Utc::now()).unwrap();
        w.stands.get(&rollcall::ledger::Hash::from_hex(&own).unwrap()).copied()
    };
    use rollcall::workflow::waiting::{Stand, Turn};
    assert_eq!(asked("erin-2"), Some(Stand::Waiting(Turn::Validate)));
    assert_ne!(asked("frank-2"), Some(Stand::Waiting(Turn::Validate)));
    refused(&env, &["review", &urgent, "--summary", "justified", "--as", "erin-2"], 1, "invoked this emergency");
    // One signed behind rollcall's back is not admitted: the review stays owed.
    use rollcall::ledger::{Hash, PublicKey, Statement};
    let erin2 = env.signing_key("erin-2");
    let body = serde_json::json!({"request": urgent, "kind": "post-hoc", "summary": "mine", "lessons": []});
    let st = Statement::new(
        "rollback.reviewed",
        &PublicKey::from_signing(&erin2),
        body,
        &[Hash::from_hex(&urgent).unwrap()],
    );
    env.append_raw(&st, &erin2);
    let shown = env.json(&["show", &urgent]);
    assert_eq!(shown["status"], "review-due", "{shown}");
    assert!(shown["timeline"].to_string().contains("the same member as a key that invoked"), "{shown}");
    env.ok(&["review", &urgent, "--summary", "break-glass justified", "--as", "carol"]);
    assert_eq!(env.json(&["show", &urgent])["status"], "reviewed");
    assert_eq!(verify_json(&env).0, 0);
}

/// A run counts only as the revert that was approved: one signed with the right version and digest but
/// other revisions, environment or command (a modified client) does not count, and the request stays
/// approved. Before, the fold read only the version and digest, and remembered the claimed `from` as the
/// artifact rolled away from.
#[test]
fn a_run_must_say_it_ran_the_approved_revert() {
    use rollcall::ledger::{Hash, PublicKey, Statement};
    let env = team();
    let req = file_request(&env, "bob", "low");
    tested(&env, &req, "bob");
    env.ok(&["approve", &req, "--comment", "ok", "--as", "carol"]);
    let show = env.json(&["show", &req]);
    let erin = env.signing_key("erin");
    let run = |from: &str, target: &str, command: &[&str]| {
        let body = serde_json::json!({"request": req, "version": show["version"], "revert_digest": show["revert_digest"],
            "env": target, "from": from, "to": "41", "command": command, "outcome": "succeeded"});
        let st = Statement::new(
            "rollback.executed",
            &PublicKey::from_signing(&erin),
            body,
            &[Hash::from_hex(&req).unwrap()],
        );
        env.append_raw(&st, &erin);
    };
    let approved = ["helm", "rollback", "payments", "41"];
    run("13", "production", &approved);
    run("42", "staging", &approved);
    run("42", "production", &["helm", "rollback", "payments", "40"]);
    assert_eq!(env.json(&["show", &req])["status"], "approved", "none of the three counts");
    let (_, v) = verify_json(&env);
    let refused: Vec<&serde_json::Value> =
        v["does_not_count"].as_array().unwrap().iter().filter(|d| d["kind"] == "rollback.executed").collect();
    assert_eq!(refused.len(), 3, "{v}");
    assert!(refused[0].to_string().contains("revisions, environment or command differ"), "{v}");
    // As `rollcall execute` writes it (the environment's case aside), it counts.
    run("42", "PRODUCTION", &approved);
    assert_eq!(env.json(&["show", &req])["status"], "executed");
}

/// Under `rejection_lifted_by = "rejecter"` a rejection is a veto: amending the request does not lift it,
/// another approver's approval does not outweigh it, and only the rejecter's own later decision does.
#[test]
fn a_policy_can_make_a_rejection_a_veto() {
    let env = team();
    let policy = file(&env, "veto.toml", "version = 1\n[approvals]\nrejection_lifted_by = \"rejecter\"\n");
    env.ok(&["policy", "adopt", &policy, "--as", "alice"]);
    let req = file_request(&env, "bob", "low");
    tested(&env, &req, "bob");
    env.ok(&["reject", &req, "--comment", "not before the incident review", "--as", "carol"]);
    env.ok(&["request", "amend", &req, "--reason", "clearer", "--title", "Revert 4411 (after review)", "--as", "bob"]);
    env.ok(&["approve", &req, "--comment", "fine by me", "--as", "frank"]);
    let (code, g) = gate(&env, &req);
    assert_eq!(code, 1, "{g}");
    let item = common::checklist_item(&g, "rejections");
    let detail = item["detail"].as_str().unwrap();
    assert!(detail.contains("carol") && detail.contains("amending does not lift it"), "{g}");
    assert!(detail.contains("only their approval lifts it"), "{g}");
    env.ok(&["approve", &req, "--comment", "reviewed now", "--as", "carol"]);
    assert_eq!(gate(&env, &req).0, 0);
    // Whether a rejection is a veto is the policy's where it was signed: one an amendment answered under
    // the default policy stays answered when a veto policy is adopted later.
    let other = file_request(&env, "bob", "low");
    tested(&env, &other, "bob");
    let default = file(&env, "default.toml", "version = 1\n[approvals]\nrejection_lifted_by = \"amendment\"\n");
    env.ok(&["policy", "adopt", &default, "--as", "alice"]);
    env.ok(&["reject", &other, "--comment", "wrong title", "--as", "carol"]);
    env.ok(&["request", "amend", &other, "--reason", "retitled", "--title", "Revert 4411, retitled", "--as", "bob"]);
    env.ok(&["policy", "adopt", &policy, "--as", "alice"]);
    env.ok(&["approve", &other, "--comment", "fine", "--as", "frank"]);
    assert_eq!(gate(&env, &other).0, 0, "the old rejection was answered before the veto policy");
    // A bad value is refused when the policy is adopted, naming the setting and the values it takes;
    // nothing written.
    let bad = file(&env, "bad.toml", "version = 1\n[approvals]\nrejection_lifted_by = \"anyone\"\n");
    refused(
        &env,
        &["policy", "adopt", &bad, "--as", "alice"],
        2,
        "approvals.rejection_lifted_by: unknown variant `anyone`, expected `amendment` or `rejecter`",
    );
}

/// A veto stands with its member: a key replaced under the same name keeps it (amending does not lift it)
/// and the new key's approval lifts it; a rejecter revoked and not replaced leaves it standing (withdraw
/// the request and file it again). Replacing a lost key revokes the old one before the new one is
/// enrolled: a veto that lapsed in between would let a run count that no member had cleared.
#[test]
fn a_veto_stands_with_its_member() {
    let env = team();
    let policy = file(&env, "veto.toml", "version = 1\n[approvals]\nrejection_lifted_by = \"rejecter\"\n");
    env.ok(&["policy", "adopt", &policy, "--as", "alice"]);
    let req = file_request(&env, "bob", "low");
    tested(&env, &req, "bob");
    env.ok(&["reject", &req, "--comment", "not before the incident review", "--as", "dave"]);
    let detail =
        |g: &serde_json::Value| common::checklist_item(g, "rejections")["detail"].as_str().unwrap().to_string();
    // Between the revocation and the new key: the veto stands.
    env.ok(&["revoke", "dave", "--reason", "laptop lost", "--as", "alice"]);
    env.ok(&["request", "amend", &req, "--reason", "clearer", "--title", "Revert 4411 (after review)", "--as", "bob"]);
    env.ok(&["approve", &req, "--comment", "fine by me", "--as", "frank"]);
    let (code, g) = gate(&env, &req);
    assert_eq!(code, 1, "{g}");
    assert!(detail(&g).contains("only their approval lifts it"), "{g}");
    assert!(detail(&g).contains("no longer a member: withdraw the request and file it again"), "{g}");
    // Dave's new key: still dave, still a veto, and his to lift.
    let k = env.json(&["key", "new", "dave-2"]);
    env.ok(&[
        "enroll",
        "dave",
        "--pubkey",
        k["public_key"].as_str().unwrap(),
        "--role",
        "security-approver",
        "--as",
        "alice",
    ]);
    assert_eq!(gate(&env, &req).0, 1);
    env.ok(&["approve", &req, "--comment", "reviewed now", "--as", "dave-2"]);
    assert_eq!(gate(&env, &req).0, 0);
}

/// A rejection counts from a role that decides at any tier, not only at the tier the request scores now:
/// the tier moves with evidence and flags, which any member changes without amending, so a veto signed at
/// one tier must not fall away at another. Here dave (security-approver, who decides only at high and
/// critical risk under this policy) rejects a medium-risk request, and it blocks; before, rollcall refused
/// to sign it, and one signed at high risk stopped counting once a test report lowered the tier.
#[test]
fn a_rejection_counts_from_a_role_that_decides_at_any_tier() {
    let env = team();
    let policy = file(
        &env,
        "tiers.toml",
        "version = 1\n[approvals.tiers.medium]\ncount = 1\nroles = [\"approver\"]\nrequired_roles = []\n",
    );
    env.ok(&["policy", "adopt", &policy, "--as", "alice"]);
    let req = file_request(&env, "bob", "low");
    tested(&env, &req, "bob");
    env.ok(&["approve", &req, "--comment", "ok", "--as", "carol"]);
    let (code, g) = gate(&env, &req);
    assert_eq!((code, g["tier"].as_str()), (0, Some("medium")), "{g}");
    env.ok(&["reject", &req, "--comment", "this touches the auth path", "--as", "dave"]);
    let (code, g) = gate(&env, &req);
    assert_eq!(code, 1, "{g}");
    assert_eq!(common::unmet(&g), ["rejections"]);
    // Someone who decides at no tier still cannot veto: refused, nothing written.
    refused(&env, &["reject", &req, "--comment", "no", "--as", "bob"], 1, "at any risk tier");
    // Dave's approval cannot count at medium risk, but it lifts his own rejection: written.
    env.ok(&["approve", &req, "--comment", "the auth change was reverted separately", "--as", "dave"]);
    assert_eq!(gate(&env, &req).0, 0);
    refused(&env, &["approve", &req, "--comment", "again", "--as", "dave"], 1, "would not count");
}

#[test]
fn revoked_keys_and_identity_refusals() {
    let env = team();
    let req = file_request(&env, "bob", "low");
    tested(&env, &req, "bob");
    env.ok(&["approve", &req, "--comment", "ok", "--as", "carol"]);
    env.ok(&["revoke", "carol", "--reason", "laptop stolen", "--as", "alice"]);
    // The revoking admin had seen the approval (it is in the revocation's causal past): it keeps counting.
    let (_, g) = gate(&env, &req);
    assert_eq!(g["decisions"][0]["counts"], true, "{g}");
    refused(&env, &["approve", &req, "--comment", "still me", "--as", "carol"], 1, "not enrolled");
    let k = env.json(&["key", "new", "mallory"]);
    let pk = k["public_key"].as_str().unwrap().to_string();
    refused(&env, &["enroll", "mallory", "--pubkey", &pk, "--role", "admin", "--as", "bob"], 1, "not an admin");
    refused(
        &env,
        &["enroll", "mallory", "--pubkey", "ed25519:00", "--role", "approver", "--as", "alice"],
        2,
        "not a public key",
    );
    refused(
        &env,
        &["enroll", "mallory", "--pubkey", &pk, "--role", "wizard", "--as", "alice"],
        2,
        "not one of the policy's roles",
    );
    refused(&env, &["revoke", "alice", "--reason", "oops", "--as", "alice"], 1, "fewer admins");
    let members = env.json(&["members"]);
    let carol = members["members"].as_array().unwrap().iter().find(|m| m["name"] == "carol").unwrap();
    assert_eq!(carol["active"], false);
}

#[test]
fn execute_refusals_and_separation_of_duties() {
    let env = team();
    let req = file_request(&env, "bob", "low");
    tested(&env, &req, "bob");
    refused(&env, &["execute", &req, "--outcome", "succeeded", "--as", "erin"], 1, "did not allow");
    // erin approves (release-manager may approve) and then may not execute.
    env.ok(&["approve", &req, "--comment", "ok", "--as", "erin"]);
    refused(&env, &["execute", &req, "--outcome", "succeeded", "--as", "erin"], 1, "separation of duties");
    refused(&env, &["execute", &req, "--outcome", "succeeded", "--as", "carol"], 1, "no role that may execute");
    let k = env.json(&["key", "new", "olga"]);
    env.ok(&["enroll", "olga", "--pubkey", k["public_key"].as_str().unwrap(), "--role", "executor", "--as", "alice"]);
    refused(
        &env,
        &["execute", &req, "--outcome", "succeeded", "--command", "helm rollback payments 40", "--as", "olga"],
        1,
        "differs from the approved",
    );
    env.ok(&["execute", &req, "--outcome", "failed", "--as", "olga"]);
    env.ok(&["execute", &req, "--outcome", "succeeded", "--as", "olga"]);
    refused(&env, &["execute", &req, "--outcome", "succeeded", "--as", "olga"], 1, "already executed");
}

#[test]
fn freeze_window_blocks_gate_and_execute() {
    let env = team();
    let policy = file(
        &env,
        "freeze.toml",
        "version = 1\n[approvals]\nexpiry_hours = 0\n[[windows]]\nenv = \"production\"\ntimezone = \"+01:00\"\nallow = [\"Mon-Fri 09:00-17:00\"]\nfreeze = [\"2026-12-20T00:00:00Z/2027-01-03T00:00:00Z\"]\n",
    );
    env.ok(&["policy", "adopt", &policy, "--as", "alice"]);
    let req = file_request(&env, "bob", "low");
    tested(&env, &req, "bob");
    env.ok(&["approve", &req, "--comment", "ok", "--as", "carol"]);
    let at = |t: &str, args: &[&str]| env.cmd().args(args).env("ROLLCALL_NOW", t).output().unwrap();
    // Monday 2026-11-30 10:00 in +01:00 is inside the window.
    assert_eq!(at("2026-11-30T09:00:00Z", &["gate", &req]).status.code(), Some(0));
    // Saturday is outside it.
    let out = at("2026-11-28T10:00:00Z", &["gate", &req]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("outside every production rollback window"));
    // The holiday freeze.
    let out = at("2026-12-22T10:00:00Z", &["--json", "gate", &req]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("frozen"));
    let before = env.fingerprint();
    let out = at("2026-12-22T10:00:00Z", &["execute", &req, "--outcome", "succeeded", "--as", "erin"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("frozen"));
    assert_eq!(env.fingerprint(), before);
    let shown = env.ok(&["policy", "show"]);
    assert!(shown.contains("2026-12-20"), "{shown}");

    // Another spelling of the environment is the same environment, judged by its window (before, a
    // request for "PRODUCTION" fell to `*`, which has no restriction, and its gate opened in the freeze).
    let mut args = common::request_args("bob", "Revert payments deploy 4411 again", "low");
    let i = args.iter().position(|a| *a == "production").unwrap();
    args[i] = "PRODUCTION";
    let upper = env.json(&args)["request"].as_str().unwrap().to_string();
    tested(&env, &upper, "bob");
    env.ok(&["approve", &upper, "--comment", "ok", "--as", "carol"]);
    assert_eq!(at("2026-11-30T09:00:00Z", &["gate", &upper]).status.code(), Some(0));
    let out = at("2026-12-22T10:00:00Z", &["gate", &upper]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("frozen"), "{}", String::from_utf8_lossy(&out.stdout));
    // `list --env production` lists it too (as the gate script's environment check asks).
    let listed = env.json(&["list", "--env", "production"]);
    let ids: Vec<&str> = listed["requests"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&upper.as_str()) && ids.contains(&req.as_str()), "{listed}");
}

#[test]
fn request_input_errors() {
    let env = team();
    let before = env.fingerprint();
    let err = env.fails(&["request", "new", "--title", "x", "--as", "bob"], 2);
    assert!(err.contains("required"), "{err}");
    let bad = file(&env, "bad.json", "{\"title\": ");
    assert!(env.fails(&["request", "new", "--from-file", &bad, "--as", "bob"], 2).contains("bad.json"));
    let unknown = file(
        &env,
        "unknown.json",
        r#"{"title":"t","change":"c","category":"other","rationale":"r","impact":"i","components":["a"],"env":"e","revert":{"tool":"git","argv":["git","revert","x"],"from":"a","to":"b"},"risk":"low","approver":"me"}"#,
    );
    assert!(env.fails(&["request", "new", "--from-file", &unknown, "--as", "bob"], 2).contains("unknown field"));
    let long = "x".repeat(400);
    assert!(
        env.fails(&["request", "new", "--from-file", &unknown, "--title", &long, "--as", "bob"], 2)
            .contains("unknown field")
    );
    assert!(
        env.fails(
            &[
                "request",
                "new",
                "--title",
                &long,
                "--change",
                "c",
                "--category",
                "other",
                "--rationale",
                "r",
                "--impact",
                "i",
                "--component",
                "a",
                "--env",
                "e",
                "--revert-cmd",
                "git revert x",
                "--from",
                "a",
                "--to",
                "b",
                "--risk",
                "low",
                "--as",
                "bob"
            ],
            2
        )
        .contains("longer than")
    );
    assert!(
        env.fails(
            &[
                "request",
                "new",
                "--title",
                "t",
                "--change",
                "c",
                "--category",
                "other",
                "--rationale",
                "r",
                "--impact",
                "i",
                "--component",
                "a",
                "--env",
                "e",
                "--revert-cmd",
                "git 'revert",
                "--from",
                "a",
                "--to",
                "b",
                "--risk",
                "low",
                "--as",
                "bob"
            ],
            2
        )
        .contains("quote")
    );
    let far = "2099-01-01T00:00:00Z";
    assert!(
        env.fails(
            &[
                "request",
                "new",
                "--title",
                "t",
                "--change",
                "c",
                "--category",
                "other",
                "--rationale",
                "r",
                "--impact",
                "i",
                "--component",
                "a",
                "--env",
                "e",
                "--revert-cmd",
                "git revert x",
                "--from",
                "a",
                "--to",
                "b",
                "--risk",
                "low",
                "--temporary-until",
                far,
                "--as",
                "bob"
            ],
            1
        )
        .contains("temporary")
    );
    assert!(
        env.fails(
            &[
                "request",
                "new",
                "--title",
                "t",
                "--change",
                "c",
                "--category",
                "other",
                "--rationale",
                "r",
                "--impact",
                "i",
                "--component",
                "a",
                "--env",
                "e",
                "--revert-cmd",
                "git revert x",
                "--from",
                "a",
                "--to",
                "b",
                "--risk",
                "low",
                "--as",
                "carol"
            ],
            1
        )
        .contains("may file requests")
    );
    assert_eq!(env.fingerprint(), before);
    // A valid file works.
    let good = file(
        &env,
        "good.json",
        r#"{"title":"t","change":"c","category":"other","rationale":"r","impact":"i","components":["a"],"env":"e","revert":{"tool":"git","argv":["git","revert","x"],"from":"a","to":"b"},"risk":"low"}"#,
    );
    let r = env.json(&["request", "new", "--from-file", &good, "--title", "from a file", "--as", "bob"]);
    let shown = env.json(&["show", r["request"].as_str().unwrap()]);
    assert_eq!(shown["record"]["title"], "from a file");
}

#[test]
fn policy_adoption_refusals_name_the_line() {
    let env = team();
    let before = env.fingerprint();
    let bad = file(&env, "bad.toml", "version = 1\n\n[approvals\n");
    assert!(env.fails(&["policy", "adopt", &bad, "--as", "alice"], 2).contains("line 3"));
    let contradictory = file(
        &env,
        "c.toml",
        "version = 1\n[approvals.tiers.high]\ncount = 1\nrequired_roles = [\"security-approver\", \"release-manager\"]\n",
    );
    let err = env.fails(&["policy", "adopt", &contradictory, "--as", "alice"], 2);
    assert!(err.contains("line 3"), "{err}");
    assert!(env.fails(&["policy", "adopt", &bad, "--as", "carol"], 2).contains("line 3"), "syntax is checked first");
    let good = file(&env, "good.toml", "version = 1\n");
    refused(&env, &["policy", "adopt", &good, "--as", "carol"], 1, "not an admin");
    assert_eq!(env.fingerprint(), before);
}

/// A new key `name`, enrolled with `role` by alice: the governance receipt (`--json`).
fn enrolled_by_alice(env: &Env, name: &str, role: &str) -> serde_json::Value {
    let k = env.json(&["key", "new", name]);
    env.json(&["enroll", name, "--pubkey", k["public_key"].as_str().unwrap(), "--role", role, "--as", "alice"])
}

/// alice raises the admin threshold to `n` (alone: it is still one when she does).
fn threshold(env: &Env, n: u32) {
    let policy = file(env, &format!("admins-{n}.toml"), &format!("version = 1\n[identity]\nadmin_signatures = {n}\n"));
    env.ok(&["policy", "adopt", &policy, "--as", "alice"]);
}

#[test]
fn two_admin_signatures_for_identity_changes() {
    let env = team();
    enrolled_by_alice(&env, "zed", "admin");
    threshold(&env, 2);
    let g = enrolled_by_alice(&env, "yan", "approver");
    assert_eq!(g["in_effect"], false);
    assert_eq!(g["signatures"]["have"], 1);
    assert_eq!(g["signatures"]["need"], 2);
    let proposal = g["proposal"].as_str().unwrap().to_string();
    let members = env.json(&["members"]);
    assert_eq!(members["pending"].as_array().unwrap().len(), 1);
    // yan does not count yet.
    let req = file_request(&env, "bob", "low");
    tested(&env, &req, "bob");
    refused(&env, &["approve", &req, "--comment", "hi", "--as", "yan"], 1, "not enrolled");
    refused(&env, &["cosign", &proposal[..12], "--as", "alice"], 1, "counts once");
    refused(&env, &["cosign", &proposal[..12], "--as", "carol"], 1, "not an admin");
    let g = env.json(&["cosign", &proposal[..12], "--as", "zed"]);
    assert_eq!(g["in_effect"], true, "{g}");
    env.ok(&["approve", &req, "--comment", "now I count", "--as", "yan"]);
    refused(&env, &["cosign", &proposal[..12], "--as", "zed"], 2, "no pending");
}

/// A change proposed under a threshold of two and completed by a second admin after a policy asking three
/// took effect counts (its proposal's threshold), and `verify` lists it with what the policy in force
/// asked; completed before that policy, it would not be listed.
#[test]
fn a_change_completed_after_a_stricter_threshold_is_listed() {
    let env = team();
    for admin in ["zed", "wes"] {
        enrolled_by_alice(&env, admin, "admin");
    }
    threshold(&env, 2);
    let nova = enrolled_by_alice(&env, "nova", "approver")["proposal"].as_str().unwrap().to_string();
    assert!(verify_json(&env).1["stale_governance"].as_array().unwrap().is_empty());
    let three = file(&env, "three.toml", "version = 1\n[identity]\nadmin_signatures = 3\n");
    let p = env.json(&["policy", "adopt", &three, "--as", "alice"])["proposal"].as_str().unwrap().to_string();
    assert_eq!(env.json(&["cosign", &p[..12], "--as", "zed"])["in_effect"], true);
    assert_eq!(env.json(&["cosign", &nova[..12], "--as", "wes"])["in_effect"], true);
    let (_, v) = verify_json(&env);
    let stale = v["stale_governance"].as_array().unwrap();
    assert_eq!(stale.len(), 1, "{v}");
    assert_eq!(
        (&stale[0]["entry_id"], &stale[0]["signatures"], &stale[0]["needs"]),
        (&nova.clone().into(), &2.into(), &3.into()),
        "{v}"
    );
}

#[test]
fn notes_incidents_list_filters_and_rebuild() {
    let env = team();
    let a = file_request(&env, "bob", "low");
    let b = file_request(&env, "bob", "high");
    env.ok(&["note", "paged the DB team", "--on", &a, "--as", "carol"]);
    env.ok(&["incident", "link", &a, "INC-1234", "--url", "https://status.example/1234", "--as", "bob"]);
    tested(&env, &a, "bob");
    env.ok(&["approve", &a, "--comment", "ok", "--as", "carol"]);
    let shown = env.json(&["show", &a]);
    assert_eq!(shown["notes"][0]["body"]["text"], "paged the DB team");
    assert_eq!(shown["incidents"][0]["body"]["incident"], "INC-1234");
    let approved = env.json(&["list", "--status", "approved"]);
    assert_eq!(approved["requests"].as_array().unwrap().len(), 1);
    assert_eq!(approved["requests"][0]["id"], a.as_str());
    let high = env.json(&["list", "--risk", "high"]);
    assert_eq!(high["requests"][0]["id"], b.as_str());
    assert_eq!(env.json(&["list", "--env", "staging"])["requests"].as_array().unwrap().len(), 0);
    assert!(env.fails(&["list", "--status", "happy"], 2).contains("unknown status"));
    // `open`: what the console's queue lists (pending and approved here; not a withdrawn one).
    let c = file_request(&env, "bob", "low");
    env.ok(&["request", "withdraw", &c, "--reason", "filed twice", "--as", "bob"]);
    let open = env.json(&["list", "--status", "open"]);
    let mut ids: Vec<&str> = open["requests"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    ids.sort();
    let mut want = vec![a.as_str(), b.as_str()];
    want.sort();
    assert_eq!(ids, want, "{open}");
    let r = env.json(&["rebuild"]);
    assert_eq!(r["requests"], 3);
    assert_eq!(env.json(&["list"])["requests"].as_array().unwrap().len(), 3);
    let text = env.ok(&["list"]);
    assert!(text.starts_with("ID"), "{text}");
}

#[test]
fn every_append_leaves_the_request_index_current() {
    // A reader that may not write the file (an auditor's read-only console) uses the file's index only when
    // it has seen the whole log; otherwise it builds one of its own from every entry.
    let env = team();
    let a = file_request(&env, "bob", "low");
    env.ok(&["list"]);
    env.ok(&["note", "paged the DB team", "--on", &a, "--as", "carol"]);
    tested(&env, &a, "bob");
    let c = rusqlite::Connection::open(env.ledger()).unwrap();
    let applied: String =
        c.query_row("SELECT value FROM index_meta WHERE key = 'applied_size'", [], |r| r.get(0)).unwrap();
    let size: i64 = c
        .query_row("SELECT COUNT(*) FROM leaves l JOIN origins o ON o.id = l.origin WHERE o.own = 1", [], |r| r.get(0))
        .unwrap();
    assert_eq!(applied, size.to_string(), "the index has seen every entry");
    let text: i64 =
        c.query_row("SELECT COUNT(*) FROM search_fts WHERE search_fts MATCH 'paged'", [], |r| r.get(0)).unwrap();
    assert_eq!(text, 1, "the note's text is searchable");
}

#[test]
fn entries_that_do_not_count_cannot_make_gate_pass() {
    // A decision appended behind the workflow's back (as a rogue or buggy peer could) by a key without
    // an approving role is intact, shown, and does not count.
    use rollcall::ledger::{Hash, PublicKey, Statement};
    let env = team();
    let req = file_request(&env, "bob", "low");
    let show = env.json(&["show", &req]);
    let bob = env.signing_key("bob");
    let req_id = Hash::from_hex(&req).unwrap();
    let body = serde_json::json!({
        "request": req, "version": show["version"], "revert_digest": show["revert_digest"], "evidence": [],
        "policy": show["evaluation"]["policy"], "decision": "approve", "comment": "I approve my own", "flags": []
    });
    let st = Statement::new("approval.granted", &PublicKey::from_signing(&bob), body, &[req_id]);
    env.append_raw(&st, &bob);
    let (code, g) = gate(&env, &req);
    assert_eq!(code, 1);
    assert_eq!(g["decisions"][0]["counts"], false);
    assert!(g["decisions"][0]["excluded"].as_str().unwrap().contains("roles"), "{g}");
    // verify: integrity holds, and the decision is listed as not counting, with the reason.
    let (code, v) = verify_json(&env);
    assert_eq!(code, 0, "{v}");
    let dnc = v["does_not_count"].as_array().unwrap();
    assert_eq!(dnc.len(), 1, "{v}");
    assert_eq!(dnc[0]["kind"], "approval.granted");
    assert!(dnc[0]["reason"].as_str().unwrap().contains("roles"), "{v}");
}

/// `gate --ledger-id` answers only from the ledger it names: from another ledger's file it gives no
/// verdict (exit 1, one line naming both ids), for a request id and for `--change` alike; a malformed id is
/// a usage error.
#[test]
fn the_gate_answers_only_from_the_ledger_it_is_pinned_to() {
    let env = team();
    let req = file_request(&env, "bob", "low");
    env.ok(&["emergency", &req, "--reason", "checkout down for everyone", "--as", "erin"]);
    let id = verify_json(&env).1["ledger_id"].as_str().unwrap().to_string();
    assert_eq!(env.run(&["gate", &req, "--ledger-id", &id.to_uppercase()]).status.code(), Some(0));
    let other = "ab".repeat(32);
    for args in [
        vec!["--json", "gate", &req, "--ledger-id", &other],
        vec!["--json", "gate", "--change", "deploy-4411", "--env", "production", "--ledger-id", &other],
    ] {
        let out = env.run(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains(&format!("is ledger {id}, not ledger {other} (--ledger-id); not gating")), "{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(v.get("gate").is_none() && v["error"].as_str().is_some(), "no verdict: {v}");
    }
    let err = env.fails(&["gate", &req, "--ledger-id", "abcd"], 2);
    assert!(err.contains("is not a ledger id"), "{err}");

    // A ledger of someone's own making whose (unsigned) metadata row claims the team's id: its genesis is
    // not the team's, so the pinned gate does not answer from it.
    let own = Env::with_ledger();
    let theirs = verify_json(&own).1["ledger_id"].as_str().unwrap().to_string();
    let c = own.tamper();
    c.execute("UPDATE meta SET value = ?1 WHERE key = 'ledger_id'", [&id]).unwrap();
    drop(c);
    for args in [
        vec!["gate", "0000", "--ledger-id", &id],
        vec!["gate", "--change", "deploy-4411", "--env", "production", "--ledger-id", &id],
    ] {
        let err = own.fails(&args, 1);
        assert!(err.contains(&format!("is ledger {theirs}, not ledger {id} (--ledger-id)")), "{err}");
    }

    // The team's own file whose metadata row names another ledger: neither answers alone.
    let c = env.tamper();
    c.execute("UPDATE meta SET value = ?1 WHERE key = 'ledger_id'", [&other]).unwrap();
    let err = env.fails(&["gate", &req, "--ledger-id", &id], 1);
    assert!(err.contains(&format!("holds the genesis of ledger {id}, but its metadata names ledger {other}")), "{err}");
    c.execute("UPDATE meta SET value = ?1 WHERE key = 'ledger_id'", [&id]).unwrap();
    drop(c);
    assert_eq!(env.run(&["gate", &req, "--ledger-id", &id]).status.code(), Some(0));

    // The team's own file with its genesis signature broken: no genesis checks, so it is no ledger's.
    let c = env.tamper();
    assert_eq!(c.execute("UPDATE entries SET signature = zeroblob(64) WHERE kind = 'genesis'", []).unwrap(), 1);
    drop(c);
    let err = env.fails(&["gate", &req, "--ledger-id", &id], 1);
    assert!(
        err.contains(&format!("has no genesis entry that checks, so it is not ledger {id} (--ledger-id)")),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}

#[test]
fn approvals_expire() {
    let env = team();
    let req = file_request(&env, "bob", "low");
    tested(&env, &req, "bob");
    env.ok(&["approve", &req, "--comment", "ok", "--as", "carol"]);
    assert_eq!(gate(&env, &req).0, 0);
    let out = env.cmd().args(["--json", "gate", &req]).env("ROLLCALL_NOW", "2099-01-01T00:00:00Z").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let g: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(g["decisions"][0]["excluded"].as_str().unwrap().contains("expired"), "{g}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("ROLLCALL_NOW"), "the clock override is announced");
}

/// Issue 16: a mistyped request id is refused before the key is unlocked, so no passphrase is asked for
/// (here none is available: it would otherwise fail on the passphrase instead), and nothing is written.
#[test]
fn a_bad_request_id_is_refused_before_the_passphrase() {
    let env = Env::with_ledger();
    let before = env.dump();
    for args in [
        &["approve", "deadbeef", "--comment", "looks right", "--as", "alice"][..],
        &["reject", "deadbeef", "--comment", "no", "--as", "alice"][..],
        &["approve", "zz", "--comment", "looks right", "--as", "alice"][..],
    ] {
        let out = env.cmd().env_remove("ROLLCALL_PASSPHRASE").args(args).write_stdin("").output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("deadbeef") || err.contains("not a request id"), "{args:?}: {err}");
        assert!(!err.contains("passphrase"), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    }
    assert_eq!(env.dump(), before);
}

#[test]
fn usage_errors_are_one_line_and_a_hint_and_missing_fields_come_together() {
    let env = team();
    let before = env.fingerprint();
    for (args, says) in [
        (vec!["approve", "abc", "--as", "carol"], "error: missing --comment <COMMENT>"),
        (vec!["evidence", "add", "abc", "x.xml", "--kind", "bogus", "--as", "bob"], "one of: test, scan"),
        (vec!["aprove"], "did you mean"),
    ] {
        let out = env.run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = err.trim_end().lines().collect();
        assert_eq!(lines.len(), 2, "{args:?}: {err}");
        assert!(lines[0].contains(says), "{args:?}: {err}");
        assert!(lines[1].starts_with("hint: ") && lines[1].contains("--help"), "{args:?}: {err}");
    }
    // request new names every missing required field at once.
    let err = env.fails(&["request", "new", "--title", "t", "--as", "bob"], 2);
    assert!(
        err.contains(
            "missing 10 required fields: --change --category --rationale --impact --component --env \
                      --revert-cmd --from --to --risk"
        ),
        "{err}"
    );
    assert_eq!(env.fingerprint(), before, "nothing was written");
}

/// `gate --change ID --env ENV`, for a CD tool that knows what it reverts and where but not the request:
/// no request for it blocks; a pending one blocks naming what it lacks; once approved it passes, naming
/// the request (JSON `request`); another environment, or a change only named in part (a short commit id
/// the request holds), blocks and says which request names it in part; an amendment moving the request to
/// another change takes it off the first. A request spelling the change with JSON escapes is found too.
/// Nothing is written by any of it.
#[test]
fn the_gate_by_change_and_environment_weighs_the_requests_to_revert_it() {
    let env = team();
    let by = |change: &str, where_: &str| -> (i32, String, serde_json::Value) {
        let text = env.run(&["gate", "--change", change, "--env", where_]);
        let json = env.run(&["--json", "gate", "--change", change, "--env", where_]);
        assert_eq!(text.status.code(), json.status.code());
        (
            text.status.code().unwrap(),
            String::from_utf8(text.stdout).unwrap(),
            serde_json::from_slice(&json.stdout).unwrap(),
        )
    };
    let (code, text, _) = by("deploy-4411", "production");
    assert_eq!(code, 1);
    assert!(text.starts_with("gate BLOCKS: no request to revert deploy-4411 in production"), "{text}");

    let req = file_request(&env, "bob", "low");
    let (code, text, j) = by("deploy-4411", "production");
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("lets it run now (1 found)") && text.contains("[ ] approvals"), "{text}");
    assert_eq!((&j["gate"], &j["request"]), (&serde_json::json!(false), &serde_json::Value::Null));
    assert_eq!(j["candidates"][0]["request"], req.as_str());

    tested(&env, &req, "bob");
    env.ok(&["approve", &req, "--comment", "ok", "--as", "carol"]);
    let (code, text, j) = by("deploy-4411", "production");
    assert_eq!(code, 0, "{text}");
    assert!(text.starts_with(&format!("gate PASSES for {}", &req[..12])), "{text}");
    assert_eq!((&j["gate"], &j["request"]), (&serde_json::json!(true), &serde_json::json!(req)));
    // The same verdict as the gate by id.
    assert_eq!(gate(&env, &req).0, 0);

    // A member signs a "request" for the same change that no one can fold (its record lacks every other
    // field): it counts for nothing, is named, and does not keep the genuine one from passing.
    let bob = env.signing_key("bob");
    let actor = rollcall::ledger::PublicKey::from_signing(&bob);
    let junk = rollcall::ledger::Statement::new(
        "rollback.requested",
        &actor,
        serde_json::json!({"change": "deploy-4411", "env": "production"}),
        &[],
    );
    let junk = env.append_raw(&junk, &bob);
    let (code, text, j) = by("deploy-4411", "production");
    assert_eq!(code, 0, "{text}");
    assert!(text.contains(&format!("request {} names it but counts for nothing", &junk[..12])), "{text}");
    assert_eq!((&j["request"], &j["unreadable"][0]["request"]), (&serde_json::json!(req), &serde_json::json!(junk)));
    // JSON need not be canonical: a statement spelling the change with escapes ("deploy-44\u0031\u0031") is
    // still read, not passed over by the search for the change's bytes.
    let escaped = {
        use ed25519_dalek::Signer;
        let l = rollcall::ledger::Ledger::open_read_only(&env.ledger()).unwrap();
        let ts = rollcall::ledger::statement::now_ts();
        let bytes = format!(
            r#"{{"actor":"{}","body":{{"change":"deploy-44\u0031\u0031","env":"production"}},"kind":"rollback.requested","refs":[],"ts":"{ts}","v":2}}"#,
            actor.encode()
        )
        .into_bytes();
        let pae = rollcall::ledger::dsse::pae(l.domain().payload_type("rollback.requested").unwrap(), &bytes);
        let signature = bob.sign(&pae).to_bytes();
        let entry = rollcall::ledger::SignedStatement { id: rollcall::ledger::Hash::of(&[&bytes]), bytes, signature };
        let head =
            rollcall::ledger::statement::CheckedHead { kind: "rollback.requested".into(), actor, ts, refs: vec![] };
        drop(l);
        env.push_leaf(&entry, &head, true);
        entry.id.to_hex()
    };
    let (code, text, j) = by("deploy-4411", "production");
    assert_eq!(code, 0, "{text}");
    let named: Vec<&str> = j["unreadable"].as_array().unwrap().iter().map(|u| u["request"].as_str().unwrap()).collect();
    assert!(named.contains(&escaped.as_str()) && named.contains(&junk.as_str()), "{named:?}");

    // Another environment; a change the request names only in part.
    assert_eq!(by("deploy-4411", "staging").0, 1);
    let commit = "c0c767c533d5f2c4d9829bbb9aa76305217f8fdf";
    env.ok(&[
        "request",
        "amend",
        &req,
        "--reason",
        "the commit, not the deploy",
        "--change",
        &commit[..12],
        "--as",
        "bob",
    ]);
    let (code, text, _) = by("deploy-4411", "production");
    assert_eq!(code, 1, "the amendment took the request off deploy-4411: {text}");
    assert!(text.starts_with("gate BLOCKS: no request to revert deploy-4411"), "{text}");
    let (code, text, j) = by(commit, "production");
    assert_eq!(code, 1, "{text}");
    assert!(text.contains(&format!("request {} names it in part (change {})", &req[..12], &commit[..12])), "{text}");
    assert_eq!(j["partial_matches"][0]["request"], req.as_str());
    // Hex ids compare without case; the amendment needs approving again.
    let (code, text, _) = by(&commit[..12].to_ascii_uppercase(), "production");
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("lets it run now (1 found)"), "{text}");
    env.ok(&["approve", &req, "--comment", "ok again", "--as", "carol"]);
    let before = env.fingerprint();
    assert_eq!(by(&commit[..12], "production").0, 0);
    assert_eq!(env.fingerprint(), before, "the gate writes nothing");

    // Terminal escapes in what is asked are shown escaped, never sent raw.
    let (code, text, _) = by("deploy-\u{1b}[2J", "prod\u{1b}]0;x\u{7}");
    assert_eq!(code, 1);
    assert!(!text.contains('\u{1b}') && !text.contains('\u{7}') && text.contains("<U+001B>"), "{text:?}");

    // Usage: REQ and --change together, --change without --env.
    assert_eq!(env.run(&["gate", &req, "--change", "x"]).status.code(), Some(2));
    assert_eq!(env.run(&["gate", "--change", "x"]).status.code(), Some(2));
}

/// A rollback is judged where it was signed (docs/FORMAT.md §1.3): marking its target bad afterwards
/// flags every request bringing it back from then on, `show` included, but does not make the execution
/// that already ran stop counting, so `verify`'s verdict on the past does not change when later entries
/// arrive.
#[test]
fn an_execution_keeps_counting_after_its_target_is_marked_bad() {
    let env = team();
    let req = file_request(&env, "bob", "low");
    // Filed before what makes their targets known bad: their rows of the request index must follow.
    let mut args = common::request_args("bob", "Back to 42", "low");
    let (from, to) =
        (args.iter().position(|a| *a == "--from").unwrap(), args.iter().position(|a| *a == "--to").unwrap());
    (args[from + 1], args[to + 1]) = ("43", "42");
    let back_to_42 = env.json(&args)["request"].as_str().unwrap().to_string();
    let back_to_41 = file_request(&env, "bob", "low");
    let listed_as_shown = |env: &Env| {
        for row in env.json(&["list"])["requests"].as_array().unwrap() {
            let shown = env.json(&["show", row["id"].as_str().unwrap()]);
            let flags = shown["assessment"]["flags"].as_array().unwrap().len() as u64;
            assert_eq!((row["flags"].as_u64(), &row["status"]), (Some(flags), &shown["status"]), "{row}");
        }
    };
    common::tested(&env, &req, "bob");
    env.ok(&["approve", &req, "--comment", "graphs confirm it", "--as", "carol"]);
    env.ok(&["execute", &req, "--outcome", "succeeded", "--as", "erin"]);
    // It rolled away from 42: a request bringing 42 back is flagged, in the list too.
    listed_as_shown(&env);
    let executed = |env: &Env| env.json(&["show", &req])["status"].as_str().unwrap().to_string();
    assert_eq!(executed(&env), "executed");
    assert!(verify_json(&env).1["does_not_count"].as_array().unwrap().is_empty());

    // Release 41 turns out to ship a backdoor.
    env.ok(&["mark-bad", "41", "--reason", "ships a backdoor", "--as", "dave"]);
    let (code, v) = verify_json(&env);
    assert_eq!(code, 0, "{v}");
    // The approval is reported as it counts now (the flag asks for a scan it was not signed with); the
    // execution, judged where it ran, still counts.
    let discounted: Vec<&str> =
        v["does_not_count"].as_array().unwrap().iter().map(|d| d["kind"].as_str().unwrap()).collect();
    assert_eq!(discounted, ["approval.granted"], "{v}");
    assert_eq!(executed(&env), "executed");
    // Asked now, the request (and any other bringing 41 back) carries the flag.
    let flagged = |id: &str| {
        env.json(&["show", id])["assessment"]["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == "KNOWN_BAD_ARTIFACT" && f["explanation"].as_str().unwrap().contains("backdoor"))
    };
    assert!(flagged(&req) && flagged(&back_to_41));
    let rolled_away = format!("42 was rolled away from by request {}", &req[..12]);
    let shown = env.json(&["show", &back_to_42]);
    let flags = shown["assessment"]["flags"].as_array().unwrap();
    assert!(flags.iter().any(|f| f["explanation"].as_str().unwrap().contains(&rolled_away)), "{shown}");
    listed_as_shown(&env);
    let again = file_request(&env, "bob", "low");
    assert!(flagged(&again));
    let (code, g) = gate(&env, &again);
    assert_eq!(code, 1, "{g}");
}

/// A security flag raised after the approvals makes them stale, as evidence attached after them does:
/// they count for what their signers saw. Here the approved release (41) is marked bad after three
/// approvals of a critical request whose evidence already satisfies the flag's; before, the gate kept
/// passing on approvals nobody gave knowing the artifact was bad.
#[test]
fn a_flag_raised_after_the_approvals_makes_them_stale() {
    let env = team();
    let req = file_request(&env, "bob", "critical");
    for kind in ["test", "scan", "compliance"] {
        attach(&env, &req, kind, "bob");
    }
    for who in ["carol", "dave", "erin"] {
        env.ok(&["approve", &req, "--comment", "reviewed", "--as", who]);
    }
    assert_eq!(gate(&env, &req).0, 0);
    env.ok(&["mark-bad", "41", "--reason", "ships a backdoor", "--as", "dave"]);
    let (code, g) = gate(&env, &req);
    assert_eq!(code, 1, "{g}");
    let stale = g["decisions"].as_array().unwrap().iter().filter(|d| {
        d["excluded"].as_str().is_some_and(|e| e.contains("the KNOWN_BAD_ARTIFACT flag was raised after this approval"))
    });
    assert_eq!(stale.count(), 3, "{g}");
    for who in ["carol", "dave", "erin"] {
        env.ok(&["approve", &req, "--comment", "knowing 41 is marked bad: still the way back", "--as", who]);
    }
    assert_eq!(gate(&env, &req).0, 0);
}

/// A run that counted had its approvals in force: a flag raised after it (which makes those approvals
/// stale for any later run) does not make the report call it "executed without the approvals". The
/// request is critical already, so the flag leaves the tier, and the approvals needed, as they were.
#[test]
fn a_flag_raised_after_a_run_leaves_its_approval_time() {
    let env = team();
    let k = env.json(&["key", "new", "olga"]);
    env.ok(&["enroll", "olga", "--pubkey", k["public_key"].as_str().unwrap(), "--role", "executor", "--as", "alice"]);
    let req = file_request(&env, "bob", "critical");
    for kind in ["test", "scan", "compliance"] {
        attach(&env, &req, kind, "bob");
    }
    for who in ["carol", "dave", "erin"] {
        env.ok(&["approve", &req, "--comment", "reviewed", "--as", who]);
    }
    env.ok(&["execute", &req, "--outcome", "succeeded", "--as", "olga"]);
    env.ok(&["mark-bad", "41", "--reason", "ships a backdoor", "--as", "dave"]);
    let report = env.json(&["report", "--format", "json", "--as", "alice"]);
    let facts = report["requests"].as_array().unwrap().iter().find(|r| r["id"] == req.as_str()).unwrap().clone();
    assert!(facts["approved_at"].is_string(), "{facts}");
    assert!(!report["breaches"].to_string().contains("executed without the approvals"), "{}", report["breaches"]);
}

/// A flag raised after a run that raises the request's tier asks nothing of the run: the report's approval
/// time is the approval the run counted at the tier it was judged at. Here a low request (one approval)
/// ran on carol's; marking the release it returned to bad makes it high (two, and a scan). The report counted
/// today's tier and called the run "executed without the approvals the policy requires".
#[test]
fn a_tier_raised_after_a_run_leaves_its_approval_time() {
    let env = team();
    let req = file_request(&env, "bob", "low");
    tested(&env, &req, "bob");
    env.ok(&["approve", &req, "--comment", "latency graphs confirm it", "--as", "carol"]);
    env.ok(&["execute", &req, "--outcome", "succeeded", "--as", "erin"]);
    let approved = env.json(&["show", &req])["decisions"][0]["ts"].clone();
    assert!(approved.is_string(), "{approved}");
    env.ok(&["mark-bad", "41", "--reason", "ships a backdoor", "--as", "dave"]);
    let now = env.json(&["show", &req]);
    assert_eq!(now["assessment"]["risk"]["tier"], "high", "the flag raised the tier: {now}");
    let report = env.json(&["report", "--format", "json", "--as", "alice"]);
    let facts = report["requests"].as_array().unwrap().iter().find(|r| r["id"] == req.as_str()).unwrap().clone();
    assert_eq!(facts["approved_at"], approved, "{facts}");
    assert!(!report["breaches"].to_string().contains("executed without the approvals"), "{}", report["breaches"]);
}

/// Changes the signature of every `artifact.marked-bad` in `env`'s file, behind the ledger's back.
fn unsign_marks(env: &Env) {
    let c = rusqlite::Connection::open(env.ledger()).unwrap();
    c.execute_batch(
        "DROP TRIGGER entries_no_update;
         UPDATE entries SET signature = zeroblob(64) WHERE kind = 'artifact.marked-bad';",
    )
    .unwrap();
}

/// A request whose stored statement was edited in the file (it no longer hashes to its id) leaves the
/// request index when a later entry makes the index compute its row again (a mark of what its revert brings
/// back), as a rebuild leaves it out: `list` stops showing the row it had (before, it showed the edited
/// title), and `verify` names the edit.
#[test]
fn an_edited_request_leaves_the_list_when_its_row_is_computed_again() {
    let env = team();
    let req = file_request(&env, "bob", "low");
    let other =
        env.json(&common::request_args("bob", "Another revert", "low"))["request"].as_str().unwrap().to_string();
    let listed = |env: &Env| -> Vec<String> {
        let v = env.json(&["list"]);
        v["requests"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_string()).collect()
    };
    assert!(listed(&env).contains(&req));
    let c = rusqlite::Connection::open(env.ledger()).unwrap();
    c.execute_batch("DROP TRIGGER entries_no_update").unwrap();
    let edited = c
        .execute(
            "UPDATE entries SET statement = CAST(replace(CAST(statement AS TEXT), 'deploy 4411', 'deploy 4412') AS BLOB)
              WHERE hex(id) = upper(?1)",
            [&req],
        )
        .unwrap();
    assert_eq!(edited, 1);
    drop(c);
    // The index is not read again for an edit it did not see: the row stays until it is computed again.
    assert!(listed(&env).contains(&req));
    env.ok(&["mark-bad", "41", "--reason", "ships a backdoor", "--as", "dave"]);
    let now = listed(&env);
    assert!(!now.contains(&req) && now.contains(&other), "{now:?}");
    // As a rebuild of the index leaves it out.
    env.ok(&["rebuild"]);
    assert_eq!(listed(&env), now);
    assert_eq!(verify_json(&env).0, 1);
}

/// An executed request is judged with its execution where it ran: a row that counted there (its target
/// marked bad before it ran, so the revert needed a scan) and now fails its check stops its timeline and
/// `show`, naming the row (the fold's own failure is tested beside it in `state.rs`).
#[test]
fn a_mark_before_an_execution_edited_in_the_file_stops_its_timeline() {
    let env = team();
    let req = file_request(&env, "bob", "low");
    env.ok(&["mark-bad", "41", "--reason", "ships a backdoor", "--as", "dave"]);
    // Marked bad before it runs: the revert needs a scan, and runs with one.
    common::tested(&env, &req, "bob");
    attach(&env, &req, "scan", "bob");
    env.ok(&["approve", &req, "--comment", "the scan is clean", "--as", "carol"]);
    env.ok(&["approve", &req, "--comment", "no security impact", "--as", "dave"]);
    let (code, g) = gate(&env, &req);
    assert_eq!(code, 0, "{g}");
    let flags = env.json(&["show", &req])["assessment"]["flags"].to_string();
    assert!(flags.contains("ships a backdoor"), "{flags}");
    env.ok(&["execute", &req, "--outcome", "succeeded", "--as", "erin"]);
    let timeline = env.ok(&["timeline", &req, "--format", "json"]);
    assert!(timeline.contains("rollback.executed"), "{timeline}");
    assert_eq!(env.json(&["show", &req])["status"], "executed");
    unsign_marks(&env);
    let held = env.entry_set();
    for args in [vec!["timeline", req.as_str()], vec!["show", req.as_str()]] {
        let err = env.fails(&args, 1);
        assert!(err.contains("naming 41 as known bad fails its check"), "{args:?}: {err}");
        assert!(!err.contains("could not be assessed"), "{args:?}: {err}");
    }
    assert_eq!(verify_json(&env).0, 1);
    assert_eq!(env.entry_set(), held);
}

/// A mark the file no longer proves (its signature changed behind the ledger's back) is not dropped, which
/// would lift it: `gate` and `show` stop, naming it, as for a request's own row that fails its check
/// (docs/FORMAT.md §7.5); the request list, a cache, still lists the request; `verify` finds the edit.
#[test]
fn a_mark_edited_in_the_file_stops_the_gate_instead_of_being_lifted() {
    let env = team();
    let req = file_request(&env, "bob", "low");
    env.ok(&["mark-bad", "41", "--reason", "ships a backdoor", "--as", "dave"]);
    let (code, g) = gate(&env, &req);
    assert_eq!(code, 1, "{g}");
    unsign_marks(&env);
    let held = env.entry_set();
    for args in [vec!["gate", req.as_str()], vec!["show", req.as_str()]] {
        let err = env.fails(&args, 1);
        assert!(err.contains("naming 41 as known bad fails its check"), "{args:?}: {err}");
    }
    let listed = env.json(&["list"]);
    assert!(listed["requests"].as_array().unwrap().iter().any(|r| r["id"] == req.as_str()), "{listed}");
    assert_eq!(verify_json(&env).0, 1);
    assert_eq!(env.entry_set(), held);
}

/// The review deadline of an emergency is the policy's, not its signer's: one signed (behind the workflow's
/// back) with `review_due` in the year 9999, or with none that reads as a time, would never be overdue. It
/// does not count: nothing is waived, `show` and `verify` say why.
#[test]
fn an_emergency_whose_review_is_due_later_than_the_policy_allows_does_not_count() {
    use rollcall::ledger::{Hash, PublicKey, Statement};
    for due in ["9999-12-31T00:00:00.000Z", "whenever"] {
        let env = team();
        let req = file_request(&env, "bob", "critical");
        let show = env.json(&["show", &req]);
        let erin = env.signing_key("erin");
        let body =
            serde_json::json!({"request": req, "version": show["version"], "reason": "outage", "review_due": due});
        let st = Statement::new(
            "emergency.invoked",
            &PublicKey::from_signing(&erin),
            body,
            &[Hash::from_hex(&req).unwrap()],
        );
        env.append_raw(&st, &erin);
        let (code, g) = gate(&env, &req);
        assert_eq!(code, 1, "{g}");
        assert!(g["checklist"].as_array().unwrap().iter().all(|i| i["waived"] == false), "{g}");
        let shown = env.ok(&["show", &req]);
        assert!(shown.contains("the policy wants it within 48 hours"), "{shown}");
        let (code, v) = verify_json(&env);
        assert_eq!(code, 0, "{v}");
        assert!(v["does_not_count"].to_string().contains("emergency.invoked"), "{v}");
    }
    // The workflow's own emergency counts (its deadline is the policy's).
    let env = team();
    let req = file_request(&env, "bob", "critical");
    env.ok(&["emergency", &req, "--reason", "checkout down", "--as", "erin"]);
    assert_eq!(gate(&env, &req).0, 0);
}

/// After a run that did not succeed the revert may run again on the same approvals, so the request takes
/// decisions again: a rejection then stops the retry, and the requester may withdraw it. Before, the failed run froze it: the rejection and the withdrawal
/// were refused ("the request is executed") and the gate kept passing the retry.
#[test]
fn a_failed_run_leaves_the_request_open_to_decisions() {
    let env = team();
    let req = file_request(&env, "bob", "low");
    tested(&env, &req, "bob");
    env.ok(&["approve", &req, "--comment", "ok", "--as", "carol"]);
    env.ok(&["execute", &req, "--outcome", "failed", "--as", "erin"]);
    assert_eq!(gate(&env, &req).0, 0, "the retry may run on carol's approval");
    // Its status says so (it said "executed"), and `list` picks it by that status.
    assert_eq!(env.json(&["show", &req])["status"], "failed");
    let failed = env.json(&["list", "--status", "failed"]);
    let ids: Vec<&str> = failed["requests"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [req.as_str()], "{failed}");
    // New evidence (read after the decision to run: it does not make carol's approval stale) and a second
    // approval, then a rejection, which stops the retry.
    let log = file(&env, "scan.txt", "the scan found the old TLS config is back\n");
    env.ok(&["evidence", "add", &req, &log, "--kind", "log", "--as", "bob"]);
    assert_eq!(gate(&env, &req).0, 0);
    env.ok(&["approve", &req, "--comment", "retry is fine", "--as", "frank"]);
    env.ok(&["reject", &req, "--comment", "the scan shows a regression; do not run", "--as", "dave"]);
    let (code, g) = gate(&env, &req);
    assert_eq!(code, 1, "{g}");
    assert!(
        g["checklist"].to_string().contains("rejected by dave")
            && g["checklist"].to_string().contains("only their approval lifts it now"),
        "{g}"
    );
    refused(&env, &["execute", &req, "--outcome", "succeeded", "--as", "erin"], 1, "did not allow");
    // The requester may withdraw it.
    env.ok(&["request", "withdraw", &req, "--reason", "abandoned after the failed run", "--as", "bob"]);
    assert_eq!(env.json(&["show", &req])["status"], "withdrawn");
    // After a partial run (it changed something) the request stays on the record: no withdrawal, though
    // a rejection may still stop a retry.
    let partial = file_request(&env, "bob", "low");
    tested(&env, &partial, "bob");
    env.ok(&["approve", &partial, "--comment", "ok", "--as", "carol"]);
    env.ok(&["execute", &partial, "--outcome", "partial", "--as", "erin"]);
    refused(&env, &["request", "withdraw", &partial, "--reason", "hide it", "--as", "bob"], 1, "executed");
    env.ok(&["reject", &partial, "--comment", "do not retry", "--as", "dave"]);
    assert_eq!(gate(&env, &partial).0, 1);
    let (code, v) = verify_json(&env);
    assert_eq!((code, v["does_not_count"].as_array().map(Vec::len)), (0, Some(0)), "{v}");
}

/// A CD tool that knows where it rolls back says so: `gate REQ --env` blocks a request filed for another
/// environment (checklist item `environment`, read from the signed record, as `gate --change --env` and
/// `execute --env` compare: without case and surrounding spaces); the request's own passes as without it.
#[test]
fn the_gate_holds_a_request_to_the_environment_the_caller_rolls_back_in() {
    let env = team();
    let req = file_request(&env, "bob", "low");
    tested(&env, &req, "bob");
    env.ok(&["approve", &req, "--comment", "latency graphs confirm it", "--as", "carol"]);
    let item = |g: &serde_json::Value| common::checklist_item(g, "environment");
    let out = env.run(&["--json", "gate", &req, "--env", "staging"]);
    assert_eq!(out.status.code(), Some(1));
    let g: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((g["gate"].clone(), item(&g)["met"].clone()), (false.into(), false.into()), "{g}");
    assert_eq!(item(&g)["detail"], "the request is for production, not staging");
    let text = String::from_utf8_lossy(&env.run(&["gate", &req, "--env", "staging"]).stdout).into_owned();
    assert!(text.contains("gate BLOCKS") && text.contains("[ ] environment"), "{text}");
    let g = env.json(&["gate", &req, "--env", " Production "]);
    assert_eq!((g["gate"].clone(), item(&g)["met"].clone()), (true.into(), true.into()), "{g}");
    assert!(item(&gate(&env, &req).1).is_null(), "no environment item unless asked");
    assert!(env.fails(&["gate", &req, "--env", " "], 2).contains("--env must not be empty"));
}

/// A job that knows the revision it rolls back to says so (`--to`): the gate blocks a request whose target
/// is another revision (checklist item `target`, by request and by change: an approval of a rollback to
/// Helm revision 41 does not open one to 40); the target itself passes, numbers without leading zeros.
#[test]
fn the_gate_holds_a_request_to_the_revision_the_caller_rolls_back_to() {
    let env = team();
    let req = file_request(&env, "bob", "low");
    tested(&env, &req, "bob");
    env.ok(&["approve", &req, "--comment", "latency graphs confirm it", "--as", "carol"]);
    let item = |g: &serde_json::Value| common::checklist_item(g, "target");
    let out = env.run(&["--json", "gate", &req, "--to", "40"]);
    assert_eq!(out.status.code(), Some(1));
    let g: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((g["gate"].clone(), item(&g)["met"].clone()), (false.into(), false.into()), "{g}");
    assert_eq!(item(&g)["detail"], "the request returns to 41, not 40 (an approval covers the revision it names)");
    let text = String::from_utf8_lossy(&env.run(&["gate", &req, "--to", "40"]).stdout).into_owned();
    assert!(text.contains("gate BLOCKS") && text.contains("[ ] target"), "{text}");
    let by_change = env.run(&["gate", "--change", "deploy-4411", "--env", "production", "--to", "40"]);
    assert_eq!(by_change.status.code(), Some(1), "{}", String::from_utf8_lossy(&by_change.stdout));
    for to in ["41", " 041 "] {
        let g = env.json(&["gate", &req, "--to", to]);
        assert_eq!((g["gate"].clone(), item(&g)["met"].clone()), (true.into(), true.into()), "{to}: {g}");
    }
    let g = env.json(&["gate", "--change", "deploy-4411", "--env", "production", "--to", "41"]);
    assert_eq!(g["gate"], true, "{g}");
    assert!(item(&gate(&env, &req).1).is_null(), "no target item unless asked");
    assert!(env.fails(&["gate", &req, "--to", " "], 2).contains("--to must not be empty"));
}

/// A CD tool that knows which component it rolls back says so: the gate blocks a request that does not
/// list it (checklist item `component`, by request and by change), and `execute` refuses to record a run
/// of another component, writing nothing; the component the request lists passes and records.
#[test]
fn the_gate_and_execute_hold_a_request_to_the_component_the_caller_rolls_back() {
    let env = team();
    let req = file_request(&env, "bob", "low");
    tested(&env, &req, "bob");
    env.ok(&["approve", &req, "--comment", "latency graphs confirm it", "--as", "carol"]);
    let item = |g: &serde_json::Value| common::checklist_item(g, "component");
    let out = env.run(&["--json", "gate", &req, "--component", "billing"]);
    assert_eq!(out.status.code(), Some(1));
    let g: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(g["gate"], false, "{g}");
    assert_eq!(item(&g)["met"], false, "{g}");
    assert_eq!(item(&g)["detail"], "the request reverts payments-api, not billing");
    let out = env.run(&["gate", &req, "--component", "billing"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("gate BLOCKS") && text.contains("[ ] component") && text.contains("not billing"), "{text}");
    let by_change =
        env.run(&["--json", "gate", "--change", "deploy-4411", "--env", "production", "--component", "billing"]);
    assert_eq!(by_change.status.code(), Some(1), "{}", String::from_utf8_lossy(&by_change.stdout));
    // The component the request lists: met, and the gate passes as without it.
    let (code, g) = (
        env.run(&["--json", "gate", &req, "--component", "payments-api"]).status.code(),
        env.json(&["gate", &req, "--component", " payments-api "]),
    );
    assert_eq!(code, Some(0), "{g}");
    assert_eq!(item(&g)["met"], true, "{g}");
    assert_eq!(gate(&env, &req).0, 0);
    assert!(item(&gate(&env, &req).1).is_null(), "no component item unless asked");
    // Compared as reconcile compares components: without case.
    assert_eq!(env.run(&["gate", &req, "--component", "Payments-API"]).status.code(), Some(0));
    // A blank name names nothing: a usage error, not a block.
    assert!(env.fails(&["gate", &req, "--component", " "], 2).contains("--component must not be empty"));
    // By change: of two requests to revert it there, the one listing the component is chosen.
    let mut args = common::request_args("bob", "Revert billing deploy 4411", "low");
    let at = args.iter().position(|a| *a == "payments-api").unwrap();
    args[at] = "billing";
    let billing = env.json(&args)["request"].as_str().unwrap().to_string();
    tested(&env, &billing, "bob");
    env.ok(&["approve", &billing, "--comment", "latency graphs confirm it", "--as", "carol"]);
    for (component, chosen) in [("payments-api", &req), ("billing", &billing)] {
        let g = env.json(&["gate", "--change", "deploy-4411", "--env", "production", "--component", component]);
        assert_eq!(g["request"], chosen.as_str(), "{component}: {g}");
        assert_eq!(g["candidates"].as_array().map(|c| c.len()), Some(2), "{g}");
    }

    // execute: another component is refused before anything is written.
    let before = env.fingerprint();
    let err = env.fails(&["execute", &req, "--outcome", "succeeded", "--component", "billing", "--as", "erin"], 1);
    assert!(err.contains("refused: the request reverts payments-api, not billing"), "{err}");
    assert_eq!(env.fingerprint(), before);
    assert!(
        env.fails(&["execute", &req, "--outcome", "succeeded", "--component", "", "--as", "erin"], 2)
            .contains("must not be empty")
    );
    assert_eq!(env.fingerprint(), before);
    env.ok(&["execute", &req, "--outcome", "succeeded", "--component", "payments-api", "--as", "erin"]);
    assert_eq!(env.json(&["show", &req])["status"], "executed");
}

/// `list --env` finds a request whose environment was written with spaces around it, as the gate, the
/// policy's windows and `reconcile` take it (the index compared without ASCII case but kept the spaces).
#[test]
fn list_finds_an_environment_written_with_spaces() {
    let env = team();
    let mut args = common::request_args("bob", "Revert 4411 (padded)", "low");
    let at = args.iter().position(|a| *a == "production").unwrap();
    args[at] = " Production ";
    let req = env.json(&args)["request"].as_str().unwrap().to_string();
    let listed = env.json(&["list", "--env", "production"]);
    assert!(listed["requests"].as_array().unwrap().iter().any(|r| r["id"] == req.as_str()), "{listed}");
    let listed = env.json(&["list", "--env", " PRODUCTION"]);
    assert!(listed["requests"].as_array().unwrap().iter().any(|r| r["id"] == req.as_str()), "{listed}");
}
