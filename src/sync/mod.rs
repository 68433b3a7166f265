//! Sync between machines by files: the bundle format, export of the own log and every mirror, import
//! that verifies everything before committing, witness cosignatures, fork and rollback detection, and
//! C2SP tlog-proof files for single entries.

pub(crate) mod bundle;
pub mod export;
pub mod import;
pub(crate) mod proof;

use crate::evidence::store::BlobError;
use crate::ledger::LedgerError;
use crate::ledger::note::NoteError;
use crate::ledger::pipeline::Stopped;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The bundle is malformed, forged or does not verify; nothing was written.
    #[error("bundle refused at line {line}: {problem}")]
    Bundle { line: u64, problem: String },
    /// An origin showed two histories, or less than it showed before; nothing was imported and the
    /// evidence was kept.
    #[error("SECURITY: {0}")]
    Security(String),
    /// As [`SyncError::Security`], but the evidence could not be recorded (the message says why): nothing
    /// was imported and nothing was kept.
    #[error("SECURITY: {0}")]
    SecurityUnrecorded(String),
    /// A peer's checkpoint shows another history of a log than this ledger's; found while exporting, so
    /// nothing was recorded (the peer's import of this ledger's bundle records it).
    #[error("SECURITY: {0}")]
    Diverged(String),
    #[error("cannot access {0}: {1}")]
    Io(std::path::PathBuf, std::io::Error),
    /// The temporary ledger a bundle is verified in (`verify --bundle`, reports of a bundle) could not be
    /// written there: the system's reason (its disk full, a file size limit), not the bundle's.
    #[error("cannot write the bundle's audit copy in {0}: {1}")]
    AuditCopy(std::path::PathBuf, String),
    /// A `--since` checkpoint given to an export is not a valid signed checkpoint of that origin.
    #[error("the --since checkpoint of origin {origin} does not verify: {source}")]
    Since { origin: String, source: NoteError },
    /// Stored evidence could not be read or written (the blob store under the ledger).
    #[error("cannot read evidence {digest}: {source}")]
    EvidenceRead { digest: String, source: BlobError },
    #[error(transparent)]
    Evidence(#[from] BlobError),
    /// A verifying thread of the pipeline stopped (it panicked).
    #[error(transparent)]
    Stopped(#[from] Stopped),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}
