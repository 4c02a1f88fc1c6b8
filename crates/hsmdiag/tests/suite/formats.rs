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
