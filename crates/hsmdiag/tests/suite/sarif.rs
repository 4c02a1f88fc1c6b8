//! SARIF 2.1.0 output: its shape, fingerprints that survive redaction, and
//! Microsoft's validator (`Sarif.Multitool validate`) with no error on every
//! sample. CI installs the validator (npm @microsoft/sarif-multitool-linux) and
//! names it in `SARIF_MULTITOOL`; elsewhere the validator test runs when the tool
//! is found and says so when it is not.

use std::path::{Path, PathBuf};
use std::process::Command;

use hsmdiag::expand;
use hsmdiag::report::sarif;

fn root() -> PathBuf {
    PathBuf::from(root!())
}

fn sarif_of(paths: &[PathBuf]) -> serde_json::Value {
    let analyzer = crate::analyzer();
    let (inputs, _) = expand(paths);
    let (report, _) = analyzer.analyze(&inputs);
    sarif(&report, analyzer.rules())
}

#[test]
fn results_point_at_rules_files_and_lines() {
    let log = sarif_of(&[root().join("samples/incident")]);
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), crate::analyzer().rules().len());
    for r in rules {
        for key in [
            "id",
            "name",
            "shortDescription",
            "fullDescription",
            "help",
            "defaultConfiguration",
        ] {
            assert!(!r[key].is_null(), "rule {} lacks {key}", r["id"]);
        }
        assert!(
            r["help"]["markdown"]
                .as_str()
                .unwrap()
                .contains("Remediation")
        );
    }
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    for res in results {
        let i = res["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[i]["id"], res["ruleId"]);
        let loc = &res["locations"][0]["physicalLocation"];
        let uri = loc["artifactLocation"]["uri"].as_str().unwrap();
        assert!(uri.contains("samples/incident/"), "{uri}");
        // The artifact is the input whose name gives this URI.
        let index = loc["artifactLocation"]["index"].as_u64().unwrap() as usize;
        assert_eq!(run["artifacts"][index]["location"]["uri"], uri);
        let file = std::fs::read_dir(root().join("samples/incident"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| uri.ends_with(&*p.file_name().unwrap().to_string_lossy()))
            .unwrap_or_else(|| panic!("no sample behind {uri}"));
        let text = std::fs::read_to_string(file).unwrap();
        let line = loc["region"]["startLine"].as_u64().unwrap() as usize;
        let snippet = loc["region"]["snippet"]["text"].as_str().unwrap();
        assert!(
            text.lines().nth(line - 1).unwrap().contains(snippet.trim()),
            "{uri}:{line}"
        );
    }
    let unknown_ca = results.iter().find(|r| r["ruleId"] == "HSM101").unwrap();
    let related = unknown_ca["relatedLocations"].as_array().unwrap();
    assert!(related.iter().any(|l| {
        l["message"]["text"]
            .as_str()
            .unwrap()
            .starts_with("cause: the HSM's NTLS server certificate was regenerated")
    }));
}

#[test]
fn fingerprints_survive_a_change_of_addresses_and_names() {
    let text =
        std::fs::read_to_string(root().join("samples/ntls/unknown-ca-appliance.log")).unwrap();
    let renamed = text
        .replace("10.3.1.4", "192.0.2.77")
        .replace("10.3.1.5", "192.0.2.78")
        .replace("hsm1", "host-a1b2")
        .replace("tenantadmin", "user-0042");
    let analyzer = crate::analyzer();
    let prints = |t: &str| {
        let mut v: Vec<String> = analyzer
            .analyze_str("a.log", t)
            .findings
            .iter()
            .map(hsmdiag::report::fingerprint)
            .collect();
        v.sort();
        v
    };
    let before = prints(&text);
    assert!(!before.is_empty());
    assert_eq!(before, prints(&renamed));
    let unique: std::collections::BTreeSet<_> = before.iter().collect();
    assert_eq!(unique.len(), before.len(), "one fingerprint per finding");
}

#[test]
fn uris_are_relative_to_the_working_folder_or_absolute_file_uris() {
    // The tests run from the workspace root: an absolute path inside it is
    // given relative to SRCROOT, one outside it as a file:// URI.
    let inside = sarif_of(&[root().canonicalize().unwrap().join("samples/incident")]);
    let run = &inside["runs"][0];
    for a in run["artifacts"].as_array().unwrap() {
        let uri = a["location"]["uri"].as_str().unwrap();
        assert!(uri.starts_with("samples/incident/"), "{uri}");
        assert_eq!(a["location"]["uriBaseId"], "SRCROOT");
    }
    assert!(
        run["tool"]["driver"]["informationUri"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );
    let dir = std::env::temp_dir().join(format!("hsmdiag-sarif-uri {}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("ntls one.log");
    std::fs::copy(root().join("samples/ntls/article-unknown-ca.log"), &log).unwrap();
    let outside = sarif_of(std::slice::from_ref(&log));
    let loc =
        &outside["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"];
    let uri = loc["uri"].as_str().unwrap();
    assert!(uri.starts_with("file:///"), "{uri}");
    assert!(uri.ends_with("/ntls%20one.log"), "{uri}");
    assert!(loc.get("uriBaseId").is_none(), "{loc}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn multitool() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SARIF_MULTITOOL") {
        return Some(PathBuf::from(p));
    }
    let local = root().join("target/sarif-multitool/node_modules/.bin/sarif-multitool-linux");
    local.exists().then_some(local)
}

#[test]
fn microsofts_validator_finds_no_error_in_any_sample() {
    let Some(tool) = multitool() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install the SARIF validator (see .ci/run)"
        );
        crate::skipped(
            "SARIF validator not installed: run `npm install --prefix target/sarif-multitool @microsoft/sarif-multitool-linux` to include it",
        );
        return;
    };
    let dir = std::env::temp_dir().join(format!("hsmdiag-sarif-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    for group in ["ntls", "luna", "azure", "incident"] {
        let path = root().join("samples").join(group);
        let out = dir.join(format!("{group}.sarif"));
        std::fs::write(
            &out,
            serde_json::to_string_pretty(&sarif_of(&[path])).unwrap(),
        )
        .unwrap();
        files.push(out);
    }
    // The npm package's launcher hands its arguments to a shell, which would
    // split `--level "Error;Warning"`: call the binary beside it.
    let tool = std::fs::canonicalize(&tool)
        .ok()
        .and_then(|t| Some(t.parent()?.join("Sarif.Multitool")))
        .filter(|b| b.is_file())
        .unwrap_or(tool);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(m) = std::fs::metadata(&tool) {
            let mut p = m.permissions();
            if p.mode() & 0o100 == 0 {
                p.set_mode(p.mode() | 0o100);
                let _ = std::fs::set_permissions(&tool, p);
            }
        }
    }
    // An absolute path outside the working folder too: GitHub code scanning
    // must accept its URI.
    let outside = dir.join("outside.sarif");
    let log = dir.join("ntls.log");
    std::fs::copy(root().join("samples/ntls/article-unknown-ca.log"), &log).unwrap();
    std::fs::write(
        &outside,
        serde_json::to_string_pretty(&sarif_of(&[log])).unwrap(),
    )
    .unwrap();
    files.push(outside);
    let report = dir.join("validation.sarif");
    let out = Command::new(&tool)
        .arg("validate")
        .args(["--rule-kind", "Sarif;Ghas", "--level", "Error;Warning"])
        .arg("--output")
        .arg(&report)
        .args(&files)
        .output()
        .expect("the SARIF validator runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    // Errors, and the warnings of GitHub's rules (GH1001-GH1007) and of the
    // SARIF rules that code scanning reads (SARIF2005: the tool's informationUri).
    let errors: Vec<&str> = stdout
        .lines()
        .filter(|l| {
            l.contains(": error ")
                || (l.contains(": warning ") && (l.contains(" GH1") || l.contains(" SARIF2005")))
        })
        .collect();
    assert!(
        out.status.success() && errors.is_empty(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // What the validator said is kept for the curious: warnings are allowed.
    let warnings = stdout.lines().filter(|l| l.contains(": warning ")).count();
    eprintln!(
        "SARIF validator: 0 errors, {warnings} warnings over {} files",
        files.len()
    );
    let _ = std::fs::remove_dir_all(Path::new(&dir));
}
