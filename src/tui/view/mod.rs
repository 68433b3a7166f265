//! Drawing: a pure function of the state. The frame is a title bar, an optional banner (a red one on
//! every screen when verification failed), the screen, toasts, and a hint bar or input line; modals
//! draw on top. Layout helpers are shared with `update` so mouse clicks hit what was drawn.

mod chrome;
mod dashboard;
mod detail;
mod dialog;
mod history;
mod integrity;
mod queue;

use super::state::{AppState, Modal, Paged, Screen, Tab};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};

/// The main areas of the frame.
pub(crate) struct Areas {
    pub title: Rect,
    pub banner: Option<Rect>,
    pub body: Rect,
    pub status: Rect,
}

fn banner_lines(s: &AppState) -> u16 {
    u16::from(s.tampered() || s.banner.is_some())
}

pub(crate) fn areas(s: &AppState, area: Rect) -> Areas {
    let b = banner_lines(s);
    let [title, banner, body, status] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(b), Constraint::Min(1), Constraint::Length(1)])
            .areas(area);
    Areas { title, banner: (b > 0).then_some(banner), body, status }
}

fn full(s: &AppState) -> Rect {
    Rect::new(0, 0, s.size.0, s.size.1)
}

/// Rows a list shows (the body minus its border and header).
pub fn list_rows(s: &AppState) -> usize {
    areas(s, full(s)).body.height.saturating_sub(3 + list_top(s)).max(1) as usize
}

/// Rows above a list inside the body: the observed rollbacks drawn above the queue.
fn list_top(s: &AppState) -> u16 {
    if s.screen == Screen::Queue { queue::alerts_height(s) } else { 0 }
}

/// The first absolute row drawn for a list, keeping the selection in view.
pub(crate) fn first_visible<T>(list: &Paged<T>, viewport: usize) -> usize {
    let end = list.offset + list.rows.len();
    let top = list.selected.saturating_sub(viewport / 2);
    top.min(end.saturating_sub(viewport)).max(list.offset)
}

/// A list's count in its title: "3 of 120", "…" while it is counted, and, when its rows could not be read,
/// that none were (the count may come from another part of the file than the rows: a damaged page).
pub(crate) fn list_count<T>(list: &Paged<T>) -> String {
    match (list.total, list.rows.is_empty() && list.failed.is_some()) {
        (Some(n), true) => format!("{n} counted, none readable"),
        (None, true) => "none readable".into(),
        (Some(n), false) => format!("{} of {n}", if n == 0 { 0 } else { list.selected + 1 }),
        (None, false) => "…".into(),
    }
}

/// A read that failed, in place of what it would have shown: `what` and why in the danger style, then what
/// to do about it.
pub(super) fn problem(s: &AppState, what: &str, p: &super::model::Problem) -> Vec<ratatui::text::Line<'static>> {
    use ratatui::text::Line;
    let mut lines = vec![Line::styled(format!("{what}: {}", p.text), s.theme.danger)];
    lines.extend(p.hint.map(|h| Line::styled(h, s.theme.muted)));
    lines
}

/// Drawn inside a list's border when it has no rows: why they could not be read and what to do (over
/// "loading…", which a failure ends), "loading…", or `empty`.
pub(super) fn no_rows<T>(f: &mut Frame<'_>, s: &AppState, list: &Paged<T>, area: Rect, empty: &str) {
    use ratatui::text::Line;
    let t = &s.theme;
    let lines = match &list.failed {
        Some(p) => problem(s, "could not read this list", p),
        None if list.loading => vec![Line::styled("loading…", t.muted)],
        None => vec![Line::styled(empty.to_string(), t.muted)],
    };
    let inner = Rect::new(area.x + 2, area.y + 2, area.width.saturating_sub(4), area.height.saturating_sub(3));
    f.render_widget(ratatui::widgets::Paragraph::new(lines).wrap(ratatui::widgets::Wrap { trim: true }), inner);
}

/// Which visible list row a click at screen row `y` hits.
pub(crate) fn row_at(s: &AppState, y: u16) -> Option<usize> {
    let body = areas(s, full(s)).body;
    let first = body.y + list_top(s) + 2; // (the observed rollbacks,) border + header
    (y >= first && y < body.y + body.height.saturating_sub(1)).then(|| (y - first) as usize)
}

/// Which detail tab a click hits.
/// The screen whose name is at column `x` of the title bar (row 0).
pub(crate) fn screen_at(s: &AppState, x: u16, y: u16) -> Option<Screen> {
    if y != 0 {
        return None;
    }
    chrome::screen_at(s, s.size.0, x)
}

