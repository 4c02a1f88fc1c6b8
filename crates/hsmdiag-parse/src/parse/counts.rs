//! How lines were accounted for: typed, left unrecognized, or blank.

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

/// How the lines that a call completed were accounted for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LineCounts {
    /// Lines typed into events (every line of a JSON document that parsed).
    pub recognized: u64,
    /// Lines holding a message no pattern typed.
    pub unrecognized: u64,
    /// Empty lines.
    pub blank: u64,
}

impl LineCounts {
    /// The count of one line.
    pub(crate) fn one(o: LineOutcome) -> Self {
        let mut c = LineCounts::default();
        match o {
            LineOutcome::Blank => c.blank = 1,
            LineOutcome::Recognized => c.recognized = 1,
            LineOutcome::Unrecognized => c.unrecognized = 1,
        }
        c
    }

    /// Adds another count.
    pub fn add(&mut self, o: LineCounts) {
        self.recognized += o.recognized;
        self.unrecognized += o.unrecognized;
        self.blank += o.blank;
    }

    /// All lines counted.
    pub fn lines(&self) -> u64 {
        self.recognized + self.unrecognized + self.blank
    }
}
