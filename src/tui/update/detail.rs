//! The request detail (its tabs, scrolling, the actions it offers) and the text viewers over it: the
//! evidence viewer that pages through a stored file, an entry's text, and the help.

use super::super::keymap::Action;
use super::super::model::Detail;
use super::super::msg::Cmd;
use super::super::state::*;
use super::dialog::start_action;
use crate::ledger::EntryId;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

pub(super) fn open_detail(s: &mut AppState, id: EntryId) -> Vec<Cmd> {
    let generation = s.generation();
    let keep = s.detail.as_ref().filter(|d| d.id == id).map(|d| (d.tab, d.scroll, d.evidence_selected));
    s.detail = Some(DetailState {
        id,
        generation,
        data: None,
        tab: keep.map_or(Tab::Record, |k| k.0),
        scroll: keep.map_or(0, |k| k.1),
        evidence_selected: keep.map_or(0, |k| k.2),
        evidence_filter: None,
    });
    if s.screen != Screen::Detail {
        s.previous = s.screen;
    }
    s.screen = Screen::Detail;
    vec![Cmd::Detail { generation, id }]
}

/// Loads request `id` into the detail beside the queue (a split queue), without leaving the queue.
pub(super) fn preview(s: &mut AppState, id: EntryId) -> Vec<Cmd> {
    let generation = s.generation();
    s.detail = Some(DetailState {
        id,
        generation,
        data: None,
        tab: Tab::Record,
        scroll: 0,
        evidence_selected: 0,
        evidence_filter: None,
    });
    vec![Cmd::Detail { generation, id }]
}

/// The detail asked for last arrived; an older one is dropped.
pub(super) fn arrived(s: &mut AppState, generation: u64, detail: Detail) -> Vec<Cmd> {
    if let Some(d) = &mut s.detail
        && d.generation == generation
    {
        d.evidence_selected = d.evidence_selected.min(detail.evidence.len().saturating_sub(1));
        d.data = Some(detail);
    }
    vec![]
}

pub(super) fn detail_action(s: &mut AppState, a: Action) -> Vec<Cmd> {
    let Some(d) = &mut s.detail else { return vec![] };
    let tabs = Tab::ALL;
    match a {
        Action::Back => {
            s.screen = s.previous;
            return vec![];
        }
        // `]` and `[` page an evidence file in its viewer; on a request they move between its tabs.
        Action::NextTab | Action::NextPage => {
            d.tab = tabs[(d.tab.index() + 1) % tabs.len()];
            d.scroll = 0;
        }
        Action::PrevTab | Action::PrevPage => {
            d.tab = tabs[(d.tab.index() + tabs.len() - 1) % tabs.len()];
            d.scroll = 0;
        }
        Action::Down if d.tab == Tab::Evidence => {
            let n = d.evidence_shown().len();
            d.evidence_selected = (d.evidence_selected + 1).min(n.saturating_sub(1));
        }
        Action::Up if d.tab == Tab::Evidence => d.evidence_selected = d.evidence_selected.saturating_sub(1),
        Action::Down => d.scroll = d.scroll.saturating_add(1),
        Action::Up => d.scroll = d.scroll.saturating_sub(1),
        Action::PageDown => d.scroll = d.scroll.saturating_add(10),
        Action::PageUp => d.scroll = d.scroll.saturating_sub(10),
        Action::Top => d.scroll = 0,
        Action::Open if d.tab == Tab::Evidence => {
            if let Some((_, e)) = d.evidence_shown().get(d.evidence_selected) {
                return vec![Cmd::Evidence { id: e.id }];
            }
        }
        Action::Refresh => {
            let id = d.id;
            return open_detail(s, id);
        }
        Action::Approve => return start_action(s, ActionKind::Approve),
        Action::Reject => return start_action(s, ActionKind::Reject),
        Action::Emergency => return start_action(s, ActionKind::Emergency),
        Action::Note => return start_action(s, ActionKind::Note),
        Action::Attach => return start_action(s, ActionKind::Attach),
        Action::Execute => return start_action(s, ActionKind::Execute),
        Action::Validate => return start_action(s, ActionKind::Validate),
        Action::Review => return start_action(s, ActionKind::Review),
        Action::Close => return start_action(s, ActionKind::Close),
        _ => {}
    }
    vec![]
}

/// A key while the evidence tab's filter is typed (`/`): every key narrows or widens the rows shown;
/// Enter keeps the filter, Esc clears it. Returns false when no filter is being typed.
pub(super) fn evidence_filter_key(s: &mut AppState, k: KeyEvent) -> bool {
    let Some(d) = s.detail.as_mut() else { return false };
    let Some((q, typing)) = d.evidence_filter.as_mut() else { return false };
    if !*typing {
        return false;
    }
    match k.code {
        KeyCode::Esc => d.evidence_filter = None,
        KeyCode::Enter => *typing = false,
        KeyCode::Backspace => {
            q.pop();
        }
        KeyCode::Char('u') if k.modifiers.contains(ratatui::crossterm::event::KeyModifiers::CONTROL) => q.clear(),
        KeyCode::Char(c) if !c.is_control() => q.push(c),
        _ => {}
    }
    d.evidence_selected = 0;
    true
}

