//! Issue 30, item 6: hsmdiag never reads its own output as evidence. Every
//! report, timeline, event listing, diff, redaction map, rule page and bundle
//! (folder and .tgz) it writes into a folder is recognised by its content when
//! the folder is analysed again, listed as skipped with the reason, and gives
//! no finding; a renamed report is still recognised; a log that mentions
//! hsmdiag is still read. Before, a SARIF report in the folder gave a critical
//! HSM304 read from rule help text, and bundle files gave findings about
//! pseudonyms.

use std::path::Path;
use std::process::{Command, Output};

/// A folder of this test's own ([`crate::scratch`]: removed when it ends).
fn scratch(name: &str) -> crate::Scratch {
    crate::scratch(&format!("own-{name}"))
}

fn hsmdiag() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hsmdiag"));
    c.current_dir(root!())
        .env("NO_COLOR", "1")
        .env("HSMDIAG_CONFIG", "")
        .env("COLUMNS", "100");
    c
}

fn run(args: &[&std::ffi::OsStr]) -> Output {
    hsmdiag().args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The JSON report of `path`, and the exit status.
fn report(path: &Path) -> (serde_json::Value, Option<i32>) {
    let o = run(&["--format".as_ref(), "json".as_ref(), path.as_os_str()]);
    let r = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", text(&o.stdout), text(&o.stderr)));
    (r, o.status.code())
}

/// Runs a command that writes to stdout and keeps what it printed in `out`.
fn save(args: &[&str], out: &Path) {
    let o = hsmdiag().args(args).output().unwrap();
    assert!(
        o.status.code().is_some_and(|c| c < 2),
        "{args:?}: {}",
        text(&o.stderr)
    );
    assert!(!o.stdout.is_empty(), "{args:?} printed nothing");
    std::fs::write(out, &o.stdout).unwrap();
}

/// The incident sample (five inputs, four findings) copied into `dir`.
fn sample_in(dir: &Path) {
    for entry in std::fs::read_dir(Path::new(root!()).join("samples/incident")).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
    }
}

/// Writes every output hsmdiag has into `dir`, analysing `dir` itself each
/// time, as a user re-running it in one folder would; the names of the files
/// written (archive members as `bundle.tgz!member`).
fn every_output_in(dir: &Path) -> Vec<String> {
    let d = dir.to_str().unwrap();
    let mut written = Vec::new();
    for (format, name) in [
        ("text", "report.txt"),
        ("json", "report.json"),
        ("jsonl", "findings.jsonl"),
        ("markdown", "report.md"),
        ("sarif", "report.sarif"),
        ("html", "report.html"),
    ] {
        let out = dir.join(name);
        let o = hsmdiag()
            .args(["--format", format, "-o"])
            .arg(&out)
            .arg(dir)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{format}: {}", text(&o.stderr));
        written.push(name.to_owned());
    }
    // Colour codes in a text report written with --color always.
    let o = hsmdiag()
        .args(["--color", "always", "-o"])
        .arg(dir.join("colour.txt"))
        .arg(dir)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(
        std::fs::read(dir.join("colour.txt"))
            .unwrap()
            .contains(&0x1b)
    );
    written.push("colour.txt".into());
    // A redacted report and its private map.
    let o = hsmdiag()
        .args(["--redact", "--format", "markdown", "--redact-map"])
        .arg(dir.join("map.json"))
        .arg("-o")
        .arg(dir.join("redacted.md"))
        .arg(dir)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    written.extend(["map.json".into(), "redacted.md".into()]);
    // The records of timeline and events, the diff of two reports, the rule
    // pages (they quote the rules' own text), a lint report.
    let json = dir.join("report.json");
    let json = json.to_str().unwrap();
    for (args, name) in [
        (vec!["timeline", d], "timeline.txt"),
        (vec!["timeline", "--format", "json", d], "timeline.json"),
        (vec!["timeline", "--format", "jsonl", d], "timeline.jsonl"),
        (vec!["events", d], "events.txt"),
        (vec!["events", "--format", "json", d], "events.json"),
        (vec!["events", "--format", "jsonl", d], "events.jsonl"),
        (vec!["diff", json, json], "diff.txt"),
        (vec!["diff", "--format", "json", json, json], "diff.json"),
        (vec!["explain", "HSM304"], "explain.md"),
        (
            vec!["explain", "--format", "json", "HSM107"],
            "explain.json",
        ),
        (vec!["rules"], "rules.txt"),
        (vec!["rules", "--format", "json"], "rules.json"),
        (vec!["rules", "--format", "markdown"], "rules.md"),
        (
            vec!["lint", "samples/lint/arm-quickstart-no-delegation.json"],
            "lint.txt",
        ),
    ] {
        save(&args, &dir.join(name));
        written.push(name.to_owned());
    }
    // A wide timeline is laid out one line per event.
    let o = hsmdiag()
        .env("COLUMNS", "300")
        .arg("timeline")
        .arg(dir)
        .output()
        .unwrap();
    std::fs::write(dir.join("timeline-wide.txt"), &o.stdout).unwrap();
    written.push("timeline-wide.txt".into());
    // Bundles, as a folder and as a .tgz, redacted (pseudonyms inside).
    for out in ["bundle", "bundle.tgz"] {
        let o = hsmdiag()
            .args(["bundle", "-o"])
            .arg(dir.join(out))
            .arg(dir)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{out}: {}", text(&o.stderr));
    }
    let mut members: Vec<String> = [
        "report.md",
        "report.html",
        "report.sarif",
        "findings.json",
        "manifest.json",
    ]
    .map(String::from)
    .into();
    for e in std::fs::read_dir(dir.join("bundle/evidence")).unwrap() {
        let name = e.unwrap().file_name();
        members.push(format!("evidence/{}", name.to_string_lossy()));
    }
    // One evidence file per finding of the sample.
    assert_eq!(members.len(), 5 + 4, "{members:?}");
    for m in members {
        assert!(dir.join("bundle").join(&m).is_file(), "bundle/{m}");
        written.push(format!("bundle/{m}"));
        written.push(format!("bundle.tgz!hsmdiag-bundle/{m}"));
    }
    // Renamed: what a file is called does not decide what it is.
    for (from, to) in [
        ("report.json", "ntls-2026-11-20.log"),
        ("report.sarif", "messages"),
        ("report.md", "notes.txt"),
        ("bundle/evidence/01-HSM401.txt", "hsm2.log"),
    ] {
        std::fs::copy(dir.join(from), dir.join(to)).unwrap();
        written.push(to.to_owned());
    }
    written
}

