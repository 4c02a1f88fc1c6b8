//! Bad input of every kind: the command never panics, never hangs, accounts for
//! every line, and says what is wrong and where.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn hsmdiag() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hsmdiag"));
    c.current_dir(root!()).env("NO_COLOR", "1");
    c
}

fn scratch(name: &str) -> crate::Scratch {
    crate::scratch(&format!("hard-{name}"))
}

/// Runs `hsmdiag --format json FILE` and returns the output, checking that it
/// did not panic and that the summary accounts for every line.
fn analyse(path: &Path) -> (Output, serde_json::Value) {
    let (out, report) = analyse_once(path);
    // Without --coverage (the prefilter): the same findings and line count.
    let quick = hsmdiag().arg("--format=json").arg(path).output().unwrap();
    assert_eq!(quick.status.code(), out.status.code());
    let quick: serde_json::Value = serde_json::from_slice(&quick.stdout).unwrap();
    let s = &report["summary"];
    assert_eq!(quick["findings"], report["findings"]);
    assert_eq!(quick["summary"]["lines"], s["lines"]);
    assert_eq!(quick["summary"]["blank_lines"], s["blank_lines"]);
    assert!(quick["summary"]["unrecognized_lines"].is_null());
    (out, report)
}

/// [`analyse`] with `--coverage` alone (an input that can be read once).
fn analyse_once(path: &Path) -> (Output, serde_json::Value) {
    let out = hsmdiag()
        .args(["--format=json", "--coverage"])
        .arg(path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        matches!(out.status.code(), Some(0..=2)),
        "{:?}: {stderr}",
        out.status
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    let s = &report["summary"];
    let parts = ["recognized_lines", "unrecognized_lines", "blank_lines"]
        .iter()
        .map(|k| s[k].as_u64().unwrap())
        .sum::<u64>();
    assert_eq!(s["lines"].as_u64().unwrap(), parts, "{s}");
    (out, report)
}

const FAILURE: &str = "2026 Mar 01 10:05:00 hsm1 local5 info NTLS [2490]: info : 0xc0000711 : Fail to establish a secure channel with client : 10.3.1.4/59415 : RC_SSL_FAILED_HANDSHAKE";
const ALERT: &str = "2026 Mar 01 10:05:00 hsm1 local5 info NTLS [2490]: Error message from SSLAccept is : error:14094418:SSL routines:ssl3_read_bytes:tlsv1 alert unknown ca";

#[test]
fn invalid_utf8_nul_bytes_crlf_and_lone_cr_are_read_and_counted() {
    let dir = scratch("bytes");
    let path = dir.join("mixed.log");
    let mut bytes = Vec::new();
    bytes.extend_from_slice(b"garbage \x00\xff\xfe \x80\x81 line\r\n");
    bytes.extend_from_slice(ALERT.as_bytes());
    bytes.extend_from_slice(b"\r\n");
    bytes.extend_from_slice(FAILURE.as_bytes());
    bytes.extend_from_slice(b"\rnul \x00 in the middle\r");
    std::fs::write(&path, &bytes).unwrap();
    let (out, r) = analyse(&path);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(r["summary"]["lines"], 4);
    assert_eq!(r["summary"]["unrecognized_lines"], 2);
    assert_eq!(r["findings"][0]["id"], "ntls.unknown_ca");
    assert_eq!(r["findings"][0]["evidence"][1]["line"], 3);
}

#[test]
fn empty_input_and_blank_lines_only() {
    let dir = scratch("empty");
    for (name, content) in [("empty.log", ""), ("blank.log", "\n\n  \r\n\t\n")] {
        let path = dir.join(name);
        std::fs::write(&path, content).unwrap();
        let (out, r) = analyse(&path);
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(r["summary"]["recognized_lines"], 0);
        assert_eq!(r["summary"]["lines"], content.lines().count());
    }
}

#[test]
fn a_100_mb_line_is_cut_counted_and_the_lines_after_it_still_read() {
    let dir = scratch("long");
    let path = dir.join("long.log");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(f, "{ALERT}").unwrap();
    let chunk = "x".repeat(1 << 20);
    for _ in 0..100 {
        f.write_all(chunk.as_bytes()).unwrap();
    }
    writeln!(f).unwrap();
    writeln!(f, "{FAILURE}").unwrap();
    drop(f);
    let (out, r) = analyse(&path);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(r["summary"]["lines"], 3);
    assert_eq!(r["summary"]["long_lines"], 1);
    assert_eq!(r["findings"][0]["id"], "ntls.unknown_ca");
}

/// The failure at the end of a line over 1 MiB (NTLS messages run together
/// after a long blob): the line keeps its end, so the handshake's message is
/// read and the finding is the specific one (HSM101), not the generic one.
#[test]
fn the_end_of_a_cut_line_is_read() {
    let dir = scratch("long-end");
    let path = dir.join("long.log");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(f, "{ALERT}").unwrap();
    write!(
        f,
        "2026 Mar 01 10:05:00 hsm1 local5 info NTLS [2490]: blob "
    )
    .unwrap();
    f.write_all("y".repeat(2 << 20).as_bytes()).unwrap();
    let message = FAILURE.split_once("NTLS [2490]: ").unwrap().1;
    writeln!(f, " NTLS[2490]: {message}").unwrap();
    drop(f);
    let (out, r) = analyse(&path);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(r["summary"]["long_lines"], 1);
    let ids: Vec<&str> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["ntls.unknown_ca"], "{r}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn truncated_compressed_files_report_where_they_broke_and_keep_what_was_read() {
    let dir = scratch("truncated");
    // A log long enough that every format has whole blocks before the cut.
    let mut text = String::new();
    for i in 0..4000 {
        text.push_str(&format!(
            "2026 Mar 01 10:{:02}:{:02} hsm1 local5 info NTLS [2490]: info : 0 : Incoming connection request... : 10.3.1.{}/{}\n",
            (i / 60) % 60,
            i % 60,
            i % 250,
            40000 + i
        ));
    }
    let plain = dir.join("plain.log");
    std::fs::write(&plain, &text).unwrap();
    for (format, cmd) in [
        ("gzip", vec!["gzip", "-c"]),
        ("zstd", vec!["zstd", "-q", "-c"]),
        ("xz", vec!["xz", "-c"]),
        // Blocks of 100 kB (the default 900 kB holds this whole log).
        ("bzip2", vec!["bzip2", "-1", "-c"]),
    ] {
        let Ok(out) = Command::new(cmd[0]).args(&cmd[1..]).arg(&plain).output() else {
            crate::skipped(&format!(
                "truncated {}: {} is not installed",
                format, cmd[0]
            ));
            continue;
        };
        let whole = out.stdout;
        let path = dir.join(format!("{format}.log"));
        std::fs::write(&path, &whole[..whole.len() * 2 / 3]).unwrap();
        let (out, r) = analyse(&path);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{format}: {stderr}");
        assert!(
            stderr.contains("read failed after line"),
            "{format}: {stderr}"
        );
        assert_eq!(
            r["summary"]["unreadable"].as_array().unwrap().len(),
            1,
            "{format}"
        );
        // Every whole block before the cut is read (a decoder that holds its
        // window back until the frame ends gave none of them).
        let lines = r["summary"]["lines"].as_u64().unwrap();
        assert!(lines > 1000 && lines < 4000, "{format}: {lines}");
    }
}

#[test]
fn json_cut_in_the_middle_and_nested_100000_deep() {
    let dir = scratch("json");
    let cut = dir.join("cut.json");
    std::fs::write(
        &cut,
        "{\n  \"status\": \"Failed\",\n  \"error\": {\n    \"code\": \"DeploymentFailed\",\n    \"message\": \"At least one resource deployment operation failed.\",\n    \"details\": [\n      {\n        \"code\": \"InternalServerError\",\n        \"message\": \"An unexpected",
    )
    .unwrap();
    let (_, r) = analyse(&cut);
    assert_eq!(r["summary"]["lines"], 9);
    let deep = dir.join("deep.json");
    let mut doc = "[".repeat(100_000);
    doc.push_str(&"]".repeat(100_000));
    doc.push('\n');
    doc.push_str(&"{\"a\":".repeat(100_000));
    doc.push('1');
    doc.push_str(&"}".repeat(100_000));
    doc.push('\n');
    std::fs::write(&deep, doc).unwrap();
    let (out, r) = analyse(&deep);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(r["summary"]["lines"], 2);
}

#[cfg(unix)]
#[test]
fn a_directory_with_a_symlink_loop_is_read_once() {
    let dir = scratch("loop");
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(logs.join("hsm1.log"), format!("{ALERT}\n{FAILURE}\n")).unwrap();
    std::os::unix::fs::symlink("..", logs.join("up")).unwrap();
    std::os::unix::fs::symlink(".", logs.join("self")).unwrap();
    let (out, r) = analyse(&dir);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(r["summary"]["inputs"], 1);
    assert_eq!(r["findings"].as_array().unwrap().len(), 1);
}

#[cfg(unix)]
#[test]
fn a_fifo_is_read_as_a_stream() {
    let dir = scratch("fifo");
    let fifo = dir.join("pipe");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        crate::skipped("FIFO input: mkfifo is not available");
        return;
    }
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut f = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
            writeln!(f, "{ALERT}\n{FAILURE}").unwrap();
        })
    };
    let (out, r) = analyse_once(&fifo);
    writer.join().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(r["summary"]["lines"], 2);
}

