//! Regression tests named after the issue whose "done when" they pin.

use hsmdiag::Severity;

/// Issue 2: the reference article's NTLS example, pasted as printed (five
/// messages on one line), gives exactly one ntls.unknown_ca finding for
/// 192.168.50.2, once, with its evidence and remediation.
#[test]
fn issue_2_article_example_gives_one_unknown_ca_finding() {
    let text =
        std::fs::read_to_string(concat!(root!(), "/samples/ntls/article-unknown-ca.log")).unwrap();
    assert_eq!(
        text.lines().count(),
        1,
        "the sample keeps the article's single line"
    );
    let analyzer = crate::analyzer();
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
    assert_eq!(report.summary.events, None, "not measured by default");
    let measured = crate::analyzer_coverage().analyze_str("article.log", &text);
    assert_eq!(measured.findings, report.findings);
    assert_eq!(measured.summary.events, Some(5));
    assert_eq!(measured.summary.unrecognized_lines, Some(0));
}

/// Issue 2: a healthy log gives no finding of warning or worse.
#[test]
fn issue_2_healthy_logs_give_no_finding() {
    let analyzer = crate::analyzer_2026();
    for name in [
        "healthy-busy.log",
        "healthy-startup.log",
        "healthy-admin-ntls-settings.log",
        "healthy-rfc3164-collector.log",
    ] {
        let path = format!("{}/samples/ntls/{name}", root!());
        let report = analyzer.analyze_str(name, &report_text(&path));
        assert!(
            report.findings.is_empty(),
            "{name}: {:?}",
            report.findings.iter().map(|f| &f.id).collect::<Vec<_>>()
        );
        let measured = crate::analyzer_coverage().analyze_str(name, &report_text(&path));
        assert_eq!(measured.findings, report.findings, "{name}");
        assert_eq!(measured.summary.unrecognized_lines, Some(0), "{name}");
    }
}

fn report_text(path: &str) -> String {
    std::fs::read_to_string(path).unwrap()
}

fn azure_sample(name: &str) -> String {
    let path = format!("{}/samples/azure/{name}", root!());
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn finding<'r>(report: &'r hsmdiag::Report, id: &str) -> &'r hsmdiag::Finding {
    report
        .findings
        .iter()
        .find(|f| f.id == id)
        .unwrap_or_else(|| {
            let ids: Vec<&str> = report.findings.iter().map(|f| f.id.as_str()).collect();
            panic!("no {id} finding; got {ids:?}")
        })
}

fn commands(f: &hsmdiag::Finding) -> Vec<String> {
    f.remediation_steps
        .iter()
        .filter_map(|s| s.command.clone())
        .collect()
}

/// Issue 3: each deployment and deprovisioning rule fires on samples in more
/// than one input style (az CLI, PowerShell, Terraform, ARM JSON, operations
/// lists), and healthy Azure samples give no warning or worse.
#[test]
fn issue_3_every_rule_fires_in_several_input_styles() {
    let analyzer = crate::analyzer();
    for rule in analyzer
        .rules()
        .iter()
        .filter(|r| r.id.starts_with("deploy.") || r.id.starts_with("deprov."))
    {
        let styles: std::collections::BTreeSet<&str> = rule
            .examples
            .iter()
            .filter(|e| e.fires)
            .filter_map(|e| e.input.rsplit('/').next()?.split('-').next())
            .collect();
        assert!(
            styles.len() >= 2 || rule.id == "deploy.capacity_exhausted",
            "{}: fires in only {styles:?}",
            rule.id
        );
    }
    let dir = format!("{}/samples/azure", root!());
    let mut healthy = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("healthy-") {
            continue;
        }
        healthy += 1;
        let report = analyzer.analyze_str(&name, &std::fs::read_to_string(&path).unwrap());
        assert!(
            report
                .findings
                .iter()
                .all(|f| f.severity < Severity::Warning),
            "{name}: {:?}",
            report.findings.iter().map(|f| &f.id).collect::<Vec<_>>()
        );
        let measured =
            crate::analyzer_coverage().analyze_str(&name, &std::fs::read_to_string(&path).unwrap());
        assert_eq!(measured.findings, report.findings, "{name}");
        assert_eq!(measured.summary.unrecognized_lines, Some(0), "{name}");
    }
    assert!(healthy >= 8);
}

/// Issue 3: the finding names the innermost causing code of a DeploymentFailed
/// and its target resource, and its evidence is the line where that error sits.
#[test]
fn issue_3_root_cause_is_the_innermost_error() {
    let analyzer = crate::analyzer();
    for (sample, line) in [
        ("az-cli-json-gateway-public-ip.txt", 9),
        ("az-cli-debug-msrest-gateway-public-ip.txt", 32),
        ("ps7-concise-gateway-public-ip.txt", 12),
    ] {
        let report = analyzer.analyze_str(sample, &azure_sample(sample));
        let f = finding(&report, "deploy.failed");
        assert_eq!(
            f.subject, "PublicIpWithBasicSkuNotAllowedOnExpressRouteGateways on hsm-ergw",
            "{sample}"
        );
        assert!(
            f.evidence.iter().any(|e| e.line == line),
            "{sample}: {:?}",
            f.evidence
        );
        assert!(
            !report
                .findings
                .iter()
                .any(|f| f.subject.starts_with("DeploymentFailed")),
            "{sample}: the wrapper is not the finding"
        );
    }
}

/// Issue 3: remediation commands carry the subscription's own names.
#[test]
fn issue_3_remediation_is_filled_from_resource_ids() {
    let analyzer = crate::analyzer();
    let report = analyzer.analyze_str("d", &azure_sample("az-cli-delegation-missing.txt"));
    let f = finding(&report, "deploy.subnet_delegation_missing");
    assert!(commands(f).iter().any(|c| c
        == "az network vnet subnet update --resource-group myRG --vnet-name myHSM-vnet --name hsmsubnet --delegations Microsoft.HardwareSecurityModules/dedicatedHSMs"));

    let report = analyzer.analyze_str("g", &azure_sample("ops-list-gateway-not-ready.json"));
    let f = finding(&report, "deploy.gateway_not_ready");
    assert!(commands(f).iter().any(|c| c.starts_with(
        "az resource show --ids /subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/myRG/providers/Microsoft.Network/virtualNetworkGateways/myHSM-ergw"
    )));
    assert!(
        f.remediation_steps
            .iter()
            .any(|s| s.step.contains("Issues configuring the Azure setup"))
    );

    let report = analyzer.analyze_str("z", &azure_sample("az-cli-hsm-delete-failed.txt"));
    let f = finding(&report, "deprov.not_zeroized");
    let c = commands(f);
    assert!(c.contains(&"az dedicated-hsm delete --resource-group myRG --name HSM1".to_owned()));
    assert!(c.contains(&"Remove-AzDedicatedHsm -Name HSM1 -ResourceGroupName myRG".to_owned()));
    assert!(c.contains(&"az group delete --name myRG".to_owned()));
}

