//! The review console without a terminal: pure update tests, insta snapshots of every screen at 80×24
//! and 160×48, style-aware buffer asserts, a whole approval driven by keys, and hostile content.

mod common;

use chrono::{DateTime, Utc};
use ratatui::crossterm::event::{KeyCode, KeyModifiers};
use ratatui::style::Color;
use rollcall::demo;
use rollcall::tui::harness::Harness;
use rollcall::tui::msg::{Cmd, Msg};
use rollcall::tui::state::{Screen, Step, Tab};
use rollcall::tui::{Options, update};
use rollcall::workflow::clock;
use std::sync::OnceLock;

fn fixed_now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-20T12:00:00Z").unwrap().with_timezone(&Utc)
}

/// A demo ledger built once per test binary, copied per test.
fn demo_copy() -> (tempfile::TempDir, demo::Demo) {
    static BUILT: OnceLock<(tempfile::TempDir, demo::Demo)> = OnceLock::new();
    let (dir, d) = BUILT.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let d = clock::at(fixed_now(), || demo::build(&dir.path().join("demo"), 0, &mut |_| {})).unwrap();
        (dir, d)
    });
    let _ = dir;
    let copy = tempfile::tempdir().unwrap();
    fs_extra_copy(&d.dir, copy.path());
    let d2 = demo::Demo {
        dir: copy.path().to_path_buf(),
        home: copy.path().join("home"),
        ledger: copy.path().join("ledger.db"),
        ..d.clone()
    };
    (copy, d2)
}

fn fs_extra_copy(from: &std::path::Path, to: &std::path::Path) {
    for e in walk(from) {
        let rel = e.strip_prefix(from).unwrap();
        let dest = to.join(rel);
        if e.is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
            std::fs::copy(&e, &dest).unwrap();
        }
    }
}

fn walk(p: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![p.to_path_buf()];
    if p.is_dir() {
        for e in std::fs::read_dir(p).unwrap().flatten() {
            out.extend(walk(&e.path()));
        }
    }
    out
}

fn harness(d: &demo::Demo, w: u16, h: u16, read_only: bool) -> Harness {
    clock::at(fixed_now(), || {
        Harness::new(d.context(), Options { read_only, signer: Some("carol".into()), banner: None }, w, h)
    })
}

/// The console signed in as `who`: the signer, and what the console asks the policy at start (whether
/// the key may file requests, invoke the emergency path).
fn sign_in(h: &mut Harness, d: &demo::Demo, who: &str) {
    h.state.user = who.into();
    h.worker.identity.signer = Some(who.into());
    h.state.may_file = at(|| rollcall::workflow::waiting::may_file_requests(&d.context(), Some(who)));
    h.state.emergency = at(|| rollcall::workflow::waiting::may_invoke_emergency(&d.context(), Some(who)));
}

fn at<T>(f: impl FnOnce() -> T) -> T {
    clock::at(fixed_now(), f)
}

fn redact(screen: &str) -> String {
    let re = regex::Regex::new(r"[0-9a-f]{8,64}").unwrap();
    let s = re.replace_all(screen, |c: &regex::Captures| "#".repeat(c[0].len())).into_owned();
    // The tail of an id wrapped onto the next row of a narrow box.
    let tail = regex::Regex::new(r"(?m)^│([0-9a-f]{4,7}) ").unwrap();
    let s = tail.replace_all(&s, |c: &regex::Captures| format!("│{} ", "#".repeat(c[1].len()))).into_owned();
    // A key id cut short by a narrow column: "bob (3ebdb5d".
    let cut = regex::Regex::new(r"\(([0-9a-f]{3,7})( |│|$)").unwrap();
    let s = cut.replace_all(&s, |c: &regex::Captures| format!("({}{}", "#".repeat(c[1].len()), &c[2])).into_owned();
    // The time is redacted keeping the line's width, so a slow run (four digits) draws the same screen.
    let t = regex::Regex::new(r"verified in \d+ ms\) *").unwrap();
    t.replace_all(&s, |c: &regex::Captures| format!("{:<w$}", "verified in N ms)", w = c[0].len())).into_owned()
}

#[test]
fn redaction_keeps_the_line_width_whatever_the_time() {
    // The integrity line as drawn at 80 columns: left-aligned text, padding, then the border.
    let line =
        |ms: u64| format!("│integrity: OK (verified in {ms} ms){:w$}│", "", w = 80 - 2 - 31 - ms.to_string().len());
    let expected = redact(&line(7));
    for ms in [7u64, 123, 1_234, 12_345] {
        let original = line(ms);
        assert_eq!(original.chars().count(), 80, "{original:?}");
        let r = redact(&original);
        assert_eq!(r.chars().count(), 80, "{ms} ms: {r:?}");
        assert_eq!(r, expected, "{ms} ms");
        assert!(!r.contains(&ms.to_string()), "{r:?}");
    }
    // At the very end of a line (no padding left) the width is kept too.
    for ms in [7u64, 123, 1_234, 12_345] {
        let tight = format!("integrity: OK (verified in {ms} ms)");
        assert_eq!(redact(&tight).len(), tight.len(), "{ms} ms");
        assert_eq!(redact(&format!("{tight:<40}|")).chars().count(), 41, "{ms} ms");
    }
}

fn cell_bg(h: &Harness, x: u16, y: u16) -> Color {
    h.terminal.backend().buffer()[(x, y)].style().bg.unwrap_or(Color::Reset)
}

#[test]
fn snapshots_of_every_screen() {
    let (_tmp, d) = demo_copy();
    for (w, hgt) in [(80u16, 24u16), (60, 20), (160, 48), (200, 50)] {
        let mut h = harness(&d, w, hgt, false);
        let name = |s: &str| format!("{s}_{w}x{hgt}");
        insta::assert_snapshot!(name("queue"), redact(&h.render()));
        at(|| h.press(KeyCode::Enter));
        assert_eq!(h.state.screen, Screen::Detail);
        for tab in Tab::ALL {
            insta::assert_snapshot!(name(&format!("detail_{}", tab.title().to_lowercase())), redact(&h.render()));
            at(|| h.press(KeyCode::Tab));
        }
        at(|| h.press(KeyCode::Esc));
        at(|| h.press(KeyCode::Char('2')));
        insta::assert_snapshot!(name("history"), redact(&h.render()));
        at(|| h.press(KeyCode::Char('3')));
        insta::assert_snapshot!(name("dashboard"), redact(&h.render()));
        at(|| h.press(KeyCode::Char('4')));
        insta::assert_snapshot!(name("integrity"), redact(&h.render()));
        at(|| h.press(KeyCode::Char('?')));
        insta::assert_snapshot!(name("help"), redact(&h.render()));
    }
}

#[test]
fn badges_selection_and_tamper_banner_are_styled() {
    let (_tmp, d) = demo_copy();
    let mut h = harness(&d, 120, 30, false);
    h.render();
    // Row 6 is the first queue row (title bar, the demo's one observed rollback in its box, the queue's
    // border, header): selected = blue background.
    assert_eq!(h.state.alerts.len(), 1);
    assert_eq!(cell_bg(&h, 2, 6), Color::Blue);
    assert_ne!(cell_bg(&h, 2, 7), Color::Blue);
    // The risk badge of the second row: a coloured background matching its tier.
    let tier = h.state.queue.rows[1].tier.clone();
    let want = match tier.as_str() {
        "low" => Color::Green,
        "medium" => Color::Yellow,
        "high" => Color::LightRed,
        _ => Color::Red,
    };
    assert_eq!(cell_bg(&h, 10, 7), want, "badge of a {tier} request");
    // NO_COLOR: the badge is a letter in brackets and nothing is coloured.
    h.state.theme = rollcall::tui::theme::Theme::new(false);
    let text = h.render();
    assert!(text.contains(&format!("[{}]", tier.chars().next().unwrap().to_ascii_uppercase())));
    assert_eq!(cell_bg(&h, 10, 7), Color::Reset);

    // Tamper with the ledger: every screen shows a red banner.
    let c = rusqlite::Connection::open(&d.ledger).unwrap();
    c.execute_batch("DROP TRIGGER entries_no_update; UPDATE entries SET signature = zeroblob(64) WHERE rowid = 5;")
        .unwrap();
    drop(c);
    let mut h = harness(&d, 120, 30, false);
    let text = h.render();
    assert!(text.contains("INTEGRITY FAILURE"), "{text}");
    assert_eq!(cell_bg(&h, 3, 1), Color::Red);
    at(|| h.press(KeyCode::Char('2')));
    assert!(h.render().contains("INTEGRITY FAILURE"));
    assert!(h.render().contains("TAMPERED"));
}

#[test]
fn an_equivocation_is_shown_in_red_with_both_signed_checkpoints() {
    let (_tmp, d) = demo_copy();
    // A fork of the jump host as an import would record it (the rows are evidence: inserts only).
    let c = rusqlite::Connection::open(&d.ledger).unwrap();
    c.execute(
        "INSERT INTO equivocations (origin, detected, kind, ours, theirs, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        [
            "demo.rollcall.example/jump-host",
            "2026-11-20T11:00:00Z",
            "fork",
            "demo.rollcall.example/jump-host\n3\nOURSROOTOURSROOT=\n\n\u{2014} demo.rollcall.example/jump-host AAAAoursig\n",
            "demo.rollcall.example/jump-host\n3\nTHEIRROOTTHEIRROOT=\n\n\u{2014} demo.rollcall.example/jump-host AAAAtheirsig\n",
            "leaf 2: this ledger holds leaf hash 1111, the bundle has 2222",
        ],
    )
    .unwrap();
    drop(c);
    let mut h = harness(&d, 160, 40, true);
    h.render();
    at(|| h.press(KeyCode::Char('4')));
    let text = h.render();
    assert!(text.contains("SECURITY: fork of origin demo.rollcall.example/jump-host"), "{text}");
    assert!(
        text.contains("this ledger's signed statement: demo.rollcall.example/jump-host | 3 | OURSROOTOURSROOT="),
        "{text}"
    );
    assert!(
        text.contains("the bundle's signed statement: demo.rollcall.example/jump-host | 3 | THEIRROOTTHEIRROOT="),
        "{text}"
    );
    // The chrome says so on every screen, in the danger colour.
    assert!(text.contains("SECURITY"));
    let buf = h.terminal.backend().buffer().clone();
    let red = (0..buf.area.height).any(|y| {
        (0..buf.area.width).any(|x| {
            let cell = &buf[(x, y)];
            cell.symbol() == "S" && (cell.style().fg == Some(Color::Red) || cell.style().bg == Some(Color::Red))
        })
    });
    assert!(red, "the alarm is red");
}

#[test]
fn approve_end_to_end_by_keys() {
    let (_tmp, d) = demo_copy();
    let mut h = harness(&d, 120, 30, false);
    // Find a pending medium request carol may approve.
    let target = h
        .state
        .queue
        .rows
        .iter()
        .position(|r| r.status == "pending" && r.tier == "medium")
        .expect("a pending medium request");
    for _ in 0..target {
        at(|| h.press(KeyCode::Char('j')));
    }
    let id = h.state.queue.current().unwrap().id;
    at(|| h.press(KeyCode::Enter));
    // One key never signs: the dialog opens on the review step.
    at(|| h.press(KeyCode::Char('a')));
    assert!(matches!(h.state.modals.last(), Some(rollcall::tui::state::Modal::Action(d)) if d.step == Step::Review));
    let screen = h.render();
    assert!(screen.contains("op digest") && screen.contains("policy"), "{screen}");
    at(|| h.press(KeyCode::Enter));
    at(|| h.type_str("graphs confirm the regression"));
    at(|| h.press(KeyCode::Enter));
    // A wrong passphrase keeps the dialog open with the error; nothing is written.
    at(|| h.type_str("not-it"));
    let screen = h.render();
    assert!(screen.contains("••••••") && !screen.contains("not-it"), "passphrase is masked");
    at(|| h.press(KeyCode::Enter));
    assert!(h.render().contains("wrong passphrase"));
    assert!(!h.state.modals.is_empty());
    at(|| h.type_str(demo::PASSPHRASE));
    at(|| h.press(KeyCode::Enter));
    assert!(h.state.modals.is_empty(), "the dialog closes after signing");
    assert!(h.state.toasts.iter().any(|t| t.text.contains("signed and recorded")));
    let detail = h.state.detail.as_ref().unwrap().data.as_ref().unwrap();
    assert_eq!(detail.status, "approved");
    // The ledger gained a valid approval by carol that counts, and verify accepts it.
    let shown = at(|| rollcall::workflow::query::show(&d.context(), &id.to_hex())).unwrap();
    let mine: Vec<_> = shown.eval.decisions.iter().filter(|x| x.name.starts_with("carol")).collect();
    assert_eq!(mine.len(), 1);
    assert!(mine[0].excluded.is_none());
    let report = rollcall::workflow::verify::verify(&d.context()).unwrap();
    assert!(report.intact());
}

#[test]
fn read_only_hides_actions_and_history_search_works() {
    let (_tmp, d) = demo_copy();
    let mut h = harness(&d, 120, 30, true);
    at(|| h.press(KeyCode::Enter));
    let screen = h.render();
    assert!(!screen.contains("a approve"), "{screen}");
    at(|| h.press(KeyCode::Char('a')));
    assert!(h.state.modals.is_empty());
    assert!(h.state.toasts.iter().any(|t| t.text.contains("read-only")));
    at(|| h.press(KeyCode::Char('/')));
    at(|| h.type_str("fraud model"));
    at(|| h.press(KeyCode::Enter));
    let (_, rows, _) = h.state.history.search.as_ref().unwrap();
    assert!(!rows.is_empty());
    assert!(rows[0].request.as_ref().unwrap().1.contains("fraud model"));
    let screen = h.render();
    assert!(screen.contains("search \"fraud model\""), "{screen}");
    // The words matched in a request's title are in the accent colour.
    let buf = h.terminal.backend().buffer();
    let text = |y: u16| (0..120).map(|x| buf[(x, y)].symbol()).collect::<String>();
    let row = (0..30)
        .find(|y| text(*y).contains("fraud") && !text(*y).contains("search"))
        .unwrap_or_else(|| panic!("{screen}"));
    let line = text(row);
    let x = line[..line.find("fraud").unwrap()].chars().count() as u16;
    assert_eq!(buf[(x, row)].style().fg, h.state.theme.accent.fg, "{line}");
    at(|| h.press(KeyCode::Char('o')));
    assert_eq!(h.state.screen, Screen::Detail);
}

