//! The request index's catch-up in a process of its own. An import or a join that leaves a rebuild of
//! the index (`workflow::index::refresh_or_defer`) returns as soon as its entries are committed; the
//! command line then starts `rollcall --ledger L rebuild --if-behind` detached from the terminal (its own
//! process group; its output and errors appended to `L-index.log`, private to the user, started afresh
//! once it passes 1 MiB), and a reader that needs the index meanwhile waits for it
//! (`workflow::index_lock`). When it cannot be started, the index is brought up to date before returning.

use crate::workflow::index::Upkeep;
use crate::workflow::{Context, WorkflowError};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// Where the request index stands once a command that may defer its rebuild returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Index {
    Current,
    /// Being rebuilt by the process with this id, which writes what it says to this log.
    Background(u32, PathBuf),
}

/// The background catch-up's log is started afresh when it has grown past this.
const LOG_LIMIT: u64 = 1 << 20;

impl Index {
    pub(crate) fn json(&self) -> serde_json::Value {
        match self {
            Index::Current => serde_json::json!({"state": "current"}),
            Index::Background(pid, log) => {
                serde_json::json!({"state": "background", "pid": pid, "log": log.display().to_string()})
            }
        }
    }

    /// The line telling the user, if there is anything to tell.
    pub(crate) fn say(&self) {
        if let Index::Background(pid, log) = self {
            crate::say!(
                "the request index is being rebuilt in the background (process {pid}, its output in {}); `list`, \
                 the console and `rollcall rebuild --if-behind` wait for it",
                crate::text::safe(&log.display().to_string())
            );
        }
    }
}

/// Starts the catch-up when `upkeep` left one; when it cannot be started, does it now.
pub(crate) fn catch_up(ctx: &Context, upkeep: Upkeep) -> Result<Index, WorkflowError> {
    if upkeep == Upkeep::Current {
        return Ok(Index::Current);
    }
    start_or_do_now(ctx)
}

/// Starts the rebuilds the command's writes left (`workflow::index::take_deferred`: a governance entry
/// appended to a large ledger), telling the user on stderr; one that cannot be started is done now.
pub(crate) fn start_deferred() {
    for ledger in crate::workflow::index::take_deferred() {
        match Context::from_env(Some(ledger)).and_then(|ctx| start_or_do_now(&ctx)) {
            Ok(Index::Background(pid, log)) => crate::cli::output::note(&format!(
                "the request index is being rebuilt in the background (process {pid}, its output in {}); `list` and \
                 the console wait for it",
                crate::text::safe(&log.display().to_string())
            )),
            Ok(Index::Current) => {}
            Err(e) => crate::cli::output::warn(&format!("the request index is not up to date: {e}")),
        }
    }
}

/// The catch-up of `ctx`'s ledger in the background, or, when no process can be started, now.
fn start_or_do_now(ctx: &Context) -> Result<Index, WorkflowError> {
    match start(&ctx.ledger_path) {
        Ok((pid, log)) => Ok(Index::Background(pid, log)),
        Err(_) => {
            crate::workflow::index::refresh(&ctx.open()?, crate::workflow::clock::now())?;
            Ok(Index::Current)
        }
    }
}

fn start(ledger: &Path) -> std::io::Result<(u32, PathBuf)> {
    let ledger = std::path::absolute(ledger)?;
    let log_path = crate::workflow::index_lock::log_path(&ledger);
    let mut log = open_log(&log_path)?;
    writeln!(
        log,
        "{} rollcall --ledger {} rebuild --if-behind (in the background, after a write)",
        crate::ledger::statement::format_ts(crate::workflow::clock::now()),
        ledger.display()
    )?;
    // It signs nothing: the passphrases of the command that started it stay behind.
    let mut cmd = crate::child::without_passphrases(std::env::current_exe()?);
    cmd.arg("--ledger")
        .arg(&ledger)
        .args(["rebuild", "--if-behind"])
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // Not in the terminal's foreground group: a Ctrl-C meant for the next command does not stop it.
        cmd.process_group(0);
    }
    Ok((cmd.spawn()?.id(), log_path))
}

/// The background catch-up's log, for appending: a regular file (a symbolic link or anything else put
/// there is refused, not followed), readable by its user only (an existing file's mode is set too), and
/// started afresh once it has grown past [`LOG_LIMIT`] (each run writes a few lines; a run that failed says
/// why at its end). Always opened for appending, so that a run still writing to it never writes over the
/// next one's lines.
fn open_log(path: &Path) -> std::io::Result<std::fs::File> {
    let mut opts = crate::paths::private_file_options();
    opts.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let log = opts.open(path)?;
    let meta = log.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::other(format!("{} is not a regular file", path.display())));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        log.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    if meta.len() > LOG_LIMIT {
        log.set_len(0)?;
    }
    Ok(log)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The log is appended to, private to its user, and started afresh once past its limit.
    #[test]
    fn the_log_is_appended_to_privately_and_started_afresh_past_its_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.db-index.log");
        writeln!(open_log(&path).unwrap(), "first").unwrap();
        writeln!(open_log(&path).unwrap(), "second").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "first\nsecond\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        std::fs::write(&path, vec![b'x'; LOG_LIMIT as usize + 1]).unwrap();
        writeln!(open_log(&path).unwrap(), "third").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "third\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // An existing file readable by others is made private; a link put there is not followed.
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            open_log(&path).unwrap();
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
            let other = dir.path().join("other");
            std::fs::write(&other, vec![b'y'; LOG_LIMIT as usize + 1]).unwrap();
            let link = dir.path().join("linked.log");
            std::os::unix::fs::symlink(&other, &link).unwrap();
            assert!(open_log(&link).is_err());
            assert_eq!(std::fs::metadata(&other).unwrap().len(), LOG_LIMIT + 1);
        }
    }
}