/// Issue 3: HSMs are counted per region and stamp, each once, leftovers
/// included, against the article's limits; the fix goes to Microsoft.
#[test]
fn issue_3_quota_counts_hsms_per_stamp_and_region() {
    let analyzer = crate::analyzer();
    let report = analyzer.analyze_str("q", &azure_sample("az-dedicated-hsm-list-stamp-full.json"));
    let f = finding(&report, "deploy.quota_exceeded");
    assert_eq!((f.subject.as_str(), f.count), ("stamp1 in westus", 3));
    // Which leftovers to delete first: the Failed ones, by name and by id.
    let message = f.message.as_deref().unwrap_or_default();
    assert!(
        message.ends_with("to delete first: hsm-pay-1-retry, hsm-pay-3"),
        "{message}"
    );
    assert!(commands(f).iter().any(|c| c.starts_with("az resource delete --ids /subscriptions/")
        && c.ends_with("/dedicatedHSMs/hsm-pay-1-retry /subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/payments-hsm/providers/Microsoft.HardwareSecurityModules/dedicatedHSMs/hsm-pay-3")));
    assert_eq!(f.owner, hsmdiag::Owner::Microsoft);
    assert!(
        f.remediation_steps
            .iter()
            .any(|s| s.step.contains("HSMrequest@microsoft.com"))
    );

    let report = analyzer.analyze_str("r", &azure_sample("az-graph-query-region-full.json"));
    let subjects: Vec<(&str, u64)> = report
        .findings
        .iter()
        .filter(|f| f.id == "deploy.quota_exceeded")
        .map(|f| (f.subject.as_str(), f.count))
        .collect();
    assert_eq!(subjects, [("eastus", 5), ("stamp2 in eastus", 3)]);

    // The same HSM listed twice is one HSM.
    let list = azure_sample("healthy-dedicated-hsm-list.json");
    let report = analyzer.analyze_str("twice", &format!("{list}\n{list}\n{list}"));
    assert!(report.findings.is_empty(), "{:?}", report.findings);
}

/// Issue 3: Azure output is read in the same stream as appliance syslog, and a
/// cut-off JSON paste is still mined and counted.
#[test]
fn issue_3_mixed_stream_and_cut_off_json() {
    let ntls =
        std::fs::read_to_string(concat!(root!(), "/samples/ntls/article-unknown-ca.log")).unwrap();
    let text = format!(
        "{ntls}\n{}\n{}\n{ntls}",
        azure_sample("az-cli-delegation-missing.txt"),
        azure_sample("tf-gateway-still-creating.txt")
    );
    let report = crate::analyzer_coverage().analyze_str("mixed", &text);
    let mut codes: Vec<&str> = report.findings.iter().map(|f| f.code.as_str()).collect();
    codes.sort_unstable();
    assert_eq!(codes, ["HSM101", "HSM201", "HSM203"]);
    assert_eq!(report.summary.unrecognized_lines, Some(0));

    let cut = "ERROR: {\"status\":\"Failed\",\"error\":{\"code\":\"DeploymentFailed\",\"message\":\"At least one resource deployment operation failed.\",\"details\":[{\"code\":\"AnotherOperationInProgress\",\"message\":\"Another operation on this or dependent resource is in progress.\",\"target\":\"/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/hsmsubnet\"";
    let report = crate::analyzer().analyze_str("cut", cut);
    let f = finding(&report, "deploy.race_condition");
    assert_eq!(f.subject, "hsmsubnet");
    assert_eq!(report.summary.lines, 1);
}

/// A LunaSH `hsm login` attempt and its outcome, as the appliance prints them.
fn hsm_login(ok: bool) -> String {
    let outcome = if ok {
        "'hsm login' successful."
    } else {
        "Error:  'hsm login' failed. (A00000 : LUNA_RET_UM_PIN_INCORRECT)"
    };
    format!(
        "[hsm1] lunash:>hsm login\n\n  Please enter the HSM Administrators' password:\n  > ********\n\n{outcome}\n\nCommand Result : 0 (Success)\n"
    )
}

/// A LunaCM `role login` attempt and its outcome.
fn role_login(role: &str, ok: bool) -> String {
    let result = if ok {
        "No Error"
    } else {
        "0xa0 (CKR_PIN_INCORRECT)"
    };
    format!("lunacm:>role login -name {role}\n\nCommand Result : {result}\n")
}

fn findings(text: &str) -> Vec<(String, Severity, String)> {
    crate::analyzer()
        .analyze_str("session.txt", text)
        .findings
        .into_iter()
        .map(|f| (f.id, f.severity, f.message.unwrap_or_default()))
        .collect()
}

/// Issue 4: the attempts-left guard at every count of the HSM SO's three
/// tries, reset by a success, and the appliance's own counter when shown.
#[test]
fn issue_4_hsm_so_guard_at_every_count() {
    let fail = hsm_login(false);
    let one = findings(&fail);
    assert_eq!(one.len(), 1);
    assert_eq!(
        (one[0].0.as_str(), one[0].1),
        ("auth.login_failed", Severity::Error)
    );
    assert!(
        one[0].2.contains("1 of 3 logins failed in a row; 2 more"),
        "{}",
        one[0].2
    );

    let two = findings(&fail.repeat(2));
    assert_eq!(
        two[0].1,
        Severity::Critical,
        "one try left is critical before it happens"
    );
    assert!(
        two[0].2.contains(
            "2 of 3 logins failed in a row; 1 more wrong password and the HSM is zeroized"
        )
    );

    // The third failure is the zeroization itself.
    let zeroize = "[hsm1] lunash:>hsm login\n\nError:  'hsm login' failed. (30000F : LUNA_RET_SO_LOGIN_FAILURE_THRESHOLD)\n\nError:    The HSM is in the factory reset (zeroized) state.\n\nCommand Result : 0 (Success)\n";
    let three = findings(&format!("{fail}{fail}{zeroize}"));
    assert_eq!(three.len(), 1, "{three:?}");
    assert_eq!(
        (three[0].0.as_str(), three[0].1),
        ("auth.hsm_so_zeroized", Severity::Critical)
    );

    // A success resets the count: two failures, a success, one failure is one.
    let reset = findings(&format!("{fail}{fail}{}{fail}", hsm_login(true)));
    assert_eq!(reset[0].1, Severity::Error);
    assert!(reset[0].2.contains("1 of 3"), "{}", reset[0].2);

    // The appliance's own count wins: `hsm show` says one try is left.
    let show = "[hsm1] lunash:>hsm show\n   HSM Admin login attempts left:      1 before HSM zeroization!\nCommand Result : 0 (Success)\n";
    let shown = findings(show);
    assert_eq!(shown[0].1, Severity::Critical);
    assert!(
        shown[0].2.contains("2 of 3 logins failed in a row; 1 more"),
        "{}",
        shown[0].2
    );
    // ... and all tries left is no finding at all.
    assert!(findings(&show.replace("1 before", "3 before")).is_empty());
    // One more failure after `hsm show` said two were left: one left.
    let after = findings(&format!("{}{fail}", show.replace("1 before", "2 before")));
    assert!(
        after[0].2.contains("2 of 3 logins failed in a row; 1 more"),
        "{}",
        after[0].2
    );
}

