//! `hsmdiag completions SHELL` and `hsmdiag man`: what a package or a user
//! installs beside the binary.

use std::path::PathBuf;

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::{Cli, EXIT_CLEAN, EXIT_ERROR};

#[derive(Debug, Args)]
pub(super) struct CompletionsArgs {
    /// The shell: bash, zsh, fish, elvish or powershell. For bash:
    /// `hsmdiag completions bash > ~/.local/share/bash-completion/completions/hsmdiag`.
    #[arg(value_enum)]
    shell: Shell,
}

#[derive(Debug, Args)]
pub(super) struct ManArgs {
    /// Write hsmdiag.1 and one page per command (hsmdiag-explain.1, ...) into
    /// this folder instead of printing hsmdiag.1.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

pub(super) fn completions(args: &CompletionsArgs) -> u8 {
    let mut cmd = Cli::command();
    let mut out = std::io::stdout().lock();
    clap_complete::generate(args.shell, &mut cmd, "hsmdiag", &mut out);
    EXIT_CLEAN
}

pub(super) fn man(args: &ManArgs) -> u8 {
    let cmd = Cli::command();
    let result = match &args.dir {
        None => clap_mangen::Man::new(cmd).render(&mut std::io::stdout().lock()),
        Some(dir) => std::fs::create_dir_all(dir).and_then(|()| man_pages(cmd, dir)),
    };
    match result {
        Ok(()) => EXIT_CLEAN,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => EXIT_CLEAN,
        Err(e) => {
            eprintln!("error: cannot write the manual page: {e}");
            EXIT_ERROR
        }
    }
}

/// Writes one page per command into `dir`, each through a temporary file
/// renamed into place: a link in `dir` is refused, never written through.
fn man_pages(cmd: clap::Command, dir: &std::path::Path) -> std::io::Result<()> {
    fn pages(cmd: clap::Command, out: &mut Vec<(String, Vec<u8>)>) -> std::io::Result<()> {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()).cloned() {
            pages(sub, out)?;
        }
        let man = clap_mangen::Man::new(cmd);
        let mut page = Vec::new();
        man.render(&mut page)?;
        out.push((man.get_filename(), page));
        Ok(())
    }
    let mut cmd = cmd.disable_help_subcommand(true);
    cmd.build();
    let mut all = Vec::new();
    pages(cmd, &mut all)?;
    // Every page checked before any is written.
    for (name, _) in &all {
        let path = dir.join(name);
        if std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_symlink()) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                format!(
                    "{} is a symbolic link; hsmdiag writes no file through a link",
                    path.display()
                ),
            ));
        }
    }
    for (name, page) in &all {
        super::outputs::write_file(&dir.join(name), page, super::outputs::Access::Shared)?;
    }
    Ok(())
}
