//! hsmdiag's own outputs, recognised by their content: a report, a timeline, an
//! event listing, a diff, a redaction map or a bundle's files left in a folder
//! that is analysed again. They quote rule text, evidence lines and pseudonyms;
//! read as logs they would give findings no log holds. A folder walk lists them
//! as skipped, with the reason, instead of reading them.
//!
//! Each form is told by how its first lines are laid out, never by a file name
//! (a renamed report is still a report) and never by the word "hsmdiag" alone
//! (a log may mention the tool). The signatures are anchored at the start of
//! the file and exact about the layout hsmdiag writes, so a log does not match
//! one by chance.

use std::sync::LazyLock;

use regex::Regex;

/// One of the files hsmdiag writes, as recognised by [`own_output`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OwnOutput {
    /// The JSON report (`--format json`; a bundle's `findings.json`).
    JsonReport,
    /// Findings as JSON lines (`--format jsonl`).
    JsonLines,
    /// The SARIF report (`--format sarif`; a bundle's `report.sarif`).
    Sarif,
    /// The Markdown report (`--format markdown`; a bundle's `report.md`).
    Markdown,
    /// The HTML report (`--format html`; a bundle's `report.html`).
    Html,
    /// The text report (the default format, also `lint`'s and `--follow`'s).
    Text,
    /// `hsmdiag timeline` output, as text, JSON or JSON lines.
    Timeline,
    /// `hsmdiag events` output, as text, JSON or JSON lines.
    Events,
    /// `hsmdiag diff` output, as text or JSON.
    Diff,
    /// The private map `--redact-map` writes.
    RedactionMap,
    /// A bundle's `manifest.json`.
    BundleManifest,
    /// A bundle's `evidence/NN-CODE.txt`.
    BundleEvidence,
    /// `hsmdiag explain` output, as Markdown or JSON.
    Explain,
    /// `hsmdiag rules` output, as text, Markdown or JSON.
    RuleList,
    /// A rule file, a grammar catalogue or a configuration file: what hsmdiag
    /// knows, not what happened (its examples and help text name failures).
    Knowledge,
}

impl OwnOutput {
    /// What the file is, as a phrase: `an hsmdiag JSON report`.
    pub fn describe(self) -> &'static str {
        match self {
            OwnOutput::JsonReport => "an hsmdiag JSON report",
            OwnOutput::JsonLines => "hsmdiag findings as JSON lines",
            OwnOutput::Sarif => "an hsmdiag SARIF report",
            OwnOutput::Markdown => "an hsmdiag Markdown report",
            OwnOutput::Html => "an hsmdiag HTML report",
            OwnOutput::Text => "an hsmdiag text report",
            OwnOutput::Timeline => "an hsmdiag timeline",
            OwnOutput::Events => "an hsmdiag event listing",
            OwnOutput::Diff => "an hsmdiag diff",
            OwnOutput::RedactionMap => "an hsmdiag redaction map",
            OwnOutput::BundleManifest => "an hsmdiag bundle manifest",
            OwnOutput::BundleEvidence => "an hsmdiag bundle's evidence excerpt",
            OwnOutput::Explain => "an hsmdiag rule explanation",
            OwnOutput::RuleList => "the hsmdiag rule list",
            OwnOutput::Knowledge => "an hsmdiag rule, grammar or configuration file",
        }
    }

    /// Why such a file is not read, for the summary's list of skipped inputs:
    /// `an hsmdiag JSON report, not evidence; compare reports with `hsmdiag diff``.
    pub fn reason(self) -> String {
        let what = self.describe();
        match self {
            OwnOutput::JsonReport => {
                format!("{what}, not evidence; compare reports with `hsmdiag diff`")
            }
            // Its lines are copies: the logs they come from are the evidence.
            OwnOutput::BundleEvidence => format!("{what}, not a log"),
            _ => format!("{what}, not evidence"),
        }
    }
}

impl std::fmt::Display for OwnOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

/// A JSON string.
const S: &str = r#""(?:[^"\\]|\\.)*""#;
/// A severity as hsmdiag writes it.
const SEVERITY: &str = "(?:info|warning|error|critical)";

