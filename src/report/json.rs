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
//! `severity` is `info`, `warning`, `error` or `critical`; times are RFC 3339 in
//! UTC, or `null` when the log has none. Fields may be added (findings also carry
//! `message`, `owner` and `remediation_steps`; the summary carries per-input
//! counts under `sources`), but none of the above is renamed or removed.

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
