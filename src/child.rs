//! Programs rollcall starts for its own work (git, the editor): a `Command` none of rollcall's variables
//! reach (`ROLLCALL_PASSPHRASE`, `ROLLCALL_ORIGIN_PASSPHRASE`, `ROLLCALL_HOME`, …). What a repository's
//! config, a hook, an editor plugin or a hostile argument makes such a program run must not read them.

use std::ffi::OsStr;
use std::process::Command;

/// `program` with every `ROLLCALL_*` variable of this process removed from its environment.
pub(crate) fn command(program: impl AsRef<OsStr>) -> Command {
    let mut c = Command::new(program);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("ROLLCALL_") {
            c.env_remove(&name);
        }
    }
    c
}

/// What a program rollcall ran printed: at most `cap` bytes of its output (`None` when it printed more, and
/// was killed), the first 64 KiB of its errors, and how it ended. Its errors are read on a thread of their
/// own while the output is read, so a program that fills the error pipe first never waits on rollcall.
pub(crate) struct Printed {
    pub(crate) stdout: Option<Vec<u8>>,
    pub(crate) stderr: Vec<u8>,
    pub(crate) status: std::process::ExitStatus,
}

/// Reads `child`'s output (spawned with both pipes) as [`Printed`] says.
pub(crate) fn read_capped(mut child: std::process::Child, cap: u64) -> std::io::Result<Printed> {
    use std::io::Read;
    let errors = child.stderr.take().map(|pipe| {
        std::thread::spawn(move || {
            let mut err = Vec::new();
            let mut pipe = pipe;
            let _ = (&mut pipe).take(64 * 1024).read_to_end(&mut err);
            // The rest is read and dropped, so the program is never left blocked on a full pipe.
            let _ = std::io::copy(&mut pipe, &mut std::io::sink());
            err
        })
    });
    let mut out = Vec::new();
    let read = match child.stdout.take() {
        Some(pipe) => pipe.take(cap.saturating_add(1)).read_to_end(&mut out).map(drop),
        None => Ok(()),
    };
    let over = out.len() as u64 > cap;
    if over || read.is_err() {
        let _ = child.kill();
    }
    let status = child.wait()?;
    let stderr = errors.and_then(|t| t.join().ok()).unwrap_or_default();
    read?;
    Ok(Printed { stdout: (!over).then_some(out), stderr, status })
}

/// Whether `s` is a full git object name (SHA-1 or SHA-256, lowercase hex), as `%H` and `%P` print them:
/// what a record of `git log` output must start with.
pub(crate) fn git_object_name(s: &str) -> bool {
    matches!(s.len(), 40 | 64) && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The variables that unlock keys: no program rollcall starts sees them, not even rollcall itself started
/// again for work that signs nothing.
pub(crate) const PASSPHRASES: [&str; 2] = ["ROLLCALL_PASSPHRASE", "ROLLCALL_ORIGIN_PASSPHRASE"];

/// The exchange's token as the CI recipes name it (examples/ci): a credential, withheld like the passphrases.
pub(crate) const EXCHANGE_TOKEN: &str = "ROLLCALL_EXCHANGE_TOKEN";

/// `program` without [`PASSPHRASES`], [`EXCHANGE_TOKEN`], the exchange's URL (`ROLLCALL_EXCHANGE`, which may
/// carry the token) and git's own variables (`GIT_*`: the recipes hand git the token through
/// `GIT_CONFIG_KEY_0`), keeping rollcall's other variables: rollcall run again for work
/// of its own that signs nothing and runs no git (the background index rebuild, which outlives the command
/// that started it, so that a CI job's later steps, the revert among them, could read its environment from
/// `/proc` as the same user).
pub(crate) fn without_passphrases(program: impl AsRef<OsStr>) -> Command {
    let mut c = Command::new(program);
    // The exchange's URL may carry its token (`https://user:TOKEN@…`), as the gate script's redaction knows.
    for name in PASSPHRASES.into_iter().chain([EXCHANGE_TOKEN, "ROLLCALL_EXCHANGE"]) {
        c.env_remove(name);
    }
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("GIT_") {
            c.env_remove(&name);
        }
    }
    c
}

#[cfg(test)]
mod tests {
    /// Output past the cap is refused (the program killed, not waited on to the end), and a program that
    /// writes more than a pipe's worth of errors before its output does not block.
    #[test]
    fn output_is_capped_and_errors_never_block() {
        let run = |script: &str| {
            let child = std::process::Command::new("sh")
                .args(["-c", script])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            super::read_capped(child, 1000).unwrap()
        };
        let p = run("head -c 200000 /dev/zero >&2; echo fine");
        assert_eq!(p.stdout.as_deref(), Some(&b"fine\n"[..]));
        assert_eq!(p.stderr.len(), 64 * 1024);
        assert!(p.status.success());
        let p = run("yes");
        assert!(p.stdout.is_none(), "more than the cap");
        assert!(!p.status.success(), "killed");
    }

    #[test]
    fn rollcall_run_again_keeps_its_variables_but_not_the_passphrases() {
        // SAFETY: as below; this variable is this test's own. (The passphrases themselves are not set in
        // this process: other tests read them. The child's environment says they are removed.)
        unsafe { std::env::set_var("ROLLCALL_CHILD_TEST_KEPT", "kept") };
        // SAFETY: as above; git's variables are read by no test of this crate (its git runs start from
        // `command`, whose environment is built apart).
        unsafe { std::env::set_var("GIT_CONFIG_KEY_97", "url.https://user:token@example.com/.insteadOf") };
        let mut c = super::without_passphrases("env");
        for name in super::PASSPHRASES.into_iter().chain([super::EXCHANGE_TOKEN]) {
            assert!(c.get_envs().any(|(k, v)| k == name && v.is_none()), "{name} removed");
        }
        let env = String::from_utf8_lossy(&c.output().expect("env runs").stdout).into_owned();
        assert!(env.contains("ROLLCALL_CHILD_TEST_KEPT=kept"), "{env}");
        assert!(!env.contains("GIT_CONFIG_KEY_97") && !env.contains("token@"), "{env}");
    }

    #[test]
    fn no_rollcall_variable_reaches_the_program() {
        // The test process has ROLLCALL_* set by nobody in particular: set one for the child to miss.
        // SAFETY: set_var is unsafe in edition 2024 (other threads may read the environment); this
        // variable is this test's own and nothing else reads it.
        unsafe { std::env::set_var("ROLLCALL_CHILD_TEST_SECRET", "s3cret") };
        let out = super::command("env").output().expect("env runs");
        let env = String::from_utf8_lossy(&out.stdout);
        assert!(!env.contains("ROLLCALL_"), "{env}");
        assert!(env.contains("PATH="), "the rest of the environment is kept: {env}");
    }
}