/// Issue 4: the ten-try roles at 9 and 10, and a success that resets them.
#[test]
fn issue_4_ten_try_roles_at_nine_and_ten() {
    let co = role_login("co", false);
    let nine = findings(&co.repeat(9));
    assert_eq!(nine.len(), 1);
    assert_eq!(
        (nine[0].0.as_str(), nine[0].1),
        ("auth.login_failed", Severity::Critical)
    );
    assert!(
        nine[0]
            .2
            .starts_with("co role: 9 of 10 logins failed in a row; 1 more")
    );

    let ten = findings(&co.repeat(10));
    assert_eq!(ten.len(), 1, "{ten:?}");
    assert_eq!(
        (ten[0].0.as_str(), ten[0].1),
        ("auth.co_locked_out", Severity::Critical)
    );

    let po = role_login("po", false);
    let pso = findings(&po.repeat(10));
    assert_eq!(pso[0].0, "auth.partition_so_zeroized");
    assert_eq!(findings(&po.repeat(9))[0].0, "auth.login_failed");

    // Nine failures, a success, nine more: never ten in a row.
    let text = format!("{}{}{}", co.repeat(9), role_login("co", true), co.repeat(9));
    let got = findings(&text);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, "auth.login_failed");
    assert!(got[0].2.contains("9 of 10"));

    // A typo then a success is history, reported as information only.
    let typo = findings(&format!("{co}{}", role_login("co", true)));
    assert_eq!(typo[0].1, Severity::Info);
}

/// Issue 4: healthy sessions give no warning or worse.
#[test]
fn issue_4_healthy_sessions_are_quiet() {
    let dir = format!("{}/samples/luna", root!());
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("healthy-") {
            continue;
        }
        n += 1;
        let text = std::fs::read_to_string(&path).unwrap();
        for (id, sev, _) in findings(&text) {
            assert!(sev < Severity::Warning, "{name}: {id} {sev}");
        }
    }
    assert!(n >= 3);
}

/// Issue 4: an application's PKCS#11 logins count toward the Crypto Officer's
/// ten tries (9 warn critically, 10 is the lockout), and CKR_PIN_LOCKED is the
/// lockout itself, in each client library's wording.
#[test]
fn issue_4_pkcs11_logins_from_applications() {
    let fail = "2026/11/20 03:12:44 signer: logging in: pkcs11: 0xA0: CKR_PIN_INCORRECT\n";
    let three = findings(&fail.repeat(3));
    assert_eq!(three.len(), 1, "{three:?}");
    assert_eq!(
        (three[0].0.as_str(), three[0].1),
        ("auth.login_failed", Severity::Warning)
    );
    assert!(
        three[0]
            .2
            .contains("3 of 10 logins failed in a row; 7 more")
    );
    let nine = findings(&fail.repeat(9));
    assert_eq!(nine[0].1, Severity::Critical);
    assert!(nine[0].2.contains("9 of 10"), "{}", nine[0].2);
    let ten = findings(&fail.repeat(10));
    assert_eq!(ten.len(), 1, "{ten:?}");
    assert_eq!(ten[0].0, "auth.co_locked_out");

    for locked in [
        "error: PKCS11 function C_Login failed: rv = CKR_PIN_LOCKED (0xa4)\n",
        "Caused by: sun.security.pkcs11.wrapper.PKCS11Exception: CKR_PIN_LOCKED\n",
        "PyKCS11.PyKCS11Error: CKR_PIN_LOCKED (0x000000A4)\n",
        "time=2026-11-20T03:12:44Z level=error msg=\"login: pkcs11: 0xA4: CKR_PIN_LOCKED\"\n",
    ] {
        let got = findings(locked);
        assert_eq!(got.len(), 1, "{locked}: {got:?}");
        assert_eq!(got[0].0, "auth.co_locked_out", "{locked}");
    }
}

/// Issue 4: the Luna client's own checks: `vtl verify` finding nothing, or an
/// application's slot losing its token, is ntls.partition_not_visible; a
/// verify that lists the partition is quiet.
#[test]
fn issue_4_luna_client_sees_no_partition() {
    let none = "$ vtl verify\nvtl (64-bit) v10.7.2-16. Copyright (c) 2024 Thales Group. All rights reserved.\n\nError: Unable to find any Luna SA slots/partitions among registered server\n";
    let got = findings(none);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(
        (got[0].0.as_str(), got[0].1),
        ("ntls.partition_not_visible", Severity::Error)
    );
    let gone = findings(
        "error: PKCS11 function C_OpenSession failed: rv = CKR_TOKEN_NOT_PRESENT (0xe0)\n",
    );
    assert_eq!(gone[0].0, "ntls.partition_not_visible");
    assert!(gone[0].2.contains("CKR_TOKEN_NOT_PRESENT"));
    // A device error alone is a blip (an NTLS restart, a failover), not this:
    // only the generic return-code rule names it.
    let blip = findings("pkcs11: 0x30: CKR_DEVICE_ERROR\n");
    assert_eq!(blip.len(), 1, "{blip:?}");
    assert_eq!(blip[0].0, "client.operation_failed");
    assert!(blip[0].2.contains("CKR_DEVICE_ERROR"), "{blip:?}");
    let ok = "$ vtl verify\n\nThe following Luna SA Slots/Partitions were found:\n\nSlot    Serial #                Label\n====    ================        =====\n   0       1682975235230        prod-signing\n";
    assert!(findings(ok).is_empty());
    // With the port test failing in the same paste, the cause is named instead.
    let blocked = format!(
        "$ nc -zv 10.3.0.4 1792\nnc: connect to 10.3.0.4 port 1792 (tcp) failed: Connection timed out\n{none}"
    );
    let got = findings(&blocked);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, "net.port_1792_unreachable");
}

fn incident() -> (hsmdiag::Report, Vec<hsmdiag::Event>, Vec<hsmdiag::Input>) {
    let dir = std::path::PathBuf::from(concat!(root!(), "/samples/incident"));
    let (inputs, errors) = hsmdiag::expand(&[dir]);
    assert!(errors.is_empty());
    assert_eq!(inputs.len(), 5);
    let (report, errors, events) = crate::analyzer().analyze_with_events(&inputs);
    assert!(errors.is_empty());
    (report, events, inputs)
}

