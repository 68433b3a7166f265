//! A git repository's reverts: the commits reachable from `HEAD` whose message says
//! `This reverts commit <sha>.` (what `git revert` writes), including reverts of merges
//! (`This reverts commit <sha>, reversing changes made to <parent>.`). Each is a rollback: the revision is
//! the revert commit, `from` its first parent, `to` the commit the code returned to — the reverted
//! commit's first parent, or for a merge the parent named after "reversing changes made to" (when the
//! reverted commit is not in the repository, `to` is `<sha>^`, git's name for its parent); `at` is the
//! committer time, `by` the author. Commits that are not reverts are not recorded: a git history says
//! what was committed, not what was deployed. The input digest is the SHA-256 of the `git log` output read.
//!
//! git runs as a program with an argument vector (never a shell), its output read up to [`MAX_INPUT`]
//! bytes and at most [`MAX_REVISIONS`] reverts.

use super::{IngestError, MAX_INPUT, MAX_REVISIONS, Observed, bounded, utc_seconds};
use std::io::Write;
use std::path::Path;
use std::process::Stdio;

const SOURCE: &str = "git";
const MARK: &str = "This reverts commit ";

fn fail(place: impl Into<String>, problem: impl Into<String>) -> IngestError {
    IngestError { source_name: SOURCE, place: place.into(), problem: problem.into() }
}

/// A revert commit as `git log` printed it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Revert {
    pub id: String,
    pub first_parent: Option<String>,
    pub author: String,
    pub committed: String,
    pub message: String,
    /// The commit it reverts, and for a merge the parent it returns to, as the message names them.
    pub reverted: String,
    pub mainline: Option<String>,
}

/// The `git log` format read: five fields (id, parents, author, committer date, message), each ended by a
/// NUL byte, which git keeps out of commit messages (U+001E and U+001F, used before, are allowed in them:
/// a message holding them could forge a record of its own). Every record's id and parents must still be
/// object names, so a separator that did reach a message is refused, not read as a record.
const FORMAT: &str = "--format=%H%x00%P%x00%an <%ae>%x00%cI%x00%B%x00";

/// The reverted commit (and, for a merge, the parent kept) named by a revert message.
pub(crate) fn reverted(message: &str) -> Option<(String, Option<String>)> {
    let flat = message.split_whitespace().collect::<Vec<_>>().join(" ");
    let rest = &flat[flat.find(MARK)? + MARK.len()..];
    let hex = |s: &str| -> Option<String> {
        let h: String = s.chars().take_while(char::is_ascii_hexdigit).collect();
        (h.len() >= 7 && h.len() <= 64).then(|| h.to_ascii_lowercase())
    };
    let commit = hex(rest)?;
    let after = &rest[commit.len()..];
    let mainline = after.strip_prefix(", reversing changes made to ").and_then(hex);
    Some((commit, mainline))
}

/// The reverts in `git log` output printed with [`FORMAT`]; other commits are skipped.
pub(crate) fn parse_log(out: &[u8]) -> Result<Vec<Revert>, IngestError> {
    let text = String::from_utf8_lossy(out);
    let mut reverts = Vec::new();
    let mut fields = text.split('\0');
    // Records follow each other, a newline between them; what follows the last field is that newline.
    while let Some(id) = fields.next().map(|f| f.trim_start_matches('\n')) {
        if id.trim().is_empty() {
            if fields.next().is_some() {
                return Err(fail("git log output", "a record has no commit id"));
            }
            break;
        }
        let (Some(parents), Some(author), Some(date), Some(message)) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err(fail("git log output", "a record has fewer than five fields"));
        };
        if !crate::child::git_object_name(id)
            || !parents.split(' ').filter(|p| !p.is_empty()).all(crate::child::git_object_name)
        {
            return Err(fail(
                format!("commit {}", crate::text::safe(&bounded(id))),
                "its id or parents are not object names (git printed a separator inside a field)",
            ));
        }
        let Some((commit, mainline)) = reverted(message) else { continue };
        if reverts.len() == MAX_REVISIONS {
            return Err(fail(
                "git log output",
                format!("more than {MAX_REVISIONS} reverts; at most {MAX_REVISIONS} are read"),
            ));
        }
        let committed = utc_seconds(date).ok_or_else(|| {
            fail(format!("commit {}", crate::text::safe(&bounded(id))), "its committer date is not a time")
        })?;
        reverts.push(Revert {
            id: id.to_string(),
            first_parent: parents.split_whitespace().next().map(str::to_string),
            author: bounded(author),
            committed,
            message: bounded(message.trim_end()),
            reverted: commit,
            mainline,
        });
    }
    Ok(reverts)
}