#[test]
fn an_auditor_inspects_an_entrys_signature_and_inclusion_from_the_history() {
    let (_tmp, d) = demo_copy();
    let mut h = harness(&d, 100, 40, true);
    at(|| h.press(KeyCode::Char('2')));
    // The oldest entries are under the laptop's signed (and witnessed) checkpoints.
    at(|| h.press(KeyCode::Char('G')));
    at(|| h.press(KeyCode::Enter));
    let Some(rollcall::tui::state::Modal::Viewer { lines, .. }) = h.state.modals.last() else {
        panic!("the entry opens in a viewer: {:?}", h.state.modals.len())
    };
    let text = lines.join("\n");
    for want in
        ["signer     ", "signature  ✓ verifies", "inclusion  ✓ included in", "canonical statement", "log        "]
    {
        assert!(text.contains(want), "{want:?} missing:\n{text}");
    }
    assert!(h.render().contains("Entry "), "{}", h.render());
    // Enter on a request's entry inspects it as well; `o` opens the request.
    at(|| h.press(KeyCode::Esc));
    at(|| h.press(KeyCode::Char('g')));
    let row = h.state.history.list.rows.iter().position(|r| r.request.is_some()).expect("a request's entry");
    for _ in 0..row {
        at(|| h.press(KeyCode::Char('j')));
    }
    at(|| h.press(KeyCode::Enter));
    assert!(matches!(h.state.modals.last(), Some(rollcall::tui::state::Modal::Viewer { .. })));
    at(|| h.press(KeyCode::Esc));
    at(|| h.press(KeyCode::Char('o')));
    assert_eq!(h.state.screen, Screen::Detail);
    // Each machine keeps its own log: `O` shows the next one held.
    at(|| h.press(KeyCode::Char('2')));
    let first = h.state.history.log.clone();
    assert!(h.state.history.logs.len() >= 2, "{:?}", h.state.history.logs);
    assert!(h.render().contains(&format!("log {first}")));
    at(|| h.press(KeyCode::Char('O')));
    assert_ne!(h.state.history.log, first);
    assert!(h.state.history.list.total.is_some_and(|n| n > 0), "the jump host's log has entries");
}

#[test]
fn hostile_content_is_escaped_and_the_screen_stays_intact() {
    let (_tmp, d) = demo_copy();
    let ctx = d.context();
    let evil = format!("ok\x1b]0;pwned\x07 \x1b[2J\u{202e}gnp.exe\u{200b} {}", "A".repeat(100_000));
    let body = serde_json::json!({
        "title": format!("Revert \x1b[31mred\x1b[0m \u{202e}evil"), "change": "c", "category": "other",
        "rationale": evil.chars().take(3990).collect::<String>(), "impact": "i\u{200b}", "components": ["x\x07"], "env": "staging",
        "revert": {"tool": "sh", "argv": ["sh", "-c", "echo \x1b[2J"], "from": "a", "to": "b"}, "risk": "low"
    });
    let record: rollcall::audit::RequestBody = serde_json::from_value(body).unwrap();
    at(|| rollcall::workflow::requests::new_request(&ctx, Some("bob"), record, None)).unwrap();
    let mut h = harness(&d, 100, 30, false);
    at(|| h.press(KeyCode::Char('s'))); // the order: newest first
    at(|| h.press(KeyCode::Char('n')));
    at(|| h.press(KeyCode::Enter));
    let screen = h.render();
    for bad in ['\x1b', '\x07', '\u{202e}', '\u{200b}'] {
        assert!(!screen.contains(bad), "{bad:?} reached the screen");
    }
    assert!(screen.contains("<U+001B>"), "{screen}");
    assert!(screen.contains('⚠'), "suspicious rows are marked: {screen}");
    at(|| h.press(KeyCode::Enter));
    let screen = h.render();
    assert!(!screen.contains('\x1b') && screen.contains("contains control or invisible characters"));
    assert!(screen.contains("<U+202E>") && screen.contains("<U+200B>"), "{screen}");
    // The frame is intact: every line is exactly the terminal's width and the border closes.
    for line in screen.lines() {
        assert_eq!(line.chars().count(), 100, "{line:?}");
    }
    assert!(screen.lines().nth(1).unwrap().ends_with('┐'));
}

// ---- pure update tests: no worker, no terminal ----

fn bare() -> rollcall::tui::state::AppState {
    rollcall::tui::state::AppState::new(
        "carol".into(),
        "ledger.db".into(),
        false,
        None,
        rollcall::tui::keymap::Keymap::default(),
        rollcall::tui::theme::Theme::new(true),
    )
}

fn key(c: KeyCode) -> Msg {
    Msg::Key(ratatui::crossterm::event::KeyEvent::new(c, KeyModifiers::NONE))
}

fn rows(n: usize, from: usize) -> Vec<rollcall::tui::model::QueueItem> {
    (from..from + n)
        .map(|i| rollcall::tui::model::QueueItem {
            key: rollcall::workflow::browse::QueueKey { urgency: 5, pos: 1_000_000 - i as u128, waiting: None },
            id: rollcall::ledger::Hash::of(&[&i.to_be_bytes()]),
            title: format!("request {i}"),
            suspicious: false,
            status: "pending".into(),
            waiver_ends: None,
            env: "production".into(),
            tier: "medium".into(),
            flags: 0,
            have: 0,
            need: 1,
            age: "1h".into(),
            overdue: false,
            due: None,
            stand: None,
        })
        .collect()
}

#[test]
fn queue_keys_page_by_keyset() {
    let mut s = bare();
    let cmds = update::init(&mut s);
    assert!(matches!(cmds[0], Cmd::Queue { page: rollcall::workflow::browse::Page::First, .. }));
    let generation = s.queue.generation;
    update::update(
        &mut s,
        Msg::Queue { generation, page: rollcall::workflow::browse::Page::First, rows: rows(100, 0) },
    );
    update::update(&mut s, Msg::QueueCount { generation, total: 1_000_000 });
    // Moving near the end of the window asks for the page after its last key.
    let mut asked = None;
    for _ in 0..80 {
        for c in update::update(&mut s, key(KeyCode::Char('j'))) {
            if let Cmd::Queue { page, .. } = c {
                asked = Some(page);
            }
        }
    }
    assert_eq!(
        asked,
        Some(rollcall::workflow::browse::Page::After(rollcall::workflow::browse::QueueKey {
            urgency: 5,
            pos: 1_000_000 - 99,
            waiting: None,
        }))
    );
    // A stale reply (old generation) is dropped.
    update::update(
        &mut s,
        Msg::Queue {
            generation: generation - 1,
            page: rollcall::workflow::browse::Page::After(rows(1, 99)[0].key),
            rows: rows(100, 5000),
        },
    );
    assert_eq!(s.queue.rows.len(), 100);
    // End jumps to the last page without loading everything before it.
    let cmds = update::update(&mut s, key(KeyCode::End));
    assert!(cmds.iter().any(|c| matches!(c, Cmd::Queue { page: rollcall::workflow::browse::Page::Last, .. })));
    update::update(
        &mut s,
        Msg::Queue { generation, page: rollcall::workflow::browse::Page::Last, rows: rows(100, 999_900) },
    );
    assert_eq!(s.queue.selected, 999_999);
    assert_eq!(s.queue.offset, 999_900);
    // Filters are picked from a small list (not cycled), and reload from the first page with a new
    // generation; Esc leaves the filter as it was.
    assert!(update::update(&mut s, key(KeyCode::Char('f'))).is_empty());
    assert!(matches!(s.modals.last(), Some(rollcall::tui::state::Modal::Picker { .. })));
    update::update(&mut s, key(KeyCode::Esc));
    assert!(s.modals.is_empty() && s.queue_filter.status.is_none());
    update::update(&mut s, key(KeyCode::Char('f')));
    update::update(&mut s, key(KeyCode::Char('j')));
    let cmds = update::update(&mut s, key(KeyCode::Enter));
    assert!(
        matches!(&cmds[0], Cmd::Queue { filter, page: rollcall::workflow::browse::Page::First, .. } if filter.status.as_deref() == Some("pending"))
    );
    assert!(s.queue.generation > generation);
    update::update(&mut s, key(KeyCode::Char('R')));
    update::update(&mut s, key(KeyCode::Char('h'))); // a letter jumps to the choice it starts
    let cmds = update::update(&mut s, key(KeyCode::Enter));
    assert!(matches!(&cmds[0], Cmd::Queue { filter, .. } if filter.tier.as_deref() == Some("high")));
    let cmds = update::update(&mut s, key(KeyCode::Char('F')));
    assert!(matches!(&cmds[0], Cmd::Queue { filter, .. } if filter.flagged));
    update::update(&mut s, key(KeyCode::Char('e')));
    update::update(&mut s, key(KeyCode::Char('q')));
    let cmds = update::update(&mut s, key(KeyCode::Enter));
    assert!(
        matches!(&cmds[0], Cmd::Queue { filter, .. } if filter.env.as_deref() == Some("q")),
        "typing goes to the input, not the keymap"
    );
    // The order: `s` picks it from a list, `>` and `<` step through them; each reloads from the first
    // page, and the title bar says which.
    use rollcall::workflow::browse::QueueSort;
    update::update(&mut s, key(KeyCode::Char('s')));
    update::update(&mut s, key(KeyCode::Char('t'))); // "title (by title)"
    let cmds = update::update(&mut s, key(KeyCode::Enter));
    assert!(
        matches!(&cmds[0], Cmd::Queue { filter, page: rollcall::workflow::browse::Page::First, .. } if filter.sort == QueueSort::Title)
    );
    let cmds = update::update(&mut s, key(KeyCode::Char('>')));
    assert!(matches!(&cmds[0], Cmd::Queue { filter, .. } if filter.sort == QueueSort::Environment));
    update::update(&mut s, key(KeyCode::Char('<')));
    let cmds = update::update(&mut s, key(KeyCode::Char('<')));
    assert!(matches!(&cmds[0], Cmd::Queue { filter, .. } if filter.sort == QueueSort::Oldest));
    assert!(!s.quit);
}

#[test]
fn screens_commands_help_and_quit() {
    let mut s = bare();
    update::update(&mut s, key(KeyCode::Char('2')));
    assert_eq!(s.screen, Screen::History);
    update::update(&mut s, key(KeyCode::Char('3')));
    assert_eq!(s.screen, Screen::Dashboard);
    update::update(&mut s, key(KeyCode::Char(':')));
    for c in "queue".chars() {
        update::update(&mut s, key(KeyCode::Char(c)));
    }
    update::update(&mut s, key(KeyCode::Enter));
    assert_eq!(s.screen, Screen::Queue);
    update::update(&mut s, key(KeyCode::Char(':')));
    for c in "nonsense".chars() {
        update::update(&mut s, key(KeyCode::Char(c)));
    }
    update::update(&mut s, key(KeyCode::Enter));
    assert!(s.toasts.iter().any(|t| t.error && t.text.contains("unknown command")));
    update::update(&mut s, key(KeyCode::Char('?')));
    assert_eq!(s.modals.len(), 1);
    update::update(&mut s, key(KeyCode::Char('q')));
    assert!(s.modals.is_empty() && !s.quit, "q closes the help first");
    let cmds = update::update(&mut s, key(KeyCode::Char(':')));
    assert!(cmds.is_empty());
    for c in "verify".chars() {
        update::update(&mut s, key(KeyCode::Char(c)));
    }
    let cmds = update::update(&mut s, key(KeyCode::Enter));
    assert!(cmds.iter().any(|c| matches!(c, Cmd::Verify)));
    update::update(&mut s, key(KeyCode::Char('q')));
    assert!(s.quit);
}

#[test]
fn a_worker_error_is_a_toast_not_a_crash() {
    let mut s = bare();
    update::update(&mut s, Msg::Error("database is locked".into()));
    assert!(s.toasts.iter().any(|t| t.error && t.text.contains("locked")));
    for _ in 0..50 {
        update::update(&mut s, Msg::Tick);
    }
    assert!(s.toasts.is_empty(), "toasts expire");
}

#[test]
fn live_refresh_when_another_process_appends() {
    let (_tmp, d) = demo_copy();
    let mut h = harness(&d, 120, 30, false);
    at(|| h.press(KeyCode::Char('j')));
    let selected = h.state.queue.current().unwrap().id;
    at(|| h.press(KeyCode::Enter));
    let before = h.state.detail.as_ref().unwrap().data.as_ref().unwrap().timeline.len();
    // Another process (another context on the same file) appends a note on this request.
    at(|| {
        rollcall::workflow::lifecycle::note_on(
            &d.context(),
            Some("alice"),
            &selected.to_hex(),
            "paged the database team",
        )
    })
    .unwrap();
    for _ in 0..4 {
        h.send(Msg::Tick);
    }
    at(|| h.settle());
    let after = h.state.detail.as_ref().unwrap().data.as_ref().unwrap().timeline.len();
    assert_eq!(after, before + 1, "the detail reloaded");
    assert_eq!(h.state.queue.current().unwrap().id, selected, "the selection is kept");
}

