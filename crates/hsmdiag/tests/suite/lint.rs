//! `lint` on the public templates of `samples/lint/` (see SOURCES.md there)
//! and on broken variants of them: each check fires on its variant, at the
//! right line, and stays quiet on the public templates.

use std::path::PathBuf;

use hsmdiag::{Input, Report};

fn root() -> PathBuf {
    PathBuf::from(root!())
}

fn lint(files: &[&str]) -> Report {
    let inputs: Vec<Input> = files
        .iter()
        .map(|f| Input::file(root().join("samples/lint").join(f)))
        .collect();
    let (report, errors) = crate::analyzer().lint(&inputs);
    assert!(errors.is_empty(), "{errors:?}");
    report
}

fn codes(r: &Report) -> Vec<String> {
    let mut c: Vec<String> = r.findings.iter().map(|f| f.code.to_string()).collect();
    c.sort();
    c
}

#[test]
fn public_templates_stay_quiet_but_for_terraform_hsms() {
    let arm = [
        &[
            "arm-quickstart-payment-hsm-create-azuredeploy.json",
            "arm-quickstart-payment-hsm-create-azuredeploy.parameters.json",
        ][..],
        &[
            "arm-docs-payment-hsm-different-ip-addresses-azuredeploy.json",
            "arm-docs-payment-hsm-different-ip-addresses-azuredeploy.parameters.json",
        ],
        &["rest-api-example-dedicatedhsm-createorupdate-2021-11-30.json"],
        &["arm-docs-dedicated-hsm-tutorial-Deploy-2HSM-toVNET-Params-snippet.json"],
        &["healthy-arm-quickstart.json"],
        &["healthy-arm-hsm-after-gateway.json"],
        &["healthy-tf-hsm-via-arm-template.tf"],
    ];
    for set in arm {
        let r = lint(set);
        assert!(r.findings.is_empty(), "{set:?}: {:?}", codes(&r));
        // The Terraform file's template_content = file(...) is read too.
        let referenced = usize::from(set[0].ends_with(".tf"));
        assert_eq!(r.summary.inputs, set.len() + referenced, "{set:?}");
    }
    // The provider's own examples declare the HSM as a Terraform resource,
    // which the article says cannot deploy it; everything else in them holds
    // (delegated subnet, depends_on the gateway).
    for tf in [
        "tf-azurerm-docs-dedicated-hsm-example.tf",
        "tf-azurerm-acctest-dedicated-hsm-basic.tf",
        "tf-azurerm-acctest-dedicated-hsm-complete.tf",
    ] {
        assert_eq!(codes(&lint(&[tf])), ["HSM706"], "{tf}");
    }
}

#[test]
fn each_check_fires_on_its_variant_at_its_line() {
    for (file, code, line_has) in [
        (
            "arm-quickstart-no-delegation.json",
            "HSM701",
            "hsmSubnetName",
        ),
        ("arm-quickstart-no-dependson.json", "HSM702", "resourceName"),
        (
            "arm-quickstart-second-gateway.json",
            "HSM703",
            "onprem-vpngw",
        ),
        (
            "arm-quickstart-three-in-a-stamp.json",
            "HSM704",
            "copyIndex",
        ),
        ("arm-quickstart-ip-outside.json", "HSM705", "10.0.5.8"),
        (
            "tf-subnet-no-delegation.tf",
            "HSM701",
            "azurerm_subnet\" \"example2\"",
        ),
    ] {
        let r = lint(&[file]);
        let f = r
            .findings
            .iter()
            .find(|f| f.code.as_str() == code)
            .unwrap_or_else(|| panic!("{file}: no {code} in {:?}", codes(&r)));
        let e = &f.evidence[0];
        assert!(e.source.ends_with(file), "{}", e.source);
        assert!(e.text.contains(line_has), "{file}:{}: {}", e.line, e.text);
        let text = std::fs::read_to_string(root().join("samples/lint").join(file)).unwrap();
        assert_eq!(
            text.lines().nth(e.line as usize - 1).map(str::trim),
            Some(e.text.trim()),
            "{file}: the evidence is the line it names"
        );
        assert!(
            !f.message.as_deref().unwrap_or("").contains('<'),
            "{:?}",
            f.message
        );
    }
}

#[test]
fn parameters_files_and_state_are_read_with_the_template() {
    // The parameters file's host address moved out of its subnet.
    let dir = std::env::temp_dir().join(format!("hsmdiag-lint-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let params = std::fs::read_to_string(root().join(
        "samples/lint/arm-docs-payment-hsm-different-ip-addresses-azuredeploy.parameters.json",
    ))
    .unwrap();
    assert!(params.contains("10.0.0.5"));
    let moved = dir.join("params.json");
    std::fs::write(&moved, params.replace("10.0.0.5", "10.0.9.5")).unwrap();
    let inputs = vec![
        Input::file(
            root()
                .join("samples/lint/arm-docs-payment-hsm-different-ip-addresses-azuredeploy.json"),
        ),
        Input::file(&moved),
    ];
    let (r, _) = crate::analyzer().lint(&inputs);
    assert_eq!(codes(&r), ["HSM705"]);
    assert!(
        r.findings[0]
            .message
            .as_deref()
            .unwrap()
            .contains("10.0.9.5")
    );
    let _ = std::fs::remove_dir_all(&dir);
    // HSMs already there (`az dedicated-hsm list`) count toward the quota.
    let inputs = vec![
        Input::file(root().join("samples/lint/arm-quickstart-payment-hsm-create-azuredeploy.json")),
        Input::file(
            root()
                .join("samples/lint/arm-quickstart-payment-hsm-create-azuredeploy.parameters.json"),
        ),
        Input::file(root().join("samples/azure/az-dedicated-hsm-list-stamp-full.json")),
    ];
    let (r, _) = crate::analyzer().lint(&inputs);
    let quota: Vec<&str> = r
        .findings
        .iter()
        .filter(|f| f.code.as_str() == "HSM704")
        .filter_map(|f| f.message.as_deref())
        .collect();
    assert!(
        quota.iter().any(|m| m.contains("in stamp stamp1")),
        "{quota:?}"
    );
    assert!(
        quota.iter().any(|m| m.contains("in region westus")),
        "{quota:?}"
    );
}

/// Logs, sessions and state are no templates: alone, each gives no lint
/// finding (state counts only beside a template that plans something).
#[test]
fn every_other_sample_gives_no_lint_finding() {
    let mut files = Vec::new();
    let mut dirs = vec![root().join("samples")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() && !p.ends_with("lint") {
                dirs.push(p);
            } else if p.is_file() {
                files.push(p);
            }
        }
    }
    assert!(files.len() > 200, "{} files", files.len());
    for f in files {
        let (r, _) = crate::analyzer().lint(&[Input::file(&f)]);
        assert!(r.findings.is_empty(), "{}: {:?}", f.display(), codes(&r));
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 200, .. Default::default() })]

    /// Cut or spliced templates never panic `lint`.
    #[test]
    fn broken_templates_never_panic(cut in 0usize..4000, splice in "[\\[\\]{}\",:a-z0-9 ()'$]{0,40}") {
        for name in ["arm-quickstart-second-gateway.json", "tf-subnet-no-delegation.tf"] {
            let text = std::fs::read_to_string(root().join("samples/lint").join(name)).unwrap();
            let mut at = cut.min(text.len());
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            let broken = format!("{}{splice}{}", &text[..at], &text[at..]);
            let _ = crate::analyzer().lint_str(name, &broken);
            let _ = crate::analyzer().lint_str(name, &text[..at]);
        }
    }
}
