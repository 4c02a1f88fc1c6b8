//! The whole pipeline for a set of inputs: read, parse, match, aggregate.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use hsmdiag_parse::Zone;
use rayon::prelude::*;

use crate::correlate::{self, Anchor};
use crate::coverage::Coverage;
use crate::engine::{self, Engine};
use crate::event::{Event, SourceId};
use crate::finding::Finding;
use crate::kb::{KbError, KnowledgeBase, Rule};
use crate::parse::grammar::{Grammar, GrammarError, Typing};
use crate::parse::prefilter::{self, Look, Prefilter};
use crate::parse::{LineCounts, LineParser, ParseCtx, Pretyped};
use crate::report::{Report, SourceSummary, Summary};
use crate::source::{Input, InputError, Lines};

/// Configures an [`Analyzer`].
#[derive(Debug, Clone)]
pub struct AnalyzerBuilder {
    year: Option<i32>,
    now: Option<DateTime<Utc>>,
    zone: Zone,
    grammars: Vec<(String, String)>,
    rules: Vec<(String, String)>,
    unrecognized: bool,
    coverage: bool,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    progress: Option<Progress>,
    observer: Option<LineObserver>,
    batch_lines: usize,
}

/// Lines per batch typed ahead on the thread pool (see
/// [`AnalyzerBuilder::batch_lines`]).
pub const DEFAULT_BATCH_LINES: usize = 2048;

/// How [`Analyzer::follow`] follows a growing input.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Follow {
    /// Set it (from a Ctrl-C handler, another thread) to stop following: the
    /// log read so far is finished and reported.
    pub stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// How often to look for more at the end of the file.
    pub poll: std::time::Duration,
}

impl Default for Follow {
    fn default() -> Self {
        Follow {
            stop: Default::default(),
            poll: std::time::Duration::from_millis(250),
        }
    }
}

/// A callback told how many more bytes of input were read (about every MiB).
#[derive(Clone)]
pub struct Progress(pub std::sync::Arc<dyn Fn(u64) + Send + Sync>);

/// A callback that sees every line of every input, in order, whether or not a
/// rule can use it (redaction finds the values to hide in all of them).
#[derive(Clone)]
pub struct LineObserver(pub std::sync::Arc<dyn Fn(&str) + Send + Sync>);

impl std::fmt::Debug for LineObserver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LineObserver(..)")
    }
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress(..)")
    }
}

impl Default for AnalyzerBuilder {
    fn default() -> Self {
        Self::new()
    }
}

/// Why an analyzer could not be built.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[non_exhaustive]
pub enum BuildError {
    /// A grammar file is wrong.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Grammar(#[from] GrammarError),
    /// A rule file is wrong.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Kb(#[from] KbError),
}

impl AnalyzerBuilder {
    /// The built-in grammar and knowledge base, UTC, no year.
    pub fn new() -> Self {
        AnalyzerBuilder {
            year: None,
            now: None,
            zone: Zone::UTC,
            grammars: Vec::new(),
            rules: Vec::new(),
            unrecognized: false,
            coverage: false,
            since: None,
            until: None,
            progress: None,
            observer: None,
            batch_lines: DEFAULT_BATCH_LINES,
        }
    }

    /// Whether to measure coverage: type every line, so that the summary
    /// says how many were recognised (`recognized_lines`,
    /// `unrecognized_lines`, `events`). Without it, lines that can give no
    /// event a rule reads are only counted (the [`Prefilter`]), which is
    /// several times faster; the findings are the same either way, and those
    /// counts are `None` (not measured). [`unrecognized`](Self::unrecognized)
    /// implies it.
    pub fn coverage(&mut self, on: bool) -> &mut Self {
        self.coverage = on;
        self
    }

    /// How many lines of an input are read and typed ahead as one batch, on
    /// the thread pool, while the batch before goes through the stateful part
    /// (framing, sessions, rules) in order. Results never depend on it: any
    /// batch size, and 0 (each line typed when it is read, one thread per
    /// input), give the same report. Default [`DEFAULT_BATCH_LINES`].
    pub fn batch_lines(&mut self, lines: usize) -> &mut Self {
        self.batch_lines = lines;
        self
    }

    /// Calls `f` with the number of bytes read since the last call, about every
    /// MiB of each input (for a progress bar).
    pub fn progress(&mut self, f: Progress) -> &mut Self {
        self.progress = Some(f);
        self
    }

    /// Calls `f` with every line of every input, in order, before anything is
    /// decided about it (the values a redacted report must hide are found in
    /// all of them, not only in the lines the report shows).
    pub fn observe_lines(&mut self, f: LineObserver) -> &mut Self {
        self.observer = Some(f);
        self
    }

    /// Leaves out events before `since` or after `until` (events without a time
    /// are kept). The summary counts what was left out.
    pub fn window(
        &mut self,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
    ) -> &mut Self {
        self.since = since;
        self.until = until;
        self
    }

    /// Whether reports list the unrecognised messages as templates
    /// ([`Report::unrecognized`]); implies [`coverage`](Self::coverage).
    pub fn unrecognized(&mut self, on: bool) -> &mut Self {
        self.unrecognized = on;
        self
    }

    /// The year for year-less syslog timestamps. Without it, a file's
    /// modification year is used, and stdin's year-less lines get no time.
    pub fn year(&mut self, year: Option<i32>) -> &mut Self {
        self.year = year;
        self
    }

    /// Where neither [`AnalyzerBuilder::year`], the log's dated lines nor the
    /// file's modification time give a year (stdin), assumes the year of
    /// `now`, or the one before for a date after it; each input's summary
    /// says so ([`SourceSummary::assumed_year`](crate::SourceSummary)).
    /// Unset, such timestamps get no time, and a run never reads the clock.
    pub fn assume_year(&mut self, now: Option<DateTime<Utc>>) -> &mut Self {
        self.now = now;
        self
    }

