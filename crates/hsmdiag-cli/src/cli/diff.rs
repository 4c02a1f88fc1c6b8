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
}

#[derive(Debug, Serialize)]
struct Diff {
    new: Vec<Item>,
    unchanged: Vec<Item>,
    resolved: Vec<Item>,
}

/// The findings of one side (a JSON report read back, or logs analysed),
/// and the report they come from.
fn side(
    path: &PathBuf,
    load: &super::load::LoadArgs,
    found: Option<&super::Found>,
) -> Result<Report, String> {
    let text = std::fs::read_to_string(path).ok();
    let looks_like_report = text
        .as_deref()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
        .is_some_and(|v| v.get("findings").is_some() && v.get("summary").is_some());
    let report: Report = if looks_like_report {
        serde_json::from_str(text.as_deref().unwrap_or_default()).map_err(|e| {
            format!(
                "{}: not a report hsmdiag can read back: {e}",
                path.display()
            )
        })?
    } else {
        // Another of hsmdiag's outputs holds no findings it can read back, and
        // analysed as logs it would give none: say so rather than report every
        // finding of the other side as new or resolved.
        if let Some(kind) = own_output_file(path) {
            return Err(match kind {
                hsmdiag::OwnOutput::JsonReport => format!(
                    "{}: {kind} that cannot be read back (compressed, or cut short?)",
                    path.display()
                ),
                _ => format!(
                    "{}: {kind}; diff compares JSON reports (--format json) or logs",
                    path.display()
                ),
            });
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
        report
    };
    Ok(report)
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
        })
        .collect()
}

/// Which of hsmdiag's own outputs a file is, if it is one (a folder is none).
fn own_output_file(path: &std::path::Path) -> Option<hsmdiag::OwnOutput> {
    use std::io::Read;
    if !path.is_file() {
        return None;
    }
    let mut head = Vec::with_capacity(8192);
    std::fs::File::open(path)
        .and_then(|f| f.take(8192).read_to_end(&mut head))
        .ok()?;
    hsmdiag::own_output(&head)
}

fn diff(before: Vec<Item>, after: Vec<Item>) -> Diff {
    let key = |i: &Item| (i.id.clone(), i.subject.clone());
    let mut old: BTreeMap<(String, String), Item> =
        before.into_iter().map(|i| (key(&i), i)).collect();
    let mut d = Diff {
        new: Vec::new(),
        unchanged: Vec::new(),
        resolved: Vec::new(),
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
    d.resolved = old.into_values().collect();
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
    // Redacted in the models, with one redactor for both sides (a value
    // keeps its pseudonym across them), before the lines are wrapped; text
    // made printable.
    let redactor = found.map(|found| {
        let mut d = found.lock().map(|f| f.clone()).unwrap_or_default();
        for r in [&before, &after] {
            d.text(&serde_json::to_string(r).unwrap_or_default());
        }
        let names: Vec<&str> = [&before, &after]
            .iter()
            .flat_map(|r| r.summary.sources.iter().map(|s| s.name.as_str()))
            .collect();
        d.finish().with_inputs(names)
    });
    let (before, after) = match &redactor {
        Some(r) => (
            hsmdiag::redact::redact_with(r.clone(), &before, &[]).report,
            hsmdiag::redact::redact_with(r.clone(), &after, &[]).report,
        ),
        None => (before, after),
    };
    let text = args.format == DiffFormat::Text;
    let (before, after) = if text {
        let mut b = before;
        let mut a = after;
        hsmdiag::report::make_printable(&mut b);
        hsmdiag::report::make_printable(&mut a);
        (b, a)
    } else {
        (before, after)
    };
    let d = diff(items(&before), items(&after));
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
        super::json_printable(&mut bytes);
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
    // Findings that are still there or new count toward the fail level.
    let level = super::settings::get().fail_on;
    let failing = d.new.iter().chain(&d.unchanged).any(|i| {
        serde_json::from_value::<hsmdiag::Severity>(serde_json::Value::String(i.severity.clone()))
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
        }
    }

    #[test]
    fn new_unchanged_resolved() {
        let d = diff(
            vec![item("a", "x", 3), item("b", "y", 1)],
            vec![item("a", "x", 1), item("c", "z", 2)],
        );
        assert_eq!(d.new.len(), 1);
        assert_eq!(d.new[0].id, "c");
        assert_eq!(d.unchanged[0].count_before, Some(3));
        assert_eq!(d.resolved[0].id, "b");
    }
}
