//! The one adapter from a [`Finding`] to a miette diagnostic: code, severity, the
//! evidence lines with the failing part labelled, and the remediation as help.

use std::fmt;

use miette::{
    Diagnostic, LabeledSpan, MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents,
};

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
    /// Builds the diagnostic for a finding.
    pub fn new(f: &Finding) -> Self {
        let mut headline = f.title.clone();
        headline.push_str("\n  ");
        headline.push_str(f.message.as_deref().unwrap_or(&f.subject));
        headline.push_str("\n  ");
        headline.push_str(&seen(f));
        let mut text = String::new();
        let mut lines = Vec::new();
        let mut labels = Vec::new();
        type Lines = Vec<(usize, usize, String, u32, usize)>;
        let related = |relation: Relation,
                       text: &mut String,
                       lines: &mut Lines,
                       labels: &mut Vec<LabeledSpan>| {
            for r in f.related.iter().filter(|r| r.relation == relation) {
                let start = text.len();
                text.push_str(&r.text);
                lines.push((start, r.text.len(), r.source.clone(), r.line, 0));
                labels.push(LabeledSpan::new_with_span(
                    Some(format!("{relation}: {}", r.note)),
                    SourceSpan::new(start.into(), r.text.len()),
                ));
                text.push('\n');
            }
        };
        related(Relation::Cause, &mut text, &mut lines, &mut labels);
        for (i, e) in f.evidence.iter().enumerate() {
            let start = text.len();
            text.push_str(&e.text);
            lines.push((
                start,
                e.text.len(),
                e.source.clone(),
                e.line,
                e.column as usize,
            ));
            let (range, note) = e.label.clone().unwrap_or((0..e.text.len(), None));
            let range = clamp(&e.text, range);
            let span = SourceSpan::new((start + range.start).into(), range.len());
            labels.push(if i == 0 {
                LabeledSpan::new_primary_with_span(note, span)
            } else {
                LabeledSpan::new_with_span(note, span)
            });
            text.push('\n');
        }
        related(Relation::Effect, &mut text, &mut lines, &mut labels);
        let mut help = String::new();
        for (i, s) in f.remediation_steps.iter().enumerate() {
            if i > 0 {
                help.push('\n');
            }
            let mark = if s.destructive { "DESTRUCTIVE: " } else { "" };
            help.push_str(&format!("{}. {mark}{}", i + 1, s.step));
            if let Some(c) = &s.command {
                help.push_str(&format!("\n     $ {c}"));
            }
        }
        help.push_str(&format!("\nwho: {}", f.channel));
        help.push_str(&format!("\nmore: hsmdiag explain {}", f.code));
        FindingDiagnostic {
            code: format!("{} {}", f.code, f.id),
            headline,
            severity: f.severity,
            help,
            source: EvidenceSource { text, lines },
            labels,
        }
    }
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

fn seen(f: &Finding) -> String {
    let times = if f.count == 1 {
        "once".to_owned()
    } else {
        format!("{} times", f.count)
    };
    let fmt = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    match (f.first_seen, f.last_seen) {
        (Some(a), Some(b)) if a != b => format!("seen {times}, from {} to {}", fmt(a), fmt(b)),
        (Some(a), _) => format!("seen {times}, at {}", fmt(a)),
        _ => format!("seen {times} (the log has no times)"),
    }
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
