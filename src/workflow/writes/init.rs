//! `init`: a new ledger with its origin key, its genesis entry and its first policy.

use crate::identity::genesis::GenesisBody;
use crate::ledger::note::valid_key_name;
use crate::ledger::{EntryId, Ledger, PublicKey};
use crate::workflow::context::Context;
use crate::workflow::error::WorkflowError;
use std::path::Path;

/// What `init` created.
#[derive(Clone, Debug)]
pub struct Initialized {
    pub ledger_id: EntryId,
    pub origin: String,
    pub origin_key: PublicKey,
    pub admin: String,
    pub admin_key: PublicKey,
    pub checkpoint: String,
    /// What the founding policy leaves unset that rollcall reads from a policy's own text only
    /// ([`crate::policy::unset_later_settings`]): said on stderr, as `policy adopt` says it.
    pub warnings: Vec<String>,
}

/// Largest policy file accepted.
const MAX_POLICY_BYTES: u64 = 256 * 1024;

/// The origin name used when `--origin` is not given: `rollcall/<host>-<6 random hex>`.
pub(crate) fn default_origin_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_default();
    let mut host: String = host
        .trim()
        .to_ascii_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '.')
        .take(40)
        .collect();
    if host.is_empty() {
        host = "host".into();
    }
    let mut r = [0u8; 3];
    let _ = getrandom::fill(&mut r);
    format!("rollcall/{host}-{}", hex::encode(r))
}

/// Reads a policy file for adoption, refusing unreadable, huge or invalid ones.
pub(crate) fn read_policy_file(path: &Path) -> Result<String, WorkflowError> {
    let meta = std::fs::metadata(path).map_err(|e| WorkflowError::Read(path.to_path_buf(), e))?;
    if meta.len() > MAX_POLICY_BYTES {
        return Err(WorkflowError::Usage(format!(
            "policy file {} is {} bytes; at most {MAX_POLICY_BYTES} are accepted",
            path.display(),
            meta.len()
        )));
    }
    let bytes =
        crate::paths::read_capped(path, MAX_POLICY_BYTES).map_err(|e| WorkflowError::Read(path.to_path_buf(), e))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| WorkflowError::Usage(format!("policy file {} is not UTF-8 text", path.display())))?;
    crate::policy::check_text(&text)?;
    Ok(text)
}

/// Creates the ledger at `ctx.ledger_path`, founded by the key `admin`.
pub fn init(
    ctx: &Context,
    admin: &str,
    origin: Option<&str>,
    policy: Option<&Path>,
) -> Result<Initialized, WorkflowError> {
    init_with(ctx, admin, origin, policy, crate::identity::keyfile::KdfCost::Default)
}

/// As [`init`], sealing the origin key with the given KDF cost.
pub(crate) fn init_with(
    ctx: &Context,
    admin: &str,
    origin: Option<&str>,
    policy: Option<&Path>,
    cost: crate::identity::keyfile::KdfCost,
) -> Result<Initialized, WorkflowError> {
    if ctx.ledger_path.exists() {
        return Err(crate::ledger::LedgerError::AlreadyExists(ctx.ledger_path.clone()).into());
    }
    let origin = match origin {
        Some(o) if o == crate::ledger::pos::AUDIT_ORIGIN => {
            return Err(WorkflowError::Usage(format!("origin name {o} is reserved for audit copies")));
        }
        Some(o) if valid_key_name(o) => o.to_string(),
        Some(o) => {
            return Err(WorkflowError::Usage(format!(
                "origin {o:?} is not valid: use a name without spaces or '+', like example.com/laptop-1"
            )));
        }
        None => default_origin_name(),
    };
    let policy_text = match policy {
        Some(p) => read_policy_file(p)?,
        None => crate::policy::DEFAULT_POLICY.to_string(),
    };
    let now = crate::workflow::clock::now();
    // A genesis may be founded only at the real time in a release build (the policy's skew is not read yet).
    let skew = crate::identity::roster::DEFAULT_CLOCK_SKEW_SECONDS.into();
    crate::workflow::clock::refuse_backdating(now.timestamp_millis(), skew)?;
    let (admin_key, pass) = ctx.unlock(admin)?;
    let origin_signing =
        crate::identity::keyfile::generate().map_err(|e| crate::identity::IdentityError::Random(e.to_string()))?;
    let origin_key = PublicKey::from_signing(&origin_signing);
    let genesis = GenesisBody::new(&origin, &origin_key, admin, &admin_key.public(), &policy_text)
        .statement_at(&admin_key.public(), now)
        .sign(admin_key.signing_key(), &crate::ledger::dsse::Domain::genesis_only())?;
    ctx.keystore.store_origin_with(&origin, &origin_signing, &pass, cost)?;
    let ledger = match Ledger::create(&ctx.ledger_path, &origin, &origin_signing, &genesis) {
        Ok(l) => l,
        Err(e) => {
            ctx.keystore.discard_origin(&origin_key);
            return Err(e.into());
        }
    };
    crate::workflow::reads::assess::ensure_indexes(&ledger);
    let checkpoint = ledger.latest_checkpoint(ledger.own_origin())?.map(|c| c.1).unwrap_or_default();
    Ok(Initialized {
        ledger_id: ledger.ledger_id(),
        origin,
        origin_key,
        admin: admin.to_string(),
        admin_key: admin_key.public(),
        checkpoint,
        warnings: crate::policy::unset_later_settings(&policy_text),
    })
}
