//! Reports and timelines end to end: figures on a hand-built ledger checked against values worked out by
//! hand, the demo's governance report against a committed snapshot, CSV that parses back, exact timeline
//! order and latencies, a tampered ledger named in the header, and audited reads.

mod common;

use common::{Env, team_at};
use serde_json::Value;

/// Runs `args` at the workflow time `now`, asserting success; returns stdout.
fn at(env: &Env, now: &str, args: &[&str]) -> String {
    let out = env.cmd().args(args).env("ROLLCALL_NOW", now).output().expect("run");
    assert!(out.status.success(), "rollcall {args:?} at {now}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8")
}

fn at_json(env: &Env, now: &str, args: &[&str]) -> Value {
    let mut a = vec!["--json"];
    a.extend_from_slice(args);
    serde_json::from_str(&at(env, now, &a)).expect("json")
}

/// Files a low-risk production request for payments-api in incident INC-7 as `who` at `now`.
fn request(env: &Env, who: &str, now: &str, title: &str, deployed: Option<&str>) -> String {
    let mut args = common::request_args(who, title, "low");
    args.extend(["--incident", "INC-7"]);
    if let Some(d) = deployed {
        args.extend(["--deployed-at", d]);
    }
    at_json(env, now, &args)["request"].as_str().expect("request id").to_string()
}

/// Three requests with hand-computable figures:
/// - A: deployed 07:00, requested 10:00 (detect 3 h), approved 10:30 (0.5 h), executed 12:00 (2 h,
///   succeeded), validated 13:00 (3 h);
/// - B: deploy time unknown, requested the next day 10:00, approved 11:30 (1.5 h), executed 14:00 (4 h,
///   failed);
/// - C: deployed 09:00, requested 10:00 two days later (detect 1 h), emergency at 10:05, still unreviewed
///   when the report runs five days later (review due after 48 h).
fn hand_built() -> (Env, [String; 3]) {
    let env = team_at(Some("2026-11-01T00:00:00Z"));
    let junit = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/junit-nextest.xml");
    let tests = |req: &str, now: &str| at(&env, now, &["evidence", "add", req, junit, "--kind", "test", "--as", "bob"]);
    let a = request(&env, "bob", "2026-11-03T10:00:00Z", "Revert A", Some("2026-11-03T07:00:00Z"));
    tests(&a, "2026-11-03T10:10:00Z");
    at(&env, "2026-11-03T10:30:00Z", &["approve", &a, "--comment", "ok", "--as", "carol"]);
    at(&env, "2026-11-03T12:00:00Z", &["execute", &a, "--outcome", "succeeded", "--as", "erin"]);
    at(&env, "2026-11-03T13:00:00Z", &["validate", &a, "--result", "pass", "--check", "smoke=pass", "--as", "erin"]);
    let b = request(&env, "frank", "2026-11-04T10:00:00Z", "Revert B", None);
    tests(&b, "2026-11-04T10:10:00Z");
    at(&env, "2026-11-04T11:30:00Z", &["approve", &b, "--comment", "ok", "--as", "carol"]);
    at(&env, "2026-11-04T14:00:00Z", &["execute", &b, "--outcome", "failed", "--as", "erin"]);
    let c = request(&env, "bob", "2026-11-05T10:00:00Z", "Revert C", Some("2026-11-05T09:00:00Z"));
    at(&env, "2026-11-05T10:05:00Z", &["emergency", &c, "--reason", "checkout down", "--as", "erin"]);
    (env, [a, b, c])
}

const LATER: &str = "2026-11-10T12:00:00Z";

fn hours(v: &Value, figure: &str, key: &str) -> f64 {
    v["metrics"][figure][key].as_f64().unwrap_or_else(|| panic!("{figure}.{key} in {}", v["metrics"][figure]))
}

