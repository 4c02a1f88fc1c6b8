//! `hsmdiag explain ID|CODE`: one rule's knowledge-base entry, as Markdown.

use std::io::Write;

use clap::{Args, ValueEnum};
use hsmdiag::Rule;
use hsmdiag::report::{rule_detection, rule_markdown};
use serde::Serialize;

use super::{EXIT_CLEAN, EXIT_ERROR};

#[derive(Debug, Args)]
pub(super) struct ExplainArgs {
    /// A rule id (ntls.unknown_ca) or code (HSM101, hsm101, 101), or a return
    /// code (CKR_PIN_INCORRECT, LUNA_RET_UM_PIN_INCORRECT, RC_SSL_ERROR, 0xa0).
    #[arg(value_name = "ID|CODE")]
    rule: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ExplainFormat::Text)]
    format: ExplainFormat,
    #[command(flatten)]
    kb: super::load::KbArgs,
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
    let analyzer = match args.kb.analyzer() {
        Ok(a) => a,
        Err(code) => return code,
    };
    let kb = analyzer.knowledge_base();
    if let Some(code) = hsmdiag::parser::return_code(&args.rule) {
        return explain_code(code, kb, args.format);
    }
    if kb.find(&args.rule).is_none() {
        if let Some(x) = kb.find_retired(&args.rule) {
            return explain_retired(x, kb, args.format);
        }
    }
    let Some(rule) = kb.find(&args.rule) else {
        let hint = match kb.suggest(&args.rule) {
            Some(r) => format!("; did you mean {} ({})?", r.code, r.id),
            None => "; `hsmdiag rules` lists them all".to_owned(),
        };
        eprintln!("error: no rule `{}`{hint}", args.rule);
        return EXIT_ERROR;
    };
    let text = match args.format {
        ExplainFormat::Text => {
            hsmdiag::report::wrap::markdown_for_terminal(&rule_markdown(rule, 1), super::width())
        }
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
        detection: rule_detection(r),
        references: &r.references,
    }
}

#[derive(Serialize)]
struct CodeDoc<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<String>,
    what: &'a str,
    meaning: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pkcs11: Option<&'a str>,
    source: &'a str,
    rules: Vec<String>,
}

/// A return code's page: its value, meaning, source and the rules that read it.
fn explain_code(
    code: &hsmdiag::parser::ReturnCode,
    kb: &hsmdiag::KnowledgeBase,
    format: ExplainFormat,
) -> u8 {
    let ckr = code
        .ckr
        .as_deref()
        .or_else(|| code.name.starts_with("CKR_").then_some(code.name.as_str()));
    let doc = CodeDoc {
        name: &code.name,
        value: code.value.map(|v| format!("0x{v:08x}")),
        what: code.what,
        meaning: &code.meaning,
        pkcs11: ckr.filter(|k| *k != code.name),
        source: code.source,
        rules: kb
            .rules()
            .iter()
            .filter(|r| r.reads_code(&code.name, ckr))
            .map(|r| format!("{} ({})", r.code, r.id))
            .collect(),
    };
    let text = match format {
        ExplainFormat::Json => match serde_json::to_string_pretty(&doc) {
            Ok(s) => s + "\n",
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_ERROR;
            }
        },
        ExplainFormat::Text => {
            let mut t = format!("# {}\n\n", doc.name);
            if let Some(v) = &doc.value {
                t += &format!("Value: {v}  \n");
            }
            t += &format!("Kind: {}  \n", doc.what);
            if let Some(k) = doc.pkcs11 {
                t += &format!("Amounts to: {k}  \n");
            }
            t += &format!("\n{}\n\n", capitalised(doc.meaning));
            if doc.rules.is_empty() {
                t += "No specific rule reads this code: when a log reports it failing, HSM108 (client.operation_failed) names it with this meaning.\n\n";
            } else {
                t += &format!("Read by: {}\n\n", doc.rules.join(", "));
            }
            t += &format!("Source: {}\n", doc.source);
            hsmdiag::report::wrap::markdown_for_terminal(&t, super::width())
        }
    };
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    EXIT_CLEAN
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str() + ".")
        .unwrap_or_default()
}

/// A retired rule's page: what it was, when and why it left, what to read now.
fn explain_retired(x: &hsmdiag::Retired, kb: &hsmdiag::KnowledgeBase, format: ExplainFormat) -> u8 {
    let successor = x.successor.as_deref().and_then(|s| kb.find(s));
    let text = match format {
        ExplainFormat::Text => {
            let mut s = format!("# {} {}: {} (retired)\n\n", x.code, x.id, x.title);
            s.push_str(&format!("Retired in {}: {}\n", x.retired, x.why.trim()));
            match (successor, &x.successor) {
                (Some(r), _) => s.push_str(&format!(
                    "\nRead {} {} instead: {} (`hsmdiag explain {}`).\n",
                    r.code, r.id, r.title, r.code
                )),
                (None, Some(name)) => s.push_str(&format!("\nIts successor: {name}.\n")),
                (None, None) => {}
            }
            hsmdiag::report::wrap::markdown_for_terminal(&s, super::width())
        }
        ExplainFormat::Json => {
            let mut v = serde_json::to_value(x).unwrap_or_default();
            v["status"] = serde_json::json!("retired");
            if let Some(r) = successor {
                v["successor"] =
                    serde_json::json!({ "id": r.id, "code": r.code.as_str(), "title": r.title });
            }
            serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
        }
    };
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    EXIT_CLEAN
}
