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
    let analyzer = crate::analyzer_coverage();
    let prefiltered = crate::analyzer_2026();
    for set in corpus() {
        let (lean, _) = analyzer.analyze(&set);
        // The prefilter only counts lines no rule can read: the same findings.
        let (quick, _) = prefiltered.analyze(&set);
        assert_eq!(quick.findings, lean.findings, "{:?}", set[0].name);
        assert_eq!(quick.clock_skew, lean.clock_skew, "{:?}", set[0].name);
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

/// A generated appliance log (benign traffic, rare incidents, a pasted ARM
/// error, prose hard-wrapped over lines, blank lines) gives the same findings
/// with the prefilter as with every line typed, in batches of any size.
#[test]
fn the_prefilter_finds_what_full_typing_finds_on_a_generated_log() {
    let mut log = String::new();
    let mut seed = 0x5EED_u64;
    let mut next = |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    for i in 0..20_000u64 {
        let (h, m, s) = (10 + i / 3600 % 12, i / 60 % 60, i % 60);
        let ts = format!("2026 Mar 01 {h:02}:{m:02}:{s:02}");
        let client = format!("10.3.{}.{}", 1 + next(3), 4 + next(60));
        match next(1000) {
            0..=2 => {
                for msg in [
                    "Error message from SSLAccept is : error:14094418:SSL routines:ssl3_read_bytes:tlsv1 alert unknown ca".to_owned(),
                    format!("info : 0xc0000711 : Fail to establish a secure channel with client : {client}/5000 : RC_SSL_FAILED_HANDSHAKE"),
                ] {
                    log.push_str(&format!("{ts} hsm1 local5 info NTLS [2490]: {msg}\n"));
                }
            }
            3 => log.push_str(&format!(
                "{ts} hsm1 local5 warn lunash [3301]: HSM Admin Login: incorrect password or PED key\n"
            )),
            4 => log.push_str("ERROR: {\"status\":\"Failed\",\"error\":{\"code\":\"DeploymentFailed\",\n  \"details\":[{\"code\":\"AnotherOperationInProgress\",\"message\":\"Another operation on this or dependent resource is in progress.\"}]}}\n"),
            5 => log.push_str("Caution: You\nhave only TWO HSM Admin logins attempts left.\n"),
            6 => log.push('\n'),
            7..=60 => log.push_str(&format!(
                "{ts} hsm2 local5 info lunash [3301]: info : 0 : Command: hsm show  : tenantadmin : {client}/4000\n"
            )),
            _ => log.push_str(&format!(
                "{ts} hsm2 local5 info NTLS [2490]: info : 0 : Incoming connection request... : {client}/4000\n"
            )),
        }
    }
    let full = crate::analyzer_coverage().analyze_str("generated.log", &log);
    assert!(full.findings.len() >= 3, "{:?}", full.findings);
    for batch in [0, 1, 5, 300, hsmdiag::DEFAULT_BATCH_LINES] {
        let quick = analyzer(batch).analyze_str("generated.log", &log);
        assert_eq!(quick.findings, full.findings, "batches of {batch}");
        assert_eq!(quick.summary.lines, full.summary.lines);
        assert_eq!(quick.summary.blank_lines, full.summary.blank_lines);
        assert_eq!(quick.summary.first_time, full.summary.first_time);
        assert_eq!(quick.summary.last_time, full.summary.last_time);
    }
}
