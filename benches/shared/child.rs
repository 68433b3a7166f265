//! Runs the real `rollcall` binary in a child process and reports its wall time and peak resident memory
//! as the kernel counts it for `ps` and `/usr/bin/time` (file-backed pages included).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

/// What one run of the binary took.
pub struct Run {
    pub secs: f64,
    /// Peak resident set size in MB (`ru_maxrss` from `wait4`). Linux counts in it the resident memory
    /// of this process when it started the child (the high-water mark survives the `exec`), so the
    /// figure is the child's own only while this process holds less: benchmarks build their ledgers in a
    /// child process for that reason (see `demo_ledger`).
    pub peak_mb: f64,
    pub success: bool,
    pub stdout: String,
}

/// Runs `rollcall ARGS` with `ROLLCALL_HOME=home`, output captured.
#[allow(dead_code)] // not every benchmark that includes this file calls both
pub fn rollcall(home: &Path, args: &[&str]) -> Run {
    rollcall_with(home, &[], args)
}

/// [`rollcall`] with more environment variables (`envs`) set for the child.
pub fn rollcall_with(home: &Path, envs: &[(&str, &str)], args: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rollcall"));
    cmd.args(args).env("ROLLCALL_HOME", home).envs(envs.iter().copied()).stdout(Stdio::piped()).stderr(Stdio::null());
    let t = Instant::now();
    // Reaped by wait4 below, which also returns its resource usage (std's wait does not).
    #[allow(clippy::zombie_processes)]
    let child = cmd.spawn().expect("start rollcall");
    let pid = child.id() as libc::pid_t;
    let mut out = child.stdout.expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut out, &mut s);
        s
    });
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value; wait4 writes into the two locals it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our own child, not yet waited for; the pointers are to live locals.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(waited, pid, "wait for rollcall");
    let stdout = reader.join().unwrap_or_default();
    Run {
        secs,
        peak_mb: usage.ru_maxrss as f64 / 1024.0,
        success: libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        stdout,
    }
}

/// Copies the directory tree `from` to `to` (directories 0700: the keystore refuses ones others may read).
#[allow(dead_code)] // not every benchmark that includes this file copies a tree
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    std::fs::set_permissions(to, std::os::unix::fs::PermissionsExt::from_mode(0o700)).expect("chmod");
    for e in std::fs::read_dir(from).expect("read dir") {
        let e = e.expect("entry");
        let target = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).expect("copy");
        }
    }
}
