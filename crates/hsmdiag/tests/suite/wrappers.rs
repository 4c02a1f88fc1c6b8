//! Every wrapper stage on real-shaped text, through the whole analysis: the
//! finding is the one the bare text gives, and its evidence points at the
//! original line and bytes of the input (the wrapper's bytes are gone from
//! the evidence text, not from the positions).

use hsmdiag::{AnalyzerBuilder, Evidence, Report};

fn analyze(text: &str) -> Report {
    AnalyzerBuilder::new()
        .unrecognized(true)
        .build()
        .expect("built-in files load")
        .analyze_str("pasted.txt", text)
}

/// The finding `id`'s first evidence.
fn evidence<'r>(report: &'r Report, id: &str) -> &'r Evidence {
    let f = report
        .findings
        .iter()
        .find(|f| f.id == id)
        .unwrap_or_else(|| {
            panic!(
                "no {id}: {:?}",
                report.findings.iter().map(|f| &f.id).collect::<Vec<_>>()
            )
        });
    &f.evidence[0]
}

/// The input's line `no` (1-based), without its line ending.
fn line(text: &str, no: u32) -> &str {
    text.split('\n')
        .nth(no as usize - 1)
        .unwrap()
        .trim_end_matches('\r')
}

/// Asserts the evidence sits on line `no`, starts at the byte of the input
/// where `at` starts on that line, and that its text is the line from there
/// with the given wrapper pieces taken out.
fn points_at(text: &str, ev: &Evidence, no: u32, at: &str, cut: &[&str]) {
    assert_eq!(ev.line, no, "{ev:?}");
    let l = line(text, no);
    let line_start = text
        .split('\n')
        .take(no as usize - 1)
        .map(|l| l.len() + 1)
        .sum::<usize>();
    let col = l
        .find(at)
        .unwrap_or_else(|| panic!("`{at}` not on line {no}"));
    assert_eq!(ev.column as usize, col, "column of {ev:?}");
    assert_eq!(ev.offset as usize, line_start + col, "offset of {ev:?}");
    let mut expected = l[col..].to_owned();
    for c in cut {
        expected = expected.replace(c, "");
    }
    assert_eq!(ev.text, expected.trim_end_matches('`'));
}

#[test]
fn azure_pipelines_timestamp_and_error_annotation() {
    let text = "2025-07-10T13:04:10.1187632Z ##[section]Starting: Deploy HSM\n\
2025-07-10T13:04:11.4050080Z ##[error]ERROR: (QuotaExceeded) Operation could not be completed as it results in exceeding approved quota.\n";
    let r = analyze(text);
    let ev = evidence(&r, "deploy.quota_exceeded");
    // The timestamp stays (it is the line's time); the annotation is gone.
    points_at(text, ev, 2, "2025-07-10T13:04:11", &["##[error]"]);
    assert!(r.findings[0].first_seen.is_some());
}

#[test]
fn github_actions_workflow_command_and_gitlab_stream() {
    let text = "::error::Code=SubnetMissingRequiredDelegation; Message=Subnet hsmsubnet is missing a delegation\n\
2024-03-05T10:00:01.123456Z 01E ERROR: (AnotherOperationInProgress) Another operation on this or dependent resource is in progress.\n";
    let r = analyze(text);
    points_at(
        text,
        evidence(&r, "deploy.subnet_delegation_missing"),
        1,
        "Code=",
        &[],
    );
    points_at(
        text,
        evidence(&r, "deploy.race_condition"),
        2,
        "2024-03-05",
        &["01E "],
    );
}

#[test]
fn jenkins_timestamper() {
    let text = "[Pipeline] sh\n[2025-07-10T13:04:11.405Z] ERROR: (SkuNotAvailable) The requested VM size for resource 'x' is currently not available in location 'westeurope'.\n";
    let r = analyze(text);
    points_at(
        text,
        evidence(&r, "deploy.capacity_exhausted"),
        2,
        "ERROR",
        &[],
    );
}

#[test]
fn nested_quotes_and_code_spans() {
    let text = "> I get this when deploying:\n> > ERROR: (MissingSubscriptionRegistration) The subscription is not registered to use namespace 'Microsoft.HardwareSecurityModules'.\n\
`AnotherOperationInProgress: Another operation on this or dependent resource is in progress.`\n";
    let r = analyze(text);
    points_at(
        text,
        evidence(&r, "deploy.not_allowlisted"),
        2,
        "ERROR",
        &[],
    );
    points_at(
        text,
        evidence(&r, "deploy.race_condition"),
        3,
        "AnotherOperation",
        &[],
    );
}

#[test]
fn terraform_box_in_colour() {
    let text = "\x1b[31m╷\x1b[0m\x1b[0m\n\
\x1b[31m│\x1b[0m \x1b[0m\x1b[1m\x1b[31mError: \x1b[0m\x1b[0m\x1b[1mcreating Subnet: unexpected status 409 (409 Conflict) with error: AnotherOperationInProgress: Another operation on this or dependent resource is in progress.\x1b[0m\n\
\x1b[31m│\x1b[0m \x1b[0m\n\
\x1b[31m╵\x1b[0m\x1b[0m\n";
    let r = analyze(text);
    let ev = evidence(&r, "deploy.race_condition");
    // The escapes are cut from the text; the offset is the original byte.
    points_at(text, ev, 2, "Error", &["\x1b[0m", "\x1b[1m", "\x1b[31m"]);
    assert_eq!(
        r.summary.unrecognized_lines,
        Some(0),
        "{:?}",
        r.unrecognized
    );
}

