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
        Some(dir) => std::fs::create_dir_all(dir).and_then(|()| clap_mangen::generate_to(cmd, dir)),
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
