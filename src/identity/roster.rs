//! The roster: which keys belong to whom, with which roles, from which log position, which policy is in
//! force, and which origins are declared — all derived from signed governance entries in log order.
//! Governance changes take effect once the policy's number of distinct admin keys signed them (the
//! proposal plus co-signatures). Entries whose signer did not count are listed with the reason.
//!
//! Over 600 lines on purpose: it is one fold (`observe`) over every governance kind and the questions asked
//! of its result; split, the rules for proposals, endorsements and causal order would be read apart from
//! the state they change. Its property tests live in `causal_props.rs`.

use super::genesis::{GenesisBody, PolicyText};
use super::kinds::*;
use crate::ledger::causal::Causality;
use crate::ledger::inclusion::Unchecked;
use crate::ledger::statement::CheckedHead;
use crate::ledger::{EntryId, Hash, Ledger, LedgerError, Pos, PublicKey};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// The role that governs keys and policy.
pub(crate) const ADMIN_ROLE: &str = "admin";

/// `identity.max_clock_skew_seconds` when a policy does not set it.
pub(crate) const DEFAULT_CLOCK_SKEW_SECONDS: u32 = 300;

/// Who signed, for counting people: an enrolled name (every key enrolled under it, one after another), or
/// a key no enrollment names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum MemberId<'a> {
    Name(&'a str),
    Key([u8; 32]),
}

/// A person enrolled in the ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    pub key: PublicKey,
    /// Log position from which the key counts.
    pub since: Pos,
    /// The first revocation that took effect (in position order): what `members` shows.
    pub revoked: Option<Pos>,
    /// Where that revocation is, `origin #index` (an index alone names no log).
    revoked_at: Option<String>,
    /// Every other revocation of the key that took effect. Each one voids what was concurrent with it
    /// (§7.3 rule 2): a second revocation, from a log that had not seen the first, adds to the first and
    /// never replaces it.
    later_revocations: Vec<Pos>,
    /// Role sets with the position each took effect, oldest first.
    pub roles: Vec<(Pos, Vec<String>)>,
    /// `name (key id)`, as [`Roster::display`] shows the member: made once, not hashed again for every row.
    label: String,
}

impl Member {
    fn new(name: String, key: PublicKey, since: Pos, roles: Vec<String>) -> Member {
        let label = format!("{name} ({})", key.key_id());
        Member {
            name,
            key,
            since,
            revoked: None,
            revoked_at: None,
            later_revocations: Vec::new(),
            roles: vec![(since, roles)],
            label,
        }
    }

    /// Where the key's first revocation is, `origin #index`.
    pub(crate) fn revoked_at(&self) -> Option<&str> {
        self.revoked_at.as_deref()
    }

    /// Every revocation of the key that took effect, in position order.
    fn revocations(&self) -> impl Iterator<Item = Pos> + '_ {
        self.revoked.iter().chain(&self.later_revocations).copied()
    }

    pub(crate) fn active_at(&self, pos: Pos) -> bool {
        self.since <= pos && self.revocations().all(|r| pos < r)
    }

    pub(crate) fn current_roles(&self) -> &[String] {
        self.roles.last().map(|(_, r)| r.as_slice()).unwrap_or(&[])
    }
}

/// A policy adopted into the ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AdoptedPolicy {
    /// The entry that carries the text (genesis or `policy.adopted`).
    pub id: EntryId,
    /// Position from which it is in force.
    pub pos: Pos,
    pub text: PolicyText,
    /// Its `identity.admin_signatures` ([`admin_threshold`]), read once.
    pub admin_signatures: u32,
}

/// A governance entry waiting for more admin signatures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Pending {
    pub id: EntryId,
    pub kind: String,
    pub body: serde_json::Value,
    pub proposer: PublicKey,
    pub pos: Pos,
    pub signers: BTreeSet<[u8; 32]>,
    pub threshold: u32,
}

/// An entry that is in the log but does not count, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Discounted {
    pub pos: Pos,
    pub id: EntryId,
    pub kind: String,
    pub reason: String,
}

