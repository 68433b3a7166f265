//! The operations people and scripts perform, in two folders: `reads` answers questions (show, gate,
//! list, browse, verify, report, proofs) and `writes` records what people do (file, decide, execute,
//! enroll, sync) through the one door, `Session::append`. `context`, `clock` and `error` serve both. The
//! CLI and the TUI call these; neither touches the ledger's tables itself.
//!
//! Callers name operations by their flat path (`workflow::query::gate`, `workflow::decisions::decide`):
//! the re-exports below are the layer's public surface.

pub mod clock;
pub mod context;
pub mod error;
pub mod notify;
pub mod reads;
pub mod writes;

pub use context::{Context, Receipt, Session};
pub use error::WorkflowError;
pub use reads::{
    assess, browse, evidence, facts, index, index_lock, log, metrics, present, proofs, query, reconcile, report, state,
    verify, waiting, witness,
};
pub use writes::{
    act, audited, bulk, decisions, gitsync, identity, ingest, init, keys, lifecycle, note, purge, requests, salvage,
    sync,
};
