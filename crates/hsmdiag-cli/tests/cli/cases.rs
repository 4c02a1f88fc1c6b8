//! The command line: trycmd cases in tests/cmd, plus inputs that need files made
//! at test time (gzip, directories, unreadable paths).

use std::path::PathBuf;
use std::process::Command;

#[test]
fn cli_cases() {
    trycmd::TestCases::new()
        .case("crates/hsmdiag-cli/tests/cmd/*.toml")
        .case("README.md");
}

fn hsmdiag() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hsmdiag"));
    c.current_dir(root!()).env("NO_COLOR", "1");
    c
}

fn scratch(name: &str) -> crate::Scratch {
    crate::scratch(&format!("test-{name}"))
}

fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn gzip_files_are_read_transparently() {
    use std::io::Write;
    let dir = scratch("gz");
    let text = std::fs::read("samples/ntls/unknown-ca-appliance.log").unwrap();
    let path = dir.join("lunalogs.1.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&path).unwrap(),
        flate2::Compression::default(),
    );
    enc.write_all(&text).unwrap();
    enc.finish().unwrap();
    let out = hsmdiag().arg("--format=json").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let r = json(&out);
    assert_eq!(r["findings"][0]["id"], "ntls.unknown_ca");
    assert_eq!(r["findings"][0]["subject"], "2 clients on hsm1");
    assert_eq!(r["findings"][0]["affected"][0], "10.3.1.4");
    assert_eq!(r["summary"]["lines"], 36);
}

#[test]
fn directories_give_their_files_in_sorted_order() {
    let dir = scratch("dir");
    std::fs::copy("samples/ntls/healthy-busy.log", dir.join("b.log")).unwrap();
    std::fs::copy("samples/ntls/article-unknown-ca.log", dir.join("a.log")).unwrap();
    std::fs::create_dir(dir.join("sub")).unwrap();
    std::fs::copy(
        "samples/ntls/port-1792-unreachable.txt",
        dir.join("sub/c.txt"),
    )
    .unwrap();
    let out = hsmdiag().arg("--format=json").arg(&dir).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let r = json(&out);
    let names: Vec<String> = r["summary"]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            PathBuf::from(s["name"].as_str().unwrap())
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(names, ["a.log", "b.log", "c.txt"]);
    assert_eq!(r["summary"]["inputs"], 3);
}

