//! A hostile git exchange (issue 13): a default branch named like a git option must never reach git as
//! an option, git must not see rollcall's secrets in its environment, a symlink committed as a peer
//! bundle (to `/dev/zero`) is refused at once instead of being read forever, and a forged peer bundle or
//! an unreachable remote is refused. Every refusal exits non-zero with one line and leaves the ledger's
//! `sqlite3 .dump` as it was.

mod common;

use common::{Env, bundle_lines, git, peer, sealed};
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
    let err = env.refuses(&["sync", "--git", work.to_str().unwrap()]);
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
    let dump = env.dump();
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
    assert!(env.dump() == dump, "the refused sync changed the ledger");
    assert_eq!(env.size(), size, "{stdout}");
}

const BOB: &str = "test.example/bob";

/// A bare repository `exchange.git` in `shared` whose `main` branch holds `files` (name, bytes), and a
/// clone of it, `work`, checked out on `main`.
fn exchange(shared: &Path, files: &[(&str, &[u8])]) -> std::path::PathBuf {
    let remote = shared.join("exchange.git");
    git(shared, &["init", "-q", "--bare", "-b", "main", remote.to_str().unwrap()]);
    let seed = shared.join("seed");
    work_tree(&seed);
    for (name, bytes) in files {
        std::fs::write(seed.join(name), bytes).unwrap();
        git(&seed, &["add", name]);
    }
    git(&seed, &["commit", "-q", "--allow-empty", "-m", "peer bundles"]);
    git(&seed, &["push", "-q", remote.to_str().unwrap(), "HEAD:refs/heads/main"]);
    let work = shared.join("work");
    git(shared, &["clone", "-q", remote.to_str().unwrap(), work.to_str().unwrap()]);
    work
}

/// alice's ledger, and bob's bundle of it with his note `x`, genuine and with the note edited (its
/// signature no longer verifies; end digest recomputed).
fn alice_and_bobs_bundles() -> (Env, Vec<u8>, Vec<u8>) {
    let alice = Env::with_ledger();
    let bob = peer(&alice, "bob", BOB, &["approver"]);
    bob.ok(&["note", "x", "--as", "bob"]);
    let good = bob.export("bob.rollcall");
    let mut ls = bundle_lines(&good);
    ls.pop();
    let leaf = ls.iter().position(|l| l.windows(10).any(|w| w == br#""text":"x""#)).unwrap();
    ls[leaf] = String::from_utf8(ls[leaf].clone()).unwrap().replace(r#""text":"x""#, r#""text":"z""#).into_bytes();
    (alice, std::fs::read(good).unwrap(), sealed(&ls))
}

#[test]
fn a_forged_peer_bundle_in_the_exchange_is_refused_and_changes_nothing() {
    let (alice, _, forged) = alice_and_bobs_bundles();
    let shared = tempfile::tempdir().unwrap();
    let work = exchange(shared.path(), &[("test.example_bob.rollcall", &forged)]);
    let (out, _) = alice.refused_run(&["sync", "--git", work.to_str().unwrap()]);
    let line = out.lines().find(|l| l.starts_with("test.example_bob.rollcall:")).unwrap_or_else(|| panic!("{out}"));
    assert!(line.contains("REFUSED") && line.contains("signature does not verify"), "{line}");
    // The next round refuses it again: nothing recorded it as imported.
    alice.refuses(&["sync", "--git", work.to_str().unwrap(), "--offline"]);
}

#[test]
fn an_unreachable_remote_is_refused_before_anything_is_imported() {
    let (alice, good, _) = alice_and_bobs_bundles();
    let shared = tempfile::tempdir().unwrap();
    // A working copy holding a genuine peer bundle from an earlier pull, its remote since gone.
    let work = exchange(shared.path(), &[("test.example_bob.rollcall", &good)]);
    std::fs::remove_dir_all(shared.path().join("exchange.git")).unwrap();
    let head = git(&work, &["rev-parse", "HEAD"]);
    let err = alice.refuses(&["sync", "--git", work.to_str().unwrap()]);
    assert!(err.contains("remote") && err.contains("--offline"), "{err}");
    assert_eq!(git(&work, &["rev-parse", "HEAD"]), head, "nothing was committed");
    // Offline, the same working copy is imported.
    let v = alice.json(&["sync", "--git", work.to_str().unwrap(), "--offline"]);
    assert_eq!(v["refused"], 0, "{v}");
    assert!(alice.entry_set().iter().any(|e| e.starts_with(BOB)), "{v}");
}

/// One round imports each peer bundle on its own: a forged one is refused (the exit says so) and brings
/// nothing, while a genuine one beside it is imported and marked as such.
#[test]
fn a_refused_peer_bundle_brings_nothing_and_does_not_hold_back_the_others() {
    let (alice, _, forged) = alice_and_bobs_bundles();
    let carol = peer(&alice, "carol", "test.example/carol", &["approver"]);
    carol.ok(&["note", "from carol", "--as", "carol"]);
    let from_carol = std::fs::read(carol.export("carol.rollcall")).unwrap();
    let shared = tempfile::tempdir().unwrap();
    let files: [(&str, &[u8]); 2] =
        [("test.example_bob.rollcall", &forged), ("test.example_carol.rollcall", &from_carol)];
    let work = exchange(shared.path(), &files);
    let out = alice.run(&["sync", "--git", work.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("test.example_bob.rollcall: REFUSED"), "{stdout}");
    assert!(stdout.contains("test.example_carol.rollcall: added"), "{stdout}");
    let held = alice.entry_set();
    assert!(held.iter().any(|e| e.starts_with("test.example/carol ")), "{held:?}");
    assert!(!held.iter().any(|e| e.starts_with("test.example/bob ")), "{held:?}");
    assert_eq!(common::verify_json(&alice).0, 0);
    // The next round skips carol's bundle and refuses bob's again, changing nothing.
    let (stdout, _) = alice.refused_run(&["sync", "--git", work.to_str().unwrap(), "--offline"]);
    assert!(stdout.contains("test.example_carol.rollcall: unchanged"), "{stdout}");
    assert!(stdout.contains("test.example_bob.rollcall: REFUSED"), "{stdout}");
}
