//! The command-line grammar (clap derive): the `Command` enum, then one arguments struct per command,
//! which its handler in `commands/` takes whole.
//!
//! Longer than most files on purpose: it is the whole grammar with every flag's help text, read top to
//! bottom as the reference for `--help`; split by area it would scatter what a reader compares.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// rollcall — signed, tamper-evident records of why a deployed change was reverted, who decided and
/// who approved.
#[derive(Debug, Parser)]
#[command(
    name = "rollcall",
    version,
    about,
    long_about = None,
    propagate_version = true,
    help_template = "{about-with-newline}\n{usage-heading} {usage}\n\nOptions:\n{options}{after-help}",
    after_help = TOP_HELP
)]
pub(crate) struct Cli {
    /// The ledger file (default: ledger.db in ROLLCALL_HOME or the platform data directory).
    #[arg(long, global = true, env = "ROLLCALL_LEDGER", value_name = "PATH")]
    pub ledger: Option<PathBuf>,

    /// Print one JSON document on stdout instead of human-readable text.
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The commands by area, examples and the environment, under `rollcall --help` (a test checks that every
/// command is listed here).
pub(crate) const TOP_HELP: &str = "\
Commands, by area (rollcall COMMAND --help for each):
  Requests      request new|amend|withdraw, list, show, approve, reject, emergency, execute,
                validate, review, close, incident link, evidence add|show|export|purge, gate,
                obligations, mark-bad
  Console       tui (a bare `rollcall` on a terminal), demo
  People, keys  key new|list, enroll, roles, revoke, cosign, members
  Policy        policy adopt|show
  Ledger        init, note, log, verify, rebuild
  Sync, proofs  export, import, checkpoints, sync, prove, verify-proof, acknowledge
  CD tools      ingest, reconcile, log --follow, notify check|test (escalation: notify.toml)
  Reports       report, timeline

Examples:
  rollcall demo                                     a realistic ledger in the console
  rollcall request new --from-file request.json --as bob   fields in docs/FORMAT.md
  rollcall approve 5cacfd3b --comment \"graphs confirm it\" --as carol
  rollcall gate 5cacfd3b && helm rollback api 41    run the revert only if the policy allows
  rollcall --json verify                            the full verification report as JSON
  rollcall --json log --follow --after 212          every new entry, one JSON line each (log shippers)

Environment:
  ROLLCALL_HOME        keystore and default ledger directory
  ROLLCALL_LEDGER      the ledger file (as --ledger)
  ROLLCALL_KEY         the key that signs when --as is not given
  ROLLCALL_PASSPHRASE  the key's passphrase (one try; otherwise asked on the terminal, three tries)
  ROLLCALL_ORIGIN_PASSPHRASE  this machine's origin key's passphrase, when not the signer's (it is the
                              passphrase of whoever ran init: a second member signing here needs it)
  ROLLCALL_VERIFY_THREADS     threads for verify and import (default: one per core)
  ROLLCALL_NOW         pretend the clock says this RFC 3339 time (tests, demos; warned about)
  NO_COLOR             no colour in the console

Exit status: 0 ok; 1 a failed check (verify, gate, a refused signature or import); 2 bad usage or input.";

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Manage the keys in your keystore.
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Create a new ledger founded by an admin key.
    Init(InitArgs),
    /// Record a note in the ledger, or on a request.
    Note(NoteArgs),
    /// File, amend or withdraw rollback requests.
    Request {
        #[command(subcommand)]
        command: Box<RequestCommand>,
    },
    /// List requests, most recent first.
    List(ListArgs),
    /// Show one request: record, checklist, decisions, evidence, timeline.
    Show(ShowArgs),
    /// Approve a request: signs the version, revert operation, evidence and policy you reviewed.
    Approve(ApproveArgs),
    /// Reject a request.
    Reject(RejectArgs),
    /// Invoke the emergency (break-glass) path: the revert may run without approvals until it lapses
    /// (emergency.waives_for_hours); a review becomes due.
    #[command(after_help = "Until it lapses it waives the policy's approvals, required roles, evidence, window and a \
                      rejection that counts (not the request's state or a temporary revert's limit, nor what the \
                      gate checks beyond the policy: --env, --component, --to, copies, a missing change set, \
                      the clock); only the roles in the policy's \
                      emergency.may_invoke may invoke it (`rollcall policy show`). A post-hoc review by \
                      another member is then due (`rollcall obligations`).\n\nExample:\n  \
                      rollcall emergency 3f9a2c --reason \"checkout down for everyone, INC-4411\" --as erin")]
    Emergency(EmergencyArgs),
    /// Record that the revert ran, and its actual outcome.
    Execute(ExecuteArgs),
    /// Record post-rollback validation.
    Validate(ValidateArgs),
    /// Record a post-hoc (after an emergency) or post-incident review.
    Review(ReviewArgs),
    /// Close a request: rolled forward, made permanent, or superseded.
    Close(CloseArgs),
    /// Link incidents to requests.
    Incident {
        #[command(subcommand)]
        command: IncidentCommand,
    },
    /// Attach evidence to requests.
    Evidence {
        #[command(subcommand)]
        command: EvidenceCommand,
    },
    /// Enroll a person's key with roles (needs the policy's number of admin signatures).
    Enroll(EnrollArgs),
    /// Replace the roles of an enrolled person.
    Roles(RolesArgs),
    /// Revoke an enrolled person's key.
    Revoke(RevokeArgs),
    /// Co-sign a pending identity or policy change as another admin.
    Cosign(CosignArgs),
    /// List the people enrolled and pending identity or policy changes.
    Members,
    /// Adopt or show the policy.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Exit 0 when the policy lets the revert run now, 1 with the unmet requirements otherwise.
    #[command(
        override_usage = "rollcall gate [OPTIONS] <REQ>  |  rollcall gate [OPTIONS] --change <ID> --env <ENV>",
        after_help = "Exit status: 0 the revert may run now; 1 it may not (the unmet items are listed; by change, \
                      also when no request for the change is found), or the file is not the ledger --ledger-id \
                      names; 2 bad usage, no such request (by REQ) or no ledger.\n\n\
                      Examples:\n  \
                      rollcall gate 3f9a2c                                   by request\n  \
                      rollcall --json gate --change 4f1e2d3 --env production  by change (CI)\n  \
                      rollcall gate 3f9a2c --env production --component payments-api --to 41 --ledger-id ID"
    )]
    Gate(GateArgs),
    /// Open obligations: post-hoc reviews due (of emergencies and forks) and temporary reverts expiring.
    Obligations(ObligationsArgs),
    /// Rebuild the request index from the entries (waits for a rebuild another process has under way).
    Rebuild(RebuildArgs),
    /// Build a realistic demo ledger (people, forty requests in every state, evidence, a git repository)
    /// and open the console on it.
    Demo(DemoArgs),
    /// Open the review console (also what a bare `rollcall` runs on a terminal).
    Tui(TuiArgs),
    /// Record that a recorded equivocation (fork, rollback, or an entry copied into another log) was
    /// investigated: `verify` then reports it as acknowledged instead of failing. The evidence stays. Takes
    /// the admin or security-approver role.
    Acknowledge(AcknowledgeArgs),
    /// Record that a digest (image, artifact, revision) is bad: reverts that bring it back are flagged.
    MarkBad(MarkBadArgs),
    /// List the raw entries of a log in log order.
    Log(LogArgs),
    /// Verify every entry, signature, leaf, tree hash and checkpoint. Exit 0 intact, 1 on a failure.
    #[command(
        after_help = "Exit status: 0 intact; 1 a failure (or another ledger than --ledger-id names); 2 bad usage, or \
                      no ledger at the path.\n\nExamples:\n  \
                      rollcall verify\n  \
                      rollcall verify --bundle team.rollcall --ledger-id ID   an auditor's offline check"
    )]
    Verify(VerifyArgs),
    /// Write a bundle: this ledger's log and every mirror, with evidence and cosignatures.
    Export(ExportArgs),
    /// A governance report over a period: figures, tables, and the requests that broke policy or are
    /// overdue, with the ledger, checkpoints and verification verdict it rests on.
    #[command(
        after_help = "Writing a report is recorded as an audit.read entry when the policy's audit.record_reads is on \
                      (the default), so it asks for a key (--as NAME); `--bundle F` reads a bundle and records \
                      nothing.\n\nExamples:\n  \
                      rollcall report --since 2026-11-01 --until 2026-12-01 --as grace > november.md\n  \
                      rollcall report --env production --format csv --out prod.csv --as grace\n  \
                      rollcall report --bundle team.rollcall --format json"
    )]
    Report(ReportArgs),
    /// The decision timeline of a request, or of every request of an incident, with the latencies between
    /// decisions (Markdown for a post-mortem, or JSON).
    Timeline(TimelineArgs),
    /// Record a CD tool's deployment history as signed deployment.observed entries (rollbacks marked;
    /// re-ingesting records nothing twice). SOURCE: helm (`helm history RELEASE -o json`), kubernetes
    /// (`kubectl get replicasets -o json`, or controllerrevisions), argocd (`argocd app get APP -o json`),
    /// github (GET /repos/{owner}/{repo}/deployments), gitlab (GET /projects/:id/deployments), git (a
    /// repository directory: its revert commits).
    Ingest(IngestArgs),
    /// Match the rollbacks the CD tools observed (`ingest`) with the requests: list those with no request
    /// (unrecorded), with a request not cleared when they ran (unauthorized), and executed requests no
    /// ingested history shows (unconfirmed). Exit 0 when all match, 1 otherwise.
    Reconcile(ReconcileArgs),
    /// Escalation: run the commands `notify.toml` (in the config directory) maps events to. `check`
    /// notifies overdue reviews and unrecorded or unauthorized rollbacks not notified yet (for cron);
    /// `test EVENT` sends a sample event.
    Notify {
        #[command(subcommand)]
        command: NotifyCommand,
    },
    /// Verify a bundle and add what it carries that this ledger lacks (refused whole if anything is wrong).
    Import(ImportArgs),
    /// Write the latest checkpoint of every origin held, for a peer's `export --since`.
    Checkpoints(CheckpointsArgs),
    /// Exchange bundles through a git working copy: pull, import every peer's bundle, write this
    /// ledger's bundle, commit and push.
    Sync(SyncArgs),
    /// Write a C2SP tlog-proof of one entry (or, with --consistency, between two checkpoints of a log).
    Prove(ProveArgs),
    /// Check a proof written by `rollcall prove` with nothing else: exit 0 valid, 1 invalid.
    VerifyProof(VerifyProofArgs),
}

