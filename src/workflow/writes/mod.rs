//! Writes: the one door by which a signed statement reaches the ledger. Every operation here opens a
//! `Session` (signer unlocked, enrollment checked), builds its body from what `reads` says about the
//! ledger now, and appends through `Session::append`, which checks the candidate again against the log
//! exactly as it will be extended.

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
pub mod sync;
