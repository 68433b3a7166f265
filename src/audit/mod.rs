//! The domain of rollback auditing: the rollback record, the lifecycle entry kinds and their bodies, and
//! the projection of a request's entries into its state (`RequestView`).

pub mod bodies;
pub mod fact_body;
pub mod kinds;
pub mod note;
pub mod projection;
pub mod record;

pub use projection::{Refusal, RequestView};
pub use record::RequestBody;