/// The parents of the commit a revert names in full or abbreviated (`short`), among those read (`parents`,
/// sorted by id): an abbreviation more than one of them starts with names none. Found by a binary search,
/// not a scan: a repository of a million reverts naming abbreviations would otherwise take a million
/// million comparisons.
fn parents_of<'a>(parents: &'a [(String, Vec<String>)], short: &str) -> Option<&'a Vec<String>> {
    let from = parents.partition_point(|(id, _)| id.as_str() < short);
    let mut found = parents[from..].iter().take_while(|(id, _)| id.starts_with(short));
    match (found.next(), found.next()) {
        (Some((_, p)), None) => Some(p),
        _ => None,
    }
}

/// The reverts reachable from `HEAD` in the repository at `repo`, recorded for `env` and `component`;
/// with the digest of what git printed.
pub fn read(repo: &Path, env: &str, component: &str) -> Result<(Vec<Observed>, String), IngestError> {
    if !repo.is_dir() {
        return Err(fail(crate::text::safe(&repo.display().to_string()), "is not a directory (a git repository)"));
    }
    let place = crate::text::safe(&repo.display().to_string());
    git(repo, &["rev-parse", "--git-dir"], None).map_err(|_| fail(&place, "is not a git repository"))?;
    let max = format!("--max-count={}", MAX_REVISIONS + 1);
    let log = git(
        repo,
        &["log", "--no-color", "-E", "--grep=This reverts commit [0-9a-fA-F]", &max, FORMAT, "HEAD", "--"],
        None,
    )
    .map_err(|e| fail(&place, e))?;
    let digest = crate::ledger::Hash::of(&[&log]).to_hex();
    let reverts = parse_log(&log)?;
    // The parents of the reverted commits that are in the repository.
    let wanted: String = reverts.iter().map(|r| format!("{}\n", r.reverted)).collect();
    let mut parents: Vec<(String, Vec<String>)> = Vec::new();
    if !reverts.is_empty() {
        let out = git(
            repo,
            &["log", "--no-walk=unsorted", "--ignore-missing", "--stdin", "--format=%H %P", "--no-color"],
            Some(wanted.as_bytes()),
        )
        .map_err(|e| fail(&place, e))?;
        for line in String::from_utf8_lossy(&out).lines() {
            let mut ids = line.split_whitespace().map(str::to_string);
            if let Some(id) = ids.next() {
                parents.push((id, ids.collect()));
            }
        }
        parents.sort();
        parents.dedup_by(|a, b| a.0 == b.0);
    }
    let mut out = Vec::with_capacity(reverts.len());
    for r in reverts.into_iter().rev() {
        let to = match (parents_of(&parents, &r.reverted), &r.mainline) {
            (Some(ps), Some(m)) => ps.iter().find(|p| p.starts_with(m.as_str())).cloned().unwrap_or_else(|| m.clone()),
            (Some(ps), None) => ps.first().cloned().unwrap_or_else(|| format!("{}^", r.reverted)),
            (None, Some(m)) => m.clone(),
            (None, None) => format!("{}^", r.reverted),
        };
        out.push(Observed {
            source: SOURCE.into(),
            env: env.into(),
            component: component.into(),
            revision: r.id.clone(),
            from: r.first_parent,
            to,
            rollback: true,
            at: r.committed,
            by: Some(r.author),
            artifact: Some(r.id),
            description: Some(r.message),
            input_sha256: digest.clone(),
        });
    }
    Ok((out, digest))
}

