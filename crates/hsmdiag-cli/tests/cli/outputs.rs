//! No output ever replaces an input: every command form that names a file to
//! write is tried onto its own input (by the same name, `./name`, an absolute
//! path, a symbolic link, a hard link, a file in an input folder), and onto
//! another output. Each must exit 2, name the file, and leave every input as it
//! was, with no temporary file left behind.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn sha(path: &Path) -> Option<Vec<u8>> {
    use sha2::Digest;
    std::fs::read(path)
        .ok()
        .map(|b| sha2::Sha256::digest(&b).to_vec())
}

/// Every regular file under `dir` and its digest.
fn tree(dir: &Path) -> Vec<(PathBuf, Option<Vec<u8>>)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        let meta = std::fs::symlink_metadata(&p).unwrap();
        if meta.is_dir() {
            out.extend(tree(&p));
        } else {
            out.push((p.clone(), sha(&p)));
        }
    }
    out.sort();
    out
}

const SAMPLE: &str = "samples/ntls/article-unknown-ca.log";
const TEMPLATE: &str = "samples/lint/hsm-only.json";

/// A fresh folder: `in.log` (a log with a finding), `t.json` (a template),
/// `hard.log` (a hard link to in.log), `sym.log` (a link to it), `d/a.log`,
/// `h.tgz` (a hard link to in.log, under a bundle's name), `man/` with a
/// link `hsmdiag.1` to `victim`.
fn setup(name: &str) -> crate::Scratch {
    let dir = crate::scratch(&format!("outputs-{name}"));
    std::fs::copy(SAMPLE, dir.join("in.log")).unwrap();
    std::fs::copy(TEMPLATE, dir.join("t.json")).unwrap();
    std::fs::create_dir(dir.join("d")).unwrap();
    std::fs::copy(SAMPLE, dir.join("d/a.log")).unwrap();
    std::fs::write(dir.join("victim"), "precious\n").unwrap();
    std::fs::create_dir(dir.join("man")).unwrap();
    #[cfg(unix)]
    {
        std::fs::hard_link(dir.join("in.log"), dir.join("hard.log")).unwrap();
        std::fs::hard_link(dir.join("in.log"), dir.join("h.tgz")).unwrap();
        std::os::unix::fs::symlink("in.log", dir.join("sym.log")).unwrap();
        std::os::unix::fs::symlink("../victim", dir.join("man/hsmdiag.1")).unwrap();
    }
    dir
}

/// The command forms that would destroy an input, each run in its own folder.
const FORMS: &[&[&str]] = &[
    &["in.log", "-o", "in.log"],
    &["in.log", "-o", "./in.log"],
    &["in.log", "-o", "ABS/in.log"],
    &["in.log", "-o", "sym.log"],
    &["in.log", "-o", "hard.log"],
    &["d", "-o", "d/a.log"],
    &["in.log", "--format", "json", "-o", "in.log"],
    &["in.log", "--format", "markdown", "-o", "hard.log"],
    &["in.log", "--format", "sarif", "-o", "./in.log"],
    &["in.log", "--format", "html", "-o", "in.log"],
    &["in.log", "--format", "jsonl", "-o", "in.log"],
    &["lint", "t.json", "-o", "t.json"],
    &["--redact", "in.log", "--redact-map", "in.log"],
    &["--redact", "in.log", "--redact-map", "hard.log"],
    &["--redact", "in.log", "-o", "r.txt", "--redact-map", "r.txt"],
    &["timeline", "--redact", "in.log", "--redact-map", "hard.log"],
    &[
        "diff",
        "--redact",
        "in.log",
        "d/a.log",
        "--redact-map",
        "d/a.log",
    ],
    &["bundle", "-o", "out", "in.log", "--redact-map", "in.log"],
    &["bundle", "-o", "h.tgz", "in.log"],
    &["--follow", "-o", "in.log", "in.log"],
    &["man", "--dir", "man"],
];