#[test]
fn figures_on_a_hand_built_ledger_match_the_hand_computed_values() {
    let (env, [a, b, c]) = hand_built();
    let v = at_json(&env, LATER, &["report", "--format", "json", "--as", "alice"]);
    let m = &v["metrics"];
    assert_eq!(m["requests"], 3);
    // Time to detect: A 3 h and C 1 h; B has no deploy time and is excluded.
    assert_eq!(m["time_to_detect"]["population"], 2);
    assert_eq!(m["time_to_detect"]["excluded"], 1);
    assert_eq!(hours(&v, "time_to_detect", "mean_hours"), 2.0);
    assert_eq!(hours(&v, "time_to_detect", "median_hours"), 2.0);
    // Approval latency: 0.5 h and 1.5 h; C was never approved.
    assert_eq!(m["time_to_approve"]["population"], 2);
    assert_eq!(hours(&v, "time_to_approve", "mean_hours"), 1.0);
    // Time to recover: 2 h and 4 h.
    assert_eq!(m["time_to_execute"]["population"], 2);
    assert_eq!(hours(&v, "time_to_execute", "mean_hours"), 3.0);
    // Validation: A only, 3 h.
    assert_eq!(m["time_to_validate"]["population"], 1);
    assert_eq!(hours(&v, "time_to_validate", "median_hours"), 3.0);
    // Emergency share 1 of 3, that one review overdue; one failed execution of two.
    assert_eq!(m["emergency_share"]["population"], 3);
    assert_eq!(m["emergency_share"]["ids"], serde_json::json!([c]));
    assert!((m["emergency_share"]["value"].as_f64().unwrap() - 1.0 / 3.0).abs() < 1e-12);
    assert_eq!(m["overdue_reviews"]["ids"], serde_json::json!([c]));
    assert_eq!(m["failed_or_partial"]["population"], 2);
    assert_eq!(m["failed_or_partial"]["ids"], serde_json::json!([b]));
    assert_eq!(m["failed_or_partial"]["value"].as_f64(), Some(0.5));
    assert_eq!(m["by_env"], serde_json::json!({"production": 3}));
    assert_eq!(m["by_component"], serde_json::json!({"payments-api": 3}));
    assert_eq!(m["per_week"], serde_json::json!({"2026-W45": 3}));
    // The breaches name the failed execution and the overdue review.
    let breaches = v["breaches"].to_string();
    assert!(breaches.contains(&b) && breaches.contains(&c), "{breaches}");
    assert!(!breaches.contains(&a), "{breaches}");

    // The period filter: only B falls on 2026-11-04.
    let v = at_json(
        &env,
        LATER,
        &["report", "--format", "json", "--since", "2026-11-04", "--until", "2026-11-05", "--as", "alice"],
    );
    assert_eq!(v["metrics"]["requests"], 1, "{}", v["metrics"]);
    assert_eq!(v["requests"][0]["id"], b.as_str());
}

/// A report narrowed to an environment or a component covers every request the policy and `reconcile`
/// count there: an environment spelled with a (no-break) space after it, and a component that is not the request's
/// first (before, both were left out of the counts, tables and breaches, while the rollback figure of the
/// same report counted them), and the environment table has one row for the spellings of one name.
#[test]
fn a_scoped_report_covers_every_request_of_its_environment_and_component() {
    let env = common::team();
    let plain = common::file_request(&env, "bob", "low");
    let mut args = common::request_args("bob", "revert docs and payments", "low");
    for (i, v) in args.clone().iter().enumerate() {
        match *v {
            // A no-break space after it: SQLite's trim() would keep it; the policy's comparison drops it.
            "production" => args[i] = "production\u{a0}",
            "payments-api" => args[i] = "docs",
            _ => {}
        }
    }
    args.extend(["--component", "Payments-API"]);
    let spaced = env.json(&args)["entry_id"].as_str().unwrap().to_string();
    let ids = |v: &Value| -> Vec<String> {
        let mut ids: Vec<String> =
            v["requests"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_string()).collect();
        ids.sort();
        ids
    };
    let mut both = vec![plain.clone(), spaced.clone()];
    both.sort();
    let by_env = env.json(&["report", "--format", "json", "--env", "production", "--as", "alice"]);
    assert_eq!(ids(&by_env), both, "{by_env}");
    assert_eq!(by_env["metrics"]["by_env"], serde_json::json!({"production": 2}));
    let by_component = env.json(&["report", "--format", "json", "--component", "payments-api", "--as", "alice"]);
    assert_eq!(ids(&by_component), both, "{by_component}");
    assert_eq!(by_component["metrics"]["requests"], 2);
    let docs = env.json(&["report", "--format", "json", "--component", " DOCS", "--as", "alice"]);
    assert_eq!(ids(&docs), vec![spaced], "{docs}");
    // A name no request uses gives an empty report, and says so; a scope that covers nothing, and CSV
    // asked with --json, are refused before anything is read or recorded.
    let out = env.run(&["report", "--format", "json", "--env", "prod", "--as", "alice"]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("warning: no request in the report's period is for --env \"prod\""), "{err}");
    let before = env.fingerprint();
    let err = env.fails(&["report", "--since", "2026-12-01", "--until", "2026-11-01", "--as", "alice"], 2);
    assert!(err.contains("is not before --until"), "{err}");
    let err = env.fails(&["--json", "report", "--format", "csv", "--as", "alice"], 2);
    assert!(err.contains("give --format csv without --json"), "{err}");
    assert_eq!(env.fingerprint(), before, "nothing recorded");
}

