//! Sync operations: export, import, joining a ledger from a bundle, the checkpoints a peer sends for an
//! incremental export, a read-only audit copy of a bundle, and acknowledging a recorded equivocation.

use crate::identity::Passphrase;
use crate::ledger::{Ledger, LedgerError, Origin};
use crate::sync::SyncError;
use crate::sync::bundle::{Reader, Record};
use crate::sync::export::{ExportOptions, ExportReport};
use crate::sync::import::{ImportOptions, ImportReport};
use crate::workflow::context::{Context, ORIGIN_PASSPHRASE_ENV};
use crate::workflow::error::WorkflowError;
use crate::workflow::reads::index::Upkeep;
use ed25519_dalek::SigningKey;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What `export` did, with anything the user should know.
#[derive(Debug)]
pub(crate) struct Exported {
    pub report: ExportReport,
    pub path: PathBuf,
    pub compressed: bool,
    pub warnings: Vec<String>,
}

/// What `import` did.
#[derive(Debug)]
pub(crate) struct Imported {
    pub report: ImportReport,
    pub warnings: Vec<String>,
    /// Where the request index stands: [`Upkeep::Deferred`] when its rebuild is left to the caller.
    pub index: Upkeep,
}

/// Whether an import may leave a rebuild of the request index to a process of its own: the command line
/// may (it starts `rollcall rebuild --if-behind` in the background, and the import returns once its entries
/// are committed); the demo, the console and `sync --git` bring the index up to date before returning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IndexUpkeep {
    Now,
    MayDefer,
}

/// Brings the index up to date, or leaves a rebuild to the caller when `upkeep` allows.
/// The import is committed by then: an upkeep that fails (the disk full, the file held past the busy wait)
/// neither undoes it nor makes it look failed. It is left behind as a deferred one, which the background
/// catch-up or the next reader's refresh brings up to date (or reports, if it fails again).
fn index_upkeep(ledger: &Ledger, upkeep: IndexUpkeep) -> Upkeep {
    let now = crate::workflow::clock::now();
    let upkept = match upkeep {
        IndexUpkeep::Now => crate::workflow::reads::index::refresh(ledger, now).map(|()| Upkeep::Current),
        IndexUpkeep::MayDefer => crate::workflow::reads::index::refresh_or_defer(ledger, now),
    };
    upkept.unwrap_or(Upkeep::Deferred)
}

/// The origin key of this ledger, unlocked without asking when possible: by `ROLLCALL_ORIGIN_PASSPHRASE`,
/// else by `ROLLCALL_PASSPHRASE` or a prompt. `Err` says why it is not available.
fn origin_key(ctx: &Context, own: &Origin) -> Result<SigningKey, String> {
    if !ctx.keystore.has_origin(&own.key) {
        return Err(format!("this keystore does not hold the origin key of {}", own.name));
    }
    if let Ok(p) = std::env::var(ORIGIN_PASSPHRASE_ENV) {
        return ctx.keystore.unlock_origin(&own.name, &own.key, &Passphrase::new(p)).map_err(|e| e.to_string());
    }
    let pass = ctx.passphrases.existing(&format!("the origin key of {}", own.name)).map_err(|e| e.to_string())?;
    ctx.keystore.unlock_origin(&own.name, &own.key, &pass).map_err(|e| e.to_string())
}

/// Reads the checkpoints of a `--since` file: a bundle or the output of `rollcall checkpoints`.
pub(crate) fn read_since(path: &Path) -> Result<BTreeMap<String, String>, WorkflowError> {
    let file = open_file(path)?;
    let mut r = Reader::new(file).map_err(|e| WorkflowError::Read(path.to_path_buf(), e))?;
    let mut out = BTreeMap::new();
    let mut current: Option<String> = None;
    let bad = |line: u64, p: String| WorkflowError::Usage(format!("{} line {line}: {p}", path.display()));
    loop {
        let n = r.line_no() + 1;
        let Some(line) = r.next_line().map_err(|p| bad(n, p))? else { break };
        match Record::parse(line).map_err(|p| bad(n, p))? {
            Record::Origin { name, .. } => current = Some(name),
            Record::Checkpoint { note } => {
                if let Some(name) = current.take() {
                    out.insert(name, note);
                }
            }
            Record::Blob { .. } | Record::Cosignature(_) | Record::End { .. } => break,
            _ => {}
        }
    }
    if out.is_empty() {
        return Err(WorkflowError::Usage(format!("{} holds no checkpoints", path.display())));
    }
    Ok(out)
}

