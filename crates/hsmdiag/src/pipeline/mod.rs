//! The one line loop. Every way of reading an input — an analysis, `hsmdiag
//! events`, `follow`, [`Analyzer::parse_str`](crate::Analyzer::parse_str) and
//! the fuzzing entry — goes through [`Pipeline::run`]: lines are read in
//! batches, each line is peeled once and looked at by the prefilter, the wanted
//! ones are typed on the thread pool while the previous batch goes through the
//! parser in order, and what the parser completes goes to a [`Sink`]: the
//! engine and the summary ([`analysis`]), an event printer, a follower, a
//! collector.
//!
//! As ripgrep's searcher drives a `Sink`, the loop knows nothing of rules or
//! reports; a sink knows nothing of batches, threads or the prefilter.

pub(crate) mod analysis;
mod batch;
mod sink;

use std::io::BufRead;

use crate::parse::LineParser;
use crate::parse::grammar::{Grammar, Typing};
use crate::parse::prefilter::Prefilter;
use crate::source::Lines;

use batch::Batch;
use sink::Driver;
pub(crate) use sink::Sink;

/// How the loop reads one input.
pub(crate) struct Pipeline<'g> {
    /// The grammar the lines are typed with.
    pub grammar: &'g Grammar,
    /// Which lines can matter; `None`: every line is typed.
    pub prefilter: Option<&'g Prefilter>,
    /// What typing keeps of a line's fields.
    pub typing: Typing,
    /// Lines per batch (at least one): a followed input reads one at a time,
    /// since its next line may not be written yet.
    pub batch_lines: usize,
    /// Whether a batch is typed on the thread pool while the one before goes
    /// through the parser; otherwise all on this thread.
    pub parallel: bool,
}

impl<'g> Pipeline<'g> {
    /// Reads every line of `lines` through `parser` into `sink`, and ends the
    /// input. `between` runs on this thread after each batch (a sink that must
    /// not cross threads hands on what it gathered there); it returns `false`
    /// to stop. Returns the error that ended reading early, if any (the lines
    /// before it are read and the input ended all the same).
    pub(crate) fn run<R: BufRead + Send, S: Sink + Send>(
        &self,
        lines: &mut Lines<R>,
        parser: &mut LineParser<'g>,
        sink: &mut S,
        between: &mut dyn FnMut(&mut S) -> bool,
    ) -> Option<std::io::Error> {
        let mut driver = Driver::new(parser, sink);
        let parallel = self.parallel;
        let max = self.batch_lines.max(1);
        let mut next = Batch::default();
        let mut current = Batch::default();
        let fill = |batch: &mut Batch<'g>, lines: &mut Lines<R>| {
            batch.fill(
                lines,
                max,
                self.grammar,
                self.prefilter,
                self.typing,
                parallel,
            )
        };
        let mut at_end = fill(&mut next, lines);
        let stopped = loop {
            std::mem::swap(&mut next, &mut current);
            if at_end.is_some() || !parallel {
                current.consume(&mut driver);
                if at_end.is_some() {
                    break false;
                }
                if driver.sink.stopped() || !between(driver.sink) {
                    break true;
                }
                at_end = fill(&mut next, lines);
                continue;
            }
            // Batch k+1 is read, peeled, looked at and typed (in parallel)
            // while batch k goes through the parser and the sink in order.
            let (_, end) = rayon::join(|| current.consume(&mut driver), || fill(&mut next, lines));
            at_end = end;
            if driver.sink.stopped() || !between(driver.sink) {
                break true;
            }
        };
        if !stopped {
            driver.end();
            between(driver.sink);
        }
        match at_end {
            Some(Err(e)) => Some(e),
            _ => None,
        }
    }
}
