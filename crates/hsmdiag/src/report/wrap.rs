//! Text laid out for a terminal of a given width: prose wrapped at spaces
//! (never inside a word, a path or a command's option), a long line cut to a
//! window with `…` where text is left out.

/// Wraps `text` into lines of at most `width` columns, the first starting with
/// `first`, the rest with `rest`. Lines break at spaces; a word longer than 30
/// columns (a resource id, a URL) may also break after a `/`, `?` or `&`, and
/// one that still does not fit is cut where the line ends.
///
/// ```
/// use hsmdiag::report::wrap;
/// let lines = wrap("one two three four", 9, "", "  ");
/// assert_eq!(lines, ["one two", "  three", "  four"]);
/// ```
pub fn wrap(text: &str, width: usize, first: &str, rest: &str) -> Vec<String> {
    let opts = textwrap::Options::new(width.max(1))
        .initial_indent(first)
        .subsequent_indent(rest)
        .break_words(true)
        .word_separator(textwrap::WordSeparator::Custom(words))
        .word_splitter(textwrap::WordSplitter::NoHyphenation);
    // A tab is drawn as several columns: one space keeps the count right.
    let text = text.replace('\t', " ");
    let lines: Vec<String> = textwrap::wrap(&text, opts)
        .into_iter()
        .map(|l| l.trim_end().to_owned())
        .collect();
    if lines.is_empty() {
        vec![first.trim_end().to_owned()]
    } else {
        lines
    }
}

/// Words for wrapping: split at ASCII spaces, and long words also after each
/// `/`, `?` and `&` (with no space between the pieces).
fn words(line: &str) -> Box<dyn Iterator<Item = textwrap::core::Word<'_>> + '_> {
    let mut out = Vec::new();
    for word in textwrap::WordSeparator::AsciiSpace.find_words(line) {
        if word.word.len() <= 30 {
            out.push(word);
            continue;
        }
        let w = word.word;
        let mut start = 0;
        for (i, c) in w.char_indices() {
            if matches!(c, '/' | '?' | '&') && i + 1 < w.len() && i + 1 > start {
                out.push(textwrap::core::Word::from(&w[start..=i]));
                start = i + 1;
            }
        }
        let mut last = textwrap::core::Word::from(&w[start..]);
        last.whitespace = word.whitespace;
        out.push(last);
    }
    Box::new(out.into_iter())
}

/// Whether a line starts a numbered list item (`1. `, `12. `).
pub(crate) fn numbered(l: &str) -> bool {
    let digits = l.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0 && l[digits..].starts_with(". ")
}

