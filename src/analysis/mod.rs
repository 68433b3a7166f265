//! Security analysis of a revert: its change set (from git or a unified diff), the security flags it
//! raises, and its risk score and tier.

pub mod changeset;
pub mod diff;
pub mod flags;
pub(crate) mod git;
pub(crate) mod lockfiles;
pub(crate) mod risk;

/// Why a revert's change set could not be read: git failed or refused the range, or a diff is malformed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AnalysisError(pub String);

impl From<String> for AnalysisError {
    fn from(s: String) -> Self {
        AnalysisError(s)
    }
}

/// Tests: the block of patterns in docs/FORMAT.md whose first line starts with `first` (each line a name and
/// a pattern, or a further pattern of the name above) holds exactly the raw string literals of `source`
/// (its code before its tests), character for character: the document and the code cannot drift apart.
#[cfg(test)]
pub(crate) fn assert_patterns_documented(first: &str, source: &str) {
    use std::collections::BTreeSet;
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/FORMAT.md")).unwrap();
    let start = 1 + doc.find(&format!("\n{first} ")).unwrap_or_else(|| panic!("FORMAT.md has no {first} block"));
    let block = &doc[start..start + doc[start..].find("```").expect("the block's end")];
    let documented: BTreeSet<&str> = block
        .lines()
        .map(|line| match line.split_once(' ') {
            Some((name, rest)) if !name.is_empty() => rest.trim_start(),
            _ => line.trim_start(),
        })
        .collect();
    let source = &source[..source.find("#[cfg(test)]").unwrap_or(source.len())];
    let mut literals = BTreeSet::new();
    let mut rest = source;
    while let Some(at) = [rest.find("r\""), rest.find("r#\"")].into_iter().flatten().min() {
        let (open, close) = if rest[at..].starts_with("r#\"") { (at + 3, "\"#") } else { (at + 2, "\"") };
        let end = open + rest[open..].find(close).expect("a closed literal");
        literals.insert(&rest[open..end]);
        rest = &rest[end + close.len()..];
    }
    assert_eq!(documented, literals, "FORMAT.md's {first} block against the code's patterns");
}
