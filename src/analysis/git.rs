//! Reading a revert from a git repository: the commits being reverted (one, or a range `A..B`), the
//! diff the revert applies, the `git revert` argument vector, and the component map in `.rollcall.toml`.
//! git is run as a program with an argument vector (never a shell), with external diff drivers and
//! text conversion off.

use super::changeset::{ChangeSet, Commit};
use std::path::Path;

/// What `--from-git` learns.
#[derive(Clone, Debug)]
pub(crate) struct GitRevert {
    pub changeset: ChangeSet,
    /// The `git revert` argument vector.
    pub argv: Vec<String>,
    /// The revision being reverted (the tip of the range).
    pub from: String,
    /// The revision the code returns to.
    pub to: String,
    /// Components touched, from `.rollcall.toml` (or top-level directories).
    pub components: Vec<String>,
}

/// Runs git in `repo`, its output read up to the size a change set may have ([`MAX_BLOB`]): a commit adding
/// a file of gigabytes is refused, not read into memory.
///
/// [`MAX_BLOB`]: crate::evidence::store::MAX_BLOB
fn git(repo: &Path, args: &[&str]) -> Result<String, String> {
    use std::process::Stdio;
    let child = crate::child::command("git")
        .arg("-C")
        .arg(repo)
        .args(["-c", "core.quotepath=false", "-c", "diff.external=", "-c", "color.ui=false"])
        // gpg's report on a signed commit would come before each record of `git log`.
        .args(["-c", "log.showSignature=false"])
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run git: {e}"))?;
    let cap = crate::evidence::store::MAX_BLOB;
    let out = crate::child::read_capped(child, cap).map_err(|e| format!("reading git's output: {e}"))?;
    let Some(stdout) = out.stdout else {
        return Err(format!("git printed more than {} MiB (a change set holds at most that)", cap >> 20));
    };
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(crate::text::safe(err.lines().next().unwrap_or("git failed").trim()));
    }
    Ok(String::from_utf8_lossy(&stdout).into_owned())
}

fn resolve(repo: &Path, rev: &str) -> Result<String, String> {
    if rev.starts_with('-') || rev.is_empty() || rev.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("{rev:?} is not a revision"));
    }
    git(repo, &["rev-parse", "--verify", "--quiet", "--end-of-options", &format!("{rev}^{{commit}}")])
        .map(|s| s.trim().to_string())
        .map_err(|_| format!("{rev} is not a commit in {}", repo.display()))
        .and_then(|s| if s.is_empty() { Err(format!("{rev} is not a commit in {}", repo.display())) } else { Ok(s) })
}

fn commits(repo: &Path, range: &[&str]) -> Result<Vec<Commit>, String> {
    let mut args = vec!["log", "--no-merges", "--format=%H%x00%an <%ae>%x00%aI%x00%s%x00%b%x00"];
    args.extend_from_slice(range);
    parse_log(&git(repo, &args)?)
}

/// Commits from `git log` output in the format `commits` asks for: five fields (id, author, date, subject,
/// body), each ended by a NUL byte, records separated by a newline. Git keeps NUL out of commit messages;
/// U+001E and U+001F, the separators used before, are allowed in them, so a message could split its own
/// record (its security words never reaching `REVERTS_SECURITY_FIX`) or forge one with any id and author.
/// Every record's id must be an object name, so output that does not fit is refused, not read.
pub(crate) fn parse_log(out: &str) -> Result<Vec<Commit>, String> {
    let mut commits = Vec::new();
    let mut fields = out.split('\0');
    while let Some(id) = fields.next().map(|f| f.trim_start_matches('\n')) {
        if id.trim().is_empty() {
            if fields.next().is_some() {
                return Err("git log printed a record without a commit id".into());
            }
            break;
        }
        let (Some(author), Some(date), Some(subject), Some(body)) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err("git log printed a record of fewer than five fields".into());
        };
        if !crate::child::git_object_name(id) {
            return Err(format!("git log printed {:?} where a commit id belongs", crate::text::prefix(id, 80)));
        }
        commits.push(Commit {
            id: id.to_string(),
            author: author.to_string(),
            date: date.to_string(),
            subject: subject.to_string(),
            body: body.trim().to_string(),
        });
    }
    Ok(commits)
}

/// Component names by path prefix from `.rollcall.toml` (`[components]` table: "prefix/" = "name").
pub(crate) fn component_map(repo: &Path) -> Vec<(String, String)> {
    // The repository is outside input: a `.rollcall.toml` that is a link to a device is not read.
    let Ok(bytes) = crate::paths::read_capped(&repo.join(".rollcall.toml"), 1024 * 1024) else { return Vec::new() };
    parse_component_map(&String::from_utf8_lossy(&bytes))
}

