//! The one output seam: every layout of a report — text, short, JSON, JSON
//! Lines, Markdown, SARIF, HTML and a bundle's evidence files — is a
//! [`Render`] over one [`View`]. A caller prepares the report once (redacted,
//! made printable for the layouts people read), then picks layouts; each
//! says who reads it ([`Audience`]), so the preparing and the escaping that
//! follow are the seam's, not every caller's.

use std::io::Write;

use super::{RenderError, Report};
use crate::kb::Rule;
use crate::timeline::Entry;

/// What a layout shows: a report, the rules it was made with (SARIF lists
/// them), and the timeline's lines (the HTML page draws them).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct View<'a> {
    /// The report.
    pub report: &'a Report,
    /// The rules the report was made with.
    pub rules: &'a [Rule],
    /// The timeline's lines; empty when none were gathered.
    pub entries: &'a [Entry],
}

impl<'a> View<'a> {
    /// A view of `report`, made with `rules`, with the timeline's `entries`.
    pub fn new(report: &'a Report, rules: &'a [Rule], entries: &'a [Entry]) -> Self {
        View {
            report,
            rules,
            entries,
        }
    }
}

/// Who reads a layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Audience {
    /// People: the report's texts are made printable before layout
    /// ([`make_printable`](super::make_printable)).
    People,
    /// Tools: texts are kept as read; characters unsafe on a terminal are
    /// written as JSON escapes after layout ([`escape_unsafe`]).
    Tools,
}

/// One layout of a report.
pub trait Render {
    /// Who reads it.
    fn audience(&self) -> Audience;

    /// Lays the view out into `w`.
    ///
    /// # Errors
    /// [`RenderError`] when writing fails.
    fn render(&self, view: &View<'_>, w: &mut dyn Write) -> Result<(), RenderError>;

    /// Lays the view out in memory, escaped for its audience: what will be
    /// written, whole, so that a leak check can see it first.
    ///
    /// # Errors
    /// [`RenderError`] when a layout fails.
    fn to_bytes(&self, view: &View<'_>) -> Result<Vec<u8>, RenderError> {
        let mut buf = Vec::new();
        self.render(view, &mut buf)?;
        if self.audience() == Audience::Tools {
            escape_unsafe(&mut buf);
        }
        Ok(buf)
    }
}

/// The terminal's report (colour and width in its options).
#[cfg(feature = "text")]
#[derive(Debug, Clone, Copy)]
pub struct Text(pub super::TextOptions);

#[cfg(feature = "text")]
impl Render for Text {
    fn audience(&self) -> Audience {
        Audience::People
    }
    fn render(&self, view: &View<'_>, w: &mut dyn Write) -> Result<(), RenderError> {
        super::write_text(view.report, w, self.0)
    }
}

/// One line per finding.
#[cfg(feature = "text")]
#[derive(Debug, Clone, Copy)]
pub struct Short;

#[cfg(feature = "text")]
impl Render for Short {
    fn audience(&self) -> Audience {
        Audience::People
    }
    fn render(&self, view: &View<'_>, w: &mut dyn Write) -> Result<(), RenderError> {
        super::write_short(view.report, w)
    }
}

/// The JSON report (`docs/json-report.md`).
#[derive(Debug, Clone, Copy)]
pub struct Json;

impl Render for Json {
    fn audience(&self) -> Audience {
        Audience::Tools
    }
    fn render(&self, view: &View<'_>, w: &mut dyn Write) -> Result<(), RenderError> {
        super::write_json(view.report, w)
    }
}

/// JSON Lines: one finding per line, the summary last.
#[derive(Debug, Clone, Copy)]
pub struct Jsonl;

impl Render for Jsonl {
    fn audience(&self) -> Audience {
        Audience::Tools
    }
    fn render(&self, view: &View<'_>, w: &mut dyn Write) -> Result<(), RenderError> {
        super::write_jsonl(view.report, w)
    }
}

/// Markdown, for a ticket.
#[derive(Debug, Clone, Copy)]
pub struct Markdown;

impl Render for Markdown {
    fn audience(&self) -> Audience {
        Audience::People
    }
    fn render(&self, view: &View<'_>, w: &mut dyn Write) -> Result<(), RenderError> {
        super::write_markdown(view.report, w)
    }
}

/// SARIF 2.1.0, for code-scanning tools.
#[derive(Debug, Clone, Copy)]
pub struct Sarif;

impl Render for Sarif {
    fn audience(&self) -> Audience {
        Audience::Tools
    }
    fn render(&self, view: &View<'_>, w: &mut dyn Write) -> Result<(), RenderError> {
        super::write_sarif(view.report, view.rules, w)
    }
}

/// One self-contained HTML page with the timeline.
#[derive(Debug, Clone, Copy)]
pub struct Html;

impl Render for Html {
    fn audience(&self) -> Audience {
        Audience::People
    }
    fn render(&self, view: &View<'_>, w: &mut dyn Write) -> Result<(), RenderError> {
        super::write_html(view.report, view.entries, w)
    }
}

/// A bundle's evidence file of one finding (its index in the report): its
/// code, id and message, then each related and proving line with where it is.
#[derive(Debug, Clone, Copy)]
pub struct Evidence(pub usize);

impl Render for Evidence {
    fn audience(&self) -> Audience {
        Audience::People
    }
    fn render(&self, view: &View<'_>, w: &mut dyn Write) -> Result<(), RenderError> {
        let Some(f) = view.report.findings.get(self.0) else {
            return Ok(());
        };
        writeln!(
            w,
            "{} {} — {}",
            f.code,
            f.id,
            f.message.as_deref().unwrap_or(&f.title)
        )?;
        for r in &f.related {
            write!(
                w,
                "\n{}:{} ({}: {})\n{}\n",
                r.source, r.line, r.relation, r.note, r.text
            )?;
        }
        for e in &f.evidence {
            write!(w, "\n{}:{}\n{}\n", e.source, e.line, e.text)?;
        }
        Ok(())
    }
}

/// Writes the characters of JSON output that are unsafe on a terminal
/// (controls, bidirectional overrides; [`is_unsafe`](crate::parser::printable::is_unsafe))
/// as `\uXXXX` escapes: the document means the same, and printing it
/// cannot move the cursor or reorder text. Line breaks and tabs stay.
pub fn escape_unsafe(buf: &mut Vec<u8>) {
    use crate::parser::printable::is_unsafe;
    let Ok(text) = std::str::from_utf8(buf) else {
        return;
    };
    if !text.chars().any(is_unsafe) {
        return;
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_unsafe(c) && c != '\n' && c != '\t' {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    *buf = out.into_bytes();
}
