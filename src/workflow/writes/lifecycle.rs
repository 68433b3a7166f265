//! After the decision: executing, validating, reviewing and closing a rollback, linking incidents,
//! attaching evidence, and notes on a request.

use super::act::{Built, Draft, append_naming_on, append_on, on_request};
use crate::audit::bodies::*;
use crate::audit::kinds::*;
use crate::audit::note::NoteBody;
use crate::ledger::EntryId;
use crate::workflow::context::{Context, Receipt, Session};
use crate::workflow::error::WorkflowError;
use crate::workflow::reads::state::resolve_request;
use std::path::Path;

/// What `execute` records.
pub(crate) struct Execution<'a> {
    pub outcome: Outcome,
    pub output_file: Option<&'a Path>,
    /// The command run; defaults to the approved revert operation.
    pub command: Option<Vec<String>>,
    /// Where it ran; defaults to the request's environment.
    pub env: Option<String>,
    /// The component it rolled back, when the caller knows it: refused unless the request lists it.
    pub component: Option<String>,
    pub notes: Option<String>,
}

impl Execution<'_> {
    /// A run of the approved operation in the request's environment with `outcome`, and nothing else said.
    pub(crate) fn plain(outcome: Outcome) -> Self {
        Execution { outcome, output_file: None, command: None, env: None, component: None, notes: None }
    }
}

/// SHA-256 (hex) of a file, streamed.
pub(crate) fn file_digest(path: &Path) -> Result<String, WorkflowError> {
    use sha2::{Digest, Sha256};
    let read = |e| WorkflowError::Read(path.to_path_buf(), e);
    // Checked on the handle opened (without waiting for a writer, were it a FIFO): a device such as
    // /dev/zero would be hashed without end, and a path swapped after a check could be anything.
    let opts = {
        let mut o = std::fs::OpenOptions::new();
        o.read(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            o.custom_flags(libc::O_NONBLOCK);
        }
        o
    };
    let mut f = opts.open(path).map_err(read)?;
    if !f.metadata().map_err(read)?.is_file() {
        return Err(WorkflowError::Usage(format!("{} is not a regular file", path.display())));
    }
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h).map_err(read)?;
    Ok(hex::encode(h.finalize()))
}

/// Records the execution of request `req`.
pub(crate) fn execute(
    ctx: &Context,
    signer: Option<&str>,
    req: &str,
    x: Execution<'_>,
) -> Result<(Receipt, EntryId), WorkflowError> {
    crate::workflow::reads::query::component_arg(x.component.as_deref())?;
    let output_sha256 = x.output_file.map(file_digest).transpose()?;
    let (mut receipt, id) = on_request(ctx, signer, req, EXECUTED, &|d: &Draft<'_>| -> Result<Built, WorkflowError> {
        let record = d.view.record();
        let command = x.command.clone().unwrap_or_else(|| record.revert.argv.clone());
        if command != record.revert.argv {
            return Err(WorkflowError::Refused(format!(
                "the command differs from the approved revert operation ({}); amend the request to change it",
                crate::audit::record::join_command(&record.revert.argv)
            )));
        }
        if let Some(c) = &x.component
            && let Some(why) = crate::workflow::reads::query::other_component(&record.components, c)
        {
            return Err(WorkflowError::Refused(why));
        }
        let env = x.env.clone().unwrap_or_else(|| record.env.clone());
        if !crate::audit::record::same_env(&env, &record.env) {
            return Err(WorkflowError::Refused(format!(
                "the request reverts {}, not {env}; file a request for {env}",
                record.env
            )));
        }
        let body = ExecutedBody {
            request: d.view.id.to_hex(),
            version: d.view.current().id.to_hex(),
            revert_digest: record.revert_digest(),
            env,
            from: record.revert.from.clone(),
            to: record.revert.to.clone(),
            command,
            output_sha256: output_sha256.clone(),
            outcome: x.outcome,
            notes: x.notes.clone(),
        };
        Ok((serde_json::to_value(body)?, vec![d.view.current().id]))
    })?;
    // Committed: escalate an execution whose gate an emergency waived (`gate.bypassed`).
    receipt.warnings.extend(crate::workflow::notify::executed(ctx, &id, &receipt.entry_id));
    Ok((receipt, id))
}

/// Attaches a file (or a link) as evidence to request `req`. The file is read once (hashing as it is
/// read), recognised, stored by digest, and described in the signed entry. Returns warnings about
/// files that looked like a known format but did not parse (they are still attached).
pub fn attach_evidence(
    ctx: &Context,
    signer: Option<&str>,
    req: &str,
    kind: &str,
    file: Option<&Path>,
    url: Option<&str>,
    source: Option<&str>,
) -> Result<(Receipt, EntryId), WorkflowError> {
    if !crate::policy::model::EVIDENCE_KINDS.contains(&kind) {
        return Err(WorkflowError::Usage(format!(
            "evidence kind {kind:?} is not one of {}",
            crate::policy::model::EVIDENCE_KINDS.join(", ")
        )));
    }
    if file.is_none() && url.is_none() {
        return Err(WorkflowError::Usage("give a FILE to attach or a --url to record".into()));
    }
    if let Some(u) = url
        && (u.len() > 2000 || u.chars().any(char::is_whitespace) || u.is_empty())
    {
        return Err(WorkflowError::Usage("--url must be one link without spaces (at most 2000 characters)".into()));
    }
    let mut session = ctx.session(signer)?;
    let id = resolve_request(&session.ledger, req)?;
    Ok((attach_in(&mut session, &id, kind, file, url, source)?, id))
}

