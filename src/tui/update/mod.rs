//! The update function: `(state, message) -> commands`. Pure: it changes plain data and says what the
//! runtime should do; it never touches the terminal, the disk, the clock or a key (the date and the file
//! system arrive as messages: `Msg::Today`, `Msg::PathChecked`).
//!
//! This module owns the entry points (`init`, `update`, `step`), the dispatch of messages and keys, and the
//! `:` commands. The lists (paging, navigation, filters, the mouse) are in `lists`, the request detail and
//! the evidence viewer in `detail`, the forms and signing dialogs in `dialog`.

mod detail;
mod dialog;
mod lists;

use super::keymap::Action;
use super::model::Reading;
use super::msg::{Cmd, GovernanceView, Msg, TermOp};
use super::state::*;
use super::view;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

pub use dialog::{NEW_REQUEST_FIELDS, start_action, start_new_request, start_report};

/// The commands to run at start.
pub fn init(s: &mut AppState) -> Vec<Cmd> {
    let mut cmds = lists::reload_queue(s);
    cmds.push(Cmd::Verify);
    cmds.push(Cmd::Poll);
    cmds
}

/// What one message did: the commands to run, and whether the screen may now show something else (a
/// tick that expired no toast, a key release or a stale reply do not: the loop skips the redraw).
#[derive(Debug)]
pub struct Update {
    pub cmds: Vec<Cmd>,
    pub redraw: bool,
}

/// Applies one message.
pub fn update(s: &mut AppState, msg: Msg) -> Vec<Cmd> {
    step(s, msg).cmds
}

