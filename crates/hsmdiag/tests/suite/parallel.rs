//! Lines are read and typed ahead in batches on the thread pool while the
//! batch before goes through the parser and the rules in order. The report must
//! not depend on it: every batch size gives exactly what one thread reading
//! line by line gives. And the report's lean typing (no fields for kinds no
//! rule reads) must find exactly what full typing (the timeline's) finds.

use std::path::PathBuf;

use hsmdiag::{Analyzer, AnalyzerBuilder, Input};
use proptest::prelude::*;

fn inputs(dir: &str) -> Vec<Input> {
    let root = PathBuf::from(root!()).join(dir);
    let (inputs, errors) = hsmdiag::expand(&[root]);
    assert!(errors.is_empty());
    inputs
}

/// All samples, each kind of input together: appliance syslog, Luna shells and
/// client tools, Azure tool output (multi-line JSON crossing batch ends), and
/// the multi-source incident (clock skew, related evidence).
fn corpus() -> Vec<Vec<Input>> {
    let mut sets: Vec<Vec<Input>> = ["samples/ntls", "samples/luna", "samples/azure"]
        .iter()
        .flat_map(|d| inputs(d).into_iter().map(|i| vec![i]))
        .collect();
    sets.push(inputs("samples/incident"));
    sets
}

fn analyzer(batch: usize) -> Analyzer {
    AnalyzerBuilder::new()
        .year(Some(2026))
        .batch_lines(batch)
        .build()
        .unwrap()
}

fn report(analyzer: &Analyzer, inputs: &[Input]) -> String {
    let (report, errors) = analyzer.analyze(inputs);
    assert!(errors.is_empty());
    serde_json::to_string_pretty(&report).unwrap()
}

#[test]
fn every_batch_size_gives_the_single_threaded_report() {
    let corpus = corpus();
    assert!(corpus.len() > 80, "{} inputs", corpus.len());
    let single = analyzer(0);
    let batched: Vec<_> = [1, 2, 3, 7, 64, hsmdiag::DEFAULT_BATCH_LINES]
        .into_iter()
        .map(|b| (b, analyzer(b)))
        .collect();
    for set in &corpus {
        let want = report(&single, set);
        for (batch, a) in &batched {
            assert_eq!(
                report(a, set),
                want,
                "{:?} in batches of {batch}",
                set[0].name
            );
        }
    }
}

static INCIDENT: std::sync::OnceLock<String> = std::sync::OnceLock::new();

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// The incident's five inputs at once, in batches of any size.
    #[test]
    fn any_batch_size_on_the_incident(batch in 1usize..400) {
        let set = inputs("samples/incident");
        let want = INCIDENT.get_or_init(|| report(&analyzer(0), &set));
        prop_assert_eq!(&report(&analyzer(batch), &set), want);
    }
}

#[test]
fn lean_typing_finds_what_full_typing_finds() {
    let analyzer = crate::analyzer_2026();
    for set in corpus() {
        let (lean, _) = analyzer.analyze(&set);
        // The timeline's path types every field of every event.
        let (full, _, _) = analyzer.analyze_with_events(&set);
        assert_eq!(
            serde_json::to_string_pretty(&lean).unwrap(),
            serde_json::to_string_pretty(&full).unwrap(),
            "{:?}",
            set[0].name
        );
    }
}
