//! Plain text tables: a header and rows, columns padded to their widest cell, cells sanitized. Measured
//! one row at a time ([`Widths`]) so a table too long to hold is printed in two passes over its rows.

use crate::text;

/// A plain text table: a header and rows, columns padded to their widest cell. Cells are sanitized.
pub(crate) struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub(crate) fn new(header: &[&str]) -> Table {
        Table { header: header.iter().map(|h| h.to_string()).collect(), rows: Vec::new() }
    }

    pub(crate) fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells.iter().map(|c| text::safe(c)).collect());
    }

    pub(crate) fn render(&self) -> String {
        let mut widths = Widths::new(&self.header);
        for r in &self.rows {
            widths.measure(r);
        }
        let mut out = widths.line(&self.header);
        for r in &self.rows {
            out.push_str(&widths.line(r));
        }
        out
    }
}

/// The columns a terminal gives `cell` (sanitized text): a wide character (CJK) takes two, a combining
/// mark none. Counting characters instead shifted every later column of a row holding `管理者`.
fn columns(cell: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(cell)
}

/// Column widths of a table measured one row at a time, and its lines: for a table too long to hold,
/// measured in one pass over its rows and printed in a second.
pub(crate) struct Widths(Vec<usize>);

impl Widths {
    pub(crate) fn new(header: &[String]) -> Widths {
        let mut w = Widths(vec![0; header.len()]);
        w.measure(header);
        w
    }

    /// Widens the columns to fit `cells` (already sanitized).
    pub(crate) fn measure(&mut self, cells: &[String]) {
        for (w, c) in self.0.iter_mut().zip(cells) {
            *w = (*w).max(columns(c));
        }
    }

    /// One line of the table, ending in a newline (`cells` already sanitized).
    pub(crate) fn line(&self, cells: &[String]) -> String {
        let cols = self.0.len();
        let mut line = String::new();
        for (i, c) in cells.iter().enumerate().take(cols) {
            line.push_str(c);
            if i + 1 < cols {
                line.push_str(&" ".repeat(self.0[i].saturating_sub(columns(c)) + 2));
            }
        }
        let mut line = line.trim_end().to_string();
        line.push('\n');
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Columns line up by what the terminal shows: a name of three wide characters takes six columns and a
    /// letter with a combining accent one, so the cells after them start where every other row's do.
    #[test]
    fn wide_and_combining_characters_keep_the_columns_aligned() {
        let mut t = Table::new(&["NAME", "ROLE"]);
        t.row(vec!["管理者".into(), "admin".into()]);
        t.row(vec!["cafe\u{301}".into(), "approver".into()]);
        t.row(vec!["bob".into(), "requester".into()]);
        let out = t.render();
        // The columns before the second cell (which follows the last run of two spaces).
        let starts: Vec<usize> = out.lines().map(|l| columns(&l[..l.rfind("  ").unwrap() + 2])).collect();
        assert_eq!(starts, vec![8, 8, 8, 8], "{out}");
    }
}
