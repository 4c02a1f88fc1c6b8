//! The HTML report (`--format html`, `report.html` in a bundle): one
//! self-contained page, no scripts, no fonts, nothing fetched. The summary;
//! an SVG timeline with one lane per input on the corrected clock, the
//! findings' lines marked, cause → effect arrows and a histogram of failures;
//! then the findings by severity, each with who fixes it, the remediation as a
//! checklist (destructive steps marked) and its evidence (collapsible on
//! screen, printed in full).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write;

use chrono::{DateTime, Utc};

use super::error::RenderError;
use crate::correlate::human_ms;
use crate::kb::Relation;
use crate::timeline::Entry;
use crate::{Finding, Owner, Report, Severity};

/// Text for HTML: `&`, `<`, `>`, `"` and `'` escaped.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn time(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(
        || "—".to_owned(),
        |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    )
}

const SEVERITIES: [Severity; 4] = [
    Severity::Critical,
    Severity::Error,
    Severity::Warning,
    Severity::Info,
];

fn owner(o: Owner) -> &'static str {
    match o {
        Owner::Customer => "the customer",
        Owner::Microsoft => "Microsoft",
        Owner::Thales => "Thales",
    }
}

const STYLE: &str = r#"
:root { --critical: #8e0000; --error: #c62828; --warning: #b35900; --info: #1f5fa8;
  --ink: #1d1d1f; --muted: #5f6368; --line: #d9dce1; --paper: #fff; --band: #f5f6f8; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
  background: var(--paper); margin: 0 auto; max-width: 1180px; padding: 24px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 19px; margin: 28px 0 10px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 16px; margin: 0; }
.muted { color: var(--muted); }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--band); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.counts { display: flex; gap: 10px; flex-wrap: wrap; margin: 12px 0; }
.count { border: 1px solid var(--line); border-radius: 6px; padding: 6px 12px; min-width: 110px; }
.count b { display: block; font-size: 22px; }
.sev { display: inline-block; border-radius: 4px; padding: 0 7px; color: #fff; font-size: 12px;
  font-weight: 700; text-transform: uppercase; letter-spacing: .03em; vertical-align: 2px; }
.sev-critical { background: var(--critical); } .sev-error { background: var(--error); }
.sev-warning { background: var(--warning); } .sev-info { background: var(--info); }
.finding { border: 1px solid var(--line); border-left: 6px solid var(--muted); border-radius: 6px;
  padding: 12px 16px; margin: 12px 0; break-inside: avoid-page; }