#[test]
fn exception_prefix() {
    let text = "Traceback (most recent call last):\nSystemExit: ERROR: (InvalidResourceType) The resource type 'dedicatedHSMs' could not be found in the namespace 'Microsoft.HardwareSecurityModules' for api version '2021-11-30'.\n";
    let r = analyze(text);
    points_at(
        text,
        evidence(&r, "deploy.not_allowlisted"),
        2,
        "ERROR",
        &[],
    );
}

#[test]
fn crlf_line_endings() {
    let text = "az deployment group create -g hsm-rg -f azuredeploy.json\r\nERROR: (ReferencedResourceNotProvisioned) Cannot proceed with operation because resource /subscriptions/0000/resourceGroups/hsm-rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s used by resource x is not in Succeeded state.\r\n";
    let r = analyze(text);
    points_at(text, evidence(&r, "deploy.race_condition"), 2, "ERROR", &[]);
}

#[test]
fn a_fenced_json_document_and_escaped_json_inside_it() {
    let text = "The deployment fails:\n```json\n{\n  \"status\": \"Failed\",\n  \"error\": {\n    \"code\": \"DeploymentFailed\",\n    \"message\": \"At least one resource deployment operation failed.\",\n    \"details\": [\n      {\n        \"code\": \"BadRequest\",\n        \"message\": \"{\\r\\n  \\\"error\\\": {\\r\\n    \\\"code\\\": \\\"SkuNotAvailable\\\",\\r\\n    \\\"message\\\": \\\"The requested size is currently not available in location 'eastus'.\\\"\\r\\n  }\\r\\n}\"\n      }\n    ]\n  }\n}\n```\n";
    let r = analyze(text);
    let ev = evidence(&r, "deploy.capacity_exhausted");
    // The inner error sits in the escaped message on line 11.
    assert_eq!(ev.line, 11, "{ev:?}");
    assert_eq!(r.summary.unrecognized_lines, Some(1), "only the prose line");
}

#[test]
fn a_document_cut_off_and_one_pasted_from_its_middle() {
    let cut = "ERROR: {\"status\":\"Failed\",\"error\":{\"code\":\"DeploymentFailed\",\"message\":\"At least one resource deployment operation failed.\",\"details\":[{\"code\":\"QuotaExceeded\",\"message\":\"Operation could not be completed as it results in exceeding appr";
    let r = analyze(cut);
    assert_eq!(evidence(&r, "deploy.quota_exceeded").line, 1);

    let middle = "ps/rg/providers/Microsoft.Resources/deployments/x\",\"message\":\"The resource write operation failed.\",\"details\":[{\"code\":\"SkuNotAvailable\",\"message\":\"The requested VM size is currently not available in location 'westeurope'.\"}]}}\n";
    let r = analyze(middle);
    assert_eq!(evidence(&r, "deploy.capacity_exhausted").line, 1);
    assert_eq!(r.summary.unrecognized_lines, Some(0));
}

#[test]
fn python_literals() {
    let text = "az deployment group create --name x --resource-group rg --template-file t.json\n{'additional_properties': {}, 'code': 'InvalidTemplateDeployment', 'message': \"The template deployment 'x' is not valid according to the validation procedure.\", 'target': None, 'details': [<azure.mgmt.resource.models.ErrorResponse object at 0x1083bfe80>]}\n";
    let r = analyze(text);
    let ev = evidence(&r, "deploy.failed");
    assert_eq!(ev.line, 2);
    assert!(
        r.findings[0].subject.contains("InvalidTemplateDeployment"),
        "{:?}",
        r.findings[0]
    );
}

#[test]
fn a_recorded_yaml_body() {
    let text = "  response:\n    body:\n      string: \"{\\r\\n  \\\"name\\\": \\\"ergw\\\",\\r\\n  \\\"id\\\": \\\"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Network/virtualNetworkGateways/ergw\\\",\\r\\n  \\\"type\\\":\n        \\\"Microsoft.Network/virtualNetworkGateways\\\",\\r\\n  \\\"properties\\\": {\\r\\n\n        \\   \\\"provisioningState\\\": \\\"Updating\\\"\\r\\n  }\\r\\n}\"\n    headers:\n      cache-control:\n      - no-cache\n";
    let r = analyze(text);
    let f = r
        .findings
        .iter()
        .find(|f| f.id == "deploy.gateway_not_ready")
        .expect("the gateway");
    assert_eq!(f.severity, hsmdiag::Severity::Warning);
    assert_eq!(f.subject, "ergw");
    // The events of the body point at the scalar's first line.
    assert_eq!(f.evidence[0].line, 3);
}

#[test]
fn unrecognized_templates_carry_no_escapes() {
    let text = "\x1b[1mazurerm_subnet.hsm: Still creating... [10s elapsed]\x1b[0m\n\x1b[32mSomething no pattern knows\x1b[0m\n";
    let r = analyze(text);
    for t in &r.unrecognized {
        assert!(
            !t.template.contains('\x1b') && !t.example.contains('\x1b'),
            "{t:?}"
        );
    }
}
