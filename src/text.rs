//! Untrusted text on its way to a terminal. Everything read from a ledger or an evidence file passes here
//! before it is printed or drawn: control characters (C0, DEL, C1), invisible format characters (bidi
//! overrides and isolates, zero-width characters, tag characters, …) and variation selectors anywhere but
//! singly after a visible non-ASCII character are replaced by a visible `<U+XXXX>` and reported, so nothing
//! can move the cursor, recolour the screen or reorder what an approver reads.

use std::borrow::Cow;

/// Sanitized text and whether anything had to be escaped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Clean<'a> {
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

/// Characters that change how the one before them looks, and are invisible themselves: the variation
/// selectors (emoji and ideographic variants: `❤` + U+FE0F is the emoji heart) and the Mongolian free
/// variation selectors. One after a visible non-ASCII character is how text uses them; anywhere else they
/// hide something (a run of them after one emoji can carry any bytes, one after an ASCII letter makes a
/// name that looks like another).
fn is_selector(c: char) -> bool {
    matches!(c as u32, 0xFE00..=0xFE0F | 0xE0100..=0xE01EF | 0x180B..=0x180D | 0x180F)
}

/// Invisible characters with no use in text people write here: the combining grapheme joiner and the
/// Khmer inherent vowels (which Unicode says not to use), drawn as nothing.
fn is_invisible_other(c: char) -> bool {
    matches!(c as u32, 0x034F | 0x17B4 | 0x17B5)
}

fn needs_escape(c: char, multiline: bool) -> bool {
    if multiline && c == '\n' {
        return false;
    }
    c.is_control() || is_invisible_format(c) || is_invisible_other(c)
}

/// Whether a selector may follow what was written so far: only right after a visible non-ASCII
/// character that is not itself a selector, a space or a combining mark (after which one would draw
/// nothing either).
fn selector_fits(out: &str) -> bool {
    out.chars().next_back().is_some_and(|p| !p.is_ascii() && !is_selector(p) && !p.is_whitespace() && !is_combining(p))
}

/// The blocks of combining marks (accents drawn on the character before them).
fn is_combining(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

fn clean(s: &str, multiline: bool) -> Clean<'_> {
    // Printable ASCII needs nothing (most text is, and this test runs over bytes, not characters); the
    // rest is looked at character by character.
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) || !s.chars().any(|c| needs_escape(c, multiline) || is_selector(c))
    {
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
            c if needs_escape(c, multiline) || (is_selector(c) && !selector_fits(&out)) => {
                suspicious = true;
                out.push_str(&format!("<U+{:04X}>", c as u32));
            }
            c => out.push(c),
        }
    }
    Clean { text: Cow::Owned(out), suspicious }
}

/// For one-line display: newlines become `⏎`, tabs spaces, everything else dangerous `<U+XXXX>`.
pub(crate) fn one_line(s: &str) -> Clean<'_> {
    clean(s, false)
}

/// For multi-line display: newlines are kept, `\r` dropped, tabs expanded, the rest escaped.
pub(crate) fn multi_line(s: &str) -> Clean<'_> {
    clean(s, true)
}

/// Pretty-printed JSON whose strings carry no character [`one_line`] would escape (control, invisible
/// format and stray selector characters): each is written as a JSON escape (`\u202e`; a pair of them
/// above U+FFFF) instead of raw. A JSON reader gets the same strings back, and the document printed on a
/// terminal cannot reorder or drive what it shows (a reader that decodes the escapes and prints the
/// strings again, such as `jq` without `-a`, writes them raw).
/// serde_json itself escapes only what JSON requires (below U+0020, `"` and `\`).
pub(crate) fn json_pretty<T: serde::Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    let mut out = Vec::with_capacity(128);
    json_pretty_to(&mut out, value)?;
    // The serializer writes UTF-8 only.
    Ok(String::from_utf8(out).unwrap_or_default())
}

/// As [`json_pretty`], written to `w`.
pub(crate) fn json_pretty_to<W: std::io::Write, T: serde::Serialize + ?Sized>(
    w: W,
    value: &T,
) -> serde_json::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(w, SafeJson(serde_json::ser::PrettyFormatter::new()));
    value.serialize(&mut ser)
}

