//! Options every command shares, and where their defaults come from: the
//! command line, then `HSMDIAG_RULES` / `HSMDIAG_GRAMMAR`, then a configuration
//! file from a place the user controls: `--config FILE`, else `HSMDIAG_CONFIG`,
//! else `hsmdiag.toml` in the user's configuration folder.
//!
//! A configuration can add rules, leave inputs out and lower the fail level, so
//! one that merely lies in the working folder or a parent of it (an extracted
//! customer archive, a shared folder) is never obeyed: it is announced on
//! stderr with the way to use it.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use clap::{Args, ValueEnum};
use hsmdiag::{Severity, Zone};
use serde::Deserialize;

use super::ColorChoice;

/// The options of every command.
#[derive(Debug, Args, Clone, Default)]
pub(super) struct GlobalArgs {
    /// When to use colour: on a terminal unless NO_COLOR is set (auto), always, never.
    #[arg(long, value_enum, global = true, value_name = "WHEN")]
    pub color: Option<ColorChoice>,
    /// Exit 1 when a finding at or above this severity is reported, else 0
    /// [default: warning, so info findings alone exit 0].
    #[arg(long, value_enum, global = true, value_name = "SEVERITY")]
    pub fail_on: Option<FailOn>,
    /// Print nothing but errors, whatever the command: the exit status tells
    /// what was found (a report asked for with --output is still written).
    #[arg(long, short, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Say on stderr which configuration was read and what each input gave.
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Read no configuration file and no HSMDIAG_* variables.
    #[arg(long, global = true, conflicts_with = "config")]
    pub no_config: bool,
    /// Read the configuration from this file [default: HSMDIAG_CONFIG, else
    /// hsmdiag.toml in the user's configuration folder]. A hsmdiag.toml in the
    /// working folder is read only when named here.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// A severity to fail on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum FailOn {
    /// Any finding.
    Info,
    /// Warnings and worse (the default).
    Warning,
    /// Errors and critical findings.
    Error,
    /// Critical findings only.
    Critical,
}

impl FailOn {
    fn severity(self) -> Severity {
        match self {
            FailOn::Info => Severity::Info,
            FailOn::Warning => Severity::Warning,
            FailOn::Error => Severity::Error,
            FailOn::Critical => Severity::Critical,
        }
    }
}

/// A configuration file: the defaults of a site or a user.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ConfigFile {
    /// Rule files or folders, relative to the configuration file.
    #[serde(default)]
    rules: Vec<PathBuf>,
    /// Grammar files or folders, relative to the configuration file.
    #[serde(default)]
    grammar: Vec<PathBuf>,
    /// The zone of times that carry none.
    tz: Option<String>,
    /// The fail level.
    fail_on: Option<FailOn>,
    /// When to colour.
    color: Option<ColorChoice>,
    /// Globs left out of folder walks.
    #[serde(default)]
    exclude: Vec<String>,
}

/// The settings in force.
#[derive(Debug, Clone)]
pub(super) struct Settings {
    pub color: ColorChoice,
    pub fail_on: Severity,
    pub quiet: bool,
    pub verbose: u8,
    /// The zone from the configuration file, under `--tz`.
    pub tz: Option<Zone>,
    /// Rule paths from the configuration file and HSMDIAG_RULES, before `--rules`.
    pub rules: Vec<PathBuf>,
    /// Grammar paths from the configuration file and HSMDIAG_GRAMMAR, before `--grammar`.
    pub grammar: Vec<PathBuf>,
    /// Globs left out of walks, before `--exclude`.
    pub exclude: Vec<String>,
    /// The configuration file read, if any.
    pub config: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            color: ColorChoice::Auto,
            fail_on: Severity::Warning,
            quiet: false,
            verbose: 0,
            tz: None,
            rules: Vec::new(),
            grammar: Vec::new(),
            exclude: Vec::new(),
            config: None,
        }
    }
}

static SETTINGS: OnceLock<Settings> = OnceLock::new();

/// The settings in force (the defaults before [`init`]).
pub(super) fn get() -> &'static Settings {
    SETTINGS.get_or_init(Settings::default)
}

/// The name of the configuration file.
pub(super) const CONFIG_NAME: &str = "hsmdiag.toml";