/// The signatures of the JSON forms, tried on the text with leading white
/// space removed.
static JSON_FORMS: LazyLock<Vec<(OwnOutput, Regex)>> = LazyLock::new(|| {
    let forms = [
        (
            OwnOutput::JsonReport,
            r#"\A\{\s*"\$schema"\s*:\s*"[^"]*/json-report\.schema\.json"\s*,\s*"version"\s*:\s*\d+\s*,"#
                .to_owned(),
        ),
        (
            OwnOutput::Sarif,
            r#"\A\{\s*"\$schema"\s*:\s*"[^"]*sarif[^"]*"\s*,\s*"version"\s*:\s*"2\.1\.0"\s*,\s*"runs"\s*:\s*\[\s*\{\s*"tool"\s*:\s*\{\s*"driver"\s*:\s*\{\s*"name"\s*:\s*"hsmdiag""#
                .to_owned(),
        ),
        (
            OwnOutput::JsonLines,
            format!(
                r#"\A(?:\{{"id":{S},"code":{S},"severity":"{SEVERITY}","title":|\{{"summary":\{{"inputs":\d+,)"#
            ),
        ),
        (
            OwnOutput::Events,
            r#"\A\[?\s*\{"kind":"[^"]*","span":\{"source":\d+,"line":\d+,"start":\d+,"#.to_owned(),
        ),
        (
            OwnOutput::Timeline,
            format!(
                r#"\A\[?\s*\{{"time":(?:{S}|null),"inferred":(?:true|false),(?:"logged_time":(?:{S}|null),)?"source":{S},"line":\d+,"kind":"#
            ),
        ),
        (
            OwnOutput::Diff,
            format!(
                r#"\A\{{\s*"new"\s*:\s*\[\s*(?:\]\s*,\s*"unchanged"\s*:|\{{\s*"code"\s*:\s*{S}\s*,\s*"id"\s*:)"#
            ),
        ),
        (
            OwnOutput::RedactionMap,
            format!(r#"\A\[\s*\{{\s*"kind"\s*:\s*{S}\s*,\s*"original"\s*:\s*{S}\s*,\s*"pseudonym"\s*:"#),
        ),
        (
            OwnOutput::BundleManifest,
            format!(r#"\A\{{\s*"tool"\s*:\s*"hsmdiag"\s*,\s*"version"\s*:\s*{S}\s*,\s*"redacted"\s*:"#),
        ),
        (
            OwnOutput::Explain,
            format!(
                r#"\A\{{\s*"id"\s*:\s*{S}\s*,\s*"code"\s*:\s*{S}\s*,\s*"title"\s*:\s*{S}\s*,\s*"severity"\s*:\s*"{SEVERITY}"\s*,\s*"owner"\s*:"#
            ),
        ),
        (
            OwnOutput::RuleList,
            format!(
                r#"\A\[\s*\{{\s*"id"\s*:\s*{S}\s*,\s*"code"\s*:\s*{S}\s*,\s*"severity"\s*:\s*"{SEVERITY}"\s*,\s*"title"\s*:\s*{S}\s*,\s*"owner"\s*:"#
            ),
        ),
    ];
    compile(forms)
});

/// The signatures of the text forms, tried on the text as it starts (colour
/// codes removed, line endings made `\n`).
static TEXT_FORMS: LazyLock<Vec<(OwnOutput, Regex)>> = LazyLock::new(|| {
    // A timeline line: its time (` ` or `~` for one borrowed from a
    // neighbour) and where the event was read.
    let when = r"[ ~](?:\d{4}-\d\d-\d\d \d\d:\d\d:\d\d|\(no time\) +)  \S";
    let rule_row = format!(r"[A-Z]+[0-9]+ {{2}}\S+ +{SEVERITY}\b");
    let forms = [
        (
            OwnOutput::Markdown,
            r"\A# hsmdiag report\n\n\| \| \|\n\|---\|---\|\n\| Inputs \| ".to_owned(),
        ),
        (
            OwnOutput::RuleList,
            r"\A# hsmdiag rules\n\nGenerated by `hsmdiag rules --format markdown`".to_owned(),
        ),
        (
            OwnOutput::Explain,
            format!(
                r"\A# [A-Za-z]+[0-9]+ \S+: [^\n]*(?:\n[^\n]+)*\n\nSeverity: {SEVERITY} · Who fixes it: "
            ),
        ),
        (
            // A finding as a diagnostic: `error[HSM101] ntls.unknown_ca`, a
            // blank line, then its title after miette's `×`; or the summary
            // alone when there is no finding.
            OwnOutput::Text,
            format!(
                r"\A(?:{SEVERITY}\[[A-Za-z]+[0-9]+\] \S+\n\n  × |No known issues found\.\nRead \d+ inputs?, |Nothing analysed: no input could be read\.\n)"
            ),
        ),
        (
            OwnOutput::RuleList,
            format!(r"\A{rule_row}[^\n]*\n(?: +\S[^\n]*\n)*{rule_row}"),
        ),
        (
            OwnOutput::Diff,
            r"\ANew \(\d+\):\n(?:  \+ |Still there \(\d+\):\n)".to_owned(),
        ),
        (
            OwnOutput::Events,
            r"\A(?:==> [^\n]* <==\n)?L\d+ (?:-|\d{4}-\d\d-\d\dT\S+) [a-z][a-z0-9_]*(?:\.[a-z0-9_]+)* host=\S+ prog=\S+".to_owned(),
        ),
        (
            OwnOutput::Timeline,
            format!(r"\A(?:Clock: [^\n]* runs [^\n]*; its times are corrected below\.\n|{when}[^\n]*\n(?:{when}|      \S| +◀ ))"),
        ),
        (
            OwnOutput::BundleEvidence,
            r"\A[A-Z]+[0-9]+ \S+ — [^\n]*\n\n[^\n]*:\d+(?: \([a-z]+: [^\n]*\))?\n".to_owned(),
        ),
    ];
    compile(forms)
});

fn compile<const N: usize>(forms: [(OwnOutput, String); N]) -> Vec<(OwnOutput, Regex)> {
    forms
        .into_iter()
        .map(|(kind, re)| {
            // The patterns are constants of this file, checked by its tests.
            let re = Regex::new(&re).expect("a valid signature pattern");
            (kind, re)
        })
        .collect()
}

/// `ESC [ ... letter`: the colour codes of a report written with `--color always`.
static CSI: LazyLock<Regex> = LazyLock::new(|| {
    // A constant pattern, checked by this file's tests.
    Regex::new(r"\x1b\[[0-9;?]*[A-Za-z]").expect("a valid pattern")
});

/// Which of hsmdiag's own outputs the file at `path` is ([`own_output`] of
/// its first 8 KiB); `None` for a folder, an unreadable file, or anything else.
pub fn own_output_file(path: &std::path::Path) -> Option<OwnOutput> {
    if !path.is_file() {
        return None;
    }
    let mut f = std::fs::File::open(path).ok()?;
    own_output(&super::first_bytes(&mut f))
}

/// Which of hsmdiag's own outputs a file is, from its first bytes (up to a few
/// KiB; compressed bytes are decompressed, UTF-16 decoded); `None` for
/// anything else — a log, a template, a capture, a log that merely mentions
/// hsmdiag.
pub fn own_output(head: &[u8]) -> Option<OwnOutput> {
    let text = head_text(head);
    let json = text.trim_start();
    if json.starts_with(['{', '[']) {
        if let Some((kind, _)) = JSON_FORMS.iter().find(|(_, re)| re.is_match(json)) {
            return Some(*kind);
        }
    }
    if starts_like_html(json) {
        return html_generator(json).then_some(OwnOutput::Html);
    }
    if knowledge(&text) {
        return Some(OwnOutput::Knowledge);
    }
    let mut text = CSI.replace_all(&text, "").into_owned();
    // A timeline's clock lines are wrapped; their continuations are indented.
    if text.starts_with("Clock: ") {
        text = text.replace("\n  ", " ");
    }
    TEXT_FORMS
        .iter()
        .find(|(_, re)| re.is_match(&text))
        .map(|(kind, _)| *kind)
}

/// A rule file (`[[match]]` tables and an `HSMnnn` code), a grammar
/// catalogue (`[[message]]` tables with their patterns), or a configuration
/// file (nothing but hsmdiag.toml's keys).
fn knowledge(text: &str) -> bool {
    static RULE: LazyLock<[Regex; 2]> = LazyLock::new(|| {
        [
            Regex::new(r"(?m)^\[\[match\]\]\s*$").expect("static regex is valid"),
            Regex::new(r#"(?m)^code\s*=\s*"HSM\d{3}""#).expect("static regex is valid"),
        ]
    });
    static GRAMMAR: LazyLock<[Regex; 2]> = LazyLock::new(|| {
        [
            Regex::new(r"(?m)^\[\[message\]\]\s*$").expect("static regex is valid"),
            Regex::new(r"(?m)^pattern\s*=").expect("static regex is valid"),
        ]
    });
    static CONFIG: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(?:rules|grammar|tz|fail-on|color|exclude)\s*=")
            .expect("static regex is valid")
    });
    if RULE.iter().all(|r| r.is_match(text)) || GRAMMAR.iter().all(|r| r.is_match(text)) {
        return true;
    }
    // A configuration file: keys of hsmdiag's own, and the continuation
    // lines of their arrays (`"*.bak",`, `]`) only after a key — a log whose
    // every line starts with a quote (W3C, CSV) is no configuration.
    let mut lines = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    lines.next().is_some_and(|first| CONFIG.is_match(first))
        && lines.all(|l| CONFIG.is_match(l) || l.starts_with(['"', ']']))
}

fn starts_like_html(text: &str) -> bool {
    text.get(..15)
        .is_some_and(|s| s.eq_ignore_ascii_case("<!DOCTYPE html>"))
}

/// Whether an HTML page's `<head>` names hsmdiag as its generator.
fn html_generator(page: &str) -> bool {
    let head = page.find("</head>").map_or(page, |end| &page[..end]);
    head.contains(r#"<meta name="generator" content="hsmdiag "#)
}

/// The first bytes as text: decompressed, a byte-order mark dropped, UTF-16
/// decoded, `\r\n` made `\n`.
fn head_text(head: &[u8]) -> String {
    let bytes = super::decompressed_head(head, 16 * 1024);
    // `decode` sniffs a byte-order mark (UTF-8 or UTF-16) and drops it.
    let (text, _, _) = encoding_rs::UTF_8.decode(&bytes);
    text.replace("\r\n", "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(text: &str) -> Option<OwnOutput> {
        own_output(text.as_bytes())
    }

    #[test]
    fn the_signatures_compile() {
        assert_eq!(JSON_FORMS.len(), 10);
        assert_eq!(TEXT_FORMS.len(), 9);
        assert!(CSI.is_match("\x1b[31m"));
    }

    #[test]
    fn each_form_is_recognised() {
        let cases = [
            (
                "{\n  \"$schema\": \"https://github.com/hsmdiag/hsmdiag/raw/v0.3.0/docs/json-report.schema.json\",\n  \"version\": 1,\n  \"findings\": []",
                OwnOutput::JsonReport,
            ),
            (
                "{\"$schema\":\"https://json.schemastore.org/sarif-2.1.0.json\",\"version\":\"2.1.0\",\"runs\":[{\"tool\":{\"driver\":{\"name\":\"hsmdiag\"",
                OwnOutput::Sarif,
            ),
            (
                "{\"id\":\"ntls.unknown_ca\",\"code\":\"HSM101\",\"severity\":\"error\",\"title\":\"x\"}",
                OwnOutput::JsonLines,
            ),
            (
                "{\"summary\":{\"inputs\":0,\"lines\":0}}",
                OwnOutput::JsonLines,
            ),
            (
                "[\n  {\"kind\":\"annotation\",\"span\":{\"source\":0,\"line\":1,\"start\":0,\"column\":0,\"end\":3}}",
                OwnOutput::Events,
            ),
            (
                "{\"time\":null,\"inferred\":false,\"source\":\"a.log\",\"line\":3,\"kind\":\"x\"}",
                OwnOutput::Timeline,
            ),
            ("{\n  \"new\": [],\n  \"unchanged\": [", OwnOutput::Diff),
            (
                "[\n  {\n    \"kind\": \"address\",\n    \"original\": \"10.0.0.1\",\n    \"pseudonym\": \"198.18.0.1\"",
                OwnOutput::RedactionMap,
            ),
            (
                "{\n  \"tool\": \"hsmdiag\",\n  \"version\": \"0.3.0\",\n  \"redacted\": true,",
                OwnOutput::BundleManifest,
            ),
            (
                "{\n  \"id\": \"a.b\",\n  \"code\": \"HSM101\",\n  \"title\": \"t\",\n  \"severity\": \"error\",\n  \"owner\": \"customer\"",
                OwnOutput::Explain,
            ),
            (
                "[\n  {\n    \"id\": \"a.b\",\n    \"code\": \"HSM101\",\n    \"severity\": \"error\",\n    \"title\": \"t\",\n    \"owner\": \"customer\"",
                OwnOutput::RuleList,
            ),
            (
                "# hsmdiag report\n\n| | |\n|---|---|\n| Inputs | 1 (3 lines, 0 blank) |\n",
                OwnOutput::Markdown,
            ),
            (
                "# hsmdiag rules\n\nGenerated by `hsmdiag rules --format markdown`; do not edit by hand.\n",
                OwnOutput::RuleList,
            ),
            (
                "# HSM301 auth.login_failed: failed logins in a row: tries left before a\nzeroization or lockout\n\nSeverity: warning · Who fixes it: the customer · Since 0.1.0\n",
                OwnOutput::Explain,
            ),
            (
                "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta name=\"generator\" content=\"hsmdiag 0.3.0\">\n</head>",
                OwnOutput::Html,
            ),
            (
                "error[HSM101] ntls.unknown_ca\r\n\r\n  × NTLS rejected a client\r\n",
                OwnOutput::Text,
            ),
            (
                "\x1b[31mcritical[HSM304]\x1b[0m auth.co_locked_out\n\n  \x1b[31m×\x1b[0m the CO is locked out\n",
                OwnOutput::Text,
            ),
            (
                "No known issues found.\nRead 1 input, 3 lines (0 blank); coverage not measured (--coverage).\n",
                OwnOutput::Text,
            ),
            (
                "HSM101  ntls.unknown_ca                   error\n        NTLS rejected a client\nHSM102  ntls.cert_expired                 error\n",
                OwnOutput::RuleList,
            ),
            (
                "New (0):\nStill there (1):\n  = HSM101 ntls.unknown_ca [error] x\n",
                OwnOutput::Diff,
            ),
            (
                "==> a.log <==\nL1 - annotation host=- prog=-\n",
                OwnOutput::Events,
            ),
            (
                "L5 2026-11-20T02:09:58.412093+00:00 net.packet host=- prog=- src_ip=\"10.3.1.4\"\n",
                OwnOutput::Events,
            ),
            (
                "Clock: a.log runs 240ms behind b/\n  c.log (3 connections logged at both ends); its times\n  are corrected below.\n\n 2026-11-20 02:00:00  a.log:5\n",
                OwnOutput::Timeline,
            ),
            (
                " 2026-11-20 02:00:00  a.log:5  hsm2 lunash: info\n~2026-11-20 02:00:00  a.log:6  hsm2 lunash: info\n",
                OwnOutput::Timeline,
            ),
            (
                " 2026-11-20 02:00:00  samples/incident/hsm2-lunalogs.log:5\n      hsm2 lunash: info\n",
                OwnOutput::Timeline,
            ),
            (
                "HSM101 ntls.unknown_ca — client 198.18.1.4 failed\n\ninput-4.log:5 (cause: the certificate was regenerated)\n2026 Nov 20 …\n",
                OwnOutput::BundleEvidence,
            ),
        ];
        for (text, want) in cases {
            assert_eq!(kind(text), Some(want), "{text:?}");
        }
    }

    #[test]
    fn utf16_and_compressed_reports_are_recognised() {
        let text = "# hsmdiag report\n\n| | |\n|---|---|\n| Inputs | 1 |\n";
        let mut utf16 = vec![0xFF, 0xFE];
        for u in text.encode_utf16() {
            utf16.extend_from_slice(&u.to_le_bytes());
        }
        assert_eq!(own_output(&utf16), Some(OwnOutput::Markdown));
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gz, text.as_bytes()).unwrap();
        assert_eq!(own_output(&gz.finish().unwrap()), Some(OwnOutput::Markdown));
    }

    #[test]
    fn logs_that_mention_hsmdiag_are_no_report() {
        for text in [
            "",
            "hsmdiag report\n",
            "# hsmdiag report\nNTLS[8508]: Error message from SSLAccept is : tlsv1 alert unknown ca\n",
            "# Analysed with hsmdiag 0.3.0: error[HSM101] ntls.unknown_ca\nNTLS[8508]: info : 0 : Incoming connection request... : 192.168.50.2/59415\n",
            "error[HSM101] ntls.unknown_ca seen by hsmdiag\nNTLS[8508]: tlsv1 alert unknown ca\n",
            "{\"tool\": \"hsmdiag\", \"message\": \"tlsv1 alert unknown ca\"}\n",
            "{\"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\", \"version\": \"2.1.0\", \"runs\": [{\"tool\": {\"driver\": {\"name\": \"CodeQL\"",
            "<!DOCTYPE html>\n<html><head><title>hsmdiag</title></head><body><meta name=\"generator\" content=\"hsmdiag 1\"></body>",
            "New (3): firmware images uploaded\nStill there (1): the old one\n",
            "2026-11-20 02:00:00  hsm1 NTLS[1]: a:5\n2026-11-20 02:00:01  hsm1 NTLS[1]: b:6\n",
            "Clock: hsm1 runs NTP; all good\n",
        ] {
            assert_eq!(kind(text), None, "{text:?}");
        }
    }

    #[test]
    fn no_sample_is_taken_for_a_report() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../samples");
        let mut seen = 0;
        let mut stack = vec![std::path::PathBuf::from(root)];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let bytes = std::fs::read(&path).unwrap();
                    let head = &bytes[..bytes.len().min(8192)];
                    assert_eq!(own_output(head), None, "{}", path.display());
                    seen += 1;
                }
            }
        }
        assert!(seen > 100, "{seen} samples");
    }
}
