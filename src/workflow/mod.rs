//! The operations people and scripts perform — create keys, initialize a ledger, record entries, read the
//! log, verify — each validated, signed and appended here. The CLI and the TUI call these; neither writes
//! to the ledger itself.

pub mod act;
pub mod assess;
pub mod browse;
pub mod clock;
pub mod context;
pub mod decisions;
pub mod demo;
pub mod error;
pub mod evidence;
pub mod gitsync;
pub mod identity;
pub mod index;
pub mod init;
pub mod keys;
pub mod lifecycle;
pub mod log;
pub mod metrics;
pub mod note;
pub mod present;
pub mod proofs;
pub mod query;
pub mod report;
pub mod requests;
pub mod state;
pub mod sync;
pub mod verify;

pub use context::{Context, Receipt, Session};
pub use error::WorkflowError;
