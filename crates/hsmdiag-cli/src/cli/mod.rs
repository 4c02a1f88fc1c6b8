//! Command-line definitions and dispatch: the only place that prints or picks
//! exit codes.

/// `println!` that never panics: when the reader has gone away (`| head`) the
/// rest of the output is dropped quietly, like any Unix filter.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod analyze;
mod bundle;
mod check;
mod diff;
mod events;
mod explain;
mod extras;
mod knowledge_file;
mod lint;
mod load;
mod outputs;
mod rules;
mod settings;
mod timeline;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Exit status: no finding at or above the fail level (`--fail-on`).
pub const EXIT_CLEAN: u8 = 0;
/// Exit status: a finding at or above the fail level was reported.
pub const EXIT_FINDINGS: u8 = 1;
/// Exit status: a usage error or an unreadable input.
pub const EXIT_ERROR: u8 = 2;

/// Diagnose Azure Dedicated HSM (Thales Luna 7 Network HSM) problems from their logs.
///
/// Pipe in or name whatever you have — appliance syslog and NTLS messages, client
/// connection tests, a pasted support ticket — and hsmdiag says what is wrong, shows
/// the lines that prove it, and prints the fix with the values from the log filled in.
///
/// Exit status: 0 no finding at or above the fail level (--fail-on, default warning),
/// 1 such a finding reported, 2 usage error or unreadable input.
#[derive(Debug, Parser)]
#[command(
    name = "hsmdiag",
    version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("HSMDIAG_COMMIT"), ")"),
    args_conflicts_with_subcommands = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    analyze: AnalyzeArgs,
    #[command(flatten)]
    global: settings::GlobalArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show one known issue: what it means, why it happens, how to confirm and fix it.
    Explain(explain::ExplainArgs),
    /// List every known issue hsmdiag detects.
    Rules(rules::RulesArgs),
    /// Print the typed events the parser reads from the inputs, one per line,
    /// without applying rules (to see what a grammar makes of a log).
    Events(events::EventsArgs),
    /// Validate rule and grammar files and run their own examples and samples.
    Check(check::CheckArgs),
    /// Merge the events of every input into one story on one clock (each input's
    /// clock offset estimated and corrected), with the findings marked.
    Timeline(timeline::TimelineArgs),
    /// Compare two reports (or two sets of logs): findings new, still there, resolved.
    Diff(diff::DiffArgs),
    /// Write a support bundle: report.md, report.html, report.sarif, findings.json, the evidence,
    /// and a manifest with the SHA-256 of every file; redacted unless --no-redact.
    Bundle(bundle::BundleArgs),
    /// Check deployment templates before deploying: ARM templates and parameters,
    /// what-if output, Terraform plans and configuration, with the state they land on.
    Lint(lint::LintArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(extras::CompletionsArgs),
    /// Print the manual page (roff), or write one page per command to a folder.
    Man(extras::ManArgs),
}

/// Output formats of an analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Findings as diagnostics with evidence and remediation, then a summary.
    Text,
    /// One line per finding (`input:line:column: CODE [severity] message — fix: first
    /// step`), then the count: concise, for many findings and for grep.
    Short,
    /// The JSON report other tools read (docs/json-report.md, with a JSON Schema).
    Json,
    /// One finding per line as JSON, then a summary line (for pipelines and log shippers).
    Jsonl,
    /// A Markdown report to attach to a support ticket.
    Markdown,
    /// SARIF 2.1.0, for tools that read static-analysis results.
    Sarif,
    /// One self-contained HTML page: the summary, an SVG timeline (a lane per
    /// input, clocks corrected), the findings with their evidence and checklist.
    Html,
}

/// Output formats of the commands that print a stream of records (events, a timeline).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum RecordFormat {
    /// One line per record, for people.
    Text,
    /// One JSON array of the records.
    Json,
    /// One JSON object per line.
    Jsonl,
}

impl RecordFormat {
    /// `--format`, or `jsonl` for the older `--json`.
    pub(super) fn pick(format: Option<RecordFormat>, json: bool) -> RecordFormat {
        format.unwrap_or(if json {
            RecordFormat::Jsonl
        } else {
            RecordFormat::Text
        })
    }
}

/// A stream of records written as `format` says: one JSON array, one object
/// per line, or text lines made by the caller.
struct Records {
    format: RecordFormat,
    first: bool,
}