/// A skipped entry's name below `dir` and its reason.
fn skipped_below(report: &serde_json::Value, dir: &Path) -> Vec<(String, String)> {
    let prefix = format!("{}/", dir.display());
    report["summary"]["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let s = s.as_str().unwrap();
            let s = s.strip_prefix(&prefix).unwrap_or(s);
            let (name, reason) = s.split_once(" (").unwrap_or((s, ""));
            (name.to_owned(), reason.trim_end_matches(')').to_owned())
        })
        .collect()
}

#[test]
fn own_outputs_in_an_analysed_folder_are_skipped_and_give_no_finding() {
    let dir = scratch("folder");
    let dir: &Path = &dir;
    sample_in(dir);
    let (alone, status) = report(dir);
    let findings = alone["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 4, "{findings:#?}");
    assert_eq!(status, Some(1));

    let written = every_output_in(dir);
    let (again, status_again) = report(dir);
    // Exactly the sample's findings: none from rule text, pseudonyms or copies.
    let codes = |r: &serde_json::Value| -> Vec<String> {
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| format!("{} {} {}", f["code"], f["severity"], f["subject"]))
            .collect()
    };
    assert_eq!(codes(&again), codes(&alone));
    assert_eq!(again["findings"], alone["findings"]);
    assert_eq!(again["summary"]["findings"], alone["summary"]["findings"]);
    assert_eq!(again["summary"]["inputs"], alone["summary"]["inputs"]);
    assert_eq!(again["summary"]["lines"], alone["summary"]["lines"]);
    assert_eq!(status_again, status);
    // Each output is listed as skipped, with what it is.
    let skipped = skipped_below(&again, dir);
    let mut names: Vec<&str> = skipped.iter().map(|(n, _)| n.as_str()).collect();
    names.sort_unstable();
    let mut want: Vec<&str> = written.iter().map(String::as_str).collect();
    want.sort_unstable();
    assert_eq!(names, want);
    for (name, reason) in &skipped {
        assert!(
            reason.starts_with("an hsmdiag ")
                || reason.starts_with("hsmdiag ")
                || reason.starts_with("the hsmdiag "),
            "{name}: {reason}"
        );
    }
    let reason = |name: &str| {
        skipped
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, r)| r.as_str())
            .unwrap()
    };
    assert!(reason("report.json").contains("JSON report"));
    assert!(reason("ntls-2026-11-20.log").contains("JSON report"));
    assert!(reason("messages").contains("SARIF report"));
    assert!(reason("bundle.tgz!hsmdiag-bundle/report.sarif").contains("SARIF report"));
    assert!(reason("map.json").contains("redaction map"));
    assert!(reason("bundle/manifest.json").contains("bundle manifest"));
    assert!(reason("timeline-wide.txt").contains("timeline"));
    assert!(reason("colour.txt").contains("text report"));

    // The text and Markdown reports list them too.
    let o = run(&[dir.as_os_str()]);
    let out = text(&o.stdout);
    let line = format!("Skipped {} files, not read:", written.len());
    assert!(out.contains(&line), "{out}");
    assert!(!out.contains("HSM304") && !out.contains("HSM107"), "{out}");
    let o = run(&["--format".as_ref(), "markdown".as_ref(), dir.as_os_str()]);
    assert!(text(&o.stdout).contains("| Skipped | "));

    // The commands that read logs skip them as the analysis does.
    let o = run(&["events".as_ref(), dir.as_os_str()]);
    let events = text(&o.stdout);
    assert!(!events.contains("report.sarif"), "events read a report");
    assert!(events.contains("hsm2-lunalogs.log"));
}

