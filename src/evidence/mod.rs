//! Evidence: files attached to requests, stored content-addressed (SHA-256) in the ledger file, and the
//! recognisers that summarise what they say.

pub mod store;
