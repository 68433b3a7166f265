//! `notify.toml`: which events run which commands, and for how long at most. Read strictly: an unknown
//! key, an unknown event name, an empty command or a timeout out of range is refused with one line naming
//! the file and the line.

use super::Event;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The file's name, in the config directory.
pub(crate) const FILE: &str = "notify.toml";
/// Seconds a command may run when the file does not say.
pub(crate) const DEFAULT_TIMEOUT_SECONDS: u64 = 10;
/// The longest a command may be allowed to run.
pub(crate) const MAX_TIMEOUT_SECONDS: u64 = 300;
/// Largest `notify.toml` read.
const MAX_FILE: u64 = 64 * 1024;
/// Most `[[on]]` tables and arguments per command (a sanity bound, not a policy).
const MAX_RULES: usize = 64;
const MAX_ARGS: usize = 256;

/// One `[[on]]` table: the events it answers and the command it runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Rule {
    pub events: Vec<Event>,
    /// The argument vector (never a shell string): `command[0]` is the program.
    pub command: Vec<String>,
}

/// A parsed `notify.toml`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Config {
    pub path: PathBuf,
    pub timeout: Duration,
    pub rules: Vec<Rule>,
}

impl Config {
    /// Whether some command answers `event`.
    pub(crate) fn wants(&self, event: Event) -> bool {
        self.rules.iter().any(|r| r.events.contains(&event))
    }

