//! The precision set: real public logs of other systems (`samples/foreign/`,
//! listed with their origin in `samples/foreign/SOURCES.tsv`), nothing to do
//! with HSMs or Azure. Each file is analysed on its own, as `hsmdiag FILE`
//! would, and none may give a finding at warning or worse.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use hsmdiag::{Report, Severity, expand};

const DIR: &str = "samples/foreign";

/// The files SOURCES.tsv lists, relative to `samples/foreign/`.
fn listed() -> Vec<String> {
    let dir = Path::new(root!()).join(DIR);
    let text =
        std::fs::read_to_string(dir.join("SOURCES.tsv")).expect("samples/foreign/SOURCES.tsv");
    let mut files = Vec::new();
    for (no, line) in text.lines().enumerate() {
        if no == 0 {
            assert!(
                line.starts_with("file\t"),
                "SOURCES.tsv: a header line first"
            );
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(
            cols.len(),
            5,
            "SOURCES.tsv:{}: want file, repository, path, commit, licence",
            no + 1
        );
        assert!(
            cols.iter().all(|c| !c.trim().is_empty()),
            "SOURCES.tsv:{}: an empty column",
            no + 1
        );
        files.push(cols[0].to_owned());
    }
    files
}

/// Every file under `samples/foreign/` but SOURCES.tsv and README.md.
fn on_disk() -> BTreeSet<String> {
    let base = Path::new(root!()).join(DIR);
    let mut out = BTreeSet::new();
    let mut dirs: Vec<PathBuf> = vec![base.clone()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                let rel = p
                    .strip_prefix(&base)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                if rel != "SOURCES.tsv" && rel != "README.md" {
                    out.insert(rel);
                }
            }
        }
    }
    out
}

/// One file analysed as `hsmdiag FILE` does: the command line's expansion
/// (archive members, binary and own-output files skipped), then the analysis.
fn analyze(file: &str) -> Report {
    let path = Path::new(DIR).join(file);
    let (inputs, errors) = expand(&[path]);
    assert!(errors.is_empty(), "{file}: {errors:?}");
    let (report, errors) = crate::analyzer().analyze(&inputs);
    assert!(errors.is_empty(), "{file}: {errors:?}");
    report
}

#[test]
fn foreign_logs_give_no_warning() {
    let files = listed();
    let set: BTreeSet<String> = files.iter().cloned().collect();
    assert_eq!(set.len(), files.len(), "SOURCES.tsv lists a file twice");
    let disk = on_disk();
    let unlisted: Vec<&String> = disk.difference(&set).collect();
    let missing: Vec<&String> = set.difference(&disk).collect();
    assert!(
        unlisted.is_empty() && missing.is_empty(),
        "samples/foreign and SOURCES.tsv disagree: not listed {unlisted:?}, listed but missing {missing:?}"
    );

    let mut lines = 0u64;
    let mut alarms = Vec::new();
    for file in &files {
        let report = analyze(file);
        lines += report.summary.lines;
        for f in report
            .findings
            .iter()
            .filter(|f| f.severity >= Severity::Warning)
        {
            let mut note = format!("{file}: {} ({})", f.id, f.severity);
            for e in &f.evidence {
                note.push_str(&format!("\n    line {}: {}", e.line, e.text));
            }
            alarms.push(note);
        }
    }
    println!(
        "foreign logs: {} files, {lines} lines, {} findings at warning or worse",
        files.len(),
        alarms.len()
    );
    assert!(
        alarms.is_empty(),
        "{} findings at warning or worse on logs of other systems ({} files, {lines} lines):\n{}",
        alarms.len(),
        files.len(),
        alarms.join("\n")
    );
    assert!(
        files.len() >= 200,
        "the precision set holds {} files ({lines} lines); want at least 200",
        files.len()
    );
}

/// None of the logs is skipped (taken for one of hsmdiag's own files, or for
/// a binary) or left unread: a log not read proves nothing about precision.
#[test]
fn foreign_logs_are_all_read() {
    let mut notes = Vec::new();
    for file in listed() {
        let report = analyze(&file);
        for s in &report.summary.skipped {
            notes.push(format!("{file}: skipped: {s}"));
        }
        for u in &report.summary.unreadable {
            notes.push(format!("{file}: unreadable: {u}"));
        }
    }
    assert!(
        notes.is_empty(),
        "logs of other systems not read:\n{}",
        notes.join("\n")
    );
}