#[test]
fn new_request_form_and_history_filters() {
    let (_tmp, d) = demo_copy();
    let mut h = harness(&d, 120, 30, false);
    sign_in(&mut h, &d, "bob");
    at(|| h.press(KeyCode::Char('N')));
    assert!(h.render().contains("New rollback request"));
    // Submitting with an empty title is refused in the form.
    for _ in 0..14 {
        at(|| h.press(KeyCode::Enter));
    }
    assert!(h.render().contains("is required"));
    let values = [
        "Roll back search ranking",
        "deploy-9001",
        "relevance dropped 30%",
        "stale ranking for an hour",
        "search",
        "staging",
        "helm rollback search 9000",
        "9001",
        "9000",
    ];
    if let Some(rollcall::tui::state::Modal::Action(dlg)) = h.state.modals.last_mut() {
        // Started inside a git repository the form first offers a commit to revert; leave it empty.
        dlg.focus = usize::from(dlg.fields[0].label == "git commit");
        dlg.error = None;
    }
    for v in values {
        at(|| h.type_str(v));
        at(|| h.press(KeyCode::Tab));
    }
    at(|| h.press(KeyCode::Right)); // category: performance-regression
    at(|| h.press(KeyCode::Tab)); // risk stays medium
    at(|| h.press(KeyCode::Tab));
    at(|| h.press(KeyCode::Enter)); // emergency stays "no" -> passphrase
    at(|| h.type_str(demo::PASSPHRASE));
    at(|| h.press(KeyCode::Enter));
    assert!(h.state.modals.is_empty(), "{:?}", h.state.toasts);
    let listed = at(|| rollcall::workflow::query::list(&d.context(), &Default::default())).unwrap();
    let mine = listed.iter().find(|r| r.title == "Roll back search ranking").expect("filed");
    assert_eq!(mine.env, "staging");

    // History filters: by actor and since a date.
    at(|| h.press(KeyCode::Char('2')));
    at(|| h.press(KeyCode::Char('u')));
    at(|| h.type_str("bob"));
    at(|| h.press(KeyCode::Enter));
    assert!(h.state.history.list.rows.iter().all(|r| r.actor.starts_with("bob")));
    assert!(!h.state.history.list.rows.is_empty());
    at(|| h.press(KeyCode::Char('d')));
    at(|| h.type_str("2026-11-19"));
    at(|| h.press(KeyCode::Enter));
    assert!(h.state.history.list.rows.iter().all(|r| r.ts.as_str() >= "2026-11-19"));
    assert!(h.render().contains("actor bob, since 2026-11-19"));
    // A date range: until a day, that day included.
    at(|| h.press(KeyCode::Char('D')));
    at(|| h.type_str("2026-11-19"));
    at(|| h.press(KeyCode::Enter));
    let rows = &h.state.history.list.rows;
    assert!(!rows.is_empty() && rows.iter().all(|r| r.ts.starts_with("2026-11-19")), "{rows:?}");
    assert!(h.render().contains("since 2026-11-19, until 2026-11-19"));
    at(|| h.press(KeyCode::Char('D')));
    for _ in 0..10 {
        at(|| h.press(KeyCode::Backspace));
    }
    at(|| h.press(KeyCode::Enter));
    assert!(h.state.history.filter.until.is_none());
    at(|| h.press(KeyCode::Char('d')));
    at(|| h.press(KeyCode::Backspace));
    at(|| h.type_str("yesterday"));
    at(|| h.press(KeyCode::Enter));
    assert!(h.state.toasts.iter().any(|t| t.error && t.text.contains("not a date")));
}

#[test]
fn policy_tab_says_when_an_approval_went_stale() {
    let (_tmp, d) = demo_copy();
    let h = harness(&d, 200, 50, false);
    let target = h.state.queue.rows.iter().position(|r| r.status == "approved").expect("an approved request");
    let id = h.state.queue.rows[target].id;
    drop(h);
    // Evidence attached after the approvals dismisses them (GitHub's "dismiss stale reviews").
    let log = d.dir.join("evidence").join("smoke-pass.xml");
    let (r, _) = at(|| {
        rollcall::workflow::lifecycle::attach_evidence(
            &d.context(),
            Some("bob"),
            &id.to_hex(),
            "log",
            Some(&log),
            None,
            None,
        )
    })
    .unwrap();
    let mut h = harness(&d, 200, 50, false);
    let row = h.state.queue.rows.iter().position(|r| r.id == id).expect("still listed");
    for _ in 0..row {
        at(|| h.press(KeyCode::Char('j')));
    }
    at(|| h.press(KeyCode::Enter));
    while h.state.detail.as_ref().is_some_and(|x| x.tab != Tab::Policy) {
        at(|| h.press(KeyCode::Tab));
    }
    let screen = h.render();
    let stale = format!("stale: evidence {} attached after this approval; re-approve", r.entry_id.short(12));
    assert!(screen.contains(&stale), "{screen}");
    assert!(screen.contains("[ ] approvals"), "{screen}");
}

/// Issue 13: a ledger holding an entry whose statement no reader can parse (see
/// `hostile_input::a_ledger_holding_an_unreadable_entry_still_works` for the command line). The console opens
/// on it: the queue lists the requests, the history shows the entry as unreadable and opening it says why,
/// the integrity screen names it, and the other screens go on.
#[test]
fn the_console_on_a_ledger_holding_an_unreadable_entry() {
    let env = common::team();
    let req = common::file_request(&env, "bob", "low");
    let index = env.push_unreadable();
    // Error toasts other than the alarm every screen raises for a ledger that does not verify.
    let worker_errors = |h: &Harness| -> Vec<String> {
        h.state
            .toasts
            .iter()
            .filter(|t| t.error && !t.text.starts_with("INTEGRITY FAILURE"))
            .map(|t| t.text.clone())
            .collect()
    };
    let mut h = common::console(&env, "carol", 120, 30);
    let screen = h.render();
    assert!(h.state.queue.rows.iter().any(|r| r.id.to_hex() == req), "{screen}");
    assert!(screen.contains("Revert payments deploy 4411"), "{screen}");
    assert!(screen.contains("INTEGRITY FAILURE") && screen.contains(&format!("index {index}")), "{screen}");

    // History: the newest entry is the unreadable one, shown as such (in the danger style), not as the
    // kind its unchecked head claims.
    h.press(KeyCode::Char('2'));
    let screen = h.render();
    let top = &h.state.history.list.rows[0];
    assert_eq!((top.index, top.kind.as_str()), (index, "(unreadable)"), "{screen}");
    let y = screen.lines().position(|l| l.contains(&format!("#{index} "))).expect("its row") as u16;
    let x = screen.lines().nth(y as usize).unwrap().find("(unreadable)").expect("its kind") as u16;
    assert_eq!(h.terminal.backend().buffer()[(x, y)].style().fg, Some(Color::Red), "{screen}");
    // Opening it says why it cannot be read, with its stored bytes escaped.
    h.press(KeyCode::Enter);
    let screen = h.render();
    assert!(screen.contains("cannot be read") && screen.contains("deeper"), "{screen}");
    assert!(worker_errors(&h).is_empty(), "{:?}", h.state.toasts);
    h.press(KeyCode::Esc);

    // Integrity names it.
    h.press(KeyCode::Char('4'));
    let screen = h.render();
    assert!(screen.contains("integrity: FAILED") && screen.contains(&format!("index {index}")), "{screen}");
    assert!(screen.contains("deeper"), "{screen}");

    // The request still opens with its tabs, and the dashboard draws.
    h.press(KeyCode::Char('1'));
    h.press(KeyCode::Enter);
    for _ in Tab::ALL {
        let screen = h.render();
        assert!(screen.contains("Revert payments deploy 4411"), "{screen}");
        h.press(KeyCode::Tab);
    }
    assert!(h.state.detail.as_ref().and_then(|d| d.data.as_ref()).is_some());
    h.press(KeyCode::Esc);
    h.press(KeyCode::Char('3'));
    let screen = h.render();
    assert!(h.state.metrics.is_some(), "{screen}");
    assert!(worker_errors(&h).is_empty(), "{:?}", h.state.toasts);
}

/// Issue 13: the evidence viewer reads a file past its first 64 KiB, a page at a time: `]` and `[` move
/// through [summary, page 1, …, page N], `}` jumps to the last page and `{` back to the summary, and the
/// bottom border says where the viewer is. Each page is sanitized; only the page shown is held.
#[test]
fn the_evidence_viewer_pages_through_the_whole_file() {
    const PAGE: usize = 64 * 1024;
    let env = common::team();
    let req = common::file_request(&env, "bob", "low");
    let mut log = String::new();
    let mut n = 0;
    while log.len() < 2 * PAGE + 3000 {
        if n == 3000 {
            log.push_str("\x1b]0;owned\x07 \u{202e}kcatta\n");
        }
        log.push_str(&format!("line {n:06} ok\n"));
        n += 1;
    }
    let size = log.len();
    let path = common::file(&env, "deploy.log", &log);
    env.ok(&["evidence", "add", &req, &path, "--kind", "log", "--as", "bob"]);
    let mut h = common::console(&env, "carol", 80, 24);
    h.press(KeyCode::Enter);
    while h.state.detail.as_ref().is_some_and(|d| d.tab != Tab::Evidence) {
        h.press(KeyCode::Tab);
    }
    h.press(KeyCode::Enter);
    let pager = |h: &Harness| match h.state.modals.last() {
        Some(rollcall::tui::state::Modal::Viewer { pager: Some(p), lines, .. }) => (p.page, p.shown, lines.clone()),
        other => panic!("no evidence viewer: {other:?}"),
    };
    let screen = h.render();
    assert_eq!(pager(&h).0, None);
    assert!(screen.contains(&format!("summary · the file: {size} bytes in 3 pages")), "{screen}");
    assert!(screen.contains("line 000000 ok"), "{screen}");

    // Forward: page 1, page 2 (its first line is the one the page boundary cut).
    h.press(KeyCode::Char(']'));
    h.press(KeyCode::Char(']'));
    let (page, shown, lines) = pager(&h);
    assert_eq!((page, shown), (Some(1), Some(1)));
    let first = &log[PAGE..];
    assert_eq!(lines[0], first[..first.find('\n').unwrap()], "the page starts at byte {PAGE}");
    assert!(lines.iter().map(|l| l.len() + 1).sum::<usize>() <= PAGE + 1, "one page is held, not the file");
    let screen = h.render();
    let at = format!("page 2 of 3 · bytes {PAGE}–{} of {size}", 2 * PAGE - 1);
    assert!(screen.contains(&at), "{screen}");
    // The viewer alone: around it the request drawn beneath shows today's date.
    let viewer: Vec<String> =
        screen.lines().skip(1).take(22).map(|l| l.chars().skip(2).take(76).collect::<String>()).collect();
    insta::assert_snapshot!("evidence_page_2_80x24", redact(&viewer.join("\n")));
    // The position is drawn in the accent style on the bottom border.
    let y = screen.lines().position(|l| l.contains(&at)).unwrap() as u16;
    let x = screen.lines().nth(y as usize).unwrap().chars().position(|c| c == 'p').unwrap() as u16;
    assert_eq!(y, 22, "the viewer's bottom border");
    assert_eq!(h.terminal.backend().buffer()[(x, y)].style().fg, Some(Color::Magenta));
    // The escapes of page 1 were shown escaped.
    h.press(KeyCode::Char('['));
    let (page, _, lines) = pager(&h);
    assert_eq!(page, Some(0));
    assert!(lines.iter().any(|l| l == "<U+001B>]0;owned<U+0007> <U+202E>kcatta"), "{lines:?}");
    assert!(lines[0].starts_with('⚠'), "the page is flagged");
    let screen = h.render();
    assert!(!screen.contains(['\x1b', '\x07', '\u{202e}']), "{screen}");

    // Jump to the last page; past it, a toast and nothing read.
    h.press(KeyCode::Char('}'));
    assert_eq!(pager(&h).0, Some(2));
    assert!(h.render().contains(&format!("page 3 of 3 · bytes {}–{} of {size}", 2 * PAGE, size - 1)));
    h.press(KeyCode::Char(']'));
    assert_eq!(h.pending(), 0);
    assert!(h.state.toasts.iter().any(|t| t.text.contains("last page")));
    // Back to the summary without reading the file again.
    h.send(Msg::Key(ratatui::crossterm::event::KeyEvent::new(KeyCode::Char('{'), KeyModifiers::NONE)));
    assert_eq!(h.pending(), 0);
    assert_eq!(pager(&h).0, None);
    assert!(h.render().contains("line 000000 ok"));

    // Keys faster than the worker: only the reply for the page last asked for is shown.
    h.send(Msg::Key(ratatui::crossterm::event::KeyEvent::new(KeyCode::Char(']'), KeyModifiers::NONE)));
    h.send(Msg::Key(ratatui::crossterm::event::KeyEvent::new(KeyCode::Char(']'), KeyModifiers::NONE)));
    assert!(h.render().contains("page 2 of 3 · loading…"));
    h.settle();
    let (page, shown, lines) = pager(&h);
    assert_eq!((page, shown), (Some(1), Some(1)));
    assert_eq!(lines[0], first[..first.find('\n').unwrap()]);
    h.press(KeyCode::Esc);
    assert!(h.state.modals.is_empty());
}

/// Issue 14: the console offers an action exactly when the policy evaluation that `gate` uses allows it
/// (`policy::evaluate::permission`), not by rules of its own: with `self_approval` and
/// `author_may_approve_revert` the requester may approve their own request (without the second, the author
/// of the revert operation may not: the console agrees with `gate` there too), and an executor may run the
/// revert only once the gate passes.
#[test]
fn the_console_offers_what_the_policy_allows() {
    let env = common::team();
    let policy = common::file(
        &env,
        "self.toml",
        "version = 1\n[approvals]\nself_approval = true\nauthor_may_approve_revert = true\nexpiry_hours = 0\n",
    );
    env.ok(&["policy", "adopt", &policy, "--as", "alice"]);
    let req = common::file_request(&env, "frank", "low");
    common::tested(&env, &req, "frank");
    let can = |signer: &str| common::console_can(&env, signer, &req);
    assert!(can("frank").approve.is_ok(), "the policy lets the requester approve");
    let strict =
        common::file(&env, "strict.toml", "version = 1\n[approvals]\nself_approval = true\nexpiry_hours = 0\n");
    env.ok(&["policy", "adopt", &strict, "--as", "alice"]);
    let why = can("frank").approve.unwrap_err();
    assert!(why.contains("authored the current revert operation"), "{why}");
    env.ok(&["policy", "adopt", &policy, "--as", "alice"]);
    // A refusal for want of a role says who holds one.
    let why = can("bob").approve.unwrap_err();
    assert!(why.contains("holds none of the roles") && why.contains("— ask "), "{why}");
    assert!(can("bob").reject.is_err(), "nor may bob reject");
    assert!(can("erin").execute.is_err(), "the gate is not met yet");
    env.ok(&["approve", &req, "--comment", "mine, and allowed", "--as", "frank"]);
    assert_eq!(env.run(&["gate", &req]).status.code(), Some(0), "gate agrees the approval counts");
    assert!(can("erin").execute.is_ok(), "the gate passes: erin may execute");
    // The policy's versions, each with what it changed.
    let mut h = common::console(&env, "alice", 120, 30);
    at(|| h.press(KeyCode::Char(':')));
    at(|| h.type_str("policy"));
    at(|| h.press(KeyCode::Enter));
    let Some(rollcall::tui::state::Modal::Viewer { lines, .. }) = h.state.modals.last() else { panic!("a viewer") };
    let text = lines.join("\n");
    assert!(text.contains("4 policy version(s)") && text.contains("+ self_approval = true"), "{text}");
    assert!(text.contains("- author_may_approve_revert = true"), "the strict one dropped it: {text}");
}