#[test]
fn an_unreadable_input_is_reported_and_the_others_are_still_analysed() {
    let out = hsmdiag()
        .args([
            "--format=json",
            "no/such/file.log",
            "samples/ntls/article-unknown-ca.log",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no/such/file.log") && stderr.contains("no such file or directory"),
        "{stderr}"
    );
    let r = json(&out);
    assert_eq!(r["findings"].as_array().unwrap().len(), 1);
    assert_eq!(r["summary"]["inputs"], 1);
}

#[test]
fn stdin_is_read_when_no_path_or_dash_is_given() {
    use std::io::Write;
    use std::process::Stdio;
    for args in [&[][..], &["-"][..]] {
        let mut child = hsmdiag()
            .arg("--format=json")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let text = std::fs::read("samples/ntls/article-unknown-ca.log").unwrap();
        child.stdin.take().unwrap().write_all(&text).unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        let r = json(&out);
        assert_eq!(r["findings"][0]["evidence"][0]["source"], "<stdin>");
    }
}

#[test]
fn output_file_receives_the_report() {
    let dir = scratch("out");
    let path = dir.join("report.json");
    let out = hsmdiag()
        .args(["--format", "json", "--output"])
        .arg(&path)
        .arg("samples/ntls/healthy-busy.log")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(r["version"], 1);
    assert_eq!(r["findings"].as_array().unwrap().len(), 0);
}

#[test]
fn json_report_follows_the_contract() {
    let out = hsmdiag()
        .args(["--format", "json", "samples/ntls/unknown-ca-appliance.log"])
        .output()
        .unwrap();
    let r = json(&out);
    assert_eq!(r["version"], 1);
    for key in ["inputs", "lines"] {
        assert!(r["summary"][key].is_u64(), "summary.{key}");
    }
    // Coverage is measured on request: `null` without it, exact with it.
    let measured = json(
        &hsmdiag()
            .args([
                "--format",
                "json",
                "--coverage",
                "samples/ntls/unknown-ca-appliance.log",
            ])
            .output()
            .unwrap(),
    );
    for key in ["events", "unrecognized_lines"] {
        assert!(r["summary"][key].is_null(), "summary.{key}");
        assert!(measured["summary"][key].is_u64(), "summary.{key}");
    }
    assert_eq!(measured["findings"], r["findings"]);
    let f = &r["findings"][0];
    for key in ["id", "code", "severity", "title", "subject"] {
        assert!(f[key].is_string(), "finding.{key}");
    }
    assert!(["info", "warning", "error", "critical"].contains(&f["severity"].as_str().unwrap()));
    assert!(f["count"].is_u64());
    for key in ["first_seen", "last_seen"] {
        let t = f[key].as_str().unwrap();
        assert!(
            chrono::DateTime::parse_from_rfc3339(t).is_ok(),
            "{key} = {t}"
        );
    }
    let e = &f["evidence"][0];
    assert!(e["source"].is_string() && e["line"].is_u64() && e["text"].is_string());
    assert!(
        f["remediation"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s.is_string())
    );
    assert!(
        f["references"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s.is_string())
    );
    assert!(f["evidence"].as_array().unwrap().len() <= 5);
}

#[test]
fn bundle_is_redacted_and_its_manifest_holds_every_files_hash() {
    use sha2::Digest;
    let dir = scratch("bundle");
    let out = hsmdiag()
        .args(["bundle", "-o"])
        .arg(&dir)
        .arg("samples/incident")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["redacted"], true);
    let files = manifest["files"].as_array().unwrap();
    assert!(files.len() >= 5);
    for f in files {
        let bytes = std::fs::read(dir.join(f["path"].as_str().unwrap())).unwrap();
        let sum: String = sha2::Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(f["sha256"].as_str().unwrap(), sum);
        let text = String::from_utf8_lossy(&bytes);
        // The appliance's fixed account (`tenantadmin`) stays, so the steps'
        // commands still run as written.
        for secret in [
            "10.3.1.4",
            "hsm2",
            "hsm-rg",
            "00000000-1111-2222-3333-444444444444",
        ] {
            // As a value, not as the start of another word (`#hsm200`, a rule's anchor).
            let leaked = text.match_indices(secret).any(|(i, _)| {
                !text[i + secret.len()..]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphanumeric())
            });
            assert!(!leaked, "{secret} in {}", f["path"]);
        }
    }
    let sarif: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("report.sarif")).unwrap()).unwrap();
    // Four findings: the HA member, the race, the unknown CA, and the gateway
    // shown not Succeeded (a warning of its own).
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 4);
}

#[test]
fn diff_proves_a_fix() {
    let dir = scratch("diff");
    let before = dir.join("before.json");
    let status = hsmdiag()
        .args(["--format", "json", "-o"])
        .arg(&before)
        .arg("samples/ntls/unknown-ca-appliance.log")
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1));
    // After the fix: the healthy log.
    let out = hsmdiag()
        .arg("diff")
        .arg(&before)
        .arg("samples/ntls/healthy-busy.log")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        // The two clients that failed after one regeneration are one finding.
        text.contains("New (0):") && text.contains("Resolved (1):"),
        "{text}"
    );
    // The same logs on both sides: nothing new, everything still there.
    let out = hsmdiag()
        .args(["diff", "--format", "json"])
        .arg(&before)
        .arg("samples/ntls/unknown-ca-appliance.log")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(d["new"].as_array().unwrap().len(), 0);
    assert_eq!(d["unchanged"].as_array().unwrap().len(), 1);
    assert_eq!(d["resolved"].as_array().unwrap().len(), 0);
}

