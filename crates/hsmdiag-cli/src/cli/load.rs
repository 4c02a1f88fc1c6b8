//! Options that shape the analyzer: a user's rules and grammars, the year and
//! zone for timestamps that lack them.

use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, Utc};
use clap::Args;
use hsmdiag::Zone;

use super::EXIT_ERROR;

/// A user's rule and grammar files.
#[derive(Debug, Args, Clone, Default)]
pub(super) struct KbArgs {
    /// Extra rule files (`.toml`, the format of grammars/kb/), or directories of them.
    /// They join the built-in rules (with `events`, no rule runs: they only check and
    /// add what is typed). Repeatable.
    #[arg(long = "rules", value_name = "FILE|DIR")]
    pub rules: Vec<PathBuf>,
    /// Extra grammar files (`.toml`, the format of grammars/formats/: catalogues of
    /// message patterns, JSON document types and session context, or a
    /// `[patterns]` file of macros), or directories of them.
    /// Their patterns take precedence over the built-in ones. Repeatable.
    #[arg(long = "grammar", value_name = "FILE|DIR")]
    pub grammar: Vec<PathBuf>,
}

/// Rules, grammars and time options shared by the commands that read logs.
#[derive(Debug, Args, Clone)]
pub(super) struct LoadArgs {
    #[command(flatten)]
    pub kb: KbArgs,
    /// Year for syslog timestamps that have none (RFC 3164). Default: the year in the
    /// log's own dated lines, else the file's modification year, else (stdin) the current
    /// year, assumed and said so.
    #[arg(long, value_name = "YYYY", value_parser = clap::value_parser!(i32).range(1970..=9999))]
    pub year: Option<i32>,
    /// Zone for timestamps that carry none: `UTC`, `+02:00`, `-0500`, or an IANA
    /// zone (`Europe/Berlin`, daylight saving time followed). RFC 5424 and ISO 8601
    /// offsets in the log are always honoured. [default: UTC]
    #[arg(long, value_name = "ZONE", value_parser = Zone::parse)]
    pub tz: Option<Zone>,
    /// Leave out events before this time: RFC 3339 (`2026-11-20T02:00:00Z`), or
    /// `YYYY-MM-DD[ HH:MM[:SS]]` in the `--tz` zone. Events without a time are kept.
    #[arg(long, value_name = "TIME", value_parser = parse_when)]
    pub since: Option<When>,
    /// Leave out events after this time (same forms as `--since`; a bare date
    /// means the end of that day).
    #[arg(long, value_name = "TIME", value_parser = parse_when)]
    pub until: Option<When>,
    #[command(flatten)]
    pub walk: WalkArgs,
}

/// Which files of a folder are read.
#[derive(Debug, Args, Clone, Default)]
pub(super) struct WalkArgs {
    /// In folders, also read hidden files and folders (names that start with `.`).
    #[arg(long)]
    pub hidden: bool,
    /// In folders, also read what `.gitignore`, `.ignore` and `.hsmdiagignore` files
    /// leave out.
    #[arg(long)]
    pub no_ignore: bool,
    /// In folders, read only the files matching this glob (`*.log`, `ntls/**`).
    /// Repeatable.
    #[arg(long, value_name = "GLOB")]
    pub glob: Vec<String>,
    /// In folders, leave out the files and folders matching this glob (`*.pcap`,
    /// `old/`). Repeatable; `exclude` in hsmdiag.toml adds to it.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// A compressed input may expand at most this many times its size (a
    /// decompression bomb is stopped, with the reason) [default: 200].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_ratio: Option<u64>,
    /// A compressed input may expand to at most this many MiB [default: 16384].
    #[arg(long, value_name = "MIB", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_decompressed: Option<u64>,
}

impl WalkArgs {
    /// The walk these options and the configuration file describe (and the
    /// decompression budget they set).
    pub(super) fn walk(&self) -> hsmdiag::Walk {
        let mut budget = hsmdiag::Budget::default();
        if let Some(r) = self.max_ratio {
            budget.ratio = r;
        }
        if let Some(m) = self.max_decompressed {
            budget.max_bytes = m.saturating_mul(1 << 20);
        }
        hsmdiag::set_budget(budget);
        let mut w = hsmdiag::Walk::new()
            .hidden(self.hidden)
            .no_ignore(self.no_ignore);
        for g in &self.glob {
            w = w.glob(g.as_str());
        }
        for g in super::settings::get().exclude.iter().chain(&self.exclude) {
            w = w.exclude(g.as_str());
        }
        w
    }
}

/// A time from the command line: with its own offset, or to be read in `--tz`.
#[derive(Debug, Clone, Copy)]
pub(super) enum When {
    Zoned(DateTime<FixedOffset>),
    Local(NaiveDateTime),
    /// A bare date: its start for `--since`, its end for `--until`.
    Day(NaiveDate),
}

fn parse_when(s: &str) -> Result<When, String> {
    let t = s.trim();
    if let Ok(z) = DateTime::parse_from_rfc3339(t) {
        return Ok(When::Zoned(z));
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(t, f) {
            return Ok(When::Local(n));
        }
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .map(When::Day)
        .map_err(|_| format!("`{s}`: give 2026-11-20, 2026-11-20 02:00 or 2026-11-20T02:00:00Z"))
}

impl When {
    fn resolve(self, tz: Zone, end_of_day: bool) -> Option<DateTime<Utc>> {
        let local = match self {
            When::Zoned(z) => return Some(z.with_timezone(&Utc)),
            When::Local(n) => n,
            When::Day(d) if end_of_day => d.and_hms_opt(23, 59, 59)?,
            When::Day(d) => d.and_hms_opt(0, 0, 0)?,
        };
        tz.to_utc(&local)
    }
}

/// The `.toml` files a path names: the file itself, or a directory's `.toml`
/// files in name order (not recursive).
pub(super) fn toml_files(path: &Path) -> Result<Vec<PathBuf>, String> {
    if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        Ok(files)
    } else if path.exists() {
        Ok(vec![path.to_owned()])
    } else {
        Err(format!("{}: no such file or directory", path.display()))
    }
}