/// Issue 5: five sources of one incident — deployment output, gateway state, two
/// appliances (one clock 7m12s ahead) and a client — give the estimated skew,
/// the chained findings, and one timeline on the client's clock.
#[test]
fn issue_5_one_incident_across_sources() {
    let (report, events, inputs) = incident();
    // Clock skew, from the client's SYNs paired with each appliance's
    // "Incoming connection request" for the same address and port.
    let skew = |name: &str| {
        report
            .clock_skew
            .iter()
            .find(|s| s.source.ends_with(name))
            .unwrap_or_else(|| panic!("no skew for {name}: {:?}", report.clock_skew))
    };
    let hsm2 = skew("hsm2-lunalogs.log");
    assert!(hsm2.reference.ends_with("client01-capture-and-lunacm.txt"));
    assert!(
        (431_000..=432_500).contains(&hsm2.offset_ms),
        "{}",
        hsm2.offset_ms
    );
    assert_eq!(hsm2.pairs, 3);
    assert!(skew("hsm1-lunalogs.log").offset_ms.abs() < 1000);

    // Chains: the certificate regenerated on hsm2 → unknown ca; the gateway
    // not Succeeded (another file) → the HSM deployment's race condition.
    let unknown_ca = finding(&report, "ntls.unknown_ca");
    let chain = unknown_ca.chain.as_deref().unwrap();
    assert!(
        chain.starts_with("the HSM's NTLS server certificate was regenerated"),
        "{chain}"
    );
    assert!(
        chain.contains("hsm2-lunalogs.log:5, 2026-11-20 02:00:00"),
        "{chain}"
    );
    let race = finding(&report, "deploy.race_condition");
    assert_eq!(race.related.len(), 1);
    assert!(race.related[0].source.ends_with("gateway-show.json"));
    assert!(
        race.chain
            .as_deref()
            .unwrap()
            .contains(" → AnotherOperationInProgress")
    );
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.id == "ha.member_not_recovered")
    );

    // The timeline: hsm2's regenCert comes first on the client's clock, and
    // hsm2's log of the client's connection sits right after the client's SYN.
    let names = |s: hsmdiag::SourceId| inputs[s.0 as usize].name.clone();
    let tl = hsmdiag::timeline::build(&report, &events, &names);
    let pos = |file: &str, line: u32| {
        tl.iter()
            .position(|e| e.source.ends_with(file) && e.line == line)
            .unwrap_or_else(|| panic!("{file}:{line} not in the timeline"))
    };
    let regen = pos("hsm2-lunalogs.log", 5);
    assert!(tl[regen].marks.contains(&"cause of HSM101".to_owned()));
    assert!(
        regen < pos("hsm1-lunalogs.log", 3),
        "regenCert came before any connection"
    );
    let syn = pos("client01-capture-and-lunacm.txt", 7);
    let incoming = pos("hsm2-lunalogs.log", 8);
    assert!(syn < incoming && incoming < pos("hsm1-lunalogs.log", 5));
    let t = tl[incoming].time.unwrap();
    assert_eq!(
        t.format("%H:%M:%S").to_string(),
        "02:10:00",
        "corrected from 02:17:12"
    );
    assert!(tl.windows(2).all(|w| match (w[0].time, w[1].time) {
        (Some(a), Some(b)) => a <= b,
        _ => true,
    }));
}

/// Issue 5: `--since` / `--until` leave events out at load and say how many.
#[test]
fn issue_5_time_window() {
    let text = std::fs::read_to_string(concat!(root!(), "/samples/ntls/unknown-ca-appliance.log"))
        .unwrap();
    let at = |s: &str| {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .with_timezone(&chrono::Utc)
    };
    let all = crate::analyzer_coverage().analyze_str("a.log", &text);
    let windowed = hsmdiag::AnalyzerBuilder::new()
        .window(Some(at("2026-03-01T10:10:00Z")), None)
        .coverage(true)
        .build()
        .unwrap()
        .analyze_str("a.log", &text);
    assert_eq!(all.summary.outside_window, Some(0));
    assert!(windowed.summary.outside_window > Some(10));
    assert_eq!(
        windowed.summary.lines, all.summary.lines,
        "every line is still accounted for"
    );
    let first = |r: &hsmdiag::Report| finding(r, "ntls.unknown_ca").first_seen.unwrap();
    assert!(first(&windowed) >= at("2026-03-01T10:10:00Z"));
    assert!(first(&all) < at("2026-03-01T10:10:00Z"));
    let until = hsmdiag::AnalyzerBuilder::new()
        .window(None, Some(at("2026-03-01T10:00:00Z")))
        .build()
        .unwrap()
        .analyze_str("a.log", &text);
    assert!(until.findings.is_empty());
}

