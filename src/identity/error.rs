//! Errors of the identity layer.

use std::path::PathBuf;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum IdentityError {
    #[error("key name {0:?} is not valid (use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit)")]
    InvalidName(String),
    #[error("a key named {0:?} already exists")]
    KeyExists(String),
    #[error("no key named {name:?} in {dir} (see `rollcall key list`)")]
    UnknownKey { name: String, dir: PathBuf },
    #[error("no key chosen: pass --as NAME or set ROLLCALL_KEY ({0})")]
    NoKeyChosen(String),
    #[error(
        "key {0:?} cannot be unlocked: {1}; create a new key with `rollcall key new` (weak keys are for tests and the demo)"
    )]
    WeakKey(String, String),
    #[error("wrong passphrase for key {0:?}")]
    WrongPassphrase(String),
    #[error("no passphrase available: set ROLLCALL_PASSPHRASE or run on a terminal")]
    NoPassphrase,
    #[error("passphrases do not match")]
    PassphraseMismatch,
    #[error("passphrase is too short (at least {0} characters)")]
    PassphraseTooShort(usize),
    #[error("key file {0} is damaged: {1}")]
    BadKeyFile(PathBuf, String),
    #[error(
        "key file {0} may be read or changed by other users (mode {1:04o}): it is used only when private to \
         its owner (run `chmod 600 {0}`)"
    )]
    KeyFileNotPrivate(PathBuf, u32),
    #[error("cannot access {0}: {1}")]
    Io(PathBuf, #[source] std::io::Error),
    #[error(transparent)]
    NoHome(#[from] crate::paths::NoHome),
    #[error("cannot read the passphrase from the terminal: {0}")]
    Prompt(std::io::Error),
    #[error("the system random number generator failed: {0}")]
    Random(String),
}
