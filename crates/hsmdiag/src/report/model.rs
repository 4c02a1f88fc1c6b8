//! The report model: what an analysis found and read. Every renderer,
//! the timeline and redaction work on it; [`Report`] reads back from its own
//! JSON (`diff` compares two saved reports).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::correlate::ClockSkew;
use crate::coverage::UnrecognizedTemplate;
use crate::engine::Omitted;
use crate::finding::Finding;

/// Line and event counts for one input. `lines` is always
/// `recognized_lines + unrecognized_lines + blank_lines` when coverage was
/// measured; without it (the default) those counts that need every line typed
/// are `None`, and `lines`, `blank_lines` and `long_lines` are still exact.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[non_exhaustive]
pub struct SourceSummary {
    /// The input's name.
    pub name: String,
    /// Lines read.
    pub lines: u64,
    /// Lines whose every message was typed (`None`: coverage not measured).
    pub recognized_lines: Option<u64>,
    /// Lines holding a message no pattern typed (`None`: not measured).
    pub unrecognized_lines: Option<u64>,
    /// Empty lines.
    pub blank_lines: u64,
    /// Typed events, a run-together line giving several (`None`: not measured).
    pub events: Option<u64>,
    /// Messages no pattern typed (`None`: not measured).
    pub unrecognized_events: Option<u64>,
    /// Events left out because their time is outside `--since` / `--until`
    /// (`None`: not measured).
    pub outside_window: Option<u64>,
    /// Lines longer than [`MAX_LINE`](crate::parser::MAX_LINE), of which its
    /// first and last halves are read (still counted once among the lines above).
    pub long_lines: u64,
    /// The earliest time in the input, on its own clock (without coverage, of
    /// the lines read: the first, the last and those that can matter).
    pub first_time: Option<DateTime<Utc>>,
    /// The latest time in the input, on its own clock (as `first_time`).
    pub last_time: Option<DateTime<Utc>>,
    /// The hosts its lines name (syslog HOSTNAME, a Luna shell's appliance),
    /// of the lines read, at most [`MAX_SOURCE_HOSTS`]: what the input
    /// covers (`diff` tells a fixed problem from one no longer looked at).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<String>,
    /// The year assumed for its year-less timestamps (syslog from stdin: no
    /// year in the log, no `--year`, no file date); absent when none was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assumed_year: Option<i32>,
}

/// The most hosts one input's summary names.
pub const MAX_SOURCE_HOSTS: usize = 32;

impl SourceSummary {
    /// Notes a host the input names (up to [`MAX_SOURCE_HOSTS`]).
    pub fn saw_host(&mut self, host: &str) {
        if self.hosts.len() < MAX_SOURCE_HOSTS && !self.hosts.iter().any(|h| h == host) {
            self.hosts.push(host.to_owned());
        }
    }
}

impl SourceSummary {
    /// Whether the counts that need every line typed were measured.
    pub fn coverage_measured(&self) -> bool {
        self.unrecognized_lines.is_some()
    }
}

/// What the whole analysis read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[non_exhaustive]
pub struct Summary {
    /// Inputs analysed (unreadable ones excluded).
    pub inputs: usize,
    /// Lines read.
    pub lines: u64,
    /// Typed events (`None`: coverage not measured, see [`SourceSummary`]).
    pub events: Option<u64>,
    /// Lines holding a message no pattern typed (`None`: not measured).
    pub unrecognized_lines: Option<u64>,
    /// Lines whose every message was typed (`None`: not measured).
    pub recognized_lines: Option<u64>,
    /// Empty lines.
    pub blank_lines: u64,
    /// Messages no pattern typed (`None`: not measured).
    pub unrecognized_events: Option<u64>,
    /// Events left out because their time is outside `--since` / `--until`
    /// (`None`: not measured).
    pub outside_window: Option<u64>,
    /// Lines longer than [`MAX_LINE`](crate::parser::MAX_LINE), of which its
    /// first and last halves are read.
    pub long_lines: u64,
    /// The earliest time in any input.
    pub first_time: Option<DateTime<Utc>>,
    /// The latest time in any input.
    pub last_time: Option<DateTime<Utc>>,
    /// Findings by severity.
    pub findings: FindingCounts,
    /// Inputs that could not be read (or not to the end), with the reason.
    pub unreadable: Vec<String>,
    /// Inputs not read, each `name (reason)`: binary files and archive
    /// members (no log), hsmdiag's own reports and bundle files found among
    /// the inputs (no evidence), links out of a walked folder, FIFOs.
    pub skipped: Vec<String>,
    /// Per input.
    pub sources: Vec<SourceSummary>,
    /// Findings left out by the bound on subjects per rule
    /// ([`MAX_SUBJECTS_PER_RULE`](crate::MAX_SUBJECTS_PER_RULE)), with
    /// how many subjects and occurrences they had; a grouped rule's are folded
    /// into its finding (`affected_omitted`) instead.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub omitted: Vec<Omitted>,
}

