//! `key new` and `key list`: the keys in this person's keystore.

use crate::cli::args::{KeyCommand, KeyNewArgs};
use crate::cli::output::{self, Table};
use crate::say;
use crate::workflow::{self, Context, WorkflowError};
use serde_json::json;
use std::process::ExitCode;

/// `key …`.
pub(crate) fn run(ctx: &Context, command: KeyCommand, json: bool) -> Result<ExitCode, WorkflowError> {
    match command {
        KeyCommand::New(KeyNewArgs { name }) => key_new(ctx, &name, json),
        KeyCommand::List => key_list(ctx, json),
    }
}

fn key_new(ctx: &Context, name: &str, json: bool) -> Result<ExitCode, WorkflowError> {
    let k = workflow::keys::new_key(ctx, name)?;
    if json {
        output::json(&json!({
            "name": k.name, "key_id": k.public_key.key_id(), "public_key": k.public_key.encode(),
            "path": k.path, "created": k.created,
        }));
    } else {
        say!("created key {} ({})", k.name, k.public_key.key_id());
        say!("public key: {}", k.public_key.encode());
        say!("stored encrypted at {}", k.path.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn key_list(ctx: &Context, json: bool) -> Result<ExitCode, WorkflowError> {
    let (keys, problems) = workflow::keys::list_keys(ctx)?;
    for p in &problems {
        output::warn(p);
    }
    if json {
        let list: Vec<_> = keys
            .iter()
            .map(|k| json!({"name": k.name, "key_id": k.public_key.key_id(), "public_key": k.public_key.encode(), "created": k.created,
                "kdf": {"alg": k.kdf.alg, "version": k.kdf.version, "m_kib": k.kdf.m_kib, "t": k.kdf.t, "p": k.kdf.p, "weak": k.kdf.is_weak()}}))
            .collect();
        output::json(&json!({"keys": list, "problems": problems}));
    } else if keys.is_empty() {
        say!("no keys in {} (create one with `rollcall key new NAME`)", ctx.keystore.keys_dir().display());
    } else {
        let mut t = Table::new(&["NAME", "KEY ID", "PUBLIC KEY", "KDF"]);
        for k in &keys {
            let weak = if k.kdf.is_weak() { " WEAK" } else { "" };
            t.row(vec![
                k.name.clone(),
                k.public_key.key_id(),
                k.public_key.encode(),
                format!("{}{weak}", k.kdf.describe()),
            ]);
        }
        output::emit(&t.render());
    }
    Ok(ExitCode::SUCCESS)
}
