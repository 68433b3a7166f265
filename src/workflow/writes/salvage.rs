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

/// Copies the record of `ctx`'s ledger into a new file at `into`, builds its caches and verifies it. A
/// record table SQLite cannot read, or a copy that does not verify, leaves nothing at `into`.
pub fn salvage(ctx: &Context, into: &Path) -> Result<Salvaged, WorkflowError> {
    let (ledger, mut copied) = crate::ledger::salvage::salvage(&ctx.ledger_path, into)?;
    let built = copy_blobs(&ctx.ledger_path, &ledger).and_then(|blobs| {
        copied.rows.push(("blobs".into(), blobs));
        build_caches(&ledger)
    });
    drop(ledger);
    let verified = built.and_then(|requests| {
        // Opened for writing, though only read: its last close then removes the -wal and -shm files.
        let copy = Ledger::open(into)?;
        let report = crate::workflow::verify::verify_open(&copy);
        match &report.failure {
            None => Ok((requests, report)),
            Some(f) => Err(WorkflowError::Ledger(LedgerError::Damaged(format!(
                "the record copied out of {} does not verify: {f}",
                ctx.ledger_path.display()
            )))),
        }
    });
    match verified {
        Ok((requests, verified)) => Ok(Salvaged { into: into.to_path_buf(), rows: copied.rows, requests, verified }),
        Err(e) => {
            remove_ledger_files(into);
            Err(e)
        }
    }
}

/// The evidence blobs of the ledger at `from` copied into `into`'s file.
fn copy_blobs(from: &Path, into: &Ledger) -> Result<u64, WorkflowError> {
    let old = Ledger::open_read_only(from)?;
    crate::evidence::store::copy_all(old.cache_conn(), into.cache_conn())
        .map_err(|e| WorkflowError::Ledger(LedgerError::Damaged(format!("the evidence blobs cannot be copied: {e}"))))
}

/// The request index and the look-up indexes of a new file.
fn build_caches(ledger: &Ledger) -> Result<usize, WorkflowError> {
    let requests = crate::workflow::index::rebuild(ledger, crate::workflow::clock::now())?;
    crate::workflow::reads::assess::ensure_indexes(ledger);
    Ok(requests)
}

/// Removes a ledger file this command made, with SQLite's files and the index's lock beside it.
fn remove_ledger_files(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal", "-index.lock", "-index.log"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
}
