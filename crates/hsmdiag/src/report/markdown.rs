//! The Markdown report: what a customer attaches to a support ticket. A
//! summary table, then each finding with its evidence (fenced, with the input
//! and line), its cause → effect chain, who fixes it and how to reach them, and
//! the remediation as a checklist with destructive steps marked; then clock
//! offsets and the coverage of every input.
//!
//! # Text from the input
//! A report goes into tickets and pull requests, where the Markdown is
//! rendered (GitHub, Azure DevOps), so no text that comes from a log may turn
//! into markup there: an image, a link, raw HTML (`<img>`, `<details>`, a
//! comment), a heading or list, a table cell of its own, or an `@mention` that
//! notifies someone. Each such text is written one of three ways, each
//! rendering as the text itself:
//! - in a fenced block whose fence is longer than any backtick run in it (the
//!   evidence lines, commands);
//! - in a code span whose delimiter is longer than any backtick run in it
//!   (input names, unrecognised templates);
//! - escaped ([`text`]): Markdown punctuation backslash-escaped, `<` and `>`
//!   (and an `&` that would start an entity) written as entities, line breaks
//!   as spaces, and an `@` that would mention someone followed by a zero-width
//!   space (`@&#8203;name`, as Dependabot writes it: it reads the same, and
//!   neither GitHub nor Azure DevOps takes it for a mention).
//!
//! Messages, the cause → effect chain and remediation steps are hsmdiag's
//! prose with values from the log filled in: their own code spans are kept,
//! everything else in them is escaped ([`prose`]). Titles, owners' channels and
//! references are hsmdiag's own text and are written as they are.

use std::io::Write;

use chrono::{DateTime, Utc};

use super::error::RenderError;
use crate::kb::Relation;
use crate::{Owner, Report};

fn time(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(
        || "—".to_owned(),
        |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    )
}

