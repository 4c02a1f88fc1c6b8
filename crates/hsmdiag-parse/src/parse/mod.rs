//! The parser layer: frames each line, reads its syslog header, and types each
//! message with the grammar catalogues.
//!
//! A parser never stops at a line it cannot type: such a message becomes an
//! event of the unrecognised kind ([`EventKind::unrecognized`]) so the summary accounts for every
//! line.

pub mod alarms;
pub mod codes;
mod continued;
mod counts;
pub mod documents;
mod embedded;
pub mod framing;
pub mod grammar;
mod ids;
pub(crate) mod json;
pub mod lazy;
mod literals;
pub mod peel;
mod powershell;
pub mod prefilter;
pub mod retcodes;
pub(crate) mod stage;
mod stages;
pub mod syslog;
mod yaml;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Utc};

use std::sync::Arc;

use crate::event::kind;
use crate::event::{Event, EventKind, Field, SourceId, Span, Value};
use crate::zone::Zone;
pub use counts::{LineCounts, LineOutcome};
use framing::framing;
use grammar::{Grammar, Typing};
use syslog::Stamp;

/// What a parser needs to know that the log itself may not say.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct ParseCtx {
    /// The input being parsed.
    pub source: SourceId,
    /// The year for year-less (RFC 3164) timestamps. When unknown (and no
    /// dated line says), year-less timestamps are read against `now`, or left
    /// without a time when that is unset too.
    pub year: Option<i32>,
    /// The zone of timestamps that carry none (Luna's own format, RFC 3164).
    pub zone: Zone,
    /// The clock a year is assumed from when nothing else gives one: the year
    /// of `now`, or the one before for a date that would lie after it (a
    /// December log read in January). Unset by default, so a library run
    /// never depends on the wall clock unless asked.
    pub now: Option<DateTime<Utc>>,
}

impl ParseCtx {
    /// A context for `source`, with no year and UTC for zone-less times.
    pub fn new(source: SourceId) -> Self {
        ParseCtx {
            source,
            year: None,
            zone: Zone::UTC,
            now: None,
        }
    }

    /// Sets the clock a year is assumed from ([`ParseCtx::now`]).
    pub fn with_now(mut self, now: Option<DateTime<Utc>>) -> Self {
        self.now = now;
        self
    }

    /// Sets the year for year-less timestamps.
    pub fn with_year(mut self, year: Option<i32>) -> Self {
        self.year = year;
        self
    }

    /// Sets the zone for zone-less timestamps.
    pub fn with_zone(mut self, zone: impl Into<Zone>) -> Self {
        self.zone = zone.into();
        self
    }
}

/// What makes two errors the same: code, message (white space folded), target.
fn signature(e: &Event) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for name in ["code", "message", "target"] {
        let v = e.value(name).map(|v| v.to_string()).unwrap_or_default();
        v.split_whitespace().for_each(|w| w.hash(&mut h));
        0u8.hash(&mut h);
    }
    h.finish()
}

/// Parses the lines of one input into events, keeping the little state that
/// framing needs across lines: the year of year-less timestamps (which rolls
/// over when December is followed by January) and a JSON document that spans
/// several lines.
#[derive(Debug)]
pub struct LineParser<'g> {
    grammar: &'g Grammar,
    ctx: ParseCtx,
    year: Option<i32>,
    /// The year assumed from [`ParseCtx::now`], when one was.
    assumed: Option<i32>,
    last_month: Option<u32>,
    /// The framing stage open (a JSON document, a YAML scalar holding one, a
    /// continued command), gathering its lines.
    open: Option<Box<dyn stage::Stage>>,
    /// `Code:` / `Message:` / `Target:` lines (az CLI, Azure PowerShell) being
    /// joined into one error.
    record: Option<PendingRecord>,
    /// Signatures of recent errors, to tell a repeat (the same error printed
    /// again as JSON, as text, as `Code:`/`Message:` lines) from a new one.
    recent: std::collections::VecDeque<(u64, u32)>,
    /// A PowerShell 7 error message being unwrapped from its gutter lines.
    ps7: Option<powershell::Block>,
    /// The cmdlet of the last PowerShell error headline.
    cmdlet: Option<String>,
    /// The Luna shell session the lines belong to: the last `lunash:>` or
    /// `lunacm:>` prompt.
    session: Option<Session>,
    /// How much of each message to capture.
    typing: Typing,
    /// How many bytes of the line being read its wrappers took off the front:
    /// columns count from the original line's start.
    column_base: usize,
    /// The untyped lines just before this one, joined: prose copied from a web
    /// page with hard line breaks ("Caution: You" / "have only TWO HSM Admin
    /// logins attempts left."), typed again with each further line.
    wrapped: Wrapped,
    /// Whether the lines being read are a failed document's, given back (a
    /// document failing among them keeps its lines).
    replaying: bool,
}

