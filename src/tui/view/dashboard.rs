//! The dashboard: rollback frequency and the governance figures, computed by the worker.

use super::super::state::AppState;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Bar, BarChart, BarGroup, Block, Borders, Paragraph, Sparkline};

pub(super) fn draw(f: &mut Frame<'_>, s: &AppState, area: Rect) {
    let t = &s.theme;
    let block = Block::default().borders(Borders::ALL).title(Line::styled(" Dashboard ", t.title));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let Some(m) = &s.metrics else {
        let lines = match &s.metrics_failed {
            Some(p) => super::problem(s, "could not compute the figures", p),
            None => vec![Line::styled("computing…", t.muted)],
        };
        f.render_widget(Paragraph::new(lines).wrap(ratatui::widgets::Wrap { trim: true }), inner);
        return;
    };
    let [top, mid, bottom] =
        Layout::vertical([Constraint::Length(4), Constraint::Length(7), Constraint::Min(3)]).areas(inner);
    f.render_widget(
        Sparkline::default()
            .block(Block::default().title(format!("rollback requests per week, last 12 weeks (total {})", m.total)))
            .data(&m.weekly)
            .style(t.accent),
        top,
    );
    let [left, right] = Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(mid);
    let bars = |items: &[(String, u64)]| -> Vec<Bar> {
        items
            .iter()
            .take(6)
            // Names as the requests wrote them (a peer's among them): sanitized before they are cut.
            .map(|(k, v)| {
                Bar::default()
                    .label(Line::from(crate::tui::model::safe(k).chars().take(10).collect::<String>()))
                    .value(*v)
            })
            .collect()
    };
    f.render_widget(
        BarChart::default()
            .block(Block::default().title("by environment"))
            .data(BarGroup::default().bars(&bars(&m.by_env)))
            .bar_width(10)
            .bar_gap(1),
        left,
    );
    f.render_widget(
        BarChart::default()
            .block(Block::default().title("by component"))
            .data(BarGroup::default().bars(&bars(&m.by_component)))
            .bar_width(10)
            .bar_gap(1),
        right,
    );
    let fmt = |v: Option<f64>, unit: &str| v.map(|x| format!("{x:.1} {unit}")).unwrap_or_else(|| "n/a".into());
    let lines = vec![
        Line::raw(format!("median time to first approval: {}", fmt(m.median_approval_minutes, "min"))),
        Line::raw(format!("median time from deploy to rollback request: {}", fmt(m.median_detect_hours, "h"))),
        Line::raw(format!(
            "emergency share: {}%    complete evidence: {}%    flagged: {}",
            crate::report::render::percent(m.emergency_share),
            crate::report::render::percent(m.evidence_complete_share),
            m.flagged
        )),
        Line::styled(
            match m.recorded_before_share {
                Some(share) => format!(
                    "rollbacks observed: {}    recorded before they ran: {}%    unrecorded: {}    unauthorized: {}",
                    m.rollbacks_observed,
                    crate::report::render::percent(share),
                    m.unrecorded,
                    m.unauthorized
                ),
                None => "rollbacks observed: none (rollcall ingest records a CD tool's history)".into(),
            },
            if m.unrecorded + m.unauthorized > 0 { t.danger } else { t.base },
        ),
        Line::styled(
            format!("open obligations: {}    overdue: {}", m.open_obligations, m.overdue_obligations),
            if m.overdue_obligations > 0 { t.danger } else { t.base },
        ),
        Line::raw(format!(
            "by status: {}",
            m.by_status.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ")
        )),
    ];
    f.render_widget(Paragraph::new(lines), bottom);
}