/// A rejecter whose approval cannot count (dave, a security-approver, on a request that scores medium,
/// where only approvers decide under this policy) may still lift his own rejection: the console offers the
/// approval, as `approve` takes it. It refused it ("holds none of the roles"), so the rejection could be
/// lifted only from the command line.
#[test]
fn the_console_offers_a_rejecter_the_approval_that_lifts_their_rejection() {
    let env = common::team();
    let policy = common::file(
        &env,
        "tiers.toml",
        "version = 1\n[approvals.tiers.medium]\ncount = 1\nroles = [\"approver\"]\nrequired_roles = []\n",
    );
    env.ok(&["policy", "adopt", &policy, "--as", "alice"]);
    let req = common::file_request(&env, "bob", "low");
    common::tested(&env, &req, "bob");
    env.ok(&["approve", &req, "--comment", "ok", "--as", "carol"]);
    let can = |signer: &str| common::console_can(&env, signer, &req);
    let why = can("dave").approve.unwrap_err();
    assert!(why.contains("holds none of the roles"), "not his to approve at medium risk: {why}");
    env.ok(&["reject", &req, "--comment", "this touches the auth path", "--as", "dave"]);
    assert!(can("dave").approve.is_ok(), "his approval lifts his rejection");
    env.ok(&["approve", &req, "--comment", "the auth change was reverted separately", "--as", "dave"]);
    assert_eq!(env.run(&["gate", &req]).status.code(), Some(0));
    assert!(can("dave").approve.is_err(), "nothing left to lift");
}

/// After a run that did not succeed the request is open again: the queue's default filter lists it as
/// `failed`, waiting on the executor while the gate passes (a new run); a rejection stops it, and then it
/// waits on nobody (only the rejecter's approval lifts it).
/// Before, it was hidden as executed, and offered only a validation of the failed run.
#[test]
fn a_failed_run_waits_in_the_queue_for_another_run_or_a_decision() {
    use rollcall::workflow::waiting::{Stand, Turn};
    let env = common::team();
    let req = common::file_request(&env, "bob", "low");
    common::tested(&env, &req, "bob");
    env.ok(&["approve", &req, "--comment", "ok", "--as", "carol"]);
    env.ok(&["execute", &req, "--outcome", "failed", "--as", "erin"]);
    let row = |signer: &str| {
        let mut h = common::console(&env, signer, 120, 30);
        let row = h.state.queue.rows.iter().find(|r| r.id.to_hex() == req).cloned();
        row.unwrap_or_else(|| panic!("listed for {signer}: {}", h.render()))
    };
    let erin = row("erin");
    assert_eq!((erin.status.as_str(), erin.stand), ("failed", Some(Stand::Waiting(Turn::Execute))));
    env.ok(&["reject", &req, "--comment", "the run broke checkout; not again", "--as", "dave"]);
    let rejected = row("erin");
    assert_eq!((rejected.status.as_str(), rejected.stand), ("failed", None), "the gate is closed: nothing to run");
    assert_eq!(row("frank").stand, None, "nobody is asked to approve a rejected request");
    assert_eq!(row("dave").stand, Some(Stand::Rejected));
}

/// The real main loop (the one `rollcall tui` runs, generic over the backend) on a `TestBackend`: the real
/// worker threads answer, keys go in on the loop's channel, `q` ends it. Nothing sleeps: the test waits
/// on conditions of the state (with a generous limit only so a bug fails instead of hanging). The last
/// frame the loop drew is the history screen the synchronous harness draws for the same keys.
#[test]
fn the_real_loop_runs_on_a_test_backend_until_q() {
    use std::time::Duration;
    let (_tmp, d) = demo_copy();
    let opts = Options { read_only: false, signer: Some("carol".into()), banner: None };
    let mut tui = at(|| rollcall::tui::harness::tui(d.context(), opts, 120, 32));
    let patience = Duration::from_secs(300);
    tui.start().unwrap();
    let loaded = |s: &rollcall::tui::state::AppState| {
        s.integrity.checked && s.queue.total.is_some() && !s.queue.loading && !s.queue.rows.is_empty()
    };
    assert!(tui.serve_until(patience, loaded).unwrap(), "the queue and the verification arrive");
    assert!(rollcall::tui::harness::screen(&tui.terminal).contains(" Queue"), "the queue was drawn");
    let tx = tui.sender();
    // `y` copies the selected id with OSC 52, `M` lets the terminal have the mouse (and back).
    let selected = tui.state.queue.current().unwrap().id;
    for k in ['y', 'M', 'M'] {
        tx.send(key(KeyCode::Char(k))).unwrap();
    }
    assert!(
        tui.serve_until(patience, |s| s.mouse && s.toasts.iter().any(|t| t.text.contains("mouse capture on"))).unwrap()
    );
    use rollcall::tui::msg::TermOp;
    assert_eq!(
        tui.ops,
        vec![TermOp::Copy(selected.to_hex()), TermOp::Mouse(false), TermOp::Mouse(true)],
        "the loop hands them to the terminal"
    );
    tui.state.toasts.clear();
    tx.send(key(KeyCode::Char('2'))).unwrap();
    let history = |s: &rollcall::tui::state::AppState| {
        s.screen == Screen::History && s.history.list.total.is_some() && !s.history.list.loading
    };
    assert!(tui.serve_until(patience, history).unwrap(), "the history arrives");
    tx.send(key(KeyCode::Char('q'))).unwrap();
    tui.serve().unwrap();
    assert!(tui.state.quit, "q ended the loop");
    let drawn = redact(&rollcall::tui::harness::screen(&tui.terminal));
    assert!(drawn.contains("INDEX") && drawn.contains("KIND"), "{drawn}");

    let mut h = harness(&d, 120, 32, false);
    at(|| h.press(KeyCode::Char('2')));
    assert_eq!(drawn, redact(&h.render()), "the loop draws what the harness draws");
}

/// Issue 15: the title bar says how far the background verification has come; a failure already found
/// stays on the bar while a new verification runs.
#[test]
fn the_title_bar_shows_how_far_the_verification_has_come() {
    let (_tmp, d) = demo_copy();
    let mut h = harness(&d, 120, 32, true);
    assert!(h.render().contains("✓ intact"));
    h.send(Msg::Verifying(41));
    let s = h.render();
    assert!(s.contains("verifying 41 %") && !s.contains("✓ intact"), "{s}");
    let verdict = h.state.integrity.clone();
    h.send(Msg::Integrity(Box::new(verdict)));
    let s = h.render();
    assert!(s.contains("✓ intact") && !s.contains("verifying"), "{s}");
    h.state.integrity.intact = false;
    h.state.integrity.failure = Some("origin laptop-1 index 3: signature does not verify".into());
    h.send(Msg::Verifying(7));
    let s = h.render();
    assert!(s.contains("TAMPERED") && !s.contains("verifying 7"), "{s}");
}

/// A verification stopped by a read the file refused (its disk failing, a permission, another process)
/// found nothing wrong with the record: the bar says NOT VERIFIED in yellow, not TAMPERED in red, and the
/// banner and the integrity screen say the ledger could not be read. The same failure of the record's
/// content is tampering.
#[test]
fn a_ledger_that_could_not_be_read_is_not_called_tampered() {
    let (_tmp, d) = demo_copy();
    let mut h = harness(&d, 120, 32, false);
    let mut verdict = h.state.integrity.clone();
    (verdict.intact, verdict.not_read) = (false, true);
    verdict.failure = Some("origin laptop-1 index 3: the ledger's disk failed: disk I/O error".into());
    h.send(Msg::Integrity(Box::new(verdict.clone())));
    let s = h.render();
    assert!(s.contains("VERIFICATION STOPPED — the ledger could not be read: origin laptop-1 index 3"), "{s}");
    assert!(!s.contains("TAMPERED") && !s.contains("INTEGRITY FAILURE"), "{s}");
    let bar = s.lines().next().unwrap();
    let x = bar.find("NOT VERIFIED").expect("the verdict on the bar");
    let x = bar[..x].chars().count() as u16;
    assert_eq!(h.terminal.backend().buffer()[(x, 0)].style().fg, Some(Color::Yellow), "{bar}");
    at(|| h.press(KeyCode::Char('4')));
    assert!(h.render().contains("integrity: NOT VERIFIED — the ledger could not be read: origin laptop-1"));
    verdict.not_read = false;
    h.send(Msg::Integrity(Box::new(verdict)));
    let s = h.render();
    assert!(s.contains("TAMPERED") && s.contains("INTEGRITY FAILURE") && s.contains("integrity: FAILED"), "{s}");
}

/// A console whose verification found the ledger tampered signs nothing: what a dialog would show for
/// review may not be what was recorded. Asking for an action or a new request is refused with the reason,
/// and a dialog already open when the verdict arrives refuses its passphrase; the ledger gains no entry.
/// A verification that could not read the file (`r` runs it again) does not stop signing.
#[test]
fn a_console_that_found_the_ledger_tampered_signs_nothing() {
    let (_tmp, d) = demo_copy();
    let entries = || -> i64 {
        let c = rusqlite::Connection::open(&d.ledger).unwrap();
        c.query_row("SELECT count(*) FROM entries", [], |r| r.get(0)).unwrap()
    };
    let before = entries();
    let mut h = harness(&d, 120, 32, false);
    assert!(h.state.integrity.checked && h.state.integrity.intact);
    let intact = h.state.integrity.clone();
    let mut tampered = h.state.integrity.clone();
    tampered.intact = false;
    tampered.failure = Some("origin laptop-1 index 3: signature does not verify".into());
    let mut unread = tampered.clone();
    unread.not_read = true;

    // The verdict arrives while carol reviews an approval, passphrase typed: Enter signs nothing.
    approve_first_pending_medium(&mut h);
    at(|| h.press(KeyCode::Enter));
    at(|| h.type_str("graphs confirm the regression"));
    at(|| h.press(KeyCode::Enter));
    at(|| h.type_str(demo::PASSPHRASE));
    h.send(Msg::Integrity(Box::new(tampered.clone())));
    at(|| h.press(KeyCode::Enter));
    let Some(rollcall::tui::state::Modal::Action(dialog)) = h.state.modals.last() else { panic!("the dialog stays") };
    assert_eq!(dialog.step, Step::Passphrase);
    assert!(dialog.passphrase.is_empty(), "the typed passphrase is dropped");
    assert!(dialog.error.as_deref().is_some_and(|e| e.contains("signing is off")), "{:?}", dialog.error);
    assert!(h.render().contains("signing is off: a verification in this session found this ledger TAMPERED"));
    assert_eq!(entries(), before);

    // Asked for afterwards, an action or a new request does not open.
    at(|| h.press(KeyCode::Esc));
    at(|| h.press(KeyCode::Esc));
    at(|| h.press(KeyCode::Esc));
    assert!(h.state.modals.is_empty(), "{:?}", h.state.modals.len());
    at(|| h.press(KeyCode::Char('a')));
    assert!(h.state.modals.is_empty(), "no approval dialog on a tampered ledger");
    assert!(h.state.toasts.iter().any(|t| t.error && t.text.contains("signing is off")));
    h.state.toasts.clear();
    at(|| h.press(KeyCode::Char('N')));
    assert!(h.state.modals.is_empty(), "no new-request form on a tampered ledger");
    assert!(h.state.toasts.iter().any(|t| t.error && t.text.contains("signing is off")));
    assert_eq!(entries(), before);

    // The governance report is still written; the record of its read is not signed.
    let report = d.dir.join("tampered-report.md");
    at(|| h.type_str(&format!(":report {}", report.display())));
    at(|| h.press(KeyCode::Enter));
    assert!(h.state.modals.is_empty(), "no signing dialog for the report");
    assert!(std::fs::metadata(&report).unwrap().len() > 0, "the report is written");
    assert!(h.state.toasts.iter().any(|t| t.text.contains("the read is not recorded")), "{:?}", h.state.toasts);
    assert_eq!(entries(), before);

    // A verification run again that stops at an unreadable file (someone holding its lock) does not turn
    // signing back on; one that finds the record intact does.
    h.send(Msg::Integrity(Box::new(unread.clone())));
    at(|| h.press(KeyCode::Char('a')));
    assert!(h.state.modals.is_empty(), "still off after a verdict that read nothing");
    h.send(Msg::Integrity(Box::new(intact)));
    at(|| h.press(KeyCode::Char('a')));
    assert!(matches!(h.state.modals.last(), Some(rollcall::tui::state::Modal::Action(d)) if d.step == Step::Review));

    // Not read is not tampered: on its own it does not stop signing (the banner says the verification
    // stopped).
    let mut h = harness(&d, 120, 32, false);
    h.send(Msg::Integrity(Box::new(unread)));
    approve_first_pending_medium(&mut h);
    assert!(matches!(h.state.modals.last(), Some(rollcall::tui::state::Modal::Action(d)) if d.step == Step::Review));
    assert_eq!(entries(), before);

    // The report's dialog, passphrase typed, when the verdict arrives: the report is written unrecorded.
    let mut h = harness(&d, 120, 32, false);
    let report = d.dir.join("report-after-verdict.md");
    at(|| h.type_str(&format!(":report {}", report.display())));
    at(|| h.press(KeyCode::Enter));
    assert!(matches!(h.state.modals.last(), Some(rollcall::tui::state::Modal::Action(_))), "the signing dialog");
    at(|| h.press(KeyCode::Enter));
    at(|| h.type_str(demo::PASSPHRASE));
    h.send(Msg::Integrity(Box::new(tampered)));
    at(|| h.press(KeyCode::Enter));
    assert!(h.state.modals.is_empty());
    assert!(std::fs::metadata(&report).unwrap().len() > 0, "the report is written");
    assert_eq!(entries(), before, "the read is not recorded");
}