impl Records {
    /// Starts the stream (a JSON array's opening).
    fn start(format: RecordFormat, w: &mut dyn Write) -> std::io::Result<Self> {
        if format == RecordFormat::Json {
            w.write_all(b"[")?;
        }
        Ok(Records {
            format,
            first: true,
        })
    }

    /// Writes one record; `text` writes it as text.
    fn write<T: serde::Serialize>(
        &mut self,
        record: &T,
        w: &mut dyn Write,
        text: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        match self.format {
            RecordFormat::Text => text(w)?,
            RecordFormat::Jsonl => {
                serde_json::to_writer(&mut *w, record)?;
                w.write_all(b"\n")?;
            }
            RecordFormat::Json => {
                w.write_all(if self.first { b"\n  " } else { b",\n  " })?;
                serde_json::to_writer(&mut *w, record)?;
            }
        }
        self.first = false;
        Ok(())
    }

    /// Ends the stream (a JSON array's closing).
    fn finish(self, w: &mut dyn Write) -> std::io::Result<()> {
        if self.format == RecordFormat::Json {
            w.write_all(if self.first { b"]\n" } else { b"\n]\n" })?;
        }
        Ok(())
    }
}

/// When to colour text output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

#[derive(Debug, Args)]
struct AnalyzeArgs {
    /// Log files or directories to analyse; `-` or nothing reads stdin. Compressed files
    /// (gzip, zstd, xz, bzip2) are recognised by content and read transparently; tar and
    /// zip archives are read as their members.
    #[arg(value_name = "FILE|DIR|-")]
    inputs: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Write the report to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    load: load::LoadArgs,
    /// Also list the messages no pattern recognised, grouped into templates (numbers,
    /// addresses, times and ids masked) with counts, most frequent first.
    #[arg(long)]
    unrecognized: bool,
    /// Type every line and say in the summary how many were recognised
    /// (`recognized_lines`, `unrecognized_lines`, `events`). By default lines that can
    /// give no event a rule reads are only counted: the findings are the same, several
    /// times faster, and those counts are not measured (`null` in JSON). Implied by
    /// --unrecognized.
    #[arg(long)]
    coverage: bool,
    #[command(flatten)]
    redact: RedactArgs,
    /// Keep reading one growing log like `tail -f` and print each finding (text or
    /// jsonl) as soon as its rule fires; a truncated or rotated file is followed.
    /// Ctrl-C stops and prints the summary.
    #[arg(long, short = 'f', conflicts_with_all = ["redact", "unrecognized"])]
    follow: bool,
}

/// Parses the command line and runs it.
pub fn run() -> ExitCode {
    let cli = match Cli::try_parse_from(globals_after_command(std::env::args_os().collect())) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                EXIT_ERROR
            } else {
                EXIT_CLEAN
            });
        }
    };
    if let Err(e) = settings::init(&cli.global) {
        print_error(e.as_ref());
        return ExitCode::from(EXIT_ERROR);
    }
    if cli.global.quiet {
        silence_stdout();
    }
    let code = match cli.command {
        Some(Command::Explain(a)) => explain::run(&a),
        Some(Command::Rules(a)) => rules::run(&a),
        Some(Command::Events(a)) => events::run(&a),
        Some(Command::Check(a)) => check::run(&a),
        Some(Command::Timeline(a)) => timeline::run(&a),
        Some(Command::Diff(a)) => diff::run(&a),
        Some(Command::Bundle(a)) => bundle::run(&a),
        Some(Command::Lint(a)) => lint::run(&a),
        Some(Command::Completions(a)) => extras::completions(&a),
        Some(Command::Man(a)) => extras::man(&a),
        None => match mistyped_command(&cli.analyze.inputs) {
            Some(code) => code,
            None if cli.analyze.follow => analyze::follow(&cli.analyze),
            None => analyze::run(&cli.analyze),
        },
    };
    ExitCode::from(code)
}

/// `-q`: every command's standard output goes nowhere (files asked for with
/// `--output` are still written; errors still go to stderr).
fn silence_stdout() {
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
            let _ = std::io::stdout().flush();
            // SAFETY: both descriptors are open; dup2 only replaces fd 1.
            unsafe {
                libc::dup2(null.as_raw_fd(), libc::STDOUT_FILENO);
            }
        }
    }
}

