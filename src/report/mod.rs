//! Reporting: governance metrics computed from per-request facts, reports as Markdown, JSON and CSV, and
//! decision timelines for post-mortems. Pure functions over facts the workflow reads from the ledger, so
//! anyone holding the same entries computes the same numbers.

pub(crate) mod metrics;
pub mod render;
pub(crate) mod timeline;