    /// The commands that answer `event`, in file order.
    pub(crate) fn commands(&self, event: Event) -> impl Iterator<Item = &Vec<String>> {
        self.rules.iter().filter(move |r| r.events.contains(&event)).map(|r| &r.command)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    timeout_seconds: Option<toml::Spanned<i64>>,
    #[serde(default)]
    on: Vec<RawRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    events: toml::Spanned<Vec<toml::Spanned<String>>>,
    command: toml::Spanned<Vec<String>>,
}

/// The line (from 1) of byte offset `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    text.as_bytes()[..at.min(text.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

/// Parses the text of `path`. The error is one line: `PATH line N: what`.
pub(crate) fn parse(path: &Path, text: &str) -> Result<Config, String> {
    let at = |span: std::ops::Range<usize>, what: String| -> String {
        format!("{} line {}: {what}", path.display(), line_of(text, span.start))
    };
    let raw: Raw = toml::from_str(text).map_err(|e: toml::de::Error| {
        let what = e.message().lines().next().unwrap_or("not valid TOML").trim().to_string();
        match e.span() {
            Some(s) => at(s, what),
            None => format!("{}: {what}", path.display()),
        }
    })?;
    let timeout = match raw.timeout_seconds {
        None => DEFAULT_TIMEOUT_SECONDS,
        Some(t) => {
            let v = *t.get_ref();
            if v < 1 || v as u64 > MAX_TIMEOUT_SECONDS {
                return Err(at(
                    t.span(),
                    format!("timeout_seconds must be from 1 to {MAX_TIMEOUT_SECONDS} (it is {v})"),
                ));
            }
            v as u64
        }
    };
    if raw.on.len() > MAX_RULES {
        return Err(format!("{}: more than {MAX_RULES} [[on]] tables", path.display()));
    }
    let mut rules = Vec::new();
    for r in raw.on {
        if r.events.get_ref().is_empty() {
            return Err(at(r.events.span(), "events is empty: name at least one event".into()));
        }
        let mut events = Vec::new();
        for e in r.events.get_ref() {
            let ev = Event::parse(e.get_ref()).ok_or_else(|| {
                at(
                    e.span(),
                    format!(
                        "unknown event {:?} (one of: {})",
                        crate::text::safe(e.get_ref()),
                        Event::ALL.iter().map(|e| e.name()).collect::<Vec<_>>().join(", ")
                    ),
                )
            })?;
            if !events.contains(&ev) {
                events.push(ev);
            }
        }
        let command = r.command.get_ref();
        if command.is_empty() || command[0].trim().is_empty() {
            return Err(at(r.command.span(), "command is empty: give the program and its arguments as a list".into()));
        }
        if command.len() > MAX_ARGS {
            return Err(at(r.command.span(), format!("command has more than {MAX_ARGS} arguments")));
        }
        if command.iter().any(|a| a.contains('\0')) {
            return Err(at(r.command.span(), "command holds a NUL character".into()));
        }
        rules.push(Rule { events, command: command.clone() });
    }
    Ok(Config { path: path.to_path_buf(), timeout: Duration::from_secs(timeout), rules })
}

/// Reads `dir/notify.toml`: `Ok(None)` when there is none. On Unix a file another user owns, or that
/// others may write, is refused: it names commands rollcall runs as you.
pub(crate) fn load(dir: &Path) -> Result<Option<Config>, String> {
    let path = dir.join(FILE);
    let meta = match std::fs::symlink_metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: cannot read it: {e}", path.display())),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let meta = if meta.file_type().is_symlink() { std::fs::metadata(&path).unwrap_or(meta) } else { meta };
        // SAFETY: getuid has no preconditions and cannot fail.
        let me = unsafe { libc::getuid() };
        if meta.uid() != me {
            return Err(format!("{}: owned by another user; it must be yours", path.display()));
        }
        if meta.mode() & 0o022 != 0 {
            return Err(format!("{}: others may write it; run `chmod go-w` on it", path.display()));
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    let bytes = crate::paths::read_capped(&path, MAX_FILE).map_err(|e| format!("{}: {e}", path.display()))?;
    let text = String::from_utf8(bytes).map_err(|_| format!("{}: not UTF-8 text", path.display()))?;
    parse(&path, &text).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<Config, String> {
        parse(Path::new("/cfg/notify.toml"), text)
    }

    #[test]
    fn a_valid_file_parses_with_defaults() {
        let c = p(r#"
[[on]]
events = ["emergency.invoked", "rollback.unrecorded", "emergency.invoked"]
command = ["/usr/local/bin/page-oncall", "--team", "payments"]
"#)
        .unwrap();
        assert_eq!(c.timeout, Duration::from_secs(DEFAULT_TIMEOUT_SECONDS));
        assert_eq!(c.rules.len(), 1);
        assert_eq!(c.rules[0].events, vec![Event::EmergencyInvoked, Event::RollbackUnrecorded]);
        assert!(c.wants(Event::RollbackUnrecorded) && !c.wants(Event::ReviewOverdue));
        assert_eq!(c.commands(Event::EmergencyInvoked).count(), 1);
        // An empty file configures nothing.
        assert!(p("").unwrap().rules.is_empty());
        assert_eq!(p("timeout_seconds = 300").unwrap().timeout, Duration::from_secs(300));
    }

    #[test]
    fn mistakes_are_refused_in_one_line_naming_the_line() {
        let cases = [
            ("timeout_seconds = 10\nretries = 3\n", "line 2", "unknown field"),
            ("[[on]]\nevents = [\"emergency.invoked\"]\ncommand = [\"x\"]\nshell = true\n", "line 4", "unknown field"),
            (
                "[[on]]\nevents = [\"emergency.invoked\",\n  \"emergency.invokd\"]\ncommand = [\"x\"]\n",
                "line 3",
                "unknown event",
            ),
            ("[[on]]\nevents = []\ncommand = [\"x\"]\n", "line 2", "events is empty"),
            ("[[on]]\nevents = [\"gate.bypassed\"]\ncommand = []\n", "line 3", "command is empty"),
            ("[[on]]\nevents = [\"gate.bypassed\"]\ncommand = \"page-oncall --team x\"\n", "line 3", "invalid type"),
            ("timeout_seconds = 0\n", "line 1", "from 1 to 300"),
            ("\n\ntimeout_seconds = 301\n", "line 3", "from 1 to 300"),
            ("[[on]\n", "line 1", ""),
            ("[[on]]\ncommand = [\"x\"]\n", "line 1", "missing field `events`"),
        ];
        for (text, line, what) in cases {
            let e = p(text).unwrap_err();
            assert!(e.starts_with("/cfg/notify.toml "), "{e}");
            assert!(e.contains(line) && e.contains(what), "{text:?}: {e}");
            assert_eq!(e.lines().count(), 1, "{e:?}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_missing_file_is_nothing_and_a_writable_one_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load(dir.path()).unwrap(), None);
        let f = dir.path().join(FILE);
        std::fs::write(&f, "timeout_seconds = 5\n").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(load(dir.path()).unwrap().unwrap().timeout, Duration::from_secs(5));
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert!(load(dir.path()).unwrap_err().contains("chmod go-w"));
    }
}