#[test]
fn utf16_with_a_bom_and_utf8_with_a_bom_read_like_utf8() {
    let dir = scratch("utf16");
    let text = std::fs::read_to_string("samples/azure/ps-delegation-missing.txt").unwrap();
    let mut le = vec![0xFF, 0xFE];
    le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let mut be = vec![0xFE, 0xFF];
    be.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
    let mut bom8 = vec![0xEF, 0xBB, 0xBF];
    bom8.extend(text.as_bytes());
    let plain = json(
        &hsmdiag()
            .args([
                "--format",
                "json",
                "samples/azure/ps-delegation-missing.txt",
            ])
            .output()
            .unwrap(),
    );
    for (name, bytes) in [("le.txt", le), ("be.txt", be), ("bom8.txt", bom8)] {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        let got = json(
            &hsmdiag()
                .args(["--format", "json"])
                .arg(&path)
                .output()
                .unwrap(),
        );
        assert_eq!(got["summary"]["lines"], plain["summary"]["lines"], "{name}");
        assert_eq!(
            got["summary"]["unrecognized_lines"], plain["summary"]["unrecognized_lines"],
            "{name}"
        );
        assert_eq!(
            got["findings"][0]["subject"], plain["findings"][0]["subject"],
            "{name}"
        );
        assert_eq!(
            got["findings"][0]["evidence"][0]["text"], plain["findings"][0]["evidence"][0]["text"],
            "{name}"
        );
    }
}

#[test]
fn zstd_xz_and_bzip2_are_recognised_by_content_not_name() {
    let plain = hsmdiag()
        .args(["--format=json", "samples/ntls/unknown-ca-appliance.log"])
        .output()
        .unwrap();
    let want = json(&plain);
    for format in ["gzip", "zstd", "xz", "bzip2"] {
        // Named `.txt`: only the magic bytes say what they are.
        let path = format!("crates/hsmdiag-cli/tests/fixtures/compressed/{format}.txt");
        let out = hsmdiag().arg("--format=json").arg(&path).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{format}");
        let got = json(&out);
        let named = got["findings"]
            .to_string()
            .replace(&path, "samples/ntls/unknown-ca-appliance.log");
        assert_eq!(named, want["findings"].to_string(), "{format}");
        assert_eq!(got["summary"]["lines"], 36, "{format}");
        assert_eq!(
            got["summary"]["recognized_lines"], want["summary"]["recognized_lines"],
            "{format}"
        );
    }
}

