//! Nothing is lost to junk: a lone bracket, a document cut off in a string or
//! after a comma, put before or after any sample, leaves its findings as they
//! are. A document that types nothing gives its lines back to the line parser,
//! and a line that cannot go on a document (a log record after a cut paste)
//! ends it.

use std::path::Path;

use hsmdiag::Report;

/// Junk as pastes leave it: brackets alone, documents cut off in a string or
/// after a comma, a member without its object. (A cut document that carries an
/// error code is no junk: it is a finding, tested below.)
const JUNK: &[&str] = &[
    "{",
    "[",
    "}",
    r#"{"message": "The request was cut"#,
    r#"{"value": [1, 2,"#,
    r#"    "properties": {"#,
];

fn gist(r: &Report) -> Vec<String> {
    let mut v: Vec<String> = r
        .findings
        .iter()
        .map(|f| {
            let host = f.host.as_deref().unwrap_or("-");
            format!(
                "{} {:?} {} on {host} x{}",
                f.id, f.severity, f.subject, f.count
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn junk_before_or_after_a_sample_loses_no_finding() {
    let analyzer = crate::analyzer();
    let root = Path::new(root!()).join("samples");
    let mut checked = 0;
    for dir in ["ntls", "luna", "azure"] {
        let mut files: Vec<_> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        files.sort();
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            let name = f.display().to_string();
            let alone = analyzer.analyze_str(&name, &text);
            let base = gist(&alone);
            for junk in JUNK {
                // The sample's findings, and any the junk gives on its own
                // (a cut deployment error is one).
                let mut want = base.clone();
                want.extend(gist(&analyzer.analyze_str(&name, junk)));
                want.sort();
                want.dedup();
                let before = analyzer.analyze_str(&name, &format!("{junk}\n{text}"));
                assert_eq!(gist(&before), want, "{junk:?} before {name}");
                let sep = if text.ends_with('\n') { "" } else { "\n" };
                let after = analyzer.analyze_str(&name, &format!("{text}{sep}{junk}\n"));
                assert_eq!(gist(&after), want, "{junk:?} after {name}");
                for r in [&before, &after] {
                    assert_eq!(
                        r.summary.lines,
                        alone.summary.lines + 1,
                        "every line is counted: {junk:?} {name}"
                    );
                }
            }
            checked += 1;
        }
    }
    assert!(checked > 80, "{checked} samples");
}

/// The two reproducers: a lone `{` line ahead of three failures, and a
/// deployment error cut off in its message followed by a Java application's
/// lockout.
#[test]
fn a_lone_brace_and_a_cut_paste_keep_the_lines_after_them() {
    let analyzer = crate::analyzer();
    let three = "{\n\
        error: PKCS11 function C_Login failed: rv = CKR_PIN_LOCKED (0xa4)\n\
        Error: Unable to find any Luna SA slots/partitions among registered server\n\
        nc: connect to 10.3.0.4 port 1792 (tcp) failed: Connection timed out\n";
    let ids: Vec<String> = analyzer
        .analyze_str("paste", three)
        .findings
        .into_iter()
        .map(|f| f.id)
        .collect();
    for id in ["auth.co_locked_out", "net.port_1792_unreachable"] {
        assert!(ids.iter().any(|i| i == id), "{id} in {ids:?}");
    }
    let cut = "{\"error\": {\"code\": \"DeploymentFailed\", \"message\": \"At least one resource deployment operation failed. Please list\n\
        2026-11-20 09:41:07,112 ERROR [main] c.e.signing.KeyStoreLoader - cannot open the HSM key store\n\
        java.security.ProviderException: login failed\n\
        Caused by: sun.security.pkcs11.wrapper.PKCS11Exception: CKR_PIN_LOCKED\n";
    let r = analyzer.analyze_str("paste", cut);
    let ids: Vec<&str> = r.findings.iter().map(|f| f.id.as_str()).collect();
    assert!(ids.contains(&"auth.co_locked_out"), "{ids:?}");
    assert!(ids.contains(&"deploy.failed"), "{ids:?}");
    assert_eq!(r.summary.lines, 4);
}

/// A binary input (random bytes, a core dump) is listed as skipped with the
/// reason, not read line by line; the logs beside it are read as ever.
#[test]
fn a_binary_input_is_skipped_with_its_reason() {
    let dir = std::env::temp_dir().join(format!("hsmdiag-binary-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bin = dir.join("core.1234");
    // Deterministic bytes with NULs, as a core dump or an image has.
    let bytes: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&bin, bytes).unwrap();
    let log = Path::new(root!()).join("samples/ntls/unknown-ca-appliance.log");
    let (inputs, errors) = hsmdiag::expand(&[bin.clone(), log]);
    assert!(errors.is_empty(), "{errors:?}");
    let (report, _) = crate::analyzer().analyze(&inputs);
    assert_eq!(
        report.summary.skipped.len(),
        1,
        "{:?}",
        report.summary.skipped
    );
    assert!(report.summary.skipped[0].contains("binary, not a log"));
    assert_eq!(report.summary.inputs, 1);
    assert!(report.findings.iter().any(|f| f.id == "ntls.unknown_ca"));
    std::fs::remove_dir_all(&dir).ok();
}