/// Applies one message and says whether to redraw.
pub fn step(s: &mut AppState, msg: Msg) -> Update {
    let mut redraw = true;
    let cmds = match msg {
        Msg::Key(k) if k.kind == KeyEventKind::Press => key(s, k),
        Msg::Mouse(m) => lists::mouse(s, m),
        Msg::Paste(mut text) => {
            let cmds = paste(s, &text);
            // Wiped once used: it may be a passphrase pasted into the signing dialog.
            zeroize::Zeroize::zeroize(&mut text);
            cmds
        }
        Msg::Edited(result) => dialog::edited(s, result),
        Msg::Resize(w, h) => {
            s.size = (w, h);
            s.viewport = view::list_rows(s);
            vec![]
        }
        Msg::Today(day) => {
            s.today = day;
            vec![]
        }
        Msg::Minute(now) => {
            // Shown at once; then read anew, so that the detail and what waits on the signed-in key follow.
            redraw = lists::lapse(s, now);
            if redraw { vec![Cmd::Reopen] } else { vec![] }
        }
        Msg::PathChecked { input, is_file, completion } => dialog::path_checked(s, &input, is_file, completion),
        Msg::Tick => {
            s.ticks += 1;
            let toasts = s.toasts.len();
            for t in &mut s.toasts {
                t.ttl = t.ttl.saturating_sub(1);
            }
            s.toasts.retain(|t| t.ttl > 0);
            // Nothing drawn moves with the ticks but the toasts.
            redraw = s.toasts.len() != toasts;
            let mut cmds = Vec::new();
            if s.ticks % 4 == 0 {
                cmds.push(Cmd::Poll);
            }
            if s.screen == Screen::Dashboard && s.ticks % METRICS_EVERY == 0 {
                cmds.extend(ask_metrics(s, false));
            }
            cmds
        }
        Msg::Queue { generation, page, rows } if generation == s.queue.generation => lists::queue_page(s, page, rows),
        Msg::FromObserved(alert) => dialog::start_from_observed(s, &alert),
        Msg::Alerts(alerts) => {
            s.alert_selected = s.alert_selected.filter(|i| *i < alerts.len());
            s.alerts = alerts;
            vec![]
        }
        Msg::QueueCount { generation, total } if generation == s.queue.generation => {
            s.queue.total = Some(total);
            vec![]
        }
        Msg::History { generation, page, rows } if generation == s.history.list.generation => {
            lists::history_page(s, page, rows)
        }
        Msg::HistoryCount { generation, total, log, logs } if generation == s.history.list.generation => {
            s.history.list.total = Some(total);
            s.history.log = log;
            s.history.logs = logs;
            vec![]
        }
        Msg::Search { generation, rows } if generation == s.history.search_generation => {
            if let Some((_, r, sel)) = &mut s.history.search {
                *r = rows;
                *sel = 0;
            }
            vec![]
        }
        Msg::Detail { generation, detail } => detail::arrived(s, generation, *detail),
        Msg::Viewer { title, lines, pager } => {
            s.modals.push(Modal::Viewer { title, lines, scroll: 0, pager, find: Find::default() });
            vec![]
        }
        Msg::EvidencePage { id, page, offset, len, size, lines } => {
            detail::evidence_page(s, id, page, (offset, len, size), lines)
        }
        Msg::Metrics(m) => {
            s.metrics = Some(*m);
            s.metrics_asked = None;
            s.metrics_failed = None;
            vec![]
        }
        Msg::Verifying(pct) => {
            redraw = s.verifying != Some(pct);
            s.verifying = Some(pct);
            vec![]
        }
        Msg::Integrity(i) => {
            s.verifying = None;
            let was = s.integrity.checked;
            s.integrity = *i;
            // Only a verdict that found the record intact turns signing back on.
            s.found_wrong = if s.integrity.intact { false } else { s.found_wrong || s.verdict_found_wrong() };
            if s.tampered() && s.integrity.not_read && s.integrity.security.is_empty() {
                s.toast("VERIFICATION STOPPED: the ledger could not be read; see the integrity screen (4)", true);
            } else if s.tampered() {
                s.toast("INTEGRITY FAILURE: see the integrity screen (4)", true);
            } else if was {
                s.toast("verified: intact", false);
            }
            vec![]
        }
        Msg::Changed => refresh_all(s),
        Msg::Acted(result) => dialog::acted(s, result),
        Msg::Notice(text) => {
            s.toast(text, false);
            vec![]
        }
        Msg::Error(e) => {
            // The screen that waited for what could not be read says why in its place.
            // A reply to a request a newer one replaced says nothing of the list now shown (its toast
            // still says what failed).
            match e.reading {
                Reading::Queue(g) if g == s.queue.generation => {
                    s.queue.loading = false;
                    s.queue.failed = Some(e.clone());
                }
                Reading::History(g) if g == s.history.list.generation => {
                    s.history.list.loading = false;
                    s.history.list.failed = Some(e.clone());
                }
                Reading::Queue(_) | Reading::History(_) => {}
                Reading::Metrics => {
                    s.metrics_asked = None;
                    s.metrics_failed = Some(e.clone());
                }
                // Not known to be a list's (an internal error): no list waits for it forever.
                Reading::Other => {
                    s.queue.loading = false;
                    s.history.list.loading = false;
                }
            }
            // A page that could not be read: the viewer stays on the one it shows.
            if let Some(Modal::Viewer { pager: Some(p), .. }) = s.modals.last_mut() {
                p.page = p.shown;
            }
            // A signing dialog waits for its own answer (`Msg::Acted`, which says which step can fix a
            // failure); an error of another command does not move it.
            s.toast(e.text, true);
            vec![]
        }
        // A key release, or a reply to a request that a newer one replaced.
        _ => {
            redraw = false;
            vec![]
        }
    };
    // A split queue shows the selected request beside it: follow the selection.
    let mut cmds = cmds;
    if view::split(s)
        && let Some(id) = s.queue.current().map(|r| r.id)
        && s.detail.as_ref().map(|d| d.id) != Some(id)
    {
        cmds.extend(detail::preview(s, id));
        redraw = true;
    }
    // The list's height depends on the screen and on what is drawn above the queue.
    s.viewport = view::list_rows(s);
    Update { cmds, redraw }
}

/// Reloads everything shown (another process appended, an action was recorded, `:refresh`).
fn refresh_all(s: &mut AppState) -> Vec<Cmd> {
    let mut cmds = lists::reload_queue(s);
    if s.history.loaded && s.history.search.is_none() {
        cmds.extend(lists::reload_history(s));
    }
    if let Some(d) = &s.detail {
        let id = d.id;
        let generation = s.generation();
        if let Some(d) = &mut s.detail {
            d.generation = generation;
        }
        cmds.push(Cmd::Detail { generation, id });
    }
    if s.metrics.is_some() {
        cmds.extend(ask_metrics(s, true));
    }
    cmds
}

/// Ticks between two computations of the dashboard's figures while it shows (30 s).
const METRICS_EVERY: u64 = 120;

