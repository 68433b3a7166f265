//! Modals: help (generated from the keymap), a scrollable viewer, one-line input, and the signing dialog
//! that shows exactly what will be signed before asking for a comment and the (masked) passphrase.

use super::super::keymap::Action;
use super::super::state::{ActionDialog, AppState, Find, Pager, Step};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(area.x + (area.width - w) / 2, area.y + (area.height - h) / 2, w, h)
}

/// The help: its lines from [`crate::tui::help::entries`], the one at `selected` highlighted (Enter runs
/// it), scrolled so that it shows.
pub(super) fn help(f: &mut Frame<'_>, s: &AppState, selected: u16, query: &str, typing: bool) {
    let t = &s.theme;
    let area = centered(f.area(), 76, f.area().height.saturating_sub(2));
    let entries = crate::tui::help::entries(s, query);
    let selected = (selected as usize).min(entries.len().saturating_sub(1));
    let shown: Vec<Line> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let key = format!("{:<18}", e.keys);
            let line =
                Line::from(vec![Span::styled(key, if e.here { t.accent } else { t.title }), Span::raw(e.text.clone())]);
            if i == selected && !typing { line.style(t.selected) } else { line }
        })
        .collect();
    let head = if typing {
        format!("search: {}█  (Enter keeps, Esc clears)", crate::text::safe(query))
    } else if !query.is_empty() {
        format!(
            "matching {:?} ({} lines; / searches again; Enter runs the line)",
            crate::text::safe(query),
            shown.len()
        )
    } else {
        "j/k select, Enter runs, / searches; keys from keymap.toml".to_string()
    };
    // The head line, then as many entries as fit, from the one that keeps the selection in view.
    let rows = area.height.saturating_sub(3) as usize;
    let top = (selected + 1).saturating_sub(rows.max(1));
    let mut lines = vec![Line::styled(head, t.muted)];
    lines.extend(shown.into_iter().skip(top));
    f.render_widget(Clear, area);
    f.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(" Help — Esc closes ")),
        area,
    );
}

