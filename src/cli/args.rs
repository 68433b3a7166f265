//! The command-line grammar (clap derive).

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// rollcall — signed, tamper-evident records of why a deployed change was reverted, who decided and
/// who approved.
#[derive(Debug, Parser)]
#[command(name = "rollcall", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// The ledger file (default: ledger.db in ROLLCALL_HOME or the platform data directory).
    #[arg(long, global = true, env = "ROLLCALL_LEDGER", value_name = "PATH")]
    pub ledger: Option<PathBuf>,

    /// Print one JSON document on stdout instead of human-readable text.
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Manage the keys in your keystore.
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Create a new ledger founded by an admin key.
    Init {
        /// Name of the key (in your keystore) of the founding admin.
        #[arg(long, value_name = "NAME", required_unless_present = "join", conflicts_with = "join")]
        admin: Option<String>,
        /// Join the ledger of this bundle as a new origin (this machine's own log) instead of founding one.
        #[arg(long, value_name = "BUNDLE", requires = "member", conflicts_with = "policy")]
        join: Option<PathBuf>,
        /// With --join: the enrolled member (a key in your keystore) who declares this machine's origin.
        #[arg(long = "as", id = "member", value_name = "NAME")]
        member: Option<String>,
        /// Name of this machine's log (default: rollcall/<host>-<random>).
        #[arg(long, value_name = "ORIGIN")]
        origin: Option<String>,
        /// Policy to adopt (default: the built-in policy in assets/policy.toml).
        #[arg(long, value_name = "FILE")]
        policy: Option<PathBuf>,
    },
    /// Record a note in the ledger, or on a request.
    Note {
        /// The text to record.
        text: String,
        /// The request the note is about.
        #[arg(long, value_name = "REQ")]
        on: Option<String>,
        #[command(flatten)]
        signer: Signer,
    },
    /// File, amend or withdraw rollback requests.
    Request {
        #[command(subcommand)]
        command: Box<RequestCommand>,
    },
    /// List requests, most recent first.
    List {
        /// Only requests with this status (pending, approved, rejected, withdrawn, emergency, executed,
        /// validated, review-due, reviewed, closed).
        #[arg(long, value_name = "S")]
        status: Option<String>,
        /// Only requests for this environment.
        #[arg(long, value_name = "ENV")]
        env: Option<String>,
        /// Only requests of this risk tier.
        #[arg(long, value_name = "TIER")]
        risk: Option<String>,
        /// Only requests with security flags.
        #[arg(long)]
        flagged: bool,
        /// Most rows to show.
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
    },
    /// Show one request: record, checklist, decisions, evidence, timeline.
    Show {
        /// Request id (a unique prefix of at least 4 hex characters).
        req: String,
    },
    /// Approve a request: signs the version, revert operation, evidence and policy you reviewed.
    Approve {
        req: String,
        #[arg(long)]
        comment: String,
        #[command(flatten)]
        signer: Signer,
    },
    /// Reject a request.
    Reject {
        req: String,
        #[arg(long)]
        comment: String,
        #[command(flatten)]
        signer: Signer,
    },
    /// Invoke the emergency (break-glass) path: the revert may run without approvals; a review becomes due.
    Emergency {
        req: String,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        signer: Signer,
    },
    /// Record that the revert ran, and its actual outcome.
    Execute {
        req: String,
        #[arg(long, value_parser = ["succeeded", "partial", "failed"])]
        outcome: String,
        /// File with the captured output; its SHA-256 is recorded.
        #[arg(long, value_name = "F")]
        output_file: Option<PathBuf>,
        /// The exact command run (default: the approved revert operation).
        #[arg(long, value_name = "CMD")]
        command: Option<String>,
        /// Where it ran (default: the request's environment).
        #[arg(long, value_name = "ENV")]
        env: Option<String>,
        #[arg(long)]
        notes: Option<String>,
        #[command(flatten)]
        signer: Signer,
    },
    /// Record post-rollback validation.
    Validate {
        req: String,
        #[arg(long, value_parser = ["pass", "fail"])]
        result: String,
        /// A check and its result, NAME=pass or NAME=fail (repeatable).
        #[arg(long = "check", value_name = "NAME=RESULT")]
        checks: Vec<String>,
        /// A file with the validation output, attached as evidence.
        #[arg(long, value_name = "F")]
        evidence: Option<PathBuf>,
        #[arg(long)]
        notes: Option<String>,
        #[command(flatten)]
        signer: Signer,
    },
    /// Record a post-hoc (after an emergency) or post-incident review.
    Review {
        req: String,
        #[arg(long)]
        summary: String,
        /// A lesson learned (repeatable).
        #[arg(long = "lesson", value_name = "TEXT")]
        lessons: Vec<String>,
        #[arg(long, default_value = "post-hoc", value_parser = ["post-hoc", "post-incident"])]
        kind: String,
        #[command(flatten)]
        signer: Signer,
    },
    /// Close a request: rolled forward, made permanent, or superseded.
    Close {
        req: String,
        #[arg(long, value_parser = ["rolled-forward", "made-permanent", "superseded"])]
        resolution: String,
        /// The request that supersedes this one.
        #[arg(long, value_name = "REQ")]
        superseded_by: Option<String>,
        #[arg(long)]
        comment: String,
        #[command(flatten)]
        signer: Signer,
    },
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
    Enroll {
        name: String,
        /// Their public key (`rollcall key list` on their machine prints it).
        #[arg(long, value_name = "KEY")]
        pubkey: String,
        /// A role (repeatable).
        #[arg(long = "role", value_name = "ROLE", required = true)]
        roles: Vec<String>,
        #[command(flatten)]
        signer: Signer,
    },
    /// Replace the roles of an enrolled person.
    Roles {
        name: String,
        #[arg(long = "role", value_name = "ROLE", required = true)]
        roles: Vec<String>,
        #[command(flatten)]
        signer: Signer,
    },
    /// Revoke an enrolled person's key.
    Revoke {
        name: String,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        signer: Signer,
    },
    /// Co-sign a pending identity or policy change as another admin.
    Cosign {
        /// The pending change's entry id (a unique prefix).
        entry: String,
        #[command(flatten)]
        signer: Signer,
    },
    /// List the people enrolled and pending identity or policy changes.
    Members,
    /// Adopt or show the policy.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Exit 0 when the policy lets the revert run now, 1 with the unmet requirements otherwise.
    Gate { req: String },
    /// Open obligations: post-hoc reviews due and temporary reverts expiring.
    Obligations {
        /// Only the overdue ones.
        #[arg(long)]
        overdue: bool,
    },
    /// Rebuild the request index from the entries.
    Rebuild,
    /// Build a realistic demo ledger (people, forty requests in every state, evidence, a git repository)
    /// and open the console on it.
    Demo {
        /// Where to build it (default: a new directory under the system temp dir).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Add this many synthetic requests (for load tests).
        #[arg(long, value_name = "N", default_value_t = 0)]
        scale: usize,
        /// Build it and print where, without opening the console.
        #[arg(long)]
        no_tui: bool,
    },
    /// Open the review console (also what a bare `rollcall` runs on a terminal).
    Tui {
        /// Browse and verify only: every action is hidden.
        #[arg(long)]
        read_only: bool,
        /// Browse this bundle read-only (verified first; no ledger is touched).
        #[arg(long, value_name = "FILE")]
        bundle: Option<PathBuf>,
        /// The key that signs (default: ROLLCALL_KEY, or the only key in the keystore).
        #[arg(long = "as", value_name = "NAME")]
        signer: Option<String>,
    },
    /// Record that a recorded equivocation (fork or rollback) was investigated: `verify` then reports it as
    /// acknowledged instead of failing. The evidence stays. Takes the admin or security-approver role.
    Acknowledge {
        /// The evidence digest `rollcall verify` prints (at least 8 hex characters).
        evidence: String,
        #[arg(long)]
        finding: String,
        #[command(flatten)]
        signer: Signer,
    },
    /// Record that a digest (image, artifact, revision) is bad: reverts that bring it back are flagged.
    MarkBad {
        digest: String,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        signer: Signer,
    },
    /// List the raw entries of a log in log order.
    Log {
        /// Which origin's log (default: this ledger's own).
        #[arg(long, value_name = "ORIGIN")]
        origin: Option<String>,
        /// First index to show.
        #[arg(long, default_value_t = 0, value_name = "INDEX")]
        from: u64,
        /// Most entries to show.
        #[arg(long, value_name = "N")]
        limit: Option<u64>,
    },
    /// Verify every entry, signature, leaf, tree hash and checkpoint. Exit 0 intact, 1 on a failure.
    Verify {
        /// Verify this bundle on its own (read-only; no ledger is touched).
        #[arg(long, value_name = "FILE")]
        bundle: Option<PathBuf>,
    },
    /// Write a bundle: this ledger's log and every mirror, with evidence and cosignatures.
    Export {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Only what the holder of these checkpoints lacks (a file from `rollcall checkpoints`, or a
        /// bundle they sent).
        #[arg(long, value_name = "FILE")]
        since: Option<PathBuf>,
        /// Leave out evidence files.
        #[arg(long)]
        no_blobs: bool,
        /// Compress with zstd (also chosen by an .zst extension; import detects it).
        #[arg(long)]
        zstd: bool,
        /// Who exports (the export is recorded when the policy's audit.record_reads is on).
        #[command(flatten)]
        signer: Signer,
    },
    /// A governance report over a period: figures, tables, and the requests that broke policy or are
    /// overdue, with the ledger, checkpoints and verification verdict it rests on.
    Report {
        #[arg(long, default_value = "md", value_parser = ["md", "json", "csv"])]
        format: String,
        /// First day (YYYY-MM-DD or RFC 3339) of requests to include.
        #[arg(long, value_name = "DATE")]
        since: Option<String>,
        /// Day after the last (YYYY-MM-DD or RFC 3339).
        #[arg(long, value_name = "DATE")]
        until: Option<String>,
        #[arg(long)]
        env: Option<String>,
        #[arg(long)]
        component: Option<String>,
        /// Write it here instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Report on this bundle (read-only; nothing is recorded).
        #[arg(long, value_name = "FILE")]
        bundle: Option<PathBuf>,
        /// Who reads (the read is recorded when the policy's audit.record_reads is on).
        #[command(flatten)]
        signer: Signer,
    },
    /// The decision timeline of a request, or of every request of an incident, with the latencies between
    /// decisions (Markdown for a post-mortem, or JSON).
    Timeline {
        /// The request (a unique id prefix).
        #[arg(required_unless_present = "incident")]
        req: Option<String>,
        #[arg(long, conflicts_with = "req")]
        incident: Option<String>,
        #[arg(long, default_value = "md", value_parser = ["md", "json"])]
        format: String,
        /// Read this bundle (read-only).
        #[arg(long, value_name = "FILE")]
        bundle: Option<PathBuf>,
    },
    /// Verify a bundle and add what it carries that this ledger lacks (refused whole if anything is wrong).
    Import { file: PathBuf },
    /// Write the latest checkpoint of every origin held, for a peer's `export --since`.
    Checkpoints {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Exchange bundles through a git working copy: pull, import every peer's bundle, write this
    /// ledger's bundle, commit and push.
    Sync {
        /// The git working copy (its remote is the exchange).
        #[arg(long, value_name = "DIR")]
        git: PathBuf,
        /// Do not pull or push (work on the local copy only).
        #[arg(long)]
        offline: bool,
    },
    /// Write a C2SP tlog-proof of one entry (or, with --consistency, between two checkpoints of a log).
    Prove {
        /// The entry (a unique id prefix).
        #[arg(required_unless_present = "consistency")]
        entry: Option<String>,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Also write the entry's statement bytes here (default: <out>.entry).
        #[arg(long, value_name = "FILE")]
        entry_out: Option<PathBuf>,
        /// Prove that this log grew from the checkpoint of size OLD to its latest one.
        #[arg(long, value_name = "OLD", conflicts_with = "entry")]
        consistency: Option<u64>,
        /// The origin whose log the consistency proof is about (default: this ledger's own).
        #[arg(long, value_name = "ORIGIN")]
        origin: Option<String>,
    },
    /// Check a proof written by `rollcall prove` with nothing else: exit 0 valid, 1 invalid.
    VerifyProof {
        file: PathBuf,
        /// The entry's statement bytes (for an inclusion proof).
        #[arg(long, value_name = "FILE")]
        entry_file: Option<PathBuf>,
        /// A trusted verifier key of the origin (as `rollcall init` prints it); without it the key in
        /// the proof is reported, not trusted.
        #[arg(long = "key", value_name = "VKEY")]
        keys: Vec<String>,
    },
}

/// The signing key.
#[derive(Debug, clap::Args)]
pub struct Signer {
    /// Key that signs (default: ROLLCALL_KEY, or the only key in the keystore).
    #[arg(long = "as", id = "signer", value_name = "NAME")]
    pub name: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum RequestCommand {
    /// File a rollback request. Required: title, change, category, rationale, impact, component, env,
    /// revert-cmd, from, to, risk (as flags or in --from-file).
    New {
        #[command(flatten)]
        record: RecordArgs,
        /// Read the record from a JSON file (see docs/FORMAT.md); flags given too override its fields.
        #[arg(long, value_name = "F.json")]
        from_file: Option<PathBuf>,
        /// Read the revert from this git repository (with --revert): commits, files, hunks, the
        /// `git revert` command, components.
        #[arg(long, value_name = "REPO", requires = "revert")]
        from_git: Option<PathBuf>,
        /// The commit (or range A..B) the revert undoes, with --from-git.
        #[arg(long, value_name = "COMMIT", requires = "from_git")]
        revert: Option<String>,
        /// A unified diff of what the revert does, for sources other than git.
        #[arg(long, value_name = "F", conflicts_with = "from_git")]
        diff: Option<PathBuf>,
        /// A directory of OSV advisories (JSON) to check dependency downgrades against.
        #[arg(long, value_name = "DIR")]
        advisories: Option<PathBuf>,
        #[command(flatten)]
        signer: Signer,
    },
    /// Amend a request: the fields given replace the current ones; earlier decisions no longer count.
    Amend {
        req: String,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        record: RecordArgs,
        #[command(flatten)]
        signer: Signer,
    },
    /// Withdraw a request.
    Withdraw {
        req: String,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        signer: Signer,
    },
}

/// Every field of the rollback record.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct RecordArgs {
    #[arg(long)]
    pub title: Option<String>,
    /// Id of the original change being reverted (commit, deploy, change request).
    #[arg(long, value_name = "ID")]
    pub change: Option<String>,
    #[arg(long)]
    pub ticket: Option<String>,
    #[arg(long)]
    pub incident: Option<String>,
    #[arg(long, value_parser = ["security-patch", "critical-bug", "performance-regression", "data-integrity", "compliance", "other"])]
    pub category: Option<String>,
    #[arg(long)]
    pub rationale: Option<String>,
    /// Anticipated user impact of the revert.
    #[arg(long)]
    pub impact: Option<String>,
    /// An affected component (repeatable).
    #[arg(long = "component", value_name = "NAME")]
    pub components: Vec<String>,
    /// The environment the revert is applied to.
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,
    /// Where the problem was found (default: --env).
    #[arg(long, value_name = "ENV")]
    pub origin_env: Option<String>,
    /// A service the revert may cascade to (repeatable).
    #[arg(long = "cascade", value_name = "SERVICE")]
    pub cascades: Vec<String>,
    /// The exact revert command line (split like a shell would, without expansions).
    #[arg(long, value_name = "CMD")]
    pub revert_cmd: Option<String>,
    /// The revision or digest deployed now.
    #[arg(long, value_name = "REV")]
    pub from: Option<String>,
    /// The revision or digest to return to.
    #[arg(long, value_name = "REV")]
    pub to: Option<String>,
    #[arg(long, value_parser = ["low", "medium", "high", "critical"])]
    pub risk: Option<String>,
    /// Security implications.
    #[arg(long)]
    pub security: Option<String>,
    #[arg(long = "commit", value_name = "SHA")]
    pub commits: Vec<String>,
    #[arg(long = "artifact", value_name = "ID")]
    pub artifacts: Vec<String>,
    #[arg(long = "image", value_name = "DIGEST")]
    pub images: Vec<String>,
    #[arg(long = "iac", value_name = "FILE")]
    pub iac: Vec<String>,
    #[arg(long = "feature-flag", value_name = "FLAG")]
    pub feature_flags: Vec<String>,
    #[arg(long = "manifest", value_name = "FILE")]
    pub manifests: Vec<String>,
    #[arg(long = "release-notes", value_name = "REF")]
    pub release_notes: Vec<String>,
    #[arg(long)]
    pub test_plan: Option<String>,
    #[arg(long)]
    pub roll_forward_plan: Option<String>,
    /// For a temporary revert: when it must be rolled forward or made permanent (RFC 3339).
    #[arg(long, value_name = "TIME")]
    pub temporary_until: Option<String>,
    /// A migration the revert runs or undoes (repeatable).
    #[arg(long = "migration", value_name = "TEXT")]
    pub migrations: Vec<String>,
    /// A destructive step (repeatable).
    #[arg(long = "destructive", value_name = "TEXT")]
    pub destructive: Vec<String>,
    /// When the original change was deployed (RFC 3339).
    #[arg(long, value_name = "TIME")]
    pub deployed_at: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum IncidentCommand {
    /// Link a request to an incident.
    Link {
        req: String,
        incident: String,
        #[arg(long)]
        url: Option<String>,
        #[command(flatten)]
        signer: Signer,
    },
}

#[derive(Debug, Subcommand)]
pub enum EvidenceCommand {
    /// Attach a file (stored by SHA-256) or a link to a request.
    Add {
        req: String,
        /// The file to attach.
        file: Option<PathBuf>,
        #[arg(long, value_parser = ["test", "scan", "compliance", "validation", "log", "other"])]
        kind: String,
        /// Record a link (ticket, dashboard, CI run) without fetching it.
        #[arg(long)]
        url: Option<String>,
        /// Where it came from (CI job, tool).
        #[arg(long)]
        source: Option<String>,
        #[command(flatten)]
        signer: Signer,
    },
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
    Show {
        /// Evidence entry id (a unique prefix).
        id: String,
        /// Print only page N (from 1, or `last`) of the file as text, 64 KiB a page.
        ///
        /// The text goes to stdout, where it lies in the file ("page 2 of 57, bytes 65536-131071 of
        /// 3735552") to stderr. A character cut by a page's edge is shown whole on the page where it starts.
        /// With --json: one document with the page's text and position.
        #[arg(long, value_name = "N", conflicts_with = "raw", value_parser = parse_page)]
        page: Option<PageArg>,
        /// Print the whole file as text, sanitized, and nothing else (for pipes and pagers).
        ///
        /// The file is read a page at a time, so memory stays bounded whatever its size. Not with --json;
        /// for the exact bytes use `evidence export`.
        #[arg(long)]
        raw: bool,
    },
    /// Write the original bytes of an evidence file (digest checked).
    Export {
        id: String,
        #[arg(long, value_name = "F")]
        out: PathBuf,
    },
    /// Remove an evidence file's bytes (secrets, personal data) with a signed entry; its digest stays.
    Purge {
        id: String,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        signer: Signer,
    },
}

/// A page of `evidence show --page`: a number from 1, or the last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageArg {
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
pub enum PolicyCommand {
    /// Adopt a new policy version (needs the admin threshold).
    Adopt {
        file: PathBuf,
        #[command(flatten)]
        signer: Signer,
    },
    /// Print the policy in force.
    Show,
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Generate a new Ed25519 key, encrypted with a passphrase (ROLLCALL_PASSPHRASE or a prompt).
    New {
        /// Name for the key (letters, digits, '.', '_', '-').
        name: String,
    },
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
