//! `sync --git DIR`: a git working copy as the exchange between machines. Each origin owns one file,
//! `<origin>.rollcall`, so merges never conflict: pull, import every other bundle, write this ledger's,
//! commit, push, and on a rejected push pull again and retry. `--pull-only` stops after the imports: the
//! working copy and the remote are left as pulled (an auditor's copy, or a gate job given read access to
//! the exchange only).

use crate::workflow::context::Context;
use crate::workflow::error::WorkflowError;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Pushes retried after a non-fast-forward rejection.
const PUSH_ATTEMPTS: usize = 6;

/// What one peer file did.
#[derive(Debug)]
pub(crate) struct PeerOutcome {
    pub file: PathBuf,
    /// Added entries, or why the file was refused.
    pub result: Result<super::sync::Imported, String>,
    /// The file was imported before unchanged and was skipped.
    pub unchanged: bool,
}

/// What `sync --git` did.
#[derive(Debug)]
pub(crate) struct GitSynced {
    pub peers: Vec<PeerOutcome>,
    /// This ledger's bundle as written into the working copy (none with `--pull-only`).
    pub exported: Option<super::sync::Exported>,
    pub committed: bool,
    pub pushed: bool,
    pub push_attempts: usize,
}

impl GitSynced {
    /// Whether any peer file was refused.
    pub(crate) fn refused(&self) -> usize {
        self.peers.iter().filter(|p| p.result.is_err()).count()
    }
}

/// The largest peer bundle read from the exchange.
pub(crate) const MAX_PEER_BUNDLE_BYTES: u64 = 4 << 30;

/// The longest a peer bundle's digest may take to read (a regular file of the largest size takes
/// well under this on a local disk).
const MAX_PEER_READ_TIME: std::time::Duration = std::time::Duration::from_secs(300);

/// The remote every exchange pulls from and pushes to.
const REMOTE: &str = "origin";

/// git with none of rollcall's variables (`ROLLCALL_PASSPHRASE`, `ROLLCALL_HOME`, …) in its
/// environment: whatever a hook, a config or a hostile argument makes it run must not see them.
fn git_command(dir: &Path) -> Command {
    let mut c = crate::child::command("git");
    c.arg("-C").arg(dir).env("GIT_TERMINAL_PROMPT", "0");
    c
}

fn git(dir: &Path, args: &[&str]) -> Result<std::process::Output, WorkflowError> {
    git_command(dir).args(args).output().map_err(|e| WorkflowError::Io("run git".into(), e))
}

/// What a failed git said on stderr, on one line, safe for a terminal, with the credentials of any URL
/// in it redacted (git names the remote as configured; the message reaches CI logs).
fn said(out: &std::process::Output) -> String {
    crate::text::safe(&crate::text::redact_userinfo(String::from_utf8_lossy(&out.stderr).trim()))
}

