//! Grammar catalogues: every pattern has sample lines, and each sample is typed
//! by its own pattern (not shadowed by an earlier one) with the fields it lists.

use hsmdiag::{Analyzer, Grammar};

#[test]
fn every_pattern_has_samples_that_it_types() {
    let grammar = Grammar::builtin();
    let mut checked = 0;
    for cat in grammar.catalogues() {
        for (i, pat) in cat.messages.iter().enumerate() {
            assert!(
                !pat.samples.is_empty(),
                "{}: pattern {i} ({}) has no sample",
                cat.name,
                pat.event
            );
            for s in &pat.samples {
                let (kind, fields) = cat
                    .type_message(&s.text, 0)
                    .unwrap_or_else(|| panic!("{}: sample not typed: {}", cat.name, s.text));
                assert_eq!(
                    kind, pat.event,
                    "{}: `{}` typed by an earlier pattern",
                    cat.name, s.text
                );
                for (name, want) in &s.fields {
                    let got = fields.iter().find(|f| &*f.name == name).unwrap_or_else(|| {
                        panic!("{}: `{}` has no field {name}", cat.name, s.text)
                    });
                    assert_eq!(
                        &got.value.to_string(),
                        want,
                        "{}: field {name} of `{}`",
                        cat.name,
                        s.text
                    );
                    assert!(
                        got.range.start <= got.range.end && got.range.end <= s.text.len(),
                        "{}: field {name} range outside the sample",
                        cat.name
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 40, "only {checked} samples checked");
}

#[test]
fn luna_socket_addresses_are_typed() {
    let events = Analyzer::new()
        .parse_str("NTLS[8508]: info : 0 : Incoming connection request... : 192.168.50.2/59415\n");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind.as_str(), "ntls.incoming_connection");
    assert_eq!(
        events[0].value("client"),
        Some(hsmdiag::Value::Socket(
            "192.168.50.2:59415".parse().unwrap()
        ))
    );
    assert_eq!(
        events[0].value("client.ip").unwrap().to_string(),
        "192.168.50.2"
    );
    assert_eq!(events[0].pid, Some(8508));
    assert_eq!(events[0].program.as_deref(), Some("NTLS"));
}

#[test]
fn unknown_ntls_messages_are_unrecognized_events() {
    let events = Analyzer::new().parse_str("2026 Mar 01 10:00:00 hsm1 local5 info NTLS [1]: info : 0 : Something new in firmware 7.9\n");
    assert_eq!(events.len(), 1);
    assert!(events[0].kind.is_unrecognized());
    assert_eq!(events[0].host.as_deref(), Some("hsm1"));
}

#[test]
fn a_bad_user_grammar_points_at_its_line() {
    let text =
        "name = \"x\"\nprograms = [\"X\"]\n\n[[message]]\nevent = \"x.y\"\npattern = '(unclosed'\n";
    let err = hsmdiag::AnalyzerBuilder::new()
        .grammar("mine.toml", text)
        .build()
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("mine.toml") && msg.contains("invalid pattern"),
        "{msg}"
    );
    let diag: &dyn miette::Diagnostic = &err;
    let label = diag
        .labels()
        .and_then(|mut l| l.next())
        .expect("a labelled span");
    assert_eq!(
        &text[label.offset()..label.offset() + label.len()],
        "'(unclosed'"
    );
}
