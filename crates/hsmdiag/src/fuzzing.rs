//! Invariant checks over arbitrary bytes, shared by the cargo-fuzz targets
//! (`fuzz/`) and the tests that replay what they found (`tests/fuzz.rs`).
//! Each function panics when an invariant breaks; returning means the input
//! was handled.
//!
//! The invariants: no panic anywhere; every line is accounted for (recognised,
//! unrecognised or blank); every event's span lies inside the input, its
//! message start and field ranges inside its text and on character
//! boundaries; a report's evidence points at lines that exist.

use std::io::Read;
use std::sync::LazyLock;

use crate::event::{Event, SourceId};
use crate::parse::grammar::Grammar;
use crate::parse::grammar::Typing;
use crate::parse::{LineCounts, LineParser, ParseCtx};
use crate::pipeline::{Pipeline, Sink};
use crate::source::{Lines, decode_stream};
use crate::{Analyzer, AnalyzerBuilder, KnowledgeBase};

static ANALYZER: LazyLock<Analyzer> = LazyLock::new(|| {
    AnalyzerBuilder::new()
        .year(Some(2026))
        .batch_lines(7)
        .build()
        .expect("built-in files load")
});

/// The same, measuring coverage (every line typed, no prefilter).
static ANALYZER_COVERAGE: LazyLock<Analyzer> = LazyLock::new(|| {
    AnalyzerBuilder::new()
        .year(Some(2026))
        .batch_lines(7)
        .coverage(true)
        .build()
        .expect("built-in files load")
});

/// Reads `data` as an input file would be read (decompression, UTF-16,
/// framing, typing, multi-line JSON) and checks every line and event.
pub fn lines(data: &[u8]) {
    let grammar = ANALYZER.grammar();
    let raw: Box<dyn Read + Send> = Box::new(std::io::Cursor::new(data.to_vec()));
    let Ok(stream) = decode_stream(raw) else {
        return;
    };
    // Offsets are exact in the stream the lines are read from.
    let plain = crate::parser::Compression::sniff(data) == crate::parser::Compression::None
        && !data.starts_with(&[0xFF, 0xFE])
        && !data.starts_with(&[0xFE, 0xFF]);
    let valid = plain && std::str::from_utf8(data).is_ok();
    let mut reader = Lines::new(stream);
    let mut parser = LineParser::new(grammar, ParseCtx::new(SourceId(0)));
    let mut check = Check {
        data,
        plain,
        valid,
        read: 0,
        counts: LineCounts::default(),
    };
    // Through the one line loop, in small batches on this thread; a read
    // error ends the input like its end does.
    let pipeline = Pipeline {
        grammar,
        prefilter: None,
        typing: Typing::Full,
        batch_lines: 7,
        parallel: false,
    };
    let _ = pipeline.run(&mut reader, &mut parser, &mut check, &mut |_| true);
    assert_eq!(
        check.counts.lines(),
        check.read,
        "every line is accounted for once"
    );
}

/// The sink of [`lines`]: checks each line as it is taken and each event as
/// the parser gives it.
struct Check<'d> {
    data: &'d [u8],
    /// The lines are read from `data` as it is (offsets are exact).
    plain: bool,
    /// `data` is that and valid UTF-8 (spans point into it).
    valid: bool,
    read: u64,
    counts: LineCounts,
}

impl Sink for Check<'_> {
    fn seen(&mut self, _text: &str, no: u32, offset: u64) {
        self.read += 1;
        assert_eq!(u64::from(no), self.read, "line numbers run on");
        if self.plain {
            assert!(
                offset <= self.data.len() as u64,
                "line offset inside the input"
            );
        }
    }

    fn events(&mut self, counts: LineCounts, events: &mut Vec<Event>) {
        self.counts.add(counts);
        for ev in events.iter() {
            check_event(ev, self.valid.then_some(self.data));
        }
    }
}

