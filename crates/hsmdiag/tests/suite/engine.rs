//! Engine behaviour through the real parse + analyse path: interleaved
//! connections, the more specific finding winning, windows, and aggregation.

use hsmdiag::Report;

fn run(log: &str) -> Report {
    crate::analyzer().analyze_str("t.log", log)
}

fn summary(r: &Report) -> Vec<(String, String, u64)> {
    r.findings
        .iter()
        .map(|f| (f.id.clone(), f.subject.clone(), f.count))
        .collect()
}

const H: &str = "2026 Mar 01 10:00:00 hsm1 local5 info NTLS [77]:";

#[test]
fn interleaved_failures_on_one_ntls_process_are_each_counted() {
    let log = format!(
        "{H} Error message from SSLAccept is : error:14094418:SSL routines:ssl3_read_bytes:tlsv1 alert unknown ca\n\
         {H} Error message from SSLAccept is : error:1417A0C1:SSL routines:tls_post_process_client_hello:no shared cipher\n\
         {H} Error during SSL accept ( RC_SSL_ERROR )\n\
         {H} Error during SSL accept ( RC_SSL_ERROR )\n\
         {H} info : 0xc0000711 : Fail to establish a secure channel with client : 10.0.0.1/1000 : RC_SSL_FAILED_HANDSHAKE\n\
         {H} info : 0xc0000711 : Fail to establish a secure channel with client : 10.0.0.2/2000 : RC_SSL_FAILED_HANDSHAKE\n"
    );
    let r = run(&log);
    assert_eq!(
        summary(&r),
        [
            ("ntls.unknown_ca".to_owned(), "10.0.0.1".to_owned(), 1),
            ("ntls.handshake_failed".to_owned(), "10.0.0.2".to_owned(), 1),
        ]
    );
    assert!(
        r.findings[1]
            .message
            .as_deref()
            .unwrap()
            .ends_with("no shared cipher")
    );
}

#[test]
fn the_specific_finding_wins_over_the_generic_handshake_failure() {
    let log = format!(
        "{H} Error message from SSLAccept is : error:14094415:SSL routines:ssl3_read_bytes:sslv3 alert certificate expired\n\
         {H} info : 0xc0000711 : Fail to establish a secure channel with client : 10.0.0.1/1000 : RC_SSL_FAILED_HANDSHAKE\n"
    );
    assert_eq!(
        summary(&run(&log)),
        [("ntls.cert_expired".to_owned(), "10.0.0.1".to_owned(), 1)]
    );
}

#[test]
fn a_failure_with_no_reason_is_a_plain_handshake_failure() {
    let log = format!(
        "{H} info : 0xc0000711 : Fail to establish a secure channel with client : 10.0.0.9/1000 : RC_SSL_FAILED_HANDSHAKE\n"
    );
    let r = run(&log);
    assert_eq!(
        summary(&r),
        [("ntls.handshake_failed".to_owned(), "10.0.0.9".to_owned(), 1)]
    );
    assert!(
        r.findings[0]
            .message
            .as_deref()
            .unwrap()
            .ends_with("no reason logged")
    );
}

#[test]
fn a_reason_outside_the_window_does_not_explain_a_later_failure() {
    let log = "2026 Mar 01 10:00:00 hsm1 local5 info NTLS [77]: Error message from SSLAccept is : error:14094418:SSL routines:ssl3_read_bytes:tlsv1 alert unknown ca\n\
               2026 Mar 01 10:05:00 hsm1 local5 info NTLS [77]: info : 0xc0000711 : Fail to establish a secure channel with client : 10.0.0.1/1000 : RC_SSL_FAILED_HANDSHAKE\n";
    assert_eq!(
        summary(&run(log)),
        [("ntls.handshake_failed".to_owned(), "10.0.0.1".to_owned(), 1)]
    );
}