#[test]
fn naming_an_own_output_gives_a_note_and_no_finding() {
    let dir = scratch("named");
    let dir: &Path = &dir;
    sample_in(dir);
    let written = every_output_in(dir);
    let files: Vec<&String> = written
        .iter()
        .filter(|w| !w.contains('!'))
        .collect::<Vec<_>>();
    assert!(files.len() > 30);
    for name in files {
        let path = dir.join(name);
        let o = run(&[path.as_os_str()]);
        let err = text(&o.stderr);
        // Nothing was read: a note on stderr, no report, exit 2.
        assert_eq!(o.status.code(), Some(2), "{name}: {err}");
        let note = format!("hsmdiag: skipped {}: ", path.display());
        assert!(err.contains(&note), "{name}: {err}");
        assert!(
            err.contains("hsmdiag") && err.contains("not "),
            "{name}: {err}"
        );
        assert!(err.contains("no input could be read"), "{name}: {err}");
        assert!(o.stdout.is_empty(), "{name}: {}", text(&o.stdout));
    }
    // A JSON report named on its own points to diff, which still reads it.
    let json = dir.join("report.json");
    let o = run(&[json.as_os_str()]);
    assert!(
        text(&o.stderr)
            .contains("an hsmdiag JSON report, not evidence; compare reports with `hsmdiag diff`"),
        "{}",
        text(&o.stderr)
    );
    let o = run(&["diff".as_ref(), json.as_os_str(), json.as_os_str()]);
    let out = text(&o.stdout);
    assert!(
        out.contains("New (0):") && out.contains("Still there (4):"),
        "{out}"
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    // A renamed JSON report is read back by diff as well.
    let renamed = dir.join("ntls-2026-11-20.log");
    let o = run(&["diff".as_ref(), renamed.as_os_str(), json.as_os_str()]);
    assert!(text(&o.stdout).contains("Still there (4):"));
    // A folder with reports in it compares as its logs alone.
    let o = run(&["diff".as_ref(), json.as_os_str(), dir.as_os_str()]);
    let out = text(&o.stdout);
    assert!(
        out.contains("New (0):") && out.contains("Still there (4):"),
        "{out}"
    );
    // Another of hsmdiag's outputs is no report diff can read: it says so.
    let sarif = dir.join("report.sarif");
    let o = run(&["diff".as_ref(), sarif.as_os_str(), json.as_os_str()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("an hsmdiag SARIF report; diff compares JSON reports"));
}

#[test]
fn a_log_that_mentions_hsmdiag_is_still_read() {
    let dir = scratch("mentions");
    let dir: &Path = &dir;
    let log =
        std::fs::read_to_string(Path::new(root!()).join("samples/ntls/article-unknown-ca.log"))
            .unwrap();
    for (name, head) in [
        (
            "collected.log",
            "# collected for hsmdiag 0.3.0 (hsmdiag report to follow; see hsmdiag explain HSM101)\n",
        ),
        ("heading.log", "# hsmdiag report\n\n"),
        (
            "pasted.txt",
            "error[HSM101] ntls.unknown_ca said hsmdiag yesterday; the log again:\n",
        ),
        (
            "ticket.txt",
            "HSM101 ntls.unknown_ca — seen again after the certificate change\n",
        ),
        (
            "tool.json",
            "{\"tool\": \"hsmdiag\", \"note\": \"the NTLS log follows\"}\n",
        ),
    ] {
        std::fs::write(dir.join(name), format!("{head}{log}")).unwrap();
        let (r, status) = report(&dir.join(name));
        assert_eq!(status, Some(1), "{name}");
        assert_eq!(
            r["summary"]["skipped"].as_array().unwrap().len(),
            0,
            "{name}"
        );
        assert_eq!(r["summary"]["inputs"], 1, "{name}");
        assert!(
            r["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["code"] == "HSM101"),
            "{name}: {r:#}"
        );
    }
    let (r, _) = report(dir);
    assert_eq!(r["summary"]["inputs"], 5);
    assert_eq!(r["summary"]["skipped"].as_array().unwrap().len(), 0);
}
