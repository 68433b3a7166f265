//! `key new` and `key list`: people's keys in the keystore.

use crate::identity::KeyInfo;
use crate::workflow::context::Context;
use crate::workflow::error::WorkflowError;

/// Generates and stores a new key `name`, sealed with a new passphrase.
pub(crate) fn new_key(ctx: &Context, name: &str) -> Result<KeyInfo, WorkflowError> {
    if !crate::identity::keystore::valid_name(name) {
        return Err(crate::identity::IdentityError::InvalidName(name.to_string()).into());
    }
    if ctx.keystore.info(name).is_ok() {
        return Err(crate::identity::IdentityError::KeyExists(name.to_string()).into());
    }
    let pass = ctx.passphrases.new_secret(&format!("key {name:?}"))?;
    Ok(ctx.keystore.create(name, &pass)?)
}

/// Every key in the keystore, and the files that could not be read.
pub(crate) fn list_keys(ctx: &Context) -> Result<(Vec<KeyInfo>, Vec<String>), WorkflowError> {
    Ok(ctx.keystore.list()?)
}
