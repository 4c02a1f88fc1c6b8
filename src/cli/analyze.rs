//! `hsmdiag [FILE|DIR|-]...`: analyse inputs and print findings.

use hsmdiag::{
    TextOptions, expand, write_json, write_jsonl, write_markdown, write_sarif, write_text,
};

use super::{AnalyzeArgs, EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, Format};

pub(super) fn run(args: &AnalyzeArgs) -> u8 {
    let analyzer = match args.load.builder().and_then(|mut b| {
        b.unrecognized(args.unrecognized);
        super::load::build(&b)
    }) {
        Ok(a) => a,
        Err(code) => return code,
    };
    let (inputs, mut errors) = expand(&args.inputs);
    let (report, read_errors) = analyzer.analyze(&inputs);
    errors.extend(read_errors);
    for e in &errors {
        super::print_error(e);
    }
    let mut out = match super::open_output(args.output.as_ref()) {
        Ok(o) => o,
        Err(code) => return code,
    };
    let written = match args.format {
        Format::Text => {
            let opts = TextOptions::new(
                super::use_color(args.color, args.output.is_some()),
                super::width(),
            );
            write_text(&report, &mut out, opts)
        }
        Format::Json => write_json(&report, &mut out),
        Format::Jsonl => write_jsonl(&report, &mut out),
        Format::Markdown => write_markdown(&report, &mut out),
        Format::Sarif => write_sarif(&report, analyzer.rules(), &mut out),
    };
    if let Err(e) = written {
        if !e.is_broken_pipe() {
            super::print_error(&e);
            return EXIT_ERROR;
        }
    }
    if !errors.is_empty() {
        EXIT_ERROR
    } else if report.has_findings() {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    }
}