fn git_ok(dir: &Path, args: &[&str]) -> Result<String, WorkflowError> {
    let out = git(dir, args)?;
    if !out.status.success() {
        return Err(WorkflowError::Usage(format!("git {} failed: {}", args.join(" "), said(&out))));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The file name of an origin's bundle in the exchange.
pub(crate) fn bundle_file_name(origin: &str) -> String {
    let safe: String =
        origin.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect();
    format!("{safe}.rollcall")
}

fn has_remote(dir: &Path) -> Result<bool, WorkflowError> {
    Ok(!git_ok(dir, &["remote"])?.is_empty())
}

/// The checked-out branch, refused unless it is a plain branch name: a name starting with `-` (a
/// valid ref, checked out by a clone of a hostile exchange) would be read by git as an option.
fn branch(dir: &Path) -> Result<String, WorkflowError> {
    let name = git_ok(dir, &["symbolic-ref", "--short", "HEAD"])?;
    check_branch(dir, &name)?;
    Ok(name)
}

fn check_branch(dir: &Path, name: &str) -> Result<(), WorkflowError> {
    let refused = |why: &str| {
        WorkflowError::Refused(format!(
            "the exchange's branch {:?} {why}; refusing to pass it to git (check out a plainly named branch)",
            crate::text::safe(name)
        ))
    };
    if name.is_empty() || name.starts_with('-') {
        return Err(refused("starts with '-' and would be read as an option"));
    }
    if name.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(refused("contains spaces or control characters"));
    }
    let ok = git(dir, &["check-ref-format", "--branch", name])?;
    if !ok.status.success() {
        return Err(refused("is not a valid branch name"));
    }
    Ok(())
}

/// Pulls (rebasing local commits) when the remote branch exists. A remote that cannot be read is an error
/// (before anything is imported), not a remote without the branch.
fn pull(dir: &Path, branch: &str) -> Result<(), WorkflowError> {
    let head = format!("refs/heads/{branch}");
    let exists = git(dir, &["ls-remote", "--exit-code", "--heads", "--end-of-options", REMOTE, &head])?;
    match exists.status.code() {
        Some(0) => {
            git_ok(dir, &["pull", "--rebase", "--quiet", "--end-of-options", REMOTE, &head])?;
        }
        // `--exit-code`: the remote answered and has no such branch; the first push creates it.
        Some(2) => {}
        _ => {
            return Err(WorkflowError::Usage(format!(
                "cannot read the remote {REMOTE:?}: {}; `sync --git DIR --offline` exchanges through the working \
                 copy alone",
                said(&exists)
            )));
        }
    }
    Ok(())
}

/// Imports every peer bundle in `dir` that changed since it was last imported.
fn import_peers(ctx: &Context, dir: &Path, own_file: &str, out: &mut Vec<PeerOutcome>) -> Result<(), WorkflowError> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| WorkflowError::Read(dir.to_path_buf(), e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "rollcall"))
        .filter(|p| p.file_name().and_then(|n| n.to_str()) != Some(own_file))
        .collect();
    files.sort();
    for file in files {
        let digest = match file_digest(&file) {
            Ok(d) => d,
            Err(why) => {
                out.retain(|p| p.file != file);
                out.push(PeerOutcome { file, result: Err(why), unchanged: false });
                continue;
            }
        };
        let ledger = ctx.open()?;
        if seen(&ledger, &digest)? {
            out.retain(|p| p.file != file);
            out.push(PeerOutcome { file, result: Ok(empty_import()), unchanged: true });
            continue;
        }
        drop(ledger);
        let result = super::sync::import(ctx, &file, super::sync::IndexUpkeep::Now);
        if result.is_ok() {
            mark_seen(&ctx.open()?, &digest)?;
        }
        out.retain(|p| p.file != file);
        out.push(PeerOutcome { file, result: result.map_err(|e| e.to_string()), unchanged: false });
    }
    Ok(())
}

fn empty_import() -> super::sync::Imported {
    super::sync::Imported {
        report: Default::default(),
        warnings: Vec::new(),
        index: crate::workflow::reads::index::Upkeep::Current,
    }
}

/// The digest of a peer bundle, read only if it is a regular file of at most
/// [`MAX_PEER_BUNDLE_BYTES`]: a symlink (to `/dev/zero`, to a secret), a FIFO or a device committed to
/// the exchange is refused without being opened, so a round always ends.
fn file_digest(path: &Path) -> Result<crate::ledger::Hash, String> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let meta = std::fs::symlink_metadata(path).map_err(|e| format!("cannot read it: {e}"))?;
    let kind = meta.file_type();
    if !kind.is_file() {
        let what = if kind.is_symlink() {
            "a symbolic link"
        } else if kind.is_dir() {
            "a directory"
        } else {
            "a special file"
        };
        return Err(format!("not a regular file ({what}); only regular bundle files are read from the exchange"));
    }
    if meta.len() > MAX_PEER_BUNDLE_BYTES {
        return Err(format!("{} bytes, more than the {} byte limit for a bundle", meta.len(), MAX_PEER_BUNDLE_BYTES));
    }
    // Swapped for a link or a FIFO since the check: fail instead of following or blocking.
    let f = crate::paths::open_no_follow(path).map_err(|e| format!("cannot open it: {e}"))?;
    let opened = f.metadata().map_err(|e| format!("cannot read it: {e}"))?;
    if !opened.is_file() {
        return Err("not a regular file; only regular bundle files are read from the exchange".into());
    }
    let mut h = Sha256::new();
    let mut f = f.take(MAX_PEER_BUNDLE_BYTES + 1);
    let (mut buf, mut n, started) = (vec![0u8; 1 << 20], 0u64, std::time::Instant::now());
    loop {
        let k = match f.read(&mut buf) {
            Ok(0) => break,
            Ok(k) => k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(format!("cannot read it: {e}")),
        };
        h.update(&buf[..k]);
        n += k as u64;
        if n > MAX_PEER_BUNDLE_BYTES {
            return Err(format!("more than the {MAX_PEER_BUNDLE_BYTES} byte limit for a bundle"));
        }
        if started.elapsed() > MAX_PEER_READ_TIME {
            return Err(format!("reading it took more than {} s", MAX_PEER_READ_TIME.as_secs()));
        }
    }
    Ok(crate::ledger::Hash(h.finalize().into()))
}

