//! Who signs: people's and origins' keys (generated, encrypted at rest, unlocked with a passphrase), the
//! passphrase sources, and the roster of enrolled keys and roles derived from the ledger's entries.

pub(crate) mod error;
pub mod genesis;
pub mod keyfile;
pub(crate) mod keystore;
pub mod kinds;
pub mod passphrase;
pub(crate) mod roster;

#[cfg(test)]
mod causal_props;

pub(crate) use error::IdentityError;
pub use keystore::{KeyInfo, Keystore, UnlockedKey};
pub use passphrase::{Passphrase, PassphraseSource};
pub(crate) use roster::MemberId;
pub use roster::Roster;