/// The signing key.
#[derive(Debug, clap::Args)]
pub(crate) struct Signer {
    /// Key that signs (default: ROLLCALL_KEY, or the only key in the keystore).
    #[arg(long = "as", id = "signer", value_name = "NAME")]
    pub name: Option<String>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum RequestCommand {
    /// File a rollback request. Required: title, change, category, rationale, impact, component, env,
    /// revert-cmd, from, to, risk (as flags or in --from-file).
    New(RequestNewArgs),
    /// Amend a request: the fields given replace the current ones; earlier decisions no longer count.
    Amend(RequestAmendArgs),
    /// Withdraw a request.
    Withdraw(RequestWithdrawArgs),
}

/// Every field of the rollback record, grouped in `--help` as the record is: what is required, the
/// context, the revert's lineage, its side effects.
#[derive(Clone, Debug, Default, clap::Args)]
pub(crate) struct RecordArgs {
    /// One line saying what is reverted and why (required).
    #[arg(long, help_heading = "Required fields (or in --from-file)")]
    pub title: Option<String>,
    /// Id of the original change being reverted: commit, deploy, change request (required).
    #[arg(long, value_name = "ID", help_heading = "Required fields (or in --from-file)")]
    pub change: Option<String>,
    /// Ticket in your tracker (OPS-123).
    #[arg(long, help_heading = "Context")]
    pub ticket: Option<String>,
    /// Incident id the revert answers (INC-42).
    #[arg(long, help_heading = "Context")]
    pub incident: Option<String>,
    /// Why the change is reverted (required).
    #[arg(long, help_heading = "Required fields (or in --from-file)", value_parser = ["security-patch", "critical-bug", "performance-regression", "data-integrity", "compliance", "other"])]
    pub category: Option<String>,
    /// What went wrong and why reverting is the answer (required).
    #[arg(long, help_heading = "Required fields (or in --from-file)")]
    pub rationale: Option<String>,
    /// Anticipated user impact of the revert (required).
    #[arg(long, help_heading = "Required fields (or in --from-file)")]
    pub impact: Option<String>,
    /// An affected component (repeatable; at least one required).
    #[arg(long = "component", value_name = "NAME", help_heading = "Required fields (or in --from-file)")]
    pub components: Vec<String>,
    /// The environment the revert is applied to (required).
    #[arg(long, value_name = "ENV", help_heading = "Required fields (or in --from-file)")]
    pub env: Option<String>,
    /// Where the problem was found (default: --env).
    #[arg(long, value_name = "ENV", help_heading = "Context")]
    pub origin_env: Option<String>,
    /// A service the revert may cascade to (repeatable).
    #[arg(long = "cascade", value_name = "SERVICE", help_heading = "Context")]
    pub cascades: Vec<String>,
    /// The exact revert command line, split like a shell would without expansions (required).
    #[arg(long, value_name = "CMD", help_heading = "Required fields (or in --from-file)")]
    pub revert_cmd: Option<String>,
    /// The revision or digest deployed now (required).
    #[arg(long, value_name = "REV", help_heading = "Required fields (or in --from-file)")]
    pub from: Option<String>,
    /// The revision or digest to return to (required).
    #[arg(long, value_name = "REV", help_heading = "Required fields (or in --from-file)")]
    pub to: Option<String>,
    /// Declared risk; the security analysis may raise it (required).
    #[arg(long, help_heading = "Required fields (or in --from-file)", value_parser = ["low", "medium", "high", "critical"])]
    pub risk: Option<String>,
    /// Security implications.
    #[arg(long, help_heading = "Context")]
    pub security: Option<String>,
    /// A commit the revert undoes (repeatable).
    #[arg(long = "commit", value_name = "SHA", help_heading = "Lineage")]
    pub commits: Vec<String>,
    /// A build artifact the revert removes or brings back (repeatable).
    #[arg(long = "artifact", value_name = "ID", help_heading = "Lineage")]
    pub artifacts: Vec<String>,
    /// A container image digest involved (repeatable; a digest marked bad raises a flag).
    #[arg(long = "image", value_name = "DIGEST", help_heading = "Lineage")]
    pub images: Vec<String>,
    /// An infrastructure-as-code file the revert touches (repeatable).
    #[arg(long = "iac", value_name = "FILE", help_heading = "Lineage")]
    pub iac: Vec<String>,
    /// A feature flag the revert flips (repeatable).
    #[arg(long = "feature-flag", value_name = "FLAG", help_heading = "Lineage")]
    pub feature_flags: Vec<String>,
    /// A deployment manifest the revert applies (repeatable).
    #[arg(long = "manifest", value_name = "FILE", help_heading = "Lineage")]
    pub manifests: Vec<String>,
    /// Release notes of the reverted change (repeatable).
    #[arg(long = "release-notes", value_name = "REF", help_heading = "Lineage")]
    pub release_notes: Vec<String>,
    /// How the revert will be checked once it ran.
    #[arg(long, help_heading = "Context")]
    pub test_plan: Option<String>,
    /// How the change comes back fixed (the roll-forward).
    #[arg(long, help_heading = "Context")]
    pub roll_forward_plan: Option<String>,
    /// For a temporary revert: when it must be rolled forward or made permanent (RFC 3339).
    #[arg(long, value_name = "TIME", help_heading = "Context")]
    pub temporary_until: Option<String>,
    /// A migration the revert runs or undoes (repeatable).
    #[arg(long = "migration", value_name = "TEXT", help_heading = "Side effects")]
    pub migrations: Vec<String>,
    /// A destructive step (repeatable).
    #[arg(long = "destructive", value_name = "TEXT", help_heading = "Side effects")]
    pub destructive: Vec<String>,
    /// When the original change was deployed (RFC 3339).
    #[arg(long, value_name = "TIME", help_heading = "Context")]
    pub deployed_at: Option<String>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum IncidentCommand {
    /// Link a request to an incident.
    Link(IncidentLinkArgs),
}

#[derive(Debug, Subcommand)]
pub(crate) enum EvidenceCommand {
    /// Attach a file (stored by SHA-256) or a link to a request.
    Add(EvidenceAddArgs),
    /// Print an evidence file, recognised and rendered (JUnit failures, SARIF findings, text).
    ///
    /// Without options: a summary and the first 64 KiB of the text; --page N and --raw read all of it. Text
    /// is always sanitized: control, bidi and zero-width characters are printed as <U+XXXX>, never sent to
    /// the terminal.
    #[command(
        after_help = "Examples:\n  rollcall evidence show 3f9a2c --page 2      the second 64 KiB of the file as text\n  \
                            rollcall evidence show 3f9a2c --page last   the end of a log\n  \
                            rollcall evidence show 3f9a2c --raw | less  all of it, through a pager\n  \
                            rollcall evidence export 3f9a2c --out f     the exact bytes"
    )]
    Show(EvidenceShowArgs),
    /// Write the original bytes of an evidence file (digest checked).
    Export(EvidenceExportArgs),
    /// Remove an evidence file's bytes (secrets, personal data) with a signed entry; its digest stays.
    Purge(EvidencePurgeArgs),
}

