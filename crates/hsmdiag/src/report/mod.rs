//! Rendering a [`Report`] for people (text, as miette diagnostics) and for tools
//! (JSON). Renderers write into a writer they are handed; they never choose it.
//! [`render`] is the one seam every layout is reached through.

pub mod command;
mod diagnostic;
mod error;
mod events;
mod html;
mod json;
mod markdown;
mod model;
pub mod render;
mod rules;
mod sarif;
mod seen;
#[cfg(feature = "text")]
mod text;
pub mod wrap;

pub use diagnostic::FindingDiagnostic;
pub use error::RenderError;
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
pub use render::{Audience, Render, View};
pub use rules::{rule_detection, rule_markdown, rules_markdown};
pub use sarif::{SARIF_VERSION, fingerprint, sarif, write_sarif};
#[cfg(feature = "text")]
pub use text::{TextOptions, write_finding_text, write_short, write_text};
pub use wrap::wrap;
