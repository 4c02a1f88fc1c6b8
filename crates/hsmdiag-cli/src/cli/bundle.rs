//! `hsmdiag bundle -o DIR|FILE.tar.gz INPUTS...`: everything a support ticket
//! needs in one place, redacted by default: report.md, report.html, report.sarif,
//! findings.json, the evidence of each finding, and manifest.json with the
//! SHA-256 and size of every other file.

use std::path::PathBuf;

use clap::Args;
use sha2::{Digest, Sha256};

use super::EXIT_ERROR;

#[derive(Debug, Args)]
pub(super) struct BundleArgs {
    /// Where to write: a directory, or a file ending in .tar.gz or .tgz.
    #[arg(long, short, value_name = "DIR|FILE.tar.gz")]
    output: PathBuf,
    /// Log files or directories; `-` or nothing reads stdin.
    #[arg(value_name = "FILE|DIR|-")]
    inputs: Vec<PathBuf>,
    /// Keep the real addresses, names and ids (the bundle is redacted by default).
    #[arg(long)]
    no_redact: bool,
    /// Write the private map from pseudonyms to real values here (not into the
    /// bundle).
    #[arg(long, value_name = "FILE", conflicts_with = "no_redact")]
    redact_map: Option<PathBuf>,
    #[command(flatten)]
    load: super::load::LoadArgs,
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub(super) fn run(args: &BundleArgs) -> u8 {
    let mut outs: Vec<(&str, &std::path::Path)> = vec![("--output", &args.output)];
    if let Some(m) = &args.redact_map {
        outs.push(("--redact-map", m));
    }
    if let Err(code) = super::outputs::guard(&args.inputs, &outs, false) {
        return code;
    }
    if let Err(why) = refuse_output(&args.output, &args.inputs) {
        eprintln!("error: {}: {why}", args.output.display());
        return EXIT_ERROR;
    }
    let mut found = None;
    let analyzer = match args.load.builder().and_then(|mut b| {
        found = super::find_values(&mut b, !args.no_redact);
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
    } = super::analyze_inputs(&analyzer, &args.load, &args.inputs, true);
    if none_read {
        eprintln!("error: no input could be read: no bundle written");
        return super::EXIT_ERROR;
    }

    // Redacted in the model (one set of pseudonyms for every file), made
    // printable, then every file rendered in memory from it.
    let redacted = !args.no_redact;
    let (json_report, mut entries, redactor) =
        super::prepare_model(report, entries, found.as_ref(), false);
    let mut report = json_report.clone();
    hsmdiag::report::make_printable(&mut report);
    for e in &mut entries {
        e.map_texts(&mut |s| hsmdiag::parser::printable(s).into_owned());
    }
    // The files, rendered in memory through the library's one output seam:
    // the layouts people read from the printable report, the tools' from
    // the report as read.
    use hsmdiag::report::{Audience, Render, View, render};
    let people = View::new(&report, analyzer.rules(), &entries);
    let tools = View::new(&json_report, analyzer.rules(), &entries);
    let mut layouts: Vec<(String, Box<dyn Render>)> = vec![
        ("report.md".into(), Box::new(render::Markdown)),
        ("report.html".into(), Box::new(render::Html)),
        ("report.sarif".into(), Box::new(render::Sarif)),
        ("findings.json".into(), Box::new(render::Json)),
    ];
    for (i, f) in report.findings.iter().enumerate() {
        layouts.push((
            format!("evidence/{:02}-{}.txt", i + 1, f.code),
            Box::new(render::Evidence(i)),
        ));
    }
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for (name, layout) in layouts {
        let view = match layout.audience() {
            Audience::People => &people,
            _ => &tools,
        };
        match layout.to_bytes(view) {
            Ok(bytes) => files.push((name, bytes)),
            Err(e) => {
                super::print_error(&e);
                return EXIT_ERROR;
            }
        }
    }

    // The leak check runs on every file, as it will be written.
    if let Some(redactor) = &redactor {
        for (name, bytes) in &mut files {
            let text = String::from_utf8_lossy(bytes).into_owned();
            let out = redactor.apply(&text);
            let out = redactor.check(&out).map(|()| out);
            match out {
                Ok(out) => *bytes = out.into_bytes(),
                Err(leak) => {
                    eprintln!("error: {name}:");
                    super::print_error(&leak);
                    return EXIT_ERROR;
                }
            }
        }
        if let Some(path) = &args.redact_map {
            if let Err(code) = super::write_map(redactor, path) {
                return code;
            }
        }
    }
    let manifest = serde_json::json!({
        "tool": "hsmdiag",
        "version": env!("CARGO_PKG_VERSION"),
        "redacted": redacted,
        "findings": report.findings.len(),
        "files": files.iter().map(|(name, bytes)| serde_json::json!({
            "path": name,
            "bytes": bytes.len(),
            "sha256": sha256(bytes),
        })).collect::<Vec<_>>(),
    });
    let manifest = serde_json::to_vec_pretty(&manifest).unwrap_or_default();
    files.push(("manifest.json".into(), manifest));

    let out = &args.output;
    let name = out.to_string_lossy();
    let written = if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
        write_tar(out, &files)
    } else {
        write_dir(out, &files)
    };
    if let Err(e) = written {
        eprintln!("error: cannot write {}: {e}", out.display());
        return EXIT_ERROR;
    }
    eprintln!(
        "Wrote {} files to {}{}.",
        files.len(),
        out.display(),
        if redacted {
            ", redacted"
        } else {
            ", NOT redacted"
        }
    );
    super::exit_status(all_read, &report)
}

/// Why the bundle may not be written at `out`: it is one of the inputs (it
/// would be destroyed), a symbolic link (the bundle would land where the link
/// points), or a directory that is not empty (stale evidence of an earlier run
/// would sit beside the new files).
fn refuse_output(out: &std::path::Path, inputs: &[PathBuf]) -> Result<(), String> {
    let meta = std::fs::symlink_metadata(out);
    if meta.as_ref().is_ok_and(|m| m.file_type().is_symlink()) {
        return Err("is a symbolic link; the bundle is not written through one".into());
    }
    if let Ok(target) = std::fs::canonicalize(out) {
        for input in inputs {
            let Ok(i) = std::fs::canonicalize(input) else {
                continue;
            };
            if i == target || (target.is_dir() && i.starts_with(&target)) {
                return Err(format!(
                    "would overwrite the input {}; write the bundle elsewhere",
                    input.display()
                ));
            }
        }
    }
    if meta.as_ref().is_ok_and(std::fs::Metadata::is_dir)
        && std::fs::read_dir(out).is_ok_and(|mut d| d.next().is_some())
    {
        return Err("is not empty; the bundle goes into a new or empty directory".into());
    }
    Ok(())
}

/// Creates a file that must not exist yet, never through a symbolic link.
fn create_new(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

fn write_dir(dir: &std::path::Path, files: &[(String, Vec<u8>)]) -> std::io::Result<()> {
    use std::io::Write;
    std::fs::create_dir_all(dir)?;
    for (name, bytes) in files {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            if !parent.exists() {
                std::fs::create_dir(parent)?;
            }
        }
        create_new(&path)?.write_all(bytes)?;
    }
    Ok(())
}

/// The bundle as one .tar.gz, built in memory and written whole
/// ([`super::outputs::write_file`]).
fn write_tar(path: &std::path::Path, files: &[(String, Vec<u8>)]) -> std::io::Result<()> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    for (name, bytes) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_cksum();
        tar.append_data(
            &mut header,
            format!("hsmdiag-bundle/{name}"),
            bytes.as_slice(),
        )?;
    }
    let bytes = tar.into_inner()?.finish()?;
    super::outputs::write_file(path, &bytes, super::outputs::Access::Shared)
}