pub(crate) fn tab_at(s: &AppState, x: u16, y: u16) -> Option<Tab> {
    if s.screen != Screen::Detail {
        return None;
    }
    let body = areas(s, full(s)).body;
    if y != body.y + 2 {
        return None;
    }
    let mut left = body.x + 1;
    for t in Tab::ALL {
        let w = t.title().len() as u16 + 3;
        if x >= left && x < left + w {
            return Some(t);
        }
        left += w;
    }
    None
}

/// Columns from which the queue shows the selected request beside the list.
pub const SPLIT_AT: u16 = 160;

/// Whether the queue is drawn split: the list on the left, the selected request on the right.
pub fn split(s: &AppState) -> bool {
    s.screen == Screen::Queue && s.size.0 >= SPLIT_AT
}

/// Draws the whole console.
pub fn draw(f: &mut Frame<'_>, s: &AppState) {
    let a = areas(s, f.area());
    chrome::title(f, s, a.title);
    if let Some(b) = a.banner {
        chrome::banner(f, s, b);
    }
    match s.screen {
        Screen::Queue if split(s) => {
            let [list, request] =
                Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(a.body);
            queue::draw(f, s, list);
            detail::draw(f, s, request);
        }
        Screen::Queue => queue::draw(f, s, a.body),
        Screen::Detail => detail::draw(f, s, a.body),
        Screen::History => history::draw(f, s, a.body),
        Screen::Dashboard => dashboard::draw(f, s, a.body),
        Screen::Integrity => integrity::draw(f, s, a.body),
    }
    chrome::status(f, s, a.status);
    chrome::toasts(f, s, a.body);
    for m in &s.modals {
        match m {
            Modal::Help { scroll, query, typing } => dialog::help(f, s, *scroll, query, *typing),
            Modal::Viewer { title, lines, scroll, pager, find } => {
                dialog::viewer(f, s, title, lines, *scroll, pager.as_deref(), find)
            }
            Modal::Action(d) => dialog::action(f, s, d),
            Modal::Picker { title, options, selected, .. } => dialog::picker(f, s, title, options, *selected),
            Modal::Input { prompt, value, .. } => dialog::input(f, s, prompt, value),
        }
    }
}

/// `text` as spans with every occurrence of `needle` (any ASCII case, trimmed) in `style`.
pub(super) fn highlighted(text: &str, needle: &str, style: ratatui::style::Style) -> Vec<ratatui::text::Span<'static>> {
    highlighted_any(text, &[needle.trim().to_string()], style)
}

/// `text` as spans with every occurrence of any of `words` (any ASCII case) in `style`.
pub(super) fn highlighted_any(
    text: &str,
    words: &[String],
    style: ratatui::style::Style,
) -> Vec<ratatui::text::Span<'static>> {
    use ratatui::text::Span;
    let lower = text.to_ascii_lowercase();
    let words: Vec<String> = words.iter().map(|w| w.to_ascii_lowercase()).filter(|w| !w.is_empty()).collect();
    let mut out = Vec::new();
    let mut at = 0;
    // The earliest (then longest) match from `at` each time; ASCII lowercasing keeps byte offsets.
    while let Some((start, len)) = words
        .iter()
        .filter_map(|w| lower[at..].find(w.as_str()).map(|i| (at + i, w.len())))
        .min_by_key(|(i, l)| (*i, usize::MAX - l))
    {
        if start > at {
            out.push(Span::raw(text[at..start].to_string()));
        }
        out.push(Span::styled(text[start..start + len].to_string(), style));
        at = start + len;
    }
    if at < text.len() || out.is_empty() {
        out.push(Span::raw(text[at..].to_string()));
    }
    out
}

#[cfg(test)]
mod highlight_tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Highlighting never changes the text: the spans put back together are the text, and every
        /// highlighted span is one of the words (any ASCII case).
        #[test]
        fn highlighting_keeps_the_text(text in "\\PC{0,60}", words in proptest::collection::vec("[a-zA-Zé0-9]{0,4}", 0..3)) {
            let style = ratatui::style::Style::default().fg(ratatui::style::Color::Yellow);
            let spans = highlighted_any(&text, &words, style);
            prop_assert_eq!(spans.iter().map(|s| s.content.as_ref()).collect::<String>(), text.clone());
            for s in spans.iter().filter(|s| s.style == style) {
                prop_assert!(words.iter().any(|w| !w.is_empty() && w.eq_ignore_ascii_case(&s.content)), "{:?}", s.content);
            }
            if let Some(w) = words.first() {
                let one = highlighted(&text, w, style);
                prop_assert_eq!(one.iter().map(|s| s.content.as_ref()).collect::<String>(), text);
            }
        }
    }
}
