//! Governance: enrolling people, changing their roles, revoking keys, co-signing pending changes, and
//! adopting policy versions. Each needs the policy's number of distinct admin signatures.

use crate::identity::genesis::PolicyText;
use crate::identity::kinds::*;
use crate::identity::roster::Pending;
use crate::ledger::{EntryId, Ledger, PublicKey, Statement};
use crate::workflow::context::{Context, Receipt};
use crate::workflow::error::WorkflowError;
use crate::workflow::reads::state::Snapshot;
use std::path::Path;

/// A recorded governance entry and whether it took effect.
#[derive(Clone, Debug)]
pub(crate) struct GovernanceReceipt {
    pub receipt: Receipt,
    /// The proposal this entry belongs to (itself, or the entry it co-signed).
    pub proposal: EntryId,
    pub in_effect: bool,
    /// Distinct admin signatures it has, and needs.
    pub signatures: (u32, u32),
}

fn record(
    ctx: &Context,
    signer: Option<&str>,
    kind: &str,
    body: serde_json::Value,
    refs: Vec<EntryId>,
    target: Option<EntryId>,
) -> Result<GovernanceReceipt, WorkflowError> {
    let mut session = ctx.session(signer)?;
    let actor = session.signer.public();
    // Stamped as it will be written: the proposal's id and the checks below are the entry's.
    let now = session.stamp_now()?;
    let statement = Statement::new_at(kind, &actor, body.clone(), &refs, now);
    let kind_owned = kind.to_string();
    let validate = move |ledger: &Ledger, roster: &crate::identity::Roster, st: &Statement| {
        let pos = ledger.next_pos(&st.ts)?;
        let result = match target {
            Some(t) => roster.check_endorsement(&t, &actor, pos),
            None => roster.check_proposal(&kind_owned, &body, &actor, pos),
        };
        result.map_err(WorkflowError::Refused)
    };
    let receipt = super::append(&mut session, statement, &validate)?;
    // The entry written is the proposal (its id as signed: a restamp would have changed it).
    let proposal = target.unwrap_or(receipt.entry_id);
    let roster = session.roster()?;
    let in_effect = roster.applied_at(&proposal).is_some();
    let signatures = match roster.pending().find(|p| p.id == proposal) {
        Some(p) => (p.signers.len() as u32, p.threshold),
        None => {
            let need = roster.admin_signatures(crate::ledger::POS_MAX);
            (need, need)
        }
    };
    Ok(GovernanceReceipt { receipt, proposal, in_effect, signatures })
}

/// Checks role names against the policy in force.
fn check_roles(ctx: &Context, roles: &[String]) -> Result<(), WorkflowError> {
    let ledger = ctx.open_read_only()?;
    let snap = Snapshot::load(&ledger)?;
    let (_, policy) = snap.policies.current();
    if roles.is_empty() {
        return Err(WorkflowError::Usage("give at least one --role".into()));
    }
    if let Some(r) = roles.iter().find(|r| !policy.roles.known.contains(r)) {
        return Err(WorkflowError::Usage(format!(
            "role {r:?} is not one of the policy's roles: {}",
            policy.roles.known.join(", ")
        )));
    }
    Ok(())
}

fn member_key(ctx: &Context, name: &str) -> Result<PublicKey, WorkflowError> {
    let ledger = ctx.open_read_only()?;
    let roster = crate::identity::Roster::from_ledger(&ledger)?;
    roster
        .member_by_name(name)
        .map(|m| m.key)
        .ok_or_else(|| WorkflowError::NotFound(format!("nobody named {name:?} is enrolled (see `rollcall members`)")))
}

/// Enrolls `name` with public key `pubkey` and `roles`.
pub(crate) fn enroll(
    ctx: &Context,
    admin: Option<&str>,
    name: &str,
    pubkey: &str,
    roles: &[String],
) -> Result<GovernanceReceipt, WorkflowError> {
    if !crate::identity::keystore::valid_name(name) {
        return Err(crate::identity::IdentityError::InvalidName(name.into()).into());
    }
    let key = PublicKey::parse(pubkey.trim()).ok_or_else(|| {
        WorkflowError::Usage(format!(
            "{:?} is not a public key like ed25519:<64 hex> (see `rollcall key list`)",
            crate::text::safe(pubkey)
        ))
    })?;
    check_roles(ctx, roles)?;
    let body = serde_json::to_value(EnrolledBody { name: name.into(), key: key.encode(), roles: roles.to_vec() })?;
    record(ctx, admin, ENROLLED, body, vec![], None)
}

/// Replaces the roles of enrolled `name`.
pub(crate) fn set_roles(
    ctx: &Context,
    admin: Option<&str>,
    name: &str,
    roles: &[String],
) -> Result<GovernanceReceipt, WorkflowError> {
    check_roles(ctx, roles)?;
    let key = member_key(ctx, name)?;
    let body = serde_json::to_value(RolesBody { name: name.into(), key: key.encode(), roles: roles.to_vec() })?;
    record(ctx, admin, ROLES, body, vec![], None)
}

/// Revokes the key of enrolled `name`.
pub(crate) fn revoke(
    ctx: &Context,
    admin: Option<&str>,
    name: &str,
    reason: &str,
) -> Result<GovernanceReceipt, WorkflowError> {
    if reason.trim().is_empty() {
        return Err(WorkflowError::Usage("give the reason for the revocation (--reason)".into()));
    }
    let key = member_key(ctx, name)?;
    let body = serde_json::to_value(RevokedBody { name: name.into(), key: key.encode(), reason: reason.into() })?;
    record(ctx, admin, REVOKED, body, vec![], None)
}

/// Co-signs the pending governance entry whose id starts with `prefix`.
pub(crate) fn cosign(ctx: &Context, admin: Option<&str>, prefix: &str) -> Result<GovernanceReceipt, WorkflowError> {
    let target = {
        let ledger = ctx.open_read_only()?;
        let roster = crate::identity::Roster::from_ledger(&ledger)?;
        let p = prefix.trim().to_ascii_lowercase();
        let hits: Vec<&Pending> = roster.pending().filter(|x| p.len() >= 4 && x.id.to_hex().starts_with(&p)).collect();
        match hits.as_slice() {
            [one] => one.id,
            [] => {
                return Err(WorkflowError::NotFound(format!(
                    "no pending identity or policy change starts with {prefix} (see `rollcall members --pending`)"
                )));
            }
            _ => {
                return Err(WorkflowError::Usage(format!(
                    "{prefix} matches several pending changes; give more characters"
                )));
            }
        }
    };
    let body = serde_json::to_value(EndorsedBody { entry: target.to_hex() })?;
    record(ctx, admin, ENDORSED, body, vec![target], Some(target))
}

/// Adopts the policy in `file`.
pub(crate) fn adopt_policy(
    ctx: &Context,
    admin: Option<&str>,
    file: &Path,
) -> Result<GovernanceReceipt, WorkflowError> {
    let text = super::init::read_policy_file(file)?;
    let body = serde_json::to_value(PolicyText::new(&text))?;
    let mut g = record(ctx, admin, POLICY_ADOPTED, body, vec![], None)?;
    g.receipt.warnings.extend(crate::policy::unset_later_settings(&text));
    Ok(g)
}