/// How many findings of each severity.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[non_exhaustive]
pub struct FindingCounts {
    /// Critical findings.
    pub critical: usize,
    /// Error findings.
    pub error: usize,
    /// Warnings.
    pub warning: usize,
    /// Informational findings.
    pub info: usize,
}

/// The result of an analysis: the JSON report's shape (`--format json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[non_exhaustive]
pub struct Report {
    /// The report format's version.
    pub version: u32,
    /// Findings, most severe first.
    pub findings: Vec<Finding>,
    /// What was read.
    pub summary: Summary,
    /// Unrecognised messages grouped into templates, most frequent first; only
    /// when asked for ([`AnalyzerBuilder::unrecognized`](crate::AnalyzerBuilder::unrecognized)).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unrecognized: Vec<UnrecognizedTemplate>,
    /// Each input's clock offset against the reference input, where connections
    /// logged at both ends allow an estimate.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clock_skew: Vec<ClockSkew>,
}

impl Report {
    /// The JSON report format's version.
    pub const VERSION: u32 = 1;

    /// Whether anything was found.
    pub fn has_findings(&self) -> bool {
        !self.findings.is_empty()
    }
}

/// Passes every text a report holds that came from the inputs or was filled
/// from them through `f`, in place: what redaction and terminal safety change
/// before any format lays a report out. The rule's id, code, severity and
/// owner are hsmdiag's own names and are left alone.
pub fn map_texts(report: &mut Report, f: &mut dyn FnMut(&str) -> String) {
    let mut one = |s: &mut String| *s = f(s);
    for finding in &mut report.findings {
        map_finding(finding, &mut one);
    }
    let s = &mut report.summary;
    s.unreadable.iter_mut().for_each(&mut one);
    s.skipped.iter_mut().for_each(&mut one);
    for src in &mut s.sources {
        one(&mut src.name);
    }
    for t in &mut report.unrecognized {
        one(&mut t.template);
        one(&mut t.source);
        one(&mut t.example);
    }
    for c in &mut report.clock_skew {
        one(&mut c.source);
        one(&mut c.reference);
    }
}

/// [`map_texts`] for one finding (`--follow` prints them one by one).
pub fn map_finding_texts(finding: &mut Finding, f: &mut dyn FnMut(&str) -> String) {
    map_finding(finding, &mut |s: &mut String| *s = f(s));
}

/// Makes every text of a report that came from an input safe to print
/// ([`printable`](crate::parser::printable())): what text, Markdown and HTML
/// reports show.
pub fn make_printable(report: &mut Report) {
    map_texts(report, &mut |s| crate::parser::printable(s).into_owned());
}

fn map_finding(f: &mut Finding, one: &mut dyn FnMut(&mut String)) {
    for s in [&mut f.title, &mut f.subject, &mut f.channel] {
        one(s);
    }
    for s in [&mut f.host, &mut f.message, &mut f.chain, &mut f.rule_file]
        .into_iter()
        .flatten()
    {
        one(s);
    }
    f.affected.iter_mut().for_each(&mut *one);
    f.remediation.iter_mut().for_each(&mut *one);
    f.references.iter_mut().for_each(&mut *one);
    for step in &mut f.remediation_steps {
        one(&mut step.step);
        if let Some(c) = &mut step.command {
            one(c);
        }
    }
    for e in &mut f.evidence {
        one(&mut e.source);
        map_labelled(&mut e.text, &mut e.label, one);
    }
    for r in &mut f.related {
        one(&mut r.note);
        one(&mut r.source);
        one(&mut r.text);
    }
}

/// An evidence line and its label (a byte range into it, and a note): the
/// text before, inside and after the label are mapped apart so the label
/// still covers what it did, when that gives what mapping the whole line
/// gives. Otherwise (a value spans the label's edge, a pattern that needs the
/// whole line) the whole line is mapped, and the label covers the labelled
/// text where it still stands once, else the whole line.
fn map_labelled(
    text: &mut String,
    label: &mut Option<(std::ops::Range<usize>, Option<String>)>,
    one: &mut dyn FnMut(&mut String),
) {
    let mut whole = text.clone();
    one(&mut whole);
    let Some((range, note)) = label else {
        *text = whole;
        return;
    };
    if let Some(n) = note {
        one(n);
    }
    let fits = range.start <= range.end
        && range.end <= text.len()
        && text.is_char_boundary(range.start)
        && text.is_char_boundary(range.end);
    if fits {
        let mut parts = [
            text[..range.start].to_owned(),
            text[range.start..range.end].to_owned(),
            text[range.end..].to_owned(),
        ];
        let labelled = parts[1].clone();
        parts.iter_mut().for_each(&mut *one);
        if parts.concat() == whole {
            *range = parts[0].len()..parts[0].len() + parts[1].len();
            *text = whole;
            return;
        }
        let mut at = whole.match_indices(labelled.as_str());
        if let (Some((pos, _)), None) = (at.next(), at.next()) {
            if !labelled.is_empty() {
                *range = pos..pos + labelled.len();
                *text = whole;
                return;
            }
        }
    }
    *range = 0..whole.len();
    *text = whole;
}