/// As [`attach_evidence`], in an open session, for a resolved request `id`. Bytes it stored are removed
/// again when the entry naming them is refused: a refusal leaves the ledger as it was.
fn attach_in(
    session: &mut Session,
    id: &EntryId,
    kind: &str,
    file: Option<&Path>,
    url: Option<&str>,
    source: Option<&str>,
) -> Result<Receipt, WorkflowError> {
    let cap = {
        let snap = crate::workflow::reads::state::Snapshot::load(&session.ledger)?;
        crate::evidence::store::cap(snap.policies.current().1.evidence.max_file_mib)
    };
    let mut body = EvidenceBody {
        request: id.to_hex(),
        kind: kind.to_string(),
        sha256: None,
        size: None,
        media_type: None,
        name: None,
        url: url.map(str::to_string),
        source: source.map(str::to_string),
        format: None,
        summary: None,
        counts: Default::default(),
    };
    let mut warnings = Vec::new();
    let (mut stored, mut held) = (None, Vec::new());
    if let Some(path) = file {
        // Two bounded passes over the file: a scan (digest, size, text or not), then a copy into the store
        // that checks the bytes did not change; the parser then reads the stored copy as it streams.
        let scan = crate::evidence::store::scan_file(path, cap)?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "evidence".into());
        if name.chars().count() > crate::audit::record::MAX_LINE {
            return Err(WorkflowError::Usage("the file name is too long".into()));
        }
        let conn = session.ledger.cache_conn();
        if crate::evidence::store::put_file(conn, path, &scan)? {
            stored = Some(scan.digest);
        }
        held.push(scan.digest);
        let (parsed, warning) = crate::evidence::recognize::recognize_stream(&name, &scan, || {
            crate::evidence::store::open(conn, &scan.digest)
                .map_err(std::io::Error::other)?
                .map(|(blob, _)| blob)
                .ok_or_else(|| std::io::Error::other("the stored bytes are missing"))
        });
        warnings.extend(warning);
        let size = usize::try_from(scan.len).unwrap_or(usize::MAX);
        body.sha256 = Some(scan.digest.to_hex());
        body.size = Some(scan.len.to_string());
        body.media_type = Some(parsed.media_type().to_string());
        body.format = Some(parsed.format().to_string());
        body.summary = Some(parsed.summary(size));
        body.counts = parsed.counts();
        body.name = Some(name);
    }
    let appended = serde_json::to_value(body)
        .map_err(WorkflowError::from)
        .and_then(|body| append_naming_on(session, id, EVIDENCE_ATTACHED, &|_| Ok((body.clone(), vec![])), &held));
    let mut receipt = match appended {
        Ok(r) => r,
        Err(e) => {
            super::forget_blob(&session.ledger, stored.as_ref());
            return Err(e);
        }
    };
    receipt.warnings.extend(warnings);
    Ok(receipt)
}

/// Records post-rollback validation of request `req`; an evidence file is attached first.
pub(crate) fn validate(
    ctx: &Context,
    signer: Option<&str>,
    req: &str,
    result: CheckResult,
    checks: Vec<Check>,
    evidence: Option<&Path>,
    notes: Option<String>,
) -> Result<(Receipt, EntryId), WorkflowError> {
    let Some(path) = evidence else {
        return on_request(ctx, signer, req, VALIDATED, &validated(result, &checks, &notes, None));
    };
    // One session for both entries (one passphrase), and the validation checked before its evidence is
    // recorded: a validation the request's state refuses (not executed yet, say) leaves no evidence entry
    // behind it.
    resolve_request(&ctx.open_read_only()?, req)?;
    let mut session = ctx.session(signer)?;
    let id = resolve_request(&session.ledger, req)?;
    super::act::check_on(&session, &id, VALIDATED, &validated(result, &checks, &notes, None))?;
    let evidence_id = attach_in(&mut session, &id, "validation", Some(path), None, None)?.entry_id;
    let receipt = append_on(&mut session, &id, VALIDATED, &validated(result, &checks, &notes, Some(evidence_id)))?;
    Ok((receipt, id))
}