#[test]
fn a_file_that_shrinks_or_grows_while_it_is_read() {
    let dir = scratch("changing");
    let path = dir.join("busy.log");
    let line = format!("{ALERT}\n");
    std::fs::write(&path, line.repeat(200_000)).unwrap();
    let child = hsmdiag()
        .args(["--format=json", "--coverage"])
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Cut it to a few lines, then let it grow again, while it is read.
    std::fs::write(&path, line.repeat(3)).unwrap();
    std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap()
        .write_all(line.repeat(1000).as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(matches!(out.status.code(), Some(0..=2)), "{stderr}");
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = &r["summary"];
    assert_eq!(
        s["lines"].as_u64().unwrap(),
        ["recognized_lines", "unrecognized_lines", "blank_lines"]
            .iter()
            .map(|k| s[k].as_u64().unwrap())
            .sum::<u64>()
    );
}

#[test]
fn a_closed_stdout_ends_every_command_quietly() {
    let dir = scratch("pipe");
    let path = dir.join("many.log");
    std::fs::write(&path, format!("{ALERT}\n{FAILURE}\n").repeat(20_000)).unwrap();
    let runs: Vec<Vec<String>> = vec![
        vec!["events".into(), path.display().to_string()],
        vec!["timeline".into(), path.display().to_string()],
        vec!["rules".into()],
        vec!["explain".into(), "HSM101".into()],
        vec![path.display().to_string()],
        vec!["--format=jsonl".into(), path.display().to_string()],
        vec!["check".into(), "docs/examples/site".into()],
    ];
    for args in runs {
        let mut child = hsmdiag()
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away at once, like `| head -0`.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!stderr.contains("Broken pipe"), "{args:?}: {stderr}");
        assert!(
            matches!(out.status.code(), Some(0..=2)),
            "{args:?}: {stderr}"
        );
    }
}