#[test]
fn different_processes_do_not_mix() {
    let log = "2026 Mar 01 10:00:00 hsm1 local5 info NTLS [1]: Error message from SSLAccept is : error:14094418:SSL routines:ssl3_read_bytes:tlsv1 alert unknown ca\n\
               2026 Mar 01 10:00:00 hsm1 local5 info NTLS [2]: info : 0xc0000711 : Fail to establish a secure channel with client : 10.0.0.1/1000 : RC_SSL_FAILED_HANDSHAKE\n";
    assert_eq!(
        summary(&run(log)),
        [("ntls.handshake_failed".to_owned(), "10.0.0.1".to_owned(), 1)]
    );
}

#[test]
fn repeated_failures_aggregate_with_first_and_last_time_and_five_evidence_lines() {
    let mut log = String::new();
    for m in 0..10 {
        log.push_str(&format!(
            "2026 Mar 01 10:{m:02}:00 hsm1 local5 info NTLS [77]: Error message from SSLAccept is : error:14094412:SSL routines:ssl3_read_bytes:sslv3 alert bad certificate\n\
             2026 Mar 01 10:{m:02}:00 hsm1 local5 info NTLS [77]: info : 0xc0000711 : Fail to establish a secure channel with client : 10.0.0.7/{} : RC_SSL_FAILED_HANDSHAKE\n",
            4000 + m
        ));
    }
    let r = run(&log);
    assert_eq!(r.findings.len(), 1);
    let f = &r.findings[0];
    assert_eq!(
        (f.id.as_str(), f.subject.as_str(), f.count),
        ("ntls.unknown_ca", "10.0.0.7", 10)
    );
    assert_eq!(
        f.first_seen.unwrap().to_rfc3339(),
        "2026-03-01T10:00:00+00:00"
    );
    assert_eq!(
        f.last_seen.unwrap().to_rfc3339(),
        "2026-03-01T10:09:00+00:00"
    );
    assert_eq!(f.evidence.len(), 5);
    assert_eq!(
        f.evidence.iter().map(|e| e.line).collect::<Vec<_>>(),
        [1, 2, 4, 6, 8]
    );
}

#[test]
fn year_less_syslog_takes_the_year_from_context_and_rolls_over_new_year() {
    let log = "Dec 31 23:59:59 hsm1 NTLS[7]: info : 0 : Incoming connection request... : 10.0.0.1/1\n\
               Jan  1 00:00:01 hsm1 NTLS[7]: info : 0 : Incoming connection request... : 10.0.0.1/2\n";
    let analyzer = hsmdiag::AnalyzerBuilder::new()
        .year(Some(2025))
        .build()
        .unwrap();
    let ev = analyzer.parse_str(log);
    assert_eq!(
        ev[0].time.unwrap().to_rfc3339(),
        "2025-12-31T23:59:59+00:00"
    );
    assert_eq!(
        ev[1].time.unwrap().to_rfc3339(),
        "2026-01-01T00:00:01+00:00"
    );
    // Without a year, year-less times are left unknown rather than guessed.
    assert!(crate::analyzer().parse_str(log)[0].time.is_none());
}

/// A rule file as a user would write one, around a match block.
fn user_rule(code: &str, matcher: &str) -> String {
    format!(
        r#"id = "test.{code}"
code = "{code}"
title = "test rule"
severity = "warning"
owner = "customer"
since = "0.1.0"
subject = "{{client.ip}}"
meaning = "m"
cause = "c"
confirm = "c"
false_positives = "f"
remediation = [{{ step = "look at {{client.ip}} ({{count}} times)" }}]
{matcher}
"#
    )
}

/// The subjects of the findings of one rule, sorted.
fn subjects(r: &Report, id: &str) -> Vec<String> {
    let mut v: Vec<String> = r
        .findings
        .iter()
        .filter(|f| f.id == id)
        .map(|f| f.subject.clone())
        .collect();
    v.sort();
    v
}

fn run_with(rule: &str, log: &str) -> Report {
    hsmdiag::AnalyzerBuilder::new()
        .rule("user.toml", rule)
        .build()
        .unwrap()
        .analyze_str("t.log", log)
}