/// Runs git in `repo` with `args` (and `stdin`), its output read up to [`MAX_INPUT`] bytes.
fn git(repo: &Path, args: &[&str], stdin: Option<&[u8]>) -> Result<Vec<u8>, String> {
    let mut child = crate::child::command("git")
        .arg("-C")
        .arg(repo)
        .args(["-c", "core.quotepath=false", "-c", "color.ui=false", "-c", "log.showSignature=false"])
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run git: {e}"))?;
    let writer = match (stdin, child.stdin.take()) {
        (Some(bytes), Some(mut pipe)) => {
            let bytes = bytes.to_vec();
            Some(std::thread::spawn(move || {
                let _ = pipe.write_all(&bytes);
            }))
        }
        _ => None,
    };
    let printed = crate::child::read_capped(child, MAX_INPUT);
    if let Some(w) = writer {
        let _ = w.join();
    }
    let printed = printed.map_err(|e| format!("reading git's output: {e}"))?;
    let (Some(out), err, status) = (printed.stdout, printed.stderr, printed.status) else {
        return Err(format!("git printed more than {} MiB", MAX_INPUT >> 20));
    };
    if !status.success() {
        let err = String::from_utf8_lossy(&err);
        return Err(crate::text::safe(err.lines().next().unwrap_or("git failed").trim()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_abbreviation_two_commits_start_with_names_neither() {
        let a = "abcdef0".to_string() + &"1".repeat(33);
        let b = "abcdef0".to_string() + &"2".repeat(33);
        let parents = vec![(a.clone(), vec!["p1".to_string()]), (b.clone(), vec!["p2".to_string()])];
        assert_eq!(parents_of(&parents, &a), Some(&vec!["p1".to_string()]));
        assert_eq!(parents_of(&parents, "abcdef02"), Some(&vec!["p2".to_string()]));
        assert_eq!(parents_of(&parents, "abcdef0"), None);
        assert_eq!(parents_of(&parents, "1234567"), None);
    }

    #[test]
    fn revert_messages_name_the_reverted_commit_and_the_parent_kept() {
        let plain = "Revert \"add cache\"\n\nThis reverts commit 1234567890abcdef1234567890abcdef12345678.\n";
        assert_eq!(reverted(plain), Some(("1234567890abcdef1234567890abcdef12345678".into(), None)));
        let merge = "Revert \"Merge branch 'x'\"\n\nThis reverts commit aaaaaaa1111111, reversing\nchanges made to bbbbbbb2222222.\n";
        assert_eq!(reverted(merge), Some(("aaaaaaa1111111".into(), Some("bbbbbbb2222222".into()))));
        assert_eq!(reverted("This reverts commit xyz."), None);
        assert_eq!(reverted("fix: typo"), None);
        assert_eq!(reverted("This reverts commit "), None);
    }

    /// One record as git prints it with [`FORMAT`].
    fn record(id: &str, parents: &str, author: &str, date: &str, message: &str) -> String {
        format!("{id}\0{parents}\0{author}\0{date}\0{message}\0\n")
    }

    #[test]
    fn log_output_is_read_and_non_reverts_skipped() {
        let (c1, c0, p1) = ("c1".repeat(20), "c0".repeat(20), "a1".repeat(20));
        let log = record(
            &c1,
            &p1,
            "Ann <a@x>",
            "2026-03-01T10:00:00+01:00",
            "Revert \"x\"\n\nThis reverts commit abcdef1234567.\n",
        ) + &record(&c0, "", "Bob <b@x>", "2026-02-01T10:00:00Z", "initial\n");
        let got = parse_log(log.as_bytes()).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].committed, "2026-03-01T09:00:00Z");
        assert_eq!(got[0].first_parent.as_deref(), Some(p1.as_str()));
        assert_eq!(got[0].reverted, "abcdef1234567");
        let bad = record(&c1, &p1, "Ann", "yesterday", "This reverts commit abcdef1234567.");
        assert!(parse_log(bad.as_bytes()).unwrap_err().to_string().contains("not a time"));
        let short = format!("{c1}\0{p1}\0");
        assert!(parse_log(short.as_bytes()).unwrap_err().to_string().starts_with("git input git log output"));
        // Control characters in a message are kept as data.
        let ctl = record(&c1, &p1, "Ann", "2026-03-01T10:00:00Z", "\u{1b}[2J This reverts commit abcdef1234567.");
        assert!(parse_log(ctl.as_bytes()).unwrap()[0].message.starts_with('\u{1b}'));
    }

    /// A message holding the separators an earlier format used (U+001E between records, U+001F between
    /// fields) is one message: it forges no record of a revert that is not a commit. A NUL that did reach
    /// the output is refused, since the id after it is not an object name.
    #[test]
    fn a_commit_message_cannot_forge_a_record() {
        let (c1, p1) = ("c1".repeat(20), "a1".repeat(20));
        let forged = "x\n\nThis reverts commit 1234567.\u{1e}deadbeef\u{1f}cafe\u{1f}Alice <a@corp>\u{1f}\
                      2026-01-01T00:00:00Z\u{1f}This reverts commit abcdef1234567.";
        let got = parse_log(record(&c1, &p1, "Ann", "2026-03-01T10:00:00Z", forged).as_bytes()).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!((got[0].id.as_str(), got[0].reverted.as_str()), (c1.as_str(), "1234567"));
        let nul = record(&c1, &p1, "Ann", "2026-03-01T10:00:00Z", "This reverts commit 1234567.\0deadbeef\0\0A\0\0x");
        let err = parse_log(nul.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("commit deadbeef") && err.contains("not object names"), "{err}");
        let upper = record(&c1.to_uppercase(), &p1, "Ann", "2026-03-01T10:00:00Z", "This reverts commit 1234567.");
        assert!(parse_log(upper.as_bytes()).is_err());
    }

    #[test]
    fn a_directory_that_is_not_a_repository_is_refused() {
        let dir = std::env::temp_dir().join(format!("rollcall-not-a-repo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let err = read(&dir, "e", "c").unwrap_err().to_string();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(err.starts_with("git input") && err.contains("not a git repository"), "{err}");
    }
}
