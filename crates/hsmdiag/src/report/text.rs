//! The text report: each finding as a miette diagnostic, then a summary.

use std::io::Write;

use miette::{GraphicalReportHandler, GraphicalTheme};

use super::diagnostic::FindingDiagnostic;
use super::error::RenderError;
use crate::Report;

/// How to render text.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct TextOptions {
    /// Use colour (only on a terminal, and not with `NO_COLOR`).
    pub color: bool,
    /// Wrap prose at this width.
    pub width: usize,
    /// Each finding in full (evidence, remediation) before the one-screen list
    /// and the summary; off when the findings were already shown one by one
    /// ([`write_finding_text`], `--follow`).
    pub diagnostics: bool,
}

impl Default for TextOptions {
    fn default() -> Self {
        TextOptions {
            color: false,
            width: 100,
            diagnostics: true,
        }
    }
}

impl TextOptions {
    /// Options with colour on or off and a width.
    pub fn new(color: bool, width: usize) -> Self {
        TextOptions {
            color,
            width,
            diagnostics: true,
        }
    }
}

/// Writes one finding as a diagnostic: what is wrong, the lines that prove it,
/// the remediation.
///
/// # Errors
/// [`RenderError`] when writing fails.
pub fn write_finding_text(
    f: &crate::Finding,
    w: &mut dyn Write,
    opts: TextOptions,
) -> Result<(), RenderError> {
    let theme = if opts.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(opts.width)
        .with_context_lines(0)
        .with_wrap_lines(false)
        .with_links(false);
    let mut out = String::new();
    // Rendering into a String cannot fail but for a bug in a Display impl.
    if handler
        .render_report(&mut out, &FindingDiagnostic::with_width(f, opts.width))
        .is_err()
    {
        out = format!("{} {}: {}\n", f.code, f.title, f.subject);
    }
    w.write_all(out.as_bytes())?;
    w.write_all(b"\n")?;
    Ok(())
}