/// Issue 5: failed logins from one client host explain the lockout another
/// host meets: the chain crosses inputs by time.
#[test]
fn issue_5_failed_logins_on_one_host_explain_a_lockout_on_another() {
    let dir = std::env::temp_dir().join(format!("hsmdiag-issue5-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let batch = dir.join("batch01-signer.log");
    let mut text = String::new();
    for i in 0..10 {
        text.push_str(&format!(
            "2026/11/20 02:0{i}:00 signer: logging in: pkcs11: 0xA0: CKR_PIN_INCORRECT\n"
        ));
    }
    std::fs::write(&batch, text).unwrap();
    let web = dir.join("web02-app.log");
    std::fs::write(
        &web,
        "2026-11-20 02:30:00,001 ERROR [main] KeyStoreLoader - login failed: sun.security.pkcs11.wrapper.PKCS11Exception: CKR_PIN_LOCKED\n",
    )
    .unwrap();
    let (inputs, _) = hsmdiag::expand(&[web.clone(), batch.clone()]);
    let (report, errors) = crate::analyzer().analyze(&inputs);
    assert!(errors.is_empty());
    let locked: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.id == "auth.co_locked_out")
        .collect();
    // web02 meets the lockout at 02:30; batch01's ten failures came before it.
    let on_web = locked
        .iter()
        .find(|f| f.evidence[0].source.ends_with("web02-app.log"))
        .expect("the lockout web02 meets");
    assert_eq!(
        on_web.related.len(),
        3,
        "the nearest three: {:?}",
        on_web.related
    );
    assert!(
        on_web
            .related
            .iter()
            .all(|r| r.source.ends_with("batch01-signer.log")
                && r.text.contains("CKR_PIN_INCORRECT"))
    );
    assert_eq!(
        on_web.related[0].line, 10,
        "the last failure is the nearest"
    );
    assert!(
        on_web
            .chain
            .as_deref()
            .unwrap()
            .starts_with("a failed Crypto Officer login")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Text copied from a web page keeps its hard line breaks: the sentence is
/// joined back before it is typed, and Luna's count words are counts.
#[test]
fn issue_15_hard_wrapped_warning_and_count_words() {
    let wrapped = "One bad login\nCaution: You\nhave only TWO HSM Admin logins attempts left. If\nyou\nfail two more consecutive login attempts\n";
    let got = findings(wrapped);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, "auth.login_failed");
    assert_eq!(got[0].1, Severity::Error);
    assert!(got[0].2.contains("1 of 3"), "{got:?}");
    // LAST is one try left.
    let last = findings(
        "lunash:>hsm login\nCaution:  This is your LAST available HSM Admin login attempt.\n",
    );
    assert_eq!(last.len(), 1, "{last:?}");
    assert_eq!(last[0].1, Severity::Critical);
    // A blank line ends the sentence: nothing is joined across it.
    assert!(findings("Caution: You\n\nhave only TWO HSM Admin logins attempts left.\n").is_empty());
}

/// One HSM client failing the NTLS handshake after `sysconf regenCert`, in
/// the appliance's lunalogs layout.
fn unknown_ca(host: &str, time: &str, ip: &str, port: u32) -> String {
    format!(
        "2026 Mar 01 {time} {host}  local5 info  NTLS [2490]: info : 0 : Incoming connection request... : {ip}/{port}\n\
         2026 Mar 01 {time} {host}  local5 info  NTLS [2490]: Error message from SSLAccept is : error:14094418:SSL routines:ssl3_read_bytes:tlsv1 alert unknown ca\n\
         2026 Mar 01 {time} {host}  local5 info  NTLS [2490]: Error during SSL accept ( RC_SSL_ERROR )\n\
         2026 Mar 01 {time} {host}  local5 info  NTLS [2490]: info : 0xc0000711 : Fail to establish a secure channel with client : {ip}/{port} : RC_SSL_FAILED_HANDSHAKE\n"
    )
}

/// Issue 15: thirty clients failing one way on one HSM are one finding that
/// lists them all (the text names the first few); another HSM, or the same
/// failure hours later, is another finding.
#[test]
fn issue_15_one_finding_per_cause() {
    let path = format!("{}/samples/ntls/unknown-ca-thirty-clients.log", root!());
    let text = std::fs::read_to_string(path).unwrap();
    let report = crate::analyzer().analyze_str("lunalogs", &text);
    assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
    let f = &report.findings[0];
    assert_eq!(f.id, "ntls.unknown_ca");
    assert_eq!(f.subject, "30 clients on hsm1");
    assert_eq!(f.count, 30);
    assert_eq!(f.affected.len(), 30);
    assert_eq!(f.affected[0], "10.3.2.1");
    assert_eq!(f.affected[29], "10.3.2.30");
    let m = f.message.as_deref().unwrap();
    // The first client speaks; the others are named, the first three in text.
    assert!(m.starts_with("client 10.3.2.1 failed"), "{m}");
    assert!(
        m.contains("29 other clients: 10.3.2.2, 10.3.2.3, 10.3.2.4 and 26 more"),
        "{m}"
    );
    // One set of steps, for no one client in particular, then who to do them for.
    let rule_steps = crate::analyzer()
        .knowledge_base()
        .find("HSM101")
        .unwrap()
        .remediation
        .len();
    assert_eq!(f.remediation_steps.len(), rule_steps + 1);
    assert!(
        f.remediation.iter().all(|s| !s.contains("10.3.2.1 ")),
        "{:?}",
        f.remediation
    );
    assert!(f.remediation[0].contains("<client>"), "{:?}", f.remediation);
    assert!(
        f.remediation[rule_steps]
            .contains("each of the 30 clients: 10.3.2.1, 10.3.2.2, 10.3.2.3 and 27 more")
    );

    // Two HSMs: one finding each.
    let two = unknown_ca("hsm1", "10:05:00", "10.3.2.1", 40001)
        + &unknown_ca("hsm1", "10:05:10", "10.3.2.2", 40002)
        + &unknown_ca("hsm2", "10:05:20", "10.3.2.3", 40003);
    let got = crate::analyzer().analyze_str("lunalogs", &two).findings;
    let mut subjects: Vec<&str> = got.iter().map(|f| f.subject.as_str()).collect();
    subjects.sort();
    assert_eq!(subjects, ["10.3.2.3", "2 clients on hsm1"]);

    // The same failure three hours later is not the same incident.
    let apart = unknown_ca("hsm1", "10:05:00", "10.3.2.1", 40001)
        + &unknown_ca("hsm1", "13:05:00", "10.3.2.2", 40002);
    let got = crate::analyzer().analyze_str("lunalogs", &apart).findings;
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got.iter().all(|f| f.affected.is_empty()));
}

/// Issue 15: the remediation fits the role and the log: a partition role's
/// counter is read with `role show` (an HSM SO's with `hsm show`), a service
/// restarting between failed logins is called out, and `--since` says when it
/// hid earlier failures of a streak.
#[test]
fn issue_15_remediation_that_is_right() {
    let dir = root!();
    let read = |p: &str| std::fs::read_to_string(format!("{dir}/samples/{p}")).unwrap();
    let co = crate::analyzer().analyze_str("s", &read("luna/lunacm-co-nine-failures.txt"));
    let steps = &co.findings[0].remediation;
    assert!(
        steps.iter().any(|s| s.contains("role show -name co")),
        "{steps:?}"
    );
    assert!(
        !steps.iter().any(|s| s.contains("lunash:> hsm show")),
        "{steps:?}"
    );
    let so = crate::analyzer().analyze_str("s", &read("luna/syslog-hsm-admin-login-failures.log"));
    let steps = &so.findings[0].remediation;
    assert!(
        steps.iter().any(|s| s.contains("lunash:> hsm show")),
        "{steps:?}"
    );
    assert!(!steps.iter().any(|s| s.contains("role show")), "{steps:?}");

    let mut b = hsmdiag::AnalyzerBuilder::new();
    b.year(Some(2026));
    let looped = b
        .build()
        .unwrap()
        .analyze_str("s", &read("luna/client-service-restart-loop.log"));
    let f = &looped.findings[0];
    assert_eq!(f.id, "auth.login_failed");
    assert!(
        f.related
            .iter()
            .any(|r| r.relation == hsmdiag::Relation::During
                && r.note.contains("restarts in a loop")),
        "{:?}",
        f.related
    );
    assert!(
        f.remediation.iter().any(|s| s.contains("systemctl stop")),
        "{:?}",
        f.remediation
    );

    let since = chrono::DateTime::parse_from_rfc3339("2026-10-14T09:13:10Z")
        .unwrap()
        .to_utc();
    let mut b = hsmdiag::AnalyzerBuilder::new();
    b.window(Some(since), None);
    let cut = b
        .build()
        .unwrap()
        .analyze_str("s", &read("luna/syslog-hsm-admin-login-failures.log"));
    let m = cut.findings[0].message.as_deref().unwrap();
    assert!(m.contains("1 of 3"), "{m}");
    assert!(m.contains("1 matching failure was before --since"), "{m}");
}

/// Issue 15: a step the log shows done is not advised again: a certificate
/// regenerated after the expiry warning leaves "give the clients the new one".
#[test]
fn issue_15_no_advice_to_redo_what_the_log_shows_done() {
    let dir = root!();
    let read = |p: &str| std::fs::read_to_string(format!("{dir}/samples/{p}")).unwrap();
    let mut b = hsmdiag::AnalyzerBuilder::new();
    b.year(Some(2026));
    let a = b.build().unwrap();
    let before = a.analyze_str("s", &read("ntls/cert-expiring.log"));
    let f = before
        .findings
        .iter()
        .find(|f| f.id == "ntls.cert_expiring")
        .unwrap();
    assert!(
        f.remediation
            .iter()
            .any(|s| s.contains("sysconf regenCert")),
        "{:?}",
        f.remediation
    );
    let after = a.analyze_str("s", &read("ntls/cert-expiring-then-regenerated.log"));
    let f = after
        .findings
        .iter()
        .find(|f| f.id == "ntls.cert_expiring")
        .unwrap();
    assert!(
        !f.remediation
            .iter()
            .any(|s| s.contains("sysconf regenCert")),
        "{:?}",
        f.remediation
    );
    assert!(f.remediation[0].contains("Give every client the new server certificate"));
    assert!(
        f.related
            .iter()
            .any(|r| r.note.contains("regenerated since"))
    );
    // The regeneration is a finding of its own.
    assert!(
        after
            .findings
            .iter()
            .any(|f| f.id == "ntls.server_cert_regenerated")
    );
}

/// One az CLI error line that two of a rule's matchers read (its code in the
/// table of Azure codes, its words naming the delegation) is one finding, in
/// the words of the matcher that names most of it (of equals, the one written
/// first), not two with different subjects.
#[test]
fn issue_16_one_line_two_matchers_one_finding() {
    let text = "ERROR: (SubnetMissingRequiredDelegation) Subnet hsmsubnet01 in VNET hsm-prod-vnet is missing a delegation to Microsoft.HardwareSecurityModules/dedicatedHSMs.\n\
                Code: SubnetMissingRequiredDelegation\n\
                Message: Subnet hsmsubnet01 in VNET hsm-prod-vnet is missing a delegation to Microsoft.HardwareSecurityModules/dedicatedHSMs.\n";
    let report = crate::analyzer().analyze_str("az.txt", text);
    let found: Vec<(&str, &str)> = report
        .findings
        .iter()
        .map(|f| (f.code.as_str(), f.subject.as_str()))
        .collect();
    assert_eq!(
        found,
        [("HSM201", "SubnetMissingRequiredDelegation on the subnet")]
    );
    // With the subnet's id, both matchers name it: the first written speaks.
    let text = format!(
        "{text}Target: /subscriptions/3f2c8a61-7d4e-4b9a-9c1e-5a0d2b7e4f19/resourceGroups/hsm-prod-rg/providers/Microsoft.Network/virtualNetworks/hsm-prod-vnet/subnets/hsmsubnet01\n"
    );
    let report = crate::analyzer().analyze_str("az.txt", &text);
    let found: Vec<(&str, &str)> = report
        .findings
        .iter()
        .map(|f| (f.code.as_str(), f.subject.as_str()))
        .collect();
    assert_eq!(found, [("HSM201", "hsmsubnet01 in hsm-prod-vnet")]);
}

/// Issue 16: memory stays bounded however many clients fail: a rule holds
/// at most MAX_SUBJECTS_PER_RULE subjects in full; the rest are counted into
/// their group's finding (`affected_omitted`, about) — nothing is lost.
#[test]
fn issue_16_subjects_beyond_the_bound_are_counted_not_lost() {
    let cap = hsmdiag::MAX_SUBJECTS_PER_RULE;
    let n = cap + 500;
    let mut text = String::new();
    for i in 0..n {
        let ip = format!("10.9.{}.{}", i / 250, 1 + i % 250);
        text.push_str(&unknown_ca("hsm1", "10:05:00", &ip, 40000 + i as u32));
    }
    let report = crate::analyzer().analyze_str("lunalogs", &text);
    assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
    let f = &report.findings[0];
    assert_eq!(f.count, n as u64, "every occurrence counted");
    assert_eq!(f.affected.len(), cap, "the first ones listed");
    let more = f.affected_omitted;
    assert!((490..=510).contains(&more), "{more}");
    assert_eq!(
        f.subject,
        format!("about {} clients on hsm1", cap as u64 + more)
    );
    let json = serde_json::to_value(f).unwrap();
    assert_eq!(json["affected_omitted"], more);
    assert!(report.summary.omitted.is_empty(), "folded into the finding");
}

/// Issue 16: a user pattern whose automaton would be huge (nested counted
/// repetitions) is refused before it is built, naming the file — not compiled
/// into gigabytes.
#[test]
fn issue_16_a_huge_user_pattern_is_refused_before_it_is_built() {
    let file = "[[message]]\nevent = \"x.evil\"\npattern = '^(?:(?:\\w{1,30}){1,30}){1,30}$'\nsamples = [ { text = \"abc\" } ]\n";
    let mut b = hsmdiag::AnalyzerBuilder::new();
    b.grammar(
        "evil.toml",
        format!("name = \"evil\"\ndescription = \"x\"\nraw = true\n\n{file}"),
    );
    let err = b.build().expect_err("refused").to_string();
    assert!(err.contains("evil.toml"), "{err}");
    assert!(err.contains("size limit"), "{err}");
}

/// Issue 16: a rule without a group keeps at most MAX_SUBJECTS_PER_RULE
/// findings; the subjects beyond are counted in the summary's `omitted` and
/// said in the text report.
#[test]
fn issue_16_findings_beyond_the_bound_are_counted_in_the_summary() {
    let rule = r#"
id = "site.client_failed"
code = "HSM811"
title = "a client failed the handshake"
severity = "warning"
subject = "{client.ip}"
meaning = "A client failed."

[[match]]
kind = "single"
event = "ntls.secure_channel_failed"
label = "client"
note = "failed"

[[remediation]]
step = "Look at client {client.ip}"
"#;
    let mut b = hsmdiag::AnalyzerBuilder::new();
    b.rule("site.toml", rule);
    let analyzer = b.build().expect("the rule loads");
    let cap = hsmdiag::MAX_SUBJECTS_PER_RULE;
    let n = cap + 200;
    let mut text = String::new();
    for i in 0..n {
        let ip = format!("10.8.{}.{}", i / 250, 1 + i % 250);
        text.push_str(&unknown_ca("hsm1", "10:05:00", &ip, 40000 + i as u32));
    }
    let report = analyzer.analyze_str("lunalogs", &text);
    let held = report
        .findings
        .iter()
        .filter(|f| f.code.as_str() == "HSM811")
        .count();
    assert_eq!(held, cap);
    let o = report
        .summary
        .omitted
        .iter()
        .find(|o| o.code == "HSM811")
        .expect("counted");
    assert_eq!(o.occurrences, 200);
    assert!((195..=205).contains(&o.subjects), "{}", o.subjects);
    let mut out = Vec::new();
    hsmdiag::write_text(&report, &mut out, hsmdiag::TextOptions::new(false, 100)).unwrap();
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.contains("Left out: HSM811 site.client_failed about"),
        "{out}"
    );
}

