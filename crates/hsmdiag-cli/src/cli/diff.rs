//! `hsmdiag diff BEFORE AFTER`: which findings are new, which remain, which are
//! resolved — proof that a fix worked. Each side is a JSON report (`--format
//! json`) or logs (a file or a directory) analysed on the spot.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use hsmdiag::Report;
use serde::Serialize;

use super::{EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS};

#[derive(Debug, Args)]
pub(super) struct DiffArgs {
    /// The report or logs from before the fix.
    #[arg(value_name = "BEFORE")]
    before: PathBuf,
    /// The report or logs from after it.
    #[arg(value_name = "AFTER")]
    after: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    format: DiffFormat,
    #[command(flatten)]
    load: super::load::LoadArgs,
    #[command(flatten)]
    redact: super::RedactArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DiffFormat {
    /// A list per change.
    Text,
    /// `{"new": [...], "unchanged": [...], "resolved": [...]}`.
    Json,
}

/// A finding, as both sides know it.
#[derive(Debug, Clone, Serialize)]
struct Item {
    code: String,
    id: String,
    subject: String,
    severity: String,
    message: String,
    count: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    count_before: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    host: Option<String>,
    /// The inputs its evidence comes from (by file name).
    #[serde(skip)]
    sources: Vec<String>,
}

#[derive(Debug, Serialize)]
struct Diff {
    new: Vec<Item>,
    unchanged: Vec<Item>,
    resolved: Vec<Item>,
    /// Gone from AFTER, but AFTER never looked where it was: no input of the
    /// same name, no finding on the same host. Not proof of a fix.
    not_covered: Vec<Item>,
}

/// The file name of an input (`logs/before/hsm1.log` and
/// `logs/after/hsm1.log` are the same log collected twice).
fn base(name: &str) -> &str {
    let name = name.rsplit('!').next().unwrap_or(name);
    name.rsplit(['/', '\\']).next().unwrap_or(name)
}

/// One side: its findings, and the names of the inputs they come from.
struct Side {
    items: Vec<Item>,
    names: Vec<String>,
    /// The hosts its inputs name.
    hosts: Vec<String>,
}

/// What `diff` reads of a saved JSON report: the findings' keys and words
/// and the inputs' names. Evidence, remediation and every other field are
/// skipped as the file streams by, so a report of any size is read in the
/// memory its findings' summaries take.
#[derive(serde::Deserialize)]
struct SavedReport {
    findings: Vec<SavedFinding>,
    summary: SavedSummary,
}

#[derive(serde::Deserialize)]
struct SavedFinding {
    id: String,
    code: String,
    severity: String,
    title: String,
    subject: String,
    #[serde(default)]
    message: Option<String>,
    count: u64,
    #[serde(default)]
    host: Option<String>,
    #[serde(default)]
    evidence: Vec<SavedEvidence>,
}

/// Of a finding's evidence, only the input it comes from.
#[derive(serde::Deserialize)]
struct SavedEvidence {
    #[serde(default)]
    source: String,
}

#[derive(serde::Deserialize)]
struct SavedSummary {
    #[serde(default)]
    sources: Vec<SavedSource>,
}

#[derive(serde::Deserialize)]
struct SavedSource {
    name: String,
    #[serde(default)]
    hosts: Vec<String>,
}

/// The findings of one side: a JSON report read back (streamed), or logs
/// analysed.
fn side(
    path: &PathBuf,
    load: &super::load::LoadArgs,
    found: Option<&super::Found>,
) -> Result<Side, String> {
    let kind = hsmdiag::own_output_file(path);
    if kind == Some(hsmdiag::OwnOutput::JsonReport) {
        let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let saved: SavedReport =
            serde_json::from_reader(std::io::BufReader::with_capacity(1 << 16, file)).map_err(
                |e| {
                    format!(
                        "{}: not a report hsmdiag can read back: {e}",
                        path.display()
                    )
                },
            )?;
        return Ok(Side {
            items: saved
                .findings
                .into_iter()
                .map(|f| Item {
                    code: f.code,
                    id: f.id,
                    subject: f.subject,
                    severity: f.severity,
                    message: f.message.unwrap_or(f.title),
                    count: f.count,
                    count_before: None,
                    host: f.host,
                    sources: f.evidence.into_iter().map(|e| e.source).collect(),
                })
                .collect(),
            hosts: saved
                .summary
                .sources
                .iter()
                .flat_map(|s| s.hosts.iter().cloned())
                .collect(),
            names: saved.summary.sources.into_iter().map(|s| s.name).collect(),
        });
    }
    // Another of hsmdiag's outputs holds no findings it can read back, and
    // analysed as logs it would give none: say so rather than report every
    // finding of the other side as new or resolved.
    if let Some(kind) = kind {
        return Err(format!(
            "{}: {kind}; diff compares JSON reports (--format json) or logs",
            path.display()
        ));
    }
    let mut b = load
        .builder()
        .map_err(|_| "cannot load the rules".to_owned())?;
    if let Some(found) = found {
        super::observe(&mut b, found);
    }
    let analyzer = super::load::build(&b).map_err(|_| "cannot load the rules".to_owned())?;
    let (inputs, errors) = load.expand(std::slice::from_ref(path));
    if let Some(e) = errors.first() {
        return Err(e.to_string());
    }
    let (report, errors) = analyzer.analyze(&inputs);
    if let Some(e) = errors.first() {
        return Err(e.to_string());
    }
    Ok(Side {
        items: items(&report),
        hosts: report
            .summary
            .sources
            .iter()
            .flat_map(|s| s.hosts.iter().cloned())
            .collect(),
        names: report
            .summary
            .sources
            .iter()
            .map(|s| s.name.clone())
            .collect(),
    })
}

/// The findings of a report, as the diff lists them.
fn items(report: &Report) -> Vec<Item> {
    report
        .findings
        .iter()
        .map(|f| Item {
            code: f.code.as_str().to_owned(),
            id: f.id.clone(),
            subject: f.subject.clone(),
            severity: f.severity.to_string(),
            message: f.message.clone().unwrap_or_else(|| f.title.clone()),
            count: f.count,
            count_before: None,
            host: f.host.clone(),
            sources: f.evidence.iter().map(|e| e.source.clone()).collect(),
        })
        .collect()
}

/// Compares the findings of two sides; `after_names` and `after_hosts` are
/// what AFTER's inputs are called and name. A finding gone from AFTER is
/// resolved when AFTER covered it (its host, or an input of the same file
/// name), else not covered.
fn diff(
    before: Vec<Item>,
    after: Vec<Item>,
    after_names: &[String],
    after_hosts: &[String],
) -> Diff {
    let key = |i: &Item| (i.id.clone(), i.subject.clone());
    let mut old: BTreeMap<(String, String), Item> =
        before.into_iter().map(|i| (key(&i), i)).collect();
    let hosts: std::collections::HashSet<String> = after
        .iter()
        .filter_map(|i| i.host.clone())
        .chain(after_hosts.iter().cloned())
        .collect();
    let names: std::collections::HashSet<&str> = after_names.iter().map(|n| base(n)).collect();
    let mut d = Diff {
        new: Vec::new(),
        unchanged: Vec::new(),
        resolved: Vec::new(),
        not_covered: Vec::new(),
    };
    for mut i in after {
        match old.remove(&key(&i)) {
            Some(b) => {
                i.count_before = Some(b.count);
                d.unchanged.push(i);
            }
            None => d.new.push(i),
        }
    }
    for i in old.into_values() {
        let covered = i.sources.iter().any(|s| names.contains(base(s)))
            || i.host.as_ref().is_some_and(|h| hosts.contains(h));
        if covered {
            d.resolved.push(i);
        } else {
            d.not_covered.push(i);
        }
    }
    d
}

pub(super) fn run(args: &DiffArgs) -> u8 {
    let map = args
        .redact
        .redact_map
        .as_deref()
        .map(|m| ("--redact-map", m));
    let sides = [args.before.clone(), args.after.clone()];
    if let Err(code) = super::outputs::guard(&sides, map.as_slice(), true) {
        return code;
    }
    let found: Option<super::Found> = args.redact.redact.then(Default::default);
    let (before, after) = match (
        side(&args.before, &args.load, found.as_ref()),
        side(&args.after, &args.load, found.as_ref()),
    ) {
        (Ok(b), Ok(a)) => (b, a),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    // Redacted with one redactor for both sides (a value keeps its pseudonym
    // across them) before the lines are wrapped; text made printable.
    let (mut before, mut after) = (before, after);
    let redactor = found.map(|found| {
        let mut d = found.lock().map(|f| f.clone()).unwrap_or_default();
        for side in [&before, &after] {
            d.text(&serde_json::to_string(&side.items).unwrap_or_default());
        }
        let names = [&before, &after]
            .into_iter()
            .flat_map(|s| s.names.iter().map(String::as_str));
        d.finish().with_inputs(names)
    });
    let text = args.format == DiffFormat::Text;
    for side in [&mut before, &mut after] {
        for i in &mut side.items {
            for s in [&mut i.subject, &mut i.message] {
                if let Some(r) = &redactor {
                    *s = r.apply(s);
                }
                if text {
                    *s = hsmdiag::parser::printable(s).into_owned();
                }
            }
        }
    }
    let d = diff(before.items, after.items, &after.names, &after.hosts);
    let mut out = String::new();
    match args.format {
        DiffFormat::Json => match serde_json::to_string_pretty(&d) {
            Ok(s) => {
                out.push_str(&s);
                out.push('\n');
            }
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_ERROR;
            }
        },
        DiffFormat::Text => {
            for (title, items, mark) in [
                ("New", &d.new, "+"),
                ("Still there", &d.unchanged, "="),
                ("Resolved", &d.resolved, "-"),
                (
                    "Not covered (AFTER shows neither its host nor its log)",
                    &d.not_covered,
                    "?",
                ),
            ] {
                out.push_str(&format!("{title} ({}):\n", items.len()));
                for i in items {
                    let counts = match i.count_before {
                        Some(b) if b != i.count => format!(" (seen {b} → {} times)", i.count),
                        _ => String::new(),
                    };
                    let line =
                        format!("{} {} [{}] {}{counts}", i.code, i.id, i.severity, i.message);
                    for l in hsmdiag::report::wrap(
                        &line,
                        super::width(),
                        &format!("  {mark} "),
                        "      ",
                    ) {
                        out.push_str(&l);
                        out.push('\n');
                    }
                }
            }
        }
    }
    let mut bytes = out.into_bytes();
    if !text {
        hsmdiag::report::render::escape_unsafe(&mut bytes);
    }
    if let Some(redactor) = &redactor {
        bytes = match super::redacted(redactor, &bytes, args.redact.redact_map.as_ref()) {
            Ok(b) => b,
            Err(code) => return code,
        };
    }
    {
        use std::io::Write as _;
        let mut stdout = std::io::stdout().lock();
        if let Err(e) = stdout.write_all(&bytes).and_then(|()| stdout.flush()) {
            if e.kind() != std::io::ErrorKind::BrokenPipe {
                eprintln!("error: {e}");
                return EXIT_ERROR;
            }
        }
    }
    // Findings that are still there, new, or not shown gone count toward
    // the fail level.
    let level = super::settings::get().fail_on;
    let failing = d
        .new
        .iter()
        .chain(&d.unchanged)
        .chain(&d.not_covered)
        .any(|i| {
            serde_json::from_value::<hsmdiag::Severity>(serde_json::Value::String(
                i.severity.clone(),
            ))
            .is_ok_and(|s| s >= level)
        });
    if failing { EXIT_FINDINGS } else { EXIT_CLEAN }
}

#[cfg(test)]
mod tests {
    use super::{Item, diff};

