//! Passphrases: held zeroized, obtained from `ROLLCALL_PASSPHRASE`, a masked terminal prompt, or (in the
//! TUI) a masked dialog.

use super::error::IdentityError;
use std::io::IsTerminal;
use zeroize::Zeroizing;

/// Environment variable holding the passphrase for scripts and CI.
pub(crate) const PASSPHRASE_ENV: &str = "ROLLCALL_PASSPHRASE";

/// Shortest passphrase accepted for a new key.
pub(crate) const MIN_PASSPHRASE_LEN: usize = 8;

/// A passphrase; its memory is wiped on drop and it never appears in `Debug` output.
#[derive(Clone)]
pub struct Passphrase(Zeroizing<String>);

impl Passphrase {
    pub fn new(s: String) -> Passphrase {
        Passphrase(Zeroizing::new(s))
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passphrase(<redacted>)")
    }
}

/// Where a passphrase comes from when a key must be unlocked.
pub trait PassphraseSource {
    /// The passphrase for an existing key; `prompt` names it.
    fn existing(&self, prompt: &str) -> Result<Passphrase, IdentityError>;
    /// A passphrase for a new key (asked twice on a terminal).
    fn new_secret(&self, prompt: &str) -> Result<Passphrase, IdentityError>;
    /// How many times a wrong passphrase for an existing key may be given: three when a person types it,
    /// once when it comes from the environment or a caller.
    fn tries(&self) -> u32 {
        1
    }
    /// Told that the passphrase was wrong and `left` tries remain.
    fn wrong(&self, _left: u32) {}
}

/// `ROLLCALL_PASSPHRASE`, else a masked prompt when stdin is a terminal, else an error.
pub(crate) struct EnvOrPrompt;

fn from_env() -> Option<Passphrase> {
    std::env::var(PASSPHRASE_ENV).ok().map(Passphrase::new)
}

fn prompt(text: &str) -> Result<Passphrase, IdentityError> {
    if !std::io::stdin().is_terminal() {
        return Err(IdentityError::NoPassphrase);
    }
    rpassword::prompt_password(text).map(Passphrase::new).map_err(IdentityError::Prompt)
}

impl PassphraseSource for EnvOrPrompt {
    fn tries(&self) -> u32 {
        if from_env().is_none() && std::io::stdin().is_terminal() { 3 } else { 1 }
    }

    fn wrong(&self, left: u32) {
        crate::text::eprint_line(&format!("wrong passphrase; {left} {} left", if left == 1 { "try" } else { "tries" }));
    }

    fn existing(&self, what: &str) -> Result<Passphrase, IdentityError> {
        match from_env() {
            Some(p) => Ok(p),
            None => prompt(&format!("Passphrase for {what}: ")),
        }
    }

    fn new_secret(&self, what: &str) -> Result<Passphrase, IdentityError> {
        let p = match from_env() {
            Some(p) => p,
            None => {
                let a = prompt(&format!("New passphrase for {what}: "))?;
                let b = prompt("Repeat the passphrase: ")?;
                if a.expose() != b.expose() {
                    return Err(IdentityError::PassphraseMismatch);
                }
                a
            }
        };
        if p.expose().chars().count() < MIN_PASSPHRASE_LEN {
            return Err(IdentityError::PassphraseTooShort(MIN_PASSPHRASE_LEN));
        }
        Ok(p)
    }
}

/// A fixed passphrase (the TUI's dialog, tests).
pub struct Given(pub Passphrase);

impl PassphraseSource for Given {
    fn existing(&self, _: &str) -> Result<Passphrase, IdentityError> {
        Ok(self.0.clone())
    }

    fn new_secret(&self, _: &str) -> Result<Passphrase, IdentityError> {
        if self.0.expose().chars().count() < MIN_PASSPHRASE_LEN {
            return Err(IdentityError::PassphraseTooShort(MIN_PASSPHRASE_LEN));
        }
        Ok(self.0.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let p = Passphrase::new("hunter2-secret".into());
        assert!(!format!("{p:?}").contains("hunter2"));
    }

    #[test]
    fn given_enforces_length_for_new_keys() {
        assert!(Given(Passphrase::new("short".into())).new_secret("k").is_err());
        assert!(Given(Passphrase::new("long enough".into())).new_secret("k").is_ok());
    }
}