/// Waits until `path` holds `n` lines (at most 20 s).
fn wait_for_lines(path: &std::path::Path, n: usize) -> String {
    for _ in 0..200 {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.lines().count() >= n {
            return text;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("{} never reached {n} lines", path.display());
}

/// A running `hsmdiag --follow`, killed if the test ends before it exits (a
/// failed assertion must not leave it holding the test's output open).
struct Following(std::process::Child);

impl std::ops::Deref for Following {
    type Target = std::process::Child;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for Following {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl Drop for Following {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// `hsmdiag --follow --format=jsonl -o OUT LOG`, running.
fn spawn_follow(log: &std::path::Path, out: &std::path::Path) -> Following {
    Following(
        hsmdiag()
            .args(["--follow", "--format=jsonl", "-o"])
            .arg(out)
            .arg(log)
            .spawn()
            .unwrap(),
    )
}

/// Appends lines to a followed log.
fn append_lines(log: &std::path::Path, part: &[&str]) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open(log).unwrap();
    for l in part {
        writeln!(f, "{l}").unwrap();
    }
}

#[test]
fn follow_prints_findings_as_the_log_grows_and_the_summary_at_ctrl_c() {
    let dir = scratch("follow");
    let log = dir.join("lunalogs");
    let out = dir.join("findings.jsonl");
    std::fs::write(&log, "").unwrap();
    let sample = std::fs::read_to_string("samples/ntls/unknown-ca-appliance.log").unwrap();
    let lines: Vec<&str> = sample.lines().collect();
    let mut child = spawn_follow(&log, &out);
    let append = |part: &[&str]| append_lines(&log, part);
    let records = |text: &str| -> Vec<serde_json::Value> {
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    // The certificate regeneration (a warning at once), then the first
    // client's failures: printed while the file is open.
    append(&lines[..20]);
    let first = records(&wait_for_lines(&out, 2));
    assert_eq!(first[0]["id"], "ntls.server_cert_regenerated");
    assert_eq!(first[1]["id"], "ntls.unknown_ca");
    assert_eq!(first[1]["subject"], "10.3.1.4");
    // The log is truncated in place (copytruncate rotation) and starts again:
    // the second client's failure in the new content is found too.
    std::fs::write(&log, "").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(600));
    append(&lines[30..]);
    let second = records(&wait_for_lines(&out, 3));
    assert_eq!(second[2]["subject"], "10.3.1.5");
    // One finding, one story: the second client joins the first's finding
    // (one cause on one HSM), so its record is an update with the same key.
    assert!(first[1].get("update").is_none(), "{}", first[1]);
    assert_eq!(second[2]["update"], true, "{}", second[2]);
    assert_eq!(second[2]["fingerprint"], first[1]["fingerprint"]);
    assert_eq!(first[1]["fingerprint"].as_str().map(str::len), Some(16));
    // Ctrl-C: the summary line accounts for every line read, then exit 1.
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let code = child.wait().unwrap().code();
    assert_eq!(code, Some(1));
    let text = std::fs::read_to_string(&out).unwrap();
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last["summary"]["lines"], 20 + lines.len() - 30, "{text}");
}

#[test]
fn follow_prints_a_finding_again_when_its_severity_rises() {
    let dir = scratch("follow-rise");
    let log = dir.join("lunacm.txt");
    let out = dir.join("findings.jsonl");
    std::fs::write(&log, "").unwrap();
    let sample = std::fs::read_to_string("samples/luna/lunacm-co-nine-failures.txt").unwrap();
    let lines: Vec<&str> = sample.lines().collect();
    // Up to the fifth failed Crypto Officer login; the ninth is on line 47.
    let fifth = lines
        .iter()
        .position(|l| l.starts_with("Command Result : 0xa0"))
        .unwrap()
        + 16;
    let mut child = spawn_follow(&log, &out);
    let append = |part: &[&str]| append_lines(&log, part);
    append(&lines[..=fifth]);
    let first = std::panic::catch_unwind(|| wait_for_lines(&out, 1));
    // The seventh failure makes it an error, the ninth (one try left) critical:
    // each rise is printed before the end of the input.
    append(&lines[fifth + 1..]);
    let all = std::panic::catch_unwind(|| wait_for_lines(&out, 3));
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let _ = child.wait();
    let first = first.expect("the first finding while the file is open");
    let f: serde_json::Value = serde_json::from_str(first.lines().next().unwrap()).unwrap();
    assert_eq!(f["id"], "auth.login_failed");
    assert_eq!(f["severity"], "warning", "{f}");
    let all = all.expect("the rises while the file is open");
    let severities: Vec<String> = all
        .lines()
        .take(3)
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["severity"].to_string())
        .collect();
    assert_eq!(severities, ["\"warning\"", "\"error\"", "\"critical\""]);
    let keys: Vec<serde_json::Value> = all
        .lines()
        .take(3)
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .collect();
    assert!(
        keys.iter()
            .all(|k| k["fingerprint"] == keys[0]["fingerprint"])
    );
    assert!(
        keys[0].get("update").is_none() && keys[1]["update"] == true && keys[2]["update"] == true
    );
}

#[test]
fn follow_refuses_several_inputs_and_formats_it_cannot_stream() {
    let out = hsmdiag()
        .args(["--follow", "samples/ntls", "--format=jsonl"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("follows one file"));
    let out = hsmdiag()
        .args([
            "--follow",
            "--format=sarif",
            "samples/ntls/article-unknown-ca.log",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("text or jsonl"));
    let out = hsmdiag()
        .args([
            "--follow",
            "crates/hsmdiag-cli/tests/fixtures/compressed/gzip.txt",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("compressed"));
}

/// `hsmdiag bundle -o OUT INPUT`, run to its end.
fn bundle(out: &std::path::Path, input: &std::path::Path) -> std::process::Output {
    hsmdiag()
        .args(["bundle", "-o"])
        .arg(out)
        .arg(input)
        .output()
        .unwrap()
}

#[test]
fn bundle_refuses_to_overwrite_an_input_a_full_directory_or_a_link() {
    let dir = scratch("bundle-refuse");
    let log = dir.join("lunalogs.log");
    std::fs::copy("samples/ntls/unknown-ca-appliance.log", &log).unwrap();
    let before = std::fs::read(&log).unwrap();
    // The input itself as the output file.
    let out = bundle(&log, &log);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("never writes over an input"));
    assert_eq!(
        std::fs::read(&log).unwrap(),
        before,
        "the input is untouched"
    );
    // A directory holding an earlier run's files.
    let full = dir.join("full");
    std::fs::create_dir(&full).unwrap();
    std::fs::write(full.join("evidence-old.txt"), "10.3.1.4 unredacted").unwrap();
    let out = bundle(&full, &log);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not empty"));
    // A symbolic link, as a directory or as a .tar.gz.
    #[cfg(unix)]
    for name in ["link-dir", "link.tar.gz"] {
        let target = dir.join(format!("target-{name}"));
        let link = dir.join(name);
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let out = bundle(&link, &log);
        assert_eq!(out.status.code(), Some(2), "{name}");
        assert!(!target.exists(), "{name}: written through the link");
    }
    // A fresh directory is written, every file in the manifest.
    let fresh = dir.join("fresh");
    let out = bundle(&fresh, &log);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fresh.join("manifest.json")).unwrap()).unwrap();
    let listed = manifest["files"].as_array().unwrap().len();
    let mut present = 0;
    for e in walk(&fresh) {
        if !e.ends_with("manifest.json") {
            present += 1;
        }
    }
    assert_eq!(listed, present);
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// A retired code keeps its page in `explain`, with its successor; a rule
/// that takes it is refused; a misspelt `yields_to` names the rule meant.
#[test]
fn retired_codes_keep_their_page_and_references_must_name_rules() {
    let dir = scratch("retired");
    std::fs::write(
        dir.join("retired.toml"),
        "[[retired]]\nid = \"site.pool_low\"\ncode = \"HSM890\"\ntitle = \"the session pool ran low\"\nretired = \"0.3.0\"\nsuccessor = \"HSM801\"\nwhy = \"merged into site.pool_exhausted, which counts the same messages\"\n",
    )
    .unwrap();
    let rule = std::fs::read_to_string("docs/examples/site/pool-exhausted.toml").unwrap();
    std::fs::write(dir.join("pool.toml"), &rule).unwrap();
    let out = hsmdiag()
        .args(["explain", "hsm890", "--rules"])
        .arg(&dir)
        .arg("--grammar")
        .arg("docs/examples/site/signer-grammar.toml")
        .output()
        .unwrap();
    let page = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{page}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        page.contains("HSM890 site.pool_low: the session pool ran low (retired)"),
        "{page}"
    );
    assert!(
        page.contains("Read HSM801 site.pool_exhausted instead"),
        "{page}"
    );

    let analyse = |dir: &std::path::Path| {
        hsmdiag()
            .arg("--rules")
            .arg(dir)
            .arg("--grammar")
            .arg("docs/examples/site/signer-grammar.toml")
            .arg("docs/examples/site/signer.log")
            .output()
            .unwrap()
    };
    // A rule that takes the retired code is refused.
    let reuse = rule
        .replace("code = \"HSM801\"", "code = \"HSM890\"")
        .replace("id = \"site.pool_exhausted\"", "id = \"site.pool_again\"");
    std::fs::write(dir.join("reuse.toml"), reuse).unwrap();
    let out = analyse(&dir);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("HSM890 was retired in 0.3.0"), "{err}");
    std::fs::remove_file(dir.join("reuse.toml")).unwrap();

    // A misspelt rule id in `yields_to` is an error pointing at it.
    let typo = rule.replacen(
        "[[match]]",
        "yields_to = [\"ntls.unknwn_ca\"]\n\n[[match]]",
        1,
    );
    std::fs::write(dir.join("pool.toml"), typo).unwrap();
    let out = analyse(&dir);
    // miette wraps the message to the terminal's width.
    let err = String::from_utf8_lossy(&out.stderr)
        .replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("`yields_to` names `ntls.unknwn_ca`, which is no rule"),
        "{err}"
    );
    assert!(err.contains("did you mean `ntls.unknown_ca`?"), "{err}");
    assert!(err.contains("pool.toml"), "{err}");
}

