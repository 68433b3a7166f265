//! Reading a revert from a git repository: the commits being reverted (one, or a range `A..B`), the
//! diff the revert applies, the `git revert` argument vector, and the component map in `.rollcall.toml`.
//! git is run as a program with an argument vector (never a shell), with external diff drivers and
//! text conversion off.

use super::changeset::{ChangeSet, Commit};
use std::path::Path;

/// The empty tree, for the diff of a root commit.
const EMPTY_TREE: &str = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

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

fn git(repo: &Path, args: &[&str]) -> Result<String, String> {
    let out = crate::child::command("git")
        .arg("-C")
        .arg(repo)
        .args(["-c", "core.quotepath=false", "-c", "diff.external=", "-c", "color.ui=false"])
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(err.lines().next().unwrap_or("git failed").trim().to_string());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
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
    let mut args = vec!["log", "--no-merges", "--format=%H%x1f%an <%ae>%x1f%aI%x1f%s%x1f%b%x1e"];
    args.extend_from_slice(range);
    Ok(parse_log(&git(repo, &args)?))
}

/// Commits from `git log` output in the format `commits` asks for: records ended by U+001E, fields
/// (id, author, date, subject, body) separated by U+001F. A record with fewer than four fields is skipped.
pub(crate) fn parse_log(out: &str) -> Vec<Commit> {
    out.split('\u{1e}')
        .filter(|r| !r.trim().is_empty())
        .filter_map(|r| {
            let mut f = r.trim_start_matches('\n').splitn(5, '\u{1f}');
            Some(Commit {
                id: f.next()?.to_string(),
                author: f.next()?.to_string(),
                date: f.next()?.to_string(),
                subject: f.next()?.to_string(),
                body: f.next().unwrap_or("").trim().to_string(),
            })
        })
        .collect()
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

fn read(repo: &Path, spec: &str) -> Result<GitRevert, String> {
    if !repo.exists() {
        return Err(format!("{} does not exist", repo.display()));
    }
    git(repo, &["rev-parse", "--git-dir"]).map_err(|_| format!("{} is not a git repository", repo.display()))?;
    let (base, tip, range_arg, argv_target) = match spec.split_once("..") {
        Some((a, b)) => {
            let (a, b) = (resolve(repo, a)?, resolve(repo, b)?);
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
            let base = parents.first().map(|p| p.to_string()).unwrap_or_else(|| EMPTY_TREE.to_string());
            (base, c.clone(), format!("-1 {c}"), c)
        }
    };
    let commits =
        if range_arg.starts_with("-1 ") { commits(repo, &["-1", &tip])? } else { commits(repo, &[&range_arg])? };
    if commits.is_empty() {
        return Err(format!("{spec} names no commits to revert"));
    }
    // Attributes from the empty tree, not the checkout: a `.gitattributes` the repository carries (`Cargo.lock
    // -diff`, `*.yaml binary`) would otherwise make git print "Binary files differ" for a text file and hide
    // its lines from every flag. Git that predates `--attr-source` (2.40) diffs with the checkout's
    // attributes; a file it calls binary still raises `UNINSPECTED_CONTENT`.
    let diff_args = ["diff", "--no-ext-diff", "--no-textconv", "-M", "--unified=3", &tip, &base, "--"];
    let no_attributes = format!("--attr-source={EMPTY_TREE}");
    let diff = match git(repo, &[&[no_attributes.as_str()][..], &diff_args[..]].concat()) {
        Ok(d) => d,
        Err(e) if e.contains("attr-source") || e.contains("unknown option") => git(repo, &diff_args)?,
        Err(e) => return Err(e),
    };
    let files = super::diff::parse(&diff).map_err(|e| e.0)?;
    let map = component_map(repo);
    let components = components_of(files.iter().map(|f| f.path.as_str()), &map);
    let to = if base == EMPTY_TREE { "(empty tree)".to_string() } else { base };
    Ok(GitRevert {
        changeset: ChangeSet { source: "git".into(), commits, files },
        argv: vec!["git".into(), "revert".into(), "--no-edit".into(), argv_target],
        from: tip,
        to,
        components,
    })
}