    /// The zone for timestamps that carry none: a fixed offset, or an IANA
    /// zone ([`Zone`]) whose offset follows daylight saving time.
    pub fn zone(&mut self, zone: impl Into<Zone>) -> &mut Self {
        self.zone = zone.into();
        self
    }

    /// Adds a grammar file (its name and text) after the built-in ones: a
    /// catalogue, whose raw patterns then take precedence over the built-in ones
    /// of the same priority, or a patterns file of `%{NAME}` macros.
    pub fn grammar(&mut self, name: impl Into<String>, text: impl Into<String>) -> &mut Self {
        self.grammars.push((name.into(), text.into()));
        self
    }

    /// Adds a rule file (its name and text) after the built-in ones.
    pub fn rule(&mut self, name: impl Into<String>, text: impl Into<String>) -> &mut Self {
        self.rules.push((name.into(), text.into()));
        self
    }

    /// Builds the analyzer.
    ///
    /// # Errors
    /// [`BuildError`] when an added grammar or rule file is invalid.
    pub fn build(&self) -> Result<Analyzer, BuildError> {
        let mut grammar = Grammar::builtin();
        for (n, t) in &self.grammars {
            grammar.add_file(n, t)?;
        }
        let mut kb = KnowledgeBase::builtin(&grammar);
        for (n, t) in &self.rules {
            // A file of retired rules (`[[retired]]`, the form of
            // grammars/kb/retired.toml) among a site's rule files.
            let retired = t
                .parse::<toml::Table>()
                .is_ok_and(|t| t.contains_key("retired") && !t.contains_key("id"));
            if retired {
                kb.add_retired(n, t)?;
            } else {
                kb.add(n, t, &grammar)?;
            }
        }
        kb.check_references()?;
        let read = engine::kinds_read(&kb);
        grammar.needed_fields(read.iter().cloned());
        let coverage = self.coverage || self.unrecognized;
        Ok(Analyzer {
            grammar,
            kb,
            year: self.year,
            now: self.now,
            zone: self.zone,
            unrecognized: self.unrecognized,
            coverage,
            read,
            prefilter: std::sync::OnceLock::new(),
            prefilter_anchors: std::sync::OnceLock::new(),
            since: self.since,
            until: self.until,
            progress: self.progress.clone(),
            observer: self.observer.clone(),
            batch_lines: self.batch_lines,
        })
    }
}

/// Runs the pipeline. Build one with [`AnalyzerBuilder`] and reuse it.
#[derive(Debug)]
pub struct Analyzer {
    grammar: Grammar,
    kb: KnowledgeBase,
    year: Option<i32>,
    now: Option<DateTime<Utc>>,
    zone: Zone,
    unrecognized: bool,
    coverage: bool,
    /// The event kinds rules read.
    read: HashSet<String>,
    /// For one input (no connection anchors wanted), built on first use.
    prefilter: std::sync::OnceLock<Result<Prefilter, String>>,
    /// For one of several inputs (connection anchors wanted too).
    prefilter_anchors: std::sync::OnceLock<Result<Prefilter, String>>,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    progress: Option<Progress>,
    observer: Option<LineObserver>,
    batch_lines: usize,
}

/// What one input gave.
struct Part {
    findings: Vec<Finding>,
    /// Hits beyond the bound on subjects per rule.
    omitted: Vec<crate::engine::Omitted>,
    /// Per rule, how many events its streaks would have counted that are
    /// earlier than `--since`.
    hidden: HashMap<String, u64>,
    summary: SourceSummary,
    /// The counts that only a full read measures.
    tally: Tally,
    coverage: Coverage,
    /// Events kept for the cross-input phase.
    kept: Vec<Event>,
    /// What the related events among them hold ([`MAX_RELATED_BYTES`]).
    kept_bytes: usize,
    anchors: Vec<Anchor>,
    /// Whether to gather anchors (only with more than one input: a clock is
    /// measured against another input's).
    want_anchors: bool,
}

impl Part {
    /// Nothing read yet from the input `name`.
    fn new(name: &str, want_anchors: bool) -> Self {
        Part {
            findings: Vec::new(),
            omitted: Vec::new(),
            hidden: HashMap::new(),
            summary: SourceSummary {
                name: name.to_owned(),
                ..Default::default()
            },
            tally: Tally::default(),
            coverage: Coverage::default(),
            kept: Vec::new(),
            kept_bytes: 0,
            anchors: Vec::new(),
            want_anchors,
        }
    }

    /// Puts the counts only a full read measures into the summary: the
    /// numbers when every line was typed, `None` otherwise.
    fn close(&mut self, measured: bool) {
        let t = &self.tally;
        let m = |n: u64| measured.then_some(n);
        let s = &mut self.summary;
        s.recognized_lines = m(t.recognized);
        s.unrecognized_lines = m(t.unrecognized);
        s.events = m(t.events);
        s.unrecognized_events = m(t.unrecognized_events);
        s.outside_window = m(t.outside_window);
    }
}

/// Counts of one input that depend on typing every line.
#[derive(Default)]
struct Tally {
    recognized: u64,
    unrecognized: u64,
    events: u64,
    unrecognized_events: u64,
    outside_window: u64,
}

/// Which events a run keeps besides feeding them to the engine.
#[derive(Clone, Copy)]
enum Keep<'a> {
    /// Those `[[related]]` entries ask for, and connection anchors.
    Related(&'a HashSet<String>),
    /// Every recognised event (the timeline).
    All,
}

/// Lines read from an input and typed ahead.
#[derive(Default)]
struct Batch<'g> {
    /// The lines' text, one after the other.
    text: String,
    /// Each line: its end in `text`, number and byte offset in the input.
    lines: Vec<(usize, u32, u64)>,
    /// What the prefilter says of each line (every line wanted without one).
    looks: Vec<Look>,
    /// The typing of each wanted line.
    typed: Vec<Option<Pretyped<'g>>>,
}

