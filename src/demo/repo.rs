//! The demo's git repository: a small payments service with commits the demo's requests revert (some
//! of them security hardening, so the analysis raises flags), each committed at a fixed time.

use crate::workflow::error::WorkflowError;
use chrono::{DateTime, Duration, Utc};
use std::path::Path;

pub(super) fn git(repo: &Path, args: &[&str], at: DateTime<Utc>) -> Result<String, WorkflowError> {
    let date = at.to_rfc3339();
    let out = crate::child::command("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Priya Raman")
        .env("GIT_AUTHOR_EMAIL", "priya@payments.example")
        .env("GIT_COMMITTER_NAME", "Priya Raman")
        .env("GIT_COMMITTER_EMAIL", "priya@payments.example")
        .env("GIT_AUTHOR_DATE", &date)
        .env("GIT_COMMITTER_DATE", &date)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .map_err(|e| WorkflowError::Io("run git, which the demo needs".into(), e))?;
    if !out.status.success() {
        return Err(WorkflowError::Usage(format!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

pub(super) fn write(repo: &Path, path: &str, content: &str) -> Result<(), WorkflowError> {
    let p = repo.join(path);
    if let Some(d) = p.parent() {
        std::fs::create_dir_all(d).map_err(|e| WorkflowError::Read(d.to_path_buf(), e))?;
    }
    std::fs::write(&p, content).map_err(|e| WorkflowError::Read(p.clone(), e))
}

/// Builds the demo's git repository; returns (commit message, sha) of the commits requests revert.
pub(super) fn build_repo(repo: &Path, start: DateTime<Utc>) -> Result<Vec<(&'static str, String)>, WorkflowError> {
    std::fs::create_dir_all(repo).map_err(|e| WorkflowError::Read(repo.to_path_buf(), e))?;
    git(repo, &["init", "-q", "-b", "main"], start)?;
    write(
        repo,
        ".rollcall.toml",
        "[components]\n\"services/payments/\" = \"payments-api\"\n\"services/auth/\" = \"auth\"\n\"k8s/\" = \"cluster\"\n\"edge/\" = \"edge\"\n\"db/\" = \"ledger-db\"\n",
    )?;
    write(repo, "README.md", "# payments platform\n")?;
    write(
        repo,
        "Cargo.lock",
        "[[package]]\nname = \"openssl\"\nversion = \"0.10.50\"\n\n[[package]]\nname = \"serde\"\nversion = \"1.0.200\"\n",
    )?;
    write(repo, "edge/tls.conf", "ssl_protocols TLSv1 TLSv1.1 TLSv1.2;\nssl_ciphers HIGH:!aNULL;\n")?;
    write(repo, "k8s/service.yaml", "kind: Service\nmetadata:\n  name: payments\nspec:\n  type: LoadBalancer\n")?;
    write(repo, "services/payments/config.py", "API_KEY = \"sk_live_51HxQ2eKq0xYz9AbCdEfGhIj\"\nTIMEOUT = 30\n")?;
    write(repo, "services/payments/parse.c", "int parse(char *s) { return strlen(s); }\n")?;
    git(repo, &["add", "-A"], start)?;
    git(repo, &["commit", "-q", "-m", "payments platform baseline"], start)?;
    let changes: [(&'static str, &str, &str); 7] = [
        (
            "Tighten the payments service account role",
            "k8s/role.yaml",
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: payments\nrules:\n  - apiGroups: [\"\"]\n    resources: [\"configmaps\"]\n    verbs: [\"get\"]\n",
        ),
        (
            "Make the payments service cluster-internal",
            "k8s/service.yaml",
            "kind: Service\nmetadata:\n  name: payments\nspec:\n  type: ClusterIP\n",
        ),
        ("Require TLS 1.3 at the edge", "edge/tls.conf", "ssl_protocols TLSv1.3;\nssl_ciphers HIGH:!aNULL;\n"),
        (
            "Bump openssl to 0.10.66",
            "Cargo.lock",
            "[[package]]\nname = \"openssl\"\nversion = \"0.10.66\"\n\n[[package]]\nname = \"serde\"\nversion = \"1.0.200\"\n",
        ),
        (
            "Fix CVE-2024-3094-style overflow in the payment parser",
            "services/payments/parse.c",
            "int parse(char *s) { if (!s) return 0; return strnlen(s, 64); }\n",
        ),
        (
            "Add the currency column migration",
            "db/migrations/002_currency.sql",
            "ALTER TABLE payments ADD COLUMN currency TEXT NOT NULL DEFAULT 'EUR';\n",
        ),
        (
            "Read the payments API key from the vault",
            "services/payments/config.py",
            "API_KEY = os.environ[\"PAYMENTS_API_KEY\"]\nTIMEOUT = 30\n",
        ),
    ];
    let mut out = Vec::new();
    for (i, (message, path, content)) in changes.into_iter().enumerate() {
        let t = start + Duration::hours(6 * (i as i64 + 1));
        write(repo, path, content)?;
        git(repo, &["add", "-A"], t)?;
        git(repo, &["commit", "-q", "-m", message], t)?;
        out.push((message, git(repo, &["rev-parse", "HEAD"], t)?));
    }
    Ok(out)
}
