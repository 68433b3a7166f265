//! The console in a real terminal, through tmux: start on a demo ledger, navigate, approve with a
//! passphrase, quit — and the terminal is restored. (`.ci/run` installs tmux: with `CI` set, a missing
//! tmux fails the test; elsewhere it is skipped with a note.) Every tmux command goes to a private
//! server (`tmux -L`), never to the user's.

use std::process::Command;
use std::time::{Duration, Instant};

/// This test's own tmux server.
fn socket() -> String {
    format!("rollcall-test-{}", std::process::id())
}

fn tmux(args: &[&str]) -> String {
    let out = Command::new("tmux").arg("-L").arg(socket()).args(args).output().expect("tmux");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The tests share this process's tmux server, which each stops when it ends: they run one at a time.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Stops the private server however the test ends.
struct Server;

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("tmux").arg("-L").arg(socket()).arg("kill-server").output();
    }
}

/// Whether tmux can run here. Without it the test fails under CI (which installs it) and is skipped
/// with a note elsewhere.
/// This test's turn on the private tmux server (the server is stopped when it ends, before the next test
/// may start), or `None` where tmux cannot run (see [`tmux_available`]).
fn my_turn() -> Option<(Server, std::sync::MutexGuard<'static, ()>)> {
    tmux_available().then(|| {
        let turn = one_at_a_time();
        (Server, turn)
    })
}

/// The shell command that opens carol's console on `demo` with `env` set too, then says how it exited.
fn carol_console(demo: &std::path::Path, env: &str) -> String {
    format!(
        "env {env} ROLLCALL_HOME={home} TERM=xterm-256color {bin} --ledger {ledger} tui --as carol; echo EXITED-$?; sleep 60",
        home = demo.join("home").display(),
        bin = env!("CARGO_BIN_EXE_rollcall"),
        ledger = demo.join("ledger.db").display()
    )
}

fn tmux_available() -> bool {
    if Command::new("tmux").arg("-V").output().is_ok_and(|o| o.status.success()) {
        return true;
    }
    let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0");
    assert!(!ci, "tmux is not installed but CI is set: .ci/run installs it, and this test must run");
    eprintln!("SKIPPED: tmux is not installed (CI installs it; set CI to make this a failure)");
    false
}

fn wait_for(session: &str, needle: &str, timeout: Duration) -> String {
    wait_until(session, &format!("{needle:?}"), timeout, |screen| screen.contains(needle))
}

