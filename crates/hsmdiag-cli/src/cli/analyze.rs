//! `hsmdiag [FILE|DIR|-]...`: analyse inputs and print findings.

use std::io::Write;

use hsmdiag::report::{render, write_finding_text};
use hsmdiag::{TextOptions, write_jsonl_finding, write_jsonl_summary, write_text};

use super::{AnalyzeArgs, EXIT_ERROR, Format};

/// The files an analysis writes, checked against its inputs and each other
/// before anything is read.
fn guard(args: &AnalyzeArgs) -> Result<(), u8> {
    let mut outs: Vec<(&str, &std::path::Path)> = Vec::new();
    if let Some(o) = &args.output {
        outs.push(("--output", o));
    }
    if let Some(m) = &args.redact.redact_map {
        outs.push(("--redact-map", m));
    }
    super::outputs::guard(&args.inputs, &outs, args.output.is_none())
}

pub(super) fn run(args: &AnalyzeArgs) -> u8 {
    if let Err(code) = guard(args) {
        return code;
    }
    let bar = super::progress_bar(&args.inputs, &args.load);
    let mut found = None;
    let analyzer = match args.load.builder().and_then(|mut b| {
        found = super::find_values(&mut b, args.redact.redact);
        b.unrecognized(args.unrecognized);
        b.coverage(args.coverage);
        if let Some(bar) = &bar {
            let bar = bar.clone();
            b.progress(hsmdiag::Progress(std::sync::Arc::new(move |n| bar.inc(n))));
        }
        super::load::build(&b)
    }) {
        Ok(a) => a,
        Err(code) => return code,
    };
    let super::Analysis {
        report,
        entries,
        all_read,
        none_read,
    } = super::analyze_inputs(
        &analyzer,
        &args.load,
        &args.inputs,
        args.format == Format::Html,
    );
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    // Nothing could be read: the errors said so, and a report would claim
    // an analysis that did not happen.
    if none_read {
        return EXIT_ERROR;
    }
    // The layout, through the library's one output seam.
    let layout: Box<dyn hsmdiag::report::Render> = match args.format {
        Format::Text => {
            let color = !args.redact.redact && super::use_color(args.output.is_some());
            Box::new(render::Text(TextOptions::new(color, super::width())))
        }
        Format::Short => Box::new(render::Short),
        Format::Json => Box::new(render::Json),
        Format::Jsonl => Box::new(render::Jsonl),
        Format::Markdown => Box::new(render::Markdown),
        Format::Sarif => Box::new(render::Sarif),
        Format::Html => Box::new(render::Html),
    };
    // Redacted in the model, before any format lays it out; made printable
    // for the formats people read; rendered in memory, so that the leak
    // check sees the whole output before any of it is written.
    let (report, entries, redactor) = super::prepare_model(
        report,
        entries,
        found.as_ref(),
        layout.audience() == hsmdiag::report::Audience::People,
    );
    let view = hsmdiag::report::View::new(&report, analyzer.rules(), &entries);
    let mut buf = match layout.to_bytes(&view) {
        Ok(b) => b,
        Err(e) => {
            super::print_error(&e);
            return EXIT_ERROR;
        }
    };
    if let Some(redactor) = &redactor {
        buf = match super::redacted(redactor, &buf, args.redact.redact_map.as_ref()) {
            Ok(b) => b,
            Err(code) => return code,
        };
    }
    if let Err(code) = super::write_report(&buf, args.output.as_ref()) {
        return code;
    }
    super::exit_status(all_read, &report)
}

/// A rendering error as an I/O error that keeps a closed pipe recognisable.
fn into_io(e: hsmdiag::RenderError) -> std::io::Error {
    if e.is_broken_pipe() {
        std::io::ErrorKind::BrokenPipe.into()
    } else {
        std::io::Error::other(e)
    }
}