/// A governance change that took effect with fewer distinct admin signatures than a policy its proposal had
/// not seen asks ([`Roster::stale_governance`]: one adopted concurrently with the proposal or with the
/// endorsement completing it, or in force at that endorsement). It counts (its proposal's past decides,
/// FORMAT.md §7.3); `verify` lists it so that no admin working from a stale copy goes unnoticed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaleGovernance {
    pub id: EntryId,
    pub kind: String,
    /// The proposal's position (and as "origin #index"), and the distinct admin signatures it took effect
    /// with.
    pub pos: Pos,
    pub at: String,
    pub signatures: u32,
    /// The strictest such policy: its entry, where it took effect ("origin #index"), and the admin
    /// signatures it asks.
    pub policy: EntryId,
    pub policy_at: String,
    pub needs: u32,
}

impl StaleGovernance {
    /// The heading over `n` of them, as `verify` and the console's integrity screen say it.
    pub fn heading(n: usize) -> String {
        format!(
            "governance: {n} change{} took effect with fewer admin signatures than a policy its proposal had not \
             seen asks (made from an older copy of the ledger; {} count)",
            if n == 1 { "" } else { "s" },
            if n == 1 { "it does" } else { "they do" }
        )
    }

    /// One line under the heading, unindented (names from the ledger sanitized).
    pub fn line(&self) -> String {
        format!(
            "{} {} {}: {} admin signature{}; the policy adopted at {} ({}) asks {}",
            crate::text::safe(&self.at),
            self.id.short(16),
            crate::text::safe(&self.kind),
            self.signatures,
            if self.signatures == 1 { "" } else { "s" },
            crate::text::safe(&self.policy_at),
            self.policy.short(12),
            self.needs
        )
    }
}

/// A governance change as it took effect: its proposal's position and the admin signatures counted.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Took {
    id: EntryId,
    kind: String,
    proposal: Pos,
    /// Where it took effect: the proposal, or the endorsement that completed it.
    effect: Pos,
    signatures: u32,
}

/// Whether an observed entry counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Counts,
    DoesNotCount(String),
}

/// Keys, roles, policies and origins as of the entries observed so far.
///
/// Whether a key counts at an entry follows causal order, never the signers' clocks: its enrollment (with
/// the role needed) must be in the entry's causal past, and a revocation or role removal that is in the
/// entry's past *or concurrent with it* (neither log had seen the other) voids it — revocation wins. Only
/// an entry the revoking log had already seen keeps counting. A revocation itself is judged by what was
/// in its own past, so two admins revoking each other concurrently are both revoked.
#[derive(Clone, Debug, Default)]
pub struct Roster {
    causal: Arc<Causality>,
    /// Governance entries voided by a revocation that comes later in position order but was concurrent
    /// with them (found by [`Roster::build`]'s fixpoint), with the reason.
    forced: BTreeMap<EntryId, String>,
    /// Entries that counted, and those judged as revocations (by their own past only).
    counted: BTreeSet<EntryId>,
    revocations: BTreeSet<EntryId>,
    /// While a revocation (or its co-signature) is judged: concurrent revocations do not void it.
    lenient: bool,
    members: BTreeMap<[u8; 32], Member>,
    origins: BTreeMap<String, PublicKey>,
    genesis: Option<(Hash, GenesisBody)>,
    policies: Vec<AdoptedPolicy>,
    pending: BTreeMap<EntryId, Pending>,
    /// Governance entries that took effect, with the position where they did.
    applied: BTreeMap<EntryId, Pos>,
    /// The same, with their proposals' positions and the admin signatures they took effect with.
    took: Vec<Took>,
    discounted: Vec<Discounted>,
}

/// `identity.admin_signatures` of a policy text (1 when absent; the policy module validates the rest).
fn admin_threshold(text: &PolicyText) -> u32 {
    text.toml
        .parse::<toml::Table>()
        .ok()
        .and_then(|t| t.get("identity")?.get("admin_signatures")?.as_integer())
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| *n >= 1)
        .unwrap_or(1)
}

fn parse_body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    serde_json::from_value(v.get("body").cloned().unwrap_or_default()).map_err(|e| format!("malformed body: {e}"))
}

fn body_value(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice::<serde_json::Value>(bytes).ok().and_then(|v| v.get("body").cloned()).unwrap_or_default()
}

impl Roster {
    /// Builds the roster from the governance entries of every log of `ledger`, checking each one's
    /// signature and its inclusion under a signed checkpoint of its origin first: a row written behind
    /// the ledger's back never counts (it is listed in [`Roster::discounted`]).
    pub(crate) fn from_ledger(ledger: &Ledger) -> Result<Roster, LedgerError> {
        let causal = Arc::new(Causality::load(ledger)?);
        crate::ledger::causal::check_lengths(ledger, &causal)?;
        Self::with_causality(ledger, causal)
    }

