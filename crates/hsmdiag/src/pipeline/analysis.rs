//! The analysis sink: the events of one input go to the engine and the
//! input's summary, and the related ones are kept for the cross-input phase.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::sink::{SAMPLE_LINES, Sink};
use crate::correlate::Anchor;
use crate::coverage::Coverage;
use crate::engine::Engine;
use crate::event::Event;
use crate::finding::Finding;
use crate::kb::KnowledgeBase;
use crate::parse::LineCounts;
use crate::parse::grammar::Grammar;
use crate::parse::prefilter;
use crate::report::SourceSummary;

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

/// What one input gave.
pub(crate) struct Part {
    pub(crate) findings: Vec<Finding>,
    /// Hits beyond the bound on subjects per rule.
    pub(crate) omitted: Vec<crate::engine::Omitted>,
    /// Per rule, how many events its streaks would have counted that are
    /// earlier than `--since`.
    pub(crate) hidden: HashMap<String, u64>,
    pub(crate) summary: SourceSummary,
    /// The counts that only a full read measures.
    pub(crate) tally: Tally,
    pub(crate) coverage: Coverage,
    /// Events kept for the cross-input phase.
    pub(crate) kept: Vec<Event>,
    /// What the related events among them hold ([`MAX_RELATED_BYTES`]).
    pub(crate) kept_bytes: usize,
    pub(crate) anchors: Vec<Anchor>,
    /// Whether to gather anchors (only with more than one input: a clock is
    /// measured against another input's).
    pub(crate) want_anchors: bool,
}

impl Part {
    /// Nothing read yet from the input `name`.
    pub(crate) fn new(name: &str, want_anchors: bool) -> Self {
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
    pub(crate) fn close(&mut self, measured: bool) {
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
pub(crate) struct Tally {
    pub(crate) recognized: u64,
    pub(crate) unrecognized: u64,
    pub(crate) events: u64,
    pub(crate) unrecognized_events: u64,
    pub(crate) outside_window: u64,
}

/// Which events a run keeps besides feeding them to the engine.
#[derive(Clone, Copy)]
pub(crate) enum Keep<'a> {
    /// Those `[[related]]` entries ask for, and connection anchors.
    Related(&'a HashSet<String>),
    /// Every recognised event (the timeline).
    All,
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
pub(crate) const MAX_ANCHORS: usize = 200_000;

/// What an analysis reads of its analyzer's settings.
pub(crate) struct Settings<'s> {
    pub grammar: &'s Grammar,
    pub kb: &'s KnowledgeBase,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Gather the messages no pattern typed (`--unrecognized`).
    pub unrecognized: bool,
    pub progress: Option<&'s Progress>,
    pub observer: Option<&'s LineObserver>,
}

impl Settings<'_> {
    /// Whether the event's time is outside the `since` / `until` window.
    pub fn outside(&self, ev: &Event) -> bool {
        ev.time
            .is_some_and(|t| self.since.is_some_and(|s| t < s) || self.until.is_some_and(|u| t > u))
    }
}

/// One input's engine and what it gave so far.
pub(crate) struct Analysis<'k, 's> {
    pub settings: Settings<'s>,
    pub engine: Engine<'s>,
    pub part: Part,
    pub keep: Keep<'k>,
    /// The offset last told to the progress callback.
    reported: u64,
    /// The last line seen was blank (or none was seen yet).
    after_blank: bool,
}

impl<'k, 's> Analysis<'k, 's> {
    pub fn new(settings: Settings<'s>, engine: Engine<'s>, part: Part, keep: Keep<'k>) -> Self {
        Analysis {
            settings,
            engine,
            part,
            keep,
            reported: 0,
            after_blank: true,
        }
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

    /// Counts a batch of completed lines, feeds their events to the engine
    /// (those inside the time window), keeps what the cross-input phase needs,
    /// and with `--unrecognized` gathers the messages no pattern typed.
    fn feed(&mut self, counts: LineCounts, events: &[Event]) {
        let settings = &self.settings;
        let (part, engine, keep) = (&mut self.part, &mut self.engine, self.keep);
        if settings.unrecognized {
            note_unrecognized(&mut part.coverage, &part.summary.name, events);
        }
        let summary = &mut part.summary;
        let tally = &mut part.tally;
        summary.lines += counts.lines();
        tally.recognized += counts.recognized;
        tally.unrecognized += counts.unrecognized;
        summary.blank_lines += counts.blank;
        for ev in events {
            let outside = settings.outside(ev);
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
                if settings
                    .since
                    .is_some_and(|s| ev.time.is_some_and(|t| t < s))
                {
                    for id in engine.streaks_counting(ev) {
                        *part.hidden.entry(id.to_owned()).or_default() += 1;
                    }
                }
                continue;
            }
            engine.feed(ev);
            if part.want_anchors && part.anchors.len() < MAX_ANCHORS {
                if let Some(a) = settings.grammar.anchor_of(ev) {
                    part.anchors.push(a);
                }
            }
            let wanted = match keep {
                Keep::All => true,
                Keep::Related(kinds) => {
                    part.kept_bytes < MAX_RELATED_BYTES
                        && kinds.contains(ev.kind.as_str())
                        && settings
                            .kb
                            .rules()
                            .iter()
                            .flat_map(|r| &r.related)
                            .any(|r| {
                                r.cond.matches(ev)
                                    || r.resolvers.iter().any(|k| k == ev.kind.as_str())
                            })
                }
            };
            if wanted && part.kept.len() < MAX_KEPT {
                part.kept_bytes += held_size(ev);
                part.kept.push(ev.clone());
            }
        }
    }
}

impl Sink for Analysis<'_, '_> {
    /// Tells the progress callback about every MiB read, and the line
    /// observer about every line.
    fn seen(&mut self, text: &str, _no: u32, offset: u64) {
        if let Some(p) = &self.settings.progress {
            if offset - self.reported >= 1 << 20 {
                (p.0)(offset - self.reported);
                self.reported = offset;
            }
        }
        if let Some(o) = &self.settings.observer {
            (o.0)(text);
        }
    }

    /// Until a line gives a time (among the first [`SAMPLE_LINES`]), each is
    /// read: the input's first time.
    fn must_read(&self, no: u32) -> bool {
        no <= SAMPLE_LINES && self.part.summary.first_time.is_none()
    }

    fn reading(&mut self, text: &str, no: u32, blank: bool) {
        self.paragraph(text, no, blank);
    }

    fn skipped(&mut self, text: &str, no: u32, blank: bool) {
        self.paragraph(text, no, blank);
        self.part.summary.lines += 1;
        self.part.summary.blank_lines += u64::from(blank);
    }

    fn clock(&mut self, ev: &Event) {
        if let Some(t) = ev.time {
            let s = &mut self.part.summary;
            s.first_time = Some(s.first_time.map_or(t, |f| f.min(t)));
            s.last_time = Some(s.last_time.map_or(t, |l| l.max(t)));
        }
        if let Some(h) = &ev.host {
            self.part.summary.saw_host(h);
        }
        self.engine.feed(ev);
    }

    fn events(&mut self, counts: LineCounts, events: &mut Vec<Event>) {
        self.feed(counts, events);
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