/// The most bytes of text one batch holds (it ends at the line that crosses it).
const BATCH_BYTES: usize = 1 << 20;

/// Every this many lines one is read even if the prefilter does not want it,
/// so that the year of year-less timestamps follows the log across New Year;
/// and until one of the first this many lines gives a time, each is read (the
/// input's first time).
const SAMPLE_LINES: u32 = 4096;

impl<'g> Batch<'g> {
    /// Reads up to `max` lines (or about [`BATCH_BYTES`]), looks at them with
    /// the prefilter and types the wanted ones on the thread pool. Returns
    /// `Some` when the input ended: `Ok` at its end, `Err` when reading failed
    /// (the lines before are in the batch).
    fn fill<R: std::io::BufRead>(
        &mut self,
        lines: &mut Lines<R>,
        max: usize,
        grammar: &'g Grammar,
        typing: Typing,
        prefilter: Option<&Prefilter>,
    ) -> Option<std::io::Result<()>> {
        self.text.clear();
        self.lines.clear();
        let mut end = None;
        while self.lines.len() < max && self.text.len() < BATCH_BYTES {
            match lines.next_line() {
                Ok(Some((no, offset, text))) => {
                    self.text.push_str(&text);
                    self.lines.push((self.text.len(), no, offset));
                }
                Ok(None) => {
                    end = Some(Ok(()));
                    break;
                }
                Err(e) => {
                    end = Some(Err(e));
                    break;
                }
            }
        }
        let text = &self.text;
        let spans = &self.lines;
        (self.looks, self.typed) = (0..spans.len())
            .into_par_iter()
            .with_min_len(256)
            .map(|i| {
                let start = if i == 0 { 0 } else { spans[i - 1].0 };
                let line = &text[start..spans[i].0];
                let look = prefilter.map_or(Look::WANTED, |p| p.look(line));
                let typed = look.wanted.then(|| Pretyped::typed(grammar, line, typing));
                (look, typed)
            })
            .unzip();
        end
    }

    /// The text of line `i`.
    fn line(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.lines[i - 1].0 };
        &self.text[start..self.lines[i].0]
    }

    /// Hands each line, in order, to the runner: the wanted ones to read, the
    /// others to count while the parser is idle.
    fn consume(&mut self, runner: &mut Runner<'_, 'g>) {
        let mut held = Held::default();
        let mut stamped = None;
        let n = self.lines.len();
        for i in 0..n {
            let (_, no, offset) = self.lines[i];
            runner.progress(offset);
            if let Some(o) = &runner.analyzer.observer {
                (o.0)(self.line(i));
            }
            let look = self.looks[i];
            let must = look.wanted || runner.untimed(no) || no % SAMPLE_LINES == 0;
            if !must && runner.parser.is_idle() {
                if look.stamped {
                    stamped = Some(i);
                }
                if let Some((j, blank)) = held.hold(i, look.blank) {
                    runner.skip(self.line(j), self.lines[j].1, blank);
                }
                continue;
            }
            self.release(&mut held, runner);
            let pre = self.typed[i].take();
            runner.read(self.line(i), no, offset, pre);
        }
        self.release(&mut held, runner);
        // The last line with a time that was only counted: how far the log
        // runs, if the lines read after it have no later time.
        if let Some(i) = stamped {
            let (_, no, offset) = self.lines[i];
            runner.last_stamped = Some((self.line(i).to_owned(), no, offset));
        }
    }

    /// Counts the held lines, or reads those a sentence may continue from.
    fn release(&self, held: &mut Held<usize>, runner: &mut Runner<'_, 'g>) {
        let (count, read) = held.release(|&i| prefilter::may_continue(self.line(i)));
        for (i, blank) in count {
            runner.skip(self.line(i), self.lines[i].1, blank);
        }
        for i in read {
            let (_, no, offset) = self.lines[i];
            runner.read(self.line(i), no, offset, None);
        }
    }
}

/// The last lines the prefilter let pass while the parser was idle, held back
/// until the next line read: a hard-wrapped sentence that line ends may have
/// begun on them (the parser joins up to three lines).
struct Held<T> {
    lines: std::collections::VecDeque<(T, bool)>,
}

impl<T> Default for Held<T> {
    fn default() -> Self {
        Held {
            lines: std::collections::VecDeque::with_capacity(4),
        }
    }
}

impl<T> Held<T> {
    const MAX: usize = 3;

    /// Holds a line (and whether it is blank); returns the line that falls
    /// out, to be counted.
    fn hold(&mut self, line: T, blank: bool) -> Option<(T, bool)> {
        self.lines.push_back((line, blank));
        (self.lines.len() > Self::MAX)
            .then(|| self.lines.pop_front())
            .flatten()
    }

    /// Empties it: the lines to count, then the trailing ones a sentence may
    /// continue from, to read in order.
    fn release(&mut self, may_continue: impl Fn(&T) -> bool) -> (Vec<(T, bool)>, Vec<T>) {
        let keep = self
            .lines
            .iter()
            .rev()
            .take_while(|(l, blank)| !blank && may_continue(l))
            .count();
        let mut count: Vec<(T, bool)> = self.lines.drain(..).collect();
        let read = count.split_off(count.len() - keep);
        (count, read.into_iter().map(|(l, _)| l).collect())
    }
}

/// The stateful, in-order part of one input's run: the parser, the engine
/// and what the input gave so far.
struct Runner<'k, 's> {
    analyzer: &'s Analyzer,
    parser: LineParser<'s>,
    engine: Engine<'s>,
    part: Part,
    keep: Keep<'k>,
    events: Vec<Event>,
    reported: u64,
    /// The number of the last line read.
    last_read: u32,
    /// The last line with a time that was only counted: its time is how
    /// far the log runs, when no line read after it has a later one.
    last_stamped: Option<(String, u32, u64)>,
    /// The last line seen was blank (or none was seen yet).
    after_blank: bool,
}