/// Hard-wrapped text being joined back into its sentence: the untyped lines
/// just read, most recent last.
#[derive(Debug, Default)]
struct Wrapped {
    lines: std::collections::VecDeque<String>,
}

impl Wrapped {
    /// The most lines joined, and the longest line kept.
    const MAX_LINES: usize = 3;
    const MAX_LEN: usize = 160;

    fn clear(&mut self) {
        self.lines.clear();
    }

    /// `msg` joined to the last one, two ... lines before it, shortest first:
    /// the sentence may start on any of them.
    fn joins<'a>(&'a self, msg: &'a str) -> impl Iterator<Item = String> + 'a {
        (1..=self.lines.len()).map(move |k| {
            let mut t = String::with_capacity(Self::MAX_LEN * (k + 1));
            for l in self.lines.iter().skip(self.lines.len() - k) {
                t.push_str(l);
                t.push(' ');
            }
            t.push_str(msg.trim());
            t
        })
    }

    /// Keeps `msg` as a line a sentence may continue from: one cut after a
    /// word (a line ending in a letter or digit); a line ending in punctuation
    /// or a bracket (a sentence's end, JSON, a table) ends the run.
    fn keep(&mut self, msg: &str) {
        let msg = msg.trim();
        if msg.len() > Self::MAX_LEN || !msg.ends_with(|c: char| c.is_alphanumeric()) {
            self.clear();
            return;
        }
        if self.lines.len() == Self::MAX_LINES {
            self.lines.pop_front();
        }
        self.lines.push_back(msg.to_owned());
    }
}

/// The last Luna shell prompt: which shell, which appliance, which command.
#[derive(Debug, Clone)]
struct Session {
    shell: String,
    host: Option<String>,
    command: String,
    role: Option<String>,
    /// Settings the command's output has shown so far (`hagroup listgroups`:
    /// the group label and the auto-recovery settings), given to the lines after.
    /// Which settings carry over is data: a catalogue's `[[context]]`.
    context: Vec<(String, String)>,
}

/// An error being gathered from `Key: value` lines.
#[derive(Debug, Default)]
struct PendingRecord {
    first: Option<Event>,
    /// The record began as an Azure CLI `(Code) Message` headline; its own
    /// `Code:` line has not come yet.
    headline: bool,
    code: Option<String>,
    message: Option<String>,
    target: Option<String>,
    status: Option<String>,
}

/// The `Line |` header and the numbered source line of a PowerShell 7 error
/// (`  27 |  New-AzResourceGroupDeployment ...`).
fn is_ps7_code_line(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with("Line |")
        || t.split_once(" |")
            .is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Whether an `arm.error` is the Azure CLI's `(Code) Message` headline (which
/// its `Code:` / `Message:` / `Target:` lines may follow).
fn is_headline(ev: &Event) -> bool {
    let m = ev.message().trim_start();
    let m = m.strip_prefix("ERROR:").map_or(m, str::trim_start);
    let m = m
        .strip_prefix("cli.")
        .and_then(|r| r.split_once(": "))
        .map_or(m, |(_, rest)| rest.trim_start());
    let m = m
        .strip_prefix("Exception Details:")
        .map_or(m, str::trim_start);
    m.starts_with('(')
}

/// The costly, stateless part of parsing one line, done ahead: its messages'
/// ranges, their syslog headers, and their typing by the grammar. It depends on
/// the line alone, so lines can be typed on other threads while [`LineParser`]
/// goes through them in order ([`LineParser::push_typed_line`]) with exactly
/// the events it would give without.
#[derive(Debug, Default)]
pub struct Pretyped<'g> {
    /// The wrappers peeled off the line before it was typed.
    peel: peel::Peel,
    /// Whether the line was typed (a line the prefilter passed over is only
    /// peeled: typed when it is read after all).
    typed: bool,
    /// The first message (most lines hold one: no allocation for them).
    first: Option<Segment<'g>>,
    /// Further messages of a run-together line.
    rest: Vec<Segment<'g>>,
}

/// One message of a line: its range, its header (host and program as ranges
/// of the message's text) and its typing.
#[derive(Debug)]
struct Segment<'g> {
    range: std::ops::Range<usize>,
    stamp: Option<Stamp>,
    host: Option<std::ops::Range<usize>>,
    program: Option<std::ops::Range<usize>>,
    pid: Option<u32>,
    msg_start: usize,
    typed: Option<(&'g EventKind, Vec<Field>)>,
}