/// The screen once `done` holds for it. A capture may fall between two writes of one frame (tmux reads
/// the terminal's output in pieces), so everything a test reads from one screen is waited for together.
fn wait_until(session: &str, what: &str, timeout: Duration, done: impl Fn(&str) -> bool) -> String {
    let start = Instant::now();
    loop {
        let screen = tmux(&["capture-pane", "-t", session, "-p"]);
        if done(&screen) {
            return screen;
        }
        assert!(start.elapsed() < timeout, "timed out waiting for {what}; screen:\n{screen}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The rows of the queue below its title and header.
fn queue_rows(screen: &str) -> Vec<&str> {
    match screen.lines().position(|l| l.contains(" Queue ")) {
        Some(top) => screen.lines().skip(top + 2).collect(),
        None => Vec::new(),
    }
}

/// Carol's queue once whole: the observed rollbacks no request cleared drawn above it (the demo has one;
/// they arrive after the queue's rows) and an approval waiting on her among the rows. Returns the screen
/// and how many rows are above the first such approval.
fn carols_queue(session: &str) -> (String, usize) {
    let screen = wait_until(session, "the queue with an approval waiting on carol", Duration::from_secs(20), |s| {
        s.contains("UNRECORDED")
            && s.contains("waiting on you")
            && queue_rows(s).iter().any(|l| l.contains("▶ approve"))
    });
    let at = queue_rows(&screen).iter().position(|l| l.contains("▶ approve")).expect("waited for above");
    (screen, at)
}

fn keys(session: &str, k: &[&str]) {
    let mut args = vec!["send-keys", "-t", session];
    args.extend_from_slice(k);
    tmux(&args);
    std::thread::sleep(Duration::from_millis(150));
}

fn literal(session: &str, text: &str) {
    tmux(&["send-keys", "-t", session, "-l", text]);
    std::thread::sleep(Duration::from_millis(150));
}

/// A demo built by the binary, in a temporary directory (kept alive by the first value).
fn demo_built() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let out = Command::new(env!("CARGO_BIN_EXE_rollcall"))
        .args(["demo", "--no-tui", "--dir", demo.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    (dir, demo)
}

#[test]
fn approve_in_a_real_terminal_and_quit_cleanly() {
    let Some(_turn) = my_turn() else { return };
    let bin = env!("CARGO_BIN_EXE_rollcall");
    let (_dir, demo) = demo_built();
    let session = format!("rollcall-test-{}", std::process::id());
    let cmd = carol_console(&demo, "");
    tmux(&["new-session", "-d", "-s", &session, "-x", "80", "-y", "24", &cmd]);
    // The queue's title comes with the first frame; its rows follow from the worker. At 80×24 the queue
    // opens on what waits on carol, and the top row is hers to approve: five keys sign it.
    wait_for(&session, "most urgent first", Duration::from_secs(20));
    // The rows waiting on carol come first; the first approval among them is a `j` or two down.
    let (screen, at) = carols_queue(&session);
    let rows = queue_rows(&screen);
    assert!(rows[..at].iter().all(|l| l.contains('▶')), "only what waits on her is above it: {screen}");
    wait_for(&session, "intact", Duration::from_secs(20));
    for _ in 0..at {
        keys(&session, &["j"]);
    }
    keys(&session, &["Enter"]);
    wait_for(&session, "Request ", Duration::from_secs(10));
    keys(&session, &["a"]);
    wait_for(&session, "review what will be signed", Duration::from_secs(10));
    keys(&session, &["Enter"]);
    literal(&session, "checked the dashboards");
    keys(&session, &["Enter"]);
    wait_for(&session, "passphrase of your key", Duration::from_secs(10));
    literal(&session, "demo-passphrase");
    let screen = tmux(&["capture-pane", "-t", &session, "-p"]);
    assert!(!screen.contains("demo-passphrase"), "the passphrase is masked");
    keys(&session, &["Enter"]);
    wait_for(&session, "signed and recorded", Duration::from_secs(20));
    keys(&session, &["q"]);
    let screen = wait_for(&session, "EXITED-0", Duration::from_secs(10));
    assert!(!screen.contains("Queue"), "the alternate screen was left: {screen}");
    tmux(&["kill-session", "-t", &session]);
    // The approval is in the ledger and counts.
    let out = Command::new(bin)
        .env("ROLLCALL_HOME", demo.join("home"))
        .args(["--ledger", demo.join("ledger.db").to_str().unwrap(), "--json", "verify"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let log = Command::new(bin)
        .env("ROLLCALL_HOME", demo.join("home"))
        .args(["--ledger", demo.join("ledger.db").to_str().unwrap(), "--json", "log", "--from", "200"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&log.stdout).unwrap();
    let last = v["entries"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["kind"], "approval.granted");
    assert_eq!(last["actor_name"], "carol");

    // An auditor browses the demo's bundle with no ledger and no key of their own: read-only, and
    // nothing is written anywhere.
    let auditor = tempfile::tempdir().unwrap();
    let bundle = demo.join("laptop-1.rollcall");
    let before = std::fs::read(&bundle).unwrap();
    let session = format!("rollcall-audit-{}", std::process::id());
    let cmd = format!(
        "env ROLLCALL_HOME={home} TERM=xterm-256color {bin} tui --bundle {bundle}; echo EXITED-$?; sleep 60",
        home = auditor.path().display(),
        bundle = bundle.display()
    );
    tmux(&["new-session", "-d", "-s", &session, "-x", "120", "-y", "32", &cmd]);
    wait_for(&session, "most urgent first", Duration::from_secs(20));
    wait_for(&session, "review-due", Duration::from_secs(20));
    wait_for(&session, "intact", Duration::from_secs(20));
    keys(&session, &["Enter"]);
    wait_for(&session, "Request ", Duration::from_secs(10));
    keys(&session, &["a"]);
    let screen = tmux(&["capture-pane", "-t", &session, "-p"]);
    assert!(!screen.contains("review what will be signed"), "no signing from a bundle: {screen}");
    keys(&session, &["4"]);
    wait_for(&session, "jump-host", Duration::from_secs(10));
    // The auditor inspects the oldest entry: its signature verifies and it is in the signed log.
    keys(&session, &["2"]);
    wait_for(&session, "INDEX", Duration::from_secs(10));
    keys(&session, &["G"]);
    keys(&session, &["Enter"]);
    // Both lines of the proof, waited for together (see `wait_until`); a timeout prints the screen.
    wait_until(&session, "the signature and the inclusion proof", Duration::from_secs(10), |s| {
        s.contains("signature  ✓ verifies") && s.contains("✓ included in demo.rollcall.example/laptop-1")
    });
    keys(&session, &["Escape"]);
    keys(&session, &["q"]);
    wait_for(&session, "EXITED-0", Duration::from_secs(10));
    tmux(&["kill-session", "-t", &session]);
    assert_eq!(std::fs::read(&bundle).unwrap(), before, "the bundle is untouched");
    let written: Vec<_> = std::fs::read_dir(auditor.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(written.is_empty(), "nothing written to the auditor's home: {written:?}");
}

/// Issue 16: `rollcall demo` prints the passphrase and the commands to go on with again after the console
/// closes (its screen covered them), run as `cargo run --release --` when no `rollcall` is on the PATH.
#[test]
fn the_demo_says_its_passphrase_and_commands_again_after_the_console() {
    let Some(_turn) = my_turn() else { return };
    let bin = env!("CARGO_BIN_EXE_rollcall");
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let session = format!("rollcall-demo-{}", std::process::id());
    // A PATH without any rollcall on it.
    let cmd = format!(
        "env PATH=/usr/bin:/bin TERM=xterm-256color {bin} demo --dir {demo}; echo EXITED-$?; sleep 60",
        demo = demo.display()
    );
    tmux(&["new-session", "-d", "-s", &session, "-x", "200", "-y", "50", &cmd]);
    wait_for(&session, "most urgent first", Duration::from_secs(60));
    keys(&session, &["q"]);
    let screen = wait_for(&session, "EXITED-0", Duration::from_secs(20));
    let after = screen.split("report --as grace").count() - 1;
    let history = tmux(&["capture-pane", "-t", &session, "-p", "-S", "-"]);
    assert_eq!(history.matches("passphrase of every demo key: demo-passphrase").count(), 2, "{history}");
    assert!(after >= 1, "{screen}");
    assert!(history.contains("cargo run --release -- --ledger"), "{history}");
    assert!(!history.contains(" rollcall --ledger"), "{history}");
    assert!(history.contains("(one rollback unrecorded)") && history.contains(" reconcile;"), "{history}");
}

/// Issue 16: on a terminal a wrong passphrase may be typed again, three tries in all; then the command
/// fails with exit 1 (a failed check, not bad usage), and nothing is written.
#[test]
fn a_wrong_passphrase_on_a_terminal_gets_three_tries() {
    let Some(_turn) = my_turn() else { return };
    let bin = env!("CARGO_BIN_EXE_rollcall");
    let (_dir, demo) = demo_built();
    let session = format!("rollcall-pass-{}", std::process::id());
    let note = |text: &str| {
        format!(
            "env -u ROLLCALL_PASSPHRASE ROLLCALL_HOME={home} {bin} --ledger {ledger} note '{text}' --as carol; echo EXITED-$?",
            home = demo.join("home").display(),
            ledger = demo.join("ledger.db").display()
        )
    };
    let cmd = format!("{}; {}; sleep 60", note("three wrong"), note("wrong then right"));
    tmux(&["new-session", "-d", "-s", &session, "-x", "160", "-y", "40", &cmd]);
    for _ in 0..3 {
        wait_for(&session, "Passphrase for key", Duration::from_secs(20));
        literal(&session, "not-the-passphrase");
        keys(&session, &["Enter"]);
    }
    let screen = wait_for(&session, "EXITED-1", Duration::from_secs(20));
    assert!(screen.contains("2 tries left") && screen.contains("1 try left"), "{screen}");
    // The second command: wrong once, then right.
    let start = Instant::now();
    while tmux(&["capture-pane", "-t", &session, "-p"]).matches("Passphrase for key").count() < 4 {
        assert!(start.elapsed() < Duration::from_secs(20), "no fourth prompt");
        std::thread::sleep(Duration::from_millis(50));
    }
    literal(&session, "not-the-passphrase");
    keys(&session, &["Enter"]);
    while tmux(&["capture-pane", "-t", &session, "-p"]).matches("Passphrase for key").count() < 5 {
        assert!(start.elapsed() < Duration::from_secs(20), "no fifth prompt");
        std::thread::sleep(Duration::from_millis(50));
    }
    literal(&session, "demo-passphrase");
    keys(&session, &["Enter"]);
    let screen = wait_for(&session, "EXITED-0", Duration::from_secs(20));
    assert!(screen.contains("recorded note"), "{screen}");
}

/// Issue 16: long text in `$EDITOR`. Ctrl-O in a text field hands the terminal to the editor; what it
/// leaves comes back into the field (on one line), and the console is whole again.
#[test]
fn ctrl_o_edits_a_field_in_the_editor() {
    let Some(_turn) = my_turn() else { return };
    let (dir, demo) = demo_built();
    // An "editor" that writes its text and exits, as a person would after typing.
    let editor = dir.path().join("editor.sh");
    std::fs::write(&editor, "#!/bin/sh\nprintf 'graphs confirm it\\nsecond line' > \"$1\"\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let session = format!("rollcall-edit-{}", std::process::id());
    let cmd = carol_console(&demo, &format!("-u VISUAL EDITOR={}", editor.display()));
    tmux(&["new-session", "-d", "-s", &session, "-x", "120", "-y", "32", &cmd]);
    let (_, at) = carols_queue(&session);
    for _ in 0..at {
        keys(&session, &["j"]);
    }
    keys(&session, &["Enter"]);
    wait_for(&session, "Request ", Duration::from_secs(10));
    keys(&session, &["a"]);
    wait_for(&session, "review what will be signed", Duration::from_secs(10));
    keys(&session, &["Enter"]);
    wait_for(&session, "2/3 fill in", Duration::from_secs(10));
    keys(&session, &["C-o"]);
    // The dialog is drawn again around the editor's text.
    wait_until(&session, "the editor's text in the dialog", Duration::from_secs(20), |s| {
        s.contains("graphs confirm it second line") && s.contains("2/3 fill in")
    });
    keys(&session, &["Escape"]);
    keys(&session, &["Escape"]);
    keys(&session, &["q"]);
    wait_for(&session, "EXITED-0", Duration::from_secs(10));
    tmux(&["kill-session", "-t", &session]);
}
