//! The one adapter from a [`Finding`] to a miette diagnostic: code, severity, the
//! evidence lines with the failing part labelled, and the remediation as help.

use std::fmt;

use miette::{
    Diagnostic, LabeledSpan, MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents,
};

use super::wrap::{CUT, columns, cut_front, window, wrap};
use crate::Severity;
use crate::finding::Finding;
use crate::kb::Relation;

/// The evidence lines of a finding as one source whose snippets keep their own
/// file names and line numbers.
#[derive(Debug)]
struct EvidenceSource {
    /// All evidence texts joined by newlines.
    text: String,
    /// Per evidence line: its start in `text`, length, file name, line number,
    /// and the column where the text starts in that line.
    lines: Vec<(usize, usize, String, u32, usize)>,
}

impl SourceCode for EvidenceSource {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        _before: usize,
        _after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let off = span.offset();
        let end = off + span.len();
        let Some((start, len, name, line, column)) = self
            .lines
            .iter()
            .find(|(s, l, _, _, _)| off >= *s && off <= s + l)
        else {
            return Err(MietteError::OutOfBounds);
        };
        // A span across two evidence lines would merge snippets from unrelated
        // places under one line number: refuse it, so each line keeps its own.
        if end > start + len {
            return Err(MietteError::OutOfBounds);
        }
        let col = column + self.text[*start..off].chars().count();
        Ok(Box::new(MietteSpanContents::new_named(
            name.clone(),
            &self.text.as_bytes()[*start..start + len],
            SourceSpan::new((*start).into(), *len),
            *line as usize - 1,
            col,
            1,
        )))
    }
}

/// A finding as a miette diagnostic.
#[derive(Debug)]
pub struct FindingDiagnostic {
    code: String,
    headline: String,
    severity: Severity,
    help: String,
    source: EvidenceSource,
    labels: Vec<LabeledSpan>,
}

impl FindingDiagnostic {
    /// Builds the diagnostic for a finding, laid out for 100 columns.
    pub fn new(f: &Finding) -> Self {
        Self::with_width(f, 100)
    }

    /// Builds the diagnostic for a finding, laid out for `width` columns:
    /// prose wrapped, evidence lines cut to a window around their label with
    /// `…` where text is left out.
    pub fn with_width(f: &Finding, width: usize) -> Self {
        let width = width.max(40);
        // miette draws `  × ` before the first line and `  │ ` before the others.
        let mut headline = wrap(&f.title, width - 4, "", "").join("\n");
        let from = f
            .rule_file
            .as_ref()
            .map(|file| format!("rule from {file} (a user's rule, not one of hsmdiag's)"));
        let mut lines = vec![
            f.message.as_deref().unwrap_or(&f.subject).to_owned(),
            super::seen::seen_phrase(f, &[]),
        ];
        lines.extend(from);
        for more in &lines {
            headline.push('\n');
            headline.push_str(&wrap(more, width - 4, "  ", "  ").join("\n"));
        }
        let gutter = gutter(f);
        let room = width.saturating_sub(gutter);
        let mut text = String::new();
        let mut lines = Vec::new();
        let mut labels = Vec::new();
        type Lines = Vec<(usize, usize, String, u32, usize)>;
        let related = |relation: Relation,
                       text: &mut String,
                       lines: &mut Lines,
                       labels: &mut Vec<LabeledSpan>| {
            for r in f.related.iter().filter(|r| r.relation == relation) {
                let note = format!("{relation}: {}", r.note);
                let (shown, column, label, note) = cut(&r.text, 0, 0..r.text.len(), &note, room);
                let start = text.len();
                text.push_str(&shown);
                let name = place(&r.source, r.line, column, gutter, width);
                lines.push((start, shown.len(), name, r.line, column));
                labels.push(LabeledSpan::new_with_span(
                    Some(note),
                    SourceSpan::new((start + label.start).into(), label.len()),
                ));
                text.push('\n');
            }
        };
        related(Relation::Cause, &mut text, &mut lines, &mut labels);
        for (i, e) in f.evidence.iter().enumerate() {
            let (range, note) = e.label.clone().unwrap_or((0..e.text.len(), None));
            let range = clamp(&e.text, range);
            let (shown, column, range, shown_note) = cut(
                &e.text,
                e.column as usize,
                range,
                note.as_deref().unwrap_or(""),
                room,
            );
            let note = note.map(|_| shown_note);
            let start = text.len();
            text.push_str(&shown);
            let name = place(&e.source, e.line, column + range.start, gutter, width);
            lines.push((start, shown.len(), name, e.line, column));
            let span = SourceSpan::new((start + range.start).into(), range.len());
            labels.push(if i == 0 {
                LabeledSpan::new_primary_with_span(note, span)
            } else {
                LabeledSpan::new_with_span(note, span)
            });
            text.push('\n');
        }
        related(Relation::Effect, &mut text, &mut lines, &mut labels);
        // miette draws `  help: ` before the first line and 8 spaces before the others.
        let room = width - 8;
        let mut help = wrap(&format!("who: {}", f.channel), room, "", "     ").join("\n");
        for (i, s) in f.remediation_steps.iter().enumerate() {
            let mark = if s.destructive { "DESTRUCTIVE: " } else { "" };
            let n = format!("{}. ", i + 1);
            let step = format!("{n}{mark}{}", s.step);
            for l in wrap(&step, room, "", &" ".repeat(n.len())) {
                help.push('\n');
                help.push_str(&l);
            }
            if let Some(c) = &s.command {
                // One command per line, never broken but with its shell's
                // continuation: what is pasted runs whole.
                for l in super::command::layout_all(c, room, "     ") {
                    help.push('\n');
                    help.push_str(&l);
                }
            }
        }
        help.push_str(&format!("\nmore: hsmdiag explain {}", f.code));
        FindingDiagnostic {
            code: format!("{}[{}] {}", f.severity, f.code, f.id),
            headline,
            severity: f.severity,
            help,
            source: EvidenceSource { text, lines },
            labels,
        }
    }
}