#[test]
fn the_timeline_is_in_order_with_exact_latencies() {
    let (env, [a, _, _]) = hand_built();
    let v = at_json(&env, LATER, &["timeline", &a[..12], "--format", "json"]);
    let events = v["events"].as_array().expect("events");
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["rollback.requested", "evidence.attached", "approval.granted", "rollback.executed", "rollback.validated"]
    );
    let since_prev: Vec<f64> = events.iter().map(|e| e["since_previous_min"].as_f64().unwrap()).collect();
    assert_eq!(since_prev, [0.0, 10.0, 20.0, 90.0, 60.0]);
    let since_start: Vec<f64> = events.iter().map(|e| e["since_start_min"].as_f64().unwrap()).collect();
    assert_eq!(since_start, [0.0, 10.0, 30.0, 120.0, 180.0]);
    assert!(events[2]["actor"].as_str().unwrap().starts_with("carol ("), "{}", events[2]);

    // The incident timeline gathers all three requests, in time order.
    let v = at_json(&env, LATER, &["timeline", "--incident", "INC-7", "--format", "json"]);
    let events = v["events"].as_array().expect("events");
    let times: Vec<&str> = events.iter().map(|e| e["at"].as_str().unwrap()).collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted);
    assert_eq!(events.iter().filter(|e| e["kind"] == "rollback.requested").count(), 3);
    assert!(events.iter().any(|e| e["kind"] == "emergency.invoked"));
    let md = at(&env, LATER, &["timeline", "--incident", "INC-7"]);
    assert!(md.contains("Timeline: incident INC-7 (3 requests)"), "{md}");
    assert!(md.contains("emergency.invoked") || md.contains("emergency"), "{md}");
}