/// `/` on the evidence tab starts its filter; `Esc` on the tab with a filter kept clears it.
pub(super) fn evidence_filter_start(s: &mut AppState) {
    if let Some(d) = s.detail.as_mut() {
        d.evidence_filter = Some((String::new(), true));
        d.evidence_selected = 0;
    }
}

/// A page of an evidence file arrived: `(offset, len, size)` of its bytes, and its lines.
pub(super) fn evidence_page(
    s: &mut AppState,
    id: EntryId,
    page: u64,
    (offset, len, size): (u64, u64, u64),
    text: Vec<String>,
) -> Vec<Cmd> {
    // Only the page last asked for, in the viewer that asked: a stale reply is dropped.
    if let Some(Modal::Viewer { lines, scroll, pager: Some(p), .. }) = s.modals.last_mut()
        && p.evidence == id
        && p.page == Some(page)
    {
        *lines = text;
        *scroll = 0;
        p.shown = Some(page);
        (p.offset, p.len, p.size) = (offset, len, size);
    }
    vec![]
}

/// What a page key does in an evidence viewer.
#[derive(Debug, PartialEq, Eq)]
enum Turn {
    /// Nothing to do (already there).
    Stay,
    /// Back to the summary.
    Summary,
    /// Read this page (from 0).
    Load(u64),
}

/// Moves `p` through [summary, page 1, …, page N] for a page key; `Err` says why it cannot.
fn turn_page(p: &mut Pager, a: Action) -> Result<Turn, &'static str> {
    if p.pages == 0 {
        return Err("no stored bytes to page through (a link, purged, or missing)");
    }
    let last = p.pages - 1;
    let target = match (a, p.page) {
        (Action::NextPage, None) => Some(0),
        (Action::NextPage, Some(n)) if n < last => Some(n + 1),
        (Action::NextPage, Some(_)) => return Err("this is the last page"),
        (Action::PrevPage, None) => return Err("this is the summary; the file's pages follow it"),
        (Action::PrevPage, Some(n)) => n.checked_sub(1),
        (Action::LastPage, _) => Some(last),
        _ => None,
    };
    if target == p.page {
        return Ok(Turn::Stay);
    }
    p.page = target;
    Ok(match target {
        None => {
            p.shown = None;
            Turn::Summary
        }
        Some(n) => Turn::Load(n),
    })
}

/// A key in a viewer or the help: scrolling, closing, and the evidence viewer's pages.
pub(super) fn viewer_key(s: &mut AppState, k: KeyEvent) -> Vec<Cmd> {
    let action = s.keymap.action(&k);
    // Enter on a help line runs it, as its key or its `:` command would, on the screen under the help.
    if let (Some(Modal::Help { scroll, query, typing: false }), Some(Action::Open)) = (s.modals.last(), action) {
        let (selected, query) = (*scroll as usize, query.clone());
        let entries = crate::tui::help::entries(s, &query);
        let run = entries.get(selected.min(entries.len().saturating_sub(1))).and_then(|e| e.run);
        s.modals.pop();
        return match run {
            Some(crate::tui::help::Run::Action(a)) => super::global_action(s, a),
            Some(crate::tui::help::Run::Command(c)) => super::run_command(s, c),
            None => vec![],
        };
    }
    let help_lines = match s.modals.last() {
        Some(Modal::Help { query, .. }) => crate::tui::help::entries(s, query).len(),
        _ => 0,
    };
    let Some(top) = s.modals.last_mut() else { return vec![] };
    match top {
        Modal::Viewer { lines, scroll, pager, .. }
            if matches!(action, Some(Action::NextPage | Action::PrevPage | Action::FirstPage | Action::LastPage)) =>
        {
            let Some(p) = pager else { return vec![] };
            match turn_page(p, action.expect("matched")) {
                Ok(Turn::Stay) => vec![],
                Ok(Turn::Summary) => {
                    *lines = p.summary.clone();
                    *scroll = 0;
                    vec![]
                }
                Ok(Turn::Load(page)) => vec![Cmd::EvidencePage { id: p.evidence, page }],
                Err(why) => {
                    s.toast(why, false);
                    vec![]
                }
            }
        }
        Modal::Viewer { lines, scroll, find, .. } if find.typing => {
            use ratatui::crossterm::event::KeyCode;
            match k.code {
                KeyCode::Esc => *find = Find::default(),
                KeyCode::Enter => find.typing = false,
                KeyCode::Backspace => {
                    find.query.pop();
                    find.line = None;
                    seek(lines, scroll, find, s.size, Some(true));
                }
                KeyCode::Char(c) if !c.is_control() => {
                    find.query.push(c);
                    find.line = None;
                    seek(lines, scroll, find, s.size, Some(true));
                }
                _ => {}
            }
            vec![]
        }
        Modal::Viewer { find, .. } if matches!(action, Some(Action::Search)) => {
            *find = Find { typing: true, ..Find::default() };
            vec![]
        }
        Modal::Viewer { lines, scroll, find, .. }
            if !find.query.is_empty() && matches!(k.code, KeyCode::Char('n' | 'N') | KeyCode::Esc) =>
        {
            match k.code {
                KeyCode::Esc => *find = Find::default(),
                c => seek(lines, scroll, find, s.size, Some(c == KeyCode::Char('n'))),
            }
            vec![]
        }
        Modal::Help { query, typing, scroll } if *typing => {
            use ratatui::crossterm::event::KeyCode;
            match k.code {
                KeyCode::Esc => {
                    query.clear();
                    *typing = false;
                }
                KeyCode::Enter => *typing = false,
                KeyCode::Backspace => {
                    query.pop();
                    *scroll = 0;
                }
                KeyCode::Char(c) if !c.is_control() => {
                    query.push(c);
                    *scroll = 0;
                }
                _ => {}
            }
            vec![]
        }
        Modal::Help { typing, .. } if matches!(action, Some(Action::Search)) => {
            *typing = true;
            vec![]
        }
        Modal::Help { scroll, .. } if matches!(action, Some(Action::Down | Action::PageDown | Action::Bottom)) => {
            // In the help, j/k move the selected line (Enter runs it).
            let last = help_lines.saturating_sub(1).min(u16::MAX as usize) as u16;
            *scroll = match action {
                Some(Action::Bottom) => last,
                Some(Action::PageDown) => scroll.saturating_add(10).min(last),
                _ => scroll.saturating_add(1).min(last),
            };
            vec![]
        }
        Modal::Help { scroll, .. } | Modal::Viewer { scroll, .. } => {
            match action {
                Some(Action::Back | Action::Quit | Action::Help) => {
                    s.modals.pop();
                }
                Some(Action::Down) => *scroll = scroll.saturating_add(1),
                Some(Action::Up) => *scroll = scroll.saturating_sub(1),
                Some(Action::PageDown) => *scroll = scroll.saturating_add(10),
                Some(Action::PageUp) => *scroll = scroll.saturating_sub(10),
                Some(Action::Top) => *scroll = 0,
                _ => {}
            }
            vec![]
        }
        _ => vec![],
    }
}