/// Rotations that lost lines: a copytruncate whose new content grows past
/// the old end before the next poll, and a rename-and-create rotation whose
/// logger writes once more to the old (renamed) file. Every failure of both is
/// found.
#[test]
fn follow_loses_no_line_across_rotations() {
    let dir = scratch("follow-rotate");
    let log = dir.join("lunalogs");
    let out = dir.join("findings.jsonl");
    std::fs::write(&log, "").unwrap();
    let failure = |host: &str, ip: &str| {
        vec![
            format!(
                "2026 Mar 01 10:05:00 {host} local5 info NTLS [2490]: Error message from SSLAccept is : error:14094418:SSL routines:ssl3_read_bytes:tlsv1 alert unknown ca"
            ),
            format!(
                "2026 Mar 01 10:05:00 {host} local5 info NTLS [2490]: info : 0xc0000711 : Fail to establish a secure channel with client : {ip}/59415 : RC_SSL_FAILED_HANDSHAKE"
            ),
        ]
    };
    let filler = |n: usize| -> Vec<String> {
        (0..n)
            .map(|i| format!("2026 Mar 01 10:04:{:02} hsm1 local5 info NTLS [2490]: info : 0 : Incoming connection request... : 10.9.9.{}/5000", i % 60, i % 250))
            .collect()
    };
    let mut child = spawn_follow(&log, &out);
    let write = |path: &std::path::Path, lines: &[String]| {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .unwrap();
        for l in lines {
            writeln!(f, "{l}").unwrap();
        }
    };
    write(&log, &filler(20));
    write(&log, &failure("hsm1", "10.3.1.4"));
    wait_for_lines(&out, 1);
    // copytruncate, and the new content is longer than the old before the
    // next poll: its first failure must not be skipped.
    {
        let mut all = failure("hsm1", "10.3.1.5");
        all.extend(filler(60));
        let text = all.join("\n") + "\n";
        std::fs::write(&log, text).unwrap();
    }
    wait_for_lines(&out, 2);
    // Renamed and created again; the logger writes once more to the old file
    // before it reopens.
    let old = dir.join("lunalogs.1");
    std::fs::rename(&log, &old).unwrap();
    write(&old, &failure("hsm2", "10.3.1.6"));
    std::fs::write(&log, "").unwrap();
    write(&log, &failure("hsm3", "10.3.1.7"));
    let text = wait_for_lines(&out, 4);
    for ip in ["10.3.1.4", "10.3.1.5", "10.3.1.6", "10.3.1.7"] {
        assert!(text.contains(ip), "{ip} lost:\n{text}");
    }
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let _ = child.wait();
    std::fs::remove_dir_all(&dir).ok();
}