/// Asks for the dashboard's figures, unless they were asked for less than [`METRICS_EVERY`] ticks ago and
/// have not come yet (on a large ledger they take seconds; asked again, the worker starts them over). With
/// `again` (the ledger changed, or `r`), asked whatever is under way.
fn ask_metrics(s: &mut AppState, again: bool) -> Vec<Cmd> {
    if !again && s.metrics_asked.is_some_and(|at| s.ticks < at + METRICS_EVERY) {
        return vec![];
    }
    s.metrics_asked = Some(s.ticks);
    vec![Cmd::Metrics]
}

fn key(s: &mut AppState, k: KeyEvent) -> Vec<Cmd> {
    if k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL) {
        s.quit = true;
        return vec![Cmd::Quit];
    }
    if !s.modals.is_empty() {
        return modal_key(s, k);
    }
    if let Some(cmd) = &mut s.command {
        match k.code {
            KeyCode::Esc => s.command = None,
            KeyCode::Backspace if cmd.pop().is_none() => s.command = None,
            KeyCode::Enter => {
                let c = s.command.take().unwrap_or_default();
                return command(s, c.trim());
            }
            KeyCode::Tab => *cmd = complete(cmd),
            KeyCode::Char('u') if k.modifiers.contains(KeyModifiers::CONTROL) => cmd.clear(),
            KeyCode::Char(c) => cmd.push(c),
            _ => {}
        }
        return vec![];
    }
    if s.screen == Screen::Detail && detail::evidence_filter_key(s, k) {
        return vec![];
    }
    if let Some(q) = &mut s.filter_input {
        // The queue's live filter: every key narrows (or widens) the list; Enter keeps it, Esc clears it.
        match k.code {
            KeyCode::Esc => {
                s.filter_input = None;
                s.queue_filter.text = None;
                s.queue.selected = 0;
                return lists::reload_queue(s);
            }
            KeyCode::Enter => {
                s.filter_input = None;
                return vec![];
            }
            KeyCode::Backspace => {
                q.pop();
            }
            KeyCode::Char('u') if k.modifiers.contains(KeyModifiers::CONTROL) => q.clear(),
            KeyCode::Char(c) if !c.is_control() => q.push(c),
            _ => return vec![],
        }
        let text = q.clone();
        s.queue_filter.text = if text.is_empty() { None } else { Some(text) };
        s.queue.selected = 0;
        return lists::reload_queue(s);
    }
    if let Some(q) = &mut s.search_input {
        match k.code {
            KeyCode::Esc => {
                // Esc clears the search as typed so far: the list comes back.
                s.search_input = None;
                s.history.search = None;
                return vec![];
            }
            KeyCode::Backspace => {
                q.pop();
            }
            KeyCode::Enter => {
                let q = s.search_input.take().unwrap_or_default();
                if q.trim().is_empty() {
                    s.history.search = None;
                    return vec![];
                }
                let generation = s.generation();
                s.history.search_generation = generation;
                s.history.search = Some((q.clone(), Vec::new(), 0));
                return vec![Cmd::Search { generation, query: q }];
            }
            KeyCode::Char(c) => q.push(c),
            _ => return vec![],
        }
        // As you type: the results follow each key (the runtime keeps only the latest search queued).
        let q = q.clone();
        if q.trim().is_empty() {
            s.history.search = None;
            return vec![];
        }
        let generation = s.generation();
        s.history.search_generation = generation;
        let kept = s.history.search.take().map(|(_, rows, _)| rows).unwrap_or_default();
        s.history.search = Some((q.clone(), kept, 0));
        return vec![Cmd::Search { generation, query: q }];
    }
    match s.keymap.action(&k) {
        Some(a) => global(s, a),
        None => vec![],
    }
}

/// A key while a modal is open goes to the modal on top.
fn modal_key(s: &mut AppState, k: KeyEvent) -> Vec<Cmd> {
    match s.modals.last() {
        None => vec![],
        Some(Modal::Help { .. } | Modal::Viewer { .. }) => detail::viewer_key(s, k),
        Some(Modal::Input { .. }) => lists::input_key(s, k),
        Some(Modal::Action(_)) => dialog::action_key(s, k),
        Some(Modal::Picker { .. }) => lists::picker_key(s, k),
    }
}

