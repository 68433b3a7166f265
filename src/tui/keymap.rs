//! Key bindings: the actions a key can trigger, the defaults in code, and overrides from `keymap.toml`
//! in the config directory (`[keys] approve = ["a"]`). The help screen and the hint bar are generated
//! from the same map.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::BTreeMap;

macro_rules! actions {
    ($($name:ident = $id:literal, $desc:literal, [$($key:literal),*];)*) => {
        /// What a key does.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Action { $($name),* }

        impl Action {
            pub const ALL: &'static [Action] = &[$(Action::$name),*];

            /// The name used in `keymap.toml`.
            pub fn id(self) -> &'static str {
                match self { $(Action::$name => $id),* }
            }

            pub fn describe(self) -> &'static str {
                match self { $(Action::$name => $desc),* }
            }

            fn defaults(self) -> &'static [&'static str] {
                match self { $(Action::$name => &[$($key),*]),* }
            }
        }
    };
}

actions! {
    Quit = "quit", "quit", ["q", "ctrl-c"];
    Back = "back", "close / go back", ["esc"];
    Help = "help", "this help", ["?"];
    Command = "command", "command line (:queue :history :dashboard :integrity :verify :q)", [":"];
    Search = "search", "queue: filter as you type; history: full-text search; help: search; a viewer (members, policy, evidence): find, n/N next/previous", ["/"];
    Down = "down", "move down", ["j", "down"];
    Up = "up", "move up", ["k", "up"];
    PageDown = "page_down", "page down", ["pgdn", "ctrl-d"];
    PageUp = "page_up", "page up", ["pgup", "ctrl-u"];
    Top = "top", "first row", ["g", "home"];
    Bottom = "bottom", "last row", ["G", "end"];
    NextPage = "next_page", "next tab of a request; evidence viewer: next page (64 KiB) of the file", ["]"];
    PrevPage = "prev_page", "previous tab of a request; evidence viewer: previous page, then the summary", ["["];
    LastPage = "last_page", "evidence viewer: last page of the file", ["}"];
    FirstPage = "first_page", "evidence viewer: back to the summary", ["{"];
    Open = "open", "open / confirm (history: inspect the entry — signature, inclusion proof)", ["enter"];
    OpenRequest = "open_request", "history: open the request the entry belongs to (an observed deployment: file one from it)", ["o"];
    NextTab = "next_tab", "next tab", ["tab", "l", "right"];
    PrevTab = "prev_tab", "previous tab", ["backtab", "h", "left"];
    Queue = "queue", "queue screen", ["1"];
    History = "history", "history screen", ["2"];
    Dashboard = "dashboard", "dashboard screen", ["3"];
    Integrity = "integrity", "integrity screen", ["4"];
    Refresh = "refresh", "reload (verify again on the integrity screen)", ["r"];
    FilterStatus = "filter_status", "pick the status filter (history: the kind; on an observed rollback above the queue: file its post-hoc request)", ["f"];
    FilterEnv = "filter_env", "filter by environment", ["e"];
    FilterRisk = "filter_risk", "pick the risk filter", ["R"];
    FilterFlagged = "filter_flagged", "only flagged requests", ["F"];
    FilterActor = "filter_actor", "history: filter by actor", ["u"];
    FilterSince = "filter_since", "history: entries since a date", ["d"];
    FilterUntil = "filter_until", "history: entries until a date (with since: a date range)", ["D"];
    FilterState = "filter_state", "history: cycle the request status filter", ["S"];
    Copy = "copy", "copy the selected id to the clipboard (OSC 52: works over ssh)", ["y"];
    ToggleMouse = "toggle_mouse", "mouse capture on/off (off: select text with the mouse)", ["M"];
    NextLog = "next_log", "history: the next machine's log (each origin keeps its own)", ["O"];
    NewRequest = "new_request", "file a new rollback request (a form)", ["N"];
    Sort = "sort", "pick the queue's order (urgency, newest, oldest, title, environment, status, risk, requester)", ["s"];
    SortNext = "sort_next", "the queue's next order", [">"];
    SortPrev = "sort_prev", "the queue's previous order", ["<"];
    Approve = "approve", "approve (review, comment, passphrase)", ["a"];
    Reject = "reject", "reject (review, comment, passphrase)", ["x"];
    Emergency = "emergency", "invoke the emergency path", ["E"];
    Note = "note", "add a note", ["n"];
    Attach = "attach", "attach an evidence file", ["A"];
    Execute = "execute", "record the execution", ["X"];
    Validate = "validate", "record validation", ["v"];
    Review = "review", "record the post-hoc (after an emergency) or post-incident review", ["w"];
    Close = "close", "close the request", ["C"];
}

