//! The evidence commands: attach, show (parsed, a page, or the raw text), export the original bytes, purge.

use crate::cli::args::{
    EvidenceAddArgs, EvidenceCommand, EvidenceExportArgs, EvidencePurgeArgs, EvidenceShowArgs, PageArg,
};
use crate::cli::output::{self};
use crate::cli::print::on_request;
use crate::cli::render;
use crate::say;
use crate::workflow::{self, Context, WorkflowError};
use serde_json::json;
use std::process::ExitCode;

/// `evidence …`.
pub(crate) fn run(ctx: &Context, command: EvidenceCommand, json: bool) -> Result<ExitCode, WorkflowError> {
    match command {
        EvidenceCommand::Add(a) => add(ctx, a, json),
        EvidenceCommand::Show(a) => show(ctx, a, json),
        EvidenceCommand::Export(a) => export(ctx, a, json),
        EvidenceCommand::Purge(a) => purge(ctx, a, json),
    }
}

/// `evidence add REQ`.
pub(crate) fn add(ctx: &Context, a: EvidenceAddArgs, json: bool) -> Result<ExitCode, WorkflowError> {
    let EvidenceAddArgs { req, file, kind, url, source, signer } = a;
    let (r, id) = workflow::lifecycle::attach_evidence(
        ctx,
        signer.name.as_deref(),
        &req,
        &kind,
        file.as_deref(),
        url.as_deref(),
        source.as_deref(),
    )?;
    on_request("evidence", &r, &id, json);
    Ok(ExitCode::SUCCESS)
}

/// `evidence show ID`: parsed and rendered, one page of its text (`--page N|last`), or all of it (`--raw`).
pub(crate) fn show(ctx: &Context, a: EvidenceShowArgs, json: bool) -> Result<ExitCode, WorkflowError> {
    let EvidenceShowArgs { id, page, raw } = a;
    if let Some(which) = page {
        let n = match which {
            PageArg::Number(0) => {
                return Err(WorkflowError::Usage("pages count from 1: --page 1 is the first 64 KiB".into()));
            }
            PageArg::Number(n) => Some(n - 1),
            PageArg::Last => None,
        };
        let (ev, page) = workflow::evidence::show_page(ctx, &id, n)?;
        if json {
            output::json(&render::evidence_page_json(&ev, &page));
            return Ok(ExitCode::SUCCESS);
        }
        // The text alone on stdout (for scripts); where it lies in the file on stderr, after it.
        let clean = crate::text::multi_line(&page.text);
        output::emit(&clean.text);
        if !clean.text.ends_with('\n') && std::io::IsTerminal::is_terminal(&std::io::stdout()) {
            crate::text::eprint_line("");
        }
        if clean.suspicious {
            output::warn("this page contains control or invisible characters; they are printed as <U+XXXX>");
        }
        crate::text::eprint_line(&render::page_position(&ev, &page));
        return Ok(ExitCode::SUCCESS);
    }
    if raw {
        if json {
            return Err(WorkflowError::Usage(
                "--raw prints text, not JSON: use --page N with --json, or `rollcall evidence export` for the bytes"
                    .into(),
            ));
        }
        // A page at a time: decoded (a character cut between pages kept whole), sanitized, printed.
        let mut text = crate::text::Utf8Stream::default();
        let mut suspicious = false;
        let mut print = |s: &str| {
            let clean = crate::text::multi_line(s);
            suspicious |= clean.suspicious;
            output::emit(&clean.text);
        };
        workflow::evidence::read_pages(ctx, &id, &mut |bytes| {
            print(&text.push(bytes));
            Ok(())
        })?;
        print(&text.finish());
        if suspicious {
            output::warn("the text contains control or invisible characters; they are printed as <U+XXXX>");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let ev = workflow::evidence::show(ctx, &id)?;
    if json {
        output::json(&render::evidence_json(&ev));
    } else {
        output::emit(&render::evidence_text(&ev));
    }
    Ok(ExitCode::SUCCESS)
}

/// `evidence export ID --out FILE`: the original bytes, digest checked.
pub(crate) fn export(ctx: &Context, a: EvidenceExportArgs, json: bool) -> Result<ExitCode, WorkflowError> {
    let EvidenceExportArgs { id, out } = a;
    let (ev, n) = workflow::evidence::export(ctx, &id, &out)?;
    if json {
        output::json(&json!({"evidence": ev.entry.to_hex(), "out": out, "bytes": n, "sha256": ev.body.sha256}));
    } else {
        say!("wrote {n} bytes to {} (sha256 {} checked)", out.display(), ev.body.sha256.as_deref().unwrap_or("-"));
    }
    Ok(ExitCode::SUCCESS)
}

/// `evidence purge ID`.
pub(crate) fn purge(ctx: &Context, a: EvidencePurgeArgs, json: bool) -> Result<ExitCode, WorkflowError> {
    let EvidencePurgeArgs { id, reason, signer } = a;
    let (r, ev) = workflow::purge::purge(ctx, signer.name.as_deref(), &id, &reason)?;
    on_request("purge", &r, &ev, json);
    Ok(ExitCode::SUCCESS)
}
