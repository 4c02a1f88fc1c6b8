//! A batch of lines: read, peeled, looked at and typed ahead, then handed to
//! the parser in order.

use std::io::BufRead;

use rayon::prelude::*;

use super::sink::{Driver, Sink};
use crate::parse::Pretyped;
use crate::parse::grammar::{Grammar, Typing};
use crate::parse::prefilter::{self, Look, Prefilter};
use crate::source::Lines;

/// Lines read from an input and typed ahead.
#[derive(Default)]
pub(super) struct Batch<'g> {
    /// The lines' text, one after the other.
    text: String,
    /// Each line: its end in `text`, number and byte offset in the input.
    lines: Vec<(usize, u32, u64)>,
    /// What the prefilter says of each line (every line wanted without one).
    looks: Vec<Look>,
    /// Each line peeled, and typed when it is wanted.
    typed: Vec<Pretyped<'g>>,
}

/// The most bytes of text one batch holds (it ends at the line that crosses it).
const BATCH_BYTES: usize = 1 << 20;

impl<'g> Batch<'g> {
    /// Reads up to `max` lines (or about [`BATCH_BYTES`]), peels each once,
    /// looks at it with the prefilter and types the wanted ones, on the thread
    /// pool when `parallel`. Returns `Some` when the input ended: `Ok` at its
    /// end, `Err` when reading failed (the lines before are in the batch).
    pub(super) fn fill<R: BufRead>(
        &mut self,
        lines: &mut Lines<R>,
        max: usize,
        grammar: &'g Grammar,
        prefilter: Option<&Prefilter>,
        typing: Typing,
        parallel: bool,
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
        let one = |i: usize| {
            let start = if i == 0 { 0 } else { spans[i - 1].0 };
            Pretyped::looked(grammar, prefilter, &text[start..spans[i].0], typing)
        };
        (self.looks, self.typed) = if parallel {
            (0..spans.len())
                .into_par_iter()
                .with_min_len(256)
                .map(one)
                .unzip()
        } else {
            (0..spans.len()).map(one).unzip()
        };
        end
    }

    /// The text of line `i`.
    fn line(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.lines[i - 1].0 };
        &self.text[start..self.lines[i].0]
    }

    /// Hands each line, in order, to the driver: the wanted ones (and those
    /// that must be read) to the parser, the others to count while the parser
    /// is idle.
    pub(super) fn consume<S: Sink>(&mut self, driver: &mut Driver<'_, 'g, S>) {
        let mut held = Held::default();
        let mut stamped = None;
        for i in 0..self.lines.len() {
            let (_, no, offset) = self.lines[i];
            driver.sink.seen(self.line(i), no, offset);
            let look = self.looks[i];
            if !look.wanted && !driver.must_read(no) {
                if look.stamped {
                    stamped = Some(i);
                }
                if let Some((j, blank)) = held.hold(i, look.blank) {
                    driver.sink.skipped(self.line(j), self.lines[j].1, blank);
                }
                continue;
            }
            self.release(&mut held, driver);
            let pre = std::mem::take(&mut self.typed[i]);
            driver.read(self.line(i), no, offset, Some(pre));
        }
        self.release(&mut held, driver);
        // The last line with a time that was only counted: how far the log
        // runs, if the lines read after it have no later time.
        if let Some(i) = stamped {
            let (_, no, offset) = self.lines[i];
            driver.last_stamped = Some((self.line(i).to_owned(), no, offset));
        }
    }

    /// Counts the held lines, or reads those a sentence may continue from.
    fn release<S: Sink>(&mut self, held: &mut Held, driver: &mut Driver<'_, 'g, S>) {
        let (count, read) = held.release(|&i| prefilter::may_continue(self.line(i)));
        for (i, blank) in count {
            driver.sink.skipped(self.line(i), self.lines[i].1, blank);
        }
        for i in read {
            let (_, no, offset) = self.lines[i];
            let pre = std::mem::take(&mut self.typed[i]);
            driver.read(self.line(i), no, offset, Some(pre));
        }
    }
}

/// The last lines the prefilter passed over while the parser was idle, held
/// back until the next line read: a hard-wrapped sentence that line ends may
/// have begun on them (the parser joins up to three lines).
#[derive(Default)]
struct Held {
    lines: std::collections::VecDeque<(usize, bool)>,
}

impl Held {
    const MAX: usize = 3;

    /// Holds a line (and whether it is blank); returns the line that falls
    /// out, to be counted.
    fn hold(&mut self, line: usize, blank: bool) -> Option<(usize, bool)> {
        self.lines.push_back((line, blank));
        (self.lines.len() > Self::MAX)
            .then(|| self.lines.pop_front())
            .flatten()
    }

    /// Empties it: the lines to count, then the trailing ones a sentence may
    /// continue from, to read in order.
    fn release(
        &mut self,
        may_continue: impl Fn(&usize) -> bool,
    ) -> (Vec<(usize, bool)>, Vec<usize>) {
        let keep = self
            .lines
            .iter()
            .rev()
            .take_while(|(l, blank)| !blank && may_continue(l))
            .count();
        let mut count: Vec<(usize, bool)> = self.lines.drain(..).collect();
        let read = count.split_off(count.len() - keep);
        (count, read.into_iter().map(|(l, _)| l).collect())
    }
}
