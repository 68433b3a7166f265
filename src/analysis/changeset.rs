//! A change set: what a revert does to the code — the commits it undoes and, per file, the hunks it
//! applies (`+` lines come back, `-` lines go away). Stored as a JSON blob whose digest the request signs.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commit {
    pub id: String,
    pub author: String,
    pub date: String,
    pub subject: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub body: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hunk {
    pub old_start: u64,
    pub new_start: u64,
    /// Lines with their marker: ' ' context, '+' added by the revert, '-' removed by it.
    pub lines: Vec<String>,
}

impl Hunk {
    /// Lines the revert adds, with their line number in the reverted tree.
    pub fn added(&self) -> impl Iterator<Item = (u64, &str)> {
        let mut new = self.new_start;
        self.lines.iter().filter_map(move |l| {
            let (mark, text) = l.split_at(l.char_indices().nth(1).map_or(l.len(), |(i, _)| i));
            match mark {
                "+" => {
                    new += 1;
                    Some((new - 1, text))
                }
                " " => {
                    new += 1;
                    None
                }
                _ => None,
            }
        })
    }

    /// Lines the revert removes, with their line number in the current tree.
    pub fn removed(&self) -> impl Iterator<Item = (u64, &str)> {
        let mut old = self.old_start;
        self.lines.iter().filter_map(move |l| {
            let (mark, text) = l.split_at(l.char_indices().nth(1).map_or(l.len(), |(i, _)| i));
            match mark {
                "-" => {
                    old += 1;
                    Some((old - 1, text))
                }
                " " => {
                    old += 1;
                    None
                }
                _ => None,
            }
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileChange {
    /// Path after the revert (for a deletion: the path removed).
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_path: Option<String>,
    /// added, deleted, modified, renamed.
    pub status: String,
    #[serde(default)]
    pub binary: bool,
    pub hunks: Vec<Hunk>,
}

impl FileChange {
    pub fn added_lines(&self) -> impl Iterator<Item = (u64, &str)> {
        self.hunks.iter().flat_map(|h| h.added())
    }

    pub fn removed_lines(&self) -> impl Iterator<Item = (u64, &str)> {
        self.hunks.iter().flat_map(|h| h.removed())
    }

    /// The first changed line (for locations), or 1.
    pub(crate) fn first_line(&self) -> u64 {
        self.added_lines().next().map(|(n, _)| n).or_else(|| self.removed_lines().next().map(|(n, _)| n)).unwrap_or(1)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeSet {
    /// `git` or `diff`.
    pub source: String,
    pub commits: Vec<Commit>,
    pub files: Vec<FileChange>,
}

impl ChangeSet {
    /// The canonical bytes stored as a blob.
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        serde_json_canonicalizer::to_vec(self).unwrap_or_default()
    }

    /// The change set in stored bytes. Refused unread when they hold more than [`MAX_STRINGS`] strings:
    /// each becomes an allocation of its own, so a change set of tens of millions of one-character lines
    /// (within the evidence size limit) would take gigabytes on every machine that assesses its request.
    pub(crate) fn from_bytes(b: &[u8]) -> Result<ChangeSet, String> {
        within_limits(b)?;
        serde_json::from_slice(b).map_err(|e| format!("change set is malformed: {e}"))
    }
}

/// Strings (lines, paths, commit ids) a change set may hold: two million, some 64 MiB of 30-character
/// lines, while its worst case stays near 200 MB in memory.
pub(crate) const MAX_STRINGS: usize = 2_000_000;

/// Whether change set bytes `b` hold at most [`MAX_STRINGS`] strings, counted from their quotes (a quote
/// escaped inside a string, after an odd number of backslashes, is none: a diff of JSON files is full of
/// them).
pub(crate) fn within_limits(b: &[u8]) -> Result<(), String> {
    let escaped = |at: usize| b[..at].iter().rev().take_while(|c| **c == b'\\').count() % 2 == 1;
    let strings = memchr::memchr_iter(b'"', b).filter(|at| !escaped(*at)).count() / 2;
    if strings > MAX_STRINGS {
        return Err(format!(
            "the change set holds about {strings} lines and names, more than the {MAX_STRINGS} one may hold: not read"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A change set of more strings than a reader may hold is refused before it is parsed (a hostile
    /// member's blob of millions of one-character lines); one within the limit reads back.
    #[test]
    fn a_change_set_of_too_many_strings_is_refused_unread() {
        let cs = ChangeSet { source: "diff".into(), commits: Vec::new(), files: Vec::new() };
        assert_eq!(ChangeSet::from_bytes(&cs.to_bytes()).unwrap().source, "diff");
        let many = format!("[{}\"\"]", "\"\",".repeat(MAX_STRINGS));
        let err = ChangeSet::from_bytes(many.as_bytes()).unwrap_err();
        assert!(err.contains("more than the 2000000 one may hold"), "{err}");
        let within = format!("[{}\"\"]", "\"\",".repeat(MAX_STRINGS - 1));
        assert!(within_limits(within.as_bytes()).is_ok());
        // Quotes escaped inside a string are no strings.
        let quoted = format!("[{}\"\"]", "\"say \\\"hi\\\"\",".repeat(MAX_STRINGS - 1));
        assert!(within_limits(quoted.as_bytes()).is_ok(), "{}", &quoted[..40]);
    }
}
