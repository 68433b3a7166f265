//! `prove` and `verify-proof`: inclusion proofs of one entry and consistency proofs of one log, written
//! from the ledger and checked from the files alone.

use crate::sync::proof::{EntryProof, ProofVerdict};
use crate::workflow::context::Context;
use crate::workflow::error::WorkflowError;
use std::path::Path;

/// Largest proof or entry file read.
const MAX_PROOF_FILE: u64 = 1 << 20;

/// The inclusion proof of the entry `prefix` names (any kind).
pub(crate) fn entry(ctx: &Context, prefix: &str) -> Result<EntryProof, WorkflowError> {
    let ledger = ctx.open_read_only()?;
    let id = resolve(&ledger, prefix)?;
    Ok(crate::sync::proof::prove_entry(&ledger, &id)?)
}

fn resolve(ledger: &crate::ledger::Ledger, prefix: &str) -> Result<crate::ledger::EntryId, WorkflowError> {
    if let Some(id) = crate::ledger::Hash::from_hex(prefix) {
        return Ok(id);
    }
    let mut found = Vec::new();
    for kind in ledger_kinds(ledger)? {
        found.extend(ledger.ids_with_prefix(&kind, prefix, 2)?);
    }
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(WorkflowError::NotFound(format!("no entry id starts with {prefix:?}"))),
        _ => Err(WorkflowError::Usage(format!("{prefix:?} matches several entries; give more of the id"))),
    }
}

fn ledger_kinds(ledger: &crate::ledger::Ledger) -> Result<Vec<String>, WorkflowError> {
    Ok(ledger.kinds()?)
}

/// A consistency proof of `origin` (default: the own log) from its checkpoint of size `old`.
pub(crate) fn consistency(ctx: &Context, origin: Option<&str>, old: u64) -> Result<(String, u64), WorkflowError> {
    let ledger = ctx.open_read_only()?;
    let origin = match origin {
        Some(name) => ledger.origin_by_name(name)?,
        None => ledger.own_origin().clone(),
    };
    Ok(crate::sync::proof::prove_consistency(&ledger, &origin, old)?)
}

fn read_small(path: &Path) -> Result<Vec<u8>, WorkflowError> {
    let meta = std::fs::metadata(path).map_err(|e| WorkflowError::Read(path.to_path_buf(), e))?;
    if meta.len() > MAX_PROOF_FILE {
        return Err(WorkflowError::Usage(format!("{} is larger than a proof or an entry can be", path.display())));
    }
    crate::paths::read_capped(path, MAX_PROOF_FILE).map_err(|e| WorkflowError::Read(path.to_path_buf(), e))
}

/// Checks a proof file. The outer error is unreadable input; the inner one an invalid proof.
pub(crate) fn verify(
    file: &Path,
    entry_file: Option<&Path>,
    keys: &[String],
) -> Result<Result<ProofVerdict, String>, WorkflowError> {
    let text = String::from_utf8(read_small(file)?)
        .map_err(|_| WorkflowError::Usage(format!("{} is not a text proof", file.display())))?;
    let entry = entry_file.map(read_small).transpose()?;
    Ok(crate::sync::proof::verify_proof(&text, entry.as_deref(), keys).map_err(|e| e.to_string()))
}

/// What an auditor checks of one entry, as lines: where it sits (origin, leaf index, position), who signed
/// it and whether the signature verifies (`verify_strict` over DSSE PAE), its signature, and whether it is
/// included under a signed checkpoint of its log (an inclusion proof built from this file and checked as
/// `verify-proof` checks one, against this ledger's key for that origin), with the witnesses that cosigned
/// that checkpoint. Untrusted text is the caller's to sanitize.
pub(crate) fn inspect(
    ledger: &crate::ledger::Ledger,
    id: &crate::ledger::EntryId,
) -> Result<Vec<String>, WorkflowError> {
    let row = ledger.entry(id)?.ok_or_else(|| WorkflowError::NotFound(format!("no entry {}", id.short(12))))?;
    let origin = ledger.origins()?.into_iter().find(|o| o.id == row.origin);
    let roster = crate::identity::Roster::from_ledger(ledger)?;
    let mut out = vec![
        format!("entry      {}", row.entry.id.to_hex()),
        format!("kind       {}", row.kind),
        format!("time       {}", row.ts),
        format!("log        {} leaf {}", origin.as_ref().map_or("(unknown origin)", |o| o.name.as_str()), row.index),
    ];
    match row.entry.check(&ledger.domain()) {
        Ok(head) => {
            out.push(format!("signer     {} ({})", roster.display(&head.actor), head.actor.encode()));
            out.push("signature  ✓ verifies (Ed25519 verify_strict over DSSE PAE of the statement)".into());
        }
        Err(e) => {
            out.push(format!("signer     {} (as stored)", row.actor));
            out.push(format!("signature  ✗ {e}"));
        }
    }
    out.push(format!("           {}", hex::encode(row.entry.signature)));
    let included = match (&origin, crate::sync::proof::prove_entry(ledger, id)) {
        (None, _) => "✗ its origin is not in this file".to_string(),
        (_, Err(e)) => format!("– not proven: {e}"),
        (Some(o), Ok(p)) => {
            let trusted = [crate::ledger::note::verifier_key(&o.name, &o.key)];
            match crate::sync::proof::verify_proof(&p.text, Some(&p.statement), &trusted) {
                Ok(v) => {
                    let cosigned = if v.witnesses.is_empty() {
                        "not cosigned by a witness".to_string()
                    } else {
                        format!("cosigned by {}", v.witnesses.join(", "))
                    };
                    format!("✓ included in {} at size {}, {cosigned}", v.origin, v.size)
                }
                Err(e) => format!("✗ the inclusion proof fails: {e}"),
            }
        }
    };
    out.push(format!("inclusion  {included}"));
    out.push(String::new());
    out.push(format!("canonical statement ({} bytes, its SHA-256 is the entry id):", row.entry.bytes.len()));
    out.push(String::from_utf8_lossy(&row.entry.bytes).into_owned());
    Ok(out)
}
