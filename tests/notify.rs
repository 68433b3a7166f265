//! Escalation (issue 17, item 6): `notify.toml` in the config directory (here `ROLLCALL_HOME`) maps events
//! to commands that read the event as JSON on stdin. The real binary runs a small script that appends what
//! it reads to a file; a command that fails, hangs or is missing, or a file that does not parse, never
//! changes the outcome of the operation that triggered it.

mod common;
use common::{Env, PASS, file, file_request, peer, team};
use std::path::PathBuf;

/// A script in the env's home that appends its stdin, then a newline, to `got.jsonl`; returns its path
/// and the file's.
fn recorder(env: &Env) -> (String, PathBuf) {
    let out = env.home().join("got.jsonl");
    let script = env.home().join("record.sh");
    std::fs::write(&script, "#!/bin/sh\ncat >> \"$1\"\necho >> \"$1\"\n").unwrap();
    executable(&script);
    (script.display().to_string(), out)
}

fn executable(path: &std::path::Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// Writes `notify.toml`: `events` to the recorder.
fn configure(env: &Env, events: &[&str]) -> PathBuf {
    let (script, out) = recorder(env);
    let list: Vec<String> = events.iter().map(|e| format!("{e:?}")).collect();
    let text = format!(
        "timeout_seconds = 20\n\n[[on]]\nevents = [{}]\ncommand = [{script:?}, {:?}]\n",
        list.join(", "),
        out.display().to_string()
    );
    std::fs::write(env.home().join("notify.toml"), text).unwrap();
    out
}

/// The events the recorder received, in order.
fn received(out: &std::path::Path) -> Vec<serde_json::Value> {
    match std::fs::read_to_string(out) {
        Ok(t) => t.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).expect("json")).collect(),
        Err(_) => Vec::new(),
    }
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn an_emergency_and_the_execution_it_waived_the_gate_for_are_escalated() {
    let env = team();
    let out = configure(&env, &["emergency.invoked", "gate.bypassed"]);
    let req = file_request(&env, "bob", "critical");
    let run = env.run(&["emergency", &req, "--reason", "checkout down for everyone", "--as", "erin"]);
    assert!(run.status.success(), "{}", stderr_of(&run));
    assert_eq!(stderr_of(&run), "", "a delivered notification is silent");
    let got = received(&out);
    assert_eq!(got.len(), 1, "{got:?}");
    let e = &got[0];
    assert_eq!(e["v"], 1);
    assert_eq!(e["event"], "emergency.invoked");
    assert_eq!(e["request"], req.as_str());
    assert!(e["observation"].is_null());
    assert!(e["actor"].as_str().unwrap().contains("erin"), "{e}");
    assert_eq!(e["ledger"].as_str().unwrap().len(), 64);
    assert!(chrono::DateTime::parse_from_rfc3339(e["at"].as_str().unwrap()).is_ok());
    assert_eq!(e["details"]["reason"], "checkout down for everyone");
    assert!(e["details"]["review_due"].is_string());
    assert!(e["summary"].as_str().unwrap().contains("emergency"), "{e}");

    // Executed with approvals and evidence waived by the emergency: the gate was bypassed.
    env.ok(&["execute", &req, "--outcome", "succeeded", "--as", "erin"]);
    let got = received(&out);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[1]["event"], "gate.bypassed");
    assert_eq!(got[1]["request"], req.as_str());
    let waived = got[1]["details"]["waived"].as_array().unwrap();
    assert!(waived.iter().any(|w| w["id"] == "approvals"), "{}", got[1]);
    assert_eq!(got[1]["details"]["emergency"]["reason"], "checkout down for everyone");
}

#[test]
fn an_execution_the_gate_cleared_is_not_a_bypass() {
    let env = team();
    let out = configure(&env, &["gate.bypassed", "emergency.invoked"]);
    let req = file_request(&env, "bob", "low");
    common::tested(&env, &req, "bob");
    env.ok(&["approve", &req, "--comment", "ok", "--as", "carol"]);
    env.ok(&["execute", &req, "--outcome", "succeeded", "--as", "erin"]);
    assert!(received(&out).is_empty());
}

