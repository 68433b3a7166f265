//! The dispatcher: one exhaustive `match` over every command, each handled by the module of its area.
//! A new command does not compile until it has a handler here. Handlers call `workflow` and print
//! through `print`, `render` and `output`; none of them talks to the ledger's tables.

pub(crate) mod console;
pub(crate) mod decisions;
pub(crate) mod evidence;
pub(crate) mod governance;
pub(crate) mod keys;
pub(crate) mod ledger;
pub(crate) mod notify;
pub(crate) mod reconcile;
pub(crate) mod report;
pub(crate) mod requests;
pub(crate) mod sync;

use super::args::{Cli, Command};
use crate::workflow::{Context, WorkflowError};
use std::process::ExitCode;

/// Runs the parsed command line (a bare `rollcall` on a terminal opens the console).
pub(crate) fn run(cli: Cli) -> Result<ExitCode, WorkflowError> {
    let json = cli.json;
    let ctx = Context::from_env(cli.ledger)?;
    let Some(command) = cli.command else {
        use std::io::IsTerminal;
        if std::io::stdin().is_terminal() && std::io::stdout().is_terminal() {
            crate::tui::run(ctx, crate::tui::Options::default())?;
            return Ok(ExitCode::SUCCESS);
        }
        return Err(WorkflowError::Usage("no command given; see `rollcall --help`".into()));
    };
    let ctx = &ctx;
    let console = matches!(command, Command::Tui(_) | Command::Demo(_));
    if !console {
        // A console's screen is its own: only the other commands say why they wait, and leave a rebuild of
        // a large ledger's index to the background.
        crate::workflow::index_lock::on_wait(|| {
            crate::cli::output::note(
                "waiting for the request index: another rollcall process is bringing it up to date",
            )
        });
        crate::workflow::index::defer_rebuilds();
    }
    let done = dispatch(ctx, command, json);
    if !console {
        crate::cli::background::start_deferred();
    }
    done
}

fn dispatch(ctx: &Context, command: Command, json: bool) -> Result<ExitCode, WorkflowError> {
    match command {
        Command::Key { command } => keys::run(ctx, command, json),
        Command::Init(a) => ledger::init_or_join(ctx, a, json),
        Command::Note(a) => ledger::note(ctx, a, json),
        Command::Log(a) => ledger::log(ctx, a, json),
        Command::Verify(a) => ledger::verify(ctx, a, json),
        Command::Rebuild(a) => match &a.into {
            Some(into) => ledger::salvage(ctx, into, json),
            None => ledger::rebuild(ctx, a.if_behind, json),
        },
        Command::Request { command } => requests::request(ctx, *command, json),
        Command::List(a) => requests::list(ctx, a, json),
        Command::Show(a) => requests::show(ctx, a, json),
        Command::Gate(a) => requests::gate(ctx, a, json),
        Command::Obligations(a) => requests::obligations(ctx, a, json),
        Command::Approve(a) => decisions::approve(ctx, a, json),
        Command::Reject(a) => decisions::reject(ctx, a, json),
        Command::Emergency(a) => decisions::emergency(ctx, a, json),
        Command::Execute(a) => decisions::execute(ctx, a, json),
        Command::Validate(a) => decisions::validate(ctx, a, json),
        Command::Review(a) => decisions::review(ctx, a, json),
        Command::Close(a) => decisions::close(ctx, a, json),
        Command::Incident { command: super::args::IncidentCommand::Link(a) } => decisions::link_incident(ctx, a, json),
        Command::MarkBad(a) => decisions::mark_bad(ctx, a, json),
        Command::Evidence { command } => evidence::run(ctx, command, json),
        Command::Enroll(a) => governance::enroll(ctx, a, json),
        Command::Roles(a) => governance::roles(ctx, a, json),
        Command::Revoke(a) => governance::revoke(ctx, a, json),
        Command::Cosign(a) => governance::cosign(ctx, a, json),
        Command::Members => governance::members(ctx, json),
        Command::Policy { command } => governance::policy(ctx, command, json),
        Command::Acknowledge(a) => governance::acknowledge(ctx, a, json),
        Command::Export(a) => {
            sync::export(ctx, &a.out, a.since.as_deref(), a.no_blobs, a.zstd, a.signer.name.as_deref(), json)
        }
        Command::Import(a) => sync::import(ctx, &a.file, json),
        Command::Checkpoints(a) => sync::checkpoints(ctx, &a.out, json),
        Command::Sync(a) => sync::sync_git(ctx, &a.git, a.offline, a.pull_only, json),
        Command::Prove(a) => sync::prove(
            ctx,
            a.entry.as_deref(),
            &a.out,
            a.entry_out.as_deref(),
            a.consistency,
            a.origin.as_deref(),
            json,
        ),
        Command::VerifyProof(a) => sync::verify_proof(&a.file, a.entry_file.as_deref(), &a.keys, json),
        Command::Report(a) => report::report_command(ctx, a, json),
        Command::Timeline(a) => {
            report::timeline(ctx, a.req.as_deref(), a.incident.as_deref(), &a.format, a.bundle.as_deref(), json)
        }
        Command::Ingest(a) => ledger::ingest(ctx, a, json),
        Command::Reconcile(a) => reconcile::reconcile(ctx, a, json),
        Command::Notify { command } => notify::run(ctx, command, json),
        Command::Demo(a) => console::demo(ctx, a, json),
        Command::Tui(a) => console::tui(ctx, a, json),
    }
}
