//! `hsmdiag timeline [FILE|DIR|-]...`: every input's events on one clock.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use hsmdiag::timeline;

use super::EXIT_ERROR;

#[derive(Debug, Args)]
pub(super) struct TimelineArgs {
    /// Log files or directories; `-` or nothing reads stdin.
    #[arg(value_name = "FILE|DIR|-")]
    inputs: Vec<PathBuf>,
    /// Only the lines that prove a finding or are its cause or effect.
    #[arg(long)]
    findings_only: bool,
    /// Output format.
    #[arg(long, value_enum)]
    format: Option<super::RecordFormat>,
    /// The same as `--format jsonl`.
    #[arg(long, hide = true, conflicts_with = "format")]
    json: bool,
    #[command(flatten)]
    load: super::load::LoadArgs,
    #[command(flatten)]
    redact: super::RedactArgs,
}

pub(super) fn run(args: &TimelineArgs) -> u8 {
    let map = args
        .redact
        .redact_map
        .as_deref()
        .map(|m| ("--redact-map", m));
    if let Err(code) = super::outputs::guard(&args.inputs, map.as_slice(), true) {
        return code;
    }
    let mut found = None;
    let analyzer = match args.load.builder().and_then(|mut b| {
        found = super::find_values(&mut b, args.redact.redact);
        super::load::build(&b)
    }) {
        Ok(a) => a,
        Err(code) => return code,
    };
    let super::Analysis {
        report,
        mut entries,
        all_read,
        none_read,
    } = super::analyze_inputs(&analyzer, &args.load, &args.inputs, true);
    if none_read {
        return EXIT_ERROR;
    }
    if args.findings_only {
        entries.retain(|e| !e.marks.is_empty());
    }
    // Every line shown is a place values stand: they are found in the lines
    // and the report alike, and both redacted before they are laid out (so
    // the columns line up); the leak check then sees exactly what is written.
    let format = super::RecordFormat::pick(args.format, args.json);
    let (report, entries, redactor) = super::prepare_model(
        report,
        entries,
        found.as_ref(),
        format == super::RecordFormat::Text,
    );
    let mut buf: Vec<u8> = Vec::new();
    let rendered = match format {
        super::RecordFormat::Text => timeline::write_text(
            &report,
            &entries,
            args.load.zone(),
            super::width(),
            &mut buf,
        ),
        f => super::Records::start(f, &mut buf).and_then(|mut r| {
            entries
                .iter()
                .try_for_each(|e| r.write(e, &mut buf, |_| Ok(())))
                .and_then(|()| r.finish(&mut buf))
        }),
    };
    if let Err(e) = rendered {
        eprintln!("error: {e}");
        return EXIT_ERROR;
    }
    if format != super::RecordFormat::Text {
        hsmdiag::report::render::escape_unsafe(&mut buf);
    }
    if let Some(r) = &redactor {
        buf = match super::redacted(r, &buf, args.redact.redact_map.as_ref()) {
            Ok(b) => b,
            Err(code) => return code,
        };
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if let Err(e) = out.write_all(&buf).and_then(|()| out.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    }
    super::exit_status(all_read, &report)
}
