//! The queue: open requests, most urgent first, drawn from the visible slice of the window only.

use super::super::model::QueueItem;
use super::super::state::AppState;
use super::first_visible;
use crate::workflow::waiting::Stand;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Row, Scrollbar, ScrollbarOrientation, ScrollbarState, Table};

pub(super) fn draw(f: &mut Frame<'_>, s: &AppState, area: Rect) {
    let area = match alerts_height(s) {
        0 => area,
        height => {
            // Observed rollbacks no request cleared come first, above the requests.
            let [top, rest] =
                ratatui::layout::Layout::vertical([Constraint::Length(height), Constraint::Min(3)]).areas(area);
            draw_alerts(f, s, top);
            rest
        }
    };
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
    if let Some(text) = &filter.text {
        what.push(format!("matching {:?}", crate::text::safe(text)));
    }
    what.push(filter.sort.describe().into());
    let count = super::list_count(q);
    let waiting = q.rows.iter().filter(|r| matches!(r.stand, Some(Stand::Waiting(_)))).count();
    let mut title = vec![Span::styled(" Queue ", t.title), Span::raw(format!("— {} — ", what.join(", ")))];
    if q.offset == 0 && waiting > 0 {
        title.push(Span::styled(format!("{waiting} waiting on you"), t.accent));
        title.push(Span::raw(" — "));
    }
    title.push(Span::raw(format!("{count} ")));
    let block = Block::default().borders(Borders::ALL).title(Line::from(title));
    let viewport = area.height.saturating_sub(3) as usize;
    let first = first_visible(q, viewport);
    let cols = columns(area.width.saturating_sub(2), !s.read_only);
    let rows: Vec<Row> = q
        .rows
        .iter()
        .enumerate()
        .skip(first.saturating_sub(q.offset))
        .take(viewport)
        .map(|(i, r)| {
            let selected = q.offset + i == q.selected && s.alert_selected.is_none();
            let cells: Vec<Cell> = cols.iter().map(|c| cell(s, r, *c)).collect();
            let row = Row::new(cells);
            if selected { row.style(t.selected) } else { row }
        })
        .collect();
    let header = Row::new(cols.iter().map(|c| c.name())).style(t.muted);
    let widths: Vec<Constraint> = cols.iter().map(|c| c.constraint()).collect();
    let empty = rows.is_empty();
    f.render_widget(Table::new(rows, widths).header(header).block(block).column_spacing(1), area);
    if empty {
        super::no_rows(f, s, q, area, "nothing here — press f to change the filter, 2 for history");
    }
    if let Some(total) = q.total
        && total as usize > viewport
        && !empty
    {
        let mut sb = ScrollbarState::new(total as usize).position(q.selected);
        f.render_stateful_widget(
            Scrollbar::new(ScrollbarOrientation::VerticalRight).style(Style::default()),
            area.inner(ratatui::layout::Margin { vertical: 1, horizontal: 0 }),
            &mut sb,
        );
    }
}

/// Observed rollbacks listed at once above the queue (more scroll with the selection).
const ALERT_LINES: usize = 4;

/// Rows the observed rollbacks take above the queue (borders included; 0 without any).
pub(crate) fn alerts_height(s: &AppState) -> u16 {
    if s.alerts.is_empty() { 0 } else { s.alerts.len().min(ALERT_LINES) as u16 + 2 }
}

/// The observed rollbacks no request cleared: one line each, the selected one highlighted.
fn draw_alerts(f: &mut Frame<'_>, s: &AppState, area: Rect) {
    let t = &s.theme;
    let n = s.alerts.len();
    let title = Line::from(vec![
        Span::styled(
            format!(" ⚠ {n} rollback{} ran without a cleared request ", if n == 1 { "" } else { "s" }),
            t.danger,
        ),
        Span::raw(if s.alert_selected.is_some() {
            "— f files the post-hoc request, Enter shows it "
        } else {
            "— ↑ to select "
        }),
    ]);
    let block = Block::default().borders(Borders::ALL).border_style(t.danger).title(title);
    let first = s.alert_selected.map_or(0, |i| i.saturating_sub(ALERT_LINES - 1));
    let width = area.width.saturating_sub(2) as usize;
    let lines: Vec<Line> = s
        .alerts
        .iter()
        .enumerate()
        .skip(first)
        .take(ALERT_LINES)
        .map(|(i, a)| {
            let detail = match &a.request {
                Some((id, why)) => format!("request {}: {why}", id.short(8)),
                None => "no request".to_string(),
            };
            let text = format!(
                "{:<12} {} {}/{} {} → {} ({} {}) — {detail}",
                a.finding(),
                a.at,
                a.env,
                a.component,
                a.from.as_deref().unwrap_or("?"),
                a.to,
                a.source,
                a.revision
            );
            let text = crate::text::truncate(&text, width).into_owned();
            let style = if s.alert_selected == Some(i) { t.selected } else { t.warn };
            Line::styled(text, style)
        })
        .collect();
    f.render_widget(ratatui::widgets::Paragraph::new(lines).block(block), area);
}