/// Text from the input, escaped so that it renders as itself and nothing
/// else, in a paragraph or in a table cell: no line break, no `|` that ends a
/// cell, no emphasis, link, image, raw HTML, entity, block marker or mention.
fn text(s: &str) -> String {
    let chars: Vec<char> = s
        .chars()
        .map(|c| if matches!(c, '\n' | '\r') { ' ' } else { c })
        .collect();
    // What would open a block at the start of a line: a heading, a list item,
    // a thematic break, an ordered list's `1.` or `1)`.
    let first = chars.iter().position(|c| !matches!(c, ' ' | '\t'));
    let number_end =
        first.map(|f| f + chars[f..].iter().take_while(|c| c.is_ascii_digit()).count());
    let mut out = String::with_capacity(s.len() + 8);
    for (i, &c) in chars.iter().enumerate() {
        let prev = i.checked_sub(1).map(|j| chars[j]);
        let next = chars.get(i + 1).copied();
        let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric());
        match c {
            // A backslash escapes the punctuation after it (ours included).
            '\\' if next.is_none_or(|n| n.is_ascii_punctuation()) => out.push_str("\\\\"),
            '`' | '*' | '[' | ']' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            // Inside a word (`RC_SSL_ERROR`) an underscore emphasises nothing.
            '_' if !(word(prev) && word(next)) => out.push_str("\\_"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' if entity_like(&chars[i + 1..]) => out.push_str("&amp;"),
            '@' if !(word(prev) || prev == Some('_'))
                && next.is_some_and(|n| n.is_ascii_alphanumeric()) =>
            {
                out.push_str("@&#8203;");
            }
            // Block markers count only before a space or the end (`10.3.1.4`
            // and `-p` are no list): a value stays whole for the redactor.
            '#' | '-' | '+' if Some(i) == first && marker_ends(&chars[i..]) => {
                out.push('\\');
                out.push(c);
            }
            '.' | ')'
                if Some(i) == number_end
                    && first.is_some_and(|f| f < i)
                    && next.is_none_or(|n| matches!(n, ' ' | '\t')) =>
            {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// Whether a `#`, `-` or `+` at the start of a line opens a block: a run of
/// them (a heading's `###`, a thematic break's `---`) before a space, a tab
/// or the end.
fn marker_ends(rest: &[char]) -> bool {
    let run = rest.iter().take_while(|c| **c == rest[0]).count();
    rest.get(run).is_none_or(|c| matches!(c, ' ' | '\t'))
        || (rest[0] == '-' && rest.iter().all(|c| matches!(c, '-' | ' ' | '\t')))
}

/// The inputs' names, longest first: wherever one appears in hsmdiag's prose
/// (the cause → effect chain names its lines), it is written as a code span,
/// verbatim, rather than escaped.
struct Names<'a>(Vec<&'a str>);

impl<'a> Names<'a> {
    fn of(report: &'a Report) -> Self {
        let mut names: Vec<&str> = report
            .summary
            .sources
            .iter()
            .map(|s| s.name.as_str())
            .filter(|n| n.chars().count() >= 3)
            .collect();
        names.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        names.dedup();
        Names(names)
    }

    /// `s` with each input name in it as a code span and the rest written by
    /// `rest`.
    fn write(&self, s: &str, place: Place, rest: fn(&str, Place) -> String) -> String {
        let mut out = String::with_capacity(s.len() + 8);
        let mut tail = s;
        loop {
            let hit = self
                .0
                .iter()
                .filter_map(|n| tail.find(n).map(|at| (at, *n)))
                .min_by_key(|(at, n)| (*at, std::cmp::Reverse(n.len())));
            let Some((at, name)) = hit else { break };
            out.push_str(&rest(&tail[..at], place));
            out.push_str(&code(name, place));
            tail = &tail[at + name.len()..];
        }
        out.push_str(&rest(tail, place));
        out
    }

    /// hsmdiag's prose ([`prose`]) with the inputs' names in code spans.
    fn prose(&self, s: &str, place: Place) -> String {
        self.write(s, place, prose)
    }

    /// Text from the input ([`text`]) with the inputs' names in code spans.
    fn text(&self, s: &str, place: Place) -> String {
        self.write(s, place, |t, _| text(t))
    }
}

/// Whether what follows an `&` would make it an entity (`&lt;`, `&#64;`).
fn entity_like(rest: &[char]) -> bool {
    let n = rest
        .iter()
        .take(33)
        .take_while(|c| c.is_ascii_alphanumeric() || **c == '#')
        .count();
    n > 0 && rest.get(n) == Some(&';')
}

/// Text in a code span: shown as it is, whatever it holds. The delimiter is
/// longer than any backtick run inside; in a table cell a `|` is escaped (the
/// table reads it first, code span or not).
fn code(s: &str, place: Place) -> String {
    if s.is_empty() {
        return String::new();
    }
    let s = s.replace(['\n', '\r'], " ");
    let ticks = "`".repeat(longest_run(&s) + 1);
    let pad = s.starts_with('`')
        || s.ends_with('`')
        || (s.starts_with(' ') && s.ends_with(' ') && !s.trim().is_empty());
    let sp = if pad { " " } else { "" };
    let body = match place {
        Place::Cell => s.replace('|', "\\|"),
        Place::Block => s,
    };
    format!("{ticks}{sp}{body}{sp}{ticks}")
}

/// Where text goes: a paragraph or list item, or a table cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Block,
    Cell,
}

/// hsmdiag's prose with values from the log in it (a message, a remediation
/// step): its code spans (`` `vtl verify` ``) stay code spans, with a
/// delimiter that holds whatever a value put in them; the rest is [`text`].
fn prose(s: &str, place: Place) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut rest = s;
    while let Some(open) = rest.find('`') {
        let n = rest[open..].bytes().take_while(|&b| b == b'`').count();
        let after = &rest[open + n..];
        match closing_run(after, n) {
            Some(close) => {
                out.push_str(&text(&rest[..open]));
                out.push_str(&code(&after[..close], place));
                rest = &after[close + n..];
            }
            // No closing run: the backticks are text.
            None => {
                out.push_str(&text(&rest[..open + n]));
                rest = after;
            }
        }
    }
    out.push_str(&text(rest));
    out
}

/// Where a run of exactly `n` backticks starts in `s`.
fn closing_run(s: &str, n: usize) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'`' {
            let len = b[i..].iter().take_while(|&&c| c == b'`').count();
            if len == n {
                return Some(i);
            }
            i += len;
        } else {
            i += 1;
        }
    }
    None
}

