//! `hsmdiag rules`: list every known issue.

use std::io::Write;

use clap::{Args, ValueEnum};
use serde::Serialize;

use super::{EXIT_CLEAN, EXIT_ERROR};

#[derive(Debug, Args)]
pub(super) struct RulesArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = RulesFormat::Text)]
    format: RulesFormat,
    #[command(flatten)]
    kb: super::load::KbArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RulesFormat {
    /// A table.
    Text,
    /// A JSON array.
    Json,
    /// The rule reference page (docs/rules.md).
    Markdown,
}

#[derive(Serialize)]
struct RuleRow<'a> {
    id: &'a str,
    code: &'a str,
    severity: hsmdiag::Severity,
    title: &'a str,
    owner: hsmdiag::Owner,
    since: &'a str,
}

pub(super) fn run(args: &RulesArgs) -> u8 {
    let analyzer = match args.kb.analyzer() {
        Ok(a) => a,
        Err(code) => return code,
    };
    let rules = analyzer.rules();
    let text = match args.format {
        RulesFormat::Text => {
            let w = rules.iter().map(|r| r.id.len()).max().unwrap_or(0);
            let width = super::width();
            let mut s = String::new();
            for r in rules {
                let head = format!("{}  {:<w$}  {:<8}  ", r.code, r.id, r.severity.to_string());
                // The title beside the columns when there is room for it, else
                // on the lines below.
                let lines = if width.saturating_sub(head.len()) >= 40 {
                    hsmdiag::report::wrap(&r.title, width, &head, &" ".repeat(head.len()))
                } else {
                    let mut l = vec![head.trim_end().to_owned()];
                    l.extend(hsmdiag::report::wrap(
                        &r.title, width, "        ", "        ",
                    ));
                    l
                };
                for l in lines {
                    s.push_str(&l);
                    s.push('\n');
                }
            }
            s
        }
        RulesFormat::Json => {
            let rows: Vec<RuleRow<'_>> = rules
                .iter()
                .map(|r| RuleRow {
                    id: &r.id,
                    code: r.code.as_str(),
                    severity: r.severity,
                    title: &r.title,
                    owner: r.owner,
                    since: &r.since,
                })
                .collect();
            match serde_json::to_string_pretty(&rows) {
                Ok(s) => s + "\n",
                Err(e) => {
                    eprintln!("error: {e}");
                    return EXIT_ERROR;
                }
            }
        }
        RulesFormat::Markdown => hsmdiag::report::rules_markdown(rules),
    };
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    EXIT_CLEAN
}
