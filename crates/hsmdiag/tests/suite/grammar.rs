//! Grammar catalogues: every pattern has sample lines, and each sample is typed
//! by its own pattern (not shadowed by an earlier one) with the fields it lists.

use hsmdiag::Grammar;

#[test]
fn every_built_in_pattern_compiles_and_names_its_fields_as_the_compiler_does() {
    // Built-in patterns are compiled on first use, and their fields are read
    // from their text: this is the check a user's file gets at load.
    let grammar = Grammar::builtin();
    let mut n = 0;
    for cat in grammar.catalogues() {
        cat.verify().unwrap_or_else(|e| panic!("{}: {e}", cat.name));
        n += cat.messages.len();
    }
    assert!(n > 100, "only {n} patterns");
}

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
    let events = crate::analyzer()
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
    let events = crate::analyzer().parse_str("2026 Mar 01 10:00:00 hsm1 local5 info NTLS [1]: info : 0 : Something new in firmware 7.9\n");
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

/// Event kinds are named in one place each: the parser's own in
/// `event::kind`, every other in its catalogue. Every string literal in the
/// crates' sources (up to a file's `#[cfg(test)]`, comments and the `kind`
/// module left out) is checked against every kind a catalogue, a document type
/// or the parser declares.
#[test]
fn no_event_kind_is_named_in_rust_outside_one_module() {
    use hsmdiag::parser::event::kind;
    let own = [
        kind::UNRECOGNIZED,
        kind::ERROR,
        kind::ERROR_REPEAT,
        kind::ERROR_FIELD,
        kind::POWERSHELL_ERROR,
        kind::RETURN_CODE,
        kind::JSON_DOCUMENT,
        kind::ANNOTATION,
        kind::PROMPT,
        kind::CLOCK,
    ];
    let declared = hsmdiag::Grammar::builtin().event_fields();
    // The kinds with fields are declared with them (the walker's, the
    // return-code table's, the catalogues' patterns for prompts and
    // PowerShell errors).
    for k in [
        kind::ERROR,
        kind::ERROR_REPEAT,
        kind::RETURN_CODE,
        kind::PROMPT,
    ] {
        assert!(declared.contains_key(k), "{k} has no declared fields");
    }
    let kinds: Vec<String> = declared.into_keys().chain(own.map(str::to_owned)).collect();
    assert!(kinds.len() > 100, "{} kinds", kinds.len());
    let literal = regex::Regex::new(r#""((?:[^"\\]|\\.)*)""#).unwrap();
    let mut found = Vec::new();
    let mut files = Vec::new();
    let mut dirs = vec![std::path::PathBuf::from("crates")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if p.is_dir() && !matches!(name.as_str(), "tests" | "benches" | "target") {
                dirs.push(p);
            } else if name.ends_with(".rs") {
                files.push(p);
            }
        }
    }
    assert!(files.len() > 40, "{} files", files.len());
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap();
        let mut in_own = false;
        for (no, line) in code.lines().enumerate() {
            if f.ends_with("hsmdiag-parse/src/event.rs") && line.starts_with("pub mod kind {") {
                in_own = true;
            }
            if in_own {
                in_own = line != "}";
                continue;
            }
            // Command-line flags share a kind's name (`--unrecognized`).
            if line.trim_start().starts_with("#[arg(") {
                continue;
            }
            let line = line.split("//").next().unwrap();
            for c in literal.captures_iter(line) {
                if kinds.iter().any(|k| *k == c[1]) {
                    found.push(format!("{}:{}: \"{}\"", f.display(), no + 1, &c[1]));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "event kinds named in Rust:\n{}",
        found.join("\n")
    );
}

/// A JSON document type and a session context field are data: the worked
/// example of docs/writing-rules.md, loaded as a user `--grammar` file.
#[test]
fn a_user_grammar_adds_a_json_document_type_and_a_context_field() {
    let grammar = std::fs::read_to_string("docs/examples/documents/resource-health.toml").unwrap();
    let analyzer = hsmdiag::AnalyzerBuilder::new()
        .grammar("resource-health.toml", grammar)
        .build()
        .expect("the example grammar loads");

    let doc = std::fs::read_to_string("docs/examples/documents/gateway-health.json").unwrap();
    let events = analyzer.parse_str(&doc);
    let health = events
        .iter()
        .find(|e| e.kind.as_str() == "site.resource_health")
        .expect("the document type is read");
    let v = |n: &str| health.value(n).map(|v| v.to_string());
    assert_eq!(v("state").as_deref(), Some("Unavailable"));
    assert_eq!(v("reason").as_deref(), Some("Unplanned"));
    assert_eq!(v("resource.name").as_deref(), Some("hsm-ergw"));
    assert_eq!(
        health.time.unwrap().to_rfc3339(),
        "2026-11-20T02:05:00+00:00"
    );
    // The evidence points at the line that shows the state.
    assert!(
        health.text.contains("\"availabilityState\""),
        "{}",
        health.text
    );
    // Without the user file, no such event.
    assert!(
        crate::analyzer()
            .parse_str(&doc)
            .iter()
            .all(|e| e.kind.as_str() != "site.resource_health")
    );

    // The context field: the member lines after `HA Group Number:` carry it.
    let session =
        std::fs::read_to_string("samples/luna/lunacm-ha-listgroups-member-down.txt").unwrap();
    let down = |a: &hsmdiag::Analyzer| {
        a.parse_str(&session)
            .into_iter()
            .find(|e| {
                e.kind.as_str() == "luna.ha_member"
                    && e.value("status").is_some_and(|s| s.to_string() == "down")
            })
            .expect("the member down is typed")
    };
    let with = down(&analyzer);
    assert_eq!(
        with.value("ha_group_number").unwrap().to_string(),
        "1154438865287"
    );
    assert_eq!(with.value("ha_group").unwrap().to_string(), "myHAgroup");
    assert!(down(crate::analyzer()).value("ha_group_number").is_none());
}

/// A document type that names a field it does not read is refused, pointing
/// at the table.
#[test]
fn a_document_type_with_a_wrong_label_is_refused() {
    let bad = "name = \"x\"\n[[document]]\nevent = \"site.x\"\nwhen = [[\"a\"]]\nlabel = \"nope\"\nfields = [{ name = \"a\", path = \"a\" }]\n";
    let err = hsmdiag::AnalyzerBuilder::new()
        .grammar("bad.toml", bad)
        .build()
        .expect_err("refused");
    let text = err.to_string();
    assert!(text.contains("bad.toml"), "{text}");
    let msg = format!("{:?}", miette::Report::new(err));
    assert!(msg.contains("`label` names `nope`"), "{msg}");
}

#[test]
fn the_alarm_table_names_a_kind_the_grammar_defines() {
    let kinds = hsmdiag::Grammar::builtin().event_fields();
    let kind = hsmdiag::parser::alarm_kind();
    let fields = kinds
        .get(kind)
        .unwrap_or_else(|| panic!("grammars/alarm_codes.toml names `{kind}`, no grammar event"));
    assert!(
        fields.iter().any(|f| f.as_str() == "alarm"),
        "`{kind}` has no `alarm` field: {fields:?}"
    );
}
