//! `hsmdiag check FILE|DIR...`: validate a user's rule and grammar files, then
//! run the samples of their patterns and the examples of their rules.

use std::path::{Path, PathBuf};

use clap::Args;
use hsmdiag::{AnalyzerBuilder, Input, InputKind};

use super::load::{FileKind, kind_of, toml_files};
use super::{EXIT_CLEAN, EXIT_ERROR};

#[derive(Debug, Args)]
pub(super) struct CheckArgs {
    /// Rule files, grammar files, or directories of them (`.toml`). A file with
    /// `[[match]]` tables is a rule file; one with `[[message]]` tables or a
    /// `[patterns]` table is a grammar file.
    #[arg(value_name = "FILE|DIR", required = true)]
    files: Vec<PathBuf>,
    /// Output format: a line per file (text), or one JSON array of
    /// `{"file", "kind", "name", "ok", "problems"}` (json).
    #[arg(long, value_enum, default_value = "text")]
    format: CheckFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum CheckFormat {
    /// A line per file that passed; problems on stderr.
    Text,
    /// One JSON array, a record per file.
    Json,
}

/// What `check --format json` says of one file.
#[derive(serde::Serialize)]
struct Checked {
    file: String,
    kind: &'static str,
    name: String,
    ok: bool,
    problems: Vec<String>,
}

pub(super) fn run(args: &CheckArgs) -> u8 {
    let mut grammars = Vec::new();
    let mut rules = Vec::new();
    for path in &args.files {
        let files = match toml_files(path) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_ERROR;
            }
        };
        for f in files {
            let text = match super::knowledge_file::read_small(&f) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("error: {e}");
                    return EXIT_ERROR;
                }
            };
            match kind_of(&text) {
                Some(FileKind::Rule) => rules.push((f, text)),
                Some(FileKind::Grammar) => grammars.push((f, text)),
                // Not TOML, or neither shape: the rule loader says what is wrong.
                None => rules.push((f, text)),
            }
        }
    }

    // Load: the first file that is wrong stops here, with its line.
    let mut builder = AnalyzerBuilder::new();
    for (f, t) in &grammars {
        builder.grammar(f.display().to_string(), t.clone());
    }
    for (f, t) in &rules {
        builder.rule(f.display().to_string(), t.clone());
    }
    let analyzer = match builder.build() {
        Ok(a) => a,
        Err(e) => {
            super::print_error(&e);
            return EXIT_ERROR;
        }
    };

    let json = args.format == CheckFormat::Json;
    let mut checked: Vec<Checked> = Vec::new();
    let mut failed = 0usize;
    let mut passed = 0usize;
    let grammar_names: Vec<String> = grammars
        .iter()
        .map(|(f, _)| f.display().to_string())
        .collect();
    for cat in analyzer.grammar().catalogues() {
        if !grammar_names.iter().any(|n| n == cat.file()) {
            continue;
        }
        let problems = cat.check_samples();
        let samples: usize = cat.messages.iter().map(|m| m.samples.len()).sum();
        if problems.is_empty() {
            if !json {
                outln!(
                    "ok  {}: catalogue `{}`, {}, {} typed as they say",
                    cat.file(),
                    cat.name,
                    super::counted(cat.messages.len(), "pattern"),
                    super::counted(samples, "sample")
                );
            }
            passed += 1;
        }
        if !json {
            for p in &problems {
                super::print_error(p);
            }
        }
        checked.push(Checked {
            file: cat.file().to_owned(),
            kind: "grammar",
            name: cat.name.clone(),
            ok: problems.is_empty(),
            problems: problems.iter().map(ToString::to_string).collect(),
        });
        failed += problems.len();
    }

    let rule_names: Vec<String> = rules.iter().map(|(f, _)| f.display().to_string()).collect();
    for rule in analyzer
        .rules()
        .iter()
        .filter(|r| rule_names.contains(&r.file))
    {
        let dir = Path::new(&rule.file).parent().unwrap_or(Path::new("."));
        let mut bad = Vec::new();
        for (i, ex) in rule.examples.iter().enumerate() {
            let (name, report) = match &ex.text {
                Some(t) if rule.is_lint() => (
                    format!("example {}", i + 1),
                    analyzer.lint_str("example", t),
                ),
                Some(t) => (
                    format!("example {}", i + 1),
                    analyzer.analyze_str("example", t),
                ),
                None => {
                    let path = dir.join(&ex.input);
                    let input = Input {
                        name: path.display().to_string(),
                        kind: InputKind::File(path.clone()),
                    };
                    let (report, errors) = if rule.is_lint() {
                        analyzer.lint(std::slice::from_ref(&input))
                    } else {
                        analyzer.analyze(std::slice::from_ref(&input))
                    };
                    if let Some(e) = errors.first() {
                        bad.push(format!("example {} ({}): {e}", i + 1, ex.input));
                        continue;
                    }
                    (format!("example {} ({})", i + 1, ex.input), report)
                }
            };
            let fired = report.findings.iter().any(|f| f.code == rule.code);
            if fired != ex.fires {
                bad.push(format!(
                    "{name}: the rule {} but the example says it {}",
                    if fired { "fires" } else { "stays quiet" },
                    if ex.fires {
                        "must fire"
                    } else {
                        "must stay quiet"
                    }
                ));
            }
        }
        if rule.examples.is_empty() {
            bad.push("no [[examples]]: add one that fires and one that stays quiet".into());
        }
        checked.push(Checked {
            file: rule.file.clone(),
            kind: "rule",
            name: format!("{} {}", rule.code, rule.id),
            ok: bad.is_empty(),
            problems: bad.clone(),
        });
        if json {
            if bad.is_empty() {
                passed += 1;
            }
            failed += bad.len();
        } else if bad.is_empty() {
            outln!(
                "ok  {}: {} {}, {} {} as they say",
                rule.file,
                rule.code,
                rule.id,
                super::counted(rule.examples.len(), "example"),
                if rule.examples.len() == 1 {
                    "behaves"
                } else {
                    "behave"
                }
            );
            passed += 1;
        } else {
            for b in &bad {
                eprintln!("error: {}: {} {}: {b}", rule.file, rule.code, rule.id);
            }
            failed += bad.len();
        }
    }
    if json {
        match serde_json::to_string_pretty(&checked) {
            Ok(s) => outln!("{s}"),
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_ERROR;
            }
        }
    }
    if failed == 0 {
        return EXIT_CLEAN;
    }
    if !json {
        eprintln!(
            "{}; {} passed",
            super::counted(failed, "problem"),
            super::counted(passed, "file")
        );
    }
    EXIT_ERROR
}