/// Issue 15: `verify` on all cores (the requests folded in parallel on connections of their own, beside
/// the walk), the same with almost nothing to hold (most requests folded from their stored rows after the
/// walk) and the console's background verification (one thread, small caches, every request folded on
/// one connection after the walk) give the same report, and the background one reports its progress,
/// rising, up to the whole.
#[test]
fn a_verification_in_the_background_finds_what_the_full_one_finds() {
    use rollcall::workflow::verify::{Budget, verify_with};
    let (_tmp, d) = demo_copy();
    let ctx = d.context();
    let full = at(|| verify_with(&ctx, Budget { threads: 2, cache_kib: 4096, hold_kib: 32 * 1024 }, None)).unwrap();
    let mut seen: Vec<(u64, u64)> = Vec::new();
    let background =
        at(|| verify_with(&ctx, Budget::background(), Some(&mut |done, total| seen.push((done, total))))).unwrap();
    let held_little = at(|| verify_with(&ctx, Budget { threads: 2, cache_kib: 4096, hold_kib: 1 }, None)).unwrap();
    assert!(full.intact() && background.intact() && held_little.intact());
    let key = |r: &rollcall::workflow::verify::VerifyReport| {
        (
            r.discounted.iter().map(|x| (x.id, x.kind.clone(), x.reason.clone())).collect::<Vec<_>>(),
            r.blobs.checked,
            r.blobs.not_held,
            r.origins.iter().map(|o| (o.origin.clone(), o.verified, o.signatures)).collect::<Vec<_>>(),
        )
    };
    assert_eq!(key(&full), key(&background));
    assert_eq!(key(&full), key(&held_little));
    assert!(full.blobs.checked > 0, "the demo's evidence and change sets are checked");
    let (first, last) = (seen[0], *seen.last().unwrap());
    assert_eq!(first.0, 0);
    assert_eq!(last.0, last.1, "it ends at the whole: {seen:?}");
    assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0 && w[0].1 == w[1].1), "{seen:?}");
    let entries: u64 = full.origins.iter().map(|o| o.size).sum();
    assert!(last.1 > entries, "the total counts the requests to evaluate too");
}

/// Issue 16: an auditor's read-only console on a ledger whose request index was never built (requests
/// filed from the command line, never listed) shows the queue, built in the connection's private
/// temporary database, and writes nothing to the file.
#[test]
fn a_read_only_console_builds_a_missing_index_without_writing() {
    let (_tmp, d) = demo_copy();
    {
        let c = rusqlite::Connection::open(&d.ledger).unwrap();
        c.execute_batch("DROP TABLE request_index; DROP TABLE search_fts; DROP TABLE index_meta;").unwrap();
    }
    let digest = |p: &std::path::Path| std::fs::read(p).map(|b| rollcall::ledger::Hash::of(&[&b])).ok();
    let wal = d.ledger.with_extension("db-wal");
    let before = (digest(&d.ledger), digest(&wal));
    let mut h = harness(&d, 120, 32, true);
    let screen = h.render();
    assert!(!screen.contains("no such table"), "{screen}");
    assert!(h.state.queue.total.unwrap_or(0) > 0 && !h.state.queue.rows.is_empty(), "{screen}");
    h.press(KeyCode::Char('/'));
    h.type_str("checkout");
    h.press(KeyCode::Enter);
    assert!(!h.render().contains("no such table"), "search uses the temporary index too");
    drop(h);
    let after = (digest(&d.ledger), digest(&wal));
    assert_eq!(after.0, before.0, "the ledger file is unchanged");
    assert!(
        after.1.is_none() || after.1 == before.1 || std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0) == 0,
        "the WAL is unchanged: {before:?} {after:?}"
    );
    let c = rusqlite::Connection::open_with_flags(&d.ledger, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let tables: i64 = c
        .query_row("SELECT COUNT(*) FROM sqlite_master WHERE name IN ('request_index', 'index_meta')", [], |r| r.get(0))
        .unwrap();
    assert_eq!(tables, 0, "no index was written to the file");
}

/// Every row of the dialog box drawn on `screen` (the rows between its top and bottom borders).
fn assert_on_screen(screen: &str, wanted: &[&str]) {
    for w in wanted {
        assert!(screen.contains(w), "{w:?} is not on screen:\n{screen}");
    }
}

/// Selects the first pending medium-risk request of the queue, opens it and asks to approve it.
fn approve_first_pending_medium(h: &mut Harness) {
    let target = h.state.queue.rows.iter().position(|r| r.status == "pending" && r.tier == "medium").unwrap();
    for _ in 0..target {
        at(|| h.press(KeyCode::Char('j')));
    }
    at(|| h.press(KeyCode::Enter));
    at(|| h.press(KeyCode::Char('a')));
}

#[test]
fn the_signing_dialogs_fit_at_80x24_and_60x20() {
    for (w, hgt) in [(80u16, 24u16), (60, 20)] {
        // bob files a new request: the form, its passphrase and a wrong passphrase's error are all drawn.
        let (_tmp, d) = demo_copy();
        let mut h = harness(&d, w, hgt, false);
        sign_in(&mut h, &d, "bob");
        h.state.emergency = at(|| rollcall::workflow::waiting::may_invoke_emergency(&d.context(), Some("bob")));
        at(|| h.press(KeyCode::Char('N')));
        for _ in 0..14 {
            at(|| h.press(KeyCode::Enter));
        }
        assert_on_screen(&h.render(), &["is required"]);
        if let Some(rollcall::tui::state::Modal::Action(dlg)) = h.state.modals.last_mut() {
            dlg.focus = usize::from(dlg.fields[0].label == "git commit");
            dlg.error = None;
        }
        for v in ["Roll back search ranking", "deploy-9001", "relevance dropped", "stale ranking", "search"] {
            at(|| h.type_str(v));
            at(|| h.press(KeyCode::Tab));
        }
        for v in ["staging", "helm rollback search 9000", "9001", "9000"] {
            at(|| h.type_str(v));
            at(|| h.press(KeyCode::Tab));
        }
        let step = |h: &Harness| match h.state.modals.last() {
            Some(rollcall::tui::state::Modal::Action(dlg)) => dlg.step,
            _ => panic!("the form closed"),
        };
        while step(&h) != Step::Passphrase {
            at(|| h.press(KeyCode::Enter));
        }
        at(|| h.type_str("not-the-passphrase"));
        at(|| h.press(KeyCode::Enter));
        let screen = h.render();
        assert_on_screen(&screen, &["3/3", "passphrase", "wrong passphrase", "New rollback request"]);
        insta::assert_snapshot!(format!("new_request_wrong_passphrase_{w}x{hgt}"), redact(&screen));
        // The passphrase typed next is drawn (masked) where it is typed.
        at(|| h.type_str("abc"));
        assert_on_screen(&h.render(), &["•••█"]);

        // carol approves: what will be signed, her comment and her passphrase fit.
        let (_tmp, d) = demo_copy();
        let mut h = harness(&d, w, hgt, false);
        approve_first_pending_medium(&mut h);
        let review = h.render();
        assert_on_screen(&review, &["1/3", "request", "title"]);
        assert_on_screen(&review, &["risk", "100); 0 of 1 approvals"]);
        at(|| h.press(KeyCode::Enter));
        at(|| h.type_str("graphs confirm the regression"));
        assert_on_screen(&h.render(), &["comment", "graphs confirm the regression█"]);
        at(|| h.press(KeyCode::Enter));
        at(|| h.type_str("wrong"));
        at(|| h.press(KeyCode::Enter));
        let screen = h.render();
        assert_on_screen(&screen, &["comment", "passphrase", "wrong passphrase"]);
        insta::assert_snapshot!(format!("approve_wrong_passphrase_{w}x{hgt}"), redact(&screen));
    }
    // Shorter still, what will be signed scrolls while it is reviewed, and says so.
    let (_tmp, d) = demo_copy();
    let mut h = harness(&d, 60, 12, false);
    approve_first_pending_medium(&mut h);
    let review = h.render();
    assert_on_screen(&review, &["1/3", "request", "↑/↓ scroll"]);
    assert!(!review.contains("100); 0 of 1 approvals"), "{review}");
    at(|| h.press(KeyCode::PageDown));
    assert_on_screen(&h.render(), &["100); 0 of 1 approvals"]);
    at(|| h.press(KeyCode::Home));
    assert_eq!(h.render(), review);
}

#[test]
fn carol_approves_the_first_request_waiting_on_her_approval_in_six_keys_at_80x24() {
    use rollcall::workflow::waiting::{Stand, Turn};
    let (_tmp, d) = demo_copy();
    let mut h = harness(&d, 80, 24, false);
    let screen = h.render();
    assert!(screen.contains("waiting on you") && screen.contains("▶ approve"), "{screen}");
    // What waits on her comes first, most urgent first: the overdue emergency review, then approvals.
    let rows = &h.state.queue.rows;
    let at_row = rows.iter().position(|r| r.stand == Some(Stand::Waiting(Turn::Approve))).unwrap();
    assert!(rows[..at_row].iter().all(|r| matches!(r.stand, Some(Stand::Waiting(_)))), "{rows:?}");
    let first = rows[at_row].clone();
    let mut keys = 0;
    let mut press = |h: &mut Harness, k: KeyCode| {
        keys += 1;
        at(|| h.press(k));
    };
    for _ in 0..at_row {
        press(&mut h, KeyCode::Char('j'));
    }
    press(&mut h, KeyCode::Enter);
    press(&mut h, KeyCode::Char('a'));
    press(&mut h, KeyCode::Enter);
    at(|| h.type_str("checked the graphs"));
    press(&mut h, KeyCode::Enter);
    at(|| h.type_str(demo::PASSPHRASE));
    press(&mut h, KeyCode::Enter);
    assert!(keys <= 6, "{keys} keys");
    assert!(h.state.modals.is_empty(), "{}", h.render());
    assert!(h.state.toasts.iter().any(|t| t.text.contains("signed and recorded")), "{:?}", h.state.toasts);
    // Approving again is refused as it is asked for, before a comment or a passphrase.
    at(|| h.press(KeyCode::Char('a')));
    assert!(h.state.modals.is_empty());
    assert!(
        h.state.toasts.iter().any(|t| t.text.contains("you already approved this version")),
        "{:?}",
        h.state.toasts
    );
    assert!(!h.render().contains("a approve"), "the hint bar no longer offers it");
    // Back on the queue the request is no longer waiting on her: her approval is marked.
    at(|| h.press(KeyCode::Esc));
    let row = h.state.queue.rows.iter().find(|r| r.id == first.id).unwrap();
    assert_eq!(row.stand, Some(Stand::Approved), "{row:?}");
    assert!(h.state.queue.rows.first().is_none_or(|r| r.id != first.id));
}

#[test]
fn bob_files_an_emergency_request_in_one_form_and_frank_is_told_who_may() {
    let (_tmp, d) = demo_copy();
    let mut h = harness(&d, 80, 24, false);
    sign_in(&mut h, &d, "bob");
    assert_eq!(h.state.emergency, Ok(()), "the on-call requester may break glass");
    at(|| h.press(KeyCode::Char('N')));
    if let Some(rollcall::tui::state::Modal::Action(dlg)) = h.state.modals.last_mut() {
        dlg.focus = usize::from(dlg.fields[0].label == "git commit");
    }
    for v in [
        "Roll back checkout: card declines",
        "deploy-777",
        "every card payment declined since 03:02",
        "no checkout",
        "checkout",
        "production",
        "helm rollback checkout 776",
        "777",
        "776",
    ] {
        at(|| h.type_str(v));
        at(|| h.press(KeyCode::Tab));
    }
    at(|| h.press(KeyCode::Tab)); // category
    at(|| h.press(KeyCode::Tab)); // risk
    at(|| h.press(KeyCode::Right)); // emergency: yes
    assert!(h.render().contains("yes, invoke it now"), "{}", h.render());
    at(|| h.press(KeyCode::Enter));
    at(|| h.type_str(demo::PASSPHRASE));
    at(|| h.press(KeyCode::Enter));
    assert!(h.state.modals.is_empty(), "{}", h.render());
    let listed = at(|| rollcall::workflow::query::list(&d.context(), &Default::default())).unwrap();
    let mine = listed.iter().find(|r| r.title == "Roll back checkout: card declines").expect("filed");
    assert_eq!(mine.status, "emergency");
    // The request just filed is the one shown.
    assert_eq!(h.state.screen, Screen::Detail);
    assert_eq!(h.state.detail.as_ref().map(|x| x.id), Some(mine.id));

    // frank files requests but is not on call: the form says he may not break glass, and who may.
    let mut h = harness(&d, 80, 24, false);
    sign_in(&mut h, &d, "frank");
    let why = h.state.emergency.clone().unwrap_err();
    assert!(why.contains("may invoke the emergency path — ask ") && why.contains("bob"), "{why}");
    at(|| h.press(KeyCode::Char('N')));
    let screen = h.render();
    assert!(screen.contains("emergency only") && !screen.contains("yes, invoke"), "{screen}");
}

#[test]
fn slash_filters_the_queue_as_you_type_and_esc_clears_it() {
    let (_tmp, d) = demo_copy();
    let mut h = harness(&d, 120, 30, false);
    let all = h.state.queue.total.unwrap();
    at(|| h.press(KeyCode::Char('/')));
    at(|| h.type_str("ledger-s"));
    let rows = &h.state.queue.rows;
    assert!(!rows.is_empty() && (rows.len() as u64) < all, "{} of {all}", rows.len());
    assert!(rows.iter().all(|r| r.title.to_lowercase().contains("ledger-s")), "{rows:?}");
    assert_eq!(h.state.queue.total, Some(rows.len() as u64));
    let screen = h.render();
    assert!(screen.contains("matching \"ledger-s\"") && screen.contains("/ledger-s█"), "{screen}");
    // The match is highlighted in the title.
    let (x, y) = (0..30u16)
        .flat_map(|y| (0..120u16).map(move |x| (x, y)))
        .find(|(x, y)| {
            let buf = h.terminal.backend().buffer();
            y > &5 // below the title bar, the observed rollback's box and the queue's title
                && buf[(*x, *y)].symbol() == "l"
                && buf[(*x + 1, *y)].symbol() == "e"
                && buf[(*x + 6, *y)].symbol() == "-"
        })
        .expect("a match on screen");
    let accent = h.state.theme.accent.fg;
    assert_eq!(h.terminal.backend().buffer()[(x, y)].fg, accent.unwrap_or_default());
    // Enter keeps the filter and leaves the input; Esc (from a new `/`) clears it.
    at(|| h.press(KeyCode::Enter));
    assert!(h.state.filter_input.is_none() && h.state.queue_filter.text.is_some());
    // Wildcards are text: "ledger-%_" would match "ledger-sync" if they were not.
    at(|| h.press(KeyCode::Char('/')));
    at(|| h.press(KeyCode::Backspace));
    at(|| h.type_str("%_"));
    assert_eq!(h.state.queue.total, Some(0));
    at(|| h.press(KeyCode::Esc));
    assert_eq!(h.state.queue.total, Some(all));
    assert!(h.state.queue_filter.text.is_none());
}