#[test]
fn overdue_reviews_are_notified_once_by_check() {
    let env = team();
    let out = configure(&env, &["review.overdue"]);
    let req = file_request(&env, "bob", "critical");
    env.ok(&["emergency", &req, "--reason", "outage", "--as", "erin"]);
    // Not due yet: nothing.
    let c = env.json(&["notify", "check"]);
    assert_eq!((c["findings"]["review.overdue"].as_u64(), c["sent"].as_u64()), (Some(0), Some(0)), "{c}");
    let later = |args: &[&str]| env.cmd().env("ROLLCALL_NOW", "2099-01-01T00:00:00Z").args(args).output().unwrap();
    let first = later(&["--json", "notify", "check"]);
    assert!(first.status.success(), "{}", stderr_of(&first));
    let c: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    assert_eq!((c["findings"]["review.overdue"].as_u64(), c["sent"].as_u64()), (Some(1), Some(1)), "{c}");
    let got = received(&out);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["event"], "review.overdue");
    assert_eq!(got[0]["request"], req.as_str());
    assert_eq!(got[0]["details"]["obligation"], "post-hoc-review");
    assert!(got[0]["actor"].as_str().unwrap().contains("erin"));
    // Again (the next cron run): not repeated.
    let again = later(&["--json", "notify", "check"]);
    let c: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!((c["sent"].as_u64(), c["already"].as_u64()), (Some(0), Some(1)), "{c}");
    assert_eq!(received(&out).len(), 1);
    assert!(env.home().join("notify.state").is_file());
    let text = String::from_utf8(later(&["notify", "check"]).stdout).unwrap();
    assert!(text.contains("1 review.overdue; 0 notifications sent, 0 failed, 1 sent before"), "{text}");
}

/// A Helm history whose last revision rolled back to 39 with no request.
fn helm_history(env: &Env) -> String {
    let now = chrono::Utc::now();
    let at = |m: i64| (now + chrono::Duration::minutes(m)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    file(
        env,
        "history.json",
        &format!(
            r#"[{{"revision":39,"updated":"{}","description":"Install complete"}},{{"revision":40,"updated":"{}","description":"Upgrade complete"}},{{"revision":41,"updated":"{}","description":"Rollback to 39"}}]"#,
            at(-300),
            at(-200),
            at(-5)
        ),
    )
}

#[test]
fn an_ingested_unrecorded_rollback_is_escalated_and_check_does_not_repeat_it() {
    let env = team();
    let out = configure(&env, &["rollback.unrecorded", "rollback.unauthorized"]);
    let h = helm_history(&env);
    let args = ["ingest", "helm", &h, "--env", "production", "--component", "payments-api", "--as", "alice"];
    let run = env.run(&args);
    assert!(run.status.success(), "{}", stderr_of(&run));
    let got = received(&out);
    assert_eq!(got.len(), 1, "{got:?}");
    let e = &got[0];
    assert_eq!(e["event"], "rollback.unrecorded");
    assert_eq!(e["observation"].as_str().unwrap().len(), 64);
    assert!(e["request"].is_null());
    assert_eq!((e["details"]["revision"].as_str(), e["details"]["to"].as_str()), (Some("41"), Some("39")), "{e}");
    assert_eq!(e["details"]["env"], "production");
    // Re-ingesting records nothing new and notifies nothing; check knows it was sent.
    env.ok(&args);
    let c = env.json(&["notify", "check"]);
    assert_eq!((c["findings"]["rollback.unrecorded"].as_u64(), c["sent"].as_u64()), (Some(1), Some(0)), "{c}");
    assert_eq!(c["already"], 1);
    assert_eq!(received(&out).len(), 1);
}

#[test]
fn a_hanging_command_is_killed_and_a_missing_one_warned_about_and_the_entry_stays() {
    let env = team();
    let script = env.home().join("hang.sh");
    std::fs::write(&script, "#!/bin/sh\nsleep 60\n").unwrap();
    executable(&script);
    std::fs::write(
        env.home().join("notify.toml"),
        format!(
            "timeout_seconds = 1\n[[on]]\nevents = [\"emergency.invoked\"]\ncommand = [{:?}]\n[[on]]\nevents = [\"emergency.invoked\"]\ncommand = [\"/nonexistent/page-oncall\", \"--team\", \"payments\"]\n",
            script.display().to_string()
        ),
    )
    .unwrap();
    let req = file_request(&env, "bob", "critical");
    let started = std::time::Instant::now();
    let run = env.run(&["--json", "emergency", &req, "--reason", "outage", "--as", "erin"]);
    assert!(run.status.success(), "{}", stderr_of(&run));
    assert!(started.elapsed() < std::time::Duration::from_secs(50), "the sleep was not killed");
    let err = stderr_of(&run);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "one warning per failed command: {err}");
    assert!(lines.iter().any(|l| l.contains("hang.sh") && l.contains("killed")), "{err}");
    assert!(
        lines.iter().any(|l| l.contains("/nonexistent/page-oncall") && l.contains("could not be started")),
        "{err}"
    );
    assert!(lines.iter().all(|l| l.starts_with("warning: notify: ")), "{err}");
    // The entry was recorded all the same, and the warnings are in the JSON receipt too.
    let receipt: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(receipt["warnings"].as_array().unwrap().len(), 2);
    assert_eq!(env.json(&["show", &req])["status"], "emergency", "{}", env.json(&["show", &req]));
    // Both runs are in the log.
    let log = std::fs::read_to_string(env.home().join("notify.log")).unwrap();
    let statuses: Vec<String> = log
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["status"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(statuses.len(), 2);
    assert!(statuses.contains(&"timeout".to_string()) && statuses.contains(&"not-started".to_string()));
    // `notify test` reports the failures with exit 1.
    let t = env.run(&["notify", "test", "emergency.invoked"]);
    assert_eq!(t.status.code(), Some(1));
}

#[test]
fn a_malformed_notify_toml_costs_one_warning_line_never_the_operation() {
    let env = team();
    std::fs::write(
        env.home().join("notify.toml"),
        "[[on]]\nevents = [\"emergency.invoked\", \"emergency.invokd\"]\ncommand = [\"/bin/true\"]\n",
    )
    .unwrap();
    let req = file_request(&env, "bob", "critical");
    let run = env.run(&["emergency", &req, "--reason", "outage", "--as", "erin"]);
    assert!(run.status.success(), "{}", stderr_of(&run));
    let err = stderr_of(&run);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("notify.toml line 2") && err.contains("unknown event"), "{err}");
    assert_eq!(env.json(&["show", &req])["status"], "emergency");
    // `notify check` and `notify test` refuse it: exit 2, one line.
    let e = env.fails(&["notify", "check"], 2);
    assert!(e.contains("notify.toml line 2"), "{e}");
    env.fails(&["notify", "test", "emergency.invoked"], 2);
    // An unknown key too.
    std::fs::write(env.home().join("notify.toml"), "timeout_seconds = 5\nshell = \"sh -c\"\n").unwrap();
    let e = env.fails(&["notify", "check"], 2);
    assert!(e.contains("line 2") && e.contains("unknown field"), "{e}");
}