/// Parses a key description: a character, `enter`, `esc`, `tab`, `backtab`, `up`, `down`, `left`, `right`,
/// `pgup`, `pgdn`, `home`, `end`, `space`, `f1`..`f12`, optionally prefixed `ctrl-` or `alt-`.
pub(crate) fn parse_key(s: &str) -> Option<(KeyCode, KeyModifiers)> {
    let mut mods = KeyModifiers::NONE;
    let mut rest = s;
    loop {
        if let Some(r) = rest.strip_prefix("ctrl-") {
            mods |= KeyModifiers::CONTROL;
            rest = r;
        } else if let Some(r) = rest.strip_prefix("alt-") {
            mods |= KeyModifiers::ALT;
            rest = r;
        } else {
            break;
        }
    }
    let code = match rest {
        "enter" => KeyCode::Enter,
        "esc" => KeyCode::Esc,
        "tab" => KeyCode::Tab,
        "backtab" => KeyCode::BackTab,
        "up" => KeyCode::Up,
        "down" => KeyCode::Down,
        "left" => KeyCode::Left,
        "right" => KeyCode::Right,
        "pgup" => KeyCode::PageUp,
        "pgdn" => KeyCode::PageDown,
        "home" => KeyCode::Home,
        "end" => KeyCode::End,
        "space" => KeyCode::Char(' '),
        f if f.len() >= 2 && f.starts_with('f') && f[1..].parse::<u8>().is_ok_and(|n| (1..=12).contains(&n)) => {
            KeyCode::F(f[1..].parse().ok()?)
        }
        c if c.chars().count() == 1 => KeyCode::Char(c.chars().next()?),
        _ => return None,
    };
    Some((code, mods))
}

/// The map from keys to actions.
#[derive(Clone, Debug)]
pub struct Keymap {
    keys: BTreeMap<Action, Vec<String>>,
}

impl Default for Keymap {
    fn default() -> Self {
        Keymap {
            keys: Action::ALL.iter().map(|a| (*a, a.defaults().iter().map(|s| s.to_string()).collect())).collect(),
        }
    }
}

fn normalize(code: KeyCode, mods: KeyModifiers) -> (KeyCode, KeyModifiers) {
    // Shifted letters arrive as uppercase chars with SHIFT; bindings name the char itself.
    match code {
        KeyCode::Char(_) => (code, mods - KeyModifiers::SHIFT),
        KeyCode::BackTab => (code, KeyModifiers::NONE),
        _ => (code, mods),
    }
}