/// A minimal RFC 4180 reader: quoted fields, doubled quotes, CRLF or LF.
fn parse_csv(s: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(!quoted, "unterminated quote");
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

#[test]
fn csv_parses_back_and_defuses_formulas() {
    let (env, ids) = hand_built();
    let hostile = request(&env, "bob", "2026-11-06T10:00:00Z", "=HYPERLINK(\"http://x\",\"click\"), \"quoted\"", None);
    let csv = at(&env, LATER, &["report", "--format", "csv", "--as", "alice"]);
    let rows = parse_csv(&csv);
    let header = &rows[0];
    assert_eq!(header[0], "id");
    assert!(rows.iter().all(|r| r.len() == header.len()), "every row has every column");
    assert_eq!(rows.len(), 1 + 4);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap_or_else(|| panic!("column {name}"));
    let mut got: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    got.sort();
    let mut want: Vec<&str> = ids.iter().map(String::as_str).chain([hostile.as_str()]).collect();
    want.sort();
    assert_eq!(got, want);
    let row = rows.iter().find(|r| r[0] == hostile).unwrap();
    assert_eq!(row[col("title")], "'=HYPERLINK(\"http://x\",\"click\"), \"quoted\"", "a formula is defused");
    let b = rows.iter().find(|r| r[0] == ids[1]).unwrap();
    assert_eq!(b[col("outcome")], "failed");
    assert_eq!(b[col("hours_to_execute")], "4.000");
}

/// A report or export whose output cannot be written (a directory that is not there, a path naming a
/// directory) is refused in one line before its read is recorded: no `audit.read` for a read nobody got.
#[test]
fn output_that_cannot_be_written_is_refused_before_the_read_is_recorded() {
    let (env, _) = hand_built();
    let missing = env.home().join("no-such-dir");
    for (args, out) in [
        (vec!["report", "--format", "md", "--as", "alice", "--out"], missing.join("r.md")),
        (vec!["report", "--format", "md", "--as", "alice", "--out"], env.home().to_path_buf()),
        (vec!["export", "--as", "alice", "--out"], missing.join("x.rollcall")),
        (vec!["export", "--as", "alice", "--out"], env.home().to_path_buf()),
    ] {
        let mut args = args.clone();
        args.push(out.to_str().unwrap());
        let err = env.refuses(&args);
        assert!(
            err.contains("cannot write") && err.contains(out.to_str().unwrap()) && !err.contains("at path"),
            "{err}"
        );
        assert_eq!(env.run(&args).status.code(), Some(2), "{args:?}");
    }
    assert!(!missing.exists());
}

#[test]
fn reports_and_exports_are_recorded_as_reads_unless_policy_says_otherwise() {
    let (env, _) = hand_built();
    let before = env.size();
    at(&env, LATER, &["report", "--format", "md", "--as", "alice"]);
    let log = env.json(&["log"]);
    let last = log["entries"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(env.size(), before + 1);
    assert_eq!(last["kind"], "audit.read");
    assert_eq!(last["actor_name"], "alice");
    let out = env.home().join("x.rollcall");
    env.ok(&["export", "--out", out.to_str().unwrap(), "--as", "alice"]);
    assert_eq!(env.size(), before + 2, "the export is recorded too");

    // The body says what was read and what the reader saw.
    let c = rusqlite::Connection::open(env.ledger()).unwrap();
    let st: Vec<u8> = c
        .query_row(
            "SELECT e.statement FROM entries e JOIN leaves l ON l.entry_id = e.id ORDER BY l.ets DESC, l.idx DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let st: Value = serde_json::from_slice(&st).unwrap();
    assert_eq!(st["body"]["what"], "export", "{st}");
    assert_eq!(st["body"]["seen"]["test.example/laptop"], (before + 1).to_string(), "{st}");

    // An auditor reading a bundle writes nothing anywhere.
    let auditor = Env::new();
    let md = auditor.ok(&["report", "--bundle", out.to_str().unwrap()]);
    assert!(md.contains("# Rollback governance report"), "{md}");
    let tl = auditor.ok(&["timeline", "--incident", "INC-7", "--bundle", out.to_str().unwrap()]);
    assert!(tl.contains("INC-7"), "{tl}");
    assert!(std::fs::read_dir(auditor.home()).unwrap().next().is_none(), "nothing written by the auditor");
    let bytes = std::fs::read(&out).unwrap();
    env.ok(&["verify", "--bundle", out.to_str().unwrap()]);
    assert_eq!(bytes, std::fs::read(&out).unwrap(), "the bundle is untouched");

    // With `[audit] record_reads = false` adopted, reads leave no entry.
    let policy = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/policy.toml"))
        .unwrap()
        .replace("record_reads = true", "record_reads = false");
    let p = common::file(&env, "quiet.toml", &policy);
    env.ok(&["policy", "adopt", &p, "--as", "alice"]);
    let size = env.size();
    at(&env, LATER, &["report", "--as", "alice"]);
    assert_eq!(env.size(), size, "no read recorded");
}

/// Rewrites request `a`'s title inside its stored statement ("Revert A" becomes "Revert Z"), behind the
/// ledger's back.
fn forge_title(env: &common::Env, a: &str) {
    let c = env.tamper();
    let id = hex::decode(a).unwrap();
    let st: Vec<u8> = c.query_row("SELECT statement FROM entries WHERE id = ?1", [&id], |r| r.get(0)).unwrap();
    let forged = String::from_utf8(st).unwrap().replace("Revert A", "Revert Z");
    c.execute("UPDATE entries SET statement = ?1 WHERE id = ?2", rusqlite::params![forged.as_bytes(), &id]).unwrap();
}

#[test]
fn a_report_on_a_tampered_ledger_says_so_in_its_header() {
    let (env, [a, _, _]) = hand_built();
    // The request index (the figures' cache) is derived before the damage.
    env.ok(&["list"]);
    forge_title(&env, &a);
    let out = env.cmd().args(["report", "--as", "alice"]).env("ROLLCALL_NOW", LATER).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "written, and exit 1: {}", String::from_utf8_lossy(&out.stderr));
    let md = String::from_utf8(out.stdout).unwrap();
    let header: String = md.lines().take(8).collect::<Vec<_>>().join("\n");
    assert!(header.contains("Verification: **FAILED**"), "the verdict is in the header: {header}");
    assert!(!md.contains("Revert Z"), "the forged request is not reported as fact");
    let out = env.run(&["report", "--format", "json", "--as", "alice"]);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).expect("the JSON report");
    assert_eq!(v["header"]["intact"], false, "{}", v["header"]);
    assert_eq!(v["metrics"]["requests"], 2, "the tampered request is left out of the figures");
}

#[test]
fn a_read_only_report_on_a_tampered_ledger_keeps_the_index_and_says_failed() {
    // An auditor's process may not write the file: the index cannot be derived again, the verdict still
    // fails in the header, and the file is left as it was.
    let (env, [a, _, _]) = hand_built();
    env.ok(&["list"]);
    forge_title(&env, &a);
    let before = std::fs::read(env.ledger()).unwrap();
    let ledger = rollcall::ledger::Ledger::open_read_only(&env.ledger()).unwrap();
    let mut out = Vec::new();
    let scope = rollcall::workflow::reads::report::Scope::default();
    let report = rollcall::workflow::reads::report::write_report(
        &ledger,
        &scope,
        None,
        rollcall::report::render::Format::Json,
        &mut out,
    )
    .expect("a read-only report is written");
    drop(ledger);
    assert!(!report.header.intact, "the verdict fails");
    let v: Value = serde_json::from_slice(&out).expect("the JSON report");
    assert_eq!(v["header"]["intact"], false, "{}", v["header"]);
    assert_eq!(std::fs::read(env.ledger()).unwrap(), before, "the file is unchanged");
}

/// Replaces every run of 12 or more hex digits (ids, roots, key ids) with `<id>`.
fn redact_ids(s: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    for c in s.chars().chain(std::iter::once('\n')) {
        if c.is_ascii_hexdigit() && !c.is_ascii_uppercase() {
            run.push(c);
            continue;
        }
        if run.len() >= 12 {
            out.push_str("<id>");
        } else {
            out.push_str(&run);
        }
        run.clear();
        out.push(c);
    }
    out.pop();
    out
}

#[test]
fn the_demo_report_matches_its_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let now = "2026-11-20T12:00:00Z";
    let env = Env::new();
    let run = |args: &[&str]| {
        let out = env
            .cmd()
            .args(args)
            .env("ROLLCALL_NOW", now)
            .env("ROLLCALL_HOME", demo.join("home"))
            .env("ROLLCALL_PASSPHRASE", "demo-passphrase")
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    run(&["demo", "--dir", demo.to_str().unwrap(), "--no-tui"]);
    let ledger = demo.join("ledger.db");
    let md = run(&["--ledger", ledger.to_str().unwrap(), "report", "--as", "grace"]);
    insta::assert_snapshot!("demo_report", redact_ids(&md));
    let tl = run(&["--ledger", ledger.to_str().unwrap(), "timeline", "--incident", "INC-800"]);
    insta::assert_snapshot!("demo_incident_timeline", redact_ids(&tl));
}

/// The recorded read says how many requests the report covered, counted under the same scope as the report.
#[test]
fn the_recorded_read_counts_the_requests_in_scope() {
    let (env, _) = hand_built();
    let last_read_count = || -> Value {
        let c = rusqlite::Connection::open(env.ledger()).unwrap();
        let st: Vec<u8> = c
            .query_row(
                "SELECT e.statement FROM entries e JOIN leaves l ON l.entry_id = e.id ORDER BY l.ets DESC, l.idx DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .unwrap();
        let st: Value = serde_json::from_slice(&st).unwrap();
        assert_eq!(st["kind"], "audit.read", "{st}");
        st["body"]["count"].clone()
    };
    let all = at_json(&env, LATER, &["report", "--format", "json", "--as", "alice"]);
    assert_eq!(all["metrics"]["requests"], 3);
    assert_eq!(last_read_count(), "3");
    let some = at_json(&env, LATER, &["report", "--format", "json", "--since", "2026-11-04", "--as", "alice"]);
    assert_eq!(some["metrics"]["requests"], 2);
    assert_eq!(last_read_count(), "2");
}

/// `demo --scale N` files N synthetic requests through the bulk write path (every approval checked to
/// count when signed): they verify, every one is in the request index, and half are approved, none in
/// production.
#[test]
fn the_demo_at_scale_files_verified_synthetic_requests() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let env = Env::new();
    let run = |args: &[&str]| {
        let out = env
            .cmd()
            .args(args)
            .env("ROLLCALL_NOW", "2026-11-20T12:00:00Z")
            .env("ROLLCALL_HOME", demo.join("home"))
            .env("ROLLCALL_PASSPHRASE", "demo-passphrase")
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let built: Value =
        serde_json::from_str(&run(&["--json", "demo", "--dir", demo.to_str().unwrap(), "--no-tui", "--scale", "2500"]))
            .unwrap();
    assert_eq!(built["synthetic"], 2500);
    let ledger = demo.join("ledger.db");
    let ledger = ledger.to_str().unwrap();
    run(&["--ledger", ledger, "verify"]);
    let list: Value = serde_json::from_str(&run(&["--ledger", ledger, "--json", "list"])).unwrap();
    let rows = list.as_array().or_else(|| list["requests"].as_array()).expect("a list of requests");
    let synthetic: Vec<&Value> =
        rows.iter().filter(|r| r["title"].as_str().is_some_and(|t| t.starts_with("Synthetic rollback "))).collect();
    assert_eq!(synthetic.len(), 2500);
    assert!(synthetic.iter().all(|r| r["status"] == "pending"), "their approvals are long expired (72 h)");
    // The archive's log holds each request and the approvals planned: half of all requests, none in
    // production (its tier asks for test evidence the synthetic requests do not carry).
    let c = rusqlite::Connection::open(demo.join("ledger.db")).unwrap();
    let count = |kind: &str, env: &str| -> i64 {
        c.query_row(
            "SELECT COUNT(*) FROM leaves l JOIN origins o ON o.id = l.origin JOIN entries e ON e.id = l.entry_id \
             WHERE o.name = 'demo.rollcall.example/archive' AND e.kind = ?1 AND e.statement LIKE ?2",
            rusqlite::params![kind, env],
            |r| r.get(0),
        )
        .unwrap()
    };
    assert_eq!(count("rollback.requested", "%"), 2500);
    assert_eq!(count("approval.granted", "%"), 1250);
    let approved_production: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM entries a JOIN refs r ON r.entry_id = a.id JOIN entries q ON q.id = r.ref \
             WHERE a.kind = 'approval.granted' AND q.kind = 'rollback.requested' \
             AND q.statement LIKE '%Synthetic rollback%' AND q.statement LIKE '%\"env\":\"production\"%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(approved_production, 0);
    let production: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM entries q WHERE q.kind = 'rollback.requested' \
             AND q.statement LIKE '%Synthetic rollback%' AND q.statement LIKE '%\"env\":\"production\"%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(production, 834, "the pattern above finds the production requests");
}

/// A decision taken after a failed run does not rewrite when the request was approved: carol's rejection
/// of B after its failed run (it stops a retry) left the report saying B was "executed without the
/// approvals the policy requires", and out of the time to approve. And a run recorded that does not count
/// (bob, who may not execute, recorded one for D) is a finding of its own: before, the report said
/// nothing of it.
#[test]
fn a_decision_after_a_run_keeps_its_approval_and_a_run_that_does_not_count_is_a_finding() {
    use rollcall::ledger::{Hash, PublicKey, Statement};
    let (env, [_a, b, _c]) = hand_built();
    at(&env, "2026-11-05T11:00:00Z", &["reject", &b, "--comment", "the run broke checkout; no retry", "--as", "carol"]);
    let d = request(&env, "frank", "2026-11-05T12:00:00Z", "Revert D", None);
    let junit = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/junit-nextest.xml");
    at(&env, "2026-11-05T12:10:00Z", &["evidence", "add", &d, junit, "--kind", "test", "--as", "frank"]);
    at(&env, "2026-11-05T12:30:00Z", &["approve", &d, "--comment", "ok", "--as", "carol"]);
    let shown = at_json(&env, "2026-11-05T12:40:00Z", &["show", &d]);
    let record = &shown["record"]["revert"];
    let body = serde_json::json!({
        "request": d, "version": shown["version"], "revert_digest": shown["revert_digest"], "env": "production",
        "from": record["from"], "to": record["to"], "command": record["argv"], "outcome": "succeeded",
    });
    let bob = env.signing_key("bob");
    let refs = [Hash::from_hex(&d).unwrap()];
    let mut run = Statement::new("rollback.executed", &PublicKey::from_signing(&bob), body, &refs);
    run.ts = "2026-11-05T13:00:00.000Z".into();
    env.append_raw(&run, &bob);

    let v = at_json(&env, LATER, &["report", "--format", "json", "--as", "alice"]);
    let facts = |id: &str| v["requests"].as_array().unwrap().iter().find(|r| r["id"] == id).unwrap().clone();
    assert_eq!(facts(&b)["approved_at"], "2026-11-04T11:30:00Z", "{}", facts(&b));
    assert_eq!(v["metrics"]["time_to_approve"]["population"], 3, "A, B and D: {}", v["metrics"]);
    let breaches = v["breaches"].to_string();
    assert!(!breaches.contains("executed without the approvals"), "{breaches}");
    let not_counted = facts(&d)["runs_not_counted"].clone();
    assert_eq!(not_counted.as_array().map(Vec::len), Some(1), "{}", facts(&d));
    assert!(not_counted[0].as_str().unwrap().starts_with("2026-11-05 13:00 UTC: bob"), "{not_counted}");
    assert!(breaches.contains("a run was recorded that does not count (2026-11-05 13:00 UTC: bob"), "{breaches}");
    let md = at(&env, LATER, &["report", "--as", "alice"]);
    assert!(md.contains("a run was recorded that does not count"), "{md}");
    let rows = parse_csv(&at(&env, LATER, &["report", "--format", "csv", "--as", "alice"]));
    let col = rows[0].iter().position(|h| h == "runs_not_counted").expect("the CSV has the column");
    let row = |id: &str| rows.iter().find(|r| r[0] == id).unwrap().clone();
    assert!(row(&d)[col].starts_with("2026-11-05 13:00 UTC: bob"), "{:?}", row(&d));
    assert_eq!(row(&b)[col], "", "B's runs count");
}

/// A report on a file whose genesis entry was rewritten (no roster can be built from it: nothing says who
/// is a member) is refused with one line naming the damage, not "not enrolled" (which sent the user to an
/// admin); a write is refused the same way, and the file is left as it was.
#[test]
fn a_report_on_a_ledger_whose_genesis_was_rewritten_never_says_intact() {
    let (env, _) = hand_built();
    env.ok(&["list"]);
    let c = env.tamper();
    let (id, st): (Vec<u8>, Vec<u8>) = c
        .query_row("SELECT id, statement FROM entries ORDER BY rowid LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    let forged = String::from_utf8(st).unwrap().replacen("alice", "mallory", 1);
    c.execute("UPDATE entries SET statement = ?1 WHERE id = ?2", rusqlite::params![forged.as_bytes(), &id]).unwrap();
    drop(c);
    let before = std::fs::read(env.ledger()).unwrap();
    let out =
        env.cmd().args(["report", "--format", "json", "--as", "alice"]).env("ROLLCALL_NOW", LATER).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let line = stderr.lines().find(|l| l.starts_with("error:")).unwrap_or_default();
    assert!(
        line.contains("genesis entry is missing or does not check") && line.contains("rollcall verify"),
        "{stderr}"
    );
    assert!(!stderr.contains("must enroll"), "{stderr}");
    assert!(out.stdout.is_empty(), "no report as fact from a file nobody is enrolled in");
    let refused = env.refuses(&["note", "hello", "--as", "alice"]);
    assert!(refused.contains("genesis entry is missing or does not check"), "{refused}");
    assert_eq!(std::fs::read(env.ledger()).unwrap(), before, "the file is unchanged");
}