/// Bundles already imported whole (a cache: losing it only costs a re-import). Looked up without creating
/// its table, which only a successful import does: a round whose imports are all refused leaves the
/// ledger as it was.
fn seen(ledger: &crate::ledger::Ledger, digest: &crate::ledger::Hash) -> Result<bool, WorkflowError> {
    let c = ledger.cache_conn();
    let table: i64 =
        c.query_row("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'sync_imported'", [], |r| {
            r.get(0)
        })?;
    if table == 0 {
        return Ok(false);
    }
    let n: i64 = c.query_row("SELECT COUNT(*) FROM sync_imported WHERE sha256 = ?1", [digest.0], |r| r.get(0))?;
    Ok(n > 0)
}

fn mark_seen(ledger: &crate::ledger::Ledger, digest: &crate::ledger::Hash) -> Result<(), WorkflowError> {
    let c = ledger.cache_conn();
    c.execute_batch("CREATE TABLE IF NOT EXISTS sync_imported (sha256 BLOB PRIMARY KEY NOT NULL)")?;
    c.execute("INSERT OR IGNORE INTO sync_imported (sha256) VALUES (?1)", [digest.0])?;
    Ok(())
}

/// Runs one sync round through the git working copy `dir`.
pub(crate) fn sync_git(ctx: &Context, dir: &Path, offline: bool, pull_only: bool) -> Result<GitSynced, WorkflowError> {
    if git_ok(dir, &["rev-parse", "--is-inside-work-tree"]).ok().as_deref() != Some("true") {
        return Err(WorkflowError::Usage(format!("{} is not a git working copy", dir.display())));
    }
    let own = ctx.open_read_only()?.own_origin().name.clone();
    let own_file = bundle_file_name(&own);
    let remote = !offline && has_remote(dir)?;
    let branch = branch(dir)?;
    if remote {
        pull(dir, &branch)?;
    }
    let mut peers = Vec::new();
    if pull_only {
        import_peers(ctx, dir, &own_file, &mut peers)?;
        return Ok(GitSynced { peers, exported: None, committed: false, pushed: false, push_attempts: 0 });
    }
    let target = dir.join(&own_file);
    let mut committed = false;
    let mut pushed = false;
    let mut attempts = 0;
    let exported = loop {
        import_peers(ctx, dir, &own_file, &mut peers)?;
        let exported = super::sync::export(ctx, &target, None, false, false)?;
        git_ok(dir, &["add", "--", &own_file])?;
        if !git(dir, &["diff", "--cached", "--quiet"])?.status.success() {
            let message = format!("rollcall: {own} (bundle {})", exported.report.digest.short(12));
            let mut args = vec!["-c", "user.name=rollcall", "-c", "user.email=rollcall@localhost"];
            if !git_ok(dir, &["config", "user.name"]).unwrap_or_default().is_empty() {
                args.clear();
            }
            args.extend(["commit", "--quiet", "-m", &message, "--", &own_file]);
            git_ok(dir, &args)?;
            committed = true;
        }
        if !remote {
            break exported;
        }
        attempts += 1;
        let out = git(dir, &["push", "--quiet", "--end-of-options", REMOTE, &format!("HEAD:refs/heads/{branch}")])?;
        if out.status.success() {
            pushed = true;
            break exported;
        }
        if attempts >= PUSH_ATTEMPTS {
            return Err(WorkflowError::Usage(format!(
                "git push kept being rejected after {attempts} attempts: {}",
                said(&out)
            )));
        }
        // Someone else pushed first: take their bundles, write ours again and retry.
        pull(dir, &branch)?;
    };
    Ok(GitSynced { peers, exported: Some(exported), committed, pushed, push_attempts: attempts })
}