/// Writes findings as diagnostics (most severe first) and a summary that
/// accounts for every line read.
///
/// # Errors
/// [`RenderError`] when writing fails.
pub fn write_text(
    report: &Report,
    w: &mut dyn Write,
    opts: TextOptions,
) -> Result<(), RenderError> {
    if opts.diagnostics {
        // Who acts is said in full once per channel; later findings with the
        // same one point back to it.
        let mut said: Vec<(&str, &str)> = Vec::new();
        for f in &report.findings {
            match said.iter().find(|(c, _)| *c == f.channel) {
                Some((_, code)) => {
                    let mut g = f.clone();
                    g.channel = format!("as for {code} above.");
                    write_finding_text(&g, w, opts)?;
                }
                None => {
                    said.push((&f.channel, f.code.as_str()));
                    write_finding_text(f, w, opts)?;
                }
            }
        }
    }
    let s = &report.summary;
    let n = report.findings.len();
    if s.inputs == 0 && !s.unreadable.is_empty() {
        writeln!(w, "Nothing analysed: no input could be read.")?;
        w.flush()?;
        return Ok(());
    }
    if n >= 2 {
        // One screen: every finding on one line, most severe first.
        let id_w = report
            .findings
            .iter()
            .map(|f| f.id.len())
            .max()
            .unwrap_or(0);
        for f in &report.findings {
            let what = f.message.as_deref().unwrap_or(&f.subject);
            let sev = format!("{:<8}", f.severity.to_string());
            let head = format!("{sev}  {}  {:<id_w$}  ", f.code, f.id);
            let room = opts.width.saturating_sub(head.chars().count()).max(20);
            let head = if opts.color {
                let code = match f.severity {
                    crate::Severity::Critical => "1;31",
                    crate::Severity::Error => "31",
                    crate::Severity::Warning => "33",
                    crate::Severity::Info => "36",
                };
                head.replacen(&sev, &format!("\x1b[{code}m{sev}\x1b[0m"), 1)
            } else {
                head
            };
            let mut what: String = what.chars().take(room).collect();
            if what.chars().count() < f.message.as_deref().unwrap_or(&f.subject).chars().count() {
                what.pop();
                what.push('…');
            }
            writeln!(w, "{head}{what}")?;
        }
        writeln!(w)?;
    }
    let mut sum: Vec<u8> = Vec::new();
    if n == 0 {
        writeln!(sum, "No known issues found.")?;
    } else {
        let mut parts = Vec::new();
        for (count, name, many) in [
            (s.findings.critical, "critical", "critical"),
            (s.findings.error, "error", "errors"),
            (s.findings.warning, "warning", "warnings"),
            (s.findings.info, "info", "info"),
        ] {
            if count > 0 {
                parts.push(format!("{count} {}", if count == 1 { name } else { many }));
            }
        }
        writeln!(sum, "{n} finding{} ({}).", plural(n), parts.join(", "))?;
    }
    match (s.recognized_lines, s.unrecognized_lines, s.events) {
        (Some(r), Some(u), Some(e)) => writeln!(
            sum,
            "Read {} input{}, {} line{}: {r} recognised, {u} unrecognised, {} blank; {e} event{}.",
            s.inputs,
            plural(s.inputs),
            s.lines,
            plural(s.lines as usize),
            s.blank_lines,
            plural(e as usize),
        )?,
        _ => writeln!(
            sum,
            "Read {} input{}, {} line{} ({} blank); coverage not measured (--coverage).",
            s.inputs,
            plural(s.inputs),
            s.lines,
            plural(s.lines as usize),
            s.blank_lines,
        )?,
    }
    if let Some(n) = s.outside_window.filter(|&n| n > 0) {
        writeln!(
            sum,
            "Left out {n} event{} outside --since / --until.",
            plural(n as usize)
        )?;
    }
    if s.long_lines > 0 {
        writeln!(
            sum,
            "Cut {} line{} longer than {} MiB to their first and last half MiB.",
            s.long_lines,
            plural(s.long_lines as usize),
            crate::parser::MAX_LINE >> 20
        )?;
    }
    if let Some(note) = assumed_years(s) {
        writeln!(sum, "{note}")?;
    }
    if s.sources.len() > 1 {
        // Names wider than the room keep their end (the file name), cut in front.
        let width = s
            .sources
            .iter()
            .map(|x| x.name.chars().count())
            .max()
            .unwrap_or(0)
            .min(opts.width.saturating_sub(34).max(20));
        for src in &s.sources {
            let name = super::wrap::cut_front(&src.name, width);
            match (src.recognized_lines, src.unrecognized_lines) {
                (Some(r), Some(u)) => writeln!(
                    sum,
                    "  {:<width$}  {} line{}: {r} recognised, {u} unrecognised, {} blank",
                    name,
                    src.lines,
                    plural(src.lines as usize),
                    src.blank_lines,
                )?,
                _ => writeln!(
                    sum,
                    "  {:<width$}  {} line{} ({} blank)",
                    name,
                    src.lines,
                    plural(src.lines as usize),
                    src.blank_lines,
                )?,
            }
        }
    }
    if !s.skipped.is_empty() {
        writeln!(
            sum,
            "Skipped {} file{}, not read: {}.",
            s.skipped.len(),
            if s.skipped.len() == 1 { "" } else { "s" },
            s.skipped.join("; ")
        )?;
    }
    if !s.unreadable.is_empty() {
        writeln!(sum, "Not read: {}.", s.unreadable.join("; "))?;
    }
    for o in &s.omitted {
        writeln!(
            sum,
            "Left out: {} {} about {} further subject{} ({} occurrence{}), beyond the {} a rule keeps in full.",
            o.code,
            o.id,
            o.subjects,
            if o.subjects == 1 { "" } else { "s" },
            o.occurrences,
            if o.occurrences == 1 { "" } else { "s" },
            crate::MAX_SUBJECTS_PER_RULE
        )?;
    }
    for k in &report.clock_skew {
        writeln!(sum, "Clock: {} runs {}.", k.source, k.describe())?;
    }
    if !report.unrecognized.is_empty() {
        writeln!(
            sum,
            "\nUnrecognised messages by template, most frequent first ({} template{}):",
            report.unrecognized.len(),
            plural(report.unrecognized.len())
        )?;
        let count_width = report.unrecognized[0].count.to_string().len();
        for t in &report.unrecognized {
            writeln!(
                sum,
                "{:>count_width$}  {}\n{:>count_width$}  e.g. {}:{}: {}",
                t.count,
                t.template,
                "",
                t.source,
                t.line,
                t.example.trim()
            )?;
        }
    }
    // The summary's prose, wrapped to the width (its template examples cut).
    for line in String::from_utf8_lossy(&sum).lines() {
        if super::wrap::columns(line) <= opts.width {
            writeln!(w, "{line}")?;
        } else if line.trim_start().starts_with("e.g. ") {
            writeln!(w, "{}", super::wrap::cut_end(line, opts.width))?;
        } else {
            let indent = " ".repeat(line.len() - line.trim_start().len() + 2);
            for l in super::wrap::wrap(line.trim_start(), opts.width, &indent[2..], &indent) {
                writeln!(w, "{l}")?;
            }
        }
    }
    w.flush()?;
    Ok(())
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// A sentence naming the inputs whose year-less times were read in an
/// assumed year, or `None` when no year was assumed.
pub(crate) fn assumed_years(s: &crate::report::Summary) -> Option<String> {
    let assumed: Vec<String> = s
        .sources
        .iter()
        .filter_map(|src| src.assumed_year.map(|y| format!("{} as {y}", src.name)))
        .collect();
    (!assumed.is_empty()).then(|| {
        format!(
            "Times without a year read in an assumed year ({}): --year sets it.",
            assumed.join(", ")
        )
    })
}

/// Writes one line per finding, most severe first, as linters print their
/// concise output: where its first evidence is (`input:line:column`), its
/// code and severity, its subject and message, and its first step with the
/// step's first command; then the summary's first line. For a terminal that
/// shows many findings, and for `grep`.
///
/// # Errors
/// [`RenderError`] when writing fails.
pub fn write_short(report: &Report, w: &mut dyn Write) -> Result<(), RenderError> {
    for f in &report.findings {
        let place = f.evidence.first().map_or_else(
            || "-".to_owned(),
            |e| format!("{}:{}:{}", e.source, e.line, e.column + 1),
        );
        let what = f.message.as_deref().unwrap_or(&f.title);
        let mut line = format!("{place}: {} [{}] {what}", f.code, f.severity);
        if let Some(step) = f.remediation_steps.first() {
            line.push_str(&format!(" — fix: {}", step.step));
            if let Some((shell, cmd)) = step
                .command
                .as_deref()
                .and_then(|c| super::command::split(c).into_iter().next())
            {
                line.push_str(&format!(" ({}{cmd})", shell.prompt()));
            }
        }
        writeln!(w, "{}", line.replace(['\n', '\r'], " "))?;
    }
    let c = &report.summary.findings;
    let n = report.findings.len();
    if n == 0 {
        writeln!(w, "No known issues found.")?;
    } else {
        let parts: Vec<String> = [
            (c.critical, "critical"),
            (c.error, "error"),
            (c.warning, "warning"),
            (c.info, "info"),
        ]
        .iter()
        .filter(|(k, _)| *k > 0)
        .map(|(k, name)| format!("{k} {name}"))
        .collect();
        writeln!(w, "{n} finding{} ({}).", plural(n), parts.join(", "))?;
    }
    w.flush()?;
    Ok(())
}
