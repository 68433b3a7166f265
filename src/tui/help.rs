//! The `?` help's lines: this screen's actions first (as the hint bar offers them), then every key binding
//! and every `:` command — each with what running it from the help does, so the view draws the same list
//! the update runs from.

use super::keymap::Action;
use super::state::{AppState, Screen};

/// What Enter on a help line runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Run {
    Action(Action),
    Command(&'static str),
}

/// One line of the help.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The key (or `:command`) column.
    pub keys: String,
    pub text: String,
    /// One of this screen's actions (drawn first, in the accent colour).
    pub here: bool,
    pub run: Option<Run>,
}

/// The help's lines for `s`, those containing `query` (any case) only.
pub fn entries(s: &AppState, query: &str) -> Vec<Entry> {
    let mut out = Vec::new();
    for (a, label) in screen_actions(s) {
        if matches!(a, Action::Help | Action::Command | Action::Quit) {
            continue;
        }
        out.push(Entry {
            keys: s.keymap.key_of(a),
            text: format!("{label} (on this screen)"),
            here: true,
            run: Some(Run::Action(a)),
        });
    }
    for (a, keys) in Action::ALL.iter().zip(s.keymap.bindings()) {
        // Help itself and the command line are not run from the help.
        let run = (!matches!(a, Action::Help | Action::Command)).then_some(Run::Action(*a));
        out.push(Entry { keys: keys.0, text: keys.1.to_string(), here: false, run });
    }
    for (name, aliases, what) in super::update::COMMANDS {
        let also = if aliases.is_empty() { String::new() } else { format!(" (:{})", aliases.join(" :")) };
        out.push(Entry {
            keys: format!(":{name}"),
            text: format!("{what}{also}"),
            here: false,
            run: Some(Run::Command(name)),
        });
    }
    let needle = query.to_lowercase();
    out.retain(|e| needle.is_empty() || format!("{} {}", e.keys, e.text).to_lowercase().contains(&needle));
    out
}

/// What can be done on the screen shown, as the hint bar and the help's first lines say it: on a request,
/// only the actions the policy lets this key sign there.
pub fn screen_actions(s: &AppState) -> Vec<(Action, &'static str)> {
    let mut out = vec![(Action::Help, "help"), (Action::Command, "cmd")];
    match s.screen {
        // On an observed rollback drawn above the queue.
        Screen::Queue if s.alert_selected.is_some() => {
            if !s.read_only {
                out.push((Action::FilterStatus, "file post-hoc"));
            }
            out.extend([(Action::Open, "show"), (Action::Down, "next / requests"), (Action::Copy, "copy id")]);
        }
        Screen::Queue => out.extend([
            (Action::Open, "open"),
            (Action::Search, "filter"),
            (Action::FilterStatus, "status"),
            (Action::FilterEnv, "env"),
            (Action::FilterRisk, "risk"),
            (Action::FilterFlagged, "flagged"),
            (Action::Sort, "sort"),
        ]),
        Screen::Detail => {
            out.push((Action::NextTab, "tab"));
            // Only what this key may do on this request (the policy's answer, loaded with the detail).
            if !s.read_only
                && let Some(can) = s.detail.as_ref().and_then(|d| d.data.as_ref()).map(|d| &d.can)
            {
                let offered = [
                    (Action::Approve, "approve", &can.approve),
                    (Action::Reject, "reject", &can.reject),
                    (Action::Execute, "execute", &can.execute),
                    (Action::Validate, "validate", &can.validate),
                    (Action::Review, "review", &can.review),
                    (Action::Emergency, "emergency", &can.emergency),
                    (Action::Close, "close", &can.close),
                    (Action::Note, "note", &can.annotate),
                    (Action::Attach, "attach", &can.annotate),
                ];
                out.extend(offered.iter().filter(|(_, _, ok)| ok.is_ok()).map(|(a, label, _)| (*a, *label)));
            }
            out.push((Action::Back, "back"));
        }
        Screen::History => out.extend([
            (Action::Search, "search"),
            (Action::Open, "inspect"),
            (Action::OpenRequest, "request"),
            (Action::FilterStatus, "kind"),
        ]),
        Screen::Dashboard | Screen::Integrity => out.push((Action::Refresh, "refresh")),
    }
    out.push((Action::Quit, "quit"));
    out
}
