//! `rollcall rebuild --into NEW`: when a damaged page of the file's caches (the request index, the search
//! index, a look-up index) makes every reader fail and cannot be cleared in place, the record is copied
//! into a new file ([`crate::ledger::salvage`]), its caches are built there anew, and the copy is verified
//! whole. The damaged file is only read: replacing it is left to the user, with no rollcall process
//! holding it.

use crate::ledger::{Ledger, LedgerError};
use crate::workflow::verify::VerifyReport;
use crate::workflow::{Context, WorkflowError};
use std::path::{Path, PathBuf};

/// What `rebuild --into` made.
#[derive(Debug)]
pub struct Salvaged {
    pub into: PathBuf,
    /// Rows copied, per table of the record.
    pub rows: Vec<(String, u64)>,
    /// Requests in the new request index.
    pub requests: usize,
    /// The full verification of the new file (intact: else nothing is left at `into`).
    pub verified: VerifyReport,
}

/// Copies the record of `ctx`'s ledger and its evidence into a new file at `into`, builds its caches and
/// verifies it. A record table SQLite cannot read, or a copy that does not verify, leaves nothing at
/// `into`.
pub fn salvage(ctx: &Context, into: &Path) -> Result<Salvaged, WorkflowError> {
    let blobs = |conn: &rusqlite::Connection| -> Result<Vec<(String, u64)>, WorkflowError> {
        let n = crate::evidence::store::copy_attached(conn).map_err(|e| match e {
            // SQLite finding the source's blobs damaged is theirs; any other failure is the copy's.
            crate::evidence::store::BlobError::Sqlite(e) => match LedgerError::from(e) {
                LedgerError::Damaged(why) => LedgerError::Damaged(format!("the evidence blobs cannot be read: {why}")),
                e => LedgerError::Unwritable(into.to_path_buf(), format!("copying the evidence blobs: {e}")),
            },
            e => LedgerError::Unwritable(into.to_path_buf(), format!("copying the evidence blobs: {e}")),
        })?;
        Ok(vec![("blobs".into(), n)])
    };
    let finish = |copy: &Ledger| -> Result<(usize, VerifyReport), WorkflowError> {
        let requests = build_caches(copy).map_err(|e| match e {
            WorkflowError::Ledger(e) => {
                WorkflowError::Ledger(crate::ledger::salvage::copy_failed(into, "building its request index", e))
            }
            e => e,
        })?;
        let report = crate::workflow::verify::verify_open(copy);
        match &report.failure {
            None => Ok((requests, report)),
            // The copy could not be read back (its disk, a permission): the copy's failure, not the record's.
            Some(f) if f.not_read => Err(WorkflowError::Ledger(LedgerError::Unwritable(
                into.to_path_buf(),
                format!("reading the copy back to verify it: {f}"),
            ))),
            Some(f) => Err(WorkflowError::Ledger(LedgerError::Damaged(format!(
                "the record copied out of {} does not verify: {f}",
                ctx.ledger_path.display()
            )))),
        }
    };
    let ((requests, verified), copied) = crate::ledger::salvage::salvage(&ctx.ledger_path, into, blobs, finish)?;
    Ok(Salvaged { into: into.to_path_buf(), rows: copied.rows, requests, verified })
}

/// The request index and the look-up indexes of a new file.
fn build_caches(ledger: &Ledger) -> Result<usize, WorkflowError> {
    let requests = crate::workflow::index::rebuild(ledger, crate::workflow::clock::now())?;
    crate::workflow::reads::assess::ensure_indexes(ledger);
    Ok(requests)
}