fn run(dir: &Path, form: &[&str]) -> std::process::Output {
    let abs = dir.display().to_string();
    let args: Vec<String> = form.iter().map(|a| a.replace("ABS", &abs)).collect();
    Command::new(env!("CARGO_BIN_EXE_hsmdiag"))
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("HSMDIAG_CONFIG", "")
        .args(&args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn no_command_form_writes_over_an_input() {
    if cfg!(not(unix)) {
        crate::skipped("outputs: the links of this test need a Unix system");
        return;
    }
    let mut destroyed = Vec::new();
    for (n, form) in FORMS.iter().enumerate() {
        let dir = setup(&n.to_string());
        let before = tree(&dir);
        let out = run(&dir, form);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let after = tree(&dir);
        let changed: Vec<_> = before
            .iter()
            .filter(|(p, h)| after.iter().find(|(q, _)| q == p).map(|(_, g)| g) != Some(h))
            .map(|(p, _)| p.strip_prefix(&dir).unwrap().display().to_string())
            .collect();
        let leftovers: Vec<_> = after
            .iter()
            .filter(|(p, _)| !before.iter().any(|(q, _)| q == p))
            .map(|(p, _)| p.strip_prefix(&dir).unwrap().display().to_string())
            .collect();
        if !changed.is_empty() {
            destroyed.push(format!("{form:?}: {changed:?}"));
        }
        assert_eq!(out.status.code(), Some(2), "{form:?}: {stderr}");
        assert!(
            stderr.contains("error:") && !stderr.contains("panicked"),
            "{form:?}: {stderr}"
        );
        assert!(
            leftovers.is_empty(),
            "{form:?} left files behind: {leftovers:?}"
        );
        std::fs::remove_dir_all(&dir).ok();
    }
    assert!(destroyed.is_empty(), "inputs destroyed: {destroyed:#?}");
}

/// Stdin that is a file, and stdout that is an input (`>> in.log`).
#[test]
fn stdin_and_stdout_files_are_inputs_too() {
    if cfg!(not(unix)) {
        crate::skipped("outputs: needs a Unix system");
        return;
    }
    let dir = setup("std");
    let log = dir.join("in.log");
    let before = sha(&log);
    let stdin = std::fs::File::open(&log).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hsmdiag"))
        .current_dir(&dir)
        .env("HSMDIAG_CONFIG", "")
        .args(["-o", "hard.log"])
        .stdin(stdin)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let append = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hsmdiag"))
        .current_dir(&dir)
        .env("HSMDIAG_CONFIG", "")
        .arg("in.log")
        .stdout(append)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("standard output is the input"));
    assert_eq!(sha(&log), before);
    std::fs::remove_dir_all(&dir).ok();
}

/// What may be written still is, whole: a new report, a report replaced (its
/// mode kept), the map private, a bundle archive, man pages.
#[test]
fn outputs_that_are_no_input_are_written_whole() {
    let dir = setup("ok");
    for form in [
        &["in.log", "-o", "report.txt"][..],
        &["in.log", "--format", "json", "-o", "report.txt"],
        &[
            "--redact",
            "in.log",
            "-o",
            "r.md",
            "--redact-map",
            "map.json",
        ],
        &["bundle", "-o", "b.tgz", "in.log"],
        &["d", "-o", "d/report.md"],
        // Run again: the earlier report in the folder is no input.
        &["d", "--format", "markdown", "-o", "d/report.md"],
    ] {
        let out = run(&dir, form);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{form:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let report = std::fs::read_to_string(dir.join("report.txt")).unwrap();
    assert!(
        report.contains("\"findings\""),
        "replaced by the second run"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &str| std::fs::metadata(dir.join(p)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode("map.json"), 0o600);
        // A new report gets the mode any new file gets here (the umask's).
        std::fs::write(dir.join("plain"), "x").unwrap();
        assert_eq!(mode("report.txt"), mode("plain"));
    }
    let leftovers: Vec<_> = tree(&dir)
        .into_iter()
        .filter(|(p, _)| p.to_string_lossy().contains(".hsmdiag-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    std::fs::remove_dir_all(&dir).ok();
}
