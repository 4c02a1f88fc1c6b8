//! Issue 30, item 5: no Markdown or HTML injection in Markdown reports.
//! Whatever follows "unknown ca" on an NTLS line becomes a finding's message;
//! file names, unrecognised lines and skipped inputs come from the input too.
//! None of it may become markup where the report is rendered: the report is
//! read back with a CommonMark parser (pulldown-cmark, tables on, as GitHub
//! reads them) and rendered to HTML, and neither the raw Markdown outside code
//! nor the HTML holds an image, a link, raw HTML, a comment, emphasis or a
//! mention from the log; every table keeps its columns; and each message and
//! name reads back exactly as the log had it.

use std::path::{Path, PathBuf};

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};

/// What follows "unknown ca" on each HSM's line.
const PAYLOADS: &[&str] = &[
    "<img src=x onerror=alert(1)>",
    "![pixel](https://evil.example/p.png)",
    "<details open><summary>more</summary>",
    "@octocat please look, cc @github/security",
    "[click](javascript:alert(1))",
    "<!-- hidden comment -->",
    "| extra | cells |",
    "`code` and ```fence``` ~~gone~~ *em* _u_ __strong__",
    "&#64;octocat &lt;img src=x&gt; \\<img src=y>",
    "<https://evil.example/autolink> <mailto:a@evil.example>",
    "# heading [ref]: javascript:alert(2) [^note]",
];

/// A folder of this test's own, removed when it goes out of scope.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One HSM's failed handshake with the payload after "unknown ca".
fn handshake(n: usize, payload: &str) -> String {
    let (host, pid, ip) = (format!("hsm{n}"), 2500 + n, format!("10.3.1.{n}"));
    let at = format!("2026 Nov 20 02:17:{n:02} {host} local5 info NTLS [{pid}]:");
    format!(
        "{at} Incoming connection request... : {ip}/5000{n}\n\
         {at} Error message from SSLAccept is : error:14094418:SSL routines:ssl3_read_bytes:tlsv1 alert unknown ca {payload}\n\
         {at} Error during SSL accept ( RC_SSL_ERROR )\n\
         {at} info : 0xc0000711 : Fail to establish a secure channel with client : {ip}/5000{n} : RC_SSL_FAILED_HANDSHAKE\n"
    )
}

/// The report of a folder holding the payloads, under a file name that is an
/// attack of its own, with an unrecognised line and a binary file whose names
/// carry markup too.
fn report(dir: &Path) -> hsmdiag::Report {
    let mut log = String::new();
    for (i, p) in PAYLOADS.iter().enumerate() {
        log.push_str(&handshake(i + 1, p));
    }
    log.push_str("weird <img src=z> | `tick` @octocat [x](javascript:alert(3)) <!-- c -->\n");
    let name = "ntls\n| a | b |\r<img src=n>`x`@octocat.log";
    std::fs::write(dir.join(name), log).unwrap();
    std::fs::write(
        dir.join("core <details open>|@octocat.bin"),
        [0u8, 1, 2, 3, 0, 0, 0, 0, 9, 8, 7, 6, 0, 0, 255, 254],
    )
    .unwrap();
    let (inputs, errors) = hsmdiag::expand(&[dir.to_path_buf()]);
    assert!(errors.is_empty(), "{errors:?}");
    let analyzer = hsmdiag::AnalyzerBuilder::new()
        .unrecognized(true)
        .build()
        .unwrap();
    analyzer.analyze(&inputs).0
}