/// What a `.toml` file holds, from its top-level tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FileKind {
    /// `[[match]]` tables: a rule.
    Rule,
    /// `[[message]]` tables or a `[patterns]` table: a grammar.
    Grammar,
}

/// The kind of a file's text, if it is TOML of either shape.
pub(super) fn kind_of(text: &str) -> Option<FileKind> {
    let table = text.parse::<toml::Table>().ok()?;
    if table.contains_key("match") {
        Some(FileKind::Rule)
    } else if table.contains_key("message") || table.contains_key("patterns") {
        Some(FileKind::Grammar)
    } else {
        None
    }
}

/// Reads every file the paths name, as (path, text). In a directory, files
/// that are plainly of the other kind are passed over, so one directory can
/// hold a site's rules and grammars together; a file named on its own is
/// always read as `want`.
pub(super) fn read_all(
    paths: &[PathBuf],
    want: FileKind,
) -> Result<Vec<(PathBuf, String)>, String> {
    let mut out = Vec::new();
    for p in paths {
        let in_dir = p.is_dir();
        for f in toml_files(p)? {
            let text = super::knowledge_file::read_small(&f)?;
            if in_dir && kind_of(&text).is_some_and(|k| k != want) {
                continue;
            }
            out.push((f, text));
        }
    }
    Ok(out)
}

impl KbArgs {
    /// The builder these files describe, or the exit status after printing why
    /// a file could not be read.
    pub(super) fn builder(&self) -> Result<hsmdiag::AnalyzerBuilder, u8> {
        let mut b = hsmdiag::AnalyzerBuilder::new();
        let fail = |e: String| {
            eprintln!("error: {e}");
            EXIT_ERROR
        };
        let site = super::settings::get();
        let grammar: Vec<PathBuf> = site.grammar.iter().chain(&self.grammar).cloned().collect();
        let rules: Vec<PathBuf> = site.rules.iter().chain(&self.rules).cloned().collect();
        for (path, text) in read_all(&grammar, FileKind::Grammar).map_err(fail)? {
            b.grammar(path.display().to_string(), text);
        }
        for (path, text) in read_all(&rules, FileKind::Rule).map_err(fail)? {
            b.rule(path.display().to_string(), text);
        }
        Ok(b)
    }

    /// The analyzer, or the exit status after printing why it could not be built.
    pub(super) fn analyzer(&self) -> Result<hsmdiag::Analyzer, u8> {
        build(&self.builder()?)
    }
}

impl LoadArgs {
    /// The analyzer, or the exit status after printing why it could not be built.
    pub(super) fn analyzer(&self) -> Result<hsmdiag::Analyzer, u8> {
        build(&self.builder()?)
    }

    /// The builder for these options.
    pub(super) fn builder(&self) -> Result<hsmdiag::AnalyzerBuilder, u8> {
        let mut b = self.kb.builder()?;
        let tz = self.zone();
        // Year-less times with nothing to date them (stdin): the current
        // year, the report says so (`--year` sets it).
        b.year(self.year)
            .assume_year(self.year.is_none().then(now))
            .zone(tz)
            .window(
                self.since.and_then(|w| w.resolve(tz, false)),
                self.until.and_then(|w| w.resolve(tz, true)),
            );
        Ok(b)
    }

    /// The zone of zone-less times: `--tz`, else the configuration file's, else UTC.
    pub(super) fn zone(&self) -> Zone {
        self.tz.or(super::settings::get().tz).unwrap_or(Zone::UTC)
    }

    /// The inputs the paths name, folders walked as asked; a one-line hint on
    /// stderr when the log is to be typed at a terminal, and a note for each
    /// file named on its own that is not read (a report hsmdiag wrote, a
    /// binary file), with the reason.
    pub(super) fn expand(
        &self,
        paths: &[PathBuf],
    ) -> (Vec<hsmdiag::Input>, Vec<hsmdiag::InputError>) {
        let (inputs, errors) = hsmdiag::expand_with(paths, &self.walk.walk());
        super::stdin_hint(&inputs);
        if !super::settings::get().quiet {
            for input in inputs.iter().filter(|i| named(i, paths)) {
                if let hsmdiag::InputKind::Skipped { reason } = &input.kind {
                    eprintln!("hsmdiag: skipped {}: {reason}", input.name);
                }
            }
        }
        (inputs, errors)
    }
}

/// Whether an input is one of the paths as named (not a file found in a
/// folder or a member of an archive).
pub(super) fn named(input: &hsmdiag::Input, paths: &[PathBuf]) -> bool {
    paths.iter().any(|p| p.display().to_string() == input.name)
}

pub(super) fn build(b: &hsmdiag::AnalyzerBuilder) -> Result<hsmdiag::Analyzer, u8> {
    b.build().map_err(|e| {
        super::print_error(&e);
        EXIT_ERROR
    })
}

/// The clock year-less times are read against: now, or `HSMDIAG_NOW`
/// (RFC 3339) where a run must not depend on the day it runs (tests).
fn now() -> chrono::DateTime<chrono::Utc> {
    std::env::var("HSMDIAG_NOW")
        .ok()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(&s).ok())
        .map_or_else(chrono::Utc::now, |t| t.with_timezone(&chrono::Utc))
}
