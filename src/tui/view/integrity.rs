//! Integrity: the last verification's verdicts, origins, checkpoints and witnesses.

use super::super::state::AppState;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

pub(super) fn draw(f: &mut Frame<'_>, s: &AppState, area: Rect) {
    let t = &s.theme;
    let i = &s.integrity;
    let mut lines = Vec::new();
    if !i.checked {
        lines.push(Line::styled("verifying every entry, signature, leaf and checkpoint…", t.muted));
    } else if i.intact {
        lines.push(Line::styled(format!("integrity: OK (verified in {} ms)", i.elapsed_ms), t.ok));
    } else if i.not_read {
        lines.push(Line::styled(
            format!(
                "integrity: NOT VERIFIED — the ledger could not be read: {}",
                i.failure.clone().unwrap_or_default()
            ),
            t.warn,
        ));
    } else {
        lines.push(Line::styled(format!("integrity: FAILED — {}", i.failure.clone().unwrap_or_default()), t.danger));
    }
    for l in &i.security {
        lines.push(Line::styled(l.clone(), t.danger));
    }
    if !i.security.is_empty() {
        lines.push(Line::styled(
            "both signed checkpoints are kept as evidence; investigate before trusting this origin again",
            t.danger,
        ));
    }
    lines.push(Line::raw(""));
    for l in &i.lines {
        lines.push(Line::raw(l.clone()));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("r verifies again", t.muted));
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::default().borders(Borders::ALL).title(Line::styled(" Integrity ", t.title))),
        area,
    );
}
