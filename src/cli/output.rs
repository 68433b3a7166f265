//! Output helpers: JSON documents, aligned text tables, and sanitized untrusted text.

use crate::text;

use std::io::Write;

/// Writes `s` to stdout. A closed pipe (`rollcall log | head`) ends the program quietly, as Unix tools do.
pub fn emit(s: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(s.as_bytes()).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to stdout: {e}");
        std::process::exit(2);
    }
}

/// `println!` through [`emit`].
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => { $crate::cli::output::emit(&format!("{}\n", format_args!($($arg)*))) };
}

/// Prints one JSON document on stdout.
pub fn json(value: &serde_json::Value) {
    emit(&format!("{}\n", serde_json::to_string_pretty(value).unwrap_or_else(|_| "{}".into())));
}

/// Prints a warning on stderr, sanitized.
pub fn warn(msg: &str) {
    eprintln!("warning: {}", text::safe(msg));
}

/// A plain text table: a header and rows, columns padded to their widest cell. Cells are sanitized.
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&str]) -> Table {
        Table { header: header.iter().map(|h| h.to_string()).collect(), rows: Vec::new() }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells.iter().map(|c| text::safe(c)).collect());
    }

    pub fn render(&self) -> String {
        let cols = self.header.len();
        let mut width = vec![0usize; cols];
        for r in std::iter::once(&self.header).chain(&self.rows) {
            for (i, c) in r.iter().enumerate().take(cols) {
                width[i] = width[i].max(c.chars().count());
            }
        }
        let mut out = String::new();
        for r in std::iter::once(&self.header).chain(&self.rows) {
            let mut line = String::new();
            for (i, c) in r.iter().enumerate().take(cols) {
                if i + 1 == cols {
                    line.push_str(c);
                } else {
                    line.push_str(c);
                    line.push_str(&" ".repeat(width[i] - c.chars().count() + 2));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// `n` with its noun in the right number: "1 entry", "3 entries".
pub fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns_and_sanitizes() {
        let mut t = Table::new(&["A", "BB"]);
        t.row(vec!["xxx".into(), "y\x1b[2J".into()]);
        assert_eq!(t.render(), "A    BB\nxxx  y<U+001B>[2J\n");
    }
}