#[test]
fn colon_completes_commands_suggests_the_nearest_and_help_searches() {
    let (_tmp, d) = demo_copy();
    let mut h = harness(&d, 120, 30, false);
    at(|| h.press(KeyCode::Char(':')));
    at(|| h.type_str("d"));
    assert!(h.render().contains(":d█   dashboard"), "{}", h.render());
    at(|| h.press(KeyCode::Tab));
    assert_eq!(h.state.command.as_deref(), Some("dashboard "));
    at(|| h.press(KeyCode::Enter));
    assert_eq!(h.state.screen, Screen::Dashboard);
    // Aliases, and the nearest command for a typo.
    at(|| h.press(KeyCode::Char(':')));
    at(|| h.type_str("2"));
    at(|| h.press(KeyCode::Enter));
    assert_eq!(h.state.screen, Screen::History);
    at(|| h.press(KeyCode::Char(':')));
    at(|| h.type_str("histroy"));
    at(|| h.press(KeyCode::Enter));
    assert!(h.state.toasts.iter().any(|t| t.text.contains("did you mean :history?")), "{:?}", h.state.toasts);
    // `?` then `/` narrows the help to what matches.
    at(|| h.press(KeyCode::Char('?')));
    let all = h.render();
    assert!(all.contains("quit") && all.contains("move down"), "{all}");
    // The screen's own actions first (the history's, here).
    assert!(all.contains("inspect (on this screen)") && all.contains("request (on this screen)"), "{all}");
    at(|| h.press(KeyCode::Char('/')));
    at(|| h.type_str("clipboard"));
    at(|| h.press(KeyCode::Enter));
    let found = h.render();
    assert!(found.contains("copy the selected id") && !found.contains("approve ("), "{found}");
    at(|| h.press(KeyCode::Esc));
    assert!(h.state.modals.is_empty());
}

#[test]
fn the_screen_names_on_the_title_bar_are_clickable() {
    use ratatui::crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    let (_tmp, d) = demo_copy();
    for w in [120u16, 60] {
        let mut h = harness(&d, w, 30, false);
        let bar = h.render().lines().next().unwrap().to_string();
        let name = if w == 120 { "2:History" } else { "2:H" };
        let col =
            bar.chars().collect::<Vec<_>>().windows(name.len()).position(|x| x.iter().collect::<String>() == name);
        let col = col.expect("the history's name is on the bar") as u16 + 1;
        let click = MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: col,
            row: 0,
            modifiers: KeyModifiers::NONE,
        };
        at(|| h.send(Msg::Mouse(click)));
        h.settle();
        assert_eq!(h.state.screen, Screen::History, "{bar}");
    }
}

#[test]
fn an_auditor_reads_members_policy_versions_and_obligations() {
    let (_tmp, d) = demo_copy();
    let mut h = harness(&d, 120, 40, true);
    let viewer = |h: &mut Harness, cmd: &str| -> String {
        at(|| h.press(KeyCode::Char(':')));
        at(|| h.type_str(cmd));
        at(|| h.press(KeyCode::Enter));
        let Some(rollcall::tui::state::Modal::Viewer { lines, .. }) = h.state.modals.last() else {
            panic!(":{cmd} opens a viewer")
        };
        let text = lines.join("\n");
        at(|| h.press(KeyCode::Esc));
        text
    };
    let members = viewer(&mut h, "members");
    assert!(
        members.contains("carol") && members.contains("enrolled at #") && members.contains("approver"),
        "{members}"
    );
    assert!(members.contains("bob") && members.contains("requester, on-call"), "{members}");
    let policy = viewer(&mut h, "policy");
    assert!(policy.contains("version 1") && policy.contains("in force from #0"), "{policy}");
    let due = viewer(&mut h, "due");
    assert!(due.contains("post-hoc-review") && due.contains("OVERDUE"), "{due}");
}

#[test]
fn an_overdue_emergency_review_waits_on_an_approver_and_is_signed_from_the_console() {
    use rollcall::workflow::waiting::{Stand, Turn};
    let (_tmp, d) = demo_copy();
    let mut h = harness(&d, 120, 30, false);
    let row = h.state.queue.rows.iter().position(|r| r.status == "review-due").expect("the demo's overdue review");
    assert_eq!(h.state.queue.rows[row].stand, Some(Stand::Waiting(Turn::Review)), "{:?}", h.state.queue.rows[row]);
    assert!(h.render().contains("▶ review"));
    for _ in 0..row {
        at(|| h.press(KeyCode::Char('j')));
    }
    at(|| h.press(KeyCode::Enter));
    assert!(h.render().contains("w review"), "the hint bar offers it: {}", h.render());
    at(|| h.press(KeyCode::Char('w')));
    at(|| h.press(KeyCode::Enter)); // past what will be signed
    at(|| h.press(KeyCode::Tab)); // kind stays post-hoc
    at(|| h.type_str("gateway outage: the revert was right; add a canary for the config"));
    at(|| h.press(KeyCode::Enter));
    at(|| h.type_str(demo::PASSPHRASE));
    at(|| h.press(KeyCode::Enter));
    assert!(h.state.modals.is_empty(), "{}", h.render());
    let detail = h.state.detail.as_ref().unwrap().data.as_ref().unwrap();
    assert_ne!(detail.status, "review-due", "the review is recorded");
}

/// Erin broke the glass on the demo's overdue emergency and ran its revert: her queue does not ask her for
/// its post-hoc review, and the console's review dialog offers her a post-incident review only, saying why.
#[test]
fn the_emergencys_invoker_is_not_asked_for_its_post_hoc_review_and_cannot_sign_it() {
    use rollcall::workflow::waiting::{Stand, Turn};
    let (_tmp, d) = demo_copy();
    let entries = || -> i64 {
        let c = rusqlite::Connection::open(&d.ledger).unwrap();
        c.query_row("SELECT count(*) FROM entries", [], |r| r.get(0)).unwrap()
    };
    let before = entries();
    let erin = Options { read_only: false, signer: Some("erin".into()), banner: None };
    let mut h = clock::at(fixed_now(), || Harness::new(d.context(), erin, 120, 30));
    let row = h.state.queue.rows.iter().position(|r| r.status == "review-due").expect("the demo's overdue review");
    assert_ne!(h.state.queue.rows[row].stand, Some(Stand::Waiting(Turn::Review)), "{:?}", h.state.queue.rows[row]);
    for _ in 0..row {
        at(|| h.press(KeyCode::Char('j')));
    }
    at(|| h.press(KeyCode::Enter));
    at(|| h.press(KeyCode::Char('w')));
    let screen = h.render();
    let Some(rollcall::tui::state::Modal::Action(dialog)) = h.state.modals.last() else { panic!("{screen}") };
    assert_eq!(dialog.fields[0].choices, ["post-incident"], "{screen}");
    assert!(screen.contains("post-hoc  not offered: the signer invoked this emergency"), "{screen}");
    at(|| h.press(KeyCode::Esc));
    assert_eq!(entries(), before);
}

#[test]
fn the_history_search_follows_each_key_and_esc_clears_it() {
    let (_tmp, d) = demo_copy();
    let mut h = harness(&d, 120, 30, true);
    at(|| h.press(KeyCode::Char('2')));
    at(|| h.press(KeyCode::Char('/')));
    // A word being typed already matches: "fra" finds "fraud".
    at(|| h.type_str("fra"));
    let (q, rows, _) = h.state.history.search.clone().expect("searching as it is typed");
    assert_eq!(q, "fra");
    assert!(!rows.is_empty() && rows.iter().any(|r| r.request.as_ref().is_some_and(|(_, t)| t.contains("fraud"))));
    at(|| h.type_str("ud model"));
    let (_, rows, _) = h.state.history.search.clone().unwrap();
    assert!(rows[0].request.as_ref().unwrap().1.contains("fraud model"));
    // Quotes and FTS operators are text.
    at(|| h.type_str(" \"OR* NEAR("));
    assert!(h.state.toasts.iter().all(|t| !t.error), "{:?}", h.state.toasts);
    at(|| h.press(KeyCode::Esc));
    assert!(h.state.history.search.is_none() && h.state.search_input.is_none());
}

#[test]
fn a_wide_queue_shows_the_selected_request_beside_it() {
    let (_tmp, d) = demo_copy();
    let mut h = harness(&d, 160, 40, false);
    h.settle();
    let first = h.state.queue.current().unwrap().id;
    assert_eq!(h.state.detail.as_ref().map(|x| x.id), Some(first), "the selection is loaded beside the list");
    at(|| h.press(KeyCode::Char('j')));
    let second = h.state.queue.current().unwrap().clone();
    assert_eq!(h.state.detail.as_ref().map(|x| x.id), Some(second.id), "and follows it");
    assert_eq!(h.state.screen, Screen::Queue);
    let screen = h.render();
    let right: String = screen.lines().map(|l| l.chars().skip(80).collect::<String>()).collect::<Vec<_>>().join("\n");
    assert!(right.contains("Request ") && right.contains(&second.title[..20]), "{screen}");
    // Narrower, the queue is the list alone again.
    let mut h = harness(&d, 120, 40, false);
    assert!(!h.render().contains("Request "));
}

/// Issue 16: `/` searches a viewer (members, policy, obligations, an evidence page) as in `less`: the view
/// scrolls to the first match as it is typed, matches are highlighted, `n`/`N` go to the next and the
/// previous (round), `Esc` clears the search and a second `Esc` closes the viewer.
#[test]
fn a_viewer_searches_with_slash_n_and_shift_n() {
    use rollcall::tui::state::Modal;
    let mut s = bare();
    s.size = (80, 24);
    let lines: Vec<String> = (0..60)
        .map(|i| if i % 20 == 7 { format!("member {i}: Erin, release-manager") } else { format!("line {i}") })
        .collect();
    update::update(&mut s, Msg::Viewer { title: "members".into(), lines, pager: None });
    let at = |s: &rollcall::tui::state::AppState| match s.modals.last() {
        Some(Modal::Viewer { scroll, find, .. }) => (*scroll, find.line, find.query.clone()),
        _ => panic!("the viewer closed"),
    };
    update::update(&mut s, key(KeyCode::Char('/')));
    for c in "erin".chars() {
        update::update(&mut s, key(KeyCode::Char(c)));
    }
    assert_eq!(at(&s), (7, Some(7), "erin".into()), "scrolled to the first match (any case) while typing");
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 24)).unwrap();
    terminal.draw(|f| rollcall::tui::view::draw(f, &s)).unwrap();
    let screen = rollcall::tui::harness::screen(&terminal);
    assert!(screen.contains("/erin█"), "{screen}");
    update::update(&mut s, key(KeyCode::Enter));
    terminal.draw(|f| rollcall::tui::view::draw(f, &s)).unwrap();
    let screen = rollcall::tui::harness::screen(&terminal);
    assert!(screen.contains("/erin: 1 of 3 (n/N), Esc clears"), "{screen}");
    // The match is drawn in the accent style, the rest of its line is not.
    let buf = terminal.backend().buffer();
    let row = (0..24).find(|y| (0..80).map(|x| buf[(x, *y)].symbol()).collect::<String>().contains("Erin")).unwrap();
    let x = (0..80).find(|x| buf[(*x, row)].symbol() == "E").unwrap();
    assert_eq!(buf[(x, row)].style().fg, s.theme.accent.fg, "the match is highlighted");
    assert_ne!(buf[(x - 2, row)].style().fg, s.theme.accent.fg, "only the match");
    update::update(&mut s, key(KeyCode::Char('n')));
    assert_eq!(at(&s).1, Some(27));
    update::update(&mut s, key(KeyCode::Char('n')));
    update::update(&mut s, key(KeyCode::Char('n')));
    assert_eq!(at(&s).1, Some(7), "round to the first");
    update::update(&mut s, key(KeyCode::Char('N')));
    assert_eq!(at(&s).1, Some(47), "and back round to the last");
    update::update(&mut s, key(KeyCode::Esc));
    assert_eq!(at(&s).2, "", "Esc clears the search first");
    update::update(&mut s, key(KeyCode::Esc));
    assert!(s.modals.is_empty(), "then closes the viewer");
}

/// Issue 16: the help's lines are runnable: `j`/`k` select one, `Enter` closes the help and runs it as its
/// key (or its `:` command) would, on the screen under the help.
#[test]
fn help_lines_run_with_enter() {
    use rollcall::tui::state::Modal;
    let mut s = bare();
    update::update(&mut s, key(KeyCode::Char('?')));
    // The queue's own actions come first: open, filter, status, …
    let entries = rollcall::tui::help::entries(&s, "");
    assert_eq!(entries[2].run, Some(rollcall::tui::help::Run::Action(rollcall::tui::keymap::Action::FilterStatus)));
    update::update(&mut s, key(KeyCode::Char('j')));
    update::update(&mut s, key(KeyCode::Char('j')));
    update::update(&mut s, key(KeyCode::Enter));
    assert!(matches!(s.modals.as_slice(), [Modal::Picker { .. }]), "the status picker, in place of the help");
    update::update(&mut s, key(KeyCode::Esc));
    // A search narrows the help; Enter on a command line runs the command.
    update::update(&mut s, key(KeyCode::Char('?')));
    update::update(&mut s, key(KeyCode::Char('/')));
    for c in ":obligations".chars() {
        update::update(&mut s, key(KeyCode::Char(c)));
    }
    update::update(&mut s, key(KeyCode::Enter));
    let cmds = update::update(&mut s, key(KeyCode::Enter));
    assert!(s.modals.is_empty(), "the help closed");
    assert!(cmds.iter().any(|c| matches!(c, Cmd::Governance(_))), "the obligations view is asked for: {cmds:?}");
    // `j` past the last line stays on it.
    update::update(&mut s, key(KeyCode::Char('?')));
    for _ in 0..500 {
        update::update(&mut s, key(KeyCode::Char('j')));
    }
    let n = rollcall::tui::help::entries(&s, "").len() as u16;
    assert!(matches!(s.modals.last(), Some(Modal::Help { scroll, .. }) if *scroll == n - 1));
}

