//! The generic signed append-only log on SQLite: statements and their signatures, the hash-chained leaves,
//! the RFC 6962 Merkle tree, C2SP checkpoints, and verification. It knows nothing about rollbacks: kinds
//! and bodies are opaque JSON to it, and who may sign is decided above it.

pub mod bulk;
pub mod causal;
pub mod cosign;
pub mod dsse;
pub mod error;
pub mod hash;
pub mod inclusion;
pub mod key;
pub mod leaf;
pub mod merkle;
pub mod mirror;
pub mod note;
mod open_files;
pub mod pipeline;
pub mod pos;
pub mod proof;
pub mod query;
pub mod schema;
pub mod statement;
pub mod store;
pub mod verify;
pub mod writer;

pub use error::LedgerError;
pub use hash::{EntryId, Hash};
pub use key::PublicKey;
pub use pos::{POS_MAX, Pos};
pub use statement::{SignedStatement, Statement, StatementError};
pub use store::{AppendOutcome, Ledger, LogRow, Origin};
