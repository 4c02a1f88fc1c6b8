//! The `hsmdiag` command: parses arguments, runs the library, picks the exit code.

mod cli;

fn main() -> std::process::ExitCode {
    cli::run()
}
