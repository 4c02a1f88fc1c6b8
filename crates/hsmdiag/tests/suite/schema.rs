//! The JSON report's schema: the repository's copy is current, every sample's
//! report (with and without coverage, unrecognised templates and clock
//! offsets) is valid against it, and it refuses what the contract forbids.

use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(root!())
}

fn validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(root().join("docs/json-report.schema.json"))
        .expect("docs/json-report.schema.json exists");
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    jsonschema::validator_for(&schema).expect("the schema is a valid JSON Schema")
}

fn report_json(report: &hsmdiag::Report) -> serde_json::Value {
    let mut out = Vec::new();
    hsmdiag::write_json(report, &mut out).unwrap();
    serde_json::from_slice(&out).unwrap()
}

#[test]
fn the_schema_in_the_repository_is_current() {
    let schema = hsmdiag::report::report_schema();
    let text = serde_json::to_string_pretty(&schema).unwrap() + "\n";
    let path = root().join("docs/json-report.schema.json");
    if std::env::var_os("HSMDIAG_BLESS").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == text,
        "docs/json-report.schema.json is stale: run HSMDIAG_BLESS=1 cargo test -p hsmdiag --test suite schema"
    );
    assert_eq!(schema["$id"], hsmdiag::report::REPORT_SCHEMA_URL);
    for key in [
        "$schema",
        "version",
        "findings",
        "summary",
        "tool",
        "tool_version",
    ] {
        assert!(
            schema["required"]
                .as_array()
                .unwrap()
                .iter()
                .any(|k| k == key),
            "{key} is not required"
        );
    }
}

#[test]
fn every_sample_report_is_valid() {
    let v = validator();
    let mut checked = 0;
    for group in ["ntls", "luna", "azure", "incident", "real"] {
        let (inputs, _) = hsmdiag::expand(&[root().join("samples").join(group)]);
        for analyzer in [crate::analyzer(), crate::analyzer_coverage()] {
            let (report, _) = analyzer.analyze(&inputs);
            let json = report_json(&report);
            assert_eq!(json["$schema"], hsmdiag::report::REPORT_SCHEMA_URL);
            let errors: Vec<String> = v
                .iter_errors(&json)
                .map(|e| format!("{}: {e}", e.instance_path()))
                .take(10)
                .collect();
            assert!(errors.is_empty(), "samples/{group}: {errors:#?}");
            checked += 1;
        }
    }
    assert_eq!(checked, 10);
}

#[test]
fn the_schema_refuses_what_the_contract_forbids() {
    let v = validator();
    let (inputs, _) = hsmdiag::expand(&[root().join("samples/ntls/article-unknown-ca.log")]);
    let (report, _) = crate::analyzer().analyze(&inputs);
    let good = report_json(&report);
    assert!(v.is_valid(&good));
    let mut bad = good.clone();
    bad["findings"][0]["severity"] = "severe".into();
    assert!(!v.is_valid(&bad), "an unknown severity");
    let mut bad = good.clone();
    bad["findings"][0]
        .as_object_mut()
        .unwrap()
        .remove("subject");
    assert!(!v.is_valid(&bad), "a finding without its subject");
    let mut bad = good.clone();
    bad["summary"]["lines"] = "many".into();
    assert!(!v.is_valid(&bad), "a count that is no number");
    let mut bad = good;
    bad["findings"][0]["count"] = serde_json::Value::Null;
    assert!(!v.is_valid(&bad), "a count of null");
}