/// Issue 16: `/` on a request's evidence tab filters its list as you type (kind, name, summary, id),
/// matches highlighted; Enter opens the selected match; Esc clears the filter, then goes back.
#[test]
fn the_evidence_list_filters_live_with_slash() {
    let (_tmp, d) = demo_copy();
    let mut h = harness(&d, 100, 30, false);
    at(|| h.press(KeyCode::Enter));
    let item = |n: u8, kind: &str, name: &str| rollcall::tui::model::EvidenceItem {
        id: rollcall::ledger::Hash([n; 32]),
        kind: kind.into(),
        name: name.into(),
        summary: format!("{name}: summary"),
        purged: None,
    };
    let det = h.state.detail.as_mut().unwrap();
    let data = det.data.as_mut().unwrap();
    data.evidence = vec![item(1, "test", "junit.xml"), item(2, "scan", "trivy.json"), item(3, "log", "deploy.log")];
    det.tab = Tab::Evidence;
    at(|| h.press(KeyCode::Char('/')));
    h.type_str("TRIVY");
    let screen = h.render();
    assert!(screen.contains("filters the evidence as you type"), "{screen}");
    assert!(
        screen.contains("trivy.json") && !screen.contains("junit.xml") && !screen.contains("deploy.log"),
        "{screen}"
    );
    assert!(screen.contains("/TRIVY: 1 of 3"), "{screen}");
    // The match is in the accent colour.
    let buf = h.terminal.backend().buffer();
    let row =
        (0..30).find(|y| (0..100).map(|x| buf[(x, *y)].symbol()).collect::<String>().contains("trivy.json")).unwrap();
    let x = (0..100).find(|x| buf[(*x, row)].symbol() == "t" && buf[(*x + 1, row)].symbol() == "r").unwrap();
    assert_eq!(buf[(x, row)].style().fg, h.state.theme.accent.fg);
    at(|| h.press(KeyCode::Enter)); // keeps the filter
    let det = h.state.detail.as_ref().unwrap();
    assert_eq!(det.evidence_filter, Some(("TRIVY".to_string(), false)));
    assert_eq!(det.evidence_shown()[det.evidence_selected].1.id, rollcall::ledger::Hash([2; 32]));
    at(|| h.press(KeyCode::Esc)); // clears the filter, stays on the request
    assert_eq!(h.state.screen, Screen::Detail);
    assert!(h.state.detail.as_ref().unwrap().evidence_filter.is_none());
    assert_eq!(h.state.detail.as_ref().unwrap().evidence_shown().len(), 3);
    at(|| h.press(KeyCode::Esc));
    assert_ne!(h.state.screen, Screen::Detail, "then Esc goes back");
}

#[test]
fn an_unrecorded_rollback_is_on_top_of_the_queue_and_f_files_its_post_hoc_request_in_one_form() {
    let (_tmp, d) = demo_copy();
    let mut h = harness(&d, 80, 24, false);
    // carol (an approver) may not file requests: told so, and who may, before any form opens.
    at(|| h.press(KeyCode::Up));
    at(|| h.press(KeyCode::Char('f')));
    assert!(h.state.modals.is_empty());
    let told = h.state.toasts.last().map(|t| t.text.clone()).unwrap_or_default();
    assert!(told.contains("may file requests — ask ") && told.contains("bob"), "{told}");
    at(|| h.press(KeyCode::Down));
    sign_in(&mut h, &d, "bob");
    assert_eq!(h.state.alerts.len(), 1, "{:?}", h.state.alerts);
    let screen = h.render();
    assert!(screen.contains("1 rollback ran without a cleared request"), "{screen}");
    let line = screen.lines().find(|l| l.contains("UNRECORDED")).expect("the alert line");
    assert!(line.contains("production/search 3 → 2 (kubernetes 4)"), "{line}");
    // Drawn in the danger colour, above the requests.
    let y = screen.lines().position(|l| l.contains("UNRECORDED")).unwrap() as u16;
    let queue_y = screen.lines().position(|l| l.contains(" Queue ")).unwrap() as u16;
    assert!(y < queue_y, "{screen}");
    // ↑ from the first request selects it; f opens the post-hoc form, filled from the observation.
    at(|| h.press(KeyCode::Up));
    assert_eq!(h.state.alert_selected, Some(0));
    let screen = h.render();
    assert!(screen.contains("f files the post-hoc request"), "{screen}");
    let hints = screen.lines().last().unwrap_or_default();
    assert!(hints.contains("f file post-hoc") && hints.contains("enter show"), "{hints}");
    assert_eq!(h.terminal.backend().buffer()[(3, y)].bg, h.state.theme.selected.bg.unwrap_or_default());
    at(|| h.press(KeyCode::Char('f')));
    let Some(rollcall::tui::state::Modal::Action(dlg)) = h.state.modals.last() else { panic!("{}", h.render()) };
    let value = |label: &str| dlg.fields.iter().find(|f| f.label == label).map(|f| f.value.clone()).unwrap_or_default();
    assert_eq!(
        (value("environment"), value("component"), value("from"), value("to")),
        ("production".into(), "search".into(), "3".into(), "2".into())
    );
    assert_eq!(
        value("revert command"),
        "kubectl rollout undo deployment/search --to-revision=2 --namespace production"
    );
    assert_eq!(value("emergency"), "yes, invoke it now");
    assert!(
        value("rationale").starts_with("Post-hoc record: kubernetes shows revision 4 of search"),
        "{}",
        value("rationale")
    );
    // One form: sign it.
    at(|| h.press(KeyCode::Enter));
    at(|| h.type_str(demo::PASSPHRASE));
    at(|| h.press(KeyCode::Enter));
    assert!(h.state.modals.is_empty(), "{}", h.render());
    let ctx = d.context();
    let r = at(|| rollcall::workflow::reconcile::reconcile(&ctx, &Default::default())).unwrap();
    assert!(r.unrecorded.is_empty() && r.unauthorized.is_empty(), "{r:?}");
    assert_eq!(r.recorded_after, 1);
    let listed = at(|| rollcall::workflow::query::list(&ctx, &Default::default())).unwrap();
    let filed = listed
        .iter()
        .find(|r| r.title.starts_with("Rollback of search in production: revision 3 to 2"))
        .expect("filed");
    assert_eq!(filed.status, "emergency", "the post-hoc review is now due");
    // Back on the queue the alert is gone.
    at(|| h.press(KeyCode::Esc));
    at(|| h.press(KeyCode::Char('r')));
    assert!(h.state.alerts.is_empty(), "{:?}", h.state.alerts);
}

#[test]
fn enter_on_an_unrecorded_rollback_shows_the_observation_escaped() {
    let (_tmp, d) = demo_copy();
    let mut h = harness(&d, 100, 30, true);
    at(|| h.press(KeyCode::Up));
    at(|| h.press(KeyCode::Enter));
    let screen = h.render();
    assert!(screen.contains("UNRECORDED rollback observed by kubernetes"), "{screen}");
    assert!(screen.contains("kubectl rollout undo deployment/search --to-revision=2"), "{screen}");
    at(|| h.press(KeyCode::Esc));
    // f in a read-only console files nothing.
    at(|| h.press(KeyCode::Char('f')));
    assert!(h.state.modals.is_empty());
    // ↓ returns to the requests; the queue's keys act on them again.
    at(|| h.press(KeyCode::Down));
    assert_eq!(h.state.alert_selected, None);
}

#[test]
fn o_on_an_observed_deployment_in_the_history_files_a_request_to_roll_it_back() {
    let (_tmp, d) = demo_copy();
    let mut h = harness(&d, 120, 30, false);
    sign_in(&mut h, &d, "bob");
    at(|| h.press(KeyCode::Char('2')));
    let rows = h.state.history.list.rows.clone();
    let observed: Vec<usize> =
        rows.iter().enumerate().filter(|(_, r)| r.kind == "deployment.observed").map(|(i, _)| i).collect();
    assert!(!observed.is_empty(), "the demo's ingested histories are the latest entries");
    let mut seen_plain = false;
    for i in observed {
        h.state.history.list.selected = i;
        at(|| h.press(KeyCode::Char('o')));
        let Some(rollcall::tui::state::Modal::Action(dlg)) = h.state.modals.last() else {
            // The first deployment of a history has nothing before it to return to: said, no form.
            let told = h.state.toasts.last().map(|t| t.text.clone()).unwrap_or_default();
            assert!(told.contains("nothing to roll back to"), "{told}");
            continue;
        };
        let value =
            |label: &str| dlg.fields.iter().find(|f| f.label == label).map(|f| f.value.clone()).unwrap_or_default();
        assert_eq!(value("environment"), "production");
        if dlg.title == "Request to roll back an observed deployment"
            && value("component") == "search"
            && value("from") == "3"
        {
            // The search Deployment's revision 3: the request goes back to revision 2.
            assert_eq!(value("to"), "2");
            assert_eq!(
                value("revert command"),
                "kubectl rollout undo deployment/search --to-revision=2 --namespace production"
            );
            assert_eq!(value("emergency"), "no", "nothing ran yet: no emergency");
            assert!(value("rationale").is_empty(), "why is the requester's to say");
            seen_plain = true;
        }
        at(|| h.press(KeyCode::Esc));
        h.state.modals.clear();
    }
    assert!(seen_plain, "the search Deployment's revision 3 is among the observations");
}

/// A team ledger with the GitHub fixture's deployments (one rollback) ingested by bob for production, with
/// `extra` ingest arguments, and bob's console open on the History tab.
fn github_history(extra: &[&str]) -> (common::Env, rollcall::tui::harness::Harness) {
    let env = common::team();
    let gh = env.home().join("gh.json");
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ingest/github-deployments-rollback.json"),
        &gh,
    )
    .unwrap();
    let mut args = vec!["ingest", "github", gh.to_str().unwrap(), "--env", "production", "--as", "bob"];
    args.extend(extra);
    env.ok(&args);
    let mut h = common::console(&env, "bob", 140, 30);
    h.press(KeyCode::Char('2'));
    (env, h)
}

/// A GitHub deployment has no rollback command rollcall knows: the form opened on its observation leaves
/// the command empty and says why (a sentence is no argv to sign); for a rollback that already ran, the
/// focus starts on the command field.
#[test]
fn o_on_an_observation_without_a_known_rollback_command_leaves_the_command_to_the_filer() {
    let (_env, mut h) = github_history(&[]);
    let rows = h.state.history.list.rows.clone();
    let observed: Vec<usize> =
        rows.iter().enumerate().filter(|(_, r)| r.kind == "deployment.observed").map(|(i, _)| i).collect();
    let (mut forms, mut post_hoc) = (0, 0);
    for i in observed {
        h.state.history.list.selected = i;
        h.press(KeyCode::Char('o'));
        let Some(rollcall::tui::state::Modal::Action(dlg)) = h.state.modals.last() else { continue };
        forms += 1;
        let command = dlg.fields.iter().find(|f| f.label == "revert command").expect("the field");
        assert_eq!(command.value, "", "no sentence as a command");
        let said = dlg.preview.iter().find(|l| l.starts_with("revert ")).cloned().unwrap_or_default();
        assert!(
            said.contains("rollcall knows no rollback command for github deployments: type the exact command"),
            "{said}"
        );
        if dlg.title == "Post-hoc request for an unrecorded rollback" {
            post_hoc += 1;
            assert!(said.contains("the exact command that ran"), "{said}");
            assert_eq!(dlg.fields[dlg.focus].label, "revert command");
        }
        h.press(KeyCode::Esc);
        h.state.modals.clear();
    }
    assert!(forms >= 2 && post_hoc == 1, "{forms} forms, {post_hoc} post-hoc");
}

/// A form filled from an observation holds the names as recorded (what `request new --from-observed`
/// files), not the escaped display text: a component with a zero-width space was filed as the literal
/// `api<U+200B>`. The form shows the value escaped.
#[test]
fn a_form_filled_from_an_observation_holds_its_names_as_recorded_and_shows_them_escaped() {
    let (_env, mut h) = github_history(&["--component", "api\u{200b}"]);
    let rows = h.state.history.list.rows.clone();
    let mut forms = 0;
    for (i, _) in rows.iter().enumerate().filter(|(_, r)| r.kind == "deployment.observed") {
        h.state.history.list.selected = i;
        h.press(KeyCode::Char('o'));
        let Some(rollcall::tui::state::Modal::Action(dlg)) = h.state.modals.last() else { continue };
        forms += 1;
        let component = dlg.fields.iter().find(|f| f.label == "component").expect("the field");
        assert_eq!(component.value, "api\u{200b}");
        if dlg.title == "Post-hoc request for an unrecorded rollback" {
            let rationale = dlg.fields.iter().find(|f| f.label == "rationale").expect("the field");
            assert!(rationale.value.contains(" of api\u{200b} in production"), "{}", rationale.value);
        }
        h.press(KeyCode::Enter);
        let screen = h.render();
        assert!(screen.contains("api<U+200B>") && !screen.contains('\u{200b}'), "{screen}");
        h.press(KeyCode::Esc);
        h.state.modals.clear();
    }
    assert!(forms >= 2, "{forms} forms");

    // The dashboard's bars name environments escaped (a peer's request may spell one with a bidi
    // override), and a toast quoting what a worker said is escaped too.
    h.press(KeyCode::Char('3'));
    if let Some(m) = h.state.metrics.as_mut() {
        m.by_env = vec![("prod\u{202e}".into(), 2)];
    }
    let screen = h.render();
    assert!(screen.contains("prod<U+202") && !screen.contains('\u{202e}'), "{screen}");
    h.send(Msg::Notice("said \u{1b}]52;c;cm0gLXJmIH4K\u{7}".into()));
    let toast = h.state.toasts.last().unwrap();
    assert!(toast.text.contains("said <U+001B>]52") && !toast.text.contains('\u{7}'), "{:?}", toast.text);
}

