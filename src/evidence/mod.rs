//! Evidence: files attached to requests, stored content-addressed (SHA-256) in the ledger file, and the
//! recognisers that say what they contain (JUnit XML, SARIF, OSV advisories, JSON, text).

pub mod json;
pub mod junit;
pub mod osv;
pub mod recognize;
pub mod sarif;
pub mod scan;
pub mod store;
