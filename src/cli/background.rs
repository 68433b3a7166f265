//! The request index's catch-up in a process of its own. An import or a join that leaves a rebuild of
//! the index (`workflow::index::refresh_or_defer`) returns as soon as its entries are committed; the
//! command line then starts `rollcall --ledger L rebuild --if-behind` detached from the terminal (its own
//! process group, no standard streams), and a reader that needs the index meanwhile waits for it
//! (`workflow::index_lock`). When it cannot be started, the index is brought up to date before returning.

use crate::workflow::index::Upkeep;
use crate::workflow::{Context, WorkflowError};
use std::path::Path;
use std::process::{Command, Stdio};

/// Where the request index stands once a command that may defer its rebuild returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Index {
    Current,
    /// Being rebuilt by the process with this id.
    Background(u32),
}

impl Index {
    pub(crate) fn json(self) -> serde_json::Value {
        match self {
            Index::Current => serde_json::json!({"state": "current"}),
            Index::Background(pid) => serde_json::json!({"state": "background", "pid": pid}),
        }
    }

    /// The line telling the user, if there is anything to tell.
    pub(crate) fn say(self) {
        if let Index::Background(pid) = self {
            crate::say!(
                "the request index is being rebuilt in the background (process {pid}); `list`, the console and \
                 `rollcall rebuild --if-behind` wait for it"
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
            Ok(Index::Background(pid)) => crate::cli::output::note(&format!(
                "the request index is being rebuilt in the background (process {pid}); `list` and the console wait for it"
            )),
            Ok(Index::Current) => {}
            Err(e) => crate::cli::output::warn(&format!("the request index is not up to date: {e}")),
        }
    }
}

/// The catch-up of `ctx`'s ledger in the background, or, when no process can be started, now.
fn start_or_do_now(ctx: &Context) -> Result<Index, WorkflowError> {
    match start(&ctx.ledger_path) {
        Ok(pid) => Ok(Index::Background(pid)),
        Err(_) => {
            crate::workflow::index::refresh(&ctx.open()?, crate::workflow::clock::now())?;
            Ok(Index::Current)
        }
    }
}

fn start(ledger: &Path) -> std::io::Result<u32> {
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.arg("--ledger")
        .arg(std::path::absolute(ledger)?)
        .args(["rebuild", "--if-behind"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // Not in the terminal's foreground group: a Ctrl-C meant for the next command does not stop it.
        cmd.process_group(0);
    }
    Ok(cmd.spawn()?.id())
}
