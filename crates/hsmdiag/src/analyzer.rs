//! The whole pipeline for a set of inputs: read, parse, match, aggregate.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use hsmdiag_parse::Zone;
use rayon::prelude::*;

use crate::pipeline::analysis::{Analysis, Keep, Part, Settings};
pub use crate::pipeline::analysis::{LineObserver, Progress};
use crate::pipeline::{Pipeline, Sink};

use crate::correlate;
use crate::coverage::Coverage;
use crate::engine::{self, Engine};
use crate::event::{Event, SourceId};
use crate::finding::Finding;
use crate::kb::{KbError, KnowledgeBase, Rule};
use crate::parse::grammar::{Grammar, GrammarError, Typing};
use crate::parse::prefilter::Prefilter;
use crate::parse::{LineCounts, LineParser, ParseCtx};
use crate::report::{Report, Summary};
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

    /// The line loop for one input: batches typed ahead on the thread pool,
    /// or all on the input's thread ([`AnalyzerBuilder::batch_lines`] 0).
    fn pipeline<'s>(&'s self, prefilter: Option<&'s Prefilter>, typing: Typing) -> Pipeline<'s> {
        Pipeline {
            grammar: &self.grammar,
            prefilter,
            typing,
            batch_lines: if self.batch_lines == 0 {
                DEFAULT_BATCH_LINES
            } else {
                self.batch_lines
            },
            parallel: self.batch_lines > 0,
        }
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
        let mut lines = Lines::new(std::io::Cursor::new(text.as_bytes()));
        let mut sink = Collect::default();
        // Text in memory cannot fail to be read.
        let _ =
            self.pipeline(None, Typing::Full)
                .run(&mut lines, &mut parser, &mut sink, &mut |_| true);
        sink.events
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
        let error = self.pipeline(None, Typing::Full).run(
            &mut lines,
            &mut parser,
            &mut Collect::default(),
            // Handed on between batches, on this thread (`sink` need not
            // cross threads).
            &mut |gathered: &mut Collect| {
                gathered
                    .events
                    .drain(..)
                    .filter(|e| !self.outside(e))
                    .all(|e| sink(&e))
            },
        );
        error.map_or(Ok(()), |e| {
            Err(InputError::read(&input.name, lines.line(), &e))
        })
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
        let part = Part::new(&input.name, false);
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
        let engine = Engine::new(&self.kb).with_source_name(input.name.clone());
        let mut sink = Analysis::new(self.settings(), engine, part, keep);
        let mut lines = Lines::new(reader);
        let mut handed = HashSet::new();
        // One line at a time (the next may not be written yet), every line
        // typed; each finding handed out as soon as its rule fires.
        let pipeline = Pipeline {
            batch_lines: 1,
            parallel: false,
            ..self.pipeline(None, Typing::LeanNoAnchors)
        };
        let error = pipeline
            .run(
                &mut lines,
                &mut parser,
                &mut sink,
                &mut |sink: &mut Analysis| {
                    for f in sink.engine.take_new(&names) {
                        handed.insert((f.id.clone(), f.host.clone(), f.subject.clone()));
                        on_finding(&f);
                    }
                    true
                },
            )
            .map(|e| InputError::read(&input.name, lines.line(), &e));
        let Analysis {
            mut part,
            mut engine,
            ..
        } = sink;
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
        self.settings().outside(ev)
    }

    /// What an analysis of one input reads of these settings.
    fn settings(&self) -> Settings<'_> {
        Settings {
            grammar: &self.grammar,
            kb: &self.kb,
            since: self.since,
            until: self.until,
            unrecognized: self.unrecognized,
            progress: self.progress.as_ref(),
            observer: self.observer.as_ref(),
        }
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
        let docs: Vec<hsmdiag_lint::Doc<'_>> = inputs
            .iter()
            .zip(texts)
            .enumerate()
            .map(|(i, (input, text))| hsmdiag_lint::Doc {
                source: SourceId(i as u32),
                name: &input.name,
                text,
            })
            .collect();
        let events = hsmdiag_lint::lint(&docs);
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

    /// Reads one input through the line loop into an analysis of it.
    fn run(
        &self,
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
        let mut parser =
            LineParser::new(&self.grammar, self.ctx(id, input.modified_year())).typing(typing);
        let engine = Engine::new(&self.kb).with_source_name(input.name.clone());
        let mut sink = Analysis::new(self.settings(), engine, part, keep);
        let mut lines = Lines::new(reader);
        let error = self
            .pipeline(prefilter, typing)
            .run(&mut lines, &mut parser, &mut sink, &mut |_| true)
            .map(|e| InputError::read(&input.name, lines.line(), &e));
        sink.part.summary.assumed_year = parser.assumed_year();
        let Analysis {
            mut part,
            mut engine,
            ..
        } = sink;
        part.summary.long_lines = lines.long_lines();
        part.close(prefilter.is_none());
        let name = input.name.clone();
        part.omitted = engine.take_omitted();
        part.findings = engine.finish(&move |_: SourceId| name.clone());
        (part, error)
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
/// A sink that gathers every event the parser gives a line of the input
/// (those of line 0, the input's own, left out).
#[derive(Default)]
struct Collect {
    events: Vec<Event>,
}

impl Sink for Collect {
    fn events(&mut self, _counts: LineCounts, events: &mut Vec<Event>) {
        self.events
            .extend(events.drain(..).filter(|e| e.span.line > 0));
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