fn open_file(path: &Path) -> Result<std::fs::File, WorkflowError> {
    let meta = std::fs::metadata(path).map_err(|e| WorkflowError::Read(path.to_path_buf(), e))?;
    if !meta.is_file() {
        return Err(WorkflowError::Usage(format!("{} is not a regular file", path.display())));
    }
    std::fs::File::open(path).map_err(|e| WorkflowError::Read(path.to_path_buf(), e))
}

/// A write to `out` that failed once the file was made (the disk full): the system's failure (exit 1).
fn wrote(out: &Path, e: std::io::Error) -> WorkflowError {
    WorkflowError::Io(format!("write {}", out.display()), e)
}

/// Writes the file next to `out` and renames it into place, so a reader never sees half a bundle.
fn write_atomically(
    out: &Path,
    write: impl FnOnce(&mut dyn std::io::Write) -> Result<(), WorkflowError>,
) -> Result<(), WorkflowError> {
    let dir = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    super::audited::check_destination(out, true)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .map_err(|e| WorkflowError::Usage(format!("cannot write {}: {e}", out.display())))?;
    // A write that fails once the file is made (the disk full) is the system's: named by the file.
    let failed = |e: std::io::Error| wrote(out, e);
    {
        let mut buf = std::io::BufWriter::with_capacity(1 << 20, tmp.as_file_mut());
        write(&mut buf).map_err(|e| match e {
            WorkflowError::Sync(SyncError::Io(_, e)) => failed(e),
            e => e,
        })?;
        std::io::Write::flush(&mut buf).map_err(failed)?;
    }
    tmp.as_file().sync_all().map_err(failed)?;
    tmp.persist(out).map_err(|e| failed(e.error))?;
    Ok(())
}

/// `rollcall export`: the own log and every mirror, up to their latest checkpoints.
pub(crate) fn export(
    ctx: &Context,
    out: &Path,
    since: Option<&Path>,
    no_blobs: bool,
    zstd: bool,
) -> Result<Exported, WorkflowError> {
    let since = since.map(read_since).transpose()?.unwrap_or_default();
    export_since(ctx, out, ExportOptions { since, no_blobs }, zstd)
}

/// [`export`] with the `--since` checkpoints already read.
fn export_since(ctx: &Context, out: &Path, opts: ExportOptions, zstd: bool) -> Result<Exported, WorkflowError> {
    let ledger = ctx.open()?;
    let mut warnings = Vec::new();
    let own = ledger.own_origin().clone();
    let tail = ledger.size(&own)? - ledger.latest_checkpoint(&own)?.map(|c| c.0).unwrap_or(0);
    if tail > 0 {
        // Never signed over: entries the origin key did not write (`verify` names them).
        warnings.push(format!(
            "{tail} own entries are not exported: no signed checkpoint covers them (run `rollcall verify`)"
        ));
    }
    let mut report = None;
    let compress = zstd || out.extension().is_some_and(|e| e == "zst");
    write_atomically(out, |w| {
        let r = if compress {
            let mut enc = zstd::stream::write::Encoder::new(w, 3).map_err(|e| wrote(out, e))?;
            let r = crate::sync::export::export(&ledger, &mut enc, &opts)?;
            enc.finish().map_err(|e| wrote(out, e))?;
            r
        } else {
            crate::sync::export::export(&ledger, w, &opts)?
        };
        report = Some(r);
        Ok(())
    })?;
    let report = report.ok_or_else(|| WorkflowError::Usage("export wrote nothing".into()))?;
    Ok(Exported { report, path: out.to_path_buf(), compressed: compress, warnings })
}

/// `rollcall export` as a person: the export is recorded first (an `audit.read` entry, which the bundle
/// then carries) when the policy records reads, once its `--since` checkpoints are known to fit.
pub(crate) fn export_recorded(
    ctx: &Context,
    signer: Option<&str>,
    out: &Path,
    since: Option<&Path>,
    no_blobs: bool,
    zstd: bool,
) -> Result<Exported, WorkflowError> {
    let ledger = ctx.open_read_only()?;
    let mut held = 0;
    for o in ledger.origins()? {
        held += ledger.size(&o)?;
    }
    // What the export would refuse is refused before the read is recorded.
    let opts = ExportOptions { since: since.map(read_since).transpose()?.unwrap_or_default(), no_blobs };
    crate::sync::export::check_since(&ledger, &opts)?;
    drop(ledger);
    super::audited::check_destination(out, true)?;
    let mut scope = BTreeMap::new();
    scope.insert("out".to_string(), out.display().to_string());
    if let Some(s) = since {
        scope.insert("since".to_string(), s.display().to_string());
    }
    if no_blobs {
        scope.insert("no_blobs".to_string(), "true".to_string());
    }
    super::audited::record_read(ctx, signer, "export", if zstd { "bundle+zstd" } else { "bundle" }, scope, held)?;
    export_since(ctx, out, opts, zstd)
}

