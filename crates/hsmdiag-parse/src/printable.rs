//! Text from inputs made safe to print: no byte of a log line or a file name
//! can drive the reader's terminal or reorder what they read.

use std::borrow::Cow;

/// Whether `c` would act on a terminal or on the order of the text instead of
/// being shown: C0 controls but tab and line feed (ESC, BEL, carriage return,
/// backspace), DEL, C1 controls (the 8-bit CSI U+009B among them), and the
/// bidirectional and invisible formatting marks (U+061C, U+200B–U+200F,
/// U+202A–U+202E, U+2060–U+2069, U+FEFF).
pub fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{8}'
        | '\u{b}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{61c}'
        | '\u{200b}'..='\u{200f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2060}'..='\u{2069}'
        | '\u{feff}')
}

/// The text with every character [`is_unsafe`] written as a visible escape:
/// `\x1b` for a C0 control or DEL, `\u{9b}` for the others. Tabs and line
/// feeds stay; text with nothing to escape is borrowed as it is.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !is_unsafe(c) {
            out.push(c);
        } else if (c as u32) < 0x80 {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        }
    }
    Cow::Owned(out)
}

/// One line of text from an input, made printable on one line: as
/// [`printable`], and a line feed or tab written as `\n` / `\t` (a file name
/// with a line break in it must not start a new line of a report).
pub fn printable_line(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| is_unsafe(c) || c == '\n') {
        return Cow::Borrowed(text);
    }
    Cow::Owned(printable(text).replace('\n', "\\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_escape_is_shown_not_run() {
        let hostile = "a\u{1b}]52;c;ZWNobw==\u{7}b\u{1b}cc\u{1b}7\u{9b}2J\u{202e}txt.exe\u{2066}\r";
        let out = printable(hostile);
        assert!(!out.chars().any(is_unsafe), "{out}");
        assert_eq!(
            out,
            "a\\x1b]52;c;ZWNobw==\\x07b\\x1bcc\\x1b7\\u{9b}2J\\u{202e}txt.exe\\u{2066}\\x0d"
        );
        assert!(matches!(printable("plain\ttext\n"), Cow::Borrowed(_)));
        assert_eq!(printable_line("a\nb.log"), "a\\nb.log");
    }
}