#[test]
fn without_notify_toml_nothing_happens() {
    let env = team();
    let req = file_request(&env, "bob", "critical");
    let run = env.run(&["emergency", &req, "--reason", "outage", "--as", "erin"]);
    assert!(run.status.success());
    assert_eq!(stderr_of(&run), "");
    assert!(!env.home().join("notify.log").exists() && !env.home().join("notify.state").exists());
    let c = env.json(&["notify", "check"]);
    assert_eq!(c["configured"], false);
    let e = env.fails(&["notify", "test", "emergency.invoked"], 2);
    assert!(e.contains("no ") && e.contains("notify.toml"), "{e}");
}

#[test]
fn notify_test_sends_a_sample() {
    let env = Env::with_ledger();
    let out = configure(&env, &["rollback.unauthorized"]);
    let text = env.ok(&["notify", "test", "rollback.unauthorized"]);
    assert!(text.contains("sent a sample rollback.unauthorized"), "{text}");
    let got = received(&out);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["event"], "rollback.unauthorized");
    assert_eq!(got[0]["details"]["sample"], true);
    assert_eq!(got[0]["ledger"].as_str().unwrap().len(), 64);
    // An event no command answers, and an unknown one, are usage errors.
    let e = env.fails(&["notify", "test", "emergency.invoked"], 2);
    assert!(e.contains("maps no command to emergency.invoked"), "{e}");
    let e = env.fails(&["notify", "test", "emergency"], 2);
    assert!(e.contains("unknown event") && e.contains("gate.bypassed"), "{e}");
}

#[test]
fn commands_never_see_the_passphrase() {
    let env = Env::with_ledger();
    let out = env.home().join("env.txt");
    let script = env.home().join("env.sh");
    std::fs::write(&script, format!("#!/bin/sh\nenv > {:?}\ncat > /dev/null\n", out.display().to_string())).unwrap();
    executable(&script);
    std::fs::write(
        env.home().join("notify.toml"),
        format!("[[on]]\nevents = [\"review.overdue\"]\ncommand = [{:?}]\n", script.display().to_string()),
    )
    .unwrap();
    // The exchange's token, and git's variables that carry it in the CI recipes, are not passed either.
    let token = "url.https://x-access-token:ghs_secret0123@github.example/.insteadOf";
    let run = env
        .cmd()
        .args(["notify", "test", "review.overdue"])
        .env("ROLLCALL_EXCHANGE_TOKEN", "ghs_secret0123")
        .env("ROLLCALL_EXCHANGE", "https://x-access-token:ghs_secret0123@github.example/team/exchange.git")
        .env("GIT_CONFIG_COUNT", "1")
        .env("GIT_CONFIG_KEY_0", token)
        .env("GIT_CONFIG_VALUE_0", "https://github.example/")
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let seen = std::fs::read_to_string(&out).unwrap();
    assert!(seen.contains("ROLLCALL_HOME="), "the rest of the environment is passed: {seen}");
    assert!(!seen.contains(PASS) && !seen.contains("ROLLCALL_PASSPHRASE"), "{seen}");
    assert!(!seen.contains("ghs_secret0123") && !seen.contains("GIT_CONFIG"), "{seen}");
}

