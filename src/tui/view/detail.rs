//! A request in detail, in tabs: record, evidence, flags, policy checklist, timeline, lineage.

use super::super::state::{AppState, Tab};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Tabs, Wrap};

pub(super) fn draw(f: &mut Frame<'_>, s: &AppState, area: Rect) {
    let t = &s.theme;
    let Some(d) = &s.detail else { return };
    let block_title = match &d.data {
        Some(x) => {
            let (badge, style) = t.risk_badge(&x.tier);
            Line::from(vec![
                Span::styled(" Request ", t.title),
                Span::raw(format!("{} ", d.id.short(12))),
                Span::styled(badge, style),
                Span::raw(format!(
                    " {} — {} — risk {} — gate {} ",
                    x.status,
                    crate::policy::evaluate::approvals_count(x.approvals.0 as u64, x.approvals.1.into()),
                    x.score,
                    if x.gate { "passes" } else { "blocked" }
                )),
            ])
        }
        None => Line::from(format!(" Request {} — loading… ", d.id.short(12))),
    };
    let block = Block::default().borders(Borders::ALL).title(block_title);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let [head, tabs_area, content] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(1), Constraint::Min(1)]).areas(inner);
    let Some(x) = &d.data else { return };
    let title = if x.suspicious {
        format!("⚠ {} (contains control or invisible characters, shown escaped)", x.title)
    } else {
        x.title.clone()
    };
    f.render_widget(Paragraph::new(Span::styled(title, t.title)), head);
    let titles: Vec<Line> = Tab::ALL
        .iter()
        .map(|tab| {
            let n = match tab {
                Tab::Evidence => format!(" ({})", x.evidence.len()),
                Tab::Flags => format!(" ({})", x.flags.len()),
                _ => String::new(),
            };
            Line::from(format!("{}{n}", tab.title()))
        })
        .collect();
    f.render_widget(Tabs::new(titles).select(d.tab.index()).highlight_style(t.selected).style(t.muted), tabs_area);
    let mut lines: Vec<Line> = Vec::new();
    match d.tab {
        Tab::Record => {
            for (k, v) in &x.record {
                lines.push(Line::from(vec![Span::styled(format!("{k:<16}"), t.muted), Span::raw(v.clone())]));
            }
            if !x.obligations.is_empty() {
                lines.push(Line::raw(""));
                for o in &x.obligations {
                    let style = if o.overdue { t.danger } else { t.warn };
                    lines.push(Line::styled(format!("obligation: {}", o.text), style));
                }
            }
        }
        Tab::Evidence => {
            if x.evidence.is_empty() {
                lines.push(Line::styled("no evidence attached", t.muted));
            }
            let needle = d.evidence_filter.as_ref().map(|(q, _)| q.as_str()).unwrap_or("");
            let shown = d.evidence_shown();
            if let Some((q, _)) = &d.evidence_filter {
                lines.push(Line::styled(
                    format!("/{}: {} of {} ({})", crate::text::safe(q), shown.len(), x.evidence.len(), "Esc clears"),
                    t.accent,
                ));
            }
            for (i, (_, e)) in shown.iter().enumerate() {
                let style = if i == d.evidence_selected { t.selected } else { t.base };
                let head = format!("{}  {:<10} {}", e.id.short(10), e.kind, e.name);
                lines.push(Line::from(super::highlighted(&head, needle, t.accent)).style(style));
                lines.push(Line::styled(format!("            {}", e.summary), t.muted));
                if let Some(p) = &e.purged {
                    lines.push(Line::styled(format!("            {p}"), t.warn));
                }
            }
            lines.push(Line::styled("Enter opens the selected file", t.muted));
        }
        Tab::Flags => {
            if x.flags.is_empty() {
                lines.push(Line::styled("no security flags", t.ok));
            }
            for fl in &x.flags {
                lines.push(Line::from(vec![
                    Span::styled(format!("{:<9}", fl.severity.to_uppercase()), t.severity(&fl.severity)),
                    Span::styled(format!("{:<25}", fl.id), t.title),
                    Span::raw(fl.location.clone()),
                ]));
                lines.push(Line::raw(format!("         {}", fl.explanation)));
            }
            lines.push(Line::raw(""));
            lines.push(Line::styled(
                format!("risk {} of 100 ({}): {}", x.score, x.tier, x.risk_factors.join(", ")),
                t.muted,
            ));
        }
        Tab::Policy => {
            for c in &x.checklist {
                let (mark, style) = match (c.met, c.waived) {
                    (true, false) => ("[x]", t.ok),
                    (true, true) => ("[~]", t.warn),
                    (false, _) => ("[ ]", t.danger),
                };
                lines.push(Line::from(vec![
                    Span::styled(format!("{mark} {:<15}", c.id), style),
                    Span::raw(c.detail.clone()),
                ]));
            }
            if !x.decisions.is_empty() {
                lines.push(Line::raw(""));
                lines.push(Line::styled("decisions", t.title));
                for dd in &x.decisions {
                    lines.push(Line::raw(format!("  {dd}")));
                }
            }
        }
        Tab::Timeline => {
            for e in &x.timeline {
                lines.push(Line::from(vec![
                    Span::styled(format!("#{:<7}{}  ", e.index, e.ts), t.muted),
                    Span::styled(format!("{:<20}", e.kind), t.title),
                    Span::raw(e.actor.clone()),
                ]));
                if let Some(n) = &e.note {
                    lines.push(Line::styled(format!("         {n}"), t.danger));
                }
            }
        }
        Tab::Lineage => {
            if x.lineage.is_empty() {
                lines.push(Line::styled("no lineage recorded", t.muted));
            }
            for (k, v) in &x.lineage {
                lines.push(Line::from(vec![Span::styled(format!("{k:<16}"), t.muted), Span::raw(v.clone())]));
            }
        }
    }
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).scroll((d.scroll, 0)), content);
}