/// The columns miette draws before an evidence line: its widest line
/// number, then ` │ ` and a space before it.
fn gutter(f: &Finding) -> usize {
    let widest = f
        .evidence
        .iter()
        .map(|e| e.line)
        .chain(f.related.iter().map(|r| r.line))
        .max()
        .unwrap_or(1);
    widest.to_string().len() + 4
}

/// An input's name as miette shows it over an evidence line
/// (`╭─[name:line:column]`), cut in front to fit the width.
fn place(name: &str, line: u32, column: usize, gutter: usize, width: usize) -> String {
    let fixed = gutter + 2 + 1 + line.to_string().len() + 1 + (column + 1).to_string().len() + 1;
    cut_front(name, width.saturating_sub(fixed).max(12))
}

/// An evidence line as shown in `room` columns: the text (cut to a window
/// around its label, `…` where text is left out), the column it starts at in
/// the log, the label's range in it, and its note (wrapped onto more lines
/// when it would not fit after the label's middle).
fn cut(
    line: &str,
    column: usize,
    label: std::ops::Range<usize>,
    note: &str,
    room: usize,
) -> (String, usize, std::ops::Range<usize>, String) {
    // A note takes at most half the room; a longer one is wrapped.
    let tail = if note.is_empty() {
        0
    } else {
        (columns(note) + 4).min(room / 2)
    };
    // miette draws a tab as several spaces: one space keeps every offset.
    let tabless;
    let line = if line.contains('\t') {
        tabless = line.replace('\t', " ");
        tabless.as_str()
    } else {
        line
    };
    let (shown, column, range) = match window(line, label.clone(), tail, room) {
        None => (line.to_owned(), column, label),
        Some((keep, lead, trail)) => {
            let mut shown = String::with_capacity(keep.len() + 8);
            if lead {
                shown.push(CUT);
            }
            let base = shown.len();
            shown.push_str(&line[keep.clone()]);
            if trail {
                shown.push(CUT);
            }
            let start = label.start.clamp(keep.start, keep.end) - keep.start + base;
            let end = label.end.clamp(keep.start, keep.end) - keep.start + base;
            // The snippet's column: where the shown text would start in the
            // log (the marker stands in for the character before the window).
            let skipped = line[..keep.start].chars().count();
            let column = column + skipped - usize::from(lead).min(skipped);
            (shown, column, start..end.max(start))
        }
    };
    let mid = columns(&shown[..range.start]) + columns(&shown[range.clone()]) / 2;
    let fits = room.saturating_sub(mid + 4).max(20);
    let note = if note.is_empty() || columns(note) <= fits {
        note.to_owned()
    } else {
        wrap(note, fits, "", "").join("\n")
    };
    (shown, column, range, note)
}

fn clamp(text: &str, r: std::ops::Range<usize>) -> std::ops::Range<usize> {
    let mut s = r.start.min(text.len());
    let mut e = r.end.min(text.len()).max(s);
    while !text.is_char_boundary(s) {
        s -= 1;
    }
    while !text.is_char_boundary(e) {
        e += 1;
    }
    s..e
}

impl fmt::Display for FindingDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.headline)
    }
}

impl std::error::Error for FindingDiagnostic {}

impl Diagnostic for FindingDiagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Critical | Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Info => miette::Severity::Advice,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.help))
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
}
