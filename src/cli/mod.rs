//! The command line: clap definitions, dispatch to `workflow`, and output (human tables or one JSON
//! document). The one place where errors become messages and exit codes.

pub(crate) mod args;
pub(crate) mod background;
pub(crate) mod commands;
pub(crate) mod output;
pub(crate) mod print;
pub(crate) mod record;
pub(crate) mod render;
pub(crate) mod usage;

use std::process::ExitCode;

/// Exit status of a failed check (verify, gate, refused import or signature), or of a system failure
/// (terminal, output, a tool the command runs).
pub const EXIT_CHECK_FAILED: u8 = 1;
/// Exit status of bad usage or unreadable input.
pub const EXIT_USAGE: u8 = 2;

/// Parses the command line, runs it and reports errors on one line.
pub fn main() -> ExitCode {
    crate::STARTED.get_or_init(std::time::Instant::now);
    install_panic_hook();
    let cli = match <args::Cli as clap::Parser>::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    let json = cli.json;
    if let Some(t) = crate::workflow::clock::overridden() {
        output::warn(&format!(
            "the clock is set to {} by {}; decisions and timestamps use that time",
            crate::ledger::statement::format_ts(t),
            crate::workflow::clock::NOW_ENV
        ));
    }
    match commands::run(cli) {
        Ok(code) => code,
        Err(e) => {
            let code = if e.is_failure() { EXIT_CHECK_FAILED } else { EXIT_USAGE };
            let msg = crate::text::safe(&e.to_string());
            let line = match e.hint() {
                Some(h) => format!("{msg} ({h})"),
                None => msg,
            };
            if json {
                let doc = serde_json::json!({"error": line, "exit_code": code});
                output::emit(&format!("{doc}\n"));
            }
            crate::text::eprint_line(&format!("error: {line}"));
            ExitCode::from(code)
        }
    }
}

/// A usage error in one line and a hint (exit 2), or the help or version clap prints (exit 0; the help
/// shown for a command given without its subcommand exits 2).
fn usage_error(e: clap::Error) -> ExitCode {
    let Some((message, hint)) = usage::lines(&e) else {
        let _ = e.print();
        return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(EXIT_USAGE));
    };
    if std::env::args().any(|a| a == "--json") {
        let doc = serde_json::json!({"error": message, "hint": hint, "exit_code": EXIT_USAGE});
        output::emit(&format!("{doc}\n"));
    }
    crate::text::eprint_line(&format!("error: {message}"));
    crate::text::eprint_line(&format!("hint: {hint}"));
    ExitCode::from(EXIT_USAGE)
}

fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::env::var_os("RUST_BACKTRACE").is_some() {
            previous(info);
            return;
        }
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        crate::text::eprint_line(&format!(
            "error: internal error: {msg}{at} (this is a bug in rollcall; please report it)"
        ));
    }));
}
