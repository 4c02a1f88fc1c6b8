//! `hsmdiag [FILE|DIR|-]...`: analyse inputs and print findings.

use std::io::Write;

use hsmdiag::redact::redact_output;
use hsmdiag::{TextOptions, write_json, write_jsonl, write_markdown, write_sarif, write_text};

use super::{AnalyzeArgs, EXIT_ERROR, Format};

pub(super) fn run(args: &AnalyzeArgs) -> u8 {
    let bar = super::progress_bar(&args.inputs);
    let analyzer = match args.load.builder().and_then(|mut b| {
        b.unrecognized(args.unrecognized);
        if let Some(bar) = &bar {
            let bar = bar.clone();
            b.progress(hsmdiag::Progress(std::sync::Arc::new(move |n| bar.inc(n))));
        }
        super::load::build(&b)
    }) {
        Ok(a) => a,
        Err(code) => return code,
    };
    let (report, all_read) = super::analyze_inputs(&analyzer, &args.inputs);
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    // Rendered in memory first: redaction and its leak check see the whole
    // output before any of it is written.
    let mut buf: Vec<u8> = Vec::new();
    let rendered = match args.format {
        Format::Text => {
            let color = !args.redact && super::use_color(args.color, args.output.is_some());
            write_text(&report, &mut buf, TextOptions::new(color, super::width()))
        }
        Format::Json => write_json(&report, &mut buf),
        Format::Jsonl => write_jsonl(&report, &mut buf),
        Format::Markdown => write_markdown(&report, &mut buf),
        Format::Sarif => write_sarif(&report, analyzer.rules(), &mut buf),
    };
    if let Err(e) = rendered {
        super::print_error(&e);
        return EXIT_ERROR;
    }
    if args.redact {
        let text = String::from_utf8_lossy(&buf).into_owned();
        let (redacted, redactor) = match redact_output(&report, &text) {
            Ok(r) => r,
            Err(leak) => {
                super::print_error(&leak);
                return EXIT_ERROR;
            }
        };
        if let Some(path) = &args.redact_map {
            let map = serde_json::to_string_pretty(redactor.mapping()).unwrap_or_default();
            if let Err(e) = std::fs::write(path, map + "\n") {
                eprintln!("error: cannot write {}: {e}", path.display());
                return EXIT_ERROR;
            }
        }
        buf = redacted.into_bytes();
    }
    let mut out = match super::open_output(args.output.as_ref()) {
        Ok(o) => o,
        Err(code) => return code,
    };
    if let Err(e) = out.write_all(&buf).and_then(|()| out.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("error: cannot write the report: {e}");
            return EXIT_ERROR;
        }
    }
    super::exit_status(all_read, &report)
}