/// Issue 31: the bound on subjects is per group (host, cause), never a
/// reason to hide another group: 1,000 failing clients on hsm1 and one on
/// hsm2 give hsm2 its own finding, read whole and followed alike.
#[test]
fn issue_31_a_flood_on_one_host_never_hides_another() {
    let cap = hsmdiag::MAX_SUBJECTS_PER_RULE;
    let mut text = String::new();
    for i in 0..cap + 50 {
        let ip = format!("10.9.{}.{}", i / 250, 1 + i % 250);
        text.push_str(&unknown_ca("hsm1", "10:05:00", &ip, 40000 + i as u32));
    }
    text.push_str(&unknown_ca("hsm2", "10:06:00", "10.7.0.9", 41000));
    let report = crate::analyzer().analyze_str("lunalogs", &text);
    let hosts: Vec<Option<&str>> = report
        .findings
        .iter()
        .filter(|f| f.id == "ntls.unknown_ca")
        .map(|f| f.host.as_deref())
        .collect();
    assert!(hosts.contains(&Some("hsm1")), "{hosts:?}");
    assert!(hosts.contains(&Some("hsm2")), "{hosts:?}");
    let hsm2 = report
        .findings
        .iter()
        .find(|f| f.host.as_deref() == Some("hsm2"))
        .unwrap();
    assert!(
        hsm2.subject.contains("10.7.0.9") || hsm2.affected.iter().any(|a| a == "10.7.0.9"),
        "{hsm2:?}"
    );
}

