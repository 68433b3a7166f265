//! Running one notification command: the event as JSON on its stdin, its stdout and stderr captured up to
//! a bound, killed (with everything it started) when it runs past the timeout; and `notify.log`, where
//! every run is written as one JSON line.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Bytes of a command's stdout and of its stderr kept for the log (the rest is read and dropped).
pub(crate) const CAPTURE: usize = 64 * 1024;
/// The log file, beside `notify.toml`.
pub(crate) const LOG: &str = "notify.log";
/// The log is moved to `notify.log.1` (replacing it) when it grows past this.
const LOG_MAX: u64 = 1 << 20;
/// How long output is still awaited once the command exited or was killed (a background child that
/// inherited its pipes must not hold the ledger operation).
const GRACE: Duration = Duration::from_secs(1);

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Ended {
    /// Exit status 0.
    Ok,
    /// Another exit status, or killed by a signal.
    Failed(String),
    /// Still running at the timeout: killed.
    TimedOut,
    /// It could not be started (missing, not executable).
    NotStarted(String),
}

/// What one run did.
#[derive(Clone, Debug)]
pub(crate) struct Ran {
    pub ended: Ended,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// Whether more output came than was kept.
    pub truncated: bool,
    pub elapsed: Duration,
}

impl Ran {
    /// One line for a warning when it did not succeed.
    pub(crate) fn problem(&self, timeout: Duration) -> Option<String> {
        match &self.ended {
            Ended::Ok => None,
            Ended::Failed(why) => Some(why.clone()),
            Ended::TimedOut => Some(format!("still running after {} s: killed", timeout.as_secs())),
            Ended::NotStarted(why) => Some(format!("could not be started: {why}")),
        }
    }
}

/// Reads `pipe` to its end, keeping the first [`CAPTURE`] bytes; sends (kept, whether more came).
fn capture(pipe: Option<impl Read + Send + 'static>) -> mpsc::Receiver<(Vec<u8>, bool)> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut more = false;
        if let Some(mut p) = pipe {
            let mut buf = [0u8; 8192];
            loop {
                match p.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let room = CAPTURE - kept.len();
                        kept.extend_from_slice(&buf[..n.min(room)]);
                        more |= n > room;
                    }
                }
            }
        }
        let _ = tx.send((kept, more));
    });
    rx
}

#[cfg(unix)]
fn kill_all(child: &mut std::process::Child) {
    // The command leads its own process group: kill the group, so what it started dies with it.
    if let Ok(pid) = i32::try_from(child.id()) {
        // SAFETY: kill has no memory-safety preconditions; a stale group id only fails with ESRCH.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
    let _ = child.kill();
}

#[cfg(not(unix))]
fn kill_all(child: &mut std::process::Child) {
    let _ = child.kill();
}

/// The process for `argv`: piped, leading its own process group, and without what this process holds
/// for itself ([`crate::child::without_passphrases`]: the passphrases that unlock keys, the exchange's
/// token, and git's variables, which carry that token as `GIT_CONFIG_*` in the CI recipes while `execute`
/// and `sync` notify).
fn command(argv: &[String]) -> Option<Command> {
    let (program, args) = argv.split_first()?;
    let mut cmd = crate::child::without_passphrases(program);
    cmd.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    Some(cmd)
}

/// Runs `argv` with `input` on stdin for at most `timeout`.
pub(crate) fn run(argv: &[String], input: &[u8], timeout: Duration) -> Ran {
    let started = Instant::now();
    let not_started = |why: String| Ran {
        ended: Ended::NotStarted(why),
        stdout: Vec::new(),
        stderr: Vec::new(),
        truncated: false,
        elapsed: started.elapsed(),
    };
    let Some(mut cmd) = command(argv) else { return not_started("the command is empty".into()) };
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return not_started(e.to_string()),
    };
    // Written from a thread: a command that never reads its stdin must not block this one.
    if let Some(mut stdin) = child.stdin.take() {
        let input = input.to_vec();
        std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
    }
    let out = capture(child.stdout.take());
    let err = capture(child.stderr.take());
    let deadline = started + timeout;
    let mut pause = Duration::from_millis(2);
    let ended = loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => break Ended::Ok,
            Ok(Some(status)) => break Ended::Failed(describe(status)),
            Ok(None) => {}
            Err(e) => {
                kill_all(&mut child);
                let _ = child.wait();
                break Ended::Failed(format!("cannot wait for it: {e}"));
            }
        }
        let now = Instant::now();
        if now >= deadline {
            kill_all(&mut child);
            let _ = child.wait();
            break Ended::TimedOut;
        }
        std::thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(50));
    };
    let grace = Instant::now() + GRACE;
    let take = |rx: mpsc::Receiver<(Vec<u8>, bool)>| {
        rx.recv_timeout(grace.saturating_duration_since(Instant::now())).unwrap_or_else(|_| (Vec::new(), true))
    };
    let (stdout, t1) = take(out);
    let (stderr, t2) = take(err);
    Ran { ended, stdout, stderr, truncated: t1 || t2, elapsed: started.elapsed() }
}

