//! Security analysis on real git repositories: each history below contains one kind of change; reverting
//! it must raise exactly the right flags at the right places, and unrelated reverts none.

mod common;
use common::{Env, file, team};
use std::path::{Path, PathBuf};
use std::process::Command;

fn git(repo: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Ada Lovelace")
        .env("GIT_AUTHOR_EMAIL", "ada@example.com")
        .env("GIT_COMMITTER_NAME", "Ada Lovelace")
        .env("GIT_COMMITTER_EMAIL", "ada@example.com")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", repo)
        .output()
        .expect("git");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A repository with a baseline commit.
fn repo(env: &Env) -> PathBuf {
    let dir = env.home().join("repo");
    std::fs::create_dir_all(&dir).unwrap();
    git(&dir, &["init", "-q", "-b", "main"]);
    write(&dir, "README.md", "# payments\n");
    write(&dir, ".rollcall.toml", "[components]\n\"services/payments/\" = \"payments-api\"\n\"k8s/\" = \"cluster\"\n");
    commit(&dir, "initial");
    dir
}

fn write(dir: &Path, path: &str, content: &str) {
    let p = dir.join(path);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, content).unwrap();
}

fn commit(dir: &Path, message: &str) -> String {
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "--allow-empty", "-m", message]);
    git(dir, &["rev-parse", "HEAD"])
}

/// A team whose policy asks for no evidence, so only change-set flags appear.
fn setup() -> Env {
    let env = team();
    let p = file(
        &env,
        "noevidence.toml",
        "version = 1\n[evidence.tiers]\nlow = []\nmedium = []\nhigh = []\ncritical = []\n",
    );
    env.ok(&["policy", "adopt", &p, "--as", "alice"]);
    env
}

fn request(env: &Env, repo: &Path, spec: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "request",
        "new",
        "--as",
        "bob",
        "--from-git",
        repo.to_str().unwrap(),
        "--revert",
        spec,
        "--category",
        "critical-bug",
        "--rationale",
        "it broke",
        "--impact",
        "none",
        "--env",
        "staging",
        "--risk",
        "low",
    ];
    args.extend_from_slice(extra);
    let r = env.json(&args);
    env.json(&["show", r["request"].as_str().unwrap()])
}