/// Moves a viewer's search to its next match (`forward`), its previous one, or (`None`... and when it has
/// none yet) the first at or after the top of the view, and scrolls so that match's line starts the view.
fn seek(lines: &[String], scroll: &mut u16, find: &mut Find, size: (u16, u16), forward: Option<bool>) {
    let matches = find.matches(lines);
    if matches.is_empty() {
        find.line = None;
        return;
    }
    // The viewer's text is as wide as the screen less its margins (2 + 2) and its border (1 + 1).
    let width = size.0.saturating_sub(6).max(1);
    let row_of = |line: usize| -> usize {
        let before: Vec<Line<'_>> = lines[..line].iter().map(|l| Line::raw(l.as_str())).collect();
        Paragraph::new(before).wrap(Wrap { trim: false }).line_count(width)
    };
    let target = match (find.line, forward) {
        (Some(at), Some(true)) => matches.iter().copied().find(|m| *m > at).unwrap_or(matches[0]),
        (Some(at), Some(false)) => {
            matches.iter().rev().copied().find(|m| *m < at).unwrap_or(matches[matches.len() - 1])
        }
        _ => {
            let top = *scroll as usize;
            matches.iter().copied().find(|m| row_of(*m) >= top).unwrap_or(matches[0])
        }
    };
    find.line = Some(target);
    *scroll = row_of(target).min(u16::MAX as usize) as u16;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The page keys move through [summary, page 1, …, page N] and say why when they cannot.
    #[test]
    fn evidence_pages_turn_from_the_summary_to_the_last_page_and_back() {
        let mut p =
            Pager::new(crate::ledger::Hash([3; 32]), Some(3 * crate::workflow::evidence::PAGE as u64 + 1), vec![]);
        assert_eq!(p.pages, 4);
        assert!(turn_page(&mut p, Action::PrevPage).is_err(), "the summary has nothing before it");
        assert_eq!(turn_page(&mut p, Action::NextPage), Ok(Turn::Load(0)));
        assert_eq!(turn_page(&mut p, Action::LastPage), Ok(Turn::Load(3)));
        assert_eq!(turn_page(&mut p, Action::LastPage), Ok(Turn::Stay));
        assert!(turn_page(&mut p, Action::NextPage).is_err(), "the last page has nothing after it");
        p.page = Some(0);
        assert_eq!(turn_page(&mut p, Action::PrevPage), Ok(Turn::Summary));
        assert_eq!(p.shown, None);
        let mut none = Pager::new(crate::ledger::Hash([3; 32]), None, vec![]);
        assert!(turn_page(&mut none, Action::NextPage).is_err(), "no stored bytes, no pages");
    }
}
