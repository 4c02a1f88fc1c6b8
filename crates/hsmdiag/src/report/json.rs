//! The JSON report (`--format json`).
//!
//! The wire format is a public contract (docs/json-report.md in the repository,
//! with its JSON Schema docs/json-report.schema.json):
//!
//! ```json
//! {
//!   "$schema": "https://github.com/hsmdiag/hsmdiag/raw/v0.3.0/docs/json-report.schema.json",
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
//! The report also names its JSON Schema (`$schema`, [`REPORT_SCHEMA_URL`];
//! the schema itself is [`report_schema`], kept in the repository as
//! `docs/json-report.schema.json` and described in `docs/json-report.md`) and
//! the tool that wrote it (`tool`, `tool_version`).
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

use super::error::RenderError;
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

/// Where the report's JSON Schema is published: the repository's copy
/// (`docs/json-report.schema.json`) at this version's tag.
pub const REPORT_SCHEMA_URL: &str = concat!(
    env!("CARGO_PKG_REPOSITORY"),
    "/raw/v",
    env!("CARGO_PKG_VERSION"),
    "/docs/json-report.schema.json"
);

/// The JSON report as written: the report, named by its schema and the tool
/// that wrote it.
#[derive(Serialize, schemars::JsonSchema)]
#[schemars(
    title = "hsmdiag JSON report",
    description = "What `hsmdiag --format json` writes: findings (most severe first) and a summary that accounts for every line read. Fields may be added; none is renamed or removed within a `version`."
)]
struct JsonReport<'a> {
    /// The URL of this schema.
    #[serde(rename = "$schema")]
    schema: &'a str,
    #[serde(flatten)]
    report: &'a Report,
    /// `hsmdiag`.
    tool: &'a str,
    /// The version of hsmdiag that wrote the report.
    tool_version: &'a str,
}

/// The JSON Schema (draft 2020-12) of the JSON report, as the repository
/// keeps it in `docs/json-report.schema.json`.
pub fn report_schema() -> serde_json::Value {
    let mut schema =
        serde_json::to_value(schemars::schema_for!(JsonReport<'static>)).unwrap_or_default();
    schema["$id"] = serde_json::Value::String(REPORT_SCHEMA_URL.to_owned());
    schema
}

/// Writes the report as pretty-printed JSON followed by a newline.
///
/// # Errors
/// [`RenderError`] when writing fails.
pub fn write_json(report: &Report, w: &mut dyn Write) -> Result<(), RenderError> {
    let doc = JsonReport {
        schema: REPORT_SCHEMA_URL,
        report,
        tool: TOOL,
        tool_version: TOOL_VERSION,
    };
    serde_json::to_writer_pretty(&mut *w, &doc)?;
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
