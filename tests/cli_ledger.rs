//! End to end: keys, init, note, log and verify through the binary, and the bad-input refusals of
//! issue 2, each showing that nothing changed.

mod common;
use common::{Env, PASS, verify_json};

#[test]
fn key_new_and_list() {
    let env = Env::new();
    let out = env.ok(&["key", "new", "alice"]);
    assert!(out.contains("created key alice"), "{out}");
    env.ok(&["key", "new", "bob"]);
    let list = env.json(&["key", "list"]);
    let keys = list["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0]["name"], "alice");
    assert!(keys[0]["public_key"].as_str().unwrap().starts_with("ed25519:"));
    assert_eq!(keys[0]["key_id"].as_str().unwrap().len(), 16);
    let text = env.ok(&["key", "list"]);
    assert!(text.starts_with("NAME"), "{text}");
    // The key file holds no clear secret and is private.
    let file = std::fs::read_to_string(env.home().join("keys/alice.key")).unwrap();
    assert!(file.contains("xchacha20") || file.contains("ciphertext"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(env.home().join("keys/alice.key")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn key_errors_are_one_line() {
    let env = Env::new();
    env.ok(&["key", "new", "alice"]);
    let before = std::fs::read(env.home().join("keys/alice.key")).unwrap();
    assert!(env.fails(&["key", "new", "alice"], 2).contains("already exists"));
    assert_eq!(std::fs::read(env.home().join("keys/alice.key")).unwrap(), before);
    assert!(env.fails(&["key", "new", "../x"], 2).contains("not valid"));
    let err = env.cmd().args(["key", "new", "carol"]).env("ROLLCALL_PASSPHRASE", "short").output().unwrap();
    assert_eq!(err.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&err.stderr).contains("too short"));
    let err = env.cmd().args(["key", "new", "carol"]).env_remove("ROLLCALL_PASSPHRASE").output().unwrap();
    assert_eq!(err.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&err.stderr).contains("ROLLCALL_PASSPHRASE"));
    assert!(!env.home().join("keys/carol.key").exists());
}

#[test]
fn init_note_log_verify() {
    let env = Env::with_ledger();
    env.ok(&["note", "deploy 4411 looks wrong; watching", "--as", "alice"]);
    let r = env.json(&["note", "second note", "--as", "alice"]);
    assert_eq!(r["index"], 2);
    assert_eq!(r["checkpointed"], true);
    assert_eq!(r["entry_id"].as_str().unwrap().len(), 64);

    let log = env.json(&["log"]);
    assert_eq!(log["size"], 3);
    let entries = log["entries"].as_array().unwrap();
    assert_eq!(entries.iter().map(|e| e["kind"].as_str().unwrap()).collect::<Vec<_>>(), ["genesis", "note", "note"]);
    assert!(entries.iter().all(|e| e["actor_name"] == "alice"));
    assert_eq!(entries[2]["entry_id"], r["entry_id"]);
    let page = env.json(&["log", "--from", "1", "--limit", "1"]);
    assert_eq!(page["entries"].as_array().unwrap().len(), 1);
    assert_eq!(page["entries"][0]["index"], 1);

    let (code, v) = verify_json(&env);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["intact"], true);
    assert_eq!(v["origins"][0]["verified"], 3);
    assert_eq!(v["origins"][0]["signatures"], 3);
    assert_eq!(v["origins"][0]["checkpoints"], 3);
    assert_eq!(v["completeness"][0]["unchecked_tail"], 0);
    assert!(v["completeness"][0]["statement"].as_str().unwrap().contains("held elsewhere"));
    let human = env.ok(&["verify"]);
    assert!(human.contains("integrity: OK"), "{human}");
    assert!(human.contains("completeness"), "{human}");
}

#[test]
fn init_refuses_to_overwrite() {
    let env = Env::with_ledger();
    let before = env.fingerprint();
    assert!(env.fails(&["init", "--admin", "alice"], 2).contains("already exists"));
    assert_eq!(env.fingerprint(), before);
}

#[test]
fn init_with_policy_file_and_bad_policy() {
    let env = Env::new();
    env.ok(&["key", "new", "alice"]);
    let bad = env.home().join("bad.toml");
    std::fs::write(&bad, "version = [").unwrap();
    assert!(env.fails(&["init", "--admin", "alice", "--policy", bad.to_str().unwrap()], 2).contains("TOML"));
    assert!(!env.ledger().exists());
    let good = env.home().join("good.toml");
    std::fs::write(&good, "version = 1\n[identity]\nadmin_signatures = 1\n").unwrap();
    let out = env.run(&["init", "--admin", "alice", "--policy", good.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    // A founding policy that leaves out the settings read from its own text only says so, as `policy adopt`
    // does: its emergencies never lapse, and any member's post-hoc review settles one.
    assert!(err.contains("does not set emergency.waives_for_hours, so an emergency never lapses"), "{err}");
    assert!(err.contains("does not set emergency.may_review"), "{err}");
    assert_eq!(verify_json(&env).0, 0);
}

#[test]
fn bad_origin_name_is_refused() {
    let env = Env::new();
    env.ok(&["key", "new", "alice"]);
    assert!(env.fails(&["init", "--admin", "alice", "--origin", "has space"], 2).contains("origin"));
    assert!(!env.ledger().exists());
}

#[test]
fn unknown_key_wrong_passphrase_empty_note() {
    let env = Env::with_ledger();
    let before = env.fingerprint();
    assert!(env.fails(&["note", "hello", "--as", "mallory"], 2).contains("no key named"));
    // The console refuses an unknown key before it takes over the terminal (issue 16).
    let err = env.fails(&["tui", "--as", "nobody"], 2);
    assert!(err.contains("no key named \"nobody\"") && err.trim().lines().count() == 1, "{err}");
    let out = env
        .cmd()
        .args(["note", "hello", "--as", "alice"])
        .env("ROLLCALL_PASSPHRASE", "not the passphrase")
        .output()
        .unwrap();
    // A wrong passphrase is a failed check, not bad usage (issue 16).
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("wrong passphrase"), "{err}");
    assert!(env.fails(&["note", "   ", "--as", "alice"], 2).contains("empty"));
    assert!(env.fails(&["note", &"x".repeat(10_001), "--as", "alice"], 2).contains("at most"));
    assert_eq!(env.fingerprint(), before);
    assert_eq!(env.size(), 1);
}

#[test]
fn key_not_enrolled_is_refused() {
    let env = Env::with_ledger();
    env.ok(&["key", "new", "bob"]);
    let before = env.fingerprint();
    let err = env.fails(&["note", "hi", "--as", "bob"], 1);
    assert!(err.contains("not enrolled"), "{err}");
    assert_eq!(env.fingerprint(), before);
}

#[test]
fn missing_ledger_is_not_created() {
    let env = Env::new();
    env.ok(&["key", "new", "alice"]);
    let path = env.home().join("nope.db");
    let err = env.fails(&["--ledger", path.to_str().unwrap(), "log"], 2);
    assert!(err.contains("no ledger at"), "{err}");
    assert!(err.contains("rollcall init"), "{err}");
    assert!(!path.exists());
    env.fails(&["--ledger", path.to_str().unwrap(), "verify"], 2);
    env.fails(&["--ledger", path.to_str().unwrap(), "note", "x", "--as", "alice"], 2);
    assert!(!path.exists());
}

fn assert_refused_untouched(env: &Env, path: &std::path::Path, expect: &str) {
    let before = std::fs::read(path).unwrap();
    for args in [vec!["log"], vec!["verify"], vec!["note", "x", "--as", "alice"]] {
        let mut a = vec!["--ledger", path.to_str().unwrap()];
        a.extend(args);
        let err = env.fails(&a, 2);
        assert!(err.contains(expect), "{err}");
    }
    assert_eq!(std::fs::read(path).unwrap(), before, "file was modified");
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    assert!(!std::path::Path::new(&wal).exists(), "a WAL file was created");
}

#[test]
fn non_sqlite_file_is_refused_untouched() {
    let env = Env::new();
    env.ok(&["key", "new", "alice"]);
    let path = env.home().join("notes.txt");
    std::fs::write(&path, "just some text that is long enough to look like a header, and then some more bytes ....")
        .unwrap();
    assert_refused_untouched(&env, &path, "not an SQLite database");
    let empty = env.home().join("empty.db");
    std::fs::write(&empty, "").unwrap();
    assert_refused_untouched(&env, &empty, "not an SQLite database");
}

#[test]
fn other_programs_sqlite_is_refused_untouched() {
    let env = Env::new();
    env.ok(&["key", "new", "alice"]);
    let path = env.home().join("other.db");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);").unwrap();
    }
    assert_refused_untouched(&env, &path, "another program");
}

#[test]
fn newer_format_is_refused_untouched() {
    let env = Env::with_ledger();
    let path = env.home().join("future.db");
    std::fs::copy(env.ledger(), &path).unwrap();
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.pragma_update(None, "user_version", 99).unwrap();
        c.pragma_update(None, "journal_mode", "DELETE").unwrap();
    }
    assert_refused_untouched(&env, &path, "upgrade rollcall");
}

