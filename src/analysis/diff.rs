//! A unified diff parser (git's extended headers or plain `---`/`+++` diffs) into file changes.

use super::changeset::{FileChange, Hunk};

/// Most files read from one diff.
pub(crate) const MAX_FILES: usize = 20_000;

fn strip_prefix(p: &str) -> String {
    let p = p.split('\t').next().unwrap_or(p).trim();
    let p = p.strip_prefix('"').and_then(|x| x.strip_suffix('"')).unwrap_or(p);
    p.strip_prefix("a/").or_else(|| p.strip_prefix("b/")).unwrap_or(p).to_string()
}

fn parse_range(s: &str) -> Option<u64> {
    s.trim_start_matches(['-', '+']).split(',').next()?.parse().ok()
}

/// Parses unified diff text. Lines outside any file are ignored; a hunk header that does not parse is an
/// error naming the line.
pub fn parse(text: &str) -> Result<Vec<FileChange>, super::AnalysisError> {
    Ok(parse_text(text)?)
}

fn parse_text(text: &str) -> Result<Vec<FileChange>, String> {
    let mut files: Vec<FileChange> = Vec::new();
    let mut current: Option<FileChange> = None;
    let mut hunk: Option<Hunk> = None;
    let mut pending_old: Option<String> = None;
    let flush_hunk = |current: &mut Option<FileChange>, hunk: &mut Option<Hunk>| {
        if let (Some(f), Some(h)) = (current.as_mut(), hunk.take()) {
            f.hunks.push(h);
        }
    };
    for (n, line) in text.lines().enumerate() {
        if let Some(rest) = line.strip_prefix("diff --git ") {
            flush_hunk(&mut current, &mut hunk);
            files.extend(current.take());
            let b = rest.rsplit_once(" b/").map(|(_, b)| b.to_string()).unwrap_or_else(|| rest.to_string());
            current = Some(FileChange {
                path: strip_prefix(&b),
                old_path: None,
                status: "modified".into(),
                binary: false,
                hunks: Vec::new(),
            });
            pending_old = None;
            continue;
        }
        if hunk.is_some() {
            match line.chars().next() {
                Some(' ' | '+' | '-') | None => {
                    if let Some(h) = hunk.as_mut() {
                        h.lines.push(if line.is_empty() { " ".into() } else { line.to_string() });
                    }
                    continue;
                }
                Some('\\') => continue,
                _ => flush_hunk(&mut current, &mut hunk),
            }
        }
        if let Some(rest) = line.strip_prefix("--- ") {
            pending_old = Some(rest.to_string());
            if current.as_ref().is_some_and(|c| !c.hunks.is_empty()) {
                files.extend(current.take());
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("+++ ") {
            let old = pending_old.take().unwrap_or_default();
            let f = current.get_or_insert_with(|| FileChange {
                path: String::new(),
                old_path: None,
                status: "modified".into(),
                binary: false,
                hunks: Vec::new(),
            });
            if rest.trim() == "/dev/null" {
                f.status = "deleted".into();
                f.path = strip_prefix(&old);
            } else {
                f.path = strip_prefix(rest);
                if old.trim() == "/dev/null" {
                    f.status = "added".into();
                }
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("@@ ") {
            let mut parts = rest.split_whitespace();
            let (Some(a), Some(b)) = (parts.next(), parts.next()) else {
                return Err(format!("line {}: malformed hunk header", n + 1));
            };
            let (Some(old_start), Some(new_start)) = (parse_range(a), parse_range(b)) else {
                return Err(format!("line {}: malformed hunk header", n + 1));
            };
            if current.is_none() {
                return Err(format!("line {}: a hunk before any file header", n + 1));
            }
            hunk = Some(Hunk { old_start, new_start, lines: Vec::new() });
            continue;
        }
        if let Some(f) = current.as_mut() {
            if line.starts_with("new file mode") {
                f.status = "added".into();
            } else if line.starts_with("deleted file mode") {
                f.status = "deleted".into();
            } else if let Some(p) = line.strip_prefix("rename from ") {
                f.old_path = Some(p.to_string());
                f.status = "renamed".into();
            } else if let Some(p) = line.strip_prefix("rename to ") {
                f.path = p.to_string();
            } else if line.starts_with("Binary files ") || line == "GIT binary patch" {
                f.binary = true;
            }
        }
        if files.len() > MAX_FILES {
            return Err(format!("the diff touches more than {MAX_FILES} files"));
        }
    }
    flush_hunk(&mut current, &mut hunk);
    files.extend(current.take());
    files.retain(|f| !f.path.is_empty());
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_diff_with_new_deleted_and_renamed_files() {
        let d = "diff --git a/k8s/role.yaml b/k8s/role.yaml\nindex 1..2 100644\n--- a/k8s/role.yaml\n+++ b/k8s/role.yaml\n@@ -1,3 +1,4 @@\n kind: Role\n-  verbs: [get]\n+  verbs: [get, list]\n+  resources: [secrets]\n metadata:\ndiff --git a/new.txt b/new.txt\nnew file mode 100644\n--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1 @@\n+hello\ndiff --git a/old.txt b/old.txt\ndeleted file mode 100644\n--- a/old.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-bye\ndiff --git a/a.png b/a.png\nBinary files a/a.png and b/a.png differ\n";
        let f = parse(d).unwrap();
        assert_eq!(f.len(), 4);
        assert_eq!(f[0].path, "k8s/role.yaml");
        let added: Vec<_> = f[0].added_lines().collect();
        assert_eq!(added, vec![(2, "  verbs: [get, list]"), (3, "  resources: [secrets]")]);
        assert_eq!(f[0].removed_lines().collect::<Vec<_>>(), vec![(2, "  verbs: [get]")]);
        assert_eq!((f[1].status.as_str(), f[2].status.as_str()), ("added", "deleted"));
        assert_eq!(f[2].path, "old.txt");
        assert!(f[3].binary);
    }

    #[test]
    fn plain_diff_and_errors() {
        let d =
            "--- app.conf.orig\n+++ app.conf\n@@ -5 +5 @@\n-ssl_protocols TLSv1.3;\n+ssl_protocols TLSv1 TLSv1.1;\n";
        let f = parse(d).unwrap();
        assert_eq!(f[0].path, "app.conf");
        assert_eq!(f[0].added_lines().next(), Some((5, "ssl_protocols TLSv1 TLSv1.1;")));
        assert!(parse("diff --git a/x b/x\n@@ nonsense\n").is_err());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "(\\PC|\\n|@@ |--- |\\+\\+\\+ |diff --git ){0,200}") {
            let _ = parse(&s);
        }
    }
}
