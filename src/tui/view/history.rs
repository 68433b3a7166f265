//! History: every entry, newest first, or the results of a full-text search.

use super::super::state::AppState;
use super::first_visible;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Row, Table};

/// Whether the history is drawn in its narrow form (below 100 columns): the date without the time, and
/// the request's title without its id, so that no column is cut mid-value.
fn narrow(area: Rect) -> bool {
    area.width < 100
}

/// A history row; with a search (`words`), the words it matched in the request's title are highlighted
/// (the rest of what a search matches — rationale, comments, tickets — is on the entry, `Enter`).
fn row<'a>(
    r: &'a super::super::model::HistoryItem,
    selected: bool,
    s: &AppState,
    narrow: bool,
    words: &[String],
) -> Row<'a> {
    let t = &s.theme;
    let req = r
        .request
        .as_ref()
        .map(|(id, title)| if narrow { title.clone() } else { format!("{} {}", id.short(8), title) })
        .unwrap_or_default();
    let time = if narrow {
        r.ts.get(..10).unwrap_or(&r.ts).to_string()
    } else {
        r.ts.get(..16).unwrap_or(&r.ts).replace('T', " ")
    };
    let row = Row::new(vec![
        Cell::from(format!("#{}", r.index)),
        Cell::from(time),
        Cell::from(Span::styled(
            r.kind.clone(),
            if r.kind == crate::workflow::state::UNREADABLE { t.danger } else { t.title },
        )),
        // Narrow: the name alone when the actor has one ("bob (3ebdb5d0…)" → "bob").
        Cell::from(if narrow { r.actor.split(" (").next().unwrap_or(&r.actor).to_string() } else { r.actor.clone() }),
        Cell::from(Line::from(super::highlighted_any(&req, words, t.accent))),
    ]);
    if selected { row.style(t.selected) } else { row }
}

pub(super) fn draw(f: &mut Frame<'_>, s: &AppState, area: Rect) {
    let t = &s.theme;
    let viewport = area.height.saturating_sub(3) as usize;
    let narrow = narrow(area);
    let widths = if narrow {
        [
            Constraint::Length(6),
            Constraint::Length(10),
            Constraint::Length(18),
            Constraint::Length(12),
            Constraint::Min(6),
        ]
    } else {
        [
            Constraint::Length(8),
            Constraint::Length(16),
            Constraint::Length(20),
            Constraint::Length(24),
            Constraint::Min(10),
        ]
    };
    let header = Row::new(["INDEX", if narrow { "DATE (UTC)" } else { "TIME (UTC)" }, "KIND", "ACTOR", "REQUEST"])
        .style(t.muted);
    if let Some((q, rows, sel)) = &s.history.search {
        let words: Vec<String> =
            q.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_string).collect();
        let title = Line::from(vec![
            Span::styled(" History ", t.title),
            Span::raw(format!("— search {:?}: {} results (Esc clears: r) ", q, rows.len())),
        ]);
        let top = sel.saturating_sub(viewport / 2).min(rows.len().saturating_sub(viewport));
        let body: Vec<Row> = rows
            .iter()
            .enumerate()
            .skip(top)
            .take(viewport)
            .map(|(i, r)| row(r, i == *sel, s, narrow, &words))
            .collect();
        f.render_widget(
            Table::new(body, widths).header(header).block(Block::default().borders(Borders::ALL).title(title)),
            area,
        );
        return;
    }
    let h = &s.history.list;
    let hf = &s.history.filter;
    let mut parts = Vec::new();
    if let Some(k) = &hf.kind {
        parts.push(format!("kind {k}"));
    }
    if let Some(x) = &hf.status {
        parts.push(format!("status {x}"));
    }
    if let Some(x) = &hf.env {
        parts.push(format!("env {}", crate::text::safe(x)));
    }
    if let Some(x) = &hf.actor {
        parts.push(format!("actor {}", crate::text::safe(x)));
    }
    if let Some(x) = &hf.since {
        parts.push(format!("since {}", crate::text::safe(crate::text::prefix(x, 10))));
    }
    if let Some(x) = &hf.until {
        parts.push(format!("until {}", crate::text::safe(crate::text::prefix(x, 10))));
    }
    let filter = if parts.is_empty() { "all entries".to_string() } else { parts.join(", ") };
    let count = super::list_count(h);
    let log = if s.history.log.is_empty() {
        String::new()
    } else {
        let more =
            if s.history.logs.len() > 1 { format!(" ({} logs: O next)", s.history.logs.len()) } else { String::new() };
        format!("— log {}{more} ", crate::text::safe(&s.history.log))
    };
    let title = Line::from(vec![
        Span::styled(" History ", t.title),
        Span::raw(format!("{log}— {filter}, newest first — {count} ")),
    ]);
    let first = first_visible(h, viewport);
    let body: Vec<Row> = h
        .rows
        .iter()
        .enumerate()
        .skip(first.saturating_sub(h.offset))
        .take(viewport)
        .map(|(i, r)| row(r, h.offset + i == h.selected, s, narrow, &[]))
        .collect();
    let empty = body.is_empty();
    f.render_widget(
        Table::new(body, widths).header(header).block(Block::default().borders(Borders::ALL).title(title)),
        area,
    );
    if empty {
        super::no_rows(f, s, h, area, "no entries match these filters");
    }
}