/// A page of `evidence show --page`: a number from 1, or the last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PageArg {
    Number(u64),
    Last,
}

fn parse_page(s: &str) -> Result<PageArg, String> {
    match s {
        "last" => Ok(PageArg::Last),
        // 0 is refused when the command runs, on one line.
        n => n.parse::<u64>().map(PageArg::Number).map_err(|_| "give a page number (from 1) or `last`".into()),
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum PolicyCommand {
    /// Adopt a new policy version (needs the admin threshold).
    Adopt(PolicyAdoptArgs),
    /// Print the policy in force.
    Show,
}

#[derive(Debug, Subcommand)]
pub(crate) enum KeyCommand {
    /// Generate a new Ed25519 key, encrypted with a passphrase (ROLLCALL_PASSPHRASE or a prompt).
    New(KeyNewArgs),
    /// List the keys in the keystore.
    List,
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_is_well_formed() {
        <super::Cli as clap::CommandFactory>::command().debug_assert();
    }
}

// The arguments of each command, one struct per command (the handler in `commands/` takes it whole).

#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// Name of the key (in your keystore) of the founding admin.
    #[arg(long, value_name = "NAME", required_unless_present = "join", conflicts_with = "join")]
    pub admin: Option<String>,
    /// Join the ledger of this bundle as a new origin (this machine's own log) instead of founding one.
    #[arg(long, value_name = "BUNDLE", requires = "member", conflicts_with = "policy")]
    pub join: Option<PathBuf>,
    /// With --join: the enrolled member (a key in your keystore) who declares this machine's origin.
    #[arg(long = "as", id = "member", value_name = "NAME")]
    pub member: Option<String>,
    /// Name of this machine's log (default: rollcall/<host>-<random>).
    #[arg(long, value_name = "ORIGIN")]
    pub origin: Option<String>,
    /// With --join: the id of the ledger to join (64 hex characters, as `rollcall verify` prints it); a
    /// bundle of any other ledger is refused. A machine that joins from a shared place (a CI job from the
    /// git exchange) should always give it.
    #[arg(long, value_name = "ID", requires = "join")]
    pub ledger_id: Option<String>,
    /// Policy to adopt (default: the built-in policy in assets/policy.toml).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct NoteArgs {
    /// The text to record.
    pub text: String,
    /// The request the note is about.
    #[arg(long, value_name = "REQ")]
    pub on: Option<String>,
    #[command(flatten)]
    pub signer: Signer,
}

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// Only requests with this status (pending, approved, rejected, withdrawn, emergency, executed,
    /// failed, validated, review-due, reviewed, closed), or `open`: pending, approved, emergency,
    /// review-due and failed, as the console's queue lists them.
    #[arg(long, value_name = "S")]
    pub status: Option<String>,
    /// Only requests for this environment.
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,
    /// Only requests of this risk tier.
    #[arg(long, value_name = "TIER")]
    pub risk: Option<String>,
    /// Only requests with security flags.
    #[arg(long)]
    pub flagged: bool,
    /// Most rows to show.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
}