impl<'s> Runner<'_, 's> {
    /// Reads one line through the parser and feeds its events.
    fn read(&mut self, text: &str, no: u32, offset: u64, pre: Option<Pretyped<'s>>) {
        let blank = text.trim_start_matches(['>', ' ']).trim().is_empty();
        self.paragraph(text, no, blank);
        self.last_read = no;
        self.events.clear();
        let counts = self
            .parser
            .push_typed_line(text, no, offset, pre, &mut self.events);
        self.fed(counts);
    }

    /// Feeds the events the last line (or the end) completed.
    fn fed(&mut self, counts: LineCounts) {
        let (part, engine) = (&mut self.part, &mut self.engine);
        self.analyzer
            .feed(part, engine, counts, &self.events, self.keep);
    }

    /// Gives the engine and the summary the time of a line only counted.
    fn clock(&mut self, text: &str, no: u32, offset: u64) {
        let Some(ev) = self.parser.clock(text, no, offset) else {
            return;
        };
        if let Some(t) = ev.time {
            let s = &mut self.part.summary;
            s.first_time = Some(s.first_time.map_or(t, |f| f.min(t)));
            s.last_time = Some(s.last_time.map_or(t, |l| l.max(t)));
        }
        if let Some(h) = &ev.host {
            self.part.summary.saw_host(h);
        }
        self.engine.feed(&ev);
    }

    /// Whether line `no` is read to find the input's first time: until a
    /// line gives one (among the first [`SAMPLE_LINES`]).
    fn untimed(&self, no: u32) -> bool {
        no <= SAMPLE_LINES && self.part.summary.first_time.is_none()
    }

    /// Tells the engine where a paragraph of prose starts: a line that reads
    /// as a sentence a person wrote, after a blank one (what a ticket pastes
    /// around it are separate records).
    fn paragraph(&mut self, text: &str, no: u32, blank: bool) {
        if self.after_blank && !blank && prefilter::is_prose(text) {
            self.engine.paragraph(no);
        }
        self.after_blank = blank;
    }

    /// Counts a line the prefilter let pass.
    fn skip(&mut self, text: &str, no: u32, blank: bool) {
        self.paragraph(text, no, blank);
        self.part.summary.lines += 1;
        self.part.summary.blank_lines += u64::from(blank);
    }

    /// Ends the input.
    fn end(&mut self) {
        if let Some((text, no, offset)) = self.last_stamped.take() {
            self.clock(&text, no, offset);
        }
        self.events.clear();
        let counts = self.parser.finish(&mut self.events);
        self.fed(counts);
        self.part.summary.assumed_year = self.parser.assumed_year();
    }

    /// Tells the progress callback about every MiB read.
    fn progress(&mut self, offset: u64) {
        if let Some(p) = &self.analyzer.progress {
            if offset - self.reported >= 1 << 20 {
                (p.0)(offset - self.reported);
                self.reported = offset;
            }
        }
    }
}

/// The most events one input keeps for the cross-input phase; beyond it the
/// earliest are kept.
const MAX_KEPT: usize = 100_000;
/// The most bytes (text and fields, roughly) of events one input keeps to
/// relate to findings: the context of a finding is a few lines, and a log of
/// a gigabyte must not hold a copy of its every related line.
const MAX_RELATED_BYTES: usize = 4 << 20;

/// Roughly what holding a copy of an event costs.
fn held_size(ev: &Event) -> usize {
    std::mem::size_of::<Event>()
        + ev.text.len()
        + ev.host.as_ref().map_or(0, String::len)
        + ev.program.as_ref().map_or(0, String::len)
        + ev.fields.len() * std::mem::size_of::<crate::event::Field>()
        + ev.fields
            .iter()
            .map(|f| match &f.value {
                crate::event::Value::Text(s) | crate::event::Value::ResourceId(s) => s.len(),
                _ => 0,
            })
            .sum::<usize>()
}
/// The most connection anchors one input keeps for the clock-skew estimate.
const MAX_ANCHORS: usize = 200_000;

impl Analyzer {
    /// An analyzer with the built-in grammar and rules.
    pub fn new() -> Self {
        AnalyzerBuilder::new()
            .build()
            .expect("built-in files are checked by the test suite")
    }

    /// The rules it applies.
    pub fn rules(&self) -> &[Rule] {
        self.kb.rules()
    }

    /// The knowledge base.
    pub fn knowledge_base(&self) -> &KnowledgeBase {
        &self.kb
    }

    /// The grammar.
    pub fn grammar(&self) -> &Grammar {
        &self.grammar
    }

    /// Whether every line is typed, so that reports measure coverage
    /// ([`AnalyzerBuilder::coverage`]).
    pub fn measures_coverage(&self) -> bool {
        self.coverage
    }

    /// The prefilter a single input is read with, or why there is none
    /// (coverage is measured, or some pattern a rule reads has no text every
    /// match contains: then every line is typed).
    pub fn prefilter(&self) -> Result<&Prefilter, &str> {
        self.prefilter_for(false)
    }

    /// The prefilter, for one input or (`anchors`) for one of several,
    /// whose connection anchors are read too; built on first use.
    fn prefilter_for(&self, anchors: bool) -> Result<&Prefilter, &str> {
        if self.coverage {
            return Err("coverage is measured");
        }
        let cell = if anchors {
            &self.prefilter_anchors
        } else {
            &self.prefilter
        };
        cell.get_or_init(|| {
            let mut kinds = self.read.clone();
            if anchors {
                kinds.extend(self.grammar.anchor_kinds().map(str::to_owned));
            }
            Prefilter::build(&self.grammar, &kinds).map_err(|e| e.0)
        })
        .as_ref()
        .map_err(String::as_str)
    }

    fn ctx(&self, source: SourceId, input_year: Option<i32>) -> ParseCtx {
        ParseCtx::new(source)
            .with_year(self.year.or(input_year))
            .with_zone(self.zone)
            .with_now(self.now)
    }