/// Issue 31: a count with `threshold = 0` would fire before anything
/// happened: refused at load, with the file.
#[test]
fn issue_31_a_zero_threshold_is_refused() {
    let rule = r#"
id = "site.zero"
code = "HSM812"
title = "zero"
severity = "warning"
subject = "{host}"
meaning = "x"

[[match]]
kind = "count"
event = "ntls.secure_channel_failed"
threshold = 0
label = "client"
note = "x"

[[remediation]]
step = "x"
"#;
    let mut b = hsmdiag::AnalyzerBuilder::new();
    b.rule("zero.toml", rule);
    let err = b.build().expect_err("refused").to_string();
    assert!(
        err.contains("zero.toml") && err.contains("threshold"),
        "{err}"
    );
}

/// Issue 32: ordinary cron lines of every Debian or Ubuntu syslog are no
/// failed Azure deployment: the bare `(Code) Message` of the Azure CLI needs
/// a code shaped like Azure's, and a real one still counts.
#[test]
fn issue_32_cron_lines_are_no_deployment_error() {
    let text = "Nov 20 14:03:00 host CRON[4411]: (root) CMD (/usr/lib/sa/sa1 1 1)\n\
                Nov 20 14:03:01 host CRON[4412]: (CRON) info (No MTA installed, discarding output)\n\
                Nov 20 14:05:00 host CRON[4413]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)\n";
    let report = crate::analyzer().analyze_str("syslog", text);
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    let az = "(ResourceGroupNotFound) Resource group 'hsm-rg' could not be found.\nCode: ResourceGroupNotFound\nMessage: Resource group 'hsm-rg' could not be found.\n";
    let report = crate::analyzer().analyze_str("az.txt", az);
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.code.as_str().starts_with("HSM2")),
        "{:?}",
        report.findings
    );
}

/// Issue 32: a tool's generic `Error: <message>` is no failed Azure
/// deployment on its own; with Azure text around it in the same input (an
/// azurerm resource address in its Terraform box, an Azure error before it)
/// it is; `vtl verify`'s short wording is the client seeing no partition.
#[test]
fn issue_32_a_generic_error_line_needs_azure_around_it() {
    let ids = |name: &str, text: &str| -> Vec<String> {
        crate::analyzer()
            .analyze_str(name, text)
            .findings
            .iter()
            .map(|f| f.id.clone())
            .collect()
    };
    assert!(ids("a.log", "Error: something went wrong\n").is_empty());
    assert!(ids("b.log", "│ Error: Missing required argument\n│\n╵\n").is_empty());
    let boxed = "╷\n│ Error: Missing required argument\n│\n│   with azurerm_dedicated_hardware_security_module.hsm1,\n│   on main.tf line 12, in resource \"azurerm_dedicated_hardware_security_module\" \"hsm1\":\n╵\n";
    assert_eq!(ids("tf.txt", boxed), ["deploy.failed"]);
    let after_az = "ERROR: (InvalidTemplate) Deployment template validation failed.\nError: the deployment could not continue\n";
    assert!(ids("az.txt", after_az).contains(&"deploy.failed".to_string()));
    assert_eq!(
        ids(
            "vtl.txt",
            "Error: Unable to find any Luna SA slots/partitions.\n"
        ),
        ["ntls.partition_not_visible"]
    );
}

/// Issue 32: registration is asynchronous. `Registering` right after `az
/// feature register` (and the provider's "still on-going") is normal, not a
/// refused subscription; `Pending` (waiting for approval) still is reported.
#[test]
fn issue_32_registering_is_in_progress_not_refused() {
    let feature = |state: &str| {
        format!(
            "$ az feature register --namespace Microsoft.HardwareSecurityModules --name AzureDedicatedHSM\n{{\n  \"id\": \"/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Features/providers/Microsoft.HardwareSecurityModules/features/AzureDedicatedHSM\",\n  \"name\": \"Microsoft.HardwareSecurityModules/AzureDedicatedHSM\",\n  \"properties\": {{\n    \"state\": \"{state}\"\n  }},\n  \"type\": \"Microsoft.Features/providers/features\"\n}}\n"
        )
    };
    let ids = |text: &str| -> Vec<String> {
        crate::analyzer()
            .analyze_str("feature.txt", text)
            .findings
            .iter()
            .map(|f| f.id.clone())
            .collect()
    };
    assert!(ids(&feature("Registering")).is_empty());
    assert_eq!(ids(&feature("Pending")), ["deploy.not_allowlisted"]);
    let provider = "$ az provider register --namespace Microsoft.HardwareSecurityModules\nRegistering is still on-going. You can monitor using 'az provider show -n Microsoft.HardwareSecurityModules'\n";
    assert!(ids(provider).is_empty());
}

/// Issue 32: the appliance's own count of HSM SO login attempts wins over
/// the failures counted: two failures, then `hsm show` with 2 left is an
/// error (not critical), with 3 left (the maximum) the streak is over and
/// nothing at warning or worse remains; with 1 left it is critical.
#[test]
fn issue_32_the_appliances_count_of_attempts_left_wins() {
    let failed = "[local_host] lunash:>hsm login\n\n  Please enter the HSM Administrators' password:\n  > ********\n\n\nError:  'hsm login' failed. (A00000 : LUNA_RET_UM_PIN_INCORRECT)\n\n\nCommand Result : 0 (Success)\n";
    let show = |status: &str, left: &str| {
        format!(
            "{failed}{failed}[local_host] lunash:>hsm show\n\n   HSM Details:\n   ============\n   HSM Label:                          hsm1\n   HSM Admin login status:             {status}\n   HSM Admin login attempts left:      {left}\n\nCommand Result : 0 (Success)\n"
        )
    };
    let severity = |text: &str| {
        let report = crate::analyzer().analyze_str("lunash.txt", text);
        let f: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.id == "auth.login_failed")
            .collect();
        assert_eq!(f.len(), 1, "{:?}", report.findings);
        f[0].severity
    };
    use hsmdiag::Severity;
    assert_eq!(severity(&show("Logged In", "3")), Severity::Info);
    assert_eq!(
        severity(&show("Not Logged In", "2 before HSM zeroization!")),
        Severity::Error
    );
    assert_eq!(
        severity(&show("Not Logged In", "1 before HSM zeroization!")),
        Severity::Critical
    );
}

