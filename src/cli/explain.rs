//! `hsmdiag explain ID|CODE`: one rule's knowledge-base entry, as Markdown.

use std::io::Write;

use clap::{Args, ValueEnum};
use hsmdiag::{Analyzer, Matcher, Rule};
use serde::Serialize;

use super::{EXIT_CLEAN, EXIT_ERROR};

#[derive(Debug, Args)]
pub(super) struct ExplainArgs {
    /// A rule id (ntls.unknown_ca) or code (HSM101, hsm101, 101).
    #[arg(value_name = "ID|CODE")]
    rule: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ExplainFormat::Text)]
    format: ExplainFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ExplainFormat {
    /// Markdown text.
    Text,
    /// JSON with the same fields.
    Json,
}

#[derive(Serialize)]
struct RuleDoc<'a> {
    id: &'a str,
    code: &'a str,
    title: &'a str,
    severity: hsmdiag::Severity,
    owner: hsmdiag::Owner,
    since: &'a str,
    meaning: &'a str,
    cause: &'a str,
    confirm: &'a str,
    false_positives: &'a str,
    remediation: Vec<RemedyDoc<'a>>,
    detection: Vec<String>,
    references: &'a [String],
}

#[derive(Serialize)]
struct RemedyDoc<'a> {
    step: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    command: Option<&'a str>,
    destructive: bool,
}

pub(super) fn run(args: &ExplainArgs) -> u8 {
    let analyzer = Analyzer::new();
    let kb = analyzer.knowledge_base();
    let Some(rule) = kb.find(&args.rule) else {
        let hint = match kb.suggest(&args.rule) {
            Some(r) => format!("; did you mean {} ({})?", r.code, r.id),
            None => "; `hsmdiag rules` lists them all".to_owned(),
        };
        eprintln!("error: no rule `{}`{hint}", args.rule);
        return EXIT_ERROR;
    };
    let text = match args.format {
        ExplainFormat::Text => markdown(rule, 1),
        ExplainFormat::Json => match serde_json::to_string_pretty(&doc(rule)) {
            Ok(s) => s + "\n",
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_ERROR;
            }
        },
    };
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    EXIT_CLEAN
}

fn doc(r: &Rule) -> RuleDoc<'_> {
    RuleDoc {
        id: &r.id,
        code: r.code.as_str(),
        title: &r.title,
        severity: r.severity,
        owner: r.owner,
        since: &r.since,
        meaning: r.meaning.trim(),
        cause: r.cause.trim(),
        confirm: r.confirm.trim(),
        false_positives: r.false_positives.trim(),
        remediation: r
            .remediation
            .iter()
            .map(|s| RemedyDoc {
                step: s.step.as_str(),
                command: s.command.as_ref().map(|c| c.as_str()),
                destructive: s.destructive,
            })
            .collect(),
        detection: detection(r),
        references: &r.references,
    }
}

/// How the rule decides, in words.
fn detection(r: &Rule) -> Vec<String> {
    r.matches
        .iter()
        .map(|m| {
            let cond = |c: &hsmdiag::Cond| {
                let opt = if c.optional { " (optional)" } else { "" };
                format!("`{}`{opt}", c.event)
            };
            let within = m.within.map(|w| format!(" within {}s", w.as_secs())).unwrap_or_default();
            let key = if m.key.is_empty() { String::new() } else { format!(" with the same {}", m.key.join(" and ")) };
            match &m.matcher {
                Matcher::Single { cond: c } => format!("each {} event", cond(c)),
                Matcher::Count { cond: c, threshold } => format!("{threshold} {} events{key}{within}", cond(c)),
                Matcher::Sequence { steps } => format!(
                    "the sequence {}{key}{within}",
                    steps.iter().map(cond).collect::<Vec<_>>().join(" → ")
                ),
                Matcher::Absence { trigger, expect, direction } => format!(
                    "{} with no {} {}{key}{within}",
                    cond(trigger),
                    cond(expect),
                    match direction {
                        hsmdiag::Direction::Before => "before it",
                        hsmdiag::Direction::After => "after it",
                    }
                ),
                _ => "another matcher".to_owned(),
            }
        })
        .collect()
}

/// A rule as Markdown; `level` is the heading level of its title.
pub(super) fn markdown(r: &Rule, level: usize) -> String {
    let h = "#".repeat(level);
    let mut s = format!("{h} {} {}: {}\n\n", r.code, r.id, r.title);
    s.push_str(&format!("Severity: {} · Who fixes it: {:?} · Since {}\n\n", r.severity, r.owner, r.since).replace("Customer", "the customer"));
    for (head, body) in [
        ("What the log shows", r.meaning.trim()),
        ("Why it happens", r.cause.trim()),
        ("How to confirm", r.confirm.trim()),
        ("Known false positives", r.false_positives.trim()),
    ] {
        s.push_str(&format!("{h}# {head}\n\n{}\n\n", body.replace('\n', " ").replace("  ", " ")));
    }
    s.push_str(&format!("{h}# Remediation\n\n"));
    for (i, step) in r.remediation.iter().enumerate() {
        let mark = if step.destructive { "**DESTRUCTIVE:** " } else { "" };
        s.push_str(&format!("{}. {mark}{}\n", i + 1, step.step.as_str()));
        if let Some(c) = &step.command {
            s.push_str(&format!("   ```\n   {}\n   ```\n", c.as_str()));
        }
    }
    s.push_str(&format!("\n{h}# Detection\n\n"));
    for d in detection(r) {
        s.push_str(&format!("- {d}\n"));
    }
    if !r.references.is_empty() {
        s.push_str(&format!("\n{h}# References\n\n"));
        for u in &r.references {
            s.push_str(&format!("- <{u}>\n"));
        }
    }
    s
}

/// The rule reference page: every rule, in code order.
pub(super) fn rules_page(rules: &[Rule]) -> String {
    let mut s = String::from(
        "# hsmdiag rules\n\nGenerated by `hsmdiag rules --format markdown`; do not edit by hand.\n\n| code | id | severity | title |\n|---|---|---|---|\n",
    );
    for r in rules {
        s.push_str(&format!("| {} | `{}` | {} | {} |\n", r.code, r.id, r.severity, r.title));
    }
    for r in rules {
        s.push('\n');
        s.push_str(&markdown(r, 2));
    }
    s
}