/// Issue 32: `lint` pointed at a file that is no template, plan or state
/// (a README, a syslog) says so and fails, so a CI gate on the wrong file
/// does not pass; a template next to it is still linted.
#[test]
fn lint_on_what_is_no_template_fails() {
    for file in ["README.md", "samples/ntls/healthy-busy.log"] {
        let out = hsmdiag().args(["lint", file]).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{file}: {err}");
        assert!(
            err.contains("not linted") && err.contains("nothing to lint"),
            "{err}"
        );
    }
    let out = hsmdiag()
        .args([
            "lint",
            "README.md",
            "samples/lint/arm-quickstart-no-delegation.json",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("README.md is no ARM template"), "{err}");
}

/// Issue 32: year-less syslog from stdin keeps its times: the current year
/// is assumed (the year before for a date after today), and the summary says
/// so and that `--year` sets it.
#[test]
fn year_less_times_from_stdin_get_an_assumed_year() {
    use std::io::Write as _;
    let run = |args: &[&str]| {
        let mut child = hsmdiag()
            .args(args)
            .arg("-")
            .env("HSMDIAG_NOW", "2027-01-05T10:00:00Z")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(
                b"Dec 30 23:59:00 hsm1 NTLS[2490]: info : 0xc0000711 : Fail to establish a secure channel with client : 10.3.1.4/59415 : RC_SSL_FAILED_HANDSHAKE\n\
                  Jan  2 00:01:00 hsm1 NTLS[2490]: info : 0xc0000711 : Fail to establish a secure channel with client : 10.3.1.4/59416 : RC_SSL_FAILED_HANDSHAKE\n",
            )
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let out = run(&["--format", "json"]);
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["summary"]["first_time"], "2026-12-30T23:59:00Z", "{r}");
    assert_eq!(r["summary"]["last_time"], "2027-01-02T00:01:00Z", "{r}");
    assert_eq!(r["summary"]["sources"][0]["assumed_year"], 2026, "{r}");
    let text = String::from_utf8_lossy(&run(&[]).stdout).into_owned();
    assert!(
        text.contains("assumed year") && text.contains("--year"),
        "{text}"
    );
    assert!(!text.contains("the log has no times"), "{text}");
    // --year wins, and nothing is assumed.
    let out = run(&["--format", "json", "--year", "2020"]);
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["summary"]["first_time"], "2020-12-30T23:59:00Z", "{r}");
    assert!(r["summary"]["sources"][0]["assumed_year"].is_null(), "{r}");
}

