//! The framing stages' one seam. A stage is a construct that spans several
//! lines and is gathered before it is typed: a JSON document, a YAML scalar
//! holding one, a shell command continued over several lines. Each stage is
//! one file that implements [`Stage`] and gives an [`Opener`]; the table
//! in `stages` is walked by the line parser (to open a stage) and by the
//! prefilter (to read every line a stage may open on), so a new envelope is
//! one file and one row here, and the prefilter cannot miss it.
//!
//! One stage is open at a time.

use std::fmt;

use super::counts::LineCounts;
use super::documents::DocumentDef;
use crate::event::{Event, SourceId};

/// What a stage does with a further line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Push {
    /// The line is the stage's; more may follow.
    Taken,
    /// The line is the stage's last: the stage closes.
    Done,
    /// The line is not the stage's: the stage closes and the line is read
    /// anew.
    Ends,
    /// The line stands inside the stage but is read on its own (PowerShell's
    /// record lines inside the JSON a native command printed); the stage
    /// stays open.
    Beside,
}

/// What a closed stage gives.
#[derive(Debug)]
pub(crate) enum Closed {
    /// Its events are in the output; how its lines count.
    Typed(LineCounts),
    /// Nothing typed: its lines (number, offset, text) are read again, one by
    /// one, so no log record is lost in them; `blank` of them are blank.
    Reread {
        lines: Vec<(u32, u64, String)>,
        blank: u64,
    },
    /// One message joined from `lines` lines, typed as its first line's.
    Joined {
        text: String,
        line_no: u32,
        offset: u64,
        lines: u32,
    },
}

/// What a stage may need to type what it gathered.
pub(crate) struct Cx<'a> {
    /// The JSON document types.
    pub(crate) docs: &'a [DocumentDef],
    /// The input the lines belong to.
    pub(crate) source: SourceId,
}

/// A construct gathered over several lines.
pub(crate) trait Stage: fmt::Debug + Send {
    /// Offers the next line.
    fn push(&mut self, line: &str, line_no: u32, offset: u64) -> Push;
    /// Whether the stage has all it needs (it may close on its first line).
    fn is_done(&self) -> bool;
    /// Types what was gathered.
    fn close(self: Box<Self>, cx: &Cx<'_>, out: &mut Vec<Event>) -> Closed;
}

/// How a stage opens.
pub(crate) struct Opener {
    /// Where on the (peeled) line the stage opens, if it does. Cheap on the
    /// lines it cannot open on: the prefilter asks it of every line.
    pub(crate) opens: fn(&str) -> Option<usize>,
    /// Starts the stage on the line, at the place `opens` gave.
    pub(crate) open: fn(&str, usize, u32, u64) -> Box<dyn Stage>,
}
