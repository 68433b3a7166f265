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
    // A file that is not there is unreadable input, said as such (it read "cannot nosuch.json", exit 1).
    for source in ["helm", "kubernetes"] {
        let err = env
            .fails(&["ingest", source, "nosuch.json", "--env", "production", "--component", "api", "--as", "alice"], 2);
        assert!(err.starts_with("error: cannot read nosuch.json: "), "{err}");
    }
    assert_eq!(env.fingerprint(), before, "nothing recorded on a refusal");
}

/// The id (lowercase hex) of the one observation whose statement text matches the SQL `LIKE` pattern.
fn observation_like(c: &rusqlite::Connection, like: &str) -> String {
    c.query_row(
        "SELECT lower(hex(id)) FROM entries WHERE kind = 'deployment.observed' AND CAST(statement AS TEXT) LIKE ?1",
        [like],
        |r| r.get(0),
    )
    .unwrap()
}

/// The id of the request bob files from observation `id` (as `request new --from-observed` fills it, with
/// what only a person knows given).
fn filed_from(env: &Env, id: &str) -> String {
    filed_with(env, id, &[])
}

/// As [`filed_from`], with `more` flags given too.
fn filed_with(env: &Env, id: &str, more: &[&str]) -> String {
    let mut args = vec![
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
    ];
    args.extend_from_slice(more);
    env.json(&args)["request"].as_str().unwrap().to_string()
}