/// Markdown (as `hsmdiag explain` and the rule pages write it) laid out for a
/// terminal `width` columns wide: paragraphs and list items wrapped, code
/// blocks kept as they are, tables aligned when they fit and otherwise printed
/// one record per row. A lone URL longer than the width is kept whole.
///
/// ```
/// use hsmdiag::report::wrap::markdown_for_terminal;
/// let md = "# Title\n\nA paragraph that is long enough to wrap.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n";
/// let out = markdown_for_terminal(md, 24);
/// assert!(out.lines().all(|l| l.chars().count() <= 24), "{out}");
/// assert!(out.contains("a  b"));
/// ```
pub fn markdown_for_terminal(md: &str, width: usize) -> String {
    let width = width.max(20);
    let mut out: Vec<String> = Vec::new();
    let lines: Vec<&str> = md.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        let t = l.trim_start();
        let indent = &l[..l.len() - t.len()];
        if t.starts_with("```") {
            // A code block: its lines as they are, a long one wrapped at its
            // spaces with the rest indented further.
            out.push(l.to_owned());
            i += 1;
            while i < lines.len() {
                let c = lines[i];
                let ct = c.trim_start();
                let pad = &c[..c.len() - ct.len()];
                if columns(c) <= width || ct.starts_with("```") {
                    out.push(c.to_owned());
                } else {
                    // A command: broken only with its shell's continuation.
                    for (shell, cmd) in super::command::split(ct) {
                        let prompt = shell.prompt();
                        let shown = ct.starts_with(prompt.trim_end());
                        out.extend(
                            super::command::layout(shell, cmd, width, pad)
                                .into_iter()
                                .map(|l| match l.strip_prefix(&format!("{pad}{prompt}")) {
                                    Some(rest) if !shown => format!("{pad}{rest}"),
                                    _ => l,
                                }),
                        );
                    }
                }
                i += 1;
                if ct.starts_with("```") {
                    break;
                }
            }
            continue;
        }
        if t.starts_with('|') {
            let start = i;
            while i < lines.len() && lines[i].trim_start().starts_with('|') {
                i += 1;
            }
            out.extend(table(&lines[start..i], width));
            continue;
        }
        if t.is_empty() || (t.starts_with('<') && t.ends_with('>') && !t.contains(' ')) {
            out.push(l.to_owned());
        } else if let Some(item) = t.strip_prefix("- ") {
            let first = format!("{indent}- ");
            let rest = " ".repeat(first.len());
            out.extend(wrap_or_url(item, width, &first, &rest));
        } else if numbered(t) {
            let n = t.find(". ").map_or(0, |p| p + 2);
            let first = format!("{indent}{}", &t[..n]);
            let rest = " ".repeat(first.len());
            out.extend(wrap_or_url(&t[n..], width, &first, &rest));
        } else {
            out.extend(wrap_or_url(t, width, indent, indent));
        }
        i += 1;
    }
    let mut s = out.join("\n");
    s.push('\n');
    s
}

/// Wraps, but keeps a URL (`<https://...>` or bare) whole on its line.
fn wrap_or_url(text: &str, width: usize, first: &str, rest: &str) -> Vec<String> {
    let t = text.trim();
    let url = t.trim_start_matches('<').trim_end_matches('>');
    if !url.contains(' ') && (url.starts_with("https://") || url.starts_with("http://")) {
        return vec![format!("{first}{t}")];
    }
    wrap(text, width, first, rest)
}