/// As [`json_pretty`], on one line (serde_json's compact layout): a JSON Lines record (`log --follow
/// --json`).
pub(crate) fn json_line<T: serde::Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    let mut out = Vec::with_capacity(128);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, SafeJson(serde_json::ser::CompactFormatter));
    value.serialize(&mut ser)?;
    Ok(String::from_utf8(out).unwrap_or_default())
}

/// serde_json's layout `F` (pretty or compact), with the strings' dangerous characters escaped (see
/// [`json_pretty`]).
struct SafeJson<F>(F);

impl<F: serde_json::ser::Formatter> serde_json::ser::Formatter for SafeJson<F> {
    fn write_string_fragment<W: ?Sized + std::io::Write>(&mut self, w: &mut W, fragment: &str) -> std::io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if needs_escape(c, false) || is_selector(c) {
                w.write_all(&fragment.as_bytes()[start..i])?;
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    write!(w, "\\u{:04x}", u)?;
                }
                start = i + c.len_utf8();
            }
        }
        w.write_all(&fragment.as_bytes()[start..])
    }

    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_array(w)
    }

    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array(w)
    }

    fn begin_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W, first: bool) -> std::io::Result<()> {
        self.0.begin_array_value(w, first)
    }

    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array_value(w)
    }

    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object(w)
    }

    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object(w)
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(&mut self, w: &mut W, first: bool) -> std::io::Result<()> {
        self.0.begin_object_key(w, first)
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object_value(w)
    }

    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// `s` padded with spaces to `width` terminal columns (a wide character takes two, a combining mark none):
/// `format!("{:<N}")` counts characters, which shifts what follows a name such as `管理者`.
pub(crate) fn pad(s: &str, width: usize) -> String {
    let used = unicode_width::UnicodeWidthStr::width(s);
    format!("{s}{}", " ".repeat(width.saturating_sub(used)))
}

/// The longest start of `s` that fits in `width` terminal columns, and the columns it takes.
pub(crate) fn fit(s: &str, width: usize) -> (&str, usize) {
    let mut used = 0;
    for (i, c) in s.char_indices() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w > width {
            return (&s[..i], used);
        }
        used += w;
    }
    (s, used)
}

/// Shorthand: the one-line sanitized form as an owned string.
/// `s` with the credentials of every URL in it (`scheme://user:TOKEN@host`) replaced by `***`: git's errors
/// name the remote as configured, and they reach CI logs that outlive the job.
pub(crate) fn redact_userinfo(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        let end = after.find(|c: char| c == '/' || c.is_whitespace() || c == '\'' || c == '"').unwrap_or(after.len());
        match after[..end].rfind('@') {
            Some(userinfo) => {
                out.push_str("***");
                rest = &after[userinfo..];
            }
            None => rest = after,
        }
    }
    out.push_str(rest);
    out
}

pub(crate) fn safe(s: &str) -> String {
    one_line(s).text.into_owned()
}

