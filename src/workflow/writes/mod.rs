//! Writes: the one door by which a signed statement reaches the ledger. Every operation here opens a
//! `Session` (signer unlocked, enrollment checked), builds its body from what `reads` says about the
//! ledger now, and appends through [`append`]: `Session::append` checks the candidate again against the
//! log exactly as it will be extended, then the request index is brought up to date.

pub mod act;
pub mod audited;
pub mod bulk;
pub mod decisions;
pub mod gitsync;
pub mod identity;
pub mod ingest;
pub mod init;
pub mod keys;
pub mod lifecycle;
pub mod note;
pub mod purge;
pub mod requests;
pub mod salvage;
pub mod sync;

use crate::ledger::{Ledger, Statement};
use crate::workflow::context::{Receipt, Session};
use crate::workflow::error::WorkflowError;

/// Appends `statement` through [`Session::append`] (checked by `validate` against the log as it will be
/// extended), then brings the request index up to date at once (the entry's text, the rows it changes): a
/// reader that may not write the file, such as an auditor's read-only console, would otherwise build a
/// whole index of its own for one entry. The entry is in either way; a failed refresh is left to the next
/// reader that may write.
pub(crate) fn append(
    session: &mut Session,
    statement: Statement,
    validate: &dyn Fn(&Ledger, &crate::identity::Roster) -> Result<(), WorkflowError>,
) -> Result<Receipt, WorkflowError> {
    let receipt = session.append(statement, validate)?;
    let _ = crate::workflow::reads::index::refresh_if_free(&session.ledger, crate::workflow::clock::now());
    Ok(receipt)
}

/// Removes the bytes a command stored under `digest` for an entry that was then refused (`None`: it
/// stored none, they were held already). A refusal leaves the ledger as it was: before, the bytes stayed,
/// named by no entry, in the file and every copy of it. A removal that fails (the disk, a lock) leaves
/// them so: they are never exported, since a bundle carries only the bytes its entries name.
pub(crate) fn forget_blob(ledger: &Ledger, digest: Option<&crate::ledger::Hash>) {
    let Some(d) = digest else { return };
    // In one write transaction, and only while no entry names the bytes: another process may have
    // attached the same file, or imported a bundle carrying it, since they were stored.
    let forget = || -> Result<(), WorkflowError> {
        let conn = ledger.cache_conn();
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let named = crate::audit::kinds::BLOB_FIELDS
            .iter()
            .map(|(kind, field)| ledger.ids_where(kind, field, &d.to_hex()).map(|ids| !ids.is_empty()))
            .collect::<Result<Vec<bool>, _>>();
        let done = match named {
            Ok(named) if !named.contains(&true) => crate::evidence::store::remove(conn, d)
                .and_then(|_| crate::evidence::store::drop_if_empty(conn))
                .map_err(WorkflowError::from),
            Ok(_) => Ok(()),
            Err(e) => Err(e.into()),
        };
        match done {
            Ok(()) => Ok(conn.execute_batch("COMMIT")?),
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    };
    let _ = forget();
}
