//! The order inputs are given in changes nothing: the same findings, with the
//! same severity, message, counts and evidence, whichever input comes first.

use std::path::Path;

use hsmdiag::{Input, Report};

fn gist(r: &Report) -> Vec<String> {
    r.findings
        .iter()
        .map(|f| {
            let ev: Vec<(String, u32)> = f
                .evidence
                .iter()
                .map(|e| (e.source.clone(), e.line))
                .collect();
            format!(
                "{} {:?} {} x{} {:?} {:?} {:?}",
                f.id, f.severity, f.subject, f.count, f.message, f.remediation, ev
            )
        })
        .collect()
}

fn inputs(dir: &str) -> Vec<Input> {
    let (inputs, errors) = hsmdiag::expand(&[Path::new(root!()).join(dir)]);
    assert!(errors.is_empty());
    inputs
}

#[test]
fn every_order_of_the_incident_gives_one_report() {
    let analyzer = crate::analyzer();
    let forward = inputs("samples/incident");
    assert!(forward.len() >= 5);
    let (base, _) = analyzer.analyze(&forward);
    let mut orders = vec![forward.iter().rev().cloned().collect::<Vec<_>>()];
    for k in 1..forward.len() {
        let mut o = forward.clone();
        o.rotate_left(k);
        orders.push(o);
    }
    for o in orders {
        let (r, _) = analyzer.analyze(&o);
        let names: Vec<&str> = o.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(gist(&base), gist(&r), "order {names:?}");
    }
}

#[test]
fn a_finding_seen_in_two_inputs_takes_the_worst_severity_either_way() {
    // Two Luna sessions of the same partition's Crypto Officer: nine failures
    // in one (a warning, one try left) and the tenth in the other (locked out).
    let analyzer = crate::analyzer();
    let a = Input::file(Path::new(root!()).join("samples/luna/lunacm-co-nine-failures.txt"));
    let b = Input::file(Path::new(root!()).join("samples/luna/lunacm-co-ten-failures.txt"));
    let (ab, _) = analyzer.analyze(&[a.clone(), b.clone()]);
    let (ba, _) = analyzer.analyze(&[b, a]);
    assert_eq!(gist(&ab), gist(&ba));
}

/// Each sample folder read as one multi-input analysis, forward and reversed:
/// the same report (grouping by cause and merging across inputs included).
#[test]
fn every_sample_folder_reads_the_same_in_reverse() {
    let analyzer = crate::analyzer();
    for dir in [
        "samples/ntls",
        "samples/luna",
        "samples/azure",
        "samples/incident",
    ] {
        let forward = inputs(dir);
        let backward: Vec<Input> = forward.iter().rev().cloned().collect();
        let (a, _) = analyzer.analyze(&forward);
        let (b, _) = analyzer.analyze(&backward);
        assert!(!a.findings.is_empty(), "{dir}");
        assert_eq!(gist(&a), gist(&b), "{dir}");
    }
}