#[derive(Debug, Args)]
pub(crate) struct ShowArgs {
    /// Request id (a unique prefix of at least 4 hex characters).
    pub req: String,
}

#[derive(Debug, Args)]
pub(crate) struct ApproveArgs {
    /// The request (its id or a unique prefix of it).
    pub req: String,
    /// Why you approve: what you checked (required; signed with the approval).
    #[arg(long)]
    pub comment: String,
    #[command(flatten)]
    pub signer: Signer,
}

#[derive(Debug, Args)]
pub(crate) struct RejectArgs {
    /// The request (its id or a unique prefix of it).
    pub req: String,
    /// Why you reject (required; signed with the rejection).
    #[arg(long)]
    pub comment: String,
    #[command(flatten)]
    pub signer: Signer,
}

#[derive(Debug, Args)]
pub(crate) struct EmergencyArgs {
    /// The request (its id or a unique prefix of it).
    pub req: String,
    /// Why the revert cannot wait for approvals (required; the post-hoc review reads it).
    #[arg(long)]
    pub reason: String,
    #[command(flatten)]
    pub signer: Signer,
}

#[derive(Debug, Args)]
pub(crate) struct ExecuteArgs {
    /// The request (its id or a unique prefix of it).
    pub req: String,
    /// What actually happened when the revert ran.
    #[arg(long, value_enum)]
    pub outcome: OutcomeArg,
    /// File with the captured output; its SHA-256 is recorded.
    #[arg(long, value_name = "F")]
    pub output_file: Option<PathBuf>,
    /// The exact command run (default: the approved revert operation).
    #[arg(long, value_name = "CMD")]
    pub command: Option<String>,
    /// Where it ran (default: the request's environment).
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,
    /// The component it rolled back: refused unless the request lists it (a CD tool that knows which
    /// release or application it rolled back).
    #[arg(long, value_name = "NAME")]
    pub component: Option<String>,
    /// What the operator saw (optional).
    #[arg(long)]
    pub notes: Option<String>,
    #[command(flatten)]
    pub signer: Signer,
}

