//! `rollcall reconcile` (issue 17): a Helm history ingested beside requests; the rollback a request
//! cleared matches, the one whose request was never approved is unauthorized, the one nobody filed is
//! unrecorded until a post-hoc request under an emergency accounts for it; the exit status says which.

mod common;
use common::{Env, file, file_request, request_args, team, tested};

fn history(env: &Env, now: chrono::DateTime<chrono::Utc>) -> String {
    let at =
        |minutes: i64| (now + chrono::Duration::minutes(minutes)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let revision = |n: u32, minutes: i64, description: &str| {
        format!(
            r#"{{"revision":{n},"updated":"{}","status":"superseded","chart":"payments-1.{n}.0","app_version":"1.{n}","description":"{description}"}}"#,
            at(minutes)
        )
    };
    let revisions = [
        revision(39, -3000, "Install complete"),
        revision(40, -2000, "Upgrade complete"),
        revision(41, -1000, "Upgrade complete"),
        revision(42, -100, "Upgrade complete"),
        revision(43, 5, "Rollback to 41"),
        revision(44, 6, "Upgrade complete"),
        revision(45, 10, "Rollback to 40"),
        revision(46, 15, "Rollback to 39"),
    ];
    file(env, "history.json", &format!("[{}]", revisions.join(",")))
}

/// A production revert of payments-api from 42 to 41, tested, approved and executed: its id.
fn executed_request(env: &Env) -> String {
    let a = file_request(env, "bob", "low");
    tested(env, &a, "bob");
    env.ok(&["approve", &a, "--comment", "ok", "--as", "carol"]);
    env.ok(&["execute", &a, "--outcome", "succeeded", "--as", "erin"]);
    a
}

fn reconcile(env: &Env, args: &[&str]) -> (i32, serde_json::Value) {
    let mut all = vec!["--json", "reconcile"];
    all.extend_from_slice(args);
    let out = env.run(&all);
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {} {}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    });
    (out.status.code().unwrap(), v)
}