fn incoming(min: u32, sec: u32, ip: &str, port: u32) -> String {
    format!(
        "2026 Mar 01 10:{min:02}:{sec:02} hsm1 local5 info NTLS [7]: info : 0 : Incoming connection request... : {ip}/{port}\n"
    )
}

fn authenticated(min: u32, sec: u32, ip: &str, port: u32) -> String {
    format!(
        "2026 Mar 01 10:{min:02}:{sec:02} hsm1 local5 info NTLS [7]: info : 0 : NTLS Client \"a\" connected and authenticated : {ip}/{port}.\n"
    )
}

#[test]
fn count_within_a_window_per_key() {
    let rule = user_rule(
        "HSM901",
        "[[match]]\nkind = \"count\"\nevent = \"ntls.incoming_connection\"\nkey = [\"client.ip\"]\nthreshold = 3\nwithin = \"1m\"\n",
    );
    // Three from .1 inside a minute fire; .2 spreads three over three minutes and does not.
    let log = [
        incoming(0, 0, "10.0.0.1", 1),
        incoming(0, 10, "10.0.0.1", 2),
        incoming(0, 20, "10.0.0.2", 3),
        incoming(0, 50, "10.0.0.1", 4),
        incoming(1, 0, "10.0.0.1", 5),
        incoming(1, 40, "10.0.0.2", 6),
        incoming(3, 0, "10.0.0.2", 7),
    ]
    .concat();
    let r = run_with(&rule, &log);
    let hits: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.id == "test.HSM901")
        .collect();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].subject, "10.0.0.1");
    assert_eq!(
        hits[0].count, 4,
        "three to reach the threshold, then one more inside the window"
    );
    assert_eq!(hits[0].remediation[0], "look at 10.0.0.1 (4 times)");
}

#[test]
fn absence_after_fires_when_the_companion_never_comes() {
    let rule = user_rule(
        "HSM902",
        "[[match]]\nkind = \"absence\"\nevent = \"ntls.incoming_connection\"\nexpect = { event = \"ntls.client_authenticated\" }\ndirection = \"after\"\nkey = [\"client\"]\nwithin = \"30s\"\n",
    );
    let log = [
        incoming(0, 0, "10.0.0.1", 1),
        authenticated(0, 1, "10.0.0.1", 1),
        incoming(0, 5, "10.0.0.2", 2),
        incoming(2, 0, "10.0.0.3", 3),
        authenticated(2, 50, "10.0.0.3", 3),
        incoming(4, 0, "10.0.0.4", 4),
    ]
    .concat();
    let r = run_with(&rule, &log);
    // .2 never authenticated; .3 did, but too late; .4's window was still open
    // when the input ended, so its absence is not proven.
    assert_eq!(subjects(&r, "test.HSM902"), ["10.0.0.2", "10.0.0.3"]);
    // Once the log runs past .4's window, it fires too.
    let longer = [
        log,
        incoming(5, 0, "10.0.0.9", 9),
        authenticated(5, 1, "10.0.0.9", 9),
    ]
    .concat();
    assert_eq!(
        subjects(&run_with(&rule, &longer), "test.HSM902"),
        ["10.0.0.2", "10.0.0.3", "10.0.0.4"]
    );
}

#[test]
fn absence_before_fires_when_nothing_led_up_to_the_trigger() {
    let rule = user_rule(
        "HSM903",
        "[[match]]\nkind = \"absence\"\nevent = \"ntls.client_authenticated\"\nexpect = { event = \"ntls.incoming_connection\" }\ndirection = \"before\"\nkey = [\"client\"]\nwithin = \"10s\"\n",
    );
    let log = [
        incoming(0, 0, "10.0.0.1", 1),
        authenticated(0, 1, "10.0.0.1", 1),
        authenticated(0, 2, "10.0.0.2", 2),
    ]
    .concat();
    let r = run_with(&rule, &log);
    assert_eq!(subjects(&r, "test.HSM903"), ["10.0.0.2"]);
}

