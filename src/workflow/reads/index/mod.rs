//! The request index: a cache table with one row per request (title, status, environment, risk, approvals
//! have/need, earliest obligation) so that `list` and the TUI's queue answer instantly on large ledgers.
//! It is derived from the entries, caught up incrementally from the log position it last saw, recomputed
//! where time alone can change a status, and rebuilt from scratch by `rollcall rebuild`. `show` and `gate`
//! never read it.
//!
//! Its parts, each using only those listed after it: `upkeep` (the catch-up, rebuild and read-only entry
//! points), `rebuild` (the stepped rebuild), `text` (the search index), `rows` (a request's row, computed
//! and stored), `schema` (tables, sort orders, metadata); `query` reads what they keep.

mod query;
mod rebuild;
mod rows;
mod schema;
mod text;
mod upkeep;

pub use query::{Filter, Row, query};
pub(crate) use query::{ROW_COLUMNS, query_each, with_obligations};
pub(crate) use schema::RISK_RANK;
pub use upkeep::{
    Upkeep, catch_up, defer_rebuilds, rebuild, refresh, refresh_or_defer, refresh_read_only, take_deferred,
};
pub(crate) use upkeep::{rebuild_unless_read_only, refresh_if_free};