impl Segment<'_> {
    fn header<'t>(&self, text: &'t str) -> syslog::Header<'t> {
        syslog::Header {
            stamp: self.stamp,
            host: self.host.clone().map(|r| &text[r]),
            program: self.program.clone().map(|r| &text[r]),
            pid: self.pid,
            msg_start: self.msg_start,
        }
    }
}

/// The range of `part`, a slice of `text`, inside it.
fn range_in(text: &str, part: &str) -> std::ops::Range<usize> {
    let start = part.as_ptr() as usize - text.as_ptr() as usize;
    start..start + part.len()
}

impl<'g> Pretyped<'g> {
    /// Types the messages of `line` (without its line ending).
    pub fn of(grammar: &'g Grammar, line: &str) -> Self {
        Self::typed(grammar, line, Typing::Full)
    }

    /// Types the messages of `line` as a parser with this
    /// [`typing`](LineParser::typing) does.
    pub fn typed(grammar: &'g Grammar, line: &str, typing: Typing) -> Self {
        Self::typed_with(grammar, line, peel::Peel::of(line), typing)
    }

    /// Peels `line` once and asks `prefilter` (if any) whether it is wanted:
    /// a wanted line is typed too, one passed over only peeled (the parser
    /// types it if it reads it after all, from the same peel).
    pub fn looked(
        grammar: &'g Grammar,
        prefilter: Option<&prefilter::Prefilter>,
        line: &str,
        typing: Typing,
    ) -> (prefilter::Look, Self) {
        let peel = peel::Peel::of(line);
        let look = prefilter.map_or(prefilter::Look::WANTED, |p| p.look_peeled(line, &peel));
        let pre = if look.wanted {
            Self::typed_with(grammar, line, peel, typing)
        } else {
            Pretyped {
                peel,
                ..Pretyped::default()
            }
        };
        (look, pre)
    }

    /// Types `line`, whose wrappers `peel` found.
    fn typed_with(grammar: &'g Grammar, line: &str, peel: peel::Peel, typing: Typing) -> Self {
        let mut out = Self::typed_peeled(grammar, &peel.apply(line), typing);
        out.peel = peel;
        out
    }

    /// Types a line whose wrappers are already peeled.
    fn typed_peeled(grammar: &'g Grammar, line: &str, typing: Typing) -> Self {
        let mut out = Pretyped {
            typed: true,
            ..Pretyped::default()
        };
        if line.trim().is_empty() {
            return out;
        }
        for_segments(line, |range, text, header| {
            let msg = &text[header.msg_start..];
            let typed = if is_pattern_text(msg) {
                None
            } else {
                grammar.type_ref(header.program, msg, header.msg_start, typing)
            };
            let seg = Segment {
                range,
                stamp: header.stamp,
                host: header.host.map(|h| range_in(text, h)),
                program: header.program.map(|p| range_in(text, p)),
                pid: header.pid,
                msg_start: header.msg_start,
                typed,
            };
            if out.first.is_none() {
                out.first = Some(seg);
            } else {
                out.rest.push(seg);
            }
        });
        out
    }
}