/// Options every command takes, given before the command (`hsmdiag -q rules`),
/// moved after it, where clap reads a command's options.
fn globals_after_command(args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let flags = [
        "-q",
        "--quiet",
        "-v",
        "-vv",
        "-vvv",
        "--verbose",
        "--no-config",
    ];
    let with_value = ["--color", "--fail-on", "--config"];
    let mut i = 1;
    while let Some(a) = args.get(i).map(|a| a.to_string_lossy().into_owned()) {
        if flags.contains(&a.as_str())
            || ["--color=", "--fail-on=", "--config="]
                .iter()
                .any(|p| a.starts_with(p))
        {
            i += 1;
        } else if with_value.contains(&a.as_str()) && i + 1 < args.len() {
            i += 2;
        } else {
            break;
        }
    }
    let is_command = args
        .get(i)
        .is_some_and(|a| command_names().iter().any(|c| a == c.as_str()));
    if i == 1 || !is_command {
        return args;
    }
    let mut out = vec![args[0].clone(), args[i].clone()];
    out.extend(args[1..i].iter().cloned());
    out.extend(args[i + 1..].iter().cloned());
    out
}

/// The command names, for "did you mean".
fn command_names() -> Vec<String> {
    use clap::CommandFactory;
    Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .collect()
}

/// A first input that is no file but looks like a mistyped command
/// (`hsmdiag tiemline x`): the error to print instead of "no such file".
fn mistyped_command(inputs: &[PathBuf]) -> Option<u8> {
    let first = inputs.first()?.to_str()?;
    if first.contains(['/', '\\', '.']) || std::path::Path::new(first).exists() {
        return None;
    }
    let best = command_names()
        .into_iter()
        .map(|c| (strsim::levenshtein(first, &c), c))
        .filter(|(d, c)| *d <= 2.min(c.len() / 2))
        .min()?;
    if best.0 == 0 {
        eprintln!(
            "error: `{first}` is a command, after options of an analysis\n\n  tip: give the command first and its options after it: hsmdiag {first} --help\n\nFor more information, try '--help'."
        );
    } else {
        eprintln!(
            "error: `{first}` is neither a file nor a command\n\n  tip: did you mean the command `{}`?\n\nFor more information, try '--help'.",
            best.1
        );
    }
    Some(EXIT_ERROR)
}

/// On a terminal with no log named, says how to give one (once).
fn stdin_hint(inputs: &[hsmdiag::Input]) {
    static SHOWN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let reads_stdin = inputs
        .iter()
        .any(|i| matches!(i.kind, hsmdiag::InputKind::Stdin));
    if reads_stdin
        && std::io::stdin().is_terminal()
        && !settings::get().quiet
        && !SHOWN.swap(true, std::sync::atomic::Ordering::Relaxed)
    {
        eprintln!(
            "hsmdiag: reading a log from the terminal: paste it, then press Ctrl-D (or name a file: hsmdiag FILE; --help for more)"
        );
    }
}

/// What reading the inputs gave.
struct Analysis {
    report: hsmdiag::Report,
    /// The timeline's lines, when asked for (an HTML report draws them).
    entries: Vec<hsmdiag::timeline::Entry>,
    /// Every input named could be read.
    all_read: bool,
    /// No input could be read at all: there is no report to print.
    none_read: bool,
}

