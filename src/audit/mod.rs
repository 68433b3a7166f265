//! The domain of rollback auditing: the entry kinds and their bodies, and the projection of entries into
//! request states.

pub mod note;
