//! The frame around every screen: title bar, banners, hint bar, command line, toasts.

use super::super::keymap::Action;
use super::super::state::{AppState, Screen};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

pub(super) fn title(f: &mut Frame<'_>, s: &AppState, area: Rect) {
    let (spans, _) = title_layout(s, area.width);
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The screens' names on the title bar, by the columns they take (for mouse clicks).
pub(crate) fn screen_at(s: &AppState, width: u16, column: u16) -> Option<Screen> {
    title_layout(s, width).1.into_iter().find(|(from, to, _)| (*from..*to).contains(&column)).map(|(_, _, sc)| sc)
}

/// The title bar's spans at `width`, and where each screen's name is (first and past-last column).
fn title_layout(s: &AppState, width: u16) -> (Vec<Span<'static>>, Vec<(u16, u16, Screen)>) {
    let t = &s.theme;
    let screens = [
        ("Queue", Screen::Queue),
        ("History", Screen::History),
        ("Dashboard", Screen::Dashboard),
        ("Integrity", Screen::Integrity),
    ];
    let tabs = |short: bool| -> Vec<Span<'static>> {
        screens
            .iter()
            .enumerate()
            .map(|(i, (name, screen))| {
                let active = s.screen == *screen || (s.screen == Screen::Detail && s.previous == *screen);
                let style = if active { t.selected } else { t.muted };
                let label = if short { format!(" {}:{} ", i + 1, &name[..1]) } else { format!(" {}:{name} ", i + 1) };
                Span::styled(label, style)
            })
            .collect()
    };
    let who = if s.read_only { format!(" {} (read-only) ", s.user) } else { format!(" {} ", s.user) };
    let who = Span::styled(who, t.accent);
    // A failure found stays on the bar while a new verification runs.
    let verdict = if s.integrity.checked && !s.integrity.intact {
        if !s.integrity.security.is_empty() {
            Span::styled(" ✗ SECURITY ", t.danger)
        } else if s.integrity.not_read {
            Span::styled(" ✗ NOT VERIFIED ", t.warn)
        } else {
            Span::styled(" ✗ TAMPERED ", t.danger)
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
    let ledger = Span::styled(format!(" {}", s.ledger_name), t.muted);
    let brand = Span::styled(" rollcall ", t.title);
    // The widest layout that fits: the verdict never goes; the ledger's name, then the screens' full
    // names, then the user give way first.
    let layouts: [Vec<Span<'static>>; 5] = [
        [vec![brand.clone()], tabs(false), vec![who.clone(), verdict.clone(), ledger]].concat(),
        [vec![brand.clone()], tabs(false), vec![who.clone(), verdict.clone()]].concat(),
        [vec![brand.clone()], tabs(true), vec![who.clone(), verdict.clone()]].concat(),
        [tabs(true), vec![verdict.clone()]].concat(),
        vec![verdict],
    ];
    let width = usize::from(width);
    let fits = |spans: &[Span<'_>]| spans.iter().map(Span::width).sum::<usize>() <= width;
    let chosen = layouts.iter().find(|l| fits(l)).unwrap_or(&layouts[4]).clone();
    // Where the screens' names landed: the spans that read " N:…".
    let mut at = 0u16;
    let mut places = Vec::new();
    for sp in &chosen {
        let w = sp.width() as u16;
        let label = |i: usize, name: &str, short: bool| {
            if short { format!(" {}:{} ", i + 1, &name[..1]) } else { format!(" {}:{name} ", i + 1) }
        };
        if let Some((_, sc)) = screens
            .iter()
            .enumerate()
            .find(|(i, (name, _))| sp.content == label(*i, name, false) || sp.content == label(*i, name, true))
            .map(|(_, x)| *x)
        {
            places.push((at, at + w, sc));
        }
        at += w;
    }
    (chosen, places)
}

pub(super) fn banner(f: &mut Frame<'_>, s: &AppState, area: Rect) {
    let t = &s.theme;
    if s.tampered() {
        let why = s.integrity.failure.clone().unwrap_or_default();
        // A file that could not be read is not called tampered with (the equivocations, if any, still are).
        let said = if s.integrity.not_read && s.integrity.security.is_empty() {
            format!(" VERIFICATION STOPPED — the ledger could not be read: {why}")
        } else if !s.integrity.security.is_empty() {
            // Said first: the cause (a fork, a copied entry) is far along a line cut at the screen's edge.
            format!(" INTEGRITY FAILURE (SECURITY) — the ledger does not verify: {why}")
        } else {
            format!(" INTEGRITY FAILURE — the ledger does not verify: {why}")
        };
        f.render_widget(Paragraph::new(said).style(t.banner), area);
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
        // What matches what is typed so far (Tab completes).
        let word = c.split(' ').next().unwrap_or_default();
        let matching = if c.contains(' ') { Vec::new() } else { super::super::update::candidates(word) };
        let list = if matching.is_empty() { String::new() } else { format!("   {}", matching.join(" · ")) };
        f.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(format!(":{}█", crate::text::safe(c)), t.base),
                Span::styled(list, t.muted),
            ])),
            area,
        );
        return;
    }
    if let Some(q) = &s.filter_input {
        let shown = crate::text::safe(q);
        f.render_widget(
            Paragraph::new(format!("/{shown}█  (filters as you type: Enter keeps it, Esc clears it)")).style(t.base),
            area,
        );
        return;
    }
    if let Some((q, true)) =
        s.detail.as_ref().filter(|_| s.screen == Screen::Detail).and_then(|d| d.evidence_filter.as_ref())
    {
        let shown = crate::text::safe(q);
        f.render_widget(
            Paragraph::new(format!("/{shown}█  (filters the evidence as you type: Enter keeps it, Esc clears it)"))
                .style(t.base),
            area,
        );
        return;
    }
    if let Some(q) = &s.search_input {
        f.render_widget(Paragraph::new(format!("/{q}█  (Enter search, Esc cancel)")).style(t.base), area);
        return;
    }
    let hints: Vec<String> =
        crate::tui::help::screen_actions(s).into_iter().map(|(a, label)| hint(s, a, label)).collect();
    f.render_widget(Paragraph::new(format!(" {}", fit_hints(&hints, area.width as usize))).style(t.muted), area);
}

/// The hints that fit in `width` columns, whole, with the last one (quit) always kept: a hint that would
/// be cut is left out (`?` lists them all).
fn fit_hints(hints: &[String], width: usize) -> String {
    use unicode_width::UnicodeWidthStr;
    let Some((last, rest)) = hints.split_last() else { return String::new() };
    let mut used = 1 + last.width();
    let mut kept = Vec::new();
    for h in rest {
        if used + h.width() + 2 > width {
            continue;
        }
        used += h.width() + 2;
        kept.push(h.as_str());
    }
    kept.push(last);
    kept.join("  ")
}

pub(super) fn toasts(f: &mut Frame<'_>, s: &AppState, body: Rect) {
    let t = &s.theme;
    for (i, toast) in s.toasts.iter().rev().enumerate() {
        // Cut and sized by terminal columns (a wide character takes two).
        let (text, used) = crate::text::fit(&toast.text, body.width.saturating_sub(4) as usize);
        let w = (used as u16 + 2).min(body.width);
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
