//! The JSON report (`--format json`).
//!
//! The wire format is a public contract (see ARCHITECTURE.md):
//!
//! ```json
//! {
//!   "version": 1,
//!   "findings": [
//!     {
//!       "id": "ntls.unknown_ca", "code": "HSM101", "severity": "error",
//!       "title": "...", "subject": "192.168.50.2", "host": "hsm1", "count": 1,
//!       "first_seen": "2026-03-01T10:00:00Z", "last_seen": "2026-03-01T10:00:00Z",
//!       "evidence": [{ "source": "ntls.log", "line": 12, "text": "..." }],
//!       "remediation": ["..."], "references": ["..."]
//!     }
//!   ],
//!   "summary": { "inputs": 1, "lines": 40, "events": 38, "unrecognized_lines": 2 }
//! }
//! ```
//!
//! `summary.unrecognized_lines` (like `recognized_lines`, `events`,
//! `unrecognized_events` and `outside_window`) is exact when coverage was
//! measured (`--coverage`, `--unrecognized`) and `null` otherwise;
//! `summary.lines` and `blank_lines` are always exact.
//!
//! A finding is one per rule, host and subject; `host` is `null` when its
//! events name none (deployment output, a client's log without a host).
//! `severity` is `info`, `warning`, `error` or `critical`; times are RFC 3339 in
//! UTC, or `null` when the log has none. Fields may be added (findings also carry
//! `message`, `owner`, `channel`, `remediation_steps`, and when other inputs
//! explain them `related` and `chain`; the summary carries per-input counts under
//! `sources`, and `long_lines`, lines cut at 1 MiB; the report carries `clock_skew`
//! and, when asked, `unrecognized`),
//! but none of the above is renamed or removed.
//!
//! `--format jsonl` writes the same finding objects one per line, then one line
//! `{"summary": {...}}`. Each line also carries `time` (a finding's: the log
//! time of its latest event, `last_seen`; the summary's: the log's last time),
//! `tool` (`"hsmdiag"`) and `tool_version`; a finding carries its `host`
//! (`null` when its events name none), so a collector can shard a fleet's
//! findings by host.

use std::io::Write;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::RenderError;
use crate::{Finding, Report, Summary};

/// The name and version every jsonl line carries.
const TOOL: &str = "hsmdiag";
const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// One jsonl line: the record, then when, and by which tool.
#[derive(Serialize)]
struct Line<T: Serialize> {
    #[serde(flatten)]
    record: T,
    time: Option<DateTime<Utc>>,
    tool: &'static str,
    tool_version: &'static str,
}

fn write_line<T: Serialize>(
    record: T,
    time: Option<DateTime<Utc>>,
    w: &mut dyn Write,
) -> Result<(), RenderError> {
    let line = Line {
        record,
        time,
        tool: TOOL,
        tool_version: TOOL_VERSION,
    };
    serde_json::to_writer(&mut *w, &line)?;
    w.write_all(b"\n")?;
    Ok(())
}

/// Writes one finding as one jsonl line (what `--follow --format jsonl`
/// prints as each finding fires).
///
/// # Errors
/// [`RenderError`] when writing fails.
pub fn write_jsonl_finding(finding: &Finding, w: &mut dyn Write) -> Result<(), RenderError> {
    write_line(finding, finding.last_seen.or(finding.first_seen), w)
}

/// Writes the summary as the last jsonl line: `{"summary": {...}, ...}`.
///
/// # Errors
/// [`RenderError`] when writing fails.
pub fn write_jsonl_summary(summary: &Summary, w: &mut dyn Write) -> Result<(), RenderError> {
    #[derive(Serialize)]
    struct Record<'a> {
        summary: &'a Summary,
    }
    write_line(Record { summary }, summary.last_time, w)
}

/// Writes the report as pretty-printed JSON followed by a newline.
///
/// # Errors
/// [`RenderError`] when writing fails.
pub fn write_json(report: &Report, w: &mut dyn Write) -> Result<(), RenderError> {
    serde_json::to_writer_pretty(&mut *w, report)?;
    w.write_all(b"\n")?;
    w.flush()?;
    Ok(())
}

/// Writes one finding per line (the objects of the JSON report's `findings`),
/// then one line holding the summary: `{"summary": {...}}`.
///
/// # Errors
/// [`RenderError`] when writing fails.
pub fn write_jsonl(report: &Report, w: &mut dyn Write) -> Result<(), RenderError> {
    for f in &report.findings {
        write_jsonl_finding(f, w)?;
    }
    write_jsonl_summary(&report.summary, w)?;
    w.flush()?;
    Ok(())
}
