//! What every operation needs: where the ledger and the keystore are, how to get a passphrase, which key
//! signs; and the one path by which a signed statement reaches the ledger.

use super::error::WorkflowError;
use crate::identity::passphrase::EnvOrPrompt;
use crate::identity::{Keystore, Passphrase, PassphraseSource, Roster, UnlockedKey};
use crate::ledger::{EntryId, Ledger, LedgerError, SignedStatement, Statement};
use ed25519_dalek::SigningKey;
use std::path::PathBuf;

/// Environment variable naming the default signing key.
pub(crate) const KEY_ENV: &str = "ROLLCALL_KEY";

/// Environment variable with the passphrase of this machine's origin key, when it differs from the
/// signer's.
pub(crate) const ORIGIN_PASSPHRASE_ENV: &str = "ROLLCALL_ORIGIN_PASSPHRASE";

/// Where things are and how to ask for secrets.
pub struct Context {
    pub ledger_path: PathBuf,
    pub keystore: Keystore,
    pub passphrases: Box<dyn PassphraseSource + Send + Sync>,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context").field("ledger_path", &self.ledger_path).field("keystore", &self.keystore).finish()
    }
}

/// What a recorded entry got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    pub entry_id: EntryId,
    pub index: u64,
    pub size: u64,
    /// Whether a new checkpoint was signed with this append.
    pub checkpointed: bool,
    pub warnings: Vec<String>,
}

impl Context {
    /// The ledger at `ledger` (else the default location) with the default keystore, passphrases from
    /// `ROLLCALL_PASSPHRASE` or a terminal prompt.
    pub fn from_env(ledger: Option<PathBuf>) -> Result<Context, WorkflowError> {
        let ledger_path = match ledger {
            Some(p) => p,
            None => crate::paths::default_ledger().map_err(crate::identity::IdentityError::from)?,
        };
        Ok(Context { ledger_path, keystore: Keystore::default_location()?, passphrases: Box::new(EnvOrPrompt) })
    }

    pub fn open(&self) -> Result<Ledger, WorkflowError> {
        Ok(Ledger::open(&self.ledger_path)?)
    }

    pub fn open_read_only(&self) -> Result<Ledger, WorkflowError> {
        Ok(Ledger::open_read_only(&self.ledger_path)?)
    }

    /// The signing key's name: `given`, else `ROLLCALL_KEY`, else the keystore's only key.
    pub fn signer_name(&self, given: Option<&str>) -> Result<String, WorkflowError> {
        if let Some(n) = given {
            return Ok(n.to_string());
        }
        if let Ok(n) = std::env::var(KEY_ENV)
            && !n.is_empty()
        {
            return Ok(n);
        }
        let (keys, _) = self.keystore.list()?;
        match keys.as_slice() {
            [only] => Ok(only.name.clone()),
            [] => Err(crate::identity::IdentityError::NoKeyChosen("the keystore has no keys".into()).into()),
            many => Err(crate::identity::IdentityError::NoKeyChosen(format!(
                "keys: {}",
                many.iter().map(|k| k.name.as_str()).collect::<Vec<_>>().join(", ")
            ))
            .into()),
        }
    }

