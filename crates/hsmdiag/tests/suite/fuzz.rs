//! What the fuzz targets (fuzz/) check, on stable Rust, in every `cargo test`:
//! the regression corpus (every input a fuzzer ever broke something with) is
//! replayed, random and mutated inputs are tried, and valid logs mixed with
//! junk keep every finding they had.

use std::collections::BTreeSet;
use std::path::Path;

use hsmdiag::fuzzing;
use proptest::prelude::*;

/// Every file under tests/fuzz_regressions/<target>/ through its target.
#[test]
fn regression_corpus_is_replayed() {
    let root = Path::new(root!()).join("crates/hsmdiag/tests/fuzz_regressions");
    let mut replayed = 0;
    for (target, check) in [
        ("header", fuzzing::header as fn(&[u8])),
        ("lines", fuzzing::lines),
        ("analysis", fuzzing::analysis),
        ("rules", fuzzing::rules),
        ("grammar", fuzzing::grammar),
    ] {
        let Ok(dir) = std::fs::read_dir(root.join(target)) else {
            continue;
        };
        for entry in dir {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            let result = std::panic::catch_unwind(|| check(&data));
            assert!(result.is_ok(), "{target}: {}", path.display());
            replayed += 1;
        }
    }
    assert!(replayed > 0, "the corpus is empty");
}

/// Lines of real samples, to mutate.
fn sample_lines() -> Vec<String> {
    let mut out = Vec::new();
    for dir in [
        "samples/ntls",
        "samples/luna",
        "samples/azure",
        "samples/incident",
    ] {
        let dir = Path::new(root!()).join(dir);
        for entry in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap_or_default();
            out.extend(text.lines().map(str::to_owned));
        }
    }
    out
}

fn mutated_log() -> impl Strategy<Value = Vec<u8>> {
    let lines = sample_lines();
    let n = lines.len();
    prop::collection::vec(
        (
            0..n,
            prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        ),
        1..40,
    )
    .prop_map(move |picks| {
        let mut out = Vec::new();
        for (i, edits) in picks {
            let mut line = lines[i].clone().into_bytes();
            for (at, byte) in edits {
                if line.is_empty() {
                    line.push(byte);
                } else {
                    // Overwrite, cut or insert, by the byte's low bits.
                    let at = at.index(line.len());
                    match byte % 3 {
                        0 => line[at] = byte,
                        1 => line.truncate(at),
                        _ => line.insert(at, byte),
                    }
                }
            }
            out.extend_from_slice(&line);
            out.push(if i % 7 == 0 { b'\r' } else { b'\n' });
        }
        out
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_bytes_through_every_target(data in prop::collection::vec(any::<u8>(), 0..2048)) {
        fuzzing::header(&data);
        fuzzing::lines(&data);
        fuzzing::analysis(&data);
        fuzzing::rules(&data);
        fuzzing::grammar(&data);
    }

    #[test]
    fn mutated_real_lines_through_the_parsers(data in mutated_log()) {
        fuzzing::header(&data);
        fuzzing::lines(&data);
        fuzzing::analysis(&data);
    }
}

/// Junk an operator's paste may hold between log lines: text no catalogue
/// knows, bytes that are not UTF-8, empty lines.
fn junk_line() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        "[a-z0-9 .:=_-]{0,60}".prop_map(String::into_bytes),
        prop::collection::vec(0x80u8..=0xFF, 1..20),
        Just(Vec::new()),
    ]
}

fn findings(analyzer: &hsmdiag::Analyzer, text: &str) -> (BTreeSet<(String, String)>, u64) {
    let r = analyzer.analyze_str("mixed.log", text);
    let s = &r.summary;
    if let (Some(rec), Some(unrec)) = (s.recognized_lines, s.unrecognized_lines) {
        assert_eq!(s.lines, rec + unrec + s.blank_lines);
    }
    let set = r
        .findings
        .iter()
        .map(|f| (f.id.clone(), f.subject.clone()))
        .collect();
    (set, s.lines)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Valid appliance logs with junk lines anywhere between theirs keep
    /// every finding, and the summary counts the junk lines too.
    #[test]
    fn junk_between_lines_loses_no_finding(
        file in prop::sample::select(vec![
            "samples/ntls/unknown-ca-appliance.log",
            "samples/ntls/article-unknown-ca.log",
            "samples/ntls/cert-expired-client-alert.log",
            "samples/incident/hsm1-lunalogs.log",
            "samples/incident/hsm2-lunalogs.log",
        ]),
        junk in prop::collection::vec((any::<prop::sample::Index>(), junk_line()), 1..30),
    ) {
        let analyzer = crate::analyzer_2026();
        let path = Path::new(root!()).join(file);
        let clean = std::fs::read_to_string(path).unwrap();
        let (want, clean_lines) = findings(analyzer, &clean);
        let mut lines: Vec<Vec<u8>> = clean.lines().map(|l| l.as_bytes().to_vec()).collect();
        for (at, j) in &junk {
            let at = at.index(lines.len() + 1);
            lines.insert(at, j.clone());
        }
        let mut mixed = String::from_utf8_lossy(&lines.join(&b'\n')).into_owned();
        mixed.push('\n');
        let (got, mixed_lines) = findings(analyzer, &mixed);
        prop_assert!(want.is_subset(&got), "lost {:?}", want.difference(&got).collect::<Vec<_>>());
        prop_assert_eq!(mixed_lines, clean_lines + junk.len() as u64);
    }
}

/// A line that closes a cut document and is then recognised for the error
/// pairs in it counts once, beside the document's lines (the count was set,
/// not added to, and the document's line was lost).
#[test]
fn a_line_closing_a_cut_document_is_counted_beside_it() {
    hsmdiag::fuzzing::lines(
        b"ERROR: {\"\n      \"statusMessage\": \"{\\\"error\\\":{\\\"code\\\":\\\"ResourceGroupDeletionBlocked\\\"}}\"\n",
    );
}
