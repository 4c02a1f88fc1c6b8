//! The real-world corpus: public texts the project did not write
//! (`samples/real/`), each labelled in `samples/real/cases.tsv` with the rule
//! ids a perfect diagnosis reports at warning or worse, before hsmdiag was run
//! on it. This test scores the whole corpus through the same path as the
//! command line and prints recall and false alarms, per wrapper too.
//!
//! Recall counts expected ids found among the findings at warning or worse. A
//! false alarm is a warning-or-worse finding whose id was not expected. A
//! failure case that gives no finding at all is silence, counted apart.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use hsmdiag::{AnalyzerBuilder, Input, Severity};

struct Case {
    file: String,
    expected: BTreeSet<String>,
    wrappers: Vec<String>,
    healthy: bool,
}

fn cases(dir: &Path) -> Vec<Case> {
    let text = std::fs::read_to_string(dir.join("cases.tsv")).expect("samples/real/cases.tsv");
    let mut out = Vec::new();
    for (no, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') || line.starts_with("file\t") {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        assert!(
            cols.len() >= 4,
            "cases.tsv:{}: want file, expected, wrapper, kind",
            no + 1
        );
        let expected: BTreeSet<String> = cols[1]
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty() && *s != "-")
            .map(str::to_owned)
            .collect();
        let healthy = match cols[3].trim() {
            "healthy" => true,
            "failure" => false,
            other => panic!("cases.tsv:{}: kind `{other}`", no + 1),
        };
        assert_eq!(
            healthy,
            expected.is_empty(),
            "cases.tsv:{}: a healthy case expects nothing, a failure something",
            no + 1
        );
        out.push(Case {
            file: cols[0].trim().to_owned(),
            expected,
            wrappers: cols[2]
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
            healthy,
        });
    }
    out
}

#[derive(Default)]
struct Score {
    cases: usize,
    expected: usize,
    found: usize,
    false_alarms: usize,
    silent: usize,
}

#[test]
fn real_world_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/real");
    let cases = cases(&dir);
    assert!(!cases.is_empty(), "the corpus is empty");
    let analyzer = AnalyzerBuilder::new().build().expect("built-in files load");

    let mut total = Score::default();
    let mut healthy = Score::default();
    let mut by_wrapper: BTreeMap<String, Score> = BTreeMap::new();
    let mut misses = Vec::new();
    let mut alarms = Vec::new();
    let mut listed = BTreeSet::new();
    for case in &cases {
        let path = dir.join(&case.file);
        assert!(
            path.is_file(),
            "cases.tsv names {} which is missing",
            case.file
        );
        listed.insert(case.file.clone());
        let (report, errors) = analyzer.analyze(&[Input::file(&path)]);
        assert!(errors.is_empty(), "{}: {errors:?}", case.file);
        let got: BTreeSet<String> = report
            .findings
            .iter()
            .filter(|f| f.severity >= Severity::Warning)
            .map(|f| f.id.clone())
            .collect();
        let found = case.expected.intersection(&got).count();
        let extra: Vec<&String> = got.difference(&case.expected).collect();
        let mut score = Score {
            cases: 1,
            expected: case.expected.len(),
            found,
            false_alarms: extra.len(),
            silent: usize::from(!case.healthy && report.findings.is_empty()),
        };
        if found < case.expected.len() {
            misses.push(format!(
                "{}: expected {:?}, got {:?}",
                case.file, case.expected, got
            ));
        }
        if !extra.is_empty() {
            alarms.push(format!("{}: not expected {extra:?}", case.file));
        }
        for w in &case.wrappers {
            let s = by_wrapper.entry(w.clone()).or_default();
            s.cases += 1;
            s.expected += score.expected;
            s.found += score.found;
            s.false_alarms += score.false_alarms;
            s.silent += score.silent;
        }
        if case.healthy {
            healthy.cases += 1;
            healthy.false_alarms += score.false_alarms;
        }
        total.cases += 1;
        total.expected += score.expected;
        total.found += score.found;
        total.false_alarms += std::mem::take(&mut score.false_alarms);
        total.silent += score.silent;
    }

    let pct = |a: usize, b: usize| {
        if b == 0 {
            100.0
        } else {
            100.0 * a as f64 / b as f64
        }
    };
    println!(
        "real corpus: {} cases ({} healthy), recall {}/{} = {:.1} %, false alarms {} ({} on healthy cases), silent failures {}",
        total.cases,
        healthy.cases,
        total.found,
        total.expected,
        pct(total.found, total.expected),
        total.false_alarms,
        healthy.false_alarms,
        total.silent
    );
    println!(
        "{:<18} {:>5} {:>9} {:>6} {:>6}",
        "wrapper", "cases", "recall", "alarms", "silent"
    );
    for (w, s) in &by_wrapper {
        println!(
            "{w:<18} {:>5} {:>5}/{:<3} {:>6} {:>6}",
            s.cases, s.found, s.expected, s.false_alarms, s.silent
        );
    }
    for m in &misses {
        println!("miss: {m}");
    }
    for a in &alarms {
        println!("false alarm: {a}");
    }

    // Every file of the corpus is labelled.
    for sub in std::fs::read_dir(&dir).unwrap() {
        let sub = sub.unwrap().path();
        if !sub.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&sub).unwrap() {
            let f = f.unwrap().path();
            let rel = f.strip_prefix(&dir).unwrap().display().to_string();
            assert!(listed.contains(&rel), "{rel} is not in cases.tsv");
        }
    }
    assert!(
        healthy.cases * 3 >= total.cases,
        "at least a third of the corpus must be healthy traps"
    );
    // The bar of the real-world recognition work: 95 % recall, no
    // warning-or-worse finding on a healthy case, no failure met with silence.
    assert_eq!(healthy.false_alarms, 0, "false alarms on healthy cases");
    assert_eq!(total.silent, 0, "failures met with silence");
    assert!(
        pct(total.found, total.expected) >= 95.0,
        "recall {:.1} % is under 95 %",
        pct(total.found, total.expected)
    );
}
