//! `hsmdiag lint FILE|DIR...`: what would fail, read from the deployment
//! templates (and the state they will land on) before anything is deployed.

use std::path::PathBuf;

use clap::Args;
use hsmdiag::{TextOptions, write_json, write_jsonl, write_markdown, write_sarif, write_text};

use super::{EXIT_ERROR, Format};

#[derive(Debug, Args)]
pub(super) struct LintArgs {
    /// ARM templates and their parameters files, `az deployment ... what-if
    /// --no-pretty-print` output, `terraform show -json` plans, Terraform
    /// configuration (`.tf`), and the state they land on (`az network vnet show`,
    /// `az dedicated-hsm list`, `az network vnet-gateway list`, as JSON); or
    /// folders of them (their `.json`, `.jsonc` and `.tf` files). Read together.
    #[arg(value_name = "FILE|DIR", required = true)]
    inputs: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Write the report to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    kb: super::load::KbArgs,
    #[command(flatten)]
    walk: super::load::WalkArgs,
}

pub(super) fn run(args: &LintArgs) -> u8 {
    let out = args.output.as_deref().map(|o| ("--output", o));
    if let Err(code) = super::outputs::guard(&args.inputs, out.as_slice(), args.output.is_none()) {
        return code;
    }
    let analyzer = match args.kb.analyzer() {
        Ok(a) => a,
        Err(code) => return code,
    };
    let mut walk = args.walk.walk();
    if args.walk.glob.is_empty() {
        for g in ["*.json", "*.jsonc", "*.tf"] {
            walk = walk.glob(g);
        }
    }
    let (inputs, mut errors) = hsmdiag::expand_with(&args.inputs, &walk);
    let (report, read_errors) = analyzer.lint(&inputs);
    errors.extend(read_errors);
    for e in &errors {
        super::print_error(e);
    }
    if !errors.is_empty() && report.summary.inputs == 0 {
        return EXIT_ERROR;
    }
    // Text that is no template, plan or state cannot be checked: say so, and
    // when nothing could be, fail (a CI gate pointed at the wrong file).
    let unchecked: Vec<&str> = report
        .summary
        .sources
        .iter()
        .filter(|s| s.recognized_lines == Some(0) && s.lines > s.blank_lines)
        .map(|s| s.name.as_str())
        .collect();
    for name in &unchecked {
        eprintln!(
            "hsmdiag: {name} is no ARM template, parameters file, what-if result, Terraform configuration, plan or state: not linted"
        );
    }
    if !unchecked.is_empty() && unchecked.len() == report.summary.sources.len() {
        eprintln!(
            "hsmdiag: nothing to lint: give a template, a plan or state (`hsmdiag FILE` reads logs)"
        );
        return EXIT_ERROR;
    }
    let mut buf = Vec::new();
    let rendered = match args.format {
        Format::Text => write_text(
            &report,
            &mut buf,
            TextOptions::new(super::use_color(args.output.is_some()), super::width()),
        ),
        Format::Short => hsmdiag::write_short(&report, &mut buf),
        Format::Json => write_json(&report, &mut buf),
        Format::Jsonl => write_jsonl(&report, &mut buf),
        Format::Markdown => write_markdown(&report, &mut buf),
        Format::Sarif => write_sarif(&report, analyzer.rules(), &mut buf),
        Format::Html => hsmdiag::write_html(&report, &[], &mut buf),
    };
    if let Err(e) = rendered {
        super::print_error(&e);
        return EXIT_ERROR;
    }
    if let Err(code) = super::write_report(&buf, args.output.as_ref()) {
        return code;
    }
    super::exit_status(errors.is_empty(), &report)
}