/// Reads and analyses the inputs, printing what could not be read.
fn analyze_inputs(
    analyzer: &hsmdiag::Analyzer,
    load: &load::LoadArgs,
    paths: &[PathBuf],
    timeline: bool,
) -> Analysis {
    let (inputs, mut errors) = load.expand(paths);
    let (report, read_errors, entries) = if timeline {
        let (report, read_errors, events) = analyzer.analyze_with_events(&inputs);
        let names = |s: hsmdiag::SourceId| {
            inputs
                .get(s.0 as usize)
                .map_or_else(|| format!("input {}", s.0), |i| i.name.clone())
        };
        let entries = hsmdiag::timeline::build(&report, &events, &names);
        (report, read_errors, entries)
    } else {
        let (report, read_errors) = analyzer.analyze(&inputs);
        (report, read_errors, Vec::new())
    };
    errors.extend(read_errors);
    for e in &errors {
        print_error(e);
    }
    // Nothing read at all, because every input failed or was skipped (a
    // binary file, a report of our own): no report, exit 2.
    let skipped = report.summary.skipped.len();
    let none_read = report.summary.inputs == 0 && (!errors.is_empty() || skipped > 0);
    if none_read && errors.is_empty() {
        eprintln!(
            "hsmdiag: no input could be read, so there is nothing to report; skipped: {}",
            report.summary.skipped.join("; ")
        );
    }
    if settings::get().verbose > 0 {
        for src in &report.summary.sources {
            let times = match (src.first_time, src.last_time) {
                (Some(a), Some(b)) => format!(", {} to {}", a.to_rfc3339(), b.to_rfc3339()),
                _ => ", no times".to_owned(),
            };
            let year = src.assumed_year.map_or_else(String::new, |y| {
                format!("; times without a year read as {y} (assumed: --year sets it)")
            });
            eprintln!(
                "hsmdiag: read {}: {} ({} blank){times}{year}",
                src.name,
                counted(src.lines as usize, "line"),
                src.blank_lines
            );
        }
        // Those named on their own were noted as they were expanded.
        for i in inputs.iter().filter(|i| !load::named(i, paths)) {
            if let hsmdiag::InputKind::Skipped { reason } = &i.kind {
                eprintln!("hsmdiag: skipped {}: {reason}", i.name);
            }
        }
    }
    if !errors.is_empty() && !none_read && !settings::get().quiet {
        eprintln!(
            "hsmdiag: {} could not be read (above); the report covers the {} that could",
            counted(errors.len(), "input"),
            report.summary.inputs
        );
    }
    Analysis {
        report,
        entries,
        all_read: errors.is_empty(),
        none_read,
    }
}

/// `1 file`, `2 files`.
fn counted(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// The exit status for an analysis: 2 when an input could not be read, 1 when
/// a finding at or above the fail level was reported, else 0.
fn exit_status(all_read: bool, report: &hsmdiag::Report) -> u8 {
    let level = settings::get().fail_on;
    if !all_read {
        EXIT_ERROR
    } else if report.findings.iter().any(|f| f.severity >= level) {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    }
}

/// A progress bar on stderr for large inputs (64 MiB or more of files) when
/// stderr is a terminal; `None` otherwise.
fn progress_bar(paths: &[PathBuf], load: &load::LoadArgs) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() || settings::get().quiet {
        return None;
    }
    let (inputs, _) = hsmdiag::expand_with(paths, &load.walk.walk());
    let total: u64 = inputs
        .iter()
        .filter_map(|i| match &i.kind {
            hsmdiag::InputKind::File(p) => std::fs::metadata(p).ok().map(|m| m.len()),
            _ => None,
        })
        .sum();
    if total < 64 << 20 {
        return None;
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(total),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} {bytes}/{total_bytes} {bytes_per_sec} {wide_bar} {eta}",
    ) {
        bar.set_style(style);
    }
    Some(bar)
}

