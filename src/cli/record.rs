//! Turning `request new` / `request amend` flags (and `--from-file`) into a rollback record.

use super::args::RecordArgs;
use crate::audit::record::{Category, RequestBody, RevertOp, Risk, split_command};

fn category(s: &str) -> Result<Category, String> {
    serde_json::from_value(serde_json::Value::String(s.into())).map_err(|_| format!("unknown category {s:?}"))
}

fn risk(s: &str) -> Result<Risk, String> {
    Risk::parse(s).ok_or_else(|| format!("unknown risk {s:?} (low, medium, high, critical)"))
}

fn revert_op(cmd: &str, from: String, to: String) -> Result<RevertOp, String> {
    let argv = split_command(cmd).map_err(|e| e.0)?;
    let tool = std::path::Path::new(&argv[0]).file_name().and_then(|n| n.to_str()).unwrap_or(&argv[0]).to_string();
    Ok(RevertOp { tool, argv, from, to })
}

fn missing(field: &str, flag: &str) -> String {
    format!("{field} is required: pass --{flag} (or give it in --from-file)")
}

impl RecordArgs {
    /// Overwrites the fields of `r` given on the command line (lists replace lists).
    pub(crate) fn apply_to(&self, r: &mut RequestBody) -> Result<(), String> {
        let set = |dst: &mut String, v: &Option<String>| {
            if let Some(v) = v {
                *dst = v.clone();
            }
        };
        set(&mut r.title, &self.title);
        set(&mut r.change, &self.change);
        set(&mut r.rationale, &self.rationale);
        set(&mut r.impact, &self.impact);
        set(&mut r.env, &self.env);
        let opt = |dst: &mut Option<String>, v: &Option<String>| {
            if v.is_some() {
                *dst = v.clone();
            }
        };
        opt(&mut r.ticket, &self.ticket);
        opt(&mut r.incident, &self.incident);
        opt(&mut r.origin_env, &self.origin_env);
        opt(&mut r.security, &self.security);
        opt(&mut r.test_plan, &self.test_plan);
        opt(&mut r.roll_forward_plan, &self.roll_forward_plan);
        opt(&mut r.temporary_until, &self.temporary_until);
        opt(&mut r.deployed_at, &self.deployed_at);
        if let Some(c) = &self.category {
            r.category = category(c)?;
        }
        if let Some(k) = &self.risk {
            r.risk = risk(k)?;
        }
        let list = |dst: &mut Vec<String>, v: &Vec<String>| {
            if !v.is_empty() {
                *dst = v.clone();
            }
        };
        list(&mut r.components, &self.components);
        list(&mut r.cascades, &self.cascades);
        list(&mut r.lineage.commits, &self.commits);
        list(&mut r.lineage.artifacts, &self.artifacts);
        list(&mut r.lineage.images, &self.images);
        list(&mut r.lineage.iac, &self.iac);
        list(&mut r.lineage.feature_flags, &self.feature_flags);
        list(&mut r.lineage.manifests, &self.manifests);
        list(&mut r.lineage.release_notes, &self.release_notes);
        list(&mut r.side_effects.migrations, &self.migrations);
        list(&mut r.side_effects.destructive, &self.destructive);
        if let Some(cmd) = &self.revert_cmd {
            r.revert = revert_op(cmd, r.revert.from.clone(), r.revert.to.clone())?;
        }
        if let Some(f) = &self.from {
            r.revert.from = f.clone();
        }
        if let Some(t) = &self.to {
            r.revert.to = t.clone();
        }
        Ok(())
    }

    /// A complete record from the flags alone; every required field must be given (all the missing ones
    /// are named at once).
    pub(crate) fn to_record(&self) -> Result<RequestBody, String> {
        let given = [
            (self.title.is_some(), "title"),
            (self.change.is_some(), "change"),
            (self.category.is_some(), "category"),
            (self.rationale.is_some(), "rationale"),
            (self.impact.is_some(), "impact"),
            (!self.components.is_empty(), "component"),
            (self.env.is_some(), "env"),
            (self.revert_cmd.is_some(), "revert-cmd"),
            (self.from.is_some(), "from"),
            (self.to.is_some(), "to"),
            (self.risk.is_some(), "risk"),
        ];
        let absent: Vec<String> = given.iter().filter(|(ok, _)| !ok).map(|(_, flag)| format!("--{flag}")).collect();
        if !absent.is_empty() {
            return Err(format!(
                "missing {} required field{}: {} (or give them in --from-file)",
                absent.len(),
                if absent.len() == 1 { "" } else { "s" },
                absent.join(" ")
            ));
        }
        let req = |v: &Option<String>, field: &str, flag: &str| v.clone().ok_or_else(|| missing(field, flag));
        let title = req(&self.title, "title", "title")?;
        let change = req(&self.change, "change", "change")?;
        let category = category(&req(&self.category, "category", "category")?)?;
        let rationale = req(&self.rationale, "rationale", "rationale")?;
        let impact = req(&self.impact, "impact", "impact")?;
        let env = req(&self.env, "env", "env")?;
        let revert = revert_op(
            &req(&self.revert_cmd, "the revert command", "revert-cmd")?,
            req(&self.from, "the revision being reverted", "from")?,
            req(&self.to, "the revision to return to", "to")?,
        )?;
        let risk = risk(&req(&self.risk, "risk", "risk")?)?;
        let mut r = RequestBody {
            title,
            change,
            category,
            rationale,
            impact,
            components: self.components.clone(),
            env,
            revert,
            risk,
            ..Default::default()
        };
        self.apply_to(&mut r)?;
        Ok(r)
    }
}
