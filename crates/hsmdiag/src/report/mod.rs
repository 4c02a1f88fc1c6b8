//! Rendering a [`Report`] for people (text, as miette diagnostics) and for tools
//! (JSON). Renderers write into a writer they are handed; they never choose it.

pub mod command;
mod diagnostic;
mod events;
mod html;
mod json;
mod markdown;
mod model;
mod rules;
mod sarif;
#[cfg(feature = "text")]
mod text;
pub mod wrap;

pub use diagnostic::FindingDiagnostic;
pub use events::event_line;
pub use html::write_html;
pub use json::{
    REPORT_SCHEMA_URL, report_schema, write_json, write_jsonl, write_jsonl_finding,
    write_jsonl_summary,
};
pub use markdown::write_markdown;
pub use model::{
    FindingCounts, MAX_SOURCE_HOSTS, Report, SourceSummary, Summary, make_printable,
    map_finding_texts, map_texts,
};
pub use rules::{rule_detection, rule_markdown, rules_markdown};
pub use sarif::{SARIF_VERSION, fingerprint, sarif, write_sarif};
#[cfg(feature = "text")]
pub use text::{TextOptions, write_finding_text, write_short, write_text};
pub use wrap::wrap;

/// Why a report could not be written.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[non_exhaustive]
pub enum RenderError {
    /// Writing to the output failed (a closed pipe, a full disk).
    #[error("cannot write the report: {0}")]
    #[diagnostic(code(hsmdiag::render::io))]
    Io(#[from] std::io::Error),
    /// The report could not be serialised.
    #[error("cannot serialise the report: {0}")]
    #[diagnostic(code(hsmdiag::render::json))]
    Json(#[from] serde_json::Error),
}

impl RenderError {
    /// Whether the reader went away (a closed pipe), which ends the run quietly.
    pub fn is_broken_pipe(&self) -> bool {
        match self {
            RenderError::Io(e) => e.kind() == std::io::ErrorKind::BrokenPipe,
            RenderError::Json(e) => e.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe),
        }
    }
}
