//! The Markdown report: what a customer attaches to a support ticket. A
//! summary table, then each finding with its evidence (fenced, with the input
//! and line), its cause → effect chain, who fixes it and how to reach them, and
//! the remediation as a checklist with destructive steps marked; then clock
//! offsets and the coverage of every input.

use std::io::Write;

use chrono::{DateTime, Utc};

use super::RenderError;
use crate::kb::Relation;
use crate::{Owner, Report};

fn time(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(
        || "—".to_owned(),
        |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    )
}

/// Text in a table cell: no line breaks, pipes escaped.
fn cell(s: &str) -> String {
    s.replace('\n', " ").replace('|', "\\|")
}

/// A fence longer than any run of backticks in the text.
fn fence(text: &str) -> String {
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
    "`".repeat((longest + 1).max(3))
}

/// Writes the report as Markdown.
///
/// # Errors
/// [`RenderError`] when writing fails.
pub fn write_markdown(report: &Report, w: &mut dyn Write) -> Result<(), RenderError> {
    let s = &report.summary;
    let c = &s.findings;
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
    writeln!(
        w,
        "| Findings | {}: {} critical, {} error, {} warning, {} info |",
        report.findings.len(),
        c.critical,
        c.error,
        c.warning,
        c.info
    )?;
    writeln!(w, "| Report by | hsmdiag {} |", env!("CARGO_PKG_VERSION"))?;
    if !s.skipped.is_empty() {
        writeln!(w, "| Skipped | {} |", cell(&s.skipped.join("; ")))?;
    }
    if !s.unreadable.is_empty() {
        writeln!(w, "| Not read | {} |", cell(&s.unreadable.join("; ")))?;
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
                cell(f.message.as_deref().unwrap_or(&f.subject)),
                f.count
            )?;
        }
        writeln!(w)?;
    }

    for (i, f) in report.findings.iter().enumerate() {
        writeln!(w, "### {}. {} `{}` — {}\n", i + 1, f.code, f.id, f.severity)?;
        writeln!(w, "**{}**\n", f.title)?;
        if let Some(m) = &f.message {
            writeln!(w, "{m}\n")?;
        }
        let seen = if f.count == 1 {
            "once".to_owned()
        } else {
            format!("{} times", f.count)
        };
        match (f.first_seen, f.last_seen) {
            (Some(a), Some(b)) if a != b => writeln!(
                w,
                "Seen {seen}, from {} to {}.\n",
                time(Some(a)),
                time(Some(b))
            )?,
            (Some(a), _) => writeln!(w, "Seen {seen}, at {}.\n", time(Some(a)))?,
            _ => writeln!(w, "Seen {seen} (the log has no times).\n")?,
        }
        if let Some(chain) = &f.chain {
            writeln!(w, "**Cause → effect:** {chain}\n")?;
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
            writeln!(w, "- [ ] {}. {mark}{}", n + 1, step.step)?;
            if let Some(cmd) = &step.command {
                let f_cmd = fence(cmd);
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
                cell(&k.source),
                crate::timeline::human_ms(k.offset_ms.abs()),
                cell(&k.reference),
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
            cell(&src.name),
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
                "| {} | `{}` | {}:{} |",
                t.count,
                cell(&t.template).replace('`', "'"),
                cell(&t.source),
                t.line
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