    fn item(id: &str, subject: &str, count: u64) -> Item {
        Item {
            code: "HSM101".into(),
            id: id.into(),
            subject: subject.into(),
            severity: "error".into(),
            message: String::new(),
            count,
            count_before: None,
            host: Some("hsm1".into()),
            sources: vec!["before/hsm1.log".into()],
        }
    }

    #[test]
    fn new_unchanged_resolved() {
        let d = diff(
            vec![item("a", "x", 3), item("b", "y", 1)],
            vec![item("a", "x", 1), item("c", "z", 2)],
            &["after/hsm1.log".into()],
            &[],
        );
        assert_eq!(d.new.len(), 1);
        assert_eq!(d.new[0].id, "c");
        assert_eq!(d.unchanged[0].count_before, Some(3));
        assert_eq!(d.resolved[0].id, "b");
    }

    /// AFTER that never looked at the finding's host or log says nothing
    /// about it: not covered, not resolved.
    #[test]
    fn gone_from_inputs_that_do_not_cover_it_is_not_resolved() {
        let d = diff(
            vec![item("b", "y", 1)],
            vec![],
            &["after/hsm2.log".into()],
            &["hsm2".into()],
        );
        assert!(d.resolved.is_empty());
        assert_eq!(d.not_covered[0].id, "b");
        let d = diff(
            vec![item("b", "y", 1)],
            vec![],
            &["logs/hsm1.log".into()],
            &[],
        );
        assert_eq!(d.resolved[0].id, "b");
        let d = diff(
            vec![item("b", "y", 1)],
            vec![],
            &["after.log".into()],
            &["hsm1".into()],
        );
        assert_eq!(d.resolved[0].id, "b");
    }
}