/// Calls `f` with each message of a line: its range, its text and its header.
fn for_segments(line: &str, mut f: impl FnMut(std::ops::Range<usize>, &str, syslog::Header<'_>)) {
    let first = syslog::parse_header(line);
    for (k, range) in syslog::segments(line, &first).into_iter().enumerate() {
        let text = &line[range.clone()];
        // The first message's header as read from the whole line, unless the
        // line was cut inside it (the header ran past the first message).
        let header = if k == 0 && first.msg_start <= text.len() {
            first
        } else {
            syslog::parse_header(text)
        };
        f(range, text, header);
    }
}

/// Whether a message is a regular expression a program matches output with
/// (a test's expected output, a runbook's `grep -E` pattern), not output: it
/// escapes a parenthesis (`Command Result : 0 \(Success\)`), which no tool's
/// message does. Such a line is counted as unrecognized, never typed.
fn is_pattern_text(msg: &str) -> bool {
    msg.contains("\\(") || msg.contains("\\)")
}

/// How far back (in lines) a repeat of the same error is recognised.
const REPEAT_LINES: u32 = 400;

impl<'g> LineParser<'g> {
    /// A parser for one input.
    pub fn new(grammar: &'g Grammar, ctx: ParseCtx) -> Self {
        LineParser {
            grammar,
            ctx,
            year: ctx.year,
            assumed: None,
            last_month: None,
            open: None,
            record: None,
            recent: std::collections::VecDeque::new(),
            ps7: None,
            cmdlet: None,
            session: None,
            typing: Typing::Full,
            column_base: 0,
            wrapped: Wrapped::default(),
            replaying: false,
        }
    }

    /// How much of each message to capture ([`Typing::Full`] by default):
    /// lean typing gives events of kinds nobody reads without fields. Feed it
    /// lines pretyped the same way ([`Pretyped::typed`]).
    pub fn typing(mut self, typing: Typing) -> Self {
        self.typing = typing;
        self
    }

    /// Whether the parser holds nothing open across lines: no document, YAML
    /// scalar, error record, PowerShell message or shell session being
    /// gathered, no hard-wrapped sentence begun. A line the
    /// [`Prefilter`](prefilter::Prefilter) does not want, read now, would
    /// give no event a rule reads and leave the parser as it is.
    pub fn is_idle(&self) -> bool {
        self.open.is_none()
            && self.record.is_none()
            && self.ps7.is_none()
            && self.session.is_none()
            && self.wrapped.lines.is_empty()
    }

    /// The time of a line that is only counted (the prefilter let it pass),
    /// as an event of the [`clock`](kind::CLOCK) kind: how far the
    /// log runs, for time windows to close on. The year of year-less stamps
    /// follows it as it follows a line read. `None` when it has no time.
    pub fn clock(&mut self, line: &str, line_no: u32, offset: u64) -> Option<Event> {
        let peel = peel::Peel::of(line);
        let text = peel.apply(line);
        let stamp = syslog::parse_header(&text).stamp?;
        let mut ev = Event::unrecognized_at(self.ctx.source);
        ev.time = Some(self.resolve(stamp)?);
        ev.kind = EventKind::new(kind::CLOCK);
        ev.span.line = line_no;
        ev.span.start = offset;
        ev.span.end = offset + line.len() as u64;
        Some(ev)
    }

    /// Reads one line (without its line ending) that starts at byte `offset` of
    /// the input, appending the events it completes to `out`. A line inside a
    /// JSON document is held until the document closes; the counts say how the
    /// lines completed by this call were accounted for.
    pub fn push_line(
        &mut self,
        line: &str,
        line_no: u32,
        offset: u64,
        out: &mut Vec<Event>,
    ) -> LineCounts {
        self.push_typed_line(line, line_no, offset, None, out)
    }

    /// [`push_line`](Self::push_line) with the line's typing done ahead
    /// ([`Pretyped::of`] on the same line, typically on another thread). The
    /// events are exactly those `push_line` gives.
    pub fn push_typed_line(
        &mut self,
        line: &str,
        line_no: u32,
        offset: u64,
        pre: Option<Pretyped<'g>>,
        out: &mut Vec<Event>,
    ) -> LineCounts {
        let from = out.len();
        let mut pre = pre;
        let peel = match pre.as_mut() {
            Some(p) => std::mem::take(&mut p.peel),
            None => peel::Peel::of(line),
        };
        let counts = if peel.is_empty() {
            self.frame_line(line, line_no, offset, pre, out)
        } else if peel.is_blank() {
            // Nothing but a wrapper (a code fence): a blank line inside the
            // text it wraps.
            let lead = peel.lead();
            self.frame_line("", line_no, offset + lead as u64, None, out)
        } else {
            // The wrappers' bytes are gone from the text; the spans of this
            // line's events are mapped back to the original bytes.
            let text = peel.apply(line);
            let lead = peel.lead();
            let base = offset + lead as u64;
            self.column_base = lead;
            let mut counts = self.frame_line(&text, line_no, base, pre, out);
            self.column_base = 0;
            let context = peel
                .context()
                .filter(|_| counts.unrecognized == 1 && counts.lines() == 1);
            for e in &mut out[from..] {
                if let Some(kind) =
                    context.filter(|_| e.kind.is_unrecognized() && e.span.line == line_no)
                {
                    e.kind = kind.clone();
                    counts.unrecognized = 0;
                    counts.recognized = 1;
                }
                if e.span.line != line_no || e.span.start < base {
                    continue;
                }
                let start = (e.span.start - base) as usize;
                let end = (e.span.end - base) as usize;
                e.span.start = base + peel.past_lead(start) as u64;
                e.span.end = base + peel.past_lead_end(end) as u64;
                let col = (e.span.column as usize).saturating_sub(lead);
                e.span.column = (lead + peel.past_lead(col)) as u32;
            }
            counts
        };
        self.post(out, from, line_no);
        counts
    }

    /// The year assumed for year-less timestamps from [`ParseCtx::now`]
    /// (nothing in the input and no `--year` gave one), if any.
    pub fn assumed_year(&self) -> Option<i32> {
        self.assumed
    }

    /// Ends the input: a document still open is typed as cut off, and `Key:
    /// value` lines still gathered become their error.
    pub fn finish(&mut self, out: &mut Vec<Event>) -> LineCounts {
        let from = out.len();
        // Reading a broken document's lines again may open another document
        // (the lines after its first): that one ends here too. Each starts on
        // a later line than the one before, so this ends.
        let mut counts = LineCounts::default();
        while self.open.is_some() {
            counts.add(self.close_stage(out));
        }
        self.flush_ps7(out);
        self.flush_record(out);
        self.post(out, from, u32::MAX);
        counts
    }

    fn frame_line(
        &mut self,
        line: &str,
        line_no: u32,
        offset: u64,
        pre: Option<Pretyped<'g>>,
        out: &mut Vec<Event>,
    ) -> LineCounts {
        let mut counts = LineCounts::default();
        // The open stage takes the line, or ends before it (and the line is
        // read anew: it may open the next stage).
        while let Some(open) = self.open.as_mut() {
            match open.push(line, line_no, offset) {
                stage::Push::Taken => return counts,
                stage::Push::Done => {
                    counts.add(self.close_stage(out));
                    return counts;
                }
                stage::Push::Beside => {
                    counts.add(LineCounts::one(
                        self.parse_line(line, line_no, offset, pre, out),
                    ));
                    return counts;
                }
                stage::Push::Ends => counts.add(self.close_stage(out)),
            }
        }
        if let Some(open) = stages::open(line, line_no, offset) {
            self.flush_record(out);
            let done = open.is_done();
            self.open = Some(open);
            if done {
                counts.add(self.close_stage(out));
            }
            return counts;
        }
        // PowerShell 7 wraps its error message behind a `     | ` gutter.
        match powershell::gutter(line) {
            Some(piece) => {
                let end = offset + line.len() as u64;
                self.ps7
                    .get_or_insert_with(|| powershell::Block::new(line_no, offset, end))
                    .push(piece, end);
            }
            None if self.ps7.is_some()
                && !line.trim_start().starts_with('|')
                && !is_ps7_code_line(line) =>
            {
                self.flush_ps7(out);
            }
            None => {}
        }
        let from = out.len();
        let own = LineCounts::one(self.parse_line(line, line_no, offset, pre, out));
        counts.add(own);
        // Terraform and the Go SDK append the inner errors to the line as JSON:
        // `Code="DeploymentFailed" Message="..." Details=[{"code":...}]`.
        // Only a line typed as an error can carry them.
        let typed_error = out[from..].iter().any(|e| e.kind.as_str() == kind::ERROR);
        let details = typed_error
            .then(|| line.find("Details=[{"))
            .flatten()
            .map(|p| p + "Details=".len());
        if let Some(pos) = details {
            let frame = json::JsonFrame::start(line, line_no, offset, pos);
            if frame.is_done() {
                frame.into_events(self.grammar.documents(), self.ctx.source, out);
            }
        } else if !typed_error && !line.trim_start().starts_with('#') && json::has_code_pair(line) {
            // An error object pasted from its middle: its code and message
            // pairs are mined, and the line is recognised for them.
            if json::JsonFrame::fragment(line, line_no, offset).into_events(
                self.grammar.documents(),
                self.ctx.source,
                out,
            ) && own.unrecognized == 1
            {
                // `counts` may also hold the lines of a document this line
                // closed: only this line moves from one count to the other.
                out.retain(|e| !(e.kind.is_unrecognized() && e.span.line == line_no));
                counts.unrecognized -= 1;
                counts.recognized += 1;
            }
        }
        if line.trim().is_empty() {
            self.flush_record(out);
            return counts;
        }
        // Join `Code:` / `Message:` / `Target:` lines (and the Azure CLI's
        // `(Code) Message` headline above them) into one error, and tie a Luna
        // shell's output to its prompt. Most lines need neither: leave them be.
        let involved = self.record.is_some()
            || self.session.is_some()
            || out[from..].iter().any(|e| {
                [
                    kind::ERROR,
                    kind::ERROR_FIELD,
                    kind::POWERSHELL_ERROR,
                    kind::PROMPT,
                ]
                .contains(&e.kind.as_str())
            });
        if involved {
            let fresh: Vec<Event> = out.drain(from..).collect();
            for ev in fresh {
                self.join(ev, out);
            }
        }
        counts
    }

    /// Feeds one event through the error-record joiner: field lines gather in
    /// the pending record, anything else closes it first.
    fn join(&mut self, mut ev: Event, out: &mut Vec<Event>) {
        self.in_session(&mut ev);
        let errors = &framing().errors;
        let is = |keys: &[String], key: &str| keys.iter().any(|k| k == key);
        let kind = ev.kind.as_str();
        if kind == kind::ERROR_FIELD {
            let key = ev.value("key").map(|v| v.to_string()).unwrap_or_default();
            let value = ev.value("value").map(|v| v.to_string()).unwrap_or_default();
            let is_code = is(&errors.code_keys, &key);
            let same_headline = self
                .record
                .as_ref()
                .is_some_and(|r| r.headline && r.code.as_deref() == Some(value.as_str()));
            let has_code = self.record.as_ref().is_some_and(|r| r.code.is_some());
            if is_code && has_code && !same_headline {
                self.flush_record(out);
            }
            let r = self.record.get_or_insert_with(PendingRecord::default);
            if r.first.is_none() {
                r.first = Some(ev.clone());
            }
            if is_code {
                r.code = Some(value);
                r.headline = false;
            } else if is(&errors.message_keys, &key) {
                if r.message.is_none() || !r.headline {
                    r.message = Some(value);
                }
            } else if is(&errors.target_keys, &key) {
                r.target = Some(value);
            } else if is(&errors.status_keys, &key) {
                r.status = Some(value);
            }
            out.push(ev);
        } else if kind == kind::ERROR && is_headline(&ev) {
            self.flush_record(out);
            self.record = Some(PendingRecord {
                headline: true,
                code: ev.value("code").map(|v| v.to_string()),
                message: ev.value("message").map(|v| v.to_string()),
                first: Some(ev),
                ..PendingRecord::default()
            });
        } else {
            if kind == kind::POWERSHELL_ERROR {
                self.cmdlet = ev.value("cmdlet").map(|v| v.to_string());
            }
            self.flush_record(out);
            out.push(ev);
        }
    }

    /// Tracks Luna shell prompts, and gives the output lines after one the
    /// appliance's name as their host and the command they answer
    /// (`in_command`), so that `Command Result : ...` knows what it is about.
    fn in_session(&mut self, ev: &mut Event) {
        let kind = ev.kind.as_str();
        if kind == kind::PROMPT {
            let text = |n: &str| ev.value(n).map(|v| v.to_string());
            let shell = text("shell").unwrap_or_default();
            // A prompt without the appliance's name stays on the appliance of
            // the same shell's session before it; LunaCM runs on a client, not
            // on the HSM a LunaSH session before it was on.
            let same = self.session.as_ref().filter(|s| s.shell == shell);
            self.session = Some(Session {
                host: text("appliance").or_else(|| same?.host.clone()),
                shell,
                command: text("command").unwrap_or_default(),
                role: text("role"),
                context: Vec::new(),
            });
            if ev.host.is_none() {
                ev.host = self.session.as_ref().and_then(|s| s.host.clone());
            }
        } else if framing().session.ends.iter().any(|e| e == kind) {
            // Another tool's prompt ends the session.
            self.session = None;
        } else {
            let Some(s) = &mut self.session else { return };
            if ev.program.is_some() || ev.kind.is_unrecognized() {
                return;
            }
            for c in self.grammar.contexts_of(kind) {
                let key = ev.value(&c.key).map(|v| v.to_string());
                let known = key.and_then(|k| c.fields.get(&k));
                if let (Some(field), Some(value)) = (known, ev.value(&c.value)) {
                    let value = value.to_string();
                    s.context.retain(|(f, _)| f != field);
                    s.context.push((field.clone(), value));
                }
            }
            if ev.host.is_none() {
                ev.host = s.host.clone();
            }
            let role = s.role.as_ref();
            let pairs = [
                ("shell", Some(&s.shell)),
                ("in_command", Some(&s.command)),
                ("role", role),
            ];
            let context = s.context.iter().map(|(n, v)| (n.as_str(), Some(v)));
            for (name, value) in pairs.into_iter().chain(context) {
                if let Some(value) = value.filter(|_| ev.field(name).is_none()) {
                    ev.fields.push(Field {
                        name: Arc::from(name),
                        value: Value::Text(value.clone()),
                        range: 0..0,
                    });
                }
            }
        }
    }

    fn flush_ps7(&mut self, out: &mut Vec<Event>) {
        if let Some(block) = self.ps7.take() {
            self.flush_record(out);
            out.extend(block.into_events(self.ctx.source, self.cmdlet.as_deref()));
        }
    }

    fn flush_record(&mut self, out: &mut Vec<Event>) {
        let pending = self.record.take();
        self.emit_record(pending, out);
    }

    fn emit_record(&mut self, r: Option<PendingRecord>, out: &mut Vec<Event>) {
        let Some(r) = r else { return };
        let Some(mut e) = r.first else { return };
        if r.code.is_none() && r.message.is_none() {
            return;
        }
        e.kind = EventKind::new(kind::ERROR);
        // A headline keeps its own fields' spans; field lines have none to keep.
        let kept: Vec<Field> = std::mem::take(&mut e.fields)
            .into_iter()
            .filter(|f| matches!(&*f.name, "code" | "message"))
            .collect();
        if kept.len() == 2 && r.target.is_none() && r.status.is_none() {
            e.fields = kept;
            ids::add_ids(&mut e);
            out.push(e);
            return;
        }
        let mut push = |name: &str, v: Option<String>| {
            if let Some(v) = v {
                e.fields.push(Field {
                    name: Arc::from(name),
                    value: Value::Text(v),
                    range: 0..0,
                });
            }
        };
        push("code", r.code);
        push("message", r.message);
        push("target", r.target);
        push("status_code", r.status);
        ids::add_ids(&mut e);
        out.push(e);
    }

    /// Marks errors already seen in the last [`REPEAT_LINES`] lines as repeats.
    fn post(&mut self, out: &mut [Event], from: usize, line_no: u32) {
        while self
            .recent
            .front()
            .is_some_and(|(_, l)| line_no.saturating_sub(*l) > REPEAT_LINES && line_no != u32::MAX)
        {
            self.recent.pop_front();
        }
        for e in &mut out[from..] {
            if e.kind.as_str() != kind::ERROR {
                continue;
            }
            let sig = signature(e);
            if self.recent.iter().any(|(h, _)| *h == sig) {
                e.kind = EventKind::new(kind::ERROR_REPEAT);
            } else {
                self.recent.push_back((sig, e.span.line));
            }
        }
    }

    /// Closes the open stage: its events, the lines it gave back read again,
    /// or the message it joined typed.
    fn close_stage(&mut self, out: &mut Vec<Event>) -> LineCounts {
        let Some(open) = self.open.take() else {
            return LineCounts::default();
        };
        let cx = stage::Cx {
            docs: self.grammar.documents(),
            source: self.ctx.source,
        };
        match open.close(&cx, out) {
            stage::Closed::Typed(counts) => counts,
            // The command joined from its continued lines is typed as one
            // message of its first line; each of its lines counts as that
            // message does.
            stage::Closed::Joined {
                text,
                line_no,
                offset,
                lines,
            } => {
                let from = out.len();
                let outcome = self.parse_line(&text, line_no, offset, None, out);
                let fresh: Vec<Event> = out.drain(from..).collect();
                for ev in fresh {
                    self.join(ev, out);
                }
                let mut counts = LineCounts::default();
                for _ in 0..lines {
                    counts.add(LineCounts::one(outcome));
                }
                counts
            }
            // Nothing typed (a lone brace, a document too broken to mend):
            // the lines are read again as lines, so no log record is lost in
            // them. A document that opens among them and fails too is not
            // read a third time: every line is read at most twice.
            stage::Closed::Reread { lines, blank } if self.replaying => {
                out.push(Event::unrecognized_at(self.ctx.source));
                LineCounts {
                    blank,
                    unrecognized: lines.len() as u64 - blank,
                    ..Default::default()
                }
            }
            stage::Closed::Reread { lines, .. } => {
                let mut c = LineCounts::default();
                let was = std::mem::replace(&mut self.replaying, true);
                for (k, (no, offset, text)) in lines.into_iter().enumerate() {
                    if k == 0 {
                        let outcome = self.parse_line(&text, no, offset, None, out);
                        c.add(LineCounts::one(outcome));
                    } else {
                        c.add(self.frame_line(&text, no, offset, None, out));
                    }
                }
                self.replaying = was;
                c
            }
        }
    }

    /// Parses one line (without its line ending) that starts at byte `offset`
    /// of the input, appending its events to `out`.
    fn parse_line(
        &mut self,
        line: &str,
        line_no: u32,
        offset: u64,
        pre: Option<Pretyped<'g>>,
        out: &mut Vec<Event>,
    ) -> LineOutcome {
        if line.trim().is_empty() {
            self.wrapped.clear();
            return LineOutcome::Blank;
        }
        let pre = match pre {
            Some(p) if p.typed => p,
            _ => Pretyped::typed_peeled(self.grammar, line, self.typing),
        };
        let segments = pre.first.into_iter().chain(pre.rest);
        let mut outcome = LineOutcome::Recognized;
        let mut inherited: (Option<DateTime<Utc>>, Option<String>) = (None, None);
        for (k, seg) in segments.enumerate() {
            let range = seg.range.clone();
            let text = &line[range.clone()];
            let header = seg.header(text);
            let mut time = header.stamp.and_then(|s| self.resolve(s));
            let mut host = header.host.map(str::to_owned);
            if k > 0 {
                time = time.or(inherited.0);
                host = host.or_else(|| inherited.1.clone());
            }
            let (kind, fields) = match seg.typed {
                Some((kind, fields)) => (kind.clone(), fields),
                None if is_pattern_text(&text[header.msg_start..]) => {
                    outcome = LineOutcome::Unrecognized;
                    self.wrapped.clear();
                    (EventKind::unrecognized(), Vec::new())
                }
                None => match codes::prose(&text[header.msg_start..])
                    .or_else(|| retcodes::prose(&text[header.msg_start..]))
                    .or_else(|| self.rewrapped(&header, &text[header.msg_start..]))
                    .or_else(|| {
                        self.grammar
                            .type_last_resort(&text[header.msg_start..], header.msg_start)
                    }) {
                    // A known Azure error quoted in prose, without its wrapper,
                    // a line that reports a failing return code, the end of a
                    // hard-wrapped sentence, or what a line names (a Luna
                    // client in a ticket).
                    Some(typed) => typed,
                    None => {
                        outcome = LineOutcome::Unrecognized;
                        // A hard-wrapped sentence runs over header-less
                        // lines that follow each other; a log record ends it.
                        if header.program.is_none() && header.stamp.is_none() {
                            self.wrapped.keep(&text[header.msg_start..]);
                        } else {
                            self.wrapped.clear();
                        }
                        (EventKind::unrecognized(), Vec::new())
                    }
                },
            };
            if !matches!(outcome, LineOutcome::Unrecognized) {
                self.wrapped.clear();
            }
            inherited = (time, host.clone());
            let mut event = Event {
                kind,
                span: Span {
                    source: self.ctx.source,
                    line: line_no,
                    start: offset + range.start as u64,
                    column: (self.column_base + range.start) as u32,
                    end: offset + range.end as u64,
                },
                time,
                host,
                program: header.program.map(str::to_owned),
                pid: header.pid,
                text: text.to_owned(),
                message_start: header.msg_start,
                fields,
            };
            if !event.kind.is_unrecognized() {
                ids::add_ids(&mut event);
                retcodes::annotate(&mut event);
                alarms::annotate(&mut event);
            }
            out.push(event);
        }
        outcome
    }

    /// Types the untyped lines before this one joined with it, as one
    /// sentence a web page's line breaks cut apart; the event stands on this
    /// line (its fields carry no byte range: they span several lines).
    fn rewrapped(
        &mut self,
        header: &syslog::Header<'_>,
        msg: &str,
    ) -> Option<(EventKind, Vec<Field>)> {
        if header.program.is_some() || header.stamp.is_some() {
            return None;
        }
        let (kind, mut fields) = self.wrapped.joins(msg).find_map(|joined| {
            self.grammar
                .type_ref(None, &joined, 0, grammar::Typing::Full)
                .map(|(k, f)| (k.clone(), f))
        })?;
        for f in &mut fields {
            f.range = 0..0;
        }
        self.wrapped.clear();
        Some((kind, fields))
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
                let mut year = match self.year {
                    Some(y) => y,
                    None => {
                        let now = self.ctx.now?;
                        let mut y = now.year();
                        // A date after today is last year's.
                        let tomorrow = now.date_naive().succ_opt().unwrap_or(now.date_naive());
                        if NaiveDate::from_ymd_opt(y, month, day).is_some_and(|d| d > tomorrow) {
                            y -= 1;
                        }
                        self.year = Some(y);
                        self.assumed = Some(y);
                        y
                    }
                };
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
        self.ctx.zone.to_utc(&t)
    }
}

#[cfg(test)]
mod tests {
    use super::is_pattern_text;

    #[test]
    fn a_regular_expression_is_not_output() {
        assert!(is_pattern_text(
            "'sysconf regenCert' successful. NTLS must be \\(re\\)started"
        ));
        assert!(is_pattern_text("Command Result : 0 \\(Success\\)"));
        assert!(!is_pattern_text("Command Result : 0 (Success)"));
        // A Windows path is not a pattern.
        assert!(!is_pattern_text(
            r"C:\Program Files\SafeNet\LunaClient\ (x86)\cryptoki.dll"
        ));
    }
}
