//! Errors of the workflow layer, and whether each is a failed check or bad input.

use crate::identity::IdentityError;
use crate::ledger::{LedgerError, StatementError};
use crate::policy::PolicyError;
use std::path::PathBuf;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum WorkflowError {
    #[error("{0}")]
    Ledger(#[from] LedgerError),
    #[error("{0}")]
    Identity(#[from] IdentityError),
    #[error("{0}")]
    Policy(#[from] PolicyError),
    #[error("{0}")]
    Statement(#[from] StatementError),
    #[error("{0}")]
    Note(#[from] crate::audit::note::NoteError),
    #[error("{0}")]
    Sync(crate::sync::SyncError),
    #[error("key {name:?} ({key_id}) is not enrolled in this ledger; an admin must enroll it first")]
    NotEnrolled { name: String, key_id: String },
    #[error("cannot read {0}: {1}")]
    Read(PathBuf, #[source] std::io::Error),
    /// A revert's change set could not be read (bad input).
    #[error("{0}")]
    Analysis(#[from] crate::analysis::AnalysisError),
    /// A request record is not valid (bad input).
    #[error("{0}")]
    Record(#[from] crate::audit::record::InvalidRecord),
    /// The command line or an input was wrong: exit 2.
    #[error("{0}")]
    Usage(String),
    /// The system failed under the command (terminal, output, a tool it runs): exit 1, not a usage error.
    #[error("cannot {0}: {1}")]
    Io(String, #[source] std::io::Error),
    /// Stored evidence could not be read or written.
    #[error("{0}")]
    Evidence(crate::evidence::store::BlobError),
    /// A value of our own types failed to encode or decode (a bug, or an unreadable stored body).
    #[error("cannot encode or decode a record: {0}")]
    Encode(#[from] serde_json::Error),
    #[error("{0}")]
    NotFound(String),
    /// A worker thread of a walk stopped (it panicked): the walk could not finish.
    #[error("{0}")]
    Stopped(#[from] crate::ledger::pipeline::Stopped),
    /// The ledger or the policy refuses the operation (an illegal move, a rule not met).
    #[error("refused: {0}")]
    Refused(String),
}

impl From<crate::evidence::store::BlobError> for WorkflowError {
    /// The blob store is a table of the ledger file: its SQLite failures are the ledger's (busy, damaged,
    /// the disk failing), said and classified as such.
    fn from(e: crate::evidence::store::BlobError) -> Self {
        match e {
            crate::evidence::store::BlobError::Sqlite(e) => WorkflowError::Ledger(LedgerError::from(e)),
            e => WorkflowError::Evidence(e),
        }
    }
}

impl From<crate::audit::Refusal> for WorkflowError {
    fn from(r: crate::audit::Refusal) -> Self {
        WorkflowError::Refused(r.0)
    }
}

impl WorkflowError {
    /// Why `key` (named `name`) may not sign here: not enrolled, or, when the roster has no genesis (the
    /// file's first entry is missing or does not check), nobody is: "an admin must enroll it" would send
    /// the user after the wrong problem in a damaged or altered file.
    pub(crate) fn not_enrolled(
        roster: &crate::identity::Roster,
        name: String,
        key: &crate::ledger::PublicKey,
    ) -> WorkflowError {
        if roster.genesis().is_none() {
            return WorkflowError::Ledger(LedgerError::Damaged(
                "its genesis entry is missing or does not check (the file was altered or damaged), so no key is \
                 enrolled in it; `rollcall verify` names the problem"
                    .into(),
            ));
        }
        WorkflowError::NotEnrolled { name, key_id: key.key_id() }
    }

    /// True when the command failed rather than being given bad input: a failed check (integrity,
    /// authorization, a refusal) or a failure of the system under it (exit 1; bad input exits 2).
    pub(crate) fn is_failure(&self) -> bool {
        matches!(
            self,
            WorkflowError::Ledger(
                LedgerError::Damaged(_) | LedgerError::Note(_) | LedgerError::Storage(_) | LedgerError::Unwritable(..)
            ) | WorkflowError::Io(..)
                | WorkflowError::Stopped(_)
                | WorkflowError::Encode(_)
                | WorkflowError::NotEnrolled { .. }
                | WorkflowError::Identity(IdentityError::WrongPassphrase(_))
                | WorkflowError::Refused(_)
                | WorkflowError::Sync(
                    crate::sync::SyncError::Bundle { .. }
                        | crate::sync::SyncError::Security(_)
                        | crate::sync::SyncError::SecurityUnrecorded(_)
                        | crate::sync::SyncError::Diverged(_)
                )
        )
    }

    /// What the user can do about it, when the message alone does not say.
    pub(crate) fn hint(&self) -> Option<&'static str> {
        match self {
            WorkflowError::Ledger(LedgerError::NotFound(_)) => Some(
                "check --ledger, ROLLCALL_LEDGER and ROLLCALL_HOME (a CI job joins or restores the team's ledger \
                     first); a new team starts one with `rollcall init --admin NAME`",
            ),
            WorkflowError::Ledger(LedgerError::NotALedger(..)) => Some("check --ledger / ROLLCALL_LEDGER"),
            WorkflowError::Ledger(LedgerError::Damaged(_)) => Some(
                "run `rollcall verify` for details; when it finds the entries intact, `rollcall rebuild --into NEW` \
                 copies them into a new file",
            ),
            WorkflowError::Ledger(LedgerError::Sqlite(e)) if crate::ledger::refused_access(e) => {
                Some(crate::ledger::ACCESS_HINT)
            }
            WorkflowError::Ledger(LedgerError::Storage(_) | LedgerError::Unwritable(..)) => {
                Some("check the free space and the disk it writes to; nothing half-written is kept")
            }
            WorkflowError::Identity(IdentityError::UnknownKey { .. }) => Some("create it with `rollcall key new NAME`"),
            WorkflowError::Identity(IdentityError::WrongPassphrase(_)) => {
                Some("check ROLLCALL_PASSPHRASE or retype it")
            }
            WorkflowError::Sync(crate::sync::SyncError::Security(_)) => {
                Some("the evidence is kept in this ledger; see `rollcall verify` and the Integrity screen")
            }
            WorkflowError::Sync(crate::sync::SyncError::SecurityUnrecorded(_)) => Some(
                "nothing was imported and the evidence is not kept: once what stopped it is fixed, import the bundle again",
            ),
            WorkflowError::Sync(crate::sync::SyncError::Diverged(_)) => Some(
                "nothing was written; send this ledger's full bundle to the peer, whose import records the evidence",
            ),
            _ => None,
        }
    }
}
