//! `hsmdiag events [FILE|DIR|-]...`: print the typed events, without rules.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use hsmdiag::SourceId;
use hsmdiag::report::event_line;

use super::RecordFormat;

use super::{EXIT_CLEAN, EXIT_ERROR};

#[derive(Debug, Args)]
pub(super) struct EventsArgs {
    /// Log files or directories; `-` or nothing reads stdin.
    #[arg(value_name = "FILE|DIR|-")]
    inputs: Vec<PathBuf>,
    /// Print only events whose kind starts with this (`ntls.`, `arm.error`,
    /// `unrecognized`).
    #[arg(long, value_name = "PREFIX")]
    kind: Option<String>,
    /// Output format.
    #[arg(long, value_enum)]
    format: Option<super::RecordFormat>,
    /// The same as `--format jsonl`.
    #[arg(long, hide = true, conflicts_with = "format")]
    json: bool,
    #[command(flatten)]
    load: super::load::LoadArgs,
}

pub(super) fn run(args: &EventsArgs) -> u8 {
    if let Err(code) = super::outputs::guard(&args.inputs, &[], true) {
        return code;
    }
    let analyzer = match args.load.analyzer() {
        Ok(a) => a,
        Err(code) => return code,
    };
    let (inputs, mut errors) = args.load.expand(&args.inputs);
    let format = RecordFormat::pick(args.format, args.json);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let Ok(mut records) = super::Records::start(format, &mut out) else {
        return EXIT_CLEAN;
    };
    let mut broken = false;
    for (i, input) in inputs.iter().enumerate() {
        // Not read (binary, or a report hsmdiag wrote): no events, no heading.
        if input.is_skipped() {
            continue;
        }
        if inputs.len() > 1 && format == RecordFormat::Text {
            broken |= writeln!(out, "==> {} <==", input.name).is_err();
        }
        let result = analyzer.events(SourceId(i as u32), input, |ev| {
            if args
                .kind
                .as_deref()
                .is_some_and(|k| !ev.kind.as_str().starts_with(k))
            {
                return true;
            }
            let written = records.write(ev, &mut out, |w| writeln!(w, "{}", event_line(ev)));
            broken = written.is_err();
            !broken
        });
        if let Err(e) = result {
            errors.push(e);
        }
        if broken {
            return EXIT_CLEAN;
        }
    }
    let _ = records.finish(&mut out);
    let _ = out.flush();
    for e in &errors {
        super::print_error(e);
    }
    if errors.is_empty() {
        EXIT_CLEAN
    } else {
        EXIT_ERROR
    }
}
