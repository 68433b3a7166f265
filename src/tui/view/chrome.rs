//! The frame around every screen: title bar, banners, hint bar, command line, toasts.

use super::super::keymap::Action;
use super::super::state::{AppState, Screen};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

pub(super) fn title(f: &mut Frame<'_>, s: &AppState, area: Rect) {
    let t = &s.theme;
    let mut spans = vec![Span::styled(" rollcall ", t.title)];
    for (i, (name, screen)) in [
        ("Queue", Screen::Queue),
        ("History", Screen::History),
        ("Dashboard", Screen::Dashboard),
        ("Integrity", Screen::Integrity),
    ]
    .into_iter()
    .enumerate()
    {
        let active = s.screen == screen || (s.screen == Screen::Detail && s.previous == screen);
        let style = if active { t.selected } else { t.muted };
        spans.push(Span::styled(format!(" {}:{name} ", i + 1), style));
    }
    let who = if s.read_only { format!(" {} (read-only) ", s.user) } else { format!(" {} ", s.user) };
    spans.push(Span::styled(who, t.accent));
    // A failure found stays on the bar while a new verification runs.
    let verdict = if s.integrity.checked && !s.integrity.intact {
        if s.integrity.security.is_empty() {
            Span::styled(" ✗ TAMPERED ", t.danger)
        } else {
            Span::styled(" ✗ SECURITY ", t.danger)
        }
    } else if let Some(pct) = s.verifying {
        Span::styled(format!(" verifying {pct:>2} % "), t.muted)
    } else if !s.integrity.checked {
        Span::styled(" verifying… ", t.muted)
    } else if s.integrity.intact {
        Span::styled(" ✓ intact ", t.ok)
    } else if !s.integrity.security.is_empty() {
        Span::styled(" ✗ SECURITY ", t.danger)
    } else {
        Span::styled(" ✗ TAMPERED ", t.danger)
    };
    spans.push(verdict);
    spans.push(Span::styled(format!(" {}", s.ledger_name), t.muted));
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

pub(super) fn banner(f: &mut Frame<'_>, s: &AppState, area: Rect) {
    let t = &s.theme;
    if s.tampered() {
        let why = s.integrity.failure.clone().unwrap_or_default();
        f.render_widget(
            Paragraph::new(format!(" INTEGRITY FAILURE — the ledger does not verify: {why}")).style(t.banner),
            area,
        );
    } else if let Some(b) = &s.banner {
        f.render_widget(Paragraph::new(format!(" {b}")).style(t.accent), area);
    }
}

fn hint(s: &AppState, a: Action, label: &str) -> String {
    format!("{} {label}", s.keymap.key_of(a))
}

pub(super) fn status(f: &mut Frame<'_>, s: &AppState, area: Rect) {
    let t = &s.theme;
    if let Some(c) = &s.command {
        f.render_widget(Paragraph::new(format!(":{c}█")).style(t.base), area);
        return;
    }
    if let Some(q) = &s.search_input {
        f.render_widget(Paragraph::new(format!("/{q}█  (Enter search, Esc cancel)")).style(t.base), area);
        return;
    }
    let mut hints = vec![hint(s, Action::Help, "help"), hint(s, Action::Command, "cmd")];
    match s.screen {
        Screen::Queue => {
            hints.extend([
                hint(s, Action::Open, "open"),
                hint(s, Action::FilterStatus, "status"),
                hint(s, Action::FilterEnv, "env"),
                hint(s, Action::FilterRisk, "risk"),
                hint(s, Action::FilterFlagged, "flagged"),
                hint(s, Action::Sort, "sort"),
            ]);
        }
        Screen::Detail => {
            hints.push(hint(s, Action::NextTab, "tab"));
            // Only what this key may do on this request (the policy's answer, loaded with the detail).
            if !s.read_only
                && let Some(can) = s.detail.as_ref().and_then(|d| d.data.as_ref()).map(|d| &d.can)
            {
                let offered = [
                    (Action::Approve, "approve", &can.approve),
                    (Action::Reject, "reject", &can.reject),
                    (Action::Execute, "execute", &can.execute),
                    (Action::Emergency, "emergency", &can.emergency),
                    (Action::Close, "close", &can.close),
                    (Action::Note, "note", &can.annotate),
                    (Action::Attach, "attach", &can.annotate),
                ];
                hints.extend(offered.iter().filter(|(_, _, ok)| ok.is_ok()).map(|(a, label, _)| hint(s, *a, label)));
            }
            hints.push(hint(s, Action::Back, "back"));
        }
        Screen::History => hints.extend([
            hint(s, Action::Search, "search"),
            hint(s, Action::Open, "inspect"),
            hint(s, Action::OpenRequest, "request"),
            hint(s, Action::FilterStatus, "kind"),
        ]),
        Screen::Dashboard | Screen::Integrity => hints.push(hint(s, Action::Refresh, "refresh")),
    }
    hints.push(hint(s, Action::Quit, "quit"));
    f.render_widget(Paragraph::new(format!(" {}", hints.join("  "))).style(t.muted), area);
}

pub(super) fn toasts(f: &mut Frame<'_>, s: &AppState, body: Rect) {
    let t = &s.theme;
    for (i, toast) in s.toasts.iter().rev().enumerate() {
        let text: String = toast.text.chars().take(body.width.saturating_sub(4) as usize).collect();
        let w = (text.chars().count() as u16 + 2).min(body.width);
        let y = body.y + body.height.saturating_sub(2 + i as u16);
        if y < body.y {
            break;
        }
        let area = Rect::new(body.x + body.width.saturating_sub(w), y, w, 1);
        let style: Style = if toast.error { t.banner } else { t.selected };
        f.render_widget(Clear, area);
        f.render_widget(Paragraph::new(format!(" {text} ")).style(style), area);
    }
}