/// A small list to pick a filter's value from.
pub(super) fn picker(
    f: &mut Frame<'_>,
    s: &AppState,
    title: &str,
    options: &[(String, Option<&'static str>)],
    selected: usize,
) {
    let t = &s.theme;
    let width = options.iter().map(|(l, _)| l.chars().count()).max().unwrap_or(10) as u16 + 6;
    let area = centered(f.area(), width.max(36), options.len() as u16 + 2);
    let lines: Vec<Line> = options
        .iter()
        .enumerate()
        .map(|(i, (label, _))| {
            if i == selected {
                Line::styled(format!("▶ {label}"), t.selected)
            } else {
                Line::raw(format!("  {label}"))
            }
        })
        .collect();
    f.render_widget(Clear, area);
    f.render_widget(
        Paragraph::new(lines)
            .style(t.base)
            .block(Block::default().borders(Borders::ALL).title(format!(" {title} — Enter picks, Esc closes "))),
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
    find: &Find,
) {
    let t = &s.theme;
    let area = centered(f.area(), f.area().width.saturating_sub(4), f.area().height.saturating_sub(2));
    let body: Vec<Line> = if find.query.trim().is_empty() {
        lines.iter().map(|l| Line::raw(l.as_str())).collect()
    } else {
        lines.iter().map(|l| Line::from(super::highlighted(l, &find.query, t.accent))).collect()
    };
    let what = if find.typing {
        format!("/{}█ (Enter keeps it, Esc clears)", find.query)
    } else if find.query.is_empty() {
        format!("{} lines — j/k, / search, Esc closes", lines.len())
    } else {
        let matches = find.matches(lines);
        let at = match find.line.and_then(|l| matches.iter().position(|m| *m == l)) {
            Some(i) => format!("{} of {} (n/N)", i + 1, matches.len()),
            None if matches.is_empty() => "no match".to_string(),
            None => format!("{} matches (n/N)", matches.len()),
        };
        format!("/{}: {at}, Esc clears", find.query)
    };
    let mut block = Block::default().borders(Borders::ALL).title(format!(" {title} — {what} ")).style(t.base);
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

/// Splits `text` into lines of at most `width` display columns, between words where it can (a word
/// longer than a line, such as a hash, is cut; a wide character never is).
fn wrap(text: &str, width: usize) -> Vec<String> {
    use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};
    let width = width.max(1);
    let mut out = Vec::new();
    let (mut line, mut used) = (String::new(), 0);
    for (i, word) in text.split(' ').enumerate() {
        let w = word.width();
        let space = usize::from(i > 0);
        if used + space + w <= width {
            if i > 0 {
                line.push(' ');
            }
            line.push_str(word);
            used += space + w;
            continue;
        }
        if w > width {
            // Longer than any line: cut, starting where this line stands.
            if i > 0 && used < width {
                line.push(' ');
                used += 1;
            }
        } else if !line.is_empty() {
            out.push(std::mem::take(&mut line));
            used = 0;
        }
        for c in word.chars() {
            let cw = c.width().unwrap_or(0);
            if used + cw > width && !line.is_empty() {
                out.push(std::mem::take(&mut line));
                used = 0;
            }
            line.push(c);
            used += cw;
        }
    }
    out.push(line);
    out
}

/// The last `width` columns of `text` (what a one-line field shows while its value is longer).
fn tail(text: &str, width: usize) -> String {
    use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};
    if text.width() <= width {
        return text.to_string();
    }
    // One column goes to the "…" that says the start is cut.
    let mut used = 0;
    let mut start = text.len();
    for (i, c) in text.char_indices().rev() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        used += w;
        start = i;
    }
    format!("…{}", &text[start..])
}

/// A signing dialog's lines fitted to `rows` rows of `width` columns, so that what the user types and
/// what goes wrong are always on screen: the step on top; the passphrase and the error pinned at the
/// bottom; between them the fields (a window around the focused one when they do not all fit) and as much
/// of what will be signed as is left, its remainder counted ("… 4 more lines: Esc shows them"). While
/// reviewing, what will be signed scrolls instead (`d.scroll`).
pub(crate) fn fitted(s: &AppState, d: &ActionDialog, width: u16, rows: u16) -> Vec<Line<'static>> {
    let t = &s.theme;
    let (width, rows) = (usize::from(width.max(1)), usize::from(rows));
    let step = match d.step {
        Step::Review => "1/3 review what will be signed — Enter continues, Esc cancels",
        Step::Fill => "2/3 fill in — Tab moves, ←/→ choose, Enter continues, Esc goes back",
        Step::Passphrase => "3/3 passphrase of your key — Enter signs, Esc goes back",
        Step::Signing => "signing…",
    };
    let head: Vec<Line<'static>> = wrap(step, width).into_iter().map(|l| Line::styled(l, t.muted)).collect();
    let label_of = |fl: &crate::tui::state::Field| {
        format!("{}{}", fl.label, if fl.required && fl.choices.is_empty() { " *" } else { "" })
    };
    let label_width = d.fields.iter().map(|fl| label_of(fl).chars().count()).max().unwrap_or(0).max(10) + 1;
    let mut foot: Vec<Line<'static>> = Vec::new();
    if matches!(d.step, Step::Passphrase | Step::Signing) {
        let masked = "•".repeat(d.passphrase.chars());
        let cursor = if d.step == Step::Passphrase { "█" } else { "" };
        foot.push(Line::from(vec![
            Span::styled(format!("{:<label_width$}", "passphrase"), t.selected),
            Span::raw(tail(&format!(" {masked}{cursor}"), width.saturating_sub(label_width))),
        ]));
    }
    if let Some(e) = &d.error {
        foot.extend(wrap(e, width).into_iter().map(|l| Line::styled(l, t.danger)));
    }
    let preview: Vec<String> = d.preview.iter().flat_map(|p| wrap(p, width)).collect();
    let fields: Vec<Line<'static>> = if d.step == Step::Review {
        Vec::new()
    } else {
        d.fields
            .iter()
            .enumerate()
            .map(|(i, fl)| {
                let focused = d.step == Step::Fill && i == d.focus;
                let value = if fl.choices.is_empty() { fl.value.clone() } else { format!("◀ {} ▶", fl.value) };
                // Shown sanitized (a value filled from an observation, or pasted, may hold a bidi override),
                // each side of the cursor on its own so the cursor stays between the same characters. The
                // cursor where it stands in the text (the end unless ←/→ moved it).
                let safe = |s: &str| crate::text::one_line(s).text.into_owned();
                let shown = if focused && fl.choices.is_empty() {
                    let chars: Vec<char> = value.chars().collect();
                    let at = chars.len() - d.cursor_back.min(chars.len());
                    let (before, after): (String, String) =
                        (chars[..at].iter().collect(), chars[at..].iter().collect());
                    format!(" {}█{}", safe(&before), safe(&after))
                } else {
                    format!(" {}", safe(&value))
                };
                Line::from(vec![
                    Span::styled(format!("{:<label_width$}", label_of(fl)), if focused { t.selected } else { t.title }),
                    Span::raw(tail(&shown, width.saturating_sub(label_width))),
                ])
            })
            .collect()
    };
    let room = rows.saturating_sub(head.len() + foot.len());
    let mut middle: Vec<Line<'static>> = Vec::new();
    if d.step == Step::Review {
        let total = preview.len();
        if total <= room {
            middle.extend(preview.into_iter().map(Line::raw));
        } else {
            let shown = room.saturating_sub(1);
            let first = usize::from(d.scroll).min(total - shown.min(total));
            middle.extend(preview[first..first + shown].iter().cloned().map(Line::raw));
            middle.push(Line::styled(
                format!("… lines {}–{} of {total}: ↑/↓ scroll", first + 1, first + shown),
                t.accent,
            ));
        }
    } else {
        // The fields first, a window around the focused one (the last, while typing the passphrase).
        let focus = if d.step == Step::Fill { d.focus } else { d.fields.len().saturating_sub(1) };
        let n = fields.len().min(room);
        let first = (focus + 1).saturating_sub(n).min(fields.len() - n);
        let fields = &fields[first..first + n];
        let left = room - n;
        // Then what will be signed, with a blank line between, as far as it fits.
        if left > preview.len() {
            middle.extend(preview.into_iter().map(Line::raw));
            middle.push(Line::raw(""));
        } else if left >= 2 {
            let shown = left - 1;
            let more = preview.len() - shown.min(preview.len());
            let shown = if more > 0 { shown - 1 } else { shown };
            let more = preview.len() - shown;
            middle.extend(preview[..shown].iter().cloned().map(Line::raw));
            if more > 0 {
                middle.push(Line::styled(
                    format!("… {more} more line(s) of what will be signed: Esc shows them"),
                    t.accent,
                ));
            }
            middle.push(Line::raw(""));
        }
        middle.extend(fields.iter().cloned());
    }
    head.into_iter().chain(middle).chain(foot).collect()
}