/// The `[components]` table of a `.rollcall.toml` text, longest prefix first; nothing if it does not parse.
pub(crate) fn parse_component_map(text: &str) -> Vec<(String, String)> {
    let Ok(doc) = text.parse::<toml::Table>() else { return Vec::new() };
    let mut map: Vec<(String, String)> = doc
        .get("components")
        .and_then(|c| c.as_table())
        .map(|t| t.iter().filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string()))).collect())
        .unwrap_or_default();
    // Longest prefix wins.
    map.sort_by_key(|b| std::cmp::Reverse(b.0.len()));
    map
}

/// The components touched by `paths`: the longest matching prefix of `map`, else the top-level directory.
pub(crate) fn components_of<'a>(paths: impl Iterator<Item = &'a str>, map: &[(String, String)]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in paths {
        let c = map.iter().find(|(prefix, _)| p.starts_with(prefix.as_str())).map(|(_, c)| c.clone()).unwrap_or_else(
            || match p.split_once('/') {
                Some((top, _)) => top.to_string(),
                None => "(root)".to_string(),
            },
        );
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

/// Reads the revert of `spec` (a commit, or `A..B`) in `repo`.
pub(crate) fn read_revert(repo: &Path, spec: &str) -> Result<GitRevert, super::AnalysisError> {
    Ok(read(repo, spec)?)
}

/// The files of `git diff TIP BASE`, as rollcall reads them whatever the repository or the user's config
/// says: no colour, the `a/` and `b/` prefixes, whole paths, and a submodule's move as its `Subproject
/// commit` lines even when `.gitmodules` says `ignore = all` (it would leave the move out). Attributes come
/// from the empty tree, not the checkout: a `.gitattributes` the repository carries (`Cargo.lock -diff`,
/// `*.yaml binary`) would make git print "Binary files differ" for a text file and hide its lines from every
/// flag. Git older than 2.40 has no `--attr-source`: it diffs every file as text (`--text`), and a file
/// whose lines hold a NUL byte is taken as binary (its lines dropped), which is git's own test.
fn diff_files(repo: &Path, tip: &str, base: &str, empty: &str) -> Result<Vec<super::changeset::FileChange>, String> {
    let diff_args = [
        "diff",
        "--no-ext-diff",
        "--no-textconv",
        "--no-color",
        "--no-relative",
        "--ignore-submodules=none",
        "--submodule=short",
        "--src-prefix=a/",
        "--dst-prefix=b/",
        "-M",
        "--unified=3",
        tip,
        base,
        "--",
    ];
    let no_attributes = format!("--attr-source={empty}");
    match git(repo, &[&[no_attributes.as_str()][..], &diff_args[..]].concat()) {
        Ok(d) => super::diff::parse(&d).map_err(|e| e.0),
        Err(e) if e.contains("attr-source") || e.contains("unknown option") => {
            let d = git(repo, &[&diff_args[..1], &["--text"], &diff_args[1..]].concat())?;
            let mut files = super::diff::parse(&d).map_err(|e| e.0)?;
            binary_by_bytes(&mut files);
            Ok(files)
        }
        Err(e) => Err(e),
    }
}

/// The empty tree's id in the repository's own object format (SHA-1 or SHA-256): the base of a root
/// commit's revert, and where the diff reads attributes from.
fn empty_tree(repo: &Path) -> Result<String, String> {
    Ok(git(repo, &["hash-object", "-t", "tree", "/dev/null"])?.trim().to_string())
}

/// Files of a `--text` diff with a NUL byte in a line: binary, their lines dropped (git's own test of
/// a file's bytes, made here where git was told to show every file as text).
fn binary_by_bytes(files: &mut [super::changeset::FileChange]) {
    for f in files {
        if f.hunks.iter().any(|h| h.lines.iter().any(|l| l.contains('\0'))) {
            f.binary = true;
            f.hunks.clear();
        }
    }
}

fn read(repo: &Path, spec: &str) -> Result<GitRevert, String> {
    if !repo.exists() {
        return Err(format!("{} does not exist", repo.display()));
    }
    git(repo, &["rev-parse", "--git-dir"]).map_err(|_| format!("{} is not a git repository", repo.display()))?;
    let empty = empty_tree(repo)?;
    let (base, tip, range_arg, argv_target) = match spec.split_once("..") {
        Some((a, b)) => {
            let (a, b) = (resolve(repo, a)?, resolve(repo, b)?);
            // The change set is `git diff B A`; `git revert A..B` undoes the commits reachable from B and
            // not from A. The two are the same change only when A is an ancestor of B: otherwise the signed
            // command would undo every commit since their merge base while the change set (and its flags)
            // showed the difference of two unrelated trees, empty when they match.
            if git(repo, &["merge-base", "--is-ancestor", &a, &b]).is_err() {
                return Err(format!(
                    "{} is not an ancestor of {}: give a range A..B where A is (the change set would not be what \
                     `git revert A..B` undoes)",
                    crate::text::safe(a.get(..12).unwrap_or(&a)),
                    crate::text::safe(b.get(..12).unwrap_or(&b))
                ));
            }
            let range = format!("{a}..{b}");
            (a, b, range.clone(), range)
        }
        None => {
            let c = resolve(repo, spec)?;
            let parents = git(repo, &["rev-list", "--parents", "-n", "1", &c])?;
            let parents: Vec<&str> = parents.split_whitespace().skip(1).collect();
            if parents.len() > 1 {
                return Err(format!("{spec} is a merge commit; give the range it merged (A..B)"));
            }
            let base = parents.first().map_or_else(|| empty.clone(), |p| p.to_string());
            (base, c.clone(), format!("-1 {c}"), c)
        }
    };
    let commits =
        if range_arg.starts_with("-1 ") { commits(repo, &["-1", &tip])? } else { commits(repo, &[&range_arg])? };
    if commits.is_empty() {
        return Err(format!("{spec} names no commits to revert"));
    }
    let files = diff_files(repo, &tip, &base, &empty)?;
    let map = component_map(repo);
    let components = components_of(files.iter().map(|f| f.path.as_str()), &map);
    let to = if base == empty { "(empty tree)".to_string() } else { base };
    Ok(GitRevert {
        changeset: ChangeSet { source: "git".into(), commits, files },
        argv: vec!["git".into(), "revert".into(), "--no-edit".into(), argv_target],
        from: tip,
        to,
        components,
    })
}

#[cfg(test)]
mod tests {
    use super::parse_log;

    /// Where git was told to diff every file as text (git older than 2.40), a file with a NUL byte is
    /// binary and keeps no lines; a text file keeps its own.
    #[test]
    fn a_text_diff_marks_files_with_nul_bytes_binary() {
        let d = "diff --git a/logo.png b/logo.png\n--- a/logo.png\n+++ b/logo.png\n@@ -1 +1 @@\n-PNG\0old\n+PNG\0new\ndiff --git a/Cargo.lock b/Cargo.lock\n--- a/Cargo.lock\n+++ b/Cargo.lock\n@@ -1 +1 @@\n-version = \"2\"\n+version = \"1\"\n";
        let mut files = crate::analysis::diff::parse(d).unwrap();
        super::binary_by_bytes(&mut files);
        assert!(files[0].binary && files[0].hunks.is_empty());
        assert!(!files[1].binary && files[1].hunks.len() == 1);
    }

    const A: &str = "1111111111111111111111111111111111111111";
    const B: &str = "2222222222222222222222222222222222222222";

    /// Records of NUL-ended fields; the separators used before (U+001E, U+001F) are text inside a field, so
    /// a message cannot split its own record or forge another; output that does not fit is refused.
    #[test]
    fn log_records_are_read_by_nul_and_their_ids_checked() {
        let forged = format!("\u{1e}{B}\u{1f}Mallory <m@x>\u{1f}2026-01-01T00:00:00Z\u{1f}fake\u{1f}");
        let out = format!(
            "{A}\0Ann <a@x>\02026-03-01T10:00:00+00:00\0\u{1e}fix CVE-2024-1234\0body {forged}\0\n\
             {B}\0Bob <b@x>\02026-03-02T10:00:00+00:00\0second\0\0\n"
        );
        let got = parse_log(&out).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].id.as_str(), got[0].subject.as_str()), (A, "\u{1e}fix CVE-2024-1234"));
        assert!(got[0].body.contains("Mallory"), "the forged record is text of the body");
        assert_eq!((got[1].id.as_str(), got[1].author.as_str(), got[1].body.as_str()), (B, "Bob <b@x>", ""));
        assert!(parse_log("").unwrap().is_empty());
        assert!(parse_log(&format!("{A}\0Ann\0date\0")).unwrap_err().contains("fewer than five"));
        assert!(parse_log("not-an-id\0a\0b\0c\0d\0\n").unwrap_err().contains("where a commit id belongs"));
    }
}
