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
    if let Some(d) = digest {
        let _ = crate::evidence::store::remove(ledger.cache_conn(), d);
        // The table of bytes, when storing these made it, goes too (a ledger without bytes has none).
        let _ = crate::evidence::store::drop_if_empty(ledger.cache_conn());
    }
}