/// Parses `data` (decoded lossily) as one line's syslog header and splits it
/// into its messages: every range inside the line, on character boundaries,
/// in order.
pub fn header(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for line in text.split(['\n', '\r']) {
        let h = crate::parser::parse_header(line);
        assert!(
            line.is_char_boundary(h.msg_start),
            "message start: {line:?}"
        );
        let mut at = 0;
        for r in crate::parser::segments(line, &h) {
            assert!(
                r.start >= at && r.start <= r.end && r.end <= line.len(),
                "{r:?} in {line:?}"
            );
            assert!(
                line.is_char_boundary(r.start) && line.is_char_boundary(r.end),
                "{r:?} in {line:?}"
            );
            let seg = &line[r.clone()];
            let sh = crate::parser::parse_header(seg);
            assert!(
                seg.is_char_boundary(sh.msg_start),
                "segment message start: {seg:?}"
            );
            at = r.end;
        }
    }
}

fn check_event(ev: &Event, input: Option<&[u8]>) {
    assert!(ev.span.start <= ev.span.end, "span runs forward: {ev:?}");
    if let Some(data) = input {
        assert!(
            ev.span.end <= data.len() as u64,
            "span inside the input: {:?} of {}",
            ev.span,
            data.len()
        );
    }
    assert!(
        ev.text.is_char_boundary(ev.message_start),
        "message start on a character boundary: {ev:?}"
    );
    for f in &ev.fields {
        assert!(
            f.range.start <= f.range.end && f.range.end <= ev.text.len(),
            "field `{}` inside the text: {ev:?}",
            f.name
        );
        assert!(
            ev.text.is_char_boundary(f.range.start) && ev.text.is_char_boundary(f.range.end),
            "field `{}` on character boundaries: {ev:?}",
            f.name
        );
    }
}

/// Analyses `data` end to end (typing ahead in small batches, rules, report)
/// and checks the summary and the evidence.
pub fn analysis(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let report = ANALYZER.analyze_str("fuzz.log", &text);
    // Coverage measured: every line typed, and accounted for.
    let full = ANALYZER_COVERAGE.analyze_str("fuzz.log", &text);
    let s = &full.summary;
    assert_eq!(
        Some(s.lines),
        s.recognized_lines
            .zip(s.unrecognized_lines)
            .map(|(r, u)| r + u + s.blank_lines),
        "the summary accounts for every line: {s:?}"
    );
    // The prefilter changes how many lines are typed, never what is found.
    assert_eq!(
        report.findings, full.findings,
        "the prefiltered analysis finds what the full one does"
    );
    assert_eq!(
        (report.summary.lines, report.summary.blank_lines),
        (s.lines, s.blank_lines),
        "both count the same lines"
    );
    for f in &report.findings {
        assert!(f.count >= 1, "a finding happened at least once: {f:?}");
        if let (Some(a), Some(b)) = (&f.first_seen, &f.last_seen) {
            assert!(a <= b, "first seen before last seen: {f:?}");
        }
        for e in &f.evidence {
            assert!(
                e.line >= 1 && u64::from(e.line) <= s.lines,
                "evidence on a line that exists: {e:?} of {}",
                s.lines
            );
        }
    }
}

/// Loads `data` as a rule file after the built-in ones: an error or a rule,
/// never a panic.
pub fn rules(data: &[u8]) {
    let grammar = ANALYZER.grammar();
    let mut kb: KnowledgeBase = ANALYZER.knowledge_base().clone();
    let _ = kb.add("fuzz.toml", &String::from_utf8_lossy(data), grammar);
}

/// Loads `data` as a grammar file after the built-in macros, and types a few
/// lines with it: an error or a grammar, never a panic.
pub fn grammar(data: &[u8]) {
    let mut grammar = Grammar::default();
    for (name, text) in crate::parse::grammar::BUILTIN_FORMATS {
        if *name == "patterns.toml" {
            grammar
                .add_macros(name, text)
                .expect("built-in macros load");
        }
    }
    if grammar
        .add_file("fuzz.toml", &String::from_utf8_lossy(data))
        .is_ok()
    {
        for cat in grammar.catalogues() {
            let _ = cat.check_samples();
        }
        let _ = grammar.type_message(
            Some("NTLS"),
            "Incoming connection request... : 10.0.0.1/1792",
            0,
        );
        let _ = grammar.type_message(None, "ERROR: (Conflict) fuzz", 0);
    }
}
