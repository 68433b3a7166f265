//! Entry points for fuzzing: one function per parser of outside input, each taking arbitrary bytes and
//! returning nothing. The coverage-guided targets under `fuzz/` call them, and `tests/fuzz_corpus.rs` replays
//! every committed corpus file through them on the stable toolchain, so a crash once found stays fixed.
//! None may panic, loop or allocate without bound on any input.

use crate::ledger::dsse::Domain;
use crate::ledger::{Hash, note, statement};

/// A fuzz target: arbitrary bytes in, nothing out.
pub type Target = fn(&[u8]);

/// Every target, by the name of its corpus directory.
pub const TARGETS: [(&str, Target); 19] = [
    ("statement", statement),
    ("bundle", bundle),
    ("signed_note", signed_note),
    ("cosignature", cosignature),
    ("tlog_proof", tlog_proof),
    ("key_file", key_file),
    ("policy", policy),
    ("evidence", evidence),
    ("diff", diff),
    ("record", record),
    ("git_log", git_log),
    ("lockfile", lockfile),
    ("helm_history", helm_history),
    ("kubernetes_replicasets", kubernetes_replicasets),
    ("argocd_app", argocd_app),
    ("github_deployments", github_deployments),
    ("gitlab_deployments", gitlab_deployments),
    ("git_reverts", git_reverts),
    ("notify_config", notify_config),
];

/// Statement bytes: the head parser and the full check (signature under a fixed ledger's domain).
pub fn statement(data: &[u8]) {
    let _ = statement::parse_head(data);
    let _ = statement::check_statement(data, &[0u8; 64], &Domain::of(&Hash([1; 32])));
    if let Some(s) = crate::ledger::SignedStatement::from_parts(data.to_vec(), &[0u8; 64]) {
        // What a listing marks unreadable is exactly what the projection cannot read.
        assert_eq!(s.readable(), s.statement().is_ok(), "readable() and statement() disagree");
    }
}

/// A bundle file (plain or zstd), read line by line as an import reads it.
pub fn bundle(data: &[u8]) {
    let Ok(mut r) = crate::sync::bundle::Reader::new(std::io::Cursor::new(data.to_vec())) else { return };
    for _ in 0..10_000 {
        match r.next_line() {
            Ok(Some(line)) => {
                let _ = crate::sync::bundle::Record::parse(line);
            }
            _ => break,
        }
    }
}

/// A C2SP signed note and the checkpoint body inside it.
pub fn signed_note(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(n) = note::SignedNote::parse(text) {
        let _ = note::Checkpoint::parse_body(&n.text);
    }
    let _ = note::Checkpoint::parse_body(text);
}

/// A bundle's cosignature fields.
pub fn cosignature(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::ledger::cosign::Cosignature::parse_fields(text);
    }
}

/// A `tlog-proof` or consistency proof file, with the input as the entry too.
pub fn tlog_proof(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::sync::proof::verify_proof(text, Some(data), &[]);
    }
}

/// A key file (parsed only: opening runs the KDF).
pub fn key_file(data: &[u8]) {
    let _ = serde_json::from_slice::<crate::identity::keyfile::KeyFile>(data);
}

/// A policy file.
pub fn policy(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::policy::Policy::parse(text);
    }
}

/// `notify.toml`, as the escalation reads it.
pub fn notify_config(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::workflow::notify::config::parse(std::path::Path::new("notify.toml"), text);
    }
}

/// An evidence file, recognized as `evidence.xml`, `.sarif` and `.json` in turn (JUnit, SARIF, OSV, …).
pub fn evidence(data: &[u8]) {
    for name in ["evidence.xml", "evidence.sarif", "evidence.json"] {
        let _ = crate::evidence::recognize::recognize(name, data);
    }
}

/// A unified diff, and the lock-file downgrades found in it.
pub fn diff(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(files) = crate::analysis::diff::parse(text)
    {
        let _ = crate::analysis::lockfiles::downgrades(&files);
    }
}

/// A `request new --from-file` record.
pub fn record(data: &[u8]) {
    if let Ok(r) = crate::audit::record::RequestBody::from_json(data) {
        let _ = r.validate();
    }
}

/// `git log` output as `--from-git` asks for it (NUL-separated fields; before the first U+0001), and a
/// `.rollcall.toml` component map (after it), with the map applied to the commit subjects as paths.
pub fn git_log(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (log, toml) = text.split_once('\u{1}').unwrap_or((text, ""));
    let commits = crate::analysis::git::parse_log(log).unwrap_or_default();
    let map = crate::analysis::git::parse_component_map(toml);
    let _ = crate::analysis::git::components_of(commits.iter().map(|c| c.subject.as_str()), &map);
}

/// Lock-file lines: the first byte picks the file (Cargo.lock, package-lock.json, go.sum,
/// requirements.txt, poetry.lock, Gemfile.lock), each further line is a hunk line (`+`, `-` or context).
pub fn lockfile(data: &[u8]) {
    use crate::analysis::changeset::{FileChange, Hunk};
    const FILES: [&str; 6] =
        ["Cargo.lock", "package-lock.json", "go.sum", "requirements.txt", "poetry.lock", "Gemfile.lock"];
    let Some((&pick, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let path = FILES[usize::from(pick) % FILES.len()].to_string();
    let hunk = Hunk { old_start: 1, new_start: 1, lines: text.lines().map(str::to_string).collect() };
    let file = FileChange { path, old_path: None, status: "modified".into(), binary: false, hunks: vec![hunk] };
    let _ = crate::analysis::lockfiles::downgrades(&[file]);
}

/// `helm history -o json` output, as `rollcall ingest helm` reads it.
pub fn helm_history(data: &[u8]) {
    let _ = crate::ingest::helm::parse(data, "production", "api", "0");
}

/// `kubectl get replicasets -o json` (or controllerrevisions), as `rollcall ingest kubernetes` reads it,
/// with the environment and component from the input and given.
pub fn kubernetes_replicasets(data: &[u8]) {
    let _ = crate::ingest::kubernetes::parse(data, None, None, "0");
    let _ = crate::ingest::kubernetes::parse(data, Some("production"), Some("api"), "0");
}

/// `argocd app get APP -o json`, as `rollcall ingest argocd` reads it.
pub fn argocd_app(data: &[u8]) {
    let _ = crate::ingest::argocd::parse(data, None, None, "0");
    let _ = crate::ingest::argocd::parse(data, Some("production"), Some("api"), "0");
}

/// GitHub's deployments JSON, as `rollcall ingest github` reads it.
pub fn github_deployments(data: &[u8]) {
    let _ = crate::ingest::github::parse(data, None, None, "0");
    let _ = crate::ingest::github::parse(data, Some("production"), Some("api"), "0");
}

/// GitLab's deployments JSON, as `rollcall ingest gitlab` reads it.
pub fn gitlab_deployments(data: &[u8]) {
    let _ = crate::ingest::gitlab::parse(data, None, "api", "0");
    let _ = crate::ingest::gitlab::parse(data, Some("production"), "api", "0");
}

/// `git log` output as `rollcall ingest git` asks for it, and each record's message as a revert message.
pub fn git_reverts(data: &[u8]) {
    let _ = crate::ingest::git::parse_log(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::ingest::git::reverted(text);
    }
}