/// A Markdown table for a terminal: aligned columns when they fit, else one
/// record per row (`- first cell`, then `  header: cell` lines).
fn table(rows: &[&str], width: usize) -> Vec<String> {
    let cells = |l: &str| -> Vec<String> {
        let t = l.trim().trim_start_matches('|').trim_end_matches('|');
        t.split('|').map(|c| c.trim().replace('`', "")).collect()
    };
    let mut rows: Vec<Vec<String>> = rows.iter().map(|l| cells(l)).collect();
    rows.retain(|r| {
        !r.iter()
            .all(|c| !c.is_empty() && c.chars().all(|ch| matches!(ch, '-' | ':')))
    });
    let Some(head) = rows.first().cloned() else {
        return Vec::new();
    };
    let n = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..n)
        .map(|c| {
            rows.iter()
                .map(|r| r.get(c).map_or(0, |x| columns(x)))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let total = widths.iter().sum::<usize>() + 2 * n.saturating_sub(1);
    if total <= width {
        return rows
            .iter()
            .map(|r| {
                let mut line = String::new();
                for (c, w) in widths.iter().enumerate() {
                    let cell = r.get(c).map_or("", String::as_str);
                    line.push_str(cell);
                    if c + 1 < n {
                        line.push_str(&" ".repeat(w - columns(cell) + 2));
                    }
                }
                line.trim_end().to_owned()
            })
            .collect();
    }
    let mut out = Vec::new();
    for r in rows.iter().skip(1) {
        let first = format!(
            "{}: {}",
            head.first().map_or("", String::as_str),
            r.first().map_or("", String::as_str)
        );
        out.extend(wrap(&first, width, "- ", "    "));
        for (c, cell) in r.iter().enumerate().skip(1) {
            let h = head.get(c).map_or("", String::as_str);
            out.extend(wrap(&format!("{h}: {cell}"), width, "  ", "    "));
        }
    }
    out
}

/// The columns a string takes on a terminal.
pub(crate) fn columns(s: &str) -> usize {
    textwrap::core::display_width(s)
}

/// The marker for text left out of a cut line.
pub const CUT: char = '…';

/// `s` cut to `room` characters, `…` for the end left out.
pub(crate) fn cut_end(s: &str, room: usize) -> String {
    if s.chars().count() <= room {
        return s.to_owned();
    }
    let mut c: String = s.chars().take(room.saturating_sub(1)).collect();
    c.push(CUT);
    c
}

/// `s` cut to `room` characters, `…` for the start left out (a path keeps
/// its file name).
pub(crate) fn cut_front(s: &str, room: usize) -> String {
    let n = s.chars().count();
    if n <= room {
        return s.to_owned();
    }
    let tail: String = s.chars().skip(n - room.max(1) + 1).collect();
    format!("{CUT}{tail}")
}

/// A window of a line that fits `room` columns and shows the part that
/// matters (`focus`, a byte range, with `tail` more columns drawn after its
/// middle, a label's note): the window's byte range, and whether text is left
/// out before and after it. `None` when the line fits as it is.
pub(crate) fn window(
    text: &str,
    focus: std::ops::Range<usize>,
    tail: usize,
    room: usize,
) -> Option<(std::ops::Range<usize>, bool, bool)> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let n = chars.len();
    let at = |b: usize| chars.partition_point(|(i, _)| *i < b);
    let (fs, fe) = (at(focus.start), at(focus.end).max(at(focus.start)));
    let mid = fs + (fe - fs) / 2;
    if n <= room && mid + tail < room {
        return None;
    }
    let room = room.max(8);
    // Start late enough that the note after the middle fits, never after the
    // middle itself.
    let mut s = (mid + tail + 2).saturating_sub(room).min(mid);
    if s == 1 {
        s = 0;
    }
    let lead = s > 0;
    let mut e = (s + room - usize::from(lead)).min(n);
    let mut trail = e < n;
    if trail {
        e -= 1;
    }
    // A label wider than the window is drawn over what is shown, its note
    // from the middle of that: end the window early enough for the note.
    loop {
        let (ls, le) = (fs.clamp(s, e), fe.clamp(s, e));
        let shown_mid = ls + (le - ls) / 2 - s + usize::from(lead);
        if shown_mid + tail < room || le <= ls + 1 || e <= s + 1 {
            break;
        }
        e -= 1;
        if !trail {
            trail = true;
            e = e.saturating_sub(1).max(s + 1);
        }
    }
    let byte = |c: usize| chars.get(c).map_or(text.len(), |(i, _)| *i);
    Some((byte(s)..byte(e), lead, trail))
}

#[cfg(test)]
mod tests {
    use super::{window, wrap};

    #[test]
    fn wraps_at_spaces_only() {
        let l = wrap(
            "run lunash:> client register -client web-01 -ip 10.0.0.4",
            20,
            "$ ",
            "    ",
        );
        assert!(l.iter().all(|x| x.chars().count() <= 20), "{l:?}");
        assert_eq!(l[0], "$ run lunash:>");
        assert!(l.iter().any(|x| x.trim() == "-client web-01"), "{l:?}");
    }

    #[test]
    fn a_window_keeps_the_focus_and_its_note() {
        let text = format!("{}tlsv1 alert unknown ca", "x".repeat(100));
        let focus = 100..text.len();
        let (r, lead, trail) = window(&text, focus.clone(), 30, 60).unwrap();
        assert!(lead && !trail);
        assert!(r.start <= focus.start + 11 && r.end == text.len());
        assert!(r.len() < 60);
        assert!(window("short", 0..5, 10, 60).is_none());
    }
}
