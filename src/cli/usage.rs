//! Command-line usage errors as one line and a hint: what was wrong (the missing options together, the
//! bad value with the values allowed, the unknown command with the nearest one), then the usage of the
//! command and where its help is. `--help` and `--version` print as clap writes them.

use clap::error::{ContextKind, ContextValue, ErrorKind};

/// The error line and the hint line for a clap error (none for help and version, which are not errors).
pub(crate) fn lines(e: &clap::Error) -> Option<(String, String)> {
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        return None;
    }
    let text = |k: ContextKind| match e.get(k) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        Some(ContextValue::Strings(v)) => Some(v.join(", ")),
        _ => None,
    };
    // clap lists its suggestions from the least to the most alike: the closest is said first.
    let suggested = |k: ContextKind| match e.get(k) {
        Some(ContextValue::Strings(v)) => Some(v.iter().rev().cloned().collect::<Vec<_>>().join(", ")),
        Some(ContextValue::String(s)) => Some(s.clone()),
        _ => None,
    };
    let rendered = e.render().to_string();
    let usage = rendered.lines().find_map(|l| l.trim().strip_prefix("Usage: ").map(str::to_string));
    let first = rendered.lines().next().unwrap_or_default().trim_start_matches("error: ").to_string();
    let message = match e.kind() {
        ErrorKind::MissingRequiredArgument => match e.get(ContextKind::InvalidArg) {
            Some(ContextValue::Strings(v)) => format!("missing {}", v.join(" ")),
            _ => first,
        },
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            let arg = text(ContextKind::InvalidArg).unwrap_or_default();
            let value = text(ContextKind::InvalidValue).unwrap_or_default();
            match text(ContextKind::ValidValue) {
                Some(valid) if !valid.trim().is_empty() => {
                    format!("invalid value {value:?} for {arg} (one of: {valid})")
                }
                _ => first,
            }
        }
        ErrorKind::InvalidSubcommand => {
            let what = text(ContextKind::InvalidSubcommand).unwrap_or_default();
            match suggested(ContextKind::SuggestedSubcommand) {
                Some(s) => format!("unknown command {what:?}; did you mean {s}?"),
                None => format!("unknown command {what:?}"),
            }
        }
        ErrorKind::UnknownArgument => {
            let what = text(ContextKind::InvalidArg).unwrap_or_default();
            match suggested(ContextKind::SuggestedArg) {
                Some(s) => format!("unknown option {what:?}; did you mean {s}?"),
                None => format!("unknown option {what:?}"),
            }
        }
        _ => first,
    };
    // The command the usage line names ("rollcall approve"), for its --help.
    let command: String = usage
        .as_deref()
        .map(|u| u.split_whitespace().take_while(|w| !w.starts_with(['-', '<', '['])).collect::<Vec<_>>().join(" "))
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "rollcall".into());
    let hint = match usage {
        Some(u) if e.kind() != ErrorKind::InvalidSubcommand => format!("usage: {u}   (more: {command} --help)"),
        _ => format!("{command} --help lists the commands"),
    };
    Some((crate::text::safe(&message), crate::text::safe(&hint)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn two(args: &[&str]) -> (String, String) {
        let e = crate::cli::args::Cli::try_parse_from(args).expect_err("a usage error");
        lines(&e).expect("not help")
    }

    #[test]
    fn every_command_and_option_says_what_it_is_for() {
        use clap::CommandFactory;
        fn walk(c: &clap::Command, path: &str, missing: &mut Vec<String>) {
            if c.get_about().is_none() && !path.is_empty() {
                missing.push(format!("{path} (the command)"));
            }
            for a in c.get_arguments() {
                let id = a.get_id().as_str();
                if id == "help" || id == "version" {
                    continue;
                }
                if a.get_help().is_none() && a.get_long_help().is_none() {
                    missing.push(format!("{path} {id}"));
                }
            }
            for sub in c.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&crate::cli::args::Cli::command(), "", &mut missing);
        assert!(missing.is_empty(), "without a description: {missing:#?}");
    }

    #[test]
    fn the_top_help_lists_every_command_by_area() {
        use clap::CommandFactory;
        let top = crate::cli::args::Cli::command();
        let help = crate::cli::args::TOP_HELP;
        for c in top.get_subcommands() {
            let name = c.get_name();
            if name == "help" {
                continue;
            }
            assert!(help.split([' ', ',', '\n']).any(|w| w == name), "{name} is not in the top help");
            for sub in c.get_subcommands().filter(|s| s.get_name() != "help") {
                let listed = help.contains(&format!("{name} {}", sub.get_name()))
                    || help.contains(&format!("|{}", sub.get_name()))
                    || help.contains(&format!("{name} {}|", sub.get_name()));
                assert!(listed, "{name} {} is not in the top help", sub.get_name());
            }
        }
        let rendered = top.clone().render_help().to_string();
        assert!(rendered.contains("Commands, by area") && rendered.contains("ROLLCALL_PASSPHRASE"), "{rendered}");
    }

    #[test]
    fn usage_errors_are_one_line_and_a_hint() {
        let (msg, hint) = two(&["rollcall", "approve", "abc", "--as", "carol"]);
        assert_eq!(msg, "missing --comment <COMMENT>");
        assert!(
            hint.starts_with("usage: rollcall approve") && hint.ends_with("(more: rollcall approve --help)"),
            "{hint}"
        );
        let (msg, _) = two(&["rollcall", "evidence", "add", "R", "f", "--kind", "bogus"]);
        assert!(msg.starts_with("invalid value \"bogus\" for --kind") && msg.contains("one of: test, scan"), "{msg}");
        let (msg, hint) = two(&["rollcall", "aprove"]);
        assert!(msg.contains("unknown command \"aprove\"; did you mean approve"), "the closest first: {msg}");
        assert_eq!(hint, "rollcall --help lists the commands");
        let (msg, _) = two(&["rollcall", "verify", "--bogus"]);
        assert!(msg.starts_with("unknown option \"--bogus\""), "{msg}");
        // A command with two forms names both in its usage, so the form not given is found from the hint.
        let (msg, hint) = two(&["rollcall", "gate"]);
        assert_eq!(msg, "missing <REQ>");
        assert!(hint.contains("rollcall gate [OPTIONS] <REQ>") && hint.contains("--change <ID> --env <ENV>"), "{hint}");
        assert!(hint.ends_with("(more: rollcall gate --help)"), "{hint}");
        for (m, h) in [two(&["rollcall", "approve"]), two(&["rollcall", "note"])] {
            assert!(!m.contains('\n') && !h.contains('\n'), "{m} / {h}");
        }
        let help = crate::cli::args::Cli::try_parse_from(["rollcall", "--help"]).expect_err("help");
        assert!(lines(&help).is_none());
    }
}
