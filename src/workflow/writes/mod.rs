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
