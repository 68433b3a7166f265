//! Long text in the user's editor: `$VISUAL`, else `$EDITOR`, else `vi`, run on a private temporary file
//! holding the field's text; what the file holds when the editor exits comes back (one line: line breaks
//! become spaces), at most [`MAX`] characters. The terminal is the editor's meanwhile (the runtime steps
//! aside).

use std::io::Write;

/// Longest text taken back, in characters (the dialog's fields take 4,000).
pub(crate) const MAX: usize = 4000;

/// The editor command: `$VISUAL`, `$EDITOR`, then `vi`; split on whitespace ("code -w").
fn command() -> Vec<String> {
    let chosen = ["VISUAL", "EDITOR"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|v| !v.trim().is_empty())
        .unwrap_or_else(|| "vi".into());
    chosen.split_whitespace().map(str::to_string).collect()
}

/// Edits `text` in the editor and returns what it left, or why it could not.
pub(crate) fn edit(text: &str) -> Result<String, String> {
    // tempfile creates it readable by this user only, and removes it when dropped.
    let mut file = tempfile::Builder::new()
        .prefix("rollcall-edit-")
        .suffix(".txt")
        .tempfile()
        .map_err(|e| format!("could not create a file to edit: {e}"))?;
    file.write_all(text.as_bytes()).and_then(|_| file.flush()).map_err(|e| format!("could not write it: {e}"))?;
    let cmd = command();
    let (program, args) = cmd.split_first().ok_or("no editor is set ($VISUAL, $EDITOR)")?;
    // Without rollcall's variables: an editor's plugins need no passphrase.
    let status = crate::child::command(program)
        .args(args)
        .arg(file.path())
        .status()
        .map_err(|e| format!("could not run the editor {program:?}: {e}"))?;
    if !status.success() {
        return Err(format!("the editor {program:?} exited with {status}; the field is unchanged"));
    }
    let bytes =
        crate::paths::read_capped(file.path(), (MAX * 4) as u64).map_err(|e| format!("could not read it back: {e}"))?;
    let back = String::from_utf8_lossy(&bytes);
    Ok(one_line(&back))
}

/// The editor's text as one field value: lines joined by spaces, control characters dropped, trimmed,
/// at most [`MAX`] characters.
pub(crate) fn one_line(text: &str) -> String {
    let joined: String = text.lines().map(str::trim_end).collect::<Vec<_>>().join(" ");
    joined.chars().filter(|c| !c.is_control()).take(MAX).collect::<String>().trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_editors_text_becomes_one_line() {
        assert_eq!(one_line("first line\nsecond\r\n\x1b[31mred\n"), "first line second [31mred");
        assert_eq!(one_line(&"x".repeat(MAX + 10)).chars().count(), MAX);
    }
}
