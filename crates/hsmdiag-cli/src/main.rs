//! The `hsmdiag` command: parses arguments, runs the library, picks the exit code.

mod cli;

/// Lines are typed on one thread and their events freed on another; the
/// system allocator serialises such frees on a lock, mimalloc does not (on
/// the 64 MiB bench log it halves the time of the in-order stage). Without
/// transparent huge pages its peak memory stays below the system allocator's.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::run()
}
