//! Output helpers: JSON documents, aligned text tables, and sanitized untrusted text.

use crate::text;

use std::io::Write;

/// Writes `s` to stdout. A closed pipe (`rollcall log | head`) ends the program quietly, as Unix tools do.
pub(crate) fn emit(s: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(s.as_bytes()).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        crate::text::eprint_line(&format!("error: cannot write to stdout: {e}"));
        std::process::exit(2);
    }
}

/// Standard output as a buffered writer with [`emit`]'s manners: a closed pipe ends the program quietly.
pub(crate) struct Stdout(std::io::BufWriter<std::io::Stdout>);

impl Stdout {
    pub(crate) fn new() -> Stdout {
        Stdout(std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout()))
    }

    fn check<T>(r: std::io::Result<T>) -> std::io::Result<T> {
        if let Err(e) = &r
            && e.kind() == std::io::ErrorKind::BrokenPipe
        {
            std::process::exit(0);
        }
        r
    }
}

impl Default for Stdout {
    fn default() -> Stdout {
        Stdout::new()
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Self::check(self.0.write(buf))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Self::check(self.0.flush())
    }
}

/// `println!` through [`emit`].
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => { $crate::cli::output::emit(&format!("{}\n", format_args!($($arg)*))) };
}

/// Prints one JSON document on stdout.
pub(crate) fn json(value: &serde_json::Value) {
    emit(&format!("{}\n", crate::text::json_pretty(value).unwrap_or_else(|_| "{}".into())));
}

/// Prints a warning on stderr, sanitized.
pub(crate) fn warn(msg: &str) {
    crate::text::eprint_line(&format!("warning: {}", text::safe(msg)));
}

/// Prints a note on stderr (what the command is doing, not a problem), sanitized.
pub(crate) fn note(msg: &str) {
    crate::text::eprint_line(&format!("note: {}", text::safe(msg)));
}

pub(crate) use crate::table::{Table, Widths};

/// One pretty-printed JSON document `{"KEY": [...], ...}` written while its array's items arrive, in the
/// layout `serde_json::to_string_pretty` gives the whole document (keys after the array must sort after
/// KEY, as a `serde_json::Value` would order them).
pub(crate) struct JsonArray<'b> {
    out: &'b mut Blocks,
    n: usize,
}

impl<'b> JsonArray<'b> {
    pub(crate) fn open(out: &'b mut Blocks, key: &str) -> JsonArray<'b> {
        out.push(&format!("{{\n  {}: [", serde_json::Value::from(key)));
        JsonArray { out, n: 0 }
    }

    pub(crate) fn push(&mut self, item: &serde_json::Value) {
        self.out.push(if self.n == 0 { "\n" } else { ",\n" });
        self.out.push(&indented(item, 4));
        self.n += 1;
    }

    /// Ends the array and the document with the members `rest`, in order.
    pub(crate) fn close(self, rest: &[(&str, serde_json::Value)]) {
        self.out.push(if self.n == 0 { "]" } else { "\n  ]" });
        for (k, v) in rest {
            self.out.push(&format!(",\n  {}: {}", serde_json::Value::from(*k), indented(v, 2).trim_start()));
        }
        self.out.push("\n}\n");
    }
}

/// `v` pretty-printed with every line indented by `by` spaces.
fn indented(v: &serde_json::Value, by: usize) -> String {
    let text = crate::text::json_pretty(v).unwrap_or_else(|_| "null".into());
    let pad = " ".repeat(by);
    text.lines().map(|l| format!("{pad}{l}")).collect::<Vec<_>>().join("\n")
}

/// A table whose rows are walked twice and never held: measured in pass 0, written in pass 1 (cells are
/// sanitized here).
pub(crate) struct TwoPass<'b> {
    header: Vec<String>,
    widths: Widths,
    out: &'b mut Blocks,
    written: bool,
}

impl<'b> TwoPass<'b> {
    pub(crate) fn new(header: &[&str], out: &'b mut Blocks) -> TwoPass<'b> {
        let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
        TwoPass { widths: Widths::new(&header), header, out, written: false }
    }

    /// One row in pass `pass` (0: measure, 1: write).
    pub(crate) fn row(&mut self, pass: usize, cells: &[String]) {
        let cells: Vec<String> = cells.iter().map(|c| text::safe(c)).collect();
        if pass == 0 {
            self.widths.measure(&cells);
            return;
        }
        if !self.written {
            self.out.push(&self.widths.line(&self.header));
            self.written = true;
        }
        self.out.push(&self.widths.line(&cells));
    }

    /// Widens the columns to fit `cells` (sanitized here) without writing them: for a table printed in one
    /// pass, whose columns are sized from what they can hold before any row is read.
    pub(crate) fn measure(&mut self, cells: &[String]) {
        let cells: Vec<String> = cells.iter().map(|c| text::safe(c)).collect();
        self.widths.measure(&cells);
    }

    /// Whether any row was written.
    pub(crate) fn any(&self) -> bool {
        self.written
    }

    /// Writes the header line alone (an empty table that still shows its columns).
    pub(crate) fn header_only(&mut self) {
        if !self.written {
            self.out.push(&self.widths.line(&self.header));
            self.written = true;
        }
    }
}

/// Output gathered and written in blocks (a long listing is not one write per line, nor held whole).
pub(crate) struct Blocks(String);

impl Blocks {
    pub(crate) fn new() -> Blocks {
        Blocks(String::new())
    }

    pub(crate) fn push(&mut self, s: &str) {
        self.0.push_str(s);
        if self.0.len() >= 64 * 1024 {
            self.flush();
        }
    }

    pub(crate) fn flush(&mut self) {
        emit(&self.0);
        self.0.clear();
    }
}

impl Default for Blocks {
    fn default() -> Blocks {
        Blocks::new()
    }
}

impl Drop for Blocks {
    fn drop(&mut self) {
        if !self.0.is_empty() {
            self.flush();
        }
    }
}

/// `n` with its noun in the right number: "1 entry", "3 entries".
pub(crate) fn count(n: u64, one: &str, many: &str) -> String {
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
