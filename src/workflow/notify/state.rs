//! `notify.state`: which (finding, command) pairs were delivered, so a `notify check` run by cron does not
//! repeat them. A JSON object beside `notify.toml`, replaced atomically; losing it costs one repeat of each
//! open finding, never a missed one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The file's name, beside `notify.toml`.
pub(crate) const FILE: &str = "notify.state";
/// Largest state file read (a larger one is treated as empty: findings are repeated, not lost).
const MAX_FILE: u64 = 16 << 20;
/// Most deliveries remembered; the oldest are forgotten first.
const MAX_KEYS: usize = 100_000;

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Stored {
    v: u32,
    /// Delivery key -> when it was delivered (RFC 3339).
    delivered: BTreeMap<String, String>,
}

/// The deliveries remembered.
#[derive(Debug)]
pub(crate) struct State {
    path: PathBuf,
    stored: Stored,
    changed: bool,
}

/// The key of delivering finding `finding` to command `argv`: the finding, then a digest of the command,
/// so each command is retried on its own until it succeeds.
pub(crate) fn key(finding: &str, argv: &[String]) -> String {
    let digest = crate::ledger::Hash::of(&[argv.join("\0").as_bytes()]).to_hex();
    format!("{finding} {}", &digest[..16])
}

impl State {
    /// Reads `dir/notify.state`; a missing or unreadable one is empty.
    pub(crate) fn load(dir: &Path) -> State {
        let path = dir.join(FILE);
        let stored = crate::paths::read_capped(&path, MAX_FILE)
            .ok()
            .and_then(|b| serde_json::from_slice::<Stored>(&b).ok())
            .unwrap_or(Stored { v: 1, delivered: BTreeMap::new() });
        State { path, stored, changed: false }
    }

    pub(crate) fn delivered(&self, key: &str) -> bool {
        self.stored.delivered.contains_key(key)
    }

    pub(crate) fn mark(&mut self, key: String, at: &str) {
        self.stored.delivered.insert(key, at.to_string());
        self.changed = true;
    }

    /// Forgets the deliveries of findings under `prefix` (one ledger's, one event's) that `current` no
    /// longer holds: a closed finding needs no memory.
    pub(crate) fn retain_current(&mut self, prefix: &str, current: &std::collections::HashSet<String>) {
        let before = self.stored.delivered.len();
        self.stored.delivered.retain(|k, _| {
            !k.starts_with(prefix) || k.rsplit_once(' ').is_some_and(|(finding, _)| current.contains(finding))
        });
        self.changed |= self.stored.delivered.len() != before;
    }

    /// Writes the file if anything changed (mode 0600, replaced atomically).
    pub(crate) fn save(mut self) -> Result<(), String> {
        if !self.changed {
            return Ok(());
        }
        if self.stored.delivered.len() > MAX_KEYS {
            let mut by_age: Vec<(String, String)> =
                self.stored.delivered.iter().map(|(k, at)| (at.clone(), k.clone())).collect();
            by_age.sort();
            for (_, k) in by_age.iter().take(self.stored.delivered.len() - MAX_KEYS) {
                self.stored.delivered.remove(k);
            }
        }
        self.stored.v = 1;
        let bytes = serde_json::to_vec(&self.stored).map_err(|e| e.to_string())?;
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let fail = |e: std::io::Error| format!("cannot write {}: {e}", self.path.display());
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
        std::io::Write::write_all(&mut tmp, &bytes).map_err(fail)?;
        tmp.persist(&self.path).map_err(|e| fail(e.error))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deliveries_are_remembered_per_command_and_closed_findings_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let a = vec!["/bin/page".to_string()];
        let b = vec!["/bin/mail".to_string(), "ops".to_string()];
        let mut s = State::load(dir.path());
        s.mark(key("review.overdue L r1", &a), "2025-01-01T00:00:00Z");
        s.mark(key("review.overdue L r2", &a), "2025-01-01T00:00:00Z");
        s.save().unwrap();
        let mut s = State::load(dir.path());
        assert!(s.delivered(&key("review.overdue L r1", &a)));
        assert!(!s.delivered(&key("review.overdue L r1", &b)));
        let current = ["review.overdue L r2".to_string()].into_iter().collect();
        s.retain_current("review.overdue L ", &current);
        assert!(!s.delivered(&key("review.overdue L r1", &a)));
        assert!(s.delivered(&key("review.overdue L r2", &a)));
        s.save().unwrap();
        // A damaged file is empty: findings are repeated, never lost.
        std::fs::write(dir.path().join(FILE), b"{not json").unwrap();
        assert!(!State::load(dir.path()).delivered(&key("review.overdue L r2", &a)));
    }
}