/// Issue 17, item 3: a request filed for an observed rollback takes environment, component, from/to,
/// change id, deploy time and revert command from the observation; flags given win.
#[test]
fn a_request_is_filled_from_an_observed_rollback() {
    let env = common::team();
    let path = fixture("helm-history-with-rollback.json");
    env.ok(&["ingest", "helm", &path, "--env", "production", "--component", "foo", "--as", "bob"]);
    let c = rusqlite::Connection::open(env.ledger()).unwrap();
    let id = observation_like(&c, "%\"rollback\":true%");
    let req = filed_from(&env, &id);
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
    // A deployment that is not a rollback: the request is to roll it back, to the revision before it.
    let plain = observation_like(&c, "%\"revision\":\"2\"%");
    let r = env.json(&[
        "request",
        "new",
        "--from-observed",
        &plain[..10],
        "--category",
        "performance-regression",
        "--rationale",
        "revision 2 broke checkout",
        "--impact",
        "a minute of errors",
        "--risk",
        "low",
        "--as",
        "bob",
    ]);
    let shown = env.json(&["show", &r["request"].as_str().unwrap()[..12]]).to_string();
    for want in
        [r#"["helm","rollback","foo","1"]"#, "Roll back foo in production: revision 2 to 1", "helm foo revision 2"]
    {
        assert!(shown.contains(want), "{want} not in {shown}");
    }
    // The first deployment of a history has nothing to roll back to: refused, nothing written.
    let first = observation_like(&c, "%\"revision\":\"1\"%");
    let before = env.fingerprint();
    let err = env.fails(&["request", "new", "--from-observed", &first[..10], "--as", "bob"], 2);
    assert!(err.contains("nothing to roll back to"), "{err}");
    assert_eq!(env.fingerprint(), before);
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

/// A GitHub deployment has no rollback command rollcall knows (how the team deploys a revision is not in
/// the history): a request filed from it is refused until the filer gives the command, instead of signing
/// a sentence as the argv approvers sign and CI runs; given, it is recorded as given.
#[test]
fn a_request_from_a_source_without_a_known_rollback_command_needs_the_command_given() {
    let env = common::team();
    let gh = fixture("github-deployments-rollback.json");
    env.ok(&["ingest", "github", &gh, "--env", "production", "--as", "bob"]);
    let c = rusqlite::Connection::open(env.ledger()).unwrap();
    let rolled_back = observation_like(&c, "%\"rollback\":true%");
    // A deployment with one before it (the first has nothing to roll back to).
    let deployed = observation_like(&c, "%\"from\":\"%\"rollback\":false%");
    // reconcile's hint for the unrecorded rollback says the command must be given.
    let out = env.run(&["reconcile"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("--from-observed {} --revert-cmd 'THE COMMAND THAT RAN'", &rolled_back[..12])),
        "{text}"
    );
    let before = env.fingerprint();
    let err = env.fails(&["request", "new", "--from-observed", &rolled_back[..10], "--as", "bob"], 2);
    assert!(
        err.contains("rollcall knows no rollback command for github deployments: give the exact command that ran with --revert-cmd"),
        "{err}"
    );
    let err = env.fails(&["request", "new", "--from-observed", &deployed[..10], "--as", "bob"], 2);
    assert!(err.contains("give the exact command with --revert-cmd"), "{err}");
    assert_eq!(env.fingerprint(), before, "nothing is written");
    let req = filed_with(&env, &deployed, &["--revert-cmd", "gh workflow run deploy.yml -f ref=v1.0"]);
    let shown = env.json(&["show", &req[..12]]);
    assert_eq!(
        shown["record"]["revert"]["argv"],
        serde_json::json!(["gh", "workflow", "run", "deploy.yml", "-f", "ref=v1.0"]),
        "{shown}"
    );
}

/// The `deployment.observed` bodies recorded, as signed.
fn observed_bodies(env: &Env) -> Vec<serde_json::Value> {
    let c = rusqlite::Connection::open(env.ledger()).unwrap();
    let mut st = c
        .prepare("SELECT CAST(statement AS TEXT) FROM entries WHERE kind = 'deployment.observed' ORDER BY rowid")
        .unwrap();
    st.query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(|s| serde_json::from_str::<serde_json::Value>(&s.unwrap()).unwrap()["body"].clone())
        .collect()
}

/// Ingests `args` twice: the first records `seen` deployments with `rollbacks` rollbacks, the second
/// nothing; the ledger verifies.
fn ingest_twice(env: &Env, args: &[&str], seen: u64, rollbacks: u64) {
    let mut full = vec!["--json", "ingest"];
    full.extend_from_slice(args);
    full.extend_from_slice(&["--as", "alice"]);
    let r: serde_json::Value = serde_json::from_str(&env.ok(&full)).unwrap();
    assert_eq!(
        (r["seen"].as_u64(), r["recorded"].as_u64(), r["rollbacks"].as_u64()),
        (Some(seen), Some(seen), Some(rollbacks)),
        "{args:?}: {r}"
    );
    assert_eq!(r["input_sha256"].as_str().map(str::len), Some(64));
    let again: serde_json::Value = serde_json::from_str(&env.ok(&full)).unwrap();
    assert_eq!((again["recorded"].as_u64(), again["already"].as_u64()), (Some(0), Some(seen)), "{args:?}: {again}");
    let v = env.json(&["verify"]);
    assert_eq!(v["intact"], true, "{v}");
}

#[test]
fn kubernetes_argocd_github_and_gitlab_histories_are_recorded_once_with_their_rollbacks() {
    let env = Env::with_ledger();
    // Names from the input: the namespace and the owning Deployment.
    let rs = fixture("kubernetes-replicasets-rollback.json");
    ingest_twice(&env, &["kubernetes", &rs], 3, 1);
    let text = env.ok(&["ingest", "kubernetes", &rs, "--as", "alice"]);
    assert!(
        text.contains("observed 3 deployments of checkout in shop: 0 recorded (0 rollbacks), 3 recorded before"),
        "{text}"
    );
    let crs = fixture("kubernetes-controllerrevisions-rollback.json");
    ingest_twice(&env, &["kubernetes", &crs, "--env", "production"], 6, 2);
    let argo = fixture("argocd-app.json");
    ingest_twice(&env, &["argocd", &argo], 10, 0);
    let argo_back = fixture("argocd-app-rollback.json");
    ingest_twice(&env, &["argocd", &argo_back, "--env", "production"], 3, 1);
    let gh = fixture("github-deployments-rollback.json");
    ingest_twice(&env, &["github", &gh, "--env", "production"], 3, 1);
    // The other environment of the same file is recorded on its own.
    ingest_twice(&env, &["github", &gh, "--env", "staging"], 3, 0);
    ingest_twice(&env, &["github", &fixture("github-deployments.json"), "--component", "octocat-example"], 1, 0);
    let gl = fixture("gitlab-deployments-rollback.json");
    ingest_twice(&env, &["gitlab", &gl, "--component", "project"], 3, 1);
    let none =
        env.ok(&["ingest", "gitlab", &fixture("gitlab-deployments.json"), "--component", "project", "--as", "alice"]);
    assert!(none.contains("observed 0 deployments of project in -"), "{none}");

    let bodies = observed_bodies(&env);
    let find = |source: &str, rollback: bool| -> Vec<&serde_json::Value> {
        bodies.iter().filter(|b| b["source"] == source && b["rollback"] == rollback).collect()
    };
    let k8s = find("kubernetes", true);
    assert_eq!(k8s.len(), 3, "one ReplicaSet brought back, two ControllerRevisions");
    let rs_back = k8s.iter().find(|b| b["component"] == "checkout").unwrap();
    assert_eq!(
        (rs_back["env"].as_str(), rs_back["revision"].as_str(), rs_back["from"].as_str(), rs_back["to"].as_str()),
        (Some("shop"), Some("3"), Some("2"), Some("1"))
    );
    assert_eq!(rs_back["artifact"], "registry.example.com/checkout:2.3.1");
    let argo = find("argocd", true);
    assert_eq!(
        (argo[0]["component"].as_str(), argo[0]["env"].as_str(), argo[0]["to"].as_str(), argo[0]["by"].as_str()),
        (Some("guestbook"), Some("production"), Some("0"), Some("alice"))
    );
    let gh = find("github", true);
    assert_eq!(
        (gh[0]["component"].as_str(), gh[0]["revision"].as_str(), gh[0]["to"].as_str(), gh[0]["by"].as_str()),
        (Some("example"), Some("104"), Some("101"), Some("mona"))
    );
    let gl = find("gitlab", true);
    assert_eq!(
        (gl[0]["revision"].as_str(), gl[0]["from"].as_str(), gl[0]["to"].as_str()),
        (Some("4"), Some("2"), Some("1"))
    );
    assert!(bodies.iter().all(|b| b["at"].as_str().is_some_and(|t| t.len() == 20 && t.ends_with('Z'))));
}

#[test]
fn sources_whose_input_does_not_name_them_require_env_and_component() {
    let env = Env::with_ledger();
    let before = env.fingerprint();
    let helm = fixture("helm-history.json");
    assert!(
        env.fails(&["ingest", "helm", &helm, "--component", "foo", "--as", "alice"], 2).contains("--env is required")
    );
    assert!(
        env.fails(&["ingest", "helm", &helm, "--env", "prod", "--as", "alice"], 2).contains("--component is required")
    );
    let gl = fixture("gitlab-deployments-rollback.json");
    assert!(env.fails(&["ingest", "gitlab", &gl, "--as", "alice"], 2).contains("--component is required"));
    let repo = env.home().to_str().unwrap().to_string();
    assert!(
        env.fails(&["ingest", "git", &repo, "--component", "api", "--as", "alice"], 2).contains("--env is required")
    );
    let unknown = env.run(&["ingest", "svn", &helm, "--as", "alice"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("kubernetes, argocd, github, gitlab, git"));
    assert_eq!(env.fingerprint(), before);
}

#[test]
fn hostile_inputs_of_every_source_are_refused_in_one_line_and_nothing_is_written() {
    let env = Env::with_ledger();
    let before = env.fingerprint();
    let write = |name: &str, content: &[u8]| {
        let p = env.home().join(name);
        std::fs::write(&p, content).unwrap();
        p.to_str().unwrap().to_string()
    };
    // Over 1,000,000 entries of the smallest shape each source reads: refused at the bound.
    let many = |open: &str, item: &str, close: &str| -> Vec<u8> {
        let mut s = String::with_capacity(open.len() + (item.len() + 1) * 1_000_001 + close.len());
        s.push_str(open);
        for i in 0..1_000_001u32 {
            if i > 0 {
                s.push(',');
            }
            s.push_str(item);
        }
        s.push_str(close);
        s.into_bytes()
    };
    let deep =
        |open: &str, close: &str| format!("{open}{}{}{close}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes();
    // (source, flags it needs, truncated, wrong shape, deeply nested, over the bound)
    type Case<'a> = (&'a str, &'a [&'a str], Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>);
    let sources: [Case; 4] = [
        (
            "kubernetes",
            &[],
            br#"{"kind":"List","items":[{"kind":"ReplicaSet","metadata":{"#.to_vec(),
            br#"{"kind":"Deployment","items":[]}"#.to_vec(),
            deep("{\"items\":[{\"data\":", "}]}"),
            many("{\"kind\":\"List\",\"items\":[", "{}", "]}"),
        ),
        (
            "argocd",
            &[],
            br#"{"metadata":{"name":"a"},"status":{"history":[{"id":1"#.to_vec(),
            b"[]".to_vec(),
            deep("{\"status\":{\"history\":[{\"id\":1,\"deployedAt\":\"\",\"source\":", "}]}}"),
            many(
                "{\"metadata\":{\"name\":\"a\"},\"spec\":{\"destination\":{\"namespace\":\"n\"}},\"status\":{\"history\":[",
                "{\"id\":1,\"deployedAt\":\"\"}",
                "]}}",
            ),
        ),
        (
            "github",
            &[],
            br#"[{"id":1,"sha":"a","#.to_vec(),
            br#"{"deployments":[]}"#.to_vec(),
            deep("[{\"x\":", "}]"),
            many("[", "{\"id\":1,\"sha\":\"\",\"environment\":\"\",\"created_at\":\"\"}", "]"),
        ),
        (
            "gitlab",
            &["--component", "api"],
            br#"[{"iid":1,"sha":"#.to_vec(),
            br#"{"iid":1}"#.to_vec(),
            deep("[{\"x\":", "}]"),
            many(
                "[",
                "{\"iid\":1,\"sha\":\"\",\"status\":\"\",\"created_at\":\"\",\"environment\":{\"name\":\"\"}}",
                "]",
            ),
        ),
    ];
    for (source, extra, truncated, shape, nested, huge) in sources {
        let cases = [
            (write(&format!("{source}-truncated.json"), &truncated), "line 1"),
            (write(&format!("{source}-shape.json"), &shape), "expected"),
            (write(&format!("{source}-deep.json"), &nested), "input line"),
            (write(&format!("{source}-huge.json"), &huge), "at most 1000000"),
        ];
        for (path, says) in &cases {
            let mut args = vec!["ingest", source, path.as_str(), "--as", "alice"];
            args.extend_from_slice(extra);
            let err = env.fails(&args, 2);
            assert!(err.contains(&format!("{source} input")) && err.contains(says), "{path}: {err}");
            assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
            assert!(!err.contains('\x1b'), "{err:?}");
        }
        let _ = std::fs::remove_file(&cases[3].0);
    }
    // A namespace with a control character, and a time that is not one, in otherwise valid inputs.
    let ns = write(
        "ns.json",
        br#"{"kind":"List","items":[{"kind":"ReplicaSet","metadata":{"name":"r","namespace":"prod\u001b[2J",
        "creationTimestamp":"2026-01-01T00:00:00Z","annotations":{"deployment.kubernetes.io/revision":"1"},
        "ownerReferences":[{"kind":"Deployment","name":"api"}]}}]}"#,
    );
    let err = env.fails(&["ingest", "kubernetes", &ns, "--as", "alice"], 2);
    assert!(err.contains("not a short name") && !err.contains('\x1b'), "{err:?}");
    let time = write(
        "time.json",
        br#"[{"id":1,"sha":"a","environment":"p","created_at":"\u001b[2Jsoon","repository_url":"x/y"}]"#,
    );
    let err = env.fails(&["ingest", "github", &time, "--as", "alice"], 2);
    assert!(err.contains("not a time") && !err.contains('\x1b'), "{err:?}");
    // git: a directory that is not a repository, and a file.
    let plain = env.home().join("plain");
    std::fs::create_dir_all(&plain).unwrap();
    let err =
        env.fails(&["ingest", "git", plain.to_str().unwrap(), "--env", "p", "--component", "api", "--as", "alice"], 2);
    assert!(err.contains("git input") && err.contains("not a git repository"), "{err}");
    let err = env.fails(&["ingest", "git", &ns, "--env", "p", "--component", "api", "--as", "alice"], 2);
    assert!(err.contains("is not a directory"), "{err}");
    assert_eq!(env.fingerprint(), before, "nothing recorded on a refusal");
}