/// The console's `:` commands, each with its aliases and what it does (the command line lists the ones
/// that match what is typed; Tab completes).
pub const COMMANDS: [(&str, &[&str], &str); 13] = [
    ("queue", &["1", "requests"], "the queue"),
    ("history", &["2", "log"], "every entry"),
    ("dashboard", &["3", "dash"], "figures"),
    ("integrity", &["4"], "the verification"),
    ("verify", &[], "verify again"),
    ("report", &[], "write the governance report [FILE]"),
    ("new", &["request"], "file a new request"),
    ("members", &["people", "roles"], "members and their roles over time"),
    ("policy", &["policies"], "policy versions and what each changed"),
    ("obligations", &["due", "overdue"], "overdue reviews, expiring temporary reverts"),
    ("refresh", &["r"], "reload everything"),
    ("help", &["?"], "keys and commands"),
    ("quit", &["q", "q!", "exit"], "leave"),
];

/// The commands whose name starts with `typed`.
pub fn candidates(typed: &str) -> Vec<&'static str> {
    let typed = typed.trim_start();
    COMMANDS.iter().map(|(name, _, _)| *name).filter(|n| n.starts_with(typed)).collect()
}

/// `typed` completed: to the only command it can start, or to the longest prefix the candidates share.
fn complete(typed: &str) -> String {
    let c = candidates(typed);
    match c.as_slice() {
        [] => typed.to_string(),
        [one] => format!("{one} "),
        many => {
            let first = many[0];
            let n = (0..first.len())
                .take_while(|&i| many.iter().all(|m| m.as_bytes().get(i) == first.as_bytes().get(i)))
                .count();
            if n > typed.trim_start().len() { first[..n].to_string() } else { typed.to_string() }
        }
    }
}

/// The command `word` names, through its aliases.
fn resolve(word: &str) -> Option<&'static str> {
    COMMANDS.iter().find(|(name, aliases, _)| *name == word || aliases.contains(&word)).map(|(name, _, _)| *name)
}

/// The command nearest to an unknown `word` (at most two edits away).
fn nearest(word: &str) -> Option<&'static str> {
    fn distance(a: &str, b: &str) -> usize {
        let b: Vec<char> = b.chars().collect();
        let mut row: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            let mut prev = row[0];
            row[0] = i + 1;
            for (j, cb) in b.iter().enumerate() {
                let cur = row[j + 1];
                row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
                prev = cur;
            }
        }
        row[b.len()]
    }
    COMMANDS.iter().map(|(name, _, _)| (distance(word, name), *name)).filter(|(d, _)| *d <= 2).min().map(|(_, n)| n)
}

fn command(s: &mut AppState, c: &str) -> Vec<Cmd> {
    let (word, rest) = c.split_once(' ').unwrap_or((c, ""));
    let c = match resolve(word) {
        Some(name) if rest.is_empty() => name.to_string(),
        Some(name) => format!("{name} {rest}"),
        None => c.to_string(),
    };
    let c = c.as_str();
    match c {
        "q" | "quit" | "q!" => {
            s.quit = true;
            vec![Cmd::Quit]
        }
        "queue" => global(s, Action::Queue),
        "history" => global(s, Action::History),
        "dashboard" => global(s, Action::Dashboard),
        "integrity" => global(s, Action::Integrity),
        "verify" => {
            s.screen = Screen::Integrity;
            s.toast("verifying…", false);
            vec![Cmd::Verify]
        }
        "help" => global(s, Action::Help),
        "refresh" => refresh_all(s),
        "new" => dialog::start_new_request(s),
        "members" => vec![Cmd::Governance(GovernanceView::Members)],
        "policy" => vec![Cmd::Governance(GovernanceView::Policy)],
        "obligations" => vec![Cmd::Governance(GovernanceView::Obligations)],
        c if c == "report" || c.starts_with("report ") => {
            let path = c.strip_prefix("report").unwrap_or("").trim();
            let path = if path.is_empty() {
                format!("rollcall-report-{}.md", s.today.format("%Y-%m-%d"))
            } else {
                path.to_string()
            };
            dialog::start_report(s, path)
        }
        "" => vec![],
        other => {
            let word = other.split(' ').next().unwrap_or_default();
            let hint = match nearest(word) {
                Some(n) => format!("did you mean :{n}?"),
                None => "Tab completes; :help lists the commands".to_string(),
            };
            s.toast(format!("unknown command :{} — {hint}", crate::text::safe(word)), true);
            vec![]
        }
    }
}