.finding.critical { border-left-color: var(--critical); } .finding.error { border-left-color: var(--error); }
.finding.warning { border-left-color: var(--warning); } .finding.info { border-left-color: var(--info); }
.finding .message { margin: 6px 0; font-weight: 500; }
.finding .who { background: var(--band); border-radius: 4px; padding: 6px 10px; margin: 8px 0; }
.checklist { list-style: none; padding: 0; margin: 6px 0; }
.checklist li { margin: 6px 0; }
.checklist code, pre { font: 13px/1.4 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
.checklist code { display: block; margin: 3px 0 0 26px; padding: 4px 8px; background: var(--band);
  border-radius: 4px; white-space: pre-wrap; word-break: break-all; }
.destructive { color: #fff; background: var(--critical); border-radius: 3px; padding: 0 5px;
  font-size: 12px; font-weight: 700; }
details { margin: 8px 0; } summary { cursor: pointer; color: var(--muted); }
pre { background: var(--band); padding: 8px 10px; border-radius: 4px; overflow-x: auto;
  white-space: pre-wrap; word-break: break-all; margin: 4px 0; }
pre .place { color: var(--muted); display: block; }
mark { background: #ffe08a; color: inherit; padding: 0 1px; }
.relation { font-size: 12px; font-weight: 700; color: var(--muted); text-transform: uppercase; }
svg { width: 100%; height: auto; display: block; }
svg text { font: 11px system-ui, sans-serif; fill: var(--ink); }
svg .lane { fill: var(--band); } svg .axis { stroke: var(--line); }
svg .ev { fill: #9aa0a6; } svg .ev-critical { fill: var(--critical); } svg .ev-error { fill: var(--error); }
svg .ev-warning { fill: var(--warning); } svg .ev-info { fill: var(--info); }
svg .cause { fill: #fff; stroke: var(--warning); stroke-width: 2; }
svg .arrow { stroke: var(--warning); stroke-width: 1.5; fill: none; }
svg .bar { fill: var(--error); opacity: .75; }
.print-only { display: none; }
@media print {
  body { max-width: none; padding: 0; font-size: 12px; }
  details { display: none; } .print-only { display: block; }
  .checklist input { display: none; } .checklist li::before { content: "☐ "; }
  h2 { break-after: avoid; } .finding { break-inside: avoid; }
}
"#;

/// Writes the report as one self-contained HTML page. `entries` are the
/// timeline's lines ([`crate::timeline::build`]); with none, the page says the
/// logs gave nothing to draw.
///
/// # Errors
/// [`RenderError`] when writing fails.
pub fn write_html(
    report: &Report,
    entries: &[Entry],
    w: &mut dyn Write,
) -> Result<(), RenderError> {
    let mut h = String::with_capacity(64 * 1024);
    let s = &report.summary;
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(
        h,
        "<meta name=\"generator\" content=\"hsmdiag {}\">",
        env!("CARGO_PKG_VERSION")
    );
    let n = report.findings.len();
    let _ = writeln!(
        h,
        "<title>hsmdiag report: {}</title>",
        if n == 0 {
            "no known issues".to_owned()
        } else {
            format!("{n} finding{}", if n == 1 { "" } else { "s" })
        }
    );
    let _ = writeln!(h, "<style>{STYLE}</style>\n</head>\n<body>");
    h.push_str("<header>\n<h1>hsmdiag report</h1>\n");
    let _ = writeln!(
        h,
        "<p class=\"muted\">Azure Dedicated HSM (Thales Luna 7) log diagnosis · hsmdiag {} · logs from {} to {}</p>\n</header>",
        env!("CARGO_PKG_VERSION"),
        esc(&time(s.first_time)),
        esc(&time(s.last_time))
    );

    // Summary.
    h.push_str("<section id=\"summary\">\n<h2>Summary</h2>\n<div class=\"counts\">\n");
    for (sev, count) in [
        (Severity::Critical, s.findings.critical),
        (Severity::Error, s.findings.error),
        (Severity::Warning, s.findings.warning),
        (Severity::Info, s.findings.info),
    ] {
        let _ = writeln!(
            h,
            "<div class=\"count\"><b>{count}</b><span class=\"sev sev-{sev}\">{sev}</span></div>"
        );
    }
    let _ = writeln!(
        h,
        "<div class=\"count\"><b>{}</b>lines read</div>\n</div>",
        s.lines
    );
    if n == 0 {
        h.push_str("<p>No known issues found.</p>\n");
    } else {
        h.push_str("<table class=\"findings\">\n<thead><tr><th>Severity</th><th>Code</th><th>Finding</th><th class=\"num\">Seen</th><th>Last seen</th></tr></thead>\n<tbody>\n");
        for (i, f) in report.findings.iter().enumerate() {
            let _ = writeln!(
                h,
                "<tr><td><span class=\"sev sev-{}\">{}</span></td><td><a href=\"#f{i}\">{}</a></td><td>{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
                f.severity,
                f.severity,
                esc(f.code.as_str()),
                esc(f.message.as_deref().unwrap_or(&f.subject)),
                f.count,
                esc(&time(f.last_seen))
            );
        }
        h.push_str("</tbody>\n</table>\n");
    }
    h.push_str("<h3 style=\"margin-top:14px\">Inputs</h3>\n<table class=\"inputs\">\n<thead><tr><th>Input</th><th class=\"num\">Lines</th><th class=\"num\">Blank</th><th>First time</th><th>Last time</th><th>Clock</th></tr></thead>\n<tbody>\n");
    for src in &s.sources {
        let clock = report
            .clock_skew
            .iter()
            .find(|k| k.source == src.name)
            .map(crate::ClockSkew::describe)
            .unwrap_or_default();
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&src.name),
            src.lines,
            src.blank_lines,
            esc(&time(src.first_time)),
            esc(&time(src.last_time)),
            esc(&clock)
        );
    }
    h.push_str("</tbody>\n</table>\n");
    if !s.skipped.is_empty() || !s.unreadable.is_empty() {
        let _ = writeln!(
            h,
            "<p class=\"muted\">Not read: {}</p>",
            esc(&s
                .skipped
                .iter()
                .chain(&s.unreadable)
                .cloned()
                .collect::<Vec<_>>()
                .join("; "))
        );
    }
    h.push_str("</section>\n");

    // Timeline.
    h.push_str("<section id=\"timeline\">\n<h2>Timeline</h2>\n");
    timeline_svg(report, entries, &mut h);
    h.push_str("</section>\n");

    // Findings by severity.
    h.push_str("<section id=\"findings\">\n<h2>Findings</h2>\n");
    if n == 0 {
        h.push_str("<p>No known issues found.</p>\n");
    }
    for sev in SEVERITIES {
        for (i, f) in report
            .findings
            .iter()
            .enumerate()
            .filter(|(_, f)| f.severity == sev)
        {
            finding_html(i, f, &report.clock_skew, &mut h);
        }
    }
    h.push_str("</section>\n");
    let _ = writeln!(
        h,
        "<footer class=\"muted\"><p>Written by hsmdiag {}; every line of every input is counted in the summary.</p></footer>\n</body>\n</html>",
        env!("CARGO_PKG_VERSION")
    );
    w.write_all(h.as_bytes())?;
    w.flush()?;
    Ok(())
}

/// One finding: header, message, when, who fixes it, the remediation
/// checklist, and the evidence.
fn finding_html(i: usize, f: &Finding, skew: &[crate::correlate::ClockSkew], h: &mut String) {
    let host = f.host.as_deref().unwrap_or("");
    let _ = writeln!(
        h,
        "<article class=\"finding {sev}\" id=\"f{i}\" data-code=\"{code}\" data-id=\"{id}\" data-severity=\"{sev}\" data-host=\"{host}\">",
        sev = f.severity,
        code = esc(f.code.as_str()),
        id = esc(&f.id),
        host = esc(host),
    );
    let _ = writeln!(
        h,
        "<h3><span class=\"sev sev-{}\">{}</span> {} <code>{}</code> — {}</h3>",
        f.severity,
        f.severity,
        esc(f.code.as_str()),
        esc(&f.id),
        esc(&f.title)
    );
    let _ = writeln!(
        h,
        "<p class=\"message\">{}</p>",
        esc(f.message.as_deref().unwrap_or(&f.subject))
    );
    let when = super::seen::seen_sentence(f, skew);
    let _ = writeln!(h, "<p class=\"muted\">{}</p>", esc(&when));
    if let Some(file) = &f.rule_file {
        let _ = writeln!(
            h,
            "<p class=\"rule-file\">Rule from <code>{}</code>: a user's rule, not one of hsmdiag's.</p>",
            esc(file)
        );
    }
    if let Some(chain) = &f.chain {
        let _ = writeln!(
            h,
            "<p><b>Cause → effect</b> (reference clock): {}</p>",
            esc(chain)
        );
    }
    let _ = writeln!(
        h,
        "<p class=\"who\"><b>Who fixes it:</b> {}. {}</p>",
        owner(f.owner),
        esc(&f.channel)
    );
    h.push_str("<h4>Remediation</h4>\n<ul class=\"checklist\">\n");
    for (n, step) in f.remediation_steps.iter().enumerate() {
        let mark = if step.destructive {
            "<span class=\"destructive\">DESTRUCTIVE</span> "
        } else {
            ""
        };
        let _ = write!(
            h,
            "<li{}><label><input type=\"checkbox\"> {}. {mark}{}</label>",
            if step.destructive {
                " class=\"destructive-step\""
            } else {
                ""
            },
            n + 1,
            esc(&step.step)
        );
        if let Some(cmd) = &step.command {
            // One command per line, kept as lines (a copy pastes them apart).
            let _ = write!(h, "<pre class=\"command\"><code>{}</code></pre>", esc(cmd));
        }
        h.push_str("</li>\n");
    }
    h.push_str("</ul>\n");
    let mut lines = String::new();
    for r in f.related.iter().filter(|r| r.relation == Relation::Cause) {
        evidence_line(
            &r.source,
            r.line,
            &r.text,
            None,
            Some(&format!("cause: {}", r.note)),
            &mut lines,
        );
    }
    for e in &f.evidence {
        let label = e.label.as_ref().map(|(range, _)| range.clone());
        let note = e.label.as_ref().and_then(|(_, n)| n.clone());
        evidence_line(
            &e.source,
            e.line,
            &e.text,
            label,
            note.as_deref(),
            &mut lines,
        );
    }
    for r in f.related.iter().filter(|r| r.relation == Relation::Effect) {
        evidence_line(
            &r.source,
            r.line,
            &r.text,
            None,
            Some(&format!("effect: {}", r.note)),
            &mut lines,
        );
    }
    let count = f.evidence.len() + f.related.len();
    let _ = writeln!(
        h,
        "<details class=\"evidence\"><summary>Evidence ({count} line{})</summary>\n{lines}</details>",
        if count == 1 { "" } else { "s" }
    );
    let _ = writeln!(
        h,
        "<div class=\"print-only\"><h4>Evidence</h4>\n{lines}</div>"
    );
    let _ = writeln!(
        h,
        "<p class=\"muted\">More: <code>hsmdiag explain {}</code></p>\n</article>",
        esc(f.code.as_str())
    );
}

/// One evidence line: where, the text with its labelled part marked, the note.
fn evidence_line(
    source: &str,
    line: u32,
    text: &str,
    label: Option<std::ops::Range<usize>>,
    note: Option<&str>,
    out: &mut String,
) {
    let body = match label.filter(|r| {
        r.end <= text.len()
            && text.is_char_boundary(r.start)
            && text.is_char_boundary(r.end)
            && r.start < r.end
    }) {
        Some(r) => format!(
            "{}<mark>{}</mark>{}",
            esc(&text[..r.start]),
            esc(&text[r.clone()]),
            esc(&text[r.end..])
        ),
        None => esc(text),
    };
    let note = note
        .map(|n| format!(" — <span class=\"relation\">{}</span>", esc(n)))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "<pre><span class=\"place\">{}:{line}{note}</span>{body}</pre>",
        esc(source)
    );
}

/// The SVG timeline: a lane per input, every event a dot on the corrected
/// clock (a finding's lines in its severity's colour, causes as rings),
/// arrows from each cause to what it explains, and below, failures per
/// minute or hour.
fn timeline_svg(report: &Report, entries: &[Entry], h: &mut String) {
    let timed: Vec<&Entry> = entries.iter().filter(|e| e.time.is_some()).collect();
    let untimed: Vec<&Entry> = entries.iter().filter(|e| e.time.is_none()).collect();
    let lanes: Vec<&str> = report
        .summary
        .sources
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    if entries.is_empty() || lanes.is_empty() {
        h.push_str("<p class=\"muted\">The logs gave no events to draw a timeline from.</p>\n");
        return;
    }
    let now = Utc::now();
    let t0 = timed.iter().filter_map(|e| e.time).min().unwrap_or(now);
    let t1 = timed.iter().filter_map(|e| e.time).max().unwrap_or(now);
    let span_ms = (t1 - t0).num_milliseconds().max(1);
    // Lines of inputs without times stand in their own column, in line order.
    let (untimed_left, untimed_right) = (1070.0_f64, 1170.0_f64);
    let right = if untimed.is_empty() {
        1160.0_f64
    } else {
        1040.0
    };
    let (left, lane_h, top) = (230.0_f64, 34.0_f64, 28.0_f64);
    let x = |t: DateTime<Utc>| {
        left + (t - t0).num_milliseconds() as f64 / span_ms as f64 * (right - left)
    };
    let hist_h = 60.0;
    let height = top + lane_h * lanes.len() as f64 + 30.0 + hist_h + 30.0;
    let _ = writeln!(
        h,
        "<svg role=\"img\" aria-labelledby=\"tl-title\" viewBox=\"0 0 1180 {height:.0}\" xmlns=\"http://www.w3.org/2000/svg\" data-lanes=\"{}\">",
        lanes.len()
    );
    let _ = writeln!(
        h,
        "<title id=\"tl-title\">Timeline of {} input{} from {} to {}, clocks corrected</title>",
        lanes.len(),
        if lanes.len() == 1 { "" } else { "s" },
        time(Some(t0)),
        time(Some(t1))
    );
    h.push_str("<defs><marker id=\"arrowhead\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#b35900\"/></marker></defs>\n");
    if !untimed.is_empty() {
        let _ = writeln!(
            h,
            "<text x=\"{:.1}\" y=\"16\" text-anchor=\"middle\">no time</text>",
            (untimed_left + untimed_right) / 2.0
        );
    }
    // Axis ticks: start, middle, end.
    for (frac, anchor) in [(0.0, "start"), (0.5, "middle"), (1.0, "end")]
        .into_iter()
        .filter(|_| !timed.is_empty())
    {
        let t = t0 + chrono::Duration::milliseconds((span_ms as f64 * frac) as i64);
        let _ = writeln!(
            h,
            "<text x=\"{:.1}\" y=\"16\" text-anchor=\"{anchor}\">{}</text>",
            left + frac * (right - left),
            t.format("%Y-%m-%d %H:%M:%S")
        );
    }
    let severity_of: HashMap<&str, Severity> = report
        .findings
        .iter()
        .map(|f| (f.code.as_str(), f.severity))
        .collect();
    let lane_of = |name: &str| lanes.iter().position(|l| *l == name);
    let y_of = |lane: usize| top + lane_h * lane as f64 + lane_h / 2.0;
    for (i, name) in lanes.iter().enumerate() {
        let y = top + lane_h * i as f64;
        let skew = report.clock_skew.iter().find(|k| k.source == *name);
        let _ = writeln!(
            h,
            "<g class=\"lane-group\" data-lane=\"{}\"><rect class=\"lane\" x=\"0\" y=\"{:.1}\" width=\"1180\" height=\"{:.1}\" rx=\"3\"/><text x=\"6\" y=\"{:.1}\">{}</text>{}</g>",
            esc(name),
            y + 2.0,
            lane_h - 4.0,
            y + if skew.is_some() { 15.0 } else { lane_h / 2.0 + 4.0 },
            esc(&short(name, 34)),
            skew.map(|k| format!(
                "<text x=\"6\" y=\"{:.1}\" style=\"font-size:9px;fill:#5f6368\">clock corrected by {}{}</text>",
                y + 27.0,
                if k.offset_ms >= 0 { "−" } else { "+" },
                human_ms(k.offset_ms.abs())
            ))
            .unwrap_or_default()
        );
    }
    // Where each marked line stands, for the arrows.
    let mut at: HashMap<(String, u32), (f64, f64)> = HashMap::new();
    let mut in_lane: HashMap<&str, (usize, usize)> = HashMap::new();
    for e in &untimed {
        in_lane.entry(e.source.as_str()).or_insert((0, 0)).1 += 1;
    }
    for e in timed.iter().chain(&untimed) {
        let Some(lane) = lane_of(&e.source) else {
            continue;
        };
        let cx = match e.time {
            Some(t) => x(t),
            None => {
                let slot = in_lane.entry(e.source.as_str()).or_insert((0, 1));
                slot.0 += 1;
                untimed_left + (untimed_right - untimed_left) * slot.0 as f64 / (slot.1 + 1) as f64
            }
        };
        let cy = y_of(lane);
        at.insert((e.source.clone(), e.line), (cx, cy));
        let code = e.marks.iter().find(|m| !m.contains(" of "));
        let cause = e.marks.iter().any(|m| m.starts_with("cause of"));
        let class = match code.and_then(|c| severity_of.get(c.as_str())) {
            Some(sev) => format!("ev ev-{sev}"),
            None if cause => "cause".to_owned(),
            None => "ev".to_owned(),
        };
        let r = if code.is_some() || cause { 5.0 } else { 2.5 };
        let tip = format!(
            "{} {}:{} {}{}",
            time(e.time),
            e.source,
            e.line,
            e.text,
            if e.marks.is_empty() {
                String::new()
            } else {
                format!(" [{}]", e.marks.join(", "))
            }
        );
        let _ = writeln!(
            h,
            "<circle class=\"{class}\" cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"{r}\"{}><title>{}</title></circle>",
            code.map(|c| format!(" data-code=\"{}\"", esc(c)))
                .unwrap_or_default(),
            esc(&tip)
        );
    }
    // Cause → effect: from each cause to the finding's first evidence line.
    for f in &report.findings {
        let Some(target) = f
            .evidence
            .iter()
            .find_map(|e| at.get(&(e.source.clone(), e.line)))
        else {
            continue;
        };
        for r in &f.related {
            let Some(other) = at.get(&(r.source.clone(), r.line)) else {
                continue;
            };
            let (from, to) = match r.relation {
                Relation::Cause => (other, target),
                Relation::Effect => (target, other),
                _ => continue,
            };
            let mid_y = (from.1.min(to.1)) - 14.0;
            let _ = writeln!(
                h,
                "<path class=\"arrow\" data-code=\"{}\" d=\"M{:.1},{:.1} Q{:.1},{:.1} {:.1},{:.1}\" marker-end=\"url(#arrowhead)\"><title>{}: {}</title></path>",
                esc(f.code.as_str()),
                from.0,
                from.1,
                (from.0 + to.0) / 2.0,
                mid_y,
                to.0,
                to.1,
                esc(&r.relation.to_string()),
                esc(&r.note)
            );
        }
    }
    // Failures (lines that are a finding's evidence) per minute or hour.
    let hist_top = top + lane_h * lanes.len() as f64 + 24.0;
    let bucket_ms: i64 = if span_ms <= 3 * 3_600_000 {
        60_000
    } else {
        3_600_000
    };
    let buckets = ((span_ms / bucket_ms) + 1).clamp(1, 600) as usize;
    let mut counts = vec![0u32; buckets];
    for e in timed
        .iter()
        .filter(|e| e.marks.iter().any(|m| !m.contains(" of ")))
    {
        if let Some(t) = e.time {
            let b = (((t - t0).num_milliseconds() / bucket_ms) as usize).min(buckets - 1);
            counts[b] += 1;
        }
    }
    let max = counts.iter().copied().max().unwrap_or(0).max(1);
    let _ = writeln!(
        h,
        "<text x=\"6\" y=\"{:.1}\">failures per {}</text><line class=\"axis\" x1=\"{left}\" x2=\"{right}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#d9dce1\"/>",
        hist_top + hist_h / 2.0,
        if bucket_ms == 60_000 {
            "minute"
        } else {
            "hour"
        },
        hist_top + hist_h,
        hist_top + hist_h
    );
    let bw = ((right - left) / buckets as f64).max(1.0);
    for (i, c) in counts.iter().enumerate().filter(|(_, c)| **c > 0) {
        let bh = f64::from(*c) / f64::from(max) * hist_h;
        let _ = writeln!(
            h,
            "<rect class=\"bar\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\"><title>{c} failure{} from {}</title></rect>",
            left + bw * i as f64,
            hist_top + hist_h - bh,
            (bw - 1.0).max(1.0),
            if *c == 1 { "" } else { "s" },
            (t0 + chrono::Duration::milliseconds(bucket_ms * i as i64)).format("%Y-%m-%d %H:%M")
        );
    }
    h.push_str("</svg>\n");
    let _ = writeln!(
        h,
        "<p class=\"muted\">One lane per input; times on the reference clock (each input's estimated offset taken off). Dots in a severity's colour are a finding's lines, rings its causes; arrows go from a cause to what it explains. Hover for each line's text.</p>"
    );
}

/// A lane label: the end of a long name.
fn short(name: &str, room: usize) -> String {
    super::wrap::cut_front(name, room)
}