    /// Parses text into events, without applying rules.
    pub fn parse_str(&self, text: &str) -> Vec<Event> {
        let mut parser = LineParser::new(&self.grammar, self.ctx(SourceId(0), None));
        let mut out = Vec::new();
        let mut offset = 0u64;
        for (i, line) in text.split_inclusive('\n').enumerate() {
            let body = line.trim_end_matches('\n').trim_end_matches('\r');
            parser.push_line(body, i as u32 + 1, offset, &mut out);
            offset += line.len() as u64;
        }
        parser.finish(&mut out);
        out.retain(|e| e.span.line > 0);
        out
    }

    /// Streams the typed events of one input to `sink`, in order, without applying
    /// rules: what `hsmdiag events` prints. Lines that no pattern typed come as
    /// events of the unrecognised kind ([`EventKind::unrecognized`](crate::EventKind::unrecognized)).
    /// Reading stops early when `sink` returns `false`.
    pub fn events(
        &self,
        id: SourceId,
        input: &Input,
        mut sink: impl FnMut(&Event) -> bool,
    ) -> Result<(), InputError> {
        let reader = input.open()?;
        let mut parser = LineParser::new(&self.grammar, self.ctx(id, input.modified_year()));
        let mut lines = Lines::new(reader);
        let mut events = Vec::with_capacity(8);
        let error = each_line(&mut lines, &input.name, |line| {
            events.clear();
            match line {
                Some((text, no, offset)) => {
                    parser.push_line(text, no, offset, &mut events);
                }
                None => {
                    parser.finish(&mut events);
                }
            }
            events
                .iter()
                .filter(|e| e.span.line > 0 && !self.outside(e))
                .all(&mut sink)
        });
        error.map_or(Ok(()), Err)
    }

    /// Analyses text held in memory, named `name` in evidence.
    pub fn analyze_str(&self, name: &str, text: &str) -> Report {
        let input = Input {
            name: name.to_owned(),
            kind: crate::source::InputKind::Stdin,
        };
        let reader: Box<dyn std::io::BufRead + Send> =
            Box::new(std::io::Cursor::new(text.as_bytes().to_vec()));
        let kinds = self.related_kinds();
        let (part, _) = self.run(
            SourceId(0),
            &input,
            Ok(reader),
            Keep::Related(&kinds),
            false,
        );
        self.report(vec![part], &[input]).0
    }

    /// Analyses the inputs in parallel and merges what they found: findings,
    /// then across inputs the clock offsets and the related evidence. Inputs
    /// that cannot be read are returned as errors; the others are still analysed.
    pub fn analyze(&self, inputs: &[Input]) -> (Report, Vec<InputError>) {
        let kinds = self.related_kinds();
        let (report, errors, _) = self.analyze_keeping(inputs, Keep::Related(&kinds));
        (report, errors)
    }

    /// Like [`analyze`](Self::analyze), and also returns every recognised event
    /// of every input (up to 100,000 per input), for a merged timeline.
    pub fn analyze_with_events(&self, inputs: &[Input]) -> (Report, Vec<InputError>, Vec<Event>) {
        self.analyze_keeping(inputs, Keep::All)
    }

    /// Follows one input as it grows, like `tail -f` ([`Input::follow`]),
    /// calling `on_finding` with each finding as soon as its rule fires (the
    /// count and evidence as they stand then), until `follow.stop` is set (or
    /// standard input ends). Then the log read so far is finished like any
    /// other: findings held back until the end (rules that defer to more
    /// specific ones, absences whose window closed) are handed out too, and the
    /// complete report is returned. Memory stays bounded however long it runs:
    /// the engine keeps windows and a capped evidence list, not the log.
    pub fn follow(
        &self,
        input: &Input,
        follow: &Follow,
        on_finding: &mut dyn FnMut(&Finding),
    ) -> (Report, Option<InputError>) {
        let inputs = std::slice::from_ref(input);
        let mut part = Part::new(&input.name, false);
        let reader = match input.follow(follow.stop.clone(), follow.poll) {
            Ok(r) => r,
            Err(e) => return (self.report(vec![part], inputs).0, Some(e)),
        };
        let related = self.related_kinds();
        let keep = Keep::Related(&related);
        let name = input.name.clone();
        let names = move |_: SourceId| name.clone();
        let mut parser =
            LineParser::new(&self.grammar, self.ctx(SourceId(0), input.modified_year()))
                .typing(Typing::LeanNoAnchors);
        let mut engine = Engine::new(&self.kb).with_source_name(input.name.clone());
        let mut lines = Lines::new(reader);
        let mut events = Vec::new();
        let mut handed = HashSet::new();
        let error = each_line(&mut lines, &input.name, |line| {
            events.clear();
            let counts = match line {
                Some((text, no, offset)) => parser.push_line(text, no, offset, &mut events),
                None => parser.finish(&mut events),
            };
            self.feed(&mut part, &mut engine, counts, &events, keep);
            for f in engine.take_new(&names) {
                handed.insert((f.id.clone(), f.host.clone(), f.subject.clone()));
                on_finding(&f);
            }
            true
        });
        part.summary.long_lines = lines.long_lines();
        part.close(true);
        part.omitted = engine.take_omitted();
        part.findings = engine.finish(&names);
        let (report, _) = self.report(vec![part], inputs);
        for f in &report.findings {
            if !handed.contains(&(f.id.clone(), f.host.clone(), f.subject.clone())) {
                on_finding(f);
            }
        }
        (report, error)
    }

    /// Whether the event's time is outside the `since` / `until` window.
    fn outside(&self, ev: &Event) -> bool {
        ev.time
            .is_some_and(|t| self.since.is_some_and(|s| t < s) || self.until.is_some_and(|u| t > u))
    }