/// Resolves the settings from the command line, the environment and the
/// configuration file; on a bad configuration file, the diagnostic to print.
pub(super) fn init(args: &GlobalArgs) -> Result<&'static Settings, Box<dyn miette::Diagnostic>> {
    let mut s = Settings {
        quiet: args.quiet,
        verbose: args.verbose,
        ..Settings::default()
    };
    if !args.no_config {
        let chosen = args.config.clone().or_else(find_config);
        if let Some(found) = unread_config(chosen.as_deref()) {
            if !args.quiet {
                eprintln!(
                    "hsmdiag: not reading {} (a configuration beside the data is not trusted: it could add rules, leave inputs out or lower the fail level); to use it: --config {}",
                    found.display(),
                    found.display()
                );
            }
        }
        if let Some(path) = chosen {
            let cfg = read_config(&path)?;
            let base = path.parent().unwrap_or(Path::new(".")).to_owned();
            let rel = |p: PathBuf| if p.is_absolute() { p } else { base.join(p) };
            s.rules.extend(cfg.rules.into_iter().map(rel));
            s.grammar.extend(cfg.grammar.into_iter().map(rel));
            if let Some(tz) = &cfg.tz {
                s.tz = Some(Zone::parse(tz).map_err(|e| config_error(&path, "tz", e))?);
            }
            s.fail_on = cfg.fail_on.map_or(s.fail_on, FailOn::severity);
            s.color = cfg.color.unwrap_or(s.color);
            s.exclude = cfg.exclude;
            s.config = Some(path);
        }
        for (var, list) in [
            ("HSMDIAG_RULES", &mut s.rules),
            ("HSMDIAG_GRAMMAR", &mut s.grammar),
        ] {
            if let Some(v) = std::env::var_os(var) {
                list.extend(std::env::split_paths(&v).filter(|p| !p.as_os_str().is_empty()));
            }
        }
    }
    if let Some(c) = args.color {
        s.color = c;
    }
    if let Some(f) = args.fail_on {
        s.fail_on = f.severity();
    }
    if s.verbose > 0 {
        match &s.config {
            Some(p) => eprintln!("hsmdiag: configuration from {}", p.display()),
            None if args.no_config => eprintln!("hsmdiag: configuration not read (--no-config)"),
            None => eprintln!("hsmdiag: no configuration file ({CONFIG_NAME})"),
        }
    }
    Ok(SETTINGS.get_or_init(|| s))
}

/// `HSMDIAG_CONFIG` when set (empty: none), else the user's
/// `hsmdiag.toml` (in their configuration folder), if there is one.
fn find_config() -> Option<PathBuf> {
    if let Some(v) = std::env::var_os("HSMDIAG_CONFIG") {
        return (!v.is_empty()).then(|| PathBuf::from(v));
    }
    user_config_dir()
        .map(|d| d.join("hsmdiag").join(CONFIG_NAME))
        .filter(|p| p.is_file())
}

/// A `hsmdiag.toml` in the working folder or the nearest parent that has one
/// (up to a repository's top) that is not the configuration read: it is
/// announced, never obeyed.
fn unread_config(read: Option<&Path>) -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    let same = |a: &Path, b: &Path| match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    };
    for dir in cwd.ancestors() {
        let p = dir.join(CONFIG_NAME);
        if p.is_file() {
            let shown = p
                .strip_prefix(&cwd)
                .map_or(p.clone(), |r| Path::new(".").join(r));
            return (!read.is_some_and(|r| same(r, &p))).then_some(shown);
        }
        if dir.join(".git").exists() {
            break;
        }
    }
    None
}

/// `$XDG_CONFIG_HOME`, else `~/.config` (`%APPDATA%` on Windows).
fn user_config_dir() -> Option<PathBuf> {
    let nonempty = |v: &str| {
        std::env::var_os(v)
            .filter(|x| !x.is_empty())
            .map(PathBuf::from)
    };
    if cfg!(windows) {
        return nonempty("APPDATA");
    }
    nonempty("XDG_CONFIG_HOME").or_else(|| nonempty("HOME").map(|h| h.join(".config")))
}

/// A configuration file that cannot be used.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{path}: {message}")]
#[diagnostic(
    code(hsmdiag::config),
    help("keys: rules, grammar, tz, fail-on, color, exclude (see README); --no-config reads none")
)]
pub(super) struct ConfigError {
    path: String,
    message: String,
    #[source_code]
    src: Option<miette::NamedSource<String>>,
    #[label("here")]
    span: Option<miette::SourceSpan>,
}

fn config_error(path: &Path, key: &str, message: String) -> Box<dyn miette::Diagnostic> {
    let text = super::knowledge_file::read_small(path).unwrap_or_default();
    let span = text
        .lines()
        .scan(0, |off, l| {
            let at = *off;
            *off += l.len() + 1;
            Some((at, l))
        })
        .find(|(_, l)| l.trim_start().starts_with(key))
        .map(|(at, l)| miette::SourceSpan::new(at.into(), l.len()));
    Box::new(ConfigError {
        path: path.display().to_string(),
        message,
        src: span.map(|_| miette::NamedSource::new(path.display().to_string(), text)),
        span,
    })
}

fn read_config(path: &Path) -> Result<ConfigFile, Box<dyn miette::Diagnostic>> {
    let text = super::knowledge_file::read_small(path).map_err(|e| {
        Box::new(ConfigError {
            path: path.display().to_string(),
            message: format!(
                "cannot use the configuration file: {}",
                e.strip_prefix(&format!("{}: ", path.display()))
                    .unwrap_or(&e)
            ),
            src: None,
            span: None,
        }) as Box<dyn miette::Diagnostic>
    })?;
    toml::from_str::<ConfigFile>(&text).map_err(|e| {
        let span = e
            .span()
            .map(|r| miette::SourceSpan::new(r.start.into(), r.len()));
        Box::new(ConfigError {
            path: path.display().to_string(),
            message: e.message().to_owned(),
            src: Some(miette::NamedSource::new(path.display().to_string(), text)),
            span,
        }) as Box<dyn miette::Diagnostic>
    })
}