fn describe(status: std::process::ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exit status {code}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return format!("killed by signal {sig}");
        }
    }
    "ended without an exit status".into()
}

/// `dir/notify.log`.
pub(crate) fn log_path(dir: &Path) -> PathBuf {
    dir.join(LOG)
}

/// Appends one JSON line for a run to `dir/notify.log` (mode 0600), moving a full log to `notify.log.1`
/// first. A log that cannot be written costs the record, never the operation.
pub(crate) fn log(dir: &Path, event: &str, at: &str, argv: &[String], ran: &Ran) -> Result<(), String> {
    let path = log_path(dir);
    if std::fs::metadata(&path).is_ok_and(|m| m.len() > LOG_MAX) {
        let _ = std::fs::rename(&path, dir.join(format!("{LOG}.1")));
    }
    let (status, detail) = match &ran.ended {
        Ended::Ok => ("ok", None),
        Ended::Failed(why) => ("failed", Some(why.clone())),
        Ended::TimedOut => ("timeout", None),
        Ended::NotStarted(why) => ("not-started", Some(why.clone())),
    };
    let line = serde_json::json!({
        "at": at,
        "event": event,
        "command": argv,
        "status": status,
        "detail": detail,
        "elapsed_ms": u64::try_from(ran.elapsed.as_millis()).unwrap_or(u64::MAX),
        "stdout": String::from_utf8_lossy(&ran.stdout),
        "stderr": String::from_utf8_lossy(&ran.stderr),
        "truncated": ran.truncated,
    });
    let mut f = crate::paths::private_file_options()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    f.write_all(format!("{line}\n").as_bytes()).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn sh(script: &str) -> Vec<String> {
        vec!["/bin/sh".into(), "-c".into(), script.into()]
    }

    #[test]
    fn stdin_is_the_event_and_output_is_captured() {
        let ran = run(&sh("cat; echo oops >&2"), b"{\"event\":\"x\"}", Duration::from_secs(10));
        assert_eq!(ran.ended, Ended::Ok);
        assert_eq!(ran.stdout, b"{\"event\":\"x\"}");
        assert_eq!(ran.stderr, b"oops\n");
        assert!(!ran.truncated);
    }

    #[test]
    fn failures_are_described() {
        assert_eq!(run(&sh("exit 3"), b"", Duration::from_secs(10)).ended, Ended::Failed("exit status 3".into()));
        let missing = run(&["/nonexistent/page-oncall".to_string()], b"", Duration::from_secs(10));
        assert!(matches!(missing.ended, Ended::NotStarted(_)), "{missing:?}");
        assert!(missing.problem(Duration::from_secs(1)).unwrap().contains("could not be started"));
    }

    #[test]
    fn a_command_past_its_timeout_is_killed_with_what_it_started() {
        let t = Instant::now();
        // The shell starts a sleep that holds the output pipes: both die at the timeout.
        let ran = run(&sh("sleep 30; echo late"), b"", Duration::from_millis(300));
        assert_eq!(ran.ended, Ended::TimedOut);
        assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
        assert!(ran.stdout.is_empty());
    }

    #[test]
    fn output_is_bounded_and_stdin_unread_does_not_block() {
        let ran = run(&sh("head -c 200000 /dev/zero"), &vec![b'x'; 1 << 20], Duration::from_secs(20));
        assert_eq!(ran.ended, Ended::Ok);
        assert_eq!(ran.stdout.len(), CAPTURE);
        assert!(ran.truncated);
    }

    #[test]
    fn passphrases_and_the_exchange_token_are_withheld() {
        let cmd = command(&sh("true")).unwrap();
        let removed: Vec<_> = cmd.get_envs().filter(|(_, v)| v.is_none()).map(|(k, _)| k.to_owned()).collect();
        for v in ["ROLLCALL_PASSPHRASE", "ROLLCALL_ORIGIN_PASSPHRASE", crate::child::EXCHANGE_TOKEN] {
            assert!(removed.iter().any(|k| k == v), "{v}");
        }
        assert!(command(&[]).is_none());
    }

    #[test]
    fn the_log_is_json_lines_and_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let ran = run(&sh("echo hi"), b"", Duration::from_secs(10));
        log(dir.path(), "emergency.invoked", "2025-01-01T00:00:00Z", &sh("echo hi"), &ran).unwrap();
        log(dir.path(), "emergency.invoked", "2025-01-01T00:00:01Z", &sh("echo hi"), &ran).unwrap();
        let text = std::fs::read_to_string(log_path(dir.path())).unwrap();
        let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 2);
        assert_eq!((lines[0]["status"].as_str(), lines[0]["stdout"].as_str()), (Some("ok"), Some("hi\n")));
        let mode = std::fs::metadata(log_path(dir.path())).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
