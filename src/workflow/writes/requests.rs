//! Filing, amending and withdrawing rollback requests.

use super::act::{Built, Draft, on_request};
use crate::analysis::changeset::ChangeSet;
use crate::analysis::git::GitRevert;
use crate::audit::bodies::{AmendedBody, WithdrawnBody};
use crate::audit::kinds::{AMENDED, REQUESTED, WITHDRAWN};
use crate::audit::projection::{Action, RequestView, Rules};
use crate::audit::record::{AdvisoryRef, ChangesetRef, RequestBody};
use crate::ledger::{EntryId, Hash, Ledger, Statement};
use crate::workflow::context::{Context, Receipt};
use crate::workflow::error::WorkflowError;
use crate::workflow::reads::state::Snapshot;
use std::path::Path;

/// Files a new request. A change set (from git or a diff) is stored as a blob and named, by digest, in
/// the signed record.
pub fn new_request(
    ctx: &Context,
    signer: Option<&str>,
    mut record: RequestBody,
    changeset: Option<ChangeSet>,
) -> Result<Receipt, WorkflowError> {
    let blob = changeset.map(|cs| {
        let bytes = cs.to_bytes();
        crate::analysis::changeset::within_limits(&bytes).map_err(WorkflowError::Usage)?;
        let digest = Hash::of(&[&bytes]);
        record.changeset = Some(ChangesetRef {
            sha256: digest.to_hex(),
            source: cs.source.clone(),
            files: cs.files.len() as u64,
            commits: cs.commits.iter().map(|c| c.id.clone()).collect(),
        });
        Ok::<_, WorkflowError>((digest, bytes))
    });
    let blob = blob.transpose()?;
    record.validate_to_sign()?;
    let mut session = ctx.session(signer)?;
    let mut stored = None;
    if let Some((digest, bytes)) = &blob
        && crate::evidence::store::put(session.ledger.cache_conn(), digest, bytes)?
    {
        stored = Some(*digest);
    }
    let now = session.stamp_now()?;
    let actor = session.signer.public();
    let body = serde_json::to_value(&record)?;
    let statement = Statement::new_at(REQUESTED, &actor, body, &[], now);
    // Judged as it will be written (restamped if another process wrote later meanwhile).
    let validate = move |ledger: &Ledger, roster: &crate::identity::Roster, st: &Statement| {
        let snap = Snapshot::with_roster(ledger, roster.clone())?;
        let fact = super::act::fact_for(st, &snap, actor)?;
        let view = RequestView::new(&fact)?;
        Ok(snap.rules(&[], None).allow(Action::Request, &fact, &view)?)
    };
    let held: Vec<Hash> = blob.iter().map(|(digest, _)| *digest).collect();
    super::append_naming(&mut session, statement, &validate, &held)
        .inspect_err(|_| super::forget_blob(&session.ledger, stored.as_ref()))
}

/// Reads the revert of `spec` (a commit or `A..B`) from the git repository `repo`.
pub(crate) fn from_git(repo: &Path, spec: &str) -> Result<GitRevert, WorkflowError> {
    Ok(crate::analysis::git::read_revert(repo, spec)?)
}

/// Reads a unified diff file as the change set of a revert.
pub(crate) fn from_diff(path: &Path) -> Result<ChangeSet, WorkflowError> {
    let (bytes, _) = crate::evidence::store::read_file(path, crate::evidence::store::MAX_BLOB)?;
    let text =
        String::from_utf8(bytes).map_err(|_| WorkflowError::Usage(format!("{} is not UTF-8 text", path.display())))?;
    let files =
        crate::analysis::diff::parse(&text).map_err(|e| WorkflowError::Usage(format!("{}: {e}", path.display())))?;
    if files.is_empty() {
        return Err(WorkflowError::Usage(format!("{} contains no file changes", path.display())));
    }
    Ok(ChangeSet { source: "diff".into(), commits: Vec::new(), files })
}

/// The advisories in the OSV files of `dir` that the downgrades of `changeset` bring back, and the files
/// that could not be read.
pub(crate) fn advisory_hits(
    changeset: &ChangeSet,
    dir: &Path,
) -> Result<(Vec<AdvisoryRef>, Vec<String>), WorkflowError> {
    let (advisories, problems) =
        crate::evidence::osv::load_dir(dir).map_err(|e| WorkflowError::Read(dir.to_path_buf(), e))?;
    let mut hits = Vec::new();
    for d in crate::analysis::lockfiles::downgrades(&changeset.files) {
        for a in advisories.iter().filter(|a| a.affects(&d.package, &d.to) && !a.affects(&d.package, &d.from)) {
            let hit = AdvisoryRef { id: a.id.clone(), package: d.package.clone(), version: d.to.clone() };
            if !hits.contains(&hit) {
                hits.push(hit);
            }
        }
    }
    Ok((hits, problems))
}

/// Amends request `req` with `change` applied to its current record.
pub(crate) fn amend(
    ctx: &Context,
    signer: Option<&str>,
    req: &str,
    reason: &str,
    change: &dyn Fn(&mut RequestBody) -> Result<(), String>,
) -> Result<(Receipt, EntryId), WorkflowError> {
    if reason.trim().is_empty() {
        return Err(WorkflowError::Usage("give the reason for the amendment with --reason".into()));
    }
    on_request(ctx, signer, req, AMENDED, &|d: &Draft<'_>| -> Result<Built, WorkflowError> {
        let mut record = d.view.record().clone();
        change(&mut record).map_err(WorkflowError::Usage)?;
        record.validate_to_sign()?;
        if &record == d.view.record() {
            return Err(WorkflowError::Usage("the amendment changes nothing".into()));
        }
        let previous = d.view.current().id;
        let body =
            AmendedBody { request: d.view.id.to_hex(), previous: previous.to_hex(), reason: reason.into(), record };
        Ok((serde_json::to_value(body)?, vec![previous]))
    })
}

/// Withdraws request `req`.
pub(crate) fn withdraw(
    ctx: &Context,
    signer: Option<&str>,
    req: &str,
    reason: &str,
) -> Result<(Receipt, EntryId), WorkflowError> {
    if reason.trim().is_empty() {
        return Err(WorkflowError::Usage("give the reason for withdrawing with --reason".into()));
    }
    on_request(ctx, signer, req, WITHDRAWN, &|d: &Draft<'_>| {
        let body = WithdrawnBody { request: d.view.id.to_hex(), reason: reason.into() };
        Ok((serde_json::to_value(body)?, vec![]))
    })
}
