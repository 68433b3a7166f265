//! The generic signed append-only log on SQLite: statements and their signatures, the hash-chained leaves,
//! the RFC 6962 Merkle tree, C2SP checkpoints, and verification. It knows nothing about rollbacks: kinds
//! and bodies are opaque JSON to it, and who may sign is decided above it.

pub(crate) mod bulk;
pub mod causal;
pub mod cosign;
pub mod dsse;
pub(crate) mod error;
pub mod hash;
pub(crate) mod history;
pub(crate) mod inclusion;
pub(crate) mod key;
pub mod leaf;
pub mod merkle;
pub(crate) mod mirror;
pub mod note;
mod open_files;
pub(crate) mod pipeline;
pub(crate) mod pos;
pub(crate) mod proof;
pub(crate) mod query;
pub(crate) mod refs_check;
pub mod salvage;
pub(crate) mod schema;
pub(crate) mod sorted_runs;
pub mod statement;
pub(crate) mod store;
pub mod verify;
pub(crate) mod writer;

pub(crate) use error::{ACCESS_HINT, refused_access};
pub use error::{LedgerError, ReadProblem, not_read, read_problem, read_problem_of};
pub use hash::{EntryId, Hash};
pub use key::PublicKey;
pub(crate) use pos::{POS_MAX, Pos};
pub use statement::{SignedStatement, Statement, StatementError};
pub use store::{Ledger, LogRow, Origin};
