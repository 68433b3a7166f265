//! The genesis statement: the first entry of a ledger. It names the ledger's first origin and its key,
//! the founding admin's key, and the first policy (as TOML text, opaque here). Its entry id is the
//! ledger's id.

use crate::ledger::{Hash, PublicKey, Statement};
use serde::{Deserialize, Serialize};

/// Entry kind of the genesis statement.
pub(crate) const KIND: &str = "genesis";

/// What the `ledger` field of a genesis body says.
pub(crate) const LEDGER_TAG: &str = "rollcall";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OriginDecl {
    pub name: String,
    pub key: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminDecl {
    pub name: String,
    pub key: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyText {
    /// SHA-256 of the TOML text, hex.
    pub sha256: String,
    pub toml: String,
}

impl PolicyText {
    pub fn new(toml: &str) -> PolicyText {
        PolicyText { sha256: Hash::of(&[toml.as_bytes()]).to_hex(), toml: toml.to_string() }
    }

    pub(crate) fn digest_ok(&self) -> bool {
        Hash::of(&[self.toml.as_bytes()]).to_hex() == self.sha256
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisBody {
    pub ledger: String,
    pub origin: OriginDecl,
    pub admin: AdminDecl,
    pub policy: PolicyText,
}

impl GenesisBody {
    pub fn new(
        origin: &str,
        origin_key: &PublicKey,
        admin: &str,
        admin_key: &PublicKey,
        policy_toml: &str,
    ) -> GenesisBody {
        GenesisBody {
            ledger: LEDGER_TAG.to_string(),
            origin: OriginDecl { name: origin.to_string(), key: origin_key.encode() },
            admin: AdminDecl { name: admin.to_string(), key: admin_key.encode() },
            policy: PolicyText::new(policy_toml),
        }
    }

    /// The unsigned genesis statement (its actor is the admin).
    pub fn statement(&self, admin_key: &PublicKey) -> Statement {
        self.statement_at(admin_key, chrono::Utc::now())
    }

    /// The genesis statement stamped at `at`.
    pub fn statement_at(&self, admin_key: &PublicKey, at: chrono::DateTime<chrono::Utc>) -> Statement {
        let body = serde_json::to_value(self).unwrap_or_default();
        Statement::new_at(KIND, admin_key, body, &[], at)
    }

    /// Parses and checks a genesis body read from a statement.
    pub(crate) fn parse(body: &serde_json::Value) -> Result<GenesisBody, String> {
        let g: GenesisBody =
            serde_json::from_value(body.clone()).map_err(|e| format!("genesis body is malformed: {e}"))?;
        if g.ledger != LEDGER_TAG {
            return Err(format!("genesis is for {:?}, not a rollcall ledger", g.ledger));
        }
        if PublicKey::parse(&g.admin.key).is_none() || PublicKey::parse(&g.origin.key).is_none() {
            return Err("genesis names an invalid key".into());
        }
        if !g.policy.digest_ok() {
            return Err("genesis policy text does not match its digest".into());
        }
        Ok(g)
    }
}
