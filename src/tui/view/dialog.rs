//! Modals: help (generated from the keymap), a scrollable viewer, one-line input, and the signing dialog
//! that shows exactly what will be signed before asking for a comment and the (masked) passphrase.

use super::super::keymap::Action;
use super::super::state::{ActionDialog, AppState, Pager, Step};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(area.x + (area.width - w) / 2, area.y + (area.height - h) / 2, w, h)
}

pub(super) fn help(f: &mut Frame<'_>, s: &AppState, scroll: u16) {
    let t = &s.theme;
    let area = centered(f.area(), 76, f.area().height.saturating_sub(2));
    let mut lines = vec![Line::styled("keys (change them in keymap.toml in the config directory)", t.muted)];
    for (keys, what) in s.keymap.bindings() {
        lines.push(Line::from(vec![Span::styled(format!("{keys:<18}"), t.title), Span::raw(what)]));
    }
    f.render_widget(Clear, area);
    f.render_widget(
        Paragraph::new(lines)
            .scroll((scroll, 0))
            .block(Block::default().borders(Borders::ALL).title(" Help — Esc closes ")),
        area,
    );
}

/// Where an evidence viewer is, for its bottom border: "page 3 of 57 · bytes 131072–196607 of 3735552".
pub(super) fn position(s: &AppState, p: &Pager) -> String {
    let k = |a: Action| s.keymap.key_of(a);
    let keys = format!(
        "{}/{} pages, {}/{} ends",
        k(Action::PrevPage),
        k(Action::NextPage),
        k(Action::FirstPage),
        k(Action::LastPage)
    );
    if p.pages == 0 {
        return "summary · no stored bytes to page through".to_string();
    }
    match (p.page, p.shown) {
        (None, _) => format!(
            "summary · the file: {} bytes in {} page{} · {keys}",
            p.size,
            p.pages,
            if p.pages == 1 { "" } else { "s" }
        ),
        (Some(n), shown) if shown != Some(n) => format!("page {} of {} · loading…", n + 1, p.pages),
        (Some(n), _) if p.len == 0 => format!("page {} of {} · empty file · {keys}", n + 1, p.pages),
        (Some(n), _) => format!(
            "page {} of {} · bytes {}–{} of {} · {keys}",
            n + 1,
            p.pages,
            p.offset,
            p.offset + p.len - 1,
            p.size
        ),
    }
}

/// A scrollable text (an entry, an evidence file), wrapped to the width; an evidence viewer says on its
/// bottom border where in the file it is.
pub(super) fn viewer(
    f: &mut Frame<'_>,
    s: &AppState,
    title: &str,
    lines: &[String],
    scroll: u16,
    pager: Option<&Pager>,
) {
    let t = &s.theme;
    let area = centered(f.area(), f.area().width.saturating_sub(4), f.area().height.saturating_sub(2));
    let body: Vec<Line> = lines.iter().map(|l| Line::raw(l.as_str())).collect();
    let mut block = Block::default()
        .borders(Borders::ALL)
        .title(format!(" {title} — {} lines — j/k scroll, Esc closes ", lines.len()))
        .style(t.base);
    if let Some(p) = pager {
        block = block.title_bottom(Line::styled(format!(" {} ", position(s, p)), t.accent));
    }
    f.render_widget(Clear, area);
    f.render_widget(Paragraph::new(body).wrap(Wrap { trim: false }).scroll((scroll, 0)).block(block), area);
}

pub(super) fn input(f: &mut Frame<'_>, s: &AppState, prompt: &str, value: &str) {
    let area = centered(f.area(), 60, 3);
    f.render_widget(Clear, area);
    f.render_widget(
        Paragraph::new(format!("{value}█"))
            .block(Block::default().borders(Borders::ALL).title(format!(" {prompt} ")))
            .style(s.theme.base),
        area,
    );
}

pub(super) fn action(f: &mut Frame<'_>, s: &AppState, d: &ActionDialog) {
    let t = &s.theme;
    let area = centered(f.area(), 90, 20);
    let mut lines: Vec<Line> = Vec::new();
    let step = match d.step {
        Step::Review => "1/3 review what will be signed — Enter continues, Esc cancels",
        Step::Fill => "2/3 fill in — Tab moves, ←/→ choose, Enter continues, Esc goes back",
        Step::Passphrase => "3/3 passphrase of your key — Enter signs, Esc goes back",
        Step::Signing => "signing…",
    };
    lines.push(Line::styled(step, t.muted));
    for p in &d.preview {
        lines.push(Line::raw(p.clone()));
    }
    if d.step != Step::Review {
        lines.push(Line::raw(""));
        for (i, fl) in d.fields.iter().enumerate() {
            let focused = d.step == Step::Fill && i == d.focus;
            let value = if fl.choices.is_empty() { fl.value.clone() } else { format!("◀ {} ▶", fl.value) };
            let cursor = if focused && fl.choices.is_empty() { "█" } else { "" };
            lines.push(Line::from(vec![
                Span::styled(format!("{:<12}", fl.label), if focused { t.selected } else { t.title }),
                Span::raw(format!(" {value}{cursor}")),
            ]));
        }
    }
    if matches!(d.step, Step::Passphrase | Step::Signing) {
        let masked = "•".repeat(d.passphrase.chars().count());
        let cursor = if d.step == Step::Passphrase { "█" } else { "" };
        lines.push(Line::from(vec![
            Span::styled(format!("{:<12}", "passphrase"), t.selected),
            Span::raw(format!(" {masked}{cursor}")),
        ]));
    }
    if let Some(e) = &d.error {
        lines.push(Line::raw(""));
        lines.push(Line::styled(e.clone(), t.danger));
    }
    f.render_widget(Clear, area);
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::default().borders(Borders::ALL).title(Span::styled(format!(" {} ", d.title), t.title))),
        area,
    );
}
