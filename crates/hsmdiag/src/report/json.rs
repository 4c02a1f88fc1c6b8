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
//!       "title": "...", "subject": "192.168.50.2", "count": 1,
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
//! `severity` is `info`, `warning`, `error` or `critical`; times are RFC 3339 in
//! UTC, or `null` when the log has none. Fields may be added (findings also carry
//! `message`, `owner`, `channel`, `remediation_steps`, and when other inputs
//! explain them `related` and `chain`; the summary carries per-input counts under
//! `sources`, and `long_lines`, lines cut at 1 MiB; the report carries `clock_skew`
//! and, when asked, `unrecognized`),
//! but none of the above is renamed or removed.
//!
//! `--format jsonl` writes the same finding objects one per line, then one line
//! `{"summary": {...}}`.

use std::io::Write;

use super::RenderError;
use crate::Report;

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
        serde_json::to_writer(&mut *w, f)?;
        w.write_all(b"\n")?;
    }
    serde_json::to_writer(&mut *w, &serde_json::json!({ "summary": report.summary }))?;
    w.write_all(b"\n")?;
    w.flush()?;
    Ok(())
}