#[test]
fn an_equivocation_found_on_import_is_escalated_once() {
    let a = Env::with_ledger();
    let b = peer(&a, "bob", "test.example/bob", &["approver"]);
    let old = b.export("old.rollcall");
    b.ok(&["note", "later", "--as", "bob"]);
    a.import(&b.export("new.rollcall"));
    let out = configure(&a, &["security.equivocation"]);
    // The older bundle replayed: refused as SECURITY (exit 1, one line), and escalated.
    let err = a.fails(&["import", &old], 1);
    assert!(err.contains("SECURITY"), "{err}");
    let got = received(&out);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["event"], "security.equivocation");
    assert!(got[0]["summary"].as_str().unwrap().starts_with("SECURITY: "), "{}", got[0]);
    assert!(got[0]["details"]["bundle"].as_str().unwrap().ends_with("old.rollcall"));
    // The same bundle again (a sync job retrying): refused again, not escalated again.
    a.fails(&["import", &old], 1);
    assert_eq!(received(&out).len(), 1);
}

/// A bundle whose log holds a copy of one of alice's entries (bob re-appended her signed note to his own log
/// with the library before he had it): the import takes it, says so, and escalates it as a fork is.
#[test]
fn a_copied_entry_taken_by_an_import_is_escalated() {
    use rollcall::ledger::{Hash, Ledger};
    let a = Env::with_ledger();
    let b = peer(&a, "bob", "test.example/bob", &["approver"]);
    let id = a.json(&["note", "mine", "--as", "alice"])["entry_id"].as_str().unwrap().to_string();
    let row = Ledger::open_read_only(&a.ledger()).unwrap().entry(&Hash::from_hex(&id).unwrap()).unwrap().unwrap();
    let mut l = Ledger::open(&b.ledger()).unwrap();
    l.append(std::slice::from_ref(&row.entry), None, &b.signing_key("origin"), i64::MAX).unwrap();
    drop(l);
    let out = configure(&a, &["security.equivocation"]);
    let said = a.ok(&["import", &b.export("copy.rollcall")]);
    assert!(said.contains("SECURITY: 1 of the leaves added holds an entry another leaf already held"), "{said}");
    let got = received(&out);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["event"], "security.equivocation");
    let summary = got[0]["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("SECURITY: 1 of the leaves added holds an entry another leaf already held"),
        "{summary}"
    );
    assert!(got[0]["details"]["bundle"].as_str().unwrap().ends_with("copy.rollcall"));
}

#[test]
fn a_rollback_whose_request_was_not_approved_is_unauthorized() {
    let env = team();
    let out = configure(&env, &["rollback.unrecorded", "rollback.unauthorized"]);
    // Filed (42 -> 41) and never approved; Helm rolled back to 41 all the same.
    let req = file_request(&env, "bob", "low");
    let now = chrono::Utc::now();
    let at = |m: i64| (now + chrono::Duration::minutes(m)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let h = file(
        &env,
        "history.json",
        &format!(
            r#"[{{"revision":41,"updated":"{}","description":"Install complete"}},{{"revision":42,"updated":"{}","description":"Upgrade complete"}},{{"revision":43,"updated":"{}","description":"Rollback to 41"}}]"#,
            at(-300),
            at(-100),
            at(5)
        ),
    );
    env.ok(&["ingest", "helm", &h, "--env", "production", "--component", "payments-api", "--as", "alice"]);
    let got = received(&out);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["event"], "rollback.unauthorized");
    assert_eq!(got[0]["request"], req.as_str());
    assert!(got[0]["details"]["why"].as_str().unwrap().contains("not approved"), "{}", got[0]);
    let c = env.json(&["notify", "check"]);
    assert_eq!((c["findings"]["rollback.unauthorized"].as_u64(), c["sent"].as_u64()), (Some(1), Some(0)), "{c}");
}