/// `rollcall checkpoints`: a small file with the latest checkpoint of every origin held, for a peer's
/// `export --since`.
pub(crate) fn checkpoints(ctx: &Context, out: &Path) -> Result<usize, WorkflowError> {
    let ledger = ctx.open_read_only()?;
    let mut n = 0;
    write_atomically(out, |w| {
        let mut bw = crate::sync::bundle::Writer::new(w);
        let io = |e: std::io::Error| WorkflowError::Read(out.to_path_buf(), e);
        bw.write(&Record::Header {
            version: crate::sync::bundle::VERSION,
            ledger: ledger.ledger_id(),
            exporter: ledger.own_origin().name.clone(),
        })
        .map_err(io)?;
        for o in ledger.origins()? {
            if let Some((size, note)) = ledger.latest_checkpoint(&o)? {
                bw.write(&Record::Origin { name: o.name.clone(), key: o.key, from: size, to: size }).map_err(io)?;
                bw.write(&Record::Checkpoint { note }).map_err(io)?;
                n += 1;
            }
        }
        bw.finish().map_err(io)?;
        Ok(())
    })?;
    Ok(n)
}

/// `rollcall import`: verifies the bundle, adds what is new, cosigns what it verified.
pub(crate) fn import(ctx: &Context, file: &Path, upkeep: IndexUpkeep) -> Result<Imported, WorkflowError> {
    let source = open_file(file)?;
    let ledger = ctx.open()?;
    let mut warnings = Vec::new();
    let own = ledger.own_origin().clone();
    let witness_key = match origin_key(ctx, &own) {
        Ok(k) => Some(k),
        Err(why) => {
            warnings.push(format!(
                "not cosigning what was verified ({why}); set {ORIGIN_PASSPHRASE_ENV} to witness imports"
            ));
            None
        }
    };
    // The look-up indexes first: the import's rows are indexed as they are written.
    crate::workflow::reads::assess::ensure_indexes(&ledger);
    // Copying the committed pages into the file is not part of the import's commit (see `checkpoint_here`):
    // the background catch-up of the index does it when there is one; else the index's own commit.
    ledger.checkpoint_here(false)?;
    let report = match import_into(&ledger, source, witness_key) {
        Err(WorkflowError::Sync(SyncError::Security(message))) => {
            // Refused, the evidence committed on its own: escalate, then report the refusal.
            drop(ledger);
            crate::workflow::notify::equivocation(ctx, file, &message, true);
            return Err(WorkflowError::Sync(SyncError::Security(message)));
        }
        Err(WorkflowError::Sync(SyncError::SecurityUnrecorded(message))) => {
            // Refused, the evidence not kept: escalate all the same.
            drop(ledger);
            crate::workflow::notify::equivocation(ctx, file, &message, false);
            return Err(WorkflowError::Sync(SyncError::SecurityUnrecorded(message)));
        }
        other => other?,
    };
    // The index's own commits checkpoint again as usual (a small import's log is small).
    ledger.checkpoint_here(true)?;
    let mut index = Upkeep::Current;
    if report.added() > 0 {
        index = index_upkeep(&ledger, upkeep);
    }
    if index == Upkeep::Deferred {
        // Not when this connection closes either: the background catch-up checkpoints.
        ledger.checkpoint_here(false)?;
    }
    if let Some(message) = report.copies_said() {
        // Taken (a copy cannot be told from its original, FORMAT.md §2.1), but escalated as a fork is.
        crate::workflow::notify::equivocation(ctx, file, &message, true);
    }
    Ok(Imported { report, warnings, index })
}

