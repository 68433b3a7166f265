//! The roster: which keys belong to whom, with which roles, from which log position, and which origins
//! are declared — all derived from signed entries in log order. It answers whether an entry's signer
//! counted when the entry reached the log.

use super::genesis::GenesisBody;
use crate::ledger::statement::CheckedHead;
use crate::ledger::{Hash, Ledger, LedgerError, PublicKey, SignedStatement};
use std::collections::BTreeMap;

/// The role every founding admin holds.
pub const ADMIN_ROLE: &str = "admin";

/// A person enrolled in the ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    pub key: PublicKey,
    pub roles: Vec<String>,
    /// Log index of the entry that enrolled the key.
    pub since: u64,
    /// Log index of the entry that revoked it.
    pub revoked: Option<u64>,
}

/// Keys, roles and origins as of the entries observed so far.
#[derive(Clone, Debug, Default)]
pub struct Roster {
    members: BTreeMap<[u8; 32], Member>,
    origins: BTreeMap<String, PublicKey>,
    genesis: Option<(Hash, GenesisBody)>,
}

impl Roster {
    /// Builds the roster from the identity entries of `ledger`'s own log.
    pub fn from_ledger(ledger: &Ledger) -> Result<Roster, LedgerError> {
        let mut roster = Roster::default();
        for row in ledger.own_entries_of_kinds(&[super::genesis::KIND])? {
            let head = crate::ledger::statement::parse_head(&row.entry.bytes)?;
            // Stored entries were checked when they were appended; `verify` re-checks them all.
            let _ = roster.observe(row.index, &row.entry.id, &head, &row.entry);
        }
        Ok(roster)
    }

    /// Takes in the next entry (in log order) and says whether its signer counted.
    pub fn observe(
        &mut self,
        index: u64,
        id: &Hash,
        head: &CheckedHead,
        entry: &SignedStatement,
    ) -> Result<(), String> {
        self.observe_bytes(index, id, head, &entry.bytes)
    }

    /// As [`Roster::observe`], from raw statement bytes.
    pub fn observe_bytes(&mut self, index: u64, id: &Hash, head: &CheckedHead, bytes: &[u8]) -> Result<(), String> {
        if index == 0 || head.kind == super::genesis::KIND {
            if index != 0 || head.kind != super::genesis::KIND {
                return Err("the first entry must be the genesis, and only the first".into());
            }
            let stmt: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
            let g = GenesisBody::parse(&stmt["body"])?;
            let admin = PublicKey::parse(&g.admin.key).ok_or("genesis admin key is invalid")?;
            if admin != head.actor {
                return Err("genesis is not signed by the admin it names".into());
            }
            let origin_key = PublicKey::parse(&g.origin.key).ok_or("genesis origin key is invalid")?;
            self.origins.insert(g.origin.name.clone(), origin_key);
            self.members.insert(
                admin.bytes(),
                Member {
                    name: g.admin.name.clone(),
                    key: admin,
                    roles: vec![ADMIN_ROLE.into()],
                    since: 0,
                    revoked: None,
                },
            );
            self.genesis = Some((*id, g));
            return Ok(());
        }
        if !self.is_active(&head.actor, index) {
            return Err(format!("signed by key {} that is not enrolled in this ledger", head.actor.key_id()));
        }
        Ok(())
    }

    /// Whether `key` was enrolled and not revoked at log position `index`.
    pub fn is_active(&self, key: &PublicKey, index: u64) -> bool {
        self.members.get(&key.bytes()).is_some_and(|m| m.since <= index && m.revoked.is_none_or(|r| index < r))
    }

    pub fn member(&self, key: &PublicKey) -> Option<&Member> {
        self.members.get(&key.bytes())
    }

    pub fn member_by_name(&self, name: &str) -> Option<&Member> {
        self.members.values().find(|m| m.name == name)
    }

    pub fn members(&self) -> impl Iterator<Item = &Member> {
        self.members.values()
    }

    /// The display name of `key`, if enrolled.
    pub fn name_of(&self, key: &PublicKey) -> Option<&str> {
        self.member(key).map(|m| m.name.as_str())
    }

    /// The key declared for origin `name`.
    pub fn origin_key(&self, name: &str) -> Option<&PublicKey> {
        self.origins.get(name)
    }

    pub fn genesis(&self) -> Option<&(Hash, GenesisBody)> {
        self.genesis.as_ref()
    }
}