/// An input that parses but holds a deployment too large for an entry is refused before anything is
/// committed: here a ReplicaSet naming a thousand revisions (a whole batch of entries) and a
/// ControllerRevision, brought back under a 70,000-character name, after them. Before, the first thousand
/// entries were committed and the command then failed on the last one.
#[test]
fn an_input_with_one_deployment_too_large_for_an_entry_records_nothing() {
    let env = Env::with_ledger();
    let before = env.fingerprint();
    let history: Vec<String> = (1..1000).map(|n| n.to_string()).collect();
    let cr = |name: &str, revision: u32, created: &str| {
        format!(
            r#"{{"kind":"ControllerRevision","revision":{revision},"metadata":{{"name":"{name}","namespace":"data",
            "creationTimestamp":"{created}","ownerReferences":[{{"kind":"StatefulSet","name":"db","controller":true}}]}}}}"#
        )
    };
    let input = format!(
        r#"{{"kind":"List","items":[{{"kind":"ReplicaSet","metadata":{{"name":"api-1","namespace":"shop",
        "creationTimestamp":"2026-01-01T00:00:00Z","annotations":{{"deployment.kubernetes.io/revision":"1000",
        "deployment.kubernetes.io/revision-history":"{}"}},"ownerReferences":[{{"kind":"Deployment","name":"api"}}]}}}},
        {},{}]}}"#,
        history.join(","),
        cr("db-1", 1, "2026-01-02T00:00:00Z"),
        cr(&"x".repeat(70_000), 2, "2026-01-01T00:00:00Z")
    );
    let path = env.home().join("long-name.json");
    std::fs::write(&path, input).unwrap();
    let err = env.fails(&["ingest", "kubernetes", path.to_str().unwrap(), "--as", "alice"], 2);
    assert!(
        err.contains("ingest kubernetes: the deployment 2 of db in data cannot be recorded")
            && err.contains("nothing was recorded"),
        "{err}"
    );
    assert_eq!(env.fingerprint(), before, "nothing recorded on a refusal");
}

