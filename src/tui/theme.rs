//! Semantic styles: widgets ask for a role (danger, selection, risk badge), never a colour. `NO_COLOR`
//! turns colour off; risk badges then carry a letter. `theme.toml` in the config directory may override
//! colours by role (`[colors] danger = "red"`).

use ratatui::style::{Color, Modifier, Style};

#[derive(Clone, Debug)]
pub struct Theme {
    pub color: bool,
    pub base: Style,
    pub muted: Style,
    pub title: Style,
    pub selected: Style,
    pub ok: Style,
    pub warn: Style,
    pub danger: Style,
    pub banner: Style,
    pub accent: Style,
}

fn parse_color(s: &str) -> Option<Color> {
    s.parse::<Color>().ok()
}

impl Theme {
    pub fn new(color: bool) -> Theme {
        if !color {
            let plain = Style::default();
            return Theme {
                color,
                base: plain,
                muted: plain,
                title: plain.add_modifier(Modifier::BOLD),
                selected: plain.add_modifier(Modifier::REVERSED),
                ok: plain,
                warn: plain.add_modifier(Modifier::BOLD),
                danger: plain.add_modifier(Modifier::BOLD),
                banner: plain.add_modifier(Modifier::REVERSED | Modifier::BOLD),
                accent: plain.add_modifier(Modifier::UNDERLINED),
            };
        }
        Theme {
            color,
            base: Style::default(),
            muted: Style::default().fg(Color::DarkGray),
            title: Style::default().fg(Color::Cyan).add_modifier(Modifier::BOLD),
            selected: Style::default().bg(Color::Blue).fg(Color::White).add_modifier(Modifier::BOLD),
            ok: Style::default().fg(Color::Green),
            warn: Style::default().fg(Color::Yellow),
            danger: Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
            banner: Style::default().bg(Color::Red).fg(Color::White).add_modifier(Modifier::BOLD),
            accent: Style::default().fg(Color::Magenta),
        }
    }

    /// The theme for this terminal: colour unless `NO_COLOR` is set, with `theme.toml` overrides.
    pub(crate) fn load() -> Theme {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let mut t = Theme::new(!no_color);
        if no_color {
            return t;
        }
        if let Ok(dir) = crate::paths::config_dir()
            && let Ok(text) = std::fs::read_to_string(dir.join("theme.toml"))
            && let Ok(doc) = text.parse::<toml::Table>()
            && let Some(colors) = doc.get("colors").and_then(|c| c.as_table())
        {
            for (role, v) in colors {
                let Some(c) = v.as_str().and_then(parse_color) else { continue };
                match role.as_str() {
                    "muted" => t.muted = t.muted.fg(c),
                    "title" => t.title = t.title.fg(c),
                    "selected" => t.selected = t.selected.bg(c),
                    "ok" => t.ok = t.ok.fg(c),
                    "warn" => t.warn = t.warn.fg(c),
                    "danger" => t.danger = t.danger.fg(c),
                    "banner" => t.banner = t.banner.bg(c),
                    "accent" => t.accent = t.accent.fg(c),
                    _ => {}
                }
            }
        }
        t
    }

    /// The badge of a risk tier: coloured, or a bracketed letter without colour.
    pub(crate) fn risk_badge(&self, tier: &str) -> (String, Style) {
        let letter = tier.chars().next().unwrap_or('?').to_ascii_uppercase();
        if !self.color {
            return (format!("[{letter}]"), Style::default());
        }
        let bg = match tier {
            "low" => Color::Green,
            "medium" => Color::Yellow,
            "high" => Color::LightRed,
            _ => Color::Red,
        };
        (format!(" {letter} "), Style::default().bg(bg).fg(Color::Black).add_modifier(Modifier::BOLD))
    }

    pub(crate) fn severity(&self, s: &str) -> Style {
        match s {
            "critical" | "high" => self.danger,
            "medium" => self.warn,
            _ => self.muted,
        }
    }
}