/// Verifies the bundle and adds what is new, in one transaction. The request index is the caller's to bring
/// up to date: a ledger being created (a join, an audit copy) rebuilds it once it is in WAL mode, where the
/// rows are computed on every core.
fn import_into(
    ledger: &Ledger,
    source: std::fs::File,
    witness_key: Option<SigningKey>,
) -> Result<ImportReport, WorkflowError> {
    let now = crate::workflow::clock::signing_now().timestamp().max(0) as u64;
    let skew = crate::identity::Roster::from_ledger(ledger)
        .map(|r| r.max_clock_skew_seconds())
        .unwrap_or(crate::identity::roster::DEFAULT_CLOCK_SKEW_SECONDS as i64);
    let max_ms = crate::workflow::clock::latest_ms(skew);
    Ok(crate::sync::import::import(ledger, source, &ImportOptions { witness_key, now, max_ms })?)
}

/// What `init --join` created.
#[derive(Debug)]
pub(crate) struct Joined {
    pub ledger_id: crate::ledger::EntryId,
    pub origin: String,
    pub origin_key: crate::ledger::PublicKey,
    pub member: String,
    pub imported: ImportReport,
    /// Where the request index stands (see [`Imported::index`]).
    pub index: Upkeep,
}

/// `rollcall init --join BUNDLE --as NAME`: a new origin of the bundle's ledger on this machine, its
/// log opened by an `origin.joined` entry that NAME (an enrolled member) signs.
pub(crate) fn join(
    ctx: &Context,
    bundle: &Path,
    member: &str,
    origin: Option<&str>,
    expect: Option<&str>,
    upkeep: IndexUpkeep,
) -> Result<Joined, WorkflowError> {
    if ctx.ledger_path.exists() {
        return Err(crate::ledger::LedgerError::AlreadyExists(ctx.ledger_path.clone()).into());
    }
    let ledger_id = bundle_ledger_id(bundle)?;
    if let Some(want) = expect {
        let want = crate::workflow::reads::query::ledger_id_arg(want)?;
        if want != ledger_id {
            return Err(WorkflowError::Refused(format!(
                "{} belongs to ledger {}, not to ledger {} (--ledger-id); nothing was written",
                bundle.display(),
                ledger_id.to_hex(),
                want.to_hex()
            )));
        }
    }
    let origin = match origin {
        Some(o) if o == AUDIT_ORIGIN => {
            return Err(WorkflowError::Usage(format!("origin name {o} is reserved for audit copies")));
        }
        Some(o) if crate::ledger::note::valid_key_name(o) => o.to_string(),
        Some(o) => return Err(WorkflowError::Usage(format!("origin {o:?} is not valid"))),
        None => super::init::default_origin_name(),
    };
    let (person, pass) = ctx.unlock(member)?;
    let origin_signing =
        crate::identity::keyfile::generate().map_err(|e| crate::identity::IdentityError::Random(e.to_string()))?;
    let origin_key = crate::ledger::PublicKey::from_signing(&origin_signing);
    let mut imported = None;
    let ledger = Ledger::create_with(&ctx.ledger_path, &origin, &origin_key, &ledger_id, |l| {
        // The look-up indexes first, while the file is empty: its rows are indexed as they are written.
        crate::workflow::reads::assess::ensure_indexes(l);
        let report = import_into(l, open_file(bundle)?, Some(origin_signing.clone()))?;
        let roster = crate::identity::Roster::from_ledger(l)?;
        // The new log opens having seen everything the bundle carried.
        if !roster.is_active(&person.public(), crate::ledger::POS_MAX) {
            return Err(WorkflowError::not_enrolled(&roster, member.to_string(), &person.public()));
        }
        let floor = l.time_floor_ms()?;
        let now = crate::workflow::clock::now();
        let now =
            chrono::DateTime::from_timestamp_millis(crate::ledger::pos::stamp_after(now.timestamp_millis(), floor))
                .unwrap_or(now);
        let seen = l
            .seen_now()?
            .into_iter()
            .map(|(n, size, root)| (n, crate::ledger::causal::SeenPrefix::new(size, &root)))
            .collect();
        let body = crate::identity::kinds::OriginJoinedBody {
            ledger: ledger_id.to_hex(),
            origin: origin.clone(),
            key: origin_key.encode(),
            seen,
        };
        let body = serde_json::to_value(&body)?;
        let st =
            crate::ledger::Statement::new_at(crate::identity::kinds::ORIGIN_JOINED, &person.public(), body, &[], now)
                .sign(person.signing_key(), &l.domain())?;
        let skew = roster.max_clock_skew_seconds();
        crate::workflow::clock::refuse_backdating(now.timestamp_millis(), skew)?;
        let latest = crate::workflow::clock::latest_ms(skew);
        l.append(std::slice::from_ref(&st), Some(0), &origin_signing, latest)?;
        imported = Some(report);
        Ok::<(), WorkflowError>(())
    })?;
    ctx.keystore.store_origin_with(&origin, &origin_signing, &pass, crate::identity::keyfile::KdfCost::Default)?;
    let index = index_upkeep(&ledger, upkeep);
    let imported = imported.ok_or_else(|| WorkflowError::Usage("the bundle was not imported".into()))?;
    Ok(Joined { ledger_id, origin, origin_key, member: member.to_string(), imported, index })
}