#[test]
fn rollbacks_are_matched_with_requests_and_the_unrecorded_one_is_named() {
    let env = team();
    let now = chrono::Utc::now();
    // A: cleared and executed before the rollback to 41 ran.
    let a = executed_request(&env);
    // B: filed for the rollback to 40, never approved.
    let mut args = request_args("frank", "Back to 40", "low");
    for (i, v) in args.clone().iter().enumerate() {
        match *v {
            "42" => args[i] = "44",
            "41" => args[i] = "40",
            "helm rollback payments 41" => args[i] = "helm rollback payments 40",
            _ => {}
        }
    }
    let b = env.json(&args)["request"].as_str().unwrap().to_string();
    let h = history(&env, now);
    let ingested =
        env.json(&["ingest", "helm", &h, "--env", "production", "--component", "payments-api", "--as", "alice"]);
    assert_eq!(ingested["rollbacks"], 3, "{ingested}");

    let (code, r) = reconcile(&env, &[]);
    assert_eq!(code, 1, "{r}");
    assert_eq!(r["all_match"], false);
    assert_eq!((r["rollbacks"].as_u64(), r["recorded_before"].as_u64()), (Some(3), Some(1)));
    let matched = r["matched"].as_array().unwrap();
    assert!(matched.iter().any(|m| m["request"] == a.as_str() && m["recorded_before"] == true), "{r}");
    let unauthorized = r["unauthorized"].as_array().unwrap();
    assert_eq!(unauthorized.len(), 1, "{r}");
    assert_eq!(unauthorized[0]["request"]["request"], b.as_str());
    assert_eq!(unauthorized[0]["observation"]["revision"], "45");
    assert!(unauthorized[0]["why"].as_str().unwrap().contains("not approved"), "{r}");
    let unrecorded = r["unrecorded"].as_array().unwrap();
    assert_eq!(unrecorded.len(), 1, "{r}");
    assert_eq!((unrecorded[0]["revision"].as_str(), unrecorded[0]["to"].as_str()), (Some("46"), Some("39")));
    assert_eq!((r["executed"].as_u64(), r["confirmed"].as_u64()), (Some(1), Some(1)));
    assert!((r["share_recorded_before"].as_f64().unwrap() - 1.0 / 3.0).abs() < 1e-9);

    // The report says the share recorded before they ran, and names the observations that were not.
    let report = env.json(&["report", "--format", "json", "--as", "alice"]);
    let o = &report["metrics"]["rollbacks_observed"];
    assert_eq!((o["observed"].as_u64(), o["recorded_before"].as_u64()), (Some(3), Some(1)), "{report}");
    assert_eq!(o["unrecorded"].as_array().map(Vec::len), Some(1));
    // A report narrowed to the environment reads the figure on a connection of its own instead of picking
    // it in its walk: the same figure.
    let narrowed = env.json(&["report", "--format", "json", "--env", "production", "--as", "alice"]);
    assert_eq!(&narrowed["metrics"]["rollbacks_observed"], o, "{narrowed}");
    let md = env.ok(&["report", "--as", "alice"]);
    assert!(
        md.contains(
            "| rollbacks recorded before they ran (of those ingested deployment histories show) | 33 % (1 of 3;"
        ),
        "{md}"
    );
    assert!(md.contains("- unrecorded rollbacks (observation ids; `rollcall reconcile` lists them): `"), "{md}");

    // The text names the unrecorded rollback and how to file for it.
    let out = env.run(&["reconcile"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    let obs = unrecorded[0]["observation"].as_str().unwrap();
    assert!(text.contains("UNRECORDED") && text.contains(&format!("--from-observed {}", &obs[..12])), "{text}");
    assert!(text.contains("UNAUTHORIZED") && text.contains(&b[..12]), "{text}");
    // The whole path, with every field `request new --from-observed` needs beside the observation (the
    // line alone was refused for four missing fields), then the emergency.
    assert!(
        text.contains(
            "rollcall request new --from-observed ID --category CATEGORY --rationale 'WHY' --impact 'WHAT IT DID' --risk RISK"
        ) && text.contains("rollcall emergency REQ --reason"),
        "{text}"
    );

    // Filed post hoc from the observation, under an emergency (twenty minutes on, after the rollbacks
    // ran): accounted for, a review owed.
    let later = (now + chrono::Duration::minutes(20)).to_rfc3339();
    let at_later = |args: &[&str]| {
        let out = env.cmd().env("ROLLCALL_NOW", &later).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let filed: serde_json::Value = serde_json::from_str(&at_later(&[
        "--json",
        "request",
        "new",
        "--from-observed",
        &obs[..12],
        "--category",
        "performance-regression",
        "--rationale",
        "rolled back at night without a request",
        "--impact",
        "none known",
        "--risk",
        "low",
        "--as",
        "bob",
    ]))
    .unwrap();
    let post_hoc = filed["request"].as_str().unwrap().to_string();
    at_later(&["emergency", &post_hoc, "--reason", "already ran at night: post-hoc record", "--as", "erin"]);
    at_later(&["emergency", &b, "--reason", "ran under pressure: post-hoc", "--as", "erin"]);
    let (code, r) = reconcile(&env, &[]);
    assert_eq!(code, 0, "{r}");
    assert_eq!((r["recorded_before"].as_u64(), r["recorded_after"].as_u64()), (Some(2), Some(1)), "{r}");
    assert!(env.json(&["obligations"])["obligations"].as_array().unwrap().len() >= 2);

    // Scoped: nothing after the last rollback; another environment has nothing.
    let after = (now + chrono::Duration::hours(1)).to_rfc3339();
    let (code, r) = reconcile(&env, &["--since", &after]);
    assert_eq!((code, r["rollbacks"].as_u64()), (0, Some(0)));
    let (_, r) = reconcile(&env, &["--env", "staging"]);
    assert_eq!(r["rollbacks"], 0);
}

/// A history read again once its window moved (Helm keeps ten revisions) shows a rollback it showed
/// before with less said of it: the revision before it is gone, so no `from`. It is the same deployment:
/// not recorded again, and counted once. Before, it was recorded anew and counted as a second rollback,
/// which found its request already used: a false UNRECORDED, escalated by notify.
#[test]
fn a_history_read_again_after_its_window_moved_counts_each_rollback_once() {
    let env = team();
    let now = chrono::Utc::now();
    let h = history(&env, now);
    let ingest = |path: &str| {
        env.json(&["ingest", "helm", path, "--env", "production", "--component", "payments-api", "--as", "alice"])
    };
    assert_eq!(ingest(&h)["rollbacks"], 3);
    let (_, before) = reconcile(&env, &[]);
    assert_eq!((before["rollbacks"].as_u64(), before["unrecorded"].as_array().map(Vec::len)), (Some(3), Some(3)));
    // Revisions 45 to 47: 45 ("Rollback to 40") without the 44 before it, and one new upgrade.
    let moved: Vec<serde_json::Value> = serde_json::from_str::<Vec<serde_json::Value>>(&std::fs::read_to_string(&h).unwrap())
        .unwrap()
        .into_iter()
        .filter(|r| r["revision"].as_u64() >= Some(45))
        .chain([serde_json::json!({"revision": 47, "updated": (now + chrono::Duration::minutes(20)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "status": "deployed", "chart": "payments-1.47.0", "app_version": "1.47", "description": "Upgrade complete"})])
        .collect();
    let again = file(&env, "moved.json", &serde_json::to_string(&moved).unwrap());
    let r = ingest(&again);
    assert_eq!((r["seen"].as_u64(), r["recorded"].as_u64(), r["already"].as_u64()), (Some(3), Some(1), Some(2)), "{r}");
    let (_, after) = reconcile(&env, &[]);
    assert_eq!(
        (after["rollbacks"].as_u64(), after["unrecorded"].as_array().map(Vec::len)),
        (Some(3), Some(3)),
        "{after}"
    );
    // A reading that says otherwise of a deployment (here another chart for revision 46) is another account
    // of it: recorded, and read beside the first (a crafted first account cannot hide the real one).
    let changed = std::fs::read_to_string(&again).unwrap().replace("payments-1.46.0", "payments-1.46.1");
    let changed = file(&env, "changed.json", &changed);
    assert_eq!(ingest(&changed)["recorded"], 1);
    let (_, r) = reconcile(&env, &[]);
    assert_eq!(r["rollbacks"], 4, "{r}");
    assert_eq!(ingest(&changed)["recorded"], 0, "and not again");
}

/// The other order: a reading of the moved window first (rollback 45 without the revision before it),
/// then the whole history, which says more of 45. It is recorded once (not at every later ingest), and the
/// rollback is counted once.
#[test]
fn a_fuller_reading_after_a_narrower_one_is_recorded_once_and_counted_once() {
    let env = team();
    let now = chrono::Utc::now();
    let h = history(&env, now);
    let ingest = |path: &str| {
        env.json(&["ingest", "helm", path, "--env", "production", "--component", "payments-api", "--as", "alice"])
    };
    let narrow: Vec<serde_json::Value> =
        serde_json::from_str::<Vec<serde_json::Value>>(&std::fs::read_to_string(&h).unwrap())
            .unwrap()
            .into_iter()
            .filter(|r| r["revision"].as_u64() >= Some(45))
            .collect();
    let narrow = file(&env, "narrow.json", &serde_json::to_string(&narrow).unwrap());
    assert_eq!(ingest(&narrow)["recorded"], 2);
    let full = ingest(&h);
    assert_eq!((full["recorded"].as_u64(), full["already"].as_u64()), (Some(7), Some(1)), "{full}");
    let again = ingest(&h);
    assert_eq!((again["recorded"].as_u64(), again["already"].as_u64()), (Some(0), Some(8)), "{again}");
    let (_, r) = reconcile(&env, &[]);
    assert_eq!((r["rollbacks"].as_u64(), r["unrecorded"].as_array().map(Vec::len)), (Some(3), Some(3)), "{r}");
}

#[test]
fn an_execution_the_history_does_not_show_is_unconfirmed() {
    let env = team();
    let now = chrono::Utc::now();
    let a = executed_request(&env);
    // Before any history is ingested, nothing covers the execution: not a finding.
    let (code, r) = reconcile(&env, &[]);
    assert_eq!((code, r["not_covered"].as_u64(), r["executed"].as_u64()), (0, Some(1), Some(1)), "{r}");
    // A history taken after the execution that shows no rollback to 41.
    let at = |m: i64| (now + chrono::Duration::minutes(m)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let h = file(
        &env,
        "h.json",
        &format!(
            r#"[{{"revision":41,"updated":"{}","description":"Install complete"}},{{"revision":42,"updated":"{}","description":"Upgrade complete"}}]"#,
            at(-600),
            at(30)
        ),
    );
    env.ok(&["ingest", "helm", &h, "--env", "production", "--component", "payments-api", "--as", "alice"]);
    let (code, r) = reconcile(&env, &[]);
    assert_eq!(code, 1, "{r}");
    assert_eq!(r["unconfirmed"][0]["request"], a.as_str(), "{r}");
    let text = String::from_utf8_lossy(&env.run(&["reconcile"]).stdout).to_string();
    assert!(text.contains("UNCONFIRMED"), "{text}");
}

#[test]
fn bad_arguments_are_refused_in_one_line() {
    let env = Env::with_ledger();
    let out = env.run(&["reconcile", "--since", "yesterday"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a date") && err.trim().lines().count() == 1, "{err}");
    let out = env.run(&["reconcile", "--window", "0"]);
    assert_eq!(out.status.code(), Some(2));
    // An empty ledger: nothing to reconcile, all match.
    let (code, r) = reconcile(&env, &[]);
    assert_eq!((code, r["rollbacks"].as_u64(), r["share_recorded_before"].is_null()), (0, Some(0), true));
}

#[test]
fn an_observation_signed_by_a_key_that_does_not_count_says_nothing() {
    // A rogue peer holding the origin key appends a correctly signed observation with a key never
    // enrolled: a fake unrecorded rollback (noise at 3 a.m.), or a fake confirmation. Neither counts.
    use ed25519_dalek::SigningKey;
    use rollcall::ledger::{PublicKey, Statement};
    let env = Env::with_ledger();
    let mallory = SigningKey::from_bytes(&[66u8; 32]);
    let body = serde_json::json!({
        "source": "helm", "env": "production", "component": "api", "revision": "9", "from": "8", "to": "7",
        "rollback": true, "at": "2026-01-01T03:00:00Z", "by": null, "artifact": null, "description": null,
        "input_sha256": "0".repeat(64),
    });
    let forged = env.append_raw(
        &Statement::new("deployment.observed", &PublicKey::from_signing(&mallory), body.clone(), &[]),
        &mallory,
    );
    let (code, r) = reconcile(&env, &[]);
    assert_eq!((code, r["rollbacks"].as_u64()), (0, Some(0)), "{r}");
    let v = env.json(&["verify"]);
    assert_eq!(v["does_not_count"].as_array().map(Vec::len), Some(1), "{v}");
    // Nothing is filled from it, and it does not hide the real revision 9 from an ingest.
    let err = env.fails(&["request", "new", "--from-observed", &forged[..12], "--as", "alice"], 1);
    assert!(err.contains("does not count") && err.contains("not enrolled"), "{err}");
    let h = file(
        &env,
        "h.json",
        r#"[{"revision":8,"updated":"2026-01-01T01:00:00Z","description":"Upgrade complete"},
            {"revision":9,"updated":"2026-01-01T02:00:00Z","description":"Upgrade complete"}]"#,
    );
    let ingested = env.json(&["ingest", "helm", &h, "--env", "production", "--component", "api", "--as", "alice"]);
    assert_eq!((ingested["recorded"].as_u64(), ingested["already"].as_u64()), (Some(2), Some(0)), "{ingested}");
    // The same observation signed by a member counts.
    let alice = env.signing_key("alice");
    env.append_raw(&Statement::new("deployment.observed", &PublicKey::from_signing(&alice), body, &[]), &alice);
    let (code, r) = reconcile(&env, &[]);
    assert_eq!((code, r["unrecorded"].as_array().map(Vec::len)), (1, Some(1)), "{r}");
}
