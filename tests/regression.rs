//! Regression tests named after the issue whose "done when" they pin.

use hsmdiag::{Analyzer, Severity};

/// Issue 2: the reference article's NTLS example, pasted as printed (five
/// messages on one line), gives exactly one ntls.unknown_ca finding for
/// 192.168.50.2, once, with its evidence and remediation.
#[test]
fn issue_2_article_example_gives_one_unknown_ca_finding() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/samples/ntls/article-unknown-ca.log"
    ))
    .unwrap();
    assert_eq!(
        text.lines().count(),
        1,
        "the sample keeps the article's single line"
    );
    let analyzer = Analyzer::new();
    let events = analyzer.parse_str(&text);
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "ntls.incoming_connection",
            "ntls.ssl_accept_error",
            "ntls.ssl_accept_failed",
            "ntls.secure_channel_failed",
            "ntls.connection_removed"
        ]
    );
    assert!(
        events
            .iter()
            .all(|e| e.pid == Some(8508) && e.span.line == 1)
    );

    let report = analyzer.analyze_str("article.log", &text);
    assert_eq!(report.findings.len(), 1);
    let f = &report.findings[0];
    assert_eq!(
        (f.id.as_str(), f.code.as_str(), f.subject.as_str(), f.count),
        ("ntls.unknown_ca", "HSM101", "192.168.50.2", 1)
    );
    assert_eq!(f.severity, Severity::Error);
    assert!(
        f.evidence
            .iter()
            .any(|e| e.text.ends_with("tlsv1 alert unknown ca"))
    );
    assert!(f.evidence.iter().any(|e| {
        e.text
            .contains("Fail to establish a secure channel with client : 192.168.50.2/59415")
    }));
    assert!(f.remediation[0].contains("certificate exchange client configuration"));
    assert!(
        f.remediation
            .iter()
            .any(|r| r.contains("-client 192.168.50.2"))
    );
    assert_eq!(report.summary.lines, 1);
    assert_eq!(report.summary.events, 5);
    assert_eq!(report.summary.unrecognized_lines, 0);
}

/// Issue 2: a healthy log gives no finding of warning or worse.
#[test]
fn issue_2_healthy_logs_give_no_finding() {
    let analyzer = hsmdiag::AnalyzerBuilder::new()
        .year(Some(2026))
        .build()
        .unwrap();
    for name in [
        "healthy-busy.log",
        "healthy-startup.log",
        "healthy-admin-ntls-settings.log",
        "healthy-rfc3164-collector.log",
    ] {
        let path = format!("{}/samples/ntls/{name}", env!("CARGO_MANIFEST_DIR"));
        let report = analyzer.analyze_str(name, &std::fs::read_to_string(path).unwrap());
        assert!(
            report.findings.is_empty(),
            "{name}: {:?}",
            report.findings.iter().map(|f| &f.id).collect::<Vec<_>>()
        );
        assert_eq!(report.summary.unrecognized_lines, 0, "{name}");
    }
}