/// The ledger id a bundle's header names.
fn bundle_ledger_id(path: &Path) -> Result<crate::ledger::EntryId, WorkflowError> {
    let mut r = Reader::new(open_file(path)?).map_err(|e| WorkflowError::Read(path.to_path_buf(), e))?;
    let not = |p: String| WorkflowError::Usage(format!("{} is not a rollcall bundle: {p}", path.display()));
    let line = r.next_line().map_err(not)?.ok_or_else(|| not("it is empty".into()))?;
    if !line.starts_with(crate::sync::bundle::MAGIC.as_bytes()) {
        return Err(not("it does not start with a rollcall-bundle header".into()));
    }
    match Record::parse(line).map_err(not)? {
        Record::Header { ledger, .. } => Ok(ledger),
        _ => Err(not("it does not start with a rollcall-bundle header".into())),
    }
}

/// A bundle opened for auditing: a temporary ledger holding exactly its logs, removed when dropped.
#[derive(Debug)]
pub(crate) struct AuditCopy {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
}

/// Verifies a bundle into a temporary read-only copy, without touching any other ledger. A copy the
/// system does not let it write (the temporary directory's disk full, a file size limit) is
/// [`SyncError::AuditCopy`]: said as that, not as the ledger's disk or the bundle's content.
pub(crate) fn open_bundle(bundle: &Path) -> Result<AuditCopy, WorkflowError> {
    let ledger_id = bundle_ledger_id(bundle)?;
    let tmp = std::env::temp_dir();
    let unwritten = |why: String| WorkflowError::Sync(SyncError::AuditCopy(tmp.clone(), why));
    let dir = tempfile::Builder::new().prefix("rollcall-audit-").tempdir().map_err(|e| unwritten(e.to_string()))?;
    let path = dir.path().join("bundle.ledger");
    // The audit copy's own log stays empty: its key is thrown away.
    let throwaway =
        crate::identity::keyfile::generate().map_err(|e| crate::identity::IdentityError::Random(e.to_string()))?;
    let key = crate::ledger::PublicKey::from_signing(&throwaway);
    let mut report = None;
    // Every ledger failure here is the copy's (the bundle's own are `SyncError`s).
    let copy_failed = |e: WorkflowError| match e {
        WorkflowError::Ledger(l) if crate::ledger::not_read(&l) => unwritten(match l {
            LedgerError::Storage(e) => e.to_string(),
            LedgerError::Io(_, e) => e.to_string(),
            l => l.to_string(),
        }),
        e => e,
    };
    let ledger = Ledger::create_with(&path, AUDIT_ORIGIN, &key, &ledger_id, |l| {
        report = Some(import_into(l, open_file(bundle)?, None)?);
        Ok::<(), WorkflowError>(())
    })
    .map_err(copy_failed)?;
    crate::workflow::reads::assess::ensure_indexes(&ledger);
    crate::workflow::reads::index::refresh(&ledger, crate::workflow::clock::now()).map_err(copy_failed)?;
    drop(ledger);
    report.ok_or_else(|| WorkflowError::Usage("the bundle was not imported".into()))?;
    Ok(AuditCopy { _dir: dir, path })
}

/// The own origin name of an audit copy (its log is always empty).
pub(crate) use crate::ledger::pos::AUDIT_ORIGIN;

impl From<SyncError> for WorkflowError {
    /// A failure of the ledger (or of its blob store) under a sync is the ledger's: said and classified
    /// as such (damaged, busy, its disk failing), as outside a sync.
    fn from(e: SyncError) -> Self {
        match e {
            SyncError::Ledger(e) => WorkflowError::Ledger(e),
            SyncError::Evidence(e) => WorkflowError::from(e),
            e => WorkflowError::Sync(e),
        }
    }
}