    /// [`Roster::from_ledger`] over logs an import has staged, without refusing one shorter than a merge
    /// marker or cosignature says: that is the bundle's fault, which the import reports with its line
    /// (it checked the ledger's own logs before staging).
    pub(crate) fn from_staged(ledger: &Ledger) -> Result<Roster, LedgerError> {
        Self::with_causality(ledger, Arc::new(Causality::load(ledger)?))
    }

    fn with_causality(ledger: &Ledger, causal: Arc<Causality>) -> Result<Roster, LedgerError> {
        let mut rows = Vec::new();
        let mut rejected = Vec::new();
        let mut checker = crate::ledger::inclusion::Checker::new(ledger);
        for row in ledger.entries_of_kinds(&GOVERNANCE_KINDS)? {
            match checker.check(&row) {
                Ok(head) => rows.push((row.pos, row.entry.id, head, row.entry.bytes)),
                Err(Unchecked::Fails(why)) => {
                    rejected.push(Discounted { pos: row.pos, id: row.entry.id, kind: row.kind.clone(), reason: why })
                }
                // A file SQLite cannot read decides nothing: not "not enrolled" for everyone it names.
                Err(Unchecked::Unreadable(e)) => return Err(e),
            }
        }
        // A genesis problem leaves the roster empty, which refuses every signer; `verify` names it.
        let mut roster = Roster::build(causal, &rows).unwrap_or_default();
        roster.discounted.extend(rejected);
        Ok(roster)
    }

    /// The roster of `rows` (governance entries in position order). Observes them, then voids every
    /// governance entry that a counted revocation or role removal turns out to be concurrent with, and
    /// observes again, until nothing more is voided. `Err` is an integrity problem of an entry (a
    /// malformed or misplaced genesis).
    pub(crate) fn build(
        causal: Arc<Causality>,
        rows: &[(Pos, EntryId, CheckedHead, Vec<u8>)],
    ) -> Result<Roster, (EntryId, String)> {
        let mut forced: BTreeMap<EntryId, String> = BTreeMap::new();
        // Each round voids at least one more entry, so this ends after at most rows.len() rounds.
        for _ in 0..=rows.len() {
            let mut r = Roster { causal: Arc::clone(&causal), forced: forced.clone(), ..Default::default() };
            for (pos, id, head, bytes) in rows {
                r.observe(*pos, id, head, bytes).map_err(|p| (*id, p))?;
            }
            let mut more = Vec::new();
            for (pos, id, head, _) in rows {
                if forced.contains_key(id) || !r.counted.contains(id) || r.revocations.contains(id) {
                    continue;
                }
                if head.kind == super::genesis::KIND {
                    continue;
                }
                if let Some(why) = r.concurrent_loss(&head.actor, *pos, true) {
                    more.push((*id, why));
                }
            }
            if more.is_empty() {
                return Ok(r);
            }
            forced.extend(more);
        }
        Err((Hash([0; 32]), "governance entries do not settle".into()))
    }

    /// The causal order this roster judges by, shared (the policy list judges by it too).
    pub(crate) fn causal_order(&self) -> Arc<Causality> {
        Arc::clone(&self.causal)
    }

    /// Whether the entry at `a` happened before the one at `b` ([`Causality::before`]).
    pub(crate) fn happened_before(&self, a: Pos, b: Pos) -> bool {
        self.causal.before(a, b)
    }

    /// Whether `m` counts at `pos` (see the type's rules).
    fn member_active(&self, m: &Member, pos: Pos) -> bool {
        if !self.causal.before(m.since, pos) {
            return false;
        }
        if self.lenient {
            m.revocations().all(|r| !self.causal.before(r, pos))
        } else {
            m.revocations().all(|r| r != pos && self.causal.before(pos, r))
        }
    }

    /// The roles `m` holds at `pos`: the latest role set in its causal past, less any role that a
    /// concurrent change removed.
    fn member_roles(&self, m: &Member, pos: Pos) -> Vec<String> {
        self.held_roles(m, pos).cloned().collect()
    }