impl Keymap {
    /// The defaults with the overrides of `text` (a `keymap.toml`); unknown actions or keys are errors.
    pub(crate) fn with_overrides(text: &str) -> Result<Keymap, String> {
        let doc: toml::Table = text.parse().map_err(|e: toml::de::Error| format!("keymap.toml: {}", e.message()))?;
        let mut km = Keymap::default();
        let mut overridden: Vec<Action> = Vec::new();
        if let Some(keys) = doc.get("keys").and_then(|k| k.as_table()) {
            for (name, v) in keys {
                let action = Action::ALL
                    .iter()
                    .find(|a| a.id() == name)
                    .ok_or_else(|| format!("keymap.toml: unknown action {name:?}"))?;
                let list: Vec<String> = match v {
                    toml::Value::String(s) => vec![s.clone()],
                    toml::Value::Array(a) => a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect(),
                    _ => return Err(format!("keymap.toml: {name} must be a key or a list of keys")),
                };
                if let Some(bad) = list.iter().find(|k| parse_key(k).is_none()) {
                    return Err(format!("keymap.toml: {bad:?} is not a key"));
                }
                km.keys.insert(*action, list);
                overridden.push(*action);
            }
        }
        // A key the user gave an action leaves the action it was a default of.
        let taken: Vec<(KeyCode, KeyModifiers)> = overridden
            .iter()
            .flat_map(|a| km.keys.get(a).into_iter().flatten().filter_map(|k| parse_key(k)))
            .map(|(c, m)| normalize(c, m))
            .collect();
        for (action, keys) in km.keys.iter_mut() {
            if !overridden.contains(action) {
                keys.retain(|k| parse_key(k).is_none_or(|(c, m)| !taken.contains(&normalize(c, m))));
            }
        }
        Ok(km)
    }

    /// Loads `keymap.toml` from the config directory when there is one.
    pub(crate) fn load() -> (Keymap, Option<String>) {
        let Ok(dir) = crate::paths::config_dir() else { return (Keymap::default(), None) };
        match std::fs::read_to_string(dir.join("keymap.toml")) {
            Ok(t) => match Keymap::with_overrides(&t) {
                Ok(k) => (k, None),
                Err(e) => (Keymap::default(), Some(e)),
            },
            Err(_) => (Keymap::default(), None),
        }
    }

    /// The action bound to `key`, if any.
    pub(crate) fn action(&self, key: &KeyEvent) -> Option<Action> {
        let want = normalize(key.code, key.modifiers);
        self.keys
            .iter()
            .find(|(_, ks)| ks.iter().filter_map(|k| parse_key(k)).any(|(c, m)| normalize(c, m) == want))
            .map(|(a, _)| *a)
    }

    /// The first key bound to `action`, for hints.
    pub(crate) fn key_of(&self, action: Action) -> String {
        self.keys.get(&action).and_then(|k| k.first()).cloned().unwrap_or_default()
    }

    /// Every binding, for the help screen.
    pub(crate) fn bindings(&self) -> Vec<(String, &'static str)> {
        Action::ALL.iter().map(|a| (self.keys.get(a).map(|k| k.join(", ")).unwrap_or_default(), a.describe())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: KeyCode, m: KeyModifiers) -> KeyEvent {
        KeyEvent::new(c, m)
    }

    #[test]
    fn defaults_and_overrides() {
        let km = Keymap::default();
        assert_eq!(km.action(&key(KeyCode::Char('j'), KeyModifiers::NONE)), Some(Action::Down));
        assert_eq!(km.action(&key(KeyCode::Char('G'), KeyModifiers::SHIFT)), Some(Action::Bottom));
        assert_eq!(km.action(&key(KeyCode::Char('c'), KeyModifiers::CONTROL)), Some(Action::Quit));
        let km = Keymap::with_overrides("[keys]\napprove = [\"y\"]\ndown = \"ctrl-n\"\n").unwrap();
        assert_eq!(km.action(&key(KeyCode::Char('y'), KeyModifiers::NONE)), Some(Action::Approve));
        assert_eq!(km.key_of(Action::Copy), "", "the user's key leaves the action it was a default of");
        assert_eq!(km.action(&key(KeyCode::Char('a'), KeyModifiers::NONE)), None);
        assert_eq!(km.action(&key(KeyCode::Char('n'), KeyModifiers::CONTROL)), Some(Action::Down));
        assert!(Keymap::with_overrides("[keys]\nfly = \"f\"\n").is_err());
        assert!(Keymap::with_overrides("[keys]\napprove = \"nope-key\"\n").is_err());
    }
}
