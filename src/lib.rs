//! rollcall: a terminal console for secure rollback auditing, built on a signed, hash-chained SQLite ledger.
//!
//! Layers, each importing only those below it: `ledger` <- `identity` <- `audit` <- `policy`, `analysis`,
//! `evidence`, `ingest`, `report`, `sync` <- `workflow` (reads and writes) <- `demo` <- `cli`, `tui`. `text`,
//! `table`, `paths` and `child` are leaf utilities. `docs/ARCHITECTURE.md` draws them.
//!
//! Visibility: items are `pub(crate)` unless an integration (the binary, the tests, the benches, the fuzz
//! targets) needs them (`unreachable_pub` flags a `pub` item that nothing outside the crate can reach).

#![warn(unreachable_pub)]

pub mod analysis;
pub mod audit;
pub(crate) mod child;
pub mod cli;
pub mod demo;
pub(crate) mod evidence;
#[doc(hidden)]
pub mod fuzz;
pub mod identity;
pub mod ingest;
pub mod ledger;
pub(crate) mod paths;
pub mod policy;
pub mod report;
pub mod sync;
pub(crate) mod table;
pub(crate) mod text;
pub mod tui;
pub mod workflow;

/// When the process started (set first thing by the binary), for the console's launch benchmark.
pub static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