/// `rollcall acknowledge EVIDENCE --finding ..`: records, with a signed `integrity.acknowledged` entry,
/// that a recorded equivocation (or an entry several leaves hold) was investigated. The signer must hold
/// `admin` or `security-approver`.
pub(crate) fn acknowledge(
    ctx: &Context,
    signer: Option<&str>,
    evidence: &str,
    finding: &str,
) -> Result<crate::workflow::context::Receipt, WorkflowError> {
    let prefix = evidence.trim().to_ascii_lowercase();
    if prefix.len() < 8 || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(WorkflowError::Usage(
            "give at least 8 hex characters of the evidence digest `rollcall verify` prints".into(),
        ));
    }
    let finding = finding.trim();
    if finding.is_empty() || finding.chars().count() > 2000 {
        return Err(WorkflowError::Usage(
            "give what the investigation found (--finding, at most 2000 characters)".into(),
        ));
    }
    let mut session = ctx.session(signer)?;
    let snap = crate::workflow::reads::state::Snapshot::load(&session.ledger)?;
    // The recorded forks and rollbacks, and the entries several leaves hold (found in the file).
    let mut evidence = session.ledger.equivocations()?;
    evidence.extend(crate::workflow::reads::witness::copies(&session.ledger)?);
    let (open, _) = crate::workflow::reads::witness::split_equivocations(&session.ledger, evidence, &snap.roster)?;
    let matching: Vec<_> = open.iter().filter(|e| e.evidence_digest().starts_with(&prefix)).collect();
    let e = match matching.as_slice() {
        [one] => *one,
        [] => {
            return Err(WorkflowError::NotFound(format!(
                "no open equivocation has evidence {prefix} (see `rollcall verify`)"
            )));
        }
        _ => return Err(WorkflowError::Usage(format!("{prefix} matches more than one equivocation; give more"))),
    };
    let actor = session.signer.public();
    if !crate::workflow::reads::witness::may_acknowledge(&snap.roster, &actor, snap.next) {
        return Err(WorkflowError::Refused(format!(
            "{} may not acknowledge an equivocation: it takes the admin or security-approver role",
            snap.roster.display(&actor)
        )));
    }
    let moved =
        if e.kind == crate::workflow::reads::witness::COPY { copy_moved(&session.ledger, &snap, e) } else { None };
    let body = crate::audit::bodies::AcknowledgedBody {
        origin: e.origin.clone(),
        kind: e.kind.clone(),
        evidence: e.evidence_digest(),
        finding: finding.to_string(),
    };
    let body = serde_json::to_value(&body)?;
    let st = crate::ledger::Statement::new_at(
        crate::audit::kinds::ACKNOWLEDGED,
        &actor,
        body,
        &[],
        crate::workflow::clock::now(),
    );
    let mut receipt = super::append(&mut session, st, &|_, _, _| Ok(()))?;
    receipt.warnings.extend(moved);
    Ok(receipt)
}

/// What a copy did to a request, said when it is acknowledged: the copied entry is a request's and does
/// not count where the copy put it (an execution judged in a log that had not seen the approvals). The
/// acknowledgment lifts the gate's `copies` block, not that: the request reads as the copy left it.
fn copy_moved(
    ledger: &crate::ledger::Ledger,
    snap: &crate::workflow::reads::state::Snapshot,
    e: &crate::ledger::mirror::Equivocation,
) -> Option<String> {
    use crate::workflow::reads::state::{fact_of, load_view, request_named};
    let id = e.ours.lines().next().and_then(crate::ledger::Hash::from_hex)?;
    let row = ledger.entry(&id).ok()??;
    let fact = fact_of(&row).ok()?;
    let request = if fact.kind == crate::audit::kinds::REQUESTED { Some(fact.id) } else { request_named(&fact.body) }?;
    let view = load_view(ledger, snap, &request).ok()?;
    let why = view.timeline.iter().find(|t| t.id == id)?.ignored.clone()?;
    Some(format!(
        "the copied entry {} ({}) of request {} does not count where the copy put it ({}); this acknowledgment \
         lifts the gate's block on the copy, not that: the request reads as the copy left it",
        id.short(12),
        crate::text::safe(&fact.kind),
        request.short(12),
        crate::text::safe(&why)
    ))
}