/// The builder of a validation entry, naming the evidence entry attached with it when there is one.
fn validated<'a>(
    result: CheckResult,
    checks: &'a [Check],
    notes: &'a Option<String>,
    evidence_id: Option<EntryId>,
) -> impl Fn(&Draft<'_>) -> Result<Built, WorkflowError> + 'a {
    move |d: &Draft<'_>| -> Result<Built, WorkflowError> {
        let body = ValidatedBody {
            request: d.view.id.to_hex(),
            result,
            checks: checks.to_vec(),
            evidence: evidence_id.map(|e| e.to_hex()),
            notes: notes.clone(),
        };
        Ok((serde_json::to_value(body)?, evidence_id.into_iter().collect()))
    }
}

/// Records a post-hoc or post-incident review of request `req`.
pub(crate) fn review(
    ctx: &Context,
    signer: Option<&str>,
    req: &str,
    kind: ReviewKind,
    summary: &str,
    lessons: Vec<String>,
) -> Result<(Receipt, EntryId), WorkflowError> {
    if summary.trim().is_empty() {
        return Err(WorkflowError::Usage("a review needs a summary (--summary)".into()));
    }
    on_request(ctx, signer, req, REVIEWED, &|d: &Draft<'_>| -> Result<Built, WorkflowError> {
        if kind == ReviewKind::PostHoc
            && let Some(why) = d.view.post_hoc_refusal(&|k| d.snap.roster.same_member(k, &d.signer))
        {
            return Err(WorkflowError::Refused(why.into()));
        }
        let body =
            ReviewedBody { request: d.view.id.to_hex(), kind, summary: summary.into(), lessons: lessons.clone() };
        Ok((serde_json::to_value(body)?, vec![]))
    })
}

/// Closes request `req`.
pub(crate) fn close(
    ctx: &Context,
    signer: Option<&str>,
    req: &str,
    resolution: Resolution,
    superseded_by: Option<&str>,
    comment: &str,
) -> Result<(Receipt, EntryId), WorkflowError> {
    if comment.trim().is_empty() {
        return Err(WorkflowError::Usage("closing needs a comment (--comment)".into()));
    }
    if (resolution == Resolution::Superseded) != superseded_by.is_some() {
        return Err(WorkflowError::Usage(
            "--superseded-by REQ goes with --resolution superseded, and only with it".into(),
        ));
    }
    let superseded = match superseded_by {
        Some(p) => Some(resolve_request(&ctx.open_read_only()?, p)?),
        None => None,
    };
    on_request(ctx, signer, req, CLOSED, &|d: &Draft<'_>| -> Result<Built, WorkflowError> {
        if superseded == Some(d.view.id) {
            return Err(WorkflowError::Usage("a request cannot supersede itself".into()));
        }
        let body = ClosedBody {
            request: d.view.id.to_hex(),
            resolution,
            superseded_by: superseded.map(|s| s.to_hex()),
            comment: comment.into(),
        };
        Ok((serde_json::to_value(body)?, superseded.into_iter().collect()))
    })
}

/// Links request `req` to an incident.
pub(crate) fn link_incident(
    ctx: &Context,
    signer: Option<&str>,
    req: &str,
    incident: &str,
    url: Option<&str>,
) -> Result<(Receipt, EntryId), WorkflowError> {
    if incident.trim().is_empty() || incident.len() > crate::audit::record::MAX_LINE {
        return Err(WorkflowError::Usage("give the incident id (one line)".into()));
    }
    on_request(ctx, signer, req, INCIDENT_LINKED, &|d: &Draft<'_>| -> Result<Built, WorkflowError> {
        let body =
            IncidentLinkedBody { request: d.view.id.to_hex(), incident: incident.into(), url: url.map(str::to_string) };
        Ok((serde_json::to_value(body)?, vec![]))
    })
}

/// A note about request `req`.
pub fn note_on(
    ctx: &Context,
    signer: Option<&str>,
    req: &str,
    text: &str,
) -> Result<(Receipt, EntryId), WorkflowError> {
    NoteBody::new(text, None)?;
    on_request(ctx, signer, req, NOTE, &|d: &Draft<'_>| -> Result<Built, WorkflowError> {
        let body = NoteBody::new(text, Some(d.view.id.to_hex()))?;
        Ok((serde_json::to_value(body)?, vec![]))
    })
}

/// Records that `digest` (an image, artifact or revision) is bad: reverts that bring it back are flagged.
pub(crate) fn mark_bad(
    ctx: &Context,
    signer: Option<&str>,
    digest: &str,
    reason: &str,
) -> Result<Receipt, WorkflowError> {
    let digest = digest.trim();
    if digest.is_empty()
        || digest.len() > crate::audit::record::MAX_LINE
        || digest.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(WorkflowError::Usage("give the digest or revision as one word".into()));
    }
    if reason.trim().is_empty() {
        return Err(WorkflowError::Usage("give the reason (--reason)".into()));
    }
    let mut session = ctx.session(signer)?;
    let actor = session.signer.public();
    let body = serde_json::to_value(MarkedBadBody { digest: digest.into(), reason: reason.into() })?;
    let st = crate::ledger::Statement::new_at(MARKED_BAD, &actor, body, &[], crate::workflow::clock::now());
    super::append(&mut session, st, &|_, _, _| Ok(()))
}
