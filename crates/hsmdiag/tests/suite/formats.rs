//! The report formats people read and tools load: Markdown and text are
//! snapshot-tested on the multi-source incident; JSON lines hold one finding per
//! line and a summary line.

use std::path::PathBuf;

use hsmdiag::{TextOptions, expand, write_jsonl, write_markdown, write_text};

fn incident() -> hsmdiag::Report {
    let dir = PathBuf::from(concat!(root!(), "/samples/incident"));
    let (inputs, _) = expand(&[dir]);
    // Names relative to the project, whatever the working directory.
    let inputs: Vec<_> = inputs
        .into_iter()
        .map(|mut i| {
            let n = i.name.find("samples/").map(|p| i.name[p..].to_owned());
            if let Some(n) = n {
                i.name = n;
            }
            i
        })
        .collect();
    crate::analyzer().analyze(&inputs).0
}

#[test]
fn markdown_report() {
    let mut out = Vec::new();
    write_markdown(&incident(), &mut out).unwrap();
    let md = String::from_utf8(out).unwrap();
    assert!(
        md.contains("- [ ] 2. **DESTRUCTIVE:**"),
        "destructive steps are marked"
    );
    assert!(md.contains("problem type \"Issues configuring the Azure setup\""));
    insta::assert_snapshot!(md);
}

#[test]
fn text_report() {
    let mut out = Vec::new();
    write_text(&incident(), &mut out, TextOptions::new(false, 120)).unwrap();
    insta::assert_snapshot!(String::from_utf8(out).unwrap());
}

#[test]
fn json_lines() {
    let report = incident();
    let mut out = Vec::new();
    write_jsonl(&report, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), report.findings.len() + 1);
    for (l, f) in lines.iter().zip(&report.findings) {
        assert_eq!(l["id"], f.id.as_str());
        assert_eq!(l["code"], f.code.as_str());
    }
    assert_eq!(lines.last().unwrap()["summary"]["inputs"], 5);
}

/// The report reads back from its own JSON, field for field (what `diff`
/// relies on), for the findings of every bundled sample.
#[test]
fn the_json_report_reads_back_as_a_report() {
    let mut n = 0;
    for dir in [
        "samples/azure",
        "samples/incident",
        "samples/luna",
        "samples/ntls",
    ] {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let text = std::fs::read_to_string(e.path()).unwrap();
            let report = crate::analyzer().analyze_str(&e.path().display().to_string(), &text);
            let json = serde_json::to_string(&report).unwrap();
            let back: hsmdiag::Report = serde_json::from_str(&json)
                .unwrap_or_else(|err| panic!("{}: {err}", e.path().display()));
            assert_eq!(
                serde_json::to_string(&back).unwrap(),
                json,
                "{}",
                e.path().display()
            );
            n += usize::from(!report.findings.is_empty());
        }
    }
    assert!(n > 50, "{n} samples with findings");
}

/// The one output seam: each layout gives what its writer gives, says who
/// reads it, and a layout for tools escapes what a terminal must not see.
#[test]
fn every_layout_goes_through_the_render_seam() {
    use hsmdiag::report::{Audience, Render, View, render};
    let report = incident();
    let analyzer = crate::analyzer();
    let view = View::new(&report, analyzer.rules(), &[]);
    let by_writer = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut b = Vec::new();
        f(&mut b);
        b
    };
    let md = by_writer(&|b| write_markdown(&report, b).unwrap());
    assert_eq!(render::Markdown.to_bytes(&view).unwrap(), md);
    assert_eq!(render::Markdown.audience(), Audience::People);
    let jsonl = by_writer(&|b| write_jsonl(&report, b).unwrap());
    assert_eq!(render::Jsonl.to_bytes(&view).unwrap(), jsonl);
    assert_eq!(render::Sarif.audience(), Audience::Tools);

    // A finding's evidence file: its code line, then each proving line with
    // where it is.
    let f = &report.findings[0];
    let ev = String::from_utf8(render::Evidence(0).to_bytes(&view).unwrap()).unwrap();
    assert!(ev.starts_with(&format!("{} {} — ", f.code, f.id)), "{ev}");
    let e = &f.evidence[0];
    assert!(
        ev.contains(&format!("\n{}:{}\n{}\n", e.source, e.line, e.text)),
        "{ev}"
    );
    assert!(
        render::Evidence(report.findings.len())
            .to_bytes(&view)
            .unwrap()
            .is_empty()
    );

    // A right-to-left override read from a log reaches JSON as an escape.
    let mut report = report.clone();
    report.findings[0].evidence[0].text.push('\u{202e}');
    let view = View::new(&report, analyzer.rules(), &[]);
    let json = String::from_utf8(render::Json.to_bytes(&view).unwrap()).unwrap();
    assert!(!json.contains('\u{202e}'));
    assert!(json.contains("\\u202e"));
}