/// A console opened while another process rebuilds the request index (the background rebuild after a large
/// import) says why its queue waits before it waits, then shows the queue once the rebuild is done.
#[test]
fn the_console_says_why_its_queue_waits_while_another_process_rebuilds_the_index() {
    use rollcall::tui::worker::{Identity, Worker};
    let env = common::team();
    let req = common::file_request(&env, "bob", "low");
    env.ok(&["list"]);
    let rebuilding = rollcall::workflow::index_lock::exclusive(&env.ledger());
    let (tx, rx) = std::sync::mpsc::channel();
    let ctx = rollcall::workflow::Context {
        ledger_path: env.ledger(),
        keystore: rollcall::identity::Keystore::at(env.home()).throwaway(),
        passphrases: Box::new(rollcall::identity::passphrase::Given(rollcall::identity::Passphrase::new(
            common::PASS.into(),
        ))),
    };
    let mut worker = Worker::new(ctx, Identity { signer: None, read_only: false }).telling(tx);
    let counted = std::thread::spawn(move || {
        worker.handle(Cmd::QueueCount { generation: 1, filter: rollcall::workflow::browse::QueueFilter::default() })
    });
    // Sent before the worker waits: the rebuild is still under way (this test holds its lock).
    match rx.recv().unwrap() {
        Msg::Notice(text) => assert!(text.contains("request index is being brought up to date"), "{text}"),
        other => panic!("expected a notice, got {other:?}"),
    }
    assert!(rollcall::workflow::index_lock::busy(&env.ledger()));
    drop(rebuilding);
    let msgs = counted.join().unwrap();
    assert!(msgs.iter().any(|m| matches!(m, Msg::QueueCount { total: 1, .. })), "{msgs:?} ({req})");

    // The notice is a plain toast, not an error, and the queue keeps waiting for its rows.
    let (_dir, d) = demo_copy();
    let mut h = harness(&d, 120, 30, false);
    h.state.queue.loading = true;
    h.send(Msg::Notice(rollcall::tui::worker::INDEX_BUSY.into()));
    let toast = h.state.toasts.last().unwrap();
    assert!(!toast.error && toast.text.contains("brought up to date"), "{:?}", toast.text);
    assert!(h.state.queue.loading);
}

/// The queue's rows never wait for the alerts above it (a reconcile over every request: about a second
/// on a million entries): the console asks for the first page before the alerts, and the worker answers
/// a page with its rows alone.
#[test]
fn the_queues_rows_do_not_wait_for_the_alerts() {
    use rollcall::tui::worker::{Identity, Worker};
    let (_dir, d) = demo_copy();
    let mut s = bare();
    let cmds = update::init(&mut s);
    let queue = cmds.iter().position(|c| matches!(c, Cmd::Queue { .. })).expect("the first page");
    let alerts = cmds.iter().position(|c| matches!(c, Cmd::Alerts)).expect("the alerts");
    assert!(queue < alerts, "{cmds:?}");
    let mut worker = Worker::new(d.context(), Identity { signer: Some("carol".into()), read_only: false });
    let first = cmds.into_iter().nth(queue).expect("the first page");
    let page = clock::at(fixed_now(), || worker.handle(first));
    assert!(matches!(page.as_slice(), [Msg::Queue { rows, .. }] if !rows.is_empty()), "{page:?}");
    let found = clock::at(fixed_now(), || worker.handle(Cmd::Alerts));
    assert!(matches!(found.as_slice(), [Msg::Alerts(a)] if !a.is_empty()), "the demo has one: {found:?}");
}

/// A damaged page under the request index (disk damage; `verify` finds the record intact, since the index
/// is a cache): the queue says that its rows could not be read and what to do (`rollcall rebuild --into`),
/// in the danger style, instead of "nothing here" under a count of requests it cannot show; the reads that
/// fail for the one cause raise one toast, not one each; the file is not written.
#[test]
fn the_console_on_a_damaged_request_index_says_so_and_what_to_do() {
    let (_tmp, d) = demo_copy();
    let bytes = common::garble_root_page(&d.ledger, "request_index");

    let mut h = harness(&d, 120, 30, true);
    let screen = h.render();
    assert!(h.state.queue.rows.is_empty(), "{screen}");
    assert!(screen.contains("could not read this list: ledger is damaged"), "{screen}");
    assert!(screen.contains("rollcall rebuild --into NEW"), "{screen}");
    assert!(!screen.contains("nothing here"), "{screen}");
    assert!(screen.contains("none readable"), "{screen}");
    assert!(!screen.contains(" 1 of "), "{screen}");
    let y = screen.lines().position(|l| l.contains("could not read this list")).unwrap() as u16;
    let x = screen.lines().nth(y as usize).unwrap().find("could not").unwrap() as u16;
    assert_eq!(h.terminal.backend().buffer()[(x, y)].style().fg, Some(Color::Red), "{screen}");
    let damaged: Vec<_> =
        h.state.toasts.iter().filter(|t| t.error && t.text.starts_with("ledger is damaged")).collect();
    assert_eq!(damaged.len(), 1, "{:?}", h.state.toasts);

    // Refreshing fails again for the same cause: still one toast, and the list still says why.
    at(|| h.press(KeyCode::Char('r')));
    let screen = h.render();
    assert_eq!(h.state.toasts.iter().filter(|t| t.text.starts_with("ledger is damaged")).count(), 1);
    assert!(screen.contains("could not read this list"), "{screen}");
    // The dashboard's figures read the index too: it says why it has none, not "computing…" for ever.
    at(|| h.press(KeyCode::Char('3')));
    let screen = h.render();
    assert!(screen.contains("could not compute the figures: ledger is damaged"), "{screen}");
    assert!(!screen.contains("computing"), "{screen}");
    drop(h);
    assert_eq!(std::fs::read(&d.ledger).unwrap(), bytes, "the console wrote to the damaged file");
}

/// A list that could not be read says so until a page arrives: the next page that loads clears it.
#[test]
fn a_list_failure_clears_when_its_rows_arrive() {
    let mut s = bare();
    use rollcall::tui::model::{Problem, Reading};
    s.queue.loading = true;
    s.history.list.loading = true;
    let damaged =
        |reading| Problem { text: "ledger is damaged: database disk image is malformed".into(), hint: None, reading };
    // A reply to a page a newer one replaced says nothing of the list shown.
    let shown = s.queue.generation;
    update::update(&mut s, Msg::Error(damaged(Reading::Queue(shown + 1))));
    assert!(s.queue.failed.is_none() && s.queue.loading);
    update::update(&mut s, Msg::Error(damaged(Reading::Queue(shown))));
    assert!(s.queue.failed.is_some() && !s.queue.loading);
    assert!(s.history.list.failed.is_none() && s.history.list.loading, "only the list being read failed");
    // The dashboard says why it has no figures, until they come.
    update::update(&mut s, Msg::Error(damaged(Reading::Metrics)));
    assert!(s.metrics_failed.is_some());
    let generation = s.queue.generation;
    update::update(&mut s, Msg::Queue { generation, page: rollcall::workflow::browse::Page::First, rows: Vec::new() });
    assert!(s.queue.failed.is_none());
}

/// A damaged page of the leaf index that the scan for entries held by several logs reads: the console's
/// background verification (one thread: the scan is asked first, in line) and the full one (the scan
/// beside the walk; the roster's read meets the damage first) both fail in one line saying the file is
/// damaged, once (not "database is damaged: ledger is damaged"), report the evidence and authorization as
/// not checked, and leave the file as it was; the console's integrity screen says the same.
#[test]
fn verification_stops_at_a_damaged_leaf_index_whichever_read_meets_it() {
    use rollcall::workflow::verify::{Budget, NOT_CHECKED, verify_with};
    let (_tmp, d) = demo_copy();
    let bytes = common::garble_root_page(&d.ledger, "leaves_entry");
    let ctx = d.context();
    for budget in [Budget::background(), Budget { threads: 2, cache_kib: 4096, hold_kib: 4096 }] {
        let report = at(|| verify_with(&ctx, budget, None)).unwrap();
        let failure = report.failure.as_ref().expect("a failure").problem.clone();
        assert!(failure.contains("damaged") && failure.contains("malformed"), "{failure}");
        assert_eq!(failure.matches("damaged").count(), 1, "said once: {failure}");
        assert!(!report.evidence_checked && !report.authorization_checked, "{failure}");
    }
    let mut h = harness(&d, 120, 30, true);
    at(|| h.press(KeyCode::Char('4')));
    let screen = h.render();
    assert!(screen.contains("integrity: FAILED") && screen.contains("is damaged"), "{screen}");
    assert!(screen.contains(&format!("evidence: {NOT_CHECKED}")), "{screen}");
    drop(h);
    assert_eq!(std::fs::read(&d.ledger).unwrap(), bytes);
}

/// A damaged page of the refs table (which entries reference which request): `verify`, with a small hold
/// window (folds made before the walk met every entry of their request) and as the console runs it, fails
/// naming the damage once, says what it did not check, and leaves the file as it was.
#[test]
fn verification_stops_at_a_damaged_refs_table() {
    use rollcall::workflow::verify::{Budget, verify_with};
    let (_tmp, d) = demo_copy();
    let bytes = common::garble_root_page(&d.ledger, "refs");
    let ctx = d.context();
    for budget in [Budget { threads: 2, cache_kib: 4096, hold_kib: 1 }, Budget::background()] {
        let report = at(|| verify_with(&ctx, budget, None)).unwrap();
        let failure = report.failure.as_ref().expect("a failure").problem.clone();
        assert!(failure.contains("damaged") && failure.contains("malformed"), "{failure}");
        assert_eq!(failure.matches("damaged").count(), 1, "said once: {failure}");
        assert!(!report.authorization_checked, "{failure}");
    }
    assert_eq!(std::fs::read(&d.ledger).unwrap(), bytes);
}

/// An emergency that has not run yet waits on an executor while it waives (before, it waited on nobody:
/// the review it owes cannot be signed before the run), and once it has lapsed (24 hours in the built-in
/// policy) on the approvers, since the gate asks for their approvals again.
#[test]
fn an_emergency_waits_on_an_executor_and_once_it_has_lapsed_on_the_approvers() {
    use rollcall::workflow::waiting::{Stand, Turn, waiting_on};
    let env = common::team();
    let req = common::file_request(&env, "bob", "low");
    common::tested(&env, &req, "bob");
    env.ok(&["emergency", &req, "--reason", "checkout down for everyone", "--as", "erin"]);
    let ledger = rollcall::ledger::Ledger::open_read_only(&env.ledger()).unwrap();
    let key = |name: &str| rollcall::ledger::PublicKey::from_signing(&env.signing_key(name));
    let id = rollcall::ledger::Hash::from_hex(&req).unwrap();
    let stand = |name: &str, at: DateTime<Utc>| waiting_on(&ledger, &key(name), at).unwrap().stands.get(&id).copied();
    let (now, later) = (Utc::now(), Utc::now() + chrono::Duration::hours(25));
    assert_eq!(stand("erin", now), Some(Stand::Waiting(Turn::Execute)));
    assert_eq!(stand("carol", now), None, "the emergency waives her approval");
    assert_eq!(stand("carol", later), Some(Stand::Waiting(Turn::Approve)));
    assert_ne!(stand("erin", later), Some(Stand::Waiting(Turn::Execute)), "the gate is closed again");
}

/// An emergency that has lapsed is shown as *lapsed* in the queue, in the danger colour, and as
/// *emergency (lapsed)* in its detail; one that still waives stays *emergency*. Before, both read
/// *emergency*, which at a glance says the gate is waived.
#[test]
fn a_lapsed_emergency_is_shown_lapsed_in_the_queue_and_its_detail() {
    let env = common::team();
    let req = common::file_request(&env, "bob", "low");
    env.ok(&["emergency", &req, "--reason", "checkout down for everyone", "--as", "erin"]);
    let later = Utc::now() + chrono::Duration::hours(25);
    let fresh = clock::at(later, || {
        let mut args = vec!["--json"];
        args.extend(common::request_args("bob", "Back to 41 again", "low"));
        let out = env.cmd().args(&args).env("ROLLCALL_NOW", later.to_rfc3339()).output().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["request"].as_str().unwrap().to_string()
    });
    let out = env
        .cmd()
        .args(["emergency", &fresh, "--reason", "down again", "--as", "erin"])
        .env("ROLLCALL_NOW", later.to_rfc3339())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // The one invoked later still waives.
    let mut h = clock::at(later, || common::console(&env, "carol", 140, 20));
    let screen = clock::at(later, || h.render());
    let row = |id: &str| screen.lines().position(|l| l.contains(&id[..8])).unwrap_or_else(|| panic!("{screen}"));
    let (lapsed, waiving) = (row(&req), row(&fresh));
    let line = |y: usize| screen.lines().nth(y).unwrap().to_string();
    assert!(line(lapsed).contains(" lapsed ") && !line(lapsed).contains("emergency"), "{screen}");
    assert!(line(waiving).contains(" emergency ") && !line(waiving).contains("lapsed"), "{screen}");
    let x = line(lapsed)[..line(lapsed).find(" lapsed ").unwrap() + 1].chars().count() as u16;
    let cell = &h.terminal.backend().buffer()[(x, lapsed as u16)];
    assert_eq!((cell.symbol(), cell.fg), ("l", h.state.theme.danger.fg.unwrap()), "{screen}");
    // When the minute of the other's lapse comes, the queue says so without the ledger changing (the
    // emergency was stamped a millisecond after the request filed at the same pinned clock).
    let r =
        update::update(&mut h.state, Msg::Minute(later + chrono::Duration::hours(24) + chrono::Duration::seconds(1)));
    assert!(matches!(r.as_slice(), [Cmd::Reopen]), "the rest is read anew: {r:?}");
    let reread = clock::at(later, || h.worker.handle(Cmd::Reopen));
    assert!(matches!(reread.as_slice(), [Msg::Changed]), "{reread:?}");
    assert!(update::update(&mut h.state, Msg::Minute(later + chrono::Duration::hours(25))).is_empty());
    let screen = clock::at(later, || h.render());
    assert!(screen.lines().nth(waiving).unwrap().contains(" lapsed "), "{screen}");
    // Its detail says it has lapsed.
    let target = h.state.queue.rows.iter().position(|r| r.id.to_hex() == req).expect("listed");
    for _ in 0..target {
        clock::at(later, || h.press(KeyCode::Down));
    }
    clock::at(later, || h.press(KeyCode::Enter));
    let screen = clock::at(later, || h.render());
    assert!(screen.contains(&format!("{} ", &req[..12])) && screen.contains("emergency (lapsed)"), "{screen}");
}
