//! A hostile git exchange (issue 13): a default branch named like a git option must never reach git as
//! an option, git must not see rollcall's secrets in its environment, and a symlink committed as a peer
//! bundle (to `/dev/zero`) is refused at once instead of being read forever.

mod common;

use common::{Env, git};
use std::path::Path;
use std::time::{Duration, Instant};

/// A work tree with one commit, its user configured.
fn work_tree(path: &Path) {
    std::fs::create_dir_all(path).unwrap();
    git(path, &["init", "-q"]);
    git(path, &["config", "user.name", "t"]);
    git(path, &["config", "user.email", "t@example.com"]);
    std::fs::write(path.join("README"), "the exchange\n").unwrap();
    git(path, &["add", "README"]);
    git(path, &["commit", "-q", "-m", "seed"]);
}

#[test]
fn a_default_branch_named_like_an_option_is_refused_and_nothing_runs() {
    let env = Env::with_ledger();
    // No dot-led path component: the branch name must stay a valid ref.
    let shared = tempfile::Builder::new().prefix("rcgit").tempdir().unwrap();
    let marker = shared.path().join("injected");
    let branch = format!("--upload-pack=env>{};git-upload-pack", marker.display());
    let remote = shared.path().join("exchange.git");
    git(shared.path(), &["init", "-q", "--bare", remote.to_str().unwrap()]);
    let seed = shared.path().join("seed");
    work_tree(&seed);
    git(&seed, &["push", "-q", remote.to_str().unwrap(), &format!("HEAD:refs/heads/{branch}")]);
    git(&remote, &["symbolic-ref", "HEAD", &format!("refs/heads/{branch}")]);
    let work = shared.path().join("work");
    git(shared.path(), &["clone", "-q", remote.to_str().unwrap(), work.to_str().unwrap()]);
    // The clone checked the hostile branch out, as a victim's would.
    assert_eq!(git(&work, &["symbolic-ref", "--short", "HEAD"]), branch);
    assert!(!marker.exists());

    let before = env.fingerprint();
    let err = env.fails(&["sync", "--git", work.to_str().unwrap()], 1);
    assert!(err.contains("--upload-pack") && err.contains("option"), "{err}");
    assert!(!marker.exists(), "git ran the injected command: {:?}", std::fs::read_to_string(&marker));
    assert_eq!(before, env.fingerprint());
    assert!(!work.join("test.example_laptop.rollcall").exists());
}

#[test]
fn git_runs_without_rollcall_variables_in_its_environment() {
    let env = Env::with_ledger();
    let shared = tempfile::tempdir().unwrap();
    let work = shared.path().join("work");
    work_tree(&work);
    // Whatever git runs (here a hook) sees its environment: rollcall's passphrase must not be in it.
    let seen = shared.path().join("hook-env");
    let hook = work.join(".git/hooks/pre-commit");
    std::fs::write(&hook, format!("#!/bin/sh\nenv > '{}'\n", seen.display())).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    env.ok(&["sync", "--git", work.to_str().unwrap(), "--offline"]);
    let hook_env = std::fs::read_to_string(&seen).expect("the hook ran");
    assert!(hook_env.contains("PATH="), "{hook_env}");
    assert!(!hook_env.contains("ROLLCALL_"), "git saw rollcall's variables:\n{hook_env}");
    assert!(!hook_env.contains(common::PASS));
}

#[cfg(unix)]
#[test]
fn a_symlink_to_dev_zero_in_the_exchange_is_refused_at_once() {
    let env = Env::with_ledger();
    let shared = tempfile::tempdir().unwrap();
    let work = shared.path().join("work");
    work_tree(&work);
    std::os::unix::fs::symlink("/dev/zero", work.join("zero.rollcall")).unwrap();
    git(&work, &["add", "zero.rollcall"]);
    git(&work, &["commit", "-q", "-m", "a peer bundle, supposedly"]);

    let size = env.size();
    let before = env.fingerprint();
    let start = Instant::now();
    let out = env
        .cmd()
        .args(["sync", "--git", work.to_str().unwrap(), "--offline"])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let took = start.elapsed();
    assert!(took < Duration::from_secs(10), "sync took {took:?}");
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("refused"), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().find(|l| l.starts_with("zero.rollcall:")).unwrap_or_else(|| panic!("{stdout}"));
    assert!(line.contains("REFUSED: not a regular file (a symbolic link)"), "{line}");
    // Nothing of the link was imported: the ledger is unchanged.
    assert_eq!(before, env.fingerprint());
    assert_eq!(env.size(), size, "{stdout}");
}