#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    /// The request (its id or a unique prefix of it).
    pub req: String,
    /// Whether the service is healthy after the revert.
    #[arg(long, value_enum)]
    pub result: ResultArg,
    /// A check and its result, NAME=pass or NAME=fail (repeatable).
    #[arg(long = "check", value_name = "NAME=RESULT")]
    pub checks: Vec<String>,
    /// A file with the validation output, attached as evidence.
    #[arg(long, value_name = "F")]
    pub evidence: Option<PathBuf>,
    /// What was checked (optional).
    #[arg(long)]
    pub notes: Option<String>,
    #[command(flatten)]
    pub signer: Signer,
}

#[derive(Debug, Args)]
pub(crate) struct ReviewArgs {
    /// The request (its id or a unique prefix of it).
    pub req: String,
    /// The review's findings (required).
    #[arg(long)]
    pub summary: String,
    /// A lesson learned (repeatable).
    #[arg(long = "lesson", value_name = "TEXT")]
    pub lessons: Vec<String>,
    /// post-hoc (owed after an emergency) or post-incident.
    #[arg(long, value_enum, default_value = "post-hoc")]
    pub kind: ReviewKindArg,
    #[command(flatten)]
    pub signer: Signer,
}

#[derive(Debug, Args)]
pub(crate) struct CloseArgs {
    /// The request (its id or a unique prefix of it).
    pub req: String,
    /// How the revert ended: made permanent, rolled forward, or superseded.
    #[arg(long, value_enum)]
    pub resolution: ResolutionArg,
    /// The request that supersedes this one.
    #[arg(long, value_name = "REQ")]
    pub superseded_by: Option<String>,
    /// Why (required).
    #[arg(long)]
    pub comment: String,
    #[command(flatten)]
    pub signer: Signer,
}

#[derive(Debug, Args)]
pub(crate) struct EnrollArgs {
    /// The person's name, as the ledger will show it.
    pub name: String,
    /// Their public key (`rollcall key list` on their machine prints it).
    #[arg(long, value_name = "KEY")]
    pub pubkey: String,
    /// A role (repeatable).
    #[arg(long = "role", value_name = "ROLE", required = true)]
    pub roles: Vec<String>,
    #[command(flatten)]
    pub signer: Signer,
}

#[derive(Debug, Args)]
pub(crate) struct RolesArgs {
    /// The enrolled person.
    pub name: String,
    /// A role (repeatable): the new set replaces the old one.
    #[arg(long = "role", value_name = "ROLE", required = true)]
    pub roles: Vec<String>,
    #[command(flatten)]
    pub signer: Signer,
}

#[derive(Debug, Args)]
pub(crate) struct RevokeArgs {
    /// The enrolled person whose key stops counting.
    pub name: String,
    /// Why (required; lost laptop, left the team).
    #[arg(long)]
    pub reason: String,
    #[command(flatten)]
    pub signer: Signer,
}

#[derive(Debug, Args)]
pub(crate) struct CosignArgs {
    /// The pending change's entry id (a unique prefix).
    pub entry: String,
    #[command(flatten)]
    pub signer: Signer,
}

