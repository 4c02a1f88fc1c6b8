//! Every file under samples/ is a test input: its events and its findings are
//! snapshot-tested through the real parse + analyse path. A new sample is
//! covered automatically; review its snapshots like code.

use hsmdiag::Report;

fn analyzer() -> &'static hsmdiag::Analyzer {
    // Year-less samples are dated by --year, never by the checkout's file times.
    crate::analyzer_2026()
}

fn name(path: &std::path::Path) -> String {
    let base = std::env::current_dir().expect("the workspace root");
    path.strip_prefix(&base)
        .unwrap_or(path)
        .display()
        .to_string()
}

#[test]
fn sample_events() {
    let analyzer = analyzer();
    insta::glob!(
        "../../../../samples",
        "{azure,incident,luna,ntls}/*",
        |path| {
            let text = std::fs::read_to_string(path).unwrap();
            let mut out = String::new();
            for ev in analyzer.parse_str(&text) {
                out.push_str(&hsmdiag::report::event_line(&ev));
                out.push('\n');
            }
            insta::assert_snapshot!(out);
        }
    );
}

#[test]
fn sample_findings() {
    let analyzer = analyzer();
    insta::glob!(
        "../../../../samples",
        "{azure,incident,luna,ntls}/*",
        |path| {
            let text = std::fs::read_to_string(path).unwrap();
            let report: Report = analyzer.analyze_str(&name(path), &text);
            // Typing every line finds the same; its summary accounts for
            // every line.
            let full = crate::analyzer_coverage().analyze_str(&name(path), &text);
            assert_eq!(full.findings, report.findings, "{}", name(path));
            assert_eq!(full.clock_skew, report.clock_skew);
            let s = &full.summary;
            assert_eq!(
                Some(s.lines),
                s.recognized_lines
                    .zip(s.unrecognized_lines)
                    .map(|(r, u)| r + u + s.blank_lines)
            );
            assert_eq!(
                (report.summary.lines, report.summary.blank_lines),
                (s.lines, s.blank_lines)
            );
            assert_eq!(s.lines as usize, text.lines().count());
            insta::assert_json_snapshot!(report);
        }
    );
}
