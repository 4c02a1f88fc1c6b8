//! The parser layer of hsmdiag: inputs to typed events.
//!
//! [`Input`] opens a file, a directory's files, an archive's members or stdin
//! (gzip, zstd, xz and bzip2 recognised by content, UTF-16 decoded) and
//! [`Lines`] yields its lines. [`LineParser`] frames each line — a syslog
//! header (Luna's own, RFC 5424, RFC 3164), a JSON document spanning lines, a
//! shell session's prompt and output, a pasted wrapper — and types the message
//! with the [`Grammar`]'s catalogues (`grammars/formats/*.toml`) into an
//! [`Event`]. This crate knows nothing of rules: the knowledge base, the engine
//! and the reports are the `hsmdiag` crate's.
//!
//! # Example
//! ```
//! use hsmdiag_parse::{Grammar, LineParser, ParseCtx, SourceId};
//!
//! let grammar = Grammar::builtin();
//! let mut parser = LineParser::new(&grammar, ParseCtx::new(SourceId(0)));
//! let line = "2026 Mar 01 10:00:00 hsm1 local5 info NTLS[8508]: info : 0 : \
//!             Incoming connection request... : 10.3.1.4/59415";
//! let mut events = Vec::new();
//! parser.push_line(line, 1, 0, &mut events);
//! parser.finish(&mut events);
//! assert_eq!(events[0].kind.as_str(), "ntls.incoming_connection");
//! assert_eq!(events[0].value("client.ip").unwrap().to_string(), "10.3.1.4");
//! ```
#![deny(missing_docs)]
#![allow(
    clippy::result_large_err,
    reason = "grammar errors carry the file text for miette; they arise once, at load, never per line"
)]

pub mod anchor;
pub mod azure;
pub mod coverage;
pub mod event;
pub mod parse;
pub mod printable;
pub mod source;
pub mod zone;

pub use anchor::Anchor;
pub use azure::{ResourceId, ids_in};
pub use coverage::{Coverage, UnrecognizedTemplate};
pub use event::{Event, EventKind, Field, META_FIELDS, SourceId, Span, Value};
pub use parse::alarms::{AlarmCode, all as alarm_codes, kind as alarm_kind, lookup as alarm_code};
pub use parse::grammar::{
    Catalogue, FieldType, Grammar, GrammarError, MessagePattern, SampleDef, Typing,
};
pub use parse::retcodes::{ReturnCode, all as return_codes, lookup as return_code};
pub use parse::syslog::{Header, Stamp, parse_header, segments};
pub use parse::{LineCounts, LineOutcome, LineParser, ParseCtx, Pretyped};
pub use printable::{printable, printable_line};
pub use source::{
    Budget, Compression, Input, InputError, InputKind, Lines, MAX_LINE, OwnOutput, Spill, Walk,
    budget, expand, expand_with, own_output, own_output_file, set_budget,
};
pub use zone::Zone;

/// This crate's README (its page on crates.io), run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
