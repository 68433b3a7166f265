//! Dependency versions in lock files, read from the lines a revert removes and adds: a package whose
//! version goes backwards is a downgrade. Cargo.lock, package-lock.json, go.sum, requirements*.txt,
//! poetry.lock and Gemfile.lock.

use super::changeset::FileChange;
use crate::evidence::osv::version_cmp;
use regex::Regex;
use std::sync::OnceLock;

/// One package going from `from` (now) back to `to` (after the revert).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Downgrade {
    pub file: String,
    pub line: u64,
    pub ecosystem: &'static str,
    pub package: String,
    pub from: String,
    pub to: String,
}

fn ecosystem(path: &str) -> Option<&'static str> {
    let name = path.rsplit('/').next().unwrap_or(path);
    Some(match name {
        "Cargo.lock" => "crates.io",
        "package-lock.json" => "npm",
        "go.sum" => "Go",
        "poetry.lock" => "PyPI",
        "Gemfile.lock" => "RubyGems",
        n if n.starts_with("requirements") && n.ends_with(".txt") => "PyPI",
        _ => return None,
    })
}

fn re(cell: &'static OnceLock<Regex>, pat: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pat).expect("static regex"))
}

/// What one line of a lock file of an ecosystem says.
enum Line {
    /// A package's name, for the version lines after it on the same side.
    Name(String),
    /// A new package block (`[[package]]`): no name until one is given.
    Block,
    /// A version, of the name before it on the same side.
    Version(String),
    /// A package and its version on one line.
    Entry(String, String),
    Other,
}

