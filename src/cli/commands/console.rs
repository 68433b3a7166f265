//! The console commands: `demo` (build the demo ledger, then open the console on it) and `tui`.

use crate::cli::args::{DemoArgs, TuiArgs};
use crate::cli::output;
use crate::demo;
use crate::say;
use crate::workflow::{self, Context, WorkflowError};
use serde_json::json;
use std::process::ExitCode;

/// `demo`: builds the demo ledger and opens the console on it.
pub(crate) fn demo(_ctx: &Context, a: DemoArgs, json: bool) -> Result<ExitCode, WorkflowError> {
    let DemoArgs { dir, scale, no_tui } = a;
    let dir = dir.unwrap_or_else(|| {
        let mut r = [0u8; 4];
        let _ = getrandom::fill(&mut r);
        std::env::temp_dir().join(format!("rollcall-demo-{}", hex::encode(r)))
    });
    let started = std::time::Instant::now();
    let quiet = json;
    let demo = demo::build(&dir, scale, &mut |step| {
        if !quiet {
            crate::text::eprint_line(&format!("demo: {step}"));
        }
    })?;
    let rc = program();
    let how = format!(
        "ROLLCALL_HOME={} {rc} --ledger {} tui --as {}",
        demo.home.display(),
        demo.ledger.display(),
        demo::DEMO_USER
    );
    // The passphrase and the commands to go on with: printed before the console opens and again after it
    // closes (the console's screen covers what was printed before).
    let next = [
        format!("passphrase of every demo key: {}", demo::PASSPHRASE),
        format!("open it again with: {how}"),
        format!(
            "a governance report (grace signs its audit.read with the demo's passphrase): ROLLCALL_HOME={} \
             ROLLCALL_PASSPHRASE={} {rc} --ledger {} report --as grace",
            demo.home.display(),
            demo::PASSPHRASE,
            demo.ledger.display()
        ),
        format!(
            "a post-mortem timeline: ROLLCALL_HOME={} {rc} --ledger {} timeline --incident INC-800",
            demo.home.display(),
            demo.ledger.display()
        ),
        format!(
            "an auditor's check of the laptop's bundle: {rc} verify --bundle {}",
            demo.dir.join("laptop-1.rollcall").display()
        ),
        format!(
            "the CD tools' histories against the requests (one rollback unrecorded): ROLLCALL_HOME={} {rc} --ledger {} reconcile; \
             in the console ↑ selects it and f files its post-hoc request (as bob: tui --as bob)",
            demo.home.display(),
            demo.ledger.display()
        ),
    ];
    if json {
        output::json(&json!({"dir": demo.dir, "ledger": demo.ledger, "home": demo.home, "requests": demo.requests,
            "synthetic": demo.synthetic, "entries": demo.entries, "passphrase": demo::PASSPHRASE,
            "user": demo::DEMO_USER, "open": how}));
    } else {
        say!(
            "demo ledger: {} ({} requests{}, {} entries, built in {:.1} s)",
            demo.ledger.display(),
            demo.requests,
            if demo.synthetic > 0 { format!(" + {} synthetic", demo.synthetic) } else { String::new() },
            demo.entries,
            started.elapsed().as_secs_f64()
        );
        say!(
            "people: alice (admin), bob (requester), carol (approver), dave (security-approver), erin (executor, release-manager), frank (requester, approver), grace (auditor)"
        );
        say!(
            "a second machine, {} (frank's), joined from a bundle and synced both ways: {}",
            demo::JUMP_HOST,
            demo.dir.join("jump-host.db").display()
        );
        for line in &next {
            say!("{line}");
        }
    }
    if no_tui || json {
        return Ok(ExitCode::SUCCESS);
    }
    crate::tui::run(
        demo.context(),
        crate::tui::Options {
            read_only: false,
            signer: Some(demo::DEMO_USER.into()),
            banner: Some(format!("demo passphrase: {}", demo::PASSPHRASE)),
        },
    )?;
    for line in &next {
        say!("{line}");
    }
    Ok(ExitCode::SUCCESS)
}

/// `tui`: the console on this ledger, or read-only on an audit copy of a bundle.
pub(crate) fn tui(ctx: &Context, a: TuiArgs, _json: bool) -> Result<ExitCode, WorkflowError> {
    let TuiArgs { read_only, bundle, signer } = a;
    if let Some(b) = bundle {
        let copy = workflow::sync::open_bundle(&b)?;
        let ctx = Context::from_env(Some(copy.path.clone()))?;
        let banner = Some(format!("bundle {} (read-only audit copy)", crate::text::safe(&b.display().to_string())));
        crate::tui::run(ctx, crate::tui::Options { read_only: true, signer: None, banner })?;
        return Ok(ExitCode::SUCCESS);
    }
    let ctx = Context::from_env(Some(ctx.ledger_path.clone()))?;
    // A key that is not in the keystore is refused before the terminal is taken over.
    if let Some(name) = signer.as_deref().filter(|_| !read_only) {
        ctx.keystore.info(name)?;
    }
    crate::tui::run(ctx, crate::tui::Options { read_only, signer, banner: None })?;
    Ok(ExitCode::SUCCESS)
}

/// How to run rollcall from here: `rollcall` when a program of that name is on the PATH; the `cargo run
/// --release --` of the README for a binary cargo built (under a `target` directory: the demo is often the
/// first thing run from a clone); else this binary's own path (one unpacked from a release archive).
fn program() -> String {
    let on_path =
        std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("rollcall").is_file()));
    if on_path {
        return "rollcall".into();
    }
    match std::env::current_exe() {
        Ok(exe) if !exe.components().any(|c| c.as_os_str() == "target") => {
            crate::audit::record::join_command(&[exe.to_string_lossy().as_ref()])
        }
        _ => "cargo run --release --".into(),
    }
}