#[test]
fn terminal_escapes_in_notes_are_shown_escaped() {
    let env = Env::with_ledger();
    env.ok(&["note", "ok\x1b[2J\u{202E}gnp.exe", "--as", "alice"]);
    let log = env.ok(&["log"]);
    assert!(!log.contains('\x1b'));
    // The note text is not in `log`, but the kind/actor columns are sanitized; JSON keeps exact data.
    let err = env.fails(&["note", "\u{7}", "--as", "mallory\x1b[31m"], 2);
    assert!(!err.contains('\x1b'), "{err:?}");
}

/// JSON output keeps exact data without sending it raw to a terminal: a request title holding a bidi
/// override and a C1 control sequence comes out of `show`, `list` and `report` as JSON escapes, and reads
/// back as the title filed (before, both characters were written raw).
#[test]
fn json_output_escapes_what_would_drive_a_terminal() {
    let env = common::team();
    let title = "ok \u{9b}2J\u{9b}H approved \u{202E}devorppa";
    let filed = env.json(&common::request_args("bob", title, "low"));
    let id = filed["entry_id"].as_str().unwrap().to_string();
    for cmd in
        [vec!["--json", "show", &id[..12]], vec!["--json", "list"], vec!["report", "--format", "json", "--as", "alice"]]
    {
        let out = env.ok(&cmd);
        assert!(!out.contains('\u{202E}') && !out.contains('\u{9b}'), "{cmd:?}: {out}");
        assert!(out.contains("\\u202e") && out.contains("\\u009b"), "{cmd:?}: {out}");
        assert!(out.contains("devorppa"), "{cmd:?}");
    }
    let shown = env.json(&["show", &id[..12]]);
    assert_eq!(shown["record"]["title"], title, "{shown}");
}