    /// [`Roster::member_roles`] without building the list (a permission check asks for every decision).
    fn held_roles<'a>(&'a self, m: &'a Member, pos: Pos) -> impl Iterator<Item = &'a String> + 'a {
        let latest = if self.member_active(m, pos) {
            m.roles.iter().rev().find(|(p, _)| self.causal.before(*p, pos)).map(|(_, r)| r.as_slice())
        } else {
            None
        };
        latest.unwrap_or_default().iter().filter(move |x| {
            self.lenient || m.roles.iter().all(|(p, r)| !self.causal.concurrent(*p, pos) || r.contains(x))
        })
    }

    /// Why an entry by `key` at `pos` that counted when observed is void once every revocation is known:
    /// a revocation (or removal of the admin role, when `needs_admin`) concurrent with it.
    fn concurrent_loss(&self, key: &PublicKey, pos: Pos, needs_admin: bool) -> Option<String> {
        let m = self.member(key)?;
        if let Some(r) = m.revocations().find(|r| self.causal.concurrent(pos, *r)) {
            return Some(self.concurrent_revocation(m, r));
        }
        if needs_admin && !self.member_roles(m, pos).iter().any(|r| r == ADMIN_ROLE) {
            let at = m.roles.iter().find(|(p, _)| self.causal.concurrent(*p, pos)).map(|(p, _)| *p)?;
            return Some(format!(
                "made concurrently with the change of {}'s roles at {} (neither had seen the other); the \
                 removal wins",
                m.name,
                self.causal.describe(at)
            ));
        }
        None
    }

    fn concurrent_revocation(&self, m: &Member, r: Pos) -> String {
        format!(
            "made concurrently with {}'s revocation at {} (neither had seen the other); revocation wins",
            m.name,
            self.causal.describe(r)
        )
    }

    /// Takes in the next entry (in log order). `Err` is an integrity problem (a malformed or misplaced
    /// genesis); otherwise the verdict says whether the entry counts.
    pub fn observe(&mut self, pos: Pos, id: &Hash, head: &CheckedHead, bytes: &[u8]) -> Result<Verdict, String> {
        if self.genesis.is_none() || head.kind == super::genesis::KIND {
            self.observe_genesis(pos, id, head, bytes)?;
            return Ok(Verdict::Counts);
        }
        if let Some(why) = self.forced.get(id) {
            let reason = why.clone();
            self.discounted.push(Discounted { pos, id: *id, kind: head.kind.clone(), reason: reason.clone() });
            return Ok(Verdict::DoesNotCount(reason));
        }
        // A revocation is judged by its own past only, and so is a log's declaration: a machine joined by a
        // member revoked concurrently still declares its log (its entries are kept, and those signed by
        // the revoked key do not count), so honest bundles that carry it are not refused.
        self.lenient = head.kind == REVOKED
            || head.kind == ORIGIN_JOINED
            || (head.kind == ENDORSED
                && parse_body::<EndorsedBody>(bytes)
                    .ok()
                    .and_then(|b| Hash::from_hex(&b.entry))
                    .and_then(|t| self.pending.get(&t))
                    .is_some_and(|p| p.kind == REVOKED));
        if self.lenient {
            self.revocations.insert(*id);
        }
        let verdict = match head.kind.as_str() {
            k if PROPOSAL_KINDS.contains(&k) => self.propose(pos, id, head, bytes),
            ENDORSED => self.endorse(pos, id, head, bytes),
            ORIGIN_JOINED => self.join(pos, head, bytes),
            _ if self.is_active(&head.actor, pos) => Ok(()),
            _ => Err(self.signer_problem(&head.actor, pos)),
        };
        self.lenient = false;
        match verdict {
            Ok(()) => {
                self.counted.insert(*id);
                Ok(Verdict::Counts)
            }
            Err(reason) => {
                self.discounted.push(Discounted { pos, id: *id, kind: head.kind.clone(), reason: reason.clone() });
                Ok(Verdict::DoesNotCount(reason))
            }
        }
    }

    fn observe_genesis(&mut self, pos: Pos, id: &Hash, head: &CheckedHead, bytes: &[u8]) -> Result<(), String> {
        if head.kind != super::genesis::KIND || self.genesis.is_some() {
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
        self.members.insert(admin.bytes(), Member::new(g.admin.name.clone(), admin, pos, vec![ADMIN_ROLE.into()]));
        let admin_signatures = admin_threshold(&g.policy);
        self.policies.push(AdoptedPolicy { id: *id, pos, text: g.policy.clone(), admin_signatures });
        self.applied.insert(*id, pos);
        self.counted.insert(*id);
        self.genesis = Some((*id, g));
        Ok(())
    }

    /// Why `key` does not count at `pos`.
    pub(crate) fn signer_problem(&self, key: &PublicKey, pos: Pos) -> String {
        match self.member(key) {
            None => format!("signed by key {} that is not enrolled", key.key_id()),
            Some(m) if let Some(r) = m.revocations().find(|r| self.causal.before(*r, pos)) => format!(
                "signed by {} ({}) after the key was revoked at {}",
                m.name,
                key.key_id(),
                self.causal.describe(r)
            ),
            Some(m) if let Some(r) = m.revocations().find(|r| self.causal.concurrent(*r, pos)) => {
                self.concurrent_revocation(m, r)
            }
            Some(m) if !self.causal.before(m.since, pos) => format!(
                "signed by {} ({}) where the enrollment at {} had not been seen",
                m.name,
                key.key_id(),
                self.causal.describe(m.since)
            ),
            Some(m) => format!("signed by {} ({}), who does not count here", m.name, key.key_id()),
        }
    }

    fn is_admin(&self, key: &PublicKey, pos: Pos) -> bool {
        self.member(key).is_some_and(|m| self.member_roles(m, pos).iter().any(|r| r == ADMIN_ROLE))
    }

    fn active_admins_after(
        &self,
        revoking: Option<&PublicKey>,
        roles_change: Option<(&PublicKey, &[String])>,
        pos: Pos,
    ) -> usize {
        self.members
            .values()
            .filter(|m| self.member_active(m, pos) && Some(&m.key) != revoking)
            .filter(|m| match roles_change {
                Some((k, roles)) if *k == m.key => roles.iter().any(|r| r == ADMIN_ROLE),
                _ => self.member_roles(m, pos).iter().any(|r| r == ADMIN_ROLE),
            })
            .count()
    }

    /// Checks a governance proposal by `proposer` at `pos` without recording it (the workflow asks this
    /// before signing).
    pub(crate) fn check_proposal(
        &self,
        kind: &str,
        body: &serde_json::Value,
        proposer: &PublicKey,
        pos: Pos,
    ) -> Result<(), String> {
        if !self.is_active(proposer, pos) {
            return Err(self.signer_problem(proposer, pos));
        }
        if !self.is_admin(proposer, pos) {
            return Err(format!(
                "{} is not an admin; only admins may change identities or policy",
                self.display(proposer)
            ));
        }
        let threshold = self.admin_signatures(pos);
        match kind {
            ENROLLED => {
                let b: EnrolledBody =
                    serde_json::from_value(body.clone()).map_err(|e| format!("malformed body: {e}"))?;
                let key = PublicKey::parse(&b.key).ok_or("the key to enroll is not a valid ed25519 public key")?;
                if let Some(m) = self.member(&key) {
                    // A revoked key stays revoked: enrolling it again would drop its revocation and void
                    // what it signed while it counted.
                    return Err(match m.revoked {
                        None => format!("key {} is already enrolled as {}", key.key_id(), m.name),
                        Some(_) => format!(
                            "key {} was enrolled as {} and revoked; a revoked key is never enrolled again (make a new key)",
                            key.key_id(),
                            m.name
                        ),
                    });
                }
                if self.members.values().any(|m| m.name == b.name && m.revoked.is_none()) {
                    return Err(format!("the name {:?} is already taken by an enrolled key", b.name));
                }
                if b.roles.is_empty() {
                    return Err("give at least one role".into());
                }
            }
            ROLES => {
                let b: RolesBody = serde_json::from_value(body.clone()).map_err(|e| format!("malformed body: {e}"))?;
                let key = PublicKey::parse(&b.key).ok_or("not a valid ed25519 public key")?;
                if !self.is_active(&key, pos) {
                    return Err(format!("{} is not an enrolled, active key", b.name));
                }
                if b.roles.is_empty() {
                    return Err("give at least one role (revoke the key to remove it)".into());
                }
                if self.active_admins_after(None, Some((&key, &b.roles)), pos) < threshold as usize {
                    return Err(format!(
                        "that would leave fewer admins than the {threshold} signatures identity changes need"
                    ));
                }
            }
            REVOKED => {
                let b: RevokedBody =
                    serde_json::from_value(body.clone()).map_err(|e| format!("malformed body: {e}"))?;
                let key = PublicKey::parse(&b.key).ok_or("not a valid ed25519 public key")?;
                if !self.is_active(&key, pos) {
                    return Err(format!("{} is not an enrolled, active key", b.name));
                }
                if self.active_admins_after(Some(&key), None, pos) < threshold as usize {
                    return Err(format!(
                        "that would leave fewer admins than the {threshold} signatures identity changes need"
                    ));
                }
            }
            POLICY_ADOPTED => {
                let b: PolicyText = serde_json::from_value(body.clone()).map_err(|e| format!("malformed body: {e}"))?;
                if !b.digest_ok() {
                    return Err("policy text does not match its digest".into());
                }
            }
            other => return Err(format!("{other} is not a governance kind")),
        }
        Ok(())
    }

    fn propose(&mut self, pos: Pos, id: &Hash, head: &CheckedHead, bytes: &[u8]) -> Result<(), String> {
        let body = body_value(bytes);
        self.check_proposal(&head.kind, &body, &head.actor, pos)?;
        let threshold = self.admin_signatures(pos);
        let mut p = Pending {
            id: *id,
            kind: head.kind.clone(),
            body,
            proposer: head.actor,
            pos,
            signers: BTreeSet::from([head.actor.bytes()]),
            threshold,
        };
        if p.signers.len() as u32 >= threshold {
            self.apply(&mut p, pos, 1);
        } else {
            self.pending.insert(*id, p);
        }
        Ok(())
    }

    fn endorse(&mut self, pos: Pos, _id: &Hash, head: &CheckedHead, bytes: &[u8]) -> Result<(), String> {
        let b: EndorsedBody = parse_body(bytes)?;
        let target = Hash::from_hex(&b.entry).ok_or("the co-signed entry id is not valid")?;
        self.check_endorsement(&target, &head.actor, pos)?;
        let mut p = self.pending.remove(&target).ok_or("nothing pending")?;
        p.signers.insert(head.actor.bytes());
        // Only signers that are still active admins count.
        let counted =
            p.signers.iter().filter(|k| PublicKey::from_bytes(k).is_some_and(|k| self.is_admin(&k, pos))).count()
                as u32;
        if counted >= p.threshold {
            // Re-check that the change still makes sense now (e.g. the key was not enrolled meanwhile).
            match self.check_proposal(&p.kind, &p.body, &p.proposer, pos) {
                Ok(()) => self.apply(&mut p, pos, counted),
                Err(reason) => return Err(format!("the co-signed change can no longer take effect: {reason}")),
            }
        } else {
            self.pending.insert(target, p);
        }
        Ok(())
    }

    fn join(&mut self, pos: Pos, head: &CheckedHead, bytes: &[u8]) -> Result<(), String> {
        if !self.is_active(&head.actor, pos) {
            return Err(self.signer_problem(&head.actor, pos));
        }
        let b: OriginJoinedBody = parse_body(bytes)?;
        if Some(b.ledger.as_str()) != self.genesis.as_ref().map(|g| g.0.to_hex()).as_deref() {
            return Err("joins another ledger".into());
        }
        let key = PublicKey::parse(&b.key).ok_or("the joining origin key is not valid")?;
        // A declaration opens the log it declares (FORMAT.md §1.2): one anywhere else — a member's own log
        // naming another machine, stamped before that machine's real one — declares nothing.
        use crate::ledger::pos::{index_of, origin_tag, tag_of};
        if index_of(pos) != 0 || tag_of(pos) != origin_tag(&b.origin) {
            return Err(format!("declares origin {} but is not the first entry of that origin's log", b.origin));
        }
        if self.origins.contains_key(&b.origin) {
            return Err(format!("origin {} is already declared", b.origin));
        }
        self.origins.insert(b.origin, key);
        Ok(())
    }

    /// Checks that `endorser` may co-sign `target` at `pos`.
    pub(crate) fn check_endorsement(&self, target: &EntryId, endorser: &PublicKey, pos: Pos) -> Result<(), String> {
        if !self.is_active(endorser, pos) {
            return Err(self.signer_problem(endorser, pos));
        }
        if !self.is_admin(endorser, pos) {
            return Err(format!("{} is not an admin; only admins may co-sign", self.display(endorser)));
        }
        let Some(p) = self.pending.get(target) else {
            return Err(if self.applied.contains_key(target) {
                "that change already took effect".to_string()
            } else {
                "no pending identity or policy change has that id".to_string()
            });
        };
        if p.signers.contains(&endorser.bytes()) {
            return Err(format!("{} already signed that change; a key counts once", self.display(endorser)));
        }
        Ok(())
    }

    fn apply(&mut self, p: &mut Pending, pos: Pos, signatures: u32) {
        match p.kind.as_str() {
            ENROLLED => {
                if let Ok(b) = serde_json::from_value::<EnrolledBody>(p.body.clone())
                    && let Some(key) = PublicKey::parse(&b.key)
                {
                    self.members.insert(key.bytes(), Member::new(b.name, key, pos, b.roles));
                }
            }
            ROLES => {
                if let Ok(b) = serde_json::from_value::<RolesBody>(p.body.clone())
                    && let Some(key) = PublicKey::parse(&b.key)
                    && let Some(m) = self.members.get_mut(&key.bytes())
                {
                    m.roles.push((pos, b.roles));
                }
            }
            REVOKED => {
                if let Ok(b) = serde_json::from_value::<RevokedBody>(p.body.clone())
                    && let Some(key) = PublicKey::parse(&b.key)
                    && let Some(m) = self.members.get_mut(&key.bytes())
                {
                    match m.revoked {
                        None => {
                            m.revoked = Some(pos);
                            m.revoked_at = Some(self.causal.describe(pos));
                        }
                        Some(_) => m.later_revocations.push(pos),
                    }
                }
            }
            POLICY_ADOPTED => {
                if let Ok(text) = serde_json::from_value::<PolicyText>(p.body.clone()) {
                    let admin_signatures = admin_threshold(&text);
                    self.policies.push(AdoptedPolicy { id: p.id, pos, text, admin_signatures });
                }
            }
            _ => {}
        }
        self.applied.insert(p.id, pos);
        self.took.push(Took { id: p.id, kind: p.kind.clone(), proposal: p.pos, effect: pos, signatures });
    }

    /// Every governance change that took effect with fewer admin signatures than a policy asks that its
    /// proposal had not seen ([`StaleGovernance`]), in position order: the policy in force where it took
    /// effect (an endorsement completing it after a stricter policy), and every policy adopted concurrently
    /// with its proposal or with that endorsement, less those a later one of them replaced.
    pub(crate) fn stale_governance(&self) -> Vec<StaleGovernance> {
        let before = |a: Pos, b: Pos| self.causal.before(a, b);
        let concurrent = |a: Pos, b: Pos| a != b && !before(a, b) && !before(b, a);
        self.took
            .iter()
            .filter_map(|t| {
                let in_force = self.policy_at(t.effect).filter(|q| q.id != t.id && !before(q.pos, t.proposal));
                let unseen: Vec<&AdoptedPolicy> = self
                    .policies
                    .iter()
                    .filter(|q| q.id != t.id && (concurrent(q.pos, t.proposal) || concurrent(q.pos, t.effect)))
                    .chain(in_force)
                    .collect();
                let strictest = unseen
                    .iter()
                    .filter(|q| !unseen.iter().any(|later| later.id != q.id && before(q.pos, later.pos)))
                    .max_by_key(|q| q.admin_signatures)?;
                let needs = strictest.admin_signatures;
                (needs > t.signatures).then(|| StaleGovernance {
                    id: t.id,
                    kind: t.kind.clone(),
                    pos: t.proposal,
                    at: self.causal.describe(t.proposal),
                    signatures: t.signatures,
                    policy: strictest.id,
                    policy_at: self.causal.describe(strictest.pos),
                    needs,
                })
            })
            .collect()
    }

    /// Whether `key` counts at log position `pos`: enrolled in its causal past, and not revoked in its
    /// past or concurrently with it.
    pub(crate) fn is_active(&self, key: &PublicKey, pos: Pos) -> bool {
        self.members.get(&key.bytes()).is_some_and(|m| self.member_active(m, pos))
    }

    /// Whether the member `key` belongs to ([`Roster::member_id`]) has a key that counts at `pos`: `key`
    /// itself, or one enrolled under its name since. (Said of a veto whose signer is gone; it decides
    /// nothing.)
    pub(crate) fn member_active_at(&self, key: &PublicKey, pos: Pos) -> bool {
        self.is_active(key, pos)
            || self
                .name_of(key)
                .is_some_and(|n| self.members.values().any(|m| m.name == n && self.member_active(m, pos)))
    }

    /// The roles `key` held at `pos` (causally; see [`Roster`]).
    pub(crate) fn roles_at(&self, key: &PublicKey, pos: Pos) -> Vec<String> {
        self.members.get(&key.bytes()).map(|m| self.member_roles(m, pos)).unwrap_or_default()
    }

    pub(crate) fn has_role(&self, key: &PublicKey, pos: Pos, roles: &[String]) -> bool {
        self.members.get(&key.bytes()).is_some_and(|m| self.held_roles(m, pos).any(|r| roles.contains(r)))
    }

    pub(crate) fn member(&self, key: &PublicKey) -> Option<&Member> {
        self.members.get(&key.bytes())
    }

    /// The member currently called `name` (the most recently enrolled, if a name was reused).
    pub(crate) fn member_by_name(&self, name: &str) -> Option<&Member> {
        self.members.values().filter(|m| m.name == name).max_by_key(|m| (m.revoked.is_none(), m.since))
    }

    pub fn members(&self) -> impl Iterator<Item = &Member> {
        self.members.values()
    }

    /// The member `key` belongs to, for counting people rather than keys: its enrolled name (a name is
    /// reused only after its key was revoked, by the key that replaced it), else the key itself.
    pub(crate) fn member_id(&self, key: &PublicKey) -> MemberId<'_> {
        match self.name_of(key) {
            Some(name) => MemberId::Name(name),
            None => MemberId::Key(key.bytes()),
        }
    }

    /// Whether `a` and `b` are one member ([`Roster::member_id`]): the same key, or a key and the one that
    /// replaced it under the same name. Thresholds and separation of duties count members.
    pub(crate) fn same_member(&self, a: &PublicKey, b: &PublicKey) -> bool {
        a == b || self.member_id(a) == self.member_id(b)
    }

    /// The display name of `key`, if enrolled.
    pub(crate) fn name_of(&self, key: &PublicKey) -> Option<&str> {
        self.member(key).map(|m| m.name.as_str())
    }

    /// `name (key id)` or `key id`.
    pub(crate) fn display(&self, key: &PublicKey) -> String {
        match self.member(key) {
            Some(m) => m.label.clone(),
            None => key.key_id(),
        }
    }

    /// The key declared for origin `name`.
    pub(crate) fn origin_key(&self, name: &str) -> Option<&PublicKey> {
        self.origins.get(name)
    }

    pub(crate) fn genesis(&self) -> Option<&(Hash, GenesisBody)> {
        self.genesis.as_ref()
    }

    /// The policy in force at `pos`: the latest adopted in its causal past.
    pub(crate) fn policy_at(&self, pos: Pos) -> Option<&AdoptedPolicy> {
        self.policies.iter().rev().find(|p| self.causal.before(p.pos, pos))
    }

    /// `identity.max_clock_skew_seconds` of the policy in force now.
    pub(crate) fn max_clock_skew_seconds(&self) -> i64 {
        self.policy_at(crate::ledger::POS_MAX)
            .and_then(|p| {
                p.text.toml.parse::<toml::Table>().ok()?.get("identity")?.get("max_clock_skew_seconds")?.as_integer()
            })
            .filter(|n| *n >= 0)
            .unwrap_or(DEFAULT_CLOCK_SKEW_SECONDS as i64)
    }

    /// Every adopted policy, oldest first.
    pub(crate) fn policies(&self) -> &[AdoptedPolicy] {
        &self.policies
    }

    /// Distinct admin signatures that governance changes need at `pos`.
    pub(crate) fn admin_signatures(&self, pos: Pos) -> u32 {
        self.policy_at(pos).map(|p| p.admin_signatures).unwrap_or(1)
    }

    pub(crate) fn pending(&self) -> impl Iterator<Item = &Pending> {
        self.pending.values()
    }

    /// Where governance entry `id` took effect, if it did.
    pub(crate) fn applied_at(&self, id: &EntryId) -> Option<Pos> {
        self.applied.get(id).copied()
    }

    /// Entries observed that do not count, with the reasons.
    pub(crate) fn discounted(&self) -> &[Discounted] {
        &self.discounted
    }
}