/// Issue 32, the small ones: an `az` error pasted after a LunaSH session is
/// not the appliance's (no host); a finding whose events share a second is
/// "seen … at", not "from T to T"; a template's finding says nothing about
/// the log's times; Markdown counts "errors".
#[test]
fn issue_32_small_ones() {
    let a = crate::analyzer();
    let r = a.analyze_str(
        "paste.txt",
        "[hsm1] lunash:>hsm show\n   HSM Label:   hsm1\n\nCommand Result : 0 (Success)\nERROR: (InvalidTemplate) Deployment template validation failed: the subnet is not delegated.\n",
    );
    assert_eq!(r.findings.len(), 1, "{:?}", r.findings);
    assert_eq!(r.findings[0].host, None);
    let r = a.analyze_str(
        "ntls.log",
        "2026 Mar 01 10:05:00 hsm1 local5 info NTLS [2490]: Error message from SSLAccept is : error:14094418:SSL routines:ssl3_read_bytes:tlsv1 alert unknown ca\n2026 Mar 01 10:05:00 hsm1 local5 info NTLS [2490]: info : 0xc0000711 : Fail to establish a secure channel with client : 10.3.1.4/59415 : RC_SSL_FAILED_HANDSHAKE\n",
    );
    let mut text = Vec::new();
    hsmdiag::write_text(&r, &mut text, hsmdiag::TextOptions::new(false, 100)).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.contains("seen once, at 2026-03-01 10:05:00 UTC"),
        "{text}"
    );
    assert!(!text.contains(" to 2026-03-01 10:05:00"), "{text}");
    let mut md = Vec::new();
    hsmdiag::write_markdown(&r, &mut md).unwrap();
    let md = String::from_utf8(md).unwrap();
    assert!(md.contains("1 error,"), "{md}");
    let lint = a.lint_str(
        "azuredeploy.json",
        &std::fs::read_to_string(
            std::path::Path::new(root!()).join("samples/lint/arm-quickstart-no-delegation.json"),
        )
        .unwrap(),
    );
    assert!(!lint.findings.is_empty());
    let mut t = Vec::new();
    hsmdiag::write_text(&lint, &mut t, hsmdiag::TextOptions::new(false, 100)).unwrap();
    let t = String::from_utf8(t).unwrap();
    assert!(!t.contains("the log has no times"), "{t}");
}

/// Issue 32: when the input is Terraform's output, the Terraform fix comes
/// first (a change made with `az` drifts back on the next apply); from the
/// Azure CLI, the `az` fix does.
#[test]
fn issue_32_the_terraform_fix_first_for_terraform() {
    let first_step = |file: &str| {
        let text = std::fs::read_to_string(std::path::Path::new(root!()).join(file)).unwrap();
        let r = crate::analyzer().analyze_str(file, &text);
        let f = r
            .findings
            .iter()
            .find(|f| f.id == "deploy.subnet_delegation_missing")
            .unwrap_or_else(|| panic!("{file}: {:?}", r.findings));
        f.remediation_steps[0].step.clone()
    };
    assert!(first_step("samples/azure/tf-delegation-missing.txt").starts_with("In Terraform"));
    assert!(!first_step("samples/azure/az-cli-delegation-missing.txt").starts_with("In Terraform"));
}

/// Issue 32: one clock in a report: when an input's clock runs off the
/// reference, "Seen … from" is on the reference clock, as the cause → effect
/// chain is, and both say so.
#[test]
fn issue_32_seen_and_the_chain_use_one_clock() {
    let (inputs, _) = hsmdiag::expand(&[std::path::Path::new(root!()).join("samples/incident")]);
    let (report, _) = crate::analyzer().analyze(&inputs);
    let mut md = Vec::new();
    hsmdiag::write_markdown(&report, &mut md).unwrap();
    let md = String::from_utf8(md).unwrap();
    let seen = md
        .lines()
        .find(|l| l.starts_with("Seen") && l.contains("reference clock"))
        .unwrap_or_else(|| panic!("{md}"));
    let chain = md
        .lines()
        .find(|l| {
            l.contains("tlsv1 alert unknown ca")
                && l.starts_with("**Cause → effect** (reference clock)")
        })
        .unwrap_or_else(|| panic!("{md}"));
    // The finding's first time in the chain is the one "Seen" starts from.
    let from = seen
        .split("from ")
        .nth(1)
        .unwrap()
        .split(" UTC")
        .next()
        .unwrap();
    assert!(chain.contains(&format!("{from})")), "{seen}\n{chain}");
}

/// Issue 32, item 6: an HA member down on the HSM whose NTLS certificate was
/// regenerated is related to that regeneration (the member's serial is the
/// partition's on that HSM), and its first step re-registers that HSM's
/// certificate. The same member down with the regeneration on another HSM is
/// not related, and the step is left out.
#[test]
fn issue_32_ha_member_down_is_traced_to_its_hsms_certificate_regeneration() {
    let text = std::fs::read_to_string(concat!(
        root!(),
        "/samples/luna/ha-member-down-after-regencert.txt"
    ))
    .unwrap();
    let reregister = |f: &hsmdiag::Finding| {
        f.remediation_steps.iter().any(|s| {
            s.command
                .as_deref()
                .is_some_and(|c| c.contains("vtl addServer"))
        })
    };

    let report = crate::analyzer_2026().analyze_str("ticket.txt", &text);
    let down = finding(&report, "ha.member_not_recovered");
    let chain = down.chain.as_deref().expect("a chain");
    assert!(
        chain.starts_with("the member's HSM regenerated its NTLS server certificate"),
        "{chain}"
    );
    assert!(chain.contains("member 1238700701509 is down"), "{chain}");
    assert!(reregister(down), "{:#?}", down.remediation_steps);

    // The regeneration on hsm1, whose partition is not the member that is down.
    let elsewhere = text.replace("[hsm2]", "[hsm1]").replace(
        "Partition SN:                        1238700701509",
        "Partition SN:                        154438865287",
    );
    let report = crate::analyzer_2026().analyze_str("ticket.txt", &elsewhere);
    let down = finding(&report, "ha.member_not_recovered");
    assert!(
        down.chain
            .as_deref()
            .is_none_or(|c| !c.contains("regenerated")),
        "{:?}",
        down.chain
    );
    assert!(!reregister(down), "{:#?}", down.remediation_steps);
}