#[test]
fn a_user_rule_with_an_unknown_event_points_at_it() {
    let rule = user_rule(
        "HSM904",
        "[[match]]\nkind = \"single\"\nevent = \"ntls.incoming_conection\"\n",
    );
    let err = hsmdiag::AnalyzerBuilder::new()
        .rule("user.toml", rule.as_str())
        .build()
        .unwrap_err();
    let msg = format!("{err}");
    assert!(
        msg.contains("no grammar produces the event `ntls.incoming_conection`"),
        "{msg}"
    );
    let diag: &dyn miette::Diagnostic = &err;
    assert!(
        diag.help()
            .unwrap()
            .to_string()
            .contains("ntls.incoming_connection")
    );
    let label = diag.labels().and_then(|mut l| l.next()).unwrap();
    assert_eq!(
        &rule[label.offset()..label.offset() + label.len()],
        "\"ntls.incoming_conection\""
    );
}

/// Issue 34: a key of another kind of matcher is refused where it is written
/// (it used to be read into one flat table and ignored).
#[test]
fn a_key_of_another_matcher_kind_is_refused_at_its_line() {
    for (body, key, kind) in [
        (
            "[[match]]\nkind = \"count\"\nevent = \"ntls.startup\"\nthreshold = 2\n\n[[match.steps]]\nevent = \"ntls.startup\"\n\n[[match.steps]]\nevent = \"ntls.startup\"\n",
            "steps",
            "count",
        ),
        (
            "[[match]]\nkind = \"single\"\nevent = \"ntls.startup\"\nlimit = 3\n",
            "limit",
            "single",
        ),
        (
            "[[match]]\nkind = \"sequence\"\nunless = { host = \"x\" }\n\n[[match.steps]]\nevent = \"ntls.startup\"\n\n[[match.steps]]\nevent = \"ntls.startup\"\n",
            "unless",
            "sequence",
        ),
    ] {
        let rule = user_rule("HSM906", body);
        let err = hsmdiag::AnalyzerBuilder::new()
            .rule("user.toml", rule.as_str())
            .build()
            .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("a `{kind}` matcher takes no `{key}`"))
                && msg.contains("user.toml"),
            "{msg}"
        );
        let diag: &dyn miette::Diagnostic = &err;
        let label = diag.labels().and_then(|mut l| l.next()).unwrap();
        let at = &rule[label.offset()..label.offset() + label.len()];
        assert_eq!(at, key, "the label points at the key");
    }
}

#[test]
fn a_placeholder_the_rule_does_not_capture_is_rejected() {
    let rule = user_rule(
        "HSM905",
        "[[match]]\nkind = \"single\"\nevent = \"ntls.startup\"\n",
    );
    let err = hsmdiag::AnalyzerBuilder::new()
        .rule("user.toml", rule)
        .build()
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("placeholder `{client.ip}` is not captured"),
        "{err}"
    );
}