/// What `text` (a line without its marker) of a lock file of `eco` says.
fn read_line(eco: &str, text: &str) -> Line {
    static NAME: OnceLock<Regex> = OnceLock::new();
    static VERSION: OnceLock<Regex> = OnceLock::new();
    static GO: OnceLock<Regex> = OnceLock::new();
    static REQ: OnceLock<Regex> = OnceLock::new();
    static GEM: OnceLock<Regex> = OnceLock::new();
    static NPM: OnceLock<Regex> = OnceLock::new();
    static NV: OnceLock<Regex> = OnceLock::new();
    let name_re = re(&NAME, r#"^\s*name\s*=\s*"([^"]+)""#);
    let version_re = re(&VERSION, r#"^\s*version\s*=\s*"([^"]+)""#);
    let block = || text.trim() == "[[package]]";
    let named = || {
        if let Some(c) = name_re.captures(text) {
            Line::Name(c[1].to_string())
        } else if let Some(c) = version_re.captures(text) {
            Line::Version(c[1].to_string())
        } else if block() {
            Line::Block
        } else {
            Line::Other
        }
    };
    match eco {
        "Go" => match re(&GO, r"^(\S+)\s+(v[0-9][^\s/]*)(/go\.mod)?\s+h1:").captures(text) {
            Some(c) if c.get(3).is_none() => Line::Entry(c[1].to_string(), c[2].to_string()),
            _ => Line::Other,
        },
        "PyPI"
            if !text.contains('=')
                || text.trim_start().starts_with("name")
                || text.trim_start().starts_with("version") =>
        {
            named()
        }
        "PyPI" => match re(&REQ, r"^\s*([A-Za-z0-9_.\-\[\]]+)\s*==\s*([^\s;#]+)").captures(text) {
            Some(c) => Line::Entry(c[1].to_lowercase(), c[2].to_string()),
            None => Line::Other,
        },
        "RubyGems" => match re(&GEM, r"^    ([A-Za-z0-9_.\-]+) \(([0-9][^)]*)\)$").captures(text) {
            Some(c) => Line::Entry(c[1].to_string(), c[2].to_string()),
            None => Line::Other,
        },
        "npm" => {
            // The whole path (`a/node_modules/semver`): nested copies of one package are different
            // entries, each compared with its own current version.
            if let Some(c) = re(&NPM, r#"^\s*"(?:node_modules/)?([^"]+)":\s*\{"#).captures(text) {
                // The sections that hold packages are not packages: after `"packages": {` the root entry
                // (`"": {`, no name) comes, whose version is the project's own.
                match &c[1] {
                    "packages"
                    | "dependencies"
                    | "devDependencies"
                    | "optionalDependencies"
                    | "peerDependencies"
                    | "requires" => Line::Block,
                    name => Line::Name(name.to_string()),
                }
            } else if let Some(c) =
                version_re.captures(text).or_else(|| re(&NV, r#"^\s*"version":\s*"([^"]+)""#).captures(text))
            {
                Line::Version(c[1].to_string())
            } else {
                Line::Other
            }
        }
        _ => named(),
    }
}

/// (package, version, line) entries of one side of a lock file's change.
type Entries = Vec<(String, String, u64)>;

/// The *now* entries (from the lines the revert removes, numbered in the current tree) and the *back*
/// entries (from the lines it adds, numbered after it) of lock file `f` of `eco`. Each hunk is walked in
/// order with a name for each side, both unknown at the hunk's start: a name line sets the name of the
/// sides it is on (a context line both, a removed line the current side, an added line the reverted
/// side), a `[[package]]` line forgets it the same way, and a removed or added version line is paired with
/// its own side's name. (A name carried across hunks, or read from the other side's numbering, once gave a
/// package's version to the package added just above it.)
fn entries(eco: &str, f: &FileChange) -> (Entries, Entries) {
    let (mut now, mut back) = (Vec::new(), Vec::new());
    for h in &f.hunks {
        let (mut old, mut new) = (h.old_start, h.new_start);
        let mut names: [Option<String>; 2] = [None, None];
        for l in &h.lines {
            let (mark, text) = l.split_at(l.char_indices().nth(1).map_or(l.len(), |(i, _)| i));
            let sides: &[usize] = match mark {
                "-" => &[0],
                "+" => &[1],
                " " => &[0, 1],
                _ => &[],
            };
            let changed = match mark {
                "-" => Some((0, old)),
                "+" => Some((1, new)),
                _ => None,
            };
            let mut push = |side: usize, package: String, version: String, line: u64| {
                if side == 0 { &mut now } else { &mut back }.push((package, version, line));
            };
            match read_line(eco, text) {
                Line::Name(n) => sides.iter().for_each(|&s| names[s] = Some(n.clone())),
                Line::Block => sides.iter().for_each(|&s| names[s] = None),
                Line::Version(v) => {
                    if let Some((side, line)) = changed
                        && let Some(name) = &names[side]
                    {
                        push(side, name.clone(), v, line);
                    }
                }
                Line::Entry(p, v) => {
                    if let Some((side, line)) = changed {
                        push(side, p, v, line);
                    }
                }
                Line::Other => {}
            }
            match mark {
                "+" => new += 1,
                "-" => old += 1,
                " " => {
                    new += 1;
                    old += 1;
                }
                _ => {}
            }
        }
    }
    (now, back)
}

/// Every package whose version the revert moves backwards: a back version that orders before the highest
/// now version of the same package (the first one found once let a removed older duplicate hide it).
pub(crate) fn downgrades(files: &[FileChange]) -> Vec<Downgrade> {
    let mut out = Vec::new();
    for f in files {
        let Some(eco) = ecosystem(&f.path) else { continue };
        let (now, back) = entries(eco, f);
        // The package an entry's name ends with (an npm path's part after its last `node_modules/`).
        let package =
            |key: &str| if eco == "npm" { key.rsplit("node_modules/").next().unwrap_or(key) } else { key }.to_string();
        for (key, to, line) in &back {
            let highest_of = |same: &dyn Fn(&str) -> bool| {
                now.iter()
                    .filter(|(k, _, _)| same(k))
                    .map(|(_, v, _)| v)
                    .reduce(|held, v| if version_cmp(v, held) == std::cmp::Ordering::Greater { v } else { held })
            };
            // The same path first; a path with no current entry (a copy moved into another package's
            // `node_modules/` as the top-level one goes) is compared with the package's top-level copy when
            // the revert removes it (no back entry at its path). Copies elsewhere are other packages' own
            // (`glob/node_modules/minimatch` 9 and `rimraf/node_modules/minimatch` 3 are no downgrade).
            let top = package(key);
            let highest = highest_of(&|k| k == key).or_else(|| {
                (eco == "npm" && top != *key && !back.iter().any(|(k, _, _)| *k == top))
                    .then(|| highest_of(&|k| k == top))
                    .flatten()
            });
            if let Some(from) = highest
                && version_cmp(to, from) == std::cmp::Ordering::Less
            {
                out.push(Downgrade {
                    file: f.path.clone(),
                    line: *line,
                    ecosystem: eco,
                    // The package's own name, as advisories name it.
                    package: package(key),
                    from: from.clone(),
                    to: to.clone(),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::diff::parse;

    /// The patterns docs/FORMAT.md §1.3 gives for lock files are exactly the ones this file compiles.
    #[test]
    fn format_md_gives_the_lock_file_patterns_this_file_uses() {
        super::super::assert_patterns_documented("GO", include_str!("lockfiles.rs"));
    }

    #[test]
    fn cargo_lock_downgrade() {
        let d = "--- a/Cargo.lock\n+++ b/Cargo.lock\n@@ -10,3 +10,3 @@\n name = \"openssl\"\n-version = \"0.10.66\"\n+version = \"0.10.55\"\n";
        let g = downgrades(&parse(d).unwrap());
        assert_eq!(g.len(), 1);
        assert_eq!(
            (g[0].package.as_str(), g[0].from.as_str(), g[0].to.as_str(), g[0].line),
            ("openssl", "0.10.66", "0.10.55", 11)
        );
    }

    #[test]
    fn other_formats() {
        let go = "--- a/go.sum\n+++ b/go.sum\n@@ -1,2 +1,2 @@\n-golang.org/x/net v0.23.0 h1:abc=\n+golang.org/x/net v0.17.0 h1:def=\n";
        assert_eq!(downgrades(&parse(go).unwrap())[0].package, "golang.org/x/net");
        let req = "--- a/requirements.txt\n+++ b/requirements.txt\n@@ -1 +1 @@\n-Django==4.2.11\n+Django==4.2.1\n";
        assert_eq!(downgrades(&parse(req).unwrap())[0].to, "4.2.1");
        let gem = "--- a/Gemfile.lock\n+++ b/Gemfile.lock\n@@ -3 +3 @@\n-    rack (3.0.9)\n+    rack (2.2.8)\n";
        assert_eq!(downgrades(&parse(gem).unwrap())[0].package, "rack");
        let npm = "--- a/package-lock.json\n+++ b/package-lock.json\n@@ -5,3 +5,3 @@\n     \"node_modules/lodash\": {\n-      \"version\": \"4.17.21\",\n+      \"version\": \"4.17.15\",\n";
        assert_eq!(downgrades(&parse(npm).unwrap())[0].package, "lodash");
        let up = "--- a/Cargo.lock\n+++ b/Cargo.lock\n@@ -10,3 +10,3 @@\n name = \"serde\"\n-version = \"1.0.1\"\n+version = \"1.0.2\"\n";
        assert!(downgrades(&parse(up).unwrap()).is_empty());
    }

    /// A package the revert adds just above a changed one does not take its version: each side keeps its
    /// own name, from its own lines, within the hunk (a context name read by the other side's numbering,
    /// or carried from an earlier hunk, gave `openssl`'s downgrade to `aaa`, and advisories for `openssl`
    /// matched nothing).
    #[test]
    fn a_package_added_above_a_downgrade_does_not_take_its_name() {
        let d = "--- a/Cargo.lock\n+++ b/Cargo.lock\n@@ -10,6 +10,11 @@\n+[[package]]\n+name = \"aaa\"\n+version = \"9.0.0\"\n+source = \"registry\"\n+\n [[package]]\n name = \"openssl\"\n-version = \"0.10.66\"\n+version = \"0.10.55\"\n source = \"registry\"\n@@ -40,3 +45,3 @@\n-version = \"2.0.0\"\n+version = \"1.0.0\"\n checksum = \"x\"\n";
        let g = downgrades(&parse(d).unwrap());
        assert_eq!(g.len(), 1, "{g:?}");
        assert_eq!(
            (g[0].package.as_str(), g[0].from.as_str(), g[0].to.as_str(), g[0].line),
            ("openssl", "0.10.66", "0.10.55", 17)
        );
    }

    /// Nested npm copies of one package are compared each with its own current version: a nested copy
    /// moving up while the top-level one is removed is no downgrade; a nested one moving back is, named by
    /// the package's own name.
    #[test]
    fn nested_npm_copies_are_compared_by_path() {
        let d = "--- a/package-lock.json\n+++ b/package-lock.json\n@@ -5,9 +5,6 @@\n-    \"node_modules/semver\": {\n-      \"version\": \"7.6.0\",\n-    },\n     \"node_modules/a/node_modules/semver\": {\n-      \"version\": \"6.3.0\",\n+      \"version\": \"6.3.1\",\n     \"node_modules/b/node_modules/semver\": {\n-      \"version\": \"5.7.2\",\n+      \"version\": \"5.7.1\",\n";
        let g = downgrades(&parse(d).unwrap());
        assert_eq!(g.len(), 1, "{g:?}");
        assert_eq!((g[0].package.as_str(), g[0].from.as_str(), g[0].to.as_str()), ("semver", "5.7.2", "5.7.1"));
    }

    /// A copy moved into another package's `node_modules/` at an earlier version as the top-level one is
    /// removed is compared with the package's current copies: a downgrade.
    #[test]
    fn a_nested_copy_replacing_the_top_level_one_is_compared_by_package() {
        let d = "--- a/package-lock.json\n+++ b/package-lock.json\n@@ -5,3 +5,3 @@\n-    \"node_modules/lodash\": {\n-      \"version\": \"4.17.21\",\n+    \"node_modules/a/node_modules/lodash\": {\n+      \"version\": \"4.17.11\",\n";
        let g = downgrades(&parse(d).unwrap());
        assert_eq!(g.len(), 1, "{g:?}");
        assert_eq!((g[0].package.as_str(), g[0].from.as_str(), g[0].to.as_str()), ("lodash", "4.17.21", "4.17.11"));
    }

    /// A copy that moves between two other packages' `node_modules/` is not compared with the other
    /// (they are each package's own); the `packages` section and the root entry name no package.
    #[test]
    fn copies_under_other_packages_and_the_project_itself_are_not_downgrades() {
        let d = "--- a/package-lock.json\n+++ b/package-lock.json\n@@ -1,12 +1,12 @@\n   \"packages\": {\n     \"\": {\n-      \"version\": \"1.3.0\",\n+      \"version\": \"1.2.0\",\n     },\n-    \"node_modules/glob/node_modules/minimatch\": {\n-      \"version\": \"9.0.3\",\n+    \"node_modules/rimraf/node_modules/minimatch\": {\n+      \"version\": \"3.1.2\",\n";
        let g = downgrades(&parse(d).unwrap());
        assert!(g.is_empty(), "{g:?}");
    }

    /// A removed older duplicate listed first does not hide the downgrade of the newer one.
    #[test]
    fn the_highest_current_version_is_compared() {
        let d = "--- a/Cargo.lock\n+++ b/Cargo.lock\n@@ -1,8 +1,4 @@\n-[[package]]\n-name = \"openssl\"\n-version = \"0.9.0\"\n-\n [[package]]\n name = \"openssl\"\n-version = \"0.10.66\"\n+version = \"0.10.55\"\n";
        let g = downgrades(&parse(d).unwrap());
        assert_eq!(g.len(), 1, "{g:?}");
        assert_eq!((g[0].from.as_str(), g[0].to.as_str()), ("0.10.66", "0.10.55"));
    }
}
