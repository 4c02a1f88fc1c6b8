//! What the line loop hands its lines and events to: the [`Sink`], and the
//! driver that puts a line through the parser into it.

use crate::event::Event;
use crate::parse::{LineCounts, LineParser};

/// What the line loop hands on, in the input's order.
pub(crate) trait Sink {
    /// Each line as it is taken from the input, read or not (progress, line
    /// observers).
    fn seen(&mut self, _text: &str, _no: u32, _offset: u64) {}

    /// Whether line `no` must go through the parser though the prefilter
    /// passes over it (the first lines until one gives a time).
    fn must_read(&self, _no: u32) -> bool {
        false
    }

    /// A line about to go through the parser; `blank` once its wrappers are
    /// peeled.
    fn reading(&mut self, _text: &str, _no: u32, _blank: bool) {}

    /// A line the prefilter passed over: only counted.
    fn skipped(&mut self, _text: &str, _no: u32, _blank: bool) {}

    /// The time of the last line only counted, when no line read after it
    /// gave a later one (how far the log runs).
    fn clock(&mut self, _ev: &Event) {}

    /// What the parser completed with one line, or at the end: the line
    /// counts and the events, in order (a sink may take them: the vector is
    /// emptied before the next line).
    fn events(&mut self, counts: LineCounts, events: &mut Vec<Event>);

    /// Whether to stop reading (a printer whose reader went away).
    fn stopped(&self) -> bool {
        false
    }
}

/// Every this many lines one is read even if the prefilter does not want it,
/// so that the year of year-less timestamps follows the log across New Year;
/// and until one of the first this many lines gives a time, each is read (the
/// input's first time).
pub(crate) const SAMPLE_LINES: u32 = 4096;

/// The parser and the sink, driven in order.
pub(super) struct Driver<'p, 'g, S> {
    parser: &'p mut LineParser<'g>,
    pub(super) sink: &'p mut S,
    events: Vec<Event>,
    /// The last line with a time that was only counted.
    pub(super) last_stamped: Option<(String, u32, u64)>,
}

impl<'p, 'g, S: Sink> Driver<'p, 'g, S> {
    /// Drives `parser` into `sink`.
    pub(super) fn new(parser: &'p mut LineParser<'g>, sink: &'p mut S) -> Self {
        Driver {
            parser,
            sink,
            events: Vec::with_capacity(8),
            last_stamped: None,
        }
    }

    /// Reads one line through the parser and hands on what it completed.
    pub(super) fn read(
        &mut self,
        text: &str,
        no: u32,
        offset: u64,
        pre: Option<crate::parse::Pretyped<'g>>,
    ) {
        let blank = text.trim_start_matches(['>', ' ']).trim().is_empty();
        self.sink.reading(text, no, blank);
        self.events.clear();
        let counts = self
            .parser
            .push_typed_line(text, no, offset, pre, &mut self.events);
        self.sink.events(counts, &mut self.events);
    }

    /// Whether line `no`, which the prefilter passed over, is read anyway.
    pub(super) fn must_read(&self, no: u32) -> bool {
        self.sink.must_read(no) || no % SAMPLE_LINES == 0 || !self.parser.is_idle()
    }

    /// Ends the input: the last counted line's time, then what the parser
    /// still holds.
    pub(super) fn end(&mut self) {
        if let Some((text, no, offset)) = self.last_stamped.take() {
            if let Some(ev) = self.parser.clock(&text, no, offset) {
                self.sink.clock(&ev);
            }
        }
        self.events.clear();
        let counts = self.parser.finish(&mut self.events);
        self.sink.events(counts, &mut self.events);
    }
}