    /// The event kinds that `[[related]]` entries ask for.
    fn related_kinds(&self) -> HashSet<String> {
        self.kb
            .rules()
            .iter()
            .flat_map(|r| &r.related)
            .flat_map(|r| r.cond.kinds.iter().chain(&r.resolvers).cloned())
            .collect()
    }

    /// Checks deployment templates before anything is deployed (`hsmdiag
    /// lint`): ARM templates with their parameters files, what-if output,
    /// `terraform show -json` plans, Terraform configuration, and the state
    /// already there (`az network vnet show`, `az dedicated-hsm list`, ...), read
    /// together. What would fail becomes `lint.*` events that the knowledge
    /// base's rules report like any other, at the template's file and line.
    ///
    /// A Terraform file's `template_content = file("...")` (the minimal ARM
    /// template an `azurerm_resource_group_template_deployment` deploys the HSM
    /// with) is read too, as one more input.
    pub fn lint(&self, inputs: &[Input]) -> (Report, Vec<InputError>) {
        let mut inputs = inputs.to_vec();
        let mut errors = Vec::new();
        let mut texts = Vec::with_capacity(inputs.len());
        let mut i = 0;
        while i < inputs.len() {
            let input = &inputs[i];
            let mut text = String::new();
            let read = input.open().and_then(|mut r| {
                std::io::Read::read_to_string(&mut r, &mut text)
                    .map(|_| ())
                    .map_err(|e| InputError::read(&input.name, 0, &e))
            });
            if let Err(e) = read {
                errors.push(e);
            }
            let more = referenced_templates(input, &text, &inputs);
            texts.push(text);
            inputs.extend(more);
            i += 1;
        }
        let mut report = self.lint_texts(&inputs, &texts);
        report.summary.unreadable = errors.iter().map(ToString::to_string).collect();
        (report, errors)
    }

    /// [`Analyzer::lint`] of one text (a rule's example).
    ///
    /// Files it refers to are not read.
    pub fn lint_str(&self, name: &str, text: &str) -> Report {
        let input = Input {
            name: name.to_owned(),
            kind: crate::source::InputKind::Stdin,
        };
        self.lint_texts(std::slice::from_ref(&input), &[text.to_owned()])
    }

    fn lint_texts(&self, inputs: &[Input], texts: &[String]) -> Report {
        let docs: Vec<hsmdiag_parse::lint::Doc<'_>> = inputs
            .iter()
            .zip(texts)
            .enumerate()
            .map(|(i, (input, text))| hsmdiag_parse::lint::Doc {
                source: SourceId(i as u32),
                name: &input.name,
                text,
            })
            .collect();
        let events = hsmdiag_parse::lint::lint(&docs);
        let parts = inputs
            .iter()
            .zip(texts)
            .zip(events)
            .map(|((input, text), linted)| {
                let evs = linted.events;
                let mut part = Part::new(&input.name, false);
                let mut engine = Engine::new(&self.kb).with_source_name(input.name.clone());
                for ev in &evs {
                    engine.feed(ev);
                }
                // A template is read whole: every line that is not blank;
                // text that is no template, plan or state none.
                let lines = text.lines().count() as u64;
                let blank = text.lines().filter(|l| l.trim().is_empty()).count() as u64;
                part.summary.lines = lines;
                part.summary.blank_lines = blank;
                if linted.what.is_some() {
                    part.tally.recognized = lines - blank;
                } else {
                    part.tally.unrecognized = lines - blank;
                }
                part.tally.events = evs.len() as u64;
                part.close(true);
                part.omitted = engine.take_omitted();
                let name = input.name.clone();
                part.findings = engine.finish(&move |_: SourceId| name.clone());
                part
            })
            .collect();
        self.report(parts, inputs).0
    }

    fn analyze_keeping(
        &self,
        inputs: &[Input],
        keep: Keep<'_>,
    ) -> (Report, Vec<InputError>, Vec<Event>) {
        let results: Vec<_> = inputs
            .par_iter()
            .enumerate()
            .map(|(i, input)| {
                self.run(
                    SourceId(i as u32),
                    input,
                    input.open(),
                    keep,
                    inputs.len() > 1,
                )
            })
            .collect();
        let mut errors = Vec::new();
        let mut parts = Vec::new();
        for (part, err) in results {
            match err {
                Some(e @ InputError::Open { .. }) => errors.push(e),
                Some(e) => {
                    errors.push(e);
                    parts.push(part);
                }
                None => parts.push(part),
            }
        }
        let (mut report, events) = self.report(parts, inputs);
        report.summary.unreadable = errors.iter().map(ToString::to_string).collect();
        (report, errors, events)
    }

