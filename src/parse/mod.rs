//! The parser layer: frames each line, reads its syslog header, and types each
//! message with the grammar catalogues.
//!
//! A parser never stops at a line it cannot type: such a message becomes an
//! event of kind [`EventKind::UNRECOGNIZED`] so the summary accounts for every
//! line.

pub mod grammar;
pub mod syslog;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};

use crate::event::{Event, EventKind, SourceId, Span};
use grammar::Grammar;
use syslog::Stamp;

/// What a parser needs to know that the log itself may not say.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct ParseCtx {
    /// The input being parsed.
    pub source: SourceId,
    /// The year for year-less (RFC 3164) timestamps. Never taken from the wall
    /// clock: when unknown, year-less timestamps are left without a time.
    pub year: Option<i32>,
    /// The zone of timestamps that carry none (Luna's own format, RFC 3164).
    pub zone: FixedOffset,
}

impl ParseCtx {
    /// A context for `source`, with no year and UTC for zone-less times.
    pub fn new(source: SourceId) -> Self {
        ParseCtx {
            source,
            year: None,
            zone: FixedOffset::east_opt(0).expect("zero offset is valid"),
        }
    }

    /// Sets the year for year-less timestamps.
    pub fn with_year(mut self, year: Option<i32>) -> Self {
        self.year = year;
        self
    }

    /// Sets the zone for zone-less timestamps.
    pub fn with_zone(mut self, zone: FixedOffset) -> Self {
        self.zone = zone;
        self
    }
}

/// What one line turned into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineOutcome {
    /// Empty or only white space.
    Blank,
    /// Every message on the line was typed.
    Recognized,
    /// At least one message on the line matched no pattern.
    Unrecognized,
}

/// Parses the lines of one input into events, keeping the little state that
/// framing needs across lines (the year of year-less timestamps rolls over
/// when December is followed by January).
#[derive(Debug)]
pub struct LineParser<'g> {
    grammar: &'g Grammar,
    ctx: ParseCtx,
    year: Option<i32>,
    last_month: Option<u32>,
}

impl<'g> LineParser<'g> {
    /// A parser for one input.
    pub fn new(grammar: &'g Grammar, ctx: ParseCtx) -> Self {
        LineParser {
            grammar,
            ctx,
            year: ctx.year,
            last_month: None,
        }
    }

    /// Parses one line (without its line ending) that starts at byte `offset`
    /// of the input, appending its events to `out`.
    pub fn parse_line(
        &mut self,
        line: &str,
        line_no: u32,
        offset: u64,
        out: &mut Vec<Event>,
    ) -> LineOutcome {
        if line.trim().is_empty() {
            return LineOutcome::Blank;
        }
        let first = syslog::parse_header(line);
        let mut outcome = LineOutcome::Recognized;
        let mut inherited: (Option<DateTime<Utc>>, Option<String>) = (None, None);
        for (k, range) in syslog::segments(line, &first).into_iter().enumerate() {
            let text = &line[range.clone()];
            let header = if k == 0 {
                first
            } else {
                syslog::parse_header(text)
            };
            let mut time = header.stamp.and_then(|s| self.resolve(s));
            let mut host = header.host.map(str::to_owned);
            if k > 0 {
                time = time.or(inherited.0);
                host = host.or_else(|| inherited.1.clone());
            }
            let msg = &text[header.msg_start..];
            let typed = self
                .grammar
                .type_message(header.program, msg, header.msg_start);
            let (kind, fields) = typed.unwrap_or_else(|| {
                outcome = LineOutcome::Unrecognized;
                (EventKind::new(EventKind::UNRECOGNIZED), Vec::new())
            });
            inherited = (time, host.clone());
            out.push(Event {
                kind,
                span: Span {
                    source: self.ctx.source,
                    line: line_no,
                    start: offset + range.start as u64,
                    column: range.start as u32,
                    end: offset + range.end as u64,
                },
                time,
                host,
                program: header.program.map(str::to_owned),
                pid: header.pid,
                text: text.to_owned(),
                message_start: header.msg_start,
                fields,
            });
        }
        outcome
    }

    fn resolve(&mut self, stamp: Stamp) -> Option<DateTime<Utc>> {
        match stamp {
            Stamp::Zoned(t) => Some(t.with_timezone(&Utc)),
            Stamp::Local(t) => {
                self.year = Some(t.year());
                self.last_month = Some(t.month());
                self.local(t)
            }
            Stamp::YearLess { month, day, time } => {
                let mut year = self.year?;
                if let Some(last) = self.last_month {
                    // December followed by January: the log crossed New Year.
                    if last >= 11 && month <= 2 {
                        year += 1;
                        self.year = Some(year);
                    }
                }
                self.last_month = Some(month);
                let date = NaiveDate::from_ymd_opt(year, month, day)?;
                self.local(date.and_time(time))
            }
        }
    }

    fn local(&self, t: NaiveDateTime) -> Option<DateTime<Utc>> {
        self.ctx
            .zone
            .from_local_datetime(&t)
            .single()
            .map(|t| t.with_timezone(&Utc))
    }
}