/// The longest run of backticks in the text.
fn longest_run(text: &str) -> usize {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    longest
}

/// A fence longer than any run of backticks in the text.
fn fence(text: &str) -> String {
    "`".repeat((longest_run(text) + 1).max(3))
}

/// Writes the report as Markdown.
///
/// # Errors
/// [`RenderError`] when writing fails.
pub fn write_markdown(report: &Report, w: &mut dyn Write) -> Result<(), RenderError> {
    let s = &report.summary;
    let c = &s.findings;
    let names = Names::of(report);
    writeln!(w, "# hsmdiag report\n")?;
    writeln!(w, "| | |\n|---|---|")?;
    match (s.recognized_lines, s.unrecognized_lines) {
        (Some(r), Some(u)) => writeln!(
            w,
            "| Inputs | {} ({} lines: {r} recognised, {u} unrecognised, {} blank) |",
            s.inputs, s.lines, s.blank_lines
        )?,
        _ => writeln!(
            w,
            "| Inputs | {} ({} lines, {} blank; coverage not measured) |",
            s.inputs, s.lines, s.blank_lines
        )?,
    }
    writeln!(
        w,
        "| Time range | {} – {} |",
        time(s.first_time),
        time(s.last_time)
    )?;
    if let Some(note) = super::text::assumed_years(s) {
        writeln!(w, "| Year | {} |", prose(&note, Place::Cell))?;
    }
    writeln!(
        w,
        "| Findings | {}: {} critical, {} error{}, {} warning{}, {} info |",
        report.findings.len(),
        c.critical,
        c.error,
        if c.error == 1 { "" } else { "s" },
        c.warning,
        if c.warning == 1 { "" } else { "s" },
        c.info
    )?;
    writeln!(w, "| Report by | hsmdiag {} |", env!("CARGO_PKG_VERSION"))?;
    if !s.skipped.is_empty() {
        writeln!(
            w,
            "| Skipped | {} |",
            names.text(&s.skipped.join("; "), Place::Cell)
        )?;
    }
    if !s.unreadable.is_empty() {
        writeln!(
            w,
            "| Not read | {} |",
            names.text(&s.unreadable.join("; "), Place::Cell)
        )?;
    }
    writeln!(w)?;

    if report.findings.is_empty() {
        writeln!(w, "No known issues found.\n")?;
    } else {
        writeln!(w, "## Findings\n")?;
        writeln!(
            w,
            "| # | Severity | Code | Finding | Seen |\n|---|---|---|---|---|"
        )?;
        for (i, f) in report.findings.iter().enumerate() {
            writeln!(
                w,
                "| {} | {} | {} | {} | {} |",
                i + 1,
                f.severity,
                f.code,
                f.message.as_deref().map_or_else(
                    || names.text(&f.subject, Place::Cell),
                    |m| names.prose(m, Place::Cell)
                ),
                f.count
            )?;
        }
        writeln!(w)?;
    }

    for (i, f) in report.findings.iter().enumerate() {
        writeln!(
            w,
            "### {}. {} {} — {}\n",
            i + 1,
            f.code,
            code(&f.id, Place::Block),
            f.severity
        )?;
        writeln!(w, "**{}**\n", f.title)?;
        if let Some(file) = &f.rule_file {
            writeln!(
                w,
                "Rule from {}: a user's rule, not one of hsmdiag's.\n",
                code(file, Place::Block)
            )?;
        }
        if let Some(m) = &f.message {
            writeln!(w, "{}\n", names.prose(m, Place::Block))?;
        }
        writeln!(w, "{}\n", super::seen::seen_sentence(f, &report.clock_skew))?;
        if let Some(chain) = &f.chain {
            writeln!(
                w,
                "**Cause → effect** (reference clock): {}\n",
                names.prose(chain, Place::Block)
            )?;
        }
        writeln!(w, "**Evidence**\n")?;
        let mut block = String::new();
        for r in f.related.iter().filter(|r| r.relation == Relation::Cause) {
            block.push_str(&format!(
                "{}:{}  (cause: {})\n{}\n",
                r.source, r.line, r.note, r.text
            ));
        }
        for e in &f.evidence {
            block.push_str(&format!("{}:{}\n{}\n", e.source, e.line, e.text));
        }
        for r in f.related.iter().filter(|r| r.relation == Relation::Effect) {
            block.push_str(&format!(
                "{}:{}  (effect: {})\n{}\n",
                r.source, r.line, r.note, r.text
            ));
        }
        let f_block = fence(&block);
        writeln!(w, "{f_block}text\n{block}{f_block}\n")?;
        let who = match f.owner {
            Owner::Customer => "the customer",
            Owner::Microsoft => "Microsoft",
            Owner::Thales => "Thales",
        };
        writeln!(w, "**Who fixes it:** {who}. **How:** {}\n", f.channel)?;
        writeln!(w, "**Remediation**\n")?;
        for (n, step) in f.remediation_steps.iter().enumerate() {
            let mark = if step.destructive {
                "**DESTRUCTIVE:** "
            } else {
                ""
            };
            writeln!(
                w,
                "- [ ] {}. {mark}{}",
                n + 1,
                names.prose(&step.step, Place::Block)
            )?;
            if let Some(cmd) = &step.command {
                let f_cmd = fence(cmd);
                // Every line inside the list item, so none ends it.
                let cmd = cmd.replace("\r\n", "\n").replace('\r', "\n");
                let cmd = cmd.replace('\n', "\n  ");
                writeln!(w, "  {f_cmd}\n  {cmd}\n  {f_cmd}")?;
            }
        }
        writeln!(w)?;
        if !f.references.is_empty() {
            let refs: Vec<String> = f.references.iter().map(|r| format!("<{r}>")).collect();
            writeln!(w, "References: {}\n", refs.join(", "))?;
        }
        writeln!(w, "More: `hsmdiag explain {}`\n", f.code)?;
    }

    if !report.clock_skew.is_empty() {
        writeln!(w, "## Clocks\n")?;
        writeln!(
            w,
            "| Input | Offset | Against | Connections paired |\n|---|---|---|---|"
        )?;
        for k in &report.clock_skew {
            let sign = if k.offset_ms >= 0 { "+" } else { "−" };
            writeln!(
                w,
                "| {} | {sign}{} | {} | {} |",
                code(&k.source, Place::Cell),
                crate::correlate::human_ms(k.offset_ms.abs()),
                code(&k.reference, Place::Cell),
                k.pairs
            )?;
        }
        writeln!(w)?;
    }

    writeln!(w, "## Coverage\n")?;
    writeln!(
        w,
        "| Input | Lines | Recognised | Unrecognised | Blank | First time | Last time |\n|---|---|---|---|---|---|---|"
    )?;
    for src in &s.sources {
        writeln!(
            w,
            "| {} | {} | {} | {} | {} | {} | {} |",
            code(&src.name, Place::Cell),
            src.lines,
            count(src.recognized_lines),
            count(src.unrecognized_lines),
            src.blank_lines,
            time(src.first_time),
            time(src.last_time)
        )?;
    }
    if let Some(n) = s.outside_window.filter(|&n| n > 0) {
        writeln!(
            w,
            "\n{n} events were left out as outside `--since` / `--until`."
        )?;
    }
    if s.long_lines > 0 {
        writeln!(
            w,
            "\n{} lines longer than {} MiB were cut to their first MiB.",
            s.long_lines,
            crate::parser::MAX_LINE >> 20
        )?;
    }
    if !report.unrecognized.is_empty() {
        writeln!(w, "\n### Unrecognised messages\n")?;
        writeln!(w, "| Count | Template | First seen at |\n|---|---|---|")?;
        for t in &report.unrecognized {
            writeln!(
                w,
                "| {} | {} | {} |",
                t.count,
                code(&t.template, Place::Cell),
                code(&format!("{}:{}", t.source, t.line), Place::Cell),
            )?;
        }
    }
    w.flush()?;
    Ok(())
}

/// A count, or a dash where it was not measured (coverage off).
fn count(n: Option<u64>) -> String {
    n.map_or_else(|| "–".to_owned(), |n| n.to_string())
}