#[test]
fn a_repositorys_reverts_are_recorded_as_rollbacks_including_the_revert_of_a_merge() {
    let env = Env::with_ledger();
    let dir = env.home().join("repo");
    std::fs::create_dir_all(&dir).unwrap();
    let git = |args: &[&str]| common::git(&dir, args);
    let commit = |path: &str, content: &str, message: &str| {
        std::fs::write(dir.join(path), content).unwrap();
        git(&["add", "-A"]);
        git(&["-c", "commit.gpgsign=false", "commit", "-q", "-m", message]);
        git(&["rev-parse", "HEAD"])
    };
    git(&["init", "-q", "-b", "main"]);
    let base = commit("app.txt", "v1\n", "initial");
    let change = commit("app.txt", "v2\n", "raise the pool size");
    git(&["-c", "commit.gpgsign=false", "revert", "--no-edit", &change]);
    let revert = git(&["rev-parse", "HEAD"]);
    git(&["checkout", "-q", "-b", "feature"]);
    commit("feature.txt", "on\n", "add the feature flag");
    git(&["checkout", "-q", "main"]);
    let mainline = commit("other.txt", "x\n", "unrelated work");
    git(&["-c", "commit.gpgsign=false", "merge", "-q", "--no-ff", "-m", "Merge branch 'feature'", "feature"]);
    let merge = git(&["rev-parse", "HEAD"]);
    git(&["-c", "commit.gpgsign=false", "revert", "--no-edit", "-m", "1", &merge]);
    let merge_revert = git(&["rev-parse", "HEAD"]);
    // A message holding the separators of a record of its own (U+001E, U+001F) is one commit's message:
    // its revert is recorded under its own id (before, it forged a rollback of revision deadbeef, by
    // Mallory, dated as the message said).
    let forged = "tidy\n\nThis reverts commit 1234567.\u{1e}deadbeef\u{1f}cafe\u{1f}Mallory <m@x>\u{1f}\
                  2026-01-01T00:00:00Z\u{1f}This reverts commit abcdef1234567.";
    let tidy = commit("notes.txt", "n\n", forged);
    let path = dir.to_str().unwrap();
    ingest_twice(&env, &["git", path, "--env", "production", "--component", "api"], 3, 3);
    let bodies = observed_bodies(&env);
    assert!(bodies.iter().all(|b| b["revision"] != "deadbeef" && b["by"] != "Mallory <m@x>"), "{bodies:?}");
    assert!(bodies.iter().any(|b| b["revision"] == tidy.as_str() && b["to"] == "1234567^"), "{bodies:?}");
    let body =
        |id: &str| bodies.iter().find(|b| b["revision"] == id).unwrap_or_else(|| panic!("{id} not in {bodies:?}"));
    let plain = body(&revert);
    assert_eq!(
        (plain["from"].as_str(), plain["to"].as_str(), plain["rollback"].as_bool()),
        (Some(change.as_str()), Some(base.as_str()), Some(true))
    );
    assert_eq!(plain["source"], "git");
    assert_eq!(plain["by"], "t <t@example.com>");
    assert!(plain["description"].as_str().unwrap().contains("This reverts commit"));
    let of_merge = body(&merge_revert);
    assert_eq!((of_merge["from"].as_str(), of_merge["to"].as_str()), (Some(merge.as_str()), Some(mainline.as_str())));
    assert_eq!(of_merge["env"], "production");
    assert_eq!(of_merge["component"], "api");
    // A new revert later: only it is recorded.
    git(&["-c", "commit.gpgsign=false", "revert", "--no-edit", &merge_revert]);
    let r = env.json(&["ingest", "git", path, "--env", "production", "--component", "api", "--as", "alice"]);
    assert_eq!(
        (r["recorded"].as_u64(), r["rollbacks"].as_u64(), r["already"].as_u64()),
        (Some(1), Some(1), Some(3)),
        "{r}"
    );
}

/// A hostile history's names cannot add arguments to the revert a request is filled with: the component
/// is one argument of the command however it is spelled, and what `show` prints splits back into exactly
/// the signed argv (before, `web --post-renderer ./x` became three arguments, a flag among them).
#[test]
fn a_request_from_an_observation_keeps_each_name_one_argument() {
    let env = common::team();
    let path = fixture("helm-history-with-rollback.json");
    let component = "web --post-renderer ./x";
    env.ok(&["ingest", "helm", &path, "--env", "production", "--component", component, "--as", "bob"]);
    let c = rusqlite::Connection::open(env.ledger()).unwrap();
    let id = observation_like(&c, "%\"rollback\":true%");
    let req = filed_from(&env, &id);
    let shown = env.json(&["show", &req[..12]]);
    let argv = shown.to_string();
    assert!(argv.contains(r#"["helm","rollback","web --post-renderer ./x","1"]"#), "{argv}");
    let text = env.ok(&["show", &req[..12]]);
    assert!(text.contains("helm rollback 'web --post-renderer ./x' 1"), "{text}");
}
