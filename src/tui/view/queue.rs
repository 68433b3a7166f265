//! The queue: open requests, most urgent first, drawn from the visible slice of the window only.

use super::super::state::AppState;
use super::first_visible;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Row, Scrollbar, ScrollbarOrientation, ScrollbarState, Table};

pub(super) fn draw(f: &mut Frame<'_>, s: &AppState, area: Rect) {
    let t = &s.theme;
    let q = &s.queue;
    let filter = &s.queue_filter;
    let mut what = vec![match (&filter.status, filter.all) {
        (Some(st), _) => st.clone(),
        (None, true) => "all".into(),
        (None, false) => "open".into(),
    }];
    if let Some(e) = &filter.env {
        what.push(format!("env {e}"));
    }
    if let Some(r) = &filter.tier {
        what.push(format!("risk {r}"));
    }
    if filter.flagged {
        what.push("flagged".into());
    }
    what.push(if filter.newest { "newest first".into() } else { "most urgent first".into() });
    let count = match q.total {
        Some(n) => format!("{} of {n}", if n == 0 { 0 } else { q.selected + 1 }),
        None => "…".into(),
    };
    let block = Block::default().borders(Borders::ALL).title(Line::from(vec![
        Span::styled(" Queue ", t.title),
        Span::raw(format!("— {} — {count} ", what.join(", "))),
    ]));
    let viewport = area.height.saturating_sub(3) as usize;
    let first = first_visible(q, viewport);
    let rows: Vec<Row> = q
        .rows
        .iter()
        .enumerate()
        .skip(first.saturating_sub(q.offset))
        .take(viewport)
        .map(|(i, r)| {
            let (badge, badge_style) = t.risk_badge(&r.tier);
            let selected = q.offset + i == q.selected;
            let status_style = match r.status.as_str() {
                "emergency" | "review-due" | "rejected" => t.danger,
                "approved" => t.ok,
                _ => t.base,
            };
            let due = if r.overdue {
                Span::styled("OVERDUE", t.danger)
            } else if r.due.is_some() {
                Span::styled("due", t.warn)
            } else {
                Span::raw("")
            };
            let title = if r.suspicious { format!("⚠ {}", r.title) } else { r.title.clone() };
            let row = Row::new(vec![
                Cell::from(r.id.short(8)),
                Cell::from(Span::styled(badge, badge_style)),
                Cell::from(Span::styled(r.status.clone(), status_style)),
                Cell::from(r.env.clone()),
                Cell::from(if r.flags > 0 { Span::styled(format!("⚑{}", r.flags), t.warn) } else { Span::raw("") }),
                Cell::from(format!("{}/{}", r.have, r.need)),
                Cell::from(r.age.clone()),
                Cell::from(due),
                Cell::from(title),
            ]);
            if selected { row.style(t.selected) } else { row }
        })
        .collect();
    let header = Row::new(["ID", "RISK", "STATUS", "ENV", "FLAG", "APPR", "AGE", "DUE", "TITLE"]).style(t.muted);
    let widths = [
        Constraint::Length(8),
        Constraint::Length(4),
        Constraint::Length(10),
        Constraint::Length(10),
        Constraint::Length(4),
        Constraint::Length(4),
        Constraint::Length(4),
        Constraint::Length(7),
        Constraint::Min(10),
    ];
    let empty = rows.is_empty();
    f.render_widget(Table::new(rows, widths).header(header).block(block).column_spacing(1), area);
    if empty {
        let msg = if q.loading { "loading…" } else { "nothing here — press f to change the filter, 2 for history" };
        f.render_widget(
            ratatui::widgets::Paragraph::new(msg).style(t.muted),
            Rect::new(area.x + 2, area.y + 2, area.width.saturating_sub(4), 1),
        );
    }
    if let Some(total) = q.total
        && total as usize > viewport
    {
        let mut sb = ScrollbarState::new(total as usize).position(q.selected);
        f.render_stateful_widget(
            Scrollbar::new(ScrollbarOrientation::VerticalRight).style(Style::default()),
            area.inner(ratatui::layout::Margin { vertical: 1, horizontal: 0 }),
            &mut sb,
        );
    }
}