#[derive(Debug, Args)]
pub(crate) struct GateArgs {
    /// The request (its id or a unique prefix of it).
    #[arg(required_unless_present = "change", conflicts_with = "change")]
    pub req: Option<String>,
    /// Instead of REQ: the change the revert undoes, as requests record it (a commit id, a deploy id).
    /// The gate passes when a request to revert it in --env lets the revert run now.
    #[arg(long, value_name = "ID", requires = "env")]
    pub change: Option<String>,
    /// The environment the revert runs in. With --change: which requests count. With REQ: the gate
    /// blocks unless the request is for it (checklist item `environment`; compared as the policy compares
    /// environments, without case and surrounding spaces).
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,
    /// The component the revert rolls back (a Helm release, an Argo CD application): the gate blocks
    /// unless the request lists it (checklist item `component`).
    #[arg(long, value_name = "NAME")]
    pub component: Option<String>,
    /// The revision the revert returns to (a commit id, a Helm revision, a tag): the gate blocks unless it
    /// is the request's target, `revert.to` (checklist item `target`; a commit id matches its abbreviation
    /// of 16 or more hex digits, numbers ignore leading zeros; a branch or tag name matches only itself, wherever it
    /// points: give a commit id). For a job that knows where it rolls back to.
    #[arg(long, value_name = "REV")]
    pub to: Option<String>,
    /// The id of the ledger the gate must answer from (64 hex characters, as `rollcall verify` prints it):
    /// another ledger's file is refused (exit 1, no verdict). A CI job should always give it.
    #[arg(long, value_name = "ID")]
    pub ledger_id: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct ObligationsArgs {
    /// Only the overdue ones.
    #[arg(long)]
    pub overdue: bool,
}

#[derive(Debug, Args)]
pub(crate) struct RebuildArgs {
    /// Only bring the index up to date: rebuild it only when it is behind in a way only a rebuild mends (what
    /// `import` and `init --join` start in the background after a large import).
    #[arg(long, conflicts_with = "into")]
    pub if_behind: bool,
    /// Copy the ledger's record (its entries, logs, checkpoints, cosignatures and evidence) into a new
    /// ledger file at PATH, build its request index there and verify it, without writing to the ledger:
    /// for a file whose request index is damaged beyond a rebuild in place ("ledger is damaged" while
    /// `verify` finds the entries intact).
    #[arg(long, value_name = "PATH")]
    pub into: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Where to build it (default: a new directory under the system temp dir).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Add this many synthetic requests (for load tests).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub scale: usize,
    /// Build it and print where, without opening the console.
    #[arg(long)]
    pub no_tui: bool,
}

#[derive(Debug, Args)]
pub(crate) struct TuiArgs {
    /// Browse and verify only: every action is hidden.
    #[arg(long)]
    pub read_only: bool,
    /// Browse this bundle read-only (verified first; no ledger is touched).
    #[arg(long, value_name = "FILE")]
    pub bundle: Option<PathBuf>,
    /// The key that signs (default: ROLLCALL_KEY, or the only key in the keystore).
    #[arg(long = "as", value_name = "NAME")]
    pub signer: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct AcknowledgeArgs {
    /// The evidence digest `rollcall verify` prints (at least 8 hex characters).
    pub evidence: String,
    /// What the investigation found (required, at most 2000 characters).
    #[arg(long)]
    pub finding: String,
    #[command(flatten)]
    pub signer: Signer,
}

#[derive(Debug, Args)]
pub(crate) struct MarkBadArgs {
    /// The bad digest (image sha256:…, artifact, git revision).
    pub digest: String,
    /// Why it is bad (required).
    #[arg(long)]
    pub reason: String,
    #[command(flatten)]
    pub signer: Signer,
}

#[derive(Debug, Args)]
pub(crate) struct LogArgs {
    /// Which origin's log (default: this ledger's own).
    #[arg(long, value_name = "ORIGIN")]
    pub origin: Option<String>,
    /// First index to show.
    #[arg(long, default_value_t = 0, value_name = "INDEX")]
    pub from: u64,
    /// Most entries to show.
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
    /// Stream every entry of every log as it arrives in this file, one line each (with --json one JSON
    /// object per line, for Vector, Fluent Bit or any log shipper), and keep waiting for new ones.
    #[arg(long)]
    pub follow: bool,
    /// Stream the entries that arrived after this one (the `seq` of the last line a shipper forwarded;
    /// local to this ledger file), then stop unless --follow.
    #[arg(long, value_name = "SEQ", conflicts_with_all = ["origin", "from", "limit"])]
    pub after: Option<u64>,
    /// With --follow or --after: only entries of this kind (repeat for several).
    #[arg(long, value_name = "KIND")]
    pub kind: Vec<String>,
    /// With --follow or --after: only this request and the entries that refer to it.
    #[arg(long, value_name = "REQUEST")]
    pub request: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// Verify this bundle on its own (read-only; no ledger is touched).
    #[arg(long, value_name = "FILE")]
    pub bundle: Option<PathBuf>,
    /// The id of the ledger this must be (64 hex characters, as `rollcall verify` prints it): any other
    /// ledger fails (exit 1), however intact. A bundle or file made from someone's own genesis verifies on
    /// its own; an auditor pins the team's id.
    #[arg(long, value_name = "ID")]
    pub ledger_id: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// Bundle file to write (created 0600).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Only what the holder of these checkpoints lacks (a file from `rollcall checkpoints`, or a
    /// bundle they sent).
    #[arg(long, value_name = "FILE")]
    pub since: Option<PathBuf>,
    /// Leave out evidence files.
    #[arg(long)]
    pub no_blobs: bool,
    /// Compress with zstd (also chosen by an .zst extension; import detects it).
    #[arg(long)]
    pub zstd: bool,
    /// Who exports (the export is recorded when the policy's audit.record_reads is on).
    #[command(flatten)]
    pub signer: Signer,
}

#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    /// Markdown, JSON or CSV.
    #[arg(long, default_value = "md", value_parser = ["md", "json", "csv"])]
    pub format: String,
    /// First day (YYYY-MM-DD or RFC 3339) of requests to include.
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Day after the last (YYYY-MM-DD or RFC 3339).
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
    /// Only requests for this environment.
    #[arg(long)]
    pub env: Option<String>,
    /// Only requests touching this component.
    #[arg(long)]
    pub component: Option<String>,
    /// Write it here instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Report on this bundle (read-only; nothing is recorded).
    #[arg(long, value_name = "FILE")]
    pub bundle: Option<PathBuf>,
    /// Who reads (the read is recorded when the policy's audit.record_reads is on).
    #[command(flatten)]
    pub signer: Signer,
}

#[derive(Debug, Args)]
pub(crate) struct IngestArgs {
    /// The tool the history comes from.
    #[arg(value_parser = ["helm", "kubernetes", "argocd", "github", "gitlab", "git"])]
    pub source: String,
    /// The file holding its output (`helm history RELEASE -o json > history.json`, `kubectl get
    /// replicasets -o json`, `argocd app get APP -o json`, the deployments JSON of GitHub's or GitLab's REST
    /// API), or for git the repository directory.
    pub input: PathBuf,
    /// The environment the history is of (production, staging, …). Required for helm and git; otherwise
    /// taken from the input (the namespace for kubernetes and argocd, which it renames; for github and
    /// gitlab, only that environment's deployments are read).
    #[arg(long)]
    pub env: Option<String>,
    /// The component (service) it deployed; for Helm, the release. Required for helm, gitlab and git;
    /// otherwise taken from the input (the owning workload, the Application, the repository); for
    /// kubernetes, only the workload of that name is read.
    #[arg(long)]
    pub component: Option<String>,
    #[command(flatten)]
    pub signer: Signer,
}

#[derive(Debug, Args)]
pub(crate) struct ReconcileArgs {
    /// Only rollbacks and executions from this day (YYYY-MM-DD or RFC 3339).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Only this environment.
    #[arg(long)]
    pub env: Option<String>,
    /// Only this component.
    #[arg(long)]
    pub component: Option<String>,
    /// How many hours apart a rollback and its request (filed or executed) may be.
    #[arg(long, value_name = "HOURS", default_value_t = 72, value_parser = clap::value_parser!(i64).range(1..=8760))]
    pub window: i64,
}

/// `notify check | test EVENT`.
#[derive(Debug, Subcommand)]
pub(crate) enum NotifyCommand {
    /// Notify each overdue review and unrecorded or unauthorized rollback that its commands were not told
    /// of yet (remembered in notify.state). Exit 1 when a command failed (it is retried next time).
    Check,
    /// Send a sample EVENT to the commands mapped to it: emergency.invoked, gate.bypassed,
    /// security.equivocation, review.overdue, rollback.unrecorded, rollback.unauthorized.
    Test {
        /// The event's name.
        event: String,
    },
}

#[derive(Debug, Args)]
pub(crate) struct TimelineArgs {
    /// The request (a unique id prefix).
    #[arg(required_unless_present = "incident")]
    pub req: Option<String>,
    /// Every request linked to this incident instead of one request.
    #[arg(long, conflicts_with = "req")]
    pub incident: Option<String>,
    /// Markdown (for a post-mortem) or JSON.
    #[arg(long, default_value = "md", value_parser = ["md", "json"])]
    pub format: String,
    /// Read this bundle (read-only).
    #[arg(long, value_name = "FILE")]
    pub bundle: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// The bundle to import (checked whole before anything is written).
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct CheckpointsArgs {
    /// File to write (required).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct SyncArgs {
    /// The git working copy (its remote is the exchange).
    #[arg(long, value_name = "DIR")]
    pub git: PathBuf,
    /// Do not pull or push (work on the local copy only).
    #[arg(long)]
    pub offline: bool,
    /// Only take the other machines' bundles: pull and import them; write, commit and push nothing (an
    /// auditor's copy, or a gate job with read access to the exchange only).
    #[arg(long)]
    pub pull_only: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ProveArgs {
    /// The entry (a unique id prefix).
    #[arg(required_unless_present = "consistency")]
    pub entry: Option<String>,
    /// File to write the proof to (required).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Also write the entry's statement bytes here (default: <out>.entry).
    #[arg(long, value_name = "FILE")]
    pub entry_out: Option<PathBuf>,
    /// Prove that this log grew from the checkpoint of size OLD to its latest one.
    #[arg(long, value_name = "OLD", conflicts_with = "entry")]
    pub consistency: Option<u64>,
    /// The origin whose log the consistency proof is about (default: this ledger's own).
    #[arg(long, value_name = "ORIGIN")]
    pub origin: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyProofArgs {
    /// The proof file `rollcall prove` wrote.
    pub file: PathBuf,
    /// The entry's statement bytes (for an inclusion proof).
    #[arg(long, value_name = "FILE")]
    pub entry_file: Option<PathBuf>,
    /// A trusted verifier key of the origin (as `rollcall init` prints it); without it the key in
    /// the proof is reported, not trusted.
    #[arg(long = "key", value_name = "VKEY")]
    pub keys: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct KeyNewArgs {
    /// Name for the key (letters, digits, '.', '_', '-').
    pub name: String,
}

#[derive(Debug, Args)]
pub(crate) struct RequestNewArgs {
    #[command(flatten)]
    pub record: RecordArgs,
    /// Read the record from a JSON file (see docs/FORMAT.md); flags given too override its fields.
    #[arg(long, value_name = "F.json")]
    pub from_file: Option<PathBuf>,
    /// Read the revert from this git repository (with --revert): commits, files, hunks, the
    /// `git revert` command, components.
    #[arg(long, value_name = "REPO", requires = "revert")]
    pub from_git: Option<PathBuf>,
    /// The commit (or range A..B) the revert undoes, with --from-git.
    #[arg(long, value_name = "COMMIT", requires = "from_git")]
    pub revert: Option<String>,
    /// A unified diff of what the revert does, for sources other than git.
    #[arg(long, value_name = "F", conflicts_with = "from_git")]
    pub diff: Option<PathBuf>,
    /// Fill environment, component, from/to, change id, deploy time and revert command from a
    /// deployment recorded by `rollcall ingest` (its entry id, 4+ hex characters): the request for a
    /// rollback that was observed (flags given too override). The revert command only for Helm,
    /// Kubernetes and Argo CD: GitHub, GitLab and git deployments need --revert-cmd.
    #[arg(long, value_name = "ID", conflicts_with = "from_git")]
    pub from_observed: Option<String>,
    /// A directory of OSV advisories (JSON) to check dependency downgrades against.
    #[arg(long, value_name = "DIR")]
    pub advisories: Option<PathBuf>,
    #[command(flatten)]
    pub signer: Signer,
}

#[derive(Debug, Args)]
pub(crate) struct RequestAmendArgs {
    /// The request (its id or a unique prefix of it).
    pub req: String,
    /// Why it is amended (required; earlier approvals stop counting).
    #[arg(long)]
    pub reason: String,
    #[command(flatten)]
    pub record: RecordArgs,
    #[command(flatten)]
    pub signer: Signer,
}

#[derive(Debug, Args)]
pub(crate) struct RequestWithdrawArgs {
    /// The request (its id or a unique prefix of it).
    pub req: String,
    /// Why it is withdrawn (required).
    #[arg(long)]
    pub reason: String,
    #[command(flatten)]
    pub signer: Signer,
}

#[derive(Debug, Args)]
pub(crate) struct EvidenceAddArgs {
    /// The request (its id or a unique prefix of it).
    pub req: String,
    /// The file to attach.
    pub file: Option<PathBuf>,
    /// What the file is evidence of; JUnit and SARIF are recognized whatever the kind.
    #[arg(long, value_parser = ["test", "scan", "compliance", "validation", "log", "other"])]
    pub kind: String,
    /// Record a link (ticket, dashboard, CI run) without fetching it.
    #[arg(long)]
    pub url: Option<String>,
    /// Where it came from (CI job, tool).
    #[arg(long)]
    pub source: Option<String>,
    #[command(flatten)]
    pub signer: Signer,
}

#[derive(Debug, Args)]
pub(crate) struct EvidenceShowArgs {
    /// Evidence entry id (a unique prefix).
    pub id: String,
    /// Print only page N (from 1, or `last`) of the file as text, 64 KiB a page.
    ///
    /// The text goes to stdout, where it lies in the file ("page 2 of 57, bytes 65536-131071 of
    /// 3735552") to stderr. A character cut by a page's edge is shown whole on the page where it starts.
    /// With --json: one document with the page's text and position.
    #[arg(long, value_name = "N", conflicts_with = "raw", value_parser = parse_page)]
    pub page: Option<PageArg>,
    /// Print the whole file as text, sanitized, and nothing else (for pipes and pagers).
    ///
    /// The file is read a page at a time, so memory stays bounded whatever its size. Not with --json;
    /// for the exact bytes use `evidence export`.
    #[arg(long)]
    pub raw: bool,
}

#[derive(Debug, Args)]
pub(crate) struct EvidenceExportArgs {
    /// The evidence entry (its id or a unique prefix).
    pub id: String,
    /// File to write the stored bytes to (created 0600).
    #[arg(long, value_name = "F")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct EvidencePurgeArgs {
    /// The evidence entry whose stored bytes are deleted (the signed record stays).
    pub id: String,
    /// Why (required; a secret in a log, a retention rule).
    #[arg(long)]
    pub reason: String,
    #[command(flatten)]
    pub signer: Signer,
}

#[derive(Debug, Args)]
pub(crate) struct IncidentLinkArgs {
    /// The request (its id or a unique prefix of it).
    pub req: String,
    /// The incident id (INC-42).
    pub incident: String,
    /// Where the incident is tracked (optional).
    #[arg(long)]
    pub url: Option<String>,
    #[command(flatten)]
    pub signer: Signer,
}

#[derive(Debug, Args)]
pub(crate) struct PolicyAdoptArgs {
    /// The policy file (TOML; `rollcall policy show` prints the one in force).
    pub file: PathBuf,
    #[command(flatten)]
    pub signer: Signer,
}

/// `execute --outcome`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum OutcomeArg {
    Succeeded,
    Partial,
    Failed,
}

/// `validate --result`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ResultArg {
    Pass,
    Fail,
}

/// `review --kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ReviewKindArg {
    PostHoc,
    PostIncident,
}

/// `close --resolution`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ResolutionArg {
    RolledForward,
    MadePermanent,
    Superseded,
}