/// A column of the queue, in the order they are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Col {
    Id,
    Risk,
    Status,
    You,
    Env,
    Flag,
    Appr,
    Age,
    Due,
    Title,
}

impl Col {
    fn name(self) -> &'static str {
        match self {
            Col::Id => "ID",
            Col::Risk => "RISK",
            Col::Status => "STATUS",
            Col::You => "YOU",
            Col::Env => "ENV",
            Col::Flag => "FLAG",
            Col::Appr => "APPR",
            Col::Age => "AGE",
            Col::Due => "DUE",
            Col::Title => "TITLE",
        }
    }

    fn width(self) -> u16 {
        match self {
            Col::Id => 8,
            Col::Risk | Col::Flag | Col::Appr | Col::Age => 4,
            Col::Status | Col::Env => 10,
            Col::You => 12,
            Col::Due => 7,
            Col::Title => TITLE_AT_LEAST,
        }
    }

    fn constraint(self) -> Constraint {
        match self {
            Col::Title => Constraint::Min(TITLE_AT_LEAST),
            c => Constraint::Length(c.width()),
        }
    }
}

/// The title keeps at least this many columns: the others give way first.
const TITLE_AT_LEAST: u16 = 30;

/// The columns that fit in `width`: the title last to go, then the status, what is waiting on you, the
/// id, the risk and the approvals; the age, the flag count, the environment and the due date give way
/// first (in that order). `you` adds the column that says what waits on the signed-in key.
fn columns(width: u16, you: bool) -> Vec<Col> {
    use Col::*;
    let mut cols: Vec<Col> =
        [Id, Risk, Status, You, Env, Flag, Appr, Age, Due, Title].into_iter().filter(|c| you || *c != You).collect();
    let need = |cols: &[Col]| cols.iter().map(|c| c.width() + 1).sum::<u16>();
    for drop in [Age, Flag, Env, Due, Appr, Risk, Id] {
        if need(&cols) <= width {
            break;
        }
        cols.retain(|c| *c != drop);
    }
    cols
}

fn cell<'a>(s: &AppState, r: &'a QueueItem, c: Col) -> Cell<'a> {
    let t = &s.theme;
    match c {
        Col::Id => Cell::from(r.id.short(8)),
        Col::Risk => {
            let (badge, style) = t.risk_badge(&r.tier);
            Cell::from(Span::styled(badge, style))
        }
        Col::Status => {
            use crate::audit::projection::Status;
            let style = match Status::parse(&r.status) {
                _ if r.status == crate::tui::model::LAPSED => t.danger,
                Some(Status::Emergency | Status::ReviewDue | Status::Rejected | Status::Failed) => t.danger,
                Some(Status::Approved) => t.ok,
                _ => t.base,
            };
            Cell::from(Span::styled(r.status.clone(), style))
        }
        Col::You => Cell::from(match r.stand {
            Some(Stand::Waiting(turn)) => Span::styled(format!("▶ {}", turn.verb()), t.accent),
            Some(Stand::Approved) => Span::styled("✓ approved", t.ok),
            Some(Stand::Rejected) => Span::styled("✗ rejected", t.muted),
            Some(Stand::Stale) => Span::styled("stale", t.warn),
            None => Span::raw(""),
        }),
        Col::Env => Cell::from(r.env.clone()),
        Col::Flag => {
            Cell::from(if r.flags > 0 { Span::styled(format!("⚑{}", r.flags), t.warn) } else { Span::raw("") })
        }
        Col::Appr => Cell::from(format!("{}/{}", r.have, r.need)),
        Col::Age => Cell::from(r.age.clone()),
        Col::Due => Cell::from(if r.overdue {
            Span::styled("OVERDUE", t.danger)
        } else if r.due.is_some() {
            Span::styled("due", t.warn)
        } else {
            Span::raw("")
        }),
        Col::Title => {
            let title = if r.suspicious { format!("⚠ {}", r.title) } else { r.title.clone() };
            match s.queue_filter.text.as_deref() {
                Some(m) => Cell::from(Line::from(super::highlighted(&title, m, t.accent))),
                None => Cell::from(title),
            }
        }
    }
}