/// Pasted text goes where typing goes: the open dialog's field, the queue's filter, the command line.
fn paste(s: &mut AppState, text: &str) -> Vec<Cmd> {
    // The dialog first, before any copy is made: its passphrase field takes pastes.
    if matches!(s.modals.last(), Some(Modal::Action(_))) {
        return dialog::paste(s, text);
    }
    let line: String = text.chars().filter(|c| !c.is_control()).take(4000).collect();
    if let Some(q) = &mut s.filter_input {
        q.push_str(&line);
        s.queue_filter.text = Some(q.clone());
        s.queue.selected = 0;
        return lists::reload_queue(s);
    }
    if let Some(c) = &mut s.command {
        c.push_str(&line);
    }
    vec![]
}

/// An action as its key would run it (for mouse clicks).
pub(super) fn global_action(s: &mut AppState, a: Action) -> Vec<Cmd> {
    global(s, a)
}

/// A `:` command as the command line would run it (for the help's lines).
pub(super) fn run_command(s: &mut AppState, c: &str) -> Vec<Cmd> {
    command(s, c)
}

fn global(s: &mut AppState, a: Action) -> Vec<Cmd> {
    match a {
        Action::Quit => {
            s.quit = true;
            vec![Cmd::Quit]
        }
        Action::Copy => {
            let id = match s.screen {
                Screen::Queue => match s.alert_selected.and_then(|i| s.alerts.get(i)) {
                    Some(alert) => Some(alert.observation),
                    None => s.queue.current().map(|r| r.id),
                },
                Screen::Detail => s.detail.as_ref().map(|d| d.id),
                Screen::History => match &s.history.search {
                    Some((_, rows, sel)) => rows.get(*sel).map(|r| r.id),
                    None => s.history.list.current().map(|r| r.id),
                },
                Screen::Dashboard | Screen::Integrity => None,
            };
            match id {
                Some(id) => {
                    s.toast(format!("copied {} to the clipboard", id.short(16)), false);
                    vec![Cmd::Terminal(TermOp::Copy(id.to_hex()))]
                }
                None => {
                    s.toast("nothing selected to copy", true);
                    vec![]
                }
            }
        }
        Action::ToggleMouse => {
            s.mouse = !s.mouse;
            let say = if s.mouse {
                "mouse capture on: clicks and the wheel go to the console"
            } else {
                "mouse capture off: select text with the mouse; M turns it back on"
            };
            s.toast(say, false);
            vec![Cmd::Terminal(TermOp::Mouse(s.mouse))]
        }
        Action::Help => {
            s.modals.push(Modal::Help { scroll: 0, query: String::new(), typing: false });
            vec![]
        }
        Action::Command => {
            s.command = Some(String::new());
            vec![]
        }
        Action::NewRequest => dialog::start_new_request(s),
        Action::Queue => {
            s.screen = Screen::Queue;
            vec![]
        }
        Action::History => {
            s.screen = Screen::History;
            if s.history.loaded { vec![] } else { lists::reload_history(s) }
        }
        Action::Dashboard => {
            s.screen = Screen::Dashboard;
            ask_metrics(s, false)
        }
        Action::Integrity => {
            s.screen = Screen::Integrity;
            vec![]
        }
        Action::Search if s.screen == Screen::Detail && s.detail.as_ref().is_some_and(|d| d.tab == Tab::Evidence) => {
            detail::evidence_filter_start(s);
            vec![]
        }
        Action::Back
            if s.screen == Screen::Detail
                && s.detail.as_ref().is_some_and(|d| d.tab == Tab::Evidence && d.evidence_filter.is_some()) =>
        {
            if let Some(d) = s.detail.as_mut() {
                d.evidence_filter = None;
                d.evidence_selected = 0;
            }
            vec![]
        }
        Action::Search if s.screen == Screen::Queue => {
            s.filter_input = Some(s.queue_filter.text.clone().unwrap_or_default());
            vec![]
        }
        Action::Search => {
            if s.screen != Screen::History {
                s.screen = Screen::History;
                if !s.history.loaded {
                    let mut cmds = lists::reload_history(s);
                    s.search_input = Some(String::new());
                    cmds.truncate(2);
                    return cmds;
                }
            }
            s.search_input = Some(String::new());
            vec![]
        }
        other => screen_action(s, other),
    }
}