    /// Unlocks the person key `name`, returning the passphrase too (it may also unlock the origin key).
    pub fn unlock(&self, name: &str) -> Result<(UnlockedKey, Passphrase), WorkflowError> {
        // Fail on an unknown name before asking for a passphrase.
        self.keystore.info(name)?;
        let tries = self.passphrases.tries().max(1);
        let mut attempt = 1;
        loop {
            let pass = self.passphrases.existing(&format!("key {name:?}"))?;
            match self.keystore.unlock(name, &pass) {
                Ok(key) => return Ok((key, pass)),
                Err(crate::identity::IdentityError::WrongPassphrase(_)) if attempt < tries => {
                    self.passphrases.wrong(tries - attempt);
                    attempt += 1;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Opens the ledger, checks that `signer` is enrolled and active, and unlocks its key and (when this
    /// keystore holds it) the ledger's origin key, for one or more appends.
    pub fn session(&self, signer: Option<&str>) -> Result<Session, WorkflowError> {
        let ledger = self.open()?;
        let name = self.signer_name(signer)?;
        let info = self.keystore.info(&name)?;
        let roster = Roster::from_ledger(&ledger)?;
        let next = ledger.next_pos(&crate::ledger::statement::format_ts(super::clock::now()))?;
        if !roster.is_active(&info.public_key, next) {
            return Err(WorkflowError::not_enrolled(&roster, name, &info.public_key));
        }
        let own = ledger.own_origin().clone();
        self.keystore.check_private_files(&info.path, &own.key)?;
        let (signer, passphrase) = self.unlock(&name)?;
        // Every append signs a checkpoint: a log never runs past what its origin key vouched for.
        let origin_key = match self.keystore.unlock_origin(&own.name, &own.key, &passphrase) {
            Ok(k) => k,
            Err(first) => match std::env::var(ORIGIN_PASSPHRASE_ENV) {
                Ok(p) => self.keystore.unlock_origin(&own.name, &own.key, &Passphrase::new(p))?,
                Err(_) => {
                    return Err(WorkflowError::Refused(format!(
                        "the origin key of {} could not be unlocked ({first}); every entry is appended with a \
                         checkpoint signed by it: set {ORIGIN_PASSPHRASE_ENV} to its passphrase",
                        own.name
                    )));
                }
            },
        };
        let warnings = Vec::new();
        Ok(Session { ledger, signer, origin_key, warnings })
    }
}

/// An open ledger with an unlocked signer: the one path by which a signed statement reaches the ledger.
pub struct Session {
    pub ledger: Ledger,
    pub signer: UnlockedKey,
    origin_key: SigningKey,
    pub warnings: Vec<String>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("ledger", &self.ledger)
            .field("signer", &self.signer)
            .field("origin_key", &"<unlocked>")
            .finish()
    }
}

impl Session {
    /// The roster of the log as it stands now.
    pub fn roster(&self) -> Result<Roster, WorkflowError> {
        Ok(Roster::from_ledger(&self.ledger)?)
    }

    /// The time the next entry will be stamped at: the clock, or one millisecond after the latest time the
    /// file holds when the clock is not later ([`Session::append`]). A command judges its entry at this
    /// time, where the ledger will judge it: a peer's clock may run ahead within the skew, and an approval
    /// valid by this clock may have expired at the stamp.
    pub fn stamp_now(&self) -> Result<chrono::DateTime<chrono::Utc>, WorkflowError> {
        Ok(super::clock::stamp_time(&self.ledger)?)
    }

    /// Signs `statement` and appends it to the own log with a checkpoint signed by the origin key. The
    /// statement's time is raised to the latest time this machine has seen, if it is earlier (a peer's
    /// clock may run ahead within the allowed skew), so time never goes backwards along causal order.
    /// Before writing, `validate` runs against the roster of the log exactly as it will be extended (and
    /// the signer must be enrolled in it); if another process appends in between, the ledger refuses the
    /// append and everything is checked again, so nothing is ever written on a stale decision.
    ///
    /// `held` names the stored bytes the statement names (a change set, an evidence file): they must still
    /// be stored inside the write transaction. Another process may have removed them after this one found
    /// them stored (its own entry refused, or a purge), and an entry naming missing bytes is damage
    /// `verify` reports and no bundle can carry; the append is then refused, nothing written.
    pub fn append(
        &mut self,
        mut statement: Statement,
        validate: &dyn Fn(&Ledger, &Roster, &Statement) -> Result<(), WorkflowError>,
        held: &[crate::ledger::Hash],
    ) -> Result<Receipt, WorkflowError> {
        let own = self.ledger.own_origin().clone();
        let domain = self.ledger.domain();
        let mut attempts = 0;
        loop {
            let size = self.ledger.size(&own)?;
            // Stamped strictly later than everything the file holds (re-read on every attempt: another
            // process may have appended meanwhile; `stamp_after` says why).
            let floor = self.ledger.time_floor_ms()?;
            let ms = crate::ledger::pos::ts_ms(&statement.ts);
            let stamp = crate::ledger::pos::stamp_after(ms, floor);
            if stamp != ms {
                statement.ts = crate::ledger::pos::format_ms(stamp);
            }
            let ts = statement.ts.clone();
            let signed = statement.sign(self.signer.signing_key(), &domain)?;
            let roster = Roster::from_ledger(&self.ledger)?;
            if !roster.is_active(&self.signer.public(), self.ledger.next_pos(&ts)?) {
                return Err(WorkflowError::not_enrolled(&roster, self.signer.name.clone(), &self.signer.public()));
            }
            validate(&self.ledger, &roster, &statement)?;
            super::clock::refuse_backdating(crate::ledger::pos::ts_ms(&ts), roster.max_clock_skew_seconds())?;
            let latest = super::clock::latest_ms(roster.max_clock_skew_seconds());
            let still_held = |conn: &rusqlite::Connection| {
                for digest in held {
                    match crate::evidence::store::holds(conn, digest) {
                        Ok(true) => {}
                        Ok(false) => {
                            return Err(LedgerError::Refused(format!(
                                "the stored bytes {} this entry names were removed by another rollcall process \
                                 before it was written; nothing was written: run the command again",
                                digest.short(16)
                            )));
                        }
                        Err(e) => return Err(LedgerError::Refused(format!("cannot check the stored bytes: {e}"))),
                    }
                }
                Ok(())
            };
            match self.ledger.append_if(
                std::slice::from_ref(&signed),
                Some(size),
                &self.origin_key,
                latest,
                &still_held,
            ) {
                Ok(outcome) => {
                    return Ok(Receipt {
                        entry_id: signed.id,
                        index: outcome.first_index,
                        size: outcome.size,
                        checkpointed: outcome.checkpoint.is_some(),
                        warnings: self.warnings.clone(),
                    });
                }
                Err(LedgerError::Conflict { .. }) if attempts < 1000 => attempts += 1,
                Err(e) => return Err(e.into()),
            }
        }
    }
}

impl Session {
    /// Appends statements already signed and checked by a bulk operation (`writes::bulk`) in one
    /// transaction with one checkpoint. Refused, with nothing written, if the log grew since `size` or
    /// a timestamp runs ahead of this machine's clock by more than the allowed skew.
    pub fn append_checked(&mut self, signed: &[SignedStatement], size: u64) -> Result<(), WorkflowError> {
        let roster = Roster::from_ledger(&self.ledger)?;
        let skew = roster.max_clock_skew_seconds();
        let first = signed.first().and_then(|s| crate::ledger::statement::parse_head(&s.bytes).ok());
        if let Some(h) = first {
            super::clock::refuse_backdating(crate::ledger::pos::ts_ms(&h.ts), skew)?;
        }
        let latest = super::clock::latest_ms(skew);
        self.ledger.append(signed, Some(size), &self.origin_key, latest)?;
        Ok(())
    }
}

impl From<crate::paths::NoHome> for WorkflowError {
    fn from(e: crate::paths::NoHome) -> Self {
        WorkflowError::Identity(e.into())
    }
}

impl From<rusqlite::Error> for WorkflowError {
    fn from(e: rusqlite::Error) -> Self {
        WorkflowError::Ledger(LedgerError::from(e))
    }
}