/// Issue 32: `--format short` is one line per finding (where, code,
/// severity, message, first step) and the count; the full report says who
/// acts once per channel, later findings point back to it.
#[test]
fn short_when_asked_and_who_said_once() {
    let json = hsmdiag()
        .args(["--format", "json", "samples/ntls"])
        .output()
        .unwrap();
    let r: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let n = r["findings"].as_array().unwrap().len();
    assert!(n > 3);
    let out = hsmdiag()
        .args(["--format", "short", "samples/ntls"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), n + 1, "{text}");
    for l in &lines[..n] {
        // `input:line:column: HSMnnn [severity] message — fix: step`
        let (place, rest) = l.split_once(": HSM").unwrap_or_else(|| panic!("{l}"));
        let mut parts = place.rsplitn(3, ':');
        assert!(parts.next().unwrap().parse::<u32>().is_ok(), "{l}");
        assert!(parts.next().unwrap().parse::<u32>().is_ok(), "{l}");
        assert!(rest[..3].chars().all(|c| c.is_ascii_digit()), "{l}");
        assert!(
            ["[critical]", "[error]", "[warning]", "[info]"]
                .iter()
                .any(|s| rest[4..].starts_with(s)),
            "{l}"
        );
        assert!(rest.contains(" — fix: "), "{l}");
    }
    assert!(lines[n].contains(&format!("{n} findings")), "{text}");
    let full = hsmdiag()
        .env("COLUMNS", "100")
        .arg("samples/ntls")
        .output()
        .unwrap();
    let full = String::from_utf8_lossy(&full.stdout);
    let channels: std::collections::HashSet<&str> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["channel"].as_str().unwrap())
        .collect();
    assert_eq!(full.matches("who: ").count(), n, "{full}");
    assert_eq!(
        full.matches("who: ").count() - full.matches("who: as for HSM").count(),
        channels.len(),
        "{full}"
    );
}
