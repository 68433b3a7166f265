//! Reads: everything that answers a question about the ledger without signing anything. The request
//! index (a derived cache, rebuilt from the signed entries at will) is the only table written here.
//! Nothing in this folder imports `writes`.

pub mod assess;
pub mod browse;
mod domain_pass;
pub mod evidence;
pub mod facts;
pub mod index;
pub mod index_lock;
pub mod log;
pub(crate) mod memory;
pub mod metrics;
pub mod present;
pub mod proofs;
pub mod query;
pub mod reconcile;
pub mod report;
pub mod snapshot;
pub mod state;
pub mod verify;
pub mod waiting;
pub mod witness;