    fn run<'s>(
        &'s self,
        id: SourceId,
        input: &Input,
        reader: Result<Box<dyn std::io::BufRead + Send>, InputError>,
        keep: Keep<'_>,
        many: bool,
    ) -> (Part, Option<InputError>) {
        let mut part = Part::new(&input.name, many);
        let reader = match reader {
            Ok(r) => r,
            Err(e) => {
                part.close(self.coverage);
                return (part, Some(e));
            }
        };
        // The timeline shows every event's fields; a report reads only some.
        let typing = match keep {
            Keep::All => Typing::Full,
            Keep::Related(_) if many => Typing::Lean,
            Keep::Related(_) => Typing::LeanNoAnchors,
        };
        // Lines that can matter are found by the prefilter, unless coverage
        // is measured (every line typed).
        let prefilter = match typing {
            Typing::Lean => self.prefilter_for(true).ok(),
            Typing::LeanNoAnchors => self.prefilter_for(false).ok(),
            _ => None,
        };
        let parser =
            LineParser::new(&self.grammar, self.ctx(id, input.modified_year())).typing(typing);
        let mut runner = Runner {
            analyzer: self,
            parser,
            engine: Engine::new(&self.kb).with_source_name(input.name.clone()),
            part,
            keep,
            events: Vec::with_capacity(8),
            reported: 0,
            last_read: 0,
            last_stamped: None,
            after_blank: true,
        };
        let mut lines = Lines::new(reader);
        let mut error = None;
        if self.batch_lines == 0 {
            // One line at a time, typed when it is read.
            let mut held: Held<(String, u32, u64)> = Held::default();
            let release = |held: &mut Held<(String, u32, u64)>, runner: &mut Runner<'_, 's>| {
                let (count, read) = held.release(|l| prefilter::may_continue(&l.0));
                for ((text, no, _), blank) in count {
                    runner.skip(&text, no, blank);
                }
                for (text, no, offset) in read {
                    runner.read(&text, no, offset, None);
                }
            };
            error = each_line(&mut lines, &input.name, |line| {
                let Some((text, no, offset)) = line else {
                    release(&mut held, &mut runner);
                    return true;
                };
                runner.progress(offset);
                if let Some(o) = &runner.analyzer.observer {
                    (o.0)(text);
                }
                let look = prefilter.map_or(Look::WANTED, |p| p.look(text));
                let must = look.wanted || runner.untimed(no) || no % SAMPLE_LINES == 0;
                if !must && runner.parser.is_idle() {
                    if look.stamped {
                        runner.last_stamped = Some((text.to_owned(), no, offset));
                    }
                    if let Some(((text, no, _), blank)) =
                        held.hold((text.to_owned(), no, offset), look.blank)
                    {
                        runner.skip(&text, no, blank);
                    }
                    return true;
                }
                release(&mut held, &mut runner);
                runner.read(text, no, offset, None);
                true
            });
        } else {
            // Batch k+1 is read, looked at and typed (in parallel) while batch
            // k goes through the parser and the engine in order.
            let mut next = Batch::default();
            let mut current = Batch::default();
            let mut at_end = next.fill(
                &mut lines,
                self.batch_lines,
                &self.grammar,
                typing,
                prefilter,
            );
            loop {
                std::mem::swap(&mut next, &mut current);
                if at_end.is_some() {
                    current.consume(&mut runner);
                    break;
                }
                let (_, end) = rayon::join(
                    || current.consume(&mut runner),
                    || {
                        next.fill(
                            &mut lines,
                            self.batch_lines,
                            &self.grammar,
                            typing,
                            prefilter,
                        )
                    },
                );
                at_end = end;
            }
            if let Some(Err(e)) = at_end {
                error = Some(InputError::read(&input.name, lines.line(), &e));
            }
        }
        runner.end();
        let Runner {
            mut part, engine, ..
        } = runner;
        let mut engine = engine;
        part.summary.long_lines = lines.long_lines();
        part.close(prefilter.is_none());
        let name = input.name.clone();
        part.omitted = engine.take_omitted();
        part.findings = engine.finish(&move |_: SourceId| name.clone());
        (part, error)
    }

    /// Counts a batch of completed lines, feeds their events to the engine
    /// (those inside the time window), keeps what the cross-input phase needs,
    /// and with `--unrecognized` gathers the messages no pattern typed.
    fn feed(
        &self,
        part: &mut Part,
        engine: &mut Engine<'_>,
        counts: LineCounts,
        events: &[Event],
        keep: Keep<'_>,
    ) {
        if self.unrecognized {
            note_unrecognized(&mut part.coverage, &part.summary.name, events);
        }
        let summary = &mut part.summary;
        let tally = &mut part.tally;
        summary.lines += counts.lines();
        tally.recognized += counts.recognized;
        tally.unrecognized += counts.unrecognized;
        summary.blank_lines += counts.blank;
        for ev in events {
            let outside = self.outside(ev);
            if let Some(t) = ev.time.filter(|_| !outside) {
                summary.first_time = Some(summary.first_time.map_or(t, |f| f.min(t)));
                summary.last_time = Some(summary.last_time.map_or(t, |l| l.max(t)));
            }
            if let Some(h) = ev.host.as_deref().filter(|_| !outside) {
                summary.saw_host(h);
            }
            if ev.kind.is_unrecognized() {
                tally.unrecognized_events += 1;
                // No rule matches it; the engine still learns how far the log runs.
                engine.feed(ev);
                continue;
            }
            tally.events += 1;
            if outside {
                tally.outside_window += 1;
                if self.since.is_some_and(|s| ev.time.is_some_and(|t| t < s)) {
                    for id in engine.streaks_counting(ev) {
                        *part.hidden.entry(id.to_owned()).or_default() += 1;
                    }
                }
                continue;
            }
            engine.feed(ev);
            if part.want_anchors && part.anchors.len() < MAX_ANCHORS {
                if let Some(a) = self.grammar.anchor_of(ev) {
                    part.anchors.push(a);
                }
            }
            let wanted = match keep {
                Keep::All => true,
                Keep::Related(kinds) => {
                    part.kept_bytes < MAX_RELATED_BYTES
                        && kinds.contains(ev.kind.as_str())
                        && self.kb.rules().iter().flat_map(|r| &r.related).any(|r| {
                            r.cond.matches(ev) || r.resolvers.iter().any(|k| k == ev.kind.as_str())
                        })
                }
            };
            if wanted && part.kept.len() < MAX_KEPT {
                part.kept_bytes += held_size(ev);
                part.kept.push(ev.clone());
            }
        }
    }

    fn report(&self, parts: Vec<Part>, inputs: &[Input]) -> (Report, Vec<Event>) {
        let skipped: Vec<String> = inputs
            .iter()
            .filter_map(|i| match &i.kind {
                crate::source::InputKind::Skipped { reason } => {
                    Some(format!("{} ({reason})", i.name))
                }
                _ => None,
            })
            .collect();
        let mut summary = Summary {
            inputs: parts.len() - skipped.len().min(parts.len()),
            skipped,
            ..Default::default()
        };
        let mut all = Vec::new();
        let mut omitted = Vec::new();
        let mut hidden: HashMap<String, u64> = HashMap::new();

        let mut coverage = Coverage::default();
        let mut kept = Vec::new();
        let mut anchors = Vec::new();
        for (p, skip) in parts.into_iter().zip(
            inputs
                .iter()
                .map(Input::is_skipped)
                .chain(std::iter::repeat(false)),
        ) {
            if skip {
                continue;
            }
            for (id, n) in p.hidden {
                *hidden.entry(id).or_default() += n;
            }
            all.extend(p.findings);
            omitted.extend(p.omitted);
            summary.sources.push(p.summary);
            coverage.merge(p.coverage);
            kept.extend(p.kept);
            anchors.extend(p.anchors);
        }
        let srcs = &summary.sources;
        summary.lines = srcs.iter().map(|s| s.lines).sum();
        summary.blank_lines = srcs.iter().map(|s| s.blank_lines).sum();
        summary.long_lines = srcs.iter().map(|s| s.long_lines).sum();
        summary.events = srcs.iter().map(|s| s.events).sum();
        summary.unrecognized_lines = srcs.iter().map(|s| s.unrecognized_lines).sum();
        summary.recognized_lines = srcs.iter().map(|s| s.recognized_lines).sum();
        summary.unrecognized_events = srcs.iter().map(|s| s.unrecognized_events).sum();
        summary.outside_window = srcs.iter().map(|s| s.outside_window).sum();
        summary.first_time = srcs.iter().filter_map(|s| s.first_time).min();
        summary.last_time = srcs.iter().filter_map(|s| s.last_time).max();
        // Per rule and subject across inputs, then one finding per cause where
        // many subjects (clients of one HSM) fail the same way together.
        let (grouped, left) =
            engine::group_by_cause_bounded(engine::merge(all), omitted, self.kb.rules());
        summary.omitted = left;
        let mut findings = engine::merge(grouped);
        let names = |s: SourceId| {
            inputs
                .get(s.0 as usize)
                .map_or_else(|| format!("input {}", s.0), |i| i.name.clone())
        };
        let clock_skew = if inputs.len() > 1 {
            correlate::estimate_skew(&anchors, &names)
        } else {
            Vec::new()
        };
        correlate::relate(&mut findings, self.kb.rules(), &kept, &clock_skew, &names);
        // A streak counted from `--since` on may have started before it.
        for f in &mut findings {
            if let Some(&n) = hidden.get(&f.id) {
                let note = format!(
                    "; {n} matching failure{} before --since {} not counted: the real count may be higher and fewer tries left",
                    if n == 1 { " was" } else { "s were" },
                    self.since.map(|t| t.to_rfc3339()).unwrap_or_default()
                );
                f.message = Some(f.message.take().unwrap_or_else(|| f.title.clone()) + &note);
            }
        }
        for f in &findings {
            match f.severity {
                crate::Severity::Critical => summary.findings.critical += 1,
                crate::Severity::Error => summary.findings.error += 1,
                crate::Severity::Warning => summary.findings.warning += 1,
                crate::Severity::Info => summary.findings.info += 1,
            }
        }
        let report = Report {
            version: Report::VERSION,
            findings,
            summary,
            unrecognized: coverage.templates(),
            clock_skew,
        };
        (report, kept)
    }
}

