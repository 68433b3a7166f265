//! Untrusted text on its way to a terminal. Everything read from a ledger or an evidence file passes here
//! before it is printed or drawn: control characters (C0, DEL, C1) and invisible format characters (bidi
//! overrides and isolates, zero-width characters, tag characters, …) are replaced by a visible `<U+XXXX>`
//! and reported, so nothing can move the cursor, recolour the screen or reorder what an approver reads.

use std::borrow::Cow;

/// Sanitized text and whether anything had to be escaped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clean<'a> {
    pub text: Cow<'a, str>,
    /// True when the input held control or invisible format characters.
    pub suspicious: bool,
}

/// Characters that are invisible or reorder text: Unicode general category Cf, the line and paragraph
/// separators, and the Hangul fillers that render as blanks.
fn is_invisible_format(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x0600..=0x0605 | 0x061C | 0x06DD | 0x070F | 0x0890..=0x0891 | 0x08E2 | 0x115F | 0x1160
        | 0x180E | 0x200B..=0x200F | 0x2028..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F | 0x3164
        | 0xFEFF | 0xFFA0 | 0xFFF9..=0xFFFB | 0x110BD | 0x110CD | 0x13430..=0x1343F | 0x1BCA0..=0x1BCA3
        | 0x1D173..=0x1D17A | 0xE0001 | 0xE0020..=0xE007F)
}

fn needs_escape(c: char, multiline: bool) -> bool {
    if multiline && c == '\n' {
        return false;
    }
    c.is_control() || is_invisible_format(c)
}

fn clean(s: &str, multiline: bool) -> Clean<'_> {
    if !s.chars().any(|c| needs_escape(c, multiline)) {
        return Clean { text: Cow::Borrowed(s), suspicious: false };
    }
    let mut out = String::with_capacity(s.len() + 16);
    let mut suspicious = false;
    for c in s.chars() {
        match c {
            '\t' => out.push_str("    "),
            '\n' if multiline => out.push('\n'),
            '\n' => out.push('\u{23CE}'),
            '\r' if multiline => {}
            c if needs_escape(c, multiline) => {
                suspicious = true;
                out.push_str(&format!("<U+{:04X}>", c as u32));
            }
            c => out.push(c),
        }
    }
    Clean { text: Cow::Owned(out), suspicious }
}

/// For one-line display: newlines become `⏎`, tabs spaces, everything else dangerous `<U+XXXX>`.
pub fn one_line(s: &str) -> Clean<'_> {
    clean(s, false)
}

/// For multi-line display: newlines are kept, `\r` dropped, tabs expanded, the rest escaped.
pub fn multi_line(s: &str) -> Clean<'_> {
    clean(s, true)
}

/// Shorthand: the one-line sanitized form as an owned string.
pub fn safe(s: &str) -> String {
    one_line(s).text.into_owned()
}

/// Cuts `s` to at most `max` characters, marking the cut with `…`.
pub fn truncate(s: &str, max: usize) -> Cow<'_, str> {
    if s.chars().count() <= max {
        return Cow::Borrowed(s);
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn escapes_terminal_attacks_visibly() {
        let c = one_line("ok\x1b[31mred\x07");
        assert_eq!(c.text, "ok<U+001B>[31mred<U+0007>");
        assert!(c.suspicious);
        let c = one_line("approve\u{202E}evorppa");
        assert_eq!(c.text, "approve<U+202E>evorppa");
        assert!(c.suspicious);
        assert_eq!(one_line("a\u{9b}b").text, "a<U+009B>b");
        assert_eq!(one_line("zero\u{200B}width").text, "zero<U+200B>width");
        assert_eq!(one_line("two\nlines").text, "two\u{23CE}lines");
        assert!(!one_line("two\nlines").suspicious);
        assert_eq!(multi_line("a\r\nb\tc").text, "a\nb    c");
    }

    #[test]
    fn clean_input_is_borrowed() {
        assert!(matches!(one_line("plain ünïcode ✓").text, Cow::Borrowed(_)));
        assert!(matches!(multi_line("line\nline").text, Cow::Borrowed(_)));
    }

    #[test]
    fn truncate_marks_cut() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
    }

    proptest! {
        #[test]
        fn output_has_no_control_or_format_chars(s in any::<String>()) {
            let c = one_line(&s);
            prop_assert!(!c.text.chars().any(|c| c.is_control() || is_invisible_format(c)));
            let m = multi_line(&s);
            prop_assert!(!m.text.chars().any(|c| (c.is_control() && c != '\n') || is_invisible_format(c)));
        }

        #[test]
        fn sanitizing_is_idempotent(s in any::<String>()) {
            let once = one_line(&s).text.into_owned();
            let twice = one_line(&once);
            prop_assert_eq!(&twice.text, &once);
            prop_assert!(!twice.suspicious);
        }

        #[test]
        fn flag_set_exactly_when_escaped(s in "[a-z\\x00-\\x1f\\u{202a}-\\u{202e}]{0,40}") {
            let c = one_line(&s);
            let expect = s.chars().any(|c| (c.is_control() && c != '\n' && c != '\t') || is_invisible_format(c));
            prop_assert_eq!(c.suspicious, expect);
        }
    }
}