/// Writes `line` and a newline to standard error. A standard error closed by its reader (`2>&1 | head`)
/// is not an error: the message has nowhere to go, and the command goes on (`eprintln!` would panic).
pub(crate) fn eprint_line(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// The first `n` characters of `s` (an id's short form), never cutting a character: a tampered cache may
/// hold anything where an id is expected.
pub(crate) fn prefix(s: &str, n: usize) -> &str {
    s.char_indices().nth(n).map_or(s, |(i, _)| &s[..i])
}

/// Cuts `s` to at most `max` characters, marking the cut with `…`.
pub(crate) fn truncate(s: &str, max: usize) -> Cow<'_, str> {
    // Never longer than `max` characters' worth of scanning, however long `s` is.
    if s.len() <= max || s.chars().nth(max).is_none() {
        return Cow::Borrowed(s);
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    Cow::Owned(out)
}

/// Lossy UTF-8 for one window of a longer byte stream (a page of a stored file): the characters whose first
/// byte lies in `body`, given the (up to) 3 bytes before it in `before` and the 3 after it in `after` —
/// fewer only at the start or the end of the stream. A character cut by the window's edges is shown whole
/// on the page where it starts, and invalid sequences become U+FFFD, so the windows of a stream joined
/// give exactly `String::from_utf8_lossy` of the whole. The result is untrusted text, to sanitize.
pub(crate) fn decode_window(before: &[u8], body: &[u8], after: &[u8]) -> String {
    let before = &before[before.len().saturating_sub(3)..];
    let after = &after[..after.len().min(3)];
    let mut buf = Vec::with_capacity(before.len() + body.len() + after.len());
    buf.extend_from_slice(before);
    buf.extend_from_slice(body);
    buf.extend_from_slice(after);
    let (start, end) = (before.len(), before.len() + body.len());
    let mut out = String::with_capacity(body.len());
    let mut at = 0;
    // The parse is the standard one (maximal subparts), so a unit that starts at a lead or ASCII byte is
    // the same whether the parse began at the stream's start or up to 3 bytes before the window.
    for chunk in buf.utf8_chunks() {
        for (i, c) in chunk.valid().char_indices() {
            if (start..end).contains(&(at + i)) {
                out.push(c);
            }
        }
        at += chunk.valid().len();
        if !chunk.invalid().is_empty() {
            if (start..end).contains(&at) {
                out.push(char::REPLACEMENT_CHARACTER);
            }
            at += chunk.invalid().len();
        }
    }
    out
}

/// Lossy UTF-8 for a stream read in chunks: a character cut between two chunks is decoded whole, so the
/// pieces joined are exactly `String::from_utf8_lossy` of the whole stream. Untrusted text, to sanitize.
#[derive(Debug, Default)]
pub(crate) struct Utf8Stream {
    /// The start of a character the last chunk ended in (at most 3 bytes).
    carry: Vec<u8>,
}

impl Utf8Stream {
    /// The text of the next chunk, keeping a character it ends in the middle of for the next call.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> String {
        let mut buf = std::mem::take(&mut self.carry);
        buf.extend_from_slice(bytes);
        let mut out = String::with_capacity(buf.len());
        let mut chunks = buf.utf8_chunks().peekable();
        while let Some(chunk) = chunks.next() {
            out.push_str(chunk.valid());
            let bad = chunk.invalid();
            if bad.is_empty() {
                continue;
            }
            // A sequence cut by the end of the chunk (not invalid yet) waits for the rest.
            let cut = chunks.peek().is_none() && std::str::from_utf8(bad).is_err_and(|e| e.error_len().is_none());
            if cut {
                self.carry = bad.to_vec();
            } else {
                out.push(char::REPLACEMENT_CHARACTER);
            }
        }
        out
    }

    /// The end of the stream: a character left cut is invalid.
    pub(crate) fn finish(self) -> String {
        if self.carry.is_empty() { String::new() } else { char::REPLACEMENT_CHARACTER.to_string() }
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn credentials_in_urls_are_redacted_and_nothing_else_is() {
        let said = "fatal: unable to access 'https://x-access-token:ghs_S3cret@github.com/o/r.git/': 403";
        assert_eq!(super::redact_userinfo(said), "fatal: unable to access 'https://***@github.com/o/r.git/': 403");
        assert_eq!(super::redact_userinfo("see https://github.com/o/r and a@b"), "see https://github.com/o/r and a@b");
        assert_eq!(super::redact_userinfo("ssh://u:p@h:22/x http://q@h"), "ssh://***@h:22/x http://***@h");
        assert_eq!(super::redact_userinfo("a://"), "a://");
    }

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
    fn variation_selectors_only_where_text_uses_them() {
        // An emoji's presentation selector and an ideographic variant stay, unmarked.
        let heart = one_line("ship it \u{2764}\u{FE0F} \u{845B}\u{E0100}");
        assert_eq!(heart.text, "ship it \u{2764}\u{FE0F} \u{845B}\u{E0100}");
        assert!(!heart.suspicious);
        // After an ASCII letter one makes a name that looks like another; a run of them after one emoji
        // carries hidden bytes; the combining grapheme joiner and the Khmer inherent vowels draw nothing.
        for (input, shown) in [
            ("prod\u{FE00}", "prod<U+FE00>"),
            ("\u{FE0F}start", "<U+FE0F>start"),
            ("\u{1F600}\u{E0150}\u{E0151}", "\u{1F600}\u{E0150}<U+E0151>"),
            ("a\u{034F}b", "a<U+034F>b"),
            ("\u{17B4}x\u{17B5}", "<U+17B4>x<U+17B5>"),
            ("\u{1820}\u{180B}\u{180B}", "\u{1820}\u{180B}<U+180B>"),
            ("\u{200B}\u{FE0F}", "<U+200B><U+FE0F>"),
            ("e\u{0301}\u{FE0F}", "e\u{0301}<U+FE0F>"),
            ("\u{00A0}\u{FE0E}", "\u{00A0}<U+FE0E>"),
        ] {
            let c = one_line(input);
            assert_eq!(c.text, shown, "{input:?}");
            assert!(c.suspicious, "{input:?}");
        }
        assert_eq!(multi_line("\u{FE0F}\n\u{FE0F}").text, "<U+FE0F>\n<U+FE0F>");
    }

    #[test]
    fn clean_input_is_borrowed() {
        assert!(matches!(one_line("plain ünïcode ✓").text, Cow::Borrowed(_)));
        assert!(matches!(multi_line("line\nline").text, Cow::Borrowed(_)));
    }

    #[test]
    fn prefix_never_cuts_a_character() {
        assert_eq!(prefix("abcdef", 4), "abcd");
        assert_eq!(prefix("ab", 4), "ab");
        assert_eq!(prefix("ééééé", 2), "éé");
    }

    #[test]
    fn truncate_marks_cut() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
    }

    #[test]
    fn a_window_shows_the_characters_that_start_in_it() {
        let s = "aé€😀b".as_bytes(); // 1, 2, 3 and 4 bytes
        // Cut inside the euro sign (bytes 3..6): it belongs to the window where it starts.
        assert_eq!(decode_window(&s[1..3], &s[3..5], &s[5..8]), "€");
        assert_eq!(decode_window(&s[2..5], &s[5..7], &s[7..10]), "😀");
        assert_eq!(decode_window(&s[4..7], &s[7..11], &[]), "b");
        assert_eq!(decode_window(&[], &s[..1], &s[1..4]), "a");
        // Invalid bytes are one U+FFFD per maximal invalid sequence, as from_utf8_lossy gives.
        assert_eq!(decode_window(b"", b"a\xff\xe2\x82b", b""), "a\u{FFFD}\u{FFFD}b");
        let mut st = Utf8Stream::default();
        let mut out = st.push(&s[..4]);
        out += &st.push(&s[4..8]);
        out += &st.push(&s[8..]);
        out += &st.finish();
        assert_eq!(out, "aé€😀b");
        let mut st = Utf8Stream::default();
        assert_eq!(st.push(b"x\xf0\x9f"), "x");
        assert_eq!(st.finish(), "\u{FFFD}");
    }

    /// Bytes that are mostly UTF-8 of every width, with some invalid ones.
    fn mixed_bytes() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(
            prop_oneof![
                any::<char>().prop_map(|c| c.to_string().into_bytes()),
                "[a-zé€😀\n]".prop_map(String::into_bytes),
                any::<u8>().prop_map(|b| vec![b]),
            ],
            0..60,
        )
        .prop_map(|v| v.concat())
    }

    /// JSON output carries no character the sanitizer would escape, and reads back as the same value: a
    /// bidi override, a C1 control (CSI), a zero-width space, a tag character and a selector after ASCII.
    #[test]
    fn json_output_escapes_what_would_drive_a_terminal_and_reads_back_the_same() {
        let title = "ok \u{9b}2J\u{202e}gnp.exe\u{200b} \u{e0041} a\u{fe0f} \u{7f} caf\u{e9} \u{1f600}";
        let v = serde_json::json!({"title": title, "list": [title]});
        let text = json_pretty(&v).unwrap();
        assert!(
            text.contains("\\u009b2J\\u202egnp.exe\\u200b \\udb40\\udc41 a\\ufe0f \\u007f caf\u{e9} \u{1f600}"),
            "{text}"
        );
        assert!(!one_line(&text.replace('\n', " ")).suspicious, "{text}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap(), v);
        // The layout is serde_json's pretty one.
        assert_eq!(
            json_pretty(&serde_json::json!({"a": [1, {"b": "c"}]})).unwrap(),
            serde_json::to_string_pretty(&serde_json::json!({"a": [1, {"b": "c"}]})).unwrap()
        );
        // One line, as escaped: serde_json's compact layout.
        let line = json_line(&v).unwrap();
        assert!(!line.contains('\n') && !one_line(&line).suspicious, "{line}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&line).unwrap(), v);
        assert_eq!(json_line(&serde_json::json!({"a": [1, {"b": "c"}]})).unwrap(), r#"{"a":[1,{"b":"c"}]}"#);
    }

    #[test]
    fn padding_and_fitting_count_terminal_columns() {
        assert_eq!(pad("管理者", 8), "管理者  ");
        assert_eq!(pad("cafe\u{301}", 6), "cafe\u{301}  ");
        assert_eq!(pad("toolong", 3), "toolong");
        assert_eq!(fit("管理者", 5), ("管理", 4));
        assert_eq!(fit("abc", 5), ("abc", 3));
    }

    proptest! {
        /// Whatever surrounds it, a URL's password never survives, and text with no `://` is kept whole.
        #[test]
        fn a_urls_password_never_survives(
            before in "[^:]{0,20}", user in "[a-z0-9_-]{0,8}", secret in "[A-Za-z0-9_.~-]{6,20}",
            host in "[a-z0-9.]{1,12}", after in "[ -~]{0,20}",
        ) {
            let said = format!("{before}https://{user}:{secret}@{host}/r.git {after}");
            let redacted = redact_userinfo(&said);
            prop_assert!(!redacted.contains(&format!(":{secret}@")), "{redacted}");
            prop_assert!(redacted.contains(&format!("https://***@{host}/r.git")), "{redacted}");
            prop_assert_eq!(redact_userinfo(&before), before);
        }

        #[test]
        fn json_output_is_terminal_safe_and_lossless(s in any::<String>()) {
            let text = json_pretty(&s).unwrap();
            prop_assert!(!one_line(&text).suspicious, "{:?}", text);
            prop_assert_eq!(&serde_json::from_str::<String>(&text).unwrap(), &s);
            let line = json_line(&s).unwrap();
            prop_assert!(!one_line(&line).suspicious, "{:?}", line);
            prop_assert_eq!(serde_json::from_str::<String>(&line).unwrap(), s);
        }
    }

    proptest! {
        #[test]
        fn pages_joined_are_the_whole_text(bytes in mixed_bytes(), page in 1usize..9) {
            let whole = String::from_utf8_lossy(&bytes).into_owned();
            let mut joined = String::new();
            let mut stream = Utf8Stream::default();
            let mut streamed = String::new();
            for start in (0..bytes.len()).step_by(page) {
                let end = (start + page).min(bytes.len());
                let after = &bytes[end..(end + 3).min(bytes.len())];
                joined.push_str(&decode_window(&bytes[start.saturating_sub(3)..start], &bytes[start..end], after));
                streamed.push_str(&stream.push(&bytes[start..end]));
            }
            streamed.push_str(&stream.finish());
            prop_assert_eq!(&joined, &whole);
            prop_assert_eq!(&streamed, &whole);
        }

        #[test]
        fn output_has_no_control_or_format_chars(s in any::<String>()) {
            let c = one_line(&s);
            prop_assert!(!c.text.chars().any(|c| c.is_control() || is_invisible_format(c) || is_invisible_other(c)));
            let m = multi_line(&s);
            prop_assert!(!m.text.chars().any(|c| (c.is_control() && c != '\n') || is_invisible_format(c)));
            // A selector is shown only singly after a visible non-ASCII character.
            for text in [&c.text, &m.text] {
                let mut before: Option<char> = None;
                for ch in text.chars() {
                    prop_assert!(!is_selector(ch) || before.is_some_and(|p| !p.is_ascii() && !is_selector(p)), "{:?}", text);
                    before = Some(ch);
                }
            }
        }

        #[test]
        fn selectors_after_letters_are_kept_or_marked(s in "[a-zé😀\u{FE00}-\u{FE0F}\u{180B}\u{034F}]{0,30}") {
            let c = one_line(&s);
            let kept = c.text.chars().filter(|ch| is_selector(*ch)).count();
            let marked = c.text.matches("<U+FE0").count() + c.text.matches("<U+180B>").count();
            prop_assert_eq!(kept + marked, s.chars().filter(|ch| is_selector(*ch)).count());
            prop_assert_eq!(c.suspicious, marked > 0 || s.contains('\u{034F}'));
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
