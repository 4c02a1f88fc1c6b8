//! One story from many inputs: every event on one clock, in time order, with
//! the findings they prove marked.

use std::collections::HashMap;
use std::io::Write;

use chrono::{DateTime, Utc};
use hsmdiag_parse::Zone;
use serde::Serialize;

use crate::correlate::corrected;
use crate::event::{Event, SourceId};
use crate::report::Report;

/// One line of the timeline.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Entry {
    /// On the reference clock; for an event without a time, the time of the
    /// event before it in the same input (`inferred`).
    pub time: Option<DateTime<Utc>>,
    /// Whether `time` is borrowed from a neighbouring event.
    pub inferred: bool,
    /// The time as its own input wrote it, when a clock offset was applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logged_time: Option<DateTime<Utc>>,
    /// The input's name.
    pub source: String,
    /// 1-based line.
    pub line: u32,
    /// The event kind.
    pub kind: String,
    /// The message.
    pub text: String,
    /// The findings this line is evidence of (`HSM101`), or a cause or effect of
    /// (`cause of HSM101`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub marks: Vec<String>,
    #[serde(skip)]
    source_id: SourceId,
}

impl Entry {
    /// Passes the line's input name and text through `f` (redaction, terminal
    /// safety), in place.
    pub fn map_texts(&mut self, f: &mut dyn FnMut(&str) -> String) {
        self.source = f(&self.source);
        self.text = f(&self.text);
    }
}

/// Orders the events of every input on the reference clock (each input's
/// estimated offset taken off its times). An event without a time takes the
/// time of the event before it in its input (or, at the start, the one after);
/// an input with no times at all comes last, in its own order.
pub fn build(report: &Report, events: &[Event], names: &dyn Fn(SourceId) -> String) -> Vec<Entry> {
    let mut marks: HashMap<(SourceId, u32), Vec<String>> = HashMap::new();
    for f in &report.findings {
        for e in &f.evidence {
            let m = marks.entry((e.source_id, e.line)).or_default();
            if !m.contains(&f.code.to_string()) {
                m.push(f.code.to_string());
            }
        }
        for r in &f.related {
            let tag = format!("{} of {}", r.relation, f.code);
            let m = marks.entry((r.source_id, r.line)).or_default();
            if !m.contains(&tag) {
                m.push(tag);
            }
        }
    }
    let skew = &report.clock_skew;
    let mut by_source: Vec<Vec<&Event>> = Vec::new();
    for ev in events
        .iter()
        .filter(|e| !e.kind.is_unrecognized() && !e.kind.is_annotation())
    {
        let i = ev.span.source.0 as usize;
        if by_source.len() <= i {
            by_source.resize_with(i + 1, Vec::new);
        }
        by_source[i].push(ev);
    }
    let mut out = Vec::new();
    for evs in &by_source {
        let times: Vec<Option<DateTime<Utc>>> = evs
            .iter()
            .map(|e| e.time.map(|t| corrected(t, e.span.source, skew)))
            .collect();
        let first = times.iter().flatten().next().copied();
        let mut last = None;
        for (ev, t) in evs.iter().zip(&times) {
            let (time, inferred) = match t {
                Some(t) => {
                    last = Some(*t);
                    (Some(*t), false)
                }
                None => (last.or(first), true),
            };
            let shifted = skew
                .iter()
                .any(|s| s.source_id == ev.span.source && s.offset_ms != 0);
            out.push(Entry {
                time,
                inferred: inferred && time.is_some(),
                logged_time: if shifted { ev.time } else { None },
                source: names(ev.span.source),
                line: ev.span.line,
                kind: ev.kind.as_str().to_owned(),
                text: match (&ev.host, &ev.program) {
                    (Some(h), Some(p)) => format!("{h} {p}: {}", ev.message()),
                    (None, Some(p)) => format!("{p}: {}", ev.message()),
                    (Some(h), None) => format!("{h}: {}", ev.message()),
                    (None, None) => ev.message().to_owned(),
                },
                marks: marks
                    .get(&(ev.span.source, ev.span.line))
                    .cloned()
                    .unwrap_or_default(),
                source_id: ev.span.source,
            });
        }
    }
    // Stable: within one time, inputs in order and lines in order.
    out.sort_by(|a, b| {
        (a.time.is_none(), a.time, a.source_id, a.line).cmp(&(
            b.time.is_none(),
            b.time,
            b.source_id,
            b.line,
        ))
    });
    out
}

/// Writes the timeline as text: the clock offsets applied, then one line per
/// event (`~` before a time borrowed from a neighbour), findings marked.
///
/// # Errors
/// When writing fails.
pub fn write_text(
    report: &Report,
    entries: &[Entry],
    zone: Zone,
    width: usize,
    w: &mut dyn Write,
) -> std::io::Result<()> {
    use crate::report::wrap::{cut_end as cut, wrap};
    let width = width.max(40);
    let say = |w: &mut dyn Write, text: &str, first: &str, rest: &str| {
        wrap(text, width, first, rest)
            .iter()
            .try_for_each(|l| writeln!(w, "{l}"))
    };
    for s in &report.clock_skew {
        let line = format!(
            "Clock: {} runs {}; its times are corrected below.",
            s.source,
            s.describe()
        );
        say(w, &line, "", "  ")?;
    }
    if !report.clock_skew.is_empty() {
        writeln!(w)?;
    }
    let place_w = entries
        .iter()
        .map(|e| e.source.len() + 1 + e.line.to_string().len())
        .max()
        .unwrap_or(0)
        .min(48);
    for e in entries {
        let time = match e.time {
            Some(t) => {
                let local = zone.local(&t).format("%Y-%m-%d %H:%M:%S");
                if e.inferred {
                    format!("~{local}")
                } else {
                    format!(" {local}")
                }
            }
            None => format!(" {:<19}", "(no time)"),
        };
        let place = format!("{}:{}", e.source, e.line);
        let mark = if e.marks.is_empty() {
            String::new()
        } else {
            format!("  ◀ {}", e.marks.join(", "))
        };
        // A log line is cut, not wrapped, so each event stays on one line (on
        // a narrow terminal, under its time and place); its marks move to the
        // next line when they would be cut.
        let text = e.text.trim().replace('\t', " ");
        let narrow = width < time.chars().count() + place_w + 4 + 40;
        let line = if narrow {
            writeln!(w, "{}", cut(&format!("{time}  {place}"), width))?;
            format!("      {text}")
        } else {
            format!("{time}  {place:<place_w$}  {text}")
        };
        if (line.chars().count() + mark.chars().count()) <= width {
            writeln!(w, "{line}{mark}")?;
        } else {
            writeln!(w, "{}", cut(&line, width))?;
            if !mark.is_empty() {
                let pad = " ".repeat(if narrow { 6 } else { time.chars().count() + 2 });
                say(w, mark.trim_start(), &pad, &format!("{pad}  "))?;
            }
        }
    }
    for f in &report.findings {
        writeln!(w)?;
        let head = format!(
            "{} {} ({}): {}",
            f.code,
            f.id,
            f.severity,
            f.message.as_deref().unwrap_or(&f.subject)
        );
        say(w, &head, "", "  ")?;
        if let Some(c) = &f.chain {
            say(w, c, "  ", "    ")?;
        }
    }
    Ok(())
}

/// `7m 02s`, `450ms`, `1h 05m 00s` (how a clock offset is said).
pub use crate::correlate::human_ms;