#[cfg(unix)]
#[test]
fn ctrl_c_ends_a_run_waiting_on_stdin_without_noise() {
    let mut child = hsmdiag()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .as_mut()
        .unwrap()
        .write_all(format!("{ALERT}\n").as_bytes())
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(out.status.signal(), Some(2), "{:?}", out.status);
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A rule file that is valid, to be broken in one way at a time.
const RULE: &str = r#"id = "site.bad_certificate"
code = "SITE900"
title = "a client's certificate was refused"
severity = "error"
subject = "{client.ip}"

[[match]]
event = "ntls.secure_channel_failed"

[[remediation]]
step = "Register the client again"
"#;

const CATALOGUE: &str = r#"name = "site"
description = "a site's own service"
programs = ["sitesvc"]

[[message]]
event = "site.started"
pattern = '^started on port (?P<port>\d+)$'
samples = [{ text = "started on port 1792", fields = { port = "1792" } }]
"#;

#[test]
fn bad_rule_and_grammar_files_are_refused_with_the_file_and_line() {
    let dir = scratch("user-data");
    let huge = format!(
        "^(?:{})$",
        (0..5000)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join("|")
    );
    let rules: Vec<(&str, String)> = vec![
        ("not TOML", "id = \"x\"\ncode = ".into()),
        ("unknown field", format!("{RULE}colour = \"red\"\n")),
        (
            "duplicate id",
            RULE.replace("site.bad_certificate", "ntls.unknown_ca"),
        ),
        ("duplicate code", RULE.replace("SITE900", "HSM101")),
        (
            "unknown event",
            RULE.replace("ntls.secure_channel_failed", "ntls.secure_channel_fail"),
        ),
        (
            "bad regex",
            RULE.replace(
                "event = \"ntls.secure_channel_failed\"",
                "event = \"ntls.secure_channel_failed\"\nwhere = { rc = '(unclosed' }",
            ),
        ),
        (
            "huge regex",
            RULE.replace(
                "event = \"ntls.secure_channel_failed\"",
                &format!("event = \"ntls.secure_channel_failed\"\nwhere = {{ rc = '{huge}' }}"),
            ),
        ),
        ("empty", String::new()),
    ];
    let grammars: Vec<(&str, String)> = vec![
        ("not TOML", "name = [".into()),
        ("unknown field", format!("colour = 1\n{CATALOGUE}")),
        (
            "bad pattern",
            CATALOGUE.replace(r"(?P<port>\d+)", r"(?P<port>\d+"),
        ),
        (
            "huge pattern",
            CATALOGUE.replace(r"^started on port (?P<port>\d+)$", &huge),
        ),
        (
            "blow-up pattern",
            CATALOGUE.replace(r"(?P<port>\d+)", r"(?P<port>(?:\d{1000}){1000})"),
        ),
        (
            "unknown macro",
            CATALOGUE.replace(r"(?P<port>\d+)", "%{NOPE:port}"),
        ),
    ];
    for (flag, cases) in [("--rules", rules), ("--grammar", grammars)] {
        for (what, text) in cases {
            let path = dir.join(format!("{}.toml", what.replace(' ', "-")));
            std::fs::write(&path, &text).unwrap();
            let out = hsmdiag()
                .arg(flag)
                .arg(&path)
                .arg("samples/ntls/article-unknown-ca.log")
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{flag} {what}: {stderr}");
            assert!(!stderr.contains("panicked"), "{flag} {what}: {stderr}");
            assert!(
                stderr.contains(&path.display().to_string()),
                "{flag} {what} names the file: {stderr}"
            );
            assert!(out.stdout.is_empty(), "{flag} {what}: nothing analysed");
        }
    }
    // A sample its own pattern does not type: `check` says so.
    let path = dir.join("sample-not-typed.toml");
    std::fs::write(&path, CATALOGUE.replace("started on port 1792", "stopped")).unwrap();
    let out = hsmdiag().arg("check").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no pattern types the sample"));
    // Not UTF-8 at all.
    let path = dir.join("binary.toml");
    std::fs::write(&path, b"\xff\xfe\x00\x01id").unwrap();
    let out = hsmdiag()
        .arg("--rules")
        .arg(&path)
        .arg("-")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// Issue 16: a directory walk reads the folder's files only: a link out of
/// the named folder is not followed, and a FIFO (or socket, or device) in it is
/// not read; both are listed as skipped, with the reason. A link inside the
/// folder is followed.
#[cfg(unix)]
#[test]
fn a_directory_walk_skips_links_out_of_the_folder_and_fifos() {
    let dir = scratch("walk-out");
    let logs = dir.join("logs");
    let outside = dir.join("outside");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(logs.join("hsm1.log"), format!("{ALERT}\n{FAILURE}\n")).unwrap();
    std::fs::write(outside.join("secret.log"), format!("{ALERT}\n")).unwrap();
    std::os::unix::fs::symlink(outside.join("secret.log"), logs.join("out.log")).unwrap();
    std::os::unix::fs::symlink(logs.join("hsm1.log"), logs.join("same.log")).unwrap();
    let fifo_made = Command::new("mkfifo")
        .arg(logs.join("pipe"))
        .status()
        .is_ok_and(|s| s.success());
    let (inputs, errors) = hsmdiag::expand(std::slice::from_ref(&logs));
    assert!(errors.is_empty(), "{errors:?}");
    let skipped: Vec<&str> = inputs
        .iter()
        .filter(|i| i.is_skipped())
        .map(|i| i.name.as_str())
        .collect();
    let read: Vec<&str> = inputs
        .iter()
        .filter(|i| !i.is_skipped())
        .map(|i| i.name.as_str())
        .collect();
    assert!(
        skipped.iter().any(|n| n.ends_with("out.log")),
        "{skipped:?}"
    );
    assert!(read.iter().any(|n| n.ends_with("same.log")), "{read:?}");
    assert!(!read.iter().any(|n| n.ends_with("out.log")), "{read:?}");
    if fifo_made {
        assert!(skipped.iter().any(|n| n.ends_with("pipe")), "{skipped:?}");
    }
    let (report, _) = hsmdiag::Analyzer::new().analyze(&inputs);
    assert_eq!(report.summary.skipped.len(), skipped.len());
    assert!(
        report
            .summary
            .skipped
            .iter()
            .any(|s| s.contains("a link out of the folder"))
    );
}

/// Rule, grammar and configuration paths that are no small regular file
/// (`/dev/zero`, `/dev/urandom`, a FIFO) are refused at once with the file
/// named: never read without end, never waited on.
#[test]
fn knowledge_files_are_small_regular_files() {
    if cfg!(not(unix)) || !Path::new("/dev/zero").exists() {
        crate::skipped("knowledge files: needs /dev/zero (a Unix system)");
        return;
    }
    let dir = scratch("knowledge");
    let fifo = dir.join("rules.toml");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success());
    let big = dir.join("big.toml");
    std::fs::write(&big, "# x\n".repeat(1_100_000)).unwrap();
    let sample = "samples/ntls/article-unknown-ca.log";
    /// Arguments and environment of one run.
    type Case = (Vec<String>, Vec<(&'static str, String)>);
    let mut cases: Vec<Case> = vec![
        (vec!["--rules".into(), "/dev/zero".into()], vec![]),
        (vec!["--grammar".into(), "/dev/zero".into()], vec![]),
        (vec!["--rules".into(), "/dev/urandom".into()], vec![]),
        (vec!["--rules".into(), big.display().to_string()], vec![]),
        (vec![], vec![("HSMDIAG_CONFIG", "/dev/zero".into())]),
        (vec![], vec![("HSMDIAG_RULES", "/dev/zero".into())]),
        (vec!["check".into(), "/dev/zero".into()], vec![]),
    ];
    if made {
        cases.push((vec!["--rules".into(), fifo.display().to_string()], vec![]));
        cases.push((vec!["--config".into(), fifo.display().to_string()], vec![]));
    } else {
        crate::skipped("knowledge files: the FIFO cases (no mkfifo)");
    }
    for (args, env) in cases {
        let mut c = hsmdiag();
        c.args(&args)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())));
        if args.first().is_none_or(|a| a != "check") {
            c.arg(sample);
        }
        let mut child = c
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // A guard against a hang, not a measure of speed.
        let mut waited = 0;
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break Some(s);
            }
            if waited >= 300 {
                child.kill().ok();
                break None;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
            waited += 1;
        };
        let mut err = String::new();
        std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).ok();
        let status = status.unwrap_or_else(|| panic!("{args:?} {env:?} did not end"));
        assert_eq!(status.code(), Some(2), "{args:?} {env:?}: {err}");
        assert!(
            err.contains("not a regular") || err.contains("larger than 4"),
            "{args:?} {env:?}: {err}"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// A log is judged by its first block of text, not by the whole head: a
/// block of NULs after the failure lines (a crash) or before them (a
/// preallocated file) keeps it a log, and UTF-16 without a byte-order mark is
/// read as UTF-16, little- or big-endian; a file that starts binary is still
/// skipped.
#[test]
fn nul_blocks_and_utf16_without_a_bom_are_still_logs() {
    let dir = scratch("regions");
    let log = format!("{ALERT}\n{FAILURE}\n");
    let utf16 = |little: bool| -> Vec<u8> {
        log.encode_utf16()
            .flat_map(|u| {
                if little {
                    u.to_le_bytes()
                } else {
                    u.to_be_bytes()
                }
            })
            .collect()
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("nul-after.log", [log.as_bytes(), &[0u8; 4096][..]].concat()),
        (
            "nul-before.log",
            [&[0u8; 4096][..], log.as_bytes()].concat(),
        ),
        ("utf16le.log", utf16(true)),
        ("utf16be.log", utf16(false)),
    ];
    for (name, bytes) in cases {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        let out = hsmdiag().arg("--format=json").arg(&path).output().unwrap();
        let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(out.status.code(), Some(1), "{name}: {r}");
        assert_eq!(r["findings"][0]["id"], "ntls.unknown_ca", "{name}");
    }
    // An ELF header and random-looking bytes: skipped, with the reason.
    let mut elf = b"\x7fELF\x02\x01\x01\x00".to_vec();
    elf.extend((0..4000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    elf.extend_from_slice(log.as_bytes());
    let path = dir.join("core");
    std::fs::write(&path, elf).unwrap();
    // Nothing else to read: no report, exit 2, the reason on stderr.
    let out = hsmdiag().arg("--format=json").arg(&path).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(out.stdout.is_empty());
    assert!(
        err.contains("binary") && err.contains("no input could be read"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// A tar built in memory: (path, kind byte, data).
fn tar_of(members: &[(&str, u8, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, kind, data) in members {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::new(*kind));
        if *kind == b'2' || *kind == b'1' {
            h.set_link_name("var/log/messages").unwrap();
            h.set_size(0);
        }
        h.set_cksum();
        b.append_data(&mut h, path, *data).unwrap();
    }
    b.into_inner().unwrap()
}

/// Archives read once and said whole: a compressed tar's members all read
/// (from one decompression), links inside listed as skipped, a plain tar cut
/// off inside a member reported as a read error, and a decompression bomb
/// stopped at the budget with the reason.
#[test]
fn archives_are_read_once_links_listed_cuts_and_bombs_said() {
    use std::io::Write as _;
    let dir = scratch("archives");
    let log = format!("{ALERT}\n{FAILURE}\n");
    let filler: String = (0..2000)
        .map(|i| format!("2026 Mar 01 10:04:{:02} hsm1 local5 info NTLS [2490]: info : 0 : Incoming connection request... : 10.1.1.{}/5000\n", i % 60, i % 250))
        .collect();
    let plain = tar_of(&[
        ("var/log/before", b'0', filler.as_bytes()),
        ("var/log/messages", b'0', log.as_bytes()),
        ("var/log/link", b'2', b""),
    ]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&plain).unwrap();
    std::fs::write(dir.join("export.tgz"), gz.finish().unwrap()).unwrap();
    let out = hsmdiag()
        .arg("--format=json")
        .arg(dir.join("export.tgz"))
        .output()
        .unwrap();
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{r}");
    assert_eq!(r["findings"][0]["id"], "ntls.unknown_ca");
    assert_eq!(r["summary"]["inputs"], 2);
    assert!(r["summary"]["skipped"].to_string().contains("link"), "{r}");
    // Cut off inside the failing member: read as far as it goes, and said.
    // Two headers, the filler with its padding, then 200 of the log's bytes.
    let cut = &plain[..1024 + filler.len().div_ceil(512) * 512 + 200];
    std::fs::write(dir.join("cut.tar"), cut).unwrap();
    let out = hsmdiag()
        .arg("--format=json")
        .arg(dir.join("cut.tar"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("cut off") || err.contains("breaks off"),
        "{err}"
    );
    // 32 MiB of newlines in 32 KiB: stopped at a 1 MiB budget, with why.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let newlines = vec![b'\n'; 1 << 20];
    for _ in 0..32 {
        gz.write_all(&newlines).unwrap();
    }
    std::fs::write(dir.join("bomb.gz"), gz.finish().unwrap()).unwrap();
    let out = hsmdiag()
        .args(["--max-decompressed", "1"])
        .arg(dir.join("bomb.gz"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("budget"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

/// Archives inside archives are read, to a depth: a .tgz inside a tar, a
/// zip inside a .tgz, a .tar.gz inside a zip — each failing log found under
/// its full name; four deep is listed as skipped.
#[test]
fn nested_archives_are_read_to_a_depth() {
    use std::io::Write as _;
    let dir = scratch("nested");
    let log = format!("{ALERT}\n{FAILURE}\n");
    let gz = |bytes: &[u8]| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    };
    let zip_of = |name: &str, bytes: &[u8]| {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        w.start_file(name, opts).unwrap();
        w.write_all(bytes).unwrap();
        w.finish().unwrap().into_inner()
    };
    let inner_tgz = gz(&tar_of(&[("var/log/messages", b'0', log.as_bytes())]));
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "outer.tar",
            tar_of(&[("hsm1.tgz", b'0', &inner_tgz)]),
            "outer.tar!hsm1.tgz!var/log/messages",
        ),
        (
            "outer.tgz",
            gz(&tar_of(&[(
                "logs.zip",
                b'0',
                &zip_of("a.log", log.as_bytes()),
            )])),
            "outer.tgz!logs.zip!a.log",
        ),
        (
            "outer.zip",
            zip_of("export.tar.gz", &inner_tgz),
            "outer.zip!export.tar.gz!var/log/messages",
        ),
    ];
    for (name, bytes, member) in cases {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        let out = hsmdiag().arg("--format=json").arg(&path).output().unwrap();
        let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(out.status.code(), Some(1), "{name}: {r}");
        assert_eq!(r["findings"][0]["id"], "ntls.unknown_ca", "{name}");
        let sources = r["summary"]["sources"].to_string();
        assert!(sources.contains(member), "{name}: {sources}");
    }
    // Four deep: the innermost is listed, not read.
    let mut deep = tar_of(&[("a.log", b'0', log.as_bytes())]);
    for level in 0..4 {
        deep = tar_of(&[(&format!("level{level}.tar"), b'0', &deep)]);
    }
    std::fs::write(dir.join("deep.tar"), deep).unwrap();
    let out = hsmdiag()
        .arg("--format=json")
        .arg(dir.join("deep.tar"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("nested"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

/// A zip whose central directory names thousands of members that all point
/// at one deflate stream (a "non-recursive zip bomb": a few hundred kilobytes
/// that claim gigabytes). No real archive has members that share bytes: the
/// first is read, the others are listed as skipped with the reason, and the
/// run ends at once instead of analysing the same stream thousands of times.
#[test]
fn zip_members_that_overlap_one_stream_are_read_once() {
    use std::io::Write as _;
    let dir = scratch("overlap");
    let mut text = format!("{FAILURE}\n");
    while text.len() < 4 << 20 {
        text.push_str(
            "2026 Mar 01 10:05:01 hsm1 local5 info NTLS [2490]: info : 0 : Incoming connection request... : 10.3.1.4/59416\n",
        );
    }
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(text.as_bytes()).unwrap();
    let data = e.finish().unwrap();
    let mut crc = flate2::Crc::new();
    crc.update(text.as_bytes());
    let (crc, csize, usize_) = (crc.sum(), data.len() as u32, text.len() as u32);
    let u16le = |v: u16| v.to_le_bytes();
    let u32le = |v: u32| v.to_le_bytes();
    let mut zip = Vec::new();
    let first = b"m00000.log";
    // One local header and its data, at offset 0.
    for part in [
        &u32le(0x0403_4b50)[..],
        &u16le(20),
        &u16le(0),
        &u16le(8),
        &u16le(0),
        &u16le(0x21),
        &u32le(crc),
        &u32le(csize),
        &u32le(usize_),
        &u16le(first.len() as u16),
        &u16le(0),
        first,
        &data,
    ] {
        zip.extend_from_slice(part);
    }
    // Central directory: every entry points at that one local header.
    const N: u16 = 5000;
    let cd_at = zip.len() as u32;
    for i in 0..N {
        let name = format!("m{i:05}.log");
        for part in [
            &u32le(0x0201_4b50)[..],
            &u16le(20),
            &u16le(20),
            &u16le(0),
            &u16le(8),
            &u16le(0),
            &u16le(0x21),
            &u32le(crc),
            &u32le(csize),
            &u32le(usize_),
            &u16le(name.len() as u16),
            &u16le(0),
            &u16le(0),
            &u16le(0),
            &u16le(0),
            &u32le(0),
            &u32le(0),
            name.as_bytes(),
        ] {
            zip.extend_from_slice(part);
        }
    }
    let cd_size = zip.len() as u32 - cd_at;
    for part in [
        &u32le(0x0605_4b50)[..],
        &u16le(0),
        &u16le(0),
        &u16le(N),
        &u16le(N),
        &u32le(cd_size),
        &u32le(cd_at),
        &u16le(0),
    ] {
        zip.extend_from_slice(part);
    }
    let path = dir.join("bomb.zip");
    std::fs::write(&path, &zip).unwrap();
    let out = hsmdiag().arg("--format=json").arg(&path).output().unwrap();
    let r: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(out.status.code(), Some(1), "{r}");
    let sources = r["summary"]["sources"].as_array().unwrap();
    assert_eq!(sources.len(), 1, "{}", r["summary"]);
    let skipped = r["summary"]["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), usize::from(N) - 1);
    assert!(skipped[0].to_string().contains("overlap"), "{}", skipped[0]);
    assert_eq!(
        r["summary"]["lines"].as_u64(),
        Some(text.lines().count() as u64)
    );
}
