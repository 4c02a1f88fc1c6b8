//! hsmdiag diagnoses Azure Dedicated HSM (Thales Luna 7 Network HSM) problems
//! from their logs.
//!
//! Give it whatever an engineer has — the appliance's syslog and NTLS messages,
//! client reachability tests, pasted fragments of a support ticket — and it says
//! what is wrong, shows the lines that prove it, and gives the fix with the
//! values from the log filled in.
//!
//! # What it promises
//! - Every line read is accounted for: typed into an event, counted as
//!   unrecognised, or blank. Nothing is dropped silently.
//! - No input makes it panic; an unreadable input is reported and the others
//!   are still analysed.
//! - Memory does not grow with the size of an input: lines are streamed, and
//!   the engine keeps only per-key state inside each rule's time window.
//! - Year-less syslog timestamps never take their year from the wall clock.
//!
//! # Example
//! ```
//! use hsmdiag::{Analyzer, Severity};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let log = "\
//! 2026 Mar 01 10:00:00 hsm1 local5 info NTLS[8508]: info : 0 : Incoming connection request... : 10.3.1.4/59415
//! 2026 Mar 01 10:00:00 hsm1 local5 info NTLS[8508]: Error message from SSLAccept is : error:14094418:SSL routines:ssl3_read_bytes:tlsv1 alert unknown ca
//! 2026 Mar 01 10:00:00 hsm1 local5 info NTLS[8508]: Error during SSL accept ( RC_SSL_ERROR )
//! 2026 Mar 01 10:00:00 hsm1 local5 info NTLS[8508]: info : 0xc0000711 : Fail to establish a secure channel with client : 10.3.1.4/59415 : RC_SSL_FAILED_HANDSHAKE
//! ";
//! let analyzer = Analyzer::new();
//! let report = analyzer.analyze_str("ntls.log", log);
//! let finding = &report.findings[0];
//! assert_eq!(finding.id, "ntls.unknown_ca");
//! assert_eq!(finding.code.as_str(), "HSM101");
//! assert_eq!(finding.severity, Severity::Error);
//! assert_eq!(finding.subject, "10.3.1.4");
//! assert_eq!(finding.evidence[0].line, 2);
//!
//! // The same report as the JSON contract other tools read.
//! let mut json = Vec::new();
//! hsmdiag::write_json(&report, &mut json)?;
//! assert!(String::from_utf8(json)?.contains("\"id\": \"ntls.unknown_ca\""));
//! # Ok(())
//! # }
//! ```
//!
//! # How the pieces hand off
//! 1. [`Input`] opens a file, a directory's files, an archive's members or
//!    stdin (gzip, zstd, xz and bzip2 recognised by content, UTF-16 decoded),
//!    and [`parser::Lines`] yields its lines with their byte offsets.
//! 2. [`parser::LineParser`] frames each line (a syslog header, a JSON
//!    document, a shell session, a pasted wrapper) and types each message
//!    with the [`Grammar`]'s catalogues (`grammars/formats/*.toml`) into an
//!    [`Event`]. That layer is the `hsmdiag-parse` crate, re-exported as
//!    [`parser`]; it knows nothing of rules.
//! 3. The engine runs every [`Rule`] of the [`KnowledgeBase`]
//!    (`grammars/kb/HSMnnn.toml`, the model in [`kb`]) over the events:
//!    single events, counts in a window, ordered sequences, absences.
//! 4. Hits become [`Finding`]s (one per rule, host and subject, with count, first and
//!    last time, and up to five evidence lines), gathered in a [`Report`],
//!    which reads back from its own JSON.
//! 5. The renderers of [`report`] write it: [`write_text`], [`write_json`],
//!    [`write_jsonl`], [`write_markdown`], [`write_sarif`]; [`redact`] takes
//!    identifiers out of any of them, [`timeline`] lays the events out by time.
//!
//! [`Analyzer`] runs all of it; [`AnalyzerBuilder`] configures it (the year for
//! year-less timestamps, the zone, extra grammar and rule files). On each input
//! the stateless part of step 2 runs ahead in batches on the thread pool while
//! the rest goes through the lines in order, with the same result as one
//! thread ([`AnalyzerBuilder::batch_lines`]). [`Analyzer::follow`] reads a
//! growing log like `tail -f` and hands out each finding as soon as its rule
//! fires.
//!
//! The text renderer draws with miette's graphical handler: the default
//! feature `text`. Without it (`default-features = false`) the library builds
//! without miette's terminal dependencies; [`write_text`] is then not there.
#![deny(missing_docs)]
#![allow(
    clippy::result_large_err,
    reason = "grammar and rule errors carry the file text for miette; they arise once, at load, never per line"
)]

mod analyzer;
mod correlate;
mod engine;
mod finding;
#[doc(hidden)]
pub mod fuzzing;
pub mod kb;
mod pipeline;
pub mod redact;
pub mod report;
pub mod timeline;

// The parser layer, a crate of its own; its modules are named here as they
// were before the split so that paths read `crate::event::Event`.
use hsmdiag_parse::{coverage, event, parse, source};

/// The README's examples, run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;

/// This crate's own README (its page on crates.io), run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct CrateReadmeDoctests;

/// The parser layer (inputs → typed events): the `hsmdiag-parse` crate.
pub use hsmdiag_parse as parser;

pub use analyzer::{
    Analyzer, AnalyzerBuilder, BuildError, DEFAULT_BATCH_LINES, Follow, LineObserver, Progress,
};
pub use correlate::ClockSkew;
pub use engine::{MAX_GROUPS_PER_RULE, MAX_SUBJECTS_PER_RULE, Omitted};
pub use finding::{Evidence, Finding, MAX_EVIDENCE, RelatedEvidence, Step};
pub use hsmdiag_parse::{
    Budget, Event, EventKind, Field, Grammar, GrammarError, Input, InputError, InputKind,
    OwnOutput, SourceId, Span, UnrecognizedTemplate, Value, Walk, Zone, expand, expand_with,
    own_output, own_output_file, set_budget,
};
pub use kb::{KbError, KnowledgeBase, Owner, Relation, Retired, Rule, RuleCode, Severity};
pub use report::{
    FindingCounts, RenderError, Report, SourceSummary, Summary, write_html, write_json,
    write_jsonl, write_jsonl_finding, write_jsonl_summary, write_markdown, write_sarif,
};
#[cfg(feature = "text")]
pub use report::{TextOptions, write_short, write_text};