/// Whether to colour output that goes to stdout.
fn use_color(to_file: bool) -> bool {
    match settings::get().color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            !to_file
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

/// The width text output is laid out for: `COLUMNS` when set, else the
/// terminal's (stdout's, else stderr's, so a pager keeps it), else 100. At
/// least 40.
fn width() -> usize {
    use terminal_size::{Width, terminal_size_of};
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .or_else(|| terminal_size_of(std::io::stdout()).map(|(Width(w), _)| usize::from(w)))
        .or_else(|| terminal_size_of(std::io::stderr()).map(|(Width(w), _)| usize::from(w)))
        .or_else(controlling_terminal_width)
        .unwrap_or(100)
        .max(40)
}

/// The width of the controlling terminal (`/dev/tty`) when stdout and stderr
/// both go elsewhere (`hsmdiag logs 2>&1 | less`).
#[cfg(unix)]
fn controlling_terminal_width() -> Option<usize> {
    let tty = std::fs::File::open("/dev/tty").ok()?;
    terminal_size::terminal_size_of(&tty).map(|(terminal_size::Width(w), _)| usize::from(w))
}

#[cfg(not(unix))]
fn controlling_terminal_width() -> Option<usize> {
    None
}

/// Prints an error diagnostic on stderr.
/// `--redact` and `--redact-map`, alike on every command that writes what the
/// logs hold.
#[derive(Debug, Args)]
struct RedactArgs {
    /// Replace addresses, host and user names, subscription and tenant ids, resource
    /// group and resource names, HSM serials and labels, certificate fingerprints with
    /// consistent pseudonyms, and secrets with [REDACTED]; a leak check refuses output
    /// that still holds any of them (exit 2, nothing written).
    #[arg(long)]
    redact: bool,
    /// With --redact, write the private map from pseudonyms back to the real values
    /// (JSON) to this file. Keep it to yourself.
    #[arg(long, value_name = "FILE", requires = "redact")]
    redact_map: Option<PathBuf>,
}

/// The report and timeline lines a command lays out: redacted in the model
/// when asked (with the redactor that did it), and made printable when people
/// will read them (text, Markdown, HTML): no byte of an input can drive the
/// terminal or reorder text.
fn prepare_model(
    report: hsmdiag::Report,
    entries: Vec<hsmdiag::timeline::Entry>,
    redact: Option<&Found>,
    printable: bool,
) -> (
    hsmdiag::Report,
    Vec<hsmdiag::timeline::Entry>,
    Option<hsmdiag::redact::Redactor>,
) {
    let (mut report, mut entries, redactor) = if let Some(found) = redact {
        let found = found.lock().map(|f| f.clone()).unwrap_or_default();
        let r = hsmdiag::redact::redact_found(found, &report, &entries);
        (r.report, r.entries, Some(r.redactor))
    } else {
        (report, entries, None)
    };
    if printable {
        hsmdiag::report::make_printable(&mut report);
        for e in &mut entries {
            e.map_texts(&mut |s| hsmdiag::parser::printable(s).into_owned());
        }
    }
    (report, entries, redactor)
}

/// The values to hide, found in every line the analyzer reads.
type Found = std::sync::Arc<std::sync::Mutex<hsmdiag::redact::Discovery>>;

/// With `redact`, has the analyzer show every input line to a [`Found`].
fn find_values(b: &mut hsmdiag::AnalyzerBuilder, redact: bool) -> Option<Found> {
    if !redact {
        return None;
    }
    let found: Found = Default::default();
    observe(b, &found);
    Some(found)
}

/// Has the analyzer show every input line to `found`.
fn observe(b: &mut hsmdiag::AnalyzerBuilder, found: &Found) {
    let sink = found.clone();
    b.observe_lines(hsmdiag::LineObserver(std::sync::Arc::new(move |line| {
        if let Ok(mut d) = sink.lock() {
            d.line(line);
        }
    })));
}

/// Redacts output rendered in memory and checks exactly the bytes that will be
/// written; writes the private map when asked. Nothing is written on a leak.
fn redacted(
    redactor: &hsmdiag::redact::Redactor,
    buf: &[u8],
    map: Option<&PathBuf>,
) -> Result<Vec<u8>, u8> {
    let text = String::from_utf8_lossy(buf);
    let out = redactor.apply(&text);
    if let Err(leak) = redactor.check(&out) {
        print_error(&leak);
        return Err(EXIT_ERROR);
    }
    if let Some(path) = map {
        write_map(redactor, path)?;
    }
    Ok(out.into_bytes())
}

/// Writes the private map of pseudonyms (readable by its owner alone).
fn write_map(redactor: &hsmdiag::redact::Redactor, path: &std::path::Path) -> Result<(), u8> {
    let map = hsmdiag::redact::map_json(redactor);
    outputs::write_file(path, map.as_bytes(), outputs::Access::Private).map_err(|e| {
        eprintln!("error: cannot write {}: {e}", path.display());
        EXIT_ERROR
    })
}

fn print_error(d: &dyn miette::Diagnostic) {
    let color = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let theme = if color {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme).with_width(width());
    let mut out = String::new();
    if handler.render_report(&mut out, d).is_err() {
        out = format!("error: {d}\n");
    }
    let _ = std::io::stderr().write_all(out.as_bytes());
}

/// Writes a rendered report to stdout or `--output FILE` (to stdout not at
/// all with `-q`); the exit status when that fails. A closed pipe is no failure.
/// A file is written whole or not at all ([`outputs::write_file`]).
fn write_report(buf: &[u8], output: Option<&PathBuf>) -> Result<(), u8> {
    if let Some(p) = output {
        return outputs::write_file(p, buf, outputs::Access::Shared).map_err(|e| {
            eprintln!("error: cannot write {}: {e}", p.display());
            EXIT_ERROR
        });
    }
    if settings::get().quiet {
        return Ok(());
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match out.write_all(buf).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            eprintln!("error: cannot write the report: {e}");
            Err(EXIT_ERROR)
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