fn screen_action(s: &mut AppState, a: Action) -> Vec<Cmd> {
    match s.screen {
        Screen::Queue => lists::queue_action(s, a),
        Screen::Detail => detail::detail_action(s, a),
        Screen::History => lists::history_action(s, a),
        Screen::Dashboard => match a {
            Action::Refresh => ask_metrics(s, true),
            _ => vec![],
        },
        Screen::Integrity => match a {
            Action::Refresh => {
                s.toast("verifying…", false);
                vec![Cmd::Verify]
            }
            _ => vec![],
        },
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A console state with no ledger behind it (update needs none).
    pub(in crate::tui::update) fn state() -> AppState {
        AppState::new(
            "bob".into(),
            "ledger.db".into(),
            false,
            None,
            super::super::keymap::Keymap::default(),
            super::super::theme::Theme::new(true),
        )
    }

    /// The default report file is named from the date the runtime sent, not from a clock read here.
    #[test]
    fn the_report_file_is_named_from_the_date_sent() {
        let mut s = state();
        update(&mut s, Msg::Today(chrono::NaiveDate::from_ymd_opt(2031, 4, 5).unwrap()));
        s.command = Some("report".into());
        update(&mut s, Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
        let named = s.modals.iter().any(|m| match m {
            Modal::Action(d) => d.fields.iter().any(|f| f.value == "rollcall-report-2031-04-05.md"),
            _ => false,
        });
        assert!(named, "{:?}", s.modals.len());
    }

    /// A tick redraws only when a toast expires; a stale reply or a key release does not redraw; a key does.
    #[test]
    fn only_messages_that_change_the_screen_redraw() {
        let mut s = state();
        assert!(!step(&mut s, Msg::Tick).redraw, "nothing moves on a tick without toasts");
        s.toast("short", false);
        let ttl = s.toasts[0].ttl;
        for _ in 1..ttl {
            assert!(!step(&mut s, Msg::Tick).redraw);
        }
        assert!(step(&mut s, Msg::Tick).redraw, "the toast expired");
        assert!(s.toasts.is_empty());
        let stale = Msg::QueueCount { generation: s.queue.generation + 7, total: 3 };
        assert!(!step(&mut s, stale).redraw);
        let mut release = KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE);
        release.kind = KeyEventKind::Release;
        assert!(!step(&mut s, Msg::Key(release)).redraw);
        assert!(step(&mut s, Msg::Key(KeyEvent::new(KeyCode::Char('?'), KeyModifiers::NONE))).redraw);
    }

    /// Showing the dashboard again while its figures are being computed does not start them over; once
    /// they came, it asks again; `r`, a ledger change or a stale request (30 s unanswered) asks whatever
    /// is under way.
    #[test]
    fn the_dashboard_is_not_started_over_while_its_figures_come() {
        let metrics = |cmds: &[Cmd]| cmds.iter().filter(|c| matches!(c, Cmd::Metrics)).count();
        let press =
            |s: &mut AppState, c: char| update(s, Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)));
        let mut s = state();
        assert_eq!(metrics(&press(&mut s, '3')), 1);
        assert_eq!(metrics(&press(&mut s, '1')), 0);
        assert_eq!(metrics(&press(&mut s, '3')), 0, "asked again while the first is under way");
        assert_eq!(metrics(&press(&mut s, 'r')), 1, "r asks whatever is under way");
        update(&mut s, Msg::Metrics(Box::default()));
        assert_eq!(metrics(&press(&mut s, '1')), 0);
        assert_eq!(metrics(&press(&mut s, '3')), 1, "the figures came: shown again, asked again");
        // Unanswered for 30 s (a reply lost to an error): the periodic refresh asks again.
        let asked: usize = (0..METRICS_EVERY).map(|_| metrics(&update(&mut s, Msg::Tick))).sum();
        assert_eq!(asked, 1);
    }

    /// An error of another command while a dialog signs leaves the dialog waiting for its own answer.
    #[test]
    fn an_unrelated_error_does_not_move_a_signing_dialog() {
        let mut s = dialog::tests::attach_dialog("x");
        if let Some(Modal::Action(d)) = s.modals.last_mut() {
            d.step = Step::Signing;
        }
        update(&mut s, Msg::Error("database is locked".into()));
        assert_eq!(dialog::tests::dialog(&s).step, Step::Signing);
        assert_eq!(s.toasts.last().map(|t| t.text.as_str()), Some("database is locked"));
    }
}