/// Counts the unrecognised messages of a batch of lines by template.
/// The line loop: hands each line of an input to `on_line` (its text, number
/// and byte offset), then `None` once at the end, also after a read error,
/// which it returns (the lines before it were handed out). `on_line` returns
/// false to stop reading.
fn each_line<R: std::io::BufRead>(
    lines: &mut Lines<R>,
    name: &str,
    mut on_line: impl FnMut(Option<(&str, u32, u64)>) -> bool,
) -> Option<InputError> {
    loop {
        match lines.next_line() {
            Ok(Some((no, offset, text))) => {
                if !on_line(Some((&text, no, offset))) {
                    return None;
                }
            }
            Ok(None) => {
                on_line(None);
                return None;
            }
            Err(e) => {
                let error = InputError::read(name, lines.line(), &e);
                on_line(None);
                return Some(error);
            }
        }
    }
}

fn note_unrecognized(coverage: &mut Coverage, source: &str, events: &[Event]) {
    for ev in events.iter().filter(|e| e.kind.is_unrecognized()) {
        coverage.add(
            ev.program.as_deref(),
            ev.message(),
            source,
            ev.span.line,
            &ev.text,
        );
    }
}

impl Default for Analyzer {
    fn default() -> Self {
        Self::new()
    }
}

/// The ARM templates a Terraform file deploys from files
/// (`template_content = file("${path.module}/hsm.json")`) that exist and are
/// not inputs already.
fn referenced_templates(input: &Input, text: &str, known: &[Input]) -> Vec<Input> {
    let crate::source::InputKind::File(path) = &input.kind else {
        return Vec::new();
    };
    if path.extension().is_none_or(|e| e != "tf") {
        return Vec::new();
    }
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    let is_known = |p: &std::path::Path| {
        let real = std::fs::canonicalize(p).ok();
        known.iter().any(|k| match &k.kind {
            crate::source::InputKind::File(q) => std::fs::canonicalize(q).ok() == real,
            _ => false,
        })
    };
    let mut out: Vec<Input> = Vec::new();
    for line in text.lines() {
        let t = line.trim_start();
        let Some(rest) = t.strip_prefix("template_content") else {
            continue;
        };
        let Some(arg) = rest
            .split_once("file(")
            .and_then(|(_, a)| a.split('"').nth(1))
        else {
            continue;
        };
        let rel = arg
            .strip_prefix("${path.module}/")
            .or_else(|| arg.strip_prefix("./"))
            .unwrap_or(arg);
        if rel.contains("${") {
            continue;
        }
        let p = dir.join(rel);
        if p.is_file() && !is_known(&p) && !out.iter().any(|o| o.name == p.display().to_string()) {
            out.push(Input::file(&p));
        }
    }
    out
}