/// A failure streak: consecutive failures per key, reset by a success, with
/// the tries left and a severity that rises as they run out.
#[test]
fn a_streak_counts_consecutive_failures_until_a_success() {
    let rule = r#"
id = "test.streak"
code = "HSM998"
title = "login failures"
severity = "warning"
owner = "customer"
since = "0.0.0"
subject = "{host}"
message = "{failures} of {limit} failed, {left} left"
meaning = "m"
cause = "c"
confirm = "c"
false_positives = "f"

[[match]]
kind = "streak"
event = "lunash.hsm_login_failed"
key = ["host"]
limit = 3
escalate = [{ left = 1, severity = "critical" }]

[match.reset]
event = "lunash.command"
where = { command = '^hsm login', rc = '^0x0+$' }

[[remediation]]
step = "s"
"#;
    let analyzer = hsmdiag::AnalyzerBuilder::new()
        .rule("streak.toml", rule)
        .build()
        .expect("the rule loads");
    let fail = "2026 Mar 01 10:00:00 hsm1 local5 warn lunash [9]: HSM Admin Login: incorrect password or PED key\n";
    let ok = "2026 Mar 01 10:00:01 hsm1 local5 info lunash [9]: info : 0 : Command: hsm login  : admin : Console\n";
    let result = |log: String| {
        let r = analyzer.analyze_str("t.log", &log);
        let f = r.findings.iter().find(|f| f.id == "test.streak").cloned();
        f.map(|f| (f.message.unwrap(), f.severity))
    };
    use hsmdiag::Severity::{Critical, Warning};
    assert_eq!(
        result(fail.to_owned()),
        Some(("1 of 3 failed, 2 left".to_owned(), Warning))
    );
    assert_eq!(
        result(fail.repeat(2)),
        Some(("2 of 3 failed, 1 left".to_owned(), Critical))
    );
    // A success in between starts the count again; the finding reports where
    // the count stands now, with the worst severity since the last success.
    assert_eq!(
        result(format!("{fail}{ok}{fail}")),
        Some(("1 of 3 failed, 2 left".to_owned(), Warning))
    );
    assert_eq!(
        result(format!("{fail}{fail}{ok}{fail}")),
        Some(("1 of 3 failed, 2 left".to_owned(), Warning))
    );
    // A streak that a success ended is history, not a warning.
    assert_eq!(
        result(format!("{fail}{fail}{ok}")),
        Some((
            "2 of 3 failed, 1 left; then a successful login reset the count".to_owned(),
            hsmdiag::Severity::Info
        ))
    );
    // The third failure is the damage itself: a rule with `at_limit` reports
    // it; this one stays where the warning was.
    assert_eq!(
        result(fail.repeat(3)),
        Some(("2 of 3 failed, 1 left".to_owned(), Critical))
    );
}

/// A matcher's `context`: a bare PKCS#11 code (a Node wrapper's `Error:
/// CKR_...`, a vendor-defined value) is a Luna client failure only in a text
/// that names Luna, before or after it; the line that names it joins the
/// evidence. Without it, nothing — in one input or in `--follow`.
#[test]
fn a_bare_code_is_a_luna_failure_only_where_the_text_names_luna() {
    let ids = |r: &Report| r.findings.iter().map(|f| f.id.clone()).collect::<Vec<_>>();
    let error = "Error: CKR_DEVICE_ERROR\n    at Error (native)\n    at Session.sign (/app/node_modules/graphene-pk11/build/session.js:120:20)\n";
    let vendor = "failed to sign: pkcs11: 0x80000005\n";
    let missing = "Error: CKR_TOKEN_NOT_PRESENT:224\n";
    let named = "We run the Luna HSM Client 10.4 against a Luna Network HSM 7.\n";

    for bare in [error, vendor, missing] {
        assert!(ids(&run(bare)).is_empty(), "{bare}: {:?}", ids(&run(bare)));
    }
    // The name after the error: the finding waits for it.
    let after = run(&format!("{error}\nThe app is a signing service.\n{named}"));
    assert_eq!(ids(&after), ["client.operation_failed"]);
    let f = &after.findings[0];
    assert_eq!(f.evidence[0].line, 1, "{:?}", f.evidence);
    assert!(
        f.evidence
            .iter()
            .any(|e| e.line == 6 && e.text.contains("Luna Network HSM")),
        "the naming line joins the evidence: {:?}",
        f.evidence
    );
    // Before it, and for every code that follows.
    let before = run(&format!("{named}{error}{vendor}"));
    let subjects: Vec<&str> = before.findings.iter().map(|f| f.subject.as_str()).collect();
    assert_eq!(
        subjects,
        ["CKR_DEVICE_ERROR on t.log", "0x80000005 on t.log"]
    );
    assert_eq!(
        ids(&run(&format!("{named}{missing}"))),
        ["ntls.partition_not_visible"]
    );
    // A line that names Luna and says what failed keeps its own kind.
    let r = run("The Luna client returns CKR_DEVICE_ERROR from C_Sign\n");
    assert_eq!(ids(&r), ["client.operation_failed"]);
}