#[test]
fn signer_defaults_to_only_key_or_rollcall_key() {
    let env = Env::with_ledger();
    env.ok(&["note", "implicit signer"]);
    env.ok(&["key", "new", "bob"]);
    let err = env.fails(&["note", "who signs?"], 2);
    assert!(err.contains("alice, bob"), "{err}");
    let out = env.cmd().args(["note", "by env"]).env("ROLLCALL_KEY", "alice").output().unwrap();
    assert!(out.status.success());
    assert_eq!(env.size(), 3);
}

#[test]
fn without_the_origin_key_nothing_is_appended() {
    // Every append signs a checkpoint: a machine that cannot unlock the origin key refuses, and the log
    // never runs past what the origin key vouched for.
    let env = Env::with_ledger();
    let other = Env::new();
    std::fs::create_dir_all(other.home().join("keys")).unwrap();
    std::fs::copy(env.home().join("keys/alice.key"), other.home().join("keys/alice.key")).unwrap();
    let before = env.fingerprint();
    let out = other
        .cmd()
        .args([
            "--ledger",
            env.ledger().to_str().unwrap(),
            "note",
            "from a machine without the origin key",
            "--as",
            "alice",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("origin key") && err.contains("ROLLCALL_ORIGIN_PASSPHRASE"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert_eq!(env.fingerprint(), before, "nothing was written");
    let (code, v) = verify_json(&env);
    assert_eq!(code, 0, "{v}");
    let _ = PASS;
}

/// A failure of the system under a command (here: git missing when the demo builds its repository) exits
/// 1 like a failed check, with one line naming what could not run; bad usage stays exit 2.
#[test]
fn a_system_failure_exits_1_and_bad_usage_2() {
    let env = Env::new();
    let dir = env.home().join("demo");
    let out = env
        .cmd()
        .env("PATH", "/nonexistent")
        .args(["demo", "--dir", dir.to_str().unwrap(), "--no-tui"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.lines().any(|l| l.starts_with("error: cannot run git")), "{err}");
    env.fails(&["evidence", "show", "zz"], 2);
}

/// A standard error whose reader went away (`rollcall demo 2>&1 | head -1`) costs the messages, not the
/// command: it still finishes and exits 0 (it used to panic with 101 at the next progress line).
#[test]
fn a_closed_standard_error_does_not_stop_a_command() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_rollcall"))
        .args(["demo", "--no-tui", "--dir", dir.path().join("demo").to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(dir.path().join("demo").join("ledger.db").exists());
}

/// A listing longer than `log` measures (`ROLLCALL_LOG_MEASURED_UP_TO`) is printed as it is read: the same
/// cells as the measured table, every column under its header, and each wide enough for what it can hold
/// (here a signer the roster names who has signed nothing yet), not only for what the log holds.
#[test]
fn a_long_log_is_printed_as_it_is_read_with_its_columns_aligned() {
    let env = common::team();
    let k = env.json(&["key", "new", "maximilian"]);
    env.ok(&[
        "enroll",
        "maximilian",
        "--pubkey",
        k["public_key"].as_str().unwrap(),
        "--as",
        "alice",
        "--role",
        "approver",
    ]);
    env.ok(&["note", "a note", "--as", "bob"]);
    let measured = env.ok(&["log"]);
    let streamed = env.cmd().env("ROLLCALL_LOG_MEASURED_UP_TO", "2").arg("log").output().unwrap();
    assert!(streamed.status.success());
    let streamed = String::from_utf8(streamed.stdout).unwrap();
    let cells = |t: &str| -> Vec<Vec<String>> {
        t.lines().map(|l| l.split("  ").map(str::trim).filter(|c| !c.is_empty()).map(String::from).collect()).collect()
    };
    assert_eq!(cells(&streamed), cells(&measured));
    assert_eq!(cells(&streamed).len(), 1 + env.size() as usize);
    let column = |t: &str, h: &str| t.lines().next().unwrap().find(h).unwrap();
    for h in ["ENTRY", "KIND", "ACTOR", "TIME"] {
        let at = column(&streamed, h);
        for line in streamed.lines() {
            assert!(line[..at].ends_with("  ") && !line[at..].starts_with(' '), "{h} at {at}: {line:?}");
        }
    }
    // The measured ACTOR column fits the signers in the log; the streamed one maximilian (nine more).
    assert_eq!(column(&streamed, "TIME") - column(&measured, "TIME"), "maximilian".len() - "alice".len());
    // A short listing is still measured.
    let short = env.cmd().env("ROLLCALL_LOG_MEASURED_UP_TO", "2").args(["log", "--limit", "2"]).output().unwrap();
    assert_eq!(String::from_utf8(short.stdout).unwrap(), env.ok(&["log", "--limit", "2"]));
}

/// The commands `demo` prints to go on with run as printed, in a shell that has only the binary on its
/// PATH and no passphrase set (the report signs its read: its line carries the demo's public passphrase,
/// which a newcomer who had set their own for the quick start did not have).
#[test]
fn the_commands_the_demo_prints_run_as_printed() {
    let dir = tempfile::tempdir().unwrap();
    let bin = std::path::PathBuf::from(env!("CARGO_BIN_EXE_rollcall"));
    let path = std::env::join_paths([bin.parent().unwrap().to_path_buf(), "/usr/bin".into(), "/bin".into()]).unwrap();
    let out = std::process::Command::new(&bin)
        .env_clear()
        .env("PATH", &path)
        .env("HOME", dir.path())
        .args(["demo", "--no-tui", "--dir", dir.path().join("demo").to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let command = |label: &str| -> String {
        let line = text.lines().find(|l| l.starts_with(label)).unwrap_or_else(|| panic!("no {label:?} in {text}"));
        let cmd = &line[line.find(": ").unwrap() + 2..];
        cmd.split("; in the console").next().unwrap().to_string()
    };
    for (label, code) in [
        ("a governance report", 0),
        ("a post-mortem timeline", 0),
        ("an auditor's check of the laptop's bundle", 0),
        ("the CD tools' histories against the requests", 1),
    ] {
        let cmd = command(label);
        assert!(cmd.starts_with("ROLLCALL_HOME=") || cmd.starts_with("rollcall "), "{cmd}");
        let run = std::process::Command::new("sh")
            .env_clear()
            .env("PATH", &path)
            .env("HOME", dir.path())
            .args(["-c", &cmd])
            .output()
            .unwrap();
        assert_eq!(run.status.code(), Some(code), "{cmd}: {}", String::from_utf8_lossy(&run.stderr));
    }
}
