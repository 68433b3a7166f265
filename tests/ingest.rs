//! `rollcall ingest helm` (issue 17): Helm's own `history -o json` outputs recorded as signed
//! `deployment.observed` entries, the rollback marked; re-ingest records nothing twice; hostile inputs
//! are refused in one line with the ledger unchanged.

mod common;
use common::Env;

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/ingest/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn a_helm_history_is_recorded_once_with_its_rollback_and_the_ledger_verifies() {
    let env = Env::with_ledger();
    let path = fixture("helm-history-with-rollback.json");
    let args = ["--json", "ingest", "helm", &path, "--env", "production", "--component", "foo", "--as", "alice"];
    let r: serde_json::Value = serde_json::from_str(&env.ok(&args)).unwrap();
    assert_eq!((r["seen"].as_u64(), r["recorded"].as_u64(), r["rollbacks"].as_u64()), (Some(3), Some(3), Some(1)));
    let observed: Vec<serde_json::Value> = env
        .ok(&["--json", "log", "--after", "0", "--kind", "deployment.observed"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(observed.len(), 3);
    assert!(observed.iter().all(|o| o["verified"] == true && o["actor_name"] == "alice"));
    // The bodies as signed.
    let c = rusqlite::Connection::open(env.ledger()).unwrap();
    let body: String = c
        .query_row(
            "SELECT CAST(statement AS TEXT) FROM entries WHERE kind = 'deployment.observed' AND CAST(statement AS TEXT) LIKE '%\"rollback\":true%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let st: serde_json::Value = serde_json::from_str(&body).unwrap();
    let b = &st["body"];
    assert_eq!((b["revision"].as_str(), b["from"].as_str(), b["to"].as_str()), (Some("3"), Some("2"), Some("1")));
    assert_eq!(b["source"], "helm");
    assert_eq!(b["env"], "production");
    assert_eq!(b["at"], "1977-09-02T22:04:05Z");
    assert_eq!(b["input_sha256"].as_str().map(str::len), Some(64));
    // Again: nothing new; the other fixture adds its two revisions of another environment.
    let again: serde_json::Value = serde_json::from_str(&env.ok(&args)).unwrap();
    assert_eq!((again["recorded"].as_u64(), again["already"].as_u64()), (Some(0), Some(3)));
    let other = fixture("helm-history.json");
    let text = env.ok(&["ingest", "helm", &other, "--env", "staging", "--component", "foo", "--as", "alice"]);
    assert!(text.contains("2 recorded (0 rollbacks)"), "{text}");
    let v = env.json(&["verify"]);
    assert_eq!(v["intact"], true, "{v}");
}

#[test]
fn hostile_histories_are_refused_in_one_line_and_nothing_is_written() {
    let env = Env::with_ledger();
    let before = env.fingerprint();
    let write = |name: &str, content: &[u8]| {
        let p = env.home().join(name);
        std::fs::write(&p, content).unwrap();
        p.to_str().unwrap().to_string()
    };
    let huge_history = {
        // 1,000,001 revisions: over the bound, refused before anything is signed.
        let mut s = String::from("[");
        for i in 0..1_000_001u32 {
            if i > 0 {
                s.push(',');
            }
            s.push_str(&format!("{{\"revision\":{i},\"updated\":\"2026-01-01T00:00:00Z\"}}"));
        }
        s.push(']');
        s
    };
    let cases: Vec<(String, &str)> = vec![
        (write("truncated.json", br#"[{"revision":1,"updated":"2026-01-01T00:00:00Z""#), "line 1"),
        (write("shape.json", br#"{"releases":[]}"#), "expected an array"),
        (write("deep.json", format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).as_bytes()), "helm input"),
        (write("time.json", br#"[{"revision":1,"updated":"\u001b[2Jsoon"}]"#), "not a time"),
        (write("huge.json", huge_history.as_bytes()), "at most 1000000"),
    ];
    for (path, says) in &cases {
        let err = env.fails(&["ingest", "helm", path, "--env", "production", "--component", "api", "--as", "alice"], 2);
        assert!(err.contains(says), "{path}: {err}");
        assert!(!err.contains('\x1b'), "{err:?}");
    }
    let err =
        env.fails(&["ingest", "helm", &cases[0].0, "--env", "prod\u{7}", "--component", "api", "--as", "alice"], 2);
    assert!(err.contains("--env"), "{err}");
    assert_eq!(env.fingerprint(), before, "nothing recorded on a refusal");
}

/// Issue 17, item 3: a request filed for an observed rollback takes environment, component, from/to,
/// change id, deploy time and revert command from the observation; flags given win.
#[test]
fn a_request_is_filled_from_an_observed_rollback() {
    let env = common::team();
    let path = fixture("helm-history-with-rollback.json");
    env.ok(&["ingest", "helm", &path, "--env", "production", "--component", "foo", "--as", "bob"]);
    let c = rusqlite::Connection::open(env.ledger()).unwrap();
    let id: String = c
        .query_row(
            "SELECT lower(hex(id)) FROM entries WHERE kind = 'deployment.observed' AND CAST(statement AS TEXT) LIKE '%\"rollback\":true%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let r = env.json(&[
        "request",
        "new",
        "--from-observed",
        &id[..10],
        "--category",
        "performance-regression",
        "--rationale",
        "the upgrade broke checkout",
        "--impact",
        "none: it already ran",
        "--risk",
        "low",
        "--as",
        "bob",
    ]);
    let req = r["request"].as_str().unwrap().to_string();
    let shown = env.json(&["show", &req[..12]]);
    let text = shown.to_string();
    for want in [
        "\"production\"",
        "\"foo\"",
        r#"["helm","rollback","foo","1"]"#,
        "helm foo revision 2",
        "1977-09-02T22:04:05Z",
        "Rollback of foo in production: revision 2 to 1",
    ] {
        assert!(text.contains(want), "{want} not in {text}");
    }
    // An unknown or ambiguous id is refused before anything is written.
    let before = env.fingerprint();
    assert!(
        env.fails(&["request", "new", "--from-observed", "ffff0000", "--as", "bob"], 2)
            .contains("no observed deployment")
    );
    assert!(
        env.fails(&["request", "new", "--from-observed", "xyz", "--as", "bob"], 2).contains("not an observation id")
    );
    assert_eq!(env.fingerprint(), before);
}
