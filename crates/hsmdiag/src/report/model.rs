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
    /// Lines longer than [`MAX_LINE`](crate::parser::MAX_LINE), cut to it (still
    /// counted once among the lines above).
    pub long_lines: u64,
    /// The earliest time in the input, on its own clock (without coverage, of
    /// the lines read: the first, the last and those that can matter).
    pub first_time: Option<DateTime<Utc>>,
    /// The latest time in the input, on its own clock (as `first_time`).
    pub last_time: Option<DateTime<Utc>>,
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
    /// Lines longer than [`MAX_LINE`](crate::parser::MAX_LINE), cut to it.
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