/// `hsmdiag --follow FILE`: findings as they happen, the summary at Ctrl-C.
pub(super) fn follow(args: &AnalyzeArgs) -> u8 {
    if !matches!(args.format, Format::Text | Format::Jsonl) {
        eprintln!("error: --follow prints findings as they come: use --format text or jsonl");
        return EXIT_ERROR;
    }
    if let Err(code) = guard(args) {
        return code;
    }
    let (inputs, errors) = args.load.expand(&args.inputs);
    for e in &errors {
        super::print_error(e);
    }
    let input = match (errors.is_empty(), inputs.as_slice()) {
        (true, [one]) => one.clone(),
        (true, _) => {
            eprintln!(
                "error: --follow follows one file (or stdin); {} were given",
                inputs.len()
            );
            return EXIT_ERROR;
        }
        (false, _) => return EXIT_ERROR,
    };
    let analyzer = match args.load.builder().and_then(|b| super::load::build(&b)) {
        Ok(a) => a,
        Err(code) => return code,
    };
    let opts = hsmdiag::Follow::default();
    let stop = opts.stop.clone();
    // A second Ctrl-C while the summary is written ends at once.
    let _ = ctrlc::set_handler(move || {
        if stop.swap(true, std::sync::atomic::Ordering::Relaxed) {
            std::process::exit(130);
        }
    });
    let mut out: Box<dyn Write> = match &args.output {
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
        Some(p) => match super::outputs::open_stream(p, &args.inputs) {
            Ok(f) => Box::new(std::io::BufWriter::new(f)),
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", p.display());
                return EXIT_ERROR;
            }
        },
    };
    let text = TextOptions::new(super::use_color(args.output.is_some()), super::width());
    let mut failed: Option<std::io::Error> = None;
    let stop = opts.stop.clone();
    // A finding printed again (its count or subjects grew) is an update of
    // the one printed before: the same fingerprint, and it says so.
    let mut printed: std::collections::HashSet<String> = std::collections::HashSet::new();
    let (report, error) = analyzer.follow(&input, &opts, &mut |f| {
        if failed.is_some() {
            return;
        }
        let update = !f.fingerprint.is_empty() && !printed.insert(f.fingerprint.clone());
        let written = match args.format {
            Format::Jsonl => {
                let mut line = Vec::new();
                write_jsonl_finding(f, &mut line)
                    .map_err(into_io)
                    .map(|()| {
                        if update {
                            mark_update(&mut line);
                        }
                    })
                    .and_then(|()| {
                        hsmdiag::report::render::escape_unsafe(&mut line);
                        out.write_all(&line)
                    })
            }
            _ => {
                let mut f = f.clone();
                hsmdiag::report::map_finding_texts(&mut f, &mut |s| {
                    hsmdiag::parser::printable(s).into_owned()
                });
                let note = if update {
                    writeln!(
                        out,
                        "update of {} {} (fingerprint {}): now",
                        f.code, f.id, f.fingerprint
                    )
                } else {
                    Ok(())
                };
                note.and_then(|()| write_finding_text(&f, &mut out, text).map_err(into_io))
            }
        };
        if let Err(e) = written.and_then(|()| out.flush()) {
            // The reader went away (`| head`): stop following.
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            failed = Some(e);
        }
    });
    if let Some(e) = &error {
        super::print_error(e);
    }
    if let Some(e) = failed {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return super::exit_status(error.is_none(), &report);
        }
        eprintln!("error: cannot write: {e}");
        return EXIT_ERROR;
    }
    let mut report = report;
    hsmdiag::report::make_printable(&mut report);
    let summary = match args.format {
        Format::Jsonl => write_jsonl_summary(&report.summary, &mut out).map_err(into_io),
        _ => {
            let mut opts = text;
            opts.diagnostics = false;
            write_text(&report, &mut out, opts).map_err(into_io)
        }
    };
    if let Err(e) = summary.and_then(|()| out.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("error: cannot write: {e}");
            return EXIT_ERROR;
        }
    }
    super::exit_status(error.is_none(), &report)
}

/// Marks a JSON Lines finding as an update of one printed before
/// (`"update": true` after its opening brace).
fn mark_update(line: &mut Vec<u8>) {
    if line.first() == Some(&b'{') {
        line.splice(1..1, br#""update":true,"#.iter().copied());
    }
}