pub(super) fn action(f: &mut Frame<'_>, s: &AppState, d: &ActionDialog) {
    let t = &s.theme;
    let screen = f.area();
    let width = screen.width.min(90);
    let inner_width = width.saturating_sub(2);
    // As tall as the content, at most the screen (laid out again only when it does not fit).
    let all = fitted(s, d, inner_width, u16::MAX);
    let height = (all.len() as u16).saturating_add(2).min(screen.height);
    let area = centered(screen, width, height);
    let rows = height.saturating_sub(2);
    let lines = if all.len() <= usize::from(rows) { all } else { fitted(s, d, inner_width, rows) };
    f.render_widget(Clear, area);
    f.render_widget(
        Paragraph::new(lines)
            .style(t.base)
            .block(Block::default().borders(Borders::ALL).title(Span::styled(format!(" {} ", d.title), t.title))),
        area,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicode_width::UnicodeWidthStr;

    #[test]
    fn wrapping_breaks_between_words_and_cuts_only_what_is_longer_than_a_line() {
        assert_eq!(wrap("one two three", 7), vec!["one two", "three"]);
        assert_eq!(wrap("id   0123456789", 8), vec!["id   012", "3456789"]);
        assert_eq!(wrap("界界界", 3), vec!["界", "界", "界"]);
        assert_eq!(tail("abcdef", 4), "…def");
        assert_eq!(tail("abc", 4), "abc");
    }

    proptest::proptest! {
        #[test]
        fn wrapped_lines_fit_and_keep_every_character(text in "[a-z界 ]{0,80}", width in 1usize..30) {
            let lines = wrap(&text, width);
            for l in &lines {
                proptest::prop_assert!(l.width() <= width.max(2), "{:?} wider than {}", l, width);
            }
            let kept: String = lines.concat().chars().filter(|c| *c != ' ').collect();
            let all: String = text.chars().filter(|c| *c != ' ').collect();
            proptest::prop_assert_eq!(kept, all);
        }
    }
}
