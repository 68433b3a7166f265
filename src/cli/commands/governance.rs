//! Governance commands: enrolling people, their roles, revocations, co-signatures, the member list, the
//! policy, and acknowledging a recorded equivocation.

use crate::cli::args::{
    AcknowledgeArgs, CosignArgs, EnrollArgs, PolicyAdoptArgs, PolicyCommand, RevokeArgs, RolesArgs,
};
use crate::cli::output::{self, Table};
use crate::cli::print::governance;
use crate::cli::print::receipt;
use crate::say;
use crate::workflow::{self, Context, WorkflowError};
use serde_json::json;
use std::process::ExitCode;

/// `policy …`.
pub(crate) fn policy(ctx: &Context, command: PolicyCommand, json: bool) -> Result<ExitCode, WorkflowError> {
    match command {
        PolicyCommand::Adopt(a) => adopt_policy(ctx, a, json),
        PolicyCommand::Show => show_policy(ctx, json),
    }
}

/// `enroll NAME`.
pub(crate) fn enroll(ctx: &Context, a: EnrollArgs, json: bool) -> Result<ExitCode, WorkflowError> {
    let EnrollArgs { name, pubkey, roles, signer } = a;
    let g = workflow::identity::enroll(ctx, signer.name.as_deref(), &name, &pubkey, &roles)?;
    governance("enrolment", &g, json);
    Ok(ExitCode::SUCCESS)
}

/// `roles NAME`.
pub(crate) fn roles(ctx: &Context, a: RolesArgs, json: bool) -> Result<ExitCode, WorkflowError> {
    let RolesArgs { name, roles, signer } = a;
    let g = workflow::identity::set_roles(ctx, signer.name.as_deref(), &name, &roles)?;
    governance("role change", &g, json);
    Ok(ExitCode::SUCCESS)
}

/// `revoke NAME`.
pub(crate) fn revoke(ctx: &Context, a: RevokeArgs, json: bool) -> Result<ExitCode, WorkflowError> {
    let RevokeArgs { name, reason, signer } = a;
    let g = workflow::identity::revoke(ctx, signer.name.as_deref(), &name, &reason)?;
    governance("revocation", &g, json);
    Ok(ExitCode::SUCCESS)
}

/// `cosign ENTRY`.
pub(crate) fn cosign(ctx: &Context, a: CosignArgs, json: bool) -> Result<ExitCode, WorkflowError> {
    let CosignArgs { entry, signer } = a;
    let g = workflow::identity::cosign(ctx, signer.name.as_deref(), &entry)?;
    governance("co-signature", &g, json);
    Ok(ExitCode::SUCCESS)
}

/// `members`: who is enrolled, with which roles, and pending governance changes.
pub(crate) fn members(ctx: &Context, json: bool) -> Result<ExitCode, WorkflowError> {
    let (members, pending, size) = workflow::query::members(ctx)?;
    if json {
        output::json(&json!({
            "members": members.iter().map(|m| json!({"name": m.name, "key": m.key.encode(), "key_id": m.key.key_id(),
                "roles": m.current_roles(), "since": crate::ledger::pos::index_of(m.since), "revoked": m.revoked.map(crate::ledger::pos::index_of), "revoked_at": m.revoked_at(), "active": m.active_at(size)})).collect::<Vec<_>>(),
            "pending": pending.iter().map(|p| json!({"entry_id": p.id.to_hex(), "kind": p.kind, "index": crate::ledger::pos::index_of(p.pos),
                "signatures": p.signers.len(), "need": p.threshold, "body": p.body})).collect::<Vec<_>>(),
        }));
    } else {
        let mut t = Table::new(&["NAME", "KEY ID", "ROLES", "SINCE", "STATE"]);
        for m in &members {
            t.row(vec![
                m.name.clone(),
                m.key.key_id(),
                m.current_roles().join(","),
                format!("#{}", crate::ledger::pos::index_of(m.since)),
                match m.revoked_at() {
                    Some(at) => format!("revoked at {}", crate::text::safe(at)),
                    None => "active".into(),
                },
            ]);
        }
        output::emit(&t.render());
        for p in &pending {
            say!("pending {} {} ({} of {} admin signatures)", p.id.short(12), p.kind, p.signers.len(), p.threshold);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `policy adopt FILE`.
pub(crate) fn adopt_policy(ctx: &Context, a: PolicyAdoptArgs, json: bool) -> Result<ExitCode, WorkflowError> {
    let PolicyAdoptArgs { file, signer } = a;
    let g = workflow::identity::adopt_policy(ctx, signer.name.as_deref(), &file)?;
    governance("policy adoption", &g, json);
    Ok(ExitCode::SUCCESS)
}

/// `policy show`: the policy in force.
pub(crate) fn show_policy(ctx: &Context, json: bool) -> Result<ExitCode, WorkflowError> {
    let (id, pos, text) = workflow::query::policy_in_force(ctx)?;
    if json {
        output::json(&json!({"entry_id": id.to_hex(), "since": crate::ledger::pos::index_of(pos), "toml": text}));
    } else {
        say!("# policy in force: entry {} (since index {})", id.short(16), crate::ledger::pos::index_of(pos));
        output::emit(&crate::text::multi_line(&text).text);
    }
    Ok(ExitCode::SUCCESS)
}

/// `acknowledge EVIDENCE`: a recorded equivocation was investigated.
pub(crate) fn acknowledge(ctx: &Context, a: AcknowledgeArgs, json: bool) -> Result<ExitCode, WorkflowError> {
    let AcknowledgeArgs { evidence, finding, signer } = a;
    let r = workflow::sync::acknowledge(ctx, signer.name.as_deref(), &evidence, &finding)?;
    receipt("acknowledgment", &r, json);
    Ok(ExitCode::SUCCESS)
}
