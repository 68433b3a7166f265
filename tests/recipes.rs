//! The CI/CD gate recipes of `examples/ci` (issue 17, item 4). GitHub Actions, GitLab CI, Helm and Argo
//! CD are not available here, so these tests run what every recipe runs, `examples/ci/rollcall-gate.sh`,
//! with the real rollcall binary and a real git exchange: a founder's machine pushes its ledger to a bare
//! repository with `rollcall sync --git`, and the CI side (another, empty home) runs the script, which
//! clones the exchange, joins the ledger, syncs and gates. The recipes themselves are checked as text
//! (no YAML parser is a dependency): they exist, run the script, and carry the hook annotations.
//! (`.ci/run` installs git: with `CI` set, a missing git fails the tests; elsewhere they are skipped
//! with a note.)

mod common;

use common::{Env, git, team, tested};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ci")
}

fn script() -> PathBuf {
    examples().join("rollcall-gate.sh")
}

fn read(rel: &str) -> String {
    let p = examples().join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Whether git can run here. Without it the test fails under CI (which installs it) and is skipped with
/// a note elsewhere.
fn git_available() -> bool {
    if Command::new("git").arg("--version").output().is_ok_and(|o| o.status.success()) {
        return true;
    }
    let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0");
    assert!(!ci, "git is not installed but CI is set: .ci/run installs it, and this test must run");
    eprintln!("SKIPPED: git is not installed (CI installs it; set CI to make this a failure)");
    false
}

/// The founder's ledger (the `team` of tests/common) with a CI member enrolled as executor, published to
/// a bare git repository; and the CI member's key file, kept apart as a CI secret would be.
struct World {
    founder: Env,
    shared: tempfile::TempDir,
    key_file: PathBuf,
}

impl World {
    fn new() -> World {
        let founder = team();
        // The CI member's key is made elsewhere and reaches the CI side only as a file (a secret).
        let keys = Env::new();
        keys.ok(&["key", "new", "ci"]);
        let pubkey = keys.public_key("ci");
        founder.ok(&["enroll", "ci", "--pubkey", &pubkey, "--role", "executor", "--as", "alice"]);
        let shared = tempfile::tempdir().unwrap();
        let key_file = shared.path().join("ci.key");
        std::fs::copy(keys.home().join("keys/ci.key"), &key_file).unwrap();
        let w = World { founder, shared, key_file };
        git(w.shared.path(), &["init", "-q", "--bare", "-b", "main", w.remote().to_str().unwrap()]);
        git(w.shared.path(), &["clone", "-q", w.remote().to_str().unwrap(), w.founder_copy().to_str().unwrap()]);
        w.publish();
        w
    }

    fn remote(&self) -> PathBuf {
        self.shared.path().join("exchange.git")
    }

    fn founder_copy(&self) -> PathBuf {
        self.shared.path().join("founder-exchange")
    }

    /// The founder syncs with the exchange (pull, import, push its bundle).
    fn publish(&self) -> String {
        self.founder.ok(&["sync", "--git", self.founder_copy().to_str().unwrap()])
    }

    /// A CI machine: a home that does not exist yet, and where its verdict goes.
    fn ci(&self, name: &str) -> Ci {
        let dir = self.shared.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        Ci { home: dir.join("home"), verdict: dir.join("verdict.json"), dir }
    }

    /// The script's environment for `ci` gating `request`: everything a recipe sets.
    fn vars(&self, ci: &Ci, request: &str) -> Vec<(&'static str, String)> {
        vec![
            ("ROLLCALL_REQUEST", request.to_string()),
            ("ROLLCALL_EXCHANGE", self.remote().to_str().unwrap().to_string()),
            ("ROLLCALL_HOME", ci.home.to_str().unwrap().to_string()),
            ("ROLLCALL_JOIN_AS", "ci".into()),
            ("ROLLCALL_LEDGER_ID", self.founder.json(&["verify"])["ledger_id"].as_str().unwrap().to_string()),
            ("ROLLCALL_ORIGIN", format!("ci.example/{}", ci.dir.file_name().unwrap().to_str().unwrap())),
            ("ROLLCALL_KEY_FILE", self.key_file.to_str().unwrap().to_string()),
            ("ROLLCALL_PASSPHRASE", common::PASS.into()),
            ("ROLLCALL_GATE_JSON", ci.verdict.to_str().unwrap().to_string()),
            ("ROLLCALL_BIN", env!("CARGO_BIN_EXE_rollcall").into()),
        ]
    }

    /// [`World::request`], approved by carol and published.
    fn approved(&self) -> String {
        let req = self.request();
        self.founder.ok(&["approve", &req, "--comment", "latency graphs confirm it", "--as", "carol"]);
        self.publish();
        req
    }

    /// The variables of a gate job on `ci` for `request` in production that pushes nothing.
    fn gate_vars(&self, ci: &Ci, request: &str) -> Vec<(&'static str, String)> {
        let vars = with(&self.vars(ci, &request[..12]), "ROLLCALL_ENVIRONMENT", Some("production"));
        with(&vars, "ROLLCALL_PUBLISH", Some("no"))
    }

    /// A request filed by bob, low risk (one approval), for production, with its passing test report.
    fn request(&self) -> String {
        let req = common::file_request(&self.founder, "bob", "low");
        tested(&self.founder, &req, "bob");
        req
    }
}

struct Ci {
    dir: PathBuf,
    home: PathBuf,
    verdict: PathBuf,
}

impl Ci {
    /// rollcall in this CI home, as the recipes' later steps run it.
    fn rollcall(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_rollcall"))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.dir)
            .env("ROLLCALL_HOME", &self.home)
            .env("ROLLCALL_PASSPHRASE", common::PASS)
            .env("ROLLCALL_INSECURE_FAST_KDF", "1")
            .args(args)
            .output()
            .unwrap()
    }

    fn verdict(&self) -> serde_json::Value {
        let text = std::fs::read_to_string(&self.verdict).expect("the verdict file");
        serde_json::from_str(&text).expect("the verdict is JSON")
    }
}

/// Runs the gate script with exactly `vars` (plus PATH, a private HOME, no global git config, and the fast
/// test KDF): nothing inherited from the test's environment.
fn run_script(home_dir: &Path, vars: &[(&str, String)]) -> Output {
    let mut c = Command::new("bash");
    c.arg(script())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home_dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("ROLLCALL_INSECURE_FAST_KDF", "1")
        .current_dir(home_dir);
    for (k, v) in vars {
        c.env(k, v);
    }
    c.output().expect("run bash")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts the script failed closed with `code` and one error line on stderr, returned.
fn failed(o: &Output, code: i32) -> String {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(code), "stdout:\n{}\nstderr:\n{err}", stdout(o));
    assert_eq!(err.trim_end().lines().count(), 1, "one error line, not: {err:?}");
    assert!(err.starts_with("rollcall-gate: "), "{err}");
    err
}

/// `vars` with `name` removed or replaced.
fn with(vars: &[(&'static str, String)], name: &'static str, value: Option<&str>) -> Vec<(&'static str, String)> {
    let mut out: Vec<_> = vars.iter().filter(|(k, _)| *k != name).cloned().collect();
    if let Some(v) = value {
        out.push((name, v.to_string()));
    }
    out
}

#[test]
fn the_scripts_parse_and_fail_closed_by_construction() {
    let out = Command::new("bash").arg("-n").arg(script()).output().expect("bash");
    assert!(out.status.success(), "bash -n: {}", stderr(&out));
    let s = read("rollcall-gate.sh");
    assert!(s.starts_with("#!/usr/bin/env bash\n"), "a bash script");
    assert!(s.lines().any(|l| l == "set -euo pipefail"), "set -euo pipefail");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(script()).unwrap().permissions().mode();
        assert!(mode & 0o111 != 0, "the script is executable ({mode:o})");
    }
    // Every variable the recipes set is documented at the top of the script.
    let header: String = s.lines().take_while(|l| l.starts_with('#')).collect::<Vec<_>>().join("\n");
    for recipe in [
        "github-actions/rollback.yml",
        "gitlab/.gitlab-ci.yml",
        "helm/templates/rollcall-pre-rollback-hook.yaml",
        "helm/templates/rollcall-post-rollback-hook.yaml",
        "argocd/rollcall-presync-hook.yaml",
        "argocd/rollcall-postsync-hook.yaml",
    ] {
        let text = read(recipe);
        for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
            if word.starts_with("ROLLCALL_") && !["ROLLCALL_CI_KEY", "ROLLCALL_EXCHANGE_TOKEN"].contains(&word) {
                assert!(header.contains(word), "{recipe} sets {word}, which the script does not document");
            }
        }
    }
}

#[test]
fn the_recipes_run_the_script_before_the_rollback_and_carry_their_hooks() {
    let gh = read("github-actions/rollback.yml");
    assert!(gh.contains("workflow_dispatch:") && gh.contains("request:") && gh.contains("environment:"), "{gh}");
    let gate = gh.find("run: examples/ci/rollcall-gate.sh").expect("the workflow runs the gate script");
    let rollback = gh.find("- name: Roll back").expect("a rollback step");
    let record = gh.find("rollcall execute").expect("the execution is recorded");
    assert!(gate < rollback && rollback < record, "gate, then the rollback, then the record");
    assert!(gh.contains("steps.gate.outcome == 'success'"), "the record step only after a passing gate");
    // Inputs reach the script as variables, never pasted into shell text.
    assert!(!gh.lines().any(|l| l.contains("run:") && l.contains("${{ inputs.")), "{gh}");
    // The passphrase only in the steps that sign (the gate script, the record), never job-wide where the
    // revert command and the install's build scripts would inherit it.
    let job_env = &gh[gh.find("    env:").unwrap()..gh.find("    steps:").unwrap()];
    assert!(!job_env.contains("ROLLCALL_PASSPHRASE:"), "{job_env}");
    assert_eq!(gh.matches("ROLLCALL_PASSPHRASE: ${{ secrets.ROLLCALL_PASSPHRASE }}").count(), 2, "{gh}");
    assert!(!gh[rollback..record].contains("ROLLCALL_PASSPHRASE:"), "the rollback step runs without it");
    // The exchange's token likewise: in the environment of the two steps that use the exchange, never in a
    // file the rollback step could read and a self-hosted runner would keep.
    assert!(!job_env.contains("GIT_CONFIG") && !gh[rollback..record].contains("GIT_CONFIG"), "{gh}");
    assert_eq!(
        gh.matches("GIT_CONFIG_KEY_0: url.https://x-access-token:${{ secrets.ROLLCALL_EXCHANGE_TOKEN }}@").count(),
        2
    );
    // And no credential helper of the runner's stores it.
    assert_eq!(gh.matches("GIT_CONFIG_KEY_1: credential.helper\n          GIT_CONFIG_VALUE_1: \"\"").count(), 2);

    let gl = read("gitlab/.gitlab-ci.yml");
    let stages = gl.find("stages:").expect("stages");
    assert!(gl[stages..].find("- gate").unwrap() < gl[stages..].find("- rollback").unwrap(), "gate stage first");
    let job = gl.find("\nrollback:").expect("a rollback job");
    let rollback_job = &gl[job..];
    assert!(rollback_job.contains("needs: [gate]") && rollback_job.contains("when: manual"), "{rollback_job}");
    assert!(gl.contains("\ngate:") && gl.matches("- rollcall-gate.sh").count() == 2, "both jobs gate");
    assert!(
        gl.contains(
            r#"(unset ROLLCALL_PASSPHRASE ROLLCALL_ORIGIN_PASSPHRASE ROLLCALL_EXCHANGE_TOKEN GIT_CONFIG_COUNT GIT_CONFIG_KEY_0 GIT_CONFIG_VALUE_0 GIT_CONFIG_KEY_1 GIT_CONFIG_VALUE_1; exec "${argv[@]}")"#
        ),
        "{gl}"
    );
    assert!(gl.contains("GIT_CONFIG_KEY_1=credential.helper GIT_CONFIG_VALUE_1=\n"), "{gl}");
    for recipe in [&gh, &gl] {
        let writes = recipe.lines().any(|l| !l.trim_start().starts_with('#') && l.contains("git config --global"));
        assert!(!writes, "the exchange's token is written to ~/.gitconfig");
    }

    let helm = read("helm/templates/rollcall-pre-rollback-hook.yaml");
    for needle in [
        "kind: Job",
        r#""helm.sh/hook": pre-rollback"#,
        r#""helm.sh/hook-delete-policy":"#,
        "backoffLimit: 0",
        "restartPolicy: Never",
        "/usr/local/bin/rollcall-gate.sh",
        "name: ROLLCALL_REQUEST",
    ] {
        assert!(helm.contains(needle), "the Helm hook lacks {needle:?}");
    }

    let argo = read("argocd/rollcall-presync-hook.yaml");
    for needle in [
        "kind: Job",
        "argocd.argoproj.io/hook: PreSync",
        "argocd.argoproj.io/hook-delete-policy: BeforeHookCreation",
        "backoffLimit: 0",
        "restartPolicy: Never",
        "/usr/local/bin/rollcall-gate.sh",
        "name: ROLLCALL_REQUEST",
    ] {
        assert!(argo.contains(needle), "the Argo CD hook lacks {needle:?}");
    }

    // The companions that record the run after a rollback that succeeded: the same script, recording and
    // publishing.
    for (file, hook) in [
        ("helm/templates/rollcall-post-rollback-hook.yaml", r#""helm.sh/hook": post-rollback"#),
        ("argocd/rollcall-postsync-hook.yaml", "argocd.argoproj.io/hook: PostSync"),
    ] {
        let text = read(file);
        for needle in [
            hook,
            "kind: Job",
            "backoffLimit: 0",
            "restartPolicy: Never",
            "/usr/local/bin/rollcall-gate.sh",
            "name: ROLLCALL_REQUEST",
            "- name: ROLLCALL_RECORD\n              value: succeeded",
            "- name: ROLLCALL_PUBLISH\n              value: \"yes\"",
        ] {
            assert!(text.contains(needle), "{file} lacks {needle:?}");
        }
        assert!(!text.contains("ROLLCALL_GATE_JSON"), "{file} gates nothing");
    }

    let docker = read("Dockerfile");
    assert!(docker.contains("COPY examples/ci/rollcall-gate.sh /usr/local/bin/rollcall-gate.sh"), "{docker}");
    assert!(docker.contains("cargo build --release --locked --bin rollcall"), "{docker}");
    let readme = read("README.md");
    for name in [
        "rollcall-gate.sh",
        "rollback.yml",
        ".gitlab-ci.yml",
        "pre-rollback",
        "PreSync",
        "post-rollback",
        "PostSync",
        "ROLLCALL_RECORD",
        "Not tested",
    ] {
        assert!(readme.contains(name), "examples/ci/README.md does not mention {name}");
    }
}

/// The passphrase reaches only the rollcall commands that sign (the join, the sync): not git (nor its
/// helpers and hooks, nor what a persisted working copy's config names) and not the read-only gate. A
/// wrapper on PATH and in ROLLCALL_BIN writes each program's arguments and whether it saw a passphrase.
#[test]
fn the_passphrase_reaches_only_the_rollcall_commands_that_sign() {
    if !git_available() {
        return;
    }
    let w = World::new();
    let req = w.approved();
    let ci = w.ci("runner-env");
    let bin = ci.dir.join("wrapped");
    std::fs::create_dir_all(&bin).unwrap();
    let log = ci.dir.join("seen.log");
    let real_git = String::from_utf8(Command::new("sh").args(["-c", "command -v git"]).output().unwrap().stdout)
        .unwrap()
        .trim()
        .to_string();
    let wrapper = |name: &str, real: &str| {
        let path = bin.join(name);
        std::fs::write(
            &path,
            format!(
                "#!/bin/sh\necho \"{name} $1 $2 passphrase=${{ROLLCALL_PASSPHRASE:+yes}}${{ROLLCALL_ORIGIN_PASSPHRASE:+yes}}\" >> '{}'\nexec '{real}' \"$@\"\n",
                log.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        path
    };
    wrapper("git", &real_git);
    let rollcall = wrapper("rollcall", env!("CARGO_BIN_EXE_rollcall"));
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let vars =
        with(&with(&w.gate_vars(&ci, &req), "ROLLCALL_BIN", Some(rollcall.to_str().unwrap())), "PATH", Some(&path));
    let vars = with(&vars, "ROLLCALL_ORIGIN_PASSPHRASE", Some(common::PASS));
    let out = run_script(&ci.dir, &vars);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    let seen = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = seen.lines().collect();
    assert!(lines.iter().any(|l| l.starts_with("git ")), "{seen}");
    for l in &lines {
        let signs = l.starts_with("rollcall init --join") || l.starts_with("rollcall sync --git");
        // Both passphrases, or neither.
        assert_eq!(l.ends_with("passphrase=yesyes"), signs, "{l}\n{seen}");
        assert!(signs || l.ends_with("passphrase="), "{l}\n{seen}");
    }
    assert!(lines.iter().any(|l| l.starts_with("rollcall --json gate")), "{seen}");
}

/// An approved request: the script joins from the exchange, syncs, passes (exit 0) with a verdict file
/// that says so; a persistent home gates again and publishes its own bundle; the recipes' record step
/// (`execute`, `sync --git`) reaches the founder.
#[test]
fn an_approved_request_passes_and_its_execution_reaches_the_founder() {
    if !git_available() {
        return;
    }
    let w = World::new();
    let req = w.approved();

    let ci = w.ci("runner-1");
    let vars = w.gate_vars(&ci, &req);
    let out = run_script(&ci.dir, &vars);
    assert_eq!(out.status.code(), Some(0), "stdout:\n{}\nstderr:\n{}", stdout(&out), stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("joined ledger"), "{text}");
    assert!(text.contains("gate PASSES"), "{text}");
    let v = ci.verdict();
    assert_eq!(v["gate"], true, "{v}");
    assert_eq!(v["request"], req.as_str(), "{v}");
    assert_eq!(v["status"], "approved", "{v}");
    // ROLLCALL_PUBLISH=no pushed nothing: the exchange holds the founder's bundle only; and it wrote
    // nothing into its working copy either (`sync --git --pull-only`): no bundle, no commit of its own.
    let files = git(&w.remote(), &["ls-tree", "--name-only", "main"]);
    assert_eq!(files, "test.example_laptop.rollcall");
    let wc = ci.home.join("exchange");
    assert_eq!(git(&wc, &["status", "--porcelain"]), "");
    assert_eq!(git(&wc, &["rev-parse", "HEAD"]), git(&w.remote(), &["rev-parse", "main"]));

    // The same home again (a persistent runner): no join, and this time it publishes its bundle.
    let again = run_script(&ci.dir, &with(&vars, "ROLLCALL_PUBLISH", None));
    assert_eq!(again.status.code(), Some(0), "{}{}", stdout(&again), stderr(&again));
    assert!(!stdout(&again).contains("joined ledger"), "{}", stdout(&again));
    let files = git(&w.remote(), &["ls-tree", "--name-only", "main"]);
    assert!(files.lines().any(|f| f == "ci.example_runner-1.rollcall"), "{files}");

    // The record step of the recipes: execute as the CI member, then sync through the exchange.
    let log = ci.dir.join("rollback.log");
    std::fs::write(&log, "release payments rolled back to 41\n").unwrap();
    let exec =
        ci.rollcall(&["execute", &req, "--outcome", "succeeded", "--output-file", log.to_str().unwrap(), "--as", "ci"]);
    assert!(exec.status.success(), "{}", stderr(&exec));
    let sync = ci.rollcall(&["sync", "--git", ci.home.join("exchange").to_str().unwrap()]);
    assert!(sync.status.success(), "{}", stderr(&sync));
    w.publish();
    let shown = w.founder.json(&["show", &req]);
    assert_eq!(shown["status"], "executed", "{}", shown["status"]);
    // Executed, the request no longer opens the gate: a rerun of the job blocks.
    let rerun = run_script(&ci.dir, &vars);
    let err = failed(&rerun, 1);
    assert!(err.contains("BLOCKED") && err.contains("state"), "{err}");
}

/// The post-rollback hooks' mode, as each hook pod runs it (an empty home that joins, records and publishes
/// in one run): bad configuration and a request of another environment are refused before anything is
/// recorded or pushed; a publish that fails is said (exit 3) and reaches no one; a failed run recorded
/// leaves the request open to another run, and a succeeded one reaches the founder as executed, with its
/// output's digest, after which the next gate blocks (one approval, one rollback) and recording it again
/// is refused (exit 1) without a bundle pushed.
#[test]
fn a_run_recorded_after_the_rollback_reaches_the_founder_and_closes_the_gate() {
    if !git_available() {
        return;
    }
    let w = World::new();
    let req = w.approved();
    let gate = w.ci("pre-rollback");
    let gate_vars = w.gate_vars(&gate, &req);
    let out = run_script(&gate.dir, &gate_vars);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    let log = w.shared.path().join("rollback.log");
    std::fs::write(&log, "Rollback was a success! Happy Helming!\n").unwrap();
    // The record hook's variables for a pod of its own, recording `outcome`.
    let hook = |name: &str, outcome: &str| -> (Ci, Vec<(&'static str, String)>) {
        let ci = w.ci(name);
        let vars = with(&w.vars(&ci, &req[..12]), "ROLLCALL_ENVIRONMENT", Some("production"));
        let vars = with(&vars, "ROLLCALL_GATE_JSON", None);
        let vars = with(&vars, "ROLLCALL_OUTPUT_FILE", Some(log.to_str().unwrap()));
        (ci, with(&vars, "ROLLCALL_RECORD", Some(outcome)))
    };
    let bundles = || git(&w.remote(), &["ls-tree", "--name-only", "main"]);
    let published = bundles();

    // Bad configuration: refused (2) before anything is joined, recorded or pushed.
    let (bad, vars) = hook("post-rollback-bad", "succeeded");
    for (name, value, says) in [
        ("ROLLCALL_RECORD", Some("ok"), "ROLLCALL_RECORD must be succeeded or failed"),
        ("ROLLCALL_PUBLISH", Some("no"), "ROLLCALL_RECORD needs ROLLCALL_PUBLISH=yes"),
        ("ROLLCALL_OUTPUT_FILE", Some("/nonexistent/rollback.log"), "cannot be read"),
    ] {
        let err = failed(&run_script(&bad.dir, &with(&vars, name, value)), 2);
        assert!(err.contains(says), "{err}");
    }
    // A misspelt mode is not taken for "no request" when no request is named either.
    let v = with(&with(&vars, "ROLLCALL_RECORD", Some("yes")), "ROLLCALL_NO_REQUEST", Some("pass"));
    assert!(failed(&run_script(&bad.dir, &with(&v, "ROLLCALL_REQUEST", None)), 2).contains("ROLLCALL_RECORD must be"));
    let by_change = with(&with(&vars, "ROLLCALL_REQUEST", None), "ROLLCALL_CHANGE", Some("abc1234"));
    assert!(failed(&run_script(&bad.dir, &by_change), 2).contains("set ROLLCALL_REQUEST, not ROLLCALL_CHANGE"));
    assert!(!bad.home.join("ledger.db").exists(), "nothing joined");
    // A request of another environment: joined, refused (1), nothing recorded or pushed.
    let (staging, vars) = hook("post-rollback-staging", "succeeded");
    let err = failed(&run_script(&staging.dir, &with(&vars, "ROLLCALL_ENVIRONMENT", Some("staging"))), 1);
    assert!(
        err.contains("NOT RECORDED: request") && err.contains("the request reverts production, not staging"),
        "{err}"
    );
    assert_eq!(bundles(), published, "nothing pushed");
    // The component the tool rolls back: another one blocks the gate and is not recorded; a name that
    // could be an option is bad configuration.
    let err = failed(&run_script(&gate.dir, &with(&gate_vars, "ROLLCALL_COMPONENT", Some("billing"))), 1);
    assert!(
        err.contains("BLOCKED") && err.contains("component (the request reverts payments-api, not billing)"),
        "{err}"
    );
    let (other, vars) = hook("post-rollback-billing", "succeeded");
    let err = failed(&run_script(&other.dir, &with(&vars, "ROLLCALL_COMPONENT", Some("billing"))), 1);
    assert!(err.contains("NOT RECORDED") && err.contains("not billing"), "{err}");
    for bad in ["--all", "", "  "] {
        let err = failed(&run_script(&other.dir, &with(&vars, "ROLLCALL_COMPONENT", Some(bad))), 2);
        assert!(err.contains("not a component name"), "{bad:?}: {err}");
    }
    // The revision the tool rolls back to: another one blocks the gate; an option-like one is bad
    // configuration.
    let err = failed(&run_script(&gate.dir, &with(&gate_vars, "ROLLCALL_TO", Some("40"))), 1);
    assert!(err.contains("BLOCKED") && err.contains("target (the request returns to 41, not 40"), "{err}");
    for bad in ["-1", " "] {
        let err = failed(&run_script(&gate.dir, &with(&gate_vars, "ROLLCALL_TO", Some(bad))), 2);
        assert!(err.contains("is not a revision"), "{bad:?}: {err}");
    }
    assert_eq!(bundles(), published, "nothing pushed");

    // The exchange refuses the push: the record made in the pod reaches no one (3), and says so.
    let refuse = w.remote().join("hooks/pre-receive");
    std::fs::write(&refuse, "#!/bin/sh\necho 'push refused' >&2\nexit 1\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&refuse, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let (lost, vars) = hook("post-rollback-unpublished", "succeeded");
    let err = failed(&run_script(&lost.dir, &vars), 3);
    assert!(err.contains("is recorded in") && err.contains("but not published"), "{err}");
    std::fs::remove_file(&refuse).unwrap();
    w.publish();
    assert_eq!(w.founder.json(&["show", &req])["status"], "approved", "nothing reached the founder");

    // The first rollback failed: recorded so, the request stays open to another run.
    let (first, vars) = hook("post-rollback-1", "failed");
    let out = run_script(&first.dir, &vars);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    w.publish();
    assert_eq!(w.founder.json(&["show", &req])["status"], "failed");
    let out = run_script(&gate.dir, &gate_vars);
    assert_eq!(out.status.code(), Some(0), "a failed run may be retried: {}{}", stdout(&out), stderr(&out));

    // The second succeeded: recorded and published by a pod that joined in the same run (for the component
    // the request lists).
    let (second, vars) = hook("post-rollback-2", "succeeded");
    let vars = with(&vars, "ROLLCALL_COMPONENT", Some("payments-api"));
    let out = run_script(&second.dir, &vars);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("joined ledger"), "{}", stdout(&out));
    assert!(stdout(&out).contains(&format!("request {}: run recorded (succeeded) and published", &req[..12])));
    w.publish();
    let shown = w.founder.json(&["show", &req]);
    assert_eq!(shown["status"], "executed", "{}", shown["status"]);
    let runs = shown["executions"].as_array().unwrap();
    assert_eq!(
        runs.iter().map(|r| r["body"]["outcome"].as_str().unwrap()).collect::<Vec<_>>(),
        ["failed", "succeeded"]
    );
    let run = &runs[1]["body"];
    let digest = rollcall::ledger::Hash::of(&[&std::fs::read(&log).unwrap()]).to_hex();
    assert_eq!(run["output_sha256"], digest.as_str(), "{run}");
    assert!(run["notes"].as_str().unwrap_or_default().contains("ROLLCALL_RECORD=succeeded"), "{run}");

    // The approval has been used: the next gate blocks.
    let err = failed(&run_script(&gate.dir, &gate_vars), 1);
    assert!(err.contains("BLOCKED") && err.contains("state"), "{err}");
    // The same run recorded twice: rollcall refuses (1), and the refused pod pushes nothing.
    let published = bundles();
    let (again, vars) = hook("post-rollback-again", "succeeded");
    let err = failed(&run_script(&again.dir, &vars), 1);
    assert!(err.contains("NOT RECORDED") && err.contains("refused:"), "{err}");
    assert_eq!(bundles(), published, "nothing pushed");
}

/// A request still missing its approval and its evidence blocks (exit 1), naming what is missing on its
/// one stderr line and in the verdict file; a request for another environment blocks too.
#[test]
fn a_request_not_approved_blocks_and_names_what_is_missing() {
    if !git_available() {
        return;
    }
    let w = World::new();
    let req = common::file_request(&w.founder, "bob", "medium");
    w.publish();
    let ci = w.ci("runner-2");
    let vars = with(&w.vars(&ci, &req), "ROLLCALL_PUBLISH", Some("no"));
    let out = run_script(&ci.dir, &vars);
    let err = failed(&out, 1);
    assert!(err.contains("BLOCKED") && err.contains(&req), "{err}");
    assert!(err.contains("approvals (0 of"), "{err}");
    assert!(err.contains("evidence ("), "{err}");
    assert!(stdout(&out).contains("gate BLOCKS"), "{}", stdout(&out));
    let v = ci.verdict();
    assert_eq!(v["gate"], false, "{v}");
    let unmet = common::unmet(&v);
    assert!(unmet.contains(&"approvals") && unmet.contains(&"evidence"), "{v}");

    // Approved and tested on the founder's machine, for production: a staging job still refuses it.
    tested(&w.founder, &req, "bob");
    w.founder.ok(&["approve", &req, "--comment", "ok", "--as", "carol"]);
    w.publish();
    // The gate weighs the environment from the signed record (checklist item `environment`): the verdict
    // says why. Before, the script asked `list --env`, which reads the request index, a cache.
    let staging = run_script(&ci.dir, &with(&vars, "ROLLCALL_ENVIRONMENT", Some("staging")));
    let err = failed(&staging, 1);
    assert!(
        err.contains("BLOCKED") && err.contains("environment (the request is for production, not staging)"),
        "{err}"
    );
    let v = ci.verdict();
    assert_eq!(common::checklist_item(&v, "environment")["met"], false, "{v}");
    // An edited index does not move it: with the index row saying staging (where `list --env staging`
    // found it, and the approved request passed), the record still says production.
    let db = rusqlite::Connection::open(ci.home.join("ledger.db")).unwrap();
    assert_eq!(db.execute("UPDATE request_index SET env = 'staging'", []).unwrap(), 1);
    drop(db);
    let err = failed(&run_script(&ci.dir, &with(&vars, "ROLLCALL_ENVIRONMENT", Some("staging"))), 1);
    assert!(err.contains("environment (the request is for production, not staging)"), "{err}");
    let production = run_script(&ci.dir, &with(&vars, "ROLLCALL_ENVIRONMENT", Some("production")));
    assert_eq!(production.status.code(), Some(0), "{}{}", stdout(&production), stderr(&production));
}

/// Every error fails closed: non-zero (never 0, never the 1 of a verdict), one line, no verdict file left
/// behind (a stale one from an earlier run is removed).
#[test]
fn errors_fail_closed_with_one_line() {
    if !git_available() {
        return;
    }
    let w = World::new();
    let req = w.request();
    w.founder.ok(&["approve", &req, "--comment", "ok", "--as", "carol"]);
    w.publish();
    let ci = w.ci("runner-3");
    let vars = with(&w.vars(&ci, &req), "ROLLCALL_PUBLISH", Some("no"));
    let stale = || std::fs::write(&ci.verdict, r#"{"gate": true}"#).unwrap();

    for name in ["ROLLCALL_REQUEST", "ROLLCALL_EXCHANGE", "ROLLCALL_HOME"] {
        stale();
        let err = failed(&run_script(&ci.dir, &with(&vars, name, None)), 2);
        assert!(err.contains(name) && err.contains("not set"), "{err}");
        let err = failed(&run_script(&ci.dir, &with(&vars, name, Some(""))), 2);
        assert!(err.contains(name), "{err}");
    }
    for garbage in ["zzzz", "ab", "-rf", "abcd; touch pwned", "$(id)", &"a".repeat(65)] {
        stale();
        let err = failed(&run_script(&ci.dir, &with(&vars, "ROLLCALL_REQUEST", Some(garbage))), 2);
        assert!(err.contains("is not a request id"), "{err}");
        assert!(!ci.verdict.exists(), "the stale verdict was removed");
    }
    assert!(!ci.dir.join("pwned").exists());
    // A what-if clock is refused: a pipeline variable could count an expired approval again.
    stale();
    let err = failed(&run_script(&ci.dir, &with(&vars, "ROLLCALL_NOW", Some("2026-11-02T10:00:00Z"))), 2);
    assert!(err.contains("ROLLCALL_NOW is set"), "{err}");
    assert!(!ci.verdict.exists());
    assert!(!ci.home.exists(), "refused before anything was cloned or joined");

    // Unreachable exchange: nothing to clone.
    stale();
    let gone = w.shared.path().join("no-such-exchange.git");
    let err = failed(&run_script(&ci.dir, &with(&vars, "ROLLCALL_EXCHANGE", Some(gone.to_str().unwrap()))), 3);
    assert!(err.contains("cannot clone the exchange"), "{err}");
    assert!(!ci.verdict.exists());

    // The binary missing.
    let err = failed(&run_script(&ci.dir, &with(&vars, "ROLLCALL_BIN", Some("/nonexistent/rollcall"))), 3);
    assert!(err.contains("not installed"), "{err}");

    // No ledger and nothing to join as.
    let err = failed(&run_script(&ci.dir, &with(&vars, "ROLLCALL_JOIN_AS", None)), 2);
    assert!(err.contains("no ledger") && err.contains("ROLLCALL_JOIN_AS"), "{err}");
    // Joining needs the team ledger's id, and joins no other ledger the exchange holds.
    let err = failed(&run_script(&ci.dir, &with(&vars, "ROLLCALL_LEDGER_ID", None)), 2);
    assert!(err.contains("ROLLCALL_LEDGER_ID is not set"), "{err}");
    let err = failed(&run_script(&ci.dir, &with(&vars, "ROLLCALL_LEDGER_ID", Some("abcd"))), 2);
    assert!(err.contains("is not a ledger id"), "{err}");
    let other = "0".repeat(64);
    let err = failed(&run_script(&ci.dir, &with(&vars, "ROLLCALL_LEDGER_ID", Some(&other))), 3);
    assert!(err.contains("cannot join") && err.contains(&format!("not to ledger {other}")), "{err}");
    assert!(!ci.home.join("ledger.db").exists(), "nothing joined");

    // A well-formed id no request has: gate's own refusal (2), passed through.
    stale();
    let err = failed(&run_script(&ci.dir, &with(&vars, "ROLLCALL_REQUEST", Some("0000"))), 2);
    assert!(err.contains("no request has an id starting with 0000"), "{err}");
    assert!(!ci.verdict.exists());

    // The exchange becomes unreachable for a home that synced before: fail closed, not a stale verdict.
    let ok = run_script(&ci.dir, &vars);
    assert_eq!(ok.status.code(), Some(0), "{}{}", stdout(&ok), stderr(&ok));
    let moved = w.shared.path().join("moved.git");
    std::fs::rename(w.remote(), &moved).unwrap();
    for publish in ["no", "yes"] {
        let err = failed(&run_script(&ci.dir, &with(&vars, "ROLLCALL_PUBLISH", Some(publish))), 3);
        assert!(err.contains(w.remote().to_str().unwrap()), "{err}");
        assert!(!ci.verdict.exists());
    }
    std::fs::rename(&moved, w.remote()).unwrap();

    // The home holds a ledger other than the team's (as a file swapped in would be): the gate does not answer
    // from it, and no verdict is left.
    let err = failed(&run_script(&ci.dir, &with(&vars, "ROLLCALL_LEDGER_ID", Some(&other))), 3);
    assert!(err.contains(&format!("not ledger {other} (--ledger-id); not gating")), "{err}");
    assert!(!ci.verdict.exists());
    assert_eq!(run_script(&ci.dir, &vars).status.code(), Some(0), "the team's id still passes");

    // A peer bundle that sync refuses: the sync's exit 1 is an error (3), not a verdict.
    let intruder = w.shared.path().join("intruder");
    git(w.shared.path(), &["clone", "-q", w.remote().to_str().unwrap(), intruder.to_str().unwrap()]);
    std::fs::write(intruder.join("evil.rollcall"), "not a bundle\n").unwrap();
    git(&intruder, &["add", "evil.rollcall"]);
    git(&intruder, &["commit", "-q", "-m", "a peer, supposedly"]);
    git(&intruder, &["push", "-q", "origin", "HEAD:main"]);
    let err = failed(&run_script(&ci.dir, &vars), 3);
    assert!(err.contains("cannot sync the ledger") && err.contains("refused"), "{err}");
    // A new CI home joins past it (the join tries the next bundle) and still fails closed.
    let fresh = w.ci("runner-4");
    let err = failed(&run_script(&fresh.dir, &with(&w.vars(&fresh, &req), "ROLLCALL_PUBLISH", Some("no"))), 3);
    assert!(err.contains("cannot sync the ledger"), "{err}");
    assert!(fresh.home.join("ledger.db").exists(), "joined from the genuine bundle");

    // Bad option values.
    let err = failed(&run_script(&ci.dir, &with(&vars, "ROLLCALL_PUBLISH", Some("maybe"))), 2);
    assert!(err.contains("ROLLCALL_PUBLISH"), "{err}");
    let err = failed(&run_script(&ci.dir, &with(&vars, "ROLLCALL_NO_REQUEST", Some("sure"))), 2);
    assert!(err.contains("ROLLCALL_NO_REQUEST"), "{err}");
}

/// `ROLLCALL_NO_REQUEST=pass` (a PreSync hook on an Application whose ordinary syncs are not rollbacks):
/// no request named passes without gating; a request named is still gated.
#[test]
fn no_request_passes_only_when_asked_to() {
    let dir = tempfile::tempdir().unwrap();
    let vars = vec![("ROLLCALL_NO_REQUEST", "pass".to_string())];
    let out = run_script(dir.path(), &vars);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("not gated"), "{}", stdout(&out));
    let err = failed(&run_script(dir.path(), &[("ROLLCALL_NO_REQUEST", "block".to_string())]), 2);
    assert!(err.contains("ROLLCALL_REQUEST is not set"), "{err}");
    // Named, the request is gated: here the missing exchange stops it.
    let named = [("ROLLCALL_NO_REQUEST", "pass".to_string()), ("ROLLCALL_REQUEST", "abcd".to_string())];
    let err = failed(&run_script(dir.path(), &named), 2);
    assert!(err.contains("ROLLCALL_EXCHANGE is not set"), "{err}");
}

/// `ROLLCALL_CHANGE` with `ROLLCALL_ENVIRONMENT` (a job that knows what it reverts and where, not the
/// request): blocks while the request to revert it is not approved, passes once it is (the verdict names
/// the request), blocks for another environment; both ROLLCALL_REQUEST and ROLLCALL_CHANGE, or a change
/// without an environment, or one that is not a change id, fail closed (2) before anything runs.
#[test]
fn a_change_and_its_environment_are_gated_without_the_request_id() {
    if !git_available() {
        return;
    }
    let w = World::new();
    let req = w.request();
    w.publish();
    let ci = w.ci("runner-5");
    let vars = with(&w.vars(&ci, &req), "ROLLCALL_REQUEST", None);
    let vars = with(&with(&vars, "ROLLCALL_PUBLISH", Some("no")), "ROLLCALL_CHANGE", Some("deploy-4411"));
    let production = with(&vars, "ROLLCALL_ENVIRONMENT", Some("production"));

    let err = failed(&run_script(&ci.dir, &production), 1);
    assert!(err.contains("BLOCKED: change deploy-4411 in production") && err.contains("approvals (0 of"), "{err}");
    assert_eq!(ci.verdict()["gate"], false);

    w.founder.ok(&["approve", &req, "--comment", "ok", "--as", "carol"]);
    w.publish();
    let out = run_script(&ci.dir, &production);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("change deploy-4411 in production: gate PASSES"), "{}", stdout(&out));
    let v = ci.verdict();
    assert_eq!((&v["gate"], &v["request"]), (&serde_json::json!(true), &serde_json::json!(req)), "{v}");

    let staging = run_script(&ci.dir, &with(&vars, "ROLLCALL_ENVIRONMENT", Some("staging")));
    let err = failed(&staging, 1);
    assert!(err.contains("BLOCKED: change deploy-4411 in staging"), "{err}");
    assert!(stdout(&staging).contains("no request to revert"));

    let both = with(&production, "ROLLCALL_REQUEST", Some(&req));
    assert!(failed(&run_script(&ci.dir, &both), 2).contains("not both"));
    let err = failed(&run_script(&ci.dir, &with(&vars, "ROLLCALL_ENVIRONMENT", None)), 2);
    assert!(err.contains("ROLLCALL_ENVIRONMENT is not set"), "{err}");
    for garbage in ["-rf", "two words", "a\nb"] {
        let err = failed(&run_script(&ci.dir, &with(&production, "ROLLCALL_CHANGE", Some(garbage))), 2);
        assert!(err.contains("is not a change id"), "{err}");
    }
}

/// rollcall's exit 1 is a verdict only with one: a gate that fails (here a stand-in binary whose `gate`
/// says the ledger is damaged and exits 1, as rollcall does) is an error (3), not a block, and leaves no
/// verdict file.
#[test]
fn an_exit_1_without_a_verdict_is_an_error_not_a_block() {
    if !git_available() {
        return;
    }
    let w = World::new();
    let req = w.request();
    w.publish();
    let ci = w.ci("runner-6");
    let stand_in = w.shared.path().join("rollcall-failing-gate");
    std::fs::write(
        &stand_in,
        format!(
            "#!/bin/sh\nfor a in \"$@\"; do\n  if [ \"$a\" = gate ]; then echo 'error: ledger is damaged: x' >&2; exit 1; fi\ndone\nexec '{}' \"$@\"\n",
            env!("CARGO_BIN_EXE_rollcall")
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&stand_in, std::fs::Permissions::from_mode(0o755)).unwrap();
    let vars = with(&w.vars(&ci, &req), "ROLLCALL_PUBLISH", Some("no"));
    let vars = with(&vars, "ROLLCALL_BIN", Some(stand_in.to_str().unwrap()));
    let err = failed(&run_script(&ci.dir, &vars), 3);
    assert!(err.contains("gave no verdict") && err.contains("ledger is damaged"), "{err}");
    assert!(!ci.verdict.exists());

    // Recording: rollcall's exit 1 without a refusal (the disk failing) is not "NOT RECORDED" but an error.
    let stand_in = w.shared.path().join("rollcall-failing-execute");
    std::fs::write(
        &stand_in,
        format!(
            "#!/bin/sh\nfor a in \"$@\"; do\n  if [ \"$a\" = execute ]; then echo \"error: the ledger's disk failed: EIO\" >&2; exit 1; fi\ndone\nexec '{}' \"$@\"\n",
            env!("CARGO_BIN_EXE_rollcall")
        ),
    )
    .unwrap();
    std::fs::set_permissions(&stand_in, std::fs::Permissions::from_mode(0o755)).unwrap();
    let hook = w.ci("runner-7");
    let vars = with(&w.vars(&hook, &req), "ROLLCALL_RECORD", Some("succeeded"));
    let vars = with(&vars, "ROLLCALL_BIN", Some(stand_in.to_str().unwrap()));
    let err = failed(&run_script(&hook.dir, &vars), 3);
    assert!(err.contains("cannot record the run") && err.contains("disk failed"), "{err}");
}

/// A token written into the exchange's URL does not reach the job's log: the script's errors name the
/// exchange, and git's errors repeat its URL, with the credentials replaced by `***`.
#[test]
fn a_token_in_the_exchange_url_is_redacted_from_what_the_script_prints() {
    if !git_available() {
        return;
    }
    let w = World::new();
    let req = w.approved();
    let ci = w.ci("runner-token");
    // Nothing listens on port 1: the clone fails at once.
    let url = "https://ci-user:s3cretTOKEN@127.0.0.1:1/exchange.git";
    let vars = with(&w.gate_vars(&ci, &req), "ROLLCALL_EXCHANGE", Some(url));
    let out = run_script(&ci.dir, &vars);
    assert_eq!(out.status.code(), Some(3), "{}{}", stdout(&out), stderr(&out));
    let (o, e) = (stdout(&out), stderr(&out));
    assert!(e.contains("cannot clone the exchange https://***@127.0.0.1:1/exchange.git"), "{e}");
    assert!(!o.contains("s3cretTOKEN") && !e.contains("s3cretTOKEN"), "stdout:\n{o}\nstderr:\n{e}");
}
