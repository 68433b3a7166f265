//! Evidence: files attached to requests, stored content-addressed (SHA-256) in the ledger file, and the
//! recognisers that say what they contain (JUnit XML, SARIF, OSV advisories, JSON, text).

pub(crate) mod json;
pub(crate) mod junit;
pub(crate) mod osv;
pub(crate) mod recognize;
pub(crate) mod sarif;
pub(crate) mod scan;
pub(crate) mod store;