fn flags(show: &serde_json::Value) -> Vec<(String, String)> {
    show["assessment"]["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["id"].as_str().unwrap().to_string(), f["location"].as_str().unwrap().to_string()))
        .collect()
}

/// A commit message, the change it makes, the file content before it, and the flags its revert raises.
type Case = (&'static str, Box<dyn Fn(&Path)>, &'static str, Vec<(&'static str, &'static str)>);

#[test]
fn each_kind_of_change_raises_its_flag() {
    let env = setup();
    let dir = repo(&env);
    let cases: Vec<Case> = vec![
        (
            "tighten the payments role",
            Box::new(|d: &Path| {
                write(
                    d,
                    "k8s/role.yaml",
                    "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: payments\nrules:\n  - apiGroups: [\"\"]\n    resources: [\"configmaps\"]\n    verbs: [\"get\"]\n",
                )
            }),
            "",
            vec![("AUTHZ_CONFIG", "k8s/role.yaml:2")],
        ),
        (
            "make the payments service internal",
            Box::new(|d: &Path| {
                write(d, "k8s/service.yaml", "kind: Service\nspec:\n  type: ClusterIP\n");
            }),
            "kind: Service\nspec:\n  type: LoadBalancer\n",
            vec![("EXPOSURE_SURFACE", "k8s/service.yaml:3")],
        ),
        (
            "require TLS 1.3 on the edge",
            Box::new(|d: &Path| write(d, "nginx/tls.conf", "ssl_protocols TLSv1.3;\nssl_ciphers HIGH:!aNULL;\n")),
            "ssl_protocols TLSv1 TLSv1.1 TLSv1.2;\nssl_ciphers HIGH:!aNULL;\n",
            vec![("CRYPTO_MATERIAL", "nginx/tls.conf:1")],
        ),
        (
            "bump openssl",
            Box::new(|d: &Path| {
                write(
                    d,
                    "Cargo.lock",
                    "[[package]]\nname = \"openssl\"\nversion = \"0.10.66\"\n\n[[package]]\nname = \"serde\"\nversion = \"1.0.200\"\n",
                )
            }),
            "[[package]]\nname = \"openssl\"\nversion = \"0.10.50\"\n\n[[package]]\nname = \"serde\"\nversion = \"1.0.200\"\n",
            vec![("DEPENDENCY_DOWNGRADE", "Cargo.lock:3")],
        ),
        (
            "add the ledger column migration",
            Box::new(|d: &Path| {
                write(d, "migrations/002_add_currency.sql", "ALTER TABLE payments ADD COLUMN currency TEXT;\n")
            }),
            "",
            vec![("MIGRATION_OR_DESTRUCTIVE", "migrations/002_add_currency.sql:1")],
        ),
        (
            "read the API key from the vault",
            Box::new(|d: &Path| {
                write(d, "services/payments/config.py", "API_KEY = os.environ[\"PAYMENTS_API_KEY\"]\n")
            }),
            "API_KEY = \"sk_live_51HxQ2eKq0xYz9AbCdEfGhIj\"\n",
            vec![("SECRET_REINTRODUCED", "services/payments/config.py:1")],
        ),
    ];
    for (message, change, before, expected) in cases {
        // Start from the "before" state, then commit the change being reverted.
        if !before.is_empty() {
            let path = match message {
                "make the payments service internal" => "k8s/service.yaml",
                "require TLS 1.3 on the edge" => "nginx/tls.conf",
                "bump openssl" => "Cargo.lock",
                _ => "services/payments/config.py",
            };
            write(&dir, path, before);
            commit(&dir, &format!("before: {message}"));
        }
        change(&dir);
        let sha = commit(&dir, message);
        let show = request(&env, &dir, &sha, &[]);
        let got = flags(&show);
        let want: Vec<(String, String)> = expected.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        assert_eq!(got, want, "{message}: {}", show["assessment"]);
        assert_eq!(show["record"]["revert"]["argv"], serde_json::json!(["git", "revert", "--no-edit", sha]));
        assert_eq!(show["record"]["revert"]["from"], sha.as_str());
        assert!(show["record"]["title"].as_str().unwrap().contains(message));
        assert_eq!(show["record"]["changeset"]["source"], "git");
    }
}

#[test]
fn security_fix_commits_components_ranges_and_unrelated_reverts() {
    let env = setup();
    let dir = repo(&env);
    write(&dir, "services/payments/parse.c", "int parse(char *s) { return strlen(s); }\n");
    let base = commit(&dir, "parser");
    write(&dir, "services/payments/parse.c", "int parse(char *s) { if (!s) return 0; return strnlen(s, 64); }\n");
    let fix = commit(&dir, "fix CVE-2024-3094 style overflow in the parser");
    let show = request(&env, &dir, &fix, &[]);
    assert_eq!(flags(&show), vec![("REVERTS_SECURITY_FIX".to_string(), format!("commit {}", &fix[..12]))]);
    assert!(show["assessment"]["flags"][0]["explanation"].as_str().unwrap().contains("CVE-2024-3094"));
    assert_eq!(show["record"]["components"], serde_json::json!(["payments-api"]));

    write(&dir, "docs/guide.md", "how to deploy\n");
    commit(&dir, "docs");
    write(&dir, "docs/guide.md", "how to deploy, revised\n");
    let tip = commit(&dir, "docs again");
    let show = request(&env, &dir, &format!("{fix}..{tip}"), &[]);
    assert!(flags(&show).is_empty(), "{}", show["assessment"]);
    assert_eq!(show["record"]["changeset"]["commits"].as_array().unwrap().len(), 2);
    assert_eq!(show["record"]["components"], serde_json::json!(["docs"]));
    assert_eq!(show["record"]["revert"]["to"], fix.as_str());
    let _ = base;
    // The record's risk: staging, no flags, one component -> low.
    assert_eq!(show["assessment"]["risk"]["tier"], "low");
}

#[test]
fn advisories_known_bad_artifacts_and_emergencies() {
    let env = setup();
    let dir = repo(&env);
    write(&dir, "Cargo.lock", "[[package]]\nname = \"openssl\"\nversion = \"0.10.50\"\n");
    commit(&dir, "lock");
    write(&dir, "Cargo.lock", "[[package]]\nname = \"openssl\"\nversion = \"0.10.66\"\n");
    let bump = commit(&dir, "bump openssl");
    let advisories = format!("{}/tests/fixtures", env!("CARGO_MANIFEST_DIR"));
    let show = request(&env, &dir, &bump, &["--advisories", &advisories]);
    let f = &show["assessment"]["flags"][0];
    assert_eq!(f["id"], "DEPENDENCY_DOWNGRADE");
    assert_eq!(f["severity"], "critical");
    assert!(
        f["explanation"].as_str().unwrap().contains("RUSTSEC-2023-0044")
            && f["explanation"].as_str().unwrap().contains("RUSTSEC-2023-0072"),
        "{f}"
    );
    assert_eq!(show["record"]["advisories"].as_array().unwrap().len(), 2);

    // A digest marked bad, brought back by a later request.
    env.ok(&["mark-bad", "sha256:badbadbad", "--reason", "ships CVE-2024-3094", "--as", "dave"]);
    let r = env.json(&[
        "request",
        "new",
        "--as",
        "bob",
        "--title",
        "Roll image back",
        "--change",
        "deploy-9",
        "--category",
        "other",
        "--rationale",
        "r",
        "--impact",
        "i",
        "--component",
        "api",
        "--env",
        "staging",
        "--revert-cmd",
        "kubectl set image deploy/api api=registry/api@sha256:badbadbad",
        "--from",
        "sha256:good",
        "--to",
        "sha256:badbadbad",
        "--risk",
        "low",
    ]);
    let id = r["request"].as_str().unwrap().to_string();
    let show = env.json(&["show", &id]);
    assert_eq!(flags(&show), vec![("KNOWN_BAD_ARTIFACT".to_string(), "revert.to".to_string())]);
    assert!(show["assessment"]["flags"][0]["explanation"].as_str().unwrap().contains("ships CVE-2024-3094"));
    // The flag is signed into the approval, and the flags' evidence requirement (scan) gates it.
    let p = file(
        &env,
        "flagged.toml",
        "version = 1\n[evidence.tiers]\nlow = []\nmedium = []\nhigh = []\ncritical = []\n[evidence.flags]\nKNOWN_BAD_ARTIFACT = [\"scan\"]\n",
    );
    env.ok(&["policy", "adopt", &p, "--as", "alice"]);
    assert_eq!(env.json(&["show", &id])["evaluation"]["evidence_missing"], serde_json::json!(["scan"]));
    let err = env.fails(&["approve", &id, "--comment", "understood the risk", "--as", "carol"], 1);
    assert!(err.contains("required scan evidence"), "{err}");
    let scan = format!("{}/tests/fixtures/trivy.sarif", env!("CARGO_MANIFEST_DIR"));
    env.ok(&["evidence", "add", &id, &scan, "--kind", "scan", "--as", "bob"]);
    env.ok(&["approve", &id, "--comment", "understood the risk", "--as", "carol"]);
    let show = env.json(&["show", &id]);
    assert_eq!(show["decisions"][0]["body"]["flags"], serde_json::json!(["KNOWN_BAD_ARTIFACT"]));
    assert_eq!(show["evaluation"]["evidence_missing"], serde_json::json!([]));
    // An emergency is a gate bypass.
    env.ok(&["emergency", &id, "--reason", "outage", "--as", "erin"]);
    let ids: Vec<String> = flags(&env.json(&["show", &id])).into_iter().map(|f| f.0).collect();
    assert!(ids.contains(&"GATE_BYPASS".to_string()), "{ids:?}");
    // Rolled away from: once executed, the revert's `from` is remembered.
    env.ok(&["execute", &id, "--outcome", "succeeded", "--as", "erin"]);
    let r = env.json(&[
        "request",
        "new",
        "--as",
        "bob",
        "--title",
        "Back to good",
        "--change",
        "deploy-10",
        "--category",
        "other",
        "--rationale",
        "r",
        "--impact",
        "i",
        "--component",
        "api",
        "--env",
        "staging",
        "--revert-cmd",
        "kubectl rollout undo deploy/api",
        "--from",
        "sha256:other",
        "--to",
        "sha256:good",
        "--risk",
        "low",
    ]);
    let show = env.json(&["show", r["request"].as_str().unwrap()]);
    assert!(
        show["assessment"]["flags"][0]["explanation"].as_str().unwrap().contains("rolled away from"),
        "{}",
        show["assessment"]
    );
    // A walk over every request (the index rebuild, `verify`) reads the memory of bad artifacts once
    // instead of asking the database per request: it flags exactly what `show` flags.
    env.ok(&["rebuild"]);
    let list = env.json(&["list"]);
    let rows = list["requests"].as_array().unwrap();
    assert!(rows.len() >= 3, "{list}");
    for row in rows {
        let id = row["id"].as_str().unwrap();
        let shown = env.json(&["show", id])["assessment"]["flags"].as_array().unwrap().len();
        assert_eq!(row["flags"].as_u64().unwrap() as usize, shown, "request {id}: {row}");
    }
    assert!(rows.iter().filter(|r| r["flags"].as_u64().unwrap() > 0).count() >= 2, "{list}");
}

#[test]
fn diff_files_and_git_errors() {
    let env = setup();
    let d = file(
        &env,
        "revert.diff",
        "--- a/k8s/ingress.yaml\n+++ b/k8s/ingress.yaml\n@@ -1,2 +1,3 @@\n apiVersion: networking.k8s.io/v1\n-# removed\n+kind: Ingress\n+# public again\n",
    );
    let r = env.json(&[
        "request",
        "new",
        "--as",
        "bob",
        "--diff",
        &d,
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
        "edge",
        "--env",
        "staging",
        "--revert-cmd",
        "kubectl apply -f k8s/",
        "--from",
        "a",
        "--to",
        "b",
        "--risk",
        "low",
    ]);
    let show = env.json(&["show", r["request"].as_str().unwrap()]);
    assert_eq!(flags(&show), vec![("EXPOSURE_SURFACE".to_string(), "k8s/ingress.yaml:2".to_string())]);
    assert_eq!(common::verify_json(&env).0, 0);
    // The change set's bytes are checked by verify like any evidence.
    let c = rusqlite::Connection::open(env.ledger()).unwrap();
    c.execute("UPDATE blobs SET bytes = CAST('{}' AS BLOB)", []).unwrap();
    drop(c);
    let (code, v) = common::verify_json(&env);
    assert_eq!(code, 1);
    assert!(v["integrity"]["failure"]["problem"].as_str().unwrap().contains("change set"), "{v}");
    let c = rusqlite::Connection::open(env.ledger()).unwrap();
    c.execute("DELETE FROM blobs", []).unwrap();
    drop(c);
    let before = env.fingerprint();
    let base = [
        "request",
        "new",
        "--as",
        "bob",
        "--category",
        "other",
        "--rationale",
        "r",
        "--impact",
        "i",
        "--env",
        "staging",
        "--risk",
        "low",
    ];
    let with = |extra: &[&str]| -> Vec<String> { base.iter().chain(extra).map(|s| s.to_string()).collect() };
    let run = |args: Vec<String>| env.fails(&args.iter().map(String::as_str).collect::<Vec<_>>(), 2);
    assert!(run(with(&["--from-git", "/nonexistent/repo", "--revert", "HEAD"])).contains("does not exist"));
    let plain = env.home().join("plain");
    std::fs::create_dir_all(&plain).unwrap();
    assert!(run(with(&["--from-git", plain.to_str().unwrap(), "--revert", "HEAD"])).contains("not a git repository"));
    let dir = repo(&env);
    assert!(
        run(with(&["--from-git", dir.to_str().unwrap(), "--revert", "deadbeefdeadbeef"])).contains("is not a commit")
    );
    assert!(
        run(with(&["--from-git", dir.to_str().unwrap(), "--revert=--upload-pack=evil"])).contains("not a revision")
    );
    // A range whose start is not an ancestor of its end: `git revert A..B` would undo every commit since
    // their merge base, while `git diff B A` (the change set) showed two trees that match: refused.
    let main = git(&dir, &["rev-parse", "HEAD"]);
    write(&dir, "services/payments/auth.py", "require_mfa = True\n");
    let tip = commit(&dir, "require MFA");
    git(&dir, &["checkout", "-q", "-b", "side", &main]);
    write(&dir, "services/payments/auth.py", "require_mfa = True\n");
    let side = commit(&dir, "same tree on a side branch");
    git(&dir, &["checkout", "-q", "main"]);
    let refused = run(with(&["--from-git", dir.to_str().unwrap(), "--revert", &format!("{side}..{tip}")]));
    assert!(refused.contains("is not an ancestor of"), "{refused}");
    let bad = file(&env, "bad.diff", "diff --git a/x b/x\n@@ what @@\n");
    assert!(
        run(with(&[
            "--diff",
            &bad,
            "--title",
            "t",
            "--change",
            "c",
            "--component",
            "x",
            "--revert-cmd",
            "x",
            "--from",
            "a",
            "--to",
            "b"
        ]))
        .contains("hunk header")
    );
    assert_eq!(env.fingerprint(), before);
}

/// The repository is outside input: a `.rollcall.toml` committed as a link to `/dev/zero` is not read
/// (it was read without end); components then come from top-level directories.
#[test]
fn a_component_map_linked_to_a_device_is_ignored() {
    let env = setup();
    let dir = repo(&env);
    let _ = std::fs::remove_file(dir.join(".rollcall.toml"));
    std::os::unix::fs::symlink("/dev/zero", dir.join(".rollcall.toml")).unwrap();
    write(&dir, "api/handler.go", "package api\n");
    commit(&dir, "add the handler");
    let show = request(&env, &dir, "HEAD", &[]);
    // The commit also replaced the map itself (at the top level): "(root)".
    assert_eq!(show["record"]["components"], serde_json::json!(["(root)", "api"]), "{show}");
}

/// A repository cannot hide a change from the flags by telling git a text file is binary: its
/// `.gitattributes` (`Cargo.lock -diff`, `*.yaml binary`) is not read for the change set, so a lock file's
/// downgrade and a role's permissions are seen. A file that is binary by its bytes raises
/// `UNINSPECTED_CONTENT`: low for an image, high for a lock file or configuration.
#[test]
fn a_file_git_is_told_is_binary_is_still_inspected_and_a_binary_one_is_flagged() {
    let env = setup();
    let dir = repo(&env);
    write(&dir, ".gitattributes", "Cargo.lock -diff\n*.yaml binary\n");
    write(&dir, "Cargo.lock", "[[package]]\nname = \"openssl\"\nversion = \"0.10.50\"\n");
    write(&dir, "k8s/role.yaml", "kind: Role\nrules:\n  - verbs: [\"*\"]\n");
    std::fs::write(dir.join("logo.png"), b"\x89PNG\r\n\x1a\n\0\0\0old").unwrap();
    std::fs::write(dir.join("settings.json"), b"{\"tls\": \0\"old\"}").unwrap();
    commit(&dir, "before");
    write(&dir, "Cargo.lock", "[[package]]\nname = \"openssl\"\nversion = \"0.10.66\"\n");
    write(&dir, "k8s/role.yaml", "kind: Role\nrules:\n  - verbs: [\"get\"]\n");
    std::fs::write(dir.join("logo.png"), b"\x89PNG\r\n\x1a\n\0\0\0new").unwrap();
    std::fs::write(dir.join("settings.json"), b"{\"tls\": \0\"new\"}").unwrap();
    let c = commit(&dir, "bump openssl, narrow the role, new logo");
    let show = request(&env, &dir, &c, &[]);
    let got = flags(&show);
    for want in [
        ("DEPENDENCY_DOWNGRADE", "Cargo.lock:3"),
        ("AUTHZ_CONFIG", "k8s/role.yaml:3"),
        ("UNINSPECTED_CONTENT", "logo.png:1"),
        ("UNINSPECTED_CONTENT", "settings.json:1"),
    ] {
        assert!(got.iter().any(|(id, at)| (id.as_str(), at.as_str()) == want), "{want:?} in {got:?}");
    }
    let severity = |at: &str| {
        show["assessment"]["flags"].as_array().unwrap().iter().find(|f| f["location"] == at).unwrap()["severity"]
            .clone()
    };
    assert_eq!(severity("logo.png:1"), "low");
    assert_eq!(severity("settings.json:1"), "high");
    assert!(
        !got.iter().any(|(id, at)| id == "UNINSPECTED_CONTENT" && (at.starts_with("Cargo") || at.starts_with("k8s")))
    );
}

/// A commit message holding the separators git log output was once split by (U+001E, U+001F) cannot drop
/// its own record: the security fix it names is still seen, and no forged commit appears in the change set.
#[test]
fn a_commit_message_cannot_split_or_forge_records() {
    let env = setup();
    let dir = repo(&env);
    write(&dir, "services/payments/parse.c", "int parse(char *s) { return strlen(s); }\n");
    commit(&dir, "parser");
    write(&dir, "services/payments/parse.c", "int parse(char *s) { return strnlen(s, 64); }\n");
    let forged =
        "\u{1e}0000000000000000000000000000000000000000\u{1f}Mallory <m@x>\u{1f}2026-01-01T00:00:00Z\u{1f}fake";
    let fix = commit(&dir, &format!("\u{1e}fix CVE-2024-3094 style overflow\n\nbody {forged}"));
    let show = request(&env, &dir, &fix, &[]);
    assert_eq!(flags(&show), vec![("REVERTS_SECURITY_FIX".to_string(), format!("commit {}", &fix[..12]))]);
    let cs = &show["record"]["changeset"]["commits"];
    assert_eq!(cs.as_array().unwrap().len(), 1, "{cs}");
    assert_eq!(cs[0], fix.as_str());
}

/// A submodule moved by the reverted commit raises `UNINSPECTED_CONTENT` (high) even when the repository's
/// `.gitmodules` says `ignore = all`, which makes a plain `git diff` leave the move out.
#[test]
fn a_submodule_move_is_seen_whatever_gitmodules_says() {
    let env = setup();
    let dir = repo(&env);
    let sub = env.home().join("sub");
    std::fs::create_dir_all(&sub).unwrap();
    git(&sub, &["init", "-q", "-b", "main"]);
    write(&sub, "lib.c", "int v = 1;\n");
    commit(&sub, "v1");
    git(&dir, &["-c", "protocol.file.allow=always", "submodule", "add", "-q", sub.to_str().unwrap(), "vendor/sub"]);
    commit(&dir, "vendor sub");
    write(&sub, "lib.c", "int v = 2;\n");
    let v2 = commit(&sub, "v2");
    git(&dir.join("vendor/sub"), &["-c", "protocol.file.allow=always", "fetch", "-q", "origin"]);
    git(&dir.join("vendor/sub"), &["checkout", "-q", &v2]);
    let gitmodules = std::fs::read_to_string(dir.join(".gitmodules")).unwrap();
    write(&dir, ".gitmodules", &format!("{gitmodules}\tignore = all\n"));
    let bump = commit(&dir, "bump sub, quietly");
    let show = request(&env, &dir, &bump, &[]);
    let got = flags(&show);
    assert!(got.iter().any(|(id, at)| id == "UNINSPECTED_CONTENT" && at == "vendor/sub:1"), "{got:?}");
    let f = show["assessment"]["flags"].as_array().unwrap().iter().find(|f| f["location"] == "vendor/sub:1").unwrap();
    assert_eq!(f["severity"], "high");
}