fn markdown(report: &hsmdiag::Report) -> String {
    let mut out = Vec::new();
    hsmdiag::write_markdown(report, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES
}

/// The Markdown with every code span and code block blanked out: what a
/// renderer reads as text and markup.
fn outside_code(md: &str) -> String {
    let mut bytes = md.as_bytes().to_vec();
    let mut in_block = None;
    for (event, range) in Parser::new_ext(md, options()).into_offset_iter() {
        match event {
            Event::Start(Tag::CodeBlock(_)) => in_block = Some(range),
            Event::End(TagEnd::CodeBlock) => {
                if let Some(r) = in_block.take() {
                    bytes[r].fill(b' ');
                }
            }
            Event::Code(_) => bytes[range].fill(b' '),
            _ => {}
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// HTML with what is inside `<code>` elements left out.
fn without_code(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(start) = rest.find("<code") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find("</code>")
            .map_or(rest.len(), |e| start + e + 7);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Whether `pat` occurs in Markdown without a backslash before it (which
/// would make its first character plain text).
fn unescaped(md: &str, pat: &str) -> bool {
    md.match_indices(pat).any(|(i, _)| !md[..i].ends_with('\\'))
}

/// The plain text of each table row's cells (code spans' text included,
/// zero-width spaces removed), table by table.
fn tables(md: &str) -> Vec<Vec<Vec<String>>> {
    let mut tables = Vec::new();
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut cell: Option<String> = None;
    for event in Parser::new_ext(md, options()) {
        match event {
            Event::Start(Tag::Table(_)) => rows.clear(),
            Event::End(TagEnd::Table) => tables.push(std::mem::take(&mut rows)),
            Event::Start(Tag::TableHead | Tag::TableRow) => rows.push(Vec::new()),
            Event::Start(Tag::TableCell) => cell = Some(String::new()),
            Event::End(TagEnd::TableCell) => {
                let text = cell.take().unwrap_or_default().replace('\u{200B}', "");
                rows.last_mut().unwrap().push(text);
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some(c) = &mut cell {
                    c.push_str(&t);
                }
            }
            _ => {}
        }
    }
    tables
}

#[test]
fn text_from_the_log_never_becomes_markup_in_a_markdown_report() {
    let dir = Scratch(std::env::temp_dir().join(format!("hsmdiag-md-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&dir.0);
    std::fs::create_dir_all(&dir.0).unwrap();
    let report = report(&dir.0);
    let unknown_ca: Vec<&hsmdiag::Finding> = report
        .findings
        .iter()
        .filter(|f| f.id == "ntls.unknown_ca")
        .collect();
    assert_eq!(unknown_ca.len(), PAYLOADS.len(), "one finding per HSM");
    for p in PAYLOADS {
        assert!(
            unknown_ca
                .iter()
                .any(|f| f.message.as_deref().is_some_and(|m| m.ends_with(p))),
            "no message ends with {p:?}"
        );
    }
    assert_eq!(report.summary.skipped.len(), 1);
    let weird = report
        .unrecognized
        .iter()
        .position(|t| t.template.starts_with("weird"))
        .expect("the unrecognised line");
    let md = markdown(&report);

    // The raw Markdown, outside code spans and blocks: no markup from the log.
    let raw = outside_code(&md);
    for bad in [
        "<img",
        "![",
        "<details",
        "](javascript:",
        "<!--",
        "@octocat",
        "@github/",
        "&#64;",
        "<https://evil",
        "<mailto:",
        "\n# heading",
        "[ref]:",
        "[^note]",
    ] {
        assert!(!unescaped(&raw, bad), "{bad:?} outside code in:\n{md}");
    }
    // Inside code, the log's text is kept as it was (the evidence).
    assert!(md.contains("tlsv1 alert unknown ca <img src=x onerror=alert(1)>"));

    // Read as CommonMark: no HTML, image, emphasis, strikethrough, footnote or
    // heading from the log; links only to the rules' references.
    let mut headings = 0;
    for event in Parser::new_ext(&md, options()) {
        match event {
            Event::Html(h) | Event::InlineHtml(h) => panic!("raw HTML {h:?} in:\n{md}"),
            Event::Start(Tag::Image { dest_url, .. }) => panic!("image {dest_url}"),
            Event::Start(Tag::Link { dest_url, .. }) => assert!(
                dest_url.starts_with("https://learn.microsoft.com/")
                    || dest_url.starts_with("https://www.thalesdocs.com/"),
                "link to {dest_url}"
            ),
            Event::Start(Tag::Emphasis | Tag::Strikethrough) => panic!("emphasis in:\n{md}"),
            Event::FootnoteReference(r) => panic!("footnote {r}"),
            Event::Start(Tag::Heading { .. }) => headings += 1,
            Event::Start(Tag::CodeBlock(CodeBlockKind::Indented)) => {
                panic!("an indented code block in:\n{md}")
            }
            _ => {}
        }
    }
    // The title, Findings, one per finding, Coverage, Unrecognised messages.
    assert_eq!(headings, 2 + report.findings.len() + 2);

    // Rendered to HTML: no element or comment from the log, no mention.
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, Parser::new_ext(&md, options()));
    // Code shows the log's text as it is (escaped by the renderer): leave it out.
    let html = without_code(&html);
    assert!(html.contains("alert(1)"), "the payloads show as text");
    for bad in [
        "<img",
        "<details",
        "<summary",
        "href=\"javascript",
        "<!--",
        "@octocat",
        "@github/",
        "<em>",
        "<h2>heading",
        "<sup class=\"footnote",
        "<del>",
        "evil.example\"",
    ] {
        assert!(!html.contains(bad), "{bad:?} in the HTML:\n{html}");
    }

    // Every table keeps its columns, and a row per finding and per input.
    let tables = tables(&md);
    assert_eq!(tables.len(), 4, "summary, findings, coverage, unrecognised");
    for t in &tables {
        let width = t[0].len();
        for row in t {
            assert_eq!(row.len(), width, "{row:?} in {t:?}");
        }
    }
    let (summary, findings, coverage, unrecognised) =
        (&tables[0], &tables[1], &tables[2], &tables[3]);
    assert_eq!(findings.len(), 1 + report.findings.len());
    assert_eq!(coverage.len(), 1 + report.summary.sources.len());
    assert_eq!(unrecognised.len(), 1 + report.unrecognized.len());

    // And each reads back as the log had it (line breaks as spaces).
    let flat = |s: &str| s.replace(['\n', '\r'], " ");
    // (A message is hsmdiag's prose: backticks in it make code spans, from
    // the rule's text or the log's, so they are compared without them.)
    let ticks = |s: &str| s.replace('`', "");
    for (row, f) in findings[1..].iter().zip(&report.findings) {
        let message = flat(f.message.as_deref().unwrap_or(&f.subject));
        assert_eq!(ticks(&row[3]), ticks(&message));
    }
    assert_eq!(coverage[1][0], flat(&report.summary.sources[0].name));
    // The name's line break and carriage return are shown as escapes
    // (input names are made printable when they are read).
    assert!(
        coverage[1][0].ends_with("ntls\\n| a | b |\\x0d<img src=n>`x`@octocat.log"),
        "{}",
        coverage[1][0]
    );
    let skipped = summary.iter().find(|r| r[0] == "Skipped").unwrap();
    assert_eq!(skipped[1], flat(&report.summary.skipped[0]));
    let t = &report.unrecognized[weird];
    let row = &unrecognised[1 + weird];
    assert!(row[1].contains("<img src=z> | `tick` @octocat [x](javascript:"));
    assert_eq!(row[1], flat(&t.template));
    assert_eq!(row[2], flat(&format!("{}:{}", t.source, t.line)));
}

/// The rules' own Markdown survives: a step's code spans stay code, and a
/// placeholder such as `<client>` reads as text, not as an HTML tag that a
/// renderer drops (GitHub showed "from : point its health check elsewhere").
#[test]
fn hsmdiags_own_markdown_stays_and_placeholders_show() {
    let (inputs, _) = hsmdiag::expand(&[PathBuf::from("samples/ntls/handshake-failed-probe.log")]);
    let md = markdown(&crate::analyzer().analyze(&inputs).0);
    let mut code = Vec::new();
    let mut html = Vec::new();
    for event in Parser::new_ext(&md, options()) {
        match event {
            Event::Code(c) => code.push(c.into_string()),
            Event::Html(h) | Event::InlineHtml(h) => html.push(h.into_string()),
            _ => {}
        }
    }
    assert!(html.is_empty(), "{html:?}");
    for c in [
        "wrong version number",
        "no shared cipher",
        "ntls.handshake_failed",
    ] {
        assert!(code.iter().any(|x| x == c), "{c}: {code:?}");
    }
    let mut page = String::new();
    pulldown_cmark::html::push_html(&mut page, Parser::new_ext(&md, options()));
    assert!(
        page.contains("probing port 1792 from &lt;client&gt;: point its health check"),
        "{page}"
    );
}

/// Escaping must not hide a name from redaction, which still runs on the
/// rendered report: an input whose path needs escaping in prose (`/_logs_/`
/// would be emphasis) is written as a code span, verbatim, wherever the
/// report names it, so its pseudonym replaces it.
#[test]
fn names_stay_whole_for_redaction() {
    let dir =
        Scratch(std::env::temp_dir().join(format!("hsmdiag-md-names-{}", std::process::id())));
    let logs = dir.0.join("_logs_");
    let _ = std::fs::remove_dir_all(&dir.0);
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::copy("samples/incident/hsm2-lunalogs.log", logs.join("hsm2_.log")).unwrap();
    let (inputs, _) = hsmdiag::expand(std::slice::from_ref(&dir.0));
    let report = crate::analyzer().analyze(&inputs).0;
    assert!(
        report.findings.iter().any(|f| f.chain.is_some()),
        "a chain names the input"
    );
    let (ready, redactor) = hsmdiag::redact::prepare(&report);
    let out = redactor.apply(&markdown(&ready));
    assert!(!out.contains("_logs_") && !out.contains("logs\\_"), "{out}");
    redactor.check(&out).unwrap();
}
