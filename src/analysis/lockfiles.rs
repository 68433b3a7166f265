//! Dependency versions in lock files, read from the lines a revert removes and adds: a package whose
//! version goes backwards is a downgrade. Cargo.lock, package-lock.json, go.sum, requirements*.txt,
//! poetry.lock and Gemfile.lock.

use super::changeset::FileChange;
use crate::evidence::osv::version_cmp;
use regex::Regex;
use std::collections::BTreeMap;
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

/// (package, version, line) pairs from `lines` of a lock file of `eco`. Formats whose name and version
/// are on separate lines (Cargo.lock, poetry.lock, package-lock.json) pair a version with the nearest
/// name above it in the same hunk.
fn versions<'a>(
    eco: &str,
    lines: impl Iterator<Item = (u64, &'a str)>,
    context_names: &BTreeMap<u64, String>,
) -> Vec<(String, String, u64)> {
    static NAME: OnceLock<Regex> = OnceLock::new();
    static VERSION: OnceLock<Regex> = OnceLock::new();
    static GO: OnceLock<Regex> = OnceLock::new();
    static REQ: OnceLock<Regex> = OnceLock::new();
    static GEM: OnceLock<Regex> = OnceLock::new();
    static NPM: OnceLock<Regex> = OnceLock::new();
    let name_re = re(&NAME, r#"^\s*name\s*=\s*"([^"]+)""#);
    let version_re = re(&VERSION, r#"^\s*version\s*=\s*"([^"]+)""#);
    let mut out = Vec::new();
    let mut last_name: Option<String> = None;
    for (n, l) in lines {
        match eco {
            "Go" => {
                if let Some(c) = re(&GO, r"^(\S+)\s+(v[0-9][^\s/]*)(/go\.mod)?\s+h1:").captures(l) {
                    if c.get(3).is_none() {
                        out.push((c[1].to_string(), c[2].to_string(), n));
                    }
                }
            }
            "PyPI"
                if !l.contains('=') || l.trim_start().starts_with("name") || l.trim_start().starts_with("version") =>
            {
                if let Some(c) = name_re.captures(l) {
                    last_name = Some(c[1].to_string());
                } else if let Some(c) = version_re.captures(l) {
                    let name =
                        last_name.clone().or_else(|| context_names.range(..n).next_back().map(|(_, v)| v.clone()));
                    if let Some(name) = name {
                        out.push((name, c[1].to_string(), n));
                    }
                }
            }
            "PyPI" => {
                if let Some(c) = re(&REQ, r"^\s*([A-Za-z0-9_.\-\[\]]+)\s*==\s*([^\s;#]+)").captures(l) {
                    out.push((c[1].to_lowercase(), c[2].to_string(), n));
                }
            }
            "RubyGems" => {
                if let Some(c) = re(&GEM, r"^    ([A-Za-z0-9_.\-]+) \(([0-9][^)]*)\)$").captures(l) {
                    out.push((c[1].to_string(), c[2].to_string(), n));
                }
            }
            "npm" => {
                if let Some(c) = re(&NPM, r#"^\s*"(?:node_modules/)?([^"]+)":\s*\{"#).captures(l) {
                    last_name = Some(c[1].rsplit("node_modules/").next().unwrap_or(&c[1]).to_string());
                } else if let Some(c) = re(&VERSION, r#"^\s*version\s*=\s*"([^"]+)""#).captures(l).or_else(|| {
                    static NV: OnceLock<Regex> = OnceLock::new();
                    re(&NV, r#"^\s*"version":\s*"([^"]+)""#).captures(l)
                }) {
                    let name =
                        last_name.clone().or_else(|| context_names.range(..n).next_back().map(|(_, v)| v.clone()));
                    if let Some(name) = name {
                        out.push((name, c[1].to_string(), n));
                    }
                }
            }
            _ => {
                if let Some(c) = name_re.captures(l) {
                    last_name = Some(c[1].to_string());
                } else if let Some(c) = version_re.captures(l) {
                    let name =
                        last_name.clone().or_else(|| context_names.range(..n).next_back().map(|(_, v)| v.clone()));
                    if let Some(name) = name {
                        out.push((name, c[1].to_string(), n));
                    }
                }
            }
        }
    }
    out
}

/// Names from context lines (unchanged `name = "x"` above a changed version line), by new-side line.
fn context_names(f: &FileChange) -> BTreeMap<u64, String> {
    static NAME: OnceLock<Regex> = OnceLock::new();
    static NPM: OnceLock<Regex> = OnceLock::new();
    let name_re = re(&NAME, r#"^\s*name\s*=\s*"([^"]+)""#);
    let npm_re = re(&NPM, r#"^\s*"(?:node_modules/)?([^"]+)":\s*\{"#);
    let mut m = BTreeMap::new();
    for h in &f.hunks {
        let mut new = h.new_start;
        let mut old = h.old_start;
        for l in &h.lines {
            let (mark, text) = l.split_at(l.char_indices().nth(1).map_or(l.len(), |(i, _)| i));
            if let Some(c) = name_re.captures(text).or_else(|| npm_re.captures(text)) {
                let name = c[1].rsplit("node_modules/").next().unwrap_or(&c[1]).to_string();
                // Key by both sides' numbering so lookups from either side find it.
                m.insert(new.max(old), name);
            }
            match mark {
                "+" => new += 1,
                "-" => old += 1,
                _ => {
                    new += 1;
                    old += 1;
                }
            }
        }
    }
    m
}

/// Every package whose version the revert moves backwards.
pub(crate) fn downgrades(files: &[FileChange]) -> Vec<Downgrade> {
    let mut out = Vec::new();
    for f in files {
        let Some(eco) = ecosystem(&f.path) else { continue };
        let ctx = context_names(f);
        let now: Vec<_> = versions(eco, f.removed_lines(), &ctx);
        let back: Vec<_> = versions(eco, f.added_lines(), &ctx);
        for (pkg, to, line) in &back {
            if let Some((_, from, _)) = now.iter().find(|(p, _, _)| p == pkg)
                && version_cmp(to, from) == std::cmp::Ordering::Less
            {
                out.push(Downgrade {
                    file: f.path.clone(),
                    line: *line,
                    ecosystem: eco,
                    package: pkg.clone(),
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
}
